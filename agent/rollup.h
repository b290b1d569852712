/* rollup.h - failure-report events under a flood: a token bucket, then one rollup a minute
 *
 * HOSTILE.md item 39: 100,000 valid failure reports in an hour must not become 100,000 events
 * (journald would rate-limit the unit and drop what matters). Every failure report is still
 * stored, deduplicated and moved; only its event is rationed. dt_rollup_admit() is asked once per
 * stored report: while the bucket holds a token (DT_ROLLUP_BURST at most, refilled at
 * DT_ROLLUP_PER_MINUTE) the report gets its own failure-report event; past that it is counted,
 * by reported domain. The first suppressed report opens a window; once it is DT_ROLLUP_WINDOW_SEC
 * old, dt_rollup_emit() sends one failure-rollup event with the exact counts of the window (every
 * failure report stored in it, and those of them that had no event of their own, by domain) and
 * the window closes. The caller calls dt_rollup_emit() whenever it commits a batch, and with
 * force before it stops, so a window is never lost in a clean stop; a crash loses the counts of
 * an open window (the reports themselves are in the store).
 *
 * The clock is the caller's (now_usec: CLOCK_MONOTONIC; wall: epoch seconds for the event's
 * period fields), so a test drives the limiter through any sequence deterministically. */
#ifndef DT_ROLLUP_H
#define DT_ROLLUP_H

#include <stdbool.h>
#include <stdint.h>

#include "agent/emit.h"
#include "report/macro.h"

#define DT_ROLLUP_BURST         100     /* failure-report events in a burst */
#define DT_ROLLUP_PER_MINUTE    60      /* ... and the sustained rate after it */
#define DT_ROLLUP_WINDOW_SEC    60      /* one failure-rollup per window */
#define DT_ROLLUP_DOMAINS       16      /* domains counted by name in a window; the rest as "other" */

struct dt_rollup;

/* dt_rollup_new - a full bucket at now_usec. -ENOMEM. */
int dt_rollup_new(uint64_t now_usec, struct dt_rollup **out);

/* dt_rollup_admit - one more stored failure report about domain (NULL or "" for none): true when
 * it gets its own event (a token was taken), false when it was counted for the rollup instead */
bool dt_rollup_admit(struct dt_rollup *rl, uint64_t now_usec, int64_t wall, const char *domain);

/* dt_rollup_emit - send the failure-rollup event of the open window when it is
 * DT_ROLLUP_WINDOW_SEC old, or (force) whenever it holds a suppressed report. 1 sent (the window
 * is closed), 0 nothing due, <0 from dt_emit() (the window stays open: retry later). */
int dt_rollup_emit(struct dt_rollup *rl, struct dt_emitter *em, uint64_t now_usec, bool force);

/* dt_rollup_pending - reports counted in the open window without an event of their own */
uint64_t dt_rollup_pending(const struct dt_rollup *rl);

/* dt_rollup_suppressed_total - reports that had no event of their own since dt_rollup_new(),
 * over every window, the open one included */
uint64_t dt_rollup_suppressed_total(const struct dt_rollup *rl);

struct dt_rollup *dt_rollup_free(struct dt_rollup *rl);
DEFINE_FREEP(struct dt_rollup, dt_rollup_free)

#endif
