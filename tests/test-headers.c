/* test-headers.c - header block splitting, RFC 2047, dates, Received hops, sender headers */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report/headers.h"
#include "tests/testutil.h"

static double now_sec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static struct dt_headers *parse_fixture(const char *rel) {
        struct dt_headers *h = NULL;
        struct dt_error err = { 0 };
        size_t len;
        char *buf = dt_test_load(rel, &len);
        int r = dt_headers_parse(buf, len, &dt_limits_default, &h, &err);

        ck_assert_msg(r == 0, "%s: %d %s", rel, r, err.message);
        free(buf);
        return h;
}

/* ---- splitting ---- */

START_TEST(split_folding_lf_crlf)
{
        static const char *const in[] = {
                "Subject: one\n two\n\tthree\nX-A: 1\nX-A: 2\n\nbody: no\n",
                "Subject: one\r\n two\r\n\tthree\r\nX-A: 1\r\nX-A: 2\r\n\r\nbody: no\r\n",
        };
        for (size_t i = 0; i < 2; i++) {
                _cleanup_(dt_headers_block_freep) struct dt_header_block *b = NULL;
                struct dt_error err = { 0 };
                const struct dt_header_field *f;
                size_t it = 0;

                ck_assert_int_eq(dt_headers_split(in[i], strlen(in[i]), &dt_limits_default, &b,
                                                  &err), 0);
                ck_assert_uint_eq(b->n, 3);
                ck_assert_str_eq(b->fields[0].name, "Subject");
                ck_assert_str_eq(b->fields[0].value, "one two\tthree");
                f = dt_headers_find(b, "x-a", &it);
                ck_assert_ptr_nonnull(f);
                ck_assert_str_eq(f->value, "1");
                f = dt_headers_find(b, "X-A", &it);
                ck_assert_ptr_nonnull(f);
                ck_assert_str_eq(f->value, "2");
                ck_assert_ptr_null(dt_headers_find(b, "X-A", &it));
                ck_assert_uint_eq(b->flags & DT_HB_NO_BLANK, 0);
                ck_assert_str_eq(in[i] + b->end, i == 0 ? "body: no\n" : "body: no\r\n");
        }
}
END_TEST

START_TEST(split_stops_and_orphans)
{
        static const char in[] = " orphan\nFrom: a@b\nthis is text, not a field\nTo: c@d\n";
        _cleanup_(dt_headers_block_freep) struct dt_header_block *b = NULL;
        struct dt_error err = { 0 };

        ck_assert_int_eq(dt_headers_split(in, strlen(in), &dt_limits_default, &b, &err), 0);
        ck_assert_uint_eq(b->n, 1);
        ck_assert_str_eq(b->fields[0].value, "a@b");
        ck_assert(b->flags & DT_HB_ORPHAN);
        ck_assert(b->flags & DT_HB_STOPPED);
        ck_assert_str_eq(in + b->end, "this is text, not a field\nTo: c@d\n");
}
END_TEST

START_TEST(split_obsolete_space_before_colon_and_no_end)
{
        static const char in[] = "Subject : x\nEmpty:\nLast: y";
        _cleanup_(dt_headers_block_freep) struct dt_header_block *b = NULL;
        struct dt_error err = { 0 };

        ck_assert_int_eq(dt_headers_split(in, strlen(in), &dt_limits_default, &b, &err), 0);
        ck_assert_uint_eq(b->n, 3);
        ck_assert_str_eq(b->fields[0].name, "Subject");
        ck_assert_str_eq(b->fields[0].value, "x");
        ck_assert_uint_eq(b->fields[1].value_len, 0);
        ck_assert_str_eq(b->fields[2].value, "y");
        ck_assert(b->flags & DT_HB_NO_BLANK);
        ck_assert_uint_eq(b->end, strlen(in));
}
END_TEST

START_TEST(split_limits)
{
        struct dt_limits lim = dt_limits_default;
        struct dt_header_block *b = (struct dt_header_block *) 0x1;     /* untouched on error */
        struct dt_error err = { 0 };
        static const char three[] = "A: 1\nB: 2\nC: 3\n\n";
        char *big;

        lim.header_fields = 2;
        ck_assert_int_eq(dt_headers_split(three, strlen(three), &lim, &b, &err), -E2BIG);
        ck_assert_str_eq(err.reason, DT_R_HEADER_COUNT_LIMIT);
        ck_assert_ptr_eq(b, (void *) 0x1);

        /* a block that never ends: rejected at header_bytes, wherever its line ends are */
        lim = dt_limits_default;
        big = malloc(10u << 20);
        ck_assert_ptr_nonnull(big);
        memset(big, 'a', 10u << 20);
        memcpy(big, "X-Long: ", 8);
        ck_assert_int_eq(dt_headers_split(big, 10u << 20, &lim, &b, &err), -EFBIG);
        ck_assert_str_eq(err.reason, DT_R_HEADER_LIMIT);
        for (size_t i = 100; i < (10u << 20); i += 100)
                big[i] = '\n';          /* now "lines" of 99 bytes that are not fields ... */
        for (size_t i = 101; i < (10u << 20); i += 100)
                big[i] = ' ';           /* ... but continuations of X-Long */
        ck_assert_int_eq(dt_headers_split(big, 10u << 20, &lim, &b, &err), -EFBIG);
        ck_assert_str_eq(err.reason, DT_R_HEADER_LIMIT);
        ck_assert_ptr_eq(b, (void *) 0x1);
        free(big);
}
END_TEST

START_TEST(split_value_cap)
{
        _cleanup_(dt_headers_block_freep) struct dt_header_block *b = NULL;
        struct dt_error err = { 0 };
        size_t n = DT_HEADER_VALUE_MAX * 3;
        char *buf = malloc(n + 16);

        memcpy(buf, "X-Big: ", 7);
        memset(buf + 7, 'v', n);
        memcpy(buf + 7 + n, "\n\n", 3);
        ck_assert_int_eq(dt_headers_split(buf, 7 + n + 2, &dt_limits_default, &b, &err), 0);
        ck_assert_uint_eq(b->fields[0].value_len, DT_HEADER_VALUE_MAX);
        ck_assert_uint_eq(b->fields[0].raw_len, n);
        ck_assert(b->flags & DT_HB_TRUNCATED);
        free(buf);
}
END_TEST

/* ---- RFC 2047 ---- */

static const struct {
        const char *in, *out;
} decode_cases[] = {
        { "plain text", "plain text" },
        { "=?utf-8?q?caf=C3=A9_au_lait?=", "caf\xc3\xa9 au lait" },
        { "=?UTF-8?B?w7xiZXI=?=", "\xc3\xbc" "ber" },
        { "=?utf-8?q?a?= =?utf-8?q?b?=", "ab" },                /* space between words dropped */
        { "=?utf-8?q?a?=\r\n =?utf-8?q?b?= c", "ab c" },
        { "x =?utf-8?q?a?= y", "x a y" },
        { "=?ISO-8859-1?Q?J=F6rg?=", "J\xc3\xb6rg" },
        { "=?windows-1252?q?=80?=", "\xe2\x82\xac" },
        { "=?x-unknown?q?=FF?=", "\xff" },                       /* raw; sanitising makes U+FFFD */
        { "=?utf-8*en?q?hi?=", "hi" },                           /* RFC 2231 language */
        { "=?utf-8?x?bad?=", "=?utf-8?x?bad?=" },
        { "=?utf-8?q?no end", "=?utf-8?q?no end" },
        { "=?utf-8?q?has space?=", "=?utf-8?q?has space?=" },
        { "=??q?x?=", "=??q?x?=" },
        { "=?utf-8?q?a=0D=0AX-Injected:_1?=", "a\r\nX-Injected: 1" },
        { "a =?= b ?= =?utf-8?q?ok?=", "a =?= b ?= ok" },
};

START_TEST(decode_text_table)
{
        const char *in = decode_cases[_i].in;
        bool cut = true;
        _cleanup_free_ char *out = dt_headers_decode_text(in, strlen(in), 256, NULL, &cut);

        ck_assert_ptr_nonnull(out);
        ck_assert_msg(strcmp(out, decode_cases[_i].out) == 0, "'%s' -> '%s'", in, out);
        ck_assert(!cut);
}
END_TEST

START_TEST(decode_text_cap_and_linear)
{
        /* 1 MB of "=?" that never close, then of words that do: both linear, both capped */
        size_t n = 1u << 20;
        char *in = malloc(n);
        bool cut = false;
        double t0 = now_sec();
        char *out;

        for (size_t i = 0; i < n; i++)
                in[i] = (i % 3 == 0) ? '=' : (i % 3 == 1) ? '?' : 'a';
        out = dt_headers_decode_text(in, n, 1000, NULL, &cut);
        ck_assert_ptr_nonnull(out);
        ck_assert_uint_eq(strlen(out), 1000);
        ck_assert(cut);
        free(out);
        for (size_t i = 0; i + 14 <= n; i += 14)
                memcpy(in + i, "=?utf-8?q?=C3", 13), in[i + 13] = '?';
        out = dt_headers_decode_text(in, n, n, NULL, &cut);
        ck_assert_ptr_nonnull(out);
        free(out);
        ck_assert_msg(now_sec() - t0 < 2.0, "decoding took %.2fs", now_sec() - t0);
        free(in);
}
END_TEST

START_TEST(decode_text_cuts_on_char_boundary)
{
        static const char in[] = "=?utf-8?q?=C3=A9=C3=A9=C3=A9?=";
        bool cut = false;
        _cleanup_free_ char *out = dt_headers_decode_text(in, strlen(in), 5, NULL, &cut);

        ck_assert(cut);
        ck_assert_str_eq(out, "\xc3\xa9\xc3\xa9");
}
END_TEST

/* ---- dates ---- */

static const struct {
        const char *in;
        int64_t t;      /* -1: rejected */
} date_cases[] = {
        { "Wed, 14 Apr 2010 12:17:45 -0700 (PDT)", 1271272665 },
        { "8 Oct 2011 20:15:58 +0000 (GMT)", 1318104958 },
        { "Fri, 28 Sep 2018 08:48:36.716 +0000 (UTC)", 1538124516 },
        { "  Tue,  5 Oct 2021 17:37:02 +1300 (NZDT)  ", 1633408622 },
        { "garbage", -1 },
        { "", -1 },
};

START_TEST(parse_date_table)
{
        int64_t t = 0;
        int r = dt_headers_parse_date(date_cases[_i].in, strlen(date_cases[_i].in), &t);

        if (date_cases[_i].t < 0) {
                ck_assert_int_eq(r, -EINVAL);
                return;
        }
        ck_assert_int_eq(r, 0);
        ck_assert_int_eq(t, date_cases[_i].t);
}
END_TEST

START_TEST(parse_date_nul)
{
        static const char d[] = "Wed, 14 Apr 2010\0 12:17:45 -0700";
        int64_t t = 7;

        ck_assert_int_eq(dt_headers_parse_date(d, sizeof d - 1, &t), -EINVAL);
        ck_assert_int_eq(t, 7);
}
END_TEST

/* ---- Received ---- */

static const struct {
        const char *v;
        const char *helo, *host, *ip, *by, *with, *id, *for_addr;
        int64_t date;   /* -1: none */
} recv_cases[] = {
        { "from mail.example.org (mail.example.org [192.0.2.1]) by mx.example.net (Postfix) "
          "with ESMTPS id 4XyZ for <a@example.net>; Tue, 30 Apr 2019 02:09:00 +0000",
          "mail.example.org", "mail.example.org", "192.0.2.1", "mx.example.net", "ESMTPS",
          "4XyZ", "a@example.net", 1556590140 },
        { "from 163.com (unknown [192.168.201.141])\tby mfast9 (Coremail) with SMTP id "
          "uMCowEAJ6lTs6q1bwLXEEg--.1184S2;\tFri, 28 Sep 2018 16:48:44 +0800 (CST)",
          "163.com", NULL, "192.168.201.141", "mfast9", "SMTP", "uMCowEAJ6lTs6q1bwLXEEg--.1184S2",
          NULL, 1538124524 },
        { "from [203.0.113.68] (helo=smtpclient.apple) by node04.mailgate.example.net with esmtp "
          "(Exim 4.92) (envelope-from <user@example.com>) id 1u1tpA-00AAwZ-CR for "
          "user@example.com; Mon, 07 Apr 2025 23:16:08 +0200",
          "smtpclient.apple", NULL, "203.0.113.68", "node04.mailgate.example.net", "esmtp",
          "1u1tpA-00AAwZ-CR", "user@example.com", 1744060568 },
        { "from mailf-cd.linkedin.com ([108.174.6.228]) by example.uriports.com with esmtps "
          "(TLS1.2:ECDHE_RSA_AES_256_GCM_SHA384:256) (MTA 2.20) (envelope-from "
          "<dmarc-noreply@linkedin.com>) id 1hLICq-00001z-JU for dmarc@example.uriports.com; "
          "Tue, 30 Apr 2019 02:09:16 +0000",
          "mailf-cd.linkedin.com", "mailf-cd.linkedin.com", "108.174.6.228",
          "example.uriports.com", "esmtps", "1hLICq-00001z-JU", "dmarc@example.uriports.com",
          1556590156 },
        { "from [10.10.10.10] ([10.10.10.10:4227] helo=mail02.someserver.com) by "
          "mail516.prod.linkedin.com (envelope-from <>) (ecelerity 3.6.21.53563 "
          "r(Core:3.6.21.0)) with ESMTPS (cipher=ECDHE-RSA-AES256-GCM-SHA384 "
          "subject=\"/OU=Domain Control Validated/CN=*.someserver.com\") id "
          "CA/91-26019-ABCDECC5; Tue, 30 Apr 2019 02:09:00 +0000",
          "mail02.someserver.com", NULL, "10.10.10.10", "mail516.prod.linkedin.com", "ESMTPS",
          "CA/91-26019-ABCDECC5", NULL, 1556590140 },
        { "from DENU02MS0016.someserver.loc (10.156.68.14) by DENU02MS0017.someserver.loc "
          "(10.10.10.9) with Microsoft SMTP Server (TLS) id 15.0.1367.3; Tue, 30 Apr 2019 "
          "04:09:09 +0200",
          "DENU02MS0016.someserver.loc", NULL, "10.156.68.14", "DENU02MS0017.someserver.loc",
          "Microsoft", "15.0.1367.3", NULL, 1556590149 },
        { "from [IPv6:::ffff:203.0.113.68] (unknown [203.0.113.68]) by example.com (Postfix) "
          "with ESMTP id 9CCA25FC9873 for <user@example.com>; Mon, 7 Apr 2025 10:10:06 -0600 "
          "(UTC)",
          "[IPv6:::ffff:203.0.113.68]", NULL, "203.0.113.68", "example.com", "ESMTP",
          "9CCA25FC9873", "user@example.com", 1744042206 },
        { "from [127.0.0.1] ([local]) by mail516.prod.linkedin.com (envelope-from "
          "<dmarc-noreply@linkedin.com>) (ecelerity 3.6.21.53563 r(Core:3.6.21.0)) with UNKNOWN "
          "id AA/01-16018-D1AA1CC5; Tue, 30 Apr 2019 02:09:00 +0000",
          "[127.0.0.1]", NULL, "127.0.0.1", "mail516.prod.linkedin.com", "UNKNOWN",
          "AA/01-16018-D1AA1CC5", NULL, 1556590140 },
        { "from helo.example (root@host.example.com [198.51.100.3]) by mx (8.15.2/8.15.2) with "
          "ESMTP id x1; Tue, 30 Apr 2019 02:09:00 +0000",
          "helo.example", "host.example.com", "198.51.100.3", "mx", "ESMTP", "x1", NULL,
          1556590140 },
        { "by pixel1.example.com (Postfix, from userid 501) id C3726626BC; Thu,  2 Jul 2020 "
          "06:04:42 -0400 (EDT)",
          NULL, NULL, NULL, "pixel1.example.com", NULL, "C3726626BC", NULL, 1593684282 },
        { "by filter1356p1mdw1.sendgrid.net with SMTP id filter1356p1mdw1-30359-5BADEAE4-E "
          "2018-09-28 08:48:36.858842501 +0000 UTC m=+1856335.516585242",
          NULL, NULL, NULL, "filter1356p1mdw1.sendgrid.net", "SMTP",
          "filter1356p1mdw1-30359-5BADEAE4-E", NULL, -1 },
        { "from x (comment (nested; with semicolon) [999.1.1.1]) by y; not a date",
          "x", "comment", NULL, "y", NULL, NULL, NULL, -1 },
        { "", NULL, NULL, NULL, NULL, NULL, NULL, NULL, -1 },
        { "(((((((((( unclosed", NULL, NULL, NULL, NULL, NULL, NULL, NULL, -1 },
};

static void assert_str_or_null(const char *got, const char *want, const char *what, size_t i) {
        if (!want)
                ck_assert_msg(got == NULL, "case %zu %s: want NULL, got '%s'", i, what, got);
        else
                ck_assert_msg(got && strcmp(got, want) == 0, "case %zu %s: want '%s', got '%s'",
                              i, what, want, got ? got : "(null)");
}

START_TEST(received_table)
{
        struct dt_received r;
        const char *v = recv_cases[_i].v;

        ck_assert_int_eq(dt_headers_parse_received(v, strlen(v), &r), 0);
        assert_str_or_null(r.from_helo, recv_cases[_i].helo, "helo", _i);
        assert_str_or_null(r.from_host, recv_cases[_i].host, "host", _i);
        assert_str_or_null(r.from_ip, recv_cases[_i].ip, "ip", _i);
        assert_str_or_null(r.by_host, recv_cases[_i].by, "by", _i);
        assert_str_or_null(r.with, recv_cases[_i].with, "with", _i);
        assert_str_or_null(r.id, recv_cases[_i].id, "id", _i);
        assert_str_or_null(r.for_addr, recv_cases[_i].for_addr, "for", _i);
        if (recv_cases[_i].date < 0)
                ck_assert(!r.has_date);
        else {
                ck_assert(r.has_date);
                ck_assert_int_eq(r.date, recv_cases[_i].date);
        }
        dt_headers_received_clear(&r);
}
END_TEST

/* ---- whole blocks: the sender headers ---- */

START_TEST(postfix_pickup_and_common_fields)
{
        _cleanup_(dt_headers_freep) struct dt_headers *h = parse_fixture("headers/good-postfix-pickup.hdr");

        ck_assert_str_eq(h->message_id, "f00dbabe@example.org");
        ck_assert_str_eq(h->from, "WordPress <wordpress@example.org>");
        ck_assert_str_eq(h->to, "victim@example.net");
        ck_assert_str_eq(h->cc, "J\xc3\xb6rg <joerg@example.net>, other@example.net");
        ck_assert_str_eq(h->subject, "Invoice \xe2\x82\xac 42");
        ck_assert_str_eq(h->reply_to, "<help@example.org>");
        ck_assert_str_eq(h->return_path, "www-data@web1.example.org");
        ck_assert(h->has_date);
        ck_assert_int_eq(h->date, 1705060800);
        ck_assert_str_eq(h->date_text, "Fri, 12 Jan 2024 12:00:00 +0000");
        ck_assert_str_eq(h->x_mailer, "PHPMailer 6.8.1 (https://github.com/PHPMailer/PHPMailer)");
        ck_assert_str_eq(h->user_agent, "WP/6.4");
        ck_assert_str_eq(h->dkim_domain, "example.org");
        ck_assert_str_eq(h->dkim_selector, "mail2024");
        ck_assert_str_eq(h->authentication_results, "mx.example.net; dkim=pass header.d=example.org");
        ck_assert_str_eq(h->x_php_originating_script, "33:wp-mail.php(12) : eval()'d code");
        ck_assert_int_eq(h->php_uid, 33);
        ck_assert_str_eq(h->php_script, "wp-mail.php(12) : eval()'d code");
        ck_assert_uint_eq(h->n_received, 2);
        ck_assert_str_eq(h->received[0].from_ip, "192.0.2.10");
        ck_assert_str_eq(h->received[1].by_host, "web1.example.org");
        ck_assert_int_eq(h->local.mta, DT_LOCAL_POSTFIX);
        ck_assert_int_eq(h->local.uid, 33);
        ck_assert_str_eq(h->local.queue_id, "6B1F0C0123");
        ck_assert_str_eq(h->local.host, "web1.example.org");
        ck_assert_ptr_null(h->local.user);
        ck_assert_uint_eq(h->local.hop, 1);
        ck_assert_str_eq(dt_headers_local_mta_name(h->local.mta), "postfix");
}
END_TEST

START_TEST(x_php_script)
{
        _cleanup_(dt_headers_freep) struct dt_headers *h = parse_fixture("headers/good-x-php-script.hdr");

        ck_assert_str_eq(h->x_php_script,
                         "www.example.org/wp-content/plugins/x/mailer.php for 198.51.100.7, 10.0.0.1");
        ck_assert_str_eq(h->php_script_host, "www.example.org");
        ck_assert_str_eq(h->php_script_path, "/wp-content/plugins/x/mailer.php");
        ck_assert_str_eq(h->php_script_ip, "198.51.100.7");
        ck_assert_int_eq(h->php_uid, -1);
        ck_assert_int_eq(h->local.mta, DT_LOCAL_NONE);
        ck_assert_str_eq(h->received[0].from_host, "localhost");
        ck_assert_str_eq(h->received[0].from_ip, "127.0.0.1");
}
END_TEST

START_TEST(cpanel_headers_and_exim_local)
{
        _cleanup_(dt_headers_freep) struct dt_headers *h = parse_fixture("headers/good-cpanel.hdr");

        ck_assert_str_eq(h->subject, "Rechnung \xc3\xbc" "berf\xc3\xa4llig");
        ck_assert_int_eq(h->php_uid, 1001);
        ck_assert_str_eq(h->php_script, "contact-form.php");
        ck_assert(h->antiabuse.present);
        ck_assert_str_eq(h->antiabuse.primary_hostname, "server7.hosting.example");
        ck_assert_str_eq(h->antiabuse.original_domain, "example.net");
        ck_assert_str_eq(h->antiabuse.sender_address_domain, "server7.hosting.example");
        ck_assert_int_eq(h->antiabuse.originator_uid, 1001);
        ck_assert_int_eq(h->antiabuse.originator_gid, 1002);
        ck_assert_int_eq(h->antiabuse.caller_uid, 47);
        ck_assert_int_eq(h->antiabuse.caller_gid, 12);
        ck_assert_str_eq(h->sender_via, "server7.hosting.example: authenticated_id: cpuser/from_h");
        ck_assert_str_eq(h->sender_via_host, "server7.hosting.example");
        ck_assert_str_eq(h->sender_via_user, "cpuser/from_h");
        ck_assert_str_eq(h->authenticated_sender, "server7.hosting.example: billing@example.com");
        ck_assert_str_eq(h->x_source, "/opt/cpanel/ea-php81/root/usr/bin/php-cgi");
        ck_assert_str_eq(h->x_source_args, "/opt/cpanel/ea-php81/root/usr/bin/php-cgi "
                                           "/home/cpuser/public_html/contact-form.php");
        ck_assert_str_eq(h->x_source_dir, "example.com:/public_html");
        ck_assert_int_eq(h->local.mta, DT_LOCAL_EXIM);
        ck_assert_str_eq(h->local.user, "cpuser");
        ck_assert_str_eq(h->local.host, "server7.hosting.example");
        ck_assert_str_eq(h->local.queue_id, "1rKxYz-0003Ab-2Q");
        ck_assert_int_eq(h->local.uid, -1);
        ck_assert_str_eq(h->received[0].for_addr, "victim@example.net");
        ck_assert_int_eq(h->received[0].date, 1704277353);
}
END_TEST

START_TEST(exim_local_below_relay)
{
        _cleanup_(dt_headers_freep) struct dt_headers *h = parse_fixture("headers/good-exim-local.hdr");

        ck_assert_uint_eq(h->n_received, 2);
        ck_assert_str_eq(h->received[0].from_helo, "relay.example.com");
        ck_assert_str_eq(h->received[0].from_host, "mx.example.net");
        ck_assert_str_eq(h->received[0].from_ip, "203.0.113.9");
        ck_assert_str_eq(h->received[0].with, "esmtps");
        ck_assert_int_eq(h->local.mta, DT_LOCAL_EXIM);
        ck_assert_uint_eq(h->local.hop, 1);
        ck_assert_str_eq(h->local.user, "alice");
        ck_assert_str_eq(h->local.host, "shell2.example.com");
        ck_assert_str_eq(h->local.queue_id, "1rAbCc-0009zz-Xy");
        ck_assert_str_eq(dt_headers_local_mta_name(h->local.mta), "exim");
}
END_TEST

START_TEST(auth_warning)
{
        _cleanup_(dt_headers_freep) struct dt_headers *h = parse_fixture("headers/good-auth-warning.hdr");

        ck_assert_str_eq(h->auth_warning, "web3.example.com: www-data set sender to "
                                          "newsletter@example.com using -f");
        ck_assert_str_eq(h->auth_warning_host, "web3.example.com");
        ck_assert_str_eq(h->auth_warning_user, "www-data");
        ck_assert_int_eq(h->local.mta, DT_LOCAL_WARNING);
        ck_assert_str_eq(h->local.user, "www-data");
        ck_assert_str_eq(h->local.host, "web3.example.com");
        ck_assert_ptr_null(dt_headers_local_mta_name(h->local.mta));
        ck_assert_str_eq(h->received[0].by_host, "web3.example.com");
        ck_assert_str_eq(h->received[0].id, "40A9c1mQ012345");
        ck_assert_ptr_null(h->received[0].from_helo);
}
END_TEST

/* the bounce in the corpus returns the original headers in a text/rfc822-headers part */
START_TEST(sisimai_bounce_returned_headers)
{
        static const char marker[] = "Content-Type: text/rfc822-headers\n";
        _cleanup_(dt_headers_freep) struct dt_headers *h = NULL;
        struct dt_error err = { 0 };
        size_t len;
        _cleanup_free_ char *buf = dt_test_load("corpus/php-originating/sisimai_rhost-cox-01.eml", &len);
        const char *p = strstr(buf, marker), *start;

        ck_assert_ptr_nonnull(p);
        start = strstr(p, "\n\n");              /* the part's own header ends here */
        ck_assert_ptr_nonnull(start);
        start += 2;
        ck_assert_int_eq(dt_headers_parse(start, len - (size_t) (start - buf), &dt_limits_default,
                                          &h, &err), 0);
        ck_assert_int_eq(h->php_uid, 501);
        ck_assert_str_eq(h->php_script, "phpmailer.php");
        ck_assert_str_eq(h->x_php_originating_script, "501:phpmailer.php");
        ck_assert_int_eq(h->local.mta, DT_LOCAL_POSTFIX);
        ck_assert_int_eq(h->local.uid, 501);
        ck_assert_str_eq(h->local.queue_id, "C3726626BC");
        ck_assert_str_eq(h->local.host, "pixel1.example.com");
        ck_assert_str_eq(h->message_id, "5119e0e9531a692224d1bd44ef560e62@pixel1.example.com");
        ck_assert_str_eq(h->subject, "Take down your patio umbrella");
        ck_assert_str_eq(h->x_mailer, "PHPMailer 5.2.7 (https://github.com/PHPMailer/PHPMailer/)");
        ck_assert_str_eq(h->dkim_domain, "example.com");
        ck_assert_str_eq(h->dkim_selector, "mail");
        ck_assert_uint_eq(h->n_received, 2);
        ck_assert_str_eq(h->received[0].from_helo, "pixel1.example.com");
        ck_assert_str_eq(h->received[0].from_host, "pixel1");
        ck_assert_str_eq(h->received[0].from_ip, "104.207.134.97");
        ck_assert_str_eq(h->received[0].id, "D9E933966464");
        ck_assert_int_eq(h->date, 1593684282);
        ck_assert_int_eq(strncmp(start + h->end, "--D9E933966464.1593705905/tr2.example.com--\n",
                                 44), 0);
}
END_TEST

/* ---- hostile ---- */

START_TEST(encoded_word_injection)
{
        _cleanup_(dt_headers_freep) struct dt_headers *h = NULL;
        _cleanup_(dt_headers_block_freep) struct dt_header_block *b = NULL;
        struct dt_error err = { 0 };
        size_t len, it = 0;
        _cleanup_free_ char *buf = dt_test_load("headers/bad-encoded-injection.hdr", &len);

        ck_assert_int_eq(dt_headers_split(buf, len, &dt_limits_default, &b, &err), 0);
        ck_assert_uint_eq(b->n, 3);
        ck_assert_ptr_null(dt_headers_find(b, "X-Injected", &it));
        ck_assert_int_eq(dt_headers_from_block(b, &h, &err), 0);
        ck_assert_str_eq(h->subject, "a  X-Injected: 1");
        ck_assert_str_eq(h->from, "evil  X-Injected: 2 <evil@example.com>");
        ck_assert_ptr_null(strpbrk(h->subject, "\r\n"));
}
END_TEST

START_TEST(nul_and_bare_cr)
{
        _cleanup_(dt_headers_freep) struct dt_headers *h = NULL;
        _cleanup_(dt_headers_block_freep) struct dt_header_block *b = NULL;
        struct dt_error err = { 0 };
        size_t len, it = 0;
        _cleanup_free_ char *buf = dt_test_load("headers/bad-nul-cr.hdr", &len);

        ck_assert_int_eq(dt_headers_split(buf, len, &dt_limits_default, &b, &err), 0);
        ck_assert_uint_eq(b->n, 4);
        ck_assert_uint_eq(b->fields[0].value_len, 3);
        ck_assert_ptr_null(dt_headers_find(b, "X-Bar", &it));   /* a bare CR ends no line */
        ck_assert_int_eq(dt_headers_from_block(b, &h, &err), 0);
        ck_assert_str_eq(h->subject, "a\\0b");
        ck_assert_str_eq(h->x_mailer, "bar X-Bar: baz");
        ck_assert_str_eq(h->message_id, "nul\\0id@example.com");
        ck_assert_str_eq(h->from, "x@example.com");
}
END_TEST

static char *received_flood(size_t n, size_t *len) {
        static const char hop[] = "Received: from a.example (a.example [192.0.2.1]) by b.example "
                                  "with ESMTP id Q1; Tue, 30 Apr 2019 02:09:00 +0000\r\n";
        static const char tail[] = "Subject: flood\r\n\r\n";
        size_t hl = sizeof hop - 1;
        char *buf = malloc(n * hl + sizeof tail);

        for (size_t i = 0; i < n; i++)
                memcpy(buf + i * hl, hop, hl);
        memcpy(buf + n * hl, tail, sizeof tail);
        *len = n * hl + sizeof tail - 1;
        return buf;
}

START_TEST(received_flood_default_limits)
{
        struct dt_headers *h = NULL;
        struct dt_error err = { 0 };
        size_t len;
        _cleanup_free_ char *buf = received_flood(10000, &len);

        ck_assert_int_lt(dt_headers_parse(buf, len, &dt_limits_default, &h, &err), 0);
        ck_assert_ptr_null(h);
        /* 10,000 hops of 100 bytes: past the byte limit before the field count limit */
        ck_assert_str_eq(err.reason, DT_R_HEADER_LIMIT);
}
END_TEST

START_TEST(received_flood_capped_and_fast)
{
        _cleanup_(dt_headers_freep) struct dt_headers *h = NULL;
        struct dt_limits lim = dt_limits_default;
        struct dt_error err = { 0 };
        size_t len;
        _cleanup_free_ char *buf = received_flood(10000, &len);
        double t0;

        lim.header_bytes = 4u << 20;
        lim.header_fields = 20000;
        t0 = now_sec();
        ck_assert_int_eq(dt_headers_parse(buf, len, &lim, &h, &err), 0);
        ck_assert_msg(now_sec() - t0 < 1.0, "10,000 Received took %.2fs", now_sec() - t0);
        ck_assert_uint_eq(h->n_received, DT_HEADERS_HOPS_MAX);
        ck_assert_uint_eq(h->received_dropped, 10000 - DT_HEADERS_HOPS_MAX);
        ck_assert(h->flags & DT_HDR_HOPS_DROPPED);
        ck_assert_str_eq(h->received[99].from_ip, "192.0.2.1");
        ck_assert_str_eq(h->subject, "flood");

        lim.header_fields = 1000;
        h = dt_headers_free(h);
        ck_assert_int_eq(dt_headers_parse(buf, len, &lim, &h, &err), -E2BIG);
        ck_assert_str_eq(err.reason, DT_R_HEADER_COUNT_LIMIT);
}
END_TEST

START_TEST(huge_subject)
{
        _cleanup_(dt_headers_freep) struct dt_headers *h = NULL;
        struct dt_limits lim = dt_limits_default;
        struct dt_error err = { 0 };
        size_t n = 1u << 20, len;
        char *buf = malloc(n + 64);
        double t0;

        len = 0;
        memcpy(buf, "Subject: ", 9);
        len = 9;
        for (size_t i = 0; i < n; i++)
                buf[len++] = (i % 78 == 77) ? '\n' : (i % 78 == 0 && i > 0) ? ' ' : 'S';
        memcpy(buf + len, "\nFrom: a@b\n\n", 12);
        len += 12;
        ck_assert_int_eq(dt_headers_parse(buf, len, &lim, &h, &err), -EFBIG);
        ck_assert_str_eq(err.reason, DT_R_HEADER_LIMIT);

        lim.header_bytes = 2u << 20;
        t0 = now_sec();
        ck_assert_int_eq(dt_headers_parse(buf, len, &lim, &h, &err), 0);
        ck_assert_msg(now_sec() - t0 < 1.0, "1 MB Subject took %.2fs", now_sec() - t0);
        ck_assert_uint_le(strlen(h->subject), DT_HEADERS_TEXT_MAX);
        ck_assert_uint_ge(strlen(h->subject), DT_HEADERS_TEXT_MAX - 4);
        ck_assert_uint_gt(h->subject_bytes, 1000000);
        ck_assert(h->flags & DT_HDR_TRUNCATED);
        ck_assert_str_eq(h->from, "a@b");
        free(buf);
}
END_TEST

START_TEST(empty_block_rejected)
{
        struct dt_headers *h = NULL;
        struct dt_error err = { 0 };

        ck_assert_int_eq(dt_headers_parse("\nFrom: x\n", 9, &dt_limits_default, &h, &err), -EBADMSG);
        ck_assert_ptr_null(h);
        ck_assert_int_eq(dt_headers_parse("", 0, &dt_limits_default, &h, &err), -EBADMSG);
        ck_assert_ptr_null(dt_headers_free(NULL));
        ck_assert_ptr_null(dt_headers_block_free(NULL));
}
END_TEST

static Suite *headers_suite(void) {
        Suite *s = suite_create("headers");
        TCase *tc = tcase_create("core");

        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, split_folding_lf_crlf);
        tcase_add_test(tc, split_stops_and_orphans);
        tcase_add_test(tc, split_obsolete_space_before_colon_and_no_end);
        tcase_add_test(tc, split_limits);
        tcase_add_test(tc, split_value_cap);
        tcase_add_loop_test(tc, decode_text_table, 0, ELEMENTSOF(decode_cases));
        tcase_add_test(tc, decode_text_cap_and_linear);
        tcase_add_test(tc, decode_text_cuts_on_char_boundary);
        tcase_add_loop_test(tc, parse_date_table, 0, ELEMENTSOF(date_cases));
        tcase_add_test(tc, parse_date_nul);
        tcase_add_loop_test(tc, received_table, 0, ELEMENTSOF(recv_cases));
        tcase_add_test(tc, postfix_pickup_and_common_fields);
        tcase_add_test(tc, x_php_script);
        tcase_add_test(tc, cpanel_headers_and_exim_local);
        tcase_add_test(tc, exim_local_below_relay);
        tcase_add_test(tc, auth_warning);
        tcase_add_test(tc, sisimai_bounce_returned_headers);
        tcase_add_test(tc, encoded_word_injection);
        tcase_add_test(tc, nul_and_bare_cr);
        tcase_add_test(tc, received_flood_default_limits);
        tcase_add_test(tc, received_flood_capped_and_fast);
        tcase_add_test(tc, huge_subject);
        tcase_add_test(tc, empty_block_rejected);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        return dt_test_main(headers_suite());
}
