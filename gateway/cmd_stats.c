/* cmd_stats.c - `ticketgate stats [--json]`: the metrics `serve` exports,
 * read from the store and the spool (process counters are the daemon's). */
#include "gateway/cli.h"
#include "gateway/metrics.h"
#include "gateway/pipeline.h"

#include <stdio.h>

int tg_cmd_stats(int argc, char **argv) {
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
      {"json", 0, 0, G_OPTION_ARG_NONE, &json, "JSON output", NULL}, {NULL}};
  if (!tg_cli_parse(&argc, &argv, "- print the gateway's metrics", entries))
    return EX_USAGE;
  g_autoptr(TgConfig) cfg = NULL;
  g_autoptr(GError) err = NULL;
  int open_rc;
  g_autoptr(TgPipeline) pipe = tg_cli_open_pipeline(&cfg, &open_rc);
  if (!pipe)
    return open_rc;
  if (json) {
    g_autoptr(JsonNode) node =
        tg_metrics_json(tg_pipeline_store(pipe), tg_pipeline_spool(pipe), &err);
    if (!node) {
      fprintf(stderr, "ticketgate: %s\n", err->message);
      return EX_TEMPFAIL;
    }
    tg_cli_print_json(node);
    return EX_OK;
  }
  g_autofree char *text =
      tg_metrics_render(tg_pipeline_store(pipe), tg_pipeline_spool(pipe), &err);
  if (!text) {
    fprintf(stderr, "ticketgate: %s\n", err->message);
    return EX_TEMPFAIL;
  }
  fputs(text, stdout);
  return EX_OK;
}
