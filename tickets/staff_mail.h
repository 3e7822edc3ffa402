/* staff_mail.h - mail from staff on a ticket: answers and commands.
 *
 * PURPOSE
 *   tg_staff_mail_handle() runs inside the ingest transaction for a stored
 *   message that joined TICKET from a staff address (the [staff:NAME]
 *   directory or an escalation target of a policy).  The body is split by
 *   tickets/staff_command.h:
 *     - no commands: the text (quoting trimmed) is the answer, queued to
 *       the customer with the `reply` template (first response: stops the
 *       first-response ladder);
 *     - commands: all are applied in a SAVEPOINT, then the answer, if any,
 *       is sent; the staff member gets one command-confirmation listing
 *       what was done.  `#note` turns the rest into an internal note (an
 *       audit event, never sent).  If any command fails, none is kept and
 *       the confirmation says why (command.ok false);
 *     - an unknown or malformed command: the command-help reply naming it,
 *       and nothing of the mail is applied or sent.
 *
 * AUTHENTICATION (tg_staff_mail_auth)
 *   Commands and answers are obeyed only when the sender is authenticated:
 *     TOKEN  the mail went to the sender's own signed staff address for
 *            this ticket (support+ID-s-TOKEN@domain, tickets/thread.h);
 *     DKIM   an Authentication-Results header whose authserv-id equals
 *            [auth] trusted_authserv_id says dkim=pass with header.d (or
 *            header.i) equal to the From domain.
 *   Otherwise the mail is ordinary correspondence (already stored) and the
 *   ticket gets a "command ignored: unauthenticated" event.
 *
 * SECURITY
 *   The From header alone proves nothing.  The trusted host must remove
 *   Authentication-Results headers carrying its own authserv-id from
 *   incoming mail (RFC 8601 section 5), as OpenDKIM/OpenDMARC and Postfix
 *   setups do; otherwise a sender could forge one.
 *
 * DIAGNOSTICS  store errors only; everything else is an event or a reply.
 */
#ifndef TG_STAFF_MAIL_H
#define TG_STAFF_MAIL_H

#include "tickets/escalate.h"
#include "tickets/mail.h"

typedef enum {
  TG_STAFF_AUTH_NONE,
  TG_STAFF_AUTH_TOKEN,
  TG_STAFF_AUTH_DKIM,
} TgStaffAuth;

TgStaffAuth tg_staff_mail_auth(const TgEscalateConfig *cfg, const TgMail *mail,
                               gint64 ticket);

/* TRUE when MAIL has an Authentication-Results from TRUSTED_ID with
 * dkim=pass for DOMAIN. */
gboolean tg_staff_mail_dkim_ok(const TgMail *mail, const char *trusted_id,
                               const char *domain);

gboolean tg_staff_mail_handle(const TgEscalateConfig *cfg, TgStore *store,
                              const TgMail *mail, gint64 ticket, gint64 now,
                              GError **error);

#endif
