/* test_spool.c - the spool's durability contract, with injected faults. */
#include "tests/support/test_util.h"
#include "spool/spool.h"
#include "spool/spool_recycle.h"
#include "spool/spool_sys.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct {
  char *dir;
  TgSpool *spool;
} Fixture;

static void setup(Fixture *f, gconstpointer data) {
  f->dir = g_dir_make_tmp("tgspool-XXXXXX", NULL);
  f->spool = tg_spool_open(f->dir, NULL);
  g_assert_nonnull(f->spool);
}

static void teardown(Fixture *f, gconstpointer data) {
  tg_spool_sys_reset();
  tg_spool_free(f->spool);
  tg_test_remove_tree(f->dir);
}

static guint count(Fixture *f, TgSpoolArea area) {
  g_autoptr(GPtrArray) ids = tg_spool_list(f->spool, area, NULL);
  return ids->len;
}

static guint count_tmp(Fixture *f) {
  g_autofree char *tmp = g_build_filename(f->dir, "tmp", NULL);
  GDir *d = g_dir_open(tmp, 0, NULL);
  guint n = 0;
  while (g_dir_read_name(d))
    n++;
  g_dir_close(d);
  return n;
}

static void test_roundtrip(Fixture *f, gconstpointer data) {
  const char *rcpts[] = {"support@localhost", "help@localhost", NULL};
  /* Bigger than the write buffer, so the message spans several records,
   * with NUL bytes and record-like text inside. */
  GString *msg = g_string_new("Subject: x\n\nE0:\nM5:hello\n");
  for (int i = 0; i < 20000; i++)
    g_string_append_len(msg, "line\0with nul\n", 14);
  char *id = NULL;
  g_assert_true(tg_spool_enter(f->spool, "from@x", rcpts, "test", msg->str, msg->len, &id, NULL));
  g_assert_true(tg_spool_id_ok(id));
  g_autoptr(TgSpoolEntry) e = tg_spool_read(f->spool, TG_SPOOL_QUEUE, id, TRUE, NULL);
  g_assert_nonnull(e);
  gsize len;
  const char *data_r = g_bytes_get_data(e->message, &len);
  g_assert_cmpmem(data_r, len, msg->str, msg->len);
  g_assert_cmpstr(e->sender, ==, "from@x");
  g_assert_cmpuint(e->recipients->len, ==, 2);
  g_assert_cmpstr(g_ptr_array_index(e->recipients, 1), ==, "help@localhost");
  g_assert_cmpstr(e->origin, ==, "test");
  /* Held by us: a second reader is told it is locked. */
  g_autoptr(GError) err = NULL;
  g_assert_null(tg_spool_read(f->spool, TG_SPOOL_QUEUE, id, TRUE, &err));
  g_assert_error(err, TG_SPOOL_ERROR, TG_SPOOL_ERROR_LOCKED);
  g_assert_true(tg_spool_retire(f->spool, e, NULL));
  g_assert_true(tg_spool_retire(f->spool, e, NULL)); /* idempotent */
  g_assert_cmpuint(count(f, TG_SPOOL_QUEUE), ==, 0);
  g_string_free(msg, TRUE);
  g_free(id);
}

static void test_torn_entry(Fixture *f, gconstpointer data) {
  char *id = NULL;
  g_assert_true(tg_spool_enter(f->spool, "", NULL, "", "abc", 3, &id, NULL));
  g_autofree char *path = g_build_filename(f->dir, "queue", id, NULL);
  g_autofree char *content = NULL;
  gsize len;
  g_assert_true(g_file_get_contents(path, &content, &len, NULL));
  /* Every truncation of a valid entry is detected as torn. */
  for (gsize cut = 0; cut < len; cut++) {
    g_assert_true(g_file_set_contents(path, content, (gssize)cut, NULL));
    g_autoptr(GError) err = NULL;
    g_autoptr(TgSpoolEntry) e = tg_spool_read(f->spool, TG_SPOOL_QUEUE, id, FALSE, &err);
    g_assert_null(e);
    g_assert_error(err, TG_SPOOL_ERROR, TG_SPOOL_ERROR_CORRUPT);
  }
  g_free(id);
}

static int fail_after;
static int failing_errno;
static int faulty_fsync(int fd) {
  if (--fail_after < 0) {
    errno = failing_errno;
    return -1;
  }
  return fsync(fd);
}
static ssize_t faulty_write(int fd, const void *buf, size_t len) {
  if (--fail_after < 0) {
    errno = failing_errno;
    return -1;
  }
  return write(fd, buf, len);
}
static int faulty_rename(const char *a, const char *b) {
  if (--fail_after < 0) {
    errno = failing_errno;
    return -1;
  }
  return rename(a, b);
}

/* N entries written in DEFER mode (in tmp/, not accepted yet). */
static GPtrArray *defer_entries(Fixture *f, int n) {
  GPtrArray *ids = g_ptr_array_new_with_free_func(g_free);
  for (int i = 0; i < n; i++) {
    TgSpoolWriter *w = tg_spool_writer_new(f->spool, "", NULL, "", NULL);
    g_assert_true(tg_spool_writer_write(w, "m", 1, NULL));
    char *id;
    g_assert_true(tg_spool_writer_commit(w, TG_SPOOL_COMMIT_DEFER, &id, NULL, NULL));
    g_ptr_array_add(ids, id);
  }
  return ids;
}

static int rename_calls, rename_fail_at;
static int rename_fails_once(const char *a, const char *b) {
  if (++rename_calls == rename_fail_at) {
    errno = EIO;
    return -1;
  }
  return rename(a, b);
}

/* A group commit where one entry does not move: the others are in queue/
 * and are reported as accepted; only the failed one is not (its sender
 * retries it).  A failed directory fsync fails every entry. */
static void test_batch_partial(Fixture *f, gconstpointer data) {
  g_autoptr(GPtrArray) ids = defer_entries(f, 3);
  rename_calls = 0;
  rename_fail_at = 2;
  tg_spool_sys.rename = rename_fails_once;
  g_autoptr(GPtrArray) failed = g_ptr_array_new();
  g_autoptr(GError) err = NULL;
  g_assert_false(tg_spool_commit_batch(f->spool, ids, failed, &err));
  tg_spool_sys_reset();
  g_assert_error(err, TG_SPOOL_ERROR, TG_SPOOL_ERROR_TEMP);
  g_assert_cmpuint(failed->len, ==, 1);
  g_assert_true(g_ptr_array_index(failed, 0) == g_ptr_array_index(ids, 1));
  g_assert_cmpuint(count(f, TG_SPOOL_QUEUE), ==, 2);
  g_assert_cmpuint(count_tmp(f), ==, 1);

  g_autoptr(GPtrArray) more = defer_entries(f, 2);
  fail_after = 0;
  failing_errno = EIO;
  tg_spool_sys.fsync = faulty_fsync;
  g_autoptr(GPtrArray) failed2 = g_ptr_array_new();
  g_autoptr(GError) err2 = NULL;
  g_assert_false(tg_spool_commit_batch(f->spool, more, failed2, &err2));
  tg_spool_sys_reset();
  g_assert_cmpuint(failed2->len, ==, 2);
}

/* Fail the N-th write / fsync / rename with ENOSPC or EIO: the commit
 * reports a temporary failure and leaves neither a queued entry nor a
 * stray tmp file - the client keeps the message. */
static void test_faults(Fixture *f, gconstpointer data) {
  const int errs[] = {ENOSPC, EIO};
  for (int which = 0; which < 3; which++) {
    for (gsize e = 0; e < G_N_ELEMENTS(errs); e++) {
      for (int n = 0; n < 3; n++) {
        tg_spool_sys_reset();
        fail_after = n;
        failing_errno = errs[e];
        if (which == 0)
          tg_spool_sys.write = faulty_write;
        else if (which == 1)
          tg_spool_sys.fsync = faulty_fsync;
        else
          tg_spool_sys.rename = faulty_rename;
        g_autoptr(GError) err = NULL;
        char *id = NULL;
        gboolean ok = tg_spool_enter(f->spool, "", NULL, "", "msg", 3, &id, &err);
        tg_spool_sys_reset();
        if (ok) { /* the fault came after the last call of that kind */
          g_assert_cmpint(n, >, 0);
          g_autoptr(TgSpoolEntry) en = tg_spool_read(f->spool, TG_SPOOL_QUEUE, id, FALSE, NULL);
          g_assert_nonnull(en);
          tg_spool_retire(f->spool, en, NULL);
          g_free(id);
          continue;
        }
        int want = errs[e] == ENOSPC ? TG_SPOOL_ERROR_NO_SPACE : TG_SPOOL_ERROR_TEMP;
        g_assert_error(err, TG_SPOOL_ERROR, want);
        g_assert_nonnull(strstr(err->message, g_strerror(errs[e])));
        g_assert_cmpuint(count(f, TG_SPOOL_QUEUE), ==, 0);
        g_assert_cmpuint(count_tmp(f), ==, 0);
      }
    }
  }
}

/* UNSYNCED (deliver): no fsync at all, and the entry is in queue/; the
 * quarantine, which may keep the only copy, syncs the file itself. */
static void test_unsynced_and_quarantine(Fixture *f, gconstpointer data) {
  fail_after = 0;
  failing_errno = EIO;
  tg_spool_sys.fsync = faulty_fsync; /* any fsync fails */
  TgSpoolWriter *w = tg_spool_writer_new(f->spool, "", NULL, "", NULL);
  g_assert_true(tg_spool_writer_write(w, "msg", 3, NULL));
  char *id = NULL;
  int lock_fd = -1;
  g_assert_true(tg_spool_writer_commit(w, TG_SPOOL_COMMIT_UNSYNCED, &id, &lock_fd, NULL));
  g_assert_cmpuint(count(f, TG_SPOOL_QUEUE), ==, 1);
  g_autoptr(TgSpoolEntry) e = tg_spool_read_locked(f->spool, id, lock_fd, NULL);
  g_assert_nonnull(e);
  g_autoptr(GError) err = NULL;
  g_assert_false(tg_spool_quarantine(f->spool, e, "test", "x", &err));
  g_assert_error(err, TG_SPOOL_ERROR, TG_SPOOL_ERROR_TEMP);
  g_assert_nonnull(strstr(err->message, "fsync"));
  g_assert_cmpuint(count(f, TG_SPOOL_QUEUE), ==, 1); /* stays where it was */
  g_assert_cmpuint(count(f, TG_SPOOL_QUARANTINE), ==, 0);
  tg_spool_sys_reset();
  g_assert_true(tg_spool_quarantine(f->spool, e, "test", "x", NULL));
  g_assert_cmpuint(count(f, TG_SPOOL_QUARANTINE), ==, 1);
  g_free(id);
}

/* A well-formed entry under another entry's name (what a reused file
 * whose new bytes never reached the disk looks like) is refused. */
static void test_foreign_entry(Fixture *f, gconstpointer data) {
  char *id = NULL;
  g_assert_true(tg_spool_enter(f->spool, "a@x", NULL, "", "old message", 11, &id, NULL));
  g_autofree char *src = g_build_filename(f->dir, "queue", id, NULL);
  g_autofree char *bytes = NULL;
  gsize len = 0;
  g_assert_true(g_file_get_contents(src, &bytes, &len, NULL));
  const char *other = "0000000000001-0000abcd";
  g_autofree char *dst = g_build_filename(f->dir, "queue", other, NULL);
  g_assert_true(g_file_set_contents(dst, bytes, (gssize)len, NULL));
  g_autoptr(GError) err = NULL;
  g_assert_null(tg_spool_read(f->spool, TG_SPOOL_QUEUE, other, FALSE, &err));
  g_assert_error(err, TG_SPOOL_ERROR, TG_SPOOL_ERROR_CORRUPT);
  g_autoptr(TgSpoolEntry) e = tg_spool_read(f->spool, TG_SPOOL_QUEUE, id, FALSE, NULL);
  g_assert_nonnull(e); /* under its own name it reads */
  g_free(id);
}

static void test_limits(Fixture *f, gconstpointer data) {
  tg_spool_set_max_message(f->spool, 10);
  g_autoptr(GError) err = NULL;
  TgSpoolWriter *w = tg_spool_writer_new(f->spool, "", NULL, "", NULL);
  g_assert_true(tg_spool_writer_write(w, "0123456789", 10, NULL));
  g_assert_false(tg_spool_writer_over_limit(w));
  g_assert_true(tg_spool_writer_write(w, "x", 1, NULL));
  g_assert_true(tg_spool_writer_over_limit(w));
  g_assert_cmpuint(tg_spool_writer_size(w), ==, 11);
  g_assert_false(tg_spool_writer_commit(w, TG_SPOOL_COMMIT_SYNC, NULL, NULL, &err));
  g_assert_error(err, TG_SPOOL_ERROR, TG_SPOOL_ERROR_TOO_BIG);
  g_assert_cmpuint(count(f, TG_SPOOL_QUEUE), ==, 0);
  g_assert_cmpuint(count_tmp(f), ==, 0);
  /* A reserve larger than any disk refuses new entries. */
  tg_spool_set_min_free(f->spool, G_MAXUINT64);
  g_clear_error(&err);
  g_assert_null(tg_spool_writer_new(f->spool, "", NULL, "", &err));
  g_assert_error(err, TG_SPOOL_ERROR, TG_SPOOL_ERROR_NO_SPACE);
}

static void test_ids(Fixture *f, gconstpointer data) {
  g_assert_false(tg_spool_id_ok("../../etc/passwd"));
  g_assert_false(tg_spool_id_ok(""));
  g_assert_false(tg_spool_id_ok(NULL));
  g_assert_false(tg_spool_id_ok("66118f0cff249-14b4213"));
  g_assert_false(tg_spool_id_ok("66118F0CFF249-14B42137"));
  g_assert_false(tg_spool_id_ok("66118f0cff249/14b42137"));
  g_assert_true(tg_spool_id_ok("66118f0cff249-14b42137"));
  g_autoptr(GError) err = NULL;
  g_assert_null(tg_spool_read(f->spool, TG_SPOOL_QUEUE, "../x", FALSE, &err));
  g_assert_error(err, TG_SPOOL_ERROR, TG_SPOOL_ERROR_BAD_ID);
}

static void test_quarantine_and_batch(Fixture *f, gconstpointer data) {
  g_autoptr(GPtrArray) ids = defer_entries(f, 5);
  /* Deferred entries are not accepted yet. */
  g_assert_cmpuint(count(f, TG_SPOOL_QUEUE), ==, 0);
  g_assert_true(tg_spool_commit_batch(f->spool, ids, NULL, NULL));
  g_assert_cmpuint(count(f, TG_SPOOL_QUEUE), ==, 5);
  g_autoptr(TgSpoolEntry) e = tg_spool_read(f->spool, TG_SPOOL_QUEUE,
                                            g_ptr_array_index(ids, 0), TRUE, NULL);
  g_assert_true(tg_spool_quarantine(f->spool, e, "mime-depth", "too\ndeep", NULL));
  g_assert_cmpuint(count(f, TG_SPOOL_QUARANTINE), ==, 1);
  g_autofree char *reason = tg_spool_quarantine_reason(f->spool, e->id);
  g_assert_cmpstr(reason, ==, "mime-depth too deep");
  g_assert_true(tg_spool_release(f->spool, e->id, NULL));
  g_assert_cmpuint(count(f, TG_SPOOL_QUARANTINE), ==, 0);
  g_assert_cmpuint(count(f, TG_SPOOL_QUEUE), ==, 5);
  gint64 oldest;
  g_assert_cmpuint(tg_spool_depth(f->spool, &oldest), ==, 5);
  g_assert_cmpint(oldest, >, 0);
}

static ino_t inode_of(const char *path) {
  struct stat st;
  g_assert_cmpint(stat(path, &st), ==, 0);
  return st.st_ino;
}

/* A retired entry's file goes to free/, and the next entry - through
 * another TgSpool of the same process, as in `serve` - reuses that inode
 * instead of allocating one (spool_recycle.h), overwriting it in place. */
static void test_recycle(Fixture *f, gconstpointer data) {
  g_autoptr(GString) old = g_string_new("Subject: private\n\n");
  for (int i = 0; i < 200; i++)
    g_string_append(old, "card 4111 1111 1111 1111\n");
  char *id = NULL;
  g_assert_true(tg_spool_enter(f->spool, "a@x", NULL, "t", old->str, old->len, &id, NULL));
  g_autofree char *queued = g_build_filename(f->dir, "queue", id, NULL);
  ino_t ino = inode_of(queued);
  g_autoptr(TgSpoolEntry) e = tg_spool_read(f->spool, TG_SPOOL_QUEUE, id, TRUE, NULL);
  g_assert_true(tg_spool_retire(f->spool, e, NULL));
  g_assert_false(g_file_test(queued, G_FILE_TEST_EXISTS));
  g_autofree char *pooled = g_build_filename(f->dir, "free", id, NULL);
  g_assert_cmpuint(inode_of(pooled), ==, ino);

  g_autoptr(TgSpool) other = tg_spool_open(f->dir, NULL);
  char *id2 = NULL;
  g_assert_true(tg_spool_enter(other, "b@x", NULL, "t", "hi", 2, &id2, NULL));
  g_autofree char *queued2 = g_build_filename(f->dir, "queue", id2, NULL);
  g_assert_cmpuint(inode_of(queued2), ==, ino);
  g_assert_false(g_file_test(pooled, G_FILE_TEST_EXISTS));
  /* The reused file holds the new entry only: cut to its length, no tail
   * of the longer old one. */
  g_autofree char *raw = NULL;
  gsize raw_len = 0;
  g_assert_true(g_file_get_contents(queued2, &raw, &raw_len, NULL));
  g_assert_cmpuint(raw_len, <, 100);
  g_assert_true(g_str_has_suffix(raw, "E0:\n"));
  g_assert_null(strstr(raw, "4111"));
  g_autoptr(TgSpoolEntry) e2 = tg_spool_read(other, TG_SPOOL_QUEUE, id2, FALSE, NULL);
  g_assert_nonnull(e2);
  g_assert_cmpmem(g_bytes_get_data(e2->message, NULL), g_bytes_get_size(e2->message), "hi", 2);
  g_assert_cmpstr(e2->sender, ==, "b@x");
  /* A reader that opened the old name before it was retired finds it gone. */
  g_autoptr(GError) err = NULL;
  g_assert_null(tg_spool_read(f->spool, TG_SPOOL_QUEUE, id, TRUE, &err));
  g_assert_error(err, TG_SPOOL_ERROR, TG_SPOOL_ERROR_NOT_FOUND);
  g_free(id);
  g_free(id2);
}

/* Big files give their disk space back when they are retired. */
static void test_recycle_big(Fixture *f, gconstpointer data) {
  gsize big = TG_SPOOL_RECYCLE_KEEP_BYTES + 4096;
  g_autofree char *msg = g_malloc(big);
  memset(msg, 'x', big);
  char *id = NULL;
  g_assert_true(tg_spool_enter(f->spool, "", NULL, "", msg, big, &id, NULL));
  g_autoptr(TgSpoolEntry) e = tg_spool_read(f->spool, TG_SPOOL_QUEUE, id, TRUE, NULL);
  g_assert_true(tg_spool_retire(f->spool, e, NULL));
  g_autofree char *pooled = g_build_filename(f->dir, "free", id, NULL);
  struct stat st;
  g_assert_cmpint(stat(pooled, &st), ==, 0);
  g_assert_cmpint(st.st_size, ==, 0);
  g_free(id);
}

static char *pool_one(Fixture *f, ino_t *ino_r) {
  char *id = NULL;
  g_assert_true(tg_spool_enter(f->spool, "", NULL, "", "old", 3, &id, NULL));
  g_autofree char *q = g_build_filename(f->dir, "queue", id, NULL);
  *ino_r = inode_of(q);
  g_autoptr(TgSpoolEntry) e = tg_spool_read(f->spool, TG_SPOOL_QUEUE, id, TRUE, NULL);
  g_assert_true(tg_spool_retire(f->spool, e, NULL));
  g_assert_cmpint(e->lock_fd, ==, -1); /* retire let go of the lock */
  return id;
}

static ino_t enter_inode(Fixture *f) {
  char *id = NULL;
  g_assert_true(tg_spool_enter(f->spool, "", NULL, "", "new", 3, &id, NULL));
  g_autofree char *q = g_build_filename(f->dir, "queue", id, NULL);
  g_autoptr(TgSpoolEntry) e = tg_spool_read(f->spool, TG_SPOOL_QUEUE, id, FALSE, NULL);
  g_assert_nonnull(e);
  g_assert_cmpmem(g_bytes_get_data(e->message, NULL), g_bytes_get_size(e->message), "new", 3);
  g_free(id);
  return inode_of(q);
}

/* A claimed file is new to tg_spool_recover(), however old it was. */
static void test_recycle_recover(Fixture *f, gconstpointer data) {
  ino_t ino;
  g_autofree char *id = pool_one(f, &ino);
  g_autofree char *pooled = g_build_filename(f->dir, "free", id, NULL);
  struct timespec old[2] = {{.tv_sec = time(NULL) - 3600}, {.tv_sec = time(NULL) - 3600}};
  g_assert_cmpint(utimensat(AT_FDCWD, pooled, old, 0), ==, 0);
  TgSpoolWriter *w = tg_spool_writer_new(f->spool, "", NULL, "", NULL);
  g_assert_nonnull(w);
  g_assert_cmpuint(tg_spool_recover(f->spool), ==, 0);
  char *nid = NULL;
  g_assert_true(tg_spool_writer_write(w, "x", 1, NULL));
  g_assert_true(tg_spool_writer_commit(w, TG_SPOOL_COMMIT_SYNC, &nid, NULL, NULL));
  g_autofree char *q = g_build_filename(f->dir, "queue", nid, NULL);
  g_assert_cmpuint(inode_of(q), ==, ino);
  g_free(nid);
}

/* Files in free/ that are not ours to overwrite are thrown away, never
 * written: one still locked by its old owner, a symlink, a second name
 * of an inode (what a crash on a disk without a journal can leave). */
static void test_recycle_refuses(Fixture *f, gconstpointer data) {
  ino_t ino;
  g_autofree char *id = pool_one(f, &ino);
  g_autofree char *pooled = g_build_filename(f->dir, "free", id, NULL);
  int holder = open(pooled, O_RDONLY);
  g_assert_cmpint(flock(holder, LOCK_EX), ==, 0);
  g_assert_cmpuint(enter_inode(f), !=, ino);
  close(holder);

  g_autofree char *victim = g_build_filename(f->dir, "victim", NULL);
  g_assert_true(g_file_set_contents(victim, "keep me", -1, NULL));
  g_autofree char *link_path = g_build_filename(f->dir, "free", "0000000000001-00000001", NULL);
  g_assert_cmpint(symlink(victim, link_path), ==, 0);
  tg_spool_free(f->spool); /* the last user of the pool: the next lists free/ */
  f->spool = tg_spool_open(f->dir, NULL);
  g_assert_cmpuint(enter_inode(f), !=, inode_of(victim));
  g_autofree char *text = NULL;
  g_assert_true(g_file_get_contents(victim, &text, NULL, NULL));
  g_assert_cmpstr(text, ==, "keep me");

  g_autofree char *hard = g_build_filename(f->dir, "free", "0000000000002-00000002", NULL);
  g_assert_cmpint(link(victim, hard), ==, 0);
  tg_spool_free(f->spool);
  f->spool = tg_spool_open(f->dir, NULL);
  g_assert_cmpuint(enter_inode(f), !=, inode_of(victim));
  g_clear_pointer(&text, g_free);
  g_assert_true(g_file_get_contents(victim, &text, NULL, NULL));
  g_assert_cmpstr(text, ==, "keep me");
}

/* Short of disk space, the pool gives its files back first. */
static void test_recycle_drain(Fixture *f, gconstpointer data) {
  ino_t ino;
  g_autofree char *id = pool_one(f, &ino);
  g_autofree char *pooled = g_build_filename(f->dir, "free", id, NULL);
  g_assert_true(g_file_test(pooled, G_FILE_TEST_EXISTS));
  tg_spool_set_min_free(f->spool, G_MAXUINT64);
  g_autoptr(GError) err = NULL;
  g_assert_null(tg_spool_writer_new(f->spool, "", NULL, "", &err));
  g_assert_error(err, TG_SPOOL_ERROR, TG_SPOOL_ERROR_NO_SPACE);
  g_assert_false(g_file_test(pooled, G_FILE_TEST_EXISTS));
}

/* Other processes' retired files are found by a fresh process. */
static void test_recycle_across_processes(Fixture *f, gconstpointer data) {
  char *id = NULL;
  g_assert_true(tg_spool_enter(f->spool, "", NULL, "", "x", 1, &id, NULL));
  g_autofree char *queued = g_build_filename(f->dir, "queue", id, NULL);
  ino_t ino = inode_of(queued);
  g_autoptr(TgSpoolEntry) e = tg_spool_read(f->spool, TG_SPOOL_QUEUE, id, TRUE, NULL);
  g_assert_true(tg_spool_retire(f->spool, e, NULL));
  pid_t pid = fork();
  if (pid == 0) {
    /* The child's pool was not inherited listed: it must read free/. */
    tg_spool_free(f->spool);
    TgSpool *s = tg_spool_open(f->dir, NULL);
    char *id2 = NULL;
    gboolean ok = tg_spool_enter(s, "", NULL, "", "y", 1, &id2, NULL);
    g_autofree char *q2 = g_build_filename(f->dir, "queue", id2, NULL);
    struct stat st;
    _exit(ok && stat(q2, &st) == 0 && st.st_ino == ino ? 0 : 1);
  }
  int status = 0;
  g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
  g_assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  g_free(id);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
#define ADD(path, fn) g_test_add(path, Fixture, NULL, setup, fn, teardown)
  ADD("/spool/roundtrip", test_roundtrip);
  ADD("/spool/torn", test_torn_entry);
  ADD("/spool/foreign", test_foreign_entry);
  ADD("/spool/faults", test_faults);
  ADD("/spool/limits", test_limits);
  ADD("/spool/unsynced-quarantine", test_unsynced_and_quarantine);
  ADD("/spool/ids", test_ids);
  ADD("/spool/quarantine-batch", test_quarantine_and_batch);
  ADD("/spool/batch-partial", test_batch_partial);
  ADD("/spool/recycle", test_recycle);
  ADD("/spool/recycle-big", test_recycle_big);
  ADD("/spool/recycle-recover", test_recycle_recover);
  ADD("/spool/recycle-refuses", test_recycle_refuses);
  ADD("/spool/recycle-drain", test_recycle_drain);
  ADD("/spool/recycle-across-processes", test_recycle_across_processes);
  return g_test_run();
}
