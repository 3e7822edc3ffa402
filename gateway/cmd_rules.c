/* cmd_rules.c - `ticketgate rules test MSG.eml [--json] [--dir DIR]` and
 * `ticketgate rules test --stored [--since DATE] [--dir NEWRULES] [--json]`:
 * dry runs of the routing rules that never touch the store's tickets. */
#include "gateway/cli.h"
#include "gateway/mail_parse.h"
#include "gateway/pipeline.h"
#include "tickets/classify.h"
#include "tickets/store.h"

#include <stdio.h>
#include <string.h>

static TgRuleset *load_rules(const TgConfig *cfg, const char *dir) {
  g_autoptr(GPtrArray) diags = NULL;
  g_autoptr(GError) err = NULL;
  TgRuleset *rs;
  if (dir) {
    g_autoptr(GPtrArray) raw = NULL;
    rs = tg_ruleset_load_dir(dir, NULL, &raw, &err);
    diags = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; raw && i < raw->len; i++)
      g_ptr_array_add(diags, tg_rule_diag_format(g_ptr_array_index(raw, i)));
  } else {
    rs = tg_pipeline_load_rules(cfg, &diags, &err);
  }
  for (guint i = 0; diags && i < diags->len; i++)
    fprintf(stderr, "%s\n", (char *)g_ptr_array_index(diags, i));
  if (!rs)
    fprintf(stderr, "ticketgate: %s\n", err->message);
  return rs;
}

static gboolean is_staff(const TgConfig *cfg, const char *address) {
  for (guint i = 0; i < cfg->staff->len; i++)
    if (g_ascii_strcasecmp(((TgStaff *)g_ptr_array_index(cfg->staff, i))->address,
                           address) == 0)
      return TRUE;
  return FALSE;
}

/* Without the store, a reply is what looks like one: a reference or our tag. */
static gboolean looks_like_reply(const TgConfig *cfg, const TgMail *m) {
  g_autofree char *tag = g_strdup_printf("[%s #", cfg->tag_prefix);
  return m->in_reply_to || m->references->len > 0 || strstr(m->subject, tag);
}

static TgRuleResult *evaluate(const TgConfig *cfg, TgRuleset *rs, TgMail *m,
                              gboolean is_reply) {
  g_autoptr(TgClassifyInput) ci =
      tg_classify_input_new(m, is_reply, is_staff(cfg, m->from->address));
  TgRuleResult *r = NULL;
  tg_ruleset_eval(rs, tg_classify_input_get(ci), &r);
  return r;
}

static void print_result(const TgRuleResult *r) {
  for (guint i = 0; i < r->matches->len; i++) {
    TgRuleMatch *mt = g_ptr_array_index(r->matches, i);
    printf("matched  %s:%u  \"%s\"\n", mt->file, mt->line, mt->rule);
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, mt->captures);
    while (g_hash_table_iter_next(&it, &k, &v))
      printf("         capture %s = %s\n", (char *)k, (char *)v);
  }
  if (r->matches->len == 0)
    printf("no rule matched\n");
  printf("queue:     %s\npriority:  %s\n", r->queue ? r->queue : "(unchanged)",
         r->priority ? r->priority : "(unchanged)");
  if (r->policy)
    printf("policy:    %s\n", r->policy);
  for (guint i = 0; i < r->tags_added->len; i++)
    printf("tag:       +%s\n", (char *)g_ptr_array_index(r->tags_added, i));
  for (guint i = 0; i < r->tags_removed->len; i++)
    printf("tag:       -%s\n", (char *)g_ptr_array_index(r->tags_removed, i));
  if (r->assign)
    printf("assign:    %s\n", r->assign);
  if (r->escalate)
    printf("escalate:  %s%u%s%s reason %s\n", r->escalate_to ? "to " : "level ",
           r->escalate_level, r->escalate_to ? " " : "",
           r->escalate_to ? r->escalate_to : "",
           r->escalate_reason ? r->escalate_reason : "-");
  for (guint i = 0; i < r->replies->len; i++)
    printf("reply:     %s\n", (char *)g_ptr_array_index(r->replies, i));
  if (r->noreply)
    printf("noreply\n");
  if (r->quarantine_reason)
    printf("quarantine: %s\n", r->quarantine_reason);
  for (guint i = 0; i < r->warnings->len; i++) {
    g_autofree char *w = tg_rule_diag_format(g_ptr_array_index(r->warnings, i));
    printf("warning:   %s\n", w);
  }
}

static int test_file(const TgConfig *cfg, TgRuleset *rs, const char *path,
                     gboolean json) {
  g_autoptr(GError) err = NULL;
  g_autoptr(GMappedFile) f = g_mapped_file_new(path, FALSE, &err);
  if (!f) {
    fprintf(stderr, "ticketgate: %s\n", err->message);
    return EX_NOINPUT;
  }
  g_autoptr(GBytes) raw = g_mapped_file_get_bytes(f);
  TgParseLimits limits = {cfg->mime_depth, cfg->mime_parts, cfg->header_count};
  g_autofree char *reason = NULL;
  g_autoptr(TgMail) m = tg_mail_parse(raw, &limits, &reason, &err);
  if (!m) {
    fprintf(stderr, "ticketgate: %s would be quarantined: %s (%s)\n", path, reason,
            err->message);
    return EX_DATAERR;
  }
  g_autoptr(TgRuleResult) r = evaluate(cfg, rs, m, looks_like_reply(cfg, m));
  if (json) {
    g_autoptr(JsonNode) node = tg_rule_result_json_build(r);
    tg_cli_print_json(node);
  } else {
    print_result(r);
  }
  return EX_OK;
}

typedef struct {
  GHashTable *before, *after; /* "queue X" / "priority Y" -> count */
} Tally;

static void tally(GHashTable *h, const char *kind, const char *value) {
  g_autofree char *key = g_strdup_printf("%s %s", kind, value);
  gpointer old = g_hash_table_lookup(h, key);
  g_hash_table_replace(h, g_steal_pointer(&key), GINT_TO_POINTER(GPOINTER_TO_INT(old) + 1));
}

static char *describe_change(const TgRuleResult *a, const TgRuleResult *b) {
  GString *s = g_string_new(NULL);
#define DIFF(field, label)                                                    \
  if (g_strcmp0(a->field, b->field) != 0)                                     \
    g_string_append_printf(s, " %s %s -> %s", label, a->field ? a->field : "-", \
                           b->field ? b->field : "-");
  DIFF(queue, "queue")
  DIFF(priority, "priority")
  DIFF(policy, "policy")
  DIFF(assign, "assign")
  DIFF(quarantine_reason, "quarantine")
#undef DIFF
  for (guint i = 0; i < b->tags_added->len; i++) {
    const char *t = g_ptr_array_index(b->tags_added, i);
    gboolean had = FALSE;
    for (guint k = 0; k < a->tags_added->len; k++)
      had |= g_str_equal(t, g_ptr_array_index(a->tags_added, k));
    if (!had)
      g_string_append_printf(s, " +tag %s", t);
  }
  for (guint i = 0; i < a->tags_added->len; i++) {
    const char *t = g_ptr_array_index(a->tags_added, i);
    gboolean kept = FALSE;
    for (guint k = 0; k < b->tags_added->len; k++)
      kept |= g_str_equal(t, g_ptr_array_index(b->tags_added, k));
    if (!kept)
      g_string_append_printf(s, " -tag %s", t);
  }
  if (a->escalate_level != b->escalate_level || a->escalate != b->escalate)
    g_string_append_printf(s, " escalation %u -> %u", a->escalate ? a->escalate_level : 0,
                           b->escalate ? b->escalate_level : 0);
  return g_string_free(s, FALSE);
}

static void print_tallies(const char *title, GHashTable *h) {
  g_autoptr(GList) keys = g_hash_table_get_keys(h);
  keys = g_list_sort(keys, (GCompareFunc)g_strcmp0);
  printf("%s:\n", title);
  for (GList *k = keys; k; k = k->next)
    printf("  %-30s %d\n", (char *)k->data, GPOINTER_TO_INT(g_hash_table_lookup(h, k->data)));
}

static int test_stored(const TgConfig *cfg, TgRuleset *current, TgRuleset *candidate,
                       const char *since, gboolean json) {
  g_autoptr(GError) err = NULL;
  gint64 since_t = 0;
  if (since) {
    g_autoptr(GDateTime) dt = g_date_time_new_from_iso8601(since, NULL);
    g_autofree char *with_time = g_strconcat(since, "T00:00:00Z", NULL);
    if (!dt)
      dt = g_date_time_new_from_iso8601(with_time, NULL);
    if (!dt) {
      fprintf(stderr, "ticketgate: --since %s is not a date (YYYY-MM-DD or RFC 3339)\n", since);
      return EX_USAGE;
    }
    since_t = g_date_time_to_unix(dt);
  }
  g_autoptr(TgStore) store = tg_store_open(cfg->db_path, cfg->busy_timeout_ms, &err);
  if (!store) {
    fprintf(stderr, "ticketgate: %s\n", err->message);
    return EX_TEMPFAIL;
  }
  sqlite3_stmt *st = tg_store_prepare(
      store,
      "SELECT m.id, m.ticket_id, m.envelope_sender, m.envelope_recipients, "
      "m.id <> (SELECT min(id) FROM messages WHERE ticket_id = m.ticket_id) "
      "FROM messages m WHERE m.direction = 'in' AND m.created_at >= ? ORDER BY m.id",
      &err, "i", since_t);
  if (!st) {
    fprintf(stderr, "ticketgate: %s\n", err->message);
    return EX_TEMPFAIL;
  }
  TgParseLimits limits = {cfg->mime_depth, cfg->mime_parts, cfg->header_count};
  Tally t = {g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL),
             g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL)};
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_array(b);
  guint seen = 0, changed = 0;
  int rc;
  while ((rc = tg_store_step(store, st, &err)) == SQLITE_ROW) {
    seen++;
    gint64 msg = sqlite3_column_int64(st, 0), ticket = sqlite3_column_int64(st, 1);
    g_autoptr(GError) rerr = NULL;
    g_autoptr(GBytes) raw = tg_ingest_raw_message(store, msg, &rerr);
    if (!raw) {
      fprintf(stderr, "ticketgate: %s\n", rerr->message);
      continue;
    }
    g_autofree char *reason = NULL;
    g_autoptr(TgMail) m = tg_mail_parse(raw, &limits, &reason, NULL);
    if (!m)
      continue;
    m->envelope_sender = g_strdup(tg_store_col_text(st, 2));
    g_auto(GStrv) rcpts = g_strsplit(tg_store_col_text(st, 3), ",", -1);
    for (guint i = 0; rcpts[i]; i++)
      if (rcpts[i][0])
        g_ptr_array_add(m->envelope_recipients, g_strdup(rcpts[i]));
    gboolean is_reply = sqlite3_column_int(st, 4) != 0;
    g_autoptr(TgRuleResult) a = evaluate(cfg, current, m, is_reply);
    g_autoptr(TgRuleResult) c = evaluate(cfg, candidate, m, is_reply);
    if (!is_reply) {
      tally(t.before, "queue", a->queue ? a->queue : "default");
      tally(t.before, "priority", a->priority ? a->priority : "normal");
      tally(t.after, "queue", c->queue ? c->queue : "default");
      tally(t.after, "priority", c->priority ? c->priority : "normal");
    }
    g_autofree char *diff = describe_change(a, c);
    if (!diff[0])
      continue;
    changed++;
    if (json) {
      json_builder_begin_object(b);
      json_builder_set_member_name(b, "ticket");
      json_builder_add_int_value(b, ticket);
      json_builder_set_member_name(b, "message");
      json_builder_add_int_value(b, msg);
      json_builder_set_member_name(b, "change");
      json_builder_add_string_value(b, g_strstrip(diff));
      json_builder_end_object(b);
    } else {
      printf("ticket %" G_GINT64_FORMAT " message %" G_GINT64_FORMAT ":%s\n", ticket, msg, diff);
    }
  }
  sqlite3_reset(st);
  json_builder_end_array(b);
  if (json) {
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    tg_cli_print_json(root);
  } else {
    printf("\n%u message(s) replayed, %u would change\n", seen, changed);
    print_tallies("new tickets with the current rules", t.before);
    print_tallies("new tickets with the candidate rules", t.after);
  }
  g_hash_table_unref(t.before);
  g_hash_table_unref(t.after);
  return rc == SQLITE_DONE ? EX_OK : EX_TEMPFAIL;
}

int tg_cmd_rules(int argc, char **argv) {
  gboolean json = FALSE, stored = FALSE;
  g_autofree char *dir = NULL, *since = NULL;
  const GOptionEntry entries[] = {
      {"json", 0, 0, G_OPTION_ARG_NONE, &json, "JSON output", NULL},
      {"stored", 0, 0, G_OPTION_ARG_NONE, &stored, "Replay mail already in the store", NULL},
      {"since", 0, 0, G_OPTION_ARG_STRING, &since, "With --stored: mail since DATE", "DATE"},
      {"dir", 0, 0, G_OPTION_ARG_FILENAME, &dir, "Candidate rules directory", "DIR"},
      {NULL}};
  if (!tg_cli_parse(&argc, &argv, "test MSG.eml | test --stored", entries))
    return EX_USAGE;
  if (argc < 2 || strcmp(argv[1], "test") != 0 || (!stored && argc != 3) ||
      (stored && argc != 2)) {
    fprintf(stderr, "usage: ticketgate rules test MSG.eml [--json] [--dir DIR]\n"
                    "       ticketgate rules test --stored [--since DATE] [--dir NEWRULES] [--json]\n");
    return EX_USAGE;
  }
  g_autoptr(TgConfig) cfg = tg_cli_load_config();
  if (!cfg)
    return EX_CONFIG;
  g_autoptr(TgRuleset) rs = load_rules(cfg, stored ? NULL : dir);
  if (!rs)
    return EX_CONFIG;
  if (!stored)
    return test_file(cfg, rs, argv[2], json);
  g_autoptr(TgRuleset) candidate = dir ? load_rules(cfg, dir) : tg_ruleset_ref(rs);
  if (!candidate)
    return EX_CONFIG;
  return test_stored(cfg, rs, candidate, since, json);
}
