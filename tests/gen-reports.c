/* gen-reports.c - write synthetic DMARC aggregate reports for the demo and the benchmarks
 *
 * Usage: gen-reports [-o DIR] [-n REPORTS] [-r MIN-MAX] [-f xml|gz|eml|arf] [-s SEED] [--incident]
 *
 * Plain mode writes REPORTS reports of MIN..MAX records each, from a rotating set of receivers,
 * as bare XML, gzip, or whole messages carrying a base64 gzip attachment (what Google, Yahoo and
 * Microsoft send); arf writes failure reports (ARF with the original headers). --incident writes the demo story instead: three weeks of a shop domain that
 * sends about 100 messages a day, then a day on which the receivers count 190,000 from one of
 * its own server's addresses. Output is deterministic for a seed. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "tests/genbuf.h"

static const char *orgs[][2] = {
        { "google.com", "noreply-dmarc-support@google.com" },
        { "Yahoo", "dmarchelp@yahooinc.com" },
        { "Enterprise Outlook", "dmarcreport@microsoft.com" },
        { "Mail.Ru", "dmarc_support@corp.mail.ru" },
        { "Fastmail Pty Ltd", "dmarc-reports@fastmail.com" },
};

static uint64_t rng_state = 88172645463325252ull;

/* rnd - xorshift64: fast, deterministic, good enough for test data */
static uint64_t rnd(void) {
        rng_state ^= rng_state << 13;
        rng_state ^= rng_state >> 7;
        rng_state ^= rng_state << 17;
        return rng_state;
}

struct row {
        char ip[64];
        uint64_t count;
        int pass;
};

/* report_xml - one RFC 7489 report into b */
static void report_xml(struct buf *b, int org, const char *id, const char *domain, int64_t begin,
                       const struct row *rows, size_t n) {
        size_t i;

        bprintf(b, "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<feedback>\n  <report_metadata>\n"
                   "    <org_name>%s</org_name>\n    <email>%s</email>\n    <report_id>%s</report_id>\n"
                   "    <date_range>\n      <begin>%" PRId64 "</begin>\n      <end>%" PRId64 "</end>\n"
                   "    </date_range>\n  </report_metadata>\n  <policy_published>\n    <domain>%s</domain>\n"
                   "    <adkim>r</adkim>\n    <aspf>r</aspf>\n    <p>none</p>\n    <sp>none</sp>\n"
                   "    <pct>100</pct>\n  </policy_published>\n",
                orgs[org][0], orgs[org][1], id, begin, begin + 86399, domain);
        for (i = 0; i < n; i++)
                bprintf(b, "  <record>\n    <row>\n      <source_ip>%s</source_ip>\n      <count>%" PRIu64
                           "</count>\n      <policy_evaluated>\n        <disposition>none</disposition>\n"
                           "        <dkim>%s</dkim>\n        <spf>%s</spf>\n      </policy_evaluated>\n"
                           "    </row>\n    <identifiers>\n      <header_from>%s</header_from>\n"
                           "    </identifiers>\n    <auth_results>\n      <dkim>\n        <domain>%s</domain>\n"
                           "        <selector>s1</selector>\n        <result>%s</result>\n      </dkim>\n"
                           "      <spf>\n        <domain>%s</domain>\n        <result>%s</result>\n"
                           "      </spf>\n    </auth_results>\n  </record>\n",
                        rows[i].ip, rows[i].count, rows[i].pass ? "pass" : "fail",
                        rows[i].pass ? "pass" : "fail", domain, domain, rows[i].pass ? "pass" : "fail",
                        domain, rows[i].pass ? "pass" : "softfail");
        bprintf(b, "</feedback>\n");
}

/* slug - name with spaces turned into '_', for file names (static buffer) */
static const char *slug(const char *name) {
        static char b[64];
        size_t i;

        for (i = 0; name[i] && i < sizeof b - 1; i++)
                b[i] = name[i] == ' ' ? '_' : name[i];
        b[i] = '\0';
        return b;
}

/* write_report - write one report in the chosen format into dir */
static void write_report(const char *dir, const char *fmt, int org, const char *id, const char *domain,
                         int64_t begin, const struct row *rows, size_t n) {
        static struct buf xml, gz, eml;
        char path[4096];
        const struct buf *out = &xml;
        FILE *f;

        xml.len = gz.len = eml.len = 0;
        report_xml(&xml, org, id, domain, begin, rows, n);
        if (strcmp(fmt, "xml") == 0) {
                snprintf(path, sizeof path, "%s/%s!%s!%" PRId64 "!%" PRId64 "!%s.xml", dir, slug(orgs[org][0]),
                         domain, begin, begin + 86399, id);
        } else {
                gzip_buf(&xml, &gz);
                out = &gz;
                snprintf(path, sizeof path, "%s/%s!%s!%" PRId64 "!%" PRId64 "!%s.xml.gz", dir,
                         slug(orgs[org][0]), domain, begin, begin + 86399, id);
        }
        if (strcmp(fmt, "eml") == 0) {
                bprintf(&eml, "Return-Path: <%s>\nFrom: %s <%s>\nTo: dmarc@%s\n"
                              "Subject: Report Domain: %s Submitter: %s Report-ID: <%s>\n"
                              "Message-ID: <%s.%" PRId64 "@%s>\nDate: Mon, 2 Nov 2026 10:00:00 +0000\n"
                              "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b1\"\n\n"
                              "--b1\nContent-Type: text/plain\n\nThis is an aggregate report from %s.\n\n"
                              "--b1\nContent-Type: application/gzip; name=\"%s!%s!%" PRId64 "!%" PRId64 ".xml.gz\"\n"
                              "Content-Transfer-Encoding: base64\n"
                              "Content-Disposition: attachment; filename=\"report.xml.gz\"\n\n",
                        orgs[org][1], orgs[org][0], orgs[org][1], domain, domain, orgs[org][0], id, id,
                        begin, "reports.example", orgs[org][0], orgs[org][0], domain, begin, begin + 86399);
                base64_lines(&gz, &eml, "\n");
                bprintf(&eml, "--b1--\n");
                out = &eml;
                snprintf(path, sizeof path, "%s/%" PRId64 ".%s.%d.eml", dir, begin, id, org);
        }
        f = fopen(path, "wb");
        if (!f || fwrite(out->p, 1, out->len, f) != out->len || fclose(f) != 0) {
                fprintf(stderr, "gen-reports: %s: %s\n", path, strerror(errno));
                exit(1);
        }
}

/* incident - the demo story: 21 quiet days, then the spike from this host's address */
static void incident(const char *dir, const char *fmt) {
        const int64_t day0 = 1793491200;        /* the spike day; the quiet days come before it */
        struct row rows[3];
        char id[64];
        int d, org;

        for (d = 0; d < 22; d++) {
                int64_t begin = day0 - (int64_t) (21 - d) * 86400;
                for (org = 0; org < 3; org++) {
                        size_t n = 0;
                        uint64_t base = org == 0 ? 55 : org == 1 ? 25 : 20;

                        snprintf(rows[n].ip, sizeof rows[n].ip, "203.0.113.25");
                        rows[n].count = d < 21 ? base + rnd() % 9 : base * 1900;
                        rows[n++].pass = 1;
                        if (rnd() % 3 == 0) {
                                snprintf(rows[n].ip, sizeof rows[n].ip, "198.51.100.%u", (unsigned) (rnd() % 200 + 1));
                                rows[n].count = 1 + rnd() % 3;
                                rows[n++].pass = 0;
                        }
                        snprintf(id, sizeof id, "%d%06u", org + 1, (unsigned) (d * 1000 + org));
                        write_report(dir, fmt, org, id, "shop.example", begin, rows, n);
                }
        }
}

/* write_failure - one ARF failure report (RFC 6591) about a message from domain, as a message */
static void write_failure(const char *dir, unsigned long i, const char *domain, const char *ip) {
        static struct buf eml;
        char path[4096];
        FILE *f;

        eml.len = 0;
        bprintf(&eml, "From: dmarc-noreply@receiver.example\nTo: ruf@%s\n"
                      "Subject: DMARC Failure Report for %s\nDate: Mon, 2 Nov 2026 10:%02lu:00 +0000\n"
                      "Message-ID: <ruf-%lu@receiver.example>\nMIME-Version: 1.0\n"
                      "Content-Type: multipart/report; report-type=feedback-report; boundary=\"r1\"\n\n"
                      "--r1\nContent-Type: text/plain\n\nA message claiming to be from you failed DMARC.\n\n"
                      "--r1\nContent-Type: message/feedback-report\n\nFeedback-Type: auth-failure\n"
                      "User-Agent: gen-reports/1.0\nVersion: 1\nOriginal-Mail-From: <wp@%s>\n"
                      "Original-Rcpt-To: <victim%lu@mail.example>\nArrival-Date: Mon, 2 Nov 2026 09:%02lu:00 +0000\n"
                      "Source-IP: %s\nReported-Domain: %s\nAuthentication-Results: receiver.example; "
                      "dmarc=fail header.from=%s\nAuth-Failure: dmarc\n\n"
                      "--r1\nContent-Type: text/rfc822-headers\n\n"
                      "Received: by web1.%s (Postfix, from userid 33)\n\tid 4F3A%06lX; Mon, 2 Nov 2026 09:%02lu:00 +0000 (UTC)\n"
                      "To: victim%lu@mail.example\nSubject: Your invoice %lu\n"
                      "X-PHP-Originating-Script: 33:x.php\nFrom: Billing <wp@%s>\n"
                      "Message-Id: <20261102.%lu@web1.%s>\nDate: Mon, 2 Nov 2026 09:%02lu:00 +0000\n\n--r1--\n",
                domain, domain, i % 60, i, domain, i, i % 60, ip, domain, domain, domain, i, i % 60, i, i,
                domain, i, domain, i % 60);
        snprintf(path, sizeof path, "%s/ruf.%lu.eml", dir, i);
        f = fopen(path, "wb");
        if (!f || fwrite(eml.p, 1, eml.len, f) != eml.len || fclose(f) != 0) {
                fprintf(stderr, "gen-reports: %s: %s\n", path, strerror(errno));
                exit(1);
        }
}

int main(int argc, char **argv) {
        static const struct option longopts[] = { { "incident", no_argument, NULL, 'i' }, {} };
        const char *dir = ".", *fmt = "xml";
        unsigned long n = 100, rmin = 1, rmax = 50, i, j;
        bool story = false;
        struct row *rows;
        char id[64];
        int c;

        while ((c = getopt_long(argc, argv, "o:n:r:f:s:", longopts, NULL)) != -1) {
                switch (c) {
                case 'o': dir = optarg; break;
                case 'n': n = strtoul(optarg, NULL, 10); break;
                case 'r':
                        if (sscanf(optarg, "%lu-%lu", &rmin, &rmax) != 2 || rmin == 0 || rmax < rmin)
                                return 2;
                        break;
                case 'f': fmt = optarg; break;
                case 's': rng_state ^= strtoull(optarg, NULL, 10) * 0x9E3779B97F4A7C15ull; break;
                case 'i': story = true; break;
                default: return 2;
                }
        }
        if (strcmp(fmt, "xml") && strcmp(fmt, "gz") && strcmp(fmt, "eml") && strcmp(fmt, "arf")) {
                fprintf(stderr, "gen-reports: -f takes xml, gz, eml or arf\n");
                return 2;
        }
        if (story) {
                incident(dir, fmt);
                return 0;
        }
        if (strcmp(fmt, "arf") == 0) {
                for (i = 0; i < n; i++)
                        write_failure(dir, i, "shop.example", "203.0.113.25");
                return 0;
        }
        rows = calloc(rmax, sizeof *rows);
        if (!rows)
                return 1;
        for (i = 0; i < n; i++) {
                unsigned long nr = rmin + rnd() % (rmax - rmin + 1);
                for (j = 0; j < nr; j++) {
                        uint64_t v = rnd();
                        if (v & 1)
                                snprintf(rows[j].ip, sizeof rows[j].ip, "%u.%u.%u.%u", (unsigned) (v >> 8 & 223) + 1,
                                         (unsigned) (v >> 16 & 255), (unsigned) (v >> 24 & 255), (unsigned) (v >> 32 & 254) + 1);
                        else
                                snprintf(rows[j].ip, sizeof rows[j].ip, "2001:db8:%x::%x", (unsigned) (v >> 8 & 0xffff),
                                         (unsigned) (v >> 24 & 0xffff));
                        rows[j].count = 1 + (v >> 40) % 500;
                        rows[j].pass = (v >> 50) % 5 != 0;
                }
                snprintf(id, sizeof id, "%lu-%lu", i, (unsigned long) (rnd() % 100000));
                write_report(dir, fmt, (int) (i % 5), id, "example.com",
                             1790000000 + (int64_t) (i % 30) * 86400, rows, nr);
        }
        free(rows);
        return 0;
}
