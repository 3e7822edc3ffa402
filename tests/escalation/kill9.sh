# kill -9 in the middle of `tick`, again and again, then a last tick:
# every due ticket is escalated and every target notified exactly once.
source "$TG_SOURCE_DIR/tests/escalation/lib.sh"
write_config ""
N=${N:-300}
for i in $(seq $N); do
  printf 'From: c%d@example.org\nTo: support@example.com\nSubject: Printer %d jammed\nMessage-ID: <k%d@example.org>\n\nJammed.\n' $i $i $i
done > "$WORK/all"
python3 - "$WORK/all" "$WORK/mbox" <<'PY'
import sys
msgs = open(sys.argv[1]).read().split("From: ")[1:]
with open(sys.argv[2], "w") as f:
    for m in msgs:
        f.write("From c@example.org Fri Jan  9 10:00:00 2026\nFrom: " + m + "\n")
PY
at 2026-01-09T10:00:00+09:00 tg import mbox "$WORK/mbox" --quiet > /dev/null
expect_eq tickets "$(sql 'SELECT count(*) FROM tickets')" $N
export TICKETGATE_NOW=2026-01-09T12:30:00+09:00   # both levels due
# Kills land a few ms after the start, later each round (a release build
# does the whole pass in ~50 ms; on a loaded machine a tick may not even
# have begun after 10), until a round finishes the pass or three kills
# have left it half done; at least one must have.
killed=0 partial=0
for round in $(seq 40); do
  tg tick --batch 5 > /dev/null 2>&1 &
  pid=$!
  sleep "$(awk -v r=$RANDOM -v k="$round" 'BEGIN { printf "%.3f", (2 + r % 8 + 2 * k) / 1000 }')"
  if kill -9 $pid 2>/dev/null; then killed=$((killed + 1)); fi
  wait $pid 2>/dev/null || true
  done_n=$(sql "SELECT count(*) FROM sla_notices")
  if [ "$done_n" -gt 0 ] && [ "$done_n" -lt $((2 * N)) ]; then partial=$((partial + 1)); fi
  [ $partial -ge 3 ] || [ "$done_n" -ge $((2 * N)) ] && break
done
[ $killed -gt 0 ] && [ $partial -gt 0 ] || fail "no tick was killed mid-pass (killed $killed, partial $partial)"
tg tick > /dev/null
tg tick | grep -q "0 due" || fail "still due after the last tick"
expect_eq "levels" "$(sql 'SELECT count(*) FROM tickets WHERE escalation_level = 3')" $N
expect_eq "sla_notices" "$(sql "SELECT count(*) FROM sla_notices WHERE kind='escalation'")" $((2 * N))
expect_eq "duplicates" "$(sql "SELECT count(*) FROM (SELECT 1 FROM outbound WHERE kind='escalation-notice' GROUP BY ticket_id, recipient HAVING count(*) > 1)")" 0
expect_eq "l2 notices" "$(sql "SELECT count(*) FROM outbound WHERE recipient='escalation-l2@localhost'")" $N
expect_eq "l3 notices" "$(sql "SELECT count(*) FROM outbound WHERE recipient='escalation-l3@localhost'")" $N
expect_eq "outbox l2" "$(outbox_count escalation-l2@localhost)" $N
echo "PASS ($killed ticks killed, $partial times mid-pass)"
