/* gen-incident.c - the README demo's whole incident: reports, mail logs, PHP log, configuration
 *
 * Usage: gen-incident [-s SEED] [-d YYYY-MM-DD] DIR
 *
 * The story: shop.example's web server web1 (203.0.113.25) sends about 100 messages a day, order
 * mails from a PHP app (uid 33, /var/www/shop/app/mailer.php line 88) and a few from the office
 * over SASL submission, for five weeks. On the first spike day (-d; default the UTC day four
 * days before now, so the last day is yesterday) a script uploaded to
 * /var/www/shop/wp-content/uploads/cache/x.php, running as the same uid 33, sends 19,000
 * "parcel" mails through PHP mail() and Postfix pickup from 04:17; the next day another 12,400
 * from 03:41 until it is deleted at about 14:00; the two days after are quiet again. SPF and DKIM
 * pass; the receivers' aggregate reports show it a day or two later, and some receivers send
 * failure reports with the original headers. A week before, somebody else spoofed the domain:
 * 520 mails from two foreign addresses (198.51.100.66 and .67), which a one-off receiver reports
 * in an aggregate report of its own; they fail SPF and DKIM and never touched web1.
 *
 * DIR gets:
 *   Maildir/{new,cur,tmp}   35 days x 4 receivers of aggregate reports (Google: zip, Yahoo and
 *                           Outlook: gzip, example.net: plain XML), the spoofing receiver's
 *                           report (plain XML, not base64), delivered over the 1-2 days after
 *                           each day (file names sort by delivery, not by day), and 12 ARF
 *                           failure reports about attack mails
 *   failure-reports/        copies of those failure reports, for `dmarctrace trace`
 *   logs/mail.log           Postfix, RFC 3339 stamps: every message of every day, pickup or
 *                           SASL smtpd .. removed, in time order
 *   logs/php_mail.log       PHP's mail.log: one line per mail() call, same second as pickup
 *   dmarctrace.conf         a configuration that reads all of the above
 *   expected.txt            what the agent must find: key=value lines, one "day" line per day
 *                           with the totals the reports give (the keys of `summary --json`), and
 *                           one "ruf" line per failure report
 * Deterministic for a seed and a spike day; only libc and zlib. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1   /* vasprintf */
#endif
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "tests/genbuf.h"

#define DAYS            35              /* days 0..30 quiet, 31 and 32 the spike, 33 and 34 quiet */
#define SPIKE           31              /* the first spike day */
#define SPIKE_DAYS      2
#define SPOOF_DAY       (SPIKE - 7)     /* the foreign spoofing run */
#define RUF_N           12              /* failure reports about attack messages */
#define ORGS            4

/* the uploaded script's mails on each spike day, one about every three seconds from its start */
static const int attack_n[SPIKE_DAYS] = { 19000, 12400 };
static const int64_t attack_start[SPIKE_DAYS] = { 4 * 3600 + 17 * 60, 3 * 3600 + 41 * 60 };

static const char *const script_app = "/var/www/shop/app/mailer.php";
static const char *const script_atk = "/var/www/shop/wp-content/uploads/cache/x.php";

/* how a receiver attaches its report: zip, gzip, XML in base64, XML as it is */
enum format { F_ZIP, F_GZIP, F_XML, F_XML_7BIT };

/* the receivers that send aggregate reports, and the recipient domains each one serves */
struct org {
        const char *name, *email, *file_org, *domains[4], *relay;
        unsigned share;                 /* percent of recipients */
        int64_t lag_min, lag_span;      /* report delivery after the day's end, seconds */
        enum format format;
};

static const struct org orgs[ORGS] = {
        { "google.com", "noreply-dmarc-support@google.com", "google.com",
          { "gmail.com", "googlemail.com" }, "gmail-smtp-in.l.google.com[142.250.102.27]:25",
          50, 1 * 3600, 9 * 3600, F_ZIP },
        { "Yahoo", "dmarchelp@yahooinc.com", "yahoo.com", { "yahoo.com", "aol.com", "ymail.com" },
          "mta6.am0.yahoodns.net[67.195.204.77]:25", 22, 6 * 3600, 24 * 3600, F_GZIP },
        { "Enterprise Outlook", "dmarcreport@microsoft.com", "enterprise.protection.outlook.com",
          { "outlook.com", "hotmail.com", "live.com", "msn.com" },
          "hotmail-com.olc.protection.outlook.com[52.101.68.9]:25", 18, 20 * 3600, 26 * 3600, F_GZIP },
        { "Example Net Mail", "dmarc-reports@example.net", "example.net",
          { "example.net", "example.org" }, "mx.example.net[192.0.2.25]:25", 10, 2 * 3600,
          12 * 3600, F_XML },
};

/* the receiver that got the spoofed mails; it reports this domain only that once */
static const struct org spoof_org = {
        "Freemail Example", "dmarc@freemail.example", "freemail.example", { "freemail.example" },
        NULL, 0, 3 * 3600, 6 * 3600, F_XML_7BIT,
};
static const char *const spoof_ip[2] = { "198.51.100.66", "198.51.100.67" };
static const uint64_t spoof_n[2] = { 430, 90 };

static const char *const first[] = {
        "anna", "ben", "clara", "david", "emma", "felix", "greta", "hans", "ida", "jonas",
        "karin", "lukas", "marie", "nils", "olga", "paul", "rosa", "sven", "tina", "uwe",
        "vera", "walter", "yvonne", "zoe", "mia", "leon", "lena", "finn", "laura", "tim",
        "sarah", "jan", "julia", "max", "lisa", "tom", "nina", "erik", "eva", "kai",
};
static const char *const last[] = {
        "mueller", "schmidt", "schneider", "fischer", "weber", "meyer", "wagner", "becker",
        "schulz", "hoffmann", "koch", "richter", "klein", "wolf", "neumann", "schwarz",
        "braun", "zimmermann", "krueger", "hartmann", "lange", "werner", "krause", "lehmann",
        "koehler", "maier", "huber", "kaiser", "fuchs", "peters", "jung", "keller", "berger",
        "vogel", "roth", "frank", "beck", "lorenz", "baumann", "franke",
};
static const char *const atk_subjects[] = {
        "Your parcel is waiting", "Your parcel is waiting - delivery fee unpaid",
        "Your parcel is waiting: confirm your address",
};

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

/* rnd - xorshift64: fast, deterministic, good enough for test data */
static uint64_t rnd(void) {
        rng_state ^= rng_state << 13;
        rng_state ^= rng_state >> 7;
        rng_state ^= rng_state << 17;
        return rng_state;
}

/* between - a number in [lo, hi] */
static int64_t between(int64_t lo, int64_t hi) {
        return lo + (int64_t) (rnd() % (uint64_t) (hi - lo + 1));
}

/* die - report what failed with errno's text and stop */
static void die(const char *what) {
        fprintf(stderr, "gen-incident: %s: %s\n", what, strerror(errno));
        exit(1);
}

/* xrealloc - realloc or die */
static void *xrealloc(void *p, size_t n) {
        p = realloc(p, n);
        if (!p)
                die("realloc");
        return p;
}

/* write_file - path gets b's bytes, through a temporary name when tmp is given (Maildir) */
static void write_file(const char *path, const char *tmp, const struct buf *b) {
        FILE *f = fopen(tmp ? tmp : path, "we");

        if (!f || fwrite(b->p, 1, b->len, f) != b->len || fclose(f) != 0)
                die(tmp ? tmp : path);
        if (tmp && rename(tmp, path) < 0)
                die(path);
}

/* ---- time stamps ---- */

/* utc - broken-down UTC time of t */
static struct tm utc(int64_t t) {
        time_t tt = (time_t) t;
        struct tm tm;

        gmtime_r(&tt, &tm);
        return tm;
}

/* rfc3339 - "2026-11-07T10:15:01.123456+00:00" from microseconds */
static const char *rfc3339(int64_t us, char *b, size_t n) {
        struct tm tm = utc(us / 1000000);
        char d[32];

        strftime(d, sizeof d, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(b, n, "%s.%06d+00:00", d, (int) (us % 1000000));
        return b;
}

/* maildate - RFC 5322 date; Postfix pads the day with a space */
static const char *maildate(int64_t t, bool postfix, char *b, size_t n) {
        struct tm tm = utc(t);

        strftime(b, n, postfix ? "%a, %e %b %Y %H:%M:%S +0000 (UTC)" : "%a, %d %b %Y %H:%M:%S +0000",
                 &tm);
        return b;
}

/* ymd - "YYYY-MM-DD" of t */
static const char *ymd(int64_t t, char *b, size_t n) {
        struct tm tm = utc(t);

        strftime(b, n, "%Y-%m-%d", &tm);
        return b;
}

/* ---- log lines, collected and written in time order ---- */

struct line {
        int64_t us;
        uint32_t seq;
        char *s;
};

struct log {
        struct line *v;
        size_t n, cap;
        uint32_t seq;
};

static struct log mail_log, php_log;

/* add - one formatted line at time us into g */
static void add(struct log *g, int64_t us, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void add(struct log *g, int64_t us, const char *fmt, ...) {
        va_list ap;
        char *s = NULL;
        int n;

        if (g->n == g->cap) {
                g->cap = g->cap ? g->cap * 2 : 65536;
                g->v = xrealloc(g->v, g->cap * sizeof *g->v);
        }
        va_start(ap, fmt);
        n = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (n < 0)
                die("vasprintf");
        g->v[g->n++] = (struct line) { us, g->seq++, s };
}

/* cmp_line - by time, then by the order added (a message's own lines keep their order) */
static int cmp_line(const void *x, const void *y) {
        const struct line *a = x, *b = y;

        if (a->us != b->us)
                return a->us < b->us ? -1 : 1;
        return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* flush - sort g by time and write it to path; returns the number of lines */
static size_t flush(struct log *g, const char *path) {
        FILE *f = fopen(path, "we");
        size_t n = g->n;

        if (!f)
                die(path);
        qsort(g->v, g->n, sizeof *g->v, cmp_line);
        for (size_t i = 0; i < g->n; i++) {
                if (fputs(g->v[i].s, f) < 0 || fputc('\n', f) < 0)
                        die(path);
                free(g->v[i].s);
        }
        if (fclose(f) != 0)
                die(path);
        free(g->v);
        *g = (struct log) { 0 };
        return n;
}

/* ---- messages ---- */

enum kind { K_APP, K_SASL, K_ATTACK };

struct msg {
        int64_t us;                     /* pickup / smtpd time */
        enum kind kind;
        int org;
        unsigned n;                     /* index within its kind, for names */
        char qid[16];
        char rcpt[96];
        char mid[128];
        const char *subject;
};

static uint32_t qid_seq;

/* make_qid - a Postfix short queue id: 10 upper-case hex digits, unique (the low 20 bits are a
 * bijection of a counter) */
static void make_qid(char *b, size_t n) {
        uint32_t c = (qid_seq++ * 0x9E3B5u + 0x2F1u) & 0xFFFFFu;

        snprintf(b, n, "%05" PRIX32 "%05" PRIX32, (uint32_t) (rnd() & 0xFFFFFu) | 0x10000u, c);
}

/* pick_org - a receiver by share */
static int pick_org(void) {
        unsigned r = (unsigned) (rnd() % 100), acc = 0;

        for (int o = 0; o < ORGS; o++) {
                acc += orgs[o].share;
                if (r < acc)
                        return o;
        }
        return ORGS - 1;
}

/* rcpt_for - a recipient at one of org's domains; unique for distinct (salt, n) */
static void rcpt_for(char *b, size_t len, int org, unsigned salt, unsigned n) {
        const size_t nf = sizeof first / sizeof first[0], nl = sizeof last / sizeof last[0];
        size_t nd = 0;
        unsigned k = n * 7919u % 1000003u;     /* spread, still one-to-one below 1000003 */

        while (nd < 4 && orgs[org].domains[nd])
                nd++;
        snprintf(b, len, "%s.%s%u%s@%s", first[k % nf], last[k / nf % nl], k / (unsigned) (nf * nl),
                 salt ? "x" : "", orgs[org].domains[rnd() % nd]);
}

static const char *const sasl_users[] = { "info@shop.example", "anna.berger@shop.example" };
static const char *const sasl_clients[] = { "office.shop.example[198.51.100.20]",
                                            "unknown[192.0.2.144]" };

/* log_message - every Postfix line of one message, and the PHP line of a mail() call */
static void log_message(const struct msg *m) {
        char s[64], p[64], reply[256];
        int64_t t = m->us, sent;
        const char *from = m->kind == K_APP ? "orders@shop.example"
                           : m->kind == K_ATTACK ? "www-data@shop.example"
                                                 : sasl_users[m->n % 2];
        long size = m->kind == K_ATTACK ? 3900 + (long) (rnd() % 400) : 2200 + (long) (rnd() % 5000);
        double d1 = (double) between(5, 90) / 1000, d2 = (double) between(1, 20) / 1000,
               d3 = (double) between(40, 400) / 1000, d4 = (double) between(150, 1400) / 1000;

        /* what each receiver answers */
        if (m->org == 0)
                snprintf(reply, sizeof reply, "250 2.0.0 OK  %" PRId64 " %08" PRIx64 "si%06u - gsmtp",
                         t / 1000000, rnd() & 0xffffffffu, (unsigned) (rnd() % 1000000));
        else if (m->org == 1)
                snprintf(reply, sizeof reply, "250 ok dirdel");
        else if (m->org == 3)
                snprintf(reply, sizeof reply, "250 2.0.0 Ok: queued as %08" PRIX64,
                         rnd() & 0xffffffffu);
        else
                snprintf(reply, sizeof reply, "250 2.6.0 <%s> Queued mail for delivery", m->mid);
        if (m->kind == K_SASL) {
                unsigned pid = 20000 + (unsigned) (rnd() % 9000);
                const char *client = sasl_clients[m->n % 2];

                add(&mail_log, t - 180000, "%s web1 postfix/submission/smtpd[%u]: connect from %s",
                    rfc3339(t - 180000, s, sizeof s), pid, client);
                add(&mail_log, t, "%s web1 postfix/submission/smtpd[%u]: %s: client=%s, "
                    "sasl_method=PLAIN, sasl_username=%s", rfc3339(t, s, sizeof s), pid, m->qid,
                    client, from);
                add(&mail_log, t + 900000, "%s web1 postfix/submission/smtpd[%u]: disconnect from %s "
                    "ehlo=2 starttls=1 auth=1 mail=1 rcpt=1 data=1 quit=1 commands=8",
                    rfc3339(t + 900000, s, sizeof s), pid, client);
        } else {
                struct tm tm = utc((t - 150000) / 1000000);

                /* PHP logs the call, then sendmail drops the file that pickup finds */
                strftime(p, sizeof p, "%d-%b-%Y %H:%M:%S UTC", &tm);
                if (m->kind == K_ATTACK)
                        add(&php_log, t - 150000, "[%s] mail() on [%s:3]: To: %s -- Headers: From: "
                            "\"DHL Express\" <noreply@shop.example>  MIME-Version: 1.0  Content-type: "
                            "text/html; charset=UTF-8 -- Subject: %s", p, script_atk, m->rcpt, m->subject);
                else
                        add(&php_log, t - 150000, "[%s] mail() on [%s:88]: To: %s -- Headers: From: "
                            "\"Shop Example\" <orders@shop.example>  Reply-To: service@shop.example  "
                            "Message-ID: <%s>  X-Mailer: ShopMailer/2.4 -- Subject: %s", p, script_app,
                            m->rcpt, m->mid, m->subject);
                add(&mail_log, t, "%s web1 postfix/pickup[%u]: %s: uid=33 from=<%s>",
                    rfc3339(t, s, sizeof s), 1200 + (unsigned) (t / 1000000 / 86400 % 97), m->qid, from);
        }
        add(&mail_log, t + 2000, "%s web1 postfix/cleanup[%u]: %s: message-id=<%s>",
            rfc3339(t + 2000, s, sizeof s), 3000 + (unsigned) (rnd() % 40), m->qid, m->mid);
        add(&mail_log, t + 5000, "%s web1 postfix/qmgr[1187]: %s: from=<%s>, size=%ld, nrcpt=1 "
            "(queue active)", rfc3339(t + 5000, s, sizeof s), m->qid, from, size);
        sent = t + (int64_t) ((d1 + d2 + d3 + d4) * 1e6);
        add(&mail_log, sent, "%s web1 postfix/smtp[%u]: %s: to=<%s>, relay=%s, delay=%.2f, "
            "delays=%.2f/%.2f/%.2f/%.2f, dsn=2.0.0, status=sent (%s)",
            rfc3339(sent, s, sizeof s), 4000 + (unsigned) (rnd() % 900), m->qid, m->rcpt,
            orgs[m->org].relay, d1 + d2 + d3 + d4, d1, d2, d3, d4, reply);
        add(&mail_log, sent + 400, "%s web1 postfix/qmgr[1187]: %s: removed",
            rfc3339(sent + 400, s, sizeof s), m->qid);
}

/* ---- aggregate reports ---- */

struct row {
        char ip[48];
        uint64_t count;
        bool pass;
};

/* report_xml - one RFC 7489 report of receiver o for day [begin, begin + 86399] */
static void report_xml(struct buf *b, const struct org *o, const char *id, int64_t begin,
                       const struct row *rows, size_t n) {
        bprintf(b, "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<feedback>\n  <version>1.0</version>\n"
                   "  <report_metadata>\n    <org_name>%s</org_name>\n    <email>%s</email>\n"
                   "    <report_id>%s</report_id>\n    <date_range>\n      <begin>%" PRId64 "</begin>\n"
                   "      <end>%" PRId64 "</end>\n    </date_range>\n  </report_metadata>\n"
                   "  <policy_published>\n    <domain>shop.example</domain>\n    <adkim>r</adkim>\n"
                   "    <aspf>r</aspf>\n    <p>quarantine</p>\n    <sp>quarantine</sp>\n"
                   "    <pct>100</pct>\n  </policy_published>\n",
                o->name, o->email, id, begin, begin + 86399);
        for (size_t i = 0; i < n; i++) {
                const char *res = rows[i].pass ? "pass" : "fail";

                bprintf(b, "  <record>\n    <row>\n      <source_ip>%s</source_ip>\n"
                           "      <count>%" PRIu64 "</count>\n      <policy_evaluated>\n"
                           "        <disposition>%s</disposition>\n        <dkim>%s</dkim>\n"
                           "        <spf>%s</spf>\n      </policy_evaluated>\n    </row>\n"
                           "    <identifiers>\n      <header_from>shop.example</header_from>\n"
                           "    </identifiers>\n    <auth_results>\n",
                        rows[i].ip, rows[i].count, rows[i].pass ? "none" : "quarantine", res, res);
                if (rows[i].pass)
                        bprintf(b, "      <dkim>\n        <domain>shop.example</domain>\n"
                                   "        <selector>web1</selector>\n        <result>pass</result>\n"
                                   "      </dkim>\n");
                bprintf(b, "      <spf>\n        <domain>%s</domain>\n        <result>%s</result>\n"
                           "      </spf>\n    </auth_results>\n  </record>\n",
                        rows[i].pass ? "shop.example" : "mail.example.biz",
                        rows[i].pass ? "pass" : "softfail");
        }
        bprintf(b, "</feedback>\n");
}

static char dir_maildir[PATH_MAX + 16];
static unsigned deliver_seq;

/* deliver - a whole message into the Maildir the way an MDA does it: tmp/, then new/, under a
 * name that sorts by delivery time */
static void deliver(int64_t when, const struct buf *b) {
        char name[128], path[PATH_MAX + 160], tmp[PATH_MAX + 160];

        snprintf(name, sizeof name, "%" PRId64 ".M%06uP%u.mx.shop.example,S=%zu", when,
                 (unsigned) (rnd() % 1000000), 20000 + deliver_seq++, b->len);
        snprintf(tmp, sizeof tmp, "%s/tmp/%s", dir_maildir, name);
        snprintf(path, sizeof path, "%s/new/%s", dir_maildir, name);
        write_file(path, tmp, b);
}

/* the totals the reports give for each day, the keys of `dmarctrace summary --json` */
static struct {
        uint64_t messages, pass, own;
} reported[DAYS];

/* attach - the report in xml as the attachment named base (plus the format's extension), the
 * way receiver o sends it */
static void attach(struct buf *eml, const struct org *o, const char *boundary, const char *base,
                   const struct buf *xml) {
        static struct buf packed;
        static const char *const ext[] = { ".zip", ".xml.gz", ".xml", ".xml" };
        static const char *const type[] = { "application/zip", "application/gzip", "text/xml",
                                            "text/xml; charset=UTF-8" };
        char fname[200];

        snprintf(fname, sizeof fname, "%s%s", base, ext[o->format]);
        bprintf(eml, "--%s\r\nContent-Type: %s; name=\"%s\"\r\nContent-Transfer-Encoding: %s\r\n"
                     "Content-Disposition: attachment; filename=\"%s\"\r\n\r\n",
                boundary, type[o->format], fname, o->format == F_XML_7BIT ? "7bit" : "base64",
                fname);
        switch (o->format) {
        case F_ZIP:
                /* the entry inside is the .xml of the same name */
                snprintf(fname, sizeof fname, "%s.xml", base);
                zip_buf(fname, xml, &packed);
                base64_lines(&packed, eml, "\r\n");
                break;
        case F_GZIP:
                gzip_buf(xml, &packed);
                base64_lines(&packed, eml, "\r\n");
                break;
        case F_XML:
                base64_lines(xml, eml, "\r\n");
                break;
        case F_XML_7BIT:
                for (size_t i = 0; i < xml->len; i++) {
                        if (xml->p[i] == '\n')
                                bprintf(eml, "\r\n");
                        else
                                bprintf(eml, "%c", xml->p[i]);
                }
                break;
        }
}

/* aggregate - the report of receiver o for day begin with these rows, delivered a few hours
 * after the day's end, and its counts added to the day's totals */
static void aggregate(const struct org *o, int day, int64_t begin, const struct row *rows,
                      size_t n) {
        static struct buf xml, eml;
        char id[64], d[64], base[160], boundary[64];
        int64_t when = begin + 86400 + between(o->lag_min, o->lag_min + o->lag_span);

        xml.len = eml.len = 0;
        for (size_t i = 0; i < n; i++) {
                reported[day].messages += rows[i].count;
                reported[day].pass += rows[i].pass ? rows[i].count : 0;
                reported[day].own += strcmp(rows[i].ip, "203.0.113.25") == 0 ? rows[i].count : 0;
        }
        if (o == &orgs[0])
                snprintf(id, sizeof id, "%" PRIu64, (uint64_t) (1000000000000000000ull + rnd() % 8000000000000000000ull));
        else if (o == &orgs[1])
                snprintf(id, sizeof id, "%" PRId64 ".%06u", begin + 86400, (unsigned) (rnd() % 1000000));
        else
                snprintf(id, sizeof id, "%016" PRIx64 "%016" PRIx64, rnd(), rnd());
        report_xml(&xml, o, id, begin, rows, n);
        snprintf(base, sizeof base, "%s!shop.example!%" PRId64 "!%" PRId64, o->file_org, begin,
                 begin + 86399);
        snprintf(boundary, sizeof boundary, "=_rua_%d_%s", day, o->file_org);
        bprintf(&eml, "Return-Path: <%s>\r\nDelivered-To: dmarc@shop.example\r\n"
                      "From: %s <%s>\r\nTo: dmarc@shop.example\r\n"
                      "Subject: Report domain: shop.example Submitter: %s Report-ID: <%s>\r\n"
                      "Date: %s\r\nMessage-ID: <%s.%d@%s>\r\nMIME-Version: 1.0\r\n"
                      "Content-Type: multipart/mixed; boundary=\"%s\"\r\n\r\n"
                      "--%s\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
                      "This is an aggregate report from %s.\r\n\r\n",
                o->email, o->name, o->email, o->file_org, id, maildate(when, false, d, sizeof d), id,
                day, o->file_org, boundary, boundary, o->name);
        attach(&eml, o, boundary, base, &xml);
        bprintf(&eml, "\r\n--%s--\r\n", boundary);
        deliver(when, &eml);
}

/* aggregate_day - receiver org's report for day: web1's mails to it, and now and then a few
 * spoofed ones from elsewhere */
static void aggregate_day(int org, int day, int64_t begin, uint64_t own) {
        struct row rows[2];
        size_t n = 0;

        if (own) {
                snprintf(rows[n].ip, sizeof rows[n].ip, "203.0.113.25");
                rows[n].count = own;
                rows[n++].pass = true;
        }
        if (rnd() % 4 == 0 || n == 0) {
                snprintf(rows[n].ip, sizeof rows[n].ip, "198.51.100.%u", (unsigned) between(100, 199));
                rows[n].count = (uint64_t) between(1, 3);
                rows[n++].pass = false;
        }
        aggregate(&orgs[org], day, begin, rows, n);
}

/* ---- failure reports ---- */

/* failure - an ARF auth-failure report about attack message m, from the victim's receiver */
static void failure(const struct msg *m, unsigned i, const char *dir, FILE *expect) {
        static struct buf eml;
        const char *dom = strchr(m->rcpt, '@') + 1;
        int64_t t = m->us / 1000000, arrival = t + 1, when = t + between(120, 2400);
        char d1[64], d2[64], d3[64], path[PATH_MAX + 64];

        eml.len = 0;
        bprintf(&eml, "Return-Path: <>\r\nDelivered-To: dmarc@shop.example\r\n"
                      "From: DMARC Failure Reports <noreply-dmarc-ruf@%s>\r\nTo: dmarc@shop.example\r\n"
                      "Subject: DMARC failure report for shop.example from 203.0.113.25\r\n"
                      "Date: %s\r\nMessage-ID: <ruf.%" PRId64 ".%u@%s>\r\nMIME-Version: 1.0\r\n"
                      "Content-Type: multipart/report; report-type=feedback-report;\r\n"
                      "\tboundary=\"=_ruf_%u\"\r\n\r\n"
                      "--=_ruf_%u\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
                      "This is an authentication failure report for a message from shop.example,\r\n"
                      "received from 203.0.113.25: its DKIM signature failed after our link\r\n"
                      "scanner rewrote the body (SPF passed, so DMARC passed).\r\n\r\n"
                      "--=_ruf_%u\r\nContent-Type: message/feedback-report\r\n\r\n"
                      "Feedback-Type: auth-failure\r\nUser-Agent: %s-ruf/1.2\r\nVersion: 1\r\n"
                      "Original-Mail-From: <www-data@shop.example>\r\n"
                      "Original-Rcpt-To: <%s>\r\nArrival-Date: %s\r\n"
                      "Source-IP: 203.0.113.25\r\nReported-Domain: shop.example\r\n"
                      "Authentication-Results: mx.%s; dkim=fail (body hash did not verify)"
                      " header.d=shop.example;\r\n\tspf=pass smtp.mailfrom=shop.example;"
                      " dmarc=pass header.from=shop.example\r\n"
                      "Auth-Failure: bodyhash\r\nDKIM-Domain: shop.example\r\nDKIM-Selector: web1\r\n"
                      "Delivery-Result: delivered\r\n\r\n"
                      "--=_ruf_%u\r\nContent-Type: text/rfc822-headers\r\n\r\n"
                      "Received: from web1.shop.example (web1.shop.example [203.0.113.25])\r\n"
                      "\tby mx.%s with ESMTPS id %08" PRIx64 "\r\n\tfor <%s>; %s\r\n"
                      "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/simple; d=shop.example;\r\n"
                      "\ts=web1; t=%" PRId64 "; h=To:Subject:From:Message-Id:Date;\r\n"
                      "\tbh=%016" PRIx64 "%016" PRIx64 "=; b=%016" PRIx64 "%016" PRIx64 "\r\n"
                      "Received: by web1.shop.example (Postfix, from userid 33)\r\n"
                      "\tid %s; %s\r\n"
                      "To: %s\r\nSubject: %s\r\nX-PHP-Originating-Script: 33:x.php\r\n"
                      "MIME-Version: 1.0\r\nContent-type: text/html; charset=UTF-8\r\n"
                      "From: \"DHL Express\" <noreply@shop.example>\r\n"
                      "Message-Id: <%s>\r\nDate: %s\r\n\r\n--=_ruf_%u--\r\n",
                dom, maildate(when, false, d1, sizeof d1), when, i, dom, i, i, i, dom, m->rcpt,
                maildate(arrival, false, d2, sizeof d2), dom, i, dom, rnd() & 0xffffffffu, m->rcpt,
                maildate(arrival, false, d2, sizeof d2), t, rnd(), rnd(), rnd(), rnd(), m->qid,
                maildate(t, true, d3, sizeof d3),
                m->rcpt, m->subject, m->mid, maildate(t, true, d3, sizeof d3), i);
        deliver(when, &eml);
        snprintf(path, sizeof path, "%s/failure-reports/ruf-%02u.eml", dir, i + 1);
        write_file(path, NULL, &eml);
        fprintf(expect, "ruf failure-reports/ruf-%02u.eml %s %s %s\n", i + 1, m->mid, m->qid, m->rcpt);
}

/* ---- the story ---- */

/* parse_day - "YYYY-MM-DD" to the epoch of its UTC midnight; -1 when malformed */
static int64_t parse_day(const char *s) {
        struct tm tm = { 0 };
        char *e;

        if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
                return -1;
        e = strptime(s, "%Y-%m-%d", &tm);
        if (!e || *e)
                return -1;
        return (int64_t) timegm(&tm);
}

/* mkdir_or_die - mkdir that accepts an existing directory */
static void mkdir_or_die(const char *path) {
        if (mkdir(path, 0755) < 0 && errno != EEXIST)
                die(path);
}

/* cmp_msg - messages by submission time */
static int cmp_msg(const void *x, const void *y) {
        const struct msg *a = x, *b = y;

        return a->us < b->us ? -1 : a->us > b->us;
}

/* usage - the command line, then exit 2 */
static void usage(void) {
        fprintf(stderr, "usage: gen-incident [-s SEED] [-d YYYY-MM-DD] DIR\n"
                        "  -d  the first spike day (default: the UTC day four days before today)\n");
        exit(2);
}

/* main - messages first (they fix the counts), then logs, reports, expected.txt, config */
int main(int argc, char **argv) {
        char dir[PATH_MAX], path[PATH_MAX + 64], d[32];
        int64_t spike = ((int64_t) time(NULL) / 86400 - 4) * 86400, day0;
        uint64_t sent[DAYS][ORGS] = { { 0 } }, total[DAYS] = { 0 }, n_msgs = 0;
        struct msg *v = NULL, *atk = NULL;
        size_t nv = 0, cap = 0, natk = 0, mail_lines, php_lines;
        unsigned app_n = 0, sasl_n = 0, atk_n = 0;
        uint64_t attack_total = 0;
        FILE *f, *expect;
        int c;

        while ((c = getopt(argc, argv, "s:d:h")) != -1) {
                switch (c) {
                case 's': rng_state ^= strtoull(optarg, NULL, 10) * 0xD1B54A32D192ED03ull; break;
                case 'd':
                        spike = parse_day(optarg);
                        if (spike < 0)
                                usage();
                        break;
                default: usage();
                }
        }
        if (optind != argc - 1)
                usage();
        if (!rng_state)
                rng_state = 1;
        day0 = spike - (int64_t) SPIKE * 86400;

        mkdir_or_die(argv[optind]);
        if (!realpath(argv[optind], dir))
                die(argv[optind]);
        snprintf(dir_maildir, sizeof dir_maildir, "%s/Maildir", dir);
        snprintf(path, sizeof path, "%s/new", dir_maildir);
        if (access(path, F_OK) == 0) {
                fprintf(stderr, "gen-incident: %s already holds an incident; remove it first\n", dir);
                return 1;
        }
        mkdir_or_die(dir_maildir);
        for (int i = 0; i < 3; i++) {
                snprintf(path, sizeof path, "%s/%s", dir_maildir, i == 0 ? "tmp" : i == 1 ? "new" : "cur");
                mkdir_or_die(path);
        }
        snprintf(path, sizeof path, "%s/logs", dir);
        mkdir_or_die(path);
        snprintf(path, sizeof path, "%s/failure-reports", dir);
        mkdir_or_die(path);
        snprintf(path, sizeof path, "%s/state", dir);
        if (mkdir(path, 0700) < 0 && errno != EEXIST)
                die(path);

        /* every message of every day */
        for (int day = 0; day < DAYS; day++) {
                int64_t begin = day0 + (int64_t) day * 86400;
                int wday = utc(begin).tm_wday;
                bool weekend = wday == 0 || wday == 6;
                int n_app = weekend ? (int) between(64, 78) : (int) between(90, 104);
                int n_sasl = weekend ? (int) between(0, 2) : (int) between(2, 6);
                int n_atk = day >= SPIKE && day < SPIKE + SPIKE_DAYS ? attack_n[day - SPIKE] : 0;
                size_t need = nv + (size_t) (n_app + n_sasl + n_atk);

                if (need > cap) {
                        cap = need + 1024;
                        v = xrealloc(v, cap * sizeof *v);
                }
                for (int k = 0; k < n_app + n_sasl + n_atk; k++) {
                        struct msg *m = &v[nv++];

                        memset(m, 0, sizeof *m);
                        m->org = pick_org();
                        if (k < n_app) {
                                static const char *const subj[] = {
                                        "Your order at Shop Example", "Your order has shipped",
                                        "Your invoice from Shop Example", "Reset your password",
                                };
                                m->kind = K_APP;
                                m->us = (begin + between(6 * 3600, 23 * 3600 - 60)) * 1000000 +
                                        between(0, 999999);
                                m->subject = subj[rnd() % 4];
                        } else if (k < n_app + n_sasl) {
                                m->kind = K_SASL;
                                m->us = (begin + between(8 * 3600, 18 * 3600)) * 1000000 +
                                        between(0, 999999);
                        } else {
                                unsigned a = (unsigned) (k - n_app - n_sasl);

                                m->kind = K_ATTACK;
                                m->n = atk_n++;
                                /* about one every three seconds from the day's start */
                                m->us = (begin + attack_start[day - SPIKE] + (int64_t) a * 3) * 1000000 +
                                        between(0, 2999999);
                                m->subject = atk_subjects[m->n % 3];
                                rcpt_for(m->rcpt, sizeof m->rcpt, m->org, 0, m->n + 500000);
                        }
                        make_qid(m->qid, sizeof m->qid);
                        if (m->kind == K_ATTACK) {
                                struct tm tm = utc(m->us / 1000000);
                                char st[20];

                                /* PHP mail() sets no Message-ID: cleanup adds its own */
                                strftime(st, sizeof st, "%Y%m%d%H%M%S", &tm);
                                snprintf(m->mid, sizeof m->mid, "%s.%s@web1.shop.example", st, m->qid);
                        }
                        sent[day][m->org]++;
                        total[day]++;
                }
        }
        qsort(v, nv, sizeof *v, cmp_msg);
        /* order numbers and customers in time order */
        for (size_t i = 0; i < nv; i++) {
                struct msg *m = &v[i];

                if (m->kind == K_APP) {
                        m->n = app_n++;
                        rcpt_for(m->rcpt, sizeof m->rcpt, m->org, 0, m->n);
                        snprintf(m->mid, sizeof m->mid, "order-%u.%08" PRIx64 "@shop.example",
                                 100000 + m->n, rnd() & 0xffffffffu);
                } else if (m->kind == K_SASL) {
                        m->n = sasl_n++;
                        rcpt_for(m->rcpt, sizeof m->rcpt, m->org, 1, m->n);
                        snprintf(m->mid, sizeof m->mid, "%08" PRIx64 "-%04x-%04x@shop.example",
                                 rnd() & 0xffffffffu, (unsigned) (rnd() & 0xffff),
                                 (unsigned) (rnd() & 0xffff));
                }
        }
        for (size_t i = 0; i < nv; i++) {
                log_message(&v[i]);
                n_msgs++;
        }
        snprintf(path, sizeof path, "%s/logs/mail.log", dir);
        mail_lines = flush(&mail_log, path);
        snprintf(path, sizeof path, "%s/logs/php_mail.log", dir);
        php_lines = flush(&php_log, path);

        /* the receivers' reports: one per receiver and day, counting what went to them; and
         * the one report of the receiver that got the spoofed mails */
        for (int day = 0; day < DAYS; day++) {
                for (int o = 0; o < ORGS; o++)
                        aggregate_day(o, day, day0 + (int64_t) day * 86400, sent[day][o]);
                if (day == SPOOF_DAY) {
                        struct row rows[2];

                        for (int i = 0; i < 2; i++) {
                                snprintf(rows[i].ip, sizeof rows[i].ip, "%s", spoof_ip[i]);
                                rows[i].count = spoof_n[i];
                                rows[i].pass = false;
                        }
                        aggregate(&spoof_org, day, day0 + (int64_t) day * 86400, rows, 2);
                }
        }

        snprintf(path, sizeof path, "%s/expected.txt", dir);
        expect = fopen(path, "we");
        if (!expect)
                die(path);
        for (int i = 0; i < SPIKE_DAYS; i++)
                attack_total += (uint64_t) attack_n[i];
        fprintf(expect, "# what dmarctrace must find in this incident (gen-incident)\n"
                        "spike_day=%s\nspike_days=%s", ymd(spike, d, sizeof d), d);
        for (int i = 1; i < SPIKE_DAYS; i++)
                fprintf(expect, " %s", ymd(spike + (int64_t) i * 86400, d, sizeof d));
        fprintf(expect, "\nattack_counts=");
        for (int i = 0; i < SPIKE_DAYS; i++)
                fprintf(expect, "%s%d", i ? " " : "", attack_n[i]);
        fprintf(expect, "\nnormal_day=%s\n", ymd(spike + (int64_t) SPIKE_DAYS * 86400, d, sizeof d));
        fprintf(expect, "spoof_day=%s\nspoof_org=%s\nspoof_messages=%" PRIu64 "\nspoof_ips=%s %s\n",
                ymd(day0 + (int64_t) SPOOF_DAY * 86400, d, sizeof d), spoof_org.name,
                spoof_n[0] + spoof_n[1], spoof_ip[0], spoof_ip[1]);
        fprintf(expect, "spike_begin=%" PRId64 "\nfirst_day=%s\ndays=%d\n"
                        "aggregate_reports=%d\nfailure_reports=%d\nattack_messages=%" PRIu64 "\n"
                        "spike_volume=%" PRIu64 "\nmessages=%" PRIu64 "\n"
                        "attack_script=%s\nattack_line=3\nattack_uid=33\napp_script=%s\napp_line=88\n"
                        "# day YYYY-MM-DD messages pass fail own_host local_sent (summary --json)\n",
                spike, ymd(day0, path, sizeof path), DAYS, DAYS * ORGS + 1, RUF_N, attack_total,
                total[SPIKE], n_msgs, script_atk, script_app);
        for (int day = 0; day < DAYS; day++)
                fprintf(expect, "day %s %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n",
                        ymd(day0 + (int64_t) day * 86400, d, sizeof d), reported[day].messages,
                        reported[day].pass, reported[day].messages - reported[day].pass,
                        reported[day].own, total[day]);

        /* failure reports about attack messages spread over the attack */
        for (size_t i = 0; i < nv; i++)
                if (v[i].kind == K_ATTACK)
                        natk++;
        atk = calloc(natk ? natk : 1, sizeof *atk);
        if (!atk)
                die("calloc");
        natk = 0;
        for (size_t i = 0; i < nv; i++)
                if (v[i].kind == K_ATTACK)
                        atk[natk++] = v[i];
        for (unsigned i = 0; i < RUF_N; i++)
                failure(&atk[i * (natk / RUF_N) + (size_t) (rnd() % (natk / RUF_N))], i, dir, expect);
        if (fclose(expect) != 0)
                die("expected.txt");

        snprintf(path, sizeof path, "%s/dmarctrace.conf", dir);
        f = fopen(path, "we");
        if (!f)
                die(path);
        fprintf(f, "# dmarctrace.conf - the demo incident (written by gen-incident)\n"
                   "maildir = { path = \"%s/Maildir\"; };\nstate_dir = \"%s/state\";\noutput = \"json\";\n"
                   "identity = {\n        addresses = [ \"203.0.113.25\" ];\n"
                   "        hostnames = [ \"web1.shop.example\" ];\n};\n"
                   "logs = {\n        postfix = [ \"%s/logs/mail.log\" ];\n"
                   "        php_mail = [ \"%s/logs/php_mail.log\" ];\n        exim = [ ];\n"
                   "        retention_days = 60;    # the whole five weeks stay in the index\n};\n"
                   "events = { records = \"own\"; };\n",
                dir, dir, dir, dir);
        if (fclose(f) != 0)
                die(path);

        printf("gen-incident: %s: shop.example, %d days from %s; spike days %s and ",
               argv[optind], DAYS, ymd(day0, path, sizeof path), ymd(spike, d, sizeof d));
        printf("%s\n", ymd(spike + 86400, d, sizeof d));
        printf("  web1 (203.0.113.25) sent %" PRIu64 " messages a day on average before, then %" PRIu64
               " and %" PRIu64 " (%" PRIu64 " from %s)\n",
               (n_msgs - total[SPIKE] - total[SPIKE + 1]) / (DAYS - SPIKE_DAYS), total[SPIKE],
               total[SPIKE + 1], attack_total, script_atk);
        printf("  %s: %" PRIu64 " spoofed mails from %s and %s, reported by %s\n",
               ymd(day0 + (int64_t) SPOOF_DAY * 86400, d, sizeof d), spoof_n[0] + spoof_n[1],
               spoof_ip[0], spoof_ip[1], spoof_org.name);
        printf("  Maildir: %d aggregate reports (zip, gzip, XML), %d failure reports; logs: %zu Postfix "
               "lines, %zu PHP mail() lines\n", DAYS * ORGS + 1, RUF_N, mail_lines, php_lines);
        free(v);
        free(atk);
        return 0;
}
