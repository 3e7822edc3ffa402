#!/usr/bin/env bash
# Every file of ../shared/corpus/mail-gem through `deliver`, each in its own
# data directory: exit 0, and it ends as exactly one ticket message or one
# quarantine entry with a reason.  Then exact decoded strings for the
# Japanese and other non-ASCII fixtures.
source "$(dirname "$0")/../lib.sh"
corpus=$(shared_corpus mail-gem)
n=0
while IFS= read -r f; do
  n=$((n + 1))
  d="$WORK/m$n"
  mkdir -p "$d"
  rc=0
  (cd "$d" && timeout 60 "$TG" deliver --recipient support@localhost --sender test@example.org < "$f" 2> "$d/log") || rc=$?
  [ "$rc" -eq 0 ] || { cat "$d/log" >&2; fail "$f: deliver exited $rc"; }
  msgs=$(sqlite3 "$d/var/ticketgate.db" "select count(*) from messages where direction='in'")
  quar=$(cd "$d" && "$TG" spool list --quarantine --json 2>/dev/null | tg_json 'len(j)')
  queued=$(cd "$d" && "$TG" spool list --json 2>/dev/null | tg_json 'len(j)')
  [ "$queued" -eq 0 ] || fail "$f: left in the spool"
  [ $((msgs + quar)) -eq 1 ] || fail "$f: $msgs messages, $quar quarantined"
  if [ "$quar" -eq 1 ]; then
    reason=$(cd "$d" && "$TG" spool list --quarantine --json | tg_json 'j[0]["reason"]')
    [ -n "$reason" ] || fail "$f: quarantined without a reason"
  fi
done < <(find "$corpus" -name '*.eml' | sort)
[ "$n" -ge 100 ] || fail "only $n corpus files found"
pass "$n corpus messages each ticketed or quarantined"

# Exact strings: fixture, python expression over `ticket show --json`, value.
check() {
  local file=$1 expr=$2 want=$3 d="$WORK/exact"
  rm -rf "$d"; mkdir -p "$d"
  (cd "$d" && "$TG" deliver --recipient support@localhost < "$corpus/$file" 2>/dev/null)
  got=$(cd "$d" && "$TG" ticket show 1 --json | tg_json "$expr")
  expect_eq "$file: $expr" "$got" "$want"
}
check multi_charset/japanese.eml 'j["subject"]' 'まみむめも'
check multi_charset/japanese.eml 'j["messages"][0]["body"].splitlines()[0]' 'かきくえこ'
check multi_charset/japanese_attachment_long_name.eml 'j["messages"][0]["subject"]' \
  'まみむめもまみむめもまみむめもまみむめもまみむめもまみむめもまみむめもまみむめもまみむめもまみむめも'
check multi_charset/japanese_shift_jis.eml 'j["messages"][0]["body"].splitlines()[2]' 'このメールはテスト用のメールです。'
check multi_charset/japanese_shift_jis.eml 'j["language"]' 'ja'
check multi_charset/japanese_attachment.eml 'j["messages"][0]["attachments"][0]["filename"]' 'てすと.txt'
check multi_charset/ks_c_5601-1987.eml 'j["messages"][0]["body"].strip()' '스티해'
check multi_charset/japanese_iso_2022.eml 'j["subject"]' 'まみむめも'
check multi_charset/japanese.eml 'j["requester"]["name"]' 'Mikel Lindsaar'
check rfc6532/utf8_headers.eml 'j["messages"][0]["subject"]' 'Säying Hello'
check rfc6532/utf8_headers.eml 'j["requester"]["name"] + " " + j["requester"]["address"]' 'Jöhn Doe jdöe@mächine.example'
pass "exact decoded strings"
