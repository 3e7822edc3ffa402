/* serve_worker.h - the thread of `serve` that turns spooled messages into
 * tickets, so the SMTP/LMTP side never waits on SQLite.
 *
 * The worker owns a TgPipeline (its own SQLite connection and spool
 * handle).  On start it processes everything a previous run left in
 * queue/, then takes entries as they become durable (ids of queue/ with
 * tg_serve_worker_notify, journaled entries in memory with
 * tg_serve_worker_take, both called by the group-commit thread) and runs
 * them through
 * tg_pipeline_process_batch(), up to TG_SERVE_WORKER_BATCH at a time: one
 * SQLite transaction per batch.  Every TG_SERVE_WORKER_RESCAN_S seconds it
 * also rescans queue/, which retries entries a temporary failure left
 * there (and picks up entries written by `deliver`).
 *
 * Failure: a temporary pipeline failure leaves the entries queued for the
 * next rescan (journaled ones are written out to queue/ first; if even
 * that fails they are kept in memory and tried again at each rescan, and
 * the journal keeps them until then); nothing is dropped.  tg_serve_worker_free() processes what
 * is queued one last time and joins the thread.
 *
 * Ownership: CFG is borrowed and must outlive the worker or the next
 * tg_serve_worker_reload().
 */
#ifndef TG_SERVE_WORKER_H
#define TG_SERVE_WORKER_H

#include "gateway/config.h"
#include "spool/journal.h"

#include <glib.h>

#define TG_SERVE_WORKER_BATCH 256
#define TG_SERVE_WORKER_MEMORY_MAX (64u << 20)
/* The worker's thread runs under SCHED_IDLE: on the cores' idle time,
 * preempted at once by anything that wakes up.  Ticketing is background
 * work; the SMTP dialogue and the group commit are what senders wait on,
 * and a worker batch (128 messages, ~10 ms of CPU) at equal weight
 * stretched every round trip of every session on a 2-core machine
 * (smtp-source, 20 sessions, interleaved runs: nice 0 4,144-4,913 msg/s
 * accepted; nice 10 4,680-5,520; SCHED_IDLE 4,829-6,450, median 6,059,
 * and ticketed end to end 4,541-5,155 -> 4,675-5,594).  It is not
 * starved for good: CFS still gives an idle-class thread a sliver (weight
 * 3 against 1,024) when something else takes both cores, and a backlog
 * past TG_SERVE_WORKER_MEMORY_MAX goes to files and slows the commit.
 * Where SCHED_IDLE is refused, nice TG_SERVE_WORKER_NICE. */
#define TG_SERVE_WORKER_NICE 10
#define TG_SERVE_WORKER_RESCAN_S 2
/* A batch that has begun waits up to GATHER_US for GATHER_MIN entries:
 * fewer, bigger transactions, each ending in a WAL fsync and rewriting
 * the index pages it touched.  5 ms and 32 took the worker from 238 to
 * 193 µs of CPU per message; 20 ms and 128 to ~130 µs at 3,400 msg/s
 * (50 ms and 256 gained nothing more).  Its sender has its 250 already;
 * a lone message is ticketed 20 ms later. */
#define TG_SERVE_WORKER_GATHER_US 20000
#define TG_SERVE_WORKER_GATHER_MIN 128

typedef struct TgServeWorker TgServeWorker;

/* Opens the pipeline and starts the thread.  (transfer full) */
TgServeWorker *tg_serve_worker_new(const TgConfig *cfg, GError **error);
/* ID is durable in queue/.  Thread-safe. */
void tg_serve_worker_notify(TgServeWorker *w, const char *id);
/* ENTRIES (TgSpoolEntry*, taken: the array is left empty) are durable in
 * the journal and each holds one reference on SEGMENT, which the worker
 * releases once the entry is ticketed, quarantined or written out to
 * queue/.  While the entries waiting in memory pass
 * TG_SERVE_WORKER_MEMORY_MAX bytes (the worker falls behind a flood),
 * new ones are written out to queue/ at once, on the caller's thread:
 * memory stays bounded, and the slower commit slows the senders down.
 * Call from one thread at a time. */
void tg_serve_worker_take(TgServeWorker *w, GPtrArray *entries,
                          TgJournalSegment *segment);
/* Reopens the pipeline with CFG before the next batch.  Thread-safe. */
void tg_serve_worker_reload(TgServeWorker *w, const TgConfig *cfg);
void tg_serve_worker_free(TgServeWorker *w);

#endif
