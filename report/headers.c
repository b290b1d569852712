/* headers.c - split a mail header block into fields and read the sender out of them
 *
 * dt_headers_split() walks the block line by line with memchr and explicit lengths: a line
 * that starts with a blank continues the field before it, "Name:" starts a field, an empty
 * line ends the block, anything else ends it early. Values are unfolded into their own copies,
 * capped at DT_HEADER_VALUE_MAX. dt_headers_from_block() then makes one pass over the fields
 * and keeps the ones attribution needs, decoding RFC 2047 words where the field allows them
 * and cleaning every string with dt_sanitize(). Received values are cut into tokens (words,
 * comments, <addresses>) and read clause by clause, as RFC 5321 section 4.4 lays them out.
 *
 * SECURITY: every byte comes from a stranger: the report's sender and, through it, whoever
 * wrote the original message. The block is capped at lim->header_bytes and lim->header_fields
 * before anything is kept; values, decoded text and Received hops have their own caps; every
 * scan moves forward only, so a 10,000-line Received chain or a 1 MB Subject costs linear
 * time. Encoded words are decoded only after fields are split, so "=0D=0A" inside one can
 * never start a field, and the result is sanitised before anyone sees it. Charsets are taken
 * from a short allow-list before iconv sees them. No sscanf, no strtok, no logging. */
#include <arpa/inet.h>
#include <errno.h>
#include <iconv.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gmime/gmime.h>

#include "report/headers.h"
#include "report/sanitize.h"

/* is_wsp - a folding blank: space or tab */
static bool is_wsp(char c) {
        return c == ' ' || c == '\t';
}

/* is_ftext - a byte allowed in a field name (RFC 5322 ftext) */
static bool is_ftext(unsigned char c) {
        return c >= 33 && c <= 126 && c != ':';
}

void dt_headers_trim(const char **s, size_t *len) {
        while (*len > 0 && (is_wsp(**s) || **s == '\r' || **s == '\n')) {
                (*s)++;
                (*len)--;
        }
        while (*len > 0 && (is_wsp((*s)[*len - 1]) || (*s)[*len - 1] == '\r' ||
                            (*s)[*len - 1] == '\n'))
                (*len)--;
}

/* mem_casestr - first case-insensitive occurrence of the NUL-free needle in h[0..hlen) */
static const char *mem_casestr(const char *h, size_t hlen, const char *needle) {
        size_t nlen = strlen(needle);

        if (nlen == 0 || hlen < nlen)
                return NULL;
        for (size_t i = 0; i + nlen <= hlen; i++)
                if (strncasecmp(h + i, needle, nlen) == 0)
                        return h + i;
        return NULL;
}

/* prefix_case - whether s[0..len) starts with the literal p, ignoring case */
static bool prefix_case(const char *s, size_t len, const char *p) {
        size_t plen = strlen(p);

        return len >= plen && strncasecmp(s, p, plen) == 0;
}

/* parse_uint - all of s[0..len) as a decimal number of at most 10 digits; -1 when it is not */
static int64_t parse_uint(const char *s, size_t len) {
        int64_t v = 0;

        if (len == 0 || len > 10)
                return -1;
        for (size_t i = 0; i < len; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -1;
                v = v * 10 + (s[i] - '0');
        }
        return v;
}

/* ---- splitting ---- */

struct dt_header_block *dt_headers_block_free(struct dt_header_block *b) {
        if (!b)
                return NULL;
        for (size_t i = 0; i < b->n; i++) {
                free(b->fields[i].name);
                free(b->fields[i].value);
        }
        free(b->fields);
        free(b);
        return NULL;
}

/* finish_field - unfold buf[vstart..vend) into f->value: drop each LF and a CR just before it,
 * trim the blanks at both ends, keep at most DT_HEADER_VALUE_MAX bytes */
static int finish_field(struct dt_header_field *f, const char *buf, size_t vstart, size_t vend,
                        unsigned *flags) {
        const char *s = buf + vstart;
        size_t len = vend - vstart, n = 0, total = 0;
        char *v;

        while (len > 0 && (is_wsp(*s) || *s == '\r' || *s == '\n')) {
                s++;
                len--;
        }
        v = malloc((len < DT_HEADER_VALUE_MAX ? len : DT_HEADER_VALUE_MAX) + 1);
        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < len; i++) {
                if (s[i] == '\n' || (s[i] == '\r' && i + 1 < len && s[i + 1] == '\n'))
                        continue;
                total++;
                if (n < DT_HEADER_VALUE_MAX)
                        v[n++] = s[i];
        }
        while (n > 0 && (is_wsp(v[n - 1]) || v[n - 1] == '\r'))
                n--;
        v[n] = '\0';
        if (total > DT_HEADER_VALUE_MAX)
                *flags |= DT_HB_TRUNCATED;
        f->value = v;
        f->value_len = n;
        f->raw_len = total;
        return 0;
}

/* dt_headers_split - see headers.h; the memchr window never passes header_bytes */
int dt_headers_split(const char *buf, size_t len, const struct dt_limits *lim,
                     struct dt_header_block **out, struct dt_error *err) {
        _cleanup_(dt_headers_block_freep) struct dt_header_block *b = NULL;
        size_t p = 0, cap = 0, vstart = 0, vend = 0, window;
        bool open = false;
        int r;

        b = calloc(1, sizeof *b);
        if (!b)
                return dt_error_set(err, -ENOMEM, DT_R_NOMEM, -1, "out of memory");
        b->end = len;
        b->flags |= DT_HB_NO_BLANK;
        while (p < len) {
                const char *eol;
                size_t line_end, next, cend, q;

                /* Look no further than the limit: a block with no line end costs header_bytes. */
                window = len - p;
                if ((uint64_t) p + window > (uint64_t) lim->header_bytes + 2)
                        window = (size_t) lim->header_bytes + 2 > p ? lim->header_bytes + 2 - p : 0;
                eol = memchr(buf + p, '\n', window);
                if (!eol && p + window < len)
                        return dt_error_set(err, -EFBIG, DT_R_HEADER_LIMIT, (int64_t) p,
                                            "header block longer than %u bytes",
                                            lim->header_bytes);
                line_end = eol ? (size_t) (eol - buf) : len;
                next = eol ? line_end + 1 : len;
                cend = line_end;
                if (cend > p && buf[cend - 1] == '\r')
                        cend--;
                if (cend == p) {                /* the empty line */
                        b->end = next;
                        b->flags &= ~DT_HB_NO_BLANK;
                        break;
                }
                if (line_end > lim->header_bytes)
                        return dt_error_set(err, -EFBIG, DT_R_HEADER_LIMIT, (int64_t) p,
                                            "header block longer than %u bytes",
                                            lim->header_bytes);
                if (is_wsp(buf[p])) {           /* continuation */
                        if (open)
                                vend = line_end;
                        else
                                b->flags |= DT_HB_ORPHAN;
                        p = next;
                        continue;
                }
                for (q = p; q < cend && is_ftext((unsigned char) buf[q]); q++)
                        ;
                size_t name_end = q;
                while (q < cend && is_wsp(buf[q]))
                        q++;
                if (name_end == p || q >= cend || buf[q] != ':') {
                        b->end = p;
                        b->flags &= ~DT_HB_NO_BLANK;
                        b->flags |= DT_HB_STOPPED;
                        break;
                }
                if (open) {
                        r = finish_field(&b->fields[b->n - 1], buf, vstart, vend, &b->flags);
                        if (r < 0)
                                return dt_error_set(err, r, DT_R_NOMEM, -1, "out of memory");
                        open = false;
                }
                if (b->n >= lim->header_fields)
                        return dt_error_set(err, -E2BIG, DT_R_HEADER_COUNT_LIMIT, (int64_t) p,
                                            "more than %u header fields", lim->header_fields);
                if (b->n == cap) {
                        size_t ncap = cap ? cap * 2 : 32;
                        struct dt_header_field *nf;

                        if (ncap > lim->header_fields)
                                ncap = lim->header_fields;
                        nf = reallocarray(b->fields, ncap, sizeof *nf);
                        if (!nf)
                                return dt_error_set(err, -ENOMEM, DT_R_NOMEM, -1, "out of memory");
                        b->fields = nf;
                        cap = ncap;
                }
                struct dt_header_field *f = &b->fields[b->n];
                *f = (struct dt_header_field) { .offset = p };
                f->name = strndup(buf + p, name_end - p);
                if (!f->name)
                        return dt_error_set(err, -ENOMEM, DT_R_NOMEM, -1, "out of memory");
                b->n++;
                open = true;
                vstart = q + 1;
                vend = line_end;
                p = next;
        }
        if (open) {
                r = finish_field(&b->fields[b->n - 1], buf, vstart, vend, &b->flags);
                if (r < 0)
                        return dt_error_set(err, r, DT_R_NOMEM, -1, "out of memory");
        }
        *out = TAKE_PTR(b);
        return 0;
}

/* dt_headers_find - linear from *iter, so a walk over all matches is O(fields) */
const struct dt_header_field *dt_headers_find(const struct dt_header_block *b, const char *name,
                                              size_t *iter) {
        for (size_t i = *iter; i < b->n; i++)
                if (strcasecmp(b->fields[i].name, name) == 0) {
                        *iter = i + 1;
                        return &b->fields[i];
                }
        *iter = b->n;
        return NULL;
}

/* ---- RFC 2047 ---- */

/* Charsets we hand to iconv; everything else comes out as raw bytes, then U+FFFD. */
static const char *const charsets_ok[] = {
        "iso-8859-1", "iso-8859-2", "iso-8859-3", "iso-8859-4", "iso-8859-5", "iso-8859-6",
        "iso-8859-7", "iso-8859-8", "iso-8859-9", "iso-8859-10", "iso-8859-13", "iso-8859-14",
        "iso-8859-15", "iso-8859-16", "windows-1250", "windows-1251", "windows-1252",
        "windows-1253", "windows-1254", "windows-1255", "windows-1256", "windows-1257",
        "windows-1258", "koi8-r", "koi8-u", "gb2312", "gbk", "gb18030", "big5", "shift_jis",
        "euc-jp", "iso-2022-jp", "euc-kr", "cp949", "tis-620", "utf-16", "utf-16be", "utf-16le",
};

/* charset_is_utf8 - charsets whose bytes go through as they are */
static bool charset_is_utf8(const char *cs) {
        return strcasecmp(cs, "utf-8") == 0 || strcasecmp(cs, "utf8") == 0 ||
               strcasecmp(cs, "us-ascii") == 0 || strcasecmp(cs, "ascii") == 0;
}

/* charset_allowed - the allow-list entry for cs (aliases mapped), or NULL */
static const char *charset_allowed(const char *cs) {
        if (strcasecmp(cs, "ks_c_5601-1987") == 0)
                return "cp949";
        if (strcasecmp(cs, "latin1") == 0)
                return "iso-8859-1";
        for (size_t i = 0; i < ELEMENTSOF(charsets_ok); i++)
                if (strcasecmp(cs, charsets_ok[i]) == 0)
                        return charsets_ok[i];
        return NULL;
}

struct outbuf {
        char *s;
        size_t n, cap;
        bool full;
};

/* out_put - append what fits, mark the buffer full when something did not */
static void out_put(struct outbuf *o, const char *s, size_t len) {
        size_t room = o->cap - o->n;

        if (len > room) {
                len = room;
                o->full = true;
        }
        memcpy(o->s + o->n, s, len);
        o->n += len;
}

/* hexval - a hex digit's value, or -1 */
static int hexval(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

/* b64val - a base64 character's value, or -1 */
static int b64val(char c) {
        if (c >= 'A' && c <= 'Z')
                return c - 'A';
        if (c >= 'a' && c <= 'z')
                return c - 'a' + 26;
        if (c >= '0' && c <= '9')
                return c - '0' + 52;
        if (c == '+')
                return 62;
        if (c == '/')
                return 63;
        return -1;
}

/* decode_word_bytes - the B or Q text t[0..len) into dst (room for len bytes); its length */
static size_t decode_word_bytes(char enc, const char *t, size_t len, char *dst) {
        size_t n = 0;

        if (enc == 'q' || enc == 'Q') {
                for (size_t i = 0; i < len; i++) {
                        if (t[i] == '_')
                                dst[n++] = ' ';
                        else if (t[i] == '=' && i + 2 < len && hexval(t[i + 1]) >= 0 &&
                                 hexval(t[i + 2]) >= 0) {
                                dst[n++] = (char) (hexval(t[i + 1]) * 16 + hexval(t[i + 2]));
                                i += 2;
                        } else
                                dst[n++] = t[i];
                }
                return n;
        }
        uint32_t acc = 0;
        int bits = 0;
        for (size_t i = 0; i < len; i++) {
                int v = b64val(t[i]);

                if (v < 0)
                        continue;       /* '=' padding and junk */
                acc = (acc << 6) | (uint32_t) v;
                bits += 6;
                if (bits >= 8) {
                        bits -= 8;
                        dst[n++] = (char) ((acc >> bits) & 0xff);
                }
        }
        return n;
}

struct conv {
        iconv_t cd;
        const char *cs;         /* the allow-list entry cd converts from, or NULL */
};

/* put_converted - bytes in charset cs to UTF-8 into o; unconvertible bytes go through raw */
static void put_converted(struct outbuf *o, struct conv *cv, const char *cs, const char *s,
                          size_t len) {
        const char *ok;

        if (charset_is_utf8(cs) || !(ok = charset_allowed(cs))) {
                out_put(o, s, len);
                return;
        }
        if (cv->cs != ok) {
                if (cv->cs)
                        (void) iconv_close(cv->cd);
                cv->cs = NULL;
                cv->cd = iconv_open("UTF-8", ok);
                if (cv->cd == (iconv_t) -1) {
                        out_put(o, s, len);
                        return;
                }
                cv->cs = ok;
        }
        (void) iconv(cv->cd, NULL, NULL, NULL, NULL);
        char *in = (char *) s;
        size_t inleft = len;
        while (inleft > 0 && !o->full) {
                char *op = o->s + o->n;
                size_t oleft = o->cap - o->n;
                size_t rc = iconv(cv->cd, &in, &inleft, &op, &oleft);

                o->n = (size_t) (op - o->s);
                if (rc != (size_t) -1)
                        break;
                if (errno == E2BIG) {
                        o->full = true;
                } else {                /* EILSEQ, EINVAL: pass one byte on raw, go on */
                        out_put(o, in, 1);
                        in++;
                        inleft--;
                        (void) iconv(cv->cd, NULL, NULL, NULL, NULL);
                }
        }
}

/* utf8_trim_partial - drop an incomplete UTF-8 sequence a cap left at the end of s[0..*n) */
static void utf8_trim_partial(const char *s, size_t *n) {
        size_t i = *n, back = 0;

        while (i > 0 && back < 4 && ((unsigned char) s[i - 1] & 0xc0) == 0x80) {
                i--;
                back++;
        }
        if (i == 0)
                return;
        unsigned char lead = (unsigned char) s[i - 1];
        size_t need = lead >= 0xf0 ? 3 : lead >= 0xe0 ? 2 : lead >= 0xc0 ? 1 : 0;
        if (need > back)
                *n = i - 1;
}

/* dt_headers_decode_text - one forward pass; see headers.h */
char *dt_headers_decode_text(const char *in, size_t len, size_t cap, size_t *out_len,
                             bool *truncated) {
        struct outbuf o = { .cap = cap };
        struct conv cv = { .cs = NULL };
        size_t p = 0, pending_ws = 0, ws_at = 0;
        bool after_word = false;
        char *tmp = NULL;

        o.s = malloc(cap + 1);
        if (!o.s)
                return NULL;
        while (p < len && !o.full) {
                if (in[p] == '=' && p + 1 < len && in[p + 1] == '?') {
                        size_t c = p + 2, e, t, w;
                        char cs[65];

                        /* =?charset?E?text?= ; the charset is short, the text has no '?' and no
                         * blank, so a failed attempt rescans at most the next attempt's 64 bytes
                         * and decoding stays linear */
                        while (c < len && c - (p + 2) < 64 && in[c] != '?' && !is_wsp(in[c]))
                                c++;
                        e = c + 1;
                        t = e + 2;
                        if (c == p + 2 || c >= len || in[c] != '?' || t > len ||
                            !memchr("bBqQ", in[e], 4) || in[e + 1] != '?')
                                goto literal;
                        for (w = t; w < len && in[w] != '?' && !is_wsp(in[w]) && in[w] != '\r' &&
                                    in[w] != '\n';
                             w++)
                                ;
                        if (w + 1 >= len || in[w] != '?' || in[w + 1] != '=')
                                goto literal;
                        memcpy(cs, in + p + 2, c - (p + 2));
                        cs[c - (p + 2)] = '\0';
                        char *star = strchr(cs, '*');   /* RFC 2231 language */
                        if (star)
                                *star = '\0';
                        free(tmp);
                        tmp = malloc(w - t + 1);
                        if (!tmp) {
                                free(o.s);
                                if (cv.cs)
                                        (void) iconv_close(cv.cd);
                                return NULL;
                        }
                        size_t dn = decode_word_bytes(in[e], in + t, w - t, tmp);
                        if (pending_ws > 0 && !after_word)
                                out_put(&o, in + ws_at, pending_ws);
                        pending_ws = 0;
                        put_converted(&o, &cv, cs, tmp, dn);
                        after_word = true;
                        p = w + 2;
                        continue;
                }
                if (is_wsp(in[p]) || in[p] == '\r' || in[p] == '\n') {
                        if (pending_ws == 0)
                                ws_at = p;
                        pending_ws++;
                        p++;
                        continue;
                }
        literal:
                if (pending_ws > 0)
                        out_put(&o, in + ws_at, pending_ws);
                pending_ws = 0;
                after_word = false;
                out_put(&o, in + p, 1);
                p++;
        }
        if (pending_ws > 0 && !o.full)
                out_put(&o, in + ws_at, pending_ws);
        if (o.full)
                utf8_trim_partial(o.s, &o.n);
        o.s[o.n] = '\0';
        free(tmp);
        if (cv.cs)
                (void) iconv_close(cv.cd);
        if (out_len)
                *out_len = o.n;
        if (truncated)
                *truncated = o.full;
        return o.s;
}

/* ---- dates ---- */

int dt_headers_parse_date(const char *s, size_t len, int64_t *out) {
        char buf[256];
        size_t n = 0;
        GDateTime *dt;

        dt_headers_trim(&s, &len);
        if (len == 0 || len >= sizeof buf)
                return -EINVAL;
        /* gmime reads "08:48:36.716" as no time at all: drop fractions of a second */
        for (size_t i = 0; i < len; i++) {
                if (s[i] == '\0')
                        return -EINVAL;
                if (s[i] == '.' && n >= 8 && buf[n - 3] == ':' && buf[n - 6] == ':' &&
                    i + 1 < len && s[i + 1] >= '0' && s[i + 1] <= '9') {
                        while (i + 1 < len && s[i + 1] >= '0' && s[i + 1] <= '9')
                                i++;
                        continue;
                }
                buf[n++] = s[i];
        }
        buf[n] = '\0';
        dt = g_mime_utils_header_decode_date(buf);
        if (!dt)
                return -EINVAL;
        *out = g_date_time_to_unix(dt);
        g_date_time_unref(dt);
        return 0;
}

/* ---- cleaning ---- */

/* keep - *dst = sanitised copy of s[0..len), at most cap bytes; flags DT_HDR_TRUNCATED */
static int keep(char **dst, const char *s, size_t len, size_t cap, unsigned *flags) {
        bool cut = false;
        char *c;

        dt_headers_trim(&s, &len);
        c = dt_sanitize_dup(s, len, cap, &cut);
        if (!c)
                return -ENOMEM;
        if (cut)
                *flags |= DT_HDR_TRUNCATED;
        free(*dst);
        *dst = c;
        return 0;
}

/* keep_decoded - as keep(), after RFC 2047 decoding */
static int keep_decoded(char **dst, const char *s, size_t len, size_t cap, unsigned *flags) {
        bool cut = false;
        size_t dl = 0;
        _cleanup_free_ char *d = dt_headers_decode_text(s, len, cap, &dl, &cut);

        if (!d)
                return -ENOMEM;
        if (cut)
                *flags |= DT_HDR_TRUNCATED;
        return keep(dst, d, dl, cap, flags);
}

void dt_headers_strip_angle(const char **s, size_t *len) {
        const char *lt, *gt;

        dt_headers_trim(s, len);
        lt = memchr(*s, '<', *len);
        if (!lt)
                return;
        gt = memchr(lt + 1, '>', (size_t) (*s + *len - lt - 1));
        if (!gt)
                return;
        *len = (size_t) (gt - lt - 1);
        *s = lt + 1;
}

/* ---- Received ---- */

struct tok {
        const char *s;
        size_t len;
        bool comment;           /* s is the inside of (...) */
};

/* next_tok - the next word, (comment) or <address> at *p in v[0..len); false at the end */
static bool next_tok(const char *v, size_t len, size_t *p, struct tok *t) {
        size_t i = *p;

        while (i < len && (is_wsp(v[i]) || v[i] == '\r' || v[i] == '\n' || v[i] == '\0'))
                i++;
        if (i >= len)
                return false;
        if (v[i] == '(') {
                size_t depth = 1, j = i + 1;

                while (j < len && depth > 0) {
                        if (v[j] == '\\' && j + 1 < len)
                                j++;
                        else if (v[j] == '(')
                                depth++;
                        else if (v[j] == ')')
                                depth--;
                        j++;
                }
                *t = (struct tok) { v + i + 1, (depth == 0 ? j - 1 : j) - (i + 1), true };
                *p = j;
                return true;
        }
        if (v[i] == '<') {
                const char *gt = memchr(v + i, '>', len - i);
                size_t j = gt ? (size_t) (gt - v) + 1 : len;

                *t = (struct tok) { v + i, j - i, false };
                *p = j;
                return true;
        }
        size_t j = i;
        while (j < len && !is_wsp(v[j]) && v[j] != '(' && v[j] != '\r' && v[j] != '\n' &&
               v[j] != '\0')
                j++;
        if (j == i)
                j++;            /* a lone ')' or similar */
        *t = (struct tok) { v + i, j - i, false };
        *p = j;
        return true;
}

/* dt_headers_received_clear - free a hop's strings and zero it (NULL-safe) */
void dt_headers_received_clear(struct dt_received *r) {
        if (!r)
                return;
        free(r->from_helo);
        free(r->from_host);
        free(r->from_ip);
        free(r->by_host);
        free(r->with);
        free(r->id);
        free(r->for_addr);
        *r = (struct dt_received) { 0 };
}

/* ip_ok - copy s[0..len) into buf (IPv6: prefix, IPv4 :port dropped) if it is an address */
static bool ip_ok(const char *s, size_t len, char *buf, size_t bufsz) {
        unsigned char a[16];
        const char *colon;

        if (prefix_case(s, len, "ipv6:")) {
                s += 5;
                len -= 5;
        }
        if (len == 0 || len >= bufsz)
                return false;
        memcpy(buf, s, len);
        buf[len] = '\0';
        if (inet_pton(AF_INET6, buf, a) == 1)
                return true;
        colon = memchr(buf, ':', len);
        if (colon)
                buf[colon - buf] = '\0';
        return inet_pton(AF_INET, buf, a) == 1;
}

/* bracket_ip - the address inside the first [...] of s[0..len), into buf */
static bool bracket_ip(const char *s, size_t len, char *buf, size_t bufsz) {
        const char *lb = memchr(s, '[', len), *rb;

        if (!lb)
                return false;
        rb = memchr(lb, ']', (size_t) (s + len - lb));
        if (!rb)
                return false;
        return ip_ok(lb + 1, (size_t) (rb - lb - 1), buf, bufsz);
}

/* word_len - bytes up to a blank, ")", "]", ";" or "," */
static size_t word_len(const char *s, size_t len) {
        size_t i = 0;

        while (i < len && !is_wsp(s[i]) && s[i] != ')' && s[i] != ']' && s[i] != ';' &&
               s[i] != ',')
                i++;
        return i;
}

/* host_word - whether s[0..len) looks like "host.name" or "user@host", not "unknown", "HELO" */
static bool host_word(const char *s, size_t len) {
        if (len == 0 || (len == 7 && strncasecmp(s, "unknown", 7) == 0) ||
            (len == 4 && (strncasecmp(s, "helo", 4) == 0 || strncasecmp(s, "ehlo", 4) == 0)))
                return false;
        for (size_t i = 0; i < len; i++)
                if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
                      (s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '-' ||
                      s[i] == '_' || s[i] == '@'))
                        return false;
        return true;
}

enum clause { C_NONE, C_FROM, C_BY, C_VIA, C_WITH, C_ID, C_FOR, _C_MAX };

/* keyword - which Received clause a token opens, C_NONE for other words */
static enum clause keyword(const struct tok *t) {
        static const char *const kw[] = { NULL, "from", "by", "via", "with", "id", "for" };

        if (t->comment)
                return C_NONE;
        for (size_t i = 1; i < ELEMENTSOF(kw); i++)
                if (t->len == strlen(kw[i]) && strncasecmp(t->s, kw[i], t->len) == 0)
                        return (enum clause) i;
        return C_NONE;
}

struct clauses {
        struct tok val[_C_MAX];
        struct tok com[_C_MAX];         /* the first comment after the clause's value */
        bool has_val[_C_MAX], has_com[_C_MAX];
};

/* set_tok - keep a hop token, cleaned and capped at DT_HEADERS_TOKEN_MAX */
static int set_tok(char **dst, const char *s, size_t len) {
        unsigned flags = 0;

        return keep(dst, s, len, DT_HEADERS_TOKEN_MAX, &flags);
}

/* dt_headers_parse_received - clauses first (from/by/via/with/id/for, each with the comment
 * after its value), then the from clause read in the Postfix, Exim, sendmail and Exchange shapes */
int dt_headers_parse_received(const char *v, size_t len, struct dt_received *out) {
        struct dt_received r = { 0 };
        struct clauses c = { 0 };
        size_t depth = 0, semi = len, p = 0;
        enum clause cur = C_NONE;
        bool want_val = false;
        struct tok t;
        char ip[64];
        int rr = -ENOMEM;

        /* the date follows the last ';' outside comments */
        for (size_t i = 0; i < len; i++) {
                if (v[i] == '\\' && depth > 0 && i + 1 < len)
                        i++;
                else if (v[i] == '(')
                        depth++;
                else if (v[i] == ')' && depth > 0)
                        depth--;
                else if (v[i] == ';' && depth == 0)
                        semi = i;
        }
        while (next_tok(v, semi, &p, &t)) {
                enum clause k = keyword(&t);

                if (k != C_NONE && !c.has_val[k] && (!want_val || cur == C_NONE)) {
                        cur = k;
                        want_val = true;
                        continue;
                }
                if (cur == C_NONE)
                        continue;
                if (want_val && !t.comment) {
                        c.val[cur] = t;
                        c.has_val[cur] = true;
                        want_val = false;
                } else if (t.comment && !want_val && !c.has_com[cur]) {
                        c.com[cur] = t;
                        c.has_com[cur] = true;
                }
        }

        if (c.has_val[C_FROM]) {
                struct tok T = c.val[C_FROM], C = c.com[C_FROM];
                bool has_c = c.has_com[C_FROM], t_bracket = T.len > 0 && T.s[0] == '[';
                const char *helo = has_c ? mem_casestr(C.s, C.len, "helo=") : NULL;
                size_t wl = has_c ? word_len(C.s, C.len) : 0;

                if (has_c && bracket_ip(C.s, C.len, ip, sizeof ip)) {
                        if (set_tok(&r.from_ip, ip, strlen(ip)) < 0)
                                goto fail;
                } else if (has_c && wl > 0 && ip_ok(C.s, wl, ip, sizeof ip)) {
                        if (set_tok(&r.from_ip, ip, strlen(ip)) < 0)
                                goto fail;
                } else if (t_bracket && bracket_ip(T.s, T.len, ip, sizeof ip)) {
                        if (set_tok(&r.from_ip, ip, strlen(ip)) < 0)
                                goto fail;
                }
                if (helo) {                     /* Exim: "from HOST ([IP] helo=NAME)" */
                        const char *h = helo + 5;
                        size_t hl = word_len(h, (size_t) (C.s + C.len - h));

                        if (set_tok(&r.from_helo, h, hl) < 0)
                                goto fail;
                        if (!t_bracket && set_tok(&r.from_host, T.s, T.len) < 0)
                                goto fail;
                } else {
                        if (set_tok(&r.from_helo, T.s, T.len) < 0)
                                goto fail;
                        if (has_c && wl > 0 && C.s[0] == '[') {
                                /* Exim, HELO matched: "from HOST ([IP])" */
                                if (!t_bracket && set_tok(&r.from_host, T.s, T.len) < 0)
                                        goto fail;
                        } else if (has_c && host_word(C.s, wl) && !ip_ok(C.s, wl, ip, sizeof ip)) {
                                /* Postfix, sendmail: "from HELO (HOST [IP])", "(user@HOST" */
                                const char *w = C.s;
                                const char *at = memchr(w, '@', wl);
                                if (at) {
                                        wl -= (size_t) (at + 1 - w);
                                        w = at + 1;
                                }
                                if (set_tok(&r.from_host, w, wl) < 0)
                                        goto fail;
                        }
                }
        }
        if (c.has_val[C_BY] && set_tok(&r.by_host, c.val[C_BY].s, c.val[C_BY].len) < 0)
                goto fail;
        if (c.has_val[C_WITH] && set_tok(&r.with, c.val[C_WITH].s, c.val[C_WITH].len) < 0)
                goto fail;
        if (c.has_val[C_ID]) {
                struct tok T = c.val[C_ID];
                while (T.len > 0 && (T.s[T.len - 1] == ';' || T.s[T.len - 1] == ','))
                        T.len--;
                if (set_tok(&r.id, T.s, T.len) < 0)
                        goto fail;
        }
        if (c.has_val[C_FOR]) {
                const char *s = c.val[C_FOR].s;
                size_t l = c.val[C_FOR].len;
                dt_headers_strip_angle(&s, &l);
                if (set_tok(&r.for_addr, s, l) < 0)
                        goto fail;
        }
        if (semi < len && dt_headers_parse_date(v + semi + 1, len - semi - 1, &r.date) == 0)
                r.has_date = true;
        *out = r;
        return 0;
fail:
        dt_headers_received_clear(&r);
        return rr;
}

/* local_hop - whether the hop v[0..len) (parsed as *r) is a local submission; fills *ls */
static int local_hop(const char *v, size_t len, const struct dt_received *r,
                     struct dt_local_submission *ls) {
        struct clauses c = { 0 };
        size_t p = 0;
        struct tok t;
        bool have_prev = false;
        static const char pf[] = "Postfix, from userid ";

        /* Find the comments after "by HOST" and after "with PROTO" again (cheap: hop capped). */
        enum clause cur = C_NONE;
        while (next_tok(v, len, &p, &t)) {
                enum clause k = keyword(&t);
                if (k == C_BY || k == C_WITH) {
                        cur = k;
                        have_prev = false;
                        continue;
                }
                if (k != C_NONE) {
                        cur = C_NONE;
                        continue;
                }
                if (cur != C_NONE && t.comment && have_prev && !c.has_com[cur]) {
                        c.com[cur] = t;
                        c.has_com[cur] = true;
                }
                have_prev = true;
        }
        if (c.has_com[C_BY] && prefix_case(c.com[C_BY].s, c.com[C_BY].len, pf)) {
                const char *d = c.com[C_BY].s + sizeof pf - 1;
                size_t dl = 0, rest = c.com[C_BY].len - (sizeof pf - 1);

                while (dl < rest && d[dl] >= '0' && d[dl] <= '9')
                        dl++;
                *ls = (struct dt_local_submission) { .mta = DT_LOCAL_POSTFIX,
                                                     .uid = parse_uint(d, dl) };
                return 1;
        }
        if (r->with && prefix_case(r->with, strlen(r->with), "local") && c.has_com[C_WITH] &&
            prefix_case(c.com[C_WITH].s, c.com[C_WITH].len, "Exim")) {
                *ls = (struct dt_local_submission) { .mta = DT_LOCAL_EXIM, .uid = -1 };
                return 1;
        }
        return 0;
}

/* ---- the sender headers ---- */

/* antiabuse_ids - "[47 12] / [47 12]" into two uid/gid pairs */
static void antiabuse_ids(const char *s, size_t len, struct dt_antiabuse *a) {
        int64_t *dst[4] = { &a->originator_uid, &a->originator_gid, &a->caller_uid,
                            &a->caller_gid };
        size_t k = 0, i = 0;

        while (i < len && k < 4) {
                if (s[i] >= '0' && s[i] <= '9') {
                        size_t j = i;
                        while (j < len && s[j] >= '0' && s[j] <= '9')
                                j++;
                        *dst[k++] = parse_uint(s + i, j - i);
                        i = j;
                } else
                        i++;
        }
}

/* antiabuse_line - one cPanel X-AntiAbuse line; the first of each kind wins */
static int antiabuse_line(struct dt_antiabuse *a, const char *v, size_t len, unsigned *flags) {
        static const struct {
                const char *prefix;
                size_t off;
        } keys[] = {
                { "Primary Hostname - ", offsetof(struct dt_antiabuse, primary_hostname) },
                { "Original Domain - ", offsetof(struct dt_antiabuse, original_domain) },
                { "Sender Address Domain - ",
                  offsetof(struct dt_antiabuse, sender_address_domain) },
        };
        static const char ids[] = "Originator/Caller UID/GID - ";

        a->present = true;
        for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                if (prefix_case(v, len, keys[i].prefix)) {
                        size_t pl = strlen(keys[i].prefix);
                        char **dst = (char **) ((char *) a + keys[i].off);
                        if (*dst)
                                return 0;
                        return keep(dst, v + pl, len - pl, DT_HEADERS_TOKEN_MAX, flags);
                }
        if (prefix_case(v, len, ids) && a->originator_uid < 0)
                antiabuse_ids(v + sizeof ids - 1, len - (sizeof ids - 1), a);
        return 0;
}

/* host_colon - "HOST: rest": the host's length (0 when there is no ": ") */
static size_t host_colon(const char *v, size_t len) {
        const char *c = memchr(v, ':', len);

        if (!c || c == v || (size_t) (c - v) + 1 >= len || !is_wsp(c[1]))
                return 0;
        for (const char *q = v; q < c; q++)
                if (is_wsp(*q))
                        return 0;
        return (size_t) (c - v);
}

/* sender_via - "HOST: authenticated_id: USER" (X-Get-Message-Sender-Via) */
static int sender_via(struct dt_headers *h, const char *v, size_t len) {
        size_t hl = host_colon(v, len);
        static const char aid[] = "authenticated_id:";
        const char *rest;
        size_t rl;

        if (hl == 0)
                return 0;
        if (keep(&h->sender_via_host, v, hl, DT_HEADERS_TOKEN_MAX, &h->flags) < 0)
                return -ENOMEM;
        rest = v + hl + 1;
        rl = len - hl - 1;
        dt_headers_trim(&rest, &rl);
        if (prefix_case(rest, rl, aid)) {
                rest += sizeof aid - 1;
                rl -= sizeof aid - 1;
                dt_headers_trim(&rest, &rl);
                return keep(&h->sender_via_user, rest, word_len(rest, rl), DT_HEADERS_TOKEN_MAX,
                            &h->flags);
        }
        return 0;
}

/* auth_warning - "HOST: USER set sender to ... using -f" (X-Authentication-Warning) */
static int auth_warning(struct dt_headers *h, const char *v, size_t len) {
        size_t hl = host_colon(v, len), ul, rl;
        const char *rest;

        if (hl == 0)
                return 0;
        rest = v + hl + 1;
        rl = len - hl - 1;
        dt_headers_trim(&rest, &rl);
        ul = word_len(rest, rl);
        if (ul == 0 || ul == rl)
                return 0;
        const char *after = rest + ul;
        size_t al = rl - ul;
        dt_headers_trim(&after, &al);
        if (!prefix_case(after, al, "set sender to") &&
            !prefix_case(after, al, "owned process doing"))
                return 0;
        if (keep(&h->auth_warning_host, v, hl, DT_HEADERS_TOKEN_MAX, &h->flags) < 0)
                return -ENOMEM;
        return keep(&h->auth_warning_user, rest, ul, DT_HEADERS_TOKEN_MAX, &h->flags);
}

/* php_originating - "UID:FILE" (X-PHP-Originating-Script) into php_uid and php_script */
static int php_originating(struct dt_headers *h, const char *v, size_t len) {
        const char *c;
        int64_t uid;

        dt_headers_trim(&v, &len);
        c = memchr(v, ':', len);
        if (!c)
                return 0;
        uid = parse_uint(v, (size_t) (c - v));
        if (uid < 0)
                return 0;
        h->php_uid = uid;
        return keep(&h->php_script, c + 1, (size_t) (v + len - c - 1), DT_HEADERS_TEXT_MAX,
                    &h->flags);
}

/* php_script - "www.example.com/path/x.php for 192.0.2.1" */
static int php_script(struct dt_headers *h, const char *v, size_t len) {
        const char *f = mem_casestr(v, len, " for "), *slash;
        size_t pl = f ? (size_t) (f - v) : len;

        dt_headers_trim(&v, &pl);
        slash = memchr(v, '/', pl);
        if (slash) {
                if (keep(&h->php_script_host, v, (size_t) (slash - v), DT_HEADERS_TOKEN_MAX,
                         &h->flags) < 0 ||
                    keep(&h->php_script_path, slash, (size_t) (v + pl - slash),
                         DT_HEADERS_TEXT_MAX, &h->flags) < 0)
                        return -ENOMEM;
        }
        if (f) {
                const char *ip = f + 5;
                size_t il = (size_t) (v + len - ip);
                dt_headers_trim(&ip, &il);
                return keep(&h->php_script_ip, ip, word_len(ip, il), DT_HEADERS_TOKEN_MAX,
                            &h->flags);
        }
        return 0;
}

/* dkim_tags - d= and s= of a DKIM-Signature tag list */
static int dkim_tags(struct dt_headers *h, const char *v, size_t len) {
        size_t i = 0;

        while (i < len) {
                const char *semi = memchr(v + i, ';', len - i);
                size_t end = semi ? (size_t) (semi - v) : len;
                const char *t = v + i;
                size_t tl = end - i;
                const char *eq;

                dt_headers_trim(&t, &tl);
                eq = memchr(t, '=', tl);
                if (eq) {
                        const char *name = t, *val = eq + 1;
                        size_t nl = (size_t) (eq - t), vl = tl - nl - 1;
                        dt_headers_trim(&name, &nl);
                        dt_headers_trim(&val, &vl);
                        if (nl == 1 && name[0] == 'd' && !h->dkim_domain &&
                            keep(&h->dkim_domain, val, vl, DT_HEADERS_TOKEN_MAX, &h->flags) < 0)
                                return -ENOMEM;
                        if (nl == 1 && name[0] == 's' && !h->dkim_selector &&
                            keep(&h->dkim_selector, val, vl, DT_HEADERS_TOKEN_MAX, &h->flags) < 0)
                                return -ENOMEM;
                }
                i = end + 1;
        }
        return 0;
}

/* ---- the whole block ---- */

const char *dt_headers_local_mta_name(enum dt_local_mta m) {
        switch (m) {
        case DT_LOCAL_POSTFIX:
                return "postfix";
        case DT_LOCAL_EXIM:
                return "exim";
        default:
                return NULL;
        }
}

/* dt_headers_free - NULL-safe, copes with a half-built struct; returns NULL */
struct dt_headers *dt_headers_free(struct dt_headers *h) {
        if (!h)
                return NULL;
        char **strs[] = {
                &h->message_id, &h->from, &h->to, &h->cc, &h->reply_to, &h->return_path,
                &h->subject, &h->date_text, &h->x_mailer, &h->user_agent, &h->dkim_domain,
                &h->dkim_selector, &h->authentication_results, &h->x_php_originating_script,
                &h->php_script, &h->x_php_script, &h->php_script_host, &h->php_script_path,
                &h->php_script_ip, &h->x_source, &h->x_source_args, &h->x_source_dir,
                &h->antiabuse.primary_hostname, &h->antiabuse.original_domain,
                &h->antiabuse.sender_address_domain, &h->sender_via, &h->sender_via_host,
                &h->sender_via_user, &h->authenticated_sender, &h->auth_warning,
                &h->auth_warning_host, &h->auth_warning_user, &h->local.user,
                &h->local.queue_id, &h->local.host,
        };
        for (size_t i = 0; i < ELEMENTSOF(strs); i++)
                free(*strs[i]);
        for (size_t i = 0; i < h->n_received; i++)
                dt_headers_received_clear(&h->received[i]);
        free(h->received);
        free(h);
        return NULL;
}

enum hname {
        H_MESSAGE_ID, H_FROM, H_TO, H_CC, H_REPLY_TO, H_RETURN_PATH, H_SUBJECT, H_DATE,
        H_X_MAILER, H_USER_AGENT, H_DKIM, H_AR, H_PHP_ORIG, H_PHP_SCRIPT, H_X_SOURCE,
        H_X_SOURCE_ARGS, H_X_SOURCE_DIR, H_ANTIABUSE, H_SENDER_VIA, H_AUTH_SENDER, H_AUTH_WARN,
        H_RECEIVED, _H_MAX,
};

static const char *const hnames[_H_MAX] = {
        [H_MESSAGE_ID] = "Message-ID",
        [H_FROM] = "From",
        [H_TO] = "To",
        [H_CC] = "Cc",
        [H_REPLY_TO] = "Reply-To",
        [H_RETURN_PATH] = "Return-Path",
        [H_SUBJECT] = "Subject",
        [H_DATE] = "Date",
        [H_X_MAILER] = "X-Mailer",
        [H_USER_AGENT] = "User-Agent",
        [H_DKIM] = "DKIM-Signature",
        [H_AR] = "Authentication-Results",
        [H_PHP_ORIG] = "X-PHP-Originating-Script",
        [H_PHP_SCRIPT] = "X-PHP-Script",
        [H_X_SOURCE] = "X-Source",
        [H_X_SOURCE_ARGS] = "X-Source-Args",
        [H_X_SOURCE_DIR] = "X-Source-Dir",
        [H_ANTIABUSE] = "X-AntiAbuse",
        [H_SENDER_VIA] = "X-Get-Message-Sender-Via",
        [H_AUTH_SENDER] = "X-Authenticated-Sender",
        [H_AUTH_WARN] = "X-Authentication-Warning",
        [H_RECEIVED] = "Received",
};

/* field - one field into h; the first of each kind wins (Received and X-AntiAbuse excepted) */
static int field(struct dt_headers *h, enum hname k, const struct dt_header_field *f) {
        const char *v = f->value;
        size_t len = f->value_len;
        int r;

        switch (k) {
        case H_MESSAGE_ID:
                if (h->message_id)
                        return 0;
                dt_headers_strip_angle(&v, &len);
                return keep(&h->message_id, v, len, DT_HEADERS_TEXT_MAX, &h->flags);
        case H_FROM:
                if (h->from) {
                        h->flags |= DT_HDR_MULTI_FROM;
                        return 0;
                }
                return keep_decoded(&h->from, v, len, DT_HEADERS_TEXT_MAX, &h->flags);
        case H_TO:
                return h->to ? 0 : keep_decoded(&h->to, v, len, DT_HEADERS_TEXT_MAX, &h->flags);
        case H_CC:
                return h->cc ? 0 : keep_decoded(&h->cc, v, len, DT_HEADERS_TEXT_MAX, &h->flags);
        case H_REPLY_TO:
                return h->reply_to ? 0 : keep_decoded(&h->reply_to, v, len, DT_HEADERS_TEXT_MAX,
                                                      &h->flags);
        case H_RETURN_PATH:
                if (h->return_path)
                        return 0;
                dt_headers_strip_angle(&v, &len);
                return keep(&h->return_path, v, len, DT_HEADERS_TEXT_MAX, &h->flags);
        case H_SUBJECT:
                if (h->subject)
                        return 0;
                h->subject_bytes = f->raw_len;
                if (f->raw_len > f->value_len)
                        h->flags |= DT_HDR_TRUNCATED;
                return keep_decoded(&h->subject, v, len, DT_HEADERS_TEXT_MAX, &h->flags);
        case H_DATE:
                if (h->date_text)
                        return 0;
                if (dt_headers_parse_date(v, len, &h->date) == 0)
                        h->has_date = true;
                return keep(&h->date_text, v, len, DT_HEADERS_TOKEN_MAX, &h->flags);
        case H_X_MAILER:
                return h->x_mailer ? 0 : keep(&h->x_mailer, v, len, DT_HEADERS_TEXT_MAX,
                                              &h->flags);
        case H_USER_AGENT:
                return h->user_agent ? 0 : keep(&h->user_agent, v, len, DT_HEADERS_TEXT_MAX,
                                                &h->flags);
        case H_DKIM:
                return h->dkim_domain || h->dkim_selector ? 0 : dkim_tags(h, v, len);
        case H_AR:
                return h->authentication_results ? 0 : keep(&h->authentication_results, v, len,
                                                            DT_HEADERS_LONG_MAX, &h->flags);
        case H_PHP_ORIG:
                if (h->x_php_originating_script)
                        return 0;
                r = keep(&h->x_php_originating_script, v, len, DT_HEADERS_TEXT_MAX, &h->flags);
                return r < 0 ? r : php_originating(h, v, len);
        case H_PHP_SCRIPT:
                if (h->x_php_script)
                        return 0;
                r = keep(&h->x_php_script, v, len, DT_HEADERS_TEXT_MAX, &h->flags);
                return r < 0 ? r : php_script(h, v, len);
        case H_X_SOURCE:
                return h->x_source ? 0 : keep(&h->x_source, v, len, DT_HEADERS_TEXT_MAX,
                                              &h->flags);
        case H_X_SOURCE_ARGS:
                return h->x_source_args ? 0 : keep(&h->x_source_args, v, len,
                                                   DT_HEADERS_LONG_MAX, &h->flags);
        case H_X_SOURCE_DIR:
                return h->x_source_dir ? 0 : keep(&h->x_source_dir, v, len, DT_HEADERS_TEXT_MAX,
                                                  &h->flags);
        case H_ANTIABUSE:
                return antiabuse_line(&h->antiabuse, v, len, &h->flags);
        case H_SENDER_VIA:
                if (h->sender_via)
                        return 0;
                r = keep(&h->sender_via, v, len, DT_HEADERS_TEXT_MAX, &h->flags);
                return r < 0 ? r : sender_via(h, v, len);
        case H_AUTH_SENDER:
                return h->authenticated_sender ? 0 : keep(&h->authenticated_sender, v, len,
                                                          DT_HEADERS_TEXT_MAX, &h->flags);
        case H_AUTH_WARN:
                if (h->auth_warning)
                        return 0;
                r = keep(&h->auth_warning, v, len, DT_HEADERS_TEXT_MAX, &h->flags);
                return r < 0 ? r : auth_warning(h, v, len);
        case H_RECEIVED:
                if (h->n_received >= DT_HEADERS_HOPS_MAX) {
                        h->received_dropped++;
                        h->flags |= DT_HDR_HOPS_DROPPED;
                        return 0;
                }
                r = dt_headers_parse_received(v, len, &h->received[h->n_received]);
                if (r < 0)
                        return r;
                struct dt_local_submission ls;
                if (h->local.mta == DT_LOCAL_NONE &&
                    local_hop(v, len, &h->received[h->n_received], &ls) > 0) {
                        const struct dt_received *hop = &h->received[h->n_received];
                        ls.hop = h->n_received;
                        if (hop->id && !(ls.queue_id = strdup(hop->id)))
                                return -ENOMEM;
                        h->local = ls;
                        if (hop->by_host && !(h->local.host = strdup(hop->by_host)))
                                return -ENOMEM;
                        if (ls.mta == DT_LOCAL_EXIM && hop->from_helo &&
                            !(h->local.user = strdup(hop->from_helo)))
                                return -ENOMEM;
                }
                h->n_received++;
                return 0;
        default:
                return 0;
        }
}

/* dt_headers_from_block - one pass over the fields; the local hop is the topmost one that
 * matches (forged hops sit below the genuine ones), X-Authentication-Warning only fills in */
int dt_headers_from_block(const struct dt_header_block *b, struct dt_headers **out,
                          struct dt_error *err) {
        _cleanup_(dt_headers_freep) struct dt_headers *h = NULL;
        size_t nrecv = 0;
        int r;

        h = calloc(1, sizeof *h);
        if (!h)
                return dt_error_set(err, -ENOMEM, DT_R_NOMEM, -1, "out of memory");
        h->php_uid = -1;
        h->local.uid = -1;
        h->antiabuse.originator_uid = h->antiabuse.originator_gid = -1;
        h->antiabuse.caller_uid = h->antiabuse.caller_gid = -1;
        h->n_fields = b->n;
        h->end = b->end;
        if (b->flags & (DT_HB_STOPPED | DT_HB_ORPHAN))
                h->flags |= DT_HDR_BLOCK_ODD;
        if (b->flags & DT_HB_TRUNCATED)
                h->flags |= DT_HDR_TRUNCATED;
        for (size_t i = 0; i < b->n; i++)
                if (strcasecmp(b->fields[i].name, "Received") == 0)
                        nrecv++;
        if (nrecv > 0) {
                h->received = calloc(nrecv < DT_HEADERS_HOPS_MAX ? nrecv : DT_HEADERS_HOPS_MAX,
                                     sizeof *h->received);
                if (!h->received)
                        return dt_error_set(err, -ENOMEM, DT_R_NOMEM, -1, "out of memory");
        }
        for (size_t i = 0; i < b->n; i++) {
                const char *name = b->fields[i].name;

                /* one pass; a handful of names, so a plain table walk costs O(fields) */
                for (size_t k = 0; k < _H_MAX; k++)
                        if (strcasecmp(name, hnames[k]) == 0) {
                                r = field(h, (enum hname) k, &b->fields[i]);
                                if (r < 0)
                                        return dt_error_set(err, r, DT_R_NOMEM, -1,
                                                            "out of memory");
                                break;
                        }
        }
        if (h->auth_warning_user && h->local.mta == DT_LOCAL_NONE) {
                h->local.mta = DT_LOCAL_WARNING;
                if (!(h->local.user = strdup(h->auth_warning_user)) ||
                    (h->auth_warning_host && !(h->local.host = strdup(h->auth_warning_host))))
                        return dt_error_set(err, -ENOMEM, DT_R_NOMEM, -1, "out of memory");
        } else if (h->auth_warning_user && !h->local.user) {
                if (!(h->local.user = strdup(h->auth_warning_user)))
                        return dt_error_set(err, -ENOMEM, DT_R_NOMEM, -1, "out of memory");
        }
        *out = TAKE_PTR(h);
        return 0;
}

/* dt_headers_parse - split, then extract */
int dt_headers_parse(const char *buf, size_t len, const struct dt_limits *lim,
                     struct dt_headers **out, struct dt_error *err) {
        _cleanup_(dt_headers_block_freep) struct dt_header_block *b = NULL;
        int r;

        r = dt_headers_split(buf, len, lim, &b, err);
        if (r < 0)
                return r;
        if (b->n == 0)
                return dt_error_set(err, -EBADMSG, DT_R_FAILURE_MALFORMED, 0,
                                    "no header fields");
        return dt_headers_from_block(b, out, err);
}
