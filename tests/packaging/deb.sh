#!/usr/bin/env bash
# The .deb end to end, without touching the real system: `cpack -G DEB`
# in a copy of the build tree's install configuration, `dpkg -x` into a
# throwaway root plus the package's own postinst (DPKG_ROOT set, so it
# writes the user into the root's /etc/passwd instead of calling
# adduser), then the daemon is started with the unit's ExecStart command
# line (paths rewritten into the root, config pointing at a temp data
# dir and free ports, `user = nobody` for the privilege drop), mail is
# sent with the installed `ticketgate deliver` (the SMTP listener is not
# on main yet; then swaks), and the metrics endpoint must count it.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../ops/lib_ops.sh"
command -v cpack > /dev/null && command -v dpkg-deb > /dev/null || skip "cpack or dpkg-deb missing"
build=${TG_BUILD_DIR:?}
src=${TG_SOURCE_DIR:?}
cd "$WORK"
# cpack reads CPackConfig.cmake of the build tree; its output goes here.
( cd "$build" && cpack -G DEB -B "$WORK/pkg" ) > cpack.log 2>&1 || fail "cpack failed: $(tail -20 cpack.log)"
deb=$(ls pkg/ticketgate_*.deb 2>/dev/null | head -1)
[ -n "$deb" ] || fail "no .deb produced: $(tail cpack.log)"
dpkg-deb -f "$deb" Package | grep -qx ticketgate || fail "package name"
depends=$(dpkg-deb -f "$deb" Depends)
for lib in libgmime-3.0 libglib2.0 libsqlite3 libpcre2-8 libetpan libmicrohttpd; do
  echo "$depends" | grep -q "$lib" || fail "Depends lacks $lib (shlibdeps): $depends"
done
dpkg-deb -c "$deb" > contents
for f in ./usr/sbin/ticketgate ./usr/lib/ticketgate/ticketgate-net.so ./usr/share/man/man8/ticketgate.8 ./usr/share/man/man5/ticketgate.conf.5 \
         ./usr/share/man/man5/ticketgate-rules.5 ./usr/share/man/man5/ticketgate-templates.5 \
         ./usr/lib/systemd/system/ticketgate.service ./etc/ticketgate/ticketgate.conf \
         ./usr/share/doc/ticketgate/ticketgate.conf.example ./usr/share/doc/ticketgate/admin-guide.md \
         ./usr/share/ticketgate/rules/10-billing.rules ./usr/share/ticketgate/templates/ack.en.mustache; do
  grep -q " $f\$" contents || fail "package lacks $f"
done
mkdir ctl && dpkg-deb -e "$deb" ctl
grep -qx /etc/ticketgate/ticketgate.conf ctl/conffiles || fail "config is not a conffile"
[ -x ctl/postinst ] || fail "no postinst"
pass "$(basename "$deb"): files, conffiles, shlibdeps ($depends)"

# Install into a throwaway root.
root=$WORK/root
mkdir -p "$root/etc" && touch "$root/etc/passwd" "$root/etc/group"
dpkg -x "$deb" "$root"
DPKG_ROOT=$root sh ctl/postinst configure || fail "postinst failed"
grep -q '^ticketgate:' "$root/etc/passwd" || fail "postinst made no ticketgate user"
[ -d "$root/var/lib/ticketgate" ] || fail "postinst made no /var/lib/ticketgate"
expect_eq datadir-mode "$(stat -c %a "$root/var/lib/ticketgate")" 750
"$root/usr/sbin/ticketgate" --help > /dev/null || fail "installed binary does not run"
pass "installed into a throwaway root, postinst ran"

# The unit's command line, with paths moved into the root.
unit=$root/usr/lib/systemd/system/ticketgate.service
grep -q '^Type=notify$' "$unit" || fail "unit is not Type=notify"
execstart=$(sed -n 's/^ExecStart=//p' "$unit")
expect_eq execstart "$execstart" "/usr/sbin/ticketgate -c /etc/ticketgate/ticketgate.conf serve --foreground"
conf=$root/etc/ticketgate/ticketgate.conf
port=$(free_port)
chmod 755 "$WORK" "$root" "$root/var" "$root/var/lib"
sed -i "s#/var/lib/ticketgate#$root/var/lib/ticketgate#g" "$conf"
# The shipped config's [metrics] and [gateway] keys are commented; set
# what the test needs in those groups.
smtp=$(free_port); lmtp=$(free_port)
python3 - "$conf" "$port" "$smtp" "$lmtp" <<'PY'
import sys
path, port = sys.argv[1], sys.argv[2]
text = open(path).read()
text = text.replace("\n# user =\n", "\nuser = nobody\n", 1)
text = text.replace("[metrics]\n", "[metrics]\nlisten = 127.0.0.1:%s\n" % port, 1)
text = text.replace("[smtp]\n", "[smtp]\nlisten = 127.0.0.1:%s\n" % sys.argv[3], 1)
text = text.replace("[lmtp]\n", "[lmtp]\nlisten = 127.0.0.1:%s\n" % sys.argv[4], 1)
open(path, "w").write(text)
PY
# postinst gives the config to group ticketgate on a real system; here
# the daemon's user is nobody.
chgrp "$(id -g nobody)" "$conf"
expect_eq conf-mode "$(stat -c %a "$conf")" 640
"$root/usr/sbin/ticketgate" -c "$conf" check > /dev/null || fail "installed config does not pass check"
cmd=${execstart//\/usr\/sbin\/ticketgate/$root/usr/sbin/ticketgate}
cmd=${cmd//\/etc\/ticketgate/$root/etc/ticketgate}
( cd "$root/var/lib/ticketgate" && exec $cmd ) 2> serve.log &
serve=$!
cleanup_hooks+=("kill $serve 2>/dev/null; wait $serve 2>/dev/null")
wait_port "$port" || fail "daemon did not come up: $(cat serve.log)"
expect_eq uid "$(awk '/^Uid:/ {print $3}' /proc/$serve/status)" "$(id -u nobody)"
pass "daemon runs under the unit's ExecStart, as nobody"

# Mail: three messages, one a reply to the first: two with swaks to the
# SMTP listener, one through the installed `deliver`.
wait_port "$smtp" || fail "no SMTP listener"
command -v swaks > /dev/null || skip "swaks not installed"
for i in 1 3; do
  extra=(); [ "$i" != 3 ] || extra=(--add-header 'In-Reply-To: <deb1@x>')
  swaks --server 127.0.0.1 --port "$smtp" --from c1@example.org --to support@localhost \
    --header "Subject: package test $i" --header "Message-Id: <deb$i@x>" "${extra[@]}" \
    --hide-all > /dev/null 2>&1 || fail "swaks $i refused"
done
printf 'From: c2@example.org\nTo: support@localhost\nSubject: package test 2\nMessage-ID: <deb2@x>\n\nhello\n' \
  | setpriv --reuid="$(id -u nobody)" --regid="$(id -g nobody)" --clear-groups \
      "$root/usr/sbin/ticketgate" -c "$conf" deliver --sender c2@example.org --recipient support@localhost 2>>deliver.log \
  || fail "deliver failed: $(cat deliver.log)"
for t in $(seq 1 50); do
  scrape "$port" > m.txt || fail "scrape failed"
  [ "$(metric m.txt ticketgate_tickets_created_total)" = 2 ] && [ "$(metric m.txt ticketgate_spool_depth)" = 0 ] && break
  sleep 0.1
done
expect_eq accepted-smtp "$(metric m.txt 'ticketgate_messages_accepted_total{origin="smtp"}')" 2
expect_eq accepted-deliver "$(metric m.txt 'ticketgate_messages_accepted_total{origin="deliver"}')" 1
expect_eq created "$(metric m.txt ticketgate_tickets_created_total)" 2
expect_eq depth "$(metric m.txt ticketgate_spool_depth)" 0
kill -TERM "$serve"; wait "$serve" || fail "daemon exited $? on SIGTERM"
notnobody=$(find "$root/var/lib/ticketgate" -mindepth 1 ! -user nobody)
[ -z "$notnobody" ] || fail "not owned by nobody: $notnobody"
pass "mail delivered, metrics count it, clean stop"
