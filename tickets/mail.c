/* mail.c - allocation and lookup for TgMail (see mail.h). */
#include "tickets/mail.h"

#include <string.h>

TgAddress *tg_address_new(const char *name, const char *address) {
  TgAddress *a = g_new0(TgAddress, 1);
  a->name = g_strdup(name ? name : "");
  a->address = g_strdup(address ? address : "");
  return a;
}

void tg_address_free(TgAddress *a) {
  if (!a)
    return;
  g_free(a->name);
  g_free(a->address);
  g_free(a);
}

static void header_free(gpointer p) {
  TgHeader *h = p;
  g_free(h->name);
  g_free(h->value);
  g_free(h);
}

static void attachment_free(gpointer p) {
  TgAttachment *a = p;
  g_free(a->filename);
  g_free(a->content_type);
  g_free(a->sha256);
  if (a->content)
    g_bytes_unref(a->content);
  g_free(a);
}

TgMail *tg_mail_new(void) {
  TgMail *m = g_new0(TgMail, 1);
  m->envelope_recipients = g_ptr_array_new_with_free_func(g_free);
  m->references = g_ptr_array_new_with_free_func(g_free);
  m->to = g_ptr_array_new_with_free_func((GDestroyNotify)tg_address_free);
  m->cc = g_ptr_array_new_with_free_func((GDestroyNotify)tg_address_free);
  m->reply_to = g_ptr_array_new_with_free_func((GDestroyNotify)tg_address_free);
  m->headers = g_ptr_array_new_with_free_func(header_free);
  m->attachments = g_ptr_array_new_with_free_func(attachment_free);
  m->warnings = g_ptr_array_new_with_free_func(g_free);
  m->from = tg_address_new("", "");
  m->subject = g_strdup("");
  m->body = g_strdup("");
  return m;
}

void tg_mail_free(TgMail *m) {
  if (!m)
    return;
  g_free(m->spool_id);
  g_free(m->envelope_sender);
  g_ptr_array_unref(m->envelope_recipients);
  g_free(m->origin);
  g_free(m->message_id);
  g_free(m->in_reply_to);
  g_ptr_array_unref(m->references);
  tg_address_free(m->from);
  g_ptr_array_unref(m->to);
  g_ptr_array_unref(m->cc);
  g_ptr_array_unref(m->reply_to);
  g_free(m->subject);
  g_free(m->content_language);
  g_free(m->charset);
  g_ptr_array_unref(m->headers);
  g_free(m->body);
  g_ptr_array_unref(m->attachments);
  g_ptr_array_unref(m->warnings);
  if (m->raw)
    g_bytes_unref(m->raw);
  g_free(m->raw_sha256);
  tg_rule_prefilter_bits_free(m->rule_prefilter);
  g_free(m);
}

const char *tg_mail_header(const TgMail *m, const char *name) {
  for (guint i = 0; i < m->headers->len; i++) {
    TgHeader *h = g_ptr_array_index(m->headers, i);
    if (g_ascii_strcasecmp(h->name, name) == 0)
      return h->value;
  }
  return NULL;
}

void tg_mail_warn(TgMail *m, const char *fmt, ...) {
  if (m->warnings->len >= 50)
    return; /* a hostile message must not grow this without bound */
  va_list ap;
  va_start(ap, fmt);
  g_ptr_array_add(m->warnings, g_strdup_vprintf(fmt, ap));
  va_end(ap);
}
