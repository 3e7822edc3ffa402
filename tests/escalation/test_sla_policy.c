/* test_sla_policy.c - policy files and business time. */
#include "tickets/sla_policy.h"

#include "tests/support/test_util.h"

#include <string.h>

static gint64 at(const char *rfc3339) {
  g_autoptr(GDateTime) dt = g_date_time_new_from_iso8601(rfc3339, NULL);
  g_assert_nonnull(dt);
  return g_date_time_to_unix(dt);
}

static const char business[] =
    "policy \"tokyo\"\n"
    "    timezone Asia/Tokyo\n"
    "    hours mon-fri 09:00-18:00\n"
    "    holidays 2026-01-12\n"
    "    warn 10m before\n"
    "    keep-customer-informed every 4h\n"
    "    level 2 lead@example.com, boss@example.com after 30m without first-response notify-customer\n"
    "    level 3 manager@example.com after 2h without staff-update\n";

static void test_parse(void) {
  g_autoptr(GPtrArray) errors = NULL;
  g_autoptr(TgSlaPolicies) set = tg_sla_policies_parse("p.policy", business, &errors);
  g_assert_null(errors);
  const TgSlaPolicy *p = tg_sla_policies_find(set, "tokyo");
  g_assert_nonnull(p);
  g_assert_false(p->always);
  g_assert_cmpuint(p->warn_before, ==, 600);
  g_assert_cmpuint(p->keep_informed, ==, 4 * 3600);
  const TgSlaLevel *l2 = tg_sla_next_level(p, 1);
  g_assert_cmpuint(l2->level, ==, 2);
  g_assert_cmpstr(l2->targets[1], ==, "boss@example.com");
  g_assert_true(l2->notify_customer);
  const TgSlaLevel *l3 = tg_sla_next_level(p, 2);
  g_assert_cmpuint(l3->after, ==, 7200);
  g_assert_cmpint(l3->trigger, ==, TG_SLA_STAFF_UPDATE);
  g_assert_null(tg_sla_next_level(p, 3));
  /* The embedded default. */
  g_autoptr(TgSlaPolicies) def = tg_sla_policies_default();
  const TgSlaPolicy *std = tg_sla_policies_find(def, "standard");
  g_assert_true(std->always);
  g_assert_cmpstr(tg_sla_next_level(std, 1)->targets[0], ==, "escalation-l2@localhost");
  g_assert_cmpuint(tg_sla_next_level(std, 1)->after, ==, 1800);
  g_assert_cmpstr(tg_sla_next_level(std, 2)->targets[0], ==, "escalation-l3@localhost");
  g_assert_cmpuint(tg_sla_next_level(std, 2)->after, ==, 7200);
}

static void test_errors(void) {
  g_autoptr(GPtrArray) errors = NULL;
  g_autoptr(TgSlaPolicies) set = tg_sla_policies_parse("bad.policy",
      "    level 2 a@b after 1m without first-response\n"   /* 1 */
      "policy \"x\"\n"                                      /* 2 */
      "    timezone Mars/Olympus\n"                         /* 3 */
      "    hours mon-fri 18:00-09:00\n"                     /* 4 */
      "    level 1 a@b after 1m without first-response\n"   /* 5 */
      "    level 3 nobody after 1m without first-response\n"/* 6 */
      "    level 2 a@b after soon without first-response\n" /* 7 */
      "    level 4 a@b after 1m without lunch\n"            /* 8 */
      "    colour blue\n"                                   /* 9 */
      "    holidays 2026-02-30\n"                           /* 10 */
      "policy \"x\"\n",                                     /* 11 */
      &errors);
  g_assert_null(set);
  const char *want[] = {
      "bad.policy:1: setting outside a policy",
      "bad.policy:3: timezone: unknown zone 'Mars/Olympus'",
      "bad.policy:4: hours: '18:00-09:00' is not HH:MM-HH:MM with the end after the start",
      "bad.policy:5: level: expected a number from 2 to 20 (level 1 is the queue itself)",
      "bad.policy:6: level 3: 'nobody' is not a mail address",
      "bad.policy:7: level 2: expected 'after DURATION without first-response|staff-update'",
      "bad.policy:8: level 4: trigger 'lunch' is not first-response or staff-update",
      "bad.policy:9: unknown setting 'colour' (timezone, hours, holidays, warn, keep-customer-informed, level)",
      "bad.policy:10: holidays: '2026-02-30' is not a date YYYY-MM-DD",
      "bad.policy:11: policy \"x\" is defined twice",
  };
  tg_test_assert_all_present(errors, want, G_N_ELEMENTS(want));
}

static void test_business_time(void) {
  g_autoptr(GPtrArray) errors = NULL;
  g_autoptr(TgSlaPolicies) set = tg_sla_policies_parse("p", business, &errors);
  const TgSlaPolicy *p = tg_sla_policies_find(set, "tokyo");
  /* Friday 17:50 + 30 minutes, and Monday the 12th is a holiday in this
   * policy: Tuesday 09:20 (2026-01-09 is a Friday). */
  g_assert_cmpint(tg_sla_add(p, at("2026-01-09T17:50:00+09:00"), 1800), ==,
                  at("2026-01-13T09:20:00+09:00"));
  /* Without the holiday it is Monday 09:20. */
  g_autoptr(TgSlaPolicies) noh = tg_sla_policies_parse("p",
      "policy \"t\"\n    timezone Asia/Tokyo\n    hours mon-fri 09:00-18:00\n", &errors);
  const TgSlaPolicy *q = tg_sla_policies_find(noh, "t");
  g_assert_cmpint(tg_sla_add(q, at("2026-01-09T17:50:00+09:00"), 1800), ==,
                  at("2026-01-12T09:20:00+09:00"));
  /* Before opening: the clock starts at 09:00. */
  g_assert_cmpint(tg_sla_add(q, at("2026-01-07T07:00:00+09:00"), 1800), ==,
                  at("2026-01-07T09:30:00+09:00"));
  /* Saturday night -> Monday. */
  g_assert_cmpint(tg_sla_add(q, at("2026-01-10T23:00:00+09:00"), 60), ==,
                  at("2026-01-12T09:01:00+09:00"));
  g_assert_cmpuint(tg_sla_elapsed(q, at("2026-01-09T17:50:00+09:00"),
                                  at("2026-01-12T09:20:00+09:00")), ==, 1800);
  g_assert_cmpuint(tg_sla_elapsed(q, at("2026-01-10T00:00:00+09:00"),
                                  at("2026-01-11T23:00:00+09:00")), ==, 0);
  /* Around the clock: plain addition. */
  g_autoptr(TgSlaPolicies) def = tg_sla_policies_default();
  const TgSlaPolicy *std = tg_sla_policies_find(def, "standard");
  g_assert_cmpint(tg_sla_add(std, 1000, 1800), ==, 2800);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/sla/parse", test_parse);
  g_test_add_func("/sla/errors", test_errors);
  g_test_add_func("/sla/business-time", test_business_time);
  return g_test_run();
}
