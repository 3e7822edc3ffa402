/* serve_ops.h - what `serve` does for operators, in three calls, so the
 * daemon's own code stays about mail (issue 9).
 *
 *   tg_serve_ops_start()  right after the configuration is loaded, before
 *                         the data directory is touched: refuses an unknown
 *                         [gateway] user, drops root to it keeping only
 *                         CAP_NET_BIND_SERVICE, starts the metrics endpoint.
 *   tg_serve_ops_ready()  once the listeners are bound: gives up the last
 *                         capability, tells systemd READY=1 and watches
 *                         SIGHUP/SIGTERM/SIGINT for RELOADING=1/STOPPING=1.
 *   tg_serve_ops_stop()   at exit: stops the endpoint and the watches.
 *
 * Failure: tg_serve_ops_start() returns NULL, logs why and sets *RC_R to
 * the exit code (78 for configuration problems, 75 otherwise).
 */
#ifndef TG_SERVE_OPS_H
#define TG_SERVE_OPS_H

#include "gateway/config.h"

typedef struct TgServeOps TgServeOps;

TgServeOps *tg_serve_ops_start(const TgConfig *cfg, int *rc_r); /* (transfer full) */
void tg_serve_ops_ready(TgServeOps *ops, const TgConfig *cfg);
void tg_serve_ops_stop(TgServeOps *ops); /* NULL is fine */

#endif
