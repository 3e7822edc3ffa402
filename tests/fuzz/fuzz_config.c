/* fuzz_config.c - libFuzzer target: the configuration parser.  The input is
 * written to a temporary file and loaded with tg_config_load(); it must
 * load or fail with at least one "FILE:LINE: message" error.
 */
#include "gateway/config.h"

#include <glib/gstdio.h>
#include <stdint.h>
#include <unistd.h>

static char *path;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  g_log_set_always_fatal(G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_ERROR);
  int fd = g_file_open_tmp("tgfuzz-config-XXXXXX.conf", &path, NULL);
  if (fd < 0)
    g_error("cannot create a temporary file");
  close(fd);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!g_file_set_contents(path, (const char *)data, (gssize)size, NULL))
    g_error("cannot write %s", path);
  g_autoptr(GPtrArray) errors = NULL;
  g_autoptr(TgConfig) cfg = tg_config_load(path, &errors);
  if (!cfg) {
    g_assert(errors != NULL && errors->len > 0);
    for (guint i = 0; i < errors->len; i++)
      g_assert(g_str_has_prefix(g_ptr_array_index(errors, i), path) ||
               g_str_has_prefix(g_ptr_array_index(errors, i), "("));
  }
  return 0;
}
