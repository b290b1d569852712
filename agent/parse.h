/* parse.h - one report file or message, from bytes to parsed reports, handed to a sink
 *
 * The same pipeline serves `dmarctrace parse` (the sink prints JSON) and the agent (the sink
 * stores and emits). A file is either a bare report (XML, gzip or zip, recognised by its bytes)
 * or a whole mail message (gmime finds the report inside). */
#ifndef DT_PARSE_H
#define DT_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "report/aggregate.h"
#include "report/error.h"
#include "report/failure.h"
#include "report/limits.h"
#include "report/mime.h"
#include "report/unpack.h"

/* What the pipeline found, for the sink. Everything is borrowed for the duration of the call. */
struct dt_parse_ctx {
        const char *source;                     /* the path, as given */
        const struct dt_message *message;       /* NULL for a bare report file */
        const struct dt_input *input;           /* aggregate: the unpacked stream */
};

struct dt_parse_sink {
        /* an aggregate report: metadata is read; pull the records with dt_aggregate_next().
         * Return <0 to stop (the error then goes to the caller unchanged). */
        int (*aggregate)(void *userdata, const struct dt_parse_ctx *ctx, struct dt_aggregate *agg,
                         struct dt_error *err);
        /* a failure report */
        int (*failure)(void *userdata, const struct dt_parse_ctx *ctx, const struct dt_failure *f,
                       struct dt_error *err);
};

/* dt_parse_buffer - classify data and hand what it holds to sink. A message with no report is
 * NOT_A_REPORT ("not a DMARC report"). Returns 0, or <0 with err filled. */
int dt_parse_buffer(const void *data, size_t len, const char *source, const struct dt_limits *lim,
                    const struct dt_parse_sink *sink, void *userdata, struct dt_error *err);

/* dt_parse_read_file - read a whole file safely: O_NOFOLLOW when nofollow, O_NONBLOCK, only a
 * regular file, EMPTY for zero bytes, SIZE_LIMIT past max_bytes before any byte is read. The
 * buffer is NUL-terminated (not counted) and owned by the caller. dirfd may be AT_FDCWD. */
int dt_parse_read_file(int dirfd, const char *name, bool nofollow, uint64_t max_bytes,
                       char **out_buf, size_t *out_len, struct dt_error *err);

#endif
