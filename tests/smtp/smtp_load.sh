#!/bin/bash
# Load: Postfix smtp-source, 2,000 messages of 4 KB over 10 parallel
# sessions.  Every message the server answered 250 ("accepted" in its
# log, with its queue id) is in the store exactly once, and nothing else.
# Then the same with the worker's memory bound made tiny (serve_worker.h):
# entries past it go to queue/ as files, and the property still holds.
. "$(dirname "$0")/lib.sh"
command -v smtp-source >/dev/null || { echo "smtp-source not installed: skip"; exit 77; }
write_conf

# load N TOTAL: N messages through smtp-source, then accepted == stored,
# TOTAL of them counted over every round (the log and the store keep all).
load() {
  smtp-source -s 10 -m "$1" -l 4096 -f load@example.org -t support@example.com \
    "127.0.0.1:$SMTP_PORT" > "$T/source.out" 2>&1 || fail "smtp-source: $(tail "$T/source.out")"
  [ -s "$T/source.out" ] && fail "smtp-source reported errors: $(head "$T/source.out")"
  wait_drained
  grep -o 'queue=[^ ]* client=[^ ]* smtp .* accepted' "$T/log" | sed 's/^queue=\([^ ]*\) .*/\1/' | sort > "$T/accepted"
  sql "select spool_id from messages where direction='in'" | sort > "$T/stored"
  [ "$(wc -l < "$T/accepted")" = "$2" ] || fail "server accepted $(wc -l < "$T/accepted") messages, not $2"
  [ "$(sort -u "$T/stored" | wc -l)" = "$(wc -l < "$T/stored")" ] || fail "duplicate spool ids in the store"
  diff "$T/accepted" "$T/stored" > "$T/diff" || fail "accepted and stored differ: $(head "$T/diff")"
  [ "$(sql "select count(*) from messages where direction='in' and origin != 'smtp 127.0.0.1'")" = 0 ] || fail "origin"
}

start_server
load 2000 2000
stop_server
echo "ok: 2000 accepted, 2000 stored"

TICKETGATE_TEST_WORKER_MEMORY=16384 start_server
load 1000 3000
grep -q "worker backlog over 16384 bytes" "$T/log" || fail "the memory bound was never reached"
stop_server
echo "ok: 1000 accepted, 1000 stored with the worker's memory bound at 16 KiB"
