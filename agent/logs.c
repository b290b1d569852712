/* logs.c - this host's mail and PHP logs, read into the log index
 *
 * Files go through correlate/logfile.c (rotation, rotated siblings on first start within the
 * retention window, "INODE:OFFSET" cursors) and correlate/logline.c; journal entries are read
 * with sd_journal and handed to the Postfix or PHP parser with their own time stamp, so no
 * syslog prefix is parsed for them. Every chunk of lines is indexed and its cursors saved in
 * one store transaction. A source that cannot be read is retried at each catch-up and counted
 * as unavailable meanwhile (why: dt_logs_source_error), and the other sources are read all the
 * same: reports are still processed without it. Once the sources are drained, index rows older
 * than logs.retention_days are pruned, at most once an hour. The window ends at the newest
 * indexed line that is not in the future: a log that stopped (or a test's fixed dates) keeps its
 * last days, and a forged future time stamp (anyone may syslog with the mail facility) cannot
 * move the window and empty the index.
 * SECURITY: log lines are written by local users' mail (from=, subjects) and are hostile; the
 * parsers bound and sanitise them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-journal.h>
#include <time.h>

#include "agent/logs.h"
#include "correlate/exim.h"
#include "correlate/logfile.h"
#include "correlate/logline.h"
#include "correlate/phplog.h"
#include "correlate/postfix.h"

#define CHUNK_LINES 20000       /* lines per transaction: each COMMIT is an fsync, ~15% of a
                                 * 2M-line catch-up at 5000 lines; 20000 is ~30 ms of work */
#define SOURCES_MAX 64
#define PRUNE_EVERY_USEC (3600ull * 1000000ull)        /* retention pruning, at most hourly */

enum src_kind { SRC_FILE, SRC_JOURNAL };

struct source {
        enum src_kind kind;
        enum dt_logsrc format;          /* files: what the file holds */
        char name[300];                 /* cursor key: "file:PATH" or "journal:postfix" */
        char *path;                     /* files */
        bool php;                       /* journal: PHP identifiers rather than the mail facility */
        struct dt_logfile *lf;
        sd_journal *j;
        bool drained;
        int error;                      /* -errno of this catch-up's open or read, 0: fine */
};

struct dt_logs {
        const struct dt_config *cfg;
        struct dt_store *store;
        struct dt_index *idx;
        bool oneshot;
        struct source src[SOURCES_MAX];
        unsigned n;
        struct dt_logs_stats stats;
        uint64_t pruned_at;     /* CLOCK_MONOTONIC usec of the last prune; 0: never */
};

/* add_source - one configured entry ("journal" or a path) of a logs.* list */
static void add_source(struct dt_logs *l, const char *entry, enum dt_logsrc format, bool php) {
        struct source *s;

        if (l->n == SOURCES_MAX)
                return;
        s = &l->src[l->n];
        if (strcmp(entry, "journal") == 0) {
                s->kind = SRC_JOURNAL;
                s->php = php;
                (void) snprintf(s->name, sizeof s->name, "journal:%s", php ? "php" : "mail");
        } else {
                s->kind = SRC_FILE;
                s->format = format;
                s->path = strdup(entry);
                if (!s->path)
                        return;
                (void) snprintf(s->name, sizeof s->name, "file:%.290s", entry);
        }
        l->n++;
}

/* open_file - open (or reopen) a file source at its saved cursor */
static int open_file(struct dt_logs *l, struct source *s) {
        char cursor[DT_LOGFILE_CURSOR_MAX + 16] = "";
        struct dt_error err;
        int64_t since = (int64_t) time(NULL) - (int64_t) l->cfg->retention_days * 86400;
        int r;

        r = dt_store_cursor_get(l->store, s->name, cursor, sizeof cursor, NULL, NULL);
        if (r < 0)
                return r;
        dt_error_clear(&err);
        return dt_logfile_open(s->path, cursor[0] ? cursor : NULL, since,
                               DT_LOGFILE_CATCHUP | (l->oneshot ? DT_LOGFILE_ONESHOT : 0),
                               &l->cfg->limits, &s->lf, &err);
}

/* open_journal - the local journal, matched to mail or PHP entries, at the saved cursor or at
 * the start of the retention window */
static int open_journal(struct dt_logs *l, struct source *s) {
        char cursor[1024] = "";
        int r;

        r = sd_journal_open(&s->j, SD_JOURNAL_LOCAL_ONLY | SD_JOURNAL_SYSTEM);
        if (r < 0)
                return r;
        if (s->php) {
                (void) sd_journal_add_match(s->j, "SYSLOG_IDENTIFIER=php", 0);
                (void) sd_journal_add_match(s->j, "SYSLOG_IDENTIFIER=php-fpm", 0);
                (void) sd_journal_add_match(s->j, "SYSLOG_IDENTIFIER=php-cgi", 0);
        } else {
                (void) sd_journal_add_match(s->j, "SYSLOG_FACILITY=2", 0);     /* mail */
        }
        r = dt_store_cursor_get(l->store, s->name, cursor, sizeof cursor, NULL, NULL);
        if (r > 0 && cursor[0] && sd_journal_seek_cursor(s->j, cursor) >= 0 &&
            sd_journal_next(s->j) > 0 && sd_journal_test_cursor(s->j, cursor) > 0)
                return 0;       /* positioned on the last entry read: the next one is new */
        /* no cursor, or the journal was rotated or vacuumed past it: the retention window */
        r = sd_journal_seek_realtime_usec(s->j, (uint64_t) (time(NULL) - (time_t) l->cfg->retention_days * 86400) *
                                          1000000u);
        if (r < 0)
                return r;
        return 0;
}

int dt_logs_open(const struct dt_config *cfg, struct dt_store *store, struct dt_index *idx,
                 bool oneshot, struct dt_logs **out) {
        struct dt_logs *l;
        size_t i;

        l = calloc(1, sizeof *l);
        if (!l)
                return -ENOMEM;
        l->cfg = cfg;
        l->store = store;
        l->idx = idx;
        l->oneshot = oneshot;
        for (i = 0; i < cfg->n_logs_postfix; i++)
                add_source(l, cfg->logs_postfix[i], DT_SRC_SYSLOG, false);
        for (i = 0; i < cfg->n_logs_exim; i++)
                add_source(l, cfg->logs_exim[i], DT_SRC_EXIM, false);
        for (i = 0; i < cfg->n_logs_php_mail; i++)
                add_source(l, cfg->logs_php_mail[i], DT_SRC_PHP, true);
        *out = l;
        return 0;
}

/* journal_record - one journal entry into rec: 1 filled, 0 nothing of interest */
static int journal_record(sd_journal *j, struct dt_logrec *rec) {
        const void *d;
        size_t n, ilen = 0, mlen;
        const char *ident = "", *msg, *php;
        char idbuf[128];
        uint64_t usec;
        int r;

        if (sd_journal_get_realtime_usec(j, &usec) < 0)
                return 0;
        /* a get_data pointer stays valid only until the next get_data: copy the identifier,
         * then take MESSAGE last */
        if (sd_journal_get_data(j, "SYSLOG_IDENTIFIER", &d, &n) >= 0 && n > 18) {
                ilen = n - 18 < sizeof idbuf - 1 ? n - 18 : sizeof idbuf - 1;
                memcpy(idbuf, (const char *) d + 18, ilen);
                idbuf[ilen] = '\0';
                ident = idbuf;
        }
        if (sd_journal_get_data(j, "MESSAGE", &d, &n) < 0 || n < 8)
                return 0;
        msg = (const char *) d + 8;
        mlen = n - 8;
        dt_logrec_init(rec);
        rec->time = (int64_t) (usec / 1000000u);
        if (strncmp(ident, "postfix", 7) == 0)
                r = dt_postfix_parse(ident, ilen, msg, mlen, rec);
        else if (strncmp(ident, "exim", 4) == 0)
                r = dt_exim_parse_text(msg, mlen, rec);
        else if ((php = memmem(msg, mlen, "mail() on [", 11)))
                r = dt_phplog_parse(php, mlen - (size_t) (php - msg), rec);
        else
                r = 0;
        if (r > 0)
                rec->time = (int64_t) (usec / 1000000u);
        return r > 0;
}

/* read_journal - up to budget entries of one journal source; *lines counts them */
static int read_journal(struct dt_logs *l, struct source *s, uint64_t budget, uint64_t *lines) {
        struct dt_logrec rec;
        struct dt_error err;
        char *cursor = NULL;
        int r;

        while (*lines < budget) {
                r = sd_journal_next(s->j);
                if (r < 0)
                        return (s->error = r);
                if (r == 0) {
                        s->drained = true;
                        break;
                }
                (*lines)++;
                l->stats.lines++;
                if (journal_record(s->j, &rec) > 0) {
                        dt_error_clear(&err);
                        r = dt_index_add(l->idx, &rec, &err);
                        if (r < 0)
                                return r;
                        l->stats.records++;
                } else {
                        l->stats.skipped++;
                }
        }
        if (sd_journal_get_cursor(s->j, &cursor) >= 0) {
                r = dt_store_cursor_set(l->store, s->name, cursor, 0, 0);
                free(cursor);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* read_file - up to budget lines of one file source */
static int read_file(struct dt_logs *l, struct source *s, uint64_t budget, uint64_t *lines) {
        char cursor[DT_LOGFILE_CURSOR_MAX];
        struct dt_logrec rec;
        struct dt_error err;
        const char *line;
        size_t len;
        int r;

        while (*lines < budget) {
                r = dt_logfile_next(s->lf, &line, &len);
                if (r < 0)
                        return (s->error = r);
                if (r == 0) {
                        s->drained = true;
                        break;
                }
                (*lines)++;
                l->stats.lines++;
                if (dt_logline_parse(line, len, s->format, (int64_t) time(NULL), &l->cfg->limits, &rec,
                                     NULL) == DT_LC_RECORD) {
                        dt_error_clear(&err);
                        r = dt_index_add(l->idx, &rec, &err);
                        if (r < 0)
                                return r;
                        l->stats.records++;
                } else {
                        l->stats.skipped++;
                }
        }
        if (dt_logfile_cursor(s->lf, cursor, sizeof cursor) >= 0) {
                r = dt_store_cursor_set(l->store, s->name, cursor, 0, 0);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* prune - drop index rows older than the retention window, in a transaction of its own, when
 * the last prune is an hour old (the first catch-up always prunes) */
static int prune(struct dt_logs *l) {
        struct dt_error err;
        uint64_t now = dt_mono_usec(), n = 0;
        int64_t newest = 0, wall = (int64_t) time(NULL);
        int r;

        if (l->pruned_at && now - l->pruned_at < PRUNE_EVERY_USEC)
                return 0;
        r = dt_store_begin(l->store);
        if (r < 0)
                return r;
        r = dt_index_newest(l->idx, wall, &newest, &err);
        if (r >= 0)
                r = dt_index_prune(l->idx, newest - (int64_t) l->cfg->retention_days * 86400, &n, &err);
        if (r >= 0)
                r = dt_store_commit(l->store);
        if (r < 0) {
                dt_store_rollback(l->store);
                return r;
        }
        l->pruned_at = now ? now : 1;
        l->stats.pruned += n;
        return 0;
}

int dt_logs_catch_up(struct dt_logs *l, uint64_t max_lines) {
        struct dt_error err;
        uint64_t total = 0;
        bool more = false;
        unsigned i;
        int r;

        l->stats.unavailable = 0;
        for (i = 0; i < l->n; i++) {
                struct source *s = &l->src[i];

                s->drained = false;
                s->error = 0;
                r = 0;
                if (s->kind == SRC_FILE && !s->lf)
                        r = s->path ? open_file(l, s) : -ENOMEM;
                if (r < 0) {
                        s->error = r;
                        l->stats.unavailable++;
                        continue;
                }
                if (s->kind == SRC_JOURNAL && !s->j && (r = open_journal(l, s)) < 0) {
                        if (s->j)
                                s->j = (sd_journal_close(s->j), NULL);
                        s->error = r;
                        l->stats.unavailable++;
                        continue;
                }
                while (!s->drained && (max_lines == 0 || total < max_lines)) {
                        uint64_t lines = 0, budget = CHUNK_LINES;

                        if (max_lines && max_lines - total < budget)
                                budget = max_lines - total;
                        r = dt_store_begin(l->store);
                        if (r < 0)
                                return r;
                        r = s->kind == SRC_FILE ? read_file(l, s, budget, &lines) :
                                                  read_journal(l, s, budget, &lines);
                        if (r >= 0)
                                r = dt_index_flush(l->idx, &err);
                        if (r >= 0)
                                r = dt_store_commit(l->store);
                        if (r < 0) {
                                dt_store_rollback(l->store);
                                dt_index_discard(l->idx);
                                /* the source's position is past what was committed: reopen it at
                                 * the saved cursor next time */
                                if (s->kind == SRC_FILE)
                                        s->lf = dt_logfile_free(s->lf);
                                else
                                        s->j = (sd_journal_close(s->j), NULL);
                                if (s->error == 0)
                                        return r;       /* the store's: stop the catch-up */
                                /* the source's own (a directory, an I/O error): skip it, read
                                 * the others; this chunk of it is read again next time */
                                l->stats.unavailable++;
                                break;
                        }
                        total += lines;
                }
                if (!s->drained && s->error == 0)
                        more = true;
        }
        if (!more && l->n > 0) {
                r = prune(l);
                if (r < 0)
                        return r;
        }
        return more ? 1 : 0;
}

const struct dt_logs_stats *dt_logs_stats(const struct dt_logs *l) {
        return &l->stats;
}

unsigned dt_logs_count(const struct dt_logs *l) {
        return l->n;
}

int dt_logs_source_error(const struct dt_logs *l, unsigned i, const char **name) {
        if (i >= l->n)
                return -EINVAL;
        *name = l->src[i].kind == SRC_FILE && l->src[i].path ? l->src[i].path : l->src[i].name;
        return l->src[i].error;
}

struct dt_logs *dt_logs_free(struct dt_logs *l) {
        unsigned i;

        if (!l)
                return NULL;
        for (i = 0; i < l->n; i++) {
                dt_logfile_free(l->src[i].lf);
                if (l->src[i].j)
                        sd_journal_close(l->src[i].j);
                free(l->src[i].path);
        }
        free(l);
        return NULL;
}
