/* cmd-common.c - what the subcommands share: error lines for input, opening the runtime
 *
 * Only the top of the call chain prints (STYLE.md section 3): these are the places the
 * commands do it in the same words. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "agent/commands.h"
#include "report/sanitize.h"

/* dt_print_input_error - "dmarctrace: PATH: REASON (offset N)" on stderr, all of it sanitised */
void dt_print_input_error(const char *path, const struct dt_error *err) {
        char p[512], m[512];

        (void) dt_sanitize(path, strlen(path), p, sizeof p, NULL);
        (void) dt_sanitize(err->message, strlen(err->message), m, sizeof m, NULL);
        if (err->line > 0)
                fprintf(stderr, "dmarctrace: %s: %s (line %lld)\n", p, m[0] ? m : "unusable input",
                        (long long) err->line);
        else
                fprintf(stderr, "dmarctrace: %s: %s (offset %lld)\n", p, m[0] ? m : "unusable input",
                        (long long) (err->offset < 0 ? 0 : err->offset));
}

/* why - the text for a log source's error; logfile.c refuses a FIFO, a directory or a device
 * with -EBADFD */
static const char *why(int r) {
        return r == -EBADFD ? "not a regular file" : strerror(-r);
}

bool dt_cmd_logs_problem(const struct dt_logs *logs, char *text, size_t cap) {
        const char *name = NULL;
        unsigned i, bad = 0;
        int r, first = 0;

        for (i = 0; i < dt_logs_count(logs); i++) {
                const char *n;

                r = dt_logs_source_error(logs, i, &n);
                if (r >= 0)
                        continue;
                if (bad++ == 0) {
                        first = r;
                        name = n;
                }
        }
        if (bad == 0)
                return false;
        (void) snprintf(text, cap, "%u of %u log sources cannot be read; '%.400s': %s", bad,
                        dt_logs_count(logs), name, why(first));
        return true;
}

/* print_log_problems - one stderr line per log source the catch-up had to skip */
static void print_log_problems(const struct dt_logs *logs) {
        const char *name;
        char p[512];
        unsigned i;
        int r;

        for (i = 0; i < dt_logs_count(logs); i++) {
                r = dt_logs_source_error(logs, i, &name);
                if (r >= 0)
                        continue;
                (void) dt_sanitize(name, strlen(name), p, sizeof p, NULL);
                fprintf(stderr, "dmarctrace: cannot read log '%s': %s; skipping it\n", p, why(r));
        }
}

int dt_cmd_open_runtime(const char *path, bool oneshot, bool catch_up_logs, struct dt_runtime **out) {
        struct dt_runtime *rt = NULL;
        struct dt_error err;
        int r;

        dt_error_clear(&err);
        r = dt_runtime_open(path, oneshot, &rt, &err);
        if (r < 0) {
                fprintf(stderr, "dmarctrace: %s\n", err.message);
                return r;
        }
        if (catch_up_logs) {
                r = dt_runtime_catch_up_logs(rt, 0);
                if (r < 0) {
                        fprintf(stderr, "dmarctrace: cannot index the mail logs: %s\n", strerror(-r));
                        dt_runtime_free(rt);
                        return r;
                }
                print_log_problems(rt->logs);
        }
        *out = rt;
        return 0;
}
