/*
 * filters/ruleset_eval.c — run one message through a ruleset.
 *
 * PURPOSE
 *   tg_ruleset_eval() walks the rules in order.  For each rule it first skips
 *   the rule outright if a field the rule needs is absent (one mask test),
 *   then evaluates the conditions (all must hold; `when any` needs one), asking
 *   the literal prefilter before running any regex.  A rule that holds applies
 *   its actions to the result, records itself and its captures in
 *   result->matches and every action with its file:line in result->actions;
 *   `stop` ends the walk.  tg_ruleset_eval_full() takes flags to disable JIT or
 *   the prefilter (for the benchmark and tests).
 *
 * FAILURE
 *   None visible to the caller.  A match error (PCRE2 match/depth/heap limit,
 *   JIT stack) becomes a warning naming the rule's file:line:col and the rule
 *   is skipped; the remaining rules still run.  A field that is not valid
 *   UTF-8 is one warning per message and every rule that would read it is
 *   skipped.
 *
 * SECURITY
 *   Message fields are peer data.  They are validated as UTF-8 here, once per
 *   field, and only then matched with PCRE2_NO_UTF_CHECK; every match runs
 *   under the ruleset's match context limits.
 */
#include "filters/rule_priv.h"

#include <string.h>

typedef struct {
  TgRuleset *rs;
  const TgRuleInput *in;
  TgRuleEvalFlags flags;
  TgRuleResult *res;
  guint32 present;   /* fields that have at least one value */
  guint8 *pf_bits;   /* in->prefilter's bits, or the rule set's scratch */
  guint32 pf_built;  /* fields whose trigrams are in pf_bits */
  guint32 utf_known; /* fields whose UTF-8 validity has been checked */
  guint32 utf_bad;
  GHashTable *caps;  /* captures of the rule being evaluated */
} Eval;

/* The iter-th value of field (header: only headers named hname, or all if
 * hname is NULL).  Returns FALSE when there are no more. */
static gboolean
field_value(const TgRuleInput *in, TgRuleField f, const char *hname, gsize *iter, const char **s_r,
            gsize *len_r)
{
  for (;;) {
    gsize i = (*iter)++;
    const char *s = NULL;
    gboolean single = TRUE;
    switch (f) {
    case TG_FIELD_FROM: s = in->from.address; break;
    case TG_FIELD_FROM_NAME: s = in->from.name; break;
    case TG_FIELD_RECIPIENT: s = in->recipient; break;
    case TG_FIELD_SENDER: s = in->sender; break;
    case TG_FIELD_SUBJECT: s = in->subject; break;
    case TG_FIELD_BODY:
      if (i > 0 || in->body == NULL)
        return FALSE;
      *s_r = in->body;
      *len_r = in->body_len < 0 ? strlen(in->body) : (gsize)in->body_len;
      return TRUE;
    case TG_FIELD_TO:
      if (i >= in->n_to)
        return FALSE;
      single = FALSE;
      s = in->to[i].address;
      break;
    case TG_FIELD_CC:
      if (i >= in->n_cc)
        return FALSE;
      single = FALSE;
      s = in->cc[i].address;
      break;
    case TG_FIELD_HEADER:
      if (i >= in->n_headers)
        return FALSE;
      single = FALSE;
      if (hname == NULL || (in->headers[i].name != NULL && g_ascii_strcasecmp(in->headers[i].name, hname) == 0))
        s = in->headers[i].value;
      break;
    case TG_FIELD_ATT_NAME:
      if (i >= in->n_attachments)
        return FALSE;
      single = FALSE;
      s = in->attachments[i].filename;
      break;
    case TG_FIELD_ATT_TYPE:
      if (i >= in->n_attachments)
        return FALSE;
      single = FALSE;
      s = in->attachments[i].content_type;
      break;
    case TG_FIELD_COUNT:
      g_error("field_value(TG_FIELD_COUNT)");
    }
    if (single && i > 0)
      return FALSE;
    if (s != NULL) {
      *s_r = s;
      *len_r = strlen(s);
      return TRUE;
    }
    if (single)
      return FALSE;
  }
}

/* UTF-8 validity, tolerating NUL bytes (PCRE2 handles them; g_utf8_validate
 * treats them as the end of the string).  GLib goes byte by byte, and this
 * runs over every body a rule matches: ASCII, NUL included, goes eight
 * bytes at a time, and GLib sees only the runs of bytes >= 0x80.  A run is
 * valid on its own exactly when it is valid in place, since every
 * character of a multibyte sequence is >= 0x80 and an ASCII byte always
 * starts a character. */
static gboolean
utf8_ok(const char *s, gsize len)
{
  const guint64 high = 0x8080808080808080ull;
  gsize i = 0;
  for (;;) {
    for (; i + 8 <= len; i += 8) {
      guint64 w;
      memcpy(&w, s + i, 8);
      if (w & high)
        break;
    }
    while (i < len && (guchar)s[i] < 0x80)
      i++;
    if (i == len)
      return TRUE;
    gsize run = i;
    while (i < len && (guchar)s[i] >= 0x80)
      i++;
    if (!g_utf8_validate_len(s + run, i - run, NULL))
      return FALSE;
  }
}

static gboolean
field_utf8_ok(Eval *e, TgRuleField f)
{
  guint32 bit = 1u << f;
  if (!(e->utf_known & bit)) {
    e->utf_known |= bit;
    const char *s;
    gsize len, it = 0;
    while (field_value(e->in, f, NULL, &it, &s, &len)) {
      if (!utf8_ok(s, len)) {
        e->utf_bad |= bit;
        g_ptr_array_add(e->res->warnings,
                        tg_rule_diag_new(TG_RULE_DIAG_WARNING, NULL, 0, 0,
                                         "%s is not valid UTF-8; rules matching it are skipped",
                                         tg_rule_field_name(f)));
        break;
      }
    }
  }
  return !(e->utf_bad & bit);
}

struct TgRulePrefilterBits {
  guint32 built; /* fields whose trigrams are in bits */
  guint8 bits[(1u << TG_PREFILTER_BITS) / 8];
};

static void
add_field_trigrams(const TgRuleInput *in, TgRuleField field, guint8 *bits)
{
  const char *s;
  gsize len, it = 0;
  /* All values of the field (all headers, not just this name): a superset
   * is still a correct prefilter, and it is built once per message. */
  while (field_value(in, field, NULL, &it, &s, &len))
    tg_rule_prefilter_add_text(bits, field, s, len);
}

TgRulePrefilterBits *
tg_rule_prefilter_bits_new(const TgRuleInput *in)
{
  TgRuleInput local = *in;
  if (local.body != NULL && local.body_len < 0)
    local.body_len = (gssize)strlen(local.body);
  TgRulePrefilterBits *b = g_new0(TgRulePrefilterBits, 1);
  for (TgRuleField f = 0; f < TG_FIELD_COUNT; f++)
    add_field_trigrams(&local, f, b->bits);
  b->built = (1u << TG_FIELD_COUNT) - 1;
  return b;
}

void
tg_rule_prefilter_bits_free(TgRulePrefilterBits *b)
{
  g_free(b);
}

static void
prefilter_build(Eval *e, TgRuleField field)
{
  guint32 bit = 1u << field;
  if (!(e->pf_built & bit)) {
    e->pf_built |= bit;
    if (e->in->prefilter)
      e->in->prefilter->built |= bit;
    add_field_trigrams(e->in, field, e->pf_bits);
  }
}

static gboolean
prefilter_pass(Eval *e, const TgRuleCond *c)
{
  prefilter_build(e, c->field);
  return tg_rule_prefilter_pass(c->re->pf, e->pf_bits);
}

static void
collect_captures(Eval *e, const TgRuleRegex *re, const char *s, int rc)
{
  if (re->groups->len == 0)
    return;
  PCRE2_SIZE *ov = pcre2_get_ovector_pointer(re->md);
  for (guint i = 0; i < re->groups->len; i++) {
    const TgRuleGroup *g = &g_array_index(re->groups, TgRuleGroup, i);
    if (g->group >= (guint32)rc || ov[2 * g->group] == PCRE2_UNSET ||
        ov[2 * g->group + 1] < ov[2 * g->group])
      continue;
    g_hash_table_replace(e->caps, g_strdup(g->name),
                         g_strndup(s + ov[2 * g->group], ov[2 * g->group + 1] - ov[2 * g->group]));
  }
}

/* 1: holds, 0: does not, -1: error, skip the rule (warning already added). */
static int
eval_match(Eval *e, const TgRule *r, const TgRuleCond *c)
{
  const char *s;
  gsize len, it = 0;
  if (!field_value(e->in, c->field, c->header, &it, &s, &len))
    return 0;
  if (!field_utf8_ok(e, c->field))
    return -1;
  if (c->re->pf != NULL && !(e->flags & TG_RULE_EVAL_NO_PREFILTER) && !prefilter_pass(e, c))
    return 0;
  guint32 opts = PCRE2_NO_UTF_CHECK | ((e->flags & TG_RULE_EVAL_NO_JIT) ? PCRE2_NO_JIT : 0);
  if (!(e->flags & TG_RULE_EVAL_NO_JIT))
    tg_rule_regex_jit(c->re);
  do {
    int rc = pcre2_match(c->re->code, (PCRE2_SPTR)s, len, 0, opts, c->re->md, e->rs->mctx);
    if (rc >= 0) {
      collect_captures(e, c->re, s, rc == 0 ? G_MAXINT : rc);
      return 1;
    }
    if (rc != PCRE2_ERROR_NOMATCH) {
      PCRE2_UCHAR buf[256];
      pcre2_get_error_message(rc, buf, sizeof buf);
      g_ptr_array_add(e->res->warnings,
                      tg_rule_diag_new(TG_RULE_DIAG_WARNING, r->file, c->line, c->col,
                                       "rule \"%s\" skipped: matching %s against /%s/ failed: %s", r->name,
                                       tg_rule_field_name(c->field), c->re->source, (const char *)buf));
      return -1;
    }
  } while (field_value(e->in, c->field, c->header, &it, &s, &len));
  return 0;
}

static int
eval_cond(Eval *e, const TgRule *r, const TgRuleCond *c)
{
  int v = 0;
  switch (c->kind) {
  case TG_COND_MATCH:
    v = eval_match(e, r, c);
    break;
  case TG_COND_SIZE:
    switch (c->size_op) {
    case TG_SIZE_GT: v = e->in->size > c->size; break;
    case TG_SIZE_GE: v = e->in->size >= c->size; break;
    case TG_SIZE_LT: v = e->in->size < c->size; break;
    case TG_SIZE_LE: v = e->in->size <= c->size; break;
    }
    break;
  case TG_COND_IS_NEW: v = !e->in->is_reply; break;
  case TG_COND_IS_REPLY: v = e->in->is_reply != FALSE; break;
  case TG_COND_FROM_STAFF: v = e->in->from_staff != FALSE; break;
  case TG_COND_ANY:
    for (guint i = 0; i < c->children->len && v == 0; i++)
      v = eval_cond(e, r, g_ptr_array_index(c->children, i));
    break;
  }
  if (v < 0)
    return -1;
  return c->negate ? !v : v;
}

static void
record(Eval *e, const TgRule *r, const TgRuleAct *a, const char *action, const char *name,
       const char *value, const char *reason)
{
  TgRuleAction *rec = g_new0(TgRuleAction, 1);
  rec->action = g_strdup(action);
  rec->name = g_strdup(name);
  rec->value = g_strdup(value);
  rec->reason = g_strdup(reason);
  rec->rule = g_strdup(r->name);
  rec->file = g_strdup(r->file);
  rec->line = a->line;
  g_ptr_array_add(e->res->actions, rec);
}

static void
replace(char **slot, char *value)
{
  g_free(*slot);
  *slot = value;
}

static void
apply(Eval *e, const TgRule *r)
{
  TgRuleResult *res = e->res;
  for (guint i = 0; i < r->actions->len; i++) {
    const TgRuleAct *a = g_ptr_array_index(r->actions, i);
    g_autofree char *value = a->value != NULL ? tg_rule_expand(a->value, e->caps) : NULL;
    g_autofree char *reason = a->reason != NULL ? tg_rule_expand(a->reason, e->caps) : NULL;
    switch (a->kind) {
    case TG_ACT_SET_QUEUE:
      replace(&res->queue, g_strdup(value));
      record(e, r, a, "set queue", NULL, value, NULL);
      break;
    case TG_ACT_SET_PRIORITY:
      replace(&res->priority, g_strdup(value));
      record(e, r, a, "set priority", NULL, value, NULL);
      break;
    case TG_ACT_SET_POLICY:
      replace(&res->policy, g_strdup(value));
      record(e, r, a, "set policy", NULL, value, NULL);
      break;
    case TG_ACT_SET_FIELD:
      g_hash_table_replace(res->fields, g_strdup(a->name), g_strdup(value));
      record(e, r, a, "set field", a->name, value, NULL);
      break;
    case TG_ACT_TAG:
      tg_rule_result_remove(res->tags_removed, value);
      tg_rule_result_add_unique(res->tags_added, value);
      record(e, r, a, "tag", NULL, value, NULL);
      break;
    case TG_ACT_UNTAG:
      tg_rule_result_remove(res->tags_added, value);
      tg_rule_result_add_unique(res->tags_removed, value);
      record(e, r, a, "untag", NULL, value, NULL);
      break;
    case TG_ACT_ASSIGN:
      replace(&res->assign, g_strdup(value));
      record(e, r, a, "assign", NULL, value, NULL);
      break;
    case TG_ACT_ESCALATE_LEVEL:
    case TG_ACT_ESCALATE_TO: {
      res->escalate = TRUE;
      res->escalate_level = a->kind == TG_ACT_ESCALATE_LEVEL ? a->level : 0;
      replace(&res->escalate_to, a->kind == TG_ACT_ESCALATE_TO ? g_strdup(value) : NULL);
      replace(&res->escalate_reason, g_strdup(reason));
      g_autofree char *what = a->kind == TG_ACT_ESCALATE_LEVEL ? g_strdup_printf("level %u", a->level)
                                                                : g_strdup_printf("to %s", value);
      record(e, r, a, "escalate", NULL, what, reason);
      break;
    }
    case TG_ACT_REPLY:
      tg_rule_result_add_unique(res->replies, value);
      record(e, r, a, "reply", NULL, value, NULL);
      break;
    case TG_ACT_NOREPLY:
      res->noreply = TRUE;
      record(e, r, a, "noreply", NULL, NULL, NULL);
      break;
    case TG_ACT_QUARANTINE:
      /* Without a reason the rule's name is the most useful explanation. */
      replace(&res->quarantine_reason, reason != NULL ? g_strdup(reason) : g_strdup_printf("rule \"%s\"", r->name));
      record(e, r, a, "quarantine", NULL, NULL, res->quarantine_reason);
      break;
    case TG_ACT_STOP:
      res->stopped = TRUE;
      record(e, r, a, "stop", NULL, NULL, NULL);
      break;
    }
  }
  TgRuleMatch *m = g_new0(TgRuleMatch, 1);
  m->rule = g_strdup(r->name);
  m->file = g_strdup(r->file);
  m->line = r->line;
  m->captures = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, e->caps);
  while (g_hash_table_iter_next(&it, &k, &v)) {
    g_hash_table_replace(m->captures, g_strdup(k), g_strdup(v));
    g_hash_table_replace(res->captures, g_strdup(k), g_strdup(v));
  }
  g_ptr_array_add(res->matches, m);
}

static guint32
present_fields(const TgRuleInput *in)
{
  guint32 mask = 0;
  for (TgRuleField f = 0; f < TG_FIELD_COUNT; f++) {
    const char *s;
    gsize len, it = 0;
    if (field_value(in, f, NULL, &it, &s, &len))
      mask |= 1u << f;
  }
  return mask;
}

void
tg_ruleset_eval_full(TgRuleset *rs, const TgRuleInput *in, TgRuleEvalFlags flags,
                     TgRuleResult **result_r)
{
  /* Measure the body once, not once per body condition. */
  TgRuleInput local = *in;
  if (local.body != NULL && local.body_len < 0)
    local.body_len = (gssize)strlen(local.body);
  Eval e = {
    .rs = rs,
    .in = &local,
    .flags = flags,
    .res = tg_rule_result_new(),
    .present = present_fields(&local),
    .caps = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free),
  };
  gboolean prefilter = !(flags & TG_RULE_EVAL_NO_PREFILTER);
  if (local.prefilter) {
    e.pf_bits = local.prefilter->bits;
    e.pf_built = local.prefilter->built;
  } else {
    e.pf_bits = rs->pf_bits;
    if (prefilter)
      memset(rs->pf_bits, 0, (1u << TG_PREFILTER_BITS) / 8);
  }
  for (guint i = 0; i < rs->rules->len && !e.res->stopped; i++) {
    const TgRule *r = g_ptr_array_index(rs->rules, i);
    if (r->required & ~e.present)
      continue;
    if (prefilter && rs->gate_at[i] != TG_RULE_NO_GATE) {
      prefilter_build(&e, rs->gate_field[i]);
      if (!tg_rule_prefilter_pass_flat(&g_array_index(rs->gate, guint32, rs->gate_at[i]), e.pf_bits))
        continue;
    }
    if (g_hash_table_size(e.caps) > 0)
      g_hash_table_remove_all(e.caps);
    int v = 1;
    for (guint k = 0; k < r->conds->len && v == 1; k++)
      v = eval_cond(&e, r, g_ptr_array_index(r->conds, k));
    if (v == 1)
      apply(&e, r);
  }
  g_hash_table_unref(e.caps);
  *result_r = e.res;
}

void
tg_ruleset_eval(TgRuleset *rs, const TgRuleInput *in, TgRuleResult **result_r)
{
  tg_ruleset_eval_full(rs, in, TG_RULE_EVAL_DEFAULT, result_r);
}
