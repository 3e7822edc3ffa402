/* ticket_view.c - ticket JSON for the CLI (contract in ticket_view.h). */
#include "tickets/ticket_view.h"
#include "tickets/clock.h"
#include "tickets/thread.h"

#include <string.h>

static void add_time(JsonBuilder *b, const char *name, gint64 t) {
  g_autofree char *s = tg_clock_format(t);
  json_builder_set_member_name(b, name);
  json_builder_add_string_value(b, s);
}

static void add_str(JsonBuilder *b, const char *name, const char *v) {
  json_builder_set_member_name(b, name);
  json_builder_add_string_value(b, v ? v : "");
}

static void add_int(JsonBuilder *b, const char *name, gint64 v) {
  json_builder_set_member_name(b, name);
  json_builder_add_int_value(b, v);
}

static void add_json_text(JsonBuilder *b, const char *name, const char *json) {
  json_builder_set_member_name(b, name);
  JsonNode *n = json_from_string(json && json[0] ? json : "[]", NULL);
  json_builder_add_value(b, n ? n : json_node_new(JSON_NODE_NULL));
}

static void add_person(JsonBuilder *b, const char *member, const char *name,
                       const char *address) {
  json_builder_set_member_name(b, member);
  json_builder_begin_object(b);
  add_str(b, "name", name);
  add_str(b, "address", address);
  json_builder_end_object(b);
}

/* Appends MEMBER: [ROW(st) for each row of ST] and resets ST. */
typedef void (*RowFn)(JsonBuilder *b, sqlite3_stmt *st, gconstpointer data);

static gboolean add_rows(JsonBuilder *b, TgStore *s, sqlite3_stmt *st,
                         const char *member, RowFn row, gconstpointer data,
                         GError **error) {
  if (!st)
    return FALSE;
  if (member)
    json_builder_set_member_name(b, member);
  json_builder_begin_array(b);
  int rc;
  while ((rc = tg_store_step(s, st, error)) == SQLITE_ROW)
    row(b, st, data);
  json_builder_end_array(b);
  sqlite3_reset(st);
  return rc == SQLITE_DONE;
}

static void tag_row(JsonBuilder *b, sqlite3_stmt *st, gconstpointer data) {
  json_builder_add_string_value(b, tg_store_col_text(st, 0));
}

static gboolean add_tags(JsonBuilder *b, TgStore *s, gint64 id, GError **error) {
  return add_rows(b, s,
                  tg_store_prepare(s, "SELECT tag FROM ticket_tags WHERE ticket_id = ? "
                                      "ORDER BY tag", error, "i", id),
                  "tags", tag_row, NULL, error);
}

static gboolean add_fields(JsonBuilder *b, TgStore *s, gint64 id, GError **error) {
  sqlite3_stmt *st = tg_store_prepare(
      s, "SELECT name, value FROM ticket_fields WHERE ticket_id = ? ORDER BY name",
      error, "i", id);
  if (!st)
    return FALSE;
  json_builder_set_member_name(b, "fields");
  json_builder_begin_object(b);
  int rc;
  while ((rc = tg_store_step(s, st, error)) == SQLITE_ROW)
    add_str(b, tg_store_col_text(st, 0), tg_store_col_text(st, 1));
  json_builder_end_object(b);
  sqlite3_reset(st);
  return rc == SQLITE_DONE;
}

static void attachment_row(JsonBuilder *b, sqlite3_stmt *st, gconstpointer data) {
  json_builder_begin_object(b);
  add_str(b, "filename", tg_store_col_text(st, 0));
  add_str(b, "content_type", tg_store_col_text(st, 1));
  add_int(b, "size", sqlite3_column_int64(st, 2));
  add_str(b, "sha256", tg_store_col_text(st, 3));
  json_builder_end_object(b);
}

static gboolean add_attachments(JsonBuilder *b, TgStore *s, gint64 msg,
                                GError **error) {
  return add_rows(b, s,
                  tg_store_prepare(s, "SELECT filename, content_type, size, sha256 "
                                      "FROM attachments WHERE message_id = ? ORDER BY id",
                                   error, "i", msg),
                  "attachments", attachment_row, NULL, error);
}

static gboolean add_messages(JsonBuilder *b, TgStore *s, gint64 id, GError **error) {
  /* Rows are copied out first: add_attachments reuses the connection. */
  sqlite3_stmt *st = tg_store_prepare(
      s, "SELECT id, direction, message_id, date, from_name, from_address, "
         "to_json, cc_json, subject, body, warnings, spool_id FROM messages "
         "WHERE ticket_id = ? ORDER BY id", error, "i", id);
  if (!st)
    return FALSE;
  g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
  int rc;
  while ((rc = tg_store_step(s, st, error)) == SQLITE_ROW) {
    char **row = g_new0(char *, 13);
    for (int c = 0; c < 12; c++)
      row[c] = g_strdup(tg_store_col_text(st, c));
    g_ptr_array_add(rows, row);
  }
  sqlite3_reset(st);
  if (rc != SQLITE_DONE)
    return FALSE;
  json_builder_set_member_name(b, "messages");
  json_builder_begin_array(b);
  for (guint i = 0; i < rows->len; i++) {
    char **r = g_ptr_array_index(rows, i);
    gint64 mid = g_ascii_strtoll(r[0], NULL, 10);
    json_builder_begin_object(b);
    add_int(b, "id", mid);
    add_str(b, "direction", r[1]);
    add_str(b, "message_id", r[2]);
    add_time(b, "date", g_ascii_strtoll(r[3], NULL, 10));
    add_person(b, "from", r[4], r[5]);
    add_json_text(b, "to", r[6]);
    add_json_text(b, "cc", r[7]);
    add_str(b, "subject", r[8]);
    add_str(b, "body", r[9]);
    add_str(b, "spool_id", r[11]);
    json_builder_set_member_name(b, "warnings");
    json_builder_begin_array(b);
    if (r[10][0]) {
      g_auto(GStrv) w = g_strsplit(r[10], "\n", -1);
      for (guint k = 0; w[k]; k++)
        json_builder_add_string_value(b, w[k]);
    }
    json_builder_end_array(b);
    if (!add_attachments(b, s, mid, error))
      return FALSE;
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  return TRUE;
}

static void event_row(JsonBuilder *b, sqlite3_stmt *st, gconstpointer data) {
  json_builder_begin_object(b);
  add_time(b, "at", sqlite3_column_int64(st, 0));
  add_str(b, "actor", tg_store_col_text(st, 1));
  add_str(b, "kind", tg_store_col_text(st, 2));
  add_str(b, "detail", tg_store_col_text(st, 3));
  json_builder_end_object(b);
}

static gboolean add_events(JsonBuilder *b, TgStore *s, gint64 id, GError **error) {
  return add_rows(b, s,
                  tg_store_prepare(s, "SELECT at, actor, kind, detail FROM events "
                                      "WHERE ticket_id = ? ORDER BY id",
                                   error, "i", id),
                  "events", event_row, NULL, error);
}

#define TICKET_COLUMNS                                                        \
  "id, subject, status, queue, priority, escalation_level, requester_name, "  \
  "requester_address, created_at, updated_at, assignee, policy, language, "   \
  "linked_ticket, first_response_at, escalate_at, escalated_at"

static void add_ticket_columns(JsonBuilder *b, sqlite3_stmt *st,
                               const char *prefix) {
  gint64 id = sqlite3_column_int64(st, 0);
  g_autofree char *ref = tg_thread_ref(prefix, id);
  add_int(b, "id", id);
  add_str(b, "ref", ref);
  add_str(b, "subject", tg_store_col_text(st, 1));
  add_str(b, "status", tg_store_col_text(st, 2));
  add_str(b, "queue", tg_store_col_text(st, 3));
  add_str(b, "priority", tg_store_col_text(st, 4));
  add_int(b, "escalation_level", sqlite3_column_int64(st, 5));
  add_person(b, "requester", tg_store_col_text(st, 6), tg_store_col_text(st, 7));
  add_time(b, "created_at", sqlite3_column_int64(st, 8));
  add_time(b, "updated_at", sqlite3_column_int64(st, 9));
  json_builder_set_member_name(b, "assignee");
  if (sqlite3_column_type(st, 10) == SQLITE_NULL)
    json_builder_add_null_value(b);
  else
    json_builder_add_string_value(b, tg_store_col_text(st, 10));
  add_str(b, "policy", tg_store_col_text(st, 11));
  add_str(b, "language", tg_store_col_text(st, 12));
  json_builder_set_member_name(b, "linked_ticket");
  if (sqlite3_column_type(st, 13) == SQLITE_NULL)
    json_builder_add_null_value(b);
  else
    json_builder_add_int_value(b, sqlite3_column_int64(st, 13));
  /* The SLA clock: when staff first answered, when the next level takes
   * over (null when the ladder is paused or done), when it last did. */
  static const char *const sla[] = {"first_response_at", "escalate_at", "escalated_at"};
  for (int i = 0; i < 3; i++) {
    if (sqlite3_column_type(st, 14 + i) == SQLITE_NULL) {
      json_builder_set_member_name(b, sla[i]);
      json_builder_add_null_value(b);
    } else {
      add_time(b, sla[i], sqlite3_column_int64(st, 14 + i));
    }
  }
}

JsonNode *tg_ticket_view_show(TgStore *s, gint64 id, const char *prefix,
                              GError **error) {
  sqlite3_stmt *st = tg_store_prepare(
      s, "SELECT " TICKET_COLUMNS " FROM tickets WHERE id = ?", error, "i", id);
  if (!st)
    return NULL;
  int rc = tg_store_step(s, st, error);
  if (rc != SQLITE_ROW) {
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
      g_set_error(error, TG_STORE_ERROR, TG_STORE_ERROR_FAILED,
                  "no ticket %" G_GINT64_FORMAT, id);
    return NULL;
  }
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  add_ticket_columns(b, st, prefix);
  sqlite3_reset(st);
  if (!add_tags(b, s, id, error) || !add_fields(b, s, id, error) ||
      !add_messages(b, s, id, error) || !add_events(b, s, id, error))
    return NULL;
  json_builder_end_object(b);
  return json_builder_get_root(b);
}

static void ticket_row(JsonBuilder *b, sqlite3_stmt *st, gconstpointer prefix) {
  json_builder_begin_object(b);
  add_ticket_columns(b, st, prefix);
  json_builder_end_object(b);
}

/* The root of B once ROWS succeeded.  (transfer full) */
static JsonNode *rows_root(JsonBuilder *b, gboolean ok) {
  return ok ? json_builder_get_root(b) : NULL;
}

JsonNode *tg_ticket_view_list(TgStore *s, const char *status, const char *queue,
                              const char *prefix, guint limit, GError **error) {
  sqlite3_stmt *st = tg_store_prepare(
      s, "SELECT " TICKET_COLUMNS " FROM tickets "
         "WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR queue = ?2) "
         "ORDER BY id DESC LIMIT ?3", error, "ssi", status, queue, (gint64)limit);
  g_autoptr(JsonBuilder) b = json_builder_new();
  return rows_root(b, add_rows(b, s, st, NULL, ticket_row, prefix, error));
}

static void hit_row(JsonBuilder *b, sqlite3_stmt *st, gconstpointer data) {
  json_builder_begin_object(b);
  add_int(b, "ticket", sqlite3_column_int64(st, 0));
  add_int(b, "message", sqlite3_column_int64(st, 1));
  add_str(b, "subject", tg_store_col_text(st, 2));
  add_str(b, "snippet", tg_store_col_text(st, 3));
  json_builder_end_object(b);
}

JsonNode *tg_ticket_view_search(TgStore *s, const char *text, guint limit,
                                GError **error) {
  sqlite3_stmt *st;
  /* The trigram index needs three characters; shorter terms (two-kanji
   * Japanese words are common) are found by a scan instead. */
  if (g_utf8_strlen(text, -1) >= 3) {
    GString *q = g_string_new("\"");
    for (const char *c = text; *c; c++) {
      if (*c == '"')
        g_string_append_c(q, '"');
      g_string_append_c(q, *c);
    }
    g_string_append_c(q, '"');
    st = tg_store_prepare(
        s, "SELECT m.ticket_id, m.id, m.subject, "
           "snippet(messages_fts, 1, '[', ']', '...', 12) "
           "FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid "
           "WHERE messages_fts MATCH ? ORDER BY m.id DESC LIMIT ?",
        error, "si", q->str, (gint64)limit);
    g_string_free(q, TRUE);
  } else {
    st = tg_store_prepare(
        s, "SELECT ticket_id, id, subject, substr(body, 1, 80) FROM messages "
           "WHERE instr(subject, ?1) > 0 OR instr(body, ?1) > 0 "
           "ORDER BY id DESC LIMIT ?2",
        error, "si", text, (gint64)limit);
  }
  g_autoptr(JsonBuilder) b = json_builder_new();
  return rows_root(b, add_rows(b, s, st, NULL, hit_row, NULL, error));
}
