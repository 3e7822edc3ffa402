/*
 * filters/ruleset.c — lifetime of a loaded, immutable rule set.
 *
 * PURPOSE
 *   tg_ruleset_ref() / tg_ruleset_unref() share a TgRuleset between the
 *   daemon's "current rules" pointer and evaluations in flight, so a reload can
 *   swap sets without waiting.  Evaluation is not thread-safe: each pattern
 *   has one match data block and is JIT-compiled on its first match, so one
 *   thread at a time evaluates a given set (each pipeline loads its own).
 *   tg_ruleset_n_rules() and tg_ruleset_jit_ok() describe a set for
 *   `ticketgate check` and the benchmark.
 *
 * OWNERSHIP
 *   The last unref frees the rules, the compiled patterns and their match
 *   data, the match context and the JIT stack.
 */
#include "filters/rule_priv.h"

TgRuleset *
tg_ruleset_ref(TgRuleset *rs)
{
  g_atomic_int_inc(&rs->ref);
  return rs;
}

void
tg_ruleset_unref(TgRuleset *rs)
{
  if (rs == NULL || !g_atomic_int_dec_and_test(&rs->ref))
    return;
  g_ptr_array_unref(rs->rules);
  g_ptr_array_unref(rs->files);
  pcre2_match_context_free(rs->mctx);
  pcre2_jit_stack_free(rs->jit_stack);
  g_free(rs->pf_bits);
  g_free(rs->gate_at);
  g_free(rs->gate_field);
  g_array_unref(rs->gate);
  g_free(rs);
}

guint
tg_ruleset_n_rules(const TgRuleset *rs)
{
  return rs->rules->len;
}

gboolean
tg_ruleset_jit_ok(const TgRuleset *rs)
{
  return rs->jit_ok;
}
