#!/usr/bin/env bash
# A 1 MB header line (Subject) and a 1 MB folded To: header: a ticket.
# Long: 16 MB.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/limits_lib.sh"
kb=1024; [ "$LONG" = 1 ] && kb=16384
python3 - "$kb" > long.eml <<'PY'
import sys
n = int(sys.argv[1]) * 1024
w = sys.stdout.write
w("From: a@example.com\nTo: support@localhost," + ",\n ".join("u%d@example.com" % i for i in range(n // 20)) + "\n")
w("Subject: " + ("x" * n) + "\nMessage-ID: <long@x>\n\nbody\n")
PY
deliver_measured long.eml
expect_eq exit "$RC" 0
expect_eq outcome "$(outcome)" ticket
[ "$(sqlite3 var/ticketgate.db 'select length(subject) from messages')" -ge $((kb * 1024)) ] ||
  fail "subject cut short"
check_bounds header-line $((64 + kb / 16)) 20
pass "$kb KB header line: ticket (peak RSS $((RSS_KB / 1024)) MB, $SECS s)"
