/* limits.h - every bound on hostile input, in one struct (DESIGN.md section 7)
 *
 * conf/ fills one from the limits.* keys; report/ and correlate/ only read it. Each default sits
 * beside the config key that overrides it. */
#ifndef DT_LIMITS_H
#define DT_LIMITS_H

#include <stdint.h>

struct dt_limits {
        uint64_t message_bytes;         /* limits.message_bytes: one message file */
        uint32_t header_bytes;          /* limits.header_bytes: one header block */
        uint32_t header_fields;         /* limits.header_fields: fields in one header block */
        uint32_t mime_depth;            /* limits.mime_depth */
        uint32_t mime_parts;            /* limits.mime_parts */
        uint64_t unpacked_bytes;        /* limits.unpacked_bytes: per attachment */
        uint32_t unpack_ratio;          /* limits.unpack_ratio: unpacked:packed ... */
        uint64_t ratio_after_bytes;     /* limits.ratio_after_bytes: ... once past this many bytes */
        uint32_t zip_entries;           /* limits.zip_entries */
        uint32_t xml_depth;             /* limits.xml_depth */
        uint32_t xml_text_bytes;        /* limits.xml_text_bytes: text of one XML field */
        uint64_t records;               /* limits.records: per report */
        uint32_t log_line_bytes;        /* limits.log_line_bytes */
        uint32_t field_bytes;           /* limits.field_bytes: one event field, name included */
};

extern const struct dt_limits dt_limits_default;

#endif
