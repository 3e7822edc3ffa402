/* classify.c - rules in, ticket changes out (contract in classify.h). */
#include "tickets/classify.h"
#include "tickets/audit.h"

struct TgClassifyInput {
  TgRuleInput in;
  GArray *to, *cc, *headers, *attachments;
};

static GArray *addresses(GPtrArray *list) {
  GArray *a = g_array_sized_new(FALSE, TRUE, sizeof(TgRuleAddress), list->len);
  for (guint i = 0; i < list->len; i++) {
    TgAddress *src = g_ptr_array_index(list, i);
    TgRuleAddress ra = {.address = src->address, .name = src->name};
    g_array_append_val(a, ra);
  }
  return a;
}

TgClassifyInput *tg_classify_input_new(const TgMail *m, gboolean is_reply,
                                       gboolean from_staff) {
  TgClassifyInput *ci = g_new0(TgClassifyInput, 1);
  ci->to = addresses(m->to);
  ci->cc = addresses(m->cc);
  ci->headers = g_array_sized_new(FALSE, TRUE, sizeof(TgRuleHeader), m->headers->len);
  for (guint i = 0; i < m->headers->len; i++) {
    TgHeader *h = g_ptr_array_index(m->headers, i);
    TgRuleHeader rh = {.name = h->name, .value = h->value};
    g_array_append_val(ci->headers, rh);
  }
  ci->attachments = g_array_sized_new(FALSE, TRUE, sizeof(TgRuleAttachment),
                                      m->attachments->len);
  for (guint i = 0; i < m->attachments->len; i++) {
    TgAttachment *a = g_ptr_array_index(m->attachments, i);
    TgRuleAttachment ra = {.filename = a->filename[0] ? a->filename : NULL,
                           .content_type = a->content_type};
    g_array_append_val(ci->attachments, ra);
  }
  ci->in = (TgRuleInput){
      .from = {.address = m->from->address[0] ? m->from->address : NULL,
               .name = m->from->name[0] ? m->from->name : NULL},
      .to = (const TgRuleAddress *)ci->to->data, .n_to = ci->to->len,
      .cc = (const TgRuleAddress *)ci->cc->data, .n_cc = ci->cc->len,
      .recipient = m->envelope_recipients->len
                       ? g_ptr_array_index(m->envelope_recipients, 0) : NULL,
      .sender = m->envelope_sender ? m->envelope_sender : "",
      .subject = m->subject,
      .body = m->body,
      .body_len = -1,
      .headers = (const TgRuleHeader *)ci->headers->data,
      .n_headers = ci->headers->len,
      .attachments = (const TgRuleAttachment *)ci->attachments->data,
      .n_attachments = ci->attachments->len,
      .size = m->raw ? g_bytes_get_size(m->raw) : 0,
      .is_reply = is_reply,
      .from_staff = from_staff,
      .prefilter = m->rule_prefilter,
  };
  return ci;
}

const TgRuleInput *tg_classify_input_get(const TgClassifyInput *ci) {
  return &ci->in;
}

void tg_classify_input_free(TgClassifyInput *ci) {
  if (!ci)
    return;
  g_array_unref(ci->to);
  g_array_unref(ci->cc);
  g_array_unref(ci->headers);
  g_array_unref(ci->attachments);
  g_free(ci);
}

static gboolean apply_action(TgStore *s, gint64 t, const TgRuleAction *a,
                             GError **error) {
  const char *act = a->action;
  const char *v = a->value ? a->value : "";
  if (g_str_equal(act, "set queue"))
    return tg_store_exec(s, "UPDATE tickets SET queue = ? WHERE id = ?", error, "si", v, t);
  if (g_str_equal(act, "set priority"))
    return tg_store_exec(s, "UPDATE tickets SET priority = ? WHERE id = ?", error, "si", v, t);
  if (g_str_equal(act, "set policy"))
    return tg_store_exec(s, "UPDATE tickets SET policy = ? WHERE id = ?", error, "si", v, t);
  if (g_str_equal(act, "set field"))
    return tg_store_exec(s,
                         "INSERT INTO ticket_fields (ticket_id, name, value) VALUES (?, ?, ?) "
                         "ON CONFLICT (ticket_id, name) DO UPDATE SET value = excluded.value",
                         error, "iss", t, a->name ? a->name : "", v);
  if (g_str_equal(act, "tag"))
    return tg_store_exec(s, "INSERT OR IGNORE INTO ticket_tags (ticket_id, tag) VALUES (?, ?)",
                         error, "is", t, v);
  if (g_str_equal(act, "untag"))
    return tg_store_exec(s, "DELETE FROM ticket_tags WHERE ticket_id = ? AND tag = ?", error,
                         "is", t, v);
  if (g_str_equal(act, "assign"))
    return tg_store_exec(s, "UPDATE tickets SET assignee = ? WHERE id = ?", error, "si", v, t);
  /* escalate: tickets/escalate_ingest.c raises the level and notifies the
   * targets (tg_escalate_level), after all actions are applied. */
  return TRUE; /* escalate, replies, noreply, stop: recorded here only */
}

gboolean tg_classify_apply(TgStore *s, gint64 t, const TgRuleResult *r,
                           gint64 now, GError **error) {
  for (guint i = 0; i < r->actions->len; i++) {
    const TgRuleAction *a = g_ptr_array_index(r->actions, i);
    if (g_str_equal(a->action, "quarantine") || g_str_equal(a->action, "stop"))
      continue;
    if (!apply_action(s, t, a, error))
      return FALSE;
    g_autofree char *actor = g_strdup_printf("rule:%s", a->rule);
    g_autofree char *detail = g_strdup_printf(
        "%s%s%s%s%s%s%s (%s:%u)", a->action, a->name ? " " : "", a->name ? a->name : "",
        a->value ? " " : "", a->value ? a->value : "", a->reason ? " reason " : "",
        a->reason ? a->reason : "", a->file, a->line);
    const char *kind = g_str_equal(a->action, "escalate") ? "escalated" : "rule";
    if (!tg_audit_add(s, t, now, actor, kind, detail, error))
      return FALSE;
  }
  return TRUE;
}
