/* metrics.h - what an operator watches: counters and gauges in the
 * Prometheus text format, for `serve`'s HTTP endpoint and `ticketgate stats`.
 *
 * Two sources.  Durable facts are read from the store and the spool when a
 * scrape comes in (messages accepted by origin, tickets created,
 * escalations by level, outbound by status, quarantine by reason, spool
 * depth and oldest entry, rule actions by rule), so they are exact across
 * restarts and across the separate `deliver` processes.  Things only the
 * daemon sees (SMTP/LMTP rejections by reason, SQLite commit latency) are
 * process counters, registered with tg_metrics_count() and
 * tg_metrics_observe_ms(); they start at zero with the process.
 *
 * Thread-safe: the counters take one mutex.
 */
#ifndef TG_METRICS_H
#define TG_METRICS_H

#include "spool/spool.h"
#include "tickets/store.h"

#include <json-glib/json-glib.h>

/* Adds DELTA to counter NAME{LABEL="VALUE"} (LABEL may be NULL). */
void tg_metrics_count(const char *name, const char *label, const char *value,
                      guint64 delta);
/* Records a latency sample for histogram NAME. */
void tg_metrics_observe_ms(const char *name, double ms);

/* Everything, as Prometheus text.  (transfer full) */
char *tg_metrics_render(TgStore *store, TgSpool *spool, GError **error);
/* The same as one JSON object {metric: value or {label: value}}. */
JsonNode *tg_metrics_json(TgStore *store, TgSpool *spool, GError **error);

#endif
