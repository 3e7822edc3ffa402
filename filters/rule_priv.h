/*
 * filters/rule_priv.h — types shared by the files of filters/, not exported.
 *
 * A TgRuleset is a flat array of TgRule in evaluation order.  Each rule holds
 * its conditions (a top-level all-of list; `when any` is one TgRuleCond with
 * children) and its actions.  Patterns are TgRuleRegex: compiled PCRE2 code,
 * its own match data, its named groups and an optional literal prefilter.
 * Everything here is immutable after load except the per-pattern match data
 * and the ruleset's prefilter scratch, which is why one ruleset is evaluated by
 * one thread at a time.
 */
#pragma once

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "filters/rules.h"

typedef enum {
  TG_FIELD_FROM,
  TG_FIELD_FROM_NAME,
  TG_FIELD_TO,
  TG_FIELD_CC,
  TG_FIELD_RECIPIENT,
  TG_FIELD_SENDER,
  TG_FIELD_SUBJECT,
  TG_FIELD_BODY,
  TG_FIELD_HEADER,
  TG_FIELD_ATT_NAME,
  TG_FIELD_ATT_TYPE,
  TG_FIELD_COUNT
} TgRuleField;

const char *tg_rule_field_name(TgRuleField field);

/* ---- prefilter (rule_prefilter.c) --------------------------------------- */

/* Trigram bitset over folded field text: 2^TG_PREFILTER_BITS bits. */
#define TG_PREFILTER_BITS 18

/* Per pattern: the pattern can only match if, for at least one branch, every
 * trigram hash of that branch's required literal is present in the field. */
typedef struct {
  guint n_branches;
  guint *branch_len; /* number of hashes per branch */
  guint32 **hashes;  /* hashes[b][i], already mixed with the field */
} TgRulePrefilter;

TgRulePrefilter *tg_rule_prefilter_new(const char *pattern, gsize len, guint32 options,
                                       TgRuleField field);
void tg_rule_prefilter_free(TgRulePrefilter *pf);
/* Fold text (ASCII lower, U+212A->k, U+017F->s) and set its trigram bits. */
void tg_rule_prefilter_add_text(guint8 *bits, TgRuleField field, const char *text, gsize len);
gboolean tg_rule_prefilter_pass(const TgRulePrefilter *pf, const guint8 *bits);
/* Append pf to out as [n_branches, (n_hashes, hash...)...] so that the
 * per-rule gate check of a whole ruleset walks one contiguous array. */
void tg_rule_prefilter_flatten(const TgRulePrefilter *pf, GArray *out);
gboolean tg_rule_prefilter_pass_flat(const guint32 *flat, const guint8 *bits);

/* ---- patterns (rule_regex.c) ------------------------------------------- */

typedef struct {
  char *name;
  guint32 group;
} TgRuleGroup;

typedef struct {
  char *source;     /* pattern text as written between the slashes */
  char *flags;      /* flag letters as written, for messages and lint */
  guint32 options;  /* PCRE2 compile options */
  pcre2_code *code;
  pcre2_match_data *md;
  gboolean want_jit;
  gint jit_state;   /* 0: not tried yet, 1: JIT-compiled, -1: JIT failed */
  GArray *groups;   /* TgRuleGroup, named capture groups */
  TgRulePrefilter *pf; /* NULL: always run the regex */
} TgRuleRegex;

/* Compile; on failure returns NULL, *msg_r is PCRE2's message and *offset_r
 * the byte offset into pattern.  JIT compilation waits for the first match
 * (tg_rule_regex_jit). */
TgRuleRegex *tg_rule_regex_new(const char *pattern, gsize len, const char *flags,
                               gboolean want_jit, TgRuleField field, char **msg_r,
                               gsize *offset_r);
void tg_rule_regex_free(TgRuleRegex *re);
/* JIT-compiles RE on its first use, when the ruleset wants JIT. */
void tg_rule_regex_jit(TgRuleRegex *re);
gboolean tg_rule_regex_has_group(const TgRuleRegex *re, const char *name);

/* ---- rules -------------------------------------------------------------- */

typedef enum {
  TG_COND_MATCH,
  TG_COND_SIZE,
  TG_COND_IS_NEW,
  TG_COND_IS_REPLY,
  TG_COND_FROM_STAFF,
  TG_COND_ANY,
} TgRuleCondKind;

typedef enum { TG_SIZE_GT, TG_SIZE_GE, TG_SIZE_LT, TG_SIZE_LE } TgRuleSizeOp;

typedef struct TgRuleCond TgRuleCond;
struct TgRuleCond {
  TgRuleCondKind kind;
  gboolean negate;   /* `not ...` or `!~` */
  guint line, col;
  TgRuleField field; /* TG_COND_MATCH */
  char *header;      /* TG_FIELD_HEADER: header name */
  TgRuleRegex *re;
  TgRuleSizeOp size_op;
  guint64 size;
  GPtrArray *children; /* TG_COND_ANY: TgRuleCond* */
};

typedef enum {
  TG_ACT_SET_QUEUE,
  TG_ACT_SET_PRIORITY,
  TG_ACT_SET_POLICY,
  TG_ACT_SET_FIELD,
  TG_ACT_TAG,
  TG_ACT_UNTAG,
  TG_ACT_ASSIGN,
  TG_ACT_ESCALATE_LEVEL,
  TG_ACT_ESCALATE_TO,
  TG_ACT_REPLY,
  TG_ACT_NOREPLY,
  TG_ACT_QUARANTINE,
  TG_ACT_STOP,
} TgRuleActKind;

typedef struct {
  TgRuleActKind kind;
  guint line;
  char *name;   /* set field: field name */
  char *value;  /* template string with ${capture}s */
  guint level;  /* escalate level */
  char *reason; /* template string, may be NULL */
  guint value_col, reason_col; /* where the strings start, for diagnostics */
} TgRuleAct;

typedef struct {
  char *name;
  const char *file; /* owned by the ruleset's file list */
  guint line, col;
  GPtrArray *conds;   /* TgRuleCond*, all must hold */
  GPtrArray *actions; /* TgRuleAct* */
  guint32 required;   /* bit per TgRuleField that must be present to match */
  gboolean stops_always; /* no conditions and a stop action */
} TgRule;

void tg_rule_free(TgRule *rule);
void tg_rule_cond_free(TgRuleCond *cond);
void tg_rule_act_free(TgRuleAct *act);

struct TgRuleset {
  gint ref;
  GPtrArray *rules; /* TgRule* */
  GPtrArray *files; /* char*, one per source, rule->file points here */
  pcre2_match_context *mctx;
  pcre2_jit_stack *jit_stack;
  gboolean jit_ok;
  guint8 *pf_bits;  /* prefilter scratch: one bitset shared by all fields */
  /* Per rule, one positive prefiltered condition acts as the rule's gate,
   * flattened into gate[] (TG_RULE_NO_GATE: the rule has none). */
  guint32 *gate_at;
  guint8 *gate_field;
  GArray *gate;     /* guint32 */
};

#define TG_RULE_NO_GATE G_MAXUINT32

/* ---- parser (rule_parse.c) and lint (rule_lint.c) ----------------------- */

/* Parse one source, appending rules to rules and diagnostics to diags.
 * file is the name used in diagnostics (borrowed; must outlive rules). */
void tg_rule_parse_source(const char *file, const char *text, gsize len, gboolean want_jit,
                          GPtrArray *rules, GPtrArray *diags);

/* Warnings for rules that can never fire, duplicate names and the like. */
void tg_rule_lint_rules(GPtrArray *rules, GPtrArray *diags);

TgRuleDiag *tg_rule_diag_new(TgRuleDiagLevel level, const char *file, guint line, guint col,
                             const char *fmt, ...) G_GNUC_PRINTF(5, 6);

/* ---- results (rule_result.c) ------------------------------------------- */

TgRuleResult *tg_rule_result_new(void);
void tg_rule_result_add_unique(GPtrArray *list, const char *value);
gboolean tg_rule_result_remove(GPtrArray *list, const char *value);

/* ---- ${capture} expansion (rule_expand.c) ------------------------------- */

/* Append the names tmpl references as ${name} to names (char*, owned by
 * names).  Returns FALSE with *why_r (static text) when a ${ is malformed. */
gboolean tg_rule_expand_scan(const char *tmpl, GPtrArray *names, const char **why_r);
/* Expand ${name} from captures (char*->char*); missing names expand to "". */
char *tg_rule_expand(const char *tmpl, GHashTable *captures);
