/* privdrop.c - chown the data directory, then setgroups/setgid/setuid
 * (see privdrop.h). */
#include "gateway/privdrop.h"
#include "gateway/log.h"

#include <errno.h>
#include <ftw.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

G_DEFINE_QUARK(tg-privdrop-error-quark, tg_privdrop_error)

static gboolean lookup(const char *name, uid_t *uid_r, gid_t *gid_r, GError **error) {
  errno = 0;
  struct passwd *pw = getpwnam(name);
  if (!pw) {
    g_set_error(error, TG_PRIVDROP_ERROR, TG_PRIVDROP_ERROR_NO_USER,
                "[gateway] user = %s: no such user%s%s%s", name,
                errno ? ": " : "", errno ? g_strerror(errno) : "",
                geteuid() == 0 ? "; refusing to run as root" : "");
    return FALSE;
  }
  *uid_r = pw->pw_uid;
  *gid_r = pw->pw_gid;
  return TRUE;
}

gboolean tg_privdrop_user_ok(const TgConfig *cfg, GError **error) {
  uid_t uid;
  gid_t gid;
  return !cfg->user || !cfg->user[0] || lookup(cfg->user, &uid, &gid, error);
}

int tg_privdrop_exit_code(const GError *error) {
  return g_error_matches(error, TG_PRIVDROP_ERROR, TG_PRIVDROP_ERROR_NO_USER)
             ? EX_CONFIG : EX_TEMPFAIL;
}

/* nftw() has no user pointer: the walk's state lives here (one walk at a
 * time, before any thread that could race it reads mail). */
static struct {
  uid_t uid;
  gid_t gid;
  int err;
  char *path;
} walk;

static int chown_one(const char *path, const struct stat *st, int type, struct FTW *ftw) {
  if (type == FTW_SL || type == FTW_SLN)
    return 0; /* never follow, never chown a link's target */
  if (type == FTW_NS || type == FTW_DNR)
    return 0; /* root without CAP_DAC_*: the user's own files are the user's */
  if (S_ISREG(st->st_mode) && st->st_nlink > 1)
    return 0;
  if (st->st_uid == walk.uid && st->st_gid == walk.gid)
    return 0;
  if (lchown(path, walk.uid, walk.gid) != 0) {
    walk.err = errno;
    walk.path = g_strdup(path);
    return 1;
  }
  return 0;
}

static gboolean own_dir(const char *dir, uid_t uid, gid_t gid, GError **error) {
  struct stat st;
  if (lstat(dir, &st) != 0) {
    if (errno != ENOENT || g_mkdir_with_parents(dir, 0700) != 0) {
      g_set_error(error, TG_PRIVDROP_ERROR, TG_PRIVDROP_ERROR_FAILED,
                  "mkdir(%s) failed: %s", dir, g_strerror(errno));
      return FALSE;
    }
    if (lstat(dir, &st) != 0) {
      g_set_error(error, TG_PRIVDROP_ERROR, TG_PRIVDROP_ERROR_FAILED,
                  "stat(%s) failed: %s", dir, g_strerror(errno));
      return FALSE;
    }
  }
  if (!S_ISDIR(st.st_mode)) {
    g_set_error(error, TG_PRIVDROP_ERROR, TG_PRIVDROP_ERROR_FAILED,
                "data_dir %s is not a directory", dir);
    return FALSE;
  }
  walk.uid = uid;
  walk.gid = gid;
  walk.err = 0;
  walk.path = NULL;
  /* Only what is not already the user's is touched: after the first
   * start this is a read-only walk. */
  if (nftw(dir, chown_one, 32, FTW_PHYS) != 0) {
    int e = walk.err ? walk.err : errno;
    g_autofree char *where = walk.path ? walk.path : g_strdup(dir);
    walk.path = NULL;
    g_set_error(error, TG_PRIVDROP_ERROR, TG_PRIVDROP_ERROR_FAILED,
                "chown(%s) failed: %s", where, g_strerror(e));
    return FALSE;
  }
  return TRUE;
}

/* capset(2) without libcap: permitted = effective = MASK (bits < 32). */
static int caps_set(guint32 mask) {
  struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct data[2] = {{.effective = mask, .permitted = mask}};
  return (int)syscall(SYS_capset, &hdr, data);
}

void tg_privdrop_release_bind(void) {
  if (getuid() != 0 && geteuid() != 0)
    caps_set(0);
}

static gboolean drop(const TgConfig *cfg, gboolean keep_bind, GError **error) {
  if (!cfg->user || !cfg->user[0])
    return TRUE;
  uid_t uid;
  gid_t gid;
  if (!lookup(cfg->user, &uid, &gid, error))
    return FALSE;
  if (geteuid() != 0) {
    if (geteuid() != uid)
      tg_debug("not root (uid %u): [gateway] user = %s left to the caller",
               (guint)geteuid(), cfg->user);
    return TRUE;
  }
  if (uid == 0)
    return TRUE; /* user = root: nothing to give up */
  if (!own_dir(cfg->data_dir, uid, gid, error))
    return FALSE;
  /* A secret_file outside data_dir is not touched: it must be readable
   * by the user (root:ticketgate 0640, say). */
  if (initgroups(cfg->user, gid) != 0 && setgroups(1, &gid) != 0) {
    g_set_error(error, TG_PRIVDROP_ERROR, TG_PRIVDROP_ERROR_FAILED,
                "setgroups(%s) failed: %s", cfg->user, g_strerror(errno));
    return FALSE;
  }
  if (setresgid(gid, gid, gid) != 0) {
    g_set_error(error, TG_PRIVDROP_ERROR, TG_PRIVDROP_ERROR_FAILED,
                "setresgid(%u) failed: %s", (guint)gid, g_strerror(errno));
    return FALSE;
  }
  if (keep_bind && prctl(PR_SET_KEEPCAPS, 1L, 0L, 0L, 0L) != 0) {
    g_set_error(error, TG_PRIVDROP_ERROR, TG_PRIVDROP_ERROR_FAILED,
                "prctl(PR_SET_KEEPCAPS) failed: %s", g_strerror(errno));
    return FALSE;
  }
  if (setresuid(uid, uid, uid) != 0) {
    g_set_error(error, TG_PRIVDROP_ERROR, TG_PRIVDROP_ERROR_FAILED,
                "setresuid(%u) failed: %s", (guint)uid, g_strerror(errno));
    return FALSE;
  }
  if (keep_bind) {
    prctl(PR_SET_KEEPCAPS, 0L, 0L, 0L, 0L);
    if (caps_set(1u << CAP_NET_BIND_SERVICE) != 0) {
      g_set_error(error, TG_PRIVDROP_ERROR, TG_PRIVDROP_ERROR_FAILED,
                  "capset(CAP_NET_BIND_SERVICE) failed: %s", g_strerror(errno));
      return FALSE;
    }
  }
  /* Prove it: a dropped process must not get root back. */
  if (setuid(0) == 0 || geteuid() != uid || getegid() != gid)
    g_error("privdrop: still able to become root after setresuid(%u)", (guint)uid);
  tg_info("privileges dropped to user %s (uid %u, gid %u)", cfg->user, (guint)uid,
          (guint)gid);
  return TRUE;
}

gboolean tg_privdrop(const TgConfig *cfg, GError **error) {
  return drop(cfg, FALSE, error);
}

gboolean tg_privdrop_keep_bind(const TgConfig *cfg, GError **error) {
  return drop(cfg, TRUE, error);
}
