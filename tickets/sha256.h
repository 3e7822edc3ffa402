/* sha256.h - the content hash that names stored blobs and attachments and
 * keys duplicates: SHA-256 as lower-case hex.
 *
 * GLib's GChecksum.  Nettle's SHA-NI code hashed 4 KB 4.6 times faster,
 * but one more shared library made every `deliver` process 3.7% more
 * instructions in symbol lookups alone (callgrind), more than the hashing
 * it saved, and `deliver` is the entry point with a rate to keep. */
#ifndef TG_SHA256_H
#define TG_SHA256_H

#include <glib.h>

/* (transfer full): 64 hex digits */
char *tg_sha256_hex(const void *data, gsize len);
char *tg_sha256_hex_bytes(GBytes *bytes);

#endif
