/* config.c - loading and validating the configuration (see config.h).
 *
 * DIAGNOSTICS: every problem is "FILE:LINE: message"; GKeyFile does not
 * keep line numbers, so a small scan of the file text maps each group and
 * key to the line that set it.
 */
#include "gateway/config.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

typedef enum { T_STR, T_LIST, T_SIZE, T_DURATION, T_DURATION_MS, T_UINT,
               T_BOOL, T_RATE, T_LISTEN, T_ENUM } KeyType;

typedef struct {
  const char *group; /* "imap:" and "staff:" match [imap:NAME], [staff:NAME] */
  const char *key;
  KeyType type;
  gsize offset;
  const char *choices; /* T_ENUM: "a|b|c" */
} KeySpec;

#define C(f) offsetof(TgConfig, f)
#define I(f) offsetof(TgImapAccount, f)
#define S(f) offsetof(TgStaff, f)

static const KeySpec schema[] = {
    {"gateway", "data_dir", T_STR, C(data_dir), NULL},
    {"gateway", "addresses", T_LIST, C(addresses), NULL},
    {"gateway", "tag_prefix", T_STR, C(tag_prefix), NULL},
    {"gateway", "secret_file", T_STR, C(secret_file), NULL},
    {"gateway", "default_language", T_ENUM, C(default_language), "en|ja"},
    {"gateway", "url_base", T_STR, C(url_base), NULL},
    {"gateway", "signature", T_STR, C(signature), NULL},
    {"gateway", "hostname", T_STR, C(hostname), NULL},
    {"gateway", "user", T_STR, C(user), NULL},
    {"smtp", "listen", T_LISTEN, C(smtp_listen), NULL},
    {"smtp", "tls_cert", T_STR, C(tls_cert), NULL},
    {"smtp", "tls_key", T_STR, C(tls_key), NULL},
    {"smtp", "max_line", T_UINT, C(smtp_max_line), NULL},
    {"smtp", "max_recipients", T_UINT, C(smtp_max_recipients), NULL},
    {"smtp", "max_commands", T_UINT, C(smtp_max_commands), NULL},
    {"smtp", "max_errors", T_UINT, C(smtp_max_errors), NULL},
    {"smtp", "idle_timeout", T_DURATION, C(smtp_idle_timeout), NULL},
    {"smtp", "session_timeout", T_DURATION, C(smtp_session_timeout), NULL},
    {"smtp", "max_sessions", T_UINT, C(smtp_max_sessions), NULL},
    {"smtp", "max_sessions_per_client", T_UINT, C(smtp_max_sessions_per_client), NULL},
    {"lmtp", "listen", T_LISTEN, C(lmtp_listen), NULL},
    {"rules", "dir", T_STR, C(rules_dir), NULL},
    {"templates", "dir", T_STR, C(templates_dir), NULL},
    {"escalation", "policies", T_STR, C(escalation_policies), NULL},
    {"outbound", "smarthost", T_STR, C(smarthost), NULL},
    {"outbound", "tls", T_ENUM, C(smarthost_tls), "none|starttls|implicit"},
    {"outbound", "user", T_STR, C(smarthost_user), NULL},
    {"outbound", "password_file", T_STR, C(smarthost_password_file), NULL},
    {"outbound", "tls_verify", T_BOOL, C(smarthost_tls_verify), NULL},
    {"outbound", "ca_file", T_STR, C(smarthost_ca_file), NULL},
    {"outbound", "iso2022jp_domains", T_LIST, C(iso2022jp_domains), NULL},
    {"outbound", "max_age", T_DURATION, C(outbound_max_age), NULL},
    {"outbound", "from_address", T_STR, C(from_address), NULL},
    {"limits", "message_size", T_SIZE, C(message_size), NULL},
    {"limits", "mime_depth", T_UINT, C(mime_depth), NULL},
    {"limits", "mime_parts", T_UINT, C(mime_parts), NULL},
    {"limits", "header_count", T_UINT, C(header_count), NULL},
    {"limits", "spool_min_free", T_SIZE, C(spool_min_free), NULL},
    {"limits", "busy_timeout", T_DURATION_MS, C(busy_timeout_ms), NULL},
    {"limits", "flood", T_RATE, C(flood), NULL},
    {"limits", "autoreply", T_RATE, C(autoreply), NULL},
    {"auth", "trusted_authserv_id", T_STR, C(trusted_authserv_id), NULL},
    {"log", "target", T_ENUM, C(log_target), "stderr|syslog"},
    {"log", "verbose", T_BOOL, C(log_verbose), NULL},
    {"metrics", "listen", T_STR, C(metrics_listen), NULL},
};

static const KeySpec imap_schema[] = {
    {"imap:", "host", T_STR, I(host), NULL},
    {"imap:", "port", T_UINT, I(port), NULL},
    {"imap:", "tls", T_ENUM, I(tls), "none|starttls|implicit"},
    {"imap:", "user", T_STR, I(user), NULL},
    {"imap:", "password", T_STR, I(password), NULL},
    {"imap:", "password_file", T_STR, I(password_file), NULL},
    {"imap:", "folder", T_LIST, I(folders), NULL},
    {"imap:", "after", T_STR, I(after), NULL},
    {"imap:", "recipient", T_STR, I(recipient), NULL},
    {"imap:", "poll_interval", T_DURATION, I(poll_interval), NULL},
    {"imap:", "timeout", T_DURATION, I(timeout), NULL},
    {"imap:", "batch", T_UINT, I(batch), NULL},
    {"imap:", "tls_verify", T_BOOL, I(tls_verify), NULL},
    {"imap:", "ca_file", T_STR, I(ca_file), NULL},
};

static const KeySpec staff_schema[] = {
    {"staff:", "address", T_STR, S(address), NULL},
    {"staff:", "name", T_STR, S(name), NULL},
    {"staff:", "level", T_UINT, S(level), NULL},
    {"staff:", "team", T_STR, S(team), NULL},
};

static const char imap_defaults[] =
    "port = 143\ntls = starttls\nfolder = INBOX\nafter = seen\n"
    "recipient = support@localhost\npoll_interval = 60s\ntimeout = 60s\n"
    "batch = 100\ntls_verify = true\nca_file =\nuser =\npassword =\npassword_file =\n";
static const char staff_defaults[] = "name =\nlevel = 1\nteam =\n";

/* -------- value parsers -------- */

gboolean tg_config_parse_size(const char *s, guint64 *bytes_r) {
  char *end;
  if (!s || !g_ascii_isdigit(*s))
    return FALSE;
  guint64 v = g_ascii_strtoull(s, &end, 10);
  guint64 mul = 1;
  switch (g_ascii_toupper(*end)) {
  case 0: break;
  case 'K': mul = 1024; end++; break;
  case 'M': mul = 1024 * 1024; end++; break;
  case 'G': mul = 1024ULL * 1024 * 1024; end++; break;
  default: return FALSE;
  }
  if (g_ascii_toupper(*end) == 'B')
    end++;
  if (*end || v > G_MAXUINT64 / mul)
    return FALSE;
  *bytes_r = v * mul;
  return TRUE;
}

gboolean tg_config_parse_duration(const char *s, guint *seconds_r) {
  char *end;
  if (!s || !g_ascii_isdigit(*s))
    return FALSE;
  guint64 v = g_ascii_strtoull(s, &end, 10);
  guint64 mul = 1;
  switch (*end) {
  case 0: break;
  case 's': end++; break;
  case 'm': mul = 60; end++; break;
  case 'h': mul = 3600; end++; break;
  case 'd': mul = 86400; end++; break;
  default: return FALSE;
  }
  if (*end || v > G_MAXUINT / mul)
    return FALSE;
  *seconds_r = (guint)(v * mul);
  return TRUE;
}

gboolean tg_config_parse_rate(const char *s, TgRate *rate_r) {
  if (g_strcmp0(s, "0") == 0 || g_strcmp0(s, "off") == 0) {
    rate_r->count = 0;
    rate_r->window = 0;
    return TRUE;
  }
  const char *slash = s ? strchr(s, '/') : NULL;
  if (!slash)
    return FALSE;
  g_autofree char *num = g_strndup(s, (gsize)(slash - s));
  char *end;
  guint64 count = g_ascii_strtoull(num, &end, 10);
  if (!num[0] || *end || count > G_MAXUINT)
    return FALSE;
  const char *w = slash + 1;
  /* "5/h" reads as 5 per 1h. */
  g_autofree char *window = g_ascii_isdigit(*w) ? g_strdup(w)
                                                : g_strconcat("1", w, NULL);
  if (!tg_config_parse_duration(window, &rate_r->window) ||
      rate_r->window == 0)
    return FALSE;
  rate_r->count = (guint)count;
  return TRUE;
}

static gboolean listen_ok(const char *s) {
  /* host:port or [v6]:port */
  const char *colon = strrchr(s, ':');
  if (!colon || colon == s)
    return FALSE;
  if (s[0] == '[' && colon[-1] != ']')
    return FALSE;
  char *end;
  guint64 port = g_ascii_strtoull(colon + 1, &end, 10);
  return colon[1] && !*end && port > 0 && port < 65536;
}

/* -------- line numbers -------- */

typedef struct {
  GHashTable *lines; /* "group\nkey" or "group" -> line */
  guint first_bad;   /* first line GKeyFile will refuse, or 0 */
} LineMap;

static void line_map_build(LineMap *lm, const char *text) {
  lm->lines = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
  g_autofree char *group = g_strdup("");
  for (guint i = 0; lines[i]; i++) {
    g_autofree char *l = g_strstrip(g_strdup(lines[i]));
    gsize ll = strlen(l);
    if (!lm->first_bad && l[0] && l[0] != '#' &&
        !(l[0] == '[' && l[ll - 1] == ']') && !strchr(l, '='))
      lm->first_bad = i + 1;
    if (l[0] == '[') {
      char *close = strchr(l, ']');
      if (close) {
        g_free(group);
        group = g_strndup(l + 1, (gsize)(close - l - 1));
        g_hash_table_replace(lm->lines, g_strdup(group), GUINT_TO_POINTER(i + 1));
      }
    } else if (l[0] && l[0] != '#') {
      char *eq = strchr(l, '=');
      if (eq) {
        g_autofree char *key = g_strstrip(g_strndup(l, (gsize)(eq - l)));
        g_hash_table_replace(lm->lines, g_strdup_printf("%s\n%s", group, key),
                             GUINT_TO_POINTER(i + 1));
      }
    }
  }
}

static guint line_of(LineMap *lm, const char *group, const char *key) {
  if (!lm->lines)
    return 0;
  g_autofree char *k = key ? g_strdup_printf("%s\n%s", group, key)
                           : g_strdup(group);
  return GPOINTER_TO_UINT(g_hash_table_lookup(lm->lines, k));
}

typedef struct {
  const char *source;
  LineMap lm;
  GPtrArray *errors;
} Loader;

static void error_at(Loader *ld, const char *group, const char *key,
                     const char *fmt, ...) G_GNUC_PRINTF(4, 5);
static void error_at(Loader *ld, const char *group, const char *key,
                     const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *msg = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  guint line = line_of(&ld->lm, group, key);
  if (!line && key)
    line = line_of(&ld->lm, group, NULL);
  g_ptr_array_add(ld->errors, g_strdup_printf("%s:%u: %s", ld->source, line, msg));
}

/* -------- applying values -------- */

static void set_value(Loader *ld, GKeyFile *kf, const char *group,
                      const KeySpec *spec, void *base) {
  g_autoptr(GError) err = NULL;
  char *field = (char *)base + spec->offset;
  g_autofree char *raw = g_key_file_get_value(kf, group, spec->key, NULL);
  if (!raw)
    return;
  g_autofree char *v = g_key_file_get_string(kf, group, spec->key, &err);
  if (!v) {
    error_at(ld, group, spec->key, "%s: %s", spec->key, err->message);
    return;
  }
  g_strstrip(v);
  switch (spec->type) {
  case T_STR:
    g_free(*(char **)field);
    *(char **)field = g_strdup(v);
    break;
  case T_ENUM: {
    g_auto(GStrv) choices = g_strsplit(spec->choices, "|", -1);
    if (!g_strv_contains((const char *const *)choices, v)) {
      error_at(ld, group, spec->key, "%s: '%s' is not one of %s", spec->key, v,
               spec->choices);
      return;
    }
    g_free(*(char **)field);
    *(char **)field = g_strdup(v);
    break;
  }
  case T_LIST:
  case T_LISTEN: {
    g_auto(GStrv) parts = g_strsplit_set(v, ",;", -1);
    GPtrArray *out = g_ptr_array_new();
    for (guint i = 0; parts[i]; i++) {
      g_strstrip(parts[i]);
      if (!parts[i][0])
        continue;
      if (spec->type == T_LISTEN && !listen_ok(parts[i])) {
        error_at(ld, group, spec->key,
                 "%s: '%s' is not HOST:PORT (IPv6 as [ADDR]:PORT)", spec->key,
                 parts[i]);
        continue;
      }
      g_ptr_array_add(out, g_strdup(parts[i]));
    }
    g_ptr_array_add(out, NULL);
    g_strfreev(*(char ***)field);
    *(char ***)field = (char **)g_ptr_array_free(out, FALSE);
    break;
  }
  case T_SIZE:
    if (!tg_config_parse_size(v, (guint64 *)field))
      error_at(ld, group, spec->key,
               "%s: '%s' is not a size (a number with an optional K, M or G)",
               spec->key, v);
    break;
  case T_DURATION:
    if (!tg_config_parse_duration(v, (guint *)field))
      error_at(ld, group, spec->key,
               "%s: '%s' is not a duration (e.g. 30s, 10m, 2h, 1d)", spec->key, v);
    break;
  case T_DURATION_MS: {
    guint secs;
    if (!tg_config_parse_duration(v, &secs) || secs > G_MAXUINT / 1000)
      error_at(ld, group, spec->key,
               "%s: '%s' is not a duration (e.g. 30s, 10m, 2h, 1d)", spec->key, v);
    else
      *(guint *)field = secs * 1000;
    break;
  }
  case T_UINT: {
    char *end;
    guint64 n = g_ascii_strtoull(v, &end, 10);
    if (!v[0] || *end || n > G_MAXUINT)
      error_at(ld, group, spec->key, "%s: '%s' is not a whole number", spec->key, v);
    else
      *(guint *)field = (guint)n;
    break;
  }
  case T_BOOL:
    if (g_ascii_strcasecmp(v, "true") == 0 || g_ascii_strcasecmp(v, "yes") == 0 ||
        strcmp(v, "1") == 0)
      *(gboolean *)field = TRUE;
    else if (g_ascii_strcasecmp(v, "false") == 0 ||
             g_ascii_strcasecmp(v, "no") == 0 || strcmp(v, "0") == 0)
      *(gboolean *)field = FALSE;
    else
      error_at(ld, group, spec->key, "%s: '%s' is not true or false", spec->key, v);
    break;
  case T_RATE:
    if (!tg_config_parse_rate(v, (TgRate *)field))
      error_at(ld, group, spec->key,
               "%s: '%s' is not COUNT/DURATION (e.g. 20/10m) or 0", spec->key, v);
    break;
  }
}

static void apply_schema(Loader *ld, GKeyFile *kf, const char *group,
                         const KeySpec *table, gsize n, void *base) {
  for (gsize i = 0; i < n; i++)
    set_value(ld, kf, group, &table[i], base);
}

static gboolean key_known(const KeySpec *table, gsize n, const char *key) {
  for (gsize i = 0; i < n; i++)
    if (strcmp(table[i].key, key) == 0)
      return TRUE;
  return FALSE;
}

static gboolean group_known(const char *group) {
  for (gsize i = 0; i < G_N_ELEMENTS(schema); i++)
    if (strcmp(schema[i].group, group) == 0)
      return TRUE;
  return FALSE;
}

/* Reports unknown groups and keys of the user's file. */
static void check_names(Loader *ld, GKeyFile *user) {
  g_auto(GStrv) groups = g_key_file_get_groups(user, NULL);
  for (guint g = 0; groups[g]; g++) {
    const char *group = groups[g];
    gboolean imap = g_str_has_prefix(group, "imap:");
    gboolean staff = g_str_has_prefix(group, "staff:");
    if ((imap || staff) && !group[imap ? 5 : 6]) {
      error_at(ld, group, NULL, "[%s] needs a name, as in [%sNAME]", group, group);
      continue;
    }
    if (!imap && !staff && !group_known(group)) {
      error_at(ld, group, NULL, "unknown group [%s]", group);
      continue;
    }
    g_auto(GStrv) keys = g_key_file_get_keys(user, group, NULL, NULL);
    for (guint k = 0; keys && keys[k]; k++) {
      gboolean known = FALSE;
      if (imap)
        known = key_known(imap_schema, G_N_ELEMENTS(imap_schema), keys[k]);
      else if (staff)
        known = key_known(staff_schema, G_N_ELEMENTS(staff_schema), keys[k]);
      else
        for (gsize i = 0; i < G_N_ELEMENTS(schema) && !known; i++)
          known = strcmp(schema[i].group, group) == 0 &&
                  strcmp(schema[i].key, keys[k]) == 0;
      if (!known)
        error_at(ld, group, keys[k], "unknown key '%s' in [%s]", keys[k], group);
    }
  }
}

static void imap_free(gpointer p) {
  TgImapAccount *a = p;
  g_free(a->name); g_free(a->host); g_free(a->tls); g_free(a->user);
  g_free(a->password); g_free(a->password_file); g_strfreev(a->folders);
  g_free(a->after); g_free(a->recipient); g_free(a->ca_file);
  g_free(a);
}

static void staff_free(gpointer p) {
  TgStaff *s = p;
  g_free(s->id); g_free(s->address); g_free(s->name); g_free(s->team);
  g_free(s);
}

/* Group defaults are parsed into a scratch key file and applied first. */
static void apply_group_defaults(Loader *ld, const char *defaults,
                                 const KeySpec *table, gsize n, void *base) {
  g_autoptr(GKeyFile) kf = g_key_file_new();
  g_autofree char *text = g_strconcat("[d]\n", defaults, NULL);
  g_key_file_load_from_data(kf, text, (gsize)-1, G_KEY_FILE_NONE, NULL);
  Loader quiet = {.source = "(embedded default)", .errors = ld->errors};
  apply_schema(&quiet, kf, "d", table, n, base);
}

static void load_named_groups(Loader *ld, TgConfig *cfg, GKeyFile *user) {
  if (!user)
    return;
  g_auto(GStrv) groups = g_key_file_get_groups(user, NULL);
  for (guint g = 0; groups[g]; g++) {
    const char *group = groups[g];
    if (g_str_has_prefix(group, "imap:") && group[5]) {
      TgImapAccount *a = g_new0(TgImapAccount, 1);
      a->name = g_strdup(group + 5);
      apply_group_defaults(ld, imap_defaults, imap_schema,
                           G_N_ELEMENTS(imap_schema), a);
      apply_schema(ld, user, group, imap_schema, G_N_ELEMENTS(imap_schema), a);
      if (!a->host || !a->host[0])
        error_at(ld, group, NULL, "[%s] needs host", group);
      if (!a->user || !a->user[0])
        error_at(ld, group, NULL, "[%s] needs user", group);
      if (strcmp(a->after, "seen") != 0 && strcmp(a->after, "delete") != 0 &&
          !(g_str_has_prefix(a->after, "move:") && a->after[5]))
        error_at(ld, group, "after",
                 "after: '%s' is not seen, delete or move:FOLDER", a->after);
      if (strcmp(a->tls, "none") == 0 && a->host &&
          strcmp(a->host, "127.0.0.1") != 0 && strcmp(a->host, "::1") != 0 &&
          strcmp(a->host, "localhost") != 0)
        error_at(ld, group, "tls",
                 "tls = none sends the password in clear: only for loopback hosts");
      if (a->password_file && a->password_file[0]) {
        g_autoptr(GError) err = NULL;
        char *pw = NULL;
        if (!g_file_get_contents(a->password_file, &pw, NULL, &err)) {
          error_at(ld, group, "password_file", "password_file: %s", err->message);
        } else {
          g_free(a->password);
          a->password = g_strchomp(pw);
        }
      }
      g_ptr_array_add(cfg->imap, a);
    } else if (g_str_has_prefix(group, "staff:") && group[6]) {
      TgStaff *s = g_new0(TgStaff, 1);
      s->id = g_strdup(group + 6);
      apply_group_defaults(ld, staff_defaults, staff_schema,
                           G_N_ELEMENTS(staff_schema), s);
      apply_schema(ld, user, group, staff_schema, G_N_ELEMENTS(staff_schema), s);
      if (!s->address || !strchr(s->address, '@'))
        error_at(ld, group, "address", "[%s] needs an address with a domain", group);
      else {
        char *lower = g_utf8_strdown(s->address, -1);
        g_free(s->address);
        s->address = lower;
      }
      g_ptr_array_add(cfg->staff, s);
    }
  }
}

static void derive(Loader *ld, TgConfig *cfg) {
  cfg->spool_dir = g_build_filename(cfg->data_dir, "spool", NULL);
  cfg->db_path = g_build_filename(cfg->data_dir, "ticketgate.db", NULL);
  if (!cfg->addresses || !cfg->addresses[0])
    error_at(ld, "gateway", "addresses", "addresses: at least one support address is needed");
  for (guint i = 0; cfg->addresses && cfg->addresses[i]; i++) {
    char *lower = g_utf8_strdown(cfg->addresses[i], -1);
    g_free(cfg->addresses[i]);
    cfg->addresses[i] = lower;
    const char *at = strchr(lower, '@');
    if (!at || at == lower || !at[1] || strchr(lower, '+'))
      error_at(ld, "gateway", "addresses",
               "addresses: '%s' is not LOCAL@DOMAIN (without a +detail)", lower);
  }
  if (!cfg->tag_prefix[0] || strpbrk(cfg->tag_prefix, "[]#"))
    error_at(ld, "gateway", "tag_prefix",
             "tag_prefix: must be non-empty and free of [, ] and #");
  if (cfg->message_size == 0)
    error_at(ld, "limits", "message_size", "message_size: must be above 0");
  if (cfg->mime_depth == 0 || cfg->mime_parts == 0 || cfg->header_count == 0)
    error_at(ld, "limits", NULL, "mime_depth, mime_parts and header_count must be above 0");
  if ((cfg->tls_cert[0] != 0) != (cfg->tls_key[0] != 0))
    error_at(ld, "smtp", "tls_cert", "tls_cert and tls_key go together");
  if (!cfg->from_address[0]) {
    g_free(cfg->from_address);
    cfg->from_address = g_strdup(cfg->addresses && cfg->addresses[0]
                                     ? cfg->addresses[0] : "support@localhost");
  }
}

const char *tg_config_choose_path(const char *path_opt) {
  if (path_opt && path_opt[0])
    return path_opt;
  const char *env = g_getenv("TICKETGATE_CONFIG");
  return env && env[0] ? env : NULL;
}

TgConfig *tg_config_load(const char *path, GPtrArray **errors_r) {
  GPtrArray *errors = g_ptr_array_new_with_free_func(g_free);
  TgConfig *cfg = g_new0(TgConfig, 1);
  cfg->imap = g_ptr_array_new_with_free_func(imap_free);
  cfg->staff = g_ptr_array_new_with_free_func(staff_free);
  cfg->source = g_strdup(path ? path : "(embedded default)");

  g_autoptr(GKeyFile) defaults = g_key_file_new();
  g_autoptr(GError) err = NULL;
  if (!g_key_file_load_from_data(defaults, tg_config_default_text, (gsize)-1,
                                 G_KEY_FILE_NONE, &err))
    g_error("embedded default configuration is broken: %s", err->message);
  Loader dl = {.source = "(embedded default)", .errors = errors};
  for (gsize i = 0; i < G_N_ELEMENTS(schema); i++)
    set_value(&dl, defaults, schema[i].group, &schema[i], cfg);

  g_autoptr(GKeyFile) user = NULL;
  g_autofree char *text = NULL;
  Loader ld = {.source = cfg->source, .errors = errors};
  if (path) {
    gsize len;
    if (!g_file_get_contents(path, &text, &len, &err)) {
      g_ptr_array_add(errors, g_strdup_printf("%s:0: %s", path, err->message));
      goto done;
    }
    line_map_build(&ld.lm, text);
    user = g_key_file_new();
    g_clear_error(&err);
    if (!g_key_file_load_from_data(user, text, len, G_KEY_FILE_NONE, &err)) {
      /* GKeyFile names no line; our scan found the first bad one. */
      g_ptr_array_add(errors, g_strdup_printf("%s:%u: %s", path,
                                              ld.lm.first_bad, err->message));
      goto done;
    }
    check_names(&ld, user);
    g_auto(GStrv) groups = g_key_file_get_groups(user, NULL);
    for (guint g = 0; groups[g]; g++)
      if (group_known(groups[g]))
        for (gsize i = 0; i < G_N_ELEMENTS(schema); i++)
          if (strcmp(schema[i].group, groups[g]) == 0)
            set_value(&ld, user, groups[g], &schema[i], cfg);
  }
  load_named_groups(&ld, cfg, user);
  derive(&ld, cfg);

  /* The merged file, for modules that read optional keys themselves. */
  cfg->kf = g_key_file_new();
  g_key_file_load_from_data(cfg->kf, tg_config_default_text, (gsize)-1,
                            G_KEY_FILE_NONE, NULL);
  if (user) {
    g_auto(GStrv) groups = g_key_file_get_groups(user, NULL);
    for (guint g = 0; groups[g]; g++) {
      g_auto(GStrv) keys = g_key_file_get_keys(user, groups[g], NULL, NULL);
      for (guint k = 0; keys && keys[k]; k++) {
        g_autofree char *v = g_key_file_get_value(user, groups[g], keys[k], NULL);
        g_key_file_set_value(cfg->kf, groups[g], keys[k], v ? v : "");
      }
    }
  }
done:
  if (ld.lm.lines)
    g_hash_table_unref(ld.lm.lines);
  if (errors->len > 0) {
    tg_config_free(cfg);
    *errors_r = errors;
    return NULL;
  }
  g_ptr_array_unref(errors);
  *errors_r = NULL;
  return cfg;
}

void tg_config_free(TgConfig *cfg) {
  if (!cfg)
    return;
  for (gsize i = 0; i < G_N_ELEMENTS(schema); i++) {
    char *field = (char *)cfg + schema[i].offset;
    switch (schema[i].type) {
    case T_STR:
    case T_ENUM:
      g_free(*(char **)field);
      break;
    case T_LIST:
    case T_LISTEN:
      g_strfreev(*(char ***)field);
      break;
    default:
      break;
    }
  }
  g_free(cfg->source);
  g_ptr_array_unref(cfg->imap);
  g_ptr_array_unref(cfg->staff);
  g_free(cfg->spool_dir);
  g_free(cfg->db_path);
  if (cfg->kf)
    g_key_file_unref(cfg->kf);
  g_free(cfg);
}

GBytes *tg_config_secret(const TgConfig *cfg, GError **error) {
  char *text = NULL;
  gsize len = 0;
  if (g_file_get_contents(cfg->secret_file, &text, &len, NULL)) {
    g_strstrip(text);
    if (strlen(text) >= 32)
      return g_bytes_new_take(text, strlen(text));
    g_free(text);
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                "%s: secret shorter than 32 characters", cfg->secret_file);
    return NULL;
  }
  g_autofree char *dir = g_path_get_dirname(cfg->secret_file);
  if (g_mkdir_with_parents(dir, 0700) != 0) {
    g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno),
                "mkdir(%s) failed: %s", dir, g_strerror(errno));
    return NULL;
  }
  guint8 raw[32];
  if (getrandom(raw, sizeof raw, 0) != sizeof raw) {
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
                "getrandom failed: %s", g_strerror(errno));
    return NULL;
  }
  GString *hex = g_string_new(NULL);
  for (gsize i = 0; i < sizeof raw; i++)
    g_string_append_printf(hex, "%02x", raw[i]);
  g_string_append_c(hex, '\n');
  /* O_EXCL: when two processes start at once, one secret wins. */
  int fd = open(cfg->secret_file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd >= 0) {
    gboolean ok = write(fd, hex->str, hex->len) == (ssize_t)hex->len &&
                  fsync(fd) == 0;
    close(fd);
    if (!ok) {
      unlink(cfg->secret_file);
      g_string_free(hex, TRUE);
      g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
                  "write(%s) failed: %s", cfg->secret_file, g_strerror(errno));
      return NULL;
    }
  }
  g_string_free(hex, TRUE);
  return tg_config_secret(cfg, error);
}
