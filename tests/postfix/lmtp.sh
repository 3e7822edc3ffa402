#!/usr/bin/env bash
# Postfix in front, LMTP: a private Postfix relays support@example.com
# to `ticketgate serve` over lmtp:inet:127.0.0.1:PORT (transport_maps).
# Mail sent with swaks becomes tickets; with serve killed (-9) Postfix
# defers the mail; once serve is back, `postqueue -f` delivers it: every
# Message-ID stored exactly once.  Skips (77) while `serve` has no LMTP
# listener (before the SMTP/LMTP listener is merged).
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../ops/lib_ops.sh"
source "$(dirname "$0")/lib_postfix.sh"
pf_skip_unless_possible
cd "$WORK"
lmtp=$(free_port)
smtp_tg=$(free_port)
cat > tg.conf <<CONF
[gateway]
data_dir = $WORK/tg
secret_file = $WORK/tg/secret
addresses = support@example.com
[smtp]
listen = 127.0.0.1:$smtp_tg
[lmtp]
listen = 127.0.0.1:$lmtp
CONF
serve_pid=
start_serve() {
  "$TG" -c tg.conf serve --foreground 2>> serve.log &
  serve_pid=$!
  cleanup_hooks+=("kill $serve_pid 2>/dev/null; wait $serve_pid 2>/dev/null")
}
start_serve
if ! wait_port "$lmtp" 5; then
  kill "$serve_pid" 2>/dev/null; wait "$serve_pid" 2>/dev/null || true
  skip "serve does not listen on [lmtp] listen yet (SMTP/LMTP listener not merged)"
fi
stored() { sqlite3 tg/ticketgate.db "select count(*) from messages where direction='in' and message_id='$1'"; }
wait_stored() { # MSGID
  local i
  for i in $(seq 1 100); do [ "$(stored "$1")" = 1 ] && return 0; sleep 0.1; done
  return 1
}
smtp=$(free_port)
pf_setup "$WORK/pf" "$smtp" "lmtp:inet:127.0.0.1:$lmtp"
pf_start
wait_port "$smtp" || fail "postfix smtpd did not listen: $(tail "$WORK/pf/maillog")"

pf_send "$smtp" support@example.com l1@test 'First over LMTP' || fail "swaks l1 refused"
pf_send "$smtp" support@example.com l2@test 'Re: First over LMTP' --add-header 'In-Reply-To: <l1@test>' \
  || fail "swaks l2 refused"
pf_wait_empty 30 || fail "postfix did not deliver: $(tail -20 "$WORK/pf/maillog")"
wait_stored l1@test && wait_stored l2@test || fail "not ticketed: $(tail -20 "$WORK/pf/maillog")"
grep -q 'relay=127.0.0.1\[127.0.0.1\]:'"$lmtp"'.*status=sent' "$WORK/pf/maillog" || fail "no LMTP delivery in the log"
pass "swaks -> postfix -> LMTP -> serve: tickets"

kill -9 "$serve_pid"; wait "$serve_pid" 2>/dev/null || true
pf_send "$smtp" support@example.com l3@test 'While serve is down' || fail "swaks l3 refused"
pf_send "$smtp" support@example.com l4@test 'Also while down' || fail "swaks l4 refused"
pf_wait_deferred 2 30 || fail "postfix did not defer: $(tail -20 "$WORK/pf/maillog")"
expect_eq l3-not-yet "$(stored l3@test)" 0
pass "serve killed: Postfix keeps the mail deferred"

start_serve
wait_port "$lmtp" 10 || fail "serve did not come back: $(tail serve.log)"
pf_flush
pf_wait_empty 30 || fail "postfix did not deliver after the flush: $(tail -20 "$WORK/pf/maillog")"
for id in l1 l2 l3 l4; do wait_stored $id@test || fail "$id not stored once: $(stored $id@test)"; done
expect_eq total "$(sqlite3 tg/ticketgate.db "select count(*) from messages where direction='in'")" 4
expect_eq tickets "$("$TG" -c tg.conf ticket list --json 2>/dev/null | tg_json 'len(j)')" 3
kill "$serve_pid"; wait "$serve_pid" || fail "serve exited $? on SIGTERM"
pass "serve back, postqueue -f: nothing lost, nothing doubled"
