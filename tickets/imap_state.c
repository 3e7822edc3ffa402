/* imap_state.c - IMAP poller progress in the store (see imap_state.h). */
#include "tickets/imap_state.h"
#include "tickets/clock.h"

gboolean tg_imap_state_get(TgStore *store, const char *account,
                           const char *folder, guint32 *uidvalidity_r,
                           guint32 *last_uid_r, GError **error) {
  *uidvalidity_r = 0;
  *last_uid_r = 0;
  sqlite3_stmt *st = tg_store_prepare(
      store,
      "SELECT uidvalidity, last_uid FROM imap_state WHERE account = ? AND folder = ?",
      error, "ss", account, folder);
  if (!st)
    return FALSE;
  int rc = tg_store_step(store, st, error);
  if (rc < 0)
    return FALSE;
  if (rc == SQLITE_ROW) {
    *uidvalidity_r = (guint32)sqlite3_column_int64(st, 0);
    *last_uid_r = (guint32)sqlite3_column_int64(st, 1);
  }
  sqlite3_reset(st);
  return TRUE;
}

gboolean tg_imap_state_set(TgStore *store, const char *account,
                           const char *folder, guint32 uidvalidity,
                           guint32 last_uid, GError **error) {
  return tg_store_exec(
      store,
      "INSERT INTO imap_state (account, folder, uidvalidity, last_uid, updated_at)"
      " VALUES (?, ?, ?, ?, ?)"
      " ON CONFLICT (account, folder) DO UPDATE SET uidvalidity = excluded.uidvalidity,"
      " last_uid = excluded.last_uid, updated_at = excluded.updated_at",
      error, "ssiii", account, folder, (gint64)uidvalidity, (gint64)last_uid,
      tg_clock_now());
}
