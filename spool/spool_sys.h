/* spool_sys.h - the system calls the spool makes, behind a table.
 *
 * Tests replace entries to fail the N-th open/write/fsync/rename with
 * ENOSPC or EIO and then check that nothing accepted was lost (the idea of
 * SQLite's test_syscall.c).  Production code never changes the table.
 */
#ifndef TG_SPOOL_SYS_H
#define TG_SPOOL_SYS_H

#include <glib.h>
#include <sys/types.h>
#include <sys/uio.h>

typedef struct {
  int (*open)(const char *path, int flags, mode_t mode);
  ssize_t (*write)(int fd, const void *buf, size_t len);
  int (*fsync)(int fd);
  int (*close)(int fd);
  int (*rename)(const char *from, const char *to);
  int (*syncfs)(int fd);
  ssize_t (*pwritev)(int fd, const struct iovec *iov, int iovcnt, off_t offset);
  int (*fdatasync)(int fd);
} TgSpoolSys;

extern TgSpoolSys tg_spool_sys;

/* Shared by the spool's files: a failed call as TG_SPOOL_ERROR
 * (_NO_SPACE for ENOSPC and EDQUOT, else _TEMP) naming call, path and
 * errno text; always FALSE.  And an fsync of directory DIR through the
 * table, reported that way. */
gboolean tg_spool_errno_error(GError **error, const char *call, const char *path, int err);
gboolean tg_spool_fsync_dir(const char *dir, GError **error);
void tg_spool_sys_reset(void);

#endif
