/*
 * filters/rules.h — the public face of the routing-rule engine.
 *
 * PURPOSE
 *   Admins route tickets with `*.rules` files (see docs/rules.md).  This header
 *   is everything the rest of ticketgate needs: load a directory of rule files
 *   into an immutable TgRuleset, check a directory (errors and warnings as
 *   `file:line:col: message` strings), evaluate one message against a ruleset,
 *   and render the outcome as JSON for `ticketgate rules test --json`.
 *
 *   filters/ knows nothing of sockets, MIME or SQLite: the caller fills a plain
 *   TgRuleInput with decoded UTF-8 text and reads a plain TgRuleResult back.
 *
 * FAILURE
 *   Loading is all-or-nothing: any syntax or regex error makes the load return
 *   NULL, every error (not just the first) is in the diagnostics list, and the
 *   caller keeps running its previous ruleset.  Evaluation cannot fail: a regex
 *   that hits a PCRE2 limit or meets invalid UTF-8 is a warning in the result,
 *   the rule is skipped, and the rest of the rules still run.
 *
 * OWNERSHIP
 *   Every function says (transfer full) or (transfer none).  TgRuleInput is
 *   owned by the caller and only borrowed during tg_ruleset_eval().  A
 *   TgRuleset is reference counted; swapping rulesets on reload is
 *   "load new, then unref old", and an evaluation in flight holds its own ref.
 *
 * THREADS
 *   A ruleset keeps PCRE2 match data with each pattern and a prefilter scratch
 *   area, so one ruleset is evaluated by one thread at a time.  Loading is
 *   thread-safe (it touches no shared state).
 *
 * SECURITY
 *   Rule files are admin input; messages are peer input.  Every match runs with
 *   match, depth and heap limits (and a bounded JIT stack), so a pathological
 *   pattern costs at most a bounded amount of CPU per message and never blocks
 *   mail.  Input strings are validated as UTF-8 once per evaluation; patterns
 *   are then matched with PCRE2_NO_UTF_CHECK, never on unvalidated bytes.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* ---- diagnostics ------------------------------------------------------- */

typedef enum {
  TG_RULE_DIAG_ERROR,
  TG_RULE_DIAG_WARNING,
} TgRuleDiagLevel;

/* One error or warning.  file is NULL for warnings about the message itself
 * (e.g. a field that is not valid UTF-8); line/col are 1-based, col counts
 * characters (not bytes) so it matches what an editor shows for Japanese text. */
typedef struct {
  TgRuleDiagLevel level;
  char *file;
  guint line;
  guint col;
  char *message;
} TgRuleDiag;

/* "file:line:col: message" for errors, "file:line:col: warning: message" for
 * warnings, "input: warning: message" when there is no file.  (transfer full) */
char *tg_rule_diag_format(const TgRuleDiag *diag);
void tg_rule_diag_free(TgRuleDiag *diag);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TgRuleDiag, tg_rule_diag_free)

#define TG_RULES_ERROR (tg_rules_error_quark())
GQuark tg_rules_error_quark(void);
typedef enum {
  TG_RULES_ERROR_IO,      /* directory or file unreadable */
  TG_RULES_ERROR_INVALID, /* one or more syntax / regex errors; see diagnostics */
} TgRulesError;

/* ---- loading ----------------------------------------------------------- */

/* Per-match PCRE2 limits.  Zero fields take the defaults below. */
typedef struct {
  guint32 match_limit;    /* PCRE2 match limit (backtracking steps) */
  guint32 depth_limit;    /* PCRE2 depth limit (interpreter only) */
  guint32 heap_limit_kib; /* PCRE2 heap limit in KiB (interpreter only) */
  gsize jit_stack_max;    /* bytes of JIT stack */
  gboolean no_jit;        /* do not JIT-compile at all */
} TgRuleLoadOptions;

#define TG_RULES_DEFAULT_MATCH_LIMIT 200000u
#define TG_RULES_DEFAULT_DEPTH_LIMIT 10000u
#define TG_RULES_DEFAULT_HEAP_LIMIT_KIB 8192u
#define TG_RULES_DEFAULT_JIT_STACK_MAX (1024u * 1024u)

/* A rule file held in memory: the embedded default set, and tests. */
typedef struct {
  const char *name; /* shown in diagnostics, e.g. "10-billing.rules" */
  const char *text; /* need not be NUL-terminated */
  gssize len;       /* -1: text is NUL-terminated */
} TgRuleSource;

typedef struct TgRuleset TgRuleset;

/* Parse and compile sources in the given order.  On success returns a new
 * ruleset (transfer full).  On failure returns NULL and sets error
 * (TG_RULES_ERROR_INVALID).  Either way *diags_r (if not NULL) receives every
 * error and warning, sorted by file order then line/col: a GPtrArray of
 * TgRuleDiag* with a free func (transfer full).  opts may be NULL. */
TgRuleset *tg_ruleset_load_sources(const TgRuleSource *sources, gsize n_sources,
                                   const TgRuleLoadOptions *opts, GPtrArray **diags_r,
                                   GError **error);

/* Load every `*.rules` file in dir, in byte-wise file-name order.  Diagnostics
 * name files by their path as dir/NAME.  Same contract as load_sources; an
 * unreadable directory or file is TG_RULES_ERROR_IO.  An empty directory is a
 * valid, empty ruleset. */
TgRuleset *tg_ruleset_load_dir(const char *dir, const TgRuleLoadOptions *opts,
                               GPtrArray **diags_r, GError **error);

/* For `ticketgate check`: load dir and return every diagnostic formatted with
 * tg_rule_diag_format() in *lines_r (NULL-terminated, transfer full, never NULL
 * on return).  Returns TRUE if there were no errors (warnings allowed); FALSE
 * with error set otherwise. */
gboolean tg_ruleset_check_dir(const char *dir, GStrv *lines_r, GError **error);

TgRuleset *tg_ruleset_ref(TgRuleset *rs);
void tg_ruleset_unref(TgRuleset *rs);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TgRuleset, tg_ruleset_unref)

/* Calls FN for every literal name the rules use from elsewhere: KIND is
 * "policy" (set policy NAME) or "template" (reply NAME), with the action's
 * file and line.  Names built from ${captures} are skipped. */
typedef void (*TgRuleRefFunc)(const char *kind, const char *name, const char *file,
                              guint line, gpointer data);
void tg_ruleset_foreach_ref(const TgRuleset *rs, TgRuleRefFunc fn, gpointer data);

guint tg_ruleset_n_rules(const TgRuleset *rs);
/* TRUE when patterns are JIT-compiled (on their first match); FALSE when
 * JIT is unavailable or turned off. */
gboolean tg_ruleset_jit_ok(const TgRuleset *rs);

/* ---- the message, as rules see it -------------------------------------- */

typedef struct {
  const char *address; /* "user@example.com"; NULL if absent */
  const char *name;    /* display name, decoded; NULL if absent */
} TgRuleAddress;

typedef struct {
  const char *name;  /* header field name, matched case-insensitively */
  const char *value; /* decoded UTF-8, unfolded */
} TgRuleHeader;

typedef struct {
  const char *filename;     /* NULL if the part has none */
  const char *content_type; /* "application/pdf" */
} TgRuleAttachment;

/* All pointers are borrowed (transfer none) for the duration of the call.
 * Strings should be UTF-8; a field that is not is reported as one warning and
 * conditions on it skip their rule.  NULL / zero counts mean "absent": rules
 * that need an absent field are skipped without running a regex. */
typedef struct {
  TgRuleAddress from;
  const TgRuleAddress *to;
  gsize n_to;
  const TgRuleAddress *cc;
  gsize n_cc;
  const char *recipient; /* envelope recipient (RCPT TO) */
  const char *sender;    /* envelope sender (MAIL FROM); "" for the null sender */
  const char *subject;
  const char *body;      /* decoded text body */
  gssize body_len;       /* -1: NUL-terminated */
  const TgRuleHeader *headers;
  gsize n_headers;
  const TgRuleAttachment *attachments;
  gsize n_attachments;
  guint64 size;          /* raw message size in bytes */
  gboolean is_reply;     /* threaded onto an existing ticket */
  gboolean from_staff;   /* authenticated staff sender */
  /* The message's prefilter trigrams, built ahead (NULL: evaluation
   * builds them in the rule set's scratch space).  Evaluation adds the
   * fields it needs that are not there yet, so it is not const. */
  struct TgRulePrefilterBits *prefilter;
} TgRuleInput;

/* Hashing a long body into the prefilter's trigram bits is the biggest
 * part of evaluating rules.  The bits depend on the message alone, not on
 * any rule set, so a caller with a spare thread builds them there, while
 * the message waits for its turn in the store.  32 KiB each. */
typedef struct TgRulePrefilterBits TgRulePrefilterBits;
/* Builds the bits of every field of IN.  (transfer full) */
TgRulePrefilterBits *tg_rule_prefilter_bits_new(const TgRuleInput *in);
void tg_rule_prefilter_bits_free(TgRulePrefilterBits *bits);

/* ---- the outcome ------------------------------------------------------- */

/* A rule that fired.  captures: char* name -> char* value (named groups of the
 * patterns that matched, for templates). */
typedef struct {
  char *rule;
  char *file;
  guint line;
  GHashTable *captures;
} TgRuleMatch;

/* One action applied, for the audit log: "rule R at file:line did this". */
typedef struct {
  char *action; /* "set queue", "set priority", "set policy", "set field",
                   "tag", "untag", "assign", "escalate", "reply", "noreply",
                   "quarantine", "stop" */
  char *name;   /* field name for "set field", else NULL */
  char *value;  /* expanded value ("billing", "2", template name, ...) or NULL */
  char *reason; /* escalate / quarantine reason, else NULL */
  char *rule;
  char *file;
  guint line;   /* line of the action itself */
} TgRuleAction;

/* Later rules override earlier ones for every single-valued outcome;
 * `stop` ends evaluation.  NULL means "no rule set it". */
typedef struct {
  char *queue;
  char *priority; /* low | normal | high | urgent */
  char *policy;
  GHashTable *fields;      /* char* -> char* */
  GPtrArray *tags_added;   /* char*, in order, no duplicates */
  GPtrArray *tags_removed; /* char*, in order, no duplicates */
  char *assign;
  gboolean escalate;
  guint escalate_level;    /* 0 when escalating to a target */
  char *escalate_to;
  char *escalate_reason;
  GPtrArray *replies;      /* template names, in order, no duplicates */
  gboolean noreply;        /* suppress every automatic reply */
  char *quarantine_reason; /* non-NULL: quarantine the message */
  gboolean stopped;
  GPtrArray *matches;      /* TgRuleMatch*, in evaluation order */
  GPtrArray *actions;      /* TgRuleAction*, in the order applied */
  GHashTable *captures;    /* all matched rules' captures merged, later wins */
  GPtrArray *warnings;     /* TgRuleDiag* (match limits, bad UTF-8) */
} TgRuleResult;

void tg_rule_result_free(TgRuleResult *result);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TgRuleResult, tg_rule_result_free)

/* ---- evaluation -------------------------------------------------------- */

typedef enum {
  TG_RULE_EVAL_DEFAULT = 0,
  TG_RULE_EVAL_NO_JIT = 1 << 0,       /* use the interpreter (benchmarks) */
  TG_RULE_EVAL_NO_PREFILTER = 1 << 1, /* run every regex (benchmarks, tests) */
} TgRuleEvalFlags;

/* Evaluate rs against in; *result_r receives a new result (transfer full).
 * Never fails; see FAILURE above. */
void tg_ruleset_eval(TgRuleset *rs, const TgRuleInput *in, TgRuleResult **result_r);
void tg_ruleset_eval_full(TgRuleset *rs, const TgRuleInput *in, TgRuleEvalFlags flags,
                          TgRuleResult **result_r);

/* ---- JSON -------------------------------------------------------------- */

/* The result as a JSON object (schema in docs/rules.md); keys of maps are
 * sorted so the output is stable.  (transfer full) */
JsonNode *tg_rule_result_json_build(const TgRuleResult *result);
/* Same, serialized; pretty adds newlines and indentation.  (transfer full) */
char *tg_rule_result_json_string(const TgRuleResult *result, gboolean pretty);

G_END_DECLS
