/*
 * filters/rule_prefilter.c — skip a regex when its required literal is absent.
 *
 * PURPOSE
 *   Most rule patterns are alternations of words (`invoice|receipt|請求書`).  At
 *   load, tg_rule_prefilter_new() splits a pattern into top-level branches and
 *   picks, per branch, the longest run of literal characters the branch cannot
 *   match without.  At evaluation, tg_rule_prefilter_add_text() sets one bit
 *   per byte trigram of each field's folded text (once per message and field),
 *   and tg_rule_prefilter_pass() says whether some branch's literal could be
 *   present.  If not, the regex cannot match and is not run.  This is what
 *   keeps 1,000 rules cheap: a bit test costs nanoseconds, a body regex costs
 *   microseconds.
 *
 * CORRECTNESS
 *   The prefilter may say "maybe" wrongly (hash collisions) but must never say
 *   "no" when the regex would match.  So extraction is deliberately timid:
 *   anything it does not fully understand (\Q, \x, back-references, inline
 *   option settings, (*VERBS), /x) yields no prefilter and the regex always
 *   runs.  Case: text and literals are folded the same way (ASCII to lower
 *   case, plus U+212A KELVIN SIGN to k and U+017F LONG S to s, the only
 *   non-ASCII characters PCRE2 matches caselessly against ASCII letters), and
 *   under /i a literal may not contain a non-ASCII character that has case.
 *
 * OWNERSHIP
 *   new() returns (transfer full) or NULL ("no prefilter"); free() accepts NULL.
 */
#include "filters/rule_priv.h"

#include <string.h>

#define TG_PREFILTER_MIN_LITERAL 3
#define TG_PREFILTER_MAX_HASHES 12

static inline guint32
trigram_hash(TgRuleField field, guint8 a, guint8 b, guint8 c)
{
  guint32 x = (guint32)a | ((guint32)b << 8) | ((guint32)c << 16);
  x = (x ^ ((guint32)field * 0x85EBCA6Bu)) * 0x9E3779B1u;
  return x >> (32 - TG_PREFILTER_BITS);
}

/* Append the folded form of one UTF-8 character at s (valid UTF-8) to out;
 * returns its byte length in s. */
static gsize
fold_char(const char *s, gsize avail, GByteArray *out)
{
  guint8 c = (guint8)s[0];
  if (c < 0x80) {
    guint8 l = (guint8)g_ascii_tolower(c);
    g_byte_array_append(out, &l, 1);
    return 1;
  }
  if (avail >= 3 && memcmp(s, "\xE2\x84\xAA", 3) == 0) { /* U+212A KELVIN SIGN */
    g_byte_array_append(out, (const guint8 *)"k", 1);
    return 3;
  }
  if (avail >= 2 && memcmp(s, "\xC5\xBF", 2) == 0) { /* U+017F LATIN SMALL LETTER LONG S */
    g_byte_array_append(out, (const guint8 *)"s", 1);
    return 2;
  }
  g_byte_array_append(out, (const guint8 *)s, 1);
  return 1;
}

/* ASCII folded to lower case, one load per byte. */
static const guint8 ascii_fold[128] = {
#define R(i) (guint8)((i) >= 'A' && (i) <= 'Z' ? (i) + ('a' - 'A') : (i))
#define R8(i) R(i), R(i + 1), R(i + 2), R(i + 3), R(i + 4), R(i + 5), R(i + 6), R(i + 7)
    R8(0),  R8(8),  R8(16), R8(24), R8(32), R8(40),  R8(48),  R8(56),
    R8(64), R8(72), R8(80), R8(88), R8(96), R8(104), R8(112), R8(120),
#undef R8
#undef R
};

/* The next folded byte of [*p, end) (end > *p), advancing *p past it. */
static inline guint32
fold_next(const guint8 **p, const guint8 *end)
{
  const guint8 *q = *p;
  guint32 f = *q;
  if (f < 0x80) {
    *p = q + 1;
    return ascii_fold[f];
  }
  if (f == 0xE2 && end - q >= 3 && q[1] == 0x84 && q[2] == 0xAA) {
    *p = q + 3;
    return 'k';
  }
  if (f == 0xC5 && end - q >= 2 && q[1] == 0xBF) {
    *p = q + 2;
    return 's';
  }
  *p = q + 1;
  return f;
}

/* Eight bytes of ASCII folded at once: a byte gets 0x20 when it is in
 * 'A'..'Z'.  No byte carries into the next: all are below 0x80. */
static inline guint64
fold_ascii8(guint64 w)
{
  const guint64 ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
  guint64 ge_a = w + ones * (0x80 - 'A');
  guint64 gt_z = w + ones * (0x80 - 'Z' - 1);
  return w | ((ge_a & ~gt_z & high) >> 2);
}

static inline void
set_trigram(guint8 *bits, guint32 salt, guint32 trigram)
{
  guint32 h = ((trigram ^ salt) * 0x9E3779B1u) >> (32 - TG_PREFILTER_BITS);
  bits[h >> 3] |= (guint8)(1u << (h & 7));
}

void
tg_rule_prefilter_add_text(guint8 *bits, TgRuleField field, const char *text, gsize len)
{
  /* Fold on the fly; bytes of non-special multibyte characters pass
   * through unchanged, which matches fold_char().  The window holds the
   * last three folded bytes as trigram_hash() combines them.  This loop
   * runs over every byte of every message, so eight ASCII bytes (most
   * text) are folded together and their trigrams cut out of one word;
   * anything else goes a character at a time. */
  const guint8 *p = (const guint8 *)text, *end = p + len;
  const guint32 salt = (guint32)field * 0x85EBCA6Bu;
  guint32 window = 0;
  for (int primed = 0; primed < 2; primed++) {
    if (p == end)
      return;
    window = (window >> 8) | (fold_next(&p, end) << 16);
  }
  while (p < end) {
    guint64 w;
    if (end - p >= 8 && (memcpy(&w, p, 8), !(w & 0x8080808080808080ull))) {
      w = fold_ascii8(w);
      /* The two bytes before these, then the first six of them. */
      guint64 x = (guint64)(window >> 8) | (w << 16);
      for (int k = 0; k < 6; k++)
        set_trigram(bits, salt, (guint32)(x >> (8 * k)) & 0xFFFFFF);
      set_trigram(bits, salt, (guint32)(w >> 32) & 0xFFFFFF);
      window = (guint32)(w >> 40) & 0xFFFFFF;
      set_trigram(bits, salt, window);
      p += 8;
      continue;
    }
    window = (window >> 8) | (fold_next(&p, end) << 16);
    set_trigram(bits, salt, window);
  }
}

gboolean
tg_rule_prefilter_pass(const TgRulePrefilter *pf, const guint8 *bits)
{
  for (guint b = 0; b < pf->n_branches; b++) {
    gboolean all = TRUE;
    for (guint i = 0; i < pf->branch_len[b] && all; i++) {
      guint32 h = pf->hashes[b][i];
      all = (bits[h >> 3] >> (h & 7)) & 1;
    }
    if (all)
      return TRUE;
  }
  return FALSE;
}

void
tg_rule_prefilter_flatten(const TgRulePrefilter *pf, GArray *out)
{
  guint32 n = pf->n_branches;
  g_array_append_val(out, n);
  for (guint b = 0; b < pf->n_branches; b++) {
    guint32 len = pf->branch_len[b];
    g_array_append_val(out, len);
    g_array_append_vals(out, pf->hashes[b], len);
  }
}

gboolean
tg_rule_prefilter_pass_flat(const guint32 *flat, const guint8 *bits)
{
  guint32 n = *flat++;
  for (guint32 b = 0; b < n; b++) {
    guint32 len = *flat++;
    guint32 i = 0;
    while (i < len && ((bits[flat[i] >> 3] >> (flat[i] & 7)) & 1))
      i++;
    if (i == len)
      return TRUE;
    flat += len;
  }
  return FALSE;
}

/* ---- literal extraction ------------------------------------------------- */

typedef struct {
  const char *p, *end;
  gboolean caseless;
  gboolean bad;          /* give up: no prefilter for this pattern */
  GByteArray *run;       /* current literal run (folded) */
  GArray *run_starts;    /* byte offset in run where each char starts */
  GByteArray *best;      /* longest run of this branch */
} Scan;

static void
end_run(Scan *s)
{
  if (s->run->len > s->best->len) {
    g_byte_array_set_size(s->best, 0);
    g_byte_array_append(s->best, s->run->data, s->run->len);
  }
  g_byte_array_set_size(s->run, 0);
  g_array_set_size(s->run_starts, 0);
}

/* A quantifier that may repeat zero times makes the last character optional:
 * drop it from the run, then end the run. */
static void
optional_last(Scan *s)
{
  if (s->run_starts->len > 0) {
    guint last = g_array_index(s->run_starts, guint, s->run_starts->len - 1);
    g_byte_array_set_size(s->run, last);
    g_array_set_size(s->run_starts, s->run_starts->len - 1);
  }
  end_run(s);
}

static void
add_char(Scan *s, const char *c, gsize n)
{
  if (s->caseless && (guint8)c[0] >= 0x80) {
    gunichar u = g_utf8_get_char_validated(c, (gssize)n);
    if (u == (gunichar)-1 || u == (gunichar)-2 || g_unichar_tolower(u) != u ||
        g_unichar_toupper(u) != u || g_unichar_totitle(u) != u) {
      end_run(s); /* a cased non-ASCII letter has case variants we do not fold */
      return;
    }
  }
  guint start = s->run->len;
  g_array_append_val(s->run_starts, start);
  for (gsize k = 0; k < n;)
    k += fold_char(c + k, n - k, s->run);
}

/* Skip a [...] class starting at s->p (which points at '['). */
static void
skip_class(Scan *s)
{
  s->p++;
  if (s->p < s->end && *s->p == '^')
    s->p++;
  if (s->p < s->end && *s->p == ']')
    s->p++;
  while (s->p < s->end && *s->p != ']') {
    if (*s->p == '\\') {
      s->p += 2;
    } else if (*s->p == '[' && s->p + 1 < s->end && s->p[1] == ':') {
      const char *close = g_strstr_len(s->p + 2, s->end - s->p - 2, ":]");
      if (close == NULL) {
        s->bad = TRUE;
        return;
      }
      s->p = close + 2;
    } else {
      s->p++;
    }
  }
  if (s->p >= s->end)
    s->bad = TRUE;
  else
    s->p++;
}

/* Skip a (...) group starting at s->p (which points at '('). */
static void
skip_group(Scan *s)
{
  if (s->p + 1 < s->end && s->p[1] == '*') {
    s->bad = TRUE; /* (*VERB) or (*UTF) style settings */
    return;
  }
  if (s->p + 1 < s->end && s->p[1] == '?') {
    char k = s->p + 2 < s->end ? s->p[2] : '\0';
    if (strchr(":<=!>|'P", k) == NULL || k == '\0') {
      s->bad = TRUE; /* (?i) and friends change how later literals match; (?# */
      return;
    }
  }
  int depth = 0;
  while (s->p < s->end) {
    char c = *s->p;
    if (c == '\\') {
      if (s->p + 1 < s->end && (s->p[1] == 'Q' || s->p[1] == 'E')) {
        s->bad = TRUE;
        return;
      }
      s->p += 2;
      continue;
    }
    if (c == '[') {
      skip_class(s);
      if (s->bad)
        return;
      continue;
    }
    s->p++;
    if (c == '(')
      depth++;
    else if (c == ')' && --depth == 0)
      return;
  }
  s->bad = TRUE;
}

/* Skip {n}, {n,}, {n,m}, {,m} if it is a quantifier; returns FALSE if the
 * brace is something else (a literal brace in PCRE2 — too subtle, give up). */
static gboolean
skip_braces(Scan *s)
{
  const char *q = s->p + 1;
  while (q < s->end && (g_ascii_isdigit(*q) || *q == ',' || *q == ' '))
    q++;
  if (q >= s->end || *q != '}')
    return FALSE;
  s->p = q + 1;
  return TRUE;
}

/* Scan one top-level branch, stopping at '|' or the end; fills s->best. */
static void
scan_branch(Scan *s)
{
  g_byte_array_set_size(s->best, 0);
  g_byte_array_set_size(s->run, 0);
  g_array_set_size(s->run_starts, 0);
  while (s->p < s->end && !s->bad) {
    char c = *s->p;
    if (c == '|')
      break;
    switch (c) {
    case '\\': {
      if (s->p + 1 >= s->end) {
        s->bad = TRUE;
        break;
      }
      char e = s->p[1];
      if (g_ascii_isalnum(e)) {
        /* Argument-less escapes are simply not literal; anything that takes
         * an argument or names a character is beyond this scanner. */
        if (strchr("dDsSwWbBAzZGhHvVRXKN", e) == NULL || (e == 'N' && s->p + 2 < s->end && s->p[2] == '{')) {
          s->bad = TRUE;
          break;
        }
        end_run(s);
        s->p += 2;
      } else if ((guint8)e >= 0x80) {
        s->bad = TRUE;
      } else {
        add_char(s, s->p + 1, 1);
        s->p += 2;
      }
      break;
    }
    case '*':
    case '?':
      optional_last(s);
      s->p++;
      break;
    case '{':
      if (!skip_braces(s)) {
        s->bad = TRUE;
        break;
      }
      optional_last(s); /* {0,..} may drop it; be timid about {n} too */
      break;
    case '+':
      end_run(s);
      s->p++;
      break;
    case '(':
      end_run(s);
      skip_group(s);
      break;
    case ')':
      s->bad = TRUE;
      break;
    case '[':
      end_run(s);
      skip_class(s);
      break;
    case '.':
    case '^':
    case '$':
      end_run(s);
      s->p++;
      break;
    default: {
      gsize n = (guint8)c < 0x80 ? 1 : (gsize)(g_utf8_next_char(s->p) - s->p);
      if (n > (gsize)(s->end - s->p)) {
        s->bad = TRUE;
        break;
      }
      add_char(s, s->p, n);
      s->p += n;
    }
    }
  }
  end_run(s);
}

TgRulePrefilter *
tg_rule_prefilter_new(const char *pattern, gsize len, guint32 options, TgRuleField field)
{
  if (options & PCRE2_EXTENDED)
    return NULL; /* whitespace and # comments change what is literal */
  Scan s = {
    .p = pattern,
    .end = pattern + len,
    .caseless = (options & PCRE2_CASELESS) != 0,
    .run = g_byte_array_new(),
    .run_starts = g_array_new(FALSE, FALSE, sizeof(guint)),
    .best = g_byte_array_new(),
  };
  GPtrArray *literals = g_ptr_array_new_with_free_func((GDestroyNotify)g_byte_array_unref);
  for (;;) {
    scan_branch(&s);
    if (s.bad || s.best->len < TG_PREFILTER_MIN_LITERAL) {
      s.bad = TRUE; /* a branch with no literal can match anything */
      break;
    }
    g_ptr_array_add(literals, g_byte_array_ref(s.best));
    g_byte_array_unref(s.best);
    s.best = g_byte_array_new();
    if (s.p >= s.end)
      break;
    s.p++; /* the '|' */
  }
  TgRulePrefilter *pf = NULL;
  if (!s.bad) {
    pf = g_new0(TgRulePrefilter, 1);
    pf->n_branches = literals->len;
    pf->branch_len = g_new0(guint, literals->len);
    pf->hashes = g_new0(guint32 *, literals->len);
    for (guint b = 0; b < literals->len; b++) {
      GByteArray *lit = g_ptr_array_index(literals, b);
      guint n = lit->len - 2;
      /* Spread a bounded number of trigrams over the literal. */
      guint take = MIN(n, TG_PREFILTER_MAX_HASHES);
      pf->branch_len[b] = take;
      pf->hashes[b] = g_new(guint32, take);
      for (guint i = 0; i < take; i++) {
        guint at = take == 1 ? 0 : (guint)((guint64)i * (n - 1) / (take - 1));
        pf->hashes[b][i] = trigram_hash(field, lit->data[at], lit->data[at + 1], lit->data[at + 2]);
      }
    }
  }
  g_ptr_array_unref(literals);
  g_byte_array_unref(s.run);
  g_array_unref(s.run_starts);
  g_byte_array_unref(s.best);
  return pf;
}

void
tg_rule_prefilter_free(TgRulePrefilter *pf)
{
  if (pf == NULL)
    return;
  for (guint b = 0; b < pf->n_branches; b++)
    g_free(pf->hashes[b]);
  g_free(pf->hashes);
  g_free(pf->branch_len);
  g_free(pf);
}
