# [outbound] tls_verify = true (the default): a smarthost certificate that
# does not verify - self-signed, or signed by a trusted CA for another
# name - defers the notice before anything is said inside TLS (no EHLO, no
# AUTH, no envelope), and the log and last_error name the smarthost and
# the reason.  ca_file = the certificate (or its CA) makes it deliver.
source "$TG_SOURCE_DIR/tests/outbound/lib.sh"
make_certs
printf 'pw\n' > "$WORK/smarthost.pw"; chmod 600 "$WORK/smarthost.pw"
conf() { # conf EXTRA...: starttls with AUTH and the default tls_verify
  write_config "smarthost = 127.0.0.1:$SMTP_PORT
tls = starttls
user = gw
password_file = $WORK/smarthost.pw
$*"
}
nothing_inside_tls() {
  ! grep -qi 'AUTH' "$SMTP_DIR/commands" || fail "$1: the server saw AUTH: $(cat "$SMTP_DIR/commands")"
  [ ! -e "$SMTP_DIR/auth" ] || fail "$1: credentials reached the server"
  ! grep -q '^tls [A-Z]' "$SMTP_DIR/commands" || fail "$1: commands sent inside unverified TLS: $(grep '^tls' "$SMTP_DIR/commands")"
  [ "$(smarthost_count)" = 0 ] || fail "$1: a message was delivered"
}

# --- (b) self-signed: deferred, nothing sent
start_tls_smarthost starttls self
conf ""
msg alice@example.org "verify me" v1@example.org | deliver alice@example.org
tg spool flush > flush.out 2> flush.log
grep -q 'deferred 1' flush.out || { cat flush.out flush.log >&2; fail "untrusted certificate not deferred"; }
grep -q '^plain STARTTLS$' "$SMTP_DIR/commands" || fail "STARTTLS not even tried"
nothing_inside_tls "self-signed"
grep -q "outbound=1 .*deferred: .*smarthost 127.0.0.1:$SMTP_PORT: server certificate not trusted (.*unknown CA" flush.log ||
  { cat flush.log >&2; fail "the log does not name the smarthost and the reason"; }
[ "$(sql "SELECT status || ' ' || attempts FROM outbound WHERE id=1")" = "deferred 1" ] || fail "not deferred in the store"
sql "SELECT last_error FROM outbound WHERE id=1" | grep -q 'not trusted' || fail "reason not kept"

# --- (c) ca_file = that certificate: delivered on the retry (clock moved)
conf "ca_file = $WORK/pki/self.pem"
TICKETGATE_NOW=2026-01-09T17:51:30+09:00 tg spool flush 2>flush.log | grep -q 'sent 1' ||
  { cat flush.log >&2; fail "not delivered with ca_file"; }
[ "$(smarthost_count)" = 1 ] && [ "$(cat "$SMTP_DIR/1.tls")" = tls ] || fail "not delivered over TLS"
grep -q '^TLS gw pw$' <(cut -d' ' -f2- "$SMTP_DIR/auth") || fail "AUTH after verification: $(cat "$SMTP_DIR/auth")"
[ "$(sql "SELECT status || ' ' || attempts FROM outbound WHERE id=1")" = "sent 2" ] || fail "not sent in the store"

# --- a private CA in ca_file: delivered; the system store alone: deferred
start_tls_smarthost starttls host
conf "ca_file = $WORK/pki/ca.pem"
msg bob@example.org "private ca" v2@example.org | deliver bob@example.org
tg spool flush 2>flush.log | grep -q 'sent 1' || { cat flush.log >&2; fail "CA-signed certificate refused with ca_file = CA"; }
conf ""
msg carol@example.org "system store" v3@example.org | deliver carol@example.org
tg spool flush 2>flush.log | grep -q 'deferred 1' || { cat flush.log >&2; fail "private CA accepted without ca_file"; }

# --- trusted CA, wrong name: deferred as a name mismatch
start_tls_smarthost starttls other
conf "ca_file = $WORK/pki/ca.pem"
msg dave@example.org "wrong name" v4@example.org | deliver dave@example.org
tg spool flush > flush.out 2> flush.log
grep -q 'deferred' flush.out || { cat flush.log >&2; fail "name mismatch not deferred"; }
nothing_inside_tls "wrong name"
grep -q "smarthost 127.0.0.1:$SMTP_PORT: server certificate not trusted (.*name mismatch" flush.log ||
  { cat flush.log >&2; fail "the log does not say name mismatch"; }

# --- an unreadable ca_file is a deferral too, never a fallback
conf "ca_file = $WORK/pki/missing.pem"
TICKETGATE_NOW=2026-01-09T17:52:00+09:00 tg spool flush 2>flush.log | grep -q 'sent 0, deferred 2' ||
  { cat flush.log >&2; fail "a missing ca_file did not defer the retries"; }
grep -q "ca_file $WORK/pki/missing.pem" flush.log || { cat flush.log >&2; fail "missing ca_file not named"; }
nothing_inside_tls "missing ca_file"
echo PASS
