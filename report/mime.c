/* mime.c - parse one mail message with gmime 3 and decide what kind of report it holds
 *
 * dt_mime_parse() bounds the input itself first (size, top-level header block size and field
 * count, structure counts: linear memchr scans; a leading mbox "From " line is skipped), then
 * lets gmime parse a copy of it from memory. The MIME tree is walked depth-first, recursively
 * but never deeper than lim->mime_depth (gmime also caps its own nesting at 1024 levels,
 * GMIME_CRIT_NESTING_OVERFLOW, without stack trouble even 10,000 levels deep), and flattened
 * into an array of struct dt_part in document order. Leaf parts are decoded (base64,
 * quoted-printable, uuencode undone by gmime's data wrapper; CRLF turned into LF in text/ and
 * message/ leaves, so CRLF and LF copies of a message give the same bytes); a message/rfc822
 * part gets the embedded message re-serialised as its data, and the walk descends into it too,
 * so an aggregate report forwarded as an attachment is still found. Every part's data is
 * NUL-terminated (not counted in len), containers' data is NULL. The gmime objects are dropped
 * as soon as the walk is done; struct dt_message holds only plain copies.
 * Errors: EMPTY -ENODATA, SIZE_LIMIT -EFBIG, HEADER_LIMIT, HEADER_COUNT_LIMIT and
 * PART_COUNT_LIMIT -E2BIG, MIME_DEPTH -ELOOP, MIME_MALFORMED -EBADMSG, NO_MEMORY -ENOMEM.
 *
 * Classification, by content rather than label (first rule that matches wins):
 *   1. FAILURE: a message/feedback-report part, or a multipart/report with
 *      report-type=feedback-report (ARF, RFC 5965/6591; Feedback-Type: abuse included, the
 *      failure parser names the type).
 *   2. AGGREGATE: a leaf whose decoded bytes start with the gzip (1f 8b) or zip (PK\3\4) magic,
 *      or are XML whose root element is <feedback>, whatever its Content-Type or name. XML with
 *      a <feedback> root beats an archive; an archive whose label or name looks like a report
 *      beats one that does not; otherwise the first one wins.
 *   3. FAILURE, non-ARF notices (Exim's built-in DMARC forensic mail and the like):
 *      a) a multipart/report without report-type holding a text/plain part that mentions DMARC
 *         and carries at least two lines that look like copied headers (Received:, From:, ...);
 *      b) a Subject saying "DMARC Forensic Report" or "DMARC Failure Report", or one with both
 *         "Report Domain:" and "Submitter:" plus "failure" or "forensic".
 *      These come after rule 2 on purpose: bytes that are a report outweigh a label guess.
 *   4. NONE.
 *
 * SECURITY: the whole message is hostile. Its size and top-level header block are checked
 * before gmime sees it, and so is a loose upper bound on the parts and header fields gmime
 * would build (count_structure); the depth and the number of parts are checked during the
 * walk; all the part data together may not exceed twice lim->message_bytes (re-serialised
 * embedded messages repeat their contents at each level). gmime's parser warnings become
 * DT_MIME_* flags. Strings are copied as gmime decodes them and must be sanitised before
 * printing. Never logs. The one global is gmime's own process-wide initialisation, done once
 * under g_once.
 * XXX: a message/rfc822 part is re-serialised with gmime's writer; for parsed, unmodified
 * objects it writes the raw headers back, so gmime#165 (a parameter-encoder loop) was not
 * reachable in our tests, but the worker's deadline remains the backstop for gmime hangs. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE     /* memmem */
#endif
#include <errno.h>
#include <gmime/gmime.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "report/mime.h"

#define CONTENT_TYPE_MAX 255    /* longer "type/subtype" strings are cut */
#define SNIFF_BYTES (64u << 10) /* how far into a part the XML sniffer looks for the root */

enum sniff {
        SNIFF_NONE,
        SNIFF_GZIP,
        SNIFF_ZIP,
        SNIFF_XML,
};

struct dt_message {
        enum dt_kind kind;
        uint32_t flags;
        struct dt_part *parts;
        bool *leaf;             /* parallel to parts: decoded leaf content (what gets sniffed) */
        size_t n_parts;
        size_t cap_parts;
        size_t report;          /* index into parts when kind is AGGREGATE */
        char *subject;
        char *from;
        char *message_id;
};

/* Parse-time state, only alive inside dt_mime_parse. */
struct walk {
        struct dt_message *m;
        const struct dt_limits *lim;
        uint64_t budget;        /* bytes of part data still allowed */
        struct dt_error *err;
};

/* mime_init - initialise gmime once per process (g_mime_init is not thread-safe on its own) */
static void mime_init(void) {
        static gsize once = 0;

        if (g_once_init_enter(&once)) {
                g_mime_init();
                g_once_init_leave(&once, 1);
        }
}

/* on_warning - gmime parser warning callback: fold the code into the message's flags */
static void on_warning(gint64 offset, GMimeParserWarning code, const gchar *item, gpointer data) {
        struct dt_message *m = data;

        (void) offset;
        (void) item;
        if (code == GMIME_CRIT_CONFLICTING_HEADER)
                m->flags |= DT_MIME_CONFLICTING_HEADER;
        else
                m->flags |= DT_MIME_ANOMALY;
}

/* ascii_lower - lower-case an ASCII string in place */
static void ascii_lower(char *s) {
        for (; *s; s++)
                if (*s >= 'A' && *s <= 'Z')
                        *s = (char) (*s - 'A' + 'a');
}

/* strdup_or_null - strdup that passes NULL through; *oom set when allocation fails */
static char *strdup_or_null(const char *s, bool *oom) {
        char *d;

        if (!s)
                return NULL;
        d = strdup(s);
        if (!d)
                *oom = true;
        return d;
}

/* memmem_ci - find needle (ASCII, lower-case) in hay[0..len) ignoring ASCII case */
static const char *memmem_ci(const char *hay, size_t len, const char *needle) {
        size_t n = strlen(needle), i, j;

        if (n == 0 || len < n)
                return n == 0 ? hay : NULL;
        for (i = 0; i + n <= len; i++) {
                for (j = 0; j < n; j++) {
                        char c = hay[i + j];

                        if (c >= 'A' && c <= 'Z')
                                c = (char) (c - 'A' + 'a');
                        if (c != needle[j])
                                break;
                }
                if (j == n)
                        return hay + i;
        }
        return NULL;
}

/* has_ci - whether s (may be NULL) contains needle (lower-case) ignoring ASCII case */
static bool has_ci(const char *s, const char *needle) {
        return s && memmem_ci(s, strlen(s), needle) != NULL;
}

/* ends_with_ci - whether s (may be NULL) ends with suffix (lower-case) ignoring ASCII case */
static bool ends_with_ci(const char *s, const char *suffix) {
        size_t n, k;

        if (!s)
                return false;
        n = strlen(s);
        k = strlen(suffix);
        return n >= k && memmem_ci(s + n - k, k, suffix) != NULL;
}

/* count_structure - bound what gmime will build, before it builds it. gmime keeps every part
 * and every header field of every part as objects (about 1.7 KiB per field and a few KiB per
 * part in 3.2.13), so a 25 MiB message of empty parts or one-byte fields would cost gigabytes
 * before our walk could count anything. Every boundary line starts with "--" and every header
 * field with a name and a colon, so counting such lines over the whole message bounds both
 * from above: at most 256 "--" lines per allowed part and 64 header-like lines per allowed
 * top-level field (16,384 and 64,000 by default: some 170 MiB of gmime objects at worst).
 * The factors are loose on purpose: text that merely looks like a header or a boundary counts
 * too, and a 10,000-deep nesting (5,000 boundaries; gmime stops building at 1,024 levels) must
 * still reach the walk and be rejected as MIME_DEPTH. One pass, O(len). */
static int count_structure(const char *buf, size_t len, const struct dt_limits *lim,
                           struct dt_error *err) {
        uint64_t max_dash = (uint64_t) lim->mime_parts * 256;
        uint64_t max_fields = (uint64_t) lim->header_fields * 64;
        uint64_t dashes = 0, fields = 0;
        const char *p = buf, *end = buf + len, *nl;

        while (p < end) {
                const char *q = p;

                if (end - p >= 2 && p[0] == '-' && p[1] == '-') {
                        if (++dashes > max_dash)
                                return dt_error_set(err, -E2BIG, DT_R_PART_COUNT_LIMIT,
                                                    (int64_t) (p - buf),
                                                    "more than %llu lines that could be MIME "
                                                    "boundaries", (unsigned long long) max_dash);
                } else {
                        while (q < end && *q > ' ' && *q < 127 && *q != ':')
                                q++;
                        if (q > p) {
                                while (q < end && (*q == ' ' || *q == '\t'))
                                        q++;
                                if (q < end && *q == ':' && ++fields > max_fields)
                                        return dt_error_set(err, -E2BIG, DT_R_HEADER_COUNT_LIMIT,
                                                            (int64_t) (p - buf),
                                                            "more than %llu header fields in "
                                                            "the whole message",
                                                            (unsigned long long) max_fields);
                        }
                }
                nl = memchr(q, '\n', (size_t) (end - q));
                if (!nl)
                        break;
                p = nl + 1;
        }
        return 0;
}

/* prescan - bound the raw input before gmime sees it.
 * Skips a leading mbox "From " line (*skip gets its length), then walks the top-level header
 * block line by line up to the first empty line: more than header_fields fields or more than
 * header_bytes bytes fails. O(header_bytes), then count_structure(), O(len). */
static int prescan(const char *buf, size_t len, const struct dt_limits *lim, size_t *skip,
                   struct dt_error *err) {
        const char *p, *end, *nl;
        size_t start = 0, fields = 0, used = 0, window, linelen;
        int r;

        if (len == 0)
                return dt_error_set(err, -ENODATA, DT_R_EMPTY, 0, "empty message");
        if (len > lim->message_bytes)
                return dt_error_set(err, -EFBIG, DT_R_SIZE_LIMIT, (int64_t) lim->message_bytes,
                                    "message of %zu bytes is over the limit of %llu", len,
                                    (unsigned long long) lim->message_bytes);
        if (len >= 5 && memcmp(buf, "From ", 5) == 0) {
                nl = memchr(buf, '\n', len);
                if (!nl)
                        return dt_error_set(err, -EBADMSG, DT_R_MIME_MALFORMED, 0,
                                            "only an mbox From line, no message");
                start = (size_t) (nl - buf) + 1;
                if (start == len)
                        return dt_error_set(err, -ENODATA, DT_R_EMPTY, (int64_t) start,
                                            "no message after the mbox From line");
        }

        p = buf + start;
        end = buf + len;
        while (p < end) {
                /* look no further than one byte past the header_bytes budget */
                window = (size_t) (end - p);
                if (window > lim->header_bytes - used + 1)
                        window = lim->header_bytes - used + 1;
                nl = memchr(p, '\n', window);
                linelen = nl ? (size_t) (nl - p) : window;
                if (linelen == 0 || (linelen == 1 && p[0] == '\r'))
                        break;                                  /* end of the header block */
                if (used + linelen + (nl ? 1 : 0) > lim->header_bytes)
                        return dt_error_set(err, -E2BIG, DT_R_HEADER_LIMIT,
                                            (int64_t) (start + lim->header_bytes),
                                            "header block over %u bytes", lim->header_bytes);
                if (p[0] != ' ' && p[0] != '\t' && ++fields > lim->header_fields)
                        return dt_error_set(err, -E2BIG, DT_R_HEADER_COUNT_LIMIT,
                                            (int64_t) (p - buf),
                                            "more than %u header fields", lim->header_fields);
                if (!nl)
                        break;                                  /* headers only, no body */
                used += linelen + 1;
                p = nl + 1;
        }
        r = count_structure(buf + start, len - start, lim, err);
        if (r < 0)
                return r;
        *skip = start;
        return 0;
}

/* take_stream_bytes - copy what a GMimeStreamMem holds into a new NUL-terminated buffer,
 * charging it against the walk's budget */
static int take_stream_bytes(struct walk *w, GMimeStream *s, struct dt_part *part) {
        GByteArray *ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(s));
        size_t n = ba ? ba->len : 0;

        if (n > w->budget)
                return dt_error_set(w->err, -EFBIG, DT_R_SIZE_LIMIT, -1,
                                    "decoded parts exceed %llu bytes in all",
                                    (unsigned long long) (2 * w->lim->message_bytes));
        part->data = malloc(n + 1);
        if (!part->data)
                return dt_error_set(w->err, -ENOMEM, DT_R_NOMEM, -1, "out of memory");
        if (n > 0)
                memcpy(part->data, ba->data, n);
        part->data[n] = '\0';
        part->len = n;
        w->budget -= n;
        return 0;
}

/* crlf_to_lf - turn CRLF into LF in place in a text part, so a CRLF copy and an LF copy of the
 * same message give the same bytes (a bare CR stays) */
static void crlf_to_lf(struct dt_part *part) {
        size_t i, o = 0;

        for (i = 0; i < part->len; i++) {
                if (part->data[i] == '\r' && i + 1 < part->len && part->data[i + 1] == '\n')
                        continue;
                part->data[o++] = part->data[i];
        }
        part->data[o] = '\0';
        part->len = o;
}

/* decode_leaf - the content of a leaf part with its transfer encoding undone */
static int decode_leaf(struct walk *w, GMimePart *gp, struct dt_part *part) {
        GMimeDataWrapper *content = g_mime_part_get_content(gp);
        GMimeStream *s;
        int r;

        s = g_mime_stream_mem_new();
        if (!s)
                return dt_error_set(w->err, -ENOMEM, DT_R_NOMEM, -1, "out of memory");
        if (content && g_mime_data_wrapper_write_to_stream(content, s) < 0)
                w->m->flags |= DT_MIME_ANOMALY;         /* keep whatever was decoded */
        r = take_stream_bytes(w, s, part);
        g_object_unref(s);
        if (r == 0 && (strncmp(part->content_type, "text/", 5) == 0 ||
                       strncmp(part->content_type, "message/", 8) == 0))
                crlf_to_lf(part);
        return r;
}

/* serialise_message - the embedded message of a message/rfc822 part, as text. Its size is
 * measured on a null stream first, so an oversized one is refused before it is copied. */
static int serialise_message(struct walk *w, GMimeMessage *msg, struct dt_part *part) {
        GMimeStream *s;
        ssize_t n;
        int r;

        s = g_mime_stream_null_new();
        if (!s)
                return dt_error_set(w->err, -ENOMEM, DT_R_NOMEM, -1, "out of memory");
        n = g_mime_object_write_to_stream(GMIME_OBJECT(msg), NULL, s);
        g_object_unref(s);
        if (n < 0)
                n = 0;
        if ((uint64_t) n > w->budget)
                return dt_error_set(w->err, -EFBIG, DT_R_SIZE_LIMIT, -1,
                                    "decoded parts exceed %llu bytes in all",
                                    (unsigned long long) (2 * w->lim->message_bytes));
        s = g_mime_stream_mem_new();
        if (!s)
                return dt_error_set(w->err, -ENOMEM, DT_R_NOMEM, -1, "out of memory");
        if (g_mime_object_write_to_stream(GMIME_OBJECT(msg), NULL, s) < 0)
                w->m->flags |= DT_MIME_ANOMALY;
        r = take_stream_bytes(w, s, part);
        g_object_unref(s);
        return r;
}

/* add_part - append an empty part describing obj's labels; returns its index or -errno */
static int add_part(struct walk *w, GMimeObject *obj, unsigned depth, size_t *idx) {
        struct dt_message *m = w->m;
        struct dt_part *p;
        GMimeContentType *ct;
        const char *type = NULL, *sub = NULL, *name;
        size_t tl, sl;
        bool oom = false;

        if (m->n_parts >= w->lim->mime_parts)
                return dt_error_set(w->err, -E2BIG, DT_R_PART_COUNT_LIMIT, -1,
                                    "more than %u MIME parts", w->lim->mime_parts);
        if (m->n_parts == m->cap_parts) {
                size_t cap = m->cap_parts ? 2 * m->cap_parts : 8;
                struct dt_part *np;

                if (cap > w->lim->mime_parts)
                        cap = w->lim->mime_parts;
                bool *nl;

                np = reallocarray(m->parts, cap, sizeof *np);
                if (!np)
                        return dt_error_set(w->err, -ENOMEM, DT_R_NOMEM, -1, "out of memory");
                m->parts = np;
                nl = reallocarray(m->leaf, cap, sizeof *nl);
                if (!nl)
                        return dt_error_set(w->err, -ENOMEM, DT_R_NOMEM, -1, "out of memory");
                m->leaf = nl;
                m->cap_parts = cap;
        }
        p = &m->parts[m->n_parts];
        memset(p, 0, sizeof *p);
        m->leaf[m->n_parts] = false;
        m->n_parts++;
        p->depth = depth;

        ct = g_mime_object_get_content_type(obj);
        if (ct) {
                type = g_mime_content_type_get_media_type(ct);
                sub = g_mime_content_type_get_media_subtype(ct);
        }
        if (!type || !*type || !sub || !*sub) {
                type = "text";
                sub = "plain";
        }
        tl = strnlen(type, CONTENT_TYPE_MAX);
        sl = strnlen(sub, CONTENT_TYPE_MAX - tl);
        p->content_type = malloc(tl + 1 + sl + 1);
        if (!p->content_type)
                return dt_error_set(w->err, -ENOMEM, DT_R_NOMEM, -1, "out of memory");
        memcpy(p->content_type, type, tl);
        p->content_type[tl] = '/';
        memcpy(p->content_type + tl + 1, sub, sl);
        p->content_type[tl + 1 + sl] = '\0';
        ascii_lower(p->content_type);

        if (GMIME_IS_MULTIPART(obj) && strcmp(p->content_type, "multipart/report") == 0) {
                p->report_type = strdup_or_null(g_mime_content_type_get_parameter(ct,
                                                                                 "report-type"),
                                                &oom);
                if (p->report_type)
                        ascii_lower(p->report_type);
        }
        if (GMIME_IS_PART(obj))
                name = g_mime_part_get_filename(GMIME_PART(obj));
        else {
                name = g_mime_object_get_content_disposition_parameter(obj, "filename");
                if (!name)
                        name = g_mime_object_get_content_type_parameter(obj, "name");
        }
        p->filename = strdup_or_null(name, &oom);
        if (oom)
                return dt_error_set(w->err, -ENOMEM, DT_R_NOMEM, -1, "out of memory");
        *idx = m->n_parts - 1;
        return 0;
}

/* walk_object - record obj and everything below it. Recursion is bounded: depth is checked
 * against lim->mime_depth before anything else. */
static int walk_object(struct walk *w, GMimeObject *obj, unsigned depth) {
        size_t idx = 0;
        int r;

        if (depth > w->lim->mime_depth)
                return dt_error_set(w->err, -ELOOP, DT_R_MIME_DEPTH, -1,
                                    "MIME nesting deeper than %u", w->lim->mime_depth);
        r = add_part(w, obj, depth, &idx);
        if (r < 0)
                return r;

        if (GMIME_IS_MULTIPART(obj)) {
                GMimeMultipart *mp = GMIME_MULTIPART(obj);
                int i, n = g_mime_multipart_get_count(mp);

                for (i = 0; i < n; i++) {
                        GMimeObject *child = g_mime_multipart_get_part(mp, i);

                        if (!child)
                                continue;
                        r = walk_object(w, child, depth + 1);
                        if (r < 0)
                                return r;
                }
        } else if (GMIME_IS_MESSAGE_PART(obj)) {
                GMimeMessage *msg = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
                GMimeObject *body;

                if (!msg) {
                        w->m->parts[idx].data = calloc(1, 1);
                        if (!w->m->parts[idx].data)
                                return dt_error_set(w->err, -ENOMEM, DT_R_NOMEM, -1,
                                                    "out of memory");
                        return 0;
                }
                r = serialise_message(w, msg, &w->m->parts[idx]);
                if (r < 0)
                        return r;
                body = g_mime_message_get_mime_part(msg);
                if (body) {
                        r = walk_object(w, body, depth + 1);
                        if (r < 0)
                                return r;
                }
        } else if (GMIME_IS_PART(obj)) {
                r = decode_leaf(w, GMIME_PART(obj), &w->m->parts[idx]);
                if (r < 0)
                        return r;
                w->m->leaf[idx] = true;
        }
        /* XXX: any other GMimeObject subclass (none in gmime 3.2) is listed without data */
        return 0;
}

/* sniff_xml_feedback - whether data is XML whose root element is <feedback>: an optional UTF-8
 * BOM, whitespace, processing instructions (the XML declaration), comments and a DOCTYPE may
 * come first. Looks at most SNIFF_BYTES into the data. */
static bool sniff_xml_feedback(const unsigned char *data, size_t len) {
        const char *p = (const char *) data, *end, *q;

        if (len > SNIFF_BYTES)
                len = SNIFF_BYTES;
        end = p + len;
        if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
                p += 3;
        for (;;) {
                while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
                        p++;
                if (end - p < 2 || *p != '<')
                        return false;
                if (p[1] == '?') {
                        q = memmem(p + 2, (size_t) (end - p - 2), "?>", 2);
                        if (!q)
                                return false;
                        p = q + 2;
                } else if (end - p >= 4 && memcmp(p, "<!--", 4) == 0) {
                        q = memmem(p + 4, (size_t) (end - p - 4), "-->", 3);
                        if (!q)
                                return false;
                        p = q + 3;
                } else if (p[1] == '!') {
                        /* DOCTYPE: let the aggregate parser reject it with a proper reason */
                        q = p + 2;
                        while (q < end && *q != '>' && *q != '[')
                                q++;
                        if (q < end && *q == '[') {
                                q = memchr(q, ']', (size_t) (end - q));
                                if (!q)
                                        return false;
                                q = memchr(q, '>', (size_t) (end - q));
                        }
                        if (!q || q >= end)
                                return false;
                        p = q + 1;
                } else {
                        size_t n = (size_t) (end - p);

                        if (n < 10 || memcmp(p, "<feedback", 9) != 0)
                                return false;
                        return p[9] == '>' || p[9] == '/' || p[9] == ' ' || p[9] == '\t' ||
                               p[9] == '\r' || p[9] == '\n';
                }
        }
}

/* sniff - what a leaf's decoded bytes are */
static enum sniff sniff(const struct dt_part *p) {
        if (!p->data)
                return SNIFF_NONE;
        if (p->len >= 2 && p->data[0] == 0x1f && p->data[1] == 0x8b)
                return SNIFF_GZIP;
        if (p->len >= 4 && memcmp(p->data, "PK\3\4", 4) == 0)
                return SNIFF_ZIP;
        if (sniff_xml_feedback(p->data, p->len))
                return SNIFF_XML;
        return SNIFF_NONE;
}

/* label_kind - what a Content-Type label claims: SNIFF_NONE when it claims nothing specific */
static enum sniff label_kind(const char *ct) {
        static const char *const zip[] = { "application/zip", "application/x-zip",
                                           "application/x-zip-compressed",
                                           "application/zip-compressed" };
        static const char *const gz[] = { "application/gzip", "application/x-gzip",
                                          "application/gzip-compressed", "application/x-gunzip",
                                          "application/x-gzip-compressed" };
        size_t i;

        for (i = 0; i < ELEMENTSOF(zip); i++)
                if (strcmp(ct, zip[i]) == 0)
                        return SNIFF_ZIP;
        for (i = 0; i < ELEMENTSOF(gz); i++)
                if (strcmp(ct, gz[i]) == 0)
                        return SNIFF_GZIP;
        if (strcmp(ct, "text/xml") == 0 || strcmp(ct, "application/xml") == 0)
                return SNIFF_XML;
        return SNIFF_NONE;
}

/* looks_like_report - whether a part's label or name suggests a report attachment */
static bool looks_like_report(const struct dt_part *p) {
        return label_kind(p->content_type) != SNIFF_NONE || ends_with_ci(p->filename, ".zip") ||
               ends_with_ci(p->filename, ".gz") || ends_with_ci(p->filename, ".xml") ||
               ends_with_ci(p->filename, ".gzip");
}

/* find_aggregate - pick the report part (rule 2); returns true and sets m->report */
static bool find_aggregate(struct dt_message *m) {
        size_t i, best = 0;
        int best_score = 0;
        enum sniff kind, label;

        for (i = 0; i < m->n_parts; i++) {
                const struct dt_part *p = &m->parts[i];
                int score;

                if (!m->leaf[i])
                        continue;       /* containers and re-serialised embedded messages */
                kind = sniff(p);
                if (kind == SNIFF_NONE)
                        continue;
                score = kind == SNIFF_XML ? 3 : looks_like_report(p) ? 2 : 1;
                if (score > best_score) {
                        best_score = score;
                        best = i;
                }
        }
        if (best_score == 0)
                return false;
        m->report = best;
        kind = sniff(&m->parts[best]);
        label = label_kind(m->parts[best].content_type);
        if ((label != SNIFF_NONE && label != kind) ||
            (kind != SNIFF_XML && strncmp(m->parts[best].content_type, "text/", 5) == 0))
                m->flags |= DT_MIME_CONTENT_TYPE_MISMATCH;
        return true;
}

/* copied_header_lines - how many lines of text[0..len) start like a copied mail header */
static unsigned copied_header_lines(const char *text, size_t len) {
        static const char *const names[] = { "received:", "from:", "subject:", "message-id:",
                                             "date:", "to:", "authentication-results:",
                                             "dkim-signature:", "return-path:" };
        const char *p = text, *end = text + len, *nl;
        unsigned n = 0;
        size_t i;

        while (p < end) {
                size_t linelen;

                nl = memchr(p, '\n', (size_t) (end - p));
                linelen = (size_t) ((nl ? nl : end) - p);
                for (i = 0; i < ELEMENTSOF(names); i++) {
                        size_t k = strlen(names[i]);

                        if (linelen >= k && memmem_ci(p, k, names[i]) == p) {
                                n++;
                                break;
                        }
                }
                if (!nl)
                        break;
                p = nl + 1;
        }
        return n;
}

/* is_failure_notice - rule 3: a non-ARF DMARC failure notice */
static bool is_failure_notice(const struct dt_message *m) {
        bool bare_report = false;
        size_t i;

        for (i = 0; i < m->n_parts; i++)
                if (strcmp(m->parts[i].content_type, "multipart/report") == 0 &&
                    (!m->parts[i].report_type || !*m->parts[i].report_type))
                        bare_report = true;
        if (bare_report)
                for (i = 0; i < m->n_parts; i++) {
                        const struct dt_part *p = &m->parts[i];

                        if (strcmp(p->content_type, "text/plain") == 0 && p->data &&
                            memmem_ci((const char *) p->data, p->len, "dmarc") &&
                            copied_header_lines((const char *) p->data, p->len) >= 2)
                                return true;
                }
        if (has_ci(m->subject, "dmarc forensic report") ||
            has_ci(m->subject, "dmarc failure report"))
                return true;
        return has_ci(m->subject, "report domain:") && has_ci(m->subject, "submitter:") &&
               (has_ci(m->subject, "failure") || has_ci(m->subject, "forensic"));
}

/* classify - set m->kind (and m->report) from the parts; see the rules at the top */
static void classify(struct dt_message *m) {
        size_t i;

        for (i = 0; i < m->n_parts; i++) {
                const struct dt_part *p = &m->parts[i];

                if (strcmp(p->content_type, "message/feedback-report") == 0 ||
                    (p->report_type && strcmp(p->report_type, "feedback-report") == 0)) {
                        m->kind = DT_KIND_FAILURE;
                        return;
                }
        }
        if (find_aggregate(m))
                m->kind = DT_KIND_AGGREGATE;
        else if (is_failure_notice(m))
                m->kind = DT_KIND_FAILURE;
        else
                m->kind = DT_KIND_NONE;
}

int dt_mime_parse(const void *buf, size_t len, const struct dt_limits *lim,
                  struct dt_message **out, struct dt_error *err) {
        _cleanup_(dt_message_freep) struct dt_message *m = NULL;
        GMimeParserOptions *opts = NULL;
        GMimeStream *stream = NULL;
        GMimeParser *parser = NULL;
        GMimeMessage *msg = NULL;
        GMimeObject *body;
        struct walk w;
        size_t skip = 0;
        bool oom = false;
        int r;

        if (!lim)
                lim = &dt_limits_default;
        if (!buf && len > 0)
                return dt_error_set(err, -EINVAL, DT_R_MIME_MALFORMED, -1, "no buffer");
        r = prescan(buf, len, lim, &skip, err);
        if (r < 0)
                return r;

        mime_init();
        m = calloc(1, sizeof *m);
        if (!m)
                return dt_error_set(err, -ENOMEM, DT_R_NOMEM, -1, "out of memory");

        opts = g_mime_parser_options_new();
        stream = g_mime_stream_mem_new_with_buffer((const char *) buf + skip, len - skip);
        if (!opts || !stream) {
                r = dt_error_set(err, -ENOMEM, DT_R_NOMEM, -1, "out of memory");
                goto out;
        }
        g_mime_parser_options_set_warning_callback(opts, on_warning, m);
        parser = g_mime_parser_new_with_stream(stream);
        if (!parser) {
                r = dt_error_set(err, -ENOMEM, DT_R_NOMEM, -1, "out of memory");
                goto out;
        }
        g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
        msg = g_mime_parser_construct_message(parser, opts);
        if (!msg) {
                r = dt_error_set(err, -EBADMSG, DT_R_MIME_MALFORMED, -1,
                                 "gmime could not parse the message");
                goto out;
        }

        m->subject = strdup_or_null(g_mime_message_get_subject(msg), &oom);
        m->from = strdup_or_null(g_mime_object_get_header(GMIME_OBJECT(msg), "From"), &oom);
        m->message_id = strdup_or_null(g_mime_message_get_message_id(msg), &oom);
        if (oom) {
                r = dt_error_set(err, -ENOMEM, DT_R_NOMEM, -1, "out of memory");
                goto out;
        }

        w = (struct walk) {
                .m = m,
                .lim = lim,
                .budget = lim->message_bytes > UINT64_MAX / 2 ? UINT64_MAX
                                                               : 2 * lim->message_bytes,
                .err = err,
        };
        body = g_mime_message_get_mime_part(msg);
        if (body) {
                r = walk_object(&w, body, 0);
                if (r < 0)
                        goto out;
        }
        classify(m);
        r = 0;
out:
        /* the objects may call the warning callback while finalising: m is still alive */
        if (msg)
                g_object_unref(msg);
        if (parser)
                g_object_unref(parser);
        if (stream)
                g_object_unref(stream);
        if (opts)
                g_mime_parser_options_free(opts);
        if (r < 0)
                return r;
        *out = TAKE_PTR(m);
        return 0;
}

enum dt_kind dt_message_kind(const struct dt_message *m) {
        return m ? m->kind : DT_KIND_NONE;
}

const struct dt_part *dt_message_report(const struct dt_message *m) {
        if (!m || m->kind != DT_KIND_AGGREGATE || m->report >= m->n_parts)
                return NULL;
        return &m->parts[m->report];
}

size_t dt_message_n_parts(const struct dt_message *m) {
        return m ? m->n_parts : 0;
}

const struct dt_part *dt_message_part(const struct dt_message *m, size_t i) {
        if (!m || i >= m->n_parts)
                return NULL;
        return &m->parts[i];
}

const char *dt_message_subject(const struct dt_message *m) {
        return m ? m->subject : NULL;
}

const char *dt_message_from(const struct dt_message *m) {
        return m ? m->from : NULL;
}

const char *dt_message_id(const struct dt_message *m) {
        return m ? m->message_id : NULL;
}

uint32_t dt_message_flags(const struct dt_message *m) {
        return m ? m->flags : 0;
}

struct dt_message *dt_message_free(struct dt_message *m) {
        size_t i;

        if (!m)
                return NULL;
        for (i = 0; i < m->n_parts; i++) {
                free(m->parts[i].content_type);
                free(m->parts[i].report_type);
                free(m->parts[i].filename);
                free(m->parts[i].data);
        }
        free(m->parts);
        free(m->leaf);
        free(m->subject);
        free(m->from);
        free(m->message_id);
        free(m);
        return NULL;
}
