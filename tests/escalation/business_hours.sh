# Business hours end to end: a ticket opened Friday 17:50 in Asia/Tokyo
# under mon-fri 09:00-18:00 with 30 minutes to level 2 has its deadline
# on Monday 09:20; ticks on Friday evening and the weekend notify nobody.
# Also: the pre-deadline warning goes to the current level once, and the
# customer is told (notify-customer) and kept informed every hour.
source "$TG_SOURCE_DIR/tests/escalation/lib.sh"
cat > "$WORK/policies" <<'POL'
policy "standard"
    timezone Asia/Tokyo
    hours mon-fri 09:00-18:00
    holidays 2026-01-01
    warn 10m before
    keep-customer-informed every 1h
    level 2 lead@example.com after 30m without first-response notify-customer
POL
write_config ""
cat >> "$WORK/tg.conf" <<CONF
[staff:sato]
address = sato@example.com
name = Sato
level = 1
[escalation]
policies = $WORK/policies
CONF
tg check > /dev/null || fail "check rejects the policy file"
at 2026-01-09T17:50:00+09:00 customer erin@example.org "Printer jammed" e1@example.org
expect_eq deadline "$(sql 'SELECT escalate_at FROM tickets WHERE id=1')" "$(unix 2026-01-12T09:20:00+09:00)"
for t in 2026-01-09T17:59:00 2026-01-09T18:30:00 2026-01-10T12:00:00 2026-01-11T23:59:00 2026-01-12T09:09:00; do
  at $t+09:00 tg tick | grep -q "escalated 0, warned 0" || fail "something happened at $t"
done
expect_eq "no notice yet" "$(outbox_count lead@example.com)" 0
# 09:10 Monday: the warning to level 1 (the directory's level-1 staff)
at 2026-01-12T09:10:00+09:00 tg tick | grep -q "warned 1" || fail "no warning at 09:10"
at 2026-01-12T09:15:00+09:00 tg tick | grep -q "warned 0" || fail "warned twice"

expect_eq "warning to level 1" "$(outbox_count sato@example.com)" 1
at 2026-01-12T09:19:00+09:00 tg tick | grep -q "escalated 0" || fail "escalated early"
at 2026-01-12T09:20:00+09:00 tg tick | grep -q "escalated 1" || fail "no escalation at Monday 09:20"
expect_eq "lead notified" "$(outbox_count lead@example.com)" 1
expect_eq "customer told" "$(outbox_count erin@example.org "specialist")" 1
# keep in the loop: one update an hour later (business time), not before
at 2026-01-12T10:00:00+09:00 tg tick | grep -q "informed 0" || fail "informed early"
at 2026-01-12T10:20:00+09:00 tg tick | grep -q "informed 1" || fail "no keep-informed update"
at 2026-01-12T10:30:00+09:00 tg tick | grep -q "informed 0" || fail "informed twice"
expect_eq "customer updates" "$(outbox_count erin@example.org "specialist")" 2
# a staff answer to the customer resets it: nothing at 11:20, one at 12:00+1h
echo "We replaced the fuser." | at 2026-01-12T11:00:00+09:00 tg ticket reply 1 > /dev/null
at 2026-01-12T11:30:00+09:00 tg tick | grep -q "informed 0" || fail "informed although staff wrote"
at 2026-01-12T12:00:00+09:00 tg tick | grep -q "informed 1" || fail "no update an hour after the answer"
echo PASS
