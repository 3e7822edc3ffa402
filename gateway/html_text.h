/* html_text.h - readable plain text from an HTML body, in linear time.
 *
 * Tags go, block elements (p, div, br, li, tr, h1-h6, blockquote) become
 * line breaks, script/style/head content is dropped, character references
 * are decoded, runs of blanks collapse.  Links keep their text only.
 * One pass over the input and appends to one GString: an HTML body with
 * 10,000 links or a 5 MB line costs time proportional to its size.
 */
#ifndef TG_HTML_TEXT_H
#define TG_HTML_TEXT_H

#include <glib.h>

/* HTML must be valid UTF-8.  (transfer full) */
char *tg_html_to_text(const char *html, gsize len);

#endif
