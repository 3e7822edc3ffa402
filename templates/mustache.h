/*
 * mustache — a Mustache template engine over json-glib data.
 *
 * PURPOSE
 *   Compile a Mustache template once into an immutable tree (Mustache), then
 *   render it any number of times against a JsonNode context.  Implements the
 *   non-optional Mustache spec (v1.4): variables, dotted names, the implicit
 *   iterator, sections (lists, truthy/falsy values, objects), inverted
 *   sections, comments, partials (with indentation of standalone partials),
 *   set delimiters and the standalone-line rules.  Lambdas and the optional
 *   spec modules (inheritance, dynamic names) are not implemented.
 *
 * PUBLIC FUNCTIONS
 *   mustache_new(), mustache_new_full()   compile; NULL + GError on syntax error
 *   mustache_free()                       free (NULL is fine)
 *   mustache_name()                       name given at compile time
 *   mustache_render()                     append the expansion to a GString
 *   mustache_render_result_clear()        free what a render result owns
 *   mustache_escape_html()                the HTML escaping used by renders
 *
 * DIAGNOSTICS
 *   Compile errors are MUSTACHE_ERROR_SYNTAX with message `NAME:line: message`
 *   (unclosed section, mismatched or unexpected close tag, bad delimiter,
 *   unclosed tag, bad tag name).  Rendering never fails: it returns status
 *   flags (MustacheStatus) and, optionally, the first problem as text in the
 *   same `NAME:line: message` form, so `ticketgate check` can point at the line.
 *
 * OWNERSHIP
 *   A compiled Mustache owns a copy of its source; it is immutable after
 *   compilation and may be rendered from several threads at once.  The context
 *   node and partials are borrowed for the duration of one render.
 *
 * SECURITY
 *   Templates are admin-written, the data comes from customers' mail.  Data is
 *   never re-parsed as a template.  Nesting of sections and partials is capped
 *   at MUSTACHE_MAX_DEPTH, so a recursive partial or a deep section cannot
 *   exhaust the stack; rendering is linear in the size of its output.  Escaping
 *   for mail headers (CR/LF) is not done here: see compose.h.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Sections + partials deeper than this are not expanded (flag DEPTH). */
#define MUSTACHE_MAX_DEPTH 100
/* Depth alone bounds no work: a partial that includes itself twice, or
 * nested sections over lists, grow exponentially within it.  One render
 * visits at most this many nodes and writes at most this many bytes
 * (flag TOO_BIG). */
#define MUSTACHE_MAX_STEPS 1000000u
#define MUSTACHE_MAX_OUTPUT (16u * 1024u * 1024u)

#define MUSTACHE_ERROR (mustache_error_quark())
GQuark mustache_error_quark(void);

typedef enum {
  MUSTACHE_ERROR_SYNTAX,
} MustacheError;

/* What happened during a render; several flags may be set at once. */
typedef enum {
  MUSTACHE_STATUS_OK = 0,
  /* An interpolated name ({{x}}, {{{x}}}, {{&x}}) resolved to nothing.
   * Sections on missing names are not flagged: that is how templates say
   * "optional" ({{#ticket.url}}…{{/ticket.url}}). */
  MUSTACHE_STATUS_UNDEFINED = 1 << 0,
  /* Nesting passed MUSTACHE_MAX_DEPTH; the deeper part was left out. */
  MUSTACHE_STATUS_DEPTH = 1 << 1,
  /* A partial was not found by the loader; it rendered as empty. */
  MUSTACHE_STATUS_PARTIAL_MISSING = 1 << 2,
  /* An object or array was interpolated; it rendered as empty. */
  MUSTACHE_STATUS_NOT_SCALAR = 1 << 3,
  /* The render passed MUSTACHE_MAX_STEPS or MUSTACHE_MAX_OUTPUT and was cut
   * short there. */
  MUSTACHE_STATUS_TOO_BIG = 1 << 4,
} MustacheStatus;

typedef struct _Mustache Mustache;

/* Partial loader: return the compiled partial called @name, or NULL if there
 * is none.  (transfer none): the loader keeps it alive for the render. */
typedef const Mustache *(*MustachePartialFunc)(const char *name, gpointer user_data);

typedef struct {
  gboolean escape_html;            /* TRUE for HTML parts, FALSE for text and headers */
  MustachePartialFunc partials;    /* may be NULL: every partial is missing */
  gpointer partials_data;
} MustacheRenderOptions;

typedef struct {
  MustacheStatus status;
  char *first_problem;             /* (transfer full) `NAME:line: message` or NULL */
} MustacheRenderResult;

/* Compile @src (@len bytes, or -1 for NUL-terminated).  @name is used in error
 * messages only.  Returns (transfer full) the template, or NULL and @error. */
Mustache *mustache_new(const char *name, const char *src, gssize len, GError **error);

/* As mustache_new(), with line numbers counted from @first_line: a template
 * body that starts on line 5 of its file reports errors with file lines. */
Mustache *mustache_new_full(const char *name, guint first_line, const char *src, gssize len,
                            GError **error);

void mustache_free(Mustache *tpl);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Mustache, mustache_free)

/* (transfer none) */
const char *mustache_name(const Mustache *tpl);

/* Render @tpl against @context (may be NULL = empty), appending to @out.
 * @result_r may be NULL; if given, its first_problem must be cleared with
 * mustache_render_result_clear().  Returns the status flags. */
MustacheStatus mustache_render(const Mustache *tpl, JsonNode *context,
                               const MustacheRenderOptions *options, GString *out,
                               MustacheRenderResult *result_r);

void mustache_render_result_clear(MustacheRenderResult *result);

/* Append @text HTML-escaped (& < > " ') to @out. */
void mustache_escape_html(GString *out, const char *text, gsize len);

G_END_DECLS
