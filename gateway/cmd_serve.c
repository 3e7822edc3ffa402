/* cmd_serve.c - `ticketgate serve`: the daemon.  On start it finishes
 * what a previous run left in the spool, then keeps draining it. */
#include "gateway/cli.h"
#include "gateway/log.h"
#include "gateway/pipeline.h"
#include "gateway/sender.h"

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
  /* Outbound: deliver queued notices in a thread of their own (sender.h). */
  TgSender *sender = tg_sender_start(cfg, 5, &err);
  if (!sender)
    tg_err("serve: outbound sender not started: %s", err->message);
  g_main_loop_run(s.loop);
  tg_sender_stop(sender);
  g_main_loop_unref(s.loop);
  tg_info("serve: stopped");
  return EX_OK;
}
