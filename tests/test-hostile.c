/* test-hostile.c - the hostile-input catalogue (../shared/HOSTILE.md items 6-38 and 40) run
 * through the real pipeline, dt_parse_buffer(), one forked child per item; item 42 (hostile
 * mail-log lines) through the log reader, the line classifier and the index the same way
 *
 * Each fixture comes from tests/gen-hostile.c (included below, so the catalogue and its tests
 * cannot drift apart) and is built in memory, then handed to a child process. The child runs
 * dt_parse_buffer() with a sink that pulls every record and writes down everything it was handed
 * (a transcript of "key=value" lines, raw), and sends the outcome back over a pipe. The parent
 * asserts the reason code, what the sink got, and the bounds: every item under 256 MiB of peak
 * RSS growth (ru_maxrss from wait4, less the child's own at its start) and 10 s of wall time
 * (alarm() in the child, measured again in the parent; 30 s in an ASan build, which runs our
 * code some three times slower). One child per item, so one item's peak
 * cannot hide another's, and a crash or a hang fails that item alone. In a plain build the child
 * also runs under RLIMIT_AS (its size at start + 256 MiB); ASan and valgrind reserve address
 * space of their own, so there only the RSS measure holds.
 *
 * Under valgrind (or with DT_HOSTILE_QUICK=1) the few items that must push hundreds of MiB through
 * the decompressor and the XML parser run against scaled-down limits (16 MiB cap, ratio checked
 * past 1 MiB) and a 30x time budget: the same code paths and reasons, at a size valgrind can finish.
 *
 * Where the code's behaviour differs from HOSTILE.md and is defensible, the test asserts what
 * the code does and a comment says "HOSTILE.md differs". */
#define GEN_HOSTILE_NO_MAIN
#include "tests/gen-hostile.c"

#include <check.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>

#include <libxml/parser.h>

#include "agent/parse.h"
#include "correlate/index.h"
#include "correlate/logfile.h"
#include "correlate/logline.h"
#include "report/headers.h"
#include "report/sanitize.h"
#include "tests/testutil.h"

#if UNDER_ASAN
/* __asan_default_options - ASan keeps up to 256 MiB of freed memory in quarantine by default,
 * which would count as RSS growth of whatever item runs; 16 MiB still catches use-after-free */
const char *__asan_default_options(void);
const char *__asan_default_options(void) {
        return "quarantine_size_mb=16";
}
#endif

#define ITEM_RSS_KB (256L * 1024)      /* each item: at most 256 MiB of peak RSS growth */
#define ITEM_SECONDS 10                 /* ... and 10 s */
#define TRANSCRIPT_MAX (128u * 1024)

/* What the child saw, sent back whole over a pipe. */
struct outcome {
        int rc;                         /* dt_parse_buffer() */
        int code;
        char reason[40];                /* err.reason, "" when NULL */
        char message[256];
        int64_t offset, line;
        unsigned aggregates, failures;  /* sink calls */
        int next_rc;                    /* the last dt_aggregate_next() */
        uint64_t records, messages;     /* records pulled, dt_aggregate_message_count() */
        bool total_wrapped;             /* the message total went down at some record */
        size_t n_warnings, n_extensions;
        uint32_t mime_flags;
        bool has_message;
        bool dmarc;
        unsigned failure_flags, hdr_flags;
        int origin;
        size_t subject_len, subject_bytes, n_received, n_feedback;
        bool clean;                     /* every failure string passed the clean check */
        char describe[32];              /* dt_input_describe() */
        size_t tlen;
        bool ttrunc;
        char transcript[TRANSCRIPT_MAX];
        long rss_start_kb;              /* the child's ru_maxrss before the parse */
        long stderr_bytes;              /* what the code under test wrote to stderr */
        char stderr_head[160];
        bool done;
};

/* What the parent measured. */
struct run {
        struct outcome o;
        long rss_kb;                    /* peak growth */
        double seconds;
        int status;
        bool got;                       /* the outcome arrived whole */
};

static struct hostile_ctx hctx = { .marker_path = "/tmp/dmarctrace-xxe-marker" };
static bool quick;                      /* valgrind or DT_HOSTILE_QUICK: scaled limits */
static bool rlimit_off;                 /* measure the real peak instead of capping it */

/* item_seconds - the wall-time budget of one item in this build */
static unsigned item_seconds(void) {
        if (quick)
                return ITEM_SECONDS * 30;
        return UNDER_ASAN ? ITEM_SECONDS * 3 : ITEM_SECONDS;
}

/* ---- the recording sink ---- */

/* tput - append "key=value\n" (value raw, len bytes) to the transcript */
static void tput(struct outcome *o, const char *key, const char *v, size_t len) {
        size_t k = strlen(key);

        if (!v)
                return;
        if (o->tlen + k + len + 2 > sizeof o->transcript) {
                o->ttrunc = true;
                return;
        }
        memcpy(o->transcript + o->tlen, key, k);
        o->tlen += k;
        o->transcript[o->tlen++] = '=';
        memcpy(o->transcript + o->tlen, v, len);
        o->tlen += len;
        o->transcript[o->tlen++] = '\n';
}

/* tstr - tput for a C string (NULL skipped) */
static void tstr(struct outcome *o, const char *key, const char *v) {
        if (v)
                tput(o, key, v, strlen(v));
}

/* is_clean - strict UTF-8 with none of the characters sanitize.h removes (checked on its own) */
static bool is_clean(const char *s) {
        const unsigned char *p = (const unsigned char *) s;

        if (!s)
                return true;
        while (*p) {
                uint32_t cp;
                int n, k;

                if (*p < 0x80) {
                        cp = *p;
                        n = 1;
                } else if ((*p & 0xe0) == 0xc0 && *p >= 0xc2) {
                        cp = *p & 0x1f;
                        n = 2;
                } else if ((*p & 0xf0) == 0xe0) {
                        cp = *p & 0x0f;
                        n = 3;
                } else if ((*p & 0xf8) == 0xf0 && *p <= 0xf4) {
                        cp = *p & 0x07;
                        n = 4;
                } else {
                        return false;
                }
                for (k = 1; k < n; k++) {
                        if ((p[k] & 0xc0) != 0x80)
                                return false;
                        cp = cp << 6 | (p[k] & 0x3f);
                }
                if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
                    (cp >= 0xd800 && cp <= 0xdfff))
                        return false;
                if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x061c ||
                    (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x2028 && cp <= 0x202e) ||
                    (cp >= 0x2060 && cp <= 0x2064) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0xfeff)
                        return false;
                p += n;
        }
        return true;
}

/* cstr - record a string that must already be clean */
static void cstr(struct outcome *o, const char *key, const char *v) {
        if (!v)
                return;
        if (!is_clean(v) || strlen(v) > DT_HEADERS_LONG_MAX)
                o->clean = false;
        tstr(o, key, v);
}

/* on_aggregate - the sink for an aggregate report: pull every record, write down what came */
static int on_aggregate(void *userdata, const struct dt_parse_ctx *ctx, struct dt_aggregate *agg,
                        struct dt_error *err) {
        struct outcome *o = userdata;
        const struct dt_policy *p;
        const struct dt_record *rec;
        char num[64];
        size_t i;
        int r;

        o->aggregates++;
        if (ctx->message) {
                o->has_message = true;
                o->mime_flags = dt_message_flags(ctx->message);
                tstr(o, "subject", dt_message_subject(ctx->message));
                tstr(o, "from", dt_message_from(ctx->message));
        }
        if (ctx->input) {
                snprintf(o->describe, sizeof o->describe, "%s", dt_input_describe(ctx->input));
                tstr(o, "entry", dt_input_entry_name(ctx->input));
        }
        while ((r = dt_aggregate_next(agg, &rec, err)) == 1) {
                if (dt_aggregate_message_count(agg) < o->messages)
                        o->total_wrapped = true;
                o->messages = dt_aggregate_message_count(agg);
                if (o->records++ < 50) {
                        tstr(o, "source_ip", rec->source_ip);
                        snprintf(num, sizeof num, "%" PRIu64, rec->count);
                        tstr(o, "count", num);
                        tstr(o, "disposition", rec->disposition);
                        tstr(o, "dkim", rec->dkim);
                        tstr(o, "spf", rec->spf);
                        tstr(o, "header_from", rec->header_from);
                }
        }
        o->next_rc = r;
        tstr(o, "org", dt_aggregate_org(agg));
        tstr(o, "email", dt_aggregate_email(agg));
        tstr(o, "extra", dt_aggregate_extra_contact(agg));
        tstr(o, "report_id", dt_aggregate_report_id(agg));
        tstr(o, "version", dt_aggregate_version(agg));
        snprintf(num, sizeof num, "%" PRId64, dt_aggregate_begin(agg));
        tstr(o, "begin", num);
        snprintf(num, sizeof num, "%" PRId64, dt_aggregate_end(agg));
        tstr(o, "end", num);
        p = dt_aggregate_policy(agg);
        if (p) {
                tstr(o, "domain", p->domain);
                tstr(o, "p", p->p);
                tstr(o, "sp", p->sp);
                snprintf(num, sizeof num, "%d", p->pct);
                tstr(o, "pct", num);
        }
        o->n_extensions = dt_aggregate_n_extensions(agg);
        for (i = 0; i < o->n_extensions; i++)
                tstr(o, "extension", dt_aggregate_extension(agg, i));
        o->n_warnings = dt_aggregate_n_warnings(agg);
        for (i = 0; i < o->n_warnings; i++)
                tstr(o, "warning", dt_aggregate_warning(agg, i)->reason);
        return r;
}

/* record_headers - write down a failure report's original headers (all must be clean) */
static void record_headers(struct outcome *o, const struct dt_headers *h) {
        size_t i;

        cstr(o, "o.message_id", h->message_id);
        cstr(o, "o.from", h->from);
        cstr(o, "o.to", h->to);
        cstr(o, "o.subject", h->subject);
        cstr(o, "o.date", h->date_text);
        cstr(o, "o.authentication_results", h->authentication_results);
        cstr(o, "o.x_php_originating_script", h->x_php_originating_script);
        cstr(o, "o.php_script", h->php_script);
        cstr(o, "o.local.user", h->local.user);
        cstr(o, "o.local.queue_id", h->local.queue_id);
        for (i = 0; i < h->n_received; i++) {
                cstr(o, "o.received.by", h->received[i].by_host);
                cstr(o, "o.received.id", h->received[i].id);
                cstr(o, "o.received.from", h->received[i].from_host);
        }
        o->subject_len = h->subject ? strlen(h->subject) : 0;
        o->subject_bytes = h->subject_bytes;
        o->hdr_flags = h->flags;
        o->n_received = h->n_received;
}

/* on_failure - the sink for a failure report: write down what came (all must be clean) */
static int on_failure(void *userdata, const struct dt_parse_ctx *ctx, const struct dt_failure *f,
                      struct dt_error *err) {
        struct outcome *o = userdata;
        size_t i;

        (void) err;
        o->failures++;
        if (ctx->message) {
                o->has_message = true;
                o->mime_flags = dt_message_flags(ctx->message);
        }
        o->dmarc = f->dmarc;
        o->failure_flags = f->flags;
        o->origin = (int) f->origin;
        o->n_feedback = f->n_feedback;
        cstr(o, "feedback_type", f->feedback_type);
        cstr(o, "auth_failure", f->auth_failure);
        cstr(o, "source_ip", f->source_ip);
        cstr(o, "reported_domain", f->reported_domain);
        cstr(o, "original_mail_from", f->original_mail_from);
        cstr(o, "authentication_results", f->authentication_results);
        cstr(o, "user_agent", f->user_agent);
        for (i = 0; i < f->n_feedback; i++) {
                cstr(o, "fb.name", f->feedback[i].name);
                cstr(o, "fb.value", f->feedback[i].value);
        }
        if (f->original)
                record_headers(o, f->original);
        return 0;
}

/* ---- one item in a child ---- */

/* item_limits - the limits an item runs with: the defaults, or scaled down in quick mode for the
 * items marked heavy */
static struct dt_limits item_limits(bool heavy) {
        struct dt_limits lim = dt_limits_default;

        if (heavy && quick) {
                lim.unpacked_bytes = 16u << 20;
                lim.ratio_after_bytes = 1u << 20;
        }
        return lim;
}

/* vm_kb - this process's virtual size in KiB (/proc/self/statm), or -1 */
static long vm_kb(void) {
        FILE *f = fopen("/proc/self/statm", "re");
        unsigned long pages = 0;
        int ok;

        if (!f)
                return -1;
        ok = fscanf(f, "%lu", &pages) == 1;     /* our own file, not hostile input */
        fclose(f);
        return ok ? (long) (pages * (unsigned long) sysconf(_SC_PAGESIZE) / 1024) : -1;
}

/* child_main - parse data, send the outcome; never returns */
static void child_main(int fd, const char *name, const void *data, size_t len, bool heavy) {
        static struct outcome o;
        static const struct dt_parse_sink sink = { .aggregate = on_aggregate, .failure = on_failure };
        struct dt_limits lim = item_limits(heavy);
        struct rusage ru;
        struct dt_error err;
        const char *p;
        size_t left;
        int efd;

        alarm(item_seconds());
        memset(&o, 0, sizeof o);
        o.clean = true;
        getrusage(RUSAGE_SELF, &ru);
        o.rss_start_kb = ru.ru_maxrss;
        if (!UNDER_ASAN && !RUNNING_ON_VALGRIND && !rlimit_off) {
                long vm = vm_kb();
                struct rlimit rl;

                if (vm > 0) {
                        rl.rlim_cur = rl.rlim_max = (rlim_t) (vm + ITEM_RSS_KB) * 1024;
                        (void) setrlimit(RLIMIT_AS, &rl);
                }
        }
        /* report/ never logs: whatever reaches fd 2 during the parse is counted */
        efd = memfd_create("stderr", MFD_CLOEXEC);
        if (efd >= 0)
                (void) dup2(efd, STDERR_FILENO);
        dt_error_clear(&err);
        o.rc = dt_parse_buffer(data, len, name ? name : "buffer", &lim, &sink, &o, &err);
        o.code = err.code;
        snprintf(o.reason, sizeof o.reason, "%s", err.reason ? err.reason : "");
        memcpy(o.message, err.message, sizeof o.message);
        o.message[sizeof o.message - 1] = '\0';
        o.offset = err.offset;
        o.line = err.line;
        o.done = true;
        if (efd >= 0) {
                struct stat st;

                if (fstat(efd, &st) == 0)
                        o.stderr_bytes = (long) st.st_size;
                if (pread(efd, o.stderr_head, sizeof o.stderr_head - 1, 0) < 0)
                        o.stderr_head[0] = '\0';
        }
        for (p = (const char *) &o, left = sizeof o; left > 0;) {
                ssize_t w = write(fd, p, left);

                if (w < 0 && errno == EINTR)
                        continue;
                if (w <= 0)
                        _exit(4);
                p += w;
                left -= (size_t) w;
        }
        _exit(0);
}

/* run_item - fork, run the fixture called name (or data[0..len) when name is NULL) in the
 * child, collect its outcome, peak RSS growth and wall time */
static void run_item(const char *name, const void *data, size_t len, bool heavy, struct run *out) {
        struct timespec t0, t1;
        struct rusage ru;
        struct hbuf b = { 0 };
        size_t got = 0;
        int fds[2];
        pid_t pid;

        memset(out, 0, sizeof *out);
        if (name) {                     /* built here: the generator's time is not the item's */
                ck_assert_msg(hostile_build(name, &hctx, &b) == 0, "no fixture %s", name);
                data = b.p;
                len = b.len;
        }
        ck_assert_int_eq(pipe2(fds, O_CLOEXEC), 0);
        fflush(stdout);
        fflush(stderr);
        clock_gettime(CLOCK_MONOTONIC, &t0);
        pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                close(fds[0]);
                child_main(fds[1], name, data, len, heavy);
        }
        close(fds[1]);
        for (;;) {
                ssize_t n = read(fds[0], (char *) &out->o + got, sizeof out->o - got);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                got += (size_t) n;
                if (got == sizeof out->o)
                        break;
        }
        close(fds[0]);
        ck_assert_int_eq(wait4(pid, &out->status, 0, &ru), pid);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        out->got = got == sizeof out->o && out->o.done;
        out->seconds = (double) (t1.tv_sec - t0.tv_sec) + (double) (t1.tv_nsec - t0.tv_nsec) / 1e9;
        out->rss_kb = ru.ru_maxrss - (out->got ? out->o.rss_start_kb : 0);
        hb_free(&b);
}

/* check_bounds - the item finished by itself, within memory and time */
static void check_bounds(const char *what, const struct run *r) {
        double budget = item_seconds();

        ck_assert_msg(WIFEXITED(r->status) && WEXITSTATUS(r->status) == 0,
                      "%s: child died (%s %d)", what,
                      WIFSIGNALED(r->status) ? "signal" : "exit",
                      WIFSIGNALED(r->status) ? WTERMSIG(r->status) : WEXITSTATUS(r->status));
        ck_assert_msg(r->got, "%s: no outcome from the child", what);
        ck_assert_msg(r->rss_kb < ITEM_RSS_KB, "%s: peak RSS grew by %ld KiB", what, r->rss_kb);
        ck_assert_msg(r->seconds < budget, "%s: took %.1f s", what, r->seconds);
        ck_assert_msg(r->o.stderr_bytes == 0, "%s: wrote %ld bytes to stderr: %s", what,
                      r->o.stderr_bytes, r->o.stderr_head);
}

/* has_line - whether the transcript holds exactly "key=value" as a line */
static bool has_line(const struct outcome *o, const char *key, const char *value) {
        char want[512];
        int n = snprintf(want, sizeof want, "%s=%s\n", key, value);
        const char *p = o->transcript, *end = o->transcript + o->tlen;

        ck_assert(n > 0 && (size_t) n < sizeof want);
        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));

                if (!nl)
                        break;
                if ((size_t) (nl + 1 - p) == (size_t) n && memcmp(p, want, (size_t) n) == 0)
                        return true;
                p = nl + 1;
        }
        return false;
}

/* has_bytes - whether needle occurs anywhere in the transcript */
static bool has_bytes(const struct outcome *o, const char *needle) {
        return memmem(o->transcript, o->tlen, needle, strlen(needle)) != NULL;
}

/* ---- the catalogue, table-driven: fixture, expected reason ("" = success) ---- */

#define OK ""

struct expect {
        const char *fixture;
        const char *reason;             /* err.reason, or OK */
        int records;                    /* records the sink got (-1: don't care) */
        bool heavy;                     /* scaled down under valgrind */
        const char *note;
};

static const struct expect catalogue[] = {
        /* 1, 6-9: sizes, counts, nesting */
        { "empty.eml", DT_R_EMPTY, -1, false, "1: empty" },
        { "headers-never-end.eml", DT_R_HEADER_LIMIT, -1, false, "6" },
        { "subject-5mb.eml", DT_R_HEADER_LIMIT, -1, false, "7: beyond the header limit" },
        { "fields-100k.eml", DT_R_HEADER_COUNT_LIMIT, -1, false, "8" },
        { "fields-30k-small.eml", DT_R_HEADER_COUNT_LIMIT, -1, false, "8: count, not size" },
        { "failure-fields-100k.eml", DT_R_HEADER_COUNT_LIMIT, -1, false, "8: inside a failure report" },
        { "nesting-10000.eml", DT_R_MIME_DEPTH, -1, false, "9" },
        { "parts-10000.eml", DT_R_PART_COUNT_LIMIT, -1, false, "12" },
        /* 18-19: gzip */
        { "gzip-bomb.xml.gz", DT_R_DECOMPRESSED_RATIO, 0, false, "18" },
        { "gzip-bomb.eml", DT_R_DECOMPRESSED_RATIO, 0, false, "18: as an attachment" },
        { "gzip-size.xml.gz", DT_R_DECOMPRESSED_SIZE, 0, true, "18: under the ratio, over the cap" },
        { "gz-members-8.xml.gz", OK, 1, false, "19: 8 members" },
        { "gz-trailing-garbage.xml.gz", OK, 1, false, "19: trailing garbage tolerated" },
        { "gz-truncated.xml.gz", DT_R_TRUNCATED, -1, false, "19" },
        { "gz-bad-crc.xml.gz", DT_R_BAD_CRC, -1, false, "19" },
        { "gz-fextra-65535.xml.gz", OK, 1, false, "19: FEXTRA skipped by zlib" },
        /* 20-24: zip */
        { "zip-0-entries.zip", DT_R_EMPTY, -1, false, "20" },
        { "zip-10000-entries.zip", DT_R_ZIP_ENTRY_LIMIT, -1, false, "20" },
        { "zip-two-xml.zip", DT_R_ZIP_AMBIGUOUS, -1, false, "20" },
        { "zip-encrypted.zip", DT_R_ZIP_UNSUPPORTED, -1, false, "20" },
        { "zip-bzip2.zip", DT_R_ZIP_UNSUPPORTED, -1, false, "20" },
        { "zip-lzma.zip", DT_R_ZIP_UNSUPPORTED, -1, false, "20" },
        { "zip-deflate64.zip", DT_R_ZIP_UNSUPPORTED, -1, false, "20" },
        { "zip-zip64-extra.zip", OK, 1, false, "20: ZIP64 extra fields are fine" },
        { "zip-two-eocd.zip", DT_R_ZIP_AMBIGUOUS, -1, false, "20: two directories" },
        { "zip-overlap.zip", DT_R_ZIP_AMBIGUOUS, -1, false, "21" },
        /* HOSTILE.md wants ZIP_AMBIGUOUS with both names; libzip refuses this one first, as
         * ZIP_MALFORMED ("Not a zip archive"): rejected all the same, names not reported */
        { "zip-lh-cd-name.zip", DT_R_ZIP_AMBIGUOUS "|" DT_R_ZIP_MALFORMED, -1, false, "22" },
        { "zip-lh-cd-method.zip", DT_R_ZIP_AMBIGUOUS, -1, false, "22" },
        { "zip-name-traversal.zip", OK, 1, false, "23: name never used as a path" },
        { "zip-name-absolute.zip", OK, 1, false, "23" },
        { "zip-name-64k.zip", OK, 1, false, "23" },
        { "zip-name-ansi.zip", OK, 1, false, "23" },
        { "nested-zip-gz-zip.zip", DT_R_NESTED_ARCHIVE, -1, false, "24" },
        { "gz-gz-gz.xml.gz.gz.gz", DT_R_NESTED_ARCHIVE, -1, false, "24" },
        /* 25: labels are not trusted */
        { "ct-zip-gzip-bytes.eml", OK, 1, false, "25" },
        { "ct-textxml-gzip.eml", OK, 1, false, "25" },
        { "ct-octet-stream.eml", OK, 1, false, "25" },
        { "ct-plain-xml.eml", OK, 1, false, "25" },
        { "ct-inline-text.eml", OK, 1, false, "25" },
        /* 27-29: XML */
        { "billion-laughs.xml", DT_R_XML_DTD_REJECTED, 0, false, "27" },
        { "billion-laughs.xml.gz", DT_R_XML_DTD_REJECTED, 0, false, "27" },
        { "xxe-http.xml", DT_R_XML_DTD_REJECTED, 0, false, "28" },
        { "xxe-parameter.xml", DT_R_XML_DTD_REJECTED, 0, false, "28" },
        { "xxe-external-dtd.xml", DT_R_XML_DTD_REJECTED, 0, false, "28" },
        { "xml-deep-100000.xml", DT_R_XML_DEPTH_LIMIT, 0, false, "29" },
        /* 30-31 */
        { "report-id-100k.xml", DT_R_FIELD_LIMIT, 0, false, "30: an identity field over the cap" },
        { "xml-text-100mb.xml.gz", DT_R_FIELD_LIMIT, 0, true, "30: libxml2's own text limit" },
        { "xml-text-cut-by-comments.xml.gz", DT_R_FIELD_LIMIT, 0, true,
          "30: 8 MiB without an element start" },
        /* 32: encodings that would hide markup from report/xmlguard.c */
        { "enc-utf7.xml", DT_R_XML_MALFORMED, 0, false, "32: UTF-7 refused" },
        { "enc-ebcdic-declared.xml", DT_R_XML_MALFORMED, 0, false, "32: IBM037 refused" },
        { "enc-utf16-comments.xml", DT_R_FIELD_LIMIT, 0, false, "32: UTF-16 comments counted" },
        /* 33 */
        { "markup-lt.xml", DT_R_XML_MALFORMED, 0, false, "33" },
        { "comment-hyphens.xml", DT_R_XML_MALFORMED, 0, false, "33: stops at the first \"--\"" },
        { "markup-amp.xml", DT_R_XML_MALFORMED, 0, false, "33" },
        { "markup-report-id-close.xml", DT_R_XML_MALFORMED, 0, false, "33" },
        { "markup-two-roots.xml", DT_R_XML_MALFORMED, -1, false, "33" },
        { "markup-after-root.xml", DT_R_XML_MALFORMED, -1, false, "33" },
        /* 35 */
        { "id-none.xml", DT_R_AGG_IDENTITY, 0, false, "35" },
        /* no policy_published: the domain could still come after the records, so the record
         * before it is handed out and the end of the document rejects the report */
        { "id-no-policy.xml", DT_R_AGG_IDENTITY, -1, false, "35" },
        /* 37, 41 */
        { "dmarcbis.xml", OK, 1, false, "37" },
        { "spoofed-google.xml", OK, 1, false, "41: recorded as claimed" },
};

/* reason_is - whether reason is one of the '|'-separated alternatives in want ("" = none) */
static bool reason_is(const char *reason, const char *want) {
        size_t n = strlen(reason);

        if (!want[0])
                return n == 0;
        for (;;) {
                const char *bar = strchr(want, '|');
                size_t k = bar ? (size_t) (bar - want) : strlen(want);

                if (n > 0 && k == n && memcmp(reason, want, n) == 0)
                        return true;
                if (!bar)
                        return false;
                want = bar + 1;
        }
}

START_TEST(catalogue_item)
{
        const struct expect *e = &catalogue[_i];
        struct run r;

        run_item(e->fixture, NULL, 0, e->heavy, &r);
        check_bounds(e->fixture, &r);
        ck_assert_msg(reason_is(r.o.reason, e->reason), "%s (%s): reason '%s' (%s), want '%s'",
                      e->fixture, e->note, r.o.reason, r.o.message, e->reason[0] ? e->reason : "none");
        if (e->reason[0]) {
                ck_assert_msg(r.o.rc < 0 && r.o.code == r.o.rc, "%s: rc %d code %d", e->fixture,
                              r.o.rc, r.o.code);
                ck_assert_msg(memchr(r.o.message, '\0', sizeof r.o.message) && r.o.message[0],
                              "%s: no message", e->fixture);
        } else {
                ck_assert_msg(r.o.rc == 0, "%s: rc %d (%s)", e->fixture, r.o.rc, r.o.message);
        }
        if (e->records >= 0)
                ck_assert_msg(r.o.records == (uint64_t) e->records, "%s: %" PRIu64 " records, want %d",
                              e->fixture, r.o.records, e->records);
        ck_assert(!r.o.total_wrapped);
}
END_TEST

/* ---- items with more to say ---- */

/* fixture - the outcome of the fixture called name, bounds checked (static: one at a time) */
static struct run *fixture(const char *name, bool heavy) {
        static struct run r;

        run_item(name, NULL, 0, heavy, &r);
        check_bounds(name, &r);
        return &r;
}

START_TEST(item_07_subject_capped_and_counted)
{
        const struct outcome *o = &fixture("failure-subject-90k.eml", false)->o;

        ck_assert_str_eq(o->reason, "");
        ck_assert_uint_eq(o->failures, 1);
        /* HOSTILE.md differs: it asks for an event Subject <= 256 B; report/headers.c keeps
         * DT_HEADERS_TEXT_MAX (1024) bytes and the raw length, and the event layer cuts further */
        ck_assert_uint_le(o->subject_len, DT_HEADERS_TEXT_MAX);
        ck_assert_uint_ge(o->subject_len, 256);
        ck_assert_uint_eq(o->subject_bytes, 90000);
        ck_assert(o->hdr_flags & DT_HDR_TRUNCATED);
        ck_assert(o->clean);
}
END_TEST

/* 10: each kind of multipart damage: flagged, and the report still found where it can be */
START_TEST(item_10_multipart_damage)
{
        static const struct {
                const char *fixture;
                const char *reason;
                bool flagged;
        } t[] = {
                { "mp-no-boundary.eml", DT_R_NOT_A_REPORT, false },
                { "mp-empty-boundary.eml", DT_R_NOT_A_REPORT, false },
                /* RFC 2046 boundaries are at most 70 characters: gmime finds no part in a
                 * 10 KB one, so there is no report to find */
                { "mp-long-boundary.eml", DT_R_NOT_A_REPORT, false },
                { "mp-prefix-boundary.eml", OK, false },
                { "mp-boundary-in-base64.eml", OK, false },
                { "mp-unterminated.eml", OK, true },
        };
        const struct outcome *o = &fixture(t[_i].fixture, false)->o;

        ck_assert_msg(strcmp(o->reason, t[_i].reason) == 0, "%s: reason '%s' (%s)", t[_i].fixture,
                      o->reason, o->message);
        if (!t[_i].reason[0]) {
                ck_assert_uint_eq(o->records, 1);
                if (t[_i].flagged)
                        ck_assert_msg(o->mime_flags & DT_MIME_ANOMALY, "%s: not flagged", t[_i].fixture);
        }
}
END_TEST

START_TEST(item_11_conflicting_content_type)
{
        const struct outcome *o = &fixture("conflicting-content-type.eml", false)->o;

        ck_assert_msg(o->reason[0] == '\0', "reason '%s' (%s)", o->reason, o->message);
        ck_assert(o->mime_flags & DT_MIME_CONFLICTING_HEADER);
        ck_assert_uint_eq(o->records, 1);               /* gmime's choice: the multipart */
}
END_TEST

/* 13: broken transfer encodings decode or fail locally; never crash, never past the caps */
START_TEST(item_13_transfer_encodings)
{
        static const char *const f[] = { "b64-junk.eml", "b64-bad-padding.eml",
                                         "b64-leading-equals.eml", "qp-softbreak-flood.eml",
                                         "uuencode-giant-length.eml" };
        const struct outcome *o = &fixture(f[_i], false)->o;

        ck_assert_msg(o->reason[0] == '\0' || strcmp(o->reason, DT_R_NOT_A_REPORT) == 0 ||
                      strcmp(o->reason, DT_R_TRUNCATED) == 0 || strcmp(o->reason, DT_R_BAD_CRC) == 0 ||
                      strcmp(o->reason, DT_R_GZIP_MALFORMED) == 0 ||
                      strcmp(o->reason, DT_R_XML_MALFORMED) == 0,
                      "%s: reason '%s' (%s)", f[_i], o->reason, o->message);
        ck_assert_uint_le(o->records, 1);
}
END_TEST

START_TEST(item_14_gmime165_no_hang)
{
        const struct outcome *o = &fixture("gmime165-params.eml", false)->o;

        /* the bound is the point (check_bounds); the report is still found */
        ck_assert_msg(o->reason[0] == '\0', "reason '%s' (%s)", o->reason, o->message);
        ck_assert_uint_eq(o->records, 1);
}
END_TEST

START_TEST(item_15_address_bombs)
{
        static const char *const f[] = { "from-colons.eml", "from-5000.eml", "from-nested-groups.eml" };
        const struct outcome *o = &fixture(f[_i], false)->o;

        ck_assert_msg(o->reason[0] == '\0', "%s: reason '%s' (%s)", f[_i], o->reason, o->message);
        ck_assert_uint_eq(o->records, 1);
}
END_TEST

START_TEST(item_15_from_multi_and_missing)
{
        const struct outcome *multi = &fixture("failure-multi-from.eml", false)->o;
        unsigned flags = multi->hdr_flags;
        bool has_from;

        ck_assert_uint_eq(multi->failures, 1);
        ck_assert(flags & DT_HDR_MULTI_FROM);
        ck_assert(has_line(multi, "o.from", "shop@example.com"));     /* the first one */
        has_from = has_bytes(&fixture("failure-no-from.eml", false)->o, "o.from=");
        ck_assert(!has_from);
}
END_TEST

START_TEST(item_16_encoded_words)
{
        const struct outcome *o = &fixture("encoded-words.eml", false)->o;

        ck_assert_str_eq(o->reason, "");
        ck_assert_uint_eq(o->failures, 1);
        ck_assert(o->clean);                            /* U+202E and bad bytes did not survive */
        ck_assert(has_bytes(o, "\xef\xbf\xbd"));        /* ... they became U+FFFD */
        ck_assert_uint_le(o->subject_len, DT_HEADERS_TEXT_MAX);
        ck_assert(o->hdr_flags & DT_HDR_TRUNCATED);
}
END_TEST

START_TEST(item_17_nul_and_cr)
{
        const struct outcome *o = &fixture("nul-cr.eml", false)->o;

        ck_assert_msg(o->reason[0] == '\0', "reason '%s' (%s)", o->reason, o->message);
        ck_assert_uint_eq(o->failures, 1);
        ck_assert(o->clean);
        ck_assert(has_bytes(o, "o.subject=a\\0b"));     /* NUL shown as \0, nothing cut at it */
}
END_TEST

/* 18: the bomb under the unpacker alone, at the default limits: stops at the ratio guard just
 * past 8 MiB of output */
START_TEST(item_18_gzip_bomb_unpack_only)
{
        struct hbuf b;
        struct dt_input *in = NULL;
        struct dt_error err;
        static char buf[65536];
        uint64_t total = 0;
        ssize_t n;

        ck_assert_int_eq(hostile_build("gzip-bomb.xml.gz", &hctx, &b), 0);
        ck_assert_uint_lt(b.len, 12u << 20);
        dt_error_clear(&err);
        ck_assert_int_eq(dt_unpack_open(b.p, b.len, &dt_limits_default, &in, &err), 0);
        while ((n = dt_input_read(in, buf, sizeof buf)) > 0)
                total += (uint64_t) n;
        ck_assert_int_lt(n, 0);
        ck_assert_str_eq(dt_input_error(in)->reason, DT_R_DECOMPRESSED_RATIO);
        ck_assert_uint_ge(total, dt_limits_default.ratio_after_bytes);
        /* HOSTILE.md says "after 8 MiB"; the ratio is taken against the compressed bytes zlib
         * has consumed, which run ahead of the output, so a bomb at ~1030:1 stops somewhat
         * later: long before the 256 MiB cap, with no memory growth either way */
        ck_assert_uint_lt(total, 64u << 20);
        dt_input_free(in);
        hb_free(&b);
}
END_TEST

/* 19: the gzip edges whose outcome is one of two defensible ones */
START_TEST(item_19_gzip_edges)
{
        const struct outcome *o9 = &fixture("gz-members-9.xml.gz", false)->o;
        const struct outcome *isz, *fn;

        /* 9 members: the 9th is past GZ_MEMBERS_MAX (8); tolerated as trailing bytes or refused */
        ck_assert_msg(o9->reason[0] == '\0' || strcmp(o9->reason, DT_R_GZIP_MALFORMED) == 0 ||
                      strcmp(o9->reason, DT_R_XML_MALFORMED) == 0,
                      "9 members: '%s' (%s)", o9->reason, o9->message);
        isz = &fixture("gz-lying-isize.xml.gz", false)->o;
        /* zlib checks ISIZE with the CRC: a lying ISIZE is a bad check value */
        ck_assert_msg(strcmp(isz->reason, DT_R_BAD_CRC) == 0 ||
                      strcmp(isz->reason, DT_R_GZIP_MALFORMED) == 0,
                      "lying ISIZE: '%s' (%s)", isz->reason, isz->message);
        fn = &fixture("gz-fname-unterminated.gz", false)->o;
        ck_assert_msg(strcmp(fn->reason, DT_R_TRUNCATED) == 0 ||
                      strcmp(fn->reason, DT_R_GZIP_MALFORMED) == 0 ||
                      strcmp(fn->reason, DT_R_UNKNOWN_FORMAT) == 0 ||
                      strcmp(fn->reason, DT_R_EMPTY) == 0,
                      "FNAME: '%s' (%s)", fn->reason, fn->message);
}
END_TEST

START_TEST(item_20_zip_odd_but_single)
{
        static const char *const f[] = { "zip-descriptor-zero.zip", "zip-lh-cd-size.zip",
                                         "zip-name-nul.zip" };
        const struct outcome *o = &fixture(f[_i], false)->o;

        /* either read correctly or refused as ambiguous/malformed: never a guess in between */
        if (o->reason[0] == '\0')
                ck_assert_uint_eq(o->records, 1);
        else
                ck_assert_msg(strcmp(o->reason, DT_R_ZIP_AMBIGUOUS) == 0 ||
                              strcmp(o->reason, DT_R_ZIP_MALFORMED) == 0 ||
                              strcmp(o->reason, DT_R_BAD_CRC) == 0 ||
                              strcmp(o->reason, DT_R_TRUNCATED) == 0,
                              "%s: '%s' (%s)", f[_i], o->reason, o->message);
}
END_TEST

START_TEST(item_23_entry_name_kept_raw_sanitised_on_output)
{
        const struct outcome *o = &fixture("zip-name-ansi.zip", false)->o;
        static const char raw[] = "\x1b[2J\x1b[H\x1b]0;pwned\x07report.xml";
        char clean[256];

        ck_assert_str_eq(o->reason, "");
        ck_assert(has_line(o, "entry", raw));           /* as stored: hostile, for the caller */
        (void) dt_sanitize(raw, sizeof raw - 1, clean, sizeof clean, NULL);
        ck_assert(is_clean(clean));
        ck_assert_ptr_null(strchr(clean, '\x1b'));
        ck_assert_str_eq(o->describe, "zip");
}
END_TEST

START_TEST(item_24_two_gzip_layers_are_fine)
{
        const struct outcome *o = &fixture("gz-gz.xml.gz.gz", false)->o;

        /* HOSTILE.md says "NESTED_ARCHIVE after one layer"; DESIGN.md section 7 and the corpus
         * (tierpod_test.xml.gz.gz) allow one layer inside another: the third is refused */
        ck_assert_str_eq(o->reason, "");
        ck_assert_uint_eq(o->records, 1);
        ck_assert_str_eq(o->describe, "gzip+gzip");
}
END_TEST

START_TEST(item_25_mismatch_flagged)
{
        const struct outcome *o = &fixture("ct-zip-gzip-bytes.eml", false)->o;

        ck_assert_str_eq(o->reason, "");
        ck_assert(o->mime_flags & DT_MIME_CONTENT_TYPE_MISMATCH);
}
END_TEST

START_TEST(item_26_unused_and_random)
{
        static const char *const f[] = { "payload-unused.eml", "payload-random.eml", "bare-unused" };
        const struct outcome *o = &fixture(f[_i], false)->o;

        /* HOSTILE.md says UNKNOWN_FORMAT; the pipeline says NOT_A_REPORT: the message holds no
         * bytes that are a report, whatever the label claims (classification is by content) */
        ck_assert_msg(strcmp(o->reason, DT_R_NOT_A_REPORT) == 0 ||
                      strcmp(o->reason, DT_R_UNKNOWN_FORMAT) == 0 ||
                      strcmp(o->reason, DT_R_MIME_MALFORMED) == 0,     /* "unused" is no message */
                      "%s: '%s' (%s)", f[_i], o->reason, o->message);
        ck_assert_uint_eq(o->aggregates + o->failures, 0);
}
END_TEST

/* 28: the marker file holds a unique string; it must appear nowhere */
static char marker_value[64];

/* write_marker - a marker file with a unique string, its path in hctx */
static void write_marker(void) {
        static char path[64];
        int fd;

        snprintf(path, sizeof path, "/tmp/dt-xxe-marker-%ld", (long) getpid());
        snprintf(marker_value, sizeof marker_value, "SECRET-MARKER-%ld-%ld", (long) getpid(),
                 (long) time(NULL));
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(write(fd, marker_value, strlen(marker_value)), (ssize_t) strlen(marker_value));
        close(fd);
        hctx.marker_path = path;
}

START_TEST(item_28_xxe_reads_no_file)
{
        static const char *const f[] = { "xxe-file.xml", "xxe-file-gz.eml", "xxe-parameter.xml",
                                         "xxe-external-dtd.xml" };
        const struct outcome *o;

        write_marker();
        o = &fixture(f[_i], false)->o;
        ck_assert_msg(strcmp(o->reason, DT_R_XML_DTD_REJECTED) == 0, "%s: '%s' (%s)", f[_i],
                      o->reason, o->message);
        ck_assert_ptr_null(memmem(o->transcript, o->tlen, marker_value, strlen(marker_value)));
        ck_assert_ptr_null(strstr(o->message, marker_value));
        ck_assert_uint_eq(o->records, 0);
        (void) unlink(hctx.marker_path);
}
END_TEST

START_TEST(item_28_xinclude_not_processed)
{
        const struct outcome *o;

        write_marker();
        o = &fixture("xinclude.xml", false)->o;
        /* HOSTILE.md says XML_DTD_REJECTED; there is no DTD here: XInclude is simply never
         * processed (no XML_PARSE_XINCLUDE), so xi:include is an unknown element, listed as an
         * extension, and the file is not read */
        ck_assert_msg(o->reason[0] == '\0' || strcmp(o->reason, DT_R_XML_DTD_REJECTED) == 0,
                      "'%s' (%s)", o->reason, o->message);
        ck_assert_ptr_null(memmem(o->transcript, o->tlen, marker_value, strlen(marker_value)));
        ck_assert_ptr_null(strstr(o->message, marker_value));
        (void) unlink(hctx.marker_path);
}
END_TEST

/* 28: the deny-all loader is installed by the first aggregate parse and returns NULL */
START_TEST(item_28_entity_loader_denies)
{
        struct hbuf b;
        struct dt_input *in = NULL;
        struct dt_aggregate *agg = NULL;
        struct dt_error err;
        xmlParserCtxtPtr pc;
        xmlExternalEntityLoader loader;

        write_marker();
        ck_assert_int_eq(hostile_build("spoofed-google.xml", &hctx, &b), 0);
        dt_error_clear(&err);
        ck_assert_int_eq(dt_unpack_open(b.p, b.len, &dt_limits_default, &in, &err), 0);
        ck_assert_int_eq(dt_aggregate_open(in, &dt_limits_default, &agg, &err), 0);
        loader = xmlGetExternalEntityLoader();
        ck_assert_ptr_nonnull(loader);
        pc = xmlNewParserCtxt();
        ck_assert_ptr_nonnull(pc);
        ck_assert_ptr_null(loader(hctx.marker_path, NULL, pc));
        ck_assert_ptr_null(loader("http://192.0.2.1/evil.dtd", NULL, pc));
        xmlFreeParserCtxt(pc);
        dt_aggregate_free(agg);
        dt_input_free(in);
        hb_free(&b);
        (void) unlink(hctx.marker_path);
}
END_TEST

/* 30: memory stays flat when text runs on without an element start. The fixture holds 200 MB
 * of text with a comment every megabyte, so neither libxml2's 10 MB text limit nor the comment
 * count stops it; the reader kept what it read: `dmarctrace parse` peaked at 272 MB of RSS
 * before report/xmlguard.c stopped it at 8 MiB (28 MB now). RSS is not measured under
 * valgrind. */
START_TEST(item_30_text_without_element_start_bounded)
{
        const struct run *r = fixture("xml-text-cut-by-comments.xml.gz", true);
        const long bound_kb = (UNDER_ASAN ? 96L : 40L) * 1024;

        ck_assert_str_eq(r->o.reason, DT_R_FIELD_LIMIT);
        ck_assert_msg(strstr(r->o.message, "without an element start"), "%s", r->o.message);
        ck_assert_int_ge(r->o.offset, 8 << 20);
        ck_assert_int_lt(r->o.offset, 9 << 20);
        if (!RUNNING_ON_VALGRIND)
                ck_assert_msg(r->rss_kb < bound_kb, "peak RSS grew by %ld KiB", r->rss_kb);
}
END_TEST

START_TEST(item_30_long_org_name_cut_with_warning)
{
        const struct outcome *o = &fixture("org-name-100k.xml", false)->o;
        const char *p;
        size_t n = 0;

        ck_assert_str_eq(o->reason, "");
        ck_assert_uint_eq(o->records, 1);
        ck_assert_uint_ge(o->n_warnings, 1);
        p = memmem(o->transcript, o->tlen, "org=", 4);
        ck_assert_ptr_nonnull(p);
        for (p += 4; *p == 'o'; p++)
                n++;
        ck_assert_uint_le(n, dt_limits_default.xml_text_bytes);
        ck_assert_uint_gt(n, 0);
}
END_TEST

/* 31: a giant report is streamed to the cap and not passed off as complete */
START_TEST(item_31_giant_report_stops_at_cap)
{
        /* quick mode: the 16 MiB cap is reached by the 50k report (~40 MiB), which valgrind can
         * generate in seconds, where the million records take minutes */
        const struct outcome *o = &fixture(quick ? "agg-50k-records.xml.gz" : "giant-1m-records.xml.gz",
                                           true)->o;

        ck_assert_msg(strcmp(o->reason, DT_R_DECOMPRESSED_SIZE) == 0, "'%s' (%s)", o->reason,
                      o->message);
        ck_assert_int_lt(o->rc, 0);                     /* not complete: the caller rejects */
        ck_assert_int_lt(o->next_rc, 0);
        ck_assert_uint_eq(o->aggregates, 1);
        ck_assert_uint_gt(o->records, 1000);            /* streamed: records came before the cap */
        ck_assert_uint_lt(o->records, quick ? 50000 : 1000000);
        ck_assert(!o->total_wrapped);
}
END_TEST

START_TEST(item_31_50k_records_complete)
{
        const struct outcome *o = &fixture("agg-50k-records.xml.gz", false)->o;

        ck_assert_msg(o->reason[0] == '\0', "'%s' (%s)", o->reason, o->message);
        ck_assert_uint_eq(o->records, 50000);
        ck_assert_uint_ge(o->messages, 50000);
        ck_assert_uint_le(o->messages, 150000);
}
END_TEST

/* 32: encoding faults: rejected with a place, or parsed into valid UTF-8 */
START_TEST(item_32_encodings)
{
        static const struct {
                const char *fixture;
                const char *org;                /* expected org when parsed, or NULL */
        } t[] = {
                { "enc-0x91.xml", NULL },
                { "enc-declared-differs.xml", NULL },
                { "enc-utf16-bom.xml", "utf16.example" },
                { "enc-bogus.xml", NULL },
                /* BUG: libxml2 2.9.14 reports encoding errors through its global generic
                 * error handler, which prints to stderr ("encoding error : input conversion
                 * failed ...", "I/O error : encoder error"): report/ must never log. The
                 * reader's structured handler does not see them; aggregate.c would need
                 * xmlSetGenericErrorFunc() with a silent function. Fails in check_bounds. */
                { "enc-cp1252-undefined.xml", NULL },
                { "enc-overlong.xml", NULL },
        };
        const struct outcome *o = &fixture(t[_i].fixture, false)->o;

        if (o->reason[0]) {
                ck_assert_msg(strcmp(o->reason, DT_R_XML_MALFORMED) == 0, "%s: '%s' (%s)",
                              t[_i].fixture, o->reason, o->message);
                ck_assert_msg(o->line > 0 || o->offset >= 0, "%s: no place", t[_i].fixture);
                ck_assert(t[_i].org == NULL);
        } else {
                const char *org = memmem(o->transcript, o->tlen, "org=", 4);
                char v[256];
                const char *nl;

                ck_assert_ptr_nonnull(org);
                nl = memchr(org, '\n', (size_t) (o->transcript + o->tlen - org));
                ck_assert_ptr_nonnull(nl);
                snprintf(v, sizeof v, "%.*s", (int) (nl - org - 4), org + 4);
                /* libxml2 hands out UTF-8; hostile characters remain for the sanitiser */
                {
                        char c[768];

                        (void) dt_sanitize(v, strlen(v), c, sizeof c, NULL);
                        ck_assert(is_clean(c));
                }
                if (t[_i].org)
                        ck_assert_str_eq(v, t[_i].org);
                ck_assert_uint_eq(o->records, 1);
        }
}
END_TEST

START_TEST(item_33_malformed_has_line)
{
        const struct outcome *o = &fixture("markup-amp.xml", false)->o;

        ck_assert_str_eq(o->reason, DT_R_XML_MALFORMED);
        ck_assert_int_gt(o->line, 0);
        ck_assert(is_clean(o->message));
}
END_TEST

START_TEST(item_33_stray_schema_tolerated)
{
        const struct outcome *o = &fixture("markup-xs-schema.xml", false)->o;

        /* HOSTILE.md says XML_MALFORMED; the corpus decision (MANIFEST.md, IKEA) parses it with
         * a warning, and that is what the code does */
        ck_assert_msg(o->reason[0] == '\0' || strcmp(o->reason, DT_R_XML_MALFORMED) == 0,
                      "'%s' (%s)", o->reason, o->message);
        if (o->reason[0] == '\0')
                ck_assert_uint_ge(o->n_warnings, 1);
}
END_TEST

START_TEST(item_34_bad_counts_skipped)
{
        const struct outcome *o = &fixture("sem-counts.xml", false)->o;

        ck_assert_str_eq(o->reason, "");
        ck_assert_uint_eq(o->records, 1);               /* only count 7 is a count */
        ck_assert(has_line(o, "count", "7"));
        ck_assert_uint_eq(o->messages, 7);
        ck_assert_uint_ge(o->n_warnings, 4);
}
END_TEST

START_TEST(item_34_counts_never_wrap)
{
        const struct outcome *o = &fixture("sem-overflow.xml", false)->o;

        ck_assert_str_eq(o->reason, "");
        ck_assert(!o->total_wrapped);
        ck_assert_uint_ge(o->messages, 9223372036854775807ull);
        ck_assert_uint_ge(o->n_warnings, 1);            /* the record that would wrap is skipped */
}
END_TEST

START_TEST(item_34_bad_addresses_skipped)
{
        const struct outcome *o = &fixture("sem-ips.xml", false)->o;

        ck_assert_str_eq(o->reason, "");
        ck_assert_uint_eq(o->records, 1);
        ck_assert(has_line(o, "source_ip", "192.0.2.9"));
        ck_assert_uint_ge(o->n_warnings, 4);
}
END_TEST

START_TEST(item_34_odd_dates_still_summarised)
{
        static const char *const f[] = { "sem-begin-after-end.xml", "sem-span-week.xml",
                                         "sem-millis.xml", "sem-year-3000.xml", "sem-domains.xml" };
        const struct outcome *o = &fixture(f[_i], false)->o;

        ck_assert_msg(o->reason[0] == '\0', "%s: '%s' (%s)", f[_i], o->reason, o->message);
        ck_assert_uint_eq(o->records, 1);
}
END_TEST

START_TEST(item_34_enums_kept_lower_case)
{
        const struct outcome *o = &fixture("sem-domains.xml", false)->o;

        ck_assert(has_line(o, "disposition", "hardfail"));
        ck_assert(has_line(o, "dkim", "$text"));
        ck_assert(has_line(o, "p", "hardfail"));
}
END_TEST

START_TEST(item_35_duplicated_identity_first_wins)
{
        const struct outcome *two = &fixture("id-two.xml", false)->o;
        bool first;

        ck_assert_str_eq(two->reason, "");
        ck_assert(has_line(two, "report_id", "first"));
        ck_assert_uint_ge(two->n_warnings, 1);
        first = has_line(&fixture("id-two-metadata.xml", false)->o, "report_id", "first");
        ck_assert(first);
}
END_TEST

START_TEST(item_36_replays_parse_the_same)
{
        struct run a, b;

        run_item("spoofed-google.xml", NULL, 0, false, &a);
        run_item("spoofed-google.xml", NULL, 0, false, &b);
        check_bounds("replay", &a);
        check_bounds("replay", &b);
        ck_assert(has_line(&a.o, "org", "google.com"));  /* 41: as claimed, nothing more */
        ck_assert_uint_eq(a.o.tlen, b.o.tlen);
        ck_assert_int_eq(memcmp(a.o.transcript, b.o.transcript, a.o.tlen), 0);
        run_item("replay-range.xml", NULL, 0, false, &b);
        ck_assert(has_line(&b.o, "report_id", "hostile-1"));
        ck_assert(has_line(&b.o, "begin", "1700086400"));
        run_item("replay-org.xml", NULL, 0, false, &b);
        ck_assert(has_line(&b.o, "org", "other-receiver.example"));
}
END_TEST

START_TEST(item_37_extensions_counted)
{
        const struct outcome *o = &fixture("dmarcbis.xml", false)->o;

        ck_assert_uint_ge(o->n_extensions, 1);
}
END_TEST

/* 38: broken ARF */
START_TEST(item_38_broken_arf)
{
        const struct outcome *o;

        o = &fixture("arf-no-feedback.eml", false)->o;
        ck_assert_msg(o->reason[0] != '\0' || (o->failures == 1 && (o->failure_flags & DT_FAILURE_NO_ARF)),
                      "no feedback part: '%s' flags %x", o->reason, o->failure_flags);

        o = &fixture("arf-abuse.eml", false)->o;
        ck_assert_uint_eq(o->failures, 1);
        ck_assert(!o->dmarc);
        ck_assert(has_line(o, "feedback_type", "abuse"));

        o = &fixture("arf-repeated-ip.eml", false)->o;
        ck_assert_uint_eq(o->failures, 1);
        ck_assert(has_line(o, "source_ip", "192.0.2.1"));
        ck_assert(o->failure_flags & DT_FAILURE_REPEATED);

        o = &fixture("arf-10000-ar.eml", false)->o;
        ck_assert_msg(strcmp(o->reason, DT_R_HEADER_COUNT_LIMIT) == 0 ||
                      (o->failures == 1 && o->n_feedback <= dt_limits_default.header_fields),
                      "10,000 A-R: '%s' (%s)", o->reason, o->message);

        o = &fixture("arf-redacted.eml", false)->o;
        ck_assert_uint_eq(o->failures, 1);
        ck_assert(o->clean);

        o = &fixture("arf-vendor.eml", false)->o;
        ck_assert_msg(o->failures == 1 || strcmp(o->reason, DT_R_NOT_A_REPORT) == 0,
                      "vendor: '%s'", o->reason);
}
END_TEST

START_TEST(item_38_injected_auth_results_is_data)
{
        const struct outcome *o = &fixture("arf-injected-ar.eml", false)->o;

        ck_assert_str_eq(o->reason, "");
        ck_assert_uint_eq(o->failures, 1);
        ck_assert(o->clean);
        /* kept as text, folded onto one line: no new field, no new line */
        ck_assert(has_bytes(o, "authentication_results=receiver.example; dmarc=fail"));
        ck_assert(!has_bytes(o, "\nPRIORITY=0"));
        ck_assert(has_bytes(o, "o.authentication_results=mail.example.com; dmarc=pass"));
}
END_TEST

/* 40: every logged field of a failure report comes out clean; the payloads stay visible as text */
START_TEST(item_40_injection_failure_fields_clean)
{
        const struct outcome *o = &fixture("inject-failure.eml", false)->o;

        ck_assert_str_eq(o->reason, "");
        ck_assert_uint_eq(o->failures, 1);
        ck_assert(o->clean);
        ck_assert(has_bytes(o, "PRIORITY=0"));          /* as text inside a value ... */
        ck_assert(!has_bytes(o, "\nPRIORITY=0"));       /* ... never as a line of its own */
        ck_assert(!has_bytes(o, "\nFAKE=1"));
        ck_assert(has_bytes(o, "%n%s"));                /* data, never a format */
}
END_TEST

/* 40: aggregate strings are handed out raw (aggregate.h: "callers sanitise"): the payloads
 * arrive byte-exact, and the sanitiser makes each one clean */
START_TEST(item_40_injection_aggregate_sanitised)
{
        const struct outcome *o = &fixture("inject-aggregate.xml", false)->o;
        const char *p = o->transcript, *end = o->transcript + o->tlen;

        ck_assert_str_eq(o->reason, "");
        ck_assert_uint_eq(o->records, 1);
        ck_assert(has_bytes(o, "\xe2\x80\xae"));        /* U+202E arrived as data */
        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t) (end - p)), *eq;
                char clean[8192];
                bool cut;

                ck_assert_ptr_nonnull(nl);
                eq = memchr(p, '=', (size_t) (nl - p));
                ck_assert_ptr_nonnull(eq);
                (void) dt_sanitize(eq + 1, (size_t) (nl - eq - 1), clean, sizeof clean, &cut);
                ck_assert_msg(is_clean(clean), "not clean after dt_sanitize: %s", clean);
                p = nl + 1;
        }
}
END_TEST

/* run_data_file - the tests/data file called name as an item, bounds checked. RLIMIT_AS stays
 * off when measure_growth, so that growth itself is measured, not an allocation failure. */
static void run_data_file(const char *name, bool measure_growth, struct run *r) {
        size_t len;
        char *data = dt_test_load(name, &len);

        rlimit_off = measure_growth;
        run_item(NULL, data, len, false, r);
        rlimit_off = false;
        free(data);
        check_bounds(name, r);
}

/* BUG (found by this suite): libxml2's xmlTextReader keeps every comment and processing
 * instruction it reads until it meets the next element start, together with the whitespace
 * around them, so memory grows with the document instead of staying flat.
 * tests/data/crash-20261128-parse-937033825a0e is 110 KB of gzip holding 40 MB of "<!---->"
 * inside <feedback> (ratio ~380:1, under the guard): ~1 GB of RSS without ASan. The full
 * 256 MiB cap of comments would cost several GB. */
START_TEST(bug_xml_comments_retained)
{
        static struct run r;

        run_data_file("crash-20261128-parse-937033825a0e", true, &r);
        /* a fix may accept the report (it is well-formed) or refuse the comment flood */
        ck_assert_msg(r.o.reason[0] == '\0' || strcmp(r.o.reason, DT_R_XML_MALFORMED) == 0 ||
                      strcmp(r.o.reason, DT_R_FIELD_LIMIT) == 0, "reason '%s' (%s)", r.o.reason,
                      r.o.message);
}
END_TEST

/* 33, found by fuzz-aggregate (tests/data/crash-20261129-aggregate-83fcc0a83ad2, a timeout):
 * 1.7 MB of XML in which one comment runs over 80,000 "--". libxml2 raised an error for each,
 * copying the comment read so far into every one: 6.8 s natively, 23 s under ASan. */
START_TEST(crash_comment_hyphens)
{
        static struct run r;

        run_data_file("crash-20261129-aggregate-83fcc0a83ad2", false, &r);
        ck_assert_str_eq(r.o.reason, DT_R_XML_MALFORMED);
        ck_assert_msg(strstr(r.o.message, "Double hyphen within comment"), "%s", r.o.message);
        ck_assert_int_eq(r.o.line, 5);
}
END_TEST

/* the sanitiser property, on the payloads of item 40 and on deterministic random bytes */
START_TEST(sanitiser_property)
{
        static char out[512], again[512];
        unsigned char in[600];
        size_t i, k, n, cap;
        bool cut;

        for (i = 0; i < ELEMENTSOF(inject_payloads); i++) {
                n = dt_sanitize(inject_payloads[i], strlen(inject_payloads[i]), out, sizeof out, &cut);
                ck_assert(is_clean(out));
                ck_assert_uint_eq(strlen(out), n);
                ck_assert(!cut);
                ck_assert_ptr_null(strchr(out, '\n'));
                ck_assert_ptr_null(strchr(out, '\x1b'));
        }
        hrng = 42;
        for (i = 0; i < (quick ? 20000u : 200000u); i++) {
                uint64_t r = hrand();

                n = r % sizeof in;
                cap = 1 + (r >> 16) % sizeof out;
                for (k = 0; k < n; k++) {
                        uint64_t x = hrand();

                        /* bias towards the interesting bytes: C0, C1 lead bytes, E2 80/81 */
                        in[k] = (unsigned char) ((x & 3) == 0 ? (x >> 8) % 0x20
                                                 : (x & 3) == 1 ? 0xc2 + (x >> 8) % 0x33
                                                 : (x & 3) == 2 ? ((x >> 8) & 1 ? 0xe2 : 0x80 + (x >> 9) % 0x40)
                                                 : (x >> 8));
                }
                n = dt_sanitize((const char *) in, n, out, cap, &cut);
                ck_assert_uint_lt(n, cap);
                ck_assert(is_clean(out));
                ck_assert_uint_eq(strlen(out), n);
                ck_assert_uint_eq(dt_sanitize(out, n, again, sizeof again, NULL), n);
                ck_assert_str_eq(out, again);
        }
}
END_TEST

/* a message file read from disk: EMPTY and SIZE_LIMIT before any byte is read (items 1, 2) */
START_TEST(item_01_02_read_file_bounds)
{
        char dir[] = "/tmp/dt-hostile-XXXXXX", path[128];
        char *buf = NULL;
        size_t len = 0;
        struct dt_error err;
        int fd;

        ck_assert_ptr_nonnull(mkdtemp(dir));
        snprintf(path, sizeof path, "%s/empty", dir);
        fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        ck_assert_int_ge(fd, 0);
        close(fd);
        dt_error_clear(&err);
        ck_assert_int_lt(dt_parse_read_file(AT_FDCWD, path, true, dt_limits_default.message_bytes,
                                            &buf, &len, &err), 0);
        ck_assert_str_eq(err.reason, DT_R_EMPTY);
        ck_assert_ptr_null(buf);
        (void) unlink(path);

        snprintf(path, sizeof path, "%s/huge", dir);
        fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(ftruncate(fd, 10ll << 30), 0);        /* sparse: costs nothing */
        close(fd);
        dt_error_clear(&err);
        ck_assert_int_lt(dt_parse_read_file(AT_FDCWD, path, true, dt_limits_default.message_bytes,
                                            &buf, &len, &err), 0);
        ck_assert_str_eq(err.reason, DT_R_SIZE_LIMIT);
        ck_assert_ptr_null(buf);
        (void) unlink(path);
        ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

/* ---- 42: hostile mail-log lines, through the reader, the classifier and the index ---- */

#define LOG_RSS_KB (64L * 1024)         /* a log pass: at most 64 MiB of peak RSS growth */
#define LOG_NOW 1795000000              /* 2026-11-18: "now" for syslog's missing year */

/* what the child that read the log saw */
struct logrun {
        uint64_t too_long, lines, records, malformed;
        uint64_t index_rows;
        long rss_start_kb;
        int rc;
        bool done;
};

/* log_put - append s[0..n) to fd */
static void log_put(int fd, const void *s, size_t n) {
        ck_assert_int_eq(write(fd, s, n), (ssize_t) n);
}

/* log_line - append a Postfix line for queue id qid with text msg (n bytes, may hold NUL) */
static void log_line(int fd, const char *svc, const char *qid, const char *msg, size_t n, bool nl) {
        char pfx[128];
        int k = snprintf(pfx, sizeof pfx, "Nov 17 10:00:00 mx postfix/%s[42]: %s: ", svc, qid);

        ck_assert(k > 0 && (size_t) k < sizeof pfx);
        log_put(fd, pfx, (size_t) k);
        log_put(fd, msg, n);
        if (nl)
                log_put(fd, "\n", 1);
}

/* log_build - the item 42 log at path: a 100 KB Message-ID (past the 16 KiB line cap), a 10 KB
 * one (under the cap, too long for the index), ANSI and NUL inside from=<>, invalid UTF-8, a
 * single line of huge_bytes (a hole in a sparse file: the test costs no disk and no memory, and
 * the reader still reads every byte), and a last line with no newline */
static void log_build(const char *path, uint64_t huge_bytes) {
        static const char ansi_from[] = "uid=33 from=<a\x1b[2J\x1b]0;t\ab\0\x9b" "c@x.example>";
        static const char bad_utf8[] = "from=<\xff\xfe\xc0\xaf\xed\xa0\x80@y.example>, size=9, nrcpt=1";
        static const char subject[] = "info: header Subject: \x1b[31mred\r\tPRIORITY=0 \xe2\x80\xae"
                                      "gnp.exe from mx[192.0.2.1]; from=<a@x.example> to=<b@z>";
        static const char last[] = "from=<last@w.example>, size=1, nrcpt=1 (queue active)";
        size_t big = 100u * 1024, mid = 10u * 1024;
        char *id = malloc(big + 32);
        off_t end;
        int fd;

        ck_assert_ptr_nonnull(id);
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        ck_assert_int_ge(fd, 0);
        log_line(fd, "pickup", "AAAAA11111", ansi_from, sizeof ansi_from - 1, true);
        memcpy(id, "message-id=<", 12);
        memset(id + 12, 'm', big);
        memcpy(id + 12 + big, "@x.example>", 11);
        log_line(fd, "cleanup", "AAAAA11111", id, 12 + big + 11, true);
        memcpy(id + 12 + mid, "@x.example>", 11);
        log_line(fd, "cleanup", "BBBBB22222", id, 12 + mid + 11, true);
        log_line(fd, "cleanup", "AAAAA11111", "message-id=<ok@x.example>", 25, true);
        log_line(fd, "qmgr", "BBBBB22222", bad_utf8, sizeof bad_utf8 - 1, true);
        log_line(fd, "cleanup", "BBBBB22222", subject, sizeof subject - 1, true);
        log_line(fd, "cleanup", "CCCCC33333", "message-id=<", 12, false);
        end = lseek(fd, 0, SEEK_END);
        ck_assert_int_eq(ftruncate(fd, end + (off_t) huge_bytes), 0);
        ck_assert_int_eq(lseek(fd, 0, SEEK_END), end + (off_t) huge_bytes);
        log_put(fd, ">\n", 2);
        log_line(fd, "qmgr", "CCCCC33333", last, sizeof last - 1, false);
        ck_assert_int_eq(close(fd), 0);
        free(id);
}

/* log_child - read path into an index in the store at db_path, under the item's bounds */
static void log_child(int fd, const char *path, const char *db_path) {
        static struct logrun o;
        struct dt_logfile *lf = NULL;
        struct dt_index *idx = NULL;
        struct dt_error err;
        struct dt_logrec rec;
        struct rusage ru;
        sqlite3 *db = NULL;
        const char *l;
        size_t n;
        int r;

        alarm(item_seconds());
        getrusage(RUSAGE_SELF, &ru);
        o.rss_start_kb = ru.ru_maxrss;
        if (sqlite3_open(db_path, &db) != SQLITE_OK || dt_index_open(db, 60, &idx, &err) < 0 ||
            dt_logfile_open(path, NULL, 0, DT_LOGFILE_ONESHOT, &dt_limits_default, &lf, &err) < 0)
                _exit(3);
        if (!UNDER_ASAN && !RUNNING_ON_VALGRIND) {
                long vm = vm_kb();
                struct rlimit rl;

                if (vm > 0) {
                        rl.rlim_cur = rl.rlim_max = (rlim_t) (vm + LOG_RSS_KB) * 1024;
                        (void) setrlimit(RLIMIT_AS, &rl);
                }
        }
        (void) dt_index_begin(idx);
        while ((r = dt_logfile_next(lf, &l, &n)) == 1) {
                enum dt_lineclass c = dt_logline_parse(l, n, DT_SRC_SYSLOG, LOG_NOW,
                                                       &dt_limits_default, &rec, NULL);

                o.lines++;
                o.malformed += c == DT_LC_MALFORMED;
                if (c == DT_LC_RECORD) {
                        o.records++;
                        if (dt_index_add(idx, &rec, &err) < 0)
                                _exit(5);
                }
        }
        o.rc = r;
        if (dt_index_commit(idx) < 0)
                _exit(6);
        o.too_long = dt_logfile_too_long(lf);
        o.done = true;
        lf = dt_logfile_free(lf);
        idx = dt_index_free(idx);
        sqlite3_close(db);
        if (write(fd, &o, sizeof o) != (ssize_t) sizeof o)
                _exit(4);
        _exit(0);
}

/* db_text - the single text value sql selects, into out ("" for NULL); false when no row */
static bool db_text(sqlite3 *db, const char *sql, char *out, size_t cap) {
        sqlite3_stmt *st = NULL;
        bool row;

        ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
        row = sqlite3_step(st) == SQLITE_ROW;
        out[0] = '\0';
        if (row && sqlite3_column_text(st, 0))
                snprintf(out, cap, "%s", (const char *) sqlite3_column_text(st, 0));
        sqlite3_finalize(st);
        return row;
}

/* 42: the line cap holds against a 100 KB Message-ID and a 1 GB line (counted, never returned,
 * memory flat); what reaches the index is sanitised, and the index holds only capped values */
START_TEST(item_42_hostile_log_lines)
{
        char dir[] = "/tmp/dt-hostile-log-XXXXXX", path[128], dbp[128], v[1024];
        /* valgrind reads at a few MB/s: the same line, past the cap by 64 MiB rather than 1 GiB */
        uint64_t huge = quick ? 64ull << 20 : 1ull << 30;
        struct logrun o = { 0 };
        struct timespec t0, t1;
        struct rusage ru;
        sqlite3 *db = NULL;
        int fds[2], status;
        double secs;
        long rss;
        pid_t pid;

        ck_assert_ptr_nonnull(mkdtemp(dir));
        snprintf(path, sizeof path, "%s/mail.log", dir);
        snprintf(dbp, sizeof dbp, "%s/state.db", dir);
        log_build(path, huge);
        ck_assert_int_eq(pipe2(fds, O_CLOEXEC), 0);
        fflush(stdout);
        fflush(stderr);
        clock_gettime(CLOCK_MONOTONIC, &t0);
        pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                close(fds[0]);
                log_child(fds[1], path, dbp);
        }
        close(fds[1]);
        ck_assert_int_eq(read(fds[0], &o, sizeof o), (ssize_t) sizeof o);
        close(fds[0]);
        ck_assert_int_eq(wait4(pid, &status, 0, &ru), pid);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        secs = (double) (t1.tv_sec - t0.tv_sec) + (double) (t1.tv_nsec - t0.tv_nsec) / 1e9;
        rss = ru.ru_maxrss - o.rss_start_kb;
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
        ck_assert(o.done);
        ck_assert_int_eq(o.rc, 0);
        ck_assert_msg(rss < LOG_RSS_KB, "peak RSS grew by %ld KiB over a %llu-byte line", rss,
                      (unsigned long long) huge);
        ck_assert_msg(secs < item_seconds(), "took %.1f s", secs);

        /* the 100 KB Message-ID line and the huge line: skipped and counted, nothing else */
        ck_assert_uint_eq(o.too_long, 2);
        ck_assert_uint_eq(o.lines, 6);
        /* the 10 KB Message-ID is under the line cap but no id: malformed, never cut */
        ck_assert_uint_eq(o.malformed, 1);
        ck_assert_uint_eq(o.records, 5);

        ck_assert_int_eq(sqlite3_open(dbp, &db), SQLITE_OK);
        ck_assert(db_text(db, "SELECT env_from FROM log_msg WHERE queue_id='AAAAA11111'", v, sizeof v));
        ck_assert_msg(is_clean(v), "env_from not clean: %s", v);
        ck_assert_ptr_null(strchr(v, '\x1b'));
        ck_assert_str_eq(v, "a\xef\xbf\xbd[2J\xef\xbf\xbd]0;t\xef\xbf\xbd" "b\\0\xef\xbf\xbd" "c@x.example");
        ck_assert(db_text(db, "SELECT message_id FROM log_msg WHERE queue_id='AAAAA11111'", v, sizeof v));
        ck_assert_str_eq(v, "ok@x.example");    /* the 100 KB id never reached the index */
        ck_assert(db_text(db, "SELECT env_from FROM log_msg WHERE queue_id='BBBBB22222'", v, sizeof v));
        ck_assert_msg(is_clean(v), "invalid UTF-8 kept: %s", v);
        ck_assert_ptr_nonnull(strstr(v, "@y.example"));
        ck_assert(db_text(db, "SELECT message_id FROM log_msg WHERE queue_id='BBBBB22222'", v, sizeof v));
        ck_assert_str_eq(v, "");                /* the 10 KB id: not stored, not cut */
        ck_assert(db_text(db, "SELECT subject FROM log_msg WHERE queue_id='BBBBB22222'", v, sizeof v));
        ck_assert_msg(is_clean(v), "subject not clean: %s", v);
        ck_assert_ptr_nonnull(strstr(v, "red  PRIORITY=0"));    /* CR, TAB became spaces */
        ck_assert(db_text(db, "SELECT env_from FROM log_msg WHERE queue_id='CCCCC33333'", v, sizeof v));
        ck_assert_str_eq(v, "last@w.example");  /* the last line, with no newline, was read */
        /* bounded: every stored text within its record buffer, and one row per queue id */
        ck_assert(db_text(db, "SELECT max(max(length(CAST(message_id AS BLOB))),"
                              " max(length(CAST(env_from AS BLOB))),"
                              " max(length(CAST(subject AS BLOB)))) FROM log_msg", v, sizeof v));
        ck_assert_int_lt(atoi(v), DT_LOG_TEXT_MAX);
        ck_assert(db_text(db, "SELECT count(*) FROM log_msg", v, sizeof v));
        ck_assert_str_eq(v, "3");
        sqlite3_close(db);
        (void) unlink(path);
        (void) unlink(dbp);
        ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

/* crash_lines_clean - a fuzzer's log input, line by line: every record's recipient, From
 * header and subject clean */
static void crash_lines_clean(const char *name) {
        struct dt_logrec rec;
        size_t len;
        char *data = dt_test_load(name, &len);

        for (const char *p = data, *end = data + len; p < end;) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));
                size_t n = nl ? (size_t) (nl - p) : (size_t) (end - p);

                if (dt_logline_parse(p, n, DT_SRC_AUTO, LOG_NOW, &dt_limits_default, &rec, NULL) ==
                    DT_LC_RECORD)
                        ck_assert_msg(is_clean(rec.to) && is_clean(rec.to_raw) &&
                                      is_clean(rec.from_hdr) && is_clean(rec.subject),
                                      "%s: line at %zu", name, (size_t) (p - data));
                p += n + (nl ? 1 : 0);
        }
        free(data);
}

/* 42, found by fuzz-logline (tests/data/crash-20261129-logline-e2f2fa006194): a PHP mail() line
 * whose To: held bytes past ASCII that are not clean UTF-8 put them raw into rec.to, since the
 * first-address helper only refused controls. Now such an address is no address. */
START_TEST(item_42_php_to_address_clean)
{
        static const char *const lines[] = {
                "[03-Nov-2026 10:15:01 UTC] mail() on [/x.php:3]: To: \xff\xfe@example.org -- Subject: s",
                "[03-Nov-2026 10:15:01 UTC] mail() on [/x.php:3]: To: a\xe2\x80\xae" "b@example.org",
                "[03-Nov-2026 10:15:01 UTC] mail() on [/x.php:3]: To: <\xc3\xa9t\xc3\xa9@example.org>",
        };
        static const char *const want[] = { "", "", "\xc3\xa9t\xc3\xa9@example.org" };
        struct dt_logrec rec;

        for (size_t i = 0; i < ELEMENTSOF(lines); i++) {
                ck_assert_int_eq(dt_logline_parse(lines[i], strlen(lines[i]), DT_SRC_PHP, LOG_NOW,
                                                  &dt_limits_default, &rec, NULL), DT_LC_RECORD);
                ck_assert_str_eq(rec.to, want[i]);
                ck_assert(is_clean(rec.to_raw));
        }
        /* the fuzzer's input, line by line */
        crash_lines_clean("crash-20261129-logline-e2f2fa006194");
}
END_TEST

/* 42, found by fuzz-logline (tests/data/crash-20261129-logline-dd886b8b003d): in
 * " -- Headers: -- Subject: " the Subject marker starts on the Headers marker's last space, so
 * the headers text got a negative length and the From: search ran off the end of the line. */
START_TEST(item_42_php_headers_subject_overlap)
{
        static const char line[] =
                "[03-Nov-2026 10:15:01 UTC] mail() on [/x.php:3]: To: a@example.org -- Headers: "
                "-- Subject: hello";
        struct dt_logrec rec;

        ck_assert_int_eq(dt_logline_parse(line, strlen(line), DT_SRC_PHP, LOG_NOW,
                                          &dt_limits_default, &rec, NULL), DT_LC_RECORD);
        ck_assert_str_eq(rec.to, "a@example.org");
        ck_assert_str_eq(rec.from_hdr, "");
        ck_assert_str_eq(rec.subject, "hello");
        crash_lines_clean("crash-20261129-logline-dd886b8b003d");
}
END_TEST

/* hostile_suite - every item, in catalogue order */
static Suite *hostile_suite(void) {
        Suite *s = suite_create("hostile");
        TCase *tc = tcase_create("catalogue");

        tcase_set_timeout(tc, quick ? 3600 : 600);
        tcase_add_loop_test(tc, catalogue_item, 0, (int) ELEMENTSOF(catalogue));
        tcase_add_test(tc, item_01_02_read_file_bounds);
        tcase_add_test(tc, item_07_subject_capped_and_counted);
        tcase_add_loop_test(tc, item_10_multipart_damage, 0, 6);
        tcase_add_test(tc, item_11_conflicting_content_type);
        tcase_add_loop_test(tc, item_13_transfer_encodings, 0, 5);
        tcase_add_test(tc, item_14_gmime165_no_hang);
        tcase_add_loop_test(tc, item_15_address_bombs, 0, 3);
        tcase_add_test(tc, item_15_from_multi_and_missing);
        tcase_add_test(tc, item_16_encoded_words);
        tcase_add_test(tc, item_17_nul_and_cr);
        tcase_add_test(tc, item_18_gzip_bomb_unpack_only);
        tcase_add_test(tc, item_19_gzip_edges);
        tcase_add_loop_test(tc, item_20_zip_odd_but_single, 0, 3);
        tcase_add_test(tc, item_23_entry_name_kept_raw_sanitised_on_output);
        tcase_add_test(tc, item_24_two_gzip_layers_are_fine);
        tcase_add_test(tc, item_25_mismatch_flagged);
        tcase_add_loop_test(tc, item_26_unused_and_random, 0, 3);
        tcase_add_loop_test(tc, item_28_xxe_reads_no_file, 0, 4);
        tcase_add_test(tc, item_28_xinclude_not_processed);
        tcase_add_test(tc, item_28_entity_loader_denies);
        tcase_add_test(tc, item_30_long_org_name_cut_with_warning);
        tcase_add_test(tc, item_30_text_without_element_start_bounded);
        tcase_add_test(tc, item_31_giant_report_stops_at_cap);
        tcase_add_test(tc, item_31_50k_records_complete);
        tcase_add_loop_test(tc, item_32_encodings, 0, 6);
        tcase_add_test(tc, item_33_malformed_has_line);
        tcase_add_test(tc, item_33_stray_schema_tolerated);
        tcase_add_test(tc, item_34_bad_counts_skipped);
        tcase_add_test(tc, item_34_counts_never_wrap);
        tcase_add_test(tc, item_34_bad_addresses_skipped);
        tcase_add_loop_test(tc, item_34_odd_dates_still_summarised, 0, 5);
        tcase_add_test(tc, item_34_enums_kept_lower_case);
        tcase_add_test(tc, item_35_duplicated_identity_first_wins);
        tcase_add_test(tc, item_36_replays_parse_the_same);
        tcase_add_test(tc, item_37_extensions_counted);
        tcase_add_test(tc, item_38_broken_arf);
        tcase_add_test(tc, item_38_injected_auth_results_is_data);
        tcase_add_test(tc, item_40_injection_failure_fields_clean);
        tcase_add_test(tc, item_40_injection_aggregate_sanitised);
        tcase_add_test(tc, item_42_hostile_log_lines);
        tcase_add_test(tc, item_42_php_to_address_clean);
        tcase_add_test(tc, item_42_php_headers_subject_overlap);
        tcase_add_test(tc, sanitiser_property);
        tcase_add_test(tc, bug_xml_comments_retained);
        tcase_add_test(tc, crash_comment_hyphens);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        const char *q = getenv("DT_HOSTILE_QUICK");

        quick = RUNNING_ON_VALGRIND || (q && *q && strcmp(q, "0") != 0);
        return dt_test_main(hostile_suite());
}
