/* escalate.c - the ladder and its notices (contract in escalate.h). */
#include "tickets/escalate.h"
#include "tickets/audit.h"
#include "tickets/clock.h"
#include "tickets/sla_clock.h"
#include "tickets/thread.h"

#include <string.h>

#define HISTORY_MAX 30

static const TgSlaPolicies *default_policies(void) {
  static gsize once = 0;
  static TgSlaPolicies *def;
  if (g_once_init_enter(&once)) {
    def = tg_sla_policies_default();
    g_once_init_leave(&once, 1);
  }
  return def;
}

const TgSlaPolicy *tg_escalate_policy(const TgEscalateConfig *cfg, const char *name) {
  const TgSlaPolicies *set = cfg && cfg->policies ? cfg->policies : default_policies();
  const TgSlaPolicy *p = name ? tg_sla_policies_find(set, name) : NULL;
  if (!p)
    p = tg_sla_policies_find(set, "standard");
  if (!p)
    p = tg_sla_policies_find(default_policies(), "standard");
  return p;
}

const TgStaffMember *tg_escalate_staff_find(const TgEscalateConfig *cfg,
                                            const char *address) {
  for (guint i = 0; cfg && address && i < cfg->n_staff; i++)
    if (g_ascii_strcasecmp(cfg->staff[i].address, address) == 0)
      return &cfg->staff[i];
  return NULL;
}

gboolean tg_escalate_is_staff(const TgEscalateConfig *cfg, const char *address) {
  if (!address || !address[0])
    return FALSE;
  if (tg_escalate_staff_find(cfg, address))
    return TRUE;
  const TgSlaPolicies *set = cfg && cfg->policies ? cfg->policies : default_policies();
  for (guint i = 0; i < tg_sla_policies_count(set); i++) {
    const TgSlaPolicy *p = tg_sla_policies_nth(set, i);
    for (guint k = 0; k < p->levels->len; k++) {
      const TgSlaLevel *l = g_ptr_array_index(p->levels, k);
      for (char **t = l->targets; *t; t++)
        if (g_ascii_strcasecmp(*t, address) == 0)
          return TRUE;
    }
  }
  return FALSE;
}

GStrv tg_escalate_targets(const TgEscalateConfig *cfg, const TgSlaPolicy *p,
                          guint level, const char *assignee) {
  GPtrArray *out = g_ptr_array_new();
  for (guint k = 0; k < p->levels->len; k++) {
    const TgSlaLevel *l = g_ptr_array_index(p->levels, k);
    if (l->level == level)
      for (char **t = l->targets; *t; t++)
        g_ptr_array_add(out, g_strdup(*t));
  }
  if (out->len == 0 && level <= 1 && assignee && assignee[0])
    g_ptr_array_add(out, g_ascii_strdown(assignee, -1));
  for (guint i = 0; out->len == 0 && cfg && i < cfg->n_staff; i++)
    if (cfg->staff[i].level == level)
      g_ptr_array_add(out, g_strdup(cfg->staff[i].address));
  g_ptr_array_add(out, NULL);
  return (GStrv)g_ptr_array_free(out, FALSE);
}

char *tg_escalate_format_wait(gint64 secs, const char *lang) {
  gint64 m = MAX(secs, 0) / 60, h = m / 60, d = h / 24;
  gboolean ja = g_strcmp0(lang, "ja") == 0;
  if (d)
    return ja ? g_strdup_printf("%" G_GINT64_FORMAT "日%" G_GINT64_FORMAT "時間", d, h % 24)
              : g_strdup_printf("%" G_GINT64_FORMAT " d %" G_GINT64_FORMAT " h", d, h % 24);
  if (h)
    return ja ? g_strdup_printf("%" G_GINT64_FORMAT "時間%" G_GINT64_FORMAT "分", h, m % 60)
              : g_strdup_printf("%" G_GINT64_FORMAT " h %" G_GINT64_FORMAT " min", h, m % 60);
  return ja ? g_strdup_printf("%" G_GINT64_FORMAT "分", m)
            : g_strdup_printf("%" G_GINT64_FORMAT " min", m);
}

static char *format_local(gint64 t) {
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_local(t);
  return dt ? g_date_time_format(dt, "%Y-%m-%d %H:%M") : g_strdup("");
}

/* Records (ticket, level, kind, seq); FALSE in *FRESH_R when it was there. */
static gboolean claim_notice(TgStore *s, gint64 ticket, guint level, const char *kind,
                             gint64 seq, const char *actor, gint64 now,
                             gboolean *fresh_r, GError **error) {
  if (!tg_store_exec(s,
                     "INSERT OR IGNORE INTO sla_notices (ticket_id, level, kind, seq, "
                     "at, actor) VALUES (?, ?, ?, ?, ?, ?)",
                     error, "iisiis", ticket, (gint64)level, kind, seq, now, actor))
    return FALSE;
  *fresh_r = sqlite3_changes(tg_store_db(s)) == 1;
  return TRUE;
}

static void set_str(JsonObject *o, const char *name, const char *v) {
  json_object_set_string_member(o, name, v ? v : "");
}

static char *field(TgStore *s, gint64 ticket, const char *name, GError **error) {
  sqlite3_stmt *st = tg_store_prepare(
      s, "SELECT value FROM ticket_fields WHERE ticket_id = ? AND name = ?", error,
      "is", ticket, name);
  if (!st)
    return NULL;
  char *v = tg_store_step(s, st, error) == SQLITE_ROW ? g_strdup(tg_store_col_text(st, 0))
                                                       : g_strdup("");
  sqlite3_reset(st);
  return v;
}

/* The notes staff wrote (#note), newest last: "what has been tried". */
static char *notes(TgStore *s, gint64 ticket, GError **error) {
  sqlite3_stmt *st = tg_store_prepare(
      s,
      "SELECT detail FROM events WHERE ticket_id = ? AND kind = 'note' "
      "ORDER BY id DESC LIMIT 5", error, "i", ticket);
  if (!st)
    return NULL;
  GString *out = g_string_new(NULL);
  while (tg_store_step(s, st, error) == SQLITE_ROW) {
    if (out->len)
      g_string_prepend(out, "\n  ");
    g_string_prepend(out, tg_store_col_text(st, 0));
  }
  sqlite3_reset(st);
  return g_string_free(out, FALSE);
}

/* message.* of DATA := the customer's newest message (a staff mail may be
 * newer, but the notice is about the customer's problem). */
static gboolean customer_message(TgStore *s, gint64 ticket, const char *requester,
                                 JsonObject *msg, GError **error) {
  sqlite3_stmt *st = tg_store_prepare(
      s,
      "SELECT subject, body, date, from_name, from_address FROM messages "
      "WHERE ticket_id = ? AND direction = 'in' AND from_address = ? "
      "ORDER BY id DESC LIMIT 1", error, "is", ticket, requester);
  if (!st)
    return FALSE;
  int rc = tg_store_step(s, st, error);
  if (rc == SQLITE_ROW) {
    set_str(msg, "subject", tg_store_col_text(st, 0));
    const char *body = tg_store_col_text(st, 1);
    set_str(msg, "body", body);
    GString *ex = g_string_new(NULL);
    g_auto(GStrv) lines = g_strsplit(body, "\n", 13);
    for (guint i = 0; lines[i] && i < 12; i++)
      g_string_append_printf(ex, "%s> %s", i ? "\n" : "", lines[i]);
    if (g_strv_length(lines) > 12)
      g_string_append(ex, "\n> ...");
    set_str(msg, "excerpt", ex->str);
    g_string_free(ex, TRUE);
    g_autofree char *d = format_local(sqlite3_column_int64(st, 2));
    set_str(msg, "date", d);
  }
  sqlite3_reset(st);
  return rc >= 0;
}

static JsonNode *history(TgStore *s, gint64 ticket, GError **error) {
  sqlite3_stmt *st = tg_store_prepare(
      s,
      "SELECT at, kind, detail, actor FROM (SELECT id, at, kind, detail, actor "
      "FROM events WHERE ticket_id = ? ORDER BY id DESC LIMIT ?) ORDER BY id",
      error, "ii", ticket, (gint64)HISTORY_MAX);
  if (!st)
    return NULL;
  JsonArray *a = json_array_new();
  int rc;
  while ((rc = tg_store_step(s, st, error)) == SQLITE_ROW) {
    JsonObject *o = json_object_new();
    g_autofree char *at = format_local(sqlite3_column_int64(st, 0));
    g_autofree char *ev = g_strdup_printf("%s: %s", tg_store_col_text(st, 1),
                                          tg_store_col_text(st, 2));
    set_str(o, "at", at);
    set_str(o, "event", ev);
    set_str(o, "by", tg_store_col_text(st, 3));
    json_array_add_object_element(a, o);
  }
  sqlite3_reset(st);
  JsonNode *n = json_node_new(JSON_NODE_ARRAY);
  json_node_take_array(n, a);
  if (rc < 0) {
    json_node_unref(n);
    return NULL;
  }
  return n;
}

/* Template data for an escalation notice of T to TARGET. */
static JsonNode *notice_data(const TgEscalateConfig *cfg, TgStore *s,
                             const TgSlaTicket *t, guint level, const char *target,
                             const char *reason, gint64 now, GError **error) {
  g_autoptr(JsonNode) d = tg_notify_data_new(cfg->notify, s, t->id, NULL, error);
  if (!d)
    return NULL;
  JsonObject *root = json_node_get_object(d);
  if (!customer_message(s, t->id, t->requester,
                        json_object_get_object_member(root, "message"), error))
    return NULL;
  g_autofree char *impact = field(s, t->id, "impact", error);
  g_autofree char *tried = field(s, t->id, "tried", error);
  g_autofree char *expected = field(s, t->id, "expected", error);
  g_autofree char *noted = notes(s, t->id, error);
  JsonNode *hist = history(s, t->id, error);
  if (!impact || !tried || !expected || !noted || !hist) {
    if (hist)
      json_node_unref(hist);
    return NULL;
  }
  /* Waiting since the ticket opened, or since the last staff answer. */
  gint64 since = t->first_response_at && t->last_customer_update_at
                     ? t->last_customer_update_at : t->created_at;
  g_autofree char *wait = tg_escalate_format_wait(now - since, t->language);
  JsonObject *e = json_object_new();
  json_object_set_int_member(e, "level", level);
  const TgStaffMember *m = tg_escalate_staff_find(cfg, target);
  set_str(e, "target", m && m->name[0] ? m->name : target);
  set_str(e, "reason", reason);
  set_str(e, "waiting", wait);
  set_str(e, "impact", impact);
  set_str(e, "tried", tried[0] ? tried : noted);
  set_str(e, "expected", expected);
  json_object_set_member(e, "history", hist);
  json_object_set_object_member(root, "escalation", e);
  JsonObject *st = json_object_new();
  set_str(st, "name", m && m->name[0] ? m->name : target);
  set_str(st, "address", target);
  json_object_set_object_member(root, "staff", st);
  return g_steal_pointer(&d);
}

/* Queues one notice; a rendering problem becomes an event. */
static gboolean queue(const TgEscalateConfig *cfg, TgStore *s, TgNotice *n,
                      gint64 now, GError **error) {
  GError *qe = NULL;
  gint64 id = 0;
  g_autofree char *detail = NULL;
  if (!cfg->notify || !cfg->notify->templates) {
    detail = g_strdup_printf("%s to %s not sent: no templates", n->template_name,
                             n->recipient);
  } else if (!tg_notify_queue(cfg->notify, s, n, now, &id, &qe)) {
    if (qe->domain == TG_STORE_ERROR) {
      g_propagate_error(error, qe);
      return FALSE;
    }
    detail = g_strdup_printf("%s to %s not sent: %s", n->template_name, n->recipient,
                             qe->message);
    g_error_free(qe);
  } else {
    detail = g_strdup_printf("%s queued as notice %" G_GINT64_FORMAT " to %s",
                             n->template_name, id, n->recipient);
  }
  return tg_audit_add(s, n->ticket_id, now, "system", "notice", detail, error);
}

static gboolean notify_targets(const TgEscalateConfig *cfg, TgStore *s,
                               const TgSlaTicket *t, guint level, GStrv targets,
                               const char *kind, const char *reason, gint64 now,
                               GError **error) {
  for (char **a = targets; a && *a; a++) {
    if (!cfg->notify || !cfg->notify->templates) {
      g_autofree char *d = g_strdup_printf("%s to %s not sent: no templates", kind, *a);
      if (!tg_audit_add(s, t->id, now, "system", "notice", d, error))
        return FALSE;
      continue;
    }
    g_autoptr(JsonNode) data = notice_data(cfg, s, t, level, *a, reason, now, error);
    if (!data)
      return FALSE;
    const char *support = cfg->notify && cfg->notify->support_address
                              ? cfg->notify->support_address : "support@localhost";
    g_autofree char *reply_to = cfg->secret
                                    ? tg_thread_staff_address(support, t->id, *a, cfg->secret)
                                    : NULL;
    const TgStaffMember *m = tg_escalate_staff_find(cfg, *a);
    TgNotice n = {
        .ticket_id = t->id,
        .template_name = "escalation-notice",
        .kind = kind,
        .recipient = *a,
        .recipient_name = m && m->name[0] ? m->name : NULL,
        .data = data,
        .auto_submitted = TRUE,
        .reply_to = reply_to,
    };
    if (!queue(cfg, s, &n, now, error))
      return FALSE;
  }
  return TRUE;
}

static gboolean tell_customer(const TgEscalateConfig *cfg, TgStore *s,
                              const TgSlaTicket *t, gint64 now, GError **error) {
  if (!t->requester[0])
    return TRUE;
  TgNotice n = {.ticket_id = t->id, .template_name = "status-escalated",
                .recipient = t->requester, .auto_submitted = TRUE};
  return queue(cfg, s, &n, now, error) &&
         tg_store_exec(s, "UPDATE tickets SET last_customer_update_at = ? WHERE id = ?",
                       error, "ii", now, t->id);
}

gboolean tg_escalate_level(const TgEscalateConfig *cfg, TgStore *s, gint64 ticket,
                           guint level, const char *reason, const char *actor,
                           gint64 now, gboolean *done_r, GError **error) {
  static const TgEscalateConfig none = {0};
  if (!cfg)
    cfg = &none;
  if (done_r)
    *done_r = FALSE;
  TgSlaTicket t;
  int rc = tg_sla_clock_load(s, ticket, &t, error);
  if (rc <= 0) {
    if (rc == 0)
      g_set_error(error, TG_STORE_ERROR, TG_STORE_ERROR_FAILED,
                  "no ticket %" G_GINT64_FORMAT, ticket);
    return FALSE;
  }
  gboolean ok = FALSE, fresh = FALSE;
  if (level <= t.level) {
    tg_sla_ticket_clear(&t);
    return TRUE;
  }
  const TgSlaPolicy *p = tg_escalate_policy(cfg, t.policy);
  g_autofree char *detail = g_strdup_printf("level %u: %s", level, reason ? reason : "");
  if (!claim_notice(s, ticket, level, "escalation", 0, actor, now, &fresh, error) ||
      !tg_store_exec(s,
                     "UPDATE tickets SET escalation_level = ?, escalated_at = ?, "
                     "updated_at = ? WHERE id = ?",
                     error, "iiii", (gint64)level, now, now, ticket) ||
      !tg_sla_clock_set_status(cfg, s, ticket, "escalated", now, error) ||
      !tg_audit_add(s, ticket, now, actor, "escalated", detail, error))
    goto out;
  /* the row reloaded: level and status are the new ones */
  tg_sla_ticket_clear(&t);
  if (tg_sla_clock_load(s, ticket, &t, error) <= 0)
    goto out;
  if (fresh) {
    g_auto(GStrv) targets = tg_escalate_targets(cfg, p, level, NULL);
    if (!targets[0] &&
        !tg_audit_add(s, ticket, now, "system", "notice",
                      "escalation-notice not sent: level has no target", error))
      goto out;
    if (!notify_targets(cfg, s, &t, level, targets, "escalation-notice", reason, now,
                        error))
      goto out;
    for (guint k = 0; k < p->levels->len; k++) {
      const TgSlaLevel *l = g_ptr_array_index(p->levels, k);
      if (l->level == level && l->notify_customer && !tell_customer(cfg, s, &t, now, error))
        goto out;
    }
  }
  if (!tg_sla_clock_refresh(cfg, s, ticket, error))
    goto out;
  if (done_r)
    *done_r = TRUE;
  ok = TRUE;
out:
  tg_sla_ticket_clear(&t);
  return ok;
}

gboolean tg_escalate_warn(const TgEscalateConfig *cfg, TgStore *s, gint64 ticket,
                          guint next_level, gint64 deadline, gint64 now,
                          GError **error) {
  TgSlaTicket t;
  int rc = tg_sla_clock_load(s, ticket, &t, error);
  if (rc <= 0)
    return rc == 0;
  gboolean fresh = FALSE, ok = FALSE;
  g_autofree char *when = format_local(deadline);
  g_autofree char *reason = g_strdup_printf(
      "SLA warning: unless someone answers, level %u takes over at %s", next_level, when);
  const TgSlaPolicy *p = tg_escalate_policy(cfg, t.policy);
  if (!claim_notice(s, ticket, next_level, "warning", 0, "sla", now, &fresh, error))
    goto out;
  if (fresh) {
    g_auto(GStrv) targets = tg_escalate_targets(cfg, p, t.level, t.assignee);
    if (!tg_audit_add(s, ticket, now, "sla", "sla-warning", reason, error) ||
        !notify_targets(cfg, s, &t, t.level, targets, "sla-warning", reason, now, error))
      goto out;
  }
  ok = tg_sla_clock_refresh(cfg, s, ticket, error);
out:
  tg_sla_ticket_clear(&t);
  return ok;
}

gboolean tg_escalate_inform(const TgEscalateConfig *cfg, TgStore *s, gint64 ticket,
                            gint64 seq, gint64 now, GError **error) {
  TgSlaTicket t;
  int rc = tg_sla_clock_load(s, ticket, &t, error);
  if (rc <= 0)
    return rc == 0;
  gboolean fresh = FALSE, ok = FALSE;
  if (!claim_notice(s, ticket, t.level, "informed", seq, "sla", now, &fresh, error))
    goto out;
  if (fresh && (!tg_audit_add(s, ticket, now, "sla", "status-update",
                              "keep-customer-informed: status-escalated to the customer",
                              error) ||
                !tell_customer(cfg, s, &t, now, error)))
    goto out;
  if (!fresh && !tg_store_exec(s, "UPDATE tickets SET last_customer_update_at = ? "
                                  "WHERE id = ?", error, "ii", now, ticket))
    goto out;
  ok = tg_sla_clock_refresh(cfg, s, ticket, error);
out:
  tg_sla_ticket_clear(&t);
  return ok;
}

gboolean tg_escalate_notify_address(const TgEscalateConfig *cfg, TgStore *s, gint64 ticket,
                                    const char *address, const char *reason, gint64 now,
                                    GError **error) {
  static const TgEscalateConfig none = {0};
  TgSlaTicket t;
  int rc = tg_sla_clock_load(s, ticket, &t, error);
  if (rc <= 0)
    return rc == 0;
  g_autofree char *lower = g_ascii_strdown(address, -1);
  char *targets[] = {lower, NULL};
  gboolean ok = notify_targets(cfg ? cfg : &none, s, &t, t.level, targets,
                               "escalation-notice", reason, now, error);
  tg_sla_ticket_clear(&t);
  return ok;
}
