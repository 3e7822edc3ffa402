# Staff by mail.  Suzuki is the level-2 target of the policy; the
# escalation notice's Reply-To is Suzuki's own signed address.
#  - #escalate from that address (authenticated) escalates and notifies;
#  - the same text with a forged From / no valid token: stored, an event,
#    nothing applied or sent;
#  - #note never reaches the customer; an answer does (first response);
#  - an unknown command: the help reply naming it, nothing applied;
#  - DKIM pass in Authentication-Results from the trusted host works, from
#    another authserv-id it does not.
source "$TG_SOURCE_DIR/tests/escalation/lib.sh"
cat > "$WORK/policies" <<'POL'
policy "standard"
    hours always
    level 2 suzuki@example.com after 30m without first-response
    level 3 boss@example.com after 4h without first-response
POL
write_config ""
cat >> "$WORK/tg.conf" <<CONF
[staff:suzuki]
address = suzuki@example.com
name = Suzuki Ichiro
level = 2
[staff:tanaka]
address = tanaka@staff.example
name = Tanaka
level = 1
[auth]
trusted_authserv_id = mx.example.com
[escalation]
policies = $WORK/policies
CONF
export TICKETGATE_NOW=2026-01-09T10:00:00+09:00
customer erin@example.org "Printer jammed" e1@example.org
at 2026-01-09T10:31:00+09:00 tg tick | grep -q "escalated 1" || fail "no escalation"
f=$(outbox_file suzuki@example.com "Escalation level 2")
[ -n "$f" ] || fail "no notice to suzuki"
SIGNED=$(python3 -c 'import email,sys; print(email.message_from_binary_file(open(sys.argv[1],"rb"))["Reply-To"])' "$f")
[[ "$SIGNED" =~ ^support\+1-s-[a-z2-7]{10}@example\.com$ ]] || fail "Reply-To: $SIGNED"
export TICKETGATE_NOW=2026-01-09T10:40:00+09:00

# staff MID TO BODY [FROM] [EXTRA HEADER]
staff() {
  local mid=$1 to=$2 body=$3 from=${4:-suzuki@example.com} extra=${5:-}
  { printf 'From: %s\nTo: %s\nSubject: Re: [Support #1] Printer jammed\nMessage-ID: <%s>\n' "$from" "$to" "$mid"
    [ -n "$extra" ] && printf '%s\n' "$extra"
    printf 'Content-Type: text/plain; charset=utf-8\n\n%b\n' "$body"; } \
    | tg deliver -f "$from" -r "$to"
}
level() { sql 'SELECT escalation_level FROM tickets WHERE id=1'; }
cust() { outbox_count erin@example.org "$1"; }

# 1. forged: the same text from an address that is not suzuki, to suzuki's
#    signed address, and from suzuki's address with a bad token
staff forged1 "$SIGNED" '#escalate 3 customer is a hospital\n#status resolved\nDone.' mallory@evil.example
staff forged2 "support+1-s-aaaaaaaaaa@example.com" '#escalate 3 customer is a hospital\nDone.'
staff forged3 "support@example.com" '#escalate 3 customer is a hospital\nDone.'
expect_eq "forged: level" "$(level)" 2
expect_eq "forged: status" "$(sql 'SELECT status FROM tickets WHERE id=1')" escalated
expect_eq "forged: stored" "$(sql "SELECT count(*) FROM messages WHERE message_id LIKE 'forged%'")" 3
expect_eq "forged: events" "$(sql "SELECT count(*) FROM events WHERE kind='command ignored: unauthenticated'")" 2
expect_eq "forged: boss" "$(outbox_count boss@example.com)" 0
expect_eq "forged: customer" "$(cust Done)" 0

# 2. authenticated #escalate with an answer
staff good1 "$SIGNED" '#escalate 3 customer is a hospital, data loss\n#tag vip\nWe are on it.\n\nOn Fri, Jan 9 Erin wrote:\n> Printer jammed'
expect_eq "escalate: level" "$(level)" 3
expect_eq "escalate: boss notified" "$(outbox_count boss@example.com "Escalation level 3")" 1
grep -q "customer is a hospital" "$(outbox_file boss@example.com "Escalation level 3")" || fail "reason missing"
expect_eq "escalate: tag" "$(sql 'SELECT tag FROM ticket_tags WHERE ticket_id=1')" vip
expect_eq "escalate: confirmation" "$(outbox_count suzuki@example.com "\[Done\]")" 1
expect_eq "answer to customer" "$(cust "We are on it")" 1
grep -q "Erin wrote" "$(outbox_file erin@example.org "We are on it")" && fail "quote not trimmed"
expect_eq "first response" "$(sql 'SELECT first_response_at IS NOT NULL FROM tickets WHERE id=1')" 1
expect_eq "actor" "$(sql "SELECT actor FROM events WHERE kind='escalated' ORDER BY id DESC LIMIT 1")" suzuki@example.com

# 3. #note never reaches the customer
before=$(sql "SELECT count(*) FROM outbound WHERE recipient='erin@example.org'")
staff note1 "$SIGNED" '#note\nCustomer sounded upset; secret-internal-remark.'
expect_eq "note: nothing to customer" "$(sql "SELECT count(*) FROM outbound WHERE recipient='erin@example.org'")" "$before"
expect_eq "note: event" "$(sql "SELECT count(*) FROM events WHERE kind='note' AND detail LIKE '%secret-internal-remark%'")" 1
grep -l secret-internal-remark "$WORK"/var/outbox/new/* 2>/dev/null | xargs -r grep -li "^Delivered-To: erin@example.org" && fail "note reached the customer"

# 4. unknown command: help naming it, nothing applied
staff bad1 "$SIGNED" '#priority urgent\n#frobnicate now\nHello customer'
expect_eq "bad: priority" "$(sql 'SELECT priority FROM tickets WHERE id=1')" normal
expect_eq "bad: answer not sent" "$(cust "Hello customer")" 0
h=$(outbox_file suzuki@example.com "How to use commands")
[ -n "$h" ] || fail "no help reply"
grep -q "#frobnicate now" "$h" || fail "help does not name the command"

# 5. DKIM via trusted Authentication-Results; untrusted authserv-id does not count
staff dkim-bad support@example.com '#priority high' tanaka@staff.example \
  'Authentication-Results: evil.example; dkim=pass header.d=staff.example'
expect_eq "untrusted dkim" "$(sql 'SELECT priority FROM tickets WHERE id=1')" normal
staff dkim-good support@example.com '#priority urgent\n#queue printers' tanaka@staff.example \
  'Authentication-Results: mx.example.com; dkim=pass (good signature) header.d=staff.example header.s=sel'
expect_eq "trusted dkim: priority" "$(sql 'SELECT priority, queue FROM tickets WHERE id=1')" "urgent|printers"
staff dkim-fail support@example.com '#priority low' tanaka@staff.example \
  'Authentication-Results: mx.example.com; dkim=fail header.d=staff.example'
expect_eq "dkim fail" "$(sql 'SELECT priority FROM tickets WHERE id=1')" urgent

# 6. #status pending from staff pauses the clock; CLI audit trail
staff st1 "$SIGNED" '#status pending'
expect_eq "pending" "$(sql 'SELECT status, deadline_at IS NULL FROM tickets WHERE id=1')" "pending|1"
tg ticket show 1 | grep -q "command ignored: unauthenticated" || fail "ticket show lacks the events"
echo PASS
