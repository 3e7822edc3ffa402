# A new ticket by `deliver` produces an ack that reaches a real SMTP server
# (the smarthost) and parses back with the threading headers, the ticket tag,
# the Japanese subject decoded exactly, the signed VERP envelope; ISO-2022-JP for a
# configured domain.
source "$TG_SOURCE_DIR/tests/outbound/lib.sh"
start_smarthost
write_config "smarthost = 127.0.0.1:$SMTP_PORT
iso2022jp_domains = keitai.example.jp"

printf 'From: =?UTF-8?B?5bGx55SwIOWkqumDjg==?= <taro@example.jp>\nTo: support@example.com\nSubject: =?UTF-8?B?44Ot44Kw44Kk44Oz44Gn44GN44G+44Gb44KT?=\nMessage-ID: <q1@example.jp>\nReferences: <older@example.jp>\nDate: Fri, 09 Jan 2026 17:40:00 +0900\nContent-Type: text/plain; charset=utf-8\n\n昨日からログインできません。\nエラー: E401\n' |
  deliver taro@example.jp
[ "$(sql "SELECT count(*) FROM outbound WHERE status='queued'")" = 1 ] || fail "no ack queued"
tg spool flush | grep -q 'sent 1,' || fail "flush did not send"
[ "$(smarthost_count)" = 1 ] || fail "smarthost got $(smarthost_count) messages"

python3 - "$SMTP_DIR/1.eml" "$SMTP_DIR/1.env" <<'PY'
import email, re, sys
from email import policy
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=policy.default)
env = open(sys.argv[2]).read().split("\n")
def check(cond, what):
    if not cond:
        print("FAIL:", what, file=sys.stderr); sys.exit(1)
check(re.fullmatch(r"bounces\+1-[a-z2-7]{10}@example\.com", env[0]), "envelope sender %r" % env[0])
check(env[1] == "taro@example.jp", "envelope rcpt %r" % env[1])
check(str(m["Subject"]) == "[Support #1] お問い合わせを受け付けました: ログインできません",
      "subject %r" % str(m["Subject"]))
check(m["In-Reply-To"].strip() == "<q1@example.jp>", "In-Reply-To %r" % m["In-Reply-To"])
check(m["References"].split() == ["<older@example.jp>", "<q1@example.jp>"], "References %r" % m["References"])
check(re.fullmatch(r"<t1\.o1\.[0-9a-f]{20}@gw\.example\.net>", m["Message-ID"].strip()), "Message-ID %r" % m["Message-ID"])
check(m["Auto-Submitted"] == "auto-replied", "Auto-Submitted")
check(m["X-Loop"] == "support@example.com", "X-Loop")
check(re.fullmatch(r"support\+1-[a-z2-7]{10}@example\.com", m["Reply-To"].addresses[0].addr_spec), "Reply-To %r" % str(m["Reply-To"]))
check(m["To"].addresses[0].display_name == "山田 太郎", "To name %r" % str(m["To"]))
check(m["From"].addresses[0].addr_spec == "support@example.com", "From")
body = m.get_content()
check("ログインできません" in body and "> エラー: E401" in body, "body")
PY
[ "$(sql "SELECT status FROM outbound WHERE id=1")" = sent ] || fail "not marked sent"
# The notice is listed on the ticket as an outgoing message.
tg ticket show 1 | grep -q -- '(out)' || fail "ticket show lists no outgoing message"

# ISO-2022-JP for a configured domain: 7bit body, subject decodes the same.
python3 -c '
import sys
sys.stdout.buffer.write(b"From: hanako@keitai.example.jp\nTo: support@example.com\n"
  b"Subject: =?ISO-2022-JP?B?GyRCJTklXiVbJCwyaExMJEckOSEjGyhC?=\n"
  b"Message-ID: <q2@keitai.example.jp>\nContent-Type: text/plain; charset=ISO-2022-JP\n\n"
  + "スマホが画面です。\n".encode("iso-2022-jp"))' |
  deliver hanako@keitai.example.jp
tg spool flush >/dev/null
python3 - "$SMTP_DIR/2.eml" <<'PY'
import email, sys
from email import policy
raw = open(sys.argv[1], "rb").read()
m = email.message_from_bytes(raw, policy=policy.default)
assert m.get_content_charset().lower() == "iso-2022-jp", m.get_content_type()
assert all(b < 0x80 for b in raw), "ISO-2022-JP message is not 7bit"
assert str(m["Subject"]) == "[Support #2] お問い合わせを受け付けました: スマホが画面です。", str(m["Subject"])
assert "お問い合わせ" in m.get_content()
PY
echo PASS
