/*
 * templates_bench — throughput of templates/: renders of the Japanese ack
 * per second, and ack messages composed + serialized (MIME bytes) per second.
 *
 *   templates_bench [TEMPLATE_DIR] [SECONDS]
 *
 * TEMPLATE_DIR defaults to templates/default under the source tree (compiled
 * in); each measurement runs for SECONDS (default 2).  Not a test: it only
 * prints figures.
 */
#include "templates/compose.h"
#include "templates/message_id.h"
#include "templates/template_sample.h"
#include "templates/template_set.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double
now(void)
{
  return g_get_monotonic_time() / 1e6;
}

int
main(int argc, char **argv)
{
  const char *dir = argc > 1 ? argv[1] : TG_DEFAULT_TEMPLATES;
  double seconds = argc > 2 ? atof(argv[2]) : 2.0;
  g_mime_init();

  g_autoptr(GError) error = NULL;
  g_autoptr(TemplateSet) set = template_set_load(dir, "ja", &error);
  if (!set) {
    fprintf(stderr, "%s\n", error->message);
    return 1;
  }
  g_autoptr(JsonNode) data = template_sample_new();

  /* renders: subject + headers + body of ack.ja, data already built */
  guint64 n = 0;
  gsize bytes = 0;
  double start = now(), end;
  do {
    for (int i = 0; i < 1000; i++) {
      TemplateOutput *out = template_set_render(set, "ack", "ja", data, NULL);
      bytes += strlen(out->text);
      template_output_free(out);
    }
    n += 1000;
    end = now();
  } while (end - start < seconds);
  printf("render ack.ja:              %10.0f renders/s  (%.1f MB/s of body text)\n", n / (end - start),
         bytes / (end - start) / 1e6);

  /* compose: render + signed Message-ID + GMime message + serialize */
  static const guint8 secret[32] = "bench-secret-bench-secret-bench";
  static const char *const refs[] = {"<CAF00-customer-1@mail.example.jp>", NULL};
  ComposeMailbox to[] = {{"山田 太郎", "taro.yamada@example.jp"}};
  n = 0;
  bytes = 0;
  start = now();
  do {
    for (int i = 0; i < 100; i++) {
      TemplateOutput *out = template_set_render(set, "ack", "ja", data, NULL);
      char *msgid = message_id_new(1234, n + i, to[0].address, "example.com", secret, sizeof secret);
      ComposeMessage m = {
        .from = {"Example サポートデスク", "support@example.com"},
        .reply_to = "support+1234-k7f3q9@example.com",
        .to = to, .n_to = 1,
        .subject = out->subject, .text = out->text, .html = out->html,
        .headers = out->headers, .n_headers = out->n_headers,
        .message_id = msgid, .in_reply_to = refs[0], .references = refs,
        .auto_submitted = TRUE, .x_loop = "support@example.com",
      };
      GBytes *b = compose_message_to_bytes(&m, TRUE, NULL);
      bytes += g_bytes_get_size(b);
      g_bytes_unref(b);
      g_free(msgid);
      template_output_free(out);
    }
    n += 100;
    end = now();
  } while (end - start < seconds);
  printf("render+compose+serialize:   %10.0f messages/s (%.0f bytes each, UTF-8/QP)\n", n / (end - start),
         (double)bytes / n);
  g_mime_shutdown();
  return 0;
}
