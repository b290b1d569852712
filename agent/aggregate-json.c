/* aggregate-json.c - render an aggregate report for `dmarctrace parse`
 *
 * The JSON keys are an interface (scripts read them): type, source, org_name, org_email,
 * report_id, begin, end, domain, policy, record_count, message_count, records, extensions,
 * warnings. Records are pulled and rendered one at a time; the line is assembled in memory and
 * written only when the whole report parsed, so a report that fails halfway prints nothing on
 * stdout. The text is written with agent/jsonwriter.c, exactly as json-c would print it, without
 * a json_object per value.
 * Metadata is taken after the last record, because a receiver may put it anywhere. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/aggregate-json.h"
#include "agent/jsonwriter.h"
#include "agent/timefmt.h"
#include "report/sanitize.h"

#define PRETTY_RECORDS_MAX 12

/* write_record - one record as an object */
static void write_record(struct dt_jw *w, const struct dt_record *r) {
        size_t i;

        dt_jw_open(w, '{');
        dt_jw_key(w, "source_ip");
        dt_jw_string(w, r->source_ip);
        dt_jw_key(w, "count");
        dt_jw_uint64(w, r->count);
        dt_jw_key(w, "disposition");
        dt_jw_string(w, r->disposition);
        dt_jw_key(w, "dkim");
        dt_jw_string(w, r->dkim);
        dt_jw_key(w, "spf");
        dt_jw_string(w, r->spf);
        dt_jw_key(w, "reasons");
        dt_jw_open(w, '[');
        for (i = 0; i < r->n_reasons; i++) {
                dt_jw_open(w, '{');
                dt_jw_key(w, "type");
                dt_jw_string(w, r->reasons[i].type);
                dt_jw_key(w, "comment");
                dt_jw_string(w, r->reasons[i].comment);
                dt_jw_close(w, '}');
        }
        dt_jw_close(w, ']');
        dt_jw_key(w, "header_from");
        dt_jw_string(w, r->header_from);
        dt_jw_key(w, "envelope_from");
        dt_jw_string(w, r->envelope_from);
        dt_jw_key(w, "envelope_to");
        dt_jw_string(w, r->envelope_to);
        dt_jw_key(w, "auth_dkim");
        dt_jw_open(w, '[');
        for (i = 0; i < r->n_auth_dkim; i++) {
                dt_jw_open(w, '{');
                dt_jw_key(w, "domain");
                dt_jw_string(w, r->auth_dkim[i].domain);
                dt_jw_key(w, "selector");
                dt_jw_string(w, r->auth_dkim[i].selector);
                dt_jw_key(w, "result");
                dt_jw_string(w, r->auth_dkim[i].result);
                dt_jw_key(w, "human_result");
                dt_jw_string(w, r->auth_dkim[i].human_result);
                dt_jw_close(w, '}');
        }
        dt_jw_close(w, ']');
        dt_jw_key(w, "auth_spf");
        dt_jw_open(w, '[');
        for (i = 0; i < r->n_auth_spf; i++) {
                dt_jw_open(w, '{');
                dt_jw_key(w, "domain");
                dt_jw_string(w, r->auth_spf[i].domain);
                dt_jw_key(w, "scope");
                dt_jw_string(w, r->auth_spf[i].scope);
                dt_jw_key(w, "result");
                dt_jw_string(w, r->auth_spf[i].result);
                dt_jw_key(w, "human_result");
                dt_jw_string(w, r->auth_spf[i].human_result);
                dt_jw_close(w, '}');
        }
        dt_jw_close(w, ']');
        dt_jw_close(w, '}');
}

/* write_policy - policy_published as an object; pct null when missing */
static void write_policy(struct dt_jw *w, const struct dt_policy *p) {
        dt_jw_open(w, '{');
        dt_jw_key(w, "domain");
        dt_jw_string(w, p ? p->domain : NULL);
        dt_jw_key(w, "adkim");
        dt_jw_string(w, p ? p->adkim : NULL);
        dt_jw_key(w, "aspf");
        dt_jw_string(w, p ? p->aspf : NULL);
        dt_jw_key(w, "p");
        dt_jw_string(w, p ? p->p : NULL);
        dt_jw_key(w, "sp");
        dt_jw_string(w, p ? p->sp : NULL);
        dt_jw_key(w, "np");
        dt_jw_string(w, p ? p->np : NULL);
        dt_jw_key(w, "pct");
        if (p && p->pct >= 0)
                dt_jw_int64(w, p->pct);
        else
                dt_jw_null(w);
        dt_jw_key(w, "fo");
        dt_jw_string(w, p ? p->fo : NULL);
        dt_jw_key(w, "testing");
        dt_jw_string(w, p ? p->testing : NULL);
        dt_jw_key(w, "discovery_method");
        dt_jw_string(w, p ? p->discovery_method : NULL);
        dt_jw_close(w, '}');
}

/* write_time - epoch seconds, or null when missing */
static void write_time(struct dt_jw *w, int64_t t) {
        if (t == DT_TIME_MISSING)
                dt_jw_null(w);
        else
                dt_jw_int64(w, t);
}

/* write_head - the object up to the records array's key: everything else, read after the last record */
static void write_head(struct dt_jw *w, const struct dt_aggregate *agg, const char *source) {
        const struct dt_policy *pol = dt_aggregate_policy(agg);
        size_t i;

        dt_jw_open(w, '{');
        dt_jw_key(w, "type");
        dt_jw_string(w, "aggregate");
        dt_jw_key(w, "source");
        dt_jw_string(w, source);
        dt_jw_key(w, "org_name");
        dt_jw_string(w, dt_aggregate_org(agg));
        dt_jw_key(w, "org_email");
        dt_jw_string(w, dt_aggregate_email(agg));
        dt_jw_key(w, "report_id");
        dt_jw_string(w, dt_aggregate_report_id(agg));
        dt_jw_key(w, "begin");
        write_time(w, dt_aggregate_begin(agg));
        dt_jw_key(w, "end");
        write_time(w, dt_aggregate_end(agg));
        dt_jw_key(w, "domain");
        dt_jw_string(w, pol ? pol->domain : NULL);
        dt_jw_key(w, "policy");
        write_policy(w, pol);
        dt_jw_key(w, "record_count");
        dt_jw_uint64(w, dt_aggregate_record_count(agg));
        dt_jw_key(w, "message_count");
        dt_jw_uint64(w, dt_aggregate_message_count(agg));
        dt_jw_key(w, "extensions");
        dt_jw_open(w, '[');
        for (i = 0; i < dt_aggregate_n_extensions(agg); i++)
                dt_jw_string(w, dt_aggregate_extension(agg, i));
        dt_jw_close(w, ']');
        dt_jw_key(w, "warnings");
        dt_jw_open(w, '[');
        for (i = 0; i < dt_aggregate_n_warnings(agg); i++) {
                const struct dt_warning *x = dt_aggregate_warning(agg, i);

                dt_jw_open(w, '{');
                dt_jw_key(w, "reason");
                dt_jw_string(w, x->reason);
                dt_jw_key(w, "offset");
                dt_jw_int64(w, x->offset);
                dt_jw_close(w, '}');
        }
        dt_jw_close(w, ']');
        dt_jw_key(w, "records");
}

int dt_aggregate_print_json(FILE *out, struct dt_aggregate *agg, const char *source,
                            struct dt_error *err) {
        _cleanup_(dt_jw_done) struct dt_jw records = {}, head = {};
        const struct dt_record *rec;
        int r;

        /* each record is written as it comes, into a records array of its own; the head (with
         * the metadata, complete only now) is written after the last one and goes out first */
        dt_jw_open(&records, '[');
        while ((r = dt_aggregate_next(agg, &rec, err)) > 0)
                write_record(&records, rec);
        if (r < 0)
                return r;
        dt_jw_close(&records, ']');
        write_head(&head, agg, source);
        if (dt_jw_failed(&records) || dt_jw_failed(&head))
                return dt_error_set(err, -ENOMEM, DT_R_NOMEM, -1, "out of memory");
        fwrite(head.buf, 1, head.len, out);
        fwrite(records.buf, 1, records.len, out);
        fputs("}\n", out);
        return 0;
}

/* clean - a sanitised, capped copy of s for the terminal ("-" for NULL), in buf */
static const char *clean(const char *s, char *buf, size_t cap) {
        if (!s || !*s)
                return "-";
        (void) dt_sanitize(s, strlen(s), buf, cap, NULL);
        return buf;
}

int dt_aggregate_print_pretty(FILE *out, struct dt_aggregate *agg, const char *source,
                              const char *layers, struct dt_error *err) {
        char *text = NULL;
        size_t textlen = 0, i;
        FILE *mem;
        const struct dt_record *rec;
        const struct dt_policy *pol;
        uint64_t pass = 0, fail = 0, shown = 0;
        char b1[256], b2[256], b3[256], b4[256], t1[32], t2[32];
        int r;

        mem = open_memstream(&text, &textlen);
        if (!mem)
                return dt_error_set(err, -ENOMEM, DT_R_NOMEM, -1, "out of memory");
        fprintf(mem, "    %-18s %8s  %-11s %-5s %-5s %s\n", "SOURCE IP", "COUNT", "DISPOSITION",
                "DKIM", "SPF", "HEADER FROM");
        while ((r = dt_aggregate_next(agg, &rec, err)) > 0) {
                bool ok = (rec->dkim && strcmp(rec->dkim, "pass") == 0) ||
                          (rec->spf && strcmp(rec->spf, "pass") == 0);
                if (ok)
                        pass += rec->count;
                else
                        fail += rec->count;
                if (shown++ < PRETTY_RECORDS_MAX)
                        fprintf(mem, "    %-18s %8" PRIu64 "  %-11s %-5s %-5s %s\n",
                                clean(rec->source_ip, b1, 48), rec->count,
                                clean(rec->disposition, b2, 16), clean(rec->dkim, b3, 12),
                                clean(rec->spf, b4, 12), clean(rec->header_from, b1, 80));
        }
        fclose(mem);
        if (r < 0) {
                free(text);
                return r;
        }
        pol = dt_aggregate_policy(agg);
        fprintf(out, "%s  [aggregate, %s]\n", clean(source, b1, sizeof b1), layers ? layers : "xml");
        fprintf(out, "  from %s <%s>, report %s\n", clean(dt_aggregate_org(agg), b1, 120),
                clean(dt_aggregate_email(agg), b2, 120), clean(dt_aggregate_report_id(agg), b3, 120));
        fprintf(out, "  period %s .. %s UTC\n", dt_utc(dt_aggregate_begin(agg), DT_UTC_MINUTE, "?", t1, sizeof t1),
                dt_utc(dt_aggregate_end(agg), DT_UTC_MINUTE, "?", t2, sizeof t2));
        if (pol)
                fprintf(out, "  policy %s: p=%s sp=%s pct=%d adkim=%s aspf=%s\n",
                        clean(pol->domain, b1, 120), clean(pol->p, b2, 16), clean(pol->sp, b3, 16),
                        pol->pct, clean(pol->adkim, b4, 8), clean(pol->aspf, t1, 8));
        fprintf(out, "  %" PRIu64 " records, %" PRIu64 " messages: %" PRIu64 " pass DMARC, %" PRIu64
                " fail\n", dt_aggregate_record_count(agg), dt_aggregate_message_count(agg), pass, fail);
        fwrite(text, 1, textlen, out);
        if (shown > PRETTY_RECORDS_MAX)
                fprintf(out, "    ... %" PRIu64 " more records\n", shown - PRETTY_RECORDS_MAX);
        for (i = 0; i < dt_aggregate_n_warnings(agg); i++) {
                const struct dt_warning *w = dt_aggregate_warning(agg, i);
                fprintf(out, "  warning: %s (offset %" PRId64 ")\n", clean(w->reason, b1, 200), w->offset);
        }
        fputc('\n', out);
        free(text);
        return 0;
}
