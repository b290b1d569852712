/* emit.h - the one place events leave dmarctrace: the journal, or JSON lines without one
 *
 * A caller fills an array of struct dt_field with the event's DMARCTRACE_* fields (events.h),
 * composes a one-line MESSAGE, and calls dt_emit(). The emitter adds SYSLOG_IDENTIFIER,
 * SYSLOG_FACILITY, PRIORITY, MESSAGE_ID, DMARCTRACE_EVENT, DMARCTRACE_EVENT_ID, DMARCTRACE_SEQ,
 * DMARCTRACE_RUN_ID and, when a value had to be cut, DMARCTRACE_TRUNCATED=true. Both sinks get
 * exactly the same names and values.
 *
 * Field names are full journald names and must start with "DMARCTRACE_" (use the DT_F_* macros),
 * so a caller can never set PRIORITY, MESSAGE_ID or a trusted "_" field; the names emit sets
 * itself (DT_F_EVENT, DT_F_EVENT_ID, DT_F_SEQ, DT_F_RUN_ID, DT_F_TRUNCATED) are refused too, as
 * are duplicates. A bad name is a programming error: -EINVAL, nothing sent. Values (and the message) may be hostile:
 * emit sanitises them (report/sanitize.h) and caps NAME=value at limits.field_bytes.
 *
 * Errors: every failure is returned, never dropped. -ENOENT / -ECONNREFUSED: journald is not
 * there (back off and retry later); -EAGAIN: journald did not take the datagram within the send
 * timeout (its queue is full); -EPIPE, -ENOSPC, -EIO: the JSON output failed; -ECANCELED: the
 * process is stopping (dt_emit_cancel_waits) and the sink had no room. Either way the
 * caller must not commit the input as done. The JSON sink writes to a pipe: the program should
 * ignore SIGPIPE so a closed reader shows up as -EPIPE here, not as a dead agent.
 *
 * SEQ and RUN_ID: the sequence is the process's, not the emitter's, so that it runs on across a
 * reload's new emitter: SEQ is 1 for the first event handed to a sink after the process started
 * and one more for each further one; RUN_ID is random per process. A gap in SEQ within one
 * RUN_ID means events were lost after we handed them over.
 *
 * Not thread-safe, and the sequence is process-wide: emit from one thread only. */
#ifndef DT_EMIT_H
#define DT_EMIT_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "agent/events.h"
#include "report/limits.h"
#include "report/macro.h"

#define DT_JOURNAL_SOCKET_DEFAULT "/run/systemd/journal/socket"
#define DT_JOURNAL_SOCKET_ENV     "DT_JOURNAL_SOCKET"   /* overrides the path; for tests */
#define DT_EMIT_FIELDS_MAX        64                    /* caller fields per event */
#define DT_EMIT_FIELD_BYTES_MIN   128                   /* limits.field_bytes accepted range */
#define DT_EMIT_FIELD_BYTES_MAX   (16u << 20)
#define DT_EMIT_TIMEOUT_DEFAULT   (1000u * 1000u)       /* usec to wait for a full journal queue */

struct dt_field {
        const char *name;       /* "DMARCTRACE_..." (a DT_F_* macro); checked, not sanitised */
        const char *value;      /* hostile allowed; NULL leaves the field out of the event */
};

enum dt_output_kind {
        DT_SINK_JOURNAL,
        DT_SINK_JSON,
        _DT_SINK_MAX,
        _DT_SINK_INVALID = -EINVAL,
};

struct dt_emitter;

/* dt_emitter_new - an emitter of the given kind. JSON: lines on json_out (borrowed; NULL means
 * stdout). Journal: the native socket at $DT_JOURNAL_SOCKET or DT_JOURNAL_SOCKET_DEFAULT,
 * connected lazily (so this succeeds while journald is down); json_out is ignored.
 * -EINVAL for a bad kind, -ENAMETOOLONG for a socket path that does not fit, -ENOMEM. */
int dt_emitter_new(enum dt_output_kind kind, FILE *json_out, struct dt_emitter **out);

/* dt_emitter_auto - output = "auto": the journal when its socket exists and accepts a datagram
 * connect, else JSON lines on json_out (NULL: stdout) */
int dt_emitter_auto(FILE *json_out, struct dt_emitter **out);

/* dt_emitter_set_limits - take field_bytes from lim (range DT_EMIT_FIELD_BYTES_MIN..MAX, else
 * -EINVAL). The default is dt_limits_default.field_bytes (4095). */
int dt_emitter_set_limits(struct dt_emitter *em, const struct dt_limits *lim);

/* dt_emitter_set_timeout - how long dt_emit() waits for room in journald's queue before it
 * returns -EAGAIN (0: never wait) */
void dt_emitter_set_timeout(struct dt_emitter *em, uint64_t usec);

/* dt_emitter_kind - which sink this emitter writes to */
enum dt_output_kind dt_emitter_kind(const struct dt_emitter *em);

/* dt_emitter_send_error - -errno of the last hand-off to the sink when it failed, 0 when it went
 * through (or none was tried): tells a failing sink from a failing store after a failed run */
int dt_emitter_send_error(const struct dt_emitter *em);

/* dt_emitter_available - whether an event could go out now. Journal: the socket is connected,
 * or connects now (sd_journal_sendv() reports success when nobody listens, so we check the
 * socket ourselves). JSON: false only after the reader went away (EPIPE). */
bool dt_emitter_available(struct dt_emitter *em);

/* dt_emit - send one event. event_id_seed (may be NULL) is what makes the input unique beyond
 * the field values (e.g. a store key or a file hash): DMARCTRACE_EVENT_ID is a hash of the event
 * name, the seed and the raw field names and values, so processing the same input again gives
 * the same id. message: one line, hostile allowed; required. Returns 0 or a negative errno. */
int dt_emit(struct dt_emitter *em, enum dt_event ev, const char *event_id_seed,
            const char *message, const struct dt_field *fields, size_t n);

/* dt_emit_full - dt_emit() with a PRIORITY other than the event's default (0..7; -1: default),
 * e.g. agent-state at LOG_ERR for a store failure */
int dt_emit_full(struct dt_emitter *em, enum dt_event ev, int priority, const char *event_id_seed,
                 const char *message, const struct dt_field *fields, size_t n);

/* dt_emit_cancel_waits - the process is stopping: for the stop signal's handler (async-signal-
 * safe; the handler must be installed without SA_RESTART so a blocked write sees the signal).
 * A send waiting for room when it comes returns -ECANCELED, nothing of it sent; later sends
 * wait at most the timeout, none at all once one has timed out. There is no undo. */
void dt_emit_cancel_waits(void);

/* Events of this process so far, over all its emitters */
struct dt_emit_counts {
        uint64_t sent;                          /* handed to a sink: the last DMARCTRACE_SEQ */
        uint64_t by_event[_DT_EVENT_MAX];       /* ... of each event type */
        uint64_t failed;                        /* dt_emit() calls whose hand-off failed */
        uint64_t resent;                        /* sent again on a fresh journal connection */
};

/* dt_emit_counts - the process's counts, borrowed (they change with every emit) */
const struct dt_emit_counts *dt_emit_counts(void);

/* dt_emit_run_id - the process's DMARCTRACE_RUN_ID (32 hex), "" before its first event */
const char *dt_emit_run_id(void);

/* dt_field_name_valid - journald's rule for a field a client may set: 1..64 characters of
 * A-Z, 0-9 and '_', not starting with '_' or a digit */
bool dt_field_name_valid(const char *name);

/* dt_emitter_free - close the socket (the JSON stream stays open: it is borrowed); NULL-safe */
struct dt_emitter *dt_emitter_free(struct dt_emitter *em);

DEFINE_FREEP(struct dt_emitter, dt_emitter_free)

#endif
