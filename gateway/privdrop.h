/* privdrop.h - give up root before the first byte of mail is read.
 *
 * `[gateway] user = NAME` (empty: keep the starting user).  A process
 * started as root binds its listening sockets and loads its
 * configuration, then calls tg_privdrop(): the data directory is created
 * if needed and handed to NAME, then supplementary groups, gid and uid
 * are set to NAME's - for good (the saved ids too), so there is no way
 * back to root.  `serve` drops before it touches the data directory and
 * keeps only the right to bind low ports until its listeners are bound
 * (tg_privdrop_keep_bind); `deliver` and `fetch` call tg_privdrop()
 * before they touch the spool.
 *
 * Not root: nothing changes (Postfix's pipe or systemd's User= already
 * chose the user); a different NAME is logged at debug level.
 * tg_privdrop_user_ok() lets `serve` refuse a bad NAME before it binds.
 *
 * Failure: FALSE with ERROR set.  TG_PRIVDROP_ERROR_NO_USER (a
 * configuration error: exit 78, root or not) when NAME does not exist -
 * a root process never carries on as root because of a typo; TG_PRIVDROP_ERROR_FAILED
 * (exit 75) when a chown or set*id call fails.
 *
 * SECURITY: the walk over the data directory never follows symbolic
 * links (lchown, FTW_PHYS) and leaves alone regular files with more than
 * one hard link, so a user who owned the directory before cannot make
 * root chown a file elsewhere.  The data directory's owner is only
 * changed when it is not already NAME's.
 */
#ifndef TG_PRIVDROP_H
#define TG_PRIVDROP_H

#include "gateway/config.h"

#define TG_PRIVDROP_ERROR (tg_privdrop_error_quark())
GQuark tg_privdrop_error_quark(void);
typedef enum {
  TG_PRIVDROP_ERROR_NO_USER,
  TG_PRIVDROP_ERROR_FAILED,
} TgPrivdropError;

/* Switches to CFG->user when running as root (see above). */
gboolean tg_privdrop(const TgConfig *cfg, GError **error);

/* The same for a daemon whose listeners are not bound yet: the process
 * keeps CAP_NET_BIND_SERVICE (and nothing else) across the switch, so it
 * can still bind port 25 as NAME; tg_privdrop_release_bind() gives that
 * up once the listeners are bound.  No mail is read in between. */
gboolean tg_privdrop_keep_bind(const TgConfig *cfg, GError **error);
void tg_privdrop_release_bind(void);

/* TRUE when CFG->user is empty or names an existing user (for `check`). */
gboolean tg_privdrop_user_ok(const TgConfig *cfg, GError **error);

/* The sysexits code for an ERROR from tg_privdrop(). */
int tg_privdrop_exit_code(const GError *error);

#endif
