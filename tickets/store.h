/* store.h - the SQLite store: connection, schema migrations, statements.
 *
 * One TgStore is one connection in WAL mode with synchronous=FULL (a
 * commit survives power loss: the spool entry is retired right after it),
 * foreign keys on, and a busy timeout.  The schema is versioned with
 * PRAGMA user_version; tg_store_open() applies missing migrations in one
 * transaction each.  SQL only through prepared statements, cached per
 * connection (tg_store_stmt), with values bound by tg_store_bind().
 *
 * Errors: TG_STORE_ERROR_TEMP for what time can fix (busy past the
 * timeout, locked, disk full, I/O error, read-only file), so the caller
 * answers 4xx / exits 75 and the message is retried; TG_STORE_ERROR_FAILED
 * for everything else.
 */
#ifndef TG_STORE_H
#define TG_STORE_H

#include <glib.h>
#include <sqlite3.h>

G_BEGIN_DECLS

#define TG_STORE_ERROR (tg_store_error_quark())
GQuark tg_store_error_quark(void);
typedef enum { TG_STORE_ERROR_TEMP, TG_STORE_ERROR_FAILED } TgStoreErrorCode;

typedef struct TgStore TgStore;

/* (transfer full) */
TgStore *tg_store_open(const char *path, guint busy_timeout_ms, GError **error);
void tg_store_free(TgStore *store);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TgStore, tg_store_free)

/* A writer that commits big batches back to back and acknowledges
 * nothing until it ends (import) lets another connection, on another
 * thread, copy the WAL into the database with tg_store_checkpoint(),
 * instead of checkpointing after its own commits (except for the
 * remainder, past 16 MiB of WAL, so that it starts over).  Its commits
 * are not synced (synchronous=NORMAL: a power loss may take the last
 * ones, never corrupt the database); tg_store_sync() makes them all
 * durable before the writer reports success, without waiting for readers.  The WAL is still truncated
 * when the writer closes. */
void tg_store_set_bulk_writer(TgStore *store);
/* Every commit so far durable: the writer syncs again from here on, and
 * one synced commit (of the header's user_version, unchanged) flushes
 * the WAL with all frames before it. */
gboolean tg_store_sync(TgStore *store, GError **error);
/* A PASSIVE checkpoint that does not wait for locks.  TRUE when all of
 * the WAL is now in the database. */
gboolean tg_store_checkpoint(TgStore *store);

sqlite3 *tg_store_db(TgStore *store);
int tg_store_schema_version(TgStore *store);

/* BEGIN IMMEDIATE: writers queue up at the start, not at commit. */
gboolean tg_store_begin(TgStore *store, GError **error);
gboolean tg_store_commit(TgStore *store, GError **error);
void tg_store_rollback(TgStore *store);

/* A cached, reset statement for SQL, with ARGS bound by FMT:
 *   's' const char* (NULL binds NULL)  'i' gint64  'n' gint64, 0 binds NULL
 *   'b' GBytes* (blob)  'B' GBytes* or NULL
 * SQL must live as long as the store (a literal): it is the cache's key.
 * (transfer none) - valid until the next call with the same SQL. */
sqlite3_stmt *tg_store_prepare(TgStore *store, const char *sql, GError **error,
                               const char *fmt, ...);
/* Runs a statement that returns no rows. */
gboolean tg_store_exec(TgStore *store, const char *sql, GError **error,
                       const char *fmt, ...);
/* Steps; returns SQLITE_ROW / SQLITE_DONE, or -1 with ERROR set. */
int tg_store_step(TgStore *store, sqlite3_stmt *stmt, GError **error);
/* First column of the first row as an integer, or DEFAULT_VALUE. */
gint64 tg_store_query_int(TgStore *store, const char *sql, gint64 default_value,
                          GError **error, const char *fmt, ...);

/* Sets ERROR from the connection's last failure, classifying TEMP. */
gboolean tg_store_fail(TgStore *store, int rc, const char *what, GError **error);

gint64 tg_store_last_insert_id(TgStore *store);
/* How long the last COMMIT took, in microseconds (for metrics). */
gint64 tg_store_last_commit_us(TgStore *store);

/* Text of column COL, never NULL ("" for NULL).  (transfer none) */
const char *tg_store_col_text(sqlite3_stmt *stmt, int col);

G_END_DECLS
#endif
