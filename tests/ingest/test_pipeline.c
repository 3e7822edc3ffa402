/* test_pipeline.c - what the pipeline does when the quarantine cannot be
 * written: the entry stays where it was and the caller is told to try
 * again (`deliver` exits 75, so the MTA keeps its copy), for a spooled
 * entry and for one that lives only in memory (import). */
#include "tests/support/test_util.h"
#include "gateway/config.h"
#include "gateway/pipeline.h"
#include "spool/spool_sys.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>

static int quarantine_renames;

static int rename_into_quarantine_fails(const char *from, const char *to) {
  if (strstr(to, "/quarantine/")) {
    quarantine_renames++;
    errno = EIO;
    return -1;
  }
  return rename(from, to);
}

/* A message with more header fields than the test configuration allows. */
static GString *too_many_headers(const char *msgid) {
  GString *m = g_string_new(NULL);
  for (int i = 0; i < 20; i++)
    g_string_append_printf(m, "X-Junk-%d: %d\r\n", i, i);
  g_string_append_printf(m, "From: a@example.com\r\nMessage-ID: <%s>\r\n\r\nhello\r\n", msgid);
  return m;
}

typedef struct {
  char *dir;
  TgConfig *cfg;
  TgPipeline *pipe;
} Fixture;

static void fixture_open(Fixture *f) {
  f->dir = g_dir_make_tmp("tgpipe-XXXXXX", NULL);
  g_assert_nonnull(f->dir);
  g_autofree char *conf = g_build_filename(f->dir, "ticketgate.conf", NULL);
  g_autofree char *text = g_strdup_printf(
      "[gateway]\ndata_dir = %s/var\n[limits]\nheader_count = 10\n", f->dir);
  g_assert_true(g_file_set_contents(conf, text, -1, NULL));
  g_autoptr(GPtrArray) errors = NULL;
  f->cfg = tg_config_load(conf, &errors);
  g_assert_nonnull(f->cfg);
  g_autoptr(GError) err = NULL;
  f->pipe = tg_pipeline_open(f->cfg, &err);
  g_assert_no_error(err);
}

static void fixture_close(Fixture *f) {
  tg_spool_sys_reset();
  tg_pipeline_free(f->pipe);
  tg_config_free(f->cfg);
  tg_test_remove_tree(f->dir);
}

/* Every file in the quarantine directory, reasons included. */
static guint quarantine_files(TgPipeline *p) {
  g_autofree char *dir = g_build_filename(tg_spool_dir(tg_pipeline_spool(p)), "quarantine", NULL);
  g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
  g_assert_nonnull(d);
  guint n = 0;
  while (g_dir_read_name(d))
    n++;
  return n;
}

static guint count(TgPipeline *p, TgSpoolArea area) {
  g_autoptr(GPtrArray) ids = tg_spool_list(tg_pipeline_spool(p), area, NULL);
  g_assert_nonnull(ids);
  return ids->len;
}

static void test_spooled(void) {
  Fixture f;
  fixture_open(&f);
  TgSpool *spool = tg_pipeline_spool(f.pipe);
  g_autoptr(GString) m = too_many_headers("q1@example.com");
  g_autofree char *id = NULL;
  g_autoptr(GError) err = NULL;
  g_assert_true(tg_spool_enter(spool, "a@example.com", NULL, "deliver", m->str, m->len, &id, &err));

  tg_spool_sys.rename = rename_into_quarantine_fails;
  TgPipeResult r;
  g_assert_false(tg_pipeline_process_id(f.pipe, id, &r, &err));
  g_assert_error(err, TG_SPOOL_ERROR, TG_SPOOL_ERROR_TEMP);
  g_clear_error(&err);
  tg_pipe_result_clear(&r);
  g_assert_cmpint(quarantine_renames, >, 0);
  g_assert_cmpuint(count(f.pipe, TG_SPOOL_QUEUE), ==, 1);
  g_assert_cmpuint(quarantine_files(f.pipe), ==, 0);

  /* The fault gone, the retry quarantines it with its reason. */
  tg_spool_sys_reset();
  g_assert_true(tg_pipeline_process_id(f.pipe, id, &r, &err));
  g_assert_no_error(err);
  g_assert_cmpint(r.outcome, ==, TG_PIPE_QUARANTINED);
  g_assert_cmpstr(r.reason, ==, "header-count");
  tg_pipe_result_clear(&r);
  g_assert_cmpuint(count(f.pipe, TG_SPOOL_QUEUE), ==, 0);
  g_assert_cmpuint(count(f.pipe, TG_SPOOL_QUARANTINE), ==, 1);
  fixture_close(&f);
}

static void test_in_memory(void) {
  Fixture f;
  fixture_open(&f);
  g_autoptr(GString) bad = too_many_headers("q2@example.com");
  g_autoptr(GString) good = g_string_new("From: b@example.com\r\nMessage-ID: <ok@example.com>\r\n\r\nhi\r\n");
  g_autoptr(TgSpoolEntry) e0 = tg_spool_entry_new_memory("", "import", g_bytes_new(bad->str, bad->len));
  g_autoptr(TgSpoolEntry) e1 = tg_spool_entry_new_memory("", "import", g_bytes_new(good->str, good->len));
  TgSpoolEntry *entries[] = {e0, e1};
  TgPipeResult res[2];
  g_autoptr(GError) err = NULL;

  tg_spool_sys.rename = rename_into_quarantine_fails;
  g_autoptr(TgPipeBatch) b = tg_pipeline_parse_batch(f.pipe, entries, 2, FALSE);
  g_assert_false(tg_pipeline_store_batch(f.pipe, b, res, &err));
  g_assert_nonnull(err);
  g_clear_error(&err);
  for (int i = 0; i < 2; i++)
    tg_pipe_result_clear(&res[i]);
  /* Nothing half-done is left for `spool retry` to pick up. */
  g_assert_cmpuint(quarantine_files(f.pipe), ==, 0);
  g_assert_cmpuint(count(f.pipe, TG_SPOOL_QUEUE), ==, 0);

  tg_spool_sys_reset();
  g_autoptr(TgPipeBatch) again = tg_pipeline_parse_batch(f.pipe, entries, 2, FALSE);
  g_assert_true(tg_pipeline_store_batch(f.pipe, again, res, &err));
  g_assert_no_error(err);
  g_assert_cmpint(res[0].outcome, ==, TG_PIPE_QUARANTINED);
  g_assert_cmpstr(res[0].reason, ==, "header-count");
  g_assert_cmpint(res[1].outcome, ==, TG_PIPE_TICKETED);
  /* Stored by the first attempt already: the re-run finds it. */
  g_assert_cmpint(res[1].ingest.outcome, ==, TG_INGEST_DUPLICATE);
  for (int i = 0; i < 2; i++)
    tg_pipe_result_clear(&res[i]);
  g_assert_cmpuint(count(f.pipe, TG_SPOOL_QUARANTINE), ==, 1);
  g_assert_cmpuint(count(f.pipe, TG_SPOOL_QUEUE), ==, 0);
  fixture_close(&f);
}

/* An entry of serve's journal, kept in memory (spool/journal.h). */
static TgSpoolEntry *journaled(TgPipeline *p, const GString *msg) {
  TgSpoolWriter *w = tg_spool_writer_new_buffered(tg_pipeline_spool(p), "c@example.com",
                                                  NULL, "smtp 127.0.0.1", 65536, NULL);
  g_assert_nonnull(w);
  g_assert_true(tg_spool_writer_write(w, msg->str, msg->len, NULL));
  TgSpoolEntry *e = tg_spool_writer_finish_memory(w, NULL);
  g_assert_nonnull(e);
  return e;
}

static gint64 stored_with_spool_id(TgPipeline *p, const char *id) {
  return tg_store_query_int(tg_pipeline_store(p), "SELECT count(*) FROM messages WHERE spool_id = ?",
                            -1, NULL, "s", id);
}

/* A journaled entry is ticketed under its spool id, with nothing to
 * retire; its replay (what recovery writes out to queue/ after a crash)
 * is a no-op; one that fails for good goes to the quarantine under its
 * own id, so a replay finds it there. */
static void test_journaled(void) {
  Fixture f;
  fixture_open(&f);
  g_autoptr(GString) good = g_string_new(
      "From: c@example.com\r\nMessage-ID: <j1@example.com>\r\nSubject: hi\r\n\r\nhello\r\n");
  g_autoptr(GString) bad = too_many_headers("j2@example.com");
  g_autoptr(TgSpoolEntry) e0 = journaled(f.pipe, good);
  g_autoptr(TgSpoolEntry) e1 = journaled(f.pipe, bad);
  TgSpoolEntry *entries[] = {e0, e1};
  TgPipeResult res[2];
  g_autoptr(GError) err = NULL;
  g_assert_true(tg_pipeline_process_batch(f.pipe, entries, 2, res, &err));
  g_assert_no_error(err);
  g_assert_cmpint(res[0].outcome, ==, TG_PIPE_TICKETED);
  g_assert_cmpint(res[0].ingest.outcome, ==, TG_INGEST_CREATED);
  g_assert_cmpint(res[1].outcome, ==, TG_PIPE_QUARANTINED);
  for (int i = 0; i < 2; i++)
    tg_pipe_result_clear(&res[i]);
  g_assert_cmpint(stored_with_spool_id(f.pipe, e0->id), ==, 1);
  g_assert_cmpuint(count(f.pipe, TG_SPOOL_QUEUE), ==, 0);
  g_autofree char *reason = tg_spool_quarantine_reason(tg_pipeline_spool(f.pipe), e1->id);
  g_assert_nonnull(reason);
  g_assert_true(g_str_has_prefix(reason, "header-count"));

  /* The replay of both, as after a crash before the journal let go. */
  TgSpool *spool = tg_pipeline_spool(f.pipe);
  gboolean written;
  g_assert_true(tg_spool_restore(spool, e0, TG_SPOOL_COMMIT_SYNC, &written, NULL, NULL));
  g_assert_true(written);
  g_assert_true(tg_spool_restore(spool, e1, TG_SPOOL_COMMIT_SYNC, &written, NULL, NULL));
  g_assert_false(written); /* in the quarantine already */
  guint failed = 99;
  g_assert_cmpuint(tg_pipeline_drain(f.pipe, &failed), ==, 1);
  g_assert_cmpuint(failed, ==, 0);
  g_assert_cmpint(stored_with_spool_id(f.pipe, e0->id), ==, 1);
  g_assert_cmpint(tg_store_query_int(tg_pipeline_store(f.pipe), "SELECT count(*) FROM messages WHERE direction = 'in'",
                                     -1, NULL, ""), ==, 1);
  g_assert_cmpuint(count(f.pipe, TG_SPOOL_QUEUE), ==, 0);
  g_assert_cmpuint(count(f.pipe, TG_SPOOL_QUARANTINE), ==, 1);
  fixture_close(&f);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/pipeline/quarantine-fails/spooled", test_spooled);
  g_test_add_func("/pipeline/quarantine-fails/in-memory", test_in_memory);
  g_test_add_func("/pipeline/journaled", test_journaled);
  return g_test_run();
}
