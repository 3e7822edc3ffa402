/* smtp_target.c - the smarthost address and the client's error domain
 * (smtp_send.h).  In the binary, not in ticketgate-net.so: the sender
 * parses the address and reads the errors without loading the module. */
#include "gateway/smtp_send.h"

#include <string.h>

G_DEFINE_QUARK(tg-smtp-send-error-quark, tg_smtp_send_error)

gboolean tg_smtp_send_target_parse(const char *spec, char **host_r, guint *port_r,
                                   GError **error) {
  g_autofree char *host = NULL;
  const char *port_s = NULL;
  if (spec[0] == '[') {
    const char *end = strchr(spec, ']');
    if (!end)
      goto bad;
    host = g_strndup(spec + 1, end - spec - 1);
    if (end[1] == ':')
      port_s = end + 2;
    else if (end[1])
      goto bad;
  } else {
    const char *colon = strrchr(spec, ':');
    if (colon && strchr(spec, ':') == colon) {
      host = g_strndup(spec, colon - spec);
      port_s = colon + 1;
    } else {
      host = g_strdup(spec);
    }
  }
  guint64 port = 25;
  if (port_s && (!g_ascii_string_to_unsigned(port_s, 10, 1, 65535, &port, NULL)))
    goto bad;
  if (!host[0])
    goto bad;
  *host_r = g_steal_pointer(&host);
  *port_r = (guint)port;
  return TRUE;
bad:
  g_set_error(error, TG_SMTP_SEND_ERROR, TG_SMTP_SEND_ERROR_PERM,
              "smarthost '%s' is not HOST[:PORT]", spec);
  return FALSE;
}
