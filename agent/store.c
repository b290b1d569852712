/* store.c - the agent's state in SQLite: schema, migrations, cached statements, daily spread
 *
 * The connection runs in WAL mode with synchronous=FULL: a COMMIT returns only once the WAL is
 * fsynced, which is what lets the pipeline rename a message right after it. BEGIN IMMEDIATE
 * takes the write lock up front, so a second process waits out the busy timeout instead of
 * failing halfway through a message. Every statement is compiled once, on first use, and kept
 * (SQLITE_PREPARE_PERSISTENT) until dt_store_free(); the hot path, one upsert per record and
 * day that adds into the domain, org and source-IP sums at once, never compiles SQL.
 *
 * The schema is versioned with PRAGMA user_version. migrations[] lists one function per
 * version; dt_store_open() runs the missing ones in one transaction, so a crash mid-migration
 * leaves the old version intact. To add version 3, write migrate_3() and append it.
 *
 * SECURITY: every string and count stored here comes from report mail (org, report id, domain,
 * IPs, Message-IDs). They only ever reach SQLite as bound parameters, never as SQL text; counts
 * are clamped to INT64_MAX and sums saturate; a date_range is spread over at most
 * DT_STORE_SPREAD_DAYS_MAX days, so a report claiming 1970..9999 costs one row, not a million.
 * The database file is opened O_NOFOLLOW and kept at mode 0600 (WAL and shm inherit it). */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <stdarg.h>
#include <inttypes.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent/store.h"

#define TIME_MAX INT64_C(253402300799)          /* 9999-12-31T23:59:59Z */
#define HOUR 3600
#define SAT_ADD(col) \
        col " = CASE WHEN " col " > 9223372036854775807 - excluded." col \
        " THEN 9223372036854775807 ELSE " col " + excluded." col " END"

static const char schema_1[] =
        "CREATE TABLE messages ("
        "  name TEXT PRIMARY KEY,"                      /* Maildir unique name, byte-exact */
        "  outcome TEXT CHECK (outcome IN ('aggregate', 'failure', 'rejected', 'duplicate')),"
        "  reason TEXT,"                                /* DT_R_* for rejected */
        "  time INTEGER NOT NULL,"                      /* last change, epoch seconds */
        "  attempts INTEGER NOT NULL DEFAULT 0"
        ") WITHOUT ROWID;"
        "CREATE TABLE aggregate_reports ("
        "  id INTEGER PRIMARY KEY,"
        "  org TEXT NOT NULL,"
        "  report_id TEXT NOT NULL,"
        "  domain TEXT NOT NULL,"
        "  period_begin INTEGER NOT NULL,"
        "  period_end INTEGER NOT NULL,"
        "  record_count INTEGER NOT NULL DEFAULT 0,"
        "  message_count INTEGER NOT NULL DEFAULT 0,"
        "  pass_count INTEGER NOT NULL DEFAULT 0,"
        "  fail_count INTEGER NOT NULL DEFAULT 0,"
        "  own_host_count INTEGER NOT NULL DEFAULT 0,"
        "  received INTEGER NOT NULL,"
        "  complete INTEGER NOT NULL DEFAULT 0,"
        "  UNIQUE (org, report_id, domain, period_begin, period_end)"
        ");"
        "CREATE TABLE daily ("
        "  domain TEXT NOT NULL,"
        "  key_type TEXT NOT NULL CHECK (key_type IN ('domain', 'org', 'source_ip')),"
        "  key TEXT NOT NULL,"
        "  day INTEGER NOT NULL,"                       /* epoch second of the UTC midnight */
        "  observed INTEGER NOT NULL,"
        "  pass INTEGER NOT NULL,"
        "  own INTEGER NOT NULL,"
        "  PRIMARY KEY (domain, key_type, key, day)"
        ") WITHOUT ROWID;"
        "CREATE TABLE failure_reports ("
        "  hash TEXT PRIMARY KEY,"                      /* SHA-256 hex of the dedupe key */
        "  domain TEXT NOT NULL,"
        "  source_ip TEXT,"
        "  arrival INTEGER,"                            /* NULL when the report had none */
        "  received INTEGER NOT NULL,"
        "  message_id TEXT,"
        "  hour INTEGER NOT NULL"                       /* of arrival, else of received */
        ");"
        "CREATE INDEX failure_reports_by_hour ON failure_reports (domain, hour);"
        "CREATE TABLE cursors ("
        "  source TEXT PRIMARY KEY,"
        "  cursor TEXT,"
        "  file_inode INTEGER,"                         /* uint64 bit pattern */
        "  file_offset INTEGER,"
        "  updated INTEGER NOT NULL"
        ") WITHOUT ROWID;"
        "CREATE TABLE alerts ("
        "  domain TEXT NOT NULL,"
        "  key_type TEXT NOT NULL CHECK (key_type IN ('domain', 'org', 'source_ip')),"
        "  key TEXT NOT NULL,"
        "  day INTEGER NOT NULL,"
        "  observed INTEGER NOT NULL,"                  /* at the last alert */
        "  raised INTEGER NOT NULL,"
        "  PRIMARY KEY (domain, key_type, key, day)"
        ") WITHOUT ROWID;"
        "CREATE TABLE counters ("
        "  name TEXT PRIMARY KEY,"
        "  value INTEGER NOT NULL"
        ") WITHOUT ROWID;";

/* migrate_1 - the first schema */
static int migrate_1(sqlite3 *db) {
        return sqlite3_exec(db, schema_1, NULL, NULL, NULL);
}

/* Version 2: the same tables, but each CHECK on a closed list of words spelled with "=" and
 * OR. SQLite codes an IN list of more than two constants as an ephemeral table, opened, filled
 * and closed again for every row a statement writes: with one upsert per record and day that
 * was about half of the scanning parent's instructions. A CHECK is part of the CREATE TABLE
 * text, so the three tables are rebuilt (SQLite's "make other kinds of table schema changes"
 * procedure; no index, trigger, view or foreign key refers to them). */
static const char schema_2[] =
        "CREATE TABLE messages_2 ("
        "  name TEXT PRIMARY KEY,"
        "  outcome TEXT CHECK (outcome = 'aggregate' OR outcome = 'failure' OR"
        "                      outcome = 'rejected' OR outcome = 'duplicate'),"
        "  reason TEXT,"
        "  time INTEGER NOT NULL,"
        "  attempts INTEGER NOT NULL DEFAULT 0"
        ") WITHOUT ROWID;"
        "INSERT INTO messages_2 SELECT name, outcome, reason, time, attempts FROM messages;"
        "DROP TABLE messages;"
        "ALTER TABLE messages_2 RENAME TO messages;"
        "CREATE TABLE daily_2 ("
        "  domain TEXT NOT NULL,"
        "  key_type TEXT NOT NULL CHECK (key_type = 'domain' OR key_type = 'org' OR"
        "                                key_type = 'source_ip'),"
        "  key TEXT NOT NULL,"
        "  day INTEGER NOT NULL,"
        "  observed INTEGER NOT NULL,"
        "  pass INTEGER NOT NULL,"
        "  own INTEGER NOT NULL,"
        "  PRIMARY KEY (domain, key_type, key, day)"
        ") WITHOUT ROWID;"
        "INSERT INTO daily_2 SELECT domain, key_type, key, day, observed, pass, own FROM daily;"
        "DROP TABLE daily;"
        "ALTER TABLE daily_2 RENAME TO daily;"
        "CREATE TABLE alerts_2 ("
        "  domain TEXT NOT NULL,"
        "  key_type TEXT NOT NULL CHECK (key_type = 'domain' OR key_type = 'org' OR"
        "                                key_type = 'source_ip'),"
        "  key TEXT NOT NULL,"
        "  day INTEGER NOT NULL,"
        "  observed INTEGER NOT NULL,"
        "  raised INTEGER NOT NULL,"
        "  PRIMARY KEY (domain, key_type, key, day)"
        ") WITHOUT ROWID;"
        "INSERT INTO alerts_2 SELECT domain, key_type, key, day, observed, raised FROM alerts;"
        "DROP TABLE alerts;"
        "ALTER TABLE alerts_2 RENAME TO alerts;";

/* migrate_2 - CHECK constraints SQLite tests without a temporary table per row */
static int migrate_2(sqlite3 *db) {
        return sqlite3_exec(db, schema_2, NULL, NULL, NULL);
}

/* one entry per schema version, in order; each returns an SQLite result code */
static const struct migration {
        int version;
        int (*apply)(sqlite3 *db);
} migrations[] = {
        { 1, migrate_1 },
        { 2, migrate_2 },
};

enum stmt {
        ST_BEGIN,
        ST_COMMIT,
        ST_ROLLBACK,
        ST_SAVEPOINT,
        ST_RELEASE,
        ST_ROLLBACK_TO,
        ST_MSG_SEEN,
        ST_MSG_ATTEMPT,
        ST_MSG_DONE,
        ST_MSG_GET,
        ST_AGG_INSERT,
        ST_AGG_END,
        ST_AGG_COUNT,
        ST_DAILY_ADD,
        ST_DAILY_ADD_REPORT,
        ST_DAILY_GET,
        ST_DAILY_EACH,
        ST_DAILY_EACH_DOMAIN,
        ST_FAIL_INSERT,
        ST_FAIL_HOUR,
        ST_CURSOR_SET,
        ST_CURSOR_GET,
        ST_COUNTER_ADD,
        ST_COUNTER_GET,
        ST_ALERT_SET,
        ST_ALERT_GET,
        ST_ALERT_CLEAR,
        _ST_MAX,
};

static const char *const stmt_sql[_ST_MAX] = {
        [ST_BEGIN] = "BEGIN IMMEDIATE",
        [ST_COMMIT] = "COMMIT",
        [ST_ROLLBACK] = "ROLLBACK",
        [ST_SAVEPOINT] = "SAVEPOINT msg",
        [ST_RELEASE] = "RELEASE msg",
        [ST_ROLLBACK_TO] = "ROLLBACK TO msg",
        [ST_MSG_SEEN] = "SELECT 1 FROM messages WHERE name = ?1 AND outcome IS NOT NULL",
        [ST_MSG_ATTEMPT] =
                "INSERT INTO messages (name, time, attempts) VALUES (?1, ?2, 1) "
                "ON CONFLICT (name) DO UPDATE SET attempts = attempts + 1, time = excluded.time "
                "RETURNING attempts",
        [ST_MSG_DONE] =
                "INSERT INTO messages (name, outcome, reason, time, attempts) "
                "VALUES (?1, ?2, ?3, ?4, 1) "
                "ON CONFLICT (name) DO UPDATE SET outcome = excluded.outcome, "
                "reason = excluded.reason, time = excluded.time, attempts = max(attempts, 1)",
        [ST_MSG_GET] = "SELECT outcome, attempts FROM messages WHERE name = ?1",
        [ST_AGG_INSERT] =
                "INSERT INTO aggregate_reports (org, report_id, domain, period_begin, period_end, "
                "received) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
                "ON CONFLICT (org, report_id, domain, period_begin, period_end) DO NOTHING",
        [ST_AGG_END] =
                "UPDATE aggregate_reports SET record_count = ?2, message_count = ?3, "
                "pass_count = ?4, fail_count = ?5, own_host_count = ?6, complete = 1 "
                "WHERE id = ?1",
        [ST_AGG_COUNT] = "SELECT count(*) FROM aggregate_reports",
        /* a record's day adds into its source-IP row at once; its domain and org rows are
         * summed in memory over the report and written once per day at its end */
        [ST_DAILY_ADD] =
                "INSERT INTO daily (domain, key_type, key, day, observed, pass, own) VALUES "
                "(?1, 'source_ip', ?3, ?4, ?5, ?6, ?7) "
                "ON CONFLICT (domain, key_type, key, day) DO UPDATE SET "
                SAT_ADD("observed") ", " SAT_ADD("pass") ", " SAT_ADD("own"),
        [ST_DAILY_ADD_REPORT] =
                "INSERT INTO daily (domain, key_type, key, day, observed, pass, own) VALUES "
                "(?1, 'domain', ?1, ?4, ?5, ?6, ?7), "
                "(?1, 'org', ?2, ?4, ?5, ?6, ?7) "
                "ON CONFLICT (domain, key_type, key, day) DO UPDATE SET "
                SAT_ADD("observed") ", " SAT_ADD("pass") ", " SAT_ADD("own"),
        [ST_DAILY_GET] =
                "SELECT observed, pass, own FROM daily "
                "WHERE domain = ?1 AND key_type = ?2 AND key = ?3 AND day = ?4",
        [ST_DAILY_EACH] =
                "SELECT domain, day, key_type, key, observed, pass, own FROM daily "
                "WHERE day >= ?2 AND day < ?3 ORDER BY domain, key_type, key, day",
        [ST_DAILY_EACH_DOMAIN] =
                "SELECT domain, day, key_type, key, observed, pass, own FROM daily "
                "WHERE domain = ?1 AND day >= ?2 AND day < ?3 ORDER BY key_type, key, day",
        [ST_FAIL_INSERT] =
                "INSERT INTO failure_reports (hash, domain, source_ip, arrival, received, "
                "message_id, hour) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
                "ON CONFLICT (hash) DO NOTHING",
        [ST_FAIL_HOUR] = "SELECT count(*) FROM failure_reports WHERE domain = ?1 AND hour = ?2",
        [ST_CURSOR_SET] =
                "INSERT INTO cursors (source, cursor, file_inode, file_offset, updated) "
                "VALUES (?1, ?2, ?3, ?4, ?5) "
                "ON CONFLICT (source) DO UPDATE SET cursor = excluded.cursor, "
                "file_inode = excluded.file_inode, file_offset = excluded.file_offset, "
                "updated = excluded.updated",
        [ST_CURSOR_GET] = "SELECT cursor, file_inode, file_offset FROM cursors WHERE source = ?1",
        [ST_COUNTER_ADD] =
                "INSERT INTO counters (name, value) VALUES (?1, ?2) "
                "ON CONFLICT (name) DO UPDATE SET value = value + excluded.value",
        [ST_COUNTER_GET] = "SELECT value FROM counters WHERE name = ?1",
        [ST_ALERT_SET] =
                "INSERT INTO alerts (domain, key_type, key, day, observed, raised) "
                "VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
                "ON CONFLICT (domain, key_type, key, day) DO UPDATE SET "
                "observed = excluded.observed, raised = excluded.raised",
        [ST_ALERT_GET] =
                "SELECT observed FROM alerts "
                "WHERE domain = ?1 AND key_type = ?2 AND key = ?3 AND day = ?4",
        [ST_ALERT_CLEAR] =
                "DELETE FROM alerts WHERE domain = ?1 AND key_type = ?2 AND key = ?3 AND day = ?4",
};

static const char *const key_type_names[_DT_KEY_MAX] = {
        [DT_KEY_DOMAIN] = "domain",
        [DT_KEY_ORG] = "org",
        [DT_KEY_SOURCE_IP] = "source_ip",
};

/* one day's sums of the open report, for its domain and org rows */
struct day_sum {
        int64_t day;
        uint64_t observed, pass, own;
};

struct dt_store {
        sqlite3 *db;
        sqlite3_stmt *st[_ST_MAX];
        uint64_t prepares;
        bool in_tx;
        int64_t open_report;            /* row id between aggregate_begin and _end, else 0 */
        struct day_sum acc[DT_STORE_SPREAD_DAYS_MAX + 1];  /* the open report's domain/org days */
        size_t n_acc;
        char *acc_domain, *acc_org;     /* the open report's key, copied */
        char errmsg[256];
};

/* close_report - forget the open report and its unwritten day sums */
static void close_report(struct dt_store *s) {
        s->open_report = 0;
        s->n_acc = 0;
        s->acc_domain = mfree(s->acc_domain);
        s->acc_org = mfree(s->acc_org);
}

/* sqlite_errno - an SQLite result code (extended or not) as -errno; sys is the OS errno
 * SQLite saw, used for I/O and open failures */
static int sqlite_errno(int rc, int sys) {
        switch (rc & 0xff) {
        case SQLITE_OK:
        case SQLITE_ROW:
        case SQLITE_DONE:
                return 0;
        case SQLITE_NOMEM:
                return -ENOMEM;
        case SQLITE_FULL:
                return -ENOSPC;
        case SQLITE_CORRUPT:
        case SQLITE_NOTADB:
                return -EBADMSG;
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
                return -EBUSY;
        case SQLITE_READONLY:
                return -EROFS;
        case SQLITE_PERM:
        case SQLITE_AUTH:
                return -EACCES;
        case SQLITE_TOOBIG:
                return -E2BIG;
        case SQLITE_INTERRUPT:
                return -EINTR;
        case SQLITE_CONSTRAINT:
        case SQLITE_MISMATCH:
        case SQLITE_RANGE:
        case SQLITE_MISUSE:
                return -EINVAL;
        case SQLITE_IOERR:
                if (rc == SQLITE_IOERR_NOMEM)
                        return -ENOMEM;
                return sys > 0 ? -sys : -EIO;
        case SQLITE_CANTOPEN:
                return sys > 0 ? -sys : -EACCES;
        default:
                return -EIO;
        }
}

/* fail - remember SQLite's message for rc and return it as -errno, never 0 */
static int fail(struct dt_store *s, int rc) {
        int r = sqlite_errno(rc, sqlite3_system_errno(s->db));

        (void) snprintf(s->errmsg, sizeof s->errmsg, "%s", sqlite3_errmsg(s->db));
        return r < 0 ? r : -EIO;
}

/* stmt - the cached statement id, compiled on first use */
static int stmt(struct dt_store *s, enum stmt id, sqlite3_stmt **out) {
        int rc;

        if (!s->st[id]) {
                rc = sqlite3_prepare_v3(s->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
                                        &s->st[id], NULL);
                if (rc != SQLITE_OK)
                        return fail(s, rc);
                s->prepares++;
        }
        *out = s->st[id];
        return 0;
}

/* done - make st reusable: reset, drop bindings */
static void done(sqlite3_stmt *st) {
        (void) sqlite3_reset(st);
        (void) sqlite3_clear_bindings(st);
}

/* step - one step of st: 1 row (st left for the caller to read, then done()), 0 finished
 * (st already done()), <0 error (st done()) */
static int step(struct dt_store *s, sqlite3_stmt *st) {
        int rc = sqlite3_step(st), r;

        if (rc == SQLITE_ROW)
                return 1;
        if (rc == SQLITE_DONE) {
                done(st);
                return 0;
        }
        r = fail(s, rc);
        done(st);
        return r;
}

/* run - step st to its end, ignoring rows */
static int run(struct dt_store *s, sqlite3_stmt *st) {
        int r;

        while ((r = step(s, st)) > 0)
                ;
        return r;
}

/* bind_fail - a bind failed: clear st, return the error */
static int bind_fail(struct dt_store *s, sqlite3_stmt *st, int rc) {
        int r = fail(s, rc);

        done(st);
        return r;
}

#define BIND(s, st, expr)                                        \
        do {                                                     \
                int _rc = (expr);                                \
                if (_rc != SQLITE_OK)                            \
                        return bind_fail((s), (st), _rc);        \
        } while (0)

/* text - bind a string, "" for NULL; the caller's string outlives the step */
static int text(sqlite3_stmt *st, int i, const char *v) {
        return sqlite3_bind_text(st, i, v ? v : "", -1, SQLITE_STATIC);
}

/* text_or_null - bind a string, SQL NULL for NULL */
static int text_or_null(sqlite3_stmt *st, int i, const char *v) {
        return v ? sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC) : sqlite3_bind_null(st, i);
}

/* clamp - a hostile uint64_t count as a non-negative SQLite integer */
static int64_t clamp(uint64_t v) {
        return v > (uint64_t) INT64_MAX ? INT64_MAX : (int64_t) v;
}

/* column_u64 - a stored count (never negative) back as uint64_t */
static uint64_t column_u64(sqlite3_stmt *st, int i) {
        int64_t v = sqlite3_column_int64(st, i);

        return v < 0 ? 0 : (uint64_t) v;
}

static bool time_ok(int64_t t) {
        return t >= 0 && t <= TIME_MAX;
}

int64_t dt_store_day(int64_t t) {
        int64_t r;

        if (t < INT64_MIN + DT_STORE_DAY)
                return INT64_MIN;
        r = t % DT_STORE_DAY;
        if (r < 0)
                r += DT_STORE_DAY;
        return t - r;
}

const char *dt_store_key_type_to_string(enum dt_store_key t) {
        if (t < 0 || t >= _DT_KEY_MAX)
                return NULL;
        return key_type_names[t];
}

enum dt_store_key dt_store_key_type_from_string(const char *s) {
        int i;

        for (i = 0; s && i < _DT_KEY_MAX; i++)
                if (strcmp(key_type_names[i], s) == 0)
                        return (enum dt_store_key) i;
        return _DT_KEY_INVALID;
}

/* pragma_text - run a one-row statement (a PRAGMA) and copy its first column into buf */
static int pragma_text(struct dt_store *s, const char *sql, char *buf, size_t cap) {
        sqlite3_stmt *st = NULL;
        const unsigned char *v;
        int rc, r = 0;

        rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
        if (rc != SQLITE_OK)
                return fail(s, rc);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
                v = sqlite3_column_text(st, 0);
                (void) snprintf(buf, cap, "%s", v ? (const char *) v : "");
        } else if (rc == SQLITE_DONE) {
                buf[0] = '\0';
        } else {
                r = fail(s, rc);
        }
        sqlite3_finalize(st);
        return r;
}

/* exec - run SQL text made by us (pragmas, transaction control during open) */
static int exec(struct dt_store *s, const char *sql) {
        int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);

        return rc == SQLITE_OK ? 0 : fail(s, rc);
}

/* migrate - bring the schema to the newest version, in one transaction */
static int migrate(struct dt_store *s, const char *path, struct dt_error *err) {
        const int newest = migrations[ELEMENTSOF(migrations) - 1].version;
        char buf[32], sql[64];
        long version;
        size_t i;
        int r, rc;

        r = exec(s, "BEGIN IMMEDIATE");
        if (r < 0)
                return r;
        r = pragma_text(s, "PRAGMA user_version", buf, sizeof buf);
        if (r < 0)
                goto rollback;
        version = strtol(buf, NULL, 10);
        if (version > newest) {
                (void) exec(s, "ROLLBACK");
                return dt_error_set(err, -EPROTO, NULL, -1,
                                    "state database '%s' has schema version %ld, newer than this "
                                    "dmarctrace understands (%d)", path, version, newest);
        }
        for (i = 0; i < ELEMENTSOF(migrations); i++) {
                if (migrations[i].version <= version)
                        continue;
                rc = migrations[i].apply(s->db);
                if (rc != SQLITE_OK) {
                        r = fail(s, rc);
                        goto rollback;
                }
                (void) snprintf(sql, sizeof sql, "PRAGMA user_version = %d", migrations[i].version);
                r = exec(s, sql);
                if (r < 0)
                        goto rollback;
        }
        r = exec(s, "COMMIT");
        if (r < 0)
                goto rollback;
        return 0;
rollback:
        if (!sqlite3_get_autocommit(s->db))
                (void) sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        return r;
}

/* db_error - err for a failure of the database at path */
static int db_error(struct dt_store *s, int r, const char *path, const char *what,
                    struct dt_error *err) {
        if (r == -EBADMSG)
                return dt_error_set(err, r, NULL, -1,
                                    "state database '%s' is corrupt or not a database (%s)", path,
                                    s->errmsg);
        return dt_error_set(err, r, NULL, -1, "state database '%s': cannot %s: %s", path, what,
                            s->errmsg[0] ? s->errmsg : strerror(-r));
}

/* prepare_file - create path 0600 when missing (SQLite would use 0644 minus umask, and its WAL
 * and shm copy the database's mode), refuse a symlink or a non-regular file, tighten a wider
 * mode */
static int prepare_file(const char *path, struct dt_error *err) {
        struct stat st;
        int fd, r = 0;

        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0600);
        if (fd < 0) {
                r = -errno;
                return dt_error_set(err, r, NULL, -1, "cannot open state database '%s': %s", path,
                                    r == -ELOOP ? "it is a symbolic link" : strerror(-r));
        }
        if (fstat(fd, &st) < 0)
                r = dt_error_set(err, -errno, NULL, -1, "cannot stat state database '%s': %s", path,
                                 strerror(errno));
        else if (!S_ISREG(st.st_mode))
                r = dt_error_set(err, -EINVAL, NULL, -1,
                                 "state database '%s' is not a regular file", path);
        else if ((st.st_mode & 077) != 0)
                (void) fchmod(fd, 0600);        /* best effort: not ours, then SQLite says so */
        close(fd);
        return r;
}

/* check_dir - the state directory exists, is a directory, and we may create files in it */
static int check_dir(const char *dir, struct dt_error *err) {
        struct stat st;

        if (stat(dir, &st) < 0) {
                if (errno == ENOENT)
                        return dt_error_set(err, -ENOENT, NULL, -1,
                                            "state directory '%s' does not exist", dir);
                return dt_error_set(err, -errno, NULL, -1, "cannot use state directory '%s': %s",
                                    dir, strerror(errno));
        }
        if (!S_ISDIR(st.st_mode))
                return dt_error_set(err, -ENOTDIR, NULL, -1,
                                    "state directory '%s' is not a directory", dir);
        if (access(dir, W_OK | X_OK) < 0)
                return dt_error_set(err, -errno, NULL, -1,
                                    "state directory '%s' is not writable: %s", dir,
                                    strerror(errno));
        return 0;
}

int dt_store_open(const char *state_dir, struct dt_store **out, struct dt_error *err) {
        _cleanup_(dt_store_freep) struct dt_store *s = NULL;
        static bool configured;
        char path[PATH_MAX], mode[32];
        int n, r, rc;

        if (!state_dir || !*state_dir)
                return dt_error_set(err, -EINVAL, NULL, -1, "no state directory configured");
        r = check_dir(state_dir, err);
        if (r < 0)
                return r;
        n = snprintf(path, sizeof path, "%s/%s", state_dir, DT_STORE_FILE);
        if (n < 0 || (size_t) n >= sizeof path)
                return dt_error_set(err, -ENAMETOOLONG, NULL, -1,
                                    "state directory path is too long");
        r = prepare_file(path, err);
        if (r < 0)
                return r;

        /* Memory statistics (nobody reads them) took a global mutex on every allocation: 5%
         * of log indexing. The setting is process-wide, so it must come before SQLite
         * initialises; a later call is refused and changes nothing. The savepoint sub-journal
         * keeps SQLite's default: in memory up to 64 KiB, then a temporary file (1.6% of the
         * messages of a scan). A bigger in-memory limit (SQLITE_CONFIG_STMTJRNL_SPILL) made
         * SQLite 3.40 fail a message with SQLITE_FULL when it did spill (test-store
         * savepoint_larger_than_memory_journal), and temp_store = MEMORY grew it 1 KiB at a
         * time, 8% of the scanning parent's instructions. */
        if (!configured) {
                (void) sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
                configured = true;
        }
        s = calloc(1, sizeof *s);
        if (!s)
                return dt_error_set(err, -ENOMEM, DT_R_NOMEM, -1, "out of memory");
        rc = sqlite3_open_v2(path, &s->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW |
                                     SQLITE_OPEN_EXRESCODE, NULL);
        if (rc != SQLITE_OK) {
                if (!s->db)
                        return dt_error_set(err, -ENOMEM, DT_R_NOMEM, -1, "out of memory");
                return db_error(s, fail(s, rc), path, "open", err);
        }
        (void) sqlite3_extended_result_codes(s->db, 1);
        (void) sqlite3_busy_timeout(s->db, DT_STORE_BUSY_TIMEOUT_MS);
        /* no writable_schema tricks, no functions called from a schema a tamperer edited */
        (void) sqlite3_db_config(s->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
        (void) sqlite3_db_config(s->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);

        /* the first statement to read the file: a corrupt one fails here */
        r = pragma_text(s, "PRAGMA journal_mode = WAL", mode, sizeof mode);
        if (r < 0)
                return db_error(s, r, path, "switch to WAL", err);
        if (strcmp(mode, "wal") != 0)
                return dt_error_set(err, -EIO, NULL, -1,
                                    "state database '%s': journal mode is '%s', not WAL", path,
                                    mode);
        /* Pages a batch rewrites (the daily rows of random source IPs land all over the table)
         * are copied back into the database once per checkpoint, not once per commit: a
         * checkpoint every 8,192 WAL pages (32 MiB) wrote 15% fewer pages than the default
         * 1,000, and an 8 MiB cache halved the reads of a 40,000-message scan. */
        r = exec(s, "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; "
                    "PRAGMA journal_size_limit = 67108864; PRAGMA wal_autocheckpoint = 8192; "
                    "PRAGMA cache_size = -8192");
        if (r < 0)
                return db_error(s, r, path, "set pragmas", err);
        r = migrate(s, path, err);
        if (r == -EPROTO)
                return r;
        if (r < 0)
                return db_error(s, r, path, "create or migrate the schema", err);
        s->errmsg[0] = '\0';
        *out = TAKE_PTR(s);
        return 0;
}

/* move_aside - rename from to to when from exists; 1 moved, 0 absent, <0 error */
static int move_aside(const char *from, const char *to) {
        if (rename(from, to) < 0)
                return errno == ENOENT ? 0 : -errno;
        return 1;
}

/* path_fmt - format a path into buf; -ENAMETOOLONG when it does not fit */
static int path_fmt(char *buf, size_t cap, const char *fmt, ...) _printf_(3, 4);
static int path_fmt(char *buf, size_t cap, const char *fmt, ...) {
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(buf, cap, fmt, ap);
        va_end(ap);
        return n < 0 || (size_t) n >= cap ? -ENAMETOOLONG : 0;
}

int dt_store_reset(const char *state_dir, char *moved_to, size_t cap, struct dt_error *err) {
        char db[PATH_MAX], wal[PATH_MAX], shm[PATH_MAX], to[PATH_MAX], towal[PATH_MAX], stamp[32];
        time_t now = time(NULL);
        struct stat st;
        struct tm tm;
        int i, n, r;

        if (!state_dir || !*state_dir)
                return dt_error_set(err, -EINVAL, NULL, -1, "no state directory configured");
        if (path_fmt(db, sizeof db, "%s/%s", state_dir, DT_STORE_FILE) < 0 ||
            path_fmt(wal, sizeof wal, "%s-wal", db) < 0 ||
            path_fmt(shm, sizeof shm, "%s-shm", db) < 0)
                return dt_error_set(err, -ENAMETOOLONG, NULL, -1, "state directory path is too long");
        if (!gmtime_r(&now, &tm) || strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm) == 0)
                return dt_error_set(err, -EINVAL, NULL, -1, "cannot format the time");
        for (i = 0; i < 100; i++) {
                if (i == 0)
                        r = path_fmt(to, sizeof to, "%s.corrupt-%s", db, stamp);
                else
                        r = path_fmt(to, sizeof to, "%s.corrupt-%s-%d", db, stamp, i);
                if (r >= 0)
                        r = path_fmt(towal, sizeof towal, "%s-wal", to);
                if (r < 0)
                        return dt_error_set(err, r, NULL, -1, "state directory path is too long");
                if (lstat(to, &st) < 0 && errno == ENOENT && lstat(towal, &st) < 0 &&
                    errno == ENOENT)
                        break;
        }
        if (i == 100)
                return dt_error_set(err, -EEXIST, NULL, -1,
                                    "too many corrupt state databases in '%s'", state_dir);
        /* a WAL left beside a fresh database would be replayed into it: it goes too */
        r = move_aside(db, to);
        if (r < 0)
                return dt_error_set(err, r, NULL, -1, "cannot move '%s' aside: %s", db,
                                    strerror(-r));
        n = move_aside(wal, towal);
        if (n < 0)
                return dt_error_set(err, n, NULL, -1, "cannot move '%s' aside: %s", wal,
                                    strerror(-n));
        if (unlink(shm) < 0 && errno != ENOENT)
                return dt_error_set(err, -errno, NULL, -1, "cannot remove '%s': %s", shm,
                                    strerror(errno));
        if (r == 0 && n == 0)
                return 0;
        if (moved_to && cap > 0)
                (void) snprintf(moved_to, cap, "%s", r ? to : towal);
        return 1;
}

int dt_store_begin(struct dt_store *s) {
        sqlite3_stmt *st = NULL;
        int r;

        if (s->in_tx || !sqlite3_get_autocommit(s->db))
                return -EALREADY;
        r = stmt(s, ST_BEGIN, &st);
        if (r < 0)
                return r;
        r = run(s, st);
        if (r < 0)
                return r;
        s->in_tx = true;
        close_report(s);
        return 0;
}

int dt_store_commit(struct dt_store *s) {
        sqlite3_stmt *st = NULL;
        int r;

        if (!s->in_tx)
                return -EINVAL;
        r = stmt(s, ST_COMMIT, &st);
        if (r >= 0)
                r = run(s, st);
        if (r < 0) {
                if (sqlite3_get_autocommit(s->db))      /* SQLite already rolled back */
                        s->in_tx = false;
                return r;
        }
        s->in_tx = false;
        close_report(s);
        return 0;
}

void dt_store_rollback(struct dt_store *s) {
        sqlite3_stmt *st = NULL;

        if (!s)
                return;
        s->in_tx = false;
        close_report(s);
        if (sqlite3_get_autocommit(s->db))
                return;
        if (stmt(s, ST_ROLLBACK, &st) >= 0)
                (void) run(s, st);
}

sqlite3 *dt_store_db(struct dt_store *s) {
        return s->db;
}

bool dt_store_in_transaction(const struct dt_store *s) {
        return s && s->in_tx;
}

/* one_stmt - run the prepared transaction-control statement id */
static int one_stmt(struct dt_store *s, int id) {
        sqlite3_stmt *st = NULL;
        int r;

        r = stmt(s, id, &st);
        return r < 0 ? r : run(s, st);
}

int dt_store_savepoint(struct dt_store *s) {
        if (!s->in_tx)
                return -EINVAL;
        close_report(s);
        return one_stmt(s, ST_SAVEPOINT);
}

int dt_store_release(struct dt_store *s) {
        if (!s->in_tx)
                return -EINVAL;
        return one_stmt(s, ST_RELEASE);
}

void dt_store_rollback_to(struct dt_store *s) {
        if (!s || !s->in_tx || sqlite3_get_autocommit(s->db))
                return;
        close_report(s);
        if (one_stmt(s, ST_ROLLBACK_TO) >= 0)
                (void) one_stmt(s, ST_RELEASE);        /* ROLLBACK TO keeps the savepoint open */
}

int dt_store_message_seen(struct dt_store *s, const char *name) {
        sqlite3_stmt *st = NULL;
        int r;

        if (!name)
                return -EINVAL;
        r = stmt(s, ST_MSG_SEEN, &st);
        if (r < 0)
                return r;
        BIND(s, st, text(st, 1, name));
        r = step(s, st);
        if (r > 0)
                done(st);
        return r;
}

int dt_store_message_attempt(struct dt_store *s, const char *name, int64_t *attempts) {
        sqlite3_stmt *st = NULL;
        int64_t a;
        int r;

        if (!name)
                return -EINVAL;
        r = stmt(s, ST_MSG_ATTEMPT, &st);
        if (r < 0)
                return r;
        BIND(s, st, text(st, 1, name));
        BIND(s, st, sqlite3_bind_int64(st, 2, (int64_t) time(NULL)));
        r = step(s, st);
        if (r <= 0)
                return r < 0 ? r : -EIO;        /* RETURNING always gives a row */
        a = sqlite3_column_int64(st, 0);
        r = run(s, st);                         /* finishes the insert */
        if (r < 0)
                return r;
        if (attempts)
                *attempts = a;
        return 0;
}

/* outcome_ok - one of the four outcomes the schema accepts */
static bool outcome_ok(const char *o) {
        return o && (strcmp(o, DT_STORE_AGGREGATE) == 0 || strcmp(o, DT_STORE_FAILURE) == 0 ||
                     strcmp(o, DT_STORE_REJECTED) == 0 || strcmp(o, DT_STORE_DUPLICATE) == 0);
}

int dt_store_message_done(struct dt_store *s, const char *name, const char *outcome,
                          const char *reason) {
        sqlite3_stmt *st = NULL;
        int r;

        if (!name || !outcome_ok(outcome))
                return -EINVAL;
        r = stmt(s, ST_MSG_DONE, &st);
        if (r < 0)
                return r;
        BIND(s, st, text(st, 1, name));
        BIND(s, st, text(st, 2, outcome));
        BIND(s, st, text_or_null(st, 3, reason));
        BIND(s, st, sqlite3_bind_int64(st, 4, (int64_t) time(NULL)));
        return run(s, st);
}

int dt_store_message_get(struct dt_store *s, const char *name, char *outcome, size_t cap,
                         int64_t *attempts) {
        sqlite3_stmt *st = NULL;
        const unsigned char *o;
        size_t len;
        int r;

        if (!name)
                return -EINVAL;
        r = stmt(s, ST_MSG_GET, &st);
        if (r < 0)
                return r;
        BIND(s, st, text(st, 1, name));
        r = step(s, st);
        if (r <= 0)
                return r;
        o = sqlite3_column_text(st, 0);
        len = o ? (size_t) sqlite3_column_bytes(st, 0) : 0;
        if (outcome && len >= cap) {
                done(st);
                return -ENOBUFS;
        }
        if (outcome) {
                memcpy(outcome, o ? (const char *) o : "", len);
                outcome[len] = '\0';
        }
        if (attempts)
                *attempts = sqlite3_column_int64(st, 1);
        done(st);
        return 1;
}

int dt_store_counter_add(struct dt_store *s, const char *name, int64_t delta) {
        sqlite3_stmt *st = NULL;
        int r;

        if (!name)
                return -EINVAL;
        r = stmt(s, ST_COUNTER_ADD, &st);
        if (r < 0)
                return r;
        BIND(s, st, text(st, 1, name));
        BIND(s, st, sqlite3_bind_int64(st, 2, delta));
        return run(s, st);
}

int dt_store_counter_get(struct dt_store *s, const char *name, int64_t *value) {
        sqlite3_stmt *st = NULL;
        int64_t v = 0;
        int r;

        if (!name || !value)
                return -EINVAL;
        r = stmt(s, ST_COUNTER_GET, &st);
        if (r < 0)
                return r;
        BIND(s, st, text(st, 1, name));
        r = step(s, st);
        if (r < 0)
                return r;
        if (r > 0) {
                v = sqlite3_column_int64(st, 0);
                done(st);
        }
        *value = v;
        return 0;
}

int dt_store_aggregate_begin(struct dt_store *s, const struct dt_store_report_key *key,
                             int64_t *rowid) {
        sqlite3_stmt *st = NULL;
        int r;

        if (!key || !rowid)
                return -EINVAL;
        r = stmt(s, ST_AGG_INSERT, &st);
        if (r < 0)
                return r;
        BIND(s, st, text(st, 1, key->org));
        BIND(s, st, text(st, 2, key->report_id));
        BIND(s, st, text(st, 3, key->domain));
        BIND(s, st, sqlite3_bind_int64(st, 4, key->begin));
        BIND(s, st, sqlite3_bind_int64(st, 5, key->end));
        BIND(s, st, sqlite3_bind_int64(st, 6, (int64_t) time(NULL)));
        r = run(s, st);
        if (r < 0)
                return r;
        if (sqlite3_changes(s->db) == 0) {      /* ON CONFLICT DO NOTHING: seen before */
                r = dt_store_counter_add(s, DT_STORE_C_AGGREGATE_DUP, 1);
                return r < 0 ? r : 1;
        }
        close_report(s);
        s->acc_domain = strdup(key->domain ? key->domain : "");
        s->acc_org = strdup(key->org ? key->org : "");
        if (!s->acc_domain || !s->acc_org) {
                close_report(s);
                return -ENOMEM;
        }
        s->open_report = sqlite3_last_insert_rowid(s->db);
        *rowid = s->open_report;
        return 0;
}

/* sat_add - a + b, stopping at INT64_MAX like the SQL side */
static uint64_t sat_add(uint64_t a, uint64_t b) {
        return a > (uint64_t) INT64_MAX - b ? (uint64_t) INT64_MAX : a + b;
}

/* daily_add - add one day's share of a record: its source-IP row now, its domain and org rows
 * into the report's in-memory day sums (written by flush_report_days) */
static int daily_add(struct dt_store *s, const char *domain, const char *org, const char *ip,
                     int64_t day, uint64_t n, bool pass, bool own) {
        sqlite3_stmt *st = NULL;
        size_t i;
        int r;

        if (n == 0)
                return 0;
        n = clamp(n);
        for (i = 0; i < s->n_acc && s->acc[i].day != day; i++)
                ;
        if (i == s->n_acc) {
                if (i == ELEMENTSOF(s->acc))
                        return -E2BIG;  /* cannot happen: a report spreads over at most 31 days */
                s->acc[s->n_acc++] = (struct day_sum) { .day = day };
        }
        s->acc[i].observed = sat_add(s->acc[i].observed, n);
        s->acc[i].pass = sat_add(s->acc[i].pass, pass ? n : 0);
        s->acc[i].own = sat_add(s->acc[i].own, own ? n : 0);

        r = stmt(s, ST_DAILY_ADD, &st);
        if (r < 0)
                return r;
        BIND(s, st, text(st, 1, domain));
        BIND(s, st, text(st, 3, ip));
        BIND(s, st, sqlite3_bind_int64(st, 4, day));
        BIND(s, st, sqlite3_bind_int64(st, 5, (int64_t) n));
        BIND(s, st, sqlite3_bind_int64(st, 6, pass ? (int64_t) n : 0));
        BIND(s, st, sqlite3_bind_int64(st, 7, own ? (int64_t) n : 0));
        return run(s, st);
}

/* flush_report_days - write the open report's domain and org day sums */
static int flush_report_days(struct dt_store *s, const char *domain, const char *org) {
        sqlite3_stmt *st = NULL;
        size_t i;
        int r = 0;

        for (i = 0; i < s->n_acc && r >= 0; i++) {
                r = stmt(s, ST_DAILY_ADD_REPORT, &st);
                if (r < 0)
                        break;
                BIND(s, st, text(st, 1, domain));
                BIND(s, st, text(st, 2, org));
                BIND(s, st, sqlite3_bind_int64(st, 4, s->acc[i].day));
                BIND(s, st, sqlite3_bind_int64(st, 5, (int64_t) s->acc[i].observed));
                BIND(s, st, sqlite3_bind_int64(st, 6, (int64_t) s->acc[i].pass));
                BIND(s, st, sqlite3_bind_int64(st, 7, (int64_t) s->acc[i].own));
                r = run(s, st);
        }
        s->n_acc = 0;
        return r;
}

int dt_store_aggregate_record(struct dt_store *s, int64_t rowid, const char *org,
                              const char *domain, const char *source_ip, uint64_t count,
                              int64_t begin, int64_t end, bool pass, bool own_host) {
        int64_t first, last, day, lo, hi;
        uint64_t span, given = 0, share;
        int r;

        if (rowid <= 0 || rowid != s->open_report)
                return -EINVAL;
        if (count > (uint64_t) INT64_MAX)
                count = (uint64_t) INT64_MAX;
        if (!time_ok(begin) || !time_ok(end) || end < begin) {
                /* no usable range: the whole count on one day, when there is any */
                if (time_ok(end))
                        return daily_add(s, domain, org, source_ip, dt_store_day(end), count, pass,
                                         own_host);
                if (time_ok(begin))
                        return daily_add(s, domain, org, source_ip, dt_store_day(begin), count,
                                         pass, own_host);
                return dt_store_counter_add(s, DT_STORE_C_UNDATED, 1);
        }
        if (end == begin)
                return daily_add(s, domain, org, source_ip, dt_store_day(begin), count, pass,
                                 own_host);
        first = dt_store_day(begin);
        last = dt_store_day(end - 1);           /* [begin, end): end itself is not covered */
        if ((last - first) / DT_STORE_DAY + 1 > DT_STORE_SPREAD_DAYS_MAX)
                return daily_add(s, domain, org, source_ip, last, count, pass, own_host);
        span = (uint64_t) (end - begin);
        for (day = first; day <= last; day += DT_STORE_DAY) {
                lo = begin > day ? begin : day;
                hi = end < day + DT_STORE_DAY ? end : day + DT_STORE_DAY;
                if (day == last) {
                        share = count - given;  /* the remainder, so the shares sum exactly */
                } else {
                        share = (uint64_t) ((unsigned __int128) count * (uint64_t) (hi - lo) / span);
                        given += share;
                }
                r = daily_add(s, domain, org, source_ip, day, share, pass, own_host);
                if (r < 0)
                        return r;
        }
        return 0;
}

int dt_store_aggregate_end(struct dt_store *s, int64_t rowid, uint64_t records,
                           uint64_t messages, uint64_t pass, uint64_t fail_count, uint64_t own) {
        sqlite3_stmt *st = NULL;
        int r;

        r = stmt(s, ST_AGG_END, &st);
        if (r < 0)
                return r;
        BIND(s, st, sqlite3_bind_int64(st, 1, rowid));
        BIND(s, st, sqlite3_bind_int64(st, 2, clamp(records)));
        BIND(s, st, sqlite3_bind_int64(st, 3, clamp(messages)));
        BIND(s, st, sqlite3_bind_int64(st, 4, clamp(pass)));
        BIND(s, st, sqlite3_bind_int64(st, 5, clamp(fail_count)));
        BIND(s, st, sqlite3_bind_int64(st, 6, clamp(own)));
        r = run(s, st);
        if (r < 0)
                return r;
        if (sqlite3_changes(s->db) == 0)
                return -ENOENT;
        if (rowid == s->open_report) {
                r = flush_report_days(s, s->acc_domain, s->acc_org);
                close_report(s);
        }
        return r < 0 ? r : 0;
}

int dt_store_aggregate_count(struct dt_store *s, int64_t *n) {
        sqlite3_stmt *st = NULL;
        int r;

        if (!n)
                return -EINVAL;
        r = stmt(s, ST_AGG_COUNT, &st);
        if (r < 0)
                return r;
        r = step(s, st);
        if (r <= 0)
                return r < 0 ? r : -EIO;
        *n = sqlite3_column_int64(st, 0);
        done(st);
        return 0;
}

int dt_store_daily_get(struct dt_store *s, const char *domain, enum dt_store_key key_type,
                       const char *key, int64_t day, struct dt_store_daily *out) {
        const char *kt = dt_store_key_type_to_string(key_type);
        sqlite3_stmt *st = NULL;
        int r;

        if (!kt || !out)
                return -EINVAL;
        if (!time_ok(day))
                return 0;
        r = stmt(s, ST_DAILY_GET, &st);
        if (r < 0)
                return r;
        BIND(s, st, text(st, 1, domain));
        BIND(s, st, text(st, 2, kt));
        BIND(s, st, text(st, 3, key));
        BIND(s, st, sqlite3_bind_int64(st, 4, dt_store_day(day)));
        r = step(s, st);
        if (r <= 0)
                return r;
        out->observed = column_u64(st, 0);
        out->pass = column_u64(st, 1);
        out->own = column_u64(st, 2);
        done(st);
        return 1;
}

/* column_str - a TEXT column, "" for NULL; valid until the next step */
static const char *column_str(sqlite3_stmt *st, int i) {
        const unsigned char *v = sqlite3_column_text(st, i);

        return v ? (const char *) v : "";
}

int dt_store_daily_foreach(struct dt_store *s, const char *domain, int64_t from, int64_t to,
                           int (*cb)(const struct dt_store_daily_row *row, void *userdata),
                           void *userdata) {
        struct dt_store_daily_row row;
        sqlite3_stmt *st = NULL;
        int r;

        if (!cb)
                return -EINVAL;
        r = stmt(s, domain ? ST_DAILY_EACH_DOMAIN : ST_DAILY_EACH, &st);
        if (r < 0)
                return r;
        if (domain)
                BIND(s, st, text(st, 1, domain));
        BIND(s, st, sqlite3_bind_int64(st, 2, from));
        BIND(s, st, sqlite3_bind_int64(st, 3, to));
        while ((r = step(s, st)) > 0) {
                row.domain = column_str(st, 0);
                row.day = sqlite3_column_int64(st, 1);
                row.key_type = dt_store_key_type_from_string(column_str(st, 2));
                row.key = column_str(st, 3);
                row.v.observed = column_u64(st, 4);
                row.v.pass = column_u64(st, 5);
                row.v.own = column_u64(st, 6);
                r = cb(&row, userdata);
                if (r < 0) {
                        done(st);
                        return r;
                }
        }
        return r;
}

/* is_sha256_hex - 64 hex digits */
static bool is_sha256_hex(const char *k) {
        size_t i;

        for (i = 0; i < 64; i++)
                if (!g_ascii_isxdigit(k[i]))
                        return false;
        return k[64] == '\0';
}

int dt_store_failure_add(struct dt_store *s, const char *key, const char *domain,
                         const char *source_ip, int64_t arrival, const char *message_id) {
        int64_t now = (int64_t) time(NULL), t;
        char hash[65];
        sqlite3_stmt *st = NULL;
        size_t i;
        int r;

        if (!key)
                return -EINVAL;
        if (is_sha256_hex(key)) {
                for (i = 0; i < 64; i++)
                        hash[i] = g_ascii_tolower(key[i]);
                hash[64] = '\0';
        } else {
                gchar *h = g_compute_checksum_for_string(G_CHECKSUM_SHA256, key, -1);
                if (!h)
                        return -ENOMEM;
                (void) snprintf(hash, sizeof hash, "%s", h);
                g_free(h);
        }
        t = time_ok(arrival) ? arrival : now;
        r = stmt(s, ST_FAIL_INSERT, &st);
        if (r < 0)
                return r;
        BIND(s, st, text(st, 1, hash));
        BIND(s, st, text(st, 2, domain));
        BIND(s, st, text_or_null(st, 3, source_ip));
        if (time_ok(arrival))
                BIND(s, st, sqlite3_bind_int64(st, 4, arrival));
        BIND(s, st, sqlite3_bind_int64(st, 5, now));
        BIND(s, st, text_or_null(st, 6, message_id));
        BIND(s, st, sqlite3_bind_int64(st, 7, t - t % HOUR));
        r = run(s, st);
        if (r < 0)
                return r;
        if (sqlite3_changes(s->db) == 0) {
                r = dt_store_counter_add(s, DT_STORE_C_FAILURE_DUP, 1);
                return r < 0 ? r : 1;
        }
        return 0;
}

int dt_store_failure_hour_count(struct dt_store *s, const char *domain, int64_t hour,
                                uint64_t *n) {
        sqlite3_stmt *st = NULL;
        int r;

        if (!n || !time_ok(hour))
                return -EINVAL;
        r = stmt(s, ST_FAIL_HOUR, &st);
        if (r < 0)
                return r;
        BIND(s, st, text(st, 1, domain));
        BIND(s, st, sqlite3_bind_int64(st, 2, hour - hour % HOUR));
        r = step(s, st);
        if (r <= 0)
                return r < 0 ? r : -EIO;
        *n = column_u64(st, 0);
        done(st);
        return 0;
}

int dt_store_cursor_set(struct dt_store *s, const char *source, const char *cursor,
                        uint64_t inode, uint64_t offset) {
        sqlite3_stmt *st = NULL;
        int r;

        if (!source)
                return -EINVAL;
        r = stmt(s, ST_CURSOR_SET, &st);
        if (r < 0)
                return r;
        BIND(s, st, text(st, 1, source));
        BIND(s, st, text_or_null(st, 2, cursor));
        BIND(s, st, sqlite3_bind_int64(st, 3, (int64_t) inode));       /* bit pattern */
        BIND(s, st, sqlite3_bind_int64(st, 4, clamp(offset)));
        BIND(s, st, sqlite3_bind_int64(st, 5, (int64_t) time(NULL)));
        return run(s, st);
}

int dt_store_cursor_get(struct dt_store *s, const char *source, char *buf, size_t cap,
                        uint64_t *inode, uint64_t *offset) {
        const unsigned char *c;
        sqlite3_stmt *st = NULL;
        size_t len;
        int r;

        if (!source)
                return -EINVAL;
        r = stmt(s, ST_CURSOR_GET, &st);
        if (r < 0)
                return r;
        BIND(s, st, text(st, 1, source));
        r = step(s, st);
        if (r <= 0)
                return r;
        c = sqlite3_column_text(st, 0);
        len = c ? (size_t) sqlite3_column_bytes(st, 0) : 0;
        if (buf && len >= cap) {
                done(st);
                return -ENOBUFS;
        }
        if (buf) {
                memcpy(buf, c ? (const char *) c : "", len);
                buf[len] = '\0';
        }
        if (inode)
                *inode = (uint64_t) sqlite3_column_int64(st, 1);
        if (offset)
                *offset = column_u64(st, 2);
        done(st);
        return 1;
}

/* alert_bind - bind (domain, key_type, key, day) as ?1..?4; false when key_type or day is bad */
static int alert_bind(struct dt_store *s, sqlite3_stmt *st, const char *domain,
                      enum dt_store_key key_type, const char *key, int64_t day) {
        const char *kt = dt_store_key_type_to_string(key_type);

        if (!kt || !time_ok(day))
                return -EINVAL;
        BIND(s, st, text(st, 1, domain));
        BIND(s, st, text(st, 2, kt));
        BIND(s, st, text(st, 3, key));
        BIND(s, st, sqlite3_bind_int64(st, 4, dt_store_day(day)));
        return 0;
}

int dt_store_alert_set(struct dt_store *s, const char *domain, enum dt_store_key key_type,
                       const char *key, int64_t day, uint64_t observed) {
        sqlite3_stmt *st = NULL;
        int r;

        r = stmt(s, ST_ALERT_SET, &st);
        if (r < 0)
                return r;
        r = alert_bind(s, st, domain, key_type, key, day);
        if (r < 0)
                return r;
        BIND(s, st, sqlite3_bind_int64(st, 5, clamp(observed)));
        BIND(s, st, sqlite3_bind_int64(st, 6, (int64_t) time(NULL)));
        return run(s, st);
}

int dt_store_alert_get(struct dt_store *s, const char *domain, enum dt_store_key key_type,
                       const char *key, int64_t day, uint64_t *observed) {
        sqlite3_stmt *st = NULL;
        int r;

        if (!observed)
                return -EINVAL;
        r = stmt(s, ST_ALERT_GET, &st);
        if (r < 0)
                return r;
        r = alert_bind(s, st, domain, key_type, key, day);
        if (r < 0)
                return r;
        r = step(s, st);
        if (r <= 0)
                return r;
        *observed = column_u64(st, 0);
        done(st);
        return 1;
}

int dt_store_alert_clear(struct dt_store *s, const char *domain, enum dt_store_key key_type,
                         const char *key, int64_t day) {
        sqlite3_stmt *st = NULL;
        int r;

        r = stmt(s, ST_ALERT_CLEAR, &st);
        if (r < 0)
                return r;
        r = alert_bind(s, st, domain, key_type, key, day);
        if (r < 0)
                return r;
        return run(s, st);
}

const char *dt_store_last_error(const struct dt_store *s) {
        return s ? s->errmsg : "";
}

uint64_t dt_store_prepare_count(const struct dt_store *s) {
        return s ? s->prepares : 0;
}

struct dt_store *dt_store_free(struct dt_store *s) {
        size_t i;

        if (!s)
                return NULL;
        if (s->db) {
                if (!sqlite3_get_autocommit(s->db))
                        (void) sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
                for (i = 0; i < _ST_MAX; i++)
                        (void) sqlite3_finalize(s->st[i]);
                (void) sqlite3_close(s->db);
        }
        close_report(s);
        free(s);
        return NULL;
}
