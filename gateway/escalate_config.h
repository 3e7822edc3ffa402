/* escalate_config.h - the TgEscalateConfig (tickets/escalate.h) of a TgConfig.
 *
 * Loads the escalation policies ([escalation] policies = FILE, or the
 * embedded default `standard` when empty) and maps the [staff:NAME]
 * directory and [auth] trusted_authserv_id.
 * Errors: a policy file that does not load: every problem in ERRORS_R as
 * "FILE:LINE: message" (transfer full).
 * Ownership: borrows CFG, NOTIFY and SECRET (they must outlive it).
 */
#ifndef TG_ESCALATE_CONFIG_H
#define TG_ESCALATE_CONFIG_H

#include "gateway/config.h"
#include "tickets/escalate.h"

/* (transfer full) */
TgEscalateConfig *tg_escalate_config_new(const TgConfig *cfg, const TgNotifyConfig *notify,
                                         GBytes *secret, GPtrArray **errors_r);
void tg_escalate_config_free(TgEscalateConfig *ec);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TgEscalateConfig, tg_escalate_config_free)

/* The policies CFG names.  (transfer full) NULL and ERRORS_R on error. */
TgSlaPolicies *tg_escalate_config_load_policies(const TgConfig *cfg, GPtrArray **errors_r);

#endif
