/* test-config.c - conf/config.c: defaults, the shipped file, print round trip, every error class
 *
 * Fixtures: tests/data/config/good-*.conf load, bad-*.conf each fail with one exact
 * "FILE:LINE: key: what" message; conf/dmarctrace.conf is the file the package installs. */
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/config.h"
#include "tests/testutil.h"

#define SHIPPED "../../conf/dmarctrace.conf"    /* relative to DT_TESTDATA (tests/data) */

/* load_ok - load a fixture that must be valid */
static struct dt_config *load_ok(const char *rel) {
        struct dt_config *c = NULL;
        struct dt_error err = { 0 };
        char path[4096];
        int r;

        (void) snprintf(path, sizeof path, "%s", dt_test_path(rel));
        r = dt_config_load(path, &c, &err);
        ck_assert_msg(r == 0, "%s: %d %s", rel, r, err.message);
        ck_assert_ptr_nonnull(c);
        ck_assert_str_eq(c->path, path);
        return c;
}

static void assert_list(char **v, size_t n, const char *const *want, size_t n_want) {
        size_t i;

        ck_assert_uint_eq(n, n_want);
        for (i = 0; i < n; i++)
                ck_assert_str_eq(v[i], want[i]);
}

/* assert_defaults - every key but maildir.path at its documented default */
static void assert_defaults(const struct dt_config *c) {
        static const char *const journal[] = { "journal" };

        ck_assert_int_eq(c->maildir_mode, DT_MAILDIR_MOVE);
        ck_assert_str_eq(c->state_dir, "/var/lib/dmarctrace");
        ck_assert_int_eq(c->output, DT_OUTPUT_AUTO);
        ck_assert_uint_eq(c->n_hostnames, 0);
        ck_assert_uint_eq(c->n_addresses, 0);
        assert_list(c->logs_postfix, c->n_logs_postfix, journal, 1);
        ck_assert_uint_eq(c->n_logs_exim, 0);
        ck_assert_uint_eq(c->n_logs_php_mail, 0);
        ck_assert_uint_eq(c->retention_days, 30);
        ck_assert_uint_eq(c->baseline_days, 14);
        ck_assert_double_eq(c->spike_factor, 10.0);
        ck_assert_uint_eq(c->min_messages, 200);
        ck_assert_double_eq(c->surge_factor, 10.0);
        ck_assert_uint_eq(c->surge_min_reports, 20);
        ck_assert_int_eq(c->records, DT_RECORDS_OWN);
        ck_assert_uint_eq(c->health_interval, 3600);
        ck_assert_int_eq(memcmp(&c->limits, &dt_limits_default, sizeof c->limits), 0);
}

static bool lists_eq(char **a, size_t na, char **b, size_t nb) {
        size_t i;

        if (na != nb)
                return false;
        for (i = 0; i < na; i++)
                if (strcmp(a[i], b[i]) != 0)
                        return false;
        return true;
}

/* assert_same - every value equal (the path aside) */
static void assert_same(const struct dt_config *a, const struct dt_config *b) {
        ck_assert_str_eq(a->maildir_path, b->maildir_path);
        ck_assert_int_eq(a->maildir_mode, b->maildir_mode);
        ck_assert_str_eq(a->state_dir, b->state_dir);
        ck_assert_int_eq(a->output, b->output);
        ck_assert(lists_eq(a->hostnames, a->n_hostnames, b->hostnames, b->n_hostnames));
        ck_assert(lists_eq(a->addresses, a->n_addresses, b->addresses, b->n_addresses));
        ck_assert(lists_eq(a->logs_postfix, a->n_logs_postfix, b->logs_postfix, b->n_logs_postfix));
        ck_assert(lists_eq(a->logs_exim, a->n_logs_exim, b->logs_exim, b->n_logs_exim));
        ck_assert(lists_eq(a->logs_php_mail, a->n_logs_php_mail, b->logs_php_mail,
                           b->n_logs_php_mail));
        ck_assert_uint_eq(a->retention_days, b->retention_days);
        ck_assert_uint_eq(a->baseline_days, b->baseline_days);
        ck_assert_double_eq(a->spike_factor, b->spike_factor);
        ck_assert_uint_eq(a->min_messages, b->min_messages);
        ck_assert_double_eq(a->surge_factor, b->surge_factor);
        ck_assert_uint_eq(a->surge_min_reports, b->surge_min_reports);
        ck_assert_int_eq(a->records, b->records);
        ck_assert_uint_eq(a->health_interval, b->health_interval);
        ck_assert_int_eq(memcmp(&a->limits, &b->limits, sizeof a->limits), 0);
}

/* print_reload - dt_config_print(c) into a temporary file, loaded again */
static struct dt_config *print_reload(const struct dt_config *c, char **text) {
        char tmp[] = "/tmp/test-config-XXXXXX";
        struct dt_config *c2 = NULL;
        struct dt_error err = { 0 };
        FILE *f;
        long size;
        int fd, r;

        fd = mkstemp(tmp);
        ck_assert_int_ge(fd, 0);
        f = fdopen(fd, "w+");
        ck_assert_ptr_nonnull(f);
        dt_config_print(c, f);
        ck_assert_int_eq(fflush(f), 0);
        size = ftell(f);
        ck_assert_int_gt(size, 0);
        *text = calloc(1, (size_t) size + 1);
        ck_assert_ptr_nonnull(*text);
        rewind(f);
        ck_assert_uint_eq(fread(*text, 1, (size_t) size, f), (size_t) size);
        fclose(f);
        r = dt_config_load(tmp, &c2, &err);
        ck_assert_msg(r == 0, "reload: %d %s\n%s", r, err.message, *text);
        (void) unlink(tmp);
        return c2;
}

START_TEST(shipped_file_loads_with_defaults)
{
        _cleanup_(dt_config_freep) struct dt_config *c = load_ok(SHIPPED);

        ck_assert_str_eq(c->maildir_path, "/var/mail/dmarc/Maildir");
        assert_defaults(c);
}
END_TEST

START_TEST(minimal_file_gets_defaults)
{
        _cleanup_(dt_config_freep) struct dt_config *c = load_ok("config/good-minimal.conf");

        ck_assert_str_eq(c->maildir_path, "/srv/mail/dmarc/Maildir");
        assert_defaults(c);
}
END_TEST

START_TEST(full_file_sets_every_key)
{
        static const char *const hosts[] = { "mail.example.com", "www1.example.com" };
        static const char *const addrs[] = { "192.0.2.10", "2001:db8::10" };
        static const char *const postfix[] = { "journal", "/var/log/mail.log" };
        static const char *const exim[] = { "/var/log/exim4/mainlog" };
        static const char *const php[] = { "/var/log/php/mail \"quoted\".log" };
        _cleanup_(dt_config_freep) struct dt_config *c = load_ok("config/good-full.conf");

        ck_assert_str_eq(c->maildir_path, "/srv/mail/dmarc reports/Maildir");
        ck_assert_int_eq(c->maildir_mode, DT_MAILDIR_KEEP);
        ck_assert_str_eq(c->state_dir, "/srv/state/dmarctrace");
        ck_assert_int_eq(c->output, DT_OUTPUT_JSON);
        assert_list(c->hostnames, c->n_hostnames, hosts, 2);
        assert_list(c->addresses, c->n_addresses, addrs, 2);
        assert_list(c->logs_postfix, c->n_logs_postfix, postfix, 2);
        assert_list(c->logs_exim, c->n_logs_exim, exim, 1);
        assert_list(c->logs_php_mail, c->n_logs_php_mail, php, 1);
        ck_assert_uint_eq(c->retention_days, 90);
        ck_assert_uint_eq(c->baseline_days, 28);
        ck_assert_double_eq(c->spike_factor, 2.5);
        ck_assert_uint_eq(c->min_messages, 5000000000ull);
        ck_assert_double_eq(c->surge_factor, 4.0);     /* an integer is fine for a float key */
        ck_assert_uint_eq(c->surge_min_reports, 7);
        ck_assert_int_eq(c->records, DT_RECORDS_ALL);
        ck_assert_uint_eq(c->health_interval, 1);      /* the smallest interval on */
        ck_assert_uint_eq(c->limits.message_bytes, 32u << 20);
        ck_assert_uint_eq(c->limits.header_bytes, 65536);
        ck_assert_uint_eq(c->limits.header_fields, 500);
        ck_assert_uint_eq(c->limits.mime_depth, 4);
        ck_assert_uint_eq(c->limits.mime_parts, 32);
        ck_assert_uint_eq(c->limits.unpacked_bytes, 5ull << 30);
        ck_assert_uint_eq(c->limits.unpack_ratio, 100);
        ck_assert_uint_eq(c->limits.ratio_after_bytes, 0);
        ck_assert_uint_eq(c->limits.zip_entries, 2);
        ck_assert_uint_eq(c->limits.xml_depth, 16);
        ck_assert_uint_eq(c->limits.xml_text_bytes, 4096);
        ck_assert_uint_eq(c->limits.records, 100000);
        ck_assert_uint_eq(c->limits.log_line_bytes, 8192);
        ck_assert_uint_eq(c->limits.field_bytes, 2048);
}
END_TEST

START_TEST(limits_override_keeps_other_defaults)
{
        _cleanup_(dt_config_freep) struct dt_config *c = load_ok("config/good-limits.conf");
        struct dt_limits want = dt_limits_default;

        want.unpacked_bytes = 5368709120ull;
        want.xml_depth = 16;
        want.ratio_after_bytes = 0;
        ck_assert_uint_eq(c->limits.unpacked_bytes, 5368709120ull);
        ck_assert_uint_eq(c->limits.xml_depth, 16);
        ck_assert_int_eq(memcmp(&c->limits, &want, sizeof want), 0);
}
END_TEST

START_TEST(prescan_ignores_comments_and_strings)
{
        _cleanup_(dt_config_freep) struct dt_config *c = load_ok("config/good-prescan.conf");

        ck_assert_str_eq(c->maildir_path, "/srv/5000000000/@include/Maildir");
        ck_assert_str_eq(c->state_dir, "/srv/a\"9999999999\\");
        ck_assert_uint_eq(c->min_messages, 2147483647u);
        ck_assert_uint_eq(c->surge_min_reports, 2147483647u);
        ck_assert_uint_eq(c->limits.unpacked_bytes, 5ull << 30);
        ck_assert_double_eq(c->spike_factor, 10.0);
        ck_assert_double_eq(c->surge_factor, 5000000000.5);
}
END_TEST

/* print output loads again to equal values, and printing that gives the same text */
static const char *const round_trip_files[] = {
        SHIPPED,
        "config/good-minimal.conf",
        "config/good-full.conf",
        "config/good-limits.conf",
        "config/good-prescan.conf",
};

START_TEST(print_round_trip)
{
        _cleanup_(dt_config_freep) struct dt_config *c = load_ok(round_trip_files[_i]);
        _cleanup_(dt_config_freep) struct dt_config *c2 = NULL, *c3 = NULL;
        _cleanup_free_ char *text = NULL, *text2 = NULL;
        const char *body, *body2;

        c2 = print_reload(c, &text);
        assert_same(c, c2);
        c3 = print_reload(c2, &text2);
        /* only the first line (the file name) may differ */
        body = strchr(text, '\n');
        body2 = strchr(text2, '\n');
        ck_assert_ptr_nonnull(body);
        ck_assert_ptr_nonnull(body2);
        ck_assert_str_eq(body, body2);
}
END_TEST

START_TEST(print_shows_every_key)
{
        static const char *const lines[] = {
                "maildir = {\n        path = \"/srv/mail/dmarc/Maildir\";\n        mode = \"move\";\n};\n",
                "\nstate_dir = \"/var/lib/dmarctrace\";\n",
                "\noutput = \"auto\";\n",
                "        hostnames = [ ];\n",
                "        addresses = [ ];\n",
                "        postfix = [ \"journal\" ];\n",
                "        exim = [ ];\n",
                "        php_mail = [ ];\n",
                "        retention_days = 30;\n",
                "        baseline_days = 14;\n",
                "        spike_factor = 10.0;\n",
                "        min_messages = 200;\n",
                "        surge_factor = 10.0;\n",
                "        surge_min_reports = 20;\n",
                "events = {\n        records = \"own\";\n        health_interval = 3600;\n};\n",
                "        message_bytes = 26214400;\n",
                "        header_bytes = 102400;\n",
                "        header_fields = 1000;\n",
                "        mime_depth = 8;\n",
                "        mime_parts = 64;\n",
                "        unpacked_bytes = 268435456;\n",
                "        unpack_ratio = 1000;\n",
                "        ratio_after_bytes = 8388608;\n",
                "        zip_entries = 16;\n",
                "        xml_depth = 32;\n",
                "        xml_text_bytes = 65536;\n",
                "        records = 2000000;\n",
                "        log_line_bytes = 16384;\n",
                "        field_bytes = 4095;\n",
        };
        _cleanup_(dt_config_freep) struct dt_config *c = load_ok("config/good-minimal.conf");
        _cleanup_free_ char *text = NULL;
        size_t len = 0, i;
        FILE *f;

        f = open_memstream(&text, &len);
        ck_assert_ptr_nonnull(f);
        dt_config_print(c, f);
        fclose(f);
        for (i = 0; i < ELEMENTSOF(lines); i++)
                ck_assert_msg(strstr(text, lines[i]), "missing %s in\n%s", lines[i], text);
}
END_TEST

START_TEST(print_wide_integer_has_l_suffix)
{
        _cleanup_(dt_config_freep) struct dt_config *c = load_ok("config/good-full.conf");
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        FILE *f;

        f = open_memstream(&text, &len);
        ck_assert_ptr_nonnull(f);
        dt_config_print(c, f);
        fclose(f);
        ck_assert_ptr_nonnull(strstr(text, "        unpacked_bytes = 5368709120L;\n"));
        ck_assert_ptr_nonnull(strstr(text, "        min_messages = 5000000000L;\n"));
        ck_assert_ptr_nonnull(strstr(text, "        spike_factor = 2.5;\n"));
        ck_assert_ptr_nonnull(strstr(text, "        surge_factor = 4.0;\n"));
        ck_assert_ptr_nonnull(strstr(text, "php_mail = [ \"/var/log/php/mail \\\"quoted\\\".log\" ];"));
}
END_TEST

/* One bad file per line: the code, err.line, and the message after "FILE". */
static const struct bad_case {
        const char *file;
        int code;
        int64_t line;
        const char *message;
} bad_cases[] = {
        { "config/bad-unknown-top.conf", -EINVAL, 2, ":2: color: unknown key" },
        { "config/bad-unknown-nested.conf", -EINVAL, 4, ":4: detect.spike_facter: unknown key" },
        { "config/bad-type-string-for-int.conf", -EINVAL, 2,
          ":2: detect.baseline_days: must be an integer from 3 to 365, not a string" },
        { "config/bad-type-float-for-int.conf", -EINVAL, 3,
          ":3: logs.retention_days: must be an integer from 1 to 3650, not a float" },
        { "config/bad-type-group.conf", -EINVAL, 2, ":2: detect: must be a group { ... }, not an integer" },
        { "config/bad-type-list.conf", -EINVAL, 2,
          ":2: identity.hostnames: must be a list of strings [ \"...\" ], not a string" },
        { "config/bad-type-list-element.conf", -EINVAL, 4,
          ":4: identity.hostnames[1]: must be a string, not a group" },
        { "config/bad-enum.conf", -EINVAL, 2,
          ":2: output: must be one of \"auto\", \"journal\", \"json\"" },
        { "config/bad-enum-type.conf", -EINVAL, 3,
          ":3: maildir.mode: must be one of \"move\", \"keep\", not a boolean" },
        { "config/bad-range-float.conf", -EINVAL, 2,
          ":2: detect.spike_factor: must be a number greater than 1" },
        { "config/bad-range-int.conf", -EINVAL, 3,
          ":3: detect.baseline_days: must be an integer from 3 to 365" },
        { "config/bad-range-health.conf", -EINVAL, 4,
          ":4: events.health_interval: must be an integer from 0 to 86400" },
        { "config/bad-range-limit.conf", -EINVAL, 3,
          ":3: limits.mime_depth: must be an integer from 1 to 64" },
        { "config/bad-range-limit-int64.conf", -EINVAL, 2,
          ":2: limits.unpacked_bytes: must be an integer from 1024 to 17179869184" },
        { "config/bad-negative.conf", -EINVAL, 2,
          ":2: detect.min_messages: must be an integer of at least 1" },
        { "config/bad-wide-int.conf", -EINVAL, 4,
          ":4: limits.message_bytes: integer does not fit in 32 bits: write it with an L suffix" },
        { "config/bad-wide-hex.conf", -EINVAL, 2,
          ":2: detect.min_messages: integer does not fit in 32 bits: write it with an L suffix" },
        { "config/bad-wide-float.conf", -EINVAL, 3,
          ":3: detect.spike_factor: integer does not fit in 32 bits: write it with an L suffix" },
        { "config/bad-relative-maildir.conf", -EINVAL, 2, ":2: maildir.path: must be an absolute path" },
        { "config/bad-state-dir.conf", -EINVAL, 2, ":2: state_dir: must be an absolute path" },
        { "config/bad-address.conf", -EINVAL, 4,
          ":4: identity.addresses[1]: must be an IPv4 or IPv6 address" },
        { "config/bad-hostname.conf", -EINVAL, 2, ":2: identity.hostnames[0]: must be a host name" },
        { "config/bad-log.conf", -EINVAL, 2,
          ":2: logs.exim[0]: must be \"journal\" or an absolute path" },
        { "config/bad-duplicate-entry.conf", -EINVAL, 2, ":2: logs.postfix[1]: repeats entry 0" },
        { "config/bad-missing-maildir.conf", -EINVAL, -1,
          ": maildir.path: is required (the Maildir to watch)" },
        { "config/bad-missing-maildir-path.conf", -EINVAL, 2,
          ":2: maildir.path: is required (the Maildir to watch)" },
        { "config/bad-syntax.conf", -EBADMSG, 3, ":3: syntax error" },
        { "config/bad-duplicate-key.conf", -EBADMSG, 3, ":3: duplicate setting name" },
        { "config/bad-include.conf", -EINVAL, 2, ":2: @include: is not supported" },
        { "config/bad-nul-escape.conf", -EINVAL, 1, ":1: string: \\x00 is not allowed" },
        { "config/bad-nul-byte.conf", -EINVAL, -1, ": cannot read: contains a NUL byte" },
        { "config/no-such-file.conf", -ENOENT, -1, ": cannot open: No such file or directory" },
        { "config", -EINVAL, -1, ": cannot read: not a regular file" },
};

START_TEST(bad_file_is_refused)
{
        const struct bad_case *t = &bad_cases[_i];
        struct dt_config keep = { 0 }, *c = &keep;     /* must stay untouched */
        struct dt_error err = { 0 };
        char path[4096], want[4096 + 256];

        (void) snprintf(path, sizeof path, "%s", dt_test_path(t->file));
        (void) snprintf(want, sizeof want, "%s%s", path, t->message);
        ck_assert_int_eq(dt_config_load(path, &c, &err), t->code);
        ck_assert_ptr_eq(c, &keep);
        ck_assert_int_eq(err.code, t->code);
        ck_assert_str_eq(err.message, want);
        ck_assert_int_eq(err.line, t->line);
}
END_TEST

START_TEST(oversized_file_is_refused)
{
        char tmp[] = "/tmp/test-config-XXXXXX";
        struct dt_config *c = NULL;
        struct dt_error err = { 0 };
        char want[256];
        FILE *f;
        size_t i;
        int fd;

        fd = mkstemp(tmp);
        ck_assert_int_ge(fd, 0);
        f = fdopen(fd, "w");
        ck_assert_ptr_nonnull(f);
        fputs("maildir = { path = \"/srv/Maildir\"; };\n", f);
        for (i = 0; i < DT_CONFIG_BYTES_MAX / 64 + 1; i++)
                fprintf(f, "# %61s\n", "padding");
        fclose(f);
        ck_assert_int_eq(dt_config_load(tmp, &c, &err), -EFBIG);
        ck_assert_ptr_null(c);
        (void) snprintf(want, sizeof want, "%s: cannot read: larger than %u bytes", tmp,
                        DT_CONFIG_BYTES_MAX);
        ck_assert_str_eq(err.message, want);
        (void) unlink(tmp);
}
END_TEST

START_TEST(enum_names)
{
        ck_assert_str_eq(dt_maildir_mode_name(DT_MAILDIR_MOVE), "move");
        ck_assert_str_eq(dt_maildir_mode_name(DT_MAILDIR_KEEP), "keep");
        ck_assert_ptr_null(dt_maildir_mode_name(_DT_MAILDIR_MODE_MAX));
        ck_assert_ptr_null(dt_maildir_mode_name(_DT_MAILDIR_MODE_INVALID));
        ck_assert_int_eq(dt_maildir_mode_from_name("keep"), DT_MAILDIR_KEEP);
        ck_assert_int_eq(dt_maildir_mode_from_name("Keep"), _DT_MAILDIR_MODE_INVALID);

        ck_assert_str_eq(dt_output_name(DT_OUTPUT_AUTO), "auto");
        ck_assert_str_eq(dt_output_name(DT_OUTPUT_JOURNAL), "journal");
        ck_assert_str_eq(dt_output_name(DT_OUTPUT_JSON), "json");
        ck_assert_ptr_null(dt_output_name(_DT_OUTPUT_MAX));
        ck_assert_int_eq(dt_output_from_name("json"), DT_OUTPUT_JSON);
        ck_assert_int_eq(dt_output_from_name(""), _DT_OUTPUT_INVALID);
        ck_assert_int_eq(dt_output_from_name(NULL), _DT_OUTPUT_INVALID);

        ck_assert_str_eq(dt_records_name(DT_RECORDS_ALL), "all");
        ck_assert_str_eq(dt_records_name(DT_RECORDS_OWN), "own");
        ck_assert_str_eq(dt_records_name(DT_RECORDS_NONE), "none");
        ck_assert_ptr_null(dt_records_name(_DT_RECORDS_INVALID));
        ck_assert_int_eq(dt_records_from_name("none"), DT_RECORDS_NONE);
        ck_assert_int_eq(dt_records_from_name("some"), _DT_RECORDS_INVALID);
}
END_TEST

START_TEST(free_is_null_safe)
{
        ck_assert_ptr_null(dt_config_free(NULL));
}
END_TEST

START_TEST(default_path)
{
#ifndef DT_CONFIG_PATH
        ck_assert_str_eq(DT_CONFIG_PATH_DEFAULT, "/etc/dmarctrace/dmarctrace.conf");
#else
        ck_assert_str_eq(DT_CONFIG_PATH_DEFAULT, DT_CONFIG_PATH);
#endif
}
END_TEST

int main(void) {
        Suite *s = suite_create("config");
        TCase *tc = tcase_create("config");

        tcase_add_test(tc, shipped_file_loads_with_defaults);
        tcase_add_test(tc, minimal_file_gets_defaults);
        tcase_add_test(tc, full_file_sets_every_key);
        tcase_add_test(tc, limits_override_keeps_other_defaults);
        tcase_add_test(tc, prescan_ignores_comments_and_strings);
        tcase_add_loop_test(tc, print_round_trip, 0, ELEMENTSOF(round_trip_files));
        tcase_add_test(tc, print_shows_every_key);
        tcase_add_test(tc, print_wide_integer_has_l_suffix);
        tcase_add_loop_test(tc, bad_file_is_refused, 0, ELEMENTSOF(bad_cases));
        tcase_add_test(tc, oversized_file_is_refused);
        tcase_add_test(tc, enum_names);
        tcase_add_test(tc, free_is_null_safe);
        tcase_add_test(tc, default_path);
        suite_add_tcase(s, tc);
        return dt_test_main(s);
}
