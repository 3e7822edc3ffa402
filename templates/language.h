/*
 * language — which language to answer a customer in: "ja" or "en".
 *
 * PURPOSE
 *   Pick the template variant for a ticket from its first customer message:
 *     1. Content-Language, if it names ja or en;
 *     2. the script of the text, if it is conclusive: kana present and
 *        kana+kanji at least 15% of the letters -> "ja"; at least 20 Latin
 *        letters and kana+kanji under 15% -> "en".  Kanji without any kana is not
 *        taken as Japanese (it may be Chinese).  Quoted lines ("> …") are
 *        skipped, so a reply quoting our Japanese ack is judged by its own
 *        words;
 *     3. a Japanese charset (ISO-2022-JP, Shift_JIS, CP932, EUC-JP) -> "ja";
 *     4. some Latin letters and kana+kanji under 15% -> "en";
 *     5. otherwise @fallback (the configured default language).
 *
 * PUBLIC FUNCTIONS
 *   language_detect()   the rules above; never fails
 *   language_normalize() "ja-JP" / "JA" -> "ja"
 *
 * SECURITY
 *   Reads at most LANGUAGE_SCAN_MAX bytes of text; invalid UTF-8 is skipped
 *   byte by byte.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define LANGUAGE_SCAN_MAX (8 * 1024)

/* All arguments may be NULL; @len -1 means NUL-terminated.  Returns
 * (transfer none) "ja", "en", or @fallback. */
const char *language_detect(const char *charset, const char *content_language, const char *text,
                            gssize len, const char *fallback);

/* Primary subtag, lowercased: "ja-JP" -> "ja".  Returns (transfer full), or
 * NULL if @tag does not start with 2-3 ASCII letters. */
char *language_normalize(const char *tag);

G_END_DECLS
