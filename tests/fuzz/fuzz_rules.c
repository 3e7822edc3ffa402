/* fuzz_rules.c - libFuzzer target: the rule language.  The input is one
 * rules file; when it loads, it is evaluated against a fixed message (with
 * Japanese text, headers and an attachment).  Loading must either succeed
 * or fail with at least one error diagnostic; evaluation never fails.
 */
#include "filters/rules.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  g_log_set_always_fatal(G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_ERROR);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  TgRuleSource src = {"fuzz.rules", (const char *)data, (gssize)size};
  /* Small PCRE2 limits keep each input fast; the limits are the point. */
  TgRuleLoadOptions opts = {.match_limit = 20000, .depth_limit = 1000,
                            .heap_limit_kib = 1024};
  g_autoptr(GPtrArray) diags = NULL;
  g_autoptr(GError) err = NULL;
  g_autoptr(TgRuleset) rs = tg_ruleset_load_sources(&src, 1, &opts, &diags, &err);
  if (!rs) {
    g_assert(err != NULL);
    return 0;
  }
  for (guint i = 0; diags && i < diags->len; i++)
    g_free(tg_rule_diag_format(g_ptr_array_index(diags, i)));
  static const TgRuleAddress to[] = {{"support@localhost", "Support"},
                                     {"billing@example.com", NULL}};
  static const TgRuleHeader headers[] = {
      {"From", "鈴木 一郎 <suzuki@example.co.jp>"},
      {"Subject", "【至急】請求書 #12345 が届きません"},
      {"X-Priority", "1"},
      {"Auto-Submitted", "no"},
      {"List-Id", "<ops.example.com>"}};
  static const TgRuleAttachment att[] = {{"請求書.pdf", "application/pdf"},
                                         {NULL, "image/png"}};
  TgRuleInput in = {
      .from = {"suzuki@example.co.jp", "鈴木 一郎"},
      .to = to, .n_to = 2,
      .recipient = "support@localhost",
      .sender = "suzuki@example.co.jp",
      .subject = "【至急】請求書 #12345 が届きません",
      .body = "お世話になっております。\nOrder no 11112222 failed: error 503\n"
              "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!\n",
      .body_len = -1,
      .headers = headers, .n_headers = G_N_ELEMENTS(headers),
      .attachments = att, .n_attachments = G_N_ELEMENTS(att),
      .size = 4321,
  };
  /* The prefilter only skips work: with it (in the rule set's scratch
   * bits, or in bits built ahead as import does) and without it, the
   * outcome is the same, unless a regex hit a limit (a warning) in one
   * evaluation and was never run in another. */
  char *json[3];
  gboolean warned = FALSE;
  for (int mode = 0; mode < 3; mode++) {
    g_autoptr(TgRuleResult) r = NULL;
    TgRuleInput with = in;
    if (mode == 2)
      with.prefilter = tg_rule_prefilter_bits_new(&in);
    tg_ruleset_eval_full(rs, &with, mode == 1 ? TG_RULE_EVAL_NO_PREFILTER : 0, &r);
    g_assert(r != NULL);
    warned |= r->warnings->len > 0;
    json[mode] = tg_rule_result_json_string(r, FALSE);
    tg_rule_prefilter_bits_free(with.prefilter);
  }
  if (!warned) {
    g_assert_cmpstr(json[0], ==, json[1]);
    g_assert_cmpstr(json[0], ==, json[2]);
  }
  for (int mode = 0; mode < 3; mode++)
    g_free(json[mode]);
  return 0;
}
