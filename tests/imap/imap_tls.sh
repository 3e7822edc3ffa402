#!/bin/bash
# Implicit TLS and STARTTLS with a self-signed certificate (tls_verify =
# false); with tls_verify = true the same certificate is refused before
# the password is sent, and trusted through ca_file.
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

# ca_file = the server's own certificate (CN=localhost): verification
# uses it instead of the system store - so connecting as 127.0.0.1 is a
# name mismatch, and as localhost it is trusted.
tg_conf "$C" "tls = starttls" "tls_verify = true" "ca_file = $T/cert.pem"
sed -i "s/^tls = none//" "$C"
rc=0; "$TG_BINARY" -c "$C" fetch 2>"$T/err" || rc=$?
expect_eq "$rc" 75 "exit with ca_file and the wrong name"
grep -q "imap account 't'.*not trusted (.*name mismatch" "$T/err" || { cat "$T/err"; fail "no name-mismatch error with ca_file"; }
grep -q "unknown CA" "$T/err" && { cat "$T/err"; fail "ca_file not used"; }
expect_eq "$(ticket_count "$C")" 5 "tickets after the name mismatch"
sed -i "s/^host = 127.0.0.1$/host = localhost/" "$C"
"$TG_BINARY" -c "$C" fetch 2>"$T/err" || { cat "$T/err"; fail "fetch with ca_file failed"; }
expect_eq "$(ticket_count "$C")" 6 "tickets with ca_file"
echo "PASS"
