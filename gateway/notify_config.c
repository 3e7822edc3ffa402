/* notify_config.c - TgConfig -> TgNotifyConfig (notify_config.h). */
#include "gateway/notify_config.h"
#include "templates/template_builtin.h"

#include <string.h>

TemplateSet *tg_notify_config_load_templates(const TgConfig *cfg, GError **error) {
  if (!cfg->templates_dir || !cfg->templates_dir[0])
    return template_builtin_load(cfg->default_language, error);
  return template_set_load(cfg->templates_dir, cfg->default_language, error);
}

TgNotifyConfig *tg_notify_config_new(const TgConfig *cfg, GBytes *secret,
                                     GError **error) {
  TemplateSet *set = tg_notify_config_load_templates(cfg, error);
  if (!set)
    return NULL;
  const char *support = cfg->addresses && cfg->addresses[0] ? cfg->addresses[0]
                                                             : "support@localhost";
  const char *at = strchr(support, '@');
  TgNotifyConfig *nc = g_new0(TgNotifyConfig, 1);
  nc->templates = set;
  nc->keys = (TgOutboundKeys){
      .secret = secret,
      .msgid_domain = cfg->hostname && cfg->hostname[0] ? cfg->hostname
                                                        : (at ? at + 1 : "localhost"),
      .bounce_domain = at ? at + 1 : "localhost",
  };
  nc->from_address = cfg->from_address;
  nc->from_name = NULL;
  nc->support_address = support;
  nc->support_addresses = cfg->addresses;
  nc->tag_prefix = cfg->tag_prefix;
  nc->url_base = cfg->url_base;
  nc->signature = cfg->signature;
  nc->default_language = cfg->default_language;
  nc->iso2022jp_domains = cfg->iso2022jp_domains;
  nc->autoreply_count = cfg->autoreply.count;
  nc->autoreply_window = cfg->autoreply.window;
  nc->flood_count = cfg->flood.count;
  nc->flood_window = cfg->flood.window;
  return nc;
}

void tg_notify_config_free(TgNotifyConfig *nc) {
  if (!nc)
    return;
  template_set_unref(nc->templates);
  g_free(nc);
}
