#!/usr/bin/env bash
# `ticketgate check` and start-up refuse unsafe setups with a clear
# message (gateway/safety.c): a world-writable data or spool directory, a
# config file with an IMAP password readable by others, a password_file
# or secret_file readable by others.  deliver refuses before accepting.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/faults_lib.sh"
expect_eq first "$(deliver_rc 0)" 0
"$TG" check > /dev/null 2>&1 || fail "check of a safe setup failed"

chmod 0777 var
rc=0; "$TG" check 2> check.err || rc=$?
expect_eq check-ww "$rc" 78
grep -q 'unsafe: data directory \(\./\)\?var is world-writable' check.err || fail "no message: $(cat check.err)"
rc=$(deliver_rc 1)
expect_eq deliver-ww "$rc" 78
grep -q 'world-writable' deliver.err || fail "deliver gave no reason"
expect_eq nothing-accepted "$(stored 1)" 0
rc=0; "$TG" spool retry > /dev/null 2>&1 || rc=$?
[ "$rc" -ne 0 ] || fail "spool retry ran on a world-writable data directory"
chmod 0700 var
chmod 1777 var/spool
rc=0; "$TG" check 2> check.err || rc=$?
expect_eq check-spool "$rc" 78
grep -q 'spool directory \(\./\)\?var/spool is world-writable' check.err || fail "no spool message: $(cat check.err)"
chmod 0700 var/spool
pass "world-writable data and spool directories refused"

cat > pw.conf <<'CONF'
[imap:work]
host = 127.0.0.1
user = u
password = hunter2
CONF
chmod 0644 pw.conf
rc=0; "$TG" -c pw.conf check 2> check.err || rc=$?
expect_eq check-pw "$rc" 78
grep -q 'configuration file pw.conf holds a password and others can read it' check.err ||
  fail "no password message: $(cat check.err)"
chmod 0600 pw.conf
"$TG" -c pw.conf check > /dev/null 2>&1 || fail "a 0600 config with a password was refused: $("$TG" -c pw.conf check 2>&1)"
printf 'hunter2\n' > pw.txt; chmod 0644 pw.txt
printf '[imap:work]\nhost = 127.0.0.1\nuser = u\npassword_file = pw.txt\n' > pf.conf; chmod 0644 pf.conf
rc=0; "$TG" -c pf.conf check 2> check.err || rc=$?
expect_eq check-pwfile "$rc" 78
grep -q 'password_file pw.txt is readable or writable by others' check.err || fail "no password_file message: $(cat check.err)"
chmod 0600 pw.txt
"$TG" -c pf.conf check > /dev/null 2>&1 || fail "a 0600 password_file was refused"
chmod 0644 var/secret
rc=0; "$TG" check 2> check.err || rc=$?
expect_eq check-secret "$rc" 78
grep -q 'secret_file ./var/secret is readable' check.err || fail "no secret message: $(cat check.err)"
chmod 0600 var/secret
pass "passwords and secrets readable by others refused"
