# A reply whose only link is In-Reply-To of our signed Message-ID threads into
# the ticket, even with a changed subject; a forged token, or the right id from
# someone it was not sent to, does not.
source "$TG_SOURCE_DIR/tests/outbound/lib.sh"
write_config ""
msg frank@example.org "VPN drops every hour" f1@example.org | deliver frank@example.org
ours=$(sql "SELECT message_id FROM outbound WHERE id=1")
[[ "$ours" =~ ^t1\.o1\.[0-9a-f]{20}@gw\.example\.net$ ]] || fail "unexpected Message-ID $ours"
tickets() { sql "SELECT count(*) FROM tickets"; }

# A reply with only In-Reply-To (no tag, no reply address, no References).
printf 'From: frank@example.org\nTo: support@example.com\nSubject: completely different words\nMessage-ID: <f2@example.org>\nIn-Reply-To: <%s>\n\nstill broken\n' "$ours" |
  deliver frank@example.org
[ "$(tickets)" = 1 ] || fail "reply by signed In-Reply-To opened a new ticket"
[ "$(sql "SELECT ticket_id FROM messages WHERE message_id='f2@example.org'")" = 1 ] || fail "reply not on ticket 1"
sql "SELECT detail FROM events WHERE ticket_id=1 AND kind='message'" | grep -q 'by references' || fail "not threaded by references"

# The same id with one token character changed: forged, opens a new ticket.
forged=$(python3 -c 'import sys; s=sys.argv[1]; i=s.index(".",s.index(".o"))+1; c="0" if s[i]!="0" else "1"; print(s[:i]+c+s[i+1:])' "$ours")
[ "$forged" != "$ours" ] || fail "forging failed"
printf 'From: frank@example.org\nTo: support@example.com\nSubject: other words\nMessage-ID: <f3@example.org>\nIn-Reply-To: <%s>\n\nhello\n' "$forged" |
  deliver frank@example.org
[ "$(tickets)" = 2 ] || fail "forged token threaded"
[ "$(sql "SELECT ticket_id FROM messages WHERE message_id='f3@example.org'")" = 2 ] || fail "forged reply not on a new ticket"

# The genuine id, but from someone the notice was not sent to: no proof.
printf 'From: mallory@example.net\nTo: support@example.com\nSubject: hi\nMessage-ID: <m1@example.net>\nReferences: <%s>\n\nhello\n' "$ours" |
  deliver mallory@example.net
[ "$(tickets)" = 3 ] || fail "a stranger's reference threaded"
echo PASS
