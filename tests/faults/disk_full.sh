#!/usr/bin/env bash
# A full disk, on a small tmpfs mounted as the data directory (root only;
# skips when mount is not permitted):
#   1. during the spool write: deliver exits 75, nothing is left queued
#      (the MTA keeps the message and retries);
#   2. during the SQLite commit (room for the spool file, none for the
#      WAL): deliver exits 75 with the message safe in the spool;
# then, with room again, `spool retry` stores every accepted message once
# and the database passes integrity_check.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/faults_lib.sh"
[ "$(id -u)" = 0 ] || skip "needs root to mount a tmpfs"
mkdir -p var
mount -t tmpfs -o size=64m tgfull var 2>/dev/null || skip "mount -t tmpfs not permitted"
cleanup_hooks+=("umount -l $WORK/var")
chmod 0700 var   # a fresh tmpfs is 1777, which safety.c rightly refuses
printf '[limits]\nspool_min_free = 0\n' > t.conf
big() { # N KB: a message with a large text body
  { msg "$1"; head -c $(( $2 * 1024 )) /dev/urandom | base64; }
}
deliver_big() {
  local rc=0
  big "$1" "$2" | "$TG" -c t.conf deliver --recipient support@localhost > /dev/null 2>>deliver.err || rc=$?
  echo "$rc"
}
expect_eq first "$(deliver_rc 0 -c t.conf)" 0
free_kb() { df -k --output=avail var | tail -1 | tr -d ' '; }
fill_to() { # leave about N KB free
  rm -f var/filler
  local f; f=$(free_kb)
  [ "$f" -gt "$1" ] && { head -c $(( (f - $1) * 1024 )) /dev/zero > var/filler 2>/dev/null || true; }
}

# 1. No room for the spool file.
fill_to 100
expect_eq spool-full "$(deliver_big 1 600)" 75
expect_eq nothing-queued "$(queued -c t.conf)" 0
[ -z "$(ls var/spool/tmp 2>/dev/null)" ] || fail "a torn spool file was left in tmp/"

# 2. Room for the spool file (~800 KB) but not for the WAL as well.
fill_to 1300
rc=$(deliver_big 2 600)
expect_eq commit-full "$rc" 75
expect_eq kept-in-spool "$(queued -c t.conf)" 1
expect_eq not-stored-yet "$(stored 2)" 0

# Room again: recovery stores it once; the MTA's retry of 1 is stored too.
rm -f var/filler
"$TG" -c t.conf spool retry > retry.out 2>&1 || { cat retry.out; fail "spool retry failed"; }
expect_eq mta-retry "$(deliver_big 1 600)" 0
"$TG" -c t.conf spool retry > /dev/null 2>&1
for i in 0 1 2; do expect_eq "stored-$i" "$(stored $i)" 1; done
expect_eq queue-empty "$(queued -c t.conf)" 0
expect_eq integrity "$(sqlite3 var/ticketgate.db 'pragma integrity_check')" ok
pass "full disk during the spool write (75, nothing kept) and the commit (75, kept, stored once)"
