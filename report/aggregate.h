/* aggregate.h - one DMARC aggregate report (RFC 7489 appendix C, RFC 9990), parsed as a stream
 *
 * dt_aggregate_open() reads the document up to its first <record> (report_metadata and
 * policy_published normally come first), dt_aggregate_next() hands out one record at a time, so
 * memory does not grow with the number of records. Values are as received, trimmed of
 * surrounding whitespace; enumerations (disposition, results, alignment) are lower-cased.
 * A missing value is NULL (strings) or the documented "missing" number, never invented. */
#ifndef DT_AGGREGATE_H
#define DT_AGGREGATE_H

#include <stddef.h>
#include <stdint.h>

#include "report/error.h"
#include "report/limits.h"
#include "report/macro.h"
#include "report/unpack.h"

#define DT_TIME_MISSING INT64_MIN

struct dt_reason {
        char *type;
        char *comment;
};

struct dt_auth_dkim {
        char *domain;
        char *selector;
        char *result;
        char *human_result;
};

struct dt_auth_spf {
        char *domain;
        char *scope;
        char *result;
        char *human_result;
};

struct dt_record {
        char *source_ip;                /* canonical text from inet_ntop (v4 or v6) */
        uint64_t count;
        char *disposition;              /* policy_evaluated */
        char *dkim;
        char *spf;
        struct dt_reason *reasons;
        size_t n_reasons;
        char *header_from;              /* identifiers */
        char *envelope_from;
        char *envelope_to;
        struct dt_auth_dkim *auth_dkim; /* auth_results */
        size_t n_auth_dkim;
        struct dt_auth_spf *auth_spf;
        size_t n_auth_spf;
};

struct dt_policy {
        char *domain;
        char *adkim;
        char *aspf;
        char *p;
        char *sp;
        char *np;
        int pct;                        /* 0..100, -1 when missing */
        char *fo;
        char *testing;
        char *discovery_method;
};

struct dt_warning {
        const char *reason;             /* static text, e.g. "record skipped: count is not a number" */
        int64_t offset;                 /* byte offset in the decoded XML */
};

struct dt_aggregate;

/* dt_aggregate_open - parse up to the first record. in is borrowed and must outlive agg.
 * Errors: XML_DTD_REJECTED, XML_DEPTH_LIMIT, XML_MALFORMED (with line), XML_NOT_DMARC (root is
 * not <feedback>), AGG_IDENTITY_MISSING (no report_id, or no policy domain), errors of the input. */
int dt_aggregate_open(struct dt_input *in, const struct dt_limits *lim, struct dt_aggregate **out,
                      struct dt_error *err);

/* dt_aggregate_next - the next valid record in *rec (borrowed, valid until the next call):
 * 1 record, 0 at the end of the document, <0 error (the report as a whole is then unusable).
 * A record with bad values (count not a non-negative 64-bit integer, source_ip not an address)
 * is skipped and listed in the warnings. */
int dt_aggregate_next(struct dt_aggregate *a, const struct dt_record **rec, struct dt_error *err);

/* Getters: borrowed, NULL when missing. Metadata that appears after the records is filled in as
 * the parse reaches it. */
const char *dt_aggregate_org(const struct dt_aggregate *a);
const char *dt_aggregate_email(const struct dt_aggregate *a);
const char *dt_aggregate_extra_contact(const struct dt_aggregate *a);
const char *dt_aggregate_report_id(const struct dt_aggregate *a);
const char *dt_aggregate_version(const struct dt_aggregate *a);    /* <version>, e.g. "1.0" */
const char *dt_aggregate_generator(const struct dt_aggregate *a);  /* RFC 9990 <generator> */
int64_t dt_aggregate_begin(const struct dt_aggregate *a);          /* DT_TIME_MISSING if absent */
int64_t dt_aggregate_end(const struct dt_aggregate *a);
const struct dt_policy *dt_aggregate_policy(const struct dt_aggregate *a);
uint64_t dt_aggregate_record_count(const struct dt_aggregate *a);  /* valid records so far */
uint64_t dt_aggregate_message_count(const struct dt_aggregate *a); /* their counts, summed */
size_t dt_aggregate_n_extensions(const struct dt_aggregate *a);    /* unknown elements, by name */
const char *dt_aggregate_extension(const struct dt_aggregate *a, size_t i);
size_t dt_aggregate_n_warnings(const struct dt_aggregate *a);
const struct dt_warning *dt_aggregate_warning(const struct dt_aggregate *a, size_t i);

struct dt_aggregate *dt_aggregate_free(struct dt_aggregate *a);
DEFINE_FREEP(struct dt_aggregate, dt_aggregate_free)

#endif
