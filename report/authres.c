/* authres.c - the local mail system's Authentication-Results verdict on a report message
 *
 * RFC 8601 section 2.2: authres-header = authserv-id [version] ( no-result / 1*resinfo ), with
 * ";" before "none" and before each resinfo, resinfo = methodspec [reasonspec] *propspec, and
 * methodspec = method [/version] "=" result. Comments ("(...)", nested) and quoted strings may
 * appear between any two tokens. The value is walked once with explicit bounds: comments and
 * quoted strings are skipped where they start, a resinfo ends at the next ";" outside them,
 * and only the method name and the result token of each resinfo are read.
 * SECURITY: the header block is as the sender wrote it, plus what the local system prepended.
 * It is split by dt_headers_split() (bounded by limits.header_bytes and header_fields, each
 * value capped at DT_HEADER_VALUE_MAX); this code then reads at most that value once, copies
 * nothing of it but [a-z] result tokens of bounded length, and needs no allocation. It runs in
 * the agent itself (not the parse worker): it is small, linear, and fuzzed with the headers. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "report/authres.h"
#include "report/headers.h"

#define RESULT_MAX 15                   /* "temperror", "bestguesspass" fit */

static const char *const methods[] = { "dmarc", "dkim", "spf" };

/* skip_comment - p at '(': past its matching ')', nested; e when unclosed */
static const char *skip_comment(const char *p, const char *e) {
        size_t depth = 0;

        for (; p < e; p++) {
                if (*p == '\\' && p + 1 < e)
                        p++;
                else if (*p == '(')
                        depth++;
                else if (*p == ')' && --depth == 0)
                        return p + 1;
        }
        return e;
}

/* skip_quoted - p at '"': past the closing '"'; e when unclosed */
static const char *skip_quoted(const char *p, const char *e) {
        for (p++; p < e; p++) {
                if (*p == '\\' && p + 1 < e)
                        p++;
                else if (*p == '"')
                        return p + 1;
        }
        return e;
}

/* cfws - past blanks and comments */
static const char *cfws(const char *p, const char *e) {
        while (p < e) {
                if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
                        p++;
                else if (*p == '(')
                        p = skip_comment(p, e);
                else
                        break;
        }
        return p;
}

/* next_semi - the next ';' outside comments and quoted strings, or e */
static const char *next_semi(const char *p, const char *e) {
        while (p < e && *p != ';') {
                if (*p == '(')
                        p = skip_comment(p, e);
                else if (*p == '"')
                        p = skip_quoted(p, e);
                else
                        p++;
        }
        return p;
}

static bool is_token(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '_' || c == '.';
}

/* trusted_id - the authserv-id at p (a token, or a quoted string compared without its quotes
 * and with no escapes in it) is one of trusted[] */
static bool trusted_id(const char *p, const char *e, const char *const *trusted, size_t n) {
        const char *b = p, *t;

        if (p < e && *p == '"') {
                b = ++p;
                while (p < e && *p != '"' && *p != '\\')
                        p++;
                if (p >= e || *p != '"')
                        return false;
                t = p;
        } else {
                while (p < e && is_token(*p))
                        p++;
                t = p;
                if (p < e && *p != ';' && *p != '(' && *p != ' ' && *p != '\t')
                        return false;   /* an id with other characters: no listed name */
        }
        for (size_t i = 0; i < n; i++)
                if (strlen(trusted[i]) == (size_t) (t - b) &&
                    strncasecmp(trusted[i], b, (size_t) (t - b)) == 0)
                        return true;
        return false;
}

/* resinfo - "method[/version] = result ..." in s[0..e): the method's index in methods[] and its
 * result (lower-cased into res), or -1 */
static int resinfo(const char *p, const char *e, char res[RESULT_MAX + 1]) {
        const char *m = p;
        size_t mn, n = 0;
        int which = -1;

        while (p < e && is_token(*p))
                p++;
        mn = (size_t) (p - m);
        for (size_t i = 0; i < ELEMENTSOF(methods); i++)
                if (strlen(methods[i]) == mn && strncasecmp(methods[i], m, mn) == 0)
                        which = (int) i;
        if (which < 0)
                return -1;
        p = cfws(p, e);
        if (p < e && *p == '/') {
                p = cfws(p + 1, e);
                while (p < e && *p >= '0' && *p <= '9')
                        p++;
                p = cfws(p, e);
        }
        if (p >= e || *p != '=')
                return -1;
        p = cfws(p + 1, e);
        while (p < e && ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))) {
                if (n == RESULT_MAX)
                        return -1;
                res[n++] = (char) (*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
                p++;
        }
        res[n] = '\0';
        return n > 0 ? which : -1;
}

/* inbound - a Received value "from X ... by ID ..." with ID trusted: the hop on which this host
 * took the message in from elsewhere (a "Received: by ID" without "from" is a local
 * re-injection, such as Postfix pickup, and does not count) */
static bool inbound(const char *v, size_t vlen, const char *const *trusted, size_t n_trusted) {
        const char *e = v + vlen, *p = cfws(v, e);

        if ((size_t) (e - p) < 5 || strncasecmp(p, "from", 4) != 0 || (p[4] != ' ' && p[4] != '\t'))
                return false;
        for (p += 4; (size_t) (e - p) > 3; p++)
                if ((p[-1] == ' ' || p[-1] == '\t' || p[-1] == ')') &&
                    strncasecmp(p, "by", 2) == 0 && (p[2] == ' ' || p[2] == '\t'))
                        return trusted_id(cfws(p + 2, e), e, trusted, n_trusted);
        return false;
}

/* the methods' results so far; the first (topmost) result of each method wins */
struct verdict {
        bool have[ELEMENTSOF(methods)];
        char res[ELEMENTSOF(methods)][RESULT_MAX + 1];
};

/* field - add one value's results to *vd when its authserv-id is trusted; whether it was */
static bool field(const char *v, size_t vlen, const char *const *trusted, size_t n_trusted,
                  struct verdict *vd) {
        const char *e = v + vlen, *p = cfws(v, e);

        if (!trusted_id(p, e, trusted, n_trusted))
                return false;
        for (p = next_semi(p, e); p < e; p = next_semi(p, e)) {
                char r[RESULT_MAX + 1];
                const char *end;
                int which;

                p = cfws(p + 1, e);
                end = next_semi(p, e);
                which = resinfo(p, end, r);
                if (which >= 0 && !vd->have[which]) {
                        vd->have[which] = true;
                        memcpy(vd->res[which], r, sizeof r);
                }
                p = end;
        }
        return true;
}

/* dt_authres_verdict - the trusted Authentication-Results fields above the first Received field
 * that follows one of them or that says a trusted host took the message in */
int dt_authres_verdict(const char *msg, size_t len, const struct dt_limits *lim,
                       const char *const *trusted, size_t n_trusted, char out[DT_AUTHRES_MAX]) {
        _cleanup_(dt_headers_block_freep) struct dt_header_block *b = NULL;
        struct verdict vd;
        struct dt_error err;
        bool found = false;
        size_t o = 0;
        int r;

        memset(&vd, 0, sizeof vd);
        (void) snprintf(out, DT_AUTHRES_MAX, DT_AUTHRES_UNKNOWN);
        if (n_trusted == 0)
                return 0;               /* nothing is trusted: no need to read the header */
        dt_error_clear(&err);
        r = dt_headers_split(msg, len, lim, &b, &err);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return 0;               /* a header block past the limits: nothing to trust */
        for (size_t i = 0; i < b->n; i++) {
                const struct dt_header_field *f = &b->fields[i];

                if (strcasecmp(f->name, "received") == 0 &&
                    (found || inbound(f->value, f->value_len, trusted, n_trusted)))
                        break;          /* below: what the message came with */
                if (strcasecmp(f->name, "authentication-results") == 0 &&
                    field(f->value, f->value_len, trusted, n_trusted, &vd))
                        found = true;
        }
        if (!found)
                return 0;
        out[0] = '\0';
        for (size_t i = 0; i < ELEMENTSOF(methods); i++) {
                int n;

                if (!vd.have[i])
                        continue;
                n = snprintf(out + o, DT_AUTHRES_MAX - o, "%s%s=%s", o ? "," : "", methods[i],
                             vd.res[i]);
                if (n > 0)      /* 3 x (5 + 1 + 15) + 2 < DT_AUTHRES_MAX: never cut */
                        o += (size_t) n;
        }
        if (o == 0)
                (void) snprintf(out, DT_AUTHRES_MAX, "none");
        return 1;
}
