/* parse.c - from a file's bytes to parsed reports handed to a sink
 *
 * Decides by content what a file is: bare XML, gzip or zip goes straight to the unpacker; anything
 * else is taken as a mail message and given to gmime, whose classifier finds the report part (or
 * the failure report) inside. The sink decides what happens with the result.
 * SECURITY: the bytes are hostile. Reading is bounded by limits->message_bytes before any byte is
 * read; every later stage has its own bounds (report/). Nothing here logs. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/parse.h"

/* parse_aggregate_bytes - unpack data (xml/gzip/zip) and hand the report to the sink */
static int parse_aggregate_bytes(const void *data, size_t len, struct dt_parse_ctx *ctx,
                                 const struct dt_limits *lim, const struct dt_parse_sink *sink,
                                 void *userdata, struct dt_error *err) {
        _cleanup_(dt_input_freep) struct dt_input *in = NULL;
        _cleanup_(dt_aggregate_freep) struct dt_aggregate *agg = NULL;
        int r;

        r = dt_unpack_open(data, len, lim, &in, err);
        if (r < 0)
                return r;
        r = dt_aggregate_open(in, lim, &agg, err);
        if (r < 0)
                return r;
        ctx->input = in;
        if (!sink->aggregate)
                return 0;
        return sink->aggregate(userdata, ctx, agg, err);
}

int dt_parse_buffer(const void *data, size_t len, const char *source, const struct dt_limits *lim,
                    const struct dt_parse_sink *sink, void *userdata, struct dt_error *err) {
        _cleanup_(dt_message_freep) struct dt_message *msg = NULL;
        _cleanup_(dt_failure_freep) struct dt_failure *f = NULL;
        struct dt_parse_ctx ctx = { .source = source };
        const struct dt_part *part;
        int r;

        if (len == 0)
                return dt_error_set(err, -ENODATA, DT_R_EMPTY, 0, "empty file");
        if (dt_unpack_sniff(data, len) != DT_FORMAT_UNKNOWN)
                return parse_aggregate_bytes(data, len, &ctx, lim, sink, userdata, err);

        r = dt_mime_parse(data, len, lim, &msg, err);
        if (r < 0)
                return r;
        ctx.message = msg;
        switch (dt_message_kind(msg)) {
        case DT_KIND_AGGREGATE:
                part = dt_message_report(msg);
                if (!part)
                        return dt_error_set(err, -EBADMSG, DT_R_NOT_A_REPORT, 0, "not a DMARC report");
                return parse_aggregate_bytes(part->data, part->len, &ctx, lim, sink, userdata, err);
        case DT_KIND_FAILURE:
                r = dt_failure_parse(msg, lim, &f, err);
                if (r < 0)
                        return r;
                if (!sink->failure)
                        return 0;
                return sink->failure(userdata, &ctx, f, err);
        default:
                return dt_error_set(err, -EBADMSG, DT_R_NOT_A_REPORT, 0, "not a DMARC report");
        }
}

int dt_parse_read_file(int dirfd, const char *name, bool nofollow, uint64_t max_bytes,
                       char **out_buf, size_t *out_len, struct dt_error *err) {
        _cleanup_free_ char *buf = NULL;
        struct stat st;
        size_t got = 0;
        int fd, r = 0;

        fd = openat(dirfd, name, O_RDONLY | O_NONBLOCK | O_CLOEXEC | (nofollow ? O_NOFOLLOW : 0));
        if (fd < 0) {
                r = -errno;
                if (r == -ELOOP)
                        return dt_error_set(err, r, DT_R_NOT_REGULAR, 0, "not a regular file (symbolic link)");
                return dt_error_set(err, r, DT_R_IO, -1, "cannot open: %s", strerror(-r));
        }
        if (fstat(fd, &st) < 0) {
                r = dt_error_set(err, -errno, DT_R_IO, -1, "cannot stat: %s", strerror(errno));
                goto out;
        }
        if (!S_ISREG(st.st_mode)) {
                r = dt_error_set(err, -EINVAL, DT_R_NOT_REGULAR, 0, "not a regular file");
                goto out;
        }
        if (st.st_size == 0) {
                r = dt_error_set(err, -ENODATA, DT_R_EMPTY, 0, "empty file");
                goto out;
        }
        if ((uint64_t) st.st_size > max_bytes) {
                r = dt_error_set(err, -EFBIG, DT_R_SIZE_LIMIT, 0,
                                 "file of %lld bytes is over the limit of %llu bytes",
                                 (long long) st.st_size, (unsigned long long) max_bytes);
                goto out;
        }
        buf = malloc((size_t) st.st_size + 1);
        if (!buf) {
                r = dt_error_set(err, -ENOMEM, DT_R_NOMEM, -1, "out of memory");
                goto out;
        }
        while (got < (size_t) st.st_size) {     /* a file that grows is read only up to its size */
                ssize_t n = read(fd, buf + got, (size_t) st.st_size - got);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        r = dt_error_set(err, -errno, DT_R_IO, (int64_t) got, "read failed: %s",
                                         strerror(errno));
                        goto out;
                }
                if (n == 0)
                        break;
                got += (size_t) n;
        }
        if (got == 0) {
                r = dt_error_set(err, -ENODATA, DT_R_EMPTY, 0, "empty file");
                goto out;
        }
        buf[got] = '\0';
        *out_buf = TAKE_PTR(buf);
        *out_len = got;
out:
        close(fd);
        return r;
}
