#!/usr/bin/env bash
# A 50 MB message: refused by the default 25M limit (exit 65, nothing
# kept, memory of a streaming copy); accepted with message_size = 60M as a
# ticket with bounded memory.  Long: 200 MB with message_size = 250M.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/limits_lib.sh"
mb=50; [ "$LONG" = 1 ] && mb=200
python3 - "$mb" > big.eml <<'PY'
import sys
w = sys.stdout.write
w("From: big@example.com\nTo: support@localhost\nSubject: big\nMessage-ID: <big@x>\n\n")
line = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789\n"
w(line * (int(sys.argv[1]) * 1024 * 1024 // len(line)))
PY
deliver_measured big.eml
expect_eq refused-exit "$RC" 65
grep -q 'too big' deliver.out || fail "no 'too big' message: $(cat deliver.out)"
expect_eq nothing-kept "$("$TG" spool list --json 2>/dev/null | tg_json 'len(j)')" 0
check_bounds refused 32 10
pass "${mb} MB refused with 65 (peak RSS $((RSS_KB / 1024)) MB, $SECS s)"

printf '[limits]\nmessage_size = %dM\n' $((mb + mb / 4 + 10)) > big.conf
deliver_measured big.eml -c big.conf
expect_eq accepted-exit "$RC" 0
expect_eq accepted "$(outcome)" ticket
expect_eq body-size "$(sqlite3 var/ticketgate.db 'select length(body) > '$((mb * 1000 * 1000))' from messages')" 1
# Raw copy, decoded body, GMime's tree: bounded at 8x the message.
check_bounds accepted $((mb * 8)) $((mb))
pass "${mb} MB accepted with a larger limit (peak RSS $((RSS_KB / 1024)) MB, $SECS s)"
