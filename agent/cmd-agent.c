/* cmd-agent.c - `dmarctrace agent [-c FILE]`: the daemon
 *
 * Watches the Maildir's new/ with inotify (watch.c) and runs every message through the pipeline
 * as it arrives; a full rescan at start, after an inotify overflow, after the watch is lost, and
 * every few minutes as a safety net. A lost watch (new/ deleted, moved, or no longer the one at
 * the configured path) gives one maildir-unavailable event; the Maildir is then reopened and
 * watched again, with backoff while it stays away. One loop, one thread: libinotifytools keeps
 * process-wide state, so the loop waits in dt_watch_wait() (a signal ends the wait early) and
 * does everything else between waits: signals (SIGTERM/SIGINT stop after the current message,
 * or at once when its events wait for a full journal queue or pipe: that message stays in new/;
 * SIGHUP reloads the configuration and keeps the old one when the new one fails), sd_notify
 * READY/STATUS/STOPPING and WATCHDOG pings when WATCHDOG_USEC is set, and retries with backoff
 * (1 s doubling to 60 s) while the event output, the store or the host's fds are unavailable:
 * messages then wait in new/, none is lost (agent-state degraded says so when it can). A mail
 * log that cannot be read only stops the tracing (correlation-unavailable, at most hourly).
 * An agent-health event (health.c) goes out every events.health_interval seconds, even in the
 * middle of a long backlog, and once at stop; its due time bounds the wait, so no extra timer.
 * Idle, it wakes once per wait period (a few times a minute). */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "agent/commands.h"
#include "agent/health.h"
#include "agent/runtime.h"
#include "agent/watch.h"

#define RESCAN_EVERY_SEC 300
#define CORRELATION_NOTICE_SEC 3600     /* correlation-unavailable at most this often */
#define IDLE_WAIT_MS 20000

static volatile sig_atomic_t stop_requested, reload_requested;

static void on_signal(int sig) {
        if (sig == SIGHUP) {
                reload_requested = 1;
        } else {
                stop_requested = 1;
                dt_emit_cancel_waits();         /* a send blocked on a full sink gives up */
        }
}

struct loop {
        struct dt_runtime *rt;
        const char *config_path;
        uint64_t watchdog_usec, last_ping, retry_at, last_rescan;
        unsigned backoff;               /* seconds; 0 when healthy */
        unsigned watch_backoff;         /* seconds between attempts to watch again */
        uint64_t watch_retry_at;
        bool rescan;                    /* list new/ again before waiting */
        bool watching;
        bool maildir_lost;              /* said maildir-unavailable, not yet back */
        uint64_t correlation_said;      /* when correlation-unavailable was last emitted; 0: not */
        bool logs_pending;              /* more log lines wait: do not sleep long */
        struct dt_health *health;       /* agent-health: lives as long as the process */
        struct dt_health_totals base;   /* totals of the runtimes a reload replaced */
};

/* ping - WATCHDOG=1 once a quarter of WATCHDOG_USEC has passed. The loop's waits end after
 * half of it at most (watchdog_wait_ms); a threshold of a half too would skip the ping whenever
 * a wait ends a hair early, and ping only every full WATCHDOG_USEC, on the edge of systemd's
 * deadline. */
static void ping(struct loop *l) {
        uint64_t now = dt_mono_usec();

        if (l->watchdog_usec && now - l->last_ping >= l->watchdog_usec / 4) {
                (void) sd_notify(0, "WATCHDOG=1");
                l->last_ping = now;
        }
}

/* ping_before_wait - WATCHDOG=1 now, before a wait of up to half of WATCHDOG_USEC: the gap to
 * the ping after it is then that wait, not the wait plus the work since the last ping */
static void ping_before_wait(struct loop *l) {
        if (l->watchdog_usec) {
                (void) sd_notify(0, "WATCHDOG=1");
                l->last_ping = dt_mono_usec();
        }
}

/* watchdog_wait_ms - the longest wait that still pings in time: half of WATCHDOG_USEC, cut to
 * the whole seconds dt_watch_wait() counts in (it rounds up: a 500 ms cap waited 1 s, and F14's
 * test saw 1.0-1.27 s between pings for a 1 s watchdog), at least 1 s; so WatchdogSec= must be
 * 2 s or more (the unit sets 30 s, a wait of 15 s) */
static int watchdog_wait_ms(const struct loop *l) {
        uint64_t half_s = l->watchdog_usec / 2000000u;

        if (half_s < 1)
                return 1000;
        return half_s > INT_MAX / 1000 ? INT_MAX / 1000 * 1000 : (int) half_s * 1000;
}

/* totals - since start: the runtimes a reload replaced, plus the running one */
static struct dt_health_totals totals(const struct loop *l) {
        const struct dt_pipeline_stats *s = dt_pipeline_stats(l->rt->pipe);
        struct dt_health_totals t = l->base;

        t.processed += s->aggregate + s->failure + s->duplicate;       /* as agent-state counts */
        t.rejected += s->rejected;
        t.deferred += s->deferred;
        t.suppressed += dt_pipeline_suppressed(l->rt->pipe);
        return t;
}

/* health - an agent-health event. The open batch is committed first, so the files it counts
 * as processed have left new/ and are not in the backlog too (a failing commit is the loop's
 * to handle: it backs off at its own flush). */
static void health(struct loop *l, bool at_stop) {
        struct dt_health_totals t;
        uint64_t backlog = 0;
        int r;

        (void) dt_pipeline_flush(l->rt->pipe);
        t = totals(l);
        r = l->maildir_lost ? -ENOENT : dt_maildir_count(l->rt->md, DT_MD_NEW, &backlog);
        r = dt_health_emit(l->health, l->rt->em, at_stop, &t, r < 0 ? -1 : (int64_t) backlog,
                           dt_mono_usec());
        if (r == -ECANCELED)
                fprintf(stderr, "dmarctrace: agent-health event not sent: the event output "
                        "had no room while stopping\n");
        else if (r < 0)
                fprintf(stderr, "dmarctrace: cannot send the agent-health event: %s\n",
                        strerror(-r));
}

/* health_tick - the periodic agent-health event, when due */
static void health_tick(struct loop *l) {
        if (dt_mono_usec() >= dt_health_due_usec(l->health))
                health(l, false);
}

/* degraded_reason - the agent-state REASON for a failure of the run worth an event: the host is
 * short of disk, fds, processes or memory (HOSTILE.md F4, F20). NULL for the rest: the event
 * output itself failing cannot carry an event about it. */
static const char *degraded_reason(int r) {
        switch (r) {
        case -ENOSPC:
                return "ENOSPC";
        case -EIO:
                return "EIO";
        case -EMFILE:
                return "EMFILE";
        case -ENFILE:
                return "ENFILE";
        case -ENOMEM:
                return "ENOMEM";
        case -EAGAIN:                   /* fork: no more processes (never the sink's: not asked) */
                return "EAGAIN";
        default:
                return NULL;
        }
}

/* run_failed - the run cannot go on (output, store, host resources): back off and say so; what
 * was not committed waits in new/ and is listed again when the backoff ends. why: what is known
 * beyond the errno (NULL: its text). */
static void run_failed(struct loop *l, int r, uint64_t waiting, const char *why) {
        const char *reason = degraded_reason(r), *sink = "", *text = why ? why : strerror(-r);
        char status[256];

        if (dt_emitter_send_error(l->rt->em) == r)      /* the events could not go out (F1, F3) */
                sink = dt_emitter_kind(l->rt->em) == DT_SINK_JOURNAL ? "journald unavailable: " :
                                                                       "event output unavailable: ";
        l->backoff = l->backoff ? (l->backoff < 60 ? l->backoff * 2 : 60) : 1;
        l->retry_at = dt_mono_usec() + (uint64_t) l->backoff * 1000000u;
        l->rescan = true;
        (void) snprintf(status, sizeof status, "STATUS=Cannot process messages (%s%s); retrying in %u s",
                        sink, text, l->backoff);
        (void) sd_notify(0, status);
        fprintf(stderr, "dmarctrace: cannot process messages now: %s%s; retrying in %u s\n", sink,
                text, l->backoff);
        if (reason && !sink[0])
                (void) dt_runtime_emit_state(l->rt, "degraded", reason, text, waiting);
}

/* run_names - process names from new/; on a failure of the run keep going later (backoff) */
static void run_names(struct loop *l, char **names, size_t n) {
        size_t i;
        int r;

        for (i = 0; i < n && !stop_requested; i++) {
                ping(l);
                health_tick(l);         /* a long backlog reports its progress as it goes */
                /* the next name's parse overlaps this one's store and events */
                r = dt_pipeline_process_ahead(l->rt->pipe, DT_MD_NEW, names[i],
                                              i + 1 < n ? names[i + 1] : NULL);
                if (r == DT_PIPELINE_DEFERRED) {
                        /* left in new/; the periodic rescan tries it again (no hot loop) */
                        const struct dt_error *e = dt_pipeline_deferred_error(l->rt->pipe);
                        fprintf(stderr, "dmarctrace: '%s': %s (%s); left in new/ for another attempt\n",
                                names[i], e->message, e->reason ? e->reason : "?");
                        continue;
                }
                if (r == -ECANCELED && stop_requested)
                        return;         /* its events had no room as we stop: it waits in new/ */
                if (r < 0) {
                        run_failed(l, r, n - i, dt_pipeline_run_error(l->rt->pipe));
                        return;
                }
        }
        if (l->backoff && !stop_requested) {
                l->backoff = 0;
                (void) sd_notify(0, "STATUS=Processing reports");
        }
}

/* rescan - list new/ and process all of it */
static void rescan(struct loop *l) {
        char **names = NULL;
        size_t n = 0;
        int r;

        l->rescan = false;
        l->last_rescan = dt_mono_usec();
        if (l->maildir_lost)
                return;         /* the directories held are no longer the configured ones */
        do {
                r = dt_maildir_list(l->rt->md, DT_MD_NEW, &names, &n);
                if (r < 0) {
                        fprintf(stderr, "dmarctrace: cannot list '%s/new': %s\n", dt_maildir_root(l->rt->md),
                                strerror(-r));
                        run_failed(l, r, 0, NULL);      /* e.g. out of fds: no hot loop */
                        return;
                }
                run_names(l, names, n);
                names = dt_maildir_names_free(names, n);
        } while (r == 1 && !stop_requested && !l->backoff);
}

/* watch_later - no watch for now: the loop rescans instead, and tries again after a backoff
 * (1 s doubling to 60 s) */
static void watch_later(struct loop *l, const char *why) {
        l->watching = false;
        l->watch_backoff = l->watch_backoff ? (l->watch_backoff < 60 ? l->watch_backoff * 2 : 60) : 1;
        l->watch_retry_at = dt_mono_usec() + (uint64_t) l->watch_backoff * 1000000u;
        fprintf(stderr, "dmarctrace: %s; trying again in %u s\n", why, l->watch_backoff);
}

/* start_watch - watch ROOT/new, or try again later */
static void start_watch(struct loop *l) {
        char dir[4200], why[4400];
        int r;

        (void) snprintf(dir, sizeof dir, "%s/new", dt_maildir_root(l->rt->md));
        r = dt_watch_open(dir);
        l->watching = r >= 0;
        if (r >= 0) {
                l->watch_backoff = 0;
                return;
        }
        (void) snprintf(why, sizeof why, "cannot watch '%s': %s", dir, strerror(-r));
        watch_later(l, why);
}

/* rewatch - open the Maildir again (it may be a new one) and watch it; a rescan follows */
static void rewatch(struct loop *l) {
        struct dt_error err;

        dt_error_clear(&err);
        if (dt_maildir_reopen(l->rt->md, &err) < 0) {
                watch_later(l, err.message);
                return;
        }
        l->rescan = true;
        if (l->maildir_lost) {
                l->maildir_lost = false;
                (void) dt_runtime_emit_state(l->rt, "rescan", "MAILDIR_AVAILABLE", NULL, 0);
        }
        start_watch(l);
}

/* watch_lost - the watch is gone, or ROOT/new is another directory now (HOSTILE.md F8): say so
 * once, and watch again (with backoff while the Maildir stays away) */
static void watch_lost(struct loop *l) {
        dt_watch_close();
        l->watching = false;
        if (!l->maildir_lost) {
                l->maildir_lost = true;
                (void) dt_runtime_emit_state(l->rt, "maildir-unavailable", "MAILDIR_UNAVAILABLE", NULL, 0);
        }
        rewatch(l);
}

/* check_correlation - r from the log catch-up: a configured log source that cannot be opened
 * or read (no permission, a misconfigured path: HOSTILE.md F11) gives one
 * correlation-unavailable event, repeated at most hourly while it lasts; reports are processed
 * all the same, without tracing to a local sender */
static void check_correlation(struct loop *l, int r) {
        unsigned bad = dt_logs_count(l->rt->logs) ? dt_logs_stats(l->rt->logs)->unavailable : 0;
        uint64_t now = dt_mono_usec();
        char text[600];

        if (!bad && r >= 0) {
                l->correlation_said = 0;
                return;
        }
        if (l->correlation_said && now - l->correlation_said < (uint64_t) CORRELATION_NOTICE_SEC * 1000000u)
                return;
        if (r < 0)
                (void) snprintf(text, sizeof text, "cannot read the mail logs: %s", strerror(-r));
        else
                (void) dt_cmd_logs_problem(l->rt->logs, text, sizeof text);
        (void) dt_runtime_emit_state(l->rt, "correlation-unavailable", "CORRELATION_UNAVAILABLE", text, 0);
        l->correlation_said = now;
}

/* until_health - wait_ms, shortened to end when the next agent-health event is due: the
 * existing wait is the timer, so an idle agent wakes no more often than before plus once an
 * interval */
static int until_health(const struct loop *l, int wait_ms) {
        uint64_t due = dt_health_due_usec(l->health), now = dt_mono_usec();

        if (due == UINT64_MAX)
                return wait_ms;
        if (due <= now)
                return 0;
        if ((due - now) / 1000u < (uint64_t) wait_ms)
                return (int) ((due - now) / 1000u) + 1;
        return wait_ms;
}

/* reload - SIGHUP: a whole new runtime, or the old one with the reason said */
static void reload(struct loop *l) {
        struct dt_runtime *fresh = NULL;
        struct dt_error err;
        int r;

        reload_requested = 0;
        (void) sd_notify(0, "RELOADING=1");
        dt_error_clear(&err);
        r = dt_runtime_open(l->config_path, false, &fresh, &err);
        if (r < 0) {
                fprintf(stderr, "dmarctrace: reload failed, keeping the running configuration: %s\n",
                        err.message);
                (void) dt_runtime_emit_state(l->rt, "reload-failed", "CONFIG_RELOAD_FAILED", err.message, 0);
        } else {
                dt_watch_close();
                (void) dt_pipeline_flush(l->rt->pipe);
                l->base = totals(l);    /* the new pipeline counts from 0 */
                dt_runtime_free(l->rt);
                l->rt = fresh;
                dt_health_set_interval(l->health, fresh->cfg->health_interval);
                l->maildir_lost = false;        /* fresh opened the Maildir at its path */
                start_watch(l);
                l->rescan = true;
                (void) dt_runtime_emit_state(l->rt, "reloaded", NULL, NULL, 0);
        }
        (void) sd_notify(0, "READY=1\nSTATUS=Processing reports");
}

int dt_cmd_agent(int argc, char **argv) {
        static const struct option longopts[] = {
                { "config", required_argument, NULL, 'c' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        struct loop l = { .config_path = DT_CONFIG_PATH_DEFAULT };
        struct sigaction sa = { .sa_handler = on_signal };     /* no SA_RESTART: waits end early */
        int c, r;

        optind = 1;
        while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
                switch (c) {
                case 'c':
                        l.config_path = optarg;
                        break;
                case 'h':
                        printf("Usage: dmarctrace agent [-c FILE]\n"
                               "Watch the Maildir and process reports as they arrive (the daemon).\n");
                        return 0;
                default:
                        return 2;
                }
        }
        if (optind != argc) {
                fprintf(stderr, "dmarctrace agent: unexpected argument '%s'\n", argv[optind]);
                return 2;
        }
        signal(SIGPIPE, SIG_IGN);
        sigemptyset(&sa.sa_mask);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGHUP, &sa, NULL);

        if (dt_cmd_open_runtime(l.config_path, false, false, &l.rt) < 0)
                return 1;
        if (dt_health_new(dt_mono_usec(), l.rt->cfg->health_interval, &l.health) < 0) {
                fprintf(stderr, "dmarctrace: out of memory\n");
                dt_runtime_free(l.rt);
                return 1;
        }
        if (sd_watchdog_enabled(0, &l.watchdog_usec) <= 0)
                l.watchdog_usec = 0;
        if (l.watchdog_usec && l.watchdog_usec < 2000000u)
                fprintf(stderr, "dmarctrace: WatchdogSec= is below 2 s: the inotify wait counts "
                        "whole seconds, so a watchdog ping may come late\n");
        start_watch(&l);        /* before the first listing, so nothing arrives unseen */
        (void) dt_runtime_emit_state(l.rt, "ready", NULL, NULL, 0);
        (void) sd_notify(0, "READY=1\nSTATUS=Processing reports");
        l.rescan = true;

        while (!stop_requested) {
                char **names = NULL;
                size_t n = 0;
                bool overflow = false;
                uint64_t now = dt_mono_usec();
                int wait_ms = IDLE_WAIT_MS;

                ping(&l);
                if (reload_requested)
                        reload(&l);
                health_tick(&l);
                /* new log lines first, so a failure report about them can be traced; bounded
                 * so the loop stays responsive during a large first catch-up. The open batch is
                 * committed first (the logs commit on their own): a failure there is the
                 * store's and backs off; a failure of the logs only stops the tracing. */
                if (!l.backoff || now >= l.retry_at) {
                        r = dt_pipeline_flush(l.rt->pipe);
                        if (r < 0) {
                                run_failed(&l, r, 0, NULL);
                                continue;
                        }
                        r = dt_runtime_catch_up_logs(l.rt, 20000);
                        l.logs_pending = r > 0;
                        check_correlation(&l, r);
                }
                if (l.backoff && now < l.retry_at) {
                        wait_ms = (int) ((l.retry_at - now) / 1000u) + 1;
                } else if (l.rescan || now - l.last_rescan >= (uint64_t) RESCAN_EVERY_SEC * 1000000u) {
                        rescan(&l);
                        continue;
                }
                if (l.logs_pending)
                        wait_ms = 0;
                if (l.watchdog_usec && wait_ms > watchdog_wait_ms(&l))
                        wait_ms = watchdog_wait_ms(&l);
                wait_ms = until_health(&l, wait_ms);
                r = dt_pipeline_flush(l.rt->pipe);
                if (r < 0) {
                        run_failed(&l, r, 0, NULL);     /* the batch's files are still in new/ */
                        continue;
                }
                if (dt_detect_pending(l.rt->det) > 0 && (r = dt_detect_run(l.rt->det, NULL)) < 0)
                        fprintf(stderr, "dmarctrace: detection failed: %s; retrying when idle\n",
                                strerror(-r));  /* its marks are kept */
                if (!l.watching) {
                        now = dt_mono_usec();
                        if (now >= l.watch_retry_at) {
                                rewatch(&l);
                                if (l.watching)
                                        continue;
                        }
                        if (l.watch_retry_at > now && (l.watch_retry_at - now) / 1000u < (uint64_t) wait_ms)
                                wait_ms = (int) ((l.watch_retry_at - now) / 1000u) + 1;
                        ping_before_wait(&l);
                        usleep((useconds_t) wait_ms * 1000u);   /* a signal ends it early */
                        l.rescan = true;
                        continue;
                }
                ping_before_wait(&l);
                r = dt_watch_wait(wait_ms, &names, &n, &overflow);
                if (r < 0 || r == DT_WATCH_LOST || dt_maildir_moved(l.rt->md)) {
                        /* its names are listed again by the rescan */
                        dt_maildir_names_free(names, n);
                        watch_lost(&l);
                        continue;
                }
                if (overflow) {
                        (void) dt_runtime_emit_state(l.rt, "rescan", "INOTIFY_OVERFLOW", NULL, 0);
                        l.rescan = true;
                }
                if (!l.backoff)
                        run_names(&l, names, n);
                else if (n)
                        l.rescan = true;
                dt_maildir_names_free(names, n);
        }
        (void) sd_notify(0, "STOPPING=1\nSTATUS=Stopping");
        health(&l, true);               /* commits the open batch first */
        (void) dt_runtime_emit_state(l.rt, "stopping", NULL, NULL, 0);
        dt_watch_close();
        dt_runtime_free(l.rt);
        dt_health_free(l.health);
        return 0;
}
