# The VERP address is signed: a DSN to bounces+ID-WRONGTOKEN@ (or the old
# unsigned bounces+ID@), by envelope or by To header, marks no notice
# failed and records no bounce; it is ordinary mail (and gets no ack).  The
# same report to the genuine address does mark the notice failed.
source "$TG_SOURCE_DIR/tests/outbound/lib.sh"
write_config ""
FIX="$HERE/fixtures"
msg grace@example.org "hello" g1@example.org | deliver grace@example.org
tg spool flush >/dev/null
real=$(sql "SELECT envelope_sender FROM outbound WHERE id=1")
[[ "$real" =~ ^bounces\+1-([a-z2-7]{10})@example\.com$ ]] || fail "VERP not signed: $real"
token=${BASH_REMATCH[1]}
wrong=$(python3 -c 'import sys; t=sys.argv[1]; print(("b" if t[0]=="a" else "a")+t[1:])' "$token")
[ "$wrong" != "$token" ] || fail "could not forge"
# report N ADDRESS: the fixture DSN to ADDRESS (in To), Message-ID number N
report() { sed "s/bounces+1@example.com/$2/; s/ABCDEF@/ABCDEF.$1@/" "$FIX/dsn-failed.eml"; }
not_failed() { # not_failed WHAT
  [ "$(sql "SELECT status FROM outbound WHERE id=1")" = sent ] || fail "$1 marked notice 1 $(sql "SELECT status FROM outbound WHERE id=1")"
  [ "$(sql "SELECT count(*) FROM events WHERE kind LIKE 'bounce%'")" = 0 ] || fail "$1 recorded a bounce event"
  [ "$(sql "SELECT count(*) FROM outbound")" = 1 ] || fail "$1 got an ack"
}

# Wrong token, envelope recipient.
report 1 "bounces+1-$wrong@example.com" | tg deliver -f '' -r "bounces+1-$wrong@example.com" 
not_failed "a DSN to a wrong-token VERP address (envelope)"
# Upper-case wrong token in the To header only (the IMAP path).
up=$(tr a-z A-Z <<<"$wrong")
report 2 "bounces+1-$up@example.com" | tg deliver -f '' -r support@example.com
not_failed "a DSN to a wrong-token VERP address (To)"
# No token at all (the old unsigned form), and a truncated token.
report 3 bounces+1@example.com | tg deliver -f '' -r bounces+1@example.com 
not_failed "a DSN to the unsigned bounces+1@"
report 4 "bounces+1-${token:0:9}@example.com" | tg deliver -f '' -r support@example.com
not_failed "a DSN to a truncated token"
# It went the ordinary way: stored as incoming mail, not dropped as a report.
[ "$(sql "SELECT count(*) FROM messages WHERE direction='in' AND subject LIKE 'Undelivered%'")" = 4 ] ||
  fail "the forged reports were not handled as ordinary mail"

# The genuine address (token in any case) still works.
report 5 "$(tr a-z A-Z <<<"$real")" | tg deliver -f '' -r support@example.com
[ "$(sql "SELECT status FROM outbound WHERE id=1")" = failed ] || fail "the genuine DSN did not mark notice 1 failed"
[ "$(sql "SELECT count(*) FROM events WHERE kind='bounce'")" = 1 ] || fail "no bounce event for the genuine DSN"
echo PASS
