#!/usr/bin/env bash
# The Prometheus endpoint of `serve` after a known workload: 7 messages
# through `deliver`, 2 of which thread into existing tickets (one by
# In-Reply-To, one by the subject tag) and 1 quarantined by a rule.  Every
# counter must match the workload exactly, and `ticketgate stats --json`
# must agree with the scrape.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib_ops.sh"
cd "$WORK"
port=$(free_port)
mkdir rules
cat > rules/10-test.rules <<'RULES'
rule "billing"
    when subject ~ /invoice/i
    set queue billing

rule "hold"
    when subject ~ /HOLD-ME/
    quarantine reason "held by test"
    stop
RULES
cat > t.conf <<CONF
[gateway]
data_dir = $WORK/var
secret_file = $WORK/var/secret
[rules]
dir = $WORK/rules
[smtp]
listen = 127.0.0.1:$(free_port)
[lmtp]
listen = 127.0.0.1:$(free_port)
[metrics]
listen = 127.0.0.1:$port
CONF
"$TG" -c t.conf serve --foreground 2> serve.log &
serve=$!
cleanup_hooks+=("kill $serve 2>/dev/null; wait $serve 2>/dev/null")
wait_port "$port" || fail "metrics endpoint did not come up: $(cat serve.log)"

msg() { # FROM SUBJECT MSGID [IN-REPLY-TO]
  printf 'From: %s\nTo: support@localhost\nSubject: %s\nMessage-ID: <%s>\n' "$1" "$2" "$3"
  [ -z "${4:-}" ] || printf 'In-Reply-To: <%s>\n' "$4"
  printf 'Date: Mon, 24 Nov 2025 10:00:00 +0000\n\nbody of %s\n' "$3"
}
d() { "$TG" -c t.conf deliver --sender "$1" --recipient support@localhost 2>>deliver.log || fail "deliver $3 exited $?"; }
msg a@example.org 'Invoice question' m1@x | d a@example.org
msg b@example.org 'Login broken' m2@x | d b@example.org
msg c@example.org 'Hello' m3@x | d c@example.org
msg a@example.org 'Re: Invoice question' m4@x m1@x | d a@example.org      # threads: In-Reply-To
msg d@example.org 'Other thing' m5@x | d d@example.org
t2=$("$TG" -c t.conf ticket list --json 2>/dev/null | tg_json '[t["id"] for t in j if t["subject"]=="Login broken"][0]')
msg b@example.org "Re: [Support #$t2] Login broken" m6@x | d b@example.org # threads: subject tag
msg e@example.org 'HOLD-ME please' m7@x | d e@example.org                  # quarantined
scrape "$port" > m.txt || fail "scrape failed"
[ -z "${TG_VERBOSE_TEST:-}" ] || cat m.txt

expect_eq accepted "$(metric m.txt 'ticketgate_messages_accepted_total{origin="deliver"}')" 6
expect_eq created "$(metric m.txt ticketgate_tickets_created_total)" 4
expect_eq open-new "$(grep -c '^ticketgate_tickets{' m.txt)" 1
expect_eq tickets-new "$(metric m.txt 'ticketgate_tickets{status="new"}')" 4
expect_eq quarantined "$(metric m.txt 'ticketgate_quarantined{reason="rule"}')" 1
# m1 and its reply m4 both say "Invoice": the rule acts on each message.
expect_eq billing-rule "$(metric m.txt 'ticketgate_rule_actions_total{rule="billing"}')" 2
expect_eq spool-depth "$(metric m.txt ticketgate_spool_depth)" 0
expect_eq spool-age "$(metric m.txt ticketgate_spool_oldest_age_seconds)" 0
expect_eq journal "$(metric m.txt ticketgate_spool_journal_segments)" 0
grep -q '^# TYPE ticketgate_messages_accepted_total counter$' m.txt || fail "no TYPE line"
# Nothing accepted from another origin, no escalations in this workload.
expect_eq origins "$(grep -c '^ticketgate_messages_accepted_total{' m.txt)" 1
expect_eq escalated "$(grep -c '^ticketgate_tickets_escalated' m.txt || true)" 0
pass "scrape after 7 delivers: 6 accepted, 4 tickets, 1 quarantined"

# The same numbers from `ticketgate stats --json` (no daemon needed).
"$TG" -c t.conf stats --json > s.json 2>/dev/null
expect_eq stats-accepted "$(tg_json 'int(j["ticketgate_messages_accepted_total"]["deliver"])' < s.json)" 6
expect_eq stats-created "$(tg_json 'int(j["ticketgate_tickets_created_total"])' < s.json)" 4
pass "stats --json agrees"

# 404 for anything but /metrics; a second scrape is stable.
code=$(python3 -c "
import urllib.request,urllib.error
try: urllib.request.urlopen('http://127.0.0.1:$port/', timeout=5); print(200)
except urllib.error.HTTPError as e: print(e.code)")
expect_eq not-found "$code" 404
scrape "$port" > m2.txt
expect_eq stable "$(metric m2.txt 'ticketgate_messages_accepted_total{origin="deliver"}')" 6
kill "$serve"; wait "$serve" || fail "serve exited $? on SIGTERM"
pass "metrics endpoint"
