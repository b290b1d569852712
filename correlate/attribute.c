/* attribute.c - follow a report's original headers through the log index to a local sender
 *
 * Message-ID (or local Received hop's queue id) -> log_msg row -> back through re-queues to the
 * submission -> PHP call at that time to that recipient. Each link followed sets one DT_EV_*
 * bit; the confidence comes from which links held. Nothing is inferred from one weak signal:
 * without an MTA entry, only the headers' own PHP/local-hop evidence gives a (weak) answer.
 * SECURITY: the headers come from a stranger's report; they are only used as lookup keys bound
 * into SQL, and compared, never trusted as a result above "weak". */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "correlate/attribute.h"
#include "correlate/usercache.h"

static const char *const ev_names[] = {
        "message-id", "received-queue-id", "requeue", "pickup-uid", "smtp-client", "sasl-login",
        "exim-user", "exim-cwd", "php-call", "php-subject", "php-header", "received-uid",
        "relayed",
};

const char *dt_confidence_name(enum dt_confidence c) {
        static const char *const n[] = { "weak", "strong", "exact" };
        return (unsigned) c < _DT_CONF_MAX ? n[c] : NULL;
}

const char *dt_sender_kind_name(enum dt_sender_kind k) {
        static const char *const n[] = { "uid", "sasl", "client" };
        return (unsigned) k < _DT_SENDER_MAX ? n[k] : NULL;
}

struct dt_attribution *dt_attribution_free(struct dt_attribution *a) {
        if (!a)
                return NULL;
        free(a->evidence_text);
        free(a->mta);
        free(a->queue_id);
        free(a->message_id);
        free(a->host);
        free(a->user);
        free(a->script_path);
        free(a->client_host);
        free(a->client_ip);
        free(a->sasl_username);
        free(a->sasl_method);
        free(a->env_from);
        free(a);
        return NULL;
}

/* dup - strdup of a possibly NULL string; *oom set on failure */
static char *dup(const char *s, bool *oom) {
        char *d;

        if (!s || !s[0])
                return NULL;
        d = strdup(s);
        if (!d)
                *oom = true;
        return d;
}

static char *col(sqlite3_stmt *s, int i, bool *oom) {
        return dup((const char *) sqlite3_column_text(s, i), oom);
}

/* user_of - the login name of uid, or NULL (usercache.h: NSS is asked once in a while) */
static char *user_of(int64_t uid, bool *oom) {
        char name[256];                 /* LOGIN_NAME_MAX */

        return dt_user_name(uid, name, sizeof name) ? dup(name, oom) : NULL;
}

static int64_t uid_of(const char *user) {
        struct passwd pw, *res = NULL;
        char buf[4096];

        if (!user || getpwnam_r(user, &pw, buf, sizeof buf, &res) != 0 || !res)
                return -1;
        return (int64_t) res->pw_uid;
}

static bool loopback(const char *ip) {
        return ip && (strncmp(ip, "127.", 4) == 0 || strcmp(ip, "::1") == 0);
}

static const char *base(const char *p) {
        const char *s = p ? strrchr(p, '/') : NULL;

        return s ? s + 1 : p;
}

#define MSG_COLS "id, mta, queue_id, host, message_id, uid, user, client_host, client_ip," \
                 " sasl_method, sasl_username, protocol, env_from, cwd, prev_queue_id, first_seen"

/* attribution's lookups: named once, so dt_correlate_prepare() compiles the very statements
 * the lookups fetch from the index's cache (keyed by the text's address) */
static const char SQL_BY_MESSAGE_ID[] =
        "SELECT " MSG_COLS " FROM log_msg WHERE message_id = ?1"
        " ORDER BY prev_queue_id IS NOT NULL, abs(first_seen - ?2), first_seen LIMIT 1";
static const char SQL_BY_QUEUE_ID[] =
        "SELECT " MSG_COLS " FROM log_msg WHERE queue_id = ?1 ORDER BY abs(first_seen - ?2) LIMIT 1";
static const char SQL_BY_KEY[] = "SELECT " MSG_COLS " FROM log_msg WHERE mta = ?1 AND queue_id = ?2";
static const char SQL_PHP_NEAR[] =
        "SELECT time, script, line, subject FROM log_php"
        " WHERE time BETWEEN ?1 - ?2 AND ?1 + ?2 AND (rcpt = ?3 OR rcpt IN"
        " (SELECT rcpt FROM log_rcpt WHERE msg = ?4))"
        " ORDER BY abs(time - ?1), id LIMIT 16";

int dt_correlate_prepare(struct dt_index *idx) {
        static const char *const all[] = { SQL_BY_MESSAGE_ID, SQL_BY_QUEUE_ID, SQL_BY_KEY,
                                           SQL_PHP_NEAR };

        for (size_t i = 0; i < ELEMENTSOF(all); i++)
                if (!dt_index_stmt(idx, all[i]))
                        return -EIO;
        dt_user_warm_up();              /* NSS's modules, loaded by the first lookup else */
        return 0;
}

/* fill_row - copy a log_msg row (MSG_COLS) into a; replaces earlier values */
static void fill_row(struct dt_attribution *a, sqlite3_stmt *s, int64_t *id, char **prev,
                     char **proto, char **cwd, bool *oom) {
        *id = sqlite3_column_int64(s, 0);
        free(a->mta);
        a->mta = col(s, 1, oom);
        free(a->queue_id);
        a->queue_id = col(s, 2, oom);
        free(a->host);
        a->host = col(s, 3, oom);
        if (!a->message_id)
                a->message_id = col(s, 4, oom);
        a->uid = sqlite3_column_type(s, 5) == SQLITE_NULL ? -1 : sqlite3_column_int64(s, 5);
        free(a->user);
        a->user = col(s, 6, oom);
        free(a->client_host);
        a->client_host = col(s, 7, oom);
        free(a->client_ip);
        a->client_ip = col(s, 8, oom);
        free(a->sasl_method);
        a->sasl_method = col(s, 9, oom);
        free(a->sasl_username);
        a->sasl_username = col(s, 10, oom);
        free(*proto);
        *proto = col(s, 11, oom);
        free(a->env_from);
        a->env_from = col(s, 12, oom);
        free(*cwd);
        *cwd = col(s, 13, oom);
        free(*prev);
        *prev = col(s, 14, oom);
        a->time = sqlite3_column_int64(s, 15);
}

/* find_row - the submission row for the headers; 1 found, 0 not, <0 error */
static int find_row(struct dt_index *idx, const struct dt_headers *h, int64_t hint, struct dt_attribution *a,
                    int64_t *id, char **prev, char **proto, char **cwd, bool *oom) {
        sqlite3_stmt *s = NULL;
        int r, found = 0;

        if (h->message_id && h->message_id[0]) {
                s = dt_index_stmt(idx, SQL_BY_MESSAGE_ID);
                if (!s)
                        return -EIO;
                sqlite3_bind_text(s, 1, h->message_id, -1, SQLITE_STATIC);
                sqlite3_bind_int64(s, 2, hint);
                r = sqlite3_step(s);
                if (r == SQLITE_ROW) {
                        fill_row(a, s, id, prev, proto, cwd, oom);
                        a->evidence |= DT_EV_MESSAGE_ID;
                        found = 1;
                }
                sqlite3_reset(s);         /* ends its read; the statement stays cached */
                if (r != SQLITE_ROW && r != SQLITE_DONE)
                        return -EIO;
        }
        if (!found && h->local.queue_id && h->local.queue_id[0]) {
                s = dt_index_stmt(idx, SQL_BY_QUEUE_ID);
                if (!s)
                        return -EIO;
                sqlite3_bind_text(s, 1, h->local.queue_id, -1, SQLITE_STATIC);
                sqlite3_bind_int64(s, 2, hint);
                r = sqlite3_step(s);
                if (r == SQLITE_ROW) {
                        fill_row(a, s, id, prev, proto, cwd, oom);
                        a->evidence |= DT_EV_RECEIVED_QUEUE_ID;
                        found = 1;
                }
                sqlite3_reset(s);
                if (r != SQLITE_ROW && r != SQLITE_DONE)
                        return -EIO;
        }
        /* back through re-queues (content filter, local forward) to the submission */
        for (int hop = 0; found && *prev && hop < 8; hop++) {
                s = dt_index_stmt(idx, SQL_BY_KEY);
                if (!s)
                        return -EIO;
                sqlite3_bind_text(s, 1, a->mta ? a->mta : "", -1, SQLITE_TRANSIENT);
                sqlite3_bind_text(s, 2, *prev, -1, SQLITE_TRANSIENT);
                r = sqlite3_step(s);
                if (r == SQLITE_ROW) {
                        fill_row(a, s, id, prev, proto, cwd, oom);
                        a->evidence |= DT_EV_REQUEUE;
                } else {
                        free(*prev);
                        *prev = NULL;
                }
                sqlite3_reset(s);
                if (r != SQLITE_ROW && r != SQLITE_DONE)
                        return -EIO;
        }
        return found;
}

/* php_match - the PHP call near t to one of the message's recipients; 1 found, 0 not, <0 */
static int php_match(struct dt_index *idx, int64_t msg_id, const struct dt_headers *h, int64_t t,
                     struct dt_attribution *a, bool *oom) {
        sqlite3_stmt *s = NULL;
        char to[DT_LOG_TOKEN_MAX] = "";
        const char *hdr_base = base(h->php_script);
        int r, found = 0;

        if (h->to)
                dt_log_first_addr(to, sizeof to, h->to, strlen(h->to));
        s = dt_index_stmt(idx, SQL_PHP_NEAR);
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, t);
        sqlite3_bind_int(s, 2, dt_index_php_window(idx));
        sqlite3_bind_text(s, 3, to, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 4, msg_id);
        while ((r = sqlite3_step(s)) == SQLITE_ROW) {
                const char *script = (const char *) sqlite3_column_text(s, 1);
                const char *subj = (const char *) sqlite3_column_text(s, 3);
                bool subj_ok = false;

                if (subj && subj[0] && h->subject && h->subject[0]) {
                        if (strcmp(subj, h->subject) != 0)
                                continue;       /* another message at the same second */
                        subj_ok = true;
                }
                if (hdr_base && hdr_base[0] && script && strcmp(base(script), hdr_base) != 0)
                        continue;
                a->php_time = sqlite3_column_int64(s, 0);
                free(a->script_path);
                a->script_path = dup(script, oom);
                a->script_line = sqlite3_column_type(s, 2) == SQLITE_NULL
                                         ? -1 : sqlite3_column_int64(s, 2);
                a->evidence |= DT_EV_PHP_CALL | (subj_ok ? DT_EV_PHP_SUBJECT : 0);
                if (hdr_base && hdr_base[0])
                        a->evidence |= DT_EV_PHP_HEADER;
                found = 1;
                break;
        }
        sqlite3_reset(s);
        if (r != SQLITE_ROW && r != SQLITE_DONE)
                return -EIO;
        return found;
}

static int evidence_text(struct dt_attribution *a) {
        char buf[512];
        size_t o = 0;

        buf[0] = '\0';
        for (size_t i = 0; i < ELEMENTSOF(ev_names); i++)
                if (a->evidence & (1u << i)) {
                        int n = snprintf(buf + o, sizeof buf - o, "%s%s", o ? "," : "",
                                         ev_names[i]);

                        if (n < 0 || (size_t) n >= sizeof buf - o)
                                break;
                        o += (size_t) n;
                }
        a->evidence_text = strdup(buf);
        return a->evidence_text ? 0 : -ENOMEM;
}

/* dt_correlate_message - follow the links */
int dt_correlate_message(struct dt_index *idx, const struct dt_headers *h, int64_t hint,
                         struct dt_attribution **out) {
        _cleanup_(dt_attribution_freep) struct dt_attribution *a = NULL;
        _cleanup_free_ char *prev = NULL, *proto = NULL, *cwd = NULL;
        bool oom = false, local = false;
        int64_t id = -1;
        int r;

        a = calloc(1, sizeof *a);
        if (!a)
                return -ENOMEM;
        a->uid = a->script_line = -1;
        if (!hint && h->has_date)
                hint = h->date;

        r = find_row(idx, h, hint, a, &id, &prev, &proto, &cwd, &oom);
        if (r < 0)
                return r;
        if (r > 0) {
                a->confidence = DT_CONF_STRONG;
                if (a->uid >= 0) {
                        a->evidence |= DT_EV_PICKUP_UID;
                        local = true;
                        if (!a->user)
                                a->user = user_of(a->uid, &oom);
                } else if (a->user && proto && strncmp(proto, "local", 5) == 0) {
                        a->evidence |= DT_EV_EXIM_USER;
                        a->uid = uid_of(a->user);
                        local = true;
                }
                if (a->sasl_username)
                        a->evidence |= DT_EV_SASL_LOGIN;
                if (a->client_ip && !loopback(a->client_ip)) {
                        a->evidence |= DT_EV_SMTP_CLIENT;
                        if (!a->sasl_username && !local) {
                                /* reached us from another host: name that host */
                                a->relayed = true;
                                a->evidence |= DT_EV_RELAYED;
                                free(a->host);
                                a->host = dup(a->client_host && strcmp(a->client_host, "unknown")
                                                      ? a->client_host : a->client_ip, &oom);
                        }
                }
                if (local) {
                        r = php_match(idx, id, h, a->time, a, &oom);
                        if (r < 0)
                                return r;
                        if (r > 0)
                                a->confidence = DT_CONF_EXACT;
                }
                if (!a->script_path && cwd) {
                        a->script_path = dup(cwd, &oom);
                        a->evidence |= DT_EV_EXIM_CWD;
                }
                if (!(a->evidence & DT_EV_PHP_CALL) && h->php_script && !a->relayed) {
                        free(a->script_path);
                        a->script_path = dup(h->php_script, &oom);
                        a->evidence |= DT_EV_PHP_HEADER;
                }
        } else {
                /* headers alone */
                if (h->php_script) {
                        a->script_path = dup(h->php_script, &oom);
                        a->uid = h->php_uid;
                        a->evidence |= DT_EV_PHP_HEADER;
                }
                if (h->local.mta == DT_LOCAL_POSTFIX || h->local.mta == DT_LOCAL_EXIM) {
                        a->mta = dup(dt_headers_local_mta_name(h->local.mta), &oom);
                        a->queue_id = dup(h->local.queue_id, &oom);
                        a->host = dup(h->local.host, &oom);
                        if (h->local.uid >= 0) {
                                a->uid = h->local.uid;
                                a->evidence |= DT_EV_RECEIVED_UID;
                        }
                        if (h->local.user)
                                a->user = dup(h->local.user, &oom);
                }
                if (!a->evidence) {
                        *out = NULL;
                        return 0;
                }
                a->message_id = dup(h->message_id, &oom);
                if (!a->user)
                        a->user = user_of(a->uid, &oom);
                a->confidence = DT_CONF_WEAK;
        }
        if (oom || evidence_text(a) < 0)
                return -ENOMEM;
        *out = TAKE_PTR(a);
        return 0;
}

/* ---- the window ---- */

struct agg {
        enum dt_sender_kind kind;
        int64_t uid;
        char key[DT_LOG_TOKEN_MAX];     /* user (uid unknown), sasl login or client ip */
        char script[DT_LOG_TEXT_MAX];
        uint64_t count;
};

struct aggset {
        struct agg *v;
        size_t n, cap;
        uint64_t total;
};

#define AGG_KEYS_MAX 4096       /* distinct senders tracked per window; more are counted in total */

static struct agg *agg_get(struct aggset *s, const struct agg *k) {
        for (size_t i = 0; i < s->n; i++)
                if (s->v[i].kind == k->kind && s->v[i].uid == k->uid &&
                    strcmp(s->v[i].key, k->key) == 0 && strcmp(s->v[i].script, k->script) == 0)
                        return &s->v[i];
        if (s->n == AGG_KEYS_MAX)
                return NULL;
        if (s->n == s->cap) {
                size_t nc = s->cap ? s->cap * 2 : 32;
                struct agg *nv = reallocarray(s->v, nc, sizeof *nv);

                if (!nv)
                        return NULL;
                s->v = nv;
                s->cap = nc;
        }
        s->v[s->n] = *k;
        s->v[s->n].count = 0;
        return &s->v[s->n++];
}

/* aggregate - count senders of messages first seen in [from, to) */
static int aggregate(struct dt_index *idx, int64_t from, int64_t to, struct aggset *set) {
        sqlite3 *db = dt_index_db(idx);
        sqlite3_stmt *s = NULL, *p = NULL;
        int r;

        r = sqlite3_prepare_v2(db,
                "SELECT m.id, m.uid, m.user, m.protocol, m.sasl_username, m.client_ip, m.first_seen,"
                " EXISTS(SELECT 1 FROM log_rcpt r WHERE r.msg = m.id AND r.relay IS NOT NULL"
                "  AND r.relay NOT IN ('local', 'virtual', 'dovecot', 'none')"
                "  AND r.relay NOT LIKE '127.%' AND r.relay NOT LIKE 'localhost%'"
                "  AND r.relay NOT LIKE '%[127.%')"
                " FROM log_msg m WHERE m.first_seen >= ?1 AND m.first_seen < ?2"
                " AND m.prev_queue_id IS NULL", -1, &s, NULL);
        if (r != SQLITE_OK)
                return -EIO;
        r = sqlite3_prepare_v2(db,
                "SELECT script FROM log_php WHERE time BETWEEN ?1 - ?2 AND ?1 + ?2"
                " AND rcpt IN (SELECT rcpt FROM log_rcpt WHERE msg = ?3)"
                " ORDER BY abs(time - ?1) LIMIT 1", -1, &p, NULL);
        if (r != SQLITE_OK) {
                sqlite3_finalize(s);
                return -EIO;
        }
        sqlite3_bind_int64(s, 1, from);
        sqlite3_bind_int64(s, 2, to);
        while ((r = sqlite3_step(s)) == SQLITE_ROW) {
                struct agg k = { .uid = -1 };
                const char *user = (const char *) sqlite3_column_text(s, 2);
                const char *proto = (const char *) sqlite3_column_text(s, 3);
                const char *sasl = (const char *) sqlite3_column_text(s, 4);
                const char *ip = (const char *) sqlite3_column_text(s, 5);
                struct agg *e;

                set->total++;
                if (sqlite3_column_type(s, 1) != SQLITE_NULL ||
                    (user && proto && strncmp(proto, "local", 5) == 0)) {
                        k.kind = DT_SENDER_UID;
                        if (sqlite3_column_type(s, 1) != SQLITE_NULL)
                                k.uid = sqlite3_column_int64(s, 1);
                        else
                                snprintf(k.key, sizeof k.key, "%s", user);
                        sqlite3_bind_int64(p, 1, sqlite3_column_int64(s, 6));
                        sqlite3_bind_int(p, 2, dt_index_php_window(idx));
                        sqlite3_bind_int64(p, 3, sqlite3_column_int64(s, 0));
                        if (sqlite3_step(p) == SQLITE_ROW && sqlite3_column_text(p, 0))
                                snprintf(k.script, sizeof k.script, "%s",
                                         (const char *) sqlite3_column_text(p, 0));
                        sqlite3_reset(p);
                } else if (sasl) {
                        k.kind = DT_SENDER_SASL;
                        snprintf(k.key, sizeof k.key, "%s", sasl);
                } else if (ip && sqlite3_column_int(s, 7)) {
                        k.kind = DT_SENDER_CLIENT;     /* relayed outwards for another host */
                        snprintf(k.key, sizeof k.key, "%s", ip);
                } else
                        continue;                       /* inbound mail: not a local sender */
                e = agg_get(set, &k);
                if (e)
                        e->count++;
        }
        sqlite3_finalize(s);
        sqlite3_finalize(p);
        return r == SQLITE_DONE ? 0 : -EIO;
}

static int cmp_count(const void *x, const void *y) {
        const struct agg *a = x, *b = y;

        return a->count < b->count ? 1 : a->count > b->count ? -1 : 0;
}

static int cmp_u64(const void *x, const void *y) {
        uint64_t a = *(const uint64_t *) x, b = *(const uint64_t *) y;

        return a < b ? -1 : a > b;
}

struct dt_top_senders *dt_top_senders_free(struct dt_top_senders *t) {
        if (!t)
                return NULL;
        for (size_t i = 0; i < t->n; i++) {
                free(t->v[i].user);
                free(t->v[i].script);
                free(t->v[i].sasl_username);
                free(t->v[i].client);
        }
        free(t->v);
        free(t);
        return NULL;
}

/* dt_correlate_window - top senders with their usual counts */
int dt_correlate_window(struct dt_index *idx, int64_t from, int64_t to,
                        struct dt_top_senders **out) {
        _cleanup_(dt_top_senders_freep) struct dt_top_senders *t = NULL;
        struct aggset cur = {0};
        uint64_t hist[DT_TOP_SENDERS_MAX][DT_TOP_BASELINE_DAYS];
        unsigned days = 0;
        bool oom = false;
        size_t n;
        int r;

        r = aggregate(idx, from, to, &cur);
        if (r < 0)
                goto out;
        qsort(cur.v, cur.n, sizeof *cur.v, cmp_count);
        n = cur.n < DT_TOP_SENDERS_MAX ? cur.n : DT_TOP_SENDERS_MAX;
        for (int d = 1; d <= DT_TOP_BASELINE_DAYS; d++) {
                struct aggset past = {0};

                r = aggregate(idx, from - d * 86400, to - d * 86400, &past);
                if (r < 0) {
                        free(past.v);
                        goto out;
                }
                if (past.total > 0) {
                        /* a day the index knows about; days before it started do not count */
                        for (size_t i = 0; i < n; i++) {
                                struct agg *e = NULL;

                                for (size_t j = 0; j < past.n && !e; j++)
                                        if (past.v[j].kind == cur.v[i].kind &&
                                            past.v[j].uid == cur.v[i].uid &&
                                            !strcmp(past.v[j].key, cur.v[i].key) &&
                                            !strcmp(past.v[j].script, cur.v[i].script))
                                                e = &past.v[j];
                                hist[i][days] = e ? e->count : 0;
                        }
                        days++;
                }
                free(past.v);
        }
        r = -ENOMEM;
        t = calloc(1, sizeof *t);
        if (!t || (n > 0 && !(t->v = calloc(n, sizeof *t->v))))
                goto out;
        t->from = from;
        t->to = to;
        for (size_t i = 0; i < n; i++) {
                struct dt_top_sender *o = &t->v[t->n++];
                const struct agg *e = &cur.v[i];

                o->kind = e->kind;
                o->uid = e->uid;
                o->count = e->count;
                o->days = days;
                if (days > 0) {
                        qsort(hist[i], days, sizeof hist[i][0], cmp_u64);
                        o->usual = days % 2 ? (double) hist[i][days / 2]
                                            : (hist[i][days / 2 - 1] + hist[i][days / 2]) / 2.0;
                }
                o->script = dup(e->script, &oom);
                if (e->kind == DT_SENDER_UID)
                        o->user = e->uid >= 0 ? user_of(e->uid, &oom) : dup(e->key, &oom);
                else if (e->kind == DT_SENDER_SASL)
                        o->sasl_username = dup(e->key, &oom);
                else
                        o->client = dup(e->key, &oom);
        }
        if (oom)
                goto out;
        *out = TAKE_PTR(t);
        r = 0;
out:
        free(cur.v);
        return r;
}

/* dt_top_sender_unusual - well above its own usual */
bool dt_top_sender_unusual(const struct dt_top_sender *s, double factor, uint64_t min_messages) {
        double u = s->usual > 1.0 ? s->usual : 1.0;

        return s->count >= min_messages && (double) s->count > factor * u;
}
