/* tick.h - one pass of the escalation timer (`ticketgate tick`, serve).
 *
 * PURPOSE
 *   tg_tick_run() finds the tickets whose tickets.deadline_at has passed
 *   with the partial index tickets_deadline (no table scan:
 *   `SELECT id FROM tickets WHERE deadline_at <= ? ORDER BY deadline_at`),
 *   and for each one, in a BEGIN IMMEDIATE transaction of up to BATCH
 *   tickets, re-reads the ticket and acts on every timer event that is due
 *   (tickets/sla_clock.h): escalation to the next level (notices, audit
 *   event; tickets/escalate.h), the pre-deadline warning, the
 *   keep-in-the-loop update; then stores the next deadline.
 *
 * CRASHES AND CONCURRENCY
 *   A notice is queued in the same transaction as its sla_notices row and
 *   the ticket's new level and deadline.  kill -9 mid-pass loses only the
 *   open transaction, which the next pass does again.  Two passes at once
 *   are serialized by BEGIN IMMEDIATE; the second re-reads the ticket
 *   inside its transaction, finds it no longer due, and the UNIQUE
 *   sla_notices constraint would refuse a second notice anyway.
 *
 * DIAGNOSTICS  store errors (the pass stops; what was committed stays).
 */
#ifndef TG_TICK_H
#define TG_TICK_H

#include "tickets/escalate.h"

typedef struct {
  guint tickets;   /* due tickets looked at */
  guint escalated; /* levels reached */
  guint warned;
  guint informed;
} TgTickStats;

gboolean tg_tick_run(const TgEscalateConfig *cfg, TgStore *store, gint64 now,
                     guint batch, TgTickStats *stats, GError **error);

/* The query tg_tick_run() uses to find due tickets (for EXPLAIN). */
extern const char tg_tick_due_sql[];

#endif
