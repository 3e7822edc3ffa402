/* test_journal.c - the spool's journal (spool/journal.h) and the spool
 * functions it stands on: entries kept in memory, restored under their
 * own id, appended durably, released, and recovered after a crash,
 * including a torn tail, a failed write and a segment still in use. */
#include "tests/support/test_util.h"
#include "spool/journal.h"
#include "spool/spool.h"
#include "spool/spool_sys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

typedef struct {
  char *dir;
  TgSpool *spool;
  TgJournal *journal;
} Fixture;

static void setup(Fixture *f, gconstpointer data) {
  f->dir = g_dir_make_tmp("tgjournal-XXXXXX", NULL);
  f->spool = tg_spool_open(f->dir, NULL);
  g_assert_nonnull(f->spool);
  f->journal = tg_journal_open(f->dir, NULL);
  g_assert_nonnull(f->journal);
}

static void teardown(Fixture *f, gconstpointer data) {
  tg_spool_sys_reset();
  tg_journal_free(f->journal);
  tg_spool_free(f->spool);
  tg_test_remove_tree(f->dir);
}

static guint files_in(Fixture *f, const char *sub) {
  g_autofree char *dir = g_build_filename(f->dir, sub, NULL);
  GDir *d = g_dir_open(dir, 0, NULL);
  g_assert_nonnull(d);
  guint n = 0;
  while (g_dir_read_name(d))
    n++;
  g_dir_close(d);
  return n;
}

/* An entry kept in memory, as serve's sessions make them. */
static TgSpoolEntry *memory_entry(Fixture *f, const char *body) {
  const char *rcpts[] = {"support@localhost", "help@localhost", NULL};
  TgSpoolWriter *w = tg_spool_writer_new_buffered(f->spool, "from@example.org", rcpts,
                                                  "smtp 127.0.0.1", 4096, NULL);
  g_assert_nonnull(w);
  g_assert_true(tg_spool_writer_write(w, body, strlen(body), NULL));
  g_assert_true(tg_spool_writer_in_memory(w));
  g_autoptr(GError) err = NULL;
  TgSpoolEntry *e = tg_spool_writer_finish_memory(w, &err);
  g_assert_no_error(err);
  return e;
}

static void assert_same_entry(const TgSpoolEntry *a, const TgSpoolEntry *b) {
  g_assert_cmpstr(a->id, ==, b->id);
  g_assert_cmpstr(a->sender, ==, b->sender);
  g_assert_cmpstr(a->origin, ==, b->origin);
  g_assert_cmpint(a->arrival, ==, b->arrival);
  g_assert_cmpuint(a->recipients->len, ==, b->recipients->len);
  for (guint i = 0; i < a->recipients->len; i++)
    g_assert_cmpstr(g_ptr_array_index(a->recipients, i), ==,
                    g_ptr_array_index(b->recipients, i));
  g_assert_true(g_bytes_equal(a->message, b->message));
}

/* Small: no file at all until the journal; the entry names itself. */
static void test_memory_writer(Fixture *f, gconstpointer data) {
  g_autoptr(TgSpoolEntry) e = memory_entry(f, "Subject: hi\r\n\r\nE0:\nbody\r\n");
  g_assert_cmpuint(files_in(f, "tmp"), ==, 0);
  g_assert_true(tg_spool_id_ok(e->id));
  g_assert_nonnull(e->raw);
  g_assert_cmpstr(e->sender, ==, "from@example.org");
  g_assert_cmpstr(e->origin, ==, "smtp 127.0.0.1");
  g_assert_cmpuint(e->recipients->len, ==, 2);
  gsize len;
  const char *msg = g_bytes_get_data(e->message, &len);
  g_assert_cmpmem(msg, len, "Subject: hi\r\n\r\nE0:\nbody\r\n", 25);
}

/* Past MEMORY_MAX the writer goes to its file, under the same id, and
 * commits like any other; over the size limit it fails as before. */
static void test_memory_writer_spills(Fixture *f, gconstpointer data) {
  TgSpoolWriter *w = tg_spool_writer_new_buffered(f->spool, "a@b", NULL, "x", 1000, NULL);
  GString *big = g_string_new(NULL);
  for (int i = 0; i < 5000; i++)
    g_string_append(big, "0123456789abcdef\r\n");
  g_assert_true(tg_spool_writer_write(w, big->str, 500, NULL));
  g_assert_true(tg_spool_writer_in_memory(w));
  g_assert_true(tg_spool_writer_write(w, big->str + 500, big->len - 500, NULL));
  g_assert_false(tg_spool_writer_in_memory(w));
  g_assert_cmpuint(files_in(f, "tmp"), ==, 1);
  g_autofree char *id = NULL;
  g_assert_true(tg_spool_writer_commit(w, TG_SPOOL_COMMIT_SYNC, &id, NULL, NULL));
  g_autoptr(TgSpoolEntry) e = tg_spool_read(f->spool, TG_SPOOL_QUEUE, id, FALSE, NULL);
  g_assert_nonnull(e);
  g_assert_cmpmem(g_bytes_get_data(e->message, NULL), g_bytes_get_size(e->message),
                  big->str, big->len);
  g_string_free(big, TRUE);

  tg_spool_set_max_message(f->spool, 10);
  w = tg_spool_writer_new_buffered(f->spool, "a@b", NULL, "x", 1000, NULL);
  g_assert_true(tg_spool_writer_write(w, "0123456789ab", 12, NULL));
  g_assert_true(tg_spool_writer_over_limit(w));
  g_autoptr(GError) err = NULL;
  g_assert_null(tg_spool_writer_finish_memory(w, &err));
  g_assert_error(err, TG_SPOOL_ERROR, TG_SPOOL_ERROR_TOO_BIG);
  g_assert_cmpuint(files_in(f, "tmp"), ==, 0);
}

/* Bytes that are not a whole entry are refused, never half read. */
static void test_from_raw_refuses(Fixture *f, gconstpointer data) {
  g_autoptr(TgSpoolEntry) e = memory_entry(f, "Subject: x\r\n\r\nhello\r\n");
  gsize len;
  const char *raw = g_bytes_get_data(e->raw, &len);
  for (gsize cut = 0; cut < len; cut += 7) {
    g_autoptr(GBytes) torn = g_bytes_new(raw, cut);
    g_autoptr(GError) err = NULL;
    g_assert_null(tg_spool_entry_from_raw(torn, &err));
    g_assert_error(err, TG_SPOOL_ERROR, TG_SPOOL_ERROR_CORRUPT);
  }
  g_autofree char *bad_id = g_strndup(raw, len);
  bad_id[strlen("TGSPOOL1\nI22:")] = 'X'; /* not a spool id */
  g_autoptr(GBytes) b = g_bytes_new(bad_id, len);
  g_assert_null(tg_spool_entry_from_raw(b, NULL));
}

/* Written out under its own id, once: a second restore, or one after the
 * entry went to the quarantine, writes nothing. */
static void test_restore(Fixture *f, gconstpointer data) {
  g_autoptr(TgSpoolEntry) e = memory_entry(f, "Subject: r\r\n\r\nrestore me\r\n");
  gboolean written = FALSE;
  g_assert_true(tg_spool_restore(f->spool, e, TG_SPOOL_COMMIT_DEFER, &written, NULL, NULL));
  g_assert_true(written);
  g_assert_cmpuint(files_in(f, "queue"), ==, 0);
  g_autoptr(GPtrArray) ids = g_ptr_array_new();
  g_ptr_array_add(ids, e->id);
  g_assert_true(tg_spool_commit_batch(f->spool, ids, NULL, NULL));
  g_autoptr(TgSpoolEntry) back = tg_spool_read(f->spool, TG_SPOOL_QUEUE, e->id, TRUE, NULL);
  g_assert_nonnull(back);
  assert_same_entry(e, back);

  g_assert_true(tg_spool_restore(f->spool, e, TG_SPOOL_COMMIT_SYNC, &written, NULL, NULL));
  g_assert_false(written);
  g_assert_true(tg_spool_quarantine(f->spool, back, "test", "x", NULL));
  g_assert_true(tg_spool_restore(f->spool, e, TG_SPOOL_COMMIT_SYNC, &written, NULL, NULL));
  g_assert_false(written);
  g_assert_cmpuint(files_in(f, "queue"), ==, 0);
  g_assert_cmpuint(files_in(f, "tmp"), ==, 0);
}

static TgJournalSegment *append(Fixture *f, TgSpoolEntry **entries, guint n) {
  TgJournalSegment *seg = NULL;
  g_autoptr(GError) err = NULL;
  g_assert_true(tg_journal_append(f->journal, entries, n, &seg, &err));
  g_assert_no_error(err);
  g_assert_nonnull(seg);
  return seg;
}

/* A segment lives while any of its records is in flight. */
static void test_release(Fixture *f, gconstpointer data) {
  g_autoptr(TgSpoolEntry) a = memory_entry(f, "Subject: a\r\n\r\na\r\n");
  g_autoptr(TgSpoolEntry) b = memory_entry(f, "Subject: b\r\n\r\nb\r\n");
  TgSpoolEntry *both[] = {a, b};
  TgJournalSegment *s1 = append(f, both, 2);
  g_assert_cmpuint(tg_journal_segment_count(f->dir), ==, 1);
  tg_journal_release(s1);
  g_assert_cmpuint(tg_journal_segment_count(f->dir), ==, 1);
  tg_journal_release(s1);
  g_assert_cmpuint(tg_journal_segment_count(f->dir), ==, 0);
  /* The next append starts a new segment. */
  TgJournalSegment *s2 = append(f, both, 1);
  g_assert_cmpuint(tg_journal_segment_count(f->dir), ==, 1);
  tg_journal_release(s2);
  g_assert_cmpuint(tg_journal_segment_count(f->dir), ==, 0);
}

static guint64 dropped; /* by the last recover() */

static guint recover(Fixture *f) {
  TgJournalRecovery r;
  g_autoptr(GError) err = NULL;
  g_assert_true(tg_journal_recover(f->spool, &r, &err));
  g_assert_no_error(err);
  g_assert_cmpuint(r.failed, ==, 0);
  dropped = r.dropped_bytes;
  return r.restored;
}

/* The process dies: its journal goes without a release, then recovery
 * runs as the next start would.  Returns how many entries came back. */
static guint crash_and_recover(Fixture *f) {
  tg_journal_free(f->journal);
  f->journal = NULL;
  return recover(f);
}

/* Records nobody released (the process died) come back as files of
 * queue/ under their own ids, exactly once. */
static void test_recover(Fixture *f, gconstpointer data) {
  g_autoptr(GPtrArray) kept = g_ptr_array_new_with_free_func((GDestroyNotify)tg_spool_entry_free);
  for (int i = 0; i < 5; i++) {
    g_autofree char *body = g_strdup_printf("Subject: %d\r\n\r\nbody %d\r\n", i, i);
    g_ptr_array_add(kept, memory_entry(f, body));
  }
  TgJournalSegment *seg = append(f, (TgSpoolEntry **)kept->pdata, 3);
  append(f, (TgSpoolEntry **)kept->pdata + 3, 2);
  tg_journal_release(seg); /* one of five done: its replay is harmless */
  /* While the journal is open its segment is in use: left alone. */
  g_assert_cmpuint(recover(f), ==, 0);
  g_assert_cmpuint(files_in(f, "queue"), ==, 0);
  g_assert_cmpuint(crash_and_recover(f), ==, 5);
  g_assert_cmpuint(tg_journal_segment_count(f->dir), ==, 0);
  for (guint i = 0; i < kept->len; i++) {
    TgSpoolEntry *want = g_ptr_array_index(kept, i);
    g_autoptr(TgSpoolEntry) got = tg_spool_read(f->spool, TG_SPOOL_QUEUE, want->id, FALSE, NULL);
    g_assert_nonnull(got);
    assert_same_entry(want, got);
  }
  g_assert_cmpuint(recover(f), ==, 0);
  g_assert_cmpuint(dropped, ==, 0);
  g_assert_cmpuint(files_in(f, "queue"), ==, 5);
}

static char *only_segment_path(Fixture *f) {
  g_autofree char *dir = g_build_filename(f->dir, "journal", NULL);
  GDir *d = g_dir_open(dir, 0, NULL);
  const char *name = g_dir_read_name(d);
  g_assert_nonnull(name);
  char *path = g_build_filename(dir, name, NULL);
  g_assert_null(g_dir_read_name(d));
  g_dir_close(d);
  return path;
}

static void append_bytes(const char *path, const void *data, gsize len) {
  int fd = open(path, O_WRONLY | O_APPEND);
  g_assert_cmpint(fd, >=, 0);
  g_assert_cmpint(write(fd, data, len), ==, (ssize_t)len);
  close(fd);
}

/* Recovery stops at the first record that does not check out: a write
 * cut short or a flipped byte.  What came before is restored, and the
 * rest is counted as dropped. */
static void test_recover_torn(Fixture *f, gconstpointer data) {
  for (int variant = 0; variant < 3; variant++) {
    g_autoptr(TgSpoolEntry) good = memory_entry(f, "Subject: good\r\n\r\ngood\r\n");
    g_autoptr(TgSpoolEntry) bad = memory_entry(f, "Subject: bad\r\n\r\nbad\r\n");
    append(f, &good, 1);
    g_autofree char *path = only_segment_path(f);
    gsize before;
    g_autofree char *head = NULL;
    g_assert_true(g_file_get_contents(path, &head, &before, NULL));
    append(f, &bad, 1);
    g_autofree char *all = NULL;
    gsize after;
    g_assert_true(g_file_get_contents(path, &all, &after, NULL));
    tg_journal_free(f->journal); /* the crash */
    f->journal = NULL;
    /* Rewrite the segment: the good record, then the damaged one. */
    g_autofree char *damaged = g_memdup2(all, after);
    gsize len = after;
    if (variant == 0)
      len = before + (after - before) / 2;
    else if (variant == 1)
      damaged[after - 3] ^= 0x20; /* the entry's end record */
    else
      damaged[after - 8] ^= 0x20; /* "bad" -> "baD": only the CRC tells */
    g_assert_true(g_file_set_contents(path, damaged, (gssize)len, NULL));
    append_bytes(path, all + before, after - before); /* a good copy after: not read */
    g_assert_cmpuint(recover(f), ==, 1);
    g_assert_cmpuint(dropped, ==, len + (after - before) - before);
    g_autoptr(TgSpoolEntry) got = tg_spool_read(f->spool, TG_SPOOL_QUEUE, good->id, FALSE, NULL);
    g_assert_nonnull(got);
    g_autoptr(TgSpoolEntry) none = tg_spool_read(f->spool, TG_SPOOL_QUEUE, bad->id, FALSE, NULL);
    g_assert_null(none);
    g_assert_true(tg_spool_retire(f->spool, got, NULL));
    f->journal = tg_journal_open(f->dir, NULL);
  }
}

#define SEGMENT_HEADER 19 /* "TGJOURNAL1\n" and the nonce (journal.h) */

/* A whole, well-formed record of another segment (what a crash can leave
 * in a file's new blocks: a deleted segment's bytes) has a good CRC but
 * another nonce: recovery stops there. */
static void test_recover_foreign_record(Fixture *f, gconstpointer data) {
  g_autoptr(TgSpoolEntry) old = memory_entry(f, "Subject: old\r\n\r\nan older segment\r\n");
  TgJournalSegment *seg = append(f, &old, 1);
  g_autofree char *old_path = only_segment_path(f);
  g_autofree char *old_bytes = NULL;
  gsize old_len;
  g_assert_true(g_file_get_contents(old_path, &old_bytes, &old_len, NULL));
  tg_journal_release(seg); /* done: that segment is deleted */
  g_assert_cmpuint(tg_journal_segment_count(f->dir), ==, 0);

  g_autoptr(TgSpoolEntry) cur = memory_entry(f, "Subject: new\r\n\r\nthe current one\r\n");
  append(f, &cur, 1);
  g_autofree char *path = only_segment_path(f);
  tg_journal_free(f->journal);
  f->journal = NULL;
  append_bytes(path, old_bytes + SEGMENT_HEADER, old_len - SEGMENT_HEADER);
  g_assert_cmpuint(recover(f), ==, 1);
  g_assert_cmpuint(dropped, ==, old_len - SEGMENT_HEADER);
  g_autoptr(TgSpoolEntry) none = tg_spool_read(f->spool, TG_SPOOL_QUEUE, old->id, FALSE, NULL);
  g_assert_null(none);
}

static Fixture *racing_fixture;

/* The journal creates a segment; before it locks it, a `spool retry`
 * recovers the journal directory. */
static int open_then_recover(const char *path, int flags, mode_t mode) {
  int fd = open(path, flags, mode);
  if (fd >= 0 && g_str_has_suffix(path, ".jnl") && racing_fixture) {
    Fixture *f = racing_fixture;
    racing_fixture = NULL;
    recover(f);
  }
  return fd;
}

/* That recovery deletes the new, empty, unlocked file; the journal must
 * notice before it acknowledges anything written to a file without a
 * name, and take another. */
static void test_create_race(Fixture *f, gconstpointer data) {
  g_autoptr(TgSpoolEntry) e = memory_entry(f, "Subject: race\r\n\r\nlocked in time\r\n");
  racing_fixture = f;
  tg_spool_sys.open = open_then_recover;
  append(f, &e, 1);
  tg_spool_sys_reset();
  g_assert_null(racing_fixture); /* the race was run */
  g_assert_cmpuint(tg_journal_segment_count(f->dir), ==, 1);
  g_assert_cmpuint(crash_and_recover(f), ==, 1);
  g_autoptr(TgSpoolEntry) got = tg_spool_read(f->spool, TG_SPOOL_QUEUE, e->id, FALSE, NULL);
  g_assert_nonnull(got);
}

/* More records in one append than one pwritev() takes (IOV_MAX vectors). */
static void test_many_records(Fixture *f, gconstpointer data) {
  g_autoptr(GPtrArray) many = g_ptr_array_new_with_free_func((GDestroyNotify)tg_spool_entry_free);
  for (int i = 0; i < 1100; i++) {
    g_autofree char *body = g_strdup_printf("Subject: %d\r\n\r\nmessage %d\r\n", i, i);
    g_ptr_array_add(many, memory_entry(f, body));
  }
  append(f, (TgSpoolEntry **)many->pdata, many->len);
  g_assert_cmpuint(crash_and_recover(f), ==, 1100);
  g_assert_cmpuint(dropped, ==, 0);
  g_assert_cmpuint(files_in(f, "queue"), ==, 1100);
}

static int fault_errno;
static int pwritev_calls, pwritev_fail_at;

static ssize_t faulty_pwritev(int fd, const struct iovec *iov, int n, off_t off) {
  if (++pwritev_calls == pwritev_fail_at) {
    /* Half of it reaches the file, then the disk is full. */
    ssize_t half = (ssize_t)iov[0].iov_len / 2;
    if (pwrite(fd, iov[0].iov_base, (size_t)half, off) != half)
      return -1;
    errno = fault_errno;
    return -1;
  }
  return pwritev(fd, iov, n, off);
}

static int failing_fdatasync(int fd) {
  errno = EIO;
  return -1;
}

/* A failed append acknowledges nothing and leaves nothing that recovery
 * would ticket; records appended before it still come back. */
static void test_append_fails(Fixture *f, gconstpointer data) {
  g_autoptr(TgSpoolEntry) first = memory_entry(f, "Subject: 1\r\n\r\none\r\n");
  g_autoptr(TgSpoolEntry) second = memory_entry(f, "Subject: 2\r\n\r\ntwo\r\n");
  g_autoptr(TgSpoolEntry) third = memory_entry(f, "Subject: 3\r\n\r\nthree\r\n");
  TgJournalSegment *seg = NULL;
  g_autoptr(GError) err = NULL;

  pwritev_calls = 0;
  pwritev_fail_at = 1;
  fault_errno = ENOSPC;
  tg_spool_sys.pwritev = faulty_pwritev;
  g_assert_false(tg_journal_append(f->journal, &first, 1, &seg, &err));
  g_assert_error(err, TG_SPOOL_ERROR, TG_SPOOL_ERROR_NO_SPACE);
  g_assert_null(seg);
  g_assert_cmpuint(tg_journal_segment_count(f->dir), ==, 0);
  tg_spool_sys_reset();
  g_clear_error(&err);

  append(f, &first, 1);
  tg_spool_sys.fdatasync = failing_fdatasync;
  g_assert_false(tg_journal_append(f->journal, &second, 1, &seg, &err));
  g_assert_error(err, TG_SPOOL_ERROR, TG_SPOOL_ERROR_TEMP);
  g_assert_nonnull(strstr(err->message, "fdatasync"));
  tg_spool_sys_reset();
  /* That segment takes no more appends: the next one starts another. */
  append(f, &third, 1);
  g_assert_cmpuint(tg_journal_segment_count(f->dir), ==, 2);

  g_assert_cmpuint(crash_and_recover(f), ==, 2);
  g_autoptr(TgSpoolEntry) got1 = tg_spool_read(f->spool, TG_SPOOL_QUEUE, first->id, FALSE, NULL);
  g_assert_nonnull(got1);
  g_autoptr(TgSpoolEntry) got3 = tg_spool_read(f->spool, TG_SPOOL_QUEUE, third->id, FALSE, NULL);
  g_assert_nonnull(got3);
  g_autoptr(TgSpoolEntry) none = tg_spool_read(f->spool, TG_SPOOL_QUEUE, second->id, FALSE, NULL);
  g_assert_null(none);
}

static ssize_t short_pwritev(int fd, const struct iovec *iov, int n, off_t off) {
  /* At most 7 bytes a call: every vector boundary is crossed mid-way. */
  size_t len = MIN(iov[0].iov_len, 7);
  return pwrite(fd, iov[0].iov_base, len, off);
}

/* Short writes are carried on, not mistaken for the end. */
static void test_short_writes(Fixture *f, gconstpointer data) {
  g_autoptr(TgSpoolEntry) a = memory_entry(f, "Subject: a\r\n\r\nshort writes\r\n");
  g_autoptr(TgSpoolEntry) b = memory_entry(f, "Subject: b\r\n\r\nmore of them\r\n");
  TgSpoolEntry *both[] = {a, b};
  tg_spool_sys.pwritev = short_pwritev;
  append(f, both, 2);
  tg_spool_sys_reset();
  g_assert_cmpuint(crash_and_recover(f), ==, 2);
  g_autoptr(TgSpoolEntry) got = tg_spool_read(f->spool, TG_SPOOL_QUEUE, b->id, FALSE, NULL);
  g_assert_nonnull(got);
  assert_same_entry(b, got);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
#define ADD(path, fn) g_test_add(path, Fixture, NULL, setup, fn, teardown)
  ADD("/journal/memory-writer", test_memory_writer);
  ADD("/journal/memory-writer-spills", test_memory_writer_spills);
  ADD("/journal/from-raw-refuses", test_from_raw_refuses);
  ADD("/journal/restore", test_restore);
  ADD("/journal/release", test_release);
  ADD("/journal/recover", test_recover);
  ADD("/journal/recover-torn", test_recover_torn);
  ADD("/journal/recover-foreign-record", test_recover_foreign_record);
  ADD("/journal/create-race", test_create_race);
  ADD("/journal/many-records", test_many_records);
  ADD("/journal/append-fails", test_append_fails);
  ADD("/journal/short-writes", test_short_writes);
  return g_test_run();
}
