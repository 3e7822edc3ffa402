/*
 * rfc2047 — encoded words and folding.  Contract: rfc2047.h.
 *
 * The value is a sequence of atoms (plain ASCII tokens, quoted strings,
 * encoded words, <addresses>) separated by single spaces; a fold replaces a
 * separator.  Encoded runs are cut to fit the room left on the current line,
 * so the first word shares the "Subject:" line instead of leaving it empty.
 */
#include "templates/rfc2047.h"

#include <string.h>

#define LINE_MAX_COLS 76
#define WORD_MAX 75

struct _Rfc2047Fold {
  GString *out;
  gsize col;
  gboolean need_space;    /* the next atom needs a separator before it */
  gboolean jis;
  guint mailboxes;
};

Rfc2047Fold *
rfc2047_fold_new(gsize name_len, const char *charset)
{
  Rfc2047Fold *f = g_new0(Rfc2047Fold, 1);
  f->out = g_string_new(NULL);
  f->col = name_len + 1;  /* "Name:" */
  f->need_space = TRUE;   /* the raw value starts with a space */
  f->jis = charset && g_ascii_strcasecmp(charset, "iso-2022-jp") == 0;
  return f;
}

void
rfc2047_fold_free(Rfc2047Fold *f)
{
  if (!f)
    return;
  g_string_free(f->out, TRUE);
  g_free(f);
}

static gsize
room(const Rfc2047Fold *f)
{
  gsize used = f->col + (f->need_space ? 1 : 0);
  return used >= LINE_MAX_COLS ? 0 : LINE_MAX_COLS - used;
}

static void
fold_line(Rfc2047Fold *f)
{
  g_string_append(f->out, "\n ");
  f->col = 1;
  f->need_space = FALSE;
}

static void
put_atom(Rfc2047Fold *f, const char *atom, gsize len)
{
  /* never fold before the first atom: "Subject:" alone on a line confuses clients */
  if (len > room(f) && f->out->len > 0)
    fold_line(f);
  if (f->need_space) {
    g_string_append_c(f->out, ' ');
    f->col++;
  }
  g_string_append_len(f->out, atom, len);
  f->col += len;
  f->need_space = TRUE;
}

/* Encoded word for @s[0..len) in the fold's charset, or NULL if the charset
 * cannot hold it. */
static char *
encode_word(const Rfc2047Fold *f, const char *s, gsize len, gboolean jis)
{
  if (jis) {
    gsize conv_len = 0;
    g_autofree char *conv = g_convert(s, len, "ISO-2022-JP", "UTF-8", NULL, &conv_len, NULL);
    if (!conv)
      return NULL;
    g_autofree char *b64 = g_base64_encode((const guchar *)conv, conv_len);
    return g_strconcat("=?ISO-2022-JP?B?", b64, "?=", NULL);
  }
  g_autofree char *b64 = g_base64_encode((const guchar *)s, len);
  return g_strconcat("=?UTF-8?B?", b64, "?=", NULL);
}

/* Encode @s as as many words as needed, each the longest prefix that fits.
 * A word followed by another should encode a multiple of 3 bytes: base64
 * padding ('=') inside a run of adjacent words makes GMime (and other
 * decoders that join adjacent words before decoding) drop the rest. */
static void
put_encoded(Rfc2047Fold *f, const char *s, gsize len)
{
  while (len > 0) {
    gsize limit = MIN(room(f), WORD_MAX);
    if (limit < 24 && f->out->len > 0) {  /* not even a couple of characters fit */
      fold_line(f);
      limit = WORD_MAX;
    }
    limit = MAX(limit, 24);
    gboolean jis = f->jis;
    g_autofree char *best = NULL, *best3 = NULL;
    gsize best_len = 0, best3_len = 0;
    const char *p = s;
    while (p < s + len) {
      const char *next = g_utf8_next_char(p);
      g_autofree char *word = encode_word(f, s, next - s, jis);
      if (!word && jis && best_len == 0) {
        jis = FALSE;  /* this character has no ISO-2022-JP form */
        word = encode_word(f, s, next - s, FALSE);
      }
      if (!word || (strlen(word) > limit && best_len > 0))
        break;
      gsize wl = strlen(word);
      if (word[wl - 3] != '=') {  /* no padding before the closing "?=" */
        g_free(best3);
        best3 = g_strdup(word);
        best3_len = next - s;
      }
      g_free(best);
      best = g_steal_pointer(&word);
      best_len = next - s;
      p = next;
    }
    if (best_len < len && best3) {
      g_free(best);
      best = g_steal_pointer(&best3);
      best_len = best3_len;
    }
    put_atom(f, best, strlen(best));
    s += best_len;
    len -= best_len;
  }
}

static gboolean
token_plain(const char *t, gsize len)
{
  if (len > 70)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if ((guchar)t[i] >= 0x80 || (guchar)t[i] < 0x20)
      return FALSE;
  return !(len >= 2 && t[0] == '=' && t[1] == '?');
}

void
rfc2047_fold_text(Rfc2047Fold *f, const char *text)
{
  /* Runs of tokens that need encoding become one encoded run, spaces
   * included, because whitespace between adjacent encoded words vanishes. */
  g_auto(GStrv) tokens = g_strsplit(text ? text : "", " ", -1);
  g_autoptr(GString) run = g_string_new(NULL);
  for (int i = 0;; i++) {
    const char *t = tokens[i];
    gboolean plain = t && token_plain(t, strlen(t));
    if ((plain || !t) && run->len) {
      put_encoded(f, run->str, run->len);
      g_string_truncate(run, 0);
    }
    if (!t)
      break;
    if (plain) {
      if (*t)
        put_atom(f, t, strlen(t));
    } else {
      if (run->len)
        g_string_append_c(run, ' ');
      g_string_append(run, t);
    }
  }
}

static gboolean
phrase_atext(const char *s)
{
  for (const char *p = s; *p; p++)
    if (!g_ascii_isalnum(*p) && !strchr("!#$%&'*+-/=?^_`{|}~ ", *p))
      return FALSE;
  return TRUE;
}

void
rfc2047_fold_mailbox(Rfc2047Fold *f, const char *name, const char *address)
{
  if (f->mailboxes++ > 0) {
    g_string_append_c(f->out, ',');
    f->col++;
  }
  if (name && *name) {
    gboolean ascii = TRUE;
    for (const char *p = name; *p; p++)
      if ((guchar)*p >= 0x80)
        ascii = FALSE;
    if (!ascii) {
      put_encoded(f, name, strlen(name));
    } else if (phrase_atext(name) && !strstr(name, "=?")) {
      g_auto(GStrv) words = g_strsplit(name, " ", -1);
      for (int i = 0; words[i]; i++)
        if (*words[i])
          put_atom(f, words[i], strlen(words[i]));
    } else {
      GString *q = g_string_new("\"");
      for (const char *p = name; *p; p++) {
        if (*p == '"' || *p == '\\')
          g_string_append_c(q, '\\');
        g_string_append_c(q, *p);
      }
      g_string_append_c(q, '"');
      put_atom(f, q->str, q->len);
      g_string_free(q, TRUE);
    }
    g_autofree char *angle = g_strconcat("<", address, ">", NULL);
    put_atom(f, angle, strlen(angle));
  } else {
    put_atom(f, address, strlen(address));
  }
}

char *
rfc2047_fold_finish(Rfc2047Fold *f)
{
  if (f->out->len == 0)
    g_string_append_c(f->out, ' ');
  g_string_append_c(f->out, '\n');
  char *s = g_string_free(f->out, FALSE);
  f->out = g_string_new(NULL);
  return s;
}
