/* imap_state.h - how far the IMAP poller got, per account and folder.
 *
 * One row per (account, folder) in table imap_state (schema step 2):
 * the folder's UIDVALIDITY and the highest UID whose message is safely in
 * the incoming spool and had its after-action applied.  The poller asks
 * for UIDs above last_uid only; a changed UIDVALIDITY means the UIDs no
 * longer mean what they meant, so the poller starts again from 0 and the
 * ingest's Message-ID / content-hash dedup drops what was seen before.
 *
 * Failure: FALSE with a TG_STORE_ERROR (TEMP when the database is busy or
 * the disk is full).  Nothing here owns the store.
 */
#ifndef TG_IMAP_STATE_H
#define TG_IMAP_STATE_H

#include "tickets/store.h"

#include <glib.h>

/* Reads the row for ACCOUNT/FOLDER.  When there is none, *UIDVALIDITY_R
 * and *LAST_UID_R are 0 and TRUE is returned. */
gboolean tg_imap_state_get(TgStore *store, const char *account,
                           const char *folder, guint32 *uidvalidity_r,
                           guint32 *last_uid_r, GError **error);

/* Inserts or replaces the row for ACCOUNT/FOLDER (autocommit unless the
 * caller holds a transaction). */
gboolean tg_imap_state_set(TgStore *store, const char *account,
                           const char *folder, guint32 uidvalidity,
                           guint32 last_uid, GError **error);

#endif
