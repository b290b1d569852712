/* test-timefmt.c - dt_utc(): each form, the edges of the epoch, and every fallback */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "agent/timefmt.h"
#include "report/aggregate.h"
#include "tests/testutil.h"

START_TEST(forms) {
        char b[64];

        ck_assert_str_eq(dt_utc(1773144000, DT_UTC_RFC3339, "", b, sizeof b), "2026-03-10T12:00:00Z");
        ck_assert_str_eq(dt_utc(1773144000, DT_UTC_DAY, "?", b, sizeof b), "2026-03-10");
        ck_assert_str_eq(dt_utc(1773144059, DT_UTC_MINUTE, "?", b, sizeof b), "2026-03-10 12:00");
        ck_assert_str_eq(dt_utc(1773144001, DT_UTC_READABLE, "-", b, sizeof b), "2026-03-10 12:00:01 UTC");
        ck_assert_str_eq(dt_utc(0, DT_UTC_RFC3339, "", b, sizeof b), "1970-01-01T00:00:00Z");
        ck_assert_str_eq(dt_utc(-1, DT_UTC_RFC3339, "", b, sizeof b), "1969-12-31T23:59:59Z");
        ck_assert_str_eq(dt_utc(951782400, DT_UTC_DAY, "?", b, sizeof b), "2000-02-29");
}
END_TEST

START_TEST(fallbacks) {
        char b[64], small[8];

        ck_assert_str_eq(dt_utc(DT_TIME_MISSING, DT_UTC_RFC3339, "", b, sizeof b), "");
        ck_assert_str_eq(dt_utc(DT_TIME_MISSING, DT_UTC_DAY, "?", b, sizeof b), "?");
        /* a year gmtime_r cannot represent in an int */
        ck_assert_str_eq(dt_utc(INT64_MAX, DT_UTC_READABLE, "-", b, sizeof b), "-");
        /* too small for the text: the fallback, never a cut date */
        ck_assert_str_eq(dt_utc(1773144000, DT_UTC_DAY, "?", small, sizeof small), "?");
        /* no room at all: buf untouched */
        small[0] = 'x';
        ck_assert_ptr_eq(dt_utc(1773144000, DT_UTC_DAY, "?", small, 0), small);
        ck_assert_int_eq(small[0], 'x');
}
END_TEST

int main(void) {
        Suite *s = suite_create("timefmt");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, forms);
        tcase_add_test(tc, fallbacks);
        suite_add_tcase(s, tc);
        return dt_test_main(s);
}
