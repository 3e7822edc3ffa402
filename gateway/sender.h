/* sender.h - deliver due notices from the outbound queue.
 *
 * PURPOSE
 *   tg_sender_flush() makes one pass over the notices due now
 *   (tickets/outbound.h): each is claimed ('sending', with a lease so a
 *   crash mid-send only delays it), then handed to the smarthost
 *   (smtp_send.h) or, with `[outbound] smarthost` empty, to the outbox
 *   maildir DATA_DIR/outbox (outbox.h).  Results:
 *     accepted            -> 'sent'
 *     temporary failure   -> 'deferred', retried after 1, 2, 4 ... 60
 *                            minutes; past `[outbound] max_age` -> 'failed'
 *     permanent (5xx)     -> 'failed'
 *   and every 'failed' is an event on the notice's ticket.
 *   `ticketgate spool flush` runs one pass; `serve` runs tg_sender_start(),
 *   a thread with its own store connection that flushes every few seconds
 *   and at once after tg_sender_wake().
 *
 * PUBLIC FUNCTIONS
 *   tg_sender_flush()                 one pass (caller's store)
 *   tg_sender_start() / _wake() / _stop()   the background sender
 *
 * DIAGNOSTICS
 *   One log line per attempt: outbound id, ticket, recipient, result.
 *   tg_sender_flush() fails only on store errors (the pass stops there).
 *
 * OWNERSHIP
 *   CFG is borrowed and must outlive the sender.
 */
#ifndef TG_SENDER_H
#define TG_SENDER_H

#include "gateway/config.h"
#include "tickets/store.h"

typedef struct {
  guint sent;
  guint deferred;
  guint failed;
} TgSenderStats;

gboolean tg_sender_flush(const TgConfig *cfg, TgStore *store, TgSenderStats *stats,
                         GError **error);

typedef struct TgSender TgSender;
/* Starts the background sender, flushing every INTERVAL seconds.
 * (transfer full) */
TgSender *tg_sender_start(const TgConfig *cfg, guint interval, GError **error);
void tg_sender_wake(TgSender *s);
/* Finishes the message in flight, stops the thread, frees S. */
void tg_sender_stop(TgSender *s);

#endif
