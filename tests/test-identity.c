/* test-identity.c - own host names and addresses: canonical comparison, extras, rejection */
#include <check.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "agent/identity.h"
#include "tests/testutil.h"

START_TEST(extras_are_ours_in_any_spelling)
{
        const char *names[] = { "Mail.Example.COM." };
        const char *addrs[] = { "2001:DB8:0:0::25", "203.0.113.25" };
        _cleanup_(dt_identity_freep) struct dt_identity *id = NULL;

        ck_assert_int_eq(dt_identity_new(names, 1, addrs, 2, &id), 0);
        ck_assert(dt_identity_has_address(id, "2001:db8::25"));
        ck_assert(dt_identity_has_address(id, "203.0.113.25"));
        ck_assert(dt_identity_has_address(id, "::ffff:203.0.113.25"));
        ck_assert(!dt_identity_has_address(id, "203.0.113.26"));
        ck_assert(!dt_identity_has_address(id, "not an address"));
        ck_assert(!dt_identity_has_address(id, "127.0.0.1"));      /* loopback is never ours */
        ck_assert(dt_identity_has_name(id, "mail.example.com"));
        ck_assert(dt_identity_has_name(id, "MAIL.example.com."));
        ck_assert(!dt_identity_has_name(id, "example.com"));
        ck_assert_ptr_nonnull(strstr(dt_identity_addresses(id), "203.0.113.25"));
}
END_TEST

START_TEST(hostname_is_detected)
{
        _cleanup_(dt_identity_freep) struct dt_identity *id = NULL;
        char host[256] = "";

        ck_assert_int_eq(dt_identity_new(NULL, 0, NULL, 0, &id), 0);
        ck_assert_int_eq(gethostname(host, sizeof host - 1), 0);
        ck_assert(dt_identity_has_name(id, host));
}
END_TEST

START_TEST(bad_extra_address_is_rejected)
{
        const char *addrs[] = { "999.1.1.1" };
        struct dt_identity *id = NULL;

        ck_assert_int_eq(dt_identity_new(NULL, 0, addrs, 1, &id), -EINVAL);
        ck_assert_ptr_null(id);
}
END_TEST

int main(void) {
        Suite *s = suite_create("identity");
        TCase *tc = tcase_create("identity");

        tcase_add_test(tc, extras_are_ours_in_any_spelling);
        tcase_add_test(tc, hostname_is_detected);
        tcase_add_test(tc, bad_extra_address_is_rejected);
        suite_add_tcase(s, tc);
        return dt_test_main(s);
}
