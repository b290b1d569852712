/* xmlguard.c - byte-level checks on report XML before libxml2 reads it (see xmlguard.h)
 *
 * Four scans run over every byte, each a small state machine, so a document may be cut
 * anywhere between two reads:
 *   - the prolog, up to the root element: a "<!" that does not open a comment is a DOCTYPE;
 *   - comment and PI openings, all through the document, up to DT_XMLGUARD_MARKUP_MAX;
 *   - the XML declaration, when the document starts with one: every encoding="..." in it must
 *     be on the list below;
 *   - bytes per reader step. The reader reads on until the parser meets an element start, and
 *     keeps in memory all it read until then (its input buffer, every text, comment and PI
 *     node): 60 MB of text cut by comments cost 133 MB of RSS. An element start is never more
 *     than a few bytes away in a report, so step_max bounds that memory whatever the encoding.
 *
 * SECURITY: the bytes come from any mailbox on the Internet. The encoding list holds the
 * encodings in which '<', '!', '-', '?' and '>' are their ASCII bytes (with NULs around them in
 * UTF-16 and UCS-4) and no other byte sequence decodes to them: what these scans see is what
 * libxml2 sees. UTF-7 ("+ADw-" is '<') and EBCDIC are the ones a report could use to hide a
 * DOCTYPE or a comment flood; no receiver sends them. */
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "report/xmlguard.h"

enum {
        PROLOG_TEXT,
        PROLOG_LT,
        PROLOG_PI,
        PROLOG_BANG,
        PROLOG_BANG_DASH,
        PROLOG_COMMENT,
        PROLOG_DONE,
};

enum {
        DECL_LOOKING,                   /* matching "<?xml" at the start, after a BOM */
        DECL_INSIDE,                    /* collecting up to "?>" */
        DECL_DONE,
};

/* encodings a declaration may name, upper case, without '-', '_', '.', ':' or spaces */
static const char *const encodings_ok[] = {
        "UTF8", "UTF16", "UTF16LE", "UTF16BE", "UTF32", "UTF32LE", "UTF32BE",
        "UCS2", "UCS4", "ISO10646UCS2", "ISO10646UCS4",
        "ASCII", "USASCII", "LATIN1", "ISOLATIN1",
        "ISO88591", "ISO88592", "ISO88593", "ISO88594", "ISO88595", "ISO88596", "ISO88597",
        "ISO88598", "ISO88599", "ISO885910", "ISO885911", "ISO885913", "ISO885914",
        "ISO885915", "ISO885916",
        "WINDOWS1250", "WINDOWS1251", "WINDOWS1252", "WINDOWS1253", "WINDOWS1254",
        "WINDOWS1255", "WINDOWS1256", "WINDOWS1257", "WINDOWS1258",
        "CP1250", "CP1251", "CP1252", "CP1253", "CP1254", "CP1255", "CP1256", "CP1257", "CP1258",
        "KOI8R", "KOI8U", "SHIFTJIS", "SJIS", "EUCJP", "EUCKR", "GB2312", "GBK", "GB18030",
        "BIG5", "BIG5HKSCS",
};

void dt_xmlguard_init(struct dt_xmlguard *g, uint64_t step_max) {
        memset(g, 0, sizeof *g);
        g->step_max = step_max;
        g->where = -1;
        g->prolog = PROLOG_TEXT;
        g->decl = DECL_LOOKING;
}

void dt_xmlguard_step(struct dt_xmlguard *g) {
        g->step = 0;
}

bool dt_xmlguard_encoding_ok(const char *name, size_t len) {
        char norm[DT_XMLGUARD_NAME_MAX + 1];
        size_t i, n = 0;

        for (i = 0; i < len; i++) {
                char c = name[i];

                if (c == '-' || c == '_' || c == '.' || c == ':' || c == ' ')
                        continue;
                if (n == DT_XMLGUARD_NAME_MAX)
                        return false;
                norm[n++] = c >= 'a' && c <= 'z' ? (char) (c - 'a' + 'A') : c;
        }
        norm[n] = '\0';
        for (i = 0; i < sizeof encodings_ok / sizeof encodings_ok[0]; i++)
                if (strcmp(norm, encodings_ok[i]) == 0)
                        return true;
        return false;
}

/* verdict - record the first verdict and where it was found */
static enum dt_xmlguard_verdict verdict(struct dt_xmlguard *g, enum dt_xmlguard_verdict v,
                                        uint64_t at) {
        if (g->verdict == DT_XMLGUARD_OK) {
                g->verdict = v;
                g->where = (int64_t) at;
        }
        return g->verdict;
}

/* keep_name - the refused name, printable, for the error */
static void keep_name(struct dt_xmlguard *g, const char *s, size_t n) {
        size_t i;

        if (n > DT_XMLGUARD_NAME_MAX)
                n = DT_XMLGUARD_NAME_MAX;
        for (i = 0; i < n; i++) {
                char c = s[i];
                bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                             (c >= '0' && c <= '9') || c == '.' || c == '_' || c == ':' ||
                             c == '-';

                g->encoding[i] = plain ? c : '?';
        }
        g->encoding[n] = '\0';
}

/* decl_check - every encoding="..." of the collected declaration must be on the list. Each
 * occurrence is checked, not only the one in its place: libxml2 rejects a misplaced one, but
 * the scan need not know its grammar to be safe. An unterminated value is left to libxml2. */
static bool decl_check(struct dt_xmlguard *g) {
        static const char key[] = "encoding";
        const char *d = g->decl_buf, *end = d + g->decl_len;
        const char *p;

        for (p = d; (size_t) (end - p) >= sizeof key - 1; p++) {
                const char *v, *close;
                char q;

                if (strncasecmp(p, key, sizeof key - 1) != 0)
                        continue;
                v = p + sizeof key - 1;
                while (v < end && dt_xml_space((unsigned char) *v))
                        v++;
                if (v == end || *v != '=')
                        continue;
                v++;
                while (v < end && dt_xml_space((unsigned char) *v))
                        v++;
                if (v == end || (*v != '"' && *v != '\''))
                        continue;
                q = *v++;
                close = memchr(v, q, (size_t) (end - v));
                if (!close)
                        continue;
                if (!dt_xmlguard_encoding_ok(v, (size_t) (close - v))) {
                        keep_name(g, v, (size_t) (close - v));
                        return false;
                }
        }
        return true;
}

/* scan_decl - one non-NUL byte c, raw offset at, for the declaration scan */
static enum dt_xmlguard_verdict scan_decl(struct dt_xmlguard *g, unsigned char c, uint64_t at) {
        static const char open[] = "<?xml";

        if (g->decl == DECL_LOOKING) {
                /* a BOM's bytes (UTF-8, UTF-16, UCS-4 without its NULs) come first */
                if (g->decl_len == 0 && at < 4 && (c == 0xef || c == 0xbb || c == 0xbf ||
                                                   c == 0xfe || c == 0xff))
                        return DT_XMLGUARD_OK;
                if (g->decl_len < sizeof open - 1) {
                        if ((char) c != open[g->decl_len]) {
                                g->decl = DECL_DONE;
                                return DT_XMLGUARD_OK;
                        }
                        g->decl_buf[g->decl_len++] = (char) c;
                        return DT_XMLGUARD_OK;
                }
                if (!dt_xml_space(c)) {      /* "<?xml-stylesheet": not a declaration */
                        g->decl = DECL_DONE;
                        return DT_XMLGUARD_OK;
                }
                g->decl = DECL_INSIDE;
        }
        if (g->decl_len == DT_XMLGUARD_DECL_MAX)
                return verdict(g, DT_XMLGUARD_DECL_LONG, at);
        g->decl_buf[g->decl_len++] = (char) c;
        if (c == '>' && g->decl_buf[g->decl_len - 2] == '?') {
                g->decl = DECL_DONE;
                if (!decl_check(g))
                        return verdict(g, DT_XMLGUARD_ENCODING, at);
        }
        return DT_XMLGUARD_OK;
}

/* scan_prolog - one non-NUL byte for the DOCTYPE scan, until the root element starts.
 * XXX: in UTF-16 a non-ASCII character of a prolog comment can have the bytes of "-->" or "<!";
 * the scan then ends early (the reader's DOCTYPE node check is what remains) or rejects a
 * document libxml2 would accept. No receiver writes non-ASCII comments before the root. */
static enum dt_xmlguard_verdict scan_prolog(struct dt_xmlguard *g, char c, uint64_t at) {
        switch (g->prolog) {
        case PROLOG_TEXT:
                if (c == '<')
                        g->prolog = PROLOG_LT;
                break;
        case PROLOG_LT:
                g->prolog = c == '?' ? PROLOG_PI : c == '!' ? PROLOG_BANG : PROLOG_DONE;
                break;
        case PROLOG_BANG:
                if (c != '-')
                        return verdict(g, DT_XMLGUARD_DTD, at);
                g->prolog = PROLOG_BANG_DASH;
                break;
        case PROLOG_BANG_DASH:
                if (c != '-')
                        return verdict(g, DT_XMLGUARD_DTD, at);
                g->prolog = PROLOG_COMMENT;
                g->prolog_run = 0;
                break;
        case PROLOG_COMMENT:
                if (c == '>' && g->prolog_run >= 2)
                        g->prolog = PROLOG_TEXT;
                g->prolog_run = c == '-' ? g->prolog_run + 1 : 0;
                break;
        case PROLOG_PI:
                if (c == '>' && g->prolog_run)
                        g->prolog = PROLOG_TEXT;
                g->prolog_run = c == '?';
                break;
        default:
                break;
        }
        return DT_XMLGUARD_OK;
}

/* scan_markup - one non-NUL byte for the comment and PI count: "<?" and "<!-" each count */
static enum dt_xmlguard_verdict scan_markup(struct dt_xmlguard *g, char c, uint64_t at) {
        switch (g->markup) {
        case 0:
                if (c == '<')
                        g->markup = 1;
                return DT_XMLGUARD_OK;
        case 1:                         /* after '<' */
                g->markup = c == '!' ? 2 : c == '<' ? 1 : 0;
                if (c == '?')
                        g->n_markup++;
                break;
        case 2:                         /* after "<!" */
                g->markup = c == '-' ? 3 : c == '<' ? 1 : 0;
                break;
        default:                        /* after "<!-" */
                if (c == '-')
                        g->n_markup++;
                g->markup = c == '<' ? 1 : 0;
                break;
        }
        if (g->n_markup > DT_XMLGUARD_MARKUP_MAX)
                return verdict(g, DT_XMLGUARD_MARKUP_FLOOD, at);
        return DT_XMLGUARD_OK;
}

enum dt_xmlguard_verdict dt_xmlguard_feed(struct dt_xmlguard *g, const void *buf, size_t n) {
        const unsigned char *b = buf;
        size_t i;

        if (g->verdict != DT_XMLGUARD_OK)
                return g->verdict;
        if (g->head_len < sizeof g->head) {     /* the first four bytes, once */
                for (i = 0; i < n && g->head_len < sizeof g->head; i++)
                        g->head[g->head_len++] = b[i];
                /* EBCDIC's "<?xm": libxml2 would decode it through iconv */
                if (g->head_len == sizeof g->head &&
                    memcmp(g->head, "\x4c\x6f\xa7\x94", 4) == 0) {
                        keep_name(g, "EBCDIC", 6);
                        return verdict(g, DT_XMLGUARD_ENCODING, 0);
                }
        }

        for (i = 0; i < n; i++) {
                uint64_t at = g->consumed + i;
                char c = (char) b[i];

                /* past the prolog, only '<' can start anything: skip to the next one */
                if (g->markup == 0 && g->prolog == PROLOG_DONE && g->decl == DECL_DONE) {
                        const unsigned char *lt = memchr(b + i, '<', n - i);

                        if (!lt)
                                break;
                        i = (size_t) (lt - b);
                        at = g->consumed + i;
                        c = '<';
                }
                if (c == '\0')
                        continue;
                if (g->decl != DECL_DONE && scan_decl(g, b[i], at) != DT_XMLGUARD_OK)
                        return g->verdict;
                if (g->prolog != PROLOG_DONE && scan_prolog(g, c, at) != DT_XMLGUARD_OK)
                        return g->verdict;
                if ((g->markup != 0 || c == '<') && scan_markup(g, c, at) != DT_XMLGUARD_OK)
                        return g->verdict;
        }
        g->consumed += n;
        g->step += n;
        if (g->step > g->step_max)
                return verdict(g, DT_XMLGUARD_NO_START, g->consumed);
        return DT_XMLGUARD_OK;
}
