#!/usr/bin/env bash
# ISO-2022-JP with invalid escape sequences (unknown designations, an
# escape cut short, 8-bit bytes, shift-out, a missing return to ASCII) in
# an encoded word, raw header text and the body: a ticket, valid UTF-8,
# the readable Japanese kept.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/limits_lib.sh"
python3 > jis.eml <<'PY'
import sys, base64
good = "こんにちは".encode("iso-2022-jp")
bad = (good + b"\x1b(Z\x1b$\x1b$(Q$3$s\x0e!!\x0f\xa4\xa2\x1b$B$3$s" + b"\x1b" * 50 +
       b"$B" * 1000 + b"\x1b(B end")
b = sys.stdout.buffer
b.write(b"From: a@example.com\nSubject: =?ISO-2022-JP?B?" + base64.b64encode(bad[:200]) +
        b"?=\nX-Raw: " + bad[:300] + b"\nMessage-ID: <jis@x>\n"
        b"Content-Type: text/plain; charset=ISO-2022-JP\n\n" + bad * 200 + b"\n")
PY
deliver_measured jis.eml
expect_eq exit "$RC" 0
expect_eq outcome "$(outcome)" ticket
sqlite3 var/ticketgate.db 'select subject, body from messages' > stored.txt
python3 -c "open('stored.txt','rb').read().decode('utf-8')" || fail "stored text is not valid UTF-8"
grep -q 'こんにちは' stored.txt || fail "the valid Japanese was lost"
check_bounds bad-iso2022jp 64 10
pass "invalid ISO-2022-JP escapes: ticket (peak RSS $((RSS_KB / 1024)) MB, $SECS s)"
