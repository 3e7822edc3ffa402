# RFC 3834: no ack to automatic mail, bulk mail, lists, null or MAILER-DAEMON
# senders or our own X-Loop; Auto-Submitted: no is answered.  Each decision is
# an "autoreply" event on the ticket.
source "$TG_SOURCE_DIR/tests/outbound/lib.sh"
write_config ""
n=0
expect() { # expect acked|suppressed REASON-PATTERN  (for the last ticket)
  n=$((n + 1))
  local acks
  acks=$(sql "SELECT count(*) FROM outbound WHERE ticket_id=$n")
  local ev
  ev=$(sql "SELECT detail FROM events WHERE ticket_id=$n AND kind='autoreply'")
  [ "$(sql "SELECT count(*) FROM tickets")" = "$n" ] || fail "ticket $n not created"
  if [ "$1" = acked ]; then
    [ "$acks" = 1 ] || fail "ticket $n: expected an ack ($ev)"
    grep -q 'ack queued' <<<"$ev" || fail "ticket $n: no 'ack queued' event"
  else
    [ "$acks" = 0 ] || fail "ticket $n: ack sent to $2"
    grep -q "ack suppressed: .*$2" <<<"$ev" || fail "ticket $n: event '$ev' does not say $2"
  fi
}
msg u1@example.org "auto" l1@x "Auto-Submitted: auto-replied" | deliver u1@example.org
expect suppressed "Auto-Submitted: auto-replied"
msg u2@example.org "auto gen" l2@x "Auto-Submitted: Auto-Generated; owner-email=x@y" | deliver u2@example.org
expect suppressed "Auto-Submitted: auto-generated"
msg u3@example.org "bulk" l3@x "Precedence: bulk" | deliver u3@example.org
expect suppressed "Precedence: bulk"
msg u4@example.org "junk" l4@x "Precedence: junk" | deliver u4@example.org
expect suppressed "Precedence: junk"
msg u5@example.org "list" l5@x "List-Id: <users.lists.example.org>" | deliver u5@example.org
expect suppressed "List-Id"
msg u6@example.org "null sender" l6@x | tg deliver -f '' -r support@example.com
expect suppressed "null envelope sender"
msg MAILER-DAEMON@mx.example.org "daemon" l7@x | deliver MAILER-DAEMON@mx.example.org
expect suppressed "MAILER-DAEMON"
msg u8@example.org "our loop" l8@x "X-Loop: support@example.com" | deliver u8@example.org
expect suppressed "our own X-Loop"
msg u9@example.org "human" l9@x "Auto-Submitted: no" "Precedence: first-class" | deliver u9@example.org
expect acked
msg u10@example.org "other loop" l10@x "X-Loop: helpdesk@elsewhere.example" | deliver u10@example.org
expect acked
echo PASS
