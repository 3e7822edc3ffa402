# `serve` runs the sender in the background: an ack queued by `deliver`
# reaches the smarthost without `spool flush`.
source "$TG_SOURCE_DIR/tests/outbound/lib.sh"
start_smarthost
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
write_config "smarthost = 127.0.0.1:$SMTP_PORT"
printf '[smtp]\nlisten = 127.0.0.1:%s\n[lmtp]\nlisten = 127.0.0.1:%s\n' "$(free_port)" "$(free_port)" >> tg.conf
unset TICKETGATE_NOW   # the daemon's sender uses the real clock
"$TG_BINARY" -c "$WORK/tg.conf" serve --foreground 2>serve.log &
SERVE_PID=$!
sleep 0.5
msg judy@example.org "served" j1@example.org | deliver judy@example.org
for _ in $(seq 150); do
  [ "$(smarthost_count)" = 1 ] && break
  kill -0 "$SERVE_PID" 2>/dev/null || { cat serve.log >&2; fail "serve died"; }
  sleep 0.1
done
[ "$(smarthost_count)" = 1 ] || { cat serve.log >&2; fail "the serve sender did not deliver the ack"; }
kill -TERM "$SERVE_PID"
for _ in $(seq 100); do kill -0 "$SERVE_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$SERVE_PID" 2>/dev/null && { kill -9 "$SERVE_PID"; fail "serve did not stop on SIGTERM"; }
wait "$SERVE_PID" || fail "serve did not stop cleanly"
SERVE_PID=
[ "$(sql "SELECT status FROM outbound WHERE id=1")" = sent ] || fail "not marked sent"
echo PASS
