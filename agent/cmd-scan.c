/* cmd-scan.c - `dmarctrace scan [-c FILE]`: process the Maildir's backlog once, then exit
 *
 * The same pipeline and events as the agent: every message in new/ (and, in keep mode, every
 * message in cur/ the store has not seen) is parsed, stored, reported and moved. While the event
 * output or the store is unavailable the scan waits and retries (backoff up to 60 s, at most 5
 * minutes in all) rather than drop anything. On a terminal, progress goes to stderr.
 * Exit status: 0 the backlog was processed (rejected messages included: they are handled input),
 * 1 the run could not work (configuration, Maildir, store, output), 2 usage error. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agent/commands.h"
#include "agent/runtime.h"
#include "report/macro.h"

#define RETRY_TOTAL_SEC 300

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig) {
        (void) sig;
        stop_requested = 1;
        dt_emit_cancel_waits();         /* a send blocked on a full sink gives up */
}

/* now_mono - CLOCK_MONOTONIC seconds, for the progress line's rate */
static double now_mono(void) {
        return (double) dt_mono_usec() / 1e6;
}

/* process_all - every name, with retries while the run cannot go on; <0 when it never could */
static int process_all(struct dt_runtime *rt, enum dt_md_sub sub, char **names, size_t n,
                       size_t *done, size_t total, bool progress, double t0) {
        size_t i;

        for (i = 0; i < n && !stop_requested; i++) {
                unsigned backoff = 1, waited = 0;
                const char *why;
                int r;

                while ((r = dt_pipeline_process_ahead(rt->pipe, sub, names[i],
                                                      i + 1 < n ? names[i + 1] : NULL)) < 0) {
                        if (r == -ECANCELED && stop_requested)
                                return 0;       /* no room for its events as we stop: it waits */
                        why = dt_pipeline_run_error(rt->pipe);
                        if (waited == 0)
                                fprintf(stderr, "dmarctrace: cannot process '%s' now: %s; retrying\n",
                                        names[i], why ? why : strerror(-r));
                        if (waited >= RETRY_TOTAL_SEC || stop_requested)
                                return r;
                        sleep(backoff);
                        waited += backoff;
                        backoff = backoff < 60 ? backoff * 2 : 60;
                }
                if (r == DT_PIPELINE_DEFERRED) {        /* stays in new/: the next scan retries */
                        const struct dt_error *e = dt_pipeline_deferred_error(rt->pipe);
                        fprintf(stderr, "dmarctrace: '%s': %s (%s); left in new/ for another attempt\n",
                                names[i], e->message, e->reason ? e->reason : "?");
                }
                (*done)++;
                if (progress && (*done % 64 == 0 || *done == total)) {
                        double dt = now_mono() - t0;
                        fprintf(stderr, "\rscan: %zu/%zu messages (%.0f/s)  ", *done, total,
                                dt > 0 ? (double) *done / dt : 0.0);
                }
        }
        return 0;
}

int dt_cmd_scan(int argc, char **argv) {
        static const struct option longopts[] = {
                { "config", required_argument, NULL, 'c' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        _cleanup_(dt_runtime_freep) struct dt_runtime *rt = NULL;
        const char *path = DT_CONFIG_PATH_DEFAULT;
        struct sigaction sa = { .sa_handler = on_stop };
        char **names = NULL, **cur = NULL;
        size_t n = 0, ncur = 0, done = 0;
        bool progress = isatty(STDERR_FILENO), more;
        const struct dt_pipeline_stats *s;
        struct dt_detect_stats ds = {};
        int c, r;
        double t0;

        optind = 1;
        while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
                switch (c) {
                case 'c':
                        path = optarg;
                        break;
                case 'h':
                        printf("Usage: dmarctrace scan [-c FILE]\n"
                               "Process every report waiting in the Maildir once, then exit.\n");
                        return 0;
                default:
                        return 2;
                }
        }
        if (optind != argc) {
                fprintf(stderr, "dmarctrace scan: unexpected argument '%s'\n", argv[optind]);
                return 2;
        }
        signal(SIGPIPE, SIG_IGN);
        sigemptyset(&sa.sa_mask);       /* no SA_RESTART: a write blocked on a full pipe ends */
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        if (dt_cmd_open_runtime(path, true, false, &rt) < 0)
                return 1;
        /* the logs first, so every failure report of the backlog can be traced; logs that
         * cannot be read only stop the tracing (HOSTILE.md F11) */
        r = dt_runtime_catch_up_logs(rt, 0);
        if (r < 0) {
                char text[128];

                (void) snprintf(text, sizeof text, "cannot read the mail logs: %s", strerror(-r));
                fprintf(stderr, "dmarctrace: %s; failure reports are not traced\n", text);
                (void) dt_runtime_emit_state(rt, "correlation-unavailable", "CORRELATION_UNAVAILABLE", text, 0);
        } else if (dt_logs_count(rt->logs) > 0) {
                const struct dt_logs_stats *ls = dt_logs_stats(rt->logs);
                char text[600];

                fprintf(stderr, "dmarctrace: indexed %llu log records from %llu lines%s\n",
                        (unsigned long long) ls->records, (unsigned long long) ls->lines,
                        ls->unavailable ? " (some log sources could not be read)" : "");
                if (dt_cmd_logs_problem(rt->logs, text, sizeof text))
                        (void) dt_runtime_emit_state(rt, "correlation-unavailable",
                                                     "CORRELATION_UNAVAILABLE", text, 0);
        }
        t0 = now_mono();
        do {
                r = dt_maildir_list(rt->md, DT_MD_NEW, &names, &n);
                if (r < 0) {
                        fprintf(stderr, "dmarctrace: cannot list '%s/new': %s\n",
                                dt_maildir_root(rt->md), strerror(-r));
                        return 1;
                }
                more = r == 1;
                if (rt->cfg->maildir_mode == DT_MAILDIR_KEEP && ncur == 0 &&
                    dt_maildir_list(rt->md, DT_MD_CUR, &cur, &ncur) < 0)
                        ncur = 0;
                r = process_all(rt, DT_MD_NEW, names, n, &done, n + ncur, progress, t0);
                if (r >= 0 && cur)
                        r = process_all(rt, DT_MD_CUR, cur, ncur, &done, n + ncur, progress, t0);
                names = dt_maildir_names_free(names, n);
                cur = dt_maildir_names_free(cur, ncur);
                if (r < 0) {
                        fprintf(stderr, "\ndmarctrace: giving up: %s (messages left in new/)\n", strerror(-r));
                        return 1;
                }
        } while (more && !stop_requested);
        r = dt_pipeline_flush(rt->pipe);
        if (r < 0) {
                fprintf(stderr, "dmarctrace: cannot commit the last batch: %s (its messages stay in new/)\n",
                        strerror(-r));
                return 1;
        }
        if (progress && done)
                fputc('\n', stderr);
        /* detection once over everything the scan stored: the outcome does not depend on the
         * order the backlog was read in */
        for (unsigned backoff = 1, waited = 0; (r = dt_detect_run(rt->det, &ds)) < 0; ) {
                if (waited >= RETRY_TOTAL_SEC || stop_requested) {
                        fprintf(stderr, "dmarctrace: detection failed: %s (it runs again next time)\n",
                                strerror(-r));
                        return 1;
                }
                sleep(backoff);
                waited += backoff;
                backoff = backoff < 60 ? backoff * 2 : 60;
        }
        s = dt_pipeline_stats(rt->pipe);
        (void) dt_runtime_emit_state(rt, "scan-done", NULL, NULL, 0);
        fprintf(stderr, "dmarctrace: scanned %zu messages: %llu aggregate, %llu failure, %llu duplicate, "
                "%llu rejected, %llu already seen, %llu vanished, %llu deferred; %llu traced to a local sender\n", done,
                (unsigned long long) s->aggregate, (unsigned long long) s->failure,
                (unsigned long long) s->duplicate, (unsigned long long) s->rejected,
                (unsigned long long) s->skipped, (unsigned long long) s->vanished,
                (unsigned long long) s->deferred, (unsigned long long) s->attributed);
        fprintf(stderr, "dmarctrace: detection: %llu volume spikes, %llu back to normal, %llu failure surges, "
                "%llu senders named\n", (unsigned long long) ds.spikes, (unsigned long long) ds.normals,
                (unsigned long long) ds.surges, (unsigned long long) ds.attributions);
        return 0;
}
