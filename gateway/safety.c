/* safety.c - unsafe permissions on spool, data and secrets (contract in
 * safety.h).
 *
 * SECURITY: this is a tripwire for mistakes, not a sandbox: it checks the
 * mode bits of the paths named by the configuration at start-up.
 */
#include "gateway/safety.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

static void check_dir(const char *what, const char *path, GPtrArray *problems) {
  struct stat st;
  if (!path || !path[0] || stat(path, &st) != 0)
    return;
  if (S_ISDIR(st.st_mode) && (st.st_mode & S_IWOTH))
    g_ptr_array_add(problems,
                    g_strdup_printf("%s %s is world-writable (mode %04o): "
                                    "other users could plant or remove mail; "
                                    "chmod o-w %s (0700 is best)",
                                    what, path, (unsigned)(st.st_mode & 07777), path));
}

static void check_secret_file(const char *what, const char *path,
                              GPtrArray *problems) {
  struct stat st;
  if (!path || !path[0] || stat(path, &st) != 0)
    return;
  if (st.st_mode & (S_IROTH | S_IWOTH))
    g_ptr_array_add(problems,
                    g_strdup_printf("%s %s is readable or writable by others "
                                    "(mode %04o); chmod 0600 %s",
                                    what, path, (unsigned)(st.st_mode & 07777), path));
}

static gboolean config_has_password(const TgConfig *cfg) {
  for (guint i = 0; i < cfg->imap->len; i++) {
    const TgImapAccount *a = g_ptr_array_index(cfg->imap, i);
    /* A password that came from a password_file is not in the config. */
    if (a->password && a->password[0] &&
        !(a->password_file && a->password_file[0]))
      return TRUE;
  }
  return FALSE;
}

gboolean tg_safety_check(const TgConfig *cfg, GPtrArray *problems) {
  guint before = problems->len;
  check_dir("data directory", cfg->data_dir, problems);
  check_dir("spool directory", cfg->spool_dir, problems);
  struct stat st;
  if (config_has_password(cfg) && cfg->source && stat(cfg->source, &st) == 0 &&
      (st.st_mode & S_IROTH))
    g_ptr_array_add(problems,
                    g_strdup_printf("configuration file %s holds a password and "
                                    "others can read it (mode %04o); chmod o-r %s, "
                                    "or move the password to a password_file",
                                    cfg->source, (unsigned)(st.st_mode & 07777),
                                    cfg->source));
  for (guint i = 0; i < cfg->imap->len; i++) {
    const TgImapAccount *a = g_ptr_array_index(cfg->imap, i);
    g_autofree char *what = g_strdup_printf("[imap:%s] password_file", a->name);
    check_secret_file(what, a->password_file, problems);
  }
  check_secret_file("[outbound] password_file", cfg->smarthost_password_file, problems);
  check_secret_file("secret_file", cfg->secret_file, problems);
  return problems->len == before;
}

gboolean tg_safety_check_ok(const TgConfig *cfg, GError **error) {
  g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
  if (tg_safety_check(cfg, problems))
    return TRUE;
  g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_PERM, "unsafe setup: %s%s",
              (char *)g_ptr_array_index(problems, 0),
              problems->len > 1 ? " (and more: run `ticketgate check`)" : "");
  return FALSE;
}
