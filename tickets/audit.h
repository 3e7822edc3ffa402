/* audit.h - the ticket's audit log: one row per change, who, when, why. */
#ifndef TG_AUDIT_H
#define TG_AUDIT_H

#include "tickets/store.h"

/* Records an event inside the caller's transaction. */
gboolean tg_audit_add(TgStore *store, gint64 ticket_id, gint64 at,
                      const char *actor, const char *kind, const char *detail,
                      GError **error);

#endif
