/* cmd_fetch.c - `ticketgate fetch`: one pass over every IMAP account, for
 * cron.  Each account's new mail is spooled, ticketed, then flagged /
 * moved / deleted on the server (imap_poll.h has the order of events).
 *
 * Exit: 0 when every account was polled; 75 (EX_TEMPFAIL) when any
 * account failed (wrong password, unreachable, timeout, spool or store
 * trouble) - each failing account is named on stderr, the others are
 * still polled; 78 for a configuration error; 64 for an unknown --account.
 */
#include "gateway/cli.h"
#include "gateway/net_module.h"
#include "gateway/log.h"
#include "gateway/pipeline.h"
#include "gateway/privdrop.h"

#include <stdio.h>
#include <string.h>

/* TgImapPollOnSpooled: ticket a freshly spooled group in one transaction.
 * A temporary failure leaves the entries queued; the drain at the end of
 * the run (or `serve`, or `spool retry`) tries again. */
static void fetch_on_spooled(GPtrArray *ids, gpointer data) {
  TgPipeline *pipe = data;
  g_autoptr(GPtrArray) entries =
      g_ptr_array_new_with_free_func((GDestroyNotify)tg_spool_entry_free);
  for (guint i = 0; i < ids->len; i++) {
    g_autoptr(GError) err = NULL;
    TgSpoolEntry *e = tg_spool_read(tg_pipeline_spool(pipe), TG_SPOOL_QUEUE,
                                    g_ptr_array_index(ids, i), TRUE, &err);
    if (e)
      g_ptr_array_add(entries, e);
    else
      tg_debug("queue=%s not processed now: %s", (char *)g_ptr_array_index(ids, i),
               err->message);
  }
  if (entries->len == 0)
    return;
  g_autofree TgPipeResult *results = g_new0(TgPipeResult, entries->len);
  g_autoptr(GError) err = NULL;
  if (tg_pipeline_process_batch(pipe, (TgSpoolEntry **)entries->pdata, entries->len,
                                results, &err))
    for (guint i = 0; i < entries->len; i++)
      tg_pipe_result_clear(&results[i]);
}

static gboolean account_selected(char **only, const char *name) {
  return !only || g_strv_contains((const char *const *)only, name);
}

int tg_cmd_fetch(int argc, char **argv) {
  g_auto(GStrv) only = NULL;
  const GOptionEntry entries[] = {
      {"account", 'a', 0, G_OPTION_ARG_STRING_ARRAY, &only,
       "Poll only this [imap:NAME] account (repeatable)", "NAME"},
      {NULL}};
  if (!tg_cli_parse(&argc, &argv, "- fetch new mail from every IMAP account once",
                    entries))
    return EX_USAGE;
  g_autoptr(TgConfig) cfg = tg_cli_load_config();
  if (!cfg)
    return EX_CONFIG;
  for (guint i = 0; only && only[i]; i++) {
    gboolean known = FALSE;
    for (guint j = 0; j < cfg->imap->len && !known; j++)
      known = strcmp(((TgImapAccount *)g_ptr_array_index(cfg->imap, j))->name, only[i]) == 0;
    if (!known) {
      fprintf(stderr, "ticketgate: fetch: no [imap:%s] in the configuration\n", only[i]);
      return EX_USAGE;
    }
  }
  if (cfg->imap->len == 0) {
    fprintf(stderr, "ticketgate: fetch: no [imap:NAME] accounts configured\n");
    return EX_OK;
  }
  g_autoptr(GError) err = NULL;
  if (!tg_privdrop(cfg, &err)) { /* ops (issue 9): before the spool */
    fprintf(stderr, "ticketgate: fetch: %s\n", err->message);
    return tg_privdrop_exit_code(err);
  }
  const TgNetOps *net = tg_net(&err);
  if (!net) {
    fprintf(stderr, "ticketgate: fetch: %s\n", err->message);
    return EX_OSFILE;
  }
  g_autoptr(TgPipeline) pipe = tg_pipeline_open(cfg, &err);
  if (!pipe) {
    fprintf(stderr, "ticketgate: fetch: %s\n", err->message);
    return EX_TEMPFAIL;
  }
  g_autoptr(GPtrArray) failed = g_ptr_array_new();
  guint total = 0;
  for (guint i = 0; i < cfg->imap->len; i++) {
    TgImapAccount *a = g_ptr_array_index(cfg->imap, i);
    if (!account_selected(only, a->name))
      continue;
    g_autoptr(GError) aerr = NULL;
    TgImapPollStats stats = {0};
    TgImapPoll poll_ctx = {.spool = tg_pipeline_spool(pipe),
                           .store = tg_pipeline_store(pipe),
                           .on_spooled = fetch_on_spooled,
                           .on_spooled_data = pipe,
                           .max_message = cfg->message_size};
    if (net->imap_fetch_account(&poll_ctx, a, &stats, &aerr)) {
      tg_info("imap=%s fetched %u message(s)%s", a->name, stats.spooled,
              stats.skipped ? ", some left on the server (too big)" : "");
      total += stats.spooled;
      continue;
    }
    if (g_strcmp0(cfg->log_target, "syslog") == 0)
      tg_err("%s", aerr->message);
    fprintf(stderr, "ticketgate: fetch: %s\n", aerr->message);
    g_ptr_array_add(failed, a->name);
  }
  /* Whatever an earlier, interrupted run or a deferred batch left queued. */
  guint left = 0;
  tg_pipeline_drain(pipe, &left);
  if (failed->len) {
    g_ptr_array_add(failed, NULL);
    g_autofree char *names = g_strjoinv(", ", (char **)failed->pdata);
    fprintf(stderr, "ticketgate: fetch: failed account(s): %s (exit 75, retry later)\n",
            names);
    return EX_TEMPFAIL;
  }
  if (left) {
    fprintf(stderr, "ticketgate: fetch: %u message(s) left in the spool for a retry\n",
            left);
    return EX_TEMPFAIL;
  }
  return EX_OK;
}
