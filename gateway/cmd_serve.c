/* cmd_serve.c - `ticketgate serve`: the daemon.  On start it finishes
 * what a previous run left in the spool, then keeps draining it. */
#include "gateway/cli.h"
#include "gateway/imap_poller.h"
#include "gateway/log.h"
#include "gateway/pipeline.h"
#include "gateway/metrics_http.h" /* ops (issue 9) */
#include "gateway/privdrop.h"     /* ops (issue 9) */
#include "gateway/sd_notify.h"    /* ops (issue 9) */

#include <glib-unix.h>
#include <stdio.h>

typedef struct {
  GMainLoop *loop;
  TgPipeline *pipe;
} Serve;

static gboolean on_quit_signal(gpointer data) {
  Serve *s = data;
  tg_info("signal received: stopping");
  g_main_loop_quit(s->loop);
  return G_SOURCE_CONTINUE;
}

static gboolean on_drain_timer(gpointer data) {
  Serve *s = data;
  tg_pipeline_drain(s->pipe, NULL);
  return G_SOURCE_CONTINUE;
}

int tg_cmd_serve(int argc, char **argv) {
  gboolean foreground = FALSE;
  const GOptionEntry entries[] = {
      {"foreground", 'F', 0, G_OPTION_ARG_NONE, &foreground,
       "Stay in the foreground (systemd, containers)", NULL},
      {NULL}};
  if (!tg_cli_parse(&argc, &argv, "- run the gateway", entries))
    return EX_USAGE;
  g_autoptr(TgConfig) cfg = tg_cli_load_config();
  if (!cfg)
    return EX_CONFIG;
  g_autoptr(GError) err = NULL;
  /* ---- ops (issue 9): listeners are bound, then root is dropped before
   * any mail is read; systemd hears READY=1 once the loop runs. ---- */
  g_autoptr(TgMetricsHttp) metrics = NULL;
  if (!tg_privdrop_user_ok(cfg, &err)) {
    tg_err("serve: %s", err->message);
    return EX_CONFIG;
  }
  if (cfg->metrics_listen[0] &&
      !(metrics = tg_metrics_http_start(cfg, cfg->metrics_listen, &err))) {
    tg_err("serve: %s", err->message);
    return EX_CONFIG;
  }
  if (!tg_privdrop(cfg, &err)) {
    tg_err("serve: %s", err->message);
    return tg_privdrop_exit_code(err);
  }
  /* ---- end ops ---- */
  g_autoptr(TgPipeline) pipe = tg_pipeline_open(cfg, &err);
  if (!pipe) {
    tg_err("serve: %s", err->message);
    return EX_TEMPFAIL;
  }
  guint purged = tg_spool_recover(tg_pipeline_spool(pipe));
  if (purged)
    tg_info("purged %u unfinished spool writes", purged);
  guint failed = 0;
  guint done = tg_pipeline_drain(pipe, &failed);
  tg_info("serve: started, data in %s; %u spooled message(s) finished, %u left",
          cfg->data_dir, done, failed);
  Serve s = {.loop = g_main_loop_new(NULL, FALSE), .pipe = pipe};
  g_unix_signal_add(SIGTERM, on_quit_signal, &s);
  g_unix_signal_add(SIGINT, on_quit_signal, &s);
  g_timeout_add_seconds(1, on_drain_timer, &s);
  TgImapPoller *imap = tg_imap_poller_start(cfg); /* IMAP accounts (issue 4) */
  g_autofree char *ops_status = g_strdup_printf("serving, data in %s", cfg->data_dir);
  tg_sd_notify_watch(ops_status); /* ops (issue 9): STOPPING=1, RELOADING=1 */
  tg_sd_notify_ready(ops_status); /* ops (issue 9) */
  g_main_loop_run(s.loop);
  tg_sd_notify_unwatch(); /* ops (issue 9) */
  tg_imap_poller_stop(imap);
  g_main_loop_unref(s.loop);
  tg_info("serve: stopped");
  return EX_OK;
}
