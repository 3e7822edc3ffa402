/*
 * template_builtin — templates/default/ embedded with GResource.  Contract:
 * template_builtin.h.
 *
 * The resource is generated with --c-name tg_default_templates and looked up
 * through tg_default_templates_get_resource(): calling it keeps the object
 * file in the link (a static library would otherwise drop a constructor-only
 * registration) and needs no global registration.
 */
#include "templates/template_builtin.h"

#include <gio/gio.h>
#include <string.h>

#define ROOT "/org/ticketgate/templates/default"

GResource *tg_default_templates_get_resource(void);

static void
walk(GResource *res, const char *dir, const char *rel, GPtrArray *paths)
{
  g_auto(GStrv) kids = g_resource_enumerate_children(res, dir, 0, NULL);
  for (int i = 0; kids && kids[i]; i++) {
    g_autofree char *full = g_strconcat(dir, "/", kids[i], NULL);
    g_autofree char *r = g_strconcat(rel, kids[i], NULL);
    if (g_str_has_suffix(kids[i], "/")) {
      full[strlen(full) - 1] = '\0';
      walk(res, full, r, paths);
    } else {
      g_ptr_array_add(paths, g_steal_pointer(&r));
    }
  }
}

static gint
compare_strings(gconstpointer a, gconstpointer b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

GStrv
template_builtin_files(void)
{
  GPtrArray *paths = g_ptr_array_new();
  walk(tg_default_templates_get_resource(), ROOT, "", paths);
  g_ptr_array_sort(paths, compare_strings);
  g_ptr_array_add(paths, NULL);
  return (GStrv)g_ptr_array_free(paths, FALSE);
}

TemplateSet *
template_builtin_load(const char *default_lang, GError **error)
{
  GResource *res = tg_default_templates_get_resource();
  g_auto(GStrv) paths = template_builtin_files();
  guint n = g_strv_length(paths);
  g_autoptr(GPtrArray) datas = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
  g_autofree TemplateFile *files = g_new0(TemplateFile, n ? n : 1);
  for (guint i = 0; i < n; i++) {
    g_autofree char *full = g_strconcat(ROOT, "/", paths[i], NULL);
    GBytes *b = g_resource_lookup_data(res, full, 0, error);
    if (!b)
      return NULL;
    g_ptr_array_add(datas, b);
    gsize len = 0;
    files[i].path = paths[i];
    files[i].text = g_bytes_get_data(b, &len);
    files[i].len = (gssize)len;
  }
  return template_set_load_files(TEMPLATE_BUILTIN_LABEL, files, n, default_lang, error);
}
