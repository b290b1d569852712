/* runtime.c - open and close what a scan or the agent works with
 *
 * Order: config -> identity -> Maildir -> state directory and store -> emitter -> log index and
 * log sources -> detection -> pipeline.
 * The state directory is created (0700) when missing, as systemd's StateDirectory= would. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent/runtime.h"
#include "correlate/attribute.h"
#include "config.h"

/* open_emitter - the sink the output key asks for */
static int open_emitter(const struct dt_config *cfg, struct dt_emitter **out) {
        switch (cfg->output) {
        case DT_OUTPUT_JOURNAL:
                return dt_emitter_new(DT_SINK_JOURNAL, NULL, out);
        case DT_OUTPUT_JSON:
                return dt_emitter_new(DT_SINK_JSON, stdout, out);
        default:
                return dt_emitter_auto(stdout, out);
        }
}

int dt_runtime_open(const char *path, bool oneshot, struct dt_runtime **out, struct dt_error *err) {
        _cleanup_(dt_runtime_freep) struct dt_runtime *rt = NULL;
        char reset[PATH_MAX + 600] = "";
        int r;

        rt = calloc(1, sizeof *rt);
        if (!rt)
                return dt_error_set(err, -ENOMEM, DT_R_NOMEM, -1, "out of memory");
        r = dt_config_load(path, &rt->cfg, err);
        if (r < 0)
                return r;
        r = dt_identity_new((const char *const *) rt->cfg->hostnames, rt->cfg->n_hostnames,
                            (const char *const *) rt->cfg->addresses, rt->cfg->n_addresses, &rt->id);
        if (r < 0)
                return dt_error_set(err, r, NULL, -1, "cannot determine this host's identity: %s",
                                    strerror(-r));
        r = dt_maildir_open(rt->cfg->maildir_path, &rt->md, err);
        if (r < 0)
                return r;
        if (mkdir(rt->cfg->state_dir, 0700) < 0 && errno != EEXIST)
                return dt_error_set(err, -errno, NULL, -1, "cannot create state directory '%s': %s",
                                    rt->cfg->state_dir, strerror(errno));
        r = dt_store_open(rt->cfg->state_dir, &rt->store, err);
        if (r == -EBADMSG) {
                /* HOSTILE.md F18: a corrupt store is moved aside and the run starts from empty
                 * state; what is still in new/ is processed, cur/ was processed before */
                int n = snprintf(reset, sizeof reset, "%s; moved to ", err->message);
                r = dt_store_reset(rt->cfg->state_dir, reset + n, sizeof reset - (size_t) n, err);
                if (r >= 0)
                        r = dt_store_open(rt->cfg->state_dir, &rt->store, err);
        }
        if (r < 0)
                return r;
        r = open_emitter(rt->cfg, &rt->em);
        if (r < 0)
                return dt_error_set(err, r, NULL, -1, "cannot set up event output: %s", strerror(-r));
        r = dt_emitter_set_limits(rt->em, &rt->cfg->limits);
        if (r < 0)
                return dt_error_set(err, r, NULL, -1, "limits.field_bytes is out of range");
        r = dt_index_open(dt_store_db(rt->store), (int) rt->cfg->php_window_seconds, &rt->idx, err);
        if (r < 0)
                return r;
        if (dt_correlate_prepare(rt->idx) < 0)
                return dt_error_set(err, -EIO, NULL, -1, "cannot prepare the log lookups: %s",
                                    sqlite3_errmsg(dt_store_db(rt->store)));
        r = dt_logs_open(rt->cfg, rt->store, rt->idx, oneshot, &rt->logs);
        if (r < 0)
                return dt_error_set(err, r, DT_R_NOMEM, -1, "out of memory");
        r = dt_detect_new(rt->cfg, rt->store, rt->em, dt_logs_count(rt->logs) > 0 ? rt->idx : NULL, rt->id,
                          &rt->det);
        if (r < 0)
                return dt_error_set(err, r, DT_R_NOMEM, -1, "cannot set up detection: %s", strerror(-r));
        r = dt_pipeline_new(rt->cfg, rt->store, rt->em, rt->md, rt->id,
                            dt_logs_count(rt->logs) > 0 ? rt->idx : NULL, rt->det, &rt->pipe);
        if (r < 0)
                return dt_error_set(err, r, DT_R_NOMEM, -1, "out of memory");
        if (reset[0])
                (void) dt_runtime_emit_state(rt, "state-reset", "STATE_RESET", reset, 0);
        *out = TAKE_PTR(rt);
        return 0;
}

int dt_runtime_emit_state(struct dt_runtime *rt, const char *state, const char *reason,
                          const char *text, uint64_t backlog) {
        const struct dt_pipeline_stats *s = dt_pipeline_stats(rt->pipe);
        char done[24], rej[24], back[24], msg[512];

        (void) snprintf(done, sizeof done, "%" PRIu64, s->aggregate + s->failure + s->duplicate);
        (void) snprintf(rej, sizeof rej, "%" PRIu64, s->rejected);
        (void) snprintf(back, sizeof back, "%" PRIu64, backlog);
        const struct dt_field f[] = {
                { DT_F_STATE, state },
                { DT_F_VERSION, PACKAGE_VERSION },
                { DT_F_PROCESSED_COUNT, done },
                { DT_F_REJECTED_COUNT, rej },
                { DT_F_BACKLOG_COUNT, back },
                { DT_F_REASON, reason },
                { DT_F_ERROR_MESSAGE, text },
                { DT_F_INPUT_PATH, dt_maildir_root(rt->md) },
        };
        (void) snprintf(msg, sizeof msg, "agent-state: %s, %s processed, %s rejected, %s waiting%s%.300s",
                        state, done, rej, back, text ? ": " : "", text ? text : "");
        /* agent-state events are not tied to an input: a time seed keeps their ids unique */
        char seed[64];
        (void) snprintf(seed, sizeof seed, "%s-%lld-%ld", state, (long long) time(NULL), (long) getpid());
        return dt_emit(rt->em, DT_EVENT_AGENT_STATE, seed, msg, f, ELEMENTSOF(f));
}

int dt_runtime_catch_up_logs(struct dt_runtime *rt, uint64_t max_lines) {
        int r;

        if (dt_logs_count(rt->logs) == 0)
                return 0;
        r = dt_pipeline_flush(rt->pipe);        /* the logs commit on their own */
        if (r < 0)
                return r;
        return dt_logs_catch_up(rt->logs, max_lines);
}

struct dt_runtime *dt_runtime_free(struct dt_runtime *rt) {
        if (!rt)
                return NULL;
        dt_pipeline_free(rt->pipe);
        dt_detect_free(rt->det);
        dt_logs_free(rt->logs);
        dt_index_free(rt->idx);
        dt_emitter_free(rt->em);
        dt_store_free(rt->store);
        dt_maildir_free(rt->md);
        dt_identity_free(rt->id);
        dt_config_free(rt->cfg);
        free(rt);
        return NULL;
}
