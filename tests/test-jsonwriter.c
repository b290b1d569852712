/* test-jsonwriter.c - dt_jw writes exactly what json-c prints: every byte value, quotes,
 * backslash, '/', controls, DEL, UTF-8 and invalid bytes, sanitising and its 64 KiB cut, the
 * integer edges, nesting and commas; json-c itself (through dt_json_line) is the reference */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/jsonutil.h"
#include "agent/jsonwriter.h"
#include "report/macro.h"
#include "tests/testutil.h"

/* json_c_raw - json-c's text for the raw string s[0..len) */
static char *json_c_raw(const char *s, size_t len) {
        json_object *o = json_object_new_string_len(s, (int) len);
        char *t = strdup(dt_json_line(o));

        json_object_put(o);
        ck_assert_ptr_nonnull(t);
        return t;
}

/* json_c_sanitised - json-c's text for dt_json_string(s) */
static char *json_c_sanitised(const char *s) {
        json_object *o = dt_json_string(s);
        char *t = strdup(o ? dt_json_line(o) : "null");

        json_object_put(o);
        ck_assert_ptr_nonnull(t);
        return t;
}

START_TEST(every_byte_as_json_c) {
        _cleanup_(dt_jw_done) struct dt_jw w = {};
        char s[3];

        /* each byte alone and between plain letters, so runs before and after are checked too */
        s[0] = 'a';
        s[1] = (char) _i;
        s[2] = 'z';
        dt_jw_string_raw(&w, s + 1, 1);
        _cleanup_free_ char *want1 = json_c_raw(s + 1, 1);
        ck_assert_str_eq(w.buf, want1);
        dt_jw_reset(&w);
        dt_jw_string_raw(&w, s, 3);
        _cleanup_free_ char *want3 = json_c_raw(s, 3);
        ck_assert_str_eq(w.buf, want3);
        ck_assert(!dt_jw_failed(&w));
}
END_TEST

static const char *const strings[] = {
        "",
        "example.com",
        "a/b//c</script>",
        "quote \" backslash \\ both \\\"",
        "\\u0000 literally",
        "tab\there\r\nnew\fform\bback",
        "\x01\x02\x1f\x7f",
        "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
        "bidi \xe2\x80\xae evil \xe2\x80\xa8 ls \xc2\x85 nel \xef\xbb\xbf bom",
        "invalid \xff\xfe \xc0\xaf overlong \xed\xa0\x80 surrogate",
        "\x1b[2J escape",
};

START_TEST(sanitised_strings_as_json_c) {
        _cleanup_(dt_jw_done) struct dt_jw w = {};
        _cleanup_free_ char *want = json_c_sanitised(strings[_i]);

        dt_jw_string(&w, strings[_i]);
        ck_assert_str_eq(w.buf, want);
}
END_TEST

/* long strings: the plain-ASCII path ends at DT_JSON_STRING_MAX, past it sanitising cuts */
START_TEST(long_strings_cut_as_json_c) {
        static const struct {
                size_t len;
                const char *unit;       /* repeated to len bytes at least */
                const char *tail;
        } cases[] = {
                { DT_JSON_STRING_MAX, "a", "" },
                { DT_JSON_STRING_MAX + 1, "a", "" },
                { DT_JSON_STRING_MAX - 1, "a", "\xc3\xa9" },
                { DT_JSON_STRING_MAX, "\xc3\xa9", "" },
                { DT_JSON_STRING_MAX / 2 + 7, "\xc2\x85", "x" },     /* expands 2 -> 3 bytes */
                { 70000, "\"/", "" },
        };
        size_t k;

        for (k = 0; k < ELEMENTSOF(cases); k++) {
                _cleanup_(dt_jw_done) struct dt_jw w = {};
                size_t ul = strlen(cases[k].unit), tl = strlen(cases[k].tail), n = 0;
                _cleanup_free_ char *s = malloc(cases[k].len + ul + tl + 1);

                ck_assert_ptr_nonnull(s);
                while (n < cases[k].len) {
                        memcpy(s + n, cases[k].unit, ul);
                        n += ul;
                }
                memcpy(s + n, cases[k].tail, tl + 1);
                _cleanup_free_ char *want = json_c_sanitised(s);
                dt_jw_string(&w, s);
                ck_assert_msg(strcmp(w.buf, want) == 0, "case %zu differs", k);
        }
}
END_TEST

START_TEST(integers_at_the_edges) {
        static const int64_t i64[] = { 0, 1, -1, 9, 10, -10, INT32_MAX, INT32_MIN,
                                       (int64_t) INT32_MAX + 1, INT64_MAX, INT64_MIN, INT64_MIN + 1 };
        static const uint64_t u64[] = { 0, 1, 9, 10, 99, 100, UINT32_MAX, (uint64_t) INT64_MAX,
                                        (uint64_t) INT64_MAX + 1, UINT64_MAX - 1, UINT64_MAX };
        size_t k;

        for (k = 0; k < ELEMENTSOF(i64); k++) {
                _cleanup_(dt_jw_done) struct dt_jw w = {};
                json_object *o = json_object_new_int64(i64[k]);

                dt_jw_int64(&w, i64[k]);
                ck_assert_str_eq(w.buf, dt_json_line(o));
                json_object_put(o);
        }
        for (k = 0; k < ELEMENTSOF(u64); k++) {
                _cleanup_(dt_jw_done) struct dt_jw w = {};
                json_object *o = json_object_new_uint64(u64[k]);

                dt_jw_uint64(&w, u64[k]);
                ck_assert_str_eq(w.buf, dt_json_line(o));
                json_object_put(o);
        }
}
END_TEST

/* nesting, commas and nulls: one document built both ways */
START_TEST(nested_document_as_json_c) {
        _cleanup_(dt_jw_done) struct dt_jw w = {};
        json_object *o = json_object_new_object(), *a = json_object_new_array(), *x;

        json_object_object_add(o, "s", dt_json_string("v/\""));
        json_object_object_add(o, "n", NULL);
        json_object_object_add(o, "empty", json_object_new_array());
        json_object_object_add(o, "eo", json_object_new_object());
        x = json_object_new_object();
        json_object_object_add(x, "u", json_object_new_uint64(UINT64_MAX));
        json_object_object_add(x, "i", json_object_new_int64(INT64_MIN));
        json_object_array_add(a, x);
        json_object_array_add(a, NULL);
        json_object_array_add(a, dt_json_string("\xe2\x80\xae"));
        json_object_array_add(a, json_object_new_array());
        json_object_object_add(o, "list", a);

        dt_jw_open(&w, '{');
        dt_jw_key(&w, "s");
        dt_jw_string(&w, "v/\"");
        dt_jw_key(&w, "n");
        dt_jw_string(&w, NULL);
        dt_jw_key(&w, "empty");
        dt_jw_open(&w, '[');
        dt_jw_close(&w, ']');
        dt_jw_key(&w, "eo");
        dt_jw_open(&w, '{');
        dt_jw_close(&w, '}');
        dt_jw_key(&w, "list");
        dt_jw_open(&w, '[');
        dt_jw_open(&w, '{');
        dt_jw_key(&w, "u");
        dt_jw_uint64(&w, UINT64_MAX);
        dt_jw_key(&w, "i");
        dt_jw_int64(&w, INT64_MIN);
        dt_jw_close(&w, '}');
        dt_jw_null(&w);
        dt_jw_string(&w, "\xe2\x80\xae");
        dt_jw_open(&w, '[');
        dt_jw_close(&w, ']');
        dt_jw_close(&w, ']');
        dt_jw_close(&w, '}');

        ck_assert(!dt_jw_failed(&w));
        ck_assert_str_eq(w.buf, dt_json_line(o));
        ck_assert_uint_eq(w.len, strlen(w.buf));
        json_object_put(o);

        /* reset keeps nothing of the old text or its commas */
        dt_jw_reset(&w);
        dt_jw_open(&w, '[');
        dt_jw_uint64(&w, 7);
        dt_jw_close(&w, ']');
        ck_assert_str_eq(w.buf, "[7]");
}
END_TEST

START_TEST(too_deep_or_unbalanced_fails) {
        _cleanup_(dt_jw_done) struct dt_jw w = {}, u = {};
        int i;

        for (i = 0; i < DT_JW_DEPTH_MAX; i++)
                dt_jw_open(&w, '[');
        ck_assert(dt_jw_failed(&w));
        dt_jw_close(&u, ']');
        ck_assert(dt_jw_failed(&u));
}
END_TEST

static Suite *jsonwriter_suite(void) {
        Suite *s = suite_create("jsonwriter");
        TCase *tc = tcase_create("core");

        tcase_add_loop_test(tc, every_byte_as_json_c, 0, 256);
        tcase_add_loop_test(tc, sanitised_strings_as_json_c, 0, (int) ELEMENTSOF(strings));
        tcase_add_test(tc, long_strings_cut_as_json_c);
        tcase_add_test(tc, integers_at_the_edges);
        tcase_add_test(tc, nested_document_as_json_c);
        tcase_add_test(tc, too_deep_or_unbalanced_fails);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        return dt_test_main(jsonwriter_suite());
}
