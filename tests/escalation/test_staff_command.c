/* test_staff_command.c - parsing staff commands and trimming quotes. */
#include "tickets/staff_command.h"

static void test_parse(void) {
  g_autoptr(TgStaffCommands) c = tg_staff_command_parse(
      "\n#escalate 2 customer is a hospital, data loss\n#tag vip\n#priority urgent\n"
      "Dear customer,\nwe are on it.\n\nOn Fri, Jan 9, 2026 Erin wrote:\n> broken\n");
  g_assert_null(c->bad_text);
  g_assert_cmpuint(c->commands->len, ==, 3);
  TgStaffCommand *e = g_ptr_array_index(c->commands, 0);
  g_assert_cmpint(e->kind, ==, TG_CMD_ESCALATE);
  g_assert_cmpuint(e->level, ==, 2);
  g_assert_cmpstr(e->arg, ==, "customer is a hospital, data loss");
  g_assert_cmpstr(c->answer, ==, "Dear customer,\nwe are on it.");
  g_autoptr(TgStaffCommands) n = tg_staff_command_parse("#take\n#note tried X\nand Y\n> q");
  g_assert_cmpuint(n->commands->len, ==, 2);
  g_assert_cmpstr(n->note, ==, "tried X\nand Y");
  g_assert_cmpstr(n->answer, ==, "");
  g_autoptr(TgStaffCommands) next = tg_staff_command_parse("#escalate needs engineering");
  g_assert_cmpuint(((TgStaffCommand *)g_ptr_array_index(next->commands, 0))->level, ==, 0);
}

static void test_bad(void) {
  const char *bad[] = {"#frobnicate\n", "#status maybe\n", "#priority 9\n", "#escalate 1 x\n",
                       "#assign nobody\n", "#tag\n", "#take me\n", "#canned ../x\n"};
  for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autofree char *body = g_strconcat("#tag ok\n", bad[i], "answer", NULL);
    g_autoptr(TgStaffCommands) c = tg_staff_command_parse(body);
    g_assert_nonnull(c->bad_text);
    g_assert_nonnull(c->bad_error);
  }
  g_autoptr(TgStaffCommands) plain = tg_staff_command_parse("Hello\n#not a command here\n");
  g_assert_cmpuint(plain->commands->len, ==, 0);
  g_assert_null(plain->bad_text);
  g_assert_cmpstr(plain->answer, ==, "Hello\n#not a command here");
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/staff_command/parse", test_parse);
  g_test_add_func("/staff_command/bad", test_bad);
  return g_test_run();
}
