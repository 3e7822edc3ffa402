/* sd_notify.c - the systemd notification protocol (see sd_notify.h).
 *
 * SECURITY: $NOTIFY_SOCKET comes from our own environment (systemd sets
 * it); only its length is checked against sun_path.  The socket is
 * SOCK_CLOEXEC and closed before returning, and the variable stays set
 * (a reload sends READY=1 again).
 */
#include "gateway/sd_notify.h"
#include "gateway/log.h"

#include <glib-unix.h>

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

gboolean tg_sd_notify(const char *state) {
  const char *path = g_getenv("NOTIFY_SOCKET");
  if (!path || !path[0])
    return TRUE;
  struct sockaddr_un sun = {.sun_family = AF_UNIX};
  gsize len = strlen(path);
  if ((path[0] != '/' && path[0] != '@') || len >= sizeof sun.sun_path) {
    tg_debug("sd_notify: NOTIFY_SOCKET '%s' is not a usable socket path", path);
    return FALSE;
  }
  memcpy(sun.sun_path, path, len);
  if (path[0] == '@')
    sun.sun_path[0] = '\0'; /* abstract namespace */
  socklen_t salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    tg_debug("sd_notify: socket(AF_UNIX) failed: %s", g_strerror(errno));
    return FALSE;
  }
  gsize n = strlen(state);
  ssize_t sent;
  do
    sent = sendto(fd, state, n, MSG_NOSIGNAL, (struct sockaddr *)&sun, salen);
  while (sent < 0 && errno == EINTR);
  int saved = errno;
  close(fd);
  if (sent != (ssize_t)n) {
    tg_debug("sendto(%s) failed: %s", path, g_strerror(saved));
    return FALSE;
  }
  return TRUE;
}

gboolean tg_sd_notify_printf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *state = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  return tg_sd_notify(state);
}

static char *one_line(const char *text) {
  char *s = g_strdup(text ? text : "");
  for (char *p = s; *p; p++)
    if (*p == '\n' || *p == '\r')
      *p = ' ';
  return s;
}

gboolean tg_sd_notify_ready(const char *status) {
  if (!status)
    return tg_sd_notify("READY=1");
  g_autofree char *line = one_line(status);
  return tg_sd_notify_printf("READY=1\nSTATUS=%s", line);
}

gboolean tg_sd_notify_reloading(void) {
  return tg_sd_notify_printf("RELOADING=1\nMONOTONIC_USEC=%" G_GINT64_FORMAT
                             "\nSTATUS=reloading the configuration",
                             g_get_monotonic_time());
}

gboolean tg_sd_notify_stopping(void) {
  return tg_sd_notify("STOPPING=1\nSTATUS=stopping");
}

gboolean tg_sd_notify_status(const char *text) {
  g_autofree char *line = one_line(text);
  return tg_sd_notify_printf("STATUS=%s", line);
}

/* -------- signal watches for `serve` -------- */

static struct {
  guint sources[3];
  guint ready_idle;
  char *status;
} watch;

static gboolean on_ready_again(gpointer data) {
  watch.ready_idle = 0;
  tg_sd_notify_ready(watch.status);
  return G_SOURCE_REMOVE;
}

static gboolean on_hup(gpointer data) {
  tg_sd_notify_reloading();
  if (!watch.ready_idle)
    watch.ready_idle = g_idle_add(on_ready_again, NULL);
  return G_SOURCE_CONTINUE;
}

static gboolean on_stop(gpointer data) {
  tg_sd_notify_stopping();
  return G_SOURCE_CONTINUE;
}

void tg_sd_notify_watch(const char *status) {
  tg_sd_notify_unwatch();
  watch.status = g_strdup(status);
  watch.sources[0] = g_unix_signal_add(SIGHUP, on_hup, NULL);
  watch.sources[1] = g_unix_signal_add(SIGTERM, on_stop, NULL);
  watch.sources[2] = g_unix_signal_add(SIGINT, on_stop, NULL);
}

void tg_sd_notify_unwatch(void) {
  for (gsize i = 0; i < G_N_ELEMENTS(watch.sources); i++)
    if (watch.sources[i])
      g_source_remove(watch.sources[i]);
  if (watch.ready_idle)
    g_source_remove(watch.ready_idle);
  g_clear_pointer(&watch.status, g_free);
  memset(&watch, 0, sizeof watch);
}
