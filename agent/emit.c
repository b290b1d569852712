/* emit.c - turn one event into journald fields and hand them to the journal or a JSON line
 *
 * dt_emit() checks the caller's field names, hashes the raw values into DMARCTRACE_EVENT_ID,
 * sanitises the message and every value into NAME=value pairs of at most field_bytes, adds the
 * fixed fields, and gives that one list to either sink, so both carry the same names and values.
 *
 * Journal sink: we speak journald's native protocol ourselves rather than calling
 * sd_journal_sendv(). One AF_UNIX SOCK_DGRAM socket, connected to /run/systemd/journal/socket
 * (or $DT_JOURNAL_SOCKET), carries one datagram of "NAME=value\n" lines per event; the plain line
 * form is enough because a sanitised value never holds a newline. Why not sd_journal_sendv():
 * (1) it can report success while no journald listens (systemd issue 4472), and a message whose
 * event was lost must never be committed; our connected socket returns ENOENT or ECONNREFUSED,
 * which we pass up (HOSTILE.md F1); (2) it always sends to the fixed path, so no test could see
 * what we send; (3) our sends are non-blocking with a bounded wait, so a stalled journald gives
 * -EAGAIN instead of hanging the agent (F3). A cached connection is dropped and re-made once when
 * a send fails (journald restarted behind it). A datagram too big for the socket (EMSGSIZE,
 * ENOBUFS) goes the way libsystemd sends it: in a sealed memfd passed with SCM_RIGHTS. Only if
 * memfds are not available and the path is journald's own do we fall back to sd_journal_sendv().
 *
 * No sender thread with a queue (HOSTILE.md F3 offers one): a message is committed only once its
 * events are handed over, so a queue would not let a batch commit any sooner, and abandoning it
 * at a stop is what failing the send does now (nothing committed, redone on restart). What a
 * thread would guard, this bounds: a send waits at most the timeout (1 s), the agent's loop
 * pings the watchdog around it (every wait ends within half of WATCHDOG_USEC), and a stop ends
 * the wait at once (dt_emit_cancel_waits).
 *
 * Every event handed to a sink gets the next DMARCTRACE_SEQ of the process (1, 2, ...) and the
 * process's DMARCTRACE_RUN_ID, a random id128 made at its first event: journald may still drop
 * what it took (its rate limit, HOSTILE.md F2), and a gap in SEQ under one RUN_ID shows that. A
 * failed hand-off uses no number, so the sequence has no gap of our own making. Neither is part
 * of DMARCTRACE_EVENT_ID: an event sent again keeps its id. The counts (per event type, failed
 * hand-offs, resends) are process-wide too, for the agent-health event.
 *
 * JSON sink: one object per line (as json-c prints it: plain, no slash escapes), every value a
 * string, as in `journalctl -o json`. A stream with a descriptor (stdout, a pipe, a file) gets
 * each line in writev() calls of its own, continued after a short write or a signal, so a line
 * is never cut by one; a write error is returned as -errno.
 *
 * Stopping (HOSTILE.md F3, F16): the stop signal's handler calls dt_emit_cancel_waits(). A send
 * it interrupts while waiting for a full journal queue or a full pipe returns -ECANCELED with
 * nothing sent, so the caller commits nothing for it; the stop's own events then wait at most
 * the timeout, and after one of them has timed out none waits at all.
 *
 * SECURITY: field names come from our own code and are checked against journald's rules and our
 * DMARCTRACE_ namespace; the message and the values come from report mail and logs. Each value
 * goes through dt_sanitize() (valid UTF-8, no control, bidi or zero-width character), so none can
 * add a line (a field such as PRIORITY=0) to the datagram or a line to the JSON stream, and each
 * is cut on a character boundary so NAME=value fits field_bytes. The fixed fields (PRIORITY,
 * MESSAGE_ID, SYSLOG_IDENTIFIER, ...) are ours and no caller name can collide with them. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE     /* memfd_create, F_ADD_SEALS */
#endif

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <glib.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <syslog.h>
#include <systemd/sd-id128.h>
#include <systemd/sd-journal.h>
#include <time.h>
#include <unistd.h>

#include "agent/emit.h"
#include "agent/jsonwriter.h"
#include "report/sanitize.h"

#define FIELD_PREFIX     "DMARCTRACE_"
#define FIELD_NAME_MAX   64
#define EVENT_ID_HEX     32
#define FIXED_FIELDS     9                                      /* see build_event() */
#define ENTRIES_MAX      (FIXED_FIELDS + DT_EMIT_FIELDS_MAX + 1) /* + DMARCTRACE_TRUNCATED */

struct dt_emitter {
        enum dt_output_kind kind;
        FILE *out;                      /* JSON: borrowed stream */
        bool out_broken;                /* JSON: the reader went away (EPIPE) */
        char path[sizeof ((struct sockaddr_un *) NULL)->sun_path];
        bool default_path;              /* path is journald's own socket */
        int fd;                         /* journal: connected socket, -1 when not connected */
        uint32_t field_bytes;
        uint64_t timeout_usec;
        int send_error;                 /* -errno of the last failed hand-off, 0 after a success */
        struct dt_jw line;              /* JSON: the line being written, its memory kept */
};

/* The process's sequence (HOSTILE.md F2): it outlives every emitter, since a reload makes a new
 * one, and restarts only with the process, under a new run id */
static struct dt_emit_counts counts;
static char run_id[SD_ID128_STRING_MAX];        /* "" until the first event */

/* Stopping (dt_emit_cancel_waits, from a signal handler): a wait for the sink that the signal
 * interrupts ends with -ECANCELED; later sends wait at most the timeout, and once one of them
 * has timed out (waits_abandoned) none waits at all, so a stop never hangs on a stalled sink */
static volatile sig_atomic_t cancel_waits;
static bool waits_abandoned;

struct entry {
        const char *name;               /* static or the caller's; checked */
        char *value;                    /* ours: sanitised, NUL-terminated */
        size_t len;
};

struct event {
        struct entry e[ENTRIES_MAX];
        size_t n;
        bool truncated;
};

/* The event table: DESIGN.md section 5 */
static const char *const fields_aggregate_report[] = {
        DT_F_POLICY_DOMAIN, DT_F_REPORT_ORG, DT_F_REPORT_ID, DT_F_PERIOD_BEGIN, DT_F_PERIOD_END,
        DT_F_RECORD_COUNT, DT_F_MESSAGE_COUNT, DT_F_PASS_COUNT, DT_F_FAIL_COUNT,
        DT_F_OWN_HOST_COUNT, DT_F_COMPLETE, DT_F_INPUT_PATH, DT_F_SENDER_AUTH, NULL,
};
static const char *const fields_aggregate_record[] = {
        DT_F_POLICY_DOMAIN, DT_F_REPORT_ORG, DT_F_REPORT_ID, DT_F_SOURCE_IP, DT_F_MESSAGE_COUNT,
        DT_F_DISPOSITION, DT_F_DKIM_RESULT, DT_F_DKIM_DOMAIN, DT_F_SPF_RESULT, DT_F_SPF_DOMAIN,
        DT_F_HEADER_FROM, DT_F_ENVELOPE_FROM, DT_F_OWN_HOST, NULL,
};
static const char *const fields_failure_report[] = {
        DT_F_FEEDBACK_TYPE, DT_F_AUTH_FAILURE, DT_F_SOURCE_IP, DT_F_REPORTED_DOMAIN,
        DT_F_ORIGINAL_MAIL_FROM, DT_F_ORIGINAL_RCPT_TO, DT_F_ARRIVAL_DATE, DT_F_DELIVERY_RESULT,
        DT_F_EMAIL_MESSAGE_ID, DT_F_EMAIL_FROM_ADDRESS, DT_F_EMAIL_TO_ADDRESS, DT_F_EMAIL_SUBJECT,
        DT_F_EMAIL_DATE, DT_F_PHP_ORIGINATING_SCRIPT, DT_F_X_MAILER, DT_F_RECEIVED_HOPS,
        DT_F_OWN_HOST, DT_F_INPUT_PATH, DT_F_SENDER_AUTH, NULL,
};
static const char *const fields_attribution[] = {
        DT_F_POLICY_DOMAIN, DT_F_HOST_NAME, DT_F_HOST_IP, DT_F_MTA, DT_F_EMAIL_LOCAL_ID,
        DT_F_EMAIL_MESSAGE_ID, DT_F_USER_ID, DT_F_USER_NAME, DT_F_SCRIPT_PATH, DT_F_SCRIPT_LINE,
        DT_F_CLIENT_IP, DT_F_SASL_USERNAME, DT_F_MESSAGE_COUNT, DT_F_CONFIDENCE, DT_F_EVIDENCE,
        NULL,
};
static const char *const fields_volume[] = {
        DT_F_POLICY_DOMAIN, DT_F_KEY_TYPE, DT_F_KEY, DT_F_DAY, DT_F_OBSERVED, DT_F_BASELINE,
        DT_F_FACTOR, DT_F_OWN_HOST_COUNT, DT_F_LOCAL_SENT, NULL,
};
static const char *const fields_failure_surge[] = {
        DT_F_POLICY_DOMAIN, DT_F_HOUR, DT_F_OBSERVED, DT_F_BASELINE, NULL,
};
static const char *const fields_input_rejected[] = {
        DT_F_INPUT_PATH, DT_F_REASON, DT_F_ERROR_MESSAGE, DT_F_OFFSET, DT_F_LINE, DT_F_MOVED_TO,
        NULL,
};
static const char *const fields_agent_state[] = {
        DT_F_STATE, DT_F_VERSION, DT_F_PROCESSED_COUNT, DT_F_REJECTED_COUNT, DT_F_BACKLOG_COUNT,
        DT_F_REASON, DT_F_ERROR_MESSAGE, NULL,
};
static const char *const fields_failure_rollup[] = {
        DT_F_PERIOD_BEGIN, DT_F_PERIOD_END, DT_F_REPORT_COUNT, DT_F_SUPPRESSED_COUNT,
        DT_F_SUPPRESSED_BY_DOMAIN, NULL,
};
static const char *const fields_agent_health[] = {
        DT_F_AT_STOP, DT_F_UPTIME_SECONDS, DT_F_BACKLOG_COUNT, DT_F_PROCESSED_COUNT,
        DT_F_REJECTED_COUNT, DT_F_INTERVAL_SECONDS, DT_F_INTERVAL_PROCESSED_COUNT,
        DT_F_INTERVAL_REJECTED_COUNT, DT_F_THROUGHPUT, DT_F_BACKLOG_ETA_SECONDS, DT_F_EVENT_COUNT,
        DT_F_EVENT_COUNT_BY_TYPE, DT_F_SUPPRESSED_COUNT, DT_F_EMIT_FAILURE_COUNT,
        DT_F_EMIT_RETRY_COUNT, DT_F_DEFERRED_COUNT, NULL,
};
static const char *const fields_common[] = {
        DT_F_EVENT, DT_F_EVENT_ID, DT_F_SEQ, DT_F_RUN_ID, DT_F_TRUNCATED, NULL,
};

static const struct dt_event_info event_table[_DT_EVENT_MAX] = {
        [DT_EVENT_AGGREGATE_REPORT] = { "aggregate-report", DT_MSGID_AGGREGATE_REPORT, LOG_INFO,
                                        fields_aggregate_report },
        [DT_EVENT_AGGREGATE_RECORD] = { "aggregate-record", DT_MSGID_AGGREGATE_RECORD, LOG_INFO,
                                        fields_aggregate_record },
        [DT_EVENT_FAILURE_REPORT] = { "failure-report", DT_MSGID_FAILURE_REPORT, LOG_INFO,
                                      fields_failure_report },
        [DT_EVENT_ATTRIBUTION] = { "attribution", DT_MSGID_ATTRIBUTION, LOG_NOTICE,
                                   fields_attribution },
        [DT_EVENT_VOLUME_SPIKE] = { "volume-spike", DT_MSGID_VOLUME_SPIKE, LOG_WARNING,
                                    fields_volume },
        [DT_EVENT_VOLUME_NORMAL] = { "volume-normal", DT_MSGID_VOLUME_NORMAL, LOG_NOTICE,
                                     fields_volume },
        [DT_EVENT_FAILURE_SURGE] = { "failure-surge", DT_MSGID_FAILURE_SURGE, LOG_WARNING,
                                     fields_failure_surge },
        [DT_EVENT_INPUT_REJECTED] = { "input-rejected", DT_MSGID_INPUT_REJECTED, LOG_WARNING,
                                      fields_input_rejected },
        [DT_EVENT_AGENT_STATE] = { "agent-state", DT_MSGID_AGENT_STATE, LOG_INFO,
                                   fields_agent_state },
        [DT_EVENT_FAILURE_ROLLUP] = { "failure-rollup", DT_MSGID_FAILURE_ROLLUP, LOG_NOTICE,
                                      fields_failure_rollup },
        [DT_EVENT_AGENT_HEALTH] = { "agent-health", DT_MSGID_AGENT_HEALTH, LOG_INFO,
                                    fields_agent_health },
};

const struct dt_event_info *dt_event_info(enum dt_event ev) {
        if ((int) ev < 0 || ev >= _DT_EVENT_MAX)
                return NULL;
        return &event_table[ev];
}

const char *const *dt_event_common_fields(void) {
        return fields_common;
}

bool dt_field_name_valid(const char *name) {
        size_t i;

        if (!name || name[0] == '\0' || name[0] == '_' || (name[0] >= '0' && name[0] <= '9'))
                return false;
        for (i = 0; name[i] != '\0'; i++) {
                char c = name[i];

                if (i >= FIELD_NAME_MAX)
                        return false;
                if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
                        return false;
        }
        return true;
}

/* caller_name_ok - a valid journald name in our namespace, not one that emit sets itself */
static bool caller_name_ok(const char *name) {
        size_t i;

        if (!dt_field_name_valid(name) || strncmp(name, FIELD_PREFIX, strlen(FIELD_PREFIX)) != 0 ||
            name[strlen(FIELD_PREFIX)] == '\0')
                return false;
        for (i = 0; fields_common[i]; i++)
                if (strcmp(name, fields_common[i]) == 0)
                        return false;
        return true;
}

/* check_fields - names valid, in our namespace, not reserved, not repeated; at most the cap */
static int check_fields(const struct dt_field *f, size_t n) {
        size_t i, j;

        if (n > DT_EMIT_FIELDS_MAX)
                return -E2BIG;
        if (n > 0 && !f)
                return -EINVAL;
        for (i = 0; i < n; i++) {
                if (!caller_name_ok(f[i].name))
                        return -EINVAL;
                for (j = 0; j < i; j++)         /* n <= 64: quadratic is fine */
                        if (strcmp(f[i].name, f[j].name) == 0)
                                return -EINVAL;
        }
        return 0;
}

/* A hash input: "len:bytes" per string, gathered so that the digest is fed in big slices */
struct hash_in {
        GChecksum *cs;
        size_t n;
        guchar buf[4096];
};

static void hash_bytes(struct hash_in *h, const void *p, size_t l) {
        const guchar *b = p;
        size_t k;

        while (l > 0) {
                if (h->n == sizeof h->buf) {
                        g_checksum_update(h->cs, h->buf, (gssize) h->n);
                        h->n = 0;
                }
                k = MIN(l, sizeof h->buf - h->n);
                memcpy(h->buf + h->n, b, k);
                h->n += k;
                b += k;
                l -= k;
        }
}

/* hash_str - feed "len:bytes", so no two different lists hash the same stream */
static void hash_str(struct hash_in *h, const char *s) {
        char digits[24];
        size_t l = strlen(s), v = l, k = sizeof digits;

        digits[--k] = ':';
        do {
                digits[--k] = (char) ('0' + v % 10);
                v /= 10;
        } while (v > 0);
        hash_bytes(h, digits + k, sizeof digits - k);
        hash_bytes(h, s, l);
}

/* event_id - the first 32 hex digits of SHA-256 over name, seed and the raw fields given, less
 * INPUT_PATH: where the message file sits (new/ or cur/, a re-delivered copy's own name) is not
 * what the event says, so a copy processed again, after a store reset for instance, gives the
 * same id (HOSTILE.md F18) */
static int event_id(const char *name, const char *seed, const struct dt_field *f, size_t n,
                    char out[EVENT_ID_HEX + 1]) {
        struct hash_in h;
        const char *hex;
        size_t i;

        h.cs = g_checksum_new(G_CHECKSUM_SHA256);
        h.n = 0;
        if (!h.cs)
                return -EOPNOTSUPP;
        hash_str(&h, "dmarctrace-event-id-v1");
        hash_str(&h, name);
        hash_str(&h, seed ? seed : "");
        for (i = 0; i < n; i++) {
                if (!f[i].value || strcmp(f[i].name, DT_F_INPUT_PATH) == 0)
                        continue;
                hash_str(&h, f[i].name);
                hash_str(&h, f[i].value);
        }
        g_checksum_update(h.cs, h.buf, (gssize) h.n);
        hex = g_checksum_get_string(h.cs);
        if (!hex || strlen(hex) < EVENT_ID_HEX) {
                g_checksum_free(h.cs);
                return -EIO;
        }
        memcpy(out, hex, EVENT_ID_HEX);
        out[EVENT_ID_HEX] = '\0';
        g_checksum_free(h.cs);
        return 0;
}

/* event_done - free the values of a (partly) built event */
static void event_done(struct event *e) {
        size_t i;

        for (i = 0; i < e->n; i++)
                free(e->e[i].value);
        e->n = 0;
}

/* event_add - append name=clean(value), cut so that NAME=value fits field_bytes */
static int event_add(struct event *e, uint32_t field_bytes, const char *name, const char *value) {
        size_t nlen = strlen(name), max;
        bool cut = false;
        char *v, *nl;

        if (e->n >= ENTRIES_MAX)
                return -E2BIG;
        if (nlen + 2 > field_bytes)             /* cannot happen: names <= 64, field_bytes >= 128 */
                return -EINVAL;
        max = field_bytes - nlen - 1;           /* "NAME=" + value <= field_bytes */
        v = dt_sanitize_dup(value, strlen(value), max, &cut);
        if (!v)
                return -ENOMEM;
        /* The sanitiser turns CR and LF into spaces; keep the datagram's framing safe even if
         * it ever did not. */
        while ((nl = strchr(v, '\n')))
                *nl = ' ';
        e->e[e->n++] = (struct entry) { .name = name, .value = v, .len = strlen(v) };
        if (cut)
                e->truncated = true;
        return 0;
}

/* build_event - the full field list: fixed fields first, then the caller's, then TRUNCATED.
 * SEQ is the number this event gets if the sink takes it; the id hashes none of these. */
static int build_event(const struct dt_emitter *em, const struct dt_event_info *info,
                       int priority, const char *id, const char *message,
                       const struct dt_field *f, size_t n, struct event *e) {
        char prio[4], seq[24];
        size_t i;
        int r;

        (void) snprintf(prio, sizeof prio, "%d", priority);     /* 0..7: always fits */
        (void) snprintf(seq, sizeof seq, "%" PRIu64, counts.sent + 1);
        r = event_add(e, em->field_bytes, "MESSAGE", message);
        if (r >= 0)
                r = event_add(e, em->field_bytes, "PRIORITY", prio);
        if (r >= 0)
                r = event_add(e, em->field_bytes, "MESSAGE_ID", info->message_id);
        if (r >= 0)
                r = event_add(e, em->field_bytes, "SYSLOG_IDENTIFIER", "dmarctrace");
        if (r >= 0)
                r = event_add(e, em->field_bytes, "SYSLOG_FACILITY", "3");      /* LOG_DAEMON */
        if (r >= 0)
                r = event_add(e, em->field_bytes, DT_F_EVENT, info->name);
        if (r >= 0)
                r = event_add(e, em->field_bytes, DT_F_EVENT_ID, id);
        if (r >= 0)
                r = event_add(e, em->field_bytes, DT_F_SEQ, seq);
        if (r >= 0)
                r = event_add(e, em->field_bytes, DT_F_RUN_ID, run_id);
        for (i = 0; r >= 0 && i < n; i++)
                if (f[i].value)
                        r = event_add(e, em->field_bytes, f[i].name, f[i].value);
        if (r >= 0 && e->truncated)
                r = event_add(e, em->field_bytes, DT_F_TRUNCATED, "true");
        return r;
}

/* journal_disconnect - forget the cached connection; the next send connects again */
static void journal_disconnect(struct dt_emitter *em) {
        if (em->fd >= 0)
                (void) close(em->fd);
        em->fd = -1;
}

/* journal_connect - connect a datagram socket to the journal path, unless already connected */
static int journal_connect(struct dt_emitter *em) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        size_t plen = strlen(em->path);
        int fd, r;

        if (em->fd >= 0)
                return 0;
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        memcpy(sa.sun_path, em->path, plen);    /* fits: checked in dt_emitter_new() */
        if (connect(fd, (const struct sockaddr *) &sa,
                    (socklen_t) (offsetof(struct sockaddr_un, sun_path) + plen + 1)) < 0) {
                r = -errno;
                (void) close(fd);
                return r;
        }
        em->fd = fd;
        return 0;
}

/* wait_room - wait until fd takes more (POLLOUT, or an error to find by writing) or deadline
 * (CLOCK_MONOTONIC usec; UINT64_MAX: none) passes: 0, -EAGAIN at the deadline, -ECANCELED when
 * cancellable and the stop signal ends the wait, or -errno. A wait that times out while the
 * process stops means the sink is stalled: no later send waits (waits_abandoned). */
static int wait_room(int fd, uint64_t deadline, bool cancellable) {
        struct pollfd pfd = { .fd = fd, .events = POLLOUT };
        uint64_t now, wait;
        int k;

        for (;;) {
                now = dt_mono_usec();
                wait = now >= deadline ? 0 :
                       deadline == UINT64_MAX ? UINT64_MAX : (deadline - now) / 1000 + 1;
                k = poll(&pfd, 1, wait > INT_MAX ? -1 : (int) wait);
                if (k > 0)
                        return 0;
                if (k < 0 && errno != EINTR)
                        return -errno;
                if (k < 0 && cancellable && cancel_waits)
                        return -ECANCELED;
                if (k == 0 && dt_mono_usec() >= deadline) {
                        if (cancel_waits)
                                waits_abandoned = true;
                        return -EAGAIN;
                }
        }
}

/* send_deadline - when a send that starts now must give up: after the timeout, or at once once
 * the process is stopping and a send has already timed out */
static uint64_t send_deadline(const struct dt_emitter *em) {
        uint64_t now = dt_mono_usec();

        if (waits_abandoned)
                return now;
        return UINT64_MAX - now < em->timeout_usec ? UINT64_MAX : now + em->timeout_usec;
}

/* send_wait - sendmsg without blocking; while journald's queue is full, wait up to the timeout */
static int send_wait(struct dt_emitter *em, const struct msghdr *mh) {
        uint64_t deadline = send_deadline(em);
        bool stopping_before = cancel_waits;
        int r;

        for (;;) {
                if (sendmsg(em->fd, mh, MSG_NOSIGNAL | MSG_DONTWAIT) >= 0)
                        return 0;
                if (errno == EINTR)
                        continue;
                if (errno != EAGAIN)
                        return -errno;
                r = wait_room(em->fd, deadline, !stopping_before);
                if (r < 0)
                        return r;
        }
}

/* send_memfd - the event in a sealed memfd passed with SCM_RIGHTS, as journald accepts it */
static int send_memfd(struct dt_emitter *em, const char *buf, size_t len) {
        union {
                struct cmsghdr cmsghdr;
                char buf[CMSG_SPACE(sizeof(int))];
        } control = { 0 };
        struct msghdr mh = { .msg_control = &control, .msg_controllen = sizeof control };
        struct cmsghdr *cmsg;
        size_t done = 0;
        ssize_t k;
        int fd, r;

        fd = memfd_create("dmarctrace-event", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (fd < 0)
                return -errno;
        while (done < len) {
                k = write(fd, buf + done, len - done);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0) {
                        r = k < 0 ? -errno : -EIO;
                        goto out;
                }
                done += (size_t) k;
        }
        if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0) {
                r = -errno;
                goto out;
        }
        cmsg = CMSG_FIRSTHDR(&mh);
        cmsg->cmsg_level = SOL_SOCKET;
        cmsg->cmsg_type = SCM_RIGHTS;
        cmsg->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
        r = send_wait(em, &mh);
out:
        (void) close(fd);
        return r;
}

/* send_libsystemd - last resort for a big event when memfds are unavailable: libsystemd's own
 * path (a file under /dev/shm). Only for journald's real socket, the one it sends to. */
static int send_libsystemd(const char *buf, size_t len) {
        struct iovec iov[ENTRIES_MAX];
        const char *p = buf, *end = buf + len, *nl;
        int n = 0;

        while (p < end && n < (int) ELEMENTSOF(iov)) {
                nl = memchr(p, '\n', (size_t) (end - p));
                if (!nl)
                        nl = end;
                iov[n++] = (struct iovec) { .iov_base = (void *) p, .iov_len = (size_t) (nl - p) };
                p = nl + 1;
        }
        return sd_journal_sendv(iov, n);
}

/* send_datagram - one datagram; a too-big one goes in a memfd */
static int send_datagram(struct dt_emitter *em, const char *buf, size_t len) {
        struct iovec iov = { .iov_base = (void *) buf, .iov_len = len };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
        int r;

        r = send_wait(em, &mh);
        if (r != -EMSGSIZE && r != -ENOBUFS)
                return r;
        r = send_memfd(em, buf, len);
        if ((r == -ENOSYS || r == -EPERM || r == -EINVAL) && em->default_path)
                r = send_libsystemd(buf, len);
        return r;
}

/* render_lines - "NAME=value\n" for every entry, in one buffer */
static int render_lines(const struct event *e, char **out, size_t *out_len) {
        size_t i, total = 0, at = 0, nlen;
        char *buf;

        for (i = 0; i < e->n; i++)
                total += strlen(e->e[i].name) + e->e[i].len + 2;
        buf = malloc(total + 1);
        if (!buf)
                return -ENOMEM;
        for (i = 0; i < e->n; i++) {
                nlen = strlen(e->e[i].name);
                memcpy(buf + at, e->e[i].name, nlen);
                at += nlen;
                buf[at++] = '=';
                memcpy(buf + at, e->e[i].value, e->e[i].len);
                at += e->e[i].len;
                buf[at++] = '\n';
        }
        buf[at] = '\0';
        *out = buf;
        *out_len = at;
        return 0;
}

/* is_peer_gone - errors after which a fresh connect may succeed (journald restarted) */
static bool is_peer_gone(int r) {
        return r == -ECONNREFUSED || r == -ECONNRESET || r == -ENOTCONN || r == -EPIPE ||
               r == -EDESTADDRREQ || r == -ENOENT;
}

/* journal_send - send, and on a dead connection reconnect and try once more */
static int journal_send(struct dt_emitter *em, const struct event *e) {
        _cleanup_free_ char *buf = NULL;
        size_t len;
        int r, attempt;

        r = render_lines(e, &buf, &len);
        if (r < 0)
                return r;
        for (attempt = 0; attempt < 2; attempt++) {
                r = journal_connect(em);
                if (r < 0)
                        return r;
                r = send_datagram(em, buf, len);
                if (r >= 0)
                        return 0;
                if (!is_peer_gone(r))
                        return r;
                journal_disconnect(em);
                if (attempt == 0)
                        counts.resent++;
        }
        return r;
}

/* stream_write - the line and its newline through stdio: for a stream with no descriptor (a
 * memory stream); -errno when it fails */
static int stream_write(struct dt_emitter *em, const char *buf, size_t len) {
        errno = 0;
        if (fwrite(buf, 1, len, em->out) == len && putc('\n', em->out) != EOF &&
            fflush(em->out) != EOF)
                return 0;
        clearerr(em->out);
        return errno > 0 ? -errno : -EIO;
}

/* fd_write - the line and its newline straight to the stream's descriptor, whole: a signal or
 * a non-blocking descriptor never leaves half a line (a short write goes on from where it
 * stopped). Before the first byte, the stop signal ends a blocked write with -ECANCELED
 * (nothing of the event went out); once stopping, the wait for room is bounded like a journal
 * send's, and a line longer than the room polled for can still wait on its reader. The one
 * way to cut a line: that reader stops reading halfway through it while we stop (-EIO). */
static int fd_write(struct dt_emitter *em, int fd, const char *buf, size_t len) {
        struct iovec iov[2] = { { (void *) buf, len }, { (void *) "\n", 1 } }, *v = iov;
        bool stopping_before = cancel_waits;
        uint64_t deadline = UINT64_MAX;
        size_t done = 0, total = len + 1;
        ssize_t k;
        int r, nv = 2;

        if (fflush(em->out) == EOF) {   /* what others printed on the stream goes first */
                clearerr(em->out);
                return errno > 0 ? -errno : -EIO;
        }
        while (done < total) {
                if (cancel_waits) {     /* stopping: wait for room no longer than a send may */
                        if (deadline == UINT64_MAX)
                                deadline = send_deadline(em);
                        r = wait_room(fd, deadline, !stopping_before && done == 0);
                        if (r < 0)
                                return done > 0 ? -EIO : (r == -EAGAIN ? -ECANCELED : r);
                }
                k = writev(fd, v, nv);
                if (k < 0 && errno == EINTR) {
                        if (cancel_waits && !stopping_before && done == 0)
                                return -ECANCELED;
                        continue;
                }
                if (k < 0 && errno == EAGAIN) {         /* a non-blocking descriptor */
                        if (!cancel_waits && (r = wait_room(fd, UINT64_MAX, true)) < 0 && done == 0)
                                return r;
                        continue;
                }
                if (k <= 0)
                        return k < 0 ? -errno : -EIO;
                done += (size_t) k;
                while (nv > 0 && (size_t) k >= v->iov_len) {
                        k -= (ssize_t) v->iov_len;
                        v++;
                        nv--;
                }
                if (nv > 0) {
                        v->iov_base = (char *) v->iov_base + k;
                        v->iov_len -= (size_t) k;
                }
        }
        return 0;
}

/* json_send - one JSON object per line; -errno when the stream fails. The values are
 * clean already (event_add), so they are only escaped: the line is what json-c prints for the
 * same object, written without building one. */
static int json_send(struct dt_emitter *em, const struct event *e) {
        size_t i;
        int r, fd;

        dt_jw_reset(&em->line);
        dt_jw_open(&em->line, '{');
        for (i = 0; i < e->n; i++) {
                dt_jw_key(&em->line, e->e[i].name);
                dt_jw_string_raw(&em->line, e->e[i].value, e->e[i].len);
        }
        dt_jw_close(&em->line, '}');
        if (dt_jw_failed(&em->line))
                return -ENOMEM;
        fd = fileno(em->out);
        r = fd >= 0 ? fd_write(em, fd, em->line.buf, em->line.len) :
                      stream_write(em, em->line.buf, em->line.len);
        if (r == -EPIPE)
                em->out_broken = true;
        return r;
}

int dt_emit_full(struct dt_emitter *em, enum dt_event ev, int priority, const char *event_id_seed,
                 const char *message, const struct dt_field *fields, size_t n) {
        _cleanup_(event_done) struct event e = { .n = 0 };
        const struct dt_event_info *info = dt_event_info(ev);
        char id[EVENT_ID_HEX + 1];
        int r;

        if (!em || !info || !message || priority < -1 || priority > LOG_DEBUG)
                return -EINVAL;
        if (priority < 0)
                priority = info->priority;
        if (!run_id[0]) {
                sd_id128_t rid;

                r = sd_id128_randomize(&rid);
                if (r < 0)
                        return r;
                (void) sd_id128_to_string(rid, run_id);
        }
        r = check_fields(fields, n);
        if (r < 0)
                return r;
        r = event_id(info->name, event_id_seed, fields, n, id);
        if (r < 0)
                return r;
        r = build_event(em, info, priority, id, message, fields, n, &e);
        if (r < 0)
                return r;
        r = em->kind == DT_SINK_JSON ? json_send(em, &e) : journal_send(em, &e);
        em->send_error = r < 0 ? r : 0;
        if (r < 0) {
                counts.failed++;
                return r;
        }
        counts.sent++;          /* the SEQ this event carried */
        counts.by_event[ev]++;
        return 0;
}

void dt_emit_cancel_waits(void) {
        cancel_waits = 1;
}

const struct dt_emit_counts *dt_emit_counts(void) {
        return &counts;
}

const char *dt_emit_run_id(void) {
        return run_id;
}

int dt_emit(struct dt_emitter *em, enum dt_event ev, const char *event_id_seed,
            const char *message, const struct dt_field *fields, size_t n) {
        return dt_emit_full(em, ev, -1, event_id_seed, message, fields, n);
}

bool dt_emitter_available(struct dt_emitter *em) {
        if (!em)
                return false;
        if (em->kind == DT_SINK_JSON)
                return !em->out_broken;
        return journal_connect(em) >= 0;
}

int dt_emitter_new(enum dt_output_kind kind, FILE *json_out, struct dt_emitter **out) {
        struct dt_emitter *em;
        const char *path = NULL;

        if (!out || (kind != DT_SINK_JOURNAL && kind != DT_SINK_JSON))
                return -EINVAL;
        if (kind == DT_SINK_JOURNAL) {
                path = getenv(DT_JOURNAL_SOCKET_ENV);
                if (!path || path[0] == '\0')
                        path = DT_JOURNAL_SOCKET_DEFAULT;
                if (strlen(path) >= sizeof em->path)
                        return -ENAMETOOLONG;
        }
        em = calloc(1, sizeof *em);
        if (!em)
                return -ENOMEM;
        em->kind = kind;
        em->fd = -1;
        em->field_bytes = dt_limits_default.field_bytes;
        em->timeout_usec = DT_EMIT_TIMEOUT_DEFAULT;
        if (kind == DT_SINK_JSON) {
                em->out = json_out ? json_out : stdout;
        } else {
                memcpy(em->path, path, strlen(path) + 1);
                em->default_path = strcmp(path, DT_JOURNAL_SOCKET_DEFAULT) == 0;
        }
        *out = em;
        return 0;
}

int dt_emitter_auto(FILE *json_out, struct dt_emitter **out) {
        struct dt_emitter *em = NULL;
        int r;

        if (!out)
                return -EINVAL;
        r = dt_emitter_new(DT_SINK_JOURNAL, NULL, &em);
        if (r >= 0 && dt_emitter_available(em)) {
                *out = em;
                return 0;
        }
        em = dt_emitter_free(em);
        return dt_emitter_new(DT_SINK_JSON, json_out, out);
}

int dt_emitter_set_limits(struct dt_emitter *em, const struct dt_limits *lim) {
        if (!em || !lim || lim->field_bytes < DT_EMIT_FIELD_BYTES_MIN ||
            lim->field_bytes > DT_EMIT_FIELD_BYTES_MAX)
                return -EINVAL;
        em->field_bytes = lim->field_bytes;
        return 0;
}

void dt_emitter_set_timeout(struct dt_emitter *em, uint64_t usec) {
        if (em)
                em->timeout_usec = usec;
}

enum dt_output_kind dt_emitter_kind(const struct dt_emitter *em) {
        return em ? em->kind : _DT_SINK_INVALID;
}

int dt_emitter_send_error(const struct dt_emitter *em) {
        return em ? em->send_error : 0;
}

struct dt_emitter *dt_emitter_free(struct dt_emitter *em) {
        if (!em)
                return NULL;
        journal_disconnect(em);
        dt_jw_done(&em->line);
        free(em);
        return NULL;
}
