#!/bin/bash
# Load: Postfix smtp-source, 2,000 messages of 4 KB over 10 parallel
# sessions.  Every message the server answered 250 ("accepted" in its
# log, with its queue id) is in the store exactly once, and nothing else.
. "$(dirname "$0")/lib.sh"
command -v smtp-source >/dev/null || { echo "smtp-source not installed: skip"; exit 77; }
write_conf
start_server
smtp-source -s 10 -m 2000 -l 4096 -f load@example.org -t support@example.com \
  "127.0.0.1:$SMTP_PORT" > "$T/source.out" 2>&1 || fail "smtp-source: $(tail "$T/source.out")"
[ -s "$T/source.out" ] && fail "smtp-source reported errors: $(head "$T/source.out")"
wait_drained
grep -o 'queue=[^ ]* client=[^ ]* smtp .* accepted' "$T/log" | sed 's/^queue=\([^ ]*\) .*/\1/' | sort > "$T/accepted"
sql "select spool_id from messages" | sort > "$T/stored"
[ "$(wc -l < "$T/accepted")" = 2000 ] || fail "server accepted $(wc -l < "$T/accepted") messages, not 2000"
[ "$(sort -u "$T/stored" | wc -l)" = "$(wc -l < "$T/stored")" ] || fail "duplicate spool ids in the store"
diff "$T/accepted" "$T/stored" > "$T/diff" || fail "accepted and stored differ: $(head "$T/diff")"
[ "$(sql "select count(*) from messages where origin != 'smtp 127.0.0.1'")" = 0 ] || fail "origin"
stop_server
echo "ok: 2000 accepted, 2000 stored"
