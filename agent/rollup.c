/* rollup.c - the failure-report token bucket and the per-minute failure-rollup event
 *
 * Tokens are kept in millionths so that the refill (DT_ROLLUP_PER_MINUTE per 60 s) is exact in
 * integers for any clock step. Domains are counted in a small fixed table: the first
 * DT_ROLLUP_DOMAINS distinct names of a window by name, the rest together as "other", so a flood
 * about random domains cannot grow memory; the counts stay exact in sum.
 * SECURITY: domain names come from reports (hostile); they are copied capped, and the event
 * sanitises every value. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "agent/rollup.h"
#include "agent/timefmt.h"

#define MICRO 1000000u
#define DOMAIN_MAX 254                  /* a domain name, NUL included */

struct dt_rollup {
        uint64_t tokens;                /* millionths of a token */
        uint64_t last_usec;             /* when tokens were last refilled */

        bool open;                      /* a window holds a suppressed report */
        uint64_t open_usec;
        int64_t begin, end;             /* wall clock of its first and last report */
        uint64_t reports;               /* failure reports stored in the window */
        uint64_t suppressed;            /* of them without an event of their own */
        struct { char name[DOMAIN_MAX]; uint64_t n; } dom[DT_ROLLUP_DOMAINS];
        size_t n_dom;
        uint64_t other;                 /* suppressed reports about domains past the table */
        uint64_t seq;                   /* rollups sent, for the event id */
        uint64_t suppressed_total;      /* over every window, for agent-health */
};

int dt_rollup_new(uint64_t now_usec, struct dt_rollup **out) {
        struct dt_rollup *rl = calloc(1, sizeof *rl);

        if (!rl)
                return -ENOMEM;
        rl->tokens = (uint64_t) DT_ROLLUP_BURST * MICRO;
        rl->last_usec = now_usec;
        *out = rl;
        return 0;
}

struct dt_rollup *dt_rollup_free(struct dt_rollup *rl) {
        free(rl);
        return NULL;
}

/* refill - tokens for the time since the last refill, up to the burst */
static void refill(struct dt_rollup *rl, uint64_t now_usec) {
        uint64_t cap = (uint64_t) DT_ROLLUP_BURST * MICRO, dt;

        if (now_usec <= rl->last_usec)
                return;                 /* a clock that did not move (or a caller's mistake) */
        dt = now_usec - rl->last_usec;
        rl->last_usec = now_usec;
        /* per usec: PER_MINUTE / 60 tokens = PER_MINUTE / 60 millionths; past a minute, full */
        if (dt >= 60u * MICRO || rl->tokens + dt * DT_ROLLUP_PER_MINUTE / 60u >= cap)
                rl->tokens = cap;
        else
                rl->tokens += dt * DT_ROLLUP_PER_MINUTE / 60u;
}

/* count_domain - one suppressed report about domain */
static void count_domain(struct dt_rollup *rl, const char *domain) {
        const char *d = domain && *domain ? domain : "-";

        for (size_t i = 0; i < rl->n_dom; i++)
                if (strncasecmp(rl->dom[i].name, d, DOMAIN_MAX - 1) == 0) {
                        rl->dom[i].n++;
                        return;
                }
        if (rl->n_dom == DT_ROLLUP_DOMAINS) {
                rl->other++;
                return;
        }
        (void) snprintf(rl->dom[rl->n_dom].name, DOMAIN_MAX, "%s", d);
        rl->dom[rl->n_dom].n = 1;
        rl->n_dom++;
}

bool dt_rollup_admit(struct dt_rollup *rl, uint64_t now_usec, int64_t wall, const char *domain) {
        bool admit;

        refill(rl, now_usec);
        admit = rl->tokens >= MICRO;
        if (admit)
                rl->tokens -= MICRO;
        if (!admit && !rl->open) {
                rl->open = true;
                rl->open_usec = now_usec;
                rl->begin = wall;
        }
        if (rl->open) {
                rl->reports++;
                rl->end = wall;
        }
        if (!admit) {
                rl->suppressed++;
                rl->suppressed_total++;
                count_domain(rl, domain);
        }
        return admit;
}

uint64_t dt_rollup_pending(const struct dt_rollup *rl) {
        return rl->suppressed;
}

uint64_t dt_rollup_suppressed_total(const struct dt_rollup *rl) {
        return rl->suppressed_total;
}

/* by_domain - "a.example=950,b.example=3,other=7", largest first, cut at cap */
static void by_domain(const struct dt_rollup *rl, char *buf, size_t cap) {
        bool used[DT_ROLLUP_DOMAINS] = { false };
        size_t o = 0;

        buf[0] = '\0';
        for (size_t k = 0; k < rl->n_dom; k++) {
                size_t best = SIZE_MAX;
                int n;

                for (size_t i = 0; i < rl->n_dom; i++)
                        if (!used[i] && (best == SIZE_MAX || rl->dom[i].n > rl->dom[best].n))
                                best = i;
                used[best] = true;
                n = snprintf(buf + o, cap - o, "%s%s=%" PRIu64, o ? "," : "", rl->dom[best].name,
                             rl->dom[best].n);
                if (n < 0 || (size_t) n >= cap - o)
                        return;         /* cut: the event marks itself TRUNCATED past its cap */
                o += (size_t) n;
        }
        if (rl->other)
                (void) snprintf(buf + o, cap - o, "%sother=%" PRIu64, o ? "," : "", rl->other);
}

int dt_rollup_emit(struct dt_rollup *rl, struct dt_emitter *em, uint64_t now_usec, bool force) {
        char b1[24], b2[24], t1[32], t2[32], doms[DT_ROLLUP_DOMAINS * (DOMAIN_MAX + 24) + 32];
        char msg[512], seed[96];
        int r;

        if (!rl->open || (!force && now_usec - rl->open_usec < (uint64_t) DT_ROLLUP_WINDOW_SEC * MICRO))
                return 0;
        (void) snprintf(b1, sizeof b1, "%" PRIu64, rl->reports);
        (void) snprintf(b2, sizeof b2, "%" PRIu64, rl->suppressed);
        by_domain(rl, doms, sizeof doms);
        const struct dt_field f[] = {
                { DT_F_PERIOD_BEGIN, dt_utc(rl->begin, DT_UTC_RFC3339, "", t1, sizeof t1) },
                { DT_F_PERIOD_END, dt_utc(rl->end, DT_UTC_RFC3339, "", t2, sizeof t2) },
                { DT_F_REPORT_COUNT, b1 },
                { DT_F_SUPPRESSED_COUNT, b2 },
                { DT_F_SUPPRESSED_BY_DOMAIN, doms },
        };
        (void) snprintf(msg, sizeof msg, "failure-rollup: %s failure reports from %s to %s, %s of "
                        "them without an event of their own: %.300s", b1, t1, t2, b2, doms);
        /* unique per window of this run; the same window is never rolled up twice */
        (void) snprintf(seed, sizeof seed, "failure-rollup-%s-%" PRIu64 "-%" PRIu64, t1,
                        rl->seq, rl->reports);
        r = dt_emit(em, DT_EVENT_FAILURE_ROLLUP, seed, msg, f, ELEMENTSOF(f));
        if (r < 0)
                return r;
        rl->seq++;
        rl->open = false;
        rl->reports = rl->suppressed = rl->other = 0;
        rl->n_dom = 0;
        return 1;
}
