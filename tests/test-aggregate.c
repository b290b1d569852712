/* test-aggregate.c - report/aggregate.c against the shared corpus, hand-made fixtures
 * (tests/data/aggregate/) and hostile documents built in the test
 *
 * Every expected value in the tables was read by hand from the XML file it names. */
#include <arpa/inet.h>
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libxml/parser.h>

#include "report/aggregate.h"
#include "report/unpack.h"
#include "tests/testutil.h"

/* one parse: the input bytes, the stream over them, the report, and how it ended */
struct run {
        char *buf;
        size_t len;
        struct dt_input *in;
        struct dt_aggregate *agg;
        struct dt_error err;
        int r;                  /* 0 parsed to the end, <0 the error (in err) */
        int stage;              /* where it stopped: 0 unpack, 1 open, 2 next */
        uint64_t handed_out;    /* records returned by next() */
};

static void run_done(struct run *x) {
        x->agg = dt_aggregate_free(x->agg);
        x->in = dt_input_free(x->in);
        free(x->buf);
        x->buf = NULL;
}

/* run_open - unpack and open x->buf */
static int run_open(struct run *x, const struct dt_limits *lim) {
        dt_error_clear(&x->err);
        x->stage = 0;
        x->r = dt_unpack_open(x->buf, x->len, lim, &x->in, &x->err);
        if (x->r < 0)
                return x->r;
        x->stage = 1;
        x->r = dt_aggregate_open(x->in, lim, &x->agg, &x->err);
        if (x->r < 0)
                ck_assert_ptr_null(x->agg);
        return x->r;
}

/* run_drain - next() until the end or an error */
static int run_drain(struct run *x) {
        const struct dt_record *rec;
        int r;

        x->stage = 2;
        while ((r = dt_aggregate_next(x->agg, &rec, &x->err)) == 1)
                x->handed_out++;
        x->r = r;
        return r;
}

static int run_all(struct run *x, const struct dt_limits *lim) {
        if (run_open(x, lim) < 0)
                return x->r;
        return run_drain(x);
}

/* run_str - a copy of a NUL-terminated document */
static void run_str(struct run *x, const char *xml) {
        memset(x, 0, sizeof *x);
        x->len = strlen(xml);
        x->buf = strdup(xml);
        ck_assert_ptr_nonnull(x->buf);
}

static void run_file(struct run *x, const char *rel) {
        memset(x, 0, sizeof *x);
        x->buf = dt_test_load(rel, &x->len);
}

/* has_warning - a warning whose reason contains text */
static bool has_warning(const struct dt_aggregate *a, const char *text) {
        size_t i;

        for (i = 0; i < dt_aggregate_n_warnings(a); i++)
                if (strstr(dt_aggregate_warning(a, i)->reason, text))
                        return true;
        return false;
}

static bool has_extension(const struct dt_aggregate *a, const char *name) {
        size_t i;

        for (i = 0; i < dt_aggregate_n_extensions(a); i++)
                if (strcmp(dt_aggregate_extension(a, i), name) == 0)
                        return true;
        return false;
}

/* ck_str - compare possibly-NULL strings */
#define ck_str(got, want)                                                                   \
        do {                                                                                \
                const char *_g = (got), *_w = (want);                                       \
                if (_w)                                                                     \
                        ck_assert_msg(_g && strcmp(_g, _w) == 0, "%s: got '%s', want '%s'", \
                                      #got, _g ? _g : "(null)", _w);                        \
                else                                                                        \
                        ck_assert_msg(!_g, "%s: got '%s', want NULL", #got, _g);            \
        } while (0)

/* ---- the shared corpus ---------------------------------------------------------------- */

static bool corpus_name_ok(const char *n) {
        size_t l = strlen(n);

        return (l > 4 && strcmp(n + l - 4, ".xml") == 0) || (l > 3 && strcmp(n + l - 3, ".gz") == 0) ||
               (l > 4 && strcmp(n + l - 4, ".zip") == 0);
}

START_TEST(corpus_every_report_parses)
{
        char dir[4096], rel[512];
        struct dirent *de;
        unsigned n = 0;
        DIR *d;

        snprintf(dir, sizeof dir, "%s", dt_test_path("corpus/aggregate"));
        d = opendir(dir);
        ck_assert_msg(d != NULL, "cannot open %s", dir);
        while ((de = readdir(d))) {
                struct run x;

                if (de->d_name[0] == '.' || !corpus_name_ok(de->d_name))
                        continue;       /* .eml need MIME first (test-mime) */
                ck_assert_int_lt(snprintf(rel, sizeof rel, "corpus/aggregate/%s", de->d_name),
                                 (int) sizeof rel);
                run_file(&x, rel);
                run_all(&x, &dt_limits_default);
                ck_assert_msg(x.r == 0, "%s: stage %d: %s %s (line %lld)", de->d_name, x.stage,
                              x.err.reason, x.err.message, (long long) x.err.line);
                ck_assert_msg(dt_aggregate_report_id(x.agg) != NULL, "%s: no report_id", de->d_name);
                ck_assert_msg(dt_aggregate_policy(x.agg)->domain != NULL, "%s: no domain", de->d_name);
                ck_assert_msg(dt_aggregate_record_count(x.agg) > 0, "%s: no records", de->d_name);
                ck_assert_uint_eq(dt_aggregate_record_count(x.agg), x.handed_out);
                ck_assert_msg(dt_aggregate_n_warnings(x.agg) == 0, "%s: warning '%s'", de->d_name,
                              dt_aggregate_warning(x.agg, 0)->reason);
                run_done(&x);
                n++;
        }
        closedir(d);
        ck_assert_uint_ge(n, 30);
}
END_TEST

struct corpus_case {
        const char *file;
        const char *org, *report_id, *domain;
        int64_t begin, end;
        uint64_t records, messages;
        unsigned rec;                   /* which record (0-based) to look at */
        const char *ip;
        uint64_t count;
        const char *disposition, *dkim, *spf, *header_from, *envelope_from, *envelope_to;
        const char *ad_domain, *ad_selector, *ad_result;        /* first auth_results dkim */
        const char *as_domain, *as_scope, *as_result;           /* first auth_results spf */
};

static const struct corpus_case corpus_cases[] = {
        { "cry-inc_google.xml", "google.com", "3166094538684628578", "foo-bar.io", 1709683200,
          1709769599, 1, 1, 0, "1.2.3.4", 1, "none", "pass", "pass", "foo-bar.io", NULL, NULL,
          "foo-bar.io", "krs", "pass", "foo-bar.io", NULL, "pass" },
        { "cry-inc_outlook.xml", "Outlook.com", "a4f4ef0654474d3faa5dca167a34a86a", "random.net",
          1709683200, 1709769600, 2, 3, 1, "1.2.3.4", 2, "none", "pass", "pass", "random.net",
          "random.net", "outlook.de", "random.net", "def", "pass", "random.net", "mfrom", "pass" },
        { "cry-inc_yahoo.xml", "Yahoo", "1709600619.487850", "random.org", 1709510400, 1709596799,
          1, 1, 0, "1.2.3.4", 1, "none", "pass", "pass", "random.org", NULL, NULL, "random.org",
          "abc", "pass", "random.org", NULL, "pass" },
        { "DmarcAnalyzerApp_sample-yahoo-aggregate.xml", "Yahoo", "1737770612.289931",
          "007ed325dddd44e3a0f17488f4312e49.com", 1737676800, 1737763199, 1, 1, 0, "127.0.0.1", 1,
          "none", "pass", "fail", "007ed325dddd44e3a0f17488f4312e49.com", NULL, NULL,
          "007ed325dddd44e3a0f17488f4312e49.com", "k1", "pass",
          "007ed325dddd44e3a0f17488f4312e49.com", NULL, "pass" },
        { "parsedmarc_zoho.com!example.com!1581753600!1581840000.xml", "zoho.com",
          "e2cb5d97-dcbb-470f-b2dd-45519a2abbb3", "example.com", 1581753600, 1581840000, 8, 9, 0,
          "216.71.146.18", 1, "none", "fail", "fail", "example.com", NULL, NULL, "example.com", "s1",
          "pass", "example.com", "mfrom", "pass" },
        { "cry-inc_mailru.xml", "Mail.Ru", "28327321193681154911721360800", "foobar.de", 1721260800,
          1721347200, 1, 1, 0, "118.41.204.2", 1, "reject", "fail", "fail", "foobar.de", NULL, NULL,
          NULL, NULL, NULL, "foobar.de", "mfrom", "softfail" },
        { "cry-inc_aol.xml", "AOL", "website.com_1504828800", "website.com", 1504742400, 1504828800,
          1, 1, 0, "125.125.125.125", 1, "none", "pass", "pass", "website.com", NULL, NULL,
          "website.com", NULL, "pass", "website.com", "mfrom", "pass" },
        { "parsedmarc_fastmail.com!example.com!1516060800!1516147199!102675056.xml.gz",
          "FastMail Pty Ltd", "102675056", "indemed.com", 1516060800, 1516147199, 1, 1, 0,
          "104.195.80.20", 1, "none", "fail", "fail", "example.com", "example.com", "fastmail.fm",
          NULL, NULL, NULL, "example.com", "mfrom", "softfail" },
        { "parsedmarc_estadocuenta1.infonacot.gob.mx!example.com!1536853302!1536939702!2940.xml.zip",
          "XYZ Corporation", "2940", "example.com", 1536853302, 1536939702, 1, 1, 0,
          "148.243.137.254", 1, "none", "fail", "fail", "example.com", NULL,
          "estadocuenta1.infonacot.gob.mx", NULL, NULL, NULL, NULL, NULL, NULL },
        { "mail-dmarc_test_dmarc.xml.zip", "Test Sender", "1234567890", "example.com", 1609459200,
          1609545600, 1, 1, 0, "1.2.3.4", 1, "none", "pass", "pass", "example.com", NULL, NULL,
          "example.com", "default", "pass", "example.com", "mfrom", "pass" },
        { "parsedmarc_rfc9990-example.net!example.com!1700000000!1700086399.xml", "example.net",
          "dmarcbis-test-report-001", "example.com", 1700000000, 1700086399, 2, 7, 1,
          "203.0.113.10", 2, "reject", "fail", "fail", "example.com", "spoofed.example.com", NULL,
          NULL, NULL, NULL, "spoofed.example.com", "mfrom", "fail" },
        { "parsedmarc_rfc9990-sample.xml", "Sample Reporter", "3v98abbp8ya9n3va8yr8oa3ya",
          "example.com", 302832000, 302918399, 1, 123, 0, "192.0.2.123", 123, "pass", "pass",
          "fail", "example.com", "example.com", NULL, "example.com", "abc123", "pass",
          "example.com", NULL, "fail" },
        { "parsedmarc_!large-example.com!1711897200!1711983600.xml", NULL, "example.com:1711897200",
          "example.com", 1711897200, 1711983600, 2286, 2286, 2285, "12.20.129.254", 1, "none",
          "fail", "fail", "example.com", NULL, NULL, NULL, NULL, NULL, NULL, NULL, "none" },
        { "mail-auth_dmarc-feedback-003.xml", "Fastmail Pty Ltd", "758848224", "stalw.art",
          1667347200, 1667433599, 4, 9, 0, "64.147.108.117", 3, "none", "fail", "fail", "stalw.art",
          "jmap.bounce.topicbox.com", NULL, "jmap.topicbox.com", "dkim-1", "pass",
          "jmap.bounce.topicbox.com", "mfrom", "pass" },
        { "parsedmarc_protection.outlook.com!example.com!1711756800!1711843200.xml", "Outlook.com",
          "cfeafefe4129445e8c81018bd9177197", "example.com", 1711756800, 1711843200, 1, 1, 0,
          "100.24.188.149", 1, "none", "fail", "fail", "example.com", "example.com", "hotmail.com",
          NULL, NULL, NULL, "example.com", "mfrom", "fail" },
        { "parsedmarc_nice-input.xml.gz", "google.com", "11038226378739404135", "example.com",
          1718236800, 1718323199, 20, 3047, 1, "209.85.220.41", 2, "none", "pass", "fail",
          "example.com", NULL, NULL, "example.com", "awbr2rp4egb35wbg4umq4e5dcoe5kc4n", "pass",
          "gmail.com", NULL, "pass" },
};

START_TEST(corpus_values)
{
        const struct corpus_case *c = &corpus_cases[_i];
        const struct dt_record *rec = NULL;
        char rel[512];
        struct run x;
        unsigned k;
        int r;

        snprintf(rel, sizeof rel, "corpus/aggregate/%s", c->file);
        run_file(&x, rel);
        ck_assert_msg(run_open(&x, &dt_limits_default) == 0, "%s: %s %s", c->file, x.err.reason,
                      x.err.message);
        for (k = 0; k <= c->rec; k++) {
                r = dt_aggregate_next(x.agg, &rec, &x.err);
                ck_assert_int_eq(r, 1);
        }
        ck_str(rec->source_ip, c->ip);
        ck_assert_uint_eq(rec->count, c->count);
        ck_str(rec->disposition, c->disposition);
        ck_str(rec->dkim, c->dkim);
        ck_str(rec->spf, c->spf);
        ck_str(rec->header_from, c->header_from);
        ck_str(rec->envelope_from, c->envelope_from);
        ck_str(rec->envelope_to, c->envelope_to);
        if (c->ad_result) {
                ck_assert_uint_ge(rec->n_auth_dkim, 1);
                ck_str(rec->auth_dkim[0].domain, c->ad_domain);
                ck_str(rec->auth_dkim[0].selector, c->ad_selector);
                ck_str(rec->auth_dkim[0].result, c->ad_result);
        } else {
                ck_assert_uint_eq(rec->n_auth_dkim, 0);
        }
        if (c->as_result) {
                ck_assert_uint_ge(rec->n_auth_spf, 1);
                ck_str(rec->auth_spf[0].domain, c->as_domain);
                ck_str(rec->auth_spf[0].scope, c->as_scope);
                ck_str(rec->auth_spf[0].result, c->as_result);
        } else {
                ck_assert_uint_eq(rec->n_auth_spf, 0);
        }
        ck_assert_int_eq(run_drain(&x), 0);
        ck_str(dt_aggregate_org(x.agg), c->org);
        ck_str(dt_aggregate_report_id(x.agg), c->report_id);
        ck_str(dt_aggregate_policy(x.agg)->domain, c->domain);
        ck_assert_int_eq(dt_aggregate_begin(x.agg), c->begin);
        ck_assert_int_eq(dt_aggregate_end(x.agg), c->end);
        ck_assert_uint_eq(dt_aggregate_record_count(x.agg), c->records);
        ck_assert_uint_eq(dt_aggregate_message_count(x.agg), c->messages);
        ck_assert_uint_eq(x.handed_out + c->rec + 1, c->records);
        run_done(&x);
}
END_TEST

START_TEST(corpus_rfc9990_elements)
{
        const struct dt_policy *p;
        const struct dt_record *rec;
        struct run x;

        run_file(&x, "corpus/aggregate/parsedmarc_rfc9990-example.net!example.com!1700000000!1700086399.xml");
        ck_assert_int_eq(run_all(&x, &dt_limits_default), 0);
        p = dt_aggregate_policy(x.agg);
        ck_str(dt_aggregate_version(x.agg), "2.0");
        ck_str(p->adkim, "s");
        ck_str(p->aspf, "s");
        ck_str(p->p, "reject");
        ck_str(p->sp, "quarantine");
        ck_str(p->np, "reject");
        ck_str(p->testing, "y");
        ck_str(p->discovery_method, "treewalk");
        ck_str(p->fo, "1");
        ck_assert_int_eq(p->pct, -1);
        run_done(&x);

        /* the spec's own example: default namespace, <generator> */
        run_file(&x, "corpus/aggregate/parsedmarc_rfc9990-sample.xml");
        ck_assert_int_eq(run_open(&x, &dt_limits_default), 0);
        ck_assert_int_eq(dt_aggregate_next(x.agg, &rec, &x.err), 1);
        ck_str(rec->auth_dkim[0].human_result, NULL);
        ck_assert_int_eq(run_drain(&x), 0);
        p = dt_aggregate_policy(x.agg);
        ck_str(dt_aggregate_generator(x.agg), "Example DMARC Aggregate Reporter v1.2");
        ck_str(dt_aggregate_extra_contact(x.agg), "...");
        ck_str(p->np, "none");
        ck_str(p->testing, "n");
        ck_str(p->discovery_method, "treewalk");
        ck_assert_uint_eq(dt_aggregate_n_extensions(x.agg), 0);
        run_done(&x);

        /* human_result as Fastmail sends it */
        run_file(&x, "corpus/aggregate/mail-auth_dmarc-feedback-003.xml");
        ck_assert_int_eq(run_open(&x, &dt_limits_default), 0);
        ck_assert_int_eq(dt_aggregate_next(x.agg, &rec, &x.err), 1);
        ck_assert_uint_eq(rec->n_reasons, 1);
        ck_str(rec->reasons[0].type, "trusted_forwarder");
        ck_str(rec->reasons[0].comment, "Policy ignored due to local white list");
        ck_str(rec->auth_dkim[0].human_result, "pass");
        ck_str(rec->auth_spf[0].human_result, NULL);
        run_done(&x);
}
END_TEST

/* ---- the malformed corpus ------------------------------------------------------------- */

struct malformed_case {
        const char *file;
        const char *reason;             /* NULL: parses */
        int64_t line;                   /* expected err.line, 0: not checked */
};

static const struct malformed_case malformed_cases[] = {
        { "parsedmarc_ikea.com!example.de!1538690400!1538776800.xml", DT_R_XML_MALFORMED, 0 },
        { "parsedmarc_invalid_utf_8.xml", DT_R_XML_MALFORMED, 31 },
        { "parsedmarc_invalid_xml.xml", DT_R_XML_MALFORMED, 5 },
        { "parsedmarc_empty.xml", DT_R_EMPTY, 0 },
        { "parsedmarc_!example.com!1538204542!1538463818.xml", NULL, 0 },
        { "parsedmarc_empty_reason.xml", NULL, 0 },
        { "parsedmarc_report_with_upper_cased_pass.xml", NULL, 0 },
        { "tierpod_test_empty.xml", NULL, 0 },
};

START_TEST(malformed_outcomes)
{
        const struct malformed_case *c = &malformed_cases[_i];
        char rel[512];
        struct run x;

        snprintf(rel, sizeof rel, "corpus/malformed/%s", c->file);
        run_file(&x, rel);
        run_all(&x, &dt_limits_default);
        if (!c->reason) {
                ck_assert_msg(x.r == 0, "%s: %s %s", c->file, x.err.reason, x.err.message);
        } else {
                ck_assert_msg(x.r < 0, "%s parsed", c->file);
                ck_str(x.err.reason, c->reason);
                if (c->line)
                        ck_assert_int_eq(x.err.line, c->line);
                if (strcmp(c->reason, DT_R_XML_MALFORMED) == 0)
                        ck_assert_int_ge(x.err.offset, 0);
        }
        run_done(&x);
}
END_TEST

START_TEST(malformed_edge_values)
{
        const struct dt_record *rec;
        struct run x;

        /* empty <org_name> is NULL; empty spf <domain> is NULL; begin == end is kept */
        run_file(&x, "corpus/malformed/parsedmarc_!example.com!1538204542!1538463818.xml");
        ck_assert_int_eq(run_open(&x, &dt_limits_default), 0);
        ck_str(dt_aggregate_org(x.agg), NULL);
        ck_str(dt_aggregate_email(x.agg), "administrator@accurateplastics.com");
        ck_assert_int_eq(dt_aggregate_begin(x.agg), 1538413632);
        ck_assert_int_eq(dt_aggregate_end(x.agg), 1538413632);
        ck_assert_int_eq(dt_aggregate_next(x.agg, &rec, &x.err), 1);
        ck_assert_uint_eq(rec->n_auth_spf, 1);
        ck_str(rec->auth_spf[0].domain, NULL);
        ck_str(rec->auth_spf[0].result, "none");
        run_done(&x);

        /* empty <reason>: one reason, type and comment NULL */
        run_file(&x, "corpus/malformed/parsedmarc_empty_reason.xml");
        ck_assert_int_eq(run_open(&x, &dt_limits_default), 0);
        ck_assert_int_eq(dt_aggregate_next(x.agg, &rec, &x.err), 1);
        ck_assert_uint_eq(rec->n_reasons, 1);
        ck_str(rec->reasons[0].type, NULL);
        ck_str(rec->reasons[0].comment, NULL);
        ck_str(rec->envelope_to, "example.net");
        ck_str(rec->envelope_from, "example.edu");
        ck_str(rec->auth_dkim[0].human_result, "2048-bit key");
        run_done(&x);

        /* "Pass" lower-cased, trailing space cut from org_name */
        run_file(&x, "corpus/malformed/parsedmarc_report_with_upper_cased_pass.xml");
        ck_assert_int_eq(run_open(&x, &dt_limits_default), 0);
        ck_assert_int_eq(dt_aggregate_next(x.agg, &rec, &x.err), 1);
        ck_str(rec->dkim, "pass");
        ck_str(rec->spf, "pass");
        ck_str(rec->auth_dkim[0].result, "pass");
        ck_str(rec->auth_spf[0].result, "pass");
        ck_str(dt_aggregate_org(x.agg), "example.com");
        run_done(&x);

        /* all-empty record: skipped with a warning, the report still parses */
        run_file(&x, "corpus/malformed/tierpod_test_empty.xml");
        ck_assert_int_eq(run_all(&x, &dt_limits_default), 0);
        ck_assert_uint_eq(x.handed_out, 0);
        ck_assert_uint_eq(dt_aggregate_record_count(x.agg), 0);
        ck_assert_uint_eq(dt_aggregate_n_warnings(x.agg), 1);
        ck_assert(has_warning(x.agg, "source_ip"));
        ck_assert_int_gt(dt_aggregate_warning(x.agg, 0)->offset, 0);
        ck_str(dt_aggregate_report_id(x.agg), "1.id.0");
        run_done(&x);
}
END_TEST

/* ---- hand-made fixtures ----------------------------------------------------------------- */

START_TEST(fixture_reordered)
{
        const struct dt_record *rec;
        struct run x;

        run_file(&x, "aggregate/good-reordered.xml");
        ck_assert_int_eq(run_open(&x, &dt_limits_default), 0);
        /* metadata comes after the record: not known yet, filled in later */
        ck_str(dt_aggregate_report_id(x.agg), NULL);
        ck_assert_int_eq(dt_aggregate_next(x.agg, &rec, &x.err), 1);
        ck_str(rec->source_ip, "192.0.2.10");
        ck_assert_uint_eq(rec->count, 7);
        ck_str(rec->disposition, "none");
        ck_str(rec->header_from, "example.org");
        ck_str(rec->envelope_from, "mail.example.org");
        ck_str(rec->auth_dkim[0].domain, "example.org");
        ck_str(rec->auth_dkim[0].selector, "s1");
        ck_str(rec->auth_spf[0].domain, "mail.example.org");
        ck_str(rec->auth_spf[0].scope, "mfrom");
        ck_assert_int_eq(run_drain(&x), 0);
        ck_str(dt_aggregate_report_id(x.agg), "reordered-1");
        ck_str(dt_aggregate_org(x.agg), "Reorder Inc.");
        ck_str(dt_aggregate_version(x.agg), "1.0");
        ck_assert_int_eq(dt_aggregate_begin(x.agg), 1700000000);
        ck_assert_int_eq(dt_aggregate_end(x.agg), 1700086399);
        ck_str(dt_aggregate_policy(x.agg)->domain, "example.org");
        ck_str(dt_aggregate_policy(x.agg)->p, "quarantine");
        ck_assert_int_eq(dt_aggregate_policy(x.agg)->pct, 50);
        ck_assert_uint_eq(dt_aggregate_n_warnings(x.agg), 0);
        run_done(&x);

        run_file(&x, "aggregate/good-metadata-last.xml");
        ck_assert_int_eq(run_all(&x, &dt_limits_default), 0);
        ck_assert_uint_eq(dt_aggregate_record_count(x.agg), 2);
        ck_assert_uint_eq(dt_aggregate_message_count(x.agg), 5);
        ck_str(dt_aggregate_report_id(x.agg), "late-1");
        ck_str(dt_aggregate_policy(x.agg)->domain, "late.example");
        run_done(&x);
}
END_TEST

START_TEST(fixture_unknown_elements)
{
        const struct dt_record *rec;
        struct run x;

        run_file(&x, "aggregate/good-unknown-elements.xml");
        ck_assert_int_eq(run_open(&x, &dt_limits_default), 0);
        ck_assert_int_eq(dt_aggregate_next(x.agg, &rec, &x.err), 1);
        ck_str(rec->source_ip, "198.51.100.7");
        ck_str(rec->auth_dkim[0].human_result, "good signature");
        ck_str(rec->auth_spf[0].human_result, "not in record");
        ck_str(rec->auth_spf[0].domain, "bounce.ext.example");
        ck_assert_int_eq(run_drain(&x), 0);
        ck_str(dt_aggregate_version(x.agg), "2.0");
        ck_str(dt_aggregate_generator(x.agg), "ExtGen 0.1");
        ck_str(dt_aggregate_policy(x.agg)->np, "quarantine");
        /* unique local names, in order of appearance; <x:inner> is inside an unknown element */
        ck_assert_uint_eq(dt_aggregate_n_extensions(x.agg), 5);
        ck_str(dt_aggregate_extension(x.agg, 0), "vendor_note");
        ck_str(dt_aggregate_extension(x.agg, 1), "unknown_policy_tag");
        ck_str(dt_aggregate_extension(x.agg, 2), "arc_summary");
        ck_str(dt_aggregate_extension(x.agg, 3), "row_extra");
        ck_str(dt_aggregate_extension(x.agg, 4), "record_ext");
        ck_assert(!has_extension(x.agg, "inner"));
        ck_assert(!has_extension(x.agg, "extension"));
        ck_assert(!has_extension(x.agg, "extensions"));
        ck_assert_ptr_null(dt_aggregate_extension(x.agg, 5));
        ck_assert_uint_eq(dt_aggregate_n_warnings(x.agg), 0);
        run_done(&x);
}
END_TEST

START_TEST(fixture_windows_1252)
{
        struct run x;

        run_file(&x, "aggregate/good-windows-1252.xml");
        ck_assert_int_eq(run_all(&x, &dt_limits_default), 0);
        /* 0xE9 is e-acute, 0x93/0x94 are curly quotes: handed out as UTF-8 */
        ck_str(dt_aggregate_org(x.agg), "Soci\xc3\xa9t\xc3\xa9 \xe2\x80\x9c" "AOL\xe2\x80\x9d");
        ck_assert_uint_eq(dt_aggregate_record_count(x.agg), 1);
        run_done(&x);
}
END_TEST

START_TEST(fixture_bom_entities_case_whitespace)
{
        const struct dt_policy *p;
        const struct dt_record *rec;
        struct run x;

        run_file(&x, "aggregate/good-bom-quot-case.xml");
        ck_assert_int_eq(run_open(&x, &dt_limits_default), 0);
        ck_str(dt_aggregate_org(x.agg), "Quote \"Org\" & Co");
        ck_str(dt_aggregate_report_id(x.agg), "bom-1");
        ck_assert_int_eq(dt_aggregate_begin(x.agg), 1700000000);
        ck_assert_int_eq(dt_aggregate_end(x.agg), 1700086399);
        p = dt_aggregate_policy(x.agg);
        ck_str(p->domain, "example.com");
        ck_str(p->adkim, "s");
        ck_str(p->aspf, "r");
        ck_str(p->p, "reject");
        ck_str(p->sp, "quarantine");
        ck_str(p->testing, "n");
        ck_assert_int_eq(dt_aggregate_next(x.agg, &rec, &x.err), 1);
        ck_str(rec->source_ip, "2001:db8::1");
        ck_assert_uint_eq(rec->count, 42);
        ck_str(rec->disposition, "quarantine");
        ck_str(rec->dkim, "fail");
        ck_str(rec->spf, "pass");
        ck_str(rec->reasons[0].type, "local_policy");
        ck_str(rec->reasons[0].comment, "kept <as> text");
        ck_str(rec->header_from, "Example.COM");        /* domains are not enumerations */
        ck_str(rec->auth_spf[0].scope, "mfrom");
        ck_str(rec->auth_spf[0].result, "softfail");
        ck_assert_int_eq(run_drain(&x), 0);
        ck_assert_uint_eq(dt_aggregate_n_warnings(x.agg), 0);
        run_done(&x);
}
END_TEST

START_TEST(fixture_duplicate_identity)
{
        const struct dt_record *rec;
        struct run x;

        run_file(&x, "aggregate/good-duplicate-identity.xml");
        ck_assert_int_eq(run_open(&x, &dt_limits_default), 0);
        ck_assert_int_eq(dt_aggregate_next(x.agg, &rec, &x.err), 1);
        ck_assert_uint_eq(rec->count, 1);                       /* second <count> ignored */
        ck_assert_int_eq(run_drain(&x), 0);
        ck_str(dt_aggregate_report_id(x.agg), "first-id");
        ck_str(dt_aggregate_org(x.agg), "First Org");
        ck_str(dt_aggregate_email(x.agg), "only-in-second@example.net");
        ck_assert(has_warning(x.agg, "duplicate report_id, first kept"));
        ck_assert(has_warning(x.agg, "duplicate report_metadata"));
        ck_assert(has_warning(x.agg, "duplicate element"));
        ck_assert_uint_eq(dt_aggregate_message_count(x.agg), 1);
        run_done(&x);
}
END_TEST

START_TEST(fixture_semantic_garbage)
{
        const struct dt_record *rec;
        struct run x;

        run_file(&x, "aggregate/bad-counts.xml");
        ck_assert_int_eq(run_open(&x, &dt_limits_default), 0);
        ck_assert_int_eq(dt_aggregate_next(x.agg, &rec, &x.err), 1);
        ck_str(rec->source_ip, "192.0.2.1");
        ck_assert_uint_eq(rec->count, UINT64_MAX);
        ck_assert_int_eq(dt_aggregate_next(x.agg, &rec, &x.err), 1);
        ck_str(rec->source_ip, "::ffff:192.0.2.8");
        ck_assert_uint_eq(rec->count, 0);
        ck_assert_int_eq(dt_aggregate_next(x.agg, &rec, &x.err), 0);
        ck_assert_int_eq(dt_aggregate_next(x.agg, &rec, &x.err), 0);   /* stays at the end */

        ck_assert_uint_eq(dt_aggregate_record_count(x.agg), 2);
        ck_assert_uint_eq(dt_aggregate_message_count(x.agg), UINT64_MAX);
        ck_assert_int_eq(dt_aggregate_begin(x.agg), DT_TIME_MISSING);
        ck_assert_int_eq(dt_aggregate_end(x.agg), DT_TIME_MISSING);
        ck_assert_int_eq(dt_aggregate_policy(x.agg)->pct, -1);
        /* begin, end, pct, then 11 skipped records, each with its place */
        ck_assert_uint_eq(dt_aggregate_n_warnings(x.agg), 14);
        ck_assert(has_warning(x.agg, "begin"));
        ck_assert(has_warning(x.agg, "pct"));
        ck_assert(has_warning(x.agg, "record skipped: count is not"));
        ck_assert(has_warning(x.agg, "record skipped: source_ip is not"));
        ck_assert(has_warning(x.agg, "record skipped: no count"));
        ck_assert(has_warning(x.agg, "record skipped: no source_ip"));
        ck_assert(has_warning(x.agg, "overflow"));
        for (size_t i = 1; i < dt_aggregate_n_warnings(x.agg); i++)
                ck_assert_int_ge(dt_aggregate_warning(x.agg, i)->offset,
                                 dt_aggregate_warning(x.agg, i - 1)->offset);
        ck_assert_int_gt(dt_aggregate_warning(x.agg, 3)->offset, 0);
        ck_assert_ptr_null(dt_aggregate_warning(x.agg, 14));
        run_done(&x);
}
END_TEST

struct reject_case {
        const char *file;
        const char *reason;
        const char *message;            /* substring of err.message */
};

static const struct reject_case reject_cases[] = {
        { "aggregate/bad-no-report-id.xml", DT_R_AGG_IDENTITY, "report has no report_id" },
        { "aggregate/bad-no-metadata.xml", DT_R_AGG_IDENTITY, "report has no report_id" },
        { "aggregate/bad-no-policy-domain.xml", DT_R_AGG_IDENTITY, "no policy domain" },
        { "aggregate/bad-root.xml", DT_R_XML_NOT_DMARC, "not a DMARC" },
        { "aggregate/bad-doctype-billion-laughs.xml", DT_R_XML_DTD_REJECTED, "DOCTYPE" },
};

START_TEST(fixture_rejected)
{
        const struct reject_case *c = &reject_cases[_i];
        struct run x;

        run_file(&x, c->file);
        ck_assert_int_lt(run_all(&x, &dt_limits_default), 0);
        ck_assert_int_eq(x.err.code, x.r);
        ck_str(x.err.reason, c->reason);
        ck_assert_msg(strstr(x.err.message, c->message), "%s: '%s'", c->file, x.err.message);
        run_done(&x);
}
END_TEST

/* ---- hostile documents built here -------------------------------------------------------- */

static const char tail_ok[] =
        "<policy_published><domain>h.example</domain></policy_published>"
        "<record><row><source_ip>192.0.2.1</source_ip><count>1</count></row></record></feedback>";

/* marker_file - a temporary file holding a secret marker; its path in path */
static void marker_file(char *path, size_t size, const char *marker) {
        int fd;

        snprintf(path, size, "/tmp/dt-aggregate-secret-XXXXXX");
        fd = mkstemp(path);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(write(fd, marker, strlen(marker)), (ssize_t) strlen(marker));
        close(fd);
}

/* assert_marker_absent - the marker is in no value, extension, warning or error text */
static void assert_marker_absent(const struct run *x, const char *marker) {
        size_t i;

        ck_assert(!strstr(x->err.message, marker));
        if (!x->agg)
                return;
        ck_assert(!dt_aggregate_org(x->agg) || !strstr(dt_aggregate_org(x->agg), marker));
        ck_assert(!dt_aggregate_report_id(x->agg) || !strstr(dt_aggregate_report_id(x->agg), marker));
        for (i = 0; i < dt_aggregate_n_extensions(x->agg); i++)
                ck_assert(!strstr(dt_aggregate_extension(x->agg, i), marker));
        for (i = 0; i < dt_aggregate_n_warnings(x->agg); i++)
                ck_assert(!strstr(dt_aggregate_warning(x->agg, i)->reason, marker));
}

START_TEST(hostile_xxe)
{
        static const char marker[] = "DT-SECRET-MARKER-7f3a";
        static const char *const templates[] = {
                /* external general entity used in a value */
                "<?xml version=\"1.0\"?>\n<!DOCTYPE feedback [<!ENTITY xxe SYSTEM \"file://%s\">]>\n"
                "<feedback><report_metadata><org_name>&xxe;</org_name><report_id>x</report_id>"
                "</report_metadata>%s",
                /* external DTD */
                "<?xml version=\"1.0\"?>\n<!DOCTYPE feedback SYSTEM \"file://%s\">\n"
                "<feedback><report_metadata><report_id>x</report_id></report_metadata>%s",
                /* parameter entity (out-of-band exfiltration pattern) */
                "<?xml version=\"1.0\"?>\n<!DOCTYPE feedback [<!ENTITY %% p SYSTEM \"file://%s\"> %%p;]>\n"
                "<feedback><report_metadata><report_id>x</report_id></report_metadata>%s",
        };
        char path[64], doc[2048];
        struct run x;
        size_t i;

        marker_file(path, sizeof path, marker);
        for (i = 0; i < ELEMENTSOF(templates); i++) {
                snprintf(doc, sizeof doc, templates[i], path, tail_ok);
                run_str(&x, doc);
                ck_assert_int_eq(run_all(&x, &dt_limits_default), -EBADMSG);
                ck_str(x.err.reason, DT_R_XML_DTD_REJECTED);
                assert_marker_absent(&x, marker);
                run_done(&x);
        }
        (void) unlink(path);
}
END_TEST

START_TEST(hostile_entity_loader_denies)
{
        char path[64];
        xmlExternalEntityLoader loader;
        xmlParserInputPtr input;
        struct run x;

        marker_file(path, sizeof path, "DT-SECRET-MARKER-loader");
        run_file(&x, "corpus/aggregate/cry-inc_google.xml");
        ck_assert_int_eq(run_all(&x, &dt_limits_default), 0);
        loader = xmlGetExternalEntityLoader();
        ck_assert_ptr_nonnull(loader);
        input = loader(path, NULL, NULL);
        ck_assert_ptr_null(input);
        input = loader("http://127.0.0.1/evil.dtd", NULL, NULL);
        ck_assert_ptr_null(input);
        /* a second open leaves the same loader installed */
        run_done(&x);
        run_file(&x, "corpus/aggregate/cry-inc_google.xml");
        ck_assert_int_eq(run_all(&x, &dt_limits_default), 0);
        ck_assert(xmlGetExternalEntityLoader() == loader);
        run_done(&x);
        (void) unlink(path);
}
END_TEST

START_TEST(hostile_xinclude_not_followed)
{
        static const char marker[] = "DT-SECRET-MARKER-xi";
        char path[64], doc[2048];
        struct run x;

        marker_file(path, sizeof path, marker);
        snprintf(doc, sizeof doc,
                 "<?xml version=\"1.0\"?>\n<feedback xmlns:xi=\"http://www.w3.org/2001/XInclude\">"
                 "<report_metadata><org_name><xi:include href=\"file://%s\" parse=\"text\"/></org_name>"
                 "<report_id>xi-1</report_id></report_metadata>"
                 "<xi:include href=\"file://%s\"/>%s",
                 path, path, tail_ok);
        run_str(&x, doc);
        ck_assert_int_eq(run_all(&x, &dt_limits_default), 0);
        ck_str(dt_aggregate_org(x.agg), NULL);
        ck_str(dt_aggregate_report_id(x.agg), "xi-1");
        ck_assert(has_extension(x.agg, "include"));
        ck_assert_uint_eq(dt_aggregate_record_count(x.agg), 1);
        assert_marker_absent(&x, marker);
        run_done(&x);
        (void) unlink(path);
}
END_TEST

START_TEST(hostile_deep_nesting)
{
        const size_t depth = 100000;
        struct run x;
        size_t i;
        char *p;

        memset(&x, 0, sizeof x);
        x.buf = malloc(64 + depth * 3);
        ck_assert_ptr_nonnull(x.buf);
        p = x.buf + sprintf(x.buf, "<?xml version=\"1.0\"?>\n<feedback>");
        for (i = 0; i < depth; i++) {
                memcpy(p, "<a>", 3);
                p += 3;
        }
        x.len = (size_t) (p - x.buf);
        ck_assert_int_eq(run_all(&x, &dt_limits_default), -EBADMSG);
        ck_str(x.err.reason, DT_R_XML_DEPTH_LIMIT);
        ck_assert_int_gt(x.err.offset, 0);
        run_done(&x);

        /* a lower configured limit applies to ordinary reports too */
        {
                struct dt_limits lim = dt_limits_default;

                lim.xml_depth = 3;
                run_file(&x, "corpus/aggregate/cry-inc_google.xml");
                ck_assert_int_eq(run_all(&x, &lim), -EBADMSG);
                ck_str(x.err.reason, DT_R_XML_DEPTH_LIMIT);
                run_done(&x);
        }
}
END_TEST

/* big_doc - a report whose field at marker is n copies of unit after prefix */
static void big_doc(struct run *x, const char *before, const char *prefix, const char *unit,
                    size_t n, const char *after) {
        size_t ul = strlen(unit), cap = strlen(before) + strlen(prefix) + ul * n + strlen(after) + 1;
        char *p;
        size_t i;

        memset(x, 0, sizeof *x);
        x->buf = malloc(cap);
        ck_assert_ptr_nonnull(x->buf);
        p = stpcpy(x->buf, before);
        p = stpcpy(p, prefix);
        for (i = 0; i < n; i++) {
                memcpy(p, unit, ul);
                p += ul;
        }
        p = stpcpy(p, after);
        x->len = (size_t) (p - x->buf);
}

START_TEST(hostile_huge_text)
{
        struct run x;
        const char *org;
        size_t n;

        /* 1 MB org_name of two-byte characters after one ASCII byte: cut to the cap, on a
         * character boundary, with a warning */
        big_doc(&x, "<feedback><report_metadata><org_name>", "x", "\xc3\xa9", 512 * 1024,
                "</org_name><report_id>big-1</report_id></report_metadata>");
        x.buf = realloc(x.buf, x.len + sizeof tail_ok);
        memcpy(x.buf + x.len, tail_ok, sizeof tail_ok);
        x.len += sizeof tail_ok - 1;
        ck_assert_int_eq(run_all(&x, &dt_limits_default), 0);
        org = dt_aggregate_org(x.agg);
        ck_assert_ptr_nonnull(org);
        n = strlen(org);
        ck_assert_uint_eq(n, dt_limits_default.xml_text_bytes - 1);
        ck_assert_int_eq((unsigned char) org[n - 1], 0xa9);
        ck_assert(has_warning(x.agg, "truncated"));
        ck_str(dt_aggregate_report_id(x.agg), "big-1");
        ck_assert_uint_eq(dt_aggregate_record_count(x.agg), 1);
        run_done(&x);

        /* an identity field over the cap rejects the report */
        big_doc(&x, "<feedback><report_metadata><report_id>", "", "0123456789abcdef", 8192,
                "</report_id></report_metadata>");
        x.buf = realloc(x.buf, x.len + sizeof tail_ok);
        memcpy(x.buf + x.len, tail_ok, sizeof tail_ok);
        x.len += sizeof tail_ok - 1;
        ck_assert_int_eq(run_all(&x, &dt_limits_default), -EFBIG);
        ck_str(x.err.reason, DT_R_FIELD_LIMIT);
        run_done(&x);

        /* past libxml2's own 10 MB text-node limit (kept: no XML_PARSE_HUGE): rejected */
        big_doc(&x, "<feedback><report_metadata><org_name>", "", "0123456789abcdef", 11 << 16,
                "</org_name>");
        ck_assert_int_eq(run_all(&x, &dt_limits_default), -EFBIG);
        ck_str(x.err.reason, DT_R_FIELD_LIMIT);
        run_done(&x);
}
END_TEST

START_TEST(hostile_counts_table)
{
        static const struct {
                const char *count;
                bool ok;
                uint64_t value;
        } cases[] = {
                { "0", true, 0 },
                { " 17\t", true, 17 },
                { "18446744073709551615", true, UINT64_MAX },
                { "18446744073709551616", false, 0 },
                { "99999999999999999999", false, 0 },
                { "-1", false, 0 },
                { "+1", false, 0 },
                { "1e3", false, 0 },
                { "1.0", false, 0 },
                { "0x10", false, 0 },
                { "", false, 0 },
                { "1 2", false, 0 },
        };
        char doc[1024];
        struct run x;
        size_t i;

        for (i = 0; i < ELEMENTSOF(cases); i++) {
                snprintf(doc, sizeof doc,
                         "<feedback><report_metadata><report_id>c</report_id></report_metadata>"
                         "<policy_published><domain>c.example</domain></policy_published>"
                         "<record><row><source_ip>192.0.2.9</source_ip><count>%s</count></row></record>"
                         "</feedback>",
                         cases[i].count);
                run_str(&x, doc);
                ck_assert_int_eq(run_all(&x, &dt_limits_default), 0);
                ck_assert_msg(dt_aggregate_record_count(x.agg) == (cases[i].ok ? 1u : 0u), "count '%s'",
                              cases[i].count);
                if (cases[i].ok)
                        ck_assert_uint_eq(dt_aggregate_message_count(x.agg), cases[i].value);
                else
                        ck_assert_msg(has_warning(x.agg, "record skipped: count"), "count '%s'",
                                      cases[i].count);
                run_done(&x);
        }
}
END_TEST

START_TEST(hostile_source_ip_table)
{
        static const struct {
                const char *in, *out;   /* out NULL: skipped */
        } cases[] = {
                { "192.0.2.1", "192.0.2.1" },
                { " 192.0.2.1\t", "192.0.2.1" },
                { "2001:DB8:0:0::1", "2001:db8::1" },
                { "2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1" },
                { "::FFFF:192.0.2.8", "::ffff:192.0.2.8" },
                { "::1", "::1" },
                { "999.1.1.1", NULL },
                { "192.0.2.01", NULL },
                { "fe80::1%eth0", NULL },
                { "mail.example.com", NULL },
                { "192.0.2.1/24", NULL },
                { "", NULL },
        };
        const struct dt_record *rec;
        char doc[1024];
        struct run x;
        size_t i;

        for (i = 0; i < ELEMENTSOF(cases); i++) {
                snprintf(doc, sizeof doc,
                         "<feedback><report_metadata><report_id>i</report_id></report_metadata>"
                         "<policy_published><domain>i.example</domain></policy_published>"
                         "<record><row><source_ip>%s</source_ip><count>1</count></row></record>"
                         "</feedback>",
                         cases[i].in);
                run_str(&x, doc);
                ck_assert_int_eq(run_open(&x, &dt_limits_default), 0);
                if (cases[i].out) {
                        ck_assert_int_eq(dt_aggregate_next(x.agg, &rec, &x.err), 1);
                        ck_str(rec->source_ip, cases[i].out);
                } else {
                        ck_assert_int_eq(dt_aggregate_next(x.agg, &rec, &x.err), 0);
                        ck_assert(has_warning(x.agg, "source_ip"));
                }
                run_done(&x);
        }
}
END_TEST

/* source_ip_as_inet_ntop - the canonical text of random addresses, written in long and
 * upper-case forms, is what inet_ntop gives: IPv4 octets at every width, IPv6 with zero runs of
 * every length and place (ties included), IPv4-mapped and IPv4-compatible addresses */
START_TEST(source_ip_as_inet_ntop)
{
        enum { N = 4000 };
        uint64_t rng = 0x9e3779b97f4a7c15u;
        unsigned char bin[N][16];
        bool v4[N];
        const struct dt_record *rec;
        size_t cap = N * 200 + 512, len = 0, i;
        char *doc = malloc(cap), want[INET6_ADDRSTRLEN];
        struct run x;
        int k;

        ck_assert_ptr_nonnull(doc);
        len += (size_t) snprintf(doc, cap, "<feedback><report_metadata><report_id>i</report_id>"
                                           "</report_metadata><policy_published><domain>i.example"
                                           "</domain></policy_published>");
        for (i = 0; i < N; i++) {
                char ip[64];

                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                v4[i] = i % 4 == 0;
                for (k = 0; k < 16; k++)        /* bytes of 0, 1..9, 10..99 and 100..255 */
                        bin[i][k] = (unsigned char) (rng >> (k * 4 % 64) & 3 ? rng >> (k * 3 % 61) : 0);
                if (v4[i]) {
                        snprintf(ip, sizeof ip, "%u.%u.%u.%u", bin[i][0], bin[i][1], bin[i][2], bin[i][3]);
                } else {
                        for (k = 0; k < 8; k++)         /* whole zero words, often */
                                if (rng >> (40 + k) & 1)
                                        bin[i][2 * k] = bin[i][2 * k + 1] = 0;
                        if (i % 16 == 1 || i % 16 == 3) /* ::a.b.c.d and ::ffff:a.b.c.d */
                                memset(bin[i], 0, 12);
                        if (i % 16 == 3)
                                bin[i][10] = bin[i][11] = 0xff;
                        for (k = 0; k < 8; k++)         /* "0DB8:0000:..." */
                                snprintf(ip + 5 * k, sizeof ip - 5 * (size_t) k, "%02X%02X:",
                                         bin[i][2 * k], bin[i][2 * k + 1]);
                        ip[39] = '\0';
                }
                len += (size_t) snprintf(doc + len, cap - len,
                                         "<record><row><source_ip>%s</source_ip><count>1</count>"
                                         "</row></record>", ip);
        }
        snprintf(doc + len, cap - len, "</feedback>");
        run_str(&x, doc);
        free(doc);
        ck_assert_int_eq(run_open(&x, &dt_limits_default), 0);
        for (i = 0; i < N; i++) {
                ck_assert_int_eq(dt_aggregate_next(x.agg, &rec, &x.err), 1);
                ck_assert_ptr_nonnull(inet_ntop(v4[i] ? AF_INET : AF_INET6, bin[i], want, sizeof want));
                ck_assert_msg(strcmp(rec->source_ip, want) == 0, "record %zu: %s, inet_ntop %s", i,
                              rec->source_ip, want);
        }
        ck_assert_int_eq(dt_aggregate_next(x.agg, &rec, &x.err), 0);
        run_done(&x);
}
END_TEST

/* repeat_doc - a report with one record holding n copies of unit inside at (a format with %s) */
static void repeat_doc(struct run *x, const char *fmt, const char *unit, size_t n) {
        size_t ul = strlen(unit), cap = strlen(fmt) + ul * n + 1;
        char *inner, *p;
        size_t i;

        inner = malloc((ul + 16) * n + 1);     /* each %u adds at most 10 digits */
        ck_assert_ptr_nonnull(inner);
        for (p = inner, i = 0; i < n; i++)
                p += sprintf(p, unit, (unsigned) i);
        memset(x, 0, sizeof *x);
        x->buf = malloc(cap + 16 * n);
        ck_assert_ptr_nonnull(x->buf);
        x->len = (size_t) sprintf(x->buf, fmt, inner);
        free(inner);
}

START_TEST(hostile_caps)
{
        const struct dt_record *rec;
        struct run x;

        /* 100 distinct unknown element names: 64 listed, one warning */
        repeat_doc(&x,
                   "<feedback><report_metadata><report_id>e</report_id>%s</report_metadata>"
                   "<policy_published><domain>e.example</domain></policy_published></feedback>",
                   "<unknown%u/>", 100);
        ck_assert_int_eq(run_all(&x, &dt_limits_default), 0);
        ck_assert_uint_eq(dt_aggregate_n_extensions(x.agg), 64);
        ck_str(dt_aggregate_extension(x.agg, 63), "unknown63");
        ck_assert_uint_eq(dt_aggregate_n_warnings(x.agg), 1);
        ck_assert(has_warning(x.agg, "too many unknown elements"));
        run_done(&x);

        /* 100 <reason> in one record: 64 kept */
        repeat_doc(&x,
                   "<feedback><report_metadata><report_id>r</report_id></report_metadata>"
                   "<policy_published><domain>r.example</domain></policy_published>"
                   "<record><row><source_ip>192.0.2.1</source_ip><count>1</count>"
                   "<policy_evaluated>%s</policy_evaluated></row></record></feedback>",
                   "<reason><type>other</type><comment>%u</comment></reason>", 100);
        ck_assert_int_eq(run_open(&x, &dt_limits_default), 0);
        ck_assert_int_eq(dt_aggregate_next(x.agg, &rec, &x.err), 1);
        ck_assert_uint_eq(rec->n_reasons, 64);
        ck_str(rec->reasons[63].comment, "63");
        ck_assert(has_warning(x.agg, "too many"));
        run_done(&x);

        /* 1,500 bad records: 1,000 warnings kept, the last says so */
        repeat_doc(&x,
                   "<feedback><report_metadata><report_id>w</report_id></report_metadata>"
                   "<policy_published><domain>w.example</domain></policy_published>%s</feedback>",
                   "<record><row><source_ip>bad%u</source_ip><count>1</count></row></record>", 1500);
        ck_assert_int_eq(run_all(&x, &dt_limits_default), 0);
        ck_assert_uint_eq(dt_aggregate_record_count(x.agg), 0);
        ck_assert_uint_eq(dt_aggregate_n_warnings(x.agg), 1000);
        ck_assert(strstr(dt_aggregate_warning(x.agg, 999)->reason, "too many warnings"));
        run_done(&x);
}
END_TEST

START_TEST(hostile_record_limit)
{
        struct dt_limits lim = dt_limits_default;
        struct dt_error again;
        const struct dt_record *rec;
        struct run x;

        lim.records = 2;
        run_file(&x, "corpus/aggregate/mail-auth_dmarc-feedback-003.xml");      /* 4 records */
        ck_assert_int_eq(run_all(&x, &lim), -E2BIG);
        ck_str(x.err.reason, DT_R_RECORD_LIMIT);
        ck_assert_uint_eq(x.handed_out, 2);
        /* the failure sticks */
        dt_error_clear(&again);
        ck_assert_int_eq(dt_aggregate_next(x.agg, &rec, &again), -E2BIG);
        ck_str(again.reason, DT_R_RECORD_LIMIT);
        run_done(&x);
}
END_TEST

START_TEST(hostile_markup)
{
        static const struct {
                const char *doc;
                const char *reason;
        } cases[] = {
                { "<feedback><report_metadata><org_name>A & B</org_name>", DT_R_XML_MALFORMED },
                { "<feedback><report_metadata><report_id>x</report_id></report_metadata>"
                  "<policy_published><domain>d</domain></policy_published></feedback><feedback/>",
                  DT_R_XML_MALFORMED },
                { "<?xml version=\"1.0\" encoding=\"bogus\"?><feedback/>", DT_R_XML_MALFORMED },
                { "<feedback><report_metadata><org_name>\xc0\xaf</org_name>", DT_R_XML_MALFORMED },
                { "<feedback><record>&undefined;</record></feedback>", DT_R_XML_MALFORMED },
                { "<feedback><report_metadata><report_id>x</report_id></report_metadata>"
                  "<policy_published><domain>d</domain></policy_published>"
                  "<record><row><source_ip>192.0.2.1</source_ip><count>1</count></row></record>"
                  "<record><row><source_ip>192.0.2.2</",
                  DT_R_XML_MALFORMED },
                { "<!-- only a comment -->", DT_R_XML_MALFORMED },
                { "<dmarc><feedback/></dmarc>", DT_R_XML_NOT_DMARC },
        };
        struct run x;
        size_t i;

        for (i = 0; i < ELEMENTSOF(cases); i++) {
                run_str(&x, cases[i].doc);
                ck_assert_msg(run_all(&x, &dt_limits_default) < 0, "case %zu parsed", i);
                ck_assert_msg(x.err.reason && strcmp(x.err.reason, cases[i].reason) == 0,
                              "case %zu: %s %s", i, x.err.reason, x.err.message);
                run_done(&x);
        }
}
END_TEST

/* utf16le - x->buf as UTF-16LE with a BOM, from ASCII text */
static void utf16le(struct run *x, const char *ascii) {
        memset(x, 0, sizeof *x);
        x->buf = dt_test_utf16le(ascii, strlen(ascii), &x->len);
}

START_TEST(hostile_utf16)
{
        char doc[1024];
        struct run x;

        /* a valid UTF-16 report parses */
        snprintf(doc, sizeof doc,
                 "<?xml version=\"1.0\" encoding=\"UTF-16\"?>\n<feedback><report_metadata>"
                 "<org_name>Wide</org_name><report_id>u16</report_id></report_metadata>%s", tail_ok);
        utf16le(&x, doc);
        ck_assert_int_eq(run_all(&x, &dt_limits_default), 0);
        ck_str(dt_aggregate_org(x.agg), "Wide");
        ck_assert_uint_eq(dt_aggregate_record_count(x.agg), 1);
        run_done(&x);

        /* the DOCTYPE scan sees through UTF-16 too */
        snprintf(doc, sizeof doc,
                 "<?xml version=\"1.0\" encoding=\"UTF-16\"?>\n<!-- c -->"
                 "<!DOCTYPE feedback [<!ENTITY a \"aaaa\">]><feedback><report_metadata>"
                 "<org_name>&a;</org_name><report_id>u16</report_id></report_metadata>%s", tail_ok);
        utf16le(&x, doc);
        ck_assert_int_eq(run_all(&x, &dt_limits_default), -EBADMSG);
        ck_str(x.err.reason, DT_R_XML_DTD_REJECTED);
        run_done(&x);
}
END_TEST

START_TEST(hostile_doctype_after_comment_and_pi)
{
        static const char *const docs[] = {
                "<!-- <feedback> inside a comment -- still a comment? no: -- is not allowed -->"
                "<!DOCTYPE feedback><feedback/>",
                "<?xml version=\"1.0\"?><!-- a --><?pi <feedback> ?>\n<!DOCTYPE feedback [<!ENTITY a \"b\">]>"
                "<feedback/>",
                "<!DOCTYPE feedback SYSTEM \"http://127.0.0.1/x.dtd\"><feedback/>",
        };
        struct run x;
        size_t i;

        for (i = 0; i < ELEMENTSOF(docs); i++) {
                run_str(&x, docs[i]);
                ck_assert_int_lt(run_all(&x, &dt_limits_default), 0);
                ck_assert_msg(strcmp(x.err.reason, DT_R_XML_DTD_REJECTED) == 0 ||
                                      (i == 0 && strcmp(x.err.reason, DT_R_XML_MALFORMED) == 0),
                              "doc %zu: %s %s", i, x.err.reason, x.err.message);
                run_done(&x);
        }
        /* a comment that mentions <!DOCTYPE is only a comment */
        run_str(&x, "<?xml version=\"1.0\"?>\n<!-- no <!DOCTYPE here -->\n<feedback>"
                    "<report_metadata><report_id>c</report_id></report_metadata>"
                    "<policy_published><domain>c.example</domain></policy_published></feedback>");
        ck_assert_int_eq(run_all(&x, &dt_limits_default), 0);
        ck_str(dt_aggregate_report_id(x.agg), "c");
        run_done(&x);
}
END_TEST

/* ---- streaming: a 200,000-record report made on the fly ------------------------------ */

struct gen {
        uint64_t n, i, sum;
        int phase;                      /* 0 header, 1 records, 2 footer, 3 done */
        int fail_after;                 /* >0: return -EIO once this many records are out */
        char buf[512];
        size_t len, pos;
};

static ssize_t gen_read(void *ctx, void *out, size_t n) {
        struct gen *g = ctx;
        size_t k;

        while (g->pos == g->len) {
                g->pos = g->len = 0;
                switch (g->phase) {
                case 0:
                        g->len = (size_t) snprintf(g->buf, sizeof g->buf,
                                "<?xml version=\"1.0\"?>\n<feedback><report_metadata>"
                                "<org_name>Generator</org_name><report_id>gen-%llu</report_id>"
                                "<date_range><begin>1700000000</begin><end>1700086399</end></date_range>"
                                "</report_metadata><policy_published><domain>gen.example</domain>"
                                "</policy_published>\n",
                                (unsigned long long) g->n);
                        g->phase = 1;
                        break;
                case 1:
                        if (g->i == g->n) {
                                g->phase = 2;
                                continue;
                        }
                        if (g->fail_after > 0 && g->i == (uint64_t) g->fail_after)
                                return -EIO;
                        g->len = (size_t) snprintf(g->buf, sizeof g->buf,
                                "<record><row><source_ip>10.%u.%u.%u</source_ip><count>%u</count>"
                                "<policy_evaluated><disposition>none</disposition><dkim>pass</dkim>"
                                "<spf>pass</spf></policy_evaluated></row><identifiers>"
                                "<header_from>gen.example</header_from></identifiers></record>\n",
                                (unsigned) (g->i >> 16) & 255, (unsigned) (g->i >> 8) & 255,
                                (unsigned) g->i & 255, (unsigned) (g->i % 7) + 1);
                        g->sum += g->i % 7 + 1;
                        g->i++;
                        break;
                case 2:
                        g->len = (size_t) snprintf(g->buf, sizeof g->buf, "</feedback>\n");
                        g->phase = 3;
                        break;
                default:
                        return 0;
                }
        }
        k = g->len - g->pos < n ? g->len - g->pos : n;
        memcpy(out, g->buf + g->pos, k);
        g->pos += k;
        return (ssize_t) k;
}

START_TEST(stream_200000_records)
{
        _cleanup_(dt_input_freep) struct dt_input *in = NULL;
        _cleanup_(dt_aggregate_freep) struct dt_aggregate *agg = NULL;
        struct gen g = { .n = 200000 };
        const struct dt_record *rec, *first = NULL;
        struct dt_error err;
        uint64_t n = 0;
        int r;

        dt_error_clear(&err);
        ck_assert_int_eq(dt_input_new_reader(gen_read, &g, &dt_limits_default, &in), 0);
        ck_assert_int_eq(dt_aggregate_open(in, &dt_limits_default, &agg, &err), 0);
        ck_str(dt_aggregate_report_id(agg), "gen-200000");
        while ((r = dt_aggregate_next(agg, &rec, &err)) == 1) {
                if (!first)
                        first = rec;
                ck_assert_ptr_eq(rec, first);           /* one record, reused */
                n++;
        }
        ck_assert_msg(r == 0, "%s %s", err.reason, err.message);
        ck_assert_uint_eq(n, 200000);
        ck_assert_uint_eq(g.i, 200000);
        ck_assert_uint_eq(dt_aggregate_record_count(agg), 200000);
        ck_assert_uint_eq(dt_aggregate_message_count(agg), g.sum);
        ck_assert_uint_eq(dt_aggregate_n_warnings(agg), 0);
}
END_TEST

START_TEST(stream_input_errors_win)
{
        struct dt_limits lim = dt_limits_default;
        struct gen g = { .n = 200000 };
        struct gen g2 = { .n = 1000, .fail_after = 500 };
        struct dt_input *in = NULL;
        struct dt_aggregate *agg = NULL;
        const struct dt_record *rec;
        struct dt_error err;
        int r;

        /* the unpacker's size cap trips mid-document: its error, not an XML one */
        lim.unpacked_bytes = 64 * 1024;
        dt_error_clear(&err);
        ck_assert_int_eq(dt_input_new_reader(gen_read, &g, &lim, &in), 0);
        r = dt_aggregate_open(in, &lim, &agg, &err);
        if (r == 0) {
                while ((r = dt_aggregate_next(agg, &rec, &err)) == 1)
                        ;
        }
        ck_assert_int_lt(r, 0);
        ck_assert_ptr_nonnull(dt_input_error(in));
        ck_str(err.reason, DT_R_DECOMPRESSED_SIZE);
        ck_str(err.reason, dt_input_error(in)->reason);
        agg = dt_aggregate_free(agg);
        in = dt_input_free(in);

        /* the caller's read function fails */
        dt_error_clear(&err);
        ck_assert_int_eq(dt_input_new_reader(gen_read, &g2, &dt_limits_default, &in), 0);
        ck_assert_int_eq(dt_aggregate_open(in, &dt_limits_default, &agg, &err), 0);
        while ((r = dt_aggregate_next(agg, &rec, &err)) == 1)
                ;
        ck_assert_int_lt(r, 0);
        ck_assert_ptr_nonnull(dt_input_error(in));
        ck_str(err.reason, dt_input_error(in)->reason);
        ck_assert_str_ne(err.reason, DT_R_XML_MALFORMED);
        agg = dt_aggregate_free(agg);
        in = dt_input_free(in);
}
END_TEST

START_TEST(api_null_safe)
{
        ck_assert_ptr_null(dt_aggregate_free(NULL));
        ck_assert_ptr_null(dt_aggregate_org(NULL));
        ck_assert_int_eq(dt_aggregate_begin(NULL), DT_TIME_MISSING);
        ck_assert_uint_eq(dt_aggregate_record_count(NULL), 0);
        ck_assert_ptr_null(dt_aggregate_extension(NULL, 0));
        ck_assert_ptr_null(dt_aggregate_warning(NULL, 0));
}
END_TEST

static Suite *aggregate_suite(void) {
        Suite *s = suite_create("aggregate");
        TCase *tc;

        tc = tcase_create("corpus");
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, corpus_every_report_parses);
        tcase_add_loop_test(tc, corpus_values, 0, (int) ELEMENTSOF(corpus_cases));
        tcase_add_test(tc, corpus_rfc9990_elements);
        tcase_add_loop_test(tc, malformed_outcomes, 0, (int) ELEMENTSOF(malformed_cases));
        tcase_add_test(tc, malformed_edge_values);
        suite_add_tcase(s, tc);

        tc = tcase_create("fixtures");
        tcase_add_test(tc, fixture_reordered);
        tcase_add_test(tc, fixture_unknown_elements);
        tcase_add_test(tc, fixture_windows_1252);
        tcase_add_test(tc, fixture_bom_entities_case_whitespace);
        tcase_add_test(tc, fixture_duplicate_identity);
        tcase_add_test(tc, fixture_semantic_garbage);
        tcase_add_loop_test(tc, fixture_rejected, 0, (int) ELEMENTSOF(reject_cases));
        suite_add_tcase(s, tc);

        tc = tcase_create("hostile");
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, hostile_xxe);
        tcase_add_test(tc, hostile_entity_loader_denies);
        tcase_add_test(tc, hostile_xinclude_not_followed);
        tcase_add_test(tc, hostile_deep_nesting);
        tcase_add_test(tc, hostile_huge_text);
        tcase_add_test(tc, hostile_counts_table);
        tcase_add_test(tc, hostile_source_ip_table);
        tcase_add_test(tc, source_ip_as_inet_ntop);
        tcase_add_test(tc, hostile_caps);
        tcase_add_test(tc, hostile_record_limit);
        tcase_add_test(tc, hostile_markup);
        tcase_add_test(tc, hostile_utf16);
        tcase_add_test(tc, hostile_doctype_after_comment_and_pi);
        tcase_add_test(tc, api_null_safe);
        suite_add_tcase(s, tc);

        tc = tcase_create("stream");
        tcase_set_timeout(tc, 600);
        tcase_add_test(tc, stream_200000_records);
        tcase_add_test(tc, stream_input_errors_win);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        int r = dt_test_main(aggregate_suite());

        xmlCleanupParser();
        return r;
}
