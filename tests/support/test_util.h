/* test_util.h - small helpers shared by the C unit tests. */
#ifndef TG_TEST_UTIL_H
#define TG_TEST_UTIL_H

#include <glib.h>
#include <stdlib.h>
#include <string.h>

/* Fails the test unless every string of WANT is in GOT (char*), printing
 * what GOT holds, so a table of expected diagnostics reads as a table. */
static inline void tg_test_assert_all_present(const GPtrArray *got,
                                              const char *const *want, gsize n) {
  for (gsize i = 0; i < n; i++) {
    gboolean found = FALSE;
    for (guint k = 0; got && k < got->len; k++)
      found |= strcmp(g_ptr_array_index(got, k), want[i]) == 0;
    if (!found) {
      for (guint k = 0; got && k < got->len; k++)
        g_printerr("got: %s\n", (char *)g_ptr_array_index(got, k));
      g_error("missing: %s", want[i]);
    }
  }
}

/* Removes the temporary directory DIR and all in it, then frees DIR. */
static inline void tg_test_remove_tree(char *dir) {
  g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", dir);
  g_assert_cmpint(system(cmd), ==, 0);
  g_free(dir);
}

#endif
