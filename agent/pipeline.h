/* pipeline.h - one Maildir message from file to stored, emitted and moved
 *
 * The order of work for every message is parse -> emit events -> commit -> rename: a crash at
 * any point leaves the message in new/ to be processed again, the store never counts it twice
 * (the transaction holds both the report rows and the "processed" mark), and the events it
 * emits again carry the same DMARCTRACE_EVENT_ID. Used by `scan` and by the agent loop. */
#ifndef DT_PIPELINE_H
#define DT_PIPELINE_H

#include <stdbool.h>
#include <stdint.h>

#include "agent/detect.h"
#include "agent/emit.h"
#include "agent/identity.h"
#include "agent/maildir.h"
#include "agent/store.h"
#include "conf/config.h"
#include "correlate/attribute.h"
#include "correlate/index.h"

/* aggregate, failure, attributed, duplicate and rejected count messages whose batch committed
 * (a batch rolled back is counted when its messages are processed again); the rest count as
 * they happen */
struct dt_pipeline_stats {
        uint64_t aggregate;     /* aggregate reports stored */
        uint64_t failure;       /* failure reports stored */
        uint64_t attributed;    /* failure reports traced to a local sender */
        uint64_t duplicate;     /* reports already in the store */
        uint64_t rejected;      /* messages that could not be used */
        uint64_t skipped;       /* processed by an earlier run (keep mode, or a rename cut short) */
        uint64_t vanished;      /* gone between listing and opening (another MUA): benign */
        uint64_t deferred;      /* parse worker crashed or hung: left in new/ for a retry */
};

/* dt_pipeline_process_ahead's result for a message whose parse worker crashed or passed its deadline
 * before its last attempt: nothing was recorded, the file stays in new/, and the caller moves
 * on (the next rescan tries it again; the third failure rejects it) */
#define DT_PIPELINE_DEFERRED 1

struct dt_pipeline;

/* dt_pipeline_new - tie the parts together; all are borrowed and must outlive the pipeline.
 * idx may be NULL (no logs configured): failure reports are then not traced. det may be NULL:
 * stored reports are then not marked for detection. */
int dt_pipeline_new(const struct dt_config *cfg, struct dt_store *store, struct dt_emitter *em,
                    struct dt_maildir *md, const struct dt_identity *id, struct dt_index *idx,
                    struct dt_detect *det, struct dt_pipeline **out);

/* dt_attribution_message - the one-line MESSAGE of an attribution event, into buf */
void dt_attribution_message(const struct dt_attribution *a, const char *domain, char *buf, size_t cap);

/* dt_pipeline_process_ahead - one message, new/NAME or cur/NAME. Returns 0 when the message is
 * done (stored, rejected, skipped or gone; committed and moved with its batch, see
 * dt_pipeline_flush), DT_PIPELINE_DEFERRED when its parse worker failed (see above; why in
 * dt_pipeline_deferred_error), or <0 when the run itself cannot go on right now (the journal
 * or JSON output is unavailable, the store failed, the host is out of fds or processes): this
 * message was not recorded (the batch before it was committed) and the caller retries later.
 * Each call that reads the message counts an attempt in the store, committed at once.
 * It also reads next (a name in the same sub/, the one the caller means to process after this
 * one; NULL: none) so the worker parses it while this message is stored and emitted: on 2
 * cores a run then takes about as long as the larger of parsing and storing, not their sum.
 * Reading ahead changes nothing in the store: next is counted and recorded only in its own
 * turn, and a crash or timeout of the worker while it holds next is next's outcome. Calling
 * with another name than next only costs the read. */
int dt_pipeline_process_ahead(struct dt_pipeline *p, enum dt_md_sub sub, const char *name,
                              const char *next);

/* dt_pipeline_flush - commit the open batch and move its files; call it before waiting for new
 * mail and before stopping. <0 when the commit failed (the batch's files stay in new/). */
int dt_pipeline_flush(struct dt_pipeline *p);

/* dt_pipeline_deferred_error - why the last DT_PIPELINE_DEFERRED message was deferred, borrowed */
const struct dt_error *dt_pipeline_deferred_error(const struct dt_pipeline *p);

/* dt_pipeline_run_error - when the last dt_pipeline_process_ahead() failed the run, what it knew
 * beyond the errno ("cannot start the worker: ..."), borrowed; NULL when nothing more */
const char *dt_pipeline_run_error(const struct dt_pipeline *p);

/* dt_pipeline_stats - counts so far, borrowed */
const struct dt_pipeline_stats *dt_pipeline_stats(const struct dt_pipeline *p);

/* dt_pipeline_suppressed - failure reports stored with no event of their own (counted for a
 * failure-rollup instead, rollup.h) since the pipeline was made */
uint64_t dt_pipeline_suppressed(const struct dt_pipeline *p);

/* dt_pipeline_set_config - use another configuration from now on (SIGHUP); borrowed */
void dt_pipeline_set_config(struct dt_pipeline *p, const struct dt_config *cfg);

struct dt_pipeline *dt_pipeline_free(struct dt_pipeline *p);
DEFINE_FREEP(struct dt_pipeline, dt_pipeline_free)

#endif
