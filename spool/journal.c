/* journal.c - append-only journal of small spool entries (contract in
 * journal.h).
 *
 * DIAGNOSTICS: failed system calls come back as TG_SPOOL_ERROR_TEMP or
 * _NO_SPACE with the call, the path and errno text; the caller answers
 * 4xx.  Recovery reports what it could not bring over in its GError.
 */
#include "spool/journal.h"
#include "spool/spool_sys.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <zlib.h>

#define FILE_MAGIC "TGJOURNAL1\n"
#define FILE_MAGIC_LEN 11
#define FILE_HEADER (FILE_MAGIC_LEN + 8)
#define RECORD_MAGIC "TGJR"
#define RECORD_HEADER 20

struct TgJournalSegment {
  TgJournal *journal;
  char *path;
  int fd;
  guint64 nonce;
  guint64 size;     /* bytes appended and synced */
  guint refs;       /* records not yet released, plus appends in flight */
  gboolean closed;  /* takes no more appends */
};

struct TgJournal {
  char *dir;
  GMutex lock;
  TgJournalSegment *active; /* NULL: the next append starts a segment */
  GPtrArray *segments;      /* every segment still open */
};

static void put_le32(guint8 *p, guint32 v) {
  for (int i = 0; i < 4; i++)
    p[i] = (guint8)(v >> (8 * i));
}

static void put_le64(guint8 *p, guint64 v) {
  for (int i = 0; i < 8; i++)
    p[i] = (guint8)(v >> (8 * i));
}

static guint32 get_le32(const guint8 *p) {
  return (guint32)p[0] | (guint32)p[1] << 8 | (guint32)p[2] << 16 | (guint32)p[3] << 24;
}

static guint64 get_le64(const guint8 *p) {
  return (guint64)get_le32(p) | (guint64)get_le32(p + 4) << 32;
}

/* The CRC covers length and nonce too: a torn header fails it. */
static guint32 record_crc(const guint8 *header, const void *payload, gsize len) {
  uLong crc = crc32_z(0, header + 4, 12);
  return (guint32)crc32_z(crc, payload, len);
}

static void segment_header(guint8 *h, guint64 nonce) {
  memcpy(h, FILE_MAGIC, FILE_MAGIC_LEN);
  put_le64(h + FILE_MAGIC_LEN, nonce);
}

static void record_header(guint8 *h, guint64 nonce, const void *payload, gsize len) {
  memcpy(h, RECORD_MAGIC, 4);
  put_le32(h + 4, (guint32)len);
  put_le64(h + 8, nonce);
  put_le32(h + 16, record_crc(h, payload, len));
}

TgJournal *tg_journal_open(const char *spool_dir, GError **error) {
  g_autofree char *dir = g_build_filename(spool_dir, "journal", NULL);
  /* The directory itself must survive a power loss with what it holds. */
  if (g_mkdir_with_parents(dir, 0700) != 0 || !tg_spool_fsync_dir(spool_dir, error)) {
    if (error && !*error)
      tg_spool_errno_error(error, "mkdir", dir, errno);
    return NULL;
  }
  TgJournal *j = g_new0(TgJournal, 1);
  j->dir = g_steal_pointer(&dir);
  g_mutex_init(&j->lock);
  j->segments = g_ptr_array_new();
  return j;
}

static void segment_drop(TgJournalSegment *seg, gboolean unlink_it) {
  TgJournal *j = seg->journal;
  if (unlink_it)
    unlink(seg->path);
  close(seg->fd);
  if (j->active == seg)
    j->active = NULL;
  g_ptr_array_remove_fast(j->segments, seg);
  g_free(seg->path);
  g_free(seg);
}

/* Under the lock.  A segment whose records are all done goes, also the
 * one appends go to: an idle server keeps no journal, `serve` stopped
 * cleanly leaves none, and recovery after a crash has nothing to replay
 * but what was still in flight.  Under load records are rarely all done,
 * and at low load a new segment per group commit costs little. */
static void segment_maybe_retire(TgJournalSegment *seg) {
  if (seg->refs == 0)
    segment_drop(seg, TRUE);
}

/* Under the lock.  Durable before any record in it is acknowledged: the
 * directory entry is synced here, the file's bytes by each append. */
static TgJournalSegment *segment_new(TgJournal *j, GError **error) {
  for (int attempt = 0; attempt < 3; attempt++) {
    g_autofree char *id = tg_spool_new_id();
    g_autofree char *name = g_strconcat(id, ".jnl", NULL);
    g_autofree char *path = g_build_filename(j->dir, name, NULL);
    int fd = tg_spool_sys.open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
      tg_spool_errno_error(error, "open", path, errno);
      return NULL;
    }
    struct stat st;
    if (flock(fd, LOCK_EX | LOCK_NB) != 0 || fstat(fd, &st) != 0) {
      tg_spool_errno_error(error, "flock", path, errno);
      unlink(path);
      close(fd);
      return NULL;
    }
    /* A recovery (`spool retry`) between our create and our lock found
     * it empty, unused, and deleted it: appends would go to a file with
     * no name.  Take another. */
    if (st.st_nlink == 0) {
      close(fd);
      continue;
    }
    if (!tg_spool_fsync_dir(j->dir, error)) {
      unlink(path);
      close(fd);
      return NULL;
    }
    TgJournalSegment *seg = g_new0(TgJournalSegment, 1);
    seg->journal = j;
    seg->path = g_steal_pointer(&path);
    seg->fd = fd;
    seg->nonce = (guint64)g_random_int() << 32 | g_random_int();
    if (seg->nonce == 0)
      seg->nonce = 1;
    g_ptr_array_add(j->segments, seg);
    return seg;
  }
  g_set_error(error, TG_SPOOL_ERROR, TG_SPOOL_ERROR_TEMP,
              "journal segments in %s keep disappearing before they are locked", j->dir);
  return NULL;
}

static gboolean write_iov(TgJournalSegment *seg, struct iovec *iov, guint count,
                          off_t off, GError **error) {
  while (count > 0) {
    int chunk = (int)MIN(count, (guint)IOV_MAX);
    ssize_t n = tg_spool_sys.pwritev(seg->fd, iov, chunk, off);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return tg_spool_errno_error(error, "pwritev", seg->path, n < 0 ? errno : EIO);
    off += n;
    /* Step past what was written, partial vectors included. */
    gsize done = (gsize)n;
    while (count > 0 && done >= iov->iov_len) {
      done -= iov->iov_len;
      iov++;
      count--;
    }
    if (count > 0) {
      iov->iov_base = (char *)iov->iov_base + done;
      iov->iov_len -= done;
    }
  }
  return TRUE;
}

gboolean tg_journal_append(TgJournal *j, TgSpoolEntry *const *entries, guint n,
                           TgJournalSegment **segment_r, GError **error) {
  *segment_r = NULL;
  g_return_val_if_fail(n > 0, FALSE);
  for (guint i = 0; i < n; i++)
    g_return_val_if_fail(g_bytes_get_size(entries[i]->raw) <= G_MAXUINT32, FALSE);
  g_mutex_lock(&j->lock);
  TgJournalSegment *seg = j->active;
  if (!seg && (seg = segment_new(j, error)))
    j->active = seg;
  if (seg)
    seg->refs += n; /* held through the write: no release deletes it */
  g_mutex_unlock(&j->lock);
  if (!seg)
    return FALSE;

  guint64 off = seg->size;
  g_autofree guint8 *headers = g_malloc((gsize)n * RECORD_HEADER);
  g_autofree struct iovec *iov = g_new(struct iovec, 2 * (gsize)n + 1);
  guint count = 0;
  guint8 file_header[FILE_HEADER];
  if (off == 0) {
    segment_header(file_header, seg->nonce);
    iov[count++] = (struct iovec){file_header, FILE_HEADER};
  }
  guint64 total = off == 0 ? FILE_HEADER : 0;
  for (guint i = 0; i < n; i++) {
    gsize len;
    const void *payload = g_bytes_get_data(entries[i]->raw, &len);
    guint8 *h = headers + (gsize)i * RECORD_HEADER;
    record_header(h, seg->nonce, payload, len);
    iov[count++] = (struct iovec){h, RECORD_HEADER};
    iov[count++] = (struct iovec){(void *)payload, len};
    total += RECORD_HEADER + len;
  }
  gboolean ok = write_iov(seg, iov, count, (off_t)off, error);
  if (ok && tg_spool_sys.fdatasync(seg->fd) != 0)
    ok = tg_spool_errno_error(error, "fdatasync", seg->path, errno);

  g_mutex_lock(&j->lock);
  if (ok) {
    seg->size = off + total;
    if (seg->size >= TG_JOURNAL_SEGMENT_MAX) {
      seg->closed = TRUE;
      if (j->active == seg)
        j->active = NULL;
    }
    *segment_r = seg;
  } else {
    /* What reached the file was never acknowledged: cut it, so recovery
     * does not ticket it behind its sender's back (the sender retries).
     * After a failed fdatasync the page cache cannot be trusted: no more
     * appends to this file either way. */
    if (ftruncate(seg->fd, (off_t)off) != 0 || fsync(seg->fd) != 0)
      g_prefix_error(error, "and %s could not be cut back to %" G_GUINT64_FORMAT
                            " bytes (%s): a recovery may ticket what was refused; ",
                     seg->path, off, g_strerror(errno));
    seg->refs -= n;
    seg->closed = TRUE;
    if (j->active == seg)
      j->active = NULL;
    segment_maybe_retire(seg);
  }
  g_mutex_unlock(&j->lock);
  return ok;
}

void tg_journal_release(TgJournalSegment *seg) {
  if (!seg)
    return;
  TgJournal *j = seg->journal;
  g_mutex_lock(&j->lock);
  g_assert(seg->refs > 0);
  seg->refs--;
  segment_maybe_retire(seg);
  g_mutex_unlock(&j->lock);
}

void tg_journal_free(TgJournal *j) {
  if (!j)
    return;
  g_mutex_lock(&j->lock);
  while (j->segments->len > 0) {
    TgJournalSegment *seg = g_ptr_array_index(j->segments, 0);
    segment_drop(seg, seg->refs == 0);
  }
  g_mutex_unlock(&j->lock);
  g_ptr_array_unref(j->segments);
  g_mutex_clear(&j->lock);
  g_free(j->dir);
  g_free(j);
}

static gboolean is_segment_name(const char *name) {
  gsize len = strlen(name);
  if (len < 4 || strcmp(name + len - 4, ".jnl") != 0)
    return FALSE;
  g_autofree char *id = g_strndup(name, len - 4);
  return tg_spool_id_ok(id);
}

static GPtrArray *segment_names(const char *dir) {
  GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
  GDir *d = g_dir_open(dir, 0, NULL);
  if (!d)
    return names;
  const char *name;
  while ((name = g_dir_read_name(d)))
    if (is_segment_name(name))
      g_ptr_array_add(names, g_strdup(name));
  g_dir_close(d);
  g_ptr_array_sort(names, (GCompareFunc)g_strcmp0);
  return names;
}

guint tg_journal_segment_count(const char *spool_dir) {
  g_autofree char *dir = g_build_filename(spool_dir, "journal", NULL);
  g_autoptr(GPtrArray) names = segment_names(dir);
  return names->len;
}

GBytes *tg_journal_frame(guint64 nonce, GBytes *const *payloads, guint n) {
  GByteArray *out = g_byte_array_new();
  guint8 header[FILE_HEADER];
  segment_header(header, nonce);
  g_byte_array_append(out, header, FILE_HEADER);
  for (guint i = 0; i < n; i++) {
    gsize len;
    const guint8 *payload = g_bytes_get_data(payloads[i], &len);
    guint8 h[RECORD_HEADER];
    record_header(h, nonce, payload, len);
    g_byte_array_append(out, h, RECORD_HEADER);
    g_byte_array_append(out, payload, (guint)len);
  }
  return g_byte_array_free_to_bytes(out);
}

GPtrArray *tg_journal_parse(GBytes *content, gsize *used_r) {
  GPtrArray *entries = g_ptr_array_new_with_free_func((GDestroyNotify)tg_spool_entry_free);
  gsize size;
  const guint8 *data = g_bytes_get_data(content, &size);
  *used_r = 0;
  if (size < FILE_HEADER || memcmp(data, FILE_MAGIC, FILE_MAGIC_LEN) != 0)
    return entries; /* the first append never completed */
  guint64 nonce = get_le64(data + FILE_MAGIC_LEN);
  gsize off = FILE_HEADER;
  while (size - off >= RECORD_HEADER) {
    const guint8 *h = data + off;
    guint32 len = get_le32(h + 4);
    if (memcmp(h, RECORD_MAGIC, 4) != 0 || get_le64(h + 8) != nonce ||
        len > size - off - RECORD_HEADER ||
        get_le32(h + 16) != record_crc(h, h + RECORD_HEADER, len))
      break;
    g_autoptr(GBytes) raw = g_bytes_new_from_bytes(content, off + RECORD_HEADER, len);
    TgSpoolEntry *e = tg_spool_entry_from_raw(raw, NULL);
    if (!e)
      break; /* cannot happen with a good CRC: our own bytes */
    g_ptr_array_add(entries, e);
    off += RECORD_HEADER + len;
  }
  *used_r = off;
  return entries;
}

/* One segment into queue/.  FALSE: it stays for the next attempt. */
static gboolean recover_segment(TgSpool *spool, const char *path, TgJournalRecovery *r,
                                GError **error) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return errno == ENOENT || tg_spool_errno_error(error, "open", path, errno);
  struct stat st;
  if (flock(fd, LOCK_EX | LOCK_NB) != 0 || fstat(fd, &st) != 0) {
    int err = errno;
    close(fd);
    return err == EWOULDBLOCK || tg_spool_errno_error(error, "flock", path, err);
  }
  if (st.st_nlink == 0) { /* another recovery was first */
    close(fd);
    return TRUE;
  }
  char *data = NULL;
  gsize size = 0;
  if (!g_file_get_contents(path, &data, &size, error)) {
    close(fd);
    return FALSE;
  }
  g_autoptr(GBytes) content = g_bytes_new_take(data, size);
  gsize used;
  g_autoptr(GPtrArray) entries = tg_journal_parse(content, &used);
  gboolean ok = tg_spool_restore_all(spool, (TgSpoolEntry **)entries->pdata, entries->len, error);
  if (ok) {
    r->restored += entries->len;
    r->dropped_bytes += size - used;
    unlink(path);
  }
  close(fd);
  return ok;
}

gboolean tg_journal_recover(TgSpool *spool, TgJournalRecovery *r, GError **error) {
  memset(r, 0, sizeof *r);
  g_autofree char *dir = g_build_filename(tg_spool_dir(spool), "journal", NULL);
  g_autoptr(GPtrArray) names = segment_names(dir);
  gboolean ok = TRUE;
  for (guint i = 0; i < names->len; i++) {
    g_autofree char *path = g_build_filename(dir, (char *)g_ptr_array_index(names, i), NULL);
    /* One segment that cannot be brought over does not hold back the
     * others; the first error is reported. */
    if (!recover_segment(spool, path, r, ok ? error : NULL)) {
      ok = FALSE;
      r->failed++;
    }
  }
  return ok;
}
