/* timefmt.c - epoch seconds as UTC text (see timefmt.h); one strftime per form, so every
 * format string stays a literal the compiler checks */
#include <stdio.h>
#include <time.h>

#include "agent/timefmt.h"
#include "report/aggregate.h"

char *dt_utc(int64_t t, enum dt_utc_form form, const char *fallback, char *buf, size_t cap) {
        time_t tt = (time_t) t;
        struct tm tm;
        size_t n = 0;

        if (cap == 0)
                return buf;
        if (t != DT_TIME_MISSING && gmtime_r(&tt, &tm))
                switch (form) {
                case DT_UTC_RFC3339:
                        n = strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
                        break;
                case DT_UTC_DAY:
                        n = strftime(buf, cap, "%Y-%m-%d", &tm);
                        break;
                case DT_UTC_MINUTE:
                        n = strftime(buf, cap, "%Y-%m-%d %H:%M", &tm);
                        break;
                case DT_UTC_READABLE:
                        n = strftime(buf, cap, "%Y-%m-%d %H:%M:%S UTC", &tm);
                        break;
                }
        if (n == 0)
                (void) snprintf(buf, cap, "%s", fallback);
        return buf;
}
