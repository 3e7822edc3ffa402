/* serve_tick.c - the escalation timer thread of serve (serve_tick.h). */
#include "gateway/serve_tick.h"
#include "gateway/log.h"
#include "gateway/pipeline.h"
#include "tickets/clock.h"
#include "tickets/tick.h"

struct TgServeTick {
  TgPipeline *pipe;
  guint interval;
  GThread *thread;
  GMutex lock;
  GCond cond;
  gboolean stop;
};

static gpointer tick_main(gpointer data) {
  TgServeTick *t = data;
  g_mutex_lock(&t->lock);
  while (!t->stop) {
    g_mutex_unlock(&t->lock);
    TgTickStats st;
    g_autoptr(GError) err = NULL;
    if (!tg_tick_run(tg_pipeline_escalation(t->pipe), tg_pipeline_store(t->pipe),
                     tg_clock_now(), 100, &st, &err))
      tg_warn("tick: %s (retried in %u s)", err->message, t->interval);
    else if (st.tickets)
      tg_info("tick: %u due, escalated %u, warned %u, informed %u", st.tickets,
              st.escalated, st.warned, st.informed);
    g_mutex_lock(&t->lock);
    gint64 until = g_get_monotonic_time() + (gint64)t->interval * G_USEC_PER_SEC;
    while (!t->stop && g_cond_wait_until(&t->cond, &t->lock, until))
      ;
  }
  g_mutex_unlock(&t->lock);
  return NULL;
}

TgServeTick *tg_serve_tick_start(const TgConfig *cfg, guint interval, GError **error) {
  TgPipeline *pipe = tg_pipeline_open(cfg, error);
  if (!pipe)
    return NULL;
  TgServeTick *t = g_new0(TgServeTick, 1);
  t->pipe = pipe;
  t->interval = interval ? interval : 30;
  g_mutex_init(&t->lock);
  g_cond_init(&t->cond);
  t->thread = g_thread_new("tick", tick_main, t);
  return t;
}

void tg_serve_tick_stop(TgServeTick *t) {
  if (!t)
    return;
  g_mutex_lock(&t->lock);
  t->stop = TRUE;
  g_cond_signal(&t->cond);
  g_mutex_unlock(&t->lock);
  g_thread_join(t->thread);
  tg_pipeline_free(t->pipe);
  g_mutex_clear(&t->lock);
  g_cond_clear(&t->cond);
  g_free(t);
}
