/* config.h - the one configuration file, with an embedded default.
 *
 * Source: -c FILE, else $TICKETGATE_CONFIG, else nothing.  The embedded
 * default (config_default.c) is always loaded first and a file overrides
 * it key by key.  Every key is declared in one schema table (config.c);
 * a key or group not in it, or a value that does not parse, is an error
 * reported as "FILE:LINE: message".  tg_config_load() collects all of
 * them, so `ticketgate check` can list every problem at once.
 *
 * Relative paths are relative to the working directory.
 */
#ifndef TG_CONFIG_H
#define TG_CONFIG_H

#include <glib.h>

typedef struct {
  char *name;
  char *host;
  guint port;
  char *tls;            /* none | starttls | implicit */
  char *user;
  char *password;       /* from password or password_file */
  char *password_file;
  char **folders;
  char *after;          /* seen | delete | move:FOLDER */
  char *recipient;
  guint poll_interval;  /* seconds */
  guint timeout;        /* seconds */
  guint batch;
  gboolean tls_verify;
  char *ca_file;        /* "" = system trust store (gateway/tls_verify.h) */
} TgImapAccount;

typedef struct {
  char *id;             /* the NAME of [staff:NAME] */
  char *address;
  char *name;
  guint level;
  char *team;
} TgStaff;

typedef struct {
  guint count;          /* 0 = off */
  guint window;         /* seconds */
} TgRate;

typedef struct {
  char *source;         /* file name, or "(embedded default)" */
  /* [gateway] */
  char *data_dir;
  char **addresses;
  char *tag_prefix;
  char *secret_file;
  char *default_language;
  char *url_base;
  char *signature;
  char *user;           /* "" = keep the starting user (privdrop.h) */
  /* [smtp] [lmtp] */
  char **smtp_listen;
  char **lmtp_listen;
  char *tls_cert;
  char *tls_key;
  guint smtp_max_line;
  guint smtp_max_recipients;
  guint smtp_max_commands;
  guint smtp_max_errors;
  guint smtp_idle_timeout;
  guint smtp_session_timeout;
  guint smtp_max_sessions;
  guint smtp_max_sessions_per_client;
  char *hostname;
  /* [rules] [templates] [escalation] */
  char *rules_dir;      /* "" = built-in example rules */
  char *templates_dir;  /* "" = built-in default templates */
  char *escalation_policies; /* "" = built-in policy `standard` */
  /* [outbound] */
  char *smarthost;
  char *smarthost_tls;
  char *smarthost_user;
  char *smarthost_password_file;
  gboolean smarthost_tls_verify;
  char *smarthost_ca_file; /* "" = system trust store */
  char **iso2022jp_domains;
  guint outbound_max_age;
  char *from_address;
  /* [limits] */
  guint64 message_size;
  guint mime_depth;
  guint mime_parts;
  guint header_count;
  guint64 spool_min_free;
  guint busy_timeout_ms;
  TgRate flood;
  TgRate autoreply;
  /* [auth] */
  char *trusted_authserv_id;
  /* [log] */
  char *log_target;     /* stderr | syslog */
  gboolean log_verbose;
  /* [metrics] */
  char *metrics_listen;
  /* [imap:NAME] and [staff:NAME] */
  GPtrArray *imap;      /* TgImapAccount* */
  GPtrArray *staff;     /* TgStaff* */
  /* derived */
  char *spool_dir;
  char *db_path;
  GKeyFile *kf;         /* merged key file, for what the struct lacks */
} TgConfig;

/* Loads the embedded default overlaid with PATH (may be NULL).  On
 * failure returns NULL and ERRORS_R receives every problem as
 * "FILE:LINE: message" (transfer full, GPtrArray of char*). */
TgConfig *tg_config_load(const char *path, GPtrArray **errors_r);
void tg_config_free(TgConfig *cfg);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TgConfig, tg_config_free)

/* Which file to read: PATH_OPT, else $TICKETGATE_CONFIG, else NULL. */
const char *tg_config_choose_path(const char *path_opt);

/* The embedded default configuration text. */
extern const char tg_config_default_text[];

/* Parses "25M", "512k", "1G", "1000" into bytes. */
gboolean tg_config_parse_size(const char *s, guint64 *bytes_r);
/* Parses "30s", "10m", "2h", "1d", "45" (seconds) into seconds. */
gboolean tg_config_parse_duration(const char *s, guint *seconds_r);
/* Parses "20/10m" (count per duration) or "0" (off). */
gboolean tg_config_parse_rate(const char *s, TgRate *rate_r);

/* Reads the HMAC secret, creating it (mode 0600, 32 random bytes as hex)
 * on first use.  (transfer full) */
GBytes *tg_config_secret(const TgConfig *cfg, GError **error);

#endif
