/*
 * message_id — signed Message-IDs for outgoing mail.
 *
 * PURPOSE
 *   Every message the gateway sends carries a Message-ID of the form
 *
 *       <t{ticket}.o{outbound}.{token}@{domain}>
 *
 *   where token = the first MESSAGE_ID_TOKEN_BYTES bytes of
 *   HMAC-SHA256(secret, "t{ticket}\0o{outbound}\0{recipient, lowercased}"), in
 *   lowercase hex.  A reply's In-Reply-To/References then names the ticket and
 *   the outbound message without trusting the subject, and proves that the
 *   person answering is the recipient the message was sent to.
 *
 * PUBLIC FUNCTIONS
 *   message_id_new()     build the Message-ID (with angle brackets)
 *   message_id_verify()  parse one, recompute the token for a given address
 *
 * DIAGNOSTICS
 *   message_id_verify() returns FALSE for anything that is not one of ours in
 *   shape (wrong form, wrong domain, numbers out of range); a well-formed id
 *   whose token does not match the recipient returns TRUE with
 *   *proof_ok_r = FALSE, so a caller can tell "forged or forwarded" from
 *   "not ours".  Only a proof_ok id may be trusted for threading.
 *
 * SECURITY
 *   Message-IDs come back from the network.  Parsing is bounded (ids longer
 *   than 255 bytes are rejected before any work), the token comparison is
 *   constant-time, and the recipient is lowercased so a change of case in a
 *   reply does not break the proof.  80 bits of token make guessing useless.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define MESSAGE_ID_TOKEN_BYTES 10

/* Returns (transfer full) "<t12.o345.0123456789abcdef0123@domain>".
 * @recipient is the address the message goes to; @secret is the gateway's
 * HMAC key (@secret_len bytes, must be > 0). */
char *message_id_new(guint64 ticket, guint64 outbound, const char *recipient,
                     const char *domain, const guint8 *secret, gsize secret_len);

/* Parse @msgid (with or without <>, surrounding blanks allowed).  If
 * @domain is not NULL the id's domain must equal it (ignoring case).  On a
 * well-formed id, sets @ticket_r and @outbound_r (each may be NULL) and
 * @proof_ok_r (may be NULL) to whether the token matches @recipient, and
 * returns TRUE.  Returns FALSE if @msgid is not of our form. */
gboolean message_id_verify(const char *msgid, const char *domain, const char *recipient,
                           const guint8 *secret, gsize secret_len, guint64 *ticket_r,
                           guint64 *outbound_r, gboolean *proof_ok_r);

G_END_DECLS
