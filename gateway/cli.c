/* cli.c - shared pieces of the subcommands (see cli.h). */
#include "gateway/cli.h"
#include "gateway/log.h"
#include "gateway/pipeline.h"
#include "spool/spool.h"

#include <stdio.h>

char *tg_cli_config_path;

TgConfig *tg_cli_load_config(void) {
  g_autoptr(GPtrArray) errors = NULL;
  TgConfig *cfg = tg_config_load(tg_config_choose_path(tg_cli_config_path), &errors);
  if (!cfg) {
    for (guint i = 0; i < errors->len; i++)
      fprintf(stderr, "%s\n", (char *)g_ptr_array_index(errors, i));
    return NULL;
  }
  tg_log_init(cfg->log_target, cfg->log_verbose || tg_log_verbose());
  return cfg;
}

gboolean tg_cli_parse(int *argc, char ***argv, const char *usage,
                      const GOptionEntry *entries) {
  const GOptionEntry common[] = {
      {"config", 'c', 0, G_OPTION_ARG_FILENAME, &tg_cli_config_path,
       "Configuration file (default: $TICKETGATE_CONFIG, else built in)", "FILE"},
      {NULL}};
  g_autoptr(GOptionContext) ctx = g_option_context_new(usage);
  g_option_context_add_main_entries(ctx, common, NULL);
  if (entries)
    g_option_context_add_main_entries(ctx, entries, NULL);
  g_autoptr(GError) err = NULL;
  if (!g_option_context_parse(ctx, argc, argv, &err)) {
    fprintf(stderr, "ticketgate: %s\n", err->message);
    return FALSE;
  }
  return TRUE;
}

void tg_cli_print_json(JsonNode *node) {
  g_autoptr(JsonGenerator) gen = json_generator_new();
  json_generator_set_pretty(gen, TRUE);
  json_generator_set_root(gen, node);
  g_autofree char *s = json_generator_to_data(gen, NULL);
  printf("%s\n", s);
}

TgPipeline *tg_cli_open_pipeline(TgConfig **cfg_r, int *exit_r) {
  if (!(*cfg_r = tg_cli_load_config())) {
    *exit_r = EX_CONFIG;
    return NULL;
  }
  g_autoptr(GError) err = NULL;
  TgPipeline *pipe = tg_pipeline_open(*cfg_r, &err);
  if (!pipe) {
    fprintf(stderr, "ticketgate: %s\n", err->message);
    *exit_r = err->domain == G_FILE_ERROR || err->domain == TG_STORE_ERROR ||
                      err->domain == TG_SPOOL_ERROR
                  ? EX_TEMPFAIL
                  : EX_CONFIG;
  }
  return pipe;
}
