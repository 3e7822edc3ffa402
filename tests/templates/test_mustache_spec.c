/*
 * test_mustache_spec — runs the Mustache spec suite against templates/mustache.c.
 *
 * Reads every non-optional spec file (name not starting with '~') from
 * $TG_SHARED_DIR/corpus/mustache-spec/ at test time and registers one g_test
 * per spec case.  A fresh clone has no ../shared: then the single test skips
 * with a message saying so; test_mustache covers the engine on its own.
 */
#include "templates/mustache.h"

#include <string.h>

typedef struct {
  char *file;
  JsonObject *test;       /* (transfer none) kept alive by the parser list */
} SpecCase;

static GPtrArray *parsers;  /* JsonParser*, alive for the whole run */

static const Mustache *
spec_partial(const char *name, gpointer user_data)
{
  GHashTable *partials = user_data;
  return g_hash_table_lookup(partials, name);
}

static void
run_case(gconstpointer data)
{
  const SpecCase *sc = data;
  JsonObject *t = sc->test;
  const char *name = json_object_get_string_member(t, "name");
  const char *template = json_object_get_string_member(t, "template");
  const char *expected = json_object_get_string_member(t, "expected");

  g_autoptr(GHashTable) partials =
      g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)mustache_free);
  if (json_object_has_member(t, "partials")) {
    JsonObject *po = json_object_get_object_member(t, "partials");
    g_autoptr(GList) names = json_object_get_members(po);
    for (GList *l = names; l; l = l->next) {
      g_autoptr(GError) error = NULL;
      Mustache *p = mustache_new(l->data, json_object_get_string_member(po, l->data), -1, &error);
      g_assert_no_error(error);
      g_hash_table_insert(partials, g_strdup(l->data), p);
    }
  }
  g_autoptr(GError) error = NULL;
  g_autoptr(Mustache) tpl = mustache_new(name, template, -1, &error);
  g_assert_no_error(error);
  MustacheRenderOptions opt = {
    .escape_html = TRUE,
    .partials = spec_partial,
    .partials_data = partials,
  };
  g_autoptr(GString) out = g_string_new(NULL);
  mustache_render(tpl, json_object_get_member(t, "data"), &opt, out, NULL);
  if (strcmp(out->str, expected) != 0)
    g_test_message("%s: %s\n  template: %s\n  expected: [%s]\n  got:      [%s]", sc->file, name,
                   template, expected, out->str);
  g_assert_cmpstr(out->str, ==, expected);
}

static void
spec_case_free(gpointer p)
{
  SpecCase *sc = p;
  g_free(sc->file);
  g_free(sc);
}

/* g_ptr_array_sort() passes pointers to the elements */
static gint
compare_names(gconstpointer a, gconstpointer b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
skip_no_corpus(gconstpointer data)
{
  g_test_skip((const char *)data);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  parsers = g_ptr_array_new_with_free_func(g_object_unref);
  g_autoptr(GPtrArray) cases = g_ptr_array_new_with_free_func(spec_case_free);

  const char *shared = g_getenv("TG_SHARED_DIR");
  g_autofree char *dir = g_build_filename(shared ? shared : "../shared", "corpus", "mustache-spec", NULL);
  g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
  if (!d) {
    static char msg[1024];
    g_snprintf(msg, sizeof msg,
               "mustache spec corpus not found at %s (set TG_SHARED_DIR); "
               "test_mustache covers the engine without it", dir);
    g_test_add_data_func("/mustache-spec/corpus-absent", msg, skip_no_corpus);
    return g_test_run();
  }

  g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(g_free);
  const char *entry;
  while ((entry = g_dir_read_name(d)))
    if (entry[0] != '~' && g_str_has_suffix(entry, ".json"))
      g_ptr_array_add(files, g_strdup(entry));
  g_ptr_array_sort(files, compare_names);

  guint ncases = 0;
  for (guint i = 0; i < files->len; i++) {
    const char *file = g_ptr_array_index(files, i);
    g_autofree char *path = g_build_filename(dir, file, NULL);
    JsonParser *parser = json_parser_new();
    g_autoptr(GError) error = NULL;
    if (!json_parser_load_from_file(parser, path, &error))
      g_error("%s: %s", path, error->message);
    g_ptr_array_add(parsers, parser);
    JsonArray *tests = json_object_get_array_member(json_node_get_object(json_parser_get_root(parser)), "tests");
    for (guint k = 0; k < json_array_get_length(tests); k++) {
      SpecCase *sc = g_new0(SpecCase, 1);
      sc->file = g_strdup(file);
      sc->test = json_array_get_object_element(tests, k);
      g_ptr_array_add(cases, sc);
      g_autofree char *base = g_strndup(file, strlen(file) - 5);
      g_autofree char *tname = g_strdup_printf("/mustache-spec/%s/%02u %s", base, k,
                                               json_object_get_string_member(sc->test, "name"));
      g_test_add_data_func_full(tname, sc, run_case, NULL);
      ncases++;
    }
  }
  g_test_message("%u spec cases from %u files in %s", ncases, files->len, dir);
  int rc = g_test_run();
  g_ptr_array_unref(parsers);
  return rc;
}
