/* test_parse.c - MIME parsing into TgMail: bodies, attachments, limits,
 * hostile shapes (deep nesting, many parts, huge lines, NUL bytes). */
#include "gateway/html_text.h"
#include "gateway/mail_parse.h"
#include "tickets/sha256.h"

#include <string.h>

static const TgParseLimits limits = {.mime_depth = 50, .mime_parts = 1000,
                                     .header_count = 1000};

static TgMail *parse(const char *text, gssize len, char **reason_r) {
  g_autoptr(GBytes) raw = g_bytes_new(text, len < 0 ? strlen(text) : (gsize)len);
  g_autofree char *reason = NULL;
  TgMail *m = tg_mail_parse(raw, &limits, &reason, NULL);
  if (reason_r)
    *reason_r = g_steal_pointer(&reason);
  return m;
}

static void test_alternative_prefers_plain(void) {
  g_autoptr(TgMail) m = parse(
      "From: \"Suzuki, Ichiro\" <Suzuki@Example.COM>\nTo: a@b, c@d\n"
      "Cc: Group: x@y, z@w;\nSubject: alt\nMessage-ID: <id1@x>\n"
      "In-Reply-To: <p@x>\nReferences: <r1@x>\n <r2@x>\n"
      "Date: Fri, 09 Jan 2026 17:50:00 +0900\n"
      "Content-Type: multipart/alternative; boundary=b\n\n"
      "--b\nContent-Type: text/html\n\n<p>html version</p>\n"
      "--b\nContent-Type: text/plain; charset=utf-8\n\nplain version\n--b--\n", -1, NULL);
  g_assert_nonnull(m);
  g_assert_cmpstr(m->body, ==, "plain version");
  g_assert_cmpstr(m->from->name, ==, "Suzuki, Ichiro");
  g_assert_cmpstr(m->from->address, ==, "suzuki@example.com");
  g_assert_cmpuint(m->to->len, ==, 2);
  g_assert_cmpuint(m->cc->len, ==, 2);
  g_assert_cmpstr(m->message_id, ==, "id1@x");
  g_assert_cmpstr(m->in_reply_to, ==, "p@x");
  g_assert_cmpuint(m->references->len, ==, 2);
  g_assert_cmpstr(g_ptr_array_index(m->references, 1), ==, "r2@x");
  g_assert_cmpint(m->date, ==, 1767948600);
}

static void test_html_only_and_attachments(void) {
  g_autoptr(TgMail) m = parse(
      "From: a@b\nSubject: att\nContent-Type: multipart/mixed; boundary=b\n\n"
      "--b\nContent-Type: text/html; charset=iso-8859-1\n\n<b>caf\xe9</b> &lt;ok&gt;\n"
      "--b\nContent-Type: application/pdf\nContent-Disposition: attachment; "
      "filename*=UTF-8''%E8%AB%8B%E6%B1%82%E6%9B%B8.pdf\nContent-Transfer-Encoding: base64\n\n"
      "aGVsbG8=\n"
      "--b\nContent-Type: text/plain; name=\"=?UTF-8?B?44Oh44Oi?=.txt\"\n"
      "Content-Disposition: attachment\n\nnote\n--b--\n", -1, NULL);
  g_assert_nonnull(m);
  g_assert_cmpstr(m->body, ==, "café <ok>");
  g_assert_cmpuint(m->attachments->len, ==, 2);
  TgAttachment *pdf = g_ptr_array_index(m->attachments, 0);
  g_assert_cmpstr(pdf->filename, ==, "請求書.pdf");
  g_assert_cmpstr(pdf->content_type, ==, "application/pdf");
  g_assert_cmpuint(pdf->size, ==, 5);
  g_assert_cmpstr(pdf->sha256, ==,
                  "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
  TgAttachment *note = g_ptr_array_index(m->attachments, 1);
  g_assert_cmpstr(note->filename, ==, "メモ.txt");
}

static void test_nested_and_uuencode(void) {
  g_autoptr(TgMail) m = parse(
      "From: a@b\nSubject: fwd\nContent-Type: multipart/mixed; boundary=o\n\n"
      "--o\nContent-Type: text/plain\n\nsee below\n"
      "--o\nContent-Type: message/rfc822\n\n"
      "From: inner@x\nSubject: inner subject\n\ninner body\n"
      "--o\nContent-Type: text/plain\n\nbefore\nbegin 644 hi.txt\n#:&D*\n`\nend\nafter\n--o--\n",
      -1, NULL);
  g_assert_nonnull(m);
  g_assert_nonnull(strstr(m->body, "see below"));
  g_assert_nonnull(strstr(m->body, "Subject: inner subject"));
  g_assert_nonnull(strstr(m->body, "inner body"));
  g_assert_nonnull(strstr(m->body, "before\nafter"));
  g_assert_null(strstr(m->body, "begin 644"));
  g_assert_cmpuint(m->attachments->len, ==, 1);
  TgAttachment *a = g_ptr_array_index(m->attachments, 0);
  g_assert_cmpstr(a->filename, ==, "hi.txt");
  g_assert_cmpmem(g_bytes_get_data(a->content, NULL), a->size, "hi\n", 3);
}

static void test_limits(void) {
  /* 60 levels of nesting against a limit of 50. */
  GString *deep = g_string_new("From: a@b\nSubject: deep\n");
  for (int i = 0; i < 60; i++)
    g_string_append_printf(deep, "Content-Type: multipart/mixed; boundary=b%d\n\n--b%d\n", i, i);
  g_string_append(deep, "Content-Type: text/plain\n\nx\n");
  char *reason = NULL;
  TgMail *m = parse(deep->str, (gssize)deep->len, &reason);
  g_assert_null(m);
  g_assert_cmpstr(reason, ==, "mime-depth");
  g_free(reason);
  g_string_free(deep, TRUE);
  /* 1,500 parts against 1,000. */
  GString *wide = g_string_new("From: a@b\nContent-Type: multipart/mixed; boundary=b\n\n");
  for (int i = 0; i < 1500; i++)
    g_string_append(wide, "--b\nContent-Type: text/plain\n\np\n");
  g_string_append(wide, "--b--\n");
  m = parse(wide->str, (gssize)wide->len, &reason);
  g_assert_null(m);
  g_assert_cmpstr(reason, ==, "mime-parts");
  g_free(reason);
  g_string_free(wide, TRUE);
  /* No header at all. */
  m = parse("", 0, &reason);
  g_assert_null(m);
  g_assert_cmpstr(reason, ==, "unparseable");
  g_free(reason);
}

static void test_hostile_bytes(void) {
  /* NUL bytes and invalid UTF-8 in headers and body. */
  const char raw[] = "From: a\0b@x\nSubject: nul\0here \xff\xfe\n\nbody\0with nul \xc3\n";
  g_autoptr(TgMail) m = parse(raw, sizeof raw - 1, NULL);
  g_assert_nonnull(m);
  g_assert_true(g_utf8_validate(m->subject, -1, NULL));
  g_assert_true(g_utf8_validate(m->body, -1, NULL));
  g_assert_true(g_utf8_validate(m->from->address, -1, NULL));
  g_assert_cmpuint(m->warnings->len, >, 0);
  /* Nothing after a NUL is lost. */
  g_assert_nonnull(strstr(m->body, "with nul"));
}

/* Linear time on the shapes that make naive code quadratic.  Not a
 * benchmark: the bound is generous, it catches only runaway cost. */
static void test_linear_html(void) {
  GString *html = g_string_new("<html><body>");
  for (int i = 0; i < 10000; i++)
    g_string_append_printf(html, "<a href=\"https://example.com/%d\">link %d</a> &amp; ", i, i);
  g_string_append(html, "</body></html>");
  gint64 t0 = g_get_monotonic_time();
  g_autofree char *text = tg_html_to_text(html->str, html->len);
  g_assert_true(g_str_has_prefix(text, "link 0 & link 1"));
  g_string_free(html, TRUE);
  /* A 5 MB single line body, through the whole parser. */
  GString *big = g_string_new("From: a@b\nSubject: line\nContent-Type: text/html\n\n<p>");
  for (int i = 0; i < 5 * 1024 * 1024 / 8; i++)
    g_string_append(big, "abcdefg ");
  g_autoptr(TgMail) m = parse(big->str, (gssize)big->len, NULL);
  g_assert_nonnull(m);
  g_assert_cmpuint(strlen(m->body), >, 5000000);
  g_string_free(big, TRUE);
  g_assert_cmpint(g_get_monotonic_time() - t0, <, 30 * G_USEC_PER_SEC);
  g_autofree char *tricky = tg_html_to_text("a<b<c &#x1F600; &#0; &#xD800; &bogus; <", 40);
  g_assert_cmpstr(tricky, ==, "a");
  g_autofree char *ents = tg_html_to_text("x &#x1F600; &#0; &bogus; y<br>z", 31);
  g_assert_cmpstr(ents, ==, "x \xf0\x9f\x98\x80 \xef\xbf\xbd &bogus; y\nz");
}

/* The content hash keys blobs and duplicates: SHA-256 in lower-case hex
 * (FIPS 180-2 vectors), also for content that spans several blocks. */
static void test_sha256(void) {
  g_autofree char *abc = tg_sha256_hex("abc", 3);
  g_assert_cmpstr(abc, ==, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  g_autofree char *empty = tg_sha256_hex("", 0);
  g_assert_cmpstr(empty, ==, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  g_autoptr(GBytes) b = g_bytes_new_static(two, strlen(two));
  g_autofree char *multi = tg_sha256_hex_bytes(b);
  g_assert_cmpstr(multi, ==, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  tg_mail_parse_init();
  g_test_add_func("/parse/alternative", test_alternative_prefers_plain);
  g_test_add_func("/parse/html-attachments", test_html_only_and_attachments);
  g_test_add_func("/parse/nested-uuencode", test_nested_and_uuencode);
  g_test_add_func("/parse/limits", test_limits);
  g_test_add_func("/parse/hostile-bytes", test_hostile_bytes);
  g_test_add_func("/parse/sha256", test_sha256);
  g_test_add_func("/parse/linear", test_linear_html);
  return g_test_run();
}
