/* sender.c - the outbound queue walker (contract in sender.h). */
#include "gateway/sender.h"
#include "gateway/log.h"
#include "gateway/outbox.h"
#include "gateway/net_module.h"
#include "gateway/smtp_send.h"
#include "tickets/clock.h"
#include "tickets/outbound.h"

#include <string.h>

#define SENDER_LEASE 600 /* seconds a claimed notice stays ours */
#define SENDER_BATCH 200

static char *read_password(const TgConfig *cfg, GError **error) {
  if (!cfg->smarthost_password_file || !cfg->smarthost_password_file[0])
    return g_strdup("");
  char *text = NULL;
  if (!g_file_get_contents(cfg->smarthost_password_file, &text, NULL, error))
    return NULL;
  g_strchomp(text);
  return text;
}

/* Delivers ITEM; FALSE with TG_SMTP_SEND_ERROR_TEMP/PERM or G_FILE_ERROR. */
static gboolean deliver(const TgConfig *cfg, const TgNetOps *net, const TgSmtpTarget *target,
                        const TgOutboundItem *item, char **how_r, GError **error) {
  if (!target) {
    g_autofree char *maildir = g_build_filename(cfg->data_dir, "outbox", NULL);
    g_autofree char *path = NULL;
    if (!tg_outbox_deliver(maildir, item->id, item->envelope_sender, item->recipient,
                           item->message, &path, error))
      return FALSE;
    *how_r = g_strdup_printf("outbox %s", path);
    return TRUE;
  }
  g_autofree char *reply = NULL;
  if (!net->smtp_send(target, item->envelope_sender, item->recipient, item->message, &reply,
                    error))
    return FALSE;
  *how_r = g_strdup_printf("smarthost %s:%u: %s", target->host, target->port, reply);
  return TRUE;
}

gboolean tg_sender_flush(const TgConfig *cfg, TgStore *store, TgSenderStats *stats,
                         GError **error) {
  TgSenderStats local = {0};
  if (!stats)
    stats = &local;
  memset(stats, 0, sizeof *stats);
  g_autofree char *host = NULL;
  g_autofree char *password = NULL;
  TgSmtpTarget target = {0};
  gboolean smarthost = cfg->smarthost && cfg->smarthost[0];
  g_autoptr(GError) cfg_err = NULL;
  const TgNetOps *net = NULL;
  if (smarthost) {
    if (!tg_smtp_send_target_parse(cfg->smarthost, &host, &target.port, &cfg_err) ||
        !(net = tg_net(&cfg_err)) ||
        !(password = read_password(cfg, &cfg_err))) {
      /* Nothing can be sent; nothing is lost either: the notices wait. */
      tg_err("outbound: %s", cfg_err->message);
      g_propagate_error(error, g_steal_pointer(&cfg_err));
      return FALSE;
    }
    target.host = host;
    target.tls = cfg->smarthost_tls;
    target.user = cfg->smarthost_user;
    target.password = password;
    target.timeout = 60;
    target.tls_verify = cfg->smarthost_tls_verify;
    target.ca_file = cfg->smarthost_ca_file;
  }
  for (guint round = 0; round < 50; round++) {
    gint64 now = tg_clock_now();
    g_autoptr(GArray) ids = tg_outbound_due(store, now, SENDER_BATCH, error);
    if (!ids)
      return FALSE;
    if (ids->len == 0)
      break;
    for (guint i = 0; i < ids->len; i++) {
      TgOutboundItem item;
      int c = tg_outbound_claim(store, g_array_index(ids, gint64, i), now, SENDER_LEASE,
                                &item, error);
      if (c < 0)
        return FALSE;
      if (c == 0)
        continue;
      g_autoptr(GError) serr = NULL;
      g_autofree char *how = NULL;
      gboolean ok = deliver(cfg, net, smarthost ? &target : NULL, &item, &how, &serr);
      gint64 done = tg_clock_now();
      gboolean stored;
      if (ok) {
        tg_info("outbound=%" G_GINT64_FORMAT " ticket=%" G_GINT64_FORMAT
                " to=<%s> kind=%s sent: %s", item.id, item.ticket_id, item.recipient,
                item.kind, how);
        stored = tg_outbound_mark_sent(store, &item, done, how, error);
        stats->sent++;
      } else if (g_error_matches(serr, TG_SMTP_SEND_ERROR, TG_SMTP_SEND_ERROR_PERM)) {
        tg_warn("outbound=%" G_GINT64_FORMAT " ticket=%" G_GINT64_FORMAT
                " to=<%s> failed: %s", item.id, item.ticket_id, item.recipient,
                serr->message);
        stored = tg_outbound_mark_failed(store, &item, done, serr->message, error);
        stats->failed++;
      } else {
        gboolean gave_up = FALSE;
        stored = tg_outbound_mark_deferred(store, &item, done, cfg->outbound_max_age,
                                           serr->message, &gave_up, error);
        tg_warn("outbound=%" G_GINT64_FORMAT " ticket=%" G_GINT64_FORMAT
                " to=<%s> %s: %s", item.id, item.ticket_id, item.recipient,
                gave_up ? "failed (max_age reached)" : "deferred", serr->message);
        if (gave_up)
          stats->failed++;
        else
          stats->deferred++;
      }
      tg_outbound_item_clear(&item);
      if (!stored)
        return FALSE;
    }
  }
  return TRUE;
}

/* ------------------------------------------------------ background */

struct TgSender {
  const TgConfig *cfg;
  TgStore *store;
  guint interval;
  GThread *thread;
  GMutex lock;
  GCond cond;
  gboolean stop;
  gboolean woken;
};

static gpointer sender_main(gpointer data) {
  TgSender *s = data;
  for (;;) {
    g_autoptr(GError) err = NULL;
    TgSenderStats st;
    if (!tg_sender_flush(s->cfg, s->store, &st, &err))
      tg_warn("outbound: pass stopped: %s", err->message);
    g_mutex_lock(&s->lock);
    gint64 until = g_get_monotonic_time() + (gint64)s->interval * G_TIME_SPAN_SECOND;
    while (!s->stop && !s->woken)
      if (!g_cond_wait_until(&s->cond, &s->lock, until))
        break;
    gboolean stop = s->stop;
    s->woken = FALSE;
    g_mutex_unlock(&s->lock);
    if (stop)
      break;
  }
  return NULL;
}

TgSender *tg_sender_start(const TgConfig *cfg, guint interval, GError **error) {
  TgStore *store = tg_store_open(cfg->db_path, cfg->busy_timeout_ms, error);
  if (!store)
    return NULL;
  TgSender *s = g_new0(TgSender, 1);
  s->cfg = cfg;
  s->store = store;
  s->interval = interval ? interval : 5;
  g_mutex_init(&s->lock);
  g_cond_init(&s->cond);
  s->thread = g_thread_new("sender", sender_main, s);
  return s;
}

void tg_sender_wake(TgSender *s) {
  g_mutex_lock(&s->lock);
  s->woken = TRUE;
  g_cond_signal(&s->cond);
  g_mutex_unlock(&s->lock);
}

void tg_sender_stop(TgSender *s) {
  if (!s)
    return;
  g_mutex_lock(&s->lock);
  s->stop = TRUE;
  g_cond_signal(&s->cond);
  g_mutex_unlock(&s->lock);
  g_thread_join(s->thread);
  tg_store_free(s->store);
  g_mutex_clear(&s->lock);
  g_cond_clear(&s->cond);
  g_free(s);
}
