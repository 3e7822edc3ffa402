#!/usr/bin/env bash
# A base64 part that never ends: no closing boundary, no final newline,
# 20 MB of base64 (with a line of junk characters midway) up to the
# end of the message: a ticket with the attachment decoded as far as it
# goes.  Long: 120 MB (message_size raised).
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/limits_lib.sh"
mb=20; [ "$LONG" = 1 ] && mb=120
python3 - "$mb" > endless.eml <<'PY'
import sys, base64
mb = int(sys.argv[1])
b = sys.stdout.buffer
b.write(b"From: a@example.com\nSubject: endless\nMessage-ID: <endless@x>\n"
        b"Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nsee attached\n"
        b"--b\nContent-Type: application/pdf\nContent-Transfer-Encoding: base64\n\n")
line = base64.b64encode(bytes(range(256))[:57]) + b"\n"
chunk = line * 1000
total = mb * 1024 * 1024
for i in range(total // len(chunk)):
    b.write(chunk)
    if i == 10:
        b.write(b"!!*** junk ~~~\n")
b.write(line[:30])  # cut mid-line, no newline, no boundary
PY
printf '[limits]\nmessage_size = %dM\n' $((mb + 10)) > e.conf
deliver_measured endless.eml -c e.conf
expect_eq exit "$RC" 0
expect_eq outcome "$(outcome)" ticket
size=$(sqlite3 var/ticketgate.db 'select max(size) from attachments' 2>/dev/null || echo 0)
[ "${size:-0}" -gt $((mb * 1024 * 1024 / 2)) ] || fail "attachment not decoded (size ${size:-none})"
check_bounds endless-base64 $((64 + mb * 8)) $((10 + mb))
pass "${mb} MB endless base64: ticket, ${size} bytes decoded (peak RSS $((RSS_KB / 1024)) MB, $SECS s)"
