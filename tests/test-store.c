/* test-store.c - the SQLite state: schema, dedupe, daily spread, transactions, corruption
 *
 * Every test works in its own mkdtemp() directory, removed at the end. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/store.h"
#include "tests/testutil.h"

#define JAN1 INT64_C(1767225600)        /* 2026-01-01T00:00:00Z */
#define DAY DT_STORE_DAY
#define HASH_A "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

struct tmpdir {
        char path[64];
};

static void tmpdir_make(struct tmpdir *t) {
        (void) snprintf(t->path, sizeof t->path, "/tmp/test-store-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(t->path));
}

/* tmpdir_remove - the directory and the files in it (the store makes no subdirectories) */
static void tmpdir_remove(struct tmpdir *t) {
        char p[PATH_MAX];
        struct dirent *de;
        DIR *d = opendir(t->path);

        if (!d)
                return;
        while ((de = readdir(d)))
                if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
                        (void) snprintf(p, sizeof p, "%s/%s", t->path, de->d_name);
                        (void) unlink(p);
                }
        closedir(d);
        (void) rmdir(t->path);
}

static struct dt_store *open_ok(const char *dir) {
        struct dt_store *s = NULL;
        struct dt_error err;

        dt_error_clear(&err);
        ck_assert_msg(dt_store_open(dir, &s, &err) == 0, "open: %s", err.message);
        ck_assert_ptr_nonnull(s);
        return s;
}

static int64_t counter(struct dt_store *s, const char *name) {
        int64_t v = -1;

        ck_assert_int_eq(dt_store_counter_get(s, name, &v), 0);
        return v;
}

/* daily - the sums of a key on a day, zeros when there is no row */
static struct dt_store_daily daily(struct dt_store *s, const char *domain, enum dt_store_key t,
                                   const char *key, int64_t day) {
        struct dt_store_daily d = { 0, 0, 0 };
        int r = dt_store_daily_get(s, domain, t, key, day, &d);

        ck_assert_int_ge(r, 0);
        return d;
}

/* add_report - one report with one record per ip (count each), in its own transaction;
 * returns what aggregate_begin said (0 new, 1 duplicate) */
static int add_report(struct dt_store *s, const char *msg, const struct dt_store_report_key *k,
                      const char *const *ips, size_t n, uint64_t count, bool pass, bool own) {
        int64_t rowid = 0;
        size_t i;
        int r;

        ck_assert_int_eq(dt_store_begin(s), 0);
        r = dt_store_aggregate_begin(s, k, &rowid);
        ck_assert_int_ge(r, 0);
        if (r == 0) {
                ck_assert_int_gt(rowid, 0);
                for (i = 0; i < n; i++)
                        ck_assert_int_eq(dt_store_aggregate_record(s, rowid, k->org, k->domain,
                                                                   ips[i], count, k->begin,
                                                                   k->end, pass, own), 0);
                ck_assert_int_eq(dt_store_aggregate_end(s, rowid, n, n * count,
                                                        pass ? n * count : 0,
                                                        pass ? 0 : n * count,
                                                        own ? n * count : 0), 0);
        }
        ck_assert_int_eq(dt_store_message_done(s, msg, r ? DT_STORE_DUPLICATE : DT_STORE_AGGREGATE,
                                               NULL), 0);
        ck_assert_int_eq(dt_store_commit(s), 0);
        return r;
}

/* db_int - one integer from the file through a separate connection */
static int64_t db_int(const char *dir, const char *sql) {
        char path[PATH_MAX];
        sqlite3 *db = NULL;
        sqlite3_stmt *st = NULL;
        int64_t v;

        (void) snprintf(path, sizeof path, "%s/state.db", dir);
        ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
        ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
        ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
        v = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        sqlite3_close(db);
        return v;
}

START_TEST(open_creates_the_schema)
{
        struct tmpdir t;
        char path[PATH_MAX], mode[16] = "";
        struct stat st;
        struct dt_store *s;
        sqlite3 *db = NULL;
        sqlite3_stmt *q = NULL;

        tmpdir_make(&t);
        s = open_ok(t.path);
        (void) snprintf(path, sizeof path, "%s/state.db", t.path);
        ck_assert_int_eq(stat(path, &st), 0);
        ck_assert_int_eq(st.st_mode & 0777, 0600);
        ck_assert_int_eq(dt_store_counter_add(s, "c", 1), 0);  /* the WAL takes the same mode */
        (void) snprintf(path, sizeof path, "%s/state.db-wal", t.path);
        ck_assert_int_eq(stat(path, &st), 0);
        ck_assert_int_eq(st.st_mode & 0777, 0600);
        (void) snprintf(path, sizeof path, "%s/state.db", t.path);
        s = dt_store_free(s);
        ck_assert_ptr_null(s);
        ck_assert_int_eq(db_int(t.path, "PRAGMA user_version"), DT_STORE_SCHEMA_VERSION);
        ck_assert_int_eq(db_int(t.path, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' "
                                "AND name IN ('messages', 'aggregate_reports', 'daily', "
                                "'failure_reports', 'cursors', 'alerts', 'counters')"), 7);
        ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
        ck_assert_int_eq(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &q, NULL), SQLITE_OK);
        ck_assert_int_eq(sqlite3_step(q), SQLITE_ROW);
        (void) snprintf(mode, sizeof mode, "%s", (const char *) sqlite3_column_text(q, 0));
        sqlite3_finalize(q);
        sqlite3_close(db);
        ck_assert_str_eq(mode, "wal");
        tmpdir_remove(&t);
}
END_TEST

/* the tables version 2 rebuilt, as version 1 created them, with a row each */
static const char v1_tables[] =
        "CREATE TABLE messages (name TEXT PRIMARY KEY, outcome TEXT CHECK (outcome IN "
        "('aggregate', 'failure', 'rejected', 'duplicate')), reason TEXT, time INTEGER NOT NULL, "
        "attempts INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;"
        "CREATE TABLE daily (domain TEXT NOT NULL, key_type TEXT NOT NULL CHECK (key_type IN "
        "('domain', 'org', 'source_ip')), key TEXT NOT NULL, day INTEGER NOT NULL, observed INTEGER "
        "NOT NULL, pass INTEGER NOT NULL, own INTEGER NOT NULL, PRIMARY KEY (domain, key_type, key, "
        "day)) WITHOUT ROWID;"
        "CREATE TABLE alerts (domain TEXT NOT NULL, key_type TEXT NOT NULL CHECK (key_type IN "
        "('domain', 'org', 'source_ip')), key TEXT NOT NULL, day INTEGER NOT NULL, observed INTEGER "
        "NOT NULL, raised INTEGER NOT NULL, PRIMARY KEY (domain, key_type, key, day)) WITHOUT ROWID;"
        "INSERT INTO messages VALUES ('m1', 'rejected', 'XML_MALFORMED', 5, 2);"
        "INSERT INTO daily VALUES ('example.com', 'source_ip', '192.0.2.1', 1767225600, 7, 5, 1);"
        "INSERT INTO alerts VALUES ('example.com', 'domain', 'example.com', 1767225600, 9, 6);"
        "PRAGMA user_version = 1;";

START_TEST(migrates_version_1)
{
        struct tmpdir t;
        char path[PATH_MAX], outcome[16];
        struct dt_store *s;
        sqlite3 *db = NULL;
        int64_t attempts = 0;
        uint64_t obs = 0;
        struct dt_store_daily v;

        tmpdir_make(&t);
        (void) snprintf(path, sizeof path, "%s/state.db", t.path);
        ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL),
                         SQLITE_OK);
        ck_assert_int_eq(sqlite3_exec(db, v1_tables, NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(db);
        (void) chmod(path, 0600);

        s = open_ok(t.path);
        ck_assert_int_eq(dt_store_message_get(s, "m1", outcome, sizeof outcome, &attempts), 1);
        ck_assert_str_eq(outcome, "rejected");
        ck_assert_int_eq(attempts, 2);
        v = daily(s, "example.com", DT_KEY_SOURCE_IP, "192.0.2.1", JAN1);
        ck_assert_uint_eq(v.observed, 7);
        ck_assert_uint_eq(v.pass, 5);
        ck_assert_uint_eq(v.own, 1);
        ck_assert_int_eq(dt_store_alert_get(s, "example.com", DT_KEY_DOMAIN, "example.com", JAN1, &obs), 1);
        ck_assert_uint_eq(obs, 9);
        dt_store_free(s);

        ck_assert_int_eq(db_int(t.path, "PRAGMA user_version"), DT_STORE_SCHEMA_VERSION);
        ck_assert_int_eq(db_int(t.path, "SELECT count(*) FROM sqlite_schema WHERE sql LIKE '% IN (%'"), 0);
        ck_assert_int_eq(db_int(t.path, "SELECT count(*) FROM sqlite_schema WHERE name LIKE '%\\_2' "
                                "ESCAPE '\\'"), 0);
        /* the checks still hold */
        ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
        ck_assert_int_eq(sqlite3_exec(db, "INSERT INTO daily VALUES ('e', 'ip', 'k', 0, 1, 1, 1)", NULL,
                                      NULL, NULL), SQLITE_CONSTRAINT);
        ck_assert_int_eq(sqlite3_exec(db, "INSERT INTO messages VALUES ('m2', 'odd', NULL, 1, 1)", NULL,
                                      NULL, NULL), SQLITE_CONSTRAINT);
        ck_assert_int_eq(sqlite3_exec(db, "INSERT INTO messages VALUES ('m3', NULL, NULL, 1, 1)", NULL,
                                      NULL, NULL), SQLITE_OK);
        sqlite3_close(db);
        tmpdir_remove(&t);
}
END_TEST

START_TEST(open_tightens_a_wide_mode)
{
        struct tmpdir t;
        char path[PATH_MAX];
        struct stat st;
        int fd;

        tmpdir_make(&t);
        (void) snprintf(path, sizeof path, "%s/state.db", t.path);
        fd = open(path, O_CREAT | O_WRONLY, 0644);
        ck_assert_int_ge(fd, 0);
        (void) fchmod(fd, 0644);
        close(fd);
        dt_store_free(open_ok(t.path));
        ck_assert_int_eq(stat(path, &st), 0);
        ck_assert_int_eq(st.st_mode & 0777, 0600);
        tmpdir_remove(&t);
}
END_TEST

START_TEST(reopen_keeps_data)
{
        const struct dt_store_report_key k = { "google.com", "r1", "example.com", JAN1, JAN1 + DAY };
        const char *ips[] = { "192.0.2.1" };
        struct tmpdir t;
        struct dt_store *s;
        char outcome[16];
        int64_t attempts = 0, n = 0;

        tmpdir_make(&t);
        s = open_ok(t.path);
        ck_assert_int_eq(add_report(s, "m1", &k, ips, 1, 7, true, false), 0);
        ck_assert_int_eq(dt_store_counter_add(s, "c", 5), 0);
        ck_assert_int_eq(dt_store_cursor_set(s, "journal", "s=abc;i=1", 0, 0), 0);
        s = dt_store_free(s);

        s = open_ok(t.path);
        ck_assert_int_eq(dt_store_message_seen(s, "m1"), 1);
        ck_assert_int_eq(dt_store_message_get(s, "m1", outcome, sizeof outcome, &attempts), 1);
        ck_assert_str_eq(outcome, "aggregate");
        ck_assert_int_eq(attempts, 1);
        ck_assert_int_eq(counter(s, "c"), 5);
        ck_assert_int_eq(dt_store_aggregate_count(s, &n), 0);
        ck_assert_int_eq(n, 1);
        ck_assert_uint_eq(daily(s, "example.com", DT_KEY_SOURCE_IP, "192.0.2.1", JAN1).observed, 7);
        ck_assert_int_eq(dt_store_cursor_get(s, "journal", NULL, 0, NULL, NULL), 1);
        ck_assert_int_eq(add_report(s, "m2", &k, ips, 1, 7, true, false), 1);
        dt_store_free(s);
        ck_assert_int_eq(db_int(t.path, "PRAGMA user_version"), DT_STORE_SCHEMA_VERSION);
        tmpdir_remove(&t);
}
END_TEST

/* the dedupe key: org + report id + policy domain + begin + end */
static const struct {
        struct dt_store_report_key key;
        int expect;                     /* 0 new, 1 duplicate */
} dedupe_cases[] = {
        { { "google.com", "123", "example.com", JAN1, JAN1 + DAY }, 0 },
        { { "google.com", "123", "example.com", JAN1, JAN1 + DAY }, 1 },     /* same again */
        { { "google.com", "123", "example.com", JAN1 + DAY, JAN1 + 2 * DAY }, 0 }, /* other range */
        { { "google.com", "123", "example.com", JAN1, JAN1 + 2 * DAY }, 0 },  /* other end */
        { { "yahoo.com", "123", "example.com", JAN1, JAN1 + DAY }, 0 },      /* other org */
        { { "google.com", "123", "example.net", JAN1, JAN1 + DAY }, 0 },     /* other domain */
        { { "google.com", "124", "example.com", JAN1, JAN1 + DAY }, 0 },     /* other id */
        { { "yahoo.com", "123", "example.com", JAN1, JAN1 + DAY }, 1 },
        { { NULL, "123", "example.com", JAN1, JAN1 + DAY }, 0 },             /* NULL is "" */
        { { "", "123", "example.com", JAN1, JAN1 + DAY }, 1 },
};

START_TEST(aggregate_dedupe)
{
        const char *ips[] = { "192.0.2.1", "192.0.2.2" };
        struct tmpdir t;
        struct dt_store *s;
        char msg[16];
        int64_t n = 0, dups = 0;
        size_t i;

        tmpdir_make(&t);
        s = open_ok(t.path);
        for (i = 0; i < ELEMENTSOF(dedupe_cases); i++) {
                (void) snprintf(msg, sizeof msg, "m%zu", i);
                ck_assert_msg(add_report(s, msg, &dedupe_cases[i].key, ips, 2, 10, true, false) ==
                                      dedupe_cases[i].expect, "case %zu", i);
                dups += dedupe_cases[i].expect;
                ck_assert_int_eq(counter(s, DT_STORE_C_AGGREGATE_DUP), dups);
        }
        ck_assert_int_eq(dt_store_aggregate_count(s, &n), 0);
        ck_assert_int_eq(n, (int64_t) ELEMENTSOF(dedupe_cases) - dups);
        /* the duplicates added nothing: on Jan 1, google.com has 123 (20), 124 (20) and half of
         * the two-day 123 (10) */
        ck_assert_uint_eq(daily(s, "example.com", DT_KEY_ORG, "google.com", JAN1).observed, 50);
        ck_assert_uint_eq(daily(s, "example.com", DT_KEY_ORG, "yahoo.com", JAN1).observed, 20);
        dt_store_free(s);
        tmpdir_remove(&t);
}
END_TEST

/* spreading: counts over the UTC days of [begin, end), remainder to the last day */
static const struct {
        const char *name;
        int64_t begin, end;
        uint64_t count;
        int64_t days[3];                /* first day, then the next ones */
        uint64_t expect[3];             /* the share of each */
} spread_cases[] = {
        { "12:00 to 12:00 next day", JAN1 + DAY / 2, JAN1 + DAY + DAY / 2, 101,
          { JAN1, JAN1 + DAY }, { 50, 51 } },
        { "one day, end 23:59:59", JAN1, JAN1 + DAY - 1, 101, { JAN1, JAN1 + DAY }, { 101, 0 } },
        { "one day, end next midnight", JAN1, JAN1 + DAY, 101, { JAN1, JAN1 + DAY }, { 101, 0 } },
        { "begin == end", JAN1 + 3600, JAN1 + 3600, 9, { JAN1 }, { 9 } },
        { "three days, 18h + 24h + 6h", JAN1 + 6 * 3600, JAN1 + 2 * DAY + 6 * 3600, 1000,
          { JAN1, JAN1 + DAY, JAN1 + 2 * DAY }, { 375, 500, 125 } },
        { "1 message over two days", JAN1 + DAY / 2, JAN1 + DAY + DAY / 2, 1,
          { JAN1, JAN1 + DAY }, { 0, 1 } },
        { "7 over thirds", JAN1 + 16 * 3600, JAN1 + DAY + 16 * 3600, 7,
          { JAN1, JAN1 + DAY }, { 2, 5 } },
        { "inverted: all on the end day", JAN1 + DAY, JAN1 + 10, 5, { JAN1, JAN1 + DAY }, { 5, 0 } },
        { "begin missing: end day", INT64_MIN, JAN1 + DAY + 5, 5, { JAN1, JAN1 + DAY }, { 0, 5 } },
        { "end missing: begin day", JAN1 + 5, INT64_MIN, 5, { JAN1, JAN1 + DAY }, { 5, 0 } },
        { "40 days: all on the last", JAN1 - 39 * DAY, JAN1 + DAY, 8, { JAN1 - 39 * DAY, JAN1 },
          { 0, 8 } },
};

START_TEST(daily_spread)
{
        const char *ips[] = { "2001:db8::1" };
        struct tmpdir t;
        struct dt_store *s;
        struct dt_store_report_key k = { "org", NULL, NULL, 0, 0 };
        char id[16], dom[32], msg[16];
        size_t i, d;

        tmpdir_make(&t);
        s = open_ok(t.path);
        for (i = 0; i < ELEMENTSOF(spread_cases); i++) {
                uint64_t sum = 0;

                (void) snprintf(id, sizeof id, "r%zu", i);
                (void) snprintf(dom, sizeof dom, "d%zu.example", i);   /* one domain per case */
                (void) snprintf(msg, sizeof msg, "m%zu", i);
                k.report_id = id;
                k.domain = dom;
                k.begin = spread_cases[i].begin;
                k.end = spread_cases[i].end;
                ck_assert_int_eq(add_report(s, msg, &k, ips, 1, spread_cases[i].count, false, true), 0);
                for (d = 0; d < 3 && (d == 0 || spread_cases[i].days[d] != 0); d++) {
                        struct dt_store_daily v = daily(s, dom, DT_KEY_DOMAIN, dom, spread_cases[i].days[d]);
                        ck_assert_msg(v.observed == spread_cases[i].expect[d],
                                      "%s: day %zu has %" PRIu64 ", expected %" PRIu64,
                                      spread_cases[i].name, d, v.observed, spread_cases[i].expect[d]);
                        ck_assert_uint_eq(v.own, v.observed);
                        ck_assert_uint_eq(v.pass, 0);
                        /* the org and source-IP sums get the same share */
                        ck_assert_uint_eq(daily(s, dom, DT_KEY_ORG, "org", spread_cases[i].days[d]).observed,
                                          v.observed);
                        ck_assert_uint_eq(daily(s, dom, DT_KEY_SOURCE_IP, "2001:db8::1",
                                                spread_cases[i].days[d] + 100).observed, v.observed);
                        sum += v.observed;
                }
                ck_assert_msg(sum == spread_cases[i].count, "%s: sum %" PRIu64, spread_cases[i].name, sum);
        }
        ck_assert_int_eq(counter(s, DT_STORE_C_UNDATED), 0);
        dt_store_free(s);
        tmpdir_remove(&t);
}
END_TEST

/* A message whose savepoint rewrites far more existing pages than SQLite keeps in memory: the
 * sub-journal spills to a temporary file and the message is stored. (With a 512 KiB in-memory
 * sub-journal, SQLite 3.40 failed such a message with SQLITE_FULL at the spill.) */
START_TEST(savepoint_larger_than_memory_journal)
{
        enum { N = 30000 };
        struct tmpdir t;
        struct dt_store *s;
        struct dt_store_report_key k = { "org", "r1", "big.example", 1699920000, 1700006400 };
        char (*ips)[32] = calloc(N, sizeof *ips);
        const char **p = calloc(N, sizeof *p);
        int64_t rowid = 0;
        size_t i;

        ck_assert_ptr_nonnull(ips);
        ck_assert_ptr_nonnull(p);
        for (i = 0; i < N; i++) {
                (void) snprintf(ips[i], sizeof ips[i], "10.%zu.%zu.%zu", i >> 16, (i >> 8) & 255, i & 255);
                p[i] = ips[i];
        }
        tmpdir_make(&t);
        s = open_ok(t.path);
        ck_assert_int_eq(add_report(s, "m1", &k, p, N, 3, true, false), 0);
        /* the same rows again, inside a message's savepoint, as the pipeline runs it */
        k.report_id = "r2";
        ck_assert_int_eq(dt_store_begin(s), 0);
        ck_assert_int_eq(dt_store_savepoint(s), 0);
        ck_assert_int_eq(dt_store_aggregate_begin(s, &k, &rowid), 0);
        for (i = 0; i < N; i++)
                ck_assert_int_eq(dt_store_aggregate_record(s, rowid, k.org, k.domain, p[i], 4,
                                                           k.begin, k.end, true, false), 0);
        ck_assert_int_eq(dt_store_aggregate_end(s, rowid, N, 4 * N, 4 * N, 0, 0), 0);
        ck_assert_int_eq(dt_store_message_done(s, "m2", DT_STORE_AGGREGATE, NULL), 0);
        ck_assert_int_eq(dt_store_release(s), 0);
        ck_assert_int_eq(dt_store_commit(s), 0);
        ck_assert_uint_eq(daily(s, k.domain, DT_KEY_SOURCE_IP, "10.0.100.1", 1699920000).observed, 7);
        ck_assert_uint_eq(daily(s, k.domain, DT_KEY_DOMAIN, k.domain, 1699920000).observed, 7 * N);
        dt_store_free(s);
        tmpdir_remove(&t);
        free(p);
        free(ips);
}
END_TEST

/* the shares sum exactly whatever the count and range */
START_TEST(daily_spread_sums_exactly)
{
        static const uint64_t counts[] = { 1, 2, 3, 99, 86399, 1000003, UINT64_C(9223372036854775807) };
        const char *ips[] = { "192.0.2.9" };
        struct tmpdir t;
        struct dt_store *s;
        struct dt_store_report_key k = { "org", NULL, NULL, JAN1 + 1234, JAN1 + 30 * DAY - 777 };
        char id[16], dom[32], msg[16];
        size_t i;
        int64_t d;

        tmpdir_make(&t);
        s = open_ok(t.path);
        for (i = 0; i < ELEMENTSOF(counts); i++) {
                uint64_t sum = 0, last = 0;

                (void) snprintf(id, sizeof id, "r%zu", i);
                (void) snprintf(dom, sizeof dom, "s%zu.example", i);
                (void) snprintf(msg, sizeof msg, "m%zu", i);
                k.report_id = id;
                k.domain = dom;
                ck_assert_int_eq(add_report(s, msg, &k, ips, 1, counts[i], true, false), 0);
                for (d = JAN1 - DAY; d <= JAN1 + 31 * DAY; d += DAY) {
                        struct dt_store_daily v = daily(s, dom, DT_KEY_SOURCE_IP, "192.0.2.9", d);
                        ck_assert_uint_le(v.observed, counts[i] - sum);
                        sum += v.observed;
                        ck_assert_uint_eq(v.pass, v.observed);
                        if (v.observed)
                                last = (uint64_t) d;
                }
                ck_assert_uint_eq(sum, counts[i]);
                ck_assert_uint_eq(last, (uint64_t) (JAN1 + 29 * DAY));
        }
        dt_store_free(s);
        tmpdir_remove(&t);
}
END_TEST

START_TEST(undated_report_adds_no_daily_rows)
{
        const struct dt_store_report_key k = { "org", "r", "example.com", INT64_MIN, INT64_MIN };
        const char *ips[] = { "192.0.2.1", "192.0.2.2" };
        struct tmpdir t;
        struct dt_store *s;
        int64_t n = 0;

        tmpdir_make(&t);
        s = open_ok(t.path);
        ck_assert_int_eq(add_report(s, "m", &k, ips, 2, 3, true, true), 0);
        ck_assert_int_eq(counter(s, DT_STORE_C_UNDATED), 2);
        ck_assert_int_eq(dt_store_aggregate_count(s, &n), 0);
        ck_assert_int_eq(n, 1);
        ck_assert_int_eq(add_report(s, "m2", &k, ips, 2, 3, true, true), 1);  /* still deduped */
        dt_store_free(s);
        tmpdir_remove(&t);
}
END_TEST

START_TEST(counts_saturate)
{
        const struct dt_store_report_key k = { "org", "r", "example.com", JAN1, JAN1 };
        const struct dt_store_report_key k2 = { "org", "r2", "example.com", JAN1, JAN1 };
        const char *ips[] = { "192.0.2.1" };
        struct tmpdir t;
        struct dt_store *s;

        tmpdir_make(&t);
        s = open_ok(t.path);
        ck_assert_int_eq(add_report(s, "m", &k, ips, 1, UINT64_MAX, true, true), 0);
        ck_assert_int_eq(add_report(s, "m2", &k2, ips, 1, UINT64_MAX - 1, true, true), 0);
        ck_assert_uint_eq(daily(s, "example.com", DT_KEY_DOMAIN, "example.com", JAN1).observed,
                          (uint64_t) INT64_MAX);
        ck_assert_uint_eq(daily(s, "example.com", DT_KEY_DOMAIN, "example.com", JAN1).own,
                          (uint64_t) INT64_MAX);
        dt_store_free(s);
        tmpdir_remove(&t);
}
END_TEST

START_TEST(rollback_leaves_nothing)
{
        const struct dt_store_report_key k = { "google.com", "r1", "example.com", JAN1, JAN1 + DAY };
        const char *ips[] = { "192.0.2.1" };
        struct tmpdir t;
        struct dt_store *s;
        struct dt_store_daily v;
        int64_t rowid = 0, n = -1;

        tmpdir_make(&t);
        s = open_ok(t.path);
        ck_assert_int_eq(dt_store_begin(s), 0);
        ck_assert_int_eq(dt_store_aggregate_begin(s, &k, &rowid), 0);
        ck_assert_int_eq(dt_store_aggregate_record(s, rowid, k.org, k.domain, "192.0.2.1", 5,
                                                   k.begin, k.end, true, false), 0);
        ck_assert_int_eq(dt_store_failure_add(s, HASH_A, "example.com", NULL, JAN1, NULL), 0);
        ck_assert_int_eq(dt_store_message_done(s, "m1", DT_STORE_AGGREGATE, NULL), 0);
        dt_store_rollback(s);
        dt_store_rollback(s);                   /* a second one is harmless */

        ck_assert_int_eq(dt_store_message_seen(s, "m1"), 0);
        ck_assert_int_eq(dt_store_aggregate_count(s, &n), 0);
        ck_assert_int_eq(n, 0);
        ck_assert_int_eq(dt_store_daily_get(s, "example.com", DT_KEY_DOMAIN, "example.com", JAN1, &v), 0);
        ck_assert_int_eq(counter(s, DT_STORE_C_FAILURE_DUP), 0);
        /* nothing left behind: the same report and failure are new again */
        ck_assert_int_eq(add_report(s, "m1", &k, ips, 1, 5, true, false), 0);
        ck_assert_int_eq(dt_store_failure_add(s, HASH_A, "example.com", NULL, JAN1, NULL), 0);
        ck_assert_int_eq(counter(s, DT_STORE_C_AGGREGATE_DUP), 0);
        dt_store_free(s);
        tmpdir_remove(&t);
}
END_TEST

START_TEST(free_with_open_transaction_rolls_back)
{
        struct tmpdir t;
        struct dt_store *s;

        tmpdir_make(&t);
        s = open_ok(t.path);
        ck_assert_int_eq(dt_store_begin(s), 0);
        ck_assert_int_eq(dt_store_message_done(s, "m1", DT_STORE_REJECTED, "XML_MALFORMED"), 0);
        dt_store_free(s);                       /* a crash before commit, as far as disk goes */
        s = open_ok(t.path);
        ck_assert_int_eq(dt_store_message_seen(s, "m1"), 0);
        dt_store_free(s);
        tmpdir_remove(&t);
}
END_TEST

START_TEST(transaction_misuse)
{
        const struct dt_store_report_key k = { "o", "r", "d", JAN1, JAN1 + DAY };
        struct tmpdir t;
        struct dt_store *s;
        int64_t rowid = 0;

        tmpdir_make(&t);
        s = open_ok(t.path);
        ck_assert_int_eq(dt_store_commit(s), -EINVAL);
        ck_assert_int_eq(dt_store_begin(s), 0);
        ck_assert_int_eq(dt_store_begin(s), -EALREADY);
        ck_assert_int_eq(dt_store_aggregate_record(s, 1, "o", "d", "192.0.2.1", 1, JAN1, JAN1, true,
                                                   true), -EINVAL);   /* no report open */
        ck_assert_int_eq(dt_store_aggregate_begin(s, &k, &rowid), 0);
        ck_assert_int_eq(dt_store_aggregate_record(s, rowid + 1, "o", "d", "192.0.2.1", 1, JAN1,
                                                   JAN1, true, true), -EINVAL);
        ck_assert_int_eq(dt_store_aggregate_end(s, rowid, 0, 0, 0, 0, 0), 0);
        ck_assert_int_eq(dt_store_aggregate_record(s, rowid, "o", "d", "192.0.2.1", 1, JAN1, JAN1,
                                                   true, true), -EINVAL);  /* closed */
        ck_assert_int_eq(dt_store_aggregate_end(s, rowid + 100, 0, 0, 0, 0, 0), -ENOENT);
        ck_assert_int_eq(dt_store_commit(s), 0);
        ck_assert_int_eq(dt_store_message_done(s, "m", "processed", NULL), -EINVAL);
        ck_assert_int_eq(dt_store_message_done(s, "m", NULL, NULL), -EINVAL);
        dt_store_free(s);
        tmpdir_remove(&t);
}
END_TEST

START_TEST(message_outcomes_and_attempts)
{
        struct tmpdir t;
        struct dt_store *s;
        char outcome[16], tiny[4];
        int64_t a = 0;

        tmpdir_make(&t);
        s = open_ok(t.path);
        ck_assert_int_eq(dt_store_message_get(s, "m", outcome, sizeof outcome, &a), 0);
        ck_assert_int_eq(dt_store_message_attempt(s, "m", &a), 0);
        ck_assert_int_eq(a, 1);
        ck_assert_int_eq(dt_store_message_attempt(s, "m", &a), 0);
        ck_assert_int_eq(a, 2);
        ck_assert_int_eq(dt_store_message_seen(s, "m"), 0);     /* attempted, not done */
        ck_assert_int_eq(dt_store_message_get(s, "m", outcome, sizeof outcome, &a), 1);
        ck_assert_str_eq(outcome, "");
        ck_assert_int_eq(dt_store_message_done(s, "m", DT_STORE_REJECTED, "XML_MALFORMED"), 0);
        ck_assert_int_eq(dt_store_message_seen(s, "m"), 1);
        ck_assert_int_eq(dt_store_message_get(s, "m", outcome, sizeof outcome, &a), 1);
        ck_assert_str_eq(outcome, "rejected");
        ck_assert_int_eq(a, 2);
        ck_assert_int_eq(dt_store_message_get(s, "m", tiny, sizeof tiny, NULL), -ENOBUFS);
        ck_assert_int_eq(dt_store_message_done(s, "m", DT_STORE_DUPLICATE, NULL), 0);  /* replaced */
        ck_assert_int_eq(dt_store_message_get(s, "m", outcome, sizeof outcome, NULL), 1);
        ck_assert_str_eq(outcome, "duplicate");
        dt_store_free(s);
        tmpdir_remove(&t);
}
END_TEST

START_TEST(failure_dedupe)
{
        struct tmpdir t;
        struct dt_store *s;
        char upper[65];
        uint64_t n = 0;
        size_t i;

        tmpdir_make(&t);
        s = open_ok(t.path);
        ck_assert_int_eq(dt_store_failure_add(s, HASH_A, "example.com", "192.0.2.1", JAN1 + 3700,
                                              "<a@b>"), 0);
        ck_assert_int_eq(dt_store_failure_add(s, HASH_A, "example.com", "192.0.2.1", JAN1 + 3700,
                                              "<a@b>"), 1);
        for (i = 0; i < 64; i++)
                upper[i] = (char) (HASH_A[i] >= 'a' ? HASH_A[i] - 32 : HASH_A[i]);
        upper[64] = '\0';
        ck_assert_int_eq(dt_store_failure_add(s, upper, "example.com", NULL, JAN1, NULL), 1);
        ck_assert_int_eq(counter(s, DT_STORE_C_FAILURE_DUP), 2);
        /* any other key text is hashed first: same text, same report */
        ck_assert_int_eq(dt_store_failure_add(s, "feedback\x1f<x@y>", "example.com", NULL,
                                              JAN1 + 3600, NULL), 0);
        ck_assert_int_eq(dt_store_failure_add(s, "feedback\x1f<x@y>", "example.com", NULL,
                                              JAN1 + 3600, NULL), 1);
        ck_assert_int_eq(dt_store_failure_add(s, "feedback\x1f<x@z>", "example.com", NULL,
                                              JAN1 + 7199, NULL), 0);
        ck_assert_int_eq(counter(s, DT_STORE_C_FAILURE_DUP), 3);
        ck_assert_int_eq(dt_store_failure_hour_count(s, "example.com", JAN1 + 3600, &n), 0);
        ck_assert_uint_eq(n, 3);
        ck_assert_int_eq(dt_store_failure_hour_count(s, "example.com", JAN1, &n), 0);
        ck_assert_uint_eq(n, 0);
        ck_assert_int_eq(dt_store_failure_hour_count(s, "example.org", JAN1 + 3600, &n), 0);
        ck_assert_uint_eq(n, 0);
        ck_assert_int_eq(db_int(t.path, "SELECT count(*) FROM failure_reports WHERE arrival IS NULL"), 0);
        dt_store_free(s);
        tmpdir_remove(&t);
}
END_TEST

START_TEST(cursor_round_trip)
{
        const char *cur = "s=0f4b;i=1a2b;b=9c;m=5d1e;t=5f0a;x=77";
        struct tmpdir t;
        struct dt_store *s;
        char buf[128] = "untouched", tiny[8] = "";
        uint64_t ino = 42, off = 42;

        tmpdir_make(&t);
        s = open_ok(t.path);
        ck_assert_int_eq(dt_store_cursor_get(s, "journal:postfix", buf, sizeof buf, &ino, &off), 0);
        ck_assert_str_eq(buf, "untouched");
        ck_assert_uint_eq(ino, 42);
        ck_assert_int_eq(dt_store_cursor_set(s, "journal:postfix", cur, 0, 0), 0);
        ck_assert_int_eq(dt_store_cursor_set(s, "/var/log/php/mail.log", NULL,
                                              UINT64_C(0xfedcba9876543210), 123456789), 0);
        ck_assert_int_eq(dt_store_cursor_get(s, "journal:postfix", buf, sizeof buf, NULL, NULL), 1);
        ck_assert_str_eq(buf, cur);
        ck_assert_int_eq(dt_store_cursor_get(s, "journal:postfix", tiny, sizeof tiny, NULL, NULL),
                         -ENOBUFS);
        ck_assert_int_eq(dt_store_cursor_get(s, "/var/log/php/mail.log", buf, sizeof buf, &ino, &off), 1);
        ck_assert_str_eq(buf, "");
        ck_assert_uint_eq(ino, UINT64_C(0xfedcba9876543210));
        ck_assert_uint_eq(off, 123456789);
        ck_assert_int_eq(dt_store_cursor_set(s, "journal:postfix", "s=new", 0, 0), 0);
        dt_store_free(s);
        s = open_ok(t.path);
        ck_assert_int_eq(dt_store_cursor_get(s, "journal:postfix", buf, sizeof buf, NULL, NULL), 1);
        ck_assert_str_eq(buf, "s=new");
        dt_store_free(s);
        tmpdir_remove(&t);
}
END_TEST

START_TEST(alerts_round_trip)
{
        struct tmpdir t;
        struct dt_store *s;
        uint64_t obs = 7;

        tmpdir_make(&t);
        s = open_ok(t.path);
        ck_assert_int_eq(dt_store_alert_get(s, "example.com", DT_KEY_SOURCE_IP, "192.0.2.1", JAN1, &obs), 0);
        ck_assert_uint_eq(obs, 7);
        ck_assert_int_eq(dt_store_alert_set(s, "example.com", DT_KEY_SOURCE_IP, "192.0.2.1", JAN1 + 5, 500), 0);
        ck_assert_int_eq(dt_store_alert_set(s, "example.com", DT_KEY_SOURCE_IP, "192.0.2.1", JAN1, 900), 0);
        ck_assert_int_eq(dt_store_alert_get(s, "example.com", DT_KEY_SOURCE_IP, "192.0.2.1", JAN1 + 99, &obs), 1);
        ck_assert_uint_eq(obs, 900);
        ck_assert_int_eq(dt_store_alert_get(s, "example.com", DT_KEY_ORG, "192.0.2.1", JAN1, &obs), 0);
        ck_assert_int_eq(dt_store_alert_set(s, "example.com", (enum dt_store_key) 7, "x", JAN1, 1), -EINVAL);
        ck_assert_int_eq(dt_store_alert_clear(s, "example.com", DT_KEY_SOURCE_IP, "192.0.2.1", JAN1), 0);
        ck_assert_int_eq(dt_store_alert_get(s, "example.com", DT_KEY_SOURCE_IP, "192.0.2.1", JAN1, &obs), 0);
        dt_store_free(s);
        tmpdir_remove(&t);
}
END_TEST

struct collect {
        size_t n;
        uint64_t observed;
        char last[64];
};

static int collect_row(const struct dt_store_daily_row *row, void *userdata) {
        struct collect *c = userdata;

        ck_assert_int_ge(row->key_type, 0);
        c->n++;
        c->observed += row->v.observed;
        (void) snprintf(c->last, sizeof c->last, "%s/%s/%s", row->domain,
                        dt_store_key_type_to_string(row->key_type), row->key);
        return c->n == 100 ? -ECANCELED : 0;
}

START_TEST(daily_foreach)
{
        const struct dt_store_report_key k1 = { "org", "r1", "a.example", JAN1, JAN1 + 2 * DAY };
        const struct dt_store_report_key k2 = { "org", "r2", "b.example", JAN1, JAN1 + DAY };
        const char *ips[] = { "192.0.2.1", "192.0.2.2" };
        struct tmpdir t;
        struct dt_store *s;
        struct collect c = { 0 };

        tmpdir_make(&t);
        s = open_ok(t.path);
        ck_assert_int_eq(add_report(s, "m1", &k1, ips, 2, 10, true, false), 0);
        ck_assert_int_eq(add_report(s, "m2", &k2, ips, 1, 3, true, false), 0);
        /* a.example: 2 days x (domain + org + 2 ips) rows */
        ck_assert_int_eq(dt_store_daily_foreach(s, "a.example", JAN1, JAN1 + 2 * DAY, collect_row, &c), 0);
        ck_assert_uint_eq(c.n, 8);
        ck_assert_uint_eq(c.observed, 3 * 20);
        ck_assert_str_eq(c.last, "a.example/source_ip/192.0.2.2");
        memset(&c, 0, sizeof c);
        ck_assert_int_eq(dt_store_daily_foreach(s, NULL, JAN1 + DAY, JAN1 + 2 * DAY, collect_row, &c), 0);
        ck_assert_uint_eq(c.n, 4);              /* b.example has nothing on day 2 */
        memset(&c, 0, sizeof c);
        ck_assert_int_eq(dt_store_daily_foreach(s, NULL, 0, INT64_MAX, collect_row, &c), 0);
        ck_assert_uint_eq(c.n, 11);
        ck_assert_str_eq(c.last, "b.example/source_ip/192.0.2.1");
        dt_store_free(s);
        tmpdir_remove(&t);
}
END_TEST

START_TEST(corrupt_file_is_reset)
{
        struct tmpdir t;
        char path[PATH_MAX], moved[PATH_MAX] = "", junk[4096];
        struct dt_store *s = NULL;
        struct dt_error err;
        struct stat st;
        size_t i;
        FILE *f;

        tmpdir_make(&t);
        s = open_ok(t.path);
        ck_assert_int_eq(dt_store_counter_add(s, "c", 1), 0);
        dt_store_free(s);
        s = NULL;
        (void) snprintf(path, sizeof path, "%s/state.db", t.path);
        for (i = 0; i < sizeof junk; i++)
                junk[i] = (char) (i * 7 + 3);
        f = fopen(path, "w");
        ck_assert_ptr_nonnull(f);
        ck_assert_uint_eq(fwrite(junk, 1, sizeof junk, f), sizeof junk);
        fclose(f);

        dt_error_clear(&err);
        ck_assert_int_eq(dt_store_open(t.path, &s, &err), -EBADMSG);
        ck_assert_ptr_null(s);
        ck_assert_int_eq(err.code, -EBADMSG);
        ck_assert_ptr_nonnull(strstr(err.message, "corrupt"));

        ck_assert_int_eq(dt_store_reset(t.path, moved, sizeof moved, &err), 1);
        ck_assert_ptr_nonnull(strstr(moved, "/state.db.corrupt-"));
        ck_assert_int_eq(stat(moved, &st), 0);
        ck_assert_int_eq(st.st_size, (off_t) sizeof junk);
        ck_assert_int_eq(stat(path, &st), -1);

        s = open_ok(t.path);                    /* empty again */
        ck_assert_int_eq(counter(s, "c"), 0);
        dt_store_free(s);
        ck_assert_int_eq(db_int(t.path, "PRAGMA user_version"), DT_STORE_SCHEMA_VERSION);

        /* a second reset in the same second gets another name */
        ck_assert_int_eq(dt_store_reset(t.path, path, sizeof path, &err), 1);
        ck_assert_str_ne(path, moved);
        ck_assert_int_eq(dt_store_reset(t.path, NULL, 0, &err), 0);   /* nothing left */
        tmpdir_remove(&t);
}
END_TEST

START_TEST(short_garbage_is_corrupt)
{
        struct tmpdir t;
        char path[PATH_MAX];
        struct dt_store *s = NULL;
        struct dt_error err;
        FILE *f;

        tmpdir_make(&t);
        (void) snprintf(path, sizeof path, "%s/state.db", t.path);
        f = fopen(path, "w");
        ck_assert_ptr_nonnull(f);
        fputs("not a database\n", f);
        fclose(f);
        ck_assert_int_eq(dt_store_open(t.path, &s, &err), -EBADMSG);
        ck_assert_ptr_null(s);
        ck_assert_int_eq(dt_store_reset(t.path, NULL, 0, &err), 1);
        dt_store_free(open_ok(t.path));
        tmpdir_remove(&t);
}
END_TEST

START_TEST(newer_schema_is_refused)
{
        struct tmpdir t;
        char path[PATH_MAX];
        struct dt_store *s = NULL;
        struct dt_error err;
        sqlite3 *db = NULL;

        tmpdir_make(&t);
        dt_store_free(open_ok(t.path));
        (void) snprintf(path, sizeof path, "%s/state.db", t.path);
        ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
        ck_assert_int_eq(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(db);
        dt_error_clear(&err);
        ck_assert_int_eq(dt_store_open(t.path, &s, &err), -EPROTO);
        ck_assert_ptr_null(s);
        ck_assert_ptr_nonnull(strstr(err.message, "schema version 99"));
        tmpdir_remove(&t);
}
END_TEST

START_TEST(bad_state_dir)
{
        struct tmpdir t;
        char path[PATH_MAX];
        struct dt_store *s = NULL;
        struct dt_error err;
        FILE *f;

        tmpdir_make(&t);
        (void) snprintf(path, sizeof path, "%s/missing", t.path);
        dt_error_clear(&err);
        ck_assert_int_eq(dt_store_open(path, &s, &err), -ENOENT);
        ck_assert_ptr_nonnull(strstr(err.message, "does not exist"));
        ck_assert_int_eq(dt_store_open("", &s, &err), -EINVAL);

        (void) snprintf(path, sizeof path, "%s/file", t.path);
        f = fopen(path, "w");
        ck_assert_ptr_nonnull(f);
        fclose(f);
        ck_assert_int_eq(dt_store_open(path, &s, &err), -ENOTDIR);

        /* state.db as a symbolic link is refused, not followed */
        (void) snprintf(path, sizeof path, "%s/state.db", t.path);
        ck_assert_int_eq(symlink("file", path), 0);
        ck_assert_int_eq(dt_store_open(t.path, &s, &err), -ELOOP);
        ck_assert_ptr_nonnull(strstr(err.message, "symbolic link"));
        ck_assert_ptr_null(s);
        (void) unlink(path);

        if (geteuid() != 0) {                   /* root writes anywhere */
                ck_assert_int_eq(chmod(t.path, 0500), 0);
                ck_assert_int_eq(dt_store_open(t.path, &s, &err), -EACCES);
                ck_assert_ptr_nonnull(strstr(err.message, "not writable"));
                ck_assert_int_eq(chmod(t.path, 0700), 0);
        }
        ck_assert_ptr_null(s);
        tmpdir_remove(&t);
}
END_TEST

START_TEST(prepared_statements_are_reused)
{
        struct dt_store_report_key k = { "org", NULL, "example.com", JAN1, JAN1 + 2 * DAY };
        const char *ips[] = { "192.0.2.1", "192.0.2.2", "192.0.2.3" };
        struct tmpdir t;
        struct dt_store *s;
        char id[16], msg[16];
        uint64_t after_first = 0;
        int i;

        tmpdir_make(&t);
        s = open_ok(t.path);
        ck_assert_uint_eq(dt_store_prepare_count(s), 0);
        for (i = 0; i < 200; i++) {
                (void) snprintf(id, sizeof id, "r%d", i % 100);        /* half are duplicates */
                (void) snprintf(msg, sizeof msg, "m%d", i);
                k.report_id = id;
                ck_assert_int_eq(dt_store_message_seen(s, msg), 0);
                ck_assert_int_eq(add_report(s, msg, &k, ips, 3, 4, true, false), i >= 100);
                if (i == 100)
                        after_first = dt_store_prepare_count(s);
        }
        ck_assert_uint_gt(after_first, 0);
        ck_assert_uint_eq(dt_store_prepare_count(s), after_first);
        ck_assert_uint_eq(daily(s, "example.com", DT_KEY_DOMAIN, "example.com", JAN1).observed,
                          100 * 3 * 2);
        dt_store_free(s);
        tmpdir_remove(&t);
}
END_TEST

START_TEST(ten_thousand_records_in_one_transaction)
{
        const struct dt_store_report_key k = { "google.com", "big", "example.com", JAN1 + DAY / 2,
                                               JAN1 + DAY + DAY / 2 };
        struct tmpdir t;
        struct dt_store *s;
        char ip[32];
        int64_t rowid = 0;
        uint64_t total = 0;
        int i;

        tmpdir_make(&t);
        s = open_ok(t.path);
        ck_assert_int_eq(dt_store_begin(s), 0);
        ck_assert_int_eq(dt_store_aggregate_begin(s, &k, &rowid), 0);
        for (i = 0; i < 10000; i++) {
                (void) snprintf(ip, sizeof ip, "10.0.%d.%d", (i / 250) % 256, i % 250);
                ck_assert_int_eq(dt_store_aggregate_record(s, rowid, k.org, k.domain, ip,
                                                           (uint64_t) (i % 7) + 1, k.begin, k.end,
                                                           i % 2 == 0, i % 10 == 0), 0);
                total += (uint64_t) (i % 7) + 1;
        }
        ck_assert_int_eq(dt_store_aggregate_end(s, rowid, 10000, total, 0, 0, 0), 0);
        ck_assert_int_eq(dt_store_message_done(s, "big", DT_STORE_AGGREGATE, NULL), 0);
        ck_assert_int_eq(dt_store_commit(s), 0);
        ck_assert_uint_eq(daily(s, "example.com", DT_KEY_DOMAIN, "example.com", JAN1).observed +
                          daily(s, "example.com", DT_KEY_DOMAIN, "example.com", JAN1 + DAY).observed,
                          total);
        ck_assert_uint_eq(daily(s, "example.com", DT_KEY_ORG, "google.com", JAN1).observed +
                          daily(s, "example.com", DT_KEY_ORG, "google.com", JAN1 + DAY).observed,
                          total);
        ck_assert_int_eq(db_int(t.path, "SELECT count(*) FROM daily WHERE key_type = 'source_ip' "
                                "AND observed > 0"), 10000 + 10000 - 10000 / 7 - 1);
        dt_store_free(s);
        tmpdir_remove(&t);
}
END_TEST

START_TEST(key_type_names)
{
        ck_assert_str_eq(dt_store_key_type_to_string(DT_KEY_DOMAIN), "domain");
        ck_assert_str_eq(dt_store_key_type_to_string(DT_KEY_ORG), "org");
        ck_assert_str_eq(dt_store_key_type_to_string(DT_KEY_SOURCE_IP), "source_ip");
        ck_assert_ptr_null(dt_store_key_type_to_string(_DT_KEY_MAX));
        ck_assert_int_eq(dt_store_key_type_from_string("org"), DT_KEY_ORG);
        ck_assert_int_eq(dt_store_key_type_from_string("ip"), _DT_KEY_INVALID);
        ck_assert_int_eq(dt_store_day(JAN1 + DAY - 1), JAN1);
        ck_assert_int_eq(dt_store_day(JAN1), JAN1);
        ck_assert_int_eq(dt_store_day(-1), -DAY);
}
END_TEST

int main(void) {
        Suite *s = suite_create("store");
        TCase *tc = tcase_create("store");

        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, open_creates_the_schema);
        tcase_add_test(tc, migrates_version_1);
        tcase_add_test(tc, open_tightens_a_wide_mode);
        tcase_add_test(tc, reopen_keeps_data);
        tcase_add_test(tc, aggregate_dedupe);
        tcase_add_test(tc, daily_spread);
        tcase_add_test(tc, savepoint_larger_than_memory_journal);
        tcase_add_test(tc, daily_spread_sums_exactly);
        tcase_add_test(tc, undated_report_adds_no_daily_rows);
        tcase_add_test(tc, counts_saturate);
        tcase_add_test(tc, rollback_leaves_nothing);
        tcase_add_test(tc, free_with_open_transaction_rolls_back);
        tcase_add_test(tc, transaction_misuse);
        tcase_add_test(tc, message_outcomes_and_attempts);
        tcase_add_test(tc, failure_dedupe);
        tcase_add_test(tc, cursor_round_trip);
        tcase_add_test(tc, alerts_round_trip);
        tcase_add_test(tc, daily_foreach);
        tcase_add_test(tc, corrupt_file_is_reset);
        tcase_add_test(tc, short_garbage_is_corrupt);
        tcase_add_test(tc, newer_schema_is_refused);
        tcase_add_test(tc, bad_state_dir);
        tcase_add_test(tc, prepared_statements_are_reused);
        tcase_add_test(tc, ten_thousand_records_in_one_transaction);
        tcase_add_test(tc, key_type_names);
        suite_add_tcase(s, tc);
        return dt_test_main(s);
}
