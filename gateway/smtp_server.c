/* smtp_server.c - listeners and connections (contract in smtp_server.h).
 *
 * A connection (Conn) is reference counted: the server's table holds one
 * reference, and so does every pending read, write, handshake, close and
 * group-commit request.  Closing marks the connection, cancels its I/O and
 * drops it from the table; the session is freed when the last reference
 * goes, which is never inside one of the session's own callbacks.
 *
 * I/O: a plaintext connection is a non-blocking socket with one GSource
 * for its whole life, read and written with recv() and send() as it
 * becomes ready; GIO's asynchronous streams cost a GTask, a source and
 * several system calls per read or write, and its GSocketConnection six
 * more at accept (fcntl, getsockopt, getpeername), which made the SMTP
 * thread's CPU per message twice smtp-sink's.  After STARTTLS the socket
 * becomes a GSocketConnection under a GTlsServerConnection and GIO's
 * asynchronous streams carry the rest of the session.
 *
 * DIAGNOSTICS: one line per connection (connect, disconnect with message
 * count) and per message (queue=, client=, size, outcome); spool errors
 * are logged with their system call detail, the peer gets a generic 4xx.
 */
#include "gateway/smtp_server.h"
#include "gateway/log.h"
#include "gateway/smtp_session.h"
#include "spool/spool.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gio/gio.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define READ_SIZE (64 * 1024)
#define MAX_PENDING_OUTPUT (256 * 1024)
/* The session enforces message_size on the body; the spool's own limit
 * also counts our Received: line. */
#define TRACE_ALLOWANCE 4096
/* Messages up to this size stay in memory until the group commit puts
 * them in the spool's journal (journal.h); bigger ones go to a file of
 * their own as they arrive.  It bounds what sessions hold in memory:
 * max_sessions times this. */
#define MEMORY_ENTRY_MAX (256 * 1024)
#define LISTEN_BACKLOG 512u

typedef struct {
  TgSmtpServer *srv;
  TgSmtpProto proto;
  GSocket *sock;
  GSource *source; /* NULL while paused */
  guint resume;    /* timeout ending the pause */
} Listener;

struct TgSmtpServer {
  const TgConfig *cfg;
  TgSmtpCommit *commit;
  TgSpool *spool;
  GTlsCertificate *cert;
  GPtrArray *listeners;        /* Listener* */
  GHashTable *conns;           /* Conn* set */
  GHashTable *per_client;      /* ip -> count */
  guint tick;
  gboolean stopping;
};

typedef struct {
  gint ref;
  TgSmtpServer *srv;
  TgSmtpProto proto;
  int fd;            /* the plaintext socket, or -1 once TLS carries it */
  GSource *watch;    /* readiness of fd (ConnWatch) */
  GPollFD pfd;
  gboolean peer_gone; /* hung up while we waited on nothing: fd not polled */
  gboolean expiring;  /* a time limit passed; closes at the next tick if stuck */
  GSocketConnection *sock; /* after STARTTLS: over what was fd */
  GIOStream *stream; /* after STARTTLS: the TLS connection over sock */
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
  if (c->watch) {
    g_source_destroy(c->watch);
    g_source_unref(c->watch);
  }
  if (c->fd >= 0)
    close(c->fd);
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
  if (c->watch) {
    g_source_destroy(c->watch);
    g_clear_pointer(&c->watch, g_source_unref);
  }
  if (c->fd >= 0) {
    close(c->fd);
    c->fd = -1;
  } else if (c->stream) {
    /* A fresh cancellable: the close itself must not be cancelled. */
    g_io_stream_close_async(c->stream, G_PRIORITY_DEFAULT, NULL, on_closed, conn_ref(c));
  }
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

/* -------- I/O on the plaintext socket -------- */

static gboolean wants_read(Conn *c) {
  return !c->closing && tg_smtp_session_wants_input(c->session) &&
         c->wpending->len <= MAX_PENDING_OUTPUT;
}

/* Sends what is pending as far as the socket takes it; FALSE: the
 * connection failed and is closed. */
static gboolean raw_flush(Conn *c) {
  gsize sent = 0;
  while (sent < c->wpending->len) {
    ssize_t n = send(c->fd, c->wpending->str + sent, c->wpending->len - sent,
                     MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n >= 0) {
      sent += (gsize)n;
      continue;
    }
    if (errno == EINTR)
      continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK)
      break;
    tg_info("client=%s write failed: %s", c->client, g_strerror(errno));
    conn_close(c);
    return FALSE;
  }
  g_string_erase(c->wpending, 0, (gssize)sent);
  return TRUE;
}

/* The peer went away (WHY: the read error, or NULL at end of input). */
static void conn_lost(Conn *c, const char *why) {
  if (tg_smtp_session_in_data(c->session))
    tg_warn("client=%s lost connection in DATA: message discarded", c->client);
  else if (why)
    tg_info("client=%s read failed: %s", c->client, why);
  conn_close(c);
}

static void raw_read(Conn *c) {
  ssize_t n;
  do
    n = recv(c->fd, c->rbuf, READ_SIZE, MSG_DONTWAIT);
  while (n < 0 && errno == EINTR);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
    return;
  if (n <= 0) {
    conn_lost(c, n < 0 ? g_strerror(errno) : NULL);
    return;
  }
  c->last_active = g_get_monotonic_time();
  tg_smtp_session_feed(c->session, (const char *)c->rbuf, (gsize)n);
}

/* The watch decides before each poll what fd waits for, in the GPollFD it
 * owns: changing what a source polls through g_source_modify_unix_fd()
 * and friends wakes the main context with an eventfd write each time,
 * ten system calls per message.  Waiting for nothing (a message in the
 * group commit), poll() still reports a peer that hung up, at once and
 * again at every iteration; then fd leaves the poll set for good
 * (peer_gone) and the next read or write finds the end. */
typedef struct {
  GSource source;
  Conn *conn;
} ConnWatch;

static gboolean watch_prepare(GSource *source, gint *timeout) {
  Conn *c = ((ConnWatch *)source)->conn;
  GIOCondition want = 0;
  if (!c->closing && c->wpending->len)
    want |= G_IO_OUT;
  if (wants_read(c))
    want |= G_IO_IN; /* also while output drains, up to MAX_PENDING_OUTPUT */
  c->pfd.events = (gushort)want;
  *timeout = -1;
  return FALSE;
}

static gboolean watch_check(GSource *source) {
  Conn *c = ((ConnWatch *)source)->conn;
  return !c->peer_gone &&
         (c->pfd.revents & (c->pfd.events | G_IO_HUP | G_IO_ERR | G_IO_NVAL));
}

static gboolean watch_dispatch(GSource *source, GSourceFunc cb, gpointer data) {
  Conn *c = ((ConnWatch *)source)->conn;
  GIOCondition rev = c->pfd.revents;
  if (rev & G_IO_NVAL) { /* cannot happen while fd is ours; never spin on it */
    conn_ref(c);
    conn_lost(c, "socket no longer valid");
    conn_unref(c);
    return G_SOURCE_CONTINUE;
  }
  if (!c->pfd.events) {
    g_source_remove_poll(source, &c->pfd);
    c->peer_gone = TRUE;
    return G_SOURCE_CONTINUE;
  }
  conn_ref(c);
  if ((rev & G_IO_OUT) && !raw_flush(c)) {
    conn_unref(c);
    return G_SOURCE_CONTINUE;
  }
  if ((rev & (G_IO_IN | G_IO_HUP | G_IO_ERR)) && wants_read(c))
    raw_read(c);
  conn_after(c);
  conn_unref(c);
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs watch_funcs = {watch_prepare, watch_check, watch_dispatch, NULL, NULL, NULL};

/* -------- I/O on GIO streams (TLS) -------- */

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
  if (c->fd >= 0) {
    raw_flush(c); /* what the socket does not take yet, the watch sends */
    return;
  }
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
    conn_lost(c, n < 0 ? err->message : NULL);
    conn_unref(c);
    return;
  }
  c->last_active = g_get_monotonic_time();
  tg_smtp_session_feed(c->session, (const char *)c->rbuf, (gsize)n);
  conn_after(c);
  conn_unref(c);
}

static void conn_read(Conn *c) {
  if (c->fd >= 0) {
    /* The watch reads when the session wants input, unless fd left its
     * poll set.  Whatever that peer still sent has no one to answer: no
     * message of it got its 250. */
    if (c->peer_gone && wants_read(c))
      conn_lost(c, NULL);
    return;
  }
  if (c->reading || !wants_read(c))
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

/* Hands the plaintext socket to GIO. */
static gboolean to_gio(Conn *c, GError **error) {
  g_source_destroy(c->watch);
  g_clear_pointer(&c->watch, g_source_unref);
  int fd = c->fd;
  c->fd = -1; /* GLib's from here on: it closes fd also when this fails */
  g_autoptr(GSocket) gs = g_socket_new_from_fd(fd, error);
  if (!gs)
    return FALSE;
  c->sock = g_socket_connection_factory_create_connection(gs);
  c->stream = G_IO_STREAM(g_object_ref(c->sock));
  return TRUE;
}

static void start_tls(Conn *c) {
  c->tls_wanted = FALSE;
  g_autoptr(GError) err = NULL;
  GIOStream *tls = NULL;
  if (c->fd < 0 || to_gio(c, &err))
    tls = g_tls_server_connection_new(G_IO_STREAM(c->sock), c->srv->cert, &err);
  if (!tls) {
    tg_err("client=%s TLS setup failed: %s", c->client, err->message);
    tg_smtp_session_tls_done(c->session, FALSE);
    conn_close(c);
    return;
  }
  g_clear_object(&c->stream);
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
  TgSpoolWriter *w = tg_spool_writer_new_buffered(c->srv->spool, sender, rcpts, origin,
                                                  MEMORY_ENTRY_MAX, &err);
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
  TgSpoolEntry *entry = NULL;
  gboolean in_memory = tg_spool_writer_in_memory(m->w);
  gboolean ok = in_memory ? (entry = tg_spool_writer_finish_memory(m->w, &err)) != NULL
                          : tg_spool_writer_commit(m->w, TG_SPOOL_COMMIT_DEFER, &id, NULL, &err);
  m->w = NULL; /* freed either way */
  if (!ok) {
    TgSmtpError code = tg_smtp_error_from_gerror(err);
    tg_warn("client=%s spool commit failed (%s): %s", c->client,
            tg_smtp_error_name(code), err->message);
    msg_free(m);
    tg_smtp_session_message_done(c->session, code, NULL);
    return;
  }
  Pending *p = g_new0(Pending, 1);
  p->conn = conn_ref(c);
  p->msg = m;
  if (entry)
    tg_smtp_commit_submit_entry(c->srv->commit, entry, on_committed, p);
  else
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

/* A one-line answer to a connection that is not taken; the socket buffer
 * of a new connection always has room for it. */
static void refuse(int fd, TgSmtpError err, const char *hostname) {
  g_autofree char *line = tg_smtp_error_reply(err, hostname);
  g_autofree char *out = g_strconcat(line, "\r\n", NULL);
  if (send(fd, out, strlen(out), MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
    tg_debug("refusal not sent: %s", g_strerror(errno));
  close(fd);
}

/* The client's address as GLib writes it: an IPv4 client of a dual-stack
 * listener as plain IPv4, not ::ffff:192.0.2.7 (logs, Received:, the
 * per-client limit). */
static char *address_string(const struct sockaddr_storage *sa) {
  char buf[INET6_ADDRSTRLEN];
  int family = sa->ss_family;
  const void *a = &((const struct sockaddr_in *)sa)->sin_addr;
  if (family == AF_INET6) {
    const struct in6_addr *a6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;
    a = a6;
    if (IN6_IS_ADDR_V4MAPPED(a6)) {
      family = AF_INET;
      a = &a6->s6_addr[12];
    }
  }
  if ((family != AF_INET && family != AF_INET6) || !inet_ntop(family, a, buf, sizeof buf))
    return g_strdup("unknown");
  return g_strdup(buf);
}

static void conn_accepted(TgSmtpServer *srv, TgSmtpProto proto, int fd,
                          char *client /* transfer full */) {
  if (srv->stopping) {
    refuse(fd, TG_SMTP_ERR_SHUTDOWN, srv->cfg->hostname);
    g_free(client);
    return;
  }
  const TgConfig *cfg = srv->cfg;
  if (cfg->smtp_max_sessions && g_hash_table_size(srv->conns) >= cfg->smtp_max_sessions) {
    tg_warn("client=%s refused: %u sessions open", client, g_hash_table_size(srv->conns));
    refuse(fd, TG_SMTP_ERR_TOO_MANY_SESSIONS, cfg->hostname);
    g_free(client);
    return;
  }
  if (cfg->smtp_max_sessions_per_client &&
      GPOINTER_TO_UINT(g_hash_table_lookup(srv->per_client, client)) >=
          cfg->smtp_max_sessions_per_client) {
    tg_warn("client=%s refused: too many sessions from this address", client);
    refuse(fd, TG_SMTP_ERR_TOO_MANY_FROM_CLIENT, cfg->hostname);
    g_free(client);
    return;
  }
  Conn *c = g_new0(Conn, 1);
  c->ref = 1; /* the table's */
  c->srv = srv;
  c->proto = proto;
  c->fd = fd;
  c->watch = g_source_new(&watch_funcs, sizeof(ConnWatch));
  ((ConnWatch *)c->watch)->conn = c;
  c->pfd.fd = fd;
  g_source_add_poll(c->watch, &c->pfd);
  /* A source that may not recurse has its fds taken out of the poll set
   * for each dispatch and put back after, each a wakeup of the context
   * (an eventfd write): two per dispatch.  Nothing here runs a nested
   * main loop. */
  g_source_set_can_recurse(c->watch, TRUE);
  g_source_attach(c->watch, g_main_context_get_thread_default());
  c->client = client;
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
  /* The greeting may fail to send and close the connection, dropping
   * the table's reference. */
  conn_ref(c);
  tg_smtp_session_start(c->session);
  conn_after(c);
  conn_unref(c);
}

static void listener_watch(Listener *l);

static gboolean listener_resume(gpointer data) {
  Listener *l = data;
  l->resume = 0;
  listener_watch(l);
  return G_SOURCE_REMOVE;
}

/* Takes every connection waiting on the listener, up to a bound so that
 * a flood of connects cannot starve the sessions already open. */
static gboolean on_incoming(GSocket *sock, GIOCondition cond, gpointer data) {
  Listener *l = data;
  for (int i = 0; i < 64; i++) {
    struct sockaddr_storage sa;
    socklen_t len = sizeof sa;
    int fd = accept4(g_socket_get_fd(sock), (struct sockaddr *)&sa, &len,
                     SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      conn_accepted(l->srv, l->proto, fd, address_string(&sa));
      continue;
    }
    switch (errno) {
    case EAGAIN:
      return G_SOURCE_CONTINUE;
    /* accept(2): network errors of the connection being taken, and
     * signals, are not the listener's; take the next one. */
    case EINTR: case ECONNABORTED: case EPROTO: case ENETDOWN: case ENOPROTOOPT:
    case EHOSTDOWN: case ENONET: case EHOSTUNREACH: case EOPNOTSUPP: case ENETUNREACH:
      continue;
    default:
      /* Out of descriptors or memory: the connection stays queued and the
       * listener readable, so pause instead of spinning on it. */
      tg_warn("%s accept failed, pausing for 100 ms: %s", proto_name(l->proto),
              g_strerror(errno));
      GSource *t = g_timeout_source_new(100);
      g_source_set_callback(t, listener_resume, l, NULL);
      l->resume = g_source_attach(t, g_main_context_get_thread_default());
      g_source_unref(t);
      g_clear_pointer(&l->source, g_source_unref);
      return G_SOURCE_REMOVE;
    }
  }
  return G_SOURCE_CONTINUE;
}

static void listener_watch(Listener *l) {
  l->source = g_socket_create_source(l->sock, G_IO_IN, NULL);
  g_source_set_callback(l->source, G_SOURCE_FUNC(on_incoming), l, NULL);
  g_source_set_can_recurse(l->source, TRUE); /* as a connection's watch */
  g_source_attach(l->source, g_main_context_get_thread_default());
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
    if (e != TG_SMTP_OK || c->expiring) {
      g_ptr_array_add(expired, conn_ref(c));
      g_array_append_val(why, e);
    }
  }
  for (guint i = 0; i < expired->len; i++) {
    Conn *c = g_ptr_array_index(expired, i);
    TgSmtpError e = g_array_index(why, TgSmtpError, i);
    if (c->closing)
      continue;
    if (c->expiring && (c->writing || c->wpending->len)) {
      /* Its 421 has not gone out a tick later: a client that does not
       * read would hold the session (and its slot) for ever. */
      tg_info("client=%s not reading: closed with output unsent", c->client);
      conn_close(c);
      continue;
    }
    if (c->expiring)
      continue; /* its 421 is on the way */
    c->expiring = TRUE;
    tg_info("client=%s %s", c->client, tg_smtp_error_name(e));
    tg_smtp_session_close_with(c->session, e);
    conn_after(c);
  }
  return G_SOURCE_CONTINUE;
}

/* -------- setup -------- */

static gboolean listen_one(TgSmtpServer *srv, TgSmtpProto proto,
                           GSocketAddress *sa, GError **error) {
  g_autoptr(GSocket) sock = g_socket_new(g_socket_address_get_family(sa), G_SOCKET_TYPE_STREAM,
                                         G_SOCKET_PROTOCOL_TCP, error);
  if (!sock)
    return FALSE;
  /* GLib's default backlog of 10 drops SYNs when many clients churn
   * connections; a dropped SYN costs the client a 1 s+ retransmit. */
  g_socket_set_listen_backlog(sock, (int)MAX(LISTEN_BACKLOG, srv->cfg->smtp_max_sessions));
  if (!g_socket_bind(sock, sa, TRUE, error) || !g_socket_listen(sock, error))
    return FALSE;
  Listener *l = g_new0(Listener, 1);
  l->srv = srv;
  l->proto = proto;
  l->sock = g_steal_pointer(&sock);
  listener_watch(l);
  g_ptr_array_add(srv->listeners, l);
  return TRUE;
}

static gboolean listen_on(TgSmtpServer *srv, TgSmtpProto proto,
                          char *const *addrs, GError **error) {
  const char *what = proto_name(proto);
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
      if (!listen_one(srv, proto, sa, error)) {
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

static void listener_free(Listener *l) {
  if (l->resume)
    g_source_destroy(g_main_context_find_source_by_id(g_main_context_get_thread_default(),
                                                      l->resume));
  if (l->source) {
    g_source_destroy(l->source);
    g_source_unref(l->source);
  }
  g_socket_close(l->sock, NULL);
  g_object_unref(l->sock);
  g_free(l);
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
  srv->listeners = g_ptr_array_new_with_free_func((GDestroyNotify)listener_free);
  if (!listen_on(srv, TG_SMTP_PROTO_SMTP, cfg->smtp_listen, error) ||
      !listen_on(srv, TG_SMTP_PROTO_LMTP, cfg->lmtp_listen, error)) {
    tg_smtp_server_free(srv);
    return NULL;
  }
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
  g_ptr_array_set_size(srv->listeners, 0);
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
  if (srv->listeners)
    g_ptr_array_unref(srv->listeners);
  g_hash_table_unref(srv->conns);
  g_hash_table_unref(srv->per_client);
  g_clear_object(&srv->cert);
  tg_spool_free(srv->spool);
  g_free(srv);
}
