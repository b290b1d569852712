/* failure.c - read a DMARC failure report out of a parsed message into struct dt_failure
 *
 * gmime has already split the message into a flat list of parts (report/mime.c); gmime leaves
 * message/feedback-report and text/rfc822-headers as plain text, so both go through our own
 * bounded header splitter (report/headers.c). The parts are chosen by content type, not by the
 * report-type parameter: the first message/feedback-report part, then the first
 * message/rfc822, text/rfc822-headers or message/rfc822-headers part beside it (same parent),
 * else anywhere after it, else anywhere. With none of those, text/plain parts are searched for
 * a pasted header block, as Exim's built-in DMARC notice and some other MTAs send it; the few
 * "Label: value" lines of Exim's summary above the headers are read as well.
 *
 * SECURITY: the report and the original message inside it are hostile and unauthenticated:
 * anyone can send one, claiming any reporter. Header blocks are bounded by
 * lim->header_bytes and lim->header_fields (an original over them rejects the report, as the
 * outer message would be); values are capped, decoded after splitting (so an encoded CR LF
 * cannot add a field) and sanitised. The search for pasted headers moves forward only. An
 * Authentication-Results field is kept as data, never trusted. Never logs. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "report/failure.h"
#include "report/sanitize.h"

/* is_blank - space, tab, CR or LF */
static bool is_blank(char c) {
        return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* parse_count - a decimal count of at most 18 digits, or -1 */
static int64_t parse_count(const char *s, size_t len) {
        int64_t v = 0;

        dt_headers_trim(&s, &len);
        if (len == 0 || len > 18)
                return -1;
        for (size_t i = 0; i < len; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -1;
                v = v * 10 + (s[i] - '0');
        }
        return v;
}

/* clean - a new sanitised copy of s[0..len), trimmed and capped; NULL only when out of memory */
static char *clean(const char *s, size_t len, unsigned *flags) {
        bool cut = false;
        char *c;

        dt_headers_trim(&s, &len);
        c = dt_sanitize_dup(s, len, DT_FAILURE_VALUE_MAX, &cut);
        if (cut)
                *flags |= DT_FAILURE_TRUNCATED;
        return c;
}

/* dt_failure_origin_name - the content type the original came in, as text */
const char *dt_failure_origin_name(enum dt_failure_origin o) {
        static const char *const names[_DT_ORIGIN_MAX] = {
                [DT_ORIGIN_MESSAGE] = "message/rfc822",
                [DT_ORIGIN_HEADERS] = "text/rfc822-headers",
                [DT_ORIGIN_MESSAGE_HEADERS] = "message/rfc822-headers",
                [DT_ORIGIN_TEXT] = "text/plain",
        };

        if ((unsigned) o >= _DT_ORIGIN_MAX)
                return NULL;
        return names[o];
}

/* dt_failure_free - NULL-safe, copes with a half-built struct; returns NULL */
struct dt_failure *dt_failure_free(struct dt_failure *f) {
        if (!f)
                return NULL;
        char **strs[] = {
                &f->feedback_type, &f->user_agent, &f->version, &f->auth_failure,
                &f->original_envelope_id, &f->original_mail_from, &f->arrival_date_text,
                &f->reporting_mta, &f->source_ip, &f->reported_domain, &f->reported_uri,
                &f->authentication_results, &f->delivery_result, &f->identity_alignment,
                &f->spf_dns, &f->dkim_domain, &f->dkim_identity, &f->dkim_selector,
        };
        for (size_t i = 0; i < ELEMENTSOF(strs); i++)
                free(*strs[i]);
        for (size_t i = 0; i < f->n_original_rcpt_to; i++)
                free(f->original_rcpt_to[i]);
        free(f->original_rcpt_to);
        for (size_t i = 0; i < f->n_feedback; i++) {
                free(f->feedback[i].name);
                free(f->feedback[i].value);
        }
        free(f->feedback);
        dt_headers_free(f->original);
        free(f);
        return NULL;
}

/* ---- the feedback part ---- */

/* The single-valued fields, each kept once (the first) in its struct member. */
static const struct {
        const char *name;
        size_t off;
        bool angle;             /* strip <> */
} single[] = {
        { "feedback-type", offsetof(struct dt_failure, feedback_type), false },
        { "user-agent", offsetof(struct dt_failure, user_agent), false },
        { "version", offsetof(struct dt_failure, version), false },
        { "auth-failure", offsetof(struct dt_failure, auth_failure), false },
        { "original-envelope-id", offsetof(struct dt_failure, original_envelope_id), false },
        { "original-mail-from", offsetof(struct dt_failure, original_mail_from), true },
        { "arrival-date", offsetof(struct dt_failure, arrival_date_text), false },
        { "received-date", offsetof(struct dt_failure, arrival_date_text), false },
        { "reporting-mta", offsetof(struct dt_failure, reporting_mta), false },
        { "reported-domain", offsetof(struct dt_failure, reported_domain), false },
        { "reported-uri", offsetof(struct dt_failure, reported_uri), false },
        { "authentication-results", offsetof(struct dt_failure, authentication_results), false },
        { "delivery-result", offsetof(struct dt_failure, delivery_result), false },
        { "identity-alignment", offsetof(struct dt_failure, identity_alignment), false },
        { "spf-dns", offsetof(struct dt_failure, spf_dns), false },
        { "dkim-domain", offsetof(struct dt_failure, dkim_domain), false },
        { "dkim-identity", offsetof(struct dt_failure, dkim_identity), false },
        { "dkim-selector", offsetof(struct dt_failure, dkim_selector), false },
};

/* Fields RFC 5965/6591 allow more than once: a second one is not an anomaly. */
static bool may_repeat(const char *name) {
        static const char *const rep[] = {
                "original-rcpt-to", "reported-domain", "reported-uri", "authentication-results",
                "auth-failure", "dkim-canonicalized-header", "dkim-canonicalized-body", "spf-dns",
        };
        for (size_t i = 0; i < ELEMENTSOF(rep); i++)
                if (strcmp(name, rep[i]) == 0)
                        return true;
        return false;
}

/* set_source_ip - "192.0.2.1 (host.example)" or "[192.0.2.1]": the address alone */
static int set_source_ip(struct dt_failure *f, const char *v, size_t len) {
        size_t n = 0;

        dt_headers_trim(&v, &len);
        if (len > 0 && v[0] == '[') {
                v++;
                len--;
        }
        while (n < len && !is_blank(v[n]) && v[n] != '(' && v[n] != ']' && v[n] != ';' &&
               v[n] != ',')
                n++;
        f->source_ip = clean(v, n, &f->flags);
        return f->source_ip ? 0 : -ENOMEM;
}

/* feedback_field - keep one field of the feedback part */
static int feedback_field(struct dt_failure *f, const struct dt_header_field *hf) {
        struct dt_feedback_field *ff = &f->feedback[f->n_feedback];
        _cleanup_free_ char *dec = NULL;
        size_t dl = 0, nl = strlen(hf->name);
        bool cut = false;
        const char *v;
        size_t vl;

        ff->name = dt_sanitize_dup(hf->name, nl, 128, NULL);
        if (!ff->name)
                return -ENOMEM;
        for (char *c = ff->name; *c; c++)
                if (*c >= 'A' && *c <= 'Z')
                        *c = (char) (*c - 'A' + 'a');
        dec = dt_headers_decode_text(hf->value, hf->value_len, DT_HEADER_VALUE_MAX, &dl, &cut);
        if (!dec) {
                free(ff->name);
                ff->name = NULL;
                return -ENOMEM;
        }
        if (cut || hf->raw_len > hf->value_len)
                f->flags |= DT_FAILURE_TRUNCATED;
        ff->value = clean(dec, dl, &f->flags);
        if (!ff->value) {
                free(ff->name);
                ff->name = NULL;
                return -ENOMEM;
        }
        f->n_feedback++;

        v = dec;
        vl = dl;
        if (strcmp(ff->name, "source-ip") == 0) {
                if (f->source_ip) {
                        f->flags |= DT_FAILURE_REPEATED;
                        return 0;
                }
                return set_source_ip(f, v, vl);
        }
        if (strcmp(ff->name, "incidents") == 0) {
                if (f->incidents >= 0)
                        f->flags |= DT_FAILURE_REPEATED;
                else
                        f->incidents = parse_count(v, vl);
                return 0;
        }
        if (strcmp(ff->name, "original-rcpt-to") == 0) {
                char **nr, *c;

                dt_headers_strip_angle(&v, &vl);
                c = clean(v, vl, &f->flags);
                if (!c)
                        return -ENOMEM;
                nr = reallocarray(f->original_rcpt_to, f->n_original_rcpt_to + 1, sizeof *nr);
                if (!nr) {
                        free(c);
                        return -ENOMEM;
                }
                f->original_rcpt_to = nr;
                f->original_rcpt_to[f->n_original_rcpt_to++] = c;
                return 0;
        }
        for (size_t i = 0; i < ELEMENTSOF(single); i++) {
                char **dst;

                if (strcmp(ff->name, single[i].name) != 0)
                        continue;
                dst = (char **) ((char *) f + single[i].off);
                if (*dst) {
                        if (!may_repeat(ff->name))
                                f->flags |= DT_FAILURE_REPEATED;
                        return 0;
                }
                if (single[i].angle)
                        dt_headers_strip_angle(&v, &vl);
                *dst = clean(v, vl, &f->flags);
                if (!*dst)
                        return -ENOMEM;
                if (single[i].off == offsetof(struct dt_failure, arrival_date_text) &&
                    dt_headers_parse_date(v, vl, &f->arrival_date) == 0)
                        f->has_arrival_date = true;
                if (single[i].off == offsetof(struct dt_failure, feedback_type))
                        for (char *c = *dst; *c; c++)
                                if (*c >= 'A' && *c <= 'Z')
                                        *c = (char) (*c - 'A' + 'a');
                return 0;
        }
        return 0;
}

/* skip_blank_lines - past any empty lines a part's content starts with */
static size_t skip_blank_lines(const unsigned char *d, size_t len) {
        size_t i = 0, line = 0;

        while (i < len) {
                if (d[i] == '\n')
                        line = i + 1;
                else if (d[i] != '\r' && d[i] != ' ' && d[i] != '\t')
                        break;
                i++;
        }
        return line;
}

/* read_feedback - every field of the message/feedback-report part, in order */
static int read_feedback(struct dt_failure *f, const struct dt_part *p,
                         const struct dt_limits *lim, struct dt_error *err) {
        _cleanup_(dt_headers_block_freep) struct dt_header_block *b = NULL;
        size_t skip = skip_blank_lines(p->data, p->len);
        int r;

        r = dt_headers_split((const char *) p->data + skip, p->len - skip, lim, &b, err);
        if (r < 0)
                return r;
        if (b->n == 0 || (b->flags & (DT_HB_STOPPED | DT_HB_ORPHAN)))
                f->flags |= DT_FAILURE_FEEDBACK_ODD;
        if (b->flags & DT_HB_TRUNCATED)
                f->flags |= DT_FAILURE_TRUNCATED;
        if (b->n > 0) {
                f->feedback = calloc(b->n, sizeof *f->feedback);
                if (!f->feedback)
                        return dt_error_set(err, -ENOMEM, DT_R_NOMEM, -1, "out of memory");
        }
        for (size_t i = 0; i < b->n; i++) {
                r = feedback_field(f, &b->fields[i]);
                if (r < 0)
                        return dt_error_set(err, r, DT_R_NOMEM, -1, "out of memory");
        }
        return 0;
}

/* ---- the original message ---- */

static enum dt_failure_origin origin_of(const struct dt_part *p) {
        if (strcmp(p->content_type, "message/rfc822") == 0)
                return DT_ORIGIN_MESSAGE;
        if (strcmp(p->content_type, "text/rfc822-headers") == 0)
                return DT_ORIGIN_HEADERS;
        if (strcmp(p->content_type, "message/rfc822-headers") == 0)
                return DT_ORIGIN_MESSAGE_HEADERS;
        return DT_ORIGIN_NONE;
}

/* read_original_part - the header block at the start of an embedded message or headers part.
 * A part with no header field in it is not an error: 0 and *out left NULL. */
static int read_original_part(const struct dt_part *p, const struct dt_limits *lim,
                              struct dt_headers **out, struct dt_error *err) {
        _cleanup_(dt_headers_block_freep) struct dt_header_block *b = NULL;
        size_t skip;
        int r;

        if (!p->data)
                return 0;
        skip = skip_blank_lines(p->data, p->len);
        r = dt_headers_split((const char *) p->data + skip, p->len - skip, lim, &b, err);
        if (r < 0)
                return r;
        if (b->n == 0)
                return 0;
        return dt_headers_from_block(b, out, err);
}

/* A pasted block must carry one of these to count as a message's headers. */
static const char *const pasted_names[] = {
        "Received", "From", "Message-ID", "Subject", "Return-Path", "DKIM-Signature",
        "X-PHP-Originating-Script", "Date", "To",
};

/* pasted_start - whether a line opens with one of pasted_names and a colon */
static bool pasted_start(const char *s, size_t len) {
        for (size_t i = 0; i < ELEMENTSOF(pasted_names); i++) {
                size_t n = strlen(pasted_names[i]);
                if (len > n && strncasecmp(s, pasted_names[i], n) == 0 && s[n] == ':')
                        return true;
        }
        return false;
}

/* pasted_block_ok - at least two fields, two of them ones a message has */
static bool pasted_block_ok(const struct dt_header_block *b) {
        size_t known = 0;

        for (size_t i = 0; i < b->n; i++)
                for (size_t k = 0; k < ELEMENTSOF(pasted_names); k++)
                        if (strcasecmp(b->fields[i].name, pasted_names[k]) == 0) {
                                known++;
                                break;
                        }
        return b->n >= 2 && known >= 2;
}

/* header_run - the length of the run of lines at s that look like header fields or their
 * continuations: the whole of a block dt_headers_split refused, so none of it is tried again */
static size_t header_run(const char *s, size_t len) {
        size_t p = 0;

        while (p < len) {
                const char *eol = memchr(s + p, '\n', len - p);
                size_t next = eol ? (size_t) (eol - s) + 1 : len, q = p;

                if (s[p] == '\n' || (s[p] == '\r' && p + 1 < len && s[p + 1] == '\n'))
                        break;
                if (s[p] != ' ' && s[p] != '\t') {
                        while (q < next && (unsigned char) s[q] > 32 &&
                               (unsigned char) s[q] < 127 && s[q] != ':')
                                q++;
                        if (q == p || q >= next || s[q] != ':')
                                break;
                }
                p = next;
        }
        return p;
}

/* find_pasted - the first header block pasted into text[0..len): *out, and *at its offset.
 * Returns 1 found, 0 not, <0 out of memory. A pasted block over lim->header_bytes or
 * lim->header_fields is passed over rather than rejecting the report: in free text it may be
 * something else. Linear: a rejected block is skipped whole. */
static int find_pasted(const char *text, size_t len, const struct dt_limits *lim,
                       struct dt_headers **out, size_t *at, struct dt_error *err) {
        size_t p = 0;

        while (p < len) {
                const char *eol = memchr(text + p, '\n', len - p);
                size_t next = eol ? (size_t) (eol - text) + 1 : len;

                if (pasted_start(text + p, next - p)) {
                        _cleanup_(dt_headers_block_freep) struct dt_header_block *b = NULL;
                        struct dt_error e2 = { 0 };
                        int r = dt_headers_split(text + p, len - p, lim, &b, &e2);

                        if (r == -ENOMEM)
                                return dt_error_set(err, r, DT_R_NOMEM, -1, "out of memory");
                        if (r == 0 && pasted_block_ok(b)) {
                                r = dt_headers_from_block(b, out, err);
                                if (r < 0)
                                        return r;
                                *at = p;
                                return 1;
                        }
                        /* Not a block, or one over the limits: ignore it and go on after the
                         * whole of it, so no line is split twice. */
                        size_t skip = r == 0 ? b->end : header_run(text + p, len - p);
                        if (skip > next - p)
                                next = p + skip;
                }
                p = next;
        }
        return 0;
}

/* summary_line - Exim's "  Sender IP Address: 203.0.113.68" lines above the pasted headers */
static int summary_line(struct dt_failure *f, const char *s, size_t len) {
        static const struct {
                const char *label;
                int what;
        } labels[] = {
                { "Sender Domain:", 0 },
                { "Sender IP Address:", 1 },
                { "Received date:", 2 },
        };

        dt_headers_trim(&s, &len);
        for (size_t i = 0; i < ELEMENTSOF(labels); i++) {
                size_t n = strlen(labels[i].label);
                const char *v = s + n;
                size_t vl = len - n;

                if (len < n || strncasecmp(s, labels[i].label, n) != 0)
                        continue;
                dt_headers_trim(&v, &vl);
                switch (labels[i].what) {
                case 0:
                        if (!f->reported_domain && !(f->reported_domain = clean(v, vl, &f->flags)))
                                return -ENOMEM;
                        return 0;
                case 1:
                        return f->source_ip ? 0 : set_source_ip(f, v, vl);
                default:
                        if (f->arrival_date_text)
                                return 0;
                        if (!(f->arrival_date_text = clean(v, vl, &f->flags)))
                                return -ENOMEM;
                        if (dt_headers_parse_date(v, vl, &f->arrival_date) == 0)
                                f->has_arrival_date = true;
                        return 0;
                }
        }
        return 0;
}

/* read_summary - the "Label: value" lines of a non-ARF notice, line by line */
static int read_summary(struct dt_failure *f, const char *text, size_t len) {
        size_t p = 0;

        while (p < len) {
                const char *eol = memchr(text + p, '\n', len - p);
                size_t next = eol ? (size_t) (eol - text) + 1 : len;
                int r = summary_line(f, text + p, next - p);

                if (r < 0)
                        return r;
                p = next;
        }
        return 0;
}

/* ---- the whole report ---- */

/* parent_of - the nearest part before i one level up, or SIZE_MAX */
static size_t parent_of(const struct dt_message *m, size_t i) {
        unsigned d = dt_message_part(m, i)->depth;

        if (d == 0)
                return SIZE_MAX;
        while (i-- > 0)
                if (dt_message_part(m, i)->depth == d - 1)
                        return i;
        return SIZE_MAX;
}

/* dt_failure_parse - pick the parts, read them, decide whether it is a DMARC failure */
int dt_failure_parse(const struct dt_message *m, const struct dt_limits *lim,
                     struct dt_failure **out, struct dt_error *err) {
        _cleanup_(dt_failure_freep) struct dt_failure *f = NULL;
        size_t n = dt_message_n_parts(m), fb = SIZE_MAX, orig = SIZE_MAX, container;
        const struct dt_part *c;
        int r;

        f = calloc(1, sizeof *f);
        if (!f)
                return dt_error_set(err, -ENOMEM, DT_R_NOMEM, -1, "out of memory");
        f->incidents = -1;

        for (size_t i = 0; i < n && fb == SIZE_MAX; i++)
                if (strcmp(dt_message_part(m, i)->content_type, "message/feedback-report") == 0)
                        fb = i;
        if (fb != SIZE_MAX) {
                unsigned d = dt_message_part(m, fb)->depth;

                for (size_t i = fb + 1; i < n && orig == SIZE_MAX; i++) {
                        const struct dt_part *p = dt_message_part(m, i);
                        if (p->depth < d)
                                break;
                        if (p->depth == d && origin_of(p) != DT_ORIGIN_NONE)
                                orig = i;
                }
                for (size_t i = fb + 1; i < n && orig == SIZE_MAX; i++)
                        if (origin_of(dt_message_part(m, i)) != DT_ORIGIN_NONE)
                                orig = i;
        }
        for (size_t i = 0; i < n && orig == SIZE_MAX; i++)
                if (origin_of(dt_message_part(m, i)) != DT_ORIGIN_NONE)
                        orig = i;

        container = fb != SIZE_MAX ? parent_of(m, fb) : (n > 0 ? 0 : SIZE_MAX);
        c = container != SIZE_MAX ? dt_message_part(m, container) : NULL;
        if (!c || strcmp(c->content_type, "multipart/report") != 0 || !c->report_type ||
            strcmp(c->report_type, "feedback-report") != 0)
                f->flags |= DT_FAILURE_NO_REPORT_TYPE;

        if (fb != SIZE_MAX) {
                r = read_feedback(f, dt_message_part(m, fb), lim, err);
                if (r < 0)
                        return r;
        } else
                f->flags |= DT_FAILURE_NO_ARF;

        if (orig != SIZE_MAX) {
                r = read_original_part(dt_message_part(m, orig), lim, &f->original, err);
                if (r < 0)
                        return r;
                if (f->original)
                        f->origin = origin_of(dt_message_part(m, orig));
        }
        if (!f->original) {
                for (size_t i = 0; i < n && !f->original; i++) {
                        const struct dt_part *p = dt_message_part(m, i);
                        size_t at = 0;

                        if (strcmp(p->content_type, "text/plain") != 0 || !p->data)
                                continue;
                        r = find_pasted((const char *) p->data, p->len, lim, &f->original, &at,
                                        err);
                        if (r < 0)
                                return r;
                        if (r == 0)
                                continue;
                        f->origin = DT_ORIGIN_TEXT;
                        if (fb == SIZE_MAX) {
                                r = read_summary(f, (const char *) p->data, at);
                                if (r < 0)
                                        return dt_error_set(err, r, DT_R_NOMEM, -1,
                                                            "out of memory");
                        }
                }
        }
        if (!f->original)
                f->flags |= DT_FAILURE_NO_ORIGINAL;
        if (fb == SIZE_MAX && !f->original)
                return dt_error_set(err, -EBADMSG, DT_R_FAILURE_MALFORMED, -1,
                                    "no feedback-report part and no original headers");

        if (f->feedback_type)
                f->dmarc = strcmp(f->feedback_type, "auth-failure") == 0;
        else
                f->dmarc = fb == SIZE_MAX || f->auth_failure != NULL;
        *out = TAKE_PTR(f);
        return 0;
}
