/* spool_recycle.h - a pool of retired spool files, reused for new entries.
 *
 * WHY: one new inode per message is the spool's cost that grows with the
 * rate.  On ext4 without a journal (these VMs' disks) the inode allocator
 * skips every inode freed in the last seconds (recently_deleted()), so at
 * a few thousand messages per second each create scanned tens of thousands
 * of inodes: 40% of `import mbox` time went to find_inode_bit.  Renaming a
 * retired file into free/ and back into tmp/ allocates nothing.
 *
 * A file in free/ is garbage in every state: nothing ever reads free/, and
 * a claimed file is overwritten from its start and cut to the new entry's
 * length before the fsync.  Until then a file up to
 * TG_SPOOL_RECYCLE_KEEP_BYTES keeps its last entry's bytes (a copy of what
 * the store holds, in the same 0700 spool); bigger ones are emptied when
 * they are retired, so the pool never holds much disk (at most
 * TG_SPOOL_RECYCLE_MAX x TG_SPOOL_RECYCLE_KEEP_BYTES, given back at once
 * when the spool falls below its free-space reserve).  The pool is
 * capped; above the cap retired files are unlinked as before.  Safe across processes: a
 * claim is one rename, and only one of several claimants of a name wins.
 */
#ifndef TG_SPOOL_RECYCLE_H
#define TG_SPOOL_RECYCLE_H

#include <glib.h>

typedef struct TgSpoolRecycle TgSpoolRecycle;

#define TG_SPOOL_RECYCLE_MAX 1024 /* files kept in free/ */
#define TG_SPOOL_RECYCLE_KEEP_BYTES (64 * 1024) /* emptied above this */

/* FREE_DIR must exist.  Instances on one directory share their pool.
 * (transfer full) */
TgSpoolRecycle *tg_spool_recycle_new(const char *free_dir);
void tg_spool_recycle_free(TgSpoolRecycle *r);

/* Moves a pooled file to PATH (which must not exist) and returns it open
 * O_RDWR at offset 0, flock()ed by this descriptor and NOT truncated: the
 * caller overwrites it and cuts it to length (ftruncate) before its fsync.
 * -1 when the pool had nothing fit to give (files that are not plain,
 * linked twice or still locked are thrown away): the caller then creates
 * a new file. */
int tg_spool_recycle_claim(TgSpoolRecycle *r, const char *path);

/* Moves the retired entry file PATH, whose name is the spool id ID and
 * whose message was SIZE bytes, into the pool.  *LOCK_FD (may be NULL),
 * the entry's flock, is closed once the file has moved: a locked file
 * would be of no use to the next claim.  FALSE with errno set when it did
 * not move (pool full, no such file, a rename error): the caller unlinks
 * it instead. */
gboolean tg_spool_recycle_put(TgSpoolRecycle *r, const char *path,
                              const char *id, gsize size, int *lock_fd);

/* Empties the pool, for a spool short of disk space. */
void tg_spool_recycle_drain(TgSpoolRecycle *r);

#endif
