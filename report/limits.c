/* limits.c - the default bounds of DESIGN.md section 7 */
#include "report/limits.h"

const struct dt_limits dt_limits_default = {
        .message_bytes = 25u << 20,
        .header_bytes = 100u << 10,
        .header_fields = 1000,
        .mime_depth = 8,
        .mime_parts = 64,
        .unpacked_bytes = 256u << 20,
        .unpack_ratio = 1000,
        .ratio_after_bytes = 8u << 20,
        .zip_entries = 16,
        .xml_depth = 32,
        .xml_text_bytes = 64u << 10,
        .records = 2000000,
        .log_line_bytes = 16u << 10,
        .field_bytes = 4095,
};
