# 20 messages from one sender in a minute: no more acks than [limits]
# autoreply, and past [limits] flood the rest is quarantined "flood" instead
# of opening tickets.  The rate limit is an event on the ticket.
source "$TG_SOURCE_DIR/tests/outbound/lib.sh"
write_config ""
cat >> tg.conf <<CONF
[limits]
autoreply = 5/1h
flood = 12/10m
CONF
for i in $(seq 1 20); do
  s=$(printf '%02d' "$i")
  TICKETGATE_NOW="2026-01-09T17:50:${s}+09:00" \
    bash -c "$(declare -f msg); msg spammy@example.org 'message $i' s$i@example.org" |
    TICKETGATE_NOW="2026-01-09T17:50:${s}+09:00" deliver spammy@example.org
done
acks=$(sql "SELECT count(*) FROM outbound WHERE recipient='spammy@example.org'")
[ "$acks" = 5 ] || fail "$acks acks for 20 messages (limit 5)"
[ "$(sql "SELECT count(*) FROM tickets")" = 12 ] || fail "$(sql "SELECT count(*) FROM tickets") tickets (flood limit 12)"
sql "SELECT detail FROM events WHERE kind='autoreply'" | grep -q 'ack suppressed: rate limit' || fail "no rate-limit event"
q=$(tg spool list --quarantine --json | python3 -c 'import json,sys; print(sum(1 for e in json.load(sys.stdin) if e["reason"].split(" ")[0]=="flood"))')
[ "$q" = 8 ] || fail "$q messages quarantined as flood (expected 8)"
# Another sender is not affected.
msg calm@example.org "hello" calm1@example.org | deliver calm@example.org
[ "$(sql "SELECT count(*) FROM outbound WHERE recipient='calm@example.org'")" = 1 ] || fail "other sender got no ack"
echo PASS
