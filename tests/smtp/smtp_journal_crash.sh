#!/bin/bash
# The spool journal across a crash, step by step: a message answered 250
# lives only in the journal (spool/journal.h) until the worker tickets it;
# the daemon is killed while its worker is held before its first batch
# (TICKETGATE_TEST_HOLD=worker, gateway/test_hooks.h); the restart, or a
# `spool retry`, brings the journal's entry back through queue/ and
# tickets it exactly once.  Then a clean stop leaves no journal behind.
. "$(dirname "$0")/lib.sh"
write_conf
TICKETGATE_TEST_HOLD=worker start_server

cat > "$T/send.py" <<'PY'
import smtplib, sys
port, mid = int(sys.argv[1]), sys.argv[2]
s = smtplib.SMTP("127.0.0.1", port, timeout=10)
s.ehlo("c")
s.mail("journal@example.org"); s.rcpt("support@example.com")
code, _ = s.data(("From: journal@example.org\r\nSubject: %s\r\nMessage-ID: <%s>\r\n\r\nkept\r\n"
                  % (mid, mid)).encode())
print(code)
PY
# send_and_crash MID: 250, then kill -9 with MID in the journal only.
send_and_crash() {
  local r
  r=$(python3 "$T/send.py" "$SMTP_PORT" "$1")
  [ "$r" = 250 ] || fail "$1: expected 250, got $r"
  kill -9 "$SERVER_PID"
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=
  [ "$(ls "$T/var/spool/journal" | wc -l)" = 1 ] || fail "expected one journal segment: $(ls -l "$T/var/spool/journal")"
  [ -z "$(ls -A "$T/var/spool/queue")" ] || fail "the entry should be in the journal only"
  [ "$(sql "select count(*) from messages where direction='in' and message_id='$1'")" = 0 ] \
    || fail "$1 stored before the crash"
}
stored_once() {
  [ "$(sql "select count(*) from messages where direction='in' and message_id='$1'")" = 1 ] \
    || fail "$1 not stored exactly once"
}

# Recovered by the next start.
send_and_crash j1@journal
start_server
wait_drained
grep -q "recovered 1 spool entries from the journal" "$T/log" || fail "no recovery logged"
stored_once j1@journal
stop_server
[ -z "$(ls -A "$T/var/spool/journal")" ] || fail "a clean stop left journal segments"

# Recovered by `spool retry`, with `spool list` pointing at the journal.
TICKETGATE_TEST_HOLD=worker start_server
send_and_crash j2@journal
"$TG_BINARY" -c "$T/conf" spool list > "$T/list.out" 2> "$T/list.err"
grep -q "1 journal segment" "$T/list.err" || fail "spool list does not mention the journal: $(cat "$T/list.err")"
"$TG_BINARY" -c "$T/conf" spool retry > "$T/retry.out" 2>&1 || fail "spool retry failed: $(cat "$T/retry.out")"
grep -q "processed 1, left 0" "$T/retry.out" || fail "spool retry: $(cat "$T/retry.out")"
stored_once j2@journal
[ -z "$(ls -A "$T/var/spool/journal")" ] || fail "spool retry left the journal"

start_server
r=$(python3 "$T/send.py" "$SMTP_PORT" "j3@journal")
[ "$r" = 250 ] || fail "expected 250 after the restart, got $r"
wait_drained
stop_server
stored_once j3@journal
[ "$(message_count)" = 3 ] || fail "expected 3 messages, got $(message_count)"
echo ok
