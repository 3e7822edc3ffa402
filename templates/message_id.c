/*
 * message_id — signed Message-IDs.  Contract: message_id.h.
 */
#include "templates/message_id.h"

#include <string.h>

#define MESSAGE_ID_MAX 255

static char *
token_for(guint64 ticket, guint64 outbound, const char *recipient, const guint8 *secret,
          gsize secret_len)
{
  /* NUL separators keep ("t1","o23") and ("t12","o3") distinct inputs. */
  g_autofree char *rcpt = g_ascii_strdown(recipient ? recipient : "", -1);
  g_strstrip(rcpt);
  g_autoptr(GByteArray) in = g_byte_array_new();
  char num[32];
  int n = g_snprintf(num, sizeof num, "t%" G_GUINT64_FORMAT, ticket);
  g_byte_array_append(in, (const guint8 *)num, n + 1);
  n = g_snprintf(num, sizeof num, "o%" G_GUINT64_FORMAT, outbound);
  g_byte_array_append(in, (const guint8 *)num, n + 1);
  g_byte_array_append(in, (const guint8 *)rcpt, strlen(rcpt));

  g_autoptr(GHmac) hmac = g_hmac_new(G_CHECKSUM_SHA256, secret, secret_len);
  g_hmac_update(hmac, in->data, in->len);
  guint8 digest[32];
  gsize digest_len = sizeof digest;
  g_hmac_get_digest(hmac, digest, &digest_len);

  char *hex = g_malloc(MESSAGE_ID_TOKEN_BYTES * 2 + 1);
  for (int i = 0; i < MESSAGE_ID_TOKEN_BYTES; i++)
    g_snprintf(hex + 2 * i, 3, "%02x", digest[i]);
  return hex;
}

char *
message_id_new(guint64 ticket, guint64 outbound, const char *recipient, const char *domain,
               const guint8 *secret, gsize secret_len)
{
  g_return_val_if_fail(secret != NULL && secret_len > 0, NULL);
  g_return_val_if_fail(domain != NULL && *domain, NULL);
  g_autofree char *token = token_for(ticket, outbound, recipient, secret, secret_len);
  return g_strdup_printf("<t%" G_GUINT64_FORMAT ".o%" G_GUINT64_FORMAT ".%s@%s>", ticket, outbound,
                         token, domain);
}

/* Digits only, no sign, no leading zero, fits in 64 bits. */
static gboolean
parse_number(const char *s, gsize len, guint64 *out)
{
  if (len == 0 || len > 20 || (len > 1 && s[0] == '0'))
    return FALSE;
  guint64 v = 0;
  for (gsize i = 0; i < len; i++) {
    if (!g_ascii_isdigit(s[i]))
      return FALSE;
    guint d = s[i] - '0';
    if (v > (G_MAXUINT64 - d) / 10)
      return FALSE;
    v = v * 10 + d;
  }
  *out = v;
  return TRUE;
}

gboolean
message_id_verify(const char *msgid, const char *domain, const char *recipient,
                  const guint8 *secret, gsize secret_len, guint64 *ticket_r,
                  guint64 *outbound_r, gboolean *proof_ok_r)
{
  if (proof_ok_r)
    *proof_ok_r = FALSE;
  if (!msgid || strnlen(msgid, MESSAGE_ID_MAX + 1) > MESSAGE_ID_MAX)
    return FALSE;
  const char *s = msgid;
  while (*s == ' ' || *s == '\t')
    s++;
  const char *e = s + strlen(s);
  while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
    e--;
  if (e > s && *s == '<') {
    if (e[-1] != '>')
      return FALSE;
    s++;
    e--;
  }
  const char *at = memchr(s, '@', e - s);
  if (!at || at + 1 >= e || memchr(at + 1, '@', e - at - 1))
    return FALSE;
  if (domain && (strlen(domain) != (gsize)(e - at - 1) || g_ascii_strncasecmp(at + 1, domain, e - at - 1) != 0))
    return FALSE;

  /* local part: t{ticket}.o{outbound}.{token} */
  if (*s != 't')
    return FALSE;
  const char *dot1 = memchr(s, '.', at - s);
  if (!dot1 || dot1 + 1 >= at || dot1[1] != 'o')
    return FALSE;
  const char *dot2 = memchr(dot1 + 1, '.', at - dot1 - 1);
  if (!dot2)
    return FALSE;
  guint64 ticket, outbound;
  if (!parse_number(s + 1, dot1 - s - 1, &ticket) || !parse_number(dot1 + 2, dot2 - dot1 - 2, &outbound))
    return FALSE;
  const char *tok = dot2 + 1;
  gsize tok_len = at - tok;
  if (tok_len != MESSAGE_ID_TOKEN_BYTES * 2)
    return FALSE;
  for (gsize i = 0; i < tok_len; i++)
    if (!g_ascii_isxdigit(tok[i]))
      return FALSE;

  if (ticket_r)
    *ticket_r = ticket;
  if (outbound_r)
    *outbound_r = outbound;
  if (proof_ok_r && secret && secret_len > 0 && recipient) {
    g_autofree char *want = token_for(ticket, outbound, recipient, secret, secret_len);
    /* constant time: no early exit on the first differing byte */
    guint diff = 0;
    for (gsize i = 0; i < tok_len; i++)
      diff |= (guint)(g_ascii_tolower(tok[i]) ^ want[i]);
    *proof_ok_r = diff == 0;
  }
  return TRUE;
}
