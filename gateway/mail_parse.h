/* mail_parse.h - raw message bytes to a TgMail, with GMime.
 *
 * Never refuses a message for being malformed: whatever GMime can read
 * becomes fields (best effort, problems in mail->warnings).  Only a
 * message with no header at all, or one over a structural limit, is
 * refused, with a quarantine reason code:
 *   "unparseable"  no header could be read
 *   "mime-depth"   multipart/message nesting deeper than the limit
 *   "mime-parts"   more MIME parts than the limit
 *   "header-count" more header fields than the limit
 *
 * SECURITY: input is hostile.  Limits are checked while walking the tree
 * GMime built, GMime's own nesting cap backs ours, and every text step
 * (charset.c, rfc2047.c, html_text.c) is linear.
 */
#ifndef TG_MAIL_PARSE_H
#define TG_MAIL_PARSE_H

#include "tickets/mail.h"

#include <glib.h>

typedef struct {
  guint mime_depth;
  guint mime_parts;
  guint header_count;
} TgParseLimits;

#define TG_PARSE_ERROR (tg_parse_error_quark())
GQuark tg_parse_error_quark(void);

/* Call once before parsing (wraps g_mime_init). */
void tg_mail_parse_init(void);

/* On refusal returns NULL, *REASON_R (transfer full) gets the code above
 * and ERROR the detail.  (transfer full) */
TgMail *tg_mail_parse(GBytes *raw, const TgParseLimits *limits,
                      char **reason_r, GError **error);

#endif
