/* failure.h - one DMARC failure report (ruf): ARF (RFC 5965, 6591, 9991) or a non-ARF notice
 *
 * dt_failure_parse() works on a message dt_mime_parse() has taken apart. It reads every field
 * of the message/feedback-report part (repeated ones included), and the original message's
 * headers, however they came: a message/rfc822, text/rfc822-headers or message/rfc822-headers
 * part, or headers pasted into a text/plain part (Exim's built-in DMARC notice has nothing
 * else). It does not insist on report-type=feedback-report, and it names the feedback type
 * instead of assuming one: an abuse report (Feedback-Type: abuse) parses, with dmarc false.
 *
 * Every string here is decoded and sanitised (report/sanitize.h): valid UTF-8, no control
 * characters, capped at DT_FAILURE_VALUE_MAX bytes. Plain data: read it, don't change it. */
#ifndef DT_FAILURE_H
#define DT_FAILURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "report/error.h"
#include "report/headers.h"
#include "report/limits.h"
#include "report/macro.h"
#include "report/mime.h"

#define DT_FAILURE_VALUE_MAX    4095u   /* one feedback field's value, after cleaning */

/* where the original message's headers came from */
enum dt_failure_origin {
        DT_ORIGIN_NONE,                 /* not found: original is NULL */
        DT_ORIGIN_MESSAGE,              /* a message/rfc822 part */
        DT_ORIGIN_HEADERS,              /* a text/rfc822-headers part */
        DT_ORIGIN_MESSAGE_HEADERS,      /* a message/rfc822-headers part */
        DT_ORIGIN_TEXT,                 /* pasted into a text/plain part */
        _DT_ORIGIN_MAX,
};

/* flags of struct dt_failure */
#define DT_FAILURE_NO_ARF               (1u << 0)  /* no message/feedback-report part */
#define DT_FAILURE_NO_REPORT_TYPE       (1u << 1)  /* the feedback part's parent is not a
                                                    * multipart/report; report-type=feedback-report */
#define DT_FAILURE_REPEATED             (1u << 2)  /* a single-valued field came twice: first kept */
#define DT_FAILURE_TRUNCATED            (1u << 3)  /* some value was cut to its cap */
#define DT_FAILURE_NO_ORIGINAL          (1u << 4)  /* no original headers found */
#define DT_FAILURE_FEEDBACK_ODD         (1u << 5)  /* the feedback part held lines that are not
                                                    * fields, or no fields at all */

struct dt_feedback_field {
        char *name;             /* lower-case, e.g. "source-ip" */
        char *value;            /* unfolded, RFC 2047 decoded, sanitised */
};

struct dt_failure {
        bool dmarc;                     /* an authentication (DMARC) failure report: Feedback-Type
                                         * auth-failure, or a recognised non-ARF notice. False for
                                         * abuse, fraud, virus, not-spam, other. */
        char *feedback_type;            /* lower-case as received; NULL without an ARF part */
        char *user_agent, *version;
        char *auth_failure;             /* the first Auth-Failure (all are in feedback[]) */
        char *original_envelope_id;
        char *original_mail_from;       /* without <>; "" for the null sender */
        char **original_rcpt_to;        /* every Original-Rcpt-To, without <> */
        size_t n_original_rcpt_to;
        char *arrival_date_text;        /* Arrival-Date, or the Received-Date spelling */
        int64_t arrival_date;           /* valid when has_arrival_date */
        bool has_arrival_date;
        char *reporting_mta;
        char *source_ip;                /* the address alone: "(host)" comments and [] dropped */
        int64_t incidents;              /* -1 when absent or not a number */
        char *reported_domain, *reported_uri;   /* the first of each */
        char *authentication_results;   /* the feedback part's (the first one) */
        char *delivery_result, *identity_alignment, *spf_dns;
        char *dkim_domain, *dkim_identity, *dkim_selector;

        struct dt_feedback_field *feedback;     /* every field of the feedback part, in order */
        size_t n_feedback;

        enum dt_failure_origin origin;
        struct dt_headers *original;    /* NULL when origin is DT_ORIGIN_NONE */
        unsigned flags;                 /* DT_FAILURE_* */
};

/* dt_failure_parse - read the failure report in m (borrowed; *out keeps no pointer into it).
 * Errors: FAILURE_REPORT_MALFORMED (neither a feedback part nor original headers),
 * HEADER_LIMIT and HEADER_COUNT_LIMIT (a header block in it over lim), NO_MEMORY. */
int dt_failure_parse(const struct dt_message *m, const struct dt_limits *lim,
                     struct dt_failure **out, struct dt_error *err);

/* dt_failure_origin_name - "message/rfc822", "text/rfc822-headers", ..., "text/plain", or NULL */
const char *dt_failure_origin_name(enum dt_failure_origin o);

struct dt_failure *dt_failure_free(struct dt_failure *f);
DEFINE_FREEP(struct dt_failure, dt_failure_free)

#endif
