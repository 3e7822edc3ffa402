/* thread.c - reply addresses, subject tags, subject cleaning (thread.h). */
#include "tickets/thread.h"

#include <string.h>

gboolean tg_thread_equal_ct(const char *a, const char *b) {
  gsize la = strlen(a), lb = strlen(b);
  guchar diff = la != lb;
  for (gsize i = 0; i < la && i < lb; i++)
    diff |= (guchar)a[i] ^ (guchar)b[i];
  return diff == 0;
}

char *tg_thread_token(GBytes *secret, const char *purpose, gint64 id) {
  static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
  g_autofree char *msg = g_strdup_printf("%s:%" G_GINT64_FORMAT, purpose, id);
  gsize klen;
  const guchar *key = g_bytes_get_data(secret, &klen);
  GHmac *h = g_hmac_new(G_CHECKSUM_SHA256, key, klen);
  g_hmac_update(h, (const guchar *)msg, -1);
  guint8 digest[32];
  gsize dlen = sizeof digest;
  g_hmac_get_digest(h, digest, &dlen);
  g_hmac_unref(h);
  char out[11];
  /* 10 characters of 5 bits = 50 bits of the digest. */
  guint64 bits = 0;
  for (int i = 0; i < 8; i++)
    bits = bits << 8 | digest[i];
  for (int i = 0; i < 10; i++)
    out[i] = alphabet[(bits >> (59 - 5 * i)) & 31];
  out[10] = 0;
  return g_strdup(out);
}

char *tg_thread_reply_address(const char *support, gint64 id, GBytes *secret) {
  const char *at = strchr(support, '@');
  g_autofree char *token = tg_thread_token(secret, "ticket", id);
  if (!at)
    return g_strdup_printf("%s+%" G_GINT64_FORMAT "-%s", support, id, token);
  return g_strdup_printf("%.*s+%" G_GINT64_FORMAT "-%s%s", (int)(at - support),
                         support, id, token, at);
}

/* Splits "local+detail@domain" against SUPPORT; returns the detail. */
static char *detail_of(const char *address, char *const *support) {
  const char *at = strrchr(address, '@');
  const char *plus = strchr(address, '+');
  if (!at || !plus || plus > at)
    return NULL;
  for (char *const *s = support; s && *s; s++) {
    const char *sat = strchr(*s, '@');
    if (!sat)
      continue;
    gsize local_len = (gsize)(sat - *s);
    if ((gsize)(plus - address) == local_len &&
        g_ascii_strncasecmp(address, *s, local_len) == 0 &&
        g_ascii_strcasecmp(at, sat) == 0)
      return g_strndup(plus + 1, (gsize)(at - plus - 1));
  }
  return NULL;
}

gboolean tg_thread_is_support_address(const char *address, char *const *support) {
  for (char *const *s = support; s && *s; s++)
    if (g_ascii_strcasecmp(address, *s) == 0)
      return TRUE;
  g_autofree char *detail = detail_of(address, support);
  return detail != NULL;
}

/* Splits the detail of a support +address, "ID" SEP "TOKEN", into the
 * ticket id and the lower-cased token (transfer full); 0 when it is not
 * of that shape. */
static gint64 split_detail(const char *address, char *const *support,
                           const char *sep, char **token_r) {
  g_autofree char *detail = detail_of(address, support);
  if (!detail)
    return 0;
  char *at = strstr(detail, sep);
  if (!at || at == detail)
    return 0;
  *at = 0;
  char *end;
  guint64 id = g_ascii_strtoull(detail, &end, 10);
  if (*end || id == 0 || id > G_MAXINT64)
    return 0;
  *token_r = g_ascii_strdown(at + strlen(sep), -1);
  return (gint64)id;
}

gint64 tg_thread_parse_reply_address(const char *address, char *const *support,
                                     GBytes *secret, gboolean *forged_r) {
  if (forged_r)
    *forged_r = FALSE;
  g_autofree char *got = NULL;
  gint64 id = split_detail(address, support, "-", &got);
  if (!id)
    return 0;
  g_autofree char *want = tg_thread_token(secret, "ticket", id);
  if (!tg_thread_equal_ct(want, got)) {
    if (forged_r)
      *forged_r = TRUE;
    return 0;
  }
  return id;
}

static char *staff_token(GBytes *secret, const char *staff, gint64 id) {
  g_autofree char *lower = g_ascii_strdown(staff, -1);
  g_autofree char *purpose = g_strconcat("staff:", lower, NULL);
  return tg_thread_token(secret, purpose, id);
}

char *tg_thread_staff_address(const char *support, gint64 id, const char *staff,
                              GBytes *secret) {
  const char *at = strchr(support, '@');
  g_autofree char *token = staff_token(secret, staff, id);
  if (!at)
    return g_strdup_printf("%s+%" G_GINT64_FORMAT "-s-%s", support, id, token);
  return g_strdup_printf("%.*s+%" G_GINT64_FORMAT "-s-%s%s", (int)(at - support),
                         support, id, token, at);
}

gint64 tg_thread_parse_staff_address(const char *address, char *const *support,
                                     GBytes *secret, const char *from) {
  if (!from || !from[0])
    return 0;
  g_autofree char *got = NULL;
  gint64 id = split_detail(address, support, "-s-", &got);
  if (!id)
    return 0;
  g_autofree char *want = staff_token(secret, from, id);
  return tg_thread_equal_ct(want, got) ? id : 0;
}

char *tg_thread_ref(const char *prefix, gint64 id) {
  return g_strdup_printf("[%s #%" G_GINT64_FORMAT "]", prefix, id);
}

/* Finds "[PREFIX #ID]" at or after P; returns a pointer to '[' or NULL. */
static const char *find_tag(const char *p, const char *prefix, gint64 *id_r,
                            gsize *len_r) {
  gsize plen = strlen(prefix);
  for (; (p = strchr(p, '[')); p++) {
    const char *q = p + 1;
    while (*q == ' ')
      q++;
    if (g_ascii_strncasecmp(q, prefix, plen) != 0)
      continue;
    q += plen;
    while (*q == ' ')
      q++;
    if (*q != '#')
      continue;
    q++;
    char *end;
    guint64 id = g_ascii_strtoull(q, &end, 10);
    if (end == q || id == 0 || id > G_MAXINT64)
      continue;
    while (*end == ' ')
      end++;
    if (*end != ']')
      continue;
    *id_r = (gint64)id;
    *len_r = (gsize)(end + 1 - p);
    return p;
  }
  return NULL;
}

gint64 tg_thread_subject_tag(const char *subject, const char *prefix) {
  gint64 id = 0;
  gsize len;
  return find_tag(subject, prefix, &id, &len) ? id : 0;
}

/* Length of one reply prefix at P ("Re:", "Re[2]:", "返信：") or 0. */
static gsize reply_prefix_len(const char *p) {
  static const char *const words[] = {
      "re", "fwd", "fw", "aw", "wg", "sv", "vs", "antw", "tr", "rif", "res",
      "\xe8\xbf\x94\xe4\xbf\xa1",  /* 返信 */
      "\xe8\xbb\xa2\xe9\x80\x81",  /* 転送 */
      "\xe5\x9b\x9e\xe5\xa4\x8d",  /* 回复 */
      "\xe8\xbd\xac\xe5\x8f\x91",  /* 转发 */
      NULL};
  for (const char *const *w = words; *w; w++) {
    gsize wl = strlen(*w);
    if (g_ascii_strncasecmp(p, *w, wl) != 0)
      continue;
    const char *q = p + wl;
    if (*q == '[' || *q == '(') { /* Re[2]: Re(3): */
      char close = *q == '[' ? ']' : ')';
      q++;
      while (g_ascii_isdigit(*q))
        q++;
      if (*q != close)
        continue;
      q++;
    }
    while (*q == ' ')
      q++;
    if (*q == ':')
      return (gsize)(q + 1 - p);
    if (strncmp(q, "\xef\xbc\x9a", 3) == 0) /* fullwidth colon */
      return (gsize)(q + 3 - p);
  }
  return 0;
}

char *tg_thread_clean_subject(const char *subject, const char *prefix) {
  GString *s = g_string_new(subject ? subject : "");
  /* Our tag goes wherever it stands. */
  gint64 id;
  gsize len;
  const char *tag;
  while ((tag = find_tag(s->str, prefix, &id, &len)))
    g_string_erase(s, tag - s->str, (gssize)len);
  for (;;) {
    gsize lead = 0;
    while (lead < s->len && (s->str[lead] == ' ' || s->str[lead] == '\t'))
      lead++;
    if (strncmp(s->str + lead, "\xe3\x80\x80", 3) == 0) /* ideographic space */
      lead += 3;
    g_string_erase(s, 0, (gssize)lead);
    gsize n = reply_prefix_len(s->str);
    if (!n)
      break;
    g_string_erase(s, 0, (gssize)n);
  }
  /* Collapse the blanks a removed tag leaves behind. */
  char *out = g_string_free(s, FALSE);
  g_strstrip(out);
  char *w = out;
  for (char *r = out; *r; r++)
    if (!(*r == ' ' && w > out && w[-1] == ' '))
      *w++ = *r;
  *w = 0;
  return out;
}
