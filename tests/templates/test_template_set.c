/*
 * test_template_set — templates/template_set.c with the default templates,
 * load errors as `file:line: message` from broken directories, language
 * choice and fallback, and templates/language.c.
 */
#include "templates/language.h"
#include "templates/template_builtin.h"
#include "templates/template_sample.h"
#include "templates/template_set.h"

#include <glib/gstdio.h>
#include <string.h>

static char *
default_dir(void)
{
  const char *src = g_getenv("TG_SOURCE_DIR");
  return g_build_filename(src ? src : ".", "templates", "default", NULL);
}

static void
test_defaults_check(void)
{
  g_autofree char *dir = default_dir();
  for (int i = 0; i < 2; i++) {
    g_autoptr(GError) error = NULL;
    g_autoptr(TemplateSet) set = template_set_load(dir, i ? "en" : "ja", &error);
    g_assert_no_error(error);
    g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
    gboolean ok = template_set_check(set, NULL, problems);
    for (guint k = 0; k < problems->len; k++)
      g_test_message("%s", (char *)g_ptr_array_index(problems, k));
    g_assert_true(ok);
    g_auto(GStrv) names = template_set_names(set);
    g_assert_cmpuint(g_strv_length(names), ==, 24);
    g_assert_true(g_strv_contains((const char *const *)names, "ack-outage.ja"));
    g_assert_true(g_strv_contains((const char *const *)names, "canned/password-reset.ja"));
  }
}

/* The embedded set compiles a template when it is first used, and renders
 * exactly what the same files on disk do. */
static void
test_builtin_lazy(void)
{
  g_autofree char *dir = default_dir();
  g_autoptr(TemplateSet) disk = template_set_load(dir, "en", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(TemplateSet) set = template_builtin_load("en", &error);
  g_assert_no_error(error);
  g_assert_cmpuint(template_set_n_pending(disk), ==, 0);
  guint pending = template_set_n_pending(set);
  g_assert_cmpuint(pending, >, 24);
  g_autoptr(JsonNode) data = template_sample_new();
  g_autoptr(TemplateOutput) a = template_set_render(set, "ack", "ja", data, NULL);
  g_autoptr(TemplateOutput) b = template_set_render(disk, "ack", "ja", data, NULL);
  g_assert_cmpstr(a->subject, ==, b->subject);
  g_assert_cmpstr(a->text, ==, b->text);
  /* ack.ja and the partials it uses, nothing else */
  g_assert_cmpuint(template_set_n_pending(set), <, pending);
  g_assert_cmpuint(template_set_n_pending(set), >, pending - 6);
  g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
  g_assert_true(template_set_check(set, NULL, problems));
  g_assert_cmpuint(template_set_n_pending(set), ==, 0);
  g_auto(GStrv) names = template_set_names(set);
  g_assert_cmpuint(g_strv_length(names), ==, 24);
}

static void
test_render_ack(void)
{
  g_autofree char *dir = default_dir();
  g_autoptr(TemplateSet) set = template_set_load(dir, "en", NULL);
  g_autoptr(JsonNode) data = template_sample_new();

  g_autoptr(TemplateOutput) ja = template_set_render(set, "ack", "ja-JP", data, NULL);
  g_assert_cmpstr(ja->lang, ==, "ja");
  g_assert_cmpstr(ja->subject, ==, "[Support #1234] お問い合わせを受け付けました: ログインできません");
  g_assert_true(g_str_has_prefix(ja->text, "山田 太郎 様\n\nExample サポートデスクへお問い合わせいただき、ありがとうございます。\n"));
  g_assert_nonnull(strstr(ja->text, "> 昨日からログインできません。\n"));
  g_assert_nonnull(strstr(ja->text, "  対応状況: https://support.example.com/tickets/1234\n"));
  g_assert_true(g_str_has_suffix(ja->text, "--\nExample株式会社 サポートデスク\nsupport@example.com / 03-1234-5678（平日 9:00〜18:00）\n"));
  g_assert_null(ja->html);
  g_assert_cmpint(ja->status, ==, MUSTACHE_STATUS_OK);

  /* no French variant: the default language is used */
  g_assert_cmpstr(template_set_lookup(set, "ack", "fr"), ==, "en");
  g_autoptr(TemplateOutput) fr = template_set_render(set, "ack", "fr", data, NULL);
  g_assert_cmpstr(fr->lang, ==, "en");
  g_assert_true(g_str_has_prefix(fr->subject, "[Support #1234] We have received your request"));
  /* the English ack has an HTML alternative, HTML-escaped */
  g_assert_nonnull(fr->html);
  g_assert_nonnull(strstr(fr->html, "<a href=\"https://support.example.com/tickets/1234\">"));

  /* optional parts vanish cleanly without data */
  JsonObject *ticket = json_object_get_object_member(json_node_get_object(data), "ticket");
  json_object_remove_member(ticket, "url");
  json_object_set_string_member(ticket, "subject", "Help\r\nBcc: x@example.org");
  g_autoptr(TemplateOutput) nourl = template_set_render(set, "ack", "ja", data, NULL);
  g_assert_null(strstr(nourl->text, "対応状況"));
  g_assert_cmpstr(nourl->subject, ==, "[Support #1234] お問い合わせを受け付けました: Help Bcc: x@example.org");

  g_autoptr(GError) error = NULL;
  g_assert_null(template_set_render(set, "nope", "ja", data, &error));
  g_assert_error(error, TEMPLATE_SET_ERROR, TEMPLATE_SET_ERROR_NOT_FOUND);

  g_autoptr(TemplateOutput) esc = template_set_render(set, "escalation-notice", "ja", data, NULL);
  g_assert_cmpuint(esc->n_headers, ==, 1);
  g_assert_cmpstr(esc->headers[0].name, ==, "X-Ticket-Priority");
  g_assert_cmpstr(esc->headers[0].value, ==, "high");
  g_assert_nonnull(strstr(esc->text, "  2025-11-25 12:17  レベル2 へエスカレーション（SLA）\n"));
}

/* Write @files (name, content pairs) into a fresh directory. */
static char *
make_dir(const char *const *files)
{
  char *dir = g_dir_make_tmp("tg-templates-XXXXXX", NULL);
  g_assert_nonnull(dir);
  for (int i = 0; files[i]; i += 2) {
    g_autofree char *path = g_build_filename(dir, files[i], NULL);
    g_autofree char *parent = g_path_get_dirname(path);
    g_mkdir_with_parents(parent, 0700);
    g_assert_true(g_file_set_contents(path, files[i + 1], -1, NULL));
  }
  return dir;
}

static void
remove_tree(const char *dir)
{
  g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
  const char *e;
  while (d && (e = g_dir_read_name(d))) {
    g_autofree char *p = g_build_filename(dir, e, NULL);
    if (g_file_test(p, G_FILE_TEST_IS_DIR))
      remove_tree(p);
    else
      g_unlink(p);
  }
  g_rmdir(dir);
}

static const struct {
  const char *file;
  const char *content;
  const char *message;  /* after "DIR/" */
} load_errors[] = {
  {"ack.en.mustache", "Subject: hi\nbody", "ack.en.mustache:2: expected 'Name: value' or a blank line before the body"},
  {"ack.en.mustache", "Subject: hi\n", "ack.en.mustache:1: no blank line: a template is headers, a blank line, then the body"},
  {"ack.en.mustache", "X-A: 1\n\nbody\n", "ack.en.mustache:1: no Subject: header"},
  {"ack.en.mustache", "Subject: x\nFrom: evil@example.org\n\nbody\n", "ack.en.mustache:2: header 'From' is set by the gateway, not by a template"},
  {"ack.en.mustache", "# comment\nSubject: {{ticket.id\n\nbody\n", "ack.en.mustache:2: unclosed tag: no '}}' after '{{'"},
  {"ack.en.mustache", "Subject: x\n\nline 3\nline 4 {{#a}}\nline 5\n", "ack.en.mustache:4: unclosed section 'a': no close tag before the end"},
  {"ack.en.mustache", "Subject: x\r\n\r\n{{#a}}\r\n{{/b}}\r\n", "ack.en.mustache:4: mismatched close tag '{{/b}}': section 'a' opened on line 3 is still open"},
  {"ack.en.mustache", "Subject x\n\nbody\n", "ack.en.mustache:1: expected 'Name: value' or a blank line before the body"},
  {"Ack.EN.mustache", "Subject: x\n\n", "Ack.EN.mustache:0: file name must be NAME.LANG.mustache or NAME.LANG.html.mustache (NAME: a-z 0-9 - _, LANG: 2-3 lowercase letters)"},
  {"ack.en.mustache", "Subject: x\n\n\xff\n", "ack.en.mustache:3: not valid UTF-8"},
  {"canned/faq.en.mustache", "Subject: x\n\n{{=<< >>=}}\n<<bad name>>\n", "canned/faq.en.mustache:4: bad name 'bad name' (use letters, digits, '_', '-' and '.')"},
  {"partials/sig.en.mustache", "{{/x}}", "partials/sig.en.mustache:1: unexpected close tag '{{/x}}': no section is open"},
  {"ack.ja.html.mustache", "<p>hi</p>", "ack.ja.html.mustache:0: HTML body without a ack.ja.mustache next to it"},
};

static void
test_load_errors(void)
{
  for (gsize i = 0; i < G_N_ELEMENTS(load_errors); i++) {
    const char *files[] = {"ok.en.mustache", "Subject: fine\n\nfine\n", load_errors[i].file,
                           load_errors[i].content, NULL};
    g_autofree char *dir = make_dir(files);
    g_autoptr(GError) error = NULL;
    g_autoptr(TemplateSet) set = template_set_load(dir, "en", &error);
    g_assert_null(set);
    g_assert_error(error, TEMPLATE_SET_ERROR, TEMPLATE_SET_ERROR_LOAD);
    g_autofree char *want = g_strdup_printf("%s/%s", dir, load_errors[i].message);
    g_assert_cmpstr(error->message, ==, want);
    remove_tree(dir);
  }
  g_autoptr(GError) error = NULL;
  g_assert_null(template_set_load("/nonexistent/templates", "en", &error));
  g_assert_error(error, TEMPLATE_SET_ERROR, TEMPLATE_SET_ERROR_LOAD);
}

static void
test_check_problems(void)
{
  const char *files[] = {
    "ack.en.mustache", "Subject: {{ticket.ref}}\n\nHello {{customer.nmae}}\n",
    "reply.en.mustache", "Subject: {{nothing}}\n\n{{> missing}}\n",
    "README", "not a template, ignored",
    NULL,
  };
  g_autofree char *dir = make_dir(files);
  g_autoptr(TemplateSet) set = template_set_load(dir, "en", NULL);
  g_assert_nonnull(set);
  g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
  g_assert_false(template_set_check(set, NULL, problems));
  g_autoptr(GString) all = g_string_new(NULL);
  for (guint i = 0; i < problems->len; i++)
    g_string_append_printf(all, "%s\n", (char *)g_ptr_array_index(problems, i));
  g_autofree char *want = g_strdup_printf(
      "%1$s/status-escalated.en.mustache:0: missing: the gateway sends this template (default language en)\n"
      "%1$s/status-pending.en.mustache:0: missing: the gateway sends this template (default language en)\n"
      "%1$s/status-resolved.en.mustache:0: missing: the gateway sends this template (default language en)\n"
      "%1$s/escalation-notice.en.mustache:0: missing: the gateway sends this template (default language en)\n"
      "%1$s/command-confirmation.en.mustache:0: missing: the gateway sends this template (default language en)\n"
      "%1$s/command-help.en.mustache:0: missing: the gateway sends this template (default language en)\n"
      "%1$s/ack.en.mustache:3: undefined variable 'customer.nmae'\n"
      "%1$s/reply.en.mustache:1: undefined variable 'nothing'\n"
      "%1$s/reply.en.mustache:1: Subject renders empty\n",
      dir);
  g_assert_cmpstr(all->str, ==, want);
  remove_tree(dir);
}

static void
test_language(void)
{
  /* Content-Language wins */
  g_assert_cmpstr(language_detect("utf-8", "ja-JP", "Hello there, my account is locked out", -1, "en"), ==, "ja");
  g_assert_cmpstr(language_detect("iso-2022-jp", "en", "ログインできません", -1, "ja"), ==, "en");
  /* script */
  g_assert_cmpstr(language_detect("utf-8", NULL, "昨日からログインできません。よろしくお願いします。", -1, "en"), ==, "ja");
  g_assert_cmpstr(language_detect("utf-8", NULL, "Hi, I cannot log in since yesterday. Error E401.", -1, "ja"), ==, "en");
  /* mostly English with a Japanese name still has kana: share decides */
  g_assert_cmpstr(language_detect(NULL, NULL, "Please help with my invoice, it shows the wrong amount. 山田", -1, "ja"), ==, "en");
  /* kanji only (Chinese) is not Japanese; falls to the default */
  g_assert_cmpstr(language_detect("utf-8", NULL, "我无法登录", -1, "en"), ==, "en");
  g_assert_cmpstr(language_detect("gb2312", NULL, "我无法登录", -1, "ja"), ==, "ja");
  /* quoted text (our own Japanese ack) is ignored */
  g_assert_cmpstr(language_detect("utf-8", NULL, "Thanks, still broken after the reset.\n> お問い合わせありがとうございます。\n> 担当者が確認します。\n", -1, "ja"), ==, "en");
  /* charset decides when the text says little */
  g_assert_cmpstr(language_detect("ISO-2022-JP", NULL, "OK", -1, "en"), ==, "ja");
  g_assert_cmpstr(language_detect("Shift_JIS", NULL, "", -1, "en"), ==, "ja");
  g_assert_cmpstr(language_detect("utf-8", NULL, "OK", -1, "ja"), ==, "en");
  g_assert_cmpstr(language_detect(NULL, NULL, "12345", -1, "ja"), ==, "ja");
  g_assert_cmpstr(language_detect(NULL, NULL, NULL, -1, NULL), ==, NULL);
  /* Latin letters are counted exactly, eight bytes at a time too: 19
   * letters among the characters next to A-Z and a-z (@ [ ` {) are too few
   * to outvote a Japanese charset, 20 are enough; a quoted line and a
   * line's own first '>' count for nothing. */
  g_assert_cmpstr(language_detect("iso-2022-jp", NULL, "@@[[``{{abcdefghijklmnoPQRS@[`{@[`{", -1, "en"), ==, "ja");
  g_assert_cmpstr(language_detect("iso-2022-jp", NULL, "@@[[``{{abcdefghijklmnoPQRST@[`{@[`{", -1, "ja"), ==, "en");
  g_assert_cmpstr(language_detect("iso-2022-jp", NULL, "abcdefghij\n> klmnopqrstuvwxyz\nabcdefghi", -1, "en"), ==, "ja");
  g_assert_cmpstr(language_detect("iso-2022-jp", NULL, "abcdefghij\nx> klmnopqrst", -1, "ja"), ==, "en");
  /* invalid UTF-8 does not stop the scan */
  g_assert_cmpstr(language_detect(NULL, NULL, "\xff\xfeこんにちは", -1, "en"), ==, "ja");
  g_autofree char *n = language_normalize("JA-jp");
  g_assert_cmpstr(n, ==, "ja");
  g_assert_null(language_normalize("x"));
  g_assert_null(language_normalize("12"));
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/template-set/defaults-check", test_defaults_check);
  g_test_add_func("/template-set/render-ack", test_render_ack);
  g_test_add_func("/template-set/builtin-lazy", test_builtin_lazy);
  g_test_add_func("/template-set/load-errors", test_load_errors);
  g_test_add_func("/template-set/check-problems", test_check_problems);
  g_test_add_func("/language/detect", test_language);
  return g_test_run();
}
