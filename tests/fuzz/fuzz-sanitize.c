/* fuzz-sanitize.c - libFuzzer harness and property check for dt_sanitize()
 *
 * The first two bytes of the input pick the cap (1..8192), the rest is the hostile text. The
 * properties of report/sanitize.h are checked against an independent decoder
 * (tests/fuzz/fuzz.h), and the harness traps on any violation:
 *   - the output is valid UTF-8 with no C0/C1 control, bidi control or zero-width character;
 *   - it fits the cap with its NUL, and its length is what dt_sanitize() returned;
 *   - when cut, it was cut only because the next character did not fit (at most 4 bytes short);
 *   - clean text is a fixed point: sanitising the output again changes nothing;
 *   - dt_sanitize_dup() with the same room gives the same bytes.
 * SECURITY: the input is anything at all. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "report/sanitize.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static char out[8192], again[8192];
        const char *in;
        size_t cap, len, n, m;
        bool cut = false, cut2 = true;
        char *dup;

        if (size < 2)
                return 0;
        cap = 1 + (((size_t) data[0] << 8 | data[1]) % sizeof out);
        in = (const char *) data + 2;
        len = size - 2;

        memset(out, 'X', sizeof out);
        n = dt_sanitize(in, len, out, cap, &cut);
        if (n >= cap || out[n] != '\0' || strlen(out) != n || !fuzz_is_clean(out, n))
                __builtin_trap();
        if (cut && n + 4 < cap - 1)
                __builtin_trap();               /* cut although the next character fitted */
        if (!cut && len > 0 && n == 0)
                __builtin_trap();               /* input vanished without a trace */

        m = dt_sanitize(out, n, again, sizeof again, &cut2);
        if (cut2 || m != n || memcmp(out, again, n + 1) != 0)
                __builtin_trap();               /* clean text must pass unchanged */

        dup = dt_sanitize_dup(in, len, cap - 1, &cut2);
        if (!dup)
                return 0;                       /* out of memory only */
        if (strcmp(dup, out) != 0 || cut2 != cut)
                __builtin_trap();
        free(dup);
        return 0;
}
