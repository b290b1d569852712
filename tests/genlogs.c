/* genlogs.c - write the correlation scenario: Postfix, PHP and Exim logs plus failure reports
 *
 * Deterministic: fixed times (DT_GEN_DAY0), counters for queue ids, no randomness, so the
 * tests can name every queue id and field they expect (dt_gen_expected). Lines of each log are
 * sorted by time before they are written, as a real log would be. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1   /* asprintf */
#endif
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "tests/genlogs.h"

const struct dt_gen_expect dt_gen_expected[] = {
        { "attack-rfc822.eml", true, "exact", "postfix", "4F3A1C0005", "atk005@web1.example.com",
          33, NULL, "/var/www/site/wp-content/uploads/x.php", 3, "web1", false, NULL, NULL,
          "message-id,pickup-uid,php-call,php-subject,php-header" },
        { "attack-requeued-headers.eml", true, "exact", "postfix", "4F3A1C0008",
          "atk008@web1.example.com", 33, NULL, "/var/www/site/wp-content/uploads/x.php", 3, "web1",
          false, NULL, NULL, "message-id,pickup-uid,php-call,php-subject" },
        { "php-rotated.eml", true, "strong", "postfix", "4D00000001", "contact1@web1.example.com",
          33, NULL, "contact.php", -1, "web1", false, NULL, NULL,
          "message-id,pickup-uid,php-header" },
        { "sasl.eml", true, "strong", "postfix", "4B00000001", "sasl1@laptop.example.com", -1, NULL,
          NULL, -1, "web1", false, "198.51.100.7", "alice@example.com",
          "message-id,smtp-client,sasl-login" },
        { "relayed.eml", true, "strong", "postfix", "4C00000001", "relay1@web2.example.com", -1,
          NULL, NULL, -1, "web2.example.com", true, "10.0.0.5", NULL,
          "message-id,smtp-client,relayed" },
        { "exim.eml", true, "exact", "exim", "1vAbCd-00000000001-0001", "exim1@blog.example.com",
          -1, "bloguser", "/var/www/blog/wp-includes/pluggable.php", 512, "", false, NULL, NULL,
          "message-id,exim-user,php-call,php-subject" },
        { "headers-only.eml", true, "weak", "postfix", "4E00000001", "old1@web1.example.com", 33,
          NULL, "old.php", -1, "web1.example.com", false, NULL, NULL, "php-header,received-uid" },
        { "spoofed.eml", false, NULL, NULL, NULL, NULL, -1, NULL, NULL, -1, NULL, false, NULL, NULL,
          NULL },
};
const unsigned dt_gen_n_expected = sizeof dt_gen_expected / sizeof dt_gen_expected[0];

struct gline {
        int64_t t;
        unsigned seq;
        char *s;
};

struct glog {
        struct gline *v;
        size_t n, cap;
        unsigned seq;
        int err;
};

static void add(struct glog *g, int64_t t, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void add(struct glog *g, int64_t t, const char *fmt, ...) {
        va_list ap;
        char *s = NULL;

        if (g->err)
                return;
        if (g->n == g->cap) {
                size_t nc = g->cap ? g->cap * 2 : 1024;
                struct gline *nv = realloc(g->v, nc * sizeof *nv);

                if (!nv) {
                        g->err = -ENOMEM;
                        return;
                }
                g->v = nv;
                g->cap = nc;
        }
        va_start(ap, fmt);
        if (vasprintf(&s, fmt, ap) < 0)
                g->err = -ENOMEM;
        va_end(ap);
        if (g->err)
                return;
        g->v[g->n++] = (struct gline) { t, g->seq++, s };
}

static int cmp_line(const void *x, const void *y) {
        const struct gline *a = x, *b = y;

        if (a->t != b->t)
                return a->t < b->t ? -1 : 1;
        return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static int flush(struct glog *g, const char *path) {
        FILE *f;
        int r = g->err;

        qsort(g->v, g->n, sizeof *g->v, cmp_line);
        f = fopen(path, "we");
        if (!f)
                r = -errno;
        for (size_t i = 0; i < g->n; i++) {
                if (f && !r)
                        fprintf(f, "%s\n", g->v[i].s);
                free(g->v[i].s);
        }
        free(g->v);
        g->v = NULL;
        g->n = g->cap = 0;
        if (f && fclose(f) != 0 && !r)
                r = -errno;
        return r;
}

/* stamps */
static const char *rfc3339(int64_t t, char *b, size_t n) {
        time_t tt = (time_t) t;
        struct tm tm;

        gmtime_r(&tt, &tm);
        strftime(b, n, "%Y-%m-%dT%H:%M:%S.000000+00:00", &tm);
        return b;
}

static const char *phpstamp(int64_t t, int offset, const char *zone, char *b, size_t n) {
        time_t tt = (time_t) (t + offset);
        struct tm tm;
        char d[40];

        gmtime_r(&tt, &tm);
        strftime(d, sizeof d, "%d-%b-%Y %H:%M:%S", &tm);
        snprintf(b, n, "%s %s", d, zone);
        return b;
}

static const char *eximstamp(int64_t t, char *b, size_t n) {
        time_t tt = (time_t) t;
        struct tm tm;

        gmtime_r(&tt, &tm);
        strftime(b, n, "%Y-%m-%d %H:%M:%S", &tm);
        return b;
}

static const char *maildate(int64_t t, char *b, size_t n) {
        time_t tt = (time_t) t;
        struct tm tm;

        gmtime_r(&tt, &tm);
        strftime(b, n, "%a, %d %b %Y %H:%M:%S +0000", &tm);
        return b;
}

/* pf_local - a message submitted with sendmail by uid: pickup .. removed */
static void pf_local(struct glog *g, int64_t t, const char *qid, int64_t uid, const char *mid,
                     const char *from, const char *to, bool amavis, const char *qid2) {
        char s[64];

        add(g, t, "%s web1 postfix/pickup[1001]: %s: uid=%lld from=<%s>", rfc3339(t, s, sizeof s),
            qid, (long long) uid, from);
        add(g, t, "%s web1 postfix/cleanup[1002]: %s: message-id=<%s>", rfc3339(t, s, sizeof s),
            qid, mid);
        add(g, t, "%s web1 postfix/qmgr[1003]: %s: from=<%s>, size=2345, nrcpt=1 (queue active)",
            rfc3339(t, s, sizeof s), qid, from);
        if (amavis) {
                add(g, t + 1, "%s web1 postfix/10025/smtpd[1004]: %s: client=localhost[127.0.0.1]",
                    rfc3339(t + 1, s, sizeof s), qid2);
                add(g, t + 1, "%s web1 postfix/cleanup[1002]: %s: message-id=<%s>",
                    rfc3339(t + 1, s, sizeof s), qid2, mid);
                add(g, t + 1, "%s web1 postfix/qmgr[1003]: %s: from=<%s>, size=2600, nrcpt=1 "
                    "(queue active)", rfc3339(t + 1, s, sizeof s), qid2, from);
                add(g, t + 1, "%s web1 postfix/amavis/smtp[1005]: %s: to=<%s>, relay=127.0.0.1"
                    "[127.0.0.1]:10024, delay=1, delays=0.1/0/0/0.9, dsn=2.0.0, status=sent (250 2.0.0"
                    " from MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: queued as %s)",
                    rfc3339(t + 1, s, sizeof s), qid, to, qid2);
                add(g, t + 1, "%s web1 postfix/qmgr[1003]: %s: removed", rfc3339(t + 1, s, sizeof s),
                    qid);
                qid = qid2;
        }
        add(g, t + 2, "%s web1 postfix/smtp[1006]: %s: to=<%s>, relay=mx.example.org[203.0.113.10]"
            ":25, delay=2, delays=0.1/0/0.5/1.4, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as "
            "ABCDEF1234)", rfc3339(t + 2, s, sizeof s), qid, to);
        add(g, t + 2, "%s web1 postfix/qmgr[1003]: %s: removed", rfc3339(t + 2, s, sizeof s), qid);
}

/* pf_smtp - a message received over SMTP and relayed out */
static void pf_smtp(struct glog *g, int64_t t, const char *svc, const char *qid,
                    const char *client, const char *sasl, const char *mid, const char *from,
                    const char *to) {
        char s[64];

        if (sasl)
                add(g, t, "%s web1 postfix/%s[2001]: %s: client=%s, sasl_method=PLAIN, "
                    "sasl_username=%s", rfc3339(t, s, sizeof s), svc, qid, client, sasl);
        else
                add(g, t, "%s web1 postfix/%s[2001]: %s: client=%s", rfc3339(t, s, sizeof s), svc,
                    qid, client);
        add(g, t, "%s web1 postfix/cleanup[1002]: %s: message-id=<%s>", rfc3339(t, s, sizeof s),
            qid, mid);
        add(g, t, "%s web1 postfix/qmgr[1003]: %s: from=<%s>, size=1200, nrcpt=1 (queue active)",
            rfc3339(t, s, sizeof s), qid, from);
        add(g, t + 1, "%s web1 postfix/smtp[1006]: %s: to=<%s>, relay=mx.example.org[203.0.113.10]"
            ":25, delay=1, delays=0.1/0/0.5/0.4, dsn=2.0.0, status=sent (250 2.0.0 Ok)",
            rfc3339(t + 1, s, sizeof s), qid, to);
        add(g, t + 1, "%s web1 postfix/qmgr[1003]: %s: removed", rfc3339(t + 1, s, sizeof s), qid);
}

static void php(struct glog *g, int64_t t, int off, const char *zone, const char *script, int line,
                const char *to, const char *from, const char *subject) {
        char s[80];

        add(g, t, "[%s] mail() on [%s:%d]: To: %s -- Headers: From: %s  X-Mailer: PHP/8.2.7 -- "
            "Subject: %s", phpstamp(t, off, zone, s, sizeof s), script, line, to, from, subject);
}

/* report - an ARF failure report about one original message */
static int report(const char *dir, const char *name, const char *source_ip, bool full,
                  const char *orig_headers) {
        char path[4096];
        FILE *f;

        snprintf(path, sizeof path, "%s/reports/%s", dir, name);
        f = fopen(path, "we");
        if (!f)
                return -errno;
        fprintf(f, "From: DMARC Reports <noreply-dmarc@receiver.example>\r\n"
                   "To: ruf@bank.example\r\n"
                   "Subject: Report Domain: bank.example Submitter: receiver.example\r\n"
                   "Date: Tue, 10 Mar 2026 12:00:00 +0000\r\n"
                   "Message-ID: <ruf-%s@receiver.example>\r\n"
                   "MIME-Version: 1.0\r\n"
                   "Content-Type: multipart/report; report-type=feedback-report;\r\n"
                   "\tboundary=\"=_b1\"\r\n\r\n"
                   "--=_b1\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
                   "This is an authentication failure report for an email message.\r\n\r\n"
                   "--=_b1\r\nContent-Type: message/feedback-report\r\n\r\n"
                   "Feedback-Type: auth-failure\r\nUser-Agent: receiver/1.0\r\nVersion: 1\r\n"
                   "Original-Mail-From: <billing@bank.example>\r\n"
                   "Arrival-Date: Tue, 10 Mar 2026 11:30:00 +0000\r\n"
                   "Source-IP: %s\r\nReported-Domain: bank.example\r\nAuth-Failure: dmarc\r\n"
                   "Delivery-Result: reject\r\n\r\n"
                   "--=_b1\r\nContent-Type: %s\r\n\r\n%s\r\n%s--=_b1--\r\n",
                name, source_ip, full ? "message/rfc822" : "text/rfc822-headers", orig_headers,
                full ? "Dear customer, please pay the attached invoice.\r\n\r\n" : "");
        return fclose(f) == 0 ? 0 : -errno;
}

/* original - the original message's headers (CRLF) */
static char *original(int64_t t, const char *received, const char *mid, const char *from,
                      const char *to, const char *subject, const char *extra) {
        char d[64], *s = NULL;

        if (asprintf(&s, "%sMessage-ID: <%s>\r\nDate: %s\r\nFrom: %s\r\nTo: %s\r\nSubject: %s\r\n"
                         "%sMIME-Version: 1.0\r\nContent-Type: text/plain\r\n",
                     received, mid, maildate(t, d, sizeof d), from, to, subject, extra) < 0)
                return NULL;
        return s;
}

/* dt_gen_logs - write everything */
int dt_gen_logs(const char *dir) {
        struct glog pf = {0}, ph = {0}, ex = {0};
        char path[4096], qid[32], qid2[32], mid[128], to[128], subj[64], s[64];
        const int64_t d0 = DT_GEN_DAY0;
        int r = 0;

        snprintf(path, sizeof path, "%s/php", dir);
        (void) mkdir(path, 0755);
        snprintf(path, sizeof path, "%s/exim", dir);
        (void) mkdir(path, 0755);
        snprintf(path, sizeof path, "%s/reports", dir);
        (void) mkdir(path, 0755);

        /* the busy legitimate newsletter, every day 10:00-10:59 (PHP logs in Europe/Berlin) */
        for (int d = -DT_GEN_DAYS; d <= 0; d++)
                for (int j = 0; j < DT_GEN_LEGIT; j++) {
                        int64_t t = d0 + (int64_t) d * 86400 + 36000 + j * 30;

                        snprintf(qid, sizeof qid, "%010X", 0x5A000000u + (unsigned) (d + DT_GEN_DAYS) * 1000u + (unsigned) j);
                        snprintf(mid, sizeof mid, "news%d.%d@shop.example.com", d + DT_GEN_DAYS, j);
                        snprintf(to, sizeof to, "subscriber%03d@example.net", j);
                        pf_local(&pf, t, qid, 1001, mid, "news@shop.example.com", to, false, NULL);
                        php(&ph, t, 3600, "Europe/Berlin", "/var/www/shop/cron/newsletter.php", 88, to,
                            "Shop <news@shop.example.com>", "Weekly news");
                }
        /* the compromised script: today 10:00-10:59, every other message through amavis */
        for (int k = 0; k < DT_GEN_ATTACK; k++) {
                int64_t t = d0 + 36000 + k * 12;

                snprintf(qid, sizeof qid, "%010llX", 0x4F3A1C0000ull + (unsigned long long) k);
                snprintf(qid2, sizeof qid2, "%010llX", 0x4F3A1D0000ull + (unsigned long long) k);
                snprintf(mid, sizeof mid, "atk%03d@web1.example.com", k);
                snprintf(to, sizeof to, "victim%03d@example.org", k);
                snprintf(subj, sizeof subj, "Invoice %03d", k);
                pf_local(&pf, t, qid, 33, mid, "www-data@web1.example.com", to, k % 2 == 0, qid2);
                php(&ph, t, 0, "UTC", "/var/www/site/wp-content/uploads/x.php", 3, to,
                    "Bank Billing <billing@bank.example>", subj);
        }
        /* a contact form whose PHP log line has rotated away */
        pf_local(&pf, d0 + 30000, "4D00000001", 33, "contact1@web1.example.com",
                 "www-data@web1.example.com", "someone@example.org", false, NULL);
        /* a SASL user, and a host relaying through us */
        pf_smtp(&pf, d0 + 40000, "submission/smtpd", "4B00000001",
                "laptop.example.com[198.51.100.7]", "alice@example.com",
                "sasl1@laptop.example.com", "alice@example.com", "bob@example.org");
        pf_smtp(&pf, d0 + 41000, "smtpd", "4C00000001", "web2.example.com[10.0.0.5]", NULL,
                "relay1@web2.example.com", "www-data@web2.example.com", "carol@example.org");
        /* inbound mail for a local user: not a local sender */
        add(&pf, d0 + 42000, "%s web1 postfix/smtpd[2003]: 4A00000001: client=mail.example.net"
            "[192.0.2.1]", rfc3339(d0 + 42000, s, sizeof s));
        add(&pf, d0 + 42000, "%s web1 postfix/cleanup[1002]: 4A00000001: message-id=<in1@example.net>",
            rfc3339(d0 + 42000, s, sizeof s));
        add(&pf, d0 + 42001, "%s web1 postfix/local[2004]: 4A00000001: to=<user@web1.example.com>, "
            "relay=local, delay=0.1, delays=0/0/0/0.1, dsn=2.0.0, status=sent (delivered to mailbox)",
            rfc3339(d0 + 42001, s, sizeof s));
        r = flush(&pf, (snprintf(path, sizeof path, "%s/mail.log", dir), path));

        /* Exim with +arguments +pid: a blog's comment notification */
        add(&ex, d0 + 39600, "%s [3001] cwd=/var/www/blog 4 args: /usr/sbin/sendmail -t -i "
            "-fblog@example.com", eximstamp(d0 + 39600, s, sizeof s));
        add(&ex, d0 + 39600, "%s [3001] 1vAbCd-00000000001-0001 <= blog@example.com U=bloguser "
            "P=local S=1234 id=exim1@blog.example.com T=\"New comment\"",
            eximstamp(d0 + 39600, s, sizeof s));
        add(&ex, d0 + 39601, "%s [3002] 1vAbCd-00000000001-0001 => reader@example.org R=dnslookup "
            "T=remote_smtp H=mx.example.org [203.0.113.10] C=\"250 OK id=1vXyZa-00000000009-0001\"",
            eximstamp(d0 + 39601, s, sizeof s));
        add(&ex, d0 + 39601, "%s [3002] 1vAbCd-00000000001-0001 Completed",
            eximstamp(d0 + 39601, s, sizeof s));
        add(&ex, d0 + 39700, "%s [3003] 1PLKOW-00046U-EW <= news@example.net H=mail.example.net "
            "[192.0.2.1] P=esmtps S=5000 id=in2@example.net", eximstamp(d0 + 39700, s, sizeof s));
        add(&ex, d0 + 39700, "%s [3003] 1PLKOW-00046U-EW => reader <reader@blog.example.com> "
            "R=localuser T=local_delivery", eximstamp(d0 + 39700, s, sizeof s));
        add(&ex, d0 + 39700, "%s [3003] 1PLKOW-00046U-EW Completed", eximstamp(d0 + 39700, s, sizeof s));
        php(&ph, d0 + 39600, 0, "UTC", "/var/www/blog/wp-includes/pluggable.php", 512,
            "reader@example.org", "Blog <blog@example.com>", "New comment");
        if (!r)
                r = flush(&ex, (snprintf(path, sizeof path, "%s/exim/mainlog", dir), path));
        else
                (void) flush(&ex, "/dev/null");
        if (!r)
                r = flush(&ph, (snprintf(path, sizeof path, "%s/php/mail.log", dir), path));
        else
                (void) flush(&ph, "/dev/null");
        if (r)
                return r;

        /* the reports */
        struct {
                const char *name, *ip;
                bool full;
                char *hdr;
        } rep[] = {
                { "attack-rfc822.eml", "203.0.113.80", true,
                  original(d0 + 36060, "Received: by web1.example.com (Postfix, from userid 33)\r\n"
                           "\tid 4F3A1C0005; Tue, 10 Mar 2026 10:01:00 +0000 (UTC)\r\n",
                           "atk005@web1.example.com", "Bank Billing <billing@bank.example>",
                           "victim005@example.org", "Invoice 005",
                           "X-PHP-Originating-Script: 33:x.php\r\n") },
                { "attack-requeued-headers.eml", "203.0.113.80", false,
                  original(d0 + 36096, "", "atk008@web1.example.com",
                           "Bank Billing <billing@bank.example>", "victim008@example.org",
                           "Invoice 008", "") },
                { "php-rotated.eml", "203.0.113.80", true,
                  original(d0 + 30000, "", "contact1@web1.example.com",
                           "Contact <billing@bank.example>", "someone@example.org", "Contact form",
                           "X-PHP-Originating-Script: 33:contact.php\r\n") },
                { "sasl.eml", "203.0.113.80", false,
                  original(d0 + 40000, "", "sasl1@laptop.example.com", "Alice <billing@bank.example>",
                           "bob@example.org", "Hi Bob", "") },
                { "relayed.eml", "203.0.113.80", false,
                  original(d0 + 41000, "", "relay1@web2.example.com", "billing@bank.example",
                           "carol@example.org", "Statement", "") },
                { "exim.eml", "203.0.113.90", true,
                  original(d0 + 39600, "", "exim1@blog.example.com", "Blog <billing@bank.example>",
                           "reader@example.org", "New comment", "") },
                { "headers-only.eml", "203.0.113.80", false,
                  original(d0 - 40 * 86400, "Received: by web1.example.com (Postfix, from userid 33)"
                           "\r\n\tid 4E00000001; Fri, 30 Jan 2026 10:00:00 +0000 (UTC)\r\n",
                           "old1@web1.example.com", "billing@bank.example", "old@example.org",
                           "Old invoice", "X-PHP-Originating-Script: 33:old.php\r\n") },
                { "spoofed.eml", "192.0.2.66", true,
                  original(d0 + 43000, "Received: from bad.example.net (bad.example.net [192.0.2.66])"
                           "\r\n\tby mx.receiver.example with ESMTP id 77AA; Tue, 10 Mar 2026 "
                           "11:56:40 +0000\r\n", "spoof1@bank.example", "billing@bank.example",
                           "victim@example.org", "Your account", "") },
        };
        for (size_t i = 0; i < sizeof rep / sizeof rep[0]; i++) {
                if (!r && !rep[i].hdr)
                        r = -ENOMEM;
                if (!r)
                        r = report(dir, rep[i].name, rep[i].ip, rep[i].full, rep[i].hdr);
                free(rep[i].hdr);
        }
        return r;
}
