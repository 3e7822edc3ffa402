#!/bin/bash
# The spool on a tiny tmpfs that fills up: 452 4.3.1 (the client keeps
# the message), nothing accepted is lost, and delivery resumes when space
# returns.  Needs root for the mount; skips (77) otherwise.
. "$(dirname "$0")/lib.sh"
mkdir -p "$T/var/spool"
if ! mount -t tmpfs -o size=2m,mode=0700 tmpfs "$T/var/spool" 2>"$T/mount.err"; then
  echo "SKIP: cannot mount a tmpfs for the spool ($(cat "$T/mount.err")); smtp_reserve_reload covers the reserve path"
  exit 77
fi
write_conf
start_server

cat > "$T/send.py" <<'PY'
import smtplib, sys
port, mid, size = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
s = smtplib.SMTP("127.0.0.1", port, timeout=20)
s.ehlo("c")
s.mail("full@example.org"); s.rcpt("support@example.com")
try:
    code, text = s.data(("Subject: %s\r\nMessage-ID: <%s>\r\n\r\n" % (mid, mid)).encode()
                        + (b"y" * 998 + b"\r\n") * (size // 1000))
except smtplib.SMTPResponseException as e:
    code, text = e.smtp_code, e.smtp_error
print(code, text.decode())
PY
send() { python3 "$T/send.py" "$SMTP_PORT" "$1" "$2"; }

for i in 1 2 3; do
  r=$(send "before-$i@full" 100000); [ "${r%% *}" = 250 ] || fail "before-$i: $r"
done
wait_drained
# Fill the file system, leaving less than one message of room.
dd if=/dev/zero of="$T/var/spool/filler" bs=64k 2>/dev/null || true
rm -f "$T/var/spool/filler"
dd if=/dev/zero of="$T/var/spool/filler" bs=1k count=$(( $(df -k --output=avail "$T/var/spool" | tail -1) - 40 )) 2>/dev/null
# 300 KB messages go to a file of their own, 100 KB ones to the journal
# (spool/journal.h): both must fail the same way.
for i in 1 2 3; do
  r=$(send "during-$i@full" 300000)
  case "$r" in "452 4.3.1"*) ;; *) fail "during-$i: expected 452 4.3.1, got: $r" ;; esac
  r=$(send "small-$i@full" 100000)
  case "$r" in "452 4.3.1"*) ;; *) fail "small-$i: expected 452 4.3.1, got: $r" ;; esac
done
grep -q "No space left on device" "$T/log" || fail "ENOSPC not logged"
[ -z "$(ls -A "$T/var/spool/tmp")" ] || fail "failed writes left files in tmp/"
[ -z "$(ls -A "$T/var/spool/journal")" ] || fail "failed journal appends left a segment: $(ls -l "$T/var/spool/journal")"
# Space returns: the same messages go through.
rm -f "$T/var/spool/filler"
for i in 1 2 3; do
  r=$(send "during-$i@full" 300000); [ "${r%% *}" = 250 ] || fail "after space returned, during-$i: $r"
  r=$(send "small-$i@full" 100000); [ "${r%% *}" = 250 ] || fail "after space returned, small-$i: $r"
done
wait_drained
for m in before-1 before-2 before-3 during-1 during-2 during-3 small-1 small-2 small-3; do
  [ "$(sql "select count(*) from messages where direction='in' and message_id = '$m@full'")" = 1 ] || fail "$m not stored exactly once"
done
[ "$(message_count)" = 9 ] || fail "expected 9 messages, got $(message_count)"
stop_server
echo ok
