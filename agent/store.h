/* store.h - the agent's state: processed messages, reports, daily volumes, cursors, alerts
 *
 * One SQLite file, <state_dir>/state.db (mode 0600), in WAL mode with synchronous=FULL, so a
 * commit is on disk before the caller renames the message it came from. The caller brackets
 * each message (or a small batch) with dt_store_begin()/dt_store_commit(): the report rows, the
 * daily sums and the "processed" mark land together or not at all, and a report seen again is
 * a duplicate that stores nothing but a counter.
 *
 * Daily volumes are kept in the report's own time: a report's counts are spread over the UTC
 * days its date_range [begin, end) covers, in proportion to the seconds in each day; every day
 * but the last gets floor(count * seconds / span), the last gets the rest, so the shares sum to
 * the count exactly (101 over 12:00..12:00 next day is 50 + 51). A range with begin == end
 * counts on that day. A range longer than DT_STORE_SPREAD_DAYS_MAX days counts whole on its last
 * day; an inverted or half-missing one whole on the day of end (of begin when end is missing);
 * with neither, a record adds no daily rows and bumps the "daily_undated" counter once. Times
 * outside 1970..9999 (such as DT_TIME_MISSING) count as missing. A day is named by the epoch
 * second of its UTC midnight.
 *
 * Counts are kept as SQLite integers: a uint64_t above INT64_MAX is stored as INT64_MAX and
 * sums saturate there, since report counts are hostile input.
 *
 * Errors are -errno: -ENOSPC (disk full), -EBADMSG (state.db corrupt or not a database: move it
 * aside with dt_store_reset() and open again), -EBUSY (locked by another process past the busy
 * timeout), -EROFS/-EACCES (cannot write), -ENOMEM, -EIO, -EINVAL (misuse). Functions without
 * an err argument leave the SQLite message in dt_store_last_error().
 *
 * Not thread-safe: one struct dt_store per thread. Strings passed in are copied into the
 * database; strings handed out are borrowed as documented. */
#ifndef DT_STORE_H
#define DT_STORE_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "report/error.h"
#include "report/macro.h"

#define DT_STORE_FILE "state.db"
#define DT_STORE_SCHEMA_VERSION 2               /* PRAGMA user_version after dt_store_open() */
#define DT_STORE_SPREAD_DAYS_MAX 31             /* longest date_range spread over its days */
#define DT_STORE_BUSY_TIMEOUT_MS 5000
#define DT_STORE_DAY 86400

/* counter names the store itself bumps */
#define DT_STORE_C_AGGREGATE_DUP "aggregate_duplicate"
#define DT_STORE_C_FAILURE_DUP   "failure_duplicate"
#define DT_STORE_C_UNDATED       "daily_undated"

/* message outcomes (messages.outcome) */
#define DT_STORE_AGGREGATE "aggregate"
#define DT_STORE_FAILURE   "failure"
#define DT_STORE_REJECTED  "rejected"
#define DT_STORE_DUPLICATE "duplicate"

enum dt_store_key {
        DT_KEY_DOMAIN,          /* key is the policy domain itself */
        DT_KEY_ORG,             /* key is the reporting org */
        DT_KEY_SOURCE_IP,       /* key is the record's source IP */
        _DT_KEY_MAX,
        _DT_KEY_INVALID = -EINVAL,
};

/* the dedupe key of an aggregate report; NULL strings are stored as "" */
struct dt_store_report_key {
        const char *org;
        const char *report_id;
        const char *domain;
        int64_t begin;
        int64_t end;
};

struct dt_store_daily {
        uint64_t observed;      /* messages counted for the key on that day */
        uint64_t pass;          /* of which DMARC pass */
        uint64_t own;           /* of which sent from this host */
};

/* one row handed to a dt_store_daily_foreach() callback; strings borrowed for the call only */
struct dt_store_daily_row {
        const char *domain;
        int64_t day;
        enum dt_store_key key_type;
        const char *key;
        struct dt_store_daily v;
};

struct dt_store;

/* dt_store_open - open (or create, mode 0600) <state_dir>/state.db and bring its schema to
 * DT_STORE_SCHEMA_VERSION. The directory must exist and be writable (the caller creates it,
 * 0700): a missing one is -ENOENT, a read-only one -EROFS/-EACCES, each with err saying so.
 * A corrupt file is -EBADMSG; a schema newer than this program is -EPROTO. */
int dt_store_open(const char *state_dir, struct dt_store **out, struct dt_error *err);

/* dt_store_reset - rename a corrupt <state_dir>/state.db to state.db.corrupt-YYYYMMDDTHHMMSSZ
 * (with -N added when taken), its -wal alongside, and remove its -shm, so the next open starts
 * empty. The store must not be open. Returns 1 when a file was moved (its new name in moved_to
 * when not NULL, cut to n), 0 when there was none. */
int dt_store_reset(const char *state_dir, char *moved_to, size_t n, struct dt_error *err);

/* dt_store_begin - open a write transaction (BEGIN IMMEDIATE); -EALREADY when one is open */
int dt_store_begin(struct dt_store *s);

/* dt_store_commit - make the transaction durable; on failure it stays open for a rollback */
int dt_store_commit(struct dt_store *s);

/* dt_store_rollback - drop the open transaction; a no-op when none is open */
void dt_store_rollback(struct dt_store *s);

/* dt_store_db - the SQLite handle, borrowed, for the log index (correlate/index.c), which keeps
 * its own tables in the same file so its rows and the log cursors commit together */
sqlite3 *dt_store_db(struct dt_store *s);

/* dt_store_in_transaction - whether a transaction is open */
bool dt_store_in_transaction(const struct dt_store *s);

/* dt_store_savepoint - mark the start of one message inside the open transaction, so a batch of
 * messages shares one commit (one fsync) while each can still be undone alone */
int dt_store_savepoint(struct dt_store *s);

/* dt_store_release - keep what the message wrote since its savepoint (still uncommitted) */
int dt_store_release(struct dt_store *s);

/* dt_store_rollback_to - undo what the message wrote since its savepoint; the rest of the
 * transaction stays */
void dt_store_rollback_to(struct dt_store *s);

/* dt_store_message_seen - 1 when the Maildir message name has an outcome recorded, else 0 */
int dt_store_message_seen(struct dt_store *s, const char *name);

/* dt_store_message_attempt - count one more processing attempt of name (before it has an
 * outcome, to quarantine a message that keeps crashing the worker); the count in *attempts */
int dt_store_message_attempt(struct dt_store *s, const char *name, int64_t *attempts);

/* dt_store_message_done - record name's outcome (DT_STORE_AGGREGATE, _FAILURE, _REJECTED,
 * _DUPLICATE; else -EINVAL) and reason (may be NULL); a later call replaces the outcome */
int dt_store_message_done(struct dt_store *s, const char *name, const char *outcome,
                          const char *reason);

/* dt_store_message_get - name's outcome and attempts; 1 found, 0 none. outcome (may be NULL)
 * gets "" when only attempts are recorded; -ENOBUFS when cap is too small. */
int dt_store_message_get(struct dt_store *s, const char *name, char *outcome, size_t cap,
                         int64_t *attempts);

/* dt_store_aggregate_begin - store a report's key: 0 new (its row id in *rowid), 1 duplicate
 * (nothing stored, DT_STORE_C_AGGREGATE_DUP counter incremented, *rowid untouched) */
int dt_store_aggregate_begin(struct dt_store *s, const struct dt_store_report_key *key,
                             int64_t *rowid);

/* dt_store_aggregate_record - add one record's count into the daily sums of the domain, the
 * org and the source IP, spread over [begin, end) (see above). rowid must be the report open
 * since dt_store_aggregate_begin(), else -EINVAL. */
int dt_store_aggregate_record(struct dt_store *s, int64_t rowid, const char *org,
                              const char *domain, const char *source_ip, uint64_t count,
                              int64_t begin, int64_t end, bool pass, bool own_host);

/* dt_store_aggregate_end - the report's totals; closes it for records */
int dt_store_aggregate_end(struct dt_store *s, int64_t rowid, uint64_t records,
                           uint64_t messages, uint64_t pass, uint64_t fail, uint64_t own);

/* dt_store_aggregate_count - how many aggregate reports are stored (for tests and summaries) */
int dt_store_aggregate_count(struct dt_store *s, int64_t *n);

/* dt_store_daily_get - the sums of (domain, key_type, key) on the UTC day holding the time day
 * (any second of it): 1 found (in *out), 0 none (*out untouched) */
int dt_store_daily_get(struct dt_store *s, const char *domain, enum dt_store_key key_type,
                       const char *key, int64_t day, struct dt_store_daily *out);

/* dt_store_daily_foreach - call cb for every daily row of domain (NULL: every domain) with
 * from <= day < to, ordered by domain, key type, key, day. A cb result <0 stops and is
 * returned. cb must not write to the store. */
int dt_store_daily_foreach(struct dt_store *s, const char *domain, int64_t from, int64_t to,
                           int (*cb)(const struct dt_store_daily_row *row, void *userdata),
                           void *userdata);

/* dt_store_failure_add - store a failure report under its dedupe key (a SHA-256 hex kept as is,
 * any other string is hashed with SHA-256 first): 0 new, 1 duplicate (nothing stored,
 * DT_STORE_C_FAILURE_DUP incremented). source_ip and message_id may be NULL; a missing arrival
 * time puts the report in the hour it was stored. */
int dt_store_failure_add(struct dt_store *s, const char *key, const char *domain,
                         const char *source_ip, int64_t arrival, const char *message_id);

/* dt_store_failure_hour_count - failure reports of domain in the UTC hour holding the time hour */
int dt_store_failure_hour_count(struct dt_store *s, const char *domain, int64_t hour,
                                uint64_t *n);

/* dt_store_cursor_set - remember where the log source stopped: a journal cursor (may be NULL)
 * and/or a file's inode and offset */
int dt_store_cursor_set(struct dt_store *s, const char *source, const char *cursor,
                        uint64_t inode, uint64_t offset);

/* dt_store_cursor_get - 1 found, 0 none (outputs untouched). buf (may be NULL when cap is 0)
 * gets the cursor text, "" when none was set; -ENOBUFS when cap is too small. inode and offset
 * may be NULL. */
int dt_store_cursor_get(struct dt_store *s, const char *source, char *buf, size_t cap,
                        uint64_t *inode, uint64_t *offset);

/* dt_store_counter_add - add delta to the named counter (created at 0) */
int dt_store_counter_add(struct dt_store *s, const char *name, int64_t delta);

/* dt_store_counter_get - the counter's value in *value, 0 when it was never set */
int dt_store_counter_get(struct dt_store *s, const char *name, int64_t *value);

/* dt_store_alert_set - remember that (domain, key_type, key, day) was alerted at observed */
int dt_store_alert_set(struct dt_store *s, const char *domain, enum dt_store_key key_type,
                       const char *key, int64_t day, uint64_t observed);

/* dt_store_alert_get - 1 with the observed count at the last alert in *observed, 0 none */
int dt_store_alert_get(struct dt_store *s, const char *domain, enum dt_store_key key_type,
                       const char *key, int64_t day, uint64_t *observed);

/* dt_store_alert_clear - forget the alert (the key is back to normal); 0 either way */
int dt_store_alert_clear(struct dt_store *s, const char *domain, enum dt_store_key key_type,
                         const char *key, int64_t day);

/* dt_store_key_type_to_string - "domain", "org", "source_ip"; NULL when out of range */
const char *dt_store_key_type_to_string(enum dt_store_key t);

/* dt_store_key_type_from_string - the enum, or _DT_KEY_INVALID */
enum dt_store_key dt_store_key_type_from_string(const char *s);

/* dt_store_day - the UTC midnight (epoch seconds) of the day holding t (t >= 0) */
int64_t dt_store_day(int64_t t);

/* dt_store_last_error - SQLite's text for the last failure, borrowed; "" when none */
const char *dt_store_last_error(const struct dt_store *s);

/* dt_store_prepare_count - SQL statements compiled so far: each is prepared once, then reused */
uint64_t dt_store_prepare_count(const struct dt_store *s);

/* dt_store_free - roll back an open transaction, finalize statements, close; NULL-safe */
struct dt_store *dt_store_free(struct dt_store *s);
DEFINE_FREEP(struct dt_store, dt_store_free)

#endif
