/* detect.c - volume spikes, returns to normal, window attribution and failure-report surges
 *
 * dt_detect_mark() and dt_detect_mark_failure() write the days and hours a stored report
 * touched into detect_dirty, in the caller's transaction. dt_detect_run() reads the marks a
 * batch at a time, per domain in chronological order: the marked days and the baseline_days days
 * after each are merged into intervals and walked in chunks of DT_DETECT_CHUNK_DAYS; for each
 * chunk the daily rows from baseline_days before it are streamed key by key (the store orders
 * them by key type, key, day), so memory holds one key's days, never a whole domain. A key's
 * decisions depend only on the stored sums and on what was raised before (alerts, detect_state),
 * which is what makes the outcome independent of the order the reports came in. The chunk's
 * decisions are written, its events sorted by day and emitted, then the attribution of each
 * spiking day with mail from this host. Failure surges are walked the same way, an hour at a
 * time. Nothing is committed before every event of the run went out.
 *
 * detect_state keeps what was raised: "spike" (mirroring the store's alerts table, which says
 * the observed count at the last alert), "normal", "surge" and "attribution" rows.
 *
 * SECURITY: domains, orgs and keys come from reports anyone can send. They reach SQLite only as
 * bound parameters and the events through dt_emit(), which sanitises and caps them. Counts are
 * SQLite integers (saturated by the store); the work per run is bounded by the marks, the chunk
 * size and baseline_days. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "agent/detect.h"
#include "agent/timefmt.h"
#include "correlate/attribute.h"

#define DAY DT_STORE_DAY
#define HOUR INT64_C(3600)
#define TIME_MAX INT64_C(253402300799)          /* 9999-12-31T23:59:59Z, as the store */
#define HIST_MAX 1024                           /* values a median is taken over */
#define KEY_STATE_MAX 256                       /* raised rows of one key read per chunk */

static const char schema[] =
        "CREATE TABLE IF NOT EXISTS detect_dirty ("
        "  domain TEXT NOT NULL,"
        "  unit TEXT NOT NULL CHECK (unit IN ('day', 'hour')),"
        "  time INTEGER NOT NULL,"
        "  PRIMARY KEY (domain, unit, time)"
        ") WITHOUT ROWID;"
        "CREATE TABLE IF NOT EXISTS detect_state ("
        "  domain TEXT NOT NULL,"
        "  key_type TEXT NOT NULL,"
        "  key TEXT NOT NULL,"
        "  kind TEXT NOT NULL CHECK (kind IN ('spike', 'normal', 'surge', 'attribution')),"
        "  time INTEGER NOT NULL,"                     /* day, or hour for a surge */
        "  observed INTEGER NOT NULL,"                 /* at the last event */
        "  detail TEXT,"
        "  raised INTEGER NOT NULL,"
        "  PRIMARY KEY (domain, key_type, key, kind, time)"
        ") WITHOUT ROWID;"
        "CREATE INDEX IF NOT EXISTS detect_state_by_time ON detect_state (domain, time);";

enum {
        ST_MARK,
        ST_PENDING,
        ST_DIRTY,
        ST_UNMARK,
        ST_STATE_GET,
        ST_STATE_SET,
        ST_KEY_STATE,
        _ST_MAX,
};

static const char *const stmt_sql[_ST_MAX] = {
        [ST_MARK] = "INSERT OR IGNORE INTO detect_dirty (domain, unit, time) VALUES (?1, ?2, ?3)",
        [ST_PENDING] = "SELECT 1 FROM detect_dirty LIMIT 1",
        [ST_DIRTY] = "SELECT domain, unit, time FROM detect_dirty ORDER BY domain, unit, time LIMIT ?1",
        [ST_UNMARK] = "DELETE FROM detect_dirty WHERE domain = ?1 AND unit = ?2 AND time = ?3",
        [ST_STATE_GET] = "SELECT observed FROM detect_state WHERE domain = ?1 AND key_type = ?2 "
                         "AND key = ?3 AND kind = ?4 AND time = ?5",
        [ST_STATE_SET] = "INSERT INTO detect_state (domain, key_type, key, kind, time, observed, "
                         "detail, raised) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
                         "ON CONFLICT (domain, key_type, key, kind, time) DO UPDATE SET "
                         "observed = excluded.observed, detail = excluded.detail, "
                         "raised = excluded.raised",
        /* the latest rows first: enough to know the state before the chunk and within it */
        [ST_KEY_STATE] = "SELECT kind, time FROM detect_state WHERE domain = ?1 AND key_type = ?2 "
                         "AND key = ?3 AND kind IN ('spike', 'normal') AND time < ?4 "
                         "ORDER BY time DESC LIMIT ?5",
};

struct dt_detect {
        const struct dt_config *cfg;
        struct dt_store *store;
        sqlite3 *db;
        struct dt_emitter *em;
        struct dt_index *idx;
        const struct dt_identity *id;
        sqlite3_stmt *st[_ST_MAX];
        struct dt_detect_stats stats;           /* this run */
        /* LOCAL_SENT of the last (domain, day) asked for */
        char *sent_domain;
        int64_t sent_day;
        uint64_t sent;
};

/* a decision of a chunk: an event to emit and the state to write with it */
struct pending {
        enum dt_event ev;
        enum dt_store_key kt;
        char *key;
        int64_t time;
        uint64_t observed, own;
        double baseline;
};

struct key_state {
        int64_t time;
        bool spike;                             /* else normal */
};

/* one chunk of one domain being walked */
struct chunk {
        struct dt_detect *d;
        const char *domain;
        int64_t from, to;                       /* days evaluated: from <= day <= to */
        /* the key being read */
        bool have_key;
        enum dt_store_key kt;
        char *key;
        size_t n, cap;
        int64_t *day;
        uint64_t *obs, *own;
        /* the domain key's days with data (its rows come first): an address is only "new"
         * for a domain the store has known for a while, not on the first days of a fresh store */
        int64_t *dom_day;
        size_t dom_n;
        /* what it raised before, loaded when first needed */
        bool ks_loaded;
        struct key_state *ks;
        size_t nks, capks;
        /* the chunk's decisions */
        struct pending *pv;
        size_t np, capp;
        int err;
};

/* prep - the prepared statement id, compiled on first use */
static int prep(struct dt_detect *d, int id, sqlite3_stmt **out) {
        if (!d->st[id] &&
            sqlite3_prepare_v3(d->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &d->st[id],
                               NULL) != SQLITE_OK)
                return -EIO;
        *out = d->st[id];
        return 0;
}

static void done(sqlite3_stmt *st) {
        (void) sqlite3_reset(st);
        (void) sqlite3_clear_bindings(st);
}

/* sqlerr - an SQLite result code as -errno */
static int sqlerr(int rc) {
        switch (rc & 0xff) {
        case SQLITE_FULL:
                return -ENOSPC;
        case SQLITE_NOMEM:
                return -ENOMEM;
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
                return -EBUSY;
        case SQLITE_READONLY:
                return -EROFS;
        case SQLITE_CORRUPT:
        case SQLITE_NOTADB:
                return -EBADMSG;
        default:
                return -EIO;
        }
}

/* run_stmt - step a statement that returns no rows, then reset it */
static int run_stmt(sqlite3_stmt *st) {
        int rc = sqlite3_step(st);

        done(st);
        return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : sqlerr(rc);
}

static int64_t day_of(int64_t t) {
        return t - ((t % DAY) + DAY) % DAY;
}

static bool time_ok(int64_t t) {
        return t >= 0 && t <= TIME_MAX;
}

static char *fmt_u64(uint64_t v, char *buf, size_t cap) {
        (void) snprintf(buf, cap, "%" PRIu64, v);
        return buf;
}

/* fmt_num - a baseline or factor: whole numbers without a fraction, else one decimal */
static char *fmt_num(double v, char *buf, size_t cap) {
        if (v >= 0 && v < 1e15 && v == (double) (uint64_t) v)
                (void) snprintf(buf, cap, "%.0f", v);
        else
                (void) snprintf(buf, cap, "%.1f", v);
        return buf;
}

static int cmp_u64(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;

        return x < y ? -1 : x > y;
}

/* median - of v[0..n), n > 0; sorts v */
static double median(uint64_t *v, size_t n) {
        qsort(v, n, sizeof *v, cmp_u64);
        return n % 2 ? (double) v[n / 2] : ((double) v[n / 2 - 1] + (double) v[n / 2]) / 2.0;
}

/* dt_detect_baseline - median of the previous days with data in the window */
int dt_detect_baseline(const int64_t *day, const uint64_t *obs, size_t n, size_t i,
                       unsigned baseline_days, double *out, size_t *n_hist) {
        uint64_t v[HIST_MAX];
        int64_t start;
        size_t k = 0;

        if (i >= n)
                return -EINVAL;
        start = day[i] - (int64_t) baseline_days * DAY;
        for (size_t j = i; j-- > 0 && day[j] >= start && k < HIST_MAX;)
                if (obs[j] > 0 && day[j] < day[i])
                        v[k++] = obs[j];
        if (n_hist)
                *n_hist = k;
        if (k < DT_DETECT_BASELINE_MIN)
                return 0;
        *out = median(v, k);
        return 1;
}

/* dt_detect_is_spike - the spike rule */
bool dt_detect_is_spike(uint64_t observed, double baseline, double factor, uint64_t min_messages) {
        double b = baseline > 1.0 ? baseline : 1.0;

        return observed >= min_messages && (double) observed >= factor * b;
}

/* dt_detect_free - finalize, free; the store, emitter and index are the caller's */
struct dt_detect *dt_detect_free(struct dt_detect *d) {
        if (!d)
                return NULL;
        for (size_t i = 0; i < _ST_MAX; i++)
                sqlite3_finalize(d->st[i]);
        free(d->sent_domain);
        free(d);
        return NULL;
}

/* dt_detect_new - tables, and the borrowed parts */
int dt_detect_new(const struct dt_config *cfg, struct dt_store *store, struct dt_emitter *em,
                  struct dt_index *idx, const struct dt_identity *id, struct dt_detect **out) {
        _cleanup_(dt_detect_freep) struct dt_detect *d = NULL;
        int rc;

        if (!cfg || !store || !em || !out)
                return -EINVAL;
        d = calloc(1, sizeof *d);
        if (!d)
                return -ENOMEM;
        d->cfg = cfg;
        d->store = store;
        d->db = dt_store_db(store);
        d->em = em;
        d->idx = idx;
        d->id = id;
        rc = sqlite3_exec(d->db, schema, NULL, NULL, NULL);
        if (rc != SQLITE_OK)
                return sqlerr(rc);
        *out = TAKE_PTR(d);
        return 0;
}

void dt_detect_set_config(struct dt_detect *d, const struct dt_config *cfg) {
        if (d && cfg)
                d->cfg = cfg;
}

/* mark - one (domain, unit, time) mark */
static int mark(struct dt_detect *d, const char *domain, const char *unit, int64_t t) {
        sqlite3_stmt *st;
        int r;

        r = prep(d, ST_MARK, &st);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, domain, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, unit, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, t);
        return run_stmt(st);
}

/* dt_detect_mark - the days a report's range touched, as the store spread it (a day more at
 * the end does no harm: a marked day without rows costs a look) */
int dt_detect_mark(struct dt_detect *d, const char *domain, int64_t begin, int64_t end) {
        bool b = time_ok(begin), e = time_ok(end);
        int r;

        if (!d || !domain)
                return -EINVAL;
        if (b && e && begin <= end && end - begin <= (int64_t) DT_STORE_SPREAD_DAYS_MAX * DAY) {
                for (int64_t t = day_of(begin); t <= day_of(end); t += DAY) {
                        r = mark(d, domain, "day", t);
                        if (r < 0)
                                return r;
                }
                return 0;
        }
        if (b && e && begin <= end) {
                /* counted whole on its last day */
                r = mark(d, domain, "day", day_of(end > 0 ? end - 1 : end));
                if (r < 0)
                        return r;
                return mark(d, domain, "day", day_of(end));
        }
        if (e)
                return mark(d, domain, "day", day_of(end));
        if (b)
                return mark(d, domain, "day", day_of(begin));
        return 0;
}

/* dt_detect_mark_failure - the hour a failure report counts in */
int dt_detect_mark_failure(struct dt_detect *d, const char *domain, int64_t t) {
        if (!d || !domain)
                return -EINVAL;
        if (!time_ok(t))
                t = (int64_t) time(NULL);
        return mark(d, domain, "hour", t - t % HOUR);
}

int dt_detect_pending(struct dt_detect *d) {
        sqlite3_stmt *st;
        int r, rc;

        if (!d)
                return -EINVAL;
        r = prep(d, ST_PENDING, &st);
        if (r < 0)
                return r;
        rc = sqlite3_step(st);
        done(st);
        if (rc == SQLITE_ROW)
                return 1;
        return rc == SQLITE_DONE ? 0 : sqlerr(rc);
}

/* state_get - observed at the last event of (domain, key type, key, kind, time): 1, or 0 none */
static int state_get(struct dt_detect *d, const char *domain, const char *kt, const char *key,
                     const char *kind, int64_t t, uint64_t *observed) {
        sqlite3_stmt *st;
        int r, rc;

        r = prep(d, ST_STATE_GET, &st);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, domain, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, kt, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, key, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, kind, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 5, t);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
                int64_t v = sqlite3_column_int64(st, 0);

                *observed = v > 0 ? (uint64_t) v : 0;
                done(st);
                return 1;
        }
        done(st);
        return rc == SQLITE_DONE ? 0 : sqlerr(rc);
}

static int64_t clamp64(uint64_t v) {
        return v > (uint64_t) INT64_MAX ? INT64_MAX : (int64_t) v;
}

/* state_set - remember an event */
static int state_set(struct dt_detect *d, const char *domain, const char *kt, const char *key,
                     const char *kind, int64_t t, uint64_t observed, const char *detail) {
        sqlite3_stmt *st;
        int r;

        r = prep(d, ST_STATE_SET, &st);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, domain, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, kt, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, key, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, kind, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 5, t);
        sqlite3_bind_int64(st, 6, clamp64(observed));
        if (detail)
                sqlite3_bind_text(st, 7, detail, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 8, (int64_t) time(NULL));
        return run_stmt(st);
}

/* local_sent - LOCAL_SENT for (domain, day): 1 and *n, 0 without an index */
static int local_sent(struct dt_detect *d, const char *domain, int64_t day, uint64_t *n) {
        int r;

        if (!d->idx)
                return 0;
        if (d->sent_domain && d->sent_day == day && strcmp(d->sent_domain, domain) == 0) {
                *n = d->sent;
                return 1;
        }
        d->sent_domain = mfree(d->sent_domain);
        r = dt_index_sent_count(d->idx, domain, day, day + DAY, &d->sent);
        if (r < 0)
                return r;
        d->sent_domain = strdup(domain);
        if (!d->sent_domain)
                return -ENOMEM;
        d->sent_day = day;
        *n = d->sent;
        return 1;
}

/* chunk_reset_key - forget the key being read */
static void chunk_reset_key(struct chunk *c) {
        c->have_key = false;
        c->key = mfree(c->key);
        c->n = 0;
        c->ks_loaded = false;
        c->nks = 0;
}

static void chunk_free(struct chunk *c) {
        chunk_reset_key(c);
        free(c->day);
        free(c->obs);
        free(c->own);
        free(c->dom_day);
        free(c->ks);
        for (size_t i = 0; i < c->np; i++)
                free(c->pv[i].key);
        free(c->pv);
}

/* ks_add - note a spike or normal of the current key */
static int ks_add(struct chunk *c, int64_t t, bool spike) {
        for (size_t i = 0; i < c->nks; i++)
                if (c->ks[i].time == t && c->ks[i].spike == spike)
                        return 0;
        if (c->nks == c->capks) {
                size_t nc = c->capks ? c->capks * 2 : 16;
                struct key_state *nv = reallocarray(c->ks, nc, sizeof *nv);

                if (!nv)
                        return -ENOMEM;
                c->ks = nv;
                c->capks = nc;
        }
        c->ks[c->nks++] = (struct key_state) { .time = t, .spike = spike };
        return 0;
}

/* ks_load - what the current key raised before the end of the chunk */
static int ks_load(struct chunk *c) {
        struct dt_detect *d = c->d;
        sqlite3_stmt *st;
        int r, rc;

        if (c->ks_loaded)
                return 0;
        r = prep(d, ST_KEY_STATE, &st);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, c->domain, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, dt_store_key_type_to_string(c->kt), -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, c->key, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, c->to + DAY);
        sqlite3_bind_int(st, 5, KEY_STATE_MAX);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                const char *kind = (const char *) sqlite3_column_text(st, 0);

                r = ks_add(c, sqlite3_column_int64(st, 1), kind && strcmp(kind, "spike") == 0);
                if (r < 0) {
                        done(st);
                        return r;
                }
        }
        done(st);
        if (rc != SQLITE_DONE)
                return sqlerr(rc);
        c->ks_loaded = true;
        return 0;
}

/* ks_open - whether the key's last spike before day has not been followed by a normal up to
 * and including day, and day itself was not alerted */
static bool ks_open(const struct chunk *c, int64_t day) {
        int64_t s = INT64_MIN, n = INT64_MIN;

        for (size_t i = 0; i < c->nks; i++) {
                const struct key_state *k = &c->ks[i];

                if (k->spike && k->time == day)
                        return false;
                if (k->spike && k->time < day && k->time > s)
                        s = k->time;
                if (!k->spike && k->time <= day && k->time > n)
                        n = k->time;
        }
        return s != INT64_MIN && n < s;
}

/* add_pending - a decision of the chunk */
static int add_pending(struct chunk *c, enum dt_event ev, int64_t t, uint64_t observed,
                       uint64_t own, double baseline) {
        struct pending *p;

        if (c->np == c->capp) {
                size_t nc = c->capp ? c->capp * 2 : 16;
                struct pending *nv = reallocarray(c->pv, nc, sizeof *nv);

                if (!nv)
                        return -ENOMEM;
                c->pv = nv;
                c->capp = nc;
        }
        p = &c->pv[c->np];
        *p = (struct pending) { .ev = ev, .kt = c->kt, .time = t, .observed = observed,
                                .own = own, .baseline = baseline };
        p->key = strdup(c->key);
        if (!p->key)
                return -ENOMEM;
        c->np++;
        return 0;
}

/* domain_known - whether the domain has data on DT_DETECT_BASELINE_MIN days of the window
 * before day */
static bool domain_known(const struct chunk *c, int64_t day) {
        int64_t start = day - (int64_t) c->d->cfg->baseline_days * DAY;
        size_t k = 0;

        for (size_t j = 0; j < c->dom_n; j++)
                if (c->dom_day[j] >= start && c->dom_day[j] < day)
                        k++;
        return k >= DT_DETECT_BASELINE_MIN;
}

/* eval_key - walk the current key's days of the chunk */
static int eval_key(struct chunk *c) {
        struct dt_detect *d = c->d;
        const struct dt_config *cfg = d->cfg;
        int r;

        if (c->kt == DT_KEY_DOMAIN && strcmp(c->key, c->domain) == 0) {
                c->dom_n = 0;
                for (size_t i = 0; i < c->n; i++)
                        if (c->obs[i] > 0)
                                c->dom_day[c->dom_n++] = c->day[i];
        }
        for (size_t i = 0; i < c->n; i++) {
                int64_t day = c->day[i];
                uint64_t obs = c->obs[i], prev;
                size_t nh = 0;
                double b = 0;
                int has;

                if (day < c->from || day > c->to || obs == 0)
                        continue;
                d->stats.rows++;
                if (c->kt == DT_KEY_DOMAIN)
                        d->stats.days++;
                has = dt_detect_baseline(c->day, c->obs, c->n, i, cfg->baseline_days, &b, &nh);
                if (has < 0)
                        return has;
                if (!has && nh == 0 && c->kt == DT_KEY_SOURCE_IP && c->own[i] > 0 &&
                    domain_known(c, day)) {
                        has = 1;        /* a new address of this host: against nothing */
                        b = 0;
                }
                if (!has)
                        continue;
                if (dt_detect_is_spike(obs, b, cfg->spike_factor, cfg->min_messages)) {
                        r = ks_load(c);
                        if (r < 0)
                                return r;
                        r = dt_store_alert_get(d->store, c->domain, c->kt, c->key, day, &prev);
                        if (r < 0)
                                return r;
                        if (r == 0 || obs / 2 >= prev) {
                                r = add_pending(c, DT_EVENT_VOLUME_SPIKE, day, obs, c->own[i], b);
                                if (r < 0)
                                        return r;
                        }
                        r = ks_add(c, day, true);
                        if (r < 0)
                                return r;
                } else if ((double) obs < 2.0 * (b > 1.0 ? b : 1.0)) {
                        r = ks_load(c);
                        if (r < 0)
                                return r;
                        if (!ks_open(c, day))
                                continue;
                        r = add_pending(c, DT_EVENT_VOLUME_NORMAL, day, obs, c->own[i], b);
                        if (r < 0)
                                return r;
                        r = ks_add(c, day, false);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

/* on_row - stream a chunk's daily rows; a key's rows are consecutive */
static int on_row(const struct dt_store_daily_row *row, void *userdata) {
        struct chunk *c = userdata;
        int r;

        if (row->key_type < 0 || row->key_type >= _DT_KEY_MAX || !row->key)
                return 0;
        if (c->have_key && (c->kt != row->key_type || strcmp(c->key, row->key) != 0)) {
                r = eval_key(c);
                chunk_reset_key(c);
                if (r < 0)
                        return c->err = r;
        }
        if (!c->have_key) {
                c->key = strdup(row->key);
                if (!c->key)
                        return c->err = -ENOMEM;
                c->kt = row->key_type;
                c->have_key = true;
        }
        if (c->n == c->cap)
                return 0;       /* cannot happen: one row per day of the window */
        c->day[c->n] = row->day;
        c->obs[c->n] = row->v.observed;
        c->own[c->n] = row->v.own;
        c->n++;
        return 0;
}

static int cmp_pending(const void *a, const void *b) {
        const struct pending *x = a, *y = b;

        if (x->time != y->time)
                return x->time < y->time ? -1 : 1;
        if (x->ev != y->ev)
                return x->ev < y->ev ? -1 : 1;
        if (x->kt != y->kt)
                return x->kt < y->kt ? -1 : 1;
        return strcmp(x->key, y->key);
}

/* emit_volume - one volume-spike or volume-normal event */
static int emit_volume(struct dt_detect *d, const char *domain, const struct pending *p) {
        char day[16], obs[24], base[32], fac[32], own[24], sent[24], seed[1200], msg[1200];
        char where[600] = "", tail[64] = "";
        const char *kt = dt_store_key_type_to_string(p->kt);
        double bb = p->baseline > 1.0 ? p->baseline : 1.0;
        uint64_t n = 0;
        int has_sent;

        has_sent = local_sent(d, domain, p->time, &n);
        if (has_sent < 0)
                return has_sent;
        const struct dt_field f[] = {
                { DT_F_POLICY_DOMAIN, domain },
                { DT_F_KEY_TYPE, kt },
                { DT_F_KEY, p->key },
                { DT_F_DAY, dt_utc(p->time, DT_UTC_DAY, "?", day, sizeof day) },
                { DT_F_OBSERVED, fmt_u64(p->observed, obs, sizeof obs) },
                { DT_F_BASELINE, fmt_num(p->baseline, base, sizeof base) },
                { DT_F_FACTOR, fmt_num((double) (uint64_t) ((double) p->observed / bb * 10.0 + 0.5) / 10.0, fac,
                                              sizeof fac) },
                { DT_F_OWN_HOST_COUNT, fmt_u64(p->own, own, sizeof own) },
                { DT_F_LOCAL_SENT, has_sent ? fmt_u64(n, sent, sizeof sent) : NULL },
        };

        (void) snprintf(seed, sizeof seed, "volume\x1f%s\x1f%s\x1f%s\x1f%" PRId64 "\x1f%" PRIu64,
                        domain, kt, p->key, p->time, p->observed);
        if (p->kt != DT_KEY_DOMAIN)
                (void) snprintf(where, sizeof where, " %s %.500s", kt, p->key);
        if (has_sent)
                (void) snprintf(tail, sizeof tail, ", %s sent per the local log", sent);
        if (p->ev == DT_EVENT_VOLUME_SPIKE) {
                d->stats.spikes++;
                (void) snprintf(msg, sizeof msg, "volume-spike: %.200s%s on %s: %s messages, %s times "
                                "the baseline of %s, %s from this host%s", domain, where, day, obs,
                                fac, base, own, tail);
        } else {
                d->stats.normals++;
                (void) snprintf(msg, sizeof msg, "volume-normal: %.200s%s on %s: %s messages against "
                                "a baseline of %s, %s from this host%s: back to normal", domain,
                                where, day, obs, base, own, tail);
        }
        return dt_emit(d->em, p->ev, seed, msg, f, ELEMENTSOF(f));
}

/* sender_label - how an attribution names its sender in detect_state */
static void sender_label(const struct dt_top_sender *s, char *buf, size_t cap) {
        switch (s->kind) {
        case DT_SENDER_UID:
                if (s->uid >= 0)
                        (void) snprintf(buf, cap, "uid %" PRId64 "%s%.900s", s->uid,
                                        s->script ? " " : "", s->script ? s->script : "");
                else
                        (void) snprintf(buf, cap, "user %.200s%s%.800s", s->user ? s->user : "?",
                                        s->script ? " " : "", s->script ? s->script : "");
                break;
        case DT_SENDER_SASL:
                (void) snprintf(buf, cap, "sasl %.900s", s->sasl_username ? s->sasl_username : "?");
                break;
        default:
                (void) snprintf(buf, cap, "client %.900s", s->client ? s->client : "?");
                break;
        }
}

/* attribute_day - an attribution event for each sender of the day far above its own usual */
static int attribute_day(struct dt_detect *d, const char *domain, int64_t day, uint64_t own) {
        _cleanup_(dt_top_senders_freep) struct dt_top_senders *top = NULL;
        const struct dt_config *cfg = d->cfg;
        int r;

        if (!d->idx)
                return 0;
        r = dt_correlate_window(d->idx, day, day + DAY, &top);
        if (r < 0)
                return r;
        for (size_t i = 0; i < top->n; i++) {
                const struct dt_top_sender *s = &top->v[i];
                char label[1024], who[400] = "", script[600] = "", msg[1400], seed[1300];
                char mta[64], uid[24], line[24], count[24], usual[32], dayname[16];
                const char *kind = dt_sender_kind_name(s->kind), *conf;
                int64_t sline;
                uint64_t prev;

                if (!dt_top_sender_unusual(s, cfg->spike_factor, cfg->min_messages))
                        continue;       /* a busy mailer at its usual pace is not the cause */
                sender_label(s, label, sizeof label);
                r = state_get(d, domain, kind, label, "attribution", day, &prev);
                if (r < 0)
                        return r;
                if (r == 1 && s->count / 2 < prev)
                        continue;       /* said already, and not doubled since */
                r = dt_index_sender_detail(d->idx, day, day + DAY, s->kind == DT_SENDER_UID ? s->uid : -1,
                                           s->kind == DT_SENDER_SASL ? s->sasl_username : NULL,
                                           s->kind == DT_SENDER_CLIENT ? s->client : NULL,
                                           s->script, mta, sizeof mta, &sline);
                if (r < 0)
                        return r;
                /* the sender accounts for the reported volume from here: several facts agree */
                conf = own > 0 && s->count * 2 >= own && s->count <= own * 2 ? "strong" : "weak";
                if (s->kind == DT_SENDER_UID && s->uid >= 0)
                        (void) snprintf(who, sizeof who, " to uid %" PRId64 " (%.100s)", s->uid,
                                        s->user ? s->user : "?");
                else if (s->kind == DT_SENDER_UID)
                        (void) snprintf(who, sizeof who, " to user %.100s", s->user ? s->user : "?");
                else if (s->kind == DT_SENDER_SASL)
                        (void) snprintf(who, sizeof who, " to SASL login %.200s",
                                        s->sasl_username ? s->sasl_username : "?");
                else
                        (void) snprintf(who, sizeof who, " to client %.100s", s->client ? s->client : "?");
                if (s->script && sline >= 0)
                        (void) snprintf(script, sizeof script, " script %.500s:%" PRId64, s->script, sline);
                else if (s->script)
                        (void) snprintf(script, sizeof script, " script %.500s", s->script);
                fmt_u64(s->count, count, sizeof count);
                fmt_num(s->usual, usual, sizeof usual);
                dt_utc(day, DT_UTC_DAY, "?", dayname, sizeof dayname);
                (void) snprintf(msg, sizeof msg, "attribution: %.100s mail on %s traced%s%s via %s: %s "
                                "messages, usually %s [%s]", domain, dayname, who, script,
                                mta[0] ? mta : "the mail log", count, usual, conf);

                const struct dt_field f[] = {
                        { DT_F_POLICY_DOMAIN, domain },
                        { DT_F_HOST_NAME, d->id ? dt_identity_hostname(d->id) : NULL },
                        { DT_F_MTA, mta[0] ? mta : NULL },
                        { DT_F_USER_ID, s->kind == DT_SENDER_UID && s->uid >= 0 ?
                                fmt_u64((uint64_t) s->uid, uid, sizeof uid) : NULL },
                        { DT_F_USER_NAME, s->user },
                        { DT_F_SCRIPT_PATH, s->script },
                        { DT_F_SCRIPT_LINE, s->script && sline >= 0 ?
                                fmt_u64((uint64_t) sline, line, sizeof line) : NULL },
                        { DT_F_SASL_USERNAME, s->sasl_username },
                        { DT_F_CLIENT_IP, s->client },
                        { DT_F_MESSAGE_COUNT, count },
                        { DT_F_CONFIDENCE, conf },
                        { DT_F_EVIDENCE, "volume-window" },
                };

                (void) snprintf(seed, sizeof seed, "window\x1f%s\x1f%" PRId64 "\x1f%s\x1f%" PRIu64,
                                domain, day, label, s->count);
                r = dt_emit(d->em, DT_EVENT_ATTRIBUTION, seed, msg, f, ELEMENTSOF(f));
                if (r < 0)
                        return r;
                d->stats.attributions++;
                r = state_set(d, domain, kind, label, "attribution", day, s->count, msg);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* finish_chunk - write the chunk's decisions, emit its events by day, then its attributions */
static int finish_chunk(struct chunk *c) {
        struct dt_detect *d = c->d;
        int r;

        if (c->np > 1)
                qsort(c->pv, c->np, sizeof *c->pv, cmp_pending);
        for (size_t i = 0; i < c->np; i++) {
                const struct pending *p = &c->pv[i];
                const char *kt = dt_store_key_type_to_string(p->kt);
                bool spike = p->ev == DT_EVENT_VOLUME_SPIKE;

                if (spike) {
                        r = dt_store_alert_set(d->store, c->domain, p->kt, p->key, p->time,
                                               p->observed);
                        if (r < 0)
                                return r;
                }
                r = state_set(d, c->domain, kt, p->key, spike ? "spike" : "normal", p->time,
                              p->observed, NULL);
                if (r < 0)
                        return r;
                r = emit_volume(d, c->domain, p);
                if (r < 0)
                        return r;
                /* the day's volume events are out: now who sent it, once per day */
                if (i + 1 == c->np || c->pv[i + 1].time != p->time) {
                        uint64_t own = 0;
                        bool any = false;

                        for (size_t j = i + 1; j-- > 0 && c->pv[j].time == p->time;)
                                if (c->pv[j].ev == DT_EVENT_VOLUME_SPIKE && c->pv[j].own > 0) {
                                        any = true;
                                        if (c->pv[j].kt == DT_KEY_DOMAIN || c->pv[j].own > own)
                                                own = c->pv[j].own;
                                }
                        if (any) {
                                r = attribute_day(d, c->domain, p->time, own);
                                if (r < 0)
                                        return r;
                        }
                }
        }
        return 0;
}

/* eval_chunk - days from..to (inclusive) of domain */
static int eval_chunk(struct dt_detect *d, const char *domain, int64_t from, int64_t to) {
        struct chunk c = { .d = d, .domain = domain, .from = from, .to = to };
        int r;

        c.cap = (size_t) ((to - from) / DAY) + d->cfg->baseline_days + 2;
        c.day = calloc(c.cap, sizeof *c.day);
        c.obs = calloc(c.cap, sizeof *c.obs);
        c.own = calloc(c.cap, sizeof *c.own);
        c.dom_day = calloc(c.cap, sizeof *c.dom_day);
        if (!c.day || !c.obs || !c.own || !c.dom_day) {
                chunk_free(&c);
                return -ENOMEM;
        }
        r = dt_store_daily_foreach(d->store, domain, from - (int64_t) d->cfg->baseline_days * DAY,
                                   to + DAY, on_row, &c);
        if (r >= 0 && c.err < 0)
                r = c.err;
        if (r >= 0 && c.have_key)
                r = eval_key(&c);
        if (r >= 0)
                r = finish_chunk(&c);
        chunk_free(&c);
        return r < 0 ? r : 0;
}

/* eval_days - the marked days of domain (ascending) and the baseline_days after each */
static int eval_days(struct dt_detect *d, const char *domain, const int64_t *days, size_t n) {
        int64_t span = (int64_t) d->cfg->baseline_days * DAY;
        size_t i = 0;
        int r;

        while (i < n) {
                int64_t a = days[i], b = days[i] + span;

                for (i++; i < n && days[i] <= b + DAY; i++)
                        if (days[i] + span > b)
                                b = days[i] + span;
                for (int64_t t = a; t <= b; t += (int64_t) DT_DETECT_CHUNK_DAYS * DAY) {
                        int64_t e = t + (int64_t) (DT_DETECT_CHUNK_DAYS - 1) * DAY;

                        r = eval_chunk(d, domain, t, e < b ? e : b);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

/* emit_surge - one failure-surge event */
static int emit_surge(struct dt_detect *d, const char *domain, int64_t hour, uint64_t observed,
                      double baseline) {
        char h[32], obs[24], base[32], seed[600], msg[600];
        const struct dt_field f[] = {
                { DT_F_POLICY_DOMAIN, domain },
                { DT_F_HOUR, dt_utc(hour, DT_UTC_RFC3339, "?", h, sizeof h) },
                { DT_F_OBSERVED, fmt_u64(observed, obs, sizeof obs) },
                { DT_F_BASELINE, fmt_num(baseline, base, sizeof base) },
        };

        (void) snprintf(seed, sizeof seed, "surge\x1f%s\x1f%" PRId64 "\x1f%" PRIu64, domain, hour,
                        observed);
        (void) snprintf(msg, sizeof msg, "failure-surge: %.200s in the hour from %s: %s failure "
                        "reports against a baseline of %s an hour", domain, h, obs, base);
        d->stats.surges++;
        return dt_emit(d->em, DT_EVENT_FAILURE_SURGE, seed, msg, f, ELEMENTSOF(f));
}

/* eval_hours_chunk - hours from..to (inclusive) of domain */
static int eval_hours_chunk(struct dt_detect *d, const char *domain, int64_t from, int64_t to) {
        const struct dt_config *cfg = d->cfg;
        int64_t start = from - DT_DETECT_SURGE_HOURS * HOUR;
        size_t n = (size_t) ((to - start) / HOUR) + 1;
        _cleanup_free_ uint64_t *cnt = calloc(n, sizeof *cnt);
        int r;

        if (!cnt)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                r = dt_store_failure_hour_count(d->store, domain, start + (int64_t) i * HOUR, &cnt[i]);
                if (r < 0)
                        return r;
        }
        for (size_t i = DT_DETECT_SURGE_HOURS; i < n; i++) {
                uint64_t hist[DT_DETECT_SURGE_HOURS], prev;
                int64_t hour = start + (int64_t) i * HOUR;
                double b = 0;
                size_t k = 0;

                if (cnt[i] == 0)
                        continue;
                d->stats.hours++;
                for (size_t j = i - DT_DETECT_SURGE_HOURS; j < i; j++)
                        if (cnt[j] > 0)
                                hist[k++] = cnt[j];
                if (k > 0)
                        b = median(hist, k);
                if (!dt_detect_is_spike(cnt[i], b, cfg->surge_factor, cfg->surge_min_reports))
                        continue;
                r = state_get(d, domain, "domain", domain, "surge", hour, &prev);
                if (r < 0)
                        return r;
                if (r == 1 && cnt[i] / 2 < prev)
                        continue;
                r = state_set(d, domain, "domain", domain, "surge", hour, cnt[i], NULL);
                if (r < 0)
                        return r;
                r = emit_surge(d, domain, hour, cnt[i], b);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* eval_hours - the marked hours of domain (ascending) and the surge window after each */
static int eval_hours(struct dt_detect *d, const char *domain, const int64_t *hours, size_t n) {
        const int64_t span = DT_DETECT_SURGE_HOURS * HOUR, step = 24 * DT_DETECT_CHUNK_DAYS * HOUR;
        size_t i = 0;
        int r;

        while (i < n) {
                int64_t a = hours[i], b = hours[i] + span;

                for (i++; i < n && hours[i] <= b + HOUR; i++)
                        if (hours[i] + span > b)
                                b = hours[i] + span;
                for (int64_t t = a; t <= b; t += step) {
                        int64_t e = t + step - HOUR;

                        r = eval_hours_chunk(d, domain, t, e < b ? e : b);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

struct mark_row {
        char *domain;
        bool hour;
        int64_t time;
};

/* run_batch - read up to DT_DETECT_DIRTY_BATCH marks, evaluate them per domain, delete them;
 * 1 when there were marks, 0 none */
static int run_batch(struct dt_detect *d) {
        struct mark_row *m = NULL;
        size_t n = 0, cap = 0;
        sqlite3_stmt *st;
        int r, rc;

        r = prep(d, ST_DIRTY, &st);
        if (r < 0)
                return r;
        sqlite3_bind_int(st, 1, DT_DETECT_DIRTY_BATCH);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                const char *dom = (const char *) sqlite3_column_text(st, 0);
                const char *unit = (const char *) sqlite3_column_text(st, 1);

                if (n == cap) {
                        size_t nc = cap ? cap * 2 : 64;
                        struct mark_row *nv = reallocarray(m, nc, sizeof *nv);

                        if (!nv) {
                                rc = SQLITE_NOMEM;
                                break;
                        }
                        m = nv;
                        cap = nc;
                }
                m[n].domain = strdup(dom ? dom : "");
                if (!m[n].domain) {
                        rc = SQLITE_NOMEM;
                        break;
                }
                m[n].hour = unit && strcmp(unit, "hour") == 0;
                m[n].time = sqlite3_column_int64(st, 2);
                n++;
        }
        done(st);
        r = rc == SQLITE_DONE ? 0 : sqlerr(rc);

        /* rows come by domain, unit ("day" < "hour"), time */
        for (size_t i = 0; r >= 0 && i < n;) {
                size_t j = i, nd = 0, nh = 0;
                _cleanup_free_ int64_t *t = NULL;

                while (j < n && strcmp(m[j].domain, m[i].domain) == 0)
                        j++;
                t = calloc(j - i, sizeof *t);
                if (!t) {
                        r = -ENOMEM;
                        break;
                }
                for (size_t k = i; k < j; k++)
                        if (!m[k].hour)
                                t[nd++] = m[k].time;
                if (nd > 0)
                        r = eval_days(d, m[i].domain, t, nd);
                for (size_t k = i; r >= 0 && k < j; k++)
                        if (m[k].hour)
                                t[nh++] = m[k].time;
                if (r >= 0 && nh > 0)
                        r = eval_hours(d, m[i].domain, t, nh);
                for (size_t k = i; r >= 0 && k < j; k++) {
                        r = prep(d, ST_UNMARK, &st);
                        if (r < 0)
                                break;
                        sqlite3_bind_text(st, 1, m[k].domain, -1, SQLITE_STATIC);
                        sqlite3_bind_text(st, 2, m[k].hour ? "hour" : "day", -1, SQLITE_STATIC);
                        sqlite3_bind_int64(st, 3, m[k].time);
                        r = run_stmt(st);
                }
                i = j;
        }
        for (size_t i = 0; i < n; i++)
                free(m[i].domain);
        free(m);
        if (r < 0)
                return r;
        return n > 0;
}

/* dt_detect_run - every mark, in one transaction */
int dt_detect_run(struct dt_detect *d, struct dt_detect_stats *out) {
        bool own_tx;
        int r;

        if (!d)
                return -EINVAL;
        memset(&d->stats, 0, sizeof d->stats);
        d->sent_domain = mfree(d->sent_domain);        /* the logs may have grown since */
        own_tx = !dt_store_in_transaction(d->store);
        if (own_tx) {
                r = dt_store_begin(d->store);
                if (r < 0)
                        return r;
        }
        while ((r = run_batch(d)) > 0)
                ;
        if (r == 0 && own_tx)
                r = dt_store_commit(d->store);
        if (r < 0 && own_tx)
                dt_store_rollback(d->store);
        if (out)
                *out = d->stats;
        return r < 0 ? r : 0;
}

/* dt_detect_foreach_record - what was raised, for the summary */
int dt_detect_foreach_record(struct dt_store *s, const char *domain, int64_t from, int64_t to,
                             int (*cb)(const struct dt_detect_record *rec, void *userdata),
                             void *userdata) {
        sqlite3 *db;
        sqlite3_stmt *st = NULL;
        int rc, r = 0;

        if (!s || !cb)
                return -EINVAL;
        db = dt_store_db(s);
        rc = sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND "
                                "name = 'detect_state'", -1, &st, NULL);
        if (rc != SQLITE_OK)
                return sqlerr(rc);
        rc = sqlite3_step(st);
        sqlite3_finalize(st);
        if (rc == SQLITE_DONE)
                return 0;               /* detection never ran on this store */
        if (rc != SQLITE_ROW)
                return sqlerr(rc);
        rc = sqlite3_prepare_v2(db, "SELECT domain, kind, key_type, key, time, observed, detail "
                                "FROM detect_state WHERE (?1 IS NULL OR domain = ?1) AND time >= ?2 "
                                "AND time < ?3 ORDER BY domain, time, kind, key_type, key",
                                -1, &st, NULL);
        if (rc != SQLITE_OK)
                return sqlerr(rc);
        if (domain)
                sqlite3_bind_text(st, 1, domain, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, from);
        sqlite3_bind_int64(st, 3, to);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                int64_t obs = sqlite3_column_int64(st, 5);
                struct dt_detect_record rec = {
                        .domain = (const char *) sqlite3_column_text(st, 0),
                        .kind = (const char *) sqlite3_column_text(st, 1),
                        .key_type = (const char *) sqlite3_column_text(st, 2),
                        .key = (const char *) sqlite3_column_text(st, 3),
                        .time = sqlite3_column_int64(st, 4),
                        .observed = obs > 0 ? (uint64_t) obs : 0,
                        .detail = (const char *) sqlite3_column_text(st, 6),
                };

                if (!rec.domain || !rec.kind || !rec.key_type || !rec.key)
                        continue;
                r = cb(&rec, userdata);
                if (r < 0)
                        break;
        }
        sqlite3_finalize(st);
        if (r < 0)
                return r;
        return rc == SQLITE_DONE ? 0 : sqlerr(rc);
}
