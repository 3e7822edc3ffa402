#!/usr/bin/env bash
# 10,000 MIME parts: over mime_parts (1000) -> quarantine "mime-parts".
# Long: 200,000 parts.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/limits_lib.sh"
n=10000; [ "$LONG" = 1 ] && n=200000
python3 - "$n" > parts.eml <<'PY'
import sys
w = sys.stdout.write
w("From: a@example.com\nSubject: parts\nMessage-ID: <parts@x>\n"
  "Content-Type: multipart/mixed; boundary=b\n\n")
for i in range(int(sys.argv[1])):
    w("--b\nContent-Type: application/octet-stream\n\npart %d\n" % i)
w("--b--\n")
PY
deliver_measured parts.eml
expect_eq exit "$RC" 0
expect_eq outcome "$(outcome)" quarantine:mime-parts
check_bounds mime-parts $((64 + n / 500)) 30
pass "$n parts: quarantined mime-parts (peak RSS $((RSS_KB / 1024)) MB, $SECS s)"
