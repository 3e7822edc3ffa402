/* test_hooks.c - test-only crash points (contract in test_hooks.h). */
#include "gateway/test_hooks.h"

#include <glib.h>
#include <signal.h>
#include <string.h>

void tg_test_hooks_pause(const char *step) {
  static gsize once = 0;
  static const char *wanted = NULL;
  if (g_once_init_enter(&once)) {
    wanted = g_getenv("TICKETGATE_TEST_PAUSE");
    g_once_init_leave(&once, 1);
  }
  if (wanted && strcmp(wanted, step) == 0)
    raise(SIGKILL);
}

gsize tg_test_hooks_size(const char *name, gsize default_value) {
  g_autofree char *var = g_strconcat("TICKETGATE_TEST_", name, NULL);
  const char *v = g_getenv(var);
  return v ? (gsize)g_ascii_strtoull(v, NULL, 10) : default_value;
}

void tg_test_hooks_hold(const char *step) {
  const char *wanted = g_getenv("TICKETGATE_TEST_HOLD");
  if (wanted && strcmp(wanted, step) == 0)
    for (;;)
      g_usleep(G_USEC_PER_SEC);
}
