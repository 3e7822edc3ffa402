/* metrics_http.c - GET /metrics over libmicrohttpd (see metrics_http.h). */
#include "gateway/metrics_http.h"
#include "gateway/log.h"
#include "gateway/metrics.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <string.h>

struct TgMetricsHttp {
  struct MHD_Daemon *daemon;
  GMutex lock;        /* one scrape at a time on the one connection */
  TgStore *store;
  TgSpool *spool;
};

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
                                  const char *url, const char *method,
                                  const char *version, const char *upload,
                                  size_t *upload_size, void **state) {
  TgMetricsHttp *m = cls;
  const char *body;
  g_autofree char *text = NULL;
  unsigned int status = MHD_HTTP_OK;
  if (strcmp(method, "GET") != 0) {
    body = "method not allowed\n";
    status = MHD_HTTP_METHOD_NOT_ALLOWED;
  } else if (strcmp(url, "/metrics") != 0) {
    body = "not found: try /metrics\n";
    status = MHD_HTTP_NOT_FOUND;
  } else {
    g_autoptr(GError) err = NULL;
    g_mutex_lock(&m->lock);
    text = tg_metrics_render(m->store, m->spool, &err);
    g_mutex_unlock(&m->lock);
    if (!text) {
      tg_err("metrics: %s", err->message);
      body = "temporary failure\n";
      status = MHD_HTTP_SERVICE_UNAVAILABLE;
    } else {
      body = text;
    }
  }
  struct MHD_Response *r = MHD_create_response_from_buffer(
      strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
  MHD_add_response_header(r, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
  enum MHD_Result ret = MHD_queue_response(conn, status, r);
  MHD_destroy_response(r);
  return ret;
}

TgMetricsHttp *tg_metrics_http_start(const TgConfig *cfg, const char *listen,
                                     GError **error) {
  const char *colon = strrchr(listen, ':');
  g_autofree char *host = colon ? g_strndup(listen, (gsize)(colon - listen)) : NULL;
  guint64 port = colon ? g_ascii_strtoull(colon + 1, NULL, 10) : 0;
  struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((guint16)port)};
  if (!host || port == 0 || port > 65535 || inet_pton(AF_INET, host, &sin.sin_addr) != 1 ||
      (ntohl(sin.sin_addr.s_addr) >> 24) != 127) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                "metrics listen '%s': must be a loopback IPv4 HOST:PORT", listen);
    return NULL;
  }
  TgMetricsHttp *m = g_new0(TgMetricsHttp, 1);
  g_mutex_init(&m->lock);
  if (!(m->spool = tg_spool_open(cfg->spool_dir, error)) ||
      !(m->store = tg_store_open(cfg->db_path, cfg->busy_timeout_ms, error))) {
    tg_metrics_http_stop(m);
    return NULL;
  }
  m->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0,
                               NULL, NULL, on_request, m, MHD_OPTION_SOCK_ADDR, &sin,
                               MHD_OPTION_CONNECTION_LIMIT, 16u,
                               MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END);
  if (!m->daemon) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "metrics: cannot listen on %s", listen);
    tg_metrics_http_stop(m);
    return NULL;
  }
  tg_info("metrics on http://%s/metrics", listen);
  return m;
}

void tg_metrics_http_stop(TgMetricsHttp *m) {
  if (!m)
    return;
  if (m->daemon)
    MHD_stop_daemon(m->daemon);
  tg_store_free(m->store);
  tg_spool_free(m->spool);
  g_mutex_clear(&m->lock);
  g_free(m);
}
