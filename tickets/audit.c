/* audit.c - audit events (see audit.h). */
#include "tickets/audit.h"

gboolean tg_audit_add(TgStore *s, gint64 ticket_id, gint64 at,
                      const char *actor, const char *kind, const char *detail,
                      GError **error) {
  return tg_store_exec(s,
                       "INSERT INTO events (ticket_id, at, actor, kind, detail) "
                       "VALUES (?, ?, ?, ?, ?)",
                       error, "iisss", ticket_id, at, actor ? actor : "system",
                       kind, detail ? detail : "");
}
