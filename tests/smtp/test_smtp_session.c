/* test_smtp_session.c - the SMTP/LMTP state machine driven in memory
 * (no sockets): replies, limits, DATA framing, and that 250 comes only
 * from tg_smtp_session_message_done().  Each input is also fed one byte
 * at a time and must give the same replies and the same stored bytes.
 */
#include "gateway/smtp_session.h"
#include "spool/spool.h"

#include <errno.h>
#include <string.h>

typedef struct {
  GString *out;        /* replies */
  GString *stored;     /* bytes of the message in progress */
  GString *committed;  /* bytes handed to msg_end */
  guint begins, ends, aborts, tls;
  TgSmtpError begin_fails;
  char *sender;
  guint nrcpt;
  gboolean have_msg;
} Host;

static int the_msg;

static void h_send(gpointer u, const char *d, gsize n) {
  g_string_append_len(((Host *)u)->out, d, (gssize)n);
}
static gpointer h_begin(gpointer u, const char *sender, const char *const *r,
                        TgSmtpError *err_r) {
  Host *h = u;
  g_assert_false(h->have_msg);
  if (h->begin_fails) {
    *err_r = h->begin_fails;
    return NULL;
  }
  h->begins++;
  g_free(h->sender);
  h->sender = g_strdup(sender);
  h->nrcpt = g_strv_length((char **)r);
  h->have_msg = TRUE;
  g_string_truncate(h->stored, 0);
  return &the_msg;
}
static TgSmtpError h_write(gpointer u, gpointer m, const char *d, gsize n) {
  g_assert_true(m == &the_msg);
  g_string_append_len(((Host *)u)->stored, d, (gssize)n);
  return TG_SMTP_OK;
}
static void h_end(gpointer u, gpointer m) {
  Host *h = u;
  g_assert_true(m == &the_msg && h->have_msg);
  h->have_msg = FALSE;
  h->ends++;
  g_string_truncate(h->committed, 0);
  g_string_append_len(h->committed, h->stored->str, (gssize)h->stored->len);
}
static void h_abort(gpointer u, gpointer m) {
  Host *h = u;
  g_assert_true(m == &the_msg && h->have_msg);
  h->have_msg = FALSE;
  h->aborts++;
}
static void h_tls(gpointer u) { ((Host *)u)->tls++; }

static const TgSmtpSessionOps ops = {h_send, h_begin, h_write, h_end, h_abort, h_tls};
static char *addresses[] = {"support@example.com", "help@example.com", NULL};

static TgSmtpSessionConfig config(void) {
  return (TgSmtpSessionConfig){.hostname = "mx.example.com",
                               .addresses = addresses,
                               .max_line = 600,
                               .max_recipients = 3,
                               .max_commands = 20,
                               .max_errors = 5,
                               .message_size = 1000,
                               .tls_available = TRUE};
}

static void host_init(Host *h) {
  memset(h, 0, sizeof *h);
  h->out = g_string_new(NULL);
  h->stored = g_string_new(NULL);
  h->committed = g_string_new(NULL);
}
static void host_clear(Host *h) {
  g_string_free(h->out, TRUE);
  g_string_free(h->stored, TRUE);
  g_string_free(h->committed, TRUE);
  g_free(h->sender);
}

/* Runs INPUT through a fresh session, whole and byte by byte; both runs
 * must agree.  When a message is pending after the input, answers it
 * with DONE and feeds AFTER.  Returns the replies (transfer full). */
static char *run_full(TgSmtpProto proto, const TgSmtpSessionConfig *cfg,
                      const char *input, gsize len, TgSmtpError done,
                      const char *after, Host *keep) {
  char *result = NULL;
  for (int bytewise = 0; bytewise < 2; bytewise++) {
    Host h = {0};
    host_init(&h);
    TgSmtpSession *s = tg_smtp_session_new(proto, cfg, "192.0.2.1", &ops, &h);
    tg_smtp_session_start(s);
    if (bytewise)
      for (gsize i = 0; i < len; i++)
        tg_smtp_session_feed(s, input + i, 1);
    else
      tg_smtp_session_feed(s, input, len);
    if (h.ends && !tg_smtp_session_wants_input(s) && !tg_smtp_session_closing(s)) {
      g_string_append(h.out, "--done--\r\n");
      tg_smtp_session_message_done(s, done, "Q1");
      if (after)
        tg_smtp_session_feed(s, after, strlen(after));
    }
    if (tg_smtp_session_closing(s))
      g_string_append(h.out, "--closed--\r\n");
    tg_smtp_session_free(s);
    g_assert_false(h.have_msg); /* freed or ended, never leaked */
    if (!bytewise) {
      result = g_strdup(h.out->str);
      if (keep) {
        *keep = h;
        continue;
      }
    } else {
      g_assert_cmpstr(h.out->str, ==, result);
      if (keep)
        g_assert_true(g_string_equal(h.committed, keep->committed));
    }
    host_clear(&h);
  }
  return result;
}

static char *run(const char *input, TgSmtpError done, Host *keep) {
  TgSmtpSessionConfig cfg = config();
  return run_full(TG_SMTP_PROTO_SMTP, &cfg, input, strlen(input), done, NULL, keep);
}

static void test_ehlo(void) {
  g_autofree char *out = run("EHLO client.example\r\nQUIT\r\n", TG_SMTP_OK, NULL);
  g_assert_cmpstr(out, ==,
                  "220 mx.example.com ESMTP ticketgate\r\n"
                  "250-mx.example.com\r\n250-PIPELINING\r\n250-SIZE 1000\r\n"
                  "250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n250-SMTPUTF8\r\n"
                  "250 STARTTLS\r\n221 2.0.0 Bye\r\n--closed--\r\n");
  TgSmtpSessionConfig cfg = config();
  cfg.tls_available = FALSE;
  const char *in = "EHLO c\r\nSTARTTLS\r\n";
  g_autofree char *out2 = run_full(TG_SMTP_PROTO_SMTP, &cfg, in, strlen(in), 0, NULL, NULL);
  g_assert_null(strstr(out2, "STARTTLS"));
  g_assert_nonnull(strstr(out2, "502 5.5.1"));
}

static void test_pipelined_message(void) {
  Host h = {0};
  g_autofree char *out = run(
      "EHLO c\r\nMAIL FROM:<a@example.org> BODY=8BITMIME\r\n"
      "RCPT TO:<support@example.com>\r\nRCPT TO:<Support+123-abc@Example.com>\r\n"
      "DATA\r\nSubject: x\r\n\r\nbody\r\n.\r\nQUIT\r\n",
      TG_SMTP_OK, &h);
  g_assert_cmpuint(h.nrcpt, ==, 2);
  g_assert_cmpstr(h.committed->str, ==, "Subject: x\n\nbody\n");
  g_autofree char *full = run("EHLO c\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<support@example.com>\r\n"
                              "DATA\r\nhi\r\n.\r\nQUIT\r\n", TG_SMTP_OK, NULL);
  /* 250 for the message only after message_done; QUIT waits for it. */
  g_assert_nonnull(g_strstr_len(full, -1, "354 End data"));
  const char *done = strstr(full, "--done--");
  const char *ok = strstr(full, "250 2.0.0 Ok: queued as Q1");
  const char *bye = strstr(full, "221 2.0.0 Bye");
  g_assert_true(done && ok && bye && done < ok && ok < bye);
  host_clear(&h);
}

static void test_data_framing(void) {
  /* Dot-stuffing, CRLF -> LF, bare CR kept, bare LF ends a line, NUL kept. */
  static const char in[] =
      "HELO c\r\nMAIL FROM:<>\r\nRCPT TO:<support@example.com>\r\nDATA\r\n"
      "Subject: x\r\n\r\n..dot\r\n\r\nbare\rcr\nnul\0x\r\n...\r\n.\r\n";
  TgSmtpSessionConfig cfg = config();
  Host h = {0};
  g_autofree char *out = run_full(TG_SMTP_PROTO_SMTP, &cfg, in, sizeof in - 1,
                                  TG_SMTP_OK, NULL, &h);
  static const char want[] = "Subject: x\n\n.dot\n\nbare\rcr\nnul\0x\n..\n";
  g_assert_cmpuint(h.committed->len, ==, sizeof want - 1);
  g_assert_true(memcmp(h.committed->str, want, sizeof want - 1) == 0);
  g_assert_cmpstr(h.sender, ==, "");
  g_assert_nonnull(strstr(out, "250 2.0.0 Ok: queued as Q1"));
  host_clear(&h);
}

static void test_unknown_rcpt(void) {
  g_autofree char *out = run("EHLO c\r\nMAIL FROM:<a@b>\r\nRCPT TO:<sales@example.com>\r\n"
                             "RCPT TO:<support@example.net>\r\nDATA\r\n", 0, NULL);
  g_assert_nonnull(strstr(out, "550 5.1.1 <sales@example.com>"));
  g_assert_nonnull(strstr(out, "550 5.1.1 <support@example.net>"));
  g_assert_nonnull(strstr(out, "554 5.5.1 Error: no valid recipients"));
}

static void test_size(void) {
  g_autofree char *out = run("EHLO c\r\nMAIL FROM:<a@b> SIZE=1001\r\n"
                             "MAIL FROM:<a@b> SIZE=1000\r\n", 0, NULL);
  g_assert_nonnull(strstr(out, "552 5.3.4"));
  g_assert_nonnull(strstr(out, "250 2.1.0 Ok"));
  /* Data over the limit: read to the dot, 552, nothing ended. */
  GString *in = g_string_new("EHLO c\r\nMAIL FROM:<a@b>\r\nRCPT TO:<support@example.com>\r\nDATA\r\n");
  for (int i = 0; i < 30; i++)
    g_string_append(in, "0123456789012345678901234567890123456789012345678\r\n");
  g_string_append(in, ".\r\nNOOP\r\n");
  Host h = {0};
  g_autofree char *out2 = run(in->str, 0, &h);
  g_assert_cmpuint(h.ends, ==, 0);
  g_assert_cmpuint(h.aborts, ==, 1);
  g_assert_true(g_str_has_suffix(out2, "552 5.3.4 Message size exceeds fixed maximum message size\r\n"
                                       "250 2.0.0 Ok\r\n"));
  host_clear(&h);
  g_string_free(in, TRUE);
}

static void test_line_too_long(void) {
  g_autofree char *cmd = g_strnfill(700, 'x');
  g_autofree char *in = g_strconcat("EHLO c\r\nNOOP ", cmd, "\r\nNOOP\r\n", NULL);
  g_autofree char *out = run(in, 0, NULL);
  g_assert_true(g_str_has_suffix(out, "500 5.5.0 Error: line too long\r\n--closed--\r\n"));
  /* Also without a newline at all. */
  g_autofree char *in2 = g_strconcat("EHLO c\r\nNOOP ", cmd, NULL);
  g_autofree char *out2 = run(in2, 0, NULL);
  g_assert_true(g_str_has_suffix(out2, "500 5.5.0 Error: line too long\r\n--closed--\r\n"));
  /* A long body line is fine. */
  g_autofree char *body = g_strnfill(900, 'y');
  TgSmtpSessionConfig cfg = config();
  cfg.message_size = 100000;
  g_autofree char *in3 = g_strconcat("HELO c\r\nMAIL FROM:<a@b>\r\nRCPT TO:<support@example.com>\r\nDATA\r\n",
                                     body, "\r\n.\r\n", NULL);
  Host h = {0};
  g_autofree char *out3 = run_full(TG_SMTP_PROTO_SMTP, &cfg, in3, strlen(in3), TG_SMTP_OK, NULL, &h);
  g_assert_cmpuint(h.committed->len, ==, 901);
  host_clear(&h);
}

static void test_limits(void) {
  g_autofree char *out = run("EHLO c\r\nMAIL FROM:<a@b>\r\nRCPT TO:<support@example.com>\r\n"
                             "RCPT TO:<support+1@example.com>\r\nRCPT TO:<support+2@example.com>\r\n"
                             "RCPT TO:<support+3@example.com>\r\n", 0, NULL);
  g_assert_true(g_str_has_suffix(out, "452 4.5.3 Error: too many recipients\r\n"));
  g_autofree char *out2 = run("EHLO c\r\nBAD\r\nBAD\r\nBAD\r\nBAD\r\nBAD\r\nNOOP\r\n", 0, NULL);
  g_assert_true(g_str_has_suffix(out2, "500 5.5.2 Error: command not recognized\r\n"
                                       "421 4.7.0 mx.example.com Error: too many errors\r\n--closed--\r\n"));
  GString *in = g_string_new("EHLO c\r\n");
  for (int i = 0; i < 25; i++)
    g_string_append(in, "NOOP\r\n");
  g_autofree char *out3 = run(in->str, 0, NULL);
  g_assert_true(g_str_has_suffix(out3, "421 4.7.0 mx.example.com Error: too many commands\r\n--closed--\r\n"));
  g_string_free(in, TRUE);
  g_autofree char *out4 = run("EHLO c\r\nNO\0OP\r\n", 0, NULL);
  (void)out4; /* strlen stops at NUL: use explicit length below */
  static const char nul[] = "EHLO c\r\nNO\0OP\r\n";
  TgSmtpSessionConfig cfg = config();
  g_autofree char *out5 = run_full(TG_SMTP_PROTO_SMTP, &cfg, nul, sizeof nul - 1, 0, NULL, NULL);
  g_assert_nonnull(strstr(out5, "500 5.5.2 Error: NUL character in command"));
}

static void test_lmtp(void) {
  static const char in[] = "LHLO c\r\nMAIL FROM:<a@b>\r\nRCPT TO:<support@example.com>\r\n"
                           "RCPT TO:<help@example.com>\r\nRCPT TO:<support+7@example.com>\r\n"
                           "DATA\r\nx\r\n.\r\n";
  TgSmtpSessionConfig cfg = config();
  g_autofree char *out = run_full(TG_SMTP_PROTO_LMTP, &cfg, in, sizeof in - 1, TG_SMTP_OK, NULL, NULL);
  g_assert_true(g_str_has_suffix(out, "--done--\r\n"
                                      "250 2.1.5 <support@example.com> Ok: queued as Q1\r\n"
                                      "250 2.1.5 <help@example.com> Ok: queued as Q1\r\n"
                                      "250 2.1.5 <support+7@example.com> Ok: queued as Q1\r\n"));
  g_autofree char *out2 = run_full(TG_SMTP_PROTO_LMTP, &cfg, in, sizeof in - 1, TG_SMTP_ERR_TEMP, NULL, NULL);
  g_assert_true(g_str_has_suffix(out2, "--done--\r\n"
                                       "451 4.3.0 Temporary internal error, try again later\r\n"
                                       "451 4.3.0 Temporary internal error, try again later\r\n"
                                       "451 4.3.0 Temporary internal error, try again later\r\n"));
  g_autofree char *out3 = run_full(TG_SMTP_PROTO_LMTP, &cfg, "EHLO c\r\n", 8, 0, NULL, NULL);
  g_assert_nonnull(strstr(out3, "500 5.5.2"));
}

static void test_temp_failures(void) {
  /* The spool refuses at DATA: 452 4.3.1, and the client keeps the mail. */
  TgSmtpSessionConfig cfg = config();
  Host h = {0};
  host_init(&h);
  h.begin_fails = TG_SMTP_ERR_NO_SPACE;
  TgSmtpSession *s = tg_smtp_session_new(TG_SMTP_PROTO_SMTP, &cfg, "c", &ops, &h);
  const char *in = "EHLO c\r\nMAIL FROM:<a@b>\r\nRCPT TO:<support@example.com>\r\nDATA\r\n";
  tg_smtp_session_feed(s, in, strlen(in));
  g_assert_true(g_str_has_suffix(h.out->str, "452 4.3.1 Insufficient system storage, try again later\r\n"));
  tg_smtp_session_free(s);
  host_clear(&h);
  /* The group commit fails: 451 instead of 250. */
  g_autofree char *out = run("EHLO c\r\nMAIL FROM:<a@b>\r\nRCPT TO:<support@example.com>\r\nDATA\r\nx\r\n.\r\n",
                             TG_SMTP_ERR_TEMP, NULL);
  g_assert_true(g_str_has_suffix(out, "--done--\r\n451 4.3.0 Temporary internal error, try again later\r\n"));
  g_assert_null(strstr(out, "queued"));
}

static void test_disconnect_mid_data(void) {
  TgSmtpSessionConfig cfg = config();
  Host h = {0};
  host_init(&h);
  TgSmtpSession *s = tg_smtp_session_new(TG_SMTP_PROTO_SMTP, &cfg, "c", &ops, &h);
  const char *in = "EHLO c\r\nMAIL FROM:<a@b>\r\nRCPT TO:<support@example.com>\r\nDATA\r\npartial\r\n";
  tg_smtp_session_feed(s, in, strlen(in));
  g_assert_true(tg_smtp_session_in_data(s));
  tg_smtp_session_disconnected(s);
  g_assert_cmpuint(h.aborts, ==, 1);
  g_assert_cmpuint(h.ends, ==, 0);
  tg_smtp_session_free(s);
  host_clear(&h);
}

static void test_starttls(void) {
  TgSmtpSessionConfig cfg = config();
  Host h = {0};
  host_init(&h);
  TgSmtpSession *s = tg_smtp_session_new(TG_SMTP_PROTO_SMTP, &cfg, "c", &ops, &h);
  const char *in = "EHLO c\r\nSTARTTLS\r\nMAIL FROM:<injected@b>\r\n";
  tg_smtp_session_feed(s, in, strlen(in));
  g_assert_cmpuint(h.tls, ==, 1);
  g_assert_true(g_str_has_suffix(h.out->str, "220 2.0.0 Ready to start TLS\r\n"));
  g_assert_false(tg_smtp_session_wants_input(s));
  tg_smtp_session_tls_done(s, TRUE);
  g_string_truncate(h.out, 0);
  /* The injected MAIL is gone and HELO is forgotten. */
  tg_smtp_session_feed(s, "MAIL FROM:<a@b>\r\nEHLO c\r\n", 25);
  g_assert_true(g_str_has_prefix(h.out->str, "503 5.5.1"));
  g_assert_null(strstr(h.out->str, "STARTTLS"));
  g_assert_true(tg_smtp_session_tls_active(s));
  tg_smtp_session_free(s);
  host_clear(&h);
}

static void test_shutdown_while_waiting(void) {
  TgSmtpSessionConfig cfg = config();
  Host h = {0};
  host_init(&h);
  TgSmtpSession *s = tg_smtp_session_new(TG_SMTP_PROTO_SMTP, &cfg, "c", &ops, &h);
  const char *in = "EHLO c\r\nMAIL FROM:<a@b>\r\nRCPT TO:<support@example.com>\r\nDATA\r\nx\r\n.\r\n";
  tg_smtp_session_feed(s, in, strlen(in));
  tg_smtp_session_close_with(s, TG_SMTP_ERR_SHUTDOWN);
  g_assert_false(tg_smtp_session_closing(s));
  tg_smtp_session_message_done(s, TG_SMTP_OK, "Q9");
  g_assert_true(g_str_has_suffix(h.out->str, "250 2.0.0 Ok: queued as Q9\r\n"
                                             "421 4.3.2 mx.example.com Service shutting down\r\n"));
  g_assert_true(tg_smtp_session_closing(s));
  tg_smtp_session_free(s);
  host_clear(&h);
}

static void test_error_mapping(void) {
  g_autoptr(GError) e1 = g_error_new(TG_SPOOL_ERROR, TG_SPOOL_ERROR_NO_SPACE,
                                     "write(/x) failed: %s", g_strerror(ENOSPC));
  g_assert_cmpint(tg_smtp_error_from_gerror(e1), ==, TG_SMTP_ERR_NO_SPACE);
  g_autoptr(GError) e2 = g_error_new(TG_SPOOL_ERROR, TG_SPOOL_ERROR_NO_SPACE,
                                     "spool /x: only 5 bytes free, below the 9 reserve");
  g_assert_cmpint(tg_smtp_error_from_gerror(e2), ==, TG_SMTP_ERR_NO_SPACE);
  g_autoptr(GError) e3 = g_error_new(TG_SPOOL_ERROR, TG_SPOOL_ERROR_TEMP,
                                     "fsync(/x) failed: %s", g_strerror(EIO));
  g_assert_cmpint(tg_smtp_error_from_gerror(e3), ==, TG_SMTP_ERR_TEMP);
  g_autoptr(GError) e4 = g_error_new(TG_SPOOL_ERROR, TG_SPOOL_ERROR_TOO_BIG, "big");
  g_assert_cmpint(tg_smtp_error_from_gerror(e4), ==, TG_SMTP_ERR_TOO_BIG);
  for (int e = TG_SMTP_OK; e <= TG_SMTP_ERR_TLS_FAILED; e++) {
    g_autofree char *r = tg_smtp_error_reply(e, "h");
    g_assert_true(g_ascii_isdigit(r[0]) && r[3] == ' ');
    g_assert_nonnull(tg_smtp_error_name(e));
  }
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/smtp_session/ehlo", test_ehlo);
  g_test_add_func("/smtp_session/pipelined_message", test_pipelined_message);
  g_test_add_func("/smtp_session/data_framing", test_data_framing);
  g_test_add_func("/smtp_session/unknown_rcpt", test_unknown_rcpt);
  g_test_add_func("/smtp_session/size", test_size);
  g_test_add_func("/smtp_session/line_too_long", test_line_too_long);
  g_test_add_func("/smtp_session/limits", test_limits);
  g_test_add_func("/smtp_session/lmtp", test_lmtp);
  g_test_add_func("/smtp_session/temp_failures", test_temp_failures);
  g_test_add_func("/smtp_session/disconnect_mid_data", test_disconnect_mid_data);
  g_test_add_func("/smtp_session/starttls", test_starttls);
  g_test_add_func("/smtp_session/shutdown_while_waiting", test_shutdown_while_waiting);
  g_test_add_func("/smtp_session/error_mapping", test_error_mapping);
  return g_test_run();
}
