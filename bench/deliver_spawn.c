/* deliver_spawn.c - runs one `deliver` process per message, P at a time,
 * as Postfix's pipe(8) does: fork, stdin from the message, exec the
 * command directly.  (xargs needs `sh -c` per message to redirect stdin,
 * and the shell cost as much CPU as a sixth of a delivery.)
 *
 *   usage: deliver_spawn P DIR FIRST LAST COMMAND [ARG...]
 * Message i is DIR/m<i>.eml, FIRST <= i <= LAST.  Exit 1 when any child
 * did not exit 0; the count goes to stderr. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static pid_t spawn(const char *dir, long i, char **argv) {
  char path[4096];
  snprintf(path, sizeof path, "%s/m%ld.eml", dir, i);
  pid_t pid = fork();
  if (pid == 0) {
    int fd = open(path, O_RDONLY);
    int null = open("/dev/null", O_WRONLY);
    if (fd < 0 || null < 0 || dup2(fd, 0) < 0 || dup2(null, 2) < 0)
      _exit(127);
    execv(argv[0], argv);
    _exit(127);
  }
  return pid;
}

int main(int argc, char **argv) {
  if (argc < 6) {
    fprintf(stderr, "usage: deliver_spawn P DIR FIRST LAST COMMAND [ARG...]\n");
    return 2;
  }
  long parallel = atol(argv[1]), next = atol(argv[3]), last = atol(argv[4]);
  long running = 0, failed = 0;
  while (next <= last || running > 0) {
    while (running < parallel && next <= last) {
      if (spawn(argv[2], next++, argv + 5) < 0) {
        perror("fork");
        return 1;
      }
      running++;
    }
    int status;
    if (wait(&status) < 0) {
      perror("wait");
      return 1;
    }
    running--;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
      failed++;
  }
  if (failed)
    fprintf(stderr, "deliver_spawn: %ld deliveries failed\n", failed);
  return failed ? 1 : 0;
}
