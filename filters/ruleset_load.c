/*
 * filters/ruleset_load.c — build a TgRuleset from rule files, all or nothing.
 *
 * PURPOSE
 *   tg_ruleset_load_sources() parses sources in order, compiles every pattern,
 *   lints the whole set and, only if there was no error at all, returns a new
 *   ruleset with its PCRE2 match context (match, depth and heap limits) and
 *   JIT stack.  tg_ruleset_load_dir() reads `*.rules` from a directory in
 *   byte-wise file-name order and hands them to load_sources().
 *
 * FAILURE
 *   Any error diagnostic means NULL and TG_RULES_ERROR_INVALID; the caller
 *   keeps its previous set.  Every diagnostic is returned, sorted by
 *   (file order, line, column), so the admin sees all of them at once.  An
 *   unreadable directory or file is TG_RULES_ERROR_IO with path and reason.
 *
 * OWNERSHIP
 *   Returns (transfer full) ruleset and diagnostics array.
 */
#include "filters/rule_priv.h"

#include <string.h>

/* Rules files are small; a cap stops a stray multi-gigabyte file early. */
#define TG_RULES_MAX_FILE (16 * 1024 * 1024)

typedef struct {
  GPtrArray *files;
} SortCtx;

static guint
file_index(const SortCtx *ctx, const char *file)
{
  for (guint i = 0; i < ctx->files->len; i++)
    if (g_strcmp0(g_ptr_array_index(ctx->files, i), file) == 0)
      return i;
  return G_MAXUINT;
}

static gint
diag_cmp(gconstpointer a, gconstpointer b, gpointer data)
{
  const TgRuleDiag *x = *(TgRuleDiag *const *)a, *y = *(TgRuleDiag *const *)b;
  guint fx = file_index(data, x->file), fy = file_index(data, y->file);
  if (fx != fy)
    return fx < fy ? -1 : 1;
  if (x->line != y->line)
    return x->line < y->line ? -1 : 1;
  if (x->col != y->col)
    return x->col < y->col ? -1 : 1;
  return 0;
}

/* Pick, per rule, the first positive top-level match that has a prefilter;
 * all conditions must hold, so if its literal is absent the rule is out. */
static void
build_gates(TgRuleset *rs)
{
  guint n = rs->rules->len;
  rs->gate_at = g_new(guint32, MAX(n, 1));
  rs->gate_field = g_new0(guint8, MAX(n, 1));
  rs->gate = g_array_new(FALSE, FALSE, sizeof(guint32));
  for (guint i = 0; i < n; i++) {
    const TgRule *r = g_ptr_array_index(rs->rules, i);
    rs->gate_at[i] = TG_RULE_NO_GATE;
    for (guint k = 0; k < r->conds->len; k++) {
      const TgRuleCond *c = g_ptr_array_index(r->conds, k);
      if (c->kind == TG_COND_MATCH && !c->negate && c->re->pf != NULL) {
        rs->gate_at[i] = rs->gate->len;
        rs->gate_field[i] = (guint8)c->field;
        tg_rule_prefilter_flatten(c->re->pf, rs->gate);
        break;
      }
    }
  }
}

TgRuleset *
tg_ruleset_load_sources(const TgRuleSource *sources, gsize n_sources,
                        const TgRuleLoadOptions *opts, GPtrArray **diags_r, GError **error)
{
  TgRuleLoadOptions o = opts != NULL ? *opts : (TgRuleLoadOptions){ 0 };
  if (o.match_limit == 0)
    o.match_limit = TG_RULES_DEFAULT_MATCH_LIMIT;
  if (o.depth_limit == 0)
    o.depth_limit = TG_RULES_DEFAULT_DEPTH_LIMIT;
  if (o.heap_limit_kib == 0)
    o.heap_limit_kib = TG_RULES_DEFAULT_HEAP_LIMIT_KIB;
  if (o.jit_stack_max == 0)
    o.jit_stack_max = TG_RULES_DEFAULT_JIT_STACK_MAX;

  g_autoptr(GPtrArray) diags = g_ptr_array_new_with_free_func((GDestroyNotify)tg_rule_diag_free);
  g_autoptr(GPtrArray) rules = g_ptr_array_new_with_free_func((GDestroyNotify)tg_rule_free);
  g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(g_free);
  guint32 jit_config = 0;
  pcre2_config(PCRE2_CONFIG_JIT, &jit_config);
  gboolean want_jit = !o.no_jit && jit_config != 0;

  for (gsize i = 0; i < n_sources; i++) {
    char *name = g_strdup(sources[i].name);
    g_ptr_array_add(files, name);
    gsize len = sources[i].len < 0 ? strlen(sources[i].text) : (gsize)sources[i].len;
    tg_rule_parse_source(name, sources[i].text, len, want_jit, rules, diags);
  }
  tg_rule_lint_rules(rules, diags);

  SortCtx ctx = { files };
  g_ptr_array_sort_with_data(diags, diag_cmp, &ctx);
  guint n_errors = 0;
  for (guint i = 0; i < diags->len; i++)
    n_errors += ((TgRuleDiag *)g_ptr_array_index(diags, i))->level == TG_RULE_DIAG_ERROR;

  TgRuleset *rs = NULL;
  if (n_errors > 0) {
    g_set_error(error, TG_RULES_ERROR, TG_RULES_ERROR_INVALID, "%u error%s in rules", n_errors,
                n_errors == 1 ? "" : "s");
  } else {
    rs = g_new0(TgRuleset, 1);
    rs->ref = 1;
    rs->rules = g_steal_pointer(&rules);
    rs->files = g_steal_pointer(&files);
    rs->mctx = pcre2_match_context_create(NULL);
    pcre2_set_match_limit(rs->mctx, o.match_limit);
    pcre2_set_depth_limit(rs->mctx, o.depth_limit);
    pcre2_set_heap_limit(rs->mctx, o.heap_limit_kib);
    rs->jit_ok = want_jit;
    if (want_jit) {
      rs->jit_stack = pcre2_jit_stack_create(32 * 1024, o.jit_stack_max, NULL);
      pcre2_jit_stack_assign(rs->mctx, NULL, rs->jit_stack);
    }
    rs->pf_bits = g_malloc0((1u << TG_PREFILTER_BITS) / 8);
    build_gates(rs);
  }
  if (diags_r != NULL)
    *diags_r = g_steal_pointer(&diags);
  return rs;
}

static gint
strcmp_p(gconstpointer a, gconstpointer b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

TgRuleset *
tg_ruleset_load_dir(const char *dir, const TgRuleLoadOptions *opts, GPtrArray **diags_r,
                    GError **error)
{
  if (diags_r != NULL)
    *diags_r = NULL;
  g_autoptr(GError) local = NULL;
  g_autoptr(GDir) d = g_dir_open(dir, 0, &local);
  if (d == NULL) {
    g_set_error(error, TG_RULES_ERROR, TG_RULES_ERROR_IO, "opendir(%s) failed: %s", dir, local->message);
    return NULL;
  }
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
  const char *n;
  while ((n = g_dir_read_name(d)) != NULL)
    if (g_str_has_suffix(n, ".rules") && n[0] != '.')
      g_ptr_array_add(names, g_strdup(n));
  g_ptr_array_sort(names, strcmp_p);

  g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GPtrArray) texts = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GArray) sources = g_array_new(FALSE, TRUE, sizeof(TgRuleSource));
  for (guint i = 0; i < names->len; i++) {
    char *path = g_build_filename(dir, g_ptr_array_index(names, i), NULL);
    g_ptr_array_add(paths, path);
    char *text = NULL;
    gsize len = 0;
    g_clear_error(&local);
    if (!g_file_get_contents(path, &text, &len, &local)) {
      g_set_error(error, TG_RULES_ERROR, TG_RULES_ERROR_IO, "read(%s) failed: %s", path, local->message);
      return NULL;
    }
    g_ptr_array_add(texts, text);
    if (len > TG_RULES_MAX_FILE) {
      g_set_error(error, TG_RULES_ERROR, TG_RULES_ERROR_IO, "read(%s) failed: file larger than %d bytes",
                  path, TG_RULES_MAX_FILE);
      return NULL;
    }
    TgRuleSource src = { .name = path, .text = text, .len = (gssize)len };
    g_array_append_val(sources, src);
  }
  return tg_ruleset_load_sources((const TgRuleSource *)(void *)sources->data, sources->len, opts,
                                 diags_r, error);
}
