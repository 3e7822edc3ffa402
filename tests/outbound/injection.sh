# A subject (or display name) containing CR/LF - here smuggled in through an
# RFC 2047 encoded word - cannot add a header to the ack.
source "$TG_SOURCE_DIR/tests/outbound/lib.sh"
write_config ""
printf 'From: =?UTF-8?Q?Eve=0D=0ABcc:_victim@example.net?= <eve@example.org>\nTo: support@example.com\nSubject: =?UTF-8?Q?help=0D=0ABcc:_victim@example.net=0D=0AX-Injected:_yes?=\nMessage-ID: <i1@example.org>\n\nbody\n' |
  deliver eve@example.org
tg spool flush >/dev/null
f=$(ls "$WORK"/var/outbox/new/* | head -1)
[ -f "$f" ] || fail "no ack"
python3 - "$f" <<'PY'
import email, sys
from email import policy
raw = open(sys.argv[1], "rb").read()
head = raw.split(b"\n\n", 1)[0]
m = email.message_from_bytes(raw, policy=policy.default)
names = [k.lower() for k in m.keys()]
assert "bcc" not in names and "x-injected" not in names, names
for line in head.split(b"\n"):
    assert not line.lower().startswith((b"bcc:", b"x-injected:")), line
assert b"\r" not in head, "bare CR in the header block"
subj = str(m["Subject"])
assert "\r" not in subj and "\n" not in subj, repr(subj)
assert "X-Injected: yes" in subj, repr(subj)   # kept as text, on one line
PY
echo PASS
