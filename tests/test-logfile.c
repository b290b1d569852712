/* test-logfile.c - following a log file through rotation, siblings, cursors and hostile lines */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>
#include <zlib.h>

#include "correlate/logfile.h"
#include "report/macro.h"
#include "tests/testutil.h"

static char dir[] = "/tmp/dt-logfile-XXXXXX";
static char path[256];

static void setup(void) {
        snprintf(path, sizeof path, "%s/mail.log", dir);
        for (int i = 0; i < 6; i++) {
                char p[300];

                snprintf(p, sizeof p, "%s.%d", path, i);
                (void) unlink(p);
                snprintf(p, sizeof p, "%s.%d.gz", path, i);
                (void) unlink(p);
        }
        (void) unlink(path);
}

static void put(const char *p, const char *mode, const void *s, size_t n) {
        FILE *f = fopen(p, mode);

        ck_assert_ptr_nonnull(f);
        ck_assert_uint_eq(fwrite(s, 1, n, f), n);
        ck_assert_int_eq(fclose(f), 0);
}

static void puts_(const char *p, const char *mode, const char *s) {
        put(p, mode, s, strlen(s));
}

static void put_gz(const char *p, const char *s) {
        gzFile g = gzopen(p, "wb");

        ck_assert_ptr_nonnull(g);
        ck_assert_int_eq(gzwrite(g, s, (unsigned) strlen(s)), (int) strlen(s));
        ck_assert_int_eq(gzclose(g), Z_OK);
}

/* drain - every line available now, joined with '|' */
static void drain(struct dt_logfile *lf, char *out, size_t cap) {
        const char *l;
        size_t n, o = strlen(out);

        while (dt_logfile_next(lf, &l, &n) == 1) {
                ck_assert_uint_lt(o + n + 2, cap);
                memcpy(out + o, l, n);
                o += n;
                out[o++] = '|';
                out[o] = '\0';
        }
}

static struct dt_logfile *open_lf(const char *cursor, int64_t since, unsigned flags) {
        struct dt_logfile *lf = NULL;
        struct dt_error err = {0};

        ck_assert_int_eq(dt_logfile_open(path, cursor, since, flags, &dt_limits_default, &lf, &err), 0);
        return lf;
}

START_TEST(siblings_on_first_start)
{
        _cleanup_(dt_logfile_freep) struct dt_logfile *lf = NULL;
        char p[300], got[4096] = "";
        struct timeval old[2] = { { 1000, 0 }, { 1000, 0 } };

        setup();
        snprintf(p, sizeof p, "%s.3.gz", path);
        put_gz(p, "too old\n");
        ck_assert_int_eq(utimes(p, old), 0);
        snprintf(p, sizeof p, "%s.2.gz", path);
        put_gz(p, "l1\nl2\nl3\n");
        snprintf(p, sizeof p, "%s.1", path);
        puts_(p, "w", "l4\nl5\nl6");            /* no newline at its end: still a line */
        puts_(path, "w", "l7\nl8\npartial");
        lf = open_lf(NULL, 2000, DT_LOGFILE_CATCHUP);
        drain(lf, got, sizeof got);
        ck_assert_str_eq(got, "l1|l2|l3|l4|l5|l6|l7|l8|");
        /* the live file's unterminated line waits for its newline */
        puts_(path, "a", " line\n");
        drain(lf, got, sizeof got);
        ck_assert_str_eq(got, "l1|l2|l3|l4|l5|l6|l7|l8|partial line|");
}
END_TEST

START_TEST(rotation_by_rename)
{
        _cleanup_(dt_logfile_freep) struct dt_logfile *lf = NULL;
        char p[300], got[4096] = "";

        setup();
        puts_(path, "w", "a\nb\n");
        lf = open_lf(NULL, 0, 0);
        drain(lf, got, sizeof got);
        ck_assert_str_eq(got, "a|b|");
        /* the writer adds a line, logrotate renames, the writer adds one more to the old file
         * (before its HUP), then a new file appears */
        puts_(path, "a", "c\n");
        snprintf(p, sizeof p, "%s.1", path);
        ck_assert_int_eq(rename(path, p), 0);
        puts_(p, "a", "d-last");
        puts_(path, "w", "e\nf\n");
        drain(lf, got, sizeof got);
        ck_assert_str_eq(got, "a|b|c|d-last|e|f|");
        ck_assert_uint_eq(dt_logfile_rotations(lf), 1);
        drain(lf, got, sizeof got);
        ck_assert_str_eq(got, "a|b|c|d-last|e|f|");
}
END_TEST

START_TEST(rotation_by_truncation)
{
        _cleanup_(dt_logfile_freep) struct dt_logfile *lf = NULL;
        char got[4096] = "";

        setup();
        puts_(path, "w", "first line\nsecond line\n");
        lf = open_lf(NULL, 0, 0);
        drain(lf, got, sizeof got);
        puts_(path, "w", "x\n");                /* copytruncate, then a short new line */
        drain(lf, got, sizeof got);
        ck_assert_str_eq(got, "first line|second line|x|");
        ck_assert_uint_eq(dt_logfile_rotations(lf), 1);
}
END_TEST

START_TEST(cursor_resume)
{
        struct dt_logfile *lf;
        char cur[DT_LOGFILE_CURSOR_MAX], p[300], got[4096] = "";
        struct stat st;

        setup();
        puts_(path, "w", "1\n2\n");
        lf = open_lf(NULL, 0, DT_LOGFILE_CATCHUP);
        drain(lf, got, sizeof got);
        ck_assert_int_eq(dt_logfile_cursor(lf, cur, sizeof cur), 0);
        ck_assert_int_eq(stat(path, &st), 0);
        {
                char want[64];

                snprintf(want, sizeof want, "%llu:4", (unsigned long long) st.st_ino);
                ck_assert_str_eq(cur, want);
        }
        lf = dt_logfile_free(lf);
        /* while we were stopped: two lines, a rotation, two more */
        puts_(path, "a", "3\n4\n");
        snprintf(p, sizeof p, "%s.1", path);
        ck_assert_int_eq(rename(path, p), 0);
        puts_(path, "w", "5\n6\n");
        lf = open_lf(cur, 0, DT_LOGFILE_CATCHUP);
        drain(lf, got, sizeof got);
        ck_assert_str_eq(got, "1|2|3|4|5|6|");
        ck_assert_int_eq(dt_logfile_cursor(lf, cur, sizeof cur), 0);
        lf = dt_logfile_free(lf);
        /* restart at the live file's cursor: nothing again */
        lf = open_lf(cur, 0, DT_LOGFILE_CATCHUP);
        drain(lf, got, sizeof got);
        ck_assert_str_eq(got, "1|2|3|4|5|6|");
        lf = dt_logfile_free(lf);
        /* a bad cursor is refused */
        {
                struct dt_error err = {0};

                ck_assert_int_eq(dt_logfile_open(path, "12:x", 0, 0, &dt_limits_default, &lf, &err),
                                 -EINVAL);
                ck_assert_int_eq(dt_logfile_open(path, "123456789012345678901:1", 0, 0,
                                                 &dt_limits_default, &lf, &err), -EINVAL);
        }
}
END_TEST

START_TEST(hostile_lines)
{
        _cleanup_(dt_logfile_freep) struct dt_logfile *lf = NULL;
        size_t big = 1u << 20;
        char *b = malloc(big + 64);
        const char *l;
        size_t n;

        setup();
        ck_assert_ptr_nonnull(b);
        memcpy(b, "ok1\n", 4);
        memset(b + 4, 'A', big);
        memcpy(b + 4 + big, "\nok\0nul\nend", 11);       /* 1 MB line, NUL, no final newline */
        put(path, "w", b, 4 + big + 11);
        free(b);
        lf = open_lf(NULL, 0, DT_LOGFILE_ONESHOT);
        ck_assert_int_eq(dt_logfile_next(lf, &l, &n), 1);
        ck_assert_uint_eq(n, 3);
        ck_assert_int_eq(dt_logfile_next(lf, &l, &n), 1);
        ck_assert_uint_eq(n, 6);
        ck_assert_int_eq(memcmp(l, "ok\0nul", 6), 0);
        ck_assert_int_eq(dt_logfile_next(lf, &l, &n), 1);       /* ONESHOT: the unterminated end */
        ck_assert_uint_eq(n, 3);
        ck_assert_int_eq(memcmp(l, "end", 3), 0);
        ck_assert_int_eq(dt_logfile_next(lf, &l, &n), 0);
        ck_assert_uint_eq(dt_logfile_too_long(lf), 1);
}
END_TEST

START_TEST(missing_file)
{
        _cleanup_(dt_logfile_freep) struct dt_logfile *lf = NULL;
        char cur[DT_LOGFILE_CURSOR_MAX], got[64] = "";

        setup();
        lf = open_lf(NULL, 0, DT_LOGFILE_CATCHUP);
        drain(lf, got, sizeof got);
        ck_assert_str_eq(got, "");
        ck_assert_int_eq(dt_logfile_cursor(lf, cur, sizeof cur), -ENOENT);
        puts_(path, "w", "late\n");
        drain(lf, got, sizeof got);
        ck_assert_str_eq(got, "late|");
        ck_assert_str_eq(dt_logfile_current(lf), path);
}
END_TEST

int main(void) {
        Suite *s = suite_create("logfile");
        TCase *tc = tcase_create("core");
        int r;

        if (!mkdtemp(dir))
                return 99;
        tcase_add_test(tc, siblings_on_first_start);
        tcase_add_test(tc, rotation_by_rename);
        tcase_add_test(tc, rotation_by_truncation);
        tcase_add_test(tc, cursor_resume);
        tcase_add_test(tc, hostile_lines);
        tcase_add_test(tc, missing_file);
        suite_add_tcase(s, tc);
        r = dt_test_main(s);
        setup();
        (void) rmdir(dir);
        return r;
}
