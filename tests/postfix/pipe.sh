#!/usr/bin/env bash
# Postfix in front, pipe transport: a private Postfix (own config, queue
# and data directories under a temp dir, smtpd on a free 127.0.0.1 port,
# no chroot) hands support@example.com to `ticketgate deliver` through a
# master.cf pipe entry (flags=Rq user=nobody, ${sender} ${recipient}).
# Mail sent with swaks becomes tickets; an unknown recipient is refused
# at RCPT; with the spool unwritable deliver exits 75 and Postfix keeps
# the mail deferred; once the spool is back, `postqueue -f` delivers it:
# every Message-ID stored exactly once.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../ops/lib_ops.sh"
source "$(dirname "$0")/lib_postfix.sh"
pf_skip_unless_possible
chmod 755 "$WORK"
nuid=$(id -u nobody); ngid=$(id -g nobody)
# The binary must be reachable by nobody (the build tree may be private).
install -m 755 "$TG" "$WORK/ticketgate"
data=$WORK/tg
mkdir -p "$data" && chown "$nuid:$ngid" "$data"
cat > "$WORK/tg.conf" <<CONF
[gateway]
data_dir = $data
secret_file = $data/secret
addresses = support@example.com
CONF
chmod 644 "$WORK/tg.conf"
smtp=$(free_port)
pf_setup "$WORK/pf" "$smtp" "ticketgate:" "ticketgate unix - n n - 10 pipe
  flags=Rq user=nobody argv=$WORK/ticketgate -c $WORK/tg.conf deliver --sender \${sender} --recipient \${recipient}"
pf_start
wait_port "$smtp" || fail "postfix smtpd did not listen: $(tail "$WORK/pf/maillog")"
tg() { setpriv --reuid="$nuid" --regid="$ngid" --clear-groups "$WORK/ticketgate" -c "$WORK/tg.conf" "$@"; }
stored() { sqlite3 "$data/ticketgate.db" "select count(*) from messages where direction='in' and message_id='$1'"; }

pf_send "$smtp" support@example.com p1@test 'First through the pipe' || fail "swaks p1 refused"
pf_send "$smtp" support+extra@example.com p2@test 'Second' && fail "relay_recipient_maps let support+extra through" || true
pf_send "$smtp" bogus@example.com p3@test 'Nobody' && fail "unknown recipient accepted" || true
pf_send "$smtp" support@example.com p4@test 'Re: First through the pipe' --add-header 'In-Reply-To: <p1@test>' \
  || fail "swaks p4 refused"
pf_wait_empty 30 || fail "postfix did not deliver: $(tail -20 "$WORK/pf/maillog")"
[ "$(stored p1@test)" = 1 ] || fail "p1 not stored: $(tail -20 "$WORK/pf/maillog")"
expect_eq p4 "$(stored p4@test)" 1
grep -q 'relay=ticketgate, .*status=sent (delivered via ticketgate service' "$WORK/pf/maillog" || fail "no pipe delivery in the log"
pass "swaks -> postfix -> pipe -> deliver: tickets; unknown recipients refused at RCPT"

# The spool becomes unwritable: deliver exits 75, Postfix defers.
mv "$data/spool" "$data/spool.off" && touch "$data/spool"
pf_send "$smtp" support@example.com p5@test 'While the spool is broken' || fail "swaks p5 refused"
pf_send "$smtp" support@example.com p6@test 'Also while broken' || fail "swaks p6 refused"
pf_wait_deferred 2 30 || fail "postfix did not defer: $(tail -20 "$WORK/pf/maillog")"
grep -q 'status=deferred' "$WORK/pf/maillog" || fail "no deferral in the log"
expect_eq p5-not-yet "$(stored p5@test)" 0
pass "exit 75: Postfix keeps the mail deferred"

rm "$data/spool" && mv "$data/spool.off" "$data/spool"
pf_flush
pf_wait_empty 30 || fail "postfix did not deliver after the flush: $(tail -20 "$WORK/pf/maillog")"
for id in p1 p4 p5 p6; do expect_eq "$id-once" "$(stored $id@test)" 1; done
expect_eq total "$(sqlite3 "$data/ticketgate.db" "select count(*) from messages where direction='in'")" 4
expect_eq tickets "$(tg ticket list --json 2>/dev/null | tg_json 'len(j)')" 3
expect_eq spool-empty "$(tg spool list --json 2>/dev/null | tg_json 'len(j)')" 0
pass "postqueue -f after the fix: nothing lost, nothing doubled"
