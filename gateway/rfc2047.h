/* rfc2047.h - header text to UTF-8: encoded words and raw 8-bit alike.
 *
 * Tolerates what real mail does wrong: encoded words without blanks
 * between them or glued to text, blanks inside Q text, lower-case
 * encodings, a multibyte character split across two encoded words (words
 * of one charset are joined before conversion), charsets mislabelled or
 * unknown (see charset.h), and raw 8-bit bytes of any charset.
 *
 * PHRASE mode is for address headers: decoded text that would change the
 * address syntax (a comma or "<" in a display name) is emitted as a
 * quoted-string so a later address parse sees one name, not two mailboxes.
 */
#ifndef TG_RFC2047_H
#define TG_RFC2047_H

#include <glib.h>

/* (transfer full) valid UTF-8, unfolded.  *REPLACED_R counts U+FFFD added.
 * HINT (may be NULL) is the charset to try first for raw 8-bit text
 * outside encoded words: mailers that send it use their body charset. */
char *tg_rfc2047_decode(const char *raw, gboolean phrase, const char *hint,
                        guint *replaced_r);

#endif
