/* ruleset_refs.c - the names a rule set refers to outside itself, so that
 * `ticketgate check` can hold them against the policies and templates
 * that exist (contract in rules.h, tg_ruleset_foreach_ref). */
#include "filters/rule_priv.h"

#include <string.h>

void tg_ruleset_foreach_ref(const TgRuleset *rs, TgRuleRefFunc fn, gpointer data) {
  for (guint i = 0; i < rs->rules->len; i++) {
    const TgRule *r = g_ptr_array_index(rs->rules, i);
    for (guint k = 0; k < r->actions->len; k++) {
      const TgRuleAct *a = g_ptr_array_index(r->actions, k);
      const char *kind = a->kind == TG_ACT_SET_POLICY ? "policy"
                         : a->kind == TG_ACT_REPLY    ? "template"
                                                      : NULL;
      /* A name built from captures is only known at match time. */
      if (kind && a->value && !strstr(a->value, "${"))
        fn(kind, a->value, r->file, a->line, data);
    }
  }
}
