#!/usr/bin/env bash
# The spool directory removed while `serve` runs: serve keeps running
# (it logs the failure), deliver recreates the spool and is stored, and
# serve still stops cleanly on SIGTERM.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/faults_lib.sh"
expect_eq first "$(deliver_rc 0)" 0
"$TG" serve --foreground > serve.log 2>&1 &
serve=$!
cleanup_hooks+=("kill $serve 2>/dev/null")
sleep 1.5
kill -0 "$serve" 2>/dev/null || { cat serve.log; fail "serve did not start"; }
rm -rf var/spool
sleep 2.5
kill -0 "$serve" 2>/dev/null || { cat serve.log; fail "serve died when the spool went away"; }
expect_eq after-removal "$(deliver_rc 1)" 0
expect_eq stored-1 "$(stored 1)" 1
# A message spooled but not finished (killed after the spool write) is
# picked up by serve's drain from the recreated spool.
rc=0; msg 2 | TICKETGATE_TEST_PAUSE=after-spool "$TG" deliver --recipient support@localhost 2>/dev/null || rc=$?
expect_eq killed "$rc" 137
for _ in $(seq 1 50); do [ "$(stored 2)" = 1 ] && break; sleep 0.1; done
expect_eq serve-finished-2 "$(stored 2)" 1
kill -0 "$serve" 2>/dev/null || { cat serve.log; fail "serve died"; }
kill -TERM "$serve"
rc=0; wait "$serve" || rc=$?
expect_eq serve-exit "$rc" 0
for i in 0 1 2; do expect_eq "once-$i" "$(stored $i)" 1; done
pass "spool removed under serve: serve survives, nothing lost"
