/*
 * filters/rule_result_json.c — a TgRuleResult as JSON, for `rules test --json`.
 *
 * PURPOSE
 *   tg_rule_result_json_build() renders a result with json-glib; the schema is
 *   documented in docs/rules.md.  Maps are emitted with sorted keys so that
 *   output is byte-stable and diffable in tests and scripts.
 *   tg_rule_result_json_string() serializes it.
 *
 * OWNERSHIP
 *   Both return (transfer full).
 */
#include "filters/rule_priv.h"

#include <string.h>

static void
add_string_or_null(JsonBuilder *b, const char *key, const char *value)
{
  json_builder_set_member_name(b, key);
  if (value != NULL)
    json_builder_add_string_value(b, value);
  else
    json_builder_add_null_value(b);
}

static void
add_list(JsonBuilder *b, const char *key, const GPtrArray *list)
{
  json_builder_set_member_name(b, key);
  json_builder_begin_array(b);
  for (guint i = 0; i < list->len; i++)
    json_builder_add_string_value(b, g_ptr_array_index(list, i));
  json_builder_end_array(b);
}

static gint
strcmp_p(gconstpointer a, gconstpointer b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
add_map(JsonBuilder *b, const char *key, GHashTable *map)
{
  json_builder_set_member_name(b, key);
  json_builder_begin_object(b);
  g_autoptr(GPtrArray) keys = g_ptr_array_new();
  GHashTableIter it;
  gpointer k0;
  g_hash_table_iter_init(&it, map);
  while (g_hash_table_iter_next(&it, &k0, NULL))
    g_ptr_array_add(keys, k0);
  g_ptr_array_sort(keys, strcmp_p);
  for (guint i = 0; i < keys->len; i++) {
    const char *k = g_ptr_array_index(keys, i);
    json_builder_set_member_name(b, k);
    json_builder_add_string_value(b, g_hash_table_lookup(map, k));
  }
  json_builder_end_object(b);
}

JsonNode *
tg_rule_result_json_build(const TgRuleResult *r)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);

  json_builder_set_member_name(b, "matched");
  json_builder_begin_array(b);
  for (guint i = 0; i < r->matches->len; i++) {
    const TgRuleMatch *m = g_ptr_array_index(r->matches, i);
    json_builder_begin_object(b);
    add_string_or_null(b, "rule", m->rule);
    add_string_or_null(b, "file", m->file);
    json_builder_set_member_name(b, "line");
    json_builder_add_int_value(b, m->line);
    add_map(b, "captures", m->captures);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);

  add_string_or_null(b, "queue", r->queue);
  add_string_or_null(b, "priority", r->priority);
  add_string_or_null(b, "policy", r->policy);
  add_map(b, "fields", r->fields);
  add_list(b, "tags_added", r->tags_added);
  add_list(b, "tags_removed", r->tags_removed);
  add_string_or_null(b, "assign", r->assign);
  json_builder_set_member_name(b, "escalate");
  if (r->escalate) {
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "level");
    if (r->escalate_level > 0)
      json_builder_add_int_value(b, r->escalate_level);
    else
      json_builder_add_null_value(b);
    add_string_or_null(b, "to", r->escalate_to);
    add_string_or_null(b, "reason", r->escalate_reason);
    json_builder_end_object(b);
  } else {
    json_builder_add_null_value(b);
  }
  add_list(b, "replies", r->replies);
  json_builder_set_member_name(b, "noreply");
  json_builder_add_boolean_value(b, r->noreply);
  add_string_or_null(b, "quarantine", r->quarantine_reason);
  json_builder_set_member_name(b, "stopped");
  json_builder_add_boolean_value(b, r->stopped);
  add_map(b, "captures", r->captures);

  json_builder_set_member_name(b, "actions");
  json_builder_begin_array(b);
  for (guint i = 0; i < r->actions->len; i++) {
    const TgRuleAction *a = g_ptr_array_index(r->actions, i);
    json_builder_begin_object(b);
    add_string_or_null(b, "action", a->action);
    if (a->name != NULL)
      add_string_or_null(b, "name", a->name);
    add_string_or_null(b, "value", a->value);
    if (a->reason != NULL)
      add_string_or_null(b, "reason", a->reason);
    add_string_or_null(b, "rule", a->rule);
    add_string_or_null(b, "file", a->file);
    json_builder_set_member_name(b, "line");
    json_builder_add_int_value(b, a->line);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);

  json_builder_set_member_name(b, "warnings");
  json_builder_begin_array(b);
  for (guint i = 0; i < r->warnings->len; i++) {
    g_autofree char *line = tg_rule_diag_format(g_ptr_array_index(r->warnings, i));
    json_builder_add_string_value(b, line);
  }
  json_builder_end_array(b);

  json_builder_end_object(b);
  return json_builder_get_root(b);
}

char *
tg_rule_result_json_string(const TgRuleResult *r, gboolean pretty)
{
  g_autoptr(JsonNode) root = tg_rule_result_json_build(r);
  g_autoptr(JsonGenerator) gen = json_generator_new();
  json_generator_set_pretty(gen, pretty);
  json_generator_set_root(gen, root);
  return json_generator_to_data(gen, NULL);
}
