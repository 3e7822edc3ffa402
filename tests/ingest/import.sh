#!/usr/bin/env bash
# `import mbox` stores straight from the mbox (no spool entry per message),
# parsing on a second thread: replies still find the tickets earlier
# messages opened, what fails goes to the quarantine with its reason, and
# an import killed at any moment and run again stores every message
# exactly once.
source "$(dirname "$0")/../lib.sh"
cd "$WORK"

# N messages; every fifth has no Message-ID (deduplicated by its bytes),
# every seventh answers the message two before it.
make_mbox() {
  python3 - "$1" <<'PY'
import sys
n = int(sys.argv[1])
with open("big.mbox", "w") as f:
    for i in range(n):
        f.write("From c%d@example.com Mon Jan  5 10:00:00 2026\n" % (i % 40))
        f.write("From: Customer %d <c%d@example.com>\n" % (i % 40, i % 40))
        f.write("Subject: question %d\n" % i)
        if i % 5:
            f.write("Message-ID: <imp-%d@example.com>\n" % i)
        if i % 7 == 0 and i >= 2 and (i - 2) % 5:
            f.write("In-Reply-To: <imp-%d@example.com>\n" % (i - 2))
        f.write("\nbody of message %d\n%s\n\n" % (i, "lorem ipsum " * 40))
PY
}

# Threading across batches (a batch is 256 messages) and inside one.
make_mbox 700
printf '[gateway]\ndata_dir = ./a\n' > a.conf
"$TG" -c a.conf import mbox big.mbox 2> a.err
grep -q 'import: 700 messages: 700 ticketed, 0 duplicates, 0 quarantined, 0 too big' a.err ||
  fail "summary: $(cat a.err)"
expect_eq stored "$(sqlite3 a/ticketgate.db "select count(*) from messages where direction='in'")" 700
# i=7 answers i=5 (no Message-ID: nothing to find), i=14 answers i=12, ...
replies=$(python3 -c "print(sum(1 for i in range(700) if i % 7 == 0 and i >= 2 and (i - 2) % 5))")
expect_eq threaded "$(sqlite3 a/ticketgate.db "select count(*) from messages m join messages p on p.message_id = 'imp-' || (cast(substr(m.subject, 10) as integer) - 2) || '@example.com' where m.subject like 'question %' and m.ticket_id = p.ticket_id and m.id != p.id")" "$replies"
expect_eq tickets "$(sqlite3 a/ticketgate.db "select count(*) from tickets")" $((700 - replies))
# History gets no ack, and the audit log says so for each new ticket.
expect_eq no-acks "$(sqlite3 a/ticketgate.db "select count(*) from outbound")" 0
expect_eq ack-reason "$(sqlite3 a/ticketgate.db "select count(*) from events where kind = 'autoreply' and detail = 'ack suppressed: imported from an mbox'")" $((700 - replies))
expect_eq no-spool-left "$(find a/spool/queue a/spool/tmp -type f | wc -l)" 0
pass "import threads replies across batches"

# Over a limit: quarantined with its reason, released after the fix; too
# big: skipped and counted; neither blocks the messages behind it.
{
  printf 'From a@example.com Mon Jan  1 00:00:00 2026\nFrom: a@example.com\nSubject: fine\nMessage-ID: <q0>\n\nhello\n\n'
  printf 'From a@example.com Mon Jan  1 00:00:00 2026\n'
  for i in $(seq 1 200); do printf 'X-Junk-%d: %d\n' "$i" "$i"; done
  printf 'From: a@example.com\nSubject: many headers\nMessage-ID: <q1>\n\nhello\n\n'
  printf 'From a@example.com Mon Jan  1 00:00:00 2026\nFrom: a@example.com\nSubject: huge\nMessage-ID: <q2>\n\n'
  head -c 20000 /dev/zero | tr '\0' 'x'; printf '\n\n'
  printf 'From a@example.com Mon Jan  1 00:00:00 2026\nFrom: a@example.com\nSubject: after\nMessage-ID: <q3>\n\nhello\n'
} > q.mbox
printf '[gateway]\ndata_dir = ./q\n[limits]\nheader_count = 50\nmessage_size = 10000\n' > q.conf
"$TG" -c q.conf import mbox q.mbox 2> q.err
grep -q 'import: 4 messages: 2 ticketed, 0 duplicates, 1 quarantined, 1 too big' q.err ||
  fail "summary: $(cat q.err)"
grep -q 'message 3 skipped' q.err || fail "no log line for the big message: $(cat q.err)"
list=$("$TG" -c q.conf spool list --quarantine --json 2>/dev/null)
expect_eq quarantined "$(echo "$list" | tg_json 'len(j)')" 1
expect_eq reason "$(echo "$list" | tg_json 'j[0]["reason"].split()[0]')" header-count
expect_eq queue-empty "$("$TG" -c q.conf spool list --json 2>/dev/null | tg_json 'len(j)')" 0
printf '[gateway]\ndata_dir = ./q\n' > q.conf
"$TG" -c q.conf spool retry "$(echo "$list" | tg_json 'j[0]["id"]')" > /dev/null 2>&1
expect_eq released "$(sqlite3 q/ticketgate.db "select group_concat(message_id, ' ') from (select message_id from messages where direction='in' order by message_id)")" "q0 q1 q3"
pass "import quarantines with a reason and skips what is too big"

# kill -9 in the middle of a batch, three times, then run it again until
# it finishes: every message exactly once, whichever batch the kill
# interrupted.  After the last kill point 4,100 messages are left: a
# release build imports ~25,000/s, and the poll below takes ~20 ms to act.
make_mbox 6000
printf '[gateway]\ndata_dir = ./k\n' > k.conf
stored() { sqlite3 k/ticketgate.db "select count(*) from messages where direction='in'" 2>/dev/null || echo 0; }
for at in 300 1100 1900; do
  "$TG" -c k.conf import mbox big.mbox --quiet 2>/dev/null &
  pid=$!
  for _ in $(seq 1000); do
    [ "$(stored)" -ge "$at" ] || ! kill -0 "$pid" 2>/dev/null && break
    sleep 0.01
  done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
done
partial=$(stored)
[ "$partial" -gt 0 ] && [ "$partial" -lt 6000 ] || fail "the kills did not interrupt the import ($partial stored)"
"$TG" -c k.conf import mbox big.mbox 2> k.err || fail "final import failed: $(cat k.err)"
grep -q "import: 6000 messages: $((6000 - partial)) ticketed, $partial duplicates" k.err ||
  fail "final summary (had $partial): $(cat k.err)"
expect_eq once "$(sqlite3 k/ticketgate.db "select count(*), count(distinct coalesce(message_id, raw_sha256)) from messages where direction='in'")" "6000|6000"
expect_eq integrity "$(sqlite3 k/ticketgate.db "pragma integrity_check")" ok
echo "  (the kills left $partial of 6000 stored before the last run)"
pass "import killed with -9 and run again: every message once"
