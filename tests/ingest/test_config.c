/* test_config.c - value parsers, the embedded default, file:line errors. */
#include "gateway/config.h"

#include "tests/support/test_util.h"

#include <string.h>
#include <unistd.h>

static void test_values(void) {
  guint64 b;
  g_assert_true(tg_config_parse_size("25M", &b) && b == 25u * 1024 * 1024);
  g_assert_true(tg_config_parse_size("512k", &b) && b == 512 * 1024);
  g_assert_true(tg_config_parse_size("1GB", &b) && b == 1024ULL * 1024 * 1024);
  g_assert_true(tg_config_parse_size("100", &b) && b == 100);
  g_assert_false(tg_config_parse_size("-1", &b));
  g_assert_false(tg_config_parse_size("12X", &b));
  g_assert_false(tg_config_parse_size("99999999999999999999G", &b));
  guint s;
  g_assert_true(tg_config_parse_duration("30s", &s) && s == 30);
  g_assert_true(tg_config_parse_duration("10m", &s) && s == 600);
  g_assert_true(tg_config_parse_duration("2h", &s) && s == 7200);
  g_assert_true(tg_config_parse_duration("1d", &s) && s == 86400);
  g_assert_false(tg_config_parse_duration("1w", &s));
  g_assert_false(tg_config_parse_duration("", &s));
  TgRate r;
  g_assert_true(tg_config_parse_rate("20/10m", &r) && r.count == 20 && r.window == 600);
  g_assert_true(tg_config_parse_rate("5/h", &r) && r.count == 5 && r.window == 3600);
  g_assert_true(tg_config_parse_rate("0", &r) && r.count == 0);
  g_assert_false(tg_config_parse_rate("5", &r));
  g_assert_false(tg_config_parse_rate("x/1h", &r));
  g_assert_false(tg_config_parse_rate("5/0s", &r));
}

static void test_embedded_default(void) {
  g_autoptr(GPtrArray) errors = NULL;
  g_autoptr(TgConfig) cfg = tg_config_load(NULL, &errors);
  g_assert_nonnull(cfg);
  g_assert_cmpstr(cfg->data_dir, ==, "./var");
  g_assert_cmpstr(cfg->addresses[0], ==, "support@localhost");
  g_assert_cmpstr(cfg->tag_prefix, ==, "Support");
  g_assert_cmpstr(cfg->smtp_listen[0], ==, "127.0.0.1:2525");
  g_assert_cmpstr(cfg->lmtp_listen[0], ==, "127.0.0.1:2424");
  g_assert_cmpuint(cfg->message_size, ==, 25u * 1024 * 1024);
  g_assert_cmpuint(cfg->flood.count, ==, 20);
  g_assert_cmpuint(cfg->flood.window, ==, 600);
  g_assert_cmpuint(cfg->autoreply.count, ==, 5);
  g_assert_cmpuint(cfg->staff->len, ==, 0);
  g_assert_cmpstr(cfg->db_path, ==, "./var/ticketgate.db");
}

static GPtrArray *load_text(const char *text, TgConfig **cfg_r) {
  g_autofree char *path = NULL;
  int fd = g_file_open_tmp("tgconf-XXXXXX.conf", &path, NULL);
  g_assert_cmpint(fd, >=, 0);
  close(fd);
  g_assert_true(g_file_set_contents(path, text, -1, NULL));
  GPtrArray *errors = NULL;
  *cfg_r = tg_config_load(path, &errors);
  unlink(path);
  if (errors)
    for (guint i = 0; i < errors->len; i++) { /* drop the temp dir part */
      char *e = g_ptr_array_index(errors, i);
      char *colon = strstr(e, ".conf:");
      memmove(e, colon + 1, strlen(colon + 1) + 1);
    }
  return errors;
}

static void test_overrides_and_groups(void) {
  TgConfig *cfg;
  g_autoptr(GPtrArray) errors = load_text(
      "# comment\n[gateway]\naddresses = Help@Example.com, sales@example.com\n"
      "[limits]\nflood = 0\n"
      "[staff:suzuki]\naddress = Suzuki@Example.com\nname = 鈴木一郎\nlevel = 2\n"
      "[imap:inbox]\nhost = 127.0.0.1\nuser = u\ntls = none\nafter = move:Done\n",
      &cfg);
  g_assert_null(errors);
  g_assert_cmpstr(cfg->addresses[0], ==, "help@example.com");
  g_assert_cmpstr(cfg->addresses[1], ==, "sales@example.com");
  g_assert_cmpstr(cfg->tag_prefix, ==, "Support"); /* default kept */
  g_assert_cmpuint(cfg->flood.count, ==, 0);
  g_assert_cmpuint(cfg->staff->len, ==, 1);
  TgStaff *st = g_ptr_array_index(cfg->staff, 0);
  g_assert_cmpstr(st->address, ==, "suzuki@example.com");
  g_assert_cmpstr(st->name, ==, "鈴木一郎");
  g_assert_cmpuint(st->level, ==, 2);
  TgImapAccount *a = g_ptr_array_index(cfg->imap, 0);
  g_assert_cmpstr(a->name, ==, "inbox");
  g_assert_cmpuint(a->port, ==, 143);
  g_assert_cmpstr(a->folders[0], ==, "INBOX");
  tg_config_free(cfg);
}

static void test_errors(void) {
  TgConfig *cfg;
  g_autoptr(GPtrArray) errors = load_text(
      "[gateway]\n"                     /* 1 */
      "addresses = nobody\n"            /* 2 */
      "colour = blue\n"                 /* 3 */
      "[smtp]\n"                        /* 4 */
      "listen = 127.0.0.1, [::1]:25\n"  /* 5 */
      "max_line = many\n"               /* 6 */
      "[log]\n"                         /* 7 */
      "target = printer\n"              /* 8 */
      "[imap:]\n"                       /* 9 */
      "[imap:remote]\n"                 /* 10 */
      "host = mail.example.com\n"       /* 11 */
      "user = u\n"                      /* 12 */
      "tls = none\n"                    /* 13 */
      "after = archive\n",              /* 14 */
      &cfg);
  g_assert_null(cfg);
  const char *want[] = {
      "conf:3: unknown key 'colour' in [gateway]",
      "conf:5: listen: '127.0.0.1' is not HOST:PORT (IPv6 as [ADDR]:PORT)",
      "conf:6: max_line: 'many' is not a whole number",
      "conf:8: target: 'printer' is not one of stderr|syslog",
      "conf:9: [imap:] needs a name, as in [imap:NAME]",
      "conf:14: after: 'archive' is not seen, delete or move:FOLDER",
      "conf:13: tls = none sends the password in clear: only for loopback hosts",
      "conf:2: addresses: 'nobody' is not LOCAL@DOMAIN (without a +detail)",
  };
  tg_test_assert_all_present(errors, want, G_N_ELEMENTS(want));
  g_assert_cmpuint(errors->len, ==, G_N_ELEMENTS(want));
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/config/values", test_values);
  g_test_add_func("/config/default", test_embedded_default);
  g_test_add_func("/config/overrides", test_overrides_and_groups);
  g_test_add_func("/config/errors", test_errors);
  return g_test_run();
}
