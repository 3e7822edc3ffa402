/* cmd_deliver.c - `ticketgate deliver`: one message on stdin, like
 * dovecot-lda.  Spool first (durable), then ticket, then exit.
 *
 * Exit: 0 once the message is durably spooled and ticketed; 65 only when
 * it is over the size limit; 75 for anything temporary - then the message
 * is either left for the MTA to retry (nothing spooled) or also safe in
 * the spool, where `spool retry` or `serve` finish it (a retried copy is
 * recognised by its Message-ID and stored once).
 */
#include "gateway/cli.h"
#include "gateway/log.h"
#include "gateway/pipeline.h"
#include "gateway/privdrop.h"

#include "gateway/safety.h"
#include "gateway/test_hooks.h"

#include <errno.h>
#include <stdio.h>
#include <unistd.h>

static gboolean spool_stdin(TgSpool *spool, const char *sender,
                            char **recipients, char **id_r, int *lock_r,
                            GError **error) {
  TgSpoolWriter *w = tg_spool_writer_new(spool, sender,
                                         (const char *const *)recipients,
                                         "deliver", error);
  if (!w)
    return FALSE;
  char buf[65536];
  for (;;) {
    ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
    if (n == 0)
      break;
    if (n < 0) {
      if (errno == EINTR)
        continue;
      g_set_error(error, TG_SPOOL_ERROR, TG_SPOOL_ERROR_TEMP,
                  "read(stdin) failed: %s", g_strerror(errno));
      tg_spool_writer_abort(w);
      return FALSE;
    }
    if (!tg_spool_writer_write(w, buf, (gsize)n, error)) {
      tg_spool_writer_abort(w);
      return FALSE;
    }
  }
  tg_test_hooks_pause("in-spool-write");
  /* No fsync here: nothing is acknowledged until the entry's ticket is
   * committed in SQLite (durable) or the entry is quarantined (which
   * syncs it); every failure before that exits 75 and the MTA keeps the
   * message.  The spool copy is for `spool retry` after such a failure.
   * Two flushes of four per delivery. */
  return tg_spool_writer_commit(w, TG_SPOOL_COMMIT_UNSYNCED, id_r, lock_r, error);
}

int tg_cmd_deliver(int argc, char **argv) {
  g_auto(GStrv) recipients = NULL;
  g_autofree char *sender = NULL;
  const GOptionEntry entries[] = {
      {"recipient", 'r', 0, G_OPTION_ARG_STRING_ARRAY, &recipients,
       "Envelope recipient (repeatable)", "ADDR"},
      {"sender", 'f', 0, G_OPTION_ARG_STRING, &sender, "Envelope sender", "ADDR"},
      {NULL}};
  if (!tg_cli_parse(&argc, &argv, "- deliver one message from stdin", entries))
    return EX_USAGE;
  g_autoptr(TgConfig) cfg = tg_cli_load_config();
  if (!cfg)
    return EX_CONFIG;

  g_autoptr(GError) err = NULL;
  if (!tg_privdrop(cfg, &err)) { /* ops (issue 9): before the spool */
    tg_err("deliver: %s", err->message);
    return tg_privdrop_exit_code(err);
  }
  if (g_mkdir_with_parents(cfg->data_dir, 0700) != 0) {
    tg_err("deliver: mkdir(%s) failed: %s", cfg->data_dir, g_strerror(errno));
    return EX_TEMPFAIL;
  }
  if (!tg_safety_check_ok(cfg, &err)) {
    tg_err("deliver: %s", err->message);
    return EX_CONFIG; /* the MTA defers: nothing is accepted */
  }
  g_autoptr(TgSpool) spool = tg_spool_open(cfg->spool_dir, &err);
  if (!spool) {
    tg_err("deliver: %s", err->message);
    return EX_TEMPFAIL;
  }
  tg_spool_set_max_message(spool, cfg->message_size);
  tg_spool_set_min_free(spool, cfg->spool_min_free);
  g_autofree char *id = NULL;
  int lock_fd = -1;
  if (!spool_stdin(spool, sender, recipients, &id, &lock_fd, &err)) {
    if (g_error_matches(err, TG_SPOOL_ERROR, TG_SPOOL_ERROR_TOO_BIG)) {
      tg_warn("deliver: from=<%s> refused: %s", sender ? sender : "", err->message);
      fprintf(stdout, "ticketgate: message too big: %s\n", err->message);
      return EX_DATAERR;
    }
    tg_err("deliver: from=<%s> deferred: %s", sender ? sender : "", err->message);
    return EX_TEMPFAIL;
  }
  /* In queue/, locked by us, not yet acknowledged (see spool_stdin). */
  tg_test_hooks_pause("after-spool");
  g_autoptr(TgPipeline) pipe = tg_pipeline_open(cfg, &err);
  if (!pipe) {
    close(lock_fd);
    tg_err("queue=%s left in the spool: %s", id, err->message);
    return EX_TEMPFAIL;
  }
  g_autoptr(TgSpoolEntry) e =
      tg_spool_read_locked(tg_pipeline_spool(pipe), id, lock_fd, &err);
  if (!e) {
    close(lock_fd);
    tg_err("queue=%s left in the spool: %s", id, err->message);
    return EX_TEMPFAIL;
  }
  TgPipeResult r;
  if (!tg_pipeline_process(pipe, e, &r, &err))
    return EX_TEMPFAIL; /* logged by the pipeline; the entry stays queued */
  tg_pipe_result_clear(&r);
  tg_test_hooks_pause("after-retire");
  return EX_OK;
}
