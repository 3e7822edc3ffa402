#!/bin/bash
# smtp_bench.sh - `ticketgate serve` against Postfix's smtp-sink in the
# same run: smtp-source with the same 4 KB message and 20 sessions, then
# end-of-DATA-to-250 latency at a fixed 1,000 messages/s and unthrottled.
# Not a test; figures go into bench/README.md ("SMTP listener").
#
# usage: bench/smtp_bench.sh [BUILD_DIR] [MESSAGES]
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=${1:-$HERE/../build}
N=${2:-20000}
TG=$BUILD/gateway/ticketgate
[ -x "$TG" ] || { echo "build first: $TG missing" >&2; exit 1; }
# Data on the real disk (not tmpfs) so fsync/syncfs cost what they cost.
T=$(mktemp -d "${BENCH_DIR:-/var/tmp}/tg-smtp-bench.XXXXXX")
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$T"; }
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do python3 -c "import socket; socket.create_connection(('127.0.0.1',$1),1)" 2>/dev/null && return; sleep 0.1; done; exit 1; }
rate() { python3 -c "print('%.0f' % ($1 / $2))"; }

SP=$(port); LP=$(port); KP=$(port)
cat > "$T/conf" <<CONF
[gateway]
data_dir = $T/var
secret_file = $T/var/secret
addresses = support@example.com
[smtp]
listen = 127.0.0.1:$SP
max_sessions_per_client = 100
[lmtp]
listen = 127.0.0.1:$LP
[limits]
spool_min_free = 0
flood = 0
CONF
"$TG" -c "$T/conf" serve --foreground 2> "$T/log" &
PIDS+=($!)
SINK_USER=(); [ "$(id -u)" = 0 ] && SINK_USER=(-u nobody)
smtp-sink "${SINK_USER[@]}" -c "127.0.0.1:$KP" 256 > /dev/null &
PIDS+=($!)
wait_port "$SP"; wait_port "$KP"

src() { smtp-source -s 20 -m "$N" -l 4096 -f bench@example.org -t support@example.com "127.0.0.1:$1"; }
t0=$(date +%s.%N); src "$KP"; t1=$(date +%s.%N)
sink_s=$(python3 -c "print($t1 - $t0)")
t0=$(date +%s.%N); src "$SP"; t1=$(date +%s.%N)
tg_s=$(python3 -c "print($t1 - $t0)")
# Time until the worker has ticketed everything.
while [ -n "$(ls -A "$T/var/spool/queue" "$T/var/spool/journal" | grep -v ':$' | grep .)" ]; do sleep 0.05; done
t2=$(date +%s.%N)
stored=$(sqlite3 "$T/var/ticketgate.db" "select count(*) from messages where direction='in'")
e2e_s=$(python3 -c "print($t2 - $t0)")
sink_rate=$(rate "$N" "$sink_s"); tg_rate=$(rate "$N" "$tg_s"); e2e_rate=$(rate "$stored" "$e2e_s")
echo "smtp-source -s 20 -m $N -l 4096"
echo "  smtp-sink:         $sink_rate msg/s"
echo "  ticketgate serve:  $tg_rate msg/s (250 = durable in spool), ratio $(python3 -c "print('%.2f' % ($tg_rate / $sink_rate))")"
echo "  ticketed:          $stored of $N, $e2e_rate msg/s end to end (spool + SQLite)"
echo "latency end of DATA -> 250, 20 sessions, 4 KB:"
echo "  at 1000 msg/s:  ticketgate $(python3 "$HERE/smtp_latency.py" 127.0.0.1 "$SP" 20 10000 1000 4096)"
echo "                  smtp-sink  $(python3 "$HERE/smtp_latency.py" 127.0.0.1 "$KP" 20 10000 1000 4096)"
echo "  unthrottled:    ticketgate $(python3 "$HERE/smtp_latency.py" 127.0.0.1 "$SP" 20 10000 0 4096)"
echo "                  smtp-sink  $(python3 "$HERE/smtp_latency.py" 127.0.0.1 "$KP" 20 10000 0 4096)"
batches=$(grep -c "accepted" "$T/log" || true)
echo "  (server log: $batches messages accepted in this run)"
