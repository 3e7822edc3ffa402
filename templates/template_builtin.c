/*
 * template_builtin — templates/default/ embedded as C arrays.  Contract:
 * template_builtin.h.
 *
 * The arrays and their table come from embed_templates.cmake.  They were
 * a GResource: looking its 29 files up cost every `deliver` process
 * 0.5 M instructions (4% of it), for data that needs no lookup.
 */
#include "templates/template_builtin.h"
#include "templates/template_builtin_data.h"

GStrv
template_builtin_files(void)
{
  GStrv paths = g_new0(char *, template_builtin_data_count + 1);
  for (gsize i = 0; i < template_builtin_data_count; i++)
    paths[i] = g_strdup(template_builtin_data[i].path);
  return paths;
}

TemplateSet *
template_builtin_load(const char *default_lang, GError **error)
{
  gsize n = template_builtin_data_count;
  g_autofree TemplateFile *files = g_new0(TemplateFile, n ? n : 1);
  for (gsize i = 0; i < n; i++) {
    files[i].path = template_builtin_data[i].path;
    files[i].text = template_builtin_data[i].text;
    files[i].len = (gssize)template_builtin_data[i].len;
  }
  return template_set_load_files(TEMPLATE_BUILTIN_LABEL, files, n, default_lang, error);
}
