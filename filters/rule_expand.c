/*
 * filters/rule_expand.c — ${name} substitution in action strings.
 *
 * PURPOSE
 *   Actions may quote named capture groups: `set field order = "${order}"`.
 *   tg_rule_expand_scan() lists the names a string references, so the parser
 *   can reject a name no pattern of the rule defines; tg_rule_expand()
 *   substitutes captured values at evaluation time.  `$$` is a literal `$`; a
 *   `$` followed by anything else is kept as is.
 *
 * FAILURE
 *   scan() returns FALSE for `${` without a closing brace or with a name that
 *   is not a valid group name.  expand() never fails: a group that did not
 *   take part in the match expands to the empty string.
 *
 * OWNERSHIP
 *   expand() returns (transfer full).
 */
#include "filters/rule_priv.h"

#include <string.h>

static gboolean
name_ok(const char *s, gsize n)
{
  if (n == 0 || n > 32 || g_ascii_isdigit(s[0]))
    return FALSE;
  for (gsize i = 0; i < n; i++)
    if (!g_ascii_isalnum(s[i]) && s[i] != '_')
      return FALSE;
  return TRUE;
}

gboolean
tg_rule_expand_scan(const char *tmpl, GPtrArray *names, const char **why_r)
{
  for (const char *p = tmpl; *p; p++) {
    if (p[0] != '$')
      continue;
    if (p[1] == '$') {
      p++;
      continue;
    }
    if (p[1] != '{')
      continue;
    const char *close = strchr(p + 2, '}');
    if (close == NULL) {
      *why_r = "unterminated ${ in string";
      return FALSE;
    }
    if (!name_ok(p + 2, (gsize)(close - p - 2))) {
      *why_r = "invalid capture name in ${...}";
      return FALSE;
    }
    g_ptr_array_add(names, g_strndup(p + 2, (gsize)(close - p - 2)));
    p = close;
  }
  return TRUE;
}

char *
tg_rule_expand(const char *tmpl, GHashTable *captures)
{
  if (strchr(tmpl, '$') == NULL)
    return g_strdup(tmpl);
  GString *out = g_string_new(NULL);
  for (const char *p = tmpl; *p; p++) {
    if (p[0] == '$' && p[1] == '$') {
      g_string_append_c(out, '$');
      p++;
    } else if (p[0] == '$' && p[1] == '{' && strchr(p + 2, '}') != NULL) {
      const char *close = strchr(p + 2, '}');
      g_autofree char *name = g_strndup(p + 2, (gsize)(close - p - 2));
      const char *v = captures != NULL ? g_hash_table_lookup(captures, name) : NULL;
      if (v != NULL)
        g_string_append(out, v);
      p = close;
    } else {
      g_string_append_c(out, *p);
    }
  }
  return g_string_free(out, FALSE);
}
