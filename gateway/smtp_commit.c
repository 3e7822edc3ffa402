/* smtp_commit.c - group commit thread (contract in smtp_commit.h).
 *
 * DIAGNOSTICS: a failed batch is logged once with the spool's message
 * ("syncfs(DIR) failed: ..."); each affected session then logs its 4xx.
 */
#include "gateway/smtp_commit.h"
#include "gateway/log.h"
#include "spool/journal.h"
#include "spool/spool.h"

#include <stdatomic.h>
#include <unistd.h>

typedef struct {
  char *id;
  TgSpoolEntry *entry; /* in memory, for the journal; NULL: a file in tmp/ */
  TgSmtpCommitDone done;
  gpointer data;
  TgSmtpError err;
} Request;

struct TgSmtpCommit {
  TgSpool *spool;
  TgJournal *journal; /* borrowed */
  GMainContext *ctx;
  TgSmtpCommitNotify notify;
  gpointer notify_data;
  GAsyncQueue *queue; /* Request*, or &stop_marker */
  GThread *thread;
  _Atomic guint64 batches, entries;
};

static int stop_marker;

typedef struct {
  GPtrArray *requests; /* Request* */
} Finished;

static void request_free(Request *r) {
  g_free(r->id);
  tg_spool_entry_free(r->entry);
  g_free(r);
}

/* On the main context: tell every submitter how it went. */
static gboolean deliver_results(gpointer data) {
  Finished *f = data;
  for (guint i = 0; i < f->requests->len; i++) {
    Request *r = g_ptr_array_index(f->requests, i);
    r->done(r->data, r->err, r->id);
  }
  return G_SOURCE_REMOVE;
}

static void finished_free(gpointer data) {
  Finished *f = data;
  g_ptr_array_unref(f->requests);
  g_free(f);
}

/* The batch's entries kept in memory, made durable in the journal with
 * one write and one fdatasync.  Fills ENTRIES (stolen from the requests)
 * and *SEGMENT_R on success; answers each request. */
static void commit_journal(TgSmtpCommit *c, GPtrArray *mem, GPtrArray *entries,
                           TgJournalSegment **segment_r) {
  g_autofree TgSpoolEntry **list = g_new(TgSpoolEntry *, mem->len);
  for (guint i = 0; i < mem->len; i++)
    list[i] = ((Request *)g_ptr_array_index(mem, i))->entry;
  g_autoptr(GError) err = NULL;
  gboolean ok = tg_journal_append(c->journal, list, mem->len, segment_r, &err);
  TgSmtpError code = ok ? TG_SMTP_OK : tg_smtp_error_from_gerror(err);
  if (!ok)
    tg_err("group commit: %u journal entries failed: %s", mem->len, err->message);
  for (guint i = 0; i < mem->len; i++) {
    Request *r = g_ptr_array_index(mem, i);
    r->err = code;
    if (ok)
      g_ptr_array_add(entries, g_steal_pointer(&r->entry));
  }
}

/* The batch's files in tmp/: one syncfs, the renames into queue/, one
 * directory fsync.  Fills IDS with the accepted; answers each request. */
static void commit_files(TgSmtpCommit *c, GPtrArray *files, GPtrArray *accepted) {
  g_autoptr(GPtrArray) ids = g_ptr_array_new();
  for (guint i = 0; i < files->len; i++)
    g_ptr_array_add(ids, ((Request *)g_ptr_array_index(files, i))->id);
  g_autoptr(GError) err = NULL;
  g_autoptr(GPtrArray) failed = g_ptr_array_new(); /* borrowed ids */
  TgSmtpError code = TG_SMTP_OK;
  if (!tg_spool_commit_batch(c->spool, ids, failed, &err)) {
    code = tg_smtp_error_from_gerror(err);
    tg_err("group commit: %u of %u spool entries failed: %s", failed->len, ids->len,
           err->message);
    for (guint i = 0; i < failed->len; i++) {
      g_autofree char *tmp = g_build_filename(tg_spool_dir(c->spool), "tmp",
                                              (char *)g_ptr_array_index(failed, i), NULL);
      unlink(tmp);
    }
  }
  /* Each session gets its own answer: the entries that reached queue/
   * are accepted even when others of the batch were not. */
  for (guint i = 0; i < files->len; i++) {
    Request *r = g_ptr_array_index(files, i);
    gboolean lost = FALSE;
    for (guint k = 0; k < failed->len && !lost; k++)
      lost = g_ptr_array_index(failed, k) == r->id;
    r->err = lost ? code : TG_SMTP_OK;
    if (!lost)
      g_ptr_array_add(accepted, r->id);
  }
}

static void commit_batch(TgSmtpCommit *c, GPtrArray *requests) {
  g_autoptr(GPtrArray) mem = g_ptr_array_new();
  g_autoptr(GPtrArray) files = g_ptr_array_new();
  for (guint i = 0; i < requests->len; i++) {
    Request *r = g_ptr_array_index(requests, i);
    g_ptr_array_add(r->entry ? mem : files, r);
  }
  g_autoptr(GPtrArray) entries = g_ptr_array_new();
  TgJournalSegment *segment = NULL;
  if (mem->len)
    commit_journal(c, mem, entries, &segment);
  g_autoptr(GPtrArray) accepted = g_ptr_array_new();
  if (files->len)
    commit_files(c, files, accepted);
  if (accepted->len || entries->len) {
    atomic_fetch_add(&c->batches, 1);
    atomic_fetch_add(&c->entries, accepted->len + entries->len);
  }
  if (c->notify && (accepted->len || entries->len))
    c->notify(c->notify_data, accepted, entries, segment);
  /* Not handed on: nobody else will release them. */
  for (guint i = 0; !c->notify && i < entries->len; i++) {
    tg_journal_release(segment);
    tg_spool_entry_free(g_ptr_array_index(entries, i));
  }
  Finished *f = g_new0(Finished, 1);
  f->requests = g_ptr_array_ref(requests);
  g_main_context_invoke_full(c->ctx, G_PRIORITY_HIGH, deliver_results, f,
                             finished_free);
}

/* The next submission for the batch: one that is waiting, or one that
 * comes before DEADLINE.  NULL: commit what there is. */
static gpointer gather_next(TgSmtpCommit *c, gint64 deadline) {
  gpointer next = g_async_queue_try_pop(c->queue);
  gint64 left = deadline - g_get_monotonic_time();
  if (!next && left > 0)
    next = g_async_queue_timeout_pop(c->queue, (guint64)left);
  return next;
}

static gpointer flush_thread(gpointer data) {
  TgSmtpCommit *c = data;
  gboolean stop = FALSE;
  while (!stop) {
    gpointer first = g_async_queue_pop(c->queue);
    if (first == &stop_marker)
      break;
    g_autoptr(GPtrArray) batch =
        g_ptr_array_new_with_free_func((GDestroyNotify)request_free);
    g_ptr_array_add(batch, first);
    gpointer next;
    gint64 deadline = g_get_monotonic_time() + TG_SMTP_COMMIT_WINDOW_US;
    while (batch->len < TG_SMTP_COMMIT_MAX_BATCH && (next = gather_next(c, deadline))) {
      if (next == &stop_marker) {
        stop = TRUE;
        break;
      }
      g_ptr_array_add(batch, next);
    }
    commit_batch(c, batch);
  }
  /* Anything submitted after the stop marker still gets an answer. */
  g_autoptr(GPtrArray) rest =
      g_ptr_array_new_with_free_func((GDestroyNotify)request_free);
  gpointer r;
  while ((r = g_async_queue_try_pop(c->queue)))
    if (r != &stop_marker)
      g_ptr_array_add(rest, r);
  if (rest->len)
    commit_batch(c, rest);
  return NULL;
}

TgSmtpCommit *tg_smtp_commit_new(const char *spool_dir, TgJournal *journal,
                                 GMainContext *ctx,
                                 TgSmtpCommitNotify notify,
                                 gpointer notify_data, GError **error) {
  TgSpool *spool = tg_spool_open(spool_dir, error);
  if (!spool)
    return NULL;
  TgSmtpCommit *c = g_new0(TgSmtpCommit, 1);
  c->spool = spool;
  c->journal = journal;
  c->ctx = ctx ? g_main_context_ref(ctx) : g_main_context_ref_thread_default();
  c->notify = notify;
  c->notify_data = notify_data;
  c->queue = g_async_queue_new();
  c->thread = g_thread_new("tg-commit", flush_thread, c);
  return c;
}

void tg_smtp_commit_submit(TgSmtpCommit *c, char *id, TgSmtpCommitDone done,
                           gpointer data) {
  Request *r = g_new0(Request, 1);
  r->id = id;
  r->done = done;
  r->data = data;
  g_async_queue_push(c->queue, r);
}

void tg_smtp_commit_submit_entry(TgSmtpCommit *c, TgSpoolEntry *entry,
                                 TgSmtpCommitDone done, gpointer data) {
  Request *r = g_new0(Request, 1);
  r->id = g_strdup(entry->id);
  r->entry = entry;
  r->done = done;
  r->data = data;
  g_async_queue_push(c->queue, r);
}

void tg_smtp_commit_stats(TgSmtpCommit *c, guint64 *batches_r,
                          guint64 *entries_r) {
  *batches_r = atomic_load(&c->batches);
  *entries_r = atomic_load(&c->entries);
}

void tg_smtp_commit_free(TgSmtpCommit *c) {
  if (!c)
    return;
  g_async_queue_push(c->queue, &stop_marker);
  g_thread_join(c->thread);
  g_async_queue_unref(c->queue);
  g_main_context_unref(c->ctx);
  tg_spool_free(c->spool);
  g_free(c);
}
