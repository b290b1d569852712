/* test-sanitize.c - dt_sanitize: escapes, controls, invalid UTF-8, bidi, truncation, and a
 * property test over random byte strings checked by an independent UTF-8 validator */
#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "report/macro.h"
#include "report/sanitize.h"
#include "tests/testutil.h"

#define FFFD "\xef\xbf\xbd"

static const struct {
        const char *name;
        const char *in;
        size_t len;
        const char *want;
} cases[] = {
#define C(name, in, want) { name, in, sizeof(in) - 1, want }
        C("plain ASCII", "example.com", "example.com"),
        C("empty", "", ""),
        C("CSI clear screen", "a\x1b[2Jb", "a" FFFD "[2Jb"),
        C("OSC 52 clipboard", "\x1b]52;c;ZXZpbA==\x07x", FFFD "]52;c;ZXZpbA==" FFFD "x"),
        C("journal field injection", "\r\nPRIORITY=0\nFAKE=1", "  PRIORITY=0 FAKE=1"),
        C("tab", "a\tb", "a b"),
        C("NUL inside", "a\0b", "a\\0b"),
        C("DEL", "a\x7f", "a" FFFD),
        C("bell and backspace", "\x07\x08", FFFD FFFD),
        C("U+202E RLO", "abc\xe2\x80\xae" "fdp.exe", "abc" FFFD "fdp.exe"),
        C("U+202A LRE", "\xe2\x80\xaa", FFFD),
        C("U+2066 LRI", "\xe2\x81\xa6", FFFD),
        C("U+2069 PDI", "\xe2\x81\xa9", FFFD),
        C("U+061C ALM", "\xd8\x9c", FFFD),
        C("U+200B ZWSP", "a\xe2\x80\x8b" "b", "a" FFFD "b"),
        C("U+200F RLM", "\xe2\x80\x8f", FFFD),
        C("U+2028 LS", "a\xe2\x80\xa8" "b", "a" FFFD "b"),
        C("U+2029 PS", "\xe2\x80\xa9", FFFD),
        C("U+FEFF BOM", "\xef\xbb\xbfx", FFFD "x"),
        C("U+0085 NEL", "a\xc2\x85" "b", "a" FFFD "b"),
        C("C1 CSI C2 9B", "\xc2\x9b" "2J", FFFD "2J"),
        C("lone 0x9B", "\x9b" "2J", FFFD "2J"),
        C("lone 0x85", "\x85", FFFD),
        C("overlong slash C0 AF", "\xc0\xaf", FFFD FFFD),
        C("overlong C1 BF", "\xc1\xbf", FFFD FFFD),
        C("overlong slash E0 80 AF", "\xe0\x80\xaf", FFFD FFFD FFFD),
        C("overlong F0 80 80 AF", "\xf0\x80\x80\xaf", FFFD FFFD FFFD FFFD),
        C("surrogate ED A0 80", "\xed\xa0\x80", FFFD FFFD FFFD),
        C("surrogate ED BF BF", "\xed\xbf\xbf", FFFD FFFD FFFD),
        C("past U+10FFFF F4 90 80 80", "\xf4\x90\x80\x80", FFFD FFFD FFFD FFFD),
        C("F5 lead", "\xf5\x80\x80\x80", FFFD FFFD FFFD FFFD),
        C("FF FE", "\xff\xfe", FFFD FFFD),
        C("truncated sequence at end", "ab\xe2\x82", "ab" FFFD FFFD),
        C("truncated sequence mid", "\xe2\x82" "c", FFFD FFFD "c"),
        C("valid 2-byte", "J\xc3\xb6rg", "J\xc3\xb6rg"),
        C("valid 3-byte euro", "\xe2\x82\xac", "\xe2\x82\xac"),
        C("valid U+D7FF", "\xed\x9f\xbf", "\xed\x9f\xbf"),
        C("valid U+E000", "\xee\x80\x80", "\xee\x80\x80"),
        C("valid 4-byte emoji", "\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80"),
        C("valid U+10FFFF", "\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf"),
        C("U+00A0 kept", "\xc2\xa0", "\xc2\xa0"),
        C("U+FFFD kept", FFFD, FFFD),
#undef C
};

START_TEST(sanitize_table)
{
        char out[256];
        bool truncated = true;
        size_t n;

        n = dt_sanitize(cases[_i].in, cases[_i].len, out, sizeof out, &truncated);
        ck_assert_msg(strcmp(out, cases[_i].want) == 0, "%s: got '%s'", cases[_i].name, out);
        ck_assert_uint_eq(n, strlen(cases[_i].want));
        ck_assert(!truncated);
}
END_TEST

START_TEST(dup_matches_and_owns)
{
        bool truncated = true;
        char *s = dt_sanitize_dup(cases[_i].in, cases[_i].len, 4096, &truncated);

        ck_assert_ptr_nonnull(s);
        ck_assert_str_eq(s, cases[_i].want);
        ck_assert(!truncated);
        free(s);
}
END_TEST

static const struct {
        const char *in;
        size_t len;             /* 0: strlen(in) */
        size_t cap;
        const char *want;
        bool truncated;
} cuts[] = {
        { "abcdef", 0, 4, "abc", true },
        { "abc", 0, 4, "abc", false },
        { "abc", 0, 1, "", true },
        { "", 0, 1, "", false },
        { "a\xc3\xb6", 0, 3, "a", true },      /* 2-byte char does not fit */
        { "a\xc3\xb6", 0, 4, "a\xc3\xb6", false },
        { "a\xe2\x82\xac", 0, 4, "a", true },      /* 3-byte char needs 4 + NUL */
        { "a\xf0\x9f\x98\x80", 0, 5, "a", true },
        { "a\xf0\x9f\x98\x80", 0, 6, "a\xf0\x9f\x98\x80", false },
        { "a\x9b", 0, 4, "a", true },      /* U+FFFD needs 3 bytes */
        { "a\x9b", 0, 5, "a" FFFD, false },
        { "ab\0", 3, 4, "ab", true },      /* "\0" needs 2 bytes */
};

START_TEST(truncates_on_character_boundary)
{
        char out[64];
        bool truncated = !cuts[_i].truncated;
        size_t len = cuts[_i].len ? cuts[_i].len : strlen(cuts[_i].in), n;
        memset(out, 'X', sizeof out);
        n = dt_sanitize(cuts[_i].in, len, out, cuts[_i].cap, &truncated);
        ck_assert_str_eq(out, cuts[_i].want);
        ck_assert_uint_eq(n, strlen(cuts[_i].want));
        ck_assert_uint_lt(n, cuts[_i].cap);
        ck_assert(truncated == cuts[_i].truncated);
        ck_assert_int_eq(out[cuts[_i].cap], 'X');      /* nothing written past cap */
}
END_TEST

START_TEST(null_and_zero_cap)
{
        char out[4] = "XXX";
        bool truncated = false;

        ck_assert_uint_eq(dt_sanitize("abc", 3, out, 0, &truncated), 0);
        ck_assert(truncated);
        ck_assert_int_eq(out[0], 'X');
        ck_assert_uint_eq(dt_sanitize(NULL, 0, out, sizeof out, NULL), 0);
        ck_assert_str_eq(out, "");
}
END_TEST

START_TEST(dup_caps_length)
{
        char in[1000];
        bool truncated = false;
        char *s;

        memset(in, '\x9b', sizeof in);
        s = dt_sanitize_dup(in, sizeof in, 100, &truncated);
        ck_assert_ptr_nonnull(s);
        ck_assert_uint_eq(strlen(s), 99);               /* 33 x U+FFFD */
        ck_assert(truncated);
        free(s);
        s = dt_sanitize_dup("", 0, 100, &truncated);
        ck_assert_ptr_nonnull(s);
        ck_assert_str_eq(s, "");
        ck_assert(!truncated);
        free(s);
        s = dt_sanitize_dup("abc", 3, 0, &truncated);
        ck_assert_ptr_nonnull(s);
        ck_assert_str_eq(s, "");
        ck_assert(truncated);
        free(s);
}
END_TEST

/* check_output - independent validator: decode by shifting, then reject overlong forms,
 * surrogates, values past U+10FFFF and every character the sanitiser must not let through.
 * Returns true when s[0..n) is acceptable output. */
static bool check_output(const unsigned char *s, size_t n) {
        size_t i = 0;

        while (i < n) {
                uint32_t cp;
                size_t k, need;

                if (s[i] < 0x80) {
                        cp = s[i];
                        need = 0;
                } else if ((s[i] & 0xe0) == 0xc0) {
                        cp = s[i] & 0x1f;
                        need = 1;
                } else if ((s[i] & 0xf0) == 0xe0) {
                        cp = s[i] & 0x0f;
                        need = 2;
                } else if ((s[i] & 0xf8) == 0xf0) {
                        cp = s[i] & 0x07;
                        need = 3;
                } else {
                        return false;
                }
                if (i + need >= n && need > 0)
                        return false;           /* sequence runs past the end */
                for (k = 1; k <= need; k++) {
                        if ((s[i + k] & 0xc0) != 0x80)
                                return false;
                        cp = (cp << 6) | (s[i + k] & 0x3f);
                }
                if ((need == 1 && cp < 0x80) || (need == 2 && cp < 0x800) ||
                    (need == 3 && cp < 0x10000))
                        return false;                   /* overlong */
                if ((cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
                        return false;
                if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
                        return false;                   /* C0, DEL, C1 */
                if ((cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) ||
                    (cp >= 0x200b && cp <= 0x200f) || cp == 0x2028 || cp == 0x2029 ||
                    cp == 0xfeff)
                        return false;
                i += need + 1;
        }
        return true;
}

/* next_rand - xorshift64*, so the property test is reproducible without global state */
static uint64_t next_rand(uint64_t *state) {
        uint64_t x = *state;

        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        *state = x;
        return x * 0x2545f4914f6cdd1dULL;
}

START_TEST(property_random_bytes)
{
        static const unsigned char pieces[][4] = {
                { 0xc2, 0x85 }, { 0xe2, 0x80, 0xae }, { 0xe2, 0x80, 0xa8 }, { 0xef, 0xbb, 0xbf },
                { 0xed, 0xa0, 0x80 }, { 0xf4, 0x90, 0x80, 0x80 }, { 0xf0, 0x9f, 0x98, 0x80 },
                { 0xc3, 0xb6 }, { 0xe2, 0x82, 0xac }, { 0x1b, '[' }, { 0xc2, 0x9b },
        };
        uint64_t state = 0x9e3779b97f4a7c15ULL;
        unsigned char in[96];
        char out[128], full[96 * 3 + 1];
        unsigned iter;

        for (iter = 0; iter < 100000; iter++) {
                size_t len = next_rand(&state) % sizeof in;
                size_t cap = 1 + next_rand(&state) % sizeof out;
                size_t i = 0, n, nfull;
                bool truncated, tfull;

                while (i < len) {
                        uint64_t r = next_rand(&state);

                        if (r % 4 == 0 && i + 4 <= len) {
                                const unsigned char *p = pieces[(r >> 8) % ELEMENTSOF(pieces)];

                                memcpy(in + i, p, 4);   /* trailing zeros are NULs: fine */
                                i += 4;
                        } else if (r % 4 == 1) {
                                in[i++] = (unsigned char) (0x80 | (r >> 16));
                        } else {
                                in[i++] = (unsigned char) (r >> 24);
                        }
                }
                n = dt_sanitize((const char *) in, len, out, cap, &truncated);
                ck_assert_uint_lt(n, cap);
                ck_assert_uint_eq(strlen(out), n);
                ck_assert_msg(check_output((const unsigned char *) out, n), "iteration %u", iter);

                /* the capped output is a prefix of the uncapped one, cut only when it had to be */
                nfull = dt_sanitize((const char *) in, len, full, sizeof full, &tfull);
                ck_assert(!tfull);
                ck_assert(check_output((const unsigned char *) full, nfull));
                ck_assert_uint_le(n, nfull);
                ck_assert_int_eq(memcmp(out, full, n), 0);
                ck_assert(truncated == (n < nfull));

                /* sanitising clean output changes nothing */
                {
                        char again[96 * 3 + 1];
                        size_t m = dt_sanitize(full, nfull, again, sizeof again, NULL);

                        ck_assert_uint_eq(m, nfull);
                        ck_assert_int_eq(memcmp(again, full, m), 0);
                }
        }
}
END_TEST

static Suite *sanitize_suite(void) {
        Suite *s = suite_create("sanitize");
        TCase *tc = tcase_create("core");

        tcase_set_timeout(tc, 120);
        tcase_add_loop_test(tc, sanitize_table, 0, (int) ELEMENTSOF(cases));
        tcase_add_loop_test(tc, dup_matches_and_owns, 0, (int) ELEMENTSOF(cases));
        tcase_add_loop_test(tc, truncates_on_character_boundary, 0, (int) ELEMENTSOF(cuts));
        tcase_add_test(tc, null_and_zero_cap);
        tcase_add_test(tc, dup_caps_length);
        tcase_add_test(tc, property_random_bytes);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        return dt_test_main(sanitize_suite());
}
