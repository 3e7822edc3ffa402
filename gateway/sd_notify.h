/* sd_notify.h - tell systemd (Type=notify) where the daemon is.
 *
 * The protocol is one datagram of "KEY=VALUE\n" lines to the AF_UNIX
 * socket named by $NOTIFY_SOCKET (a leading '@' means the abstract
 * namespace).  No libsystemd: this is the whole of it.  Without
 * $NOTIFY_SOCKET every call is a no-op that succeeds, so `serve` behaves
 * the same from a shell, a container or a test.
 *
 * Failure is never fatal to the caller: a notification that cannot be
 * sent is logged once at debug level and FALSE is returned.
 */
#ifndef TG_SD_NOTIFY_H
#define TG_SD_NOTIFY_H

#include <glib.h>

/* Sends STATE ("READY=1\nSTATUS=...") as one datagram.  TRUE when sent
 * or when there is no $NOTIFY_SOCKET. */
gboolean tg_sd_notify(const char *state);
gboolean tg_sd_notify_printf(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

/* READY=1 with STATUS=STATUS (STATUS may be NULL). */
gboolean tg_sd_notify_ready(const char *status);
/* RELOADING=1 with MONOTONIC_USEC (systemd >= 253 wants it). */
gboolean tg_sd_notify_reloading(void);
/* STOPPING=1. */
gboolean tg_sd_notify_stopping(void);
/* STATUS=TEXT (one line: newlines become spaces). */
gboolean tg_sd_notify_status(const char *text);

/* For `serve`: adds main-loop sources of its own (beside the daemon's)
 * so that SIGTERM/SIGINT send STOPPING=1 and SIGHUP sends RELOADING=1,
 * then READY=1 with STATUS once the loop is idle again (after every
 * default-priority handler, the daemon's reload among them, has run).
 * STATUS is kept for those READY=1 lines. */
void tg_sd_notify_watch(const char *status);
void tg_sd_notify_unwatch(void);

#endif
