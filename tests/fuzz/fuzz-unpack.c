/* fuzz-unpack.c - libFuzzer harness: dt_unpack_open() and the whole stream read back
 *
 * The input is an attachment's bytes (raw XML, gzip, zip, anything). The stream is drained in
 * slices of varying size (taken from the input's own length, so a run is deterministic); the
 * byte count must match dt_input_produced() and stay within the limit, and an error must stick.
 * SECURITY: the input is anything at all; default limits, as the agent runs. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "report/unpack.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static uint8_t buf[65536];
        static const size_t slices[] = { 1, 7, 512, 4096, 65536 };
        _cleanup_(dt_input_freep) struct dt_input *in = NULL;
        const struct dt_limits *lim = &dt_limits_default;
        struct dt_error err;
        volatile unsigned sink = 0;
        uint64_t total = 0;
        size_t slice = slices[size % ELEMENTSOF(slices)];
        ssize_t n;

        dt_error_clear(&err);
        (void) dt_unpack_sniff(data, size);
        if (dt_unpack_open(data, size, lim, &in, &err) < 0) {
                if (in || !err.reason || err.code >= 0)
                        __builtin_trap();
                return 0;
        }
        if (!in || !dt_input_describe(in))
                __builtin_trap();
        if (dt_input_entry_name(in))
                sink += (unsigned) strlen(dt_input_entry_name(in));
        while ((n = dt_input_read(in, buf, slice)) > 0) {
                /* odd slices for the first MiB, then big ones: a bomb stopped at its ratio
                 * limit may produce 256 MiB, and reading that a byte at a time under the
                 * sanitizers outlasts libFuzzer's timeout without testing anything new */
                if (total >= (1u << 20))
                        slice = sizeof buf;
                if ((size_t) n > slice)
                        __builtin_trap();
                sink += fuzz_touch(buf, (size_t) n);
                total += (uint64_t) n;
                if (total > lim->unpacked_bytes)
                        __builtin_trap();
        }
        if (n < 0) {
                const struct dt_error *e = dt_input_error(in);

                if (!e || !e->reason || e->code >= 0 || dt_input_read(in, buf, slice) != n)
                        __builtin_trap();       /* an error sticks */
        } else if (dt_input_produced(in) != total) {
                __builtin_trap();
        }
        (void) sink;
        return 0;
}
