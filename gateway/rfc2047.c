/* rfc2047.c - decoding header text (contract in rfc2047.h).
 *
 * SECURITY: RAW is peer data.  One left-to-right pass; the search for an
 * encoded word's end is bounded (MAX_WORD), so a header full of "=?"
 * cannot make it quadratic.
 */
#include "gateway/rfc2047.h"
#include "gateway/charset.h"

#include <string.h>

#define MAX_WORD 4096

typedef struct {
  GString *out;
  gboolean phrase;
  gboolean in_quotes;       /* inside a quoted-string of the plain text */
  char *run_charset;        /* charset of the pending encoded run */
  GByteArray *run;          /* decoded bytes of the pending encoded run */
  const char *hint;         /* charset for raw 8-bit text, or NULL */
  guint *replaced;
} Decoder;

static int hexval(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

static void decode_q(const char *p, gsize len, GByteArray *out) {
  for (gsize i = 0; i < len; i++) {
    guint8 b = (guint8)p[i];
    if (p[i] == '_') {
      b = ' ';
    } else if (p[i] == '=' && i + 2 < len && hexval(p[i + 1]) >= 0 &&
               hexval(p[i + 2]) >= 0) {
      b = (guint8)(hexval(p[i + 1]) * 16 + hexval(p[i + 2]));
      i += 2;
    }
    g_byte_array_append(out, &b, 1);
  }
}

static void decode_b(const char *p, gsize len, GByteArray *out) {
  gint state = 0;
  guint save = 0;
  gsize start = out->len;
  g_byte_array_set_size(out, (guint)(start + len * 3 / 4 + 3));
  /* g_base64_decode_step skips characters outside the alphabet, which is
   * what broken encoders (blanks, missing padding) need. */
  gsize n = g_base64_decode_step(p, len, out->data + start, &state, &save);
  g_byte_array_set_size(out, (guint)(start + n));
}

static void emit_text(Decoder *d, const char *utf8) {
  if (!d->phrase || d->in_quotes || !strpbrk(utf8, "()<>@,;:\\\".[]")) {
    g_string_append(d->out, utf8);
    return;
  }
  g_string_append_c(d->out, '"');
  for (const char *c = utf8; *c; c++) {
    if (*c == '"' || *c == '\\')
      g_string_append_c(d->out, '\\');
    g_string_append_c(d->out, *c);
  }
  g_string_append_c(d->out, '"');
}

static void flush_run(Decoder *d) {
  if (!d->run_charset)
    return;
  char *text = tg_charset_decode(d->run_charset, (const char *)d->run->data,
                                 d->run->len, d->replaced, NULL);
  /* Controls (including NUL, CR, LF) from decoded words would let peer data
   * forge structure downstream; blanks are the honest reading. */
  for (char *c = text; *c; c++)
    if ((guchar)*c < 0x20 || *c == 0x7F)
      *c = ' ';
  emit_text(d, text);
  g_free(text);
  g_clear_pointer(&d->run_charset, g_free);
  g_byte_array_set_size(d->run, 0);
}

static void emit_plain(Decoder *d, const char *p, gsize len) {
  flush_run(d);
  for (gsize i = 0; i < len; i++) {
    if (p[i] == '"' && (i == 0 || p[i - 1] != '\\'))
      d->in_quotes = !d->in_quotes;
  }
  /* Valid UTF-8 is UTF-8 (RFC 6532) whatever the body says. */
  const char *label = g_utf8_validate_len(p, len, NULL) ? "utf-8" : d->hint;
  char *text = tg_charset_decode(label, p, len, d->replaced, NULL);
  for (char *c = text; *c; c++)
    if ((guchar)*c < 0x20 || *c == 0x7F)
      *c = ' ';
  g_string_append(d->out, text);
  g_free(text);
}

/* Parses "=?charset?e?text?=" at P; returns its length or 0. */
static gsize parse_word(const char *p, const char *end, char **charset_r,
                        char *enc_r, const char **text_r, gsize *text_len_r) {
  if (end - p < 8 || p[0] != '=' || p[1] != '?')
    return 0;
  const char *cs = p + 2;
  const char *q = memchr(cs, '?', (gsize)MIN(end - cs, 80));
  if (!q || q == cs || end - q < 4 || q[2] != '?')
    return 0;
  char enc = g_ascii_toupper(q[1]);
  if (enc != 'B' && enc != 'Q')
    return 0;
  const char *text = q + 3;
  gsize limit = (gsize)MIN(end - text, MAX_WORD);
  const char *close = NULL;
  for (gsize i = 0; i + 1 < limit; i++) {
    if (text[i] == '?' && text[i + 1] == '=') {
      close = text + i;
      break;
    }
  }
  if (!close)
    return 0;
  char *charset = g_strndup(cs, (gsize)(q - cs));
  char *star = strchr(charset, '*'); /* RFC 2231 language suffix */
  if (star)
    *star = 0;
  *charset_r = charset;
  *enc_r = enc;
  *text_r = text;
  *text_len_r = (gsize)(close - text);
  return (gsize)(close + 2 - p);
}

/* Most header values are printable ASCII without an encoded word.  For
 * them the decoder below amounts to: unfold, controls to blanks, strip.
 * Returns NULL, having changed nothing, for anything else. */
static char *decode_plain_ascii(const char *raw) {
  gsize len = strlen(raw);
  char *out = g_malloc(len + 1), *o = out;
  for (const char *r = raw; *r; r++) {
    guchar c = (guchar)*r;
    /* ESC would make the charset decoder read ISO-2022-JP; "=" then "?"
     * may start an encoded word, even with a line break between them. */
    if (c >= 0x80 || c == 0x1B ||
        (c == '=' && (r[1] == '?' || r[1] == '\r' || r[1] == '\n'))) {
      g_free(out);
      return NULL;
    }
    if (c == '\r' || c == '\n')
      continue;
    *o++ = c < 0x20 || c == 0x7F ? ' ' : (char)c;
  }
  *o = 0;
  return g_strstrip(out);
}

char *tg_rfc2047_decode(const char *raw, gboolean phrase, const char *hint,
                        guint *replaced_r) {
  char *fast = decode_plain_ascii(raw ? raw : "");
  if (fast)
    return fast;
  guint replaced_local = 0;
  Decoder d = {
      .out = g_string_new(NULL),
      .phrase = phrase,
      .hint = hint,
      .run = g_byte_array_new(),
      .replaced = replaced_r ? replaced_r : &replaced_local,
  };
  /* Unfold: CR and LF go; the blank that follows them stays. */
  g_autofree char *text = g_strdup(raw ? raw : "");
  char *w = text;
  for (char *r = text; *r; r++)
    if (*r != '\r' && *r != '\n')
      *w++ = *r;
  *w = 0;

  const char *p = text, *end = text + strlen(text);
  const char *plain = p;        /* start of pending plain text */
  gboolean last_was_word = FALSE;
  while (p < end) {
    char *charset = NULL;
    char enc = 0;
    const char *wtext;
    gsize wlen;
    gsize n = (*p == '=' && p + 1 < end && p[1] == '?')
                  ? parse_word(p, end, &charset, &enc, &wtext, &wlen)
                  : 0;
    if (!n) {
      p++;
      continue;
    }
    /* Blanks between two encoded words vanish (RFC 2047 6.2). */
    gboolean only_blanks = TRUE;
    for (const char *c = plain; c < p; c++)
      if (*c != ' ' && *c != '\t')
        only_blanks = FALSE;
    if (!(last_was_word && only_blanks) && p > plain)
      emit_plain(&d, plain, (gsize)(p - plain));
    if (d.run_charset && g_ascii_strcasecmp(d.run_charset, charset) != 0)
      flush_run(&d);
    if (!d.run_charset)
      d.run_charset = g_strdup(charset);
    if (enc == 'B')
      decode_b(wtext, wlen, d.run);
    else
      decode_q(wtext, wlen, d.run);
    g_free(charset);
    p += n;
    plain = p;
    last_was_word = TRUE;
  }
  if (p > plain)
    emit_plain(&d, plain, (gsize)(p - plain));
  flush_run(&d);
  g_free(d.run_charset);
  g_byte_array_unref(d.run);
  char *result = g_string_free(d.out, FALSE);
  return g_strstrip(result);
}
