/* jsonwriter.h - JSON text written straight into a growing buffer, byte for byte as json-c prints it
 *
 * For the hot path of `dmarctrace parse`: an aggregate report's records are written as they
 * stream, with no json_object per value. The text is exactly what dt_json_line() makes of the
 * same json-c tree (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE): no spaces, '/' not
 * escaped, '"' '\\' \b \f \n \r \t escaped short, other bytes below 0x20 as \u00xx (lower-case
 * hex), everything else as is; strings made valid UTF-8 by dt_sanitize first, like
 * dt_json_string(). Commas are placed by the writer. Out of memory (or nesting past
 * DT_JW_DEPTH_MAX) leaves the text incomplete and is sticky: dt_jw_failed() says so. */
#ifndef DT_JSONWRITER_H
#define DT_JSONWRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DT_JW_DEPTH_MAX 32      /* nested objects/arrays; deeper opens fail the writer */

struct dt_jw {
        char *buf;              /* the text, NUL-terminated when non-empty */
        size_t len, cap;
        bool failed;            /* out of memory, or nesting past DT_JW_DEPTH_MAX */
        bool after_key;         /* a key was written: the value follows without a comma */
        unsigned depth;
        uint32_t filled;        /* bit d: the container at depth d already holds an item */
        char *scratch;          /* sanitised copies of strings that need it */
};

/* dt_jw_reset - empty the text, keep the memory */
void dt_jw_reset(struct dt_jw *w);

/* dt_jw_done - free what w holds (w itself is the caller's); fits _cleanup_() */
void dt_jw_done(struct dt_jw *w);

/* dt_jw_open - start an object ('{') or an array ('[') */
void dt_jw_open(struct dt_jw *w, char bracket);

/* dt_jw_close - end the innermost object ('}') or array (']') */
void dt_jw_close(struct dt_jw *w, char bracket);

/* dt_jw_key - an object key: trusted text, written as is (no byte of it needs escaping) */
void dt_jw_key(struct dt_jw *w, const char *key);

/* dt_jw_string - a string sanitised as dt_json_string() does, or null for NULL */
void dt_jw_string(struct dt_jw *w, const char *s);

/* dt_jw_string_raw - len bytes escaped as json-c escapes them, without sanitising */
void dt_jw_string_raw(struct dt_jw *w, const char *s, size_t len);

void dt_jw_int64(struct dt_jw *w, int64_t v);
void dt_jw_uint64(struct dt_jw *w, uint64_t v);
void dt_jw_null(struct dt_jw *w);

/* dt_jw_failed - whether the text is incomplete (out of memory or too deep) */
bool dt_jw_failed(const struct dt_jw *w);

#endif
