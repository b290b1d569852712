/* genbuf.c - growing text buffers, gzip and base64 for the test-data generators
 *
 * Generators only: trusted input, and any failure ends the program with a message. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <zlib.h>

#include "tests/genbuf.h"

/* grow - realloc or exit */
static void *grow(void *p, size_t n) {
        p = realloc(p, n);
        if (!p) {
                perror("realloc");
                exit(1);
        }
        return p;
}

void bprintf(struct buf *b, const char *fmt, ...) {
        va_list ap;
        int n;

        for (;;) {
                va_start(ap, fmt);
                n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
                va_end(ap);
                if (n < 0) {
                        perror("vsnprintf");
                        exit(1);
                }
                if ((size_t) n < b->cap - b->len) {
                        b->len += (size_t) n;
                        return;
                }
                b->cap = b->cap ? b->cap * 2 + (size_t) n : 65536;
                b->p = grow(b->p, b->cap);
        }
}

void gzip_buf(const struct buf *in, struct buf *out) {
        z_stream z = { 0 };
        uLong bound;

        if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
                exit(1);
        bound = deflateBound(&z, (uLong) in->len) + 64;
        if (out->cap < bound) {
                out->p = grow(out->p, bound);
                out->cap = bound;
        }
        z.next_in = (Bytef *) in->p;
        z.avail_in = (uInt) in->len;
        z.next_out = (Bytef *) out->p;
        z.avail_out = (uInt) out->cap;
        if (deflate(&z, Z_FINISH) != Z_STREAM_END)
                exit(1);
        out->len = z.total_out;
        deflateEnd(&z);
}

void base64_lines(const struct buf *in, struct buf *out, const char *eol) {
        static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        const unsigned char *s = (const unsigned char *) in->p;
        size_t i, col = 0;

        for (i = 0; i < in->len; i += 3) {
                unsigned v = (unsigned) s[i] << 16 | (i + 1 < in->len ? (unsigned) s[i + 1] << 8 : 0) |
                             (i + 2 < in->len ? s[i + 2] : 0);
                bprintf(out, "%c%c%c%c", t[v >> 18 & 63], t[v >> 12 & 63],
                        i + 1 < in->len ? t[v >> 6 & 63] : '=', i + 2 < in->len ? t[v & 63] : '=');
                col += 4;
                if (col >= 76) {
                        bprintf(out, "%s", eol);
                        col = 0;
                }
        }
        if (col)
                bprintf(out, "%s", eol);
}
