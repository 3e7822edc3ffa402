#!/usr/bin/env bash
# A rules directory routes messages through `deliver` to the expected
# queues, priorities and tags (checked with `ticket show --json`); every
# action is an audit event naming the rule's file:line; a rule may
# quarantine; a runaway regex is skipped without blocking the message;
# `rules test` and `rules test --stored` dry-run; `check` reports
# file:line:col.
source "$(dirname "$0")/../lib.sh"
cd "$WORK"
mkdir rules
cat > rules/10-billing.rules <<'R'
rule "billing questions"
    when subject ~ /invoice|receipt|請求書|領収書/i
    when from !~ /@example\.com$/
    set queue billing
    set priority high
R
cat > rules/20-outage.rules <<'R'
rule "outage escalates at once"
    when any
        subject ~ /outage|down|障害|至急/i
        header "X-Priority" ~ /^1/
    escalate level 2 reason "outage keyword"
    tag outage
    stop

rule "order number"
    when body ~ /order\s*(?:no\.?|#)\s*(?<order>\d{8})/i
    tag order
    set field order = "${order}"

rule "runaway"
    when body ~ /(a+)+$/
    tag never

rule "spam trap"
    when subject ~ /^\[SPAM\]/
    quarantine reason "tagged as spam upstream"
R
printf '[gateway]\ndata_dir = ./var\n[rules]\ndir = ./rules\n' > tg.conf
export TICKETGATE_CONFIG=tg.conf
"$TG" check > /dev/null 2>&1 || { "$TG" check; fail "check refused good rules"; }
n=0
send() { # SUBJECT FROM BODY [HEADER]
  n=$((n + 1))
  printf 'From: %s\nSubject: %s\nMessage-ID: <r%d@test>\n%s\n%s\n' "$2" "$1" "$n" "${4:-}" "$3" \
    | "$TG" deliver --recipient support@localhost 2>>deliver.log
}
field() { "$TG" ticket show "$1" --json | tg_json "$2"; }

send 'Question about invoice 42' 'kim@customer.org' 'hello'
expect_eq t1-queue "$(field 1 'j["queue"]')" billing
expect_eq t1-priority "$(field 1 'j["priority"]')" high
expect_eq t1-events "$(field 1 '[e["actor"]+" "+e["detail"] for e in j["events"] if e["kind"]=="rule"][0]')" \
  'rule:billing questions set queue billing (./rules/10-billing.rules:4)'
send '請求書について' 'tanaka@example.co.jp' 'お願いします'
expect_eq t2-queue "$(field 2 'j["queue"]')" billing
send 'Invoice copy' 'staff@example.com' 'internal'
expect_eq t3-queue "$(field 3 'j["queue"]')" default
send 'サーバー障害' 'ops@customer.org' 'order no. 12345678 is stuck'
expect_eq t4-level "$(field 4 'j["escalation_level"]')" 2
expect_eq t4-tags "$(field 4 'j["tags"]')" "['outage']"
expect_eq t4-stop "$(field 4 'j["fields"]')" '{}'
expect_eq t4-event "$(field 4 '[e["detail"] for e in j["events"] if e["kind"]=="escalated"][0]')" \
  'escalate level 2 reason outage keyword (./rules/20-outage.rules:5)'
send 'hello' 'x@customer.org' 'body' 'X-Priority: 1 (Highest)'
expect_eq t5-header "$(field 5 'j["tags"]')" "['outage']"
send 'my order' 'y@customer.org' 'Order #87654321 please'
expect_eq t6-capture "$(field 6 'j["fields"]["order"]')" 87654321
expect_eq t6-tags "$(field 6 'j["tags"]')" "['order']"
pass "queues, priorities, tags, fields, escalation with audit events"

# Catastrophic backtracking: the rule is skipped, the message ticketed.
long=$(head -c 100000 /dev/zero | tr '\0' a)
send 'runaway' 'z@customer.org' "${long}b"
expect_eq runaway-ticketed "$(field 7 'j["subject"]')" runaway
expect_eq runaway-tags "$(field 7 'j["tags"]')" '[]'
grep -q 'rule skipped: ./rules/20-outage.rules:15' deliver.log || fail "no skipped-rule warning: $(tail -3 deliver.log)"
pass "runaway regex skipped, message ticketed"

# A rule quarantines.
send '[SPAM] win' 's@spam.example' 'buy'
expect_eq spam-quarantined "$("$TG" spool list --quarantine --json | tg_json 'j[0]["reason"]')" 'rule tagged as spam upstream'
expect_eq spam-no-ticket "$("$TG" ticket list --json | tg_json 'len(j)')" 7
pass "rule quarantine"

# Dry run of one file.
printf 'From: a@b.org\nSubject: receipt please\n\nhi\n' > one.eml
out=$("$TG" rules test one.eml --json)
expect_eq dry-queue "$(echo "$out" | tg_json 'j["queue"]')" billing
expect_eq dry-match "$(echo "$out" | tg_json 'j["matched"][0]["file"]+":"+str(j["matched"][0]["line"])')" './rules/10-billing.rules:1'
"$TG" rules test one.eml | grep -q '^matched  ./rules/10-billing.rules:1  "billing questions"' || fail "text dry run"
expect_eq dry-no-store "$("$TG" ticket list --json | tg_json 'len(j)')" 7

# Replay stored mail with a candidate rule set.
cp -r rules newrules
sed -i 's/set priority high/set priority urgent/' newrules/10-billing.rules
out=$("$TG" rules test --stored --dir newrules)
echo "$out" | grep -q '^ticket 1 message 1: priority high -> urgent$' || fail "stored replay: $out"
echo "$out" | grep -q '^ticket 2 message 2: priority high -> urgent$' || fail "stored replay 2: $out"
echo "$out" | grep -Eq '^  priority urgent +2$' || fail "no tally: $out"
expect_eq stored-json "$("$TG" rules test --stored --dir newrules --json | tg_json 'len(j)')" 2
pass "rules test and rules test --stored"

# check reports every error with file:line:col and keeps going.
mkdir bad
printf 'rule "x"\n    when subject ~ /(unclosed/\n    set queue q\n\nrule "y"\n    when nonsense ~ /a/\n    tag t\n' > bad/10-bad.rules
printf '[gateway]\ndata_dir = ./var\n[rules]\ndir = ./bad\n' > bad.conf
rc=0; "$TG" -c bad.conf check 2> check.err || rc=$?
expect_eq check-exit "$rc" 78
grep -q '^./bad/10-bad.rules:2:' check.err || fail "no regex error: $(cat check.err)"
grep -q '^./bad/10-bad.rules:6:' check.err || fail "no field error: $(cat check.err)"
# A broken rule set refuses delivery temporarily instead of misrouting.
rc=0; printf 'From: a@b\nSubject: s\n\nb\n' | "$TG" -c bad.conf deliver --recipient support@localhost 2>/dev/null || rc=$?
expect_eq broken-rules-deliver "$rc" 75
# Names a rule uses from elsewhere must exist: an unknown policy would put
# tickets on the `standard` ladder, an unknown template would send nothing.
mkdir refs
printf 'rule "r"\n    when subject ~ /x/\n    set policy gold\n    reply no-such-template\n    reply ack\n' > refs/10-refs.rules
printf '[gateway]\ndata_dir = ./var\n[rules]\ndir = ./refs\n' > refs.conf
rc=0; "$TG" -c refs.conf check 2> refs.err || rc=$?
expect_eq refs-exit "$rc" 78
grep -q '^./refs/10-refs.rules:3: set policy gold: no such escalation policy$' refs.err || fail "no policy check: $(cat refs.err)"
grep -q '^./refs/10-refs.rules:4: reply no-such-template: no such template$' refs.err || fail "no template check: $(cat refs.err)"
grep -q 'reply ack' refs.err && fail "an existing template was reported"
pass "check diagnostics"
