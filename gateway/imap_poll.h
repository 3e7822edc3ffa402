/* imap_poll.h - one pass over the folders of one IMAP account.
 *
 * For each folder: SELECT; compare UIDVALIDITY with the stored state
 * (tickets/imap_state.h) and start again from UID 0 when it changed;
 * UID SEARCH for UIDs above the stored last UID; then, in chunks of the
 * account's `batch` UIDs, UID FETCH the sizes and the bodies
 * (BODY.PEEK[], at most TG_IMAP_POLL_GROUP_BYTES of bodies per command,
 * so memory stays bounded however large the folder), and per group:
 *
 *   1. write each message into the incoming spool (DEFER) and make the
 *      group durable with tg_spool_commit_batch();
 *   2. hand the spool ids to ON_SPOOLED (e.g. the pipeline), if set;
 *   3. only then apply the after-action (\Seen; MOVE, or COPY + \Deleted
 *      + EXPUNGE; \Deleted + UID EXPUNGE);
 *   4. store the group's highest UID as the folder's last UID.
 *
 * A crash anywhere leaves either untouched messages (fetched again; what
 * was already spooled is dropped by the ingest's Message-ID / content
 * hash dedup) or messages that are spooled and acted on - never a message
 * acted on before it was durable.  A message whose RFC822.SIZE is over
 * MAX_MESSAGE is not fetched: it stays on the server, unflagged, with a
 * warning, and is not retried.
 *
 * Failure: FALSE with TG_IMAP_ERROR (naming the account); the connection
 * may be marked broken (tg_imap_conn_broken_ok).  Other folders of the
 * account are still polled; the first error is returned.
 */
#ifndef TG_IMAP_POLL_H
#define TG_IMAP_POLL_H

#include "gateway/imap_conn.h"
#include "spool/spool.h"
#include "tickets/store.h"

#define TG_IMAP_POLL_GROUP_BYTES (8u * 1024 * 1024)

/* Called with the ids (char*) of a group just made durable; the callee
 * may process them but owns nothing. */
typedef void (*TgImapPollOnSpooled)(GPtrArray *ids, gpointer user_data);

typedef struct {
  TgSpool *spool;          /* borrowed */
  TgStore *store;          /* borrowed; holds imap_state */
  TgImapPollOnSpooled on_spooled;
  gpointer on_spooled_data;
  guint64 max_message;     /* larger messages stay on the server; 0 = any */
  const gint *stop;        /* optional: nonzero = stop between groups */
} TgImapPoll;

typedef struct {
  guint spooled;  /* messages put into the spool */
  guint skipped;  /* over the size limit, left on the server */
} TgImapPollStats;

/* One folder; the connection must be logged in. */
gboolean tg_imap_poll_folder(TgImapPoll *p, TgImapConn *conn, const char *folder,
                             TgImapPollStats *stats, GError **error);
/* Every folder of the connection's account. */
gboolean tg_imap_poll_account(TgImapPoll *p, TgImapConn *conn,
                              TgImapPollStats *stats, GError **error);

#endif
