/* staff_command.h - the commands staff write at the top of a reply.
 *
 * PURPOSE
 *   tg_staff_command_parse() splits a staff mail body into commands and the
 *   answer.  Leading blank lines are skipped; then every line starting with
 *   '#' is a command, until the first line that does not (the answer
 *   starts there, quoting trimmed: tg_staff_command_trim_quote()).
 *     #escalate [N] REASON...   up to level N (default: the next level)
 *     #assign ADDRESS           #take (assign to me)
 *     #status pending|resolved|closed|open
 *     #priority low|normal|high|urgent
 *     #queue NAME               #tag TAG
 *     #canned NAME              send canned/NAME to the customer
 *     #note                     the rest of the mail is an internal note
 *     #help                     the command list
 *   The first unknown or malformed command makes the whole mail invalid
 *   (BAD_TEXT and BAD_ERROR are set); the caller applies none of them.
 *
 * SECURITY
 *   Pure text processing; whether the sender may command is decided by
 *   tickets/staff_mail.h.  Lines are bounded (MAX_COMMANDS).
 *
 * OWNERSHIP  tg_staff_commands_free() frees everything.
 */
#ifndef TG_STAFF_COMMAND_H
#define TG_STAFF_COMMAND_H

#include <glib.h>

typedef enum {
  TG_CMD_ESCALATE,
  TG_CMD_ASSIGN,
  TG_CMD_TAKE,
  TG_CMD_STATUS,
  TG_CMD_PRIORITY,
  TG_CMD_QUEUE,
  TG_CMD_TAG,
  TG_CMD_CANNED,
  TG_CMD_NOTE,
  TG_CMD_HELP,
} TgStaffCommandKind;

typedef struct {
  TgStaffCommandKind kind;
  char *text;  /* the line as written */
  guint level; /* escalate: 0 = the next level */
  char *arg;   /* reason, address, status, priority, queue, tag, canned name */
} TgStaffCommand;

typedef struct {
  GPtrArray *commands; /* TgStaffCommand*, in order */
  char *answer;        /* text for the customer, quoting trimmed ("" = none) */
  char *note;          /* after #note, or NULL */
  char *bad_text;      /* the first bad command line, or NULL */
  char *bad_error;     /* why */
} TgStaffCommands;

/* (transfer full) never NULL */
TgStaffCommands *tg_staff_command_parse(const char *body);
void tg_staff_commands_free(TgStaffCommands *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TgStaffCommands, tg_staff_commands_free)

/* TEXT up to the quoted part ("> ..." lines, "On ... wrote:",
 * "-----Original Message-----", "...のメッセージ:" / "...書きました:"), and
 * without the signature after "-- ".  (transfer full) */
char *tg_staff_command_trim_quote(const char *text);

typedef struct {
  const char *name;
  const char *usage;
  const char *en;
  const char *ja;
} TgStaffCommandUsage;

extern const TgStaffCommandUsage tg_staff_command_usages[];
extern const guint tg_staff_command_n_usages;

#endif
