/* aggregate.c - stream one DMARC aggregate report into struct dt_aggregate
 *
 * libxml2's xmlTextReader pulls the decoded XML from the unpacker (dt_input_read) a slice at a
 * time and hands us one node at a time; it frees each subtree once we move past it, so memory
 * does not grow with the number of records. We keep a small stack of the known elements we are
 * in (RFC 7489 appendix C and RFC 9990, matched on local names so any namespace or prefix is
 * accepted), collect the text of leaf elements into one capped buffer, and store each value when
 * its element closes. dt_aggregate_open() stops at the first <record>; dt_aggregate_next() fills
 * one struct dt_record, reused from record to record.
 *
 * What receivers really send is accepted: values are trimmed (Yahoo's trailing TABs), the
 * enumerations are lower-cased, elements may come in any order, optional ones may be missing,
 * unknown ones are listed by name as extensions. An empty value is NULL (an empty <org_name> gives
 * org NULL; an empty <reason> gives a reason whose type and comment are NULL). A record with a
 * count that is not a non-negative 64-bit integer, a source_ip that is not an address, or a count
 * that would overflow the report's total is skipped with a warning. A repeated element keeps its
 * first value, with a warning.
 *
 * Identity: a report needs a report_id and a policy domain (the store's dedupe key). When
 * report_metadata / policy_published come before the first record (the normal case), open()
 * rejects a report lacking either; when they come after the records, the check happens when
 * next() reaches the end of the document, and next() then fails with AGG_IDENTITY_MISSING.
 *
 * A root other than <feedback> is XML_NOT_DMARC, but only once the document has been read to its
 * end without an XML error (skipping everything), so broken XML is always XML_MALFORMED. A
 * report_id longer than limits->xml_text_bytes, any text node past libxml2's own 10 MB limit, or
 * more than step_max() bytes without an element start, is FIELD_LIMIT; other long values are cut
 * (on a UTF-8 boundary) with a warning.
 *
 * Errors and warnings carry xmlTextReaderByteConsumed() as their offset: how far libxml2 has
 * read, which is at or a little past the node concerned. XML_MALFORMED also carries the line of
 * libxml2's first fatal error.
 *
 * SECURITY: the XML comes from any mailbox on the Internet. The parser runs with no network
 * (XML_PARSE_NONET), no entity substitution, no DTD loading, no XInclude and libxml2's own size
 * limits left on (never XML_PARSE_NOENT, DTDLOAD, HUGE or XINCLUDE). input_read() passes every
 * byte through report/xmlguard.c before libxml2 sees it, because libxml2 works ahead of the node
 * the reader hands out: the guard refuses a DOCTYPE (a billion-laughs subset would otherwise be
 * worked on first), more than DT_XMLGUARD_MARKUP_MAX comments and PIs, an encoding that would
 * hide markup from it, and more than step_max() bytes read for one node (all of which the
 * reader would hold in memory). Any DOCTYPE or entity node the reader still returns rejects the
 * document too. The process-wide external
 * entity loader is replaced by one that loads nothing, so even a libxml2 code path we did not
 * foresee cannot read a file or fetch a URL. Depth is checked on every node against
 * limits->xml_depth, the text of one field against limits->xml_text_bytes, records against
 * limits->records; lists inside a record, the extension names and the warnings are capped here.
 * Values are copied as libxml2 hands them out (valid UTF-8) and stay hostile: callers sanitise
 * before printing. Never logs. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlreader.h>

#include "report/aggregate.h"
#include "report/xmlguard.h"

#define PARSE_OPTIONS (XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA)

#define LIST_MAX 64             /* <reason>, auth_results <dkim>, <spf> per record */
#define EXTENSIONS_MAX 64       /* distinct unknown element names kept */
#define EXTENSION_NAME_MAX 128  /* bytes of one such name */
#define WARNINGS_MAX 1000       /* warnings kept; the last slot then says more were dropped */
#define STACK_MAX 16            /* the schema is 6 deep; deeper elements are unknown (skipped) */

enum el {
        E_NONE,
        E_FEEDBACK,
        E_VERSION,
        E_METADATA,
        E_ORG,
        E_EMAIL,
        E_EXTRA,
        E_REPORT_ID,
        E_GENERATOR,
        E_ERROR,
        E_DATE_RANGE,
        E_BEGIN,
        E_END,
        E_POLICY,
        E_P_DOMAIN,
        E_P_ADKIM,
        E_P_ASPF,
        E_P_P,
        E_P_SP,
        E_P_NP,
        E_P_PCT,
        E_P_FO,
        E_P_TESTING,
        E_P_DISCOVERY,
        E_EXTENSIONS,
        /* everything from here on belongs to one record; seen[] is reset per record */
        E_RECORD,
        E_ROW,
        E_SOURCE_IP,
        E_COUNT,
        E_EVAL,
        E_DISPOSITION,
        E_EVAL_DKIM,
        E_EVAL_SPF,
        E_REASON,
        E_R_TYPE,
        E_R_COMMENT,
        E_IDENTIFIERS,
        E_HEADER_FROM,
        E_ENV_FROM,
        E_ENV_TO,
        E_AUTH,
        E_A_DKIM,
        E_AD_DOMAIN,
        E_AD_SELECTOR,
        E_AD_RESULT,
        E_AD_HUMAN,
        E_A_SPF,
        E_AS_DOMAIN,
        E_AS_SCOPE,
        E_AS_RESULT,
        E_AS_HUMAN,
        E_R_EXTENSIONS,
        _E_MAX,
};

enum {
        F_LEAF = 1 << 0,        /* collect its text */
        F_LOWER = 1 << 1,       /* an enumeration: lower-case the value */
};

struct el_def {
        const char *name;       /* local name */
        enum el id;
        unsigned flags;
};

/* the known children of each element, by the parent's id */
static const struct el_def in_root[] = {
        { "feedback", E_FEEDBACK, 0 },
};
static const struct el_def in_feedback[] = {
        { "version", E_VERSION, F_LEAF },
        { "report_metadata", E_METADATA, 0 },
        { "policy_published", E_POLICY, 0 },
        { "record", E_RECORD, 0 },
        { "extensions", E_EXTENSIONS, 0 },      /* RFC 9990: its children are listed */
        { "extension", E_EXTENSIONS, 0 },       /* as spelled in some DMARCbis drafts */
};
static const struct el_def in_metadata[] = {
        { "org_name", E_ORG, F_LEAF },
        { "email", E_EMAIL, F_LEAF },
        { "extra_contact_info", E_EXTRA, F_LEAF },
        { "report_id", E_REPORT_ID, F_LEAF },
        { "generator", E_GENERATOR, F_LEAF },
        { "error", E_ERROR, F_LEAF },           /* RFC 7489, repeatable; not kept */
        { "date_range", E_DATE_RANGE, 0 },
};
static const struct el_def in_date_range[] = {
        { "begin", E_BEGIN, F_LEAF },
        { "end", E_END, F_LEAF },
};
static const struct el_def in_policy[] = {
        { "domain", E_P_DOMAIN, F_LEAF },
        { "adkim", E_P_ADKIM, F_LEAF | F_LOWER },
        { "aspf", E_P_ASPF, F_LEAF | F_LOWER },
        { "p", E_P_P, F_LEAF | F_LOWER },
        { "sp", E_P_SP, F_LEAF | F_LOWER },
        { "np", E_P_NP, F_LEAF | F_LOWER },
        { "pct", E_P_PCT, F_LEAF },
        { "fo", E_P_FO, F_LEAF },
        { "testing", E_P_TESTING, F_LEAF | F_LOWER },
        { "discovery_method", E_P_DISCOVERY, F_LEAF },
};
static const struct el_def in_record[] = {
        { "row", E_ROW, 0 },
        { "identifiers", E_IDENTIFIERS, 0 },
        { "auth_results", E_AUTH, 0 },
        { "extensions", E_R_EXTENSIONS, 0 },
        { "extension", E_R_EXTENSIONS, 0 },
};
static const struct el_def in_row[] = {
        { "source_ip", E_SOURCE_IP, F_LEAF },
        { "count", E_COUNT, F_LEAF },
        { "policy_evaluated", E_EVAL, 0 },
};
static const struct el_def in_evaluated[] = {
        { "disposition", E_DISPOSITION, F_LEAF | F_LOWER },
        { "dkim", E_EVAL_DKIM, F_LEAF | F_LOWER },
        { "spf", E_EVAL_SPF, F_LEAF | F_LOWER },
        { "reason", E_REASON, 0 },
};
static const struct el_def in_reason[] = {
        { "type", E_R_TYPE, F_LEAF | F_LOWER },
        { "comment", E_R_COMMENT, F_LEAF },
};
static const struct el_def in_identifiers[] = {
        { "header_from", E_HEADER_FROM, F_LEAF },
        { "envelope_from", E_ENV_FROM, F_LEAF },
        { "envelope_to", E_ENV_TO, F_LEAF },
};
static const struct el_def in_auth[] = {
        { "dkim", E_A_DKIM, 0 },
        { "spf", E_A_SPF, 0 },
};
static const struct el_def in_auth_dkim[] = {
        { "domain", E_AD_DOMAIN, F_LEAF },
        { "selector", E_AD_SELECTOR, F_LEAF },
        { "result", E_AD_RESULT, F_LEAF | F_LOWER },
        { "human_result", E_AD_HUMAN, F_LEAF },
};
static const struct el_def in_auth_spf[] = {
        { "domain", E_AS_DOMAIN, F_LEAF },
        { "scope", E_AS_SCOPE, F_LEAF | F_LOWER },
        { "result", E_AS_RESULT, F_LEAF | F_LOWER },
        { "human_result", E_AS_HUMAN, F_LEAF },
};

#define KIDS(x) { x, ELEMENTSOF(x) }
static const struct {
        const struct el_def *defs;
        size_t n;
} schema[_E_MAX] = {
        [E_NONE] = KIDS(in_root),
        [E_FEEDBACK] = KIDS(in_feedback),
        [E_METADATA] = KIDS(in_metadata),
        [E_DATE_RANGE] = KIDS(in_date_range),
        [E_POLICY] = KIDS(in_policy),
        [E_RECORD] = KIDS(in_record),
        [E_ROW] = KIDS(in_row),
        [E_EVAL] = KIDS(in_evaluated),
        [E_REASON] = KIDS(in_reason),
        [E_IDENTIFIERS] = KIDS(in_identifiers),
        [E_AUTH] = KIDS(in_auth),
        [E_A_DKIM] = KIDS(in_auth_dkim),
        [E_A_SPF] = KIDS(in_auth_spf),
};

/* what the node handlers tell the pump */
enum {
        EV_NONE,
        EV_RECORD_START,
        EV_RECORD_DONE,         /* a valid record is in a->rec */
};

struct dt_aggregate {
        struct dt_input *in;                    /* borrowed */
        struct dt_limits lim;
        xmlTextReaderPtr rd;

        char *org, *email, *extra_contact, *report_id, *version, *generator;
        int64_t begin, end;
        struct dt_policy policy;
        uint64_t n_records;                     /* valid, handed out */
        uint64_t n_messages;
        uint64_t n_seen_records;                /* every <record>, for limits->records */

        char **ext;
        size_t n_ext;
        bool ext_full;
        struct dt_warning *warn;
        size_t n_warn;

        /* the record being filled; its arrays are kept and reused */
        struct dt_record rec;
        size_t cap_reasons, cap_dkim, cap_spf;
        bool rec_bad;                           /* skip it: the first reason is in rec_bad_* */
        const char *rec_bad_reason;
        int64_t rec_bad_offset;
        bool rec_list_full;
        bool cur_entry;                         /* the open <reason>/<dkim>/<spf> got a slot */

        /* where we are */
        const struct el_def *stack[STACK_MAX];
        int skip_depth;                         /* inside an unknown element at this depth, or -1 */
        bool seen[_E_MAX];
        bool root_seen;
        bool not_dmarc;                         /* the root is not <feedback> */
        int64_t not_dmarc_offset;
        bool ended;                             /* the reader reached the end of the document */

        /* text of the open leaf element */
        char *text;
        size_t text_len, text_alloc;
        bool text_truncated;

        /* the first error libxml2 reported, for XML_MALFORMED */
        bool xml_err_set, xml_err_fatal;
        int xml_err_line;
        char xml_err_msg[160];

        /* the bytes as input_read() has passed them to libxml2 */
        struct dt_xmlguard guard;

        /* once next() failed, it keeps failing the same way */
        bool failed;
        struct dt_error failure;
};

/* deny_entity_loader - the process-wide external entity loader: loads nothing, ever */
static xmlParserInputPtr deny_entity_loader(const char *url _unused_, const char *id _unused_,
                                            xmlParserCtxtPtr ctxt _unused_) {
        return NULL;
}

/* silent_error - libxml2's generic (process-wide) error handler: drop the text. Encoding errors
 * of 2.9.14 go there and not to the reader's structured handler; they would reach stderr, and
 * report/ never writes anything. The reader's handler still sees the parse failing. */
static void silent_error(void *ctx _unused_, const char *msg _unused_, ...) {
}

/* install_entity_loader - replace libxml2's loader and its generic error output once
 * (idempotent; report/ is single-threaded) */
static void install_entity_loader(void) {
        xmlInitParser();
        if (xmlGetExternalEntityLoader() != deny_entity_loader)
                xmlSetExternalEntityLoader(deny_entity_loader);
        xmlSetGenericErrorFunc(NULL, silent_error);
}

/* offset - where the parser is in the decoded input, for errors and warnings */
static int64_t offset(const struct dt_aggregate *a) {
        long n;

        if (!a->rd)
                return -1;
        n = xmlTextReaderByteConsumed(a->rd);
        return n < 0 ? -1 : (int64_t) n;
}

/* warn - remember a warning (reason is static text); past WARNINGS_MAX the last one says so */
static int warn(struct dt_aggregate *a, const char *reason) {
        if (a->n_warn >= WARNINGS_MAX)
                return 0;
        if (!a->warn) {
                a->warn = calloc(WARNINGS_MAX, sizeof *a->warn);
                if (!a->warn)
                        return -ENOMEM;
        }
        if (a->n_warn == WARNINGS_MAX - 1)
                reason = "too many warnings, further ones dropped";
        a->warn[a->n_warn].reason = reason;
        a->warn[a->n_warn].offset = offset(a);
        a->n_warn++;
        return 0;
}

/* record_bad - mark the open record to be skipped; the first reason wins */
static void record_bad(struct dt_aggregate *a, const char *reason) {
        if (a->rec_bad)
                return;
        a->rec_bad = true;
        a->rec_bad_reason = reason;
        a->rec_bad_offset = offset(a);
}

/* utf8_cut - the longest prefix of s[0..len) that does not end inside a UTF-8 sequence */
static size_t utf8_cut(const char *s, size_t len) {
        size_t i = len, need;
        unsigned char c;

        while (i > 0 && len - i < 4 && ((unsigned char) s[i - 1] & 0xC0) == 0x80)
                i--;
        if (i == 0)
                return 0;
        c = (unsigned char) s[i - 1];
        if (c < 0x80)
                return len;             /* ASCII last: nothing cut (or only stray bytes) */
        need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
        return len - (i - 1) >= need ? len : i - 1;
}

/* text_append - add n bytes of a text node, up to limits->xml_text_bytes */
static int text_append(struct dt_aggregate *a, const char *s, size_t n) {
        size_t room, want, alloc;
        char *p;

        room = a->lim.xml_text_bytes - a->text_len;
        if (n > room) {
                n = room;
                a->text_truncated = true;
        }
        if (n == 0)
                return 0;
        want = a->text_len + n + 1;
        if (want > a->text_alloc) {
                alloc = a->text_alloc ? a->text_alloc : 256;
                while (alloc < want)
                        alloc *= 2;
                if (alloc > (size_t) a->lim.xml_text_bytes + 1)
                        alloc = (size_t) a->lim.xml_text_bytes + 1;
                p = realloc(a->text, alloc);
                if (!p)
                        return -ENOMEM;
                a->text = p;
                a->text_alloc = alloc;
        }
        memcpy(a->text + a->text_len, s, n);
        a->text_len += n;
        return 0;
}

static bool is_xml_space(char c) {
        return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* text_take - the collected text, trimmed, as a new string; *out NULL when empty */
static int text_take(struct dt_aggregate *a, bool lower, char **out) {
        size_t b = 0, e = a->text_len, i;
        char *s;

        if (a->text_truncated)
                e = utf8_cut(a->text, e);
        while (b < e && is_xml_space(a->text[b]))
                b++;
        while (e > b && is_xml_space(a->text[e - 1]))
                e--;
        *out = NULL;
        if (e == b)
                return 0;
        s = strndup(a->text + b, e - b);
        if (!s)
                return -ENOMEM;
        if (lower)
                for (i = 0; s[i]; i++)
                        if (s[i] >= 'A' && s[i] <= 'Z')
                                s[i] = (char) (s[i] - 'A' + 'a');
        *out = s;
        return 0;
}

/* parse_u64 - digits only (after trimming), no sign, no exponent, must fit in 64 bits */
static int parse_u64(const char *s, uint64_t *out) {
        uint64_t v = 0;

        if (!s || !*s)
                return -EINVAL;
        for (; *s; s++) {
                if (*s < '0' || *s > '9')
                        return -EINVAL;
                if (v > (UINT64_MAX - (uint64_t) (*s - '0')) / 10)
                        return -ERANGE;
                v = v * 10 + (uint64_t) (*s - '0');
        }
        *out = v;
        return 0;
}

/* parse_time - integer epoch seconds (digits, optional leading '-'), fitting in int64 */
static int parse_time(const char *s, int64_t *out) {
        bool neg = false;
        uint64_t v;
        int r;

        if (s && *s == '-') {
                neg = true;
                s++;
        }
        r = parse_u64(s, &v);
        if (r < 0)
                return r;
        if (v > (uint64_t) INT64_MAX)
                return -ERANGE;
        *out = neg ? -(int64_t) v : (int64_t) v;
        return 0;
}

/* dotted_quad - an IPv4 address as inet_ntop writes it (decimal octets, no leading zeros), into
 * buf of at least INET_ADDRSTRLEN bytes (inet_ntop's own formatting goes through sprintf) */
static void dotted_quad(const unsigned char *bin, char *buf) {
        char *p = buf;
        int i;

        for (i = 0; i < 4; i++) {
                unsigned v = bin[i];

                if (i > 0)
                        *p++ = '.';
                if (v >= 100)
                        *p++ = (char) ('0' + v / 100);
                if (v >= 10)
                        *p++ = (char) ('0' + v / 10 % 10);
                *p++ = (char) ('0' + v % 10);
        }
        *p = '\0';
}

/* colon_hex - an IPv6 address as glibc's inet_ntop writes it, into buf of at least
 * INET6_ADDRSTRLEN bytes: lower-case hex words without leading zeros, the first longest run of
 * two or more zero words as "::", and the last 32 bits dotted when the address is
 * IPv4-compatible (::a.b.c.d) or IPv4-mapped (::ffff:a.b.c.d). Tested against inet_ntop. */
static void colon_hex(const unsigned char *bin, char *buf) {
        static const char hex[] = "0123456789abcdef";
        int i, shift, run = -1, run_len = 0, cur = -1;
        unsigned w[8];
        char *p = buf;

        for (i = 0; i < 8; i++) {
                w[i] = (unsigned) bin[2 * i] << 8 | bin[2 * i + 1];
                if (w[i] != 0)
                        cur = -1;
                else if (cur < 0)
                        cur = i;
                if (cur >= 0 && i - cur + 1 > run_len) {        /* the first one wins a tie */
                        run = cur;
                        run_len = i - cur + 1;
                }
        }
        if (run_len < 2)
                run = -1;
        for (i = 0; i < 8; i++) {
                if (run >= 0 && i >= run && i < run + run_len) {
                        if (i == run)
                                *p++ = ':';
                        continue;
                }
                if (i > 0)
                        *p++ = ':';
                if (i == 6 && run == 0 && (run_len == 6 || (run_len == 5 && w[5] == 0xffff))) {
                        dotted_quad(bin + 12, p);
                        return;
                }
                for (shift = 12; shift > 0 && !(w[i] >> shift); shift -= 4)
                        ;
                for (; shift >= 0; shift -= 4)
                        *p++ = hex[w[i] >> shift & 0xf];
        }
        if (run >= 0 && run + run_len == 8)
                *p++ = ':';
        *p = '\0';
}

/* canonical_ip - inet_pton as IPv4, then IPv6; the text inet_ntop would give in *out */
static int canonical_ip(const char *s, char **out) {
        unsigned char bin[sizeof(struct in6_addr)];
        char buf[INET6_ADDRSTRLEN];

        if (!s)
                return -EINVAL;
        if (inet_pton(AF_INET, s, bin) == 1)
                dotted_quad(bin, buf);
        else if (inet_pton(AF_INET6, s, bin) == 1)
                colon_hex(bin, buf);
        else
                return -EINVAL;
        *out = strdup(buf);
        return *out ? 0 : -ENOMEM;
}

/* add_extension - list an unknown element's local name once; the list is capped */
static int add_extension(struct dt_aggregate *a, const char *name) {
        size_t i, n;
        char *s;

        if (!name)
                return 0;
        n = strlen(name);
        if (n > EXTENSION_NAME_MAX)
                n = utf8_cut(name, EXTENSION_NAME_MAX);
        for (i = 0; i < a->n_ext; i++)
                if (strlen(a->ext[i]) == n && memcmp(a->ext[i], name, n) == 0)
                        return 0;
        if (a->n_ext >= EXTENSIONS_MAX) {
                if (!a->ext_full) {
                        a->ext_full = true;
                        return warn(a, "too many unknown elements, further names not listed");
                }
                return 0;
        }
        if (!a->ext) {
                a->ext = calloc(EXTENSIONS_MAX, sizeof *a->ext);
                if (!a->ext)
                        return -ENOMEM;
        }
        s = strndup(name, n);
        if (!s)
                return -ENOMEM;
        a->ext[a->n_ext++] = s;
        return 0;
}

static void reason_clear(struct dt_reason *r) {
        free(r->type);
        free(r->comment);
        memset(r, 0, sizeof *r);
}

static void auth_dkim_clear(struct dt_auth_dkim *d) {
        free(d->domain);
        free(d->selector);
        free(d->result);
        free(d->human_result);
        memset(d, 0, sizeof *d);
}

static void auth_spf_clear(struct dt_auth_spf *s) {
        free(s->domain);
        free(s->scope);
        free(s->result);
        free(s->human_result);
        memset(s, 0, sizeof *s);
}

/* record_clear - free the record's values, keep its arrays for the next one */
static void record_clear(struct dt_record *r) {
        size_t i;

        free(r->source_ip);
        free(r->disposition);
        free(r->dkim);
        free(r->spf);
        free(r->header_from);
        free(r->envelope_from);
        free(r->envelope_to);
        for (i = 0; i < r->n_reasons; i++)
                reason_clear(&r->reasons[i]);
        for (i = 0; i < r->n_auth_dkim; i++)
                auth_dkim_clear(&r->auth_dkim[i]);
        for (i = 0; i < r->n_auth_spf; i++)
                auth_spf_clear(&r->auth_spf[i]);
        r->source_ip = r->disposition = r->dkim = r->spf = NULL;
        r->header_from = r->envelope_from = r->envelope_to = NULL;
        r->count = 0;
        r->n_reasons = r->n_auth_dkim = r->n_auth_spf = 0;
}

/* list_slot - make room for one more entry of size sz in *arr (n used, *cap allocated);
 * 1 when there is a slot, 0 when the list is full, <0 on error */
static int list_slot(struct dt_aggregate *a, void **arr, size_t n, size_t *cap, size_t sz) {
        size_t ncap;
        void *p;

        if (n >= LIST_MAX) {
                if (!a->rec_list_full) {
                        a->rec_list_full = true;
                        return warn(a, "record has too many reason/auth_results entries, extra ones ignored");
                }
                return 0;
        }
        if (n < *cap)
                return 1;
        ncap = *cap ? *cap * 2 : 4;
        if (ncap > LIST_MAX)
                ncap = LIST_MAX;
        p = realloc(*arr, ncap * sz);
        if (!p)
                return -ENOMEM;
        *arr = p;
        *cap = ncap;
        return 1;
}

/* lookup - the known element name under parent, or NULL */
static const struct el_def *lookup(enum el parent, const char *name) {
        const struct el_def *d = schema[parent].defs;
        size_t i;

        for (i = 0; i < schema[parent].n; i++)
                if (d[i].name[0] == name[0] && strcmp(d[i].name, name) == 0)
                        return &d[i];
        return NULL;
}

/* set_str - store a value once: a second occurrence keeps the first, with a warning */
static int set_str(struct dt_aggregate *a, enum el id, char **dst, char *v) {
        if (a->seen[id]) {
                free(v);
                return warn(a, id == E_REPORT_ID ? "duplicate report_id, first kept"
                                                 : "duplicate element, first value kept");
        }
        a->seen[id] = true;
        *dst = v;
        return 0;
}

/* element_start - a known element opens */
static int element_start(struct dt_aggregate *a, const struct el_def *d) {
        int r;

        switch (d->id) {
        case E_METADATA:
        case E_POLICY:
        case E_DATE_RANGE:
                if (a->seen[d->id]) {
                        r = warn(a, d->id == E_METADATA ? "duplicate report_metadata, first values kept"
                                  : d->id == E_POLICY ? "duplicate policy_published, first values kept"
                                                      : "duplicate date_range, first values kept");
                        if (r < 0)
                                return r;
                }
                a->seen[d->id] = true;
                return EV_NONE;
        case E_RECORD:
                a->n_seen_records++;
                if (a->n_seen_records > a->lim.records)
                        return -E2BIG;
                record_clear(&a->rec);
                memset(&a->seen[E_RECORD], 0, sizeof a->seen[0] * (size_t) (_E_MAX - E_RECORD));
                a->rec_bad = false;
                a->rec_list_full = false;
                return EV_RECORD_START;
        case E_REASON:
                memset(&a->seen[E_R_TYPE], 0, sizeof a->seen[0] * 2);
                r = list_slot(a, (void **) &a->rec.reasons, a->rec.n_reasons, &a->cap_reasons,
                              sizeof *a->rec.reasons);
                if (r < 0)
                        return r;
                a->cur_entry = r > 0;
                if (r > 0)
                        memset(&a->rec.reasons[a->rec.n_reasons++], 0, sizeof *a->rec.reasons);
                return EV_NONE;
        case E_A_DKIM:
                memset(&a->seen[E_AD_DOMAIN], 0, sizeof a->seen[0] * 4);
                r = list_slot(a, (void **) &a->rec.auth_dkim, a->rec.n_auth_dkim, &a->cap_dkim,
                              sizeof *a->rec.auth_dkim);
                if (r < 0)
                        return r;
                a->cur_entry = r > 0;
                if (r > 0)
                        memset(&a->rec.auth_dkim[a->rec.n_auth_dkim++], 0, sizeof *a->rec.auth_dkim);
                return EV_NONE;
        case E_A_SPF:
                memset(&a->seen[E_AS_DOMAIN], 0, sizeof a->seen[0] * 4);
                r = list_slot(a, (void **) &a->rec.auth_spf, a->rec.n_auth_spf, &a->cap_spf,
                              sizeof *a->rec.auth_spf);
                if (r < 0)
                        return r;
                a->cur_entry = r > 0;
                if (r > 0)
                        memset(&a->rec.auth_spf[a->rec.n_auth_spf++], 0, sizeof *a->rec.auth_spf);
                return EV_NONE;
        default:
                if (d->flags & F_LEAF) {
                        a->text_len = 0;
                        a->text_truncated = false;
                }
                return EV_NONE;
        }
}

/* record_end - the record closed: hand it out, or skip it with a warning */
static int record_end(struct dt_aggregate *a) {
        const char *why = NULL;
        int r;

        if (a->rec_bad)
                why = a->rec_bad_reason;
        else if (!a->seen[E_SOURCE_IP])
                why = "record skipped: no source_ip";
        else if (!a->seen[E_COUNT])
                why = "record skipped: no count";
        else if (a->rec.count > UINT64_MAX - a->n_messages)
                why = "record skipped: message count total would overflow";
        if (why) {
                r = warn(a, why);
                if (r < 0)
                        return r;
                if (a->rec_bad && a->n_warn > 0 && a->warn[a->n_warn - 1].reason == why)
                        a->warn[a->n_warn - 1].offset = a->rec_bad_offset;
                return EV_NONE;
        }
        a->n_records++;
        a->n_messages += a->rec.count;
        return EV_RECORD_DONE;
}

/* store_record_field - a leaf inside <record> closed with value v (owned) */
static int store_record_field(struct dt_aggregate *a, enum el id, char *v) {
        uint64_t count;
        char *ip = NULL;
        int r;

        switch (id) {
        case E_SOURCE_IP:
                if (a->seen[id]) {
                        free(v);
                        return warn(a, "duplicate element, first value kept");
                }
                a->seen[id] = true;
                r = canonical_ip(v, &ip);
                free(v);
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        record_bad(a, "record skipped: source_ip is not an IP address");
                        return 0;
                }
                a->rec.source_ip = ip;
                return 0;
        case E_COUNT:
                if (a->seen[id]) {
                        free(v);
                        return warn(a, "duplicate element, first value kept");
                }
                a->seen[id] = true;
                r = parse_u64(v, &count);
                free(v);
                if (r < 0) {
                        record_bad(a, "record skipped: count is not a non-negative 64-bit integer");
                        return 0;
                }
                a->rec.count = count;
                return 0;
        case E_DISPOSITION:
                return set_str(a, id, &a->rec.disposition, v);
        case E_EVAL_DKIM:
                return set_str(a, id, &a->rec.dkim, v);
        case E_EVAL_SPF:
                return set_str(a, id, &a->rec.spf, v);
        case E_HEADER_FROM:
                return set_str(a, id, &a->rec.header_from, v);
        case E_ENV_FROM:
                return set_str(a, id, &a->rec.envelope_from, v);
        case E_ENV_TO:
                return set_str(a, id, &a->rec.envelope_to, v);
        default:
                break;
        }

        if (!a->cur_entry) {            /* the list was full: this entry is dropped */
                free(v);
                return 0;
        }
        switch (id) {
        case E_R_TYPE:
                return set_str(a, id, &a->rec.reasons[a->rec.n_reasons - 1].type, v);
        case E_R_COMMENT:
                return set_str(a, id, &a->rec.reasons[a->rec.n_reasons - 1].comment, v);
        case E_AD_DOMAIN:
                return set_str(a, id, &a->rec.auth_dkim[a->rec.n_auth_dkim - 1].domain, v);
        case E_AD_SELECTOR:
                return set_str(a, id, &a->rec.auth_dkim[a->rec.n_auth_dkim - 1].selector, v);
        case E_AD_RESULT:
                return set_str(a, id, &a->rec.auth_dkim[a->rec.n_auth_dkim - 1].result, v);
        case E_AD_HUMAN:
                return set_str(a, id, &a->rec.auth_dkim[a->rec.n_auth_dkim - 1].human_result, v);
        case E_AS_DOMAIN:
                return set_str(a, id, &a->rec.auth_spf[a->rec.n_auth_spf - 1].domain, v);
        case E_AS_SCOPE:
                return set_str(a, id, &a->rec.auth_spf[a->rec.n_auth_spf - 1].scope, v);
        case E_AS_RESULT:
                return set_str(a, id, &a->rec.auth_spf[a->rec.n_auth_spf - 1].result, v);
        case E_AS_HUMAN:
                return set_str(a, id, &a->rec.auth_spf[a->rec.n_auth_spf - 1].human_result, v);
        default:
                free(v);
                return 0;
        }
}

/* store_time - begin/end: epoch seconds, or DT_TIME_MISSING with a warning */
static int store_time(struct dt_aggregate *a, enum el id, int64_t *dst, char *v) {
        int64_t t;
        int r;

        if (a->seen[id]) {
                free(v);
                return warn(a, "duplicate element, first value kept");
        }
        a->seen[id] = true;
        r = parse_time(v, &t);
        free(v);
        if (r < 0)
                return warn(a, id == E_BEGIN ? "date_range begin is not an integer, ignored"
                                             : "date_range end is not an integer, ignored");
        *dst = t;
        return 0;
}

/* store_pct - 0..100, else -1 with a warning */
static int store_pct(struct dt_aggregate *a, char *v) {
        uint64_t n;
        int r;

        if (a->seen[E_P_PCT]) {
                free(v);
                return warn(a, "duplicate element, first value kept");
        }
        a->seen[E_P_PCT] = true;
        r = parse_u64(v, &n);
        free(v);
        if (r < 0 || n > 100)
                return warn(a, "policy_published pct is not 0..100, ignored");
        a->policy.pct = (int) n;
        return 0;
}

/* leaf_end - a leaf element closed: store its text */
static int leaf_end(struct dt_aggregate *a, const struct el_def *d, struct dt_error *err) {
        char *v;
        int r;

        if (a->text_truncated) {
                if (d->id == E_REPORT_ID)
                        return dt_error_set(err, -EFBIG, DT_R_FIELD_LIMIT, offset(a),
                                            "report_id longer than %u bytes",
                                            (unsigned) a->lim.xml_text_bytes);
                r = warn(a, "field longer than limits.xml_text_bytes, truncated");
                if (r < 0)
                        return r;
        }
        r = text_take(a, d->flags & F_LOWER, &v);
        if (r < 0)
                return r;
        a->text_len = 0;
        a->text_truncated = false;

        switch (d->id) {
        case E_VERSION:
                return set_str(a, d->id, &a->version, v);
        case E_ORG:
                return set_str(a, d->id, &a->org, v);
        case E_EMAIL:
                return set_str(a, d->id, &a->email, v);
        case E_EXTRA:
                return set_str(a, d->id, &a->extra_contact, v);
        case E_REPORT_ID:
                return set_str(a, d->id, &a->report_id, v);
        case E_GENERATOR:
                return set_str(a, d->id, &a->generator, v);
        case E_ERROR:
                free(v);
                return 0;
        case E_BEGIN:
                return store_time(a, d->id, &a->begin, v);
        case E_END:
                return store_time(a, d->id, &a->end, v);
        case E_P_DOMAIN:
                return set_str(a, d->id, &a->policy.domain, v);
        case E_P_ADKIM:
                return set_str(a, d->id, &a->policy.adkim, v);
        case E_P_ASPF:
                return set_str(a, d->id, &a->policy.aspf, v);
        case E_P_P:
                return set_str(a, d->id, &a->policy.p, v);
        case E_P_SP:
                return set_str(a, d->id, &a->policy.sp, v);
        case E_P_NP:
                return set_str(a, d->id, &a->policy.np, v);
        case E_P_PCT:
                return store_pct(a, v);
        case E_P_FO:
                return set_str(a, d->id, &a->policy.fo, v);
        case E_P_TESTING:
                return set_str(a, d->id, &a->policy.testing, v);
        case E_P_DISCOVERY:
                return set_str(a, d->id, &a->policy.discovery_method, v);
        default:
                return store_record_field(a, d->id, v);
        }
}

/* element_end - a known element closes */
static int element_end(struct dt_aggregate *a, const struct el_def *d, struct dt_error *err) {
        if (d->flags & F_LEAF)
                return leaf_end(a, d, err);
        if (d->id == E_RECORD)
                return record_end(a);
        return EV_NONE;
}

/* fail_nomem - the one place ENOMEM becomes an error report */
static int fail_nomem(struct dt_aggregate *a, struct dt_error *err) {
        return dt_error_set(err, -ENOMEM, DT_R_NOMEM, offset(a), "out of memory");
}

/* on_element - a start tag (or an empty element) at depth */
static int on_element(struct dt_aggregate *a, int depth, struct dt_error *err) {
        const struct el_def *d;
        const char *name;
        bool empty;
        int ev, r;

        if (a->skip_depth >= 0 && depth > a->skip_depth)
                return EV_NONE;
        name = (const char *) xmlTextReaderConstLocalName(a->rd);
        empty = xmlTextReaderIsEmptyElement(a->rd) == 1;
        if (!name)
                return fail_nomem(a, err);

        if (depth == 0) {
                a->root_seen = true;
                if (strcmp(name, "feedback") != 0) {
                        /* not ours; read on (skipping) so broken XML still says XML_MALFORMED */
                        a->not_dmarc = true;
                        a->not_dmarc_offset = offset(a);
                        if (!empty)
                                a->skip_depth = 0;
                        return EV_NONE;
                }
                a->stack[0] = &in_root[0];
                return EV_NONE;
        }

        d = NULL;
        if (depth < STACK_MAX && a->stack[depth - 1])
                d = lookup(a->stack[depth - 1]->id, name);
        if (!d) {
                /* unknown here: list its name, ignore what it holds */
                r = add_extension(a, name);
                if (r < 0)
                        return fail_nomem(a, err);
                if (!empty)
                        a->skip_depth = depth;
                return EV_NONE;
        }
        a->stack[depth] = d;
        ev = element_start(a, d);
        if (ev < 0) {
                if (ev == -E2BIG)
                        return dt_error_set(err, -E2BIG, DT_R_RECORD_LIMIT, offset(a),
                                            "more than %llu records",
                                            (unsigned long long) a->lim.records);
                return fail_nomem(a, err);
        }
        if (empty) {
                /* no end tag will come; an empty <record/> has no source_ip, so it is skipped */
                r = element_end(a, d, err);
                a->stack[depth] = NULL;
                if (r < 0)
                        return r == -ENOMEM ? fail_nomem(a, err) : r;
        }
        return ev;
}

/* on_end_element - an end tag at depth */
static int on_end_element(struct dt_aggregate *a, int depth, struct dt_error *err) {
        int r;

        if (a->skip_depth >= 0) {
                if (depth == a->skip_depth)
                        a->skip_depth = -1;
                return EV_NONE;
        }
        if (depth <= 0 || depth >= STACK_MAX || !a->stack[depth])
                return EV_NONE;
        r = element_end(a, a->stack[depth], err);
        a->stack[depth] = NULL;
        if (r == -ENOMEM)
                return fail_nomem(a, err);
        return r;
}

/* on_text - text, CDATA or whitespace at depth: kept only directly inside an open leaf */
static int on_text(struct dt_aggregate *a, int depth, struct dt_error *err) {
        const struct el_def *d;
        const char *v;

        if (a->skip_depth >= 0 || depth < 1 || depth > STACK_MAX - 1)
                return EV_NONE;
        d = a->stack[depth - 1];
        if (!d || !(d->flags & F_LEAF))
                return EV_NONE;
        v = (const char *) xmlTextReaderConstValue(a->rd);
        if (!v)
                return EV_NONE;
        if (text_append(a, v, strlen(v)) < 0)
                return fail_nomem(a, err);
        return EV_NONE;
}

/* sanitize_message - copy libxml2's message as printable ASCII, without the newline */
static void sanitize_message(char *dst, size_t size, const char *src) {
        size_t i = 0;

        for (; src && *src && i + 1 < size; src++) {
                unsigned char c = (unsigned char) *src;
                if (c == '\n' || c == '\r')
                        continue;
                dst[i++] = (c >= 0x20 && c < 0x7f) ? (char) c : '?';
        }
        dst[i] = '\0';
}

/* on_xml_error - libxml2's structured error handler: keep the first fatal error (or the first
 * error when none is fatal) for XML_MALFORMED, and stop the parser at a fatal one. libxml2
 * 2.9.14 goes on parsing after a fatal error (to report more), and each error copies its
 * arguments: one comment holding 80,000 "--" raised as many errors, each copying the comment
 * read so far, 23 s and 549 MB under ASan for 1.7 MB of XML. The reader stops at the first
 * fatal error anyway; this stops libxml2's own work on the chunk it is in. */
static void on_xml_error(void *arg, xmlErrorPtr e) {
        struct dt_aggregate *a = arg;
        bool fatal;

        if (!a || !e || e->level < XML_ERR_ERROR)
                return;
        fatal = e->level == XML_ERR_FATAL;
        if (fatal && e->domain == XML_FROM_PARSER && e->ctxt)
                xmlStopParser(e->ctxt);
        if (a->xml_err_set && (a->xml_err_fatal || !fatal))
                return;
        a->xml_err_set = true;
        a->xml_err_fatal = fatal;
        a->xml_err_line = e->line;
        sanitize_message(a->xml_err_msg, sizeof a->xml_err_msg, e->message);
}

/* read_error - xmlTextReaderRead failed: the input's own error first, else libxml2's */
static int read_error(struct dt_aggregate *a, struct dt_error *err) {
        const struct dt_error *ie = dt_input_error(a->in);
        const struct dt_xmlguard *g = &a->guard;

        switch (g->verdict) {
        case DT_XMLGUARD_OK:
                break;
        case DT_XMLGUARD_DTD:
                return dt_error_set(err, -EBADMSG, DT_R_XML_DTD_REJECTED, g->where,
                                    "DOCTYPE or entity declarations are not allowed");
        case DT_XMLGUARD_MARKUP_FLOOD:
                return dt_error_set(err, -EFBIG, DT_R_FIELD_LIMIT, g->where,
                                    "more than %u XML comments or processing instructions",
                                    DT_XMLGUARD_MARKUP_MAX);
        case DT_XMLGUARD_ENCODING:
                return dt_error_set(err, -EBADMSG, DT_R_XML_MALFORMED, g->where,
                                    "XML encoding \"%s\" is not supported", g->encoding);
        case DT_XMLGUARD_DECL_LONG:
                return dt_error_set(err, -EBADMSG, DT_R_XML_MALFORMED, g->where,
                                    "XML declaration longer than %u bytes",
                                    DT_XMLGUARD_DECL_MAX);
        case DT_XMLGUARD_NO_START:
                return dt_error_set(err, -EFBIG, DT_R_FIELD_LIMIT, g->where,
                                    "more than %llu bytes of XML without an element start",
                                    (unsigned long long) g->step_max);
        }
        if (ie) {
                if (err)
                        *err = *ie;
                return ie->code < 0 ? ie->code : -EIO;
        }
        /* libxml2 (no XML_PARSE_HUGE) stops at a 10 MB text node, reporting it as a memory error */
        if (a->xml_err_set && strstr(a->xml_err_msg, "huge text node"))
                return dt_error_set(err, -EFBIG, DT_R_FIELD_LIMIT, offset(a),
                                    "XML text node over libxml2's size limit");
        dt_error_set(err, -EBADMSG, DT_R_XML_MALFORMED, offset(a), "XML not well-formed: %s",
                     a->xml_err_set ? a->xml_err_msg : "parse error");
        if (err && a->xml_err_set && a->xml_err_line > 0)
                err->line = a->xml_err_line;
        return -EBADMSG;
}

/* pump - feed reader nodes to the handlers until a record is complete (1), the first record
 * starts (2, only when stop_at_start), or the document ends (0); <0 on error */
static int pump(struct dt_aggregate *a, bool stop_at_start, struct dt_error *err) {
        xmlNodePtr node;
        int r, type, depth, ev;

        for (;;) {
                dt_xmlguard_step(&a->guard);
                r = xmlTextReaderRead(a->rd);
                if (r == 0) {
                        a->ended = true;
                        if (!a->root_seen)
                                return dt_error_set(err, -EBADMSG, DT_R_XML_MALFORMED, offset(a),
                                                    "XML document has no root element");
                        if (a->not_dmarc)
                                return dt_error_set(err, -EBADMSG, DT_R_XML_NOT_DMARC,
                                                    a->not_dmarc_offset,
                                                    "root element is not <feedback>: not a DMARC aggregate report");
                        return 0;
                }
                if (r < 0)
                        return read_error(a, err);

                /* text is told apart here: xmlTextReaderNodeType() would look up the tree
                 * for xml:space on every blank node, to name a difference we ignore */
                node = xmlTextReaderCurrentNode(a->rd);
                if (node && (node->type == XML_TEXT_NODE || node->type == XML_CDATA_SECTION_NODE))
                        type = XML_READER_TYPE_TEXT;
                else
                        type = xmlTextReaderNodeType(a->rd);
                depth = xmlTextReaderDepth(a->rd);
                if (depth < 0)
                        return read_error(a, err);
                if (type == XML_READER_TYPE_DOCUMENT_TYPE || type == XML_READER_TYPE_ENTITY ||
                    type == XML_READER_TYPE_ENTITY_REFERENCE || type == XML_READER_TYPE_NOTATION)
                        return dt_error_set(err, -EBADMSG, DT_R_XML_DTD_REJECTED, offset(a),
                                            "DOCTYPE or entity declarations are not allowed");
                if ((uint32_t) depth > a->lim.xml_depth)
                        return dt_error_set(err, -EBADMSG, DT_R_XML_DEPTH_LIMIT, offset(a),
                                            "XML nested deeper than %u", (unsigned) a->lim.xml_depth);

                switch (type) {
                case XML_READER_TYPE_ELEMENT:
                        ev = on_element(a, depth, err);
                        break;
                case XML_READER_TYPE_END_ELEMENT:
                        ev = on_end_element(a, depth, err);
                        break;
                case XML_READER_TYPE_TEXT:
                case XML_READER_TYPE_CDATA:
                case XML_READER_TYPE_WHITESPACE:
                case XML_READER_TYPE_SIGNIFICANT_WHITESPACE:
                        ev = on_text(a, depth, err);
                        break;
                default:                /* comments, processing instructions: see count_markup */
                        ev = EV_NONE;
                        break;
                }
                if (ev < 0)
                        return ev;
                if (ev == EV_RECORD_DONE)
                        return 1;
                if (ev == EV_RECORD_START && stop_at_start)
                        return 2;
        }
}

/* check_identity - report_id and policy domain, once their container has been read (or at the
 * end of the document) */
static int check_identity(struct dt_aggregate *a, bool final, struct dt_error *err) {
        if (!a->report_id && (final || a->seen[E_METADATA]))
                return dt_error_set(err, -EBADMSG, DT_R_AGG_IDENTITY, offset(a),
                                    "report has no report_id");
        if (!a->policy.domain && (final || a->seen[E_POLICY]))
                return dt_error_set(err, -EBADMSG, DT_R_AGG_IDENTITY, offset(a),
                                    "report has no policy domain");
        return 0;
}

/* input_read - libxml2's read callback: the next slice from the unpacker, checked by the guard;
 * -1 on the unpacker's error (the details stay in dt_input_error(), which read_error() reports
 * instead of libxml2's) or on the guard's verdict */
static int input_read(void *ctx, char *buf, int len) {
        struct dt_aggregate *a = ctx;
        ssize_t n;

        if (a->guard.verdict != DT_XMLGUARD_OK)
                return -1;
        if (len <= 0)
                return 0;
        n = dt_input_read(a->in, buf, (size_t) len);
        if (n < 0)
                return -1;
        if (dt_xmlguard_feed(&a->guard, buf, (size_t) n) != DT_XMLGUARD_OK)
                return -1;
        return (int) n;
}

/* step_max - bytes the reader may pull for one node: 8 MiB, or twice a larger field cap. Every
 * byte the reader pulls while it waits for the next element start stays in memory, and in a
 * report the next one is never more than a field away. */
static uint64_t step_max(const struct dt_limits *lim) {
        const uint64_t floor = 8u << 20;

        return (uint64_t) lim->xml_text_bytes * 2 > floor ? (uint64_t) lim->xml_text_bytes * 2
                                                          : floor;
}

int dt_aggregate_open(struct dt_input *in, const struct dt_limits *lim, struct dt_aggregate **out,
                      struct dt_error *err) {
        _cleanup_(dt_aggregate_freep) struct dt_aggregate *a = NULL;
        struct dt_error e;
        int r;

        if (!in || !lim || !out)
                return dt_error_set(err, -EINVAL, DT_R_IO, -1, "invalid argument");
        install_entity_loader();

        a = calloc(1, sizeof *a);
        if (!a)
                return dt_error_set(err, -ENOMEM, DT_R_NOMEM, -1, "out of memory");
        a->in = in;
        a->lim = *lim;
        a->begin = a->end = DT_TIME_MISSING;
        a->policy.pct = -1;
        a->skip_depth = -1;

        dt_xmlguard_init(&a->guard, step_max(&a->lim));
        a->rd = xmlReaderForIO(input_read, NULL, a, NULL, NULL, PARSE_OPTIONS);
        if (!a->rd) {
                if (dt_input_error(in) || a->guard.verdict != DT_XMLGUARD_OK)
                        return read_error(a, err);
                return dt_error_set(err, -ENOMEM, DT_R_NOMEM, -1, "cannot create XML reader");
        }
        xmlTextReaderSetStructuredErrorHandler(a->rd, on_xml_error, a);

        dt_error_clear(&e);
        r = pump(a, true, &e);
        if (r == 0 || r == 2)
                r = check_identity(a, a->ended, &e);
        if (r < 0) {
                if (err)
                        *err = e;
                return r;
        }
        *out = TAKE_PTR(a);
        return 0;
}

int dt_aggregate_next(struct dt_aggregate *a, const struct dt_record **rec, struct dt_error *err) {
        struct dt_error e;
        int r;

        if (!a || !rec)
                return dt_error_set(err, -EINVAL, DT_R_IO, -1, "invalid argument");
        if (a->failed) {
                if (err)
                        *err = a->failure;
                return a->failure.code;
        }
        if (a->ended)
                return 0;

        dt_error_clear(&e);
        r = pump(a, false, &e);
        if (r == 0)
                r = check_identity(a, true, &e);
        if (r < 0) {
                a->failed = true;
                a->failure = e;
                if (err)
                        *err = e;
                return r;
        }
        if (r == 0)
                return 0;
        *rec = &a->rec;
        return 1;
}

const char *dt_aggregate_org(const struct dt_aggregate *a) {
        return a ? a->org : NULL;
}

const char *dt_aggregate_email(const struct dt_aggregate *a) {
        return a ? a->email : NULL;
}

const char *dt_aggregate_extra_contact(const struct dt_aggregate *a) {
        return a ? a->extra_contact : NULL;
}

const char *dt_aggregate_report_id(const struct dt_aggregate *a) {
        return a ? a->report_id : NULL;
}

const char *dt_aggregate_version(const struct dt_aggregate *a) {
        return a ? a->version : NULL;
}

const char *dt_aggregate_generator(const struct dt_aggregate *a) {
        return a ? a->generator : NULL;
}

int64_t dt_aggregate_begin(const struct dt_aggregate *a) {
        return a ? a->begin : DT_TIME_MISSING;
}

int64_t dt_aggregate_end(const struct dt_aggregate *a) {
        return a ? a->end : DT_TIME_MISSING;
}

const struct dt_policy *dt_aggregate_policy(const struct dt_aggregate *a) {
        return a ? &a->policy : NULL;
}

uint64_t dt_aggregate_record_count(const struct dt_aggregate *a) {
        return a ? a->n_records : 0;
}

uint64_t dt_aggregate_message_count(const struct dt_aggregate *a) {
        return a ? a->n_messages : 0;
}

size_t dt_aggregate_n_extensions(const struct dt_aggregate *a) {
        return a ? a->n_ext : 0;
}

const char *dt_aggregate_extension(const struct dt_aggregate *a, size_t i) {
        return a && i < a->n_ext ? a->ext[i] : NULL;
}

size_t dt_aggregate_n_warnings(const struct dt_aggregate *a) {
        return a ? a->n_warn : 0;
}

const struct dt_warning *dt_aggregate_warning(const struct dt_aggregate *a, size_t i) {
        return a && i < a->n_warn ? &a->warn[i] : NULL;
}

struct dt_aggregate *dt_aggregate_free(struct dt_aggregate *a) {
        size_t i;

        if (!a)
                return NULL;
        if (a->rd)
                xmlFreeTextReader(a->rd);
        free(a->org);
        free(a->email);
        free(a->extra_contact);
        free(a->report_id);
        free(a->version);
        free(a->generator);
        free(a->policy.domain);
        free(a->policy.adkim);
        free(a->policy.aspf);
        free(a->policy.p);
        free(a->policy.sp);
        free(a->policy.np);
        free(a->policy.fo);
        free(a->policy.testing);
        free(a->policy.discovery_method);
        for (i = 0; i < a->n_ext; i++)
                free(a->ext[i]);
        free(a->ext);
        free(a->warn);
        record_clear(&a->rec);
        free(a->rec.reasons);
        free(a->rec.auth_dkim);
        free(a->rec.auth_spf);
        free(a->text);
        free(a);
        return NULL;
}
