#!/usr/bin/env bash
# The systemd notification protocol without systemd: a python listener
# plays $NOTIFY_SOCKET (abstract '@name' and a filesystem path) and
# `serve` must send READY=1 once it serves, RELOADING=1 (with
# MONOTONIC_USEC) then READY=1 again on SIGHUP, and STOPPING=1 on
# SIGTERM, in that order, each with a STATUS.  Without NOTIFY_SOCKET,
# or with a socket nobody listens on, serve runs as usual.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib_ops.sh"
here=$(cd "$(dirname "$0")" && pwd)
cd "$WORK"
printf '[gateway]\ndata_dir = %s/var\nsecret_file = %s/var/secret\n[smtp]\nlisten = 127.0.0.1:%s\n[lmtp]\nlisten = 127.0.0.1:%s\n' \
  "$WORK" "$WORK" "$(free_port)" "$(free_port)" > t.conf

wait_for() { # FILE PATTERN
  local i
  for i in $(seq 1 100); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  return 1
}

run_case() { # NOTIFY_SOCKET-VALUE LABEL
  local addr=$1 out=notes.$2
  : > "$out"
  python3 "$here/notify_listener.py" "$addr" "$out" > listener.$2 &
  local listener=$!
  wait_for listener.$2 listening || fail "$2: listener did not start"
  NOTIFY_SOCKET=$addr "$TG" -c t.conf serve --foreground 2> serve.$2 &
  local serve=$!
  wait_for "$out" 'READY=1' || fail "$2: no READY=1: $(cat serve.$2)"
  kill -HUP "$serve"
  wait_for "$out" 'RELOADING=1' || fail "$2: no RELOADING=1"
  # READY=1 again after the reload.
  for i in $(seq 1 50); do [ "$(grep -c 'READY=1' "$out")" -ge 2 ] && break; sleep 0.1; done
  kill -0 "$serve" || fail "$2: SIGHUP killed serve"
  kill -TERM "$serve"
  wait "$serve" || fail "$2: serve exited $? on SIGTERM"
  wait "$listener"
  python3 - "$out" "$2" <<'PY'
import json, sys
msgs = [json.loads(l) for l in open(sys.argv[1])]
kinds = []
for m in msgs:
    kv = dict(line.split("=", 1) for line in m.split("\n") if line)
    assert "STATUS" in kv, f"no STATUS in {m!r}"
    for k in ("READY", "RELOADING", "STOPPING"):
        if k in kv:
            assert kv[k] == "1", m
            kinds.append(k)
    if "RELOADING" in kv:
        assert int(kv["MONOTONIC_USEC"]) > 0, m
assert kinds == ["READY", "RELOADING", "READY", "STOPPING"], f"{sys.argv[2]}: {kinds}"
PY
  [ $? -eq 0 ] || fail "$2: wrong sequence: $(cat "$out")"
}

run_case "@tgtest-notify-$$" abstract
pass "abstract socket: READY, RELOADING, READY, STOPPING"
run_case "$WORK/notify.sock" path
pass "filesystem socket: READY, RELOADING, READY, STOPPING"

# No listener behind NOTIFY_SOCKET, and no NOTIFY_SOCKET at all: serve
# runs and stops cleanly.
for env in "NOTIFY_SOCKET=$WORK/nobody.sock" "NOTIFY_SOCKET="; do
  env "$env" "$TG" -c t.conf serve --foreground 2> serve.none &
  serve=$!
  sleep 1
  kill -0 "$serve" || fail "serve died with $env: $(cat serve.none)"
  kill -TERM "$serve"; wait "$serve" || fail "serve exited $? with $env"
done
pass "no systemd: no harm"
