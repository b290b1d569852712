/* faultpoint.c - DT_KILLPOINT, DT_HANGPOINT and DT_FAILPOINT: SIGKILL, a hang, or an error at
 * a named step, for crash and failure tests (see faultpoint.h) */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "agent/faultpoint.h"

#define POINT_NAME_MAX 32

/* one variable's setting: the point it names and the passes left before it fires */
struct point {
        const char *var;
        bool loaded;
        char name[POINT_NAME_MAX];      /* "" when the variable sets no point */
        unsigned long remaining;
};

static struct point kill_point = { .var = "DT_KILLPOINT" };
static struct point hang_point = { .var = "DT_HANGPOINT" };
static struct point fail_point = { .var = "DT_FAILPOINT" };

/* load - parse pt's variable once; a malformed value sets no point */
static void load(struct point *pt) {
        const char *v = getenv(pt->var), *colon;
        size_t len;
        char *end;

        pt->loaded = true;
        if (!v || !*v)
                return;
        colon = strchr(v, ':');
        len = colon ? (size_t) (colon - v) : strlen(v);
        if (len == 0 || len >= sizeof pt->name)
                return;
        pt->remaining = 1;
        if (colon) {
                pt->remaining = strtoul(colon + 1, &end, 10);
                if (*end || pt->remaining == 0)
                        return;
        }
        memcpy(pt->name, v, len);
        pt->name[len] = '\0';
}

/* fires - this pass through name is the one pt selects */
static bool fires(struct point *pt, const char *name) {
        if (!pt->loaded)
                load(pt);
        if (!pt->name[0] || strcmp(pt->name, name) != 0)
                return false;
        return --pt->remaining == 0;
}

void dt_faultpoint(const char *name) {
        if (fires(&kill_point, name))
                (void) raise(SIGKILL);
        if (fires(&hang_point, name))
                for (;;)
                        (void) pause();         /* a deadlock: a handled signal does not end it */
}

int dt_faultpoint_fail(const char *name) {
        return fires(&fail_point, name) ? -EIO : 0;
}
