#!/usr/bin/env bash
# 10,000 header fields: over header_count (1000) -> quarantine
# "header-count".  Long: 200,000.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/limits_lib.sh"
n=10000; [ "$LONG" = 1 ] && n=200000
python3 - "$n" > many.eml <<'PY'
import sys
w = sys.stdout.write
for i in range(int(sys.argv[1])):
    w("X-Junk-%d: value %d\n" % (i, i))
w("From: a@example.com\nSubject: many headers\nMessage-ID: <many@x>\n\nbody\n")
PY
deliver_measured many.eml
expect_eq exit "$RC" 0
expect_eq outcome "$(outcome)" quarantine:header-count
check_bounds header-count 64 20
pass "$n headers: quarantined header-count (peak RSS $((RSS_KB / 1024)) MB, $SECS s)"
