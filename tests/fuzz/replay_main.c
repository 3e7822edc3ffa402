/* replay_main.c - runs a fuzz target without libFuzzer, for the normal
 * suite: every file under tests/fuzz/regressions/NAME/ (inputs that once
 * crashed, leaked or hung) and tests/fuzz/seeds/NAME/ goes through the
 * same LLVMFuzzerTestOneInput() the fuzzer calls, one g_test case each.
 * Extra arguments (files) are replayed too: `fuzz_replay_mail crash-123`.
 *
 * TG_FUZZ_NAME (compile definition) picks the folder; TG_SOURCE_DIR (env,
 * set by ctest) or TG_FUZZ_SOURCE_DIR (compile definition) finds it.
 */
#include <glib.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void replay_file(gconstpointer data) {
  const char *path = data;
  g_autofree char *bytes = NULL;
  gsize len = 0;
  g_autoptr(GError) err = NULL;
  if (!g_file_get_contents(path, &bytes, &len, &err))
    g_error("%s", err->message);
  g_assert_cmpint(LLVMFuzzerTestOneInput((const uint8_t *)bytes, len), ==, 0);
}

static void add_dir(const char *dir, guint *n) {
  g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
  if (!d)
    return;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
  const char *name;
  while ((name = g_dir_read_name(d)))
    if (name[0] != '.' && !g_str_equal(name, "README"))
      g_ptr_array_add(names, g_strdup(name));
  g_ptr_array_sort(names, (GCompareFunc)g_strcmp0);
  for (guint i = 0; i < names->len; i++) {
    const char *nm = g_ptr_array_index(names, i);
    char *path = g_build_filename(dir, nm, NULL); /* lives for the process */
    g_autofree char *test = g_strdup_printf("/fuzz-replay/%s/%s/%s", TG_FUZZ_NAME,
                                            strstr(dir, "/regressions/") ? "regression" : "seed",
                                            nm);
    g_test_add_data_func(test, path, replay_file);
    (*n)++;
  }
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  LLVMFuzzerInitialize(&argc, &argv);
  const char *src = g_getenv("TG_SOURCE_DIR");
  if (!src)
    src = TG_FUZZ_SOURCE_DIR;
  guint n = 0;
  g_autofree char *reg = g_build_filename(src, "tests/fuzz/regressions", TG_FUZZ_NAME, NULL);
  g_autofree char *seeds = g_build_filename(src, "tests/fuzz/seeds", TG_FUZZ_NAME, NULL);
  add_dir(reg, &n);
  add_dir(seeds, &n);
  for (int i = 1; i < argc; i++) {
    g_autofree char *test = g_strdup_printf("/fuzz-replay/%s/arg/%d", TG_FUZZ_NAME, i);
    g_test_add_data_func(test, argv[i], replay_file);
    n++;
  }
  if (n == 0)
    g_test_skip("no inputs");
  return g_test_run();
}
