/* logahead.h - a log file's backlog parsed on a second thread while this one indexes it
 *
 * Indexing a busy host's log is about a quarter line parsing and three quarters SQLite. With a
 * backlog (a first start, or an agent that was stopped for a day) the lines are read and parsed
 * on a worker thread, in batches, while the calling thread hands the records of the previous
 * batch to the index: on two cores the catch-up takes the SQLite part's time only. Records
 * reach add() in file order, exactly as a single-threaded loop would give them, and the file
 * position after the call is that of the last line counted, so cursors stay exact. */
#ifndef DT_LOGAHEAD_H
#define DT_LOGAHEAD_H

#include <stdbool.h>
#include <stdint.h>

#include "correlate/logfile.h"
#include "correlate/logline.h"

struct dt_logahead_result {
        uint64_t lines;         /* lines read */
        uint64_t records;       /* of them, records handed to add() */
        bool drained;           /* the file has no complete line left now */
        int read_error;         /* -errno from dt_logfile_next, 0: none */
};

/* dt_logahead_run - read up to budget lines of lf, parse them as format on a second thread
 * (now: the reference time for syslog's missing year) and call add(rec, userdata) for each
 * record, in order, on this thread. Stops at the budget, at the end of the file, at a read error
 * (out->read_error; what came before it is handed over) or at the first add() < 0, which is
 * returned (the lines after it are read but not counted in out). 0, -ENOMEM or -EAGAIN (no
 * thread: the caller reads single-threaded) before anything is read, or add()'s error. */
int dt_logahead_run(struct dt_logfile *lf, enum dt_logsrc format, int64_t now,
                    const struct dt_limits *lim, uint64_t budget,
                    int (*add)(const struct dt_logrec *rec, void *userdata), void *userdata,
                    struct dt_logahead_result *out);

#endif
