/* smtp_server.h - the SMTP and LMTP listeners of `serve`: sockets, TLS,
 * timers and connection limits around tg_smtp_session.
 *
 * tg_smtp_server_new() binds every [smtp] listen and [lmtp] listen
 * address (IPv4 and IPv6, several of each) and loads the TLS certificate
 * when tls_cert/tls_key are set; it fails if any of that fails.  Sessions
 * run on the thread-default GMainContext.  Each accepted message is
 * written to the spool with TG_SPOOL_COMMIT_DEFER and handed to the
 * group commit (smtp_commit.h); its 250 is sent only when that batch is
 * durable.
 *
 * Limits: max_sessions and max_sessions_per_client answer 421 4.7.0 at
 * connect; idle_timeout and session_timeout answer 421 4.4.2; the rest
 * are the session's (smtp_session.h).
 *
 * tg_smtp_server_shutdown() stops accepting, answers 421 to every
 * session that is not waiting for a commit (those get their reply first)
 * and closes them; tg_smtp_server_sessions() reaches 0 when all are gone.
 * tg_smtp_server_reload() applies a new configuration to new sessions
 * (limits, addresses, certificate); listen addresses need a restart.
 *
 * Ownership: CFG is borrowed and must outlive the server or the next
 * reload; COMMIT is borrowed.
 *
 * SECURITY: the peer controls every byte read; see smtp_session.h.  The
 * listener only writes into the spool's tmp/ through the spool writer.
 */
#ifndef TG_SMTP_SERVER_H
#define TG_SMTP_SERVER_H

#include "gateway/config.h"
#include "gateway/smtp_commit.h"

#include <glib.h>

typedef struct TgSmtpServer TgSmtpServer;

/* (transfer full) */
TgSmtpServer *tg_smtp_server_new(const TgConfig *cfg, TgSmtpCommit *commit,
                                 GError **error);
gboolean tg_smtp_server_reload(TgSmtpServer *srv, const TgConfig *cfg,
                               GError **error);
void tg_smtp_server_shutdown(TgSmtpServer *srv);
guint tg_smtp_server_sessions(TgSmtpServer *srv);
void tg_smtp_server_free(TgSmtpServer *srv);

#endif
