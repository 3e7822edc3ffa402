/* ticket_view.h - tickets as JSON for the CLI (and later the API).
 *
 * `ticket show --json` prints tg_ticket_view_show(): id, ref, subject,
 * status, queue, priority, escalation_level, tags, requester {name,
 * address}, created_at, updated_at (RFC 3339), messages [...], events
 * [...].  See README "ticket show --json" for the exact shape.
 */
#ifndef TG_TICKET_VIEW_H
#define TG_TICKET_VIEW_H

#include "tickets/store.h"

#include <json-glib/json-glib.h>

/* NULL with ERROR when there is no such ticket.  (transfer full) */
JsonNode *tg_ticket_view_show(TgStore *store, gint64 id, const char *tag_prefix,
                              GError **error);
/* Array of ticket summaries, newest first.  STATUS / QUEUE may be NULL.
 * (transfer full) */
JsonNode *tg_ticket_view_list(TgStore *store, const char *status,
                              const char *queue, const char *tag_prefix,
                              guint limit, GError **error);
/* Full-text search (FTS5 trigram; shorter terms fall back to a scan).
 * Array of {ticket, message, subject, snippet}.  (transfer full) */
JsonNode *tg_ticket_view_search(TgStore *store, const char *text, guint limit,
                                GError **error);

#endif
