/* cmd-parse.c - `dmarctrace parse [--pretty] FILE...`: decode report files, print JSON lines
 *
 * No state, no events: each file's reports go to stdout (one JSON object per report per line, or
 * a readable summary with --pretty), each unusable file gives one line on stderr naming the file,
 * the reason and the place, and the remaining files are still processed.
 * Exit status: 0 every file gave a report, 1 some file was rejected, 2 usage error. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "agent/aggregate-json.h"
#include "agent/commands.h"
#include "agent/failure-json.h"
#include "agent/jsonutil.h"
#include "agent/parse.h"
#include "report/sanitize.h"

struct parse_opts {
        bool pretty;
};

/* on_aggregate - print one aggregate report */
static int on_aggregate(void *userdata, const struct dt_parse_ctx *ctx, struct dt_aggregate *agg,
                        struct dt_error *err) {
        const struct parse_opts *o = userdata;

        if (o->pretty)
                return dt_aggregate_print_pretty(stdout, agg, ctx->source,
                                                 dt_input_describe(ctx->input), err);
        return dt_aggregate_print_json(stdout, agg, ctx->source, err);
}

/* on_failure - print one failure report */
static int on_failure(void *userdata, const struct dt_parse_ctx *ctx, const struct dt_failure *f,
                      struct dt_error *err) {
        const struct parse_opts *o = userdata;
        json_object *obj;

        if (o->pretty) {
                dt_failure_print_pretty(stdout, f, ctx->source);
                return 0;
        }
        obj = dt_failure_to_json(f, ctx->source);
        if (!obj)
                return dt_error_set(err, -ENOMEM, DT_R_NOMEM, -1, "out of memory");
        fputs(dt_json_line(obj), stdout);
        fputc('\n', stdout);
        json_object_put(obj);
        return 0;
}

int dt_cmd_parse(int argc, char **argv) {
        static const struct option longopts[] = {
                { "pretty", no_argument, NULL, 'p' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        const struct dt_parse_sink sink = { .aggregate = on_aggregate, .failure = on_failure };
        struct parse_opts o = {};
        int c, i, status = 0;

        optind = 1;
        while ((c = getopt_long(argc, argv, "ph", longopts, NULL)) != -1) {
                switch (c) {
                case 'p':
                        o.pretty = true;
                        break;
                case 'h':
                        printf("Usage: dmarctrace parse [--pretty] FILE...\n"
                               "Decode DMARC report files (.eml, .xml, .xml.gz, .gz, .zip) to JSON lines.\n");
                        return 0;
                default:
                        return 2;
                }
        }
        if (optind >= argc) {
                fprintf(stderr, "dmarctrace parse: no file given (try --help)\n");
                return 2;
        }
        for (i = optind; i < argc; i++) {
                _cleanup_free_ char *buf = NULL;
                struct dt_error err;
                size_t len = 0;
                int r;

                dt_error_clear(&err);
                r = dt_parse_read_file(AT_FDCWD, argv[i], false, dt_limits_default.message_bytes,
                                       &buf, &len, &err);
                if (r >= 0)
                        r = dt_parse_buffer(buf, len, argv[i], &dt_limits_default, &sink, &o, &err);
                fflush(stdout);
                if (r < 0) {
                        dt_print_input_error(argv[i], &err);
                        status = 1;
                }
        }
        return status;
}
