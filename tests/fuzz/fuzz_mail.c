/* fuzz_mail.c - libFuzzer target: raw message -> tg_mail_parse -> thread and
 * ingest into an in-memory store -> ticket fields.
 *
 * The store lives for the whole process; each input is ingested inside a
 * transaction that is rolled back, so the store never grows, while a few
 * committed tickets (made at start) give threading something to find.
 * Also built without libFuzzer as a regression replayer (replay_main.c).
 */
#include "gateway/mail_parse.h"
#include "tickets/ingest.h"

#include <stdint.h>
#include <string.h>

static const TgParseLimits limits = {.mime_depth = 50, .mime_parts = 1000,
                                     .header_count = 1000};
static TgStore *store;
static GBytes *secret;
static char *support[] = {"support@localhost", "help@example.com", NULL};
static char *staff[] = {"suzuki@example.com", NULL};
static TgIngestContext ictx;
static guint64 serial;

static gboolean ingest_one(GBytes *raw, gboolean commit) {
  g_autofree char *reason = NULL;
  g_autoptr(GError) err = NULL;
  g_autoptr(TgMail) m = tg_mail_parse(raw, &limits, &reason, &err);
  if (!m) {
    g_assert(reason && err); /* a refusal always says why */
    return FALSE;
  }
  /* Every field is valid UTF-8 (mail.h). */
  g_assert(g_utf8_validate(m->subject, -1, NULL));
  g_assert(g_utf8_validate(m->body, -1, NULL));
  g_assert(g_utf8_validate(m->from->name, -1, NULL));
  for (guint i = 0; i < m->headers->len; i++) {
    TgHeader *h = g_ptr_array_index(m->headers, i);
    g_assert(g_utf8_validate(h->value, -1, NULL));
  }
  m->spool_id = g_strdup_printf("fuzz%08" G_GINT64_MODIFIER "x", serial++);
  m->envelope_sender = g_strdup(m->from->address);
  g_ptr_array_add(m->envelope_recipients, g_strdup("support@localhost"));
  m->origin = g_strdup("fuzz");
  m->arrival = 1767948600;
  TgIngestResult r;
  g_autoptr(GError) serr = NULL;
  if (!tg_store_begin(store, &serr))
    g_error("begin: %s", serr->message);
  gboolean ok = tg_ingest_in_tx(&ictx, m, &r, &serr);
  if (ok)
    g_assert(r.ticket_id > 0);
  if (commit) {
    if (!tg_store_commit(store, &serr))
      g_error("commit: %s", serr->message);
  } else {
    tg_store_rollback(store);
  }
  return ok;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  g_log_set_always_fatal(G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_ERROR);
  tg_mail_parse_init();
  g_autoptr(GError) err = NULL;
  store = tg_store_open(":memory:", 1000, &err);
  if (!store)
    g_error("store: %s", err->message);
  secret = g_bytes_new_static("0123456789abcdef0123456789abcdef", 32);
  ictx = (TgIngestContext){.store = store, .secret = secret,
                           .tag_prefix = "Support",
                           .support_addresses = support,
                           .staff_addresses = staff,
                           .default_language = "en"};
  /* Tickets 1 and 2 for threading by tag and references. */
  static const char *const base[] = {
      "From: a@example.com\nTo: support@localhost\nSubject: printer\n"
      "Message-ID: <base1@example.com>\n\nit is broken\n",
      "From: b@example.com\nTo: support@localhost\nSubject: =?UTF-8?B?6KuL5rGC5pu4?=\n"
      "Message-ID: <base2@example.com>\n\n請求書\n",
  };
  for (gsize i = 0; i < G_N_ELEMENTS(base); i++) {
    g_autoptr(GBytes) raw = g_bytes_new_static(base[i], strlen(base[i]));
    if (!ingest_one(raw, TRUE))
      g_error("base ticket %" G_GSIZE_FORMAT " not stored", i);
  }
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  g_autoptr(GBytes) raw = g_bytes_new(data, size);
  ingest_one(raw, FALSE);
  return 0;
}
