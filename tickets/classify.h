/* classify.h - the rules' view of a message, and their effect on a ticket.
 *
 * tg_classify_input_new() builds the plain TgRuleInput that filters/
 * evaluates (it borrows from the TgMail, which must outlive it).
 * tg_classify_apply() writes a TgRuleResult to a ticket inside the
 * caller's transaction: queue, priority, policy, fields, tags, assignee,
 * (escalation: recorded here, applied by tickets/escalate_ingest.h) - each
 * change one audit event naming the rule and its
 * file:line.  Replies, noreply and quarantine are the caller's business.
 */
#ifndef TG_CLASSIFY_H
#define TG_CLASSIFY_H

#include "filters/rules.h"
#include "tickets/mail.h"
#include "tickets/store.h"

typedef struct TgClassifyInput TgClassifyInput;

/* (transfer full) */
TgClassifyInput *tg_classify_input_new(const TgMail *mail, gboolean is_reply,
                                       gboolean from_staff);
const TgRuleInput *tg_classify_input_get(const TgClassifyInput *ci);
void tg_classify_input_free(TgClassifyInput *ci);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TgClassifyInput, tg_classify_input_free)

gboolean tg_classify_apply(TgStore *store, gint64 ticket_id,
                           const TgRuleResult *result, gint64 now,
                           GError **error);

#endif
