/* test-maildir.c - Maildir listing, safe reads, moves and the new/ watcher (agent/maildir.c,
 * agent/watch.c)
 *
 * Every test builds its own Maildir under mkdtemp() and removes it afterwards (the code under
 * test never deletes anything, the test does). Hostile entries (HOSTILE.md items 1-5) are made
 * on the spot: a sparse 10 GiB file, a FIFO, a symlink to /etc/passwd, names with control and
 * bidi bytes. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent/maildir.h"
#include "agent/watch.h"
#include "report/limits.h"
#include "tests/testutil.h"

static char root[PATH_MAX];

/* next_buf - one of four rotating static buffers, so two paths can be passed to rename() */
static char *next_buf(void) {
        static char bufs[4][PATH_MAX * 2];
        static unsigned k;

        return bufs[k++ % ELEMENTSOF(bufs)];
}

/* path_of - root/rel */
static const char *path_of(const char *rel) {
        char *p = next_buf();
        int n = snprintf(p, PATH_MAX * 2, "%s/%s", root, rel);

        ck_assert(n > 0 && n < PATH_MAX * 2);
        return p;
}

/* sub_path - root/sub/name (name may hold any byte but '/') */
static const char *sub_path(const char *sub, const char *name) {
        char *p = next_buf();
        int n = snprintf(p, PATH_MAX * 2, "%s/%s/%s", root, sub, name);

        ck_assert(n > 0 && n < PATH_MAX * 2);
        return p;
}

static void put_file(const char *sub, const char *name, const char *data, size_t len) {
        int fd = open(sub_path(sub, name), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

        ck_assert_msg(fd >= 0, "create %s/%s: %s", sub, name, strerror(errno));
        ck_assert_int_eq(write(fd, data, len), (ssize_t) len);
        ck_assert_int_eq(close(fd), 0);
}

static bool exists(const char *sub, const char *name, mode_t type) {
        struct stat st;

        if (lstat(sub_path(sub, name), &st) < 0)
                return false;
        return (st.st_mode & S_IFMT) == type;
}

static void setup(void) {
        static const char *const subs[] = { "new", "cur", "tmp" };

        ck_assert_ptr_nonnull(strcpy(root, "/tmp/dt-maildir-XXXXXX"));
        ck_assert_ptr_nonnull(mkdtemp(root));
        for (size_t i = 0; i < ELEMENTSOF(subs); i++)
                ck_assert_int_eq(mkdir(path_of(subs[i]), 0700), 0);
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw) {
        (void) st; (void) flag; (void) ftw;
        return remove(p);
}

static void teardown(void) {
        dt_watch_close();
        if (root[0])
                (void) nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
        root[0] = '\0';
}

static struct dt_maildir *open_md(void) {
        struct dt_maildir *md = NULL;
        struct dt_error err = { 0 };

        ck_assert_int_eq(dt_maildir_open(root, &md, &err), 0);
        ck_assert_ptr_nonnull(md);
        return md;
}

/* ---- open ---- */

START_TEST(open_ok)
{
        _cleanup_(dt_maildir_freep) struct dt_maildir *md = open_md();

        ck_assert_str_eq(dt_maildir_root(md), root);
}
END_TEST

static const struct {
        const char *sub;        /* removed, or replaced by a file */
        bool as_file;
        int code;
        const char *msg_end;
} open_bad[] = {
        { "new", false, -ENOENT, "/new' is missing" },
        { "cur", false, -ENOENT, "/cur' is missing" },
        { "tmp", false, -ENOENT, "/tmp' is missing" },
        { "cur", true, -ENOTDIR, "/cur' is not a directory" },
};

START_TEST(open_missing_sub)
{
        struct dt_maildir *md = NULL;
        struct dt_error err;
        size_t ml, el;

        dt_error_clear(&err);
        ck_assert_int_eq(rmdir(path_of(open_bad[_i].sub)), 0);
        if (open_bad[_i].as_file)
                put_file(".", open_bad[_i].sub, "x", 1);
        ck_assert_int_eq(dt_maildir_open(root, &md, &err), open_bad[_i].code);
        ck_assert_ptr_null(md);
        ck_assert_int_eq(err.code, open_bad[_i].code);
        ml = strlen(err.message);
        el = strlen(open_bad[_i].msg_end);
        ck_assert_msg(ml > el && strcmp(err.message + ml - el, open_bad[_i].msg_end) == 0,
                      "message: %s", err.message);
        ck_assert_int_eq(strncmp(err.message, "'/tmp/dt-maildir-", 17), 0);
}
END_TEST

START_TEST(open_no_root)
{
        struct dt_maildir *md = NULL;
        struct dt_error err;

        dt_error_clear(&err);
        ck_assert_int_eq(dt_maildir_open(path_of("nope"), &md, &err), -ENOENT);
        ck_assert_ptr_null(md);
        ck_assert_int_eq(dt_maildir_open("", &md, &err), -EINVAL);
}
END_TEST

/* ---- list ---- */

START_TEST(list_skips_dotfiles_and_sorts)
{
        _cleanup_(dt_maildir_freep) struct dt_maildir *md = open_md();
        static const char *const make[] = { "b", ".hidden", "a", "c:2,S", "..x", "B" };
        static const char *const want[] = { "B", "a", "b", "c:2,S", "d" };
        char **names = NULL;
        uint64_t count = 99;
        size_t n = 99;

        for (size_t i = 0; i < ELEMENTSOF(make); i++)
                put_file("new", make[i], "x", 1);
        ck_assert_int_eq(mkdir(sub_path("new", "d"), 0700), 0);  /* listed: the caller rejects it */
        put_file("cur", "other", "x", 1);

        ck_assert_int_eq(dt_maildir_list(md, DT_MD_NEW, &names, &n), 0);
        ck_assert_uint_eq(n, ELEMENTSOF(want));
        ck_assert_int_eq(dt_maildir_count(md, DT_MD_NEW, &count), 0);    /* the same names */
        ck_assert_uint_eq(count, ELEMENTSOF(want));
        for (size_t i = 0; i < n; i++)
                ck_assert_str_eq(names[i], want[i]);
        names = dt_maildir_names_free(names, n);
        ck_assert_ptr_null(names);

        ck_assert_int_eq(dt_maildir_list(md, DT_MD_CUR, &names, &n), 0);
        ck_assert_uint_eq(n, 1);
        ck_assert_str_eq(names[0], "other");
        dt_maildir_names_free(names, n);
}
END_TEST

START_TEST(list_empty_and_invalid)
{
        _cleanup_(dt_maildir_freep) struct dt_maildir *md = open_md();
        char **names = (char **) 1;
        uint64_t count = 99;
        size_t n = 99;

        put_file("new", ".only-dot", "x", 1);
        ck_assert_int_eq(dt_maildir_list(md, DT_MD_NEW, &names, &n), 0);
        ck_assert_uint_eq(n, 0);
        ck_assert_ptr_null(names);
        ck_assert_int_eq(dt_maildir_list(md, _DT_MD_SUB_MAX, &names, &n), -EINVAL);
        ck_assert_int_eq(dt_maildir_list(md, _DT_MD_SUB_INVALID, &names, &n), -EINVAL);
        ck_assert_int_eq(dt_maildir_list(NULL, DT_MD_NEW, &names, &n), -EINVAL);
        ck_assert_int_eq(dt_maildir_count(md, DT_MD_NEW, &count), 0);
        ck_assert_uint_eq(count, 0);
        count = 99;
        ck_assert_int_eq(dt_maildir_count(md, _DT_MD_SUB_MAX, &count), -EINVAL);
        ck_assert_int_eq(dt_maildir_count(NULL, DT_MD_NEW, &count), -EINVAL);
        ck_assert_uint_eq(count, 99);                   /* untouched on failure */
}
END_TEST

/* ---- read ---- */

START_TEST(read_regular)
{
        _cleanup_(dt_maildir_freep) struct dt_maildir *md = open_md();
        static const char msg[] = "From: a@b\r\n\r\nbody\0with NUL";
        _cleanup_free_ char *buf = NULL;
        struct dt_error err;
        size_t len = 0;

        dt_error_clear(&err);
        put_file("new", "m1", msg, sizeof msg - 1);
        ck_assert_int_eq(dt_maildir_read(md, DT_MD_NEW, "m1", 1024, &buf, &len, &err), 0);
        ck_assert_uint_eq(len, sizeof msg - 1);
        ck_assert_mem_eq(buf, msg, len);
        ck_assert_int_eq(buf[len], '\0');
        ck_assert_int_eq(err.code, 0);
        free(buf);
        buf = NULL;

        /* exactly at the limit is fine */
        ck_assert_int_eq(dt_maildir_read(md, DT_MD_NEW, "m1", sizeof msg - 1, &buf, &len, &err), 0);
        ck_assert_uint_eq(len, sizeof msg - 1);
}
END_TEST

START_TEST(read_empty)
{
        _cleanup_(dt_maildir_freep) struct dt_maildir *md = open_md();
        char *buf = NULL;
        struct dt_error err;
        size_t len = 7;

        dt_error_clear(&err);
        put_file("new", "zero", "", 0);
        ck_assert_int_eq(dt_maildir_read(md, DT_MD_NEW, "zero", 1024, &buf, &len, &err), -ENODATA);
        ck_assert_str_eq(err.reason, DT_R_EMPTY);
        ck_assert_int_eq(err.code, -ENODATA);
        ck_assert_ptr_null(buf);
        ck_assert_uint_eq(len, 7);
}
END_TEST

START_TEST(read_sparse_10g_size_limit)
{
        _cleanup_(dt_maildir_freep) struct dt_maildir *md = open_md();
        char *buf = NULL;
        struct dt_error err;
        struct timespec a, b;
        struct stat st;
        size_t len = 0;
        int fd;

        dt_error_clear(&err);
        fd = open(sub_path("new", "huge"), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(ftruncate(fd, (off_t) 10 << 30), 0);
        ck_assert_int_eq(close(fd), 0);
        ck_assert_int_eq(stat(sub_path("new", "huge"), &st), 0);
        ck_assert_int_eq(st.st_size, (off_t) 10 << 30);

        clock_gettime(CLOCK_MONOTONIC, &a);
        ck_assert_int_eq(dt_maildir_read(md, DT_MD_NEW, "huge", dt_limits_default.message_bytes,
                                         &buf, &len, &err), -EFBIG);
        clock_gettime(CLOCK_MONOTONIC, &b);
        ck_assert_str_eq(err.reason, DT_R_SIZE_LIMIT);
        ck_assert_str_eq(err.message, "file is 10737418240 bytes, limit is 26214400 bytes");
        ck_assert_ptr_null(buf);
        /* no byte read: well under a second even though reading would take minutes */
        ck_assert_int_lt((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000, 500);
}
END_TEST

/* not-regular entries: each is made by one helper, then read must refuse it at once */
static void make_fifo(const char *name) {
        ck_assert_int_eq(mkfifo(sub_path("new", name), 0600), 0);
}
static void make_symlink(const char *name) {
        ck_assert_int_eq(symlink("/etc/passwd", sub_path("new", name)), 0);
}
static void make_dir(const char *name) {
        ck_assert_int_eq(mkdir(sub_path("new", name), 0700), 0);
}
static void make_dangling(const char *name) {
        ck_assert_int_eq(symlink("/nonexistent/dt", sub_path("new", name)), 0);
}

static const struct {
        void (*make)(const char *name);
        const char *message;
} not_regular[] = {
        { make_fifo, "not a regular file (FIFO)" },
        { make_symlink, "not a regular file (symbolic link)" },
        { make_dir, "not a regular file (directory)" },
        { make_dangling, "not a regular file (symbolic link)" },
};

START_TEST(read_not_regular)
{
        _cleanup_(dt_maildir_freep) struct dt_maildir *md = open_md();
        char *buf = NULL;
        struct dt_error err;
        size_t len = 0;

        dt_error_clear(&err);
        not_regular[_i].make("entry");
        alarm(5);       /* a blocked open or read would end the run here, not hang it */
        ck_assert_int_eq(dt_maildir_read(md, DT_MD_NEW, "entry", 1 << 20, &buf, &len, &err),
                         -EBADFD);
        alarm(0);
        ck_assert_str_eq(err.reason, DT_R_NOT_REGULAR);
        ck_assert_str_eq(err.message, not_regular[_i].message);
        ck_assert_ptr_null(buf);
}
END_TEST

START_TEST(read_vanished_is_benign)
{
        _cleanup_(dt_maildir_freep) struct dt_maildir *md = open_md();
        char *buf = NULL;
        struct dt_error err;
        size_t len = 0;

        dt_error_clear(&err);
        put_file("new", "gone", "x", 1);
        ck_assert_int_eq(rename(sub_path("new", "gone"), sub_path("cur", "gone:2,S")), 0);
        ck_assert_int_eq(dt_maildir_read(md, DT_MD_NEW, "gone", 1024, &buf, &len, &err), -ENOENT);
        ck_assert_int_eq(err.code, 0);          /* no error text: the caller only counts it */
        ck_assert_ptr_null(err.reason);
        ck_assert_str_eq(err.message, "");
        ck_assert_ptr_null(buf);
}
END_TEST

START_TEST(read_unreadable)
{
        _cleanup_(dt_maildir_freep) struct dt_maildir *md = open_md();
        char *buf = NULL;
        struct dt_error err;
        size_t len = 0;

        if (geteuid() == 0)
                return;         /* root reads mode 000 files anyway */
        dt_error_clear(&err);
        put_file("new", "locked", "x", 1);
        ck_assert_int_eq(chmod(sub_path("new", "locked"), 0), 0);
        ck_assert_int_eq(dt_maildir_read(md, DT_MD_NEW, "locked", 1024, &buf, &len, &err), -EACCES);
        ck_assert_str_eq(err.reason, DT_R_IO);
        ck_assert_ptr_null(buf);
}
END_TEST

START_TEST(read_out_of_fds_is_transient)
{
        _cleanup_(dt_maildir_freep) struct dt_maildir *md = open_md();
        char *buf = NULL;
        struct dt_error err;
        struct rlimit old, low;
        int fds[256], nfds = 0, r;
        size_t len = 0;

        dt_error_clear(&err);
        put_file("new", "m", "x", 1);
        ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
        low = old;
        low.rlim_cur = 64;
        ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
        while (nfds < (int) ELEMENTSOF(fds)) {
                int fd = dup(0);

                if (fd < 0)
                        break;
                fds[nfds++] = fd;
        }
        r = dt_maildir_read(md, DT_MD_NEW, "m", 1024, &buf, &len, &err);
        while (nfds > 0)
                (void) close(fds[--nfds]);
        ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &old), 0);
        ck_assert_int_eq(r, -EMFILE);
        ck_assert(dt_maildir_error_is_transient(r));
        ck_assert_str_eq(err.reason, DT_R_IO);
        ck_assert_ptr_null(buf);
        ck_assert(exists("new", "m", S_IFREG));
}
END_TEST

static const char *const bad_names[] = { "", ".", "..", ".dot", "a/b", "/etc/passwd", "../x" };

START_TEST(bad_names_refused)
{
        _cleanup_(dt_maildir_freep) struct dt_maildir *md = open_md();
        char *buf = NULL, moved[PATH_MAX];
        struct dt_error err;
        size_t len = 0;

        dt_error_clear(&err);
        ck_assert_int_eq(dt_maildir_read(md, DT_MD_NEW, bad_names[_i], 1024, &buf, &len, &err),
                         -EINVAL);
        ck_assert_int_eq(dt_maildir_mark_seen(md, bad_names[_i]), -EINVAL);
        ck_assert_int_eq(dt_maildir_reject(md, DT_MD_NEW, bad_names[_i], moved, sizeof moved),
                         -EINVAL);
        ck_assert_int_eq(err.code, 0);
}
END_TEST

START_TEST(transient_errors)
{
        ck_assert(dt_maildir_error_is_transient(-EMFILE));
        ck_assert(dt_maildir_error_is_transient(-ENFILE));
        ck_assert(dt_maildir_error_is_transient(-ENOMEM));
        ck_assert(!dt_maildir_error_is_transient(-EACCES));
        ck_assert(!dt_maildir_error_is_transient(-EFBIG));
        ck_assert(!dt_maildir_error_is_transient(-ENOENT));
        ck_assert(!dt_maildir_error_is_transient(0));
}
END_TEST

/* ---- hostile names: read and move byte-exact ---- */

static const char *hostile_name(int i, char *buf, size_t len) {
        switch (i) {
        case 0:
                ck_assert_uint_ge(len, 201);
                memset(buf, 'x', 200);
                buf[0] = '1';
                buf[200] = '\0';
                return buf;
        case 1:
                return "line\nbreak.host";
        case 2:
                return "\x1b[2J\x1b[Hclear";
        case 3:
                return "evil\xe2\x80\xaegpj.exe";             /* U+202E RIGHT-TO-LEFT OVERRIDE */
        case 4:
                return "\r\nPRIORITY=0\nFAKE=1 %n%s\x9b";
        default:
                return "invalid\xff\xfeutf8";
        }
}

START_TEST(hostile_name_byte_exact)
{
        _cleanup_(dt_maildir_freep) struct dt_maildir *md = open_md();
        _cleanup_free_ char *buf = NULL;
        char nb[256], want[300], **names = NULL;
        const char *name = hostile_name(_i, nb, sizeof nb);
        struct dt_error err;
        size_t len = 0, n = 0;

        dt_error_clear(&err);
        put_file("new", name, "hello", 5);
        ck_assert_int_eq(dt_maildir_list(md, DT_MD_NEW, &names, &n), 0);
        ck_assert_uint_eq(n, 1);
        ck_assert_str_eq(names[0], name);
        dt_maildir_names_free(names, n);

        ck_assert_int_eq(dt_maildir_read(md, DT_MD_NEW, name, 1024, &buf, &len, &err), 0);
        ck_assert_uint_eq(len, 5);
        ck_assert_mem_eq(buf, "hello", 5);

        ck_assert_int_eq(dt_maildir_mark_seen(md, name), 0);
        ck_assert_int_lt(snprintf(want, sizeof want, "%s:2,S", name), (int) sizeof want);
        ck_assert(exists("cur", want, S_IFREG));
        ck_assert(!exists("new", name, S_IFREG));
}
END_TEST

/* ---- mark_seen: flags ---- */

static const struct {
        const char *name;
        const char *seen;
} seen_cases[] = {
        { "m1", "m1:2,S" },
        { "m2:2,F", "m2:2,FS" },
        { "m3:2,FT", "m3:2,FST" },
        { "m4:2,S", "m4:2,S" },
        { "m5:2,", "m5:2,S" },
        { "m6:2,DFRT", "m6:2,DFRST" },
        { "m7:2,a", "m7:2,Sa" },                       /* lower-case keywords sort after S */
        { "m8:2,F\x1b", "m8:2,F\x1b:2,S" },            /* not flags: the whole name is kept */
        { "m9:1,x", "m9:1,x:2,S" },                    /* experimental info: not ours to edit */
        { "m10:2,F:2,R", "m10:2,F:2,RS" },             /* the last info counts */
        { "host,S=123", "host,S=123:2,S" },
};

START_TEST(mark_seen_flags)
{
        _cleanup_(dt_maildir_freep) struct dt_maildir *md = open_md();

        put_file("new", seen_cases[_i].name, "x", 1);
        ck_assert_int_eq(dt_maildir_mark_seen(md, seen_cases[_i].name), 0);
        ck_assert_msg(exists("cur", seen_cases[_i].seen, S_IFREG), "no cur/%s",
                      seen_cases[_i].seen);
        ck_assert(!exists("new", seen_cases[_i].name, S_IFREG));
}
END_TEST

START_TEST(mark_seen_never_replaces)
{
        _cleanup_(dt_maildir_freep) struct dt_maildir *md = open_md();
        _cleanup_free_ char *buf = NULL;
        struct dt_error err;
        size_t len = 0;

        dt_error_clear(&err);
        put_file("cur", "dup:2,S", "first", 5);
        put_file("cur", "dup.dt1:2,S", "second", 6);
        put_file("new", "dup", "third", 5);
        ck_assert_int_eq(dt_maildir_mark_seen(md, "dup"), 0);
        ck_assert(exists("cur", "dup.dt2:2,S", S_IFREG));
        ck_assert_int_eq(dt_maildir_read(md, DT_MD_CUR, "dup:2,S", 64, &buf, &len, &err), 0);
        ck_assert_mem_eq(buf, "first", 5);
        free(buf);
        buf = NULL;
        ck_assert_int_eq(dt_maildir_read(md, DT_MD_CUR, "dup.dt2:2,S", 64, &buf, &len, &err), 0);
        ck_assert_mem_eq(buf, "third", 5);
}
END_TEST

START_TEST(mark_seen_long_name)
{
        _cleanup_(dt_maildir_freep) struct dt_maildir *md = open_md();
        char name[NAME_MAX + 1];

        memset(name, 'L', NAME_MAX - 1);        /* 254 bytes: no room for ":2,S" */
        name[NAME_MAX - 1] = '\0';
        put_file("new", name, "x", 1);
        ck_assert_int_eq(dt_maildir_mark_seen(md, name), 0);
        ck_assert(exists("cur", name, S_IFREG));
        ck_assert(!exists("new", name, S_IFREG));
}
END_TEST

START_TEST(mark_seen_vanished)
{
        _cleanup_(dt_maildir_freep) struct dt_maildir *md = open_md();

        ck_assert_int_eq(dt_maildir_mark_seen(md, "never-there"), -ENOENT);
}
END_TEST

/* ---- reject ---- */

static void assert_rejected_folder(void) {
        static const char *const subs[] = { ".Rejected/new", ".Rejected/cur", ".Rejected/tmp" };
        struct stat st;

        for (size_t i = 0; i < ELEMENTSOF(subs); i++) {
                ck_assert_int_eq(lstat(path_of(subs[i]), &st), 0);
                ck_assert(S_ISDIR(st.st_mode));
                ck_assert_int_eq(st.st_mode & 0777, 0700);
        }
        ck_assert_int_eq(lstat(path_of(".Rejected"), &st), 0);
        ck_assert(S_ISDIR(st.st_mode));
        ck_assert_int_eq(lstat(path_of(".Rejected/maildirfolder"), &st), 0);
        ck_assert(S_ISREG(st.st_mode));
}

START_TEST(reject_creates_folder_and_moves)
{
        _cleanup_(dt_maildir_freep) struct dt_maildir *md = open_md();
        char moved[PATH_MAX];
        char **names = NULL;
        size_t n = 0;

        put_file("new", "bad1", "", 0);
        put_file("cur", "bad2:2,F", "x", 1);
        ck_assert_int_eq(dt_maildir_reject(md, DT_MD_NEW, "bad1", moved, sizeof moved), 0);
        ck_assert_str_eq(moved, ".Rejected/cur/bad1:2,S");
        assert_rejected_folder();
        ck_assert(exists(".Rejected/cur", "bad1:2,S", S_IFREG));
        ck_assert(!exists("new", "bad1", S_IFREG));

        /* second reject, from cur/, folder already there */
        ck_assert_int_eq(dt_maildir_reject(md, DT_MD_CUR, "bad2:2,F", moved, sizeof moved), 0);
        ck_assert_str_eq(moved, ".Rejected/cur/bad2:2,FS");
        ck_assert(exists(".Rejected/cur", "bad2:2,FS", S_IFREG));
        ck_assert(!exists("cur", "bad2:2,F", S_IFREG));

        /* both left cur/: nothing remains there to list */
        ck_assert_int_eq(dt_maildir_list(md, DT_MD_CUR, &names, &n), 0);
        ck_assert_uint_eq(n, 0);
}
END_TEST

START_TEST(reject_not_regular_entries)
{
        _cleanup_(dt_maildir_freep) struct dt_maildir *md = open_md();
        char moved[PATH_MAX];
        struct stat st;

        make_fifo("fifo");
        make_symlink("link");
        make_dir("dir");
        ck_assert_int_eq(dt_maildir_reject(md, DT_MD_NEW, "fifo", moved, sizeof moved), 0);
        ck_assert(exists(".Rejected/cur", "fifo:2,S", S_IFIFO));
        ck_assert_int_eq(dt_maildir_reject(md, DT_MD_NEW, "link", moved, sizeof moved), 0);
        ck_assert(exists(".Rejected/cur", "link:2,S", S_IFLNK));        /* the link, not passwd */
        ck_assert_int_eq(dt_maildir_reject(md, DT_MD_NEW, "dir", NULL, 0), 0);
        ck_assert(exists(".Rejected/cur", "dir:2,S", S_IFDIR));
        ck_assert_int_eq(stat("/etc/passwd", &st), 0);
}
END_TEST

START_TEST(reject_small_buffer_moves_nothing)
{
        _cleanup_(dt_maildir_freep) struct dt_maildir *md = open_md();
        char moved[16];

        put_file("new", "some-long-message-name", "x", 1);
        ck_assert_int_eq(dt_maildir_reject(md, DT_MD_NEW, "some-long-message-name", moved,
                                           sizeof moved), -ENOBUFS);
        ck_assert(exists("new", "some-long-message-name", S_IFREG));
}
END_TEST

START_TEST(reject_symlinked_folder_refused)
{
        _cleanup_(dt_maildir_freep) struct dt_maildir *md = open_md();
        char moved[PATH_MAX];

        ck_assert_int_eq(mkdir(path_of("elsewhere"), 0700), 0);
        ck_assert_int_eq(mkdir(path_of("elsewhere/cur"), 0700), 0);
        ck_assert_int_eq(symlink("elsewhere", path_of(".Rejected")), 0);
        put_file("new", "m", "x", 1);
        ck_assert_int_lt(dt_maildir_reject(md, DT_MD_NEW, "m", moved, sizeof moved), 0);
        ck_assert(exists("new", "m", S_IFREG));
        ck_assert(!exists("elsewhere/cur", "m:2,S", S_IFREG));
}
END_TEST

START_TEST(reject_vanished)
{
        _cleanup_(dt_maildir_freep) struct dt_maildir *md = open_md();
        char moved[PATH_MAX];

        ck_assert_int_eq(dt_maildir_reject(md, DT_MD_NEW, "gone", moved, sizeof moved), -ENOENT);
}
END_TEST

/* ---- watcher ---- */

/* wait_for - dt_watch_wait() until name shows up or ms pass; whether it did */
static bool wait_for(const char *name, int ms, bool *saw_other) {
        struct timespec a, b;

        clock_gettime(CLOCK_MONOTONIC, &a);
        for (;;) {
                char **names = NULL;
                size_t n = 0;
                bool ovf = true, found = false;

                ck_assert_int_eq(dt_watch_wait(250, &names, &n, &ovf), 0);
                ck_assert(!ovf);
                for (size_t i = 0; i < n; i++) {
                        if (strcmp(names[i], name) == 0)
                                found = true;
                        else if (saw_other)
                                *saw_other = true;
                }
                dt_maildir_names_free(names, n);
                if (found)
                        return true;
                clock_gettime(CLOCK_MONOTONIC, &b);
                if ((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000 >= ms)
                        return false;
        }
}

/* inotify_fds_cloexec - how many inotify fds this process has open; all must be close-on-exec */
static int inotify_fds_cloexec(void) {
        char path[64], link[64];
        int count = 0;

        for (int fd = 0; fd < 1024; fd++) {
                ssize_t k;

                ck_assert_int_lt(snprintf(path, sizeof path, "/proc/self/fd/%d", fd),
                                 (int) sizeof path);
                k = readlink(path, link, sizeof link - 1);
                if (k < 0)
                        continue;
                link[k] = '\0';
                if (strcmp(link, "anon_inode:inotify") != 0)
                        continue;
                ck_assert_int_ne(fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);
                count++;
        }
        return count;
}

START_TEST(watch_reports_rename_into_new)
{
        char **names = NULL;
        size_t n = 9;
        bool ovf = true, other = false;

        ck_assert_int_eq(dt_watch_open(path_of("new")), 0);
        ck_assert_int_eq(dt_watch_open(path_of("new")), -EBUSY);
        ck_assert_int_eq(inotify_fds_cloexec(), 1);

        /* nothing queued: a zero wait returns at once with no names */
        ck_assert_int_eq(dt_watch_wait(0, &names, &n, &ovf), 0);
        ck_assert_uint_eq(n, 0);
        ck_assert_ptr_null(names);
        ck_assert(!ovf);

        put_file("tmp", "1700000000.M1P2.host", "From: x\r\n\r\n", 11);
        ck_assert_int_eq(rename(sub_path("tmp", "1700000000.M1P2.host"),
                                sub_path("new", "1700000000.M1P2.host")), 0);
        ck_assert(wait_for("1700000000.M1P2.host", 2000, &other));
        ck_assert(!other);

        /* link(2) delivery (the Maildir spec's way) shows as IN_CREATE */
        put_file("tmp", "linked", "x", 1);
        ck_assert_int_eq(link(sub_path("tmp", "linked"), sub_path("new", "linked")), 0);
        ck_assert(wait_for("linked", 2000, NULL));
}
END_TEST

START_TEST(watch_ignores_tmp_and_dotfiles)
{
        char **names = NULL;
        size_t n = 9;
        bool ovf = true;

        ck_assert_int_eq(dt_watch_open(path_of("new")), 0);
        put_file("tmp", "still-writing", "partial", 7);
        put_file("tmp", ".dot", "x", 1);
        ck_assert_int_eq(rename(sub_path("tmp", ".dot"), sub_path("new", ".dot")), 0);
        put_file("cur", "in-cur", "x", 1);
        /* the first wait may see the dot-file's event (skipped); the second sees nothing */
        for (int i = 0; i < 2; i++) {
                ck_assert_int_eq(dt_watch_wait(1000, &names, &n, &ovf), 0);
                ck_assert_uint_eq(n, 0);
                ck_assert_ptr_null(names);
                ck_assert(!ovf);
        }
}
END_TEST

START_TEST(watch_batches_many)
{
        char name[32], **names = NULL;
        size_t n = 0, total = 0;
        bool ovf = true;

        ck_assert_int_eq(dt_watch_open(path_of("new")), 0);
        for (int i = 0; i < 300; i++) {
                ck_assert_int_lt(snprintf(name, sizeof name, "msg%03d", i), (int) sizeof name);
                put_file("tmp", name, "x", 1);
                ck_assert_int_eq(rename(sub_path("tmp", name), sub_path("new", name)), 0);
        }
        /* all queued already: one wait drains them in order */
        ck_assert_int_eq(dt_watch_wait(1000, &names, &n, &ovf), 0);
        ck_assert(!ovf);
        total = n;
        for (size_t i = 0; i < n; i++) {
                ck_assert_int_lt(snprintf(name, sizeof name, "msg%03zu", i), (int) sizeof name);
                ck_assert_str_eq(names[i], name);
        }
        dt_maildir_names_free(names, n);
        ck_assert_uint_eq(total, 300);
}
END_TEST

START_TEST(watch_lost_when_new_removed)
{
        char **names = NULL;
        size_t n = 0;
        bool ovf = false;
        int r = 0;

        ck_assert_int_eq(dt_watch_wait(0, &names, &n, &ovf), -EBADF);
        ck_assert_int_eq(dt_watch_open(path_of("new")), 0);
        ck_assert_int_eq(rename(path_of("new"), path_of("new.away")), 0);
        for (int i = 0; i < 3 && r == 0; i++) {
                r = dt_watch_wait(1000, &names, &n, &ovf);
                dt_maildir_names_free(names, n);
        }
        ck_assert_int_eq(r, DT_WATCH_LOST);
        dt_watch_close();
        dt_watch_close();       /* harmless twice */
        ck_assert_int_eq(dt_watch_open(path_of("new")), -ENOENT);
        ck_assert_int_eq(dt_watch_open(path_of("new.away")), 0);
}
END_TEST

static Suite *maildir_suite(void) {
        Suite *s = suite_create("maildir");
        TCase *tc = tcase_create("core");

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 30);
        tcase_add_test(tc, open_ok);
        tcase_add_loop_test(tc, open_missing_sub, 0, ELEMENTSOF(open_bad));
        tcase_add_test(tc, open_no_root);
        tcase_add_test(tc, list_skips_dotfiles_and_sorts);
        tcase_add_test(tc, list_empty_and_invalid);
        tcase_add_test(tc, read_regular);
        tcase_add_test(tc, read_empty);
        tcase_add_test(tc, read_sparse_10g_size_limit);
        tcase_add_loop_test(tc, read_not_regular, 0, ELEMENTSOF(not_regular));
        tcase_add_test(tc, read_vanished_is_benign);
        tcase_add_test(tc, read_unreadable);
        tcase_add_test(tc, read_out_of_fds_is_transient);
        tcase_add_loop_test(tc, bad_names_refused, 0, ELEMENTSOF(bad_names));
        tcase_add_test(tc, transient_errors);
        tcase_add_loop_test(tc, hostile_name_byte_exact, 0, 6);
        tcase_add_loop_test(tc, mark_seen_flags, 0, ELEMENTSOF(seen_cases));
        tcase_add_test(tc, mark_seen_never_replaces);
        tcase_add_test(tc, mark_seen_long_name);
        tcase_add_test(tc, mark_seen_vanished);
        tcase_add_test(tc, reject_creates_folder_and_moves);
        tcase_add_test(tc, reject_not_regular_entries);
        tcase_add_test(tc, reject_small_buffer_moves_nothing);
        tcase_add_test(tc, reject_symlinked_folder_refused);
        tcase_add_test(tc, reject_vanished);
        tcase_add_test(tc, watch_reports_rename_into_new);
        tcase_add_test(tc, watch_ignores_tmp_and_dotfiles);
        tcase_add_test(tc, watch_batches_many);
        tcase_add_test(tc, watch_lost_when_new_removed);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        return dt_test_main(maildir_suite());
}
