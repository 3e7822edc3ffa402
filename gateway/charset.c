/* charset.c - decoding mail text to UTF-8 (contract in charset.h).
 *
 * SECURITY: input is peer data of any length; every loop advances by at
 * least one byte and output grows linearly (at most 3 bytes per input
 * byte), so decoding is linear in time and space.
 */
#include "gateway/charset.h"

#include <errno.h>
#include <string.h>

static const char REPLACEMENT[] = "\xEF\xBF\xBD";

/* iconv from FROM to UTF-8; undecodable bytes become U+FFFD one byte at a
 * time.  Returns NULL when the converter does not exist. */
static char *iconv_decode(const char *from, const char *data, gsize len,
                          guint *replaced_r) {
  GIConv cd = g_iconv_open("UTF-8", from);
  if (cd == (GIConv)-1)
    return NULL;
  GString *out = g_string_sized_new(len * 3 / 2 + 16);
  char *in = (char *)data;
  gsize in_left = len;
  char buf[4096];
  guint replaced = 0;
  while (in_left > 0) {
    char *o = buf;
    gsize o_left = sizeof buf;
    gsize rc = g_iconv(cd, &in, &in_left, &o, &o_left);
    g_string_append_len(out, buf, (gssize)(o - buf));
    if (rc == (gsize)-1) {
      if (errno == E2BIG)
        continue;
      /* EILSEQ or EINVAL (truncated sequence): replace one byte. */
      g_string_append(out, REPLACEMENT);
      replaced++;
      in++;
      in_left--;
      g_iconv(cd, NULL, NULL, NULL, NULL);
    }
  }
  /* Flush shift state of stateful encodings. */
  char *o = buf;
  gsize o_left = sizeof buf;
  g_iconv(cd, NULL, NULL, &o, &o_left);
  g_string_append_len(out, buf, (gssize)(o - buf));
  g_iconv_close(cd);
  char *s = g_string_free(out, FALSE);
  if (!g_utf8_validate(s, -1, NULL)) {
    /* glibc's UTF-8 reader passes surrogates (ED A0 80) through, e.g.
     * for a label like `utf-8"` that only iconv recognises. */
    char *valid = g_utf8_make_valid(s, -1);
    g_free(s);
    s = valid;
    replaced++;
  }
  if (replaced_r)
    *replaced_r += replaced;
  return s;
}

static char *strict_decode(const char *from, const char *data, gsize len) {
  guint replaced = 0;
  char *s = iconv_decode(from, data, len, &replaced);
  if (s && replaced) {
    g_free(s);
    return NULL;
  }
  return s;
}

/* CP932 differs from JIS X 0208 on six characters of row 1-2; map them
 * back so that text labelled ISO-2022-JP or Shift_JIS reads as JIS meant. */
static char *jis_fixups(char *utf8) {
  static const struct { gunichar from, to; } fix[] = {
      {0xFF5E, 0x301C}, /* FULLWIDTH TILDE -> WAVE DASH */
      {0x2225, 0x2016}, /* PARALLEL TO -> DOUBLE VERTICAL LINE */
      {0xFF0D, 0x2212}, /* FULLWIDTH HYPHEN-MINUS -> MINUS SIGN */
      {0xFFE0, 0x00A2}, /* FULLWIDTH CENT SIGN -> CENT SIGN */
      {0xFFE1, 0x00A3}, /* FULLWIDTH POUND SIGN -> POUND SIGN */
  };
  /* All sources are 3-byte sequences starting with 0xE2 or 0xEF. */
  if (!strstr(utf8, "\xEF\xBD\x9E") && !strstr(utf8, "\xE2\x88\xA5") &&
      !strstr(utf8, "\xEF\xBC\x8D") && !strstr(utf8, "\xEF\xBF\xA0") &&
      !strstr(utf8, "\xEF\xBF\xA1"))
    return utf8;
  GString *out = g_string_sized_new(strlen(utf8));
  for (const char *p = utf8; *p; p = g_utf8_next_char(p)) {
    gunichar c = g_utf8_get_char(p);
    for (gsize i = 0; i < G_N_ELEMENTS(fix); i++)
      if (c == fix[i].from) {
        c = fix[i].to;
        break;
      }
    g_string_append_unichar(out, c);
  }
  g_free(utf8);
  return g_string_free(out, FALSE);
}

static void flush_sjis(GString *out, GString *sjis, guint *replaced) {
  if (sjis->len == 0)
    return;
  char *s = iconv_decode("CP932", sjis->str, sjis->len, replaced);
  if (!s) /* no CP932 converter at all: fall back on plain Shift_JIS */
    s = iconv_decode("SHIFT_JIS", sjis->str, sjis->len, replaced);
  if (s)
    g_string_append(out, s);
  g_free(s);
  g_string_truncate(sjis, 0);
}

/* ISO-2022-JP (and its CP50220/CP50221/CP50222 supersets) by converting
 * the JIS code points to Shift_JIS arithmetic and reading them as CP932. */
static char *jis_decode(const char *data, gsize len, guint *replaced) {
  enum { ASCII, KANJI, KANA, UNSUPPORTED } mode = ASCII, saved = ASCII;
  GString *out = g_string_sized_new(len * 2 + 16);
  GString *sjis = g_string_sized_new(len + 16);
  const guchar *p = (const guchar *)data, *end = p + len;
  while (p < end) {
    if (*p == 0x1B) {
      gsize left = (gsize)(end - p);
      if (left >= 3 && p[1] == '(' && (p[2] == 'B' || p[2] == 'J')) {
        mode = ASCII, p += 3;
        continue;
      }
      if (left >= 3 && p[1] == '$' && (p[2] == 'B' || p[2] == '@')) {
        mode = KANJI, p += 3;
        continue;
      }
      if (left >= 3 && p[1] == '(' && p[2] == 'I') {
        mode = KANA, p += 3;
        continue;
      }
      if (left >= 4 && p[1] == '$' && p[2] == '(' &&
          (p[3] == 'D' || p[3] == 'Q' || p[3] == 'O' || p[3] == 'P')) {
        mode = UNSUPPORTED, p += 4; /* JIS X 0212/0213: not in CP932 */
        continue;
      }
      if (left >= 4 && p[1] == '$' && p[2] == '(' && p[3] == 'B') {
        mode = KANJI, p += 4;
        continue;
      }
      /* An escape we do not know: keep going, but say so. */
      flush_sjis(out, sjis, replaced);
      g_string_append(out, REPLACEMENT);
      (*replaced)++;
      p++;
      continue;
    }
    if (*p == 0x0E) { /* SO: half-width katakana (CP50222) */
      saved = mode, mode = KANA, p++;
      continue;
    }
    if (*p == 0x0F) { /* SI */
      mode = saved == KANA ? ASCII : saved, p++;
      continue;
    }
    if (*p == '\n' || *p == '\r') {
      /* Encoders reset at line end; tolerate those that forget. */
      if (mode != KANA)
        mode = ASCII;
      g_string_append_c(sjis, (char)*p++);
      continue;
    }
    switch (mode) {
    case ASCII:
      if (*p < 0x80) {
        g_string_append_c(sjis, (char)*p);
      } else {
        flush_sjis(out, sjis, replaced);
        g_string_append(out, REPLACEMENT);
        (*replaced)++;
      }
      p++;
      break;
    case KANA:
      if (*p >= 0x21 && *p <= 0x5F)
        g_string_append_c(sjis, (char)(*p + 0x80));
      else if (*p >= 0xA1 && *p <= 0xDF) /* 8-bit kana, JIS8 style */
        g_string_append_c(sjis, (char)*p);
      else
        g_string_append_c(sjis, (char)(*p < 0x80 ? *p : '?'));
      p++;
      break;
    case KANJI:
    case UNSUPPORTED:
      if (end - p < 2 || p[0] < 0x21 || p[0] > 0x7E || p[1] < 0x21 ||
          p[1] > 0x7E) {
        if (*p == ' ' || *p == '\t') { /* stray blank inside kanji mode */
          g_string_append_c(sjis, (char)*p++);
          break;
        }
        flush_sjis(out, sjis, replaced);
        g_string_append(out, REPLACEMENT);
        (*replaced)++;
        p++;
        break;
      }
      if (mode == UNSUPPORTED) {
        flush_sjis(out, sjis, replaced);
        g_string_append(out, REPLACEMENT);
        (*replaced)++;
      } else {
        guint j1 = p[0], j2 = p[1];
        guint s1 = ((j1 + 1) >> 1) + (j1 <= 0x5E ? 0x70 : 0xB0);
        guint s2 = j2 + ((j1 & 1) ? (j2 >= 0x60 ? 0x20 : 0x1F) : 0x7E);
        g_string_append_c(sjis, (char)s1);
        g_string_append_c(sjis, (char)s2);
      }
      p += 2;
      break;
    }
  }
  flush_sjis(out, sjis, replaced);
  g_string_free(sjis, TRUE);
  return jis_fixups(g_string_free(out, FALSE));
}

static gboolean has_jis_escape(const char *data, gsize len) {
  /* One pass for ESC (rare in anything but JIS) instead of a memmem per
   * sequence: this runs over every text body. */
  const char *p = data, *end = data + len;
  while ((p = memchr(p, 0x1b, (gsize)(end - p))) && end - p >= 3) {
    if ((p[1] == '$' && (p[2] == 'B' || p[2] == '@')) || (p[1] == '(' && p[2] == 'I'))
      return TRUE;
    p++;
  }
  return FALSE;
}

/* g_utf8_validate_len() goes byte by byte, and every text body passes
 * here at least twice.  Most mail is ASCII, which eight bytes at a time
 * settle; the rest from the first byte that is not (NUL included: GLib
 * calls text with NULs invalid). */
static gboolean utf8_valid(const char *data, gsize len) {
  const guint64 high = 0x8080808080808080ull, ones = 0x0101010101010101ull;
  gsize i = 0;
  for (; i + 8 <= len; i += 8) {
    guint64 w;
    memcpy(&w, data + i, 8);
    if ((w & high) || ((w - ones) & ~w & high))
      break;
  }
  return g_utf8_validate_len(data + i, len - i, NULL);
}

static gboolean all_ascii(const char *data, gsize len) {
  for (gsize i = 0; i < len; i++)
    if ((guchar)data[i] >= 0x80)
      return FALSE;
  return TRUE;
}

/* Whether decoded text reads as Japanese: most non-ASCII characters are
 * kana or CJK, and they come as Japanese does - with kana, or in runs.
 * Latin-1 read as Shift_JIS gives lone ideographs between ASCII letters
 * ("Forma\xe7\xe3o" -> "Forma鈬o"), which this rejects. */
static gboolean looks_japanese(const char *utf8) {
  guint non_ascii = 0, japanese = 0;
  gboolean kana = FALSE, run = FALSE, prev_cjk = FALSE;
  for (const char *p = utf8; *p; p = g_utf8_next_char(p)) {
    gunichar c = g_utf8_get_char(p);
    gboolean cjk = (c >= 0x3000 && c <= 0x30FF) || (c >= 0x4E00 && c <= 0x9FFF) ||
                   (c >= 0xFF01 && c <= 0xFF5E);
    if (c >= 0x3040 && c <= 0x30FF)
      kana = TRUE;
    if (cjk && prev_cjk)
      run = TRUE;
    prev_cjk = cjk;
    if (c < 0x80)
      continue;
    non_ascii++;
    if (cjk)
      japanese++;
  }
  return non_ascii && japanese * 100 / non_ascii >= 60 && (kana || run);
}

const char *tg_charset_guess(const char *data, gsize len) {
  if (utf8_valid(data, len))
    return "UTF-8";
  if (has_jis_escape(data, len))
    return "ISO-2022-JP";
  g_autofree char *euc = strict_decode("EUC-JP", data, len);
  if (euc && looks_japanese(euc))
    return "EUC-JP";
  g_autofree char *sjis = strict_decode("CP932", data, len);
  if (sjis && looks_japanese(sjis))
    return "CP932";
  return "WINDOWS-1252";
}

typedef enum { CS_OTHER, CS_UTF8, CS_LATIN, CS_JIS, CS_SJIS, CS_CP932,
               CS_EUCJP, CS_KR, CS_GB, CS_BIG5, CS_GUESS } CharsetKind;

static CharsetKind classify(const char *lower) {
  static const struct { const char *name; CharsetKind kind; } table[] = {
      {"utf-8", CS_UTF8}, {"utf8", CS_UTF8}, {"unicode-1-1-utf-8", CS_UTF8},
      {"us-ascii", CS_LATIN}, {"ascii", CS_LATIN}, {"iso-8859-1", CS_LATIN},
      {"iso8859-1", CS_LATIN}, {"latin1", CS_LATIN}, {"iso_8859-1", CS_LATIN},
      {"ansi_x3.4-1968", CS_LATIN}, {"windows-1252", CS_LATIN},
      {"cp1252", CS_LATIN},
      {"iso-2022-jp", CS_JIS}, {"csiso2022jp", CS_JIS}, {"jis", CS_JIS},
      {"iso-2022-jp-1", CS_JIS}, {"iso-2022-jp-2", CS_JIS},
      {"iso-2022-jp-3", CS_JIS}, {"iso-2022-jp-ms", CS_JIS},
      {"cp50220", CS_JIS}, {"cp50221", CS_JIS}, {"cp50222", CS_JIS},
      {"shift_jis", CS_SJIS}, {"shift-jis", CS_SJIS}, {"sjis", CS_SJIS},
      {"x-sjis", CS_SJIS}, {"ms_kanji", CS_SJIS}, {"csshiftjis", CS_SJIS},
      {"x-shift_jis", CS_SJIS}, {"shift_jisx0213", CS_SJIS},
      {"cp932", CS_CP932}, {"windows-31j", CS_CP932}, {"ms932", CS_CP932},
      {"x-ms-cp932", CS_CP932}, {"ibm-943", CS_CP932},
      {"euc-jp", CS_EUCJP}, {"x-euc-jp", CS_EUCJP}, {"eucjp", CS_EUCJP},
      {"euc-jp-ms", CS_EUCJP}, {"cseucpkdfmtjapanese", CS_EUCJP},
      {"ks_c_5601-1987", CS_KR}, {"ks_c_5601", CS_KR}, {"euc-kr", CS_KR},
      {"korean", CS_KR}, {"cp949", CS_KR}, {"windows-949", CS_KR},
      {"gb2312", CS_GB}, {"gbk", CS_GB}, {"x-gbk", CS_GB}, {"cp936", CS_GB},
      {"euc-cn", CS_GB}, {"gb18030", CS_GB}, {"x-gb2312", CS_GB},
      {"big5", CS_BIG5}, {"big5-hkscs", CS_BIG5}, {"cp950", CS_BIG5},
      {"x-x-big5", CS_BIG5},
      {"unknown-8bit", CS_GUESS}, {"x-unknown", CS_GUESS},
      {"8bit", CS_GUESS}, {"default", CS_GUESS}, {"", CS_GUESS},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(table); i++)
    if (strcmp(lower, table[i].name) == 0)
      return table[i].kind;
  return CS_OTHER;
}

static char *decode_invalid_utf8(const char *data, gsize len, guint *replaced);

static char *decode_utf8(const char *data, gsize len, guint *replaced) {
  if (utf8_valid(data, len))
    return g_strndup(data, len);
  return decode_invalid_utf8(data, len, replaced);
}

static char *decode_invalid_utf8(const char *data, gsize len, guint *replaced) {
  /* Count what make_valid will replace, so the caller can warn. */
  const char *p = data, *end = data + len, *bad;
  while (p < end && !g_utf8_validate_len(p, (gsize)(end - p), &bad)) {
    (*replaced)++;
    p = bad + 1;
  }
  return g_utf8_make_valid(data, (gssize)len);
}

char *tg_charset_decode(const char *label, const char *data, gsize len,
                        guint *replaced_r, const char **used_r) {
  guint replaced_local = 0;
  guint *replaced = replaced_r ? replaced_r : &replaced_local;
  const char *used_dummy;
  const char **used = used_r ? used_r : &used_dummy;
  g_autofree char *lower = NULL;
  if (label) {
    lower = g_ascii_strdown(label, -1);
    g_strstrip(lower);
    if (lower[0] == '"') { /* "charset=\"utf-8\"" survived a loose parse */
      memmove(lower, lower + 1, strlen(lower));
      char *q = strchr(lower, '"');
      if (q)
        *q = 0;
    }
  }
  if (len == 0) {
    *used = "UTF-8";
    return g_strdup("");
  }
  CharsetKind kind = classify(lower ? lower : "");
  if (kind != CS_JIS && has_jis_escape(data, len))
    kind = CS_JIS; /* missing or wrong label on ISO-2022-JP text */
  /* Whether DATA is valid UTF-8, once known: it settles most bodies, and
   * a second scan of 4 KB is not free. */
  int valid = -1;
  if (kind == CS_LATIN && all_ascii(data, len))
    kind = CS_UTF8; /* not "valid": GLib calls NUL invalid */
  if (kind == CS_LATIN && (valid = utf8_valid(data, len)))
    kind = CS_UTF8; /* 8-bit UTF-8 mislabelled as ASCII or Latin-1 */
  if (kind == CS_UTF8 && valid < 0)
    valid = utf8_valid(data, len);
  if (kind == CS_UTF8 && !valid) {
    const char *guess = tg_charset_guess(data, len);
    if (strcmp(guess, "EUC-JP") == 0)
      kind = CS_EUCJP;
    else if (strcmp(guess, "CP932") == 0)
      kind = CS_SJIS;
  }
  if (kind == CS_GUESS) {
    const char *guess = tg_charset_guess(data, len);
    kind = strcmp(guess, "UTF-8") == 0     ? CS_UTF8
           : strcmp(guess, "ISO-2022-JP") == 0 ? CS_JIS
           : strcmp(guess, "EUC-JP") == 0  ? CS_EUCJP
           : strcmp(guess, "CP932") == 0   ? CS_SJIS
                                           : CS_LATIN;
  }
  char *s = NULL;
  switch (kind) {
  case CS_UTF8:
    *used = "UTF-8";
    if (valid < 0)
      return decode_utf8(data, len, replaced);
    return valid ? g_strndup(data, len) : decode_invalid_utf8(data, len, replaced);
  case CS_JIS:
    *used = "ISO-2022-JP";
    return jis_decode(data, len, replaced);
  case CS_SJIS:
    *used = "SHIFT_JIS";
    s = iconv_decode("CP932", data, len, replaced);
    return s ? jis_fixups(s) : decode_utf8(data, len, replaced);
  case CS_CP932:
    *used = "CP932";
    s = iconv_decode("CP932", data, len, replaced);
    return s ? s : decode_utf8(data, len, replaced);
  case CS_EUCJP:
    *used = "EUC-JP";
    if ((s = strict_decode("EUC-JP", data, len)))
      return s;
    if ((s = strict_decode("EUC-JP-MS", data, len)))
      return s;
    s = iconv_decode("EUC-JP-MS", data, len, replaced);
    return s ? s : decode_utf8(data, len, replaced);
  case CS_KR:
    *used = "CP949";
    s = iconv_decode("CP949", data, len, replaced);
    return s ? s : decode_utf8(data, len, replaced);
  case CS_GB:
    *used = "GB18030";
    s = iconv_decode("GB18030", data, len, replaced);
    return s ? s : decode_utf8(data, len, replaced);
  case CS_BIG5:
    *used = "BIG5-HKSCS"; /* superset of Big5 and CP950 */
    s = iconv_decode("BIG5-HKSCS", data, len, replaced);
    return s ? s : decode_utf8(data, len, replaced);
  case CS_LATIN:
    *used = "WINDOWS-1252";
    if ((s = strict_decode("WINDOWS-1252", data, len)))
      return s;
    *used = "ISO-8859-1"; /* the five bytes 1252 leaves undefined */
    return iconv_decode("ISO-8859-1", data, len, replaced);
  case CS_OTHER:
  case CS_GUESS:
    break;
  }
  /* A label iconv knows (iso-8859-x, windows-125x, koi8-r, ...). */
  guint before = *replaced;
  s = iconv_decode(lower, data, len, replaced);
  if (s) {
    *used = "declared";
    return s;
  }
  *replaced = before;
  /* Unknown label: guess rather than drop. */
  return tg_charset_decode(NULL, data, len, replaced, used);
}
