#!/usr/bin/env bash
# NUL bytes in header values and in the body (plain, quoted-printable and
# base64 text): a ticket, the text after each NUL kept, a warning noted.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/limits_lib.sh"
python3 > nul.eml <<'PY'
import sys, base64
b = sys.stdout.buffer
b.write(b"From: a\x00b <a@example.com>\nSubject: nul\x00here\nMessage-ID: <nul@x>\n"
        b"X-Nul: \x00\x00\x00\nContent-Type: multipart/mixed; boundary=b\n\n"
        b"--b\nContent-Type: text/plain\n\nbefore\x00after\n"
        b"--b\nContent-Type: text/plain\nContent-Transfer-Encoding: quoted-printable\n\nqp=00tail\n"
        b"--b\nContent-Type: text/plain\nContent-Transfer-Encoding: base64\n\n"
        + base64.b64encode(b"b64\x00tail" + b"\x00" * 100000) + b"\n--b--\n")
PY
deliver_measured nul.eml
expect_eq exit "$RC" 0
expect_eq outcome "$(outcome)" ticket
body=$(sqlite3 var/ticketgate.db 'select body from messages')
for want in beforeafter qptail b64tail; do
  [[ "$body" == *"$want"* ]] || fail "body lost the text after a NUL ($want): $body"
done
[ "$(sqlite3 var/ticketgate.db "select instr(subject, char(0)) from messages")" = 0 ] || fail "NUL in the stored subject"
check_bounds nul 64 10
pass "NUL bytes: ticket, text kept (peak RSS $((RSS_KB / 1024)) MB, $SECS s)"
