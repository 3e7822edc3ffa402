/*
 * filters/rule_diag.c — errors and warnings about rule files and messages.
 *
 * PURPOSE
 *   A TgRuleDiag is one diagnostic with its file, line and column.
 *   tg_rule_diag_new() makes one, tg_rule_diag_format() renders the single
 *   textual form every tool prints (`file:line:col: message`, with
 *   `warning: ` before warnings), tg_rule_diag_free() frees it.
 *   tg_rules_error_quark() is the GError domain of the loader.
 *
 * OWNERSHIP
 *   new() and format() return (transfer full).
 */
#include "filters/rule_priv.h"

G_DEFINE_QUARK(tg-rules-error-quark, tg_rules_error)

TgRuleDiag *
tg_rule_diag_new(TgRuleDiagLevel level, const char *file, guint line, guint col,
                 const char *fmt, ...)
{
  TgRuleDiag *d = g_new0(TgRuleDiag, 1);
  va_list ap;
  va_start(ap, fmt);
  d->message = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  d->level = level;
  d->file = g_strdup(file);
  d->line = line;
  d->col = col;
  return d;
}

char *
tg_rule_diag_format(const TgRuleDiag *d)
{
  const char *kind = d->level == TG_RULE_DIAG_WARNING ? "warning: " : "";
  if (d->file == NULL)
    return g_strdup_printf("input: %s%s", kind, d->message);
  return g_strdup_printf("%s:%u:%u: %s%s", d->file, d->line, d->col, kind, d->message);
}

void
tg_rule_diag_free(TgRuleDiag *d)
{
  if (d == NULL)
    return;
  g_free(d->file);
  g_free(d->message);
  g_free(d);
}
