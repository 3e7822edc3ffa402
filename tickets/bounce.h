/* bounce.h - delivery status notifications for our own notices.
 *
 * PURPOSE
 *   Every notice leaves with the signed envelope sender
 *   bounces+ID-TOKEN@domain (tickets/outbound.h).  Mail addressed there -
 *   envelope recipient, or To when the envelope is unknown (IMAP) - with a
 *   valid TOKEN for ID is never a customer message: it
 *   opens no ticket.  An RFC 3464 report (multipart/report;
 *   report-type=delivery-status) whose Action is "failed", or a bounce from
 *   the null sender without a parsable report, marks notice ID failed and
 *   records a "bounce" event on its ticket; "delayed" and the like are
 *   recorded as events only; anything else there (an out-of-office answer to
 *   the envelope sender) is recorded and dropped.
 *
 * PUBLIC FUNCTIONS
 *   tg_bounce_outbound_id()  which notice a message reports on (0: none)
 *   tg_bounce_record()       apply it, inside the caller's transaction
 *
 * SECURITY
 *   The report is peer data: it is read line by line with bounded lengths
 *   and only quoted into the event text after compose-style sanitizing.
 *   The VERP address is signed (HMAC of "bounce:ID" with the gateway
 *   secret), so only someone who received notice ID can report on it:
 *   mail to bounces+ID@ without the token, or with a wrong one, is not a
 *   report on anything (tg_bounce_outbound_id() returns 0) and goes
 *   through the ordinary path as customer mail (no ack: notify.c treats
 *   a bounces+ sender as our own address).
 */
#ifndef TG_BOUNCE_H
#define TG_BOUNCE_H

#include "tickets/mail.h"
#include "tickets/store.h"

/* The notice id of the first correctly signed bounces+ID-TOKEN@ address
 * (SECRET) among the envelope recipients, then To and Cc; 0 when none.
 * *FORGED_R (may be NULL) is TRUE when a bounces+ address was seen whose
 * token is missing or wrong (and no valid one). */
gint64 tg_bounce_outbound_id(const TgMail *mail, GBytes *secret, gboolean *forged_r);

/* Records MAIL as the report on notice OUTBOUND_ID.  *TICKET_R gets the
 * notice's ticket (0 if there is no such notice: the mail is dropped). */
gboolean tg_bounce_record(TgStore *store, gint64 outbound_id, const TgMail *mail,
                          gint64 now, gint64 *ticket_r, GError **error);

#endif
