/* bounce.c - DSNs for our notices (contract in bounce.h). */
#include "tickets/bounce.h"
#include "tickets/audit.h"
#include "tickets/outbound.h"
#include "templates/compose.h"

#include <string.h>

gint64 tg_bounce_outbound_id(const TgMail *m, GBytes *secret, gboolean *forged_r) {
  gboolean forged = FALSE;
  gint64 id = 0;
  for (guint i = 0; !id && i < m->envelope_recipients->len; i++) {
    gboolean f = FALSE;
    id = tg_outbound_parse_verp(g_ptr_array_index(m->envelope_recipients, i), secret, &f);
    forged = forged || f;
  }
  GPtrArray *lists[] = {m->to, m->cc};
  for (gsize l = 0; !id && l < G_N_ELEMENTS(lists); l++)
    for (guint i = 0; !id && i < lists[l]->len; i++) {
      gboolean f = FALSE;
      id = tg_outbound_parse_verp(((TgAddress *)g_ptr_array_index(lists[l], i))->address,
                                  secret, &f);
      forged = forged || f;
    }
  if (forged_r)
    *forged_r = !id && forged;
  return id;
}

typedef struct {
  char *action;     /* first failed action, else the first action */
  char *status;
  char *diagnostic;
  char *reporting_mta;
  gboolean report;  /* a delivery-status part was found */
} Dsn;

static void dsn_clear(Dsn *d) {
  g_free(d->action);
  g_free(d->status);
  g_free(d->diagnostic);
  g_free(d->reporting_mta);
}

/* "Name: value" fields of message/delivery-status; continuation lines are
 * ignored (the first line says enough).  At most 64 KiB and 200 lines. */
static void dsn_parse(Dsn *d, const char *text, gsize len) {
  if (len > 65536)
    len = 65536;
  g_autofree char *copy = g_strndup(text, len);
  g_auto(GStrv) lines = g_strsplit(copy, "\n", 201);
  gboolean failed_seen = FALSE;
  for (int i = 0; lines[i] && i < 200; i++) {
    char *l = g_strstrip(lines[i]);
    char *colon = strchr(l, ':');
    if (!colon || l[0] == ' ')
      continue;
    *colon = '\0';
    char *v = g_strstrip(colon + 1);
    if (g_ascii_strcasecmp(l, "Action") == 0) {
      gboolean failed = g_ascii_strncasecmp(v, "failed", 6) == 0;
      if (!d->action || (failed && !failed_seen)) {
        g_free(d->action);
        d->action = g_ascii_strdown(v, -1);
        failed_seen = failed_seen || failed;
      }
    } else if (g_ascii_strcasecmp(l, "Status") == 0 && (!d->status || !failed_seen)) {
      g_free(d->status);
      d->status = g_strdup(v);
    } else if (g_ascii_strcasecmp(l, "Diagnostic-Code") == 0 && !d->diagnostic) {
      d->diagnostic = g_strdup(v);
    } else if (g_ascii_strcasecmp(l, "Reporting-MTA") == 0 && !d->reporting_mta) {
      d->reporting_mta = g_strdup(v);
    }
  }
}

static gboolean is_null_sender(const TgMail *m) {
  const char *s = m->envelope_sender;
  if (s && (s[0] == '\0' || strcmp(s, "<>") == 0))
    return TRUE;
  if (s && g_ascii_strncasecmp(s, "mailer-daemon@", 14) == 0)
    return TRUE;
  return g_ascii_strncasecmp(m->from->address, "mailer-daemon@", 14) == 0 ||
         g_ascii_strncasecmp(m->from->address, "postmaster@", 11) == 0;
}

gboolean tg_bounce_record(TgStore *s, gint64 outbound_id, const TgMail *m,
                          gint64 now, gint64 *ticket_r, GError **error) {
  GError *e = NULL;
  *ticket_r = 0;
  gint64 ticket = tg_store_query_int(
      s, "SELECT ticket_id FROM outbound WHERE id = ?", 0, &e, "i", outbound_id);
  if (e) {
    g_propagate_error(error, e);
    return FALSE;
  }
  if (!ticket)
    return TRUE;
  *ticket_r = ticket;

  Dsn d = {0};
  const char *ctype = tg_mail_header(m, "Content-Type");
  gboolean multipart_report = ctype && g_ascii_strncasecmp(ctype, "multipart/report", 16) == 0;
  for (guint i = 0; i < m->attachments->len; i++) {
    TgAttachment *a = g_ptr_array_index(m->attachments, i);
    if (strcmp(a->content_type, "message/delivery-status") == 0 ||
        strcmp(a->content_type, "message/global-delivery-status") == 0) {
      gsize len = 0;
      const char *data = g_bytes_get_data(a->content, &len);
      dsn_parse(&d, data, len);
      d.report = TRUE;
      break;
    }
  }
  gboolean failed;
  const char *what;
  if (d.report && d.action) {
    failed = g_str_has_prefix(d.action, "failed");
    what = "delivery status notification";
  } else if (multipart_report || d.report || is_null_sender(m)) {
    failed = TRUE; /* a bounce without a readable Action */
    what = "bounce";
  } else {
    failed = FALSE;
    what = "mail to the bounce address (not a delivery report)";
  }
  g_autofree char *raw = g_strdup_printf(
      "%s for notice %" G_GINT64_FORMAT " from <%s>%s%s%s%s%s%s", what,
      outbound_id, m->envelope_sender && m->envelope_sender[0] ? m->envelope_sender
                                                               : m->from->address,
      d.action ? ": action " : "", d.action ? d.action : "",
      d.status ? ", status " : "", d.status ? d.status : "",
      d.diagnostic ? ", " : "", d.diagnostic ? d.diagnostic : "");
  g_autofree char *detail = compose_header_sanitize(raw);
  dsn_clear(&d);
  if (strlen(detail) > 900)
    detail[900] = '\0';
  if (!g_utf8_validate(detail, -1, NULL)) {
    g_autofree char *v = g_utf8_make_valid(detail, -1);
    g_free(detail);
    detail = g_steal_pointer(&v);
  }
  if (failed &&
      !tg_store_exec(s,
                     "UPDATE outbound SET status = 'failed', last_error = ? "
                     "WHERE id = ?",
                     error, "si", detail, outbound_id))
    return FALSE;
  return tg_audit_add(s, ticket, now, "outbound", failed ? "bounce" : "bounce-ignored",
                      detail, error);
}
