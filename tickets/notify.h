/* notify.h - which mail a ticket change sends, and the guards around it.
 *
 * PURPOSE
 *   Called by tickets/ingest.c inside the ingest transaction:
 *     tg_notify_screen()   before threading: a DSN for one of our notices
 *                          (tickets/bounce.h) is consumed here and opens no
 *                          ticket; an address over the [limits] flood rate
 *                          is refused with TG_NOTIFY_ERROR_FLOOD, which the
 *                          pipeline turns into quarantine reason "flood".
 *     tg_notify_ingested() after the message is stored: a new ticket gets
 *                          the `ack` template, unless RFC 3834 says no.
 *   And by anything else that mails about a ticket (escalation, staff
 *   commands): tg_notify_data_new() builds the documented template data
 *   (docs/templates.md) for a ticket, tg_notify_queue() renders, composes
 *   and queues one notice (tickets/outbound.h) in the caller's transaction.
 *
 * LOOP PREVENTION (RFC 3834), checked in this order for automatic replies;
 * the first that applies suppresses the ack and is recorded as an
 * "autoreply" event on the ticket, as is every ack queued:
 *   null envelope sender (or Return-Path: <>), MAILER-DAEMON sender,
 *   Auto-Submitted other than "no", Precedence bulk/junk/list, List-Id,
 *   an X-Loop header naming one of our support addresses, a requester that
 *   is one of our own addresses, mail imported from an mbox, and at most
 *   [limits] autoreply automatic replies per address per window (counted
 *   in the outbound table; 0 = no limit).
 *
 * DIAGNOSTICS
 *   TG_STORE_ERROR_* from the store abort the ingest (the message is
 *   retried).  A notice that cannot be rendered or composed (no template,
 *   bad address) does not: it is recorded on the ticket as an event.
 *   TG_NOTIFY_ERROR_FLOOD: the message must not be stored.
 *
 * SECURITY
 *   Header values from the customer's mail (subject, names) reach the
 *   notice only through template rendering and compose.h, which strips
 *   CR/LF and encodes per RFC 2047; message ids are passed on only when
 *   they have the shape <local@domain>.
 */
#ifndef TG_NOTIFY_H
#define TG_NOTIFY_H

#include "templates/template_set.h"
#include "tickets/ingest.h"
#include "tickets/outbound.h"

#define TG_NOTIFY_ERROR (tg_notify_error_quark())
GQuark tg_notify_error_quark(void);
typedef enum { TG_NOTIFY_ERROR_FLOOD } TgNotifyErrorCode;

struct TgNotifyConfig {
  TemplateSet *templates;         /* NULL: no notices at all */
  TgOutboundKeys keys;            /* secret, Message-ID and VERP domains */
  const char *from_address;       /* [outbound] from_address */
  const char *from_name;          /* display name of From (gateway.name) */
  const char *support_address;    /* Reply-To base, X-Loop, gateway.support_address */
  char *const *support_addresses; /* all of them: X-Loop and own-address checks */
  const char *tag_prefix;         /* [gateway] tag_prefix */
  const char *url_base;           /* "" or e.g. https://support.example.com/tickets */
  const char *signature;          /* gateway.signature */
  const char *default_language;
  char *const *iso2022jp_domains; /* recipients' domains that get ISO-2022-JP */
  guint autoreply_count, autoreply_window; /* 0 count = no limit */
  guint flood_count, flood_window;         /* 0 count = off */
};

/* Before threading.  Returns 1 when MAIL was consumed as a bounce (R is
 * filled: outcome TG_INGEST_BOUNCE, ticket_id of the notice or 0), 0 to go
 * on, -1 with ERROR (TG_NOTIFY_ERROR_FLOOD or a store error). */
int tg_notify_screen(const TgIngestContext *ctx, TgMail *mail, gint64 now,
                     TgIngestResult *r, GError **error);

/* After MAIL was stored as R says: the ack for a new ticket. */
gboolean tg_notify_ingested(const TgIngestContext *ctx, TgMail *mail,
                            const TgIngestResult *r, gint64 now, GError **error);

/* The template data for TICKET_ID: ticket.*, customer.*, gateway.*, and
 * message.* from TRIGGER (may be NULL: then the ticket's newest incoming
 * message).  Callers add staff.*, escalation.*, command.*, captures.*.
 * (transfer full) a JSON object node, or NULL and ERROR. */
JsonNode *tg_notify_data_new(const TgNotifyConfig *cfg, TgStore *store,
                             gint64 ticket_id, const TgMail *trigger,
                             GError **error);

typedef struct {
  gint64 ticket_id;
  const char *template_name;   /* "ack", "escalation-notice", "canned/x" */
  const char *kind;            /* outbound.kind; NULL = template_name */
  const char *lang;            /* NULL = the ticket's language */
  const char *recipient;       /* address */
  const char *recipient_name;  /* display name or NULL */
  JsonNode *data;              /* NULL = tg_notify_data_new(.., NULL) */
  const char *in_reply_to;     /* "<id>" or NULL: the ticket's newest
                                  incoming message */
  gboolean auto_submitted;     /* Auto-Submitted: auto-replied */
  const char *reply_to;        /* NULL = the ticket's signed reply address;
                                  escalation: the target's staff address */
} TgNotice;

/* Renders, composes and queues N inside the caller's transaction.
 * *OUTBOUND_ID_R may be NULL.  Fails with TEMPLATE_SET_ERROR or
 * COMPOSE_ERROR (nothing queued) or a store error. */
gboolean tg_notify_queue(const TgNotifyConfig *cfg, TgStore *store,
                         const TgNotice *n, gint64 now, gint64 *outbound_id_r,
                         GError **error);

/* tg_notify_queue(), then the outcome in N's ticket's audit log as event
 * KIND by "system": "NAME queued as notice ID to RECIPIENT", or "NAME not
 * sent: WHY" when the notice cannot be built.  Only a store error fails:
 * a template problem must not lose the message that triggered it. */
gboolean tg_notify_queue_audited(const TgNotifyConfig *cfg, TgStore *store,
                                 const TgNotice *n, gint64 now, const char *kind,
                                 GError **error);

/* The complete message a notice would be, without queueing it (template
 * preview).  MESSAGE_ID is used as is.  (transfer full) LF line ends. */
GBytes *tg_notify_preview(const TgNotifyConfig *cfg, TgStore *store,
                          const TgNotice *n, const char *message_id,
                          GError **error);

#endif
