/* outbox.h - the outbox maildir: where notices go without a smarthost.
 *
 * PURPOSE
 *   With `[outbound] smarthost` empty, the sender delivers each notice into
 *   DATA_DIR/outbox, a maildir (tmp/, new/, cur/), so a fresh install sends
 *   nothing into the world and an admin (or a test) can read what would have
 *   gone out.  Each file is the message as it would be sent, preceded by
 *   Return-Path (the VERP envelope sender) and Delivered-To (the recipient).
 *
 *   Written the long way: tmp/NAME with O_CREAT|O_EXCL, write, fsync,
 *   close checked, rename to new/NAME, fsync new/.  A reader never sees a
 *   partial file.  NAME is SECONDS.MUSECSPPID_QOUTBOUND-ID.HOST.
 *
 * DIAGNOSTICS
 *   G_FILE_ERROR with the syscall, path and errno; every failure is
 *   temporary for the sender (disk full, permissions).
 */
#ifndef TG_OUTBOX_H
#define TG_OUTBOX_H

#include <glib.h>

/* Delivers MESSAGE for notice OUTBOUND_ID.  *PATH_R (may be NULL) gets the
 * file's path in new/ (transfer full). */
gboolean tg_outbox_deliver(const char *maildir, gint64 outbound_id,
                           const char *envelope_sender, const char *recipient,
                           GBytes *message, char **path_r, GError **error);

#endif
