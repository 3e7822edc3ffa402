# tests/faults/faults_lib.sh - shared by the fault tests; source after ../lib.sh.
#   msg N            a message with Message-ID <fN@test>
#   deliver_rc N [TG-ARGS...]  delivers msg N, prints the exit code
#   stored N [DIR]   how many times <fN@test> is in the store
#   queued           entries in var/spool/queue
cd "$WORK"
command -v sqlite3 >/dev/null || skip "sqlite3 missing"
msg() { printf 'From: user%d@example.com\nTo: support@localhost\nSubject: fault %d\nMessage-ID: <f%d@test>\n\nbody %d\n' "$1" "$1" "$1" "$1"; }
deliver_rc() {
  local n=$1; shift
  local rc=0
  msg "$n" | "$TG" "$@" deliver --recipient support@localhost > /dev/null 2>>deliver.err || rc=$?
  echo "$rc"
}
stored() { sqlite3 "${2:-var}/ticketgate.db" "select count(*) from messages where message_id='f$1@test'"; }
queued() { find var/spool/queue -type f 2>/dev/null | wc -l; }  # no process: the kill loop calls it often
quarantined() { "$TG" "$@" spool list --quarantine --json 2>/dev/null | tg_json 'len(j)'; }
