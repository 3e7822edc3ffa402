/* fuzz_charset.c - libFuzzer target: charset and header decoders directly.
 * The first byte picks a charset label (and the phrase flag), the rest is
 * the data, fed to tg_charset_decode(), tg_charset_guess(),
 * tg_rfc2047_decode() and, once valid UTF-8, tg_html_to_text().  Every
 * output must be valid UTF-8.
 */
#include "gateway/charset.h"
#include "gateway/html_text.h"
#include "gateway/rfc2047.h"

#include <stdint.h>
#include <string.h>

static const char *const labels[] = {
    NULL,          "utf-8",       "us-ascii",    "iso-8859-1", "iso-2022-jp",
    "shift_jis",   "euc-jp",      "cp932",       "big5",       "gb2312",
    "utf-16",      "utf-16le",    "utf-32",      "koi8-r",     "windows-1252",
    "iso-2022-jp-2", "x-unknown", "",            "utf-7",      "iso-2022-kr",
    "euc-kr",      "gbk",         "gb18030",     "x-sjis",     "ms932",
    "iso-8859-15", "UTF-8\"",     "csISO2022JP", "windows-31j", "x-mac-japanese",
    "hz-gb-2312",  "iso-2022-cn",
};

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  g_log_set_always_fatal(G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_ERROR);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1)
    return 0;
  const char *label = labels[data[0] % G_N_ELEMENTS(labels)];
  gboolean phrase = (data[0] & 0x80) != 0;
  const char *bytes = (const char *)data + 1;
  gsize len = size - 1;

  guint replaced = 0;
  const char *used = NULL;
  g_autofree char *text = tg_charset_decode(label, bytes, len, &replaced, &used);
  g_assert(text && g_utf8_validate(text, -1, NULL) && used);
  const char *guess = tg_charset_guess(bytes, len);
  g_assert(guess);

  /* Header decoding works on NUL-terminated text. */
  g_autofree char *raw = g_strndup(bytes, len);
  g_autofree char *hdr = tg_rfc2047_decode(raw, phrase, label, &replaced);
  g_assert(hdr && g_utf8_validate(hdr, -1, NULL));

  g_autofree char *plain = tg_html_to_text(text, strlen(text));
  g_assert(plain && g_utf8_validate(plain, -1, NULL));
  return 0;
}
