# A DSN (RFC 3464) for one of our notices, to its signed VERP address
# bounces+ID-TOKEN@domain, opens no ticket and marks that notice failed, with
# an event on its ticket; a "delayed" report is only recorded.  The real
# bounces of the shared corpus (when ../shared is there) are read the same
# way.  (Forged addresses: dsn_forged.sh.)
source "$TG_SOURCE_DIR/tests/outbound/lib.sh"
write_config ""
FIX="$HERE/fixtures"
msg grace@example.org "hello" g1@example.org | deliver grace@example.org
msg henry@example.org "hello too" h1@example.org | deliver henry@example.org
tg spool flush >/dev/null
[ "$(sql "SELECT count(*) FROM tickets")" = 2 ] || fail "setup"

verp() { sql "SELECT envelope_sender FROM outbound WHERE id=$1"; }
# fixture FILE ID: the fixture with its bounces+ID@ address signed
fixture() { sed "s/bounces+$2@example.com/$(verp "$2")/" "$FIX/$1"; }
[[ "$(verp 1)" =~ ^bounces\+1-[a-z2-7]{10}@example\.com$ ]] || fail "VERP not signed: $(verp 1)"

# Our own fixture: envelope from <> to the VERP address of notice 1.
fixture dsn-failed.eml 1 | tg deliver -f '' -r "$(verp 1)"
[ "$(sql "SELECT count(*) FROM tickets")" = 2 ] || fail "the DSN opened a ticket"
[ "$(sql "SELECT status FROM outbound WHERE id=1")" = failed ] || fail "notice 1 not failed"
ev=$(sql "SELECT detail FROM events WHERE ticket_id=1 AND kind='bounce'")
grep -q 'action failed, status 5.1.1' <<<"$ev" || fail "bounce event: '$ev'"
[ "$(sql "SELECT count(*) FROM messages WHERE ticket_id=1 AND direction='in'")" = 1 ] || fail "DSN stored as customer mail"
[ "$(sql "SELECT count(*) FROM outbound")" = 2 ] || fail "the DSN got an ack"

# Only the To header names the bounce address (IMAP has no envelope).
fixture dsn-delayed.eml 2 | tg deliver -f '' -r support@example.com
[ "$(sql "SELECT count(*) FROM tickets")" = 2 ] || fail "the delayed DSN opened a ticket"
[ "$(sql "SELECT status FROM outbound WHERE id=2")" = sent ] || fail "a delay marked the notice failed"
sql "SELECT detail FROM events WHERE ticket_id=2 AND kind='bounce-ignored'" | grep -q 'action delayed' ||
  fail "delay not recorded"

# The shared corpus: real bounces, each sent to the VERP address of a new notice.
CORPUS="${TG_SHARED_DIR:-$TG_SOURCE_DIR/../shared}/corpus"
checked=0
if [ -d "$CORPUS" ]; then
  for f in "$CORPUS"/mimekit/messages/delivery-status*.txt "$CORPUS"/mimekit/messages/bounce.txt \
           "$CORPUS"/mail-gem/multipart_report_emails/*.eml; do
    [ -f "$f" ] || continue
    checked=$((checked + 1))
    msg "c$checked@example.org" "corpus $checked" "c$checked@example.org" | deliver "c$checked@example.org"
    id=$(sql "SELECT max(id) FROM outbound")
    before=$(sql "SELECT count(*) FROM tickets")
    tg deliver -f '' -r "$(verp "$id")" < "$f" 2>/dev/null
    [ "$(sql "SELECT count(*) FROM tickets")" = "$before" ] || fail "$(basename "$f") opened a ticket"
    st=$(sql "SELECT status FROM outbound WHERE id=$id")
    if grep -qi '^Action: *failed' "$f"; then
      [ "$st" = failed ] || fail "$(basename "$f"): notice $id is $st, not failed"
    fi
    [ "$(sql "SELECT count(*) FROM events WHERE kind LIKE 'bounce%' AND detail LIKE '%notice $id %'")" = 1 ] ||
      fail "$(basename "$f"): no event"
  done
  echo "corpus bounces checked: $checked"
else
  echo "shared corpus absent: corpus part skipped"
fi
echo PASS
