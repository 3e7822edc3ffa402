/*
 * tests/filters/test_rules.c — parser and matcher of the rule language.
 *
 * Table-driven: every parser error and warning with its exact
 * `file:line:col: message`, matcher cases (Japanese, any/not, captures,
 * provenance), PCRE2 limits and catastrophic backtracking, the prefilter
 * against a prefilter-free run, and hostile input (truncation, NUL bytes,
 * invalid UTF-8, huge lines, random bytes) that must never crash.
 */
#include "filters/rule_priv.h" /* lazy JIT: looks at the compiled patterns */
#include "filters/rules.h"

#include <glib/gstdio.h>
#include <string.h>

/* ---- helpers ------------------------------------------------------------ */

static char *
join_diags(GPtrArray *diags)
{
  GString *s = g_string_new(NULL);
  for (guint i = 0; diags != NULL && i < diags->len; i++) {
    g_autofree char *line = tg_rule_diag_format(g_ptr_array_index(diags, i));
    g_string_append_printf(s, "%s%s", i ? "\n" : "", line);
  }
  return g_string_free(s, FALSE);
}

static TgRuleset *
load_text(const char *text, gssize len, GPtrArray **diags_r, GError **error)
{
  TgRuleSource src = { "t.rules", text, len };
  return tg_ruleset_load_sources(&src, 1, NULL, diags_r, error);
}

static TgRuleset *
must_load(const char *text)
{
  g_autoptr(GPtrArray) diags = NULL;
  g_autoptr(GError) error = NULL;
  TgRuleset *rs = load_text(text, -1, &diags, &error);
  g_autofree char *all = join_diags(diags);
  if (rs == NULL)
    g_error("load failed: %s\n%s", error->message, all);
  return rs;
}

static const char *
source_dir(void)
{
  const char *d = g_getenv("TG_SOURCE_DIR");
  return d != NULL ? d : TG_TEST_SOURCE_DIR;
}

/* ---- parser errors ------------------------------------------------------ */

typedef struct {
  const char *name;
  const char *text;
  const char *expect; /* all diagnostics, newline separated */
} ParseCase;

static const ParseCase error_cases[] = {
  { "regex-missing-paren", "rule \"x\"\n    when subject ~ /(foo/\n    tag a\n",
    "t.rules:2:25: invalid regex: missing closing parenthesis" },
  { "regex-column-japanese", "rule \"x\"\n    when subject ~ /請求書(/\n    tag a\n",
    "t.rules:2:25: invalid regex: missing closing parenthesis" },
  { "regex-bad-escape-mid", "rule \"x\"\n\twhen body ~ /ab\\kc/\n\ttag a\n",
    "t.rules:2:19: invalid regex: \\k is not followed by a braced, angle-bracketed, or quoted name" },
  { "regex-bad-quantifier", "rule \"x\"\n    when subject ~ /*x/\n    tag a\n",
    "t.rules:2:21: invalid regex: quantifier does not follow a repeatable item" },
  { "regex-unterminated", "rule \"x\"\n    when subject ~ /abc\n    tag a\n",
    "t.rules:2:20: unterminated regex (missing closing /)" },
  { "regex-flag", "rule \"x\"\n    when subject ~ /abc/iq\n    tag a\n",
    "t.rules:2:26: unknown regex flag 'q' (expected i, m, s or x)" },
  { "regex-missing", "rule \"x\"\n    when subject ~ abc\n    tag a\n",
    "t.rules:2:20: expected /regex/ after the operator, found 'abc'" },
  { "operator-missing", "rule \"x\"\n    when subject /abc/\n    tag a\n",
    "t.rules:2:18: expected ~ or !~ after subject, found '/'" },
  { "trailing-garbage", "rule \"x\"\n    when subject ~ /abc/ extra\n    tag a\n",
    "t.rules:2:26: unexpected 'extra' at end of statement" },
  { "unknown-condition", "rule \"x\"\n    when colour ~ /red/\n    tag a\n",
    "t.rules:2:10: unknown condition 'colour'" },
  { "action-in-any-block", "rule \"x\"\n    when any\n        subject ~ /a/\n        tag a\n",
    "t.rules:4:9: unknown condition 'tag' (an action cannot be indented under \"when any\")" },
  { "empty-any", "rule \"x\"\n    when any\n    tag a\n",
    "t.rules:2:5: \"when any\" needs at least one condition indented below it" },
  { "empty-any-at-eof", "rule \"x\"\n    tag a\n    when not any\n",
    "t.rules:3:5: \"when any\" needs at least one condition indented below it" },
  { "expected-condition", "rule \"x\"\n    when ~ /a/\n    tag a\n",
    "t.rules:2:10: expected a condition, found '~'" },
  { "is-what", "rule \"x\"\n    when is old\n    tag a\n",
    "t.rules:2:13: expected new or reply after is, found 'old'" },
  { "size-op", "rule \"x\"\n    when size = 10\n    tag a\n",
    "t.rules:2:15: expected >, >=, < or <= after size" },
  { "size-value", "rule \"x\"\n    when size > 10X\n    tag a\n",
    "t.rules:2:17: expected a size such as 500, 100K or 10M" },
  { "size-overflow", "rule \"x\"\n    when size > 99999999999999999999\n    tag a\n",
    "t.rules:2:17: size is too large" },
  { "size-overflow-suffix", "rule \"x\"\n    when size > 99999999999999G\n    tag a\n",
    "t.rules:2:17: size is too large" },
  { "attachment-what", "rule \"x\"\n    when attachment size ~ /a/\n    tag a\n",
    "t.rules:2:21: expected filename or type after attachment, found 'size'" },
  { "header-name", "rule \"x\"\n    when header \"X: y\" ~ /a/\n    tag a\n",
    "t.rules:2:10: invalid header name \"X: y\"" },
  { "header-missing", "rule \"x\"\n    when header ~ /a/\n    tag a\n",
    "t.rules:2:17: expected a header name, found '~'" },
  { "no-rule-name", "rule billing\n    tag a\n",
    "t.rules:1:6: expected the rule name in double quotes after rule, found 'billing'" },
  { "empty-rule-name", "rule \"\"\n    tag a\n", "t.rules:1:6: rule name must not be empty" },
  { "unterminated-string", "rule \"billing\n    tag a\n", "t.rules:1:6: unterminated string (missing closing \")" },
  { "string-escape", "rule \"a\\nb\"\n    tag a\n",
    "t.rules:1:8: unknown escape in string (only \\\" and \\\\ are allowed)" },
  { "outside-rule", "when subject ~ /a/\ntag x\n",
    "t.rules:1:1: 'when' outside a rule (start one with rule \"NAME\")\n"
    "t.rules:2:1: 'tag' outside a rule (start one with rule \"NAME\")" },
  { "condition-without-when", "rule \"x\"\n    subject ~ /a/\n    tag a\n",
    "t.rules:2:5: unknown statement 'subject' (conditions start with when)" },
  { "unknown-statement", "rule \"x\"\n    frobnicate\n    tag a\n", "t.rules:2:5: unknown statement 'frobnicate'" },
  { "expected-statement", "rule \"x\"\n    = 3\n    tag a\n", "t.rules:2:5: expected a statement, found '='" },
  { "set-what", "rule \"x\"\n    set colour red\n", "t.rules:2:9: unknown setting 'colour' (expected queue, priority, policy or field)" },
  { "set-queue-missing", "rule \"x\"\n    set queue\n", "t.rules:2:14: expected a queue name, found end of line" },
  { "set-queue-empty", "rule \"x\"\n    set queue \"\"\n", "t.rules:2:15: a queue name must not be empty" },
  { "priority", "rule \"x\"\n    set priority 高\n",
    "t.rules:2:18: unknown priority '高' (expected low, normal, high or urgent)" },
  { "field-name", "rule \"x\"\n    set field a.b = \"c\"\n",
    "t.rules:2:15: invalid field name 'a.b' (letters, digits, - and _ only)" },
  { "field-equals", "rule \"x\"\n    set field a \"c\"\n", "t.rules:2:17: expected = after the field name, found '\"'" },
  { "unknown-capture", "rule \"x\"\n    when subject ~ /(?<id>\\d+)/\n    set field a = \"${order}\"\n",
    "t.rules:3:19: unknown capture ${order}: no pattern of rule \"x\" has a group (?<order>...)" },
  { "capture-unterminated", "rule \"x\"\n    set field a = \"${order\"\n", "t.rules:2:19: unterminated ${ in string" },
  { "capture-bad-name", "rule \"x\"\n    tag \"${1x}\"\n", "t.rules:2:9: invalid capture name in ${...}" },
  { "escalate-what", "rule \"x\"\n    escalate now\n", "t.rules:2:14: expected level N or to ADDRESS after escalate, found 'now'" },
  { "escalate-level", "rule \"x\"\n    escalate level 0\n", "t.rules:2:20: escalation level must be a number from 1 to 99" },
  { "escalate-reason", "rule \"x\"\n    escalate to boss@example.com reason urgent\n",
    "t.rules:2:41: expected a \"quoted\" reason, found 'urgent'" },
  { "reply-template", "rule \"x\"\n    reply ../../etc/passwd\n",
    "t.rules:2:11: invalid template name '..' (letters, digits, - and _ only)" },
  { "stop-args", "rule \"x\"\n    stop now\n", "t.rules:2:10: unexpected 'now' at end of statement" },
  { "invalid-utf8", "rule \"x\"\n    tag a\xff\n", "t.rules:2:10: invalid UTF-8" },
  { "nul-byte", "rule \"x\"\n    tag a\n# c\0mment\n", "t.rules:3:4: NUL byte in rule file" },
  { "all-errors-reported",
    "rule \"a\"\n    when subject ~ /(/\n    set priority extreme\nrule \"b\"\n    when body ~ /[/\n    escalate level 100\n",
    "t.rules:2:22: invalid regex: missing closing parenthesis\n"
    "t.rules:3:18: unknown priority 'extreme' (expected low, normal, high or urgent)\n"
    "t.rules:5:19: invalid regex: missing terminating ] for character class\n"
    "t.rules:6:20: escalation level must be a number from 1 to 99" },
};

static void
test_parse_error(gconstpointer data)
{
  const ParseCase *c = data;
  gsize len = strlen(c->text);
  if (strcmp(c->name, "nul-byte") == 0)
    len += 1 + strlen(c->text + len + 1) ; /* the text continues after its NUL */
  g_autoptr(GPtrArray) diags = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(TgRuleset) rs = load_text(c->text, (gssize)len, &diags, &error);
  g_assert_null(rs);
  g_assert_error(error, TG_RULES_ERROR, TG_RULES_ERROR_INVALID);
  g_autofree char *got = join_diags(diags);
  g_assert_cmpstr(got, ==, c->expect);
}

/* ---- warnings (the set still loads) ------------------------------------- */

static const ParseCase warning_cases[] = {
  { "no-actions", "rule \"x\"\n    when subject ~ /a/\n", "t.rules:1:1: warning: rule \"x\" has no actions" },
  { "duplicate-name", "rule \"x\"\n    tag a\n\nrule \"x\"\n    tag b\n",
    "t.rules:4:1: warning: duplicate rule name \"x\" (first defined at t.rules:1)" },
  { "after-unconditional-stop",
    "rule \"catch all\"\n    set queue general\n    stop\nrule \"late\"\n    when subject ~ /a/\n    tag a\n",
    "t.rules:4:1: warning: rule \"late\" can never fire: rule \"catch all\" at t.rules:1 always stops" },
  { "new-and-reply", "rule \"x\"\n    when is new\n    when is reply\n    tag a\n",
    "t.rules:3:10: warning: rule \"x\" can never fire: it requires the message to be both new and a reply" },
  { "new-and-not-new", "rule \"x\"\n    when is new\n    when not is new\n    tag a\n",
    "t.rules:3:10: warning: rule \"x\" can never fire: it requires the message to be both new and a reply" },
  { "staff-and-not", "rule \"x\"\n    when from staff\n    when not from staff\n    tag a\n",
    "t.rules:3:10: warning: rule \"x\" can never fire: it requires the sender to be staff and not staff" },
  { "size-range", "rule \"x\"\n    when size > 10M\n    when size < 1M\n    tag a\n",
    "t.rules:3:10: warning: rule \"x\" can never fire: no message size satisfies its size conditions" },
  { "size-zero", "rule \"x\"\n    when size < 0\n    tag a\n",
    "t.rules:2:10: warning: rule \"x\" can never fire: no message size satisfies its size conditions" },
  { "match-and-not", "rule \"x\"\n    when header \"X-A\" ~ /yes/i\n    when header \"x-a\" !~ /yes/i\n    tag a\n",
    "t.rules:3:10: warning: rule \"x\" can never fire: header must both match and not match /yes/" },
  { "different-flags-ok", "rule \"x\"\n    when subject ~ /yes/i\n    when subject !~ /yes/\n    tag a\n", "" },
  { "crlf-and-bom", "\xEF\xBB\xBFrule \"x\"\r\n    when subject ~ /a/\r\n    tag a\r\n", "" },
  { "comments", "# head\nrule \"x\" # trailing\n    # indented\n    when subject ~ /#not a comment/ # but this is\n    tag a\n", "" },
};

static void
test_parse_warning(gconstpointer data)
{
  const ParseCase *c = data;
  g_autoptr(GPtrArray) diags = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(TgRuleset) rs = load_text(c->text, -1, &diags, &error);
  g_autofree char *got = join_diags(diags);
  g_assert_no_error(error);
  g_assert_nonnull(rs);
  g_assert_cmpstr(got, ==, c->expect);
}

/* ---- matcher ------------------------------------------------------------ */

typedef struct {
  const char *from, *from_name, *to, *subject, *body;
  const char *hname, *hvalue;
  const char *att_name, *att_type;
  guint64 size;
  gboolean is_reply, from_staff;
} Msg;

static void
msg_to_input(const Msg *m, TgRuleInput *in, TgRuleAddress *to, TgRuleHeader *h, TgRuleAttachment *att)
{
  memset(in, 0, sizeof *in);
  in->from.address = m->from;
  in->from.name = m->from_name;
  if (m->to != NULL) {
    to->address = m->to;
    to->name = NULL;
    in->to = to;
    in->n_to = 1;
  }
  in->recipient = "support@localhost";
  in->sender = m->from;
  in->subject = m->subject;
  in->body = m->body;
  in->body_len = -1;
  if (m->hname != NULL) {
    h->name = m->hname;
    h->value = m->hvalue;
    in->headers = h;
    in->n_headers = 1;
  }
  if (m->att_type != NULL) {
    att->filename = m->att_name;
    att->content_type = m->att_type;
    in->attachments = att;
    in->n_attachments = 1;
  }
  in->size = m->size;
  in->is_reply = m->is_reply;
  in->from_staff = m->from_staff;
}

static gint
strcmp_p(gconstpointer a, gconstpointer b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A compact, stable description of a result for table comparisons. */
static char *
summarize(const TgRuleResult *r)
{
  GString *s = g_string_new("matched=");
  for (guint i = 0; i < r->matches->len; i++) {
    const TgRuleMatch *m = g_ptr_array_index(r->matches, i);
    g_string_append_printf(s, "%s%s", i ? "," : "", m->rule);
  }
  if (r->queue)
    g_string_append_printf(s, " queue=%s", r->queue);
  if (r->priority)
    g_string_append_printf(s, " priority=%s", r->priority);
  if (r->policy)
    g_string_append_printf(s, " policy=%s", r->policy);
  for (guint i = 0; i < r->tags_added->len; i++)
    g_string_append_printf(s, " +%s", (char *)g_ptr_array_index(r->tags_added, i));
  for (guint i = 0; i < r->tags_removed->len; i++)
    g_string_append_printf(s, " -%s", (char *)g_ptr_array_index(r->tags_removed, i));
  g_autoptr(GPtrArray) keys = g_ptr_array_new();
  GHashTableIter it;
  gpointer k;
  g_hash_table_iter_init(&it, r->fields);
  while (g_hash_table_iter_next(&it, &k, NULL))
    g_ptr_array_add(keys, k);
  g_ptr_array_sort(keys, strcmp_p);
  for (guint i = 0; i < keys->len; i++)
    g_string_append_printf(s, " %s=%s", (char *)keys->pdata[i],
                           (char *)g_hash_table_lookup(r->fields, keys->pdata[i]));
  if (r->assign)
    g_string_append_printf(s, " assign=%s", r->assign);
  if (r->escalate)
    g_string_append_printf(s, " escalate=%s:%s", r->escalate_to ? r->escalate_to : "",
                           r->escalate_reason ? r->escalate_reason : "");
  if (r->escalate && r->escalate_level)
    g_string_append_printf(s, " level=%u", r->escalate_level);
  for (guint i = 0; i < r->replies->len; i++)
    g_string_append_printf(s, " reply=%s", (char *)g_ptr_array_index(r->replies, i));
  if (r->noreply)
    g_string_append(s, " noreply");
  if (r->quarantine_reason)
    g_string_append_printf(s, " quarantine=%s", r->quarantine_reason);
  if (r->stopped)
    g_string_append(s, " stop");
  return g_string_free(s, FALSE);
}

static const char *const issue_rules =
  "# 10-billing.rules\n"
  "rule \"billing questions\"\n"
  "    when subject ~ /invoice|receipt|請求書|領収書/i\n"
  "    when from !~ /@example\\.com$/\n"
  "    set queue billing\n"
  "    set priority high\n"
  "\n"
  "rule \"outage escalates at once\"\n"
  "    when any\n"
  "        subject ~ /outage|down|障害|至急/i\n"
  "        header \"X-Priority\" ~ /^1/\n"
  "    escalate level 2 reason \"outage keyword\"\n"
  "    tag outage\n"
  "    stop\n"
  "\n"
  "rule \"order number\"\n"
  "    when body ~ /order\\s*(?:no\\.?|#)\\s*(?<order>\\d{8})/i\n"
  "    tag order\n"
  "    set field order = \"${order}\"\n";

static const char *const misc_rules =
  "rule \"staff reply\"\n"
  "    when is reply\n"
  "    when from staff\n"
  "    untag waiting\n"
  "    noreply\n"
  "rule \"new from customer\"\n"
  "    when is new\n"
  "    when not from staff\n"
  "    tag waiting\n"
  "    reply ack\n"
  "rule \"big pdf\"\n"
  "    when size >= 1M\n"
  "    when attachment type ~ /^application\\/pdf$/\n"
  "    when attachment filename ~ /\\.pdf$/i\n"
  "    tag big-pdf\n"
  "rule \"none of\"\n"
  "    when not any\n"
  "        subject ~ /hello/i\n"
  "        body ~ /hello/i\n"
  "    tag no-hello\n"
  "rule \"display name\"\n"
  "    when from name ~ /^鈴木/\n"
  "    assign suzuki@example.com\n"
  "    escalate to lead@example.com reason \"VIP ${who}\"\n"
  "    when from name ~ /^(?<who>\\p{Han}+)/\n"
  "rule \"quarantine\"\n"
  "    when body ~ /\\bviagra\\b/i\n"
  "    quarantine\n"
  "rule \"to\"\n"
  "    when to ~ /^sales@/\n"
  "    set queue sales\n"
  "    set policy gold\n";

typedef struct {
  const char *name;
  const char *const *rules;
  Msg msg;
  const char *expect;
} MatchCase;

static const MatchCase match_cases[] = {
  { "billing-english", &issue_rules, { .from = "a@customer.jp", .subject = "Your Invoice 42" },
    "matched=billing questions queue=billing priority=high" },
  { "billing-japanese", &issue_rules, { .from = "a@customer.jp", .subject = "【ご確認】請求書の再発行について" },
    "matched=billing questions queue=billing priority=high" },
  { "billing-excluded-domain", &issue_rules, { .from = "staff@example.com", .subject = "invoice" },
    "matched=" },
  { "outage-japanese-stops", &issue_rules,
    { .from = "a@b.jp", .subject = "至急：サーバー障害", .body = "order no. 12345678" },
    "matched=outage escalates at once +outage escalate=:outage keyword level=2 stop" },
  { "outage-by-header", &issue_rules, { .from = "a@b.jp", .subject = "hi", .hname = "x-priority", .hvalue = "1 (Highest)" },
    "matched=outage escalates at once +outage escalate=:outage keyword level=2 stop" },
  { "order-capture", &issue_rules, { .from = "a@b.jp", .subject = "question", .body = "About ORDER # 20240131, thanks" },
    "matched=order number +order order=20240131" },
  { "order-no-body", &issue_rules, { .from = "a@b.jp", .subject = "question" }, "matched=" },
  { "both", &issue_rules, { .from = "x@y.com", .subject = "receipt", .body = "order no 11112222" },
    "matched=billing questions,order number queue=billing priority=high +order order=11112222" },
  { "staff-reply", &misc_rules, { .from = "s@example.com", .subject = "hello", .is_reply = TRUE, .from_staff = TRUE },
    "matched=staff reply -waiting noreply" },
  { "new-customer", &misc_rules, { .from = "c@example.org", .subject = "Hello", .body = "hello" },
    "matched=new from customer +waiting reply=ack" },
  { "not-any", &misc_rules, { .from = "c@example.org", .subject = "Question", .body = "Bonjour", .is_reply = TRUE },
    "matched=none of +no-hello" },
  { "not-any-absent-fields", &misc_rules, { .from = "c@example.org", .is_reply = TRUE }, "matched=none of +no-hello" },
  { "big-pdf", &misc_rules,
    { .from = "c@example.org", .subject = "hello", .att_name = "SPEC.PDF", .att_type = "application/pdf", .size = 2 << 20, .is_reply = TRUE },
    "matched=big pdf +big-pdf" },
  { "small-pdf", &misc_rules,
    { .from = "c@example.org", .subject = "hello", .att_name = "a.pdf", .att_type = "application/pdf", .size = 1000, .is_reply = TRUE },
    "matched=" },
  { "display-name-capture", &misc_rules,
    { .from = "ichiro@example.jp", .from_name = "鈴木一郎", .subject = "hello", .is_reply = TRUE },
    "matched=display name assign=suzuki@example.com escalate=lead@example.com:VIP 鈴木一郎" },
  { "quarantine-default-reason", &misc_rules, { .from = "x@spam", .subject = "hello", .body = "Buy VIAGRA now", .is_reply = TRUE },
    "matched=quarantine quarantine=rule \"quarantine\"" },
  { "to-field", &misc_rules, { .from = "x@y", .to = "sales@corp.example", .subject = "hello", .is_reply = TRUE },
    "matched=to queue=sales policy=gold" },
};

static void
test_match(gconstpointer data)
{
  const MatchCase *c = data;
  g_autoptr(TgRuleset) rs = must_load(*c->rules);
  TgRuleInput in;
  TgRuleAddress to;
  TgRuleHeader h;
  TgRuleAttachment att;
  msg_to_input(&c->msg, &in, &to, &h, &att);
  for (int flags = 0; flags < 4; flags++) {
    g_autoptr(TgRuleResult) r = NULL;
    tg_ruleset_eval_full(rs, &in, flags, &r);
    g_autofree char *got = summarize(r);
    g_assert_cmpstr(got, ==, c->expect);
    g_assert_cmpuint(r->warnings->len, ==, 0);
  }
}

/* ---- provenance, captures, JSON ----------------------------------------- */

static void
test_provenance(void)
{
  g_autoptr(TgRuleset) rs = must_load(issue_rules);
  TgRuleInput in = { .from.address = "x@y.com", .subject = "receipt", .body = "order no 11112222", .body_len = -1 };
  g_autoptr(TgRuleResult) r = NULL;
  tg_ruleset_eval(rs, &in, &r);
  g_assert_cmpuint(r->matches->len, ==, 2);
  const TgRuleMatch *m = g_ptr_array_index(r->matches, 1);
  g_assert_cmpstr(m->rule, ==, "order number");
  g_assert_cmpstr(m->file, ==, "t.rules");
  g_assert_cmpuint(m->line, ==, 16);
  g_assert_cmpstr(g_hash_table_lookup(m->captures, "order"), ==, "11112222");
  g_assert_cmpstr(g_hash_table_lookup(r->captures, "order"), ==, "11112222");
  g_assert_cmpuint(r->actions->len, ==, 4);
  const TgRuleAction *a0 = g_ptr_array_index(r->actions, 0);
  g_assert_cmpstr(a0->action, ==, "set queue");
  g_assert_cmpstr(a0->value, ==, "billing");
  g_assert_cmpstr(a0->rule, ==, "billing questions");
  g_assert_cmpuint(a0->line, ==, 5);
  const TgRuleAction *a3 = g_ptr_array_index(r->actions, 3);
  g_assert_cmpstr(a3->action, ==, "set field");
  g_assert_cmpstr(a3->name, ==, "order");
  g_assert_cmpstr(a3->value, ==, "11112222");
  g_assert_cmpuint(a3->line, ==, 19);

  g_autofree char *json = tg_rule_result_json_string(r, FALSE);
  g_assert_cmpstr(json, ==,
                  "{\"matched\":[{\"rule\":\"billing questions\",\"file\":\"t.rules\",\"line\":2,\"captures\":{}},"
                  "{\"rule\":\"order number\",\"file\":\"t.rules\",\"line\":16,\"captures\":{\"order\":\"11112222\"}}],"
                  "\"queue\":\"billing\",\"priority\":\"high\",\"policy\":null,\"fields\":{\"order\":\"11112222\"},"
                  "\"tags_added\":[\"order\"],\"tags_removed\":[],\"assign\":null,\"escalate\":null,\"replies\":[],"
                  "\"noreply\":false,\"quarantine\":null,\"stopped\":false,\"captures\":{\"order\":\"11112222\"},"
                  "\"actions\":[{\"action\":\"set queue\",\"value\":\"billing\",\"rule\":\"billing questions\",\"file\":\"t.rules\",\"line\":5},"
                  "{\"action\":\"set priority\",\"value\":\"high\",\"rule\":\"billing questions\",\"file\":\"t.rules\",\"line\":6},"
                  "{\"action\":\"tag\",\"value\":\"order\",\"rule\":\"order number\",\"file\":\"t.rules\",\"line\":18},"
                  "{\"action\":\"set field\",\"name\":\"order\",\"value\":\"11112222\",\"rule\":\"order number\",\"file\":\"t.rules\",\"line\":19}],"
                  "\"warnings\":[]}");
}

static void
test_later_rule_wins_and_untag(void)
{
  g_autoptr(TgRuleset) rs = must_load("rule \"a\"\n    set queue one\n    tag x y\n    reply r1\n"
                                      "rule \"b\"\n    set queue two\n    untag x\n    reply r1\n    reply r2\n"
                                      "    set field f = \"$${literal} $5\"\n");
  TgRuleInput in = { 0 };
  g_autoptr(TgRuleResult) r = NULL;
  tg_ruleset_eval(rs, &in, &r);
  g_autofree char *got = summarize(r);
  g_assert_cmpstr(got, ==, "matched=a,b queue=two +y -x f=${literal} $5 reply=r1 reply=r2");
}

/* ---- limits and catastrophic backtracking ------------------------------- */

static void
test_catastrophic_backtracking(gconstpointer data)
{
  TgRuleEvalFlags flags = GPOINTER_TO_INT(data);
  g_autoptr(TgRuleset) rs = must_load("rule \"evil\"\n    when body ~ /(a+)+$/\n    tag evil\n"
                                      "rule \"after\"\n    when body ~ /b$/\n    tag after\n");
  gsize n = 100000;
  g_autofree char *body = g_malloc(n + 2);
  memset(body, 'a', n);
  body[n] = 'b';
  body[n + 1] = '\0';
  TgRuleInput in = { .body = body, .body_len = -1 };
  g_autoptr(TgRuleResult) r = NULL;
  gint64 t0 = g_get_monotonic_time();
  tg_ruleset_eval_full(rs, &in, flags, &r);
  gint64 us = g_get_monotonic_time() - t0;
  g_test_message("(a+)+$ over 100k: %" G_GINT64_FORMAT " us", us);
  g_assert_cmpint(us, <, 1000000);
  g_autofree char *got = summarize(r);
  g_assert_cmpstr(got, ==, "matched=after +after");
  g_assert_cmpuint(r->warnings->len, ==, 1);
  g_autofree char *w = tg_rule_diag_format(g_ptr_array_index(r->warnings, 0));
  g_assert_true(g_str_has_prefix(w, "t.rules:2:10: warning: rule \"evil\" skipped: matching body against /(a+)+$/ failed: "));
  g_assert_nonnull(strstr(w, "limit"));
}

static void
test_limit_options(void)
{
  /* A tiny match limit makes even a modest pattern fail: the rule is skipped,
   * the negated rule is skipped too (an error is not a "no match" that `!~`
   * could turn into a match), and the message goes on. */
  TgRuleSource src = { "t.rules",
                       "rule \"a\"\n    when body ~ /(x|y)*\\d/\n    tag a\n"
                       "rule \"b\"\n    when body !~ /(x|y)*\\d/\n    tag b\n"
                       "rule \"c\"\n    tag c\n",
                       -1 };
  TgRuleLoadOptions opts = { .match_limit = 10, .no_jit = TRUE };
  g_autoptr(TgRuleset) rs = tg_ruleset_load_sources(&src, 1, &opts, NULL, NULL);
  g_assert_nonnull(rs);
  g_assert_false(tg_ruleset_jit_ok(rs));
  TgRuleInput in = { .body = "xyxyxyxyxyxyxyxyxyxyxyxyxyxyxyxyxyxyxyxyxyxyxyq", .body_len = -1 };
  g_autoptr(TgRuleResult) r = NULL;
  tg_ruleset_eval(rs, &in, &r);
  g_autofree char *got = summarize(r);
  g_assert_cmpstr(got, ==, "matched=c +c");
  g_assert_cmpuint(r->warnings->len, ==, 2);
  g_autofree char *w = tg_rule_diag_format(g_ptr_array_index(r->warnings, 0));
  g_assert_cmpstr(w, ==, "t.rules:2:10: warning: rule \"a\" skipped: matching body against /(x|y)*\\d/ failed: match limit exceeded");
}

static void
test_invalid_utf8_input(void)
{
  g_autoptr(TgRuleset) rs = must_load("rule \"s\"\n    when subject ~ /a/\n    tag s\n"
                                      "rule \"b\"\n    when body ~ /b/\n    tag b\n");
  TgRuleInput in = { .subject = "a\xff\xfe", .body = "b\0b", .body_len = 3 };
  g_autoptr(TgRuleResult) r = NULL;
  tg_ruleset_eval(rs, &in, &r);
  g_autofree char *got = summarize(r);
  g_assert_cmpstr(got, ==, "matched=b +b");
  g_assert_cmpuint(r->warnings->len, ==, 1);
  g_autofree char *w = tg_rule_diag_format(g_ptr_array_index(r->warnings, 0));
  g_assert_cmpstr(w, ==, "input: warning: subject is not valid UTF-8; rules matching it are skipped");
}

/* ---- the prefilter never changes the outcome ----------------------------- */

static void
test_prefilter_differential(void)
{
  static const char *const patterns[] = {
    "invoice|receipt", "kelvin", "KELVIN", "ſtop", "stop", "請求書|領収書", "café", "CAFÉ", "abc?d",
    "ab*cdef", "a(?:b|c)def", "\\.pdf$", "[x]yz|wxyz", "foo\\b", "(?i)upper", "x{2}yz", "order\\s*#",
    "\\Qa.b\\E", "o\\x{72}der", "(?=abc)abc", "abc+d", "a\\-b\\-c", "\\p{Han}{2}", "a|bcd", "(ab)cde",
    "ab(?#x)cde", "[[:alpha:]]bcd", "x\\d?yz", "rec(?:e|ie)pt", "hello world",
  };
  static const char *const flags[] = { "", "i" };
  static const char *const subjects[] = {
    "Invoice", "INVOICE 1", "the \xE2\x84\xAA" "elvin scale", "KELVIN", "kelvin", "\xC5\xBFtop", "STOP",
    "stop", "請求書", "領収書を", "CAFÉ", "café", "Café", "abd", "abcd", "acdef", "abbbbcdef", "abdef", "acdef",
    "x.PDF", "x.pdf", "xyz", "wxyz", "foo bar", "foobar", "UPPER", "xxyz", "ORDER #", "a.b", "order",
    "abcd", "abcccd", "a-b-c", "漢字", "bcd", "a", "abcde", "bbcd", "xyz", "x1yz", "RECIEPT", "receipt",
    "Hello World", "",
  };
  GString *text = g_string_new(NULL);
  guint n = 0;
  for (gsize p = 0; p < G_N_ELEMENTS(patterns); p++)
    for (gsize f = 0; f < G_N_ELEMENTS(flags); f++)
      g_string_append_printf(text, "rule \"r%u\"\n    when subject ~ /%s/%s\n    tag t%u\n", n, patterns[p],
                             flags[f], n), n++;
  g_autoptr(TgRuleset) rs = must_load(text->str);
  g_string_free(text, TRUE);
  for (gsize s = 0; s < G_N_ELEMENTS(subjects); s++) {
    TgRuleInput in = { .subject = subjects[s] };
    g_autoptr(TgRuleResult) with = NULL, without = NULL;
    tg_ruleset_eval_full(rs, &in, TG_RULE_EVAL_DEFAULT, &with);
    tg_ruleset_eval_full(rs, &in, TG_RULE_EVAL_NO_PREFILTER | TG_RULE_EVAL_NO_JIT, &without);
    g_autofree char *a = summarize(with);
    g_autofree char *b = summarize(without);
    g_assert_cmpstr(a, ==, b);
  }
}

/* ---- loading directories ------------------------------------------------ */

static void
test_examples_load_cleanly(void)
{
  g_autofree char *dir = g_build_filename(source_dir(), "filters", "examples", NULL);
  g_autoptr(GPtrArray) diags = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(TgRuleset) rs = tg_ruleset_load_dir(dir, NULL, &diags, &error);
  g_autofree char *all = join_diags(diags);
  g_assert_no_error(error);
  g_assert_nonnull(rs);
  g_assert_cmpstr(all, ==, "");
  g_assert_cmpuint(tg_ruleset_n_rules(rs), >=, 8);

  /* And they route: an English order mail and a Japanese outage. */
  TgRuleInput order = { .from.address = "c@shop.example", .subject = "Where is my parcel?",
                        .body = "Hello, my order number: 12345678 has not arrived.", .body_len = -1 };
  g_autoptr(TgRuleResult) r1 = NULL;
  tg_ruleset_eval(rs, &order, &r1);
  g_assert_cmpstr(g_hash_table_lookup(r1->fields, "order"), ==, "12345678");
  TgRuleInput outage = { .from.address = "c@shop.example", .subject = "【至急】ログインできません（障害？）" };
  g_autoptr(TgRuleResult) r2 = NULL;
  tg_ruleset_eval(rs, &outage, &r2);
  g_assert_cmpstr(r2->queue, ==, "ops");
  g_assert_cmpstr(r2->priority, ==, "urgent");
  g_assert_true(r2->escalate);
  g_assert_true(r2->stopped);
  TgRuleInput jorder = { .from.address = "c@shop.example", .subject = "注文について",
                         .body = "注文番号：２０２４０１３１ の件です。", .body_len = -1 };
  g_autoptr(TgRuleResult) r3 = NULL;
  tg_ruleset_eval(rs, &jorder, &r3);
  g_assert_cmpstr(g_hash_table_lookup(r3->fields, "order"), ==, "２０２４０１３１");
}

static void
write_file(const char *dir, const char *name, const char *text)
{
  g_autofree char *path = g_build_filename(dir, name, NULL);
  g_assert_true(g_file_set_contents(path, text, -1, NULL));
}

static void
test_load_dir_order_and_check(void)
{
  g_autofree char *dir = g_dir_make_tmp("tg-rules-XXXXXX", NULL);
  g_assert_nonnull(dir);
  write_file(dir, "20-b.rules", "rule \"b\"\n    set queue b\n");
  write_file(dir, "10-a.rules", "rule \"a\"\n    set queue a\n    set priority low\n");
  write_file(dir, "README", "not a rules file\n");
  g_autoptr(GError) error = NULL;
  g_autoptr(TgRuleset) rs = tg_ruleset_load_dir(dir, NULL, NULL, &error);
  g_assert_no_error(error);
  TgRuleInput in = { 0 };
  g_autoptr(TgRuleResult) r = NULL;
  tg_ruleset_eval(rs, &in, &r);
  g_assert_cmpstr(r->queue, ==, "b"); /* 20-b after 10-a: later wins */
  g_assert_cmpstr(r->priority, ==, "low");

  /* A broken file rejects the whole set and check reports every problem. */
  write_file(dir, "15-broken.rules", "rule \"x\"\n    when subject ~ /(/\n    tag x\nrule \"a\"\n    tag y\n");
  g_auto(GStrv) lines = NULL;
  g_clear_error(&error);
  g_assert_false(tg_ruleset_check_dir(dir, &lines, &error));
  g_assert_error(error, TG_RULES_ERROR, TG_RULES_ERROR_INVALID);
  g_assert_cmpstr(error->message, ==, "1 error in rules");
  g_assert_cmpuint(g_strv_length(lines), ==, 2);
  g_autofree char *e0 = g_strdup_printf("%s/15-broken.rules:2:22: invalid regex: missing closing parenthesis", dir);
  g_autofree char *w1 = g_strdup_printf("%s/15-broken.rules:4:1: warning: duplicate rule name \"a\" (first defined at %s/10-a.rules:1)", dir, dir);
  g_assert_cmpstr(lines[0], ==, e0);
  g_assert_cmpstr(lines[1], ==, w1);

  const char *names[] = { "10-a.rules", "15-broken.rules", "20-b.rules", "README" };
  for (gsize i = 0; i < G_N_ELEMENTS(names); i++) {
    g_autofree char *p = g_build_filename(dir, names[i], NULL);
    g_unlink(p);
  }
  g_rmdir(dir);

  g_auto(GStrv) none = NULL;
  g_clear_error(&error);
  g_assert_false(tg_ruleset_check_dir("/nonexistent/rules", &none, &error));
  g_assert_error(error, TG_RULES_ERROR, TG_RULES_ERROR_IO);
  g_assert_nonnull(none);
  g_assert_cmpuint(g_strv_length(none), ==, 0);
}

/* ---- hostile input: no crash, no leak, sensible errors ------------------ */

static void
load_and_drop(const char *text, gsize len)
{
  g_autoptr(GPtrArray) diags = NULL;
  g_autoptr(TgRuleset) rs = load_text(text, (gssize)len, &diags, NULL);
  for (guint i = 0; diags != NULL && i < diags->len; i++) {
    const TgRuleDiag *d = g_ptr_array_index(diags, i);
    g_assert_cmpuint(d->line, >=, 1);
    g_assert_cmpuint(d->col, >=, 1);
  }
  if (rs != NULL) {
    TgRuleInput in = { .from.address = "a@b", .subject = "invoice 障害", .body = "order # 12345678", .body_len = -1 };
    g_autoptr(TgRuleResult) r = NULL;
    tg_ruleset_eval(rs, &in, &r);
  }
}

static void
test_hostile_truncation(void)
{
  g_autofree char *dir = g_build_filename(source_dir(), "filters", "examples", NULL);
  const char *files[] = { "10-billing.rules", "20-outage.rules", "30-order.rules" };
  for (gsize f = 0; f < G_N_ELEMENTS(files); f++) {
    g_autofree char *path = g_build_filename(dir, files[f], NULL);
    g_autofree char *text = NULL;
    gsize len = 0;
    g_assert_true(g_file_get_contents(path, &text, &len, NULL));
    /* Every prefix, with the cut landing mid-token and mid-character. */
    for (gsize cut = 0; cut <= len; cut++) {
      g_autofree char *copy = g_memdup2(text, cut); /* exact length, no NUL: catches overreads */
      load_and_drop(copy, cut);
    }
  }
  load_and_drop(issue_rules, strlen(issue_rules));
}

static void
test_hostile_bytes(void)
{
  GRand *rand = g_rand_new_with_seed(5);
  gsize base_len = strlen(issue_rules);
  for (int round = 0; round < 2000; round++) {
    g_autofree char *copy = g_memdup2(issue_rules, base_len);
    int edits = g_rand_int_range(rand, 1, 8);
    for (int e = 0; e < edits; e++) {
      gsize at = (gsize)g_rand_int_range(rand, 0, (gint32)base_len);
      static const char specials[] = { '\0', '\xff', '\xe3', '"', '/', '\\', '\n', ' ', '(', '$', '{', '~', '#' };
      copy[at] = g_rand_boolean(rand) ? specials[g_rand_int_range(rand, 0, sizeof specials)]
                                      : (char)g_rand_int_range(rand, 0, 256);
    }
    load_and_drop(copy, base_len);
  }
  g_rand_free(rand);
}

static void
test_hostile_long_lines(void)
{
  /* A 1 MiB line is refused; a 60 KiB pattern line is fine. */
  gsize n = 1 << 20;
  GString *s = g_string_new("rule \"x\"\n    tag ");
  for (gsize i = 0; i < n; i++)
    g_string_append_c(s, 'a');
  g_string_append(s, "\n");
  g_autoptr(GPtrArray) diags = NULL;
  g_autoptr(TgRuleset) rs = load_text(s->str, (gssize)s->len, &diags, NULL);
  g_assert_null(rs);
  g_autofree char *got = join_diags(diags);
  g_assert_cmpstr(got, ==, "t.rules:2:1: line too long (1048584 bytes, at most 65536)");
  g_string_free(s, TRUE);

  /* A 20,000-character pattern compiles; 60,000 is over PCRE2's compiled
   * size limit and gets a proper error at the end of the pattern. */
  const gsize sizes[] = { 20000, 60000 };
  for (gsize k = 0; k < G_N_ELEMENTS(sizes); k++) {
    s = g_string_new("rule \"x\"\n    when body ~ /");
    for (gsize i = 0; i < sizes[k]; i++)
      g_string_append(s, i % 2 ? "b" : "a");
    g_string_append(s, "/\n    tag long\n");
    g_autoptr(GPtrArray) diags2 = NULL;
    g_autoptr(TgRuleset) rs2 = load_text(s->str, (gssize)s->len, &diags2, NULL);
    g_autofree char *got2 = join_diags(diags2);
    g_assert_cmpstr(got2, ==, k == 0 ? "" : "t.rules:2:60018: invalid regex: regular expression is too large");
    g_assert_true((rs2 != NULL) == (k == 0));
    g_string_free(s, TRUE);
  }

  /* Many lines, deep nothing, only NULs, only newlines. */
  g_autofree char *nuls = g_malloc0(4096);
  load_and_drop(nuls, 4096);
  g_autofree char *nls = g_strnfill(100000, '\n');
  load_and_drop(nls, 100000);
  load_and_drop("", 0);
  load_and_drop("\xEF\xBB", 2);
}

/* Patterns are JIT-compiled when they first run, not at load: the rule
 * the prefilter never lets run costs no JIT compile. */
static void
test_lazy_jit(void)
{
  guint32 jit = 0;
  pcre2_config(PCRE2_CONFIG_JIT, &jit);
  if (!jit) {
    g_test_skip("PCRE2 without JIT");
    return;
  }
  TgRuleSource src = { "t.rules",
                       "rule \"inv\"\n    when body ~ /invoice|receipt/\n    tag billing\n"
                       "rule \"pw\"\n    when body ~ /password|login/\n    tag account\n",
                       -1 };
  g_autoptr(TgRuleset) rs = tg_ruleset_load_sources(&src, 1, NULL, NULL, NULL);
  g_assert_nonnull(rs);
  g_assert_true(tg_ruleset_jit_ok(rs));
  const TgRule *inv = g_ptr_array_index(rs->rules, 0);
  const TgRule *pw = g_ptr_array_index(rs->rules, 1);
  TgRuleRegex *re_inv = ((const TgRuleCond *)g_ptr_array_index(inv->conds, 0))->re;
  TgRuleRegex *re_pw = ((const TgRuleCond *)g_ptr_array_index(pw->conds, 0))->re;
  g_assert_cmpint(re_inv->jit_state, ==, 0);
  g_assert_cmpint(re_pw->jit_state, ==, 0);
  TgRuleInput in = { .body = "please resend the invoice", .body_len = -1 };
  g_autoptr(TgRuleResult) r = NULL;
  tg_ruleset_eval(rs, &in, &r);
  g_autofree char *got = summarize(r);
  g_assert_cmpstr(got, ==, "matched=inv +billing");
  g_assert_cmpint(re_inv->jit_state, ==, 1);
  g_assert_cmpint(re_pw->jit_state, ==, 0);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  if (g_getenv("TG_TEST_NONFATAL") != NULL)
    g_test_set_nonfatal_assertions();
  for (gsize i = 0; i < G_N_ELEMENTS(error_cases); i++) {
    g_autofree char *path = g_strdup_printf("/filters/parse/error/%s", error_cases[i].name);
    g_test_add_data_func(path, &error_cases[i], test_parse_error);
  }
  for (gsize i = 0; i < G_N_ELEMENTS(warning_cases); i++) {
    g_autofree char *path = g_strdup_printf("/filters/parse/warning/%s", warning_cases[i].name);
    g_test_add_data_func(path, &warning_cases[i], test_parse_warning);
  }
  for (gsize i = 0; i < G_N_ELEMENTS(match_cases); i++) {
    g_autofree char *path = g_strdup_printf("/filters/match/%s", match_cases[i].name);
    g_test_add_data_func(path, &match_cases[i], test_match);
  }
  g_test_add_func("/filters/eval/provenance-and-json", test_provenance);
  g_test_add_func("/filters/eval/later-wins-untag-dollar", test_later_rule_wins_and_untag);
  g_test_add_data_func("/filters/limits/catastrophic-jit", GINT_TO_POINTER(TG_RULE_EVAL_DEFAULT),
                       test_catastrophic_backtracking);
  g_test_add_data_func("/filters/limits/catastrophic-interpreter", GINT_TO_POINTER(TG_RULE_EVAL_NO_JIT),
                       test_catastrophic_backtracking);
  g_test_add_func("/filters/limits/options", test_limit_options);
  g_test_add_func("/filters/eval/invalid-utf8-input", test_invalid_utf8_input);
  g_test_add_func("/filters/prefilter/differential", test_prefilter_differential);
  g_test_add_func("/filters/load/examples", test_examples_load_cleanly);
  g_test_add_func("/filters/load/dir-order-and-check", test_load_dir_order_and_check);
  g_test_add_func("/filters/hostile/truncation", test_hostile_truncation);
  g_test_add_func("/filters/hostile/bytes", test_hostile_bytes);
  g_test_add_func("/filters/hostile/long-lines", test_hostile_long_lines);
  g_test_add_func("/filters/lazy-jit", test_lazy_jit);
  return g_test_run();
}
