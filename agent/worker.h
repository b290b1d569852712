/* worker.h - parse untrusted messages in a separate, limited, persistent worker process
 *
 * struct dt_worker owns one pre-forked child that runs dt_parse_buffer() (parse.h) on message
 * after message, with RLIMIT_AS, a CPU limit re-armed per message, no core, no files, few fds,
 * no new privileges and a wall-clock deadline. The parent sends each message's bytes over a
 * socket; the child writes what it found as a stream of small length-prefixed typed records;
 * the parent checks every byte of it and replays it, one record at a time, to a push-style
 * sink. A crash, an OOM kill, a hang or a malformed stream in gmime, libxml2 or zlib costs
 * this one message (WORKER_CRASH or TIMEOUT), never the caller: that worker is killed and
 * reaped, and the next message starts a fresh one. A worker is also retired (asked to exit
 * and reaped) after a message it could not parse, after max_messages messages, when its peak
 * resident size grew by more than max_rss_growth since its first message, or before its
 * lifetime CPU limit could cut a message short.
 *
 * Test hooks (test-only; read in the CHILD, from the environment it inherited when it was
 * started, so they never change what the parent does):
 *   DT_WORKER_TEST=crash    abort() before parsing
 *   DT_WORKER_TEST=hang     loop forever before parsing
 *   DT_WORKER_TEST=oom      allocate and touch memory until RLIMIT_AS stops it, then parse
 *   DT_WORKER_TEST=garbage  write a malformed stream, then wait for the next message
 *   DT_WORKER_TEST=leak     allocate and touch 24 MB that are never freed, then parse
 *   DT_WORKER_TEST=burn     use 700 ms of CPU, then parse
 *   DT_WORKER_TEST_MATCH=S  only when the source name contains S (all messages when unset)
 *
 * The caller must keep SIGCHLD at its default disposition (not SIG_IGN), so the worker's exit
 * status can be collected. */
#ifndef DT_WORKER_H
#define DT_WORKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "agent/parse.h"
#include "report/aggregate.h"
#include "report/error.h"
#include "report/failure.h"
#include "report/limits.h"

#define DT_WORKER_AS_DEFAULT       (512u << 20) /* address space the worker may add */
#define DT_WORKER_TIMEOUT_DEFAULT  10000u       /* ms the parent may wait for the worker */
#define DT_WORKER_MESSAGES_DEFAULT 1000u        /* messages one worker parses */
#define DT_WORKER_GROWTH_DEFAULT   (16u << 20)  /* peak resident bytes a worker may gain */
#define DT_WORKER_STRING_MAX       (64u << 10)  /* one string in the stream (or xml_text_bytes) */

/* err->reason when no worker could be started (socket, fork): a failure of the run, not of the
 * input, so it never becomes an input-rejected event */
#define DT_WORKER_R_NOT_STARTED "WORKER_NOT_STARTED"

struct dt_worker_opts {
        uint64_t as_bytes;      /* RLIMIT_AS headroom above the parent's address space at fork
                                 * time (sanitizers reserve terabytes, so an absolute limit would
                                 * not work there); 0: DT_WORKER_AS_DEFAULT */
        uint32_t timeout_ms;    /* deadline, counted only while the parent waits for the worker
                                 * (time spent in the sink's callbacks is the parent's own);
                                 * 0: DT_WORKER_TIMEOUT_DEFAULT */
        uint32_t cpu_seconds;   /* CPU time one message may use (RLIMIT_CPU, re-armed before
                                 * each message; the worker's whole life may use 3 times this);
                                 * 0: twice the timeout plus 2 s, a backstop behind the deadline */
        uint32_t max_messages;  /* then the worker is retired; 0: DT_WORKER_MESSAGES_DEFAULT */
        uint64_t max_rss_growth; /* peak resident bytes the worker may gain after its first
                                  * message, then it is retired; 0: DT_WORKER_GROWTH_DEFAULT */
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

struct dt_worker;

/* dt_worker_new - a worker handle with opts (may be NULL: defaults); the process itself is
 * started by the first dt_worker_parse. -ENOMEM */
int dt_worker_new(const struct dt_worker_opts *opts, struct dt_worker **out);

/* dt_worker_parse - parse data[0..len) (source names it; lim as dt_parse_buffer) in the worker
 * and replay the results to sink. Returns 0, or <0 with err filled: the parse's own error as
 * dt_parse_buffer would give it (SIZE_LIMIT, before the worker sees it, when len is over
 * lim->message_bytes); WORKER_CRASH (-ECHILD) when the worker died by a signal (named in the
 * message), exited, or wrote a stream that does not check out ("malformed worker stream:
 * ..."); TIMEOUT (-ETIMEDOUT) when the deadline or the CPU limit passed; or -errno when no
 * worker could be started (socket, fork, or a worker that exited before it was ready: a
 * failure of the run, reason DT_WORKER_R_NOT_STARTED, "cannot start the worker: ..."; -EMFILE
 * when it could not set up its fds). After WORKER_CRASH, TIMEOUT or a sink that stopped, the
 * worker is gone (killed and reaped) and the next call starts a fresh one. */
int dt_worker_parse(struct dt_worker *w, const void *data, size_t len, const char *source,
                    const struct dt_limits *lim, const struct dt_worker_sink *sink, void *userdata,
                    struct dt_error *err);

/* a message for dt_worker_parse_ahead; data and source borrowed */
struct dt_worker_msg {
        const void *data;
        size_t len;
        const char *source;
};

/* dt_worker_parse_ahead - dt_worker_parse, and hand next (may be NULL) to the worker as soon as
 * it can take it, so that it reads and parses next while the sink stores this message: the
 * caller's next call, with next's data, source and lim, then only replays it. next->data must
 * stay valid until that call returns (or dt_worker_stop). A call for any other message first
 * drops next (a worker busy with it is killed: nothing is charged). The deadline still counts
 * only the time the caller waits; whatever happens to the worker while it holds next (a crash,
 * a hang) is next's outcome, never this message's; a worker that retires after this message
 * (after a failed parse, on its own request, at max_messages) never parses next: the next call
 * sends it to a fresh one. */
int dt_worker_parse_ahead(struct dt_worker *w, const void *data, size_t len, const char *source,
                          const struct dt_worker_msg *next, const struct dt_limits *lim,
                          const struct dt_worker_sink *sink, void *userdata, struct dt_error *err);

/* dt_worker_drop_ahead - forget the next message of the last dt_worker_parse_ahead (its data
 * may be freed now); a worker busy with it is killed, which charges nothing */
void dt_worker_drop_ahead(struct dt_worker *w);

/* dt_worker_pid - the running worker process, 0 when there is none (for logs and tests) */
pid_t dt_worker_pid(const struct dt_worker *w);

/* dt_worker_stop - retire the running worker now: close its socket (it exits) and reap it,
 * killed if it has not exited within the timeout (at once when it holds a message sent ahead,
 * which is dropped); the next dt_worker_parse starts a fresh one.
 * Returns 0 when it and every worker retired since the last call exited cleanly, else the
 * first other wait status (tests check it: under valgrind, a worker's own leaks make it exit
 * non-zero). Workers killed for a message's fault do not count: that message said so. */
int dt_worker_stop(struct dt_worker *w);

/* dt_worker_free - dt_worker_stop, then free; NULL-safe, returns NULL. Leaves no child and no
 * fd. */
struct dt_worker *dt_worker_free(struct dt_worker *w);
DEFINE_FREEP(struct dt_worker, dt_worker_free)

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
