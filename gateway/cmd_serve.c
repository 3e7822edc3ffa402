/* cmd_serve.c - `ticketgate serve`: the daemon.
 *
 * Threads: the main loop runs the SMTP/LMTP listener (smtp_server.c);
 * the group-commit thread makes accepted messages durable before their
 * 250 (smtp_commit.c); the worker turns queued spool entries into
 * tickets (serve_worker.c), first whatever a previous run left; the
 * escalation timer runs a tick pass every 30 s (serve_tick.c).
 *
 * Signals: SIGTERM/SIGINT stop accepting, answer 421 to idle sessions,
 * let sessions waiting on a commit get their reply, wait up to
 * SHUTDOWN_GRACE_S for sessions to end, drain the spool and exit 0.
 * SIGHUP reloads the configuration file; a file that does not load keeps
 * the running configuration and logs every problem.  Superseded
 * configurations stay allocated until exit (sessions borrow from them).
 *
 * `serve` never forks: --foreground is accepted for systemd units and
 * containers and is the only mode.
 */
#include "gateway/cli.h"
#include "gateway/net_module.h"
#include "gateway/pipeline.h"
#include "gateway/log.h"
#include "gateway/sender.h"

#include "gateway/serve_ops.h" /* ops (issue 9) */
#include "gateway/serve_tick.h" /* escalation (issue 7) */
#include "gateway/serve_worker.h"
#include "gateway/smtp_commit.h"
#include "gateway/smtp_server.h"
#include "spool/spool.h"

#include <glib-unix.h>
#include <stdio.h>

#define SHUTDOWN_GRACE_S 10

typedef struct {
  GMainLoop *loop;
  GPtrArray *configs; /* TgConfig*, the last one is current */
  TgSmtpServer *server;
  TgServeWorker *worker;
  gint64 stop_deadline;
  guint stop_timer;
} Serve;

static gboolean on_stop_poll(gpointer data) {
  Serve *s = data;
  if (tg_smtp_server_sessions(s->server) == 0 ||
      g_get_monotonic_time() > s->stop_deadline) {
    if (tg_smtp_server_sessions(s->server))
      tg_warn("serve: %u session(s) still open after %d s; closing anyway",
              tg_smtp_server_sessions(s->server), SHUTDOWN_GRACE_S);
    g_main_loop_quit(s->loop);
    s->stop_timer = 0;
    return G_SOURCE_REMOVE;
  }
  return G_SOURCE_CONTINUE;
}

static gboolean on_quit_signal(gpointer data) {
  Serve *s = data;
  if (s->stop_timer)
    return G_SOURCE_CONTINUE;
  tg_info("signal received: stopping (%u session(s) open)",
          tg_smtp_server_sessions(s->server));
  tg_smtp_server_shutdown(s->server);
  s->stop_deadline = g_get_monotonic_time() + SHUTDOWN_GRACE_S * G_USEC_PER_SEC;
  s->stop_timer = g_timeout_add(20, on_stop_poll, s);
  return G_SOURCE_CONTINUE;
}

static gboolean on_reload_signal(gpointer data) {
  Serve *s = data;
  g_autoptr(GPtrArray) errors = NULL;
  const char *path = tg_config_choose_path(tg_cli_config_path);
  TgConfig *cfg = tg_config_load(path, &errors);
  if (!cfg) {
    for (guint i = 0; i < errors->len; i++)
      tg_err("reload: %s", (char *)g_ptr_array_index(errors, i));
    tg_err("reload failed: keeping the running configuration");
    return G_SOURCE_CONTINUE;
  }
  g_autoptr(GError) err = NULL;
  if (!tg_smtp_server_reload(s->server, cfg, &err)) {
    tg_err("reload failed: %s; keeping the running configuration", err->message);
    tg_config_free(cfg);
    return G_SOURCE_CONTINUE;
  }
  tg_serve_worker_reload(s->worker, cfg);
  g_ptr_array_add(s->configs, cfg);
  tg_info("reload: configuration %s loaded", cfg->source);
  return G_SOURCE_CONTINUE;
}

static void on_durable(gpointer data, GPtrArray *ids, GPtrArray *entries,
                       TgJournalSegment *segment) {
  TgServeWorker *w = data;
  for (guint i = 0; i < ids->len; i++)
    tg_serve_worker_notify(w, g_ptr_array_index(ids, i));
  if (entries->len)
    tg_serve_worker_take(w, entries, segment);
}

int tg_cmd_serve(int argc, char **argv) {
  gboolean foreground = FALSE;
  const GOptionEntry entries[] = {
      {"foreground", 'F', 0, G_OPTION_ARG_NONE, &foreground,
       "Stay in the foreground (systemd, containers)", NULL},
      {NULL}};
  if (!tg_cli_parse(&argc, &argv, "- run the gateway", entries))
    return EX_USAGE;
  TgConfig *cfg = tg_cli_load_config();
  if (!cfg)
    return EX_CONFIG;
  int ops_rc; /* ops (issue 9): drop root, metrics endpoint */
  TgServeOps *ops = tg_serve_ops_start(cfg, &ops_rc);
  if (!ops) {
    tg_config_free(cfg);
    return ops_rc;
  }
  Serve s = {.configs = g_ptr_array_new_with_free_func((GDestroyNotify)tg_config_free)};
  g_ptr_array_add(s.configs, cfg);
  g_autoptr(GError) err = NULL;
  int rc = EX_OK;
  TgSmtpCommit *commit = NULL;
  TgJournal *journal = NULL; /* the commit appends, the worker releases */
  TgImapPoller *imap = NULL;
  TgSender *sender = NULL;
  TgServeTick *ticker = NULL; /* escalation (issue 7) */
  if (g_mkdir_with_parents(cfg->data_dir, 0700) != 0) {
    tg_err("serve: mkdir(%s) failed: %s", cfg->data_dir, g_strerror(errno));
    rc = EX_TEMPFAIL;
    goto out;
  }
  {
    g_autoptr(TgSpool) spool = tg_spool_open(cfg->spool_dir, &err);
    if (!spool) {
      tg_err("serve: %s", err->message);
      rc = EX_TEMPFAIL;
      goto out;
    }
    /* What the journal of a run that died holds goes to queue/ first,
     * where the worker's first pass finds it.  A segment that cannot be
     * brought over now stays for the next start or `spool retry`. */
    tg_pipeline_recover_spool(spool);
    if (!(journal = tg_journal_open(cfg->spool_dir, &err))) {
      tg_err("serve: %s", err->message);
      rc = EX_TEMPFAIL;
      goto out;
    }
  }
  if (!(s.worker = tg_serve_worker_new(cfg, &err))) {
    tg_err("serve: %s", err->message);
    rc = EX_TEMPFAIL;
    goto out;
  }
  if (!(commit = tg_smtp_commit_new(cfg->spool_dir, journal, NULL, on_durable, s.worker, &err))) {
    tg_err("serve: %s", err->message);
    rc = EX_TEMPFAIL;
    goto out;
  }
  if (!(s.server = tg_smtp_server_new(cfg, commit, &err))) {
    tg_err("serve: %s", err->message);
    rc = EX_CONFIG;
    goto out;
  }
  tg_info("serve: started, data in %s", cfg->data_dir);
  tg_serve_ops_ready(ops, cfg); /* ops (issue 9): listeners bound; READY=1 */
  s.loop = g_main_loop_new(NULL, FALSE);
  guint sig[3] = {g_unix_signal_add(SIGTERM, on_quit_signal, &s),
                  g_unix_signal_add(SIGINT, on_quit_signal, &s),
                  g_unix_signal_add(SIGHUP, on_reload_signal, &s)};
  if (cfg->imap && cfg->imap->len) /* tg_serve_ops_start loaded the module */
    imap = tg_net(NULL)->imap_poller_start(cfg); /* spools; the worker's rescan tickets */
  /* Outbound notices go out from a thread of their own (sender.h); it
   * looks every second, so an ack leaves soon after its ticket exists. */
  if (!(sender = tg_sender_start(cfg, 1, &err))) {
    tg_err("serve: outbound sender not started: %s", err->message);
    g_clear_error(&err);
  }
  /* escalation (issue 7): the SLA timer, a tick pass every 30 s. */
  if (!(ticker = tg_serve_tick_start(cfg, 30, &err))) {
    tg_err("serve: escalation timer not started: %s", err->message);
    g_clear_error(&err);
  }
  g_main_loop_run(s.loop);
  for (int i = 0; i < 3; i++)
    g_source_remove(sig[i]);
  if (s.stop_timer)
    g_source_remove(s.stop_timer);
out:
  /* Order: no new sessions, last commits answered, then the final drain. */
  if (imap)
    tg_net(NULL)->imap_poller_stop(imap);
  tg_serve_tick_stop(ticker); /* escalation (issue 7) */
  tg_sender_stop(sender);
  tg_smtp_server_free(s.server);
  if (commit) {
    guint64 batches, committed;
    tg_smtp_commit_stats(commit, &batches, &committed);
    if (batches)
      tg_info("group commit: %" G_GUINT64_FORMAT " messages in %" G_GUINT64_FORMAT
              " batches", committed, batches);
  }
  tg_smtp_commit_free(commit);
  while (g_main_context_iteration(NULL, FALSE))
    ;
  tg_serve_worker_free(s.worker);
  tg_journal_free(journal);
  if (s.loop)
    g_main_loop_unref(s.loop);
  g_ptr_array_unref(s.configs);
  tg_serve_ops_stop(ops); /* ops (issue 9) */
  if (rc == EX_OK)
    tg_info("serve: stopped");
  return rc;
}
