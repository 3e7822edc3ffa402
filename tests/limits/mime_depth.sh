#!/usr/bin/env bash
# multipart nesting 1,000 deep (and message/rfc822 nesting 1,000 deep):
# quarantine "mime-depth".  Long: 20,000 deep.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/limits_lib.sh"
n=1000; [ "$LONG" = 1 ] && n=20000
python3 - "$n" > deep.eml <<'PY'
import sys
n = int(sys.argv[1])
w = sys.stdout.write
w("From: a@example.com\nSubject: deep\nMessage-ID: <deep@x>\n")
for i in range(n):
    w("Content-Type: multipart/mixed; boundary=b%d\n\n--b%d\n" % (i, i))
w("Content-Type: text/plain\n\nbottom\n")
for i in reversed(range(n)):
    w("--b%d--\n" % i)
PY
deliver_measured deep.eml
expect_eq exit "$RC" 0
expect_eq outcome "$(outcome)" quarantine:mime-depth
check_bounds mime-depth 64 20
pass "$n-deep multipart: quarantined mime-depth (peak RSS $((RSS_KB / 1024)) MB, $SECS s)"

python3 - "$n" > deep822.eml <<'PY'
import sys
n = int(sys.argv[1])
w = sys.stdout.write
w("From: a@example.com\nSubject: deep822\nMessage-ID: <deep822@x>\n")
for i in range(n):
    w("Content-Type: message/rfc822\n\nFrom: x%d@example.com\nSubject: level %d\n" % (i, i))
w("\nbottom\n")
PY
mkdir -p second && cd second
deliver_measured ../deep822.eml
expect_eq exit-822 "$RC" 0
expect_eq outcome-822 "$(outcome)" quarantine:mime-depth
check_bounds mime-depth-822 64 20
pass "$n-deep message/rfc822: quarantined mime-depth (peak RSS $((RSS_KB / 1024)) MB, $SECS s)"
