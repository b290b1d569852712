/* health.h - the agent-health event: backlog, throughput, events sent and lost, at intervals
 *
 * HOSTILE.md F2, F17 and item 39 ask the agent to say how it is doing: how many files wait in
 * new/, how fast they go and when the backlog will be gone, how many events of each type it
 * handed over (so a SIEM can compare with what arrived, beside the gaps DMARCTRACE_SEQ shows),
 * how many failure reports were only counted in a failure-rollup, and how often the event
 * output failed. The agent keeps one struct dt_health for its whole life (a reload swaps the
 * runtime, not this), asks dt_health_due_usec() how long it may sleep, and calls
 * dt_health_emit() when that time comes and once more as it stops (DMARCTRACE_AT_STOP=true; not
 * DMARCTRACE_STATE, so that a query for the agent-state "stopping" event finds only that).
 *
 * "Done" below means messages that left new/ for good: processed (a report stored, or one
 * already stored) or rejected. The rate is done per second over the interval since the previous
 * agent-health event; the ETA is the backlog at that rate. The clock is the caller's
 * (CLOCK_MONOTONIC microseconds), so tests drive it without waiting. */
#ifndef DT_HEALTH_H
#define DT_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/emit.h"
#include "report/macro.h"

/* The agent's totals since it started, over every runtime a reload made */
struct dt_health_totals {
        uint64_t processed;             /* reports stored or found already stored */
        uint64_t rejected;              /* input-rejected */
        uint64_t deferred;              /* left in new/ after the parse worker failed */
        uint64_t suppressed;            /* failure reports with no event of their own */
};

struct dt_health;

/* dt_health_new - start counting at now_usec; interval_sec 0: only the event at stop. -ENOMEM */
int dt_health_new(uint64_t now_usec, unsigned interval_sec, struct dt_health **out);

/* dt_health_set_interval - a reloaded configuration's interval; the next event is due that
 * long after the previous one (or the start) */
void dt_health_set_interval(struct dt_health *h, unsigned interval_sec);

/* dt_health_due_usec - when the next periodic event is due (CLOCK_MONOTONIC usec);
 * UINT64_MAX when the interval is 0 */
uint64_t dt_health_due_usec(const struct dt_health *h);

/* dt_health_emit - one agent-health event (at_stop: the one as the agent stops): the totals
 * now, the backlog (<0: unknown, the field is left out), the process's emit counts (emit.h). The
 * interval restarts at now_usec whatever the outcome, so a failing output is not retried in a
 * hot loop; after a failure the next event still counts from the last one sent. 0 or <0 from
 * dt_emit(). */
int dt_health_emit(struct dt_health *h, struct dt_emitter *em, bool at_stop,
                   const struct dt_health_totals *t, int64_t backlog, uint64_t now_usec);

/* dt_health_rate_milli - done messages over usec microseconds, in messages per 1000 s (so
 * 1500 is 1.5/s); 0 when usec is 0 */
uint64_t dt_health_rate_milli(uint64_t done, uint64_t usec);

/* dt_health_eta - seconds, rounded up, until backlog messages are done at done per usec:
 * 0 for no backlog; -ERANGE when nothing was done in the interval (no estimate) */
int dt_health_eta(uint64_t backlog, uint64_t done, uint64_t usec, uint64_t *out_sec);

/* dt_health_events_by_type - "aggregate-report=N,aggregate-record=N,..." for every event type
 * in table order, from the counts in by_event[_DT_EVENT_MAX]; -ENOBUFS when cap is too small */
int dt_health_events_by_type(const uint64_t *by_event, char *buf, size_t cap);

struct dt_health *dt_health_free(struct dt_health *h);
DEFINE_FREEP(struct dt_health, dt_health_free)

#endif
