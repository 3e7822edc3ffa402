/* cmd_check.c - `ticketgate check`: validate the configuration (and the
 * rules and templates it names), listing every problem as FILE:LINE:
 * message.  Exit 0 when all is well, 78 (EX_CONFIG) otherwise. */
#include "gateway/cli.h"
#include "gateway/escalate_config.h"
#include "gateway/net_module.h"
#include "gateway/notify_config.h"
#include "gateway/pipeline.h"
#include "gateway/privdrop.h"

#include "gateway/safety.h"

#include <stdio.h>
#include <string.h>

typedef struct {
  const TemplateSet *templates;
  const TgSlaPolicies *policies;
  const char *lang;
  guint problems;
} RefCheck;

/* A rule naming a policy or template that does not exist would route
 * tickets to the `standard` ladder or send no reply at all: say so. */
static void check_ref(const char *kind, const char *name, const char *file,
                      guint line, gpointer data) {
  RefCheck *rc = data;
  if (g_str_equal(kind, "policy") && !tg_sla_policies_find(rc->policies, name)) {
    fprintf(stderr, "%s:%u: set policy %s: no such escalation policy\n", file, line, name);
    rc->problems++;
  } else if (g_str_equal(kind, "template") &&
             !template_set_lookup(rc->templates, name, rc->lang)) {
    fprintf(stderr, "%s:%u: reply %s: no such template\n", file, line, name);
    rc->problems++;
  }
}

int tg_cmd_check(int argc, char **argv) {
  if (!tg_cli_parse(&argc, &argv, "- validate configuration", NULL))
    return EX_USAGE;
  g_autoptr(GPtrArray) errors = NULL;
  const char *path = tg_config_choose_path(tg_cli_config_path);
  g_autoptr(TgConfig) cfg = tg_config_load(path, &errors);
  guint problems = 0;
  if (!cfg) {
    for (guint i = 0; i < errors->len; i++)
      fprintf(stderr, "%s\n", (char *)g_ptr_array_index(errors, i));
    problems += errors->len;
  } else {
    g_autoptr(GPtrArray) unsafe = g_ptr_array_new_with_free_func(g_free);
    tg_safety_check(cfg, unsafe);
    for (guint i = 0; i < unsafe->len; i++)
      fprintf(stderr, "%s: unsafe: %s\n", cfg->source, (char *)g_ptr_array_index(unsafe, i));
    problems += unsafe->len;
  }
  /* What `serve` would load at start: catch a broken install before a
   * restart does (serve then exits 72). */
  if (cfg && tg_net_needed(cfg)) {
    g_autoptr(GError) nerr = NULL;
    if (!tg_net(&nerr)) {
      fprintf(stderr, "%s: IMAP, metrics or smarthost configured: %s\n",
              cfg->source, nerr->message);
      problems++;
    }
  }
  if (cfg) { /* ops (issue 9): [gateway] user must exist */
    g_autoptr(GError) uerr = NULL;
    if (!tg_privdrop_user_ok(cfg, &uerr)) {
      fprintf(stderr, "%s: %s\n", cfg->source, uerr->message);
      problems++;
    }
  }
  g_autoptr(TgRuleset) rs = NULL;
  if (cfg) {
    g_autoptr(GPtrArray) diags = NULL;
    g_autoptr(GError) err = NULL;
    rs = tg_pipeline_load_rules(cfg, &diags, &err);
    for (guint i = 0; diags && i < diags->len; i++)
      fprintf(stderr, "%s\n", (char *)g_ptr_array_index(diags, i));
    if (!rs) {
      guint errors_seen = 0;
      for (guint i = 0; diags && i < diags->len; i++)
        errors_seen += strstr(g_ptr_array_index(diags, i), ": warning: ") == NULL;
      problems += errors_seen ? errors_seen : 1;
      if (!errors_seen)
        fprintf(stderr, "%s: %s\n", cfg->rules_dir, err->message);
    }
  }
  /* Templates: load all-or-nothing, then render each against sample data. */
  g_autoptr(TemplateSet) set = NULL;
  if (cfg) {
    g_autoptr(GError) terr = NULL;
    set = tg_notify_config_load_templates(cfg, &terr);
    g_autoptr(GPtrArray) tproblems = g_ptr_array_new_with_free_func(g_free);
    if (!set)
      g_ptr_array_add(tproblems, g_strdup(terr->message));
    else
      template_set_check(set, NULL, tproblems);
    for (guint i = 0; i < tproblems->len; i++)
      fprintf(stderr, "%s\n", (char *)g_ptr_array_index(tproblems, i));
    problems += tproblems->len;
  }
  g_autoptr(TgSlaPolicies) pol = NULL;
  if (cfg) { /* escalation policies: file:line errors, all of them */
    g_autoptr(GPtrArray) perrors = NULL;
    pol = tg_escalate_config_load_policies(cfg, &perrors);
    for (guint i = 0; perrors && i < perrors->len; i++)
      fprintf(stderr, "%s\n", (char *)g_ptr_array_index(perrors, i));
    if (!pol)
      problems += perrors ? perrors->len : 1;
  }
  if (rs && set && pol) {
    RefCheck rc = {.templates = set, .policies = pol, .lang = cfg->default_language};
    tg_ruleset_foreach_ref(rs, check_ref, &rc);
    problems += rc.problems;
  }
  if (problems) {
    fprintf(stderr, "ticketgate check: %u problem(s)\n", problems);
    return EX_CONFIG;
  }
  printf("ticketgate check: %s is fine\n", cfg->source);
  return EX_OK;
}
