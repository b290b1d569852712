/* bench-parse.c - drive the streaming aggregate parser over a generated report of N records
 *
 * Usage: bench-parse [RECORDS]   (default 1000000)
 * The XML is produced on the fly by the input callback, never held in memory, so the peak RSS
 * printed at the end is the parser's own: it must not grow with the number of records. Prints
 * "records=N messages=M seconds=S records_per_s=R peak_rss_kb=K". */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "report/aggregate.h"
#include "report/unpack.h"

struct gen {
        uint64_t total, done;
        int stage;              /* 0 head, 1 records, 2 tail, 3 end */
        char chunk[1024];
        size_t chunk_len, chunk_off;
};

/* fill - the next piece of the document into g->chunk */
static void fill(struct gen *g) {
        int n = 0;

        switch (g->stage) {
        case 0:
                n = snprintf(g->chunk, sizeof g->chunk,
                             "<?xml version=\"1.0\"?>\n<feedback><report_metadata><org_name>bench</org_name>"
                             "<email>b@example.com</email><report_id>bench-1</report_id><date_range>"
                             "<begin>1790000000</begin><end>1790086399</end></date_range></report_metadata>"
                             "<policy_published><domain>example.com</domain><p>none</p></policy_published>\n");
                g->stage = 1;
                break;
        case 1:
                n = snprintf(g->chunk, sizeof g->chunk,
                             "<record><row><source_ip>10.%u.%u.%u</source_ip><count>%u</count>"
                             "<policy_evaluated><disposition>none</disposition><dkim>pass</dkim>"
                             "<spf>pass</spf></policy_evaluated></row><identifiers><header_from>example.com"
                             "</header_from></identifiers><auth_results><dkim><domain>example.com</domain>"
                             "<result>pass</result></dkim><spf><domain>example.com</domain><result>pass"
                             "</result></spf></auth_results></record>\n",
                             (unsigned) (g->done >> 16 & 255), (unsigned) (g->done >> 8 & 255),
                             (unsigned) (g->done & 255), (unsigned) (g->done % 7 + 1));
                if (++g->done == g->total)
                        g->stage = 2;
                break;
        case 2:
                n = snprintf(g->chunk, sizeof g->chunk, "</feedback>\n");
                g->stage = 3;
                break;
        default:
                n = 0;
        }
        g->chunk_len = (size_t) n;
        g->chunk_off = 0;
}

/* gen_read - dt_input_new_reader callback */
static ssize_t gen_read(void *ctx, void *buf, size_t n) {
        struct gen *g = ctx;
        size_t k, done = 0;

        while (done < n) {
                if (g->chunk_off == g->chunk_len)
                        fill(g);
                k = g->chunk_len - g->chunk_off;
                if (k == 0)
                        break;
                if (k > n - done)
                        k = n - done;
                memcpy((char *) buf + done, g->chunk + g->chunk_off, k);
                g->chunk_off += k;
                done += k;
        }
        return (ssize_t) done;
}

int main(int argc, char **argv) {
        struct gen g = { .total = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000 };
        struct dt_limits lim = dt_limits_default;
        struct dt_input *in = NULL;
        struct dt_aggregate *agg = NULL;
        const struct dt_record *rec;
        struct dt_error err;
        struct timespec t0, t1;
        struct rusage ru;
        uint64_t expect = 0, i;
        double s;
        int r;

        if (g.total == 0)
                return 2;
        for (i = 0; i < g.total; i++)
                expect += i % 7 + 1;
        lim.unpacked_bytes = UINT64_MAX;
        lim.records = UINT64_MAX;
        dt_error_clear(&err);
        clock_gettime(CLOCK_MONOTONIC, &t0);
        if (dt_input_new_reader(gen_read, &g, &lim, &in) < 0 || dt_aggregate_open(in, &lim, &agg, &err) < 0) {
                fprintf(stderr, "bench-parse: open failed: %s\n", err.message);
                return 1;
        }
        while ((r = dt_aggregate_next(agg, &rec, &err)) > 0)
                ;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if (r < 0) {
                fprintf(stderr, "bench-parse: %s at offset %" PRId64 "\n", err.message, err.offset);
                return 1;
        }
        if (dt_aggregate_record_count(agg) != g.total || dt_aggregate_message_count(agg) != expect) {
                fprintf(stderr, "bench-parse: wrong totals %" PRIu64 "/%" PRIu64 "\n",
                        dt_aggregate_record_count(agg), dt_aggregate_message_count(agg));
                return 1;
        }
        s = (double) (t1.tv_sec - t0.tv_sec) + (double) (t1.tv_nsec - t0.tv_nsec) / 1e9;
        getrusage(RUSAGE_SELF, &ru);
        printf("records=%" PRIu64 " messages=%" PRIu64 " seconds=%.2f records_per_s=%.0f peak_rss_kb=%ld\n",
               dt_aggregate_record_count(agg), dt_aggregate_message_count(agg), s, (double) g.total / s,
               ru.ru_maxrss);
        dt_aggregate_free(agg);
        dt_input_free(in);
        return 0;
}
