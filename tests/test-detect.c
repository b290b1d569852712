/* test-detect.c - baselines, spikes, normals, surges, window attribution, order independence
 *
 * Every test works in its own mkdtemp() store. Reports go straight into the store (the parser is
 * tested elsewhere), each with its dt_detect_mark(); the events come back from a JSON emitter
 * writing into an open_memstream() buffer, parsed with json-c. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE     /* asprintf, open_memstream */
#endif
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/detect.h"
#include "correlate/attribute.h"
#include "correlate/index.h"
#include "correlate/logfile.h"
#include "tests/genlogs.h"
#include "tests/testutil.h"

#define DAY DT_STORE_DAY
#define T0 INT64_C(1767225600)          /* 2026-01-01T00:00:00Z, a Thursday */

struct env {
        char dir[64];
        struct dt_config cfg;
        struct dt_store *store;
        struct dt_emitter *em;
        struct dt_detect *det;
        struct dt_index *idx;
        struct dt_identity *id;
        FILE *f;
        char *buf;
        size_t len, seen;
        unsigned reports;
};

/* the events read back: parsed lines */
struct evs {
        json_object **v;
        size_t n;
};

static void env_open(struct env *e) {
        struct dt_error err;

        memset(e, 0, sizeof *e);
        (void) snprintf(e->dir, sizeof e->dir, "/tmp/test-detect-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(e->dir));
        e->cfg.baseline_days = 14;
        e->cfg.spike_factor = 10.0;
        e->cfg.min_messages = 200;
        e->cfg.surge_factor = 10.0;
        e->cfg.surge_min_reports = 20;
        dt_error_clear(&err);
        ck_assert_msg(dt_store_open(e->dir, &e->store, &err) == 0, "store: %s", err.message);
        e->f = open_memstream(&e->buf, &e->len);
        ck_assert_ptr_nonnull(e->f);
        ck_assert_int_eq(dt_emitter_new(DT_SINK_JSON, e->f, &e->em), 0);
        ck_assert_int_eq(dt_detect_new(&e->cfg, e->store, e->em, NULL, NULL, &e->det), 0);
}

/* env_with_index - the same, with a log index in the store and this host's identity */
static void env_with_index(struct env *e) {
        struct dt_error err = {0};

        e->det = dt_detect_free(e->det);
        ck_assert_int_eq(dt_index_open(dt_store_db(e->store), 5, &e->idx, &err), 0);
        ck_assert_int_eq(dt_identity_new(NULL, 0, NULL, 0, &e->id), 0);
        ck_assert_int_eq(dt_detect_new(&e->cfg, e->store, e->em, e->idx, e->id, &e->det), 0);
}

static void env_close(struct env *e) {
        char p[PATH_MAX];
        struct dirent *de;
        DIR *d;

        e->det = dt_detect_free(e->det);
        e->idx = dt_index_free(e->idx);
        e->id = dt_identity_free(e->id);
        e->store = dt_store_free(e->store);
        e->em = dt_emitter_free(e->em);
        fclose(e->f);
        free(e->buf);
        d = opendir(e->dir);
        if (!d)
                return;
        while ((de = readdir(d)))
                if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
                        (void) snprintf(p, sizeof p, "%s/%s", e->dir, de->d_name);
                        (void) unlink(p);
                }
        closedir(d);
        (void) rmdir(e->dir);
}

struct row {
        const char *ip;
        uint64_t count;
        bool own;
};

/* add_report - one report of org about domain over [begin, end), stored and marked in one
 * transaction as the pipeline does */
static void add_report(struct env *e, const char *domain, const char *org, int64_t begin,
                       int64_t end, const struct row *rows, size_t n) {
        char rid[32];
        struct dt_store_report_key k = { .org = org, .report_id = rid, .domain = domain,
                                         .begin = begin, .end = end };
        uint64_t total = 0, own = 0;
        int64_t rowid = 0;

        (void) snprintf(rid, sizeof rid, "r%u", ++e->reports);
        ck_assert_int_eq(dt_store_begin(e->store), 0);
        ck_assert_int_eq(dt_store_aggregate_begin(e->store, &k, &rowid), 0);
        for (size_t i = 0; i < n; i++) {
                ck_assert_int_eq(dt_store_aggregate_record(e->store, rowid, org, domain, rows[i].ip,
                                                           rows[i].count, begin, end, true,
                                                           rows[i].own), 0);
                total += rows[i].count;
                own += rows[i].own ? rows[i].count : 0;
        }
        ck_assert_int_eq(dt_store_aggregate_end(e->store, rowid, n, total, total, 0, own), 0);
        ck_assert_int_eq(dt_detect_mark(e->det, domain, begin, end), 0);
        ck_assert_int_eq(dt_store_commit(e->store), 0);
}

/* day_report - one org's report of one day with one source */
static void day_report(struct env *e, const char *domain, const char *org, int64_t day,
                       const char *ip, uint64_t count, bool own) {
        const struct row r = { ip, count, own };

        add_report(e, domain, org, day, day + DAY, &r, 1);
}

static void run(struct env *e, struct dt_detect_stats *st) {
        ck_assert_int_eq(dt_detect_run(e->det, st), 0);
        ck_assert_int_eq(dt_detect_pending(e->det), 0);
}

static void evs_free(struct evs *v) {
        for (size_t i = 0; i < v->n; i++)
                json_object_put(v->v[i]);
        free(v->v);
        v->v = NULL;
        v->n = 0;
}

/* take - the events written since the last take, appended to v */
static void take(struct env *e, struct evs *v) {
        fflush(e->f);
        while (e->seen < e->len) {
                const char *s = e->buf + e->seen, *nl = memchr(s, '\n', e->len - e->seen);
                char *line;
                json_object *o;

                ck_assert_ptr_nonnull(nl);
                line = strndup(s, (size_t) (nl - s));
                o = json_tokener_parse(line);
                ck_assert_msg(o != NULL, "not JSON: %s", line);
                free(line);
                v->v = reallocarray(v->v, v->n + 1, sizeof *v->v);
                ck_assert_ptr_nonnull(v->v);
                v->v[v->n++] = o;
                e->seen = (size_t) (nl - e->buf) + 1;
        }
}

static const char *get(json_object *o, const char *name) {
        json_object *v;

        if (!json_object_object_get_ex(o, name, &v))
                return NULL;
        return json_object_get_string(v);
}

static const char *getn(json_object *o, const char *name) {
        const char *s = get(o, name);

        return s ? s : "-";
}

/* sig - "event key_type key day observed" of a volume event, "event hour observed" of a surge,
 * "attribution uid script count" of an attribution */
static char *sig(json_object *o) {
        const char *ev = get(o, "DMARCTRACE_EVENT");
        char *s = NULL;
        int r;

        ck_assert_ptr_nonnull(ev);
        if (strcmp(ev, "attribution") == 0)
                r = asprintf(&s, "%s %s %s %s %s", ev, getn(o, "DMARCTRACE_POLICY_DOMAIN"),
                             getn(o, "DMARCTRACE_USER_ID"), getn(o, "DMARCTRACE_SCRIPT_PATH"),
                             getn(o, "DMARCTRACE_MESSAGE_COUNT"));
        else if (strcmp(ev, "failure-surge") == 0)
                r = asprintf(&s, "%s %s %s %s", ev, getn(o, "DMARCTRACE_POLICY_DOMAIN"),
                             getn(o, "DMARCTRACE_HOUR"), getn(o, "DMARCTRACE_OBSERVED"));
        else
                r = asprintf(&s, "%s %s %s %s %s", ev, getn(o, "DMARCTRACE_KEY_TYPE"),
                             getn(o, "DMARCTRACE_KEY"), getn(o, "DMARCTRACE_DAY"),
                             getn(o, "DMARCTRACE_OBSERVED"));
        ck_assert_int_ge(r, 0);
        return s;
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* sigs - the sorted signatures of v, "\n"-joined (one string to compare and print) */
static char *sigs(const struct evs *v) {
        char **s = calloc(v->n + 1, sizeof *s), *out = NULL;
        size_t len = 1;

        ck_assert_ptr_nonnull(s);
        for (size_t i = 0; i < v->n; i++) {
                s[i] = sig(v->v[i]);
                len += strlen(s[i]) + 1;
        }
        qsort(s, v->n, sizeof *s, cmp_str);
        out = calloc(1, len);
        ck_assert_ptr_nonnull(out);
        for (size_t i = 0; i < v->n; i++) {
                strcat(out, s[i]);
                strcat(out, "\n");
                free(s[i]);
        }
        free(s);
        return out;
}

/* assert_events - exactly these signatures (in any order) since the last take */
static void assert_events(struct env *e, const char *const *want, size_t n) {
        struct evs v = {0};
        char **ws = calloc(n + 1, sizeof *ws), *got, *exp;
        size_t len = 1;

        take(e, &v);
        got = sigs(&v);
        for (size_t i = 0; i < n; i++) {
                ws[i] = strdup(want[i]);
                len += strlen(want[i]) + 1;
        }
        qsort(ws, n, sizeof *ws, cmp_str);
        exp = calloc(1, len);
        for (size_t i = 0; i < n; i++) {
                strcat(exp, ws[i]);
                strcat(exp, "\n");
                free(ws[i]);
        }
        ck_assert_msg(strcmp(got, exp) == 0, "events:\n%s\nwanted:\n%s", got, exp);
        free(ws);
        free(got);
        free(exp);
        evs_free(&v);
}

#define ASSERT_EVENTS(e, ...) do { \
                static const char *const w_[] = { __VA_ARGS__ }; \
                assert_events(e, w_, ELEMENTSOF(w_)); \
        } while (0)
#define ASSERT_NO_EVENTS(e) assert_events(e, NULL, 0)

/* flat - n days of count from one foreign source, starting at day0 */
static void flat(struct env *e, const char *domain, int64_t day0, int n, uint64_t count) {
        for (int i = 0; i < n; i++)
                day_report(e, domain, "google.com", day0 + i * DAY, "198.51.100.1", count, false);
}

/* ---------------------------------------------------------------- pure rules */

START_TEST(baseline_rules)
{
        /* days 0..19 with gaps; values chosen so the window is visible in the median */
        const int64_t day[] = { 0, DAY, 2 * DAY, 3 * DAY, 10 * DAY, 11 * DAY, 12 * DAY, 13 * DAY,
                                14 * DAY, 16 * DAY, 18 * DAY, 19 * DAY };
        const uint64_t obs[] = { 1000, 1000, 1000, 1000, 10, 20, 0, 30, 40, 50, 60, 70 };
        const size_t n = ELEMENTSOF(day);
        double b = -1;
        size_t nh = 99;

        /* day 0..2: fewer than three previous days with data */
        ck_assert_int_eq(dt_detect_baseline(day, obs, n, 0, 14, &b, &nh), 0);
        ck_assert_uint_eq(nh, 0);
        ck_assert_int_eq(dt_detect_baseline(day, obs, n, 2, 14, &b, &nh), 0);
        ck_assert_uint_eq(nh, 2);
        /* day 3: exactly three */
        ck_assert_int_eq(dt_detect_baseline(day, obs, n, 3, 14, &b, &nh), 1);
        ck_assert(b == 1000.0);
        /* day 16 (i = 9): window [2, 16): days 2, 3, 10, 11, 13, 14 with data (12 has 0) */
        ck_assert_int_eq(dt_detect_baseline(day, obs, n, 9, 14, &b, &nh), 1);
        ck_assert_uint_eq(nh, 6);
        ck_assert(b == 35.0);   /* 20 30 40 1000 1000 10 -> (30 + 40) / 2 */
        /* day 19 (i = 11): window [5, 19): 10, 20, 30, 40, 50, 60 -> median 35; the old
         * thousands are out of the window */
        ck_assert_int_eq(dt_detect_baseline(day, obs, n, 11, 14, &b, &nh), 1);
        ck_assert_uint_eq(nh, 6);
        ck_assert(b == 35.0);
        /* a shorter window: [15, 19): 50, 60 -> none */
        ck_assert_int_eq(dt_detect_baseline(day, obs, n, 11, 4, &b, &nh), 0);
        ck_assert_uint_eq(nh, 2);
        ck_assert_int_eq(dt_detect_baseline(day, obs, n, n, 14, &b, &nh), -EINVAL);
}
END_TEST

START_TEST(spike_rule)
{
        static const struct {
                uint64_t obs;
                double base, factor;
                uint64_t min;
                bool spike;
        } t[] = {
                { 1000, 100, 10, 200, true },
                { 999, 100, 10, 200, false },           /* under the factor */
                { 199, 5, 10, 200, false },             /* 40x, but under min_messages */
                { 200, 5, 10, 200, true },
                { 200, 0, 10, 200, true },              /* baseline 0 counts as 1 */
                { 9, 0.5, 10, 1, false },               /* ... and so does 0.5 */
                { 10, 0.5, 10, 1, true },
                { 3000, 250.5, 10, 200, true },
                { 2504, 250.5, 10, 200, false },
        };

        for (size_t i = 0; i < ELEMENTSOF(t); i++)
                ck_assert_msg(dt_detect_is_spike(t[i].obs, t[i].base, t[i].factor, t[i].min) ==
                              t[i].spike, "case %zu", i);
}
END_TEST

/* ---------------------------------------------------------------- series */

START_TEST(quiet_series)
{
        struct env e;
        struct dt_detect_stats st;

        env_open(&e);
        /* flat */
        flat(&e, "flat.example", T0, 40, 100);
        /* a weekly rhythm: weekdays busy, weekends quiet (T0 is a Thursday) */
        for (int i = 0; i < 42; i++) {
                int wd = (i + 4) % 7;   /* 0 Sunday */

                day_report(&e, "weekly.example", "google.com", T0 + i * DAY, "198.51.100.2",
                           wd == 0 || wd == 6 ? 15 : 400, false);
        }
        /* slow growth: 5% a day for six weeks, 100 -> about 770 */
        {
                double v = 100;

                for (int i = 0; i < 42; i++, v *= 1.05)
                        day_report(&e, "growth.example", "google.com", T0 + i * DAY,
                                   "198.51.100.3", (uint64_t) v, false);
        }
        run(&e, &st);
        ASSERT_NO_EVENTS(&e);
        ck_assert_uint_eq(st.days, 40 + 42 + 42);
        ck_assert_uint_eq(st.rows, 3 * (40 + 42 + 42));
        env_close(&e);
}
END_TEST

START_TEST(threshold_and_min_messages)
{
        struct env e;

        env_open(&e);
        flat(&e, "a.example", T0, 14, 20);
        day_report(&e, "a.example", "google.com", T0 + 14 * DAY, "198.51.100.1", 199, false);
        flat(&e, "b.example", T0, 14, 20);
        day_report(&e, "b.example", "google.com", T0 + 14 * DAY, "198.51.100.1", 200, false);
        flat(&e, "c.example", T0, 14, 5);
        day_report(&e, "c.example", "google.com", T0 + 14 * DAY, "198.51.100.1", 199, false);
        flat(&e, "d.example", T0, 14, 5);
        day_report(&e, "d.example", "google.com", T0 + 14 * DAY, "198.51.100.1", 200, false);
        run(&e, NULL);
        /* b: 10x its baseline of 20; d: 40x a baseline of 5, and at min_messages. Each domain
         * has one org and one source, so all three key types cross together */
        ASSERT_EVENTS(&e,
                "volume-spike domain b.example 2026-01-15 200",
                "volume-spike org google.com 2026-01-15 200",
                "volume-spike source_ip 198.51.100.1 2026-01-15 200",
                "volume-spike domain d.example 2026-01-15 200",
                "volume-spike org google.com 2026-01-15 200",
                "volume-spike source_ip 198.51.100.1 2026-01-15 200");
        env_close(&e);
}
END_TEST

START_TEST(event_fields)
{
        struct env e;
        struct evs v = {0};
        json_object *o;

        env_open(&e);
        flat(&e, "b.example", T0, 14, 20);
        day_report(&e, "b.example", "google.com", T0 + 14 * DAY, "198.51.100.1", 250, false);
        run(&e, NULL);
        take(&e, &v);
        ck_assert_uint_eq(v.n, 3);
        o = v.v[0];     /* sorted by key type: the domain first */
        ck_assert_str_eq(get(o, "DMARCTRACE_EVENT"), "volume-spike");
        ck_assert_str_eq(get(o, "DMARCTRACE_POLICY_DOMAIN"), "b.example");
        ck_assert_str_eq(get(o, "DMARCTRACE_KEY_TYPE"), "domain");
        ck_assert_str_eq(get(o, "DMARCTRACE_KEY"), "b.example");
        ck_assert_str_eq(get(o, "DMARCTRACE_DAY"), "2026-01-15");
        ck_assert_str_eq(get(o, "DMARCTRACE_OBSERVED"), "250");
        ck_assert_str_eq(get(o, "DMARCTRACE_BASELINE"), "20");
        ck_assert_str_eq(get(o, "DMARCTRACE_FACTOR"), "12.5");
        ck_assert_str_eq(get(o, "DMARCTRACE_OWN_HOST_COUNT"), "0");
        ck_assert_ptr_null(get(o, "DMARCTRACE_LOCAL_SENT"));   /* no index */
        ck_assert_str_eq(get(o, "MESSAGE"), "volume-spike: b.example on 2026-01-15: 250 messages, "
                         "12.5 times the baseline of 20, 0 from this host");
        ck_assert_str_eq(get(v.v[2], "MESSAGE"), "volume-spike: b.example source_ip 198.51.100.1 on "
                         "2026-01-15: 250 messages, 12.5 times the baseline of 20, 0 from this host");
        ck_assert_uint_eq(strlen(get(o, "DMARCTRACE_EVENT_ID")), 32);
        evs_free(&v);
        env_close(&e);
}
END_TEST

START_TEST(fewer_than_three_days)
{
        struct env e;

        env_open(&e);
        flat(&e, "two.example", T0, 2, 10);
        day_report(&e, "two.example", "google.com", T0 + 2 * DAY, "198.51.100.1", 5000, false);
        flat(&e, "three.example", T0, 3, 10);
        day_report(&e, "three.example", "google.com", T0 + 3 * DAY, "198.51.100.1", 5000, false);
        /* days with data count, not calendar days: three days spread over two weeks */
        day_report(&e, "sparse.example", "google.com", T0, "198.51.100.1", 10, false);
        day_report(&e, "sparse.example", "google.com", T0 + 6 * DAY, "198.51.100.1", 10, false);
        day_report(&e, "sparse.example", "google.com", T0 + 12 * DAY, "198.51.100.1", 10, false);
        day_report(&e, "sparse.example", "google.com", T0 + 13 * DAY, "198.51.100.1", 5000, false);
        run(&e, NULL);
        ASSERT_EVENTS(&e,
                "volume-spike domain three.example 2026-01-04 5000",
                "volume-spike org google.com 2026-01-04 5000",
                "volume-spike source_ip 198.51.100.1 2026-01-04 5000",
                "volume-spike domain sparse.example 2026-01-14 5000",
                "volume-spike org google.com 2026-01-14 5000",
                "volume-spike source_ip 198.51.100.1 2026-01-14 5000");
        env_close(&e);
}
END_TEST

START_TEST(median_of_the_window)
{
        struct env e;

        env_open(&e);
        /* ten old days at 1000, then fourteen at 100: on day 24 the window holds only the 100s */
        flat(&e, "w.example", T0, 10, 1000);
        flat(&e, "w.example", T0 + 10 * DAY, 14, 100);
        day_report(&e, "w.example", "google.com", T0 + 24 * DAY, "198.51.100.1", 1000, false);
        /* the same with the old days inside a 30-day window: median 100 of 24 values still? no:
         * 10 x 1000 and 14 x 100 -> median 100, and 1000 is 10x */
        run(&e, NULL);
        ASSERT_EVENTS(&e,
                "volume-spike domain w.example 2026-01-25 1000",
                "volume-spike org google.com 2026-01-25 1000",
                "volume-spike source_ip 198.51.100.1 2026-01-25 1000");
        env_close(&e);

        /* a window of 30 days: 10 x 1000 and 14 x 100 and (below) 12 x 1000 make the median
         * 1000, so the same day is no spike */
        env_open(&e);
        e.cfg.baseline_days = 30;
        flat(&e, "w.example", T0, 12, 1000);
        flat(&e, "w.example", T0 + 12 * DAY, 12, 100);
        day_report(&e, "w.example", "google.com", T0 + 24 * DAY, "198.51.100.1", 1000, false);
        run(&e, NULL);
        ASSERT_NO_EVENTS(&e);
        env_close(&e);
}
END_TEST

START_TEST(new_own_address)
{
        struct env e;
        const struct row first[] = { { "192.0.2.10", 50, true } };
        const struct row newip[] = { { "192.0.2.10", 50, true }, { "192.0.2.77", 250, true } };
        const struct row foreign[] = { { "192.0.2.10", 50, true }, { "203.0.113.9", 300, false } };
        const struct row busy[] = { { "192.0.2.10", 500, true } };
        struct evs v = {0};

        env_open(&e);
        for (int i = 0; i < 10; i++) {
                add_report(&e, "own.example", "google.com", T0 + i * DAY, T0 + (i + 1) * DAY, first, 1);
                add_report(&e, "foreign.example", "google.com", T0 + i * DAY, T0 + (i + 1) * DAY,
                           first, 1);
        }
        add_report(&e, "own.example", "google.com", T0 + 10 * DAY, T0 + 11 * DAY, newip, 2);
        add_report(&e, "foreign.example", "google.com", T0 + 10 * DAY, T0 + 11 * DAY, foreign, 2);
        /* a fresh store: the host's busy address on the first day is not "new" */
        add_report(&e, "fresh.example", "google.com", T0, T0 + DAY, busy, 1);
        run(&e, NULL);
        /* the new address of this host: 250 against nothing. The domain (300 against 50) and the
         * foreign new address are no spike */
        take(&e, &v);
        ck_assert_uint_eq(v.n, 1);
        ck_assert_str_eq(get(v.v[0], "DMARCTRACE_KEY_TYPE"), "source_ip");
        ck_assert_str_eq(get(v.v[0], "DMARCTRACE_KEY"), "192.0.2.77");
        ck_assert_str_eq(get(v.v[0], "DMARCTRACE_OBSERVED"), "250");
        ck_assert_str_eq(get(v.v[0], "DMARCTRACE_BASELINE"), "0");
        ck_assert_str_eq(get(v.v[0], "DMARCTRACE_FACTOR"), "250");
        ck_assert_str_eq(get(v.v[0], "DMARCTRACE_OWN_HOST_COUNT"), "250");
        evs_free(&v);
        env_close(&e);
}
END_TEST

START_TEST(doubling_rule)
{
        struct env e;

        env_open(&e);
        flat(&e, "d.example", T0, 14, 100);
        day_report(&e, "d.example", "google.com", T0 + 14 * DAY, "198.51.100.1", 1000, false);
        run(&e, NULL);
        ASSERT_EVENTS(&e,
                "volume-spike domain d.example 2026-01-15 1000",
                "volume-spike org google.com 2026-01-15 1000",
                "volume-spike source_ip 198.51.100.1 2026-01-15 1000");
        /* a late report from another receiver: 1500, not yet twice 1000; its org is new */
        day_report(&e, "d.example", "yahoo.com", T0 + 14 * DAY, "198.51.100.1", 500, false);
        run(&e, NULL);
        ASSERT_NO_EVENTS(&e);
        /* and another: 2100, doubled since the alert */
        day_report(&e, "d.example", "outlook.com", T0 + 14 * DAY, "198.51.100.1", 600, false);
        run(&e, NULL);
        ASSERT_EVENTS(&e,
                "volume-spike domain d.example 2026-01-15 2100",
                "volume-spike source_ip 198.51.100.1 2026-01-15 2100");
        env_close(&e);
}
END_TEST

START_TEST(return_to_normal)
{
        struct env e;

        env_open(&e);
        flat(&e, "n.example", T0, 14, 100);
        day_report(&e, "n.example", "google.com", T0 + 14 * DAY, "198.51.100.1", 2000, false);
        day_report(&e, "n.example", "google.com", T0 + 15 * DAY, "198.51.100.1", 500, false);
        day_report(&e, "n.example", "google.com", T0 + 16 * DAY, "198.51.100.1", 150, false);
        day_report(&e, "n.example", "google.com", T0 + 17 * DAY, "198.51.100.1", 100, false);
        run(&e, NULL);
        /* 500 is 5x: not back yet; 150 is under twice 100: back; 100 the day after: nothing */
        ASSERT_EVENTS(&e,
                "volume-spike domain n.example 2026-01-15 2000",
                "volume-spike org google.com 2026-01-15 2000",
                "volume-spike source_ip 198.51.100.1 2026-01-15 2000",
                "volume-normal domain n.example 2026-01-17 150",
                "volume-normal org google.com 2026-01-17 150",
                "volume-normal source_ip 198.51.100.1 2026-01-17 150");
        /* a second spike later, then back again: a second normal */
        day_report(&e, "n.example", "google.com", T0 + 18 * DAY, "198.51.100.1", 3000, false);
        day_report(&e, "n.example", "google.com", T0 + 19 * DAY, "198.51.100.1", 90, false);
        run(&e, NULL);
        ASSERT_EVENTS(&e,
                "volume-spike domain n.example 2026-01-19 3000",
                "volume-spike org google.com 2026-01-19 3000",
                "volume-spike source_ip 198.51.100.1 2026-01-19 3000",
                "volume-normal domain n.example 2026-01-20 90",
                "volume-normal org google.com 2026-01-20 90",
                "volume-normal source_ip 198.51.100.1 2026-01-20 90");
        env_close(&e);
}
END_TEST

START_TEST(multi_day_and_midday_reports)
{
        struct env e;
        const struct row r = { "198.51.100.1", 4000, false };

        env_open(&e);
        flat(&e, "m.example", T0, 14, 100);
        /* noon to noon: 2000 on each of the two days */
        add_report(&e, "m.example", "google.com", T0 + 14 * DAY + DAY / 2, T0 + 15 * DAY + DAY / 2,
                   &r, 1);
        run(&e, NULL);
        ASSERT_EVENTS(&e,
                "volume-spike domain m.example 2026-01-15 2000",
                "volume-spike org google.com 2026-01-15 2000",
                "volume-spike source_ip 198.51.100.1 2026-01-15 2000",
                "volume-spike domain m.example 2026-01-16 2000",
                "volume-spike org google.com 2026-01-16 2000",
                "volume-spike source_ip 198.51.100.1 2026-01-16 2000");
        env_close(&e);
}
END_TEST

START_TEST(late_report_raises_a_day)
{
        struct env e;

        env_open(&e);
        flat(&e, "l.example", T0, 14, 100);
        flat(&e, "l.example", T0 + 15 * DAY, 2, 100);
        /* day 14 looks ordinary from the first receiver ... */
        day_report(&e, "l.example", "google.com", T0 + 14 * DAY, "198.51.100.1", 600, false);
        run(&e, NULL);
        ASSERT_NO_EVENTS(&e);
        /* ... until a second receiver's report arrives, two days later */
        day_report(&e, "l.example", "yahoo.com", T0 + 14 * DAY, "198.51.100.1", 600, false);
        run(&e, NULL);
        /* 1200 against 100, and the days after it were already back: normal on day 15 */
        ASSERT_EVENTS(&e,
                "volume-spike domain l.example 2026-01-15 1200",
                "volume-spike source_ip 198.51.100.1 2026-01-15 1200",
                "volume-normal domain l.example 2026-01-16 100",
                "volume-normal source_ip 198.51.100.1 2026-01-16 100");
        env_close(&e);
}
END_TEST

/* ---------------------------------------------------------------- order independence */

#define H_DAYS 28                       /* history before the spike */
#define N_DAYS (H_DAYS + 6)
#define SPIKE_DAY (T0 + H_DAYS * DAY)   /* 2026-01-29, a Thursday: the script starts at 20:00 */
#define OWN_IP "192.0.2.10"
#define OWN_IP6 "2001:db8::10"

struct greport {
        int64_t day;
        int arrival;                    /* day index the report arrives on */
        const char *org;
        struct row rows[6];
        size_t n;
};

/* volume - the day's messages from one source (index d from T0) */
static uint64_t volume(int d, const char *src) {
        int wd = (d + 4) % 7;
        bool weekend = wd == 0 || wd == 6;

        if (strcmp(src, OWN_IP) == 0)
                return (weekend ? 60 : 100) + (d == H_DAYS ? 1100 : d == H_DAYS + 1 ? 30000 : 0);
        if (strcmp(src, OWN_IP6) == 0)
                return d == H_DAYS + 1 ? 600 : 0;
        if (strcmp(src, "203.0.113.66") == 0)
                return d % 3 == 0 ? 5 : 0;      /* a spoofer, now and then */
        return 130;                             /* three ESP addresses, steady */
}

/* generate - every report of the incident: three receivers with shares of 45, 30 and 25 per
 * cent, each reporting day d on day d + 1, except yahoo's report of the spike day, two days late */
static size_t generate(struct greport *g) {
        static const char *const src[] = { OWN_IP, OWN_IP6, "198.51.100.1", "198.51.100.2",
                                           "198.51.100.3", "203.0.113.66" };
        static const char *const org[] = { "google.com", "outlook.com", "yahoo.com" };
        static const unsigned share[] = { 45, 30, 25 };
        size_t n = 0;

        for (int d = 0; d < N_DAYS; d++)
                for (int o = 0; o < 3; o++) {
                        struct greport *r = &g[n++];

                        r->day = T0 + d * DAY;
                        r->org = org[o];
                        r->arrival = d + 1 + (o == 2 && d == H_DAYS ? 1 : 0);
                        r->n = 0;
                        for (size_t s = 0; s < ELEMENTSOF(src); s++) {
                                uint64_t v = volume(d, src[s]), part;

                                part = o == 2 ? v - v * share[0] / 100 - v * share[1] / 100
                                              : v * share[o] / 100;
                                if (part == 0)
                                        continue;
                                r->rows[r->n++] = (struct row) { src[s], part,
                                                                 strncmp(src[s], "192.0.2.", 8) == 0 ||
                                                                 strcmp(src[s], OWN_IP6) == 0 };
                        }
                }
        return n;
}

static void add_g(struct env *e, const struct greport *r) {
        add_report(e, "shop.example", r->org, r->day, r->day + DAY, r->rows, r->n);
}

START_TEST(order_independent)
{
        struct greport g[N_DAYS * 3];
        size_t n = generate(g), perm[N_DAYS * 3];
        struct env e;
        struct evs ref = {0}, shuf = {0}, again = {0};
        char *a, *b;
        unsigned seed = 20260129u + (unsigned) _i;      /* a few orders, each reproducible */

        /* one day at a time: what arrived that day, then a run (as the agent does) */
        env_open(&e);
        for (int day = 0; day <= N_DAYS; day++) {
                for (size_t i = 0; i < n; i++)
                        if (g[i].arrival == day)
                                add_g(&e, &g[i]);
                run(&e, NULL);
        }
        take(&e, &ref);
        env_close(&e);

        /* the whole backlog in a shuffled order, one run */
        for (size_t i = 0; i < n; i++)
                perm[i] = i;
        for (size_t i = n - 1; i > 0; i--) {
                size_t j = (size_t) rand_r(&seed) % (i + 1), t = perm[i];

                perm[i] = perm[j];
                perm[j] = t;
        }
        env_open(&e);
        for (size_t i = 0; i < n; i++)
                add_g(&e, &g[perm[i]]);
        run(&e, NULL);
        take(&e, &shuf);

        a = sigs(&ref);
        b = sigs(&shuf);
        ck_assert_msg(strcmp(a, b) == 0, "day by day:\n%s\nshuffled:\n%s", a, b);
        /* and exactly the story: the late report tips this host's address over on the first
         * day, everything crosses on the second, everything is back on the third */
        ck_assert_str_eq(a,
                "volume-normal domain shop.example 2026-01-31 455\n"
                "volume-normal org google.com 2026-01-31 203\n"
                "volume-normal org outlook.com 2026-01-31 136\n"
                "volume-normal org yahoo.com 2026-01-31 116\n"
                "volume-normal source_ip 192.0.2.10 2026-01-31 60\n"
                "volume-spike domain shop.example 2026-01-30 31090\n"
                "volume-spike org google.com 2026-01-30 13989\n"
                "volume-spike org outlook.com 2026-01-30 9327\n"
                "volume-spike org yahoo.com 2026-01-30 7774\n"
                "volume-spike source_ip 192.0.2.10 2026-01-29 1200\n"
                "volume-spike source_ip 192.0.2.10 2026-01-30 30100\n"
                "volume-spike source_ip 2001:db8::10 2026-01-30 600\n");
        free(a);
        free(b);

        /* idempotent: another run has nothing to do; marking everything again changes nothing */
        run(&e, NULL);
        for (size_t i = 0; i < n; i++)
                ck_assert_int_eq(dt_detect_mark(e.det, "shop.example", g[i].day, g[i].day + DAY), 0);
        ck_assert_int_eq(dt_detect_pending(e.det), 1);
        run(&e, NULL);
        take(&e, &again);
        ck_assert_uint_eq(again.n, 0);
        evs_free(&ref);
        evs_free(&shuf);
        evs_free(&again);
        env_close(&e);
}
END_TEST

START_TEST(event_ids_stable_after_rollback)
{
        struct greport g[N_DAYS * 3];
        size_t n = generate(g);
        struct env e;
        struct evs first = {0}, second = {0};

        env_open(&e);
        for (size_t i = 0; i < n; i++)
                add_g(&e, &g[i]);
        /* a crash after the events went out, before the commit: the caller's transaction is
         * rolled back, the marks stay, the next run emits the same events with the same ids */
        ck_assert_int_eq(dt_store_begin(e.store), 0);
        ck_assert_int_eq(dt_detect_run(e.det, NULL), 0);
        dt_store_rollback(e.store);
        take(&e, &first);
        ck_assert_uint_eq(first.n, 12);
        ck_assert_int_eq(dt_detect_pending(e.det), 1);
        run(&e, NULL);
        take(&e, &second);
        ck_assert_uint_eq(second.n, first.n);
        for (size_t i = 0; i < first.n; i++)
                ck_assert_str_eq(get(first.v[i], "DMARCTRACE_EVENT_ID"),
                                 get(second.v[i], "DMARCTRACE_EVENT_ID"));
        evs_free(&first);
        evs_free(&second);
        env_close(&e);
}
END_TEST

/* ---------------------------------------------------------------- failure surges */

static void failures(struct env *e, const char *domain, int64_t hour, unsigned n) {
        static unsigned k;

        ck_assert_int_eq(dt_store_begin(e->store), 0);
        for (unsigned i = 0; i < n; i++) {
                char key[64];

                (void) snprintf(key, sizeof key, "failure-%u", ++k);
                ck_assert_int_eq(dt_store_failure_add(e->store, key, domain, "203.0.113.5",
                                                      hour + i, NULL), 0);
                ck_assert_int_eq(dt_detect_mark_failure(e->det, domain, hour + i), 0);
        }
        ck_assert_int_eq(dt_store_commit(e->store), 0);
}

START_TEST(failure_surge)
{
        struct env e;
        const int64_t h = T0 + 5 * DAY + 10 * 3600;
        struct evs v = {0};

        env_open(&e);
        /* a trickle: one to three reports in some hours of the days before */
        for (int i = 1; i < 100; i += 7)
                failures(&e, "s.example", h - i * 3600, 1 + (unsigned) i % 3);
        failures(&e, "s.example", h, 40);                       /* median 2: 40 >= 20 */
        failures(&e, "s.example", h + 3600, 15);                /* under surge_min_reports */
        failures(&e, "s.example", h + 2 * 3600, 3);
        /* a first burst with no history at all */
        failures(&e, "new.example", h, 25);
        run(&e, NULL);
        ASSERT_EVENTS(&e,
                "failure-surge s.example 2026-01-06T10:00:00Z 40",
                "failure-surge new.example 2026-01-06T10:00:00Z 25");
        /* more reports in the same hour: 70 is not yet twice 40; 80 is */
        failures(&e, "s.example", h, 30);
        run(&e, NULL);
        ASSERT_NO_EVENTS(&e);
        failures(&e, "s.example", h, 10);
        run(&e, NULL);
        take(&e, &v);
        ck_assert_uint_eq(v.n, 1);
        ck_assert_str_eq(get(v.v[0], "DMARCTRACE_OBSERVED"), "80");
        ck_assert_str_eq(get(v.v[0], "DMARCTRACE_BASELINE"), "2");
        evs_free(&v);
        env_close(&e);
}
END_TEST

/* ---------------------------------------------------------------- attribution */

static char logdir[] = "/tmp/test-detect-logs-XXXXXX";

static void load_log(struct dt_index *idx, const char *path, enum dt_logsrc src) {
        _cleanup_(dt_logfile_freep) struct dt_logfile *lf = NULL;
        struct dt_error err = {0};
        struct dt_logrec rec;
        const char *l;
        size_t len;

        ck_assert_int_eq(dt_logfile_open(path, NULL, 0, DT_LOGFILE_ONESHOT, &dt_limits_default,
                                         &lf, &err), 0);
        ck_assert_int_eq(dt_index_begin(idx), 0);
        while (dt_logfile_next(lf, &l, &len) == 1)
                if (dt_logline_parse(l, len, src, DT_GEN_DAY0 + DAY, &dt_limits_default, &rec,
                                     NULL) == DT_LC_RECORD)
                        ck_assert_int_eq(dt_index_add(idx, &rec, &err), 0);
        ck_assert_int_eq(dt_index_commit(idx), 0);
}

START_TEST(window_attribution)
{
        struct env e;
        struct evs v = {0};
        char p[PATH_MAX];
        uint64_t sent = 0;
        size_t spikes = 0, attributions = 0;

        env_open(&e);
        /* the newsletter (120 a day) is over min_messages here: it must still not be named,
         * because it is at its usual pace */
        e.cfg.min_messages = 100;
        env_with_index(&e);
        (void) snprintf(p, sizeof p, "%s/mail.log", logdir);
        load_log(e.idx, p, DT_SRC_SYSLOG);
        (void) snprintf(p, sizeof p, "%s/php/mail.log", logdir);
        load_log(e.idx, p, DT_SRC_PHP);

        ck_assert_int_eq(dt_index_sent_count(e.idx, "bank.example", DT_GEN_DAY0, DT_GEN_DAY0 + DAY,
                                             &sent), 0);
        ck_assert_uint_eq(sent, DT_GEN_ATTACK);        /* From: billing@bank.example, via PHP */
        ck_assert_int_eq(dt_index_sent_count(e.idx, "example.com", DT_GEN_DAY0, DT_GEN_DAY0 + DAY,
                                             &sent), 0);
        /* subdomains count: the newsletter (news@shop.example.com), the contact form and the
         * script (www-data@web1.example.com envelopes), alice's SASL mail and web2's relayed
         * message; not the inbound message delivered here */
        ck_assert_uint_eq(sent, DT_GEN_LEGIT + 1 + DT_GEN_ATTACK + 1 + 1);
        ck_assert_int_eq(dt_index_sent_count(e.idx, "example.org", DT_GEN_DAY0, DT_GEN_DAY0 + DAY,
                                             &sent), 0);
        ck_assert_uint_eq(sent, 0);

        /* bank.example: 10 a day from this host, then the script's 300 on top */
        for (int i = 14; i >= 1; i--)
                day_report(&e, "bank.example", "google.com", DT_GEN_DAY0 - i * DAY, "192.0.2.10", 10,
                           true);
        day_report(&e, "bank.example", "google.com", DT_GEN_DAY0, "192.0.2.10", 310, true);
        run(&e, NULL);
        take(&e, &v);
        for (size_t i = 0; i < v.n; i++) {
                const char *ev = get(v.v[i], "DMARCTRACE_EVENT");

                if (strcmp(ev, "volume-spike") == 0) {
                        spikes++;
                        ck_assert_str_eq(get(v.v[i], "DMARCTRACE_LOCAL_SENT"), "300");
                        ck_assert_str_eq(get(v.v[i], "DMARCTRACE_OWN_HOST_COUNT"), "310");
                        ck_assert_uint_eq(attributions, 0);     /* the spike comes first */
                        continue;
                }
                ck_assert_str_eq(ev, "attribution");
                attributions++;
                ck_assert_str_eq(get(v.v[i], "DMARCTRACE_USER_ID"), "33");
                ck_assert_str_eq(get(v.v[i], "DMARCTRACE_SCRIPT_PATH"),
                                 "/var/www/site/wp-content/uploads/x.php");
                ck_assert_str_eq(get(v.v[i], "DMARCTRACE_SCRIPT_LINE"), "3");
                ck_assert_str_eq(get(v.v[i], "DMARCTRACE_MESSAGE_COUNT"), "300");
                ck_assert_str_eq(get(v.v[i], "DMARCTRACE_CONFIDENCE"), "strong");
                ck_assert_str_eq(get(v.v[i], "DMARCTRACE_MTA"), "postfix");
                ck_assert_str_eq(get(v.v[i], "DMARCTRACE_POLICY_DOMAIN"), "bank.example");
                ck_assert_str_eq(get(v.v[i], "DMARCTRACE_HOST_NAME"), dt_identity_hostname(e.id));
                ck_assert_ptr_null(get(v.v[i], "DMARCTRACE_EMAIL_MESSAGE_ID"));
        }
        ck_assert_uint_eq(spikes, 3);
        ck_assert_uint_eq(attributions, 1);     /* not uid 1001's newsletter */
        evs_free(&v);

        /* nothing twice */
        ck_assert_int_eq(dt_detect_mark(e.det, "bank.example", DT_GEN_DAY0, DT_GEN_DAY0 + DAY), 0);
        run(&e, NULL);
        ASSERT_NO_EVENTS(&e);
        env_close(&e);
}
END_TEST

START_TEST(no_attribution_without_own_mail)
{
        struct env e;

        env_open(&e);
        env_with_index(&e);
        {
                char p[PATH_MAX];

                (void) snprintf(p, sizeof p, "%s/mail.log", logdir);
                load_log(e.idx, p, DT_SRC_SYSLOG);
                (void) snprintf(p, sizeof p, "%s/php/mail.log", logdir);
                load_log(e.idx, p, DT_SRC_PHP);
        }
        /* a spike of spoofed mail from elsewhere the same day: no local sender to name */
        for (int i = 14; i >= 1; i--)
                day_report(&e, "bank.example", "google.com", DT_GEN_DAY0 - i * DAY, "203.0.113.1", 10,
                           false);
        day_report(&e, "bank.example", "google.com", DT_GEN_DAY0, "203.0.113.1", 5000, false);
        run(&e, NULL);
        ASSERT_EVENTS(&e,
                "volume-spike domain bank.example 2026-03-10 5000",
                "volume-spike org google.com 2026-03-10 5000",
                "volume-spike source_ip 203.0.113.1 2026-03-10 5000");
        env_close(&e);
}
END_TEST

static int record_cb(const struct dt_detect_record *r, void *u) {
        size_t *k = u;

        ck_assert_str_eq(r->domain, "n.example");
        if (*k == 0) {
                ck_assert_str_eq(r->kind, "spike");
                ck_assert_int_eq(r->time, T0 + 14 * DAY);
                ck_assert_uint_eq(r->observed, 2000);
        }
        (*k)++;
        return 0;
}

START_TEST(records_for_summary)
{
        struct env e;
        size_t n = 0;

        env_open(&e);
        ck_assert_int_eq(dt_detect_foreach_record(e.store, NULL, 0, INT64_MAX, record_cb, &n), 0);
        ck_assert_uint_eq(n, 0);
        flat(&e, "n.example", T0, 14, 100);
        day_report(&e, "n.example", "google.com", T0 + 14 * DAY, "198.51.100.1", 2000, false);
        day_report(&e, "n.example", "google.com", T0 + 15 * DAY, "198.51.100.1", 100, false);
        run(&e, NULL);
        ck_assert_int_eq(dt_detect_foreach_record(e.store, "n.example", 0, INT64_MAX, record_cb, &n), 0);
        ck_assert_uint_eq(n, 6);        /* three spikes, three normals */
        env_close(&e);
}
END_TEST

/* ---------------------------------------------------------------- dmarctrace summary */

int dt_cmd_summary(int argc, char **argv);      /* agent/cmd-summary.c */

/* summary - run the command with args, its standard output in *out (malloc'd); exit status */
static int summary(struct env *e, const char *const *args, size_t n, char **out) {
        char conf[PATH_MAX], *argv[16];
        FILE *f, *cap;
        int saved, r, argc = 0;
        long len;

        (void) snprintf(conf, sizeof conf, "%s/dmarctrace.conf", e->dir);
        f = fopen(conf, "we");
        ck_assert_ptr_nonnull(f);
        fprintf(f, "maildir = { path = \"%s\"; };\nstate_dir = \"%s\";\n"
                   "logs = { postfix = [ ]; php_mail = [ ]; };\n", e->dir, e->dir);
        ck_assert_int_eq(fclose(f), 0);
        argv[argc++] = (char *) "summary";
        argv[argc++] = (char *) "-c";
        argv[argc++] = conf;
        for (size_t i = 0; i < n && argc < 15; i++)
                argv[argc++] = (char *) args[i];
        argv[argc] = NULL;
        cap = tmpfile();
        ck_assert_ptr_nonnull(cap);
        fflush(stdout);
        saved = dup(STDOUT_FILENO);
        ck_assert_int_ge(saved, 0);
        ck_assert_int_ge(dup2(fileno(cap), STDOUT_FILENO), 0);
        r = dt_cmd_summary(argc, argv);
        fflush(stdout);
        ck_assert_int_ge(dup2(saved, STDOUT_FILENO), 0);
        close(saved);
        len = ftell(cap);
        ck_assert_int_ge(len, 0);
        rewind(cap);
        *out = calloc(1, (size_t) len + 1);
        ck_assert_ptr_nonnull(*out);
        ck_assert_uint_eq(fread(*out, 1, (size_t) len, cap), (size_t) len);
        fclose(cap);
        return r;
}

START_TEST(summary_command)
{
        static const char *const json[] = { "--json", "--days", "4" };
        static const char *const text[] = { "--domain", "n.example", "--days", "3" };
        static const char *const bad[] = { "--days", "0" };
        struct env e;
        char *out = NULL, *line, *save = NULL;
        const char *want_day[] = { "2026-01-13", "2026-01-14", "2026-01-15", "2026-01-16" };
        const uint64_t want_msgs[] = { 100, 100, 2000, 100 };
        size_t k = 0;

        env_open(&e);
        flat(&e, "n.example", T0, 14, 100);
        day_report(&e, "n.example", "google.com", T0 + 14 * DAY, "198.51.100.1", 2000, false);
        day_report(&e, "n.example", "google.com", T0 + 15 * DAY, "198.51.100.1", 100, false);
        /* an older domain: its own last days show, not today's */
        flat(&e, "old.example", T0 - 400 * DAY, 5, 7);
        run(&e, NULL);

        ck_assert_int_eq(summary(&e, json, ELEMENTSOF(json), &out), 0);
        for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                json_object *o = json_tokener_parse(line), *v;

                ck_assert_msg(o != NULL, "not JSON: %s", line);
                if (strcmp(get(o, "domain"), "old.example") == 0) {
                        ck_assert_str_eq(get(o, "messages"), "7");
                        json_object_put(o);
                        continue;
                }
                ck_assert_str_eq(get(o, "domain"), "n.example");
                ck_assert_uint_lt(k, 4);
                ck_assert_str_eq(get(o, "day"), want_day[k]);
                ck_assert_uint_eq((uint64_t) json_object_get_int64(
                        json_object_object_get(o, "messages")), want_msgs[k]);
                ck_assert_str_eq(get(o, "fail"), "0");
                ck_assert_str_eq(get(o, "own_host"), "0");
                ck_assert(json_object_object_get_ex(o, "local_sent", &v) && v == NULL);
                ck_assert(json_object_object_get_ex(o, "baseline", &v) && v != NULL);
                ck_assert(json_object_get_double(v) == 100.0);
                ck_assert_int_eq(json_object_get_boolean(json_object_object_get(o, "spike")),
                                 k == 2);
                json_object_put(o);
                k++;
        }
        /* n.example's newest day is 2026-01-16: four days back from it */
        ck_assert_uint_eq(k, 4);
        free(out);

        ck_assert_int_eq(summary(&e, text, ELEMENTSOF(text), &out), 0);
        ck_assert_ptr_nonnull(strstr(out, "n.example: 2026-01-14 .. 2026-01-16"));
        ck_assert_ptr_nonnull(strstr(out, "◀ spike"));
        ck_assert_ptr_null(strstr(out, "old.example"));
        ck_assert_ptr_nonnull(strstr(out, "top sources on 2026-01-15, the busiest day:"));
        free(out);

        ck_assert_int_eq(summary(&e, bad, ELEMENTSOF(bad), &out), 2);
        free(out);
        env_close(&e);
}
END_TEST

int main(void) {
        Suite *s = suite_create("detect");
        TCase *tc = tcase_create("rules"), *to = tcase_create("order"), *ta = tcase_create("logs");
        int r;

        setenv("TZ", "UTC", 1);
        tzset();
        if (!mkdtemp(logdir) || dt_gen_logs(logdir) < 0)
                return 99;
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, baseline_rules);
        tcase_add_test(tc, spike_rule);
        tcase_add_test(tc, quiet_series);
        tcase_add_test(tc, threshold_and_min_messages);
        tcase_add_test(tc, event_fields);
        tcase_add_test(tc, fewer_than_three_days);
        tcase_add_test(tc, median_of_the_window);
        tcase_add_test(tc, new_own_address);
        tcase_add_test(tc, doubling_rule);
        tcase_add_test(tc, return_to_normal);
        tcase_add_test(tc, multi_day_and_midday_reports);
        tcase_add_test(tc, late_report_raises_a_day);
        tcase_add_test(tc, failure_surge);
        tcase_add_test(tc, records_for_summary);
        tcase_add_test(tc, summary_command);
        tcase_set_timeout(to, 300);
        tcase_add_loop_test(to, order_independent, 0, 3);
        tcase_add_test(to, event_ids_stable_after_rollback);
        tcase_set_timeout(ta, 120);
        tcase_add_test(ta, window_attribution);
        tcase_add_test(ta, no_attribution_without_own_mail);
        suite_add_tcase(s, tc);
        suite_add_tcase(s, to);
        suite_add_tcase(s, ta);
        r = dt_test_main(s);
        {
                static const char *const files[] = {
                        "mail.log", "php/mail.log", "exim/mainlog", "reports/attack-rfc822.eml",
                        "reports/attack-requeued-headers.eml", "reports/php-rotated.eml",
                        "reports/sasl.eml", "reports/relayed.eml", "reports/exim.eml",
                        "reports/headers-only.eml", "reports/spoofed.eml", "php", "exim", "reports",
                };
                char p[PATH_MAX];

                for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                        (void) snprintf(p, sizeof p, "%s/%s", logdir, files[i]);
                        if (unlink(p) < 0)
                                (void) rmdir(p);
                }
                (void) rmdir(logdir);
        }
        return r;
}
