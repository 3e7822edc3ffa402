/* pipeline.h - from a spool entry to a ticket: parse, thread, store, retire.
 *
 * Every entry point (deliver, serve's SMTP/LMTP and IMAP sides, import,
 * spool retry) hands accepted spool entries to tg_pipeline_process().
 * Outcomes:
 *   TRUE, TG_PIPE_TICKETED     stored (or found already stored), retired
 *   TRUE, TG_PIPE_QUARANTINED  kept in the quarantine with a reason
 *   TRUE, TG_PIPE_BUSY         another process holds the entry; untouched
 *   FALSE                      temporary failure (store busy, disk full):
 *                              the entry stays in the queue for a retry
 * One bad message never blocks the ones behind it: anything that is not
 * temporary ends in the quarantine.
 */
#ifndef TG_PIPELINE_H
#define TG_PIPELINE_H

#include "gateway/config.h"
#include "spool/spool.h"
#include "tickets/ingest.h"
#include "tickets/escalate.h"
#include "tickets/notify.h"
#include "tickets/store.h"

typedef struct TgPipeline TgPipeline;

typedef enum {
  TG_PIPE_TICKETED,
  TG_PIPE_QUARANTINED,
  TG_PIPE_BUSY,
} TgPipeOutcome;

typedef struct {
  TgPipeOutcome outcome;
  TgIngestResult ingest;
  char *reason; /* quarantine reason code (transfer full), or NULL */
} TgPipeResult;

/* Opens spool and store for CFG (borrowed; must outlive the pipeline). */
TgPipeline *tg_pipeline_open(const TgConfig *cfg, GError **error);
void tg_pipeline_free(TgPipeline *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TgPipeline, tg_pipeline_free)

TgSpool *tg_pipeline_spool(TgPipeline *p);
TgStore *tg_pipeline_store(TgPipeline *p);
GBytes *tg_pipeline_secret(TgPipeline *p);
/* Templates and outbound settings the pipeline queues acks with.
 * (transfer none) */
const TgNotifyConfig *tg_pipeline_notify(TgPipeline *p);
/* Policies, staff directory and notices of escalation (escalate_config.h).
 * (transfer none) */
const TgEscalateConfig *tg_pipeline_escalation(TgPipeline *p);

/* Processes a read, locked entry; frees nothing. */
gboolean tg_pipeline_process(TgPipeline *p, TgSpoolEntry *e, TgPipeResult *r,
                             GError **error);
/* Group commit: N read, locked entries parsed, then stored in one
 * transaction (one fsync), then retired.  An entry with RAW set lives in
 * the journal, not in queue/: it is not retired (the caller releases it
 * from the journal), and one for the quarantine is written there first.
 * A temporary failure leaves all of them queued; a message that fails for
 * good alone is quarantined.  RESULTS has N elements. */
gboolean tg_pipeline_process_batch(TgPipeline *p, TgSpoolEntry **entries,
                                   guint n, TgPipeResult *results,
                                   GError **error);
/* The two phases of tg_pipeline_process_batch(), for a caller that parses
 * the next batch on another thread while this one is stored.
 * Parsing touches neither spool nor store.  SPOOLED FALSE: the entries
 * live only in memory (import, whose mbox is the durable copy): nothing
 * is retired, and one that goes to the quarantine is written there first.
 * ENTRIES are borrowed and must outlive the batch. */
typedef struct TgPipeBatch TgPipeBatch;
TgPipeBatch *tg_pipeline_parse_batch(TgPipeline *p, TgSpoolEntry **entries,
                                     guint n, gboolean spooled);
gboolean tg_pipeline_store_batch(TgPipeline *p, TgPipeBatch *batch,
                                 TgPipeResult *results, GError **error);
void tg_pipe_batch_free(TgPipeBatch *batch);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TgPipeBatch, tg_pipe_batch_free)
/* Reads, locks and processes the queued entry ID. */
gboolean tg_pipeline_process_id(TgPipeline *p, const char *id, TgPipeResult *r,
                                GError **error);
void tg_pipe_result_clear(TgPipeResult *r);

/* The rule set in use (transfer none). */
TgRuleset *tg_pipeline_ruleset(TgPipeline *p);
/* Loads the rules the configuration names: [rules] dir, or the built-in
 * examples when it is empty.  Diagnostics go to DIAGS_R as strings
 * "file:line:col: message".  (transfer full) */
TgRuleset *tg_pipeline_load_rules(const TgConfig *cfg, GPtrArray **diags_r,
                                  GError **error);

/* Start-of-day recovery of the spool for `serve` and `spool retry`:
 * purges tmp/ leftovers and writes what the journal of a run that died
 * still holds out to queue/ (journal.h), logging what it did.  FALSE
 * when a journal segment could not be brought over (logged; it stays
 * for the next attempt). */
gboolean tg_pipeline_recover_spool(TgSpool *spool);

/* Processes every queued entry, oldest first.  Returns how many were
 * handled; *FAILED_R counts temporary failures left in the queue. */
guint tg_pipeline_drain(TgPipeline *p, guint *failed_r);

#endif
