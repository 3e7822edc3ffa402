/* ingest.h - one parsed message into the store: thread, then record.
 *
 * Everything happens in one IMMEDIATE transaction: the message, its
 * attachments (content stored once by SHA-256), the ticket it opens or
 * joins, participants, and an audit event per change.  The spool id is
 * UNIQUE, so replaying a spool entry after a crash is a no-op
 * (TG_INGEST_REPLAYED); a Message-ID seen before (or, without one, the
 * same raw bytes) is a duplicate, stored once (TG_INGEST_DUPLICATE), when
 * the stored message has the same sender, subject, text and attachments.
 * Some senders reuse a Message-ID for different messages (scanners, bulk
 * tools, broken clients): such a message is stored as one of its own.
 *
 * Threading order: a signed reply address among the envelope recipients,
 * To and Cc; the subject tag, when the sender already takes part in that
 * ticket; In-Reply-To/References naming one of our signed Message-IDs
 * (templates/message_id.h) whose token proves the sender received it, or
 * a stored incoming Message-ID.  An id of our form with a wrong token
 * (forged, or forwarded to someone else) threads nothing.
 *
 * Notification (tickets/notify.h) hooks in twice: before threading (DSNs
 * for our notices, the flood limit: TG_NOTIFY_ERROR_FLOOD) and after the
 * message is stored (acks), both inside the same transaction.
 * A tag from anyone else opens a new ticket linked to the tagged one.
 *
 * Errors: TG_STORE_ERROR_TEMP (retry later) or TG_STORE_ERROR_FAILED.
 */
#ifndef TG_INGEST_H
#define TG_INGEST_H

#include "filters/rules.h"
#include "tickets/mail.h"
#include "tickets/store.h"

typedef struct TgNotifyConfig TgNotifyConfig; /* tickets/notify.h */
typedef struct TgEscalateConfig TgEscalateConfig; /* tickets/escalate.h */

typedef struct {
  TgStore *store;
  GBytes *secret;
  const char *tag_prefix;
  char *const *support_addresses;
  char *const *staff_addresses;
  const char *default_language;
  TgRuleset *ruleset;           /* may be NULL: no classification */

  const TgNotifyConfig *notify; /* acks, bounces, flood; NULL = none */
  /* SLA clock, rule escalations, staff answers and commands
   * (tickets/escalate_ingest.h); NULL = default policies, no mail */
  const TgEscalateConfig *escalation;
} TgIngestContext;

typedef enum {
  TG_INGEST_CREATED,
  TG_INGEST_APPENDED,
  TG_INGEST_DUPLICATE,
  TG_INGEST_REPLAYED,
  TG_INGEST_QUARANTINE,  /* a rule said so; nothing was stored */

  TG_INGEST_BOUNCE,     /* a DSN for one of our notices: no ticket */
} TgIngestOutcome;

typedef struct {
  TgIngestOutcome outcome;
  gint64 ticket_id;
  gint64 message_row;
  gint64 linked_to;     /* ticket a stranger's tag pointed at, or 0 */
  const char *threaded_by; /* "reply-address", "tag", "references", "new" */
  TgRuleResult *rules;  /* (transfer full) what the rules decided, or NULL */
  /* Its Message-ID already named a different stored message: kept as a
   * message of its own (and a warning recorded on it), not a duplicate. */
  gboolean message_id_reused;
} TgIngestResult;

void tg_ingest_result_clear(TgIngestResult *result);

gboolean tg_ingest(const TgIngestContext *ctx, TgMail *mail,
                   TgIngestResult *result, GError **error);

/* The same inside the caller's transaction (group commit): a SAVEPOINT
 * undoes this message alone when it fails. */
gboolean tg_ingest_in_tx(const TgIngestContext *ctx, TgMail *mail,
                         TgIngestResult *result, GError **error);

const char *tg_ingest_outcome_name(TgIngestOutcome o);

/* The raw bytes of the incoming message stored as ROW, exactly as they
 * arrived. */
GBytes *tg_ingest_raw_message(TgStore *store, gint64 row, GError **error);

/* "ja" or the default: from the charset label and the script of the text. */
const char *tg_ingest_language(const TgMail *mail, const char *fallback);

#endif
