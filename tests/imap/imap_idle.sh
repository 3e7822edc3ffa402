#!/bin/bash
# `serve` waits in IDLE; a message appended then is ticketed within a few
# seconds although poll_interval is 5 minutes.
source "$(dirname "$0")/lib.sh"
dovecot_start
imap_append support secret INBOX 1 first
tg_conf "$T/tg.conf" "poll_interval = 5m" \
  "[smtp]" "listen = 127.0.0.1:$(free_port)" "[lmtp]" "listen = 127.0.0.1:$(free_port)" \
  "[log]" "verbose = true"
"$TG_BINARY" -c "$T/tg.conf" serve -F 2>"$T/serve.log" &
SERVE=$!
EXTRA_PIDS=$SERVE
wait_tickets() {
  for _ in $(seq 1 100); do
    n=$(sqlite3 "$T/var/ticketgate.db" "select count(*) from messages where direction='in'" 2>/dev/null || echo 0)
    [ "$n" -ge "$1" ] && return 0
    sleep 0.1
  done
  cat "$T/serve.log"; fail "only $n of $1 messages ticketed within 10 s"
}
wait_tickets 1
# Make sure the poller sits in IDLE before the next message arrives.
for _ in $(seq 1 100); do
  grep -q "imap=t idling" "$T/serve.log" && break
  sleep 0.1
done
grep -q "imap=t idling" "$T/serve.log" || { cat "$T/serve.log"; fail "poller never entered IDLE"; }
start=$(date +%s.%N)
imap_append support secret INBOX 1 idle
wait_tickets 2
end=$(date +%s.%N)
echo "ticketed $(python3 -c "print(round($end - $start, 2))") s after APPEND"
# The server drops the connection (doveadm kick): the poller reconnects
# with backoff and still picks up the next message.
n_idle=$(grep -c "imap=t idling" "$T/serve.log")
if doveadm -c "$T/dovecot.conf" kick support >/dev/null 2>&1; then
  imap_append support secret INBOX 1 afterdrop
  wait_tickets 3
  grep -q "imap account 't'.*IDLE" "$T/serve.log" || { cat "$T/serve.log"; fail "drop not noticed"; }
  want=3
else
  echo "note: doveadm kick unavailable, reconnect not exercised"
  want=2
fi
kill -TERM $SERVE
wait $SERVE || fail "serve exit status"
EXTRA_PIDS=
expect_eq "$(ticket_count "$T/tg.conf")" "$want" "tickets"
echo "PASS"
