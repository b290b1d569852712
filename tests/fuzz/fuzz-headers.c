/* fuzz-headers.c - libFuzzer harness: dt_headers_parse() and the raw splitter beside it
 *
 * The input is a header block (an original message's headers, a feedback part). It goes through
 * the attribution layer, whose every string must be clean (tests/fuzz/fuzz.h); through the raw
 * splitter, whose fields must stay inside the input and the caps; and, whole, through the
 * Received, RFC 2047 and date helpers, which see single field values in real use; and as a
 * message header through the Authentication-Results verdict (report/authres.h), which runs in
 * the agent itself and must be clean and short whatever it reads.
 * SECURITY: the input is anything at all; default limits, as the agent runs. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "report/authres.h"
#include "report/headers.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const struct dt_limits *lim = &dt_limits_default;
        const char *buf = (const char *) data;
        struct dt_headers *h = NULL;
        struct dt_header_block *b = NULL;
        struct dt_received rcv;
        struct dt_error err;
        volatile unsigned sink = 0;
        size_t i, it = 0, olen = 0;
        bool cut = false;
        int64_t t;
        char *s;

        dt_error_clear(&err);
        if (dt_headers_parse(buf, size, lim, &h, &err) == 0) {
                fuzz_check_headers(h);
                if (h->end > size || h->n_fields > lim->header_fields)
                        __builtin_trap();
                h = dt_headers_free(h);
        } else if (h || !err.reason || err.code >= 0) {
                __builtin_trap();
        }

        if (dt_headers_split(buf, size, lim, &b, &err) == 0) {
                if (b->end > size || b->n > lim->header_fields)
                        __builtin_trap();
                for (i = 0; i < b->n; i++) {
                        const struct dt_header_field *f = &b->fields[i];

                        if (f->offset >= size || f->value_len > DT_HEADER_VALUE_MAX ||
                            f->value_len > f->raw_len || f->value[f->value_len] != '\0')
                                __builtin_trap();
                        sink += (unsigned) strlen(f->name) + fuzz_touch(f->value, f->value_len);
                }
                while (dt_headers_find(b, "received", &it))
                        sink++;
                if (dt_headers_from_block(b, &h, &err) == 0) {
                        fuzz_check_headers(h);
                        h = dt_headers_free(h);
                }
                b = dt_headers_block_free(b);
        }

        memset(&rcv, 0, sizeof rcv);
        if (dt_headers_parse_received(buf, size, &rcv) == 0) {
                const char *const v[] = { rcv.from_helo, rcv.from_host, rcv.from_ip,
                                          rcv.by_host, rcv.with, rcv.id, rcv.for_addr };

                for (i = 0; i < ELEMENTSOF(v); i++)     /* not promised clean on its own */
                        if (v[i])
                                sink += (unsigned) strlen(v[i]);
                dt_headers_received_clear(&rcv);
        }

        s = dt_headers_decode_text(buf, size, DT_HEADERS_TEXT_MAX, &olen, &cut);
        if (s) {
                if (olen > DT_HEADERS_TEXT_MAX || s[olen] != '\0')
                        __builtin_trap();
                sink += fuzz_touch(s, olen);
                free(s);
        }
        (void) dt_headers_parse_date(buf, size, &t);

        {
                static const char *const trusted[] = { "mx.example.com", "a" };
                char v[DT_AUTHRES_MAX];

                if (dt_authres_verdict(buf, size, lim, trusted, ELEMENTSOF(trusted), v) >= 0)
                        fuzz_check_clean(v, DT_AUTHRES_MAX - 1);
        }
        (void) sink;
        return 0;
}
