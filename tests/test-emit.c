/* test-emit.c - the event emitter: event table, field names, sanitising, both sinks, catalog
 *
 * The JSON sink writes into an open_memstream() buffer that is parsed back with json-c. The
 * journal sink is pointed (DT_JOURNAL_SOCKET) at an AF_UNIX datagram socket the test binds in a
 * temporary folder, and the test reads the native-protocol datagram (or memfd) it receives.
 * The catalog is found next to tests/data: $DT_TESTDATA/../../packaging/dmarctrace.catalog. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE     /* F_GET_SEALS */
#endif

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "agent/emit.h"
#include "agent/events.h"
#include "report/limits.h"
#include "report/macro.h"
#include "tests/testutil.h"

#define RX_MAX (8u << 20)

static size_t rx_line_max = 4095;       /* the emitter's field_bytes, for received lines */

/* ---- helpers ---------------------------------------------------------------------------- */

struct sock {
        char dir[64];
        char path[128];
        int fd;
};

/* sock_bind - bind a datagram socket at a fresh temporary path and point DT_JOURNAL_SOCKET at it */
static void sock_bind(struct sock *s) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };

        snprintf(s->dir, sizeof s->dir, "/tmp/dt-emit-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(s->dir));
        snprintf(s->path, sizeof s->path, "%s/socket", s->dir);
        s->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        ck_assert_int_ge(s->fd, 0);
        memcpy(sa.sun_path, s->path, strlen(s->path) + 1);
        ck_assert_int_eq(bind(s->fd, (struct sockaddr *) &sa, sizeof sa), 0);
        ck_assert_int_eq(setenv(DT_JOURNAL_SOCKET_ENV, s->path, 1), 0);
}

/* sock_rebind - a new receiver at the same path, as a restarted journald would */
static void sock_rebind(struct sock *s) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };

        if (s->fd >= 0)
                close(s->fd);
        (void) unlink(s->path);
        s->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        ck_assert_int_ge(s->fd, 0);
        memcpy(sa.sun_path, s->path, strlen(s->path) + 1);
        ck_assert_int_eq(bind(s->fd, (struct sockaddr *) &sa, sizeof sa), 0);
}

static void sock_done(struct sock *s) {
        if (s->fd >= 0)
                close(s->fd);
        s->fd = -1;
        (void) unlink(s->path);
        (void) rmdir(s->dir);
        unsetenv(DT_JOURNAL_SOCKET_ENV);
}

/* lines_to_json - parse "NAME=value\n" lines into an object; every line well-formed, no dup */
static json_object *lines_to_json(const char *buf, size_t len) {
        json_object *obj = json_object_new_object();
        const char *p = buf, *end = buf + len, *nl, *eq;
        char name[128];

        ck_assert_ptr_nonnull(obj);
        ck_assert_msg(len > 0 && buf[len - 1] == '\n', "datagram must end with a newline");
        while (p < end) {
                nl = memchr(p, '\n', (size_t) (end - p));
                ck_assert_ptr_nonnull(nl);
                eq = memchr(p, '=', (size_t) (nl - p));
                ck_assert_msg(eq != NULL, "line without '=': %.*s", (int) (nl - p), p);
                ck_assert_uint_lt((size_t) (eq - p), sizeof name);
                memcpy(name, p, (size_t) (eq - p));
                name[eq - p] = '\0';
                ck_assert_msg(dt_field_name_valid(name), "bad field name '%s'", name);
                ck_assert_msg(!json_object_object_get_ex(obj, name, NULL), "duplicate %s", name);
                ck_assert_uint_le((size_t) (nl - p), rx_line_max);
                json_object_object_add(obj, name,
                                       json_object_new_string_len(eq + 1, (int) (nl - eq - 1)));
                p = nl + 1;
        }
        return obj;
}

/* sock_recv - one datagram, or the contents of the memfd it carries; parsed into an object */
static json_object *sock_recv(struct sock *s, bool *via_memfd) {
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(int))];
        } control;
        char *buf = malloc(RX_MAX);
        struct iovec iov = { .iov_base = buf, .iov_len = RX_MAX };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &control,
                             .msg_controllen = sizeof control };
        struct cmsghdr *c;
        json_object *obj;
        ssize_t n;
        int mfd = -1;

        ck_assert_ptr_nonnull(buf);
        n = recvmsg(s->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        ck_assert_msg(n >= 0, "nothing received: %s", strerror(errno));
        ck_assert_int_eq(mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC), 0);
        for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
                        memcpy(&mfd, CMSG_DATA(c), sizeof mfd);
        if (via_memfd)
                *via_memfd = mfd >= 0;
        if (mfd >= 0) {
                struct stat st;
                int seals = fcntl(mfd, F_GET_SEALS);

                ck_assert_int_eq(n, 0);
                ck_assert_int_eq(seals & (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE),
                                 F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE);
                ck_assert_int_eq(fstat(mfd, &st), 0);
                ck_assert_int_le(st.st_size, RX_MAX);
                n = pread(mfd, buf, (size_t) st.st_size, 0);
                ck_assert_int_eq(n, st.st_size);
                close(mfd);
        }
        obj = lines_to_json(buf, (size_t) n);
        free(buf);
        return obj;
}

/* sock_empty - nothing waits on the socket */
static bool sock_empty(struct sock *s) {
        char b[16];

        return recv(s->fd, b, sizeof b, MSG_DONTWAIT) < 0 && errno == EAGAIN;
}

struct jsonout {
        char *buf;
        size_t len;
        FILE *f;
        struct dt_emitter *em;
};

static void jsonout_open(struct jsonout *j) {
        memset(j, 0, sizeof *j);
        j->f = open_memstream(&j->buf, &j->len);
        ck_assert_ptr_nonnull(j->f);
        ck_assert_int_eq(dt_emitter_new(DT_SINK_JSON, j->f, &j->em), 0);
}

static void jsonout_close(struct jsonout *j) {
        j->em = dt_emitter_free(j->em);
        fclose(j->f);
        free(j->buf);
}

/* json_line - the single line written so far, parsed; asserts exactly one line */
static json_object *json_line(struct jsonout *j) {
        json_object *obj;
        char *copy;

        fflush(j->f);
        ck_assert_uint_gt(j->len, 1);
        ck_assert_int_eq(j->buf[j->len - 1], '\n');
        ck_assert_ptr_eq(memchr(j->buf, '\n', j->len - 1), NULL);
        copy = strndup(j->buf, j->len - 1);
        obj = json_tokener_parse(copy);
        free(copy);
        ck_assert_msg(obj != NULL, "not JSON: %s", j->buf);
        return obj;
}

static const char *get(json_object *obj, const char *key) {
        json_object *v;

        if (!json_object_object_get_ex(obj, key, &v))
                return NULL;
        ck_assert(json_object_is_type(v, json_type_string));
        return json_object_get_string(v);
}

/* seq_str - n as the decimal text of a SEQ field (a static buffer) */
static const char *seq_str(uint64_t n) {
        static char buf[24];

        snprintf(buf, sizeof buf, "%llu", (unsigned long long) n);
        return buf;
}

/* emit_json - emit one event to a fresh JSON sink; the parsed line, or NULL with *r < 0 */
static json_object *emit_json(enum dt_event ev, const char *seed, const char *msg,
                              const struct dt_field *f, size_t n, int *r) {
        struct jsonout j;
        json_object *obj = NULL;

        jsonout_open(&j);
        *r = dt_emit(j.em, ev, seed, msg, f, n);
        fflush(j.f);
        if (*r >= 0)
                obj = json_line(&j);
        else
                ck_assert_uint_eq(j.len, 0);    /* a refused event writes nothing */
        jsonout_close(&j);
        return obj;
}

/* event_id_of - DMARCTRACE_EVENT_ID for one emit, copied into out */
static void event_id_of(enum dt_event ev, const char *seed, const char *msg,
                        const struct dt_field *f, size_t n, char out[33]) {
        json_object *obj;
        const char *id;
        int r;

        obj = emit_json(ev, seed, msg, f, n, &r);
        ck_assert_int_eq(r, 0);
        id = get(obj, DT_F_EVENT_ID);
        ck_assert_ptr_nonnull(id);
        ck_assert_uint_eq(strlen(id), 32);
        ck_assert_uint_eq(strspn(id, "0123456789abcdef"), 32);
        memcpy(out, id, 33);
        json_object_put(obj);
}

/* assert_clean - valid UTF-8, no C0/DEL/C1 controls, no bidi/zero-width/separators */
static void assert_clean(const char *v) {
        const char *p;

        ck_assert_msg(g_utf8_validate(v, -1, NULL), "not UTF-8");
        for (p = v; *p; p = g_utf8_next_char(p)) {
                gunichar c = g_utf8_get_char(p);

                ck_assert_msg(c >= 0x20 && c != 0x7f && !(c >= 0x80 && c <= 0x9f),
                              "control U+%04X", c);
                ck_assert_msg(!(c >= 0x202a && c <= 0x202e) && !(c >= 0x2066 && c <= 0x2069) &&
                              !(c >= 0x200b && c <= 0x200f) && c != 0x2028 && c != 0x2029 &&
                              c != 0xfeff, "invisible U+%04X", c);
        }
}

static const struct dt_field report_fields[] = {
        { DT_F_POLICY_DOMAIN, "example.com" },
        { DT_F_REPORT_ORG, "google.com" },
        { DT_F_REPORT_ID, "12345678901234567890" },
        { DT_F_PERIOD_BEGIN, "2025-11-01T00:00:00Z" },
        { DT_F_PERIOD_END, "2025-11-01T23:59:59Z" },
        { DT_F_RECORD_COUNT, "3" },
        { DT_F_MESSAGE_COUNT, "4711" },
        { DT_F_INPUT_PATH, "/var/mail/dmarc/Maildir/new/1.eml" },
};

/* ---- event table ------------------------------------------------------------------------ */

START_TEST(table_complete)
{
        const struct dt_event_info *a, *b;
        int i, j;
        size_t k, l;

        for (i = 0; i < _DT_EVENT_MAX; i++) {
                a = dt_event_info(i);
                ck_assert_ptr_nonnull(a);
                ck_assert_ptr_nonnull(a->name);
                ck_assert_uint_gt(strlen(a->name), 0);
                ck_assert_uint_eq(strspn(a->name, "abcdefghijklmnopqrstuvwxyz-"), strlen(a->name));
                ck_assert_uint_eq(strlen(a->message_id), 32);
                ck_assert_uint_eq(strspn(a->message_id, "0123456789abcdef"), 32);
                ck_assert_int_ge(a->priority, LOG_ERR);
                ck_assert_int_le(a->priority, LOG_INFO);
                ck_assert_ptr_nonnull(a->fields);
                ck_assert_ptr_nonnull(a->fields[0]);
                for (j = 0; j < i; j++) {
                        b = dt_event_info(j);
                        ck_assert_str_ne(a->name, b->name);
                        ck_assert_str_ne(a->message_id, b->message_id);
                }
                for (k = 0; a->fields[k]; k++)
                        for (l = 0; l < k; l++)
                                ck_assert_str_ne(a->fields[k], a->fields[l]);
        }
        ck_assert_ptr_null(dt_event_info(_DT_EVENT_MAX));
        ck_assert_ptr_null(dt_event_info(-1));
        ck_assert_str_eq(dt_event_info(DT_EVENT_AGGREGATE_REPORT)->name, "aggregate-report");
        ck_assert_str_eq(dt_event_info(DT_EVENT_INPUT_REJECTED)->name, "input-rejected");
        ck_assert_str_eq(dt_event_info(DT_EVENT_AGENT_STATE)->message_id, DT_MSGID_AGENT_STATE);
        ck_assert_int_eq(dt_event_info(DT_EVENT_VOLUME_SPIKE)->priority, LOG_WARNING);
}
END_TEST

/* every listed name is one journald keeps, in our namespace; and emit accepts it */
START_TEST(table_field_names_valid)
{
        const char *const *common = dt_event_common_fields();
        struct jsonout j;
        int i;
        size_t k;

        for (k = 0; common[k]; k++) {
                ck_assert_msg(dt_field_name_valid(common[k]), "%s", common[k]);
                ck_assert_int_eq(strncmp(common[k], "DMARCTRACE_", 11), 0);
        }
        ck_assert_uint_eq(k, 5);
        jsonout_open(&j);
        for (i = 0; i < _DT_EVENT_MAX; i++) {
                const struct dt_event_info *info = dt_event_info(i);

                for (k = 0; info->fields[k]; k++) {
                        struct dt_field f = { info->fields[k], "x" };
                        size_t c;

                        ck_assert_msg(dt_field_name_valid(f.name), "%s: %s", info->name, f.name);
                        ck_assert_int_eq(strncmp(f.name, "DMARCTRACE_", 11), 0);
                        ck_assert_uint_le(strlen(f.name), 64);
                        for (c = 0; common[c]; c++)
                                ck_assert_str_ne(f.name, common[c]);
                        ck_assert_int_eq(dt_emit(j.em, i, NULL, "m", &f, 1), 0);
                }
        }
        jsonout_close(&j);
}
END_TEST

static const struct {
        const char *name;
        bool valid;
} name_cases[] = {
        { "DMARCTRACE_REPORT_ID", true },
        { "A", true },
        { "A9_", true },
        { "MESSAGE", true },
        { "X234567890123456789012345678901234567890123456789012345678901234", true }, /* 64 */
        { "X2345678901234567890123456789012345678901234567890123456789012345", false }, /* 65 */
        { "", false },
        { "_PID", false },
        { "9LIVES", false },
        { "dmarctrace_x", false },
        { "DMARCTRACE-X", false },
        { "DMARCTRACE X", false },
        { "DMARCTRACE_É", false },
        { "DMARCTRACE_X=1", false },
        { "DMARCTRACE_X\n", false },
};

START_TEST(field_name_rule)
{
        ck_assert_msg(dt_field_name_valid(name_cases[_i].name) == name_cases[_i].valid, "'%s'",
                      name_cases[_i].name);
}
END_TEST

START_TEST(field_name_rule_null)
{
        ck_assert(!dt_field_name_valid(NULL));
}
END_TEST

/* ---- argument checks -------------------------------------------------------------------- */

static const char *const refused_names[] = {
        "PRIORITY",                     /* valid for journald, but not ours to set */
        "MESSAGE_ID",
        "SYSLOG_IDENTIFIER",
        "_PID",
        "DMARCTRACE_",                  /* the prefix alone */
        "DMARCTRACE_EVENT",             /* emit's own */
        "DMARCTRACE_EVENT_ID",
        "DMARCTRACE_TRUNCATED",
        "DMARCTRACE_SEQ",
        "DMARCTRACE_RUN_ID",
        "dmarctrace_report_id",
        "DMARCTRACE_REPORT-ID",
        "DMARCTRACE_X234567890123456789012345678901234567890123456789012345",
        "",
};

START_TEST(emit_refuses_name)
{
        struct dt_field f[] = { { DT_F_POLICY_DOMAIN, "example.com" }, { refused_names[_i], "v" } };
        json_object *obj;
        int r;

        obj = emit_json(DT_EVENT_AGGREGATE_REPORT, NULL, "m", f, ELEMENTSOF(f), &r);
        ck_assert_int_eq(r, -EINVAL);
        ck_assert_ptr_null(obj);
}
END_TEST

START_TEST(emit_refuses_bad_arguments)
{
        struct dt_field dup[] = { { DT_F_REPORT_ID, "a" }, { DT_F_REPORT_ID, "b" } };
        struct dt_field null_name[] = { { NULL, "a" } };
        struct dt_field many[DT_EMIT_FIELDS_MAX + 1];
        char names[DT_EMIT_FIELDS_MAX + 1][32];
        struct jsonout j;
        size_t i;

        for (i = 0; i < ELEMENTSOF(many); i++) {
                snprintf(names[i], sizeof names[i], "DMARCTRACE_F%zu", i);
                many[i] = (struct dt_field) { names[i], "v" };
        }
        jsonout_open(&j);
        ck_assert_int_eq(dt_emit(j.em, DT_EVENT_AGENT_STATE, NULL, "m", dup, 2), -EINVAL);
        ck_assert_int_eq(dt_emit(j.em, DT_EVENT_AGENT_STATE, NULL, "m", null_name, 1), -EINVAL);
        ck_assert_int_eq(dt_emit(j.em, DT_EVENT_AGENT_STATE, NULL, NULL, NULL, 0), -EINVAL);
        ck_assert_int_eq(dt_emit(j.em, DT_EVENT_AGENT_STATE, NULL, "m", NULL, 1), -EINVAL);
        ck_assert_int_eq(dt_emit(j.em, _DT_EVENT_MAX, NULL, "m", NULL, 0), -EINVAL);
        ck_assert_int_eq(dt_emit(j.em, -1, NULL, "m", NULL, 0), -EINVAL);
        ck_assert_int_eq(dt_emit(NULL, DT_EVENT_AGENT_STATE, NULL, "m", NULL, 0), -EINVAL);
        ck_assert_int_eq(dt_emit_full(j.em, DT_EVENT_AGENT_STATE, 8, NULL, "m", NULL, 0),
                         -EINVAL);
        ck_assert_int_eq(dt_emit_full(j.em, DT_EVENT_AGENT_STATE, -2, NULL, "m", NULL, 0),
                         -EINVAL);
        ck_assert_int_eq(dt_emit(j.em, DT_EVENT_AGENT_STATE, NULL, "m", many, ELEMENTSOF(many)),
                         -E2BIG);
        fflush(j.f);
        ck_assert_uint_eq(j.len, 0);
        ck_assert_int_eq(dt_emit(j.em, DT_EVENT_AGENT_STATE, NULL, "m", many, ELEMENTSOF(many) - 1),
                         0);
        jsonout_close(&j);
}
END_TEST

START_TEST(emitter_new_arguments)
{
        struct dt_emitter *em = NULL;
        struct dt_limits lim = dt_limits_default;
        char longpath[200];

        ck_assert_int_eq(dt_emitter_new(_DT_SINK_MAX, NULL, &em), -EINVAL);
        ck_assert_int_eq(dt_emitter_new(DT_SINK_JSON, NULL, NULL), -EINVAL);
        ck_assert_ptr_null(em);
        memset(longpath, 'a', sizeof longpath - 1);
        longpath[0] = '/';
        longpath[sizeof longpath - 1] = '\0';
        ck_assert_int_eq(setenv(DT_JOURNAL_SOCKET_ENV, longpath, 1), 0);
        ck_assert_int_eq(dt_emitter_new(DT_SINK_JOURNAL, NULL, &em), -ENAMETOOLONG);
        ck_assert_ptr_null(em);
        unsetenv(DT_JOURNAL_SOCKET_ENV);

        ck_assert_int_eq(dt_emitter_new(DT_SINK_JSON, NULL, &em), 0);       /* stdout */
        ck_assert_int_eq(dt_emitter_kind(em), DT_SINK_JSON);
        ck_assert(dt_emitter_available(em));
        lim.field_bytes = DT_EMIT_FIELD_BYTES_MIN - 1;
        ck_assert_int_eq(dt_emitter_set_limits(em, &lim), -EINVAL);
        lim.field_bytes = DT_EMIT_FIELD_BYTES_MAX + 1;
        ck_assert_int_eq(dt_emitter_set_limits(em, &lim), -EINVAL);
        lim.field_bytes = DT_EMIT_FIELD_BYTES_MIN;
        ck_assert_int_eq(dt_emitter_set_limits(em, &lim), 0);
        ck_assert_int_eq(dt_emitter_set_limits(em, NULL), -EINVAL);
        em = dt_emitter_free(em);
        ck_assert_ptr_null(em);
        ck_assert_ptr_null(dt_emitter_free(NULL));
        ck_assert(!dt_emitter_available(NULL));
}
END_TEST

/* ---- JSON sink -------------------------------------------------------------------------- */

START_TEST(json_holds_every_field)
{
        json_object *obj;
        size_t i;
        int r;

        obj = emit_json(DT_EVENT_AGGREGATE_REPORT, "seed",
                        "aggregate-report: example.com from google.com", report_fields,
                        ELEMENTSOF(report_fields), &r);
        ck_assert_int_eq(r, 0);
        ck_assert_str_eq(get(obj, "MESSAGE"), "aggregate-report: example.com from google.com");
        ck_assert_str_eq(get(obj, "PRIORITY"), "6");
        ck_assert_str_eq(get(obj, "MESSAGE_ID"), DT_MSGID_AGGREGATE_REPORT);
        ck_assert_str_eq(get(obj, "SYSLOG_IDENTIFIER"), "dmarctrace");
        ck_assert_str_eq(get(obj, "SYSLOG_FACILITY"), "3");
        ck_assert_str_eq(get(obj, DT_F_EVENT), "aggregate-report");
        ck_assert_uint_eq(strlen(get(obj, DT_F_EVENT_ID)), 32);
        ck_assert_str_eq(get(obj, DT_F_SEQ), seq_str(dt_emit_counts()->sent));
        ck_assert_str_eq(get(obj, DT_F_RUN_ID), dt_emit_run_id());
        ck_assert_ptr_null(get(obj, DT_F_TRUNCATED));
        for (i = 0; i < ELEMENTSOF(report_fields); i++)
                ck_assert_str_eq(get(obj, report_fields[i].name), report_fields[i].value);
        ck_assert_int_eq(json_object_object_length(obj), 9 + (int) ELEMENTSOF(report_fields));
        json_object_put(obj);
}
END_TEST

START_TEST(json_null_value_left_out)
{
        const struct dt_field f[] = { { DT_F_SCRIPT_PATH, NULL }, { DT_F_USER_ID, "33" },
                                      { DT_F_EVIDENCE, "" } };
        json_object *obj;
        int r;

        obj = emit_json(DT_EVENT_ATTRIBUTION, NULL, "attribution", f, ELEMENTSOF(f), &r);
        ck_assert_int_eq(r, 0);
        ck_assert_ptr_null(get(obj, DT_F_SCRIPT_PATH));
        ck_assert_str_eq(get(obj, DT_F_USER_ID), "33");
        ck_assert_str_eq(get(obj, DT_F_EVIDENCE), "");
        ck_assert_str_eq(get(obj, "PRIORITY"), "5");
        json_object_put(obj);
}
END_TEST

START_TEST(json_priority_override)
{
        struct jsonout j;
        json_object *obj;

        jsonout_open(&j);
        ck_assert_int_eq(dt_emit_full(j.em, DT_EVENT_AGENT_STATE, LOG_ERR, NULL, "store failed",
                                      NULL, 0), 0);
        obj = json_line(&j);
        ck_assert_str_eq(get(obj, "PRIORITY"), "3");
        ck_assert_str_eq(get(obj, DT_F_EVENT), "agent-state");
        json_object_put(obj);
        jsonout_close(&j);
}
END_TEST

START_TEST(json_two_events_two_lines)
{
        struct jsonout j;
        size_t i, lines = 0;

        jsonout_open(&j);
        ck_assert_int_eq(dt_emit(j.em, DT_EVENT_AGENT_STATE, NULL, "a", NULL, 0), 0);
        ck_assert_int_eq(dt_emit(j.em, DT_EVENT_AGENT_STATE, NULL, "b\nc", NULL, 0), 0);
        fflush(j.f);
        for (i = 0; i < j.len; i++)
                lines += j.buf[i] == '\n';
        ck_assert_uint_eq(lines, 2);
        jsonout_close(&j);
}
END_TEST

/* hostile values: what goes in, and whether it must be cut */
static const struct {
        const char *label;
        const char *value;
} hostile[] = {
        { "clear screen", "\x1b[2J\x1b[Htext" },
        { "field injection", "x\r\nPRIORITY=0\nFAKE=1" },
        { "osc title", "\x1b]0;title\x07" },
        { "bidi override", "abc\xe2\x80\xaetxt.exe" },
        { "line separator", "a\xe2\x80\xa8" "b\xc2\x85" "c" },
        { "c1 csi", "a\xc2\x9b" "31mred" },
        { "raw 0x9b", "a\x9b" "31m" },
        { "invalid utf-8", "\xff\xfe\xc0\xaf\xed\xa0\x80ok" },
        { "format string", "%n%s%s%s" },
        { "zero width", "a\xe2\x80\x8b" "b\xef\xbb\xbf" },
};

static void check_hostile_object(json_object *obj, const char *field) {
        const char *v = get(obj, field);

        ck_assert_ptr_nonnull(v);
        assert_clean(v);
        ck_assert_ptr_null(strchr(v, '\n'));
        ck_assert_uint_le(strlen(field) + 1 + strlen(v), 4095);
        assert_clean(get(obj, "MESSAGE"));
        ck_assert_str_eq(get(obj, "PRIORITY"), "4");
        ck_assert_str_eq(get(obj, "MESSAGE_ID"), DT_MSGID_INPUT_REJECTED);
        ck_assert_ptr_null(get(obj, "FAKE"));
}

START_TEST(json_hostile_value)
{
        const struct dt_field f[] = { { DT_F_INPUT_PATH, hostile[_i].value },
                                      { DT_F_REASON, "NOT_A_REPORT" } };
        json_object *obj;
        int r;

        obj = emit_json(DT_EVENT_INPUT_REJECTED, NULL, hostile[_i].value, f, ELEMENTSOF(f), &r);
        ck_assert_int_eq(r, 0);
        check_hostile_object(obj, DT_F_INPUT_PATH);
        ck_assert_ptr_null(get(obj, DT_F_TRUNCATED));
        ck_assert_str_eq(get(obj, DT_F_REASON), "NOT_A_REPORT");
        ck_assert_int_eq(json_object_object_length(obj), 11);
        json_object_put(obj);
}
END_TEST

START_TEST(json_hostile_64k_value)
{
        size_t len = 64u << 10;
        char *big = malloc(len + 1);
        json_object *obj;
        int r;

        ck_assert_ptr_nonnull(big);
        memset(big, 'A', len);
        memcpy(big, "\x1b[2J\r\nPRIORITY=0\n", 17);
        big[len] = '\0';
        {
                const struct dt_field f[] = { { DT_F_INPUT_PATH, big } };

                obj = emit_json(DT_EVENT_INPUT_REJECTED, NULL, big, f, 1, &r);
        }
        free(big);
        ck_assert_int_eq(r, 0);
        check_hostile_object(obj, DT_F_INPUT_PATH);
        ck_assert_uint_eq(strlen(DT_F_INPUT_PATH) + 1 + strlen(get(obj, DT_F_INPUT_PATH)), 4095);
        ck_assert_uint_eq(strlen("MESSAGE=") + strlen(get(obj, "MESSAGE")), 4095);
        ck_assert_str_eq(get(obj, DT_F_TRUNCATED), "true");
        json_object_put(obj);
}
END_TEST

/* the cut lands exactly on field_bytes, and never inside a UTF-8 character */
START_TEST(json_cut_on_boundary)
{
        const size_t room = 4095 - strlen(DT_F_EMAIL_SUBJECT) - 1;
        char *v = malloc(room + 8);
        json_object *obj;
        size_t i;
        int r;

        ck_assert_ptr_nonnull(v);
        /* exactly fits: not truncated */
        memset(v, 'x', room);
        v[room] = '\0';
        {
                const struct dt_field f[] = { { DT_F_EMAIL_SUBJECT, v } };

                obj = emit_json(DT_EVENT_FAILURE_REPORT, NULL, "m", f, 1, &r);
                ck_assert_int_eq(r, 0);
                ck_assert_uint_eq(strlen(get(obj, DT_F_EMAIL_SUBJECT)), room);
                ck_assert_ptr_null(get(obj, DT_F_TRUNCATED));
                json_object_put(obj);

                /* one more byte: cut */
                v[room] = 'y';
                v[room + 1] = '\0';
                obj = emit_json(DT_EVENT_FAILURE_REPORT, NULL, "m", f, 1, &r);
                ck_assert_int_eq(r, 0);
                ck_assert_uint_eq(strlen(get(obj, DT_F_EMAIL_SUBJECT)), room);
                ck_assert_str_eq(get(obj, DT_F_TRUNCATED), "true");
                json_object_put(obj);

                /* two-byte characters across the boundary: cut before the split one */
                for (i = 0; i + 1 < room + 6; i += 2)
                        memcpy(v + i, "\xc3\xa9", 2);
                v[i] = '\0';
                obj = emit_json(DT_EVENT_FAILURE_REPORT, NULL, "m", f, 1, &r);
                ck_assert_int_eq(r, 0);
                ck_assert(g_utf8_validate(get(obj, DT_F_EMAIL_SUBJECT), -1, NULL));
                ck_assert_uint_le(strlen(get(obj, DT_F_EMAIL_SUBJECT)), room);
                ck_assert_uint_ge(strlen(get(obj, DT_F_EMAIL_SUBJECT)), room - 1);
                ck_assert_str_eq(get(obj, DT_F_TRUNCATED), "true");
                json_object_put(obj);
        }
        free(v);
}
END_TEST

START_TEST(json_write_error_enospc)
{
        struct dt_emitter *em = NULL;
        FILE *f = fopen("/dev/full", "w");

        ck_assert_ptr_nonnull(f);
        ck_assert_int_eq(dt_emitter_new(DT_SINK_JSON, f, &em), 0);
        ck_assert_int_eq(dt_emit(em, DT_EVENT_AGENT_STATE, NULL, "m", NULL, 0), -ENOSPC);
        ck_assert(dt_emitter_available(em));            /* ENOSPC may pass */
        em = dt_emitter_free(em);
        fclose(f);
}
END_TEST

START_TEST(json_write_error_epipe)
{
        struct dt_emitter *em = NULL;
        int p[2];
        FILE *f;

        (void) signal(SIGPIPE, SIG_IGN);
        ck_assert_int_eq(pipe(p), 0);
        close(p[0]);
        f = fdopen(p[1], "w");
        ck_assert_ptr_nonnull(f);
        ck_assert_int_eq(dt_emitter_new(DT_SINK_JSON, f, &em), 0);
        ck_assert(dt_emitter_available(em));
        ck_assert_int_eq(dt_emit(em, DT_EVENT_AGENT_STATE, NULL, "m", NULL, 0), -EPIPE);
        ck_assert(!dt_emitter_available(em));
        em = dt_emitter_free(em);
        fclose(f);
}
END_TEST

/* ---- EVENT_ID --------------------------------------------------------------------------- */

START_TEST(event_id_stable_and_distinct)
{
        const struct dt_field a[] = { { DT_F_REPORT_ID, "1" }, { DT_F_REPORT_ORG, "x" } };
        const struct dt_field a_value[] = { { DT_F_REPORT_ID, "2" }, { DT_F_REPORT_ORG, "x" } };
        const struct dt_field a_name[] = { { DT_F_KEY, "1" }, { DT_F_REPORT_ORG, "x" } };
        const struct dt_field a_shift[] = { { DT_F_REPORT_ID, "1x" }, { DT_F_REPORT_ORG, "" } };
        const struct dt_field a_null[] = { { DT_F_REPORT_ID, "1" }, { DT_F_REPORT_ORG, "x" },
                                           { DT_F_SOURCE_IP, NULL } };
        char id[33], again[33], other[33];

        event_id_of(DT_EVENT_AGGREGATE_REPORT, "k", "m", a, 2, id);
        event_id_of(DT_EVENT_AGGREGATE_REPORT, "k", "m", a, 2, again);
        ck_assert_str_eq(id, again);
        event_id_of(DT_EVENT_AGGREGATE_REPORT, "k", "other text", a, 2, again);
        ck_assert_str_eq(id, again);            /* MESSAGE wording is not part of the id */
        event_id_of(DT_EVENT_AGGREGATE_REPORT, "k", "m", a_null, 3, again);
        ck_assert_str_eq(id, again);            /* a field left out is left out of the id */

        event_id_of(DT_EVENT_AGGREGATE_REPORT, "k2", "m", a, 2, other);
        ck_assert_str_ne(id, other);
        event_id_of(DT_EVENT_AGGREGATE_REPORT, NULL, "m", a, 2, other);
        ck_assert_str_ne(id, other);
        event_id_of(DT_EVENT_AGGREGATE_REPORT, "k", "m", a_value, 2, other);
        ck_assert_str_ne(id, other);
        event_id_of(DT_EVENT_AGGREGATE_REPORT, "k", "m", a_name, 2, other);
        ck_assert_str_ne(id, other);
        event_id_of(DT_EVENT_AGGREGATE_REPORT, "k", "m", a_shift, 2, other);
        ck_assert_str_ne(id, other);
        event_id_of(DT_EVENT_AGGREGATE_RECORD, "k", "m", a, 2, other);
        ck_assert_str_ne(id, other);
        event_id_of(DT_EVENT_AGGREGATE_REPORT, "k", "m", a, 1, other);
        ck_assert_str_ne(id, other);
}
END_TEST

/* the id is the same whichever sink carries the event */
START_TEST(event_id_same_in_both_sinks)
{
        struct dt_emitter *em = NULL;
        struct sock s;
        json_object *viajournal, *viajson;
        int r;

        sock_bind(&s);
        ck_assert_int_eq(dt_emitter_new(DT_SINK_JOURNAL, NULL, &em), 0);
        ck_assert_int_eq(dt_emit(em, DT_EVENT_AGGREGATE_REPORT, "seed", "m", report_fields,
                                 ELEMENTSOF(report_fields)), 0);
        viajournal = sock_recv(&s, NULL);
        viajson = emit_json(DT_EVENT_AGGREGATE_REPORT, "seed", "m", report_fields,
                            ELEMENTSOF(report_fields), &r);
        ck_assert_int_eq(r, 0);
        ck_assert_str_eq(get(viajournal, DT_F_EVENT_ID), get(viajson, DT_F_EVENT_ID));
        json_object_put(viajournal);
        json_object_put(viajson);
        em = dt_emitter_free(em);
        sock_done(&s);
}
END_TEST

/* ---- SEQ and RUN_ID ---------------------------------------------------------------------- */

/* one sequence for the process, over every emitter; a failed hand-off takes no number; the
 * counts follow. Relative to what ran before: with CK_FORK=no all tests share the process. */
START_TEST(seq_runs_over_emitters)
{
        const struct dt_emit_counts *c = dt_emit_counts();
        uint64_t sent0 = c->sent, failed0 = c->failed, state0 = c->by_event[DT_EVENT_AGENT_STATE],
                 rej0 = c->by_event[DT_EVENT_INPUT_REJECTED];
        struct dt_emitter *full = NULL;
        struct jsonout a, b;
        json_object *oa, *ob;
        char run[33];
        FILE *f;

        jsonout_open(&a);
        ck_assert_int_eq(dt_emit(a.em, DT_EVENT_AGENT_STATE, NULL, "one", NULL, 0), 0);
        oa = json_line(&a);
        ck_assert_str_eq(get(oa, DT_F_SEQ), seq_str(sent0 + 1));
        ck_assert_uint_eq(strlen(get(oa, DT_F_RUN_ID)), 32);
        ck_assert_uint_eq(strspn(get(oa, DT_F_RUN_ID), "0123456789abcdef"), 32);
        ck_assert_str_eq(get(oa, DT_F_RUN_ID), dt_emit_run_id());
        memcpy(run, dt_emit_run_id(), sizeof run);

        f = fopen("/dev/full", "w");                    /* a sink that fails: no number used */
        ck_assert_ptr_nonnull(f);
        ck_assert_int_eq(dt_emitter_new(DT_SINK_JSON, f, &full), 0);
        ck_assert_int_eq(dt_emit(full, DT_EVENT_AGENT_STATE, NULL, "lost", NULL, 0), -ENOSPC);
        full = dt_emitter_free(full);
        fclose(f);

        jsonout_open(&b);                               /* another emitter, as after a reload */
        ck_assert_int_eq(dt_emit(b.em, DT_EVENT_INPUT_REJECTED, NULL, "two", NULL, 0), 0);
        ob = json_line(&b);
        ck_assert_str_eq(get(ob, DT_F_SEQ), seq_str(sent0 + 2));
        ck_assert_str_eq(get(ob, DT_F_RUN_ID), run);

        ck_assert_uint_eq(c->sent, sent0 + 2);
        ck_assert_uint_eq(c->failed, failed0 + 1);
        ck_assert_uint_eq(c->by_event[DT_EVENT_AGENT_STATE], state0 + 1);
        ck_assert_uint_eq(c->by_event[DT_EVENT_INPUT_REJECTED], rej0 + 1);
        json_object_put(oa);
        json_object_put(ob);
        jsonout_close(&a);
        jsonout_close(&b);
}
END_TEST

/* the same input sent again gets another SEQ but keeps its EVENT_ID (dedupe across retries) */
START_TEST(seq_not_in_event_id)
{
        json_object *first, *again;
        int r;

        first = emit_json(DT_EVENT_AGGREGATE_REPORT, "seed", "m", report_fields,
                          ELEMENTSOF(report_fields), &r);
        ck_assert_int_eq(r, 0);
        again = emit_json(DT_EVENT_AGGREGATE_REPORT, "seed", "m", report_fields,
                          ELEMENTSOF(report_fields), &r);
        ck_assert_int_eq(r, 0);
        ck_assert_str_ne(get(first, DT_F_SEQ), get(again, DT_F_SEQ));
        ck_assert_str_eq(get(first, DT_F_EVENT_ID), get(again, DT_F_EVENT_ID));
        json_object_put(first);
        json_object_put(again);
}
END_TEST

/* ---- journal sink ----------------------------------------------------------------------- */

START_TEST(journal_missing_socket)
{
        struct dt_emitter *em = NULL;
        char dir[] = "/tmp/dt-emit-XXXXXX", path[64];

        ck_assert_ptr_nonnull(mkdtemp(dir));
        snprintf(path, sizeof path, "%s/nonexistent", dir);
        ck_assert_int_eq(setenv(DT_JOURNAL_SOCKET_ENV, path, 1), 0);
        ck_assert_int_eq(dt_emitter_new(DT_SINK_JOURNAL, NULL, &em), 0);
        ck_assert_int_eq(dt_emitter_kind(em), DT_SINK_JOURNAL);
        ck_assert(!dt_emitter_available(em));
        ck_assert_int_eq(dt_emit(em, DT_EVENT_AGENT_STATE, NULL, "m", NULL, 0), -ENOENT);
        em = dt_emitter_free(em);

        ck_assert_int_eq(dt_emitter_auto(NULL, &em), 0);        /* falls back to JSON */
        ck_assert_int_eq(dt_emitter_kind(em), DT_SINK_JSON);
        em = dt_emitter_free(em);
        unsetenv(DT_JOURNAL_SOCKET_ENV);
        rmdir(dir);
}
END_TEST

/* a socket file nobody reads from (journald stopped, socket left behind) */
START_TEST(journal_stale_socket_file)
{
        struct dt_emitter *em = NULL;
        struct sock s;

        sock_bind(&s);
        close(s.fd);                    /* the file stays, the listener is gone */
        s.fd = -1;
        ck_assert_int_eq(dt_emitter_new(DT_SINK_JOURNAL, NULL, &em), 0);
        ck_assert(!dt_emitter_available(em));
        ck_assert_int_eq(dt_emit(em, DT_EVENT_AGENT_STATE, NULL, "m", NULL, 0), -ECONNREFUSED);
        em = dt_emitter_free(em);
        sock_done(&s);
}
END_TEST

START_TEST(journal_sends_native_fields)
{
        struct dt_emitter *em = NULL;
        struct sock s;
        json_object *got, *viajson;
        bool memfd = true;
        int r;

        sock_bind(&s);
        ck_assert_int_eq(dt_emitter_auto(NULL, &em), 0);
        ck_assert_int_eq(dt_emitter_kind(em), DT_SINK_JOURNAL);
        ck_assert(dt_emitter_available(em));
        ck_assert_int_eq(dt_emit(em, DT_EVENT_AGGREGATE_REPORT, "seed", "aggregate-report: x",
                                 report_fields, ELEMENTSOF(report_fields)), 0);
        got = sock_recv(&s, &memfd);
        ck_assert(!memfd);
        ck_assert(sock_empty(&s));
        ck_assert_str_eq(get(got, "MESSAGE"), "aggregate-report: x");
        ck_assert_str_eq(get(got, "PRIORITY"), "6");
        ck_assert_str_eq(get(got, "SYSLOG_IDENTIFIER"), "dmarctrace");
        ck_assert_str_eq(get(got, "SYSLOG_FACILITY"), "3");
        ck_assert_str_eq(get(got, "MESSAGE_ID"), DT_MSGID_AGGREGATE_REPORT);
        ck_assert_str_eq(get(got, DT_F_EVENT), "aggregate-report");
        ck_assert_str_eq(get(got, DT_F_REPORT_ID), "12345678901234567890");

        ck_assert_str_eq(get(got, DT_F_SEQ), seq_str(dt_emit_counts()->sent));
        ck_assert_str_eq(get(got, DT_F_RUN_ID), dt_emit_run_id());

        /* the JSON sink gets exactly the same names and values, but for the next SEQ */
        viajson = emit_json(DT_EVENT_AGGREGATE_REPORT, "seed", "aggregate-report: x",
                            report_fields, ELEMENTSOF(report_fields), &r);
        ck_assert_int_eq(r, 0);
        ck_assert_str_eq(get(viajson, DT_F_SEQ), seq_str(dt_emit_counts()->sent));
        json_object_object_del(got, DT_F_SEQ);
        json_object_object_del(viajson, DT_F_SEQ);
        ck_assert_msg(json_object_equal(got, viajson), "journal %s\njson %s",
                      json_object_to_json_string(got), json_object_to_json_string(viajson));
        json_object_put(got);
        json_object_put(viajson);
        em = dt_emitter_free(em);
        sock_done(&s);
}
END_TEST

START_TEST(journal_hostile_value)
{
        const struct dt_field f[] = { { DT_F_INPUT_PATH, hostile[_i].value } };
        struct dt_emitter *em = NULL;
        struct sock s;
        json_object *got;

        sock_bind(&s);
        ck_assert_int_eq(dt_emitter_new(DT_SINK_JOURNAL, NULL, &em), 0);
        ck_assert_int_eq(dt_emit(em, DT_EVENT_INPUT_REJECTED, NULL, hostile[_i].value, f, 1), 0);
        got = sock_recv(&s, NULL);             /* checks every line: valid name, no duplicate */
        check_hostile_object(got, DT_F_INPUT_PATH);
        ck_assert_int_eq(json_object_object_length(got), 10);
        json_object_put(got);
        em = dt_emitter_free(em);
        sock_done(&s);
}
END_TEST

/* journald restarted: the cached connection fails, emit reconnects once and delivers */
START_TEST(journal_reconnects)
{
        struct dt_emitter *em = NULL;
        struct sock s;
        json_object *got;
        uint64_t resent0;

        sock_bind(&s);
        ck_assert_int_eq(dt_emitter_new(DT_SINK_JOURNAL, NULL, &em), 0);
        ck_assert(dt_emitter_available(em));
        ck_assert_int_eq(dt_emit(em, DT_EVENT_AGENT_STATE, NULL, "one", NULL, 0), 0);
        json_object_put(sock_recv(&s, NULL));

        close(s.fd);                                    /* journald stops ... */
        s.fd = -1;
        ck_assert_int_eq(dt_emit(em, DT_EVENT_AGENT_STATE, NULL, "lost?", NULL, 0),
                         -ECONNREFUSED);                /* ... and we are told */
        ck_assert(!dt_emitter_available(em));

        sock_rebind(&s);                                /* ... and starts again */
        ck_assert(dt_emitter_available(em));
        ck_assert_int_eq(dt_emit(em, DT_EVENT_AGENT_STATE, NULL, "two", NULL, 0), 0);
        got = sock_recv(&s, NULL);
        ck_assert_str_eq(get(got, "MESSAGE"), "two");
        json_object_put(got);

        sock_rebind(&s);                /* restart behind a live connection: no error at all */
        resent0 = dt_emit_counts()->resent;
        ck_assert_int_eq(dt_emit(em, DT_EVENT_AGENT_STATE, NULL, "three", NULL, 0), 0);
        ck_assert_uint_eq(dt_emit_counts()->resent, resent0 + 1);       /* sent again, counted */
        got = sock_recv(&s, NULL);
        ck_assert_str_eq(get(got, "MESSAGE"), "three");
        json_object_put(got);
        em = dt_emitter_free(em);
        sock_done(&s);
}
END_TEST

/* a journald that stops reading: -EAGAIN after the timeout, never a hang or a silent drop */
START_TEST(journal_full_queue)
{
        struct dt_emitter *em = NULL;
        struct timespec t0, t1;
        struct sock s;
        int i, r = 0, sent = 0;

        sock_bind(&s);
        ck_assert_int_eq(dt_emitter_new(DT_SINK_JOURNAL, NULL, &em), 0);
        dt_emitter_set_timeout(em, 20 * 1000);
        for (i = 0; i < 100000; i++) {
                clock_gettime(CLOCK_MONOTONIC, &t0);
                r = dt_emit(em, DT_EVENT_AGENT_STATE, NULL, "fill", report_fields,
                            ELEMENTSOF(report_fields));
                clock_gettime(CLOCK_MONOTONIC, &t1);
                if (r < 0)
                        break;
                sent++;
        }
        ck_assert_int_eq(r, -EAGAIN);
        ck_assert_int_gt(sent, 0);
        ck_assert_int_lt((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000,
                         2000);
        /* once the reader drains one, the next event goes through */
        json_object_put(sock_recv(&s, NULL));
        ck_assert_int_eq(dt_emit(em, DT_EVENT_AGENT_STATE, NULL, "after", NULL, 0), 0);
        em = dt_emitter_free(em);
        sock_done(&s);
}
END_TEST

/* ---- stopping while the sink is full (dt_emit_cancel_waits) ------------------------------- */
/* dt_emit_cancel_waits() has no undo, so each case emits in a child process of its own, which
 * reports through its exit status (CHILD_CHECK names the failed check on stderr); the parent
 * reads the pipe or the socket and asserts on what came out */

#define CHILD_CHECK(c)                                                                  \
        do {                                                                            \
                if (!(c)) {                                                             \
                        fprintf(stderr, "%s:%d: child check failed: %s\n", __FILE__,    \
                                __LINE__, #c);                                          \
                        _exit(1);                                                       \
                }                                                                       \
        } while (0)

static void on_stop_signal(int sig) {
        (void) sig;
        dt_emit_cancel_waits();
}

/* stop_signal_in - SIGALRM after ms, handled as the agent handles SIGTERM: no SA_RESTART */
static void stop_signal_in(long ms) {
        struct sigaction sa = { .sa_handler = on_stop_signal };
        struct itimerval it = { .it_value = { ms / 1000, (ms % 1000) * 1000 } };

        sigemptyset(&sa.sa_mask);
        (void) sigaction(SIGALRM, &sa, NULL);
        (void) setitimer(ITIMER_REAL, &it, NULL);
}

/* ms_since - milliseconds since t0 (dt_mono_usec) */
static long ms_since(uint64_t t0) {
        return (long) ((dt_mono_usec() - t0) / 1000);
}

/* child_exit_status - the child's exit status; killed after 20 s (a hang is a failure) */
static int child_exit_status(pid_t pid) {
        int status, i;

        for (i = 0; i < 2000; i++) {
                pid_t w = waitpid(pid, &status, WNOHANG);

                if (w == pid)
                        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
                usleep(10000);
        }
        kill(pid, SIGKILL);
        (void) waitpid(pid, &status, 0);
        return -1;
}

/* fill_pipe - write until a blocking write would wait; the bytes written */
static size_t fill_pipe(int fd) {
        char b[4096];
        size_t total = 0;
        ssize_t k;
        int fl = fcntl(fd, F_GETFL);

        memset(b, 'x', sizeof b);
        ck_assert_int_eq(fcntl(fd, F_SETFL, fl | O_NONBLOCK), 0);
        while ((k = write(fd, b, sizeof b)) > 0 || (k < 0 && errno == EINTR))
                total += k > 0 ? (size_t) k : 0;
        ck_assert_int_eq(errno, EAGAIN);
        ck_assert_int_eq(fcntl(fd, F_SETFL, fl), 0);
        return total;
}

/* read_slowly - everything until EOF, a page every millisecond: a reader slower than the writer */
static char *read_slowly(int fd, size_t *len) {
        size_t cap = 1 << 16, n = 0;
        char *buf = malloc(cap);
        ssize_t k;

        ck_assert_ptr_nonnull(buf);
        for (;;) {
                if (cap - n < 4096) {
                        buf = realloc(buf, cap *= 2);
                        ck_assert_ptr_nonnull(buf);
                }
                k = read(fd, buf + n, 4096);
                if (k < 0 && errno == EINTR)
                        continue;
                ck_assert_int_ge(k, 0);
                if (k == 0)
                        break;
                n += (size_t) k;
                usleep(1000);
        }
        *len = n;
        return buf;
}

/* assert_json_lines - buf is exactly want lines, each a whole JSON object; the i-th MESSAGE is
 * messages[i] when given */
static void assert_json_lines(const char *buf, size_t len, int want, const char *const *messages) {
        const char *p = buf, *end = buf + len, *nl;
        int n = 0;

        ck_assert_msg(len > 0 && buf[len - 1] == '\n', "the output does not end a line");
        for (; p < end; p = nl + 1, n++) {
                char *copy;
                json_object *obj;

                nl = memchr(p, '\n', (size_t) (end - p));
                copy = strndup(p, (size_t) (nl - p));
                obj = json_tokener_parse(copy);
                ck_assert_msg(obj != NULL, "line %d is not whole JSON (%zu bytes)", n + 1,
                              strlen(copy));
                if (messages && n < want)
                        ck_assert_str_eq(get(obj, "MESSAGE"), messages[n]);
                json_object_put(obj);
                free(copy);
        }
        ck_assert_int_eq(n, want);
}

/* child_stop_sequence - em's sink is full and stays full: the stop signal (in 100 ms) ends the
 * send waiting for it with -ECANCELED, whatever the timeout; then a send waits the timeout (300
 * ms) and fails with timed_out, and the one after it fails at once */
static void child_stop_sequence(struct dt_emitter *em, int timed_out) {
        uint64_t t0;
        long ms;
        int r;

        stop_signal_in(100);
        t0 = dt_mono_usec();
        r = dt_emit(em, DT_EVENT_AGENT_STATE, NULL, "blocked", report_fields,
                    ELEMENTSOF(report_fields));
        ms = ms_since(t0);
        CHILD_CHECK(r == -ECANCELED);
        CHILD_CHECK(ms >= 90 && ms < 5000);
        dt_emitter_set_timeout(em, 300 * 1000);
        t0 = dt_mono_usec();
        r = dt_emit(em, DT_EVENT_AGENT_HEALTH, NULL, "stopping: waits the timeout", NULL, 0);
        ms = ms_since(t0);
        CHILD_CHECK(r == timed_out);
        CHILD_CHECK(ms >= 290 && ms < 5000);
        t0 = dt_mono_usec();
        r = dt_emit(em, DT_EVENT_AGENT_STATE, NULL, "stopping: no wait now", NULL, 0);
        CHILD_CHECK(r == timed_out);
        CHILD_CHECK(ms_since(t0) < 100);
}

/* A write blocked on a full pipe: the stop signal ends it with -ECANCELED and no byte of the
 * line; the next send waits only the timeout, the one after that not at all; once the reader
 * makes room, a send goes through whole */
static void child_blocked_write(int rd, int wr) {
        const struct dt_emit_counts *c = dt_emit_counts();
        uint64_t failed = c->failed, sent = c->sent;
        struct dt_emitter *em = NULL;
        char b[4096], line[4096];
        size_t filled, drained = 0, i;
        ssize_t k;
        int r;

        filled = fill_pipe(wr);
        CHILD_CHECK(dt_emitter_new(DT_SINK_JSON, fdopen(wr, "w"), &em) == 0);
        child_stop_sequence(em, -ECANCELED);
        CHILD_CHECK(c->failed == failed + 3 && c->sent == sent);
        /* the pipe holds the filler and nothing of the three events */
        CHILD_CHECK(fcntl(rd, F_SETFL, O_NONBLOCK) == 0);
        while ((k = read(rd, b, sizeof b)) > 0) {
                for (i = 0; i < (size_t) k; i++)
                        CHILD_CHECK(b[i] == 'x');
                drained += (size_t) k;
        }
        CHILD_CHECK(drained == filled);
        /* room again: the next event goes out whole, even while stopping */
        r = dt_emit(em, DT_EVENT_AGENT_STATE, NULL, "after", NULL, 0);
        CHILD_CHECK(r == 0 && c->sent == sent + 1);
        k = read(rd, line, sizeof line - 1);
        CHILD_CHECK(k > 2 && line[0] == '{' && line[k - 1] == '\n');
        line[k] = '\0';
        CHILD_CHECK(strstr(line, "\"MESSAGE\":\"after\"") != NULL);
        dt_emitter_free(em);
        _exit(0);
}

START_TEST(json_stop_ends_blocked_write)
{
        pid_t pid;
        int p[2];

        ck_assert_int_eq(pipe(p), 0);
        pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0)
                child_blocked_write(p[0], p[1]);
        close(p[0]);
        close(p[1]);
        ck_assert_int_eq(child_exit_status(pid), 0);
}
END_TEST

/* through_slow_reader - child(fd) in a child process, writing into a one-page pipe (fd made
 * non-blocking when asked) that this process reads slowly until EOF; what it read, with the
 * child's exit status asserted 0 */
static char *through_slow_reader(void (*child)(int fd), bool nonblocking, size_t *len) {
        char *out;
        pid_t pid;
        int p[2];

        ck_assert_int_eq(pipe(p), 0);
        ck_assert_int_ge(fcntl(p[1], F_SETPIPE_SZ, 4096), 4096);
        if (nonblocking)
                ck_assert_int_eq(fcntl(p[1], F_SETFL, O_NONBLOCK), 0);
        pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                close(p[0]);
                child(p[1]);
                _exit(0);
        }
        close(p[1]);
        out = read_slowly(p[0], len);
        close(p[0]);
        ck_assert_int_eq(child_exit_status(pid), 0);
        return out;
}

/* child_big_line - one event of 256 KiB, with the stop signal 30 ms into its write */
static void child_big_line(int fd) {
        struct dt_limits lim = dt_limits_default;
        struct dt_emitter *em = NULL;
        size_t big = 256u << 10;
        char *v = malloc(big + 1);
        uint64_t t0;
        struct dt_field f[] = { { DT_F_EMAIL_SUBJECT, v } };

        CHILD_CHECK(v != NULL);
        memset(v, 's', big);
        v[big] = '\0';
        lim.field_bytes = (uint32_t) big + 64;
        CHILD_CHECK(dt_emitter_new(DT_SINK_JSON, fdopen(fd, "w"), &em) == 0);
        CHILD_CHECK(dt_emitter_set_limits(em, &lim) == 0);
        dt_emitter_set_timeout(em, 10 * 1000 * 1000);
        stop_signal_in(30);
        t0 = dt_mono_usec();
        CHILD_CHECK(dt_emit(em, DT_EVENT_FAILURE_REPORT, NULL, "big", f, 1) == 0);
        CHILD_CHECK(ms_since(t0) >= 30);       /* the signal came during the write */
        dt_emitter_free(em);
        free(v);
}

/* A line bigger than the pipe, to a slow reader: the stop signal comes while it is half
 * written, and the line is finished rather than cut */
START_TEST(json_stop_finishes_started_line)
{
        size_t len;
        char *out = through_slow_reader(child_big_line, false, &len);

        ck_assert_uint_gt(len, 256u << 10);
        assert_json_lines(out, len, 1, (const char *[]) { "big" });
        free(out);
}
END_TEST

static const char *const eight_messages[] = { "n0", "n1", "n2", "n3", "n4", "n5", "n6", "n7" };

/* child_eight_lines - eight events of 12 KB each */
static void child_eight_lines(int fd) {
        struct dt_emitter *em = NULL;
        char v[12000];
        struct dt_field f[] = { { DT_F_EMAIL_SUBJECT, v } };
        struct dt_limits lim = dt_limits_default;
        size_t i;

        memset(v, 'v', sizeof v - 1);
        v[sizeof v - 1] = '\0';
        lim.field_bytes = 16384;
        CHILD_CHECK(dt_emitter_new(DT_SINK_JSON, fdopen(fd, "w"), &em) == 0);
        CHILD_CHECK(dt_emitter_set_limits(em, &lim) == 0);
        for (i = 0; i < ELEMENTSOF(eight_messages); i++)
                CHILD_CHECK(dt_emit(em, DT_EVENT_FAILURE_REPORT, NULL, eight_messages[i], f,
                                    1) == 0);
        dt_emitter_free(em);
}

/* A non-blocking descriptor (stdout inherited that way) to a slow reader: every line whole */
START_TEST(json_nonblocking_descriptor_whole_lines)
{
        size_t len;
        char *out = through_slow_reader(child_eight_lines, true, &len);

        assert_json_lines(out, len, (int) ELEMENTSOF(eight_messages), eight_messages);
        free(out);
}
END_TEST

/* A journald that stopped reading: the stop signal ends the wait for its queue at once, the
 * next send waits the timeout, and the one after that no longer waits */
START_TEST(journal_stop_ends_wait)
{
        struct sock s;
        pid_t pid;

        sock_bind(&s);
        pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                struct dt_emitter *em = NULL;
                int r, i;

                CHILD_CHECK(dt_emitter_new(DT_SINK_JOURNAL, NULL, &em) == 0);
                dt_emitter_set_timeout(em, 20 * 1000);
                for (i = 0, r = 0; i < 100000 && r == 0; i++)
                        r = dt_emit(em, DT_EVENT_AGENT_STATE, NULL, "fill", report_fields,
                                    ELEMENTSOF(report_fields));
                CHILD_CHECK(r == -EAGAIN);
                dt_emitter_set_timeout(em, 30 * 1000 * 1000);
                child_stop_sequence(em, -EAGAIN);
                dt_emitter_free(em);
                _exit(0);
        }
        ck_assert_int_eq(child_exit_status(pid), 0);
        sock_done(&s);
}
END_TEST

static long read_long(const char *path) {
        FILE *f = fopen(path, "r");
        long v = -1;

        if (f) {
                if (fscanf(f, "%ld", &v) != 1)  /* a trusted /proc number, not hostile input */
                        v = -1;
                fclose(f);
        }
        return v;
}

/* an event bigger than a datagram may be goes in a sealed memfd */
START_TEST(journal_big_event_memfd)
{
        struct dt_limits lim = dt_limits_default;
        const size_t len = 3u << 20;
        struct dt_emitter *em = NULL;
        char *v = malloc(len + 1);
        struct sock s;
        json_object *got;
        long wmem = read_long("/proc/sys/net/core/wmem_default");
        bool memfd = false;

        ck_assert_ptr_nonnull(v);
        memset(v, 'v', len);
        v[len] = '\0';
        sock_bind(&s);
        ck_assert_int_eq(dt_emitter_new(DT_SINK_JOURNAL, NULL, &em), 0);
        lim.field_bytes = 4u << 20;
        ck_assert_int_eq(dt_emitter_set_limits(em, &lim), 0);
        rx_line_max = lim.field_bytes;
        {
                const struct dt_field f[] = { { DT_F_EVIDENCE, v } };

                ck_assert_int_eq(dt_emit(em, DT_EVENT_ATTRIBUTION, NULL, "big", f, 1), 0);
        }
        got = sock_recv(&s, &memfd);
        rx_line_max = dt_limits_default.field_bytes;
        if (wmem > 0 && (size_t) wmem * 2 < len)        /* too big for one datagram here */
                ck_assert(memfd);
        ck_assert_uint_eq(strlen(get(got, DT_F_EVIDENCE)), len);
        ck_assert_ptr_null(get(got, DT_F_TRUNCATED));
        json_object_put(got);
        free(v);
        em = dt_emitter_free(em);
        sock_done(&s);
}
END_TEST

/* ---- catalog ---------------------------------------------------------------------------- */

struct catalog_entry {
        char id[33];
        const char *start;              /* the text after the "-- id" line */
        size_t len;
};

/* catalog_parse - split the catalog into entries; each "-- id" line follows an empty line */
static size_t catalog_parse(const char *text, struct catalog_entry *e, size_t max) {
        const char *p = text, *nl;
        bool empty_before = true;
        size_t n = 0;

        while (*p) {
                nl = strchr(p, '\n');
                if (!nl)
                        nl = p + strlen(p);
                if (strncmp(p, "-- ", 3) == 0) {
                        ck_assert_msg(empty_before, "entry header not after an empty line");
                        ck_assert_int_eq(nl - p, 3 + 32);
                        ck_assert_uint_eq(strspn(p + 3, "0123456789abcdef"), 32);
                        ck_assert_uint_lt(n, max);
                        if (n > 0)
                                e[n - 1].len = (size_t) (p - e[n - 1].start);
                        memcpy(e[n].id, p + 3, 32);
                        e[n].id[32] = '\0';
                        e[n].start = *nl ? nl + 1 : nl;
                        n++;
                } else if (n > 0) {
                        ck_assert_msg(p[0] != '#', "a body line starting with '#' is dropped");
                }
                empty_before = nl == p;
                p = *nl ? nl + 1 : nl;
        }
        if (n > 0)
                e[n - 1].len = (size_t) (p - e[n - 1].start);
        return n;
}

static bool entry_has(const struct catalog_entry *e, const char *s) {
        return g_strstr_len(e->start, (gssize) e->len, s) != NULL;
}

START_TEST(catalog_matches_events)
{
        struct catalog_entry e[32];
        char *text;
        size_t n, k, i = 0, found;
        int ev;

        text = dt_test_load("../../packaging/dmarctrace.catalog", NULL);
        n = catalog_parse(text, e, ELEMENTSOF(e));
        ck_assert_uint_eq(n, _DT_EVENT_MAX);
        for (ev = 0; ev < _DT_EVENT_MAX; ev++) {
                const struct dt_event_info *info = dt_event_info(ev);

                found = 0;
                for (k = 0; k < n; k++)
                        if (strcmp(e[k].id, info->message_id) == 0) {
                                found++;
                                i = k;
                        }
                ck_assert_msg(found == 1, "%s: %zu catalog entries", info->name, found);
                ck_assert_msg(strncmp(e[i].start, "Subject: ", 9) == 0, "%s: no Subject",
                              info->name);
                ck_assert(entry_has(&e[i], "\nDefined-By: dmarctrace\n"));
                ck_assert(entry_has(&e[i], "\nSupport: "));
                ck_assert(entry_has(&e[i], "\nDocumentation: "));
                ck_assert(entry_has(&e[i], "\n\n"));    /* header, empty line, text */
                for (k = 0; info->fields[k]; k++)
                        ck_assert_msg(entry_has(&e[i], info->fields[k]),
                                      "%s: catalog does not explain %s", info->name,
                                      info->fields[k]);
        }
        free(text);
}
END_TEST

/* every @FIELD@ a catalog entry substitutes is a field its event carries */
START_TEST(catalog_substitutions_known)
{
        const char *const *common = dt_event_common_fields();
        struct catalog_entry e[32];
        char *text, name[80];
        size_t n, k, i;

        text = dt_test_load("../../packaging/dmarctrace.catalog", NULL);
        n = catalog_parse(text, e, ELEMENTSOF(e));
        for (k = 0; k < n; k++) {
                const struct dt_event_info *info = NULL;
                const char *p = e[k].start, *end = e[k].start + e[k].len, *at;
                int ev;

                for (ev = 0; ev < _DT_EVENT_MAX; ev++)
                        if (strcmp(dt_event_info(ev)->message_id, e[k].id) == 0)
                                info = dt_event_info(ev);
                ck_assert_msg(info != NULL, "catalog id %s is no event", e[k].id);
                while (p < end && (p = memchr(p, '@', (size_t) (end - p)))) {
                        bool known = false;

                        at = memchr(p + 1, '@', (size_t) (end - p - 1));
                        ck_assert_msg(at != NULL, "%s: unpaired '@'", info->name);
                        ck_assert_uint_lt((size_t) (at - p - 1), sizeof name);
                        memcpy(name, p + 1, (size_t) (at - p - 1));
                        name[at - p - 1] = '\0';
                        for (i = 0; info->fields[i]; i++)
                                known |= strcmp(name, info->fields[i]) == 0;
                        for (i = 0; common[i]; i++)
                                known |= strcmp(name, common[i]) == 0;
                        ck_assert_msg(known, "%s: @%s@ is not a field of the event", info->name,
                                      name);
                        p = at + 1;
                }
        }
        free(text);
}
END_TEST

static Suite *emit_suite(void) {
        Suite *s = suite_create("emit");
        TCase *tc = tcase_create("emit");

        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, table_complete);
        tcase_add_test(tc, table_field_names_valid);
        tcase_add_loop_test(tc, field_name_rule, 0, ELEMENTSOF(name_cases));
        tcase_add_test(tc, field_name_rule_null);
        tcase_add_loop_test(tc, emit_refuses_name, 0, ELEMENTSOF(refused_names));
        tcase_add_test(tc, emit_refuses_bad_arguments);
        tcase_add_test(tc, emitter_new_arguments);
        tcase_add_test(tc, json_holds_every_field);
        tcase_add_test(tc, json_null_value_left_out);
        tcase_add_test(tc, json_priority_override);
        tcase_add_test(tc, json_two_events_two_lines);
        tcase_add_loop_test(tc, json_hostile_value, 0, ELEMENTSOF(hostile));
        tcase_add_test(tc, json_hostile_64k_value);
        tcase_add_test(tc, json_cut_on_boundary);
        tcase_add_test(tc, json_write_error_enospc);
        tcase_add_test(tc, json_write_error_epipe);
        tcase_add_test(tc, event_id_stable_and_distinct);
        tcase_add_test(tc, event_id_same_in_both_sinks);
        tcase_add_test(tc, seq_runs_over_emitters);
        tcase_add_test(tc, seq_not_in_event_id);
        tcase_add_test(tc, journal_missing_socket);
        tcase_add_test(tc, journal_stale_socket_file);
        tcase_add_test(tc, journal_sends_native_fields);
        tcase_add_loop_test(tc, journal_hostile_value, 0, ELEMENTSOF(hostile));
        tcase_add_test(tc, journal_reconnects);
        tcase_add_test(tc, journal_full_queue);
        tcase_add_test(tc, journal_big_event_memfd);
        tcase_add_test(tc, json_stop_ends_blocked_write);
        tcase_add_test(tc, json_stop_finishes_started_line);
        tcase_add_test(tc, json_nonblocking_descriptor_whole_lines);
        tcase_add_test(tc, journal_stop_ends_wait);
        tcase_add_test(tc, catalog_matches_events);
        tcase_add_test(tc, catalog_substitutions_known);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        return dt_test_main(emit_suite());
}
