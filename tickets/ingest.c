/* ingest.c - thread and store one message (contract in ingest.h). */
#include "tickets/ingest.h"
#include "tickets/audit.h"
#include "tickets/classify.h"
#include "tickets/sha256.h"
#include "tickets/escalate_ingest.h"
#include "tickets/clock.h"
#include "tickets/thread.h"
#include "tickets/notify.h"
#include "templates/language.h"
#include "templates/message_id.h"

#include <string.h>

const char *tg_ingest_outcome_name(TgIngestOutcome o) {
  switch (o) {
  case TG_INGEST_CREATED: return "created";
  case TG_INGEST_APPENDED: return "appended";
  case TG_INGEST_DUPLICATE: return "duplicate";
  case TG_INGEST_REPLAYED: return "replayed";
  case TG_INGEST_QUARANTINE: return "quarantined by rule";

  case TG_INGEST_BOUNCE: return "bounce";
  }
  return "?";
}

const char *tg_ingest_language(const TgMail *m, const char *fallback) {
  /* templates/language.h decides on a sample (the first
   * LANGUAGE_SCAN_MAX bytes), of the subject, a newline and the body.
   * A cut inside a character is fine: the detector skips invalid bytes. */
  char text[LANGUAGE_SCAN_MAX];
  gsize len = strnlen(m->subject, sizeof text);
  memcpy(text, m->subject, len);
  if (len < sizeof text)
    text[len++] = '\n';
  gsize body = strnlen(m->body, sizeof text - len);
  memcpy(text + len, m->body, body);
  const char *lang = language_detect(m->charset, m->content_language, text,
                                     (gssize)(len + body),
                                     fallback && fallback[0] ? fallback : "en");
  return g_strcmp0(lang, "ja") == 0 ? "ja" : g_strcmp0(lang, "en") == 0 ? "en"
                                           : fallback && fallback[0] ? fallback : "en";
}

static const char *requester_address(const TgMail *m) {
  if (m->from->address[0])
    return m->from->address;
  return m->envelope_sender ? m->envelope_sender : "";
}

static gboolean is_staff(const TgIngestContext *ctx, const char *address) {
  for (char *const *s = ctx->staff_addresses; s && *s; s++)
    if (g_ascii_strcasecmp(*s, address) == 0)
      return TRUE;
  return FALSE;
}

static gboolean ticket_exists(TgStore *s, gint64 id, GError **error) {
  return tg_store_query_int(s, "SELECT 1 FROM tickets WHERE id = ?", 0, error,
                            "i", id) == 1;
}

static gboolean takes_part(const TgIngestContext *ctx, gint64 ticket,
                           const char *address, GError **error) {
  if (!address[0])
    return FALSE;
  if (is_staff(ctx, address))
    return TRUE;
  return tg_store_query_int(ctx->store,
                            "SELECT 1 FROM participants WHERE ticket_id = ? "
                            "AND address = ?",
                            0, error, "is", ticket, address) == 1;
}

/* A ticket's reply address, or a staff member's own signed address for
 * the ticket when the sender is that staff member. */
static gint64 parse_reply(const TgIngestContext *ctx, const TgMail *m, const char *r) {
  gint64 id = tg_thread_parse_reply_address(r, ctx->support_addresses, ctx->secret, NULL);
  if (!id)
    id = tg_thread_parse_staff_address(r, ctx->support_addresses, ctx->secret,
                                       m->from->address);
  return id;
}

static gint64 by_reply_address(const TgIngestContext *ctx, const TgMail *m,
                               GError **error) {
  GPtrArray *lists[] = {m->to, m->cc};
  for (guint i = 0; i < m->envelope_recipients->len; i++) {
    const char *r = g_ptr_array_index(m->envelope_recipients, i);
    gint64 id = parse_reply(ctx, m, r);
    if (id && ticket_exists(ctx->store, id, error))
      return id;
  }
  for (gsize l = 0; l < G_N_ELEMENTS(lists); l++)
    for (guint i = 0; i < lists[l]->len; i++) {
      TgAddress *a = g_ptr_array_index(lists[l], i);
      gint64 id = parse_reply(ctx, m, a->address);
      if (id && ticket_exists(ctx->store, id, error))
        return id;
    }
  return 0;
}

/* A Message-ID of our signed form counts only when its token proves that
 * the sender is the recipient of that notice; a forged or forwarded one
 * threads nothing.  Other ids are looked up among stored messages. */
static gint64 by_message_id(const TgIngestContext *ctx, const TgMail *m,
                            const char *msgid, GError **error) {
  if (!msgid || !msgid[0])
    return 0;
  gsize slen = 0;
  const guint8 *sec = g_bytes_get_data(ctx->secret, &slen);
  guint64 ticket = 0;
  gboolean proof_ok = FALSE;
  if (slen && message_id_verify(msgid, NULL, requester_address(m), sec, slen,
                                &ticket, NULL, &proof_ok)) {
    if (!proof_ok || ticket > G_MAXINT64 || !ticket_exists(ctx->store, (gint64)ticket, error))
      return 0;
    return (gint64)ticket;
  }
  return tg_store_query_int(
      ctx->store,
      "SELECT ticket_id FROM messages WHERE message_id = ? AND direction = 'in' "
      "LIMIT 1", 0, error, "s", msgid);
}

static gint64 by_references(const TgIngestContext *ctx, const TgMail *m,
                            GError **error) {
  gint64 id = by_message_id(ctx, m, m->in_reply_to, error);
  /* Newest reference first: it names the message being answered. */
  for (guint i = m->references->len; !id && i > 0; i--)
    id = by_message_id(ctx, m, g_ptr_array_index(m->references, i - 1), error);
  return id;
}

/* A JSON string as json-glib 1.6's generator writes it, byte for byte
 * (it leaves 0x1f as it is, and reads it back), so that rows compare equal
 * whichever wrote them. */
static void append_json_string(GString *out, const char *s) {
  g_string_append_c(out, '"');
  for (const char *p = s; *p; p++) {
    char c = *p;
    if (c == '\\' || c == '"') {
      g_string_append_c(out, '\\');
      g_string_append_c(out, c);
    } else if ((c > 0 && c < 0x1f) || c == 0x7f) {
      switch (c) {
      case '\b': g_string_append(out, "\\b"); break;
      case '\f': g_string_append(out, "\\f"); break;
      case '\n': g_string_append(out, "\\n"); break;
      case '\r': g_string_append(out, "\\r"); break;
      case '\t': g_string_append(out, "\\t"); break;
      default: g_string_append_printf(out, "\\u00%02x", (guint)c); break;
      }
    } else {
      g_string_append_c(out, c);
    }
  }
  g_string_append_c(out, '"');
}

/* [{"name":...,"address":...},...] as json_to_string() wrote it: a
 * JsonBuilder and generator cost 20k instructions per message. */
static char *addresses_json(GPtrArray *list) {
  GString *out = g_string_sized_new(64 * list->len + 2);
  g_string_append_c(out, '[');
  for (guint i = 0; i < list->len; i++) {
    TgAddress *a = g_ptr_array_index(list, i);
    g_string_append(out, i ? ",{\"name\":" : "{\"name\":");
    append_json_string(out, a->name);
    g_string_append(out, ",\"address\":");
    append_json_string(out, a->address);
    g_string_append_c(out, '}');
  }
  g_string_append_c(out, ']');
  return g_string_free(out, FALSE);
}

static char *headers_text(const TgMail *m) {
  /* Appends, not a printf per header: its format parsing was 4% of the
   * store thread. */
  GString *s = g_string_sized_new(512);
  for (guint i = 0; i < m->headers->len; i++) {
    TgHeader *h = g_ptr_array_index(m->headers, i);
    g_string_append(s, h->name);
    g_string_append_len(s, ": ", 2);
    g_string_append(s, h->value);
    g_string_append_c(s, '\n');
  }
  return g_string_free(s, FALSE);
}

static char *join_ptrs(GPtrArray *a, const char *sep) {
  GString *s = g_string_new(NULL);
  for (guint i = 0; i < a->len; i++) {
    if (i)
      g_string_append(s, sep);
    g_string_append(s, g_ptr_array_index(a, i));
  }
  return g_string_free(s, FALSE);
}

static gboolean add_participant(TgStore *s, gint64 ticket, const char *address,
                                const char *role, GError **error) {
  if (!address || !address[0])
    return TRUE;
  return tg_store_exec(s,
                       "INSERT OR IGNORE INTO participants (ticket_id, address, "
                       "role) VALUES (?, ?, ?)",
                       error, "iss", ticket, address, role);
}

/* The raw bytes before M's text when the raw message ends with exactly
 * that text (schema step 6), else NULL: the whole goes into blobs. */
static GBytes *raw_head(const TgMail *m) {
  gsize raw_len, body_len = strlen(m->body);
  const char *raw = g_bytes_get_data(m->raw, &raw_len);
  if (!body_len || body_len > raw_len ||
      memcmp(raw + raw_len - body_len, m->body, body_len) != 0)
    return NULL;
  return g_bytes_new_from_bytes(m->raw, 0, raw_len - body_len);
}

GBytes *tg_ingest_raw_message(TgStore *s, gint64 row, GError **error) {
  sqlite3_stmt *st = tg_store_prepare(
      s,
      "SELECT m.raw_head IS NOT NULL, m.raw_head, m.body, b.data FROM messages m "
      "LEFT JOIN blobs b ON b.sha256 = m.raw_sha256 AND m.raw_head IS NULL "
      "WHERE m.id = ?",
      error, "i", row);
  if (!st)
    return NULL;
  int rc = tg_store_step(s, st, error);
  if (rc != SQLITE_ROW) {
    if (rc == SQLITE_DONE)
      g_set_error(error, TG_STORE_ERROR, TG_STORE_ERROR_FAILED,
                  "message %" G_GINT64_FORMAT " is not stored", row);
    return NULL;
  }
  GByteArray *raw = g_byte_array_new();
  if (sqlite3_column_int(st, 0)) {
    g_byte_array_append(raw, sqlite3_column_blob(st, 1), (guint)sqlite3_column_bytes(st, 1));
    g_byte_array_append(raw, sqlite3_column_blob(st, 2), (guint)sqlite3_column_bytes(st, 2));
  } else if (sqlite3_column_type(st, 3) != SQLITE_NULL) {
    g_byte_array_append(raw, sqlite3_column_blob(st, 3), (guint)sqlite3_column_bytes(st, 3));
  } else {
    g_set_error(error, TG_STORE_ERROR, TG_STORE_ERROR_FAILED,
                "message %" G_GINT64_FORMAT " has no raw form stored", row);
    g_byte_array_unref(raw);
    sqlite3_reset(st);
    return NULL;
  }
  sqlite3_reset(st);
  return g_byte_array_free_to_bytes(raw);
}

static gboolean store_message(const TgIngestContext *ctx, TgMail *m,
                              gint64 ticket, const char *dedup, gint64 now,
                              gint64 *row_r, GError **error) {
  TgStore *s = ctx->store;
  g_autofree char *to = addresses_json(m->to);
  g_autofree char *cc = addresses_json(m->cc);
  g_autofree char *headers = headers_text(m);
  g_autofree char *rcpts = join_ptrs(m->envelope_recipients, ",");
  g_autofree char *warnings = join_ptrs(m->warnings, "\n");
  g_autoptr(GBytes) head = raw_head(m);
  if (!head && !tg_store_exec(s, "INSERT OR IGNORE INTO blobs (sha256, data) VALUES (?, ?)",
                              error, "sb", m->raw_sha256, m->raw))
    return FALSE;
  if (!tg_store_exec(
          s,
          "INSERT INTO messages (ticket_id, direction, spool_id, dedup_key, "
          "message_id, date, from_name, from_address, to_json, cc_json, subject, "
          "body, headers, envelope_sender, envelope_recipients, origin, "
          "raw_sha256, size, warnings, created_at, raw_head) "
          "VALUES (?, 'in', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
          error, "isssisssssssssssisiB", ticket, m->spool_id, dedup, m->message_id,
          m->date ? m->date : now, m->from->name, m->from->address, to, cc,
          m->subject, m->body, headers, m->envelope_sender, rcpts, m->origin,
          m->raw_sha256, (gint64)g_bytes_get_size(m->raw), warnings, now, head))
    return FALSE;
  gint64 row = tg_store_last_insert_id(s);
  for (guint i = 0; i < m->attachments->len; i++) {
    TgAttachment *a = g_ptr_array_index(m->attachments, i);
    if (!tg_store_exec(s, "INSERT OR IGNORE INTO blobs (sha256, data) VALUES (?, ?)",
                       error, "sb", a->sha256, a->content) ||
        !tg_store_exec(s,
                       "INSERT INTO attachments (message_id, filename, "
                       "content_type, size, sha256) VALUES (?, ?, ?, ?, ?)",
                       error, "issis", row, a->filename, a->content_type,
                       (gint64)a->size, a->sha256))
      return FALSE;
  }
  *row_r = row;
  return TRUE;
}

static gboolean create_ticket(const TgIngestContext *ctx, TgMail *m,
                              gint64 linked, gint64 now, gint64 *id_r,
                              GError **error) {
  TgStore *s = ctx->store;
  g_autofree char *subject = tg_thread_clean_subject(m->subject, ctx->tag_prefix);
  const char *requester = requester_address(m);
  if (!tg_store_exec(s,
                     "INSERT INTO tickets (subject, requester_name, "
                     "requester_address, language, linked_ticket, created_at, "
                     "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                     error, "ssssnii", subject, m->from->name, requester,
                     m->language ? m->language : tg_ingest_language(m, ctx->default_language),
                     linked, now,
                     now))
    return FALSE;
  gint64 id = tg_store_last_insert_id(s);
  g_autofree char *detail = g_strdup_printf("from %s: %s", requester, subject);
  if (!add_participant(s, id, requester, "requester", error) ||
      !tg_audit_add(s, id, now, requester, "created", detail, error))
    return FALSE;
  if (linked) {
    g_autofree char *d1 = g_strdup_printf(
        "tag of ticket %" G_GINT64_FORMAT " used by %s, who does not take part "
        "in it: opened a linked ticket", linked, requester);
    g_autofree char *d2 = g_strdup_printf(
        "ticket %" G_GINT64_FORMAT " opened by %s links here", id, requester);
    if (!tg_audit_add(s, id, now, "system", "linked", d1, error) ||
        !tg_audit_add(s, linked, now, "system", "linked", d2, error))
      return FALSE;
  }
  *id_r = id;
  return TRUE;
}

/* What makes two copies the same message for duplicate detection: trace
 * fields (Received:, the envelope) differ between two routes of one
 * message and are left out. */
static gboolean same_content(TgStore *s, gint64 row, const TgMail *m,
                             GError **error) {
  sqlite3_stmt *st = tg_store_prepare(
      s,
      "SELECT direction = 'out', from_address = ? AND subject = ? AND body = ? "
      "FROM messages WHERE id = ?",
      error, "sssi", m->from->address, m->subject, m->body, row);
  if (!st || tg_store_step(s, st, error) != SQLITE_ROW)
    return FALSE;
  /* Our own notice coming back carries the id we made for it. */
  gboolean ours = sqlite3_column_int(st, 0) != 0;
  gboolean same = sqlite3_column_int(st, 1) != 0;
  sqlite3_reset(st);
  if (ours || !same)
    return ours;
  st = tg_store_prepare(s, "SELECT sha256 FROM attachments WHERE message_id = ? ORDER BY id",
                        error, "i", row);
  if (!st)
    return FALSE;
  guint i = 0;
  int rc;
  while (same && (rc = tg_store_step(s, st, error)) == SQLITE_ROW) {
    same = i < m->attachments->len &&
           strcmp(tg_store_col_text(st, 0),
                  ((TgAttachment *)g_ptr_array_index(m->attachments, i))->sha256) == 0;
    i++;
  }
  sqlite3_reset(st);
  if (same && rc < 0)
    return FALSE;
  return same && i == m->attachments->len;
}

/* The ticket of the stored copy of M under DEDUP, or 0; *OTHER_R: DEDUP
 * names a different message. */
static gint64 stored_copy(TgStore *s, const TgMail *m, const char *dedup,
                          gboolean *other_r, GError **error) {
  *other_r = FALSE;
  sqlite3_stmt *st = tg_store_prepare(
      s, "SELECT id, ticket_id FROM messages WHERE dedup_key = ?", error, "s", dedup);
  if (!st)
    return 0;
  int rc = tg_store_step(s, st, error);
  if (rc != SQLITE_ROW)
    return 0;
  gint64 row = sqlite3_column_int64(st, 0), ticket = sqlite3_column_int64(st, 1);
  sqlite3_reset(st);
  /* Without a Message-ID the key is the raw bytes' hash: same by definition. */
  if (!m->message_id)
    return ticket;
  GError *e = NULL;
  if (same_content(s, row, m, &e))
    return ticket;
  if (e) {
    g_propagate_error(error, e);
    return 0;
  }
  *other_r = TRUE;
  return 0;
}

/* The key of a message whose Message-ID another message took first. */
static char *reused_id_key(const TgMail *m) {
  g_autoptr(GString) content = g_string_new(NULL);
  g_string_append_printf(content, "%s%c%s%c%s", m->from->address, 0, m->subject, 0, m->body);
  for (guint i = 0; i < m->attachments->len; i++)
    g_string_append_printf(content, "%c%s", 0,
                           ((TgAttachment *)g_ptr_array_index(m->attachments, i))->sha256);
  g_autofree char *hash = tg_sha256_hex(content->str, content->len);
  return g_strdup_printf("mid:%s content:%s", m->message_id, hash);
}

static gboolean thread_and_store(const TgIngestContext *ctx, TgMail *m,
                                 TgIngestResult *r, GError **error) {
  TgStore *s = ctx->store;
  gint64 now = tg_clock_now();
  GError *e = NULL;
#define CHECK_ERR() do { if (e) { g_propagate_error(error, e); return FALSE; } } while (0)

  if (m->spool_id &&
      tg_store_query_int(s, "SELECT ticket_id FROM messages WHERE spool_id = ?",
                         0, &e, "s", m->spool_id)) {
    r->outcome = TG_INGEST_REPLAYED;
    r->ticket_id = tg_store_query_int(
        s, "SELECT ticket_id FROM messages WHERE spool_id = ?", 0, &e, "s",
        m->spool_id);
    CHECK_ERR();
    return TRUE;
  }
  CHECK_ERR();
  g_autofree char *dedup = m->message_id
                               ? g_strdup_printf("mid:%s", m->message_id)
                               : g_strdup_printf("sha256:%s", m->raw_sha256);
  gboolean other = FALSE;
  gint64 dup = stored_copy(s, m, dedup, &other, &e);
  CHECK_ERR();
  if (other) {
    /* Keyed on its content, so that its own second arrival is still a
     * duplicate. */
    g_free(dedup);
    dedup = reused_id_key(m);
    dup = stored_copy(s, m, dedup, &other, &e);
    CHECK_ERR();
    if (!dup) {
      r->message_id_reused = TRUE;
      tg_mail_warn(m, "its Message-ID <%s> already names a different stored message",
                   m->message_id);
    }
  }
  if (dup) {
    r->outcome = TG_INGEST_DUPLICATE;
    r->ticket_id = dup;
    return TRUE;
  }

  /* Notification, before threading: DSNs for our notices, flood limit. */
  int screened = tg_notify_screen(ctx, m, now, r, error);
  if (screened != 0)
    return screened > 0;

  const char *sender = requester_address(m);
  gint64 ticket = by_reply_address(ctx, m, &e);
  CHECK_ERR();
  r->threaded_by = "reply-address";
  gint64 tagged = 0;
  if (!ticket) {
    tagged = tg_thread_subject_tag(m->subject, ctx->tag_prefix);
    if (tagged && !ticket_exists(s, tagged, &e))
      tagged = 0;
    CHECK_ERR();
    if (tagged && takes_part(ctx, tagged, sender, &e)) {
      ticket = tagged;
      r->threaded_by = "tag";
    }
    CHECK_ERR();
  }
  if (!ticket) {
    ticket = by_references(ctx, m, &e);
    CHECK_ERR();
    r->threaded_by = "references";
    /* A stranger's tag is no proof, but a matching reference is. */
    if (ticket && tagged && ticket != tagged)
      ticket = 0;
  }
  /* Rules see the message before anything is written: a rule may
   * quarantine it, and then nothing of it reaches the store. */
  if (ctx->ruleset) {
    g_autoptr(TgClassifyInput) ci =
        tg_classify_input_new(m, ticket != 0, is_staff(ctx, sender));
    tg_ruleset_eval(ctx->ruleset, tg_classify_input_get(ci), &r->rules);
    if (r->rules->quarantine_reason) {
      r->outcome = TG_INGEST_QUARANTINE;
      r->ticket_id = ticket;
      return TRUE;
    }
  }
  if (ticket) {
    r->outcome = TG_INGEST_APPENDED;
    g_autofree char *detail = g_strdup_printf("message from %s (by %s)", sender,
                                              r->threaded_by);
    if (!tg_store_exec(s, "UPDATE tickets SET updated_at = ? WHERE id = ?", error,
                       "ii", now, ticket) ||
        !tg_audit_add(s, ticket, now, sender, "message", detail, error) ||
        !add_participant(s, ticket, sender, is_staff(ctx, sender) ? "staff" : "cc",
                         error))
      return FALSE;
    /* A customer writing into a closed matter reopens it. */
    if (!is_staff(ctx, sender)) {
      gint64 reopened = tg_store_query_int(
          s, "SELECT 1 FROM tickets WHERE id = ? AND status IN ('resolved','closed')",
          0, &e, "i", ticket);
      CHECK_ERR();
      if (reopened &&
          (!tg_store_exec(s, "UPDATE tickets SET status = 'open' WHERE id = ?",
                          error, "i", ticket) ||
           !tg_audit_add(s, ticket, now, sender, "status", "reopened by customer mail",
                         error)))
        return FALSE;
    }
  } else {
    r->outcome = TG_INGEST_CREATED;
    r->threaded_by = "new";
    r->linked_to = tagged;
    if (!create_ticket(ctx, m, tagged, now, &ticket, error))
      return FALSE;
  }
  for (guint i = 0; i < m->cc->len; i++) {
    TgAddress *a = g_ptr_array_index(m->cc, i);
    if (!tg_thread_is_support_address(a->address, ctx->support_addresses) &&
        !add_participant(s, ticket, a->address, "cc", error))
      return FALSE;
  }
  r->ticket_id = ticket;
  if (!store_message(ctx, m, ticket, dedup, now, &r->message_row, error))
    return FALSE;
  /* Rule actions and the notices they cause are written in the same
   * transaction, so a crash never separates a ticket change from its ack. */
  if (r->rules && !tg_classify_apply(s, ticket, r->rules, now, error))
    return FALSE;
  /* Rule escalations, staff answers and commands, the SLA deadline. */
  if (!tg_escalate_ingest(ctx->escalation, s, m, r, is_staff(ctx, sender), now, error))
    return FALSE;
  if (!tg_notify_ingested(ctx, m, r, now, error))
    return FALSE;
  return TRUE;
#undef CHECK_ERR
}

void tg_ingest_result_clear(TgIngestResult *r) {
  g_clear_pointer(&r->rules, tg_rule_result_free);
}

gboolean tg_ingest_in_tx(const TgIngestContext *ctx, TgMail *mail,
                         TgIngestResult *result, GError **error) {
  memset(result, 0, sizeof *result);
  if (!tg_store_exec(ctx->store, "SAVEPOINT ingest", error, NULL))
    return FALSE;
  if (!thread_and_store(ctx, mail, result, error)) {
    tg_ingest_result_clear(result);
    tg_store_exec(ctx->store, "ROLLBACK TO ingest", NULL, NULL);
    tg_store_exec(ctx->store, "RELEASE ingest", NULL, NULL);
    return FALSE;
  }
  return tg_store_exec(ctx->store, "RELEASE ingest", error, NULL);
}

gboolean tg_ingest(const TgIngestContext *ctx, TgMail *mail,
                   TgIngestResult *result, GError **error) {
  if (!tg_store_begin(ctx->store, error))
    return FALSE;
  if (!tg_ingest_in_tx(ctx, mail, result, error)) {
    tg_store_rollback(ctx->store);
    return FALSE;
  }
  return tg_store_commit(ctx->store, error);
}
