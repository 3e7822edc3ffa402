/*
 * filters/ruleset_check.c — `ticketgate check` for a rules directory.
 *
 * PURPOSE
 *   tg_ruleset_check_dir() loads a directory exactly as the daemon would and
 *   returns every diagnostic as a printable `file:line:col: message` line, so
 *   the CLI only has to print them and pick an exit code.
 *
 * OWNERSHIP
 *   *lines_r is (transfer full), never NULL on return.
 */
#include "filters/rule_priv.h"

gboolean
tg_ruleset_check_dir(const char *dir, GStrv *lines_r, GError **error)
{
  g_autoptr(GPtrArray) diags = NULL;
  g_autoptr(TgRuleset) rs = tg_ruleset_load_dir(dir, NULL, &diags, error);
  g_autoptr(GStrvBuilder) b = g_strv_builder_new();
  for (guint i = 0; diags != NULL && i < diags->len; i++)
    {
    g_autofree char *line = tg_rule_diag_format(g_ptr_array_index(diags, i));
    g_strv_builder_add(b, line);
  }
  *lines_r = g_strv_builder_end(b);
  return rs != NULL;
}
