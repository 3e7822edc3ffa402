# Shared setup for tests/escalation/*.sh (sourced): the outbound helpers
# (tests/outbound/lib.sh: WORK, tg, write_config, deliver, sql, msg) plus
# the clock and the outbox.
source "$TG_SOURCE_DIR/tests/outbound/lib.sh"

# at RFC3339 CMD... - run with the clock set
at() { local t=$1; shift; TICKETGATE_NOW=$t "$@"; }
# customer FROM SUBJECT MID - a customer's message, delivered
customer() {
  printf 'From: %s\nTo: support@example.com\nSubject: %s\nMessage-ID: <%s>\nDate: Fri, 09 Jan 2026 10:00:00 +0900\nContent-Type: text/plain; charset=utf-8\n\nOur printer is jammed since this morning.\nWe tried restarting it.\n' \
    "$1" "$2" "$3" | deliver "$1"
}
# outbox_count RCPT [KIND-SUBJECT-GREP]: notices delivered to RCPT so far
outbox_count() {
  TICKETGATE_NOW=2030-01-01T00:00:00Z tg spool flush > /dev/null  # every queued notice is due
  local n=0 f
  for f in "$WORK"/var/outbox/new/*; do
    [ -f "$f" ] || continue
    grep -qi "^Delivered-To: $1\$" "$f" || continue
    if [ -n "${2:-}" ]; then grep -q -- "$2" "$f" || continue; fi
    n=$((n + 1))
  done
  echo $n
}
# outbox_file RCPT GREP: the newest such file
outbox_file() {
  TICKETGATE_NOW=2030-01-01T00:00:00Z tg spool flush > /dev/null  # every queued notice is due
  grep -li "^Delivered-To: $1\$" "$WORK"/var/outbox/new/* 2>/dev/null | xargs -r grep -l -- "$2" | xargs -r ls -t | head -1
}
expect_eq() { [ "$2" == "$3" ] || fail "$1: got [$2], want [$3]"; }
unix() { date -d "$1" +%s; }
