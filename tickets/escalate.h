/* escalate.h - moving a ticket up its escalation ladder, and telling people.
 *
 * PURPOSE
 *   tg_escalate_level() raises a ticket to LEVEL (SLA timer, rule, staff
 *   `#escalate`, `ticketgate ticket escalate`): it records a row in
 *   sla_notices (UNIQUE per ticket, level and kind), sets the level and
 *   the status `escalated`, writes an `escalated` audit event with actor
 *   and reason, queues the escalation-notice to every target of the level
 *   (the policy's addresses for it, else the staff directory members of
 *   that level), with Reply-To the target's own signed staff address
 *   (tickets/thread.h), and a status-escalated update to the customer when
 *   the policy's level says notify-customer.  Then the SLA clock computes
 *   the next deadline (tickets/sla_clock.h).
 *   tg_escalate_warn() warns the current level a policy's `warn X before`
 *   ahead of the next escalation; tg_escalate_inform() is the
 *   keep-customer-informed status update.  All of it in the caller's
 *   transaction, so a notice is queued exactly when its sla_notices row is
 *   committed.
 *
 * CONFIG
 *   TgEscalateConfig is built by gateway/escalate_config.c.  A NULL config
 *   (or NULL members) means: the embedded default policies, no staff, no
 *   mail (events only).
 *
 * DIAGNOSTICS
 *   Store errors (TG_STORE_ERROR_*) fail the call; the caller rolls back.
 *   A notice that cannot be rendered or composed is an event on the ticket
 *   ("escalation-notice not sent: ..."), not a failure: the ladder moves on.
 *
 * OWNERSHIP
 *   Everything is borrowed; nothing returned needs freeing unless said.
 */
#ifndef TG_ESCALATE_H
#define TG_ESCALATE_H

#include "tickets/notify.h"
#include "tickets/sla_policy.h"
#include "tickets/store.h"

typedef struct {
  const char *address; /* lower case */
  const char *name;    /* display name, may be "" */
  guint level;
  const char *team;    /* may be "" */
} TgStaffMember;

typedef struct TgEscalateConfig {
  const TgNotifyConfig *notify;    /* NULL: no mail, events only */
  const TgSlaPolicies *policies;   /* NULL: the embedded default */
  const TgStaffMember *staff;      /* the [staff:NAME] directory */
  guint n_staff;
  GBytes *secret;                  /* signs staff reply addresses */
  char *const *support_addresses;
  const char *trusted_authserv_id; /* NULL or "": trust no Authentication-Results */
} TgEscalateConfig;

/* The ticket's policy: NAME from the config, else `standard`, else the
 * embedded default's `standard`.  Never NULL.  (transfer none) */
const TgSlaPolicy *tg_escalate_policy(const TgEscalateConfig *cfg, const char *name);

/* Raises TICKET to LEVEL.  *DONE_R (may be NULL) is FALSE when the ticket
 * is already at LEVEL or above (nothing changes).  ACTOR: "sla",
 * "rule:NAME", a staff address, "cli:USER". */
gboolean tg_escalate_level(const TgEscalateConfig *cfg, TgStore *store,
                           gint64 ticket, guint level, const char *reason,
                           const char *actor, gint64 now, gboolean *done_r,
                           GError **error);

/* Warns the current level's targets that NEXT_LEVEL takes over at
 * DEADLINE (once per ticket and level). */
gboolean tg_escalate_warn(const TgEscalateConfig *cfg, TgStore *store,
                          gint64 ticket, guint next_level, gint64 deadline,
                          gint64 now, GError **error);

/* Keep-in-the-loop status update to the customer; SEQ keys it (the base
 * time it was computed from), so it goes out once per interval. */
gboolean tg_escalate_inform(const TgEscalateConfig *cfg, TgStore *store,
                            gint64 ticket, gint64 seq, gint64 now, GError **error);

/* An escalation notice about TICKET (at its current level) to ADDRESS:
 * a rule's `escalate to ADDRESS`. */
gboolean tg_escalate_notify_address(const TgEscalateConfig *cfg, TgStore *store,
                                    gint64 ticket, const char *address,
                                    const char *reason, gint64 now, GError **error);

/* The addresses of LEVEL for TICKET's policy (level 1: the assignee, else
 * the directory's level-1 staff).  (transfer full) NULL-terminated. */
GStrv tg_escalate_targets(const TgEscalateConfig *cfg, const TgSlaPolicy *policy,
                          guint level, const char *assignee);

/* "2時間15分" / "2 h 15 min" for LANG.  (transfer full) */
char *tg_escalate_format_wait(gint64 seconds, const char *lang);

/* Staff member of ADDRESS in the directory, or NULL.  (transfer none) */
const TgStaffMember *tg_escalate_staff_find(const TgEscalateConfig *cfg,
                                            const char *address);
/* TRUE when ADDRESS is in the directory or a target of some policy level. */
gboolean tg_escalate_is_staff(const TgEscalateConfig *cfg, const char *address);

#endif
