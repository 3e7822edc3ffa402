/* serve_worker.c - spool-to-ticket worker thread (contract in
 * serve_worker.h).
 *
 * DIAGNOSTICS: the pipeline logs one line per entry (queue=, ticket=);
 * the worker logs failed batches and pipeline reopen failures.
 */
#include "gateway/serve_worker.h"
#include "gateway/log.h"
#include "gateway/pipeline.h"
#include "gateway/test_hooks.h"
#include "tickets/search_index.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <unistd.h>

struct TgServeWorker {
  TgPipeline *pipe;
  TgSpool *spool;      /* the commit thread's, for entries over the bound */
  _Atomic gsize held;  /* bytes of journaled entries waiting in memory */
  gsize memory_max;
  gboolean over;       /* commit thread only: logged that the bound is hit */
  GAsyncQueue *queue; /* Item*, or &stop_marker */
  GThread *thread;
  GMutex lock;
  const TgConfig *pending_cfg; /* under lock */
  GPtrArray *stranded; /* Item*: journaled entries neither ticketed nor
                          written out to queue/ yet; tried at each rescan */
};

/* One entry for the worker: a file of queue/ by its id, or an entry the
 * group commit made durable in the journal and passed on in memory. */
typedef struct {
  char *id;
  TgSpoolEntry *entry;
  TgJournalSegment *segment; /* the entry's reference on its segment */
  TgServeWorker *held_by;    /* whose memory bound the entry counts in */
} Item;

static int stop_marker;

static void item_free(Item *it) {
  if (it->entry && it->entry->raw)
    atomic_fetch_sub(&it->held_by->held, g_bytes_get_size(it->entry->raw));
  g_free(it->id);
  tg_spool_entry_free(it->entry);
  g_free(it);
}

/* Journaled entries the pipeline could not finish go to queue/ as files
 * of their own, where the rescan retries them like any other.  FALSE:
 * not even that; they stay in memory (and in the journal). */
static gboolean write_out(TgServeWorker *w, GPtrArray *items) {
  g_autofree TgSpoolEntry **entries = g_new(TgSpoolEntry *, items->len);
  for (guint i = 0; i < items->len; i++)
    entries[i] = ((Item *)g_ptr_array_index(items, i))->entry;
  g_autoptr(GError) err = NULL;
  if (tg_spool_restore_all(tg_pipeline_spool(w->pipe), entries, items->len, &err))
    return TRUE;
  tg_warn("%u journaled entries kept in memory for a retry: %s", items->len, err->message);
  return FALSE;
}

/* Processes ITEMS (taken) as one batch: one SQLite transaction. */
static void process_items(TgServeWorker *w, GPtrArray *items) {
  tg_test_hooks_hold("worker");
  TgSpool *spool = tg_pipeline_spool(w->pipe);
  g_autoptr(GPtrArray) read =
      g_ptr_array_new_with_free_func((GDestroyNotify)tg_spool_entry_free);
  g_autoptr(GPtrArray) batch = g_ptr_array_new();     /* TgSpoolEntry*, borrowed */
  g_autoptr(GPtrArray) journaled = g_ptr_array_new(); /* Item*, borrowed */
  for (guint i = 0; i < items->len; i++) {
    Item *it = g_ptr_array_index(items, i);
    if (it->entry) {
      g_ptr_array_add(batch, it->entry);
      g_ptr_array_add(journaled, it);
      continue;
    }
    g_autoptr(GError) err = NULL;
    TgSpoolEntry *e = tg_spool_read(spool, TG_SPOOL_QUEUE, it->id, TRUE, &err);
    if (e) {
      g_ptr_array_add(read, e);
      g_ptr_array_add(batch, e);
      continue;
    }
    if (g_error_matches(err, TG_SPOOL_ERROR, TG_SPOOL_ERROR_NOT_FOUND) ||
        g_error_matches(err, TG_SPOOL_ERROR, TG_SPOOL_ERROR_LOCKED))
      continue; /* done already, or someone else is on it */
    /* Corrupt or unreadable: let the single-entry path decide (it
     * quarantines a torn entry and leaves a temporary failure queued). */
    TgPipeResult r;
    g_autoptr(GError) perr = NULL;
    if (!tg_pipeline_process_id(w->pipe, it->id, &r, &perr))
      tg_warn("queue=%s left in the spool: %s", it->id, perr->message);
    tg_pipe_result_clear(&r);
  }
  gboolean done = TRUE;
  if (batch->len) {
    g_autofree TgPipeResult *results = g_new0(TgPipeResult, batch->len);
    g_autoptr(GError) err = NULL;
    done = tg_pipeline_process_batch(w->pipe, (TgSpoolEntry **)batch->pdata, batch->len,
                                     results, &err);
    if (!done)
      tg_warn("batch of %u entries left in the spool for a retry: %s", batch->len,
              err->message);
    for (guint i = 0; i < batch->len; i++)
      tg_pipe_result_clear(&results[i]);
  }
  if (!done && journaled->len)
    done = write_out(w, journaled);
  /* Ticketed, quarantined or written out: the journal may forget them. */
  for (guint i = 0; i < items->len; i++) {
    Item *it = g_ptr_array_index(items, i);
    if (it->entry && !done) {
      g_ptr_array_add(w->stranded, it);
      continue;
    }
    tg_journal_release(it->segment);
    item_free(it);
  }
  g_ptr_array_set_size(items, 0);
}

/* Processes ITEMS (taken) in batches of TG_SERVE_WORKER_BATCH. */
static void process_all(TgServeWorker *w, GPtrArray *items) {
  for (guint i = 0; i < items->len; i += TG_SERVE_WORKER_BATCH) {
    g_autoptr(GPtrArray) part = g_ptr_array_new();
    for (guint j = i; j < items->len && j < i + TG_SERVE_WORKER_BATCH; j++)
      g_ptr_array_add(part, g_ptr_array_index(items, j));
    process_items(w, part);
  }
  g_ptr_array_set_size(items, 0);
}

static Item *file_item(const char *id) {
  Item *it = g_new0(Item, 1);
  it->id = g_strdup(id);
  return it;
}

static void rescan(TgServeWorker *w) {
  if (w->stranded->len) {
    g_autoptr(GPtrArray) again = g_steal_pointer(&w->stranded);
    w->stranded = g_ptr_array_new();
    process_all(w, again);
  }
  g_autoptr(GError) err = NULL;
  g_autoptr(GPtrArray) ids = tg_spool_list(tg_pipeline_spool(w->pipe),
                                           TG_SPOOL_QUEUE, &err);
  if (!ids) {
    tg_err("spool list failed: %s", err->message);
    return;
  }
  g_autoptr(GPtrArray) items = g_ptr_array_new();
  for (guint i = 0; i < ids->len; i++)
    g_ptr_array_add(items, file_item(g_ptr_array_index(ids, i)));
  process_all(w, items);
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

/* Ticketing is background work (serve_worker.h): this thread runs when a
 * core would otherwise idle.  Where SCHED_IDLE is refused (a container's
 * seccomp policy), a high nice value comes close. */
static void lower_priority(void) {
  struct sched_param sp = {0};
  int rc = pthread_setschedparam(pthread_self(), SCHED_IDLE, &sp);
  if (rc == 0)
    return;
  if (setpriority(PRIO_PROCESS, (id_t)gettid(), TG_SERVE_WORKER_NICE) != 0)
    tg_warn("worker: neither SCHED_IDLE (%s) nor nice %d (%s): ticketing competes with "
            "the SMTP sessions at equal weight",
            g_strerror(rc), TG_SERVE_WORKER_NICE, g_strerror(errno));
}

static gpointer worker_thread(gpointer data) {
  TgServeWorker *w = data;
  lower_priority();
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
      g_autoptr(GPtrArray) ids = g_ptr_array_new();
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
      process_items(w, ids);
    }
    if (g_get_monotonic_time() - last_scan > TG_SERVE_WORKER_RESCAN_S * G_USEC_PER_SEC) {
      rescan(w);
      last_scan = g_get_monotonic_time();
    }
  }
  /* Drain before exit: what is queued (the journaled entries live only
   * here and in the journal), then queue/. */
  g_autoptr(GPtrArray) rest = g_ptr_array_new();
  gpointer next;
  while ((next = g_async_queue_try_pop(w->queue)))
    if (next != &stop_marker)
      g_ptr_array_add(rest, next);
  process_all(w, rest);
  rescan(w);
  /* Still not done: the journal keeps them for the next start. */
  for (guint i = 0; i < w->stranded->len; i++)
    item_free(g_ptr_array_index(w->stranded, i));
  g_ptr_array_set_size(w->stranded, 0);
  return NULL;
}

TgServeWorker *tg_serve_worker_new(const TgConfig *cfg, GError **error) {
  TgPipeline *p = tg_pipeline_open(cfg, error);
  if (!p)
    return NULL;
  TgSpool *spool = tg_spool_open(cfg->spool_dir, error);
  if (!spool) {
    tg_pipeline_free(p);
    return NULL;
  }
  TgServeWorker *w = g_new0(TgServeWorker, 1);
  w->pipe = p;
  w->spool = spool;
  w->memory_max = tg_test_hooks_size("WORKER_MEMORY", TG_SERVE_WORKER_MEMORY_MAX);
  w->queue = g_async_queue_new();
  w->stranded = g_ptr_array_new();
  g_mutex_init(&w->lock);
  w->thread = g_thread_new("tg-worker", worker_thread, w);
  return w;
}

void tg_serve_worker_notify(TgServeWorker *w, const char *id) {
  g_async_queue_push(w->queue, file_item(id));
}

/* Over the memory bound: ENTRIES go to queue/ as files (one syncfs for
 * all), the worker gets their ids, and the journal lets go of them.
 * FALSE: they could not be written; the caller keeps them in memory. */
static gboolean take_as_files(TgServeWorker *w, GPtrArray *entries,
                              TgJournalSegment *segment) {
  g_autoptr(GError) err = NULL;
  if (!tg_spool_restore_all(w->spool, (TgSpoolEntry **)entries->pdata, entries->len, &err)) {
    tg_warn("worker backlog: %u entries stay in memory: %s", entries->len, err->message);
    return FALSE;
  }
  for (guint i = 0; i < entries->len; i++) {
    TgSpoolEntry *e = g_ptr_array_index(entries, i);
    g_async_queue_push(w->queue, file_item(e->id));
    tg_journal_release(segment);
    tg_spool_entry_free(e);
  }
  return TRUE;
}

void tg_serve_worker_take(TgServeWorker *w, GPtrArray *entries,
                          TgJournalSegment *segment) {
  gsize bytes = 0;
  for (guint i = 0; i < entries->len; i++)
    bytes += g_bytes_get_size(((TgSpoolEntry *)g_ptr_array_index(entries, i))->raw);
  gboolean over = atomic_load(&w->held) + bytes > w->memory_max;
  if (over != w->over)
    tg_info(over ? "worker backlog over %" G_GSIZE_FORMAT " bytes: new entries go to "
                   "queue/ as files until it catches up"
                 : "worker backlog under %" G_GSIZE_FORMAT " bytes again: new entries "
                   "stay in memory",
            w->memory_max);
  w->over = over;
  if (over && take_as_files(w, entries, segment)) {
    g_ptr_array_set_size(entries, 0);
    return;
  }
  atomic_fetch_add(&w->held, bytes);
  for (guint i = 0; i < entries->len; i++) {
    Item *it = g_new0(Item, 1);
    it->entry = g_ptr_array_index(entries, i);
    it->segment = segment;
    it->held_by = w;
    g_async_queue_push(w->queue, it);
  }
  g_ptr_array_set_size(entries, 0);
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
  g_ptr_array_unref(w->stranded);
  g_mutex_clear(&w->lock);
  tg_pipeline_free(w->pipe);
  tg_spool_free(w->spool);
  g_free(w);
}
