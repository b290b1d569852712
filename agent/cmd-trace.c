/* cmd-trace.c - `dmarctrace trace [-c FILE] [--json] REPORT`: explain one failure report
 *
 * Brings the log index up to date from the configured logs (as the agent would), parses the
 * report, and walks the attribution chain step by step: what the report says, what the original
 * headers say (the local-submission hop, X-PHP-Originating-Script), and each link the logs
 * confirmed (Message-ID to queue id, pickup uid, the PHP mail() call, SASL login, the relaying
 * client), ending with the verdict and its confidence. Nothing is stored about the report and no
 * event is written. Exit status: 0 traced, 3 not traced (nothing links it to this host), 1 the
 * report or the configuration could not be used, 2 usage error. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "agent/commands.h"
#include "agent/jsonutil.h"
#include "agent/parse.h"
#include "agent/runtime.h"
#include "agent/timefmt.h"
#include "report/sanitize.h"

struct trace_ctx {
        struct dt_runtime *rt;
        bool json;
        const char *path;
        int status;
};

/* clean - sanitised text for the terminal, "-" for NULL */
static const char *clean(const char *s, char *buf, size_t cap) {
        if (!s || !*s)
                return "-";
        (void) dt_sanitize(s, strlen(s), buf, cap, NULL);
        return buf;
}

/* has_evidence - whether the comma-separated evidence list holds name */
static bool has_evidence(const struct dt_attribution *a, const char *name) {
        const char *e = a->evidence_text;
        size_t n = strlen(name);

        while (e && *e) {
                if (strncmp(e, name, n) == 0 && (e[n] == ',' || e[n] == '\0'))
                        return true;
                e = strchr(e, ',');
                e = e ? e + 1 : NULL;
        }
        return false;
}

/* print_steps - the chain, one numbered step per link */
static void print_steps(const struct dt_failure *f, const struct dt_attribution *a, const char *domain) {
        const struct dt_headers *o = f->original;
        char b1[512], b2[512], b3[512], t[40];
        int step = 1;

        printf("  %d. the report: %s about %s, sent from %s, arrived %s\n", step++,
               clean(f->feedback_type, b1, sizeof b1), clean(domain, b2, sizeof b2),
               clean(f->source_ip, b3, sizeof b3),
               f->has_arrival_date && f->arrival_date > 0 ?
                       dt_utc(f->arrival_date, DT_UTC_READABLE, "-", t, sizeof t) : "-");
        if (!o) {
                printf("  %d. the report carries no original headers: nothing to follow\n", step);
                return;
        }
        printf("  %d. the original message: Message-ID <%s>, Subject '%s'\n", step++,
               clean(o->message_id, b1, sizeof b1), clean(o->subject, b2, sizeof b2));
        if (o->local.mta != DT_LOCAL_NONE)
                printf("  %d. its Received chain has a local submission: %s on %s, uid %lld, queue id %s\n",
                       step++, clean(dt_headers_local_mta_name(o->local.mta), b1, sizeof b1),
                       clean(o->local.host, b2, sizeof b2), (long long) o->local.uid,
                       clean(o->local.queue_id, b3, sizeof b3));
        if (o->x_php_originating_script)
                printf("  %d. X-PHP-Originating-Script: %s (uid %lld, script %s)\n", step++,
                       clean(o->x_php_originating_script, b1, sizeof b1), (long long) o->php_uid,
                       clean(o->php_script, b2, sizeof b2));
        if (!a)
                return;
        if (has_evidence(a, "message-id"))
                printf("  %d. the %s log has Message-ID <%s> as queue id %s, submitted %s\n", step++,
                       clean(a->mta, b1, sizeof b1), clean(a->message_id, b2, sizeof b2),
                       clean(a->queue_id, b3, sizeof b3),
                       a->time > 0 ? dt_utc(a->time, DT_UTC_READABLE, "-", t, sizeof t) : "-");
        if (has_evidence(a, "pickup-uid"))
                printf("  %d. pickup logged it from uid %lld (%s)\n", step++, (long long) a->uid,
                       clean(a->user, b1, sizeof b1));
        if (has_evidence(a, "exim-user"))
                printf("  %d. Exim logged it from local user %s\n", step++, clean(a->user, b1, sizeof b1));
        if (has_evidence(a, "smtp-client"))
                printf("  %d. it came in over SMTP from %s [%s]\n", step++, clean(a->client_host, b1, sizeof b1),
                       clean(a->client_ip, b2, sizeof b2));
        if (has_evidence(a, "sasl-login"))
                printf("  %d. authenticated as %s (%s)\n", step++, clean(a->sasl_username, b1, sizeof b1),
                       clean(a->sasl_method, b2, sizeof b2));
        if (has_evidence(a, "relayed"))
                printf("  %d. relayed from another host: %s\n", step++, clean(a->host, b1, sizeof b1));
        if (has_evidence(a, "php-call"))
                printf("  %d. PHP's mail.log has the mail() call: %s line %lld at %s\n", step++,
                       clean(a->script_path, b1, sizeof b1), (long long) a->script_line,
                       a->php_time > 0 ? dt_utc(a->php_time, DT_UTC_READABLE, "-", t, sizeof t) : "-");
}

/* attribution_json - the verdict as a JSON object */
static json_object *attribution_json(const struct dt_attribution *a, const char *source) {
        json_object *o = json_object_new_object();

        json_object_object_add(o, "source", dt_json_string(source));
        json_object_object_add(o, "attributed", json_object_new_boolean(a != NULL));
        if (!a)
                return o;
        json_object_object_add(o, "confidence", dt_json_string(dt_confidence_name(a->confidence)));
        json_object_object_add(o, "evidence", dt_json_string(a->evidence_text));
        json_object_object_add(o, "mta", dt_json_string(a->mta));
        json_object_object_add(o, "queue_id", dt_json_string(a->queue_id));
        json_object_object_add(o, "message_id", dt_json_string(a->message_id));
        json_object_object_add(o, "host", dt_json_string(a->host));
        json_object_object_add(o, "relayed", json_object_new_boolean(a->relayed));
        json_object_object_add(o, "uid", a->uid >= 0 ? json_object_new_int64(a->uid) : NULL);
        json_object_object_add(o, "user", dt_json_string(a->user));
        json_object_object_add(o, "script_path", dt_json_string(a->script_path));
        json_object_object_add(o, "script_line", a->script_line >= 0 ? json_object_new_int64(a->script_line) : NULL);
        json_object_object_add(o, "client_host", dt_json_string(a->client_host));
        json_object_object_add(o, "client_ip", dt_json_string(a->client_ip));
        json_object_object_add(o, "sasl_username", dt_json_string(a->sasl_username));
        json_object_object_add(o, "time", a->time > 0 ? json_object_new_int64(a->time) : NULL);
        return o;
}

/* on_failure - trace the report and print the chain */
static int on_failure(void *userdata, const struct dt_parse_ctx *ctx, const struct dt_failure *f,
                      struct dt_error *err) {
        struct trace_ctx *t = userdata;
        _cleanup_(dt_attribution_freep) struct dt_attribution *a = NULL;
        const char *domain = f->reported_domain;
        bool own = dt_identity_has_address(t->rt->id, f->source_ip);
        int64_t hint = f->has_arrival_date ? f->arrival_date :
                       f->original && f->original->has_date ? f->original->date : 0;
        char msg[1200];
        int r;

        if (f->original) {
                r = dt_correlate_message(t->rt->idx, f->original, hint, &a);
                if (r < 0)
                        return dt_error_set(err, r, DT_R_IO, -1, "log index lookup failed: %s", strerror(-r));
        }
        if (a && a->confidence == DT_CONF_WEAK && !own)
                a = dt_attribution_free(a);     /* headers alone, and not from here: no verdict */
        if (t->json) {
                json_object *o = attribution_json(a, ctx->source);
                puts(dt_json_line(o));
                json_object_put(o);
        } else {
                printf("%s\n", ctx->source);
                print_steps(f, a, domain);
                if (a) {
                        dt_attribution_message(a, domain, msg, sizeof msg);
                        printf("  => %s\n", msg);
                } else {
                        printf("  => not traced: nothing in this host's logs links the message to a local "
                               "sender%s\n", own ? "" : ", and it was not sent from this host's addresses");
                }
        }
        t->status = a ? 0 : 3;
        return 0;
}

/* on_aggregate - trace takes failure reports only */
static int on_aggregate(void *userdata, const struct dt_parse_ctx *ctx, struct dt_aggregate *agg,
                        struct dt_error *err) {
        return dt_error_set(err, -EINVAL, DT_R_NOT_A_REPORT, 0,
                            "an aggregate report: trace explains failure reports");
}

int dt_cmd_trace(int argc, char **argv) {
        static const struct option longopts[] = {
                { "config", required_argument, NULL, 'c' },
                { "json", no_argument, NULL, 'j' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        const struct dt_parse_sink sink = { .aggregate = on_aggregate, .failure = on_failure };
        _cleanup_(dt_runtime_freep) struct dt_runtime *rt = NULL;
        struct trace_ctx t = { .status = 1 };
        const char *path = DT_CONFIG_PATH_DEFAULT;
        _cleanup_free_ char *buf = NULL;
        struct dt_error err;
        size_t len = 0;
        int c, r;

        optind = 1;
        while ((c = getopt_long(argc, argv, "c:jh", longopts, NULL)) != -1) {
                switch (c) {
                case 'c':
                        path = optarg;
                        break;
                case 'j':
                        t.json = true;
                        break;
                case 'h':
                        printf("Usage: dmarctrace trace [-c FILE] [--json] REPORT\n"
                               "Explain one failure report: the attribution chain, step by step.\n");
                        return 0;
                default:
                        return 2;
                }
        }
        if (optind != argc - 1) {
                fprintf(stderr, "dmarctrace trace: give exactly one report file (try --help)\n");
                return 2;
        }
        if (dt_cmd_open_runtime(path, true, true, &rt) < 0)
                return 1;
        dt_error_clear(&err);
        t.rt = rt;
        t.path = argv[optind];
        r = dt_parse_read_file(AT_FDCWD, argv[optind], false, rt->cfg->limits.message_bytes, &buf, &len, &err);
        if (r >= 0)
                r = dt_parse_buffer(buf, len, argv[optind], &rt->cfg->limits, &sink, &t, &err);
        if (r < 0) {
                dt_print_input_error(argv[optind], &err);
                return 1;
        }
        return t.status;
}
