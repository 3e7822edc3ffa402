/* smtp_error.c - internal errors to SMTP replies (contract in
 * smtp_error.h).  This is the only switch that chooses a reply code for
 * an internal failure; keep it that way.
 */
#include "gateway/smtp_error.h"
#include "spool/spool.h"

#include <errno.h>
#include <string.h>

char *tg_smtp_error_reply(TgSmtpError err, const char *hostname) {
  const char *h = hostname ? hostname : "localhost";
  switch (err) {
  case TG_SMTP_OK:
    return g_strdup("250 2.0.0 Ok");
  case TG_SMTP_ERR_TOO_BIG:
    return g_strdup("552 5.3.4 Message size exceeds fixed maximum message size");
  case TG_SMTP_ERR_TEMP:
    return g_strdup("451 4.3.0 Temporary internal error, try again later");
  case TG_SMTP_ERR_NO_SPACE:
    return g_strdup("452 4.3.1 Insufficient system storage, try again later");
  case TG_SMTP_ERR_SHUTDOWN:
    return g_strdup_printf("421 4.3.2 %s Service shutting down", h);
  case TG_SMTP_ERR_IDLE_TIMEOUT:
    return g_strdup_printf("421 4.4.2 %s Error: timeout exceeded", h);
  case TG_SMTP_ERR_SESSION_TIMEOUT:
    return g_strdup_printf("421 4.4.2 %s Error: session time limit exceeded", h);
  case TG_SMTP_ERR_TOO_MANY_SESSIONS:
    return g_strdup_printf("421 4.7.0 %s Error: too many connections", h);
  case TG_SMTP_ERR_TOO_MANY_FROM_CLIENT:
    return g_strdup_printf("421 4.7.0 %s Error: too many connections from your address", h);
  case TG_SMTP_ERR_TOO_MANY_ERRORS:
    return g_strdup_printf("421 4.7.0 %s Error: too many errors", h);
  case TG_SMTP_ERR_TOO_MANY_COMMANDS:
    return g_strdup_printf("421 4.7.0 %s Error: too many commands", h);
  case TG_SMTP_ERR_LINE_TOO_LONG:
    return g_strdup("500 5.5.0 Error: line too long");
  case TG_SMTP_ERR_TLS_FAILED:
    return g_strdup("454 4.7.0 TLS not available due to temporary reason");
  }
  g_error("tg_smtp_error_reply: impossible error code %d", (int)err);
}

gboolean tg_smtp_error_closes(TgSmtpError err) {
  switch (err) {
  case TG_SMTP_ERR_SHUTDOWN:
  case TG_SMTP_ERR_IDLE_TIMEOUT:
  case TG_SMTP_ERR_SESSION_TIMEOUT:
  case TG_SMTP_ERR_TOO_MANY_SESSIONS:
  case TG_SMTP_ERR_TOO_MANY_FROM_CLIENT:
  case TG_SMTP_ERR_TOO_MANY_ERRORS:
  case TG_SMTP_ERR_TOO_MANY_COMMANDS:
  case TG_SMTP_ERR_LINE_TOO_LONG:
    return TRUE;
  default:
    return FALSE;
  }
}

const char *tg_smtp_error_name(TgSmtpError err) {
  static const char *const names[] = {
      "ok", "too-big", "temp", "no-space", "shutdown", "idle-timeout",
      "session-timeout", "too-many-sessions", "too-many-from-client",
      "too-many-errors", "too-many-commands", "line-too-long", "tls-failed"};
  if ((guint)err >= G_N_ELEMENTS(names))
    g_error("tg_smtp_error_name: impossible error code %d", (int)err);
  return names[err];
}

TgSmtpError tg_smtp_error_from_gerror(const GError *error) {
  if (!error)
    return TG_SMTP_ERR_TEMP;
  if (g_error_matches(error, TG_SPOOL_ERROR, TG_SPOOL_ERROR_TOO_BIG))
    return TG_SMTP_ERR_TOO_BIG;
  if (g_error_matches(error, TG_SPOOL_ERROR, TG_SPOOL_ERROR_NO_SPACE))
    return TG_SMTP_ERR_NO_SPACE;
  return TG_SMTP_ERR_TEMP;
}
