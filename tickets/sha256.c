/* sha256.c - SHA-256 as hex (contract in sha256.h). */
#include "tickets/sha256.h"

char *tg_sha256_hex(const void *data, gsize len) {
  return g_compute_checksum_for_data(G_CHECKSUM_SHA256, data, len);
}

char *tg_sha256_hex_bytes(GBytes *bytes) {
  return g_compute_checksum_for_bytes(G_CHECKSUM_SHA256, bytes);
}
