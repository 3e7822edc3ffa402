/* escalate_ingest.c - incoming mail and the SLA clock (escalate_ingest.h). */
#include "tickets/escalate_ingest.h"
#include "tickets/audit.h"
#include "tickets/sla_clock.h"
#include "tickets/staff_mail.h"
#include "tickets/thread.h"

static gboolean rule_escalation(const TgEscalateConfig *cfg, TgStore *s, gint64 ticket,
                                const TgRuleResult *r, gint64 now, GError **error) {
  if (!r || !r->escalate)
    return TRUE;
  const char *rule = "rules";
  for (guint i = 0; i < r->actions->len; i++) {
    const TgRuleAction *a = g_ptr_array_index(r->actions, i);
    if (g_str_equal(a->action, "escalate"))
      rule = a->rule;
  }
  g_autofree char *actor = g_strdup_printf("rule:%s", rule);
  const char *reason = r->escalate_reason ? r->escalate_reason : "rule";
  if (r->escalate_level > 0)
    return tg_escalate_level(cfg, s, ticket, r->escalate_level, reason, actor, now, NULL,
                             error);
  if (!r->escalate_to || !r->escalate_to[0])
    return TRUE;
  g_autofree char *detail = g_strdup_printf("escalation notice to %s: %s", r->escalate_to,
                                            reason);
  return tg_audit_add(s, ticket, now, actor, "escalated", detail, error) &&
         tg_escalate_notify_address(cfg, s, ticket, r->escalate_to, reason, now, error);
}

gboolean tg_escalate_ingest(const TgEscalateConfig *cfg, TgStore *s, const TgMail *m,
                            const TgIngestResult *r, gboolean from_staff, gint64 now,
                            GError **error) {
  gint64 ticket = r->ticket_id;
  if (r->outcome != TG_INGEST_CREATED && r->outcome != TG_INGEST_APPENDED)
    return TRUE;
  if (!rule_escalation(cfg, s, ticket, r->rules, now, error))
    return FALSE;
  if (r->outcome == TG_INGEST_APPENDED) {
    if (from_staff || tg_escalate_is_staff(cfg, m->from->address)) {
      if (!tg_staff_mail_handle(cfg, s, m, ticket, now, error))
        return FALSE;
    } else {
      GError *e = NULL;
      gint64 pending = tg_store_query_int(
          s, "SELECT 1 FROM tickets WHERE id = ? AND status = 'pending'", 0, &e, "i", ticket);
      if (e) {
        g_propagate_error(error, e);
        return FALSE;
      }
      if (pending && (!tg_sla_clock_set_status(cfg, s, ticket, "open", now, error) ||
                      !tg_audit_add(s, ticket, now, m->from->address, "status",
                                    "pending -> open (the customer wrote)", error)))
        return FALSE;
    }
  }
  return tg_sla_clock_refresh(cfg, s, ticket, error);
}
