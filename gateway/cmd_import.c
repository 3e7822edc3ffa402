/* cmd_import.c - `ticketgate import mbox FILE`: every message through the
 * same path as mail from the network (spool, parse, thread, store), in
 * batches so that one syncfs and one SQLite commit cover many messages.
 */
#include "gateway/cli.h"
#include "gateway/log.h"
#include "gateway/mbox.h"
#include "gateway/pipeline.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define BATCH 256

typedef struct {
  guint imported, duplicates, quarantined, failed;
} ImportStats;

static gboolean flush_batch(TgPipeline *pipe, GPtrArray *ids, GArray *locks,
                            ImportStats *st, GError **error) {
  TgSpool *spool = tg_pipeline_spool(pipe);
  if (!tg_spool_commit_batch(spool, ids, NULL, error))
    return FALSE;
  g_autoptr(GPtrArray) entries =
      g_ptr_array_new_with_free_func((GDestroyNotify)tg_spool_entry_free);
  for (guint i = 0; i < ids->len; i++) {
    int fd = g_array_index(locks, int, i);
    TgSpoolEntry *e = tg_spool_read_locked(spool, g_ptr_array_index(ids, i), fd, error);
    if (!e)
      return FALSE;
    g_ptr_array_add(entries, e);
  }
  g_autofree TgPipeResult *res = g_new0(TgPipeResult, entries->len);
  if (!tg_pipeline_process_batch(pipe, (TgSpoolEntry **)entries->pdata,
                                 entries->len, res, error)) {
    st->failed += entries->len;
  } else {
    for (guint i = 0; i < entries->len; i++) {
      if (res[i].outcome == TG_PIPE_QUARANTINED)
        st->quarantined++;
      else if (res[i].ingest.outcome == TG_INGEST_DUPLICATE)
        st->duplicates++;
      else
        st->imported++;
      tg_pipe_result_clear(&res[i]);
    }
  }
  g_ptr_array_set_size(ids, 0);
  g_array_set_size(locks, 0);
  return TRUE;
}

int tg_cmd_import(int argc, char **argv) {
  gboolean quiet = FALSE;
  const GOptionEntry entries[] = {
      {"quiet", 0, 0, G_OPTION_ARG_NONE, &quiet, "No progress line", NULL},
      {NULL}};
  if (!tg_cli_parse(&argc, &argv, "mbox FILE", entries))
    return EX_USAGE;
  if (argc != 3 || strcmp(argv[1], "mbox") != 0) {
    fprintf(stderr, "usage: ticketgate import mbox FILE\n");
    return EX_USAGE;
  }
  g_autoptr(GError) err = NULL;
  g_autoptr(GMappedFile) file = g_mapped_file_new(argv[2], FALSE, &err);
  if (!file) {
    fprintf(stderr, "ticketgate: %s\n", err->message);
    return EX_NOINPUT;
  }
  g_autoptr(TgConfig) cfg = NULL;
  int open_rc;
  g_autoptr(TgPipeline) pipe = tg_cli_open_pipeline(&cfg, &open_rc);
  if (!pipe)
    return open_rc;
  TgSpool *spool = tg_pipeline_spool(pipe);
  TgMboxReader reader;
  tg_mbox_reader_init(&reader, g_mapped_file_get_contents(file),
                      g_mapped_file_get_length(file));
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GArray) locks = g_array_new(FALSE, FALSE, sizeof(int));
  ImportStats st = {0};
  guint seen = 0, too_big = 0;
  gint64 start = g_get_monotonic_time();
  GBytes *msg;
  const char *origin = "import";
  while ((msg = tg_mbox_next(&reader))) {
    seen++;
    gsize len;
    const char *data = g_bytes_get_data(msg, &len);
    TgSpoolWriter *w = tg_spool_writer_new(spool, "", NULL, origin, &err);
    char *id = NULL;
    int fd = -1;
    gboolean ok = w && tg_spool_writer_write(w, data, len, &err);
    if (w && !ok)
      tg_spool_writer_abort(w);
    else if (w)
      ok = tg_spool_writer_commit(w, TG_SPOOL_COMMIT_DEFER, &id, &fd, &err);
    g_bytes_unref(msg);
    if (!ok) {
      if (g_error_matches(err, TG_SPOOL_ERROR, TG_SPOOL_ERROR_TOO_BIG)) {
        tg_warn("import: message %u skipped: %s", seen, err->message);
        too_big++;
        g_clear_error(&err);
        continue;
      }
      fprintf(stderr, "\nticketgate: message %u: %s\n", seen, err->message);
      return EX_TEMPFAIL;
    }
    g_ptr_array_add(ids, id);
    g_array_append_val(locks, fd);
    if (ids->len >= BATCH) {
      if (!flush_batch(pipe, ids, locks, &st, &err)) {
        fprintf(stderr, "\nticketgate: %s\n", err->message);
        return EX_TEMPFAIL;
      }
      if (!quiet && isatty(STDERR_FILENO))
        fprintf(stderr, "\rimport: %u messages read", seen);
    }
  }
  if (ids->len && !flush_batch(pipe, ids, locks, &st, &err)) {
    fprintf(stderr, "\nticketgate: %s\n", err->message);
    return EX_TEMPFAIL;
  }
  double secs = (double)(g_get_monotonic_time() - start) / G_USEC_PER_SEC;
  if (!quiet)
    fprintf(stderr, "%simport: %u messages: %u ticketed, %u duplicates, %u "
                    "quarantined, %u too big, %u left in the spool (%.0f/s)\n",
            isatty(STDERR_FILENO) ? "\r" : "", seen, st.imported, st.duplicates,
            st.quarantined, too_big, st.failed, secs > 0 ? seen / secs : 0.0);
  return st.failed ? EX_TEMPFAIL : EX_OK;
}
