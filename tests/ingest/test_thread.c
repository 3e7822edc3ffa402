/* test_thread.c - subject cleaning, subject tags, signed reply addresses. */
#include "tickets/thread.h"

static void test_clean_subject(void) {
  static const struct { const char *in, *out; } cases[] = {
      {"Re: hello", "hello"},
      {"RE: Re: re: hello", "hello"},
      {"Fwd: FW: fw: hello", "hello"},
      {"AW: WG: SV: VS: hello", "hello"},
      {"Re[2]: Re(3): hello", "hello"},
      {"返信: 転送: hello", "hello"},
      {"返信：転送：お問い合わせ", "お問い合わせ"},
      {"Re: [Support #12] Printer", "Printer"},
      {"[Support #12] Re: Printer", "Printer"},
      {"Printer [support #12] broken", "Printer broken"},
      {"  \u3000Re:  spaced  ", "spaced"},
      {"Regarding: not a prefix", "Regarding: not a prefix"},
      {"Re:", ""},
      {"", ""},
      {"[Other #3] kept", "[Other #3] kept"},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *got = tg_thread_clean_subject(cases[i].in, "Support");
    g_assert_cmpstr(got, ==, cases[i].out);
  }
}

static void test_tags(void) {
  g_assert_cmpint(tg_thread_subject_tag("Re: [Support #42] x", "Support"), ==, 42);
  g_assert_cmpint(tg_thread_subject_tag("[ support  # 7 ]", "Support"), ==, 7);
  g_assert_cmpint(tg_thread_subject_tag("[Support #] x", "Support"), ==, 0);
  g_assert_cmpint(tg_thread_subject_tag("[Support #0]", "Support"), ==, 0);
  g_assert_cmpint(tg_thread_subject_tag("[Support #99999999999999999999]", "Support"), ==, 0);
  g_assert_cmpint(tg_thread_subject_tag("[Sales #5]", "Support"), ==, 0);
  g_assert_cmpint(tg_thread_subject_tag("[[[[Support #5]", "Support"), ==, 5);
  g_autofree char *ref = tg_thread_ref("Support", 12);
  g_assert_cmpstr(ref, ==, "[Support #12]");
}

static void test_reply_address(void) {
  g_autoptr(GBytes) secret = g_bytes_new_static("0123456789abcdef0123456789abcdef", 32);
  g_autoptr(GBytes) other = g_bytes_new_static("fedcba9876543210fedcba9876543210", 32);
  char *support[] = {"support@example.com", "help@example.org", NULL};
  g_autofree char *addr = tg_thread_reply_address("support@example.com", 77, secret);
  g_assert_true(g_str_has_prefix(addr, "support+77-"));
  g_assert_true(g_str_has_suffix(addr, "@example.com"));
  gboolean forged = TRUE;
  g_assert_cmpint(tg_thread_parse_reply_address(addr, support, secret, &forged), ==, 77);
  g_assert_false(forged);
  /* Case does not matter in mail; the token survives upper-casing. */
  g_autofree char *upper = g_ascii_strup(addr, -1);
  g_assert_cmpint(tg_thread_parse_reply_address(upper, support, secret, NULL), ==, 77);
  /* Another secret, another ticket number, another domain: no. */
  g_assert_cmpint(tg_thread_parse_reply_address(addr, support, other, &forged), ==, 0);
  g_assert_true(forged);
  g_autofree char *t77 = tg_thread_token(secret, "ticket", 77);
  g_autofree char *swapped = g_strdup_printf("support+78-%s@example.com", t77);
  g_assert_cmpint(tg_thread_parse_reply_address(swapped, support, secret, NULL), ==, 0);
  g_autofree char *elsewhere = g_strdup_printf("support+77-%s@evil.example", t77);
  g_assert_cmpint(tg_thread_parse_reply_address(elsewhere, support, secret, NULL), ==, 0);
  g_assert_cmpint(tg_thread_parse_reply_address("support@example.com", support, secret, NULL), ==, 0);
  g_assert_cmpint(tg_thread_parse_reply_address("support+x-y@example.com", support, secret, NULL), ==, 0);
  g_assert_true(tg_thread_is_support_address("Help+anything@example.org", support));
  g_assert_false(tg_thread_is_support_address("helpdesk@example.org", support));
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/thread/clean-subject", test_clean_subject);
  g_test_add_func("/thread/tags", test_tags);
  g_test_add_func("/thread/reply-address", test_reply_address);
  return g_test_run();
}
