/* unpack.c - turn an attachment's bytes into a pull stream of report XML
 *
 * The stream is a short chain of layers, each pulled by the one above it: a source (the borrowed
 * buffer, a caller's read function, or one libzip entry read with zip_fread), then at most two
 * gzip inflaters. Every layer can "peek" a small head of its output, which is how the layer
 * above is chosen by magic bytes; the peeked bytes are handed out again before new ones.
 *
 * SECURITY: the bytes come from any mailbox on the Internet. Nothing here trusts a label, a
 * declared size (gzip ISIZE, zip sizes) or an entry name. Output is produced a slice at a time
 * into the caller's buffer and counted at every decompressing layer against
 * limits->unpacked_bytes and, past limits->ratio_after_bytes, limits->unpack_ratio, so a bomb
 * costs one rejected message and a fixed amount of memory (a zlib window and a 16 KiB input
 * buffer per layer). Zip central directories are walked by hand, bounded, before libzip sees
 * the archive, to cap the entry count and to reject overlapping entries (the non-recursive zip
 * bomb) before any inflation. Nothing is written to disk; gzip headers are skipped by zlib
 * itself (no inflateGetHeader). Never logs. */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>
#include <zip.h>
#include <zlib.h>

#include "report/unpack.h"
#include "report/xmlguard.h"

#define PEEK_MAX 512            /* bytes of a layer's output looked at to choose the next one */
#define GZ_INBUF 16384          /* compressed bytes pulled from the layer below at a time */
#define GZ_MEMBERS_MAX 8        /* concatenated gzip members accepted in one stream */
#define LAYERS_MAX 3            /* source + two decompressing layers */

enum stream_kind {
        STREAM_MEM,
        STREAM_READER,
        STREAM_ZIP,
        STREAM_GZIP,
};

struct stream {
        enum stream_kind kind;
        struct dt_input *in;            /* owner: errors go to in->err */
        bool counted;                   /* output counted against the limits */
        uint64_t out_total;             /* bytes this layer has produced (peeked included) */

        uint8_t peek[PEEK_MAX];         /* head of the output, handed out again first */
        size_t peek_len, peek_pos;

        /* STREAM_MEM */
        const uint8_t *data;
        size_t len, pos;

        /* STREAM_READER */
        ssize_t (*read_fn)(void *ctx, void *buf, size_t n);
        void *ctx;

        /* STREAM_ZIP */
        zip_file_t *zf;

        /* STREAM_GZIP */
        struct stream *below;
        z_stream z;
        bool z_live;                    /* inflateInit2 succeeded: inflateEnd owed */
        bool below_eof;
        bool member_end;                /* a member just ended: look for another */
        bool done;
        unsigned members;
        uint64_t in_used;               /* bytes of the layer below consumed by inflate */
        uint8_t *inbuf;
};

struct dt_input {
        struct dt_limits lim;
        struct dt_error err;
        struct stream *layers[LAYERS_MAX];      /* layers[0] the source, last one on top */
        size_t n_layers;
        struct stream *outer;           /* first decompressing layer: its input is the ratio's base */
        uint64_t outer_fixed_in;        /* ... or, for zip, the entry's compressed size */
        zip_t *za;
        char *entry_name;
        char describe[16];
        uint64_t produced;
};

/* FAIL - record the first error of the stream and return its code (later ones are dropped) */
#define FAIL(in_, code_, reason_, off_, ...)                                             \
        ((in_)->err.code != 0 ? (in_)->err.code                                          \
                              : dt_error_set(&(in_)->err, (code_), (reason_), (off_), __VA_ARGS__))

/* sniff_xml - 1 when p looks like XML, 0 when not; more says the buffer is only a head, so a
 * head of nothing but whitespace may still turn into XML (answered 1, the parser decides) */
static int sniff_xml(const uint8_t *p, size_t len, bool more) {
        size_t i = 0;

        if (len >= 2 && ((p[0] == 0xff && p[1] == 0xfe) || (p[0] == 0xfe && p[1] == 0xff)))
                return 1;       /* UTF-16 BOM: libxml2 reads the rest */
        if (len >= 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf)
                i = 3;
        while (i < len && dt_xml_space(p[i]))
                i++;
        if (i == len)
                return more;
        return p[i] == '<';
}

/* dt_unpack_sniff - magic bytes first, then the XML shape over the whole buffer */
enum dt_format dt_unpack_sniff(const void *data, size_t len) {
        const uint8_t *p = data;

        if (!p || len == 0)
                return DT_FORMAT_UNKNOWN;
        if (len >= 2 && p[0] == 0x1f && p[1] == 0x8b)
                return DT_FORMAT_GZIP;
        if (len >= 4 && p[0] == 'P' && p[1] == 'K' &&
            ((p[2] == 3 && p[3] == 4) || (p[2] == 5 && p[3] == 6)))
                return DT_FORMAT_ZIP;
        if (sniff_xml(p, len, false))
                return DT_FORMAT_XML;
        return DT_FORMAT_UNKNOWN;
}

/* stream_free - release one layer, whatever state it reached; returns NULL */
static struct stream *stream_free(struct stream *s) {
        if (!s)
                return NULL;
        if (s->z_live)
                (void) inflateEnd(&s->z);
        if (s->zf)
                (void) zip_fclose(s->zf);
        free(s->inbuf);
        free(s);
        return NULL;
}

/* check_limits - fail once a layer's output passes the size cap or, past ratio_after_bytes,
 * the ratio to the compressed input consumed so far */
static int check_limits(struct dt_input *in, uint64_t total) {
        uint64_t base;

        if (total > in->lim.unpacked_bytes)
                return FAIL(in, -EFBIG, DT_R_DECOMPRESSED_SIZE, (int64_t) in->lim.unpacked_bytes,
                            "decompressed data exceeds %llu bytes",
                            (unsigned long long) in->lim.unpacked_bytes);
        if (!in->outer || in->lim.unpack_ratio == 0 || total <= in->lim.ratio_after_bytes)
                return 0;
        base = in->outer->kind == STREAM_GZIP ? in->outer->in_used : in->outer_fixed_in;
        if (base == 0)
                base = 1;
        if (base <= UINT64_MAX / in->lim.unpack_ratio && total > base * in->lim.unpack_ratio)
                return FAIL(in, -EFBIG, DT_R_DECOMPRESSED_RATIO, (int64_t) total,
                            "decompression ratio exceeds %u:1 (%llu bytes from %llu)",
                            in->lim.unpack_ratio, (unsigned long long) total,
                            (unsigned long long) base);
        return 0;
}

static ssize_t gz_read(struct stream *s, uint8_t *buf, size_t n);
static ssize_t zip_stream_read(struct stream *s, uint8_t *buf, size_t n);

/* raw_read - new output of one layer, peek buffer aside; counted against the limits */
static ssize_t raw_read(struct stream *s, uint8_t *buf, size_t n) {
        struct dt_input *in = s->in;
        ssize_t r;
        int k;

        if (in->err.code != 0)
                return in->err.code;
        /* read at most one byte past the limit, so the count notices it; written without "+ 1"
         * on the room, which wraps when the limit is UINT64_MAX */
        if (s->counted && n > 1 && s->out_total < in->lim.unpacked_bytes &&
            in->lim.unpacked_bytes - s->out_total < n - 1)
                n = (size_t) (in->lim.unpacked_bytes - s->out_total) + 1;
        if (n > SSIZE_MAX)
                n = SSIZE_MAX;

        switch (s->kind) {
        case STREAM_MEM:
                if (n > s->len - s->pos)
                        n = s->len - s->pos;
                memcpy(buf, s->data + s->pos, n);
                s->pos += n;
                r = (ssize_t) n;
                break;
        case STREAM_READER:
                r = s->read_fn(s->ctx, buf, n);
                if (r < 0) {
                        int e = r < -INT_MAX ? EIO : (int) -r;

                        errno = e;      /* for %m */
                        return FAIL(in, -e, DT_R_IO, (int64_t) s->out_total, "read failed: %m");
                }
                if ((size_t) r > n)
                        return FAIL(in, -EIO, DT_R_IO, (int64_t) s->out_total,
                                    "read function returned more than asked");
                break;
        case STREAM_ZIP:
                r = zip_stream_read(s, buf, n);
                break;
        case STREAM_GZIP:
                r = gz_read(s, buf, n);
                break;
        default:
                return FAIL(in, -EINVAL, DT_R_IO, -1, "bad stream");
        }
        if (r < 0)
                return in->err.code != 0 ? in->err.code
                                         : FAIL(in, (int) r, DT_R_IO, -1, "read failed");
        s->out_total += (uint64_t) r;
        if (s->counted) {
                k = check_limits(in, s->out_total);
                if (k < 0)
                        return k;
        }
        return r;
}

/* stream_read - up to n bytes of a layer's output: the peeked head first, then new bytes */
static ssize_t stream_read(struct stream *s, uint8_t *buf, size_t n) {
        if (s->peek_pos < s->peek_len) {
                size_t k = s->peek_len - s->peek_pos;

                if (k > n)
                        k = n;
                memcpy(buf, s->peek + s->peek_pos, k);
                s->peek_pos += k;
                return (ssize_t) k;
        }
        return raw_read(s, buf, n);
}

/* stream_peek - fill the head buffer (up to PEEK_MAX bytes, fewer at end); <0 on error */
static int stream_peek(struct stream *s) {
        while (s->peek_len < sizeof s->peek) {
                ssize_t r = raw_read(s, s->peek + s->peek_len, sizeof s->peek - s->peek_len);

                if (r < 0)
                        return (int) r;
                if (r == 0)
                        break;
                s->peek_len += (size_t) r;
        }
        return 0;
}

/* stream_new - a zeroed layer of kind for in; NULL when out of memory */
static struct stream *stream_new(struct dt_input *in, enum stream_kind kind) {
        struct stream *s = calloc(1, sizeof *s);

        if (!s)
                return NULL;
        s->kind = kind;
        s->in = in;
        s->counted = true;
        return s;
}

/* push_layer - put s on top of in's chain (in owns it from here, even on failure) */
static int push_layer(struct dt_input *in, struct stream *s) {
        if (!s)
                return FAIL(in, -ENOMEM, DT_R_NOMEM, -1, "out of memory");
        if (in->n_layers >= LAYERS_MAX) {
                stream_free(s);
                return FAIL(in, -EBADMSG, DT_R_NESTED_ARCHIVE, -1, "too many layers");
        }
        in->layers[in->n_layers++] = s;
        return 0;
}

/* top - the layer dt_input_read pulls from */
static struct stream *top(const struct dt_input *in) {
        return in->n_layers > 0 ? in->layers[in->n_layers - 1] : NULL;
}

/* input_new - an empty stream with a copy of lim */
static struct dt_input *input_new(const struct dt_limits *lim) {
        struct dt_input *in = calloc(1, sizeof *in);

        if (!in)
                return NULL;
        in->lim = lim ? *lim : dt_limits_default;
        dt_error_clear(&in->err);
        in->err.code = 0;
        return in;
}

/* gz_fill - pull more compressed bytes from below, keeping the unconsumed ones; 0 or <0 */
static int gz_fill(struct stream *s) {
        size_t keep = s->z.avail_in;
        ssize_t r;

        if (s->below_eof)
                return 0;
        if (keep > 0 && s->z.next_in != s->inbuf)
                memmove(s->inbuf, s->z.next_in, keep);
        r = stream_read(s->below, s->inbuf + keep, GZ_INBUF - keep);
        if (r < 0)
                return (int) r;
        if (r == 0)
                s->below_eof = true;
        s->z.next_in = s->inbuf;
        s->z.avail_in = (uInt) (keep + (size_t) r);
        return 0;
}

/* gz_next_member - after a member's end: another member follows (1), or the stream ends here
 * and whatever follows is ignored trailing garbage (0), or <0 */
static int gz_next_member(struct stream *s) {
        struct dt_input *in = s->in;
        int r;

        while (s->z.avail_in < 2 && !s->below_eof) {
                r = gz_fill(s);
                if (r < 0)
                        return r;
        }
        if (s->z.avail_in < 2 || s->z.next_in[0] != 0x1f || s->z.next_in[1] != 0x8b)
                return 0;       /* e.g. the CRLF some reporters append (Mimecast) */
        if (s->members >= GZ_MEMBERS_MAX)
                return FAIL(in, -EBADMSG, DT_R_GZIP_MALFORMED, (int64_t) s->in_used,
                            "more than %d gzip members", GZ_MEMBERS_MAX);
        if (inflateReset(&s->z) != Z_OK)
                return FAIL(in, -EBADMSG, DT_R_GZIP_MALFORMED, (int64_t) s->in_used,
                            "cannot reset inflater");
        return 1;
}

/* gz_read - inflate into buf until some output, the end, or an error */
static ssize_t gz_read(struct stream *s, uint8_t *buf, size_t n) {
        struct dt_input *in = s->in;
        uInt before;
        size_t got;
        int r, zr;

        if (n > UINT_MAX)
                n = UINT_MAX;
        for (;;) {
                if (s->done)
                        return 0;
                if (s->member_end) {
                        r = gz_next_member(s);
                        if (r < 0)
                                return r;
                        s->member_end = false;
                        if (r == 0) {
                                s->done = true;
                                return 0;
                        }
                }
                if (s->z.avail_in == 0 && !s->below_eof) {
                        r = gz_fill(s);
                        if (r < 0)
                                return r;
                }
                before = s->z.avail_in;
                s->z.next_out = buf;
                s->z.avail_out = (uInt) n;
                zr = inflate(&s->z, Z_NO_FLUSH);
                s->in_used += before - s->z.avail_in;
                got = n - s->z.avail_out;
                switch (zr) {
                case Z_STREAM_END:
                        s->members++;
                        s->member_end = true;
                        if (got > 0)
                                return (ssize_t) got;
                        break;
                case Z_OK:
                        if (got > 0)
                                return (ssize_t) got;
                        break;
                case Z_BUF_ERROR:
                        if (got > 0)
                                return (ssize_t) got;
                        if (s->z.avail_in == 0 && s->below_eof)
                                return FAIL(in, -EBADMSG, DT_R_TRUNCATED, (int64_t) s->in_used,
                                            "gzip stream is truncated");
                        if (s->z.avail_in > 0)  /* no progress with input and room: give up */
                                return FAIL(in, -EBADMSG, DT_R_GZIP_MALFORMED,
                                            (int64_t) s->in_used, "gzip inflater is stuck");
                        break;
                case Z_MEM_ERROR:
                        return FAIL(in, -ENOMEM, DT_R_NOMEM, (int64_t) s->in_used,
                                    "out of memory in zlib");
                case Z_DATA_ERROR:
                        /* zlib's own words for a trailer that does not match the data */
                        if (s->z.msg && (strcmp(s->z.msg, "incorrect data check") == 0 ||
                                         strcmp(s->z.msg, "incorrect length check") == 0))
                                return FAIL(in, -EBADMSG, DT_R_BAD_CRC, (int64_t) s->in_used,
                                            "gzip %s", s->z.msg);
                        return FAIL(in, -EBADMSG, DT_R_GZIP_MALFORMED, (int64_t) s->in_used,
                                    "gzip data is damaged: %s", s->z.msg ? s->z.msg : "error");
                default:
                        return FAIL(in, -EBADMSG, DT_R_GZIP_MALFORMED, (int64_t) s->in_used,
                                    "gzip data is damaged: %s", s->z.msg ? s->z.msg : "error");
                }
        }
}

/* push_gzip - an inflater over the current top layer */
static int push_gzip(struct dt_input *in) {
        struct stream *s = stream_new(in, STREAM_GZIP);
        int r;

        r = push_layer(in, s);
        if (r < 0)
                return r;
        s->below = in->layers[in->n_layers - 2];
        s->inbuf = malloc(GZ_INBUF);
        if (!s->inbuf)
                return FAIL(in, -ENOMEM, DT_R_NOMEM, -1, "out of memory");
        if (inflateInit2(&s->z, 16 + MAX_WBITS) != Z_OK)   /* gzip only: we saw its magic */
                return FAIL(in, -ENOMEM, DT_R_NOMEM, -1, "cannot start zlib");
        s->z_live = true;
        if (!in->outer)
                in->outer = s;
        return 0;
}

/* Zip: what we read ourselves from the central directory, before libzip opens the archive. */
struct zip_span {
        uint64_t start, end;    /* local header to end of compressed data */
};

/* le16, le32, le64 - little-endian fields of zip records; callers check bounds */
static uint16_t le16(const uint8_t *p) {
        return (uint16_t) (p[0] | (p[1] << 8));
}

static uint32_t le32(const uint8_t *p) {
        return (uint32_t) p[0] | ((uint32_t) p[1] << 8) | ((uint32_t) p[2] << 16) |
               ((uint32_t) p[3] << 24);
}

static uint64_t le64(const uint8_t *p) {
        return (uint64_t) le32(p) | ((uint64_t) le32(p + 4) << 32);
}

/* zip64_fields - replace the 0xffffffff central sizes/offset with the ZIP64 extra's values */
static int zip64_fields(const uint8_t *x, size_t xlen, bool need_usize, uint64_t *csize,
                        uint64_t *offset) {
        while (xlen >= 4) {
                uint16_t id = le16(x), dlen = le16(x + 2);
                size_t i = 0;

                if ((size_t) dlen > xlen - 4)
                        return -EBADMSG;
                if (id == 0x0001) {
                        const uint8_t *d = x + 4;

                        if (need_usize)
                                i += 8;
                        if (*csize == UINT32_MAX) {
                                if (i + 8 > dlen)
                                        return -EBADMSG;
                                *csize = le64(d + i);
                                i += 8;
                        }
                        if (*offset == UINT32_MAX) {
                                if (i + 8 > dlen)
                                        return -EBADMSG;
                                *offset = le64(d + i);
                        }
                        return 0;
                }
                x += 4 + dlen;
                xlen -= 4 + (size_t) dlen;
        }
        return -EBADMSG;
}

/* zip_walk - find the end record, cap the entry count and check that no two entries' local
 * header + data overlap; all reads bounded by len. Fills in->err on failure. */
static int zip_walk(struct dt_input *in, const uint8_t *p, size_t len, uint64_t *ret_n) {
        struct zip_span spans[64];
        uint64_t n, cd_off, cd_size, pos;
        size_t eocd = 0, i, j, lo;
        bool found = false;

        if (len < 22)
                return FAIL(in, -EBADMSG, DT_R_ZIP_MALFORMED, 0, "zip archive is too short");
        /* every plausible end record in the comment-sized tail (right behind its central
         * directory or its ZIP64 locator): libzip might pick another one than we do, so two
         * of them make the archive ambiguous. A stored archive inside an entry does not count:
         * its directory offset is relative to where it starts, not to us. */
        lo = len - 22 > 0xffff ? len - 22 - 0xffff : 0;
        for (i = len - 22 + 1; i-- > lo;) {
                const uint8_t *e = p + i;

                if (memcmp(e, "PK\5\6", 4) != 0 || i + 22 + le16(e + 20) > len)
                        continue;
                if ((i < 20 || memcmp(e - 20, "PK\6\7", 4) != 0) &&
                    (uint64_t) le32(e + 16) + le32(e + 12) != i)
                        continue;
                if (found)
                        return FAIL(in, -EBADMSG, DT_R_ZIP_AMBIGUOUS, (int64_t) i,
                                    "zip archive has two end of central directory records");
                found = true;
                eocd = i;
        }
        if (!found)
                return FAIL(in, -EBADMSG, DT_R_ZIP_MALFORMED, 0,
                            "zip end of central directory not found");
        if (le16(p + eocd + 4) != 0 || le16(p + eocd + 6) != 0)
                return FAIL(in, -EOPNOTSUPP, DT_R_ZIP_UNSUPPORTED, (int64_t) eocd,
                            "multi-disk zip archive");
        n = le16(p + eocd + 10);
        cd_size = le32(p + eocd + 12);
        cd_off = le32(p + eocd + 16);
        if (n == 0xffff || cd_size == UINT32_MAX || cd_off == UINT32_MAX) {
                const uint8_t *loc, *e;
                uint64_t e_off;

                if (eocd < 20 || memcmp(p + eocd - 20, "PK\6\7", 4) != 0)
                        return FAIL(in, -EBADMSG, DT_R_ZIP_MALFORMED, (int64_t) eocd,
                                    "zip64 locator missing");
                loc = p + eocd - 20;
                e_off = le64(loc + 8);
                if (e_off > eocd - 20 || eocd - 20 - e_off < 56 ||
                    memcmp(p + e_off, "PK\6\6", 4) != 0)
                        return FAIL(in, -EBADMSG, DT_R_ZIP_MALFORMED, (int64_t) eocd,
                                    "zip64 end record missing");
                e = p + e_off;
                n = le64(e + 32);
                cd_size = le64(e + 40);
                cd_off = le64(e + 48);
        }
        if (n == 0)
                return FAIL(in, -ENODATA, DT_R_EMPTY, 0, "zip archive has no entries");
        if (n > in->lim.zip_entries || n > ELEMENTSOF(spans))
                return FAIL(in, -E2BIG, DT_R_ZIP_ENTRY_LIMIT, (int64_t) eocd,
                            "zip archive has %llu entries, more than %u",
                            (unsigned long long) n,
                            in->lim.zip_entries < ELEMENTSOF(spans) ? in->lim.zip_entries
                                                                   : (unsigned) ELEMENTSOF(spans));
        if (cd_off > len || cd_size > len - cd_off)
                return FAIL(in, -EBADMSG, DT_R_ZIP_MALFORMED, (int64_t) eocd,
                            "zip central directory lies outside the archive");

        pos = cd_off;
        for (i = 0; i < n; i++) {
                const uint8_t *c = p + pos, *l;
                uint64_t csize, off, end;
                size_t nl, xl, cl;

                if (cd_off + cd_size - pos < 46 || memcmp(c, "PK\1\2", 4) != 0)
                        return FAIL(in, -EBADMSG, DT_R_ZIP_MALFORMED, (int64_t) pos,
                                    "zip central directory entry %zu is damaged", i);
                csize = le32(c + 20);
                nl = le16(c + 28);
                xl = le16(c + 30);
                cl = le16(c + 32);
                off = le32(c + 42);
                if (cd_off + cd_size - pos - 46 < nl + xl + cl)
                        return FAIL(in, -EBADMSG, DT_R_ZIP_MALFORMED, (int64_t) pos,
                                    "zip central directory entry %zu is damaged", i);
                if ((csize == UINT32_MAX || off == UINT32_MAX) &&
                    zip64_fields(c + 46 + nl, xl, le32(c + 24) == UINT32_MAX, &csize, &off) < 0)
                        return FAIL(in, -EBADMSG, DT_R_ZIP_MALFORMED, (int64_t) pos,
                                    "zip64 extra field of entry %zu is damaged", i);
                if (off > len || len - off < 30 || memcmp(p + off, "PK\3\4", 4) != 0)
                        return FAIL(in, -EBADMSG, DT_R_ZIP_MALFORMED, (int64_t) off,
                                    "zip local header of entry %zu is missing", i);
                l = p + off;
                end = off + 30 + le16(l + 26) + le16(l + 28);
                if (end > len || csize > len - end)
                        return FAIL(in, -EBADMSG, DT_R_ZIP_MALFORMED, (int64_t) off,
                                    "zip entry %zu runs past the archive", i);
                spans[i].start = off;
                spans[i].end = end + csize;
                pos += 46 + nl + xl + cl;
        }

        /* insertion sort: n is at most 64 */
        for (i = 1; i < n; i++) {
                struct zip_span t = spans[i];

                for (j = i; j > 0 && spans[j - 1].start > t.start; j--)
                        spans[j] = spans[j - 1];
                spans[j] = t;
        }
        for (i = 1; i < n; i++)
                if (spans[i].start < spans[i - 1].end)
                        return FAIL(in, -EBADMSG, DT_R_ZIP_AMBIGUOUS, (int64_t) spans[i].start,
                                    "zip entries overlap (OVERLAP)");
        *ret_n = n;
        return 0;
}

/* zip_fail - turn a libzip error into ours */
static int zip_fail(struct dt_input *in, zip_error_t *ze, int64_t off, const char *what) {
        int zep = zip_error_code_zip(ze);
        const char *msg = zip_error_strerror(ze);

        switch (zep) {
        case ZIP_ER_MEMORY:
                return FAIL(in, -ENOMEM, DT_R_NOMEM, off, "out of memory in libzip");
        case ZIP_ER_CRC:
                return FAIL(in, -EBADMSG, DT_R_BAD_CRC, off, "%s: %s", what, msg);
        case ZIP_ER_INCONS:
                return FAIL(in, -EBADMSG, DT_R_ZIP_AMBIGUOUS, off, "%s: %s", what, msg);
        case ZIP_ER_COMPNOTSUPP:
        case ZIP_ER_ENCRNOTSUPP:
        case ZIP_ER_NOPASSWD:
        case ZIP_ER_WRONGPASSWD:
        case ZIP_ER_MULTIDISK:
                return FAIL(in, -EOPNOTSUPP, DT_R_ZIP_UNSUPPORTED, off, "%s: %s", what, msg);
        case ZIP_ER_EOF:
                return FAIL(in, -EBADMSG, DT_R_TRUNCATED, off, "%s: %s", what, msg);
        default:
                return FAIL(in, -EBADMSG, DT_R_ZIP_MALFORMED, off, "%s: %s", what, msg);
        }
}

/* zip_stream_read - zip_fread of the chosen entry */
static ssize_t zip_stream_read(struct stream *s, uint8_t *buf, size_t n) {
        zip_int64_t r = zip_fread(s->zf, buf, n);

        if (r < 0)
                return zip_fail(s->in, zip_file_get_error(s->zf), (int64_t) s->out_total,
                                "cannot read zip entry");
        return (ssize_t) r;
}

/* ends_xml - name ends in ".xml", any case */
static bool ends_xml(const char *name) {
        size_t l = strlen(name);

        return l >= 4 && strcasecmp(name + l - 4, ".xml") == 0;
}

/* entry_supported - stored or deflated, not encrypted */
static bool entry_supported(const zip_stat_t *st) {
        if ((st->valid & ZIP_STAT_ENCRYPTION_METHOD) && st->encryption_method != ZIP_EM_NONE)
                return false;
        if (!(st->valid & ZIP_STAT_COMP_METHOD))
                return false;
        return st->comp_method == ZIP_CM_STORE || st->comp_method == ZIP_CM_DEFLATE;
}

/* entry_sniffs - the entry's first bytes look like XML or gzip (reads at most PEEK_MAX) */
static bool entry_sniffs(zip_t *za, zip_uint64_t i) {
        uint8_t head[PEEK_MAX];
        size_t got = 0;
        zip_file_t *zf;
        enum dt_format f;

        zf = zip_fopen_index(za, i, 0);
        if (!zf)
                return false;
        while (got < sizeof head) {
                zip_int64_t r = zip_fread(zf, head + got, sizeof head - got);

                if (r <= 0)
                        break;
                got += (size_t) r;
        }
        (void) zip_fclose(zf);
        if (got >= 2 && head[0] == 0x1f && head[1] == 0x8b)
                return true;
        f = dt_unpack_sniff(head, got);
        return f == DT_FORMAT_XML || (got == sizeof head && sniff_xml(head, got, true));
}

/* open_zip - check the archive, open it from memory with libzip, pick the report entry and push
 * a layer that reads it */
static int open_zip(struct dt_input *in, const uint8_t *data, size_t len) {
        zip_source_t *src;
        zip_error_t ze;
        zip_stat_t st;
        zip_uint64_t i, pick = 0, n_cand = 0;
        uint64_t n;
        struct stream *s;
        const char *name;
        int r;

        r = zip_walk(in, data, len, &n);
        if (r < 0)
                return r;

        zip_error_init(&ze);
        src = zip_source_buffer_create(data, len, 0, &ze);
        if (!src) {
                r = zip_fail(in, &ze, -1, "cannot open zip archive");
                zip_error_fini(&ze);
                return r;
        }
        in->za = zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &ze);
        if (!in->za) {
                zip_source_free(src);
                r = zip_fail(in, &ze, 0, "cannot open zip archive");
                zip_error_fini(&ze);
                return r;
        }
        zip_error_fini(&ze);
        if (zip_get_num_entries(in->za, 0) != (zip_int64_t) n)
                return FAIL(in, -EBADMSG, DT_R_ZIP_AMBIGUOUS, -1,
                            "zip entry count disagrees with the central directory");

        if (n == 1)
                n_cand = 1;
        else
                for (i = 0; i < n; i++) {
                        zip_stat_init(&st);
                        if (zip_stat_index(in->za, i, ZIP_FL_ENC_RAW, &st) < 0 ||
                            !(st.valid & ZIP_STAT_NAME))
                                return zip_fail(in, zip_get_error(in->za), -1,
                                                "cannot read zip entry");
                        if (ends_xml(st.name) ||
                            (entry_supported(&st) && entry_sniffs(in->za, i))) {
                                pick = i;
                                n_cand++;
                        }
                }
        if (n_cand == 0)
                return FAIL(in, -EMEDIUMTYPE, DT_R_UNKNOWN_FORMAT, -1,
                            "zip archive holds no XML or gzip entry");
        if (n_cand > 1)
                return FAIL(in, -EBADMSG, DT_R_ZIP_AMBIGUOUS, -1,
                            "zip archive holds %llu candidate report entries",
                            (unsigned long long) n_cand);

        zip_stat_init(&st);
        if (zip_stat_index(in->za, pick, ZIP_FL_ENC_RAW, &st) < 0)
                return zip_fail(in, zip_get_error(in->za), -1, "cannot read zip entry");
        name = zip_get_name(in->za, pick, ZIP_FL_ENC_RAW);
        in->entry_name = strdup(name ? name : "");
        if (!in->entry_name)
                return FAIL(in, -ENOMEM, DT_R_NOMEM, -1, "out of memory");
        if (!entry_supported(&st))
                return FAIL(in, -EOPNOTSUPP, DT_R_ZIP_UNSUPPORTED, -1,
                            "zip entry is encrypted or uses compression method %d",
                            (st.valid & ZIP_STAT_COMP_METHOD) ? (int) st.comp_method : -1);

        s = stream_new(in, STREAM_ZIP);
        r = push_layer(in, s);
        if (r < 0)
                return r;
        s->zf = zip_fopen_index(in->za, pick, 0);
        if (!s->zf)
                return zip_fail(in, zip_get_error(in->za), -1, "cannot open zip entry");
        in->outer = s;
        in->outer_fixed_in = (st.valid & ZIP_STAT_COMP_SIZE) && st.comp_size > 0 ? st.comp_size : 1;
        return 0;
}

/* layer_head - after the outer layer: unwrap one inner gzip, then insist on XML */
static int layer_head(struct dt_input *in) {
        struct stream *s;
        enum dt_format f;
        int r;

        s = top(in);
        r = stream_peek(s);
        if (r < 0)
                return r;
        if (dt_unpack_sniff(s->peek, s->peek_len) == DT_FORMAT_GZIP) {
                r = push_gzip(in);
                if (r < 0)
                        return r;
                (void) strcat(in->describe, "+gzip");   /* fits: longest is "gzip+gzip" */
                s = top(in);
                r = stream_peek(s);
                if (r < 0)
                        return r;
        }
        f = dt_unpack_sniff(s->peek, s->peek_len);
        if (f == DT_FORMAT_GZIP || f == DT_FORMAT_ZIP)
                return FAIL(in, -EBADMSG, DT_R_NESTED_ARCHIVE, 0,
                            "archive nested in %s: only one inner layer is unwrapped",
                            in->describe);
        if (s->peek_len == 0)
                return FAIL(in, -ENODATA, DT_R_EMPTY, 0, "decompressed payload is empty");
        if (!sniff_xml(s->peek, s->peek_len, s->peek_len == sizeof s->peek))
                return FAIL(in, -EMEDIUMTYPE, DT_R_UNKNOWN_FORMAT, 0,
                            "decompressed payload is not XML");
        return 0;
}

/* dt_unpack_open - sniff, build the layers, and look at the decoded head before returning */
int dt_unpack_open(const void *data, size_t len, const struct dt_limits *lim,
                   struct dt_input **out, struct dt_error *err) {
        _cleanup_(dt_input_freep) struct dt_input *in = NULL;
        struct stream *s;
        enum dt_format f;
        int r;

        if (!out || (!data && len > 0))
                return dt_error_set(err, -EINVAL, DT_R_IO, -1, "invalid argument");
        if (len == 0)
                return dt_error_set(err, -ENODATA, DT_R_EMPTY, 0, "payload is empty");
        in = input_new(lim);
        if (!in)
                return dt_error_set(err, -ENOMEM, DT_R_NOMEM, -1, "out of memory");

        f = dt_unpack_sniff(data, len);
        switch (f) {
        case DT_FORMAT_XML:
        case DT_FORMAT_GZIP:
                s = stream_new(in, STREAM_MEM);
                r = push_layer(in, s);
                if (r < 0)
                        break;
                s->data = data;
                s->len = len;
                if (f == DT_FORMAT_XML) {
                        (void) strcpy(in->describe, "xml");
                        break;
                }
                s->counted = false;     /* the attachment itself, already capped upstream */
                (void) strcpy(in->describe, "gzip");
                r = push_gzip(in);
                if (r >= 0)
                        r = layer_head(in);
                break;
        case DT_FORMAT_ZIP:
                (void) strcpy(in->describe, "zip");
                r = open_zip(in, data, len);
                if (r >= 0)
                        r = layer_head(in);
                break;
        default:
                r = FAIL(in, -EMEDIUMTYPE, DT_R_UNKNOWN_FORMAT, 0,
                         "payload is not XML, gzip or zip");
                break;
        }
        if (r < 0) {
                if (err)
                        *err = in->err;
                return in->err.code != 0 ? in->err.code : r;
        }
        *out = TAKE_PTR(in);
        return 0;
}

/* dt_input_new_reader - one counted layer over the caller's read function */
int dt_input_new_reader(ssize_t (*read_fn)(void *ctx, void *buf, size_t n), void *ctx,
                        const struct dt_limits *lim, struct dt_input **out) {
        _cleanup_(dt_input_freep) struct dt_input *in = NULL;
        struct stream *s;
        int r;

        if (!read_fn || !out)
                return -EINVAL;
        in = input_new(lim);
        if (!in)
                return -ENOMEM;
        s = stream_new(in, STREAM_READER);
        r = push_layer(in, s);
        if (r < 0)
                return r;
        s->read_fn = read_fn;
        s->ctx = ctx;
        (void) strcpy(in->describe, "xml");
        *out = TAKE_PTR(in);
        return 0;
}

/* dt_input_read - a slice from the top layer; errors are sticky */
ssize_t dt_input_read(struct dt_input *in, void *buf, size_t n) {
        struct stream *s;
        ssize_t r;

        if (!in || (!buf && n > 0))
                return -EINVAL;
        if (in->err.code != 0)
                return in->err.code;
        s = top(in);
        if (!s)
                return FAIL(in, -EINVAL, DT_R_IO, -1, "stream was never opened");
        if (n == 0)
                return 0;
        r = stream_read(s, buf, n);
        if (r < 0)
                return in->err.code != 0 ? in->err.code : r;
        in->produced += (uint64_t) r;
        return r;
}

/* dt_input_error - NULL while the stream is healthy */
const struct dt_error *dt_input_error(const struct dt_input *in) {
        if (!in || in->err.code == 0)
                return NULL;
        return &in->err;
}

/* dt_input_describe - "xml", "gzip", "zip", "zip+gzip" or "gzip+gzip" */
const char *dt_input_describe(const struct dt_input *in) {
        if (!in || in->describe[0] == '\0')
                return "unknown";
        return in->describe;
}

/* dt_input_entry_name - raw zip entry name (hostile), NULL without a zip layer */
const char *dt_input_entry_name(const struct dt_input *in) {
        return in ? in->entry_name : NULL;
}

/* dt_input_produced - bytes handed to the caller */
uint64_t dt_input_produced(const struct dt_input *in) {
        return in ? in->produced : 0;
}

/* dt_input_free - layers top down, then the archive; copes with a half-built stream */
struct dt_input *dt_input_free(struct dt_input *in) {
        size_t i;

        if (!in)
                return NULL;
        for (i = in->n_layers; i > 0; i--)      /* top first: a zip layer before its archive */
                in->layers[i - 1] = stream_free(in->layers[i - 1]);
        if (in->za)
                zip_discard(in->za);            /* read-only: nothing to write back */
        free(in->entry_name);
        free(in);
        return NULL;
}
