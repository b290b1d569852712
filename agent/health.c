/* health.c - the agent-health event: what changed since the last one, and the totals
 *
 * The struct remembers when the last event went out and the totals then; an event reports the
 * difference as the interval's counts and rate. Numbers with a fraction (the rate, the interval)
 * are computed in integers (thousandths) and printed with three decimals, so the same inputs
 * always give the same text; 128-bit intermediates keep a long uptime or a huge backlog exact.
 * Never logs: dt_health_emit() returns dt_emit()'s result to the agent loop. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/health.h"

#define MICRO 1000000u

struct dt_health {
        uint64_t start_usec;
        uint64_t last_usec;             /* the last event sent, or the start */
        uint64_t due_usec;              /* the next periodic event; UINT64_MAX: none */
        unsigned interval_sec;
        struct dt_health_totals last;   /* the totals in the last event sent */
        uint64_t sent;                  /* agent-health events sent, for the event id */
};

/* plan - the next periodic event, interval_sec after from */
static void plan(struct dt_health *h, uint64_t from) {
        h->due_usec = h->interval_sec ? from + (uint64_t) h->interval_sec * MICRO : UINT64_MAX;
}

int dt_health_new(uint64_t now_usec, unsigned interval_sec, struct dt_health **out) {
        struct dt_health *h = calloc(1, sizeof *h);

        if (!h)
                return -ENOMEM;
        h->start_usec = h->last_usec = now_usec;
        h->interval_sec = interval_sec;
        plan(h, now_usec);
        *out = h;
        return 0;
}

void dt_health_set_interval(struct dt_health *h, unsigned interval_sec) {
        h->interval_sec = interval_sec;
        plan(h, h->last_usec);
}

uint64_t dt_health_due_usec(const struct dt_health *h) {
        return h->due_usec;
}

uint64_t dt_health_rate_milli(uint64_t done, uint64_t usec) {
        unsigned __int128 r;

        if (usec == 0)
                return 0;
        r = (unsigned __int128) done * 1000u * MICRO / usec;
        return r > UINT64_MAX ? UINT64_MAX : (uint64_t) r;
}

int dt_health_eta(uint64_t backlog, uint64_t done, uint64_t usec, uint64_t *out_sec) {
        unsigned __int128 num, den, q;

        if (backlog == 0) {
                *out_sec = 0;
                return 0;
        }
        if (done == 0 || usec == 0)
                return -ERANGE;
        num = (unsigned __int128) backlog * usec;      /* backlog / (done / usec), in seconds */
        den = (unsigned __int128) done * MICRO;
        q = (num + den - 1) / den;
        *out_sec = q > UINT64_MAX ? UINT64_MAX : (uint64_t) q;
        return 0;
}

int dt_health_events_by_type(const uint64_t *by_event, char *buf, size_t cap) {
        size_t at = 0;
        int i, n;

        if (cap == 0)
                return -ENOBUFS;
        buf[0] = '\0';
        for (i = 0; i < _DT_EVENT_MAX; i++) {
                n = snprintf(buf + at, cap - at, "%s%s=%" PRIu64, i ? "," : "",
                             dt_event_info(i)->name, by_event[i]);
                if (n < 0 || (size_t) n >= cap - at)
                        return -ENOBUFS;
                at += (size_t) n;
        }
        return 0;
}

/* milli_text - thousandths as "12.345" */
static void milli_text(uint64_t milli, char *buf, size_t cap) {
        (void) snprintf(buf, cap, "%" PRIu64 ".%03" PRIu64, milli / 1000u, milli % 1000u);
}

int dt_health_emit(struct dt_health *h, struct dt_emitter *em, bool at_stop,
                   const struct dt_health_totals *t, int64_t backlog, uint64_t now_usec) {
        const struct dt_emit_counts *c = dt_emit_counts();
        uint64_t span = now_usec > h->last_usec ? now_usec - h->last_usec : 0;
        uint64_t d_proc = t->processed - h->last.processed, d_rej = t->rejected - h->last.rejected;
        uint64_t eta = 0;
        char proc[24], rej[24], dproc[24], drej[24], back[24], secs[32], rate[32], etas[24],
             up[24], nev[24], bytype[_DT_EVENT_MAX * 48], fail[24], retry[24], defer[24], supp[24],
             seed[80], msg[512];
        bool has_eta;
        int r;

        (void) snprintf(proc, sizeof proc, "%" PRIu64, t->processed);
        (void) snprintf(rej, sizeof rej, "%" PRIu64, t->rejected);
        (void) snprintf(dproc, sizeof dproc, "%" PRIu64, d_proc);
        (void) snprintf(drej, sizeof drej, "%" PRIu64, d_rej);
        (void) snprintf(back, sizeof back, "%" PRId64, backlog);
        milli_text(span / 1000u, secs, sizeof secs);
        milli_text(dt_health_rate_milli(d_proc + d_rej, span), rate, sizeof rate);
        has_eta = backlog >= 0 &&
                  dt_health_eta((uint64_t) backlog, d_proc + d_rej, span, &eta) >= 0;
        (void) snprintf(etas, sizeof etas, "%" PRIu64, eta);
        (void) snprintf(up, sizeof up, "%" PRIu64, (now_usec - h->start_usec) / MICRO);
        (void) snprintf(nev, sizeof nev, "%" PRIu64, c->sent);
        r = dt_health_events_by_type(c->by_event, bytype, sizeof bytype);
        if (r < 0)
                return r;               /* cannot happen: sized for 20-digit counts */
        (void) snprintf(fail, sizeof fail, "%" PRIu64, c->failed);
        (void) snprintf(retry, sizeof retry, "%" PRIu64, c->resent);
        (void) snprintf(defer, sizeof defer, "%" PRIu64, t->deferred);
        (void) snprintf(supp, sizeof supp, "%" PRIu64, t->suppressed);
        const struct dt_field f[] = {
                { DT_F_AT_STOP, at_stop ? "true" : "false" },
                { DT_F_UPTIME_SECONDS, up },
                { DT_F_BACKLOG_COUNT, backlog >= 0 ? back : NULL },
                { DT_F_PROCESSED_COUNT, proc },
                { DT_F_REJECTED_COUNT, rej },
                { DT_F_INTERVAL_SECONDS, secs },
                { DT_F_INTERVAL_PROCESSED_COUNT, dproc },
                { DT_F_INTERVAL_REJECTED_COUNT, drej },
                { DT_F_THROUGHPUT, rate },
                { DT_F_BACKLOG_ETA_SECONDS, has_eta ? etas : NULL },
                { DT_F_EVENT_COUNT, nev },
                { DT_F_EVENT_COUNT_BY_TYPE, bytype },
                { DT_F_SUPPRESSED_COUNT, supp },
                { DT_F_EMIT_FAILURE_COUNT, fail },
                { DT_F_EMIT_RETRY_COUNT, retry },
                { DT_F_DEFERRED_COUNT, defer },
        };
        (void) snprintf(msg, sizeof msg,
                        "agent-health%s: %s waiting, %s processed and %s rejected since start, "
                        "%s/s over %s s, backlog gone in %s s, %s events sent, %s sends failed",
                        at_stop ? " at stop" : "", backlog >= 0 ? back : "?", proc, rej, rate, secs,
                        has_eta ? etas : "?", nev, fail);
        /* one event per (run, count): no input to hash, and the counts may repeat when idle */
        (void) snprintf(seed, sizeof seed, "%s-%" PRIu64, dt_emit_run_id(), h->sent);
        plan(h, now_usec);
        r = dt_emit(em, DT_EVENT_AGENT_HEALTH, seed, msg, f, ELEMENTSOF(f));
        if (r < 0)
                return r;
        h->sent++;
        h->last = *t;
        h->last_usec = now_usec;
        return 0;
}

struct dt_health *dt_health_free(struct dt_health *h) {
        free(h);
        return NULL;
}
