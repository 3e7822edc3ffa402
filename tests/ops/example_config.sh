#!/usr/bin/env bash
# packaging/ticketgate.conf.example cannot rot: it must pass `check` as
# shipped (data paths moved to a temp dir), name every key of the schema
# in gateway/config.c inside its group, and still pass `check` with every
# commented-out key and group ([imap:NAME], [staff:NAME]) switched on.
source "$(dirname "$0")/../lib.sh"
src=${TG_SOURCE_DIR:?}
example=$src/packaging/ticketgate.conf.example
cd "$WORK"
sed "s#/var/lib/ticketgate#$WORK/data#g; s#/etc/ticketgate/#$WORK/etc/#g" "$example" > shipped.conf
"$TG" -c shipped.conf check > check.out 2> check.err || fail "check of the example failed: $(cat check.err)"
pass "the example passes check as shipped"

python3 "$(dirname "$0")/schema_keys.py" "$src/gateway/config.c" > keys
[ "$(wc -l < keys)" -ge 50 ] || fail "schema scan found only $(wc -l < keys) keys"
python3 - "$example" keys <<'PY' || fail "keys missing from the example"
import re, sys
group, seen = None, set()
for line in open(sys.argv[1]):
    m = re.match(r'^(?:# )?\[([a-z]+:?)[A-Za-z0-9_-]*\]\s*$', line)
    if m:
        group = m.group(1)
        continue
    m = re.match(r'^(?:# )?([a-z0-9_]+) =', line)
    if m and group:
        seen.add((group, m.group(1)))
missing = [l.split() for l in open(sys.argv[2]) if tuple(l.split()) not in seen]
for g, k in missing:
    print(f"example config lacks [{g}] {k}", file=sys.stderr)
sys.exit(1 if missing else 0)
PY
pass "every schema key is in the example, in its group"

# Everything switched on: the commented defaults and examples must be
# valid values too.
mkdir -p etc && echo secret > etc/imap-support.password && echo pw > etc/smarthost.password
chmod 600 etc/*.password
sed -e 's/^# \(\[[a-z]*:[a-z]*\]\)$/\1/' -e 's/^# \([a-z0-9_]* = \)/\1/' -e 's/^# \([a-z0-9_]* =\)$/\1/' shipped.conf \
  | sed -e "s#^password_file = /etc/ticketgate/#password_file = $WORK/etc/#" > all.conf
grep -q '^\[imap:support\]$' all.conf && grep -q '^\[staff:alice\]$' all.conf || fail "groups not switched on"
grep -q '^# [a-z0-9_]* =' all.conf && fail "keys left commented: $(grep '^# [a-z0-9_]* =' all.conf)"
"$TG" -c all.conf check > /dev/null 2> all.err || fail "check with every key on failed: $(cat all.err)"
pass "the example passes check with every key and group switched on"
