/* mbox.c - mbox splitting (see mbox.h).  Linear in the file size. */
#include "gateway/mbox.h"

#include <string.h>

void tg_mbox_reader_init(TgMboxReader *r, const char *data, gsize len) {
  r->data = data;
  r->len = len;
  r->pos = 0;
  r->bytes = NULL;
}

void tg_mbox_reader_init_bytes(TgMboxReader *r, GBytes *file) {
  gsize len;
  const char *data = g_bytes_get_data(file, &len);
  tg_mbox_reader_init(r, data ? data : "", len);
  r->bytes = g_bytes_ref(file);
}

void tg_mbox_reader_clear(TgMboxReader *r) {
  g_clear_pointer(&r->bytes, g_bytes_unref);
}

static gboolean is_from_line(const char *p, gsize left) {
  return left >= 5 && memcmp(p, "From ", 5) == 0;
}

/* A line that loses its first '>': ">From ", ">>From ", ... */
static gboolean is_quoted_from(const char *line, gsize llen) {
  const char *q = line;
  while (q < line + llen && *q == '>')
    q++;
  return q > line && is_from_line(q, (gsize)(line + llen - q));
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
  /* Find the message's end first: most messages have no quoted From_
   * line, and their bytes are the file's, used as they are. */
  gsize start = r->pos;
  gboolean prev_empty = FALSE, quoted = FALSE;
  while (r->pos < n) {
    const char *line = d + r->pos;
    const char *eol = memchr(line, '\n', n - r->pos);
    gsize llen = eol ? (gsize)(eol - line) + 1 : n - r->pos;
    if (prev_empty && is_from_line(line, llen))
      break;
    if (*line == '>' && is_quoted_from(line, llen))
      quoted = TRUE;
    prev_empty = llen == 1 || (llen == 2 && line[0] == '\r');
    r->pos += llen;
  }
  /* The empty line before the next From_ belongs to the mbox.  A quoted
   * line is at least ">From " long, so unquoting never reaches these. */
  gsize stop = r->pos;
  if (r->pos < n && stop > start && d[stop - 1] == '\n') {
    stop--;
    if (stop > start && d[stop - 1] == '\r')
      stop--;
  }
  if (!quoted)
    return r->bytes ? g_bytes_new_from_bytes(r->bytes, start, stop - start)
                    : g_bytes_new(d + start, stop - start);
  GString *msg = g_string_sized_new(stop - start);
  for (gsize pos = start; pos < stop;) {
    const char *line = d + pos;
    const char *eol = memchr(line, '\n', stop - pos);
    gsize llen = eol ? (gsize)(eol - line) + 1 : stop - pos;
    if (is_quoted_from(line, llen))
      g_string_append_len(msg, line + 1, (gssize)llen - 1);
    else
      g_string_append_len(msg, line, (gssize)llen);
    pos += llen;
  }
  return g_string_free_to_bytes(msg);
}
