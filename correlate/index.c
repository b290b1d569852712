/* index.c - upsert parsed log records into the log_* tables of the store
 *
 * Every record is keyed by (mta, queue id) and merged into its row with COALESCE, so the
 * order lines arrive in (and reading a line twice) does not matter. A queue id that shows up
 * again long after its row was last touched is a recycled short id: the old row is dropped.
 * Re-queueing inside this host (an amavis/content-filter hop, a local forward, a bounce) links
 * the two rows both ways, so attribution can walk back to the original submission.
 * SECURITY: record strings are already sanitised and capped (logline.h); they reach SQLite only
 * through bound parameters. Recipients per message are capped; retention pruning bounds the
 * rest. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "correlate/index.h"

struct cwd_entry {
        int64_t pid, time;
        char cwd[DT_LOG_TEXT_MAX];
        char args[DT_LOG_TEXT_MAX];
        bool used;
};

struct dt_index {
        sqlite3 *db;
        int php_window;
        sqlite3_stmt *find, *del_msg, *del_rcpt, *ins, *upd, *rcpt, *php;
        struct cwd_entry cwd[DT_INDEX_CWD_MAX];
        size_t cwd_next;
};

static const char schema[] =
        "CREATE TABLE IF NOT EXISTS log_msg ("
        " id INTEGER PRIMARY KEY, mta TEXT NOT NULL, queue_id TEXT NOT NULL,"
        " host TEXT, instance TEXT, message_id TEXT, uid INTEGER, user TEXT,"
        " client_host TEXT, client_ip TEXT, sasl_method TEXT, sasl_username TEXT,"
        " protocol TEXT, env_from TEXT, size INTEGER, nrcpt INTEGER, subject TEXT,"
        " cwd TEXT, args TEXT, next_queue_id TEXT, prev_queue_id TEXT,"
        " first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,"
        " UNIQUE(mta, queue_id));"
        "CREATE INDEX IF NOT EXISTS log_msg_message_id ON log_msg(message_id);"
        "CREATE INDEX IF NOT EXISTS log_msg_first_seen ON log_msg(first_seen);"
        "CREATE INDEX IF NOT EXISTS log_msg_last_seen ON log_msg(last_seen);"
        "CREATE TABLE IF NOT EXISTS log_rcpt ("
        " msg INTEGER NOT NULL, rcpt TEXT NOT NULL, status TEXT, relay TEXT,"
        " time INTEGER NOT NULL, UNIQUE(msg, rcpt));"
        "CREATE TABLE IF NOT EXISTS log_php ("
        " id INTEGER PRIMARY KEY, time INTEGER NOT NULL, host TEXT, script TEXT NOT NULL,"
        " line INTEGER, rcpt TEXT, to_raw TEXT, subject TEXT, from_hdr TEXT,"
        " UNIQUE(time, script, line, rcpt, subject));"
        "CREATE INDEX IF NOT EXISTS log_php_time ON log_php(time);";

static int dberr(struct dt_index *idx, struct dt_error *err, const char *what) {
        return dt_error_set(err, -EIO, DT_R_IO, -1, "%s: %s", what, sqlite3_errmsg(idx->db));
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
        sqlite3_finalize(idx->php);
        free(idx);
        return NULL;
}

/* dt_index_open - tables and statements */
int dt_index_open(sqlite3 *db, int php_window, struct dt_index **out, struct dt_error *err) {
        _cleanup_(dt_index_freep) struct dt_index *idx = NULL;
        const struct { sqlite3_stmt **s; const char *sql; } st[] = {
                { NULL, "SELECT id, last_seen FROM log_msg WHERE mta = ?1 AND queue_id = ?2" },
                { NULL, "DELETE FROM log_msg WHERE id = ?1" },
                { NULL, "DELETE FROM log_rcpt WHERE msg = ?1" },
                { NULL, "INSERT INTO log_msg(mta, queue_id, host, instance, first_seen, last_seen)"
                        " VALUES(?1, ?2, ?3, ?4, ?5, ?5)" },
                { NULL, "UPDATE log_msg SET message_id = coalesce(?2, message_id),"
                        " uid = coalesce(?3, uid), user = coalesce(?4, user),"
                        " client_host = coalesce(?5, client_host), client_ip = coalesce(?6, client_ip),"
                        " sasl_method = coalesce(?7, sasl_method),"
                        " sasl_username = coalesce(?8, sasl_username),"
                        " protocol = coalesce(?9, protocol), env_from = coalesce(?10, env_from),"
                        " size = coalesce(?11, size), nrcpt = coalesce(?12, nrcpt),"
                        " subject = coalesce(subject, ?13), cwd = coalesce(?14, cwd),"
                        " args = coalesce(?15, args), next_queue_id = coalesce(?16, next_queue_id),"
                        " prev_queue_id = coalesce(prev_queue_id, ?17),"
                        " first_seen = min(first_seen, ?18), last_seen = max(last_seen, ?18)"
                        " WHERE id = ?1" },
                { NULL, "INSERT INTO log_rcpt(msg, rcpt, status, relay, time)"
                        " SELECT ?1, ?2, ?3, ?4, ?5"
                        " WHERE (SELECT count(*) FROM log_rcpt WHERE msg = ?1) < ?6"
                        " ON CONFLICT(msg, rcpt) DO UPDATE SET status = excluded.status,"
                        " relay = excluded.relay, time = excluded.time" },
                { NULL, "INSERT OR IGNORE INTO log_php(time, host, script, line, rcpt, to_raw,"
                        " subject, from_hdr) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)" },
        };
        sqlite3_stmt **slots[ELEMENTSOF(st)];

        idx = calloc(1, sizeof *idx);
        if (!idx)
                return dt_error_set(err, -ENOMEM, DT_R_NOMEM, -1, "out of memory");
        idx->db = db;
        idx->php_window = php_window > 0 ? php_window : 5;
        slots[0] = &idx->find;
        slots[1] = &idx->del_msg;
        slots[2] = &idx->del_rcpt;
        slots[3] = &idx->ins;
        slots[4] = &idx->upd;
        slots[5] = &idx->rcpt;
        slots[6] = &idx->php;
        if (sqlite3_exec(db, schema, NULL, NULL, NULL) != SQLITE_OK)
                return dberr(idx, err, "cannot create log tables");
        for (size_t i = 0; i < ELEMENTSOF(st); i++)
                if (sqlite3_prepare_v3(db, st[i].sql, -1, SQLITE_PREPARE_PERSISTENT, slots[i],
                                       NULL) != SQLITE_OK)
                        return dberr(idx, err, "cannot prepare log statement");
        *out = TAKE_PTR(idx);
        return 0;
}

static void bind_text(sqlite3_stmt *s, int i, const char *v) {
        if (v && v[0])
                sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
        else
                sqlite3_bind_null(s, i);
}

static void bind_num(sqlite3_stmt *s, int i, int64_t v) {
        if (v >= 0)
                sqlite3_bind_int64(s, i, v);
        else
                sqlite3_bind_null(s, i);
}

static int step_done(sqlite3_stmt *s) {
        int r = sqlite3_step(s);

        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
        return r == SQLITE_DONE || r == SQLITE_ROW ? 0 : -EIO;
}

static const char *mta_name(enum dt_mta m) {
        return m == DT_MTA_EXIM ? "exim" : "postfix";
}

/* row - the row id for (mta instance, qid) at time t, created when missing or recycled */
static int row(struct dt_index *idx, const struct dt_logrec *rec, const char *qid, int64_t *id) {
        const char *inst = rec->instance[0] ? rec->instance : mta_name(rec->mta);
        int r;

        sqlite3_bind_text(idx->find, 1, inst, -1, SQLITE_STATIC);
        sqlite3_bind_text(idx->find, 2, qid, -1, SQLITE_STATIC);
        r = sqlite3_step(idx->find);
        if (r == SQLITE_ROW) {
                int64_t rid = sqlite3_column_int64(idx->find, 0);
                int64_t last = sqlite3_column_int64(idx->find, 1);

                sqlite3_reset(idx->find);
                sqlite3_clear_bindings(idx->find);
                if (rec->time - last <= DT_INDEX_REUSE_SECONDS) {
                        *id = rid;
                        return 0;
                }
                /* a recycled short queue id: the old message is long gone */
                sqlite3_bind_int64(idx->del_rcpt, 1, rid);
                sqlite3_bind_int64(idx->del_msg, 1, rid);
                if (step_done(idx->del_rcpt) < 0 || step_done(idx->del_msg) < 0)
                        return -EIO;
        } else {
                sqlite3_reset(idx->find);
                sqlite3_clear_bindings(idx->find);
                if (r != SQLITE_DONE)
                        return -EIO;
        }
        sqlite3_bind_text(idx->ins, 1, inst, -1, SQLITE_STATIC);
        sqlite3_bind_text(idx->ins, 2, qid, -1, SQLITE_STATIC);
        bind_text(idx->ins, 3, rec->host);
        bind_text(idx->ins, 4, rec->instance);
        sqlite3_bind_int64(idx->ins, 5, rec->time);
        if (step_done(idx->ins) < 0)
                return -EIO;
        *id = sqlite3_last_insert_rowid(idx->db);
        return 0;
}

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

/* dt_index_add - upsert one record */
int dt_index_add(struct dt_index *idx, const struct dt_logrec *rec, struct dt_error *err) {
        const struct cwd_entry *cw = NULL;
        sqlite3_stmt *u = idx->upd;
        int64_t id;

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
                memcpy(c->cwd, rec->script, sizeof c->cwd);
                memcpy(c->args, rec->args, sizeof c->args);
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
        if (row(idx, rec, rec->queue_id, &id) < 0)
                return dberr(idx, err, "cannot index log line");
        if (rec->kind == DT_LK_ARRIVAL && (rec->user[0] || strncmp(rec->protocol, "local", 5) == 0))
                cw = cwd_take(idx, rec);

        sqlite3_bind_int64(u, 1, id);
        bind_text(u, 2, rec->message_id);
        bind_num(u, 3, rec->uid);
        bind_text(u, 4, rec->user);
        bind_text(u, 5, rec->client_host);
        bind_text(u, 6, rec->client_ip);
        bind_text(u, 7, rec->sasl_method);
        bind_text(u, 8, rec->sasl_username);
        bind_text(u, 9, rec->protocol);
        if (rec->kind == DT_LK_QMGR || rec->kind == DT_LK_PICKUP || rec->kind == DT_LK_ARRIVAL)
                bind_text(u, 10, rec->from);
        bind_num(u, 11, rec->size);
        bind_num(u, 12, rec->nrcpt);
        bind_text(u, 13, rec->subject);
        if (cw) {
                bind_text(u, 14, cw->cwd);
                bind_text(u, 15, cw->args);
        }
        if (rec->kind == DT_LK_BOUNCE || (rec->kind == DT_LK_DELIVERY && rec->mta == DT_MTA_POSTFIX &&
                                          local_relay(rec)))
                bind_text(u, 16, rec->next_queue_id);
        sqlite3_bind_int64(u, 18, rec->time);
        if (step_done(u) < 0)
                return dberr(idx, err, "cannot index log line");

        if (rec->kind == DT_LK_DELIVERY && rec->to[0]) {
                sqlite3_stmt *s = idx->rcpt;
                char low[DT_LOG_TOKEN_MAX];
                size_t i;

                for (i = 0; rec->to[i] && i + 1 < sizeof low; i++)
                        low[i] = (char) ((rec->to[i] >= 'A' && rec->to[i] <= 'Z') ? rec->to[i] + 32
                                                                                 : rec->to[i]);
                low[i] = '\0';
                sqlite3_bind_int64(s, 1, id);
                sqlite3_bind_text(s, 2, low, -1, SQLITE_STATIC);
                bind_text(s, 3, rec->status);
                bind_text(s, 4, rec->relay);
                sqlite3_bind_int64(s, 5, rec->time);
                sqlite3_bind_int(s, 6, DT_INDEX_RCPT_MAX);
                if (step_done(s) < 0)
                        return dberr(idx, err, "cannot index recipient");
        }
        /* the row the message was re-queued as points back here */
        if ((rec->kind == DT_LK_BOUNCE || (rec->kind == DT_LK_DELIVERY && rec->mta == DT_MTA_POSTFIX &&
                                           local_relay(rec))) && rec->next_queue_id[0]) {
                int64_t nid;

                if (row(idx, rec, rec->next_queue_id, &nid) < 0)
                        return dberr(idx, err, "cannot index re-queued message");
                sqlite3_bind_int64(u, 1, nid);
                sqlite3_bind_text(u, 17, rec->queue_id, -1, SQLITE_STATIC);
                sqlite3_bind_int64(u, 18, rec->time);
                if (step_done(u) < 0)
                        return dberr(idx, err, "cannot index re-queued message");
        }
        return 0;
}

/* dt_index_prune - retention */
int dt_index_prune(struct dt_index *idx, int64_t before, uint64_t *n_deleted, struct dt_error *err) {
        static const char *const sql[] = {
                "DELETE FROM log_rcpt WHERE msg IN (SELECT id FROM log_msg WHERE last_seen < ?1)",
                "DELETE FROM log_msg WHERE last_seen < ?1",
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

int dt_index_begin(struct dt_index *idx) {
        return sqlite3_exec(idx->db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK ? 0 : -EIO;
}

int dt_index_commit(struct dt_index *idx) {
        return sqlite3_exec(idx->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK ? 0 : -EIO;
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
