/* clock.c - settable clock (see clock.h). */
#include "tickets/clock.h"

gint64 tg_clock_now(void) {
  const char *fixed = g_getenv("TICKETGATE_NOW");
  if (fixed && fixed[0]) {
    g_autoptr(GDateTime) dt = g_date_time_new_from_iso8601(fixed, NULL);
    if (dt)
      return g_date_time_to_unix(dt);
    g_warning("TICKETGATE_NOW=%s is not RFC 3339; using the real clock", fixed);
  }
  return g_get_real_time() / G_USEC_PER_SEC;
}

char *tg_clock_format(gint64 t) {
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(t);
  if (!dt)
    return g_strdup("1970-01-01T00:00:00Z");
  return g_date_time_format(dt, "%Y-%m-%dT%H:%M:%SZ");
}
