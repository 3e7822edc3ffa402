/* safety.h - refuse setups that let other local users read or rewrite mail.
 *
 * tg_safety_check() looks at what CFG points to and lists, as one
 * sentence each naming the path and the fix, every problem found:
 *   - the data directory or the spool directory is world-writable (anyone
 *     could plant, swap or delete spool entries);
 *   - the configuration file holds a password (an [imap:NAME] password)
 *     and others can read it;
 *   - a password_file ([imap:NAME] or [outbound]) or the HMAC secret_file
 *     is readable by others.
 * Paths that do not exist yet are fine (they are created 0700/0600).
 * `ticketgate check` prints every problem; tg_pipeline_open() (so serve,
 * deliver, fetch, import and spool retry) refuses to start on any.
 */
#ifndef TG_SAFETY_H
#define TG_SAFETY_H

#include "gateway/config.h"

/* Appends each problem (transfer full, char*) to PROBLEMS; returns TRUE
 * when there is none. */
gboolean tg_safety_check(const TgConfig *cfg, GPtrArray *problems);

/* The same as a GError (G_FILE_ERROR_PERM) naming the first problem. */
gboolean tg_safety_check_ok(const TgConfig *cfg, GError **error);

#endif
