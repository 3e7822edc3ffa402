#!/bin/bash
# kill -9 of `fetch` while it fetches 1,000 messages, then another pass:
# every message is stored exactly once.
source "$(dirname "$0")/lib.sh"
dovecot_start
imap_append support secret INBOX 1000 crash
tg_conf "$T/tg.conf" "batch = 50"
C="$T/tg.conf"
"$TG_BINARY" -c "$C" fetch 2>"$T/err1" &
pid=$!
# Kill it once some (but not all) messages are in.
for _ in $(seq 1 400); do
  n=$( (ls "$T/var/spool/queue" 2>/dev/null || true) | wc -l)
  m=$(sqlite3 "$T/var/ticketgate.db" "select count(*) from messages where direction='in'" 2>/dev/null || echo 0)
  [ "${n:-0}" -gt 0 ] || [ "${m:-0}" -ge 100 ] && break
  sleep 0.02
done
kill -9 $pid 2>/dev/null || true
wait $pid 2>/dev/null || true
before=$(sqlite3 "$T/var/ticketgate.db" "select count(*) from messages where direction='in'" 2>/dev/null || echo 0)
echo "killed after $before stored messages"
[ "$before" -lt 1000 ] || echo "note: fetch finished before the kill"
"$TG_BINARY" -c "$C" fetch 2>"$T/err2" || { cat "$T/err2"; fail "second pass"; }
expect_eq "$(db_count "select count(*) from messages where direction='in'")" 1000 "messages"
expect_eq "$(db_count "select count(distinct message_id) from messages where direction='in'")" 1000 "distinct Message-IDs"
expect_eq "$(ticket_count "$C")" 1000 "tickets"
expect_eq "$(ls "$T/var/spool/queue" | wc -l)" 0 "queue left"
expect_eq "$(imap_count support secret INBOX UNSEEN)" 0 "unseen"
echo "PASS"
