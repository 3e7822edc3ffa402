/* cmd_template.c - `ticketgate template preview NAME [--ticket ID] [--lang L]`
 * prints the complete message (headers included, as it would be queued) that
 * template NAME makes: for ticket ID with its real data, where members the
 * ticket cannot supply (staff.*, escalation.*, command.*, captures.*) come
 * from the sample data of `ticketgate check`; without --ticket, for the sample
 * data alone (ticket 1234).  The Message-ID is the one the notice would get,
 * with outbound id 0.  Exit 0, 64 usage, 65 no such template or ticket,
 * 75 store error, 78 configuration or template error. */
#include "gateway/cli.h"
#include "gateway/pipeline.h"
#include "templates/message_id.h"
#include "templates/template_sample.h"

#include <stdio.h>
#include <string.h>

/* DATA's object gets every top-level member of SAMPLE it lacks. */
static void fill_from_sample(JsonNode *data, JsonNode *sample) {
  JsonObject *d = json_node_get_object(data);
  JsonObject *s = json_node_get_object(sample);
  g_autoptr(GList) names = json_object_get_members(s);
  for (GList *l = names; l; l = l->next)
    if (!json_object_has_member(d, l->data))
      json_object_set_member(d, l->data, json_node_copy(json_object_get_member(s, l->data)));
}

static int preview(TgPipeline *pipe, const char *name, gint64 ticket, const char *lang) {
  const TgNotifyConfig *nc = tg_pipeline_notify(pipe);
  TgStore *store = tg_pipeline_store(pipe);
  g_autoptr(GError) err = NULL;
  g_autoptr(JsonNode) sample = template_sample_new();
  g_autoptr(JsonNode) data = NULL;
  g_autofree char *recipient = NULL, *recipient_name = NULL;
  if (ticket) {
    data = tg_notify_data_new(nc, store, ticket, NULL, &err);
    if (!data) {
      fprintf(stderr, "ticketgate: %s\n", err->message);
      return g_error_matches(err, TG_STORE_ERROR, TG_STORE_ERROR_TEMP) ? EX_TEMPFAIL
                                                                       : EX_DATAERR;
    }
    fill_from_sample(data, sample);
  } else {
    data = json_node_ref(sample);
    ticket = json_object_get_int_member(
        json_object_get_object_member(json_node_get_object(data), "ticket"), "id");
  }
  JsonObject *customer = json_object_get_object_member(json_node_get_object(data), "customer");
  recipient = g_strdup(json_object_get_string_member(customer, "address"));
  recipient_name = g_strdup(json_object_get_string_member(customer, "name"));
  if (!recipient[0]) {
    g_free(recipient);
    recipient = g_strdup("customer@example.com");
  }
  gsize slen = 0;
  const guint8 *sec = g_bytes_get_data(nc->keys.secret, &slen);
  g_autofree char *msgid = message_id_new((guint64)ticket, 0, recipient,
                                          nc->keys.msgid_domain, sec, slen);
  TgNotice n = {
      .ticket_id = ticket,
      .template_name = name,
      .lang = lang,
      .recipient = recipient,
      .recipient_name = recipient_name[0] ? recipient_name : NULL,
      .data = data,
      .auto_submitted = strcmp(name, "ack") == 0 || g_str_has_prefix(name, "status-") ||
                        g_str_has_prefix(name, "command-"),
  };
  g_autoptr(GBytes) bytes = tg_notify_preview(nc, store, &n, msgid, &err);
  if (!bytes) {
    fprintf(stderr, "ticketgate: %s\n", err->message);
    return g_error_matches(err, TG_STORE_ERROR, TG_STORE_ERROR_TEMP) ? EX_TEMPFAIL
                                                                     : EX_DATAERR;
  }
  gsize len = 0;
  const char *p = g_bytes_get_data(bytes, &len);
  fwrite(p, 1, len, stdout);
  return EX_OK;
}

int tg_cmd_template(int argc, char **argv) {
  gint64 ticket = 0;
  g_autofree char *lang = NULL;
  const GOptionEntry entries[] = {
      {"ticket", 't', 0, G_OPTION_ARG_INT64, &ticket, "Render for this ticket", "ID"},
      {"lang", 'l', 0, G_OPTION_ARG_STRING, &lang, "Language variant (ja, en)", "L"},
      {NULL}};
  if (!tg_cli_parse(&argc, &argv, "preview NAME - print the message a template makes",
                    entries))
    return EX_USAGE;
  if (argc != 3 || strcmp(argv[1], "preview") != 0) {
    fprintf(stderr, "usage: ticketgate template preview NAME [--ticket ID] [--lang L]\n");
    return EX_USAGE;
  }
  g_autoptr(TgConfig) cfg = NULL;
  int open_rc;
  g_autoptr(TgPipeline) pipe = tg_cli_open_pipeline(&cfg, &open_rc);
  if (!pipe)
    return open_rc;
  return preview(pipe, argv[2], ticket, lang);
}
