/* net_module.c - finds and loads ticketgate-net.so (net_module.h).
 *
 * DIAGNOSTICS: "network module not loaded: PATH: dlerror text; PATH: ..."
 * names each candidate, so a broken install says which file is wrong.
 */
#include "gateway/net_module.h"

#include <dlfcn.h>
#include <string.h>

G_DEFINE_QUARK(tg-net-error-quark, tg_net_error)

static const TgNetOps *try_load(const char *path, GString *why) {
  void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    g_string_append_printf(why, "%s%s", why->len ? "; " : "", dlerror());
    return NULL;
  }
  const TgNetOps *ops = dlsym(handle, TG_NET_MODULE_SYMBOL);
  const gsize sizes[] = TG_NET_SHARED_SIZES;
  if (!ops || ops->abi != TG_NET_ABI || ops->size != sizeof(TgNetOps) ||
      g_strcmp0(ops->version, TG_VERSION) != 0 ||
      memcmp(ops->shared_sizes, sizes, sizeof sizes) != 0) {
    g_string_append_printf(why, "%s%s: %s", why->len ? "; " : "", path,
                           ops ? "built for another ticketgate (ABI mismatch)"
                               : "no " TG_NET_MODULE_SYMBOL);
    dlclose(handle);
    return NULL;
  }
  return ops; /* the handle stays open for the life of the process */
}

static const TgNetOps *loaded;
static char *load_error;

static gpointer load_once(gpointer unused) {
  g_autofree char *exe = g_file_read_link("/proc/self/exe", NULL);
  g_autofree char *dir = exe ? g_path_get_dirname(exe) : g_strdup(".");
  char *candidates[] = {
      g_build_filename(dir, TG_NET_MODULE_FILE, NULL),
      g_build_filename(dir, "..", "lib", "ticketgate", TG_NET_MODULE_FILE, NULL),
      NULL};
  g_autoptr(GString) why = g_string_new(NULL);
  for (char **c = candidates; *c && !loaded; c++)
    if (g_file_test(*c, G_FILE_TEST_EXISTS))
      loaded = try_load(*c, why);
  if (!loaded && why->len == 0)
    g_string_printf(why, "%s not found in %s or %s", TG_NET_MODULE_FILE, dir,
                    candidates[1]);
  if (!loaded)
    load_error = g_strdup(why->str);
  for (char **c = candidates; *c; c++)
    g_free(*c);
  return NULL;
}

gboolean tg_net_needed(const TgConfig *cfg) {
  return (cfg->metrics_listen && cfg->metrics_listen[0]) || (cfg->imap && cfg->imap->len) ||
         (cfg->smarthost && cfg->smarthost[0]);
}

const TgNetOps *tg_net(GError **error) {
  static GOnce once = G_ONCE_INIT;
  g_once(&once, load_once, NULL);
  if (!loaded)
    g_set_error(error, TG_NET_ERROR, 0, "network module not loaded: %s",
                load_error);
  return loaded;
}
