/* store_schema.c - schema migrations (see store_schema.h).
 *
 * Times are unix seconds (UTC).  Addresses are stored lower-cased.
 */
#include "tickets/store_schema.h"

static const char *const steps[] = {
    /* 1: tickets, messages, attachments, blobs, events, outbound, search */
    "CREATE TABLE tickets ("
    "  id INTEGER PRIMARY KEY,"
    "  subject TEXT NOT NULL,"
    "  status TEXT NOT NULL DEFAULT 'new',"
    "  queue TEXT NOT NULL DEFAULT 'default',"
    "  priority TEXT NOT NULL DEFAULT 'normal',"
    "  policy TEXT NOT NULL DEFAULT 'standard',"
    "  escalation_level INTEGER NOT NULL DEFAULT 1,"
    "  requester_name TEXT NOT NULL DEFAULT '',"
    "  requester_address TEXT NOT NULL DEFAULT '',"
    "  assignee TEXT,"
    "  language TEXT NOT NULL DEFAULT 'en',"
    "  linked_ticket INTEGER REFERENCES tickets(id),"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL,"
    "  first_response_at INTEGER,"
    "  last_staff_at INTEGER,"
    "  last_customer_update_at INTEGER,"
    "  deadline_at INTEGER"
    ");"
    "CREATE INDEX tickets_status ON tickets(status, queue);"
    "CREATE INDEX tickets_deadline ON tickets(deadline_at) WHERE deadline_at IS NOT NULL;"
    "CREATE TABLE ticket_tags ("
    "  ticket_id INTEGER NOT NULL REFERENCES tickets(id),"
    "  tag TEXT NOT NULL,"
    "  PRIMARY KEY (ticket_id, tag)) WITHOUT ROWID;"
    "CREATE TABLE ticket_fields ("
    "  ticket_id INTEGER NOT NULL REFERENCES tickets(id),"
    "  name TEXT NOT NULL, value TEXT NOT NULL,"
    "  PRIMARY KEY (ticket_id, name)) WITHOUT ROWID;"
    "CREATE TABLE participants ("
    "  ticket_id INTEGER NOT NULL REFERENCES tickets(id),"
    "  address TEXT NOT NULL,"
    "  role TEXT NOT NULL,"
    "  PRIMARY KEY (ticket_id, address)) WITHOUT ROWID;"
    "CREATE TABLE messages ("
    "  id INTEGER PRIMARY KEY,"
    "  ticket_id INTEGER NOT NULL REFERENCES tickets(id),"
    "  direction TEXT NOT NULL CHECK (direction IN ('in','out')),"
    "  spool_id TEXT UNIQUE,"
    "  dedup_key TEXT UNIQUE,"
    "  message_id TEXT,"
    "  date INTEGER NOT NULL,"
    "  from_name TEXT NOT NULL DEFAULT '',"
    "  from_address TEXT NOT NULL DEFAULT '',"
    "  to_json TEXT NOT NULL DEFAULT '[]',"
    "  cc_json TEXT NOT NULL DEFAULT '[]',"
    "  subject TEXT NOT NULL DEFAULT '',"
    "  body TEXT NOT NULL DEFAULT '',"
    "  headers TEXT NOT NULL DEFAULT '',"
    "  envelope_sender TEXT,"
    "  envelope_recipients TEXT,"
    "  origin TEXT,"
    "  raw_sha256 TEXT,"
    "  size INTEGER NOT NULL DEFAULT 0,"
    "  warnings TEXT NOT NULL DEFAULT '',"
    "  created_at INTEGER NOT NULL"
    ");"
    "CREATE INDEX messages_ticket ON messages(ticket_id);"
    "CREATE INDEX messages_message_id ON messages(message_id);"
    "CREATE TABLE blobs ("
    "  sha256 TEXT PRIMARY KEY,"
    "  data BLOB NOT NULL);"
    "CREATE TABLE attachments ("
    "  id INTEGER PRIMARY KEY,"
    "  message_id INTEGER NOT NULL REFERENCES messages(id),"
    "  filename TEXT NOT NULL,"
    "  content_type TEXT NOT NULL,"
    "  size INTEGER NOT NULL,"
    "  sha256 TEXT NOT NULL REFERENCES blobs(sha256));"
    "CREATE INDEX attachments_message ON attachments(message_id);"
    "CREATE TABLE events ("
    "  id INTEGER PRIMARY KEY,"
    "  ticket_id INTEGER NOT NULL REFERENCES tickets(id),"
    "  at INTEGER NOT NULL,"
    "  actor TEXT NOT NULL,"
    "  kind TEXT NOT NULL,"
    "  detail TEXT NOT NULL DEFAULT '');"
    "CREATE INDEX events_ticket ON events(ticket_id);"
    "CREATE TABLE outbound ("
    "  id INTEGER PRIMARY KEY,"
    "  ticket_id INTEGER NOT NULL REFERENCES tickets(id),"
    "  kind TEXT NOT NULL,"
    "  recipient TEXT NOT NULL,"
    "  message_id TEXT NOT NULL,"
    "  body_sha256 TEXT REFERENCES blobs(sha256),"
    "  status TEXT NOT NULL DEFAULT 'queued'"
    "    CHECK (status IN ('queued','sending','sent','deferred','failed')),"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  next_attempt_at INTEGER NOT NULL,"
    "  last_error TEXT NOT NULL DEFAULT '',"
    "  created_at INTEGER NOT NULL,"
    "  sent_at INTEGER);"
    "CREATE INDEX outbound_due ON outbound(status, next_attempt_at);"
    "CREATE INDEX outbound_message_id ON outbound(message_id);"
    "CREATE VIRTUAL TABLE messages_fts USING fts5("
    "  subject, body, content='messages', content_rowid='id',"
    "  tokenize='trigram');"
    "CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN"
    "  INSERT INTO messages_fts(rowid, subject, body)"
    "  VALUES (new.id, new.subject, new.body);"
    "END;"
    "CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN"
    "  INSERT INTO messages_fts(messages_fts, rowid, subject, body)"
    "  VALUES ('delete', old.id, old.subject, old.body);"
    "END;",
    /* 2: IMAP poller progress per account and folder (tickets/imap_state.c) */
    "CREATE TABLE imap_state ("
    "  account TEXT NOT NULL,"
    "  folder TEXT NOT NULL,"
    "  uidvalidity INTEGER NOT NULL,"
    "  last_uid INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL,"
    "  PRIMARY KEY (account, folder)) WITHOUT ROWID;",

    /* 3: outbound notices (issue 6): the automatic-reply flag that the
     * per-address rate limit counts, the 'out' messages row of the notice,
     * and indexes for the rate and flood windows. */
    "ALTER TABLE outbound ADD COLUMN auto_submitted INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE outbound ADD COLUMN message_row INTEGER REFERENCES messages(id);"
    "ALTER TABLE outbound ADD COLUMN envelope_sender TEXT NOT NULL DEFAULT '';"
    "CREATE INDEX outbound_recipient ON outbound(recipient, created_at);"
    "CREATE INDEX messages_from ON messages(from_address, created_at);",
    /* 4: the full-text index is brought up to date lazily
     * (tickets/search_index.c): no insert trigger, a high-water mark. */
    "DROP TRIGGER messages_fts_insert;"
    "CREATE TABLE fts_state (id INTEGER PRIMARY KEY CHECK (id = 1),"
    "  last_message INTEGER NOT NULL);"
    "INSERT INTO fts_state VALUES (1, (SELECT coalesce(max(id), 0) FROM messages));"
    "DROP TRIGGER messages_fts_delete;"
    "CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages"
    "  WHEN old.id <= (SELECT last_message FROM fts_state) BEGIN"
    "  INSERT INTO messages_fts(messages_fts, rowid, subject, body)"
    "  VALUES ('delete', old.id, old.subject, old.body);"
    "END;",


    /* 5: escalation (issue 7).  tickets.deadline_at becomes "the next
     * moment the timer must look at this ticket" (warning, escalation or
     * keep-in-the-loop update, whichever is first; NULL = nothing due,
     * e.g. pending); escalate_at is the escalation deadline itself.
     * Pending pauses the SLA clock: pending_since and sla_remaining (SLA
     * seconds left when it went pending) are set while it waits, and the
     * paused SLA time adds up in sla_paused (since opening) and
     * sla_paused_staff (since the last staff mail).  sla_notices holds one
     * row per (ticket, level, kind, seq) notified, written in the same
     * transaction as the notices' outbound rows: the UNIQUE constraint
     * makes each level and warning go out once, across crashes and
     * concurrent ticks.  Open tickets of older versions get a deadline
     * now, so the first tick computes their real one. */
    "ALTER TABLE tickets ADD COLUMN escalated_at INTEGER;"
    "ALTER TABLE tickets ADD COLUMN escalate_at INTEGER;"
    "ALTER TABLE tickets ADD COLUMN pending_since INTEGER;"
    "ALTER TABLE tickets ADD COLUMN sla_remaining INTEGER;"
    "ALTER TABLE tickets ADD COLUMN sla_paused INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE tickets ADD COLUMN sla_paused_staff INTEGER NOT NULL DEFAULT 0;"
    "CREATE TABLE sla_notices ("
    "  id INTEGER PRIMARY KEY,"
    "  ticket_id INTEGER NOT NULL REFERENCES tickets(id),"
    "  level INTEGER NOT NULL,"
    "  kind TEXT NOT NULL CHECK (kind IN ('escalation','warning','informed')),"
    "  seq INTEGER NOT NULL DEFAULT 0,"
    "  at INTEGER NOT NULL,"
    "  actor TEXT NOT NULL,"
    "  UNIQUE (ticket_id, level, kind, seq));"
    "UPDATE tickets SET deadline_at = created_at WHERE deadline_at IS NULL "
    "  AND status NOT IN ('pending','resolved','closed');",

    /* 6: the text of a plain message is stored once.  Most mail is one
     * text/plain part in 7bit or 8bit, whose decoded text is the raw
     * message's last bytes: storing both doubled every message.  Such a
     * message keeps the bytes before its text in raw_head and has no
     * blob; its raw form is raw_head || body, and raw_sha256 still
     * names the whole (tg_ingest_raw_message()).  Editing such a body
     * would change the raw message too: refused. */
    "ALTER TABLE messages ADD COLUMN raw_head BLOB;"
    "CREATE TRIGGER messages_raw_head_body BEFORE UPDATE OF body ON messages"
    "  WHEN old.raw_head IS NOT NULL AND new.body IS NOT old.body BEGIN"
    "  SELECT RAISE(ABORT, 'the body of this message is part of its raw form (raw_head)');"
    "END;",
};

guint tg_store_schema_count(void) { return G_N_ELEMENTS(steps); }
const char *tg_store_schema_step(guint n) { return steps[n]; }
