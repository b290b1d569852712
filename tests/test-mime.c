/* test-mime.c - dt_mime_parse: the part list, classification, limits and hostile structure
 *
 * Real messages come from the shared corpus; small hand-made ones from tests/data/mime/; the
 * hostile ones (huge headers, deep nesting, many parts) are generated here in memory. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE     /* memmem, open_memstream */
#endif
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report/mime.h"
#include "tests/testutil.h"

enum magic { MAGIC_ZIP, MAGIC_GZIP, MAGIC_XML };

/* parse_file - load a fixture and parse it with the default limits; asserts success */
static struct dt_message *parse_file(const char *rel) {
        struct dt_message *m = NULL;
        struct dt_error err;
        size_t len;
        char *buf = dt_test_load(rel, &len);
        int r;

        dt_error_clear(&err);
        r = dt_mime_parse(buf, len, &dt_limits_default, &m, &err);
        free(buf);
        ck_assert_msg(r == 0, "%s: %d %s %s", rel, r, err.reason ? err.reason : "", err.message);
        ck_assert_ptr_nonnull(m);
        return m;
}

/* parse_fail - parse buf with lim and expect failure with code and reason; out stays NULL */
static void parse_fail(const char *buf, size_t len, const struct dt_limits *lim, int code,
                       const char *reason) {
        struct dt_message *m = NULL;
        struct dt_error err;
        int r;

        dt_error_clear(&err);
        r = dt_mime_parse(buf, len, lim, &m, &err);
        ck_assert_msg(r == code, "got %d (%s: %s), want %d", r, err.reason ? err.reason : "-",
                      err.message, code);
        ck_assert_int_eq(err.code, code);
        ck_assert_str_eq(err.reason, reason);
        ck_assert_ptr_null(m);
}

/* find_part - the first part with this content type, or NULL */
static const struct dt_part *find_part(const struct dt_message *m, const char *ct) {
        size_t i;

        for (i = 0; i < dt_message_n_parts(m); i++)
                if (strcmp(dt_message_part(m, i)->content_type, ct) == 0)
                        return dt_message_part(m, i);
        return NULL;
}

static bool has_magic(const struct dt_part *p, enum magic magic) {
        switch (magic) {
        case MAGIC_ZIP:
                return p->len >= 4 && memcmp(p->data, "PK\3\4", 4) == 0;
        case MAGIC_GZIP:
                return p->len >= 2 && p->data[0] == 0x1f && p->data[1] == 0x8b;
        case MAGIC_XML:
                return p->len >= 1 && memmem(p->data, p->len, "<feedback", 9) != NULL;
        }
        return false;
}

/* --- generated hostile messages ------------------------------------------------------- */

struct gen {
        char *buf;
        size_t len;
        FILE *f;
};

static void gen_open(struct gen *g) {
        g->buf = NULL;
        g->len = 0;
        g->f = open_memstream(&g->buf, &g->len);
        ck_assert_ptr_nonnull(g->f);
}

static void gen_close(struct gen *g) {
        ck_assert_int_eq(fclose(g->f), 0);
}

/* gen_nested - levels of alternating multipart/mixed and message/rfc822, a text leaf inside.
 * Level i sits at MIME depth i, so the leaf is at depth levels. */
static void gen_nested(struct gen *g, unsigned levels) {
        unsigned i;

        gen_open(g);
        fputs("From: a@example.com\nSubject: deep\nMIME-Version: 1.0\n", g->f);
        for (i = 0; i < levels; i++) {
                if (i % 2 == 0)
                        fprintf(g->f, "Content-Type: multipart/mixed; boundary=\"b%u\"\n\n--b%u\n",
                                i, i);
                else
                        fprintf(g->f, "Content-Type: message/rfc822\n\nSubject: level %u\n", i);
        }
        fputs("Content-Type: text/plain\n\nhello\n", g->f);
        gen_close(g);
}

/* gen_parts - one multipart/mixed holding n text parts */
static void gen_parts(struct gen *g, unsigned n) {
        unsigned i;

        gen_open(g);
        fputs("From: a@example.com\nMIME-Version: 1.0\n"
              "Content-Type: multipart/mixed; boundary=\"x\"\n\n", g->f);
        for (i = 0; i < n; i++)
                fprintf(g->f, "--x\nContent-Type: text/plain\n\npart %u\n", i);
        fputs("--x--\n", g->f);
        gen_close(g);
}

/* gen_text_body - a single-part message: headers, an empty line, body[0..blen) as is */
static void gen_text_body(struct gen *g, const char *ct, const char *body, size_t blen) {
        gen_open(g);
        fprintf(g->f, "From: r@example.com\nSubject: t\nMIME-Version: 1.0\nContent-Type: %s\n\n",
                ct);
        ck_assert_uint_eq(fwrite(body, 1, blen, g->f), blen);
        gen_close(g);
}

/* --- corpus ------------------------------------------------------------------------------ */

static const struct {
        const char *file;
        enum magic magic;
        const char *content_type;
} aggregate_eml[] = {
        { "corpus/aggregate/mail-auth_dmarc-feedback-100.eml", MAGIC_ZIP, "application/zip" },
        { "corpus/aggregate/mail-auth_dmarc-feedback-101.eml", MAGIC_GZIP, "application/gzip" },
        { "corpus/aggregate/mail-auth_dmarc-feedback-102.eml", MAGIC_GZIP, "application/gzip" },
        { "corpus/aggregate/mail-auth_dmarc-feedback-103.eml", MAGIC_GZIP, "application/gzip" },
        { "corpus/aggregate/mail-auth_dmarc-feedback-104.eml", MAGIC_GZIP,
          "application/octet-stream" },
        { "corpus/aggregate/parsedmarc_Report_domain-_borschow.com_Submitter-_google.com_"
          "Report-ID-_949348866075514174.eml", MAGIC_ZIP, "application/zip" },
        { "corpus/aggregate/parsedmarc_twilight.eml", MAGIC_ZIP, "application/zip" },
        { "corpus/malformed/parsedmarc_mimecast-weird-gzip.eml", MAGIC_GZIP,
          "application/gzip" },
};

START_TEST(corpus_aggregate_eml)
{
        _cleanup_(dt_message_freep) struct dt_message *m = parse_file(aggregate_eml[_i].file);
        const struct dt_part *p;

        ck_assert_int_eq(dt_message_kind(m), DT_KIND_AGGREGATE);
        p = dt_message_report(m);
        ck_assert_ptr_nonnull(p);
        ck_assert_str_eq(p->content_type, aggregate_eml[_i].content_type);
        ck_assert_msg(has_magic(p, aggregate_eml[_i].magic), "%s: wrong magic",
                      aggregate_eml[_i].file);
        ck_assert_uint_gt(p->len, 100);
        ck_assert_ptr_nonnull(p->filename);
        ck_assert_uint_eq(dt_message_flags(m) & DT_MIME_CONTENT_TYPE_MISMATCH, 0);
}
END_TEST

static const struct {
        const char *file;
        bool arf;               /* has a message/feedback-report part */
        const char *second;     /* content type of the copy of the original, or NULL */
} failure_eml[] = {
        { "corpus/failure/mail-auth_arf-003.eml", true, "message/rfc822" },
        { "corpus/failure/mail-auth_arf-004.eml", true, "text/rfc822-headers" },
        { "corpus/failure/mail-auth_arf-005.eml", true, "text/rfc822-headers" },
        { "corpus/failure/parsedmarc_DMARC_Failure_Report_for_domain.de_mail-from="
          "sharepoint@domain.de_ip=10.10.10.10.eml", true, "message/rfc822" },
        { "corpus/failure/parsedmarc_Netease_DMARC_Failure_Report_Rent_Reminder.eml", true,
          "message/rfc822" },
        { "corpus/failure/parsedmarc_dmarc_ruf_report_linkedin.crlf.eml", true,
          "message/rfc822" },
        { "corpus/failure/parsedmarc_dmarc_ruf_report_linkedin.eml", true, "message/rfc822" },
        { "corpus/failure/parsedmarc_exim_plain_text_only_no_arf_part.eml", false, NULL },
        { "corpus/malformed/mail-auth_arf-001_abuse.eml", true, "message/rfc822" },
};

START_TEST(corpus_failure_eml)
{
        _cleanup_(dt_message_freep) struct dt_message *m = parse_file(failure_eml[_i].file);
        const struct dt_part *fb = find_part(m, "message/feedback-report");

        ck_assert_int_eq(dt_message_kind(m), DT_KIND_FAILURE);
        ck_assert_ptr_null(dt_message_report(m));
        if (failure_eml[_i].arf) {
                ck_assert_ptr_nonnull(fb);
                ck_assert_ptr_nonnull(memmem(fb->data, fb->len, "Feedback-Type:", 14));
                ck_assert_uint_eq(fb->data[fb->len], '\0');
        } else {
                ck_assert_ptr_null(fb);
        }
        if (failure_eml[_i].second) {
                const struct dt_part *o = find_part(m, failure_eml[_i].second);

                ck_assert_ptr_nonnull(o);
                ck_assert_ptr_nonnull(memmem(o->data, o->len, "Subject:", 8));
        }
}
END_TEST

START_TEST(abuse_arf_is_failure_kind)
{
        _cleanup_(dt_message_freep) struct dt_message *m =
                parse_file("corpus/malformed/mail-auth_arf-001_abuse.eml");
        const struct dt_part *fb = find_part(m, "message/feedback-report");

        ck_assert_int_eq(dt_message_kind(m), DT_KIND_FAILURE);
        ck_assert_ptr_nonnull(fb);
        ck_assert_ptr_nonnull(memmem(fb->data, fb->len, "Feedback-Type: abuse", 20));
        ck_assert_str_eq(dt_message_part(m, 0)->content_type, "multipart/report");
        ck_assert_str_eq(dt_message_part(m, 0)->report_type, "feedback-report");
}
END_TEST

START_TEST(exim_notice_parts)
{
        _cleanup_(dt_message_freep) struct dt_message *m =
                parse_file("corpus/failure/parsedmarc_exim_plain_text_only_no_arf_part.eml");
        const struct dt_part *t;

        ck_assert_uint_eq(dt_message_n_parts(m), 2);
        ck_assert_str_eq(dt_message_part(m, 0)->content_type, "multipart/report");
        ck_assert_ptr_null(dt_message_part(m, 0)->report_type);
        ck_assert_ptr_null(dt_message_part(m, 0)->data);
        t = dt_message_part(m, 1);
        ck_assert_str_eq(t->content_type, "text/plain");
        ck_assert_uint_eq(t->depth, 1);
        ck_assert_ptr_nonnull(memmem(t->data, t->len, "Sender IP Address: 203.0.113.68", 31));
        ck_assert_str_eq(dt_message_id(m), "E1u1tpB-00AA5u-ED@node04.mailgate.example.net");
}
END_TEST

START_TEST(dsn_bounce_is_none)
{
        _cleanup_(dt_message_freep) struct dt_message *m =
                parse_file("corpus/php-originating/sisimai_rhost-cox-01.eml");

        ck_assert_int_eq(dt_message_kind(m), DT_KIND_NONE);
        ck_assert_ptr_null(dt_message_report(m));
        ck_assert_str_eq(dt_message_part(m, 0)->report_type, "delivery-status");
        ck_assert_ptr_nonnull(find_part(m, "message/delivery-status"));
        ck_assert_ptr_nonnull(find_part(m, "text/rfc822-headers"));
        ck_assert_str_eq(dt_message_subject(m), "Undelivered Mail Returned to Sender");
        ck_assert_str_eq(dt_message_id(m), "20200702160505.6F3F839637A1@tr2.example.com");
}
END_TEST

START_TEST(crlf_and_lf_give_same_parts)
{
        _cleanup_(dt_message_freep) struct dt_message *lf =
                parse_file("corpus/failure/parsedmarc_dmarc_ruf_report_linkedin.eml");
        _cleanup_(dt_message_freep) struct dt_message *crlf =
                parse_file("corpus/failure/parsedmarc_dmarc_ruf_report_linkedin.crlf.eml");
        size_t i;

        ck_assert_uint_eq(dt_message_n_parts(lf), 7);
        ck_assert_uint_eq(dt_message_n_parts(crlf), dt_message_n_parts(lf));
        for (i = 0; i < dt_message_n_parts(lf); i++) {
                const struct dt_part *a = dt_message_part(lf, i), *b = dt_message_part(crlf, i);

                ck_assert_str_eq(a->content_type, b->content_type);
                ck_assert_uint_eq(a->depth, b->depth);
                ck_assert_pstr_eq(a->report_type, b->report_type);
                ck_assert_pstr_eq(a->filename, b->filename);
                ck_assert_msg(a->len == b->len && (a->len == 0 || memcmp(a->data, b->data,
                                                                         a->len) == 0),
                              "part %zu (%s) differs: %zu vs %zu bytes", i, a->content_type,
                              a->len, b->len);
        }
        ck_assert_str_eq(dt_message_subject(lf), dt_message_subject(crlf));
        ck_assert_str_eq(dt_message_from(lf), "dmarc-noreply@linkedin.com");
}
END_TEST

START_TEST(rfc2047_subject_decoded)
{
        _cleanup_(dt_message_freep) struct dt_message *m =
                parse_file("corpus/aggregate/mail-auth_dmarc-feedback-103.eml");

        ck_assert_str_eq(dt_message_subject(m),
                         "Report Domain: stalw.art Submitter: protection.outlook.com "
                         "Report-ID: 725cbfbe133940149987cfc528387235");
        ck_assert_str_eq(dt_message_id(m), "725cbfbe133940149987cfc528387235@microsoft.com");
        ck_assert_str_eq(dt_message_from(m),
                         "\"DMARC Aggregate Report\" <dmarcreport@microsoft.com>");
        /* nested multipart/related + alternative: depths follow the tree */
        ck_assert_uint_eq(dt_message_n_parts(m), 6);
        ck_assert_uint_eq(dt_message_part(m, 3)->depth, 3);
        ck_assert_uint_eq(dt_message_report(m)->depth, 1);
}
END_TEST

START_TEST(single_part_body_is_depth_zero)
{
        _cleanup_(dt_message_freep) struct dt_message *m =
                parse_file("corpus/aggregate/mail-auth_dmarc-feedback-100.eml");

        ck_assert_uint_eq(dt_message_n_parts(m), 1);
        ck_assert_ptr_eq(dt_message_report(m), dt_message_part(m, 0));
        ck_assert_uint_eq(dt_message_report(m)->depth, 0);
        ck_assert_str_eq(dt_message_report(m)->filename,
                         "google.com!stalw.art!1669507200!1669593599.zip");
}
END_TEST

/* --- hand-made fixtures -------------------------------------------------------------- */

START_TEST(plain_text_is_none)
{
        _cleanup_(dt_message_freep) struct dt_message *m = parse_file("mime/good-plain-text.eml");

        ck_assert_int_eq(dt_message_kind(m), DT_KIND_NONE);
        ck_assert_ptr_null(dt_message_report(m));
        ck_assert_uint_eq(dt_message_n_parts(m), 1);
        ck_assert_str_eq(dt_message_part(m, 0)->content_type, "text/plain");
        ck_assert_str_eq(dt_message_id(m), "lunch-1@example.org");
        ck_assert_str_eq(dt_message_from(m), "Alice <alice@example.org>");
        ck_assert_uint_eq(dt_message_flags(m), 0);
}
END_TEST

START_TEST(zip_label_gzip_bytes_flagged)
{
        _cleanup_(dt_message_freep) struct dt_message *m =
                parse_file("mime/bad-zip-label-gzip-bytes.eml");

        ck_assert_int_eq(dt_message_kind(m), DT_KIND_AGGREGATE);
        ck_assert_str_eq(dt_message_report(m)->content_type, "application/zip");
        ck_assert(has_magic(dt_message_report(m), MAGIC_GZIP));
        ck_assert_uint_ne(dt_message_flags(m) & DT_MIME_CONTENT_TYPE_MISMATCH, 0);
}
END_TEST

START_TEST(xml_inline_in_text_plain)
{
        _cleanup_(dt_message_freep) struct dt_message *m =
                parse_file("mime/good-xml-inline-text-plain.eml");

        ck_assert_int_eq(dt_message_kind(m), DT_KIND_AGGREGATE);
        ck_assert_str_eq(dt_message_report(m)->content_type, "text/plain");
        ck_assert(has_magic(dt_message_report(m), MAGIC_XML));
        ck_assert_uint_eq(dt_message_flags(m) & DT_MIME_CONTENT_TYPE_MISMATCH, 0);
}
END_TEST

START_TEST(two_content_types_flagged)
{
        _cleanup_(dt_message_freep) struct dt_message *m =
                parse_file("mime/bad-two-content-types.eml");

        ck_assert_uint_ne(dt_message_flags(m) & DT_MIME_CONFLICTING_HEADER, 0);
        /* gmime's choice (the last one) is what we use */
        ck_assert_str_eq(dt_message_part(m, 0)->content_type, "application/gzip");
        ck_assert_int_eq(dt_message_kind(m), DT_KIND_AGGREGATE);
}
END_TEST

START_TEST(forwarded_aggregate_found)
{
        _cleanup_(dt_message_freep) struct dt_message *m =
                parse_file("mime/good-forwarded-aggregate.eml");
        const struct dt_part *fwd = find_part(m, "message/rfc822");

        ck_assert_int_eq(dt_message_kind(m), DT_KIND_AGGREGATE);
        ck_assert_uint_eq(dt_message_report(m)->depth, 3);
        ck_assert(has_magic(dt_message_report(m), MAGIC_GZIP));
        ck_assert_ptr_nonnull(fwd);
        ck_assert_ptr_nonnull(memmem(fwd->data, fwd->len, "Report-ID: 44", 13));
}
END_TEST

START_TEST(broken_multipart_no_crash)
{
        _cleanup_(dt_message_freep) struct dt_message *m =
                parse_file("mime/bad-broken-base64-no-boundary.eml");

        ck_assert_uint_ne(dt_message_flags(m) & DT_MIME_ANOMALY, 0);
        ck_assert_int_eq(dt_message_kind(m), DT_KIND_NONE);
}
END_TEST

/* --- limits and hostile structure -------------------------------------------------------- */

START_TEST(empty_rejected)
{
        parse_fail("", 0, &dt_limits_default, -ENODATA, DT_R_EMPTY);
        parse_fail(NULL, 0, &dt_limits_default, -ENODATA, DT_R_EMPTY);
        parse_fail("From x@y Mon Jan  1 00:00:00 2024\n", 34, &dt_limits_default, -ENODATA,
                   DT_R_EMPTY);
        parse_fail("From x@y", 8, &dt_limits_default, -EBADMSG, DT_R_MIME_MALFORMED);
}
END_TEST

START_TEST(size_limit)
{
        struct dt_limits lim = dt_limits_default;
        char buf[2000];

        memset(buf, 'a', sizeof buf);
        lim.message_bytes = sizeof buf - 1;
        parse_fail(buf, sizeof buf, &lim, -EFBIG, DT_R_SIZE_LIMIT);
}
END_TEST

START_TEST(header_block_never_ends)
{
        struct gen g;
        unsigned i;

        gen_open(&g);
        fputs("Subject: x\nX-Long: start\n", g.f);
        for (i = 0; i < 200 * 1024 / 100; i++)       /* 200 KiB of folded lines, 3 fields */
                fprintf(g.f, "\t%098u\n", i);
        fputs("From: a@b\n", g.f);
        gen_close(&g);
        ck_assert_uint_gt(g.len, 200 * 1024 - 100);
        parse_fail(g.buf, g.len, &dt_limits_default, -E2BIG, DT_R_HEADER_LIMIT);
        free(g.buf);
}
END_TEST

START_TEST(header_limit_without_newline)
{
        size_t len = 150 * 1024;
        char *buf = malloc(len);

        ck_assert_ptr_nonnull(buf);
        memcpy(buf, "Subject: ", 9);
        memset(buf + 9, 'x', len - 9);
        parse_fail(buf, len, &dt_limits_default, -E2BIG, DT_R_HEADER_LIMIT);
        free(buf);
}
END_TEST

START_TEST(too_many_header_fields)
{
        struct gen g;
        unsigned i;

        gen_open(&g);
        for (i = 0; i < 2000; i++)
                fprintf(g.f, "X-F%u: v\n", i);
        fputs("\nbody\n", g.f);
        gen_close(&g);
        parse_fail(g.buf, g.len, &dt_limits_default, -E2BIG, DT_R_HEADER_COUNT_LIMIT);
        free(g.buf);
}
END_TEST

START_TEST(fields_at_limit_accepted)
{
        _cleanup_(dt_message_freep) struct dt_message *m = NULL;
        struct dt_error err;
        struct gen g;
        unsigned i;

        gen_open(&g);
        for (i = 0; i < dt_limits_default.header_fields; i++)
                fprintf(g.f, "X-F%u: v\r\n", i);
        fputs("\r\nbody\r\n", g.f);
        gen_close(&g);
        ck_assert_int_eq(dt_mime_parse(g.buf, g.len, &dt_limits_default, &m, &err), 0);
        ck_assert_int_eq(dt_message_kind(m), DT_KIND_NONE);
        free(g.buf);
}
END_TEST

START_TEST(nesting_10000_deep)
{
        struct gen g;
        clock_t t0 = clock();

        gen_nested(&g, 10000);
        parse_fail(g.buf, g.len, &dt_limits_default, -ELOOP, DT_R_MIME_DEPTH);
        free(g.buf);
        ck_assert_msg((clock() - t0) / CLOCKS_PER_SEC < 10, "too slow");
}
END_TEST

START_TEST(nesting_at_limit)
{
        _cleanup_(dt_message_freep) struct dt_message *m = NULL;
        struct dt_error err;
        struct gen g;

        gen_nested(&g, dt_limits_default.mime_depth);   /* leaf at depth 8: allowed */
        ck_assert_int_eq(dt_mime_parse(g.buf, g.len, &dt_limits_default, &m, &err), 0);
        ck_assert_uint_eq(dt_message_n_parts(m), dt_limits_default.mime_depth + 1);
        ck_assert_uint_eq(dt_message_part(m, dt_limits_default.mime_depth)->depth,
                          dt_limits_default.mime_depth);
        free(g.buf);

        gen_nested(&g, dt_limits_default.mime_depth + 1);
        parse_fail(g.buf, g.len, &dt_limits_default, -ELOOP, DT_R_MIME_DEPTH);
        free(g.buf);
}
END_TEST

static const unsigned many_parts[] = { 1000, 10000 };

START_TEST(too_many_parts)
{
        struct gen g;
        clock_t t0 = clock();

        gen_parts(&g, many_parts[_i]);
        parse_fail(g.buf, g.len, &dt_limits_default, -E2BIG, DT_R_PART_COUNT_LIMIT);
        free(g.buf);
        ck_assert_msg((clock() - t0) / CLOCKS_PER_SEC < 10, "too slow");
}
END_TEST

START_TEST(parts_at_limit_accepted)
{
        _cleanup_(dt_message_freep) struct dt_message *m = NULL;
        struct dt_error err;
        struct gen g;

        gen_parts(&g, dt_limits_default.mime_parts - 1);        /* plus the container */
        ck_assert_int_eq(dt_mime_parse(g.buf, g.len, &dt_limits_default, &m, &err), 0);
        ck_assert_uint_eq(dt_message_n_parts(m), dt_limits_default.mime_parts);
        ck_assert_str_eq((const char *) dt_message_part(m, 63)->data, "part 62");
        free(g.buf);
}
END_TEST

START_TEST(embedded_copies_budget)
{
        struct dt_limits lim = dt_limits_default;
        struct gen g;
        unsigned i;

        /* three embedded levels repeat a 3 KB body: more than twice the message in all */
        gen_open(&g);
        fputs("From: a@b\nMIME-Version: 1.0\nContent-Type: message/rfc822\n\n"
              "Subject: 1\nContent-Type: message/rfc822\n\n"
              "Subject: 2\nContent-Type: message/rfc822\n\n"
              "Subject: 3\nContent-Type: text/plain\n\n", g.f);
        for (i = 0; i < 30; i++)
                fprintf(g.f, "%099u\n", i);
        gen_close(&g);
        lim.message_bytes = g.len;
        parse_fail(g.buf, g.len, &lim, -EFBIG, DT_R_SIZE_LIMIT);
        free(g.buf);
}
END_TEST

/* --- content sniffing -------------------------------------------------------------------- */

static const struct {
        const char *ct;
        const char *body;       /* no NUL inside */
        enum dt_kind kind;
        bool mismatch;
} sniff_cases[] = {
        { "text/xml", "<feedback><x/></feedback>\n", DT_KIND_AGGREGATE, false },
        { "application/xml", "\xef\xbb\xbf<?xml version=\"1.0\"?>\n<!-- c -->\n<feedback>",
          DT_KIND_AGGREGATE, false },
        { "application/octet-stream", " \r\n\t<feedback xmlns=\"x\"/>", DT_KIND_AGGREGATE,
          false },
        { "text/plain", "<!DOCTYPE feedback [<!ENTITY a \"b\">]><feedback/>", DT_KIND_AGGREGATE,
          false },
        { "text/xml", "<feedbackx/>", DT_KIND_NONE, false },
        { "text/xml", "<html><feedback/></html>", DT_KIND_NONE, false },
        { "text/xml", "<?xml version=\"1.0\"", DT_KIND_NONE, false },
        { "text/xml", "<!-- <feedback>", DT_KIND_NONE, false },
        { "text/xml", "\x1f\x8b\x08\x00", DT_KIND_AGGREGATE, true },
        { "text/plain", "PK\x03\x04rest", DT_KIND_AGGREGATE, true },
        { "application/gzip", "PK\x03\x04rest", DT_KIND_AGGREGATE, true },
        { "application/x-gzip", "\x1f\x8b\x08\x00", DT_KIND_AGGREGATE, false },
        { "application/gzip", "<feedback/>", DT_KIND_AGGREGATE, true },
        { "application/zip", "not a zip", DT_KIND_NONE, false },
        { "image/png", "\x1f\x8b", DT_KIND_AGGREGATE, false },
        { "text/plain", "\x1f", DT_KIND_NONE, false },
        { "text/plain", "", DT_KIND_NONE, false },
};

START_TEST(sniff_by_content)
{
        _cleanup_(dt_message_freep) struct dt_message *m = NULL;
        struct dt_error err;
        struct gen g;

        gen_text_body(&g, sniff_cases[_i].ct, sniff_cases[_i].body, strlen(sniff_cases[_i].body));
        ck_assert_int_eq(dt_mime_parse(g.buf, g.len, &dt_limits_default, &m, &err), 0);
        free(g.buf);
        ck_assert_msg(dt_message_kind(m) == sniff_cases[_i].kind, "case %d: kind %d", _i,
                      dt_message_kind(m));
        ck_assert_msg(!!(dt_message_flags(m) & DT_MIME_CONTENT_TYPE_MISMATCH) ==
                      sniff_cases[_i].mismatch, "case %d: flags %x", _i, dt_message_flags(m));
}
END_TEST

START_TEST(xml_beats_archive_and_named_beats_unnamed)
{
        static const char msg[] =
                "From: a@b\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=q\n\n"
                "--q\nContent-Type: application/octet-stream\n\n\x1f\x8b first\n"
                "--q\nContent-Type: application/octet-stream; name=\"r.xml.gz\"\n\n\x1f\x8b named\n"
                "--q\nContent-Type: text/plain\n\n<feedback/>\n"
                "--q--\n";
        static const char msg2[] =
                "From: a@b\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=q\n\n"
                "--q\nContent-Type: application/octet-stream\n\n\x1f\x8b first\n"
                "--q\nContent-Type: application/octet-stream; name=\"r.xml.gz\"\n\n\x1f\x8b named\n"
                "--q--\n";
        _cleanup_(dt_message_freep) struct dt_message *m = NULL, *m2 = NULL;
        struct dt_error err;

        ck_assert_int_eq(dt_mime_parse(msg, sizeof msg - 1, &dt_limits_default, &m, &err), 0);
        ck_assert_ptr_eq(dt_message_report(m), dt_message_part(m, 3));
        ck_assert_int_eq(dt_mime_parse(msg2, sizeof msg2 - 1, &dt_limits_default, &m2, &err), 0);
        ck_assert_ptr_eq(dt_message_report(m2), dt_message_part(m2, 2));
        ck_assert_str_eq(dt_message_report(m2)->filename, "r.xml.gz");
}
END_TEST

START_TEST(arf_beats_aggregate_payload)
{
        static const char msg[] =
                "From: a@b\nMIME-Version: 1.0\n"
                "Content-Type: multipart/report; report-type=Feedback-Report; boundary=q\n\n"
                "--q\nContent-Type: text/plain\n\nhi\n"
                "--q\nContent-Type: application/gzip\n\n\x1f\x8b\n"
                "--q--\n";
        _cleanup_(dt_message_freep) struct dt_message *m = NULL;
        struct dt_error err;

        ck_assert_int_eq(dt_mime_parse(msg, sizeof msg - 1, &dt_limits_default, &m, &err), 0);
        ck_assert_int_eq(dt_message_kind(m), DT_KIND_FAILURE);
        ck_assert_str_eq(dt_message_part(m, 0)->report_type, "feedback-report");
        ck_assert_ptr_null(dt_message_report(m));
}
END_TEST

static const struct {
        const char *subject;
        enum dt_kind kind;
} subjects[] = {
        { "DMARC Forensic Report for example.com", DT_KIND_FAILURE },
        { "dmarc failure report: example.com", DT_KIND_FAILURE },
        { "Report Domain: example.com Submitter: x.net Failure sample", DT_KIND_FAILURE },
        { "Report Domain: example.com Submitter: x.net Report-ID: 1", DT_KIND_NONE },
        { "Re: our DMARC failure", DT_KIND_NONE },
};

START_TEST(failure_subject_heuristic)
{
        _cleanup_(dt_message_freep) struct dt_message *m = NULL;
        struct dt_error err;
        char buf[512];
        int n;

        n = snprintf(buf, sizeof buf, "From: a@b\nSubject: %s\n\nsome text\n",
                     subjects[_i].subject);
        ck_assert(n > 0 && (size_t) n < sizeof buf);
        ck_assert_int_eq(dt_mime_parse(buf, (size_t) n, &dt_limits_default, &m, &err), 0);
        ck_assert_int_eq(dt_message_kind(m), subjects[_i].kind);
}
END_TEST

START_TEST(qp_and_lowercase_labels)
{
        static const char msg[] =
                "From: =?ISO-8859-1?Q?J=F6rg?= <j@example.de>\n"
                "Message-ID:   <abc@def>  \nMIME-Version: 1.0\n"
                "Content-Type: TEXT/Plain; charset=utf-8\n"
                "Content-Disposition: attachment; filename=\"Report.XML\"\n"
                "Content-Transfer-Encoding: quoted-printable\n\n"
                "<feedback=3E=0Asoft line=\n break\n";
        _cleanup_(dt_message_freep) struct dt_message *m = NULL;
        const struct dt_part *p;
        struct dt_error err;

        ck_assert_int_eq(dt_mime_parse(msg, sizeof msg - 1, &dt_limits_default, &m, &err), 0);
        p = dt_message_part(m, 0);
        ck_assert_str_eq(p->content_type, "text/plain");
        ck_assert_str_eq(p->filename, "Report.XML");
        ck_assert_str_eq((const char *) p->data, "<feedback>\nsoft line break\n");
        ck_assert_int_eq(dt_message_kind(m), DT_KIND_AGGREGATE);
        ck_assert_str_eq(dt_message_from(m), "Jörg <j@example.de>");
        ck_assert_str_eq(dt_message_id(m), "abc@def");
}
END_TEST

START_TEST(null_safe_accessors)
{
        ck_assert_ptr_null(dt_message_free(NULL));
        ck_assert_int_eq(dt_message_kind(NULL), DT_KIND_NONE);
        ck_assert_ptr_null(dt_message_report(NULL));
        ck_assert_uint_eq(dt_message_n_parts(NULL), 0);
        ck_assert_ptr_null(dt_message_part(NULL, 0));
        ck_assert_ptr_null(dt_message_subject(NULL));
        ck_assert_ptr_null(dt_message_from(NULL));
        ck_assert_ptr_null(dt_message_id(NULL));
        ck_assert_uint_eq(dt_message_flags(NULL), 0);
}
END_TEST

START_TEST(part_index_out_of_range)
{
        _cleanup_(dt_message_freep) struct dt_message *m = parse_file("mime/good-plain-text.eml");

        ck_assert_ptr_nonnull(dt_message_part(m, 0));
        ck_assert_ptr_null(dt_message_part(m, 1));
        ck_assert_ptr_null(dt_message_part(m, (size_t) -1));
}
END_TEST

START_TEST(garbage_inputs_no_crash)
{
        static const char *const inputs[] = {
                "\n", "\r\n", "\n\n\n", "\0\0\0\0", ":\n\n", "Content-Type: multipart/mixed\n\n",
                "Content-Type: multipart/mixed; boundary=\"\"\n\n--\n--\n",
                "Content-Type: message/rfc822\n\n", "Content-Type: message/rfc822\n\n\n\n",
                "Content-Type: multipart/mixed; boundary=a\n\n--a\n\n--a\n\n--a--",
                "Content-Type: text/plain\nContent-Transfer-Encoding: base64\n\n====\x80\xff",
                "Content-Type: text/plain\nContent-Transfer-Encoding: x-uuencode\n\nbegin 644 a\n",
                "From: \xff\xfe\nSubject: =?x-unknown?Q?=FF?=\n\n",
        };
        size_t i;

        for (i = 0; i < ELEMENTSOF(inputs); i++) {
                _cleanup_(dt_message_freep) struct dt_message *m = NULL;
                struct dt_error err;
                size_t len = strlen(inputs[i]);
                int r;

                if (len == 0)
                        len = 4;        /* the NUL case */
                r = dt_mime_parse(inputs[i], len, &dt_limits_default, &m, &err);
                ck_assert_msg(r == 0 || r == -EBADMSG, "input %zu: %d", i, r);
                if (r == 0)
                        ck_assert_int_eq(dt_message_kind(m), DT_KIND_NONE);
        }
}
END_TEST

/* hostile_case - build hostile input number i into g; returns its name. *reason is the
 * rejection expected, or NULL when the message must parse (as DT_KIND_NONE). */
static const char *hostile_case(struct gen *g, int i, const char **reason) {
        unsigned k;

        *reason = NULL;
        gen_open(g);
        switch (i) {
        case 0: /* gmime#165: non-ASCII parameter names, inside an embedded message too */
                fputs("From: a@b\nMIME-Version: 1.0\nContent-Type: message/rfc822\n\n"
                      "From: c@d\nContent-Type: multipart/mixed;\n ", g->f);
                for (k = 0; k < 40; k++)
                        fputs("\xd1\x9c", g->f);
                fputs("=\"\xd1\x9c\"\n\nbody\n", g->f);
                gen_close(g);
                return "gmime#165 parameter names";
        case 1:
                fputs("From: ", g->f);
                for (k = 0; k < 99000; k++)
                        fputc(':', g->f);
                fputs("\nSubject: colons\n\nbody\n", g->f);
                gen_close(g);
                return "From: 99,000 colons";
        case 2:
                fputs("From: ", g->f);
                for (k = 0; k < 5000; k++)
                        fprintf(g->f, "%sa%u@b.example", k ? ", " : "", k);
                fputs("\n\nbody\n", g->f);
                gen_close(g);
                return "5,000 addresses";
        case 3:
                fputs("From: ", g->f);
                for (k = 0; k < 20000; k++)
                        fputs("g:", g->f);
                fputs("a@b", g->f);
                for (k = 0; k < 20000; k++)
                        fputc(';', g->f);
                fputs("\n\nbody\n", g->f);
                gen_close(g);
                return "nested groups";
        case 4:
                fputs("Subject:", g->f);
                for (k = 0; k < 1000; k++)
                        fputs(" =?utf-8?B?w7Y=?=", g->f);
                fputs("\nFrom: =?x-unknown?B?/w==?= <a@b>\nTo: =?\"\"?Q?x?=\n\nbody\n", g->f);
                gen_close(g);
                return "encoded-word abuse";
        case 5:
                fputs("Content-Type: text/plain\nContent-Transfer-Encoding: quoted-printable\n\n",
                      g->f);
                for (k = 0; k < 1000000; k++)
                        fputs("=\n", g->f);
                gen_close(g);
                return "quoted-printable soft-break flood";
        case 6:
                fputs("Content-Type: application/gzip\nContent-Transfer-Encoding: base64\n\n"
                      "=H4sI", g->f);
                for (k = 0; k < 100000; k++)
                        fputs("!@#$%", g->f);
                gen_close(g);
                return "base64 junk";
        case 7:
                fputs("Content-Type: multipart/mixed; boundary=\"", g->f);
                for (k = 0; k < 10240; k++)
                        fputc('b', g->f);
                fputs("\"\n\n--", g->f);
                for (k = 0; k < 10240; k++)
                        fputc('b', g->f);
                fputs("\nContent-Type: text/plain\n\nx\n", g->f);
                gen_close(g);
                return "10 KB boundary";
        case 8:
                fputs("Content-Type: multipart/mixed; boundary=\"\"\n\n--\nContent-Type: text/plain"
                      "\n\nx\n----\n", g->f);
                gen_close(g);
                return "empty boundary";
        case 9: {
                static const char nul[] = "Subject: a\0b\nContent-Type: text/plain\n\nx\0y\r\rz\n";

                fwrite(nul, 1, sizeof nul - 1, g->f);
                gen_close(g);
                return "NUL bytes and bare CR";
        }
        case 10:
                fputs("Content-Type: text/plain\nContent-Transfer-Encoding: x-uuencode\n\n"
                      "begin 644 a\n", g->f);
                for (k = 0; k < 1000; k++)
                        fputs("\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\n", g->f);
                gen_close(g);
                return "uuencode with giant length bytes";
        case 11:
                fputs("Content-Type: multipart/mixed; boundary=x\n\n--x\n", g->f);
                for (k = 0; k < 100000; k++)
                        fprintf(g->f, "X-%u: v\n", k);
                fputs("\nbody\n--x--\n", g->f);
                gen_close(g);
                *reason = DT_R_HEADER_COUNT_LIMIT;     /* before gmime builds 100,000 objects */
                return "100,000 header fields in a part";
        case 12:
                fputs("Content-Type: multipart/mixed; boundary=x\n\n", g->f);
                for (k = 0; k < 1000000; k++)
                        fputs("--x\n\n", g->f);
                gen_close(g);
                *reason = DT_R_PART_COUNT_LIMIT;       /* before gmime builds 10^6 parts */
                return "a million empty parts";
        case 13:
                fputs("Content-Type: text/plain\n\n", g->f);
                for (k = 0; k < 60000; k++)
                        fputs(k % 4 ? "Key : value\n" : "Key : value\n-- \n", g->f);
                gen_close(g);
                return "header-like and dash lines in a body, under the bounds";
        }
        gen_close(g);
        return NULL;
}

#define N_HOSTILE 14

START_TEST(hostile_inputs_bounded)
{
        _cleanup_(dt_message_freep) struct dt_message *m = NULL;
        struct dt_error err;
        struct gen g;
        const char *reason, *name = hostile_case(&g, _i, &reason);
        clock_t t0 = clock();
        int r;

        ck_assert_ptr_nonnull(name);
        r = dt_mime_parse(g.buf, g.len, &dt_limits_default, &m, &err);
        free(g.buf);
        if (reason) {
                ck_assert_msg(r == -E2BIG, "%s: %d", name, r);
                ck_assert_str_eq(err.reason, reason);
                ck_assert_ptr_null(m);
        } else {
                ck_assert_msg(r == 0, "%s: %d %s", name, r, err.message);
                ck_assert_int_eq(dt_message_kind(m), DT_KIND_NONE);
        }
        /* generous: valgrind runs this too */
        ck_assert_msg((clock() - t0) / CLOCKS_PER_SEC < 30, "%s: too slow", name);
}
END_TEST

START_TEST(five_mb_subject)
{
        struct gen g;
        unsigned k;

        gen_open(&g);
        fputs("Subject: ", g.f);
        for (k = 0; k < 5u << 20; k += 64)
                fputs("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", g.f);
        fputs("\n\nbody\n", g.f);
        gen_close(&g);
        parse_fail(g.buf, g.len, &dt_limits_default, -E2BIG, DT_R_HEADER_LIMIT);
        free(g.buf);
}
END_TEST

START_TEST(nul_in_body_kept)
{
        static const char msg[] = "Subject: x\nContent-Type: text/plain\n\nx\0y\r\nz";
        _cleanup_(dt_message_freep) struct dt_message *m = NULL;
        struct dt_error err;

        ck_assert_int_eq(dt_mime_parse(msg, sizeof msg - 1, &dt_limits_default, &m, &err), 0);
        ck_assert_uint_eq(dt_message_part(m, 0)->len, 5);
        ck_assert_int_eq(memcmp(dt_message_part(m, 0)->data, "x\0y\nz", 5), 0);
}
END_TEST

static Suite *mime_suite(void) {
        Suite *s = suite_create("mime");
        TCase *tc = tcase_create("core");

        tcase_set_timeout(tc, 120);
        tcase_add_loop_test(tc, corpus_aggregate_eml, 0, (int) ELEMENTSOF(aggregate_eml));
        tcase_add_loop_test(tc, corpus_failure_eml, 0, (int) ELEMENTSOF(failure_eml));
        tcase_add_test(tc, abuse_arf_is_failure_kind);
        tcase_add_test(tc, exim_notice_parts);
        tcase_add_test(tc, dsn_bounce_is_none);
        tcase_add_test(tc, crlf_and_lf_give_same_parts);
        tcase_add_test(tc, rfc2047_subject_decoded);
        tcase_add_test(tc, single_part_body_is_depth_zero);
        tcase_add_test(tc, plain_text_is_none);
        tcase_add_test(tc, zip_label_gzip_bytes_flagged);
        tcase_add_test(tc, xml_inline_in_text_plain);
        tcase_add_test(tc, two_content_types_flagged);
        tcase_add_test(tc, forwarded_aggregate_found);
        tcase_add_test(tc, broken_multipart_no_crash);
        tcase_add_test(tc, empty_rejected);
        tcase_add_test(tc, size_limit);
        tcase_add_test(tc, header_block_never_ends);
        tcase_add_test(tc, header_limit_without_newline);
        tcase_add_test(tc, too_many_header_fields);
        tcase_add_test(tc, fields_at_limit_accepted);
        tcase_add_test(tc, nesting_10000_deep);
        tcase_add_test(tc, nesting_at_limit);
        tcase_add_loop_test(tc, too_many_parts, 0, (int) ELEMENTSOF(many_parts));
        tcase_add_test(tc, parts_at_limit_accepted);
        tcase_add_test(tc, embedded_copies_budget);
        tcase_add_loop_test(tc, sniff_by_content, 0, (int) ELEMENTSOF(sniff_cases));
        tcase_add_test(tc, xml_beats_archive_and_named_beats_unnamed);
        tcase_add_test(tc, arf_beats_aggregate_payload);
        tcase_add_loop_test(tc, failure_subject_heuristic, 0, (int) ELEMENTSOF(subjects));
        tcase_add_test(tc, qp_and_lowercase_labels);
        tcase_add_test(tc, null_safe_accessors);
        tcase_add_test(tc, part_index_out_of_range);
        tcase_add_test(tc, garbage_inputs_no_crash);
        tcase_add_loop_test(tc, hostile_inputs_bounded, 0, N_HOSTILE);
        tcase_add_test(tc, five_mb_subject);
        tcase_add_test(tc, nul_in_body_kept);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        return dt_test_main(mime_suite());
}
