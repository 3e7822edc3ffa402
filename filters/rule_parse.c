/*
 * filters/rule_parse.c — the rule language parser (syntax in docs/rules.md).
 *
 * PURPOSE
 *   tg_rule_parse_source() turns the text of one `*.rules` file into TgRule
 *   structs, compiling every pattern on the way, and reports every problem as
 *   a TgRuleDiag with file, line and column.  tg_rule_free() and friends free
 *   what it builds; tg_rule_field_name() names a field for messages.
 *
 *   The language is line based: `rule "NAME"` opens a rule; `when ...` lines
 *   and action lines belong to the most recent rule; a `when any` (or
 *   `when not any`) line owns the following lines that are indented deeper
 *   than it.  Indentation matters nowhere else.
 *
 * FAILURE
 *   Parsing never stops at the first error: a bad line is reported and
 *   skipped, and the next line is parsed normally, so one run shows an admin
 *   every mistake.  The caller treats any error diagnostic as "reject the
 *   whole set".  Columns count characters, and a regex error's column is
 *   PCRE2's error offset mapped into the line.
 *
 * SECURITY
 *   Rule files are trusted admin input but may be truncated, binary or huge:
 *   each line is checked for length, NUL bytes and UTF-8 before the lexer
 *   sees it, and the lexer never reads past the line.  Template names are
 *   restricted to [A-Za-z0-9_-] because they become file names.
 */
#include "filters/rule_priv.h"

#include <string.h>

#define TG_RULES_MAX_LINE 65536

static const char *const field_names[TG_FIELD_COUNT] = {
  [TG_FIELD_FROM] = "from",
  [TG_FIELD_FROM_NAME] = "from name",
  [TG_FIELD_TO] = "to",
  [TG_FIELD_CC] = "cc",
  [TG_FIELD_RECIPIENT] = "recipient",
  [TG_FIELD_SENDER] = "sender",
  [TG_FIELD_SUBJECT] = "subject",
  [TG_FIELD_BODY] = "body",
  [TG_FIELD_HEADER] = "header",
  [TG_FIELD_ATT_NAME] = "attachment filename",
  [TG_FIELD_ATT_TYPE] = "attachment type",
};

const char *
tg_rule_field_name(TgRuleField field)
{
  return field_names[field];
}

void
tg_rule_cond_free(TgRuleCond *c)
{
  if (c == NULL)
    return;
  g_free(c->header);
  tg_rule_regex_free(c->re);
  if (c->children != NULL)
    g_ptr_array_unref(c->children);
  g_free(c);
}

void
tg_rule_act_free(TgRuleAct *a)
{
  if (a == NULL)
    return;
  g_free(a->name);
  g_free(a->value);
  g_free(a->reason);
  g_free(a);
}

void
tg_rule_free(TgRule *r)
{
  if (r == NULL)
    return;
  g_free(r->name);
  g_ptr_array_unref(r->conds);
  g_ptr_array_unref(r->actions);
  g_free(r);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(TgRuleCond, tg_rule_cond_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TgRuleAct, tg_rule_act_free)

typedef struct {
  const char *file;
  gboolean want_jit;
  GPtrArray *rules;
  GPtrArray *diags;
  TgRule *rule;        /* rule being filled, already in rules */
  guint rule_diags;    /* diags->len when the rule started */
  TgRuleCond *block;   /* open `when any` block, already in rule->conds */
  gsize block_indent;
  /* the current line */
  const char *line;
  gsize len;
  gsize pos;
  guint lineno;
} Parser;

static guint
col_at(const Parser *p, gsize pos)
{
  return (guint)g_utf8_strlen(p->line, (gssize)pos) + 1;
}

static void G_GNUC_PRINTF(3, 4)
error_at(Parser *p, gsize pos, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *msg = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  g_ptr_array_add(p->diags, tg_rule_diag_new(TG_RULE_DIAG_ERROR, p->file, p->lineno,
                                             col_at(p, pos), "%s", msg));
}

/* ---- lexer -------------------------------------------------------------- */

static void
skip_ws(Parser *p)
{
  while (p->pos < p->len && (p->line[p->pos] == ' ' || p->line[p->pos] == '\t'))
    p->pos++;
}

static gboolean
at_end(Parser *p)
{
  skip_ws(p);
  return p->pos >= p->len || p->line[p->pos] == '#';
}

static gboolean
is_word_char(char c)
{
  return c != ' ' && c != '\t' && c != '"' && c != '~' && c != '!' && c != '=' && c != '<' &&
         c != '>' && c != '/' && c != '#';
}

static gsize
word_end(const Parser *p, gsize from)
{
  gsize e = from;
  while (e < p->len && is_word_char(p->line[e]))
    e++;
  return e;
}

/* The next word, without consuming it; NULL at end of line or punctuation. */
static char *
peek_word(Parser *p)
{
  skip_ws(p);
  gsize e = word_end(p, p->pos);
  return e > p->pos ? g_strndup(p->line + p->pos, e - p->pos) : NULL;
}

static gboolean
accept_word(Parser *p, const char *kw)
{
  skip_ws(p);
  gsize e = word_end(p, p->pos);
  gsize n = strlen(kw);
  if (e - p->pos == n && memcmp(p->line + p->pos, kw, n) == 0) {
    p->pos = e;
    return TRUE;
  }
  return FALSE;
}

/* What is at pos, for "unexpected ..." messages. */
static char *
describe_here(Parser *p)
{
  skip_ws(p);
  if (p->pos >= p->len)
    return g_strdup("end of line");
  gsize e = word_end(p, p->pos);
  if (e == p->pos)
    e = (gsize)(g_utf8_next_char(p->line + p->pos) - p->line);
  return g_strdup_printf("'%.*s'", (int)MIN(e - p->pos, 40), p->line + p->pos);
}

static gboolean
expect_end(Parser *p)
{
  if (at_end(p))
    return TRUE;
  g_autofree char *what = describe_here(p);
  error_at(p, p->pos, "unexpected %s at end of statement", what);
  return FALSE;
}

/* A "double-quoted" string with \" and \\ escapes. */
static gboolean
read_string(Parser *p, char **out_r)
{
  skip_ws(p);
  gsize start = p->pos;
  g_assert(p->line[start] == '"');
  GString *s = g_string_new(NULL);
  gsize i = start + 1;
  while (i < p->len && p->line[i] != '"') {
    if (p->line[i] == '\\') {
      if (i + 1 < p->len && (p->line[i + 1] == '"' || p->line[i + 1] == '\\')) {
        g_string_append_c(s, p->line[i + 1]);
        i += 2;
        continue;
      }
      error_at(p, i, "unknown escape in string (only \\\" and \\\\ are allowed)");
      g_string_free(s, TRUE);
      return FALSE;
    }
    g_string_append_c(s, p->line[i]);
    i++;
  }
  if (i >= p->len) {
    error_at(p, start, "unterminated string (missing closing \")");
    g_string_free(s, TRUE);
    return FALSE;
  }
  p->pos = i + 1;
  *out_r = g_string_free(s, FALSE);
  return TRUE;
}

/* A word or a quoted string; what names it in the error. */
static gboolean
read_value(Parser *p, const char *what, char **out_r, guint *col_r)
{
  skip_ws(p);
  if (col_r != NULL)
    *col_r = col_at(p, p->pos);
  if (p->pos < p->len && p->line[p->pos] == '"') {
    if (!read_string(p, out_r))
      return FALSE;
    if (**out_r == '\0') {
      error_at(p, p->pos - 2, "%s must not be empty", what);
      g_clear_pointer(out_r, g_free);
      return FALSE;
    }
    return TRUE;
  }
  char *w = at_end(p) ? NULL : peek_word(p);
  if (w == NULL) {
    g_autofree char *here = describe_here(p);
    error_at(p, p->pos, "expected %s, found %s", what, here);
    return FALSE;
  }
  p->pos += strlen(w);
  *out_r = w;
  return TRUE;
}

/* ---- conditions --------------------------------------------------------- */

static gboolean
parse_regex(Parser *p, TgRuleField field, TgRuleRegex **re_r)
{
  skip_ws(p);
  if (p->pos >= p->len || p->line[p->pos] != '/') {
    g_autofree char *here = describe_here(p);
    error_at(p, p->pos, "expected /regex/ after the operator, found %s", here);
    return FALSE;
  }
  gsize open = p->pos;
  gsize i = open + 1;
  while (i < p->len && p->line[i] != '/')
    i += p->line[i] == '\\' ? 2 : 1;
  if (i >= p->len) {
    error_at(p, open, "unterminated regex (missing closing /)");
    return FALSE;
  }
  gsize close = i;
  gsize f = close + 1;
  while (f < p->len && g_ascii_isalpha(p->line[f])) {
    if (strchr("imsx", p->line[f]) == NULL) {
      error_at(p, f, "unknown regex flag '%c' (expected i, m, s or x)", p->line[f]);
      return FALSE;
    }
    f++;
  }
  g_autofree char *flags = g_strndup(p->line + close + 1, f - close - 1);
  g_autofree char *msg = NULL;
  gsize off = 0;
  const char *pat = p->line + open + 1;
  gsize pat_len = close - open - 1;
  TgRuleRegex *re = tg_rule_regex_new(pat, pat_len, flags, p->want_jit, field, &msg, &off);
  if (re == NULL) {
    error_at(p, open + 1 + MIN(off, pat_len), "invalid regex: %s", msg);
    return FALSE;
  }
  p->pos = f;
  *re_r = re;
  return TRUE;
}

static gboolean
parse_size(Parser *p, TgRuleCond *c)
{
  skip_ws(p);
  gsize at = p->pos;
  static const struct {
    const char *op;
    TgRuleSizeOp kind;
  } ops[] = { { ">=", TG_SIZE_GE }, { "<=", TG_SIZE_LE }, { ">", TG_SIZE_GT }, { "<", TG_SIZE_LT } };
  gboolean found = FALSE;
  for (gsize i = 0; i < G_N_ELEMENTS(ops) && !found; i++) {
    gsize n = strlen(ops[i].op);
    if (p->len - at >= n && memcmp(p->line + at, ops[i].op, n) == 0) {
      c->size_op = ops[i].kind;
      p->pos += n;
      found = TRUE;
    }
  }
  if (!found) {
    error_at(p, at, "expected >, >=, < or <= after size");
    return FALSE;
  }
  skip_ws(p);
  at = p->pos;
  g_autofree char *w = peek_word(p);
  guint64 n = 0;
  gsize i = 0;
  for (; w != NULL && g_ascii_isdigit(w[i]); i++) {
    if (n > (G_MAXUINT64 - 9) / 10) {
      error_at(p, at, "size is too large");
      return FALSE;
    }
    n = n * 10 + (guint64)(w[i] - '0');
  }
  guint64 mult = 1;
  if (i > 0 && w[i] != '\0' && w[i + 1] == '\0') {
    switch (g_ascii_toupper(w[i])) {
    case 'K': mult = 1024; i++; break;
    case 'M': mult = 1024 * 1024; i++; break;
    case 'G': mult = 1024 * 1024 * 1024; i++; break;
    default: break;
    }
  }
  if (w == NULL || i == 0 || w[i] != '\0') {
    error_at(p, at, "expected a size such as 500, 100K or 10M");
    return FALSE;
  }
  if (n > G_MAXUINT64 / mult) {
    error_at(p, at, "size is too large");
    return FALSE;
  }
  c->size = n * mult;
  p->pos += strlen(w);
  return TRUE;
}

static const char *const action_words[] = { "set",    "tag",        "untag", "assign", "escalate",
                                             "reply", "noreply", "quarantine", "stop", NULL };

static gboolean
is_action_word(const char *w)
{
  for (gsize i = 0; action_words[i] != NULL; i++)
    if (strcmp(w, action_words[i]) == 0)
      return TRUE;
  return FALSE;
}

static gboolean
parse_field(Parser *p, TgRuleCond *c, const char *w, gsize at)
{
  static const struct {
    const char *word;
    TgRuleField field;
  } simple[] = {
    { "to", TG_FIELD_TO },           { "cc", TG_FIELD_CC },         { "recipient", TG_FIELD_RECIPIENT },
    { "sender", TG_FIELD_SENDER },   { "subject", TG_FIELD_SUBJECT }, { "body", TG_FIELD_BODY },
  };
  for (gsize i = 0; i < G_N_ELEMENTS(simple); i++) {
    if (strcmp(w, simple[i].word) == 0) {
      c->field = simple[i].field;
      return TRUE;
    }
  }
  if (strcmp(w, "from") == 0) {
    c->field = accept_word(p, "name") ? TG_FIELD_FROM_NAME : TG_FIELD_FROM;
    return TRUE;
  }
  if (strcmp(w, "header") == 0) {
    c->field = TG_FIELD_HEADER;
    if (!read_value(p, "a header name", &c->header, NULL))
      return FALSE;
    for (const char *h = c->header; *h; h++) {
      if ((guint8)*h <= ' ' || (guint8)*h >= 0x7f || *h == ':') {
        error_at(p, at, "invalid header name \"%s\"", c->header);
        return FALSE;
      }
    }
    return TRUE;
  }
  if (strcmp(w, "attachment") == 0) {
    if (accept_word(p, "filename")) {
      c->field = TG_FIELD_ATT_NAME;
      return TRUE;
    }
    if (accept_word(p, "type")) {
      c->field = TG_FIELD_ATT_TYPE;
      return TRUE;
    }
    g_autofree char *here = describe_here(p);
    error_at(p, p->pos, "expected filename or type after attachment, found %s", here);
    return FALSE;
  }
  if (is_action_word(w))
    error_at(p, at, "unknown condition '%s' (an action cannot be indented under \"when any\")", w);
  else
    error_at(p, at, "unknown condition '%s'", w);
  return FALSE;
}

/* One condition, up to the end of the line; NULL after reporting an error. */
static TgRuleCond *
parse_cond(Parser *p)
{
  g_autoptr(TgRuleCond) c = g_new0(TgRuleCond, 1);
  skip_ws(p);
  c->line = p->lineno;
  c->col = col_at(p, p->pos);
  while (accept_word(p, "not"))
    c->negate = !c->negate;
  skip_ws(p);
  gsize at = p->pos;
  g_autofree char *w = peek_word(p);
  if (w == NULL) {
    g_autofree char *here = describe_here(p);
    error_at(p, at, "expected a condition, found %s", here);
    return NULL;
  }
  p->pos += strlen(w);
  if (strcmp(w, "size") == 0) {
    c->kind = TG_COND_SIZE;
    if (!parse_size(p, c))
      return NULL;
  } else if (strcmp(w, "is") == 0) {
    if (accept_word(p, "new")) {
      c->kind = TG_COND_IS_NEW;
    } else if (accept_word(p, "reply")) {
      c->kind = TG_COND_IS_REPLY;
    } else {
      g_autofree char *here = describe_here(p);
      error_at(p, p->pos, "expected new or reply after is, found %s", here);
      return NULL;
    }
  } else if (strcmp(w, "from") == 0 && accept_word(p, "staff")) {
    c->kind = TG_COND_FROM_STAFF;
  } else {
    c->kind = TG_COND_MATCH;
    if (!parse_field(p, c, w, at))
      return NULL;
    skip_ws(p);
    if (p->len - p->pos >= 2 && p->line[p->pos] == '!' && p->line[p->pos + 1] == '~') {
      c->negate = !c->negate;
      p->pos += 2;
    } else if (p->pos < p->len && p->line[p->pos] == '~') {
      p->pos += 1;
    } else {
      g_autofree char *here = describe_here(p);
      error_at(p, p->pos, "expected ~ or !~ after %s, found %s", tg_rule_field_name(c->field), here);
      return NULL;
    }
    if (!parse_regex(p, c->field, &c->re))
      return NULL;
  }
  if (!expect_end(p))
    return NULL;
  return g_steal_pointer(&c);
}

/* ---- actions ------------------------------------------------------------ */

static TgRuleAct *
act_new(Parser *p, TgRuleActKind kind)
{
  TgRuleAct *a = g_new0(TgRuleAct, 1);
  a->kind = kind;
  a->line = p->lineno;
  return a;
}

/* Optional `reason "..."` at the end of escalate / quarantine. */
static gboolean
parse_reason(Parser *p, TgRuleAct *a, gboolean keyword_optional)
{
  skip_ws(p);
  gboolean kw = accept_word(p, "reason");
  skip_ws(p);
  if (!kw && !(keyword_optional && p->pos < p->len && p->line[p->pos] == '"'))
    return TRUE;
  if (p->pos >= p->len || p->line[p->pos] != '"') {
    g_autofree char *here = describe_here(p);
    error_at(p, p->pos, "expected a \"quoted\" reason, found %s", here);
    return FALSE;
  }
  a->reason_col = col_at(p, p->pos);
  return read_string(p, &a->reason);
}

static gboolean
name_ok(const char *s)
{
  for (; *s; s++)
    if (!g_ascii_isalnum(*s) && *s != '-' && *s != '_')
      return FALSE;
  return TRUE;
}

static gboolean
parse_set(Parser *p, GPtrArray *out)
{
  skip_ws(p);
  gsize at = p->pos;
  g_autofree char *what = peek_word(p);
  if (what != NULL)
    p->pos += strlen(what);
  g_autoptr(TgRuleAct) a = NULL;
  if (g_strcmp0(what, "queue") == 0) {
    a = act_new(p, TG_ACT_SET_QUEUE);
    if (!read_value(p, "a queue name", &a->value, &a->value_col))
      return FALSE;
  } else if (g_strcmp0(what, "policy") == 0) {
    a = act_new(p, TG_ACT_SET_POLICY);
    if (!read_value(p, "a policy name", &a->value, &a->value_col))
      return FALSE;
  } else if (g_strcmp0(what, "priority") == 0) {
    a = act_new(p, TG_ACT_SET_PRIORITY);
    skip_ws(p);
    gsize vat = p->pos;
    if (!read_value(p, "a priority", &a->value, &a->value_col))
      return FALSE;
    if (!g_strv_contains((const char *const[]){ "low", "normal", "high", "urgent", NULL }, a->value)) {
      error_at(p, vat, "unknown priority '%s' (expected low, normal, high or urgent)", a->value);
      return FALSE;
    }
  } else if (g_strcmp0(what, "field") == 0) {
    a = act_new(p, TG_ACT_SET_FIELD);
    skip_ws(p);
    gsize nat = p->pos;
    if (!read_value(p, "a field name", &a->name, NULL))
      return FALSE;
    if (!name_ok(a->name)) {
      error_at(p, nat, "invalid field name '%s' (letters, digits, - and _ only)", a->name);
      return FALSE;
    }
    skip_ws(p);
    if (p->pos >= p->len || p->line[p->pos] != '=') {
      g_autofree char *here = describe_here(p);
      error_at(p, p->pos, "expected = after the field name, found %s", here);
      return FALSE;
    }
    p->pos++;
    skip_ws(p);
    a->value_col = col_at(p, p->pos);
    if (p->pos < p->len && p->line[p->pos] == '"') {
      if (!read_string(p, &a->value))
        return FALSE;
    } else if (!read_value(p, "a value", &a->value, &a->value_col)) {
      return FALSE;
    }
  } else {
    g_autofree char *here = what != NULL ? g_strdup_printf("'%s'", what) : describe_here(p);
    error_at(p, at, "unknown setting %s (expected queue, priority, policy or field)", here);
    return FALSE;
  }
  if (!expect_end(p))
    return FALSE;
  g_ptr_array_add(out, g_steal_pointer(&a));
  return TRUE;
}

static gboolean
parse_escalate(Parser *p, GPtrArray *out)
{
  g_autoptr(TgRuleAct) a = NULL;
  if (accept_word(p, "level")) {
    a = act_new(p, TG_ACT_ESCALATE_LEVEL);
    skip_ws(p);
    gsize at = p->pos;
    g_autofree char *w = peek_word(p);
    guint64 level = 0;
    if (w == NULL || !g_ascii_string_to_unsigned(w, 10, 1, 99, &level, NULL)) {
      error_at(p, at, "escalation level must be a number from 1 to 99");
      return FALSE;
    }
    p->pos += strlen(w);
    a->level = (guint)level;
  } else if (accept_word(p, "to")) {
    a = act_new(p, TG_ACT_ESCALATE_TO);
    if (!read_value(p, "an address after escalate to", &a->value, &a->value_col))
      return FALSE;
  } else {
    g_autofree char *here = describe_here(p);
    error_at(p, p->pos, "expected level N or to ADDRESS after escalate, found %s", here);
    return FALSE;
  }
  if (!parse_reason(p, a, FALSE) || !expect_end(p))
    return FALSE;
  g_ptr_array_add(out, g_steal_pointer(&a));
  return TRUE;
}

/* An action line (the first word already read into w); appends to out. */
static gboolean
parse_action(Parser *p, const char *w, gsize at, GPtrArray *out)
{
  if (strcmp(w, "set") == 0)
    return parse_set(p, out);
  if (strcmp(w, "escalate") == 0)
    return parse_escalate(p, out);
  if (strcmp(w, "tag") == 0 || strcmp(w, "untag") == 0) {
    TgRuleActKind kind = w[0] == 't' ? TG_ACT_TAG : TG_ACT_UNTAG;
    g_autoptr(GPtrArray) tags = g_ptr_array_new_with_free_func((GDestroyNotify)tg_rule_act_free);
    do {
      g_autoptr(TgRuleAct) a = act_new(p, kind);
      if (!read_value(p, "a tag name", &a->value, &a->value_col))
        return FALSE;
      g_ptr_array_add(tags, g_steal_pointer(&a));
    } while (!at_end(p));
    for (guint i = 0; i < tags->len; i++)
      g_ptr_array_add(out, g_steal_pointer(&tags->pdata[i]));
    return TRUE;
  }
  if (strcmp(w, "assign") == 0) {
    g_autoptr(TgRuleAct) a = act_new(p, TG_ACT_ASSIGN);
    if (!read_value(p, "a staff address or name", &a->value, &a->value_col) || !expect_end(p))
      return FALSE;
    g_ptr_array_add(out, g_steal_pointer(&a));
    return TRUE;
  }
  if (strcmp(w, "reply") == 0) {
    g_autoptr(TgRuleAct) a = act_new(p, TG_ACT_REPLY);
    skip_ws(p);
    gsize vat = p->pos;
    if (!read_value(p, "a template name", &a->value, &a->value_col))
      return FALSE;
    if (!name_ok(a->value) || strstr(a->value, "${") != NULL) {
      error_at(p, vat, "invalid template name '%s' (letters, digits, - and _ only)", a->value);
      return FALSE;
    }
    if (!expect_end(p))
      return FALSE;
    g_ptr_array_add(out, g_steal_pointer(&a));
    return TRUE;
  }
  if (strcmp(w, "quarantine") == 0) {
    g_autoptr(TgRuleAct) a = act_new(p, TG_ACT_QUARANTINE);
    if (!parse_reason(p, a, TRUE) || !expect_end(p))
      return FALSE;
    g_ptr_array_add(out, g_steal_pointer(&a));
    return TRUE;
  }
  if (strcmp(w, "noreply") == 0 || strcmp(w, "stop") == 0) {
    g_autoptr(TgRuleAct) a = act_new(p, w[0] == 'n' ? TG_ACT_NOREPLY : TG_ACT_STOP);
    if (!expect_end(p))
      return FALSE;
    g_ptr_array_add(out, g_steal_pointer(&a));
    return TRUE;
  }
  g_error("parse_action called with '%s' at %zu", w, at);
}

/* ---- rules -------------------------------------------------------------- */

static gboolean
rule_defines_group(const TgRule *r, const char *name)
{
  for (guint i = 0; i < r->conds->len; i++) {
    const TgRuleCond *c = g_ptr_array_index(r->conds, i);
    if (c->re != NULL && tg_rule_regex_has_group(c->re, name))
      return TRUE;
    for (guint k = 0; c->children != NULL && k < c->children->len; k++) {
      const TgRuleCond *cc = g_ptr_array_index(c->children, k);
      if (cc->re != NULL && tg_rule_regex_has_group(cc->re, name))
        return TRUE;
    }
  }
  return FALSE;
}

static void
check_captures(Parser *p, const TgRule *r, const TgRuleAct *a, const char *s, guint col)
{
  if (s == NULL)
    return;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
  const char *why = NULL;
  if (!tg_rule_expand_scan(s, names, &why)) {
    g_ptr_array_add(p->diags, tg_rule_diag_new(TG_RULE_DIAG_ERROR, p->file, a->line, col, "%s", why));
    return;
  }
  for (guint i = 0; i < names->len; i++) {
    const char *n = g_ptr_array_index(names, i);
    if (!rule_defines_group(r, n))
      g_ptr_array_add(p->diags,
                      tg_rule_diag_new(TG_RULE_DIAG_ERROR, p->file, a->line, col,
                                       "unknown capture ${%s}: no pattern of rule \"%s\" has a group (?<%s>...)",
                                       n, r->name, n));
  }
}

static void
close_block(Parser *p)
{
  if (p->block == NULL)
    return;
  if (p->block->children->len == 0)
    g_ptr_array_add(p->diags, tg_rule_diag_new(TG_RULE_DIAG_ERROR, p->file, p->block->line, p->block->col,
                                               "\"when any\" needs at least one condition indented below it"));
  p->block = NULL;
}

static void
finish_rule(Parser *p)
{
  close_block(p);
  TgRule *r = p->rule;
  if (r == NULL)
    return;
  p->rule = NULL;
  gboolean stops = FALSE;
  for (guint i = 0; i < r->actions->len; i++) {
    const TgRuleAct *a = g_ptr_array_index(r->actions, i);
    check_captures(p, r, a, a->value, a->value_col);
    check_captures(p, r, a, a->reason, a->reason_col);
    stops |= a->kind == TG_ACT_STOP;
  }
  /* A rule with errors already has the admin's attention; "no actions" would
   * only repeat a failed action line. */
  if (r->actions->len == 0 && p->diags->len == p->rule_diags)
    g_ptr_array_add(p->diags, tg_rule_diag_new(TG_RULE_DIAG_WARNING, p->file, r->line, r->col,
                                               "rule \"%s\" has no actions", r->name));
  /* A field named by a positive top-level match must be present, so a
   * message without it can skip the rule without running any regex. */
  for (guint i = 0; i < r->conds->len; i++) {
    const TgRuleCond *c = g_ptr_array_index(r->conds, i);
    if (c->kind == TG_COND_MATCH && !c->negate)
      r->required |= 1u << c->field;
  }
  r->stops_always = stops && r->conds->len == 0;
}

static void
parse_rule_header(Parser *p, gsize at)
{
  finish_rule(p);
  TgRule *r = g_new0(TgRule, 1);
  r->file = p->file;
  r->line = p->lineno;
  r->col = col_at(p, at);
  r->conds = g_ptr_array_new_with_free_func((GDestroyNotify)tg_rule_cond_free);
  r->actions = g_ptr_array_new_with_free_func((GDestroyNotify)tg_rule_act_free);
  g_ptr_array_add(p->rules, r);
  p->rule = r;
  p->rule_diags = p->diags->len;
  skip_ws(p);
  if (p->pos >= p->len || p->line[p->pos] != '"') {
    g_autofree char *here = describe_here(p);
    error_at(p, p->pos, "expected the rule name in double quotes after rule, found %s", here);
    r->name = g_strdup("");
    return;
  }
  if (!read_string(p, &r->name)) {
    r->name = g_strdup("");
    return;
  }
  if (r->name[0] == '\0')
    error_at(p, p->pos - 2, "rule name must not be empty");
  expect_end(p);
}

static void
parse_statement(Parser *p)
{
  skip_ws(p);
  gsize at = p->pos;
  g_autofree char *w = peek_word(p);
  if (w == NULL) {
    g_autofree char *here = describe_here(p);
    error_at(p, at, "expected a statement, found %s", here);
    return;
  }
  p->pos += strlen(w);
  if (strcmp(w, "rule") == 0) {
    parse_rule_header(p, at);
    return;
  }
  gboolean is_when = strcmp(w, "when") == 0;
  if (!is_when && !is_action_word(w)) {
    if (strcmp(w, "not") == 0 || strcmp(w, "size") == 0 || strcmp(w, "is") == 0 ||
        strcmp(w, "header") == 0 || strcmp(w, "attachment") == 0 || strcmp(w, "subject") == 0 ||
        strcmp(w, "body") == 0 || strcmp(w, "from") == 0 || strcmp(w, "to") == 0 ||
        strcmp(w, "cc") == 0 || strcmp(w, "sender") == 0 || strcmp(w, "recipient") == 0)
      error_at(p, at, "unknown statement '%s' (conditions start with when)", w);
    else
      error_at(p, at, "unknown statement '%s'", w);
    return;
  }
  if (p->rule == NULL) {
    error_at(p, at, "'%s' outside a rule (start one with rule \"NAME\")", w);
    return;
  }
  if (!is_when) {
    parse_action(p, w, at, p->rule->actions);
    return;
  }
  /* `when any` / `when not any` open a block; anything else is one condition. */
  gsize save = p->pos;
  gboolean negate = accept_word(p, "not");
  if (accept_word(p, "any")) {
    if (!expect_end(p))
      return;
    TgRuleCond *c = g_new0(TgRuleCond, 1);
    c->kind = TG_COND_ANY;
    c->negate = negate;
    c->line = p->lineno;
    c->col = col_at(p, at);
    c->children = g_ptr_array_new_with_free_func((GDestroyNotify)tg_rule_cond_free);
    g_ptr_array_add(p->rule->conds, c);
    p->block = c;
    p->block_indent = at;
    return;
  }
  p->pos = save;
  TgRuleCond *c = parse_cond(p);
  if (c != NULL)
    g_ptr_array_add(p->rule->conds, c);
}

/* Check one raw line before the lexer sees it; FALSE after reporting. */
static gboolean
line_ok(Parser *p)
{
  if (p->len > TG_RULES_MAX_LINE) {
    g_ptr_array_add(p->diags, tg_rule_diag_new(TG_RULE_DIAG_ERROR, p->file, p->lineno, 1,
                                               "line too long (%zu bytes, at most %d)", p->len,
                                               TG_RULES_MAX_LINE));
    return FALSE;
  }
  const char *bad = NULL;
  const char *nul = memchr(p->line, '\0', p->len);
  gsize valid_len = nul != NULL ? (gsize)(nul - p->line) : p->len;
  if (!g_utf8_validate(p->line, (gssize)valid_len, &bad)) {
    gsize pos = (gsize)(bad - p->line);
    g_ptr_array_add(p->diags, tg_rule_diag_new(TG_RULE_DIAG_ERROR, p->file, p->lineno,
                                               (guint)g_utf8_strlen(p->line, (gssize)pos) + 1,
                                               "invalid UTF-8"));
    return FALSE;
  }
  if (nul != NULL) {
    error_at(p, valid_len, "NUL byte in rule file");
    return FALSE;
  }
  return TRUE;
}

void
tg_rule_parse_source(const char *file, const char *text, gsize len, gboolean want_jit,
                     GPtrArray *rules, GPtrArray *diags)
{
  Parser p = { .file = file, .want_jit = want_jit, .rules = rules, .diags = diags };
  gsize start = 0;
  /* A UTF-8 byte order mark is what some editors write; ignore it. */
  if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
    start = 3;
  while (start < len) {
    const char *nl = memchr(text + start, '\n', len - start);
    gsize end = nl != NULL ? (gsize)(nl - text) : len;
    p.lineno++;
    p.line = text + start;
    p.len = end - start;
    p.pos = 0;
    if (p.len > 0 && p.line[p.len - 1] == '\r')
      p.len--;
    start = end + 1;
    if (!line_ok(&p) || at_end(&p))
      continue;
    if (p.block != NULL && p.pos > p.block_indent) {
      TgRuleCond *c = parse_cond(&p);
      if (c != NULL)
        g_ptr_array_add(p.block->children, c);
      continue;
    }
    close_block(&p);
    parse_statement(&p);
  }
  finish_rule(&p);
}
