/* bench-index.c - the mail-log index at a busy host's size: bulk load, then lookups
 *
 * Usage: bench-index gen DIR LINES       write DIR/mail.log (exactly LINES Postfix lines) and
 *                                        DIR/php.log (a mail() line for each PHP message)
 *        bench-index run DIR LOOKUPS     index both into a store in DIR/state through the agent's
 *                                        own log reader (agent/logs.c), then time LOOKUPS
 *                                        dt_correlate_message() calls
 * The traffic is deterministic, so `run` knows every message `gen` wrote: 3 in 5 are PHP
 * mail() calls picked up from uid 33 or 1001 (with their PHP log line), 1 in 5 inbound SMTP,
 * 1 in 5 SASL submissions; the SMTP ones come with connect/disconnect lines. Lookups go by
 * Message-ID (all three kinds) and, for one in four, by the queue id of a local Received hop
 * only; each answer is checked (queue id, uid, script, confidence), so a fast wrong index fails.
 * `run` prints "lines=N records=R seconds=S lines_per_s=L" and
 * "lookups=N mean_us=M p99_us=P max_us=X cpu_max_us=C by_queue_id=Q" (wall clock, but for
 * C: the most CPU time one lookup took). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "agent/logs.h"
#include "agent/store.h"
#include "conf/config.h"
#include "correlate/attribute.h"
#include "correlate/index.h"
#include "report/headers.h"

#define T0      1773100800      /* 2026-03-10T00:00:00Z, the log's first second */
#define STEP    3               /* seconds between messages */
#define QID0    0x3A00000000ull
#define SCRIPT  "/var/www/site/wp-content/uploads/x.php"

enum kind { K_PHP, K_INBOUND, K_SASL };

static enum kind kind_of(uint64_t k) {
        static const enum kind cycle[5] = { K_PHP, K_INBOUND, K_PHP, K_SASL, K_PHP };
        return cycle[k % 5];
}

static int64_t uid_of(uint64_t k) {
        return k % 2 ? 1001 : 33;
}

static const char *stamp(int64_t t, char *b, size_t n) {
        time_t tt = (time_t) t;
        struct tm tm;

        gmtime_r(&tt, &tm);
        strftime(b, n, "%Y-%m-%dT%H:%M:%S.000000+00:00", &tm);
        return b;
}

/* message - the Postfix lines of message k into lines[] (at most 8); the count */
static int message(uint64_t k, char lines[8][400]) {
        const int64_t t = T0 + (int64_t) k * STEP;
        const unsigned long long q = QID0 + k;
        const unsigned pid = 1000u + (unsigned) (k % 50);
        char s0[48], s1[48];
        int n = 0;

        stamp(t, s0, sizeof s0);
        stamp(t + 1, s1, sizeof s1);
        switch (kind_of(k)) {
        case K_PHP:
                snprintf(lines[n++], 400, "%s web1 postfix/pickup[%u]: %010llX: uid=%" PRId64
                         " from=<www-data@web1.example.com>", s0, pid, q, uid_of(k));
                break;
        case K_INBOUND:
                snprintf(lines[n++], 400, "%s web1 postfix/smtpd[%u]: connect from mail%u.example.net"
                         "[192.0.2.%u]", s0, pid, (unsigned) (k % 97), (unsigned) (k % 250 + 1));
                snprintf(lines[n++], 400, "%s web1 postfix/smtpd[%u]: %010llX: client=mail%u.example."
                         "net[192.0.2.%u]", s0, pid, q, (unsigned) (k % 97), (unsigned) (k % 250 + 1));
                break;
        case K_SASL:
                snprintf(lines[n++], 400, "%s web1 postfix/submission/smtpd[%u]: connect from "
                         "laptop%u.example.com[198.51.100.%u]", s0, pid, (unsigned) (k % 89),
                         (unsigned) (k % 250 + 1));
                snprintf(lines[n++], 400, "%s web1 postfix/submission/smtpd[%u]: %010llX: client="
                         "laptop%u.example.com[198.51.100.%u], sasl_method=PLAIN, sasl_username="
                         "user%u@example.com", s0, pid, q, (unsigned) (k % 89),
                         (unsigned) (k % 250 + 1), (unsigned) (k % 89));
                break;
        }
        snprintf(lines[n++], 400, "%s web1 postfix/cleanup[%u]: %010llX: message-id=<b%" PRIu64
                 "@web1.example.com>", s0, pid + 1, q, k);
        snprintf(lines[n++], 400, "%s web1 postfix/qmgr[900]: %010llX: from=<sender%u@example.com>, "
                 "size=%u, nrcpt=1 (queue active)", s0, q, (unsigned) (k % 1000),
                 (unsigned) (1200 + k % 5000));
        if (kind_of(k) == K_INBOUND)
                snprintf(lines[n++], 400, "%s web1 postfix/local[%u]: %010llX: to=<r%" PRIu64
                         "@web1.example.com>, relay=local, delay=0.1, delays=0/0/0/0.1, dsn=2.0.0, "
                         "status=sent (delivered to mailbox)", s1, pid + 2, q, k);
        else
                snprintf(lines[n++], 400, "%s web1 postfix/smtp[%u]: %010llX: to=<r%" PRIu64
                         "@example.org>, relay=mx.example.org[203.0.113.10]:25, delay=1.2, delays="
                         "0.1/0/0.5/0.6, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 4Xy%06X)",
                         s1, pid + 2, q, k, (unsigned) (k & 0xFFFFFF));
        snprintf(lines[n++], 400, "%s web1 postfix/qmgr[900]: %010llX: removed", s1, q);
        if (kind_of(k) != K_PHP)
                snprintf(lines[n++], 400, "%s web1 postfix/%ssmtpd[%u]: disconnect from host%u "
                         "ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5", s1,
                         kind_of(k) == K_SASL ? "submission/" : "", pid, (unsigned) (k % 97));
        return n;
}

static int gen(const char *dir, uint64_t nlines) {
        char path[4096], lines[8][400], s[48], d[40];
        uint64_t written = 0, k;
        FILE *mail, *php;

        snprintf(path, sizeof path, "%s/mail.log", dir);
        mail = fopen(path, "we");
        snprintf(path, sizeof path, "%s/php.log", dir);
        php = fopen(path, "we");
        if (!mail || !php) {
                perror("bench-index: cannot create the logs");
                return 1;
        }
        for (k = 0; written < nlines; k++) {
                int n = message(k, lines);

                for (int i = 0; i < n && written < nlines; i++, written++)
                        fprintf(mail, "%s\n", lines[i]);
                if (kind_of(k) == K_PHP) {
                        time_t tt = (time_t) (T0 + (int64_t) k * STEP);
                        struct tm tm;

                        gmtime_r(&tt, &tm);
                        strftime(d, sizeof d, "%d-%b-%Y %H:%M:%S", &tm);
                        snprintf(s, sizeof s, "%s UTC", d);
                        fprintf(php, "[%s] mail() on [%s:%u]: To: r%" PRIu64 "@example.org -- "
                                "Headers: From: Billing <billing@bank.example>  X-Mailer: PHP/8.2.7 "
                                "-- Subject: Invoice %" PRIu64 "\n", s, uid_of(k) == 33 ? SCRIPT :
                                "/var/www/shop/cron/newsletter.php", (unsigned) (3 + k % 2 * 85), k,
                                k);
                }
        }
        if (fclose(mail) != 0 || fclose(php) != 0) {
                perror("bench-index: cannot write the logs");
                return 1;
        }
        printf("lines=%" PRIu64 " messages=%" PRIu64 "\n", written, k);
        return 0;
}

static double clock_s(clockid_t c) {
        struct timespec ts;

        clock_gettime(c, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static double now(void) {
        return clock_s(CLOCK_MONOTONIC);
}

/* lookup - one report's original headers for message k, then dt_correlate_message; checks the
 * answer. *us gets the call's wall-clock time, *cpu_us its CPU time (what is left when other
 * processes take the CPU away mid-call). 0, or 1 on a wrong answer. */
static int lookup(struct dt_index *idx, uint64_t k, bool by_qid, double *us, double *cpu_us) {
        _cleanup_(dt_headers_freep) struct dt_headers *h = NULL;
        _cleanup_(dt_attribution_freep) struct dt_attribution *a = NULL;
        char hdr[1024], date[64], qid[32];
        time_t tt = (time_t) (T0 + (int64_t) k * STEP);
        struct dt_error err = {0};
        struct tm tm;
        double t, c;
        int r;

        gmtime_r(&tt, &tm);
        strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
        snprintf(qid, sizeof qid, "%010llX", (unsigned long long) (QID0 + k));
        if (by_qid)
                snprintf(hdr, sizeof hdr, "Received: by web1.example.com (Postfix, from userid %" PRId64
                         ")\r\n\tid %s; %s\r\nDate: %s\r\nFrom: billing@bank.example\r\n"
                         "To: r%" PRIu64 "@example.org\r\nSubject: Invoice %" PRIu64 "\r\n\r\n",
                         uid_of(k), qid, date, date, k, k);
        else
                snprintf(hdr, sizeof hdr, "Message-ID: <b%" PRIu64 "@web1.example.com>\r\n"
                         "Date: %s\r\nFrom: billing@bank.example\r\nTo: r%" PRIu64 "@example.org\r\n"
                         "Subject: Invoice %" PRIu64 "\r\n\r\n", k, date, k, k);
        if (dt_headers_parse(hdr, strlen(hdr), &dt_limits_default, &h, &err) < 0) {
                fprintf(stderr, "bench-index: headers: %s\n", err.message);
                return 1;
        }
        c = clock_s(CLOCK_THREAD_CPUTIME_ID);
        t = now();
        r = dt_correlate_message(idx, h, 0, &a);
        *us = (now() - t) * 1e6;
        *cpu_us = (clock_s(CLOCK_THREAD_CPUTIME_ID) - c) * 1e6;
        if (r < 0 || !a || !a->queue_id || strcmp(a->queue_id, qid) != 0) {
                fprintf(stderr, "bench-index: message %" PRIu64 ": wrong attribution (%s)\n", k,
                        a && a->queue_id ? a->queue_id : "none");
                return 1;
        }
        if (kind_of(k) == K_PHP &&
            (a->uid != uid_of(k) || a->confidence != DT_CONF_EXACT || !a->script_path ||
             (uid_of(k) == 33 && strcmp(a->script_path, SCRIPT) != 0))) {
                fprintf(stderr, "bench-index: message %" PRIu64 ": uid %" PRId64 " script %s %s\n",
                        k, a->uid, a->script_path ? a->script_path : "none",
                        dt_confidence_name(a->confidence));
                return 1;
        }
        if (kind_of(k) == K_SASL && (!a->sasl_username || a->confidence != DT_CONF_STRONG)) {
                fprintf(stderr, "bench-index: message %" PRIu64 ": no SASL login\n", k);
                return 1;
        }
        return 0;
}

static int cmp_double(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;

        return x < y ? -1 : x > y;
}

static int run(const char *dir, uint64_t nlookups) {
        _cleanup_(dt_store_freep) struct dt_store *store = NULL;
        _cleanup_(dt_index_freep) struct dt_index *idx = NULL;
        _cleanup_(dt_logs_freep) struct dt_logs *logs = NULL;
        char state[4096], mail[4096], php[4096];
        char *postfix_list[] = { mail }, *php_list[] = { php };
        struct dt_config cfg = {
                .logs_postfix = postfix_list, .n_logs_postfix = 1,
                .logs_php_mail = php_list, .n_logs_php_mail = 1,
                .retention_days = 36500, .php_window_seconds = 5,
                .limits = dt_limits_default,
        };
        const struct dt_logs_stats *ls;
        struct dt_error err = {0};
        uint64_t messages = 0, i, rng = 88172645463325252ull, n_qid = 0;
        _cleanup_free_ double *us = calloc(nlookups ? nlookups : 1, sizeof *us);
        double t, secs, sum = 0, cpu_max = 0;
        int64_t n;
        int r;

        snprintf(state, sizeof state, "%s/state", dir);
        snprintf(mail, sizeof mail, "%s/mail.log", dir);
        snprintf(php, sizeof php, "%s/php.log", dir);
        cfg.state_dir = state;
        if (mkdir(state, 0700) < 0 && errno != EEXIST) {
                perror("bench-index: state directory");
                return 1;
        }
        if (dt_store_open(state, &store, &err) < 0 ||
            dt_index_open(dt_store_db(store), 5, &idx, &err) < 0) {
                fprintf(stderr, "bench-index: %s\n", err.message);
                return 1;
        }
        if (dt_correlate_prepare(idx) < 0)      /* as the agent does at start */
                return 1;
        if (dt_logs_open(&cfg, store, idx, true, &logs) < 0)
                return 1;
        t = now();
        r = dt_logs_catch_up(logs, 0);
        secs = now() - t;
        ls = dt_logs_stats(logs);
        if (r != 0 || ls->unavailable) {
                fprintf(stderr, "bench-index: indexing failed (%d, %u sources unavailable)\n", r,
                        ls->unavailable);
                return 1;
        }
        printf("lines=%" PRIu64 " records=%" PRIu64 " seconds=%.2f lines_per_s=%.0f\n", ls->lines,
               ls->records, secs, (double) ls->lines / secs);

        /* messages whose every line made it into the file: the last one may be cut short */
        {
                sqlite3_stmt *s = NULL;

                if (sqlite3_prepare_v2(dt_store_db(store), "SELECT count(*) FROM log_msg", -1, &s,
                                       NULL) != SQLITE_OK || sqlite3_step(s) != SQLITE_ROW) {
                        sqlite3_finalize(s);
                        return 1;
                }
                n = sqlite3_column_int64(s, 0);
                sqlite3_finalize(s);
        }
        if (n < 2 || !us)
                return 1;
        messages = (uint64_t) n - 1;
        for (i = 0; i < nlookups; i++) {
                uint64_t k;
                double cpu;
                bool by_qid;

                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                k = rng % messages;
                by_qid = i % 4 == 3 && kind_of(k) == K_PHP;
                if (lookup(idx, k, by_qid, &us[i], &cpu))
                        return 1;
                if (cpu > cpu_max)
                        cpu_max = cpu;
                n_qid += by_qid;
                sum += us[i];
        }
        qsort(us, nlookups, sizeof *us, cmp_double);
        printf("lookups=%" PRIu64 " mean_us=%.1f p99_us=%.1f max_us=%.1f cpu_max_us=%.1f"
               " by_queue_id=%" PRIu64 "\n", nlookups, nlookups ? sum / (double) nlookups : 0.0,
               nlookups ? us[nlookups * 99 / 100] : 0.0, nlookups ? us[nlookups - 1] : 0.0, cpu_max,
               n_qid);
        return 0;
}

int main(int argc, char **argv) {
        if (argc == 4 && strcmp(argv[1], "gen") == 0)
                return gen(argv[2], strtoull(argv[3], NULL, 10));
        if (argc == 4 && strcmp(argv[1], "run") == 0)
                return run(argv[2], strtoull(argv[3], NULL, 10));
        fprintf(stderr, "usage: bench-index gen DIR LINES | bench-index run DIR LOOKUPS\n");
        return 2;
}
