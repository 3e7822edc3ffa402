/* template_builtin_data.h - templates/default/ as C arrays, generated at
 * build time by embed_templates.cmake (for template_builtin.c only). */
#pragma once

#include <glib.h>

typedef struct {
  const char *path; /* relative to templates/default */
  const char *text; /* NUL-terminated */
  gsize len;        /* without the NUL */
} TemplateBuiltinFile;

/* Sorted by path. */
extern const TemplateBuiltinFile template_builtin_data[];
extern const gsize template_builtin_data_count;
