/* cmd_ticket.c - `ticketgate ticket list|show|search` (the changes:
 * escalate, assign, status, reply are in cmd_ticket_ops.c). */
#include "gateway/cli.h"
#include "tickets/search_index.h"
#include "tickets/store.h"
#include "tickets/ticket_view.h"

#include <stdio.h>
#include <string.h>

static void print_list(JsonNode *list) {
  JsonArray *a = json_node_get_array(list);
  for (guint i = 0; i < json_array_get_length(a); i++) {
    JsonObject *t = json_array_get_object_element(a, i);
    printf("%-6" G_GINT64_FORMAT " %-9s %-10s %-7s L%" G_GINT64_FORMAT " %-28s %s\n",
           json_object_get_int_member(t, "id"),
           json_object_get_string_member(t, "status"),
           json_object_get_string_member(t, "queue"),
           json_object_get_string_member(t, "priority"),
           json_object_get_int_member(t, "escalation_level"),
           json_object_get_string_member(json_object_get_object_member(t, "requester"),
                                         "address"),
           json_object_get_string_member(t, "subject"));
  }
}

static void print_ticket(JsonNode *node) {
  JsonObject *t = json_node_get_object(node);
  JsonObject *req = json_object_get_object_member(t, "requester");
  printf("%s %s\nstatus: %s  queue: %s  priority: %s  level: %" G_GINT64_FORMAT "\n"
         "requester: %s <%s>\ncreated: %s  updated: %s\n",
         json_object_get_string_member(t, "ref"),
         json_object_get_string_member(t, "subject"),
         json_object_get_string_member(t, "status"),
         json_object_get_string_member(t, "queue"),
         json_object_get_string_member(t, "priority"),
         json_object_get_int_member(t, "escalation_level"),
         json_object_get_string_member(req, "name"),
         json_object_get_string_member(req, "address"),
         json_object_get_string_member(t, "created_at"),
         json_object_get_string_member(t, "updated_at"));
  JsonArray *msgs = json_object_get_array_member(t, "messages");
  for (guint i = 0; i < json_array_get_length(msgs); i++) {
    JsonObject *m = json_array_get_object_element(msgs, i);
    JsonObject *from = json_object_get_object_member(m, "from");
    printf("\n--- message %" G_GINT64_FORMAT " (%s) %s from %s <%s>\nSubject: %s\n\n%s\n",
           json_object_get_int_member(m, "id"),
           json_object_get_string_member(m, "direction"),
           json_object_get_string_member(m, "date"),
           json_object_get_string_member(from, "name"),
           json_object_get_string_member(from, "address"),
           json_object_get_string_member(m, "subject"),
           json_object_get_string_member(m, "body"));
    JsonArray *att = json_object_get_array_member(m, "attachments");
    for (guint k = 0; k < json_array_get_length(att); k++) {
      JsonObject *a = json_array_get_object_element(att, k);
      printf("[attachment] %s (%s, %" G_GINT64_FORMAT " bytes)\n",
             json_object_get_string_member(a, "filename"),
             json_object_get_string_member(a, "content_type"),
             json_object_get_int_member(a, "size"));
    }
  }
  JsonArray *ev = json_object_get_array_member(t, "events");
  printf("\n--- events\n");
  for (guint i = 0; i < json_array_get_length(ev); i++) {
    JsonObject *e = json_array_get_object_element(ev, i);
    printf("%s %-10s %-12s %s\n", json_object_get_string_member(e, "at"),
           json_object_get_string_member(e, "actor"),
           json_object_get_string_member(e, "kind"),
           json_object_get_string_member(e, "detail"));
  }
}

int tg_cmd_ticket(int argc, char **argv) {
  gboolean json = FALSE;
  g_autofree char *status = NULL, *queue = NULL;
  gint limit = 100;
  const GOptionEntry entries[] = {
      {"json", 0, 0, G_OPTION_ARG_NONE, &json, "JSON output", NULL},
      {"status", 's', 0, G_OPTION_ARG_STRING, &status, "Only this status (list)", "S"},
      {"queue", 'q', 0, G_OPTION_ARG_STRING, &queue, "Only this queue (list)", "Q"},
      {"limit", 'n', 0, G_OPTION_ARG_INT, &limit, "At most N rows (list, search)", "N"},
      {NULL}};
  if (argc >= 2 && tg_cmd_ticket_ops_is(argv[1]))
    return tg_cmd_ticket_ops(argc, argv);
  if (!tg_cli_parse(&argc, &argv, "list|show ID|search TEXT|escalate|assign|status|reply",
                    entries))
    return EX_USAGE;
  const char *sub = argc >= 2 ? argv[1] : "";
  gboolean needs_arg = strcmp(sub, "show") == 0 || strcmp(sub, "search") == 0;
  if ((strcmp(sub, "list") != 0 && !needs_arg) || (needs_arg && argc < 3) ||
      limit <= 0) {
    fprintf(stderr, "usage: ticketgate ticket list [--status S] [--queue Q] [--json]\n"
                    "       ticketgate ticket show ID [--json]\n"
                    "       ticketgate ticket search TEXT [--json]\n"
                    "       ticketgate ticket escalate ID LEVEL [--reason R]\n"
                    "       ticketgate ticket assign ID ADDRESS\n"
                    "       ticketgate ticket status ID open|pending|resolved|closed\n"
                    "       ticketgate ticket reply ID [--file MSG|-]\n");
    return EX_USAGE;
  }
  g_autoptr(TgConfig) cfg = tg_cli_load_config();
  if (!cfg)
    return EX_CONFIG;
  g_autoptr(GError) err = NULL;
  if (g_mkdir_with_parents(cfg->data_dir, 0700) != 0) {
    fprintf(stderr, "ticketgate: mkdir(%s) failed\n", cfg->data_dir);
    return EX_TEMPFAIL;
  }
  g_autoptr(TgStore) store = tg_store_open(cfg->db_path, cfg->busy_timeout_ms, &err);
  if (!store) {
    fprintf(stderr, "ticketgate: %s\n", err->message);
    return EX_TEMPFAIL;
  }
  g_autoptr(JsonNode) node = NULL;
  if (strcmp(sub, "list") == 0) {
    node = tg_ticket_view_list(store, status, queue, cfg->tag_prefix, (guint)limit, &err);
  } else if (strcmp(sub, "show") == 0) {
    char *end;
    const char *arg = argv[2];
    if (arg[0] == '#')
      arg++;
    gint64 id = g_ascii_strtoll(arg, &end, 10);
    if (*end || id <= 0) {
      fprintf(stderr, "ticketgate: not a ticket id: %s\n", argv[2]);
      return EX_USAGE;
    }
    node = tg_ticket_view_show(store, id, cfg->tag_prefix, &err);
    if (!node && err && err->code == TG_STORE_ERROR_FAILED) {
      fprintf(stderr, "ticketgate: %s\n", err->message);
      return EX_NOINPUT;
    }
  } else {
    /* The index is kept lazily: bring it up to date, then ask it. */
    if (!tg_search_index_catch_up(store, 0, NULL, &err)) {
      fprintf(stderr, "ticketgate: %s\n", err->message);
      return EX_TEMPFAIL;
    }
    node = tg_ticket_view_search(store, argv[2], (guint)limit, &err);
  }
  if (!node) {
    fprintf(stderr, "ticketgate: %s\n", err->message);
    return EX_TEMPFAIL;
  }
  if (json)
    tg_cli_print_json(node);
  else if (strcmp(sub, "show") == 0)
    print_ticket(node);
  else if (strcmp(sub, "list") == 0)
    print_list(node);
  else {
    JsonArray *a = json_node_get_array(node);
    for (guint i = 0; i < json_array_get_length(a); i++) {
      JsonObject *o = json_array_get_object_element(a, i);
      printf("ticket %" G_GINT64_FORMAT " message %" G_GINT64_FORMAT ": %s\n    %s\n",
             json_object_get_int_member(o, "ticket"),
             json_object_get_int_member(o, "message"),
             json_object_get_string_member(o, "subject"),
             json_object_get_string_member(o, "snippet"));
    }
  }
  return EX_OK;
}
