#!/usr/bin/env bash
# Privilege drop.  As root with `[gateway] user = nobody`: the running
# serve's /proc/PID/status shows nobody's uid and gid (real, effective,
# saved, fs), it has no supplementary root group, the data directory and
# everything `serve` and `deliver` create in it belong to nobody, and a
# data directory left root-owned by an earlier run is handed over.  A user
# that does not exist is refused (exit 78, a clear message, nothing
# created), and `check` reports it.  Skips when not root.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib_ops.sh"
[ "$(id -u)" -eq 0 ] || skip "needs root to test the privilege drop"
getent passwd nobody > /dev/null || skip "no user nobody"
nuid=$(id -u nobody); ngid=$(id -g nobody)
chmod 755 "$WORK"   # nobody must reach the data directory below it
cd "$WORK"
# A root-owned leftover, as if an earlier run had no user configured.
mkdir -p var/old && echo x > var/old/file
port=$(free_port)
# A port below 1024 for LMTP: binding it after the drop needs the
# CAP_NET_BIND_SERVICE that serve keeps until its listeners are up.
low=$(python3 -c '
import socket
for p in range(1000, 600, -1):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p)); print(p); break
    except OSError: pass
')
cat > t.conf <<CONF
[gateway]
data_dir = $WORK/var
secret_file = $WORK/var/secret
user = nobody
[smtp]
listen = 127.0.0.1:$(free_port)
[lmtp]
listen = 127.0.0.1:$low
[metrics]
listen = 127.0.0.1:$port
CONF
"$TG" -c t.conf check > /dev/null || fail "check refused user = nobody"
"$TG" -c t.conf serve --foreground 2> serve.log &
serve=$!
cleanup_hooks+=("kill $serve 2>/dev/null; wait $serve 2>/dev/null")
wait_port "$port" || fail "serve did not come up: $(cat serve.log)"
for i in $(seq 1 50); do grep -q 'serve: started' serve.log && break; sleep 0.1; done
expect_eq uid "$(awk '/^Uid:/ {print $2, $3, $4, $5}' /proc/$serve/status)" "$nuid $nuid $nuid $nuid"
expect_eq gid "$(awk '/^Gid:/ {print $2, $3, $4, $5}' /proc/$serve/status)" "$ngid $ngid $ngid $ngid"
groups=$(awk '/^Groups:/ {$1=""; print}' /proc/$serve/status)
case " $groups " in *" 0 "*) fail "still in group 0: $groups" ;; esac
grep -q 'privileges dropped to user nobody' serve.log || fail "no log line for the drop"
wait_port "$low" || fail "no LMTP listener on low port $low: $(cat serve.log)"
expect_eq capeff "$(awk '/^CapEff:/ {print $2}' /proc/$serve/status)" 0000000000000000
expect_eq capprm "$(awk '/^CapPrm:/ {print $2}' /proc/$serve/status)" 0000000000000000
pass "serve runs as nobody, bound port $low, holds no capability"

# Mail through serve's own drain: write it with deliver run as nobody
# (what Postfix's pipe with user=nobody does), and with deliver run as
# root, which drops too.
msg() { printf 'From: a@example.org\nSubject: %s\nMessage-ID: <%s>\n\nhi\n' "$1" "$1"; }
msg as-root | "$TG" -c t.conf deliver --recipient support@localhost 2>/dev/null || fail "deliver as root failed"
msg as-nobody | setpriv --reuid="$nuid" --regid="$ngid" --clear-groups "$TG" -c t.conf deliver --recipient support@localhost 2>/dev/null \
  || fail "deliver as nobody failed"
scrape "$port" > m.txt
expect_eq accepted "$(metric m.txt 'ticketgate_messages_accepted_total{origin="deliver"}')" 2
kill "$serve"; wait "$serve" || fail "serve exited $?"
notnobody=$(find var \( ! -user nobody -o ! -group "$ngid" \) -printf '%u:%g %p\n')
[ -z "$notnobody" ] || fail "files not owned by nobody: $notnobody"
[ -f var/ticketgate.db ] && [ -f var/secret ] && [ -d var/spool/queue ] || fail "expected db, secret, spool: $(find var)"
pass "everything in the data directory belongs to nobody"

# A symbolic link in the data directory is not followed by the chown.
touch "$WORK/outside"; ln -s "$WORK/outside" var/link
chown -h root:root var/link
msg after-link | "$TG" -c t.conf deliver --recipient support@localhost 2>/dev/null || fail "deliver failed"
expect_eq outside-owner "$(stat -c %u "$WORK/outside")" 0
pass "links are not followed"

# A user that does not exist: refused before anything is created.
sed 's/^user = nobody/user = no-such-user-tg/' t.conf > bad.conf
sed -i "s#$WORK/var#$WORK/var2#g; s#^listen = .*#listen = 127.0.0.1:$(free_port)#" bad.conf
rc=0; "$TG" -c bad.conf serve --foreground 2> bad.log || rc=$?
expect_eq serve-exit "$rc" 78
grep -q 'user = no-such-user-tg: no such user; refusing to run as root' bad.log || fail "unclear error: $(cat bad.log)"
rc=0; msg x | "$TG" -c bad.conf deliver --recipient support@localhost 2> bad.log || rc=$?
expect_eq deliver-exit "$rc" 78
[ ! -e var2 ] || fail "var2 created although the user does not exist"
rc=0; "$TG" -c bad.conf check 2> check.log || rc=$?
expect_eq check-exit "$rc" 78
grep -q 'no-such-user-tg: no such user' check.log || fail "check did not name the user: $(cat check.log)"
pass "unknown user refused (78) by serve, deliver and check"

pass "privilege drop"
