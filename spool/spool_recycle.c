/* spool_recycle.c - the free/ pool of spool files (spool_recycle.h). */
#include "spool/spool_recycle.h"
#include "spool/spool.h"
#include "spool/spool_sys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

struct TgSpoolRecycle {
  char *dir;
  guint refs;      /* every TgSpool of the process on this directory */
  GMutex lock;     /* serve's SMTP committer and worker share a spool */
  GPtrArray *names;/* names believed to be in free/, char* */
  gboolean listed; /* free/ was read once; since then names are ours */
};

/* One pool per directory and process: in `serve` the SMTP committer
 * creates entries and the worker retires them, each through a TgSpool of
 * its own, and the files one retires must reach the other. */
static GMutex pools_lock;
static GHashTable *pools; /* dir -> TgSpoolRecycle* */

TgSpoolRecycle *tg_spool_recycle_new(const char *free_dir) {
  g_mutex_lock(&pools_lock);
  if (!pools)
    pools = g_hash_table_new(g_str_hash, g_str_equal);
  TgSpoolRecycle *r = g_hash_table_lookup(pools, free_dir);
  if (!r) {
    r = g_new0(TgSpoolRecycle, 1);
    r->dir = g_strdup(free_dir);
    g_mutex_init(&r->lock);
    r->names = g_ptr_array_new_with_free_func(g_free);
    g_hash_table_insert(pools, r->dir, r);
  }
  r->refs++;
  g_mutex_unlock(&pools_lock);
  return r;
}

void tg_spool_recycle_free(TgSpoolRecycle *r) {
  if (!r)
    return;
  g_mutex_lock(&pools_lock);
  gboolean last = --r->refs == 0;
  if (last)
    g_hash_table_remove(pools, r->dir);
  g_mutex_unlock(&pools_lock);
  if (!last)
    return;
  g_ptr_array_unref(r->names);
  g_mutex_clear(&r->lock);
  g_free(r->dir);
  g_free(r);
}

/* Other processes (deliver, fetch) fill free/ too, but one listing per
 * process is enough: a long-lived process then lives on what it retires. */
static void list_once(TgSpoolRecycle *r) {
  if (r->listed)
    return;
  r->listed = TRUE;
  GDir *d = g_dir_open(r->dir, 0, NULL);
  if (!d)
    return;
  const char *name;
  while ((name = g_dir_read_name(d)) && r->names->len < TG_SPOOL_RECYCLE_MAX)
    if (tg_spool_id_ok(name))
      g_ptr_array_add(r->names, g_strdup(name));
  g_dir_close(d);
}

/* A random pick: concurrent `deliver`s that listed the same names would
 * otherwise all race for the first one. */
static char *take_name(TgSpoolRecycle *r) {
  g_mutex_lock(&r->lock);
  list_once(r);
  char *name = NULL;
  if (r->names->len) {
    guint i = (guint)g_random_int_range(0, (gint32)r->names->len);
    name = g_ptr_array_steal_index_fast(r->names, i);
  }
  g_mutex_unlock(&r->lock);
  return name;
}

int tg_spool_recycle_claim(TgSpoolRecycle *r, const char *path) {
  for (int attempt = 0; attempt < 8; attempt++) {
    g_autofree char *name = take_name(r);
    if (!name)
      return -1;
    g_autofree char *from = g_build_filename(r->dir, name, NULL);
    /* Not O_TRUNC: the writer overwrites in place and cuts the rest.
     * O_NOFOLLOW: whoever can write free/ must not aim us elsewhere. */
    int fd = tg_spool_sys.open(from, O_RDWR | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
      if (errno != ENOENT) /* a symlink or worse: not ours to keep */
        unlink(from);
      continue;
    }
    /* tg_spool_recover() judges tmp/ files by their mtime: touch it
     * before it appears there.  If another claimant wins the rename,
     * touching its file did no harm. */
    futimens(fd, NULL);
    /* NOREPLACE: PATH is a fresh id, but never overwrite on faith. */
    if (renameat2(AT_FDCWD, from, AT_FDCWD, path, RENAME_NOREPLACE) != 0) {
      close(fd);
      continue;
    }
    /* Only a plain file that no other name links to (on a disk without a
     * journal a crash can leave a rename half done, one inode linked as
     * free/X and as an accepted queue/ entry) and that no process still
     * holds locked (a reader that opened it under its old queue/ name).
     * The lock taken here stays the writer's. */
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1 ||
        flock(fd, LOCK_EX | LOCK_NB) != 0) {
      close(fd);
      unlink(path);
      continue;
    }
    return fd;
  }
  return -1;
}

void tg_spool_recycle_drain(TgSpoolRecycle *r) {
  g_mutex_lock(&r->lock);
  g_ptr_array_set_size(r->names, 0);
  r->listed = TRUE;
  GDir *d = g_dir_open(r->dir, 0, NULL);
  const char *name;
  while (d && (name = g_dir_read_name(d))) {
    if (!tg_spool_id_ok(name))
      continue;
    g_autofree char *path = g_build_filename(r->dir, name, NULL);
    unlink(path);
  }
  if (d)
    g_dir_close(d);
  g_mutex_unlock(&r->lock);
}

gboolean tg_spool_recycle_put(TgSpoolRecycle *r, const char *path,
                              const char *id, gsize size, int *lock_fd) {
  g_mutex_lock(&r->lock);
  list_once(r);
  gboolean room = r->names->len < TG_SPOOL_RECYCLE_MAX;
  g_mutex_unlock(&r->lock);
  if (!room) {
    errno = ENOSPC;
    return FALSE;
  }
  g_autofree char *to = g_build_filename(r->dir, id, NULL);
  if (renameat2(AT_FDCWD, path, AT_FDCWD, to, RENAME_NOREPLACE) != 0)
    return FALSE;
  /* Big files give their space back now; small ones keep their blocks
   * for the next entry to overwrite (freeing and allocating them again
   * was 9% of `import mbox`'s CPU). */
  if (size > TG_SPOOL_RECYCLE_KEEP_BYTES) {
    int fd = open(to, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
    gboolean emptied = fd >= 0 && ftruncate(fd, 0) == 0;
    if (fd >= 0)
      close(fd);
    if (!emptied) {
      unlink(to);
      return TRUE;
    }
  }
  /* Unlocked only now that its queue/ name is gone: a reader that opened
   * the old name and gets the lock finds that name missing and lets go. */
  if (lock_fd && *lock_fd >= 0) {
    close(*lock_fd);
    *lock_fd = -1;
  }
  g_mutex_lock(&r->lock);
  g_ptr_array_add(r->names, g_strdup(id));
  g_mutex_unlock(&r->lock);
  return TRUE;
}
