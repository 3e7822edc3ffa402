#!/usr/bin/env python3
"""A real SMTP server for the outbound tests (python3 stdlib smtpd).

usage: smarthost.py DIR
Listens on 127.0.0.1 on a free port, writes the port to DIR/port, and for
each message accepted writes DIR/N.eml (the data) and DIR/N.env (MAIL FROM
on the first line, then one RCPT per line).  Before answering the end of
DATA it reads DIR/mode: "ok" (default) 250, "temp" 451, "perm" 550.
Exits 77 (skip) when smtpd is not available (Python >= 3.12).
"""
import os
import sys
import warnings

warnings.simplefilter("ignore")
try:
    import asyncore
    import smtpd
except ImportError:
    sys.exit(77)

d = sys.argv[1]


class Server(smtpd.SMTPServer):
    count = 0

    def process_message(self, peer, mailfrom, rcpttos, data, **kw):
        try:
            mode = open(os.path.join(d, "mode")).read().strip()
        except OSError:
            mode = "ok"
        if mode == "temp":
            return "451 4.3.0 try again later"
        if mode == "perm":
            return "550 5.1.1 no such user here"
        Server.count += 1
        n = Server.count
        with open(os.path.join(d, "%d.eml.tmp" % n), "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode())
        with open(os.path.join(d, "%d.env" % n), "w") as f:
            f.write(mailfrom + "\n" + "\n".join(rcpttos) + "\n")
        os.rename(os.path.join(d, "%d.eml.tmp" % n), os.path.join(d, "%d.eml" % n))
        return None


s = Server(("127.0.0.1", 0), None, decode_data=False)
port = s.socket.getsockname()[1]
with open(os.path.join(d, "port.tmp"), "w") as f:
    f.write(str(port))
os.rename(os.path.join(d, "port.tmp"), os.path.join(d, "port"))
asyncore.loop(timeout=0.2)
