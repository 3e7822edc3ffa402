# tls = starttls with AUTH (user + password_file) and tls_verify = false:
# the ack goes over TLS, AUTH happens only inside TLS and carries exactly
# the configured credentials.
source "$TG_SOURCE_DIR/tests/outbound/lib.sh"
make_certs
start_tls_smarthost starttls self
printf 's3cret pass\n' > "$WORK/smarthost.pw"
chmod 600 "$WORK/smarthost.pw"
write_config "smarthost = 127.0.0.1:$SMTP_PORT
tls = starttls
tls_verify = false
user = gw-user@example.com
password_file = $WORK/smarthost.pw"
msg alice@example.org "over tls" t1@example.org | deliver alice@example.org
tg spool flush 2>flush.log | grep -q 'sent 1,' || { cat flush.log >&2; fail "not sent over STARTTLS"; }
[ "$(smarthost_count)" = 1 ] || fail "smarthost got $(smarthost_count) messages"
[ "$(cat "$SMTP_DIR/1.tls")" = tls ] || fail "the message came over $(cat "$SMTP_DIR/1.tls")"
grep -q '^plain STARTTLS$' "$SMTP_DIR/commands" || fail "no STARTTLS"
grep -qi '^plain AUTH' "$SMTP_DIR/commands" && fail "AUTH before TLS"
grep -qi '^tls AUTH' "$SMTP_DIR/commands" || fail "no AUTH: $(cat "$SMTP_DIR/commands")"
[ "$(wc -l < "$SMTP_DIR/auth")" = 1 ] || fail "AUTH count: $(cat "$SMTP_DIR/auth")"
read -r mech chan user pw < "$SMTP_DIR/auth"
[ "$chan" = TLS ] || fail "AUTH over $chan"
[ "$user" = gw-user@example.com ] || fail "AUTH user '$user'"
[ "$pw" = "s3cret pass" ] || fail "AUTH password '$pw'"
case "$mech" in PLAIN|LOGIN) ;; *) fail "AUTH mechanism $mech" ;; esac
[ "$(sql "SELECT status FROM outbound WHERE id=1")" = sent ] || fail "not marked sent"
sql "SELECT last_error FROM outbound WHERE id=1" | grep -q "smarthost 127.0.0.1:$SMTP_PORT: 250" || fail "reply not recorded"
echo PASS
