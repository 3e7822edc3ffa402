# lib.sh - shared helpers for the IMAP integration tests (sourced).
#
# dovecot_start: a throwaway Dovecot on 127.0.0.1 in $T (temp dir) with
# passwd-file auth, maildir storage and a self-signed certificate.  Sets
# IMAP_PORT (plain/STARTTLS) and IMAPS_PORT (implicit TLS).  User
# "support" / password "secret".  Skips (exit 77) without dovecot.
# tg_conf FILE [imap keys...]: writes a ticketgate config for account "t".

set -euo pipefail

DOVECOT=${DOVECOT:-/usr/sbin/dovecot}
[ -x "$DOVECOT" ] || { echo "SKIP: $DOVECOT not installed"; exit 77; }
command -v openssl >/dev/null || { echo "SKIP: openssl missing"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: python3 missing"; exit 77; }
command -v sqlite3 >/dev/null || { echo "SKIP: sqlite3 missing"; exit 77; }
: "${TG_BINARY:?TG_BINARY not set}"

T=$(mktemp -d "${TMPDIR:-/tmp}/tg-imap.XXXXXX")
DOVECOT_PID=
cleanup() {
  local rc=$?
  if [ -n "${DOVECOT_PID}" ]; then kill "$DOVECOT_PID" 2>/dev/null || true; wait "$DOVECOT_PID" 2>/dev/null || true; fi
  for p in ${EXTRA_PIDS:-}; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  if [ $rc -ne 0 ] && [ $rc -ne 77 ]; then
    echo "--- dovecot log"; tail -n 30 "$T/dovecot.log" 2>/dev/null || true
  fi
  rm -rf "$T"
  exit $rc
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

dovecot_start() {
  IMAP_PORT=$(free_port)
  IMAPS_PORT=$(free_port)
  while [ "$IMAPS_PORT" = "$IMAP_PORT" ]; do IMAPS_PORT=$(free_port); done
  mkdir -p "$T/run" "$T/state" "$T/home"
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=localhost" \
    -keyout "$T/key.pem" -out "$T/cert.pem" >/dev/null 2>&1
  echo "support:{PLAIN}secret::::::" > "$T/passwd"
  echo "other:{PLAIN}other::::::" >> "$T/passwd"
  chmod 755 "$T"
  # Login and internal processes must not run as root; the mail process
  # runs as nobody (as root) or as the invoking user.
  local login=nobody internal=nobody
  id dovenull >/dev/null 2>&1 && login=dovenull
  id dovecot >/dev/null 2>&1 && internal=dovecot
  local muid=65534 mgid=65534
  if [ "$(id -u)" != 0 ]; then login=$(id -un); internal=$(id -un); muid=$(id -u); mgid=$(id -g);
  else chown "$muid:$mgid" "$T/home"; fi
  cat > "$T/dovecot.conf" <<CONF
base_dir = $T/run
state_dir = $T/state
log_path = $T/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <$T/cert.pem
ssl_key = <$T/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = $internal
default_login_user = $login
first_valid_uid = 1
mail_location = maildir:$T/home/%u/Maildir
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $T/passwd
}
userdb {
  driver = static
  args = uid=$muid gid=$mgid home=$T/home/%u
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $IMAP_PORT
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $IMAPS_PORT
    ssl = yes
  }
}
service anvil {
  chroot =
}
service imap-login {
  chroot =
}
protocol imap {
  imap_idle_notify_interval = 2 mins
}
CONF
  "$DOVECOT" -F -c "$T/dovecot.conf" >"$T/dovecot.out" 2>&1 &
  DOVECOT_PID=$!
  for _ in $(seq 1 100); do
    if python3 - "$IMAP_PORT" <<'PY' 2>/dev/null
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=0.5)
assert s.recv(100).startswith(b"* OK")
PY
    then return 0; fi
    sleep 0.1
  done
  echo "dovecot did not start"; cat "$T/dovecot.out"; tail "$T/dovecot.log" || true
  return 1
}

# imap_append USER PASS FOLDER COUNT [PREFIX]: APPENDs COUNT small messages.
imap_append() {
  python3 - "$IMAP_PORT" "$@" <<'PY'
import imaplib, sys, email.utils, time
port, user, pw, folder, count = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
prefix = sys.argv[6] if len(sys.argv) > 6 else "msg"
m = imaplib.IMAP4("127.0.0.1", port)
m.login(user, pw)
if folder != "INBOX":
    m.create(folder)
for i in range(count):
    body = ("From: Customer %d <cust%d@example.com>\r\n"
            "To: support@localhost\r\n"
            "Subject: %s %d\r\n"
            "Message-ID: <%s-%d@example.com>\r\n"
            "Date: %s\r\n\r\nHello, this is %s number %d.\r\n") % (
        i, i, prefix, i, prefix, i, email.utils.formatdate(), prefix, i)
    typ, _ = m.append(folder, None, None, body.encode())
    assert typ == "OK"
m.logout()
PY
}

# imap_count USER PASS FOLDER [CRITERIA]: number of messages matching.
imap_count() {
  python3 - "$IMAP_PORT" "$@" <<'PY'
import imaplib, sys
port, user, pw, folder = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
crit = sys.argv[5] if len(sys.argv) > 5 else "ALL"
m = imaplib.IMAP4("127.0.0.1", port)
m.login(user, pw)
typ, _ = m.select(folder)
if typ != "OK":
    print(-1); sys.exit(0)
typ, data = m.uid("SEARCH", None, crit)
print(len(data[0].split()))
m.logout()
PY
}

# tg_conf FILE KEY=VALUE...: config with data in $T/var and one account [imap:t].
tg_conf() {
  local f=$1; shift
  cat > "$f" <<CONF
[gateway]
data_dir = $T/var
secret_file = $T/var/secret
[imap:t]
host = 127.0.0.1
port = $IMAP_PORT
tls = none
user = support
password = secret
timeout = 10s
poll_interval = 30s
CONF
  for kv in "$@"; do echo "$kv" >> "$f"; done
  chmod 600 "$f" # it may hold a password: ticketgate refuses it readable by others
}

db_count() {
  sqlite3 "$T/var/ticketgate.db" "$1"
}

# ticket_count: tickets as seen by `ticketgate ticket list --json`.
ticket_count() {
  "$TG_BINARY" -c "$1" ticket list --json --limit 5000 |
    python3 -c 'import json,sys; d=json.load(sys.stdin); d=d.get("tickets", d) if isinstance(d, dict) else d; print(len(d))'
}

fail() { echo "FAIL: $*"; exit 1; }
expect_eq() { [ "$1" = "$2" ] || fail "$3: expected $2, got $1"; }
