/* outbound.c - the outbound queue (contract in outbound.h). */
#include "tickets/outbound.h"
#include "tickets/sha256.h"
#include "tickets/audit.h"
#include "tickets/thread.h"
#include "templates/message_id.h"

#include <json-glib/json-glib.h>
#include <string.h>

char *tg_outbound_verp(gint64 outbound_id, const char *bounce_domain, GBytes *secret) {
  g_autofree char *token = tg_thread_token(secret, "bounce", outbound_id);
  return g_strdup_printf("bounces+%" G_GINT64_FORMAT "-%s@%s", outbound_id, token,
                         bounce_domain);
}

gint64 tg_outbound_parse_verp(const char *address, GBytes *secret, gboolean *forged_r) {
  if (forged_r)
    *forged_r = FALSE;
  if (!address || g_ascii_strncasecmp(address, "bounces+", 8) != 0)
    return 0;
  const char *p = address + 8;
  gint64 id = 0;
  int digits = 0;
  for (; g_ascii_isdigit(*p) && digits < 18; p++, digits++)
    id = id * 10 + (*p - '0');
  if (digits == 0 || address[8] == '0' || (*p != '@' && *p != '-'))
    return 0;
  /* From here on it is the shape of ours: right token or forged. */
  const char *at = strchr(p, '@');
  g_autofree char *got = NULL;
  if (*p == '-' && at && at - (p + 1) == 10)
    got = g_ascii_strdown(p + 1, 10);
  g_autofree char *want = tg_thread_token(secret, "bounce", id);
  if (!got || !tg_thread_equal_ct(want, got)) {
    if (forged_r)
      *forged_r = TRUE;
    return 0;
  }
  return id;
}

guint tg_outbound_retry_delay(gint64 attempts) {
  if (attempts < 1)
    attempts = 1;
  if (attempts > 7)
    return 3600;
  guint d = 60u << (attempts - 1);
  return d > 3600 ? 3600 : d;
}

static char *to_json(const ComposeMessage *m) {
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_array(b);
  for (gsize i = 0; i < m->n_to; i++) {
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "name");
    json_builder_add_string_value(b, m->to[i].name ? m->to[i].name : "");
    json_builder_set_member_name(b, "address");
    json_builder_add_string_value(b, m->to[i].address);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  g_autoptr(JsonNode) root = json_builder_get_root(b);
  return json_to_string(root, FALSE);
}

/* The header block of the serialized message (as sent). */
static char *header_block(GBytes *bytes) {
  gsize len = 0;
  const char *data = g_bytes_get_data(bytes, &len);
  const char *end = g_strstr_len(data, (gssize)len, "\n\n");
  return g_strndup(data, end ? (gsize)(end - data) + 1 : len);
}

static gboolean queue_in_savepoint(TgStore *s, const TgOutboundKeys *keys,
                                   gint64 ticket, const char *kind,
                                   const char *recipient, ComposeMessage *msg,
                                   gint64 now, gint64 *id_r, char **msgid_r,
                                   GError **error) {
  if (!tg_store_exec(s,
                     "INSERT INTO outbound (ticket_id, kind, recipient, message_id, "
                     "status, next_attempt_at, created_at, auto_submitted) "
                     "VALUES (?, ?, ?, '', 'queued', ?, ?, ?)",
                     error, "issiii", ticket, kind, recipient, now, now,
                     (gint64)(msg->auto_submitted ? 1 : 0)))
    return FALSE;
  gint64 id = tg_store_last_insert_id(s);
  gsize slen = 0;
  const guint8 *sec = g_bytes_get_data(keys->secret, &slen);
  g_autofree char *msgid = message_id_new((guint64)ticket, (guint64)id, recipient,
                                          keys->msgid_domain, sec, slen);
  g_autofree char *verp = tg_outbound_verp(id, keys->bounce_domain, keys->secret);
  const char *saved_id = msg->message_id;
  msg->message_id = msgid;
  g_autoptr(GBytes) bytes = compose_message_to_bytes(msg, FALSE, error);
  msg->message_id = saved_id;
  if (!bytes)
    return FALSE;
  g_autofree char *sha = tg_sha256_hex_bytes(bytes);
  g_autofree char *bare = g_strndup(msgid + 1, strlen(msgid) - 2);
  g_autofree char *dedup = g_strdup_printf("mid:%s", bare);
  g_autofree char *to = to_json(msg);
  g_autofree char *headers = header_block(bytes);
  g_autofree char *subject = compose_header_sanitize(msg->subject);
  if (!tg_store_exec(s, "INSERT OR IGNORE INTO blobs (sha256, data) VALUES (?, ?)",
                     error, "sb", sha, bytes) ||
      !tg_store_exec(
          s,
          "INSERT INTO messages (ticket_id, direction, dedup_key, message_id, "
          "date, from_name, from_address, to_json, subject, body, headers, "
          "envelope_sender, envelope_recipients, origin, raw_sha256, size, "
          "created_at) VALUES (?, 'out', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
          "'outbound', ?, ?, ?)",
          error, "ississsssssssii", ticket, dedup, bare, now,
          msg->from.name ? msg->from.name : "", msg->from.address, to, subject,
          msg->text ? msg->text : "", headers, verp, recipient, sha,
          (gint64)g_bytes_get_size(bytes), now))
    return FALSE;
  gint64 row = tg_store_last_insert_id(s);
  if (!tg_store_exec(s,
                     "UPDATE outbound SET message_id = ?, body_sha256 = ?, "
                     "message_row = ?, envelope_sender = ? WHERE id = ?",
                     error, "ssisi", bare, sha, row, verp, id))
    return FALSE;
  if (id_r)
    *id_r = id;
  if (msgid_r)
    *msgid_r = g_steal_pointer(&msgid);
  return TRUE;
}

gboolean tg_outbound_queue(TgStore *store, const TgOutboundKeys *keys,
                           gint64 ticket_id, const char *kind,
                           const char *recipient, ComposeMessage *msg,
                           gint64 now, gint64 *id_r, char **message_id_r,
                           GError **error) {
  if (!tg_store_exec(store, "SAVEPOINT outbound_queue", error, NULL))
    return FALSE;
  if (!queue_in_savepoint(store, keys, ticket_id, kind, recipient, msg, now,
                          id_r, message_id_r, error)) {
    tg_store_exec(store, "ROLLBACK TO outbound_queue", NULL, NULL);
    tg_store_exec(store, "RELEASE outbound_queue", NULL, NULL);
    return FALSE;
  }
  return tg_store_exec(store, "RELEASE outbound_queue", error, NULL);
}

void tg_outbound_item_clear(TgOutboundItem *item) {
  g_clear_pointer(&item->kind, g_free);
  g_clear_pointer(&item->recipient, g_free);
  g_clear_pointer(&item->envelope_sender, g_free);
  g_clear_pointer(&item->message_id, g_free);
  g_clear_pointer(&item->message, g_bytes_unref);
}

GArray *tg_outbound_due(TgStore *store, gint64 now, guint limit, GError **error) {
  sqlite3_stmt *st = tg_store_prepare(
      store,
      "SELECT id FROM outbound WHERE status IN ('queued','deferred','sending') "
      "AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?",
      error, "ii", now, (gint64)limit);
  if (!st)
    return NULL;
  g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(gint64));
  int rc;
  while ((rc = tg_store_step(store, st, error)) == SQLITE_ROW) {
    gint64 id = sqlite3_column_int64(st, 0);
    g_array_append_val(ids, id);
  }
  sqlite3_reset(st);
  return rc == SQLITE_DONE ? g_steal_pointer(&ids) : NULL;
}

static int claim_in_tx(TgStore *store, gint64 id, gint64 now, guint lease,
                       TgOutboundItem *item, GError **error) {
  if (!tg_store_exec(store,
                     "UPDATE outbound SET status = 'sending', next_attempt_at = ? "
                     "WHERE id = ? AND status IN ('queued','deferred','sending') "
                     "AND next_attempt_at <= ?",
                     error, "iii", now + lease, id, now))
    return -1;
  if (sqlite3_changes(tg_store_db(store)) != 1)
    return 0;
  sqlite3_stmt *st = tg_store_prepare(
      store,
      "SELECT o.ticket_id, o.kind, o.recipient, o.envelope_sender, o.message_id, "
      "o.attempts, o.created_at, b.data FROM outbound o "
      "LEFT JOIN blobs b ON b.sha256 = o.body_sha256 WHERE o.id = ?",
      error, "i", id);
  if (!st)
    return -1;
  int rc = tg_store_step(store, st, error);
  if (rc != SQLITE_ROW) {
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
      g_set_error(error, TG_STORE_ERROR, TG_STORE_ERROR_FAILED,
                  "outbound %" G_GINT64_FORMAT " vanished", id);
    return -1;
  }
  item->id = id;
  item->ticket_id = sqlite3_column_int64(st, 0);
  item->kind = g_strdup(tg_store_col_text(st, 1));
  item->recipient = g_strdup(tg_store_col_text(st, 2));
  item->envelope_sender = g_strdup(tg_store_col_text(st, 3));
  item->message_id = g_strdup(tg_store_col_text(st, 4));
  item->attempts = sqlite3_column_int64(st, 5);
  item->created_at = sqlite3_column_int64(st, 6);
  item->message = g_bytes_new(sqlite3_column_blob(st, 7),
                              (gsize)sqlite3_column_bytes(st, 7));
  sqlite3_reset(st);
  return 1;
}

int tg_outbound_claim(TgStore *store, gint64 id, gint64 now, guint lease,
                      TgOutboundItem *item, GError **error) {
  memset(item, 0, sizeof *item);
  if (!tg_store_begin(store, error))
    return -1;
  int r = claim_in_tx(store, id, now, lease, item, error);
  if (r != 1) {
    tg_store_rollback(store);
    tg_outbound_item_clear(item);
    return r;
  }
  if (!tg_store_commit(store, error)) {
    tg_outbound_item_clear(item);
    return -1;
  }
  return 1;
}

gboolean tg_outbound_mark_sent(TgStore *store, const TgOutboundItem *item,
                               gint64 now, const char *how, GError **error) {
  return tg_store_exec(store,
                       "UPDATE outbound SET status = 'sent', sent_at = ?, "
                       "attempts = attempts + 1, last_error = ? WHERE id = ?",
                       error, "isi", now, how ? how : "", item->id);
}

static gboolean fail_in_tx(TgStore *store, const TgOutboundItem *item,
                           gint64 now, const char *why, GError **error) {
  g_autofree char *detail = g_strdup_printf(
      "notice %" G_GINT64_FORMAT " (%s) to %s failed after %" G_GINT64_FORMAT
      " attempt(s): %s", item->id, item->kind, item->recipient,
      item->attempts + 1, why);
  return tg_store_exec(store,
                       "UPDATE outbound SET status = 'failed', attempts = "
                       "attempts + 1, last_error = ? WHERE id = ?",
                       error, "si", why, item->id) &&
         tg_audit_add(store, item->ticket_id, now, "outbound", "delivery-failed",
                      detail, error);
}

gboolean tg_outbound_mark_failed(TgStore *store, const TgOutboundItem *item,
                                 gint64 now, const char *why, GError **error) {
  if (!tg_store_begin(store, error))
    return FALSE;
  if (!fail_in_tx(store, item, now, why, error)) {
    tg_store_rollback(store);
    return FALSE;
  }
  return tg_store_commit(store, error);
}

gboolean tg_outbound_mark_deferred(TgStore *store, const TgOutboundItem *item,
                                   gint64 now, guint max_age, const char *why,
                                   gboolean *gave_up_r, GError **error) {
  gint64 attempts = item->attempts + 1;
  gint64 next = now + tg_outbound_retry_delay(attempts);
  gboolean give_up = max_age && next > item->created_at + (gint64)max_age;
  if (gave_up_r)
    *gave_up_r = give_up;
  if (give_up) {
    g_autofree char *w = g_strdup_printf(
        "temporary failures for longer than [outbound] max_age; last: %s", why);
    return tg_outbound_mark_failed(store, item, now, w, error);
  }
  return tg_store_exec(store,
                       "UPDATE outbound SET status = 'deferred', attempts = ?, "
                       "next_attempt_at = ?, last_error = ? WHERE id = ?",
                       error, "iisi", attempts, next, why, item->id);
}
