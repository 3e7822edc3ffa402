/* cmd_ticket_ops.c - `ticketgate ticket escalate|assign|status|reply`: the
 * staff operations (tickets/ticket_ops.h) for admins.  Each runs in one
 * transaction and is an audit event with actor "cli:$USER".
 *   ticket escalate ID LEVEL [--reason R]
 *   ticket assign ID ADDRESS
 *   ticket status ID open|pending|resolved|closed
 *   ticket reply ID [--file MSG|-]    (the answer text; stdin by default)
 * Exit 0 done, 64 usage, 65 the operation makes no sense (no such ticket,
 * level not higher...), 75 store busy. */
#include "gateway/cli.h"
#include "gateway/pipeline.h"
#include "tickets/clock.h"
#include "tickets/ticket_ops.h"

#include <stdio.h>
#include <string.h>

gboolean tg_cmd_ticket_ops_is(const char *sub) {
  return strcmp(sub, "escalate") == 0 || strcmp(sub, "assign") == 0 ||
         strcmp(sub, "status") == 0 || strcmp(sub, "reply") == 0;
}

static char *read_all(const char *file, GError **error) {
  if (file && strcmp(file, "-") != 0) {
    char *text = NULL;
    return g_file_get_contents(file, &text, NULL, error) ? text : NULL;
  }
  GString *s = g_string_new(NULL);
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, stdin)) > 0)
    g_string_append_len(s, buf, (gssize)n);
  return g_string_free(s, FALSE);
}

int tg_cmd_ticket_ops(int argc, char **argv) {
  g_autofree char *reason = NULL, *file = NULL;
  const GOptionEntry entries[] = {
      {"reason", 'r', 0, G_OPTION_ARG_STRING, &reason, "Why (escalate)", "R"},
      {"file", 'f', 0, G_OPTION_ARG_FILENAME, &file, "The answer (reply; - = stdin)", "MSG"},
      {NULL}};
  if (!tg_cli_parse(&argc, &argv, "escalate|assign|status|reply ID ...", entries))
    return EX_USAGE;
  const char *sub = argv[1];
  gboolean reply = strcmp(sub, "reply") == 0;
  char *end = NULL;
  const char *idarg = argc >= 3 ? argv[2] + (argv[2][0] == '#') : "";
  gint64 id = g_ascii_strtoll(idarg, &end, 10);
  if (argc != (reply ? 3 : 4) || !idarg[0] || *end || id <= 0) {
    fprintf(stderr, "usage: ticketgate ticket escalate ID LEVEL [--reason R]\n"
                    "       ticketgate ticket assign ID ADDRESS\n"
                    "       ticketgate ticket status ID open|pending|resolved|closed\n"
                    "       ticketgate ticket reply ID [--file MSG|-]\n");
    return EX_USAGE;
  }
  guint64 level = 0;
  if (strcmp(sub, "escalate") == 0 &&
      (!g_ascii_string_to_unsigned(argv[3], 10, 2, 20, &level, NULL))) {
    fprintf(stderr, "ticketgate: LEVEL must be a number from 2 to 20\n");
    return EX_USAGE;
  }
  g_autoptr(GError) err = NULL;
  g_autofree char *text = NULL;
  if (reply && !(text = read_all(file, &err))) {
    fprintf(stderr, "ticketgate: %s\n", err->message);
    return EX_NOINPUT;
  }
  g_autoptr(TgConfig) cfg = tg_cli_load_config();
  if (!cfg)
    return EX_CONFIG;
  g_autoptr(TgPipeline) pipe = tg_pipeline_open(cfg, &err);
  if (!pipe) {
    fprintf(stderr, "ticketgate: %s\n", err->message);
    return EX_TEMPFAIL;
  }
  TgStore *store = tg_pipeline_store(pipe);
  const TgEscalateConfig *ec = tg_pipeline_escalation(pipe);
  const char *user = g_get_user_name();
  g_autofree char *actor = g_strdup_printf("cli:%s", user ? user : "?");
  gint64 now = tg_clock_now();
  g_autofree char *result = NULL;
  if (!tg_store_begin(store, &err)) {
    fprintf(stderr, "ticketgate: %s\n", err->message);
    return EX_TEMPFAIL;
  }
  gboolean ok;
  if (strcmp(sub, "escalate") == 0)
    ok = tg_ticket_ops_escalate(ec, store, id, (guint)level, reason ? reason : "by an admin",
                                actor, now, &result, &err);
  else if (strcmp(sub, "assign") == 0)
    ok = tg_ticket_ops_assign(store, id, argv[3], actor, now, &result, &err);
  else if (strcmp(sub, "status") == 0)
    ok = tg_ticket_ops_status(ec, store, id, argv[3], actor, now, &result, &err);
  else {
    g_strchomp(text);
    ok = text[0] != '\0';
    if (!ok)
      g_set_error(&err, TG_TICKET_OPS_ERROR, TG_TICKET_OPS_ERROR_INVALID, "empty answer");
    else
      ok = tg_ticket_ops_reply(ec, store, id, "reply", text, user, NULL, actor, now, &result,
                               &err);
  }
  if (!ok || !tg_store_commit(store, &err)) {
    tg_store_rollback(store);
    fprintf(stderr, "ticketgate: ticket %s %" G_GINT64_FORMAT ": %s\n", sub, id, err->message);
    return err->domain == TG_TICKET_OPS_ERROR ? EX_DATAERR : EX_TEMPFAIL;
  }
  printf("ticket %" G_GINT64_FORMAT ": %s\n", id, result ? result : "done");
  return EX_OK;
}
