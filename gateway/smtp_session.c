/* smtp_session.c - the SMTP/LMTP state machine (contract in
 * smtp_session.h).
 *
 * States: CMD (commands), DATA (body lines until the dot), WAIT (body
 * handed to msg_end, waiting for message_done), TLS (220 to STARTTLS
 * sent, waiting for tls_done), CLOSED (flush and close).  Input that
 * arrives while in WAIT stays buffered and is processed after the reply,
 * which is what PIPELINING needs.
 *
 * DIAGNOSTICS: protocol errors get a reply and count towards max_errors;
 * the session logs nothing itself except at debug level; the server logs
 * connection and message outcomes.
 */
#include "gateway/smtp_session.h"
#include "gateway/log.h"
#include "tickets/thread.h"

#include <string.h>

#define MIN_LINE 512
#define DATA_PIECE (64 * 1024) /* body bytes buffered without a newline */
#define MAX_ADDRESS 512

typedef enum { ST_CMD, ST_DATA, ST_WAIT, ST_TLS, ST_CLOSED } State;

struct TgSmtpSession {
  TgSmtpProto proto;
  TgSmtpSessionConfig cfg;
  char *client;
  const TgSmtpSessionOps *ops;
  gpointer user;
  State state;
  GByteArray *in;
  gboolean in_process;
  /* session */
  gboolean helo_seen;
  gboolean tls_active;
  guint commands; /* since the last MAIL */
  guint errors;
  guint messages;
  TgSmtpError pending_close; /* answer after message_done() */
  /* transaction */
  char *sender;
  GPtrArray *rcpts; /* char*, NULL-terminated view built on demand */
  gpointer msg;
  guint64 size;
  TgSmtpError msg_err;
  gboolean bol; /* the next body byte starts a line */
};

/* -------- output -------- */

static void send_line(TgSmtpSession *s, const char *line) {
  g_autofree char *l = g_strconcat(line, "\r\n", NULL);
  s->ops->send(s->user, l, strlen(l));
}

static void reply(TgSmtpSession *s, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void reply(TgSmtpSession *s, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *line = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  send_line(s, line);
}

static void close_with(TgSmtpSession *s, TgSmtpError err) {
  g_autofree char *line = tg_smtp_error_reply(err, s->cfg.hostname);
  send_line(s, line);
  s->state = ST_CLOSED;
}

/* An error reply the peer caused; too many of them end the session. */
static void error_reply(TgSmtpSession *s, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void error_reply(TgSmtpSession *s, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *line = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  send_line(s, line);
  if (++s->errors >= s->cfg.max_errors && s->cfg.max_errors > 0)
    close_with(s, TG_SMTP_ERR_TOO_MANY_ERRORS);
}

/* -------- transaction -------- */

static void tx_reset(TgSmtpSession *s) {
  if (s->msg) {
    s->ops->msg_abort(s->user, s->msg);
    s->msg = NULL;
  }
  g_clear_pointer(&s->sender, g_free);
  g_ptr_array_set_size(s->rcpts, 0);
  s->size = 0;
  s->msg_err = TG_SMTP_OK;
}

TgSmtpSession *tg_smtp_session_new(TgSmtpProto proto,
                                   const TgSmtpSessionConfig *cfg,
                                   const char *client,
                                   const TgSmtpSessionOps *ops, gpointer user) {
  TgSmtpSession *s = g_new0(TgSmtpSession, 1);
  s->proto = proto;
  s->cfg = *cfg;
  if (s->cfg.max_line < MIN_LINE)
    s->cfg.max_line = MIN_LINE;
  s->client = g_strdup(client ? client : "unknown");
  s->ops = ops;
  s->user = user;
  s->state = ST_CMD;
  s->in = g_byte_array_new();
  s->rcpts = g_ptr_array_new_with_free_func(g_free);
  return s;
}

void tg_smtp_session_free(TgSmtpSession *s) {
  if (!s)
    return;
  tx_reset(s);
  g_byte_array_unref(s->in);
  g_ptr_array_unref(s->rcpts);
  g_free(s->client);
  g_free(s);
}

void tg_smtp_session_start(TgSmtpSession *s) {
  reply(s, "220 %s %s ticketgate", s->cfg.hostname,
        s->proto == TG_SMTP_PROTO_LMTP ? "LMTP" : "ESMTP");
}

/* -------- command parsing -------- */

static gboolean address_ok(const char *a, gboolean utf8_allowed) {
  gsize len = strlen(a);
  if (len > MAX_ADDRESS || !g_utf8_validate(a, (gssize)len, NULL))
    return FALSE;
  for (const unsigned char *p = (const unsigned char *)a; *p; p++) {
    if (*p <= ' ' || *p == 0x7f || *p == '<' || *p == '>')
      return FALSE;
    if (*p >= 0x80 && !utf8_allowed)
      return FALSE;
  }
  return TRUE;
}

/* Parses "<addr> params" after "FROM:" / "TO:".  Returns the address
 * (transfer full) and points *PARAMS_R at the rest, or NULL. */
static char *parse_path(const char *arg, const char **params_r) {
  while (*arg == ' ')
    arg++;
  if (*arg != '<')
    return NULL;
  const char *close = strchr(arg, '>');
  if (!close)
    return NULL;
  const char *inner = arg + 1;
  /* Drop an RFC 5321 source route "@a,@b:". */
  if (*inner == '@') {
    const char *colon = memchr(inner, ':', (gsize)(close - inner));
    if (!colon)
      return NULL;
    inner = colon + 1;
  }
  const char *p = close + 1;
  if (*p && *p != ' ')
    return NULL;
  while (*p == ' ')
    p++;
  *params_r = p;
  return g_strndup(inner, (gsize)(close - inner));
}

static gboolean has_prefix_ci(const char *s, const char *prefix) {
  return g_ascii_strncasecmp(s, prefix, strlen(prefix)) == 0;
}

static void do_helo(TgSmtpSession *s, const char *verb, const char *arg) {
  gboolean ext = g_ascii_strcasecmp(verb, "HELO") != 0;
  if (!*arg) {
    error_reply(s, "501 5.5.4 Syntax: %s hostname", verb);
    return;
  }
  tx_reset(s);
  s->helo_seen = TRUE;
  if (!ext) {
    reply(s, "250 %s", s->cfg.hostname);
    return;
  }
  g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func(g_free);
  g_ptr_array_add(lines, g_strdup(s->cfg.hostname));
  g_ptr_array_add(lines, g_strdup("PIPELINING"));
  g_ptr_array_add(lines, g_strdup_printf("SIZE %" G_GUINT64_FORMAT, s->cfg.message_size));
  g_ptr_array_add(lines, g_strdup("8BITMIME"));
  g_ptr_array_add(lines, g_strdup("ENHANCEDSTATUSCODES"));
  g_ptr_array_add(lines, g_strdup("SMTPUTF8"));
  if (s->cfg.tls_available && !s->tls_active)
    g_ptr_array_add(lines, g_strdup("STARTTLS"));
  GString *out = g_string_new(NULL);
  for (guint i = 0; i < lines->len; i++)
    g_string_append_printf(out, "250%c%s\r\n", i + 1 < lines->len ? '-' : ' ',
                           (char *)g_ptr_array_index(lines, i));
  s->ops->send(s->user, out->str, out->len);
  g_string_free(out, TRUE);
}

static void do_mail(TgSmtpSession *s, const char *arg) {
  if (!s->helo_seen) {
    error_reply(s, "503 5.5.1 Error: send %s first",
                s->proto == TG_SMTP_PROTO_LMTP ? "LHLO" : "HELO/EHLO");
    return;
  }
  if (s->sender) {
    error_reply(s, "503 5.5.1 Error: nested MAIL command");
    return;
  }
  const char *params = NULL;
  g_autofree char *addr = has_prefix_ci(arg, "FROM:") ? parse_path(arg + 5, &params) : NULL;
  if (!addr) {
    error_reply(s, "501 5.5.4 Syntax: MAIL FROM:<address>");
    return;
  }
  gboolean utf8 = FALSE;
  guint64 declared = 0;
  g_auto(GStrv) words = g_strsplit(params, " ", -1);
  for (guint i = 0; words[i]; i++) {
    const char *w = words[i];
    if (!*w)
      continue;
    if (has_prefix_ci(w, "SIZE=")) {
      char *end;
      if (!g_ascii_isdigit(w[5])) {
        error_reply(s, "501 5.5.4 Bad SIZE parameter");
        return;
      }
      declared = g_ascii_strtoull(w + 5, &end, 10);
      if (*end) {
        error_reply(s, "501 5.5.4 Bad SIZE parameter");
        return;
      }
    } else if (g_ascii_strcasecmp(w, "BODY=8BITMIME") == 0 ||
               g_ascii_strcasecmp(w, "BODY=7BIT") == 0) {
    } else if (g_ascii_strcasecmp(w, "SMTPUTF8") == 0) {
      utf8 = TRUE;
    } else {
      error_reply(s, "555 5.5.4 Unsupported option: %.64s", w);
      return;
    }
  }
  if (*addr && !address_ok(addr, utf8)) {
    error_reply(s, utf8 ? "553 5.1.7 Bad sender address syntax"
                        : "553 5.6.7 Non-ASCII or bad sender address (SMTPUTF8 needed)");
    return;
  }
  if (declared > s->cfg.message_size) {
    g_autofree char *line = tg_smtp_error_reply(TG_SMTP_ERR_TOO_BIG, s->cfg.hostname);
    send_line(s, line);
    return;
  }
  s->sender = g_steal_pointer(&addr);
  s->commands = 0;
  reply(s, "250 2.1.0 Ok");
}

static void do_rcpt(TgSmtpSession *s, const char *arg) {
  if (!s->sender) {
    error_reply(s, "503 5.5.1 Error: need MAIL command");
    return;
  }
  const char *params = NULL;
  g_autofree char *addr = has_prefix_ci(arg, "TO:") ? parse_path(arg + 3, &params) : NULL;
  if (!addr || !*addr || !address_ok(addr, TRUE)) {
    error_reply(s, "501 5.5.4 Syntax: RCPT TO:<address>");
    return;
  }
  if (*params) {
    error_reply(s, "555 5.5.4 Unsupported option: %.64s", params);
    return;
  }
  if (!tg_thread_is_support_address(addr, s->cfg.addresses)) {
    error_reply(s, "550 5.1.1 <%s>: Recipient address rejected: User unknown", addr);
    return;
  }
  if (s->rcpts->len >= s->cfg.max_recipients) {
    reply(s, "452 4.5.3 Error: too many recipients");
    return;
  }
  g_ptr_array_add(s->rcpts, g_steal_pointer(&addr));
  reply(s, "250 2.1.5 Ok");
}

static void do_data(TgSmtpSession *s, const char *arg) {
  if (*arg) {
    error_reply(s, "501 5.5.4 Syntax: DATA");
    return;
  }
  if (!s->sender) {
    error_reply(s, "503 5.5.1 Error: need MAIL command");
    return;
  }
  if (s->rcpts->len == 0) {
    error_reply(s, "554 5.5.1 Error: no valid recipients");
    return;
  }
  g_ptr_array_add(s->rcpts, NULL);
  TgSmtpError err = TG_SMTP_OK;
  s->msg = s->ops->msg_begin(s->user, s->sender,
                             (const char *const *)s->rcpts->pdata, &err);
  g_ptr_array_set_size(s->rcpts, s->rcpts->len - 1);
  if (!s->msg) {
    g_autofree char *line = tg_smtp_error_reply(err == TG_SMTP_OK ? TG_SMTP_ERR_TEMP : err,
                                                s->cfg.hostname);
    send_line(s, line);
    tx_reset(s);
    return;
  }
  s->size = 0;
  s->msg_err = TG_SMTP_OK;
  s->bol = TRUE;
  s->state = ST_DATA;
  reply(s, "354 End data with <CR><LF>.<CR><LF>");
}

static void do_starttls(TgSmtpSession *s, const char *arg) {
  if (!s->cfg.tls_available || s->tls_active || !s->ops->starttls) {
    error_reply(s, "502 5.5.1 Error: command not implemented");
    return;
  }
  if (*arg) {
    error_reply(s, "501 5.5.4 Syntax: STARTTLS");
    return;
  }
  if (s->sender) {
    error_reply(s, "503 5.5.1 Error: MAIL transaction in progress");
    return;
  }
  reply(s, "220 2.0.0 Ready to start TLS");
  s->state = ST_TLS;
  /* Whatever the client pipelined after STARTTLS is plaintext injection. */
  g_byte_array_set_size(s->in, 0);
  s->ops->starttls(s->user);
}

static void do_command(TgSmtpSession *s, char *line, gsize len) {
  if (memchr(line, 0, len)) {
    error_reply(s, "500 5.5.2 Error: NUL character in command");
    return;
  }
  char *sp = strchr(line, ' ');
  const char *arg = "";
  if (sp) {
    *sp = 0;
    arg = sp + 1;
  }
  const char *verb = line;
  gboolean lmtp = s->proto == TG_SMTP_PROTO_LMTP;
  gboolean tx = g_ascii_strcasecmp(verb, "MAIL") == 0 ||
                g_ascii_strcasecmp(verb, "RCPT") == 0 ||
                g_ascii_strcasecmp(verb, "DATA") == 0 ||
                g_ascii_strcasecmp(verb, "QUIT") == 0;
  if (!tx && s->cfg.max_commands > 0 && ++s->commands > s->cfg.max_commands) {
    close_with(s, TG_SMTP_ERR_TOO_MANY_COMMANDS);
    return;
  }
  if ((!lmtp && (g_ascii_strcasecmp(verb, "EHLO") == 0 ||
                 g_ascii_strcasecmp(verb, "HELO") == 0)) ||
      (lmtp && g_ascii_strcasecmp(verb, "LHLO") == 0))
    do_helo(s, verb, arg);
  else if (g_ascii_strcasecmp(verb, "MAIL") == 0)
    do_mail(s, arg);
  else if (g_ascii_strcasecmp(verb, "RCPT") == 0)
    do_rcpt(s, arg);
  else if (g_ascii_strcasecmp(verb, "DATA") == 0)
    do_data(s, arg);
  else if (g_ascii_strcasecmp(verb, "RSET") == 0) {
    tx_reset(s);
    reply(s, "250 2.0.0 Ok");
  } else if (g_ascii_strcasecmp(verb, "NOOP") == 0)
    reply(s, "250 2.0.0 Ok");
  else if (g_ascii_strcasecmp(verb, "QUIT") == 0) {
    reply(s, "221 2.0.0 Bye");
    s->state = ST_CLOSED;
  } else if (g_ascii_strcasecmp(verb, "VRFY") == 0)
    reply(s, "252 2.0.0 Cannot VRFY user, but will accept message");
  else if (g_ascii_strcasecmp(verb, "HELP") == 0)
    reply(s, "214 2.0.0 Commands: %s MAIL RCPT DATA RSET NOOP QUIT VRFY%s",
          lmtp ? "LHLO" : "HELO EHLO",
          s->cfg.tls_available && !s->tls_active ? " STARTTLS" : "");
  else if (g_ascii_strcasecmp(verb, "STARTTLS") == 0)
    do_starttls(s, arg);
  else
    error_reply(s, "500 5.5.2 Error: command not recognized");
}

/* -------- body -------- */

static void body_write(TgSmtpSession *s, const char *data, gsize len) {
  if (s->msg_err != TG_SMTP_OK || len == 0)
    return;
  /* Overflow-safe: size never exceeds message_size while msg_err is OK. */
  if (s->cfg.message_size - s->size < len) {
    s->msg_err = TG_SMTP_ERR_TOO_BIG;
    return;
  }
  s->size += len;
  s->msg_err = s->ops->msg_write(s->user, s->msg, data, len);
}

static void body_end(TgSmtpSession *s) {
  gpointer msg = g_steal_pointer(&s->msg);
  if (s->msg_err != TG_SMTP_OK) {
    s->ops->msg_abort(s->user, msg);
    g_autofree char *line = tg_smtp_error_reply(s->msg_err, s->cfg.hostname);
    guint n = s->proto == TG_SMTP_PROTO_LMTP ? s->rcpts->len : 1;
    for (guint i = 0; i < n; i++)
      send_line(s, line);
    tx_reset(s);
    s->state = ST_CMD;
    return;
  }
  s->state = ST_WAIT;
  s->ops->msg_end(s->user, msg);
}

/* One body line of LEN bytes; COMPLETE when it ended in LF (not part of
 * LEN, nor a CR before it). */
static void body_line(TgSmtpSession *s, const char *line, gsize len,
                      gboolean complete) {
  if (s->bol && line[0] == '.' && len >= 1) {
    if (len == 1 && complete) {
      body_end(s);
      return;
    }
    line++; /* dot-stuffing */
    len--;
  }
  if (complete) {
    /* Write line and LF in one go where possible. */
    g_autofree char *buf = g_malloc(len + 1);
    memcpy(buf, line, len);
    buf[len] = '\n';
    body_write(s, buf, len + 1);
  } else {
    body_write(s, line, len);
  }
  s->bol = complete;
}

/* -------- input -------- */

/* Handles one unit of input; returns FALSE when more bytes are needed or
 * the session is not in a state to take them. */
/* Removes the first USED bytes (one line, LF included) from the input and
 * returns them without the line end (CRLF or bare LF), NUL-terminated;
 * *LEN_R is the length.  (transfer full) */
static char *take_line(TgSmtpSession *s, gsize used, gsize *len_r) {
  const char *buf = (const char *)s->in->data;
  gsize len = used - 1;
  if (len > 0 && buf[len - 1] == '\r')
    len--;
  char *line = g_malloc(len + 1);
  memcpy(line, buf, len);
  line[len] = 0;
  g_byte_array_remove_range(s->in, 0, (guint)used);
  *len_r = len;
  return line;
}

static gboolean process_one(TgSmtpSession *s) {
  if (s->state != ST_CMD && s->state != ST_DATA)
    return FALSE;
  guint8 *buf = s->in->data;
  gsize avail = s->in->len;
  guint8 *lf = avail ? memchr(buf, '\n', avail) : NULL;
  if (s->state == ST_DATA) {
    if (!lf) {
      /* Keep a possible CR or lone "." for the next read. */
      if (avail < DATA_PIECE)
        return FALSE;
      gsize n = avail - 1; /* the last byte may be the CR of a CRLF */
      body_line(s, (const char *)buf, n, FALSE);
      g_byte_array_remove_range(s->in, 0, (guint)n);
      return TRUE;
    }
    gsize len;
    /* body_line may end the message: it gets a copy, not the buffer. */
    g_autofree char *line = take_line(s, (gsize)(lf - buf) + 1, &len);
    body_line(s, line, len, TRUE);
    return TRUE;
  }
  if (!lf) {
    if (avail >= s->cfg.max_line) {
      g_byte_array_set_size(s->in, 0);
      close_with(s, TG_SMTP_ERR_LINE_TOO_LONG);
    }
    return FALSE;
  }
  gsize used = (gsize)(lf - buf) + 1;
  if (used > s->cfg.max_line) {
    g_byte_array_set_size(s->in, 0);
    close_with(s, TG_SMTP_ERR_LINE_TOO_LONG);
    return FALSE;
  }
  gsize len;
  g_autofree char *line = take_line(s, used, &len);
  do_command(s, line, len);
  return TRUE;
}

static void process(TgSmtpSession *s) {
  if (s->in_process)
    return;
  s->in_process = TRUE;
  while (process_one(s))
    ;
  s->in_process = FALSE;
}

void tg_smtp_session_feed(TgSmtpSession *s, const char *data, gsize len) {
  if (s->state == ST_CLOSED || s->state == ST_TLS)
    return;
  if (len)
    g_byte_array_append(s->in, (const guint8 *)data, (guint)len);
  process(s);
}

void tg_smtp_session_message_done(TgSmtpSession *s, TgSmtpError err,
                                  const char *queue_id) {
  if (s->state == ST_CLOSED)
    return; /* the peer left while we were committing */
  if (s->state != ST_WAIT)
    g_error("tg_smtp_session_message_done: no message is waiting");
  if (err == TG_SMTP_OK) {
    s->messages++;
    if (s->proto == TG_SMTP_PROTO_LMTP)
      for (guint i = 0; i < s->rcpts->len; i++)
        reply(s, "250 2.1.5 <%s> Ok: queued as %s",
              (char *)g_ptr_array_index(s->rcpts, i), queue_id ? queue_id : "");
    else
      reply(s, "250 2.0.0 Ok: queued as %s", queue_id ? queue_id : "");
  } else {
    g_autofree char *line = tg_smtp_error_reply(err, s->cfg.hostname);
    guint n = s->proto == TG_SMTP_PROTO_LMTP ? s->rcpts->len : 1;
    for (guint i = 0; i < n; i++)
      send_line(s, line);
  }
  tx_reset(s);
  s->state = ST_CMD;
  if (s->pending_close != TG_SMTP_OK) {
    close_with(s, s->pending_close);
    return;
  }
  process(s);
}

void tg_smtp_session_tls_done(TgSmtpSession *s, gboolean ok) {
  if (s->state == ST_CLOSED)
    return;
  if (s->state != ST_TLS)
    g_error("tg_smtp_session_tls_done: no handshake is pending");
  if (!ok) {
    s->state = ST_CLOSED;
    return;
  }
  s->tls_active = TRUE;
  s->helo_seen = FALSE;
  tx_reset(s);
  s->state = ST_CMD;
  g_byte_array_set_size(s->in, 0);
}

void tg_smtp_session_close_with(TgSmtpSession *s, TgSmtpError err) {
  switch (s->state) {
  case ST_CLOSED:
    return;
  case ST_WAIT:
    s->pending_close = err;
    return;
  case ST_DATA:
  case ST_CMD:
  case ST_TLS:
    tx_reset(s);
    close_with(s, err);
    return;
  }
}

void tg_smtp_session_disconnected(TgSmtpSession *s) {
  if (s->state != ST_WAIT)
    tx_reset(s);
  s->state = ST_CLOSED;
}

gboolean tg_smtp_session_closing(const TgSmtpSession *s) {
  return s->state == ST_CLOSED;
}
gboolean tg_smtp_session_wants_input(const TgSmtpSession *s) {
  return s->state == ST_CMD || s->state == ST_DATA;
}
gboolean tg_smtp_session_in_data(const TgSmtpSession *s) {
  return s->state == ST_DATA;
}
gboolean tg_smtp_session_tls_active(const TgSmtpSession *s) {
  return s->tls_active;
}
guint tg_smtp_session_messages(const TgSmtpSession *s) { return s->messages; }
