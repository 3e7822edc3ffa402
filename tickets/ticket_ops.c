/* ticket_ops.c - staff operations on a ticket (contract in ticket_ops.h). */
#include "tickets/ticket_ops.h"
#include "tickets/audit.h"
#include "tickets/sla_clock.h"
#include "tickets/thread.h"

#include <string.h>

G_DEFINE_QUARK(tg-ticket-ops-error-quark, tg_ticket_ops_error)

static void set_result(char **result_r, char *text) {
  if (result_r)
    *result_r = text;
  else
    g_free(text);
}

static gboolean exists(TgStore *s, gint64 ticket, GError **error) {
  GError *e = NULL;
  gint64 n = tg_store_query_int(s, "SELECT 1 FROM tickets WHERE id = ?", 0, &e, "i",
                                ticket);
  if (e) {
    g_propagate_error(error, e);
    return FALSE;
  }
  if (!n)
    g_set_error(error, TG_TICKET_OPS_ERROR, TG_TICKET_OPS_ERROR_INVALID,
                "no ticket %" G_GINT64_FORMAT, ticket);
  return n == 1;
}

/* The ticket's SLA state, or an error naming the missing ticket. */
static gboolean load_ticket(TgStore *s, gint64 ticket, TgSlaTicket *t,
                            GError **error) {
  int rc = tg_sla_clock_load(s, ticket, t, error);
  if (rc == 0)
    g_set_error(error, TG_TICKET_OPS_ERROR, TG_TICKET_OPS_ERROR_INVALID,
                "no ticket %" G_GINT64_FORMAT, ticket);
  return rc > 0;
}

gboolean tg_ticket_ops_escalate(const TgEscalateConfig *cfg, TgStore *s, gint64 ticket,
                                guint level, const char *reason, const char *actor,
                                gint64 now, char **result_r, GError **error) {
  TgSlaTicket t;
  if (!load_ticket(s, ticket, &t, error))
    return FALSE;
  guint current = t.level;
  tg_sla_ticket_clear(&t);
  if (level == 0)
    level = current + 1;
  if (level <= current || level > 20) {
    g_set_error(error, TG_TICKET_OPS_ERROR, TG_TICKET_OPS_ERROR_INVALID,
                "ticket %" G_GINT64_FORMAT " is at level %u; escalate needs a higher "
                "level (up to 20)", ticket, current);
    return FALSE;
  }
  gboolean done = FALSE;
  if (!tg_escalate_level(cfg, s, ticket, level, reason && reason[0] ? reason : "(no reason given)",
                         actor, now, &done, error))
    return FALSE;
  set_result(result_r, g_strdup_printf("escalated from level %u to level %u", current, level));
  return TRUE;
}

gboolean tg_ticket_ops_status(const TgEscalateConfig *cfg, TgStore *s, gint64 ticket,
                              const char *status, const char *actor, gint64 now,
                              char **result_r, GError **error) {
  static const char *const ok[] = {"new", "open", "pending", "escalated", "resolved",
                                   "closed", NULL};
  if (!g_strv_contains(ok, status)) {
    g_set_error(error, TG_TICKET_OPS_ERROR, TG_TICKET_OPS_ERROR_INVALID,
                "unknown status '%s' (open, pending, resolved, closed)", status);
    return FALSE;
  }
  TgSlaTicket t;
  if (!load_ticket(s, ticket, &t, error))
    return FALSE;
  g_autofree char *old = g_strdup(t.status);
  g_autofree char *requester = g_strdup(t.requester);
  tg_sla_ticket_clear(&t);
  g_autofree char *detail = g_strdup_printf("%s -> %s", old, status);
  if (!tg_sla_clock_set_status(cfg, s, ticket, status, now, error) ||
      !tg_audit_add(s, ticket, now, actor, "status", detail, error))
    return FALSE;
  if (strcmp(old, status) != 0 &&
      (strcmp(status, "pending") == 0 || strcmp(status, "resolved") == 0) &&
      requester[0] && cfg && cfg->notify && cfg->notify->templates) {
    g_autofree char *name = g_strconcat("status-", status, NULL);
    TgNotice n = {.ticket_id = ticket, .template_name = name, .recipient = requester,
                  .auto_submitted = TRUE};
    if (!tg_notify_queue_audited(cfg->notify, s, &n, now, "notice", error) ||
        !tg_store_exec(s, "UPDATE tickets SET last_customer_update_at = ? WHERE id = ?",
                       error, "ii", now, ticket))
      return FALSE;
  }
  set_result(result_r, g_strdup_printf("status %s", detail));
  return TRUE;
}

gboolean tg_ticket_ops_set(TgStore *s, gint64 ticket, const char *what, const char *value,
                           const char *actor, gint64 now, char **result_r, GError **error) {
  const char *sql = strcmp(what, "priority") == 0
                        ? "UPDATE tickets SET priority = ?, updated_at = ? WHERE id = ?"
                        : "UPDATE tickets SET queue = ?, updated_at = ? WHERE id = ?";
  g_autofree char *detail = g_strdup_printf("%s %s", what, value);
  if (!exists(s, ticket, error) || !tg_store_exec(s, sql, error, "sii", value, now, ticket) ||
      !tg_audit_add(s, ticket, now, actor, what, detail, error))
    return FALSE;
  set_result(result_r, g_steal_pointer(&detail));
  return TRUE;
}

gboolean tg_ticket_ops_assign(TgStore *s, gint64 ticket, const char *address,
                              const char *actor, gint64 now, char **result_r,
                              GError **error) {
  g_autofree char *a = g_ascii_strdown(address, -1);
  g_autofree char *detail = g_strdup_printf("assigned to %s", a);
  if (!exists(s, ticket, error) ||
      !tg_store_exec(s, "UPDATE tickets SET assignee = ?, updated_at = ? WHERE id = ?",
                     error, "sii", a, now, ticket) ||
      !tg_store_exec(s,
                     "INSERT OR IGNORE INTO participants (ticket_id, address, role) "
                     "VALUES (?, ?, 'staff')", error, "is", ticket, a) ||
      !tg_audit_add(s, ticket, now, actor, "assign", detail, error))
    return FALSE;
  set_result(result_r, g_steal_pointer(&detail));
  return TRUE;
}

gboolean tg_ticket_ops_tag(TgStore *s, gint64 ticket, const char *tag, const char *actor,
                           gint64 now, char **result_r, GError **error) {
  g_autofree char *detail = g_strdup_printf("tag %s", tag);
  if (!exists(s, ticket, error) ||
      !tg_store_exec(s, "INSERT OR IGNORE INTO ticket_tags (ticket_id, tag) VALUES (?, ?)",
                     error, "is", ticket, tag) ||
      !tg_audit_add(s, ticket, now, actor, "tag", detail, error))
    return FALSE;
  set_result(result_r, g_steal_pointer(&detail));
  return TRUE;
}

gboolean tg_ticket_ops_note(TgStore *s, gint64 ticket, const char *text,
                            const char *actor, gint64 now, GError **error) {
  return exists(s, ticket, error) && tg_audit_add(s, ticket, now, actor, "note", text, error);
}

/* The customer's newest message, to answer it: "<id>" or NULL. */
static char *customer_msgid(TgStore *s, gint64 ticket, GError **error) {
  sqlite3_stmt *st = tg_store_prepare(
      s,
      "SELECT m.message_id FROM messages m JOIN tickets t ON t.id = m.ticket_id "
      "WHERE m.ticket_id = ? AND m.direction = 'in' AND m.from_address = "
      "t.requester_address AND m.message_id IS NOT NULL ORDER BY m.id DESC LIMIT 1",
      error, "i", ticket);
  if (!st)
    return NULL;
  char *id = NULL;
  if (tg_store_step(s, st, error) == SQLITE_ROW) {
    const char *v = tg_store_col_text(st, 0);
    if (v[0] && strlen(v) < 250 && strchr(v, '@') && !strpbrk(v, "<> \t\r\n"))
      id = g_strdup_printf("<%s>", v);
  }
  sqlite3_reset(st);
  return id;
}

gboolean tg_ticket_ops_reply(const TgEscalateConfig *cfg, TgStore *s, gint64 ticket,
                             const char *template_name, const char *text,
                             const char *staff_name, const char *staff_address,
                             const char *actor, gint64 now, char **result_r,
                             GError **error) {
  TgSlaTicket t;
  if (!load_ticket(s, ticket, &t, error))
    return FALSE;
  g_autofree char *requester = g_strdup(t.requester);
  g_autofree char *lang = g_strdup(t.language);
  tg_sla_ticket_clear(&t);
  if (!requester[0] || !cfg || !cfg->notify || !cfg->notify->templates) {
    g_set_error(error, TG_TICKET_OPS_ERROR, TG_TICKET_OPS_ERROR_INVALID,
                "cannot answer ticket %" G_GINT64_FORMAT ": %s", ticket,
                requester[0] ? "no templates" : "no customer address");
    return FALSE;
  }
  if (!template_set_lookup(cfg->notify->templates, template_name, lang)) {
    g_set_error(error, TG_TICKET_OPS_ERROR, TG_TICKET_OPS_ERROR_INVALID,
                "no template '%s'", template_name);
    return FALSE;
  }
  g_autoptr(JsonNode) data = tg_notify_data_new(cfg->notify, s, ticket, NULL, error);
  if (!data)
    return FALSE;
  JsonObject *root = json_node_get_object(data);
  JsonObject *msg = json_object_get_object_member(root, "message");
  json_object_set_string_member(msg, "body", text ? text : "");
  JsonObject *st = json_object_new();
  json_object_set_string_member(st, "name", staff_name ? staff_name : "");
  json_object_set_string_member(st, "address", staff_address ? staff_address : "");
  json_object_set_object_member(root, "staff", st);
  g_autofree char *irt = customer_msgid(s, ticket, error);
  TgNotice n = {.ticket_id = ticket, .template_name = template_name,
                .kind = g_str_has_prefix(template_name, "canned/") ? "canned" : "reply",
                .recipient = requester, .data = data, .in_reply_to = irt,
                .auto_submitted = FALSE};
  gint64 id = 0;
  if (!tg_notify_queue(cfg->notify, s, &n, now, &id, error))
    return FALSE;
  g_autofree char *detail = g_strdup_printf("%s queued as notice %" G_GINT64_FORMAT " to %s",
                                            template_name, id, requester);
  if (!tg_audit_add(s, ticket, now, actor, "reply", detail, error) ||
      !tg_sla_clock_staff_mail(cfg, s, ticket, TRUE, now, error))
    return FALSE;
  set_result(result_r, g_strdup_printf("%s sent to %s", template_name, requester));
  return TRUE;
}
