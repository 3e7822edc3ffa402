/*
 * template_set — load, choose, render and check templates.  Contract:
 * template_set.h.
 *
 * Keys of the tables are "NAME.LANG" ("ack.ja", "canned/password-reset.en");
 * partials live in their own table so that a partial and a template may share
 * a name.  Everything is compiled at load; rendering only reads the set, so a
 * set may be used from several threads while a reload builds the next one.
 */
#include "templates/template_set.h"

#include <string.h>

#include "templates/language.h"
#include "templates/template_sample.h"

G_DEFINE_QUARK(template-set-error-quark, template_set_error)

const char *const TEMPLATE_SET_REQUIRED[] = {
  "ack", "reply", "status-escalated", "status-pending", "status-resolved",
  "escalation-notice", "command-confirmation", "command-help", NULL,
};

typedef struct {
  char *name;      /* header name */
  Mustache *value;
} TplHeader;

typedef struct {
  char *path;      /* for messages */
  Mustache *subject;
  GArray *headers; /* TplHeader */
  Mustache *body;
  Mustache *html;  /* from NAME.LANG.html.mustache, or NULL */
  char *html_path;
} Template;

/* A file of a lazy set (template_set_load_files), checked but not yet
 * compiled. */
typedef struct {
  char *path;
  char *data;
  gsize len;
  char *html_path; /* its HTML body, if any */
  char *html;
  gsize html_len;
} Pending;

struct _TemplateSet {
  gatomicrefcount ref;
  char *dir;
  char *default_lang;
  GHashTable *templates;  /* "NAME.LANG" -> Template* */
  GHashTable *partials;   /* "NAME.LANG" -> Mustache* */
  /* Lazy sets compile a file on its first use.  The built-in set is one:
   * compiling all its 55 templates and partials was 15% of the
   * instructions of a `deliver` process, which renders one.  The lock
   * guards the four tables: sets are shared between threads. */
  gboolean lazy;
  GHashTable *pending_templates; /* "NAME.LANG" -> Pending* */
  GHashTable *pending_partials;  /* "NAME.LANG" -> Pending* */
  GMutex lock;
};

static void
pending_free(gpointer p)
{
  Pending *pd = p;
  g_free(pd->path);
  g_free(pd->data);
  g_free(pd->html_path);
  g_free(pd->html);
  g_free(pd);
}

static void
tpl_header_clear(gpointer p)
{
  TplHeader *h = p;
  g_free(h->name);
  mustache_free(h->value);
}

static void
template_free(gpointer p)
{
  Template *t = p;
  g_free(t->path);
  g_free(t->html_path);
  mustache_free(t->subject);
  mustache_free(t->body);
  mustache_free(t->html);
  if (t->headers)
    g_array_unref(t->headers);
  g_free(t);
}

static Template *
template_new(void)
{
  Template *t = g_new0(Template, 1);
  t->headers = g_array_new(FALSE, TRUE, sizeof(TplHeader));
  g_array_set_clear_func(t->headers, tpl_header_clear);
  return t;
}

/* ------------------------------------------------------------------- load */

static gboolean
load_error(GError **error, const char *path, guint line, const char *fmt, ...) G_GNUC_PRINTF(4, 5);

static gboolean
load_error(GError **error, const char *path, guint line, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *msg = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  g_set_error(error, TEMPLATE_SET_ERROR, TEMPLATE_SET_ERROR_LOAD, "%s:%u: %s", path, line, msg);
  return FALSE;
}

/* mustache_new_full() with its `file:line: message` kept, in our error domain */
static Mustache *
compile(const char *path, guint line, const char *src, gssize len, GError **error)
{
  g_autoptr(GError) syntax = NULL;
  Mustache *m = mustache_new_full(path, line, src, len, &syntax);
  if (!m)
    g_set_error_literal(error, TEMPLATE_SET_ERROR, TEMPLATE_SET_ERROR_LOAD, syntax->message);
  return m;
}

static gboolean
name_part_ok(const char *s, gsize n)
{
  if (n == 0 || !(g_ascii_islower(s[0]) || g_ascii_isdigit(s[0])))
    return FALSE;
  for (gsize i = 0; i < n; i++)
    if (!g_ascii_islower(s[i]) && !g_ascii_isdigit(s[i]) && s[i] != '-' && s[i] != '_')
      return FALSE;
  return TRUE;
}

static gboolean
lang_part_ok(const char *s, gsize n)
{
  if (n < 2 || n > 3)
    return FALSE;
  for (gsize i = 0; i < n; i++)
    if (!g_ascii_islower(s[i]))
      return FALSE;
  return TRUE;
}

/* "ack.ja.mustache" -> name "ack", lang "ja", html FALSE;
 * "ack.ja.html.mustache" -> html TRUE.  FALSE if the name is not of that form. */
static gboolean
parse_file_name(const char *file, char **name_r, char **lang_r, gboolean *html_r)
{
  gsize len = strlen(file) - strlen(".mustache");
  g_autofree char *stem = g_strndup(file, len);
  *html_r = g_str_has_suffix(stem, ".html");
  if (*html_r)
    stem[strlen(stem) - 5] = '\0';
  const char *dot = strrchr(stem, '.');
  if (!dot || !name_part_ok(stem, dot - stem) || !lang_part_ok(dot + 1, strlen(dot + 1)))
    return FALSE;
  *name_r = g_strndup(stem, dot - stem);
  *lang_r = g_strdup(dot + 1);
  return TRUE;
}

static char *
read_template_file(const char *path, gsize *len_r, GError **error)
{
  g_autoptr(GError) io_error = NULL;
  char *data = NULL;
  gsize len = 0;
  if (!g_file_get_contents(path, &data, &len, &io_error)) {
    load_error(error, path, 0, "cannot read: %s", io_error->message);
    return NULL;
  }
  *len_r = len;
  return data;
}

static gboolean
header_name_ok(const char *s, gsize n)
{
  if (n == 0 || n > 76)
    return FALSE;
  for (gsize i = 0; i < n; i++)
    if (!g_ascii_isalnum(s[i]) && s[i] != '-')
      return FALSE;
  return TRUE;
}

/* Header block, blank line, body.  Continuation lines (leading blank) join
 * the previous header with one space. */
static Template *
parse_template(const char *path, const char *data, gsize len, GError **error)
{
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GPtrArray) values = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GArray) lines = g_array_new(FALSE, FALSE, sizeof(guint));
  gsize pos = 0;
  guint line = 1;
  gboolean blank_seen = FALSE;
  while (pos < len) {
    const char *nl = memchr(data + pos, '\n', len - pos);
    gsize end = nl ? (gsize)(nl - data) : len;
    gsize next = nl ? end + 1 : len;
    gsize l = end;
    if (l > pos && data[l - 1] == '\r')
      l--;
    const char *s = data + pos;
    gsize n = l - pos;
    if (n == 0) {
      blank_seen = TRUE;
      pos = next;
      line++;
      break;
    }
    if (s[0] == '#') {
      /* comment */
    } else if (s[0] == ' ' || s[0] == '\t') {
      if (names->len == 0)
        return load_error(error, path, line, "continuation line before any header"), NULL;
      char *prev = g_ptr_array_index(values, values->len - 1);
      g_autofree char *cont = g_strndup(s, n);
      values->pdata[values->len - 1] = g_strconcat(prev, " ", g_strstrip(cont), NULL);
      g_free(prev);
    } else {
      const char *colon = memchr(s, ':', n);
      if (!colon || !header_name_ok(s, colon - s))
        return load_error(error, path, line,
                          "expected 'Name: value' or a blank line before the body"), NULL;
      g_autofree char *hname = g_strndup(s, colon - s);
      if (g_ascii_strcasecmp(hname, "Subject") != 0 && compose_header_owned(hname))
        return load_error(error, path, line, "header '%s' is set by the gateway, not by a template", hname), NULL;
      for (guint i = 0; i < names->len; i++)
        if (g_ascii_strcasecmp(g_ptr_array_index(names, i), hname) == 0)
          return load_error(error, path, line, "header '%s' given twice", hname), NULL;
      char *value = g_strndup(colon + 1, n - (colon + 1 - s));
      g_strstrip(value);
      g_ptr_array_add(names, g_steal_pointer(&hname));
      g_ptr_array_add(values, value);
      g_array_append_val(lines, line);
    }
    pos = next;
    line++;
  }
  if (!blank_seen)
    return load_error(error, path, line > 1 ? line - 1 : 1,
                      "no blank line: a template is headers, a blank line, then the body"), NULL;

  Template *t = template_new();
  t->path = g_strdup(path);
  for (guint i = 0; i < names->len; i++) {
    const char *hname = g_ptr_array_index(names, i);
    Mustache *m = compile(path, g_array_index(lines, guint, i), g_ptr_array_index(values, i), -1, error);
    if (!m) {
      template_free(t);
      return NULL;
    }
    if (g_ascii_strcasecmp(hname, "Subject") == 0) {
      t->subject = m;
    } else {
      TplHeader h = {g_strdup(hname), m};
      g_array_append_val(t->headers, h);
    }
  }
  if (!t->subject) {
    template_free(t);
    return load_error(error, path, 1, "no Subject: header"), NULL;
  }
  t->body = compile(path, line, data + pos, len - pos, error);
  if (!t->body) {
    template_free(t);
    return NULL;
  }
  return t;
}

/* One file of the set: @rel is "ack.ja.mustache", "canned/x.en.mustache" or
 * "partials/greeting.ja.mustache"; @path names it in messages.  HTML bodies
 * are kept in @html_files until every template is loaded. */
typedef struct {
  char *path;
  char *key;   /* "NAME.LANG" of the template it belongs to */
  char *data;
  gsize len;
} HtmlFile;

static void
html_file_free(gpointer p)
{
  HtmlFile *h = p;
  g_free(h->path);
  g_free(h->key);
  g_free(h->data);
  g_free(h);
}

/* @data is checked here (size, UTF-8, BOM) exactly as a file read from disk. */
static gboolean
check_text(const char *path, char **data, gsize *len, GError **error)
{
  if (*len > TEMPLATE_FILE_MAX)
    return load_error(error, path, 1, "file larger than %d bytes", TEMPLATE_FILE_MAX);
  const char *bad = NULL;
  if (!g_utf8_validate(*data, *len, &bad)) {
    guint line = 1;
    for (const char *p = *data; p < bad; p++)
      line += *p == '\n';
    return load_error(error, path, line, "not valid UTF-8");
  }
  if (*len >= 3 && memcmp(*data, "\xef\xbb\xbf", 3) == 0) {
    memmove(*data, *data + 3, *len - 3 + 1);
    *len -= 3;
  }
  return TRUE;
}

/* Adds one file: @prefix is NULL or "canned/"; @partials for partials/. */
static gboolean
add_file(TemplateSet *set, const char *path, const char *file, const char *prefix, gboolean partials,
         const char *text, gsize text_len, GPtrArray *html_files, GError **error)
{
  g_autofree char *name = NULL, *lang = NULL;
  gboolean html = FALSE;
  if (!parse_file_name(file, &name, &lang, &html))
    return load_error(error, path, 0,
                      "file name must be NAME.LANG.mustache or NAME.LANG.html.mustache "
                      "(NAME: a-z 0-9 - _, LANG: 2-3 lowercase letters)");
  if (html && partials)
    return load_error(error, path, 0, "partials have no HTML variant");
  gsize len = text_len;
  g_autofree char *data = g_strndup(text, text_len);
  if (!check_text(path, &data, &len, error))
    return FALSE;
  g_autofree char *key = g_strdup_printf("%s%s.%s", prefix ? prefix : "", name, lang);
  if (html) {
    HtmlFile *h = g_new0(HtmlFile, 1);
    h->path = g_strdup(path);
    h->key = g_steal_pointer(&key);
    h->data = g_steal_pointer(&data);
    h->len = len;
    g_ptr_array_add(html_files, h);
    return TRUE;
  }
  if (set->lazy) {
    Pending *pd = g_new0(Pending, 1);
    pd->path = g_strdup(path);
    pd->data = g_steal_pointer(&data);
    pd->len = len;
    g_hash_table_insert(partials ? set->pending_partials : set->pending_templates,
                        g_steal_pointer(&key), pd);
  } else if (partials) {
    Mustache *m = compile(path, 1, data, len, error);
    if (!m)
      return FALSE;
    g_hash_table_insert(set->partials, g_steal_pointer(&key), m);
  } else {
    Template *t = parse_template(path, data, len, error);
    if (!t)
      return FALSE;
    g_hash_table_insert(set->templates, g_steal_pointer(&key), t);
  }
  return TRUE;
}

static gboolean
load_dir(TemplateSet *set, const char *dir, const char *prefix, gboolean partials, GPtrArray *html_files,
         GError **error)
{
  g_autoptr(GError) io_error = NULL;
  g_autoptr(GDir) d = g_dir_open(dir, 0, &io_error);
  if (!d) {
    /* canned/ and partials/ are optional */
    if (prefix || partials)
      return TRUE;
    return load_error(error, dir, 0, "cannot open template directory: %s", io_error->message);
  }
  const char *file;
  while ((file = g_dir_read_name(d))) {
    if (!g_str_has_suffix(file, ".mustache"))
      continue;
    g_autofree char *path = g_build_filename(dir, file, NULL);
    gsize len = 0;
    g_autofree char *data = read_template_file(path, &len, error);
    if (!data)
      return FALSE;
    if (!add_file(set, path, file, prefix, partials, data, len, html_files, error))
      return FALSE;
  }
  return TRUE;
}

/* HTML bodies attach to the template of the same name and language. */
static gboolean
attach_html(TemplateSet *set, const HtmlFile *h, GError **error)
{
  Pending *pd = set->lazy ? g_hash_table_lookup(set->pending_templates, h->key) : NULL;
  if (pd) {
    pd->html_path = g_strdup(h->path);
    pd->html = g_strndup(h->data, h->len);
    pd->html_len = h->len;
    return TRUE;
  }
  Template *t = g_hash_table_lookup(set->templates, h->key);
  if (!t)
    return load_error(error, h->path, 0, "HTML body without a %s.mustache next to it", h->key);
  t->html = compile(h->path, 1, h->data, h->len, error);
  t->html_path = g_strdup(h->path);
  return t->html != NULL;
}

static TemplateSet *
set_new(const char *dir, const char *default_lang)
{
  g_autofree char *def = language_normalize(default_lang);
  TemplateSet *set = g_new0(TemplateSet, 1);
  g_atomic_ref_count_init(&set->ref);
  set->dir = g_strdup(dir);
  set->default_lang = def ? g_steal_pointer(&def) : g_strdup("en");
  set->templates = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, template_free);
  set->partials = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)mustache_free);
  set->pending_templates = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, pending_free);
  set->pending_partials = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, pending_free);
  g_mutex_init(&set->lock);
  return set;
}

static TemplateSet *
set_finish(TemplateSet *set, gboolean ok, GPtrArray *html_files, GError **error)
{
  for (guint i = 0; ok && i < html_files->len; i++)
    ok = attach_html(set, g_ptr_array_index(html_files, i), error);
  if (!ok) {
    template_set_unref(set);
    return NULL;
  }
  return set;
}

TemplateSet *
template_set_load(const char *dir, const char *default_lang, GError **error)
{
  g_return_val_if_fail(dir != NULL, NULL);
  TemplateSet *set = set_new(dir, default_lang);
  g_autoptr(GPtrArray) html_files = g_ptr_array_new_with_free_func(html_file_free);
  g_autofree char *canned = g_build_filename(dir, "canned", NULL);
  g_autofree char *partials = g_build_filename(dir, "partials", NULL);
  gboolean ok = load_dir(set, dir, NULL, FALSE, html_files, error) &&
                load_dir(set, canned, "canned/", FALSE, html_files, error) &&
                load_dir(set, partials, NULL, TRUE, html_files, error);
  return set_finish(set, ok, html_files, error);
}

TemplateSet *
template_set_load_files(const char *label, const TemplateFile *files, gsize n_files,
                        const char *default_lang, GError **error)
{
  g_return_val_if_fail(label != NULL, NULL);
  TemplateSet *set = set_new(label, default_lang);
  set->lazy = TRUE;
  g_autoptr(GPtrArray) html_files = g_ptr_array_new_with_free_func(html_file_free);
  gboolean ok = TRUE;
  for (gsize i = 0; ok && i < n_files; i++) {
    const char *rel = files[i].path;
    const char *prefix = NULL;
    gboolean partials = FALSE;
    const char *file = rel;
    if (g_str_has_prefix(rel, "canned/")) {
      prefix = "canned/";
      file = rel + 7;
    } else if (g_str_has_prefix(rel, "partials/")) {
      partials = TRUE;
      file = rel + 9;
    }
    if (!g_str_has_suffix(file, ".mustache"))
      continue;
    g_autofree char *path = g_strdup_printf("%s/%s", label, rel);
    if (strchr(file, '/')) {
      ok = load_error(error, path, 0, "templates live in DIR, DIR/canned or DIR/partials");
      break;
    }
    ok = add_file(set, path, file, prefix, partials, files[i].text,
                  files[i].len < 0 ? strlen(files[i].text) : (gsize)files[i].len, html_files, error);
  }
  return set_finish(set, ok, html_files, error);
}

TemplateSet *
template_set_ref(TemplateSet *set)
{
  g_atomic_ref_count_inc(&set->ref);
  return set;
}

void
template_set_unref(TemplateSet *set)
{
  if (!set || !g_atomic_ref_count_dec(&set->ref))
    return;
  g_hash_table_unref(set->templates);
  g_hash_table_unref(set->partials);
  g_hash_table_unref(set->pending_templates);
  g_hash_table_unref(set->pending_partials);
  g_mutex_clear(&set->lock);
  g_free(set->dir);
  g_free(set->default_lang);
  g_free(set);
}

const char *
template_set_dir(const TemplateSet *set)
{
  return set->dir;
}

const char *
template_set_default_lang(const TemplateSet *set)
{
  return set->default_lang;
}

/* ------------------------------------------------------- lazy compilation */

/* With set->lock held.  A file that does not compile is a bug in the
 * built-in set (a test compiles them all): it is reported and then
 * treated as absent. */
static void
materialize_template(TemplateSet *set, const char *key)
{
  Pending *pd = g_hash_table_lookup(set->pending_templates, key);
  if (!pd)
    return;
  g_autoptr(GError) err = NULL;
  Template *t = parse_template(pd->path, pd->data, pd->len, &err);
  if (t && pd->html && !(t->html = compile(pd->html_path, 1, pd->html, pd->html_len, &err)))
    g_clear_pointer(&t, template_free);
  if (t) {
    t->html_path = g_strdup(pd->html_path);
    g_hash_table_insert(set->templates, g_strdup(key), t);
  } else {
    g_critical("%s", err->message);
  }
  g_hash_table_remove(set->pending_templates, key);
}

static void
materialize_partial(TemplateSet *set, const char *key)
{
  Pending *pd = g_hash_table_lookup(set->pending_partials, key);
  if (!pd)
    return;
  g_autoptr(GError) err = NULL;
  Mustache *m = compile(pd->path, 1, pd->data, pd->len, &err);
  if (m)
    g_hash_table_insert(set->partials, g_strdup(key), m);
  else
    g_critical("%s", err->message);
  g_hash_table_remove(set->pending_partials, key);
}

guint
template_set_n_pending(const TemplateSet *set)
{
  TemplateSet *mut = (TemplateSet *)set;
  g_mutex_lock(&mut->lock);
  guint n = g_hash_table_size(set->pending_templates) + g_hash_table_size(set->pending_partials);
  g_mutex_unlock(&mut->lock);
  return n;
}

static void
materialize_all(TemplateSet *set)
{
  g_mutex_lock(&set->lock);
  g_autoptr(GList) keys = g_hash_table_get_keys(set->pending_templates);
  for (GList *l = keys; l; l = l->next) {
    g_autofree char *key = g_strdup(l->data);
    materialize_template(set, key);
  }
  g_autoptr(GList) pkeys = g_hash_table_get_keys(set->pending_partials);
  for (GList *l = pkeys; l; l = l->next) {
    g_autofree char *key = g_strdup(l->data);
    materialize_partial(set, key);
  }
  g_mutex_unlock(&set->lock);
}

/* ----------------------------------------------------------------- render */

static const Template *
find(const TemplateSet *set, const char *name, const char *lang, const char **lang_used_r)
{
  g_autofree char *want = language_normalize(lang);
  const char *tries[2] = {want, set->default_lang};
  for (int i = 0; i < 2; i++) {
    if (!tries[i])
      continue;
    g_autofree char *key = g_strdup_printf("%s.%s", name, tries[i]);
    gpointer orig_key = NULL, value = NULL;
    TemplateSet *mut = (TemplateSet *)set; /* the lazy tables are a cache */
    g_mutex_lock(&mut->lock);
    materialize_template(mut, key);
    gboolean found = g_hash_table_lookup_extended(set->templates, key, &orig_key, &value);
    g_mutex_unlock(&mut->lock);
    if (found) {
      if (lang_used_r)
        *lang_used_r = (const char *)orig_key + strlen(name) + 1;
      return value;
    }
  }
  return NULL;
}

const char *
template_set_lookup(const TemplateSet *set, const char *name, const char *lang)
{
  const char *used = NULL;
  return find(set, name, lang, &used) ? used : NULL;
}

typedef struct {
  const TemplateSet *set;
  const char *lang;
} PartialCtx;

static const Mustache *
partial_lookup(const char *name, gpointer user_data)
{
  const PartialCtx *pc = user_data;
  const char *tries[2] = {pc->lang, pc->set->default_lang};
  for (int i = 0; i < 2; i++) {
    g_autofree char *key = g_strdup_printf("%s.%s", name, tries[i]);
    TemplateSet *mut = (TemplateSet *)pc->set; /* the lazy tables are a cache */
    g_mutex_lock(&mut->lock);
    materialize_partial(mut, key);
    const Mustache *m = g_hash_table_lookup(pc->set->partials, key);
    g_mutex_unlock(&mut->lock);
    if (m)
      return m;
  }
  return NULL;
}

static char *
render_part(const Mustache *m, JsonNode *data, gboolean html, PartialCtx *pc, TemplateOutput *out)
{
  MustacheRenderOptions opt = {.escape_html = html, .partials = partial_lookup, .partials_data = pc};
  GString *s = g_string_new(NULL);
  MustacheRenderResult res = {0};
  mustache_render(m, data, &opt, s, &res);
  out->status |= res.status;
  if (!out->first_problem)
    out->first_problem = g_steal_pointer(&res.first_problem);
  mustache_render_result_clear(&res);
  return g_string_free(s, FALSE);
}

TemplateOutput *
template_set_render(const TemplateSet *set, const char *name, const char *lang, JsonNode *data,
                    GError **error)
{
  const char *used = NULL;
  const Template *t = find(set, name, lang, &used);
  if (!t) {
    g_set_error(error, TEMPLATE_SET_ERROR, TEMPLATE_SET_ERROR_NOT_FOUND,
                "%s: no template %s.%s.mustache (nor %s.%s.mustache)", set->dir, name,
                lang ? lang : set->default_lang, name, set->default_lang);
    return NULL;
  }
  PartialCtx pc = {set, used};
  TemplateOutput *out = g_new0(TemplateOutput, 1);
  out->name = g_strdup(name);
  out->lang = g_strdup(used);
  g_autofree char *subject = render_part(t->subject, data, FALSE, &pc, out);
  out->subject = compose_header_sanitize(subject);
  out->n_headers = t->headers->len;
  out->headers = g_new0(ComposeHeader, t->headers->len + 1);
  for (guint i = 0; i < t->headers->len; i++) {
    const TplHeader *h = &g_array_index(t->headers, TplHeader, i);
    g_autofree char *v = render_part(h->value, data, FALSE, &pc, out);
    out->headers[i].name = g_strdup(h->name);
    out->headers[i].value = compose_header_sanitize(v);
  }
  out->text = render_part(t->body, data, FALSE, &pc, out);
  if (t->html)
    out->html = render_part(t->html, data, TRUE, &pc, out);
  return out;
}

void
template_output_free(TemplateOutput *out)
{
  if (!out)
    return;
  for (gsize i = 0; i < out->n_headers; i++) {
    g_free((char *)out->headers[i].name);
    g_free((char *)out->headers[i].value);
  }
  g_free(out->headers);
  g_free(out->name);
  g_free(out->lang);
  g_free(out->subject);
  g_free(out->text);
  g_free(out->html);
  g_free(out->first_problem);
  g_free(out);
}

/* ------------------------------------------------------------------ check */

static gint
compare_strings(gconstpointer a, gconstpointer b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

GStrv
template_set_names(const TemplateSet *set)
{
  g_autoptr(GPtrArray) names = g_ptr_array_new();
  GHashTableIter it;
  gpointer key;
  materialize_all((TemplateSet *)set);
  g_hash_table_iter_init(&it, set->templates);
  while (g_hash_table_iter_next(&it, &key, NULL))
    g_ptr_array_add(names, g_strdup(key));
  g_ptr_array_sort(names, compare_strings);
  g_ptr_array_add(names, NULL);
  return (GStrv)g_ptr_array_free(g_steal_pointer(&names), FALSE);
}

gboolean
template_set_check(const TemplateSet *set, JsonNode *sample, GPtrArray *problems_r)
{
  g_autoptr(JsonNode) own_sample = sample ? NULL : template_sample_new();
  JsonNode *data = sample ? sample : own_sample;
  guint problems = 0;
  materialize_all((TemplateSet *)set);
#define PROBLEM(...)                                              \
  do {                                                            \
    problems++;                                                   \
    if (problems_r)                                               \
      g_ptr_array_add(problems_r, g_strdup_printf(__VA_ARGS__));  \
  } while (0)

  for (int i = 0; TEMPLATE_SET_REQUIRED[i]; i++) {
    g_autofree char *key = g_strdup_printf("%s.%s", TEMPLATE_SET_REQUIRED[i], set->default_lang);
    if (!g_hash_table_contains(set->templates, key))
      PROBLEM("%s/%s.mustache:0: missing: the gateway sends this template (default language %s)",
              set->dir, key, set->default_lang);
  }
  g_auto(GStrv) names = template_set_names(set);
  for (int i = 0; names[i]; i++) {
    const Template *t = g_hash_table_lookup(set->templates, names[i]);
    const char *dot = strrchr(names[i], '.');
    g_autofree char *name = g_strndup(names[i], dot - names[i]);
    g_autoptr(TemplateOutput) out = template_set_render(set, name, dot + 1, data, NULL);
    if (out->first_problem)
      PROBLEM("%s", out->first_problem);
    else if (out->status & MUSTACHE_STATUS_PARTIAL_MISSING)
      PROBLEM("%s:0: a partial is missing", t->path);
    if (!*out->subject)
      PROBLEM("%s:1: Subject renders empty", t->path);
  }
#undef PROBLEM
  return problems == 0;
}
