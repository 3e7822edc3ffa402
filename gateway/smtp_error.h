/* smtp_error.h - what can go wrong in an SMTP/LMTP transaction or
 * session, and the one place that turns it into a reply (STYLE rule 5).
 *
 * The session and the server speak TgSmtpError among themselves; only
 * tg_smtp_error_reply() knows the reply text.  The log gets the detail
 * (the GError message), the peer gets a generic text.
 *
 * tg_smtp_error_from_gerror() classifies a spool failure: over the size
 * limit, out of space (ENOSPC, EDQUOT or the spool_min_free reserve), or
 * any other temporary failure.
 */
#ifndef TG_SMTP_ERROR_H
#define TG_SMTP_ERROR_H

#include <glib.h>

typedef enum {
  TG_SMTP_OK = 0,
  TG_SMTP_ERR_TOO_BIG,       /* 552 5.3.4: over [limits] message_size */
  TG_SMTP_ERR_TEMP,          /* 451 4.3.0: spool or other internal failure */
  TG_SMTP_ERR_NO_SPACE,      /* 452 4.3.1: spool disk full or below reserve */
  TG_SMTP_ERR_SHUTDOWN,      /* 421 4.3.2: daemon stopping */
  TG_SMTP_ERR_IDLE_TIMEOUT,  /* 421 4.4.2: no command within idle_timeout */
  TG_SMTP_ERR_SESSION_TIMEOUT, /* 421 4.4.2: session_timeout reached */
  TG_SMTP_ERR_TOO_MANY_SESSIONS, /* 421 4.7.0: max_sessions reached */
  TG_SMTP_ERR_TOO_MANY_FROM_CLIENT, /* 421 4.7.0: max_sessions_per_client */
  TG_SMTP_ERR_TOO_MANY_ERRORS,   /* 421 4.7.0: max_errors reached */
  TG_SMTP_ERR_TOO_MANY_COMMANDS, /* 421 4.7.0: max_commands without MAIL */
  TG_SMTP_ERR_LINE_TOO_LONG, /* 500 5.5.0: command line over max_line */
  TG_SMTP_ERR_TLS_FAILED,    /* 454 4.7.0: certificate could not be used */
} TgSmtpError;

/* The reply line for ERR without CRLF, e.g. "451 4.3.0 Temporary internal
 * error".  HOSTNAME is used in 421 replies.  (transfer full) */
char *tg_smtp_error_reply(TgSmtpError err, const char *hostname);
/* TRUE when the session must close after sending ERR's reply. */
gboolean tg_smtp_error_closes(TgSmtpError err);
/* Short name for logs ("too-big", "no-space", ...).  (transfer none) */
const char *tg_smtp_error_name(TgSmtpError err);
/* Classifies a spool GError (TG_SPOOL_ERROR_*). */
TgSmtpError tg_smtp_error_from_gerror(const GError *error);

#endif
