/* index.c - upsert parsed log records into the log_* tables of the store
 *
 * Every record is keyed by (mta, queue id) and merged into its row with COALESCE, so the
 * order lines arrive in (and reading a line twice) does not matter. A queue id that shows up
 * again long after its row was last touched is a recycled short id: the old row is dropped.
 * Re-queueing inside this host (an amavis/content-filter hop, a local forward, a bounce) links
 * the two rows both ways, so attribution can walk back to the original submission.
 *
 * Speed: a message's five to ten lines arrive within seconds, so records are first merged in
 * memory (a fixed table of DT_INDEX_PENDING_MAX messages, ~1.5 MB, the same COALESCE rules) and
 * each message costs one INSERT (plus a lookup and an UPDATE when its row is already there)
 * when the table is written out: when it fills, and in dt_index_flush(), which the caller runs
 * before its COMMIT. PHP calls go straight in (one row per line anyway).
 * SECURITY: record strings are already sanitised and capped (logline.h); they reach SQLite only
 * through bound parameters. Recipients per message are capped; the pending table is fixed;
 * retention pruning bounds the rest. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "correlate/index.h"

#define PENDING_SLOTS   (2 * DT_INDEX_PENDING_MAX)      /* open addressing, power of two */
#define PENDING_RCPT    4       /* recipients held per pending message before it is written */
#define STMT_CACHE_MAX  8       /* dt_index_stmt() statements: attribution's lookups */

struct cwd_entry {
        int64_t pid, time;
        char cwd[DT_LOG_TEXT_MAX];
        char args[DT_LOG_TEXT_MAX];
        bool used;
};

struct pend_rcpt {
        char rcpt[DT_LOG_TOKEN_MAX];
        char status[32];
        char relay[DT_LOG_TOKEN_MAX];
        int64_t time;
};

/* a message's merged records not yet written; "" and -1 mean "not said" (NULL in SQL) */
struct pending {
        char mta[DT_LOG_QID_MAX];       /* the row key: instance, or the MTA's name */
        char queue_id[DT_LOG_QID_MAX];
        char host[DT_LOG_TOKEN_MAX];    /* of the record that created it */
        char instance[DT_LOG_QID_MAX];
        char message_id[DT_LOG_TOKEN_MAX];
        int64_t uid;
        char user[DT_LOG_TOKEN_MAX];
        char client_host[DT_LOG_TOKEN_MAX];
        char client_ip[64];
        char sasl_method[64];
        char sasl_username[DT_LOG_TOKEN_MAX];
        char protocol[64];
        char env_from[DT_LOG_TOKEN_MAX];
        int64_t size, nrcpt;
        char subject[DT_LOG_TEXT_MAX];
        char cwd[DT_LOG_TEXT_MAX];
        char args[DT_LOG_TEXT_MAX];
        char next_queue_id[DT_LOG_QID_MAX];
        char prev_queue_id[DT_LOG_QID_MAX];
        int64_t first, last;
        struct pend_rcpt rc[PENDING_RCPT];
        unsigned n_rc;
};

struct dt_index {
        sqlite3 *db;
        int php_window;
        sqlite3_stmt *find, *del_msg, *del_rcpt, *ins, *upd, *rcpt, *rcpt_new, *php;
        struct cwd_entry cwd[DT_INDEX_CWD_MAX];
        size_t cwd_next;
        struct { const char *sql; sqlite3_stmt *st; } cache[STMT_CACHE_MAX];
        size_t n_cache;
        struct pending *pend;           /* DT_INDEX_PENDING_MAX */
        size_t n_pend;
        int16_t slot[PENDING_SLOTS];    /* index into pend, -1 free */
};

static const char schema[] =
        "CREATE TABLE IF NOT EXISTS log_msg ("
        " id INTEGER PRIMARY KEY, mta TEXT NOT NULL, queue_id TEXT NOT NULL,"
        " host TEXT, instance TEXT, message_id TEXT, uid INTEGER, user TEXT,"
        " client_host TEXT, client_ip TEXT, sasl_method TEXT, sasl_username TEXT,"
        " protocol TEXT, env_from TEXT, size INTEGER, nrcpt INTEGER, subject TEXT,"
        " cwd TEXT, args TEXT, next_queue_id TEXT, prev_queue_id TEXT,"
        " first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL);"
        /* the key, queue id first so a Received hop's queue id alone finds its rows */
        "CREATE UNIQUE INDEX IF NOT EXISTS log_msg_key ON log_msg(queue_id, mta);"
        "CREATE INDEX IF NOT EXISTS log_msg_message_id ON log_msg(message_id);"
        "CREATE INDEX IF NOT EXISTS log_msg_first_seen ON log_msg(first_seen);"
        /* always read by msg: one B-tree keyed by it, no rowid */
        "CREATE TABLE IF NOT EXISTS log_rcpt ("
        " msg INTEGER NOT NULL, rcpt TEXT NOT NULL, status TEXT, relay TEXT,"
        " time INTEGER NOT NULL, PRIMARY KEY(msg, rcpt)) WITHOUT ROWID;"
        /* the key starts with time: it serves the time-window lookups too */
        "CREATE TABLE IF NOT EXISTS log_php ("
        " id INTEGER PRIMARY KEY, time INTEGER NOT NULL, host TEXT, script TEXT NOT NULL,"
        " line INTEGER, rcpt TEXT, to_raw TEXT, subject TEXT, from_hdr TEXT,"
        " UNIQUE(time, script, line, rcpt, subject));"
        /* indexes of earlier versions that cost every insert and served no query */
        "DROP INDEX IF EXISTS log_msg_last_seen;"
        "DROP INDEX IF EXISTS log_php_time;";

static int dberr(struct dt_index *idx, struct dt_error *err, const char *what) {
        return dt_error_set(err, -EIO, DT_R_IO, -1, "%s: %s", what, sqlite3_errmsg(idx->db));
}

static void pending_clear(struct dt_index *idx) {
        idx->n_pend = 0;
        memset(idx->slot, 0xff, sizeof idx->slot);
}

/* dt_index_free - finalize statements; the db is the caller's */
struct dt_index *dt_index_free(struct dt_index *idx) {
        if (!idx)
                return NULL;
        sqlite3_finalize(idx->find);
        sqlite3_finalize(idx->del_msg);
        sqlite3_finalize(idx->del_rcpt);
        sqlite3_finalize(idx->ins);
        sqlite3_finalize(idx->upd);
        sqlite3_finalize(idx->rcpt);
        sqlite3_finalize(idx->rcpt_new);
        sqlite3_finalize(idx->php);
        for (size_t i = 0; i < idx->n_cache; i++)
                sqlite3_finalize(idx->cache[i].st);
        free(idx->pend);
        free(idx);
        return NULL;
}

/* the columns ins sets, in this order from ?3 (?1 and ?2 are mta and queue id); upd binds the
 * same numbers (its key is ?1; it leaves ?2, host and instance alone) */
#define MSG_SET_COLS "message_id, uid, user, client_host, client_ip, sasl_method, sasl_username," \
                     " protocol, env_from, size, nrcpt, subject, cwd, args, next_queue_id," \
                     " prev_queue_id, first_seen, last_seen, host, instance"

/* dt_index_open - tables and statements */
int dt_index_open(sqlite3 *db, int php_window, struct dt_index **out, struct dt_error *err) {
        _cleanup_(dt_index_freep) struct dt_index *idx = NULL;
        const struct { sqlite3_stmt **s; const char *sql; } st[] = {
                { NULL, "SELECT id, last_seen FROM log_msg WHERE mta = ?1 AND queue_id = ?2" },
                { NULL, "DELETE FROM log_msg WHERE id = ?1" },
                { NULL, "DELETE FROM log_rcpt WHERE msg = ?1" },
                { NULL, "INSERT OR IGNORE INTO log_msg(mta, queue_id, " MSG_SET_COLS ") VALUES(?1, ?2, ?3,"
                        " ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,"
                        " ?19, ?20, ?21, ?22)" },
                { NULL, "UPDATE log_msg SET message_id = coalesce(?3, message_id),"
                        " uid = coalesce(?4, uid), user = coalesce(?5, user),"
                        " client_host = coalesce(?6, client_host), client_ip = coalesce(?7, client_ip),"
                        " sasl_method = coalesce(?8, sasl_method),"
                        " sasl_username = coalesce(?9, sasl_username),"
                        " protocol = coalesce(?10, protocol), env_from = coalesce(?11, env_from),"
                        " size = coalesce(?12, size), nrcpt = coalesce(?13, nrcpt),"
                        " subject = coalesce(subject, ?14), cwd = coalesce(?15, cwd),"
                        " args = coalesce(?16, args), next_queue_id = coalesce(?17, next_queue_id),"
                        " prev_queue_id = coalesce(prev_queue_id, ?18),"
                        " first_seen = min(first_seen, ?19), last_seen = max(last_seen, ?20)"
                        " WHERE id = ?1" },
                { NULL, "INSERT INTO log_rcpt(msg, rcpt, status, relay, time)"
                        " SELECT ?1, ?2, ?3, ?4, ?5"
                        " WHERE (SELECT count(*) FROM log_rcpt WHERE msg = ?1) < ?6"
                        " ON CONFLICT(msg, rcpt) DO UPDATE SET status = excluded.status,"
                        " relay = excluded.relay, time = excluded.time" },
                { NULL, "INSERT INTO log_rcpt(msg, rcpt, status, relay, time)"
                        " VALUES(?1, ?2, ?3, ?4, ?5)" },
                { NULL, "INSERT OR IGNORE INTO log_php(time, host, script, line, rcpt, to_raw,"
                        " subject, from_hdr) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)" },
        };
        sqlite3_stmt **slots[ELEMENTSOF(st)];

        idx = calloc(1, sizeof *idx);
        if (!idx)
                return dt_error_set(err, -ENOMEM, DT_R_NOMEM, -1, "out of memory");
        idx->pend = calloc(DT_INDEX_PENDING_MAX, sizeof *idx->pend);
        if (!idx->pend)
                return dt_error_set(err, -ENOMEM, DT_R_NOMEM, -1, "out of memory");
        pending_clear(idx);
        idx->db = db;
        idx->php_window = php_window > 0 ? php_window : 5;
        slots[0] = &idx->find;
        slots[1] = &idx->del_msg;
        slots[2] = &idx->del_rcpt;
        slots[3] = &idx->ins;
        slots[4] = &idx->upd;
        slots[5] = &idx->rcpt;
        slots[6] = &idx->rcpt_new;
        slots[7] = &idx->php;
        if (sqlite3_exec(db, schema, NULL, NULL, NULL) != SQLITE_OK)
                return dberr(idx, err, "cannot create log tables");
        for (size_t i = 0; i < ELEMENTSOF(st); i++)
                if (sqlite3_prepare_v3(db, st[i].sql, -1, SQLITE_PREPARE_PERSISTENT, slots[i],
                                       NULL) != SQLITE_OK)
                        return dberr(idx, err, "cannot prepare log statement");
        *out = TAKE_PTR(idx);
        return 0;
}

/* the strings bound below live in the record or the pending table until the step is done */
static void bind_text(sqlite3_stmt *s, int i, const char *v) {
        if (v && v[0])
                sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
        else
                sqlite3_bind_null(s, i);
}

static void bind_num(sqlite3_stmt *s, int i, int64_t v) {
        if (v >= 0)
                sqlite3_bind_int64(s, i, v);
        else
                sqlite3_bind_null(s, i);
}

/* step_done - run s to its end; each caller binds every parameter of s before every step, so
 * the bindings are not cleared (that was 1% of indexing) */
static int step_done(sqlite3_stmt *s) {
        int r = sqlite3_step(s);

        sqlite3_reset(s);
        return r == SQLITE_DONE || r == SQLITE_ROW ? 0 : -EIO;
}

static const char *mta_name(enum dt_mta m) {
        return m == DT_MTA_EXIM ? "exim" : "postfix";
}

/* find - the row id and last_seen of (mta, qid): 1 found, 0 not, -EIO */
static int find(struct dt_index *idx, const char *mta, const char *qid, int64_t *id, int64_t *last) {
        int r;

        sqlite3_bind_text(idx->find, 1, mta, -1, SQLITE_STATIC);
        sqlite3_bind_text(idx->find, 2, qid, -1, SQLITE_STATIC);
        r = sqlite3_step(idx->find);
        if (r == SQLITE_ROW) {
                *id = sqlite3_column_int64(idx->find, 0);
                *last = sqlite3_column_int64(idx->find, 1);
        }
        sqlite3_reset(idx->find);
        return r == SQLITE_ROW ? 1 : r == SQLITE_DONE ? 0 : -EIO;
}

/* bind_values - a pending message's columns, ?3..?20 of ins and upd */
static void bind_values(sqlite3_stmt *s, const struct pending *p) {
        bind_text(s, 3, p->message_id);
        bind_num(s, 4, p->uid);
        bind_text(s, 5, p->user);
        bind_text(s, 6, p->client_host);
        bind_text(s, 7, p->client_ip);
        bind_text(s, 8, p->sasl_method);
        bind_text(s, 9, p->sasl_username);
        bind_text(s, 10, p->protocol);
        bind_text(s, 11, p->env_from);
        bind_num(s, 12, p->size);
        bind_num(s, 13, p->nrcpt);
        bind_text(s, 14, p->subject);
        bind_text(s, 15, p->cwd);
        bind_text(s, 16, p->args);
        bind_text(s, 17, p->next_queue_id);
        bind_text(s, 18, p->prev_queue_id);
        sqlite3_bind_int64(s, 19, p->first);
        sqlite3_bind_int64(s, 20, p->last);
}

/* insert - a new row for p: 1 and *id, 0 when (mta, queue id) is taken, -EIO */
static int insert(struct dt_index *idx, const struct pending *p, int64_t *id) {
        sqlite3_stmt *s = idx->ins;

        sqlite3_bind_text(s, 1, p->mta, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, p->queue_id, -1, SQLITE_STATIC);
        bind_values(s, p);
        bind_text(s, 21, p->host);
        bind_text(s, 22, p->instance);
        if (step_done(s) < 0)
                return -EIO;
        if (sqlite3_changes(idx->db) == 0)
                return 0;
        *id = sqlite3_last_insert_rowid(idx->db);
        return 1;
}

/* write_one - one pending message into a new row, or merged into its row (replacing it when
 * the queue id was recycled), then its recipients */
static int write_one(struct dt_index *idx, const struct pending *p) {
        sqlite3_stmt *s;
        int64_t id = 0, last = 0;
        bool fresh;
        int r;

        /* most messages are new: try that first, look the row up only when it is there */
        r = insert(idx, p, &id);
        if (r < 0)
                return r;
        fresh = r > 0;
        if (!fresh) {
                if (find(idx, p->mta, p->queue_id, &id, &last) <= 0)
                        return -EIO;
                if (p->first - last > DT_INDEX_REUSE_SECONDS) {
                        /* a recycled short queue id: the old message is long gone */
                        sqlite3_bind_int64(idx->del_rcpt, 1, id);
                        sqlite3_bind_int64(idx->del_msg, 1, id);
                        if (step_done(idx->del_rcpt) < 0 || step_done(idx->del_msg) < 0 ||
                            insert(idx, p, &id) <= 0)
                                return -EIO;
                        fresh = true;
                } else {
                        s = idx->upd;
                        sqlite3_bind_int64(s, 1, id);
                        bind_values(s, p);
                        if (step_done(s) < 0)
                                return -EIO;
                }
        }
        /* a new row has no recipients yet: a plain insert; an old one may have them all */
        for (unsigned i = 0; i < p->n_rc; i++) {
                s = fresh ? idx->rcpt_new : idx->rcpt;
                sqlite3_bind_int64(s, 1, id);
                sqlite3_bind_text(s, 2, p->rc[i].rcpt, -1, SQLITE_STATIC);
                bind_text(s, 3, p->rc[i].status);
                bind_text(s, 4, p->rc[i].relay);
                sqlite3_bind_int64(s, 5, p->rc[i].time);
                if (!fresh)
                        sqlite3_bind_int(s, 6, DT_INDEX_RCPT_MAX);
                if (step_done(s) < 0)
                        return -EIO;
        }
        return 0;
}

/* dt_index_flush - write every pending message */
int dt_index_flush(struct dt_index *idx, struct dt_error *err) {
        for (size_t i = 0; i < idx->n_pend; i++)
                if (write_one(idx, &idx->pend[i]) < 0) {
                        pending_clear(idx);
                        return dberr(idx, err, "cannot index log line");
                }
        pending_clear(idx);
        return 0;
}

void dt_index_discard(struct dt_index *idx) {
        pending_clear(idx);
}

static size_t key_hash(const char *mta, const char *qid) {
        size_t h = 5381;

        for (const char *c = mta; *c; c++)
                h = h * 33 + (unsigned char) *c;
        for (const char *c = qid; *c; c++)
                h = h * 33 + (unsigned char) *c;
        return h;
}

static void copy(char *dst, size_t cap, const char *src) {
        size_t n = strnlen(src, cap - 1);

        memcpy(dst, src, n);
        dst[n] = '\0';
}

/* pending_get - the pending message (mta, qid) for a record at time t, added when missing; the
 * table is written out first when it is full, or when the id was recycled while pending.
 * NULL only on a database error. */
static struct pending *pending_get(struct dt_index *idx, const struct dt_logrec *rec, const char *qid,
                                   struct dt_error *err) {
        const char *mta = rec->instance[0] ? rec->instance : mta_name(rec->mta);
        size_t h = key_hash(mta, qid), i;
        struct pending *p;

        for (;;) {
                for (i = h & (PENDING_SLOTS - 1); idx->slot[i] >= 0; i = (i + 1) & (PENDING_SLOTS - 1)) {
                        p = &idx->pend[idx->slot[i]];
                        if (strcmp(p->queue_id, qid) != 0 || strcmp(p->mta, mta) != 0)
                                continue;
                        if (rec->time - p->last <= DT_INDEX_REUSE_SECONDS)
                                return p;
                        break;          /* recycled: the old message goes first */
                }
                if (idx->slot[i] < 0 && idx->n_pend < DT_INDEX_PENDING_MAX)
                        break;
                if (dt_index_flush(idx, err) < 0)
                        return NULL;
        }
        idx->slot[i] = (int16_t) idx->n_pend;
        p = &idx->pend[idx->n_pend++];
        copy(p->mta, sizeof p->mta, mta);
        copy(p->queue_id, sizeof p->queue_id, qid);
        copy(p->host, sizeof p->host, rec->host);
        copy(p->instance, sizeof p->instance, rec->instance);
        p->message_id[0] = p->user[0] = p->client_host[0] = p->client_ip[0] = '\0';
        p->sasl_method[0] = p->sasl_username[0] = p->protocol[0] = p->env_from[0] = '\0';
        p->subject[0] = p->cwd[0] = p->args[0] = p->next_queue_id[0] = p->prev_queue_id[0] = '\0';
        p->uid = p->size = p->nrcpt = -1;
        p->first = p->last = rec->time;
        p->n_rc = 0;
        return p;
}

/* set - a later record's value wins (COALESCE(new, old)) */
static void set(char *dst, size_t cap, const char *v) {
        if (v[0])
                copy(dst, cap, v);
}

#define SET(p, field, v) set((p)->field, sizeof (p)->field, (v))

/* local_relay - a re-queue inside this host: content filter on loopback, local forward */
static bool local_relay(const struct dt_logrec *rec) {
        const char *r = rec->relay;

        return strncmp(r, "127.", 4) == 0 || strncmp(r, "localhost", 9) == 0 ||
               strstr(r, "[127.") != NULL || strstr(r, "[::1]") != NULL ||
               strcmp(r, "local") == 0 || strcmp(r, "virtual") == 0;
}

/* cwd_take - the Exim cwd= line logged by the same process just before an arrival */
static const struct cwd_entry *cwd_take(struct dt_index *idx, const struct dt_logrec *rec) {
        struct cwd_entry *best = NULL;

        for (size_t i = 0; i < DT_INDEX_CWD_MAX; i++) {
                struct cwd_entry *c = &idx->cwd[i];

                if (c->used || c->time > rec->time || rec->time - c->time > 5)
                        continue;
                if (rec->pid >= 0 && c->pid >= 0 && rec->pid != c->pid)
                        continue;
                if (!best || c->time >= best->time)
                        best = c;
        }
        if (best)
                best->used = true;
        return best;
}

/* add_rcpt - a delivery's recipient (lower-cased); the same recipient again takes the later
 * status. 0, or <0 when writing out a full table failed. */
static int add_rcpt(struct dt_index *idx, struct pending **pp, const struct dt_logrec *rec,
                    struct dt_error *err) {
        struct pending *p = *pp;
        char low[DT_LOG_TOKEN_MAX];
        struct pend_rcpt *rc = NULL;
        size_t i;

        for (i = 0; rec->to[i] && i + 1 < sizeof low; i++)
                low[i] = (char) ((rec->to[i] >= 'A' && rec->to[i] <= 'Z') ? rec->to[i] + 32 : rec->to[i]);
        low[i] = '\0';
        for (i = 0; i < p->n_rc && !rc; i++)
                if (strcmp(p->rc[i].rcpt, low) == 0)
                        rc = &p->rc[i];
        if (!rc && p->n_rc == PENDING_RCPT) {
                /* a message with many recipients: write what it has, then go on */
                if (dt_index_flush(idx, err) < 0)
                        return -EIO;
                p = *pp = pending_get(idx, rec, rec->queue_id, err);
                if (!p)
                        return -EIO;
        }
        if (!rc)
                rc = &p->rc[p->n_rc++];
        copy(rc->rcpt, sizeof rc->rcpt, low);
        copy(rc->status, sizeof rc->status, rec->status);
        copy(rc->relay, sizeof rc->relay, rec->relay);
        rc->time = rec->time;
        return 0;
}

/* dt_index_add - merge one record into the pending table */
int dt_index_add(struct dt_index *idx, const struct dt_logrec *rec, struct dt_error *err) {
        const struct cwd_entry *cw = NULL;
        struct pending *p;
        bool requeue;

        switch (rec->kind) {
        case DT_LK_PHP_MAIL:
                sqlite3_bind_int64(idx->php, 1, rec->time);
                bind_text(idx->php, 2, rec->host);
                sqlite3_bind_text(idx->php, 3, rec->script, -1, SQLITE_STATIC);
                bind_num(idx->php, 4, rec->script_line);
                bind_text(idx->php, 5, rec->to);
                bind_text(idx->php, 6, rec->to_raw);
                bind_text(idx->php, 7, rec->subject);
                bind_text(idx->php, 8, rec->from_hdr);
                return step_done(idx->php) < 0 ? dberr(idx, err, "cannot index PHP call") : 0;
        case DT_LK_CWD: {
                struct cwd_entry *c = &idx->cwd[idx->cwd_next++ % DT_INDEX_CWD_MAX];

                c->pid = rec->pid;
                c->time = rec->time;
                copy(c->cwd, sizeof c->cwd, rec->script);
                copy(c->args, sizeof c->args, rec->args);
                c->used = false;
                return 0;
        }
        case DT_LK_NONE:
        case _DT_LK_MAX:
                return 0;
        default:
                break;
        }
        if (!rec->queue_id[0])
                return 0;
        p = pending_get(idx, rec, rec->queue_id, err);
        if (!p)
                return -EIO;
        if (rec->kind == DT_LK_ARRIVAL && (rec->user[0] || strncmp(rec->protocol, "local", 5) == 0))
                cw = cwd_take(idx, rec);
        requeue = rec->kind == DT_LK_BOUNCE ||
                  (rec->kind == DT_LK_DELIVERY && rec->mta == DT_MTA_POSTFIX && local_relay(rec));

        if (rec->kind == DT_LK_DELIVERY && rec->to[0] && add_rcpt(idx, &p, rec, err) < 0)
                return -EIO;
        SET(p, message_id, rec->message_id);
        if (rec->uid >= 0)
                p->uid = rec->uid;
        SET(p, user, rec->user);
        SET(p, client_host, rec->client_host);
        SET(p, client_ip, rec->client_ip);
        SET(p, sasl_method, rec->sasl_method);
        SET(p, sasl_username, rec->sasl_username);
        SET(p, protocol, rec->protocol);
        if (rec->kind == DT_LK_QMGR || rec->kind == DT_LK_PICKUP || rec->kind == DT_LK_ARRIVAL)
                SET(p, env_from, rec->from);
        if (rec->size >= 0)
                p->size = rec->size;
        if (rec->nrcpt >= 0)
                p->nrcpt = rec->nrcpt;
        if (!p->subject[0])
                SET(p, subject, rec->subject);
        if (cw) {
                SET(p, cwd, cw->cwd);
                SET(p, args, cw->args);
        }
        if (requeue)
                SET(p, next_queue_id, rec->next_queue_id);
        if (rec->time < p->first)
                p->first = rec->time;
        if (rec->time > p->last)
                p->last = rec->time;

        /* the row the message was re-queued as points back here */
        if (requeue && rec->next_queue_id[0]) {
                p = pending_get(idx, rec, rec->next_queue_id, err);
                if (!p)
                        return -EIO;
                if (!p->prev_queue_id[0])
                        copy(p->prev_queue_id, sizeof p->prev_queue_id, rec->queue_id);
                if (rec->time < p->first)
                        p->first = rec->time;
                if (rec->time > p->last)
                        p->last = rec->time;
        }
        return 0;
}

/* dt_index_prune - retention */
int dt_index_prune(struct dt_index *idx, int64_t before, uint64_t *n_deleted, struct dt_error *err) {
        static const char *const sql[] = {
                /* last_seen >= first_seen: the first_seen index narrows the scan */
                "DELETE FROM log_rcpt WHERE msg IN (SELECT id FROM log_msg"
                " WHERE first_seen < ?1 AND last_seen < ?1)",
                "DELETE FROM log_msg WHERE first_seen < ?1 AND last_seen < ?1",
                "DELETE FROM log_php WHERE time < ?1",
        };
        uint64_t n = 0;

        for (size_t i = 0; i < ELEMENTSOF(sql); i++) {
                sqlite3_stmt *s = NULL;
                int r;

                if (sqlite3_prepare_v2(idx->db, sql[i], -1, &s, NULL) != SQLITE_OK)
                        return dberr(idx, err, "cannot prune log index");
                sqlite3_bind_int64(s, 1, before);
                r = sqlite3_step(s);
                sqlite3_finalize(s);
                if (r != SQLITE_DONE)
                        return dberr(idx, err, "cannot prune log index");
                n += (uint64_t) sqlite3_changes(idx->db);
        }
        if (n_deleted)
                *n_deleted = n;
        return 0;
}

/* dt_index_newest - both maxima are read off an index (first_seen's, and log_php's key) */
int dt_index_newest(struct dt_index *idx, int64_t not_after, int64_t *out, struct dt_error *err) {
        sqlite3_stmt *s = NULL;
        int r;

        if (sqlite3_prepare_v2(idx->db, "SELECT max(coalesce((SELECT max(first_seen) FROM log_msg"
                               " WHERE first_seen <= ?1), 0), coalesce((SELECT max(time) FROM log_php"
                               " WHERE time <= ?1), 0))", -1, &s, NULL) != SQLITE_OK)
                return dberr(idx, err, "cannot read the log index");
        sqlite3_bind_int64(s, 1, not_after);
        r = sqlite3_step(s);
        if (r == SQLITE_ROW)
                *out = sqlite3_column_int64(s, 0);
        sqlite3_finalize(s);
        return r == SQLITE_ROW ? 0 : dberr(idx, err, "cannot read the log index");
}

int dt_index_begin(struct dt_index *idx) {
        return sqlite3_exec(idx->db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK ? 0 : -EIO;
}

int dt_index_commit(struct dt_index *idx) {
        struct dt_error err;

        if (dt_index_flush(idx, &err) < 0)
                return -EIO;
        return sqlite3_exec(idx->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK ? 0 : -EIO;
}

/* dt_index_stmt - prepared once per SQL text, by its address */
sqlite3_stmt *dt_index_stmt(struct dt_index *idx, const char *sql) {
        sqlite3_stmt *st;

        for (size_t i = 0; i < idx->n_cache; i++)
                if (idx->cache[i].sql == sql) {
                        sqlite3_reset(idx->cache[i].st);
                        sqlite3_clear_bindings(idx->cache[i].st);
                        return idx->cache[i].st;
                }
        if (idx->n_cache == STMT_CACHE_MAX ||
            sqlite3_prepare_v3(idx->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK)
                return NULL;
        idx->cache[idx->n_cache].sql = sql;
        idx->cache[idx->n_cache++].st = st;
        return st;
}

sqlite3 *dt_index_db(const struct dt_index *idx) {
        return idx->db;
}

int dt_index_php_window(const struct dt_index *idx) {
        return idx->php_window;
}

/* addr_in_domain - whether the address in s ("a@b", "Name <a@b>", the first of a list) has
 * domain as its domain or a parent of it (case-insensitive; a trailing dot ignored) */
static bool addr_in_domain(const char *s, const char *domain, size_t dlen) {
        const char *a, *end, *at = NULL;
        size_t len;

        if (!s)
                return false;
        a = strchr(s, '<');
        a = a ? a + 1 : s;
        for (end = a; *end && *end != '>' && *end != ',' && *end != ' ' && *end != '\t'; end++)
                if (*end == '@')
                        at = end;
        if (!at)
                return false;
        at++;
        len = (size_t) (end - at);
        if (len > 0 && at[len - 1] == '.')
                len--;
        if (len < dlen)
                return false;
        if (strncasecmp(at + len - dlen, domain, dlen) != 0)
                return false;
        return len == dlen || at[len - dlen - 1] == '.';
}

/* dt_index_sent_count - messages sent from here with a sender in domain */
int dt_index_sent_count(struct dt_index *idx, const char *domain, int64_t from, int64_t to,
                        uint64_t *n) {
        sqlite3_stmt *s = NULL, *p = NULL;
        uint64_t count = 0;
        size_t dlen;
        int r;

        if (!idx || !domain || !n)
                return -EINVAL;
        dlen = strlen(domain);
        if (dlen > 0 && domain[dlen - 1] == '.')
                dlen--;
        if (dlen == 0) {
                *n = 0;
                return 0;
        }
        /* the same notion of "a local sender" as the window attribution (attribute.c) */
        r = sqlite3_prepare_v2(idx->db,
                "SELECT m.id, m.env_from, m.first_seen FROM log_msg m"
                " WHERE m.first_seen >= ?1 AND m.first_seen < ?2 AND m.prev_queue_id IS NULL"
                " AND (m.uid IS NOT NULL OR m.sasl_username IS NOT NULL"
                "  OR (m.user IS NOT NULL AND m.protocol LIKE 'local%')"
                "  OR (m.client_ip IS NOT NULL AND EXISTS(SELECT 1 FROM log_rcpt r WHERE r.msg = m.id"
                "   AND r.relay IS NOT NULL AND r.relay NOT IN ('local', 'virtual', 'dovecot', 'none')"
                "   AND r.relay NOT LIKE '127.%' AND r.relay NOT LIKE 'localhost%'"
                "   AND r.relay NOT LIKE '%[127.%')))", -1, &s, NULL);
        if (r != SQLITE_OK)
                return -EIO;
        r = sqlite3_prepare_v2(idx->db,
                "SELECT from_hdr FROM log_php WHERE time BETWEEN ?1 - ?2 AND ?1 + ?2"
                " AND from_hdr IS NOT NULL AND rcpt IN (SELECT rcpt FROM log_rcpt WHERE msg = ?3)",
                -1, &p, NULL);
        if (r != SQLITE_OK) {
                sqlite3_finalize(s);
                return -EIO;
        }
        sqlite3_bind_int64(s, 1, from);
        sqlite3_bind_int64(s, 2, to);
        while ((r = sqlite3_step(s)) == SQLITE_ROW) {
                bool match = addr_in_domain((const char *) sqlite3_column_text(s, 1), domain, dlen);

                if (!match) {
                        /* a web application's mail: the envelope is the web user's, the
                         * From header the one it chose */
                        sqlite3_bind_int64(p, 1, sqlite3_column_int64(s, 2));
                        sqlite3_bind_int(p, 2, idx->php_window);
                        sqlite3_bind_int64(p, 3, sqlite3_column_int64(s, 0));
                        while (!match && sqlite3_step(p) == SQLITE_ROW)
                                match = addr_in_domain((const char *) sqlite3_column_text(p, 0),
                                                       domain, dlen);
                        sqlite3_reset(p);
                }
                if (match)
                        count++;
        }
        sqlite3_finalize(s);
        sqlite3_finalize(p);
        if (r != SQLITE_DONE)
                return -EIO;
        *n = count;
        return 0;
}

/* dt_index_sender_detail - the MTA and the script line of a window's sender */
int dt_index_sender_detail(struct dt_index *idx, int64_t from, int64_t to, int64_t uid,
                           const char *sasl_username, const char *client_ip, const char *script,
                           char *mta, size_t cap, int64_t *script_line) {
        sqlite3_stmt *s = NULL;
        int r;

        if (!idx || !mta || cap == 0 || !script_line)
                return -EINVAL;
        mta[0] = '\0';
        *script_line = -1;
        if (uid >= 0 || sasl_username || client_ip) {
                r = sqlite3_prepare_v2(idx->db,
                        "SELECT mta, count(*) AS c FROM log_msg"
                        " WHERE first_seen >= ?1 AND first_seen < ?2 AND prev_queue_id IS NULL"
                        " AND (uid = ?3 OR sasl_username = ?4 OR (?4 IS NULL AND ?3 IS NULL"
                        "  AND client_ip = ?5))"
                        " GROUP BY mta ORDER BY c DESC, mta LIMIT 1", -1, &s, NULL);
                if (r != SQLITE_OK)
                        return -EIO;
                sqlite3_bind_int64(s, 1, from);
                sqlite3_bind_int64(s, 2, to);
                if (uid >= 0)
                        sqlite3_bind_int64(s, 3, uid);
                else if (sasl_username)
                        sqlite3_bind_text(s, 4, sasl_username, -1, SQLITE_STATIC);
                else
                        sqlite3_bind_text(s, 5, client_ip, -1, SQLITE_STATIC);
                r = sqlite3_step(s);
                if (r == SQLITE_ROW && sqlite3_column_text(s, 0)) {
                        const char *m = (const char *) sqlite3_column_text(s, 0);
                        size_t len = strlen(m);

                        if (len >= cap)
                                len = cap - 1;
                        memcpy(mta, m, len);
                        mta[len] = '\0';
                }
                sqlite3_finalize(s);
                if (r != SQLITE_ROW && r != SQLITE_DONE)
                        return -EIO;
        }
        if (script) {
                r = sqlite3_prepare_v2(idx->db,
                        "SELECT line, count(*) AS c FROM log_php"
                        " WHERE script = ?1 AND time >= ?2 AND time < ?3 AND line IS NOT NULL"
                        " GROUP BY line ORDER BY c DESC, line LIMIT 1", -1, &s, NULL);
                if (r != SQLITE_OK)
                        return -EIO;
                sqlite3_bind_text(s, 1, script, -1, SQLITE_STATIC);
                sqlite3_bind_int64(s, 2, from);
                sqlite3_bind_int64(s, 3, to);
                r = sqlite3_step(s);
                if (r == SQLITE_ROW)
                        *script_line = sqlite3_column_int64(s, 0);
                sqlite3_finalize(s);
                if (r != SQLITE_ROW && r != SQLITE_DONE)
                        return -EIO;
        }
        return 0;
}
