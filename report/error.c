/* error.c - fill struct dt_error
 *
 * The message is formatted with vsnprintf into a fixed buffer, so a long or hostile argument is
 * cut, never overflows. Callers pass sanitised or constant text; events sanitise again anyway. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "report/error.h"

int dt_error_set(struct dt_error *err, int code, const char *reason, int64_t offset,
                 const char *fmt, ...) {
        va_list ap;

        if (!err)
                return code;
        err->code = code;
        err->reason = reason;
        err->offset = offset;
        err->line = -1;
        va_start(ap, fmt);
        (void) vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
        return code;
}

void dt_error_clear(struct dt_error *err) {
        if (!err)
                return;
        memset(err, 0, sizeof *err);
        err->offset = -1;
        err->line = -1;
}
