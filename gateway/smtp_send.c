/* smtp_send.c - one message to the smarthost (contract in smtp_send.h). */
#include "gateway/smtp_send.h"
#include "gateway/tls_verify.h"

#include <libetpan/libetpan.h>
#include <signal.h>
#include <string.h>


/* The server's last reply, one line, bounded. */
static char *reply_text(mailsmtp *smtp) {
  g_autofree char *r = g_strndup(smtp->response ? smtp->response : "", 300);
  for (char *p = r; *p; p++)
    if ((guchar)*p < 0x20 || (guchar)*p == 0x7f)
      *p = ' ';
  return g_strdup_printf("%d %s", smtp->response_code, g_strstrip(r));
}

static gboolean stage_failed(mailsmtp *smtp, int rc, const char *stage, GError **error) {
  gboolean transport = rc == MAILSMTP_ERROR_STREAM || rc == MAILSMTP_ERROR_CONNECTION_REFUSED ||
                       rc == MAILSMTP_ERROR_SSL || rc == MAILSMTP_ERROR_MEMORY ||
                       rc == MAILSMTP_ERROR_HOSTNAME;
  if (transport) {
    g_set_error(error, TG_SMTP_SEND_ERROR, TG_SMTP_SEND_ERROR_TEMP,
                "%s: connection failed (libetpan error %d)", stage, rc);
    return FALSE;
  }
  int code = smtp->response_code;
  g_autofree char *reply = reply_text(smtp);
  g_set_error(error, TG_SMTP_SEND_ERROR,
              code >= 500 && code <= 599 ? TG_SMTP_SEND_ERROR_PERM : TG_SMTP_SEND_ERROR_TEMP,
              "%s: %s", stage, reply);
  return FALSE;
}

/* The certificate check after a TLS handshake; nothing has been sent on
 * the encrypted channel yet. */
static gboolean verify_peer(mailsmtp *smtp, const TgSmtpTarget *t, GError **error) {
  if (!t->tls_verify)
    return TRUE;
  g_autoptr(GError) err = NULL;
  if (tg_tls_verify_peer(smtp->stream, t->host, t->port, t->ca_file, &err))
    return TRUE;
  g_set_error(error, TG_SMTP_SEND_ERROR, TG_SMTP_SEND_ERROR_TEMP,
              "TLS: smarthost %s:%u: %s ([outbound] tls_verify = true)", t->host,
              t->port, err->message);
  /* Not even QUIT to an unverified peer (mailsmtp_free would send one). */
  mailstream_close(smtp->stream);
  smtp->stream = NULL;
  return FALSE;
}

static gboolean converse(mailsmtp *smtp, const TgSmtpTarget *t, const char *from,
                         const char *rcpt, GBytes *message, char **reply_r, GError **error) {
  gboolean implicit = t->tls && strcmp(t->tls, "implicit") == 0;
  gboolean starttls = t->tls && strcmp(t->tls, "starttls") == 0;
  int rc = implicit ? mailsmtp_ssl_connect_with_callback(smtp, t->host, (uint16_t)t->port,
                                                        tg_tls_verify_sni, (void *)t->host)
                    : mailsmtp_socket_connect(smtp, t->host, (uint16_t)t->port);
  if (rc != MAILSMTP_NO_ERROR)
    return stage_failed(smtp, rc, "connect", error);
  if (implicit && !verify_peer(smtp, t, error))
    return FALSE;
  if ((rc = mailsmtp_init(smtp)) != MAILSMTP_NO_ERROR)
    return stage_failed(smtp, rc, "EHLO", error);
  if (starttls) {
    if (!(smtp->esmtp & MAILSMTP_ESMTP_STARTTLS)) {
      g_set_error(error, TG_SMTP_SEND_ERROR, TG_SMTP_SEND_ERROR_TEMP,
                  "STARTTLS: %s:%u does not offer it ([outbound] tls = starttls)", t->host,
                  t->port);
      return FALSE;
    }
    if ((rc = mailsmtp_socket_starttls_with_callback(smtp, tg_tls_verify_sni,
                                                     (void *)t->host)) != MAILSMTP_NO_ERROR)
      return stage_failed(smtp, rc, "STARTTLS", error);
    if (!verify_peer(smtp, t, error))
      return FALSE;
    if ((rc = mailesmtp_ehlo(smtp)) != MAILSMTP_NO_ERROR)
      return stage_failed(smtp, rc, "EHLO after STARTTLS", error);
  }
  if (t->user && t->user[0] &&
      (rc = mailsmtp_auth(smtp, t->user, t->password ? t->password : "")) != MAILSMTP_NO_ERROR)
    return stage_failed(smtp, rc, "AUTH", error);
  if ((rc = mailsmtp_mail(smtp, from)) != MAILSMTP_NO_ERROR)
    return stage_failed(smtp, rc, "MAIL FROM", error);
  if ((rc = mailsmtp_rcpt(smtp, rcpt)) != MAILSMTP_NO_ERROR)
    return stage_failed(smtp, rc, "RCPT TO", error);
  if ((rc = mailsmtp_data(smtp)) != MAILSMTP_NO_ERROR)
    return stage_failed(smtp, rc, "DATA", error);
  gsize len = 0;
  const char *data = g_bytes_get_data(message, &len);
  if ((rc = mailsmtp_data_message(smtp, data, len)) != MAILSMTP_NO_ERROR)
    return stage_failed(smtp, rc, "end of DATA", error);
  if (reply_r)
    *reply_r = reply_text(smtp);
  mailsmtp_quit(smtp); /* accepted already; a failed QUIT changes nothing */
  return TRUE;
}

gboolean tg_smtp_send(const TgSmtpTarget *t, const char *from, const char *rcpt,
                      GBytes *message, char **reply_r, GError **error) {
  /* A peer closing mid-write must be an error return, not SIGPIPE. */
  signal(SIGPIPE, SIG_IGN);
  mailsmtp *smtp = mailsmtp_new(0, NULL);
  if (!smtp) {
    g_set_error(error, TG_SMTP_SEND_ERROR, TG_SMTP_SEND_ERROR_TEMP, "mailsmtp_new failed");
    return FALSE;
  }
  mailsmtp_set_timeout(smtp, t->timeout ? t->timeout : 60);
  gboolean ok = converse(smtp, t, from, rcpt, message, reply_r, error);
  mailsmtp_free(smtp);
  return ok;
}
