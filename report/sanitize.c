/* sanitize.c - make any hostile string safe for an event field, a JSON value or a terminal
 *
 * One pass over the input decodes UTF-8 strictly (RFC 3629: no overlong forms, no surrogates,
 * nothing past U+10FFFF) and copies each acceptable character as is. What is not acceptable is
 * replaced, never dropped, so tampering stays visible:
 *   - a byte that does not start a valid sequence: U+FFFD, and decoding resumes at the next byte
 *     (so each invalid byte gives exactly one U+FFFD);
 *   - NUL: the two characters "\0";
 *   - TAB, CR, LF: a space (no field can fake a new line, a journal field or a log entry);
 *   - any other C0 control, DEL and every C1 control (U+0080..U+009F, U+0085 included; ESC, so
 *     no ANSI/OSC escape sequence survives): U+FFFD;
 *   - bidi embeddings, overrides and isolates (U+202A..U+202E, U+2066..U+2069, and U+061C, the
 *     Arabic letter mark), zero-width and direction marks (U+200B..U+200F), invisible operators
 *     (U+2060..U+2064), the line and paragraph separators U+2028, U+2029, and U+FEFF: U+FFFD.
 * Output stops before the first character that would not fit in cap - 1 bytes, so it is cut on
 * a character boundary and always NUL-terminated.
 *
 * SECURITY: the input is anything at all, of any length, and is only read within [0, len). The
 * output never exceeds cap bytes; dt_sanitize_dup() sizes its buffer before allocating. Pure
 * functions, no globals, never logs. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "report/sanitize.h"

static const char replacement[] = "\xef\xbf\xbd";     /* U+FFFD */

/* utf8_decode - decode one strictly valid UTF-8 sequence at s[0..len); returns its length
 * (1..4) and sets *cp, or 0 when s[0] does not start a valid sequence */
static size_t utf8_decode(const unsigned char *s, size_t len, uint32_t *cp) {
        unsigned char c = s[0], lo = 0x80, hi = 0xbf;
        size_t n, i;
        uint32_t v;

        if (c < 0x80) {
                *cp = c;
                return 1;
        }
        if (c >= 0xc2 && c <= 0xdf) {
                n = 2;
                v = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
                n = 3;
                v = c & 0x0f;
                if (c == 0xe0)
                        lo = 0xa0;              /* overlong below U+0800 */
                else if (c == 0xed)
                        hi = 0x9f;              /* surrogates U+D800..U+DFFF */
        } else if (c >= 0xf0 && c <= 0xf4) {
                n = 4;
                v = c & 0x07;
                if (c == 0xf0)
                        lo = 0x90;              /* overlong below U+10000 */
                else if (c == 0xf4)
                        hi = 0x8f;              /* past U+10FFFF */
        } else {
                return 0;                       /* 80..C1 (continuation, overlong), F5..FF */
        }
        if (len < n)
                return 0;
        for (i = 1; i < n; i++) {
                unsigned char b = s[i];

                if (b < lo || b > hi)
                        return 0;
                lo = 0x80;                      /* only the second byte has a narrower range */
                hi = 0xbf;
                v = (v << 6) | (b & 0x3f);
        }
        *cp = v;
        return n;
}

/* forbidden - whether a valid code point must not reach an event (see the list at the top) */
static int forbidden(uint32_t cp) {
        return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x061c ||
               (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x2028 && cp <= 0x202e) ||
               (cp >= 0x2060 && cp <= 0x2064) || (cp >= 0x2066 && cp <= 0x2069) ||
               cp == 0xfeff;
}

size_t dt_sanitize(const char *in, size_t len, char *out, size_t cap, bool *truncated) {
        const unsigned char *s = (const unsigned char *) in;
        size_t i = 0, o = 0;

        if (!out || cap == 0) {
                if (truncated)
                        *truncated = len > 0;
                return 0;
        }
        if (!in)
                len = 0;
        while (i < len) {
                const char *rep;
                size_t n, rlen;
                uint32_t cp = 0;

                n = utf8_decode(s + i, len - i, &cp);
                if (n == 0) {
                        n = 1;
                        rep = replacement;
                        rlen = 3;
                } else if (cp == 0) {
                        rep = "\\0";
                        rlen = 2;
                } else if (cp == '\t' || cp == '\r' || cp == '\n') {
                        rep = " ";
                        rlen = 1;
                } else if (forbidden(cp)) {
                        rep = replacement;
                        rlen = 3;
                } else {
                        rep = in + i;
                        rlen = n;
                }
                if (rlen > cap - 1 - o)
                        break;                  /* would not fit with the NUL: cut here */
                memcpy(out + o, rep, rlen);
                o += rlen;
                i += n;
        }
        out[o] = '\0';
        if (truncated)
                *truncated = i < len;
        return o;
}

char *dt_sanitize_dup(const char *in, size_t len, size_t max_bytes, bool *truncated) {
        size_t cap;
        char *out;

        /* every input byte becomes at most 3 output bytes (U+FFFD) */
        cap = len > SIZE_MAX / 3 ? SIZE_MAX : len * 3;
        if (cap > max_bytes)
                cap = max_bytes;
        if (cap == SIZE_MAX)
                return NULL;
        cap++;                                  /* the NUL */
        out = malloc(cap);
        if (!out)
                return NULL;
        (void) dt_sanitize(in, len, out, cap, truncated);
        return out;
}
