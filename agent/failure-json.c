/* failure-json.c - render a failure report for `dmarctrace parse`
 *
 * The JSON keys are an interface (scripts read them): type, source, feedback_type,
 * auth_failure, source_ip, reported_domain, original_mail_from, original_rcpt_to,
 * arrival_date, delivery_result, identity_alignment, dkim_domain, dkim_selector,
 * authentication_results, user_agent, incidents, feedback, original. Missing values are null,
 * never left out. Every string goes through dt_sanitize (dt_json_string), although report/
 * cleaned it already: this is where hostile text leaves the program. The pretty form is for
 * a terminal and cuts long values to fit its columns. */
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/failure-json.h"
#include "agent/jsonutil.h"
#include "report/sanitize.h"

/* add - obj[key] = val; a failed allocation of val (val NULL while want is not) sets *oom */
static void add(json_object *obj, const char *key, json_object *val, bool want, bool *oom) {
        if (!val && want)
                *oom = true;
        if (json_object_object_add(obj, key, val) < 0) {
                json_object_put(val);
                *oom = true;
        }
}

/* add_str - a sanitised string, or null for NULL */
static void add_str(json_object *obj, const char *key, const char *s, bool *oom) {
        add(obj, key, dt_json_string(s), s != NULL, oom);
}

/* add_i64 - an integer, or null when not valid */
static void add_i64(json_object *obj, const char *key, int64_t v, bool valid, bool *oom) {
        add(obj, key, valid ? json_object_new_int64(v) : NULL, valid, oom);
}

/* hop_json - one Received hop */
static json_object *hop_json(const struct dt_received *r, bool *oom) {
        json_object *o = json_object_new_object();

        if (!o) {
                *oom = true;
                return NULL;
        }
        add_str(o, "from_helo", r->from_helo, oom);
        add_str(o, "from_host", r->from_host, oom);
        add_str(o, "from_ip", r->from_ip, oom);
        add_str(o, "by_host", r->by_host, oom);
        add_str(o, "with", r->with, oom);
        add_str(o, "id", r->id, oom);
        add_str(o, "for", r->for_addr, oom);
        add_i64(o, "date", r->date, r->has_date, oom);
        return o;
}

/* antiabuse_json - cPanel's X-AntiAbuse lines as an object, or NULL when absent */
static json_object *antiabuse_json(const struct dt_antiabuse *a, bool *oom) {
        json_object *o;

        if (!a->present)
                return NULL;
        o = json_object_new_object();
        if (!o) {
                *oom = true;
                return NULL;
        }
        add_str(o, "primary_hostname", a->primary_hostname, oom);
        add_str(o, "original_domain", a->original_domain, oom);
        add_str(o, "sender_address_domain", a->sender_address_domain, oom);
        add_i64(o, "originator_uid", a->originator_uid, a->originator_uid >= 0, oom);
        add_i64(o, "originator_gid", a->originator_gid, a->originator_gid >= 0, oom);
        add_i64(o, "caller_uid", a->caller_uid, a->caller_uid >= 0, oom);
        add_i64(o, "caller_gid", a->caller_gid, a->caller_gid >= 0, oom);
        return o;
}

/* sender_via_json - X-Get-Message-Sender-Via: value, host, user; NULL when absent */
static json_object *sender_via_json(const struct dt_headers *h, bool *oom) {
        json_object *o;

        if (!h->sender_via)
                return NULL;
        o = json_object_new_object();
        if (!o) {
                *oom = true;
                return NULL;
        }
        add_str(o, "value", h->sender_via, oom);
        add_str(o, "host", h->sender_via_host, oom);
        add_str(o, "user", h->sender_via_user, oom);
        return o;
}

/* local_json - the local-submission hop, or NULL when there is none */
static json_object *local_json(const struct dt_local_submission *l, bool *oom) {
        json_object *o;

        if (l->mta == DT_LOCAL_NONE)
                return NULL;
        o = json_object_new_object();
        if (!o) {
                *oom = true;
                return NULL;
        }
        add_str(o, "mta", dt_headers_local_mta_name(l->mta), oom);
        add_i64(o, "uid", l->uid, l->uid >= 0, oom);
        add_str(o, "user", l->user, oom);
        add_str(o, "queue_id", l->queue_id, oom);
        add_str(o, "host", l->host, oom);
        return o;
}

/* original_json - the original message's headers, or NULL */
static json_object *original_json(const struct dt_headers *h, bool *oom) {
        json_object *o, *a;

        if (!h)
                return NULL;
        o = json_object_new_object();
        if (!o) {
                *oom = true;
                return NULL;
        }
        add_str(o, "message_id", h->message_id, oom);
        add_str(o, "from", h->from, oom);
        add_str(o, "to", h->to, oom);
        add_str(o, "cc", h->cc, oom);
        add_str(o, "subject", h->subject, oom);
        add_i64(o, "date", h->date, h->has_date, oom);
        add_str(o, "return_path", h->return_path, oom);
        add_str(o, "x_mailer", h->x_mailer, oom);
        add_str(o, "dkim_domain", h->dkim_domain, oom);
        add_str(o, "dkim_selector", h->dkim_selector, oom);
        add_str(o, "x_php_originating_script", h->x_php_originating_script, oom);
        add_i64(o, "php_uid", h->php_uid, h->php_uid >= 0, oom);
        add_str(o, "php_script", h->php_script, oom);
        add_str(o, "x_php_script", h->x_php_script, oom);
        add_str(o, "x_source", h->x_source, oom);
        add_str(o, "x_source_args", h->x_source_args, oom);
        add_str(o, "x_source_dir", h->x_source_dir, oom);
        add(o, "antiabuse", antiabuse_json(&h->antiabuse, oom), h->antiabuse.present, oom);
        add(o, "sender_via", sender_via_json(h, oom), h->sender_via != NULL, oom);
        add_str(o, "authenticated_sender", h->authenticated_sender, oom);
        a = json_object_new_array();
        for (size_t i = 0; a && i < h->n_received; i++)
                if (json_object_array_add(a, hop_json(&h->received[i], oom)) < 0)
                        *oom = true;
        add(o, "received", a, true, oom);
        add(o, "local_submission", local_json(&h->local, oom), h->local.mta != DT_LOCAL_NONE,
            oom);
        return o;
}

/* feedback_json - every feedback field by its lower-case name; a repeated name becomes an
 * array of its values in the order received */
static json_object *feedback_json(const struct dt_failure *f, bool *oom) {
        json_object *o = json_object_new_object();

        if (!o) {
                *oom = true;
                return NULL;
        }
        for (size_t i = 0; i < f->n_feedback; i++) {
                const char *name = f->feedback[i].name;
                json_object *v = dt_json_string(f->feedback[i].value), *cur, *arr;

                if (!v) {
                        *oom = true;
                        continue;
                }
                if (!json_object_object_get_ex(o, name, &cur)) {
                        add(o, name, v, true, oom);
                        continue;
                }
                if (json_object_is_type(cur, json_type_array)) {
                        if (json_object_array_add(cur, v) < 0) {
                                json_object_put(v);
                                *oom = true;
                        }
                        continue;
                }
                arr = json_object_new_array();
                if (!arr) {
                        json_object_put(v);
                        *oom = true;
                        continue;
                }
                json_object_array_add(arr, json_object_get(cur));
                json_object_array_add(arr, v);
                add(o, name, arr, true, oom);    /* drops the reference o held on cur */
        }
        return o;
}

/* dt_failure_to_json - see failure-json.h; any failed allocation drops the whole object */
json_object *dt_failure_to_json(const struct dt_failure *f, const char *source) {
        json_object *o = json_object_new_object(), *a;
        bool oom = false;

        if (!o)
                return NULL;
        add(o, "type", json_object_new_string("failure"), true, &oom);
        add_str(o, "source", source, &oom);
        add_str(o, "feedback_type", f->feedback_type, &oom);
        add_str(o, "auth_failure", f->auth_failure, &oom);
        add_str(o, "source_ip", f->source_ip, &oom);
        add_str(o, "reported_domain", f->reported_domain, &oom);
        add_str(o, "original_mail_from", f->original_mail_from, &oom);
        a = json_object_new_array();
        for (size_t i = 0; a && i < f->n_original_rcpt_to; i++) {
                json_object *s = dt_json_string(f->original_rcpt_to[i]);
                if (!s || json_object_array_add(a, s) < 0) {
                        json_object_put(s);
                        oom = true;
                }
        }
        add(o, "original_rcpt_to", a, true, &oom);
        add_i64(o, "arrival_date", f->arrival_date, f->has_arrival_date, &oom);
        add_str(o, "delivery_result", f->delivery_result, &oom);
        add_str(o, "identity_alignment", f->identity_alignment, &oom);
        add_str(o, "dkim_domain", f->dkim_domain, &oom);
        add_str(o, "dkim_selector", f->dkim_selector, &oom);
        add_str(o, "authentication_results", f->authentication_results, &oom);
        add_str(o, "user_agent", f->user_agent, &oom);
        add_i64(o, "incidents", f->incidents, f->incidents >= 0, &oom);
        add(o, "feedback", feedback_json(f, &oom), true, &oom);
        add(o, "original", original_json(f->original, &oom), f->original != NULL, &oom);
        if (oom) {
                json_object_put(o);
                return NULL;
        }
        return o;
}

/* ---- pretty ---- */

/* cell - s cleaned for a terminal and cut to width bytes (on a character boundary); "-" for NULL */
static const char *cell(char *buf, size_t cap, const char *s) {
        if (!s || !*s)
                return "-";
        (void) dt_sanitize(s, strlen(s), buf, cap, NULL);
        return buf;
}

/* line - "  label   value", nothing for NULL */
static void line(FILE *out, const char *label, const char *s) {
        char buf[512];

        if (s)
                fprintf(out, "  %-22s %s\n", label, cell(buf, sizeof buf, s));
}

/* line_time - an epoch as UTC, nothing when not valid */
static void line_time(FILE *out, const char *label, int64_t t, bool valid) {
        char buf[64];
        struct tm tm;
        time_t tt = (time_t) t;

        if (!valid || !gmtime_r(&tt, &tm) || strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC",
                                                      &tm) == 0)
                return;
        fprintf(out, "  %-22s %s\n", label, buf);
}

/* line_int - a count or id, nothing when negative (unknown) */
static void line_int(FILE *out, const char *label, int64_t v) {
        if (v >= 0)
                fprintf(out, "  %-22s %" PRId64 "\n", label, v);
}

/* print_hops - the Received chain as a table, the local-submission hop marked */
static void print_hops(FILE *out, const struct dt_headers *h) {
        char b1[40], b2[40], b3[48], b4[40], b6[32];

        /* columns are minimum widths: a long IPv6 address pushes its row right, never cut */

        if (h->n_received == 0)
                return;
        fprintf(out, "received (newest first)%s\n",
                h->received_dropped ? ", more hops dropped" : "");
        fprintf(out, "  %-3s %-28s %-24s %-28s %-12s %-20s %s\n", "#", "from", "ip", "by", "with",
                "id", "date");
        for (size_t i = 0; i < h->n_received; i++) {
                const struct dt_received *r = &h->received[i];
                char date[32] = "-";
                struct tm tm;
                time_t tt = (time_t) r->date;

                if (r->has_date && gmtime_r(&tt, &tm))
                        (void) strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S", &tm);
                fprintf(out, "  %-3zu %-28s %-24s %-28s %-12s %-20s %s%s\n", i + 1,
                        cell(b1, 29, r->from_host ? r->from_host : r->from_helo),
                        cell(b3, 40, r->from_ip), cell(b2, 29, r->by_host),
                        cell(b4, 13, r->with), cell(b6, 21, r->id), date,
                        h->local.mta != DT_LOCAL_NONE && h->local.mta != DT_LOCAL_WARNING &&
                                        h->local.hop == i
                                ? "  <- local submission"
                                : "");
        }
        if (h->received_dropped)
                fprintf(out, "  ... %zu more Received fields not shown\n", h->received_dropped);
}

/* dt_failure_print_pretty - see failure-json.h */
void dt_failure_print_pretty(FILE *out, const struct dt_failure *f, const char *source) {
        const struct dt_headers *h = f->original;
        char buf[512];

        fprintf(out, "failure report %s\n", cell(buf, sizeof buf, source));
        fprintf(out, "  %-22s %s%s\n", "feedback type",
                f->feedback_type ? cell(buf, sizeof buf, f->feedback_type) : "(no ARF part)",
                f->dmarc ? "  [DMARC failure]" : "  [not a DMARC failure]");
        line(out, "auth failure", f->auth_failure);
        line(out, "source ip", f->source_ip);
        line(out, "reported domain", f->reported_domain);
        line(out, "original mail from",
             f->original_mail_from && !*f->original_mail_from ? "<>" : f->original_mail_from);
        for (size_t i = 0; i < f->n_original_rcpt_to; i++)
                line(out, "original rcpt to", f->original_rcpt_to[i]);
        line_time(out, "arrival date", f->arrival_date, f->has_arrival_date);
        line(out, "delivery result", f->delivery_result);
        line(out, "identity alignment", f->identity_alignment);
        line(out, "dkim domain", f->dkim_domain);
        line(out, "dkim selector", f->dkim_selector);
        line(out, "authentication results", f->authentication_results);
        line(out, "user agent", f->user_agent);
        line_int(out, "incidents", f->incidents);
        if (!h) {
                fprintf(out, "original message: not found\n");
                return;
        }
        fprintf(out, "original message (%s)\n", dt_failure_origin_name(f->origin));
        line(out, "message-id", h->message_id);
        line(out, "from", h->from);
        line(out, "to", h->to);
        line(out, "cc", h->cc);
        line(out, "subject", h->subject);
        line_time(out, "date", h->date, h->has_date);
        line(out, "return-path", h->return_path && !*h->return_path ? "<>" : h->return_path);
        line(out, "x-mailer", h->x_mailer);
        line(out, "dkim domain", h->dkim_domain);
        line(out, "dkim selector", h->dkim_selector);
        line(out, "x-php-originating", h->x_php_originating_script);
        line(out, "x-php-script", h->x_php_script);
        line(out, "x-source", h->x_source);
        line(out, "x-source-args", h->x_source_args);
        line(out, "x-source-dir", h->x_source_dir);
        if (h->antiabuse.present) {
                line(out, "antiabuse host", h->antiabuse.primary_hostname);
                line_int(out, "antiabuse caller uid", h->antiabuse.caller_uid);
        }
        line(out, "sender via", h->sender_via);
        line(out, "authenticated sender", h->authenticated_sender);
        line(out, "auth warning", h->auth_warning);
        if (h->local.mta != DT_LOCAL_NONE) {
                const char *mta = dt_headers_local_mta_name(h->local.mta);
                char u[64], q[64], hs[128];

                fprintf(out, "  %-22s %s", "local submission", mta ? mta : "sendmail-style");
                if (h->local.uid >= 0)
                        fprintf(out, " uid %" PRId64, h->local.uid);
                if (h->local.user)
                        fprintf(out, " user %s", cell(u, sizeof u, h->local.user));
                if (h->local.queue_id)
                        fprintf(out, " queue %s", cell(q, sizeof q, h->local.queue_id));
                if (h->local.host)
                        fprintf(out, " on %s", cell(hs, sizeof hs, h->local.host));
                fputc('\n', out);
        }
        print_hops(out, h);
}
