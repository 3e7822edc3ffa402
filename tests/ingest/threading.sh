#!/usr/bin/env bash
# Threading: by subject tag (participants only; a stranger's tag opens a
# linked ticket), by signed plus-address (a wrong token does not thread),
# by References; a reply never opens a second ticket; the same message
# delivered twice is stored once; reply prefixes leave the ticket subject.
source "$(dirname "$0")/../lib.sh"
cd "$WORK"
msg() { # FROM MSGID SUBJECT [EXTRA-HEADER]
  printf 'From: %s\nTo: support@localhost\nSubject: %s\nMessage-ID: <%s>\n%s\nbody of %s\n' \
    "$1" "$3" "$2" "${4:-}" "$2"
}
deliver() { "$TG" deliver --recipient "${RCPT:-support@localhost}" 2>/dev/null; }
ticket_of() { sqlite3 var/ticketgate.db "select ticket_id from messages where direction='in' and message_id='$1'"; }
count() { sqlite3 var/ticketgate.db "$1"; }

msg 'Alice <alice@example.com>' a1 'Printer on fire' | deliver
expect_eq first "$(ticket_of a1)" 1

# Tag from a participant threads; reply prefixes do not change the subject.
msg 'alice@example.com' a2 'Re: AW: [Support #1] Printer on fire' | deliver
expect_eq tag "$(ticket_of a2)" 1
# A stranger using the tag opens a new ticket linked to the tagged one.
msg 'mallory@evil.example' m1 'Re: [Support #1] Printer on fire' | deliver
expect_eq stranger "$(ticket_of m1)" 2
expect_eq linked "$(count 'select linked_ticket from tickets where id=2')" 1
expect_eq linked-event "$(count "select count(*) from events where ticket_id=1 and kind='linked'")" 1
pass "subject tag, stranger's tag links"

# Signed plus-address: the token is HMAC-SHA256(secret, "ticket:1").
token=$(python3 - <<'PY'
import hmac, hashlib
key = open("var/secret").read().strip().encode()
d = hmac.new(key, b"ticket:1", hashlib.sha256).digest()
bits = int.from_bytes(d[:8], "big")
alpha = "abcdefghijklmnopqrstuvwxyz234567"
print("".join(alpha[(bits >> (59 - 5 * i)) & 31] for i in range(10)))
PY
)
msg 'bob@example.net' b1 'totally different subject' | RCPT="support+1-$token@localhost" deliver
expect_eq plus "$(ticket_of b1)" 1
msg 'bob@example.net' b2 'another subject' | RCPT="support+1-aaaaaaaaaa@localhost" deliver
[ "$(ticket_of b2)" != 1 ] || fail "a wrong token threaded"
# The signed address in To: works as well as the envelope.
printf 'From: carol@example.org\nTo: support+1-%s@localhost\nSubject: x\nMessage-ID: <c0>\n\nhi\n' "$token" | deliver
expect_eq plus-to "$(ticket_of c0)" 1
pass "signed plus-address; wrong token does not thread"

# References to a stored Message-ID thread, even from a new address.
msg 'carol@example.org' c1 'Unrelated words' 'References: <zz@x> <a2>' | deliver
expect_eq references "$(ticket_of c1)" 1
msg 'carol@example.org' c2 'Unrelated words' 'In-Reply-To: <a1>' | deliver
expect_eq in-reply-to "$(ticket_of c2)" 1
tickets_before=$(count 'select count(*) from tickets')
# A reply by every route at once still joins the one ticket.
msg 'alice@example.com' a3 'RE: [Support #1] Printer on fire' 'In-Reply-To: <a1>' | deliver
expect_eq reply "$(count 'select count(*) from tickets')" "$tickets_before"
pass "References and In-Reply-To"

# The same message twice (another spool entry, same Message-ID): stored once.
msg 'dave@example.com' d1 'Hello' | deliver
msg 'dave@example.com' d1 'Hello' | deliver
expect_eq duplicate "$(count "select count(*) from messages where direction='in' and message_id='d1'")" 1
# Without a Message-ID the raw bytes decide.
printf 'From: erin@example.com\nSubject: no id\n\nsame\n' | deliver
printf 'From: erin@example.com\nSubject: no id\n\nsame\n' | deliver
expect_eq duplicate-raw "$(count "select count(*) from messages where direction='in' and subject='no id'")" 1
# The same message by another route (one more Received: line) is a duplicate.
{ printf 'Received: from relay.example.net by mx.example.com; Mon, 5 Jan 2026 10:00:00 +0000\n'
  msg 'dave@example.com' d1 'Hello'; } | deliver
expect_eq duplicate-route "$(count "select count(*) from messages where direction='in' and message_id='d1'")" 1
pass "duplicates stored once"

# A sender that reuses one Message-ID for different messages (a scanner
# sending a new document each time) loses none of them; each one's own
# second arrival is still a duplicate.
scan() { # BODY ATTACHMENT-TEXT
  printf 'From: scanner@example.com\nTo: support@localhost\nSubject: Scanned document\n'
  printf 'Message-ID: <scan@printer.local>\nMIME-Version: 1.0\n'
  printf 'Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\n%s\n' "$1"
  printf -- '--b\nContent-Type: application/pdf; name=scan.pdf\nContent-Transfer-Encoding: base64\n\n%s\n--b--\n' \
    "$(printf '%s' "$2" | base64)"
}
scan 'Your scan' 'page one' | deliver
scan 'Your scan' 'page two' | deliver
scan 'Your scan' 'page two' | deliver
scan 'Another scan' 'page one' | deliver
expect_eq reused-id "$(count "select count(*) from messages where direction='in' and message_id='scan@printer.local'")" 3
expect_eq reused-warning "$(count "select count(*) from messages where message_id='scan@printer.local' and warnings like '%already names a different stored message%'")" 2
expect_eq reused-attachments "$(count "select count(distinct a.sha256) from attachments a join messages m on m.id=a.message_id where m.message_id='scan@printer.local'")" 2
pass "a reused Message-ID does not drop a different message"

msg 'frank@example.com' f1 'Re: RE: Fwd: FW: AW: WG: SV: Re[2]: 返信: 転送：Re: Order 42' | deliver
expect_eq clean-subject "$(count "select t.subject from tickets t join messages m on m.ticket_id=t.id where m.message_id='f1'")" 'Order 42'
expect_eq own-subject "$(count "select subject from messages where direction='in' and message_id='f1'")" 'Re: RE: Fwd: FW: AW: WG: SV: Re[2]: 返信: 転送：Re: Order 42'
pass "reply prefixes stripped"

# A customer writing into a resolved ticket reopens it.
sqlite3 var/ticketgate.db "update tickets set status='resolved' where id=1"
msg 'alice@example.com' a4 'Re: [Support #1] Printer on fire' | deliver
expect_eq reopened "$(count 'select status from tickets where id=1')" open
pass "reopen on customer mail"
