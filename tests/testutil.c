/* testutil.c - fixture paths, file loading and the TAP runner for the Check programs
 *
 * DT_TESTDATA and DT_CORPUS come from Makefile.am's AM_TESTS_ENVIRONMENT; both fall back to
 * paths relative to the source tree so a test binary also runs by hand from the top folder. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/testutil.h"

const char *dt_test_path(const char *rel) {
        static char path[4096];
        const char *base;
        int n;

        if (strncmp(rel, "corpus/", 7) == 0) {
                base = getenv("DT_CORPUS");
                if (!base)
                        base = "../shared/corpus";
                rel += 7;
        } else {
                base = getenv("DT_TESTDATA");
                if (!base)
                        base = "tests/data";
        }
        n = snprintf(path, sizeof path, "%s/%s", base, rel);
        ck_assert_msg(n > 0 && (size_t) n < sizeof path, "fixture path too long: %s", rel);
        return path;
}

char *dt_test_load(const char *rel, size_t *len) {
        const char *path = dt_test_path(rel);
        FILE *f;
        char *buf;
        long size;

        f = fopen(path, "rb");
        ck_assert_msg(f != NULL, "cannot open fixture %s: %s", path, strerror(errno));
        ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
        size = ftell(f);
        ck_assert_int_ge(size, 0);
        rewind(f);
        buf = malloc((size_t) size + 1);
        ck_assert_ptr_nonnull(buf);
        ck_assert_uint_eq(fread(buf, 1, (size_t) size, f), (size_t) size);
        buf[size] = '\0';
        fclose(f);
        if (len)
                *len = (size_t) size;
        return buf;
}

char *dt_test_utf16le(const char *ascii, size_t n, size_t *len) {
        char *buf = malloc(2 + 2 * n);
        size_t i;

        ck_assert_ptr_nonnull(buf);
        buf[0] = (char) 0xff;
        buf[1] = (char) 0xfe;
        for (i = 0; i < n; i++) {
                buf[2 + 2 * i] = ascii[i];
                buf[3 + 2 * i] = '\0';
        }
        *len = 2 + 2 * n;
        return buf;
}

int dt_test_main(Suite *s) {
        SRunner *sr = srunner_create(s);
        int failed;

        srunner_set_tap(sr, "-");
        srunner_run_all(sr, CK_SILENT);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
