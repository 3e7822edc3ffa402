# The embedded `standard` policy end to end through `tick`: a ticket
# nobody answers reaches level 2 after 30 minutes and level 3 after 2
# hours, each target notified exactly once; ticks in between notify
# nobody; a first response stops the ladder.
source "$TG_SOURCE_DIR/tests/escalation/lib.sh"
write_config ""
T0=2026-01-09T10:00:00+09:00
at $T0 customer erin@example.org "Printer jammed" e1@example.org
at 2026-01-09T10:05:00+09:00 customer fred@example.org "Login broken" f1@example.org
# ticket 2 gets a first response (CLI) after 10 minutes
echo "We are looking into it." | at 2026-01-09T10:15:00+09:00 tg ticket reply 2 --file - | grep -q "reply sent" \
  || fail "ticket reply"
expect_eq first-response "$(sql 'SELECT first_response_at IS NOT NULL FROM tickets WHERE id=2')" 1

for t in 10:00 10:10 10:29; do
  at 2026-01-09T$t:00+09:00 tg tick > /dev/null
done
expect_eq "l2 before 30m" "$(outbox_count escalation-l2@localhost)" 0
at 2026-01-09T10:30:00+09:00 tg tick | grep -q "escalated 1" || fail "no escalation at +30m"
expect_eq "l2 at 30m" "$(outbox_count escalation-l2@localhost)" 1
expect_eq level "$(sql 'SELECT escalation_level, status FROM tickets WHERE id=1')" "2|escalated"
# ticket show --json tells when the next level takes over.
expect_eq next-level-at "$(at 2026-01-09T10:30:00+09:00 tg ticket show 1 --json | python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["escalate_at"], j["escalated_at"], j["first_response_at"])')" \
  "2026-01-09T03:00:00Z 2026-01-09T01:30:00Z None"
for t in 10:31 10:45 11:00 11:59; do
  at 2026-01-09T$t:00+09:00 tg tick | grep -q "escalated 0" || fail "escalated again at $t"
done
expect_eq "l2 once" "$(outbox_count escalation-l2@localhost)" 1
expect_eq "l3 before 2h" "$(outbox_count escalation-l3@localhost)" 0
at 2026-01-09T12:00:00+09:00 tg tick | grep -q "escalated 1" || fail "no escalation at +2h"
for t in 12:01 13:00 23:00; do at 2026-01-09T$t:00+09:00 tg tick > /dev/null; done
at 2026-01-12T09:00:00+09:00 tg tick > /dev/null
expect_eq "l2 once" "$(outbox_count escalation-l2@localhost)" 1
expect_eq "l3 once" "$(outbox_count escalation-l3@localhost)" 1
expect_eq level3 "$(sql 'SELECT escalation_level FROM tickets WHERE id=1')" 3
expect_eq "ladder done" "$(sql 'SELECT deadline_at IS NULL FROM tickets WHERE id=1')" 1
# ticket 2 was answered: it never climbs
expect_eq "answered stays" "$(sql 'SELECT escalation_level FROM tickets WHERE id=2')" 1
expect_eq "notices for 2" "$(sql "SELECT count(*) FROM outbound WHERE ticket_id=2 AND kind='escalation-notice'")" 0
# The notice has what the target needs, and its Reply-To is the target's
# own signed address.
f=$(outbox_file escalation-l3@localhost "Escalation level 3")
[ -n "$f" ] || fail "no level 3 notice"
python3 - "$f" <<'PY' || fail "notice content"
import email, re, sys
from email import policy
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=policy.default)
s = str(m["Subject"])
assert "[Escalation level 3]" in s and "[Support #1]" in s and "2 h 0 min" in s, s
assert re.fullmatch(r"support\+1-s-[a-z2-7]{10}@example\.com", str(m["Reply-To"])), m["Reply-To"]
b = m.get_body().get_content()
for want in ("Our printer is jammed", "no first response within 2h", "History", "erin@example.org"):
    assert want in b, want
PY
# audit events with actor
expect_eq events "$(sql "SELECT count(*) FROM events WHERE ticket_id=1 AND kind='escalated' AND actor='sla'")" 2
echo PASS
