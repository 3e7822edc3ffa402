/* mbox.c - mbox splitting (see mbox.h).  Linear in the file size. */
#include "gateway/mbox.h"

#include <string.h>

void tg_mbox_reader_init(TgMboxReader *r, const char *data, gsize len) {
  r->data = data;
  r->len = len;
  r->pos = 0;
}

static gboolean is_from_line(const char *p, gsize left) {
  return left >= 5 && memcmp(p, "From ", 5) == 0;
}

GBytes *tg_mbox_next(TgMboxReader *r) {
  const char *d = r->data;
  gsize n = r->len;
  /* Skip to just after the next From_ line. */
  while (r->pos < n && !is_from_line(d + r->pos, n - r->pos)) {
    const char *nl = memchr(d + r->pos, '\n', n - r->pos);
    r->pos = nl ? (gsize)(nl - d) + 1 : n;
  }
  if (r->pos >= n)
    return NULL;
  const char *nl = memchr(d + r->pos, '\n', n - r->pos);
  r->pos = nl ? (gsize)(nl - d) + 1 : n;
  GString *msg = g_string_new(NULL);
  gboolean prev_empty = FALSE;
  while (r->pos < n) {
    const char *line = d + r->pos;
    const char *eol = memchr(line, '\n', n - r->pos);
    gsize llen = eol ? (gsize)(eol - line) + 1 : n - r->pos;
    if (prev_empty && is_from_line(line, llen))
      break;
    const char *q = line;
    while (q < line + llen && *q == '>')
      q++;
    if (q > line && is_from_line(q, (gsize)(line + llen - q)))
      g_string_append_len(msg, line + 1, (gssize)llen - 1);
    else
      g_string_append_len(msg, line, (gssize)llen);
    prev_empty = llen == 1 || (llen == 2 && line[0] == '\r');
    r->pos += llen;
  }
  /* The empty line before the next From_ belongs to the mbox. */
  if (r->pos < n && msg->len && msg->str[msg->len - 1] == '\n') {
    g_string_truncate(msg, msg->len - 1);
    if (msg->len && msg->str[msg->len - 1] == '\r')
      g_string_truncate(msg, msg->len - 1);
  }
  return g_string_free_to_bytes(msg);
}
