/* spool.c - durable incoming spool and quarantine (contract in spool.h).
 *
 * DIAGNOSTICS: every failed system call is reported with the call, the
 * path and errno text, as TG_SPOOL_ERROR_TEMP: the caller answers 4xx or
 * exits 75 and the sender retries.
 */
#include "spool/spool.h"
#include "spool/spool_recycle.h"
#include "spool/spool_sys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#define SPOOL_MAGIC "TGSPOOL1\n"
#define WRITE_BUFFER (64 * 1024)

struct TgSpool {
  char *dir;
  char *tmp_dir, *queue_dir, *quarantine_dir;
  TgSpoolRecycle *recycle; /* free/: retired files reused as new entries */
  guint64 min_free;
  guint64 max_message;
};

struct TgSpoolWriter {
  TgSpool *spool;
  char *id;
  char *tmp_path;
  int fd;
  GString *buf;       /* pending record bytes, flushed at WRITE_BUFFER */
  GString *chunk;     /* message bytes not yet framed as an M record */
  guint64 size;       /* message bytes offered, also past the limit */
  guint64 written;    /* bytes written to the file */
  gsize memory_max;   /* buffered writer: no file while the entry fits */
  gboolean recycled;  /* the file came from free/ with old bytes past ours */
  gboolean over_limit;
  gboolean failed;
};

G_DEFINE_QUARK(tg-spool-error-quark, tg_spool_error)

gboolean tg_spool_errno_error(GError **error, const char *call, const char *path,
                              int err) {
  g_set_error(error, TG_SPOOL_ERROR,
              err == ENOSPC || err == EDQUOT ? TG_SPOOL_ERROR_NO_SPACE
                                             : TG_SPOOL_ERROR_TEMP,
              "%s(%s) failed: %s", call, path, g_strerror(err));
  return FALSE;
}

static gboolean make_dir(const char *path, GError **error) {
  if (g_mkdir_with_parents(path, 0700) != 0)
    return tg_spool_errno_error(error, "mkdir", path, errno);
  return TRUE;
}

TgSpool *tg_spool_open(const char *dir, GError **error) {
  g_autofree char *tmp = g_build_filename(dir, "tmp", NULL);
  g_autofree char *queue = g_build_filename(dir, "queue", NULL);
  g_autofree char *quarantine = g_build_filename(dir, "quarantine", NULL);
  g_autofree char *free_dir = g_build_filename(dir, "free", NULL);
  if (!make_dir(tmp, error) || !make_dir(queue, error) ||
      !make_dir(quarantine, error) || !make_dir(free_dir, error))
    return NULL;
  TgSpool *s = g_new0(TgSpool, 1);
  s->dir = g_strdup(dir);
  s->tmp_dir = g_steal_pointer(&tmp);
  s->queue_dir = g_steal_pointer(&queue);
  s->quarantine_dir = g_steal_pointer(&quarantine);
  s->recycle = tg_spool_recycle_new(free_dir);
  return s;
}

void tg_spool_free(TgSpool *s) {
  if (!s)
    return;
  g_free(s->dir);
  g_free(s->tmp_dir);
  g_free(s->queue_dir);
  g_free(s->quarantine_dir);
  tg_spool_recycle_free(s->recycle);
  g_free(s);
}

const char *tg_spool_dir(const TgSpool *s) { return s->dir; }
void tg_spool_set_min_free(TgSpool *s, guint64 v) { s->min_free = v; }
void tg_spool_set_max_message(TgSpool *s, guint64 v) { s->max_message = v; }

/* Ids are "<13 hex digits of microseconds>-<8 hex random>": unique by
 * construction, sortable by arrival, and safe as a file name. */
gboolean tg_spool_id_ok(const char *id) {
  if (!id || strlen(id) != 22 || id[13] != '-')
    return FALSE;
  for (int i = 0; i < 22; i++) {
    if (i == 13)
      continue;
    if (!g_ascii_isxdigit(id[i]) || g_ascii_isupper(id[i]))
      return FALSE;
  }
  return TRUE;
}

char *tg_spool_new_id(void) {
  return g_strdup_printf("%013" G_GINT64_MODIFIER "x-%08x",
                         (gint64)g_get_real_time(), g_random_int());
}

static const char *area_dir(TgSpool *s, TgSpoolArea area) {
  return area == TG_SPOOL_QUEUE ? s->queue_dir : s->quarantine_dir;
}

static gboolean write_all(int fd, const char *data, gsize len,
                          const char *path, GError **error) {
  while (len > 0) {
    ssize_t n = tg_spool_sys.write(fd, data, len);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return tg_spool_errno_error(error, "write", path, errno);
    }
    data += n;
    len -= (gsize)n;
  }
  return TRUE;
}

static void append_record(GString *buf, char type, const char *data,
                          gsize len) {
  g_string_append_printf(buf, "%c%" G_GSIZE_FORMAT ":", type, len);
  g_string_append_len(buf, data, (gssize)len);
  g_string_append_c(buf, '\n');
}

static gboolean writer_open_file(TgSpoolWriter *w, GError **error);

static gboolean writer_flush(TgSpoolWriter *w, gboolean final, GError **error) {
  if (w->fd < 0) {
    if (!final && w->buf->len + w->chunk->len <= w->memory_max)
      return TRUE; /* one M record at the end: the reader borrows it */
    if (!writer_open_file(w, error))
      return FALSE;
  }
  if (w->chunk->len > 0 && (final || w->chunk->len >= WRITE_BUFFER)) {
    append_record(w->buf, 'M', w->chunk->str, w->chunk->len);
    g_string_truncate(w->chunk, 0);
  }
  if (w->buf->len == 0 || (!final && w->buf->len < WRITE_BUFFER))
    return TRUE;
  if (!write_all(w->fd, w->buf->str, w->buf->len, w->tmp_path, error)) {
    w->failed = TRUE;
    return FALSE;
  }
  w->written += w->buf->len;
  g_string_truncate(w->buf, 0);
  return TRUE;
}

static gboolean check_space(TgSpool *s, GError **error) {
  if (s->min_free == 0)
    return TRUE;
  struct statvfs vfs;
  if (statvfs(s->tmp_dir, &vfs) != 0)
    return tg_spool_errno_error(error, "statvfs", s->tmp_dir, errno);
  guint64 avail = (guint64)vfs.f_bavail * vfs.f_frsize;
  if (avail < s->min_free) {
    /* The pool's files hold space that new mail may need more. */
    tg_spool_recycle_drain(s->recycle);
    if (statvfs(s->tmp_dir, &vfs) == 0)
      avail = (guint64)vfs.f_bavail * vfs.f_frsize;
  }
  if (avail < s->min_free) {
    g_set_error(error, TG_SPOOL_ERROR, TG_SPOOL_ERROR_NO_SPACE,
                "spool %s: only %" G_GUINT64_FORMAT
                " bytes free, below the %" G_GUINT64_FORMAT " reserve",
                s->dir, avail, s->min_free);
    return FALSE;
  }
  return TRUE;
}

/* Opens the entry's file, tmp/<id>: a retired file claimed from free/
 * when CLAIM allows, else a new one.  FALSE with errno set. */
static gboolean writer_try_open(TgSpoolWriter *w, gboolean claim) {
  if (claim && (w->fd = tg_spool_recycle_claim(w->spool->recycle, w->tmp_path)) >= 0) {
    w->recycled = TRUE;
    return TRUE;
  }
  w->fd = tg_spool_sys.open(w->tmp_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  return w->fd >= 0;
}

/* The file of a buffered writer, once its entry outgrew memory: same id,
 * so the records already framed stay true. */
static gboolean writer_open_file(TgSpoolWriter *w, GError **error) {
  if (writer_try_open(w, TRUE))
    return TRUE;
  w->failed = TRUE;
  return tg_spool_errno_error(error, "open", w->tmp_path, errno);
}

static TgSpoolWriter *writer_new(TgSpool *s, const char *sender,
                                 const char *const *recipients, const char *origin,
                                 gsize memory_max, GError **error) {
  if (!check_space(s, error))
    return NULL;
  TgSpoolWriter *w = g_new0(TgSpoolWriter, 1);
  w->spool = s;
  w->fd = -1;
  w->memory_max = memory_max;
  for (int attempt = 0; attempt < 10 && w->fd < 0; attempt++) {
    g_free(w->id);
    g_free(w->tmp_path);
    w->id = tg_spool_new_id();
    w->tmp_path = g_build_filename(s->tmp_dir, w->id, NULL);
    if (memory_max)
      break; /* the file comes later, if at all */
    if (writer_try_open(w, attempt == 0) || errno != EEXIST)
      break;
  }
  if (w->fd < 0 && !memory_max) {
    tg_spool_errno_error(error, "open", w->tmp_path, errno);
    g_free(w->id);
    g_free(w->tmp_path);
    g_free(w);
    return NULL;
  }
  w->buf = g_string_sized_new(memory_max ? 4096 : WRITE_BUFFER + 1024);
  w->chunk = g_string_sized_new(memory_max ? 4096 : WRITE_BUFFER + 1024);
  g_string_append(w->buf, SPOOL_MAGIC);
  /* The entry's own id: a file reused from free/ whose new bytes a power
   * loss kept from the disk still holds its previous entry, complete and
   * well formed; this record tells the reader it is not this entry. */
  append_record(w->buf, 'I', w->id, strlen(w->id));
  g_autofree char *now = g_strdup_printf("%" G_GINT64_FORMAT,
                                         g_get_real_time() / G_USEC_PER_SEC);
  append_record(w->buf, 'T', now, strlen(now));
  sender = sender ? sender : "";
  append_record(w->buf, 'S', sender, strlen(sender));
  for (const char *const *r = recipients; r && *r; r++)
    append_record(w->buf, 'R', *r, strlen(*r));
  origin = origin ? origin : "";
  append_record(w->buf, 'O', origin, strlen(origin));
  return w;
}

TgSpoolWriter *tg_spool_writer_new(TgSpool *s, const char *sender,
                                   const char *const *recipients,
                                   const char *origin, GError **error) {
  return writer_new(s, sender, recipients, origin, 0, error);
}

TgSpoolWriter *tg_spool_writer_new_buffered(TgSpool *s, const char *sender,
                                            const char *const *recipients,
                                            const char *origin, gsize memory_max,
                                            GError **error) {
  return writer_new(s, sender, recipients, origin, MAX(memory_max, 1), error);
}

gboolean tg_spool_writer_in_memory(const TgSpoolWriter *w) { return w->fd < 0; }

gboolean tg_spool_writer_write(TgSpoolWriter *w, const void *data, gsize len,
                               GError **error) {
  if (w->failed) {
    g_set_error(error, TG_SPOOL_ERROR, TG_SPOOL_ERROR_TEMP,
                "spool entry %s already failed", w->id);
    return FALSE;
  }
  w->size += len;
  if (w->spool->max_message && w->size > w->spool->max_message)
    w->over_limit = TRUE;
  if (w->over_limit)
    return TRUE; /* keep counting, stop storing: the caller answers 552 */
  g_string_append_len(w->chunk, data, (gssize)len);
  return writer_flush(w, FALSE, error);
}

guint64 tg_spool_writer_size(const TgSpoolWriter *w) { return w->size; }
gboolean tg_spool_writer_over_limit(const TgSpoolWriter *w) {
  return w->over_limit;
}

static void writer_free(TgSpoolWriter *w) {
  if (w->fd >= 0)
    tg_spool_sys.close(w->fd);
  g_string_free(w->buf, TRUE);
  g_string_free(w->chunk, TRUE);
  g_free(w->id);
  g_free(w->tmp_path);
  g_free(w);
}

void tg_spool_writer_abort(TgSpoolWriter *w) {
  if (!w)
    return;
  unlink(w->tmp_path);
  writer_free(w);
}

static gboolean too_big(TgSpoolWriter *w, GError **error) {
  g_set_error(error, TG_SPOOL_ERROR, TG_SPOOL_ERROR_TOO_BIG,
              "message of %" G_GUINT64_FORMAT " bytes exceeds the limit of %" G_GUINT64_FORMAT,
              w->size, w->spool->max_message);
  return FALSE;
}

/* The last M record and the end record, in memory. */
static void writer_frame_end(TgSpoolWriter *w) {
  if (w->chunk->len > 0) {
    append_record(w->buf, 'M', w->chunk->str, w->chunk->len);
    g_string_truncate(w->chunk, 0);
  }
  g_string_append(w->buf, "E0:\n");
}

TgSpoolEntry *tg_spool_writer_finish_memory(TgSpoolWriter *w, GError **error) {
  g_return_val_if_fail(w->fd < 0, NULL);
  TgSpoolEntry *e = NULL;
  if (w->over_limit) {
    too_big(w, error);
  } else if (w->failed) {
    g_set_error(error, TG_SPOOL_ERROR, TG_SPOOL_ERROR_TEMP,
                "spool entry %s already failed", w->id);
  } else {
    writer_frame_end(w);
    gsize len = w->buf->len;
    g_autoptr(GBytes) raw = g_bytes_new_take(g_string_free(w->buf, FALSE), len);
    w->buf = g_string_new(NULL);
    e = tg_spool_entry_from_raw(raw, error);
  }
  writer_free(w);
  return e;
}

gboolean tg_spool_fsync_dir(const char *dir, GError **error) {
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return tg_spool_errno_error(error, "open", dir, errno);
  int rc = tg_spool_sys.fsync(fd);
  int err = errno;
  close(fd);
  if (rc != 0)
    return tg_spool_errno_error(error, "fsync", dir, err);
  return TRUE;
}

/* Moves tmp/<id> to queue/<id> without ever replacing an entry. */
static gboolean rename_into_queue(TgSpool *s, const char *id, GError **error) {
  g_autofree char *from = g_build_filename(s->tmp_dir, id, NULL);
  g_autofree char *to = g_build_filename(s->queue_dir, id, NULL);
  if (g_file_test(to, G_FILE_TEST_EXISTS)) {
    g_set_error(error, TG_SPOOL_ERROR, TG_SPOOL_ERROR_TEMP,
                "spool id collision on %s", to);
    return FALSE;
  }
  if (tg_spool_sys.rename(from, to) != 0)
    return tg_spool_errno_error(error, "rename", from, errno);
  return TRUE;
}

gboolean tg_spool_writer_commit(TgSpoolWriter *w, TgSpoolCommitMode mode,
                                char **id_r, int *lock_fd_r, GError **error) {
  TgSpool *s = w->spool;
  if (lock_fd_r)
    *lock_fd_r = -1;
  if (w->over_limit) {
    too_big(w, error);
    tg_spool_writer_abort(w);
    return FALSE;
  }
  writer_frame_end(w);
  if (!writer_flush(w, TRUE, error))
    goto fail;
  /* A reused file is overwritten in place (no blocks freed and allocated
   * again); cut what is left of its previous entry before the fsync. */
  if (w->recycled && ftruncate(w->fd, (off_t)w->written) != 0) {
    tg_spool_errno_error(error, "ftruncate", w->tmp_path, errno);
    goto fail;
  }
  /* A recycled file is locked since its claim (spool_recycle.h); this
   * does not wait on anyone. */
  if (lock_fd_r && flock(w->fd, LOCK_EX | LOCK_NB) != 0) {
    tg_spool_errno_error(error, "flock", w->tmp_path, errno);
    goto fail;
  }
  if (mode == TG_SPOOL_COMMIT_SYNC && tg_spool_sys.fsync(w->fd) != 0) {
    tg_spool_errno_error(error, "fsync", w->tmp_path, errno);
    goto fail;
  }
  if (!lock_fd_r) {
    int fd = w->fd;
    w->fd = -1;
    if (tg_spool_sys.close(fd) != 0) {
      tg_spool_errno_error(error, "close", w->tmp_path, errno);
      goto fail;
    }
  }
  if (mode != TG_SPOOL_COMMIT_DEFER) {
    if (!rename_into_queue(s, w->id, error))
      goto fail;
    if (mode == TG_SPOOL_COMMIT_SYNC && !tg_spool_fsync_dir(s->queue_dir, error)) {
      /* Renamed but not provably durable: take it back so the caller's
       * temporary failure and our state agree. */
      g_autofree char *q = g_build_filename(s->queue_dir, w->id, NULL);
      unlink(q);
      goto fail;
    }
  }
  if (lock_fd_r) {
    *lock_fd_r = w->fd;
    w->fd = -1;
  }
  if (id_r)
    *id_r = g_steal_pointer(&w->id);
  writer_free(w);
  return TRUE;
fail:
  tg_spool_writer_abort(w);
  return FALSE;
}

static void fail_all(GPtrArray *ids, GPtrArray *failed_r) {
  for (guint i = 0; failed_r && i < ids->len; i++)
    g_ptr_array_add(failed_r, g_ptr_array_index(ids, i));
}

gboolean tg_spool_commit_batch(TgSpool *s, GPtrArray *ids, GPtrArray *failed_r,
                               GError **error) {
  if (ids->len == 0)
    return TRUE;
  int fd = open(s->tmp_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    fail_all(ids, failed_r);
    return tg_spool_errno_error(error, "open", s->tmp_dir, errno);
  }
  int rc = tg_spool_sys.syncfs(fd);
  int err = errno;
  close(fd);
  if (rc != 0) {
    fail_all(ids, failed_r);
    return tg_spool_errno_error(error, "syncfs", s->tmp_dir, err);
  }
  /* One entry that does not move does not hold back the others: they
   * are in queue/ and will be ticketed, so they must be answered as
   * accepted, or the sender's retry would store them twice. */
  GError *first = NULL;
  for (guint i = 0; i < ids->len; i++) {
    GError *one = NULL;
    if (!rename_into_queue(s, g_ptr_array_index(ids, i), &one)) {
      if (failed_r)
        g_ptr_array_add(failed_r, g_ptr_array_index(ids, i));
      if (!first)
        first = one;
      else
        g_error_free(one);
      if (!failed_r)
        break; /* all or nothing is all the caller can tell apart */
    }
  }
  if (!tg_spool_fsync_dir(s->queue_dir, first ? NULL : &first)) {
    /* Nothing renamed is provably durable: every entry failed. */
    if (failed_r)
      g_ptr_array_set_size(failed_r, 0);
    fail_all(ids, failed_r);
  }
  if (first) {
    g_propagate_error(error, first);
    return FALSE;
  }
  return TRUE;
}

gboolean tg_spool_enter(TgSpool *s, const char *sender,
                        const char *const *recipients, const char *origin,
                        const void *data, gsize len, char **id_r,
                        GError **error) {
  TgSpoolWriter *w = tg_spool_writer_new(s, sender, recipients, origin, error);
  if (!w)
    return FALSE;
  if (!tg_spool_writer_write(w, data, len, error)) {
    tg_spool_writer_abort(w);
    return FALSE;
  }
  return tg_spool_writer_commit(w, TG_SPOOL_COMMIT_SYNC, id_r, NULL, error);
}

static gint compare_ids(gconstpointer a, gconstpointer b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

GPtrArray *tg_spool_list(TgSpool *s, TgSpoolArea area, GError **error) {
  const char *dir = area_dir(s, area);
  GDir *d = g_dir_open(dir, 0, error);
  if (!d)
    return NULL;
  GPtrArray *ids = g_ptr_array_new_with_free_func(g_free);
  const char *name;
  while ((name = g_dir_read_name(d)))
    if (tg_spool_id_ok(name))
      g_ptr_array_add(ids, g_strdup(name));
  g_dir_close(d);
  g_ptr_array_sort(ids, compare_ids);
  return ids;
}

guint tg_spool_depth(TgSpool *s, gint64 *oldest_r) {
  g_autoptr(GPtrArray) ids = tg_spool_list(s, TG_SPOOL_QUEUE, NULL);
  if (oldest_r)
    *oldest_r = 0;
  if (!ids || ids->len == 0)
    return 0;
  if (oldest_r) {
    const char *first = g_ptr_array_index(ids, 0);
    *oldest_r = (gint64)(g_ascii_strtoull(first, NULL, 16) / G_USEC_PER_SEC);
  }
  return ids->len;
}

gboolean tg_spool_restore_all(TgSpool *s, TgSpoolEntry *const *entries, guint n,
                              GError **error) {
  g_autoptr(GPtrArray) ids = g_ptr_array_new();
  gboolean ok = TRUE;
  for (guint i = 0; ok && i < n; i++) {
    gboolean written;
    ok = tg_spool_restore(s, entries[i], TG_SPOOL_COMMIT_DEFER, &written, NULL, error);
    if (ok && written)
      g_ptr_array_add(ids, entries[i]->id);
  }
  if (ok && tg_spool_commit_batch(s, ids, NULL, error))
    return TRUE;
  /* Not all durable: the caller keeps its copies; leave no tmp/ files
   * behind (a full disk is when their space matters most). */
  for (guint i = 0; i < ids->len; i++) {
    g_autofree char *tmp = g_build_filename(s->tmp_dir, (char *)g_ptr_array_index(ids, i), NULL);
    unlink(tmp);
  }
  return FALSE;
}

/* The decimal length that starts at P, read no further than END (the
 * bytes are not NUL-terminated); returns where it ends, or NULL when
 * there are no digits or the number overflows. */
static const char *record_length(const char *p, const char *end, guint64 *len_r) {
  guint64 v = 0;
  const char *q = p;
  for (; q < end && g_ascii_isdigit(*q); q++) {
    if (v > (G_MAXUINT64 - 9) / 10)
      return NULL;
    v = v * 10 + (guint64)(*q - '0');
  }
  *len_r = v;
  return q == p ? NULL : q;
}

/* Parses the record stream.  Borrows CONTENT into the entry. */
static gboolean parse_entry(TgSpoolEntry *e, GBytes *content, const char *path,
                            GError **error) {
  gsize len;
  const char *p = g_bytes_get_data(content, &len);
  const char *end;
  gsize magic = strlen(SPOOL_MAGIC);
  GByteArray *msg = NULL;
  gsize single_off = 0, single_len = 0;
  guint m_count = 0;
  gboolean ended = FALSE;

  /* Empty bytes (an empty file, a journal record of length 0) come as a
   * NULL pointer: no arithmetic on it. */
  if (len < magic || memcmp(p, SPOOL_MAGIC, magic) != 0)
    goto corrupt;
  end = p + len;
  p += magic;
  while (p < end && !ended) {
    char type = *p++;
    guint64 rlen;
    const char *colon = record_length(p, end, &rlen);
    if (!colon || colon >= end || *colon != ':')
      goto corrupt;
    p = colon + 1;
    if (rlen >= (guint64)(end - p) || p[rlen] != '\n')
      goto corrupt;
    switch (type) {
    case 'I':
      if (!e->id) { /* from the journal: the record names the entry */
        e->id = g_strndup(p, rlen);
        if (!tg_spool_id_ok(e->id))
          goto corrupt;
      } else if (rlen != strlen(e->id) || memcmp(p, e->id, rlen) != 0) {
        goto corrupt;
      }
      break;
    case 'T':
      e->arrival = g_ascii_strtoll(p, NULL, 10);
      break;
    case 'S':
      g_free(e->sender);
      e->sender = g_strndup(p, rlen);
      break;
    case 'R':
      g_ptr_array_add(e->recipients, g_strndup(p, rlen));
      break;
    case 'O':
      g_free(e->origin);
      e->origin = g_strndup(p, rlen);
      break;
    case 'M':
      if (m_count == 0) {
        single_off = (gsize)(p - (const char *)g_bytes_get_data(content, NULL));
        single_len = rlen;
      } else {
        if (!msg) {
          msg = g_byte_array_sized_new((guint)(single_len + rlen));
          g_byte_array_append(
              msg, (const guint8 *)g_bytes_get_data(content, NULL) + single_off,
              (guint)single_len);
        }
        g_byte_array_append(msg, (const guint8 *)p, (guint)rlen);
      }
      m_count++;
      break;
    case 'E':
      ended = TRUE;
      break;
    default:
      goto corrupt;
    }
    p += rlen + 1;
  }
  if (!ended || !e->id)
    goto corrupt;
  if (msg)
    e->message = g_byte_array_free_to_bytes(msg);
  else
    e->message = g_bytes_new_from_bytes(content, single_off, single_len);
  return TRUE;
corrupt:
  if (msg)
    g_byte_array_unref(msg);
  g_set_error(error, TG_SPOOL_ERROR, TG_SPOOL_ERROR_CORRUPT,
              "spool entry %s is torn or malformed", path);
  return FALSE;
}

/* The entry CONTENT holds, named ID (NULL: as its I record names it).
 * Borrows CONTENT. */
static TgSpoolEntry *entry_from_bytes(const char *id, GBytes *content, const char *path,
                                      GError **error) {
  TgSpoolEntry *e = g_new0(TgSpoolEntry, 1);
  e->id = g_strdup(id);
  e->recipients = g_ptr_array_new_with_free_func(g_free);
  e->lock_fd = -1;
  if (!parse_entry(e, content, path, error)) {
    tg_spool_entry_free(e);
    return NULL;
  }
  if (!e->sender)
    e->sender = g_strdup("");
  if (!e->origin)
    e->origin = g_strdup("");
  return e;
}

static TgSpoolEntry *read_fd(const char *id, const char *path, int fd,
                             GError **error) {
  struct stat st;
  if (fstat(fd, &st) != 0) {
    tg_spool_errno_error(error, "fstat", path, errno);
    return NULL;
  }
  gsize size = (gsize)st.st_size;
  char *data = g_malloc(size + 1);
  gsize got = 0;
  while (got < size) {
    ssize_t n = pread(fd, data + got, size - got, (off_t)got);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      int err = n < 0 ? errno : EIO;
      g_free(data);
      tg_spool_errno_error(error, "read", path, err);
      return NULL;
    }
    got += (gsize)n;
  }
  g_autoptr(GBytes) content = g_bytes_new_take(data, size);
  return entry_from_bytes(id, content, path, error);
}

static gboolean check_id(const char *id, GError **error) {
  if (tg_spool_id_ok(id))
    return TRUE;
  g_set_error(error, TG_SPOOL_ERROR, TG_SPOOL_ERROR_BAD_ID,
              "not a spool id: %s", id);
  return FALSE;
}

TgSpoolEntry *tg_spool_read(TgSpool *s, TgSpoolArea area, const char *id,
                            gboolean lock, GError **error) {
  if (!check_id(id, error))
    return NULL;
  g_autofree char *path = g_build_filename(area_dir(s, area), id, NULL);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT)
      g_set_error(error, TG_SPOOL_ERROR, TG_SPOOL_ERROR_NOT_FOUND,
                  "no spool entry %s", id);
    else
      tg_spool_errno_error(error, "open", path, err);
    return NULL;
  }
  if (lock && flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    close(fd);
    if (err == EWOULDBLOCK)
      g_set_error(error, TG_SPOOL_ERROR, TG_SPOOL_ERROR_LOCKED,
                  "spool entry %s is being processed elsewhere", id);
    else
      tg_spool_errno_error(error, "flock", path, err);
    return NULL;
  }
  /* Locked, but another process may have retired it in between. */
  if (lock && !g_file_test(path, G_FILE_TEST_EXISTS)) {
    close(fd);
    g_set_error(error, TG_SPOOL_ERROR, TG_SPOOL_ERROR_NOT_FOUND,
                "spool entry %s was processed meanwhile", id);
    return NULL;
  }
  TgSpoolEntry *e = read_fd(id, path, fd, error);
  if (!e || !lock)
    close(fd);
  else
    e->lock_fd = fd;
  return e;
}

TgSpoolEntry *tg_spool_read_locked(TgSpool *s, const char *id, int lock_fd,
                                   GError **error) {
  if (!check_id(id, error))
    return NULL;
  g_autofree char *path = g_build_filename(s->queue_dir, id, NULL);
  TgSpoolEntry *e = read_fd(id, path, lock_fd, error);
  if (e)
    e->lock_fd = lock_fd;
  return e;
}

TgSpoolEntry *tg_spool_entry_new_memory(const char *sender, const char *origin,
                                        GBytes *message) {
  TgSpoolEntry *e = g_new0(TgSpoolEntry, 1);
  e->id = tg_spool_new_id();
  e->arrival = g_get_real_time() / G_USEC_PER_SEC;
  e->sender = g_strdup(sender);
  e->recipients = g_ptr_array_new_with_free_func(g_free);
  e->origin = g_strdup(origin);
  e->message = message;
  e->lock_fd = -1;
  return e;
}

void tg_spool_entry_free(TgSpoolEntry *e) {
  if (!e)
    return;
  if (e->lock_fd >= 0)
    close(e->lock_fd);
  g_free(e->id);
  g_free(e->sender);
  g_free(e->origin);
  if (e->recipients)
    g_ptr_array_unref(e->recipients);
  if (e->message)
    g_bytes_unref(e->message);
  if (e->raw)
    g_bytes_unref(e->raw);
  g_free(e);
}

TgSpoolEntry *tg_spool_entry_from_raw(GBytes *raw, GError **error) {
  TgSpoolEntry *e = entry_from_bytes(NULL, raw, "(journal record)", error);
  if (e)
    e->raw = g_bytes_ref(raw);
  return e;
}

gboolean tg_spool_restore(TgSpool *s, const TgSpoolEntry *e, TgSpoolCommitMode mode,
                          gboolean *written_r, int *lock_fd_r, GError **error) {
  *written_r = FALSE;
  if (lock_fd_r)
    *lock_fd_r = -1;
  if (!check_id(e->id, error))
    return FALSE;
  g_autofree char *queued = g_build_filename(s->queue_dir, e->id, NULL);
  g_autofree char *quarantined = g_build_filename(s->quarantine_dir, e->id, NULL);
  /* There already, from a write-out whose directory fsync may have failed
   * before a crash: the caller is about to let go of its own copy. */
  if (g_file_test(queued, G_FILE_TEST_EXISTS))
    return tg_spool_fsync_dir(s->queue_dir, error);
  if (g_file_test(quarantined, G_FILE_TEST_EXISTS))
    return tg_spool_fsync_dir(s->quarantine_dir, error);
  g_autofree char *tmp = g_build_filename(s->tmp_dir, e->id, NULL);
  /* A tmp/ file of this id is a restore that died half way. */
  unlink(tmp);
  int fd = tg_spool_sys.open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    return tg_spool_errno_error(error, "open", tmp, errno);
  gsize len;
  const char *data = g_bytes_get_data(e->raw, &len);
  gboolean ok = write_all(fd, data, len, tmp, error);
  if (ok && lock_fd_r && flock(fd, LOCK_EX | LOCK_NB) != 0)
    ok = tg_spool_errno_error(error, "flock", tmp, errno);
  if (ok && mode == TG_SPOOL_COMMIT_SYNC && tg_spool_sys.fsync(fd) != 0)
    ok = tg_spool_errno_error(error, "fsync", tmp, errno);
  if (ok && mode != TG_SPOOL_COMMIT_DEFER && !rename_into_queue(s, e->id, error))
    ok = FALSE;
  if (ok && mode == TG_SPOOL_COMMIT_SYNC && !tg_spool_fsync_dir(s->queue_dir, error)) {
    unlink(queued);
    ok = FALSE;
  }
  if (!ok) {
    unlink(tmp);
    close(fd);
    return FALSE;
  }
  if (lock_fd_r)
    *lock_fd_r = fd;
  else
    close(fd);
  *written_r = TRUE;
  return TRUE;
}

gboolean tg_spool_retire(TgSpool *s, TgSpoolEntry *e, GError **error) {
  g_autofree char *q = g_build_filename(s->queue_dir, e->id, NULL);
  gsize size = e->message ? g_bytes_get_size(e->message) : 0;
  if (tg_spool_recycle_put(s->recycle, q, e->id, size, &e->lock_fd))
    return TRUE; /* it was in queue/, so it is not in quarantine/ */
  if (unlink(q) == 0)
    return TRUE;
  if (errno != ENOENT)
    return tg_spool_errno_error(error, "unlink", q, errno);
  g_autofree char *qq = g_build_filename(s->quarantine_dir, e->id, NULL);
  g_autofree char *reason = g_strconcat(qq, ".reason", NULL);
  if (unlink(qq) == 0)
    unlink(reason);
  return TRUE;
}

void tg_spool_discard(TgSpool *s, const char *id) {
  g_autofree char *quarantined = g_build_filename(s->quarantine_dir, id, NULL);
  g_autofree char *queued = g_build_filename(s->queue_dir, id, NULL);
  if (!g_file_test(quarantined, G_FILE_TEST_EXISTS))
    unlink(queued);
}

gboolean tg_spool_quarantine(TgSpool *s, TgSpoolEntry *e, const char *code,
                             const char *text, GError **error) {
  g_autofree char *from = g_build_filename(s->queue_dir, e->id, NULL);
  g_autofree char *to = g_build_filename(s->quarantine_dir, e->id, NULL);
  g_autofree char *reason_path = g_strconcat(to, ".reason", NULL);
  g_autofree char *line = g_strdup_printf("%s %s\n", code, text ? text : "");
  /* The quarantine may hold the only copy: its bytes must be on disk. */
  int fd = e->lock_fd >= 0 ? e->lock_fd : open(from, O_RDONLY | O_CLOEXEC);
  int rc = fd >= 0 ? tg_spool_sys.fsync(fd) : -1;
  int err = errno;
  if (fd >= 0 && fd != e->lock_fd)
    close(fd);
  if (rc != 0)
    return tg_spool_errno_error(error, "fsync", from, err);
  /* Reason lines are one line: peer text never spans several. */
  for (char *c = line; c[0] && c[1]; c++)
    if (*c == '\n' || *c == '\r')
      *c = ' ';
  if (!g_file_set_contents(reason_path, line, -1, error))
    return FALSE;
  if (tg_spool_sys.rename(from, to) != 0) {
    err = errno;
    unlink(reason_path); /* a reason without its entry would stay forever */
    return tg_spool_errno_error(error, "rename", from, err);
  }
  return tg_spool_fsync_dir(s->quarantine_dir, error) && tg_spool_fsync_dir(s->queue_dir, error);
}

gboolean tg_spool_release(TgSpool *s, const char *id, GError **error) {
  if (!check_id(id, error))
    return FALSE;
  g_autofree char *from = g_build_filename(s->quarantine_dir, id, NULL);
  g_autofree char *to = g_build_filename(s->queue_dir, id, NULL);
  g_autofree char *reason = g_strconcat(from, ".reason", NULL);
  if (tg_spool_sys.rename(from, to) != 0) {
    if (errno == ENOENT) {
      g_set_error(error, TG_SPOOL_ERROR, TG_SPOOL_ERROR_NOT_FOUND,
                  "no quarantined entry %s", id);
      return FALSE;
    }
    return tg_spool_errno_error(error, "rename", from, errno);
  }
  unlink(reason);
  return tg_spool_fsync_dir(s->queue_dir, error);
}

char *tg_spool_quarantine_reason(TgSpool *s, const char *id) {
  if (!tg_spool_id_ok(id))
    return NULL;
  g_autofree char *path =
      g_strdup_printf("%s/%s.reason", s->quarantine_dir, id);
  char *text = NULL;
  if (!g_file_get_contents(path, &text, NULL, NULL))
    return NULL;
  g_strchomp(text);
  return text;
}

guint tg_spool_recover(TgSpool *s) {
  GDir *d = g_dir_open(s->tmp_dir, 0, NULL);
  if (!d)
    return 0;
  guint purged = 0;
  const char *name;
  while ((name = g_dir_read_name(d))) {
    if (!tg_spool_id_ok(name))
      continue;
    g_autofree char *path = g_build_filename(s->tmp_dir, name, NULL);
    /* A writer still alive holds no lock on tmp files; only entries older
     * than a minute are abandoned ones. */
    struct stat st;
    if (stat(path, &st) == 0 && st.st_mtime < time(NULL) - 60 &&
        unlink(path) == 0)
      purged++;
  }
  g_dir_close(d);
  return purged;
}
