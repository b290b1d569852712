/* mime.h - one mail message (gmime 3), its parts, and what kind of report it holds
 *
 * dt_mime_parse() parses a whole message from a buffer, walks its MIME tree within
 * limits->mime_depth and limits->mime_parts, decodes each leaf part's transfer encoding
 * (base64, quoted-printable) and keeps a flat list of parts. It then decides, by content
 * (magic bytes, XML sniffing) rather than by label, whether the message is an aggregate report,
 * a failure report, or neither. Every string here is hostile: sanitise before printing. */
#ifndef DT_MIME_H
#define DT_MIME_H

#include <stddef.h>
#include <stdint.h>

#include "report/error.h"
#include "report/limits.h"
#include "report/macro.h"

enum dt_kind {
        DT_KIND_NONE,           /* holds no report: "not a DMARC report" */
        DT_KIND_AGGREGATE,      /* dt_message_report() is the XML/gzip/zip payload */
        DT_KIND_FAILURE,        /* ARF (or a recognised non-ARF failure notice): see failure.h */
        _DT_KIND_MAX,
};

/* Anomalies noticed while parsing; the message may still be usable. */
#define DT_MIME_CONTENT_TYPE_MISMATCH   (1u << 0)  /* label says one thing, bytes another */
#define DT_MIME_ANOMALY                 (1u << 1)  /* gmime warned: broken boundary, bad encoding, ... */
#define DT_MIME_CONFLICTING_HEADER      (1u << 2)  /* e.g. two Content-Type headers */

struct dt_part {
        char *content_type;     /* lower-case "type/subtype"; "text/plain" when absent */
        char *report_type;      /* multipart/report's report-type= parameter, lower-case, or NULL
                                 * (set on the multipart container's entry) */
        char *filename;         /* Content-Disposition filename= or Content-Type name=, or NULL */
        unsigned char *data;    /* leaf: decoded content. message/rfc822, text/rfc822-headers,
                                 * message/feedback-report: the embedded text as is. A multipart
                                 * container has data NULL, len 0 */
        size_t len;
        unsigned depth;         /* 0 for the message's own body */
};

struct dt_message;

/* dt_mime_parse - parse buf (copied; the caller may free it afterwards).
 * Errors: EMPTY, SIZE_LIMIT, HEADER_LIMIT, HEADER_COUNT_LIMIT, MIME_DEPTH, PART_COUNT_LIMIT,
 * MIME_MALFORMED. A message that parses but holds no report is not an error here: its kind is
 * DT_KIND_NONE. */
int dt_mime_parse(const void *buf, size_t len, const struct dt_limits *lim,
                  struct dt_message **out, struct dt_error *err);

enum dt_kind dt_message_kind(const struct dt_message *m);

/* dt_message_report - for DT_KIND_AGGREGATE, the part whose bytes are the report (feed
 * data/len to dt_unpack_open); NULL otherwise. Borrowed. */
const struct dt_part *dt_message_report(const struct dt_message *m);

size_t dt_message_n_parts(const struct dt_message *m);
const struct dt_part *dt_message_part(const struct dt_message *m, size_t i);  /* borrowed */

/* The message's own headers, decoded to UTF-8 (RFC 2047), or NULL when absent. Borrowed. */
const char *dt_message_subject(const struct dt_message *m);
const char *dt_message_from(const struct dt_message *m);
const char *dt_message_id(const struct dt_message *m);   /* without <> */

uint32_t dt_message_flags(const struct dt_message *m);   /* DT_MIME_* */

struct dt_message *dt_message_free(struct dt_message *m);
DEFINE_FREEP(struct dt_message, dt_message_free)

#endif
