#!/usr/bin/env python3
"""smtp_latency.py - latency from the end of DATA (the final ".") to the
250 reply, over N parallel SMTP sessions at a target total rate.

usage: smtp_latency.py HOST PORT SESSIONS TOTAL_MESSAGES RATE_PER_S SIZE
Prints: sent=, ok=, rate=, p50_ms=, p99_ms=, max_ms=
"""
import socket, sys, threading, time

host, port = sys.argv[1], int(sys.argv[2])
sessions, total, rate, size = (int(x) for x in sys.argv[3:7])
per = total // sessions
lat, errors = [], []
lock = threading.Lock()
body = b"From: bench@example.org\r\nTo: support@example.com\r\nSubject: latency\r\n\r\n"
body += (b"x" * 76 + b"\r\n") * max(1, (size - len(body)) // 78)

def reply(f):
    while True:
        line = f.readline()
        if not line:
            raise OSError("connection closed")
        if line[3:4] != b"-":
            return line

def run(t):
    c = socket.create_connection((host, port))
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    f = c.makefile("rb")
    reply(f)
    c.sendall(b"EHLO bench\r\n"); reply(f)
    interval = sessions / rate if rate > 0 else 0
    start = time.perf_counter() + t * interval / sessions
    mine = []
    for n in range(per):
        due = start + n * interval
        now = time.perf_counter()
        if due > now:
            time.sleep(due - now)
        c.sendall(b"MAIL FROM:<bench@example.org>\r\nRCPT TO:<support@example.com>\r\nDATA\r\n")
        for _ in range(3):
            r = reply(f)
        if not r.startswith(b"354"):
            errors.append(r); continue
        c.sendall(body)
        t0 = time.perf_counter()
        c.sendall(b".\r\n")
        r = reply(f)
        t1 = time.perf_counter()
        if r.startswith(b"250"):
            mine.append(t1 - t0)
        else:
            errors.append(r)
    c.sendall(b"QUIT\r\n")
    c.close()
    with lock:
        lat.extend(mine)

t0 = time.perf_counter()
threads = [threading.Thread(target=run, args=(i,)) for i in range(sessions)]
for th in threads: th.start()
for th in threads: th.join()
elapsed = time.perf_counter() - t0
lat.sort()
pct = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] * 1000
print("sent=%d ok=%d errors=%d rate=%.0f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f"
      % (sessions * per, len(lat), len(errors), len(lat) / elapsed, pct(0.5), pct(0.99), lat[-1] * 1000))
