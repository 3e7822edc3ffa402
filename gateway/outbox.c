/* outbox.c - the outbox maildir (contract in outbox.h). */
#include "gateway/outbox.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static gboolean fail(GError **error, const char *call, const char *path, int err) {
  g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(err), "%s(%s) failed: %s", call,
              path, g_strerror(err));
  return FALSE;
}

static gboolean write_all(int fd, const char *p, gsize len, const char *path, GError **error) {
  while (len) {
    ssize_t n = write(fd, p, len);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return fail(error, "write", path, errno);
    }
    p += n;
    len -= (gsize)n;
  }
  return TRUE;
}

static gboolean fsync_dir(const char *dir, GError **error) {
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return fail(error, "open", dir, errno);
  if (fsync(fd) != 0) {
    int e = errno;
    close(fd);
    return fail(error, "fsync", dir, e);
  }
  close(fd);
  return TRUE;
}

gboolean tg_outbox_deliver(const char *maildir, gint64 outbound_id,
                           const char *envelope_sender, const char *recipient,
                           GBytes *message, char **path_r, GError **error) {
  const char *subs[] = {"tmp", "new", "cur"};
  for (gsize i = 0; i < G_N_ELEMENTS(subs); i++) {
    g_autofree char *d = g_build_filename(maildir, subs[i], NULL);
    if (g_mkdir_with_parents(d, 0700) != 0)
      return fail(error, "mkdir", d, errno);
  }
  gint64 now_us = g_get_real_time();
  char host[256] = "localhost";
  gethostname(host, sizeof host - 1);
  for (char *p = host; *p; p++)
    if (*p == '/' || *p == ':')
      *p = '_';
  g_autofree char *name = g_strdup_printf(
      "%" G_GINT64_FORMAT ".M%06dP%dQ%" G_GINT64_FORMAT ".%s", now_us / G_USEC_PER_SEC,
      (int)(now_us % G_USEC_PER_SEC), (int)getpid(), outbound_id, host);
  g_autofree char *tmp = g_build_filename(maildir, "tmp", name, NULL);
  g_autofree char *newdir = g_build_filename(maildir, "new", NULL);
  g_autofree char *dst = g_build_filename(newdir, name, NULL);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    return fail(error, "open", tmp, errno);
  g_autofree char *head = g_strdup_printf("Return-Path: <%s>\nDelivered-To: %s\n",
                                          envelope_sender, recipient);
  gsize len = 0;
  const char *data = g_bytes_get_data(message, &len);
  if (!write_all(fd, head, strlen(head), tmp, error) ||
      !write_all(fd, data, len, tmp, error)) {
    close(fd);
    unlink(tmp);
    return FALSE;
  }
  if (fsync(fd) != 0) {
    int e = errno;
    close(fd);
    unlink(tmp);
    return fail(error, "fsync", tmp, e);
  }
  if (close(fd) != 0) {
    int e = errno;
    unlink(tmp);
    return fail(error, "close", tmp, e);
  }
  if (rename(tmp, dst) != 0) {
    int e = errno;
    unlink(tmp);
    return fail(error, "rename", tmp, e);
  }
  if (!fsync_dir(newdir, error))
    return FALSE;
  if (path_r)
    *path_r = g_steal_pointer(&dst);
  return TRUE;
}
