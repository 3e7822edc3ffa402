/* cli.h - shared pieces of the subcommands.
 *
 * Exit codes follow sysexits.h, so an MTA running `deliver` does the
 * right thing: 0 accepted, 65 data error (over the size limit only), 64
 * usage, 75 temporary failure (retry), 78 configuration error.
 */
#ifndef TG_CLI_H
#define TG_CLI_H

#include "gateway/config.h"

#include <json-glib/json-glib.h>
#include <sysexits.h>

typedef int (*TgCommandFn)(int argc, char **argv);

/* The -c/--config path seen on the command line (NULL if none). */
extern char *tg_cli_config_path;

/* Loads the configuration or prints every error and returns NULL. */
TgConfig *tg_cli_load_config(void);
/* Parses ARGV with ENTRIES plus -c/--config; prints usage errors.  On
 * failure returns FALSE: exit with EX_USAGE. */
gboolean tg_cli_parse(int *argc, char ***argv, const char *usage,
                      const GOptionEntry *entries);
void tg_cli_print_json(JsonNode *node);

typedef struct TgPipeline TgPipeline;
/* Loads the configuration into *CFG_R (transfer full; the pipeline
 * borrows it, so free the pipeline first) and opens the pipeline, or
 * prints why not and sets *EXIT_R: 78 for a broken configuration, rule set
 * or template set, 75 for what time can fix (files, store, spool).
 * (transfer full) */
TgPipeline *tg_cli_open_pipeline(TgConfig **cfg_r, int *exit_r);

int tg_cmd_deliver(int argc, char **argv);
int tg_cmd_fetch(int argc, char **argv); /* IMAP, gateway/cmd_fetch.c */
int tg_cmd_check(int argc, char **argv);
int tg_cmd_ticket(int argc, char **argv);
int tg_cmd_spool(int argc, char **argv);
int tg_cmd_import(int argc, char **argv);
int tg_cmd_serve(int argc, char **argv);
int tg_cmd_rules(int argc, char **argv);
int tg_cmd_stats(int argc, char **argv);
int tg_cmd_template(int argc, char **argv);
int tg_cmd_tick(int argc, char **argv);   /* gateway/cmd_tick.c */
/* `ticket escalate|assign|status|reply` (gateway/cmd_ticket_ops.c); SUB is argv[1]. */
int tg_cmd_ticket_ops(int argc, char **argv);
gboolean tg_cmd_ticket_ops_is(const char *sub);

#endif
