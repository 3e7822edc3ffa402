/*
 * language — language of a customer message.  Contract: language.h.
 */
#include "templates/language.h"

#include <string.h>

char *
language_normalize(const char *tag)
{
  if (!tag)
    return NULL;
  while (*tag == ' ' || *tag == '\t')
    tag++;
  gsize n = 0;
  while (g_ascii_isalpha(tag[n]))
    n++;
  if (n < 2 || n > 3 || (tag[n] && tag[n] != '-' && tag[n] != '_' && tag[n] != ',' && tag[n] != ' ' &&
                         tag[n] != ';'))
    return NULL;
  return g_ascii_strdown(tag, n);
}

static gboolean
charset_japanese(const char *cs)
{
  static const char *const names[] = {
    "iso-2022-jp", "shift_jis", "shift-jis", "sjis", "x-sjis", "cp932", "windows-31j",
    "euc-jp", "x-euc-jp", "ms932", NULL,
  };
  if (!cs)
    return FALSE;
  if (g_ascii_strncasecmp(cs, "iso-2022-jp", 11) == 0)  /* -1, -2, -3 */
    return TRUE;
  for (int i = 0; names[i]; i++)
    if (g_ascii_strcasecmp(cs, names[i]) == 0)
      return TRUE;
  return FALSE;
}

typedef struct {
  guint kana, kanji, latin;
} Counts;

/* Past the end of the line at P: a quoted line counts for nothing. */
static const char *
skip_line(const char *p, const char *end)
{
  const char *nl = memchr(p, '\n', (gsize)(end - p));
  return nl ? nl + 1 : end;
}

static void
count_script(const char *text, gsize len, Counts *c)
{
  const char *p = text, *end = text + MIN(len, LANGUAGE_SCAN_MAX);
  /* The first character of a line decides whether it is quoted; invalid
   * bytes are skipped and do not end the line start. */
  gboolean line_start = TRUE;
  while (p < end) {
    /* Inside a line, eight ASCII bytes without a newline at a time: each
     * byte's high bit says whether (b | 0x20) is in 'a'..'z'.  Most of a
     * message is such runs, and this was a byte at a time the biggest
     * loop of parsing a message after GMime's. */
    while (!line_start && end - p >= 8) {
      guint64 w;
      memcpy(&w, p, 8);
      const guint64 ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
      guint64 nl = w ^ (ones * '\n');
      if ((w & highs) || ((nl - ones) & ~nl & highs))
        break;
      guint64 x = w | (ones * 0x20);
      guint64 alpha = (x + ones * (0x80 - 'a')) & ~(x + ones * (0x80 - 'z' - 1)) & highs;
      c->latin += (guint)(((alpha >> 7) * ones) >> 56);
      p += 8;
    }
    if (p >= end)
      break;
    guchar b = (guchar)*p;
    if (b < 0x80) { /* most mail is mostly ASCII: no decoding, no branches */
      if (line_start && b == '>') {
        p = skip_line(p, end);
        continue;
      }
      line_start = b == '\n';
      c->latin += (guint)((b | 0x20) - 'a') < 26u;
      p++;
      continue;
    }
    gunichar ch = g_utf8_get_char_validated(p, end - p);
    if (ch == (gunichar)-1 || ch == (gunichar)-2) {
      p++;
      continue;
    }
    if (line_start && ch == 0xFF1E) { /* fullwidth ">" */
      p = skip_line(p, end);
      continue;
    }
    line_start = FALSE;
    p = g_utf8_next_char(p);
    if ((ch >= 0x3041 && ch <= 0x309F) || (ch >= 0x30A0 && ch <= 0x30FF) || (ch >= 0xFF66 && ch <= 0xFF9F))
      c->kana++;
    else if ((ch >= 0x4E00 && ch <= 0x9FFF) || (ch >= 0x3400 && ch <= 0x4DBF))
      c->kanji++;
    else if (g_ascii_isalpha(ch))
      c->latin++;
  }
}

const char *
language_detect(const char *charset, const char *content_language, const char *text, gssize len,
                const char *fallback)
{
  g_autofree char *cl = language_normalize(content_language);
  if (cl && strcmp(cl, "ja") == 0)
    return "ja";
  if (cl && strcmp(cl, "en") == 0)
    return "en";

  Counts c = {0};
  if (text)
    count_script(text, len < 0 ? strlen(text) : (gsize)len, &c);
  guint ja = c.kana + c.kanji;
  gboolean ja_share = ja * 100 >= (ja + c.latin) * 15;  /* at least 15% of the letters */
  if (c.kana > 0 && ja_share)
    return "ja";
  if (c.latin >= 20 && !ja_share)
    return "en";
  if (charset_japanese(charset))
    return "ja";
  if (c.latin > 0 && !ja_share)
    return "en";
  return fallback;
}
