/* spool.h - the durable incoming spool and the quarantine.
 *
 * A message is accepted only once tg_spool_writer_commit() returned TRUE
 * in SYNC mode (or tg_spool_commit_batch() after DEFER): the entry file
 * was created with O_EXCL (or claimed from free/), fsync'd, closed,
 * renamed from tmp/ into queue/ and the queue/ directory fsync'd.  Until
 * then nothing may answer 250, exit 0 or flag an IMAP message.  (UNSYNCED
 * is for a caller that makes the message durable elsewhere first.)
 *
 * Layout under the spool directory:
 *   tmp/<id>          entries being written; purged by tg_spool_recover()
 *   queue/<id>        accepted entries waiting for the pipeline
 *   quarantine/<id>   entries the pipeline could not ticket, with
 *   quarantine/<id>.reason  one line: "<code> <free text>"
 *   free/<id>         retired files that new entries reuse, overwriting
 *                     them (spool_recycle.h); never read
 *   journal/<id>.jnl  serve's small entries, many per file, until they
 *                     are ticketed (journal.h): accepted like queue/
 *
 * Entry file format (typed, length-prefixed, explicit end):
 *   "TGSPOOL1\n" then records "<type><decimal length>:<bytes>\n", types
 *   I the entry's own id (files written before it existed lack it),
 *   T arrival (unix seconds), S envelope sender, R envelope recipient (0..n),
 *   O origin ("deliver", "smtp 127.0.0.1", "imap NAME"), M message bytes
 *   (0..n chunks, concatenated), and last "E0:\n".  A file without the E
 *   record, or whose I record names another entry, is torn and refused by
 *   the reader.
 *
 * Processing takes an exclusive flock() on the entry so that `serve`,
 * `deliver` and `spool retry` running at once never ticket it twice.
 *
 * SECURITY: ids come from the command line and from directory listings;
 * every path is built only from an id that passed tg_spool_id_ok().
 */
#ifndef TG_SPOOL_H
#define TG_SPOOL_H

#include <glib.h>
#include <stdint.h>

G_BEGIN_DECLS

#define TG_SPOOL_ERROR (tg_spool_error_quark())
GQuark tg_spool_error_quark(void);

typedef enum {
  TG_SPOOL_ERROR_TEMP,      /* I/O failure, disk full: try again later */
  TG_SPOOL_ERROR_TOO_BIG,   /* message over the configured size limit */
  TG_SPOOL_ERROR_CORRUPT,   /* torn or malformed entry file */
  TG_SPOOL_ERROR_NOT_FOUND, /* no such entry */
  TG_SPOOL_ERROR_LOCKED,    /* another process holds the entry */
  TG_SPOOL_ERROR_BAD_ID,    /* not a valid spool id */
  TG_SPOOL_ERROR_NO_SPACE,  /* disk or quota full, or below the reserve:
                               temporary, like TEMP, but worth saying so */
} TgSpoolErrorCode;

typedef enum {
  TG_SPOOL_QUEUE,
  TG_SPOOL_QUARANTINE,
} TgSpoolArea;

typedef struct TgSpool TgSpool;
typedef struct TgSpoolWriter TgSpoolWriter;

typedef struct {
  char *id;             /* spool id */
  gint64 arrival;       /* unix seconds */
  char *sender;         /* envelope sender, "" for the null sender */
  GPtrArray *recipients;/* char*, envelope recipients */
  char *origin;         /* where it came from */
  GBytes *message;      /* the raw message */
  int lock_fd;          /* held flock, -1 when not locked */
  /* The entry in the file format, when it lives in memory and in the
   * journal (journal.h) instead of a file of queue/: MESSAGE points into
   * it, and tg_spool_restore() writes it out as queue/<id>.  NULL
   * otherwise. */
  GBytes *raw;
} TgSpoolEntry;

/* Opens (creating 0700 directories as needed) the spool rooted at DIR.
 * (transfer full) */
TgSpool *tg_spool_open(const char *dir, GError **error);
void tg_spool_free(TgSpool *spool);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TgSpool, tg_spool_free)

const char *tg_spool_dir(const TgSpool *spool);

/* Refuse new entries (TG_SPOOL_ERROR_TEMP) while the file system has less
 * than MIN_FREE bytes available; 0 disables the check. */
void tg_spool_set_min_free(TgSpool *spool, guint64 min_free);
/* Entries whose message part exceeds MAX bytes fail with TOO_BIG; 0 = none. */
void tg_spool_set_max_message(TgSpool *spool, guint64 max);

gboolean tg_spool_id_ok(const char *id);
/* A fresh id of the spool's form (arrival time in µs, then random), for
 * an entry that lives only in memory.  (transfer full) */
char *tg_spool_new_id(void);

/* Starts a new entry in tmp/.  RECIPIENTS may be NULL.  (transfer full) */
TgSpoolWriter *tg_spool_writer_new(TgSpool *spool, const char *sender,
                                   const char *const *recipients,
                                   const char *origin, GError **error);
/* Like tg_spool_writer_new(), but the entry stays in memory until it
 * passes MEMORY_MAX bytes; only then is its file in tmp/ created.  An
 * entry that stayed small ends with tg_spool_writer_finish_memory(), one
 * that spilled with tg_spool_writer_commit().  (transfer full) */
TgSpoolWriter *tg_spool_writer_new_buffered(TgSpool *spool, const char *sender,
                                            const char *const *recipients,
                                            const char *origin, gsize memory_max,
                                            GError **error);
gboolean tg_spool_writer_in_memory(const TgSpoolWriter *w);
/* Finishes an entry that is still in memory: the entry, with RAW set to
 * its bytes in the file format (for the journal).  Fails like commit over
 * the size limit.  Frees the writer.  (transfer full) */
TgSpoolEntry *tg_spool_writer_finish_memory(TgSpoolWriter *w, GError **error);

/* Appends message bytes.  Over the size limit the writer keeps counting
 * but stops writing, and commit fails with TOO_BIG. */
gboolean tg_spool_writer_write(TgSpoolWriter *w, const void *data, gsize len,
                               GError **error);
guint64 tg_spool_writer_size(const TgSpoolWriter *w);
gboolean tg_spool_writer_over_limit(const TgSpoolWriter *w);

typedef enum {
  TG_SPOOL_COMMIT_SYNC,   /* fsync file, rename, fsync directory */
  TG_SPOOL_COMMIT_DEFER,  /* write and close only; caller batches the syncs */
  /* Rename into queue/ without any fsync.  For a caller that acknowledges
   * the message only once it is durable elsewhere (`deliver`: the SQLite
   * commit of its ticket, or tg_spool_quarantine(), which syncs the file)
   * and otherwise answers "try again", so the sender keeps it. */
  TG_SPOOL_COMMIT_UNSYNCED,
} TgSpoolCommitMode;

/* Finishes the entry.  In SYNC mode, when TRUE is returned the entry is
 * durable in queue/.  ID_R receives the id (transfer full).  KEEP_LOCK:
 * the entry stays flock()ed by the caller, who owns *lock_fd_r.
 * On failure the tmp file is removed; the writer is freed in every case. */
gboolean tg_spool_writer_commit(TgSpoolWriter *w, TgSpoolCommitMode mode,
                                char **id_r, int *lock_fd_r, GError **error);
/* Throws the entry away (client vanished mid-DATA).  Frees the writer. */
void tg_spool_writer_abort(TgSpoolWriter *w);

/* Group commit for DEFER'd writers: makes every entry written so far
 * durable with one syncfs(), then renames them into queue/ and fsyncs the
 * directory once.  IDS is the list of ids returned by DEFER commits.
 * FALSE when any entry failed; FAILED_R (may be NULL) then receives the ids
 * (borrowed from IDS) that are not accepted.  The others are durable in
 * queue/ and must be treated as accepted.  Without FAILED_R the renames
 * stop at the first failure. */
gboolean tg_spool_commit_batch(TgSpool *spool, GPtrArray *ids, GPtrArray *failed_r,
                               GError **error);

/* Convenience: one whole message, SYNC mode. */
gboolean tg_spool_enter(TgSpool *spool, const char *sender,
                        const char *const *recipients, const char *origin,
                        const void *data, gsize len, char **id_r,
                        GError **error);

/* Ids in AREA, oldest first.  (transfer full) GPtrArray of char*. */
GPtrArray *tg_spool_list(TgSpool *spool, TgSpoolArea area, GError **error);
/* Count and age of the oldest entry in the queue (for metrics). */
guint tg_spool_depth(TgSpool *spool, gint64 *oldest_arrival_r);

/* Reads an entry; with LOCK it first takes a non-blocking flock and fails
 * with TG_SPOOL_ERROR_LOCKED when another process holds it.
 * (transfer full) */
TgSpoolEntry *tg_spool_read(TgSpool *spool, TgSpoolArea area, const char *id,
                            gboolean lock, GError **error);
/* Same, for an entry whose lock the caller already holds (deliver). */
TgSpoolEntry *tg_spool_read_locked(TgSpool *spool, const char *id, int lock_fd,
                                   GError **error);
void tg_spool_entry_free(TgSpoolEntry *e);
/* An entry that lives only in memory (import: its mbox is the durable
 * copy), with a fresh id, no recipients and no lock.  Takes MESSAGE.
 * (transfer full) */
TgSpoolEntry *tg_spool_entry_new_memory(const char *sender, const char *origin,
                                        GBytes *message);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TgSpoolEntry, tg_spool_entry_free)

/* The entry that RAW (bytes in the file format, as the journal keeps
 * them) holds, with RAW set; NULL with TG_SPOOL_ERROR_CORRUPT when they
 * are not a whole, well-formed entry.  (transfer full) */
TgSpoolEntry *tg_spool_entry_from_raw(GBytes *raw, GError **error);
/* Writes E->raw out as queue/<id>, the same entry under the same id, so
 * that its replay stays a no-op: MODE as for tg_spool_writer_commit()
 * (DEFER: the caller's tg_spool_commit_batch() makes it durable).
 * *WRITTEN_R is FALSE when queue/ or quarantine/ holds the entry already
 * (nothing to do but make sure that directory entry is on disk).
 * LOCK_FD_R (may be NULL): as for the writer.  */
gboolean tg_spool_restore(TgSpool *spool, const TgSpoolEntry *e,
                          TgSpoolCommitMode mode, gboolean *written_r,
                          int *lock_fd_r, GError **error);
/* tg_spool_restore() of N entries, then one tg_spool_commit_batch():
 * TRUE when every one is durable in queue/ (or quarantine/).  On FALSE
 * the caller must keep its copies; the tmp/ files of this call are gone
 * (one renamed already may stay in queue/: the same id, ticketed once). */
gboolean tg_spool_restore_all(TgSpool *spool, TgSpoolEntry *const *entries, guint n,
                              GError **error);

/* Removes a processed entry from queue/ (or quarantine/) and releases its
 * lock.  Idempotent. */
gboolean tg_spool_retire(TgSpool *spool, TgSpoolEntry *e, GError **error);
/* Removes entry ID from queue/, unless it is in quarantine/ (a failed
 * tg_spool_quarantine() may have moved it and failed after): for a copy
 * whose original lives elsewhere and is tried again from there. */
void tg_spool_discard(TgSpool *spool, const char *id);
/* Moves an entry from queue/ into quarantine/ with "CODE TEXT", durably:
 * the file's data is synced too (it may come from an UNSYNCED commit). */
gboolean tg_spool_quarantine(TgSpool *spool, TgSpoolEntry *e, const char *code,
                             const char *text, GError **error);
/* Moves a quarantined entry back into queue/ for a retry. */
gboolean tg_spool_release(TgSpool *spool, const char *id, GError **error);
/* The quarantine reason line, or NULL.  (transfer full) */
char *tg_spool_quarantine_reason(TgSpool *spool, const char *id);

/* Start-of-day recovery: deletes tmp/ leftovers (never accepted). */
guint tg_spool_recover(TgSpool *spool);

G_END_DECLS
#endif
