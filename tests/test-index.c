/* test-index.c - the log index and attribution, on the generated scenario and the real log */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "agent/logs.h"
#include "agent/store.h"
#include "correlate/attribute.h"
#include "correlate/index.h"
#include "correlate/logfile.h"
#include "report/failure.h"
#include "report/mime.h"
#include "tests/genlogs.h"
#include "tests/testutil.h"

static char dir[] = "/tmp/dt-index-XXXXXX";

/* load - feed a whole log through the classifier into the index; returns records added */
static uint64_t load(struct dt_index *idx, const char *path, enum dt_logsrc src, int64_t now) {
        _cleanup_(dt_logfile_freep) struct dt_logfile *lf = NULL;
        struct dt_error err = {0};
        struct dt_logrec rec;
        uint64_t n = 0;
        const char *l;
        size_t len;

        ck_assert_int_eq(dt_logfile_open(path, NULL, 0, DT_LOGFILE_ONESHOT, &dt_limits_default,
                                         &lf, &err), 0);
        ck_assert_int_eq(dt_index_begin(idx), 0);
        while (dt_logfile_next(lf, &l, &len) == 1)
                if (dt_logline_parse(l, len, src, now, &dt_limits_default, &rec, NULL) ==
                    DT_LC_RECORD) {
                        ck_assert_int_eq(dt_index_add(idx, &rec, &err), 0);
                        n++;
                }
        ck_assert_int_eq(dt_index_commit(idx), 0);
        return n;
}

static int64_t count(sqlite3 *db, const char *sql) {
        sqlite3_stmt *s = NULL;
        int64_t v;

        ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
        ck_assert_int_eq(sqlite3_step(s), SQLITE_ROW);
        v = sqlite3_column_int64(s, 0);
        sqlite3_finalize(s);
        return v;
}

/* slurp - a whole file by absolute path (dt_test_load wants a fixture name) */
static char *slurp(const char *p, size_t *n) {
        FILE *f = fopen(p, "re");
        char *b = malloc(1u << 20);

        ck_assert_ptr_nonnull(f);
        ck_assert_ptr_nonnull(b);
        *n = fread(b, 1, (1u << 20) - 1, f);
        b[*n] = '\0';
        fclose(f);
        return b;
}

static sqlite3 *db;
static struct dt_index *idx;

static void scenario(void) {
        char p[256];
        struct dt_error err = {0};
        const int64_t now = DT_GEN_DAY0 + 86400;

        ck_assert_int_eq(sqlite3_open(":memory:", &db), SQLITE_OK);
        ck_assert_int_eq(dt_index_open(db, 5, &idx, &err), 0);
        snprintf(p, sizeof p, "%s/mail.log", dir);
        ck_assert_uint_eq(load(idx, p, DT_SRC_SYSLOG, now), 11268);
        snprintf(p, sizeof p, "%s/php/mail.log", dir);
        ck_assert_uint_eq(load(idx, p, DT_SRC_PHP, now), 2101);
        snprintf(p, sizeof p, "%s/exim/mainlog", dir);
        ck_assert_uint_eq(load(idx, p, DT_SRC_EXIM, now), 7);
}

static void teardown_scenario(void) {
        idx = dt_index_free(idx);
        sqlite3_close(db);
        db = NULL;
}

static void str_eq_or_null(const char *got, const char *want, const char *what, const char *rep) {
        if (!want)
                ck_assert_msg(got == NULL, "%s: %s: got '%s'", rep, what, got);
        else
                ck_assert_msg(got && strcmp(got, want) == 0, "%s: %s: got '%s' want '%s'", rep, what,
                              got ? got : "(null)", want);
}

START_TEST(index_rows)
{
        /* origin rows: 15 days of newsletter, the attack, contact form, SASL, relayed, inbound,
         * exim x2; plus the 150 amavis re-injections */
        ck_assert_int_eq(count(db, "SELECT count(*) FROM log_msg"),
                         (DT_GEN_DAYS + 1) * DT_GEN_LEGIT + DT_GEN_ATTACK + 4 + 2 + 150);
        ck_assert_int_eq(count(db, "SELECT count(*) FROM log_msg WHERE prev_queue_id IS NOT NULL"), 150);
        ck_assert_int_eq(count(db, "SELECT count(*) FROM log_msg WHERE queue_id = '4F3A1D0008'"
                                   " AND prev_queue_id = '4F3A1C0008'"), 1);
        ck_assert_int_eq(count(db, "SELECT count(*) FROM log_msg WHERE queue_id = '4F3A1C0008'"
                                   " AND next_queue_id = '4F3A1D0008' AND uid = 33"), 1);
        ck_assert_int_eq(count(db, "SELECT count(*) FROM log_php"), 2101);
        ck_assert_int_eq(count(db, "SELECT count(*) FROM log_msg WHERE mta = 'exim' AND"
                                   " cwd = '/var/www/blog' AND user = 'bloguser'"), 1);
        ck_assert_int_eq(count(db, "SELECT count(*) FROM log_rcpt r JOIN log_msg m ON m.id = r.msg"
                                   " WHERE m.queue_id = '4B00000001' AND r.rcpt = 'bob@example.org'"
                                   " AND r.status = 'sent'"), 1);
        /* the same lines again change nothing */
        {
                char p[256];

                snprintf(p, sizeof p, "%s/mail.log", dir);
                (void) load(idx, p, DT_SRC_SYSLOG, DT_GEN_DAY0 + 86400);
                snprintf(p, sizeof p, "%s/php/mail.log", dir);
                (void) load(idx, p, DT_SRC_PHP, DT_GEN_DAY0 + 86400);
        }
        ck_assert_int_eq(count(db, "SELECT count(*) FROM log_msg"),
                         (DT_GEN_DAYS + 1) * DT_GEN_LEGIT + DT_GEN_ATTACK + 4 + 2 + 150);
        ck_assert_int_eq(count(db, "SELECT count(*) FROM log_php"), 2101);
        ck_assert_int_eq(count(db, "SELECT count(*) FROM log_rcpt"),
                         count(db, "SELECT count(*) FROM log_msg"));     /* one each */
}
END_TEST

/* text - one text value (the caller frees it) */
static char *text(sqlite3 *d, const char *sql) {
        sqlite3_stmt *s = NULL;
        char *v;

        ck_assert_int_eq(sqlite3_prepare_v2(d, sql, -1, &s, NULL), SQLITE_OK);
        ck_assert_int_eq(sqlite3_step(s), SQLITE_ROW);
        v = strdup(sqlite3_column_text(s, 0) ? (const char *) sqlite3_column_text(s, 0) : "");
        ck_assert_ptr_nonnull(v);
        sqlite3_finalize(s);
        return v;
}

/* The agent's reader (agent/logs.c), in chunks of 3,000 lines here so that each catch-up call
 * resumes at its saved cursor where the last stopped: the rows must be exactly those of the
 * line-by-line load above. */
START_TEST(logs_catch_up_equals_line_by_line)
{
        static const char *const digest[] = {
                "SELECT count(*) || ':' || group_concat(x, ';') FROM (SELECT mta || ' ' || queue_id"
                " || ' ' || coalesce(message_id, '') || ' ' || coalesce(uid, '') || ' ' ||"
                " coalesce(user, '') || ' ' || coalesce(client_ip, '') || ' ' ||"
                " coalesce(sasl_username, '') || ' ' || coalesce(env_from, '') || ' ' ||"
                " coalesce(subject, '') || ' ' || coalesce(next_queue_id, '') || ' ' ||"
                " coalesce(prev_queue_id, '') || ' ' || first_seen || ' ' || last_seen AS x"
                " FROM log_msg WHERE mta <> 'exim' ORDER BY mta, queue_id, first_seen)",
                "SELECT count(*) || ':' || group_concat(x, ';') FROM (SELECT m.queue_id || ' ' ||"
                " r.rcpt || ' ' || coalesce(r.status, '') || ' ' || coalesce(r.relay, '') AS x"
                " FROM log_rcpt r JOIN log_msg m ON m.id = r.msg WHERE m.mta <> 'exim'"
                " ORDER BY m.queue_id, m.first_seen, r.rcpt)",
                "SELECT count(*) || ':' || group_concat(x, ';') FROM (SELECT time || ' ' ||"
                " coalesce(host, '') || ' ' || script || ' ' || coalesce(line, '') || ' ' ||"
                " coalesce(rcpt, '') || ' ' || coalesce(subject, '') AS x FROM log_php"
                " ORDER BY time, id)",
        };
        char state[300], mail[300], php[300];
        char *postfix_list[] = { mail }, *php_list[] = { php };
        struct dt_config cfg = {
                .logs_postfix = postfix_list, .n_logs_postfix = 1,
                .logs_php_mail = php_list, .n_logs_php_mail = 1,
                .retention_days = 36500, .php_window_seconds = 5,
                .limits = dt_limits_default,
        };
        struct dt_store *store = NULL;
        struct dt_index *idx2 = NULL;
        struct dt_logs *logs = NULL;
        struct dt_error err = {0};
        int r, calls = 0;

        snprintf(state, sizeof state, "%s/ahead-state", dir);
        snprintf(mail, sizeof mail, "%s/mail.log", dir);
        snprintf(php, sizeof php, "%s/php/mail.log", dir);
        cfg.state_dir = state;
        ck_assert_int_eq(mkdir(state, 0700), 0);
        ck_assert_int_eq(dt_store_open(state, &store, &err), 0);
        ck_assert_int_eq(dt_index_open(dt_store_db(store), 5, &idx2, &err), 0);
        ck_assert_int_eq(dt_logs_open(&cfg, store, idx2, true, &logs), 0);
        while ((r = dt_logs_catch_up(logs, 3000)) == 1)
                calls++;
        ck_assert_int_eq(r, 0);
        ck_assert_int_ge(calls, 4);
        ck_assert_uint_eq(dt_logs_stats(logs)->records, 11268 + 2101);
        ck_assert_uint_eq(dt_logs_stats(logs)->lines,
                          dt_logs_stats(logs)->records + dt_logs_stats(logs)->skipped);
        for (size_t i = 0; i < ELEMENTSOF(digest); i++) {
                char *want = text(db, digest[i]), *got = text(dt_store_db(store), digest[i]);

                ck_assert_msg(strcmp(want, got) == 0, "digest %zu: %.60s vs %.60s", i, want, got);
                free(want);
                free(got);
        }
        dt_logs_free(logs);
        dt_index_free(idx2);
        dt_store_free(store);
}
END_TEST

START_TEST(attribution_scenarios)
{
        char uname33[64] = "";
        struct passwd *pw = getpwuid(33);

        if (pw)
                snprintf(uname33, sizeof uname33, "%s", pw->pw_name);
        for (unsigned i = 0; i < dt_gen_n_expected; i++) {
                const struct dt_gen_expect *e = &dt_gen_expected[i];
                _cleanup_(dt_message_freep) struct dt_message *m = NULL;
                _cleanup_(dt_failure_freep) struct dt_failure *f = NULL;
                _cleanup_(dt_attribution_freep) struct dt_attribution *a = NULL;
                struct dt_error err = {0};
                char p[256];
                size_t n;
                char *buf;

                snprintf(p, sizeof p, "%s/reports/%s", dir, e->report);
                buf = slurp(p, &n);
                ck_assert_int_eq(dt_mime_parse(buf, n, &dt_limits_default, &m, &err), 0);
                free(buf);
                ck_assert_int_eq(dt_failure_parse(m, &dt_limits_default, &f, &err), 0);
                ck_assert_ptr_nonnull(f->original);
                ck_assert_int_eq(dt_correlate_message(idx, f->original,
                                                      f->has_arrival_date ? f->arrival_date : 0, &a), 0);
                if (!e->attributed) {
                        ck_assert_msg(a == NULL, "%s: attributed", e->report);
                        continue;
                }
                ck_assert_msg(a != NULL, "%s: not attributed", e->report);
                ck_assert_str_eq(dt_confidence_name(a->confidence), e->confidence);
                str_eq_or_null(a->evidence_text, e->evidence, "evidence", e->report);
                str_eq_or_null(a->mta, e->mta, "mta", e->report);
                str_eq_or_null(a->queue_id, e->queue_id, "queue id", e->report);
                str_eq_or_null(a->message_id, e->message_id, "message id", e->report);
                ck_assert_msg(a->uid == e->uid, "%s: uid %lld", e->report, (long long) a->uid);
                if (e->user)
                        str_eq_or_null(a->user, e->user, "user", e->report);
                else if (e->uid == 33 && uname33[0])
                        str_eq_or_null(a->user, uname33, "user", e->report);
                str_eq_or_null(a->script_path, e->script, "script", e->report);
                ck_assert_int_eq(a->script_line, e->line);
                str_eq_or_null(a->host, e->host && e->host[0] ? e->host : NULL, "host", e->report);
                ck_assert_int_eq(a->relayed, e->relayed);
                str_eq_or_null(a->client_ip, e->client_ip, "client ip", e->report);
                str_eq_or_null(a->sasl_username, e->sasl, "sasl", e->report);
                if (e->confidence[0] == 'e')
                        ck_assert_int_ne(a->php_time, 0);
        }
}
END_TEST

START_TEST(window_top_senders)
{
        _cleanup_(dt_top_senders_freep) struct dt_top_senders *t = NULL;
        const int64_t from = DT_GEN_DAY0 + 36000, to = DT_GEN_DAY0 + 39600;

        ck_assert_int_eq(dt_correlate_window(idx, from, to, &t), 0);
        ck_assert_uint_eq(t->n, 2);
        /* the compromised script: far above its usual (nothing) */
        ck_assert_int_eq(t->v[0].kind, DT_SENDER_UID);
        ck_assert_int_eq(t->v[0].uid, 33);
        ck_assert_str_eq(t->v[0].script, "/var/www/site/wp-content/uploads/x.php");
        ck_assert_uint_eq(t->v[0].count, DT_GEN_ATTACK);
        ck_assert(t->v[0].usual == 0.0);
        ck_assert_uint_eq(t->v[0].days, DT_GEN_DAYS);
        ck_assert(dt_top_sender_unusual(&t->v[0], 10.0, 50));
        /* the busy legitimate newsletter: busy, but as usual */
        ck_assert_int_eq(t->v[1].uid, 1001);
        ck_assert_str_eq(t->v[1].script, "/var/www/shop/cron/newsletter.php");
        ck_assert_uint_eq(t->v[1].count, DT_GEN_LEGIT);
        ck_assert(t->v[1].usual == DT_GEN_LEGIT);
        ck_assert(!dt_top_sender_unusual(&t->v[1], 10.0, 50));
        t = dt_top_senders_free(t);

        /* the afternoon: the SASL user and the relaying host, each once */
        ck_assert_int_eq(dt_correlate_window(idx, DT_GEN_DAY0 + 39601, DT_GEN_DAY0 + 43200, &t), 0);
        ck_assert_uint_eq(t->n, 2);
        for (size_t i = 0; i < t->n; i++) {
                ck_assert_uint_eq(t->v[i].count, 1);
                if (t->v[i].kind == DT_SENDER_SASL)
                        ck_assert_str_eq(t->v[i].sasl_username, "alice@example.com");
                else {
                        ck_assert_int_eq(t->v[i].kind, DT_SENDER_CLIENT);
                        ck_assert_str_eq(t->v[i].client, "10.0.0.5");
                }
        }
}
END_TEST

START_TEST(retention_prune)
{
        struct dt_error err = {0};
        uint64_t n = 0;

        ck_assert_int_eq(dt_index_prune(idx, DT_GEN_DAY0 - 7 * 86400 + 1, &n, &err), 0);
        /* days -14..-8 of the newsletter: 7 days x (120 messages + 120 recipients + 120 calls) */
        ck_assert_uint_eq(n, 7u * 3u * DT_GEN_LEGIT);
        ck_assert_int_eq(count(db, "SELECT count(*) FROM log_msg WHERE uid = 1001"), 8 * DT_GEN_LEGIT);
}
END_TEST

START_TEST(pixelpark_index)
{
        struct dt_error err = {0};
        gzFile gz = gzopen(dt_test_path("corpus/logs/postfix/pixelpark_mail.log.gz"), "rb");
        char tmp[] = "/tmp/dt-pixelpark-XXXXXX";
        int fd = mkstemp(tmp);
        char buf[65536];
        int k;

        ck_assert_ptr_nonnull(gz);
        ck_assert_int_ge(fd, 0);
        while ((k = gzread(gz, buf, sizeof buf)) > 0)
                ck_assert_int_eq(write(fd, buf, (size_t) k), k);
        gzclose(gz);
        close(fd);
        ck_assert_int_eq(sqlite3_open(":memory:", &db), SQLITE_OK);
        ck_assert_int_eq(dt_index_open(db, 5, &idx, &err), 0);
        ck_assert_uint_eq(load(idx, tmp, DT_SRC_AUTO, 1679000000), 1823);
        unlink(tmp);
        ck_assert_int_eq(count(db, "SELECT count(DISTINCT queue_id) FROM log_msg"
                                   " WHERE message_id IS NOT NULL"), 364);
        /* 180 content-filter re-queues ("queued as"; a 181st was discarded by amavis), 3 local
         * "forwarded as", 1 bounce */
        ck_assert_int_eq(count(db, "SELECT count(*) FROM log_rcpt WHERE relay LIKE '127.0.0.1[%'"), 181);
        ck_assert_int_eq(count(db, "SELECT count(*) FROM log_msg WHERE prev_queue_id IS NOT NULL"),
                         184);
        ck_assert_int_eq(count(db, "SELECT count(*) FROM log_msg WHERE queue_id = '4PcV4K5tFpz3tG5'"
                                   " AND prev_queue_id = '4PcV4K5FPLz3tBr'"), 1);
        ck_assert_int_eq(count(db, "SELECT count(*) FROM log_msg WHERE queue_id = '4PbC4z6W5Qz3tG3'"
                                   " AND prev_queue_id = '4PbC4x469Jz3tBr'"), 1);
        ck_assert_int_eq(count(db, "SELECT count(*) FROM log_msg WHERE uid IS NOT NULL"), 6);
        ck_assert_int_eq(count(db, "SELECT count(*) FROM log_msg WHERE sasl_username ="
                                   " 'vmail@uhu-banane.net'"),
                         count(db, "SELECT count(*) FROM log_msg WHERE sasl_method IS NOT NULL"));
        teardown_scenario();
}
END_TEST

/* add_line - one Postfix line (RFC 3339 stamp) into the index */
static void add_line(struct dt_index *ix, const char *line) {
        struct dt_error err = {0};
        struct dt_logrec rec;

        ck_assert_int_eq(dt_logline_parse(line, strlen(line), DT_SRC_SYSLOG, DT_GEN_DAY0,
                                          &dt_limits_default, &rec, NULL), DT_LC_RECORD);
        ck_assert_int_eq(dt_index_add(ix, &rec, &err), 0);
}

/* the in-memory merge: a table that fills mid-transaction, a message with more recipients than
 * it holds per message, a queue id recycled while pending, a discarded batch */
START_TEST(pending_merge)
{
        struct dt_error err = {0};
        char line[512];

        ck_assert_int_eq(sqlite3_open(":memory:", &db), SQLITE_OK);
        ck_assert_int_eq(dt_index_open(db, 5, &idx, &err), 0);
        ck_assert_int_eq(dt_index_begin(idx), 0);
        add_line(idx, "2026-03-09T10:00:00Z web1 postfix/pickup[1]: 4AAAA00001: uid=33 from=<a@b.example>");
        /* more messages than the table holds, each with a recipient, between that message's lines */
        for (unsigned i = 0; i < DT_INDEX_PENDING_MAX + 44; i++) {
                snprintf(line, sizeof line, "2026-03-09T10:00:01Z web1 postfix/cleanup[2]: 4BBB%06X:"
                         " message-id=<m%u@b.example>", i, i);
                add_line(idx, line);
                snprintf(line, sizeof line, "2026-03-09T10:00:02Z web1 postfix/smtp[3]: 4BBB%06X:"
                         " to=<r%u@c.example>, relay=mx.c.example[192.0.2.1]:25, status=sent (ok)", i, i);
                add_line(idx, line);
                if (i % 30 == 0) {
                        snprintf(line, sizeof line, "2026-03-09T10:00:03Z web1 postfix/smtp[3]: 4AAAA00001:"
                                 " to=<R%u@D.example>, relay=mx.d.example[192.0.2.2]:25, status=deferred"
                                 " (busy)", i / 30);
                        add_line(idx, line);
                }
        }
        add_line(idx, "2026-03-09T10:05:00Z web1 postfix/smtp[3]: 4AAAA00001: to=<r0@d.example>,"
                      " relay=mx.d.example[192.0.2.2]:25, status=sent (ok)");
        add_line(idx, "2026-03-09T10:05:00Z web1 postfix/cleanup[2]: 4AAAA00001: message-id=<first@b.example>");
        /* the same short id four days later: another message */
        add_line(idx, "2026-03-13T10:00:00Z web1 postfix/pickup[1]: 4AAAA00001: uid=1001 from=<n@b.example>");
        add_line(idx, "2026-03-13T10:00:00Z web1 postfix/cleanup[2]: 4AAAA00001: message-id=<second@b.example>");
        ck_assert_int_eq(dt_index_commit(idx), 0);

        ck_assert_int_eq(count(db, "SELECT count(*) FROM log_msg"), 1 + DT_INDEX_PENDING_MAX + 44);
        ck_assert_int_eq(count(db, "SELECT count(*) FROM log_msg m JOIN log_rcpt r ON r.msg = m.id"
                                   " WHERE m.queue_id LIKE '4BBB%' AND r.rcpt = 'r' ||"
                                   " substr(m.message_id, 2, instr(m.message_id, '@') - 2) ||"
                                   " '@c.example'"), DT_INDEX_PENDING_MAX + 44);
        ck_assert_int_eq(count(db, "SELECT count(*) FROM log_msg WHERE queue_id = '4AAAA00001'"), 1);
        ck_assert_int_eq(count(db, "SELECT count(*) FROM log_msg WHERE queue_id = '4AAAA00001'"
                                   " AND uid = 1001 AND message_id = 'second@b.example'"
                                   " AND env_from = 'n@b.example' AND first_seen = 1773396000"), 1);
        ck_assert_int_eq(count(db, "SELECT count(*) FROM log_rcpt r JOIN log_msg m ON m.id = r.msg"
                                   " WHERE m.queue_id = '4AAAA00001'"), 0);
        ck_assert_int_eq(count(db, "SELECT count(*) FROM log_msg WHERE message_id = 'first@b.example'"), 0);

        /* the first generation alone, in its own transaction: ten recipients, r0 sent */
        ck_assert_int_eq(dt_index_prune(idx, INT64_MAX, NULL, &err), 0);
        ck_assert_int_eq(dt_index_begin(idx), 0);
        add_line(idx, "2026-03-09T10:00:00Z web1 postfix/pickup[1]: 4AAAA00001: uid=33 from=<a@b.example>");
        for (unsigned i = 0; i < 10; i++) {
                snprintf(line, sizeof line, "2026-03-09T10:00:03Z web1 postfix/smtp[3]: 4AAAA00001:"
                         " to=<R%u@D.example>, relay=mx.d.example[192.0.2.2]:25, status=deferred (busy)", i);
                add_line(idx, line);
        }
        add_line(idx, "2026-03-09T10:05:00Z web1 postfix/smtp[3]: 4AAAA00001: to=<r0@d.example>,"
                      " relay=mx.d.example[192.0.2.2]:25, status=sent (ok)");
        ck_assert_int_eq(dt_index_commit(idx), 0);
        ck_assert_int_eq(count(db, "SELECT count(*) FROM log_rcpt"), 10);
        ck_assert_int_eq(count(db, "SELECT count(*) FROM log_rcpt WHERE rcpt = 'r0@d.example'"
                                   " AND status = 'sent' AND time = 1773050700"), 1);
        ck_assert_int_eq(count(db, "SELECT count(*) FROM log_msg WHERE uid = 33 AND"
                                   " first_seen = 1773050400 AND last_seen = 1773050700"), 1);

        /* a discarded batch leaves nothing behind */
        ck_assert_int_eq(dt_index_begin(idx), 0);
        add_line(idx, "2026-03-09T11:00:00Z web1 postfix/pickup[1]: 4CCCC00001: uid=33 from=<a@b.example>");
        dt_index_discard(idx);
        ck_assert_int_eq(dt_index_commit(idx), 0);
        ck_assert_int_eq(count(db, "SELECT count(*) FROM log_msg WHERE queue_id = '4CCCC00001'"), 0);

        /* a Received hop's queue id alone is an index lookup, not a scan */
        {
                sqlite3_stmt *s = NULL;
                const char *detail;

                ck_assert_int_eq(sqlite3_prepare_v2(db, "EXPLAIN QUERY PLAN SELECT id FROM log_msg"
                                                        " WHERE queue_id = 'X'", -1, &s, NULL), SQLITE_OK);
                ck_assert_int_eq(sqlite3_step(s), SQLITE_ROW);
                detail = (const char *) sqlite3_column_text(s, 3);
                ck_assert_msg(detail && strstr(detail, "USING COVERING INDEX log_msg_key"), "plan: %s",
                              detail ? detail : "(null)");
                sqlite3_finalize(s);
        }
        teardown_scenario();
}
END_TEST

int main(void) {
        Suite *s = suite_create("index");
        TCase *tc = tcase_create("scenario"), *tp = tcase_create("pixelpark");
        TCase *tm = tcase_create("pending");
        char cmd[64];  /* the directory name, kept for the cleanup below */
        int r;

        setenv("TZ", "UTC", 1);
        tzset();
        if (!mkdtemp(dir) || dt_gen_logs(dir) < 0)
                return 99;
        tcase_add_checked_fixture(tc, scenario, teardown_scenario);
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, index_rows);
        tcase_add_test(tc, logs_catch_up_equals_line_by_line);
        tcase_add_test(tc, attribution_scenarios);
        tcase_add_test(tc, window_top_senders);
        tcase_add_test(tc, retention_prune);
        tcase_set_timeout(tp, 120);
        tcase_add_test(tp, pixelpark_index);
        suite_add_tcase(s, tc);
        suite_add_tcase(s, tp);
        tcase_add_test(tm, pending_merge);
        suite_add_tcase(s, tm);
        r = dt_test_main(s);
        (void) snprintf(cmd, sizeof cmd, "%s", dir);
        /* remove the scenario: fixed names, no shell */
        {
                static const char *const files[] = {
                        "mail.log", "php/mail.log", "exim/mainlog", "reports/attack-rfc822.eml",
                        "reports/attack-requeued-headers.eml", "reports/php-rotated.eml",
                        "reports/sasl.eml", "reports/relayed.eml", "reports/exim.eml",
                        "reports/headers-only.eml", "reports/spoofed.eml", "php", "exim", "reports",
                };
                char p[256];

                for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
                        snprintf(p, sizeof p, "%s/%s", dir, files[i]);
                        if (unlink(p) < 0)
                                (void) rmdir(p);
                }
                (void) rmdir(cmd);
        }
        return r;
}
