#!/bin/bash
# A server that accepts the connection and then says nothing: `fetch`
# gives up after the account's timeout, names the account, exits 75, and
# the healthy account is still fetched.
source "$(dirname "$0")/lib.sh"
dovecot_start
imap_append support secret INBOX 2 ok
SILENT=$(free_port)
python3 - "$SILENT" <<'PY' &
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(5)
conns = []
end = time.time() + 60
s.settimeout(1)
while time.time() < end:
    try:
        c, _ = s.accept(); conns.append(c)   # never answers
    except socket.timeout:
        pass
PY
EXTRA_PIDS=$!
sleep 0.3
tg_conf "$T/tg.conf" \
  "[imap:silent]" "host = 127.0.0.1" "port = $SILENT" "tls = none" "user = x" \
  "password = y" "timeout = 2s"
start=$(date +%s)
rc=0; "$TG_BINARY" -c "$T/tg.conf" fetch 2>"$T/err" || rc=$?
took=$(( $(date +%s) - start ))
cat "$T/err"; echo "gave up after ${took}s"
expect_eq "$rc" 75 "exit code"
grep -q "imap account 'silent'.*timed out" "$T/err" || fail "silent account not named"
grep -q "failed account(s): silent " "$T/err" || fail "failing accounts"
[ "$took" -le 8 ] || fail "took $took s with a 2 s timeout"
expect_eq "$(ticket_count "$T/tg.conf")" 2 "tickets from the healthy account"
echo "PASS"
