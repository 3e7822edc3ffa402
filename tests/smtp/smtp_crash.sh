#!/bin/bash
# kill -9 of the daemon in the middle of a load run (smtp-source plus a
# python client that records, per Message-ID, what the server answered),
# then a restart.  Every message that got 250 is in the store exactly
# once; every message that got a 4xx/5xx is not; a message whose reply
# never came (the connection died) is there at most once.
. "$(dirname "$0")/lib.sh"
command -v smtp-source >/dev/null || { echo "smtp-source not installed: skip"; exit 77; }
write_conf
start_server

cat > "$T/client.py" <<'PY'
import json, smtplib, sys, threading, time
port, out = int(sys.argv[1]), sys.argv[2]
results = {}  # message-id -> "250" | "4xx"/"5xx" code | "unknown"
lock = threading.Lock()
def run(t):
    n = 0
    s = None
    while True:
        mid = "crash-%d-%d@example.org" % (t, n)
        try:
            if s is None:
                s = smtplib.SMTP("127.0.0.1", port, timeout=10)
                s.ehlo("client%d" % t)
        except OSError:
            return  # the daemon is gone
        body = ("From: c%d@example.org\r\nTo: support@example.com\r\nSubject: crash %d %d\r\n"
                "Message-ID: <%s>\r\n\r\n" % (t, t, n, mid) + "x" * 3000 + "\r\n").encode()
        status = "unknown"
        try:
            code, _ = s.mail("c%d@example.org" % t)
            if code == 250:
                code, _ = s.rcpt("support@example.com")
            if code == 250:
                code, _ = s.data(body)
            status = str(code)
        except (smtplib.SMTPException, OSError):
            s = None
        with lock:
            results[mid] = status
        n += 1
        if s is None:
            return
threads = [threading.Thread(target=run, args=(t,)) for t in range(10)]
for th in threads: th.start()
for th in threads: th.join()
json.dump(results, open(out, "w"))
PY
python3 "$T/client.py" "$SMTP_PORT" "$T/results.json" &
CLIENT=$!
smtp-source -s 5 -m 100000 -l 4096 -f src@example.org -t support@example.com "127.0.0.1:$SMTP_PORT" > /dev/null 2>&1 &
SOURCE=$!
sleep 2
kill -9 "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null || true
SERVER_PID=
wait "$CLIENT" || fail "python client failed"
wait "$SOURCE" 2>/dev/null || true
ls "$T/var/spool/queue" | wc -l > "$T/left"
echo "after kill -9: $(cat "$T/left") entries in queue/, $(ls "$T/var/spool/tmp" | wc -l) in tmp/, $(ls "$T/var/spool/journal" | wc -l) journal segments"
start_server
wait_drained
sql "select message_id, count(*) from messages where direction='in' and message_id like 'crash-%' group by message_id" > "$T/stored"
python3 - "$T/results.json" "$T/stored" <<'PY' || fail "exactly-once violated"
import json, sys
results = json.load(open(sys.argv[1]))
stored = {}
for line in open(sys.argv[2]):
    mid, n = line.rstrip("\n").rsplit("|", 1)
    stored[mid] = int(n)
ok = [m for m, s in results.items() if s == "250"]
refused = [m for m, s in results.items() if s not in ("250", "unknown")]
unknown = [m for m, s in results.items() if s == "unknown"]
assert len(ok) >= 100, "too few messages before the kill: %d" % len(ok)
bad = [m for m in ok if stored.get(m) != 1]
assert not bad, "250 but stored %s: %s" % ([stored.get(m) for m in bad[:5]], bad[:5])
bad = [m for m in refused if m in stored]
assert not bad, "refused but stored: %s" % bad[:5]
dup = [m for m, n in stored.items() if n != 1]
assert not dup, "stored twice: %s" % dup[:5]
extra = [m for m in stored if m not in results]
assert not extra, "stored but never sent: %s" % extra[:5]
print("250: %d, refused: %d, no reply (kill): %d of which stored: %d" %
      (len(ok), len(refused), len(unknown), sum(1 for m in unknown if m in stored)))
PY
stop_server
echo ok
