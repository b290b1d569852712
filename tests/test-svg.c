/* test-svg.c - the summary chart's SVG writer: escaping of hostile text, and whole documents
 * read back with libxml2 (well-formed, the SVG namespace, one red bar and marker per spike day,
 * hostile domain names as text and never as markup) */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#include "agent/svg.h"
#include "report/macro.h"
#include "report/sanitize.h"
#include "tests/testutil.h"

#define FFFD "\xef\xbf\xbd"
#define SVG_NS "http://www.w3.org/2000/svg"

static const struct {
        const char *name, *in, *want;
} esc_cases[] = {
        { "plain", "shop.example", "shop.example" },
        { "NULL", NULL, "" },
        { "markup", "a<b>&c\"d'e", "a&lt;b&gt;&amp;c&quot;d&apos;e" },
        { "closing tag and script", "</text><script>alert(1)</script>",
          "&lt;/text&gt;&lt;script&gt;alert(1)&lt;/script&gt;" },
        { "an entity stays text", "&amp;&#x3c;", "&amp;amp;&amp;#x3c;" },
        { "CDATA end", "]]>", "]]&gt;" },
        { "control characters", "a\x01" "b\x1b[2J", "a" FFFD "b" FFFD "[2J" },
        { "newline", "a\nb", "a b" },
        { "U+FFFE and U+FFFF", "\xef\xbf\xbe" "x\xef\xbf\xbf", FFFD "x" FFFD },
        { "invalid UTF-8", "\xc3(", FFFD "(" },
        { "umlaut kept", "m\xc3\xbcller.example", "m\xc3\xbcller.example" },
};

START_TEST(escape_table)
{
        char out[256];

        ck_assert_msg(strcmp(dt_svg_escape(esc_cases[_i].in, out, sizeof out), esc_cases[_i].want) == 0,
                      "%s: got '%s'", esc_cases[_i].name, out);
}
END_TEST

/* a cut never splits an entity or a character */
START_TEST(escape_cuts_on_boundaries)
{
        char out[8];

        ck_assert_str_eq(dt_svg_escape("ab&cd", out, 6), "ab");         /* "&amp;" would not fit */
        ck_assert_str_eq(dt_svg_escape("ab&cd", out, 8), "ab&amp;");
        ck_assert_str_eq(dt_svg_escape("a\xc3\xbc\xc3\xbc", out, 5), "a\xc3\xbc");
        ck_assert_str_eq(dt_svg_escape("abc", out, 1), "");
}
END_TEST

/* any bytes at all, escaped, are the text of a well-formed element and hold no markup */
START_TEST(escape_property_random_bytes)
{
        unsigned seed = 12345;

        for (int round = 0; round < 3000; round++) {
                char in[65], out[65 * 6 + 1], xml[2 * sizeof out + 16];
                size_t n = (size_t) (rand_r(&seed) % 65);
                xmlDocPtr doc;

                for (size_t i = 0; i < n; i++)
                        in[i] = (char) (rand_r(&seed) % 4 == 0 ? "<>&\"'\xef\xbf"[rand_r(&seed) % 7]
                                                               : rand_r(&seed) % 256);
                in[n] = '\0';  /* a NUL inside ends the text: C strings */
                dt_svg_escape(in, out, sizeof out);
                ck_assert_ptr_null(strpbrk(out, "<>\"'"));
                (void) snprintf(xml, sizeof xml, "<t a=\"%s\">%s</t>", out, out);
                doc = xmlReadMemory(xml, (int) strlen(xml), "t.xml", NULL,
                                    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
                ck_assert_msg(doc != NULL, "round %d: not well-formed: %s", round, xml);
                xmlFreeDoc(doc);
        }
}
END_TEST

/* doc - a written document, parsed; the test fails when it is not well-formed */
struct doc {
        char *text;
        size_t len;
        xmlDocPtr xml;
        xmlXPathContextPtr ctx;
};

static void doc_free(struct doc *d) {
        xmlXPathFreeContext(d->ctx);
        xmlFreeDoc(d->xml);
        free(d->text);
}

static void doc_parse(struct doc *d) {
        d->xml = xmlReadMemory(d->text, (int) d->len, "chart.svg", NULL,
                               XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
        ck_assert_msg(d->xml != NULL, "not well-formed:\n%s", d->text);
        d->ctx = xmlXPathNewContext(d->xml);
        ck_assert_ptr_nonnull(d->ctx);
        ck_assert_int_eq(xmlXPathRegisterNs(d->ctx, BAD_CAST "s", BAD_CAST SVG_NS), 0);
}

/* count - the number of nodes expr selects */
static int count(struct doc *d, const char *expr) {
        xmlXPathObjectPtr o = xmlXPathEvalExpression(BAD_CAST expr, d->ctx);
        int n;

        ck_assert_msg(o != NULL, "bad XPath %s", expr);
        n = o->nodesetval ? o->nodesetval->nodeNr : 0;
        xmlXPathFreeObject(o);
        return n;
}

/* string - the string value of expr (the first node's text), in buf */
static const char *string(struct doc *d, const char *expr, char *buf, size_t cap) {
        char full[512];
        xmlXPathObjectPtr o;

        (void) snprintf(full, sizeof full, "string(%s)", expr);
        o = xmlXPathEvalExpression(BAD_CAST full, d->ctx);
        ck_assert_ptr_nonnull(o);
        (void) snprintf(buf, cap, "%s", o->stringval ? (const char *) o->stringval : "");
        xmlXPathFreeObject(o);
        return buf;
}

static const char *const hostile[] = {
        "</text><script>alert(1)</script><text>",
        "a&b\"c'd<e>]]>",
        "x\x01y\xef\xbf\xbf" "z\xc3",
};

/* write_doc - two weeks for each hostile title, spikes on days 9 and 10 of each */
static void write_doc(struct doc *d) {
        struct dt_svg_day days[14];
        char labels[14][16];
        FILE *f = open_memstream(&d->text, &d->len);

        ck_assert_ptr_nonnull(f);
        for (size_t i = 0; i < ELEMENTSOF(days); i++) {
                bool spike = i == 9 || i == 10;

                (void) snprintf(labels[i], sizeof labels[i], "2026-11-%02zu", i + 1);
                days[i] = (struct dt_svg_day) { .label = labels[i], .messages = spike ? 9000 : 100,
                                                .own = spike ? 8990 : 100,
                                                .height = spike ? 1.0 : 100 / 9000.0,
                                                .spike = spike };
        }
        ck_assert_int_eq(dt_svg_begin(f, "<b>summary</b>", ELEMENTSOF(hostile), ELEMENTSOF(days)), 0);
        for (size_t p = 0; p < ELEMENTSOF(hostile); p++)
                ck_assert_int_eq(dt_svg_panel(f, p, &(const struct dt_svg_panel) {
                        .title = hostile[p], .subtitle = "messages & spikes", .max = 9000,
                        .days = days, .ndays = ELEMENTSOF(days) }), 0);
        ck_assert_int_eq(dt_svg_end(f), 0);
        ck_assert_int_eq(fclose(f), 0);
}

START_TEST(document_reads_back)
{
        struct doc d = {0};
        xmlNodePtr root;
        char buf[512], want[512], expr[128];

        write_doc(&d);
        doc_parse(&d);
        root = xmlDocGetRootElement(d.xml);
        ck_assert_str_eq((const char *) root->name, "svg");
        ck_assert_ptr_nonnull(root->ns);
        ck_assert_str_eq((const char *) root->ns->href, SVG_NS);
        ck_assert_str_eq(string(&d, "/s:svg/@version", buf, sizeof buf), "1.1");
        ck_assert_str_eq(string(&d, "/s:svg/s:title", buf, sizeof buf), "<b>summary</b>");
        /* no element but the ones the writer makes, no event handler, no link, no DOCTYPE */
        ck_assert_int_eq(count(&d, "//*[not(self::s:svg or self::s:title or self::s:rect or "
                                   "self::s:text or self::s:g or self::s:line or self::s:path)]"), 0);
        ck_assert_int_eq(count(&d, "//@*[starts-with(name(), 'on') or contains(name(), 'href')]"), 0);
        ck_assert_ptr_null(d.xml->intSubset);
        /* per panel: 14 bars, two of them red with a marker and a count */
        ck_assert_int_eq(count(&d, "//s:g[@class='panel']"), 3);
        ck_assert_int_eq(count(&d, "//s:rect[@class='bar' or @class='bar spike']"), 3 * 14);
        ck_assert_int_eq(count(&d, "//s:rect[@class='bar spike']"), 3 * 2);
        ck_assert_int_eq(count(&d, "//s:path[@class='marker']"), 3 * 2);
        ck_assert_str_eq(string(&d, "(//s:rect[@class='bar spike'])[1]/s:title", buf, sizeof buf),
                         "2026-11-10: 9000 messages, 8990 from this host, spike");
        ck_assert_str_eq(string(&d, "(//s:text[@class='count'])[2]", buf, sizeof buf), "9000 (11-11)");
        /* each hostile name is the text of its heading, as sanitised, nothing more */
        for (size_t p = 0; p < ELEMENTSOF(hostile); p++) {
                (void) dt_sanitize(hostile[p], strlen(hostile[p]), want, sizeof want, NULL);
                (void) snprintf(expr, sizeof expr, "(//s:text[@class='domain'])[%zu]", p + 1);
                string(&d, expr, buf, sizeof buf);
                if (p == 2)     /* U+FFFF is no XML character: U+FFFD like the rest */
                        ck_assert_str_eq(buf, "x" FFFD "y" FFFD "z" FFFD);
                else
                        ck_assert_str_eq(buf, want);
        }
        doc_free(&d);
}
END_TEST

START_TEST(empty_document)
{
        struct doc d = {0};
        char buf[128];
        FILE *f = open_memstream(&d.text, &d.len);

        ck_assert_ptr_nonnull(f);
        ck_assert_int_eq(dt_svg_begin(f, "empty", 0, 30), 0);
        ck_assert_int_eq(dt_svg_end(f), 0);
        ck_assert_int_eq(fclose(f), 0);
        doc_parse(&d);
        ck_assert_int_eq(count(&d, "//s:rect[@class]"), 0);
        ck_assert_str_eq(string(&d, "/s:svg/s:text[2]", buf, sizeof buf), "no daily volumes in the store");
        doc_free(&d);
}
END_TEST

/* a full disk is an error, not a silently cut file */
START_TEST(write_error)
{
        FILE *f = fopen("/dev/full", "we");

        if (!f) {
                printf("# SKIP write_error: no /dev/full here\n");
                return;
        }
        setvbuf(f, NULL, _IONBF, 0);
        ck_assert_int_eq(dt_svg_begin(f, "x", 1, 7), -EIO);
        ck_assert_int_eq(dt_svg_end(f), -EIO);
        (void) fclose(f);
}
END_TEST

static Suite *svg_suite(void) {
        Suite *s = suite_create("svg");
        TCase *tc = tcase_create("core");

        tcase_add_loop_test(tc, escape_table, 0, (int) ELEMENTSOF(esc_cases));
        tcase_add_test(tc, escape_cuts_on_boundaries);
        tcase_add_test(tc, escape_property_random_bytes);
        tcase_add_test(tc, document_reads_back);
        tcase_add_test(tc, empty_document);
        tcase_add_test(tc, write_error);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        int r = dt_test_main(svg_suite());

        xmlCleanupParser();
        return r;
}
