/* log.c - operator log (see log.h). */
#include "gateway/log.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static gboolean use_syslog;
static gboolean verbose;
/* getpid() is a system call (glibc stopped caching it): three per message
 * on the SMTP thread.  ticketgate never forks after tg_log_init(). */
static gint log_pid;

static void on_glib_log(const gchar *domain, GLogLevelFlags level,
                        const gchar *message, gpointer data) {
  int prio = (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL)) ? LOG_ERR
             : (level & G_LOG_LEVEL_WARNING)                      ? LOG_WARNING
                                                                  : LOG_INFO;
  if ((level & G_LOG_LEVEL_DEBUG) && !verbose)
    return;
  tg_log(prio, "%s%s%s", domain ? domain : "", domain ? ": " : "", message);
}

void tg_log_init(const char *target, gboolean v) {
  verbose = v;
  g_atomic_int_set(&log_pid, (int)getpid());
  use_syslog = g_strcmp0(target, "syslog") == 0;
  if (use_syslog)
    openlog("ticketgate", LOG_PID, LOG_MAIL);
  g_log_set_default_handler(on_glib_log, NULL);
}

gboolean tg_log_verbose(void) { return verbose; }

void tg_log(int priority, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *msg = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  for (char *c = msg; *c; c++)
    if ((unsigned char)*c < 0x20 && *c != '\t')
      *c = '?';
  if (use_syslog) {
    syslog(priority, "%s", msg);
    return;
  }
  const char *level = priority <= LOG_ERR       ? "error: "
                      : priority == LOG_WARNING ? "warning: "
                      : priority == LOG_DEBUG   ? "debug: "
                                                : "";
  int pid = g_atomic_int_get(&log_pid);
  fprintf(stderr, "ticketgate[%d]: %s%s\n", pid ? pid : (int)getpid(), level, msg);
}
