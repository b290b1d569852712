/* genbuf.c - growing text buffers, gzip, zip and base64 for the test-data generators
 *
 * Generators only: trusted input, and any failure ends the program with a message. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* deflate_to - compress in into out (replacing out's content) with zlib's window bits wbits:
 * 15 + 16 for a gzip member, -15 for the raw deflate data of a zip entry */
static void deflate_to(const struct buf *in, struct buf *out, int wbits) {
        z_stream z = { 0 };
        uLong bound;

        if (deflateInit2(&z, 6, Z_DEFLATED, wbits, 8, Z_DEFAULT_STRATEGY) != Z_OK)
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

void gzip_buf(const struct buf *in, struct buf *out) {
        deflate_to(in, out, 15 + 16);
}

/* put_le - n little-endian bytes of v appended to b */
static void put_le(struct buf *b, uint32_t v, int n) {
        for (int i = 0; i < n; i++)
                bprintf(b, "%c", (char) (v >> (8 * i) & 0xff));
}

/* put_zip_header - a local file header (sig 0x04034b50) or, with central, a central directory
 * entry for one deflated file at offset 0; no time stamp, no extra fields */
static void put_zip_header(struct buf *b, bool central, const char *name, uint32_t crc,
                           size_t packed, size_t size) {
        size_t nlen = strlen(name);

        put_le(b, central ? 0x02014b50u : 0x04034b50u, 4);
        if (central)
                put_le(b, 20, 2);       /* made by: version 2.0 */
        put_le(b, 20, 2);               /* needed to extract */
        put_le(b, 0, 2);                /* flags */
        put_le(b, 8, 2);                /* deflate */
        put_le(b, 0, 4);                /* DOS time and date */
        put_le(b, crc, 4);
        put_le(b, (uint32_t) packed, 4);
        put_le(b, (uint32_t) size, 4);
        put_le(b, (uint32_t) nlen, 2);
        put_le(b, 0, 2);                /* extra field length */
        if (central) {
                put_le(b, 0, 2);        /* comment length */
                put_le(b, 0, 2);        /* disk number */
                put_le(b, 0, 2);        /* internal attributes */
                put_le(b, 0, 4);        /* external attributes */
                put_le(b, 0, 4);        /* offset of the local header */
        }
        bprintf(b, "%s", name);
}

void zip_buf(const char *name, const struct buf *in, struct buf *out) {
        static struct buf raw;
        uint32_t crc = (uint32_t) crc32(0, (const Bytef *) in->p, (uInt) in->len);
        size_t cd, cd_len;

        deflate_to(in, &raw, -15);
        out->len = 0;
        put_zip_header(out, false, name, crc, raw.len, in->len);
        if (out->cap - out->len < raw.len + 1) {
                out->cap = out->len + raw.len + 4096;
                out->p = grow(out->p, out->cap);
        }
        memcpy(out->p + out->len, raw.p, raw.len);
        out->len += raw.len;
        cd = out->len;
        put_zip_header(out, true, name, crc, raw.len, in->len);
        cd_len = out->len - cd;
        put_le(out, 0x06054b50u, 4);    /* end of central directory */
        put_le(out, 0, 2);              /* this disk */
        put_le(out, 0, 2);              /* the disk with the directory */
        put_le(out, 1, 2);              /* entries on this disk */
        put_le(out, 1, 2);              /* entries */
        put_le(out, (uint32_t) cd_len, 4);
        put_le(out, (uint32_t) cd, 4);
        put_le(out, 0, 2);              /* comment length */
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
