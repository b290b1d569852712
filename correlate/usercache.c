/* usercache.c - login names by uid, asked of NSS once every few minutes (see usercache.h) */
#include <pwd.h>
#include <string.h>

#include "correlate/usercache.h"
#include "report/macro.h"

struct entry {
        int64_t uid;
        uint64_t at;                    /* CLOCK_MONOTONIC usec of the answer; 0: empty slot */
        bool known;                     /* the uid has a name (else: no such user) */
        char name[DT_USERCACHE_NAME];
};

static struct entry cache[DT_USERCACHE_SIZE];
static size_t next_slot;                /* the oldest entry: the next to go */

/* answer - an entry's answer into buf */
static bool answer(const struct entry *e, char *buf, size_t cap) {
        size_t len = strlen(e->name);

        if (!e->known || len >= cap)
                return false;
        memcpy(buf, e->name, len + 1);
        return true;
}

bool dt_user_name(int64_t uid, char *buf, size_t cap) {
        struct passwd pw, *res = NULL;
        char pwbuf[4096];
        uint64_t now = dt_mono_usec();
        struct entry *e = NULL;
        size_t i, len;

        if (uid < 0 || uid > UINT32_MAX || !buf || cap == 0)
                return false;
        for (i = 0; i < DT_USERCACHE_SIZE && !e; i++)
                if (cache[i].at && cache[i].uid == uid)
                        e = &cache[i];
        if (e && now - e->at < DT_USERCACHE_SECONDS * 1000000ull)
                return answer(e, buf, cap);
        if (getpwuid_r((uid_t) uid, &pw, pwbuf, sizeof pwbuf, &res) != 0)
                return false;           /* NSS failed (not "no such user"): ask again next time */
        len = res ? strlen(res->pw_name) : 0;
        if (res && len >= DT_USERCACHE_NAME) {          /* too long to keep: answer only */
                if (len >= cap)
                        return false;
                memcpy(buf, res->pw_name, len + 1);
                return true;
        }
        if (!e) {                       /* not there: take the oldest slot (a stale one stays) */
                e = &cache[next_slot];
                next_slot = (next_slot + 1) % DT_USERCACHE_SIZE;
        }
        *e = (struct entry) { .uid = uid, .at = now, .known = res != NULL };
        if (res)
                memcpy(e->name, res->pw_name, len + 1);
        return answer(e, buf, cap);
}

void dt_user_warm_up(void) {
        char name[DT_USERCACHE_NAME];

        /* root is found by the first module; a uid nobody has goes through all of them (the
         * bench's first uid missing from /etc/passwd took 0.6-1.5 ms: libnss_systemd loading) */
        (void) dt_user_name(0, name, sizeof name);
        (void) dt_user_name(UINT32_MAX - 1, name, sizeof name);
}
