/* runtime.h - everything a scan or the agent holds open: config, store, emitter, Maildir, identity
 *
 * Opened in dependency order from one configuration and closed in reverse; a reload builds a
 * whole new runtime and swaps it in only when every part opened, so a bad configuration or an
 * unopenable store never replaces a working one. */
#ifndef DT_RUNTIME_H
#define DT_RUNTIME_H

#include "agent/detect.h"
#include "agent/emit.h"
#include "agent/identity.h"
#include "agent/logs.h"
#include "agent/maildir.h"
#include "agent/pipeline.h"
#include "agent/store.h"
#include "conf/config.h"

struct dt_runtime {
        struct dt_config *cfg;
        struct dt_store *store;
        struct dt_emitter *em;
        struct dt_maildir *md;
        struct dt_identity *id;
        struct dt_index *idx;           /* the log index, in the store's database */
        struct dt_logs *logs;           /* the configured log sources (maybe none) */
        struct dt_detect *det;          /* volume and failure-surge detection */
        struct dt_pipeline *pipe;
};

/* dt_runtime_open - load path and open every part. On failure err->message says what failed
 * (config file:line, Maildir, store) and *out is untouched. oneshot: for `scan` (see logs.h). */
int dt_runtime_open(const char *path, bool oneshot, struct dt_runtime **out, struct dt_error *err);

/* dt_runtime_catch_up_logs - index what the log sources have now (at most max_lines, 0: all),
 * committing the open batch first; 1 more waiting, 0 drained, <0 store error */
int dt_runtime_catch_up_logs(struct dt_runtime *rt, uint64_t max_lines);

/* dt_runtime_emit_state - an agent-state event: state ("starting", "ready", "reloaded",
 * "reload-failed", "rescan", "stopping", "degraded", "scan-done", "state-reset",
 * "maildir-unavailable") with the pipeline's counts; reason and text may be NULL */
int dt_runtime_emit_state(struct dt_runtime *rt, const char *state, const char *reason,
                          const char *text, uint64_t backlog);

struct dt_runtime *dt_runtime_free(struct dt_runtime *rt);
DEFINE_FREEP(struct dt_runtime, dt_runtime_free)

#endif
