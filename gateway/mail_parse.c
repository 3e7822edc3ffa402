/* mail_parse.c - raw bytes to TgMail with GMime (contract in mail_parse.h).
 *
 * Header text is decoded by rfc2047.c, not by GMime: GMime converts with
 * glibc's iconv, which rejects the CP932 extensions Japanese mail carries
 * under an ISO-2022-JP label; our decoder reads them and never drops a
 * byte silently.  GMime still does what it is best at: MIME structure,
 * transfer encodings, address syntax, dates and RFC 2231 parameters.
 */
#include "gateway/mail_parse.h"
#include "tickets/sha256.h"
#include "gateway/charset.h"
#include "gateway/html_text.h"
#include "gateway/rfc2047.h"

#include <gmime/gmime.h>
#include <string.h>

G_DEFINE_QUARK(tg-parse-error-quark, tg_parse_error)

/* Texts joined by blank lines.  Most mail has one text part: that string
 * is kept as it came, and only a second one starts a GString, so a body
 * is not copied twice more on its way into the TgMail. */
typedef struct {
  char *only;
  GString *many;
} TextRun;

typedef struct {
  TgMail *mail;
  const TgParseLimits *limits;
  guint parts;
  guint max_depth_seen;
  gboolean nesting_overflow;
  TextRun plain;    /* text/plain bodies, in order */
  TextRun html;     /* text/html bodies, used when no plain text exists */
  const char *header_hint; /* body charset, for raw 8-bit header text */
} Walk;

void tg_mail_parse_init(void) {
  static gsize done = 0;
  if (g_once_init_enter(&done)) {
    g_mime_init();
    g_once_init_leave(&done, 1);
  }
}

static void on_parser_warning(gint64 offset, GMimeParserWarning code,
                              const gchar *item, gpointer user_data) {
  Walk *w = user_data;
  if (code == GMIME_CRIT_NESTING_OVERFLOW)
    w->nesting_overflow = TRUE;
  if (code == GMIME_WARN_DUPLICATED_HEADER || code == GMIME_WARN_UNENCODED_8BIT_HEADER)
    return; /* normal in real mail, not worth a line on the ticket */
  tg_mail_warn(w->mail, "MIME parser: problem %d at offset %" G_GINT64_FORMAT "%s%s",
               (int)code, offset, item ? ": " : "", item ? item : "");
}

static char *decode_header(Walk *w, const char *name, const char *raw,
                           gboolean phrase) {
  guint replaced = 0;
  char *v = tg_rfc2047_decode(raw, phrase, w->header_hint, &replaced);
  if (replaced)
    tg_mail_warn(w->mail, "header %s: %u undecodable byte(s) kept as U+FFFD",
                 name, replaced);
  return v;
}

/* "<a@b>" -> "a@b"; a Message-ID without brackets is kept as written. */
static char *clean_msgid(const char *s) {
  if (!s)
    return NULL;
  g_autofree char *t = g_strstrip(g_strdup(s));
  gsize n = strlen(t);
  if (n >= 2 && t[0] == '<' && t[n - 1] == '>') {
    t[n - 1] = 0;
    return g_strstrip(g_strdup(t + 1));
  }
  return n ? g_strdup(t) : NULL;
}

static void add_addresses(GPtrArray *into, InternetAddressList *list,
                          guint depth) {
  if (!list || depth > 4)
    return;
  int n = internet_address_list_length(list);
  for (int i = 0; i < n && into->len < 1000; i++) {
    InternetAddress *ia = internet_address_list_get_address(list, i);
    if (INTERNET_ADDRESS_IS_GROUP(ia)) {
      add_addresses(into,
                    internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia)),
                    depth + 1);
      continue;
    }
    const char *addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
    const char *name = internet_address_get_name(ia);
    g_autofree char *lower = NULL;
    if (addr) {
      /* Local parts are case-sensitive in theory, never in practice.
       * g_utf8_strdown() asks for the locale on every call; on ASCII it
       * only differs from g_ascii_strdown() on 'I' (dotless in Turkish). */
      gboolean ascii = TRUE;
      for (const char *c = addr; *c && ascii; c++)
        ascii = (guchar)*c < 0x80 && *c != 'I';
      lower = ascii ? g_ascii_strdown(addr, -1) : g_utf8_strdown(addr, -1);
    }
    g_ptr_array_add(into, tg_address_new(name, lower ? lower : ""));
  }
}

static void parse_address_header(Walk *w, GMimeParserOptions *opts,
                                 const char *name, const char *raw,
                                 GPtrArray *into) {
  g_autofree char *decoded = decode_header(w, name, raw, TRUE);
  InternetAddressList *list = internet_address_list_parse(opts, decoded);
  add_addresses(into, list, 0);
  if (list)
    g_object_unref(list);
}

static void add_references(GPtrArray *into, GMimeParserOptions *opts,
                           const char *raw) {
  GMimeReferences *refs = g_mime_references_parse(opts, raw);
  if (!refs)
    return;
  int n = g_mime_references_length(refs);
  for (int i = 0; i < n && into->len < 500; i++)
    g_ptr_array_add(into, g_strdup(g_mime_references_get_message_id(refs, i)));
  g_mime_references_free(refs);
}

static GBytes *part_content(GMimePart *part) {
  GMimeDataWrapper *dw = g_mime_part_get_content(part);
  if (!dw)
    return g_bytes_new(NULL, 0);
  /* Decoding never lengthens content, and the parser's substream knows
   * the encoded length: one buffer of that size, handed over as it is,
   * instead of a growing one copied at the end. */
  GMimeStream *src = g_mime_data_wrapper_get_stream(dw);
  gint64 encoded = src ? g_mime_stream_length(src) : -1;
  GByteArray *ba = g_byte_array_sized_new(
      encoded > 0 && encoded < G_MAXUINT32 ? (guint)encoded : 0);
  GMimeStream *mem = g_mime_stream_mem_new_with_byte_array(ba);
  g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(mem), FALSE);
  g_mime_data_wrapper_write_to_stream(dw, mem);
  g_object_unref(mem);
  return g_byte_array_free_to_bytes(ba);
}

static void add_attachment(Walk *w, const char *filename,
                           const char *content_type, GBytes *content) {
  TgAttachment *a = g_new0(TgAttachment, 1);
  a->filename = g_strdup(filename ? filename : "");
  a->content_type = g_ascii_strdown(content_type, -1);
  a->size = g_bytes_get_size(content);
  a->sha256 = tg_sha256_hex_bytes(content);
  a->content = g_bytes_ref(content);
  g_ptr_array_add(w->mail->attachments, a);
}

/* Pulls "begin 644 name" ... "end" blocks out of a text body as
 * attachments; returns the text without them, TEXT itself when it has
 * none.  (TEXT: transfer full; result: transfer full) */
static char *extract_uuencoded(Walk *w, char *text) {
  if (!strstr(text, "begin "))
    return text;
  GString *out = g_string_new(NULL);
  const char *p = text;
  while (*p) {
    const char *eol = strchr(p, '\n');
    gsize line_len = eol ? (gsize)(eol - p) : strlen(p);
    guint mode;
    char name[256];
    if (line_len > 10 && strncmp(p, "begin ", 6) == 0 &&
        sscanf(p, "begin %3o %255[^\r\n]", &mode, name) == 2) {
      const char *body = eol ? eol + 1 : p + line_len;
      const char *end_mark = strstr(body, "\nend");
      if (end_mark || strncmp(body, "end", 3) == 0) {
        const char *stop = end_mark ? end_mark + 1 : body;
        GMimeEncoding enc;
        g_mime_encoding_init_decode(&enc, GMIME_CONTENT_ENCODING_UUENCODE);
        /* GMime's decoder expects to start after the begin line. */
        enc.state |= GMIME_UUDECODE_STATE_BEGIN;
        gsize in_len = (gsize)(stop - body);
        guchar *buf = g_malloc(g_mime_encoding_outlen(&enc, in_len) + 4);
        gsize n = g_mime_encoding_step(&enc, body, in_len, (char *)buf);
        GBytes *content = g_bytes_new_take(buf, n);
        add_attachment(w, g_strstrip(name), "application/octet-stream",
                       content);
        g_bytes_unref(content);
        const char *after = strchr(stop, '\n');
        p = after ? after + 1 : stop + strlen(stop);
        continue;
      }
    }
    g_string_append_len(out, p, (gssize)line_len);
    if (eol)
      g_string_append_c(out, '\n');
    p = eol ? eol + 1 : p + line_len;
  }
  g_free(text);
  return g_string_free(out, FALSE);
}

static char *part_text(Walk *w, GMimeObject *obj, GBytes *content) {
  const char *charset = g_mime_object_get_content_type_parameter(obj, "charset");
  gsize len;
  const char *data = g_bytes_get_data(content, &len);
  guint replaced = 0;
  const char *used = NULL;
  /* NUL ends a C string: left in, it would silently cut the text short.
   * Only UTF-16/32 text has NULs for a reason. */
  g_autofree char *no_nul = NULL;
  if (data && memchr(data, 0, len) &&
      !(charset && (g_ascii_strncasecmp(charset, "utf-16", 6) == 0 ||
                    g_ascii_strncasecmp(charset, "utf-32", 6) == 0))) {
    no_nul = g_malloc(len);
    gsize n = 0;
    for (gsize i = 0; i < len; i++)
      if (data[i])
        no_nul[n++] = data[i];
    tg_mail_warn(w->mail, "body: %" G_GSIZE_FORMAT " NUL byte(s) removed", len - n);
    data = no_nul;
    len = n;
  }
  char *text = tg_charset_decode(charset, data ? data : "", len, &replaced, &used);
  if (replaced)
    tg_mail_warn(w->mail, "body (%s as %s): %u undecodable byte(s) kept as U+FFFD",
                 charset ? charset : "no charset", used, replaced);
  if (!w->mail->charset && charset)
    w->mail->charset = g_ascii_strdown(charset, -1);
  /* NUL and bare CR make no sense in text and confuse consumers.  Most
   * text has no CR left: strchr finds that out far faster than the loop. */
  char *dst = strchr(text, '\r');
  if (!dst)
    return text;
  for (char *src = dst; *src; src++) {
    if (*src == '\r' && src[1] == '\n')
      continue;
    *dst++ = *src == '\r' ? '\n' : *src;
  }
  *dst = 0;
  return text;
}

/* (TEXT: transfer full) */
static void append_text(TextRun *into, char *text) {
  if (!text[0]) {
    g_free(text);
    return;
  }
  if (!into->only && !into->many) {
    into->only = text;
    return;
  }
  if (!into->many) {
    into->many = g_string_new(into->only);
    g_clear_pointer(&into->only, g_free);
  }
  g_string_append(into->many, "\n\n");
  g_string_append(into->many, text);
  g_free(text);
}

static gboolean text_run_empty(const TextRun *r) { return !r->only && !r->many; }

/* The joined text, emptying R.  (transfer full) */
static char *text_run_steal(TextRun *r, gsize *len_r) {
  char *s;
  if (r->many)
    s = g_string_free(g_steal_pointer(&r->many), FALSE);
  else
    s = r->only ? g_steal_pointer(&r->only) : g_strdup("");
  if (len_r)
    *len_r = strlen(s);
  return s;
}

static void text_run_clear(TextRun *r) {
  g_clear_pointer(&r->only, g_free);
  if (r->many)
    g_string_free(g_steal_pointer(&r->many), TRUE);
}

static void walk(Walk *w, GMimeObject *obj, guint depth);

static void walk_message_part(Walk *w, GMimeMessagePart *mp, guint depth) {
  GMimeMessage *inner = g_mime_message_part_get_message(mp);
  if (!inner)
    return;
  /* A forwarded message reads as part of the body, with who and what. */
  GString *intro = g_string_new("---------- Forwarded message ----------\n");
  static const char *const shown[] = {"From", "Date", "Subject", "To", NULL};
  for (const char *const *h = shown; *h; h++) {
    const char *raw = g_mime_object_get_header(GMIME_OBJECT(inner), *h);
    if (raw) {
      g_autofree char *v = decode_header(w, *h, raw, FALSE);
      g_string_append_printf(intro, "%s: %s\n", *h, v);
    }
  }
  append_text(&w->plain, g_string_free(intro, FALSE));
  GMimeObject *body = g_mime_message_get_mime_part(inner);
  if (body)
    walk(w, body, depth + 1);
}

static GMimeObject *pick_alternative(GMimeMultipart *mp) {
  int n = g_mime_multipart_get_count(mp);
  GMimeObject *html = NULL, *other = NULL;
  for (int i = 0; i < n; i++) {
    GMimeObject *c = g_mime_multipart_get_part(mp, i);
    GMimeContentType *ct = g_mime_object_get_content_type(c);
    if (g_mime_content_type_is_type(ct, "text", "plain"))
      return c;
    if (g_mime_content_type_is_type(ct, "text", "html") && !html)
      html = c;
    if (!other)
      other = c;
  }
  return html ? html : other;
}

static void walk(Walk *w, GMimeObject *obj, guint depth) {
  if (depth > w->max_depth_seen)
    w->max_depth_seen = depth;
  if (depth > w->limits->mime_depth || w->parts > w->limits->mime_parts)
    return;
  w->parts++;
  if (GMIME_IS_MESSAGE_PART(obj)) {
    walk_message_part(w, GMIME_MESSAGE_PART(obj), depth);
    return;
  }
  if (GMIME_IS_MULTIPART(obj)) {
    GMimeMultipart *mp = GMIME_MULTIPART(obj);
    GMimeContentType *ct = g_mime_object_get_content_type(obj);
    if (g_mime_content_type_is_type(ct, "multipart", "alternative")) {
      GMimeObject *best = pick_alternative(mp);
      if (best)
        walk(w, best, depth + 1);
      return;
    }
    int n = g_mime_multipart_get_count(mp);
    for (int i = 0; i < n; i++)
      walk(w, g_mime_multipart_get_part(mp, i), depth + 1);
    return;
  }
  if (!GMIME_IS_PART(obj))
    return;
  GMimePart *part = GMIME_PART(obj);
  GMimeContentType *ct = g_mime_object_get_content_type(obj);
  GMimeContentDisposition *cd = g_mime_object_get_content_disposition(obj);
  gboolean is_attachment = cd && g_mime_content_disposition_is_attachment(cd);
  const char *raw_name = g_mime_part_get_filename(part);
  g_autofree char *filename = NULL;
  if (raw_name) {
    /* Loose mailers put RFC 2047 words in parameters; GMime may leave
     * them, or raw 8-bit text, for us. */
    filename = decode_header(w, "filename", raw_name, FALSE);
  }
  g_autoptr(GBytes) content = part_content(part);
  gboolean is_plain = g_mime_content_type_is_type(ct, "text", "plain");
  gboolean is_html = g_mime_content_type_is_type(ct, "text", "html");
  if ((is_plain || is_html) && !is_attachment) {
    char *text = part_text(w, obj, content);
    if (is_plain)
      append_text(&w->plain, extract_uuencoded(w, text));
    else
      append_text(&w->html, text);
    return;
  }
  g_autofree char *mime = g_mime_content_type_get_mime_type(ct);
  add_attachment(w, filename, mime, content);
}

static void collect_headers(Walk *w, GMimeParserOptions *opts,
                            GMimeMessage *message) {
  TgMail *m = w->mail;
  GMimeHeaderList *hl = g_mime_object_get_header_list(GMIME_OBJECT(message));
  int n = g_mime_header_list_get_count(hl);
  gboolean have_from = FALSE;
  for (int i = 0; i < n && (guint)i <= w->limits->header_count; i++) {
    GMimeHeader *h = g_mime_header_list_get_header_at(hl, i);
    const char *name = g_mime_header_get_name(h);
    const char *raw = g_mime_header_get_raw_value(h);
    if (!name || !raw)
      continue;
    TgHeader *th = g_new0(TgHeader, 1);
    th->name = g_strdup(name);
    gboolean is_address = g_ascii_strcasecmp(name, "From") == 0 ||
                          g_ascii_strcasecmp(name, "To") == 0 ||
                          g_ascii_strcasecmp(name, "Cc") == 0 ||
                          g_ascii_strcasecmp(name, "Reply-To") == 0;
    th->value = decode_header(w, name, raw, FALSE);
    g_ptr_array_add(m->headers, th);

    if (g_ascii_strcasecmp(name, "Subject") == 0 && !m->subject[0]) {
      g_free(m->subject);
      m->subject = g_strdup(th->value);
    } else if (is_address) {
      GPtrArray *into = g_ascii_strcasecmp(name, "To") == 0   ? m->to
                        : g_ascii_strcasecmp(name, "Cc") == 0 ? m->cc
                        : g_ascii_strcasecmp(name, "Reply-To") == 0
                            ? m->reply_to
                            : NULL;
      if (into) {
        parse_address_header(w, opts, name, raw, into);
      } else if (!have_from) {
        g_autoptr(GPtrArray) from = g_ptr_array_new_with_free_func(
            (GDestroyNotify)tg_address_free);
        parse_address_header(w, opts, name, raw, from);
        if (from->len > 0) {
          tg_address_free(m->from);
          m->from = g_ptr_array_steal_index(from, 0);
          have_from = TRUE;
        }
      }
    } else if (g_ascii_strcasecmp(name, "Message-ID") == 0 && !m->message_id) {
      m->message_id = clean_msgid(raw);
    } else if (g_ascii_strcasecmp(name, "In-Reply-To") == 0 && !m->in_reply_to) {
      g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func(g_free);
      add_references(ids, opts, raw);
      if (ids->len)
        m->in_reply_to = g_strdup(g_ptr_array_index(ids, 0));
    } else if (g_ascii_strcasecmp(name, "References") == 0) {
      add_references(m->references, opts, raw);
    } else if (g_ascii_strcasecmp(name, "Content-Language") == 0 &&
               !m->content_language) {
      m->content_language = g_strdup(th->value);
    }
  }
  /* Message-IDs are compared as stored: never let blanks or brackets in. */
  if (m->message_id && (strpbrk(m->message_id, " \t<>") || !m->message_id[0]))
    g_clear_pointer(&m->message_id, g_free);
  GDateTime *date = g_mime_message_get_date(message);
  if (date)
    m->date = g_date_time_to_unix(date);
}

TgMail *tg_mail_parse(GBytes *raw, const TgParseLimits *limits,
                      char **reason_r, GError **error) {
  tg_mail_parse_init();
  *reason_r = NULL;
  g_autoptr(TgMail) m = tg_mail_new();
  m->raw = g_bytes_ref(raw);
  m->raw_sha256 = tg_sha256_hex_bytes(raw);
  Walk w = {.mail = m, .limits = limits};

  GMimeParserOptions *opts = g_mime_parser_options_new();
  g_mime_parser_options_set_rfc2047_compliance_mode(opts, GMIME_RFC_COMPLIANCE_LOOSE);
  g_mime_parser_options_set_address_compliance_mode(opts, GMIME_RFC_COMPLIANCE_LOOSE);
  g_mime_parser_options_set_parameter_compliance_mode(opts, GMIME_RFC_COMPLIANCE_LOOSE);
  g_mime_parser_options_set_allow_addresses_without_domain(opts, TRUE);
  g_mime_parser_options_set_warning_callback(opts, on_parser_warning, &w);

  gsize len;
  const char *data = g_bytes_get_data(raw, &len);
  GMimeStream *stream = g_mime_stream_mem_new_with_buffer(data ? data : "", len);
  GMimeParser *parser = g_mime_parser_new_with_stream(stream);
  g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
  GMimeMessage *message = g_mime_parser_construct_message(parser, opts);
  g_object_unref(parser);
  g_object_unref(stream);

  TgMail *result = NULL;
  GMimeHeaderList *hl =
      message ? g_mime_object_get_header_list(GMIME_OBJECT(message)) : NULL;
  guint header_count = hl ? (guint)g_mime_header_list_get_count(hl) : 0;
  if (!message || header_count == 0) {
    *reason_r = g_strdup("unparseable");
    g_set_error(error, TG_PARSE_ERROR, 0, "no header could be read");
    goto out;
  }
  if (header_count > limits->header_count) {
    *reason_r = g_strdup("header-count");
    g_set_error(error, TG_PARSE_ERROR, 0, "%u header fields, limit %u",
                header_count, limits->header_count);
    goto out;
  }
  GMimeObject *text_part = g_mime_message_get_body(message);
  if (text_part)
    w.header_hint = g_mime_object_get_content_type_parameter(text_part, "charset");
  collect_headers(&w, opts, message);
  GMimeObject *body = g_mime_message_get_mime_part(message);
  if (body)
    walk(&w, body, 1);
  if (w.nesting_overflow || w.max_depth_seen > limits->mime_depth) {
    *reason_r = g_strdup("mime-depth");
    g_set_error(error, TG_PARSE_ERROR, 0, "MIME nesting deeper than %u",
                limits->mime_depth);
    goto out;
  }
  if (w.parts > limits->mime_parts) {
    *reason_r = g_strdup("mime-parts");
    g_set_error(error, TG_PARSE_ERROR, 0, "more than %u MIME parts",
                limits->mime_parts);
    goto out;
  }
  g_free(m->body);
  if (!text_run_empty(&w.plain)) {
    m->body = text_run_steal(&w.plain, NULL);
  } else {
    gsize html_len;
    g_autofree char *html = text_run_steal(&w.html, &html_len);
    m->body = tg_html_to_text(html, html_len);
  }
  result = g_steal_pointer(&m);
out:
  text_run_clear(&w.plain);
  text_run_clear(&w.html);
  if (message)
    g_object_unref(message);
  g_mime_parser_options_free(opts);
  return result;
}
