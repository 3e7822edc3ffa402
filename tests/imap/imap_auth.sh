#!/bin/bash
# A wrong password: a clear error naming the account, exit 75, and the
# other account is still fetched.
source "$(dirname "$0")/lib.sh"
dovecot_start
imap_append support secret INBOX 2
imap_append other other INBOX 3 good
tg_conf "$T/tg.conf" "password = wrong" \
  "[imap:good]" "host = 127.0.0.1" "port = $IMAP_PORT" "tls = none" "user = other" \
  "password_file = $T/otherpw" "timeout = 10s"
printf 'other\n' > "$T/otherpw" && chmod 600 "$T/otherpw"
rc=0; "$TG_BINARY" -c "$T/tg.conf" fetch 2>"$T/err" || rc=$?
cat "$T/err"
expect_eq "$rc" 75 "exit code"
grep -q "imap account 't' (support@127.0.0.1:$IMAP_PORT): login refused" "$T/err" || fail "no clear error"
grep -q "failed account(s): t " "$T/err" || fail "failing accounts not named"
grep -q "account 'good'" "$T/err" && fail "good account reported as failing"
expect_eq "$(ticket_count "$T/tg.conf")" 3 "tickets from the good account"
expect_eq "$(imap_count support secret INBOX UNSEEN)" 2 "untouched messages of the failing account"
echo "PASS"
