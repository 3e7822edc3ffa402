/* cmd_check.c - `ticketgate check`: validate the configuration (and the
 * rules and templates it names), listing every problem as FILE:LINE:
 * message.  Exit 0 when all is well, 78 (EX_CONFIG) otherwise. */
#include "gateway/cli.h"
#include "gateway/safety.h"

#include <stdio.h>

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
  if (problems) {
    fprintf(stderr, "ticketgate check: %u problem(s)\n", problems);
    return EX_CONFIG;
  }
  printf("ticketgate check: %s is fine\n", cfg->source);
  return EX_OK;
}
