/* fuzz-mime.c - libFuzzer harness: dt_mime_parse(), the classifier and the flat part list
 *
 * The input is one whole mail message. Every part is read to its last byte, and the contract of
 * report/mime.h is checked on the way: leaves are NUL-terminated past len, containers carry no
 * data, depths stay within the limit, the report part of an aggregate is one of the parts.
 * SECURITY: the input is anything at all; default limits, as the agent runs. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "report/mime.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(dt_message_freep) struct dt_message *m = NULL;
        const struct dt_limits *lim = &dt_limits_default;
        struct dt_error err;
        const struct dt_part *rep;
        volatile unsigned sink = 0;
        size_t i, n;
        bool found = false;

        dt_error_clear(&err);
        if (dt_mime_parse(data, size, lim, &m, &err) < 0) {
                if (m || !err.reason || err.code >= 0)
                        __builtin_trap();       /* out untouched, err filled on failure */
                return 0;
        }
        if (!m)
                __builtin_trap();
        n = dt_message_n_parts(m);
        if (n > lim->mime_parts)
                __builtin_trap();
        rep = dt_message_report(m);
        for (i = 0; i < n; i++) {
                const struct dt_part *p = dt_message_part(m, i);

                if (!p || !p->content_type || p->depth > lim->mime_depth)
                        __builtin_trap();
                sink += (unsigned) strlen(p->content_type);
                if (p->report_type)
                        sink += (unsigned) strlen(p->report_type);
                if (p->filename)
                        sink += (unsigned) strlen(p->filename);
                if (p->data) {
                        sink += fuzz_touch(p->data, p->len);
                        if (p->data[p->len] != '\0')
                                __builtin_trap();
                }
                if (p == rep)
                        found = true;
        }
        if (dt_message_part(m, n) != NULL)
                __builtin_trap();
        switch (dt_message_kind(m)) {
        case DT_KIND_AGGREGATE:
                if (!rep || !found || !rep->data)
                        __builtin_trap();
                break;
        case DT_KIND_NONE:
        case DT_KIND_FAILURE:
                if (rep)
                        __builtin_trap();
                break;
        default:
                __builtin_trap();
        }
        if (dt_message_subject(m))
                sink += (unsigned) strlen(dt_message_subject(m));
        if (dt_message_from(m))
                sink += (unsigned) strlen(dt_message_from(m));
        if (dt_message_id(m))
                sink += (unsigned) strlen(dt_message_id(m));
        sink += dt_message_flags(m);
        (void) sink;
        return 0;
}
