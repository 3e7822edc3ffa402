#!/bin/bash
# imap_bench.sh - fetch N messages (default 5000) from a throwaway local
# Dovecot with `ticketgate fetch` and report messages per second.
#
#   bench/imap_bench.sh [N] [BINARY]
#
# The whole path is timed: IMAP UID SEARCH/FETCH, the durable spool (one
# syncfs per group), parsing, threading, the SQLite store (one transaction
# per group) and the after-action (\Seen).  Needs /usr/sbin/dovecot.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
N=${1:-5000}
export TG_BINARY=${2:-${TG_BINARY:-$HERE/../build/gateway/ticketgate}}
source "$HERE/../tests/imap/lib.sh"
dovecot_start

# Fill the maildir directly (much faster than APPEND); Dovecot indexes
# new/ on the first SELECT, which the timed run then includes.
python3 - "$T/home/support/Maildir" "$N" <<'PY'
import os, sys, email.utils
root, n = sys.argv[1], int(sys.argv[2])
for d in ("cur", "new", "tmp"):
    os.makedirs(os.path.join(root, d), exist_ok=True)
para = ("Our order did not arrive and the tracking page shows no update since "
        "last week. Could you please check what happened? Thank you.\r\n") * 12
for i in range(n):
    msg = ("Return-Path: <cust%d@example.com>\r\n"
           "From: Customer %d <cust%d@example.com>\r\nTo: support@localhost\r\n"
           "Subject: Order %d has not arrived\r\nMessage-ID: <bench-%d@example.com>\r\n"
           "Date: %s\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
           "Hello,\r\n\r\n%s\r\n-- \r\nCustomer %d\r\n") % (
        i, i, i, i, i, email.utils.formatdate(), para, i)
    with open(os.path.join(root, "new", "%010d.bench%d.localhost" % (1700000000 + i, i)), "w") as f:
        f.write(msg)
PY
[ "$(id -u)" = 0 ] && chown -R 65534:65534 "$T/home/support"
tg_conf "$T/tg.conf" "batch = ${BATCH:-100}"
size=$(du -sk "$T/home/support/Maildir/new" | cut -f1)
start=$(date +%s.%N)
"$TG_BINARY" -c "$T/tg.conf" fetch 2>"$T/fetch.log"
end=$(date +%s.%N)
stored=$(db_count "select count(*) from messages")
[ "$stored" = "$N" ] || { tail "$T/fetch.log"; echo "only $stored of $N stored"; exit 1; }
python3 - "$start" "$end" "$N" "$size" <<'PY'
import sys
s, e, n, kb = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
print("imap fetch: %d messages (%.1f MiB) in %.2f s = %.0f messages/s" % (n, kb / 1024, e - s, n / (e - s)))
PY
