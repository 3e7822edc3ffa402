#!/bin/bash
# Implicit TLS and STARTTLS with a self-signed certificate (tls_verify =
# false); with tls_verify = true the same certificate is refused before
# the password is sent.
source "$(dirname "$0")/lib.sh"
dovecot_start
imap_append support secret INBOX 3 tls
C="$T/tg.conf"

tg_conf "$C" "tls = implicit" "tls_verify = false"
sed -i "s/^port = $IMAP_PORT/port = $IMAPS_PORT/; s/^tls = none//" "$C"
"$TG_BINARY" -c "$C" fetch
expect_eq "$(ticket_count "$C")" 3 "tickets over implicit TLS"

imap_append support secret INBOX 2 starttls
tg_conf "$C" "tls = starttls" "tls_verify = false"
sed -i "s/^tls = none//" "$C"
"$TG_BINARY" -c "$C" fetch
expect_eq "$(ticket_count "$C")" 5 "tickets over STARTTLS"

imap_append support secret INBOX 1 verify
tg_conf "$C" "tls = starttls" "tls_verify = true"
sed -i "s/^tls = none//" "$C"
rc=0; "$TG_BINARY" -c "$C" fetch 2>"$T/err" || rc=$?
expect_eq "$rc" 75 "exit with an untrusted certificate"
grep -q "imap account 't'.*not trusted" "$T/err" || { cat "$T/err"; fail "no certificate error"; }
expect_eq "$(ticket_count "$C")" 5 "tickets after the refused certificate"
grep -q "Login: user=<support>" "$T/dovecot.log"
echo "PASS"
