/* notify_config.h - the TgNotifyConfig (tickets/notify.h) of a TgConfig.
 *
 * Loads the template set ([templates] dir, or the built-in set embedded in
 * the binary when it is empty) and maps [gateway], [outbound] and [limits]
 * onto what tickets/ needs:
 *   From            [outbound] from_address (default: first support address)
 *   Reply-To, X-Loop, gateway.support_address   first [gateway] addresses
 *   Message-ID domain   [gateway] hostname
 *   VERP bounces+ID-TOKEN@  the domain of the first support address
 *   gateway.name        first line of [gateway] signature
 *
 * Errors: a template directory that does not load (`file:line: message`).
 * Ownership: the result borrows CFG and SECRET (both must outlive it);
 * tg_notify_config_free() releases the template set.
 */
#ifndef TG_NOTIFY_CONFIG_H
#define TG_NOTIFY_CONFIG_H

#include "gateway/config.h"
#include "tickets/notify.h"

/* (transfer full) */
TgNotifyConfig *tg_notify_config_new(const TgConfig *cfg, GBytes *secret,
                                     GError **error);
void tg_notify_config_free(TgNotifyConfig *nc);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TgNotifyConfig, tg_notify_config_free)

/* The template set CFG names (built-in when [templates] dir is empty).
 * (transfer full) */
TemplateSet *tg_notify_config_load_templates(const TgConfig *cfg, GError **error);

#endif
