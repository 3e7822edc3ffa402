/* smtp_send.h - hand one message to the smarthost with libetpan's SMTP client.
 *
 * PURPOSE
 *   Connect (plain, STARTTLS or implicit TLS), EHLO (HELO if refused),
 *   AUTH when a user is configured, MAIL FROM, RCPT TO, DATA, QUIT.  One
 *   connection per message: the outbound rate of a support desk is low and
 *   a broken connection then costs one message, never a batch.
 *
 * PUBLIC FUNCTIONS
 *   tg_smtp_send_target_parse()  "host:port" ([v6]:port) -> host, port
 *   tg_smtp_send()               deliver one message
 *
 * DIAGNOSTICS
 *   TG_SMTP_SEND_ERROR_TEMP: a 4xx reply, or no usable connection (refused,
 *   timeout, dropped, TLS failure, certificate not trusted, STARTTLS not
 *   offered) - retry later.
 *   TG_SMTP_SEND_ERROR_PERM: a 5xx reply - the notice fails for good.  The
 *   message names the stage and quotes the server's reply.
 *
 * SECURITY
 *   STARTTLS is required when configured (no silent fallback to plain
 *   text).  With tls_verify (the default) the certificate chain the
 *   smarthost sent is checked for its host name against the system trust
 *   store or ca_file (gateway/tls_verify.h) right after the handshake -
 *   before EHLO, AUTH or any envelope is sent; a certificate that does not
 *   verify is a TEMP error naming the smarthost and the reason, so the
 *   notice waits for the operator to fix the trust (or the attacker to go
 *   away).  The message bytes are ours (composed, sanitized); libetpan
 *   dot-stuffs them and sends CRLF line ends.
 */
#ifndef TG_SMTP_SEND_H
#define TG_SMTP_SEND_H

#include <glib.h>

#define TG_SMTP_SEND_ERROR (tg_smtp_send_error_quark())
GQuark tg_smtp_send_error_quark(void);
typedef enum { TG_SMTP_SEND_ERROR_TEMP, TG_SMTP_SEND_ERROR_PERM } TgSmtpSendError;

typedef struct {
  const char *host;
  guint port;
  const char *tls;      /* none | starttls | implicit */
  const char *user;     /* "" or NULL: no AUTH */
  const char *password;
  guint timeout;        /* seconds per read/write */
  gboolean tls_verify;  /* check the certificate (tls = starttls|implicit) */
  const char *ca_file;  /* "" or NULL: the system trust store */
} TgSmtpTarget;

/* Splits SPEC ("host", "host:port", "[::1]:port"); port 25 by default.
 * *HOST_R (transfer full). */
gboolean tg_smtp_send_target_parse(const char *spec, char **host_r, guint *port_r,
                                   GError **error);

/* Sends MESSAGE (LF or CRLF line ends) from FROM to RCPT.  *REPLY_R (may be
 * NULL) gets the server's last reply line on success (transfer full). */
gboolean tg_smtp_send(const TgSmtpTarget *t, const char *from, const char *rcpt,
                      GBytes *message, char **reply_r, GError **error);

#endif
