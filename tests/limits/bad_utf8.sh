#!/usr/bin/env bash
# Invalid UTF-8 labelled as UTF-8 (overlongs, surrogates, truncated
# sequences, 0xFF) in headers, an encoded word and the body: a ticket
# whose stored text is valid UTF-8 with U+FFFD in place of the bad bytes.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/limits_lib.sh"
python3 > bad.eml <<'PY'
import sys, base64
bad = b"ok \xc0\x80 \xed\xa0\x80 \xe3\x81 \xff\xfe \xf8\x88\x80\x80\x80 end"
b = sys.stdout.buffer
b.write(b"From: " + bad + b" <a@example.com>\nSubject: =?UTF-8?B?" + base64.b64encode(bad) +
        b"?= raw " + bad + b"\nMessage-ID: <bad@x>\n"
        b"Content-Type: text/plain; charset=utf-8\n\n" + bad * 1000 + b"\n")
PY
deliver_measured bad.eml
expect_eq exit "$RC" 0
expect_eq outcome "$(outcome)" ticket
sqlite3 var/ticketgate.db 'select subject, body from messages' > stored.txt
python3 -c "open('stored.txt','rb').read().decode('utf-8')" || fail "stored text is not valid UTF-8"
grep -q $'\xef\xbf\xbd' stored.txt || fail "no U+FFFD for the bad bytes"
check_bounds bad-utf8 64 10
pass "invalid UTF-8: ticket with U+FFFD (peak RSS $((RSS_KB / 1024)) MB, $SECS s)"
