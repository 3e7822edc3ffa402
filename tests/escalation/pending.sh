# Pending stops the SLA clock and leaving it resumes with the time left:
# opened 10:00 (30 minutes to level 2), pending at 10:10 with 20 minutes
# left, back to open at 13:00 -> level 2 at 13:20, not before.  A
# customer's mail also ends pending.
source "$TG_SOURCE_DIR/tests/escalation/lib.sh"
write_config ""
at 2026-01-09T10:00:00+09:00 customer erin@example.org "Printer jammed" e1@example.org
at 2026-01-09T10:10:00+09:00 tg ticket status 1 pending | grep -q "open -> pending\|new -> pending" || fail "status pending"
expect_eq paused "$(sql 'SELECT deadline_at IS NULL, sla_remaining FROM tickets WHERE id=1')" "1|1200"
expect_eq "told pending" "$(outbox_count erin@example.org "more information")" 1
for t in 10:31 12:00 12:59; do
  at 2026-01-09T$t:00+09:00 tg tick | grep -q "0 due" || fail "pending ticket due at $t"
done
at 2026-01-09T13:00:00+09:00 tg ticket status 1 open > /dev/null
expect_eq resumed "$(sql 'SELECT escalate_at FROM tickets WHERE id=1')" "$(unix 2026-01-09T13:20:00+09:00)"
at 2026-01-09T13:19:00+09:00 tg tick | grep -q "escalated 0" || fail "escalated early"
at 2026-01-09T13:20:00+09:00 tg tick | grep -q "escalated 1" || fail "not escalated at 13:20"
expect_eq "l2 once" "$(outbox_count escalation-l2@localhost)" 1
# level 3 (2h from opening) moves by the 2h50m spent pending: 14:50
expect_eq "l3 deadline" "$(sql 'SELECT escalate_at FROM tickets WHERE id=1')" "$(unix 2026-01-09T14:50:00+09:00)"
# pending again; the customer writes back: the clock runs again
at 2026-01-09T14:00:00+09:00 tg ticket status 1 pending > /dev/null
printf 'From: erin@example.org\nTo: support@example.com\nSubject: Re: [Support #1] Printer jammed\nMessage-ID: <e2@example.org>\n\nHere is the model number.\n' \
  | at 2026-01-09T15:00:00+09:00 tg deliver -f erin@example.org -r support@example.com
expect_eq reopened "$(sql 'SELECT status FROM tickets WHERE id=1')" open
expect_eq "l3 deadline after 2nd pause" "$(sql 'SELECT escalate_at FROM tickets WHERE id=1')" "$(unix 2026-01-09T15:50:00+09:00)"
expect_eq events "$(sql "SELECT count(*) FROM events WHERE ticket_id=1 AND kind='status' AND actor LIKE 'cli:%'")" 3
echo PASS
