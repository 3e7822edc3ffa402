#!/usr/bin/env bash
# The man pages: `mandoc -T lint -W warning` finds nothing in any of
# them; ticketgate(8) names every command of `ticketgate --help`, and
# ticketgate.conf(5) every key of the schema in gateway/config.c.
source "$(dirname "$0")/../lib.sh"
command -v mandoc > /dev/null || skip "mandoc not installed"
man=${TG_SOURCE_DIR:?}/docs/man
for page in ticketgate.8 ticketgate.conf.5 ticketgate-rules.5 ticketgate-templates.5; do
  [ -f "$man/$page" ] || fail "$page missing"
  out=$(mandoc -T lint -W warning "$man/$page" 2>&1) || fail "mandoc lint $page: $out"
  [ -z "$out" ] || fail "mandoc lint $page: $out"
done
pass "mandoc -T lint -W warning is silent on all four pages"

mandoc -T ascii "$man/ticketgate.8" | col -b > "$WORK/t8.txt"
"$TG" --help | awk '/^commands:/ {on=1; next} on && /^  [a-z]/ {print $1}' > "$WORK/cmds"
[ -s "$WORK/cmds" ] || fail "no commands from ticketgate --help"
while read -r c; do
  grep -Eq "^ {5}$c( |$)" "$WORK/t8.txt" || fail "ticketgate(8) does not document '$c'"
done < "$WORK/cmds"
pass "ticketgate(8) documents: $(tr '\n' ' ' < "$WORK/cmds")"

mandoc -T ascii "$man/ticketgate.conf.5" | col -b > "$WORK/conf5.txt"
python3 "$(dirname "$0")/schema_keys.py" "$TG_SOURCE_DIR/gateway/config.c" | while read -r g k; do
  grep -Eq "(^|[ ,])$k([ ,]|$)" "$WORK/conf5.txt" || fail "ticketgate.conf(5) lacks [$g] $k"
done
pass "ticketgate.conf(5) names every key"
