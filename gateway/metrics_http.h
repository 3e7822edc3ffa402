/* metrics_http.h - the Prometheus endpoint of `serve`, on libmicrohttpd.
 *
 * GET /metrics answers tg_metrics_render() for a store and spool of its
 * own (opened here: the HTTP thread never shares a SQLite connection).
 * Only loopback addresses may be configured: metrics tell an outsider how
 * busy the desk is and which rules fire.
 */
#ifndef TG_METRICS_HTTP_H
#define TG_METRICS_HTTP_H

#include "gateway/config.h"

typedef struct TgMetricsHttp TgMetricsHttp;

/* Starts serving on LISTEN ("127.0.0.1:9325").  (transfer full) */
TgMetricsHttp *tg_metrics_http_start(const TgConfig *cfg, const char *listen,
                                     GError **error);
void tg_metrics_http_stop(TgMetricsHttp *m);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TgMetricsHttp, tg_metrics_http_stop)

#endif
