/*
 * compose — outgoing MIME messages.  Contract: compose.h.
 *
 * The message is built with GMime's API (so callers can inspect it as usual),
 * then the raw values of the headers that carry text (Subject, From, To, Cc,
 * Reply-To, template headers) are replaced with our own encoding (rfc2047.h):
 * GMime 3.2 writes encoded words twice the RFC 2047 limit.  Charsets and
 * transfer encodings are set explicitly, because g_mime_text_part_set_text()
 * would choose ISO-8859-1 for Latin text.
 */
#include "templates/compose.h"
#include "templates/gmime_autoptr.h"
#include "templates/rfc2047.h"

#include <string.h>

G_DEFINE_QUARK(compose-error-quark, compose_error)

/* Headers the composer sets itself; a template may not override them. */
static const char *const owned_headers[] = {
  "from", "sender", "to", "cc", "bcc", "reply-to", "subject", "date", "message-id",
  "in-reply-to", "references", "mime-version", "auto-submitted", "x-loop", "return-path",
  "received", NULL,
};

char *
compose_header_sanitize(const char *value)
{
  if (!value)
    return g_strdup("");
  g_autofree char *valid = g_utf8_make_valid(value, -1);
  GString *out = g_string_sized_new(strlen(valid));
  gboolean blank = TRUE;  /* swallow leading blanks and runs of them */
  for (const char *p = valid; *p; p = g_utf8_next_char(p)) {
    gunichar c = g_utf8_get_char(p);
    gboolean space = c == ' ' || c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) ||
                     c == 0x2028 || c == 0x2029;
    if (space) {
      if (!blank)
        g_string_append_c(out, ' ');
      blank = TRUE;
    } else {
      g_string_append_unichar(out, c);
      blank = FALSE;
    }
  }
  if (out->len && out->str[out->len - 1] == ' ')
    g_string_truncate(out, out->len - 1);
  return g_string_free(out, FALSE);
}

static gboolean
address_ok(const char *a)
{
  if (!a || !*a || strlen(a) > 254)
    return FALSE;
  const char *at = strchr(a, '@');
  if (!at || at == a || !at[1] || strchr(at + 1, '@'))
    return FALSE;
  for (const guchar *p = (const guchar *)a; *p; p++)
    if (*p <= ' ' || *p == 0x7f || strchr("<>()[],;:\"\\", *p))
      return FALSE;
  return g_utf8_validate(a, -1, NULL);
}

/* "<x@y>" with nothing that could break the header line or the angle pair */
static gboolean
msgid_ok(const char *id)
{
  gsize len = id ? strlen(id) : 0;
  if (len < 5 || len > 998 || id[0] != '<' || id[len - 1] != '>')
    return FALSE;
  for (gsize i = 1; i + 1 < len; i++) {
    guchar c = id[i];
    if (c <= ' ' || c >= 0x7f || c == '<' || c == '>')
      return FALSE;
  }
  return strchr(id, '@') != NULL;
}

static gboolean
header_name_ok(const char *name)
{
  if (!name || !*name || strlen(name) > 76)
    return FALSE;
  for (const char *p = name; *p; p++)
    if (!g_ascii_isalnum(*p) && *p != '-')
      return FALSE;
  return TRUE;
}

gboolean
compose_header_owned(const char *name)
{
  if (g_ascii_strncasecmp(name, "content-", 8) == 0)
    return TRUE;
  for (int i = 0; owned_headers[i]; i++)
    if (g_ascii_strcasecmp(name, owned_headers[i]) == 0)
      return TRUE;
  return FALSE;
}

/* Windows-style code points that ISO-2022-JP (JIS X 0208) spells differently;
 * mail typed on Windows uses the left column, iconv only knows the right. */
static char *
jis_normalize(const char *s)
{
  static const struct { gunichar from, to; } map[] = {
    {0xFF5E, 0x301C}, {0x2225, 0x2016}, {0xFF0D, 0x2212}, {0x2014, 0x2015},
    {0xFFE0, 0x00A2}, {0xFFE1, 0x00A3}, {0xFFE2, 0x00AC},
  };
  GString *out = g_string_sized_new(strlen(s));
  for (const char *p = s; *p; p = g_utf8_next_char(p)) {
    gunichar c = g_utf8_get_char(p);
    for (gsize i = 0; i < G_N_ELEMENTS(map); i++)
      if (c == map[i].from)
        c = map[i].to;
    g_string_append_unichar(out, c);
  }
  return g_string_free(out, FALSE);
}

static gboolean
jis_ok(const char *s)
{
  if (!s)
    return TRUE;
  g_autofree char *conv = g_convert(s, -1, "ISO-2022-JP", "UTF-8", NULL, NULL, NULL);
  return conv != NULL;
}

/* LF line ends only (CRLF is produced at serialization), final newline. */
static char *
body_normalize(const char *text)
{
  g_autofree char *valid = g_utf8_make_valid(text ? text : "", -1);
  GString *out = g_string_sized_new(strlen(valid) + 1);
  for (const char *p = valid; *p; p++) {
    if (*p == '\r') {
      g_string_append_c(out, '\n');
      if (p[1] == '\n')
        p++;
    } else {
      g_string_append_c(out, *p);
    }
  }
  if (out->len && out->str[out->len - 1] != '\n')
    g_string_append_c(out, '\n');
  return g_string_free(out, FALSE);
}

static gboolean
long_lines(const char *s, gsize len)
{
  gsize col = 0;
  for (gsize i = 0; i < len; i++) {
    col = s[i] == '\n' ? 0 : col + 1;
    if (col > 990)
      return TRUE;
  }
  return FALSE;
}

static GMimeObject *
text_part(const char *subtype, const char *content, gsize len, const char *charset,
          GMimeContentEncoding encoding)
{
  GMimeTextPart *part = g_mime_text_part_new_with_subtype(subtype);
  g_autoptr(GMimeStream) stream = g_mime_stream_mem_new_with_buffer(content, len);
  g_autoptr(GMimeDataWrapper) wrapper =
      g_mime_data_wrapper_new_with_stream(stream, GMIME_CONTENT_ENCODING_DEFAULT);
  g_mime_part_set_content(GMIME_PART(part), wrapper);
  g_mime_text_part_set_charset(part, charset);
  g_mime_part_set_content_encoding(GMIME_PART(part), encoding);
  return GMIME_OBJECT(part);
}

static gboolean
add_mailboxes(InternetAddressList *list, const ComposeMailbox *boxes, gsize n, const char *what,
              const char *charset, GError **error)
{
  for (gsize i = 0; i < n; i++) {
    if (!address_ok(boxes[i].address)) {
      g_set_error(error, COMPOSE_ERROR, COMPOSE_ERROR_INVALID, "%s: bad address '%s'", what,
                  boxes[i].address ? boxes[i].address : "(null)");
      return FALSE;
    }
    g_autofree char *name = compose_header_sanitize(boxes[i].name);
    g_autoptr(InternetAddress) ia = internet_address_mailbox_new(*name ? name : NULL, boxes[i].address);
    internet_address_set_charset(ia, charset);
    internet_address_list_add(list, ia);
  }
  return TRUE;
}

/* Replace the raw value of the last header called @name. */
static void
set_raw(GMimeObject *obj, const char *name, Rfc2047Fold *fold)
{
  g_autofree char *raw = rfc2047_fold_finish(fold);
  GMimeHeaderList *hl = g_mime_object_get_header_list(obj);
  for (int i = g_mime_header_list_get_count(hl); i-- > 0;) {
    GMimeHeader *h = g_mime_header_list_get_header_at(hl, i);
    if (g_ascii_strcasecmp(g_mime_header_get_name(h), name) == 0) {
      g_mime_header_set_raw_value(h, raw);
      return;
    }
  }
}

static void
set_raw_mailboxes(GMimeObject *obj, const char *name, const ComposeMailbox *boxes, gsize n,
                  const char *charset)
{
  if (n == 0)
    return;
  g_autoptr(Rfc2047Fold) fold = rfc2047_fold_new(strlen(name), charset);
  for (gsize i = 0; i < n; i++) {
    g_autofree char *display = compose_header_sanitize(boxes[i].name);
    rfc2047_fold_mailbox(fold, display, boxes[i].address);
  }
  set_raw(obj, name, fold);
}

GMimeMessage *
compose_message_build(const ComposeMessage *m, GError **error)
{
  g_return_val_if_fail(m != NULL, NULL);
  g_mime_init();

  if (m->n_to == 0 || !m->to) {
    g_set_error(error, COMPOSE_ERROR, COMPOSE_ERROR_INVALID, "To: no recipient");
    return NULL;
  }
  if (m->reply_to && !address_ok(m->reply_to)) {
    g_set_error(error, COMPOSE_ERROR, COMPOSE_ERROR_INVALID, "Reply-To: bad address '%s'", m->reply_to);
    return NULL;
  }
  for (gsize i = 0; i < m->n_headers; i++) {
    const char *name = m->headers[i].name;
    if (!header_name_ok(name)) {
      g_set_error(error, COMPOSE_ERROR, COMPOSE_ERROR_INVALID, "bad header name '%s'", name ? name : "(null)");
      return NULL;
    }
    if (compose_header_owned(name)) {
      g_set_error(error, COMPOSE_ERROR, COMPOSE_ERROR_INVALID,
                  "header '%s' is set by the gateway, not by a template", name);
      return NULL;
    }
  }

  g_autofree char *subject = compose_header_sanitize(m->subject);
  g_autofree char *text = body_normalize(m->text);
  g_autofree char *jis_text = NULL;
  g_autofree char *jis_subject = NULL;
  const char *charset = "utf-8";
  if (m->charset == COMPOSE_CHARSET_ISO2022JP) {
    g_autofree char *norm_text = jis_normalize(text);
    jis_subject = jis_normalize(subject);
    gboolean ok = jis_ok(jis_subject) && jis_ok(m->from.name ? m->from.name : "");
    for (gsize i = 0; ok && i < m->n_to; i++)
      ok = jis_ok(m->to[i].name);
    for (gsize i = 0; ok && i < m->n_cc; i++)
      ok = jis_ok(m->cc[i].name);
    if (ok)
      jis_text = g_convert(norm_text, -1, "ISO-2022-JP", "UTF-8", NULL, NULL, NULL);
    /* else: a character ISO-2022-JP cannot hold; UTF-8 keeps it intact */
    if (jis_text) {
      charset = "iso-2022-jp";
      g_free(subject);
      subject = g_steal_pointer(&jis_subject);
    }
  }

  g_autoptr(GMimeMessage) msg = g_mime_message_new(TRUE);
  ComposeMailbox from = m->from;
  if (!add_mailboxes(g_mime_message_get_from(msg), &from, 1, "From", charset, error) ||
      !add_mailboxes(g_mime_message_get_addresses(msg, GMIME_ADDRESS_TYPE_TO), m->to, m->n_to, "To",
                     charset, error) ||
      !add_mailboxes(g_mime_message_get_addresses(msg, GMIME_ADDRESS_TYPE_CC), m->cc, m->n_cc, "Cc",
                     charset, error))
    return NULL;
  if (m->reply_to) {
    ComposeMailbox rt = {NULL, m->reply_to};
    if (!add_mailboxes(g_mime_message_get_reply_to(msg), &rt, 1, "Reply-To", charset, error))
      return NULL;
  }

  g_mime_message_set_subject(msg, subject, charset);
  g_autoptr(GDateTime) now = m->date ? g_date_time_ref(m->date) : g_date_time_new_now_local();
  g_mime_message_set_date(msg, now);

  if (m->message_id) {
    if (!msgid_ok(m->message_id)) {
      g_set_error(error, COMPOSE_ERROR, COMPOSE_ERROR_INVALID, "bad Message-ID '%s'", m->message_id);
      return NULL;
    }
    g_autofree char *bare = g_strndup(m->message_id + 1, strlen(m->message_id) - 2);
    g_mime_message_set_message_id(msg, bare);
  } else {
    g_autofree char *generated = g_mime_utils_generate_message_id("localhost");
    g_mime_message_set_message_id(msg, generated);
  }
  GMimeObject *obj = GMIME_OBJECT(msg);
  /* Threading ids that are malformed are dropped, not passed through: they
   * come from customers' mail. */
  if (m->in_reply_to && msgid_ok(m->in_reply_to))
    g_mime_object_set_header(obj, "In-Reply-To", m->in_reply_to, NULL);
  if (m->references) {
    g_autoptr(GString) refs = g_string_new(NULL);
    for (int i = 0; m->references[i]; i++)
      if (msgid_ok(m->references[i]))
        g_string_append_printf(refs, "%s%s", refs->len ? " " : "", m->references[i]);
    if (refs->len)
      g_mime_object_set_header(obj, "References", refs->str, NULL);
  }
  if (m->auto_submitted)
    g_mime_object_set_header(obj, "Auto-Submitted", "auto-replied", NULL);
  if (m->x_loop) {
    g_autofree char *v = compose_header_sanitize(m->x_loop);
    g_mime_object_set_header(obj, "X-Loop", v, NULL);
  }
  for (gsize i = 0; i < m->n_headers; i++) {
    g_autofree char *v = compose_header_sanitize(m->headers[i].value);
    g_mime_object_append_header(obj, m->headers[i].name, v, "utf-8");
    g_autoptr(Rfc2047Fold) fold = rfc2047_fold_new(strlen(m->headers[i].name), charset);
    rfc2047_fold_text(fold, v);
    set_raw(obj, m->headers[i].name, fold);
  }

  /* our encoding of the text-bearing headers (see the top of this file) */
  g_autoptr(Rfc2047Fold) subject_fold = rfc2047_fold_new(strlen("Subject"), charset);
  rfc2047_fold_text(subject_fold, subject);
  set_raw(obj, "Subject", subject_fold);
  set_raw_mailboxes(obj, "From", &from, 1, charset);
  set_raw_mailboxes(obj, "To", m->to, m->n_to, charset);
  set_raw_mailboxes(obj, "Cc", m->cc, m->n_cc, charset);

  g_autoptr(GMimeObject) body = NULL;
  if (jis_text) {
    gsize len = strlen(jis_text);
    body = text_part("plain", jis_text, len, "ISO-2022-JP",
                     long_lines(jis_text, len) ? GMIME_CONTENT_ENCODING_BASE64 : GMIME_CONTENT_ENCODING_7BIT);
  } else {
    body = text_part("plain", text, strlen(text), "utf-8", GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
  }
  if (m->html) {
    g_autofree char *html = body_normalize(m->html);
    g_autoptr(GMimeObject) html_part =
        text_part("html", html, strlen(html), "utf-8", GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
    GMimeMultipart *alt = g_mime_multipart_new_with_subtype("alternative");
    g_mime_multipart_add(alt, body);
    g_mime_multipart_add(alt, html_part);
    g_object_unref(body);
    body = GMIME_OBJECT(alt);
  }
  g_mime_message_set_mime_part(msg, body);
  return g_steal_pointer(&msg);
}

GBytes *
compose_message_serialize(GMimeMessage *msg, gboolean crlf)
{
  g_return_val_if_fail(GMIME_IS_MESSAGE(msg), NULL);
  GMimeFormatOptions *fo = g_mime_format_options_new();
  g_mime_format_options_set_newline_format(fo, crlf ? GMIME_NEWLINE_FORMAT_DOS : GMIME_NEWLINE_FORMAT_UNIX);
  g_autoptr(GMimeStream) mem = g_mime_stream_mem_new();
  g_mime_object_write_to_stream(GMIME_OBJECT(msg), fo, mem);
  g_mime_format_options_free(fo);
  GByteArray *ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
  return g_bytes_new(ba->data, ba->len);
}

GBytes *
compose_message_to_bytes(const ComposeMessage *m, gboolean crlf, GError **error)
{
  g_autoptr(GMimeMessage) msg = compose_message_build(m, error);
  if (!msg)
    return NULL;
  return compose_message_serialize(msg, crlf);
}
