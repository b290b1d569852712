/* fuzz-aggregate.c - libFuzzer harness: dt_unpack_open(), then dt_aggregate_open()/_next()
 *
 * The input is an attachment's bytes; the report is read to its end or its first error, every
 * getter is called and every string is read to its NUL, as a sink would. The running totals
 * must never wrap: the message count only grows and the record count matches what next() gave.
 * SECURITY: the input is anything at all; default limits, as the agent runs. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "report/aggregate.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* str_len - strlen that takes NULL */
static size_t str_len(const char *s) {
        return s ? strlen(s) : 0;
}

/* touch_record - read every string of a record */
static unsigned touch_record(const struct dt_record *r) {
        unsigned sum = 0;
        size_t i;

        sum += (unsigned) (str_len(r->source_ip) + str_len(r->disposition) + str_len(r->dkim) +
                           str_len(r->spf) + str_len(r->header_from) + str_len(r->envelope_from) +
                           str_len(r->envelope_to));
        for (i = 0; i < r->n_reasons; i++)
                sum += (unsigned) (str_len(r->reasons[i].type) + str_len(r->reasons[i].comment));
        for (i = 0; i < r->n_auth_dkim; i++)
                sum += (unsigned) (str_len(r->auth_dkim[i].domain) + str_len(r->auth_dkim[i].selector) +
                                   str_len(r->auth_dkim[i].result) +
                                   str_len(r->auth_dkim[i].human_result));
        for (i = 0; i < r->n_auth_spf; i++)
                sum += (unsigned) (str_len(r->auth_spf[i].domain) + str_len(r->auth_spf[i].scope) +
                                   str_len(r->auth_spf[i].result) +
                                   str_len(r->auth_spf[i].human_result));
        return sum;
}

/* touch_meta - read every getter of the report */
static unsigned touch_meta(const struct dt_aggregate *a) {
        const struct dt_policy *p = dt_aggregate_policy(a);
        unsigned sum = 0;
        size_t i;

        sum += (unsigned) (str_len(dt_aggregate_org(a)) + str_len(dt_aggregate_email(a)) +
                           str_len(dt_aggregate_extra_contact(a)) +
                           str_len(dt_aggregate_report_id(a)) + str_len(dt_aggregate_version(a)) +
                           str_len(dt_aggregate_generator(a)));
        sum += (unsigned) (dt_aggregate_begin(a) ^ dt_aggregate_end(a));
        if (p)
                sum += (unsigned) (str_len(p->domain) + str_len(p->adkim) + str_len(p->aspf) +
                                   str_len(p->p) + str_len(p->sp) + str_len(p->np) +
                                   str_len(p->fo) + str_len(p->testing) +
                                   str_len(p->discovery_method) + (unsigned) p->pct);
        for (i = 0; i < dt_aggregate_n_extensions(a); i++)
                sum += (unsigned) str_len(dt_aggregate_extension(a, i));
        for (i = 0; i < dt_aggregate_n_warnings(a); i++) {
                const struct dt_warning *w = dt_aggregate_warning(a, i);

                if (!w || !w->reason)
                        __builtin_trap();
                sum += (unsigned) strlen(w->reason);
        }
        return sum;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(dt_input_freep) struct dt_input *in = NULL;
        _cleanup_(dt_aggregate_freep) struct dt_aggregate *agg = NULL;
        const struct dt_limits *lim = &dt_limits_default;
        const struct dt_record *rec;
        struct dt_error err;
        volatile unsigned sink = 0;
        uint64_t nrec = 0, msgs = 0;
        int r;

        dt_error_clear(&err);
        if (dt_unpack_open(data, size, lim, &in, &err) < 0)
                return 0;
        if (dt_aggregate_open(in, lim, &agg, &err) < 0) {
                if (agg || !err.reason || err.code >= 0)
                        __builtin_trap();
                return 0;
        }
        sink += touch_meta(agg);
        while ((r = dt_aggregate_next(agg, &rec, &err)) == 1) {
                sink += touch_record(rec);
                nrec++;
                if (nrec > lim->records || dt_aggregate_record_count(agg) != nrec)
                        __builtin_trap();
                if (dt_aggregate_message_count(agg) < msgs)
                        __builtin_trap();       /* the total wrapped */
                msgs = dt_aggregate_message_count(agg);
        }
        if (r < 0 && (!err.reason || err.code >= 0))
                __builtin_trap();
        sink += touch_meta(agg);
        (void) sink;
        return 0;
}
