/* fuzz_mustache.c - libFuzzer target: Mustache compile and render.  The
 * input is a template; it is rendered against template_sample_new() as
 * text and as HTML, with a partial loader that answers every name with
 * the template itself (so {{>x}} recursion must stop at the depth cap).
 */
#include "templates/mustache.h"
#include "templates/template_sample.h"

#include <stdint.h>

static JsonNode *sample;

static const Mustache *self_partial(const char *name, gpointer user_data) {
  return user_data;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  g_log_set_always_fatal(G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_ERROR);
  sample = template_sample_new();
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  g_autoptr(GError) err = NULL;
  g_autoptr(Mustache) tpl = mustache_new("fuzz", (const char *)data, (gssize)size, &err);
  if (!tpl) {
    g_assert(err != NULL && err->message != NULL);
    return 0;
  }
  for (int html = 0; html < 2; html++) {
    MustacheRenderOptions opts = {.escape_html = html, .partials = self_partial,
                                  .partials_data = tpl};
    MustacheRenderResult res = {0};
    g_autoptr(GString) out = g_string_new(NULL);
    mustache_render(tpl, sample, &opts, out, &res);
    /* Output is bounded: the depth cap stops self-recursion. */
    mustache_render_result_clear(&res);
  }
  return 0;
}
