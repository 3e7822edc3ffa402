/*
 * mustache — compile and render Mustache templates.  Contract: mustache.h.
 *
 * Compilation is one left-to-right pass over the source: find the next open
 * delimiter, classify the tag by its sigil, apply the standalone-line rule, and
 * append a node to the current container (the root or the innermost open
 * section).  Text nodes point into the template's own copy of the source, so
 * rendering copies bytes straight from it.
 *
 * Standalone partials are indented at render time rather than by re-compiling
 * an indented copy of the partial's source: the renderer keeps the current
 * indentation and a "beginning of line" flag, and writes the indentation before
 * the first byte of every line that comes from the partial's literal text.
 * Interpolated data is never indented (as the spec requires), and one compiled
 * partial serves every indentation, including recursive ones.
 */
#include "templates/mustache.h"

#include <string.h>

G_DEFINE_QUARK(mustache-error-quark, mustache_error)

typedef enum {
  NODE_TEXT,
  NODE_VAR,
  NODE_SECTION,
  NODE_INVERTED,
  NODE_PARTIAL,
} NodeKind;

typedef struct {
  NodeKind kind;
  guint line;
  gboolean escape;        /* NODE_VAR: {{x}} escapes, {{{x}}} and {{&x}} do not */
  gboolean standalone;    /* NODE_PARTIAL: alone on its line, so it is indented */
  const char *text;       /* NODE_TEXT: bytes; NODE_PARTIAL: indentation */
  gsize len;
  char *name;             /* as written (trimmed), for messages and close tags */
  char **path;            /* name split on '.'; NULL for the implicit iterator */
  GPtrArray *children;    /* NODE_SECTION, NODE_INVERTED */
} Node;

struct _Mustache {
  char *name;
  char *src;
  gsize len;
  GPtrArray *nodes;
};

static void
node_free(gpointer p)
{
  Node *n = p;
  g_free(n->name);
  g_strfreev(n->path);
  if (n->children)
    g_ptr_array_unref(n->children);
  g_free(n);
}

static GPtrArray *
node_list_new(void)
{
  return g_ptr_array_new_with_free_func(node_free);
}

/* ---------------------------------------------------------------- compile */

typedef struct {
  const char *name;
  const char *src;
  gsize len;
  gsize pos;              /* first byte not yet turned into nodes */
  guint line;             /* line number at `scan` */
  gsize scan;             /* newlines before this offset are counted */
  gsize line_start;       /* offset just after the last newline before `scan` */
  char *otag, *ctag;
  gsize olen, clen;
  GPtrArray *container;   /* (transfer none) where new nodes go */
  GPtrArray *open;        /* (transfer none) Node* of open sections, innermost last */
} Parser;

static void
parser_advance_to(Parser *p, gsize to)
{
  for (gsize i = p->scan; i < to; i++)
    if (p->src[i] == '\n') {
      p->line++;
      p->line_start = i + 1;
    }
  p->scan = to;
}

static gboolean
is_blank(char c)
{
  return c == ' ' || c == '\t';
}

static gboolean
is_space(char c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Names are restricted so that a typo is a compile error rather than a
 * silently empty expansion: "." or dot-separated [A-Za-z0-9_-]+ segments. */
static gboolean
name_ok(const char *name, gboolean allow_slash)
{
  if (strcmp(name, ".") == 0)
    return TRUE;
  gboolean seg_empty = TRUE;
  for (const char *c = name; *c; c++) {
    if (*c == '.') {
      if (seg_empty)
        return FALSE;
      seg_empty = TRUE;
    } else if (g_ascii_isalnum(*c) || *c == '_' || *c == '-' || (allow_slash && *c == '/')) {
      seg_empty = FALSE;
    } else {
      return FALSE;
    }
  }
  return !seg_empty;
}

static char *
strip_dup(const char *s, gsize n)
{
  while (n > 0 && is_space(*s)) {
    s++;
    n--;
  }
  while (n > 0 && is_space(s[n - 1]))
    n--;
  return g_strndup(s, n);
}

static void
add_text(Parser *p, gsize from, gsize to)
{
  if (to <= from)
    return;
  Node *n = g_new0(Node, 1);
  n->kind = NODE_TEXT;
  n->text = p->src + from;
  n->len = to - from;
  g_ptr_array_add(p->container, n);
}

static gboolean
set_delimiters(Parser *p, const char *content, guint line, GError **error)
{
  g_auto(GStrv) parts = g_strsplit_set(content, " \t\r\n", -1);
  const char *tok[3] = {NULL, NULL, NULL};
  int count = 0;
  for (int i = 0; parts[i]; i++) {
    if (!*parts[i])
      continue;
    if (count < 3)
      tok[count] = parts[i];
    count++;
  }
  if (count != 2 || strchr(tok[0], '=') || strchr(tok[1], '=')) {
    g_set_error(error, MUSTACHE_ERROR, MUSTACHE_ERROR_SYNTAX,
                "%s:%u: bad delimiter '%s': expected two delimiters without '=' or spaces",
                p->name, line, content);
    return FALSE;
  }
  g_free(p->otag);
  g_free(p->ctag);
  p->otag = g_strdup(tok[0]);
  p->ctag = g_strdup(tok[1]);
  p->olen = strlen(p->otag);
  p->clen = strlen(p->ctag);
  return TRUE;
}

static gboolean
parse(Parser *p, GPtrArray *root, GError **error)
{
  p->container = root;
  for (;;) {
    const char *hit = p->pos < p->len ? memmem(p->src + p->pos, p->len - p->pos, p->otag, p->olen)
                                      : NULL;
    if (!hit) {
      add_text(p, p->pos, p->len);
      break;
    }
    gsize tag_start = hit - p->src;
    parser_advance_to(p, tag_start);
    guint tag_line = p->line;
    gsize tag_line_start = p->line_start;

    gsize c = tag_start + p->olen;
    char sigil = c < p->len ? p->src[c] : '\0';
    if (sigil != '\0' && strchr("#^/!>={&", sigil))
      c++;
    else
      sigil = '\0';

    /* {{{x}}} and {{=a b=}} end with their own character before the delimiter */
    g_autofree char *close = sigil == '{' ? g_strconcat("}", p->ctag, NULL)
                             : sigil == '=' ? g_strconcat("=", p->ctag, NULL)
                                            : g_strdup(p->ctag);
    gsize close_len = strlen(close);
    const char *end = c <= p->len ? memmem(p->src + c, p->len - c, close, close_len) : NULL;
    if (!end) {
      g_set_error(error, MUSTACHE_ERROR, MUSTACHE_ERROR_SYNTAX, "%s:%u: unclosed tag: no '%s' after '%s'",
                  p->name, tag_line, close, p->otag);
      return FALSE;
    }
    gsize content_end = end - p->src;
    gsize tag_end = content_end + close_len;
    g_autofree char *content = strip_dup(p->src + c, content_end - c);
    parser_advance_to(p, tag_end);

    /* Standalone: only whitespace around the tag on its line, and no other tag
     * before it on that line (pos > tag_line_start means one ended there). */
    gboolean standalone = FALSE;
    gsize after = tag_end;
    if (sigil && strchr("#^/!>=", sigil) && p->pos <= tag_line_start) {
      gboolean prefix_blank = TRUE;
      for (gsize i = tag_line_start; i < tag_start; i++)
        if (!is_blank(p->src[i])) {
          prefix_blank = FALSE;
          break;
        }
      gsize q = tag_end;
      while (q < p->len && is_blank(p->src[q]))
        q++;
      if (prefix_blank) {
        if (q == p->len) {
          standalone = TRUE;
          after = q;
        } else if (p->src[q] == '\n') {
          standalone = TRUE;
          after = q + 1;
        } else if (p->src[q] == '\r' && q + 1 < p->len && p->src[q + 1] == '\n') {
          standalone = TRUE;
          after = q + 2;
        }
      }
    }
    if (standalone) {
      add_text(p, p->pos, tag_line_start);
      parser_advance_to(p, after);
    } else {
      add_text(p, p->pos, tag_start);
    }
    p->pos = after;

    switch (sigil) {
    case '!':
      break;
    case '=':
      if (!set_delimiters(p, content, tag_line, error))
        return FALSE;
      break;
    case '#':
    case '^':
    case '\0':
    case '{':
    case '&': {
      if (!name_ok(content, FALSE)) {
        g_set_error(error, MUSTACHE_ERROR, MUSTACHE_ERROR_SYNTAX,
                    "%s:%u: bad name '%s' (use letters, digits, '_', '-' and '.')", p->name,
                    tag_line, content);
        return FALSE;
      }
      Node *n = g_new0(Node, 1);
      n->line = tag_line;
      n->name = g_steal_pointer(&content);
      n->path = strcmp(n->name, ".") == 0 ? NULL : g_strsplit(n->name, ".", -1);
      if (sigil == '#' || sigil == '^') {
        if (p->open->len >= MUSTACHE_MAX_DEPTH) {
          g_set_error(error, MUSTACHE_ERROR, MUSTACHE_ERROR_SYNTAX,
                      "%s:%u: sections nested deeper than %d", p->name, tag_line,
                      MUSTACHE_MAX_DEPTH);
          node_free(n);
          return FALSE;
        }
        n->kind = sigil == '#' ? NODE_SECTION : NODE_INVERTED;
        n->children = node_list_new();
        g_ptr_array_add(p->container, n);
        g_ptr_array_add(p->open, n);
        p->container = n->children;
      } else {
        n->kind = NODE_VAR;
        n->escape = sigil == '\0';
        g_ptr_array_add(p->container, n);
      }
      break;
    }
    case '/': {
      if (p->open->len == 0) {
        g_set_error(error, MUSTACHE_ERROR, MUSTACHE_ERROR_SYNTAX,
                    "%s:%u: unexpected close tag '%s/%s%s': no section is open", p->name, tag_line,
                    p->otag, content, p->ctag);
        return FALSE;
      }
      Node *sec = g_ptr_array_index(p->open, p->open->len - 1);
      if (strcmp(sec->name, content) != 0) {
        g_set_error(error, MUSTACHE_ERROR, MUSTACHE_ERROR_SYNTAX,
                    "%s:%u: mismatched close tag '%s/%s%s': section '%s' opened on line %u is still open",
                    p->name, tag_line, p->otag, content, p->ctag, sec->name, sec->line);
        return FALSE;
      }
      g_ptr_array_remove_index(p->open, p->open->len - 1);
      p->container = p->open->len ? ((Node *)g_ptr_array_index(p->open, p->open->len - 1))->children
                                  : root;
      break;
    }
    case '>': {
      if (!name_ok(content, TRUE)) {
        g_set_error(error, MUSTACHE_ERROR, MUSTACHE_ERROR_SYNTAX, "%s:%u: bad partial name '%s'",
                    p->name, tag_line, content);
        return FALSE;
      }
      Node *n = g_new0(Node, 1);
      n->kind = NODE_PARTIAL;
      n->line = tag_line;
      n->name = g_steal_pointer(&content);
      n->standalone = standalone;
      if (standalone) {
        n->text = p->src + tag_line_start;
        n->len = tag_start - tag_line_start;
      }
      g_ptr_array_add(p->container, n);
      break;
    }
    default:
      g_assert_not_reached();
    }
  }
  if (p->open->len) {
    Node *sec = g_ptr_array_index(p->open, p->open->len - 1);
    g_set_error(error, MUSTACHE_ERROR, MUSTACHE_ERROR_SYNTAX,
                "%s:%u: unclosed section '%s': no close tag before the end", p->name, sec->line,
                sec->name);
    return FALSE;
  }
  return TRUE;
}

Mustache *
mustache_new_full(const char *name, guint first_line, const char *src, gssize len, GError **error)
{
  g_return_val_if_fail(src != NULL || len == 0, NULL);
  if (len < 0)
    len = strlen(src);
  Mustache *tpl = g_new0(Mustache, 1);
  tpl->name = g_strdup(name ? name : "template");
  tpl->src = g_strndup(src ? src : "", len);
  tpl->len = len;
  tpl->nodes = node_list_new();

  Parser p = {
    .name = tpl->name,
    .src = tpl->src,
    .len = tpl->len,
    .line = first_line ? first_line : 1,
    .otag = g_strdup("{{"),
    .ctag = g_strdup("}}"),
    .olen = 2,
    .clen = 2,
    .open = g_ptr_array_new(),
  };
  gboolean ok = parse(&p, tpl->nodes, error);
  g_free(p.otag);
  g_free(p.ctag);
  g_ptr_array_unref(p.open);
  if (!ok) {
    mustache_free(tpl);
    return NULL;
  }
  return tpl;
}

Mustache *
mustache_new(const char *name, const char *src, gssize len, GError **error)
{
  return mustache_new_full(name, 1, src, len, error);
}

void
mustache_free(Mustache *tpl)
{
  if (!tpl)
    return;
  g_ptr_array_unref(tpl->nodes);
  g_free(tpl->src);
  g_free(tpl->name);
  g_free(tpl);
}

const char *
mustache_name(const Mustache *tpl)
{
  return tpl->name;
}

/* ----------------------------------------------------------------- render */

typedef struct {
  const MustacheRenderOptions *opt;
  GString *out;
  GPtrArray *stack;       /* JsonNode* contexts, innermost last */
  const char *indent;     /* indentation of the current standalone partial */
  gsize indent_len;
  gboolean bol;           /* at the beginning of an output line */
  guint depth;
  guint steps;            /* nodes visited, against MUSTACHE_MAX_STEPS */
  gsize out_start;        /* out->len before the render */
  MustacheStatus status;
  char *first_problem;
} Render;

void
mustache_escape_html(GString *out, const char *text, gsize len)
{
  gsize run = 0;
  for (gsize i = 0; i < len; i++) {
    const char *rep;
    switch (text[i]) {
    case '&': rep = "&amp;"; break;
    case '<': rep = "&lt;"; break;
    case '>': rep = "&gt;"; break;
    case '"': rep = "&quot;"; break;
    case '\'': rep = "&#39;"; break;
    default: continue;
    }
    g_string_append_len(out, text + run, i - run);
    g_string_append(out, rep);
    run = i + 1;
  }
  g_string_append_len(out, text + run, len - run);
}

static void
problem(Render *r, MustacheStatus flag, const char *tpl_name, guint line, const char *fmt,
        const char *arg)
{
  r->status |= flag;
  if (r->first_problem)
    return;
  g_autofree char *msg = g_strdup_printf(fmt, arg);
  r->first_problem = g_strdup_printf("%s:%u: %s", tpl_name, line, msg);
}

static void
emit_text(Render *r, const char *s, gsize n)
{
  if (n == 0)
    return;
  if (r->indent_len == 0) {
    g_string_append_len(r->out, s, n);
    r->bol = s[n - 1] == '\n';
    return;
  }
  while (n > 0) {
    if (r->bol) {
      g_string_append_len(r->out, r->indent, r->indent_len);
      r->bol = FALSE;
    }
    const char *nl = memchr(s, '\n', n);
    gsize take = nl ? (gsize)(nl - s) + 1 : n;
    g_string_append_len(r->out, s, take);
    if (nl)
      r->bol = TRUE;
    s += take;
    n -= take;
  }
}

static void
emit_value(Render *r, const char *s, gsize n, gboolean escape)
{
  if (n == 0)
    return;
  if (r->bol && r->indent_len)
    g_string_append_len(r->out, r->indent, r->indent_len);
  r->bol = FALSE;
  if (escape)
    mustache_escape_html(r->out, s, n);
  else
    g_string_append_len(r->out, s, n);
}

static JsonNode *
lookup(Render *r, char **path)
{
  if (r->stack->len == 0)
    return NULL;
  if (!path)
    return g_ptr_array_index(r->stack, r->stack->len - 1);
  JsonNode *cur = NULL;
  for (guint i = r->stack->len; i-- > 0;) {
    JsonNode *ctx = g_ptr_array_index(r->stack, i);
    if (ctx && JSON_NODE_HOLDS_OBJECT(ctx)) {
      cur = json_object_get_member(json_node_get_object(ctx), path[0]);
      if (cur)
        break;
    }
  }
  /* Only the first segment searches the stack; the rest must resolve inside
   * what it found ("Dotted Names - Context Precedence"). */
  for (int k = 1; cur && path[k]; k++) {
    if (!JSON_NODE_HOLDS_OBJECT(cur))
      return NULL;
    cur = json_object_get_member(json_node_get_object(cur), path[k]);
  }
  return cur;
}

static gboolean
truthy(JsonNode *v)
{
  if (!v)
    return FALSE;
  switch (json_node_get_node_type(v)) {
  case JSON_NODE_NULL:
    return FALSE;
  case JSON_NODE_ARRAY:
    return json_array_get_length(json_node_get_array(v)) > 0;
  case JSON_NODE_OBJECT:
    return TRUE;
  case JSON_NODE_VALUE:
    switch (json_node_get_value_type(v)) {
    case G_TYPE_BOOLEAN:
      return json_node_get_boolean(v);
    case G_TYPE_STRING: {
      const char *s = json_node_get_string(v);
      return s && *s;
    }
    case G_TYPE_INT64:
      return json_node_get_int(v) != 0;
    case G_TYPE_DOUBLE:
      return json_node_get_double(v) != 0.0;
    default:
      return TRUE;
    }
  }
  return FALSE;
}

/* Shortest text that reads back as the same double: 1.21 prints "1.21", not
 * the "1.2099999999999999" that %.17g gives. */
static void
format_double(char *buf, gsize size, double d)
{
  for (int prec = 1; prec <= 17; prec++) {
    char fmt[8];
    g_snprintf(fmt, sizeof fmt, "%%.%dg", prec);
    g_ascii_formatd(buf, size, fmt, d);
    if (g_ascii_strtod(buf, NULL) == d)
      return;
  }
}

static void render_nodes(Render *r, const Mustache *tpl, GPtrArray *nodes);

static void
render_var(Render *r, const Mustache *tpl, Node *n)
{
  JsonNode *v = lookup(r, n->path);
  if (!v) {
    problem(r, MUSTACHE_STATUS_UNDEFINED, tpl->name, n->line, "undefined variable '%s'", n->name);
    return;
  }
  gboolean escape = n->escape && r->opt->escape_html;
  switch (json_node_get_node_type(v)) {
  case JSON_NODE_NULL:
    return;
  case JSON_NODE_OBJECT:
  case JSON_NODE_ARRAY:
    problem(r, MUSTACHE_STATUS_NOT_SCALAR, tpl->name, n->line,
            "'%s' is an object or a list, not a value", n->name);
    return;
  case JSON_NODE_VALUE:
    break;
  }
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  switch (json_node_get_value_type(v)) {
  case G_TYPE_STRING: {
    const char *s = json_node_get_string(v);
    if (s)
      emit_value(r, s, strlen(s), escape);
    return;
  }
  case G_TYPE_INT64:
    g_snprintf(buf, sizeof buf, "%" G_GINT64_FORMAT, json_node_get_int(v));
    break;
  case G_TYPE_DOUBLE:
    format_double(buf, sizeof buf, json_node_get_double(v));
    break;
  case G_TYPE_BOOLEAN:
    g_strlcpy(buf, json_node_get_boolean(v) ? "true" : "false", sizeof buf);
    break;
  default:
    return;
  }
  emit_value(r, buf, strlen(buf), escape);
}

static gboolean
enter(Render *r, const Mustache *tpl, Node *n)
{
  if (r->depth >= MUSTACHE_MAX_DEPTH) {
    problem(r, MUSTACHE_STATUS_DEPTH, tpl->name, n->line,
            "nesting deeper than " G_STRINGIFY(MUSTACHE_MAX_DEPTH) " at '%s'", n->name);
    return FALSE;
  }
  r->depth++;
  return TRUE;
}

static void
render_section(Render *r, const Mustache *tpl, Node *n)
{
  JsonNode *v = lookup(r, n->path);
  if (n->kind == NODE_INVERTED) {
    if (!truthy(v))
      render_nodes(r, tpl, n->children);
    return;
  }
  if (!truthy(v) || !enter(r, tpl, n))
    return;
  if (JSON_NODE_HOLDS_ARRAY(v)) {
    JsonArray *a = json_node_get_array(v);
    guint len = json_array_get_length(a);
    for (guint i = 0; i < len; i++) {
      g_ptr_array_add(r->stack, json_array_get_element(a, i));
      render_nodes(r, tpl, n->children);
      g_ptr_array_set_size(r->stack, r->stack->len - 1);
    }
  } else {
    g_ptr_array_add(r->stack, v);
    render_nodes(r, tpl, n->children);
    g_ptr_array_set_size(r->stack, r->stack->len - 1);
  }
  r->depth--;
}

static void
render_partial(Render *r, const Mustache *tpl, Node *n)
{
  const Mustache *part = r->opt->partials ? r->opt->partials(n->name, r->opt->partials_data) : NULL;
  if (!part) {
    problem(r, MUSTACHE_STATUS_PARTIAL_MISSING, tpl->name, n->line, "no partial '%s'", n->name);
    return;
  }
  if (!enter(r, tpl, n))
    return;
  const char *saved_indent = r->indent;
  gsize saved_len = r->indent_len;
  g_autofree char *indent = NULL;
  if (n->standalone) {
    /* A standalone partial inside an indented partial gets both indents. */
    indent = g_malloc(saved_len + n->len + 1);
    memcpy(indent, saved_indent, saved_len);
    memcpy(indent + saved_len, n->text, n->len);
    indent[saved_len + n->len] = '\0';
    r->indent = indent;
    r->indent_len = saved_len + n->len;
    r->bol = TRUE;
  } else {
    r->indent = "";
    r->indent_len = 0;
  }
  render_nodes(r, part, part->nodes);
  r->indent = saved_indent;
  r->indent_len = saved_len;
  r->depth--;
}

static void
render_nodes(Render *r, const Mustache *tpl, GPtrArray *nodes)
{
  for (guint i = 0; i < nodes->len; i++) {
    Node *n = g_ptr_array_index(nodes, i);
    if (r->status & MUSTACHE_STATUS_TOO_BIG)
      return;
    if (++r->steps > MUSTACHE_MAX_STEPS || r->out->len - r->out_start > MUSTACHE_MAX_OUTPUT) {
      problem(r, MUSTACHE_STATUS_TOO_BIG, tpl->name, n->line, "%s",
              "render too big (exponential partials or sections?), cut short");
      return;
    }
    switch (n->kind) {
    case NODE_TEXT:
      emit_text(r, n->text, n->len);
      break;
    case NODE_VAR:
      render_var(r, tpl, n);
      break;
    case NODE_SECTION:
    case NODE_INVERTED:
      render_section(r, tpl, n);
      break;
    case NODE_PARTIAL:
      render_partial(r, tpl, n);
      break;
    }
  }
}

MustacheStatus
mustache_render(const Mustache *tpl, JsonNode *context, const MustacheRenderOptions *options,
                GString *out, MustacheRenderResult *result_r)
{
  static const MustacheRenderOptions defaults = {0};
  g_return_val_if_fail(tpl != NULL && out != NULL, MUSTACHE_STATUS_OK);
  Render r = {
    .opt = options ? options : &defaults,
    .out = out,
    .stack = g_ptr_array_sized_new(16),
    .indent = "",
    .bol = TRUE,
    .out_start = out->len,
  };
  if (context)
    g_ptr_array_add(r.stack, context);
  render_nodes(&r, tpl, tpl->nodes);
  g_ptr_array_unref(r.stack);
  if (result_r) {
    result_r->status = r.status;
    result_r->first_problem = r.first_problem;
  } else {
    g_free(r.first_problem);
  }
  return r.status;
}

void
mustache_render_result_clear(MustacheRenderResult *result)
{
  if (!result)
    return;
  g_clear_pointer(&result->first_problem, g_free);
  result->status = MUSTACHE_STATUS_OK;
}
