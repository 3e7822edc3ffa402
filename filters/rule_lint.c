/*
 * filters/rule_lint.c — warnings about rules that can never fire.
 *
 * PURPOSE
 *   tg_rule_lint_rules() looks at a whole parsed set (all files, in order) and
 *   warns, without rejecting anything, about:
 *     - a duplicate rule name (audit events name rules, so names should be
 *       unique);
 *     - every rule after one that stops unconditionally;
 *     - a rule whose own conditions contradict each other in ways that are
 *       cheap to see: `is new` with `is reply`, `from staff` with
 *       `not from staff`, the same field both `~` and `!~` the same pattern,
 *       and size bounds that leave no size at all.
 *   Deeper reasoning about regex languages is out of scope on purpose.
 *
 * OWNERSHIP
 *   Appends TgRuleDiag* (transfer full) to diags.
 */
#include "filters/rule_priv.h"

#include <string.h>

static void G_GNUC_PRINTF(5, 6)
warn(GPtrArray *diags, const TgRule *r, guint line, guint col, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *msg = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  g_ptr_array_add(diags, tg_rule_diag_new(TG_RULE_DIAG_WARNING, r->file, line, col,
                                          "rule \"%s\" can never fire: %s", r->name, msg));
}

static gboolean
same_target(const TgRuleCond *a, const TgRuleCond *b)
{
  return a->field == b->field &&
         (a->field != TG_FIELD_HEADER || g_ascii_strcasecmp(a->header, b->header) == 0);
}

/* A crude flag comparison is enough: identical text and flags. */
static gboolean
same_pattern(const TgRuleCond *a, const TgRuleCond *b)
{
  return strcmp(a->re->source, b->re->source) == 0 && a->re->options == b->re->options;
}

static void
lint_contradictions(const TgRule *r, GPtrArray *diags)
{
  int reply = -1, staff = -1; /* -1: unconstrained, else the required value */
  guint64 lo = 0, hi = G_MAXUINT64;
  for (guint i = 0; i < r->conds->len; i++) {
    const TgRuleCond *c = g_ptr_array_index(r->conds, i);
    switch (c->kind) {
    case TG_COND_IS_NEW:
    case TG_COND_IS_REPLY: {
      int want = (c->kind == TG_COND_IS_REPLY) != c->negate;
      if (reply != -1 && reply != want) {
        warn(diags, r, c->line, c->col, "it requires the message to be both new and a reply");
        return;
      }
      reply = want;
      break;
    }
    case TG_COND_FROM_STAFF: {
      int want = !c->negate;
      if (staff != -1 && staff != want) {
        warn(diags, r, c->line, c->col, "it requires the sender to be staff and not staff");
        return;
      }
      staff = want;
      break;
    }
    case TG_COND_SIZE: {
      switch (c->size_op) {
      case TG_SIZE_GT:
        lo = MAX(lo, c->size == G_MAXUINT64 ? G_MAXUINT64 : c->size + 1);
        if (c->size == G_MAXUINT64)
          hi = 0, lo = 1;
        break;
      case TG_SIZE_GE: lo = MAX(lo, c->size); break;
      case TG_SIZE_LT:
        if (c->size == 0)
          hi = 0, lo = MAX(lo, 1);
        else
          hi = MIN(hi, c->size - 1);
        break;
      case TG_SIZE_LE: hi = MIN(hi, c->size); break;
      }
      if (lo > hi) {
        warn(diags, r, c->line, c->col, "no message size satisfies its size conditions");
        return;
      }
      break;
    }
    case TG_COND_MATCH:
      for (guint k = 0; k < i; k++) {
        const TgRuleCond *o = g_ptr_array_index(r->conds, k);
        if (o->kind == TG_COND_MATCH && o->negate != c->negate && same_target(o, c) &&
            same_pattern(o, c)) {
          warn(diags, r, c->line, c->col, "%s must both match and not match /%s/", tg_rule_field_name(c->field),
               c->re->source);
          return;
        }
      }
      break;
    case TG_COND_ANY:
      break;
    }
  }
}

void
tg_rule_lint_rules(GPtrArray *rules, GPtrArray *diags)
{
  g_autoptr(GHashTable) names = g_hash_table_new(g_str_hash, g_str_equal);
  const TgRule *stopper = NULL;
  for (guint i = 0; i < rules->len; i++) {
    const TgRule *r = g_ptr_array_index(rules, i);
    const TgRule *first = g_hash_table_lookup(names, r->name);
    if (first != NULL)
      g_ptr_array_add(diags, tg_rule_diag_new(TG_RULE_DIAG_WARNING, r->file, r->line, r->col,
                                              "duplicate rule name \"%s\" (first defined at %s:%u)",
                                              r->name, first->file, first->line));
    else
      g_hash_table_insert(names, r->name, (gpointer)r);
    if (stopper != NULL) {
      g_ptr_array_add(diags, tg_rule_diag_new(TG_RULE_DIAG_WARNING, r->file, r->line, r->col,
                                              "rule \"%s\" can never fire: rule \"%s\" at %s:%u always stops",
                                              r->name, stopper->name, stopper->file, stopper->line));
      continue;
    }
    lint_contradictions(r, diags);
    if (r->stops_always)
      stopper = r;
  }
}
