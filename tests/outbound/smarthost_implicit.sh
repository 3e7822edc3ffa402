# tls = implicit (SMTPS): TLS from the first byte, AUTH inside it; with
# tls_verify = true the certificate is checked before EHLO - refused
# without ca_file, delivered with ca_file = the test CA.
source "$TG_SOURCE_DIR/tests/outbound/lib.sh"
make_certs
start_tls_smarthost implicit host
printf 'implicit-pw\n' > "$WORK/smarthost.pw"; chmod 600 "$WORK/smarthost.pw"
conf() {
  write_config "smarthost = 127.0.0.1:$SMTP_PORT
tls = implicit
user = gw
password_file = $WORK/smarthost.pw
$*"
}

# Unverified (system store does not know the test CA): deferred, silent.
conf "tls_verify = true"
msg erin@example.org "smtps" i1@example.org | deliver erin@example.org
tg spool flush > flush.out 2> flush.log
grep -q 'deferred 1' flush.out || { cat flush.out flush.log >&2; fail "implicit TLS with an unknown CA not deferred"; }
grep -q "smarthost 127.0.0.1:$SMTP_PORT: server certificate not trusted" flush.log || { cat flush.log >&2; fail "no reason logged"; }
! grep -q '^tls [A-Z]' "$SMTP_DIR/commands" || fail "commands sent to an unverified server: $(cat "$SMTP_DIR/commands")"
[ ! -e "$SMTP_DIR/auth" ] || fail "credentials sent to an unverified server"

# Verified with ca_file: delivered over TLS, AUTH inside it.
conf "ca_file = $WORK/pki/ca.pem"
TICKETGATE_NOW=2026-01-09T17:51:30+09:00 tg spool flush 2>flush.log | grep -q 'sent 1' ||
  { cat flush.log >&2; fail "implicit TLS with ca_file not delivered"; }
[ "$(cat "$SMTP_DIR/1.tls")" = tls ] || fail "not over TLS"
! grep -q '^plain' "$SMTP_DIR/commands" || fail "plain-text commands on an implicit TLS port"
[ "$(cut -d' ' -f2- "$SMTP_DIR/auth")" = "TLS gw implicit-pw" ] || fail "AUTH: $(cat "$SMTP_DIR/auth")"

# tls_verify = false: the self-signed certificate is accepted.
start_tls_smarthost implicit self
conf "tls_verify = false"
msg frank@example.org "smtps unverified" i2@example.org | deliver frank@example.org
tg spool flush 2>flush.log | grep -q 'sent 1' || { cat flush.log >&2; fail "implicit TLS, tls_verify = false, not delivered"; }
[ "$(cat "$SMTP_DIR/1.tls")" = tls ] || fail "not over TLS"
echo PASS
