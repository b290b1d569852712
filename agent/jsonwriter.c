/* jsonwriter.c - JSON text written straight into a growing buffer, byte for byte as json-c prints it
 *
 * json-c 0.16's json_escape_str() with JSON_C_TO_STRING_NOSLASHESCAPE is the model: a byte is
 * escaped when it is '"', '\\' or below 0x20 (short forms for \b \f \n \r \t, \u00xx with
 * lower-case hex for the rest); DEL and bytes from 0x80 pass as they are. Integers print as
 * json-c prints int64 and uint64 values: plain decimal. tests/test-jsonwriter.c compares the
 * output with json-c's own for every byte value and the integer edges. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/jsonutil.h"
#include "agent/jsonwriter.h"
#include "report/sanitize.h"

/* escapes[c] - 0 when byte c is written as is, else the letter after the backslash ('u' for
 * \u00xx) */
static const char escapes[256] = {
        ['\b'] = 'b', ['\f'] = 'f', ['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't',
        [0x00] = 'u', [0x01] = 'u', [0x02] = 'u', [0x03] = 'u', [0x04] = 'u', [0x05] = 'u',
        [0x06] = 'u', [0x07] = 'u', [0x0b] = 'u', [0x0e] = 'u', [0x0f] = 'u', [0x10] = 'u',
        [0x11] = 'u', [0x12] = 'u', [0x13] = 'u', [0x14] = 'u', [0x15] = 'u', [0x16] = 'u',
        [0x17] = 'u', [0x18] = 'u', [0x19] = 'u', [0x1a] = 'u', [0x1b] = 'u', [0x1c] = 'u',
        [0x1d] = 'u', [0x1e] = 'u', [0x1f] = 'u',
        ['"'] = '"', ['\\'] = '\\',
};

/* reserve - room for n more bytes and a NUL; false (and w failed) when out of memory */
static bool reserve(struct dt_jw *w, size_t n) {
        size_t cap;
        char *p;

        if (w->failed)
                return false;
        if (n < w->cap - w->len)
                return true;
        if (n > SIZE_MAX / 4 - w->len) {
                w->failed = true;
                return false;
        }
        cap = w->cap ? w->cap : 4096;
        while (cap - w->len <= n)
                cap *= 2;
        p = realloc(w->buf, cap);
        if (!p) {
                w->failed = true;
                return false;
        }
        w->buf = p;
        w->cap = cap;
        return true;
}

/* put - append n bytes */
static inline void put(struct dt_jw *w, const char *s, size_t n) {
        if (n >= w->cap - w->len && !reserve(w, n))
                return;
        memcpy(w->buf + w->len, s, n);
        w->len += n;
        w->buf[w->len] = '\0';
}

/* item - a value or key is about to be written: the comma before it, if it needs one */
static void item(struct dt_jw *w) {
        uint32_t bit = UINT32_C(1) << w->depth;

        if (w->after_key) {
                w->after_key = false;
                return;
        }
        if (w->depth > 0 && (w->filled & bit))
                put(w, ",", 1);
        w->filled |= bit;
}

void dt_jw_reset(struct dt_jw *w) {
        w->len = 0;
        if (w->buf)
                w->buf[0] = '\0';
        w->failed = false;
        w->after_key = false;
        w->depth = 0;
        w->filled = 0;
}

void dt_jw_done(struct dt_jw *w) {
        free(w->buf);
        free(w->scratch);
        *w = (struct dt_jw) {};
}

void dt_jw_open(struct dt_jw *w, char bracket) {
        item(w);
        if (w->depth + 1 >= DT_JW_DEPTH_MAX) {
                w->failed = true;
                return;
        }
        put(w, &bracket, 1);
        w->depth++;
        w->filled &= ~(UINT32_C(1) << w->depth);
}

void dt_jw_close(struct dt_jw *w, char bracket) {
        if (w->depth == 0) {
                w->failed = true;
                return;
        }
        put(w, &bracket, 1);
        w->depth--;
}

/* escaped - the quoted, escaped form of s[0..len); runs of plain bytes are copied at once */
static void escaped(struct dt_jw *w, const char *s, size_t len) {
        static const char hex[] = "0123456789abcdef";
        char u[6] = { '\\', 'u', '0', '0' };
        size_t i, run = 0;

        if (!reserve(w, len + 2))
                return;
        w->buf[w->len++] = '"';
        for (i = 0; i < len; i++) {
                char e = escapes[(unsigned char) s[i]];

                if (!e)
                        continue;
                put(w, s + run, i - run);
                run = i + 1;
                if (e == 'u') {
                        u[4] = hex[(unsigned char) s[i] >> 4];
                        u[5] = hex[(unsigned char) s[i] & 0xf];
                        put(w, u, 6);
                } else {
                        put(w, (const char[]) { '\\', e }, 2);
                }
        }
        put(w, s + run, len - run);
        put(w, "\"", 1);
}

void dt_jw_key(struct dt_jw *w, const char *key) {
        size_t n = strlen(key);

        item(w);
        if (!reserve(w, n + 3))
                return;
        w->buf[w->len++] = '"';
        memcpy(w->buf + w->len, key, n);
        w->len += n;
        memcpy(w->buf + w->len, "\":", 3);   /* with the NUL */
        w->len += 2;
        w->after_key = true;
}

void dt_jw_string_raw(struct dt_jw *w, const char *s, size_t len) {
        item(w);
        escaped(w, s, len);
}

void dt_jw_string(struct dt_jw *w, const char *s) {
        size_t len, n;

        if (!s) {
                dt_jw_null(w);
                return;
        }
        len = strlen(s);
        if (dt_json_plain(s, len)) {
                dt_jw_string_raw(w, s, len);
                return;
        }
        if (!w->scratch) {
                w->scratch = malloc(DT_JSON_STRING_MAX + 1);
                if (!w->scratch) {
                        w->failed = true;
                        return;
                }
        }
        n = dt_sanitize(s, len, w->scratch, DT_JSON_STRING_MAX + 1, NULL);
        dt_jw_string_raw(w, w->scratch, n);
}

void dt_jw_int64(struct dt_jw *w, int64_t v) {
        char b[24];
        int n = snprintf(b, sizeof b, "%" PRId64, v);

        item(w);
        put(w, b, (size_t) n);
}

void dt_jw_uint64(struct dt_jw *w, uint64_t v) {
        char b[24], *p = b + sizeof b;

        do {                            /* the hot one (counts): no snprintf */
                *--p = (char) ('0' + v % 10);
                v /= 10;
        } while (v);
        item(w);
        put(w, p, (size_t) (b + sizeof b - p));
}

void dt_jw_null(struct dt_jw *w) {
        item(w);
        put(w, "null", 4);
}

bool dt_jw_failed(const struct dt_jw *w) {
        return w->failed;
}
