#!/usr/bin/env bash
# Escalation timer benchmark (issue 7): `ticketgate tick` over N open
# tickets of which D are due (their deadline passed), each due one
# escalating to level 2 with an escalation notice rendered, composed and
# queued.  Shows the query plan (the partial index tickets_deadline, no
# scan), then times: the pass with D due, and a pass with nothing due.
#   usage: bench/tick_bench.sh [BUILD_DIR] [N] [D]
set -euo pipefail
build=${1:-build}
n=${2:-100000}
d=${3:-1000}
top=$(cd "$(dirname "$0")/.." && pwd)
tg="$top/$build/gateway/ticketgate"
work=$(mktemp -d "${TMPDIR:-/var/tmp}/tgbench.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
export TICKETGATE_NOW=2026-01-09T12:00:00+09:00
cat > tg.conf <<CONF
[gateway]
data_dir = $work/var
CONF
"$tg" -c tg.conf ticket list > /dev/null   # creates the schema
now=$(date -d "$TICKETGATE_NOW" +%s)
python3 - "$work/var" "$n" "$d" "$now" <<'PY'
import glob, sqlite3, sys
db = glob.glob(sys.argv[1] + "/*.db")[0]
n, d, now = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
c = sqlite3.connect(db)
rows = []
for i in range(1, n + 1):
    due = i % (n // d) == 0 if d else False
    created = now - 1900 if due else now - 600           # due: past 30 minutes
    deadline = created + 1800
    rows.append((i, "Printer %d jammed" % i, "open", "customer%d@example.com" % i,
                 created, created, deadline, deadline))
c.executemany("INSERT INTO tickets (id, subject, status, requester_address, created_at, "
              "updated_at, deadline_at, escalate_at) VALUES (?,?,?,?,?,?,?,?)", rows)
c.executemany("INSERT INTO messages (ticket_id, direction, date, from_address, subject, body, "
              "created_at) VALUES (?, 'in', ?, ?, ?, 'The printer is jammed again.', ?)",
              [(r[0], r[4], r[3], r[1], r[4]) for r in rows])
c.commit()
print("tickets: %d, due: %d" % (c.execute("SELECT count(*) FROM tickets").fetchone()[0],
      c.execute("SELECT count(*) FROM tickets WHERE deadline_at <= ?", (now,)).fetchone()[0]))
PY
"$tg" -c tg.conf tick --explain
"$tg" -c tg.conf tick 2>/dev/null
"$tg" -c tg.conf tick 2>/dev/null
python3 - "$work/var" <<'PY'
import glob, sqlite3, sys
c = sqlite3.connect(glob.glob(sys.argv[1] + "/*.db")[0])
print("escalation notices queued: %d" % c.execute(
    "SELECT count(*) FROM outbound WHERE kind='escalation-notice'").fetchone()[0])
PY
