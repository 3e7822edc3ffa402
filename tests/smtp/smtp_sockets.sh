#!/bin/bash
# The listener's own socket handling (non-blocking sockets, accept4, its
# poll watch): a client reset before its greeting is sent, a client that
# pipelines far more than it reads, one that never reads at all (closed
# after its idle timeout, though its 421 cannot be sent), an IPv4 client
# of a dual-stack [::] listener named as plain IPv4, and a message
# accepted after all that.
. "$(dirname "$0")/lib.sh"
V6_PORT=$(free_port)
v6=1
python3 -c "import socket; s=socket.socket(socket.AF_INET6); s.bind(('::', $V6_PORT))" 2>/dev/null || v6=0
SMTP_EXTRA="idle_timeout = 2s"
write_conf
if [ "$v6" = 1 ]; then
  sed -i "s/^listen = 127.0.0.1:$SMTP_PORT\$/listen = 127.0.0.1:$SMTP_PORT, [::]:$V6_PORT/" "$T/conf"
fi
start_server

# Connections reset while they wait in the accept queue: the greeting
# cannot be sent, and the connection closes inside its own setup.
kill -STOP "$SERVER_PID"
python3 - "$SMTP_PORT" <<'PY' || fail "resetting clients"
import socket, struct, sys
port = int(sys.argv[1])
for _ in range(5):
    c = socket.create_connection(("127.0.0.1", port), timeout=5)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()
PY
kill -CONT "$SERVER_PID"
sleep 0.5
kill -0 "$SERVER_PID" 2>/dev/null || fail "serve died on connections reset before their greeting"

# 6,000 pipelined commands sent before reading one reply (MAIL and RSET:
# MAIL resets the limit on commands before MAIL): the replies (~150 KB)
# outgrow the socket buffer and go out in pieces while input keeps
# arriving; every one must come back, in order.
python3 - "$SMTP_PORT" <<'PY' || fail "pipelined burst"
import socket, sys, threading
port = int(sys.argv[1])
c = socket.create_connection(("127.0.0.1", port), timeout=20)
f = c.makefile("rb")
assert f.readline().startswith(b"220 ")
n = 3000
burst = (b"EHLO burst.example\r\n" + b"MAIL FROM:<burst@example.org>\r\nRSET\r\n" * n +
         b"QUIT\r\n")
sender = threading.Thread(target=c.sendall, args=(burst,))
sender.start()
lines = []
while True:
    line = f.readline()
    if not line:
        break
    lines.append(line)
sender.join()
pairs = [l[:9] for l in lines[-2 * n - 1:-1]]
assert pairs == [b"250 2.1.0", b"250 2.0.0"] * n, (len(lines), lines[-3:])
assert lines[-1].startswith(b"221 "), lines[-1]
PY

# A client that sends without ever reading: its replies fill both socket
# buffers, the server stops reading it, the idle timeout's 421 cannot go
# out either, and a tick later the connection is closed anyway.
python3 - "$SMTP_PORT" <<'PY' || fail "client that never reads"
import socket, sys, time
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1)
c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
chunk = b"MAIL FROM:<deaf@example.org>\r\nRSET\r\n" * 1000
try:
    c.sendall(b"EHLO deaf.example\r\n")
    for _ in range(200):
        c.sendall(chunk)
except (socket.timeout, OSError):
    pass  # the server stopped reading: what we wanted
deadline = time.time() + 10
c.settimeout(0.5)
while time.time() < deadline:
    try:
        c.send(b"NOOP\r\n")
    except socket.timeout:
        pass
    except OSError:
        sys.exit(0)  # reset: the server closed it
    time.sleep(0.2)
sys.exit("the server kept a connection that never reads for 10 s")
PY
grep -q "not reading: closed with output unsent" "$T/log" || fail "no log line for the closed deaf client"

swaks --server 127.0.0.1 --port "$SMTP_PORT" --from v4@example.org --to support@example.com \
  --header "Subject: plain v4" \
  --body "over IPv4" > "$T/swaks1.log" 2>&1 || fail "swaks over IPv4"
if [ "$v6" = 1 ]; then
  swaks --server 127.0.0.1 --port "$V6_PORT" --from mapped@example.org --to support@example.com \
    --header "Subject: mapped" \
    --body "IPv4 to a dual-stack listener" > "$T/swaks2.log" 2>&1 || fail "swaks to [::]"
fi
wait_drained
[ "$(sql "select count(*) from messages where subject='plain v4'")" = 1 ] ||
  fail "the IPv4 message is not stored once"
if [ "$v6" = 1 ]; then
  [ "$(sql "select count(*) from messages where subject='mapped'")" = 1 ] ||
    fail "the message to [::] is not stored once"
  grep -q "client=127.0.0.1 smtp connect" "$T/log" || fail "no plain IPv4 client in the log"
  grep -q "ffff" "$T/log" && fail "an IPv4-mapped address reached the log"
  sql "select origin from messages where subject='mapped'" | grep -qx "smtp 127.0.0.1" ||
    fail "origin of the message to [::] is not 'smtp 127.0.0.1'"
else
  echo "note: no IPv6 on this host; the dual-stack check is skipped"
fi
stop_server
echo "PASS smtp_sockets"
