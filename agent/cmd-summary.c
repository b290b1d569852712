/* cmd-summary.c - `dmarctrace summary [-c FILE] [-d|--domain D] [-n|--days N] [-j|--json]
 *                 [-s|--svg FILE]`
 *
 * Reads the store (never the Maildir) and shows, per policy domain, the last N days (default 30,
 * counted back from the newest day the store has for that domain, so old data still shows):
 * messages the receivers reported, pass, fail, from this host, sent per this host's mail log,
 * the baseline, and a bar chart of the volume (UTF-8 blocks, a log scale when the busiest day
 * is more than 1000 times the quietest) with the days detection raised a spike for marked; then
 * the top source addresses of the busiest day and the attributions detection made. With --json:
 * one object per (day, domain) per line: day, domain, messages, pass, fail, own_host,
 * local_sent (null without mail logs), baseline (null when there is none yet), spike. With
 * --svg FILE (- for standard output): the same chart as an SVG 1.1 file (agent/svg.c), one
 * panel per domain, instead of the text.
 * Exit status: 0 shown (also when the store is empty), 1 configuration or store error, 2 usage.
 *
 * SECURITY: domains, orgs and addresses in the store come from reports anyone can send; they
 * are sanitised before they reach the terminal (no control characters, no escape sequences),
 * go into JSON through dt_json_string() and into SVG through dt_svg_escape(). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "agent/commands.h"
#include "agent/detect.h"
#include "agent/jsonutil.h"
#include "agent/store.h"
#include "agent/svg.h"
#include "agent/timefmt.h"
#include "conf/config.h"
#include "correlate/index.h"
#include "report/sanitize.h"

#define DAY DT_STORE_DAY
#define DAYS_MAX 3660                   /* --days upper bound */
#define BAR_WIDTH 40                    /* cells of the longest bar */
#define TOP_SOURCES 10
#define LOG_SCALE_RATIO 1000.0          /* busiest / quietest day above this: log scale */

struct day {
        bool data;
        struct dt_store_daily v;
        bool has_baseline;
        double baseline;
        bool spike;
        bool has_sent;
        uint64_t sent;
};

struct source {
        char *ip;
        struct dt_store_daily v;
};

/* what one domain's pass over the store collects */
struct domain_view {
        const char *domain;
        int64_t from, to;               /* the days shown: from <= day <= to */
        unsigned baseline_days;
        /* the domain key's days from baseline_days before from, for the baselines */
        int64_t *hday;
        uint64_t *hobs;
        size_t hn, hcap;
        struct day *days;               /* (to - from) / DAY + 1 */
        size_t ndays;
        /* top sources of the busiest day */
        int64_t worst;
        struct source *src;
        size_t nsrc, capsrc;
        /* attribution lines */
        char **attr;
        size_t nattr;
        int err;
};

static void view_free(struct domain_view *v) {
        free(v->hday);
        free(v->hobs);
        free(v->days);
        for (size_t i = 0; i < v->nsrc; i++)
                free(v->src[i].ip);
        free(v->src);
        for (size_t i = 0; i < v->nattr; i++)
                free(v->attr[i]);
        free(v->attr);
}

/* clean - s sanitised for the terminal, into buf */
static const char *clean(const char *s, char *buf, size_t cap) {
        (void) dt_sanitize(s ? s : "", s ? strlen(s) : 0, buf, cap, NULL);
        return buf;
}

/* on_domain_row - the domain key's rows: history and the days shown */
static int on_domain_row(const struct dt_store_daily_row *row, void *userdata) {
        struct domain_view *v = userdata;

        if (row->key_type != DT_KEY_DOMAIN || strcmp(row->key, v->domain) != 0)
                return 0;
        if (v->hn == v->hcap)
                return 0;       /* cannot happen: one row per day of the window */
        v->hday[v->hn] = row->day;
        v->hobs[v->hn] = row->v.observed;
        v->hn++;
        if (row->day >= v->from && row->day <= v->to) {
                struct day *d = &v->days[(row->day - v->from) / DAY];

                d->data = true;
                d->v = row->v;
        }
        return 0;
}

/* on_source_row - the source addresses of the busiest day */
static int on_source_row(const struct dt_store_daily_row *row, void *userdata) {
        struct domain_view *v = userdata;

        if (row->key_type != DT_KEY_SOURCE_IP || row->day != v->worst)
                return 0;
        if (v->nsrc == v->capsrc) {
                size_t nc = v->capsrc ? v->capsrc * 2 : 64;
                struct source *ns = reallocarray(v->src, nc, sizeof *ns);

                if (!ns)
                        return v->err = -ENOMEM;
                v->src = ns;
                v->capsrc = nc;
        }
        v->src[v->nsrc].ip = strdup(row->key);
        if (!v->src[v->nsrc].ip)
                return v->err = -ENOMEM;
        v->src[v->nsrc].v = row->v;
        v->nsrc++;
        return 0;
}

/* on_record - spike days and attribution lines */
static int on_record(const struct dt_detect_record *r, void *userdata) {
        struct domain_view *v = userdata;

        if (r->time < v->from || r->time >= v->to + DAY)
                return 0;
        if (strcmp(r->kind, "spike") == 0)
                v->days[(r->time - v->from) / DAY].spike = true;
        else if (strcmp(r->kind, "attribution") == 0 && r->detail) {
                char **na = reallocarray(v->attr, v->nattr + 1, sizeof *na);

                if (!na)
                        return v->err = -ENOMEM;
                v->attr = na;
                v->attr[v->nattr] = strdup(r->detail);
                if (!v->attr[v->nattr])
                        return v->err = -ENOMEM;
                v->nattr++;
        }
        return 0;
}

static int cmp_source(const void *a, const void *b) {
        const struct source *x = a, *y = b;

        if (x->v.observed != y->v.observed)
                return x->v.observed < y->v.observed ? 1 : -1;
        return strcmp(x->ip, y->ip);
}

/* load - everything shown for one domain whose newest day is newest */
static int load(struct dt_store *store, struct dt_index *idx, const struct dt_config *cfg,
                const char *domain, int64_t newest, unsigned ndays, struct domain_view *v) {
        int64_t hfrom;
        uint64_t best = 0;
        int r;

        memset(v, 0, sizeof *v);
        v->domain = domain;
        v->to = newest;
        v->from = newest - (int64_t) (ndays - 1) * DAY;
        v->baseline_days = cfg->baseline_days;
        v->ndays = ndays;
        v->worst = -1;
        hfrom = v->from - (int64_t) cfg->baseline_days * DAY;
        v->hcap = ndays + cfg->baseline_days + 1;
        v->hday = calloc(v->hcap, sizeof *v->hday);
        v->hobs = calloc(v->hcap, sizeof *v->hobs);
        v->days = calloc(ndays, sizeof *v->days);
        if (!v->hday || !v->hobs || !v->days)
                return -ENOMEM;
        r = dt_store_daily_foreach(store, domain, hfrom, newest + DAY, on_domain_row, v);
        if (r < 0)
                return r;
        for (size_t i = 0; i < v->hn; i++) {
                struct day *d;

                if (v->hday[i] < v->from)
                        continue;
                d = &v->days[(v->hday[i] - v->from) / DAY];
                r = dt_detect_baseline(v->hday, v->hobs, v->hn, i, cfg->baseline_days,
                                       &d->baseline, NULL);
                if (r < 0)
                        return r;
                d->has_baseline = r == 1;
                if (d->v.observed > best) {
                        best = d->v.observed;
                        v->worst = v->hday[i];
                }
        }
        if (idx)
                for (size_t i = 0; i < ndays; i++) {
                        r = dt_index_sent_count(idx, domain, v->from + (int64_t) i * DAY,
                                                v->from + (int64_t) (i + 1) * DAY, &v->days[i].sent);
                        if (r < 0)
                                return r;
                        v->days[i].has_sent = true;
                }
        if (v->worst >= 0) {
                r = dt_store_daily_foreach(store, domain, v->worst, v->worst + DAY, on_source_row, v);
                if (r >= 0 && v->err < 0)
                        r = v->err;
                if (r < 0)
                        return r;
                if (v->nsrc > 1)
                        qsort(v->src, v->nsrc, sizeof *v->src, cmp_source);
        }
        r = dt_detect_foreach_record(store, domain, v->from, v->to + DAY, on_record, v);
        if (r >= 0 && v->err < 0)
                r = v->err;
        return r < 0 ? r : 0;
}

/* log2_approx - log2(v) for v >= 1, piecewise linear between powers of two: close enough for
 * bar lengths, and no libm */
static double log2_approx(double v) {
        int e = 0;

        while (v >= 2.0) {
                v /= 2.0;
                e++;
        }
        return e + (v - 1.0);
}

/* chart_scale - the busiest day's count into *max; true when the bars need a log scale */
static bool chart_scale(const struct domain_view *v, uint64_t *max) {
        uint64_t min = UINT64_MAX;

        *max = 0;
        for (size_t i = 0; i < v->ndays; i++) {
                uint64_t o = v->days[i].v.observed;

                if (o > *max)
                        *max = o;
                if (o > 0 && o < min)
                        min = o;
        }
        return *max > 0 && (double) *max > LOG_SCALE_RATIO * (double) min;
}

/* scale - the length of value's bar as a fraction of max's */
static double scale(uint64_t value, uint64_t max, bool logscale) {
        if (value == 0 || max == 0)
                return 0;
        if (logscale)
                return log2_approx((double) value + 1) / log2_approx((double) max + 1);
        return (double) value / (double) max;
}

/* bar - a bar of cells (in eighths) for value, scaled to max, into buf */
static const char *bar(uint64_t value, uint64_t max, bool logscale, char *buf, size_t cap) {
        static const char *const part[] = { "", "▏", "▎", "▍", "▌", "▋", "▊", "▉" };
        unsigned eighths, len = 0;

        buf[0] = '\0';
        if (value == 0 || max == 0)
                return buf;
        eighths = (unsigned) (scale(value, max, logscale) * BAR_WIDTH * 8 + 0.5);
        if (eighths == 0)
                eighths = 1;    /* a day with mail never looks empty */
        for (unsigned i = 0; i < eighths / 8 && len + 4 < cap; i++) {
                memcpy(buf + len, "█", 3);
                len += 3;
        }
        if (eighths % 8 && len + 4 < cap) {
                memcpy(buf + len, part[eighths % 8], 3);
                len += 3;
        }
        buf[len] = '\0';
        return buf;
}

static const char *num_or_dash(bool has, uint64_t v, char *buf, size_t cap) {
        if (!has)
                return "-";
        (void) snprintf(buf, cap, "%" PRIu64, v);
        return buf;
}

/* print_text - the table, the chart, the busiest day's sources, the attributions */
static void print_text(const struct domain_view *v) {
        char dom[256], d0[16], d1[16], day[16], b[BAR_WIDTH * 3 + 8], s1[24], s2[32], ip[128];
        uint64_t max;
        bool logscale = chart_scale(v, &max);
        printf("%s: %s .. %s, messages per day as the receivers reported them%s\n",
               clean(v->domain, dom, sizeof dom), dt_utc(v->from, DT_UTC_DAY, "?", d0, sizeof d0),
               dt_utc(v->to, DT_UTC_DAY, "?", d1, sizeof d1), logscale ? " (bars on a log scale)" : "");
        printf("%-10s %9s %9s %9s %9s %9s %9s\n", "day", "messages", "pass", "fail", "this host",
               "sent/log", "baseline");
        for (size_t i = 0; i < v->ndays; i++) {
                const struct day *d = &v->days[i];

                if (d->has_baseline)
                        (void) snprintf(s2, sizeof s2, "%.0f", d->baseline);
                printf("%-10s %9" PRIu64 " %9" PRIu64 " %9" PRIu64 " %9" PRIu64 " %9s %9s %s%s\n",
                       dt_utc(v->from + (int64_t) i * DAY, DT_UTC_DAY, "?", day, sizeof day), d->v.observed,
                       d->v.pass, d->v.observed - d->v.pass, d->v.own,
                       num_or_dash(d->has_sent, d->sent, s1, sizeof s1),
                       d->has_baseline ? s2 : "-", bar(d->v.observed, max, logscale, b, sizeof b),
                       d->spike ? " ◀ spike" : "");
        }
        if (v->nsrc > 0) {
                printf("\ntop sources on %s, the busiest day:\n", dt_utc(v->worst, DT_UTC_DAY, "?", day, sizeof day));
                for (size_t i = 0; i < v->nsrc && i < TOP_SOURCES; i++)
                        printf("  %-39s %9" PRIu64 " messages, %9" PRIu64 " pass%s\n",
                               clean(v->src[i].ip, ip, sizeof ip), v->src[i].v.observed,
                               v->src[i].v.pass, v->src[i].v.own ? "  [this host]" : "");
                if (v->nsrc > TOP_SOURCES)
                        printf("  ... and %zu more\n", v->nsrc - TOP_SOURCES);
        }
        if (v->nattr > 0) {
                printf("\nattributions:\n");
                for (size_t i = 0; i < v->nattr; i++) {
                        char line[1400];

                        printf("  %s\n", clean(v->attr[i], line, sizeof line));
                }
        }
        printf("\n");
}

/* print_json - one line per day */
static int print_json(const struct domain_view *v) {
        char day[16];

        for (size_t i = 0; i < v->ndays; i++) {
                const struct day *d = &v->days[i];
                json_object *o = json_object_new_object();

                if (!o)
                        return -ENOMEM;
                json_object_object_add(o, "day", json_object_new_string(
                                               dt_utc(v->from + (int64_t) i * DAY, DT_UTC_DAY, "?", day, sizeof day)));
                json_object_object_add(o, "domain", dt_json_string(v->domain));
                json_object_object_add(o, "messages", json_object_new_int64((int64_t) d->v.observed));
                json_object_object_add(o, "pass", json_object_new_int64((int64_t) d->v.pass));
                json_object_object_add(o, "fail",
                                       json_object_new_int64((int64_t) (d->v.observed - d->v.pass)));
                json_object_object_add(o, "own_host", json_object_new_int64((int64_t) d->v.own));
                json_object_object_add(o, "local_sent",
                                       d->has_sent ? json_object_new_int64((int64_t) d->sent) : NULL);
                json_object_object_add(o, "baseline",
                                       d->has_baseline ? json_object_new_double(d->baseline) : NULL);
                json_object_object_add(o, "spike", json_object_new_boolean(d->spike));
                printf("%s\n", dt_json_line(o));
                json_object_put(o);
        }
        return 0;
}

/* print_svg - the domain's panel of the SVG chart */
static int print_svg(FILE *f, size_t index, const struct domain_view *v) {
        _cleanup_free_ struct dt_svg_day *days = calloc(v->ndays, sizeof *days);
        _cleanup_free_ char *labels = calloc(v->ndays, 16);
        char d0[16], d1[16], sub[128];
        uint64_t max;
        bool logscale = chart_scale(v, &max);

        if (!days || !labels)
                return -ENOMEM;
        for (size_t i = 0; i < v->ndays; i++) {
                const struct day *d = &v->days[i];

                days[i] = (struct dt_svg_day) {
                        .label = dt_utc(v->from + (int64_t) i * DAY, DT_UTC_DAY, "?", labels + i * 16, 16),
                        .messages = d->v.observed,
                        .own = d->v.own,
                        .height = scale(d->v.observed, max, logscale),
                        .spike = d->spike,
                };
        }
        (void) snprintf(sub, sizeof sub, "%s .. %s: messages per day as the receivers reported "
                        "them%s; red: spike days", dt_utc(v->from, DT_UTC_DAY, "?", d0, sizeof d0),
                        dt_utc(v->to, DT_UTC_DAY, "?", d1, sizeof d1), logscale ? " (log scale)" : "");
        return dt_svg_panel(f, index, &(const struct dt_svg_panel) {
                .title = v->domain, .subtitle = sub, .max = max, .days = days, .ndays = v->ndays });
}

struct domain_entry {
        char *name;
        int64_t newest;
};

/* domains - every policy domain with daily volumes and its newest day, by name.
 * XXX: reads the store's daily table directly; a dt_store_domains() would be the clean way. */
static int domains(struct dt_store *store, const char *only, struct domain_entry **out, size_t *n) {
        sqlite3_stmt *st = NULL;
        struct domain_entry *v = NULL;
        size_t k = 0;
        int rc, r = 0;

        rc = sqlite3_prepare_v2(dt_store_db(store),
                                "SELECT domain, max(day) FROM daily WHERE key_type = 'domain' "
                                "AND key = domain AND (?1 IS NULL OR domain = ?1) "
                                "GROUP BY domain ORDER BY domain", -1, &st, NULL);
        if (rc != SQLITE_OK)
                return -EIO;
        if (only)
                sqlite3_bind_text(st, 1, only, -1, SQLITE_STATIC);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                const char *name = (const char *) sqlite3_column_text(st, 0);
                struct domain_entry *nv = reallocarray(v, k + 1, sizeof *nv);

                if (!nv || !name) {
                        r = -ENOMEM;
                        break;
                }
                v = nv;
                v[k].name = strdup(name);
                v[k].newest = sqlite3_column_int64(st, 1);
                if (!v[k].name) {
                        r = -ENOMEM;
                        break;
                }
                k++;
        }
        sqlite3_finalize(st);
        if (r == 0 && rc != SQLITE_DONE)
                r = -EIO;
        if (r < 0) {
                for (size_t i = 0; i < k; i++)
                        free(v[i].name);
                free(v);
                return r;
        }
        *out = v;
        *n = k;
        return 0;
}

static void usage(FILE *f) {
        fprintf(f, "Usage: dmarctrace summary [-c FILE] [-d DOMAIN] [-n DAYS] [--json | --svg FILE]\n"
                   "Daily volumes per domain from the store, with spikes marked, the busiest day's\n"
                   "sources and the attributions. --days: how many days back from the newest one\n"
                   "(default 30); --json: one object per day and domain per line; --svg: the chart\n"
                   "as an SVG file (- for standard output).\n");
}

int dt_cmd_summary(int argc, char **argv) {
        static const struct option longopts[] = {
                { "config", required_argument, NULL, 'c' },
                { "domain", required_argument, NULL, 'd' },
                { "days", required_argument, NULL, 'n' },
                { "json", no_argument, NULL, 'j' },
                { "svg", required_argument, NULL, 's' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        _cleanup_(dt_config_freep) struct dt_config *cfg = NULL;
        _cleanup_(dt_store_freep) struct dt_store *store = NULL;
        _cleanup_(dt_index_freep) struct dt_index *idx = NULL;
        const char *path = DT_CONFIG_PATH_DEFAULT, *only = NULL, *svg_path = NULL;
        FILE *svg = NULL;
        struct domain_entry *dom = NULL;
        unsigned long ndays = 30;
        bool json = false, write_failed = false;
        struct dt_error err;
        size_t n = 0;
        int c, r, status = 0;

        optind = 1;
        while ((c = getopt_long(argc, argv, "c:d:n:js:h", longopts, NULL)) != -1) {
                char *end;

                switch (c) {
                case 'c':
                        path = optarg;
                        break;
                case 'd':
                        only = optarg;
                        break;
                case 'n':
                        errno = 0;
                        ndays = strtoul(optarg, &end, 10);
                        if (errno || end == optarg || *end || optarg[0] == '-' || ndays < 1 ||
                            ndays > DAYS_MAX) {
                                fprintf(stderr, "dmarctrace summary: --days wants 1 to %d\n", DAYS_MAX);
                                return 2;
                        }
                        break;
                case 'j':
                        json = true;
                        break;
                case 's':
                        svg_path = optarg;
                        break;
                case 'h':
                        usage(stdout);
                        return 0;
                default:
                        usage(stderr);
                        return 2;
                }
        }
        if (optind != argc) {
                fprintf(stderr, "dmarctrace summary: unexpected argument '%s'\n", argv[optind]);
                return 2;
        }
        if (json && svg_path) {
                fprintf(stderr, "dmarctrace summary: --json and --svg are two outputs: choose one\n");
                return 2;
        }
        dt_error_clear(&err);
        if (dt_config_load(path, &cfg, &err) < 0) {
                fprintf(stderr, "dmarctrace: %s\n", err.message);
                return 1;
        }
        dt_error_clear(&err);
        if (dt_store_open(cfg->state_dir, &store, &err) < 0) {
                fprintf(stderr, "dmarctrace: %s\n", err.message);
                return 1;
        }
        /* sent per the log only when there are logs to say it */
        if (cfg->n_logs_postfix + cfg->n_logs_exim > 0) {
                dt_error_clear(&err);
                if (dt_index_open(dt_store_db(store), (int) cfg->php_window_seconds, &idx, &err) < 0) {
                        fprintf(stderr, "dmarctrace: %s\n", err.message);
                        return 1;
                }
        }
        r = domains(store, only, &dom, &n);
        if (r < 0) {
                fprintf(stderr, "dmarctrace: cannot read the store: %s\n", strerror(-r));
                return 1;
        }
        if (svg_path) {
                svg = strcmp(svg_path, "-") == 0 ? stdout : fopen(svg_path, "we");
                if (!svg) {
                        fprintf(stderr, "dmarctrace: cannot write '%s': %s\n", svg_path, strerror(errno));
                        status = 1;
                } else if (dt_svg_begin(svg, "dmarctrace summary: messages per day and policy domain",
                                        n, ndays) < 0) {
                        write_failed = true;
                        status = 1;
                }
        } else if (n == 0 && !json)
                printf(only ? "no daily volumes for that domain in the store\n"
                            : "no daily volumes in the store yet\n");
        for (size_t i = 0; i < n && status == 0; i++) {
                struct domain_view v;

                r = load(store, idx, cfg, dom[i].name, dom[i].newest, (unsigned) ndays, &v);
                if (r >= 0) {
                        if (svg)
                                r = print_svg(svg, i, &v);
                        else if (json)
                                r = print_json(&v);
                        else
                                print_text(&v);
                }
                if (r == -EIO && svg) {
                        write_failed = true;
                        status = 1;
                } else if (r < 0) {
                        fprintf(stderr, "dmarctrace: cannot read the store: %s\n", strerror(-r));
                        status = 1;
                }
                view_free(&v);
        }
        if (svg) {
                if (status == 0 && dt_svg_end(svg) < 0)
                        write_failed = true;
                if ((svg == stdout ? fflush(svg) : fclose(svg)) != 0)
                        write_failed = true;
                if (write_failed) {
                        fprintf(stderr, "dmarctrace: cannot write '%s'\n", svg_path);
                        status = 1;
                }
        }
        for (size_t i = 0; i < n; i++)
                free(dom[i].name);
        free(dom);
        if (fflush(stdout) != 0 && status == 0)
                status = 1;
        return status;
}
