/* tls_verify.h - check a libetpan TLS peer's certificate, for IMAP and SMTP.
 *
 * PURPOSE
 *   libetpan (on GnuTLS or OpenSSL) completes a TLS handshake without
 *   looking at the certificate.  After the handshake, and before any
 *   credential is sent, the client calls tg_tls_verify_peer(): the chain
 *   the server sent (mailstream_get_certificate_chain) becomes a
 *   GTlsCertificate chain that a GIO TLS database verifies for the host
 *   name (or IP address) the client connected to.  The database is the
 *   system trust store, or - when CA_FILE is set - only the PEM bundle in
 *   CA_FILE (a private CA, or the smarthost's own self-signed certificate).
 *   tg_tls_verify_sni() is the libetpan SSL-context callback that sends the
 *   host name as SNI (not for IP literals).
 *
 * PUBLIC FUNCTIONS
 *   tg_tls_verify_peer()   TRUE when the chain verifies for HOST
 *   tg_tls_verify_sni()    mailstream_ssl_context callback, DATA = host
 *
 * DIAGNOSTICS
 *   FALSE with TG_TLS_VERIFY_ERROR_UNTRUSTED and a message that does not
 *   name the peer (the caller prefixes its own: "smarthost a:587: ...",
 *   "imap account 'x' (...): ..."), e.g.
 *     server certificate not trusted (unknown CA name mismatch)
 *     ca_file /etc/x.pem: <why it cannot be read>
 *     the server sent no certificate
 *
 * OWNERSHIP
 *   Everything is borrowed; nothing is kept after the call.
 *
 * SECURITY
 *   The chain is peer data: it is only handed to the TLS library's parser
 *   and verifier, and only flags (never certificate text) reach the log.
 *   A failure must end the connection before the caller writes anything
 *   else on it.
 */
#ifndef TG_TLS_VERIFY_H
#define TG_TLS_VERIFY_H

#include <glib.h>
#include <libetpan/libetpan.h>

#define TG_TLS_VERIFY_ERROR (tg_tls_verify_error_quark())
GQuark tg_tls_verify_error_quark(void);
typedef enum { TG_TLS_VERIFY_ERROR_UNTRUSTED } TgTlsVerifyError;

/* Verifies the certificate chain of STREAM (after the TLS handshake) for
 * HOST:PORT against CA_FILE (PEM; NULL or "" = the system trust store). */
gboolean tg_tls_verify_peer(mailstream *stream, const char *host, guint port,
                            const char *ca_file, GError **error);

/* libetpan SSL-context callback: SNI for DATA, a host name (const char *,
 * borrowed; IP literals are skipped). */
void tg_tls_verify_sni(struct mailstream_ssl_context *ctx, void *data);

#endif
