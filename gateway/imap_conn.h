/* imap_conn.h - one authenticated IMAP connection for an [imap:NAME] account.
 *
 * tg_imap_conn_open() connects (implicit TLS, STARTTLS, or plain TCP for
 * loopback hosts - the config refuses `tls = none` elsewhere), checks the
 * server certificate and the host name against the system trust store, or
 * the account's ca_file, when tls_verify is on (gateway/tls_verify.h),
 * logs in and reads the capabilities.  Every
 * network operation, the TCP connect and the TLS handshake included, is
 * bounded by the account's `timeout` (libetpan's mailimap_set_timeout).
 *
 * Errors are TG_IMAP_ERROR and always name the account, as in
 *   imap account 'support' (alice@imap.example.com:993): login refused: ...
 * TG_IMAP_ERROR_AUTH is a refused login (wrong password): the caller keeps
 * other accounts going and retries this one later.  All IMAP errors are
 * temporary for the gateway: the messages stay on the server.
 *
 * SECURITY: the password is sent only after TLS is up, or on loopback
 * with tls = none; it is never logged.  Server text quoted in errors goes
 * through tg_log(), which neutralises control characters.
 */
#ifndef TG_IMAP_CONN_H
#define TG_IMAP_CONN_H

#include "gateway/config.h"

#include <glib.h>
#include <libetpan/libetpan.h>

#define TG_IMAP_ERROR (tg_imap_error_quark())
GQuark tg_imap_error_quark(void);

typedef enum {
  TG_IMAP_ERROR_CONNECT,   /* TCP connect, DNS, timeout, dropped connection */
  TG_IMAP_ERROR_TLS,       /* handshake failed or certificate not trusted */
  TG_IMAP_ERROR_AUTH,      /* login refused */
  TG_IMAP_ERROR_PROTOCOL,  /* a command failed (NO/BAD/unparsable answer) */
  TG_IMAP_ERROR_SPOOL,     /* the local spool or store refused: try later */
} TgImapErrorCode;

typedef struct TgImapConn TgImapConn;

/* (transfer full); ACCOUNT is borrowed and must outlive the connection. */
TgImapConn *tg_imap_conn_open(const TgImapAccount *account, GError **error);
/* Logs out politely when the connection is still usable, then frees. */
void tg_imap_conn_free(TgImapConn *conn);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TgImapConn, tg_imap_conn_free)

/* (transfer none) */
mailimap *tg_imap_conn_session(TgImapConn *conn);
const TgImapAccount *tg_imap_conn_account(TgImapConn *conn);
/* Capability advertised by the server after login (case-insensitive). */
gboolean tg_imap_conn_has_cap_ok(TgImapConn *conn, const char *cap);
/* Marks the connection broken (no LOGOUT on free; caller reconnects). */
void tg_imap_conn_set_broken(TgImapConn *conn);
gboolean tg_imap_conn_broken_ok(TgImapConn *conn);

/* Sets ERROR for libetpan result RC of command WHAT, naming the account
 * and quoting the server's answer; stream errors mark the connection
 * broken.  Always returns FALSE. */
gboolean tg_imap_conn_fail(TgImapConn *conn, int rc, const char *what,
                           GError **error);

#endif
