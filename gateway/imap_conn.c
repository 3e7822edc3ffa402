/* imap_conn.c - connect, TLS, certificate check, login (see imap_conn.h).
 *
 * Certificate verification: libetpan (built on GnuTLS or OpenSSL) does
 * not verify the peer.  After the handshake we take the chain the server
 * sent (mailstream_get_certificate_chain), turn it into a GTlsCertificate
 * chain and let GIO's default TLS database verify it for the host name.
 * On failure the connection is dropped before LOGIN, so the password
 * never reaches an unverified peer.
 */
#include "gateway/imap_conn.h"
#include "gateway/log.h"

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

static void on_ssl_context(struct mailstream_ssl_context *ctx, void *data) {
  const TgImapAccount *a = data;
  /* SNI; an IP literal is not a server name. */
  if (!g_hostname_is_ip_address(a->host))
    mailstream_ssl_set_server_name(ctx, a->host);
}

static gboolean verify_peer(TgImapConn *c, GError **error) {
  g_autofree char *w = where(c->account);
  carray *chain = mailstream_get_certificate_chain(c->session->imap_stream);
  if (!chain || carray_count(chain) == 0) {
    if (chain)
      mailstream_certificate_chain_free(chain);
    g_set_error(error, TG_IMAP_ERROR, TG_IMAP_ERROR_TLS,
                "%s: the server sent no certificate", w);
    return FALSE;
  }
  GString *pem = g_string_new(NULL);
  for (unsigned i = 0; i < carray_count(chain); i++) {
    MMAPString *der = carray_get(chain, i);
    g_autofree char *b64 = g_base64_encode((const guchar *)der->str, der->len);
    g_string_append(pem, "-----BEGIN CERTIFICATE-----\n");
    for (gsize off = 0, n = strlen(b64); off < n; off += 64) {
      g_string_append_len(pem, b64 + off, (gssize)MIN(64, n - off));
      g_string_append_c(pem, '\n');
    }
    g_string_append(pem, "-----END CERTIFICATE-----\n");
  }
  mailstream_certificate_chain_free(chain);
  g_autoptr(GError) err = NULL;
  g_autoptr(GTlsCertificate) cert = g_tls_certificate_new_from_pem(pem->str, -1, &err);
  g_string_free(pem, TRUE);
  if (!cert) {
    g_set_error(error, TG_IMAP_ERROR, TG_IMAP_ERROR_TLS,
                "%s: unreadable server certificate: %s", w, err->message);
    return FALSE;
  }
  GTlsDatabase *db = g_tls_backend_get_default_database(g_tls_backend_get_default());
  if (!db) {
    g_set_error(error, TG_IMAP_ERROR, TG_IMAP_ERROR_TLS,
                "%s: no system certificate store to verify the server with "
                "(set tls_verify = false only for a server you trust)", w);
    return FALSE;
  }
  g_autoptr(GSocketConnectable) id = g_network_address_new(c->account->host,
                                                           (guint16)c->account->port);
  GTlsCertificateFlags flags = g_tls_database_verify_chain(
      db, cert, G_TLS_DATABASE_PURPOSE_AUTHENTICATE_SERVER, id, NULL,
      G_TLS_DATABASE_VERIFY_NONE, NULL, &err);
  g_object_unref(db);
  if (err || flags != 0) {
    g_set_error(error, TG_IMAP_ERROR, TG_IMAP_ERROR_TLS,
                "%s: server certificate not trusted (%s%s%s%s%s)", w,
                err ? err->message : "",
                flags & G_TLS_CERTIFICATE_UNKNOWN_CA ? " unknown CA" : "",
                flags & G_TLS_CERTIFICATE_BAD_IDENTITY ? " name mismatch" : "",
                flags & G_TLS_CERTIFICATE_EXPIRED ? " expired" : "",
                flags & ~(G_TLS_CERTIFICATE_UNKNOWN_CA | G_TLS_CERTIFICATE_BAD_IDENTITY |
                          G_TLS_CERTIFICATE_EXPIRED)
                    ? " other problem"
                    : "");
    return FALSE;
  }
  return TRUE;
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
                                            on_ssl_context, (void *)a);
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
    rc = mailimap_socket_starttls_with_callback(c->session, on_ssl_context, (void *)a);
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
