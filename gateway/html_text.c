/* html_text.c - HTML to text (contract in html_text.h).
 *
 * SECURITY: input is peer data; every loop moves forward, tag names and
 * entity names are read with fixed bounds.
 */
#include "gateway/html_text.h"

#include <string.h>

typedef struct {
  GString *out;
  gboolean pending_space;
  guint newlines; /* trailing newlines already in OUT */
} TextSink;

static void sink_char(TextSink *s, const char *c, gsize n) {
  if (s->pending_space && s->newlines == 0 && s->out->len > 0)
    g_string_append_c(s->out, ' ');
  s->pending_space = FALSE;
  g_string_append_len(s->out, c, (gssize)n);
  s->newlines = 0;
}

static void sink_space(TextSink *s) { s->pending_space = TRUE; }

static void sink_break(TextSink *s, guint want) {
  s->pending_space = FALSE;
  if (s->out->len == 0)
    return;
  while (s->newlines < want) {
    g_string_append_c(s->out, '\n');
    s->newlines++;
  }
}

static const struct { const char *name; const char *utf8; } entities[] = {
    {"amp", "&"},      {"lt", "<"},        {"gt", ">"},
    {"quot", "\""},    {"apos", "'"},      {"nbsp", " "},
    {"copy", "\u00a9"}, {"reg", "\u00ae"},  {"trade", "\u2122"},
    {"hellip", "\u2026"}, {"mdash", "\u2014"}, {"ndash", "\u2013"},
    {"laquo", "\u00ab"}, {"raquo", "\u00bb"}, {"yen", "\u00a5"},
    {"euro", "\u20ac"}, {"middot", "\u00b7"}, {"bull", "\u2022"},
    {"lsquo", "\u2018"}, {"rsquo", "\u2019"}, {"ldquo", "\u201c"},
    {"rdquo", "\u201d"},
};

/* Decodes the reference at P (after '&'); returns bytes consumed or 0. */
static gsize decode_entity(const char *p, const char *end, TextSink *s) {
  gsize max = (gsize)MIN(end - p, 12);
  const char *semi = memchr(p, ';', max);
  if (!semi)
    return 0;
  gsize n = (gsize)(semi - p);
  if (n >= 2 && p[0] == '#') {
    gboolean hex = p[1] == 'x' || p[1] == 'X';
    g_autofree char *num = g_strndup(p + (hex ? 2 : 1), n - (hex ? 2 : 1));
    char *endp;
    guint64 v = g_ascii_strtoull(num, &endp, hex ? 16 : 10);
    if (*endp || !num[0])
      return 0;
    gunichar c = (v == 0 || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
                     ? 0xFFFD
                     : (gunichar)v;
    if (c == 0xA0)
      c = ' ';
    char buf[8];
    gint len = g_unichar_to_utf8(c, buf);
    if (c < 0x20 && c != '\t')
      sink_space(s);
    else
      sink_char(s, buf, (gsize)len);
    return n + 1;
  }
  for (gsize i = 0; i < G_N_ELEMENTS(entities); i++) {
    if (strlen(entities[i].name) == n && memcmp(p, entities[i].name, n) == 0) {
      if (strcmp(entities[i].name, "nbsp") == 0)
        sink_space(s);
      else
        sink_char(s, entities[i].utf8, strlen(entities[i].utf8));
      return n + 1;
    }
  }
  return 0;
}

static gboolean name_is(const char *name, const char *const *list) {
  for (; *list; list++)
    if (g_ascii_strcasecmp(name, *list) == 0)
      return TRUE;
  return FALSE;
}

char *tg_html_to_text(const char *html, gsize len) {
  static const char *const blocks[] = {
      "p", "div", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote",
      "ul", "ol", "table", "pre", "hr", "section", "article", "header",
      "footer", "address", "dl", "dt", "dd", "title", NULL};
  static const char *const skipped[] = {"script", "style", "head", NULL};
  TextSink s = {.out = g_string_sized_new(len / 2 + 16)};
  const char *p = html, *end = html + len;
  const char *skip_until = NULL; /* closing tag name we are skipping to */

  while (p < end) {
    if (*p == '<') {
      if (end - p >= 4 && memcmp(p, "<!--", 4) == 0) {
        const char *close = g_strstr_len(p + 4, end - p - 4, "-->");
        p = close ? close + 3 : end;
        continue;
      }
      const char *gt = memchr(p, '>', (gsize)(end - p));
      if (!gt) /* unterminated tag: the rest is not text */
        break;
      const char *n = p + 1;
      gboolean closing = *n == '/';
      if (closing)
        n++;
      char name[16];
      gsize nl = 0;
      while (n < gt && nl < sizeof name - 1 &&
             (g_ascii_isalnum(*n) || *n == '-'))
        name[nl++] = *n++;
      name[nl] = 0;
      p = gt + 1;
      if (skip_until) {
        if (closing && g_ascii_strcasecmp(name, skip_until) == 0)
          skip_until = NULL;
        continue;
      }
      if (!closing && name_is(name, skipped)) {
        skip_until = g_ascii_strcasecmp(name, "script") == 0  ? "script"
                     : g_ascii_strcasecmp(name, "style") == 0 ? "style"
                                                              : "head";
        continue;
      }
      if (g_ascii_strcasecmp(name, "br") == 0)
        sink_break(&s, 1);
      else if (g_ascii_strcasecmp(name, "li") == 0 && !closing) {
        sink_break(&s, 1);
        sink_char(&s, "- ", 2);
      } else if (name_is(name, blocks))
        sink_break(&s, g_ascii_strcasecmp(name, "p") == 0 ? 2 : 1);
      else if (g_ascii_strcasecmp(name, "td") == 0 ||
               g_ascii_strcasecmp(name, "th") == 0)
        sink_space(&s);
      continue;
    }
    if (skip_until) {
      const char *lt = memchr(p, '<', (gsize)(end - p));
      p = lt ? lt : end;
      continue;
    }
    if (*p == '&') {
      gsize used = decode_entity(p + 1, end, &s);
      if (used) {
        p += used + 1;
        continue;
      }
    }
    if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\f') {
      sink_space(&s);
      p++;
      continue;
    }
    const char *next = g_utf8_next_char(p);
    if (next > end)
      next = end;
    sink_char(&s, p, (gsize)(next - p));
    p = next;
  }
  while (s.out->len && s.out->str[s.out->len - 1] == '\n')
    g_string_truncate(s.out, s.out->len - 1);
  return g_string_free(s.out, FALSE);
}
