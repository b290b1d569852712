/* test-usercache.c - dt_user_name(): the same answers as getpwuid_r(), kept or not, for known
 * and unknown uids, over more uids than the cache holds, and its bounds */
#include <check.h>
#include <pwd.h>
#include <stdint.h>
#include <string.h>

#include "correlate/usercache.h"
#include "tests/testutil.h"

/* nss_name - what getpwuid_r() says for uid, into buf; false for no such user */
static bool nss_name(int64_t uid, char *buf, size_t cap) {
        struct passwd pw, *res = NULL;
        char pwbuf[4096];

        ck_assert_int_eq(getpwuid_r((uid_t) uid, &pw, pwbuf, sizeof pwbuf, &res), 0);
        if (!res)
                return false;
        ck_assert_uint_lt(strlen(res->pw_name), cap);
        strcpy(buf, res->pw_name);
        return true;
}

/* unknown_uid - a uid with no user on this machine */
static int64_t unknown_uid(void) {
        char b[256];
        int64_t uid;

        for (uid = 3999999999; nss_name(uid, b, sizeof b); uid--)
                ;
        return uid;
}

START_TEST(root_and_repeats) {
        char b[256];
        int i;

        dt_user_warm_up();
        for (i = 0; i < 1000; i++) {
                ck_assert(dt_user_name(0, b, sizeof b));
                ck_assert_str_eq(b, "root");
        }
}
END_TEST

START_TEST(unknown_uid_kept_as_unknown) {
        int64_t uid = unknown_uid();
        char b[256];
        int i;

        for (i = 0; i < 100; i++) {
                b[0] = 'x';
                ck_assert(!dt_user_name(uid, b, sizeof b));
        }
}
END_TEST

/* more uids than the cache holds, twice over, in two orders: every answer is NSS's */
START_TEST(more_uids_than_slots) {
        const int64_t n = DT_USERCACHE_SIZE * 3;
        char got[256], want[256];
        int64_t uid, round;

        for (round = 0; round < 2; round++)
                for (uid = 0; uid < n; uid++) {
                        int64_t u = round ? n - 1 - uid : uid;
                        bool known = nss_name(u, want, sizeof want);

                        ck_assert_int_eq(dt_user_name(u, got, sizeof got), known);
                        if (known)
                                ck_assert_str_eq(got, want);
                }
}
END_TEST

START_TEST(bounds) {
        char b[8];

        ck_assert(!dt_user_name(-1, b, sizeof b));
        ck_assert(!dt_user_name((int64_t) UINT32_MAX + 1, b, sizeof b));
        ck_assert(!dt_user_name(0, b, 0));
        ck_assert(!dt_user_name(0, NULL, 8));
        ck_assert(!dt_user_name(0, b, 4));      /* "root" needs 5 */
        ck_assert(dt_user_name(0, b, 5));
        ck_assert_str_eq(b, "root");
}
END_TEST

int main(void) {
        Suite *s = suite_create("usercache");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, root_and_repeats);
        tcase_add_test(tc, unknown_uid_kept_as_unknown);
        tcase_add_test(tc, more_uids_than_slots);
        tcase_add_test(tc, bounds);
        suite_add_tcase(s, tc);
        return dt_test_main(s);
}
