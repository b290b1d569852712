/* timefmt.h - epoch seconds as UTC text: the one formatter behind every time dmarctrace prints
 * (event fields in RFC 3339, days, and the readable forms of `parse --pretty` and `trace`) */
#ifndef DT_TIMEFMT_H
#define DT_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

enum dt_utc_form {
        DT_UTC_RFC3339,         /* 2026-03-10T12:00:00Z: event fields (DESIGN.md section 5) */
        DT_UTC_DAY,             /* 2026-03-10 */
        DT_UTC_MINUTE,          /* 2026-03-10 12:00 */
        DT_UTC_READABLE,        /* 2026-03-10 12:00:00 UTC */
};

/* dt_utc - t (epoch seconds) in UTC, in the given form, into buf; fallback instead when t is
 * DT_TIME_MISSING, out of range, or does not fit. Returns buf. */
char *dt_utc(int64_t t, enum dt_utc_form form, const char *fallback, char *buf, size_t cap);

#endif
