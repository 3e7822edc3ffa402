/* bounce.h - delivery status notifications for our own notices.
 *
 * PURPOSE
 *   Every notice leaves with the envelope sender bounces+ID@domain
 *   (tickets/outbound.h).  Mail addressed there - envelope recipient, or To
 *   when the envelope is unknown (IMAP) - is never a customer message: it
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
 *   The VERP address is not signed, so a forged DSN can mark a notice
 *   failed; it cannot open tickets or send mail.
 */
#ifndef TG_BOUNCE_H
#define TG_BOUNCE_H

#include "tickets/mail.h"
#include "tickets/store.h"

/* The notice id of the first bounces+ID@ address among the envelope
 * recipients, then To and Cc; 0 when none. */
gint64 tg_bounce_outbound_id(const TgMail *mail);

/* Records MAIL as the report on notice OUTBOUND_ID.  *TICKET_R gets the
 * notice's ticket (0 if there is no such notice: the mail is dropped). */
gboolean tg_bounce_record(TgStore *store, gint64 outbound_id, const TgMail *mail,
                          gint64 now, gint64 *ticket_r, GError **error);

#endif
