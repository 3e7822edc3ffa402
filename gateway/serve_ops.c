/* serve_ops.c - privileges, metrics and systemd for `serve` (see
 * serve_ops.h). */
#include "gateway/serve_ops.h"
#include "gateway/log.h"
#include "gateway/net_module.h"
#include "gateway/privdrop.h"
#include "gateway/sd_notify.h"

#include <sysexits.h>

struct TgServeOps {
  TgMetricsHttp *metrics;
};

TgServeOps *tg_serve_ops_start(const TgConfig *cfg, int *rc_r) {
  g_autoptr(GError) err = NULL;
  if (!tg_privdrop_user_ok(cfg, &err)) {
    tg_err("serve: %s", err->message);
    *rc_r = EX_CONFIG;
    return NULL;
  }
  if (!tg_privdrop_keep_bind(cfg, &err)) {
    tg_err("serve: %s", err->message);
    *rc_r = tg_privdrop_exit_code(err);
    return NULL;
  }
  /* A broken install fails the start, not the first poll or notice. */
  const TgNetOps *net = NULL;
  if (tg_net_needed(cfg) && !(net = tg_net(&err))) {
    tg_err("serve: %s", err->message);
    *rc_r = EX_OSFILE;
    return NULL;
  }
  TgServeOps *ops = g_new0(TgServeOps, 1);
  if (cfg->metrics_listen && cfg->metrics_listen[0] &&
      !(ops->metrics = net->metrics_http_start(cfg, cfg->metrics_listen, &err))) {
    tg_err("serve: %s", err->message);
    g_free(ops);
    *rc_r = EX_CONFIG;
    return NULL;
  }
  return ops;
}

void tg_serve_ops_ready(TgServeOps *ops, const TgConfig *cfg) {
  tg_privdrop_release_bind();
  g_autofree char *status = g_strdup_printf("serving, data in %s", cfg->data_dir);
  tg_sd_notify_watch(status);
  tg_sd_notify_ready(status);
}

void tg_serve_ops_stop(TgServeOps *ops) {
  tg_sd_notify_unwatch();
  if (!ops)
    return;
  if (ops->metrics)
    tg_net(NULL)->metrics_http_stop(ops->metrics);
  g_free(ops);
}
