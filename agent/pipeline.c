/* pipeline.c - one Maildir message from file to stored, emitted and moved
 *
 * For each message: read it safely (maildir.c), classify and parse it in the pipeline's worker
 * process (worker.c, kept from message to message; when the caller names the next message,
 * that one is read and handed to the worker before this one's results are stored, so parse
 * and store overlap on two cores), and record what it held inside a
 * savepoint of the batch's transaction; events go out before the commit and the files move
 * after it, so a crash anywhere means the messages of the open batch are processed again with
 * the same event ids. A batch (up to 1,024 messages or 200 ms) shares one commit, so one fsync.
 * A worker that crashes or passes its deadline costs only its message (the next message gets
 * a fresh worker): the attempt is counted, the message is left in new/ for a later rescan
 * (DT_PIPELINE_DEFERRED), and rejected with WORKER_CRASH or TIMEOUT at its
 * PIPELINE_ATTEMPTS_MAX-th attempt. A file that cannot be opened or read (EACCES, EIO) is
 * counted and retried the same way, then rejected with IO_ERROR.
 * XXX: attempts are counted when the worker fails, so a message that kills the agent itself
 * (not its worker) is not counted and would be tried again at every start.
 * An unusable message gives an input-rejected event, a "rejected" row, and a move into the
 * .Rejected folder; a duplicate report gives no events and bumps a counter.
 * Failures of the run itself (the event sink or the store) are returned to the caller with
 * nothing committed or moved, so the message waits in new/ until the run can go on.
 * SECURITY: every string from the message is hostile; emit.c sanitises event values, and the
 * Maildir name is used byte-exact only for the rename. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/faultpoint.h"
#include "agent/pipeline.h"
#include "agent/rollup.h"
#include "agent/timefmt.h"
#include "agent/worker.h"
#include "correlate/attribute.h"
#include "report/authres.h"

/* Messages share one transaction (one fsync) up to this many or this long, then commit and move;
 * on a fast disk the time bound ends a batch first (1,024 messages: scan 6,250/s, 64: 4,700/s) */
#define PIPELINE_BATCH_MAX 1024
#define PIPELINE_BATCH_USEC 200000u
/* a message whose worker crashes or hangs this many times is rejected */
#define PIPELINE_ATTEMPTS_MAX 3

/* the message after the current one, read and handed to the worker before the current one's
 * results are stored, so that its parse overlaps that work (dt_pipeline_process_ahead) */
struct ahead {
        char *name;                     /* NULL: none */
        enum dt_md_sub sub;
        char *buf;
        size_t len;
        char path[4096];                /* the worker's source name, as struct job's */
        char sender_auth[DT_AUTHRES_MAX];
};

/* a file to move once its batch has committed */
struct pending {
        char *name;
        enum dt_md_sub sub;
        bool rejected;                  /* to .Rejected, else to cur/ */
};

struct dt_pipeline {
        const struct dt_config *cfg;
        struct dt_store *store;
        struct dt_emitter *em;
        struct dt_maildir *md;
        const struct dt_identity *id;
        struct dt_index *idx;           /* NULL: no logs configured */
        struct dt_detect *det;          /* NULL: no detection (tests) */
        struct dt_worker *worker;       /* parses message after message */
        struct dt_pipeline_stats stats;
        struct dt_pipeline_stats batch; /* the open batch's stored, duplicate and rejected
                                         * counts: into stats when it commits */
        struct pending pending[PIPELINE_BATCH_MAX];
        size_t n_pending;
        uint64_t batch_start;           /* CLOCK_MONOTONIC usec of the batch's first message */
        struct dt_error deferred;       /* why the last message was deferred */
        struct dt_error run_error;      /* why the last call failed the run, when said beyond
                                         * its errno; message "" otherwise */
        struct dt_rollup *rollup;       /* failure-report events under a flood */
        struct ahead ahead;
};

/* one message being processed */
struct job {
        struct dt_pipeline *p;
        const char *name;               /* Maildir name, byte-exact */
        char path[4096];                /* ROOT/new/NAME, for events (emit sanitises) */
        const char *outcome;            /* DT_STORE_AGGREGATE, _FAILURE, _DUPLICATE */
        int fatal;                      /* <0: the sink (store or emit) failed, not the input */
        int64_t attempts;               /* this one included */
        /* the aggregate report being replayed; meta stays valid until its end (worker.h) */
        const struct dt_worker_report *meta;
        const char *org, *rid, *domain;
        bool dup;                       /* already stored: its records are read, not stored */
        int64_t rowid;
        uint64_t pass, fail, own, idx;
        struct dt_pipeline_stats counts; /* this message's: into the batch's when its savepoint
                                          * is released, dropped when it is rolled back */
        char seed[1024];
        char sender_auth[DT_AUTHRES_MAX];       /* the local A-R verdict on the message */
};

/* u64 - decimal text of v in buf */
static const char *u64(uint64_t v, char *buf, size_t cap) {
        (void) snprintf(buf, cap, "%" PRIu64, v);
        return buf;
}

/* is_pass - a DMARC pass for the row: aligned DKIM or aligned SPF passed */
static bool is_pass(const struct dt_record *r) {
        return (r->dkim && strcmp(r->dkim, "pass") == 0) || (r->spf && strcmp(r->spf, "pass") == 0);
}

/* emit_record - the aggregate-record event of one row */
static int emit_record(struct job *j, const char *seed, const char *org, const char *rid,
                       const char *domain, const struct dt_record *r, bool own) {
        char count[24], msg[512];
        const struct dt_field f[] = {
                { DT_F_POLICY_DOMAIN, domain },
                { DT_F_REPORT_ORG, org },
                { DT_F_REPORT_ID, rid },
                { DT_F_SOURCE_IP, r->source_ip },
                { DT_F_MESSAGE_COUNT, u64(r->count, count, sizeof count) },
                { DT_F_DISPOSITION, r->disposition },
                { DT_F_DKIM_RESULT, r->dkim },
                { DT_F_DKIM_DOMAIN, r->n_auth_dkim ? r->auth_dkim[0].domain : NULL },
                { DT_F_SPF_RESULT, r->spf },
                { DT_F_SPF_DOMAIN, r->n_auth_spf ? r->auth_spf[0].domain : NULL },
                { DT_F_HEADER_FROM, r->header_from },
                { DT_F_ENVELOPE_FROM, r->envelope_from },
                { DT_F_OWN_HOST, own ? "true" : "false" },
        };

        (void) snprintf(msg, sizeof msg, "aggregate-record: %.100s %.60s count %s dkim=%.20s spf=%.20s "
                        "disposition=%.20s%s", domain, r->source_ip, count, r->dkim ? r->dkim : "-",
                        r->spf ? r->spf : "-", r->disposition ? r->disposition : "-",
                        own ? " [this host]" : "");
        return dt_emit(j->p->em, DT_EVENT_AGGREGATE_RECORD, seed, msg, f, ELEMENTSOF(f));
}

/* on_aggregate_begin - an aggregate report's metadata: dedupe it, or open its stored row */
static int on_aggregate_begin(void *userdata, const struct dt_worker_report *meta) {
        struct job *j = userdata;
        struct dt_pipeline *p = j->p;
        struct dt_store_report_key key;
        int r;

        j->meta = meta;
        j->org = meta->org ? meta->org : "";
        j->rid = meta->report_id;
        j->domain = meta->has_policy && meta->policy.domain ? meta->policy.domain : "";
        key = (struct dt_store_report_key) {
                .org = j->org, .report_id = j->rid, .domain = j->domain, .begin = meta->begin,
                .end = meta->end,
        };
        r = dt_store_aggregate_begin(p->store, &key, &j->rowid);
        if (r < 0)
                return j->fatal = r;
        if (r == 1) {
                /* already stored: no events. Its records are still read to the end: a copy that
                 * breaks halfway is rejected, as it would have been the first time */
                j->dup = true;
                return 0;
        }
        (void) snprintf(j->seed, sizeof j->seed, "%s\x1f%s\x1f%s\x1f%" PRId64 "\x1f%" PRId64, j->org,
                        j->rid, j->domain, meta->begin, meta->end);
        return 0;
}

/* on_record - store one row of the report, emitting its event when configured */
static int on_record(void *userdata, const struct dt_record *rec) {
        struct job *j = userdata;
        struct dt_pipeline *p = j->p;
        char rseed[1100];
        bool mine, ok;
        int r;

        if (j->dup)
                return 0;
        mine = dt_identity_has_address(p->id, rec->source_ip);
        ok = is_pass(rec);
        if (ok)
                j->pass += rec->count;
        else
                j->fail += rec->count;
        if (mine)
                j->own += rec->count;
        r = dt_store_aggregate_record(p->store, j->rowid, j->org, j->domain, rec->source_ip, rec->count,
                                      j->meta->begin, j->meta->end, ok, mine);
        if (r < 0)
                return j->fatal = r;
        if (p->cfg->records == DT_RECORDS_ALL || (p->cfg->records == DT_RECORDS_OWN && mine)) {
                (void) snprintf(rseed, sizeof rseed, "%s\x1f#%" PRIu64, j->seed, j->idx);
                r = emit_record(j, rseed, j->org, j->rid, j->domain, rec, mine);
                if (r < 0)
                        return j->fatal = r;
        }
        j->idx++;
        return 0;
}

/* on_aggregate_end - the report read to its end: its totals and the aggregate-report event */
static int on_aggregate_end(void *userdata, const struct dt_worker_report *fin) {
        struct job *j = userdata;
        struct dt_pipeline *p = j->p;
        const char *org = j->org, *rid = j->rid, *domain = j->domain;
        int64_t begin = j->meta->begin, end = j->meta->end;
        char b1[24], b2[24], b3[24], b4[24], b5[24], t1[32], t2[32], msg[640];
        int r;

        if (j->dup) {
                j->outcome = DT_STORE_DUPLICATE;
                j->counts.duplicate++;
                return 0;
        }
        r = dt_store_aggregate_end(p->store, j->rowid, fin->record_count, fin->message_count, j->pass,
                                   j->fail, j->own);
        if (r < 0)
                return j->fatal = r;
        if (p->det) {                   /* its days are evaluated at the next detection run */
                r = dt_detect_mark(p->det, domain, begin, end);
                if (r < 0)
                        return j->fatal = r;
        }

        const struct dt_field f[] = {
                { DT_F_POLICY_DOMAIN, domain },
                { DT_F_REPORT_ORG, org },
                { DT_F_SENDER_AUTH, j->sender_auth },
                { DT_F_REPORT_ID, rid },
                { DT_F_PERIOD_BEGIN, dt_utc(begin, DT_UTC_RFC3339, "", t1, sizeof t1) },
                { DT_F_PERIOD_END, dt_utc(end, DT_UTC_RFC3339, "", t2, sizeof t2) },
                { DT_F_RECORD_COUNT, u64(fin->record_count, b1, sizeof b1) },
                { DT_F_MESSAGE_COUNT, u64(fin->message_count, b2, sizeof b2) },
                { DT_F_PASS_COUNT, u64(j->pass, b3, sizeof b3) },
                { DT_F_FAIL_COUNT, u64(j->fail, b4, sizeof b4) },
                { DT_F_OWN_HOST_COUNT, u64(j->own, b5, sizeof b5) },
                { DT_F_INPUT_PATH, j->path },
        };
        (void) snprintf(msg, sizeof msg, "aggregate-report: %.100s from %.100s (report %.100s) %.10s: "
                        "%s records, %s messages, %s pass, %s fail, %s from this host", domain, org,
                        rid, t1, b1, b2, b3, b4, b5);
        r = dt_emit(p->em, DT_EVENT_AGGREGATE_REPORT, j->seed, msg, f, ELEMENTSOF(f));
        if (r < 0)
                return j->fatal = r;
        j->outcome = DT_STORE_AGGREGATE;
        j->counts.aggregate++;
        return 0;
}

/* join - the strings comma-joined into buf (cut at cap) */
static const char *join(char *const *v, size_t n, char *buf, size_t cap) {
        size_t i, len = 0;

        buf[0] = '\0';
        for (i = 0; i < n && len + 1 < cap; i++) {
                int k = snprintf(buf + len, cap - len, "%s%s", i ? "," : "", v[i]);
                if (k < 0 || (size_t) k >= cap - len)
                        break;
                len += (size_t) k;
        }
        return buf;
}

/* dt_attribution_message - the one-line MESSAGE of an attribution event, key facts in a fixed
 * order (some forwarders keep only MESSAGE) */
void dt_attribution_message(const struct dt_attribution *a, const char *domain, char *buf, size_t cap) {
        char who[300] = "", script[600] = "";

        if (a->uid >= 0)
                (void) snprintf(who, sizeof who, " to uid %lld (%.100s)", (long long) a->uid,
                                a->user ? a->user : "?");
        else if (a->sasl_username)
                (void) snprintf(who, sizeof who, " to SASL login %.200s", a->sasl_username);
        else if (a->client_ip)
                (void) snprintf(who, sizeof who, " to client %.100s [%.60s]",
                                a->client_host ? a->client_host : "?", a->client_ip);
        if (a->script_path) {
                if (a->script_line >= 0)
                        (void) snprintf(script, sizeof script, " script %.500s:%lld", a->script_path,
                                        (long long) a->script_line);
                else
                        (void) snprintf(script, sizeof script, " script %.500s", a->script_path);
        }
        (void) snprintf(buf, cap, "attribution: %.100s mail traced%s%s via %s %s on %.100s [%s]",
                        domain ? domain : "?", who, script, a->mta ? a->mta : "headers",
                        a->queue_id ? a->queue_id : "-", a->host ? a->host : "?",
                        dt_confidence_name(a->confidence));
}

/* emit_attribution - the attribution event of one traced failure report */
static int emit_attribution(struct job *j, const struct dt_attribution *a, const char *domain,
                            const char *seed) {
        struct dt_pipeline *p = j->p;
        char uid[24], line[24], msg[1200], aseed[200];
        const struct dt_field f[] = {
                { DT_F_POLICY_DOMAIN, domain },
                { DT_F_HOST_NAME, a->relayed ? a->host : dt_identity_hostname(p->id) },
                { DT_F_HOST_IP, a->relayed ? a->client_ip : NULL },
                { DT_F_MTA, a->mta },
                { DT_F_EMAIL_LOCAL_ID, a->queue_id },
                { DT_F_EMAIL_MESSAGE_ID, a->message_id },
                { DT_F_USER_ID, a->uid >= 0 ? u64((uint64_t) a->uid, uid, sizeof uid) : NULL },
                { DT_F_USER_NAME, a->user },
                { DT_F_SCRIPT_PATH, a->script_path },
                { DT_F_SCRIPT_LINE, a->script_line >= 0 ? u64((uint64_t) a->script_line, line, sizeof line) : NULL },
                { DT_F_CLIENT_IP, a->client_ip },
                { DT_F_SASL_USERNAME, a->sasl_username },
                { DT_F_CONFIDENCE, dt_confidence_name(a->confidence) },
                { DT_F_EVIDENCE, a->evidence_text },
        };

        dt_attribution_message(a, domain, msg, sizeof msg);
        (void) snprintf(aseed, sizeof aseed, "%s\x1f" "attribution", seed);
        return dt_emit(p->em, DT_EVENT_ATTRIBUTION, aseed, msg, f, ELEMENTSOF(f));
}

/* trace - tie a stored failure report to a local sender when the logs (or, for mail that left
 * from this host, the headers) allow it; never a guess about mail from elsewhere */
static int trace(struct job *j, const struct dt_failure *f, const char *domain, bool own,
                 const char *seed) {
        _cleanup_(dt_attribution_freep) struct dt_attribution *a = NULL;
        int64_t hint = f->has_arrival_date ? f->arrival_date :
                       f->original && f->original->has_date ? f->original->date : 0;
        int r;

        if (!j->p->idx || !f->original)
                return 0;
        r = dt_correlate_message(j->p->idx, f->original, hint, &a);
        if (r < 0)
                return j->fatal = r;
        if (!a || (a->confidence == DT_CONF_WEAK && !own))
                return 0;       /* headers alone, and the mail did not come from here */
        r = emit_attribution(j, a, domain, seed);
        if (r < 0)
                return j->fatal = r;
        j->counts.attributed++;
        return 0;
}

/* on_failure - store one failure report (key: its dedupe key, from the worker) and emit its
 * event */
static int on_failure(void *userdata, const struct dt_failure *f, const char *key) {
        struct job *j = userdata;
        struct dt_pipeline *p = j->p;
        const struct dt_headers *o = f->original;
        char rcpt[1024], arrival[32], date[32], hops[24], msg[768];
        const char *domain = f->reported_domain;
        bool own;
        int r;

        if (!domain && o && o->from) {
                const char *at = strrchr(o->from, '@');
                domain = at ? at + 1 : NULL;
        }
        r = dt_store_failure_add(p->store, key, domain ? domain : "", f->source_ip,
                                 f->has_arrival_date ? f->arrival_date : DT_TIME_MISSING,
                                 o ? o->message_id : NULL);
        if (r < 0)
                return j->fatal = r;
        if (r == 1) {
                j->outcome = DT_STORE_DUPLICATE;
                j->counts.duplicate++;
                return 0;
        }
        if (p->det) {
                r = dt_detect_mark_failure(p->det, domain ? domain : "",
                                           f->has_arrival_date ? f->arrival_date : DT_TIME_MISSING);
                if (r < 0)
                        return j->fatal = r;
        }
        own = dt_identity_has_address(p->id, f->source_ip);
        const struct dt_field fields[] = {
                { DT_F_FEEDBACK_TYPE, f->feedback_type },
                { DT_F_AUTH_FAILURE, f->auth_failure },
                { DT_F_SOURCE_IP, f->source_ip },
                { DT_F_REPORTED_DOMAIN, domain },
                { DT_F_ORIGINAL_MAIL_FROM, f->original_mail_from },
                { DT_F_ORIGINAL_RCPT_TO, f->n_original_rcpt_to ?
                        join(f->original_rcpt_to, f->n_original_rcpt_to, rcpt, sizeof rcpt) : NULL },
                { DT_F_ARRIVAL_DATE, f->has_arrival_date ? dt_utc(f->arrival_date, DT_UTC_RFC3339, "", arrival, sizeof arrival) : NULL },
                { DT_F_DELIVERY_RESULT, f->delivery_result },
                { DT_F_EMAIL_MESSAGE_ID, o ? o->message_id : NULL },
                { DT_F_EMAIL_FROM_ADDRESS, o ? o->from : NULL },
                { DT_F_EMAIL_TO_ADDRESS, o ? o->to : NULL },
                { DT_F_EMAIL_SUBJECT, o ? o->subject : NULL },
                { DT_F_EMAIL_DATE, o && o->has_date ? dt_utc(o->date, DT_UTC_RFC3339, "", date, sizeof date) : NULL },
                { DT_F_PHP_ORIGINATING_SCRIPT, o ? o->x_php_originating_script : NULL },
                { DT_F_X_MAILER, o ? o->x_mailer : NULL },
                { DT_F_RECEIVED_HOPS, o ? u64(o->n_received, hops, sizeof hops) : NULL },
                { DT_F_OWN_HOST, own ? "true" : "false" },
                { DT_F_INPUT_PATH, j->path },
                { DT_F_SENDER_AUTH, j->sender_auth },
        };
        (void) snprintf(msg, sizeof msg, "failure-report: %.100s %.40s from %.60s, Message-ID <%.200s>, "
                        "Subject '%.120s'%s", domain ? domain : "?",
                        f->feedback_type ? f->feedback_type : "non-arf", f->source_ip ? f->source_ip : "?",
                        o && o->message_id ? o->message_id : "?", o && o->subject ? o->subject : "",
                        own ? " [this host]" : "");
        /* under a flood the report is counted for the next failure-rollup instead */
        r = dt_rollup_admit(p->rollup, dt_mono_usec(), time(NULL), domain) ?
            dt_emit(p->em, DT_EVENT_FAILURE_REPORT, key, msg, fields, ELEMENTSOF(fields)) : 0;
        if (r < 0)
                return j->fatal = r;
        r = trace(j, f, domain, own, key);
        if (r < 0)
                return r;
        j->outcome = DT_STORE_FAILURE;
        j->counts.failure++;
        return 0;
}

/* reject - input-rejected event and "rejected" row; the move into .Rejected follows the commit */
static int reject(struct job *j, const struct dt_error *e) {
        struct dt_pipeline *p = j->p;
        bool move = p->cfg->maildir_mode == DT_MAILDIR_MOVE;
        char moved[4200] = "", off[24], line[24], msg[1024];
        const char *reason = e->reason ? e->reason : DT_R_IO;
        int r;

        if (move)
                (void) snprintf(moved, sizeof moved, "%s/cur/%s:2,S", DT_MAILDIR_REJECTED, j->name);
        const struct dt_field f[] = {
                { DT_F_INPUT_PATH, j->path },
                { DT_F_REASON, reason },
                { DT_F_ERROR_MESSAGE, e->message },
                { DT_F_OFFSET, e->line > 0 || e->offset < 0 ? NULL : u64((uint64_t) e->offset, off, sizeof off) },
                { DT_F_LINE, e->line > 0 ? u64((uint64_t) e->line, line, sizeof line) : NULL },
                { DT_F_MOVED_TO, move ? moved : NULL },
        };
        (void) snprintf(msg, sizeof msg, "input-rejected: %.300s: %.200s (%s)%s%.300s", j->path, e->message,
                        reason, move ? ", moved to " : "", moved);
        r = dt_emit(p->em, DT_EVENT_INPUT_REJECTED, j->name, msg, f, ELEMENTSOF(f));
        if (r < 0)
                return r;
        r = dt_store_message_done(p->store, j->name, DT_STORE_REJECTED, reason);
        if (r < 0)
                return r;
        j->counts.rejected++;
        return 0;
}

/* add_counts - the stored, duplicate and rejected counts of from into to */
static void add_counts(struct dt_pipeline_stats *to, const struct dt_pipeline_stats *from) {
        to->aggregate += from->aggregate;
        to->failure += from->failure;
        to->attributed += from->attributed;
        to->duplicate += from->duplicate;
        to->rejected += from->rejected;
}

/* queue_move - remember what to do with the file once the batch commits */
static int queue_move(struct dt_pipeline *p, enum dt_md_sub sub, const char *name, bool rejected) {
        struct pending *m;

        if (p->cfg->maildir_mode == DT_MAILDIR_KEEP || sub != DT_MD_NEW)
                return 0;
        if (p->n_pending == PIPELINE_BATCH_MAX)
                return -ENOBUFS;        /* cannot happen: the batch is flushed before it is full */
        m = &p->pending[p->n_pending];
        m->name = strdup(name);
        if (!m->name)
                return -ENOMEM;
        m->sub = sub;
        m->rejected = rejected;
        p->n_pending++;
        return 0;
}

int dt_pipeline_flush(struct dt_pipeline *p) {
        size_t i;
        int r = 0, k;

        if (dt_store_in_transaction(p->store)) {
                r = dt_faultpoint_fail("commit");
                if (r >= 0)
                        r = dt_store_commit(p->store);
                if (r < 0) {
                        /* nothing of the batch is stored: its files stay in new/ for a retry,
                         * which counts them then */
                        dt_store_rollback(p->store);
                        p->batch = (struct dt_pipeline_stats) { 0 };
                        goto out;
                }
                add_counts(&p->stats, &p->batch);
                p->batch = (struct dt_pipeline_stats) { 0 };
                dt_faultpoint("after-commit");
        }
        for (i = 0; i < p->n_pending; i++) {
                struct pending *m = &p->pending[i];

                /* XXX: when .Rejected/cur already holds the name, maildir.c adds a ".dtN" suffix
                 * and the event's MOVED_TO names the intended path, not the actual one. */
                k = m->rejected ? dt_maildir_reject(p->md, m->sub, m->name, NULL, 0) :
                                  dt_maildir_mark_seen(p->md, m->name);
                if (k < 0 && k != -ENOENT && r == 0)
                        r = k;  /* stored; the next run finishes the move (see the seen path) */
                dt_faultpoint("after-rename");
        }
out:
        for (i = 0; i < p->n_pending; i++)
                free(p->pending[i].name);
        p->n_pending = 0;
        if (r == 0)     /* a failed rollup keeps its window open for the next flush */
                (void) dt_rollup_emit(p->rollup, p->em, dt_mono_usec(), false);
        return r;
}

/* finish_seen - a message the store already has an outcome for: in keep mode that is all; in
 * move mode an earlier run committed it and stopped before the rename, so do only that */
static int finish_seen(struct dt_pipeline *p, enum dt_md_sub sub, const char *name,
                       const char *outcome) {
        int r;

        p->stats.skipped++;
        if (p->cfg->maildir_mode == DT_MAILDIR_KEEP || sub != DT_MD_NEW)
                return 0;
        if (p->n_pending > 0) {         /* it may be this batch's own: commit and move first */
                r = dt_pipeline_flush(p);
                if (r < 0)
                        return r;
        }
        if (strcmp(outcome, DT_STORE_REJECTED) == 0)
                r = dt_maildir_reject(p->md, sub, name, NULL, 0);
        else
                r = dt_maildir_mark_seen(p->md, name);
        return r == -ENOENT ? 0 : r;
}

/* worker_fault - the worker, not the input as such, failed: crashed, or passed its deadline */
static bool worker_fault(const struct dt_error *e) {
        return e->reason && (strcmp(e->reason, DT_R_WORKER_CRASH) == 0 || strcmp(e->reason, DT_R_TIMEOUT) == 0);
}

/* unreadable - the file could not be opened or read (HOSTILE.md F9): it may pass (permissions
 * fixed, a disk error retried), so it is counted and retried like a worker fault */
static bool unreadable(int read_error) {
        return read_error == -EACCES || read_error == -EPERM || read_error == -EIO;
}

/* rollback_to - drop what the message stored since its savepoint, and its counts */
static void rollback_to(struct job *j) {
        dt_store_rollback_to(j->p->store);
        j->counts = (struct dt_pipeline_stats) { 0 };
}

/* release - keep what the message stored in the batch, and count it with the batch */
static int release(struct job *j) {
        int r = dt_store_release(j->p->store);

        if (r < 0)
                return r;
        add_counts(&j->p->batch, &j->counts);
        return 0;
}

/* message_path - ROOT/new/NAME or ROOT/cur/NAME into buf (NAME alone when too long) */
static void message_path(const struct dt_pipeline *p, enum dt_md_sub sub, const char *name,
                         char *buf, size_t cap) {
        int n = snprintf(buf, cap, "%s/%s/%s", dt_maildir_root(p->md), sub == DT_MD_NEW ? "new" : "cur",
                         name);

        if (n < 0 || (size_t) n >= cap)
                (void) snprintf(buf, cap, "%s", name);
}

/* drop_ahead - forget the message read ahead (the worker too) */
static void drop_ahead(struct dt_pipeline *p) {
        if (!p->ahead.name)
                return;
        dt_worker_drop_ahead(p->worker);
        free(p->ahead.name);
        free(p->ahead.buf);
        p->ahead.name = p->ahead.buf = NULL;
}

/* read_ahead - read sub/name for the worker to parse next; anything unusual (done already, gone,
 * unreadable, out of memory) is left to its own turn, which looks again */
static void read_ahead(struct dt_pipeline *p, enum dt_md_sub sub, const char *name) {
        struct ahead *a = &p->ahead;
        struct dt_error err;
        char outcome[32];
        int r;

        if (a->name && a->sub == sub && strcmp(a->name, name) == 0)
                return;                 /* read already (this message is being retried) */
        drop_ahead(p);
        r = dt_store_message_get(p->store, name, outcome, sizeof outcome, NULL);
        if (r < 0 || (r > 0 && outcome[0]))
                return;                 /* done already (finish_seen's case), or no store */
        dt_error_clear(&err);
        if (dt_maildir_read(p->md, sub, name, p->cfg->limits.message_bytes, &a->buf, &a->len, &err) < 0)
                return;
        (void) snprintf(a->sender_auth, sizeof a->sender_auth, "%s", DT_AUTHRES_UNKNOWN);
        a->name = strdup(name);
        if (!a->name || dt_authres_verdict(a->buf, a->len, &p->cfg->limits,
                                           (const char *const *) p->cfg->trusted_authserv_ids,
                                           p->cfg->n_trusted_authserv_ids, a->sender_auth) < 0) {
                free(a->name);
                free(a->buf);
                a->name = a->buf = NULL;
                return;
        }
        a->sub = sub;
        message_path(p, sub, name, a->path, sizeof a->path);
        dt_faultpoint("after-read");
}

/* run_one - parse and record one message inside its savepoint; <0 only for a failure of the
 * run, DT_PIPELINE_DEFERRED when the worker failed and the message waits for another attempt */
static int run_one(struct dt_pipeline *p, struct job *j, enum dt_md_sub sub, const char *buf,
                   size_t len, int read_error, struct dt_error *err) {
        const struct dt_worker_sink sink = {
                .aggregate_begin = on_aggregate_begin, .record = on_record,
                .aggregate_end = on_aggregate_end, .failure = on_failure,
        };
        int r;

        r = dt_store_savepoint(p->store);
        if (r < 0)
                return r;
        const struct dt_worker_msg next = { p->ahead.buf, p->ahead.len, p->ahead.path };
        r = read_error < 0 ? read_error :
            dt_worker_parse_ahead(p->worker, buf, len, j->path, p->ahead.name ? &next : NULL,
                                  &p->cfg->limits, &sink, j, err);
        if (j->fatal < 0) {
                rollback_to(j);
                return j->fatal;
        }
        if (r < 0 && err->reason && strcmp(err->reason, DT_WORKER_R_NOT_STARTED) == 0) {
                rollback_to(j);
                p->run_error = *err;
                return r;               /* no worker could be started (fork, pipe): retry later */
        }
        if (r < 0 && (worker_fault(err) || unreadable(read_error))) {
                size_t n = strlen(err->message);
                int k;

                /* nothing the worker sent is kept; the attempt is counted in the batch */
                rollback_to(j);
                k = dt_store_message_attempt(p->store, j->name, &j->attempts);
                if (k < 0)
                        return k;
                if (j->attempts < PIPELINE_ATTEMPTS_MAX) {
                        /* the message stays in new/ for a later rescan */
                        p->deferred = *err;
                        p->stats.deferred++;
                        return DT_PIPELINE_DEFERRED;
                }
                (void) snprintf(err->message + n, sizeof err->message - n, " (attempt %" PRId64 " of %d)",
                                j->attempts, PIPELINE_ATTEMPTS_MAX);
                k = dt_store_savepoint(p->store);
                if (k >= 0)
                        k = reject(j, err);
                if (k < 0) {
                        rollback_to(j);
                        return k;
                }
                k = release(j);
                return k < 0 ? k : queue_move(p, sub, j->name, true);
        }
        if (r < 0) {
                /* the input was unusable: drop whatever the report stored before it broke */
                rollback_to(j);
                r = dt_store_savepoint(p->store);
                if (r >= 0)
                        r = reject(j, err);
                if (r < 0) {
                        rollback_to(j);
                        return r;
                }
                r = release(j);
                return r < 0 ? r : queue_move(p, sub, j->name, true);
        }
        r = dt_store_message_done(p->store, j->name, j->outcome ? j->outcome : DT_STORE_DUPLICATE, NULL);
        if (r < 0) {
                rollback_to(j);
                return r;
        }
        r = release(j);
        return r < 0 ? r : queue_move(p, sub, j->name, false);
}

int dt_pipeline_process_ahead(struct dt_pipeline *p, enum dt_md_sub sub, const char *name,
                              const char *next) {
        _cleanup_free_ char *buf = NULL;
        struct job j = { .p = p, .name = name, .sender_auth = DT_AUTHRES_UNKNOWN };
        char outcome[32];
        struct dt_error err;
        size_t len = 0;
        int r, k;

        message_path(p, sub, name, j.path, sizeof j.path);
        dt_error_clear(&err);
        dt_error_clear(&p->run_error);
        if (p->ahead.name && p->ahead.sub == sub && strcmp(p->ahead.name, name) == 0) {
                /* read last time, and maybe parsed by now; read_ahead found no outcome for it
                 * in the store, and only its own turn records one */
                buf = TAKE_PTR(p->ahead.buf);
                len = p->ahead.len;
                memcpy(j.sender_auth, p->ahead.sender_auth, sizeof j.sender_auth);
                p->ahead.name = mfree(p->ahead.name);
                r = 0;
        } else {
                drop_ahead(p);
                r = dt_store_message_get(p->store, name, outcome, sizeof outcome, NULL);
                if (r < 0)
                        return r;
                if (r > 0 && outcome[0])
                        return finish_seen(p, sub, name, outcome);
                r = dt_maildir_read(p->md, sub, name, p->cfg->limits.message_bytes, &buf, &len, &err);
                if (r == -ENOENT) {
                        p->stats.vanished++;
                        return 0;
                }
                if (r < 0 && dt_maildir_error_is_transient(r))
                        return r;
                k = r < 0 ? 0 : dt_authres_verdict(buf, len, &p->cfg->limits,
                                                   (const char *const *) p->cfg->trusted_authserv_ids,
                                                   p->cfg->n_trusted_authserv_ids, j.sender_auth);
                if (k < 0)
                        return k;
                dt_faultpoint("after-read");
        }
        if (next && strcmp(next, name) != 0)
                read_ahead(p, sub, next);

        if (!dt_store_in_transaction(p->store)) {
                k = dt_store_begin(p->store);
                if (k < 0)
                        return k;
                p->batch_start = dt_mono_usec();
        }
        k = run_one(p, &j, sub, buf, len, r, &err);
        if (k < 0) {
                /* the run cannot go on: keep what the batch did so far, and say so */
                (void) dt_pipeline_flush(p);
                return k;
        }
        if (k == DT_PIPELINE_DEFERRED)
                return k;
        dt_faultpoint("after-emit");
        if (p->n_pending >= PIPELINE_BATCH_MAX ||
            dt_mono_usec() - p->batch_start >= PIPELINE_BATCH_USEC)
                return dt_pipeline_flush(p);
        return 0;
}

int dt_pipeline_new(const struct dt_config *cfg, struct dt_store *store, struct dt_emitter *em,
                    struct dt_maildir *md, const struct dt_identity *id, struct dt_index *idx,
                    struct dt_detect *det, struct dt_pipeline **out) {
        struct dt_pipeline *p = calloc(1, sizeof *p);

        if (!p)
                return -ENOMEM;
        if (dt_rollup_new(dt_mono_usec(), &p->rollup) < 0 || dt_worker_new(NULL, &p->worker) < 0) {
                dt_rollup_free(p->rollup);
                free(p);
                return -ENOMEM;
        }
        p->cfg = cfg;
        p->store = store;
        p->em = em;
        p->md = md;
        p->id = id;
        p->idx = idx;
        p->det = det;
        *out = p;
        return 0;
}

const struct dt_pipeline_stats *dt_pipeline_stats(const struct dt_pipeline *p) {
        return &p->stats;
}

uint64_t dt_pipeline_suppressed(const struct dt_pipeline *p) {
        return dt_rollup_suppressed_total(p->rollup);
}

const struct dt_error *dt_pipeline_deferred_error(const struct dt_pipeline *p) {
        return &p->deferred;
}

const char *dt_pipeline_run_error(const struct dt_pipeline *p) {
        return p->run_error.message[0] ? p->run_error.message : NULL;
}

void dt_pipeline_set_config(struct dt_pipeline *p, const struct dt_config *cfg) {
        p->cfg = cfg;
}

struct dt_pipeline *dt_pipeline_free(struct dt_pipeline *p) {
        size_t i;

        if (!p)
                return NULL;
        /* an uncommitted batch is dropped: its files are still in new/ and run again */
        dt_store_rollback(p->store);
        for (i = 0; i < p->n_pending; i++)
                free(p->pending[i].name);
        drop_ahead(p);
        (void) dt_rollup_emit(p->rollup, p->em, dt_mono_usec(), true);    /* the last window */
        dt_rollup_free(p->rollup);
        dt_worker_free(p->worker);
        free(p);
        return NULL;
}
