/*
 * filters/rule_regex.c — one compiled rule pattern.
 *
 * PURPOSE
 *   tg_rule_regex_new() compiles a `/pattern/flags` from a rule file with PCRE2
 *   in UTF + UCP mode (tg_rule_regex_jit() JIT-compiles it on first use when
 *   JIT is available), allocates the pattern's own match data, records its
 *   named groups (they feed ${name} in actions) and builds its literal
 *   prefilter.  tg_rule_regex_free() undoes it.
 *
 * FAILURE
 *   A compile error returns NULL with PCRE2's message and byte offset, which the
 *   parser maps to a file:line:col.  A JIT failure is not an error: the pattern
 *   keeps running in the interpreter (re->jit_state is -1).
 *
 * SECURITY
 *   \C is refused at compile time (it can split a UTF-8 character and read
 *   past it).  Limits are applied at match time by the caller's match context.
 */
#include "filters/rule_priv.h"

#include <string.h>

static guint32
flags_to_options(const char *flags)
{
  guint32 options = PCRE2_UTF | PCRE2_UCP | PCRE2_NEVER_BACKSLASH_C;
  for (const char *f = flags; *f; f++) {
    switch (*f) {
    case 'i': options |= PCRE2_CASELESS; break;
    case 'm': options |= PCRE2_MULTILINE; break;
    case 's': options |= PCRE2_DOTALL; break;
    case 'x': options |= PCRE2_EXTENDED; break;
    default: g_error("flag '%c' passed the parser", *f);
    }
  }
  return options;
}

static GArray *
named_groups(const pcre2_code *code)
{
  GArray *groups = g_array_new(FALSE, FALSE, sizeof(TgRuleGroup));
  guint32 count = 0, entry_size = 0;
  PCRE2_SPTR table = NULL;
  pcre2_pattern_info(code, PCRE2_INFO_NAMECOUNT, &count);
  pcre2_pattern_info(code, PCRE2_INFO_NAMEENTRYSIZE, &entry_size);
  pcre2_pattern_info(code, PCRE2_INFO_NAMETABLE, &table);
  for (guint32 i = 0; i < count; i++) {
    /* Each entry: 2-byte big-endian group number, then the NUL-terminated name. */
    PCRE2_SPTR entry = table + (gsize)i * entry_size;
    TgRuleGroup g = {
      .name = g_strdup((const char *)entry + 2),
      .group = ((guint32)entry[0] << 8) | entry[1],
    };
    g_array_append_val(groups, g);
  }
  return groups;
}

TgRuleRegex *
tg_rule_regex_new(const char *pattern, gsize len, const char *flags, gboolean want_jit,
                  TgRuleField field, char **msg_r, gsize *offset_r)
{
  guint32 options = flags_to_options(flags);
  int errcode = 0;
  PCRE2_SIZE erroffset = 0;
  pcre2_code *code = pcre2_compile((PCRE2_SPTR)pattern, len, options, &errcode, &erroffset, NULL);
  if (code == NULL) {
    PCRE2_UCHAR buf[256];
    pcre2_get_error_message(errcode, buf, sizeof buf);
    *msg_r = g_strdup((const char *)buf);
    *offset_r = erroffset;
    return NULL;
  }

  TgRuleRegex *re = g_new0(TgRuleRegex, 1);
  re->source = g_strndup(pattern, len);
  re->flags = g_strdup(flags);
  re->options = options;
  re->code = code;
  re->want_jit = want_jit;
  re->md = pcre2_match_data_create_from_pattern(code, NULL);
  re->groups = named_groups(code);
  re->pf = tg_rule_prefilter_new(pattern, len, options, field);
  return re;
}

/* Lazily: the prefilter keeps most patterns of a large set from ever
 * running on a given message, and a process that handles one message
 * (`deliver`) spent 2.5% of its CPU JIT-compiling patterns it never ran.
 * Every pattern that runs is still JIT-compiled first, so matching and
 * its limits are the same on every path.  A failure just means the
 * interpreter runs this pattern. */
void
tg_rule_regex_jit(TgRuleRegex *re)
{
  if (re->want_jit && re->jit_state == 0)
    re->jit_state = pcre2_jit_compile(re->code, PCRE2_JIT_COMPLETE) == 0 ? 1 : -1;
}

void
tg_rule_regex_free(TgRuleRegex *re)
{
  if (re == NULL)
    return;
  for (guint i = 0; i < re->groups->len; i++)
    g_free(g_array_index(re->groups, TgRuleGroup, i).name);
  g_array_free(re->groups, TRUE);
  tg_rule_prefilter_free(re->pf);
  pcre2_match_data_free(re->md);
  pcre2_code_free(re->code);
  g_free(re->source);
  g_free(re->flags);
  g_free(re);
}

gboolean
tg_rule_regex_has_group(const TgRuleRegex *re, const char *name)
{
  for (guint i = 0; i < re->groups->len; i++)
    if (strcmp(g_array_index(re->groups, TgRuleGroup, i).name, name) == 0)
      return TRUE;
  return FALSE;
}
