/* outbound_bench.c - acks composed and queued per second, through the store.
 *
 * Each iteration is what the ingest transaction does for a new ticket's ack
 * after the customer's message is stored: build the template data from the
 * ticket row (tg_notify_data_new), render `ack` (Japanese), compose it
 * (GMime, RFC 2047, quoted-printable, signed Message-ID) and queue it
 * (tg_outbound_queue: outbound row, blob by SHA-256, 'out' messages row,
 * FTS index) - with the RFC 3834 rate-limit query in front.  Figures:
 *   - one transaction per ack (synchronous=FULL commit each, as `deliver`)
 *   - 100 acks per transaction (group commit, as the SMTP listener's batches)
 * usage: outbound_bench [SECONDS per figure]   (a temporary database)
 */
#include "templates/template_builtin.h"
#include "tickets/clock.h"
#include "tickets/notify.h"
#include "tickets/store.h"

#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>

static gint64 add_ticket(TgStore *s, gint64 n) {
  g_autofree char *addr = g_strdup_printf("customer%" G_GINT64_FORMAT "@example.jp", n);
  gint64 now = tg_clock_now();
  if (!tg_store_exec(s,
                     "INSERT INTO tickets (subject, requester_name, requester_address, "
                     "language, created_at, updated_at) VALUES (?, ?, ?, 'ja', ?, ?)",
                     NULL, "sssii", "ログインできません", "山田 太郎", addr, now, now))
    g_error("insert ticket failed");
  gint64 id = tg_store_last_insert_id(s);
  g_autofree char *mid = g_strdup_printf("m%" G_GINT64_FORMAT "@example.jp", n);
  if (!tg_store_exec(s,
                     "INSERT INTO messages (ticket_id, direction, message_id, date, "
                     "from_name, from_address, subject, body, created_at) VALUES "
                     "(?, 'in', ?, ?, ?, ?, ?, ?, ?)",
                     NULL, "isissssi", id, mid, now, "山田 太郎", addr, "ログインできません",
                     "昨日からログインできません。\nパスワードを再設定しても同じエラーが出ます。\n"
                     "エラー: E401\n",
                     now))
    g_error("insert message failed");
  return id;
}

static void ack(const TgNotifyConfig *cfg, TgStore *s, gint64 n) {
  gint64 ticket = add_ticket(s, n);
  g_autofree char *addr = g_strdup_printf("customer%" G_GINT64_FORMAT "@example.jp", n);
  g_autoptr(GError) err = NULL;
  gint64 now = tg_clock_now();
  (void)tg_store_query_int(s,
                           "SELECT count(*) FROM outbound WHERE recipient = ? AND "
                           "auto_submitted = 1 AND created_at > ?",
                           0, NULL, "si", addr, now - 3600);
  TgNotice notice = {.ticket_id = ticket, .template_name = "ack", .kind = "ack",
                     .recipient = addr, .recipient_name = "山田 太郎",
                     .auto_submitted = TRUE};
  if (!tg_notify_queue(cfg, s, &notice, now, NULL, &err))
    g_error("queue: %s", err->message);
}

static double run(const TgNotifyConfig *cfg, TgStore *s, guint per_tx, double seconds,
                  gint64 *counter) {
  gint64 start = g_get_monotonic_time(), done = 0;
  while (g_get_monotonic_time() - start < (gint64)(seconds * G_USEC_PER_SEC)) {
    if (!tg_store_begin(s, NULL))
      g_error("begin");
    for (guint i = 0; i < per_tx; i++)
      ack(cfg, s, ++*counter);
    if (!tg_store_commit(s, NULL))
      g_error("commit");
    done += per_tx;
  }
  return done / ((g_get_monotonic_time() - start) / (double)G_USEC_PER_SEC);
}

int main(int argc, char **argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 3.0;
  g_autoptr(GError) err = NULL;
  g_autofree char *dir = g_dir_make_tmp("outbound-bench-XXXXXX", &err);
  g_autofree char *db = g_build_filename(dir, "bench.db", NULL);
  g_autoptr(TgStore) s = tg_store_open(db, 5000, &err);
  if (!s)
    g_error("%s", err->message);
  g_autoptr(TemplateSet) set = template_builtin_load("ja", &err);
  if (!set)
    g_error("%s", err->message);
  g_autoptr(GBytes) secret = g_bytes_new_static("0123456789abcdef0123456789abcdef", 32);
  char *support[] = {"support@example.com", NULL};
  TgNotifyConfig cfg = {
      .templates = set,
      .keys = {.secret = secret, .msgid_domain = "gw.example.com",
               .bounce_domain = "example.com"},
      .from_address = "support@example.com",
      .support_address = "support@example.com",
      .support_addresses = support,
      .tag_prefix = "Support",
      .url_base = "",
      .signature = "Example サポートデスク\nsupport@example.com",
      .default_language = "ja",
  };
  gint64 counter = 0;
  double one = run(&cfg, s, 1, seconds, &counter);
  double batch = run(&cfg, s, 100, seconds, &counter);
  printf("acks composed and queued, 1 per transaction:   %8.0f /s\n", one);
  printf("acks composed and queued, 100 per transaction: %8.0f /s\n", batch);
  g_clear_pointer(&s, tg_store_free);
  g_autofree char *wal = g_strconcat(db, "-wal", NULL);
  g_autofree char *shm = g_strconcat(db, "-shm", NULL);
  g_unlink(db);
  g_unlink(wal);
  g_unlink(shm);
  g_rmdir(dir);
  return 0;
}
