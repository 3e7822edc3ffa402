/* mbox.h - splitting an mbox file into raw messages (mboxrd quoting).
 *
 * A message starts at a line beginning "From " at the start of the file
 * or after an empty line; ">From " lines (any number of '>') lose one
 * '>'.  The From_ line itself is not part of the message.
 */
#ifndef TG_MBOX_H
#define TG_MBOX_H

#include <glib.h>

typedef struct {
  const char *data;
  gsize len;
  gsize pos;
  GBytes *bytes; /* the file, when messages may share its memory */
} TgMboxReader;

/* DATA must outlive the reader; each message is a copy. */
void tg_mbox_reader_init(TgMboxReader *r, const char *data, gsize len);
/* Messages without a quoted From_ line are slices of FILE (no copy). */
void tg_mbox_reader_init_bytes(TgMboxReader *r, GBytes *file);
void tg_mbox_reader_clear(TgMboxReader *r);
/* The next message, unquoted, or NULL at the end.  (transfer full) */
GBytes *tg_mbox_next(TgMboxReader *r);

#endif
