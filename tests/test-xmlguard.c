/* test-xmlguard.c - the byte-level checks in front of libxml2: each verdict and where it is
 * found, in UTF-8 and UTF-16, whole and cut into one-byte reads, and the encoding list */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/xmlguard.h"
#include "tests/testutil.h"

#define STEP_MAX (1u << 20)

/* feed_all - a new guard fed s (n bytes) in slices of `slice` bytes, one reader step */
static enum dt_xmlguard_verdict feed_all(struct dt_xmlguard *g, const char *s, size_t n,
                                         size_t slice) {
        size_t off;

        dt_xmlguard_init(g, STEP_MAX);
        dt_xmlguard_step(g);
        for (off = 0; off < n; off += slice) {
                size_t k = n - off < slice ? n - off : slice;

                if (dt_xmlguard_feed(g, s + off, k) != DT_XMLGUARD_OK)
                        break;
        }
        return g->verdict;
}

/* utf16le - ascii (n bytes) as UTF-16LE with a BOM, into *len bytes; the buffer is kept until
 * the next call (static: a failed assertion leaks nothing) */
static const char *utf16le(const char *ascii, size_t n, size_t *len) {
        static char *buf;

        free(buf);
        buf = dt_test_utf16le(ascii, n, len);
        return buf;
}

/* every document checked whole, byte by byte, and in UTF-16LE byte by byte */
static const struct {
        const char *doc;
        enum dt_xmlguard_verdict want;
        const char *encoding;           /* the name kept, for DT_XMLGUARD_ENCODING */
        size_t where;                   /* offset of the verdict in the ASCII text */
} docs[] = {
        { "<?xml version=\"1.0\" encoding=\"UTF-8\"?><feedback/>", DT_XMLGUARD_OK, "", 0 },
        { "<?xml version='1.0' encoding = 'iso-8859-1' ?><feedback/>", DT_XMLGUARD_OK, "", 0 },
        { "<feedback><!-- x --><?pi?></feedback>", DT_XMLGUARD_OK, "", 0 },
        { "<?xml version=\"1.0\" encoding=\"UTF-7\"?><feedback/>", DT_XMLGUARD_ENCODING,
          "UTF-7", 37 },
        { "<?xml version=\"1.0\" encoding=\"ibm037\"?>", DT_XMLGUARD_ENCODING, "ibm037", 38 },
        /* every encoding= is checked, wherever it is in the declaration */
        { "<?xml version=\"1.0\" encoding=\"UTF-8\" encoding=\"UTF-7\"?>", DT_XMLGUARD_ENCODING,
          "UTF-7", 54 },
        { "<?xml version=\"1.0\" encoding=\"UTF-8//x\"?>", DT_XMLGUARD_ENCODING, "UTF-8??x",
          40 },
        /* not a declaration: a PI named xml-stylesheet, or a declaration not at the start */
        { "<?xml-stylesheet encoding=\"UTF-7\"?><feedback/>", DT_XMLGUARD_OK, "", 0 },
        { " <?xml version=\"1.0\" encoding=\"UTF-7\"?>", DT_XMLGUARD_OK, "", 0 },
        { "<!DOCTYPE feedback [<!ENTITY a \"b\">]><feedback/>", DT_XMLGUARD_DTD, "", 2 },
        { "<?xml version=\"1.0\"?><!-- c --><!ENTITY a \"b\">", DT_XMLGUARD_DTD, "", 33 },
        /* after the root starts, "<!" is left to libxml2 (CDATA, or its own error) */
        { "<feedback><![CDATA[x]]></feedback>", DT_XMLGUARD_OK, "", 0 },
};

START_TEST(verdicts)
{
        struct dt_xmlguard g;
        const char *doc = docs[_i].doc, *u16;
        size_t n = strlen(doc), slice, n16;

        for (slice = 1; slice <= n; slice = slice == 1 ? n : n + 1) {
                ck_assert_msg(feed_all(&g, doc, n, slice) == docs[_i].want, "%s (slices of %zu)",
                              doc, slice);
                if (docs[_i].want == DT_XMLGUARD_OK)
                        continue;
                ck_assert_int_eq(g.where, (int64_t) docs[_i].where);
                ck_assert_str_eq(g.encoding, docs[_i].encoding);
        }
        u16 = utf16le(doc, n, &n16);
        ck_assert_int_eq(feed_all(&g, u16, n16, 1), docs[_i].want);
        if (docs[_i].want != DT_XMLGUARD_OK) {
                ck_assert_int_eq(g.where, (int64_t) (2 + 2 * docs[_i].where));
                ck_assert_str_eq(g.encoding, docs[_i].encoding);
        }
}
END_TEST

/* comments and PIs are counted, in UTF-8 and through UTF-16's NULs */
START_TEST(markup_counted)
{
        static char doc[16384];
        struct dt_xmlguard g;
        const char *u16;
        size_t n = 0, k, n16;

        n += (size_t) sprintf(doc + n, "<feedback>");
        for (k = 0; k < DT_XMLGUARD_MARKUP_MAX / 2; k++)
                n += (size_t) sprintf(doc + n, "<!---->");
        for (; k < DT_XMLGUARD_MARKUP_MAX; k++)
                n += (size_t) sprintf(doc + n, "<?a?>");
        /* "<!-" in text of CDATA and "<" followed by anything else do not count */
        n += (size_t) sprintf(doc + n, "<![CDATA[x]]><a>&lt;</a>");
        ck_assert_int_eq(feed_all(&g, doc, n, n), DT_XMLGUARD_OK);
        u16 = utf16le(doc, n, &n16);
        ck_assert_int_eq(feed_all(&g, u16, n16, 7), DT_XMLGUARD_OK);

        n += (size_t) sprintf(doc + n, "<!---->");
        ck_assert_int_eq(feed_all(&g, doc, n, 5), DT_XMLGUARD_MARKUP_FLOOD);
        ck_assert_int_eq(g.where, (int64_t) n - 4);     /* the last "<!--", at its second '-' */
        u16 = utf16le(doc, n, &n16);
        ck_assert_int_eq(feed_all(&g, u16, n16, 3), DT_XMLGUARD_MARKUP_FLOOD);
}
END_TEST

/* a reader step may pull step_max bytes, and each step starts again from 0 */
START_TEST(step_bounded)
{
        static char text[STEP_MAX];
        struct dt_xmlguard g;

        memset(text, 'a', sizeof text);
        dt_xmlguard_init(&g, STEP_MAX);
        dt_xmlguard_step(&g);
        ck_assert_int_eq(dt_xmlguard_feed(&g, "<feedback>", 10), DT_XMLGUARD_OK);
        ck_assert_int_eq(dt_xmlguard_feed(&g, text, sizeof text - 10), DT_XMLGUARD_OK);
        dt_xmlguard_step(&g);
        ck_assert_int_eq(dt_xmlguard_feed(&g, text, sizeof text), DT_XMLGUARD_OK);
        ck_assert_int_eq(dt_xmlguard_feed(&g, "a", 1), DT_XMLGUARD_NO_START);
        ck_assert_int_eq(g.where, (int64_t) (2 * STEP_MAX + 1));
        /* the verdict sticks, and nothing more is counted */
        dt_xmlguard_step(&g);
        ck_assert_int_eq(dt_xmlguard_feed(&g, "<a/>", 4), DT_XMLGUARD_NO_START);
        ck_assert_uint_eq(g.consumed, 2 * STEP_MAX + 1);
}
END_TEST

/* an XML declaration is short; a long one could hide its encoding from the check */
START_TEST(declaration_bounded)
{
        static char doc[1024];
        struct dt_xmlguard g;
        size_t n;

        n = (size_t) sprintf(doc, "<?xml version=\"1.0\"%*s?>", DT_XMLGUARD_DECL_MAX - 21, "");
        ck_assert_uint_eq(n, DT_XMLGUARD_DECL_MAX);
        ck_assert_int_eq(feed_all(&g, doc, n, 1), DT_XMLGUARD_OK);
        n = (size_t) sprintf(doc, "<?xml version=\"1.0\"%*s encoding=\"UTF-7\"?>",
                             DT_XMLGUARD_DECL_MAX, "");
        ck_assert_int_eq(feed_all(&g, doc, n, 1), DT_XMLGUARD_DECL_LONG);
        ck_assert_int_eq(g.where, DT_XMLGUARD_DECL_MAX);
}
END_TEST

/* EBCDIC is recognised by its first four bytes ("<?xm" in code page 037) */
START_TEST(ebcdic_refused)
{
        struct dt_xmlguard g;

        ck_assert_int_eq(feed_all(&g, "\x4c\x6f\xa7\x94\x93", 5, 1), DT_XMLGUARD_ENCODING);
        ck_assert_str_eq(g.encoding, "EBCDIC");
        ck_assert_int_eq(feed_all(&g, "\x4c\x6f\xa7\x95", 4, 4), DT_XMLGUARD_OK);
}
END_TEST

START_TEST(encoding_list)
{
        static const char *const ok[] = {
                "UTF-8", "utf8", "UTF-16", "utf-16le", "UCS-4", "US-ASCII", "ISO-8859-1",
                "iso_8859-15", "ISO8859-2", "latin1", "windows-1252", "CP1251", "KOI8-R",
                "Shift_JIS", "EUC-JP", "GB18030", "Big5", "ISO-10646-UCS-2",
        };
        static const char *const refused[] = {
                "UTF-7", "UTF7", "UNICODE-1-1-UTF-7", "IBM037", "EBCDIC-US", "CP037", "CP1047",
                "ISO-2022-JP", "HZ", "bogus", "", "UTF-8//TRANSLIT", "ISO-8859-12",
                "windows-1259", "UTF-88",
        };
        char longname[100];
        size_t i;

        for (i = 0; i < sizeof ok / sizeof ok[0]; i++)
                ck_assert_msg(dt_xmlguard_encoding_ok(ok[i], strlen(ok[i])), "%s", ok[i]);
        for (i = 0; i < sizeof refused / sizeof refused[0]; i++)
                ck_assert_msg(!dt_xmlguard_encoding_ok(refused[i], strlen(refused[i])), "%s",
                              refused[i]);
        memset(longname, '-', sizeof longname);
        memcpy(longname + sizeof longname - 5, "UTF-8", 5);
        ck_assert(dt_xmlguard_encoding_ok(longname, sizeof longname));  /* separators only */
        memset(longname, 'A', sizeof longname);
        ck_assert(!dt_xmlguard_encoding_ok(longname, sizeof longname));
}
END_TEST

int main(void) {
        Suite *s = suite_create("xmlguard");
        TCase *tc = tcase_create("core");

        tcase_add_loop_test(tc, verdicts, 0, sizeof docs / sizeof docs[0]);
        tcase_add_test(tc, markup_counted);
        tcase_add_test(tc, step_bounded);
        tcase_add_test(tc, declaration_bounded);
        tcase_add_test(tc, ebcdic_refused);
        tcase_add_test(tc, encoding_list);
        suite_add_tcase(s, tc);
        return dt_test_main(s);
}
