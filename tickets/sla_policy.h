/* sla_policy.h - escalation policies: who takes over after how long, and
 * the business hours the SLA clock runs in.
 *
 * A policy file is plain text that admins keep in git:
 *
 *   policy "standard"
 *       hours always
 *       level 2 escalation-l2@localhost after 30m without first-response
 *       level 3 escalation-l3@localhost after 2h without first-response
 *
 *   policy "business"
 *       timezone Asia/Tokyo
 *       hours mon-fri 09:00-18:00
 *       hours sat 10:00-14:00
 *       holidays 2026-01-01 2026-01-02
 *       warn 10m before
 *       keep-customer-informed every 4h
 *       level 2 lead@example.com, boss@example.com after 30m without first-response notify-customer
 *       level 3 manager@example.com after 2h without staff-update
 *
 * Level 1 is whoever works the queue; each further level names its
 * targets, the SLA time after which it takes over (business time), the
 * trigger ("first-response": no staff answer since the ticket opened;
 * "staff-update": no staff mail since the last one), and whether the
 * customer gets a status update.  Errors are "FILE:LINE: message", all of
 * them, and the set loads all-or-nothing.
 */
#ifndef TG_SLA_POLICY_H
#define TG_SLA_POLICY_H

#include <glib.h>

typedef enum {
  TG_SLA_FIRST_RESPONSE,
  TG_SLA_STAFF_UPDATE,
} TgSlaTrigger;

typedef struct {
  guint level;
  char **targets;       /* addresses, NULL-terminated */
  guint after;          /* SLA seconds */
  TgSlaTrigger trigger;
  gboolean notify_customer;
  guint line;
} TgSlaLevel;

typedef struct {
  char *name;
  char *file;
  guint line;
  GTimeZone *tz;
  gboolean always;         /* around the clock, no holidays */
  gint open_min[7];        /* per weekday (0 = Monday), -1 = closed */
  gint close_min[7];
  GArray *holidays;        /* guint32 julian days, sorted */
  guint warn_before;       /* seconds, 0 = no warning */
  guint keep_informed;     /* seconds between customer updates, 0 = off */
  GPtrArray *levels;       /* TgSlaLevel*, ascending by level */
} TgSlaPolicy;

typedef struct TgSlaPolicies TgSlaPolicies;

/* NAME is used in messages.  On error returns NULL and every problem in
 * ERRORS_R ("NAME:LINE: message", transfer full).  (transfer full) */
TgSlaPolicies *tg_sla_policies_parse(const char *name, const char *text,
                                     GPtrArray **errors_r);
TgSlaPolicies *tg_sla_policies_load(const char *path, GPtrArray **errors_r);
/* The embedded default: policy `standard`. */
TgSlaPolicies *tg_sla_policies_default(void);
extern const char tg_sla_default_text[];
void tg_sla_policies_free(TgSlaPolicies *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TgSlaPolicies, tg_sla_policies_free)

/* (transfer none) NULL when unknown. */
const TgSlaPolicy *tg_sla_policies_find(const TgSlaPolicies *p, const char *name);
guint tg_sla_policies_count(const TgSlaPolicies *p);
const TgSlaPolicy *tg_sla_policies_nth(const TgSlaPolicies *p, guint i);

/* The level after CURRENT, or NULL at the top of the ladder. */
const TgSlaLevel *tg_sla_next_level(const TgSlaPolicy *p, guint current);

/* The moment SECONDS of SLA time after START: only business hours count. */
gint64 tg_sla_add(const TgSlaPolicy *p, gint64 start, guint seconds);
/* SLA seconds between FROM and TO (0 when TO <= FROM). */
guint tg_sla_elapsed(const TgSlaPolicy *p, gint64 from, gint64 to);

#endif
