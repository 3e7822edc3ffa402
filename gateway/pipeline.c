/* pipeline.c - spool entry to ticket (contract in pipeline.h).
 *
 * DIAGNOSTICS: one log line per entry with queue id, ticket id and
 * outcome; quarantine and failures say why.
 */
#include "gateway/pipeline.h"
#include "gateway/log.h"
#include "gateway/mail_parse.h"
#include "gateway/metrics.h"
#include "tickets/classify.h"
#include "filters/rules_examples.h"

#include "gateway/notify_config.h"
#include "gateway/escalate_config.h"

#include "gateway/safety.h"
#include "spool/journal.h"
#include "gateway/test_hooks.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

struct TgPipeline {
  const TgConfig *cfg;
  TgSpool *spool;
  TgStore *store;
  GBytes *secret;
  GPtrArray *staff_addresses; /* char*, NULL-terminated */
  TgParseLimits limits;
  TgIngestContext ictx;
  TgRuleset *ruleset;

  TgNotifyConfig *notify; /* acks, bounces, flood (notify_config.h) */
  TgEscalateConfig *escalation; /* SLA, staff mail (escalate_config.h) */
};

TgRuleset *tg_pipeline_load_rules(const TgConfig *cfg, GPtrArray **diags_r,
                                  GError **error) {
  g_autoptr(GPtrArray) diags = NULL;
  TgRuleset *rs = cfg->rules_dir[0]
                      ? tg_ruleset_load_dir(cfg->rules_dir, NULL, &diags, error)
                      : tg_ruleset_load_sources(tg_rules_examples,
                                                tg_rules_examples_count, NULL,
                                                &diags, error);
  if (diags_r) {
    *diags_r = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; diags && i < diags->len; i++)
      g_ptr_array_add(*diags_r, tg_rule_diag_format(g_ptr_array_index(diags, i)));
  }
  return rs;
}

TgRuleset *tg_pipeline_ruleset(TgPipeline *p) { return p->ruleset; }

TgPipeline *tg_pipeline_open(const TgConfig *cfg, GError **error) {
  g_autoptr(TgPipeline) p = g_new0(TgPipeline, 1);
  p->cfg = cfg;
  if (g_mkdir_with_parents(cfg->data_dir, 0700) != 0) {
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "mkdir(%s) failed: %s",
                cfg->data_dir, g_strerror(errno));
    return NULL;
  }
  if (!tg_safety_check_ok(cfg, error))
    return NULL;
  if (!(p->spool = tg_spool_open(cfg->spool_dir, error)))
    return NULL;
  tg_spool_set_max_message(p->spool, cfg->message_size);
  tg_spool_set_min_free(p->spool, cfg->spool_min_free);
  if (!(p->secret = tg_config_secret(cfg, error)))
    return NULL;
  if (!(p->store = tg_store_open(cfg->db_path, cfg->busy_timeout_ms, error)))
    return NULL;
  g_autoptr(GPtrArray) diags = NULL;
  if (!(p->ruleset = tg_pipeline_load_rules(cfg, &diags, error))) {
    for (guint i = 0; diags && i < diags->len; i++)
      tg_err("%s", (char *)g_ptr_array_index(diags, i));
    return NULL;
  }
  p->staff_addresses = g_ptr_array_new();
  for (guint i = 0; i < cfg->staff->len; i++)
    g_ptr_array_add(p->staff_addresses,
                    ((TgStaff *)g_ptr_array_index(cfg->staff, i))->address);
  g_ptr_array_add(p->staff_addresses, NULL);
  p->limits = (TgParseLimits){.mime_depth = cfg->mime_depth,
                              .mime_parts = cfg->mime_parts,
                              .header_count = cfg->header_count};
  p->ictx = (TgIngestContext){
      .store = p->store,
      .secret = p->secret,
      .tag_prefix = cfg->tag_prefix,
      .support_addresses = cfg->addresses,
      .staff_addresses = (char *const *)p->staff_addresses->pdata,
      .default_language = cfg->default_language,
      .ruleset = p->ruleset,
  };
  if (!(p->notify = tg_notify_config_new(cfg, p->secret, error)))
    return NULL;
  p->ictx.notify = p->notify;
  g_autoptr(GPtrArray) perrors = NULL;
  if (!(p->escalation = tg_escalate_config_new(cfg, p->notify, p->secret, &perrors))) {
    for (guint i = 0; perrors && i < perrors->len; i++)
      tg_err("%s", (char *)g_ptr_array_index(perrors, i));
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                "escalation policies %s do not load", cfg->escalation_policies);
    return NULL;
  }
  p->ictx.escalation = p->escalation;
  return g_steal_pointer(&p);
}

void tg_pipeline_free(TgPipeline *p) {
  if (!p)
    return;
  tg_escalate_config_free(p->escalation);
  tg_notify_config_free(p->notify);
  tg_store_free(p->store);
  tg_spool_free(p->spool);
  if (p->ruleset)
    tg_ruleset_unref(p->ruleset);
  if (p->secret)
    g_bytes_unref(p->secret);
  if (p->staff_addresses)
    g_ptr_array_unref(p->staff_addresses);
  g_free(p);
}

TgSpool *tg_pipeline_spool(TgPipeline *p) { return p->spool; }
TgStore *tg_pipeline_store(TgPipeline *p) { return p->store; }
GBytes *tg_pipeline_secret(TgPipeline *p) { return p->secret; }
const TgNotifyConfig *tg_pipeline_notify(TgPipeline *p) { return p->notify; }
const TgEscalateConfig *tg_pipeline_escalation(TgPipeline *p) { return p->escalation; }

void tg_pipe_result_clear(TgPipeResult *r) {
  g_clear_pointer(&r->reason, g_free);
  tg_ingest_result_clear(&r->ingest);
}

static gboolean quarantine(TgPipeline *p, TgSpoolEntry *e, TgPipeResult *r,
                           const char *code, const char *text, GError **error) {
  if (!tg_spool_quarantine(p->spool, e, code, text, error)) {
    tg_err("queue=%s quarantine (%s) failed: %s", e->id, code,
           (*error)->message);
    return FALSE;
  }
  tg_warn("queue=%s from=<%s> quarantined: %s %s", e->id, e->sender, code, text);
  r->outcome = TG_PIPE_QUARANTINED;
  r->reason = g_strdup(code);
  return TRUE;
}

static TgMail *parse_entry(TgPipeline *p, TgSpoolEntry *e, gboolean spooled,
                           char **reason_r, GError **error) {
  TgMail *mail = tg_mail_parse(e->message, &p->limits, reason_r, error);
  if (!mail)
    return NULL;
  /* The spool id makes a replay a no-op; an entry that never was in the
   * spool cannot be replayed, and its made-up id only names it in logs. */
  mail->spool_id = spooled ? g_strdup(e->id) : NULL;
  mail->envelope_sender = g_ascii_strdown(e->sender, -1);
  for (guint i = 0; i < e->recipients->len; i++)
    g_ptr_array_add(mail->envelope_recipients,
                    g_ascii_strdown(g_ptr_array_index(e->recipients, i), -1));
  mail->origin = g_strdup(e->origin);
  mail->arrival = e->arrival;
  return mail;
}

static void log_ticketed(TgSpoolEntry *e, TgMail *mail, TgPipeResult *r) {
  if (r->ingest.message_id_reused && (r->ingest.outcome == TG_INGEST_CREATED ||
                                      r->ingest.outcome == TG_INGEST_APPENDED))
    tg_warn("queue=%s ticket=%" G_GINT64_FORMAT " message-id=<%s> already names a "
            "different message: stored as a message of its own",
            e->id, r->ingest.ticket_id, mail->message_id);
  tg_info("queue=%s ticket=%" G_GINT64_FORMAT " from=<%s> message-id=<%s> %s%s%s",
          e->id, r->ingest.ticket_id, mail->from->address,
          mail->message_id ? mail->message_id : "",
          tg_ingest_outcome_name(r->ingest.outcome),
          r->ingest.threaded_by ? " by " : "",
          r->ingest.threaded_by ? r->ingest.threaded_by : "");
  for (guint i = 0; i < mail->warnings->len; i++)
    tg_debug("queue=%s ticket=%" G_GINT64_FORMAT " parse warning: %s", e->id,
             r->ingest.ticket_id, (char *)g_ptr_array_index(mail->warnings, i));
}

/* A batch between its two phases.  Parsing needs nothing but the limits,
 * so another thread may parse the next batch while this one is stored. */
struct TgPipeBatch {
  TgSpoolEntry **entries; /* borrowed */
  guint n;
  gboolean spooled;
  GPtrArray *mails;   /* TgMail*, NULL where parsing failed */
  GPtrArray *reasons; /* char*: quarantine reason code from parsing, or NULL */
  GPtrArray *errors;  /* char*: why it goes to the quarantine, or NULL */
};

void tg_pipe_batch_free(TgPipeBatch *b) {
  if (!b)
    return;
  g_ptr_array_unref(b->mails);
  g_ptr_array_unref(b->reasons);
  g_ptr_array_unref(b->errors);
  g_free(b);
}

static TgPipeBatch *parse_batch(TgPipeline *p, TgSpoolEntry **entries, guint n,
                                gboolean spooled, gboolean ahead) {
  TgPipeBatch *b = g_new0(TgPipeBatch, 1);
  b->entries = entries;
  b->n = n;
  b->spooled = spooled;
  b->mails = g_ptr_array_new_full(n, (GDestroyNotify)tg_mail_free);
  b->reasons = g_ptr_array_new_full(n, g_free);
  b->errors = g_ptr_array_new_full(n, g_free);
  for (guint i = 0; i < n; i++) {
    g_autoptr(GError) perr = NULL;
    char *reason = NULL;
    TgMail *mail = parse_entry(p, entries[i], spooled, &reason, &perr);
    if (mail && ahead) {
      /* Work the store's transaction would do, done on this thread: the
       * language of a new ticket, and the biggest part of the rules
       * (they run in the transaction: they need to know whether the
       * message is a reply). */
      mail->language = tg_ingest_language(mail, p->ictx.default_language);
      if (p->ruleset) {
        g_autoptr(TgClassifyInput) ci = tg_classify_input_new(mail, FALSE, FALSE);
        mail->rule_prefilter = tg_rule_prefilter_bits_new(tg_classify_input_get(ci));
      }
    }
    g_ptr_array_add(b->mails, mail);
    g_ptr_array_add(b->reasons, mail ? NULL : reason);
    g_ptr_array_add(b->errors, mail ? NULL : g_strdup(perr->message));
    if (mail)
      g_free(reason);
  }
  return b;
}

TgPipeBatch *tg_pipeline_parse_batch(TgPipeline *p, TgSpoolEntry **entries,
                                     guint n, gboolean spooled) {
  return parse_batch(p, entries, n, spooled, TRUE);
}

/* A journaled entry (serve) goes into the quarantine under its own id,
 * so that a replay of its journal finds it there and leaves it. */
static gboolean write_out_locked(TgPipeline *p, TgSpoolEntry *mem, int *fd_r,
                                 GError **error) {
  gboolean written;
  if (!tg_spool_restore(p->spool, mem, TG_SPOOL_COMMIT_SYNC, &written, fd_r, error))
    return FALSE;
  if (written)
    return TRUE;
  /* Written out before (a replay): queue/ or quarantine/ has it. */
  g_autoptr(TgSpoolEntry) e = tg_spool_read(p->spool, TG_SPOOL_QUEUE, mem->id, TRUE, error);
  if (!e)
    return FALSE;
  *fd_r = e->lock_fd;
  e->lock_fd = -1;
  return TRUE;
}

/* An entry that lives in memory goes into the quarantine as a spool
 * entry, synced like any other: a journaled one (serve) under its own id,
 * one that only ever lived in memory (import) as a new entry. */
static gboolean quarantine_copy(TgPipeline *p, TgSpoolEntry *mem, TgPipeResult *r,
                                const char *code, const char *text, GError **error) {
  if (mem->raw) {
    int fd = -1;
    g_autoptr(GError) werr = NULL;
    if (!write_out_locked(p, mem, &fd, &werr)) {
      if (g_error_matches(werr, TG_SPOOL_ERROR, TG_SPOOL_ERROR_NOT_FOUND))
        return TRUE; /* quarantined by the run that wrote it out */
      tg_err("queue=%s quarantine (%s) failed: %s", mem->id, code, werr->message);
      g_propagate_error(error, g_steal_pointer(&werr));
      return FALSE;
    }
    g_autoptr(TgSpoolEntry) e = tg_spool_read_locked(p->spool, mem->id, fd, error);
    if (e && quarantine(p, e, r, code, text, error))
      return TRUE;
    if (!e)
      close(fd);
    return FALSE; /* the worker writes it out to queue/ for a retry */
  }
  gsize len;
  const char *data = g_bytes_get_data(mem->message, &len);
  g_autofree const char **rcpts = g_new0(const char *, mem->recipients->len + 1);
  for (guint i = 0; i < mem->recipients->len; i++)
    rcpts[i] = g_ptr_array_index(mem->recipients, i);
  /* Locked from the moment it is in queue/: a `spool retry` or `serve`
   * draining the queue meanwhile must not take it. */
  TgSpoolWriter *w = tg_spool_writer_new(p->spool, mem->sender, rcpts, mem->origin, error);
  g_autofree char *id = NULL;
  int fd = -1;
  if (w && !tg_spool_writer_write(w, data, len, error)) {
    tg_spool_writer_abort(w);
    w = NULL;
  }
  if (!w || !tg_spool_writer_commit(w, TG_SPOOL_COMMIT_SYNC, &id, &fd, error)) {
    tg_err("queue=%s quarantine (%s) failed: %s", mem->id, code, (*error)->message);
    return FALSE;
  }
  g_autoptr(TgSpoolEntry) e = tg_spool_read_locked(p->spool, id, fd, error);
  if (e && quarantine(p, e, r, code, text, error))
    return TRUE;
  /* The mbox still has it, and the next run quarantines it again: a copy
   * left in queue/ would be a second one. */
  tg_spool_discard(p->spool, id);
  if (!e)
    close(fd);
  return FALSE;
}

gboolean tg_pipeline_store_batch(TgPipeline *p, TgPipeBatch *b,
                                 TgPipeResult *results, GError **error) {
  TgSpoolEntry **entries = b->entries;
  guint n = b->n;
  GPtrArray *mails = b->mails, *store_errors = b->errors;
  memset(results, 0, n * sizeof *results);
  for (guint i = 0; i < n; i++)
    if (!g_ptr_array_index(mails, i)) {
      results[i].reason = g_strdup(g_ptr_array_index(b->reasons, i));
      results[i].outcome = TG_PIPE_QUARANTINED;
    }
  tg_test_hooks_pause("after-parse");
  if (!tg_store_begin(p->store, error)) {
    tg_warn("queue=%s deferred: %s", entries[0]->id, (*error)->message);
    for (guint i = 0; i < n; i++)
      tg_pipe_result_clear(&results[i]);
    return FALSE;
  }
  for (guint i = 0; i < n; i++) {
    TgMail *mail = g_ptr_array_index(mails, i);
    if (!mail)
      continue;
    g_autoptr(GError) serr = NULL;
    if (tg_ingest_in_tx(&p->ictx, mail, &results[i].ingest, &serr)) {
      TgRuleResult *rules = results[i].ingest.rules;
      for (guint k = 0; rules && k < rules->warnings->len; k++) {
        g_autofree char *w = tg_rule_diag_format(g_ptr_array_index(rules->warnings, k));
        tg_warn("queue=%s rule skipped: %s", entries[i]->id, w);
      }
      if (results[i].ingest.outcome == TG_INGEST_QUARANTINE) {
        results[i].outcome = TG_PIPE_QUARANTINED;
        results[i].reason = g_strdup("rule");
        g_free(g_ptr_array_index(store_errors, i));
        g_ptr_array_index(store_errors, i) = g_strdup(rules->quarantine_reason);
        continue;
      }
      results[i].outcome = TG_PIPE_TICKETED;
      continue;
    }
    if (g_error_matches(serr, TG_STORE_ERROR, TG_STORE_ERROR_TEMP)) {
      tg_store_rollback(p->store);
      tg_warn("queue=%s deferred: %s", entries[i]->id, serr->message);
      g_propagate_error(error, g_steal_pointer(&serr));
      for (guint j = 0; j < n; j++)
        tg_pipe_result_clear(&results[j]);
      return FALSE;
    }
    results[i].outcome = TG_PIPE_QUARANTINED;
    if (g_error_matches(serr, TG_NOTIFY_ERROR, TG_NOTIFY_ERROR_FLOOD)) {
      results[i].reason = g_strdup("flood");
    } else {
      tg_err("queue=%s store failed: %s", entries[i]->id, serr->message);
      results[i].reason = g_strdup("store-error");
    }
    g_free(g_ptr_array_index(store_errors, i));
    g_ptr_array_index(store_errors, i) = g_strdup(serr->message);
  }
  if (!tg_store_commit(p->store, error)) {
    tg_warn("queue=%s deferred: %s", entries[0]->id, (*error)->message);
    for (guint j = 0; j < n; j++)
      tg_pipe_result_clear(&results[j]);
    return FALSE;
  }
  tg_metrics_observe_ms("ticketgate_sqlite_commit_ms",
                        (double)tg_store_last_commit_us(p->store) / 1000.0);
  /* Committed: now the spool entries may go.  A crash here only leaves
   * entries whose replay is a no-op (their spool ids are stored). */
  tg_test_hooks_pause("after-commit");
  gboolean ok = TRUE;
  for (guint i = 0; i < n; i++) {
    g_autoptr(GError) ferr = NULL;
    if (results[i].outcome == TG_PIPE_QUARANTINED) {
      TgPipeResult dummy = {0};
      const char *text = g_ptr_array_index(store_errors, i);
      if (!(b->spooled && !entries[i]->raw
                ? quarantine(p, entries[i], &dummy, results[i].reason, text, &ferr)
                : quarantine_copy(p, entries[i], &dummy, results[i].reason, text, &ferr)))
        ok = FALSE;
      tg_pipe_result_clear(&dummy);
      continue;
    }
    /* A journaled entry is the worker's to release from the journal. */
    if (b->spooled && !entries[i]->raw && !tg_spool_retire(p->spool, entries[i], &ferr)) {
      tg_err("queue=%s retire failed: %s", entries[i]->id, ferr->message);
      continue;
    }
    log_ticketed(entries[i], g_ptr_array_index(mails, i), &results[i]);
  }
  if (!ok)
    g_set_error(error, TG_SPOOL_ERROR, TG_SPOOL_ERROR_TEMP,
                "moving an entry into the quarantine failed");
  return ok;
}

gboolean tg_pipeline_process_batch(TgPipeline *p, TgSpoolEntry **entries,
                                   guint n, TgPipeResult *results,
                                   GError **error) {
  /* Parse outside the transaction: it is the slow part and needs no lock. */
  g_autoptr(TgPipeBatch) b = parse_batch(p, entries, n, TRUE, FALSE);
  return tg_pipeline_store_batch(p, b, results, error);
}

gboolean tg_pipeline_process(TgPipeline *p, TgSpoolEntry *e, TgPipeResult *r,
                             GError **error) {
  return tg_pipeline_process_batch(p, &e, 1, r, error);
}

gboolean tg_pipeline_process_id(TgPipeline *p, const char *id, TgPipeResult *r,
                                GError **error) {
  memset(r, 0, sizeof *r);
  g_autoptr(GError) rerr = NULL;
  g_autoptr(TgSpoolEntry) e = tg_spool_read(p->spool, TG_SPOOL_QUEUE, id, TRUE, &rerr);
  if (!e) {
    if (g_error_matches(rerr, TG_SPOOL_ERROR, TG_SPOOL_ERROR_LOCKED) ||
        g_error_matches(rerr, TG_SPOOL_ERROR, TG_SPOOL_ERROR_NOT_FOUND)) {
      r->outcome = TG_PIPE_BUSY;
      return TRUE;
    }
    if (g_error_matches(rerr, TG_SPOOL_ERROR, TG_SPOOL_ERROR_CORRUPT)) {
      /* Torn: a power loss after an unsynced `deliver` commit (that
       * message was never acknowledged: the MTA still has it), or a file
       * written by something else.  Keep the bytes for the operator. */
      TgSpoolEntry stub = {.id = (char *)id, .sender = (char *)"", .lock_fd = -1};
      return quarantine(p, &stub, r, "corrupt", rerr->message, error);
    }
    g_propagate_error(error, g_steal_pointer(&rerr));
    return FALSE;
  }
  return tg_pipeline_process(p, e, r, error);
}

gboolean tg_pipeline_recover_spool(TgSpool *spool) {
  guint purged = tg_spool_recover(spool);
  if (purged)
    tg_info("purged %u unfinished spool writes", purged);
  TgJournalRecovery r;
  g_autoptr(GError) err = NULL;
  gboolean ok = tg_journal_recover(spool, &r, &err);
  if (r.restored)
    tg_info("recovered %u spool entries from the journal", r.restored);
  if (r.dropped_bytes)
    tg_info("spool journal: %" G_GUINT64_FORMAT " bytes after the last whole record "
            "were dropped (an append cut short by the crash: never acknowledged)",
            r.dropped_bytes);
  if (!ok)
    tg_err("spool journal: %u segment(s) not recovered, kept for the next attempt: %s",
           r.failed, err->message);
  return ok;
}

guint tg_pipeline_drain(TgPipeline *p, guint *failed_r) {
  guint done = 0, failed = 0;
  g_autoptr(GError) err = NULL;
  g_autoptr(GPtrArray) ids = tg_spool_list(p->spool, TG_SPOOL_QUEUE, &err);
  if (!ids) {
    tg_err("spool list failed: %s", err->message);
    if (failed_r)
      *failed_r = 1;
    return 0;
  }
  for (guint i = 0; i < ids->len; i++) {
    TgPipeResult r;
    g_autoptr(GError) perr = NULL;
    if (!tg_pipeline_process_id(p, g_ptr_array_index(ids, i), &r, &perr)) {
      failed++;
      tg_warn("queue=%s left in the spool: %s", (char *)g_ptr_array_index(ids, i),
              perr->message);
    } else if (r.outcome != TG_PIPE_BUSY) {
      done++;
    }
    tg_pipe_result_clear(&r);
  }
  if (failed_r)
    *failed_r = failed;
  return done;
}
