/* test_store.c - migrations, error classes, and ingest's exactly-once keys. */
#include "tickets/ingest.h"
#include "tickets/search_index.h"
#include "tickets/ticket_view.h"
#include "tickets/store.h"
#include "tickets/store_schema.h"

#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

static char *tmp_db(void) {
  g_autofree char *dir = g_dir_make_tmp("tgstore-XXXXXX", NULL);
  return g_build_filename(dir, "t.db", NULL);
}

/* The ingest context both ingest tests use, on store S. */
static TgIngestContext ingest_ctx(TgStore *s, GBytes *secret) {
  static char *support[] = {"support@localhost", NULL};
  return (TgIngestContext){.store = s, .secret = secret, .tag_prefix = "Support",
                           .support_addresses = support, .default_language = "en"};
}

static void test_migrations(void) {
  g_autofree char *path = tmp_db();
  TgStore *s = tg_store_open(path, 1000, NULL);
  g_assert_nonnull(s);
  g_assert_cmpint(tg_store_schema_version(s), ==, (int)tg_store_schema_count());
  tg_store_free(s);
  s = tg_store_open(path, 1000, NULL); /* again: nothing to do */
  g_assert_nonnull(s);
  /* A database from a newer ticketgate is refused, not damaged. */
  sqlite3_exec(tg_store_db(s), "PRAGMA user_version = 999", NULL, NULL, NULL);
  tg_store_free(s);
  g_autoptr(GError) err = NULL;
  g_assert_null(tg_store_open(path, 1000, &err));
  g_assert_error(err, TG_STORE_ERROR, TG_STORE_ERROR_FAILED);
}

static void test_busy_is_temporary(void) {
  g_autofree char *path = tmp_db();
  g_autoptr(TgStore) a = tg_store_open(path, 100, NULL);
  g_autoptr(TgStore) b = tg_store_open(path, 100, NULL);
  g_assert_true(tg_store_begin(a, NULL));
  g_autoptr(GError) err = NULL;
  g_assert_false(tg_store_begin(b, &err));
  g_assert_error(err, TG_STORE_ERROR, TG_STORE_ERROR_TEMP);
  tg_store_rollback(a);
  g_assert_true(tg_store_begin(b, NULL));
  tg_store_rollback(b);
}

static TgMail *mail(const char *spool_id, const char *msgid, const char *from) {
  TgMail *m = tg_mail_new();
  m->spool_id = g_strdup(spool_id);
  m->message_id = g_strdup(msgid);
  g_free(m->from->address);
  m->from->address = g_strdup(from);
  g_free(m->subject);
  m->subject = g_strdup("Re: hello");
  m->raw = g_bytes_new_static("raw", 3);
  m->raw_sha256 = g_compute_checksum_for_bytes(G_CHECKSUM_SHA256, m->raw);
  return m;
}

static void test_exactly_once(void) {
  g_autofree char *path = tmp_db();
  g_autoptr(TgStore) s = tg_store_open(path, 1000, NULL);
  g_autoptr(GBytes) secret = g_bytes_new_static("0123456789abcdef0123456789abcdef", 32);
  TgIngestContext ctx = ingest_ctx(s, secret);
  TgIngestResult r;
  g_autoptr(TgMail) m1 = mail("66118f0cff249-00000001", "one@x", "a@x");
  g_assert_true(tg_ingest(&ctx, m1, &r, NULL));
  g_assert_cmpint(r.outcome, ==, TG_INGEST_CREATED);
  g_assert_cmpint(r.ticket_id, ==, 1);
  /* The same spool entry replayed after a crash: nothing new. */
  g_assert_true(tg_ingest(&ctx, m1, &r, NULL));
  g_assert_cmpint(r.outcome, ==, TG_INGEST_REPLAYED);
  /* The same Message-ID in another spool entry: a duplicate. */
  g_autoptr(TgMail) m2 = mail("66118f0cff249-00000002", "one@x", "a@x");
  g_assert_true(tg_ingest(&ctx, m2, &r, NULL));
  g_assert_cmpint(r.outcome, ==, TG_INGEST_DUPLICATE);
  g_assert_cmpint(r.ticket_id, ==, 1);
  g_assert_cmpint(tg_store_query_int(s, "SELECT count(*) FROM messages", -1, NULL, NULL), ==, 1);
  g_assert_cmpint(tg_store_query_int(s, "SELECT count(*) FROM tickets", -1, NULL, NULL), ==, 1);
  g_assert_cmpint(tg_store_query_int(s, "SELECT count(*) FROM events", -1, NULL, NULL), ==, 1);
  /* The ticket's subject lost its prefix; the message kept its own. */
  sqlite3_stmt *st = tg_store_prepare(s, "SELECT t.subject, m.subject FROM tickets t "
                                         "JOIN messages m ON m.ticket_id = t.id", NULL, NULL);
  g_assert_cmpint(tg_store_step(s, st, NULL), ==, SQLITE_ROW);
  g_assert_cmpstr(tg_store_col_text(st, 0), ==, "hello");
  g_assert_cmpstr(tg_store_col_text(st, 1), ==, "Re: hello");
  sqlite3_reset(st);
}

/* The index lags behind storage until caught up; a search after catching
 * up sees every message, Japanese substrings included. */
static void test_lazy_index(void) {
  g_autofree char *path = tmp_db();
  g_autoptr(TgStore) s = tg_store_open(path, 1000, NULL);
  g_autoptr(GBytes) secret = g_bytes_new_static("0123456789abcdef0123456789abcdef", 32);
  TgIngestContext ctx = ingest_ctx(s, secret);
  const char *bodies[] = {"プリンターが故障しました", "invoice overdue", "サーバー障害です"};
  for (int i = 0; i < 3; i++) {
    g_autofree char *sid = g_strdup_printf("66118f0cff249-0000000%d", i);
    g_autofree char *mid = g_strdup_printf("idx%d@x", i);
    g_autoptr(TgMail) m = mail(sid, mid, "a@x");
    g_free(m->body);
    m->body = g_strdup(bodies[i]);
    TgIngestResult r;
    g_assert_true(tg_ingest(&ctx, m, &r, NULL));
  }
  g_assert_cmpint(tg_search_index_pending(s, NULL), ==, 3);
  guint n = 0;
  g_assert_true(tg_search_index_catch_up(s, 2, &n, NULL));
  g_assert_cmpuint(n, ==, 2);
  g_assert_cmpint(tg_search_index_pending(s, NULL), ==, 1);
  g_assert_true(tg_search_index_catch_up(s, 0, &n, NULL));
  g_assert_cmpuint(n, ==, 1);
  g_assert_true(tg_search_index_catch_up(s, 0, &n, NULL));
  g_assert_cmpuint(n, ==, 0);
  g_autoptr(JsonNode) hits = tg_ticket_view_search(s, "障害で", 10, NULL);
  g_assert_cmpuint(json_array_get_length(json_node_get_array(hits)), ==, 1);
  g_autoptr(JsonNode) none = tg_ticket_view_search(s, "nothing like this", 10, NULL);
  g_assert_cmpuint(json_array_get_length(json_node_get_array(none)), ==, 0);
}

/* `deliver` commits once per process.  The WAL must not grow with the
 * number of processes (it did: nothing ever restarted it), or every new
 * process reads all of it to rebuild the index. */
static void test_wal_bounded(void) {
  g_autofree char *path = tmp_db();
  g_autofree char *wal = g_strconcat(path, "-wal", NULL);
  g_autofree char *blob = g_strnfill(3000, 'x');
  for (int proc = 0; proc < 30; proc++) {
    TgStore *s = tg_store_open(path, 1000, NULL);
    g_assert_nonnull(s);
    sqlite3 *db = tg_store_db(s);
    g_assert_true(tg_store_begin(s, NULL));
    g_assert_cmpint(sqlite3_exec(db, "CREATE TABLE IF NOT EXISTS b(x)", NULL, NULL, NULL), ==, SQLITE_OK);
    for (int i = 0; i < 100; i++) {
      g_autofree char *sql = g_strdup_printf("INSERT INTO b VALUES('%s')", blob);
      g_assert_cmpint(sqlite3_exec(db, sql, NULL, NULL, NULL), ==, SQLITE_OK);
    }
    g_assert_true(tg_store_commit(s, NULL));
    tg_store_free(s);
  }
  /* 30 x ~100 pages went through; the bound is the truncate threshold
   * (128 frames) plus one transaction, with room to spare. */
  GStatBuf st;
  g_assert_cmpint(g_stat(wal, &st), ==, 0);
  g_assert_cmpint(st.st_size, <, 700 * 4120);
  TgStore *s = tg_store_open(path, 1000, NULL);
  sqlite3_stmt *q;
  g_assert_cmpint(sqlite3_prepare_v2(tg_store_db(s), "SELECT count(*) FROM b", -1, &q, NULL), ==, SQLITE_OK);
  g_assert_cmpint(sqlite3_step(q), ==, SQLITE_ROW);
  g_assert_cmpint(sqlite3_column_int(q, 0), ==, 3000);
  sqlite3_finalize(q);
  /* A connection that commits many times (serve, import) checkpoints
   * PASSIVE as it goes and leaves an empty WAL when it closes. */
  for (int batch = 0; batch < 30; batch++) {
    g_assert_true(tg_store_begin(s, NULL));
    for (int i = 0; i < 100; i++) {
      g_autofree char *sql = g_strdup_printf("INSERT INTO b VALUES('%s')", blob);
      g_assert_cmpint(sqlite3_exec(tg_store_db(s), sql, NULL, NULL, NULL), ==, SQLITE_OK);
    }
    g_assert_true(tg_store_commit(s, NULL));
    /* 3,000 frames in all: PASSIVE checkpoints and restarts keep the WAL
     * near 1,000 frames plus a transaction. */
    g_assert_cmpint(g_stat(wal, &st), ==, 0);
    g_assert_cmpint(st.st_size, <, 1150 * 4120);
  }
  tg_store_free(s);
  g_assert_cmpint(g_stat(wal, &st), ==, 0);
  g_assert_cmpint(st.st_size, ==, 0);
}

/* A bulk writer (import) leaves checkpoints to a second connection that
 * runs while the writer's next batch is open, as import's reader thread
 * does.  The WAL still starts over now and then, or it would hold all of
 * it (10,000 frames here). */
static void test_wal_bounded_bulk(void) {
  g_autofree char *path = tmp_db();
  g_autofree char *wal = g_strconcat(path, "-wal", NULL);
  g_autofree char *blob = g_strnfill(3000, 'x');
  TgStore *w = tg_store_open(path, 1000, NULL);
  TgStore *c = tg_store_open(path, 1000, NULL);
  g_assert_nonnull(w);
  g_assert_nonnull(c);
  g_assert_cmpint(sqlite3_exec(tg_store_db(w), "CREATE TABLE b(x)", NULL, NULL, NULL), ==, SQLITE_OK);
  tg_store_set_bulk_writer(w);
  GStatBuf st;
  goffset peak = 0;
  for (int batch = 0; batch < 100; batch++) {
    g_assert_true(tg_store_begin(w, NULL));
    for (int i = 0; i < 100; i++) {
      g_autofree char *sql = g_strdup_printf("INSERT INTO b VALUES('%s')", blob);
      g_assert_cmpint(sqlite3_exec(tg_store_db(w), sql, NULL, NULL, NULL), ==, SQLITE_OK);
    }
    tg_store_checkpoint(c); /* the previous batches, while this one is open */
    g_assert_true(tg_store_commit(w, NULL));
    g_assert_cmpint(g_stat(wal, &st), ==, 0);
    peak = MAX(peak, st.st_size);
  }
  g_assert_cmpint(peak, <, 4500 * 4120);
  /* Its commits are not synced one by one; tg_store_sync() makes them
   * durable with one synced commit, also while a reader (an online
   * backup) holds an old snapshot, and leaves the writer syncing. */
  g_assert_cmpint(tg_store_query_int(w, "PRAGMA synchronous", -1, NULL, NULL), ==, 1);
  g_assert_cmpint(sqlite3_exec(tg_store_db(c), "BEGIN; SELECT count(*) FROM b", NULL, NULL, NULL),
                  ==, SQLITE_OK);
  g_assert_true(tg_store_begin(w, NULL));
  g_assert_cmpint(sqlite3_exec(tg_store_db(w), "INSERT INTO b VALUES('last')", NULL, NULL, NULL),
                  ==, SQLITE_OK);
  g_assert_true(tg_store_commit(w, NULL));
  int version = tg_store_schema_version(w);
  g_autoptr(GError) serr = NULL;
  g_assert_true(tg_store_sync(w, &serr));
  g_assert_no_error(serr);
  g_assert_cmpint(tg_store_query_int(w, "PRAGMA synchronous", -1, NULL, NULL), ==, 2);
  g_assert_cmpint(tg_store_schema_version(w), ==, version);
  g_assert_cmpint(sqlite3_exec(tg_store_db(c), "COMMIT", NULL, NULL, NULL), ==, SQLITE_OK);
  g_assert_cmpint(tg_store_query_int(c, "SELECT count(*) FROM b", -1, NULL, NULL), ==, 10001);
  tg_store_free(c);
  tg_store_free(w);
  g_assert_cmpint(g_stat(wal, &st), ==, 0);
  g_assert_cmpint(st.st_size, ==, 0);
}

/* A message whose text is its raw tail keeps that text once; one whose
 * text was decoded (here quoted-printable) keeps its raw bytes whole.
 * Both come back byte for byte. */
static void test_raw_stored_once(void) {
  g_autofree char *path = tmp_db();
  g_autoptr(TgStore) s = tg_store_open(path, 1000, NULL);
  g_autoptr(GBytes) secret = g_bytes_new_static("0123456789abcdef0123456789abcdef", 32);
  TgIngestContext ctx = ingest_ctx(s, secret);
  static const char plain[] = "Subject: a\r\n\r\nline one\r\nline two\r\n";
  static const char qp[] = "Subject: b\r\nContent-Transfer-Encoding: quoted-printable\r\n"
                           "\r\ncaf=C3=A9\r\n";
  struct { const char *raw, *body; gboolean split; } cases[] = {
      {plain, "line one\r\nline two\r\n", TRUE},
      {qp, "caf\xc3\xa9\r\n", FALSE},
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *sid = g_strdup_printf("66118f0cff249-0000001%u", i);
    g_autofree char *mid = g_strdup_printf("raw%u@x", i);
    g_autoptr(TgMail) m = mail(sid, mid, "a@x");
    g_bytes_unref(m->raw);
    g_free(m->raw_sha256);
    m->raw = g_bytes_new_static(cases[i].raw, strlen(cases[i].raw));
    m->raw_sha256 = g_compute_checksum_for_bytes(G_CHECKSUM_SHA256, m->raw);
    g_free(m->body);
    m->body = g_strdup(cases[i].body);
    TgIngestResult r;
    g_assert_true(tg_ingest(&ctx, m, &r, NULL));
    g_assert_cmpint(tg_store_query_int(s, "SELECT raw_head IS NOT NULL FROM messages "
                                          "WHERE id = ?", -1, NULL, "i", r.message_row),
                    ==, cases[i].split);
    g_assert_cmpint(tg_store_query_int(s, "SELECT count(*) FROM blobs WHERE sha256 = ?",
                                       -1, NULL, "s", m->raw_sha256),
                    ==, !cases[i].split);
    g_autoptr(GError) err = NULL;
    g_autoptr(GBytes) back = tg_ingest_raw_message(s, r.message_row, &err);
    g_assert_no_error(err);
    g_assert_true(g_bytes_equal(back, m->raw));
    /* Editing a text that is part of the raw message would change it. */
    g_autoptr(GError) uerr = NULL;
    gboolean edited = tg_store_exec(s, "UPDATE messages SET body = 'x' WHERE id = ?", &uerr,
                                    "i", r.message_row);
    g_assert_cmpint(edited, ==, !cases[i].split);
  }
  g_autoptr(GError) err = NULL;
  g_assert_null(tg_ingest_raw_message(s, 99, &err));
  g_assert_error(err, TG_STORE_ERROR, TG_STORE_ERROR_FAILED);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/store/migrations", test_migrations);
  g_test_add_func("/store/busy", test_busy_is_temporary);
  g_test_add_func("/store/exactly-once", test_exactly_once);
  g_test_add_func("/store/lazy-index", test_lazy_index);
  g_test_add_func("/store/raw-stored-once", test_raw_stored_once);
  g_test_add_func("/store/wal-bounded", test_wal_bounded);
  g_test_add_func("/store/wal-bounded-bulk", test_wal_bounded_bulk);
  return g_test_run();
}
