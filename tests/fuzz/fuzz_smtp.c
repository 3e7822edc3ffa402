/* fuzz_smtp.c - libFuzzer target, slot (f): the SMTP/LMTP session state
 * machine (gateway/smtp_session.h) fed arbitrary client bytes.
 *
 * Builds only when gateway/smtp_session.h is in the tree (CMake checks).
 * The first input byte chooses SMTP or LMTP, whether STARTTLS is offered,
 * how message_end is answered (at once OK, at once with an error, or
 * never: the session must then stop reading) and the size of the slices
 * the rest is fed in (the second byte: 1..32 bytes; or all at once), so line reassembly is
 * exercised at every split.  Message storage is in memory and checks the
 * ownership rules: every msg_begin handle ends in exactly one msg_end or
 * msg_abort, no write after either, and nothing leaks when the session is
 * freed.
 */
#include "gateway/smtp_session.h"

#include <stdint.h>
#include <string.h>

typedef struct {
  GString *body;
  gboolean done;
} FuzzMsg;

typedef struct {
  TgSmtpSession *s;
  guint mode;
  guint open_msgs;
  gsize sent;
  gboolean tls_pending;
  gboolean end_pending;
} Host;

static void on_send(gpointer user, const char *data, gsize len) {
  Host *h = user;
  g_assert(len > 0 && data[len - 1] == '\n'); /* whole reply lines */
  h->sent += len;
}

static gpointer on_msg_begin(gpointer user, const char *sender,
                             const char *const *recipients, TgSmtpError *err_r) {
  Host *h = user;
  g_assert(sender && recipients && recipients[0]);
  if ((h->mode & 0x30) == 0x30) {
    *err_r = TG_SMTP_ERR_TEMP;
    return NULL;
  }
  FuzzMsg *m = g_new0(FuzzMsg, 1);
  m->body = g_string_new(NULL);
  h->open_msgs++;
  return m;
}

static TgSmtpError on_msg_write(gpointer user, gpointer msg, const char *data,
                                gsize len) {
  FuzzMsg *m = msg;
  g_assert(!m->done);
  g_string_append_len(m->body, data, (gssize)len);
  return m->body->len > 1 << 20 ? TG_SMTP_ERR_NO_SPACE : TG_SMTP_OK;
}

static void free_msg(Host *h, FuzzMsg *m) {
  g_assert(h->open_msgs > 0 && !m->done);
  m->done = TRUE;
  h->open_msgs--;
  g_string_free(m->body, TRUE);
  g_free(m);
}

static void on_msg_end(gpointer user, gpointer msg) {
  Host *h = user;
  free_msg(h, msg);
  switch (h->mode & 0x0c) {
  case 0x00:
    tg_smtp_session_message_done(h->s, TG_SMTP_OK, "0123456789ab-cdef");
    break;
  case 0x04:
    tg_smtp_session_message_done(h->s, TG_SMTP_ERR_TEMP, NULL);
    break;
  default:
    h->end_pending = TRUE; /* answered after the input, or never */
    break;
  }
}

static void on_msg_abort(gpointer user, gpointer msg) { free_msg(user, msg); }

static void on_starttls(gpointer user) { ((Host *)user)->tls_pending = TRUE; }

static const TgSmtpSessionOps ops = {
    .send = on_send, .msg_begin = on_msg_begin, .msg_write = on_msg_write,
    .msg_end = on_msg_end, .msg_abort = on_msg_abort, .starttls = on_starttls,
};

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  g_log_set_always_fatal(G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_ERROR);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2)
    return 0;
  static char *addresses[] = {"support@localhost", "help@example.com", NULL};
  Host h = {.mode = data[0]};
  TgSmtpSessionConfig cfg = {
      .hostname = "mx.example.com", .addresses = addresses, .max_line = 512,
      .max_recipients = 10, .max_commands = 50, .max_errors = 10,
      .message_size = 4096, .tls_available = (h.mode & 0x40) != 0};
  h.s = tg_smtp_session_new((h.mode & 1) ? TG_SMTP_PROTO_LMTP : TG_SMTP_PROTO_SMTP,
                            &cfg, "192.0.2.1", &ops, &h);
  tg_smtp_session_start(h.s);
  gsize slice = (h.mode & 0x80) ? (gsize)(1 + data[1] % 32) : size;
  for (gsize off = 2; off < size && !tg_smtp_session_closing(h.s);) {
    if (h.tls_pending) {
      h.tls_pending = FALSE;
      tg_smtp_session_tls_done(h.s, (h.mode & 0x02) != 0);
      continue;
    }
    if (h.end_pending && (h.mode & 0x0c) == 0x08) {
      h.end_pending = FALSE;
      tg_smtp_session_message_done(h.s, TG_SMTP_OK, "late");
      continue;
    }
    if (!tg_smtp_session_wants_input(h.s))
      break; /* a real host stops reading here */
    gsize n = MIN(slice, size - off);
    tg_smtp_session_feed(h.s, (const char *)data + off, n);
    off += n;
  }
  if (h.mode & 0x20)
    tg_smtp_session_close_with(h.s, TG_SMTP_ERR_TEMP);
  else
    tg_smtp_session_disconnected(h.s);
  tg_smtp_session_free(h.s);
  g_assert_cmpuint(h.open_msgs, ==, 0); /* every message ended or aborted */
  return 0;
}
