#!/usr/bin/env python3
"""A TLS-capable SMTP smarthost for the outbound tests (python3 stdlib:
socketserver + ssl).

usage: smarthost_tls.py DIR CERT KEY starttls|implicit
Listens on 127.0.0.1 on a free port and writes it to DIR/port.
  starttls  plain TCP; EHLO offers STARTTLS before TLS, AUTH PLAIN LOGIN
            only after it
  implicit  TLS from the first byte; EHLO offers AUTH PLAIN LOGIN
Every command line received is appended to DIR/commands as
"tls LINE" or "plain LINE" (and "tls <eof>" / "plain <eof>" at the end,
"... <handshake failed: ...>" and "... <read failed: ...>").
Each AUTH appends "MECH TLS|PLAIN USER PASSWORD" to DIR/auth.  Each message
becomes DIR/N.eml (data, dot-unstuffed), DIR/N.env (MAIL FROM, then RCPTs)
and DIR/N.tls ("tls" or "plain": the channel DATA came over).
"""
import base64
import os
import socketserver
import ssl
import sys
import threading

d, cert, key, mode = sys.argv[1:5]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
lock = threading.Lock()
count = [0]


def append(name, text):
    with lock, open(os.path.join(d, name), "a") as f:
        f.write(text + "\n")


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        self.sock = self.request
        self.tls = False
        if mode == "implicit" and not self.starttls():
            return
        self.rf = self.sock.makefile("rb")
        self.send("220 smarthost.test ESMTP test")
        mailfrom, rcpts = None, []
        while True:
            raw = self.readline()
            if raw is None:
                self.log("<eof>")
                return
            self.log(raw)
            verb = raw.split(" ", 1)[0].upper()
            arg = raw[len(verb):].strip()
            if verb in ("EHLO", "HELO"):
                ext = ["smarthost.test"]
                if mode == "starttls" and not self.tls:
                    ext.append("STARTTLS")
                if self.tls:
                    ext.append("AUTH PLAIN LOGIN")
                ext.append("8BITMIME")
                for i, e in enumerate(ext):
                    self.send(("250 " if i == len(ext) - 1 else "250-") + e)
            elif verb == "STARTTLS" and mode == "starttls" and not self.tls:
                self.send("220 2.0.0 ready to start TLS")
                self.rf.close()
                if not self.starttls():
                    return
                self.rf = self.sock.makefile("rb")
                mailfrom, rcpts = None, []
            elif verb == "AUTH" and self.tls:
                if not self.auth(arg):
                    return
            elif verb == "MAIL":
                mailfrom = arg.split(":", 1)[1].strip().split(" ")[0].strip("<>")
                rcpts = []
                self.send("250 2.1.0 ok")
            elif verb == "RCPT":
                rcpts.append(arg.split(":", 1)[1].strip().strip("<>"))
                self.send("250 2.1.5 ok")
            elif verb == "DATA":
                self.send("354 go ahead")
                lines = []
                while True:
                    line = self.rf.readline(100000)
                    if not line:
                        return
                    if line in (b".\r\n", b".\n"):
                        break
                    lines.append(line[1:] if line.startswith(b".") else line)
                with lock:
                    count[0] += 1
                    n = count[0]
                with open(os.path.join(d, "%d.env" % n), "w") as f:
                    f.write(mailfrom + "\n" + "\n".join(rcpts) + "\n")
                with open(os.path.join(d, "%d.tls" % n), "w") as f:
                    f.write("tls\n" if self.tls else "plain\n")
                with open(os.path.join(d, "%d.eml.tmp" % n), "wb") as f:
                    f.write(b"".join(lines))
                os.rename(os.path.join(d, "%d.eml.tmp" % n), os.path.join(d, "%d.eml" % n))
                self.send("250 2.0.0 queued as %d" % n)
            elif verb in ("RSET", "NOOP"):
                self.send("250 2.0.0 ok")
            elif verb == "QUIT":
                self.send("221 2.0.0 bye")
                return
            else:
                self.send("502 5.5.1 not implemented")

    def starttls(self):
        try:
            self.sock = ctx.wrap_socket(self.sock, server_side=True)
        except (ssl.SSLError, OSError) as e:
            self.log("<handshake failed: %s>" % e)
            return False
        self.tls = True
        return True

    def log(self, text):
        append("commands", ("tls " if self.tls else "plain ") + text)

    def send(self, line):
        try:
            self.sock.sendall((line + "\r\n").encode())
        except OSError:
            pass

    def readline(self):
        try:
            line = self.rf.readline(4096)
        except (ssl.SSLError, OSError) as e:
            self.log("<read failed: %s>" % e)
            return None
        if not line:
            return None
        return line.decode("utf-8", "replace").rstrip("\r\n")

    def auth(self, arg):
        parts = arg.split()
        mech = parts[0].upper() if parts else ""

        def b64(s):
            return base64.b64decode(s).decode("utf-8", "replace")

        if mech == "PLAIN":
            if len(parts) > 1:
                data = parts[1]
            else:
                self.send("334 ")
                data = self.readline()
            fields = b64(data or "").split("\0")
            user, pw = (fields[1], fields[2]) if len(fields) == 3 else ("?", "?")
        elif mech == "LOGIN":
            if len(parts) > 1:
                user = b64(parts[1])
            else:
                self.send("334 VXNlcm5hbWU6")
                user = b64(self.readline() or "")
            self.send("334 UGFzc3dvcmQ6")
            pw = b64(self.readline() or "")
        else:
            self.send("504 5.5.4 mechanism not supported")
            return True
        append("auth", "%s %s %s %s" % (mech, "TLS" if self.tls else "PLAIN", user, pw))
        self.send("235 2.7.0 authenticated")
        return True


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


s = Server(("127.0.0.1", 0), Handler)
with open(os.path.join(d, "port.tmp"), "w") as f:
    f.write(str(s.server_address[1]))
os.rename(os.path.join(d, "port.tmp"), os.path.join(d, "port"))
s.serve_forever()
