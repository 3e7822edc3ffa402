/* staff_mail.c - staff answers and commands by mail (staff_mail.h). */
#include "tickets/staff_mail.h"
#include "tickets/audit.h"
#include "tickets/sla_clock.h"
#include "tickets/staff_command.h"
#include "tickets/thread.h"
#include "tickets/ticket_ops.h"

#include <string.h>

/* "a; b (comment) c" without comments. */
static char *strip_comments(const char *s) {
  GString *o = g_string_new(NULL);
  int depth = 0;
  for (const char *p = s; *p; p++) {
    if (*p == '(')
      depth++;
    else if (*p == ')' && depth)
      depth--;
    else if (!depth)
      g_string_append_c(o, *p);
  }
  return g_string_free(o, FALSE);
}

gboolean tg_staff_mail_dkim_ok(const TgMail *m, const char *trusted, const char *domain) {
  if (!trusted || !trusted[0] || !domain || !domain[0])
    return FALSE;
  for (guint i = 0; i < m->headers->len; i++) {
    TgHeader *h = g_ptr_array_index(m->headers, i);
    if (g_ascii_strcasecmp(h->name, "Authentication-Results") != 0)
      continue;
    g_autofree char *v = strip_comments(h->value);
    g_auto(GStrv) parts = g_strsplit(v, ";", -1);
    if (!parts[0])
      continue;
    g_auto(GStrv) id = g_strsplit_set(g_strstrip(parts[0]), " \t", 2);
    if (!id[0] || g_ascii_strcasecmp(id[0], trusted) != 0)
      continue;
    for (guint k = 1; parts[k]; k++) {
      g_auto(GStrv) w = g_strsplit_set(g_strstrip(parts[k]), " \t", -1);
      if (!w[0] || g_ascii_strcasecmp(w[0], "dkim=pass") != 0)
        continue;
      for (guint j = 1; w[j]; j++) {
        const char *d = NULL;
        if (g_ascii_strncasecmp(w[j], "header.d=", 9) == 0)
          d = w[j] + 9;
        else if (g_ascii_strncasecmp(w[j], "header.i=", 9) == 0 && strchr(w[j], '@'))
          d = strchr(w[j], '@') + 1;
        if (d && g_ascii_strcasecmp(d, domain) == 0)
          return TRUE;
      }
    }
  }
  return FALSE;
}

TgStaffAuth tg_staff_mail_auth(const TgEscalateConfig *cfg, const TgMail *m, gint64 ticket) {
  const char *from = m->from->address;
  if (!cfg || !from[0] || !tg_escalate_is_staff(cfg, from))
    return TG_STAFF_AUTH_NONE;
  if (cfg->secret) {
    GPtrArray *lists[] = {m->to, m->cc};
    for (guint i = 0; i < m->envelope_recipients->len; i++)
      if (tg_thread_parse_staff_address(g_ptr_array_index(m->envelope_recipients, i),
                                        cfg->support_addresses, cfg->secret, from) == ticket)
        return TG_STAFF_AUTH_TOKEN;
    for (gsize l = 0; l < G_N_ELEMENTS(lists); l++)
      for (guint i = 0; i < lists[l]->len; i++) {
        TgAddress *a = g_ptr_array_index(lists[l], i);
        if (tg_thread_parse_staff_address(a->address, cfg->support_addresses, cfg->secret,
                                          from) == ticket)
          return TG_STAFF_AUTH_TOKEN;
      }
  }
  const char *at = strrchr(from, '@');
  if (at && tg_staff_mail_dkim_ok(m, cfg->trusted_authserv_id, at + 1))
    return TG_STAFF_AUTH_DKIM;
  return TG_STAFF_AUTH_NONE;
}

static gboolean send_to_staff(const TgEscalateConfig *cfg, TgStore *s, gint64 ticket,
                              const TgMail *m, const char *template_name, JsonNode *data,
                              gint64 now, GError **error) {
  if (!cfg->notify || !cfg->notify->templates)
    return TRUE;
  const char *from = m->from->address;
  const char *support = cfg->notify->support_address;
  g_autofree char *reply_to = cfg->secret && support
                                  ? tg_thread_staff_address(support, ticket, from, cfg->secret)
                                  : NULL;
  /* In-Reply-To: the ticket's newest incoming message, the staff mail. */
  TgNotice n = {.ticket_id = ticket, .template_name = template_name, .recipient = from,
                .recipient_name = m->from->name[0] ? m->from->name : NULL, .data = data,
                .auto_submitted = TRUE, .reply_to = reply_to};
  return tg_notify_queue_audited(cfg->notify, s, &n, now, "notice", error);
}

static JsonNode *command_data(const TgEscalateConfig *cfg, TgStore *s, gint64 ticket,
                              const TgMail *m, const char *name, const char *text,
                              gboolean ok, const char *result, const char *err,
                              GError **error) {
  if (!cfg->notify) /* no mail at all: send_to_staff() sends nothing */
    return json_node_init_object(json_node_alloc(), json_object_new());
  JsonNode *d = tg_notify_data_new(cfg->notify, s, ticket, m, error);
  if (!d)
    return NULL;
  JsonObject *root = json_node_get_object(d);
  const TgStaffMember *sm = tg_escalate_staff_find(cfg, m->from->address);
  JsonObject *st = json_object_new();
  json_object_set_string_member(st, "name", sm && sm->name[0] ? sm->name
                                            : m->from->name[0] ? m->from->name
                                                               : m->from->address);
  json_object_set_string_member(st, "address", m->from->address);
  json_object_set_object_member(root, "staff", st);
  JsonObject *c = json_object_new();
  json_object_set_string_member(c, "name", name ? name : "");
  json_object_set_string_member(c, "text", text ? text : "");
  json_object_set_boolean_member(c, "ok", ok);
  json_object_set_string_member(c, "result", result ? result : "");
  json_object_set_string_member(c, "error", err ? err : "");
  JsonArray *list = json_array_new();
  g_autofree char *lang = NULL;
  {
    JsonObject *t = json_object_get_object_member(root, "ticket");
    lang = g_strdup(json_object_get_string_member(t, "language"));
  }
  for (guint i = 0; i < tg_staff_command_n_usages; i++) {
    JsonObject *u = json_object_new();
    json_object_set_string_member(u, "usage", tg_staff_command_usages[i].usage);
    json_object_set_string_member(u, "description", g_strcmp0(lang, "ja") == 0
                                                        ? tg_staff_command_usages[i].ja
                                                        : tg_staff_command_usages[i].en);
    json_array_add_object_element(list, u);
  }
  json_object_set_array_member(c, "commands", list);
  json_object_set_object_member(root, "command", c);
  return d;
}

static char *command_name(const char *text) {
  const char *p = text + (text[0] == '#');
  gsize n = 0;
  while (p[n] && !g_ascii_isspace(p[n]))
    n++;
  return g_ascii_strdown(p, (gssize)n);
}

/* Applies C; FALSE with a TG_TICKET_OPS_ERROR when it cannot be done. */
static gboolean apply(const TgEscalateConfig *cfg, TgStore *s, gint64 ticket,
                      const TgMail *m, const TgStaffCommand *c, const char *staff_name,
                      gint64 now, char **result_r, GError **error) {
  const char *actor = m->from->address;
  switch (c->kind) {
  case TG_CMD_ESCALATE:
    return tg_ticket_ops_escalate(cfg, s, ticket, c->level, c->arg, actor, now, result_r,
                                  error);
  case TG_CMD_ASSIGN:
    return tg_ticket_ops_assign(s, ticket, c->arg, actor, now, result_r, error);
  case TG_CMD_TAKE:
    return tg_ticket_ops_assign(s, ticket, actor, actor, now, result_r, error);
  case TG_CMD_STATUS:
    return tg_ticket_ops_status(cfg, s, ticket, c->arg, actor, now, result_r, error);
  case TG_CMD_PRIORITY:
    return tg_ticket_ops_set(s, ticket, "priority", c->arg, actor, now, result_r, error);
  case TG_CMD_QUEUE:
    return tg_ticket_ops_set(s, ticket, "queue", c->arg, actor, now, result_r, error);
  case TG_CMD_TAG:
    return tg_ticket_ops_tag(s, ticket, c->arg, actor, now, result_r, error);
  case TG_CMD_CANNED: {
    g_autofree char *name = g_strconcat("canned/", c->arg, NULL);
    return tg_ticket_ops_reply(cfg, s, ticket, name, "", staff_name, actor, actor, now,
                               result_r, error);
  }
  case TG_CMD_NOTE:
    *result_r = g_strdup("internal note recorded (not sent to the customer)");
    return TRUE;
  case TG_CMD_HELP:
    *result_r = g_strdup("command list sent");
    return TRUE;
  }
  return TRUE;
}

gboolean tg_staff_mail_handle(const TgEscalateConfig *cfg, TgStore *s, const TgMail *m,
                              gint64 ticket, gint64 now, GError **error) {
  const char *from = m->from->address;
  if (!cfg || !tg_escalate_is_staff(cfg, from))
    return TRUE;
  g_autoptr(TgStaffCommands) cmds = tg_staff_command_parse(m->body);
  gboolean has_commands = cmds->commands->len || cmds->bad_text;
  TgStaffAuth auth = tg_staff_mail_auth(cfg, m, ticket);
  if (auth == TG_STAFF_AUTH_NONE) {
    g_autofree char *detail = g_strdup_printf(
        "%s from %s: not sent to a signed staff address and no trusted DKIM pass; "
        "stored as correspondence", has_commands ? "commands" : "answer", from);
    return tg_audit_add(s, ticket, now, "system",
                        has_commands ? "command ignored: unauthenticated"
                                     : "reply ignored: unauthenticated",
                        detail, error);
  }
  const TgStaffMember *sm = tg_escalate_staff_find(cfg, from);
  const char *staff_name = sm && sm->name[0] ? sm->name : m->from->name;
  const char *auth_name = auth == TG_STAFF_AUTH_TOKEN ? "signed address" : "DKIM";
  if (cmds->bad_text) {
    g_autofree char *name = command_name(cmds->bad_text);
    g_autofree char *detail = g_strdup_printf("%s: %s; nothing of this mail applied",
                                              cmds->bad_text, cmds->bad_error);
    g_autoptr(JsonNode) d = command_data(cfg, s, ticket, m, name, cmds->bad_text, FALSE, NULL,
                                         cmds->bad_error, error);
    return d && tg_audit_add(s, ticket, now, from, "command rejected", detail, error) &&
           send_to_staff(cfg, s, ticket, m, "command-help", d, now, error);
  }
  /* A staff mail is a staff update, whatever it says. */
  if (!tg_sla_clock_staff_mail(cfg, s, ticket, FALSE, now, error))
    return FALSE;
  if (!has_commands) {
    if (!cmds->answer[0])
      return TRUE;
    g_autoptr(GError) e = NULL;
    if (!tg_ticket_ops_reply(cfg, s, ticket, "reply", cmds->answer, staff_name, from, from,
                             now, NULL, &e)) {
      if (e->domain == TG_STORE_ERROR) {
        g_propagate_error(error, g_steal_pointer(&e));
        return FALSE;
      }
      g_autofree char *d = g_strdup_printf("answer not sent: %s", e->message);
      return tg_audit_add(s, ticket, now, "system", "reply", d, error);
    }
    return TRUE;
  }
  /* Commands: all or nothing. */
  GString *text = g_string_new(NULL), *results = g_string_new(NULL);
  gboolean only_help = TRUE, ok = TRUE;
  g_autoptr(GError) fail = NULL;
  g_autofree char *failed_name = NULL;
  gboolean done = FALSE;
  if (!tg_store_exec(s, "SAVEPOINT staff_commands", error, NULL))
    goto out;
  for (guint i = 0; i < cmds->commands->len; i++) {
    const TgStaffCommand *c = g_ptr_array_index(cmds->commands, i);
    g_string_append_printf(text, "%s%s", i ? "; " : "", c->text);
    only_help &= c->kind == TG_CMD_HELP;
    if (!ok)
      continue;
    g_autofree char *result = NULL;
    if (!apply(cfg, s, ticket, m, c, staff_name, now, &result, &fail)) {
      if (fail->domain == TG_STORE_ERROR) {
        tg_store_exec(s, "ROLLBACK TO staff_commands", NULL, NULL);
        tg_store_exec(s, "RELEASE staff_commands", NULL, NULL);
        g_propagate_error(error, g_steal_pointer(&fail));
        goto out;
      }
      ok = FALSE;
      failed_name = g_strdup(c->text);
      continue;
    }
    g_string_append_printf(results, "  %s: %s\n", c->text, result);
  }
  if (ok && cmds->note && cmds->note[0] &&
      !tg_ticket_ops_note(s, ticket, cmds->note, from, now, error))
    goto out;
  if (ok && cmds->answer[0]) {
    g_autofree char *r = NULL;
    if (!tg_ticket_ops_reply(cfg, s, ticket, "reply", cmds->answer, staff_name, from, from,
                             now, &r, &fail)) {
      if (fail->domain == TG_STORE_ERROR) {
        g_propagate_error(error, g_steal_pointer(&fail));
        goto out;
      }
      ok = FALSE;
      failed_name = g_strdup("(answer)");
    } else {
      g_string_append_printf(results, "  answer: %s\n", r);
    }
  }
  if (!ok) {
    tg_store_exec(s, "ROLLBACK TO staff_commands", NULL, NULL);
  }
  if (!tg_store_exec(s, "RELEASE staff_commands", error, NULL))
    goto out;
  {
    g_autofree char *err_text = ok ? NULL
                                   : g_strdup_printf("%s: %s (nothing was applied)",
                                                     failed_name, fail->message);
    g_autofree char *detail = g_strdup_printf("by %s (%s): %s%s%s", from, auth_name, text->str,
                                              ok ? "" : " -- refused: ",
                                              ok ? "" : err_text);
    g_autofree char *name = command_name(text->str);
    g_autoptr(JsonNode) d = command_data(cfg, s, ticket, m, name, text->str, ok, results->str,
                                         err_text, error);
    if (!d || !tg_audit_add(s, ticket, now, from, ok ? "commands" : "command rejected",
                            detail, error) ||
        !send_to_staff(cfg, s, ticket, m, only_help && ok ? "command-help"
                                                          : "command-confirmation",
                       d, now, error))
      goto out;
  }
  done = TRUE;
out:
  g_string_free(text, TRUE);
  g_string_free(results, TRUE);
  return done;
}
