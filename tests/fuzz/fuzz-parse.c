/* fuzz-parse.c - libFuzzer harness: the whole pipeline, dt_parse_buffer(), with a counting sink
 *
 * The input is one file as the agent would read it from the Maildir (or `dmarctrace parse`
 * from the command line): a bare XML/gzip/zip report or a whole mail message. The sink pulls
 * every record of an aggregate report and checks the strings of a failure report, as the real
 * sinks do. A failure must come back with err filled.
 * SECURITY: the input is anything at all; default limits, as the agent runs. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "agent/parse.h"
#include "report/headers.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct counts {
        uint64_t aggregates, failures, records, messages;
};

/* on_aggregate - pull every record; the message total must never go down (no wrap) */
static int on_aggregate(void *userdata, const struct dt_parse_ctx *ctx, struct dt_aggregate *agg,
                        struct dt_error *err) {
        struct counts *c = userdata;
        const struct dt_record *rec;
        uint64_t before = 0;
        int r;

        if (!ctx->input)
                __builtin_trap();
        c->aggregates++;
        while ((r = dt_aggregate_next(agg, &rec, err)) == 1) {
                if (!rec->source_ip)
                        __builtin_trap();
                c->records++;
                if (dt_aggregate_message_count(agg) < before)
                        __builtin_trap();
                before = dt_aggregate_message_count(agg);
        }
        c->messages = before;
        return r;
}

/* on_failure - the failure report's strings are clean */
static int on_failure(void *userdata, const struct dt_parse_ctx *ctx, const struct dt_failure *f,
                      struct dt_error *err) {
        struct counts *c = userdata;
        size_t i;

        (void) err;
        if (!ctx->message)
                __builtin_trap();
        c->failures++;
        fuzz_check_clean(f->feedback_type, DT_FAILURE_VALUE_MAX);
        fuzz_check_clean(f->source_ip, DT_FAILURE_VALUE_MAX);
        fuzz_check_clean(f->reported_domain, DT_FAILURE_VALUE_MAX);
        fuzz_check_clean(f->authentication_results, DT_FAILURE_VALUE_MAX);
        for (i = 0; i < f->n_feedback; i++)
                fuzz_check_clean(f->feedback[i].value, DT_FAILURE_VALUE_MAX);
        if (f->original)
                fuzz_check_headers(f->original);
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const struct dt_parse_sink sink = { .aggregate = on_aggregate, .failure = on_failure };
        struct counts c = { 0 };
        struct dt_error err;

        dt_error_clear(&err);
        if (dt_parse_buffer(data, size, "fuzz", &dt_limits_default, &sink, &c, &err) < 0) {
                if (!err.reason || err.code >= 0)
                        __builtin_trap();
        }
        return 0;
}
