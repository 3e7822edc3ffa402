/* store.c - SQLite connection, migrations and statement cache (store.h).
 *
 * DIAGNOSTICS: errors carry SQLite's message and the statement's purpose.
 */
#include "tickets/store.h"
#include "tickets/store_schema.h"

#include <string.h>

struct TgStore {
  sqlite3 *db;
  /* sql text (borrowed, static) -> sqlite3_stmt*, keyed by the text's
   * address: hashing statements of several hundred characters a dozen
   * times per message cost 3% of a bulk import's store thread.  The same
   * text at two addresses only makes two statements. */
  GHashTable *stmts;
  gboolean in_tx;
  gint64 last_commit_us;
  guint busy_ms;
  gint64 busy_since; /* when the current wait for a lock began */
  guint commits; /* commits that wrote WAL frames (counted by the hook) */
  gboolean checkpoints_elsewhere; /* tg_store_set_bulk_writer() */
};

gint64 tg_store_last_commit_us(TgStore *s) { return s->last_commit_us; }

G_DEFINE_QUARK(tg-store-error-quark, tg_store_error)

gboolean tg_store_fail(TgStore *s, int rc, const char *what, GError **error) {
  int primary = rc & 0xff;
  gboolean temp = primary == SQLITE_BUSY || primary == SQLITE_LOCKED ||
                  primary == SQLITE_FULL || primary == SQLITE_IOERR ||
                  primary == SQLITE_READONLY || primary == SQLITE_CANTOPEN ||
                  primary == SQLITE_PROTOCOL || primary == SQLITE_NOMEM;
  g_set_error(error, TG_STORE_ERROR,
              temp ? TG_STORE_ERROR_TEMP : TG_STORE_ERROR_FAILED,
              "%s: %s (sqlite %d)", what,
              s && s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc), rc);
  return FALSE;
}

static void stmt_finalize(gpointer p) { sqlite3_finalize(p); }

static gboolean exec_sql(TgStore *s, const char *sql, GError **error) {
  int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
  if (rc != SQLITE_OK)
    return tg_store_fail(s, rc, sql, error);
  return TRUE;
}

static gboolean migrate(TgStore *s, GError **error) {
  int version = tg_store_schema_version(s);
  guint n = tg_store_schema_count();
  if (version > (int)n) {
    g_set_error(error, TG_STORE_ERROR, TG_STORE_ERROR_FAILED,
                "database schema version %d is newer than this ticketgate "
                "(%u): refusing to touch it",
                version, n);
    return FALSE;
  }
  for (guint v = (guint)version; v < n; v++) {
    if (!tg_store_begin(s, error))
      return FALSE;
    /* Another process may have migrated while we waited for the lock. */
    if (tg_store_schema_version(s) > (int)v) {
      tg_store_rollback(s);
      continue;
    }
    g_autofree char *bump = g_strdup_printf("PRAGMA user_version = %u", v + 1);
    if (!exec_sql(s, tg_store_schema_step(v), error) ||
        !exec_sql(s, bump, error)) {
      tg_store_rollback(s);
      return FALSE;
    }
    if (!tg_store_commit(s, error))
      return FALSE;
  }
  return TRUE;
}

/* SQLite's own busy handler sleeps 1, 2, 5, 10, 15, 20, 25... ms between
 * tries.  Parallel `deliver` processes hold the write lock for about a
 * millisecond each (their transaction and its fsync), so those sleeps
 * left the lock idle while everyone slept: two cores ran at 1.6.  Retry
 * every 200 µs, up to the configured timeout. */
static int busy_retry(void *arg, int tries) {
  TgStore *s = arg;
  gint64 now = g_get_monotonic_time();
  if (tries == 0)
    s->busy_since = now;
  if (now - s->busy_since >= (gint64)s->busy_ms * 1000)
    return 0; /* SQLITE_BUSY: the caller's temporary failure */
  g_usleep(200);
  return 1;
}

/* OFF: fail with SQLITE_BUSY at once (checkpoints that must not wait). */
static void busy_wait(TgStore *s, gboolean on) {
  sqlite3_busy_handler(s->db, on && s->busy_ms ? busy_retry : NULL, s);
}

/* WAL frames after which a connection's first commit checkpoints and
 * truncates the WAL.  A `deliver` commit is ~18 frames: a truncate every
 * seven processes or so. */
#define TG_WAL_TRUNCATE_FRAMES 128
/* Later commits of a long-lived connection: SQLite's own default. */
#define TG_WAL_PASSIVE_FRAMES 1000
/* A writer whose checkpoints another connection runs (16 MiB). */
#define TG_WAL_BULK_FRAMES 4000
/* A checkpoint fails at once (SQLITE_BUSY) while another runs; in one
 * process the bulk writer's and its helper's take turns instead. */
static GMutex bulk_checkpoint_lock;

/* Replaces SQLite's PASSIVE autocheckpoint.  A PASSIVE checkpoint copies
 * frames into the database but leaves them in the WAL until a later write
 * transaction restarts it, and that knowledge (nBackfill) lives only in
 * the -shm index, which the first connection to open the database
 * rebuilds from the WAL.  `deliver` processes one after another commit
 * once each and exit, so their WAL was never restarted: it grew without
 * bound (22 MB after 300 deliveries), and every process read all of it to
 * rebuild the index and then checkpointed all of it again.  So a
 * connection's first commit TRUNCATEs, leaving an empty WAL for the next
 * process.  It does not wait: while other connections are open (parallel
 * deliveries, `serve`) it fails with SQLITE_BUSY, the PASSIVE fallback
 * keeps the database current, and the WAL restarts at the next writer as
 * SQLite intends, because the index they share stays valid.  A connection
 * that commits again (serve, import) restarts the WAL itself; for it the
 * usual PASSIVE checkpoint every 1,000 frames costs less than a TRUNCATE
 * per batch (which was 7% of `import mbox`). */
static int wal_checkpoint_hook(void *arg, sqlite3 *db, const char *name,
                               int frames) {
  TgStore *s = arg;
  gboolean first = s->commits++ == 0;
  if (s->checkpoints_elsewhere) {
    /* Another connection copies the WAL as it grows, but the WAL starts
     * over only when a write transaction begins with all of it copied, and
     * this writer begins its next one right after each commit.  Now and
     * then it copies the rest (the last batch or so) itself, or the WAL
     * would hold the whole import: 409 MB beside a 264 MB database for
     * 30,000 messages. */
    if (frames >= TG_WAL_BULK_FRAMES) {
      g_mutex_lock(&bulk_checkpoint_lock);
      sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
      g_mutex_unlock(&bulk_checkpoint_lock);
    }
    return SQLITE_OK;
  }
  if (frames < (first ? TG_WAL_TRUNCATE_FRAMES : TG_WAL_PASSIVE_FRAMES))
    return SQLITE_OK;
  int rc = SQLITE_BUSY;
  if (first) {
    busy_wait(s, FALSE);
    rc = sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
    busy_wait(s, TRUE);
  }
  if (rc == SQLITE_BUSY)
    sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
  /* A failed checkpoint is not the committed transaction's failure. */
  return SQLITE_OK;
}

TgStore *tg_store_open(const char *path, guint busy_ms, GError **error) {
  static gsize configured;
  if (g_once_init_enter(&configured)) {
    /* SQLite counts every allocation under a global mutex by default:
     * 3% of a bulk writer's time, for statistics nobody reads.  Only
     * possible before SQLite initializes (the first open). */
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    g_once_init_leave(&configured, 1);
  }
  TgStore *s = g_new0(TgStore, 1);
  s->stmts = g_hash_table_new_full(NULL, NULL, NULL, stmt_finalize);
  int rc = sqlite3_open_v2(path, &s->db,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                               SQLITE_OPEN_NOMUTEX,
                           NULL);
  if (rc != SQLITE_OK) {
    tg_store_fail(s, rc, path, error);
    tg_store_free(s);
    return NULL;
  }
  sqlite3_extended_result_codes(s->db, 1);
  s->busy_ms = busy_ms;
  busy_wait(s, TRUE);
  /* `deliver` is one short process per message: left to itself, each
   * would checkpoint and delete the WAL on close and create it anew on
   * open (three extra fsyncs).  Keep the WAL; checkpoints happen as the
   * WAL grows (wal_checkpoint_hook), in whichever process commits then. */
  int one = 1;
  sqlite3_db_config(s->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
  sqlite3_file_control(s->db, "main", SQLITE_FCNTL_PERSIST_WAL, &one);
  sqlite3_wal_hook(s->db, wal_checkpoint_hook, s);
  if (!exec_sql(s, "PRAGMA journal_mode=WAL", error) ||
      !exec_sql(s, "PRAGMA synchronous=FULL", error) ||
      !exec_sql(s, "PRAGMA foreign_keys=ON", error) ||
      /* Each message is ingested under a SAVEPOINT inside a group
       * commit, so SQLite keeps a statement journal of every page it
       * touches.  On disk (the default) that was a temp file in /var/tmp
       * with 33 pwrites per message in `import mbox`, four times the
       * writes of the WAL itself.  Memory suffices: it is freed at each
       * RELEASE and a batch's pages fit the page cache. */
      !exec_sql(s, "PRAGMA temp_store=MEMORY", error) ||
      /* A group commit of a few hundred messages dirties a few MiB; with
       * SQLite's default 2 MiB cache it spilled pages into the WAL in the
       * middle of the transaction, and wrote them again at commit.  The
       * cache grows only as pages are used. */
      !exec_sql(s, "PRAGMA cache_size=-32768", error) ||
      !migrate(s, error)) {
    tg_store_free(s);
    return NULL;
  }
  s->commits = 0; /* migrations are not the caller's work */
  return s;
}

void tg_store_free(TgStore *s) {
  if (!s)
    return;
  /* A long-lived writer (serve, import) leaves the WAL as it found it:
   * empty, not up to 1,000 frames that the next process would read. */
  g_hash_table_unref(s->stmts); /* a statement mid-row would block it */
  if ((s->commits > 1 || (s->commits && s->checkpoints_elsewhere)) && s->db) {
    busy_wait(s, FALSE);
    sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
  }
  sqlite3_close(s->db);
  g_free(s);
}

void tg_store_set_bulk_writer(TgStore *s) {
  s->checkpoints_elsewhere = TRUE;
  /* Each commit waited for its WAL fsync: with a slow disk (fsync cycles
   * of 3-8 ms) that was a third of an import's time.  The checkpoints,
   * on the other connection, sync the WAL before they copy it. */
  exec_sql(s, "PRAGMA synchronous=NORMAL", NULL);
}

gboolean tg_store_sync(TgStore *s, GError **error) {
  /* One commit with synchronous=FULL syncs the WAL, and with it every
   * frame committed before.  A checkpoint would have to wait for readers
   * on old snapshots (an online .backup, say), holding off writers. */
  if (!exec_sql(s, "PRAGMA synchronous=FULL", error) || !tg_store_begin(s, error))
    return FALSE;
  int v = tg_store_schema_version(s);
  g_autofree char *touch = g_strdup_printf("PRAGMA user_version = %d", v);
  if (!exec_sql(s, touch, error)) {
    tg_store_rollback(s);
    return FALSE;
  }
  return tg_store_commit(s, error);
}

gboolean tg_store_checkpoint(TgStore *s) {
  int log = 0, done = 0;
  busy_wait(s, FALSE);
  g_mutex_lock(&bulk_checkpoint_lock);
  int rc = sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
  g_mutex_unlock(&bulk_checkpoint_lock);
  busy_wait(s, TRUE);
  return rc == SQLITE_OK && done == log;
}

sqlite3 *tg_store_db(TgStore *s) { return s->db; }

int tg_store_schema_version(TgStore *s) {
  sqlite3_stmt *st;
  int v = 0;
  if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW)
    v = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  return v;
}

gboolean tg_store_begin(TgStore *s, GError **error) {
  if (!exec_sql(s, "BEGIN IMMEDIATE", error))
    return FALSE;
  s->in_tx = TRUE;
  return TRUE;
}

gboolean tg_store_commit(TgStore *s, GError **error) {
  gint64 t0 = g_get_monotonic_time();
  int rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
  s->last_commit_us = g_get_monotonic_time() - t0;
  if (rc != SQLITE_OK) {
    tg_store_fail(s, rc, "COMMIT", error);
    tg_store_rollback(s);
    return FALSE;
  }
  s->in_tx = FALSE;
  return TRUE;
}

void tg_store_rollback(TgStore *s) {
  if (!sqlite3_get_autocommit(s->db))
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
  s->in_tx = FALSE;
}

/* STEP_NOW: the caller steps and clears the statement before it returns,
 * while the arguments are alive, so text need not be copied (a message
 * body is bound that way several times per message). */
static sqlite3_stmt *prepare_va(TgStore *s, const char *sql, GError **error,
                                gboolean step_now, const char *fmt, va_list ap) {
  sqlite3_stmt *st = g_hash_table_lookup(s->stmts, sql);
  if (!st) {
    int rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st,
                                NULL);
    if (rc != SQLITE_OK) {
      tg_store_fail(s, rc, sql, error);
      return NULL;
    }
    g_hash_table_insert(s->stmts, (gpointer)sql, st);
  }
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  int i = 1;
  for (const char *f = fmt ? fmt : ""; *f; f++, i++) {
    switch (*f) {
    case 's': {
      const char *v = va_arg(ap, const char *);
      if (v)
        sqlite3_bind_text(st, i, v, -1, step_now ? SQLITE_STATIC : SQLITE_TRANSIENT);
      else
        sqlite3_bind_null(st, i);
      break;
    }
    case 'i':
      sqlite3_bind_int64(st, i, va_arg(ap, gint64));
      break;
    case 'n': { /* an id where 0 means none */
      gint64 v = va_arg(ap, gint64);
      if (v)
        sqlite3_bind_int64(st, i, v);
      else
        sqlite3_bind_null(st, i);
      break;
    }
    case 'b':
    case 'B': {
      GBytes *b = va_arg(ap, GBytes *);
      if (!b && *f == 'B') {
        sqlite3_bind_null(st, i);
        break;
      }
      gsize len;
      const void *d = g_bytes_get_data(b, &len);
      sqlite3_bind_blob64(st, i, d ? d : "", len, SQLITE_STATIC);
      break;
    }
    default:
      g_error("tg_store_prepare: bad format character '%c'", *f);
    }
  }
  return st;
}

sqlite3_stmt *tg_store_prepare(TgStore *s, const char *sql, GError **error,
                               const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  sqlite3_stmt *st = prepare_va(s, sql, error, FALSE, fmt, ap);
  va_end(ap);
  return st;
}

int tg_store_step(TgStore *s, sqlite3_stmt *st, GError **error) {
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW || rc == SQLITE_DONE)
    return rc;
  tg_store_fail(s, rc, sqlite3_sql(st), error);
  sqlite3_reset(st);
  return -1;
}

gboolean tg_store_exec(TgStore *s, const char *sql, GError **error,
                       const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  sqlite3_stmt *st = prepare_va(s, sql, error, TRUE, fmt, ap);
  va_end(ap);
  if (!st)
    return FALSE;
  int rc = tg_store_step(s, st, error);
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  return rc != -1;
}

gint64 tg_store_query_int(TgStore *s, const char *sql, gint64 def,
                          GError **error, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  sqlite3_stmt *st = prepare_va(s, sql, error, TRUE, fmt, ap);
  va_end(ap);
  if (!st)
    return def;
  gint64 v = def;
  int rc = tg_store_step(s, st, error);
  if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
    v = sqlite3_column_int64(st, 0);
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  return v;
}

gint64 tg_store_last_insert_id(TgStore *s) {
  return sqlite3_last_insert_rowid(s->db);
}

const char *tg_store_col_text(sqlite3_stmt *st, int col) {
  const unsigned char *t = sqlite3_column_text(st, col);
  return t ? (const char *)t : "";
}
