/* sla_clock.h - one ticket's SLA clock: deadlines, pauses, staff answers.
 *
 * PURPOSE
 *   The state lives in the tickets row (store_schema.c, step 4):
 *   escalation_level, escalated_at, first_response_at, last_staff_at,
 *   last_customer_update_at, pending_since, sla_remaining, sla_paused,
 *   sla_paused_staff.  From it and the ticket's policy
 *   tg_sla_clock_events() derives the three timer events:
 *     escalate_at  the next level whose trigger is still armed: a
 *                  first-response level counts from the opening (plus the
 *                  SLA time spent pending) and is disarmed by the first
 *                  staff answer to the customer; a staff-update level
 *                  counts from the last staff mail;
 *     warn_at      escalate_at minus the policy's `warn X before`, until
 *                  that warning is in sla_notices;
 *     inform_at    while escalated, `keep-customer-informed every N` after
 *                  the last mail to the customer (or the escalation).
 *   tg_sla_clock_refresh() stores the earliest as tickets.deadline_at
 *   (indexed: the timer finds due tickets without a scan) and escalate_at.
 *   Pending, resolved and closed tickets have no deadline.
 *
 *   tg_sla_clock_set_status() changes the status: entering `pending`
 *   records the SLA time remaining and stops the clock; leaving it adds
 *   the SLA time spent waiting to sla_paused, so the deadline moves by
 *   exactly that much.  tg_sla_clock_staff_mail() records a staff mail:
 *   it resets staff-update triggers, and when it was an answer sent to the
 *   customer, sets first_response_at (once), which stops the
 *   first-response ladder.
 *
 * DIAGNOSTICS  store errors only.  All calls run in the caller's transaction.
 */
#ifndef TG_SLA_CLOCK_H
#define TG_SLA_CLOCK_H

#include "tickets/escalate.h"

typedef struct {
  gint64 id;
  char *status;
  char *policy;
  char *assignee;       /* NULL when none */
  char *requester;
  char *language;
  guint level;
  gint64 created_at, escalated_at, first_response_at, last_staff_at;
  gint64 last_customer_update_at, pending_since;
  gint64 sla_paused, sla_paused_staff;
  gint64 deadline_at;
} TgSlaTicket;

void tg_sla_ticket_clear(TgSlaTicket *t);

/* Returns 1 loaded, 0 no such ticket, -1 error. */
int tg_sla_clock_load(TgStore *store, gint64 id, TgSlaTicket *t, GError **error);

typedef struct {
  const TgSlaLevel *next; /* NULL: nothing left on the ladder */
  gint64 escalate_at;     /* 0 = none */
  gint64 warn_at;         /* 0 = none */
  gint64 inform_at;       /* 0 = none */
  gint64 inform_seq;      /* the base inform_at counts from */
  gint64 deadline;        /* earliest of the above, 0 = none */
} TgSlaEvents;

gboolean tg_sla_clock_events(const TgEscalateConfig *cfg, TgStore *store,
                             const TgSlaTicket *t, TgSlaEvents *ev, GError **error);

/* Recomputes and stores deadline_at and escalate_at of TICKET. */
gboolean tg_sla_clock_refresh(const TgEscalateConfig *cfg, TgStore *store,
                              gint64 ticket, GError **error);

/* STATUS: new|open|pending|escalated|resolved|closed.  Pauses/resumes. */
gboolean tg_sla_clock_set_status(const TgEscalateConfig *cfg, TgStore *store,
                                 gint64 ticket, const char *status, gint64 now,
                                 GError **error);

/* A staff mail on TICKET; TO_CUSTOMER: an answer was sent to the customer. */
gboolean tg_sla_clock_staff_mail(const TgEscalateConfig *cfg, TgStore *store,
                                 gint64 ticket, gboolean to_customer, gint64 now,
                                 GError **error);

#endif
