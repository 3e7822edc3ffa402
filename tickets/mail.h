/* mail.h - one incoming message, parsed into plain UTF-8 fields.
 *
 * gateway/mail_parse.c fills it from the raw bytes; tickets/ threads and
 * stores it; filters/ reads a view of it.  Every string is valid UTF-8
 * (undecodable bytes became U+FFFD and left a line in WARNINGS).
 * Ownership: the TgMail owns everything it points to; tg_mail_free()
 * frees it all.
 */
#ifndef TG_MAIL_H
#define TG_MAIL_H

#include <glib.h>

#include "filters/rules.h"

G_BEGIN_DECLS

typedef struct {
  char *name;    /* display name, "" when absent */
  char *address; /* lower-cased domain, "" when unparseable */
} TgAddress;

typedef struct {
  char *name;  /* header name as written */
  char *value; /* decoded, unfolded */
} TgHeader;

typedef struct {
  char *filename;     /* decoded; "" when the part has none */
  char *content_type; /* "type/subtype", lower case */
  gsize size;         /* decoded content bytes */
  char *sha256;       /* hex */
  GBytes *content;
} TgAttachment;

typedef struct {
  /* envelope */
  char *spool_id;
  char *envelope_sender;
  GPtrArray *envelope_recipients; /* char* */
  char *origin;
  gint64 arrival;
  /* headers */
  char *message_id;     /* without <>, NULL when absent */
  char *in_reply_to;    /* without <>, NULL when absent */
  GPtrArray *references;/* char*, without <>, oldest first */
  TgAddress *from;      /* never NULL; empty strings when absent */
  GPtrArray *to, *cc, *reply_to; /* TgAddress* */
  char *subject;        /* decoded, "" when absent */
  gint64 date;          /* unix seconds; arrival when absent or invalid */
  char *content_language;
  char *charset;        /* charset of the text body as labelled, or NULL */
  GPtrArray *headers;   /* TgHeader*, in order */
  /* content */
  char *body;           /* the text body, UTF-8 */
  GPtrArray *attachments; /* TgAttachment* */
  GPtrArray *warnings;  /* char*, parse problems worth keeping */
  GBytes *raw;
  char *raw_sha256;
  /* "ja", "en" or the configured default (static or the config's string),
   * decided in the parse phase (tg_ingest_language); NULL: not yet. */
  const char *language;
  /* Rule prefilter trigrams built ahead of the store (see
   * tg_rule_prefilter_bits_new), or NULL. */
  TgRulePrefilterBits *rule_prefilter;
} TgMail;

TgMail *tg_mail_new(void);
void tg_mail_free(TgMail *mail);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TgMail, tg_mail_free)

TgAddress *tg_address_new(const char *name, const char *address);
void tg_address_free(TgAddress *a);

/* First header named NAME (ASCII case-insensitive), or NULL. (transfer none) */
const char *tg_mail_header(const TgMail *mail, const char *name);
void tg_mail_warn(TgMail *mail, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

G_END_DECLS
#endif
