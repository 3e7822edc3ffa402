/* tls_verify.c - peer certificate check for libetpan streams (tls_verify.h). */
#include "gateway/tls_verify.h"

#include <gio/gio.h>
#include <string.h>

G_DEFINE_QUARK(tg-tls-verify-error-quark, tg_tls_verify_error)

void tg_tls_verify_sni(struct mailstream_ssl_context *ctx, void *data) {
  const char *host = data;
  /* SNI; an IP literal is not a server name. */
  if (host && host[0] && !g_hostname_is_ip_address(host))
    mailstream_ssl_set_server_name(ctx, (char *)host);
}

/* The DER chain of STREAM as PEM text (transfer full), or NULL if none. */
static char *chain_pem(mailstream *stream) {
  carray *chain = stream ? mailstream_get_certificate_chain(stream) : NULL;
  if (!chain)
    return NULL;
  if (carray_count(chain) == 0) {
    mailstream_certificate_chain_free(chain);
    return NULL;
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
  return g_string_free(pem, FALSE);
}

/* (transfer full) the database to verify with, or NULL and ERROR. */
static GTlsDatabase *database_for(const char *ca_file, GError **error) {
  if (ca_file && ca_file[0]) {
    g_autoptr(GError) err = NULL;
    GTlsDatabase *db = g_tls_file_database_new(ca_file, &err);
    if (!db)
      g_set_error(error, TG_TLS_VERIFY_ERROR, TG_TLS_VERIFY_ERROR_UNTRUSTED,
                  "ca_file %s: %s", ca_file, err->message);
    return db;
  }
  GTlsDatabase *db = g_tls_backend_get_default_database(g_tls_backend_get_default());
  if (!db)
    g_set_error(error, TG_TLS_VERIFY_ERROR, TG_TLS_VERIFY_ERROR_UNTRUSTED,
                "no system certificate store to verify the server with "
                "(set ca_file, or tls_verify = false only for a server you trust)");
  return db;
}

gboolean tg_tls_verify_peer(mailstream *stream, const char *host, guint port,
                            const char *ca_file, GError **error) {
  g_autofree char *pem = chain_pem(stream);
  if (!pem) {
    g_set_error(error, TG_TLS_VERIFY_ERROR, TG_TLS_VERIFY_ERROR_UNTRUSTED,
                "the server sent no certificate");
    return FALSE;
  }
  g_autoptr(GError) err = NULL;
  g_autoptr(GTlsCertificate) cert = g_tls_certificate_new_from_pem(pem, -1, &err);
  if (!cert) {
    g_set_error(error, TG_TLS_VERIFY_ERROR, TG_TLS_VERIFY_ERROR_UNTRUSTED,
                "unreadable server certificate: %s", err->message);
    return FALSE;
  }
  g_autoptr(GTlsDatabase) db = database_for(ca_file, error);
  if (!db)
    return FALSE;
  g_autoptr(GSocketConnectable) id = g_network_address_new(host, (guint16)port);
  GTlsCertificateFlags flags = g_tls_database_verify_chain(
      db, cert, G_TLS_DATABASE_PURPOSE_AUTHENTICATE_SERVER, id, NULL,
      G_TLS_DATABASE_VERIFY_NONE, NULL, &err);
  if (err || flags != 0) {
    const GTlsCertificateFlags known = G_TLS_CERTIFICATE_UNKNOWN_CA |
                                       G_TLS_CERTIFICATE_BAD_IDENTITY |
                                       G_TLS_CERTIFICATE_EXPIRED |
                                       G_TLS_CERTIFICATE_NOT_ACTIVATED;
    g_set_error(error, TG_TLS_VERIFY_ERROR, TG_TLS_VERIFY_ERROR_UNTRUSTED,
                "server certificate not trusted (%s%s%s%s%s%s)%s%s",
                err ? err->message : "",
                flags & G_TLS_CERTIFICATE_UNKNOWN_CA ? " unknown CA" : "",
                flags & G_TLS_CERTIFICATE_BAD_IDENTITY ? " name mismatch" : "",
                flags & G_TLS_CERTIFICATE_EXPIRED ? " expired" : "",
                flags & G_TLS_CERTIFICATE_NOT_ACTIVATED ? " not yet valid" : "",
                flags & ~known ? " other problem" : "",
                ca_file && ca_file[0] ? " checked against ca_file " : "",
                ca_file && ca_file[0] ? ca_file : "");
    return FALSE;
  }
  return TRUE;
}
