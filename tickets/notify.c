/* notify.c - acks, loop prevention, flood limit, notices (notify.h). */
#include "tickets/notify.h"
#include "tickets/audit.h"
#include "tickets/bounce.h"
#include "tickets/thread.h"
#include "tickets/clock.h"

#include <string.h>

G_DEFINE_QUARK(tg-notify-error-quark, tg_notify_error)

#define EXCERPT_LINES 12
#define EXCERPT_BYTES 2000

static const char *requester_of(const TgMail *m) {
  if (m->from->address[0])
    return m->from->address;
  return m->envelope_sender ? m->envelope_sender : "";
}

static gboolean in_list(char *const *list, const char *address) {
  for (char *const *s = list; s && *s; s++)
    if (g_ascii_strcasecmp(*s, address) == 0)
      return TRUE;
  return FALSE;
}

/* "<local@domain>" from a bare id, if it has that shape; else NULL. */
static char *bracket_id(const char *bare) {
  if (!bare || !bare[0] || strlen(bare) > 250)
    return NULL;
  const char *at = strchr(bare, '@');
  if (!at || at == bare || !at[1] || strchr(at + 1, '@'))
    return NULL;
  for (const guchar *p = (const guchar *)bare; *p; p++)
    if (*p <= ' ' || *p >= 0x7f || *p == '<' || *p == '>' || *p == '"' || *p == '\\')
      return NULL;
  return g_strdup_printf("<%s>", bare);
}

static char *format_time(gint64 t) {
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_local(t);
  return dt ? g_date_time_format(dt, "%Y-%m-%d %H:%M %z") : g_strdup("");
}

/* --------------------------------------------------------------- screen */

int tg_notify_screen(const TgIngestContext *ctx, TgMail *m, gint64 now,
                     TgIngestResult *r, GError **error) {
  const TgNotifyConfig *cfg = ctx->notify;
  if (!cfg)
    return 0;
  /* A bounces+ address without a valid token is no report on anything:
   * it goes on as ordinary mail (tickets/bounce.h SECURITY). */
  gint64 bounce = tg_bounce_outbound_id(m, cfg->keys.secret, NULL);
  if (bounce) {
    gint64 ticket = 0;
    if (!tg_bounce_record(ctx->store, bounce, m, now, &ticket, error))
      return -1;
    r->outcome = TG_INGEST_BOUNCE;
    r->ticket_id = ticket;
    r->threaded_by = "bounce";
    return 1;
  }
  const char *from = m->from->address;
  /* An mbox import is history, not a flood: years of one customer's mail
   * arrive in seconds. */
  gboolean imported = m->origin && strcmp(m->origin, "import") == 0;
  if (cfg->flood_count && from[0] && !imported && !in_list(ctx->staff_addresses, from)) {
    GError *e = NULL;
    gint64 n = tg_store_query_int(
        ctx->store,
        "SELECT count(*) FROM messages WHERE direction = 'in' AND "
        "from_address = ? AND created_at > ?",
        0, &e, "si", from, now - (gint64)cfg->flood_window);
    if (e) {
      g_propagate_error(error, e);
      return -1;
    }
    if (n >= cfg->flood_count) {
      g_set_error(error, TG_NOTIFY_ERROR, TG_NOTIFY_ERROR_FLOOD,
                  "%" G_GINT64_FORMAT " messages from %s in the last %u s "
                  "(limit %u)", n, from, cfg->flood_window, cfg->flood_count);
      return -1;
    }
  }
  return 0;
}

/* ------------------------------------------------------------ the data */

static void add_str(JsonBuilder *b, const char *name, const char *value) {
  json_builder_set_member_name(b, name);
  json_builder_add_string_value(b, value ? value : "");
}

static void add_int(JsonBuilder *b, const char *name, gint64 value) {
  json_builder_set_member_name(b, name);
  json_builder_add_int_value(b, value);
}

/* The first lines of BODY, each prefixed "> ", bounded in lines and bytes. */
static char *excerpt(const char *body) {
  GString *s = g_string_new(NULL);
  const char *p = body ? body : "";
  while (*p == '\n' || *p == '\r')
    p++;
  for (int n = 0; *p && n < EXCERPT_LINES && s->len < EXCERPT_BYTES; n++) {
    const char *nl = strchr(p, '\n');
    gsize len = nl ? (gsize)(nl - p) : strlen(p);
    gsize l = len;
    if (l && p[l - 1] == '\r')
      l--;
    if (l > 300) { /* cut a long line between characters */
      l = 300;
      while (l && ((guchar)p[l] & 0xc0) == 0x80)
        l--;
    }
    if (n)
      g_string_append_c(s, '\n');
    g_string_append(s, l ? "> " : ">");
    g_string_append_len(s, p, (gssize)l);
    p = nl ? nl + 1 : p + len;
  }
  while (g_str_has_suffix(s->str, "\n>"))
    g_string_truncate(s, s->len - 2);
  while (*p == '\n' || *p == '\r' || *p == ' ')
    p++;
  if (*p)
    g_string_append(s, "\n> ...");
  return g_string_free(s, FALSE);
}

static char *first_line(const char *s) {
  const char *nl = s ? strchr(s, '\n') : NULL;
  return nl ? g_strndup(s, nl - s) : g_strdup(s ? s : "");
}

JsonNode *tg_notify_data_new(const TgNotifyConfig *cfg, TgStore *store,
                             gint64 ticket_id, const TgMail *trigger,
                             GError **error) {
  sqlite3_stmt *st = tg_store_prepare(
      store,
      "SELECT subject, status, queue, priority, escalation_level, language, "
      "created_at, requester_name, requester_address FROM tickets WHERE id = ?",
      error, "i", ticket_id);
  if (!st)
    return NULL;
  int rc = tg_store_step(store, st, error);
  if (rc != SQLITE_ROW) {
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
      g_set_error(error, TG_STORE_ERROR, TG_STORE_ERROR_FAILED,
                  "no ticket %" G_GINT64_FORMAT, ticket_id);
    return NULL;
  }
  g_autoptr(JsonBuilder) d = json_builder_new();
  json_builder_begin_object(d);
  json_builder_set_member_name(d, "ticket");
  json_builder_begin_object(d);
  add_int(d, "id", ticket_id);
  g_autofree char *tref = tg_thread_ref(cfg->tag_prefix, ticket_id);
  add_str(d, "ref", tref);
  add_str(d, "tag", cfg->tag_prefix);
  add_str(d, "subject", tg_store_col_text(st, 0));
  add_str(d, "status", tg_store_col_text(st, 1));
  add_str(d, "queue", tg_store_col_text(st, 2));
  add_str(d, "priority", tg_store_col_text(st, 3));
  add_int(d, "escalation_level", sqlite3_column_int64(st, 4));
  add_str(d, "language", tg_store_col_text(st, 5));
  g_autofree char *created = format_time(sqlite3_column_int64(st, 6));
  add_str(d, "created", created);
  if (cfg->url_base && cfg->url_base[0]) {
    g_autofree char *base = g_strdup(cfg->url_base);
    while (base[0] && base[strlen(base) - 1] == '/')
      base[strlen(base) - 1] = '\0';
    g_autofree char *url = g_strdup_printf("%s/%" G_GINT64_FORMAT, base, ticket_id);
    add_str(d, "url", url);
  }
  json_builder_end_object(d);
  json_builder_set_member_name(d, "customer");
  json_builder_begin_object(d);
  add_str(d, "name", tg_store_col_text(st, 7));
  add_str(d, "address", tg_store_col_text(st, 8));
  json_builder_end_object(d);
  sqlite3_reset(st);

  /* message.*: the trigger, else the newest incoming message */
  g_autofree char *msubject = NULL, *mbody = NULL, *mfrom = NULL;
  gint64 mdate = 0;
  if (trigger) {
    msubject = g_strdup(trigger->subject);
    mbody = g_strdup(trigger->body);
    mdate = trigger->date ? trigger->date : tg_clock_now();
    mfrom = trigger->from->name[0]
                ? g_strdup_printf("%s <%s>", trigger->from->name, trigger->from->address)
                : g_strdup(trigger->from->address);
  } else {
    sqlite3_stmt *ms = tg_store_prepare(
        store,
        "SELECT subject, body, date, from_name, from_address FROM messages "
        "WHERE ticket_id = ? AND direction = 'in' ORDER BY id DESC LIMIT 1",
        error, "i", ticket_id);
    if (!ms)
      return NULL;
    rc = tg_store_step(store, ms, error);
    if (rc < 0)
      return NULL;
    if (rc == SQLITE_ROW) {
      msubject = g_strdup(tg_store_col_text(ms, 0));
      mbody = g_strdup(tg_store_col_text(ms, 1));
      mdate = sqlite3_column_int64(ms, 2);
      const char *n = tg_store_col_text(ms, 3);
      mfrom = n[0] ? g_strdup_printf("%s <%s>", n, tg_store_col_text(ms, 4))
                   : g_strdup(tg_store_col_text(ms, 4));
    }
    sqlite3_reset(ms);
  }
  json_builder_set_member_name(d, "message");
  json_builder_begin_object(d);
  add_str(d, "subject", msubject);
  add_str(d, "body", mbody);
  g_autofree char *ex = excerpt(mbody);
  add_str(d, "excerpt", ex);
  g_autofree char *mdate_s = mdate ? format_time(mdate) : g_strdup("");
  add_str(d, "date", mdate_s);
  add_str(d, "from", mfrom);
  json_builder_end_object(d);

  json_builder_set_member_name(d, "gateway");
  json_builder_begin_object(d);
  g_autofree char *name = first_line(cfg->from_name && cfg->from_name[0]
                                         ? cfg->from_name : cfg->signature);
  add_str(d, "name", name);
  add_str(d, "support_address", cfg->support_address);
  add_str(d, "signature", cfg->signature);
  json_builder_end_object(d);
  json_builder_end_object(d);
  return json_builder_get_root(d);
}

/* ------------------------------------------------------- compose/queue */

typedef struct {
  JsonNode *data;
  TemplateOutput *out;
  ComposeMailbox to;
  char *lang;
  char *reply_to;
  char *in_reply_to;
  GPtrArray *refs; /* char* "<id>", NULL-terminated when used */
  char *subject;
  char *from_name;
  GDateTime *date;
  ComposeMessage msg;
} Built;

static void built_clear(Built *b) {
  g_clear_pointer(&b->data, json_node_unref);
  g_clear_pointer(&b->out, template_output_free);
  g_clear_pointer(&b->lang, g_free);
  g_clear_pointer(&b->reply_to, g_free);
  g_clear_pointer(&b->in_reply_to, g_free);
  g_clear_pointer(&b->refs, g_ptr_array_unref);
  g_clear_pointer(&b->subject, g_free);
  g_clear_pointer(&b->from_name, g_free);
  g_clear_pointer(&b->date, g_date_time_unref);
}

static gboolean wants_iso2022jp(const TgNotifyConfig *cfg, const char *address) {
  const char *at = strrchr(address, '@');
  if (!at)
    return FALSE;
  const char *domain = at + 1;
  for (char *const *d = cfg->iso2022jp_domains; d && *d; d++) {
    if (!(*d)[0])
      continue;
    gsize dl = strlen(domain), l = strlen(*d);
    if (g_ascii_strcasecmp(domain, *d) == 0 ||
        (dl > l && domain[dl - l - 1] == '.' && g_ascii_strcasecmp(domain + dl - l, *d) == 0))
      return TRUE;
  }
  return FALSE;
}

/* The ticket's newest incoming Message-ID and language; both stay NULL
 * when there is no such ticket (a preview against sample data). */
static gboolean ticket_facts(TgStore *store, gint64 ticket, char **msgid_r,
                             char **lang_r, GError **error) {
  sqlite3_stmt *st = tg_store_prepare(
      store,
      "SELECT t.language, (SELECT message_id FROM messages WHERE ticket_id = t.id "
      "AND direction = 'in' ORDER BY id DESC LIMIT 1) FROM tickets t WHERE t.id = ?",
      error, "i", ticket);
  if (!st)
    return FALSE;
  int rc = tg_store_step(store, st, error);
  if (rc == SQLITE_ROW) {
    *lang_r = g_strdup(tg_store_col_text(st, 0));
    *msgid_r = g_strdup(tg_store_col_text(st, 1));
  }
  sqlite3_reset(st);
  return rc == SQLITE_ROW || rc == SQLITE_DONE;
}

/* Renders N and fills B->msg.  REFS: the References of the message
 * answered (bare ids, oldest first) or NULL. */
static gboolean build(const TgNotifyConfig *cfg, TgStore *store, const TgNotice *n,
                      const TgMail *trigger, gint64 now, Built *b, GError **error) {
  g_autofree char *last_in = NULL, *ticket_lang = NULL;
  if (!ticket_facts(store, n->ticket_id, &last_in, &ticket_lang, error))
    return FALSE;
  b->data = n->data ? json_node_ref(n->data)
                    : tg_notify_data_new(cfg, store, n->ticket_id, trigger, error);
  if (!b->data)
    return FALSE;
  b->lang = g_strdup(n->lang ? n->lang : ticket_lang ? ticket_lang : cfg->default_language);
  b->out = template_set_render(cfg->templates, n->template_name, b->lang, b->data, error);
  if (!b->out)
    return FALSE;
  /* The tag threads the customer's reply even without our headers. */
  g_autofree char *ref = tg_thread_ref(cfg->tag_prefix, n->ticket_id);
  b->subject = strstr(b->out->subject, ref) ? g_strdup(b->out->subject)
                                            : g_strdup_printf("%s %s", ref, b->out->subject);
  b->reply_to = n->reply_to ? g_strdup(n->reply_to)
                            : tg_thread_reply_address(cfg->support_address, n->ticket_id,
                                                      cfg->keys.secret);
  b->refs = g_ptr_array_new_with_free_func(g_free);
  if (n->in_reply_to) {
    b->in_reply_to = g_strdup(n->in_reply_to);
  } else if (trigger) {
    b->in_reply_to = bracket_id(trigger->message_id);
    /* RFC 5322 3.6.4: the parent's References, then the parent. */
    guint first = trigger->references->len > 20 ? trigger->references->len - 20 : 0;
    for (guint i = first; i < trigger->references->len; i++) {
      char *r = bracket_id(g_ptr_array_index(trigger->references, i));
      if (r)
        g_ptr_array_add(b->refs, r);
    }
  } else {
    b->in_reply_to = bracket_id(last_in);
  }
  if (b->in_reply_to)
    g_ptr_array_add(b->refs, g_strdup(b->in_reply_to));
  g_ptr_array_add(b->refs, NULL);
  b->to = (ComposeMailbox){.name = n->recipient_name, .address = n->recipient};
  b->date = g_date_time_new_from_unix_local(now);
  b->from_name = first_line(cfg->from_name && cfg->from_name[0] ? cfg->from_name
                                                                : cfg->signature);
  b->msg = (ComposeMessage){
      .from = {.name = b->from_name[0] ? b->from_name : NULL, .address = cfg->from_address},
      .reply_to = b->reply_to,
      .to = &b->to,
      .n_to = 1,
      .subject = b->subject,
      .text = b->out->text,
      .html = b->out->html,
      .in_reply_to = b->in_reply_to,
      .references = b->refs->len > 1 ? (const char *const *)b->refs->pdata : NULL,
      .auto_submitted = n->auto_submitted,
      .x_loop = cfg->support_address,
      .headers = b->out->headers,
      .n_headers = b->out->n_headers,
      .charset = wants_iso2022jp(cfg, n->recipient) ? COMPOSE_CHARSET_ISO2022JP
                                                    : COMPOSE_CHARSET_UTF8,
      .date = b->date,
  };
  return TRUE;
}

static gboolean queue_built(const TgNotifyConfig *cfg, TgStore *store,
                            const TgNotice *n, const TgMail *trigger, gint64 now,
                            gint64 *id_r, GError **error) {
  Built b = {0};
  gboolean ok = build(cfg, store, n, trigger, now, &b, error) &&
                tg_outbound_queue(store, &cfg->keys, n->ticket_id,
                                  n->kind ? n->kind : n->template_name,
                                  n->recipient, &b.msg, now, id_r, NULL, error);
  built_clear(&b);
  return ok;
}

gboolean tg_notify_queue(const TgNotifyConfig *cfg, TgStore *store,
                         const TgNotice *n, gint64 now, gint64 *outbound_id_r,
                         GError **error) {
  return queue_built(cfg, store, n, NULL, now, outbound_id_r, error);
}

static gboolean queue_audited(const TgNotifyConfig *cfg, TgStore *store,
                              const TgNotice *n, const TgMail *trigger, gint64 now,
                              const char *kind, GError **error) {
  gint64 id = 0;
  GError *qe = NULL;
  g_autofree char *detail = NULL;
  if (queue_built(cfg, store, n, trigger, now, &id, &qe)) {
    detail = g_strdup_printf("%s queued as notice %" G_GINT64_FORMAT " to %s",
                             n->template_name, id, n->recipient);
  } else if (qe->domain == TG_STORE_ERROR) {
    g_propagate_error(error, qe);
    return FALSE;
  } else {
    detail = g_strdup_printf("%s not sent: %s", n->template_name, qe->message);
    g_error_free(qe);
  }
  return tg_audit_add(store, n->ticket_id, now, "system", kind, detail, error);
}

gboolean tg_notify_queue_audited(const TgNotifyConfig *cfg, TgStore *store,
                                 const TgNotice *n, gint64 now, const char *kind,
                                 GError **error) {
  return queue_audited(cfg, store, n, NULL, now, kind, error);
}

GBytes *tg_notify_preview(const TgNotifyConfig *cfg, TgStore *store,
                          const TgNotice *n, const char *message_id,
                          GError **error) {
  Built b = {0};
  GBytes *bytes = NULL;
  if (build(cfg, store, n, NULL, tg_clock_now(), &b, error)) {
    b.msg.message_id = message_id;
    bytes = compose_message_to_bytes(&b.msg, FALSE, error);
  }
  built_clear(&b);
  return bytes;
}

/* ------------------------------------------------------------------ ack */

/* Why RFC 3834 forbids an automatic reply to M, or NULL.  (transfer full) */
static char *loop_reason(const TgIngestContext *ctx, const TgMail *m) {
  const TgNotifyConfig *cfg = ctx->notify;
  const char *env = m->envelope_sender;
  gboolean imap = m->origin && g_str_has_prefix(m->origin, "imap");
  const char *rp = tg_mail_header(m, "Return-Path");
  /* First: an import has no envelope either, and the audit log should
   * say why history got no ack, not blame a null sender. */
  if (m->origin && strcmp(m->origin, "import") == 0)
    return g_strdup("imported from an mbox");
  if ((!imap && (!env || !env[0] || strcmp(env, "<>") == 0)) ||
      (rp && strstr(rp, "<>")))
    return g_strdup("null envelope sender");
  const char *who[] = {env, m->from->address};
  for (gsize i = 0; i < G_N_ELEMENTS(who); i++)
    if (who[i] && g_ascii_strncasecmp(who[i], "mailer-daemon", 13) == 0 &&
        (who[i][13] == '@' || who[i][13] == '\0'))
      return g_strdup_printf("MAILER-DAEMON sender <%s>", who[i]);
  const char *as = tg_mail_header(m, "Auto-Submitted");
  if (as) {
    g_autofree char *v = g_strstrip(g_ascii_strdown(as, -1));
    char *semi = strchr(v, ';'); /* auto-submitted parameters */
    if (semi)
      *semi = '\0';
    g_strstrip(v);
    if (strcmp(v, "no") != 0)
      return g_strdup_printf("Auto-Submitted: %s", v);
  }
  const char *prec = tg_mail_header(m, "Precedence");
  if (prec) {
    g_autofree char *v = g_strstrip(g_ascii_strdown(prec, -1));
    if (strcmp(v, "bulk") == 0 || strcmp(v, "junk") == 0 || strcmp(v, "list") == 0)
      return g_strdup_printf("Precedence: %s", v);
  }
  if (tg_mail_header(m, "List-Id"))
    return g_strdup("List-Id present (mailing list)");
  for (guint i = 0; i < m->headers->len; i++) {
    TgHeader *h = g_ptr_array_index(m->headers, i);
    if (g_ascii_strcasecmp(h->name, "X-Loop") != 0)
      continue;
    g_autofree char *v = g_ascii_strdown(h->value, -1);
    gboolean ours = strstr(v, cfg->from_address) != NULL;
    for (char *const *a = cfg->support_addresses; !ours && a && *a; a++)
      ours = strstr(v, *a) != NULL;
    if (ours)
      return g_strdup_printf("our own X-Loop: %s", h->value);
  }
  const char *rq = requester_of(m);
  gboolean forged_verp = FALSE;
  if (!rq[0] || !strchr(rq, '@'))
    return g_strdup("no usable sender address");
  if (tg_thread_is_support_address(rq, cfg->support_addresses) ||
      g_ascii_strcasecmp(rq, cfg->from_address) == 0 ||
      tg_outbound_parse_verp(rq, cfg->keys.secret, &forged_verp) || forged_verp)
    return g_strdup_printf("sender <%s> is our own address", rq);
  return NULL;
}

gboolean tg_notify_ingested(const TgIngestContext *ctx, TgMail *m,
                            const TgIngestResult *r, gint64 now, GError **error) {
  const TgNotifyConfig *cfg = ctx->notify;
  if (!cfg || !cfg->templates ||
      (r->outcome != TG_INGEST_CREATED && r->outcome != TG_INGEST_APPENDED))
    return TRUE;
  /* A rule's `reply TEMPLATE` chooses the automatic replies (new tickets
   * and replies alike); without one, a new ticket gets the ack. */
  g_autoptr(GPtrArray) names = g_ptr_array_new();
  if (r->rules && r->rules->replies->len)
    for (guint i = 0; i < r->rules->replies->len; i++)
      g_ptr_array_add(names, g_ptr_array_index(r->rules->replies, i));
  else if (r->outcome == TG_INGEST_CREATED)
    g_ptr_array_add(names, (gpointer) "ack");
  if (names->len == 0)
    return TRUE;
  TgStore *s = ctx->store;
  gint64 ticket = r->ticket_id;
  const char *rq = requester_of(m);
  g_autofree char *why = r->rules && r->rules->noreply
                             ? g_strdup("a rule said noreply")
                             : loop_reason(ctx, m);
  if (!why && cfg->autoreply_count) {
    GError *e = NULL;
    gint64 sent = tg_store_query_int(
        s,
        "SELECT count(*) FROM outbound WHERE recipient = ? AND auto_submitted = 1 "
        "AND created_at > ?",
        0, &e, "si", rq, now - (gint64)cfg->autoreply_window);
    if (e) {
      g_propagate_error(error, e);
      return FALSE;
    }
    if (sent >= cfg->autoreply_count)
      why = g_strdup_printf("rate limit: %" G_GINT64_FORMAT " automatic replies to "
                            "%s in the last %u s (limit %u)",
                            sent, rq, cfg->autoreply_window, cfg->autoreply_count);
  }
  for (guint i = 0; i < names->len; i++) {
    const char *name = g_ptr_array_index(names, i);
    if (why) {
      g_autofree char *detail = g_strdup_printf("%s suppressed: %s", name, why);
      if (!tg_audit_add(s, ticket, now, "system", "autoreply", detail, error))
        return FALSE;
      continue;
    }
    TgNotice n = {
        .ticket_id = ticket,
        .template_name = name,
        .kind = name,
        .recipient = rq,
        .recipient_name = m->from->address[0] ? m->from->name : NULL,
        .auto_submitted = TRUE,
    };
    if (!queue_audited(cfg, s, &n, m, now, "autoreply", error))
      return FALSE;
  }
  return TRUE;
}
