/* search_index.c - lazy full-text indexing (contract in search_index.h). */
#include "tickets/search_index.h"

gint64 tg_search_index_pending(TgStore *s, GError **error) {
  return tg_store_query_int(s,
                            "SELECT count(*) FROM messages "
                            "WHERE id > (SELECT last_message FROM fts_state)",
                            0, error, NULL);
}

gboolean tg_search_index_catch_up(TgStore *s, guint max_rows, guint *indexed_r,
                                  GError **error) {
  if (indexed_r)
    *indexed_r = 0;
  if (!tg_store_begin(s, error))
    return FALSE;
  gint64 last = tg_store_query_int(s, "SELECT last_message FROM fts_state", 0, error, NULL);
  gint64 upto = tg_store_query_int(
      s, "SELECT max(id) FROM (SELECT id FROM messages WHERE id > ? ORDER BY id LIMIT ?)",
      last, error, "ii", last, max_rows ? (gint64)max_rows : G_MAXINT64);
  if (upto > last &&
      (!tg_store_exec(s,
                      "INSERT INTO messages_fts (rowid, subject, body) "
                      "SELECT id, subject, body FROM messages WHERE id > ? AND id <= ? "
                      "ORDER BY id",
                      error, "ii", last, upto) ||
       !tg_store_exec(s, "UPDATE fts_state SET last_message = ?", error, "i", upto))) {
    tg_store_rollback(s);
    return FALSE;
  }
  if (error && *error) {
    tg_store_rollback(s);
    return FALSE;
  }
  if (!tg_store_commit(s, error))
    return FALSE;
  if (indexed_r)
    *indexed_r = (guint)(upto - last);
  return TRUE;
}
