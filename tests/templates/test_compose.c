/*
 * test_compose — templates/compose.c and templates/message_id.c: compose,
 * serialize, parse back with GMime and check what a receiving client sees.
 */
#include "templates/compose.h"
#include "templates/gmime_autoptr.h"
#include "templates/message_id.h"

#include <string.h>

static const char *ja_subject = "[Support #42] ログインできません（パスワード再設定のお願い）";

static GMimeMessage *
parse(GBytes *bytes)
{
  gsize len;
  const char *data = g_bytes_get_data(bytes, &len);
  g_autoptr(GMimeStream) stream = g_mime_stream_mem_new_with_buffer(data, len);
  g_autoptr(GMimeParser) parser = g_mime_parser_new_with_stream(stream);
  GMimeMessage *msg = g_mime_parser_construct_message(parser, NULL);
  g_assert_nonnull(msg);
  return msg;
}

static char *
raw_text(GBytes *bytes)
{
  gsize len;
  const char *data = g_bytes_get_data(bytes, &len);
  return g_strndup(data, len);
}

static const ComposeMailbox to_customer[] = {{"山田 太郎", "taro@example.jp"}};
static const char *const refs[] = {"<orig-1@example.jp>", "<orig-2@example.jp>", NULL};

static ComposeMessage
base_message(void)
{
  ComposeMessage m = {
    .from = {"サポートデスク", "support@example.com"},
    .reply_to = "support+42-k7f3q9@example.com",
    .to = to_customer,
    .n_to = 1,
    .subject = ja_subject,
    .text = "山田様\n\nお問い合わせありがとうございます。\nSupport desk = 42 \xe2\x80\x94 ok\n",
    .message_id = "<t42.o7.0123456789abcdef0123@example.com>",
    .in_reply_to = "<orig-2@example.jp>",
    .references = refs,
    .auto_submitted = TRUE,
    .x_loop = "support@example.com",
  };
  return m;
}

static char *
part_text(GMimeObject *part)
{
  g_assert_true(GMIME_IS_TEXT_PART(part));
  return g_mime_text_part_get_text(GMIME_TEXT_PART(part));
}

static void
test_utf8_roundtrip(void)
{
  ComposeMessage m = base_message();
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = compose_message_to_bytes(&m, FALSE, &error);
  g_assert_no_error(error);
  g_autofree char *raw = raw_text(bytes);
  for (const char *p = raw; *p; p++)
    g_assert_cmpint((guchar)*p, <, 0x80);  /* everything is encoded */

  g_autoptr(GMimeMessage) msg = parse(bytes);
  g_assert_cmpstr(g_mime_message_get_subject(msg), ==, ja_subject);
  g_assert_cmpstr(g_mime_message_get_message_id(msg), ==, "t42.o7.0123456789abcdef0123@example.com");
  GMimeObject *obj = GMIME_OBJECT(msg);
  g_assert_cmpstr(g_mime_object_get_header(obj, "In-Reply-To"), ==, "<orig-2@example.jp>");
  g_assert_cmpstr(g_mime_object_get_header(obj, "References"), ==, "<orig-1@example.jp> <orig-2@example.jp>");
  g_assert_cmpstr(g_mime_object_get_header(obj, "Auto-Submitted"), ==, "auto-replied");
  g_assert_cmpstr(g_mime_object_get_header(obj, "X-Loop"), ==, "support@example.com");
  g_assert_nonnull(g_mime_object_get_header(obj, "Date"));
  g_assert_cmpstr(g_mime_object_get_header(obj, "MIME-Version"), ==, "1.0");

  InternetAddressList *from = g_mime_message_get_from(msg);
  g_assert_cmpint(internet_address_list_length(from), ==, 1);
  InternetAddress *f = internet_address_list_get_address(from, 0);
  g_assert_cmpstr(internet_address_get_name(f), ==, "サポートデスク");
  g_assert_cmpstr(internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(f)), ==, "support@example.com");
  InternetAddress *t = internet_address_list_get_address(g_mime_message_get_addresses(msg, GMIME_ADDRESS_TYPE_TO), 0);
  g_assert_cmpstr(internet_address_get_name(t), ==, "山田 太郎");
  InternetAddress *rt = internet_address_list_get_address(g_mime_message_get_reply_to(msg), 0);
  g_assert_cmpstr(internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(rt)), ==, "support+42-k7f3q9@example.com");

  GMimeObject *body = g_mime_message_get_mime_part(msg);
  g_assert_cmpstr(g_mime_object_get_content_type_parameter(body, "charset"), ==, "utf-8");
  g_assert_cmpint(g_mime_part_get_content_encoding(GMIME_PART(body)), ==, GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
  g_autofree char *text = part_text(body);
  g_assert_cmpstr(text, ==, m.text);
}

static void
test_crlf_serialization(void)
{
  ComposeMessage m = base_message();
  g_autoptr(GBytes) bytes = compose_message_to_bytes(&m, TRUE, NULL);
  gsize len;
  const char *d = g_bytes_get_data(bytes, &len);
  for (gsize i = 0; i < len; i++)
    if (d[i] == '\n')
      g_assert_true(i > 0 && d[i - 1] == '\r');
  g_autoptr(GMimeMessage) msg = parse(bytes);
  g_assert_cmpstr(g_mime_message_get_subject(msg), ==, ja_subject);
}

static void
test_header_injection(void)
{
  ComposeMailbox evil_to[] = {{"Eve\r\nBcc: victim@example.org", "eve@example.org"}};
  ComposeHeader extra[] = {{"X-Ticket-Queue", "billing\nX-Evil: 1"}};
  ComposeMessage m = base_message();
  m.subject = "Hello\r\nBcc: victim@example.org\r\n\r\nbody?";
  m.to = evil_to;
  m.x_loop = "support@example.com\nX-Evil: 2";
  m.headers = extra;
  m.n_headers = 1;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = compose_message_to_bytes(&m, FALSE, &error);
  g_assert_no_error(error);
  g_autofree char *raw = raw_text(bytes);
  g_auto(GStrv) lines = g_strsplit(raw, "\n", -1);
  for (int i = 0; lines[i]; i++) {
    g_assert_false(g_str_has_prefix(lines[i], "Bcc:"));
    g_assert_false(g_str_has_prefix(lines[i], "X-Evil:"));
  }
  g_autoptr(GMimeMessage) msg = parse(bytes);
  g_assert_null(g_mime_object_get_header(GMIME_OBJECT(msg), "Bcc"));
  g_assert_null(g_mime_object_get_header(GMIME_OBJECT(msg), "X-Evil"));
  g_assert_cmpstr(g_mime_message_get_subject(msg), ==, "Hello Bcc: victim@example.org body?");
  g_assert_cmpstr(g_mime_object_get_header(GMIME_OBJECT(msg), "X-Ticket-Queue"), ==, "billing X-Evil: 1");
  g_autofree char *text = part_text(g_mime_message_get_mime_part(msg));
  g_assert_cmpstr(text, ==, m.text);

  g_autofree char *s = compose_header_sanitize("  a\t\tb\x01\x7f" "c\xc2\x85" "d\xe2\x80\xa8 e \xff ");
  g_assert_cmpstr(s, ==, "a b c d e \xef\xbf\xbd");
}

static void
test_iso2022jp_roundtrip(void)
{
  ComposeMessage m = base_message();
  m.charset = COMPOSE_CHARSET_ISO2022JP;
  m.text = "山田様\n\nお問い合わせありがとうございます。\n受付番号：42\n10時～18時\n";
  g_autoptr(GBytes) bytes = compose_message_to_bytes(&m, FALSE, NULL);
  g_autofree char *raw = raw_text(bytes);
  for (const char *p = raw; *p; p++)
    g_assert_cmpint((guchar)*p, <, 0x80);
  g_assert_nonnull(strcasestr(raw, "=?iso-2022-jp?b?"));

  g_autoptr(GMimeMessage) msg = parse(bytes);
  g_assert_cmpstr(g_mime_message_get_subject(msg), ==, ja_subject);
  InternetAddress *f = internet_address_list_get_address(g_mime_message_get_from(msg), 0);
  g_assert_cmpstr(internet_address_get_name(f), ==, "サポートデスク");
  GMimeObject *body = g_mime_message_get_mime_part(msg);
  g_assert_cmpstr(g_mime_object_get_content_type_parameter(body, "charset"), ==, "ISO-2022-JP");
  g_assert_cmpint(g_mime_part_get_content_encoding(GMIME_PART(body)), ==, GMIME_CONTENT_ENCODING_7BIT);
  g_autofree char *text = part_text(body);
  /* FULLWIDTH TILDE (Windows) comes back as WAVE DASH, the JIS character */
  g_assert_cmpstr(text, ==, "山田様\n\nお問い合わせありがとうございます。\n受付番号：42\n10時〜18時\n");

  /* an emoji cannot be ISO-2022-JP: the message stays UTF-8, nothing is lost */
  m.text = "ありがとうございます 🙇\n";
  g_autoptr(GBytes) b2 = compose_message_to_bytes(&m, FALSE, NULL);
  g_autoptr(GMimeMessage) m2 = parse(b2);
  GMimeObject *body2 = g_mime_message_get_mime_part(m2);
  g_assert_cmpstr(g_mime_object_get_content_type_parameter(body2, "charset"), ==, "utf-8");
  g_autofree char *t2 = part_text(body2);
  g_assert_cmpstr(t2, ==, m.text);
}

/* Every encoded word must decode on its own to whole characters. */
static void
check_folded_subject(const char *raw, const char *charset_prefix)
{
  const char *start = strstr(raw, "\nSubject: ");
  g_assert_nonnull(start);
  start += 1;
  const char *end = start;
  GString *field = g_string_new(NULL);
  for (;;) {
    const char *nl = strchr(end, '\n');
    g_assert_nonnull(nl);
    g_assert_cmpint(nl - end, <=, 76);  /* folded (RFC 2047 line limit) */
    g_string_append_len(field, end, nl - end);
    end = nl + 1;
    if (*end != ' ' && *end != '\t')
      break;
  }
  guint words = 0;
  for (const char *p = strstr(field->str, "=?"); p; p = strstr(p, "=?")) {
    const char *q = strstr(p + 2, "?=");
    g_assert_nonnull(q);
    g_autofree char *word = g_strndup(p, q + 2 - p);
    if (g_ascii_strncasecmp(word, charset_prefix, strlen(charset_prefix)) != 0)
      g_error("unexpected word %s (want %s)", word, charset_prefix);
    g_assert_cmpuint(strlen(word), <=, 75);
    g_autofree char *dec = g_mime_utils_header_decode_text(NULL, word);
    g_assert_true(g_utf8_validate(dec, -1, NULL));
    g_assert_null(strstr(dec, "\xef\xbf\xbd"));  /* no U+FFFD: no split character */
    g_assert_null(strstr(dec, "=?"));            /* it really decoded */
    words++;
    p = q + 2;
  }
  g_assert_cmpuint(words, >=, 3);
  g_string_free(field, TRUE);
}

static void
test_long_subject_folds(void)
{
  GString *s = g_string_new("[Support #123456] ");
  for (int i = 0; i < 6; i++)
    g_string_append(s, "請求書の金額が契約内容と一致しない件について確認をお願いします。");
  ComposeMessage m = base_message();
  m.subject = s->str;
  for (int cs = 0; cs < 2; cs++) {
    m.charset = cs ? COMPOSE_CHARSET_ISO2022JP : COMPOSE_CHARSET_UTF8;
    g_autoptr(GBytes) bytes = compose_message_to_bytes(&m, FALSE, NULL);
    g_autofree char *raw = raw_text(bytes);
    check_folded_subject(raw, cs ? "=?iso-2022-jp?b?" : "=?utf-8?b?");
    g_autoptr(GMimeMessage) msg = parse(bytes);
    g_assert_cmpstr(g_mime_message_get_subject(msg), ==, s->str);
  }
  g_string_free(s, TRUE);
}

static void
test_html_alternative(void)
{
  ComposeMessage m = base_message();
  m.html = "<p>山田様</p><p>お問い合わせありがとうございます。</p>";
  g_autoptr(GBytes) bytes = compose_message_to_bytes(&m, FALSE, NULL);
  g_autoptr(GMimeMessage) msg = parse(bytes);
  GMimeObject *body = g_mime_message_get_mime_part(msg);
  g_assert_true(GMIME_IS_MULTIPART(body));
  GMimeContentType *ct = g_mime_object_get_content_type(body);
  g_assert_true(g_mime_content_type_is_type(ct, "multipart", "alternative"));
  GMimeMultipart *mp = GMIME_MULTIPART(body);
  g_assert_cmpint(g_mime_multipart_get_count(mp), ==, 2);
  g_autofree char *t = part_text(g_mime_multipart_get_part(mp, 0));
  g_autofree char *h = part_text(g_mime_multipart_get_part(mp, 1));
  g_assert_cmpstr(t, ==, m.text);
  g_assert_cmpstr(h, ==, "<p>山田様</p><p>お問い合わせありがとうございます。</p>\n");
  g_assert_true(g_mime_content_type_is_type(g_mime_object_get_content_type(g_mime_multipart_get_part(mp, 1)), "text", "html"));
}

static void
test_invalid_input(void)
{
  static const ComposeMailbox bad_to[] = {{"x", "not an address"}};
  static const ComposeHeader owned[] = {{"Content-Type", "text/html"}};
  static const ComposeHeader badname[] = {{"X Bad", "v"}};
  ComposeMessage m = base_message();
  g_autoptr(GError) e1 = NULL, e2 = NULL, e3 = NULL, e4 = NULL, e5 = NULL;
  m.to = bad_to;
  g_assert_null(compose_message_build(&m, &e1));
  g_assert_error(e1, COMPOSE_ERROR, COMPOSE_ERROR_INVALID);
  m = base_message();
  m.headers = owned;
  m.n_headers = 1;
  g_assert_null(compose_message_build(&m, &e2));
  g_assert_cmpstr(e2->message, ==, "header 'Content-Type' is set by the gateway, not by a template");
  m.headers = badname;
  g_assert_null(compose_message_build(&m, &e3));
  m = base_message();
  m.message_id = "<a b@c>";
  g_assert_null(compose_message_build(&m, &e4));
  m = base_message();
  m.n_to = 0;
  g_assert_null(compose_message_build(&m, &e5));
  /* a malformed In-Reply-To from a customer is dropped, not an error */
  m = base_message();
  m.in_reply_to = "<x@y>\r\nBcc: z@example.org";
  g_autoptr(GMimeMessage) msg = compose_message_build(&m, NULL);
  g_assert_nonnull(msg);
  g_assert_null(g_mime_object_get_header(GMIME_OBJECT(msg), "In-Reply-To"));
}

static const guint8 secret[] = "0123456789abcdef0123456789abcdef";

static void
test_message_id(void)
{
  g_autofree char *id = message_id_new(42, 7, "Taro@Example.JP", "example.com", secret, 32);
  g_assert_true(g_str_has_prefix(id, "<t42.o7."));
  g_assert_true(g_str_has_suffix(id, "@example.com>"));
  g_assert_cmpuint(strlen(id), ==, strlen("<t42.o7.@example.com>") + 2 * MESSAGE_ID_TOKEN_BYTES);

  guint64 t = 0, o = 0;
  gboolean ok = FALSE;
  g_assert_true(message_id_verify(id, "example.com", "taro@example.jp", secret, 32, &t, &o, &ok));
  g_assert_cmpuint(t, ==, 42);
  g_assert_cmpuint(o, ==, 7);
  g_assert_true(ok);
  /* without brackets, with blanks, domain in other case */
  g_autofree char *bare = g_strdup_printf("  %.*s ", (int)strlen(id) - 2, id + 1);
  g_assert_true(message_id_verify(bare, "EXAMPLE.com", "TARO@example.jp", secret, 32, NULL, NULL, &ok));
  g_assert_true(ok);
  /* someone else answering: well-formed but no proof */
  g_assert_true(message_id_verify(id, "example.com", "mallory@example.org", secret, 32, &t, &o, &ok));
  g_assert_false(ok);
  /* another secret */
  g_assert_true(message_id_verify(id, NULL, "taro@example.jp", (const guint8 *)"other", 5, NULL, NULL, &ok));
  g_assert_false(ok);
  /* a forged token for another ticket */
  g_autofree char *forged = g_strdup(id);
  forged[2] = '3';  /* t42 -> t32 */
  g_assert_true(message_id_verify(forged, "example.com", "taro@example.jp", secret, 32, &t, NULL, &ok));
  g_assert_cmpuint(t, ==, 32);
  g_assert_false(ok);
  /* flipped token character */
  g_autofree char *flipped = g_strdup(id);
  char *tok = strstr(flipped, ".o7.") + 4;
  tok[0] = tok[0] == 'a' ? 'b' : 'a';
  g_assert_true(message_id_verify(flipped, NULL, "taro@example.jp", secret, 32, NULL, NULL, &ok));
  g_assert_false(ok);

  static const char *not_ours[] = {
    "", "<>", "<abc@example.com>", "<t42.o7.0123@example.com>", "<t42.o7.0123456789abcdef012g@example.com>",
    "<t042.o7.0123456789abcdef0123@example.com>", "<t42.o7.0123456789abcdef0123@other.com>",
    "<t99999999999999999999.o7.0123456789abcdef0123@example.com>", "<t42.o7.0123456789abcdef0123@example.com",
    "<t-1.o7.0123456789abcdef0123@example.com>", "<t42.7.0123456789abcdef0123@example.com>",
    "<t42.o7.0123456789abcdef0123@example.com@example.com>",
  };
  for (gsize i = 0; i < G_N_ELEMENTS(not_ours); i++)
    g_assert_false(message_id_verify(not_ours[i], "example.com", "taro@example.jp", secret, 32, NULL, NULL, NULL));
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_mime_init();
  g_test_add_func("/compose/utf8-roundtrip", test_utf8_roundtrip);
  g_test_add_func("/compose/crlf", test_crlf_serialization);
  g_test_add_func("/compose/header-injection", test_header_injection);
  g_test_add_func("/compose/iso2022jp-roundtrip", test_iso2022jp_roundtrip);
  g_test_add_func("/compose/long-subject-folds", test_long_subject_folds);
  g_test_add_func("/compose/html-alternative", test_html_alternative);
  g_test_add_func("/compose/invalid-input", test_invalid_input);
  g_test_add_func("/compose/message-id", test_message_id);
  int rc = g_test_run();
  g_mime_shutdown();
  return rc;
}
