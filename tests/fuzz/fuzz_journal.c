/* fuzz_journal.c - libFuzzer target: reading the spool's journal
 * (spool/journal.h) after a crash, from bytes a damaged disk could hold.
 * The input is cut at "\xff\xfe" into up to 16 payloads, which are framed
 * as a segment with correct CRCs (so the fuzzer reaches the entry parser
 * with hostile entries, not only the CRC check); the first byte then picks
 * a damage: none, the segment cut short, or one byte flipped.  Every
 * entry read back must be whole (a spool id, a message, strings), and
 * without damage the entries must be exactly the leading payloads that
 * are well-formed entries on their own.
 */
#include "spool/journal.h"

#include <stdint.h>
#include <string.h>

#define MAX_PAYLOADS 16

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  g_log_set_always_fatal(G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_ERROR);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 3)
    return 0;
  guint8 damage = data[0];
  guint16 where = (guint16)(data[1] | data[2] << 8);
  const guint8 *p = data + 3, *end = data + size;
  GBytes *payloads[MAX_PAYLOADS];
  guint n = 0;
  while (n < MAX_PAYLOADS) {
    const guint8 *sep = p;
    while (sep + 1 < end && !(sep[0] == 0xff && sep[1] == 0xfe))
      sep++;
    if (sep + 1 >= end)
      sep = end;
    payloads[n++] = g_bytes_new(p, (gsize)(sep - p));
    if (sep == end)
      break;
    p = sep + 2;
  }
  g_autoptr(GBytes) image = tg_journal_frame(0x1122334455667788u, payloads, n);
  gsize len;
  const guint8 *bytes = g_bytes_get_data(image, &len);
  g_autofree guint8 *copy = g_memdup2(bytes, len);
  switch (damage % 3) {
  case 1:
    len = where % (len + 1);
    break;
  case 2:
    copy[where % len] ^= (guint8)(damage | 1);
    break;
  }
  g_autoptr(GBytes) damaged = g_bytes_new(copy, len);
  gsize used = 0;
  g_autoptr(GPtrArray) entries = tg_journal_parse(damaged, &used);
  g_assert(used <= len);
  for (guint i = 0; i < entries->len; i++) {
    TgSpoolEntry *e = g_ptr_array_index(entries, i);
    g_assert(tg_spool_id_ok(e->id) && e->message && e->raw && e->sender && e->origin &&
             e->recipients);
  }
  if (damage % 3 == 0) {
    guint whole = 0;
    while (whole < n) {
      g_autoptr(TgSpoolEntry) e = tg_spool_entry_from_raw(payloads[whole], NULL);
      if (!e)
        break;
      whole++;
    }
    g_assert_cmpuint(entries->len, ==, whole);
  }
  for (guint i = 0; i < n; i++)
    g_bytes_unref(payloads[i]);
  return 0;
}
