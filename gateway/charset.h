/* charset.h - bytes in any charset mail uses, to UTF-8, never silently lossy.
 *
 * tg_charset_decode() honours the label but does not trust it: ISO-2022-JP
 * escape sequences win over a missing or wrong label, UTF-8 labelled as
 * ASCII/Latin-1 stays UTF-8, and an absent or unknown label is guessed
 * (UTF-8, ISO-2022-JP, EUC-JP, Shift_JIS/CP932, then Windows-1252).
 *
 * Japanese: ISO-2022-JP is decoded through the CP932 mapping (CP50221), so
 * NEC special characters (①, ㈱, №) and NEC-selected IBM extensions (髙)
 * that glibc's ISO-2022-JP rejects come out as Japanese clients show
 * them; characters of JIS X 0208 proper keep their JIS mapping (0x2141 is
 * U+301C WAVE DASH, as in the WHATWG Encoding Standard).
 *
 * Bytes that truly cannot be decoded become U+FFFD, counted in
 * *REPLACED_R so the caller records a parse warning.
 */
#ifndef TG_CHARSET_H
#define TG_CHARSET_H

#include <glib.h>

/* (transfer full) valid UTF-8.  USED_R (transfer none, static) names the
 * charset actually used.  LABEL may be NULL. */
char *tg_charset_decode(const char *label, const char *data, gsize len,
                        guint *replaced_r, const char **used_r);

/* The most likely charset of unlabelled bytes (static string). */
const char *tg_charset_guess(const char *data, gsize len);

#endif
