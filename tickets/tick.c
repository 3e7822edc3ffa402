/* tick.c - the escalation timer pass (contract in tick.h). */
#include "tickets/tick.h"
#include "tickets/sla_clock.h"

#include <string.h>

#define EVENTS_PER_TICKET 32 /* a ladder longer than this waits for the next pass */

const char tg_tick_due_sql[] =
    "SELECT id FROM tickets WHERE deadline_at <= ? ORDER BY deadline_at LIMIT ?";

static const char *trigger_text(const TgSlaLevel *l) {
  return l->trigger == TG_SLA_FIRST_RESPONSE ? "no first response" : "no staff update";
}

static char *duration_text(guint s) {
  if (s % 3600 == 0)
    return g_strdup_printf("%uh", s / 3600);
  if (s % 60 == 0)
    return g_strdup_printf("%um", s / 60);
  return g_strdup_printf("%us", s);
}

/* Every due event of TICKET, at most EVENTS_PER_TICKET. */
static gboolean tick_one(const TgEscalateConfig *cfg, TgStore *s, gint64 ticket,
                         gint64 now, TgTickStats *st, GError **error) {
  for (int i = 0; i < EVENTS_PER_TICKET; i++) {
    TgSlaTicket t;
    int rc = tg_sla_clock_load(s, ticket, &t, error);
    if (rc <= 0)
      return rc == 0;
    TgSlaEvents ev;
    gboolean ok = tg_sla_clock_events(cfg, s, &t, &ev, error);
    guint level = t.level;
    tg_sla_ticket_clear(&t);
    if (!ok)
      return FALSE;
    if (ev.escalate_at && ev.escalate_at <= now) {
      g_autofree char *d = duration_text(ev.next->after);
      g_autofree char *reason = g_strdup_printf(
          "SLA: %s within %s (level %u did not answer)", trigger_text(ev.next), d, level);
      gboolean done = FALSE;
      if (!tg_escalate_level(cfg, s, ticket, ev.next->level, reason, "sla", now, &done,
                             error))
        return FALSE;
      st->escalated += done;
    } else if (ev.warn_at && ev.warn_at <= now) {
      if (!tg_escalate_warn(cfg, s, ticket, ev.next->level, ev.escalate_at, now, error))
        return FALSE;
      st->warned++;
    } else if (ev.inform_at && ev.inform_at <= now) {
      if (!tg_escalate_inform(cfg, s, ticket, ev.inform_seq, now, error))
        return FALSE;
      st->informed++;
    } else {
      break;
    }
  }
  return tg_sla_clock_refresh(cfg, s, ticket, error);
}

gboolean tg_tick_run(const TgEscalateConfig *cfg, TgStore *s, gint64 now, guint batch,
                     TgTickStats *st, GError **error) {
  memset(st, 0, sizeof *st);
  if (!batch)
    batch = 100;
  g_autoptr(GHashTable) seen = g_hash_table_new_full(g_int64_hash, g_int64_equal,
                                                     g_free, NULL);
  for (;;) {
    if (!tg_store_begin(s, error))
      return FALSE;
    sqlite3_stmt *q = tg_store_prepare(s, tg_tick_due_sql, error, "ii", now,
                                       (gint64)batch);
    if (!q) {
      tg_store_rollback(s);
      return FALSE;
    }
    g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(gint64));
    int rc;
    while ((rc = tg_store_step(s, q, error)) == SQLITE_ROW) {
      gint64 id = sqlite3_column_int64(q, 0);
      if (!g_hash_table_contains(seen, &id))
        g_array_append_val(ids, id);
    }
    sqlite3_reset(q);
    if (rc < 0) {
      tg_store_rollback(s);
      return FALSE;
    }
    for (guint i = 0; i < ids->len; i++) {
      gint64 id = g_array_index(ids, gint64, i);
      if (!tick_one(cfg, s, id, now, st, error)) {
        tg_store_rollback(s);
        return FALSE;
      }
      g_hash_table_add(seen, g_memdup2(&id, sizeof id));
      st->tickets++;
    }
    if (!tg_store_commit(s, error))
      return FALSE;
    if (ids->len == 0)
      return TRUE;
  }
}
