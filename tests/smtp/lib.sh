# lib.sh - shared by the tests/smtp/*.sh integration tests: a temp dir, a
# config on 127.0.0.1 with free ports, start/stop of `ticketgate serve`,
# and store queries.  Source it; it installs the cleanup trap.
set -euo pipefail
: "${TG_BINARY:?TG_BINARY must point at ticketgate}"
T=$(mktemp -d /tmp/tg-smtp-test.XXXXXX)
SERVER_PID=
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -9 "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  for m in $(awk -v t="$T" '$2 ~ "^"t {print $2}' /proc/mounts | sort -r); do
    umount "$m" 2>/dev/null || true
  done
  if [ "${KEEP_TEST_DIR:-}" = 1 ]; then echo "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; echo "--- server log (tail) ---" >&2; tail -n 40 "$T/log" >&2 || true; exit 1; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

SMTP_PORT=$(free_port)
LMTP_PORT=$(free_port)
while [ "$LMTP_PORT" = "$SMTP_PORT" ]; do LMTP_PORT=$(free_port); done
DB="$T/var/ticketgate.db"

# write_conf [EXTRA KEY FILE TEXT...]: groups in the extra text must not
# repeat [smtp]/[lmtp]/[limits]; use SMTP_EXTRA / LIMITS_EXTRA for those.
write_conf() {
  cat > "$T/conf" <<CONF
[gateway]
data_dir = $T/var
secret_file = $T/var/secret
addresses = support@example.com, help@example.com
[smtp]
listen = 127.0.0.1:$SMTP_PORT
${SMTP_EXTRA:-}
[lmtp]
listen = 127.0.0.1:$LMTP_PORT
[limits]
spool_min_free = 0
# Load tests send thousands from one sender: the flood guard would
# (rightly) quarantine them.
flood = 0
${LIMITS_EXTRA:-}
CONF
}

start_server() {
  "$TG_BINARY" -c "$T/conf" serve --foreground >> "$T/log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 100); do
    if python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$SMTP_PORT),1).close()" 2>/dev/null; then
      return 0
    fi
    kill -0 "$SERVER_PID" 2>/dev/null || fail "server exited at start"
    sleep 0.1
  done
  fail "server did not start listening"
}

stop_server() {
  kill -TERM "$SERVER_PID"
  local rc=0
  wait "$SERVER_PID" || rc=$?
  SERVER_PID=
  [ "$rc" = 0 ] || fail "serve exited $rc after SIGTERM"
  if grep -q "AddressSanitizer\|LeakSanitizer\|runtime error" "$T/log"; then
    fail "sanitizer report in the server log"
  fi
}

sql() { sqlite3 -batch -noheader "$DB" "$1"; }

# Entries not yet ticketed: files of queue/, and journal segments (a
# segment exists while any of its entries is in flight; spool/journal.h).
undrained() {
  local q j
  q=$( (ls -A "$T/var/spool/queue" 2>/dev/null || true) | wc -l)
  j=$( (ls -A "$T/var/spool/journal" 2>/dev/null || true) | wc -l)
  echo $((q + j))
}

# Waits until the spool queue and journal are empty and the worker has
# stored everything.
wait_drained() {
  for _ in $(seq 300); do
    if [ "$(undrained)" = 0 ]; then
      sleep 0.3
      [ "$(undrained)" = 0 ] && return 0
    fi
    sleep 0.1
  done
  fail "spool not drained: $(ls "$T/var/spool/queue" | wc -l) in queue/, $(ls "$T/var/spool/journal" | wc -l) journal segments"
}

message_count() { sql "select count(*) from messages where direction='in'"; }
