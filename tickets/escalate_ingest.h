/* escalate_ingest.h - what an incoming message does to the SLA clock.
 *
 * tg_escalate_ingest() runs in the ingest transaction (tickets/ingest.c)
 * after the message is stored and the rules applied:
 *   - a rule's `escalate level N reason "..."` goes through
 *     tg_escalate_level() (actor "rule:NAME"), so its targets are notified;
 *     `escalate to ADDRESS` sends that address an escalation notice;
 *   - a staff mail is handled by tickets/staff_mail.h (answers, commands);
 *   - a customer writing into a pending ticket resumes the SLA clock
 *     (status open);
 *   - the ticket's deadline is computed (a new ticket gets its first one).
 * Errors: store errors only.
 */
#ifndef TG_ESCALATE_INGEST_H
#define TG_ESCALATE_INGEST_H

#include "tickets/escalate.h"
#include "tickets/ingest.h"

gboolean tg_escalate_ingest(const TgEscalateConfig *cfg, TgStore *store,
                            const TgMail *mail, const TgIngestResult *result,
                            gboolean from_staff, gint64 now, GError **error);

#endif
