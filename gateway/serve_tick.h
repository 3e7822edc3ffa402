/* serve_tick.h - the escalation timer of `serve`: a thread that runs one
 * tick pass (tickets/tick.h) at start and then every INTERVAL seconds,
 * with its own pipeline (store connection, templates, policies).  The
 * pass is the same as `ticketgate tick`; both may run at once (passes are
 * serialized by the store and never double-notify).
 * Ownership: CFG is borrowed and must outlive the ticker. */
#ifndef TG_SERVE_TICK_H
#define TG_SERVE_TICK_H

#include "gateway/config.h"

typedef struct TgServeTick TgServeTick;

/* (transfer full) NULL and ERROR when the pipeline does not open. */
TgServeTick *tg_serve_tick_start(const TgConfig *cfg, guint interval, GError **error);
/* Finishes the pass in progress, stops the thread, frees T (NULL ok). */
void tg_serve_tick_stop(TgServeTick *t);

#endif
