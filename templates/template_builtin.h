/*
 * template_builtin — the default templates, embedded in the binary.
 *
 * PURPOSE
 *   templates/default/ is compiled into the program as C arrays
 *   (embed_templates.cmake, see templates/CMakeLists.txt), so `ticketgate`
 *   runs in an empty directory with no configuration: `[templates] dir =`
 *   (empty) means this set.
 *
 * PUBLIC FUNCTIONS
 *   template_builtin_load()   the embedded set, loaded like a directory
 *   template_builtin_files()  the embedded files, for listings and tests
 *
 * DIAGNOSTICS
 *   The embedded files are checked at build time only by the test suite;
 *   a load error is reported as `(built-in)/FILE:LINE: message`.
 *
 * OWNERSHIP
 *   The embedded data is static; results are (transfer full).
 */
#pragma once

#include "templates/template_set.h"

G_BEGIN_DECLS

#define TEMPLATE_BUILTIN_LABEL "(built-in)"

/* Returns (transfer full) the embedded default set, or NULL and @error. */
TemplateSet *template_builtin_load(const char *default_lang, GError **error);

/* Returns (transfer full) sorted relative paths of the embedded files. */
GStrv template_builtin_files(void);

G_END_DECLS
