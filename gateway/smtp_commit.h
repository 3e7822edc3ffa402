/* smtp_commit.h - group commit of spool entries for the SMTP/LMTP
 * listener, on a thread of its own.
 *
 * A session that received a whole message submits it here, either still
 * in memory (tg_smtp_commit_submit_entry: the entry with RAW set, the
 * usual case) or, when it outgrew memory, as a file closed in tmp/ with
 * TG_SPOOL_COMMIT_DEFER (tg_smtp_commit_submit).  The flush thread takes
 * every submission that is waiting (at most TG_SMTP_COMMIT_MAX_BATCH)
 * and makes the whole batch
 * durable at once: the entries in memory with one tg_journal_append()
 * (one write, one fdatasync), the files with one tg_spool_commit_batch()
 * (one syncfs(), the renames into queue/, one fsync of queue/).  While
 * that runs, new submissions queue up for the next batch, so under load
 * the batch grows by itself.  The thread also waits up to
 * TG_SMTP_COMMIT_WINDOW_US from the first submission for more: an
 * fdatasync costs ~100 µs of CPU whatever it covers, and under load
 * batches of 3 became 8 (CPU per message 42 -> 22 µs on this thread;
 * smtp-source, 20 sessions, 5,133 -> 6,281 msg/s, mean of 3 interleaved
 * runs; 150 µs: 6,027, 800 µs: 5,546, 1.5 ms: 5,105).  Waiting only
 * while other sessions were in DATA gathered less and gained nothing
 * (5,430 against 5,781 over 3 runs).  A lone message's 250 comes 0.4 ms
 * later: nothing to an SMTP client.
 *
 * Only then is each submitter's DONE callback run, on the GMainContext
 * given to tg_smtp_commit_new(), with TG_SMTP_OK (answer 250) or the
 * error (answer 451/452): the durability contract of DESIGN.md, step 1.
 * After a successful batch NOTIFY is called on the flush thread with the
 * ids now in queue/ and the journaled entries (serve hands both to its
 * pipeline worker).
 *
 * A failed batch: files not yet renamed are deleted from tmp/; a file
 * already renamed stays queued and may be delivered although its client
 * got 4xx (delivered twice rather than lost, STYLE rule 10).  A failed
 * journal append leaves nothing that recovery would ticket.
 *
 * Ownership: submit takes the id or the entry; DATA is the caller's and
 * passed back to DONE exactly once, also when the commit is freed.  NOTIFY
 * takes the entries (and one reference on SEGMENT for each, to release
 * with tg_journal_release() once the entry is ticketed or written out to
 * queue/); IDS are borrowed.  tg_smtp_commit_free() finishes what was
 * submitted (DONE callbacks are queued on the context; run the context
 * afterwards if they must be delivered) and joins the thread.
 */
#ifndef TG_SMTP_COMMIT_H
#define TG_SMTP_COMMIT_H

#include "gateway/smtp_error.h"
#include "spool/journal.h"

#include <glib.h>

#define TG_SMTP_COMMIT_MAX_BATCH 512
#define TG_SMTP_COMMIT_WINDOW_US 400

typedef struct TgSmtpCommit TgSmtpCommit;

typedef void (*TgSmtpCommitDone)(gpointer data, TgSmtpError err,
                                 const char *queue_id);
typedef void (*TgSmtpCommitNotify)(gpointer data, GPtrArray *ids, GPtrArray *entries,
                                   TgJournalSegment *segment);

/* Opens the spool at SPOOL_DIR for the flush thread and starts it.
 * JOURNAL (borrowed, must outlive the commit) takes the entries kept in
 * memory.
 * (transfer full) */
TgSmtpCommit *tg_smtp_commit_new(const char *spool_dir, TgJournal *journal,
                                 GMainContext *ctx,
                                 TgSmtpCommitNotify notify,
                                 gpointer notify_data, GError **error);
/* Queues ID (transfer full) for the next batch.  Thread-safe. */
void tg_smtp_commit_submit(TgSmtpCommit *c, char *id, TgSmtpCommitDone done,
                           gpointer data);
/* Queues ENTRY (transfer full; RAW set) for the next batch.  Thread-safe. */
void tg_smtp_commit_submit_entry(TgSmtpCommit *c, TgSpoolEntry *entry,
                                 TgSmtpCommitDone done, gpointer data);
/* Batches and entries committed so far (for logs and the benchmark). */
void tg_smtp_commit_stats(TgSmtpCommit *c, guint64 *batches_r,
                          guint64 *entries_r);
void tg_smtp_commit_free(TgSmtpCommit *c);

#endif
