/* spool_sys.c - default system call table for the spool (see spool_sys.h). */
#include "spool/spool_sys.h"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

static int sys_open(const char *path, int flags, mode_t mode) {
  return open(path, flags, mode);
}

static const TgSpoolSys defaults = {
    .open = sys_open,
    .write = write,
    .fsync = fsync,
    .close = close,
    .rename = rename,
    .syncfs = syncfs,
};

TgSpoolSys tg_spool_sys = defaults;

void tg_spool_sys_reset(void) { tg_spool_sys = defaults; }
