/* search_index.h - the full-text index (FTS5, trigram) is brought up to
 * date lazily, like Dovecot's fts indexing on search.
 *
 * Storing a message does not index it: the trigram index costs more CPU
 * than all the rest of ingest together, and the SMTP worker and `import`
 * should not pay it per message.  Instead, fts_state remembers the last
 * message indexed; `serve` catches up whenever its worker is idle, and
 * `ticket search` catches up before it queries, so a search always sees
 * every stored message.
 */
#ifndef TG_SEARCH_INDEX_H
#define TG_SEARCH_INDEX_H

#include "tickets/store.h"

/* Indexes up to MAX_ROWS messages not yet in the index (0 = all), in one
 * transaction.  *INDEXED_R (may be NULL) gets how many. */
gboolean tg_search_index_catch_up(TgStore *store, guint max_rows,
                                  guint *indexed_r, GError **error);
/* How many stored messages wait to be indexed. */
gint64 tg_search_index_pending(TgStore *store, GError **error);

#endif
