/* escalate_config.c - TgConfig -> TgEscalateConfig (escalate_config.h). */
#include "gateway/escalate_config.h"

TgSlaPolicies *tg_escalate_config_load_policies(const TgConfig *cfg, GPtrArray **errors_r) {
  *errors_r = NULL;
  if (!cfg->escalation_policies || !cfg->escalation_policies[0])
    return tg_sla_policies_default();
  return tg_sla_policies_load(cfg->escalation_policies, errors_r);
}

TgEscalateConfig *tg_escalate_config_new(const TgConfig *cfg, const TgNotifyConfig *notify,
                                         GBytes *secret, GPtrArray **errors_r) {
  TgSlaPolicies *policies = tg_escalate_config_load_policies(cfg, errors_r);
  if (!policies)
    return NULL;
  TgEscalateConfig *ec = g_new0(TgEscalateConfig, 1);
  ec->notify = notify;
  ec->policies = policies;
  TgStaffMember *staff = g_new0(TgStaffMember, cfg->staff->len + 1);
  for (guint i = 0; i < cfg->staff->len; i++) {
    const TgStaff *s = g_ptr_array_index(cfg->staff, i);
    staff[i] = (TgStaffMember){.address = s->address, .name = s->name ? s->name : "",
                               .level = s->level, .team = s->team ? s->team : ""};
  }
  ec->staff = staff;
  ec->n_staff = cfg->staff->len;
  ec->secret = secret;
  ec->support_addresses = cfg->addresses;
  ec->trusted_authserv_id = cfg->trusted_authserv_id;
  return ec;
}

void tg_escalate_config_free(TgEscalateConfig *ec) {
  if (!ec)
    return;
  tg_sla_policies_free((TgSlaPolicies *)ec->policies);
  g_free((TgStaffMember *)ec->staff);
  g_free(ec);
}
