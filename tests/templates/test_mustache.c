/*
 * test_mustache — the project's own tests of templates/mustache.c, needing no
 * ../shared: compile errors with line numbers, render status flags, the depth
 * cap, HTML escaping on and off, and golden cases (golden/NAME.mustache +
 * NAME.json rendered must equal NAME.ref).
 */
#include "templates/mustache.h"

#include <string.h>

static JsonNode *
json(const char *text)
{
  g_autoptr(GError) error = NULL;
  JsonNode *n = json_from_string(text, &error);
  g_assert_no_error(error);
  return n;
}

static char *
render(const char *tpl_src, const char *data, gboolean html, MustacheStatus *status_r)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(Mustache) tpl = mustache_new("t", tpl_src, -1, &error);
  g_assert_no_error(error);
  g_autoptr(JsonNode) ctx = json(data);
  MustacheRenderOptions opt = {.escape_html = html};
  GString *out = g_string_new(NULL);
  MustacheStatus st = mustache_render(tpl, ctx, &opt, out, NULL);
  if (status_r)
    *status_r = st;
  return g_string_free(out, FALSE);
}

static const struct {
  const char *src;
  guint first_line;
  const char *message;
} error_cases[] = {
  {"a\nb {{#list}}\nc\n", 1, "t:2: unclosed section 'list': no close tag before the end"},
  {"{{#a}}\n{{#b}}\n{{/a}}\n", 1,
   "t:3: mismatched close tag '{{/a}}': section 'b' opened on line 2 is still open"},
  {"x\n\n{{/a}}", 1, "t:3: unexpected close tag '{{/a}}': no section is open"},
  {"line\n{{name", 1, "t:2: unclosed tag: no '}}' after '{{'"},
  {"{{{name}}", 1, "t:1: unclosed tag: no '}}}' after '{{'"},
  {"\n\n{{=<% =}}", 1, "t:3: bad delimiter '<%': expected two delimiters without '=' or spaces"},
  {"{{=a b c=}}", 1, "t:1: bad delimiter 'a b c': expected two delimiters without '=' or spaces"},
  {"{{ bad name }}", 1, "t:1: bad name 'bad name' (use letters, digits, '_', '-' and '.')"},
  {"{{a..b}}", 1, "t:1: bad name 'a..b' (use letters, digits, '_', '-' and '.')"},
  {"{{!\nmulti\nline}}\n{{#x}}", 1, "t:4: unclosed section 'x': no close tag before the end"},
  {"{{=<% %>=}}\n<%#x%>\n<%/y%>", 1,
   "t:3: mismatched close tag '<%/y%>': section 'x' opened on line 2 is still open"},
  /* a template body starting on line 5 of its file reports file lines */
  {"ok\n{{#open}}", 5, "t:6: unclosed section 'open': no close tag before the end"},
};

static void
test_errors(void)
{
  for (gsize i = 0; i < G_N_ELEMENTS(error_cases); i++) {
    g_autoptr(GError) error = NULL;
    g_autoptr(Mustache) tpl =
        mustache_new_full("t", error_cases[i].first_line, error_cases[i].src, -1, &error);
    g_assert_null(tpl);
    g_assert_error(error, MUSTACHE_ERROR, MUSTACHE_ERROR_SYNTAX);
    g_assert_cmpstr(error->message, ==, error_cases[i].message);
  }
}

static void
test_escaping(void)
{
  const char *data = "{\"v\": \"<a href=\\\"x\\\">Tom & Jerry's</a>\"}";
  g_autofree char *html = render("{{v}}|{{{v}}}|{{&v}}", data, TRUE, NULL);
  g_assert_cmpstr(html, ==,
                  "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;|"
                  "<a href=\"x\">Tom & Jerry's</a>|<a href=\"x\">Tom & Jerry's</a>");
  g_autofree char *text = render("{{v}}", data, FALSE, NULL);
  g_assert_cmpstr(text, ==, "<a href=\"x\">Tom & Jerry's</a>");
}

static void
test_status_flags(void)
{
  MustacheStatus st;
  g_autofree char *a = render("[{{missing}}]", "{}", FALSE, &st);
  g_assert_cmpstr(a, ==, "[]");
  g_assert_cmpint(st, ==, MUSTACHE_STATUS_UNDEFINED);
  /* a missing section is "optional", not an error */
  g_autofree char *b = render("[{{#missing}}x{{/missing}}{{^missing}}y{{/missing}}]", "{}", FALSE, &st);
  g_assert_cmpstr(b, ==, "[y]");
  g_assert_cmpint(st, ==, MUSTACHE_STATUS_OK);
  g_autofree char *c = render("[{{obj}}]", "{\"obj\": {\"a\": 1}}", FALSE, &st);
  g_assert_cmpstr(c, ==, "[]");
  g_assert_cmpint(st, ==, MUSTACHE_STATUS_NOT_SCALAR);
  /* null is defined: no flag */
  g_autofree char *d = render("[{{n}}]", "{\"n\": null}", FALSE, &st);
  g_assert_cmpint(st, ==, MUSTACHE_STATUS_OK);

  g_autoptr(Mustache) tpl = mustache_new_full("ack.en.mustache", 3, "x\n{{ticket.nope}}", -1, NULL);
  g_autoptr(JsonNode) ctx = json("{\"ticket\": {\"id\": 1}}");
  g_autoptr(GString) out = g_string_new(NULL);
  MustacheRenderResult res = {0};
  mustache_render(tpl, ctx, NULL, out, &res);
  g_assert_cmpint(res.status, ==, MUSTACHE_STATUS_UNDEFINED);
  g_assert_cmpstr(res.first_problem, ==, "ack.en.mustache:4: undefined variable 'ticket.nope'");
  mustache_render_result_clear(&res);
  g_assert_null(res.first_problem);
}

static const Mustache *
self_partial(const char *name, gpointer user_data)
{
  return user_data;
}

static void
test_depth_cap(void)
{
  /* a partial that includes itself forever stops at the cap */
  g_autoptr(Mustache) rec = mustache_new("rec", "x{{>rec}}", -1, NULL);
  MustacheRenderOptions opt = {.partials = self_partial, .partials_data = rec};
  g_autoptr(GString) out = g_string_new(NULL);
  MustacheRenderResult res = {0};
  mustache_render(rec, NULL, &opt, out, &res);
  g_assert_true(res.status & MUSTACHE_STATUS_DEPTH);
  g_assert_cmpuint(out->len, ==, MUSTACHE_MAX_DEPTH + 1);
  g_assert_nonnull(strstr(res.first_problem, "rec:1: nesting deeper than 100"));
  mustache_render_result_clear(&res);

  /* recursive data through a recursive partial; leaves need "kids": [] or the
   * lookup climbs to the parent's kids (Mustache context-stack semantics) */
  g_autoptr(Mustache) node = mustache_new("node", "{{v}}{{#kids}}({{>node}}){{/kids}}", -1, NULL);
  g_autoptr(JsonNode) ctx = json("{\"v\":1,\"kids\":[{\"v\":2,\"kids\":[{\"v\":3,\"kids\":[]}]},{\"v\":4,\"kids\":[]}]}");
  opt.partials_data = node;
  g_string_truncate(out, 0);
  g_assert_cmpint(mustache_render(node, ctx, &opt, out, NULL), ==, MUSTACHE_STATUS_OK);
  g_assert_cmpstr(out->str, ==, "1(2(3))(4)");

  /* statically nested sections are capped at compile time */
  GString *deep = g_string_new(NULL);
  for (int i = 0; i < 200; i++)
    g_string_append(deep, "{{#a}}");
  g_autoptr(GError) error = NULL;
  g_autoptr(Mustache) none = mustache_new("deep", deep->str, -1, &error);
  g_string_free(deep, TRUE);
  g_assert_null(none);
  g_assert_cmpstr(error->message, ==, "deep:1: sections nested deeper than 100");
}

static void
test_missing_partial(void)
{
  g_autoptr(Mustache) tpl = mustache_new("t", "a{{>nope}}b", -1, NULL);
  g_autoptr(GString) out = g_string_new(NULL);
  g_assert_cmpint(mustache_render(tpl, NULL, NULL, out, NULL), ==, MUSTACHE_STATUS_PARTIAL_MISSING);
  g_assert_cmpstr(out->str, ==, "ab");
}

static void
test_values(void)
{
  g_autofree char *a = render("{{i}} {{d}} {{t}} {{f}} {{s}}",
                              "{\"i\": -42, \"d\": 0.1, \"t\": true, \"f\": false, \"s\": \"日本語\"}",
                              FALSE, NULL);
  g_assert_cmpstr(a, ==, "-42 0.1 true false 日本語");
  /* "" and 0 are falsy, like in JavaScript implementations */
  g_autofree char *b = render("{{#e}}E{{/e}}{{#z}}Z{{/z}}{{^e}}e{{/e}}{{^z}}z{{/z}}",
                              "{\"e\": \"\", \"z\": 0}", FALSE, NULL);
  g_assert_cmpstr(b, ==, "ez");
}

/* A template fed as a growing prefix must never crash, whatever it cuts. */
static void
test_prefixes(void)
{
  const char *src = "{{=<% %>=}}<%#a%>\n  <%>p%>\n<%/a%>{{! no }}<%={{ }}=%>{{{b}}}{{&c}}";
  gsize len = strlen(src);
  for (gsize i = 0; i <= len; i++) {
    g_autoptr(GError) error = NULL;
    g_autoptr(Mustache) tpl = mustache_new("p", src, i, &error);
    g_assert_true((tpl == NULL) == (error != NULL));
    if (tpl) {
      g_autoptr(GString) out = g_string_new(NULL);
      mustache_render(tpl, NULL, NULL, out, NULL);
    }
  }
}

static void
test_golden(void)
{
  const char *src_dir = g_getenv("TG_SOURCE_DIR");
  g_autofree char *dir = g_build_filename(src_dir ? src_dir : ".", "tests", "templates", "golden", NULL);
  g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
  g_assert_nonnull(d);
  const char *entry;
  guint count = 0;
  while ((entry = g_dir_read_name(d))) {
    if (!g_str_has_suffix(entry, ".mustache"))
      continue;
    g_autofree char *base = g_strndup(entry, strlen(entry) - strlen(".mustache"));
    g_autofree char *tpath = g_build_filename(dir, entry, NULL);
    g_autofree char *jpath = g_strconcat(dir, "/", base, ".json", NULL);
    g_autofree char *rpath = g_strconcat(dir, "/", base, ".ref", NULL);
    g_autofree char *tsrc = NULL, *jsrc = NULL, *ref = NULL;
    g_assert_true(g_file_get_contents(tpath, &tsrc, NULL, NULL));
    g_assert_true(g_file_get_contents(jpath, &jsrc, NULL, NULL));
    g_assert_true(g_file_get_contents(rpath, &ref, NULL, NULL));
    g_autofree char *out = render(tsrc, jsrc, g_str_has_prefix(base, "html-"), NULL);
    if (strcmp(out, ref) != 0)
      g_test_message("golden %s differs:\n%s", base, out);
    g_assert_cmpstr(out, ==, ref);
    count++;
  }
  g_assert_cmpuint(count, >=, 2);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/mustache/errors", test_errors);
  g_test_add_func("/mustache/escaping", test_escaping);
  g_test_add_func("/mustache/status-flags", test_status_flags);
  g_test_add_func("/mustache/depth-cap", test_depth_cap);
  g_test_add_func("/mustache/missing-partial", test_missing_partial);
  g_test_add_func("/mustache/values", test_values);
  g_test_add_func("/mustache/prefixes", test_prefixes);
  g_test_add_func("/mustache/golden", test_golden);
  return g_test_run();
}
