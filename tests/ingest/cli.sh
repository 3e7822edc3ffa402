#!/usr/bin/env bash
# The CLI contracts: sysexits codes of `deliver`, `check` listing every
# problem as FILE:LINE, the quarantine and `spool retry`, a locked
# database, and `import mbox`.
source "$(dirname "$0")/../lib.sh"
cd "$WORK"
simple() { printf 'From: %s\nSubject: %s\nMessage-ID: <%s>\n\nhello\n' "$1" "$2" "$3"; }

# With no configuration at all, in an empty directory.
simple a@example.com 'no config' n1 | "$TG" deliver --recipient support@localhost 2>/dev/null
[ -f var/ticketgate.db ] && [ -f var/secret ] || fail "no ./var after deliver"
expect_eq secret-mode "$(stat -c %a var/secret)" 600
"$TG" check > /dev/null || fail "check of the embedded default failed"
pass "works with no configuration"

# check: every problem, with file:line.
cat > bad.conf <<'CONF'
[gateway]
data_dir = ./var
tag_prefix = [bad]
nonsense = 1

[limits]
message_size = lots
flood = often

[nogroup]
x = 1
CONF
rc=0; "$TG" -c bad.conf check 2> check.err || rc=$?
expect_eq check-exit "$rc" 78
grep -q '^bad.conf:3: tag_prefix' check.err || fail "no tag_prefix error: $(cat check.err)"
grep -q "^bad.conf:4: unknown key 'nonsense' in \[gateway\]" check.err || fail "no unknown key error"
grep -q "^bad.conf:7: message_size: 'lots' is not a size" check.err || fail "no size error"
grep -q "^bad.conf:8: flood: 'often'" check.err || fail "no rate error"
grep -q '^bad.conf:10: unknown group \[nogroup\]' check.err || fail "no group error"
rc=0; TICKETGATE_CONFIG=bad.conf "$TG" ticket list > /dev/null 2>&1 || rc=$?
expect_eq env-config "$rc" 78
printf '[gateway\nbroken\n' > syntax.conf
rc=0; "$TG" -c syntax.conf check 2> syntax.err || rc=$?
expect_eq syntax-exit "$rc" 78
grep -q '^syntax.conf:1: ' syntax.err || fail "syntax error without a line: $(cat syntax.err)"
pass "check lists every problem with file:line"

# Size limit: 65; unwritable spool: 75.
cat > small.conf <<'CONF'
[gateway]
data_dir = ./small
[limits]
message_size = 1K
CONF
rc=0; { simple a@example.com big b1; head -c 4000 /dev/zero | tr '\0' x; } | "$TG" -c small.conf deliver --recipient support@localhost 2>/dev/null || rc=$?
expect_eq too-big "$rc" 65
mkdir -p blocked && printf 'x' > blocked/spool   # a file where the spool directory must go
printf '[gateway]\ndata_dir = ./blocked\n' > blocked.conf
rc=0; simple a@example.com s s1 | "$TG" -c blocked.conf deliver --recipient support@localhost 2>/dev/null || rc=$?
expect_eq unwritable "$rc" 75
pass "exit codes 65 and 75"

# A database locked past the busy timeout: 75, the entry stays spooled,
# and a later retry stores it exactly once.
printf '[gateway]\ndata_dir = ./locked\n[limits]\nbusy_timeout = 1s\n' > locked.conf
simple a@example.com first l0 | "$TG" -c locked.conf deliver --recipient support@localhost 2>/dev/null
( printf 'BEGIN IMMEDIATE;\n'; sleep 4; printf 'COMMIT;\n' ) | sqlite3 locked/ticketgate.db &
locker=$!
sleep 0.5
rc=0; simple a@example.com locked l1 | "$TG" -c locked.conf deliver --recipient support@localhost 2>/dev/null || rc=$?
expect_eq locked "$rc" 75
expect_eq still-spooled "$("$TG" -c locked.conf spool list --json 2>/dev/null | tg_json 'len(j)')" 1
wait $locker
"$TG" -c locked.conf spool retry > /dev/null 2>&1
"$TG" -c locked.conf spool retry > /dev/null 2>&1
expect_eq stored-once "$(sqlite3 locked/ticketgate.db "select count(*) from messages where direction='in' and message_id='l1'")" 1
expect_eq queue-empty "$("$TG" -c locked.conf spool list --json 2>/dev/null | tg_json 'len(j)')" 0
pass "locked database: 75, kept, retried once"

# Quarantine over a limit, then retry after the fix.
printf '[gateway]\ndata_dir = ./q\n[limits]\nheader_count = 50\n' > q.conf
{ for i in $(seq 1 200); do printf 'X-Junk-%d: %d\n' "$i" "$i"; done; simple a@example.com many q1; } \
  | "$TG" -c q.conf deliver --recipient support@localhost 2>/dev/null
list=$("$TG" -c q.conf spool list --quarantine --json 2>/dev/null)
expect_eq quarantined "$(echo "$list" | tg_json 'len(j)')" 1
expect_eq reason "$(echo "$list" | tg_json 'j[0]["reason"].split()[0]')" header-count
id=$(echo "$list" | tg_json 'j[0]["id"]')
# A message behind it is not blocked.
simple a@example.com next q2 | "$TG" -c q.conf deliver --recipient support@localhost 2>/dev/null
expect_eq not-blocked "$(sqlite3 q/ticketgate.db "select count(*) from messages where direction='in' and message_id='q2'")" 1
printf '[gateway]\ndata_dir = ./q\n[limits]\nheader_count = 1000\n' > q.conf
"$TG" -c q.conf spool retry "$id" | grep -q "$id ticketed" || fail "retry did not ticket $id"
expect_eq released "$(sqlite3 q/ticketgate.db "select count(*) from messages where direction='in' and message_id='q1'")" 1
expect_eq quarantine-empty "$("$TG" -c q.conf spool list --quarantine --json 2>/dev/null | tg_json 'len(j)')" 0
rc=0; "$TG" -c q.conf spool retry ../../etc/passwd > /dev/null 2>&1 || rc=$?
[ "$rc" -ne 0 ] || fail "a path was accepted as a spool id"
pass "quarantine with reason, retry after the fix"

# import mbox: mboxrd quoting undone, each message through the pipeline.
{
  printf 'From a@example.com Mon Jan  1 00:00:00 2026\n'; simple a@example.com one m1
  printf '>From the start\n\n'
  printf 'From b@example.com Mon Jan  1 00:00:00 2026\n'; simple b@example.com two m2; printf '\n'
  printf 'From c@example.com Mon Jan  1 00:00:00 2026\n'; simple c@example.com three m3
} > in.mbox
printf '[gateway]\ndata_dir = ./imp\n' > imp.conf
"$TG" -c imp.conf import mbox in.mbox 2> import.err
grep -q 'import: 3 messages: 3 ticketed' import.err || fail "import summary: $(cat import.err)"
expect_eq mbox-unquote "$(sqlite3 imp/ticketgate.db "select body from messages where direction='in' and message_id='m1'")" $'hello\nFrom the start'
"$TG" -c imp.conf import mbox in.mbox 2> import2.err
grep -q '3 duplicates' import2.err || fail "re-import not deduplicated: $(cat import2.err)"
# History is not a flood, and gets no automatic replies: 30 messages from
# one customer are 30 tickets, with no ack queued.
for i in $(seq 1 30); do
  printf 'From a@example.com Mon Jan  1 00:00:00 2026\n'; simple a@example.com "old $i" "h$i"; printf '\n'
done > history.mbox
"$TG" -c imp.conf import mbox history.mbox 2> history.err
grep -q 'import: 30 messages: 30 ticketed, 0 duplicates, 0 quarantined' history.err || fail "history import: $(cat history.err)"
expect_eq no-acks "$(sqlite3 imp/ticketgate.db "select count(*) from outbound")" 0
rc=0; "$TG" -c imp.conf import mbox no-such-file 2>/dev/null || rc=$?
expect_eq no-input "$rc" 66
pass "import mbox"

rc=0; "$TG" frobnicate 2>/dev/null || rc=$?
expect_eq usage "$rc" 64
rc=0; "$TG" ticket show 999 2>/dev/null || rc=$?
expect_eq no-ticket "$rc" 66
pass "usage errors"
