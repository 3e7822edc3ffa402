/* cmd_spool.c - `ticketgate spool list [--quarantine] [--json]`,
 * `ticketgate spool retry [ID...]` and `ticketgate spool flush` (one pass
 * of the outbound sender, gateway/sender.h). */
#include "gateway/cli.h"
#include "gateway/log.h"
#include "gateway/pipeline.h"
#include "gateway/sender.h"
#include "spool/journal.h"

#include <stdio.h>
#include <string.h>

static int spool_list(TgPipeline *pipe, gboolean quarantine, gboolean json) {
  TgSpool *spool = tg_pipeline_spool(pipe);
  g_autoptr(GError) err = NULL;
  TgSpoolArea area = quarantine ? TG_SPOOL_QUARANTINE : TG_SPOOL_QUEUE;
  g_autoptr(GPtrArray) ids = tg_spool_list(spool, area, &err);
  if (!ids) {
    fprintf(stderr, "ticketgate: %s\n", err->message);
    return EX_TEMPFAIL;
  }
  /* Entries in serve's journal are not files of queue/ (journal.h). */
  guint segments = quarantine ? 0 : tg_journal_segment_count(tg_spool_dir(spool));
  if (segments)
    fprintf(stderr, "ticketgate: %u journal segment(s) in %s/journal also hold entries: in "
                    "flight in a running serve, or left by one that stopped (its next start "
                    "or `spool retry` brings them into the queue)\n",
            segments, tg_spool_dir(spool));
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_array(b);
  for (guint i = 0; i < ids->len; i++) {
    const char *id = g_ptr_array_index(ids, i);
    g_autoptr(GError) rerr = NULL;
    g_autoptr(TgSpoolEntry) e = tg_spool_read(spool, area, id, FALSE, &rerr);
    g_autofree char *reason = quarantine ? tg_spool_quarantine_reason(spool, id) : NULL;
    g_autofree char *when = g_strdup_printf("%" G_GINT64_FORMAT, e ? e->arrival : 0);
    gsize size = e ? g_bytes_get_size(e->message) : 0;
    if (json) {
      json_builder_begin_object(b);
      json_builder_set_member_name(b, "id");
      json_builder_add_string_value(b, id);
      json_builder_set_member_name(b, "sender");
      json_builder_add_string_value(b, e ? e->sender : "");
      json_builder_set_member_name(b, "size");
      json_builder_add_int_value(b, (gint64)size);
      json_builder_set_member_name(b, "arrival");
      json_builder_add_int_value(b, e ? e->arrival : 0);
      if (quarantine) {
        json_builder_set_member_name(b, "reason");
        json_builder_add_string_value(b, reason ? reason : (e ? "" : rerr->message));
      }
      json_builder_end_object(b);
    } else {
      printf("%s  %8" G_GSIZE_FORMAT "  <%s>%s%s\n", id, size, e ? e->sender : "?",
             quarantine ? "  " : "", quarantine ? (reason ? reason : "") : "");
    }
  }
  json_builder_end_array(b);
  if (json) {
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    tg_cli_print_json(root);
  }
  return EX_OK;
}

static int spool_retry(TgPipeline *pipe, char **ids) {
  TgSpool *spool = tg_pipeline_spool(pipe);
  guint failed = 0;
  if (!ids || !ids[0]) {
    if (!tg_pipeline_recover_spool(spool))
      failed++;
    guint left = 0;
    guint done = tg_pipeline_drain(pipe, &left);
    failed += left;
    printf("processed %u, left %u\n", done, failed);
    return failed ? EX_TEMPFAIL : EX_OK;
  }
  for (char **id = ids; *id; id++) {
    g_autoptr(GError) err = NULL;
    if (!tg_spool_id_ok(*id)) {
      fprintf(stderr, "ticketgate: not a spool id: %s\n", *id);
      failed++;
      continue;
    }
    /* A quarantined entry goes back into the queue, then through. */
    g_autofree char *reason = tg_spool_quarantine_reason(spool, *id);
    if (reason && !tg_spool_release(spool, *id, &err)) {
      fprintf(stderr, "ticketgate: %s: %s\n", *id, err->message);
      failed++;
      continue;
    }
    TgPipeResult r;
    if (!tg_pipeline_process_id(pipe, *id, &r, &err)) {
      fprintf(stderr, "ticketgate: %s: %s\n", *id, err->message);
      failed++;
      continue;
    }
    printf("%s %s%s%s\n", *id,
           r.outcome == TG_PIPE_TICKETED      ? "ticketed"
           : r.outcome == TG_PIPE_QUARANTINED ? "quarantined"
                                              : "busy or gone",
           r.reason ? ": " : "", r.reason ? r.reason : "");
    tg_pipe_result_clear(&r);
  }
  return failed ? EX_TEMPFAIL : EX_OK;
}

/* Exit 0 when the pass ran (deferred notices wait for the next one). */
static int spool_flush(const TgConfig *cfg, TgPipeline *pipe) {
  g_autoptr(GError) err = NULL;
  TgSenderStats st;
  if (!tg_sender_flush(cfg, tg_pipeline_store(pipe), &st, &err)) {
    fprintf(stderr, "ticketgate: spool flush: %s\n", err->message);
    return EX_TEMPFAIL;
  }
  printf("sent %u, deferred %u, failed %u\n", st.sent, st.deferred, st.failed);
  return EX_OK;
}

int tg_cmd_spool(int argc, char **argv) {
  gboolean quarantine = FALSE, json = FALSE;
  const GOptionEntry entries[] = {
      {"quarantine", 'q', 0, G_OPTION_ARG_NONE, &quarantine, "List the quarantine", NULL},
      {"json", 0, 0, G_OPTION_ARG_NONE, &json, "JSON output", NULL},
      {NULL}};
  if (!tg_cli_parse(&argc, &argv, "list|retry [ID...]|flush", entries))
    return EX_USAGE;
  if (argc < 2 || (strcmp(argv[1], "list") != 0 && strcmp(argv[1], "retry") != 0 &&
                   strcmp(argv[1], "flush") != 0)) {
    fprintf(stderr, "usage: ticketgate spool list [--quarantine] [--json] | retry [ID...]"
                    " | flush\n");
    return EX_USAGE;
  }
  g_autoptr(TgConfig) cfg = NULL;
  int open_rc;
  g_autoptr(TgPipeline) pipe = tg_cli_open_pipeline(&cfg, &open_rc);
  if (!pipe)
    return open_rc;
  if (strcmp(argv[1], "list") == 0)
    return spool_list(pipe, quarantine, json);
  if (strcmp(argv[1], "flush") == 0)
    return spool_flush(cfg, pipe);
  return spool_retry(pipe, argv + 2);
}
