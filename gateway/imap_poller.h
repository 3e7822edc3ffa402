/* imap_poller.h - the continuous IMAP side of `serve`.
 *
 * One thread per [imap:NAME] account.  Each keeps a connection open and
 * loops: a pass over the account's folders (imap_poll.h), then waits for
 * new mail - with IDLE on the first folder when the server advertises it
 * (new mail is picked up within a second or two), otherwise by polling
 * every poll_interval.  IDLE is also renewed every poll_interval (at most
 * 25 minutes), which re-checks every folder.
 *
 * Failures never stop the daemon or the other accounts: a refused login
 * or a dropped connection is logged with the account's name and retried
 * with exponential backoff (1 s doubling up to 5 minutes; reset after a
 * good pass).  Every network wait is bounded by the account's timeout.
 *
 * Spooled messages are left in the incoming queue for serve's drain (the
 * pipeline runs on serve's main thread only).  Each thread opens its own
 * spool handle and store connection; the config is shared read-only.
 */
#ifndef TG_IMAP_POLLER_H
#define TG_IMAP_POLLER_H

#include "gateway/config.h"

typedef struct TgImapPoller TgImapPoller;

/* Starts the threads; CFG is borrowed and must outlive the poller.
 * Returns NULL when CFG has no IMAP accounts.  (transfer full) */
TgImapPoller *tg_imap_poller_start(const TgConfig *cfg);
/* Wakes every thread, waits for them (at most one network timeout) and
 * frees the poller.  NULL is fine. */
void tg_imap_poller_stop(TgImapPoller *poller);

#endif
