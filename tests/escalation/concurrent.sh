# Two (and four) ticks at once: each level notified once per ticket.
source "$TG_SOURCE_DIR/tests/escalation/lib.sh"
write_config ""
N=100
for i in $(seq $N); do
  printf 'From c@example.org Fri Jan  9 10:00:00 2026\nFrom: c%d@example.org\nTo: support@example.com\nSubject: Printer %d jammed\nMessage-ID: <k%d@example.org>\n\nJammed.\n\n' $i $i $i
done > "$WORK/mbox"
at 2026-01-09T10:00:00+09:00 tg import mbox "$WORK/mbox" --quiet > /dev/null
export TICKETGATE_NOW=2026-01-09T10:45:00+09:00
tg tick --batch 3 > "$WORK/a" & a=$!
tg tick --batch 3 > "$WORK/b" & b=$!
wait $a || fail "tick a failed"
wait $b || fail "tick b failed"
expect_eq "escalated in total" $(( $(sed 's/.*escalated \([0-9]*\).*/\1/' "$WORK/a") + $(sed 's/.*escalated \([0-9]*\).*/\1/' "$WORK/b") )) $N
export TICKETGATE_NOW=2026-01-09T12:10:00+09:00
pids=()
for k in 1 2 3 4; do tg tick --batch 7 > /dev/null & pids+=($!); done
for p in "${pids[@]}"; do wait $p || fail "tick failed"; done
expect_eq "duplicates" "$(sql "SELECT count(*) FROM (SELECT 1 FROM outbound WHERE kind='escalation-notice' GROUP BY ticket_id, recipient HAVING count(*) > 1)")" 0
expect_eq "l2" "$(outbox_count escalation-l2@localhost)" $N
expect_eq "l3" "$(outbox_count escalation-l3@localhost)" $N
echo PASS
