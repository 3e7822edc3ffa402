/* imap_poll.c - one pass over an account's folders (contract in imap_poll.h).
 *
 * DIAGNOSTICS: one info line per folder pass that found mail
 * ("imap=NAME folder=F spooled=N"), a warning per skipped message, and a
 * warning when UIDVALIDITY changed.
 *
 * SECURITY: message bytes from the server go into the spool unparsed; the
 * only parsing here is a bounded scan of the header block for the
 * envelope sender (Return-Path, else From).
 */
#include "gateway/imap_poll.h"
#include "gateway/log.h"
#include "tickets/imap_state.h"

#include <gmime/gmime.h>
#include <string.h>

typedef struct {
  guint32 uid;
  guint32 size;
} UidSize;

static gboolean account_fail(TgImapConn *c, TgImapErrorCode code, GError **error,
                             const char *fmt, ...) G_GNUC_PRINTF(4, 5);
static gboolean account_fail(TgImapConn *c, TgImapErrorCode code, GError **error,
                             const char *fmt, ...) {
  const TgImapAccount *a = tg_imap_conn_account(c);
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *msg = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  g_set_error(error, TG_IMAP_ERROR, code, "imap account '%s' (%s@%s:%u): %s",
              a->name, a->user, a->host, a->port, msg);
  return FALSE;
}

/* ---- envelope sender from the header block ---- */

/* Value of header NAME (unfolded), or NULL; looks at most 64 KiB. */
static char *header_value(const char *data, gsize len, const char *name) {
  gsize nlen = strlen(name);
  gsize limit = MIN(len, 65536);
  const char *p = data, *end = data + limit;
  while (p < end) {
    const char *eol = memchr(p, '\n', (gsize)(end - p));
    const char *line_end = eol ? eol : end;
    if (line_end == p || (line_end == p + 1 && *p == '\r'))
      return NULL; /* end of header */
    if ((gsize)(line_end - p) > nlen && p[nlen] == ':' &&
        g_ascii_strncasecmp(p, name, nlen) == 0) {
      GString *v = g_string_new_len(p + nlen + 1, line_end - p - (gssize)nlen - 1);
      const char *q = eol ? eol + 1 : end;
      while (q < end && (*q == ' ' || *q == '\t')) {
        const char *e2 = memchr(q, '\n', (gsize)(end - q));
        const char *le = e2 ? e2 : end;
        g_string_append_len(v, q, le - q);
        q = e2 ? e2 + 1 : end;
      }
      for (gsize i = 0; i < v->len; i++)
        if (v->str[i] == '\r' || v->str[i] == '\n')
          v->str[i] = ' ';
      return g_strstrip(g_string_free(v, FALSE));
    }
    p = eol ? eol + 1 : end;
  }
  return NULL;
}

static char *envelope_sender(const char *data, gsize len) {
  g_autofree char *rp = header_value(data, len, "Return-Path");
  if (rp) {
    char *lt = strchr(rp, '<'), *gt = lt ? strchr(lt, '>') : NULL;
    if (lt && gt)
      return g_strndup(lt + 1, (gsize)(gt - lt - 1));
  }
  g_autofree char *from = header_value(data, len, "From");
  if (!from)
    return g_strdup("");
  InternetAddressList *list = internet_address_list_parse(NULL, from);
  char *addr = NULL;
  if (list) {
    for (int i = 0; i < internet_address_list_length(list) && !addr; i++) {
      InternetAddress *ia = internet_address_list_get_address(list, i);
      if (INTERNET_ADDRESS_IS_MAILBOX(ia))
        addr = g_strdup(internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia)));
    }
    g_object_unref(list);
  }
  return addr ? addr : g_strdup("");
}

/* ---- IMAP helpers ---- */

static struct mailimap_set *set_of(const UidSize *v, guint n) {
  struct mailimap_set *set = mailimap_set_new_empty();
  for (guint i = 0; i < n;) {
    guint j = i;
    while (j + 1 < n && v[j + 1].uid == v[j].uid + 1)
      j++;
    mailimap_set_add_interval(set, v[i].uid, v[j].uid);
    i = j + 1;
  }
  return set;
}

static struct mailimap_msg_att_static *att_static(struct mailimap_msg_att *m, int type) {
  for (clistiter *it = clist_begin(m->att_list); it; it = clist_next(it)) {
    struct mailimap_msg_att_item *item = clist_content(it);
    if (item->att_type == MAILIMAP_MSG_ATT_ITEM_STATIC &&
        item->att_data.att_static->att_type == type)
      return item->att_data.att_static;
  }
  return NULL;
}

static guint32 msg_uid(struct mailimap_msg_att *m) {
  struct mailimap_msg_att_static *s = att_static(m, MAILIMAP_MSG_ATT_UID);
  return s ? s->att_data.att_uid : 0;
}

static gboolean store_flag(TgImapConn *c, struct mailimap_set *set,
                           struct mailimap_flag *flag, GError **error) {
  struct mailimap_flag_list *fl = mailimap_flag_list_new_empty();
  mailimap_flag_list_add(fl, flag);
  struct mailimap_store_att_flags *sa = mailimap_store_att_flags_new_add_flags_silent(fl);
  int rc = mailimap_uid_store(tg_imap_conn_session(c), set, sa);
  mailimap_store_att_flags_free(sa);
  if (rc != MAILIMAP_NO_ERROR)
    return tg_imap_conn_fail(c, rc, "UID STORE", error);
  return TRUE;
}

static gboolean expunge(TgImapConn *c, struct mailimap_set *set, GError **error) {
  mailimap *s = tg_imap_conn_session(c);
  /* Without UIDPLUS, EXPUNGE also removes what others marked \Deleted. */
  int rc = tg_imap_conn_has_cap_ok(c, "UIDPLUS") ? mailimap_uid_expunge(s, set)
                                                : mailimap_expunge(s);
  if (rc != MAILIMAP_NO_ERROR)
    return tg_imap_conn_fail(c, rc, "EXPUNGE", error);
  return TRUE;
}

static gboolean move_to(TgImapConn *c, struct mailimap_set *set, const char *dest,
                        GError **error) {
  mailimap *s = tg_imap_conn_session(c);
  gboolean has_move = tg_imap_conn_has_cap_ok(c, "MOVE");
  for (int attempt = 0; attempt < 2; attempt++) {
    int rc = has_move ? mailimap_uid_move(s, set, dest) : mailimap_uid_copy(s, set, dest);
    if (rc == MAILIMAP_NO_ERROR)
      break;
    if (attempt == 0 && (rc == MAILIMAP_ERROR_UID_MOVE || rc == MAILIMAP_ERROR_UID_COPY)) {
      /* Most likely [TRYCREATE]: make the folder once and try again. */
      tg_info("imap=%s creating folder %s", tg_imap_conn_account(c)->name, dest);
      mailimap_create(s, dest);
      continue;
    }
    return tg_imap_conn_fail(c, rc, has_move ? "UID MOVE" : "UID COPY", error);
  }
  if (has_move)
    return TRUE;
  return store_flag(c, set, mailimap_flag_new_deleted(), error) &&
         expunge(c, set, error);
}

static gboolean after_action(TgImapConn *c, struct mailimap_set *set, GError **error) {
  const char *after = tg_imap_conn_account(c)->after;
  if (strcmp(after, "seen") == 0)
    return store_flag(c, set, mailimap_flag_new_seen(), error);
  if (strcmp(after, "delete") == 0)
    return store_flag(c, set, mailimap_flag_new_deleted(), error) &&
           expunge(c, set, error);
  if (g_str_has_prefix(after, "move:"))
    return move_to(c, set, after + 5, error);
  g_error("imap: after = '%s' passed config validation", after);
}

static gboolean save_state(TgImapPoll *p, TgImapConn *c, const char *folder,
                           guint32 uidvalidity, guint32 last_uid, GError **error) {
  g_autoptr(GError) err = NULL;
  if (tg_imap_state_set(p->store, tg_imap_conn_account(c)->name, folder,
                        uidvalidity, last_uid, &err))
    return TRUE;
  return account_fail(c, TG_IMAP_ERROR_SPOOL, error, "folder %s: saving state: %s",
                      folder, err->message);
}

/* ---- one group: fetch bodies, spool, act, record ---- */

static gboolean spool_message(TgImapPoll *p, const TgImapAccount *a, guint32 uid,
                              const char *data, gsize len, GPtrArray *ids,
                              guint *skipped, GError **error) {
  g_autofree char *sender = envelope_sender(data, len);
  g_autofree char *origin = g_strdup_printf("imap %s", a->name);
  const char *rcpts[] = {a->recipient, NULL};
  TgSpoolWriter *w = tg_spool_writer_new(p->spool, sender, rcpts, origin, error);
  if (!w)
    return FALSE;
  if (!tg_spool_writer_write(w, data, len, error)) {
    tg_spool_writer_abort(w);
    return FALSE;
  }
  g_autoptr(GError) err = NULL;
  char *id = NULL;
  if (!tg_spool_writer_commit(w, TG_SPOOL_COMMIT_DEFER, &id, NULL, &err)) {
    if (g_error_matches(err, TG_SPOOL_ERROR, TG_SPOOL_ERROR_TOO_BIG)) {
      tg_warn("imap=%s uid=%u left on the server: %s", a->name, uid, err->message);
      (*skipped)++;
      return TRUE;
    }
    g_propagate_error(error, g_steal_pointer(&err));
    return FALSE;
  }
  g_ptr_array_add(ids, id);
  return TRUE;
}

static gboolean poll_group(TgImapPoll *p, TgImapConn *c, const char *folder,
                           guint32 uidvalidity, const UidSize *v, guint n,
                           TgImapPollStats *stats, gboolean *complete_r,
                           GError **error) {
  const TgImapAccount *a = tg_imap_conn_account(c);
  mailimap *s = tg_imap_conn_session(c);
  struct mailimap_set *set = set_of(v, n);
  struct mailimap_fetch_type *ft = mailimap_fetch_type_new_fetch_att_list_empty();
  mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_uid());
  mailimap_fetch_type_new_fetch_att_list_add(
      ft, mailimap_fetch_att_new_body_peek_section(mailimap_section_new(NULL)));
  clist *result = NULL;
  int rc = mailimap_uid_fetch(s, set, ft, &result);
  mailimap_fetch_type_free(ft);
  if (rc != MAILIMAP_NO_ERROR) {
    mailimap_set_free(set);
    return tg_imap_conn_fail(c, rc, "UID FETCH BODY.PEEK[]", error);
  }
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GArray) spooled = g_array_new(FALSE, FALSE, sizeof(UidSize));
  g_autoptr(GHashTable) answered = g_hash_table_new(g_direct_hash, g_direct_equal);
  g_autoptr(GError) serr = NULL;
  gboolean ok = TRUE;
  guint skipped = 0;
  for (clistiter *it = clist_begin(result); it && ok; it = clist_next(it)) {
    struct mailimap_msg_att *m = clist_content(it);
    guint32 uid = msg_uid(m);
    if (uid < v[0].uid || uid > v[n - 1].uid)
      continue; /* an unsolicited FETCH (flag change) */
    struct mailimap_msg_att_static *b = att_static(m, MAILIMAP_MSG_ATT_BODY_SECTION);
    if (!b || !b->att_data.att_body_section->sec_body_part)
      continue;
    guint before = ids->len;
    ok = spool_message(p, a, uid, b->att_data.att_body_section->sec_body_part,
                       b->att_data.att_body_section->sec_length, ids, &skipped,
                       &serr);
    g_hash_table_add(answered, GUINT_TO_POINTER(uid));
    if (ok && ids->len > before) {
      UidSize u = {uid, 0};
      g_array_append_val(spooled, u);
    }
  }
  mailimap_fetch_list_free(result);
  mailimap_set_free(set);
  /* A UID the server sent no body for is neither acted on nor passed:
   * the stored UID stops just below it and the next pass asks again. */
  guint32 done_uid = v[n - 1].uid;
  for (guint i = 0; i < n; i++)
    if (!g_hash_table_contains(answered, GUINT_TO_POINTER(v[i].uid))) {
      tg_warn("imap=%s folder=%s uid=%u: no body in the FETCH answer; retried next pass",
              a->name, folder, v[i].uid);
      done_uid = v[i].uid - 1;
      break;
    }
  if (ok && !tg_spool_commit_batch(p->spool, ids, NULL, &serr))
    ok = FALSE;
  if (!ok) {
    /* Nothing of this group counts as accepted: leave it on the server.
     * DEFER'd files still in tmp/ are purged by the next `serve` start. */
    return account_fail(c, TG_IMAP_ERROR_SPOOL, error, "folder %s: spool: %s",
                        folder, serr->message);
  }
  /* Durable.  From here on a crash means a refetch, which dedup absorbs. */
  stats->spooled += ids->len;
  stats->skipped += skipped;
  if (p->on_spooled && ids->len)
    p->on_spooled(ids, p->on_spooled_data);
  if (spooled->len) {
    struct mailimap_set *acted = set_of((UidSize *)(void *)spooled->data, spooled->len);
    ok = after_action(c, acted, error);
    mailimap_set_free(acted);
    if (!ok)
      return FALSE;
  }
  *complete_r = done_uid == v[n - 1].uid;
  return done_uid < v[0].uid || save_state(p, c, folder, uidvalidity, done_uid, error);
}

/* Sizes for one chunk of UIDs; drops those the server no longer has. */
static gboolean fetch_sizes(TgImapConn *c, GArray *chunk, GError **error) {
  struct mailimap_set *set = set_of((UidSize *)(void *)chunk->data, chunk->len);
  struct mailimap_fetch_type *ft = mailimap_fetch_type_new_fetch_att_list_empty();
  mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_uid());
  mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_rfc822_size());
  clist *result = NULL;
  int rc = mailimap_uid_fetch(tg_imap_conn_session(c), set, ft, &result);
  mailimap_fetch_type_free(ft);
  mailimap_set_free(set);
  if (rc != MAILIMAP_NO_ERROR)
    return tg_imap_conn_fail(c, rc, "UID FETCH RFC822.SIZE", error);
  g_autoptr(GHashTable) sizes = g_hash_table_new(g_direct_hash, g_direct_equal);
  for (clistiter *it = clist_begin(result); it; it = clist_next(it)) {
    struct mailimap_msg_att *m = clist_content(it);
    struct mailimap_msg_att_static *sz = att_static(m, MAILIMAP_MSG_ATT_RFC822_SIZE);
    guint32 uid = msg_uid(m);
    if (uid && sz)
      g_hash_table_insert(sizes, GUINT_TO_POINTER(uid),
                          GUINT_TO_POINTER(sz->att_data.att_rfc822_size + 1));
  }
  mailimap_fetch_list_free(result);
  guint out = 0;
  for (guint i = 0; i < chunk->len; i++) {
    UidSize *u = &g_array_index(chunk, UidSize, i);
    gpointer v = g_hash_table_lookup(sizes, GUINT_TO_POINTER(u->uid));
    if (!v)
      continue;
    u->size = GPOINTER_TO_UINT(v) - 1;
    g_array_index(chunk, UidSize, out++) = *u;
  }
  g_array_set_size(chunk, out);
  return TRUE;
}

static gint compare_uid(gconstpointer x, gconstpointer y) {
  guint32 a = ((const UidSize *)x)->uid, b = ((const UidSize *)y)->uid;
  return a < b ? -1 : a > b;
}

gboolean tg_imap_poll_folder(TgImapPoll *p, TgImapConn *c, const char *folder,
                             TgImapPollStats *stats, GError **error) {
  const TgImapAccount *a = tg_imap_conn_account(c);
  mailimap *s = tg_imap_conn_session(c);
  int rc = mailimap_select(s, folder);
  if (rc != MAILIMAP_NO_ERROR) {
    g_autofree char *what = g_strdup_printf("SELECT %s", folder);
    return tg_imap_conn_fail(c, rc, what, error);
  }
  guint32 uidvalidity = s->imap_selection_info->sel_uidvalidity;
  guint32 stored_validity, last_uid;
  g_autoptr(GError) serr = NULL;
  if (!tg_imap_state_get(p->store, a->name, folder, &stored_validity, &last_uid, &serr))
    return account_fail(c, TG_IMAP_ERROR_SPOOL, error, "folder %s: reading state: %s",
                        folder, serr->message);
  if (stored_validity != uidvalidity) {
    if (stored_validity)
      tg_warn("imap=%s folder=%s UIDVALIDITY changed from %u to %u: rescanning "
              "(messages seen before are recognised and stored once)",
              a->name, folder, stored_validity, uidvalidity);
    last_uid = 0;
    if (!save_state(p, c, folder, uidvalidity, 0, error))
      return FALSE;
  }
  if (s->imap_selection_info->sel_has_exists && s->imap_selection_info->sel_exists == 0)
    return TRUE;
  if (last_uid == G_MAXUINT32)
    return TRUE;
  /* UIDs above last_uid.  "N:*" also matches the highest UID when that is
   * below N, so filter. */
  struct mailimap_search_key *key =
      mailimap_search_key_new_uid(mailimap_set_new_interval(last_uid + 1, 0));
  clist *found = NULL;
  rc = mailimap_uid_search(s, NULL, key, &found);
  mailimap_search_key_free(key);
  if (rc != MAILIMAP_NO_ERROR)
    return tg_imap_conn_fail(c, rc, "UID SEARCH", error);
  g_autoptr(GArray) uids = g_array_new(FALSE, FALSE, sizeof(UidSize));
  for (clistiter *it = clist_begin(found); it; it = clist_next(it)) {
    guint32 uid = *(uint32_t *)clist_content(it);
    if (uid > last_uid) {
      UidSize u = {uid, 0};
      g_array_append_val(uids, u);
    }
  }
  mailimap_search_result_free(found);
  if (uids->len == 0)
    return TRUE;
  g_array_sort(uids, compare_uid);
  guint before = stats->spooled;
  guint batch = a->batch ? a->batch : 100;
  for (guint off = 0; off < uids->len; off += batch) {
    if (p->stop && g_atomic_int_get(p->stop))
      break;
    g_autoptr(GArray) chunk = g_array_new(FALSE, FALSE, sizeof(UidSize));
    g_array_append_vals(chunk, &g_array_index(uids, UidSize, off),
                        MIN(batch, uids->len - off));
    guint32 chunk_last = g_array_index(chunk, UidSize, chunk->len - 1).uid;
    if (!fetch_sizes(c, chunk, error))
      return FALSE;
    /* Over the spool's size limit: not fetched at all, left on the server. */
    guint keep = 0;
    for (guint k = 0; k < chunk->len; k++) {
      UidSize u = g_array_index(chunk, UidSize, k);
      if (p->max_message && u.size > p->max_message) {
        tg_warn("imap=%s folder=%s uid=%u left on the server: message of %u bytes "
                "exceeds the limit of %" G_GUINT64_FORMAT,
                a->name, folder, u.uid, u.size, p->max_message);
        stats->skipped++;
        continue;
      }
      g_array_index(chunk, UidSize, keep++) = u;
    }
    g_array_set_size(chunk, keep);
    guint i = 0;
    while (i < chunk->len) {
      guint64 bytes = 0;
      guint j = i;
      /* At least one message; then up to the byte budget. */
      while (j < chunk->len &&
             (j == i || bytes + g_array_index(chunk, UidSize, j).size <= TG_IMAP_POLL_GROUP_BYTES)) {
        bytes += g_array_index(chunk, UidSize, j).size;
        j++;
      }
      gboolean complete = TRUE;
      if (!poll_group(p, c, folder, uidvalidity, &g_array_index(chunk, UidSize, i),
                      j - i, stats, &complete, error))
        return FALSE;
      if (!complete)
        return TRUE; /* the rest waits for the next pass */
      i = j;
    }
    /* Skipped and vanished UIDs of the chunk are done too. */
    if (!save_state(p, c, folder, uidvalidity, chunk_last, error))
      return FALSE;
  }
  if (stats->spooled > before)
    tg_info("imap=%s folder=%s spooled=%u", a->name, folder, stats->spooled - before);
  return TRUE;
}

gboolean tg_imap_poll_account(TgImapPoll *p, TgImapConn *c, TgImapPollStats *stats,
                              GError **error) {
  const TgImapAccount *a = tg_imap_conn_account(c);
  gboolean ok = TRUE;
  for (guint i = 0; a->folders && a->folders[i]; i++) {
    g_autoptr(GError) err = NULL;
    if (tg_imap_poll_folder(p, c, a->folders[i], stats, &err))
      continue;
    if (ok)
      g_propagate_error(error, g_steal_pointer(&err));
    else
      tg_warn("%s", err->message);
    ok = FALSE;
    if (tg_imap_conn_broken_ok(c))
      break;
  }
  return ok;
}
