/* sla_clock.c - deadlines, pauses and staff answers (contract in sla_clock.h). */
#include "tickets/sla_clock.h"

#include <string.h>

void tg_sla_ticket_clear(TgSlaTicket *t) {
  g_clear_pointer(&t->status, g_free);
  g_clear_pointer(&t->policy, g_free);
  g_clear_pointer(&t->assignee, g_free);
  g_clear_pointer(&t->requester, g_free);
  g_clear_pointer(&t->language, g_free);
}

int tg_sla_clock_load(TgStore *s, gint64 id, TgSlaTicket *t, GError **error) {
  memset(t, 0, sizeof *t);
  sqlite3_stmt *st = tg_store_prepare(
      s,
      "SELECT status, policy, assignee, requester_address, language, "
      "escalation_level, created_at, escalated_at, first_response_at, "
      "last_staff_at, last_customer_update_at, pending_since, sla_paused, "
      "sla_paused_staff, deadline_at FROM tickets WHERE id = ?",
      error, "i", id);
  if (!st)
    return -1;
  int rc = tg_store_step(s, st, error);
  if (rc == SQLITE_ROW) {
    t->id = id;
    t->status = g_strdup(tg_store_col_text(st, 0));
    t->policy = g_strdup(tg_store_col_text(st, 1));
    t->assignee = sqlite3_column_type(st, 2) == SQLITE_NULL
                      ? NULL : g_strdup(tg_store_col_text(st, 2));
    t->requester = g_strdup(tg_store_col_text(st, 3));
    t->language = g_strdup(tg_store_col_text(st, 4));
    t->level = (guint)MAX(sqlite3_column_int64(st, 5), 1);
    t->created_at = sqlite3_column_int64(st, 6);
    t->escalated_at = sqlite3_column_int64(st, 7);
    t->first_response_at = sqlite3_column_int64(st, 8);
    t->last_staff_at = sqlite3_column_int64(st, 9);
    t->last_customer_update_at = sqlite3_column_int64(st, 10);
    t->pending_since = sqlite3_column_int64(st, 11);
    t->sla_paused = sqlite3_column_int64(st, 12);
    t->sla_paused_staff = sqlite3_column_int64(st, 13);
    t->deadline_at = sqlite3_column_int64(st, 14);
  }
  sqlite3_reset(st);
  return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

static gboolean stopped(const char *status) {
  return g_strcmp0(status, "pending") == 0 || g_strcmp0(status, "resolved") == 0 ||
         g_strcmp0(status, "closed") == 0;
}

static guint clamp_u(gint64 v) { return (guint)CLAMP(v, 0, (gint64)G_MAXUINT); }

gboolean tg_sla_clock_events(const TgEscalateConfig *cfg, TgStore *s,
                             const TgSlaTicket *t, TgSlaEvents *ev, GError **error) {
  memset(ev, 0, sizeof *ev);
  if (stopped(t->status))
    return TRUE;
  const TgSlaPolicy *p = tg_escalate_policy(cfg, t->policy);
  for (const TgSlaLevel *l = tg_sla_next_level(p, t->level); l;
       l = tg_sla_next_level(p, l->level)) {
    if (l->trigger == TG_SLA_FIRST_RESPONSE) {
      if (t->first_response_at)
        continue; /* answered: this trigger is disarmed */
      ev->escalate_at = tg_sla_add(p, t->created_at, clamp_u(l->after + t->sla_paused));
    } else {
      gint64 base = t->last_staff_at ? t->last_staff_at : t->created_at;
      gint64 paused = t->last_staff_at ? t->sla_paused_staff : t->sla_paused;
      ev->escalate_at = tg_sla_add(p, base, clamp_u(l->after + paused));
    }
    ev->next = l;
    break;
  }
  if (ev->escalate_at == G_MAXINT64) /* no business time ever: never */
    ev->escalate_at = 0;
  if (ev->next && ev->escalate_at && p->warn_before) {
    GError *e = NULL;
    gint64 sent = tg_store_query_int(
        s,
        "SELECT 1 FROM sla_notices WHERE ticket_id = ? AND level = ? AND "
        "kind = 'warning'", 0, &e, "ii", t->id, (gint64)ev->next->level);
    if (e) {
      g_propagate_error(error, e);
      return FALSE;
    }
    if (!sent)
      ev->warn_at = ev->escalate_at - p->warn_before;
  }
  if (p->keep_informed && t->level > 1 && g_strcmp0(t->status, "escalated") == 0) {
    ev->inform_seq = MAX(t->last_customer_update_at, t->escalated_at);
    if (!ev->inform_seq)
      ev->inform_seq = t->created_at;
    ev->inform_at = tg_sla_add(p, ev->inform_seq, p->keep_informed);
    if (ev->inform_at == G_MAXINT64)
      ev->inform_at = 0;
  }
  gint64 times[] = {ev->escalate_at, ev->warn_at, ev->inform_at};
  for (gsize i = 0; i < G_N_ELEMENTS(times); i++)
    if (times[i] && (!ev->deadline || times[i] < ev->deadline))
      ev->deadline = times[i];
  return TRUE;
}

gboolean tg_sla_clock_refresh(const TgEscalateConfig *cfg, TgStore *s, gint64 ticket,
                              GError **error) {
  TgSlaTicket t;
  int rc = tg_sla_clock_load(s, ticket, &t, error);
  if (rc <= 0)
    return rc == 0;
  TgSlaEvents ev;
  gboolean ok = tg_sla_clock_events(cfg, s, &t, &ev, error) &&
                tg_store_exec(s,
                              "UPDATE tickets SET deadline_at = ?, escalate_at = ? "
                              "WHERE id = ?",
                              error, "nni", ev.deadline, ev.escalate_at, ticket);
  tg_sla_ticket_clear(&t);
  return ok;
}

gboolean tg_sla_clock_set_status(const TgEscalateConfig *cfg, TgStore *s,
                                 gint64 ticket, const char *status, gint64 now,
                                 GError **error) {
  TgSlaTicket t;
  int rc = tg_sla_clock_load(s, ticket, &t, error);
  if (rc <= 0)
    return rc == 0;
  const TgSlaPolicy *p = tg_escalate_policy(cfg, t.policy);
  gboolean was_pending = g_strcmp0(t.status, "pending") == 0;
  gboolean to_pending = g_strcmp0(status, "pending") == 0;
  gboolean ok = TRUE;
  if (to_pending && !was_pending) {
    /* Stop the clock: remember the SLA time left until the escalation. */
    TgSlaEvents ev;
    ok = tg_sla_clock_events(cfg, s, &t, &ev, error);
    gint64 remaining = ev.escalate_at ? tg_sla_elapsed(p, now, ev.escalate_at) : 0;
    ok = ok && tg_store_exec(s,
                             "UPDATE tickets SET pending_since = ?, sla_remaining = ? "
                             "WHERE id = ?",
                             error, "ini", now, remaining, ticket);
  } else if (was_pending && !to_pending) {
    /* Resume: the SLA time spent waiting does not count. */
    gint64 paused = t.pending_since ? tg_sla_elapsed(p, t.pending_since, now) : 0;
    ok = tg_store_exec(s,
                       "UPDATE tickets SET pending_since = NULL, sla_remaining = NULL, "
                       "sla_paused = sla_paused + ?, sla_paused_staff = "
                       "sla_paused_staff + ? WHERE id = ?",
                       error, "iii", paused, paused, ticket);
  }
  ok = ok && tg_store_exec(s, "UPDATE tickets SET status = ?, updated_at = ? WHERE id = ?",
                           error, "sii", status, now, ticket) &&
       tg_sla_clock_refresh(cfg, s, ticket, error);
  tg_sla_ticket_clear(&t);
  return ok;
}

gboolean tg_sla_clock_staff_mail(const TgEscalateConfig *cfg, TgStore *s,
                                 gint64 ticket, gboolean to_customer, gint64 now,
                                 GError **error) {
  if (!tg_store_exec(s,
                     "UPDATE tickets SET last_staff_at = ?, sla_paused_staff = 0, "
                     "updated_at = ? WHERE id = ?",
                     error, "iii", now, now, ticket))
    return FALSE;
  if (to_customer &&
      (!tg_store_exec(s,
                      "UPDATE tickets SET first_response_at = coalesce(first_response_at, ?), "
                      "last_customer_update_at = ?, status = CASE status WHEN 'new' "
                      "THEN 'open' ELSE status END WHERE id = ?",
                      error, "iii", now, now, ticket)))
    return FALSE;
  return tg_sla_clock_refresh(cfg, s, ticket, error);
}
