/* test-worker.c - the parse worker: results replayed exactly as the in-process parse gives
 * them (corpus aggregate and failure reports, and errors), a 200,000-record report streamed
 * with flat parent memory, a sink that stops, and the worker crashing, hanging, running out of
 * memory and writing garbage (WORKER_CRASH / TIMEOUT); one worker serving many messages, a
 * fresh one after a failure, retirement after max_messages, memory growth and CPU time, the
 * CPU limit re-armed per message, and never a zombie or an fd left after dt_worker_free */
#include <check.h>
#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/parse.h"
#include "agent/worker.h"
#include "tests/testutil.h"

#if UNDER_ASAN
size_t __sanitizer_get_current_allocated_bytes(void);  /* the ASan runtime's; no header here */
#endif

/* heap_in_use - bytes the allocator has handed out and not had back */
static uint64_t heap_in_use(void) {
#if UNDER_ASAN
        return __sanitizer_get_current_allocated_bytes();
#else
        struct mallinfo2 mi = mallinfo2();
        return mi.uordblks + mi.hblkhd;
#endif
}

static double now_sec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* assert_no_child - nothing left to reap: no zombie, no running worker */
static void assert_no_child(void) {
        int st;

        errno = 0;
        ck_assert_int_eq(waitpid(-1, &st, WNOHANG), -1);
        ck_assert_int_eq(errno, ECHILD);
}

/* assert_clean_stop - stop w: every worker it retired exited cleanly, and nothing is left to
 * reap */
static void assert_clean_stop(struct dt_worker *w) {
        ck_assert_int_eq(dt_worker_stop(w), 0);
        assert_no_child();
}

/* set_hook - the test hook (read by workers started from now on) and its match, or none */
static void set_hook(const char *hook, const char *match) {
        if (hook)
                ck_assert_int_eq(setenv("DT_WORKER_TEST", hook, 1), 0);
        else
                unsetenv("DT_WORKER_TEST");
        if (match)
                ck_assert_int_eq(setenv("DT_WORKER_TEST_MATCH", match, 1), 0);
        else
                unsetenv("DT_WORKER_TEST_MATCH");
}

/* parse_fresh - dt_worker_parse in a worker of its own, stopped after: nothing left behind */
static int parse_fresh(const void *buf, size_t len, const char *source, const struct dt_limits *lim,
                       const struct dt_worker_opts *opts, const struct dt_worker_sink *sink, void *userdata,
                       struct dt_error *err) {
        _cleanup_(dt_worker_freep) struct dt_worker *w = NULL;
        int r;

        ck_assert_int_eq(dt_worker_new(opts, &w), 0);
        r = dt_worker_parse(w, buf, len, source, lim, sink, userdata, err);
        assert_clean_stop(w);
        return r;
}

/* ---- canonical text of what a parse gives, to compare both ways field by field ---- */

struct dump {
        char *buf;
        size_t len;
        FILE *f;
};

static void dump_open(struct dump *d) {
        d->buf = NULL;
        d->len = 0;
        d->f = open_memstream(&d->buf, &d->len);
        ck_assert_ptr_nonnull(d->f);
}

static char *dump_close(struct dump *d) {
        fclose(d->f);
        return d->buf;
}

#define S(x) ((x) ? (x) : "(null)")

static void dump_policy(FILE *f, bool has, const struct dt_policy *p) {
        if (!has) {
                fprintf(f, "policy none\n");
                return;
        }
        fprintf(f, "policy %s|%s|%s|%s|%s|%s|%d|%s|%s|%s\n", S(p->domain), S(p->adkim), S(p->aspf),
                S(p->p), S(p->sp), S(p->np), p->pct, S(p->fo), S(p->testing), S(p->discovery_method));
}

/* dump_agg - the in-process metadata via the getters */
static void dump_agg(FILE *f, const char *tag, const struct dt_parse_ctx *ctx, const struct dt_aggregate *a) {
        size_t i;

        fprintf(f, "%s %s|%s|%s|%s|%s|%s|%" PRId64 "|%" PRId64 "\n", tag, S(dt_aggregate_org(a)),
                S(dt_aggregate_email(a)), S(dt_aggregate_extra_contact(a)), S(dt_aggregate_report_id(a)),
                S(dt_aggregate_version(a)), S(dt_aggregate_generator(a)), dt_aggregate_begin(a),
                dt_aggregate_end(a));
        dump_policy(f, dt_aggregate_policy(a) != NULL, dt_aggregate_policy(a));
        fprintf(f, "counts %" PRIu64 " %" PRIu64 "\n", dt_aggregate_record_count(a), dt_aggregate_message_count(a));
        for (i = 0; i < dt_aggregate_n_extensions(a); i++)
                fprintf(f, "ext %s\n", dt_aggregate_extension(a, i));
        for (i = 0; i < dt_aggregate_n_warnings(a); i++)
                fprintf(f, "warn %s @%" PRId64 "\n", dt_aggregate_warning(a, i)->reason,
                        dt_aggregate_warning(a, i)->offset);
        fprintf(f, "input %s %s\n", S(dt_input_describe(ctx->input)), S(dt_input_entry_name(ctx->input)));
}

/* dump_meta - the same from the worker's replay */
static void dump_meta(FILE *f, const char *tag, const struct dt_worker_report *m) {
        size_t i;

        fprintf(f, "%s %s|%s|%s|%s|%s|%s|%" PRId64 "|%" PRId64 "\n", tag, S(m->org), S(m->email),
                S(m->extra_contact), S(m->report_id), S(m->version), S(m->generator), m->begin, m->end);
        dump_policy(f, m->has_policy, &m->policy);
        fprintf(f, "counts %" PRIu64 " %" PRIu64 "\n", m->record_count, m->message_count);
        for (i = 0; i < m->n_extensions; i++)
                fprintf(f, "ext %s\n", m->extensions[i]);
        for (i = 0; i < m->n_warnings; i++)
                fprintf(f, "warn %s @%" PRId64 "\n", m->warnings[i].reason, m->warnings[i].offset);
        fprintf(f, "input %s %s\n", S(m->input_format), S(m->entry_name));
}

static void dump_record(FILE *f, const struct dt_record *r) {
        size_t i;

        fprintf(f, "rec %s %" PRIu64 " %s %s %s from=%s env=%s to=%s\n", S(r->source_ip), r->count,
                S(r->disposition), S(r->dkim), S(r->spf), S(r->header_from), S(r->envelope_from),
                S(r->envelope_to));
        for (i = 0; i < r->n_reasons; i++)
                fprintf(f, " reason %s %s\n", S(r->reasons[i].type), S(r->reasons[i].comment));
        for (i = 0; i < r->n_auth_dkim; i++)
                fprintf(f, " dkim %s %s %s %s\n", S(r->auth_dkim[i].domain), S(r->auth_dkim[i].selector),
                        S(r->auth_dkim[i].result), S(r->auth_dkim[i].human_result));
        for (i = 0; i < r->n_auth_spf; i++)
                fprintf(f, " spf %s %s %s %s\n", S(r->auth_spf[i].domain), S(r->auth_spf[i].scope),
                        S(r->auth_spf[i].result), S(r->auth_spf[i].human_result));
}

static void dump_headers(FILE *f, const struct dt_headers *h) {
        size_t i;

        if (!h) {
                fprintf(f, "original none\n");
                return;
        }
        fprintf(f, "hdr %s|%s|%s|%s|%s|%s|%s|%zu|%s|%" PRId64 "|%d\n", S(h->message_id), S(h->from),
                S(h->to), S(h->cc), S(h->reply_to), S(h->return_path), S(h->subject), h->subject_bytes,
                S(h->date_text), h->date, h->has_date);
        fprintf(f, "hdr2 %s|%s|%s|%s|%s\n", S(h->x_mailer), S(h->user_agent), S(h->dkim_domain),
                S(h->dkim_selector), S(h->authentication_results));
        fprintf(f, "php %s|%" PRId64 "|%s|%s|%s|%s|%s\n", S(h->x_php_originating_script), h->php_uid,
                S(h->php_script), S(h->x_php_script), S(h->php_script_host), S(h->php_script_path),
                S(h->php_script_ip));
        fprintf(f, "src %s|%s|%s\n", S(h->x_source), S(h->x_source_args), S(h->x_source_dir));
        fprintf(f, "aa %s|%s|%s|%" PRId64 "|%" PRId64 "|%" PRId64 "|%" PRId64 "|%d\n",
                S(h->antiabuse.primary_hostname), S(h->antiabuse.original_domain),
                S(h->antiabuse.sender_address_domain), h->antiabuse.originator_uid,
                h->antiabuse.originator_gid, h->antiabuse.caller_uid, h->antiabuse.caller_gid,
                h->antiabuse.present);
        fprintf(f, "via %s|%s|%s|%s|%s|%s|%s\n", S(h->sender_via), S(h->sender_via_host),
                S(h->sender_via_user), S(h->authenticated_sender), S(h->auth_warning),
                S(h->auth_warning_host), S(h->auth_warning_user));
        for (i = 0; i < h->n_received; i++) {
                const struct dt_received *r = &h->received[i];
                fprintf(f, "hop %s|%s|%s|%s|%s|%s|%s|%" PRId64 "|%d\n", S(r->from_helo), S(r->from_host),
                        S(r->from_ip), S(r->by_host), S(r->with), S(r->id), S(r->for_addr), r->date,
                        r->has_date);
        }
        fprintf(f, "local %d %" PRId64 " %s %s %s %zu dropped %zu fields %zu end %zu flags %u\n",
                h->local.mta, h->local.uid, S(h->local.user), S(h->local.queue_id), S(h->local.host),
                h->local.hop, h->received_dropped, h->n_fields, h->end, h->flags);
}

static void dump_failure(FILE *f, const struct dt_failure *x, const char *key) {
        size_t i;

        fprintf(f, "failure %d %s|%s|%s|%s|%s|%s|%s|%" PRId64 "|%d|%s|%s|%" PRId64 "\n", x->dmarc,
                S(x->feedback_type), S(x->user_agent), S(x->version), S(x->auth_failure),
                S(x->original_envelope_id), S(x->original_mail_from), S(x->arrival_date_text),
                x->arrival_date, x->has_arrival_date, S(x->reporting_mta), S(x->source_ip), x->incidents);
        fprintf(f, "more %s|%s|%s|%s|%s|%s|%s|%s|%s\n", S(x->reported_domain), S(x->reported_uri),
                S(x->authentication_results), S(x->delivery_result), S(x->identity_alignment),
                S(x->spf_dns), S(x->dkim_domain), S(x->dkim_identity), S(x->dkim_selector));
        for (i = 0; i < x->n_original_rcpt_to; i++)
                fprintf(f, "rcpt %s\n", x->original_rcpt_to[i]);
        for (i = 0; i < x->n_feedback; i++)
                fprintf(f, "fb %s: %s\n", x->feedback[i].name, x->feedback[i].value);
        fprintf(f, "origin %d flags %u key %s\n", x->origin, x->flags, key);
        dump_headers(f, x->original);
}

/* ---- the two ways of parsing ---- */

static int inproc_aggregate(void *u, const struct dt_parse_ctx *ctx, struct dt_aggregate *agg,
                            struct dt_error *err) {
        FILE *f = u;
        const struct dt_record *rec;
        int r;

        dump_agg(f, "begin", ctx, agg);
        while ((r = dt_aggregate_next(agg, &rec, err)) > 0)
                dump_record(f, rec);
        if (r < 0)
                return r;
        dump_agg(f, "end", ctx, agg);
        return 0;
}

static int inproc_failure(void *u, const struct dt_parse_ctx *ctx, const struct dt_failure *x,
                          struct dt_error *err) {
        _cleanup_free_ char *key = dt_worker_failure_key(ctx->message, x);

        (void) err;
        dump_failure(u, x, key);
        return 0;
}

static int w_begin(void *u, const struct dt_worker_report *m) {
        dump_meta(u, "begin", m);
        return 0;
}

static int w_record(void *u, const struct dt_record *r) {
        dump_record(u, r);
        return 0;
}

static int w_end(void *u, const struct dt_worker_report *m) {
        dump_meta(u, "end", m);
        return 0;
}

static int w_failure(void *u, const struct dt_failure *x, const char *key) {
        dump_failure(u, x, key);
        return 0;
}

static const struct dt_worker_sink dump_sink = {
        .aggregate_begin = w_begin, .record = w_record, .aggregate_end = w_end, .failure = w_failure,
};

/* both_ways - parse rel in-process and in a worker; assert the same text, result and error */
static void both_ways(const char *rel, int want_r) {
        const struct dt_parse_sink sink = { .aggregate = inproc_aggregate, .failure = inproc_failure };
        struct dt_error e1, e2;
        struct dump d1, d2;
        size_t len;
        _cleanup_free_ char *buf = dt_test_load(rel, &len);
        _cleanup_free_ char *t1 = NULL, *t2 = NULL;
        int r1, r2;

        dt_error_clear(&e1);
        dt_error_clear(&e2);
        dump_open(&d1);
        r1 = dt_parse_buffer(buf, len, rel, &dt_limits_default, &sink, d1.f, &e1);
        t1 = dump_close(&d1);
        dump_open(&d2);
        r2 = parse_fresh(buf, len, rel, &dt_limits_default, NULL, &dump_sink, d2.f, &e2);
        t2 = dump_close(&d2);

        ck_assert_msg(r1 == want_r, "%s: in-process %d (%s), want %d", rel, r1, e1.message, want_r);
        ck_assert_msg(r2 == r1, "%s: worker %d (%s: %s), in-process %d", rel, r2, S(e2.reason),
                      e2.message, r1);
        ck_assert_msg(strcmp(t1, t2) == 0, "%s: replay differs:\n--- in-process\n%s\n--- worker\n%s", rel, t1, t2);
        ck_assert_int_eq(e2.code, e1.code);
        ck_assert_str_eq(S(e2.reason), S(e1.reason));
        ck_assert_str_eq(e2.message, e1.message);
        ck_assert_int_eq(e2.offset, e1.offset);
        ck_assert_int_eq(e2.line, e1.line);
        if (want_r == 0)
                ck_assert_msg(strlen(t1) > 100, "%s: too little parsed: %s", rel, t1);
}

static const struct {
        const char *file;
        int r;
} corpus[] = {
        { "corpus/aggregate/tierpod_test.xml.zip", 0 },
        { "corpus/aggregate/tierpod_test.xml.gz", 0 },
        { "corpus/aggregate/parsedmarc_rfc9990-sample.xml", 0 },
        { "corpus/aggregate/mail-auth_dmarc-feedback-100.eml", 0 },
        { "corpus/aggregate/parsedmarc_twilight.eml", 0 },
        { "corpus/aggregate/cry-inc_google.xml", 0 },
        { "corpus/aggregate/DmarcAnalyzerApp_sample-zoho-aggregate.xml", 0 },
        { "corpus/aggregate/parsedmarc_!large-example.com!1711897200!1711983600.xml", 0 },
        { "corpus/failure/mail-auth_arf-003.eml", 0 },
        { "corpus/failure/mail-auth_arf-005.eml", 0 },
        { "corpus/failure/parsedmarc_dmarc_ruf_report_linkedin.eml", 0 },
        { "corpus/failure/parsedmarc_dmarc_ruf_report_linkedin.crlf.eml", 0 },
        { "corpus/failure/parsedmarc_exim_plain_text_only_no_arf_part.eml", 0 },
        { "corpus/failure/parsedmarc_Netease_DMARC_Failure_Report_Rent_Reminder.eml", 0 },
        { "corpus/malformed/parsedmarc_invalid_xml.xml", -EBADMSG },
        { "corpus/malformed/parsedmarc_empty.xml", -ENODATA },
        { "corpus/malformed/tierpod_test.xml.gz.gz", 0 },
        { "corpus/malformed/parsedmarc_invalid_utf_8.xml", -EBADMSG },
};

START_TEST(replays_corpus)
{
        both_ways(corpus[_i].file, corpus[_i].r);
}
END_TEST

/* the tierpod report, spelled out: the worker's own values, not only "same as in-process" */
static int tp_records;
static char tp_first_ip[64];

static int tp_begin(void *u, const struct dt_worker_report *m) {
        (void) u;
        ck_assert_str_eq(m->org, "Test Inc.");
        ck_assert_str_eq(m->report_id, "1.id.0");
        ck_assert(m->has_policy);
        ck_assert_str_eq(m->policy.domain, "test.net");
        ck_assert_str_eq(m->input_format, "zip");
        return 0;
}

static int tp_record(void *u, const struct dt_record *r) {
        (void) u;
        if (tp_records++ == 0)
                (void) snprintf(tp_first_ip, sizeof tp_first_ip, "%s", r->source_ip);
        return 0;
}

static int tp_end(void *u, const struct dt_worker_report *m) {
        (void) u;
        ck_assert_int_eq(m->record_count, 2);
        ck_assert_int_eq(m->message_count, 7);
        return 0;
}

START_TEST(tierpod_values)
{
        const struct dt_worker_sink sink = { .aggregate_begin = tp_begin, .record = tp_record,
                                             .aggregate_end = tp_end };
        struct dt_error err;
        size_t len;
        _cleanup_free_ char *buf = dt_test_load("corpus/aggregate/tierpod_test.xml.zip", &len);

        dt_error_clear(&err);
        tp_records = 0;
        ck_assert_int_eq(parse_fresh(buf, len, "t", &dt_limits_default, NULL, &sink, NULL, &err), 0);
        ck_assert_int_eq(tp_records, 2);
        ck_assert_str_eq(tp_first_ip, "192.168.1.1");
}
END_TEST

/* ---- a large report streams ---- */

/* big_report - an aggregate report of n records, bare XML */
static char *big_report(size_t n, size_t *len) {
        struct dump d;
        size_t i;

        dump_open(&d);
        fprintf(d.f, "<?xml version=\"1.0\"?>\n<feedback><report_metadata><org_name>big.example</org_name>"
                "<email>r@big.example</email><report_id>big-1</report_id><date_range><begin>1700000000"
                "</begin><end>1700086399</end></date_range></report_metadata><policy_published>"
                "<domain>example.com</domain><p>none</p></policy_published>\n");
        for (i = 0; i < n; i++)
                fprintf(d.f, "<record><row><source_ip>10.%zu.%zu.%zu</source_ip><count>%zu</count>"
                        "<policy_evaluated><disposition>none</disposition><dkim>pass</dkim><spf>fail</spf>"
                        "</policy_evaluated></row><identifiers><header_from>example.com</header_from>"
                        "</identifiers><auth_results><dkim><domain>example.com</domain><result>pass"
                        "</result></dkim></auth_results></record>\n", (i >> 16) & 255, (i >> 8) & 255,
                        i & 255, i % 7 + 1);
        fprintf(d.f, "</feedback>\n");
        fclose(d.f);
        *len = d.len;
        return d.buf;
}

struct big {
        uint64_t n, sum;
        uint64_t heap_early, heap_max;
        int stop_at;            /* >0: return -ENOSPC at this record */
};

static int big_record(void *u, const struct dt_record *r) {
        struct big *b = u;
        uint64_t h;

        b->n++;
        b->sum += r->count;
        if (b->stop_at > 0 && b->n == (uint64_t) b->stop_at)
                return -ENOSPC;
        if (b->n == 1000)
                b->heap_early = heap_in_use();
        if (b->n > 1000 && b->n % 1000 == 0) {
                h = heap_in_use();
                if (h > b->heap_max)
                        b->heap_max = h;
        }
        return 0;
}

static int big_end(void *u, const struct dt_worker_report *m) {
        struct big *b = u;

        ck_assert_int_eq(m->record_count, b->n);
        ck_assert_int_eq(m->message_count, b->sum);
        return 0;
}

START_TEST(large_report_streams_flat)
{
        const struct dt_worker_sink sink = { .record = big_record, .aggregate_end = big_end };
        const struct dt_worker_opts opts = { .timeout_ms = 120000 };
        size_t n = RUNNING_ON_VALGRIND ? 20000 : 200000, len;
        _cleanup_free_ char *xml = big_report(n, &len);
        struct dt_limits lim = dt_limits_default;
        struct big b = { 0 };
        struct dt_error err;
        double t0 = now_sec();
        int r;

        lim.message_bytes = len;        /* what the worker may be sent */
        dt_error_clear(&err);
        r = parse_fresh(xml, len, "big.xml", &lim, &opts, &sink, &b, &err);
        ck_assert_msg(r == 0, "%d %s: %s", r, S(err.reason), err.message);
        ck_assert_int_eq(b.n, n);
        /* the parent holds one record at a time: its heap does not grow with the report */
        ck_assert_msg(b.heap_max <= b.heap_early + (2u << 20), "heap grew from %" PRIu64 " to %" PRIu64,
                      b.heap_early, b.heap_max);
        fprintf(stderr, "# %zu records through the worker in %.2f s\n", n, now_sec() - t0);
}
END_TEST

/* ---- one worker, many messages ---- */

/* tierpod - the tierpod report and what a parse of it must give */
static char *tierpod(size_t *len) {
        return dt_test_load("corpus/aggregate/tierpod_test.xml.zip", len);
}

/* parse_tierpod - one message through w: its result; on success its 2 records summing to 7
 * were replayed */
static int parse_tierpod(struct dt_worker *w, const char *source, const struct dt_limits *lim,
                         struct dt_error *err) {
        const struct dt_worker_sink sink = { .record = big_record };
        struct big b = { 0 };
        size_t len;
        _cleanup_free_ char *buf = tierpod(&len);
        int r;

        dt_error_clear(err);
        r = dt_worker_parse(w, buf, len, source, lim, &sink, &b, err);
        if (r == 0) {
                ck_assert_int_eq(b.n, 2);
                ck_assert_int_eq(b.sum, 7);
        }
        return r;
}

/* serve - n tierpod messages through w, each parsed right; pids[k]: the worker that parsed
 * message k (retired right after it, or still running) */
static void serve(struct dt_worker *w, const char *source, pid_t *pids, size_t n) {
        struct dt_error err;
        size_t k;

        for (k = 0; k < n; k++) {
                pid_t before = dt_worker_pid(w);
                int r = parse_tierpod(w, source, &dt_limits_default, &err);

                ck_assert_msg(r == 0, "message %zu: %d %s: %s", k, r, S(err.reason), err.message);
                pids[k] = dt_worker_pid(w) ? dt_worker_pid(w) : before;
                ck_assert_int_gt(pids[k], 0);
        }
}

START_TEST(one_worker_many_messages)
{
        const struct dt_worker_opts opts = { .max_rss_growth = 1ull << 30 };
        const struct dt_parse_sink sink = { .aggregate = inproc_aggregate, .failure = inproc_failure };
        static const char *const files[] = {
                "corpus/aggregate/tierpod_test.xml.zip",
                "corpus/failure/mail-auth_arf-003.eml",
                "corpus/aggregate/parsedmarc_twilight.eml",
                "corpus/malformed/parsedmarc_empty.xml",        /* an error: the worker retires */
        };
        _cleanup_(dt_worker_freep) struct dt_worker *w = NULL;
        char *want[ELEMENTSOF(files)], *bufs[ELEMENTSOF(files)];
        size_t lens[ELEMENTSOF(files)], i, k;
        pid_t first = 0;
        struct dt_error err;
        int fd_before, fd_after;

        fd_before = dup(0);
        close(fd_before);
        for (i = 0; i < ELEMENTSOF(files); i++) {
                struct dump d;
                bufs[i] = dt_test_load(files[i], &lens[i]);
                dump_open(&d);
                dt_error_clear(&err);
                (void) dt_parse_buffer(bufs[i], lens[i], files[i], &dt_limits_default, &sink, d.f, &err);
                want[i] = dump_close(&d);
        }
        ck_assert_int_eq(dt_worker_new(&opts, &w), 0);
        ck_assert_int_eq(dt_worker_pid(w), 0);          /* started by the first message */
        for (k = 0; k < 30; k++) {
                _cleanup_free_ char *got = NULL;
                struct dump d;
                int r;

                i = k % 3;                              /* the three good ones, in turn */
                dump_open(&d);
                dt_error_clear(&err);
                r = dt_worker_parse(w, bufs[i], lens[i], files[i], &dt_limits_default, &dump_sink, d.f, &err);
                got = dump_close(&d);
                ck_assert_msg(r == 0, "message %zu: %d %s", k, r, err.message);
                ck_assert_str_eq(got, want[i]);
                if (k == 0)
                        first = dt_worker_pid(w);
                ck_assert_int_gt(first, 0);
                ck_assert_int_eq(dt_worker_pid(w), first);      /* the same process throughout */
        }
        /* a message the worker rejects retires it; the next one gets a fresh worker */
        dt_error_clear(&err);
        ck_assert_int_eq(dt_worker_parse(w, bufs[3], lens[3], files[3], &dt_limits_default, NULL, NULL, &err),
                         -ENODATA);
        ck_assert_int_eq(dt_worker_pid(w), 0);
        ck_assert_int_eq(parse_tierpod(w, "after", &dt_limits_default, &err), 0);
        ck_assert_int_gt(dt_worker_pid(w), 0);
        ck_assert_int_ne(dt_worker_pid(w), first);
        assert_clean_stop(w);
        fd_after = dup(0);
        close(fd_after);
        ck_assert_int_eq(fd_after, fd_before);
        for (i = 0; i < ELEMENTSOF(files); i++) {
                free(want[i]);
                free(bufs[i]);
        }
}
END_TEST

/* messages sent ahead (dt_worker_parse_ahead): each reply goes to its own message, in order,
 * from one worker; after a failed parse the worker retires without parsing what was sent
 * ahead, which a fresh worker then parses; at max_messages nothing is sent ahead */
START_TEST(parses_ahead)
{
        const struct dt_worker_opts opts = { .max_messages = 11, .max_rss_growth = 1ull << 30 };
        const struct dt_parse_sink sink = { .aggregate = inproc_aggregate, .failure = inproc_failure };
        static const char *const files[] = {
                "corpus/aggregate/tierpod_test.xml.zip",
                "corpus/failure/mail-auth_arf-003.eml",
                "corpus/aggregate/parsedmarc_twilight.eml",
                "corpus/malformed/parsedmarc_empty.xml",        /* an error: the worker retires */
        };
        static const size_t order[] = { 0, 1, 2, 0, 3, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0 };
        _cleanup_(dt_worker_freep) struct dt_worker *w = NULL;
        char *want[ELEMENTSOF(files)], *bufs[ELEMENTSOF(files)];
        size_t lens[ELEMENTSOF(files)], i, k;
        pid_t pids[ELEMENTSOF(order)];
        struct dt_error err;

        for (i = 0; i < ELEMENTSOF(files); i++) {
                struct dump d;
                bufs[i] = dt_test_load(files[i], &lens[i]);
                dump_open(&d);
                dt_error_clear(&err);
                (void) dt_parse_buffer(bufs[i], lens[i], files[i], &dt_limits_default, &sink, d.f, &err);
                want[i] = dump_close(&d);
        }
        ck_assert_int_eq(dt_worker_new(&opts, &w), 0);
        for (k = 0; k < ELEMENTSOF(order); k++) {
                _cleanup_free_ char *got = NULL;
                const struct dt_worker_msg next = k + 1 < ELEMENTSOF(order) ? (struct dt_worker_msg) {
                        bufs[order[k + 1]], lens[order[k + 1]], files[order[k + 1]] } :
                        (struct dt_worker_msg) { 0 };
                struct dump d;
                int r;

                i = order[k];
                dump_open(&d);
                dt_error_clear(&err);
                r = dt_worker_parse_ahead(w, bufs[i], lens[i], files[i], next.data ? &next : NULL,
                                          &dt_limits_default, &dump_sink, d.f, &err);
                got = dump_close(&d);
                pids[k] = dt_worker_pid(w);
                if (i == 3) {
                        ck_assert_int_eq(r, -ENODATA);
                        ck_assert_int_eq(pids[k], 0);           /* retired at once */
                        continue;
                }
                ck_assert_msg(r == 0, "message %zu: %d %s", k, r, err.message);
                ck_assert_str_eq(got, want[i]);
        }
        ck_assert_int_gt(pids[0], 0);
        for (k = 1; k < 4; k++)
                ck_assert_int_eq(pids[k], pids[0]);
        ck_assert_int_gt(pids[5], 0);                           /* a fresh worker after the error */
        ck_assert_int_ne(pids[5], pids[0]);
        for (k = 6; k < 15; k++)
                ck_assert_int_eq(pids[k], pids[5]);
        ck_assert_int_eq(pids[15], 0);                          /* retired after 11 messages... */
        ck_assert_int_gt(pids[16], 0);                          /* ...so the next one went to another */
        ck_assert_int_ne(pids[16], pids[5]);
        assert_clean_stop(w);
        for (i = 0; i < ELEMENTSOF(files); i++) {
                free(want[i]);
                free(bufs[i]);
        }
}
END_TEST

/* a crash while the worker holds the message sent ahead is that message's, in its turn, and
 * the one after it goes to a fresh worker; a call for another message drops what was sent
 * ahead (the worker busy with it is killed) and charges nothing */
START_TEST(ahead_faults_are_its_own)
{
        _cleanup_(dt_worker_freep) struct dt_worker *w = NULL;
        _cleanup_free_ char *buf = NULL;
        struct dt_worker_msg two, three;
        struct dt_error err;
        size_t len;
        pid_t first;

        buf = tierpod(&len);
        two = (struct dt_worker_msg) { buf, len, "two" };
        three = (struct dt_worker_msg) { buf, len, "three" };
        set_hook("crash", "two");
        ck_assert_int_eq(dt_worker_new(NULL, &w), 0);
        dt_error_clear(&err);
        ck_assert_int_eq(dt_worker_parse_ahead(w, buf, len, "one", &two, &dt_limits_default, NULL, NULL,
                                               &err), 0);
        first = dt_worker_pid(w);
        ck_assert_int_gt(first, 0);
        ck_assert_int_eq(dt_worker_parse_ahead(w, buf, len, "two", &three, &dt_limits_default, NULL, NULL,
                                               &err), -ECHILD);
        ck_assert_str_eq(err.reason, DT_R_WORKER_CRASH);
        ck_assert_int_eq(dt_worker_pid(w), 0);
        set_hook(NULL, NULL);
        ck_assert_int_eq(parse_tierpod(w, "three", &dt_limits_default, &err), 0);

        /* "two" sent ahead to a worker that now hangs on it; "four" comes instead */
        ck_assert_int_eq(dt_worker_stop(w), 0);
        set_hook("hang", "two");
        dt_error_clear(&err);
        ck_assert_int_eq(dt_worker_parse_ahead(w, buf, len, "one", &two, &dt_limits_default, NULL, NULL,
                                               &err), 0);
        first = dt_worker_pid(w);
        set_hook(NULL, NULL);
        ck_assert_int_eq(parse_tierpod(w, "four", &dt_limits_default, &err), 0);
        ck_assert_int_gt(dt_worker_pid(w), 0);
        ck_assert_int_ne(dt_worker_pid(w), first);
        assert_clean_stop(w);
}
END_TEST

/* the worker's limits come with each message: another configuration applies at once */
START_TEST(limits_follow_each_message)
{
        _cleanup_(dt_worker_freep) struct dt_worker *w = NULL;
        struct dt_limits lim = dt_limits_default;
        struct dt_error err;
        size_t len;
        _cleanup_free_ char *buf = tierpod(&len);
        pid_t pid;

        ck_assert_int_eq(dt_worker_new(NULL, &w), 0);
        ck_assert_int_eq(parse_tierpod(w, "a", &lim, &err), 0);
        pid = dt_worker_pid(w);
        lim.records = 1;
        ck_assert_int_lt(parse_tierpod(w, "b", &lim, &err), 0);
        ck_assert_str_eq(err.reason, DT_R_RECORD_LIMIT);
        ck_assert_int_eq(parse_tierpod(w, "c", &dt_limits_default, &err), 0);
        ck_assert_int_ne(dt_worker_pid(w), pid);       /* the error retired the first worker */
        /* over limits.message_bytes: refused before the worker sees it */
        lim = dt_limits_default;
        lim.message_bytes = len - 1;
        pid = dt_worker_pid(w);
        dt_error_clear(&err);
        ck_assert_int_eq(dt_worker_parse(w, buf, len, "d", &lim, NULL, NULL, &err), -EFBIG);
        ck_assert_str_eq(err.reason, DT_R_SIZE_LIMIT);
        ck_assert_int_eq(dt_worker_pid(w), pid);
}
END_TEST

START_TEST(sink_stop_kills_worker)
{
        const struct dt_worker_sink sink = { .record = big_record };
        _cleanup_(dt_worker_freep) struct dt_worker *w = NULL;
        _cleanup_free_ char *xml = NULL;
        struct big b = { .stop_at = 3 };
        struct dt_error err;
        size_t len;
        pid_t pid;

        ck_assert_int_eq(dt_worker_new(NULL, &w), 0);
        ck_assert_int_eq(parse_tierpod(w, "first", &dt_limits_default, &err), 0);
        pid = dt_worker_pid(w);
        xml = big_report(50000, &len);
        dt_error_clear(&err);
        ck_assert_int_eq(dt_worker_parse(w, xml, len, "big.xml", &dt_limits_default, &sink, &b, &err), -ENOSPC);
        ck_assert_int_eq(b.n, 3);
        ck_assert_int_eq(err.code, 0);          /* the sink's own failure: err untouched */
        ck_assert_int_eq(dt_worker_pid(w), 0);  /* killed mid-report, and reaped */
        assert_no_child();
        ck_assert_int_eq(parse_tierpod(w, "next", &dt_limits_default, &err), 0);
        ck_assert_int_ne(dt_worker_pid(w), pid);
}
END_TEST

/* ---- the worker misbehaves: message K of N costs that message alone ---- */

static const struct {
        const char *hook;
        uint32_t timeout_ms;
        uint64_t as_bytes;
        int r;
        const char *reason, *alt_reason;        /* alt: also acceptable (oom: the parse's own) */
        const char *msg;
} hooks[] = {
        { "crash", 0, 0, -ECHILD, DT_R_WORKER_CRASH, NULL, "SIGABRT" },
        { "hang", 500, 0, -ETIMEDOUT, DT_R_TIMEOUT, NULL, "deadline of 500 ms" },
        { "oom", 0, 128u << 20, -ECHILD, DT_R_WORKER_CRASH, DT_R_NOMEM, NULL },
        { "garbage", 0, 0, -ECHILD, DT_R_WORKER_CRASH, NULL, "malformed worker stream" },
};

#define FAULT_N 6
#define FAULT_K 2       /* 0-based: the third message is poisoned */

START_TEST(worker_misbehaves)
{
        const struct dt_worker_opts opts = { .timeout_ms = hooks[_i].timeout_ms, .as_bytes = hooks[_i].as_bytes,
                                             .max_rss_growth = 1ull << 30 };
        _cleanup_(dt_worker_freep) struct dt_worker *w = NULL;
        pid_t pids[FAULT_N];
        struct dt_error err;
        char name[32];
        double t0;
        int k, r;

        set_hook(hooks[_i].hook, "poison");
        ck_assert_int_eq(dt_worker_new(&opts, &w), 0);
        for (k = 0; k < FAULT_N; k++) {
                (void) snprintf(name, sizeof name, "new/%d.%s", k, k == FAULT_K ? "poison" : "fine");
                t0 = now_sec();
                r = parse_tierpod(w, name, &dt_limits_default, &err);
                if (k != FAULT_K) {
                        ck_assert_msg(r == 0, "%s: message %d: %d %s: %s", hooks[_i].hook, k, r, S(err.reason),
                                      err.message);
                        pids[k] = dt_worker_pid(w);
                        continue;
                }
                pids[k] = dt_worker_pid(w);
                if (hooks[_i].alt_reason && err.reason && strcmp(err.reason, hooks[_i].alt_reason) == 0) {
                        ck_assert_int_lt(r, 0);
                } else {
                        ck_assert_msg(r == hooks[_i].r, "%s: %d %s: %s", hooks[_i].hook, r, S(err.reason),
                                      err.message);
                        ck_assert_str_eq(S(err.reason), hooks[_i].reason);
                }
                if (hooks[_i].msg)
                        ck_assert_msg(strstr(err.message, hooks[_i].msg), "%s: '%s'", hooks[_i].hook, err.message);
                if (hooks[_i].timeout_ms)       /* killed at the deadline, not much later */
                        ck_assert_msg(now_sec() - t0 < hooks[_i].timeout_ms / 1000.0 + 1.5, "took %.2f s",
                                      now_sec() - t0);
                ck_assert_int_eq(pids[k], 0);   /* that worker is gone, and reaped */
                assert_no_child();
                fprintf(stderr, "# %s: %s: %s\n", hooks[_i].hook, S(err.reason), err.message);
        }
        set_hook(NULL, NULL);
        /* one worker before the bad message, one fresh worker for all after it */
        for (k = 1; k < FAULT_K; k++)
                ck_assert_int_eq(pids[k], pids[0]);
        ck_assert_int_gt(pids[FAULT_K + 1], 0);
        ck_assert_int_ne(pids[FAULT_K + 1], pids[0]);
        for (k = FAULT_K + 2; k < FAULT_N; k++)
                ck_assert_int_eq(pids[k], pids[FAULT_K + 1]);
        assert_clean_stop(w);
}
END_TEST

START_TEST(hook_only_for_matching_source)
{
        _cleanup_(dt_worker_freep) struct dt_worker *w = NULL;
        struct dt_error err;

        set_hook("crash", "poison");
        ck_assert_int_eq(dt_worker_new(NULL, &w), 0);
        ck_assert_int_eq(parse_tierpod(w, "new/1.harmless", &dt_limits_default, &err), 0);
        ck_assert_int_eq(parse_tierpod(w, "new/2.poison", &dt_limits_default, &err), -ECHILD);
        ck_assert_str_eq(err.reason, DT_R_WORKER_CRASH);
        set_hook(NULL, NULL);
        assert_clean_stop(w);
}
END_TEST

/* a worker that died between two messages (killed from outside) is replaced, and the next
 * message is not charged for it */
START_TEST(dead_worker_replaced)
{
        _cleanup_(dt_worker_freep) struct dt_worker *w = NULL;
        struct dt_error err;
        pid_t pid;

        ck_assert_int_eq(dt_worker_new(NULL, &w), 0);
        ck_assert_int_eq(parse_tierpod(w, "a", &dt_limits_default, &err), 0);
        pid = dt_worker_pid(w);
        ck_assert_int_eq(kill(pid, SIGKILL), 0);
        ck_assert_int_eq(waitid(P_PID, (id_t) pid, &(siginfo_t) { 0 }, WEXITED | WNOWAIT), 0);   /* dead, not reaped */
        ck_assert_int_eq(parse_tierpod(w, "b", &dt_limits_default, &err), 0);
        ck_assert_int_gt(dt_worker_pid(w), 0);
        ck_assert_int_ne(dt_worker_pid(w), pid);
        assert_clean_stop(w);
}
END_TEST

/* a worker that cannot set up its fds (the parent is at RLIMIT_NOFILE) was not started: no
 * WORKER_CRASH for the message to be charged with, and with fds again the next one starts */
START_TEST(out_of_fds_is_not_started)
{
        _cleanup_(dt_worker_freep) struct dt_worker *w = NULL;
        _cleanup_free_ char *buf = NULL;
        struct rlimit saved, low;
        struct dt_error err;
        size_t len;
        int lowest, r;

        buf = tierpod(&len);
        ck_assert_int_eq(dt_worker_new(NULL, &w), 0);
        ck_assert_int_eq(parse_tierpod(w, "warm", &dt_limits_default, &err), 0);   /* set-up done once */
        assert_clean_stop(w);
        lowest = dup(0);
        ck_assert_int_ge(lowest, 0);
        close(lowest);
        ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &saved), 0);
        low = saved;
        low.rlim_cur = (rlim_t) lowest + 2;     /* the socket pair fits, the worker's own fds not */
        if (setrlimit(RLIMIT_NOFILE, &low) < 0)
                return;                         /* valgrind keeps this limit to itself */
        dt_error_clear(&err);
        r = dt_worker_parse(w, buf, len, "nofds", &dt_limits_default, NULL, NULL, &err);
        ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &saved), 0);
        ck_assert_int_eq(r, -EMFILE);
        ck_assert_str_eq(err.reason, DT_WORKER_R_NOT_STARTED);
        ck_assert_msg(strncmp(err.message, "cannot start the worker: ", 25) == 0, "%s", err.message);
        ck_assert_int_eq(dt_worker_pid(w), 0);
        assert_no_child();
        ck_assert_int_eq(parse_tierpod(w, "again", &dt_limits_default, &err), 0);
        assert_clean_stop(w);
}
END_TEST

/* ---- hygiene: retired after so many messages, so much growth, so much CPU ---- */

START_TEST(retires_after_max_messages)
{
        const struct dt_worker_opts opts = { .max_messages = 3, .max_rss_growth = 1ull << 30 };
        _cleanup_(dt_worker_freep) struct dt_worker *w = NULL;
        pid_t pids[7];

        ck_assert_int_eq(dt_worker_new(&opts, &w), 0);
        serve(w, "m", pids, ELEMENTSOF(pids));
        ck_assert_int_eq(pids[1], pids[0]);
        ck_assert_int_eq(pids[2], pids[0]);
        ck_assert_int_ne(pids[3], pids[0]);
        ck_assert_int_eq(pids[5], pids[3]);
        ck_assert_int_ne(pids[6], pids[3]);
        ck_assert_int_ne(pids[6], pids[0]);
        ck_assert_int_eq(dt_worker_pid(w), pids[6]);
        assert_clean_stop(w);
}
END_TEST

/* DT_WORKER_TEST=leak keeps 24 MB in the worker: it retires past max_rss_growth, not before */
START_TEST(retires_on_growth)
{
        const uint64_t growth[] = { 8u << 20, 1ull << 30 };
        const struct dt_worker_opts opts = { .max_rss_growth = growth[_i] };
        _cleanup_(dt_worker_freep) struct dt_worker *w = NULL;
        struct dt_error err;
        pid_t first;

        set_hook("leak", "leaky");
        ck_assert_int_eq(dt_worker_new(&opts, &w), 0);
        ck_assert_int_eq(parse_tierpod(w, "1", &dt_limits_default, &err), 0);
        first = dt_worker_pid(w);
        ck_assert_int_eq(parse_tierpod(w, "2.leaky", &dt_limits_default, &err), 0);
        ck_assert_int_eq(parse_tierpod(w, "3", &dt_limits_default, &err), 0);
        set_hook(NULL, NULL);
        ck_assert_int_gt(first, 0);
        if (_i == 0)
                ck_assert_int_ne(dt_worker_pid(w), first);
        else
                ck_assert_int_eq(dt_worker_pid(w), first);
        assert_clean_stop(w);
}
END_TEST

/* RLIMIT_CPU counts a process' whole life: with 1 s per message, three messages of 0.7 s each
 * pass only because the limit is re-armed before each; the fourth would come within one
 * message of the lifetime limit (3 s), so it gets a fresh worker */
START_TEST(cpu_limit_rearmed_per_message)
{
        const struct dt_worker_opts opts = { .timeout_ms = 60000, .cpu_seconds = 1, .max_rss_growth = 1ull << 30 };
        _cleanup_(dt_worker_freep) struct dt_worker *w = NULL;
        pid_t pids[4];

        set_hook("burn", NULL);
        ck_assert_int_eq(dt_worker_new(&opts, &w), 0);
        serve(w, "burn", pids, ELEMENTSOF(pids));
        set_hook(NULL, NULL);
        ck_assert_int_eq(pids[1], pids[0]);
        ck_assert_int_eq(pids[2], pids[0]);
        ck_assert_int_ne(pids[3], pids[0]);
        assert_clean_stop(w);
}
END_TEST

/* a message that spins past the CPU limit, long before the deadline: TIMEOUT (SIGXCPU) */
START_TEST(cpu_limit_stops_a_spin)
{
        const struct dt_worker_opts opts = { .timeout_ms = 60000, .cpu_seconds = 1 };
        _cleanup_(dt_worker_freep) struct dt_worker *w = NULL;
        struct dt_error err;

        set_hook("hang", "stuck");
        ck_assert_int_eq(dt_worker_new(&opts, &w), 0);
        ck_assert_int_eq(parse_tierpod(w, "1.stuck", &dt_limits_default, &err), -ETIMEDOUT);
        ck_assert_str_eq(err.reason, DT_R_TIMEOUT);
        ck_assert_msg(strstr(err.message, "SIGXCPU"), "%s", err.message);
        ck_assert_int_eq(parse_tierpod(w, "2", &dt_limits_default, &err), 0);
        set_hook(NULL, NULL);
        assert_clean_stop(w);
}
END_TEST

/* many workers, each over a few messages, started and stopped: no fd or child is left */
START_TEST(no_leaks_over_many_runs)
{
        struct dt_error err;
        size_t len, i, k;
        _cleanup_free_ char *buf = dt_test_load("corpus/failure/mail-auth_arf-003.eml", &len);
        int fd_before, fd_after;

        fd_before = dup(0);
        close(fd_before);
        for (i = 0; i < 10; i++) {
                _cleanup_(dt_worker_freep) struct dt_worker *w = NULL;
                ck_assert_int_eq(dt_worker_new(NULL, &w), 0);
                for (k = 0; k < 5; k++) {
                        dt_error_clear(&err);
                        ck_assert_int_eq(dt_worker_parse(w, buf, len, "x", &dt_limits_default, NULL, NULL, &err), 0);
                }
                ck_assert_int_eq(dt_worker_stop(w), 0);
        }
        fd_after = dup(0);
        close(fd_after);
        ck_assert_int_eq(fd_after, fd_before);
        assert_no_child();
}
END_TEST

int main(void) {
        Suite *s = suite_create("worker");
        TCase *tc;

        tc = tcase_create("replay");
        tcase_set_timeout(tc, 120);
        tcase_add_loop_test(tc, replays_corpus, 0, ELEMENTSOF(corpus));
        tcase_add_test(tc, tierpod_values);
        suite_add_tcase(s, tc);

        tc = tcase_create("stream");
        tcase_set_timeout(tc, 300);
        tcase_add_test(tc, large_report_streams_flat);
        tcase_add_test(tc, sink_stop_kills_worker);
        tcase_add_test(tc, no_leaks_over_many_runs);
        suite_add_tcase(s, tc);

        tc = tcase_create("persistent");
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, one_worker_many_messages);
        tcase_add_test(tc, limits_follow_each_message);
        tcase_add_test(tc, dead_worker_replaced);
        tcase_add_test(tc, parses_ahead);
        tcase_add_test(tc, ahead_faults_are_its_own);
        tcase_add_test(tc, out_of_fds_is_not_started);
        tcase_add_test(tc, retires_after_max_messages);
        tcase_add_loop_test(tc, retires_on_growth, 0, 2);
        tcase_add_test(tc, cpu_limit_rearmed_per_message);
        tcase_add_test(tc, cpu_limit_stops_a_spin);
        suite_add_tcase(s, tc);

        tc = tcase_create("faults");
        tcase_set_timeout(tc, 60);
        tcase_add_loop_test(tc, worker_misbehaves, 0, ELEMENTSOF(hooks));
        tcase_add_test(tc, hook_only_for_matching_source);
        suite_add_tcase(s, tc);
        return dt_test_main(s);
}
