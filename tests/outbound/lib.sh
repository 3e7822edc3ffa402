# Shared setup for tests/outbound/*.sh (sourced).  Each test runs in a fresh
# temporary directory with its own config; `tg` runs the binary there.
set -euo pipefail
: "${TG_BINARY:?}" "${TG_SOURCE_DIR:?}"
HERE="$TG_SOURCE_DIR/tests/outbound"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tg-outbound.XXXXXX")
SMTPD_PID=
cleanup() {
  if [ -n "$SMTPD_PID" ]; then kill "$SMTPD_PID" 2>/dev/null || true; wait "$SMTPD_PID" 2>/dev/null || true; fi
  if [ -n "${SERVE_PID:-}" ]; then kill "$SERVE_PID" 2>/dev/null || true; wait "$SERVE_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
cd "$WORK"
export TICKETGATE_NOW=${TICKETGATE_NOW:-2026-01-09T17:50:00+09:00}
export TZ=Asia/Tokyo

fail() { echo "FAIL: $*" >&2; exit 1; }
tg() { "$TG_BINARY" -c "$WORK/tg.conf" "$@"; }

# write_config [EXTRA LINES for [outbound]] - then more groups may be appended
write_config() {
  cat > "$WORK/tg.conf" <<CONF
[gateway]
data_dir = $WORK/var
secret_file = $WORK/var/secret
hostname = gw.example.net
addresses = support@example.com
[outbound]
tls = none
$*
CONF
}

# start_smarthost: a real SMTP server on a free port; sets SMTP_DIR, SMTP_PORT
start_smarthost() {
  command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }
  SMTP_DIR="$WORK/smtp"
  mkdir -p "$SMTP_DIR"
  python3 "$HERE/smarthost.py" "$SMTP_DIR" 2>"$SMTP_DIR/log" &
  SMTPD_PID=$!
  for _ in $(seq 100); do
    [ -f "$SMTP_DIR/port" ] && break
    if ! kill -0 "$SMTPD_PID" 2>/dev/null; then
      wait "$SMTPD_PID" && rc=0 || rc=$?
      SMTPD_PID=
      [ "$rc" = 77 ] && { echo "SKIP: python smtpd missing"; exit 77; }
      fail "smarthost did not start"
    fi
    sleep 0.1
  done
  SMTP_PORT=$(cat "$SMTP_DIR/port")
}
smarthost_mode() { echo "$1" > "$SMTP_DIR/mode"; }
smarthost_count() { ls "$SMTP_DIR" | grep -c '\.eml$' || true; }

# deliver FROM [deliver options...] < message
deliver() { local from=$1; shift; tg deliver -f "$from" -r support@example.com "$@"; }

# sql "SELECT ..." - query the store (python3's sqlite3, read-only)
sql() {
  python3 - "$WORK/var" "$1" <<'PY'
import glob, sqlite3, sys
db = [p for p in glob.glob(sys.argv[1] + "/*.db")][0]
c = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
out = "".join("|".join("" if v is None else str(v) for v in row) + "\n"
              for row in c.execute(sys.argv[2]))
try:
    sys.stdout.write(out)
    sys.stdout.flush()
except BrokenPipeError:
    pass
PY
}

# msg FROM SUBJECT [MESSAGE-ID] [EXTRA HEADER LINES...]: a plain test message
msg() {
  local from=$1 subject=$2 mid=${3:-}
  shift 3 || shift $#
  printf 'From: %s\nTo: support@example.com\nSubject: %s\n' "$from" "$subject"
  [ -n "$mid" ] && printf 'Message-ID: <%s>\n' "$mid"
  for h in "$@"; do printf '%s\n' "$h"; done
  printf 'Date: Fri, 09 Jan 2026 17:40:00 +0900\nContent-Type: text/plain; charset=utf-8\n\nHello, something is broken.\n'
}

# make_certs: in $WORK/pki, with openssl -
#   self.pem/.key   self-signed, for 127.0.0.1 and localhost
#   ca.pem/.key     a test CA;  host.pem/.key  signed by it for 127.0.0.1
#   other.pem/.key  signed by the CA, but for other.example only
make_certs() {
  command -v openssl >/dev/null || { echo "SKIP: no openssl"; exit 77; }
  mkdir -p "$WORK/pki"
  (
    cd "$WORK/pki"
    local san='subjectAltName=IP:127.0.0.1,DNS:localhost'
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=127.0.0.1" \
      -addext "$san" -keyout self.key -out self.pem
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=ticketgate test CA" \
      -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
      -keyout ca.key -out ca.pem
    for leaf in host:"$san" other:subjectAltName=DNS:other.example; do
      local name=${leaf%%:*} ext=${leaf#*:}
      openssl req -newkey rsa:2048 -nodes -subj "/CN=$name" -keyout "$name.key" -out "$name.csr"
      printf '%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' "$ext" > "$name.ext"
      openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
        -extfile "$name.ext" -out "$name.pem"
    done
  ) >"$WORK/pki/openssl.log" 2>&1 || { cat "$WORK/pki/openssl.log" >&2; fail "openssl could not make the test certificates"; }
}

# start_tls_smarthost starttls|implicit CERTNAME: smarthost_tls.py with
# $WORK/pki/CERTNAME.pem (stops the one running); sets SMTP_DIR, SMTP_PORT
start_tls_smarthost() {
  command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }
  stop_smarthost
  SMTP_DIR="$WORK/smtp-$1-$2"
  rm -rf "$SMTP_DIR"; mkdir -p "$SMTP_DIR"
  python3 "$HERE/smarthost_tls.py" "$SMTP_DIR" "$WORK/pki/$2.pem" "$WORK/pki/$2.key" "$1" \
    2>"$SMTP_DIR/log" &
  SMTPD_PID=$!
  for _ in $(seq 100); do
    [ -f "$SMTP_DIR/port" ] && break
    kill -0 "$SMTPD_PID" 2>/dev/null || { cat "$SMTP_DIR/log" >&2; SMTPD_PID=; fail "TLS smarthost did not start"; }
    sleep 0.1
  done
  SMTP_PORT=$(cat "$SMTP_DIR/port")
}
stop_smarthost() {
  if [ -n "$SMTPD_PID" ]; then kill "$SMTPD_PID" 2>/dev/null || true; wait "$SMTPD_PID" 2>/dev/null || true; fi
  SMTPD_PID=
}
