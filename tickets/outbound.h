/* outbound.h - the outbound queue: notices waiting to be sent.
 *
 * PURPOSE
 *   tg_outbound_queue() puts one composed message into the store, inside the
 *   caller's transaction, so a notice is queued if and only if the ticket
 *   change that caused it is committed.  It writes:
 *     - a row in `outbound` (status 'queued', due now), whose id names the
 *       notice everywhere: the signed Message-ID <tT.oID.TOKEN@domain>
 *       (templates/message_id.h) and the signed VERP envelope sender
 *       bounces+ID-TOKEN@bounce_domain that DSNs come back to
 *       (tickets/bounce.h), TOKEN = tg_thread_token(secret, "bounce", ID);
 *     - the serialized message (LF line ends) in `blobs`, keyed by SHA-256;
 *     - a `messages` row with direction 'out', so `ticket show` lists the
 *       notice and a reply threads by its Message-ID.
 *   The sender (gateway/sender.h) reads due rows with tg_outbound_due(),
 *   delivers them and records the result with tg_outbound_mark_*().
 *
 * PUBLIC FUNCTIONS
 *   tg_outbound_queue()         compose + store one notice (caller's tx)
 *   tg_outbound_verp()          "bounces+ID-TOKEN@domain"
 *   tg_outbound_parse_verp()    ID from such an address (token checked), or 0
 *   tg_outbound_claim()         take a due notice for sending (own tx)
 *   tg_outbound_mark_sent() / _deferred() / _failed()   (own tx)
 *   tg_outbound_retry_delay()   the backoff schedule
 *
 * DIAGNOSTICS
 *   TG_STORE_ERROR_* from the store.  A message that cannot be composed
 *   (COMPOSE_ERROR_INVALID: bad address) leaves nothing behind (a SAVEPOINT
 *   is rolled back) and is returned as such, so a caller can record it on
 *   the ticket instead of failing the ticket change.
 *
 * OWNERSHIP
 *   Inputs are borrowed.  tg_outbound_claim() fills a TgOutboundItem that
 *   the caller clears with tg_outbound_item_clear().
 */
#ifndef TG_OUTBOUND_H
#define TG_OUTBOUND_H

#include "templates/compose.h"
#include "tickets/store.h"

typedef struct {
  GBytes *secret;            /* HMAC key of the signed Message-IDs */
  const char *msgid_domain;  /* right-hand side of our Message-IDs */
  const char *bounce_domain; /* domain of bounces+ID-TOKEN@ (routes to us) */
} TgOutboundKeys;

/* Queues MSG (its message_id is ignored: the signed one is set here) for
 * RECIPIENT as a notice of KIND ("ack", "status-resolved", ...) on TICKET.
 * msg->auto_submitted is remembered: the per-address autoreply limit counts
 * those.  *ID_R (may be NULL) gets the outbound id, *MESSAGE_ID_R (may be
 * NULL) the Message-ID with angle brackets (transfer full). */
gboolean tg_outbound_queue(TgStore *store, const TgOutboundKeys *keys,
                           gint64 ticket_id, const char *kind,
                           const char *recipient, ComposeMessage *msg,
                           gint64 now, gint64 *id_r, char **message_id_r,
                           GError **error);

/* "bounces+ID-TOKEN@BOUNCE_DOMAIN", TOKEN signed with SECRET.
 * (transfer full) */
char *tg_outbound_verp(gint64 outbound_id, const char *bounce_domain, GBytes *secret);
/* The id of "bounces+ID-TOKEN@..." (any case) when TOKEN is right for ID
 * under SECRET (constant-time compare), else 0.  *FORGED_R (may be NULL)
 * is TRUE when ADDRESS has the shape of ours - bounces+ID@ or
 * bounces+ID-X@ - but no valid token: never a notice, but not a customer
 * to send acks to either. */
gint64 tg_outbound_parse_verp(const char *address, GBytes *secret, gboolean *forged_r);

typedef struct {
  gint64 id;
  gint64 ticket_id;
  char *kind;
  char *recipient;
  char *envelope_sender;
  char *message_id;
  gint64 attempts;   /* before this one */
  gint64 created_at;
  GBytes *message;   /* LF line ends */
} TgOutboundItem;
void tg_outbound_item_clear(TgOutboundItem *item);

/* Ids of notices due at NOW (queued or deferred, or 'sending' left by a
 * crash whose lease expired), oldest first; at most LIMIT.
 * (transfer full) GArray of gint64, or NULL and ERROR. */
GArray *tg_outbound_due(TgStore *store, gint64 now, guint limit, GError **error);

/* Marks notice ID 'sending' with a lease of LEASE seconds, if it is still
 * due; fills ITEM.  Returns 1 claimed, 0 not due any more (another sender
 * took it), -1 error. */
int tg_outbound_claim(TgStore *store, gint64 id, gint64 now, guint lease,
                      TgOutboundItem *item, GError **error);

gboolean tg_outbound_mark_sent(TgStore *store, const TgOutboundItem *item,
                               gint64 now, const char *how, GError **error);
/* A temporary failure: retried at NOW + tg_outbound_retry_delay(), unless
 * the notice is older than MAX_AGE: then it fails for good (and says so on
 * its ticket).  *GAVE_UP_R (may be NULL) tells which. */
gboolean tg_outbound_mark_deferred(TgStore *store, const TgOutboundItem *item,
                                   gint64 now, guint max_age, const char *why,
                                   gboolean *gave_up_r, GError **error);
/* A permanent failure: status 'failed' and an event on the ticket. */
gboolean tg_outbound_mark_failed(TgStore *store, const TgOutboundItem *item,
                                 gint64 now, const char *why, GError **error);

/* Seconds to wait after the ATTEMPTS-th failed attempt (1, 2, ...):
 * 60 s doubling, at most one hour. */
guint tg_outbound_retry_delay(gint64 attempts);

#endif
