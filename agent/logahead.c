/* logahead.c - a log file's backlog parsed on a second thread while this one indexes it
 *
 * SLOTS batches of BATCH_RECORDS records go round between the two threads: the reader fills a
 * free slot (reading and parsing lines until the slot holds BATCH_RECORDS records, the budget is
 * used, the file ends or a read fails) and marks it full; this thread takes full slots in order,
 * hands their records to add() and frees them. The reader touches only lf and its slot, this
 * thread only the index, so one mutex guards just the slot states. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "agent/logahead.h"

#define SLOTS 4
#define BATCH_RECORDS 128       /* 4 x 128 records of 6.6 KB: 3.4 MB while a backlog is read */

struct slot {
        struct dt_logrec rec[BATCH_RECORDS];
        size_t n;               /* records */
        uint64_t lines;         /* lines read into this slot */
        bool full;              /* the reader is done with it */
        bool last;              /* nothing follows: budget, end of file or read error */
        bool drained;
        int read_error;
};

struct ahead {
        pthread_mutex_t mu;
        pthread_cond_t cv;
        struct slot slot[SLOTS];
        bool stop;              /* this thread gave up (add() failed): the reader ends */
        struct dt_logfile *lf;
        enum dt_logsrc format;
        int64_t now;
        const struct dt_limits *lim;
        uint64_t budget;
};

/* fill - read and parse into s until it is full of records or reading ends; lines counts down
 * the budget left */
static void fill(struct ahead *a, struct slot *s, uint64_t *left) {
        const char *line;
        size_t len;
        int r;

        s->n = 0;
        s->lines = 0;
        s->last = s->drained = false;
        s->read_error = 0;
        while (s->n < BATCH_RECORDS) {
                if (*left == 0) {
                        s->last = true;
                        return;
                }
                r = dt_logfile_next(a->lf, &line, &len);
                if (r <= 0) {
                        s->last = true;
                        s->drained = r == 0;
                        s->read_error = r < 0 ? r : 0;
                        return;
                }
                (*left)--;
                s->lines++;
                if (dt_logline_parse(line, len, a->format, a->now, a->lim, &s->rec[s->n], NULL) ==
                    DT_LC_RECORD)
                        s->n++;
        }
}

static void *reader(void *userdata) {
        struct ahead *a = userdata;
        uint64_t left = a->budget;
        unsigned i = 0;
        bool last = false;

        while (!last) {
                struct slot *s = &a->slot[i];
                bool stop;

                pthread_mutex_lock(&a->mu);
                while (s->full && !a->stop)
                        pthread_cond_wait(&a->cv, &a->mu);
                stop = a->stop;
                pthread_mutex_unlock(&a->mu);
                if (stop)
                        break;
                fill(a, s, &left);
                last = s->last;
                pthread_mutex_lock(&a->mu);
                s->full = true;
                pthread_cond_broadcast(&a->cv);
                pthread_mutex_unlock(&a->mu);
                i = (i + 1) % SLOTS;
        }
        return NULL;
}

int dt_logahead_run(struct dt_logfile *lf, enum dt_logsrc format, int64_t now,
                    const struct dt_limits *lim, uint64_t budget,
                    int (*add)(const struct dt_logrec *rec, void *userdata), void *userdata,
                    struct dt_logahead_result *out) {
        struct ahead *a;
        pthread_t th;
        unsigned i = 0;
        bool last = false;
        int r = 0;

        *out = (struct dt_logahead_result) { 0 };
        a = calloc(1, sizeof *a);
        if (!a)
                return -ENOMEM;
        a->lf = lf;
        a->format = format;
        a->now = now;
        a->lim = lim;
        a->budget = budget;
        if (pthread_mutex_init(&a->mu, NULL) != 0) {
                free(a);
                return -EAGAIN;
        }
        if (pthread_cond_init(&a->cv, NULL) != 0 || pthread_create(&th, NULL, reader, a) != 0) {
                pthread_mutex_destroy(&a->mu);
                free(a);
                return -EAGAIN;
        }
        while (!last) {
                struct slot *s = &a->slot[i];

                pthread_mutex_lock(&a->mu);
                while (!s->full)
                        pthread_cond_wait(&a->cv, &a->mu);
                pthread_mutex_unlock(&a->mu);
                for (size_t k = 0; k < s->n && r >= 0; k++) {
                        r = add(&s->rec[k], userdata);
                        if (r >= 0)
                                out->records++;
                }
                if (r < 0)
                        break;
                out->lines += s->lines;
                last = s->last;
                if (last) {
                        out->drained = s->drained;
                        out->read_error = s->read_error;
                }
                pthread_mutex_lock(&a->mu);
                s->full = false;
                pthread_cond_broadcast(&a->cv);
                pthread_mutex_unlock(&a->mu);
                i = (i + 1) % SLOTS;
        }
        pthread_mutex_lock(&a->mu);
        a->stop = true;
        pthread_cond_broadcast(&a->cv);
        pthread_mutex_unlock(&a->mu);
        (void) pthread_join(th, NULL);
        pthread_cond_destroy(&a->cv);
        pthread_mutex_destroy(&a->mu);
        free(a);
        return r;
}
