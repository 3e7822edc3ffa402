#!/bin/bash
# The spool_min_free reserve refuses mail with 452 4.3.1 at DATA; SIGHUP
# with a broken file keeps the running configuration; SIGHUP with a good
# one lowers the reserve and delivery resumes.
. "$(dirname "$0")/lib.sh"
LIMITS_EXTRA="spool_min_free = 100000G" write_conf
# write_conf put "spool_min_free = 0" first; the later line wins in a key
# file only if it is the same group, so write the reserve explicitly:
sed -i 's/^spool_min_free = 0$//' "$T/conf"
start_server
send() {
  swaks -s 127.0.0.1 -p "$SMTP_PORT" -f r@example.org -t support@example.com \
    --header "Subject: $1" --hide-informational > "$T/out" 2>&1 || true
}
send reserve-1@x
grep -q "452 4.3.1" "$T/out" || fail "reserve: expected 452 4.3.1: $(cat "$T/out")"
# A broken file: the old configuration stays (still 452), and the log says why.
cp "$T/conf" "$T/conf.good"
printf '[smtp]\nno_such_key = 1\n' >> "$T/conf"
kill -HUP "$SERVER_PID"; sleep 0.5
grep -q "reload failed" "$T/log" || fail "broken reload not logged"
grep -q "no_such_key" "$T/log" || fail "broken reload does not say why"
send reserve-2@x
grep -q "452 4.3.1" "$T/out" || fail "broken reload changed the configuration: $(cat "$T/out")"
# A good file without the reserve.
sed 's/^spool_min_free = 100000G$/spool_min_free = 0/' "$T/conf.good" > "$T/conf"
kill -HUP "$SERVER_PID"; sleep 0.5
grep -q "reload: configuration" "$T/log" || fail "reload not logged"
send reserve-3@x
grep -q "250 2.0.0 Ok: queued as" "$T/out" || fail "after reload: $(cat "$T/out")"
wait_drained
[ "$(message_count)" = 1 ] || fail "expected 1 message, got $(message_count)"
[ "$(sql "select subject from messages")" = "reserve-3@x" ] || fail "wrong message stored"
kill -0 "$SERVER_PID" || fail "serve died on SIGHUP"
stop_server
echo ok
