/* faultpoint.c - DT_KILLPOINT: SIGKILL at a named step, for crash tests (see faultpoint.h) */
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "agent/faultpoint.h"

#define POINT_NAME_MAX 32

static bool loaded;
static char point[POINT_NAME_MAX];     /* "" when no kill point is set */
static unsigned long remaining;         /* passes left before the kill */

/* load - parse DT_KILLPOINT once; a malformed value sets no kill point */
static void load(void) {
        const char *v = getenv("DT_KILLPOINT"), *colon;
        size_t len;
        char *end;

        loaded = true;
        if (!v || !*v)
                return;
        colon = strchr(v, ':');
        len = colon ? (size_t) (colon - v) : strlen(v);
        if (len == 0 || len >= sizeof point)
                return;
        remaining = 1;
        if (colon) {
                remaining = strtoul(colon + 1, &end, 10);
                if (*end || remaining == 0)
                        return;
        }
        memcpy(point, v, len);
        point[len] = '\0';
}

void dt_faultpoint(const char *name) {
        if (!loaded)
                load();
        if (!point[0] || strcmp(point, name) != 0)
                return;
        if (--remaining == 0)
                (void) raise(SIGKILL);
}
