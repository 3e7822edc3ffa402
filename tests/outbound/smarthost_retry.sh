# A smarthost answering 4xx gets the notice retried after the backoff (the
# clock is moved with TICKETGATE_NOW, nothing sleeps); past [outbound]
# max_age it fails; a 5xx fails at once.  Every failure is an event on the
# ticket.
source "$TG_SOURCE_DIR/tests/outbound/lib.sh"
start_smarthost
write_config "smarthost = 127.0.0.1:$SMTP_PORT
max_age = 1d"
status() { sql "SELECT status || ' ' || attempts FROM outbound WHERE id=$1"; }

# --- 4xx, then retried later
smarthost_mode temp
msg alice@example.org "first" a1@example.org | deliver alice@example.org
tg spool flush | grep -q 'deferred 1' || fail "4xx not deferred"
[ "$(status 1)" = "deferred 1" ] || fail "after 4xx: $(status 1)"
sql "SELECT last_error FROM outbound WHERE id=1" | grep -q '451' || fail "4xx reply not kept"
smarthost_mode ok
tg spool flush | grep -q 'sent 0, deferred 0' || fail "retried before the backoff"
[ "$(smarthost_count)" = 0 ] || fail "sent before the backoff"
TICKETGATE_NOW=2026-01-09T17:51:30+09:00 tg spool flush | grep -q 'sent 1' || fail "not retried after the backoff"
[ "$(status 1)" = "sent 2" ] || fail "after retry: $(status 1)"
[ "$(smarthost_count)" = 1 ] || fail "smarthost did not get the retried ack"

# --- 4xx for longer than max_age: failed, with an event
smarthost_mode temp
msg bob@example.org "second" b1@example.org | deliver bob@example.org
tg spool flush >/dev/null
TICKETGATE_NOW=2026-01-11T18:00:00+09:00 tg spool flush | grep -q 'failed 1' || fail "max_age not enforced"
[ "$(sql "SELECT status FROM outbound WHERE id=2")" = failed ] || fail "not failed after max_age"
sql "SELECT detail FROM events WHERE ticket_id=2 AND kind='delivery-failed'" | grep -q 'max_age' ||
  fail "no max_age failure event"

# --- 5xx: failed at once, recorded on the ticket
smarthost_mode perm
msg carol@example.org "third" c1@example.org | deliver carol@example.org
tg spool flush | grep -q 'failed 1' || fail "5xx not failed"
[ "$(status 3)" = "failed 1" ] || fail "after 5xx: $(status 3)"
sql "SELECT detail FROM events WHERE ticket_id=3 AND kind='delivery-failed'" | grep -q '550 5.1.1' ||
  fail "5xx failure not recorded as an event"
tg ticket show 3 | grep -q '550' || fail "ticket show does not show the failure"

# --- no server at all: temporary
kill "$SMTPD_PID"; wait "$SMTPD_PID" 2>/dev/null || true; SMTPD_PID=
msg dave@example.org "fourth" d1@example.org | deliver dave@example.org
tg spool flush | grep -q 'deferred 1' || fail "connection refused not deferred"
echo PASS
