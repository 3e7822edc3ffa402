/* staff_command.c - parsing staff commands (contract in staff_command.h). */
#include "tickets/staff_command.h"

#include <string.h>

#define MAX_COMMANDS 50

const TgStaffCommandUsage tg_staff_command_usages[] = {
    {"escalate", "#escalate [LEVEL] REASON", "move the ticket up to LEVEL (default: the next level)",
     "チケットをレベル LEVEL（省略時は次のレベル）にエスカレーションする"},
    {"assign", "#assign ADDRESS", "assign the ticket to a staff member", "担当者を割り当てる"},
    {"take", "#take", "assign the ticket to yourself", "自分を担当者にする"},
    {"status", "#status pending|resolved|closed|open", "change the status (pending stops the SLA clock)",
     "状態を変える（pending の間は SLA の時計が止まる）"},
    {"priority", "#priority low|normal|high|urgent", "change the priority", "優先度を変える"},
    {"queue", "#queue NAME", "move the ticket to another queue", "キューを変える"},
    {"tag", "#tag TAG", "add a tag", "タグを付ける"},
    {"canned", "#canned NAME", "send the canned answer NAME to the customer",
     "定型文 NAME をお客様に送る"},
    {"note", "#note", "the rest of the mail is an internal note, never sent to the customer",
     "以降の本文は社内メモ（お客様には送られない）"},
    {"help", "#help", "this list", "この一覧"},
};
const guint tg_staff_command_n_usages = G_N_ELEMENTS(tg_staff_command_usages);

static void command_free(gpointer p) {
  TgStaffCommand *c = p;
  g_free(c->text);
  g_free(c->arg);
  g_free(c);
}

void tg_staff_commands_free(TgStaffCommands *c) {
  if (!c)
    return;
  g_ptr_array_unref(c->commands);
  g_free(c->answer);
  g_free(c->note);
  g_free(c->bad_text);
  g_free(c->bad_error);
  g_free(c);
}

static gboolean word_ok(const char *s) {
  if (!s[0] || strlen(s) > 64)
    return FALSE;
  for (const char *p = s; *p; p++)
    if (!g_ascii_isalnum(*p) && *p != '-' && *p != '_' && *p != '.')
      return FALSE;
  return TRUE;
}

static gboolean one_of(const char *s, const char *const *list) {
  for (; *list; list++)
    if (g_ascii_strcasecmp(s, *list) == 0)
      return TRUE;
  return FALSE;
}

/* Parses one command line; NULL and *ERROR_R when bad. */
static TgStaffCommand *parse_line(const char *line, char **error_r) {
  const char *p = line + 1;
  const char *sp = p;
  while (*sp && !g_ascii_isspace(*sp))
    sp++;
  g_autofree char *name = g_ascii_strdown(p, sp - p);
  g_autofree char *rest = g_strstrip(g_strdup(sp));
  TgStaffCommand c = {.text = NULL};
  static const char *const statuses[] = {"pending", "resolved", "closed", "open", NULL};
  static const char *const priorities[] = {"low", "normal", "high", "urgent", NULL};
  if (strcmp(name, "escalate") == 0) {
    c.kind = TG_CMD_ESCALATE;
    char *end;
    if (g_ascii_isdigit(rest[0])) {
      guint64 n = g_ascii_strtoull(rest, &end, 10);
      if ((*end && !g_ascii_isspace(*end)) || n < 2 || n > 20) {
        *error_r = g_strdup("LEVEL must be a number from 2 to 20");
        return NULL;
      }
      c.level = (guint)n;
      c.arg = g_strstrip(g_strdup(end));
    } else {
      c.arg = g_strdup(rest);
    }
  } else if (strcmp(name, "assign") == 0) {
    c.kind = TG_CMD_ASSIGN;
    if (!strchr(rest, '@') || strchr(rest, ' ') || strlen(rest) > 254) {
      *error_r = g_strdup("#assign needs one mail address");
      return NULL;
    }
    c.arg = g_ascii_strdown(rest, -1);
  } else if (strcmp(name, "take") == 0 || strcmp(name, "note") == 0 ||
             strcmp(name, "help") == 0) {
    c.kind = name[0] == 't' ? TG_CMD_TAKE : name[0] == 'n' ? TG_CMD_NOTE : TG_CMD_HELP;
    if (rest[0] && c.kind != TG_CMD_NOTE) {
      *error_r = g_strdup_printf("#%s takes no argument", name);
      return NULL;
    }
    c.arg = g_strdup(rest);
  } else if (strcmp(name, "status") == 0 || strcmp(name, "priority") == 0) {
    gboolean st = name[0] == 's';
    c.kind = st ? TG_CMD_STATUS : TG_CMD_PRIORITY;
    if (!one_of(rest, st ? statuses : priorities)) {
      *error_r = g_strdup(st ? "#status takes pending, resolved, closed or open"
                             : "#priority takes low, normal, high or urgent");
      return NULL;
    }
    c.arg = g_ascii_strdown(rest, -1);
  } else if (strcmp(name, "queue") == 0 || strcmp(name, "tag") == 0 ||
             strcmp(name, "canned") == 0) {
    c.kind = name[0] == 'q' ? TG_CMD_QUEUE : name[0] == 't' ? TG_CMD_TAG : TG_CMD_CANNED;
    if (!word_ok(rest)) {
      *error_r = g_strdup_printf("#%s needs one NAME (letters, digits, - _ .)", name);
      return NULL;
    }
    c.arg = g_strdup(rest);
  } else {
    *error_r = g_strdup_printf("unknown command '#%s'", name);
    return NULL;
  }
  TgStaffCommand *out = g_memdup2(&c, sizeof c);
  out->text = g_strdup(line);
  return out;
}

static gboolean blank(const char *s) {
  for (; *s; s++)
    if (!g_ascii_isspace(*s))
      return FALSE;
  return TRUE;
}

TgStaffCommands *tg_staff_command_parse(const char *body) {
  TgStaffCommands *r = g_new0(TgStaffCommands, 1);
  r->commands = g_ptr_array_new_with_free_func(command_free);
  g_auto(GStrv) lines = g_strsplit(body ? body : "", "\n", -1);
  guint i = 0;
  while (lines[i] && blank(lines[i]))
    i++;
  GString *answer = g_string_new(NULL);
  for (; lines[i]; i++) {
    g_autofree char *line = g_strstrip(g_strdup(lines[i]));
    if (line[0] != '#' || r->commands->len >= MAX_COMMANDS)
      break;
    g_autofree char *err = NULL;
    TgStaffCommand *c = parse_line(line, &err);
    if (!c) {
      if (!r->bad_text) {
        r->bad_text = g_strdup(line);
        r->bad_error = g_steal_pointer(&err);
      }
      continue;
    }
    g_ptr_array_add(r->commands, c);
    if (c->kind == TG_CMD_NOTE) {
      /* the rest of the line, then the rest of the mail */
      GString *note = g_string_new(c->arg);
      for (i++; lines[i]; i++)
        g_string_append_printf(note, "%s%s", note->len ? "\n" : "", lines[i]);
      g_autofree char *raw = g_string_free(note, FALSE);
      r->note = tg_staff_command_trim_quote(raw);
      break;
    }
  }
  for (; lines[i]; i++)
    g_string_append_printf(answer, "%s\n", lines[i]);
  r->answer = tg_staff_command_trim_quote(answer->str);
  g_string_free(answer, TRUE);
  return r;
}

static gboolean attribution(const char *line) {
  return (g_str_has_prefix(line, "On ") && g_str_has_suffix(line, "wrote:")) ||
         g_str_has_suffix(line, "のメッセージ:") || g_str_has_suffix(line, "書きました:") ||
         g_str_has_suffix(line, "書きました：") ||
         (g_str_has_prefix(line, "-----") && strstr(line, "Original Message"));
}

char *tg_staff_command_trim_quote(const char *text) {
  g_auto(GStrv) lines = g_strsplit(text ? text : "", "\n", -1);
  GString *out = g_string_new(NULL);
  for (guint i = 0; lines[i]; i++) {
    char *l = lines[i];
    gsize n = strlen(l);
    if (n && l[n - 1] == '\r')
      l[--n] = '\0';
    if (l[0] == '>' || attribution(l) || strcmp(l, "-- ") == 0)
      break;
    g_string_append_printf(out, "%s\n", l);
  }
  /* no trailing or leading blank lines */
  while (out->len && g_ascii_isspace(out->str[out->len - 1]))
    g_string_truncate(out, out->len - 1);
  gsize lead = 0;
  while (lead < out->len && (out->str[lead] == '\n' || out->str[lead] == '\r'))
    lead++;
  g_string_erase(out, 0, (gssize)lead);
  return g_string_free(out, FALSE);
}
