/*
 * filters/rule_result.c — the outcome of evaluating a message.
 *
 * PURPOSE
 *   tg_rule_result_new() makes an empty TgRuleResult (nothing set, empty lists
 *   and maps), tg_rule_result_free() frees one with everything it holds.
 *   tg_rule_result_add_unique() / _remove() keep the tag and reply lists free
 *   of duplicates while preserving order.
 *
 * OWNERSHIP
 *   Every string, list and map in a result belongs to the result.
 */
#include "filters/rule_priv.h"

#include <string.h>

static void
match_free(TgRuleMatch *m)
{
  g_free(m->rule);
  g_free(m->file);
  if (m->captures != NULL)
    g_hash_table_unref(m->captures);
  g_free(m);
}

static void
action_free(TgRuleAction *a)
{
  g_free(a->action);
  g_free(a->name);
  g_free(a->value);
  g_free(a->reason);
  g_free(a->rule);
  g_free(a->file);
  g_free(a);
}

TgRuleResult *
tg_rule_result_new(void)
{
  TgRuleResult *r = g_new0(TgRuleResult, 1);
  r->fields = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  r->tags_added = g_ptr_array_new_with_free_func(g_free);
  r->tags_removed = g_ptr_array_new_with_free_func(g_free);
  r->replies = g_ptr_array_new_with_free_func(g_free);
  r->matches = g_ptr_array_new_with_free_func((GDestroyNotify)match_free);
  r->actions = g_ptr_array_new_with_free_func((GDestroyNotify)action_free);
  r->captures = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  r->warnings = g_ptr_array_new_with_free_func((GDestroyNotify)tg_rule_diag_free);
  return r;
}

void
tg_rule_result_free(TgRuleResult *r)
{
  if (r == NULL)
    return;
  g_free(r->queue);
  g_free(r->priority);
  g_free(r->policy);
  g_hash_table_unref(r->fields);
  g_ptr_array_unref(r->tags_added);
  g_ptr_array_unref(r->tags_removed);
  g_free(r->assign);
  g_free(r->escalate_to);
  g_free(r->escalate_reason);
  g_ptr_array_unref(r->replies);
  g_free(r->quarantine_reason);
  g_ptr_array_unref(r->matches);
  g_ptr_array_unref(r->actions);
  g_hash_table_unref(r->captures);
  g_ptr_array_unref(r->warnings);
  g_free(r);
}

void
tg_rule_result_add_unique(GPtrArray *list, const char *value)
{
  for (guint i = 0; i < list->len; i++)
    if (strcmp(g_ptr_array_index(list, i), value) == 0)
      return;
  g_ptr_array_add(list, g_strdup(value));
}

gboolean
tg_rule_result_remove(GPtrArray *list, const char *value)
{
  for (guint i = 0; i < list->len; i++) {
    if (strcmp(g_ptr_array_index(list, i), value) == 0) {
      g_ptr_array_remove_index(list, i);
      return TRUE;
    }
  }
  return FALSE;
}
