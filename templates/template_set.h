/*
 * template_set — a directory of mail templates, loaded all-or-nothing.
 *
 * PURPOSE
 *   Load every template of a directory into an immutable, reference-counted
 *   set; pick the variant for a language (falling back to the configured
 *   default language); render one into subject, extra headers and bodies
 *   ready for compose.h; and render every template against sample data for
 *   `ticketgate check`.  A reload builds a new set and swaps it in only if the
 *   load succeeded, so a broken file keeps the previous set running.
 *
 * FILES (see docs/templates.md)
 *   DIR/NAME.LANG.mustache            template NAME, e.g. ack.ja.mustache
 *   DIR/NAME.LANG.html.mustache       optional HTML alternative body of NAME
 *   DIR/canned/NAME.LANG.mustache     canned answer, looked up as "canned/NAME"
 *   DIR/partials/NAME.LANG.mustache   partial {{> NAME}} (body only)
 *   NAME is [a-z0-9][a-z0-9_-]*, LANG two or three lowercase letters.  Other
 *   files are ignored; a *.mustache file with another name is an error.
 *
 *   A template file is a header block, one blank line, then the body:
 *       # lines starting with '#' in the header block are comments
 *       Subject: [{{gateway.tag}} #{{ticket.id}}] {{ticket.subject}}
 *       X-Ticket-Status: {{ticket.status}}
 *
 *       {{customer.name}} 様 …
 *   Subject is required.  Header values are templates too; they render
 *   without HTML escaping and pass compose_header_sanitize().  Headers the
 *   composer owns (From, To, Date, Content-*, …) are rejected.
 *
 * PUBLIC FUNCTIONS
 *   template_set_load()        directory -> set, or NULL + `file:line: message`
 *   template_set_load_files()  the same from (relative path, text) pairs, e.g.
 *                              the built-in set embedded as C arrays
 *                              (template_builtin.h)
 *   template_set_ref()/unref() share a set across a reload
 *   template_set_lookup()      which variant (name, lang) would be used
 *   template_set_render()      render one template
 *   template_set_check()       render all against sample data, list problems
 *   template_set_names()       the loaded templates, for listings
 *   template_output_free()
 *
 * DIAGNOSTICS
 *   TEMPLATE_SET_ERROR_LOAD: every message is `file:line: message`; the load
 *   stops at the first broken file and nothing of the set is kept.
 *   TEMPLATE_SET_ERROR_NOT_FOUND: no template of that name in that language
 *   nor in the default language.  Rendering problems (undefined variables)
 *   do not fail a render: they are status flags on the output.
 *
 * SECURITY
 *   Template files are trusted admin input, the data is not: see mustache.h
 *   (depth cap, no re-parsing of data) and compose.h (header sanitizing).
 *   Files larger than TEMPLATE_FILE_MAX are refused.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "templates/compose.h"
#include "templates/mustache.h"

G_BEGIN_DECLS

#define TEMPLATE_FILE_MAX (1024 * 1024)

#define TEMPLATE_SET_ERROR (template_set_error_quark())
GQuark template_set_error_quark(void);

typedef enum {
  TEMPLATE_SET_ERROR_LOAD,
  TEMPLATE_SET_ERROR_NOT_FOUND,
} TemplateSetError;

typedef struct _TemplateSet TemplateSet;

/* What one render produced; every string is owned by the output. */
typedef struct {
  char *name;                 /* "ack", "canned/password-reset" */
  char *lang;                 /* the variant used: "ja" */
  char *subject;              /* sanitized, one line */
  ComposeHeader *headers;     /* extra headers, sanitized (names and values owned) */
  gsize n_headers;
  char *text;                 /* text/plain body */
  char *html;                 /* text/html body, or NULL */
  MustacheStatus status;      /* OR of every part's render status */
  char *first_problem;        /* `file:line: message` or NULL */
} TemplateOutput;

/* Load @dir.  @default_lang ("ja", "en") is the fallback variant.
 * Returns (transfer full) the set, or NULL and @error. */
TemplateSet *template_set_load(const char *dir, const char *default_lang, GError **error);

/* One file for template_set_load_files(): @path relative to the set's
 * root ("ack.ja.mustache", "canned/x.en.mustache", "partials/y.ja.mustache"),
 * @text its bytes (borrowed), @len its length or -1 if NUL-terminated. */
typedef struct {
  const char *path;
  const char *text;
  gssize len;
} TemplateFile;

/* Load a set from @n_files files in memory, with the same rules and messages
 * as template_set_load(); @label plays the part of the directory in
 * `file:line: message` (e.g. "(built-in)").  Paths not ending in .mustache
 * are ignored.  Names, sizes and encodings are checked here; each template
 * is compiled on its first use (template_set_names() and
 * template_set_check() compile them all), since this loads the built-in
 * set that every `deliver` process needs one template of.
 * Returns (transfer full) the set, or NULL and @error. */
TemplateSet *template_set_load_files(const char *label, const TemplateFile *files, gsize n_files,
                                     const char *default_lang, GError **error);

/* Files of a lazy set not compiled yet (0 for template_set_load()). */
guint template_set_n_pending(const TemplateSet *set);

/* (transfer full) another reference */
TemplateSet *template_set_ref(TemplateSet *set);
void template_set_unref(TemplateSet *set);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TemplateSet, template_set_unref)

/* The language whose variant of @name would be used for @lang (may be NULL
 * or "ja-JP"): @lang's own, else the default's.  Returns (transfer none) or
 * NULL if neither exists. */
const char *template_set_lookup(const TemplateSet *set, const char *name, const char *lang);

/* Render template @name in language @lang against @data.
 * Returns (transfer full) the output, or NULL + TEMPLATE_SET_ERROR_NOT_FOUND. */
TemplateOutput *template_set_render(const TemplateSet *set, const char *name, const char *lang,
                                    JsonNode *data, GError **error);

void template_output_free(TemplateOutput *out);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TemplateOutput, template_output_free)

/* Render every template (and so every partial they use) against @sample
 * (NULL: template_sample_new()).  Checks that the templates the gateway
 * sends (TEMPLATE_SET_REQUIRED) exist in the default language, that no
 * variable is undefined and no subject is empty.  Appends each problem as
 * `file:line: message` to @problems_r (a GPtrArray of char*, may be NULL).
 * Returns TRUE if there were none. */
gboolean template_set_check(const TemplateSet *set, JsonNode *sample, GPtrArray *problems_r);

/* The names the gateway renders; each must exist in the default language. */
extern const char *const TEMPLATE_SET_REQUIRED[];

/* Returns (transfer full) sorted "NAME.LANG" strings of all templates. */
GStrv template_set_names(const TemplateSet *set);

/* The directory and default language the set was loaded with. (transfer none) */
const char *template_set_dir(const TemplateSet *set);
const char *template_set_default_lang(const TemplateSet *set);

G_END_DECLS
