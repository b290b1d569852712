/* xmlguard.h - byte-level checks on report XML before libxml2 reads it
 *
 * libxml2 2.9.14's xmlTextReader works ahead of the node it hands out, and some of that work
 * cannot be stopped from the reader's side once the bytes are in: a DOCTYPE's internal subset is
 * parsed, comments are kept as nodes, and everything read while it waits for the next element
 * start stays in memory. So the bytes are checked here first, as the reader's read callback
 * passes them on, and a verdict other than DT_XMLGUARD_OK makes that callback fail.
 *
 * The checks read ASCII markup in the raw bytes. NUL bytes are skipped, which reads the ASCII
 * of UTF-16 and UCS-4 as well; an encoding in which markup is not ASCII (UTF-7, EBCDIC) would
 * hide it, so a declared encoding must be one of a short list, and EBCDIC is refused. */
#ifndef DT_XMLGUARD_H
#define DT_XMLGUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DT_XMLGUARD_MARKUP_MAX 1000     /* comments and processing instructions per document */
#define DT_XMLGUARD_DECL_MAX 256        /* bytes of the XML declaration (NULs not counted) */
#define DT_XMLGUARD_NAME_MAX 40         /* bytes of an encoding name kept for the error */

enum dt_xmlguard_verdict {
        DT_XMLGUARD_OK,
        DT_XMLGUARD_DTD,                /* "<!" before the root that does not open a comment */
        DT_XMLGUARD_MARKUP_FLOOD,       /* over DT_XMLGUARD_MARKUP_MAX comments and PIs */
        DT_XMLGUARD_ENCODING,           /* EBCDIC, or a declared encoding not on the list */
        DT_XMLGUARD_DECL_LONG,          /* an XML declaration over DT_XMLGUARD_DECL_MAX */
        DT_XMLGUARD_NO_START,           /* over step_max bytes read in one reader step */
};

struct dt_xmlguard {
        uint64_t step_max;              /* bytes the reader may pull for one node */
        uint64_t consumed;              /* bytes passed so far */
        uint64_t step;                  /* bytes passed since dt_xmlguard_step() */
        enum dt_xmlguard_verdict verdict;       /* sticky: the first one wins */
        int64_t where;                  /* byte offset of what the verdict is about */
        char encoding[DT_XMLGUARD_NAME_MAX + 1];        /* DT_XMLGUARD_ENCODING: the name, with
                                                         * anything but [A-Za-z0-9._:-] as '?' */

        /* private: where each scan is */
        int prolog;                     /* DOCTYPE scan, until the root element starts */
        unsigned prolog_run;            /* '-' or '?' just seen */
        int markup;                     /* position in "<!-" or "<?" */
        unsigned n_markup;
        int decl;                       /* the XML declaration: looking, inside, done */
        size_t decl_len;
        char decl_buf[DT_XMLGUARD_DECL_MAX + 1];
        unsigned char head[4];          /* the first raw bytes, for EBCDIC */
        size_t head_len;
};

/* dt_xmlguard_init - a guard for one document; a reader step may pull at most step_max bytes */
void dt_xmlguard_init(struct dt_xmlguard *g, uint64_t step_max);

/* dt_xmlguard_step - a new reader step begins (call before each xmlTextReaderRead) */
void dt_xmlguard_step(struct dt_xmlguard *g);

/* dt_xmlguard_feed - check the next n bytes; returns the (sticky) verdict */
enum dt_xmlguard_verdict dt_xmlguard_feed(struct dt_xmlguard *g, const void *buf, size_t n);

/* dt_xml_space - XML white space (the S production: space, tab, CR, LF) */
static inline bool dt_xml_space(unsigned char c) {
        return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* dt_xmlguard_encoding_ok - whether a declared encoding name is on the list */
bool dt_xmlguard_encoding_ok(const char *name, size_t len);

#endif
