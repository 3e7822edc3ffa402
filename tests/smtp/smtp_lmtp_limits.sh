#!/bin/bash
# LMTP with several recipients (one reply each after DATA), and the
# session limits that close a connection: line length, errors, idle
# timeout, sessions per client; then SIGTERM answers 421 and exits 0.
. "$(dirname "$0")/lib.sh"
SMTP_EXTRA="max_errors = 3
idle_timeout = 2s
max_sessions_per_client = 3
max_line = 1000"
write_conf
start_server

python3 - "$SMTP_PORT" "$LMTP_PORT" <<'PY' || fail "protocol checks"
import socket, sys, time
smtp_port, lmtp_port = int(sys.argv[1]), int(sys.argv[2])

class Peer:
    def __init__(self, port):
        self.c = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.f = self.c.makefile("rb")
    def reply(self):
        lines = []
        while True:
            line = self.f.readline()
            if not line:
                return lines or [b"EOF"]
            lines.append(line.rstrip(b"\r\n"))
            if line[3:4] != b"-":
                return lines
    def cmd(self, data):
        self.c.sendall(data)
        return self.reply()
    def closed(self):
        return self.f.readline() == b""

# LMTP: three recipients, one 250 each after the dot; an unknown one is
# refused at RCPT and gets no reply after DATA.
p = Peer(lmtp_port)
g = p.reply()[0]
assert g.startswith(b"220 ") and b"LMTP" in g, g
r = p.cmd(b"LHLO client\r\n")
assert r[-1].startswith(b"250 ") and b"250-PIPELINING" in r, r
assert p.cmd(b"MAIL FROM:<lmtp@example.org>\r\n")[0].startswith(b"250 2.1.0")
for rc in (b"support@example.com", b"help@example.com", b"support+billing@example.com"):
    assert p.cmd(b"RCPT TO:<" + rc + b">\r\n")[0].startswith(b"250 2.1.5")
assert p.cmd(b"RCPT TO:<nobody@example.com>\r\n")[0].startswith(b"550 5.1.1")
assert p.cmd(b"DATA\r\n")[0].startswith(b"354")
p.c.sendall(b"Subject: lmtp three\r\nMessage-ID: <lmtp-three@example.org>\r\n\r\nhello\r\n.\r\n")
replies = [p.reply()[0] for _ in range(3)]
assert all(x.startswith(b"250 2.1.5 <") for x in replies), replies
assert b"<help@example.com>" in replies[1], replies
assert p.cmd(b"QUIT\r\n")[0].startswith(b"221")
# EHLO is not LMTP.
p = Peer(lmtp_port); p.reply()
assert p.cmd(b"EHLO x\r\n")[0].startswith(b"500"), "EHLO accepted on LMTP"
p.c.close(); p.f.close()

# Line too long: 500 5.5.0 then close.
p = Peer(smtp_port); p.reply()
r = p.cmd(b"EHLO " + b"x" * 2000 + b"\r\n")
assert r[0].startswith(b"500 5.5.0"), r
assert p.closed()

# Too many errors: 421 then close.
p = Peer(smtp_port); p.reply()
assert p.cmd(b"FOO\r\n")[0].startswith(b"500")
assert p.cmd(b"BAR\r\n")[0].startswith(b"500")
r = p.cmd(b"BAZ\r\n")
assert r[0].startswith(b"500"), r
r = p.reply()
assert r[0].startswith(b"421 4.7.0"), r
assert p.closed()

# Sessions per client: the 4th gets 421 4.7.0 at connect.
p.c.close(); p.f.close()
time.sleep(0.5)
held = [Peer(smtp_port) for _ in range(3)]
for h in held:
    assert h.reply()[0].startswith(b"220")
extra = Peer(smtp_port)
r = extra.reply()
assert r[0].startswith(b"421 4.7.0"), r
for h in held + [extra]:
    h.f.close(); h.c.close()
time.sleep(0.5)

# Idle timeout: 421 4.4.2 after 2 s of silence.
p = Peer(smtp_port); p.reply()
t0 = time.time()
r = p.reply()
assert r[0].startswith(b"421 4.4.2"), r
assert 1.0 < time.time() - t0 < 5, time.time() - t0
PY

wait_drained
[ "$(message_count)" = 1 ] || fail "LMTP: expected 1 stored message, got $(message_count)"
RCPTS=$(sql "select envelope_recipients from messages where message_id = 'lmtp-three@example.org'")
for r in support@example.com help@example.com support+billing@example.com; do
  echo "$RCPTS" | grep -q "$r" || fail "recipient $r missing from the envelope: $RCPTS"
done
[ "$(sql "select origin from messages")" = "lmtp 127.0.0.1" ] || fail "LMTP origin"

# SIGTERM with an idle session open: it gets 421 4.3.2 and serve exits 0.
python3 - "$SMTP_PORT" "$SERVER_PID" <<'PY' || fail "shutdown"
import socket, sys, os, signal
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
f = c.makefile("rb")
assert f.readline().startswith(b"220")
os.kill(int(sys.argv[2]), signal.SIGTERM)
line = f.readline()
assert line.startswith(b"421 4.3.2"), line
PY
rc=0; wait "$SERVER_PID" || rc=$?
SERVER_PID=
[ "$rc" = 0 ] || fail "serve exited $rc after SIGTERM"
echo ok
