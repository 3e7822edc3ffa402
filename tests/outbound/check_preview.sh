# `ticketgate check` in an empty directory uses the embedded templates and
# finds them fine; a broken template dir is listed as file:line: message.
# `template preview` prints the full message, headers included.
source "$TG_SOURCE_DIR/tests/outbound/lib.sh"
mkdir empty && (cd empty && "$TG_BINARY" check) | grep -q 'is fine' || fail "check with no config"
(cd empty && "$TG_BINARY" template preview ack --lang ja) > preview.eml || fail "preview without config"
python3 - preview.eml <<'PY'
import email, sys
from email import policy
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=policy.default)
assert str(m["Subject"]).startswith("[Support #1234] お問い合わせを受け付けました"), str(m["Subject"])
assert m["Message-ID"] and m["Reply-To"] and m["Auto-Submitted"] == "auto-replied"
assert "山田 太郎" in m.get_content()
PY

mkdir tpl && cp -r "$TG_SOURCE_DIR/templates/default/." tpl/
printf 'Subject: {{ticket.ref}} x\n\nHello {{customer.nmae}}\n' > tpl/ack.en.mustache
printf 'Subject: {{#ticket}}oops\n\nbody\n' > tpl/reply.en.mustache
write_config ""
printf '[templates]\ndir = %s/tpl\n' "$WORK" >> tg.conf
out=$(tg check 2>&1) && fail "check passed a broken template"
grep -q "tpl/reply.en.mustache:1: " <<<"$out" || fail "no file:line for the syntax error: $out"
rm tpl/reply.en.mustache
cp "$TG_SOURCE_DIR/templates/default/reply.en.mustache" tpl/
out=$(tg check 2>&1) && fail "check passed an undefined variable"
grep -q "tpl/ack.en.mustache:3: .*customer.nmae" <<<"$out" || fail "undefined variable not reported: $out"

# preview for a real ticket
write_config ""
msg ivy@example.org "Invoice missing" v1@example.org | deliver ivy@example.org
tg template preview ack --ticket 1 > p1.eml
grep -q '^In-Reply-To: <v1@example.org>' p1.eml || fail "preview lacks threading"
grep -q '^Subject: \[Support #1\] We have received your request: Invoice missing' p1.eml || fail "preview subject"
tg template preview nosuch --ticket 1 >/dev/null 2>&1 && fail "unknown template accepted"
echo PASS
