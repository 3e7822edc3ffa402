/* imap_conn.c - connect, TLS, certificate check, login (see imap_conn.h).
 *
 * Certificate verification: libetpan (built on GnuTLS or OpenSSL) does
 * not verify the peer.  After the handshake gateway/tls_verify.h checks
 * the chain the server sent for the host name, against the system trust
 * store or the account's ca_file.  On failure the connection is dropped
 * before LOGIN, so the password never reaches an unverified peer.
 */
#include "gateway/imap_conn.h"
#include "gateway/log.h"
#include "gateway/tls_verify.h"

#include <gio/gio.h>
#include <string.h>

G_DEFINE_QUARK(tg-imap-error-quark, tg_imap_error)

struct TgImapConn {
  const TgImapAccount *account;
  mailimap *session;
  GHashTable *caps; /* upper-cased capability names */
  gboolean broken;
};

static char *where(const TgImapAccount *a) {
  return g_strdup_printf("imap account '%s' (%s@%s:%u)", a->name, a->user,
                         a->host, a->port);
}

static const char *server_text(mailimap *s) {
  return s && s->imap_response && s->imap_response[0] ? s->imap_response : NULL;
}

gboolean tg_imap_conn_fail(TgImapConn *c, int rc, const char *what,
                           GError **error) {
  g_autofree char *w = where(c->account);
  TgImapErrorCode code = TG_IMAP_ERROR_PROTOCOL;
  const char *detail = server_text(c->session);
  switch (rc) {
  case MAILIMAP_ERROR_STREAM:
  case MAILIMAP_ERROR_CONNECTION_REFUSED:
  case MAILIMAP_ERROR_DONT_ACCEPT_CONNECTION:
  case MAILIMAP_ERROR_BAD_STATE:
  case MAILIMAP_ERROR_FATAL:
  case MAILIMAP_ERROR_PARSE:
    c->broken = TRUE;
    code = TG_IMAP_ERROR_CONNECT;
    detail = rc == MAILIMAP_ERROR_STREAM
                 ? "connection lost or timed out"
                 : rc == MAILIMAP_ERROR_CONNECTION_REFUSED ? "connection refused"
                 : rc == MAILIMAP_ERROR_PARSE ? "unparsable server answer"
                 : rc == MAILIMAP_ERROR_DONT_ACCEPT_CONNECTION ? "server refused the session"
                 : "connection unusable";
    break;
  case MAILIMAP_ERROR_SSL:
  case MAILIMAP_ERROR_STARTTLS:
    c->broken = TRUE;
    code = TG_IMAP_ERROR_TLS;
    if (!detail)
      detail = "TLS handshake failed";
    break;
  case MAILIMAP_ERROR_LOGIN:
    code = TG_IMAP_ERROR_AUTH;
    break;
  default:
    break;
  }
  g_set_error(error, TG_IMAP_ERROR, code, "%s: %s failed: %s (libetpan error %d)",
              w, what, detail ? detail : "no answer", rc);
  return FALSE;
}

static gboolean verify_peer(TgImapConn *c, GError **error) {
  const TgImapAccount *a = c->account;
  g_autoptr(GError) err = NULL;
  if (tg_tls_verify_peer(c->session->imap_stream, a->host, a->port, a->ca_file, &err))
    return TRUE;
  g_autofree char *w = where(a);
  g_set_error(error, TG_IMAP_ERROR, TG_IMAP_ERROR_TLS, "%s: %s", w, err->message);
  return FALSE;
}

static void read_caps(TgImapConn *c) {
  g_hash_table_remove_all(c->caps);
  struct mailimap_capability_data *cap = NULL;
  if (mailimap_capability(c->session, &cap) != MAILIMAP_NO_ERROR || !cap)
    return;
  for (clistiter *it = clist_begin(cap->cap_list); it; it = clist_next(it)) {
    struct mailimap_capability *one = clist_content(it);
    if (one->cap_type == MAILIMAP_CAPABILITY_NAME && one->cap_data.cap_name)
      g_hash_table_add(c->caps, g_ascii_strup(one->cap_data.cap_name, -1));
  }
  mailimap_capability_data_free(cap);
}

gboolean tg_imap_conn_has_cap_ok(TgImapConn *c, const char *cap) {
  g_autofree char *up = g_ascii_strup(cap, -1);
  return g_hash_table_contains(c->caps, up);
}

TgImapConn *tg_imap_conn_open(const TgImapAccount *a, GError **error) {
  g_autoptr(TgImapConn) c = g_new0(TgImapConn, 1);
  c->account = a;
  c->caps = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  c->session = mailimap_new(0, NULL);
  c->broken = TRUE; /* until logged in */
  if (!c->session) {
    g_set_error(error, TG_IMAP_ERROR, TG_IMAP_ERROR_CONNECT, "mailimap_new failed");
    return NULL;
  }
  mailimap_set_timeout(c->session, a->timeout ? a->timeout : 60);
  gboolean implicit = strcmp(a->tls, "implicit") == 0;
  gboolean starttls = strcmp(a->tls, "starttls") == 0;
  int rc;
  if (implicit)
    rc = mailimap_ssl_connect_with_callback(c->session, a->host, (uint16_t)a->port,
                                            tg_tls_verify_sni, a->host);
  else
    rc = mailimap_socket_connect(c->session, a->host, (uint16_t)a->port);
  if (rc != MAILIMAP_NO_ERROR_AUTHENTICATED && rc != MAILIMAP_NO_ERROR_NON_AUTHENTICATED) {
    tg_imap_conn_fail(c, rc, "connect", error);
    return NULL;
  }
  if (starttls) {
    read_caps(c);
    if (!tg_imap_conn_has_cap_ok(c, "STARTTLS")) {
      g_autofree char *w = where(a);
      g_set_error(error, TG_IMAP_ERROR, TG_IMAP_ERROR_TLS,
                  "%s: tls = starttls but the server does not offer STARTTLS", w);
      return NULL;
    }
    rc = mailimap_socket_starttls_with_callback(c->session, tg_tls_verify_sni, a->host);
    if (rc != MAILIMAP_NO_ERROR) {
      tg_imap_conn_fail(c, MAILIMAP_ERROR_STARTTLS, "STARTTLS", error);
      return NULL;
    }
  }
  if ((implicit || starttls) && a->tls_verify && !verify_peer(c, error))
    return NULL;
  rc = mailimap_login(c->session, a->user, a->password ? a->password : "");
  if (rc == MAILIMAP_ERROR_STREAM || rc == MAILIMAP_ERROR_PARSE) {
    tg_imap_conn_fail(c, rc, "login", error);
    return NULL;
  }
  if (rc != MAILIMAP_NO_ERROR) {
    g_autofree char *w = where(a);
    const char *text = server_text(c->session);
    g_set_error(error, TG_IMAP_ERROR, TG_IMAP_ERROR_AUTH,
                "%s: login refused (wrong user or password?): server said: %s", w,
                text ? text : "no reason given");
    return NULL;
  }
  c->broken = FALSE;
  read_caps(c);
  return g_steal_pointer(&c);
}

void tg_imap_conn_free(TgImapConn *c) {
  if (!c)
    return;
  if (c->session) {
    if (!c->broken)
      mailimap_logout(c->session);
    mailimap_free(c->session);
  }
  g_clear_pointer(&c->caps, g_hash_table_unref);
  g_free(c);
}

mailimap *tg_imap_conn_session(TgImapConn *c) { return c->session; }
const TgImapAccount *tg_imap_conn_account(TgImapConn *c) { return c->account; }
void tg_imap_conn_set_broken(TgImapConn *c) { c->broken = TRUE; }
gboolean tg_imap_conn_broken_ok(TgImapConn *c) { return c->broken; }
