/* fuzz-failure.c - libFuzzer harness: dt_mime_parse(), then dt_failure_parse() for a failure
 *
 * The input is one whole mail message. When gmime's classifier calls it a failure report, the
 * ARF parser reads it, and every string it hands out is checked against report/failure.h's
 * promise: clean UTF-8 (tests/fuzz/fuzz.h), capped at DT_FAILURE_VALUE_MAX.
 * SECURITY: the input is anything at all; default limits, as the agent runs. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "report/failure.h"
#include "report/headers.h"
#include "report/mime.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* check_failure - every string of f is clean and capped */
static void check_failure(const struct dt_failure *f) {
        const char *const s[] = {
                f->feedback_type, f->user_agent, f->version, f->auth_failure,
                f->original_envelope_id, f->original_mail_from, f->arrival_date_text,
                f->reporting_mta, f->source_ip, f->reported_domain, f->reported_uri,
                f->authentication_results, f->delivery_result, f->identity_alignment,
                f->spf_dns, f->dkim_domain, f->dkim_identity, f->dkim_selector,
        };
        size_t i;

        for (i = 0; i < ELEMENTSOF(s); i++)
                fuzz_check_clean(s[i], DT_FAILURE_VALUE_MAX);
        for (i = 0; i < f->n_original_rcpt_to; i++)
                fuzz_check_clean(f->original_rcpt_to[i], DT_FAILURE_VALUE_MAX);
        for (i = 0; i < f->n_feedback; i++) {
                if (!f->feedback[i].name || !f->feedback[i].value)
                        __builtin_trap();
                fuzz_check_clean(f->feedback[i].name, DT_FAILURE_VALUE_MAX);
                fuzz_check_clean(f->feedback[i].value, DT_FAILURE_VALUE_MAX);
        }
        if ((f->origin == DT_ORIGIN_NONE) != (f->original == NULL))
                __builtin_trap();
        if (f->original)
                fuzz_check_headers(f->original);
        (void) dt_failure_origin_name(f->origin);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(dt_message_freep) struct dt_message *m = NULL;
        _cleanup_(dt_failure_freep) struct dt_failure *f = NULL;
        const struct dt_limits *lim = &dt_limits_default;
        struct dt_error err;

        dt_error_clear(&err);
        if (dt_mime_parse(data, size, lim, &m, &err) < 0)
                return 0;
        if (dt_message_kind(m) != DT_KIND_FAILURE)
                return 0;
        if (dt_failure_parse(m, lim, &f, &err) < 0) {
                if (f || !err.reason || err.code >= 0)
                        __builtin_trap();
                return 0;
        }
        if (!f)
                __builtin_trap();
        check_failure(f);
        return 0;
}
