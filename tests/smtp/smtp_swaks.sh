#!/bin/bash
# Real clients against `ticketgate serve`: plain, PIPELINING, 8BITMIME
# Japanese body, SMTPUTF8 sender, STARTTLS with a self-signed certificate,
# unknown recipient, SIZE over the limit at MAIL and after DATA, and a
# client that disconnects in the middle of DATA.
. "$(dirname "$0")/lib.sh"

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
  -keyout "$T/key.pem" -out "$T/cert.pem" 2>/dev/null || fail "openssl"
SMTP_EXTRA="tls_cert = $T/cert.pem
tls_key = $T/key.pem"
LIMITS_EXTRA="message_size = 200k"
write_conf
start_server
S=(swaks -s 127.0.0.1 -p "$SMTP_PORT" -f customer@example.org --hide-informational)

# plain
"${S[@]}" -t support@example.com --header "Subject: plain one" > "$T/out" 2>&1 || fail "plain: $(cat "$T/out")"
grep -q "250 2.0.0 Ok: queued as" "$T/out" || fail "plain: no 250"

# PIPELINING: swaks sends MAIL/RCPT/DATA in one go
"${S[@]}" -t support+x@example.com --pipeline --header "Subject: piped" > "$T/out" 2>&1 || fail "pipeline: $(cat "$T/out")"
grep -q "PIPELINING" "$T/out" || fail "PIPELINING not advertised"
grep -q "250 2.0.0 Ok: queued as" "$T/out" || fail "pipeline: no 250"

# 8BITMIME with a Japanese UTF-8 body
BODY='お問い合わせありがとうございます。注文番号は１２３４５です。
二行目：配送が遅れています。'
printf 'From: 山田 <yamada@example.jp>\r\nTo: support@example.com\r\nSubject: =?UTF-8?B?%s?=\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\nMessage-ID: <jp-8bit@example.jp>\r\n\r\n%s\r\n' \
  "$(printf '配送について' | base64 -w0)" "$(printf '%s' "$BODY" | sed 's/$/\r/' | sed '$ s/\r$//')" > "$T/jp.eml"
"${S[@]}" -t support@example.com --data "$T/jp.eml" > "$T/out" 2>&1 || fail "8bit: $(cat "$T/out")"
grep -q "8BITMIME" "$T/out" || fail "8BITMIME not advertised"

# SMTPUTF8 sender (python: swaks 2020 has no SMTPUTF8 option)
python3 - "$SMTP_PORT" <<'PY' || fail "smtputf8"
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]))
s.ehlo("client")
assert s.has_extn("smtputf8"), "SMTPUTF8 not advertised"
msg = "From: 田中 <田中@例え.jp>\r\nTo: support@example.com\r\nSubject: utf8 address\r\nMessage-ID: <utf8-addr@example.jp>\r\n\r\nこんにちは\r\n".encode()
code, _ = s.mail("田中@例え.jp", ["SMTPUTF8", "BODY=8BITMIME"])
assert code == 250, code
assert s.rcpt("support@example.com")[0] == 250
code, text = s.data(msg)
assert code == 250, (code, text)
# Without SMTPUTF8 a non-ASCII address is refused.
s.rset()
s.command_encoding = "utf-8"
code, _ = s.mail("田中@例え.jp")
assert code == 553, code
s.quit()
PY

# STARTTLS with the self-signed certificate
"${S[@]}" -t support@example.com -tls --header "Subject: over tls" > "$T/out" 2>&1 || fail "starttls: $(cat "$T/out")"
grep -q "250 2.0.0 Ok: queued as" "$T/out" || fail "starttls: no 250"
grep -q "STARTTLS" "$T/out" || fail "STARTTLS not advertised"
grep -q "^<~  250 2.0.0 Ok: queued as" "$T/out" || fail "message not sent inside TLS: $(cat "$T/out")"

# unknown recipient: 550 5.1.1
"${S[@]}" -t sales@example.com > "$T/out" 2>&1 && fail "unknown rcpt accepted"
grep -q "550 5.1.1" "$T/out" || fail "unknown rcpt: $(cat "$T/out")"

# SIZE over the limit at MAIL, and data over the limit after DATA
python3 - "$SMTP_PORT" <<'PY' || fail "size"
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]))
s.ehlo("client")
assert int(s.esmtp_features["size"]) == 200 * 1024
code, text = s.mail("big@example.org", ["SIZE=%d" % (300 * 1024)])
assert code == 552 and text.startswith(b"5.3.4"), (code, text)
code, _ = s.mail("big@example.org")
assert code == 250
assert s.rcpt("support@example.com")[0] == 250
body = b"Subject: too big\r\nMessage-ID: <too-big@example.org>\r\n\r\n" + (b"x" * 998 + b"\r\n") * 300
code, text = s.data(body)
assert code == 552 and text.startswith(b"5.3.4"), (code, text)
# The session goes on: a small one is fine.
code, _ = s.mail("big@example.org")
assert code == 250, code
s.rcpt("support@example.com")
code, _ = s.data(b"Subject: small after big\r\nMessage-ID: <small-after-big@example.org>\r\n\r\nok\r\n")
assert code == 250, code
s.quit()
PY

# disconnect in the middle of DATA
python3 - "$SMTP_PORT" <<'PY' || fail "disconnect"
import socket, sys, time
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
f = c.makefile("rb")
def expect(code):
    while True:
        line = f.readline()
        assert line[:3] == code, line
        if line[3:4] == b" ":
            return
expect(b"220")
c.sendall(b"EHLO c\r\n"); expect(b"250")
c.sendall(b"MAIL FROM:<gone@example.org>\r\n"); expect(b"250")
c.sendall(b"RCPT TO:<support@example.com>\r\n"); expect(b"250")
c.sendall(b"DATA\r\n"); expect(b"354")
c.sendall(b"Subject: vanished\r\nMessage-ID: <vanished@example.org>\r\n\r\n" + b"partial line\r\n" * 100)
time.sleep(0.3)
c.close()
PY
sleep 0.5
wait_drained

# What must be in the store, and what must not.
[ "$(sql "select count(*) from messages where message_id like '%vanished%' or message_id like '%too-big%'")" = 0 ] \
  || fail "a refused or partial message was stored"
[ -z "$(ls -A "$T/var/spool/tmp")" ] || fail "partial message left in spool tmp/: $(ls "$T/var/spool/tmp")"
grep -q "lost connection in DATA" "$T/log" || fail "mid-DATA disconnect not logged"
[ "$(message_count)" = 6 ] || fail "expected 6 stored messages, got $(message_count)"
ID=$(sql "select ticket_id from messages where message_id = 'jp-8bit@example.jp'")
[ -n "$ID" ] || fail "Japanese message not stored"
"$TG_BINARY" -c "$T/conf" ticket show "$ID" --json > "$T/show.json"
python3 - "$T/show.json" "$BODY" <<'PY' || fail "Japanese body differs"
import json, sys
t = json.load(open(sys.argv[1]))
body = t["messages"][0]["body"].rstrip("\n")
want = sys.argv[2]
assert body == want, (body, want)
assert t["subject"] == "配送について", t["subject"]
PY
ID=$(sql "select ticket_id from messages where message_id = 'utf8-addr@example.jp'")
[ -n "$ID" ] || fail "SMTPUTF8 message not stored"
[ "$(sql "select origin from messages where message_id = 'utf8-addr@example.jp'")" = "smtp 127.0.0.1" ] || fail "origin not recorded"
[ "$(sql "select envelope_sender from messages where message_id = 'utf8-addr@example.jp'")" = "田中@例え.jp" ] || fail "envelope sender not recorded"
stop_server
echo "ok"
