#!/bin/bash
# New mail becomes tickets; after = seen flags it; a second pass stores
# nothing twice; only new UIDs are fetched; a UIDVALIDITY change rescans
# the folder without duplicates.
source "$(dirname "$0")/lib.sh"
dovecot_start
imap_append support secret INBOX 20
tg_conf "$T/tg.conf"
C="$T/tg.conf"

"$TG_BINARY" -c "$C" fetch 2>"$T/err1" || { cat "$T/err1"; fail "first fetch"; }
expect_eq "$(ticket_count "$C")" 20 "tickets after first pass"
expect_eq "$(imap_count support secret INBOX UNSEEN)" 0 "unseen after after=seen"
expect_eq "$(imap_count support secret INBOX ALL)" 20 "messages kept on the server"
expect_eq "$(db_count "select origin from messages where direction='in' group by origin")" "imap t" "origin"
expect_eq "$(db_count "select envelope_recipients from messages where direction='in' limit 1")" "support@localhost" "recipient"

"$TG_BINARY" -c "$C" fetch
expect_eq "$(db_count "select count(*) from messages where direction='in'")" 20 "messages after a second pass"

imap_append support secret INBOX 5 later
"$TG_BINARY" -c "$C" fetch
expect_eq "$(ticket_count "$C")" 25 "tickets after new mail"
expect_eq "$(db_count "select last_uid from imap_state where account='t' and folder='INBOX'")" 25 "last uid"

# UIDVALIDITY change (as after a server migration): everything is fetched
# again and recognised.
db_count "update imap_state set uidvalidity = 1, last_uid = 0"
"$TG_BINARY" -c "$C" fetch 2>"$T/err2"
grep -q "UIDVALIDITY changed" "$T/err2" || { cat "$T/err2"; fail "no UIDVALIDITY warning"; }
expect_eq "$(db_count "select count(*) from messages where direction='in'")" 25 "messages after a rescan"
expect_eq "$(ticket_count "$C")" 25 "tickets after a rescan"
expect_eq "$(db_count "select last_uid from imap_state")" 25 "last uid after a rescan"
echo "PASS"
