/* journal.h - the incoming spool's append-only journal: many small
 * entries made durable by one write and one fdatasync(), instead of a
 * file each in queue/.
 *
 * Why: `serve` accepts thousands of small messages a second.  A file per
 * message costs a create (or a claim from free/), a write, a close, a
 * rename into queue/ and a directory fsync, then a read, a lock and a
 * rename out of queue/ by the worker: ~100 µs of system time per message
 * on ext4, a third of the daemon's CPU.  An entry in the journal costs
 * its share of one pwritev() and one fdatasync() per group commit, and
 * the worker takes it from memory.
 *
 * Contract (DESIGN.md step 1 holds): tg_journal_append() returns TRUE
 * only once its records are durable.  Each appended record holds one
 * reference on its segment; the owner of the record releases it
 * (tg_journal_release) once the entry no longer needs the journal: it is
 * ticketed (committed in SQLite), or written out as queue/<id> by
 * tg_spool_restore() (quarantine, temporary failure).  A segment that no
 * record needs any more is deleted, also the one appends go to (the next
 * append starts a new one): no segment on disk means nothing in flight.
 * Whatever a crash leaves, tg_journal_recover() writes out as ordinary
 * entries of queue/ under their own ids, so the pipeline tickets them the
 * usual way and a replay of one already ticketed is a no-op (its spool id
 * is stored UNIQUE).
 *
 * Layout: <spool>/journal/<id>.jnl, where <id> has the form of a spool id.
 * A segment starts with "TGJOURNAL1\n" and 8 bytes of nonce, then records:
 *   "TGJR", u32 payload length, u64 nonce, u32 CRC-32 of the 12 bytes
 *   before it and the payload, then the payload: one entry in the spool's
 *   file format (spool.h), which names its own id.
 * All integers little-endian.  Recovery stops at the first record that
 * does not check out: the tail of a write that never returned (never
 * acknowledged), or blocks of some older file a crash left in a file's
 * new extent (another nonce).
 *
 * A live segment is flock()ed by the process that appends to it, so a
 * `spool retry` or a second `serve` never recovers a journal in use.
 *
 * Threads: append from one thread at a time; release from any thread.
 */
#ifndef TG_JOURNAL_H
#define TG_JOURNAL_H

#include "spool/spool.h"

#include <glib.h>

G_BEGIN_DECLS

/* A segment is closed to appends once it is this big. */
#define TG_JOURNAL_SEGMENT_MAX (64u << 20)

typedef struct TgJournal TgJournal;
typedef struct TgJournalSegment TgJournalSegment;

/* Opens the journal of the spool at SPOOL_DIR (creating journal/).
 * (transfer full) */
TgJournal *tg_journal_open(const char *spool_dir, GError **error);
/* Closes the journal.  Segments that records still need stay on disk for
 * tg_journal_recover(); releasing a reference after this is a bug. */
void tg_journal_free(TgJournal *j);

/* Makes the N entries (each with RAW set) durable in the current segment:
 * one write, one fdatasync().  On TRUE, *SEGMENT_R holds N references,
 * one per entry, to release.  On FALSE nothing was appended: no record of
 * this call will be recovered. */
gboolean tg_journal_append(TgJournal *j, TgSpoolEntry *const *entries, guint n,
                           TgJournalSegment **segment_r, GError **error);
/* Drops one reference.  Thread-safe. */
void tg_journal_release(TgJournalSegment *segment);

/* Segments in the journal directory (for tests and the operator). */
guint tg_journal_segment_count(const char *spool_dir);

/* The entries of a segment's bytes CONTENT, up to the first record that
 * does not check out; *USED_R: the bytes they took, header included (0:
 * no header).  Each entry has RAW set.  (transfer full) GPtrArray of
 * TgSpoolEntry*. */
GPtrArray *tg_journal_parse(GBytes *content, gsize *used_r);
/* A segment's bytes holding PAYLOADS (entries in the spool's file
 * format) under NONCE, as appends would have written them (tests).
 * (transfer full) */
GBytes *tg_journal_frame(guint64 nonce, GBytes *const *payloads, guint n);

typedef struct {
  guint restored;        /* entries written out to queue/ */
  guint64 dropped_bytes; /* bytes past the last good record: the append a
                            crash cut short (never acknowledged), or damage */
  guint failed;          /* segments left for the next attempt */
} TgJournalRecovery;

/* Writes every record of every segment that no live process holds into
 * SPOOL's queue/ (tg_spool_restore_all()), then deletes the segment.
 * Returns FALSE when a segment could not be brought over (it stays for
 * the next attempt; the others are still tried).  R (zeroed first) says
 * what was done. */
gboolean tg_journal_recover(TgSpool *spool, TgJournalRecovery *r, GError **error);

G_END_DECLS
#endif
