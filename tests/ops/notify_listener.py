#!/usr/bin/env python3
"""A stand-in for systemd's notification socket.

notify_listener.py ADDRESS OUT: binds an AF_UNIX datagram socket at
ADDRESS (a leading '@' means the abstract namespace, as in
$NOTIFY_SOCKET), prints "listening" once bound, then appends every
datagram to OUT, one JSON string per line, until STOPPING=1 arrives or
60 s pass without one."""
import json, socket, sys

addr, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + addr[1:] if addr.startswith("@") else addr)
s.settimeout(60)
print("listening", flush=True)
with open(out, "a") as f:
    while True:
        try:
            data = s.recv(65536)
        except socket.timeout:
            break
        f.write(json.dumps(data.decode()) + "\n")
        f.flush()
        if "STOPPING=1" in data.decode().split("\n"):
            break
