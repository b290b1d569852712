/* fuzz-logline.c - libFuzzer harness: the mail-log line parsers (Postfix, Exim, PHP) and the
 * classifier that dispatches to them
 *
 * One harness for the three readers, so the fuzz stage of CI grows by one run rather than three:
 * the input is cut at newlines and each line goes through dt_logline_parse() for every source
 * kind, then straight into dt_postfix_parse(), dt_exim_parse() and dt_phplog_parse() with the
 * line as the message text (the readers are exported and also see text the classifier never
 * hands them). Every string of every record must be NUL-terminated inside its buffer and clean
 * (tests/fuzz/fuzz.h: correlate/logline.h promises dt_sanitize() on all of them), a record must
 * only come with DT_LC_RECORD, and a line past the cap must be DT_LC_TOO_LONG.
 * SECURITY: the input is anything at all; default limits, as the agent runs. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "correlate/exim.h"
#include "correlate/logline.h"
#include "correlate/phplog.h"
#include "correlate/postfix.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* check_str - buf[0..cap) holds a NUL and a clean string before it */
static void check_str(const char *buf, size_t cap) {
        if (!memchr(buf, '\0', cap))
                __builtin_trap();
        fuzz_check_clean(buf, cap - 1);
}

#define CHECK(f) check_str(r->f, sizeof r->f)

/* check_rec - every string of r is terminated and clean; the enums are in range */
static void check_rec(const struct dt_logrec *r) {
        CHECK(host);
        CHECK(instance);
        CHECK(service);
        CHECK(queue_id);
        CHECK(next_queue_id);
        CHECK(message_id);
        CHECK(user);
        CHECK(client_host);
        CHECK(client_ip);
        CHECK(sasl_method);
        CHECK(sasl_username);
        CHECK(protocol);
        CHECK(from);
        CHECK(to);
        CHECK(to_raw);
        CHECK(status);
        CHECK(relay);
        CHECK(script);
        CHECK(args);
        CHECK(subject);
        CHECK(from_hdr);
        CHECK(header);
        if ((unsigned) r->mta >= _DT_MTA_MAX || (unsigned) r->kind >= _DT_LK_MAX)
                __builtin_trap();
}

/* empty - a record as dt_logrec_init() leaves it: numbers -1 or 0, every string "" (only the
 * first byte of each is set: the bytes after it are whatever the buffer held) */
static bool empty(const struct dt_logrec *r) {
        const char *const s[] = {
                r->host, r->instance, r->service, r->queue_id, r->next_queue_id, r->message_id,
                r->user, r->client_host, r->client_ip, r->sasl_method, r->sasl_username,
                r->protocol, r->from, r->to, r->to_raw, r->status, r->relay, r->script, r->args,
                r->subject, r->from_hdr, r->header,
        };

        for (size_t i = 0; i < sizeof s / sizeof s[0]; i++)
                if (s[i][0] != '\0')
                        return false;
        return r->mta == 0 && r->kind == 0 && r->time == 0 && r->flags == 0 && r->pid == -1 &&
               r->uid == -1 && r->size == -1 && r->nrcpt == -1 && r->script_line == -1;
}

static void one_line(const char *s, size_t n) {
        static const int64_t now = 1795000000;          /* 2026-11-18: a fixed "now" */
        const struct dt_limits *lim = &dt_limits_default;
        struct dt_linestats st;
        struct dt_logrec rec;
        enum dt_lineclass c;

        memset(&st, 0, sizeof st);
        for (int src = DT_SRC_AUTO; src < _DT_SRC_MAX; src++) {
                c = dt_logline_parse(s, n, (enum dt_logsrc) src, now, lim, &rec, &st);
                if ((unsigned) c >= _DT_LC_MAX)
                        __builtin_trap();
                if (n > lim->log_line_bytes + 1 && c != DT_LC_TOO_LONG)
                        __builtin_trap();
                if (c == DT_LC_RECORD)
                        check_rec(&rec);
                else if (!empty(&rec))
                        __builtin_trap();               /* "no half-filled record leaves here" */
        }
        if (n > lim->log_line_bytes)
                return;                                 /* the readers never see such a line */
        dt_logrec_init(&rec);
        if (dt_postfix_parse("postfix/smtpd", 13, s, n, &rec) >= 0)
                check_rec(&rec);
        dt_logrec_init(&rec);
        if (dt_exim_parse(s, n, &rec) >= 0)
                check_rec(&rec);
        dt_logrec_init(&rec);
        if (dt_phplog_is_mail(s, n) && dt_phplog_parse(s, n, &rec) > 0)
                check_rec(&rec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const char *p = (const char *) data, *end = p + size;

        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));
                size_t n = nl ? (size_t) (nl - p) : (size_t) (end - p);

                one_line(p, n);
                p += n + (nl ? 1 : 0);
        }
        return 0;
}
