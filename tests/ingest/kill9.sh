#!/usr/bin/env bash
# kill -9 of `deliver` processes at random moments during 500 deliveries
# (four at a time); afterwards `spool retry` leaves every message whose
# deliver exited 0 in the store exactly once, and no message twice.
#   TG_KILL9_COUNT   deliveries (default 500)
source "$(dirname "$0")/../lib.sh"
cd "$WORK"
count=${TG_KILL9_COUNT:-500}
mkdir -p msgs
for i in $(seq 1 "$count"); do
  # Some share a thread, so kills also land in the append path.
  printf 'From: user%d@example.com\nTo: support@localhost\nSubject: load %d\nMessage-ID: <k%d@test>\n%s\nmessage %d\n' \
    $((i % 37)) "$i" "$i" "$([ $((i % 5)) -eq 0 ] && echo "References: <k$((i - 1))@test>")" "$i" > "msgs/$i.eml"
done
"$TG" deliver --recipient support@localhost < msgs/1.eml 2>/dev/null  # create db and secret
echo 1 > ok.list

one() {
  local i=$1
  "$TG" deliver --recipient support@localhost < "msgs/$i.eml" 2>/dev/null &
  local pid=$!
  if [ $((RANDOM % 3)) -eq 0 ]; then
    # Anywhere from before the spool write to after the commit.
    sleep "0.0$(printf %02d $((RANDOM % 15)))"
    kill -9 "$pid" 2>/dev/null || true
  fi
  if wait "$pid"; then echo "$i" >> ok.list; fi
}
i=2
while [ "$i" -le "$count" ]; do
  for j in 0 1 2 3; do
    [ $((i + j)) -le "$count" ] && one $((i + j)) &
  done
  wait
  i=$((i + 4))
done
killed=$((count - $(wc -l < ok.list)))
"$TG" spool retry > /dev/null 2>&1 || true
"$TG" spool retry > retry.out 2>&1 || { cat retry.out; fail "second spool retry failed"; }
expect_eq queue-empty "$("$TG" spool list --json 2>/dev/null | tg_json 'len(j)')" 0
expect_eq no-quarantine "$("$TG" spool list --quarantine --json 2>/dev/null | tg_json 'len(j)')" 0
sqlite3 var/ticketgate.db "select message_id from messages where direction='in'" | sort > stored.list
dups=$(uniq -d stored.list | wc -l)
expect_eq duplicates "$dups" 0
missing=0
while read -r i; do
  grep -qx "k$i@test" stored.list || { echo "message $i exited 0 but is not stored" >&2; missing=$((missing + 1)); }
done < ok.list
expect_eq missing "$missing" 0
expect_eq integrity "$(sqlite3 var/ticketgate.db 'pragma integrity_check')" ok
pass "$count deliveries, $killed killed: every exit-0 message stored exactly once"
