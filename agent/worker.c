/* worker.c - parse untrusted messages in a forked, limited, persistent worker; replay results
 *
 * The parent forks a worker when it first needs one. The child drops what it does not need
 * (every fd but its end of the socket, with stdin/stdout/stderr on /dev/null; signal handlers;
 * the right to gain privileges or dump core; most of its address space, CPU time, file size
 * and fd budget), then serves one request after another until its socket closes:
 *
 *      request = struct req (message and source lengths, the limits), source, message bytes
 *      record  = u32 type, u32 payload length, payload
 *      payload = a fixed sequence per type of u8 (bool, 0 or 1), u32, u64/i64 (host order: both
 *                ends are the same program) and strings (u32 length, 0xffffffff for NULL, bytes)
 *      reply   = (AGG_BEGIN RECORD* AGG_END | FAILURE)? STATUS
 *
 * and, once confined and before it reads its first request, the worker writes READY: a worker
 * that exits before that (out of fds, say, with the parent near RLIMIT_NOFILE) was never
 * started, which is a failure of the run (DT_WORKER_R_NOT_STARTED), not one of the message.
 *
 * The message travels over an AF_UNIX stream socketpair, length-prefixed, not in a memfd or a
 * shared mapping: one copy of at most limits.message_bytes costs little next to its parse (the
 * fork it replaces cost far more), the child parses memory that is its own (nothing the parent
 * does later can change the bytes under the parser; no fd to pass, seal and map per message),
 * and both ends check the length against the limit. A socket rather than two pipes because
 * send(MSG_NOSIGNAL) turns a dead worker into EPIPE instead of a SIGPIPE in the caller, without
 * touching the caller's signal dispositions, and one fd serves both ways in the child. (The
 * parent reads with read(), so fds a compromised worker might send are dropped by the kernel.)
 *
 * RLIMIT_CPU counts a process' whole life: before each message the child sets its soft limit
 * to the CPU it has used plus cpu_seconds; the hard limit, three times cpu_seconds, bounds the
 * worker's whole life, and the worker asks to be retired before a message could reach it.
 *
 * The parent sends the request and polls the socket against a CLOCK_MONOTONIC budget, reads
 * each record whole (its length checked against a per-type cap before any allocation),
 * decodes it field by field with bounds, caps, NUL and UTF-8 checks, rebuilds the report's
 * structs (struct dt_record, struct dt_failure with its struct dt_headers) and hands them to
 * the sink as they arrive, so a report of a million records costs the parent one record's
 * memory. The STATUS ends the message; the worker then waits for the next. A worker that dies
 * (EOF before the status: its exit status decides between WORKER_CRASH and TIMEOUT), passes
 * the deadline, writes anything malformed, or is cut short by the sink is killed and reaped at
 * once. The parent retires a worker (closes its socket, the worker exits, the parent reaps
 * it) after max_messages, after a message it could not parse (error paths are where parsers
 * leak and where hostile input goes), and when the worker asks in its STATUS: the worker
 * checks itself after each message (getrusage: no /proc read per message in the parent) and
 * asks when its peak resident size grew past max_rss_growth since its first message, or when
 * its hard CPU limit is within one message's budget. A worker that would not ask is still
 * bound by the limits the kernel holds. A worker that is to be retired after a message (a
 * failed parse, its own request) exits right after that STATUS, without reading further.
 * Before a message the socket must be quiet: a worker that died or wrote past its status in
 * between is replaced without charging the message.
 *
 * One message may be sent ahead (dt_worker_parse_ahead): the parent sends it while it reads
 * the reply before it (non-blocking, as the socket takes it, so neither side can block the
 * other), and the worker parses it while the parent's sink stores the first; what the parent
 * reads past the first STATUS is kept as the start of the next reply. A worker that retires
 * after the first (on its own, as above, or at max_messages: then nothing is sent ahead) or is
 * killed never parses it: it is marked unsent and goes to the next worker, uncharged. Whatever
 * happens while the worker holds it (a crash, a hang) is charged to it, in its own turn.
 *
 * SECURITY: the child runs gmime, libxml2, zlib and libzip on mail from anyone and may be
 * compromised; the parent trusts nothing in the stream it has not checked. Every string is at
 * most DT_WORKER_STRING_MAX bytes (or xml_text_bytes) without NUL; aggregate strings must be
 * valid UTF-8, source IPs must parse as addresses; failure-report strings (documented as
 * sanitised) go through dt_sanitize again; every count is capped, every enum and index range-
 * checked, the record order follows the state machine above, a record's bytes must be used
 * exactly, and the status' reason must be a reason code. Anything else kills the worker:
 * "malformed worker stream". A child that stops writing is killed at the deadline. A worker
 * that was compromised could lie about the messages after the one that took it over, within
 * these checks, until it is retired: the retirement rules above bound that, as they bound
 * leaks and fragmentation. No zombie is left: every path ends in waitpid(). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <zlib.h>

#include "agent/worker.h"
#include "report/sanitize.h"

enum {
        W_AGG_BEGIN = 1,
        W_RECORD,
        W_AGG_END,
        W_FAILURE,
        W_STATUS,
        W_READY,                        /* once, before the first request: confined and serving */
        _W_MAX,
};

#define W_HDR 8u
#define W_NULL UINT32_MAX
#define W_FLUSH_AT (64u << 10)                  /* the child writes in chunks of about this */
#define W_META_MAX (32u << 20)                  /* payload caps per record type */
#define W_RECORD_MAX (48u << 20)                /* 64 reasons/auth results of long strings */
#define W_FAILURE_MAX (64u << 20)
#define W_STATUS_MAX (4u << 10)
#define W_LIST_MAX 4096u                        /* reasons, auth results per record */
#define W_EXT_MAX 4096u                         /* extension names per report */
#define W_WARN_MAX 100000u                      /* warnings per report */
#define W_RCPT_MAX 100000u                      /* Original-Rcpt-To values */
#define W_IO_CHUNK (64u << 10)                  /* the parent reads at least this much at once */
#define W_SOURCE_MAX 4096u                      /* bytes of a source name the worker gets */
#define W_CPU_LIVES 3u                          /* lifetime CPU: this many messages' worth */
#define W_TEST_ENV "DT_WORKER_TEST"
#define W_TEST_MATCH_ENV "DT_WORKER_TEST_MATCH"

#define STR_AT(s, off) (*(char **) ((char *) (s) + (off)))

/* the string members of struct dt_failure, in stream order */
static const size_t failure_strs[] = {
        offsetof(struct dt_failure, feedback_type),
        offsetof(struct dt_failure, user_agent),
        offsetof(struct dt_failure, version),
        offsetof(struct dt_failure, auth_failure),
        offsetof(struct dt_failure, original_envelope_id),
        offsetof(struct dt_failure, original_mail_from),
        offsetof(struct dt_failure, arrival_date_text),
        offsetof(struct dt_failure, reporting_mta),
        offsetof(struct dt_failure, source_ip),
        offsetof(struct dt_failure, reported_domain),
        offsetof(struct dt_failure, reported_uri),
        offsetof(struct dt_failure, authentication_results),
        offsetof(struct dt_failure, delivery_result),
        offsetof(struct dt_failure, identity_alignment),
        offsetof(struct dt_failure, spf_dns),
        offsetof(struct dt_failure, dkim_domain),
        offsetof(struct dt_failure, dkim_identity),
        offsetof(struct dt_failure, dkim_selector),
};

/* the string members of struct dt_headers, in stream order */
static const size_t headers_strs[] = {
        offsetof(struct dt_headers, message_id),
        offsetof(struct dt_headers, from),
        offsetof(struct dt_headers, to),
        offsetof(struct dt_headers, cc),
        offsetof(struct dt_headers, reply_to),
        offsetof(struct dt_headers, return_path),
        offsetof(struct dt_headers, subject),
        offsetof(struct dt_headers, date_text),
        offsetof(struct dt_headers, x_mailer),
        offsetof(struct dt_headers, user_agent),
        offsetof(struct dt_headers, dkim_domain),
        offsetof(struct dt_headers, dkim_selector),
        offsetof(struct dt_headers, authentication_results),
        offsetof(struct dt_headers, x_php_originating_script),
        offsetof(struct dt_headers, php_script),
        offsetof(struct dt_headers, x_php_script),
        offsetof(struct dt_headers, php_script_host),
        offsetof(struct dt_headers, php_script_path),
        offsetof(struct dt_headers, php_script_ip),
        offsetof(struct dt_headers, x_source),
        offsetof(struct dt_headers, x_source_args),
        offsetof(struct dt_headers, x_source_dir),
        offsetof(struct dt_headers, antiabuse.primary_hostname),
        offsetof(struct dt_headers, antiabuse.original_domain),
        offsetof(struct dt_headers, antiabuse.sender_address_domain),
        offsetof(struct dt_headers, sender_via),
        offsetof(struct dt_headers, sender_via_host),
        offsetof(struct dt_headers, sender_via_user),
        offsetof(struct dt_headers, authenticated_sender),
        offsetof(struct dt_headers, auth_warning),
        offsetof(struct dt_headers, auth_warning_host),
        offsetof(struct dt_headers, auth_warning_user),
        offsetof(struct dt_headers, local.user),
        offsetof(struct dt_headers, local.queue_id),
        offsetof(struct dt_headers, local.host),
};

/* the string members of struct dt_received, in stream order */
static const size_t hop_strs[] = {
        offsetof(struct dt_received, from_helo),
        offsetof(struct dt_received, from_host),
        offsetof(struct dt_received, from_ip),
        offsetof(struct dt_received, by_host),
        offsetof(struct dt_received, with),
        offsetof(struct dt_received, id),
        offsetof(struct dt_received, for_addr),
};

/* the reason codes a status may carry (report/error.h); the stream names one by its text */
static const char *const known_reasons[] = {
        DT_R_EMPTY, DT_R_SIZE_LIMIT, DT_R_NOT_REGULAR, DT_R_IO, DT_R_HEADER_LIMIT,
        DT_R_HEADER_COUNT_LIMIT, DT_R_MIME_DEPTH, DT_R_MIME_MALFORMED, DT_R_PART_COUNT_LIMIT,
        DT_R_NOT_A_REPORT, DT_R_UNKNOWN_FORMAT, DT_R_DECOMPRESSED_SIZE, DT_R_DECOMPRESSED_RATIO,
        DT_R_TRUNCATED, DT_R_BAD_CRC, DT_R_GZIP_MALFORMED, DT_R_ZIP_UNSUPPORTED,
        DT_R_ZIP_AMBIGUOUS, DT_R_ZIP_ENTRY_LIMIT, DT_R_ZIP_MALFORMED, DT_R_NESTED_ARCHIVE,
        DT_R_XML_DTD_REJECTED, DT_R_XML_DEPTH_LIMIT, DT_R_XML_MALFORMED, DT_R_XML_NOT_DMARC,
        DT_R_AGG_IDENTITY, DT_R_RECORD_LIMIT, DT_R_FIELD_LIMIT, DT_R_FAILURE_MALFORMED,
        DT_R_NOMEM, DT_R_WORKER_CRASH, DT_R_TIMEOUT,
};

/* ================================ the child: writing =================================== */

struct wout {
        int fd;
        unsigned char *buf;
        size_t len, cap, rec;           /* rec: where the open record's header starts */
};

/* w_flush - write out what is buffered; the parent gone or stuck means there is nobody to
 * tell, so the worker just ends */
static void w_flush(struct wout *w) {
        size_t off = 0;

        while (off < w->len) {
                ssize_t n = write(w->fd, w->buf + off, w->len - off);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        _exit(3);
                off += (size_t) n;
        }
        w->len = 0;
}

/* w_put - append n bytes, growing the buffer (a record is written whole before it is sent) */
static void w_put(struct wout *w, const void *p, size_t n) {
        if (n > w->cap - w->len) {
                size_t cap = w->cap ? w->cap : W_FLUSH_AT * 2;
                unsigned char *b;

                while (cap - w->len < n) {
                        if (cap > SIZE_MAX / 2)
                                _exit(5);
                        cap *= 2;
                }
                b = realloc(w->buf, cap);
                if (!b)
                        _exit(5);       /* the parent reports an abnormal exit */
                w->buf = b;
                w->cap = cap;
        }
        if (n)
                memcpy(w->buf + w->len, p, n);
        w->len += n;
}

static void w_u8(struct wout *w, uint8_t v) { w_put(w, &v, 1); }
static void w_u32(struct wout *w, uint32_t v) { w_put(w, &v, 4); }
static void w_u64(struct wout *w, uint64_t v) { w_put(w, &v, 8); }
static void w_i64(struct wout *w, int64_t v) { w_put(w, &v, 8); }

/* w_str - a string, or the NULL marker; a string too long for the stream is cut (the parent
 * would refuse it whole) */
static void w_str(struct wout *w, const char *s) {
        size_t n;

        if (!s) {
                w_u32(w, W_NULL);
                return;
        }
        n = strlen(s);
        if (n > UINT32_MAX - 1)
                n = UINT32_MAX - 1;
        w_u32(w, (uint32_t) n);
        w_put(w, s, n);
}

/* w_begin - open a record of type t */
static void w_begin(struct wout *w, uint32_t t) {
        w->rec = w->len;
        w_u32(w, t);
        w_u32(w, 0);
}

/* w_end - close the open record (its length patched in), flushing when enough is buffered */
static void w_end(struct wout *w) {
        size_t n = w->len - w->rec - W_HDR;
        uint32_t n32 = n > UINT32_MAX ? UINT32_MAX : (uint32_t) n;

        memcpy(w->buf + w->rec + 4, &n32, 4);
        if (w->len >= W_FLUSH_AT)
                w_flush(w);
}

/* w_meta - an aggregate report's metadata, as AGG_BEGIN or AGG_END */
static void w_meta(struct wout *w, uint32_t type, const struct dt_parse_ctx *ctx,
                   const struct dt_aggregate *a) {
        const struct dt_policy *p = dt_aggregate_policy(a);
        size_t i, n;

        w_begin(w, type);
        w_str(w, dt_aggregate_org(a));
        w_str(w, dt_aggregate_email(a));
        w_str(w, dt_aggregate_extra_contact(a));
        w_str(w, dt_aggregate_report_id(a));
        w_str(w, dt_aggregate_version(a));
        w_str(w, dt_aggregate_generator(a));
        w_i64(w, dt_aggregate_begin(a));
        w_i64(w, dt_aggregate_end(a));
        w_u8(w, p != NULL);
        w_str(w, p ? p->domain : NULL);
        w_str(w, p ? p->adkim : NULL);
        w_str(w, p ? p->aspf : NULL);
        w_str(w, p ? p->p : NULL);
        w_str(w, p ? p->sp : NULL);
        w_str(w, p ? p->np : NULL);
        w_i64(w, p ? p->pct : -1);
        w_str(w, p ? p->fo : NULL);
        w_str(w, p ? p->testing : NULL);
        w_str(w, p ? p->discovery_method : NULL);
        w_u64(w, dt_aggregate_record_count(a));
        w_u64(w, dt_aggregate_message_count(a));
        n = dt_aggregate_n_extensions(a);
        w_u32(w, (uint32_t) n);
        for (i = 0; i < n; i++)
                w_str(w, dt_aggregate_extension(a, i));
        n = dt_aggregate_n_warnings(a);
        w_u32(w, (uint32_t) n);
        for (i = 0; i < n; i++) {
                const struct dt_warning *wr = dt_aggregate_warning(a, i);
                w_str(w, wr->reason);
                w_i64(w, wr->offset);
        }
        w_str(w, ctx->input ? dt_input_describe(ctx->input) : NULL);
        w_str(w, ctx->input ? dt_input_entry_name(ctx->input) : NULL);
        w_end(w);
}

/* w_record - one aggregate record */
static void w_record(struct wout *w, const struct dt_record *r) {
        size_t i;

        w_begin(w, W_RECORD);
        w_str(w, r->source_ip);
        w_u64(w, r->count);
        w_str(w, r->disposition);
        w_str(w, r->dkim);
        w_str(w, r->spf);
        w_u32(w, (uint32_t) r->n_reasons);
        for (i = 0; i < r->n_reasons; i++) {
                w_str(w, r->reasons[i].type);
                w_str(w, r->reasons[i].comment);
        }
        w_str(w, r->header_from);
        w_str(w, r->envelope_from);
        w_str(w, r->envelope_to);
        w_u32(w, (uint32_t) r->n_auth_dkim);
        for (i = 0; i < r->n_auth_dkim; i++) {
                w_str(w, r->auth_dkim[i].domain);
                w_str(w, r->auth_dkim[i].selector);
                w_str(w, r->auth_dkim[i].result);
                w_str(w, r->auth_dkim[i].human_result);
        }
        w_u32(w, (uint32_t) r->n_auth_spf);
        for (i = 0; i < r->n_auth_spf; i++) {
                w_str(w, r->auth_spf[i].domain);
                w_str(w, r->auth_spf[i].scope);
                w_str(w, r->auth_spf[i].result);
                w_str(w, r->auth_spf[i].human_result);
        }
        w_end(w);
}

/* w_headers - the original message's headers of a failure report */
static void w_headers(struct wout *w, const struct dt_headers *h) {
        size_t i, k;

        for (i = 0; i < ELEMENTSOF(headers_strs); i++)
                w_str(w, STR_AT(h, headers_strs[i]));
        w_u64(w, h->subject_bytes);
        w_i64(w, h->date);
        w_u8(w, h->has_date);
        w_i64(w, h->php_uid);
        w_i64(w, h->antiabuse.originator_uid);
        w_i64(w, h->antiabuse.originator_gid);
        w_i64(w, h->antiabuse.caller_uid);
        w_i64(w, h->antiabuse.caller_gid);
        w_u8(w, h->antiabuse.present);
        w_u32(w, (uint32_t) h->n_received);
        for (i = 0; i < h->n_received; i++) {
                for (k = 0; k < ELEMENTSOF(hop_strs); k++)
                        w_str(w, STR_AT(&h->received[i], hop_strs[k]));
                w_i64(w, h->received[i].date);
                w_u8(w, h->received[i].has_date);
        }
        w_u64(w, h->received_dropped);
        w_u32(w, (uint32_t) h->local.mta);
        w_i64(w, h->local.uid);
        w_u64(w, h->local.hop);
        w_u64(w, h->n_fields);
        w_u64(w, h->end);
        w_u32(w, h->flags);
}

/* w_failure - a failure report and its dedupe key */
static void w_failure(struct wout *w, const struct dt_failure *f, const char *key) {
        size_t i;

        w_begin(w, W_FAILURE);
        for (i = 0; i < ELEMENTSOF(failure_strs); i++)
                w_str(w, STR_AT(f, failure_strs[i]));
        w_u8(w, f->dmarc);
        w_i64(w, f->arrival_date);
        w_u8(w, f->has_arrival_date);
        w_i64(w, f->incidents);
        w_u32(w, (uint32_t) f->n_original_rcpt_to);
        for (i = 0; i < f->n_original_rcpt_to; i++)
                w_str(w, f->original_rcpt_to[i]);
        w_u32(w, (uint32_t) f->n_feedback);
        for (i = 0; i < f->n_feedback; i++) {
                w_str(w, f->feedback[i].name);
                w_str(w, f->feedback[i].value);
        }
        w_u32(w, (uint32_t) f->origin);
        w_u32(w, f->flags);
        w_u8(w, f->original != NULL);
        if (f->original)
                w_headers(w, f->original);
        w_str(w, key);
        w_end(w);
}

/* w_status - the parse's result, last in the reply; retire: the worker asks to be replaced */
static void w_status(struct wout *w, int r, const struct dt_error *e, bool retire) {
        w_begin(w, W_STATUS);
        w_i64(w, r);
        w_i64(w, e->code);
        w_str(w, e->reason);
        w_str(w, e->message);
        w_i64(w, e->offset);
        w_i64(w, e->line);
        w_u8(w, retire);
        w_end(w);
}

/* child_aggregate - the child's sink: the report's metadata, every record, the final metadata */
static int child_aggregate(void *userdata, const struct dt_parse_ctx *ctx, struct dt_aggregate *agg,
                           struct dt_error *err) {
        struct wout *w = userdata;
        const struct dt_record *rec;
        int r;

        w_meta(w, W_AGG_BEGIN, ctx, agg);
        while ((r = dt_aggregate_next(agg, &rec, err)) > 0)
                w_record(w, rec);
        if (r < 0)
                return r;
        w_meta(w, W_AGG_END, ctx, agg);
        return 0;
}

/* child_failure - the child's sink for a failure report: computes its dedupe key here, where
 * the message's parts are */
static int child_failure(void *userdata, const struct dt_parse_ctx *ctx, const struct dt_failure *f,
                         struct dt_error *err) {
        struct wout *w = userdata;
        _cleanup_free_ char *key = dt_worker_failure_key(ctx->message, f);

        if (!key)
                return dt_error_set(err, -ENOMEM, DT_R_NOMEM, -1, "out of memory");
        w_failure(w, f, key);
        return 0;
}

/* lower_limit - set resource res to at most v (never above the current hard limit, so it
 * cannot fail for lack of privilege) */
static void lower_limit(int res, uint64_t v) {
        struct rlimit rl;

        if (getrlimit(res, &rl) < 0)
                _exit(6);
        if (rl.rlim_max != RLIM_INFINITY && v > rl.rlim_max)
                v = rl.rlim_max;
        rl.rlim_cur = rl.rlim_max = (rlim_t) v;
        if (setrlimit(res, &rl) < 0 && res != RLIMIT_NOFILE)   /* valgrind keeps fds of its own */
                _exit(6);
}

/* usage - this process' CPU time in whole seconds, rounded up (user and system time summed
 * first: RLIMIT_CPU counts their sum), and its peak resident size in bytes; false on failure */
static bool usage(uint64_t *cpu, uint64_t *maxrss) {
        struct rusage ru;
        uint64_t us;

        if (getrusage(RUSAGE_SELF, &ru) < 0)
                return false;
        us = ((uint64_t) ru.ru_utime.tv_sec + (uint64_t) ru.ru_stime.tv_sec) * 1000000u +
             (uint64_t) ru.ru_utime.tv_usec + (uint64_t) ru.ru_stime.tv_usec;
        *cpu = us / 1000000u + 1;
        *maxrss = (uint64_t) ru.ru_maxrss * 1024u;
        return true;
}

/* worn_out - after a message: its CPU time is within one message's budget of the hard limit,
 * or its peak resident size grew by more than growth since its first message (*rss_base) */
static bool worn_out(uint32_t cpu, uint64_t growth, uint64_t *rss_base) {
        uint64_t used, rss;

        if (!usage(&used, &rss))
                return true;
        if (*rss_base == 0)
                *rss_base = rss;
        return used + cpu > (uint64_t) cpu * W_CPU_LIVES || rss > *rss_base + growth;
}

/* arm_cpu - let the next message use cpu seconds more than this process has used so far
 * (RLIMIT_CPU counts the whole life of the process), within the hard limit */
static void arm_cpu(uint32_t cpu) {
        struct rlimit rl;
        uint64_t used, rss;

        if (!usage(&used, &rss) || getrlimit(RLIMIT_CPU, &rl) < 0)
                _exit(6);
        rl.rlim_cur = (rlim_t) (used + cpu);
        if (rl.rlim_max != RLIM_INFINITY && rl.rlim_cur > rl.rlim_max)
                rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_CPU, &rl) < 0)
                _exit(6);
}

/* child_confine - fds, signals, limits and privileges of the worker; returns the socket's fd */
static int child_confine(int sock, pid_t parent, uint64_t as_limit, uint64_t cpu_life) {
        struct sigaction sa = { .sa_handler = SIG_DFL };
        sigset_t all;
        int fd, nul, sig;

        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
                _exit(7);               /* the parent is already gone */
        sigemptyset(&sa.sa_mask);
        for (sig = 1; sig < NSIG; sig++)
                if (sig != SIGKILL && sig != SIGSTOP)
                        (void) sigaction(sig, &sa, NULL);
        sigemptyset(&all);
        (void) sigprocmask(SIG_SETMASK, &all, NULL);

        fd = fcntl(sock, F_DUPFD, 4);   /* above 0..3, which it is about to fill */
        nul = open("/dev/null", O_RDWR);
        if (fd < 0 || nul < 0)
                _exit(8);
        if (dup2(nul, 0) < 0 || dup2(nul, 1) < 0 || dup2(nul, 2) < 0 || dup2(fd, 3) < 0)
                _exit(8);
        if (close_range(4, ~0u, 0) < 0) {
                int i;
                for (i = 4; i < 65536; i++)
                        (void) close(i);
        }

        lower_limit(RLIMIT_CORE, 0);
        lower_limit(RLIMIT_FSIZE, 0);
        lower_limit(RLIMIT_NOFILE, 16);
        lower_limit(RLIMIT_CPU, cpu_life);
        lower_limit(RLIMIT_AS, as_limit);
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                _exit(9);
        (void) prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        return 3;
}

/* test_hook - DT_WORKER_TEST (test-only, see worker.h) for this source, or NULL */
static const char *test_hook(const char *source) {
        const char *hook = getenv(W_TEST_ENV), *match = getenv(W_TEST_MATCH_ENV);

        if (!hook || !*hook)
                return NULL;
        if (match && *match && (!source || !strstr(source, match)))
                return NULL;
        return hook;
}

/* hog - allocate and touch up to max bytes, in blocks as large as will do, kept chained from a
 * static as a parser's runaway cache would be (so valgrind, following the fork, sees no leak) */
static void hog(size_t max) {
        static const size_t sizes[] = { 16u << 20, 1u << 20, 64u << 10, 4096, 256, 16 };
        static void *chain;
        size_t i, total = 0;

        for (i = 0; i < ELEMENTSOF(sizes); i++) {
                void **p;
                while (total + sizes[i] <= max && (p = malloc(sizes[i]))) {
                        memset(p, 0xa5, sizes[i]);
                        *p = chain;
                        chain = p;
                        total += sizes[i];
                }
        }
}

/* cpu_ms - CPU time this process has used, in ms */
static uint64_t cpu_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
        return (uint64_t) ts.tv_sec * 1000u + (uint64_t) ts.tv_nsec / 1000000u;
}

/* run_test_hook - misbehave as asked; false: skip the parse and its status */
static bool run_test_hook(const char *hook, struct wout *w) {
        static const char junk[] = "\x7f\0\0\0\5\0\0\0junk!";
        volatile unsigned spin = 0;
        uint64_t t0;

        if (strcmp(hook, "crash") == 0)
                abort();
        if (strcmp(hook, "hang") == 0)
                for (;;)
                        spin++;
        if (strcmp(hook, "oom") == 0)
                hog(SIZE_MAX);          /* then parse with what is left */
        if (strcmp(hook, "leak") == 0)
                hog(24u << 20);
        if (strcmp(hook, "burn") == 0)
                for (t0 = cpu_ms(); cpu_ms() - t0 < 700;)
                        spin++;
        if (strcmp(hook, "garbage") == 0) {
                w_put(w, junk, sizeof junk - 1);
                w_flush(w);
                return false;
        }
        return true;
}

struct req {
        uint64_t len;                   /* message bytes, at most lim.message_bytes */
        uint32_t source_len;            /* at most W_SOURCE_MAX */
        uint32_t zero;                  /* padding, sent as zeros */
        struct dt_limits lim;
};

/* read_all - n bytes from fd; false at end of file before the first byte, and the worker ends
 * on anything else that is not n bytes (the parent is gone or broken: nobody to tell) */
static bool read_all(int fd, void *p, size_t n) {
        size_t off = 0;

        while (off < n) {
                ssize_t k = read(fd, (char *) p + off, n - off);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k == 0 && off == 0)
                        return false;
                if (k <= 0)
                        _exit(4);
                off += (size_t) k;
        }
        return true;
}

/* child_main - the worker: confine, then parse and stream message after message until the
 * socket closes (never returns into the caller) */
static _Noreturn void child_main(int sock, pid_t parent, uint64_t as_limit, uint32_t cpu,
                                 uint64_t growth) {
        const struct dt_parse_sink sink = { .aggregate = child_aggregate, .failure = child_failure };
        struct wout w = { 0 };
        uint64_t rss_base = 0;

        w.fd = child_confine(sock, parent, as_limit, (uint64_t) cpu * W_CPU_LIVES);
        w.cap = 2 * W_FLUSH_AT;         /* the output buffer now, while memory is plentiful */
        w.buf = malloc(w.cap);
        if (!w.buf)
                _exit(5);
        w_begin(&w, W_READY);
        w_end(&w);
        w_flush(&w);
        for (;;) {
                _cleanup_free_ char *source = NULL, *data = NULL;
                struct dt_error err;
                struct req q;
                const char *hook;
                bool retire;
                int r;

                if (!read_all(w.fd, &q, sizeof q)) {
                        free(w.buf);
                        _exit(0);       /* the parent closed the socket: retired */
                }
                if (q.len > q.lim.message_bytes || q.len >= SIZE_MAX || q.source_len > W_SOURCE_MAX)
                        _exit(4);
                source = malloc(q.source_len + 1);
                data = malloc(q.len + 1);
                if (!source || !data)
                        _exit(5);
                if (!read_all(w.fd, source, q.source_len) || !read_all(w.fd, data, q.len))
                        _exit(4);
                source[q.source_len] = '\0';
                data[q.len] = '\0';     /* as dt_parse_read_file gives it */
                arm_cpu(cpu);
                hook = test_hook(source);
                if (hook && !run_test_hook(hook, &w))
                        continue;
                dt_error_clear(&err);
                r = dt_parse_buffer(data, q.len, source, &q.lim, &sink, &w, &err);
                retire = worn_out(cpu, growth, &rss_base);
                w_status(&w, r, &err, retire);
                w_flush(&w);
                if (r < 0 || retire) {
                        /* the parent retires it after this status: leave at once, without
                         * reading a request it may have sent ahead (it goes to the next worker).
                         * _exit skips the cleanup, and valgrind checks the worker for leaks */
                        free(data);
                        free(source);
                        free(w.buf);
                        _exit(0);
                }
                if (w.cap > 2 * W_FLUSH_AT) {   /* after a large record, back to the usual size */
                        char *b = realloc(w.buf, 2 * W_FLUSH_AT);
                        if (b) {
                                w.buf = (unsigned char *) b;
                                w.cap = 2 * W_FLUSH_AT;
                        }
                }
        }
}

/* ================================ the parent: reading ================================== */

/* a request on its way to the worker: struct req, the source, the message (borrowed) */
struct outreq {
        struct req q;
        char *source;                   /* owned */
        const void *data;
        size_t sent;                    /* bytes of the three already on the socket */
};

struct dt_worker {
        uint64_t as_bytes, max_rss_growth;
        uint32_t timeout_ms, cpu, max_messages;
        pid_t pid;                      /* the running worker, 0 when none */
        int fd;                         /* our end of its socket, -1 when none */
        uint32_t n_messages;            /* parsed by this worker */
        int unclean;                    /* the first unclean exit of a retired worker */
        struct outreq ahead;            /* the message to parse next (dt_worker_parse_ahead);
                                         * ahead.data NULL: none. ahead.sent > 0: (part of) it
                                         * went to this worker, which may be parsing it */
        unsigned char *in;              /* bytes read past a status: the start of ahead's reply */
        size_t in_start, in_end, in_cap;
};

/* vm_size - this process' address space in bytes (/proc/self/statm), 0 when unknown */
static uint64_t vm_size(void) {
        char buf[128];
        uint64_t pages = 0;
        ssize_t n;
        int fd, i;

        fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return 0;
        n = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (n <= 0)
                return 0;
        for (i = 0; i < n && buf[i] >= '0' && buf[i] <= '9'; i++) {
                if (pages > (UINT64_MAX - 9) / 10)
                        return 0;
                pages = pages * 10 + (uint64_t) (buf[i] - '0');
        }
        return pages * (uint64_t) sysconf(_SC_PAGESIZE);
}

struct parent {
        int fd;
        int wstatus;
        struct outreq *next;            /* the request sent after this one, NULL when none: once
                                         * it is (partly) sent, what follows the status is its
                                         * reply */
        struct outreq *pushing;         /* next, while some of it is still to send */
        uint64_t budget;                /* usec the parent may still wait */
        unsigned char *buf;
        size_t start, end, cap;
        size_t str_max;
        const struct dt_limits *lim;
        const struct dt_worker_sink *sink;
        void *userdata;
        struct dt_worker_report *meta;  /* AGG_BEGIN's, until AGG_END */
        int state;                      /* 0 nothing yet, W_AGG_BEGIN in a report, W_AGG_END or
                                         * W_FAILURE done, W_STATUS status read */
        uint64_t n_records;
        int sink_r;                     /* what a sink callback that stopped returned */
        int status_r;
        struct dt_error status;
        bool retire;                    /* the worker asked to be replaced */
        char why[160];                  /* what was malformed */
};

/* wait_fd - poll the worker's socket for events within what is left of the budget: 0 try the
 * I/O (ready, or interrupted with time left), -ETIMEDOUT, -errno */
static int wait_fd(struct parent *P, short events) {
        struct pollfd pfd = { .fd = P->fd, .events = events };
        uint64_t t0 = dt_mono_usec(), spent;
        int k, e;

        k = P->budget ? poll(&pfd, 1, (int) ((P->budget + 999) / 1000)) : 0;
        e = errno;
        spent = dt_mono_usec() - t0;
        P->budget = spent >= P->budget ? 0 : P->budget - spent;
        if (k < 0 && e != EINTR)
                return -e;
        if (k == 0 && P->budget == 0)
                return -ETIMEDOUT;
        return 0;
}

/* outreq_push - send what the socket takes of o without waiting: 1 all of it is sent, 0 the
 * socket is full, -errno (-EPIPE: the worker is gone) */
static int outreq_push(int fd, struct outreq *o) {
        for (;;) {
                size_t hl = sizeof o->q, sl = o->q.source_len, off = o->sent, n;
                const void *b;
                ssize_t k;

                if (off < hl) {
                        b = (const char *) &o->q + off;
                        n = hl - off;
                } else if (off < hl + sl) {
                        b = o->source + (off - hl);
                        n = hl + sl - off;
                } else if (off < hl + sl + o->q.len) {
                        b = (const char *) o->data + (off - hl - sl);
                        n = hl + sl + o->q.len - off;
                } else {
                        return 1;
                }
                k = send(fd, b, n, MSG_NOSIGNAL | MSG_DONTWAIT);
                if (k > 0)
                        o->sent += (size_t) k;
                else if (k < 0 && errno == EAGAIN)
                        return 0;
                else if (k < 0 && errno != EINTR)
                        return -errno;
        }
}

/* send_request - all of o to the worker within the budget: 0, -ETIMEDOUT, -errno (-EPIPE:
 * gone) */
static int send_request(struct parent *P, struct outreq *o) {
        int r;

        while ((r = outreq_push(P->fd, o)) == 0) {
                r = wait_fd(P, POLLOUT);
                if (r < 0)
                        return r;
        }
        return r < 0 ? r : 0;
}

/* push_next - send more of the next request, if any, while the reply before it is read. A
 * worker that left after its status (retired, or dead) never reads it: stop() marks it unsent,
 * and it goes to the next worker. */
static void push_next(struct parent *P) {
        if (P->pushing && outreq_push(P->fd, P->pushing) != 0)
                P->pushing = NULL;
}

/* fill - have at least need bytes buffered: 1 yes, 0 end of file first, -ETIMEDOUT, -errno */
static int fill(struct parent *P, size_t need) {
        while (P->end - P->start < need) {
                ssize_t n;
                int r;

                if (P->start > 0) {             /* what is left of a record to the front */
                        memmove(P->buf, P->buf + P->start, P->end - P->start);
                        P->end -= P->start;
                        P->start = 0;
                }
                if (P->cap < need + W_IO_CHUNK) {
                        unsigned char *b = realloc(P->buf, need + W_IO_CHUNK);
                        if (!b)
                                return -ENOMEM;
                        P->buf = b;
                        P->cap = need + W_IO_CHUNK;
                }
                push_next(P);
                n = read(P->fd, P->buf + P->end, P->cap - P->end);
                if (n == 0 || (n < 0 && errno == ECONNRESET))   /* reset: it died unread */
                        return 0;
                if (n > 0) {
                        P->end += (size_t) n;
                        continue;
                }
                if (errno != EAGAIN && errno != EINTR)
                        return -errno;
                r = wait_fd(P, P->pushing ? POLLIN | POLLOUT : POLLIN);
                if (r < 0)
                        return r;
        }
        return 1;
}

/* shrink - after a large record, give its buffer back (memory stays flat between records) */
static void shrink(struct parent *P) {
        unsigned char *b;

        if (P->cap <= 4 * W_IO_CHUNK || P->end - P->start > W_IO_CHUNK)
                return;
        memmove(P->buf, P->buf + P->start, P->end - P->start);
        P->end -= P->start;
        P->start = 0;
        b = realloc(P->buf, 2 * W_IO_CHUNK);
        if (b) {
                P->buf = b;
                P->cap = 2 * W_IO_CHUNK;
        }
}

/* ---- the decoder: a cursor over one record's payload ---- */

enum smode {
        S_UTF8,         /* valid UTF-8 (what libxml2 hands the aggregate parser) */
        S_CLEAN,        /* sanitised again (failure reports promise sanitised strings) */
        S_IP,           /* an IPv4 or IPv6 address in text */
        S_HEX64,        /* 64 lower-case hex digits */
        S_REASON,       /* a reason code: [A-Z0-9_], up to 39 */
};

struct rd {
        const unsigned char *p;
        size_t left;
        size_t str_max;
        const char *bad;                /* the first problem, static text */
        bool nomem;
};

/* take - the next n bytes into out, or mark the record bad */
static bool take(struct rd *c, void *out, size_t n) {
        if (c->bad || c->nomem)
                return false;
        if (c->left < n) {
                c->bad = "record shorter than its fields";
                return false;
        }
        memcpy(out, c->p, n);
        c->p += n;
        c->left -= n;
        return true;
}

static uint32_t rd_u32(struct rd *c) {
        uint32_t v = 0;
        (void) take(c, &v, 4);
        return v;
}

static uint64_t rd_u64(struct rd *c) {
        uint64_t v = 0;
        (void) take(c, &v, 8);
        return v;
}

static int64_t rd_i64(struct rd *c) {
        int64_t v = 0;
        (void) take(c, &v, 8);
        return v;
}

static bool rd_bool(struct rd *c) {
        uint8_t v = 0;

        if (take(c, &v, 1) && v > 1)
                c->bad = "boolean not 0 or 1";
        return v == 1;
}

/* rd_i64_range - an i64 within [lo, hi] */
static int64_t rd_i64_range(struct rd *c, int64_t lo, int64_t hi, const char *what) {
        int64_t v = rd_i64(c);

        if (!c->bad && (v < lo || v > hi))
                c->bad = what;
        return v;
}

/* rd_count - an array length of at most max */
static size_t rd_count(struct rd *c, size_t max) {
        uint32_t v = rd_u32(c);

        if (!c->bad && v > max) {
                c->bad = "array longer than its cap";
                return 0;
        }
        return c->bad ? 0 : v;
}

/* reason_ok - [A-Z0-9_]{1,39} */
static bool reason_ok(const unsigned char *s, size_t n) {
        size_t i;

        if (n == 0 || n > 39)
                return false;
        for (i = 0; i < n; i++)
                if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
                        return false;
        return true;
}

/* rd_str - a string checked as mode says, in a new allocation; NULL for the NULL marker or on
 * a problem (then c->bad or c->nomem is set) */
static char *rd_str(struct rd *c, enum smode mode) {
        unsigned char tmp[INET6_ADDRSTRLEN + 1], a[16];
        const unsigned char *s;
        uint32_t n = rd_u32(c);
        char *out;
        size_t i;

        if (c->bad || c->nomem || n == W_NULL)
                return NULL;
        if (n > c->str_max || n > c->left) {
                c->bad = n > c->left ? "string runs past its record" : "string longer than its cap";
                return NULL;
        }
        s = c->p;
        if (memchr(s, '\0', n)) {
                c->bad = "string holds a NUL";
                return NULL;
        }
        switch (mode) {
        case S_UTF8:
                if (!g_utf8_validate((const char *) s, (gssize) n, NULL)) {
                        c->bad = "string is not UTF-8";
                        return NULL;
                }
                break;
        case S_IP:
                if (n >= sizeof tmp) {
                        c->bad = "address too long";
                        return NULL;
                }
                memcpy(tmp, s, n);
                tmp[n] = '\0';
                if (inet_pton(AF_INET, (char *) tmp, a) != 1 && inet_pton(AF_INET6, (char *) tmp, a) != 1) {
                        c->bad = "source_ip is not an address";
                        return NULL;
                }
                break;
        case S_HEX64:
                for (i = 0; i < n; i++)
                        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
                                break;
                if (n != 64 || i != n) {
                        c->bad = "dedupe key is not a SHA-256 in hex";
                        return NULL;
                }
                break;
        case S_REASON:
                if (!reason_ok(s, n)) {
                        c->bad = "reason is not a reason code";
                        return NULL;
                }
                break;
        case S_CLEAN:
                break;
        }
        if (mode == S_CLEAN)
                out = dt_sanitize_dup((const char *) s, n, c->str_max, NULL);
        else
                out = strndup((const char *) s, n);
        if (!out) {
                c->nomem = true;
                return NULL;
        }
        c->p += n;
        c->left -= n;
        return out;
}

/* rd_done - the record checked out: no problem and every byte used */
static bool rd_done(struct rd *c) {
        if (!c->bad && !c->nomem && c->left != 0)
                c->bad = "record longer than its fields";
        return !c->bad && !c->nomem;
}

struct dt_worker_report *dt_worker_report_free(struct dt_worker_report *m) {
        size_t i;

        if (!m)
                return NULL;
        char **strs[] = {
                &m->org, &m->email, &m->extra_contact, &m->report_id, &m->version, &m->generator,
                &m->policy.domain, &m->policy.adkim, &m->policy.aspf, &m->policy.p, &m->policy.sp,
                &m->policy.np, &m->policy.fo, &m->policy.testing, &m->policy.discovery_method,
                &m->input_format, &m->entry_name,
        };
        for (i = 0; i < ELEMENTSOF(strs); i++)
                free(*strs[i]);
        for (i = 0; i < m->n_extensions; i++)
                free(m->extensions[i]);
        free(m->extensions);
        for (i = 0; i < m->n_warnings; i++)
                free(m->warnings[i].reason);
        free(m->warnings);
        free(m);
        return NULL;
}

void dt_worker_record_clear(struct dt_record *r) {
        size_t i;

        if (!r)
                return;
        free(r->source_ip);
        free(r->disposition);
        free(r->dkim);
        free(r->spf);
        for (i = 0; i < r->n_reasons; i++) {
                free(r->reasons[i].type);
                free(r->reasons[i].comment);
        }
        free(r->reasons);
        free(r->header_from);
        free(r->envelope_from);
        free(r->envelope_to);
        for (i = 0; i < r->n_auth_dkim; i++) {
                free(r->auth_dkim[i].domain);
                free(r->auth_dkim[i].selector);
                free(r->auth_dkim[i].result);
                free(r->auth_dkim[i].human_result);
        }
        free(r->auth_dkim);
        for (i = 0; i < r->n_auth_spf; i++) {
                free(r->auth_spf[i].domain);
                free(r->auth_spf[i].scope);
                free(r->auth_spf[i].result);
                free(r->auth_spf[i].human_result);
        }
        free(r->auth_spf);
        *r = (struct dt_record) { 0 };
}

/* rd_array - calloc n elements of size sz (n already capped), NULL for n == 0 */
static void *rd_array(struct rd *c, size_t n, size_t sz) {
        void *p;

        if (n == 0 || c->bad || c->nomem)
                return NULL;
        p = calloc(n, sz);
        if (!p)
                c->nomem = true;
        return p;
}

/* decode_meta - AGG_BEGIN or AGG_END */
static struct dt_worker_report *decode_meta(struct rd *c) {
        _cleanup_(dt_worker_report_freep) struct dt_worker_report *m = calloc(1, sizeof *m);
        size_t i, n;

        if (!m) {
                c->nomem = true;
                return NULL;
        }
        m->org = rd_str(c, S_UTF8);
        m->email = rd_str(c, S_UTF8);
        m->extra_contact = rd_str(c, S_UTF8);
        m->report_id = rd_str(c, S_UTF8);
        m->version = rd_str(c, S_UTF8);
        m->generator = rd_str(c, S_UTF8);
        m->begin = rd_i64(c);
        m->end = rd_i64(c);
        m->has_policy = rd_bool(c);
        m->policy.domain = rd_str(c, S_UTF8);
        m->policy.adkim = rd_str(c, S_UTF8);
        m->policy.aspf = rd_str(c, S_UTF8);
        m->policy.p = rd_str(c, S_UTF8);
        m->policy.sp = rd_str(c, S_UTF8);
        m->policy.np = rd_str(c, S_UTF8);
        m->policy.pct = (int) rd_i64_range(c, -1, 100, "pct out of range");
        m->policy.fo = rd_str(c, S_UTF8);
        m->policy.testing = rd_str(c, S_UTF8);
        m->policy.discovery_method = rd_str(c, S_UTF8);
        m->record_count = rd_u64(c);
        m->message_count = rd_u64(c);
        n = rd_count(c, W_EXT_MAX);
        m->extensions = rd_array(c, n, sizeof *m->extensions);
        for (i = 0; m->extensions && i < n && !c->bad && !c->nomem; i++, m->n_extensions++)
                m->extensions[i] = rd_str(c, S_UTF8);
        n = rd_count(c, W_WARN_MAX);
        m->warnings = rd_array(c, n, sizeof *m->warnings);
        for (i = 0; m->warnings && i < n && !c->bad && !c->nomem; i++, m->n_warnings++) {
                m->warnings[i].reason = rd_str(c, S_UTF8);
                m->warnings[i].offset = rd_i64(c);
        }
        m->input_format = rd_str(c, S_UTF8);
        m->entry_name = rd_str(c, S_CLEAN);
        if (!rd_done(c))
                return NULL;
        return TAKE_PTR(m);
}

/* decode_record - RECORD into *r (cleared by the caller on any result) */
static bool decode_record(struct rd *c, struct dt_record *r) {
        size_t i, n;

        r->source_ip = rd_str(c, S_IP);
        if (!r->source_ip && !c->bad && !c->nomem)
                c->bad = "record without source_ip";
        r->count = rd_u64(c);
        r->disposition = rd_str(c, S_UTF8);
        r->dkim = rd_str(c, S_UTF8);
        r->spf = rd_str(c, S_UTF8);
        n = rd_count(c, W_LIST_MAX);
        r->reasons = rd_array(c, n, sizeof *r->reasons);
        for (i = 0; r->reasons && i < n && !c->bad && !c->nomem; i++, r->n_reasons++) {
                r->reasons[i].type = rd_str(c, S_UTF8);
                r->reasons[i].comment = rd_str(c, S_UTF8);
        }
        r->header_from = rd_str(c, S_UTF8);
        r->envelope_from = rd_str(c, S_UTF8);
        r->envelope_to = rd_str(c, S_UTF8);
        n = rd_count(c, W_LIST_MAX);
        r->auth_dkim = rd_array(c, n, sizeof *r->auth_dkim);
        for (i = 0; r->auth_dkim && i < n && !c->bad && !c->nomem; i++, r->n_auth_dkim++) {
                r->auth_dkim[i].domain = rd_str(c, S_UTF8);
                r->auth_dkim[i].selector = rd_str(c, S_UTF8);
                r->auth_dkim[i].result = rd_str(c, S_UTF8);
                r->auth_dkim[i].human_result = rd_str(c, S_UTF8);
        }
        n = rd_count(c, W_LIST_MAX);
        r->auth_spf = rd_array(c, n, sizeof *r->auth_spf);
        for (i = 0; r->auth_spf && i < n && !c->bad && !c->nomem; i++, r->n_auth_spf++) {
                r->auth_spf[i].domain = rd_str(c, S_UTF8);
                r->auth_spf[i].scope = rd_str(c, S_UTF8);
                r->auth_spf[i].result = rd_str(c, S_UTF8);
                r->auth_spf[i].human_result = rd_str(c, S_UTF8);
        }
        return rd_done(c);
}

/* decode_headers - the original headers of a failure report */
static struct dt_headers *decode_headers(struct rd *c) {
        _cleanup_(dt_headers_freep) struct dt_headers *h = calloc(1, sizeof *h);
        size_t i, k, n;

        if (!h) {
                c->nomem = true;
                return NULL;
        }
        for (i = 0; i < ELEMENTSOF(headers_strs); i++)
                STR_AT(h, headers_strs[i]) = rd_str(c, S_CLEAN);
        h->subject_bytes = rd_u64(c);
        h->date = rd_i64(c);
        h->has_date = rd_bool(c);
        h->php_uid = rd_i64_range(c, -1, INT64_MAX, "uid out of range");
        h->antiabuse.originator_uid = rd_i64_range(c, -1, INT64_MAX, "uid out of range");
        h->antiabuse.originator_gid = rd_i64_range(c, -1, INT64_MAX, "gid out of range");
        h->antiabuse.caller_uid = rd_i64_range(c, -1, INT64_MAX, "uid out of range");
        h->antiabuse.caller_gid = rd_i64_range(c, -1, INT64_MAX, "gid out of range");
        h->antiabuse.present = rd_bool(c);
        n = rd_count(c, DT_HEADERS_HOPS_MAX);
        h->received = rd_array(c, n, sizeof *h->received);
        for (i = 0; h->received && i < n && !c->bad && !c->nomem; i++, h->n_received++) {
                for (k = 0; k < ELEMENTSOF(hop_strs); k++)
                        STR_AT(&h->received[i], hop_strs[k]) = rd_str(c, S_CLEAN);
                h->received[i].date = rd_i64(c);
                h->received[i].has_date = rd_bool(c);
        }
        h->received_dropped = (size_t) rd_u64(c);
        h->local.mta = (enum dt_local_mta) rd_u32(c);
        h->local.uid = rd_i64_range(c, -1, INT64_MAX, "uid out of range");
        h->local.hop = (size_t) rd_u64(c);
        h->n_fields = (size_t) rd_u64(c);
        h->end = (size_t) rd_u64(c);
        h->flags = rd_u32(c);
        if (!c->bad && (unsigned) h->local.mta >= _DT_LOCAL_MAX)
                c->bad = "local submission MTA out of range";
        if (!c->bad && (h->local.mta == DT_LOCAL_POSTFIX || h->local.mta == DT_LOCAL_EXIM) &&
            h->local.hop >= h->n_received)
                c->bad = "local submission hop out of range";
        if (!c->bad && h->local.hop > DT_HEADERS_HOPS_MAX)
                c->bad = "local submission hop out of range";
        if (c->bad || c->nomem)
                return NULL;
        return TAKE_PTR(h);
}

/* decode_failure - FAILURE: the report and its dedupe key */
static struct dt_failure *decode_failure(struct rd *c, char **key) {
        _cleanup_(dt_failure_freep) struct dt_failure *f = calloc(1, sizeof *f);
        size_t i, n;

        if (!f) {
                c->nomem = true;
                return NULL;
        }
        for (i = 0; i < ELEMENTSOF(failure_strs); i++)
                STR_AT(f, failure_strs[i]) = rd_str(c, S_CLEAN);
        f->dmarc = rd_bool(c);
        f->arrival_date = rd_i64(c);
        f->has_arrival_date = rd_bool(c);
        f->incidents = rd_i64_range(c, -1, INT64_MAX, "incidents out of range");
        n = rd_count(c, W_RCPT_MAX);
        f->original_rcpt_to = rd_array(c, n, sizeof *f->original_rcpt_to);
        for (i = 0; f->original_rcpt_to && i < n && !c->bad && !c->nomem; i++, f->n_original_rcpt_to++) {
                f->original_rcpt_to[i] = rd_str(c, S_CLEAN);
                if (!f->original_rcpt_to[i] && !c->bad && !c->nomem)
                        c->bad = "NULL in a string list";
        }
        n = rd_count(c, W_RCPT_MAX);
        f->feedback = rd_array(c, n, sizeof *f->feedback);
        for (i = 0; f->feedback && i < n && !c->bad && !c->nomem; i++, f->n_feedback++) {
                f->feedback[i].name = rd_str(c, S_CLEAN);
                f->feedback[i].value = rd_str(c, S_CLEAN);
                if ((!f->feedback[i].name || !f->feedback[i].value) && !c->bad && !c->nomem)
                        c->bad = "feedback field without name or value";
        }
        f->origin = (enum dt_failure_origin) rd_u32(c);
        f->flags = rd_u32(c);
        if (!c->bad && (unsigned) f->origin >= _DT_ORIGIN_MAX)
                c->bad = "origin out of range";
        if (rd_bool(c))
                f->original = decode_headers(c);
        if (!c->bad && (f->origin == DT_ORIGIN_NONE) != (f->original == NULL))
                c->bad = "origin and original headers disagree";
        *key = rd_str(c, S_HEX64);
        if (!*key && !c->bad && !c->nomem)
                c->bad = "failure report without a dedupe key";
        if (!rd_done(c)) {
                *key = mfree(*key);
                return NULL;
        }
        return TAKE_PTR(f);
}

/* static_reason - the reason code as a string that lives as long as the process (struct
 * dt_error keeps a pointer): one of ours, or an unknown well-formed one kept in a small pool */
static const char *static_reason(const char *s) {
        static char pool[32][40];
        static size_t n_pool;
        size_t i;

        for (i = 0; i < ELEMENTSOF(known_reasons); i++)
                if (strcmp(known_reasons[i], s) == 0)
                        return known_reasons[i];
        for (i = 0; i < n_pool; i++)
                if (strcmp(pool[i], s) == 0)
                        return pool[i];
        if (n_pool == ELEMENTSOF(pool) || strlen(s) >= sizeof pool[0])
                return NULL;
        strcpy(pool[n_pool], s);
        return pool[n_pool++];
}

/* decode_status - STATUS into P */
static bool decode_status(struct rd *c, struct parent *P) {
        _cleanup_free_ char *reason = NULL, *msg = NULL;
        size_t saved = c->str_max;

        P->status_r = (int) rd_i64_range(c, -4095, 0, "status out of range");
        P->status.code = (int) rd_i64_range(c, -4095, 0, "error code out of range");
        reason = rd_str(c, S_REASON);
        c->str_max = sizeof P->status.message - 1;
        msg = rd_str(c, S_CLEAN);
        c->str_max = saved;
        P->status.offset = rd_i64_range(c, -1, INT64_MAX, "error offset out of range");
        P->status.line = rd_i64_range(c, -1, INT64_MAX, "error line out of range");
        P->retire = rd_bool(c);
        if (!rd_done(c))
                return false;
        P->status.reason = reason ? static_reason(reason) : NULL;
        if (reason && !P->status.reason) {
                c->bad = "too many unknown reason codes";
                return false;
        }
        (void) snprintf(P->status.message, sizeof P->status.message, "%s", msg ? msg : "");
        if (P->status_r == 0 && P->state != W_AGG_END && P->state != W_FAILURE) {
                c->bad = "success without a report";
                return false;
        }
        if (P->status_r < 0 && P->status.code == 0)
                P->status.code = P->status_r;
        return true;
}

/* handle - check one record against the state machine, decode it and hand it to the sink.
 * 0 go on, -EBADMSG malformed (P->why says how), -ENOMEM, or -ECANCELED: a callback returned
 * <0 (in P->sink_r) */
static int handle(struct parent *P, uint32_t type, const unsigned char *payload, size_t len) {
        struct rd c = { .p = payload, .left = len, .str_max = P->str_max };
        int r = 0;

        switch (type) {
        case W_AGG_BEGIN:
                if (P->state != 0) {
                        c.bad = "report where none may start";
                        break;
                }
                P->meta = decode_meta(&c);
                if (!P->meta)
                        break;
                P->state = W_AGG_BEGIN;
                if (P->sink->aggregate_begin)
                        r = P->sink->aggregate_begin(P->userdata, P->meta);
                break;
        case W_RECORD: {
                struct dt_record rec = { 0 };

                if (P->state != W_AGG_BEGIN) {
                        c.bad = "record outside a report";
                        break;
                }
                if (++P->n_records > P->lim->records) {
                        c.bad = "more records than limits.records";
                        break;
                }
                if (decode_record(&c, &rec) && P->sink->record)
                        r = P->sink->record(P->userdata, &rec);
                dt_worker_record_clear(&rec);
                break;
        }
        case W_AGG_END: {
                _cleanup_(dt_worker_report_freep) struct dt_worker_report *m = NULL;

                if (P->state != W_AGG_BEGIN) {
                        c.bad = "report end outside a report";
                        break;
                }
                m = decode_meta(&c);
                if (!m)
                        break;
                if (m->record_count != P->n_records) {
                        c.bad = "record count differs from the records sent";
                        break;
                }
                P->state = W_AGG_END;
                if (P->sink->aggregate_end)
                        r = P->sink->aggregate_end(P->userdata, m);
                P->meta = dt_worker_report_free(P->meta);
                break;
        }
        case W_FAILURE: {
                _cleanup_(dt_failure_freep) struct dt_failure *f = NULL;
                _cleanup_free_ char *key = NULL;

                if (P->state != 0) {
                        c.bad = "failure report where none may start";
                        break;
                }
                f = decode_failure(&c, &key);
                if (!f)
                        break;
                P->state = W_FAILURE;
                if (P->sink->failure)
                        r = P->sink->failure(P->userdata, f, key);
                break;
        }
        case W_STATUS:
                if (P->state == W_STATUS) {
                        c.bad = "second status";
                        break;
                }
                if (decode_status(&c, P))
                        P->state = W_STATUS;
                break;
        default:
                c.bad = "unknown record type";
                break;
        }
        if (c.nomem)
                return -ENOMEM;
        if (c.bad) {
                (void) snprintf(P->why, sizeof P->why, "%s", c.bad);
                return -EBADMSG;
        }
        if (r < 0) {
                P->sink_r = r;
                return -ECANCELED;
        }
        return 0;
}

/* type_max - the payload cap of a record type, 0 for an unknown type */
static size_t type_max(uint32_t type) {
        switch (type) {
        case W_AGG_BEGIN:
        case W_AGG_END:
                return W_META_MAX;
        case W_RECORD:
                return W_RECORD_MAX;
        case W_FAILURE:
                return W_FAILURE_MAX;
        case W_STATUS:
                return W_STATUS_MAX;
        default:
                return 0;
        }
}

/* pump - read and handle records up to the status: 1 the status was read (and nothing after
 * it), 0 end of file first (the exit status decides), -ETIMEDOUT, -EBADMSG, -ENOMEM,
 * -ECANCELED (the sink), -errno */
static int pump(struct parent *P, bool *truncated) {
        for (;;) {
                uint32_t type, len;
                int r;

                r = fill(P, W_HDR);
                if (r <= 0) {
                        *truncated = P->end > P->start;
                        return r;
                }
                memcpy(&type, P->buf + P->start, 4);
                memcpy(&len, P->buf + P->start + 4, 4);
                if (type_max(type) == 0 || len > type_max(type)) {
                        (void) snprintf(P->why, sizeof P->why, type_max(type) ? "record of type %u too long (%u bytes)"
                                        : "unknown record type %u", type, len);
                        return -EBADMSG;
                }
                r = fill(P, W_HDR + (size_t) len);
                if (r <= 0) {
                        *truncated = true;
                        return r;
                }
                r = handle(P, type, P->buf + P->start + W_HDR, len);
                P->start += W_HDR + (size_t) len;
                if (P->start == P->end)
                        P->start = P->end = 0;
                shrink(P);
                if (r < 0)
                        return r;
                if (P->state == W_STATUS && P->end > P->start && !(P->next && P->next->sent > 0)) {
                        (void) snprintf(P->why, sizeof P->why, "data after the status");
                        return -EBADMSG;
                }
                if (P->state == W_STATUS)
                        return 1;
        }
}

/* reap - wait for pid to exit, its status in *wstatus, for at most *budget usec (at least a
 * moment), then kill it; with kill_now, kill it first. Never leaves a zombie. */
static void reap(pid_t pid, int *wstatus, uint64_t *budget, bool kill_now) {
        unsigned sleep_us = 50;
        pid_t k;

        if (*budget < 100000u)          /* a worker that just wrote its last record, at the
                                         * deadline, still gets a moment to exit */
                *budget = 100000u;
        if (kill_now)
                (void) kill(pid, SIGKILL);
        for (;;) {
                k = waitpid(pid, wstatus, kill_now ? 0 : WNOHANG);
                if (k == pid)
                        break;
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0) {            /* ECHILD: SIGCHLD ignored by someone; status unknown */
                        *wstatus = 0;
                        break;
                }
                /* still running after its socket closed: give it what is left of the budget */
                if (*budget == 0) {
                        kill_now = true;
                        (void) kill(pid, SIGKILL);
                        continue;
                }
                struct timespec ts = { .tv_nsec = (long) sleep_us * 1000 };
                uint64_t t0 = dt_mono_usec(), spent;
                (void) nanosleep(&ts, NULL);
                spent = dt_mono_usec() - t0;
                *budget = spent >= *budget ? 0 : *budget - spent;
                if (sleep_us < 50000)
                        sleep_us *= 2;
        }
}

/* stop - end the worker: close its socket (an idle worker then exits on its own) and reap it
 * within budget usec, killing it first when kill_now; returns its wait status. What it was
 * sent ahead is unsent again, and what it wrote past a status is dropped. */
static int stop(struct dt_worker *w, bool kill_now, uint64_t budget) {
        int wstatus = 0;

        w->ahead.sent = 0;
        w->in_start = w->in_end = 0;
        if (w->pid <= 0)
                return 0;
        close(w->fd);
        reap(w->pid, &wstatus, &budget, kill_now);
        w->fd = -1;
        w->pid = 0;
        return wstatus;
}

/* exit_text - what the worker's own exit codes mean */
static const char *exit_text(int code) {
        switch (code) {
        case 3:
                return " (could not write to the parent)";
        case 4:
                return " (a broken request)";
        case 5:
                return " (out of memory)";
        case 6:
                return " (could not set its limits)";
        case 7:
                return " (its parent was gone)";
        case 8:
                return " (could not set up its file descriptors)";
        case 9:
                return " (could not drop privileges)";
        default:
                return "";
        }
}

/* signal_name - "SIGABRT" for 6 */
static const char *signal_name(int sig, char *buf, size_t cap) {
        const char *abbrev = sigabbrev_np(sig);

        if (abbrev)
                (void) snprintf(buf, cap, "SIG%s", abbrev);
        else
                (void) snprintf(buf, cap, "signal %d", sig);
        return buf;
}

/* warm_sink_aggregate, warm_sink_failure - read what the warm-up parses to its end */
static int warm_sink_aggregate(void *userdata, const struct dt_parse_ctx *ctx, struct dt_aggregate *agg,
                               struct dt_error *err) {
        const struct dt_record *rec;
        int r;

        (void) userdata;
        (void) ctx;
        while ((r = dt_aggregate_next(agg, &rec, err)) > 0)
                ;
        return r;
}

static int warm_sink_failure(void *userdata, const struct dt_parse_ctx *ctx, const struct dt_failure *f,
                             struct dt_error *err) {
        (void) userdata;
        (void) err;
        free(dt_worker_failure_key(ctx->message, f));
        return 0;
}

/* warm_up - once per process, parse two reports of our own (constant, so safe in the parent):
 * a gzip aggregate report in a message and an ARF failure report. Each worker then inherits
 * initialised libraries (gmime's type system and charsets, libxml2), resolved symbols and
 * touched pages, instead of paying for them per message; under valgrind, also the
 * translations of those code paths, which a forked child would otherwise redo every time. */
static void warm_up(void) {
        static const char xml[] =
                "<?xml version=\"1.0\"?><feedback><report_metadata><org_name>w</org_name>"
                "<email>w@example.com</email><report_id>w</report_id><date_range><begin>1</begin>"
                "<end>2</end></date_range></report_metadata><policy_published><domain>example.com"
                "</domain><p>none</p></policy_published><record><row><source_ip>192.0.2.1</source_ip>"
                "<count>1</count><policy_evaluated><disposition>none</disposition><dkim>pass</dkim>"
                "<spf>pass</spf></policy_evaluated></row><identifiers><header_from>example.com"
                "</header_from></identifiers><auth_results><dkim><domain>example.com</domain><result>"
                "pass</result></dkim><spf><domain>example.com</domain><result>pass</result></spf>"
                "</auth_results></record></feedback>\n";
        static const char arf[] =
                "From: a@example.com\r\nTo: b@example.net\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
                "Content-Type: multipart/report; report-type=feedback-report; boundary=\"b\"\r\n\r\n"
                "--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b\r\n"
                "Content-Type: message/feedback-report\r\n\r\nFeedback-Type: auth-failure\r\n"
                "Version: 1\r\nSource-IP: 192.0.2.1\r\nReported-Domain: example.net\r\n"
                "Auth-Failure: dmarc\r\n\r\n--b\r\nContent-Type: text/rfc822-headers\r\n\r\n"
                "Received: from a (a [192.0.2.1]) by b (Postfix) with ESMTP id 1A; "
                "Wed, 14 Apr 2010 12:15:31 -0700\r\nFrom: c@example.net\r\n"
                "Message-ID: <1@example.net>\r\nDate: Wed, 14 Apr 2010 12:15:31 -0700\r\n"
                "Subject: =?UTF-8?B?eA==?=\r\n\r\n--b--\r\n";
        const struct dt_parse_sink sink = { .aggregate = warm_sink_aggregate, .failure = warm_sink_failure };
        static bool done;
        unsigned char gz[1024];
        struct dt_error err;
        z_stream z = { 0 };
        gchar *b64 = NULL, *msg = NULL;

        if (done)
                return;
        done = true;
        xmlInitParser();
        if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) != Z_OK)
                return;
        z.next_in = (unsigned char *) xml;
        z.avail_in = sizeof xml - 1;
        z.next_out = gz;
        z.avail_out = sizeof gz;
        if (deflate(&z, Z_FINISH) == Z_STREAM_END) {
                b64 = g_base64_encode(gz, sizeof gz - z.avail_out);
                msg = g_strdup_printf("From: r@example.com\r\nSubject: Report domain: example.com\r\n"
                                      "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
                                      "--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b\r\n"
                                      "Content-Type: application/gzip; name=\"r.xml.gz\"\r\n"
                                      "Content-Transfer-Encoding: base64\r\n\r\n%s\r\n--b--\r\n", b64);
                dt_error_clear(&err);
                (void) dt_parse_buffer(msg, strlen(msg), "warm-up", &dt_limits_default, &sink, NULL, &err);
        }
        (void) deflateEnd(&z);
        g_free(b64);
        g_free(msg);
        dt_error_clear(&err);
        (void) dt_parse_buffer(arf, sizeof arf - 1, "warm-up", &dt_limits_default, &sink, NULL, &err);
}

/* await_ready - the fresh worker's READY record, within the timeout: 0, or -errno with err
 * filled (DT_WORKER_R_NOT_STARTED) after reaping a worker that could not confine itself (out of
 * fds, say): it failed before any message was sent, so none is charged */
static int await_ready(struct dt_worker *w, struct dt_error *err) {
        static const uint32_t ready[2] = { W_READY, 0 };
        struct parent P = { .fd = w->fd, .budget = (uint64_t) w->timeout_ms * 1000u };
        char why[96], sig[32];
        bool ok;
        int k, wstatus, r;

        k = fill(&P, W_HDR);
        /* READY fits in any read, and the worker then waits for a request */
        ok = k > 0 && P.end == W_HDR && memcmp(P.buf, ready, W_HDR) == 0;
        free(P.buf);
        if (ok)
                return 0;
        wstatus = stop(w, k != 0, P.budget);    /* end of file: it is exiting anyway */
        r = k < 0 ? k : -ECHILD;
        if (k < 0)
                (void) snprintf(why, sizeof why, "%s", strerror(-k));
        else if (k > 0)
                (void) snprintf(why, sizeof why, "it did not say it was ready");
        else if (WIFSIGNALED(wstatus))
                (void) snprintf(why, sizeof why, "it was killed by %s",
                                signal_name(WTERMSIG(wstatus), sig, sizeof sig));
        else {
                if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 8)
                        r = -EMFILE;    /* what keeps it from setting up its fds, in practice */
                (void) snprintf(why, sizeof why, "it exited with status %d%s",
                                WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1,
                                exit_text(WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1));
        }
        return dt_error_set(err, r, DT_WORKER_R_NOT_STARTED, -1, "cannot start the worker: %s", why);
}

/* spawn - fork a fresh worker and wait until it is ready; -errno with err filled
 * (DT_WORKER_R_NOT_STARTED) */
static int spawn(struct dt_worker *w, struct dt_error *err) {
        uint64_t base, as_limit;
        pid_t parent = getpid(), pid;
        int sv[2], r;

        warm_up();
        base = vm_size();
        as_limit = base > UINT64_MAX - w->as_bytes ? UINT64_MAX : base + w->as_bytes;
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
                return dt_error_set(err, -errno, DT_WORKER_R_NOT_STARTED, -1,
                                    "cannot start the worker: cannot create its socket: %s",
                                    strerror(errno));
        if (fcntl(sv[0], F_SETFL, O_NONBLOCK) < 0) {   /* ours only: the worker blocks */
                r = -errno;
                goto fail;
        }
        pid = fork();
        if (pid < 0) {
                r = -errno;
                goto fail;
        }
        if (pid == 0)
                child_main(sv[1], parent, as_limit, w->cpu, w->max_rss_growth);
        close(sv[1]);
        w->fd = sv[0];
        w->pid = pid;
        w->n_messages = 0;
        return await_ready(w, err);
fail:
        close(sv[0]);
        close(sv[1]);
        return dt_error_set(err, r, DT_WORKER_R_NOT_STARTED, -1, "cannot start the worker: %s", strerror(-r));
}

/* ensure - a worker ready for a message: the one we have if its socket is quiet (one that
 * died, or wrote past its last status, is replaced without charging this message), else a
 * fresh one */
static int ensure(struct dt_worker *w, struct dt_error *err) {
        if (w->pid > 0) {
                struct pollfd pfd = { .fd = w->fd, .events = POLLIN };
                if (poll(&pfd, 1, 0) > 0)
                        (void) stop(w, true, 0);
        }
        return w->pid > 0 ? 0 : spawn(w, err);
}

/* req_init - the request header for a message of len bytes with a source of n bytes */
static void req_init(struct req *q, size_t len, size_t n, const struct dt_limits *lim) {
        memset(q, 0, sizeof *q);        /* the padding too: it goes over the socket */
        q->len = len;
        q->source_len = (uint32_t) n;
        q->lim.message_bytes = lim->message_bytes;
        q->lim.header_bytes = lim->header_bytes;
        q->lim.header_fields = lim->header_fields;
        q->lim.mime_depth = lim->mime_depth;
        q->lim.mime_parts = lim->mime_parts;
        q->lim.unpacked_bytes = lim->unpacked_bytes;
        q->lim.unpack_ratio = lim->unpack_ratio;
        q->lim.ratio_after_bytes = lim->ratio_after_bytes;
        q->lim.zip_entries = lim->zip_entries;
        q->lim.xml_depth = lim->xml_depth;
        q->lim.xml_text_bytes = lim->xml_text_bytes;
        q->lim.records = lim->records;
        q->lim.log_line_bytes = lim->log_line_bytes;
        q->lim.field_bytes = lim->field_bytes;
}

/* outreq_set - o (its old source freed) for data[0..len) from source under lim; -ENOMEM */
static int outreq_set(struct outreq *o, const void *data, size_t len, const char *source,
                      const struct dt_limits *lim) {
        size_t n = source ? strnlen(source, W_SOURCE_MAX) : 0;
        char *copy = strndup(source ? source : "", n);

        if (!copy)
                return -ENOMEM;
        free(o->source);
        req_init(&o->q, len, n, lim);
        o->source = copy;
        o->data = data;
        o->sent = 0;
        return 0;
}

/* outreq_is - o is the request for these arguments */
static bool outreq_is(const struct outreq *o, const void *data, size_t len, const char *source,
                      const struct dt_limits *lim) {
        size_t n = source ? strnlen(source, W_SOURCE_MAX) : 0;
        struct req q;

        req_init(&q, len, n, lim);
        return o->data == data && memcmp(&o->q, &q, sizeof q) == 0 &&
               memcmp(o->source, source ? source : "", n) == 0;
}

/* drop_ahead - forget the message queued ahead; a worker that may be parsing it is killed
 * (its reply would come first), which charges nothing */
static void drop_ahead(struct dt_worker *w) {
        if (w->ahead.sent > 0)
                (void) stop(w, true, 0);
        free(w->ahead.source);
        memset(&w->ahead, 0, sizeof w->ahead);
}

/* retire - stop the worker (see the top of this file), keeping an unclean exit for
 * dt_worker_stop */
static void retire(struct dt_worker *w) {
        int wstatus = stop(w, false, (uint64_t) w->timeout_ms * 1000u);

        if (wstatus != 0 && w->unclean == 0)
                w->unclean = wstatus;
}

int dt_worker_new(const struct dt_worker_opts *opts, struct dt_worker **out) {
        static const struct dt_worker_opts defaults = { 0 };
        struct dt_worker *w = calloc(1, sizeof *w);

        if (!w)
                return -ENOMEM;
        if (!opts)
                opts = &defaults;
        w->as_bytes = opts->as_bytes ? opts->as_bytes : DT_WORKER_AS_DEFAULT;
        w->timeout_ms = opts->timeout_ms ? opts->timeout_ms : DT_WORKER_TIMEOUT_DEFAULT;
        w->cpu = opts->cpu_seconds ? opts->cpu_seconds : w->timeout_ms / 1000u * 2u + 2u;
        w->max_messages = opts->max_messages ? opts->max_messages : DT_WORKER_MESSAGES_DEFAULT;
        w->max_rss_growth = opts->max_rss_growth ? opts->max_rss_growth : DT_WORKER_GROWTH_DEFAULT;
        w->fd = -1;
        *out = w;
        return 0;
}

pid_t dt_worker_pid(const struct dt_worker *w) {
        return w->pid;
}

int dt_worker_stop(struct dt_worker *w) {
        int wstatus;

        drop_ahead(w);                  /* killed if it was parsing that: nothing to wait for */
        retire(w);
        wstatus = w->unclean;
        w->unclean = 0;
        return wstatus;
}

struct dt_worker *dt_worker_free(struct dt_worker *w) {
        if (!w)
                return NULL;
        (void) dt_worker_stop(w);
        free(w->in);
        free(w);
        return NULL;
}

int dt_worker_parse_ahead(struct dt_worker *w, const void *data, size_t len, const char *source,
                          const struct dt_worker_msg *next, const struct dt_limits *lim,
                          const struct dt_worker_sink *sink, void *userdata, struct dt_error *err) {
        static const struct dt_worker_sink no_sink = { 0 };
        struct parent P = { .lim = lim, .sink = sink ? sink : &no_sink, .userdata = userdata };
        struct outreq cur = { 0 };
        bool truncated = false;
        char sig[32];
        int r;

        if (w->ahead.data && !outreq_is(&w->ahead, data, len, source, lim))
                drop_ahead(w);          /* the caller changed its mind */
        if (len > lim->message_bytes)   /* what the worker may be sent */
                return dt_error_set(err, -EFBIG, DT_R_SIZE_LIMIT, (int64_t) lim->message_bytes,
                                    "message of %zu bytes is over limits.message_bytes (%llu)", len,
                                    (unsigned long long) lim->message_bytes);
        P.str_max = DT_WORKER_STRING_MAX;
        if (lim->xml_text_bytes > P.str_max)
                P.str_max = lim->xml_text_bytes;
        if (P.str_max > (16u << 20))
                P.str_max = 16u << 20;
        P.budget = (uint64_t) w->timeout_ms * 1000u;
        if (w->ahead.data) {            /* queued last time, maybe sent and parsed already */
                cur = w->ahead;
                memset(&w->ahead, 0, sizeof w->ahead);
        } else if (outreq_set(&cur, data, len, source, lim) < 0) {
                return dt_error_set(err, -ENOMEM, DT_R_NOMEM, -1, "out of memory");
        }
        if (cur.sent == 0) {
                r = ensure(w, err);
                if (r < 0) {
                        free(cur.source);
                        return r;
                }
        }
        P.fd = w->fd;
        /* the next message goes out as soon as the socket takes it, unless this worker retires
         * after this one anyway; without memory for it, it is simply sent in its turn */
        if (next && next->len <= lim->message_bytes &&
            outreq_set(&w->ahead, next->data, next->len, next->source, lim) == 0 &&
            w->n_messages + 1 < w->max_messages)
                P.next = P.pushing = &w->ahead;
        P.buf = w->in;                  /* what was read past the last status: this reply */
        P.start = w->in_start;
        P.end = w->in_end;
        P.cap = w->in_cap;
        w->in = NULL;

        r = send_request(&P, &cur);
        if (r == -EPIPE || r == -ECONNRESET)
                r = 0;                  /* it died: its exit status says how, after the EOF */
        if (r >= 0)
                r = pump(&P, &truncated);
        P.meta = dt_worker_report_free(P.meta);
        free(cur.source);
        w->in = P.buf;
        w->in_start = P.start;
        w->in_end = P.end;
        w->in_cap = P.cap;
        if (r != 1)                     /* dead (EOF), or to be killed: not used again */
                P.wstatus = stop(w, r < 0, P.budget);
        else if (P.status_r < 0 || P.retire || ++w->n_messages >= w->max_messages)
                retire(w);

        if (r == -ECANCELED)
                return P.sink_r;        /* the sink stopped: its code, err untouched */
        if (r == -ENOMEM)
                return dt_error_set(err, -ENOMEM, DT_R_NOMEM, -1, "out of memory reading the worker");
        if (r == -ETIMEDOUT)
                return dt_error_set(err, -ETIMEDOUT, DT_R_TIMEOUT, -1,
                                    "worker killed at its deadline of %u ms", w->timeout_ms);
        if (r == -EBADMSG)
                return dt_error_set(err, -ECHILD, DT_R_WORKER_CRASH, -1, "malformed worker stream: %s",
                                    P.why);
        if (r < 0)
                return dt_error_set(err, r, DT_R_IO, -1, "cannot talk to the worker: %s", strerror(-r));
        if (r == 0 && WIFSIGNALED(P.wstatus)) {
                if (WTERMSIG(P.wstatus) == SIGXCPU)
                        return dt_error_set(err, -ETIMEDOUT, DT_R_TIMEOUT, -1,
                                            "worker killed at its CPU limit (SIGXCPU)");
                return dt_error_set(err, -ECHILD, DT_R_WORKER_CRASH, -1, "worker killed by %s",
                                    signal_name(WTERMSIG(P.wstatus), sig, sizeof sig));
        }
        if (r == 0 && (!WIFEXITED(P.wstatus) || WEXITSTATUS(P.wstatus) != 0))
                return dt_error_set(err, -ECHILD, DT_R_WORKER_CRASH, -1, "worker exited with status %d%s",
                                    WIFEXITED(P.wstatus) ? WEXITSTATUS(P.wstatus) : -1,
                                    exit_text(WIFEXITED(P.wstatus) ? WEXITSTATUS(P.wstatus) : -1));
        if (r == 0)
                return dt_error_set(err, -ECHILD, DT_R_WORKER_CRASH, -1, "malformed worker stream: %s",
                                    truncated ? "cut inside a record" : "ended without a status");
        if (P.status_r < 0) {
                if (err)
                        *err = P.status;
                return P.status_r;
        }
        return 0;
}

void dt_worker_drop_ahead(struct dt_worker *w) {
        drop_ahead(w);
}

int dt_worker_parse(struct dt_worker *w, const void *data, size_t len, const char *source,
                    const struct dt_limits *lim, const struct dt_worker_sink *sink, void *userdata,
                    struct dt_error *err) {
        return dt_worker_parse_ahead(w, data, len, source, NULL, lim, sink, userdata, err);
}

char *dt_worker_failure_key(const struct dt_message *m, const struct dt_failure *f) {
        GChecksum *ck = g_checksum_new(G_CHECKSUM_SHA256);
        bool arf = false;
        size_t i, n = m ? dt_message_n_parts(m) : 0;
        char *hex;

        for (i = 0; i < n; i++) {
                const struct dt_part *part = dt_message_part(m, i);
                if (part->data && strcmp(part->content_type, "message/feedback-report") == 0) {
                        g_checksum_update(ck, part->data, (gssize) part->len);
                        arf = true;
                }
        }
        for (i = 0; !arf && i < n; i++) {
                const struct dt_part *part = dt_message_part(m, i);
                if (part->data)
                        g_checksum_update(ck, part->data, (gssize) part->len);
        }
        g_checksum_update(ck, (const guchar *) "\0", 1);
        if (f->original && f->original->message_id)
                g_checksum_update(ck, (const guchar *) f->original->message_id,
                                  (gssize) strlen(f->original->message_id));
        hex = strdup(g_checksum_get_string(ck));
        g_checksum_free(ck);
        return hex;
}
