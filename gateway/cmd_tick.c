/* cmd_tick.c - `ticketgate tick`: one pass of the escalation timer
 * (tickets/tick.h), for cron; `serve` runs the same pass on a timer.
 * Honours TICKETGATE_NOW.  Exit 0 when the pass ran, 75 when the store
 * was busy or failed (what was committed stays; run it again). */
#include "gateway/cli.h"
#include "gateway/log.h"
#include "gateway/pipeline.h"
#include "tickets/clock.h"
#include "tickets/tick.h"

#include <stdio.h>

static void explain(TgStore *store) {
  /* Not through the store's statement cache: it keys statements by the
   * address of their (static) text, and this text is freed. */
  g_autofree char *sql = g_strdup_printf("EXPLAIN QUERY PLAN %s", tg_tick_due_sql);
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2(tg_store_db(store), sql, -1, &st, NULL);
  if (rc != SQLITE_OK) {
    fprintf(stderr, "ticketgate: %s: %s (sqlite %d)\n", sql,
            sqlite3_errmsg(tg_store_db(store)), rc);
    sqlite3_finalize(st);
    return;
  }
  sqlite3_bind_int64(st, 1, tg_clock_now());
  sqlite3_bind_int64(st, 2, 100);
  while (sqlite3_step(st) == SQLITE_ROW)
    printf("plan: %s\n", (const char *)sqlite3_column_text(st, 3));
  sqlite3_finalize(st);
}

int tg_cmd_tick(int argc, char **argv) {
  gboolean json = FALSE, plan = FALSE;
  gint batch = 100;
  const GOptionEntry entries[] = {
      {"json", 0, 0, G_OPTION_ARG_NONE, &json, "JSON output", NULL},
      {"batch", 'b', 0, G_OPTION_ARG_INT, &batch, "Tickets per transaction (100)", "N"},
      {"explain", 0, 0, G_OPTION_ARG_NONE, &plan,
       "Print the query plan of the due-ticket query and exit", NULL},
      {NULL}};
  if (!tg_cli_parse(&argc, &argv, "- run due escalations once", entries))
    return EX_USAGE;
  if (argc > 1 || batch <= 0) {
    fprintf(stderr, "usage: ticketgate tick [--batch N] [--json] [--explain]\n");
    return EX_USAGE;
  }
  g_autoptr(TgConfig) cfg = tg_cli_load_config();
  if (!cfg)
    return EX_CONFIG;
  g_autoptr(GError) err = NULL;
  g_autoptr(TgPipeline) pipe = tg_pipeline_open(cfg, &err);
  if (!pipe) {
    fprintf(stderr, "ticketgate: %s\n", err->message);
    return EX_TEMPFAIL;
  }
  if (plan) {
    explain(tg_pipeline_store(pipe));
    return EX_OK;
  }
  TgTickStats st;
  gint64 t0 = g_get_monotonic_time();
  gboolean ok = tg_tick_run(tg_pipeline_escalation(pipe), tg_pipeline_store(pipe),
                            tg_clock_now(), (guint)batch, &st, &err);
  double ms = (double)(g_get_monotonic_time() - t0) / 1000.0;
  if (json)
    printf("{\"tickets\": %u, \"escalated\": %u, \"warned\": %u, \"informed\": %u, "
           "\"ms\": %.1f, \"ok\": %s}\n",
           st.tickets, st.escalated, st.warned, st.informed, ms, ok ? "true" : "false");
  else
    printf("tick: %u due, escalated %u, warned %u, informed %u (%.1f ms)\n", st.tickets,
           st.escalated, st.warned, st.informed, ms);
  if (!ok) {
    fprintf(stderr, "ticketgate: tick: %s\n", err->message);
    return EX_TEMPFAIL;
  }
  tg_info("tick: %u due, escalated %u, warned %u, informed %u", st.tickets, st.escalated,
          st.warned, st.informed);
  return EX_OK;
}
