# tests/postfix/lib_postfix.sh - a private Postfix instance for tests.
# Source after ../lib.sh and ../ops/lib_ops.sh.
#
# pf_setup DIR SMTP_PORT TRANSPORT [MASTER_EXTRA]
#   config_directory, queue_directory and data_directory under DIR;
#   smtpd on 127.0.0.1:SMTP_PORT only; mail for support@example.com (and
#   only that address: relay_recipient_maps) goes to TRANSPORT
#   ("lmtp:inet:127.0.0.1:2424" or "ticketgate:"); MASTER_EXTRA is
#   appended to master.cf.  Nothing outside DIR is changed; every service
#   runs without chroot.  Log: DIR/maillog.
# pf_start / pf_stop / pf_flush / pf_queue_count / pf_wait_empty SECS
#
# Needs root (Postfix's master starts as root and drops to mail_owner).
PF=
pf_skip_unless_possible() {
  command -v postfix > /dev/null || skip "postfix not installed"
  command -v swaks > /dev/null || skip "swaks not installed"
  [ "$(id -u)" -eq 0 ] || skip "a private Postfix instance needs root"
  getent passwd postfix > /dev/null || skip "no postfix user"
  getent group postdrop > /dev/null || skip "no postdrop group"
}
pf_setup() {
  PF=$1
  local port=$2 transport=$3 extra=${4:-}
  mkdir -p "$PF/etc" "$PF/queue" "$PF/data"
  chmod 755 "$(dirname "$PF")" "$PF"  # mail_owner must reach its directories
  chown postfix "$PF/data"  # data_directory belongs to mail_owner
  cat > "$PF/etc/main.cf" <<CF
compatibility_level = 3.6
queue_directory = $PF/queue
data_directory = $PF/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.test.invalid
mydomain = test.invalid
myorigin = \$myhostname
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relay_domains = example.com
relay_recipient_maps = inline:{ support@example.com=ok }
transport_maps = inline:{ support@example.com=$transport }
smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
local_recipient_maps =
maillog_file = $PF/maillog
maillog_file_prefixes = $PF
biff = no
smtputf8_enable = no
queue_run_delay = 300s
minimal_backoff_time = 300s
maximal_backoff_time = 600s
lmtp_connect_timeout = 2s
smtp_connect_timeout = 2s
alias_maps =
alias_database =
CF
  cat > "$PF/etc/master.cf" <<CF
127.0.0.1:$port inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
$extra
CF
  # Creates the queue directories with the right owners (nothing else).
  postfix -c "$PF/etc" check > "$PF/check.log" 2>&1 || fail "postfix check: $(cat "$PF/check.log")"
}
pf_start() {
  postfix -c "$PF/etc" start > "$PF/start.log" 2>&1 || fail "postfix start: $(cat "$PF/start.log") $(tail "$PF/maillog" 2>/dev/null)"
  cleanup_hooks+=("postfix -c '$PF/etc' stop >/dev/null 2>&1")
}
pf_stop() { postfix -c "$PF/etc" stop > /dev/null 2>&1 || true; }
pf_flush() { postqueue -c "$PF/etc" -f; }
pf_queue_count() { find "$PF/queue/incoming" "$PF/queue/active" "$PF/queue/deferred" "$PF/queue/maildrop" -type f 2>/dev/null | wc -l; }
pf_wait_empty() {
  local i
  for i in $(seq 1 $(( ${1:-30} * 10 ))); do [ "$(pf_queue_count)" -eq 0 ] && return 0; sleep 0.1; done
  return 1
}
pf_wait_deferred() { # N SECS: until N messages sit in the deferred queue
  local i
  for i in $(seq 1 $(( ${2:-30} * 10 ))); do
    [ "$(find "$PF/queue/deferred" -type f 2>/dev/null | wc -l)" -ge "$1" ] && return 0
    sleep 0.1
  done
  return 1
}
# pf_send PORT RCPT MSGID SUBJECT [SWAKS-ARGS...]: one message with
# swaks (its own Message-Id replaced); the exit status is swaks'.
pf_send() {
  local port=$1 rcpt=$2 id=$3 subject=$4
  shift 4
  swaks --server 127.0.0.1 --port "$port" --from customer@example.net --to "$rcpt" \
    --header "Subject: $subject" --header "Message-Id: <$id>" \
    --body "Message $id through Postfix." "$@" --hide-all > /dev/null 2>&1
}
