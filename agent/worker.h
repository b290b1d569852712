/* worker.h - parse one untrusted message in a separate, limited worker process
 *
 * dt_worker_parse() forks a child that runs dt_parse_buffer() (parse.h) on the bytes the parent
 * already holds (inherited by fork, never read again), with RLIMIT_AS, RLIMIT_CPU, no core, no
 * files, few fds, no new privileges and a wall-clock deadline. The child writes what it found
 * as a stream of small length-prefixed typed records on a pipe; the parent checks every byte of
 * it and replays it, one record at a time, to a push-style sink. A crash, an OOM kill or a hang
 * in gmime, libxml2 or zlib costs this one message (WORKER_CRASH or TIMEOUT), never the caller.
 *
 * Test hooks (test-only; read in the CHILD, so they never change what the parent does):
 *   DT_WORKER_TEST=crash    abort() before parsing
 *   DT_WORKER_TEST=hang     loop forever before parsing
 *   DT_WORKER_TEST=oom      allocate and touch memory until RLIMIT_AS stops it, then parse
 *   DT_WORKER_TEST=garbage  write a malformed stream and exit 0
 *   DT_WORKER_TEST_MATCH=S  only when the source name contains S (all messages when unset)
 *
 * The caller must keep SIGCHLD at its default disposition (not SIG_IGN), so the worker's exit
 * status can be collected. */
#ifndef DT_WORKER_H
#define DT_WORKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/parse.h"
#include "report/aggregate.h"
#include "report/error.h"
#include "report/failure.h"
#include "report/limits.h"

#define DT_WORKER_AS_DEFAULT      (512u << 20)  /* address space the worker may add */
#define DT_WORKER_TIMEOUT_DEFAULT 10000u        /* ms the parent may wait for the worker */
#define DT_WORKER_STRING_MAX      (64u << 10)   /* one string in the stream (or xml_text_bytes) */

/* err->reason when no worker could be started (pipe, fork): a failure of the run, not of the
 * input, so it never becomes an input-rejected event */
#define DT_WORKER_R_NOT_STARTED "WORKER_NOT_STARTED"

struct dt_worker_opts {
        uint64_t as_bytes;      /* RLIMIT_AS headroom above the parent's address space at fork
                                 * time (sanitizers reserve terabytes, so an absolute limit would
                                 * not work there); 0: DT_WORKER_AS_DEFAULT */
        uint32_t timeout_ms;    /* deadline, counted only while the parent waits for the worker
                                 * (time spent in the sink's callbacks is the parent's own);
                                 * 0: DT_WORKER_TIMEOUT_DEFAULT. RLIMIT_CPU is set from it too. */
};

struct dt_worker_warning {
        char *reason;
        int64_t offset;
};

/* An aggregate report's metadata as the worker saw it (see aggregate.h for each field). Every
 * string is valid UTF-8 without NUL, at most DT_WORKER_STRING_MAX bytes, or NULL. */
struct dt_worker_report {
        char *org, *email, *extra_contact, *report_id, *version, *generator;
        int64_t begin, end;             /* DT_TIME_MISSING when absent */
        bool has_policy;
        struct dt_policy policy;        /* zeroed (pct -1) when !has_policy */
        uint64_t record_count;          /* valid records so far */
        uint64_t message_count;
        char **extensions;
        size_t n_extensions;
        struct dt_worker_warning *warnings;
        size_t n_warnings;
        char *input_format;             /* dt_input_describe(): "xml", "zip", "zip+gzip", ... */
        char *entry_name;               /* zip entry name, sanitised, or NULL */
};

/* The sink: each callback may be NULL. Everything passed is borrowed for the call, except that
 * the meta given to aggregate_begin stays valid until aggregate_end returns (or the parse
 * ends). A callback returning <0 stops: the worker is killed and reaped, and that value is
 * returned with err untouched. aggregate_end is called only for a report read to its end; a
 * report that breaks halfway ends the call with its error instead. dedupe_key is the failure
 * report's SHA-256 (64 lower-case hex digits) over its feedback part(s) and original Message-ID
 * (dt_worker_failure_key). */
struct dt_worker_sink {
        int (*aggregate_begin)(void *userdata, const struct dt_worker_report *meta);
        int (*record)(void *userdata, const struct dt_record *r);
        int (*aggregate_end)(void *userdata, const struct dt_worker_report *final_meta);
        int (*failure)(void *userdata, const struct dt_failure *f, const char *dedupe_key);
};

/* dt_worker_parse - parse data[0..len) (source names it; lim as dt_parse_buffer) in a worker and
 * replay the results to sink. opts may be NULL (defaults). Returns 0, or <0 with err filled:
 * the parse's own error as dt_parse_buffer would give it; WORKER_CRASH (-ECHILD) when the
 * worker died by a signal (named in the message), exited abnormally, or wrote a stream that
 * does not check out ("malformed worker stream: ..."); TIMEOUT (-ETIMEDOUT) when the deadline
 * passed (the worker is then killed); or -errno when no worker could be started (pipe, fork:
 * a failure of the run, reason DT_WORKER_R_NOT_STARTED). Never leaves a child behind. */
int dt_worker_parse(const void *data, size_t len, const char *source, const struct dt_limits *lim,
                    const struct dt_worker_opts *opts, const struct dt_worker_sink *sink,
                    void *userdata, struct dt_error *err);

/* dt_worker_failure_key - the dedupe key of failure report f found in message m (m may be
 * NULL): SHA-256 over the message/feedback-report part(s) (every part's content when there is
 * none), a NUL, and the original Message-ID, as 64 hex digits. Owned by the caller; NULL when
 * out of memory. */
char *dt_worker_failure_key(const struct dt_message *m, const struct dt_failure *f);

/* dt_worker_report_free - free a report the worker module built; NULL-safe, returns NULL */
struct dt_worker_report *dt_worker_report_free(struct dt_worker_report *r);
DEFINE_FREEP(struct dt_worker_report, dt_worker_report_free)

/* dt_worker_record_clear - free the strings and lists of a record the worker module built,
 * and zero it; NULL-safe */
void dt_worker_record_clear(struct dt_record *r);

#endif
