/* smtp_server.c - listeners and connections (contract in smtp_server.h).
 *
 * A connection (Conn) is reference counted: the server's table holds one
 * reference, and so does every pending read, write, handshake, close and
 * group-commit request.  Closing marks the connection, cancels its I/O and
 * drops it from the table; the session is freed when the last reference
 * goes, which is never inside one of the session's own callbacks.
 *
 * DIAGNOSTICS: one line per connection (connect, disconnect with message
 * count) and per message (queue=, client=, size, outcome); spool errors
 * are logged with their system call detail, the peer gets a generic 4xx.
 */
#include "gateway/smtp_server.h"
#include "gateway/log.h"
#include "gateway/smtp_session.h"
#include "spool/spool.h"

#include <gio/gio.h>
#include <string.h>

#define READ_SIZE (64 * 1024)
#define MAX_PENDING_OUTPUT (256 * 1024)
/* The session enforces message_size on the body; the spool's own limit
 * also counts our Received: line. */
#define TRACE_ALLOWANCE 4096
#define LISTEN_BACKLOG 512u

struct TgSmtpServer {
  const TgConfig *cfg;
  TgSmtpCommit *commit;
  TgSpool *spool;
  GTlsCertificate *cert;
  GSocketService *services[2]; /* SMTP, LMTP */
  GHashTable *conns;           /* Conn* set */
  GHashTable *per_client;      /* ip -> count */
  guint tick;
  gboolean stopping;
};

typedef struct {
  gint ref;
  TgSmtpServer *srv;
  TgSmtpProto proto;
  GSocketConnection *sock;
  GIOStream *stream; /* sock, or the TLS connection over it */
  char *client;
  TgSmtpSession *session;
  TgSmtpSessionConfig scfg;
  GCancellable *cancel;
  guint8 *rbuf;
  GString *wpending, *wflight;
  gboolean reading, writing, closing, tls_wanted;
  gint64 started, last_active; /* monotonic */
} Conn;

typedef struct {
  TgSpoolWriter *w;
  char *sender;
  guint nrcpt;
  gint64 t0;
} Msg;

static const char *proto_name(TgSmtpProto p) {
  return p == TG_SMTP_PROTO_LMTP ? "lmtp" : "smtp";
}

/* -------- connection lifetime -------- */

static Conn *conn_ref(Conn *c) {
  g_atomic_int_inc(&c->ref);
  return c;
}

static void conn_unref(Conn *c) {
  if (!g_atomic_int_dec_and_test(&c->ref))
    return;
  tg_smtp_session_free(c->session);
  g_clear_object(&c->stream);
  g_clear_object(&c->sock);
  g_clear_object(&c->cancel);
  g_string_free(c->wpending, TRUE);
  g_string_free(c->wflight, TRUE);
  g_free(c->rbuf);
  g_free(c->client);
  g_free(c);
}

static void on_closed(GObject *obj, GAsyncResult *res, gpointer data) {
  g_io_stream_close_finish(G_IO_STREAM(obj), res, NULL);
  conn_unref(data);
}

static void client_count(TgSmtpServer *srv, const char *client, int delta) {
  guint n = GPOINTER_TO_UINT(g_hash_table_lookup(srv->per_client, client));
  n = (guint)((int)n + delta);
  if (n == 0)
    g_hash_table_remove(srv->per_client, client);
  else
    g_hash_table_insert(srv->per_client, g_strdup(client), GUINT_TO_POINTER(n));
}

static void conn_close(Conn *c) {
  if (c->closing)
    return;
  c->closing = TRUE;
  g_cancellable_cancel(c->cancel);
  if (!tg_smtp_session_closing(c->session))
    tg_smtp_session_disconnected(c->session);
  tg_info("client=%s %s disconnect, %u message(s)", c->client,
          proto_name(c->proto), tg_smtp_session_messages(c->session));
  client_count(c->srv, c->client, -1);
  /* A fresh cancellable: the close itself must not be cancelled. */
  g_io_stream_close_async(c->stream, G_PRIORITY_DEFAULT, NULL, on_closed, conn_ref(c));
  g_hash_table_remove(c->srv->conns, c); /* drops the table's reference */
}

static void conn_read(Conn *c);
static void conn_flush(Conn *c);
static void start_tls(Conn *c);

/* After the session may have said something: send it, then read more or
 * close. */
static void conn_after(Conn *c) {
  if (c->closing)
    return;
  conn_flush(c);
  if (c->writing || c->wpending->len)
    return; /* on_written comes back here */
  if (c->tls_wanted) {
    start_tls(c);
    return;
  }
  if (tg_smtp_session_closing(c->session)) {
    conn_close(c);
    return;
  }
  conn_read(c);
}

/* -------- I/O -------- */

static void on_written(GObject *obj, GAsyncResult *res, gpointer data) {
  Conn *c = data;
  g_autoptr(GError) err = NULL;
  gboolean ok = g_output_stream_write_all_finish(G_OUTPUT_STREAM(obj), res, NULL, &err);
  c->writing = FALSE;
  g_string_truncate(c->wflight, 0);
  if (!ok) {
    if (!c->closing)
      tg_info("client=%s write failed: %s", c->client, err->message);
    conn_close(c);
  } else {
    conn_after(c);
  }
  conn_unref(c);
}

static void conn_flush(Conn *c) {
  if (c->writing || c->wpending->len == 0 || c->closing)
    return;
  GString *t = c->wflight;
  c->wflight = c->wpending;
  c->wpending = t;
  c->writing = TRUE;
  g_output_stream_write_all_async(g_io_stream_get_output_stream(c->stream),
                                  c->wflight->str, c->wflight->len,
                                  G_PRIORITY_DEFAULT, c->cancel, on_written,
                                  conn_ref(c));
}

static void on_read(GObject *obj, GAsyncResult *res, gpointer data) {
  Conn *c = data;
  g_autoptr(GError) err = NULL;
  gssize n = g_input_stream_read_finish(G_INPUT_STREAM(obj), res, &err);
  c->reading = FALSE;
  if (c->closing) {
    conn_unref(c);
    return;
  }
  if (n <= 0) {
    if (tg_smtp_session_in_data(c->session))
      tg_warn("client=%s lost connection in DATA: message discarded", c->client);
    else if (n < 0)
      tg_info("client=%s read failed: %s", c->client, err->message);
    conn_close(c);
    conn_unref(c);
    return;
  }
  c->last_active = g_get_monotonic_time();
  tg_smtp_session_feed(c->session, (const char *)c->rbuf, (gsize)n);
  conn_after(c);
  conn_unref(c);
}

static void conn_read(Conn *c) {
  if (c->reading || c->closing || !tg_smtp_session_wants_input(c->session) ||
      c->wpending->len > MAX_PENDING_OUTPUT)
    return;
  c->reading = TRUE;
  g_input_stream_read_async(g_io_stream_get_input_stream(c->stream), c->rbuf,
                            READ_SIZE, G_PRIORITY_DEFAULT, c->cancel, on_read,
                            conn_ref(c));
}

/* -------- TLS -------- */

static void on_handshake(GObject *obj, GAsyncResult *res, gpointer data) {
  Conn *c = data;
  g_autoptr(GError) err = NULL;
  gboolean ok = g_tls_connection_handshake_finish(G_TLS_CONNECTION(obj), res, &err);
  if (c->closing) {
    conn_unref(c);
    return;
  }
  if (!ok)
    tg_warn("client=%s TLS handshake failed: %s", c->client, err->message);
  else
    tg_debug("client=%s TLS established", c->client);
  tg_smtp_session_tls_done(c->session, ok);
  conn_after(c);
  conn_unref(c);
}

static void start_tls(Conn *c) {
  c->tls_wanted = FALSE;
  g_autoptr(GError) err = NULL;
  GIOStream *tls = g_tls_server_connection_new(G_IO_STREAM(c->sock), c->srv->cert, &err);
  if (!tls) {
    tg_err("client=%s TLS setup failed: %s", c->client, err->message);
    tg_smtp_session_tls_done(c->session, FALSE);
    conn_close(c);
    return;
  }
  g_object_unref(c->stream);
  c->stream = tls;
  g_tls_connection_handshake_async(G_TLS_CONNECTION(tls), G_PRIORITY_DEFAULT,
                                   c->cancel, on_handshake, conn_ref(c));
}

/* -------- session callbacks -------- */

static void op_send(gpointer user, const char *data, gsize len) {
  Conn *c = user;
  g_string_append_len(c->wpending, data, (gssize)len);
}

static gpointer op_msg_begin(gpointer user, const char *sender,
                             const char *const *rcpts, TgSmtpError *err_r) {
  Conn *c = user;
  g_autofree char *origin = g_strdup_printf("%s %s", proto_name(c->proto), c->client);
  g_autoptr(GError) err = NULL;
  TgSpoolWriter *w = tg_spool_writer_new(c->srv->spool, sender, rcpts, origin, &err);
  if (!w) {
    *err_r = tg_smtp_error_from_gerror(err);
    tg_warn("client=%s message refused (%s): %s", c->client,
            tg_smtp_error_name(*err_r), err->message);
    return NULL;
  }
  Msg *m = g_new0(Msg, 1);
  m->w = w;
  m->sender = g_strdup(sender);
  m->nrcpt = g_strv_length((char **)rcpts);
  m->t0 = g_get_monotonic_time();
  /* Received: trace header, as an MTA would add.  The zone is looked up
   * once: g_time_zone_new_local() stats /etc/localtime and reads its link
   * on every call, three system calls per message on the SMTP thread. */
  static GTimeZone *local_tz;
  if (g_once_init_enter(&local_tz))
    g_once_init_leave(&local_tz, g_time_zone_new_local());
  g_autoptr(GDateTime) now = g_date_time_new_now(local_tz);
  g_autofree char *date = g_date_time_format(now, "%a, %d %b %Y %H:%M:%S %z");
  g_autofree char *received = g_strdup_printf(
      "Received: from [%s] by %s with %s; %s\n", c->client,
      c->scfg.hostname, c->proto == TG_SMTP_PROTO_LMTP ? "LMTP" : "ESMTP", date);
  if (!tg_spool_writer_write(w, received, strlen(received), &err)) {
    *err_r = tg_smtp_error_from_gerror(err);
    tg_warn("client=%s message refused (%s): %s", c->client,
            tg_smtp_error_name(*err_r), err->message);
    tg_spool_writer_abort(w);
    g_free(m->sender);
    g_free(m);
    return NULL;
  }
  return m;
}

static void msg_free(Msg *m) {
  g_free(m->sender);
  g_free(m);
}

static TgSmtpError op_msg_write(gpointer user, gpointer msg, const char *data,
                                gsize len) {
  Conn *c = user;
  Msg *m = msg;
  g_autoptr(GError) err = NULL;
  if (tg_spool_writer_write(m->w, data, len, &err))
    return tg_spool_writer_over_limit(m->w) ? TG_SMTP_ERR_TOO_BIG : TG_SMTP_OK;
  TgSmtpError code = tg_smtp_error_from_gerror(err);
  tg_warn("client=%s spool write failed (%s): %s", c->client,
          tg_smtp_error_name(code), err->message);
  return code;
}

static void op_msg_abort(gpointer user, gpointer msg) {
  Msg *m = msg;
  tg_spool_writer_abort(m->w);
  msg_free(m);
}

typedef struct {
  Conn *conn;
  Msg *msg;
} Pending;

static void on_committed(gpointer data, TgSmtpError err, const char *queue_id) {
  Pending *p = data;
  Conn *c = p->conn;
  gint64 ms = (g_get_monotonic_time() - p->msg->t0) / 1000;
  if (err == TG_SMTP_OK)
    tg_info("queue=%s client=%s %s from=<%s> nrcpt=%u accepted (%" G_GINT64_FORMAT " ms)",
            queue_id, c->client, proto_name(c->proto), p->msg->sender,
            p->msg->nrcpt, ms);
  else
    tg_warn("client=%s %s from=<%s> not accepted: %s", c->client,
            proto_name(c->proto), p->msg->sender, tg_smtp_error_name(err));
  tg_smtp_session_message_done(c->session, err, queue_id);
  conn_after(c);
  msg_free(p->msg);
  g_free(p);
  conn_unref(c);
}

static void op_msg_end(gpointer user, gpointer msg) {
  Conn *c = user;
  Msg *m = msg;
  g_autoptr(GError) err = NULL;
  char *id = NULL;
  if (!tg_spool_writer_commit(m->w, TG_SPOOL_COMMIT_DEFER, &id, NULL, &err)) {
    TgSmtpError code = tg_smtp_error_from_gerror(err);
    tg_warn("client=%s spool commit failed (%s): %s", c->client,
            tg_smtp_error_name(code), err->message);
    msg_free(m);
    tg_smtp_session_message_done(c->session, code, NULL);
    return;
  }
  m->w = NULL; /* freed by commit */
  Pending *p = g_new0(Pending, 1);
  p->conn = conn_ref(c);
  p->msg = m;
  tg_smtp_commit_submit(c->srv->commit, id, on_committed, p);
}

static void op_starttls(gpointer user) {
  Conn *c = user;
  c->tls_wanted = TRUE;
}

static const TgSmtpSessionOps session_ops = {
    .send = op_send,
    .msg_begin = op_msg_begin,
    .msg_write = op_msg_write,
    .msg_end = op_msg_end,
    .msg_abort = op_msg_abort,
    .starttls = op_starttls,
};

/* -------- accepting -------- */

static void session_config(TgSmtpServer *srv, TgSmtpSessionConfig *sc) {
  const TgConfig *cfg = srv->cfg;
  *sc = (TgSmtpSessionConfig){
      .hostname = cfg->hostname,
      .addresses = cfg->addresses,
      .max_line = cfg->smtp_max_line,
      .max_recipients = cfg->smtp_max_recipients,
      .max_commands = cfg->smtp_max_commands,
      .max_errors = cfg->smtp_max_errors,
      .message_size = cfg->message_size,
      .tls_available = srv->cert != NULL,
  };
}

static void refuse(GSocketConnection *sock, TgSmtpError err, const char *hostname) {
  g_autofree char *line = tg_smtp_error_reply(err, hostname);
  g_autofree char *out = g_strconcat(line, "\r\n", NULL);
  GSocket *s = g_socket_connection_get_socket(sock);
  g_socket_set_timeout(s, 2);
  g_output_stream_write_all(g_io_stream_get_output_stream(G_IO_STREAM(sock)),
                            out, strlen(out), NULL, NULL, NULL);
  g_io_stream_close(G_IO_STREAM(sock), NULL, NULL);
}

static gboolean on_incoming(GSocketService *service, GSocketConnection *sock,
                            GObject *source, gpointer data) {
  TgSmtpServer *srv = data;
  TgSmtpProto proto = service == srv->services[1] ? TG_SMTP_PROTO_LMTP : TG_SMTP_PROTO_SMTP;
  g_autoptr(GSocketAddress) remote = g_socket_connection_get_remote_address(sock, NULL);
  g_autofree char *client = NULL;
  if (remote && G_IS_INET_SOCKET_ADDRESS(remote))
    client = g_inet_address_to_string(
        g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(remote)));
  else
    client = g_strdup("unknown");
  if (srv->stopping) {
    refuse(sock, TG_SMTP_ERR_SHUTDOWN, srv->cfg->hostname);
    return TRUE;
  }
  const TgConfig *cfg = srv->cfg;
  if (cfg->smtp_max_sessions && g_hash_table_size(srv->conns) >= cfg->smtp_max_sessions) {
    tg_warn("client=%s refused: %u sessions open", client, g_hash_table_size(srv->conns));
    refuse(sock, TG_SMTP_ERR_TOO_MANY_SESSIONS, cfg->hostname);
    return TRUE;
  }
  if (cfg->smtp_max_sessions_per_client &&
      GPOINTER_TO_UINT(g_hash_table_lookup(srv->per_client, client)) >=
          cfg->smtp_max_sessions_per_client) {
    tg_warn("client=%s refused: too many sessions from this address", client);
    refuse(sock, TG_SMTP_ERR_TOO_MANY_FROM_CLIENT, cfg->hostname);
    return TRUE;
  }
  Conn *c = g_new0(Conn, 1);
  c->ref = 1; /* the table's */
  c->srv = srv;
  c->proto = proto;
  c->sock = g_object_ref(sock);
  c->stream = G_IO_STREAM(g_object_ref(sock));
  c->client = g_steal_pointer(&client);
  c->cancel = g_cancellable_new();
  c->rbuf = g_malloc(READ_SIZE);
  c->wpending = g_string_new(NULL);
  c->wflight = g_string_new(NULL);
  c->started = c->last_active = g_get_monotonic_time();
  session_config(srv, &c->scfg);
  c->session = tg_smtp_session_new(proto, &c->scfg, c->client, &session_ops, c);
  g_hash_table_add(srv->conns, c);
  client_count(srv, c->client, +1);
  tg_info("client=%s %s connect", c->client, proto_name(proto));
  tg_smtp_session_start(c->session);
  conn_after(c);
  return TRUE;
}

/* Once a second: idle and session time limits. */
static gboolean on_tick(gpointer data) {
  TgSmtpServer *srv = data;
  const TgConfig *cfg = srv->cfg;
  gint64 now = g_get_monotonic_time();
  g_autoptr(GPtrArray) expired = g_ptr_array_new_with_free_func((GDestroyNotify)conn_unref);
  g_autoptr(GArray) why = g_array_new(FALSE, FALSE, sizeof(TgSmtpError));
  GHashTableIter it;
  gpointer key;
  g_hash_table_iter_init(&it, srv->conns);
  while (g_hash_table_iter_next(&it, &key, NULL)) {
    Conn *c = key;
    TgSmtpError e = TG_SMTP_OK;
    if (cfg->smtp_session_timeout &&
        now - c->started > (gint64)cfg->smtp_session_timeout * G_USEC_PER_SEC)
      e = TG_SMTP_ERR_SESSION_TIMEOUT;
    else if (cfg->smtp_idle_timeout && tg_smtp_session_wants_input(c->session) &&
             now - c->last_active > (gint64)cfg->smtp_idle_timeout * G_USEC_PER_SEC)
      e = TG_SMTP_ERR_IDLE_TIMEOUT;
    if (e != TG_SMTP_OK) {
      g_ptr_array_add(expired, conn_ref(c));
      g_array_append_val(why, e);
    }
  }
  for (guint i = 0; i < expired->len; i++) {
    Conn *c = g_ptr_array_index(expired, i);
    TgSmtpError e = g_array_index(why, TgSmtpError, i);
    if (c->closing)
      continue;
    tg_info("client=%s %s", c->client, tg_smtp_error_name(e));
    tg_smtp_session_close_with(c->session, e);
    conn_after(c);
  }
  return G_SOURCE_CONTINUE;
}

/* -------- setup -------- */

static gboolean listen_on(TgSmtpServer *srv, GSocketService *svc,
                          char *const *addrs, const char *what, GError **error) {
  for (char *const *a = addrs; a && *a; a++) {
    if (!**a)
      continue;
    g_autoptr(GSocketConnectable) na = g_network_address_parse(*a, 0, error);
    if (!na)
      return FALSE;
    g_autoptr(GSocketAddressEnumerator) en = g_socket_connectable_enumerate(na);
    guint bound = 0;
    for (;;) {
      g_autoptr(GError) lerr = NULL;
      g_autoptr(GSocketAddress) sa = g_socket_address_enumerator_next(en, NULL, &lerr);
      if (!sa) {
        if (lerr) {
          g_propagate_prefixed_error(error, g_steal_pointer(&lerr), "%s listen %s: ", what, *a);
          return FALSE;
        }
        break;
      }
      if (!g_socket_listener_add_address(G_SOCKET_LISTENER(svc), sa,
                                         G_SOCKET_TYPE_STREAM,
                                         G_SOCKET_PROTOCOL_TCP, NULL, NULL, error)) {
        g_prefix_error(error, "%s listen %s: ", what, *a);
        return FALSE;
      }
      bound++;
    }
    if (!bound) {
      g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s listen %s: no address", what, *a);
      return FALSE;
    }
    tg_info("listening for %s on %s", what, *a);
  }
  return TRUE;
}

static GTlsCertificate *load_cert(const TgConfig *cfg, GError **error) {
  if (!cfg->tls_cert || !*cfg->tls_cert)
    return NULL;
  GTlsCertificate *cert = g_tls_certificate_new_from_files(cfg->tls_cert, cfg->tls_key, error);
  if (!cert)
    g_prefix_error(error, "tls_cert %s / tls_key %s: ", cfg->tls_cert, cfg->tls_key);
  return cert;
}

TgSmtpServer *tg_smtp_server_new(const TgConfig *cfg, TgSmtpCommit *commit,
                                 GError **error) {
  g_autoptr(GError) cerr = NULL;
  GTlsCertificate *cert = load_cert(cfg, &cerr);
  if (!cert && cerr) {
    g_propagate_error(error, g_steal_pointer(&cerr));
    return NULL;
  }
  TgSpool *spool = tg_spool_open(cfg->spool_dir, error);
  if (!spool) {
    g_clear_object(&cert);
    return NULL;
  }
  TgSmtpServer *srv = g_new0(TgSmtpServer, 1);
  srv->cfg = cfg;
  srv->commit = commit;
  srv->spool = spool;
  srv->cert = cert;
  tg_spool_set_min_free(spool, cfg->spool_min_free);
  tg_spool_set_max_message(spool, cfg->message_size + TRACE_ALLOWANCE);
  srv->conns = g_hash_table_new_full(g_direct_hash, g_direct_equal,
                                     (GDestroyNotify)conn_unref, NULL);
  srv->per_client = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  for (int i = 0; i < 2; i++) {
    srv->services[i] = g_socket_service_new();
    /* GLib's default backlog of 10 drops SYNs when many clients churn
     * connections; a dropped SYN costs the client a 1 s+ retransmit. */
    g_socket_listener_set_backlog(G_SOCKET_LISTENER(srv->services[i]),
                                  (int)MAX(LISTEN_BACKLOG, cfg->smtp_max_sessions));
    g_signal_connect(srv->services[i], "incoming", G_CALLBACK(on_incoming), srv);
  }
  if (!listen_on(srv, srv->services[0], cfg->smtp_listen, "smtp", error) ||
      !listen_on(srv, srv->services[1], cfg->lmtp_listen, "lmtp", error)) {
    tg_smtp_server_free(srv);
    return NULL;
  }
  for (int i = 0; i < 2; i++)
    g_socket_service_start(srv->services[i]);
  srv->tick = g_timeout_add_seconds(1, on_tick, srv);
  return srv;
}

gboolean tg_smtp_server_reload(TgSmtpServer *srv, const TgConfig *cfg,
                               GError **error) {
  g_autoptr(GError) cerr = NULL;
  GTlsCertificate *cert = load_cert(cfg, &cerr);
  if (!cert && cerr) {
    g_propagate_error(error, g_steal_pointer(&cerr));
    return FALSE;
  }
  if (!g_strv_equal((const char *const *)cfg->smtp_listen,
                    (const char *const *)srv->cfg->smtp_listen) ||
      !g_strv_equal((const char *const *)cfg->lmtp_listen,
                    (const char *const *)srv->cfg->lmtp_listen))
    tg_warn("reload: listen addresses changed; they take effect at restart");
  g_clear_object(&srv->cert);
  srv->cert = cert;
  srv->cfg = cfg;
  tg_spool_set_min_free(srv->spool, cfg->spool_min_free);
  tg_spool_set_max_message(srv->spool, cfg->message_size + TRACE_ALLOWANCE);
  return TRUE;
}

void tg_smtp_server_shutdown(TgSmtpServer *srv) {
  if (srv->stopping)
    return;
  srv->stopping = TRUE;
  for (int i = 0; i < 2; i++) {
    g_socket_service_stop(srv->services[i]);
    g_socket_listener_close(G_SOCKET_LISTENER(srv->services[i]));
  }
  g_autoptr(GPtrArray) all = g_ptr_array_new_with_free_func((GDestroyNotify)conn_unref);
  GHashTableIter it;
  gpointer key;
  g_hash_table_iter_init(&it, srv->conns);
  while (g_hash_table_iter_next(&it, &key, NULL))
    g_ptr_array_add(all, conn_ref(key));
  for (guint i = 0; i < all->len; i++) {
    Conn *c = g_ptr_array_index(all, i);
    tg_smtp_session_close_with(c->session, TG_SMTP_ERR_SHUTDOWN);
    conn_after(c);
  }
}

guint tg_smtp_server_sessions(TgSmtpServer *srv) {
  return g_hash_table_size(srv->conns);
}

void tg_smtp_server_free(TgSmtpServer *srv) {
  if (!srv)
    return;
  if (srv->tick)
    g_source_remove(srv->tick);
  for (int i = 0; i < 2; i++)
    if (srv->services[i]) {
      g_socket_service_stop(srv->services[i]);
      g_socket_listener_close(G_SOCKET_LISTENER(srv->services[i]));
      g_object_unref(srv->services[i]);
    }
  g_hash_table_unref(srv->conns);
  g_hash_table_unref(srv->per_client);
  g_clear_object(&srv->cert);
  tg_spool_free(srv->spool);
  g_free(srv);
}
