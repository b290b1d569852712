/* jsonutil.c - json-c values made from hostile strings and numbers
 *
 * json-c escapes control characters but passes invalid UTF-8 through, which would make the line
 * unparseable for strict readers: every string goes through dt_sanitize first. */
#include <stdbool.h>
#include <string.h>

#include "agent/jsonutil.h"
#include "report/aggregate.h"
#include "report/sanitize.h"

bool dt_json_plain(const char *s, size_t len) {
        size_t i;

        if (len > DT_JSON_STRING_MAX)
                return false;
        for (i = 0; i < len; i++)
                if ((unsigned char) s[i] < 0x20 || (unsigned char) s[i] > 0x7e)
                        return false;
        return true;
}

json_object *dt_json_string(const char *s) {
        json_object *o;
        char *clean;
        size_t len;

        if (!s)
                return NULL;
        len = strlen(s);
        if (dt_json_plain(s, len))        /* the common case, without a copy */
                return json_object_new_string_len(s, (int) len);
        clean = dt_sanitize_dup(s, len, DT_JSON_STRING_MAX, NULL);
        if (!clean)
                return NULL;
        o = json_object_new_string(clean);
        free(clean);
        return o;
}

json_object *dt_json_time(int64_t t) {
        if (t == DT_TIME_MISSING)
                return NULL;
        return json_object_new_int64(t);
}

const char *dt_json_line(json_object *obj) {
        return json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}
