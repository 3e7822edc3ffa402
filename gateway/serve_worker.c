/* serve_worker.c - spool-to-ticket worker thread (contract in
 * serve_worker.h).
 *
 * DIAGNOSTICS: the pipeline logs one line per entry (queue=, ticket=);
 * the worker logs failed batches and pipeline reopen failures.
 */
#include "gateway/serve_worker.h"
#include "gateway/log.h"
#include "gateway/pipeline.h"
#include "tickets/search_index.h"

struct TgServeWorker {
  TgPipeline *pipe;
  GAsyncQueue *queue; /* char* ids, or &stop_marker */
  GThread *thread;
  GMutex lock;
  const TgConfig *pending_cfg; /* under lock */
};

static int stop_marker;

static void process_ids(TgServeWorker *w, GPtrArray *ids) {
  TgSpool *spool = tg_pipeline_spool(w->pipe);
  g_autoptr(GPtrArray) entries =
      g_ptr_array_new_with_free_func((GDestroyNotify)tg_spool_entry_free);
  for (guint i = 0; i < ids->len; i++) {
    const char *id = g_ptr_array_index(ids, i);
    g_autoptr(GError) err = NULL;
    TgSpoolEntry *e = tg_spool_read(spool, TG_SPOOL_QUEUE, id, TRUE, &err);
    if (e) {
      g_ptr_array_add(entries, e);
      continue;
    }
    if (g_error_matches(err, TG_SPOOL_ERROR, TG_SPOOL_ERROR_NOT_FOUND) ||
        g_error_matches(err, TG_SPOOL_ERROR, TG_SPOOL_ERROR_LOCKED))
      continue; /* done already, or someone else is on it */
    /* Corrupt or unreadable: let the single-entry path decide (it
     * quarantines a torn entry and leaves a temporary failure queued). */
    TgPipeResult r;
    g_autoptr(GError) perr = NULL;
    if (!tg_pipeline_process_id(w->pipe, id, &r, &perr))
      tg_warn("queue=%s left in the spool: %s", id, perr->message);
    tg_pipe_result_clear(&r);
  }
  if (entries->len == 0)
    return;
  g_autofree TgPipeResult *results = g_new0(TgPipeResult, entries->len);
  g_autoptr(GError) err = NULL;
  if (!tg_pipeline_process_batch(w->pipe, (TgSpoolEntry **)entries->pdata,
                                 entries->len, results, &err))
    tg_warn("batch of %u entries left in the spool for a retry: %s",
            entries->len, err->message);
  for (guint i = 0; i < entries->len; i++)
    tg_pipe_result_clear(&results[i]);
}

static void rescan(TgServeWorker *w) {
  g_autoptr(GError) err = NULL;
  g_autoptr(GPtrArray) ids = tg_spool_list(tg_pipeline_spool(w->pipe),
                                           TG_SPOOL_QUEUE, &err);
  if (!ids) {
    tg_err("spool list failed: %s", err->message);
    return;
  }
  for (guint i = 0; i < ids->len; i += TG_SERVE_WORKER_BATCH) {
    g_autoptr(GPtrArray) part = g_ptr_array_new();
    for (guint j = i; j < ids->len && j < i + TG_SERVE_WORKER_BATCH; j++)
      g_ptr_array_add(part, g_ptr_array_index(ids, j));
    process_ids(w, part);
  }
}

static void maybe_reload(TgServeWorker *w) {
  g_mutex_lock(&w->lock);
  const TgConfig *cfg = w->pending_cfg;
  w->pending_cfg = NULL;
  g_mutex_unlock(&w->lock);
  if (!cfg)
    return;
  g_autoptr(GError) err = NULL;
  TgPipeline *p = tg_pipeline_open(cfg, &err);
  if (!p) {
    tg_err("reload: pipeline not reopened, keeping the old one: %s", err->message);
    return;
  }
  tg_pipeline_free(w->pipe);
  w->pipe = p;
}

/* The next id for a batch that has HAVE: at once if one is queued, and
 * while the batch is small, waiting until UNTIL for one.  NULL: none. */
static gpointer gather_next(TgServeWorker *w, guint have, gint64 until) {
  gpointer next = g_async_queue_try_pop(w->queue);
  if (next || have >= TG_SERVE_WORKER_GATHER_MIN)
    return next;
  gint64 left = until - g_get_monotonic_time();
  return left > 0 ? g_async_queue_timeout_pop(w->queue, (guint64)left) : NULL;
}

static gpointer worker_thread(gpointer data) {
  TgServeWorker *w = data;
  rescan(w); /* what a previous run left */
  gint64 last_scan = g_get_monotonic_time();
  gboolean stop = FALSE;
  while (!stop) {
    gpointer first = g_async_queue_timeout_pop(w->queue, G_USEC_PER_SEC);
    maybe_reload(w);
    if (first == &stop_marker)
      break;
    if (!first) {
      /* Idle: bring the search index up to date, a slice at a time. */
      g_autoptr(GError) ierr = NULL;
      if (!tg_search_index_catch_up(tg_pipeline_store(w->pipe), 2000, NULL, &ierr))
        tg_warn("search index: %s", ierr->message);
    }
    if (first) {
      g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func(g_free);
      g_ptr_array_add(ids, first);
      gpointer next;
      /* Under load, wait a moment for a bigger batch: each transaction
       * ends in a WAL fsync, the worker's biggest cost per message when
       * batches are a handful.  The senders have their 250 already. */
      gint64 until = g_get_monotonic_time() + TG_SERVE_WORKER_GATHER_US;
      while (ids->len < TG_SERVE_WORKER_BATCH &&
             (next = gather_next(w, ids->len, until))) {
        if (next == &stop_marker) {
          stop = TRUE;
          break;
        }
        g_ptr_array_add(ids, next);
      }
      process_ids(w, ids);
    }
    if (g_get_monotonic_time() - last_scan > TG_SERVE_WORKER_RESCAN_S * G_USEC_PER_SEC) {
      rescan(w);
      last_scan = g_get_monotonic_time();
    }
  }
  gpointer rest;
  while ((rest = g_async_queue_try_pop(w->queue)))
    if (rest != &stop_marker)
      g_free(rest);
  rescan(w); /* drain before exit */
  return NULL;
}

TgServeWorker *tg_serve_worker_new(const TgConfig *cfg, GError **error) {
  TgPipeline *p = tg_pipeline_open(cfg, error);
  if (!p)
    return NULL;
  TgServeWorker *w = g_new0(TgServeWorker, 1);
  w->pipe = p;
  w->queue = g_async_queue_new();
  g_mutex_init(&w->lock);
  w->thread = g_thread_new("tg-worker", worker_thread, w);
  return w;
}

void tg_serve_worker_notify(TgServeWorker *w, const char *id) {
  g_async_queue_push(w->queue, g_strdup(id));
}

void tg_serve_worker_reload(TgServeWorker *w, const TgConfig *cfg) {
  g_mutex_lock(&w->lock);
  w->pending_cfg = cfg;
  g_mutex_unlock(&w->lock);
}

void tg_serve_worker_free(TgServeWorker *w) {
  if (!w)
    return;
  g_async_queue_push(w->queue, &stop_marker);
  g_thread_join(w->thread);
  g_async_queue_unref(w->queue);
  g_mutex_clear(&w->lock);
  tg_pipeline_free(w->pipe);
  g_free(w);
}
