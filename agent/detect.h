/* detect.h - volume spikes per domain, reporting org and source IP; failure-report surges
 *
 * The store keeps daily volumes in the reports' own time (store.h). Detection reads them back:
 * the baseline of a key (policy domain, (domain, org) or (domain, source IP)) on a day is the
 * median of its observed counts on the days of the previous detect.baseline_days calendar days
 * that have data, once at least DT_DETECT_BASELINE_MIN such days exist; a source IP of this host
 * (own > 0 that day) with no data at all in that window counts against a baseline of 0, provided
 * the domain itself has data on DT_DETECT_BASELINE_MIN days of it (so the first days of a new
 * store do not flag every address of the host). A day is a spike when
 * observed >= spike_factor * max(baseline, 1) and observed >= min_messages.
 *
 * Events are state changes, kept in the store so that they are raised once:
 *   volume-spike   the first time a (key, day) is a spike, and again each time its observed count
 *                  has at least doubled since the last alert (the store's alerts table);
 *   volume-normal  on the first later day with data under 2 * max(baseline, 1), for a key whose
 *                  last spike has not been followed by a volume-normal yet;
 *   attribution    for a spike with mail from this host and a log index: each sender of that day
 *                  (dt_correlate_window) far above its own usual;
 *   failure-surge  failure reports of a domain in one UTC hour against the median of the hours
 *                  with reports among the previous DT_DETECT_SURGE_HOURS (0 when there are
 *                  none: failure reports are events, not samples), detect.surge_factor and
 *                  detect.surge_min_reports; again when the count has doubled.
 *
 * Order independence. Reports for a day arrive over days, from different receivers, and a first
 * scan reads a backlog in whatever order the directory gives. The pipeline marks the days each
 * stored report touched (dt_detect_mark, inside the message's transaction, so a mark commits or
 * rolls back with the report's rows); dt_detect_run() then evaluates, per domain and in
 * chronological order, every marked day and the baseline_days days after it (whose baselines it
 * changed), for every key type. Each evaluation is a function of the stored sums and the state
 * already raised, so a backlog processed in any order and run once ends with the events the same
 * reports give when they come in one day at a time; running again emits nothing. (A day whose
 * reports keep coming after it was alerted keeps its first event unless the count doubles: the
 * event that went out reported what was known then.) Every event's DMARCTRACE_EVENT_ID is seeded
 * with (domain, key type, key, day, observed), so a run repeated after a crash dedupes.
 *
 * Not thread-safe: one per store. */
#ifndef DT_DETECT_H
#define DT_DETECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/emit.h"
#include "agent/identity.h"
#include "agent/store.h"
#include "conf/config.h"
#include "correlate/index.h"
#include "report/macro.h"

#define DT_DETECT_BASELINE_MIN  3               /* days with data before a baseline exists */
#define DT_DETECT_SURGE_HOURS   (24 * 7)        /* failure-surge history, hours */
#define DT_DETECT_CHUNK_DAYS    32              /* days evaluated per pass over the store */
#define DT_DETECT_DIRTY_BATCH   4096            /* marks read per step of a run */

struct dt_detect_stats {
        uint64_t days;                  /* (domain, day) evaluated */
        uint64_t rows;                  /* (key, day) evaluated */
        uint64_t hours;                 /* (domain, hour) evaluated for surges */
        uint64_t spikes;                /* events emitted, by type */
        uint64_t normals;
        uint64_t surges;
        uint64_t attributions;
};

struct dt_detect;

/* dt_detect_new - all borrowed and must outlive the detector; idx and id may be NULL (no
 * LOCAL_SENT and no attribution without idx; no HOST_NAME without id). Creates the detect_*
 * tables in the store's database when missing. -ENOMEM, -EIO. */
int dt_detect_new(const struct dt_config *cfg, struct dt_store *store, struct dt_emitter *em,
                  struct dt_index *idx, const struct dt_identity *id, struct dt_detect **out);

/* dt_detect_set_config - use another configuration from now on (SIGHUP); borrowed */
void dt_detect_set_config(struct dt_detect *d, const struct dt_config *cfg);

/* dt_detect_mark - a report for domain covering [begin, end) was stored: its days need a look.
 * Days are taken as the store spreads the report (a missing or inverted end: the day of the
 * other time; longer than DT_STORE_SPREAD_DAYS_MAX days: the day of end); nothing for a report
 * with neither time. Written to the store (in the caller's transaction when one is open). */
int dt_detect_mark(struct dt_detect *d, const char *domain, int64_t begin, int64_t end);

/* dt_detect_mark_failure - a failure report for domain was stored in the hour holding time */
int dt_detect_mark_failure(struct dt_detect *d, const char *domain, int64_t time);

/* dt_detect_pending - 1 when marks wait for a run, 0 none, <0 store error */
int dt_detect_pending(struct dt_detect *d);

/* dt_detect_run - evaluate everything marked, emit the events, forget the marks. Opens and
 * commits its own transaction when none is open (else works inside the caller's, which the
 * caller commits). On an emit or store error nothing is committed, the marks stay, and the error
 * is returned; events that went out go out again with the same DMARCTRACE_EVENT_ID. out (may be
 * NULL) gets this run's counts. */
int dt_detect_run(struct dt_detect *d, struct dt_detect_stats *out);

struct dt_detect *dt_detect_free(struct dt_detect *d);
DEFINE_FREEP(struct dt_detect, dt_detect_free)

/* dt_detect_baseline - the baseline of day[i] from the series day[0..n) (ascending days, one
 * per entry, observed counts in obs): the median of obs[j] > 0 for days in
 * [day[i] - baseline_days, day[i]). 1 and *out when at least DT_DETECT_BASELINE_MIN such days
 * exist, else 0 with the number of such days in *n_hist (may be NULL). */
int dt_detect_baseline(const int64_t *day, const uint64_t *obs, size_t n, size_t i,
                       unsigned baseline_days, double *out, size_t *n_hist);

/* dt_detect_is_spike - observed >= factor * max(baseline, 1) and observed >= min_messages */
bool dt_detect_is_spike(uint64_t observed, double baseline, double factor, uint64_t min_messages);

/* what detection raised, for `dmarctrace summary`: kind is "spike", "normal", "surge" or
 * "attribution"; for an attribution key_type is the sender kind ("uid", "sasl", "client"), key
 * the sender, observed its message count and detail the event's MESSAGE line */
struct dt_detect_record {
        const char *domain;
        const char *kind;
        const char *key_type;
        const char *key;
        int64_t time;                   /* day (UTC midnight) or, for a surge, hour */
        uint64_t observed;
        const char *detail;             /* may be NULL */
};

/* dt_detect_foreach_record - call cb for each record of domain (NULL: all) with from <= time <
 * to, by domain, time, kind, key type, key; strings borrowed for the call. cb must not write
 * to the store; a cb result < 0 stops and is returned. A store without detect tables has none. */
int dt_detect_foreach_record(struct dt_store *s, const char *domain, int64_t from, int64_t to,
                             int (*cb)(const struct dt_detect_record *rec, void *userdata),
                             void *userdata);

#endif
