/* aggregate-json.c - render an aggregate report for `dmarctrace parse`
 *
 * The JSON keys are an interface (scripts read them): type, source, org_name, org_email,
 * report_id, begin, end, domain, policy, record_count, message_count, records, extensions,
 * warnings. Records are pulled and rendered one at a time; the line is assembled in memory and
 * written only when the whole report parsed, so a report that fails halfway prints nothing on
 * stdout.
 * Metadata is taken after the last record, because a receiver may put it anywhere. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/aggregate-json.h"
#include "agent/jsonutil.h"
#include "report/sanitize.h"

#define PRETTY_RECORDS_MAX 12

/* record_json - one record as a json-c object, every string sanitised */
static json_object *record_json(const struct dt_record *r) {
        json_object *o = json_object_new_object(), *a;
        size_t i;

        json_object_object_add(o, "source_ip", dt_json_string(r->source_ip));
        json_object_object_add(o, "count", json_object_new_uint64(r->count));
        json_object_object_add(o, "disposition", dt_json_string(r->disposition));
        json_object_object_add(o, "dkim", dt_json_string(r->dkim));
        json_object_object_add(o, "spf", dt_json_string(r->spf));
        a = json_object_new_array();
        for (i = 0; i < r->n_reasons; i++) {
                json_object *x = json_object_new_object();
                json_object_object_add(x, "type", dt_json_string(r->reasons[i].type));
                json_object_object_add(x, "comment", dt_json_string(r->reasons[i].comment));
                json_object_array_add(a, x);
        }
        json_object_object_add(o, "reasons", a);
        json_object_object_add(o, "header_from", dt_json_string(r->header_from));
        json_object_object_add(o, "envelope_from", dt_json_string(r->envelope_from));
        json_object_object_add(o, "envelope_to", dt_json_string(r->envelope_to));
        a = json_object_new_array();
        for (i = 0; i < r->n_auth_dkim; i++) {
                json_object *x = json_object_new_object();
                json_object_object_add(x, "domain", dt_json_string(r->auth_dkim[i].domain));
                json_object_object_add(x, "selector", dt_json_string(r->auth_dkim[i].selector));
                json_object_object_add(x, "result", dt_json_string(r->auth_dkim[i].result));
                json_object_object_add(x, "human_result", dt_json_string(r->auth_dkim[i].human_result));
                json_object_array_add(a, x);
        }
        json_object_object_add(o, "auth_dkim", a);
        a = json_object_new_array();
        for (i = 0; i < r->n_auth_spf; i++) {
                json_object *x = json_object_new_object();
                json_object_object_add(x, "domain", dt_json_string(r->auth_spf[i].domain));
                json_object_object_add(x, "scope", dt_json_string(r->auth_spf[i].scope));
                json_object_object_add(x, "result", dt_json_string(r->auth_spf[i].result));
                json_object_object_add(x, "human_result", dt_json_string(r->auth_spf[i].human_result));
                json_object_array_add(a, x);
        }
        json_object_object_add(o, "auth_spf", a);
        return o;
}

/* policy_json - policy_published as an object; pct null when missing */
static json_object *policy_json(const struct dt_policy *p) {
        json_object *o = json_object_new_object();

        json_object_object_add(o, "domain", dt_json_string(p ? p->domain : NULL));
        json_object_object_add(o, "adkim", dt_json_string(p ? p->adkim : NULL));
        json_object_object_add(o, "aspf", dt_json_string(p ? p->aspf : NULL));
        json_object_object_add(o, "p", dt_json_string(p ? p->p : NULL));
        json_object_object_add(o, "sp", dt_json_string(p ? p->sp : NULL));
        json_object_object_add(o, "np", dt_json_string(p ? p->np : NULL));
        json_object_object_add(o, "pct", p && p->pct >= 0 ? json_object_new_int(p->pct) : NULL);
        json_object_object_add(o, "fo", dt_json_string(p ? p->fo : NULL));
        json_object_object_add(o, "testing", dt_json_string(p ? p->testing : NULL));
        json_object_object_add(o, "discovery_method", dt_json_string(p ? p->discovery_method : NULL));
        return o;
}

/* add_metadata - everything but the records, read after the last record */
static void add_metadata(json_object *o, const struct dt_aggregate *agg) {
        const struct dt_policy *pol = dt_aggregate_policy(agg);
        json_object *a;
        size_t i;

        json_object_object_add(o, "org_name", dt_json_string(dt_aggregate_org(agg)));
        json_object_object_add(o, "org_email", dt_json_string(dt_aggregate_email(agg)));
        json_object_object_add(o, "report_id", dt_json_string(dt_aggregate_report_id(agg)));
        json_object_object_add(o, "begin", dt_json_time(dt_aggregate_begin(agg)));
        json_object_object_add(o, "end", dt_json_time(dt_aggregate_end(agg)));
        json_object_object_add(o, "domain", dt_json_string(pol ? pol->domain : NULL));
        json_object_object_add(o, "policy", policy_json(pol));
        json_object_object_add(o, "record_count", json_object_new_uint64(dt_aggregate_record_count(agg)));
        json_object_object_add(o, "message_count", json_object_new_uint64(dt_aggregate_message_count(agg)));
        a = json_object_new_array();
        for (i = 0; i < dt_aggregate_n_extensions(agg); i++)
                json_object_array_add(a, dt_json_string(dt_aggregate_extension(agg, i)));
        json_object_object_add(o, "extensions", a);
        a = json_object_new_array();
        for (i = 0; i < dt_aggregate_n_warnings(agg); i++) {
                const struct dt_warning *w = dt_aggregate_warning(agg, i);
                json_object *x = json_object_new_object();
                json_object_object_add(x, "reason", dt_json_string(w->reason));
                json_object_object_add(x, "offset", json_object_new_int64(w->offset));
                json_object_array_add(a, x);
        }
        json_object_object_add(o, "warnings", a);
}

int dt_aggregate_print_json(FILE *out, struct dt_aggregate *agg, const char *source,
                            struct dt_error *err) {
        const struct dt_record *rec;
        char *records = NULL;
        size_t records_len = 0;
        const char *head;
        json_object *o;
        FILE *mem;
        bool first = true;
        int r;

        /* each record is rendered as it comes and freed, so no tree of the whole report is
         * built; the records array is spliced into the object's text at the end */
        mem = open_memstream(&records, &records_len);
        if (!mem)
                return dt_error_set(err, -ENOMEM, DT_R_NOMEM, -1, "out of memory");
        while ((r = dt_aggregate_next(agg, &rec, err)) > 0) {
                json_object *x = record_json(rec);

                if (!first)
                        fputc(',', mem);
                fputs(dt_json_line(x), mem);
                json_object_put(x);
                first = false;
        }
        if (fclose(mem) != 0 && r >= 0)
                r = dt_error_set(err, -ENOMEM, DT_R_NOMEM, -1, "out of memory");
        if (r < 0) {
                free(records);
                return r;
        }
        o = json_object_new_object();
        json_object_object_add(o, "type", json_object_new_string("aggregate"));
        json_object_object_add(o, "source", dt_json_string(source));
        add_metadata(o, agg);
        head = dt_json_line(o);                 /* "{...}" without records */
        fwrite(head, 1, strlen(head) - 1, out);
        fprintf(out, ",\"records\":[%s]}\n", records ? records : "");
        json_object_put(o);
        free(records);
        return 0;
}

/* clean - a sanitised, capped copy of s for the terminal ("-" for NULL), in buf */
static const char *clean(const char *s, char *buf, size_t cap) {
        if (!s || !*s)
                return "-";
        (void) dt_sanitize(s, strlen(s), buf, cap, NULL);
        return buf;
}

/* fmt_time - "YYYY-MM-DD HH:MM" UTC, or "?" */
static const char *fmt_time(int64_t t, char *buf, size_t cap) {
        struct tm tm;
        time_t tt = (time_t) t;

        if (t == DT_TIME_MISSING || !gmtime_r(&tt, &tm) || strftime(buf, cap, "%Y-%m-%d %H:%M", &tm) == 0)
                return "?";
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
        fprintf(out, "  period %s .. %s UTC\n", fmt_time(dt_aggregate_begin(agg), t1, sizeof t1),
                fmt_time(dt_aggregate_end(agg), t2, sizeof t2));
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
