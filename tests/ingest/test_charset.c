/* test_charset.c - charset decoding and RFC 2047 header decoding.
 *
 * Expected strings are exact UTF-8.  Inputs are built here byte by byte,
 * so the tests stand without ../shared; the gmime-testdata samples are an
 * extra check when present.
 */
#include "gateway/charset.h"
#include "gateway/rfc2047.h"

#include <string.h>

static void check_decode(const char *label, const char *bytes, gsize len,
                         const char *expected, guint expected_replaced) {
  guint replaced = 0;
  g_autofree char *out = tg_charset_decode(label, bytes, len, &replaced, NULL);
  g_assert_true(g_utf8_validate(out, -1, NULL));
  g_assert_cmpstr(out, ==, expected);
  g_assert_cmpuint(replaced, ==, expected_replaced);
}

/* ISO-2022-JP with NEC special characters (row 13: ① 0x2D21, ㈱ 0x2D6A,
 * № 0x2D62), an NEC-selected IBM extension (髙, row 92: 0x7C62 = CP932
 * 0xEEE0), which glibc's ISO-2022-JP refuses, and the wave dash (0x2141). */
static void test_iso2022jp_nec(void) {
  const char in[] = "\x1b$B"
                    "\x2d\x21"  /* ① */
                    "\x2d\x6a"  /* ㈱ */
                    "\x2d\x62"  /* № */
                    "\x7c\x62"  /* 髙 */
                    "\x21\x41"  /* 〜 wave dash */
                    "\x24\x22"  /* あ */
                    "\x1b(B"
                    " OK";
  check_decode("iso-2022-jp", in, sizeof in - 1, "①㈱№髙〜あ OK", 0);
  /* The same bytes with no label, or a wrong one, still decode. */
  check_decode(NULL, in, sizeof in - 1, "①㈱№髙〜あ OK", 0);
  check_decode("us-ascii", in, sizeof in - 1, "①㈱№髙〜あ OK", 0);
  check_decode("utf-8", in, sizeof in - 1, "①㈱№髙〜あ OK", 0);
}

static void test_iso2022jp_kana_and_errors(void) {
  /* Half-width katakana by ESC ( I, then back. */
  const char kana[] = "\x1b(I\x31\x32\x1b(BA";
  check_decode("ISO-2022-JP", kana, sizeof kana - 1, "\xef\xbd\xb1\xef\xbd\xb2" "A", 0);
  /* An invalid escape and an odd byte in kanji mode: U+FFFD, counted. */
  const char bad[] = "\x1b$Z\x1b$B\x24\x22\x24\x1b(Bz";
  guint replaced = 0;
  g_autofree char *out = tg_charset_decode("iso-2022-jp", bad, sizeof bad - 1,
                                           &replaced, NULL);
  g_assert_true(g_utf8_validate(out, -1, NULL));
  g_assert_nonnull(strstr(out, "あ"));
  g_assert_nonnull(strstr(out, "\xef\xbf\xbd"));
  g_assert_cmpuint(replaced, >=, 2);
}

static void test_shift_jis(void) {
  /* こんにちは in Shift_JIS, and 髙 (CP932 0xFBFC, an IBM extension),
   * and ① (CP932 0x8740). */
  const char in[] = "\x82\xb1\x82\xf1\x82\xc9\x82\xbf\x82\xcd\xfb\xfc\x87\x40";
  check_decode("shift_jis", in, sizeof in - 1, "こんにちは髙①", 0);
  check_decode("Windows-31J", in, sizeof in - 1, "こんにちは髙①", 0);
  /* No label: guessed as Shift_JIS. */
  check_decode(NULL, in, sizeof in - 1, "こんにちは髙①", 0);
  /* Shift_JIS wave dash 0x8160 reads as JIS meant it; CP932 keeps U+FF5E. */
  check_decode("shift_jis", "\x81\x60", 2, "〜", 0);
  check_decode("cp932", "\x81\x60", 2, "～", 0);
}

static void test_euc_jp(void) {
  const char in[] = "\xa4\xb3\xa4\xf3\xa4\xcb\xa4\xc1\xa4\xcf\xc6\xfc\xcb\xdc";
  check_decode("euc-jp", in, sizeof in - 1, "こんにちは日本", 0);
  check_decode(NULL, in, sizeof in - 1, "こんにちは日本", 0);
}

static void test_other_charsets(void) {
  check_decode("iso-8859-1", "caf\xe9", 4, "café", 0);
  check_decode("windows-1252", "\x93quoted\x94", 8, "\u201cquoted\u201d", 0);
  check_decode("iso-8859-2", "\xb1", 1, "ą", 0);
  check_decode("koi8-r", "\xf0\xd2\xc9\xd7\xc5\xd4", 6, "Привет", 0);
  check_decode("gb2312", "\xc4\xe3\xba\xc3", 4, "你好", 0);
  check_decode("GB18030", "\xc4\xe3\xba\xc3", 4, "你好", 0);
  check_decode("big5", "\xa7\x41\xa6\x6e", 4, "你好", 0);
  check_decode("ks_c_5601-1987", "\xbe\xc8\xb3\xe7", 4, "안녕", 0);
  /* UTF-8 labelled as Latin-1 stays UTF-8. */
  check_decode("iso-8859-1", "caf\xc3\xa9", 5, "café", 0);
  /* Latin-1 with no label is not mistaken for Shift_JIS. */
  check_decode(NULL, "Forma\xe7\xe3o Ver\xe3o", 14, "Formação Verão", 0);
  /* An unknown label is guessed, not dropped. */
  check_decode("x-no-such-charset", "plain", 5, "plain", 0);
  /* Invalid UTF-8 keeps U+FFFD and says so. */
  check_decode("utf-8", "a\xff" "b", 3, "a\xef\xbf\xbd" "b", 1);
  check_decode("utf-8", "", 0, "", 0);
}

static void test_rfc2047(void) {
  static const struct { const char *raw; const char *expected; } cases[] = {
      {"=?ISO-2022-JP?B?GyRCJF4kXyRgJGEkYhsoQg==?=", "まみむめも"},
      {"=?iso-2022-jp?b?GyRCJF4kXyRgJGEkYhsoQg==?=", "まみむめも"},
      /* A multibyte character split across two words of one charset. */
      {"=?UTF-8?B?44G+44G/?= =?UTF-8?B?44KA?=", "まみむ"},
      {"=?UTF-8?B?44G+4w==?= =?UTF-8?B?gb/jgoA=?=", "まみむ"},
      /* Blanks between words vanish, text between them stays. */
      {"=?UTF-8?Q?a?= =?UTF-8?Q?b?= c =?UTF-8?Q?d?=", "ab c d"},
      /* Encoded word glued to text, Q with underscores. */
      {"Re:=?UTF-8?Q?caf=C3=A9_au_lait?=", "Re:café au lait"},
      /* Unknown encoding letter: kept as written. */
      {"=?UTF-8?X?abc?=", "=?UTF-8?X?abc?="},
      /* Folding. */
      {"first\r\n second", "first second"},
      /* Encoded CR/LF cannot forge a header line. */
      {"=?UTF-8?Q?x=0D=0AX-Evil:_1?=", "x  X-Evil: 1"},
      /* Shift_JIS encoded word (CP932 extension ①). */
      {"=?Shift_JIS?B?h0CCoA==?=", "①あ"},
      /* ISO-2022-JP word with NEC characters (①㈱). */
      {"=?ISO-2022-JP?B?GyRCLSEtahsoQg==?=", "①㈱"},
      /* Plain ASCII (the fast path): controls become blanks, edges go. */
      {" \tplain\x01text\x7F ", "plain text"},
      /* A line break inside "=?" is unfolded before words are found. */
      {"=\r\n?UTF-8?Q?caf=C3=A9?=", "café"},
      {"x =\n?UTF-8?B?44G+?=", "x ま"},
      /* ESC in ASCII text reads as ISO-2022-JP. */
      {"\x1b$B$^\x1b(B", "ま"},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *out = tg_rfc2047_decode(cases[i].raw, FALSE, NULL, NULL);
    g_assert_cmpstr(out, ==, cases[i].expected);
  }
  /* Raw 8-bit Shift_JIS in a header, with the body charset as hint. */
  g_autofree char *sj = tg_rfc2047_decode("\x82\xa0\x82\xa2", FALSE, "shift_jis", NULL);
  g_assert_cmpstr(sj, ==, "あい");
}

static void test_rfc2047_phrase(void) {
  /* A decoded name with a comma must stay one name for the address parser. */
  g_autofree char *out =
      tg_rfc2047_decode("=?UTF-8?Q?Suzuki=2C_Ichiro?= <s@example.com>", TRUE, NULL, NULL);
  g_assert_cmpstr(out, ==, "\"Suzuki, Ichiro\" <s@example.com>");
  g_autofree char *quoted =
      tg_rfc2047_decode("\"=?UTF-8?B?6Yi05pyo?=\" <s@example.com>", TRUE, NULL, NULL);
  g_assert_cmpstr(quoted, ==, "\"鈴木\" <s@example.com>");
}

static void test_bomb_is_linear(void) {
  /* 200,000 encoded words and 100,000 unterminated starts. */
  GString *s = g_string_new(NULL);
  for (int i = 0; i < 200000; i++)
    g_string_append(s, "=?UTF-8?B?YQ==?= ");
  for (int i = 0; i < 100000; i++)
    g_string_append(s, "=?x?");
  gint64 t0 = g_get_monotonic_time();
  g_autofree char *out = tg_rfc2047_decode(s->str, FALSE, NULL, NULL);
  g_assert_true(g_str_has_prefix(out, "aaaa"));
  g_assert_cmpint(g_get_monotonic_time() - t0, <, 20 * G_USEC_PER_SEC);
  g_string_free(s, TRUE);
}

/* gmime-testdata: the same Japanese text in three charsets. */
static void test_gmime_samples(void) {
  const char *shared = g_getenv("TG_SHARED_DIR");
  g_autofree char *dir = g_build_filename(shared ? shared : "../shared", "corpus",
                                          "gmime-testdata", "filters", NULL);
  if (!g_file_test(dir, G_FILE_TEST_IS_DIR)) {
    g_test_skip("../shared/corpus/gmime-testdata absent (fresh clone)");
    return;
  }
  static const struct { const char *file, *label, *utf8; } pairs[] = {
      {"japanese.iso-2022-jp.txt", "iso-2022-jp", "japanese.utf-8.txt"},
      {"japanese.shift-jis.txt", "shift_jis", "japanese.utf-8.txt"},
      {"cyrillic.koi8-r.txt", "koi8-r", "cyrillic.utf-8.txt"},
      {"cyrillic.cp1251.txt", "windows-1251", "cyrillic.utf-8.txt"},
      {"cyrillic.iso-8859-5.txt", "iso-8859-5", "cyrillic.utf-8.txt"},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(pairs); i++) {
    g_autofree char *in_path = g_build_filename(dir, pairs[i].file, NULL);
    g_autofree char *want_path = g_build_filename(dir, pairs[i].utf8, NULL);
    g_autofree char *in = NULL, *want = NULL;
    gsize in_len, want_len;
    g_assert_true(g_file_get_contents(in_path, &in, &in_len, NULL));
    g_assert_true(g_file_get_contents(want_path, &want, &want_len, NULL));
    guint replaced = 0;
    g_autofree char *out = tg_charset_decode(pairs[i].label, in, in_len, &replaced, NULL);
    g_assert_cmpstr(out, ==, want);
    g_assert_cmpuint(replaced, ==, 0);
  }
  /* GMime's Big5 sample and its UTF-8 twin differ where Big5 has no
   * character (続, 学), so only the start is compared. */
  g_autofree char *big5_path = g_build_filename(dir, "chinese.big5.txt", NULL);
  g_autofree char *big5 = NULL;
  gsize big5_len;
  g_assert_true(g_file_get_contents(big5_path, &big5, &big5_len, NULL));
  g_autofree char *out = tg_charset_decode("big5", big5, big5_len, NULL, NULL);
  g_assert_true(g_str_has_prefix(out, "基換年大田胞中強活味。"));
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/charset/iso2022jp-nec", test_iso2022jp_nec);
  g_test_add_func("/charset/iso2022jp-kana-errors", test_iso2022jp_kana_and_errors);
  g_test_add_func("/charset/shift-jis", test_shift_jis);
  g_test_add_func("/charset/euc-jp", test_euc_jp);
  g_test_add_func("/charset/others", test_other_charsets);
  g_test_add_func("/rfc2047/cases", test_rfc2047);
  g_test_add_func("/rfc2047/phrase", test_rfc2047_phrase);
  g_test_add_func("/rfc2047/bomb", test_bomb_is_linear);
  g_test_add_func("/charset/gmime-samples", test_gmime_samples);
  return g_test_run();
}
