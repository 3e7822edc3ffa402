/* thread.h - how a message finds its ticket: signed reply addresses,
 * subject tags, and the subject a ticket keeps.
 *
 * A reply address is LOCAL+ID-TOKEN@DOMAIN for a support address
 * LOCAL@DOMAIN, where TOKEN is the first 10 base32 characters of
 * HMAC-SHA256(secret, "ticket:ID").  Knowing the ticket number is not
 * enough to write into a ticket; having received mail from it is.
 *
 * SECURITY: tokens are compared in constant time.
 */
#ifndef TG_THREAD_H
#define TG_THREAD_H

#include <glib.h>

/* (transfer full) */
char *tg_thread_token(GBytes *secret, const char *purpose, gint64 id);
/* (transfer full) "support+123-abcdefghij@example.com" */
char *tg_thread_reply_address(const char *support_address, gint64 ticket_id,
                              GBytes *secret);
/* Ticket id from a reply address of one of SUPPORT (NULL-terminated), or
 * 0.  *FORGED_R is TRUE when it looks like ours but the token is wrong. */
gint64 tg_thread_parse_reply_address(const char *address,
                                     char *const *support, GBytes *secret,
                                     gboolean *forged_r);
/* A staff member's own signed reply address for a ticket:
 * "support+123-s-TOKEN@example.com", TOKEN = HMAC of "staff:ADDRESS"
 * (lower-cased) and the ticket id.  Mail from STAFF_ADDRESS to it is
 * authenticated staff mail (tickets/staff.h).  (transfer full) */
char *tg_thread_staff_address(const char *support_address, gint64 ticket_id,
                              const char *staff_address, GBytes *secret);
/* Ticket id when ADDRESS is the staff address of FROM for that ticket
 * (token valid for FROM), or 0. */
gint64 tg_thread_parse_staff_address(const char *address, char *const *support,
                                     GBytes *secret, const char *from);
/* TRUE when ADDRESS is one of SUPPORT or a +detail form of one. */
gboolean tg_thread_is_support_address(const char *address, char *const *support);

/* "[Support #123]" (transfer full) */
char *tg_thread_ref(const char *prefix, gint64 ticket_id);
/* Ticket id from the first "[PREFIX #ID]" tag in SUBJECT, or 0. */
gint64 tg_thread_subject_tag(const char *subject, const char *prefix);
/* The ticket's subject: reply/forward prefixes (Re:, RE:, Fwd:, FW:, AW:,
 * WG:, SV:, Re[2]:, 返信:, 転送: and repeats) and our tag removed.
 * (transfer full) */
char *tg_thread_clean_subject(const char *subject, const char *prefix);

/* Constant-time string equality. */
gboolean tg_thread_equal_ct(const char *a, const char *b);

#endif
