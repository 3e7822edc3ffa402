#!/bin/bash
# after = move:FOLDER and after = delete, two accounts in one config.
source "$(dirname "$0")/lib.sh"
dovecot_start
imap_append support secret INBOX 7 mv
imap_append other other INBOX 4 del
tg_conf "$T/tg.conf" "after = move:Done" \
  "[imap:del]" "host = 127.0.0.1" "port = $IMAP_PORT" "tls = none" "user = other" \
  "password = other" "after = delete" "timeout = 10s"
C="$T/tg.conf"
"$TG_BINARY" -c "$C" fetch
expect_eq "$(ticket_count "$C")" 11 "tickets"
expect_eq "$(imap_count support secret INBOX)" 0 "INBOX after move"
expect_eq "$(imap_count support secret Done)" 7 "Done after move"
expect_eq "$(imap_count other other INBOX)" 0 "INBOX after delete"
expect_eq "$(db_count "select count(*) from messages where direction='in' and origin = 'imap del'")" 4 "origin del"
# Next pass: nothing new, nothing twice.
imap_append support secret INBOX 1 mv2
"$TG_BINARY" -c "$C" fetch
expect_eq "$(ticket_count "$C")" 12 "tickets after one more"
expect_eq "$(imap_count support secret Done)" 8 "Done after one more"
echo "PASS"
