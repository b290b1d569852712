/* test-logline.c - time stamps, the line classifier, and the Postfix, Exim and PHP readers */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "correlate/logline.h"
#include "report/macro.h"
#include "tests/testutil.h"

#define NOW 1773144000  /* 2026-03-10T12:00:00Z */

static enum dt_lineclass parse(const char *line, enum dt_logsrc src, struct dt_logrec *r) {
        return dt_logline_parse(line, strlen(line), src, NOW, &dt_limits_default, r, NULL);
}

/* ---- time stamps ---- */

static const struct {
        const char *s;
        int64_t now, want;
        size_t used;
} syslog_cases[] = {
        { "Mar 10 11:59:00 h", NOW, 1773143940, 15 },
        { "Mar  9 00:00:01 h", NOW, 1773014401, 15 },
        { "Mar 9 00:00:01 h", NOW, 1773014401, 14 },
        { "Mar 11 11:00:00 h", NOW, 1773226800, 15 },          /* a day ahead: clock skew */
        /* New Year: read on 2027-01-01T00:10Z, a December line is from 2026 */
        { "Dec 31 23:59:59 h", 1798762200, 1798761599, 15 },
        { "Jan  1 00:05:00 h", 1798762200, 1798761900, 15 },
        /* read in January 2026, a line of late March is March 2025 */
        { "Mar 30 10:00:00 h", 1767225600, 1743328800, 15 },
        { "Foo 10 11:59:00 h", NOW, 0, 0 },
        { "Mar 32 11:59:00 h", NOW, 0, 0 },
        { "Mar 10 25:59:00 h", NOW, 0, 0 },
        { "Mar 10 11:59", NOW, 0, 0 },
};

START_TEST(syslog_stamps)
{
        for (size_t i = 0; i < ELEMENTSOF(syslog_cases); i++) {
                int64_t t = 0;
                size_t n = dt_logtime_syslog(syslog_cases[i].s, strlen(syslog_cases[i].s),
                                             syslog_cases[i].now, &t);

                ck_assert_msg(n == syslog_cases[i].used, "case %zu: used %zu", i, n);
                if (n)
                        ck_assert_msg(t == syslog_cases[i].want, "case %zu: %lld", i, (long long) t);
        }
}
END_TEST

static const struct {
        const char *s;
        int64_t want;
        size_t used;
} rfc3339_cases[] = {
        { "2026-11-03T10:15:01.123456+00:00 h", 1793700901, 32 },
        { "2026-11-03T10:15:01+01:00", 1793697301, 25 },
        { "2026-11-03T10:15:01Z", 1793700901, 20 },
        { "2026-11-03T10:15:01.5-05:30", 1793720701, 27 },
        { "2023-03-14T00:00:31.185246+01:00", 1678748431, 32 },
        { "2026-11-03T10:15:01", 0, 0 },                        /* no offset */
        { "2026-13-03T10:15:01Z", 0, 0 },
        { "2026-11-03 10:15:01Z", 0, 0 },
};

START_TEST(rfc3339_stamps)
{
        for (size_t i = 0; i < ELEMENTSOF(rfc3339_cases); i++) {
                int64_t t = 0;
                size_t n = dt_logtime_rfc3339(rfc3339_cases[i].s, strlen(rfc3339_cases[i].s), &t);

                ck_assert_msg(n == rfc3339_cases[i].used, "case %zu: used %zu", i, n);
                if (n)
                        ck_assert_msg(t == rfc3339_cases[i].want, "case %zu: %lld", i, (long long) t);
        }
}
END_TEST

START_TEST(exim_stamps)
{
        int64_t t = 0;

        ck_assert_uint_eq(dt_logtime_exim("2026-03-10 12:00:00 x", 21, &t), 19);
        ck_assert_int_eq(t, NOW);
        ck_assert_uint_eq(dt_logtime_exim("2026-03-10 13:00:00.123 +0100 x", 31, &t), 29);
        ck_assert_int_eq(t, NOW);
        ck_assert_uint_eq(dt_logtime_exim("2026-03-10T12:00:00", 19, &t), 0);
}
END_TEST

static const struct {
        const char *s;
        int64_t want;
        bool unknown;
} php_cases[] = {
        { "10-Mar-2026 12:00:00 UTC", NOW, false },
        { "10-Mar-2026 13:00:00 Europe/Berlin", NOW, false },           /* CET */
        { "10-Jul-2026 14:00:00 Europe/Berlin", 1783684800, false },    /* CEST */
        { "10-Mar-2026 07:00:00 America/New_York", NOW - 3600, false }, /* EST: DST starts 8 Mar */
        { "10-Mar-2026 12:00:00 Mars/Olympus_Mons", NOW, true },
        { "10-Mar-2026 12:00:00 ../../etc/passwd", NOW, true },
};

START_TEST(php_stamps)
{
        for (size_t i = 0; i < ELEMENTSOF(php_cases); i++) {
                int64_t t = 0;
                bool unk = false;
                size_t n = dt_logtime_php(php_cases[i].s, strlen(php_cases[i].s), &t, &unk);

                ck_assert_msg(n == strlen(php_cases[i].s), "case %zu: used %zu", i, n);
                ck_assert_msg(t == php_cases[i].want, "case %zu: %lld", i, (long long) t);
                ck_assert_int_eq(unk, php_cases[i].unknown);
        }
        /* the zone switch leaves the process's own TZ alone */
        ck_assert_str_eq(getenv("TZ"), "UTC");
}
END_TEST

/* ---- Postfix ---- */

START_TEST(postfix_variants)
{
        struct dt_logrec r;

        ck_assert_int_eq(parse("Nov  3 10:15:01 web1 postfix/pickup[123]: 4F3A1C0A12: uid=33 "
                               "from=<www-data>", DT_SRC_SYSLOG, &r), DT_LC_RECORD);
        ck_assert_int_eq(r.kind, DT_LK_PICKUP);
        ck_assert_int_eq(r.uid, 33);
        ck_assert_str_eq(r.from, "www-data");
        ck_assert_str_eq(r.queue_id, "4F3A1C0A12");
        ck_assert_str_eq(r.host, "web1");
        ck_assert_str_eq(r.service, "pickup");
        ck_assert_int_eq(r.pid, 123);
        ck_assert(r.flags & DT_LR_NO_YEAR);

        ck_assert_int_eq(parse("2023-03-14T06:37:45.401240+01:00 helga postfix/submission/smtpd[327512]: "
                               "4PbMk12r7Wz3tBr: client=host2.uhu-banane.de[162.254.24.33], "
                               "sasl_method=LOGIN, sasl_username=vmail@uhu-banane.net",
                               DT_SRC_AUTO, &r), DT_LC_RECORD);
        ck_assert_int_eq(r.kind, DT_LK_CLIENT);
        ck_assert_str_eq(r.queue_id, "4PbMk12r7Wz3tBr");
        ck_assert_str_eq(r.client_host, "host2.uhu-banane.de");
        ck_assert_str_eq(r.client_ip, "162.254.24.33");
        ck_assert_str_eq(r.sasl_method, "LOGIN");
        ck_assert_str_eq(r.sasl_username, "vmail@uhu-banane.net");
        ck_assert_str_eq(r.instance, "postfix");
        ck_assert_str_eq(r.service, "submission/smtpd");
        ck_assert_int_eq(r.time, 1678772265);

        ck_assert_int_eq(parse("Nov  3 10:15:01 mx postfix-out/cleanup[9]: 4F3A1C0A12: "
                               "message-id=<a.b@c>", DT_SRC_SYSLOG, &r), DT_LC_RECORD);
        ck_assert_int_eq(r.kind, DT_LK_MSGID);
        ck_assert_str_eq(r.message_id, "a.b@c");
        ck_assert_str_eq(r.instance, "postfix-out");
        ck_assert_int_eq(parse("Nov  3 10:15:01 mx postfix/cleanup[9]: 4F3A1C0A12: "
                               "message-id=20261103.abc@host", DT_SRC_SYSLOG, &r), DT_LC_RECORD);
        ck_assert_str_eq(r.message_id, "20261103.abc@host");
        ck_assert_int_eq(parse("Nov  3 10:15:01 mx postfix/cleanup[9]: 4F3A1C0A12: message-id=<>",
                               DT_SRC_SYSLOG, &r), DT_LC_OTHER);

        ck_assert_int_eq(parse("Nov  3 10:15:01 mx postfix/cleanup[9]: 4F3A1C0A12: info: header "
                               "Subject: Invoice 12 from localhost[127.0.0.1]; from=<a@b> "
                               "to=<c@d> proto=ESMTP helo=<x>", DT_SRC_SYSLOG, &r), DT_LC_RECORD);
        ck_assert_int_eq(r.kind, DT_LK_HEADER);
        ck_assert_str_eq(r.subject, "Invoice 12");
        ck_assert_str_eq(r.header, "Subject: Invoice 12");
        ck_assert_str_eq(r.from, "a@b");
        ck_assert_str_eq(r.to, "c@d");

        ck_assert_int_eq(parse("Nov  3 10:15:01 mx postfix/qmgr[9]: 4F3A1C0A12: from=<a@b>, "
                               "size=2345, nrcpt=3 (queue active)", DT_SRC_SYSLOG, &r),
                         DT_LC_RECORD);
        ck_assert_int_eq(r.kind, DT_LK_QMGR);
        ck_assert_int_eq(r.size, 2345);
        ck_assert_int_eq(r.nrcpt, 3);
        ck_assert_str_eq(r.from, "a@b");
        ck_assert_int_eq(parse("Nov  3 10:15:01 mx postfix/qmgr[9]: 4F3A1C0A12: removed",
                               DT_SRC_SYSLOG, &r), DT_LC_RECORD);
        ck_assert_int_eq(r.kind, DT_LK_REMOVED);
        ck_assert_int_eq(parse("Nov  3 10:15:01 mx postfix/postsuper[9]: 4F3A1C0A12: removed",
                               DT_SRC_SYSLOG, &r), DT_LC_RECORD);
        ck_assert_int_eq(r.kind, DT_LK_POSTSUPER);
        ck_assert_int_eq(parse("Nov  3 10:15:01 mx postfix/postsuper[9]: 4F3A1C0A12: placed on hold",
                               DT_SRC_SYSLOG, &r), DT_LC_RECORD);
        ck_assert_int_eq(r.kind, DT_LK_POSTSUPER);

        ck_assert_int_eq(parse("2023-03-14T00:08:35.948047+01:00 helga postfix/amavis/smtp[302609]: "
                               "4PbC4x469Jz3tBr: to=<user01.test@uhu-banane.net>, orig_to=<frank@x.de>,"
                               " relay=127.0.0.1[127.0.0.1]:10024, delay=2.4, dsn=2.0.0, status=sent "
                               "(250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: queued as "
                               "4PbC4z6W5Qz3tG3)", DT_SRC_AUTO, &r), DT_LC_RECORD);
        ck_assert_int_eq(r.kind, DT_LK_DELIVERY);
        ck_assert_str_eq(r.to, "user01.test@uhu-banane.net");
        ck_assert_str_eq(r.relay, "127.0.0.1[127.0.0.1]:10024");
        ck_assert_str_eq(r.status, "sent");
        ck_assert_str_eq(r.next_queue_id, "4PbC4z6W5Qz3tG3");
        ck_assert_int_eq(parse("Nov  3 10:15:01 mx postfix/local[9]: 4F3A1C0A12: to=<r@x>, "
                               "relay=local, status=sent (forwarded as 4F3A1C0A13)", DT_SRC_SYSLOG,
                               &r), DT_LC_RECORD);
        ck_assert_str_eq(r.next_queue_id, "4F3A1C0A13");
        ck_assert_int_eq(parse("Nov  3 10:15:01 mx postfix/bounce[9]: 4F3A1C0A12: sender "
                               "non-delivery notification: 4F3A1C0A14", DT_SRC_SYSLOG, &r),
                         DT_LC_RECORD);
        ck_assert_int_eq(r.kind, DT_LK_BOUNCE);
        ck_assert_str_eq(r.next_queue_id, "4F3A1C0A14");
        /* lines of no interest and the look-alikes of a queue id */
        ck_assert_int_eq(parse("Nov  3 10:15:01 mx postfix/smtpd[9]: NOQUEUE: reject: RCPT from x",
                               DT_SRC_SYSLOG, &r), DT_LC_OTHER);
        ck_assert_int_eq(parse("Nov  3 10:15:01 mx postfix/anvil[9]: statistics: max connection",
                               DT_SRC_SYSLOG, &r), DT_LC_OTHER);
        ck_assert_int_eq(parse("Nov  3 10:15:01 mx postfix/smtp[9]: 4F3A1C0A12: to=<a@b>, relay=x",
                               DT_SRC_SYSLOG, &r), DT_LC_MALFORMED);
        ck_assert_int_eq(parse("Nov  3 10:15:01 mx postfix/pickup[9]: 4F3A1C0A12: uid=x from=<a>",
                               DT_SRC_SYSLOG, &r), DT_LC_MALFORMED);
        ck_assert_int_eq(parse("Nov  3 10:15:01 mx CRON[9]: (root) CMD (x)", DT_SRC_SYSLOG, &r),
                         DT_LC_FOREIGN);
}
END_TEST

/* ---- Exim ---- */

START_TEST(exim_variants)
{
        struct dt_logrec r;

        ck_assert_int_eq(parse("2026-03-10 11:00:00 [3001] 1vAbCd-00000000001-0001 <= blog@example.com "
                               "U=bloguser P=local S=1234 id=<x1@blog> T=\"New \\\"comment\\\"\"",
                               DT_SRC_EXIM, &r), DT_LC_RECORD);
        ck_assert_int_eq(r.kind, DT_LK_ARRIVAL);
        ck_assert_int_eq(r.mta, DT_MTA_EXIM);
        ck_assert_str_eq(r.queue_id, "1vAbCd-00000000001-0001");
        ck_assert_str_eq(r.from, "blog@example.com");
        ck_assert_str_eq(r.user, "bloguser");
        ck_assert_str_eq(r.protocol, "local");
        ck_assert_int_eq(r.size, 1234);
        ck_assert_str_eq(r.message_id, "x1@blog");
        ck_assert_str_eq(r.subject, "New \"comment\"");
        ck_assert_int_eq(r.pid, 3001);
        ck_assert_int_eq(r.time, NOW - 3600);

        ck_assert_int_eq(parse("2013-06-10 18:33:32 1PLKOW-00046U-EW <= a@b H=mail.x.net (helo) "
                               "[192.0.2.7]:4123 I=[10.0.0.1]:587 P=esmtpsa "
                               "A=dovecot_plain:alice@x.net S=900 id=m@x", DT_SRC_EXIM, &r),
                         DT_LC_RECORD);
        ck_assert_str_eq(r.queue_id, "1PLKOW-00046U-EW");
        ck_assert_str_eq(r.client_host, "mail.x.net");
        ck_assert_str_eq(r.client_ip, "192.0.2.7");
        ck_assert_str_eq(r.protocol, "esmtpsa");
        ck_assert_str_eq(r.sasl_method, "dovecot_plain");
        ck_assert_str_eq(r.sasl_username, "alice@x.net");

        ck_assert_int_eq(parse("1999-03-02 09:44:33 10HmaX-000000005vi-0000 => userx@doma.ex R=all "
                               "T=smtp H=127.0.0.1 [127.0.0.1] C=\"250 OK id=10HmaY-000000005vi-0000\"",
                               DT_SRC_EXIM, &r), DT_LC_RECORD);
        ck_assert_int_eq(r.kind, DT_LK_DELIVERY);
        ck_assert_str_eq(r.to, "userx@doma.ex");
        ck_assert_str_eq(r.relay, "127.0.0.1");
        ck_assert_str_eq(r.status, "sent");
        ck_assert_str_eq(r.next_queue_id, "10HmaY-000000005vi-0000");
        ck_assert_int_eq(parse("1999-03-02 09:44:33 10HmbB-000000005vi-0000 == usery@domf.ex R=all "
                               "T=smtp defer (-57): concurrency limit", DT_SRC_EXIM, &r), DT_LC_RECORD);
        ck_assert_str_eq(r.status, "deferred");
        ck_assert_int_eq(parse("1999-03-02 09:44:33 10HmbB-000000005vi-0000 ** bad@x R=r: unknown",
                               DT_SRC_EXIM, &r), DT_LC_RECORD);
        ck_assert_str_eq(r.status, "bounced");
        ck_assert_int_eq(parse("1999-03-02 09:44:33 10HmbB-000000005vi-0000 Completed", DT_SRC_EXIM,
                               &r), DT_LC_RECORD);
        ck_assert_int_eq(r.kind, DT_LK_COMPLETED);
        ck_assert_int_eq(parse("2026-03-10 11:00:00 [77] cwd=/var/www/my site 3 args: sendmail -t -i",
                               DT_SRC_EXIM, &r), DT_LC_RECORD);
        ck_assert_int_eq(r.kind, DT_LK_CWD);
        ck_assert_str_eq(r.script, "/var/www/my site");
        ck_assert_str_eq(r.args, "sendmail -t -i");
        ck_assert_int_eq(r.pid, 77);
        /* syslog'd Exim, with its own stamp inside (journal style) */
        ck_assert_int_eq(parse("mail.example.com exim[3751842]: 2021-07-17 23:20:49 1PLKOW-00046U-EW "
                               "Completed", DT_SRC_AUTO, &r), DT_LC_RECORD);
        ck_assert_int_eq(r.pid, 3751842);
        ck_assert_str_eq(r.host, "mail.example.com");
        ck_assert_int_eq(parse("1999-03-02 09:44:33 Start queue run: pid=p1234", DT_SRC_EXIM, &r),
                         DT_LC_OTHER);
        ck_assert_int_eq(parse("******** SERVER ********", DT_SRC_EXIM, &r), DT_LC_MALFORMED);
}
END_TEST

/* ---- PHP ---- */

START_TEST(php_variants)
{
        struct dt_logrec r;

        ck_assert_int_eq(parse("[10-Mar-2026 12:00:00 UTC] mail() on [/var/www/a:b/x.php:3]: "
                               "To: Victim <v@example.org>, w@example.org -- Headers: From: Bank "
                               "<billing@bank.example>  X-Mailer: PHP/8.2 -- Subject: Invoice 5",
                               DT_SRC_PHP, &r), DT_LC_RECORD);
        ck_assert_int_eq(r.kind, DT_LK_PHP_MAIL);
        ck_assert_int_eq(r.mta, DT_MTA_PHP);
        ck_assert_int_eq(r.time, NOW);
        ck_assert_str_eq(r.script, "/var/www/a:b/x.php");
        ck_assert_int_eq(r.script_line, 3);
        ck_assert_str_eq(r.to, "v@example.org");
        ck_assert_str_eq(r.to_raw, "Victim <v@example.org>, w@example.org");
        ck_assert_str_eq(r.from_hdr, "Bank <billing@bank.example>");
        ck_assert_str_eq(r.subject, "Invoice 5");

        /* older PHP: no Subject part */
        ck_assert_int_eq(parse("[10-Mar-2026 13:00:00 Europe/Berlin] mail() on [/srv/f.php:12]: "
                               "To: A@Example.ORG -- Headers: X-Test: 1", DT_SRC_PHP, &r),
                         DT_LC_RECORD);
        ck_assert_int_eq(r.time, NOW);
        ck_assert_str_eq(r.to, "a@example.org");
        ck_assert_str_eq(r.subject, "");
        ck_assert_str_eq(r.from_hdr, "");
        /* unknown zone: read as UTC, flagged */
        ck_assert_int_eq(parse("[10-Mar-2026 12:00:00 Nowhere/Land] mail() on [/x.php:1]: To: a@b "
                               "-- Headers:  -- Subject: s", DT_SRC_PHP, &r), DT_LC_RECORD);
        ck_assert(r.flags & DT_LR_TZ_UNKNOWN);
        ck_assert_int_eq(r.time, NOW);
        /* mail.log = syslog */
        ck_assert_int_eq(parse("Mar 10 12:00:00 web1 php: mail() on [/x.php:9]: To: a@b -- Headers: "
                               "From: c@d -- Subject: hi", DT_SRC_SYSLOG, &r), DT_LC_RECORD);
        ck_assert_int_eq(r.script_line, 9);
        ck_assert_str_eq(r.from_hdr, "c@d");
        ck_assert_int_eq(parse("[10-Mar-2026 12:00:00 UTC] mail() on [/x.php]: To: a@b", DT_SRC_PHP,
                               &r), DT_LC_MALFORMED);
        ck_assert_int_eq(parse("[10-Mar-2026 12:00:00 UTC] PHP Warning: foo", DT_SRC_PHP, &r),
                         DT_LC_OTHER);
}
END_TEST

/* ---- hostile lines ---- */

START_TEST(hostile_lines)
{
        struct dt_linestats st = {0};
        struct dt_logrec r;
        static const char pre[] = "Nov  3 10:15:01 mx postfix/cleanup[9]: 4F3A1C0A12: message-id=<";
        size_t big = 100 * 1024;
        char *l = malloc(sizeof pre + big + 2);
        const char ansi[] = "Nov  3 10:15:01 mx postfix/qmgr[9]: 4F3A1C0A12: from=<a\x1b[31m\0b@"
                            "\xff\xfe>, size=1, nrcpt=1";

        ck_assert_ptr_nonnull(l);
        memcpy(l, pre, sizeof pre - 1);
        memset(l + sizeof pre - 1, 'x', big);
        l[sizeof pre - 1 + big] = '>';
        ck_assert_int_eq(dt_logline_parse(l, sizeof pre + big, DT_SRC_SYSLOG, NOW,
                                          &dt_limits_default, &r, &st), DT_LC_TOO_LONG);
        /* within the line limit but beyond a Message-ID buffer: malformed, not cut */
        memcpy(l + sizeof pre - 1 + 1000, ">", 1);
        ck_assert_int_eq(dt_logline_parse(l, sizeof pre + 1000, DT_SRC_SYSLOG, NOW,
                                          &dt_limits_default, &r, &st), DT_LC_MALFORMED);
        free(l);
        ck_assert_int_eq(dt_logline_parse(ansi, sizeof ansi - 1, DT_SRC_SYSLOG, NOW,
                                          &dt_limits_default, &r, &st), DT_LC_RECORD);
        ck_assert_ptr_null(strchr(r.from, '\x1b'));
        ck_assert_str_eq(r.from, "a\xef\xbf\xbd[31m\\0b@\xef\xbf\xbd\xef\xbf\xbd");
        ck_assert_int_eq(st.n[DT_LC_TOO_LONG], 1);
        ck_assert_int_eq(st.n[DT_LC_MALFORMED], 1);
        ck_assert_int_eq(st.n[DT_LC_RECORD], 1);
        ck_assert_int_eq(parse("", DT_SRC_AUTO, &r), DT_LC_COMMENT);
        ck_assert_int_eq(parse("garbage", DT_SRC_AUTO, &r), DT_LC_MALFORMED);
        ck_assert_int_eq(parse("[", DT_SRC_AUTO, &r), DT_LC_MALFORMED);
        ck_assert_int_eq(parse("Nov  3 10:15:01", DT_SRC_AUTO, &r), DT_LC_MALFORMED);
}
END_TEST

/* ---- the real logs ---- */

struct counts {
        uint64_t cls[_DT_LC_MAX];
        uint64_t kind[_DT_LK_MAX];
        uint64_t lines;
};

static void count_buf(const char *b, size_t n, enum dt_logsrc src, struct counts *c) {
        const char *p = b, *end = b + n;

        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));
                size_t len = nl ? (size_t) (nl - p) : (size_t) (end - p);
                struct dt_logrec r;
                enum dt_lineclass k = dt_logline_parse(p, len, src, NOW, &dt_limits_default, &r,
                                                       NULL);

                c->cls[k]++;
                if (k == DT_LC_RECORD)
                        c->kind[r.kind]++;
                c->lines++;
                p = nl ? nl + 1 : end;
        }
}

START_TEST(corpus_pixelpark)
{
        gzFile gz = gzopen(dt_test_path("corpus/logs/postfix/pixelpark_mail.log.gz"), "rb");
        size_t cap = 16u << 20, n = 0;
        char *b = malloc(cap);
        struct counts c = {0};
        int k;

        ck_assert_ptr_nonnull(gz);
        ck_assert_ptr_nonnull(b);
        while ((k = gzread(gz, b + n, (unsigned) (cap - n))) > 0)
                n += (size_t) k;
        gzclose(gz);
        ck_assert_uint_lt(n, cap);
        count_buf(b, n, DT_SRC_AUTO, &c);
        free(b);
        ck_assert_uint_eq(c.lines, 69861);
        ck_assert_uint_eq(c.cls[DT_LC_MALFORMED], 0);
        ck_assert_uint_eq(c.cls[DT_LC_TOO_LONG], 0);
        ck_assert_uint_eq(c.cls[DT_LC_FOREIGN], 272);         /* amavis */
        ck_assert_uint_eq(c.cls[DT_LC_RECORD], 1823);
        ck_assert_uint_eq(c.cls[DT_LC_OTHER], 67766);
        ck_assert_uint_eq(c.kind[DT_LK_PICKUP], 6);
        ck_assert_uint_eq(c.kind[DT_LK_CLIENT], 357);
        ck_assert_uint_eq(c.kind[DT_LK_MSGID], 364);          /* + one message-id=<> */
        ck_assert_uint_eq(c.kind[DT_LK_QMGR], 365);
        ck_assert_uint_eq(c.kind[DT_LK_REMOVED], 365);
        ck_assert_uint_eq(c.kind[DT_LK_DELIVERY], 365);
        ck_assert_uint_eq(c.kind[DT_LK_BOUNCE], 1);
}
END_TEST

static const struct {
        const char *file;
        enum dt_logsrc src;
        uint64_t lines, record, other, comment, malformed;
        uint64_t arrival, delivery, completed;
} corpus_cases[] = {
        { "corpus/logs/postfix/fail2ban_postfix.log", DT_SRC_AUTO, 203, 0, 63, 140, 0, 0, 0, 0 },
        { "corpus/logs/exim/fail2ban_exim.log", DT_SRC_EXIM, 128, 0, 51, 77, 0, 0, 0, 0 },
        { "corpus/logs/exim/exim-testsuite_log_0005", DT_SRC_EXIM, 11, 9, 2, 0, 0, 3, 3, 3 },
        { "corpus/logs/exim/exim-testsuite_log_0570", DT_SRC_EXIM, 106, 66, 38, 1, 1, 18, 30, 18 },
        { "corpus/logs/exim/exim-testsuite_log_4650", DT_SRC_EXIM, 27, 3, 22, 1, 1, 3, 0, 0 },
};

START_TEST(corpus_others)
{
        for (size_t i = 0; i < ELEMENTSOF(corpus_cases); i++) {
                size_t n;
                char *b = dt_test_load(corpus_cases[i].file, &n);
                struct counts c = {0};

                /* a final newline ends the last line; it does not start an empty one */
                if (n > 0 && b[n - 1] == '\n')
                        n--;
                count_buf(b, n, corpus_cases[i].src, &c);
                free(b);
                ck_assert_msg(c.lines == corpus_cases[i].lines, "%zu: lines %llu", i,
                              (unsigned long long) c.lines);
                ck_assert_uint_eq(c.cls[DT_LC_RECORD], corpus_cases[i].record);
                ck_assert_uint_eq(c.cls[DT_LC_OTHER], corpus_cases[i].other);
                ck_assert_uint_eq(c.cls[DT_LC_COMMENT], corpus_cases[i].comment);
                ck_assert_uint_eq(c.cls[DT_LC_MALFORMED], corpus_cases[i].malformed);
                ck_assert_uint_eq(c.kind[DT_LK_ARRIVAL], corpus_cases[i].arrival);
                ck_assert_uint_eq(c.kind[DT_LK_DELIVERY], corpus_cases[i].delivery);
                ck_assert_uint_eq(c.kind[DT_LK_COMPLETED], corpus_cases[i].completed);
        }
}
END_TEST

int main(void) {
        Suite *s = suite_create("logline");
        TCase *tc = tcase_create("core");

        setenv("TZ", "UTC", 1);
        tzset();
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, syslog_stamps);
        tcase_add_test(tc, rfc3339_stamps);
        tcase_add_test(tc, exim_stamps);
        tcase_add_test(tc, php_stamps);
        tcase_add_test(tc, postfix_variants);
        tcase_add_test(tc, exim_variants);
        tcase_add_test(tc, php_variants);
        tcase_add_test(tc, hostile_lines);
        tcase_add_test(tc, corpus_pixelpark);
        tcase_add_test(tc, corpus_others);
        suite_add_tcase(s, tc);
        return dt_test_main(s);
}
