/* test-failure.c - failure reports: the corpus, every shape of original, sender headers,
 * hostile input, and the JSON / pretty rendering of `dmarctrace parse` */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/failure-json.h"
#include "report/failure.h"
#include "report/mime.h"
#include "tests/testutil.h"

static double now_sec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* parse_buf - mime + failure with lim; returns dt_failure_parse's result, *out on success */
static int parse_buf(const char *buf, size_t len, const struct dt_limits *lim,
                     struct dt_failure **out, struct dt_error *err) {
        _cleanup_(dt_message_freep) struct dt_message *m = NULL;
        int r = dt_mime_parse(buf, len, lim, &m, err);

        ck_assert_msg(r == 0, "mime: %d %s", r, err->message);
        ck_assert_int_eq(dt_message_kind(m), DT_KIND_FAILURE);
        return dt_failure_parse(m, lim, out, err);
}

static struct dt_failure *parse_fixture(const char *rel) {
        struct dt_failure *f = NULL;
        struct dt_error err = { 0 };
        size_t len;
        _cleanup_free_ char *buf = dt_test_load(rel, &len);
        int r = parse_buf(buf, len, &dt_limits_default, &f, &err);

        ck_assert_msg(r == 0, "%s: %d %s", rel, r, err.message);
        return f;
}

static void str_or_null(const char *got, const char *want, const char *what) {
        if (!want)
                ck_assert_msg(!got, "%s: want NULL, got '%s'", what, got);
        else
                ck_assert_msg(got && strcmp(got, want) == 0, "%s: want '%s', got '%s'", what,
                              want, got ? got : "(null)");
}

/* ---- the corpus ---- */

static const struct {
        const char *file;
        const char *feedback_type, *source_ip, *message_id, *subject;
        size_t hops;
        enum dt_failure_origin origin;
        bool dmarc;
        unsigned flags;         /* DT_FAILURE_* that must be set */
} corpus[] = {
        { "corpus/failure/mail-auth_arf-003.eml", "auth-failure", "192.0.2.1", NULL,
          "This is a test", 2, DT_ORIGIN_MESSAGE, true, 0 },
        { "corpus/failure/mail-auth_arf-004.eml", "auth-failure", "148.163.85.135", NULL,
          "Wir kaufen dein Auto!", 1, DT_ORIGIN_HEADERS, true, 0 },
        { "corpus/failure/mail-auth_arf-005.eml", "auth-failure", "192.0.2.1",
          "87913910.1318094604546@out.sender.example", "You have a new bill from your bank", 2,
          DT_ORIGIN_HEADERS, true, 0 },
        { "corpus/failure/parsedmarc_DMARC_Failure_Report_for_domain.de_mail-from=sharepoint@"
          "domain.de_ip=10.10.10.10.eml",
          "auth-failure", "10.10.10.10", "38.E7.30937.BD6E1BB5@ mailrelay.de", "Subject", 1,
          DT_ORIGIN_MESSAGE, true, 0 },
        { "corpus/failure/parsedmarc_Netease_DMARC_Failure_Report_Rent_Reminder.eml",
          "auth-failure", "167.89.69.24", "oguVx1AxQayV5Sv2nYK-rA@ismtpd0007p1las1.sendgrid.net",
          "Rent Reminder", 2, DT_ORIGIN_MESSAGE, true, DT_FAILURE_NO_REPORT_TYPE },
        { "corpus/failure/parsedmarc_dmarc_ruf_report_linkedin.eml", "auth-failure",
          "10.10.10.10", "01010101010101010101010101010101@ABAB01MS0016.someserver.loc",
          "Subject line, could be UTF8 encoded", 3, DT_ORIGIN_MESSAGE, true, 0 },
        { "corpus/failure/parsedmarc_dmarc_ruf_report_linkedin.crlf.eml", "auth-failure",
          "10.10.10.10", "01010101010101010101010101010101@ABAB01MS0016.someserver.loc",
          "Subject line, could be UTF8 encoded", 3, DT_ORIGIN_MESSAGE, true, 0 },
        { "corpus/failure/parsedmarc_exim_plain_text_only_no_arf_part.eml", NULL, "203.0.113.68",
          "134117F8-2145-AECE-9CCA-25FC98731341@example.com", "Payment from your account.", 2,
          DT_ORIGIN_TEXT, true, DT_FAILURE_NO_ARF | DT_FAILURE_NO_REPORT_TYPE },
        { "corpus/malformed/mail-auth_arf-001_abuse.eml", "abuse", NULL,
          "8787KJKJ3K4J3K4J3K4J3.mail@example.net", "Earn money", 1, DT_ORIGIN_MESSAGE, false,
          0 },
};

START_TEST(corpus_table)
{
        _cleanup_(dt_failure_freep) struct dt_failure *f = parse_fixture(corpus[_i].file);

        str_or_null(f->feedback_type, corpus[_i].feedback_type, "feedback_type");
        str_or_null(f->source_ip, corpus[_i].source_ip, "source_ip");
        ck_assert_ptr_nonnull(f->original);
        str_or_null(f->original->message_id, corpus[_i].message_id, "message_id");
        str_or_null(f->original->subject, corpus[_i].subject, "subject");
        ck_assert_uint_eq(f->original->n_received, corpus[_i].hops);
        ck_assert_int_eq(f->origin, corpus[_i].origin);
        ck_assert_int_eq(f->dmarc, corpus[_i].dmarc);
        ck_assert_uint_eq(f->flags & corpus[_i].flags, corpus[_i].flags);
        /* no original in the corpus was submitted locally */
        ck_assert_int_eq(f->original->local.mta, DT_LOCAL_NONE);
}
END_TEST

START_TEST(corpus_details)
{
        _cleanup_(dt_failure_freep) struct dt_failure *a = parse_fixture("corpus/failure/mail-auth_arf-003.eml");
        _cleanup_(dt_failure_freep) struct dt_failure *n = parse_fixture(
                "corpus/failure/parsedmarc_Netease_DMARC_Failure_Report_Rent_Reminder.eml");
        _cleanup_(dt_failure_freep) struct dt_failure *e = parse_fixture(
                "corpus/failure/parsedmarc_exim_plain_text_only_no_arf_part.eml");

        /* RFC 6591 example: the Received-Date spelling, <> around addresses */
        ck_assert_str_eq(a->auth_failure, "bodyhash");
        ck_assert_str_eq(a->original_mail_from, "randomuser@example.net");
        ck_assert_uint_eq(a->n_original_rcpt_to, 1);
        ck_assert_str_eq(a->original_rcpt_to[0], "user@example.com");
        ck_assert(a->has_arrival_date);
        ck_assert_int_eq(a->arrival_date, 1271272531);
        ck_assert_str_eq(a->authentication_results, "mail.example.com; dkim=fail    header.d=example.net");
        ck_assert_str_eq(a->original->dkim_domain, "example.net");
        ck_assert_str_eq(a->original->dkim_selector, "testkey");

        /* Netease: base64 feedback part, CRLF inside, multipart/mixed */
        ck_assert_str_eq(n->identity_alignment, "spf,dkim");
        ck_assert_str_eq(n->delivery_result, "delivered");
        ck_assert_str_eq(n->dkim_domain, "entrata.com");
        ck_assert_str_eq(n->user_agent, "NtesDmarcReporter/1.0");
        ck_assert_str_eq(n->original_envelope_id, "N8CowEApcUPo6q1bnXlMAA--.44392S3");
        ck_assert_int_eq(n->arrival_date, 1538124522);
        ck_assert_uint_eq(n->n_feedback, 12);

        /* Exim's notice: the summary lines and the pasted headers */
        ck_assert_str_eq(e->reported_domain, "example.com");
        ck_assert_int_eq(e->arrival_date, 1744060569);
        ck_assert_str_eq(e->original->x_mailer, "iPhone Mail (22A3351)");
        ck_assert_str_eq(e->original->received[0].from_helo, "smtpclient.apple");
        ck_assert_str_eq(e->original->received[0].id, "1u1tpA-00AAwZ-CR");
        ck_assert_uint_eq(e->n_feedback, 0);
}
END_TEST

static char *json_of(const char *rel, const char *source) {
        _cleanup_(dt_failure_freep) struct dt_failure *f = parse_fixture(rel);
        json_object *o = dt_failure_to_json(f, source);
        char *s;

        ck_assert_ptr_nonnull(o);
        s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
        json_object_put(o);
        return s;
}

START_TEST(linkedin_lf_crlf_same_json)
{
        _cleanup_free_ char *lf = json_of("corpus/failure/parsedmarc_dmarc_ruf_report_linkedin.eml", "x");
        _cleanup_free_ char *crlf = json_of("corpus/failure/parsedmarc_dmarc_ruf_report_linkedin.crlf.eml", "x");

        ck_assert_str_eq(lf, crlf);
        ck_assert_ptr_null(strstr(lf, "\\r"));
}
END_TEST

START_TEST(abuse_is_not_dmarc)
{
        _cleanup_(dt_failure_freep) struct dt_failure *f = parse_fixture("corpus/malformed/mail-auth_arf-001_abuse.eml");
        json_object *o = dt_failure_to_json(f, "abuse.eml"), *v;

        ck_assert(!f->dmarc);
        ck_assert_str_eq(f->user_agent, "SomeGenerator/1.0");
        ck_assert(json_object_object_get_ex(o, "feedback_type", &v));
        ck_assert_str_eq(json_object_get_string(v), "abuse");
        json_object_put(o);
}
END_TEST

/* ---- hand-made shapes ---- */

START_TEST(all_fields_and_repeats)
{
        _cleanup_(dt_failure_freep) struct dt_failure *f = parse_fixture("failure/good-all-fields.eml");
        const struct dt_headers *h = f->original;

        ck_assert_str_eq(f->feedback_type, "auth-failure");    /* lower-cased */
        ck_assert(f->dmarc);
        ck_assert_str_eq(f->user_agent, "Receiver-Reporter/2.1");
        ck_assert_str_eq(f->version, "1");
        ck_assert_str_eq(f->auth_failure, "dmarc");
        ck_assert_str_eq(f->original_envelope_id, "4T9bQ25Zz1z9sQ");
        ck_assert_str_eq(f->original_mail_from, "www-data@web1.example.org");
        ck_assert_uint_eq(f->n_original_rcpt_to, 2);
        ck_assert_str_eq(f->original_rcpt_to[0], "victim@receiver.example");
        ck_assert_str_eq(f->original_rcpt_to[1], "other@receiver.example");
        ck_assert_str_eq(f->arrival_date_text, "Fri, 12 Jan 2024 12:00:02 +0000");
        ck_assert_int_eq(f->arrival_date, 1705060802);
        ck_assert_str_eq(f->reporting_mta, "dns; mx.receiver.example");
        ck_assert_str_eq(f->source_ip, "192.0.2.10");
        ck_assert_int_eq(f->incidents, 3);
        ck_assert_str_eq(f->reported_domain, "example.org");
        ck_assert_str_eq(f->reported_uri, "http://www.example.org/");
        ck_assert_str_eq(f->authentication_results, "mx.receiver.example; dmarc=fail "
                                                    "header.from=example.org; dkim=fail "
                                                    "header.d=example.org");
        ck_assert_str_eq(f->delivery_result, "reject");
        ck_assert_str_eq(f->dkim_domain, "example.org");
        ck_assert_str_eq(f->dkim_identity, "@example.org");
        ck_assert_str_eq(f->dkim_selector, "mail2024");
        ck_assert_str_eq(f->spf_dns, "txt : example.org : \"v=spf1 -all\"");
        ck_assert_str_eq(f->identity_alignment, "none");
        ck_assert_uint_eq(f->n_feedback, 27);
        ck_assert_str_eq(f->feedback[26].name, "x-vendor-extension");
        ck_assert_str_eq(f->feedback[26].value, "caf\xc3\xa9");
        ck_assert_uint_eq(f->flags & DT_FAILURE_REPEATED, 0);  /* all repeats allowed ones */

        ck_assert_int_eq(f->origin, DT_ORIGIN_HEADERS);
        ck_assert_str_eq(h->subject, "Invoice \xe2\x82\xac 42");
        ck_assert_int_eq(h->php_uid, 33);
        ck_assert_str_eq(h->php_script, "wp-mail.php");
        ck_assert_int_eq(h->local.mta, DT_LOCAL_POSTFIX);
        ck_assert_int_eq(h->local.uid, 33);
        ck_assert_str_eq(h->local.queue_id, "6B1F0C0123");
        ck_assert_str_eq(h->local.host, "web1.example.org");
}
END_TEST

START_TEST(message_rfc822_headers_x_php_script)
{
        _cleanup_(dt_failure_freep) struct dt_failure *f = parse_fixture("failure/good-message-rfc822-headers.eml");

        ck_assert_int_eq(f->origin, DT_ORIGIN_MESSAGE_HEADERS);
        ck_assert_str_eq(f->source_ip, "2001:db8::25");
        ck_assert_str_eq(f->original->message_id, "order-17@shop.example.com");
        ck_assert_str_eq(f->original->php_script_host, "shop.example.com");
        ck_assert_str_eq(f->original->php_script_path, "/checkout/mail.php");
        ck_assert_str_eq(f->original->php_script_ip, "198.51.100.23");
        ck_assert_str_eq(f->original->received[0].from_ip, "2001:db8::25");
        ck_assert_str_eq(f->original->received[0].from_host, "shop.example.com");
}
END_TEST

START_TEST(pasted_text_exim_local)
{
        _cleanup_(dt_failure_freep) struct dt_failure *f = parse_fixture("failure/good-pasted-text.eml");

        ck_assert_int_eq(f->origin, DT_ORIGIN_TEXT);
        ck_assert_uint_eq(f->flags & DT_FAILURE_NO_ARF, 0);
        ck_assert_str_eq(f->source_ip, "192.0.2.44");
        ck_assert_str_eq(f->original->message_id, "pasted-1@shell2.example.com");
        ck_assert_str_eq(f->original->subject, "pasted");
        ck_assert_int_eq(f->original->local.mta, DT_LOCAL_EXIM);
        ck_assert_str_eq(f->original->local.user, "alice");
        ck_assert_str_eq(f->original->local.queue_id, "1rAbCc-0009zz-Xy");
        ck_assert_str_eq(f->original->local.host, "shell2.example.com");
}
END_TEST

START_TEST(no_report_type_auth_warning)
{
        _cleanup_(dt_failure_freep) struct dt_failure *f = parse_fixture("failure/good-no-report-type.eml");

        ck_assert(f->flags & DT_FAILURE_NO_REPORT_TYPE);
        ck_assert_int_eq(f->origin, DT_ORIGIN_MESSAGE);
        ck_assert_int_eq(f->arrival_date, 1705221000);
        ck_assert_str_eq(f->original->auth_warning_user, "www-data");
        ck_assert_int_eq(f->original->local.mta, DT_LOCAL_WARNING);
        ck_assert_str_eq(f->original->local.user, "www-data");
        ck_assert_str_eq(f->original->local.host, "web3.example.com");
}
END_TEST

START_TEST(cpanel_sender_headers)
{
        _cleanup_(dt_failure_freep) struct dt_failure *f = parse_fixture("failure/good-cpanel.eml");
        const struct dt_headers *h = f->original;

        ck_assert_str_eq(h->x_source, "/opt/cpanel/ea-php81/root/usr/bin/php-cgi");
        ck_assert_str_eq(h->x_source_args, "php-cgi /home/cpuser/public_html/invoice.php");
        ck_assert_str_eq(h->x_source_dir, "example.net:/public_html");
        ck_assert_int_eq(h->antiabuse.originator_uid, 1001);
        ck_assert_int_eq(h->antiabuse.caller_uid, 47);
        ck_assert_str_eq(h->sender_via_user, "cpuser/from_h");
        ck_assert_str_eq(h->authenticated_sender, "server7.hosting.example: billing@example.net");
        ck_assert_int_eq(h->local.mta, DT_LOCAL_EXIM);
        ck_assert_str_eq(h->local.user, "cpuser");
}
END_TEST

/* ---- hostile ---- */

START_TEST(injection_nul_bare_cr_repeats)
{
        _cleanup_(dt_failure_freep) struct dt_failure *f = parse_fixture("failure/bad-injection.eml");

        for (size_t i = 0; i < f->n_feedback; i++) {
                ck_assert_str_ne(f->feedback[i].name, "x-injected");
                ck_assert_str_ne(f->feedback[i].name, "x-bare-cr");
                ck_assert_ptr_null(strpbrk(f->feedback[i].value, "\r\n"));
        }
        ck_assert_uint_eq(f->n_feedback, 6);
        ck_assert_str_eq(f->source_ip, "192.0.2.1");            /* the first one */
        ck_assert(f->flags & DT_FAILURE_REPEATED);
        ck_assert_str_eq(f->reported_domain, "evil  X-Injected: 1");
        ck_assert_str_eq(f->user_agent, "a X-Bare-CR: 1");
        ck_assert_str_eq(f->delivery_result, "de\\0livered");
        ck_assert_str_eq(f->original->subject, "a  X-Injected: 1");
        ck_assert_str_eq(f->original->x_mailer, "m\\0ailer X-Bare: 2");
        ck_assert_str_eq(f->original->message_id, "inj@example.com");
}
END_TEST

START_TEST(nothing_to_read)
{
        struct dt_failure *f = (struct dt_failure *) 0x1;
        struct dt_error err = { 0 };
        size_t len;
        _cleanup_free_ char *buf = dt_test_load("failure/bad-nothing.eml", &len);

        ck_assert_int_eq(parse_buf(buf, len, &dt_limits_default, &f, &err), -EBADMSG);
        ck_assert_str_eq(err.reason, DT_R_FAILURE_MALFORMED);
        ck_assert_ptr_eq(f, (void *) 0x1);
}
END_TEST

/* report_with - an ARF report whose text/rfc822-headers part is `n` copies of `line`, then tail */
static char *report_with(const char *line, size_t n, const char *tail, size_t *len) {
        static const char head[] =
                "From: ruf@receiver.example\nSubject: flood\nMIME-Version: 1.0\n"
                "Content-Type: multipart/report; report-type=feedback-report; boundary=\"bb\"\n\n"
                "--bb\nContent-Type: message/feedback-report\n\nFeedback-Type: auth-failure\n"
                "Source-IP: 192.0.2.1\n\n--bb\nContent-Type: text/rfc822-headers\n\n";
        static const char foot[] = "\n--bb--\n";
        size_t ll = strlen(line), tl = strlen(tail);
        char *buf = malloc(sizeof head + n * ll + tl + sizeof foot), *p = buf;

        memcpy(p, head, sizeof head - 1);
        p += sizeof head - 1;
        for (size_t i = 0; i < n; i++, p += ll)
                memcpy(p, line, ll);
        memcpy(p, tail, tl);
        p += tl;
        memcpy(p, foot, sizeof foot);
        *len = (size_t) (p - buf) + sizeof foot - 1;
        return buf;
}

START_TEST(received_flood)
{
        struct dt_failure *f = NULL;
        struct dt_limits lim = dt_limits_default;
        struct dt_error err = { 0 };
        size_t len;
        double t0;
        _cleanup_free_ char *buf = report_with(
                "Received: from a.example (a.example [192.0.2.1]) by b.example with ESMTP id Q;"
                " Tue, 30 Apr 2019 02:09:00 +0000\n", 10000, "Subject: x\nMessage-ID: <f@x>\n", &len);

        ck_assert_int_eq(parse_buf(buf, len, &lim, &f, &err), -EFBIG);
        ck_assert_str_eq(err.reason, DT_R_HEADER_LIMIT);
        ck_assert_ptr_null(f);

        lim.header_bytes = 4u << 20;
        lim.header_fields = 20000;
        t0 = now_sec();
        ck_assert_int_eq(parse_buf(buf, len, &lim, &f, &err), 0);
        ck_assert_msg(now_sec() - t0 < 2.0, "took %.2fs", now_sec() - t0);
        ck_assert_uint_eq(f->original->n_received, DT_HEADERS_HOPS_MAX);
        ck_assert_uint_eq(f->original->received_dropped, 10000 - DT_HEADERS_HOPS_MAX);
        ck_assert_str_eq(f->original->message_id, "f@x");
        f = dt_failure_free(f);

        lim.header_fields = 1000;
        ck_assert_int_eq(parse_buf(buf, len, &lim, &f, &err), -E2BIG);
        ck_assert_str_eq(err.reason, DT_R_HEADER_COUNT_LIMIT);
}
END_TEST

START_TEST(huge_subject)
{
        _cleanup_(dt_failure_freep) struct dt_failure *f = NULL;
        struct dt_limits lim = dt_limits_default;
        struct dt_error err = { 0 };
        size_t n = 1u << 20, len;
        char *subj = malloc(n + 32);
        double t0;

        memcpy(subj, "Subject: ", 9);
        memset(subj + 9, 'S', n);
        memcpy(subj + 9 + n, "\nFrom: a@b\n", 12);
        _cleanup_free_ char *buf = report_with(subj, 1, "", &len);
        free(subj);

        ck_assert_int_eq(parse_buf(buf, len, &lim, &f, &err), -EFBIG);
        ck_assert_str_eq(err.reason, DT_R_HEADER_LIMIT);
        lim.header_bytes = 2u << 20;
        t0 = now_sec();
        ck_assert_int_eq(parse_buf(buf, len, &lim, &f, &err), 0);
        ck_assert_msg(now_sec() - t0 < 2.0, "took %.2fs", now_sec() - t0);
        ck_assert_uint_le(strlen(f->original->subject), DT_HEADERS_TEXT_MAX);
        ck_assert_uint_eq(f->original->subject_bytes, n);
        ck_assert(f->original->flags & DT_HDR_TRUNCATED);
        ck_assert_str_eq(f->original->from, "a@b");
}
END_TEST

START_TEST(pasted_flood_is_linear)
{
        static const char head[] =
                "From: ruf@receiver.example\nSubject: DMARC Failure Report\nMIME-Version: 1.0\n"
                "Content-Type: multipart/report; boundary=\"bb\"\n\n--bb\n"
                "Content-Type: text/plain\n\nDMARC failed.\n\n";
        static const char line[] = "Received: from a.example by b.example with SMTP id Q\n";
        struct dt_failure *f = NULL;
        struct dt_error err = { 0 };
        size_t n = 50000, ll = sizeof line - 1, len;
        char *buf = malloc(sizeof head + n * ll + 16), *p = buf;
        double t0;

        memcpy(p, head, sizeof head - 1);
        p += sizeof head - 1;
        for (size_t i = 0; i < n; i++, p += ll)
                memcpy(p, line, ll);
        memcpy(p, "\n--bb--\n", 9);
        len = (size_t) (p - buf) + 9;
        t0 = now_sec();
        /* 2.6 MB of Received lines (under mime.c's whole-message field cap): over the limits as
         * one block, so passed over, in one sweep rather than once per line */
        ck_assert_int_eq(parse_buf(buf, len, &dt_limits_default, &f, &err), -EBADMSG);
        ck_assert_str_eq(err.reason, DT_R_FAILURE_MALFORMED);
        ck_assert_msg(now_sec() - t0 < 2.0, "took %.2fs", now_sec() - t0);
        free(buf);
}
END_TEST

/* ---- JSON and pretty ---- */

static void assert_keys(json_object *o, const char *const *keys, size_t n) {
        size_t i = 0;

        json_object_object_foreach(o, k, v) {
                (void) v;
                ck_assert_uint_lt(i, n);
                ck_assert_str_eq(k, keys[i]);
                i++;
        }
        ck_assert_uint_eq(i, n);
}

START_TEST(json_keys_and_values)
{
        static const char *const top[] = {
                "type", "source", "feedback_type", "auth_failure", "source_ip",
                "reported_domain", "original_mail_from", "original_rcpt_to", "arrival_date",
                "delivery_result", "identity_alignment", "dkim_domain", "dkim_selector",
                "authentication_results", "user_agent", "incidents", "feedback", "original",
        };
        static const char *const orig[] = {
                "message_id", "from", "to", "cc", "subject", "date", "return_path", "x_mailer",
                "dkim_domain", "dkim_selector", "x_php_originating_script", "php_uid",
                "php_script", "x_php_script", "x_source", "x_source_args", "x_source_dir",
                "antiabuse", "sender_via", "authenticated_sender", "received",
                "local_submission",
        };
        static const char *const hop[] = {
                "from_helo", "from_host", "from_ip", "by_host", "with", "id", "for", "date",
        };
        static const char *const local[] = { "mta", "uid", "user", "queue_id", "host" };
        _cleanup_(dt_failure_freep) struct dt_failure *f = parse_fixture("failure/good-all-fields.eml");
        json_object *o = dt_failure_to_json(f, "good-all-fields.eml"), *v, *fb, *og, *x;
        json_object *back;

        assert_keys(o, top, ELEMENTSOF(top));
        ck_assert(json_object_object_get_ex(o, "type", &v));
        ck_assert_str_eq(json_object_get_string(v), "failure");
        ck_assert(json_object_object_get_ex(o, "arrival_date", &v));
        ck_assert_int_eq(json_object_get_int64(v), 1705060802);
        ck_assert(json_object_object_get_ex(o, "incidents", &v));
        ck_assert_int_eq(json_object_get_int64(v), 3);
        ck_assert(json_object_object_get_ex(o, "original_rcpt_to", &v));
        ck_assert_uint_eq(json_object_array_length(v), 2);

        ck_assert(json_object_object_get_ex(o, "feedback", &fb));
        ck_assert(json_object_object_get_ex(fb, "auth-failure", &v));
        ck_assert(json_object_is_type(v, json_type_array));
        ck_assert_str_eq(json_object_get_string(json_object_array_get_idx(v, 1)), "dkim");
        ck_assert(json_object_object_get_ex(fb, "original-rcpt-to", &v));
        ck_assert_uint_eq(json_object_array_length(v), 2);
        ck_assert(json_object_object_get_ex(fb, "received-date", &v));
        ck_assert(json_object_is_type(v, json_type_string));
        ck_assert(json_object_object_get_ex(fb, "x-vendor-extension", &v));
        ck_assert_str_eq(json_object_get_string(v), "caf\xc3\xa9");

        ck_assert(json_object_object_get_ex(o, "original", &og));
        assert_keys(og, orig, ELEMENTSOF(orig));
        ck_assert(json_object_object_get_ex(og, "cc", &v));
        ck_assert_ptr_null(v);
        ck_assert(json_object_object_get_ex(og, "php_uid", &v));
        ck_assert_int_eq(json_object_get_int64(v), 33);
        ck_assert(json_object_object_get_ex(og, "date", &v));
        ck_assert_int_eq(json_object_get_int64(v), 1705060800);
        ck_assert(json_object_object_get_ex(og, "received", &v));
        ck_assert_uint_eq(json_object_array_length(v), 2);
        assert_keys(json_object_array_get_idx(v, 0), hop, ELEMENTSOF(hop));
        ck_assert(json_object_object_get_ex(json_object_array_get_idx(v, 0), "for", &x));
        ck_assert_str_eq(json_object_get_string(x), "victim@receiver.example");
        ck_assert(json_object_object_get_ex(og, "local_submission", &v));
        assert_keys(v, local, ELEMENTSOF(local));
        ck_assert(json_object_object_get_ex(v, "mta", &x));
        ck_assert_str_eq(json_object_get_string(x), "postfix");
        ck_assert(json_object_object_get_ex(v, "uid", &x));
        ck_assert_int_eq(json_object_get_int64(x), 33);
        ck_assert(json_object_object_get_ex(v, "user", &x));
        ck_assert_ptr_null(x);

        /* the line parses back */
        back = json_tokener_parse(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
        ck_assert_ptr_nonnull(back);
        json_object_put(back);
        json_object_put(o);
}
END_TEST

START_TEST(json_cpanel_objects)
{
        _cleanup_(dt_failure_freep) struct dt_failure *f = parse_fixture("failure/good-cpanel.eml");
        json_object *o = dt_failure_to_json(f, "c"), *og, *v, *x;

        ck_assert(json_object_object_get_ex(o, "original", &og));
        ck_assert(json_object_object_get_ex(og, "antiabuse", &v));
        ck_assert(json_object_object_get_ex(v, "caller_uid", &x));
        ck_assert_int_eq(json_object_get_int64(x), 47);
        ck_assert(json_object_object_get_ex(v, "original_domain", &x));
        ck_assert_ptr_null(x);
        ck_assert(json_object_object_get_ex(og, "sender_via", &v));
        ck_assert(json_object_object_get_ex(v, "user", &x));
        ck_assert_str_eq(json_object_get_string(x), "cpuser/from_h");
        ck_assert(json_object_object_get_ex(og, "local_submission", &v));
        ck_assert(json_object_object_get_ex(v, "mta", &x));
        ck_assert_str_eq(json_object_get_string(x), "exim");
        ck_assert(json_object_object_get_ex(v, "user", &x));
        ck_assert_str_eq(json_object_get_string(x), "cpuser");
        json_object_put(o);
}
END_TEST

START_TEST(json_minimal_is_all_null)
{
        struct dt_failure f = { .incidents = -1 };
        json_object *o = dt_failure_to_json(&f, NULL), *v;
        const char *s;

        ck_assert_ptr_nonnull(o);
        s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
        ck_assert_str_eq(s, "{\"type\":\"failure\",\"source\":null,\"feedback_type\":null,"
                            "\"auth_failure\":null,\"source_ip\":null,\"reported_domain\":null,"
                            "\"original_mail_from\":null,\"original_rcpt_to\":[],"
                            "\"arrival_date\":null,\"delivery_result\":null,"
                            "\"identity_alignment\":null,\"dkim_domain\":null,"
                            "\"dkim_selector\":null,\"authentication_results\":null,"
                            "\"user_agent\":null,\"incidents\":null,\"feedback\":{},"
                            "\"original\":null}");
        ck_assert(json_object_object_get_ex(o, "original", &v));
        json_object_put(o);
}
END_TEST

START_TEST(json_sanitises_source)
{
        _cleanup_(dt_failure_freep) struct dt_failure *f = parse_fixture("failure/bad-injection.eml");
        json_object *o = dt_failure_to_json(f, "evil\x1b[2J\xe2\x80\xaename\xff"), *v;
        const char *s;

        ck_assert(json_object_object_get_ex(o, "source", &v));
        s = json_object_get_string(v);
        ck_assert_ptr_null(strchr(s, '\x1b'));
        ck_assert_ptr_null(strstr(s, "\xe2\x80\xae"));
        ck_assert_ptr_null(strchr(s, '\xff'));
        json_object_put(o);
}
END_TEST

START_TEST(pretty_output)
{
        _cleanup_(dt_failure_freep) struct dt_failure *f = parse_fixture("failure/good-all-fields.eml");
        _cleanup_(dt_failure_freep) struct dt_failure *g = parse_fixture("failure/bad-injection.eml");
        _cleanup_(dt_failure_freep) struct dt_failure *a = parse_fixture("corpus/malformed/mail-auth_arf-001_abuse.eml");
        char *text = NULL;
        size_t len = 0;
        FILE *out = open_memstream(&text, &len);

        dt_failure_print_pretty(out, f, "good-all-fields.eml");
        dt_failure_print_pretty(out, g, "bad\n\x1b]0;title\a");
        dt_failure_print_pretty(out, a, "abuse.eml");
        fclose(out);
        ck_assert_ptr_nonnull(strstr(text, "failure report good-all-fields.eml\n"));
        ck_assert_ptr_nonnull(strstr(text, "[DMARC failure]"));
        ck_assert_ptr_nonnull(strstr(text, "[not a DMARC failure]"));
        ck_assert_ptr_nonnull(strstr(text, "received (newest first)"));
        ck_assert_ptr_nonnull(strstr(text, "6B1F0C0123"));
        ck_assert_ptr_nonnull(strstr(text, "<- local submission"));
        ck_assert_ptr_nonnull(strstr(text, "postfix uid 33 queue 6B1F0C0123 on web1.example.org"));
        for (size_t i = 0; i < len; i++)
                ck_assert_msg(text[i] == '\n' || (unsigned char) text[i] >= 0x20,
                              "control byte %#x at %zu", (unsigned) (unsigned char) text[i], i);
        free(text);
}
END_TEST

static Suite *failure_suite(void) {
        Suite *s = suite_create("failure");
        TCase *tc = tcase_create("core");

        tcase_set_timeout(tc, 60);
        tcase_add_loop_test(tc, corpus_table, 0, ELEMENTSOF(corpus));
        tcase_add_test(tc, corpus_details);
        tcase_add_test(tc, linkedin_lf_crlf_same_json);
        tcase_add_test(tc, abuse_is_not_dmarc);
        tcase_add_test(tc, all_fields_and_repeats);
        tcase_add_test(tc, message_rfc822_headers_x_php_script);
        tcase_add_test(tc, pasted_text_exim_local);
        tcase_add_test(tc, no_report_type_auth_warning);
        tcase_add_test(tc, cpanel_sender_headers);
        tcase_add_test(tc, injection_nul_bare_cr_repeats);
        tcase_add_test(tc, nothing_to_read);
        tcase_add_test(tc, received_flood);
        tcase_add_test(tc, huge_subject);
        tcase_add_test(tc, pasted_flood_is_linear);
        tcase_add_test(tc, json_keys_and_values);
        tcase_add_test(tc, json_cpanel_objects);
        tcase_add_test(tc, json_minimal_is_all_null);
        tcase_add_test(tc, json_sanitises_source);
        tcase_add_test(tc, pretty_output);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        return dt_test_main(failure_suite());
}
