/* jsonutil.h - json-c values made from hostile strings and numbers */
#ifndef DT_JSONUTIL_H
#define DT_JSONUTIL_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DT_JSON_STRING_MAX (64u << 10)  /* one JSON string value, bytes */

/* dt_json_plain - s[0..len) is printable ASCII and at most DT_JSON_STRING_MAX bytes, so
 * sanitising would not change it */
bool dt_json_plain(const char *s, size_t len);

/* dt_json_string - a sanitised JSON string (valid UTF-8, no controls), or json null for NULL */
json_object *dt_json_string(const char *s);

/* dt_json_time - an epoch integer, or null for DT_TIME_MISSING */
json_object *dt_json_time(int64_t t);

/* dt_json_line - the object as one plain line (no slash escapes), borrowed from obj */
const char *dt_json_line(json_object *obj);

#endif
