/* clock.h - the time every subcommand uses.
 *
 * $TICKETGATE_NOW (RFC 3339, e.g. 2026-01-09T17:50:00+09:00) fixes the
 * clock, so tests of SLA timers never sleep.  Otherwise: the real time.
 */
#ifndef TG_CLOCK_H
#define TG_CLOCK_H

#include <glib.h>

/* Unix seconds. */
gint64 tg_clock_now(void);
/* RFC 3339 in UTC ("2026-01-09T08:50:00Z").  (transfer full) */
char *tg_clock_format(gint64 unix_seconds);

#endif
