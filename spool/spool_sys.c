/* spool_sys.c - default system call table for the spool (see spool_sys.h). */
#include "spool/spool_sys.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/uio.h>
#include <unistd.h>

static int sys_open(const char *path, int flags, mode_t mode) {
  return open(path, flags, mode);
}

/* Spelled out twice: C17 does not let one object initialise another at
 * file scope (GCC allows it, clang refuses). */
#define TG_SPOOL_SYS_DEFAULTS                                                  \
  {                                                                            \
    .open = sys_open, .write = write, .fsync = fsync, .close = close,          \
    .rename = rename, .syncfs = syncfs, .pwritev = pwritev,                     \
    .fdatasync = fdatasync,                                        \
  }

static const TgSpoolSys defaults = TG_SPOOL_SYS_DEFAULTS;

TgSpoolSys tg_spool_sys = TG_SPOOL_SYS_DEFAULTS;

void tg_spool_sys_reset(void) { tg_spool_sys = defaults; }
