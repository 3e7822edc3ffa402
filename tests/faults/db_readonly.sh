#!/usr/bin/env bash
# The database file read-only.  Tests run as root, so mode 0444 means
# nothing: the file (and its -wal/-shm) is made immutable with chattr +i.
# deliver exits 75 with the message kept in the spool; after chattr -i,
# `spool retry` stores it once.  Skips where chattr +i is not permitted.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/faults_lib.sh"
command -v chattr >/dev/null || skip "chattr missing"
expect_eq first "$(deliver_rc 0)" 0
files=(var/ticketgate.db)
for f in var/ticketgate.db-wal var/ticketgate.db-shm; do [ -e "$f" ] && files+=("$f"); done
chattr +i "${files[@]}" 2>/dev/null || skip "chattr +i not permitted here"
cleanup_hooks+=("chattr -i ${files[*]}")
for i in 1 2 3; do
  rc=$(deliver_rc $i)
  expect_eq "readonly-$i" "$rc" 75
done
expect_eq all-spooled "$(queued)" 3
expect_eq none-quarantined "$(quarantined)" 0
chattr -i "${files[@]}"
"$TG" spool retry > retry.out 2>&1 || { cat retry.out; fail "spool retry failed"; }
for i in 0 1 2 3; do expect_eq "stored-$i" "$(stored $i)" 1; done
expect_eq queue-empty "$(queued)" 0
pass "read-only database: 75, kept, stored once when writable again"
