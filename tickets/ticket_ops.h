/* ticket_ops.h - what staff do to a ticket, by mail or from the CLI.
 *
 * PURPOSE
 *   The operations behind the mail commands (tickets/staff_mail.h) and
 *   `ticketgate ticket escalate|assign|status|reply`: each changes the
 *   ticket inside the caller's transaction, writes one audit event with
 *   ACTOR (a staff address, "cli:USER") and returns a one-line RESULT_R
 *   for the confirmation (transfer full; may be NULL).
 *     tg_ticket_ops_status()   pending stops the SLA clock, leaving pending
 *                              resumes it (tickets/sla_clock.h); pending and
 *                              resolved send the customer status-pending /
 *                              status-resolved
 *     tg_ticket_ops_set()      priority or queue
 *     tg_ticket_ops_assign() / _tag() / _note()
 *     tg_ticket_ops_reply()    an answer (or canned answer) to the customer:
 *                              the `reply` template or canned/NAME, sets the
 *                              first response, which stops the
 *                              first-response ladder
 *     tg_ticket_ops_escalate() tg_escalate_level() with a checked level
 *
 * DIAGNOSTICS
 *   TG_TICKET_OPS_ERROR_INVALID: the operation makes no sense (no such
 *   ticket, level not above the current one, unknown canned answer); the
 *   message says why.  Store errors as usual.
 */
#ifndef TG_TICKET_OPS_H
#define TG_TICKET_OPS_H

#include "tickets/escalate.h"

#define TG_TICKET_OPS_ERROR (tg_ticket_ops_error_quark())
GQuark tg_ticket_ops_error_quark(void);
typedef enum { TG_TICKET_OPS_ERROR_INVALID } TgTicketOpsErrorCode;

gboolean tg_ticket_ops_escalate(const TgEscalateConfig *cfg, TgStore *store,
                                gint64 ticket, guint level, const char *reason,
                                const char *actor, gint64 now, char **result_r,
                                GError **error);
gboolean tg_ticket_ops_status(const TgEscalateConfig *cfg, TgStore *store,
                              gint64 ticket, const char *status, const char *actor,
                              gint64 now, char **result_r, GError **error);
/* WHAT: "priority" or "queue". */
gboolean tg_ticket_ops_set(TgStore *store, gint64 ticket, const char *what,
                           const char *value, const char *actor, gint64 now,
                           char **result_r, GError **error);
gboolean tg_ticket_ops_assign(TgStore *store, gint64 ticket, const char *address,
                              const char *actor, gint64 now, char **result_r,
                              GError **error);
gboolean tg_ticket_ops_tag(TgStore *store, gint64 ticket, const char *tag,
                           const char *actor, gint64 now, char **result_r,
                           GError **error);
gboolean tg_ticket_ops_note(TgStore *store, gint64 ticket, const char *text,
                            const char *actor, gint64 now, GError **error);
/* TEMPLATE: "reply" (TEXT is message.body) or "canned/NAME".  STAFF_NAME /
 * STAFF_ADDRESS fill staff.* (may be NULL). */
gboolean tg_ticket_ops_reply(const TgEscalateConfig *cfg, TgStore *store,
                             gint64 ticket, const char *template_name,
                             const char *text, const char *staff_name,
                             const char *staff_address, const char *actor,
                             gint64 now, char **result_r, GError **error);

#endif
