/* genbuf.h - growing text buffers, gzip, zip and base64 for the test-data generators */
#ifndef DT_GENBUF_H
#define DT_GENBUF_H

#include <stddef.h>

struct buf {
        char *p;
        size_t len, cap;
};

/* bprintf - append formatted text to b, growing it; exits on allocation failure */
void bprintf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* gzip_buf - gzip in into out (replacing out's content); exits on failure */
void gzip_buf(const struct buf *in, struct buf *out);

/* zip_buf - a zip archive holding in as its one deflated file name (replacing out's content);
 * exits on failure */
void zip_buf(const char *name, const struct buf *in, struct buf *out);

/* base64_lines - RFC 2045 base64 of in, 76 columns, each line ended by eol ("\n" or "\r\n"),
 * appended to out */
void base64_lines(const struct buf *in, struct buf *out, const char *eol);

#endif
