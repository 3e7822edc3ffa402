/* spool_ceiling.c - the disk's ceiling for our durability contract: how
 * many "new file + write 4 KB + fsync + close + rename + fsync(dir)" per
 * second this machine does, the reference for the ingest benchmarks.
 * usage: spool_ceiling DIR [COUNT] */
#include <fcntl.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: spool_ceiling DIR [COUNT]\n");
    return 64;
  }
  int count = argc > 2 ? atoi(argv[2]) : 2000;
  char buf[4096];
  for (gsize i = 0; i < sizeof buf; i++)
    buf[i] = (char)('a' + i % 26);
  g_autofree char *tmp = g_build_filename(argv[1], "tmp", NULL);
  g_autofree char *queue = g_build_filename(argv[1], "queue", NULL);
  g_mkdir_with_parents(tmp, 0700);
  g_mkdir_with_parents(queue, 0700);
  int dfd = open(queue, O_RDONLY | O_DIRECTORY);
  gint64 t0 = g_get_monotonic_time();
  for (int i = 0; i < count; i++) {
    g_autofree char *a = g_strdup_printf("%s/%d", tmp, i);
    g_autofree char *b = g_strdup_printf("%s/%d", queue, i);
    int fd = open(a, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0 || write(fd, buf, sizeof buf) != (ssize_t)sizeof buf || fsync(fd) != 0 ||
        close(fd) != 0 || rename(a, b) != 0 || fsync(dfd) != 0) {
      perror("spool_ceiling");
      return 1;
    }
  }
  double secs = (double)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC;
  printf("%.0f\n", count / secs);
  for (int i = 0; i < count; i++) {
    g_autofree char *b = g_strdup_printf("%s/%d", queue, i);
    unlink(b);
  }
  return 0;
}
