/* log.h - one line per event for operators: stderr (journald) or syslog.
 *
 * Lines name what an operator greps for: queue=<spool id>, ticket=<id>,
 * client=<address>, and the outcome.  Peer text is never logged raw:
 * tg_log() replaces control characters so a subject cannot forge lines.
 */
#ifndef TG_LOG_H
#define TG_LOG_H

#include <glib.h>
#include <syslog.h>

void tg_log_init(const char *target, gboolean verbose);
gboolean tg_log_verbose(void);
void tg_log(int priority, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

#define tg_info(...) tg_log(LOG_INFO, __VA_ARGS__)
#define tg_warn(...) tg_log(LOG_WARNING, __VA_ARGS__)
#define tg_err(...) tg_log(LOG_ERR, __VA_ARGS__)
#define tg_debug(...) do { if (tg_log_verbose()) tg_log(LOG_DEBUG, __VA_ARGS__); } while (0)

#endif
