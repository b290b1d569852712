/* test-unpack.c - report/unpack.c: format sniffing, gzip and zip layers, limits, errors
 *
 * Real containers come from the shared corpus; small hand-made archives from tests/data/unpack/.
 * Everything large (bombs, many-member or many-entry archives) is made here at run time with
 * zlib and libzip, in memory, so no big or dangerous file is ever committed. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE     /* memmem */
#endif
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <zip.h>
#include <zlib.h>

#include "report/unpack.h"
#include "tests/testutil.h"

/* buf - a growable byte buffer for building inputs */
struct buf {
        uint8_t *p;
        size_t len, cap;
};

static void buf_add(struct buf *b, const void *d, size_t n) {
        if (b->len + n > b->cap) {
                b->cap = (b->len + n) * 2 + 64;
                b->p = realloc(b->p, b->cap);
                ck_assert_ptr_nonnull(b->p);
        }
        if (n > 0)
                memcpy(b->p + b->len, d, n);
        b->len += n;
}

/* gz_member - append one gzip member of d[0..n) followed by `zeros` zero bytes, made a
 * slice at a time so a huge member costs no memory here either */
static void gz_member(struct buf *b, const void *d, size_t n, uint64_t zeros) {
        static const uint8_t zero[65536];
        uint8_t out[65536];
        z_stream z = {0};
        bool first = true;
        int zr;

        ck_assert_int_eq(deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 9, Z_DEFAULT_STRATEGY),
                         Z_OK);
        for (;;) {
                bool last;

                if (first) {
                        z.next_in = (Bytef *) d;
                        z.avail_in = (uInt) n;
                        first = false;
                } else {
                        size_t k = zeros > sizeof zero ? sizeof zero : (size_t) zeros;

                        z.next_in = (Bytef *) zero;
                        z.avail_in = (uInt) k;
                        zeros -= k;
                }
                last = zeros == 0;
                do {
                        z.next_out = out;
                        z.avail_out = sizeof out;
                        zr = deflate(&z, last ? Z_FINISH : Z_NO_FLUSH);
                        ck_assert(zr == Z_OK || zr == Z_STREAM_END || zr == Z_BUF_ERROR);
                        buf_add(b, out, sizeof out - z.avail_out);
                } while (z.avail_out == 0 || (last && zr != Z_STREAM_END));
                if (last)
                        break;
        }
        ck_assert_int_eq(deflateEnd(&z), Z_OK);
}

static struct buf gz_of(const void *d, size_t n) {
        struct buf b = {0};

        gz_member(&b, d, n, 0);
        return b;
}

/* zip builder: libzip writing into a memory source, never to disk */
struct zipw {
        zip_source_t *src;
        zip_t *za;
};

static void zipw_begin(struct zipw *w) {
        zip_error_t ze;

        zip_error_init(&ze);
        w->src = zip_source_buffer_create(NULL, 0, 0, &ze);
        ck_assert_ptr_nonnull(w->src);
        zip_source_keep(w->src);
        w->za = zip_open_from_source(w->src, ZIP_TRUNCATE, &ze);
        ck_assert_ptr_nonnull(w->za);
        zip_error_fini(&ze);
}

/* zipw_add - add name with data (copied by libzip only at close: d must live until then) */
static void zipw_add(struct zipw *w, const char *name, const void *d, size_t n, int32_t method,
                     uint16_t enc) {
        zip_source_t *s = zip_source_buffer(w->za, d, n, 0);
        zip_int64_t i;

        ck_assert_ptr_nonnull(s);
        i = zip_file_add(w->za, name, s, ZIP_FL_ENC_UTF_8);
        ck_assert_int_ge(i, 0);
        ck_assert_int_eq(zip_set_file_compression(w->za, (zip_uint64_t) i, method, 0), 0);
        if (enc != ZIP_EM_NONE)
                ck_assert_int_eq(zip_file_set_encryption(w->za, (zip_uint64_t) i, enc, "secret"), 0);
}

static struct buf zipw_end(struct zipw *w) {
        struct buf b = {0};
        zip_stat_t st;

        ck_assert_int_eq(zip_close(w->za), 0);
        ck_assert_int_eq(zip_source_stat(w->src, &st), 0);
        b.len = b.cap = (size_t) st.size;
        b.p = malloc(b.len + 1);
        ck_assert_ptr_nonnull(b.p);
        ck_assert_int_eq(zip_source_open(w->src), 0);
        ck_assert_int_eq(zip_source_read(w->src, b.p, b.len), (zip_int64_t) b.len);
        (void) zip_source_close(w->src);
        zip_source_free(w->src);
        return b;
}

/* decode - open and read everything in slices of `slice`; 0 or the error (open's or read's).
 * Output is kept in *out when out is non-NULL; describe copied when non-NULL. */
static int decode(const void *d, size_t n, const struct dt_limits *lim, size_t slice,
                  struct buf *out, struct dt_error *err, char *describe,
                  uint64_t *produced) {
        _cleanup_(dt_input_freep) struct dt_input *in = NULL;
        _cleanup_free_ uint8_t *tmp = malloc(slice);
        ssize_t r;
        int k;

        ck_assert_ptr_nonnull(tmp);
        dt_error_clear(err);
        k = dt_unpack_open(d, n, lim, &in, err);
        if (k < 0) {
                ck_assert_ptr_null(in);
                ck_assert_int_eq(err->code, k);
                ck_assert_ptr_nonnull(err->reason);
                return k;
        }
        ck_assert_ptr_nonnull(in);
        if (describe)
                snprintf(describe, 16, "%s", dt_input_describe(in));
        while ((r = dt_input_read(in, tmp, slice)) > 0) {
                ck_assert_int_le(r, (ssize_t) slice);
                if (out)
                        buf_add(out, tmp, (size_t) r);
        }
        if (produced)
                *produced = dt_input_produced(in);
        if (r < 0) {
                const struct dt_error *e = dt_input_error(in);

                ck_assert_ptr_nonnull(e);
                ck_assert_int_eq(e->code, (int) r);
                /* sticky: the same error again, whatever is asked */
                ck_assert_int_eq(dt_input_read(in, tmp, slice), r);
                ck_assert_int_eq(dt_input_read(in, tmp, 1), r);
                *err = *e;
                return (int) r;
        }
        ck_assert_ptr_null(dt_input_error(in));
        return 0;
}

/* expect_error - decoding d fails with code and reason */
static void expect_error(const void *d, size_t n, const struct dt_limits *lim, int code,
                         const char *reason) {
        struct dt_error err;

        ck_assert_int_eq(decode(d, n, lim, 4096, NULL, &err, NULL, NULL), code);
        ck_assert_str_eq(err.reason, reason);
        ck_assert_int_eq(err.code, code);
        ck_assert_uint_gt(strlen(err.message), 0);
}

static void expect_same(const void *d, size_t n, const void *want, size_t want_len,
                        const char *describe) {
        struct buf out = {0};
        struct dt_error err;
        char desc[16];
        uint64_t produced = 0;

        ck_assert_int_eq(decode(d, n, &dt_limits_default, 4096, &out, &err, desc, &produced), 0);
        ck_assert_str_eq(desc, describe);
        ck_assert_uint_eq(out.len, want_len);
        ck_assert_uint_eq(produced, want_len);
        ck_assert(want_len == 0 || memcmp(out.p, want, want_len) == 0);
        free(out.p);
}

/* -- real containers ------------------------------------------------------------------- */

static const struct {
        const char *xml, *packed, *describe;
} corpus[] = {
        { "corpus/aggregate/tierpod_test.xml", "corpus/aggregate/tierpod_test.xml", "xml" },
        { "corpus/aggregate/tierpod_test.xml", "corpus/aggregate/tierpod_test.xml.gz", "gzip" },
        { "corpus/aggregate/tierpod_test.xml", "corpus/aggregate/tierpod_test.xml.zip", "zip" },
        { "corpus/aggregate/mail-dmarc_test_dmarc.xml", "corpus/aggregate/mail-dmarc_test_dmarc.xml", "xml" },
        { "corpus/aggregate/mail-dmarc_test_dmarc.xml", "corpus/aggregate/mail-dmarc_test_dmarc.xml.gz", "gzip" },
        { "corpus/aggregate/mail-dmarc_test_dmarc.xml", "corpus/aggregate/mail-dmarc_test_dmarc.xml.zip", "zip" },
        { "corpus/aggregate/parsedmarc_nice-input.xml", "corpus/aggregate/parsedmarc_nice-input.xml", "xml" },
        { "corpus/aggregate/parsedmarc_nice-input.xml", "corpus/aggregate/parsedmarc_nice-input.xml.gz", "gzip" },
        { "corpus/aggregate/parsedmarc_nice-input.xml", "corpus/aggregate/parsedmarc_nice-input.xml.zip", "zip" },
        { "corpus/aggregate/tierpod_test.xml", "corpus/malformed/tierpod_test.xml.gz.gz", "gzip+gzip" },
        { "unpack/good-mimecast-trailing-crlf.xml", "unpack/good-mimecast-trailing-crlf.xml.gz", "gzip" },
        { "unpack/good-mimecast-trailing-crlf.xml", "unpack/good-mimecast-trailing-crlf.xml", "xml" },
        /* `zip` writing to a pipe: data descriptors, entry "-"; and with -fz: ZIP64 records */
        { "corpus/aggregate/tierpod_test.xml", "unpack/good-streamed.zip", "zip" },
        { "corpus/aggregate/tierpod_test.xml", "unpack/good-zip64.zip", "zip" },
};

START_TEST(corpus_decodes_identically)
{
        _cleanup_free_ char *xml = NULL, *packed = NULL;
        size_t xml_len, packed_len;

        xml = dt_test_load(corpus[_i].xml, &xml_len);
        packed = dt_test_load(corpus[_i].packed, &packed_len);
        expect_same(packed, packed_len, xml, xml_len, corpus[_i].describe);
}
END_TEST

START_TEST(corpus_odd_slices)
{
        /* 1-byte and 7-byte slices through every layer give the same bytes */
        static const size_t slices[] = { 1, 7, 511, 65536 };
        _cleanup_free_ char *xml = NULL, *packed = NULL;
        size_t xml_len, packed_len, i;

        xml = dt_test_load(corpus[_i].xml, &xml_len);
        packed = dt_test_load(corpus[_i].packed, &packed_len);
        for (i = 0; i < ELEMENTSOF(slices); i++) {
                struct buf out = {0};
                struct dt_error err;

                ck_assert_int_eq(decode(packed, packed_len, &dt_limits_default, slices[i], &out,
                                        &err, NULL, NULL), 0);
                ck_assert_uint_eq(out.len, xml_len);
                ck_assert_int_eq(memcmp(out.p, xml, xml_len), 0);
                free(out.p);
        }
}
END_TEST

START_TEST(zip_entry_name)
{
        _cleanup_(dt_input_freep) struct dt_input *in = NULL, *in2 = NULL;
        _cleanup_free_ char *zip = NULL, *gz = NULL;
        struct dt_error err;
        size_t len, gz_len;

        zip = dt_test_load("corpus/aggregate/parsedmarc_nice-input.xml.zip", &len);
        ck_assert_int_eq(dt_unpack_open(zip, len, &dt_limits_default, &in, &err), 0);
        ck_assert_str_eq(dt_input_entry_name(in), "nice-input.xml");
        ck_assert_ptr_null(dt_input_error(in));
        ck_assert_uint_eq(dt_input_produced(in), 0);

        gz = dt_test_load("corpus/aggregate/parsedmarc_nice-input.xml.gz", &gz_len);
        ck_assert_int_eq(dt_unpack_open(gz, gz_len, &dt_limits_default, &in2, &err), 0);
        ck_assert_ptr_null(dt_input_entry_name(in2));
}
END_TEST

/* -- sniffing ---------------------------------------------------------------------------- */

static const struct {
        const char *data;
        size_t len;
        enum dt_format want;
} sniffs[] = {
        { "<?xml version=\"1.0\"?><feedback/>", 32, DT_FORMAT_XML },
        { "\xef\xbb\xbf<feedback/>", 14, DT_FORMAT_XML },
        { " \r\n\t <feedback/>", 16, DT_FORMAT_XML },
        { "\xff\xfe<\0f\0", 6, DT_FORMAT_XML },
        { "\xfe\xff\0<\0f", 6, DT_FORMAT_XML },
        { "\x1f\x8b\x08\x00", 4, DT_FORMAT_GZIP },
        { "PK\3\4xxxx", 8, DT_FORMAT_ZIP },
        { "PK\5\6", 4, DT_FORMAT_ZIP },
        { "PK\7\x08", 4, DT_FORMAT_UNKNOWN },
        { "unused", 6, DT_FORMAT_UNKNOWN },
        { "   \r\n", 5, DT_FORMAT_UNKNOWN },
        { "\x1f", 1, DT_FORMAT_UNKNOWN },
        { "", 0, DT_FORMAT_UNKNOWN },
        { "BZh91AY&SY", 10, DT_FORMAT_UNKNOWN },
};

START_TEST(sniff_formats)
{
        ck_assert_int_eq(dt_unpack_sniff(sniffs[_i].data, sniffs[_i].len), sniffs[_i].want);
}
END_TEST

START_TEST(rejects_unknown_and_empty)
{
        uint8_t rnd[4096];
        size_t i;
        uint32_t x = 12345;

        for (i = 0; i < sizeof rnd; i++) {
                x = x * 1103515245u + 12345u;
                rnd[i] = (uint8_t) (x >> 16);
        }
        rnd[0] = 0x42;  /* neither '<', 1f 8b nor PK */
        expect_error(rnd, sizeof rnd, &dt_limits_default, -EMEDIUMTYPE, DT_R_UNKNOWN_FORMAT);
        expect_error("unused", 6, &dt_limits_default, -EMEDIUMTYPE, DT_R_UNKNOWN_FORMAT);
        expect_error("  \n", 3, &dt_limits_default, -EMEDIUMTYPE, DT_R_UNKNOWN_FORMAT);
        expect_error("", 0, &dt_limits_default, -ENODATA, DT_R_EMPTY);
        expect_error("PK\3\4 not really a zip archive at all", 37, &dt_limits_default, -EBADMSG,
                     DT_R_ZIP_MALFORMED);
}
END_TEST

START_TEST(open_leaves_out_untouched)
{
        struct dt_input *in = (struct dt_input *) 0x1;  /* never dereferenced */
        struct dt_error err;

        ck_assert_int_eq(dt_unpack_open("unused", 6, &dt_limits_default, &in, &err), -EMEDIUMTYPE);
        ck_assert_ptr_eq(in, (struct dt_input *) 0x1);
        ck_assert_str_eq(err.message, "payload is not XML, gzip or zip");
        ck_assert_ptr_null(dt_input_free(NULL));
}
END_TEST

/* -- gzip ------------------------------------------------------------------------------ */

START_TEST(gzip_multi_member)
{
        _cleanup_free_ char *xml = NULL;
        struct buf b = {0};
        size_t len, i, cut[9];

        xml = dt_test_load("corpus/aggregate/tierpod_test.xml", &len);
        /* 8 members: accepted and concatenated */
        for (i = 0; i <= 8; i++)
                cut[i] = len * i / 8;
        for (i = 0; i < 8; i++)
                gz_member(&b, xml + cut[i], cut[i + 1] - cut[i], 0);
        expect_same(b.p, b.len, xml, len, "gzip");
        /* a ninth member is one too many */
        gz_member(&b, "<x/>", 4, 0);
        expect_error(b.p, b.len, &dt_limits_default, -EBADMSG, DT_R_GZIP_MALFORMED);
        free(b.p);
}
END_TEST

START_TEST(gzip_trailing_garbage)
{
        static const char *tails[] = { "\r\n", "\0\0\0\0", "\x1f", "garbage after the member" };
        _cleanup_free_ char *xml = NULL;
        size_t len, i;

        xml = dt_test_load("corpus/aggregate/tierpod_test.xml", &len);
        for (i = 0; i < ELEMENTSOF(tails); i++) {
                struct buf b = gz_of(xml, len);

                buf_add(&b, tails[i], i == 1 ? 4 : strlen(tails[i]));
                expect_same(b.p, b.len, xml, len, "gzip");
                free(b.p);
        }
}
END_TEST

START_TEST(gzip_truncated)
{
        _cleanup_free_ char *xml = NULL;
        struct buf b;
        size_t len, cuts[5], i;

        xml = dt_test_load("corpus/aggregate/parsedmarc_nice-input.xml", &len);
        b = gz_of(xml, len);
        cuts[0] = b.len - 1;    /* inside the trailer */
        cuts[1] = b.len - 8;    /* the whole trailer */
        cuts[2] = b.len / 2;
        cuts[3] = 12;
        cuts[4] = 5;            /* inside the header */
        for (i = 0; i < ELEMENTSOF(cuts); i++)
                expect_error(b.p, cuts[i], &dt_limits_default, -EBADMSG, DT_R_TRUNCATED);
        free(b.p);
}
END_TEST

START_TEST(gzip_bad_crc_and_length)
{
        _cleanup_free_ char *xml = NULL;
        struct buf b;
        size_t len;

        xml = dt_test_load("corpus/aggregate/parsedmarc_nice-input.xml", &len);
        b = gz_of(xml, len);
        b.p[b.len - 8] ^= 0x55;         /* CRC32 */
        expect_error(b.p, b.len, &dt_limits_default, -EBADMSG, DT_R_BAD_CRC);
        b.p[b.len - 8] ^= 0x55;
        b.p[b.len - 3] ^= 0x01;         /* ISIZE lies */
        expect_error(b.p, b.len, &dt_limits_default, -EBADMSG, DT_R_BAD_CRC);
        free(b.p);
}
END_TEST

START_TEST(gzip_damaged)
{
        _cleanup_free_ char *xml = NULL;
        struct buf b;
        size_t len;

        xml = dt_test_load("corpus/aggregate/tierpod_test.xml", &len);
        b = gz_of(xml, len);
        b.p[10] |= 0x06;                /* first block: BTYPE 11, reserved */
        expect_error(b.p, b.len, &dt_limits_default, -EBADMSG, DT_R_GZIP_MALFORMED);
        free(b.p);

        b = gz_of(xml, len);
        b.p[2] = 7;                     /* unknown compression method */
        expect_error(b.p, b.len, &dt_limits_default, -EBADMSG, DT_R_GZIP_MALFORMED);
        free(b.p);
}
END_TEST

START_TEST(gzip_header_fields)
{
        /* FEXTRA of 65,535 bytes (the CVE-2022-37434 shape) is skipped by zlib; an FNAME that
         * never ends is a truncated stream */
        _cleanup_free_ char *xml = NULL;
        struct buf g, b = {0};
        size_t len;
        uint8_t hdr[12] = { 0x1f, 0x8b, 8, 0x04, 0, 0, 0, 0, 0, 3, 0xff, 0xff };
        _cleanup_free_ uint8_t *extra = calloc(1, 65535);

        xml = dt_test_load("corpus/aggregate/tierpod_test.xml", &len);
        g = gz_of(xml, len);
        buf_add(&b, hdr, sizeof hdr);
        buf_add(&b, extra, 65535);
        buf_add(&b, g.p + 10, g.len - 10);
        expect_same(b.p, b.len, xml, len, "gzip");
        free(b.p);

        b = (struct buf) {0};
        hdr[3] = 0x08;                  /* FNAME */
        buf_add(&b, hdr, 10);
        memset(extra, 'A', 65535);
        buf_add(&b, extra, 65535);
        expect_error(b.p, b.len, &dt_limits_default, -EBADMSG, DT_R_TRUNCATED);
        free(b.p);
        free(g.p);
}
END_TEST

START_TEST(gzip_content_checked)
{
        static const uint8_t notxml[] = "this is plain text, not a report";
        struct buf b;

        b = gz_of(notxml, sizeof notxml - 1);
        expect_error(b.p, b.len, &dt_limits_default, -EMEDIUMTYPE, DT_R_UNKNOWN_FORMAT);
        free(b.p);
        b = gz_of("", 0);
        expect_error(b.p, b.len, &dt_limits_default, -ENODATA, DT_R_EMPTY);
        free(b.p);
}
END_TEST

/* -- nesting ----------------------------------------------------------------------------- */

START_TEST(nested_archives)
{
        _cleanup_free_ char *gzgz = NULL, *zip = NULL;
        struct buf g3, gz_zip, zip_zip, zip_gzgz, gzgz_zip;
        struct zipw w;
        size_t len, zip_len;

        gzgz = dt_test_load("corpus/malformed/tierpod_test.xml.gz.gz", &len);
        zip = dt_test_load("corpus/aggregate/tierpod_test.xml.zip", &zip_len);

        g3 = gz_of(gzgz, len);          /* third gzip layer */
        expect_error(g3.p, g3.len, &dt_limits_default, -EBADMSG, DT_R_NESTED_ARCHIVE);

        gz_zip = gz_of(zip, zip_len);   /* zip inside gzip */
        expect_error(gz_zip.p, gz_zip.len, &dt_limits_default, -EBADMSG, DT_R_NESTED_ARCHIVE);

        gzgz_zip = gz_of(gz_zip.p, gz_zip.len); /* zip inside gzip inside gzip */
        expect_error(gzgz_zip.p, gzgz_zip.len, &dt_limits_default, -EBADMSG,
                     DT_R_NESTED_ARCHIVE);

        zipw_begin(&w);                 /* zip inside zip */
        zipw_add(&w, "inner.zip", zip, zip_len, ZIP_CM_STORE, ZIP_EM_NONE);
        zip_zip = zipw_end(&w);
        expect_error(zip_zip.p, zip_zip.len, &dt_limits_default, -EBADMSG, DT_R_NESTED_ARCHIVE);

        zipw_begin(&w);                 /* gzip+gzip inside zip */
        zipw_add(&w, "report.xml.gz.gz", gzgz, len, ZIP_CM_DEFLATE, ZIP_EM_NONE);
        zip_gzgz = zipw_end(&w);
        expect_error(zip_gzgz.p, zip_gzgz.len, &dt_limits_default, -EBADMSG,
                     DT_R_NESTED_ARCHIVE);

        free(g3.p);
        free(gz_zip.p);
        free(gzgz_zip.p);
        free(zip_zip.p);
        free(zip_gzgz.p);
}
END_TEST

START_TEST(zip_with_gzip_entry)
{
        _cleanup_free_ char *xml = NULL, *gz = NULL;
        _cleanup_(dt_input_freep) struct dt_input *in = NULL;
        struct dt_error err;
        struct buf z;
        struct zipw w;
        size_t len, gz_len;

        xml = dt_test_load("corpus/aggregate/tierpod_test.xml", &len);
        gz = dt_test_load("corpus/aggregate/tierpod_test.xml.gz", &gz_len);
        /* named by content only: no .xml, one sniffs as gzip, the other is text */
        zipw_begin(&w);
        zipw_add(&w, "README", "read me\n", 8, ZIP_CM_DEFLATE, ZIP_EM_NONE);
        zipw_add(&w, "report.bin", gz, gz_len, ZIP_CM_STORE, ZIP_EM_NONE);
        z = zipw_end(&w);
        expect_same(z.p, z.len, xml, len, "zip+gzip");
        ck_assert_int_eq(dt_unpack_open(z.p, z.len, &dt_limits_default, &in, &err), 0);
        ck_assert_str_eq(dt_input_entry_name(in), "report.bin");
        free(z.p);
}
END_TEST

/* -- zip structure ----------------------------------------------------------------------- */

START_TEST(zip_picks_xml_entry)
{
        _cleanup_free_ char *z = NULL;
        _cleanup_(dt_input_freep) struct dt_input *in = NULL;
        struct dt_error err;
        size_t len;

        z = dt_test_load("unpack/good-readme-and-xml.zip", &len);
        expect_same(z, len, "<?xml version=\"1.0\"?><feedback/>\n", 33, "zip");
        ck_assert_int_eq(dt_unpack_open(z, len, &dt_limits_default, &in, &err), 0);
        ck_assert_str_eq(dt_input_entry_name(in), "report.xml");
}
END_TEST

static const struct {
        const char *file;
        int code;
        const char *reason;
} bad_zips[] = {
        { "unpack/bad-two-xml.zip", -EBADMSG, DT_R_ZIP_AMBIGUOUS },
        { "unpack/bad-overlap.zip", -EBADMSG, DT_R_ZIP_AMBIGUOUS },
        { "unpack/bad-bzip2.zip", -EOPNOTSUPP, DT_R_ZIP_UNSUPPORTED },
        { "unpack/bad-lzma.zip", -EOPNOTSUPP, DT_R_ZIP_UNSUPPORTED },
        { "unpack/bad-empty.zip", -ENODATA, DT_R_EMPTY },
};

START_TEST(zip_rejects_fixture)
{
        _cleanup_free_ char *z = NULL;
        size_t len;

        z = dt_test_load(bad_zips[_i].file, &len);
        expect_error(z, len, &dt_limits_default, bad_zips[_i].code, bad_zips[_i].reason);
}
END_TEST

START_TEST(zip_overlap_found_before_inflating)
{
        _cleanup_free_ char *z = NULL;
        struct dt_error err;
        size_t len;

        z = dt_test_load("unpack/bad-overlap.zip", &len);
        ck_assert_int_eq(decode(z, len, &dt_limits_default, 4096, NULL, &err, NULL, NULL),
                         -EBADMSG);
        ck_assert_ptr_nonnull(strstr(err.message, "OVERLAP"));
        ck_assert_int_eq(err.offset, 39);       /* the second local header, inside the first */
}
END_TEST

START_TEST(zip_entry_limit)
{
        static const char data[] = "<feedback/>";
        struct dt_limits lim = dt_limits_default;
        struct zipw w;
        struct buf z;
        char name[32];
        int i;

        zipw_begin(&w);
        for (i = 0; i < 17; i++) {
                snprintf(name, sizeof name, "f%02d.txt", i);
                zipw_add(&w, name, data, sizeof data - 1, ZIP_CM_STORE, ZIP_EM_NONE);
        }
        z = zipw_end(&w);
        expect_error(z.p, z.len, &dt_limits_default, -E2BIG, DT_R_ZIP_ENTRY_LIMIT);
        lim.zip_entries = 17;   /* within the limit: now 17 candidates, ambiguous */
        expect_error(z.p, z.len, &lim, -EBADMSG, DT_R_ZIP_AMBIGUOUS);
        free(z.p);
}
END_TEST

START_TEST(zip_unsupported_made_by_libzip)
{
        static const char data[] = "<?xml version=\"1.0\"?><feedback/>";
        static const struct {
                int32_t method;
                uint16_t enc;
        } cases[] = {
                { ZIP_CM_BZIP2, ZIP_EM_NONE },
                { ZIP_CM_DEFLATE, ZIP_EM_AES_256 },
                { ZIP_CM_STORE, ZIP_EM_AES_128 },
                { ZIP_CM_DEFLATE, ZIP_EM_TRAD_PKWARE },
        };
        size_t i;

        for (i = 0; i < ELEMENTSOF(cases); i++) {
                struct zipw w;
                struct buf z;

                if (!zip_compression_method_supported(cases[i].method, 1) ||
                    !zip_encryption_method_supported(cases[i].enc, 1))
                        continue;       /* this libzip cannot write it */
                zipw_begin(&w);
                zipw_add(&w, "report.xml", data, sizeof data - 1, cases[i].method, cases[i].enc);
                z = zipw_end(&w);
                expect_error(z.p, z.len, &dt_limits_default, -EOPNOTSUPP, DT_R_ZIP_UNSUPPORTED);
                free(z.p);
        }
}
END_TEST

START_TEST(zip_headers_disagree)
{
        static const char data[] = "<?xml version=\"1.0\"?><feedback/>";
        struct zipw w;
        struct buf z;

        zipw_begin(&w);
        zipw_add(&w, "report.xml", data, sizeof data - 1, ZIP_CM_DEFLATE, ZIP_EM_NONE);
        z = zipw_end(&w);
        ck_assert_int_eq(memcmp(z.p + 30, "report.xml", 10), 0);
        z.p[30] = 'R';          /* local name differs from the central one */
        expect_error(z.p, z.len, &dt_limits_default, -EBADMSG, DT_R_ZIP_AMBIGUOUS);
        free(z.p);
}
END_TEST

START_TEST(zip_two_end_records)
{
        _cleanup_free_ char *z = NULL;
        struct buf b = {0};
        size_t len, cd_off, cd_size, cd2_off;
        uint8_t eocd2[22];

        /* a second, self-consistent directory and end record hidden in the first one's
         * comment: which directory is meant? */
        z = dt_test_load("unpack/good-readme-and-xml.zip", &len);
        ck_assert_int_eq(memcmp(z + len - 22, "PK\5\6", 4), 0);
        cd_size = (uint8_t) z[len - 10] | ((size_t) (uint8_t) z[len - 9] << 8);
        cd_off = (uint8_t) z[len - 6] | ((size_t) (uint8_t) z[len - 5] << 8);
        ck_assert_uint_eq(cd_off + cd_size, len - 22);
        buf_add(&b, z, len);
        b.p[len - 2] = (uint8_t) (cd_size + 22);        /* comment length */
        cd2_off = len;
        buf_add(&b, z + cd_off, cd_size);
        memcpy(eocd2, z + len - 22, 22);
        eocd2[16] = (uint8_t) cd2_off;
        eocd2[17] = (uint8_t) (cd2_off >> 8);
        buf_add(&b, eocd2, 22);
        expect_error(b.p, b.len, &dt_limits_default, -EBADMSG, DT_R_ZIP_AMBIGUOUS);
        {
                struct dt_error err;

                (void) decode(b.p, b.len, &dt_limits_default, 4096, NULL, &err, NULL, NULL);
                ck_assert_ptr_nonnull(strstr(err.message, "two end of central directory"));
        }
        free(b.p);
}
END_TEST

START_TEST(zip_bad_crc)
{
        static const char data[] = "<?xml version=\"1.0\"?><feedback/>";
        struct zipw w;
        struct buf z;
        uint8_t *p;

        zipw_begin(&w);
        zipw_add(&w, "report.xml", data, sizeof data - 1, ZIP_CM_STORE, ZIP_EM_NONE);
        z = zipw_end(&w);
        p = memmem(z.p, z.len, "<feedback/>", 11);
        ck_assert_ptr_nonnull(p);
        p[1] = 'F';             /* stored data changed, CRC not */
        expect_error(z.p, z.len, &dt_limits_default, -EBADMSG, DT_R_BAD_CRC);
        free(z.p);
}
END_TEST

/* -- bombs and limits ------------------------------------------------------------------- */

START_TEST(bomb_ratio_zip)
{
        struct dt_error err;
        struct buf z;
        struct zipw w;
        uint64_t produced;
        _cleanup_free_ uint8_t *bomb = calloc(1, 40u << 20);

        /* zip of '<' and 40 MiB of zeros, default limits: about 1030:1, caught past 8 MiB */
        ck_assert_ptr_nonnull(bomb);
        bomb[0] = '<';
        zipw_begin(&w);
        zipw_add(&w, "bomb.xml", bomb, 40u << 20, ZIP_CM_DEFLATE, ZIP_EM_NONE);
        z = zipw_end(&w);
        ck_assert_uint_lt(z.len, (40u << 20) / 1000);
        ck_assert_int_eq(decode(z.p, z.len, &dt_limits_default, 4096, NULL, &err, NULL,
                                &produced), -EFBIG);
        ck_assert_str_eq(err.reason, DT_R_DECOMPRESSED_RATIO);
        ck_assert_int_gt(err.offset, (int64_t) dt_limits_default.ratio_after_bytes);
        ck_assert_uint_lt(produced, 40u << 20);
        free(z.p);
}
END_TEST

START_TEST(bomb_ratio_gzip)
{
        struct dt_error err;
        struct buf g = {0}, gg;
        uint64_t produced;

        /* one gzip layer of 100 MiB of zeros: caught past 8 MiB */
        gz_member(&g, "<", 1, 100u << 20);
        ck_assert_int_eq(decode(g.p, g.len, &dt_limits_default, 4096, NULL, &err, NULL,
                                &produced), -EFBIG);
        ck_assert_str_eq(err.reason, DT_R_DECOMPRESSED_RATIO);
        ck_assert_uint_lt(produced, 12u << 20);

        /* the same inside another gzip: caught as soon as past 8 MiB */
        gg = gz_of(g.p, g.len);
        ck_assert_int_eq(decode(gg.p, gg.len, &dt_limits_default, 4096, NULL, &err, NULL,
                                &produced), -EFBIG);
        ck_assert_str_eq(err.reason, DT_R_DECOMPRESSED_RATIO);
        ck_assert_uint_le(produced, (8u << 20) + 4096);
        free(gg.p);
        free(g.p);
}
END_TEST

/* found by fuzz-unpack (tests/data/crash-20261129-unpack-f0f6a2ab5f3d): 63 KB of gzip that
 * inflates to 18 MB (under 1000 times its size, so allowed) before a damaged block; the harness
 * read all of it one byte at a time, 18 million calls, past libFuzzer's timeout. The decoder's
 * outcome is what this checks; the harness now reads big slices after the first MiB. */
START_TEST(bomb_ratio_fuzzer_input)
{
        struct dt_error err;
        uint64_t produced;
        size_t len;
        _cleanup_free_ char *d = dt_test_load("crash-20261129-unpack-f0f6a2ab5f3d", &len);
        int r = decode(d, len, &dt_limits_default, 65536, NULL, &err, NULL, &produced);

        /* 18 MB out, within the ratio limit, then a damaged stored block ends it */
        ck_assert_int_eq(r, -EBADMSG);
        ck_assert_str_eq(err.reason, DT_R_GZIP_MALFORMED);
        ck_assert_uint_eq(produced, 18250417);
        ck_assert_uint_le(produced, (uint64_t) len * dt_limits_default.unpack_ratio);
}
END_TEST

START_TEST(bomb_size)
{
        struct dt_limits lim = dt_limits_default;
        struct dt_error err;
        struct buf g = {0}, z;
        struct zipw w;
        uint64_t produced;
        _cleanup_free_ uint8_t *raw = malloc(3u << 20);

        lim.unpacked_bytes = 1u << 20;
        lim.ratio_after_bytes = 64u << 20;      /* out of the way: the size cap must fire */

        gz_member(&g, "<", 1, 2u << 20);
        ck_assert_int_eq(decode(g.p, g.len, &lim, 4096, NULL, &err, NULL, &produced), -EFBIG);
        ck_assert_str_eq(err.reason, DT_R_DECOMPRESSED_SIZE);
        ck_assert_int_eq(err.offset, 1 << 20);
        ck_assert_uint_le(produced, 1u << 20);

        /* exactly at the cap is fine */
        free(g.p);
        g = (struct buf) {0};
        gz_member(&g, "<", 1, (1u << 20) - 1);
        ck_assert_int_eq(decode(g.p, g.len, &lim, 4096, NULL, &err, NULL, &produced), 0);
        ck_assert_uint_eq(produced, 1u << 20);

        ck_assert_ptr_nonnull(raw);
        memset(raw, ' ', 3u << 20);
        raw[0] = '<';
        zipw_begin(&w);
        zipw_add(&w, "big.xml", raw, 3u << 20, ZIP_CM_DEFLATE, ZIP_EM_NONE);
        z = zipw_end(&w);
        ck_assert_int_eq(decode(z.p, z.len, &lim, 4096, NULL, &err, NULL, &produced), -EFBIG);
        ck_assert_str_eq(err.reason, DT_R_DECOMPRESSED_SIZE);

        /* raw XML is capped too */
        ck_assert_int_eq(decode(raw, 3u << 20, &lim, 65536, NULL, &err, NULL, &produced), -EFBIG);
        ck_assert_str_eq(err.reason, DT_R_DECOMPRESSED_SIZE);
        ck_assert_uint_le(produced, 1u << 20);
        free(z.p);
        free(g.p);
}
END_TEST

static long maxrss_kib(void) {
        struct rusage ru;

        ck_assert_int_eq(getrusage(RUSAGE_SELF, &ru), 0);
        return ru.ru_maxrss;
}

START_TEST(memory_stays_flat)
{
        /* 64 MiB out of a ~64 KiB gzip, in 4 KiB slices: peak RSS must not follow the output */
        struct dt_limits lim = dt_limits_default;
        _cleanup_(dt_input_freep) struct dt_input *in = NULL;
        struct dt_error err;
        struct buf g = {0};
        uint8_t slice[4096];
        long before, after;
        ssize_t r;

        lim.unpack_ratio = 0;           /* ratio check off: we want all of it */
        gz_member(&g, "<", 1, (64u << 20) - 1);
        ck_assert_int_eq(dt_unpack_open(g.p, g.len, &lim, &in, &err), 0);
        before = maxrss_kib();
        while ((r = dt_input_read(in, slice, sizeof slice)) > 0)
                ;
        after = maxrss_kib();
        ck_assert_int_eq(r, 0);
        ck_assert_uint_eq(dt_input_produced(in), 64u << 20);
        ck_assert_int_lt(after - before, 16 * 1024);
        free(g.p);
}
END_TEST

/* -- reader ------------------------------------------------------------------------------ */

struct chunks {
        const char *data;
        size_t len, pos, chunk;
        int fail_at;            /* call number that fails with -EIO, -1 never */
        int calls;
};

static ssize_t chunks_read(void *ctx, void *buf, size_t n) {
        struct chunks *c = ctx;
        size_t k = c->len - c->pos;

        if (c->calls++ == c->fail_at)
                return -EIO;
        if (k > c->chunk)
                k = c->chunk;
        if (k > n)
                k = n;
        memcpy(buf, c->data + c->pos, k);
        c->pos += k;
        return (ssize_t) k;
}

START_TEST(reader_passes_bytes)
{
        _cleanup_free_ char *xml = NULL;
        _cleanup_(dt_input_freep) struct dt_input *in = NULL;
        struct chunks c = { 0 };
        struct buf out = {0};
        char tmp[100];
        size_t len;
        ssize_t r;

        xml = dt_test_load("corpus/aggregate/tierpod_test.xml", &len);
        c = (struct chunks) { .data = xml, .len = len, .chunk = 7, .fail_at = -1 };
        ck_assert_int_eq(dt_input_new_reader(chunks_read, &c, &dt_limits_default, &in), 0);
        ck_assert_str_eq(dt_input_describe(in), "xml");
        ck_assert_ptr_null(dt_input_entry_name(in));
        while ((r = dt_input_read(in, tmp, sizeof tmp)) > 0)
                buf_add(&out, tmp, (size_t) r);
        ck_assert_int_eq(r, 0);
        ck_assert_uint_eq(out.len, len);
        ck_assert_int_eq(memcmp(out.p, xml, len), 0);
        ck_assert_uint_eq(dt_input_produced(in), len);
        ck_assert_int_eq(dt_input_read(in, tmp, sizeof tmp), 0);
        ck_assert_ptr_null(dt_input_error(in));
        free(out.p);
        ck_assert_int_eq(dt_input_new_reader(NULL, &c, &dt_limits_default, &in), -EINVAL);
}
END_TEST

/* regression: with unpacked_bytes = UINT64_MAX the "one byte past the limit" arithmetic
 * wrapped to a zero-byte read, and the stream ended after its first slice */
START_TEST(reader_unlimited_reads_everything)
{
        _cleanup_free_ char *xml = NULL;
        _cleanup_(dt_input_freep) struct dt_input *in = NULL;
        struct dt_limits lim = dt_limits_default;
        struct chunks c = { 0 };
        char tmp[100];
        size_t len, total = 0;
        ssize_t r;

        lim.unpacked_bytes = UINT64_MAX;
        xml = dt_test_load("corpus/aggregate/tierpod_test.xml", &len);
        c = (struct chunks) { .data = xml, .len = len, .chunk = 1000, .fail_at = -1 };
        ck_assert_int_eq(dt_input_new_reader(chunks_read, &c, &lim, &in), 0);
        while ((r = dt_input_read(in, tmp, sizeof tmp)) > 0)
                total += (size_t) r;
        ck_assert_int_eq(r, 0);
        ck_assert_uint_eq(total, len);
}
END_TEST

START_TEST(reader_error_is_sticky)
{
        static const char xml[] = "<feedback></feedback>";
        _cleanup_(dt_input_freep) struct dt_input *in = NULL;
        struct chunks c = { .data = xml, .len = sizeof xml - 1, .chunk = 4, .fail_at = 2 };
        char tmp[64];

        ck_assert_int_eq(dt_input_new_reader(chunks_read, &c, &dt_limits_default, &in), 0);
        ck_assert_int_eq(dt_input_read(in, tmp, sizeof tmp), 4);
        ck_assert_int_eq(dt_input_read(in, tmp, sizeof tmp), 4);
        ck_assert_int_eq(dt_input_read(in, tmp, sizeof tmp), -EIO);
        ck_assert_str_eq(dt_input_error(in)->reason, DT_R_IO);
        ck_assert_int_eq(dt_input_error(in)->offset, 8);
        ck_assert_int_eq(dt_input_read(in, tmp, sizeof tmp), -EIO);    /* not retried */
        ck_assert_int_eq(c.calls, 3);
        ck_assert_uint_eq(dt_input_produced(in), 8);
}
END_TEST

START_TEST(reader_capped)
{
        static char big[10000];
        struct dt_limits lim = dt_limits_default;
        _cleanup_(dt_input_freep) struct dt_input *in = NULL;
        struct chunks c = { .data = big, .len = sizeof big, .chunk = 1000, .fail_at = -1 };
        char tmp[512];
        ssize_t r;

        memset(big, ' ', sizeof big);
        lim.unpacked_bytes = 4000;
        ck_assert_int_eq(dt_input_new_reader(chunks_read, &c, &lim, &in), 0);
        while ((r = dt_input_read(in, tmp, sizeof tmp)) > 0)
                ;
        ck_assert_int_eq(r, -EFBIG);
        ck_assert_str_eq(dt_input_error(in)->reason, DT_R_DECOMPRESSED_SIZE);
        ck_assert_uint_le(dt_input_produced(in), 4000);
}
END_TEST

START_TEST(gzip_error_is_sticky)
{
        _cleanup_free_ char *xml = NULL;
        _cleanup_(dt_input_freep) struct dt_input *in = NULL;
        struct dt_error err;
        struct buf b = {0};
        char tmp[4096];
        ssize_t r;
        size_t len;

        /* big enough that the damage is met while reading, not while opening */
        xml = dt_test_load("corpus/aggregate/parsedmarc_nice-input.xml", &len);
        gz_member(&b, xml, len, 0);
        b.p[b.len - 5] ^= 0xff;
        ck_assert_int_eq(dt_unpack_open(b.p, b.len, &dt_limits_default, &in, &err), 0);
        while ((r = dt_input_read(in, tmp, sizeof tmp)) > 0)
                ;
        ck_assert_int_eq(r, -EBADMSG);
        ck_assert_str_eq(dt_input_error(in)->reason, DT_R_BAD_CRC);
        ck_assert_int_ge(dt_input_error(in)->offset, 0);
        ck_assert_int_eq(dt_input_read(in, tmp, sizeof tmp), -EBADMSG);
        ck_assert_str_eq(dt_input_error(in)->reason, DT_R_BAD_CRC);
        free(b.p);
}
END_TEST

static Suite *unpack_suite(void) {
        Suite *s = suite_create("unpack");
        TCase *tc = tcase_create("unpack");

        tcase_set_timeout(tc, 300);
        tcase_add_test(tc, memory_stays_flat);
        tcase_add_loop_test(tc, corpus_decodes_identically, 0, ELEMENTSOF(corpus));
        tcase_add_loop_test(tc, corpus_odd_slices, 0, ELEMENTSOF(corpus));
        tcase_add_test(tc, zip_entry_name);
        tcase_add_loop_test(tc, sniff_formats, 0, ELEMENTSOF(sniffs));
        tcase_add_test(tc, rejects_unknown_and_empty);
        tcase_add_test(tc, open_leaves_out_untouched);
        tcase_add_test(tc, gzip_multi_member);
        tcase_add_test(tc, gzip_trailing_garbage);
        tcase_add_test(tc, gzip_truncated);
        tcase_add_test(tc, gzip_bad_crc_and_length);
        tcase_add_test(tc, gzip_damaged);
        tcase_add_test(tc, gzip_header_fields);
        tcase_add_test(tc, gzip_content_checked);
        tcase_add_test(tc, gzip_error_is_sticky);
        tcase_add_test(tc, nested_archives);
        tcase_add_test(tc, zip_with_gzip_entry);
        tcase_add_test(tc, zip_picks_xml_entry);
        tcase_add_loop_test(tc, zip_rejects_fixture, 0, ELEMENTSOF(bad_zips));
        tcase_add_test(tc, zip_overlap_found_before_inflating);
        tcase_add_test(tc, zip_entry_limit);
        tcase_add_test(tc, zip_unsupported_made_by_libzip);
        tcase_add_test(tc, zip_headers_disagree);
        tcase_add_test(tc, zip_two_end_records);
        tcase_add_test(tc, zip_bad_crc);
        tcase_add_test(tc, bomb_ratio_zip);
        tcase_add_test(tc, bomb_ratio_gzip);
        tcase_add_test(tc, bomb_ratio_fuzzer_input);
        tcase_add_test(tc, bomb_size);
        tcase_add_test(tc, reader_passes_bytes);
        tcase_add_test(tc, reader_unlimited_reads_everything);
        tcase_add_test(tc, reader_error_is_sticky);
        tcase_add_test(tc, reader_capped);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        return dt_test_main(unpack_suite());
}
