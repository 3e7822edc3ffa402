/* smtp_commit.h - group commit of spool entries for the SMTP/LMTP
 * listener, on a thread of its own.
 *
 * A session that received a whole message closes its spool writer with
 * TG_SPOOL_COMMIT_DEFER (data written, not yet synced) and submits the
 * id here.  The flush thread takes every submitted id that is waiting,
 * waits up to TG_SMTP_COMMIT_WINDOW_US for more (at most
 * TG_SMTP_COMMIT_MAX_BATCH), and makes the whole batch durable with one
 * tg_spool_commit_batch(): one syncfs(), the renames into queue/, one
 * fsync of queue/.  While that runs, new submissions queue up for the
 * next batch, so under load the batch grows by itself.
 *
 * Only then is each submitter's DONE callback run, on the GMainContext
 * given to tg_smtp_commit_new(), with TG_SMTP_OK (answer 250) or the
 * error (answer 451/452): the durability contract of DESIGN.md, step 1.
 * After a successful batch NOTIFY is called on the flush thread with the
 * ids now in queue/ (serve hands them to its pipeline worker).
 *
 * A failed batch: entries not yet renamed are deleted from tmp/; an entry
 * already renamed stays queued and may be delivered although its client
 * got 4xx (delivered twice rather than lost, STYLE rule 10).
 *
 * Ownership: submit takes the id; DATA is the caller's and passed back to
 * DONE exactly once, also when the commit is freed.  tg_smtp_commit_free()
 * finishes what was submitted (DONE callbacks are queued on the context;
 * run the context afterwards if they must be delivered) and joins the
 * thread.
 */
#ifndef TG_SMTP_COMMIT_H
#define TG_SMTP_COMMIT_H

#include "gateway/smtp_error.h"

#include <glib.h>

#define TG_SMTP_COMMIT_WINDOW_US 500
#define TG_SMTP_COMMIT_MAX_BATCH 512

typedef struct TgSmtpCommit TgSmtpCommit;

typedef void (*TgSmtpCommitDone)(gpointer data, TgSmtpError err,
                                 const char *queue_id);
typedef void (*TgSmtpCommitNotify)(gpointer data, GPtrArray *ids);

/* Opens the spool at SPOOL_DIR for the flush thread and starts it.
 * (transfer full) */
TgSmtpCommit *tg_smtp_commit_new(const char *spool_dir, GMainContext *ctx,
                                 TgSmtpCommitNotify notify,
                                 gpointer notify_data, GError **error);
/* Queues ID (transfer full) for the next batch.  Thread-safe. */
void tg_smtp_commit_submit(TgSmtpCommit *c, char *id, TgSmtpCommitDone done,
                           gpointer data);
/* Batches and entries committed so far (for logs and the benchmark). */
void tg_smtp_commit_stats(TgSmtpCommit *c, guint64 *batches_r,
                          guint64 *entries_r);
void tg_smtp_commit_free(TgSmtpCommit *c);

#endif
