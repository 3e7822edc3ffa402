/* gmime_parse.c - GMime's bare parse rate on an mbox: the reference for
 * `import mbox` (ours must reach at least 0.3 of it).  Constructs every
 * message and walks its parts, decoding each leaf's content, which is the
 * least a gateway must do.  usage: gmime_parse FILE.mbox */
#include <fcntl.h>
#include <glib.h>
#include <gmime/gmime.h>
#include <stdio.h>

static void walk(GMimeObject *parent, GMimeObject *part, gpointer data) {
  if (!GMIME_IS_PART(part))
    return;
  GMimeDataWrapper *dw = g_mime_part_get_content(GMIME_PART(part));
  if (!dw)
    return;
  GMimeStream *null = g_mime_stream_null_new();
  g_mime_data_wrapper_write_to_stream(dw, null);
  g_object_unref(null);
  (*(guint *)data)++;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: gmime_parse FILE.mbox\n");
    return 64;
  }
  g_mime_init();
  GMimeStream *fs = g_mime_stream_fs_open(argv[1], O_RDONLY, 0, NULL);
  if (!fs)
    return 66;
  GMimeParser *parser = g_mime_parser_new_with_stream(fs);
  g_mime_parser_set_format(parser, GMIME_FORMAT_MBOX);
  guint n = 0, parts = 0;
  gint64 t0 = g_get_monotonic_time();
  while (!g_mime_parser_eos(parser)) {
    GMimeMessage *m = g_mime_parser_construct_message(parser, NULL);
    if (!m)
      break;
    g_mime_message_foreach(m, walk, &parts);
    g_object_unref(m);
    n++;
  }
  double secs = (double)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC;
  printf("%.0f\n", n / secs);
  fprintf(stderr, "gmime_parse: %u messages, %u parts in %.2f s\n", n, parts, secs);
  g_object_unref(parser);
  g_object_unref(fs);
  return 0;
}
