/* imap_poller.c - per-account threads with IDLE and backoff (imap_poller.h).
 *
 * Stopping: a pipe whose read end every thread polls while it waits; stop
 * writes one byte (never drained, so all threads see it) and sets a flag
 * that passes check between fetch groups.
 */
#include "gateway/imap_poller.h"
#include "gateway/imap_conn.h"
#include "gateway/imap_poll.h"
#include "gateway/log.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#define BACKOFF_MAX 300
#define IDLE_MAX (25 * 60)

struct TgImapPoller {
  const TgConfig *cfg;
  int stop_pipe[2];
  gint stop;
  GPtrArray *threads; /* GThread* */
};

typedef struct {
  TgImapPoller *poller;
  const TgImapAccount *account;
} Worker;

/* Waits up to SECONDS or until FD (when >= 0) is readable.  Returns 1 when
 * FD is readable, 0 on timeout, -1 when told to stop. */
static int wait_for(TgImapPoller *p, int fd, guint seconds) {
  gint64 deadline = g_get_monotonic_time() + (gint64)seconds * G_USEC_PER_SEC;
  for (;;) {
    if (g_atomic_int_get(&p->stop))
      return -1;
    gint64 left = deadline - g_get_monotonic_time();
    if (left <= 0)
      return 0;
    struct pollfd fds[2] = {{p->stop_pipe[0], POLLIN, 0}, {fd, POLLIN, 0}};
    int n = poll(fds, fd >= 0 ? 2 : 1, (int)MIN(left / 1000 + 1, 60000));
    if (n < 0 && errno != EINTR)
      return -1;
    if (n > 0 && fds[0].revents)
      return -1;
    if (n > 0 && fd >= 0 && fds[1].revents)
      return 1;
  }
}

/* IDLE on the first folder until the server says something, the
 * interval ends or we are stopped.  FALSE: the connection is unusable. */
static gboolean idle_wait(TgImapPoller *p, TgImapConn *c, guint seconds,
                          GError **error) {
  const TgImapAccount *a = tg_imap_conn_account(c);
  mailimap *s = tg_imap_conn_session(c);
  int rc;
  if (a->folders[0] && a->folders[1] && (rc = mailimap_select(s, a->folders[0])) != MAILIMAP_NO_ERROR)
    return tg_imap_conn_fail(c, rc, "SELECT", error);
  if ((rc = mailimap_idle(s)) != MAILIMAP_NO_ERROR)
    return tg_imap_conn_fail(c, rc, "IDLE", error);
  tg_debug("imap=%s idling on %s for up to %us", a->name, a->folders[0], seconds);
  /* An untagged answer may already sit in libetpan's buffer. */
  int got = s->imap_stream->read_buffer_len > 0
                ? 1
                : wait_for(p, mailimap_idle_get_fd(s), seconds);
  tg_debug("imap=%s idle ended: %s", a->name,
           got > 0 ? "server spoke" : got == 0 ? "interval" : "stop");
  if ((rc = mailimap_idle_done(s)) != MAILIMAP_NO_ERROR)
    return tg_imap_conn_fail(c, rc, "IDLE DONE", error);
  return TRUE;
}

static gpointer worker_main(gpointer data) {
  Worker *w = data;
  TgImapPoller *p = w->poller;
  const TgImapAccount *a = w->account;
  const TgConfig *cfg = p->cfg;
  guint interval = a->poll_interval ? a->poll_interval : 60;
  guint backoff = 1;
  g_autoptr(TgSpool) spool = NULL;
  g_autoptr(TgStore) store = NULL;
  g_autoptr(TgImapConn) conn = NULL;
  while (!g_atomic_int_get(&p->stop)) {
    g_autoptr(GError) err = NULL;
    if (!spool && (spool = tg_spool_open(cfg->spool_dir, &err))) {
      tg_spool_set_max_message(spool, cfg->message_size);
      tg_spool_set_min_free(spool, cfg->spool_min_free);
    }
    if (spool && !store)
      store = tg_store_open(cfg->db_path, cfg->busy_timeout_ms, &err);
    if (spool && store && !conn)
      conn = tg_imap_conn_open(a, &err);
    if (conn) {
      TgImapPoll poll_ctx = {.spool = spool, .store = store,
                             .max_message = cfg->message_size, .stop = &p->stop};
      TgImapPollStats stats = {0};
      if (tg_imap_poll_account(&poll_ctx, conn, &stats, &err)) {
        backoff = 1;
        if (g_atomic_int_get(&p->stop))
          break;
        if (a->folders && a->folders[0] && tg_imap_conn_has_cap_ok(conn, "IDLE")) {
          if (idle_wait(p, conn, MIN(interval, IDLE_MAX), &err))
            continue;
        } else if (wait_for(p, -1, interval) < 0) {
          break;
        } else {
          continue;
        }
      }
    }
    /* Something failed: say what, drop a broken connection, back off. */
    tg_err("%s; retrying in %us", err ? err->message : "imap: unknown failure", backoff);
    if (conn && tg_imap_conn_broken_ok(conn))
      g_clear_pointer(&conn, tg_imap_conn_free);
    if (wait_for(p, -1, backoff) < 0)
      break;
    backoff = MIN(backoff * 2, BACKOFF_MAX);
  }
  g_free(w);
  return NULL;
}

TgImapPoller *tg_imap_poller_start(const TgConfig *cfg) {
  if (!cfg->imap || cfg->imap->len == 0)
    return NULL;
  TgImapPoller *p = g_new0(TgImapPoller, 1);
  p->cfg = cfg;
  if (pipe2(p->stop_pipe, O_CLOEXEC) != 0)
    g_error("pipe2 failed: %s", g_strerror(errno));
  p->threads = g_ptr_array_new();
  for (guint i = 0; i < cfg->imap->len; i++) {
    Worker *w = g_new0(Worker, 1);
    w->poller = p;
    w->account = g_ptr_array_index(cfg->imap, i);
    g_autofree char *name = g_strdup_printf("imap-%s", w->account->name);
    g_ptr_array_add(p->threads, g_thread_new(name, worker_main, w));
    tg_info("imap=%s polling %s:%u (%s)", w->account->name, w->account->host,
            w->account->port, w->account->tls);
  }
  return p;
}

void tg_imap_poller_stop(TgImapPoller *p) {
  if (!p)
    return;
  g_atomic_int_set(&p->stop, 1);
  if (write(p->stop_pipe[1], "x", 1) != 1)
    tg_warn("imap: write(stop pipe) failed: %s", g_strerror(errno));
  for (guint i = 0; i < p->threads->len; i++)
    g_thread_join(g_ptr_array_index(p->threads, i));
  g_ptr_array_unref(p->threads);
  close(p->stop_pipe[0]);
  close(p->stop_pipe[1]);
  g_free(p);
}
