/* error.h - why an input was rejected: code, stable reason, human message, place
 *
 * report/ and correlate/ never log: they fill a struct dt_error and return its negative code.
 * agent/ turns it into an input-rejected event (DMARCTRACE_REASON = reason) or a stderr line. */
#ifndef DT_ERROR_H
#define DT_ERROR_H

#include <stdint.h>

#include "report/macro.h"

/* Stable reason codes (DMARCTRACE_REASON). Never rename one: SIEM rules match on them. */
#define DT_R_EMPTY              "EMPTY"
#define DT_R_SIZE_LIMIT         "SIZE_LIMIT"
#define DT_R_NOT_REGULAR        "NOT_REGULAR"
#define DT_R_IO                 "IO_ERROR"
#define DT_R_HEADER_LIMIT       "HEADER_LIMIT"
#define DT_R_HEADER_COUNT_LIMIT "HEADER_COUNT_LIMIT"
#define DT_R_MIME_DEPTH         "MIME_DEPTH"
#define DT_R_MIME_MALFORMED     "MIME_MALFORMED"
#define DT_R_PART_COUNT_LIMIT   "PART_COUNT_LIMIT"
#define DT_R_NOT_A_REPORT       "NOT_A_REPORT"
#define DT_R_UNKNOWN_FORMAT     "UNKNOWN_FORMAT"
#define DT_R_DECOMPRESSED_SIZE  "DECOMPRESSED_SIZE"
#define DT_R_DECOMPRESSED_RATIO "DECOMPRESSED_RATIO"
#define DT_R_TRUNCATED          "TRUNCATED"
#define DT_R_BAD_CRC            "BAD_CRC"
#define DT_R_GZIP_MALFORMED     "GZIP_MALFORMED"
#define DT_R_ZIP_UNSUPPORTED    "ZIP_UNSUPPORTED"
#define DT_R_ZIP_AMBIGUOUS      "ZIP_AMBIGUOUS"
#define DT_R_ZIP_ENTRY_LIMIT    "ZIP_ENTRY_LIMIT"
#define DT_R_ZIP_MALFORMED      "ZIP_MALFORMED"
#define DT_R_NESTED_ARCHIVE     "NESTED_ARCHIVE"
#define DT_R_XML_DTD_REJECTED   "XML_DTD_REJECTED"
#define DT_R_XML_DEPTH_LIMIT    "XML_DEPTH_LIMIT"
#define DT_R_XML_MALFORMED      "XML_MALFORMED"
#define DT_R_XML_NOT_DMARC      "XML_NOT_DMARC"
#define DT_R_AGG_IDENTITY       "AGG_IDENTITY_MISSING"
#define DT_R_RECORD_LIMIT       "RECORD_LIMIT"
#define DT_R_FIELD_LIMIT        "FIELD_LIMIT"
#define DT_R_FAILURE_MALFORMED  "FAILURE_REPORT_MALFORMED"
#define DT_R_NOMEM              "NO_MEMORY"
#define DT_R_WORKER_CRASH       "WORKER_CRASH"  /* the parse worker died (signal in the message) */
#define DT_R_TIMEOUT            "TIMEOUT"       /* the parse worker passed its deadline */

struct dt_error {
        int code;               /* negative errno-style code, 0 when unset */
        const char *reason;     /* one of DT_R_*: a static string, never freed */
        char message[256];      /* human text, e.g. "not a DMARC report"; plain ASCII-safe */
        int64_t offset;         /* byte offset in the decoded input, -1 when unknown */
        int64_t line;           /* line number (1-based) when that is the better place, else -1 */
};

/* dt_error_set - fill err (NULL-safe) and return code, so callers can `return dt_error_set(...)` */
int dt_error_set(struct dt_error *err, int code, const char *reason, int64_t offset,
                 const char *fmt, ...) _printf_(5, 6);

/* dt_error_clear - reset err to "no error" (offset and line -1) */
void dt_error_clear(struct dt_error *err);

#endif
