/* test-rollup.c - the failure-report token bucket and the failure-rollup event (HOSTILE.md item
 * 39), driven by a fake clock; events go to the JSON sink in an open_memstream() buffer and are
 * read back with json-c */
#include <check.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/rollup.h"
#include "tests/testutil.h"

#define SEC 1000000ull
#define T0 (1000 * SEC)                 /* a monotonic clock that is not at 0 */
#define WALL0 1795000000                /* 2026-11-18T11:06:40Z */

static char *buf;
static size_t len;
static FILE *out;
static struct dt_emitter *em;
static struct dt_rollup *rl;

static void setup(void) {
        out = open_memstream(&buf, &len);
        ck_assert_ptr_nonnull(out);
        ck_assert_int_eq(dt_emitter_new(DT_SINK_JSON, out, &em), 0);
        ck_assert_int_eq(dt_rollup_new(T0, &rl), 0);
}

static void teardown(void) {
        rl = dt_rollup_free(rl);
        dt_emitter_free(em);
        em = NULL;
        fclose(out);
        free(buf);
        buf = NULL;
}

/* rollups - the failure-rollup events written so far, parsed; *n gets their number */
static struct json_object **rollups(size_t *n) {
        static struct json_object *ev[64];
        char *copy, *line, *save = NULL;

        for (size_t i = 0; i < ELEMENTSOF(ev); i++)
                if (ev[i])
                        ev[i] = (json_object_put(ev[i]), NULL);
        *n = 0;
        fflush(out);
        copy = strndup(buf, len);
        ck_assert_ptr_nonnull(copy);
        for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                struct json_object *o = json_tokener_parse(line), *e;

                ck_assert_ptr_nonnull(o);
                ck_assert(json_object_object_get_ex(o, "DMARCTRACE_EVENT", &e));
                if (strcmp(json_object_get_string(e), "failure-rollup") == 0 && *n < ELEMENTSOF(ev))
                        ev[(*n)++] = o;
                else
                        json_object_put(o);
        }
        free(copy);
        return ev;
}

static const char *field(struct json_object *o, const char *name) {
        struct json_object *v;

        ck_assert_msg(json_object_object_get_ex(o, name, &v), "no %s", name);
        return json_object_get_string(v);
}

/* the bucket: a burst, then one a second; a clock that stands still refills nothing */
START_TEST(bucket)
{
        size_t n;

        for (int i = 0; i < DT_ROLLUP_BURST; i++)
                ck_assert(dt_rollup_admit(rl, T0, WALL0, "a.example"));
        ck_assert(!dt_rollup_admit(rl, T0, WALL0, "a.example"));
        ck_assert(!dt_rollup_admit(rl, T0 + SEC / 2, WALL0, "a.example"));
        ck_assert(dt_rollup_admit(rl, T0 + SEC, WALL0 + 1, "a.example"));
        ck_assert(!dt_rollup_admit(rl, T0 + SEC, WALL0 + 1, "a.example"));
        ck_assert(!dt_rollup_admit(rl, T0 - SEC, WALL0 + 1, "a.example"));    /* stepped back */
        ck_assert_uint_eq(dt_rollup_pending(rl), 4);
        /* an idle minute fills it again, never past the burst */
        for (int i = 0; i < DT_ROLLUP_BURST; i++)
                ck_assert(dt_rollup_admit(rl, T0 + 3600 * SEC, WALL0 + 3600, "a.example"));
        ck_assert(!dt_rollup_admit(rl, T0 + 3600 * SEC, WALL0 + 3600, "a.example"));
        ck_assert_int_eq(dt_rollup_emit(rl, em, T0 + 3600 * SEC, false), 1);
        (void) rollups(&n);
        ck_assert_uint_eq(n, 1);
}
END_TEST

/* a flood of 20 a second for 150 s, the caller emitting after every report as a flush would:
 * one rollup a minute, the last one on the forced emit, and counts that add up exactly */
START_TEST(flood_rolled_up_exactly)
{
        uint64_t admitted = 0, total = 0, suppressed = 0, reports = 0;
        struct json_object **ev;
        size_t n;

        for (uint64_t ms = 0; ms < 150000; ms += 50) {
                uint64_t now = T0 + ms * 1000;
                int64_t wall = WALL0 + (int64_t) (ms / 1000);

                admitted += dt_rollup_admit(rl, now, wall, ms % 1000 == 500 ? "b.example" : "a.example");
                total++;
                ck_assert_int_ge(dt_rollup_emit(rl, em, now, false), 0);
        }
        ev = rollups(&n);
        ck_assert_uint_eq(n, 2);                /* at 60 s and 120 s of the window */
        ck_assert_int_eq(dt_rollup_emit(rl, em, T0 + 150 * SEC, false), 0);    /* not due */
        ck_assert_int_eq(dt_rollup_emit(rl, em, T0 + 150 * SEC, true), 1);     /* stopping */
        ck_assert_int_eq(dt_rollup_emit(rl, em, T0 + 150 * SEC, true), 0);     /* nothing left */
        ev = rollups(&n);
        ck_assert_uint_eq(n, 3);
        for (size_t i = 0; i < n; i++) {
                suppressed += strtoull(field(ev[i], "DMARCTRACE_SUPPRESSED_COUNT"), NULL, 10);
                reports += strtoull(field(ev[i], "DMARCTRACE_REPORT_COUNT"), NULL, 10);
        }
        /* 100 at once, then one a second: the last report comes at 149.95 s */
        ck_assert_uint_eq(admitted, DT_ROLLUP_BURST + 149);
        ck_assert_uint_eq(suppressed, total - admitted);
        ck_assert_uint_eq(dt_rollup_suppressed_total(rl), suppressed);  /* over all 3 windows */
        ck_assert_uint_eq(dt_rollup_pending(rl), 0);
        /* every report from the first suppressed one on is in a window: all but the burst and
         * the 5 tokens refilled in the 5.25 s it lasted */
        ck_assert_uint_eq(reports, total - DT_ROLLUP_BURST - 5);
        ck_assert_str_eq(field(ev[0], "DMARCTRACE_PERIOD_BEGIN"), "2026-11-18T11:06:45Z");
        ck_assert_str_eq(field(ev[0], "DMARCTRACE_PERIOD_END"), "2026-11-18T11:07:45Z");
        ck_assert_str_eq(field(ev[0], "DMARCTRACE_REPORT_COUNT"), "1201");
        ck_assert_str_eq(field(ev[0], "DMARCTRACE_SUPPRESSED_COUNT"), "1141");
        /* a token comes due on each whole second, so the reports at x.5 s (b.example) all wait */
        ck_assert_str_eq(field(ev[0], "DMARCTRACE_SUPPRESSED_BY_DOMAIN"), "a.example=1081,b.example=60");
        ck_assert_str_eq(field(ev[0], "MESSAGE_ID"), DT_MSGID_FAILURE_ROLLUP);
}
END_TEST

/* a flood about many domains: 16 named, largest first, the rest as "other"; the sum is exact */
START_TEST(domains_bounded)
{
        struct json_object **ev;
        char d[32];
        size_t n;

        for (int i = 0; i < DT_ROLLUP_BURST; i++)
                (void) dt_rollup_admit(rl, T0, WALL0, "x.example");
        for (int i = 0; i < 40; i++) {
                snprintf(d, sizeof d, "d%02d.example", i);
                for (int k = 0; k <= (i == 3 ? 5 : 0); k++)
                        ck_assert(!dt_rollup_admit(rl, T0, WALL0, d));
        }
        ck_assert(!dt_rollup_admit(rl, T0, WALL0, NULL));
        ck_assert_int_eq(dt_rollup_emit(rl, em, T0, true), 1);
        ev = rollups(&n);
        ck_assert_uint_eq(n, 1);
        ck_assert_str_eq(field(ev[0], "DMARCTRACE_SUPPRESSED_COUNT"), "46");
        ck_assert_str_eq(field(ev[0], "DMARCTRACE_SUPPRESSED_BY_DOMAIN"),
                         "d03.example=6,d00.example=1,d01.example=1,d02.example=1,d04.example=1,"
                         "d05.example=1,d06.example=1,d07.example=1,d08.example=1,d09.example=1,"
                         "d10.example=1,d11.example=1,d12.example=1,d13.example=1,d14.example=1,"
                         "d15.example=1,other=25");
}
END_TEST

int main(void) {
        Suite *s = suite_create("rollup");
        TCase *tc = tcase_create("core");

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, bucket);
        tcase_add_test(tc, flood_rolled_up_exactly);
        tcase_add_test(tc, domains_bounded);
        suite_add_tcase(s, tc);
        return dt_test_main(s);
}
