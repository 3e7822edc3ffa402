#!/usr/bin/env bash
# The database locked by another process (SQLite busy) past busy_timeout:
# every deliver exits 75 with its message kept in the spool; once the lock
# is gone, `spool retry` stores each exactly once and a second retry
# changes nothing.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/faults_lib.sh"
printf '[limits]\nbusy_timeout = 1s\n' > t.conf
expect_eq first "$(deliver_rc 0 -c t.conf)" 0
touch hold
( printf 'BEGIN EXCLUSIVE;\n'; while [ -e hold ]; do sleep 0.1; done; printf 'COMMIT;\n' ) |
  sqlite3 var/ticketgate.db &
locker=$!
sleep 0.5
for i in 1 2 3 4 5; do
  expect_eq "locked-$i" "$(deliver_rc $i -c t.conf)" 75
done
expect_eq all-spooled "$(queued -c t.conf)" 5
rc=0; "$TG" -c t.conf spool retry > retry.out 2>&1 || rc=$?
[ "$rc" -ne 0 ] || fail "spool retry under the lock claimed success"
expect_eq still-spooled "$(queued -c t.conf)" 5
rm hold
wait "$locker"
"$TG" -c t.conf spool retry > retry.out 2>&1 || { cat retry.out; fail "spool retry failed"; }
"$TG" -c t.conf spool retry > /dev/null 2>&1
for i in 0 1 2 3 4 5; do expect_eq "stored-$i" "$(stored $i)" 1; done
expect_eq queue-empty "$(queued -c t.conf)" 0
expect_eq integrity "$(sqlite3 var/ticketgate.db 'pragma integrity_check')" ok
pass "busy database: 75, kept in the spool, stored once after the lock"
