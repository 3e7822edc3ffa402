# With no smarthost (the embedded default), notices go into the outbox
# maildir DATA_DIR/outbox: new/ holds one complete file per notice.
source "$TG_SOURCE_DIR/tests/outbound/lib.sh"
write_config ""
msg erin@example.org "Printer on fire" e1@example.org | deliver erin@example.org
tg spool flush | grep -q 'sent 1' || fail "flush did not deliver into the outbox"
files=("$WORK"/var/outbox/new/*)
[ "${#files[@]}" = 1 ] && [ -f "${files[0]}" ] || fail "expected one file in outbox/new"
[ -z "$(ls "$WORK/var/outbox/tmp")" ] || fail "leftovers in outbox/tmp"
python3 - "${files[0]}" <<'PY'
import email, sys
from email import policy
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=policy.default)
import re
assert re.fullmatch(r"<bounces\+1-[a-z2-7]{10}@example\.com>", m["Return-Path"]), m["Return-Path"]
assert m["Delivered-To"] == "erin@example.org"
assert str(m["Subject"]) == "[Support #1] We have received your request: Printer on fire", str(m["Subject"])
assert m["In-Reply-To"] == "<e1@example.org>"
PY
grep -q "outbox" <<<"$(sql "SELECT last_error FROM outbound WHERE id=1")" || fail "delivery not recorded"
[ "$(sql "SELECT status FROM outbound WHERE id=1")" = sent ] || fail "not sent"
# A second flush sends nothing again.
tg spool flush | grep -q 'sent 0' || fail "sent twice"
echo PASS
