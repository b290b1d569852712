/* logs.h - this host's mail and PHP logs, read into the log index
 *
 * One struct dt_logs holds every source the configuration names: files in logs.postfix,
 * logs.exim and logs.php_mail (followed through rotation by correlate/logfile.c), and "journal"
 * entries (sd_journal, matching the mail facility for Postfix and the PHP syslog identifiers).
 * dt_logs_catch_up() reads what is new, a bounded number of lines at a time, into the index and
 * saves each source's cursor in the store in the same transaction as the index rows, so after a
 * crash no line is indexed twice and none is skipped. */
#ifndef DT_LOGS_H
#define DT_LOGS_H

#include <stdbool.h>
#include <stdint.h>

#include "agent/store.h"
#include "conf/config.h"
#include "correlate/index.h"

struct dt_logs_stats {
        uint64_t lines;         /* read */
        uint64_t records;       /* indexed */
        uint64_t skipped;       /* malformed, too long, or of no interest */
        unsigned unavailable;   /* sources that could not be opened (unreadable, missing) */
        uint64_t pruned;        /* index rows dropped by retention (logs.retention_days) */
};

struct dt_logs;

/* dt_logs_open - open every configured source, resuming at the cursors in the store. A source
 * that cannot be opened (no permission, missing file, no journal) is counted as unavailable and
 * retried at each catch-up; it never fails the whole. oneshot: `scan` (a final line without a
 * newline counts). */
int dt_logs_open(const struct dt_config *cfg, struct dt_store *store, struct dt_index *idx,
                 bool oneshot, struct dt_logs **out);

/* dt_logs_catch_up - index what the sources have now, at most max_lines lines (0: no limit);
 * returns 1 when more is waiting, 0 when every readable source is drained, <0 on a store error
 * (nothing of the last chunk committed). A source that cannot be opened or read is skipped and
 * counted in stats.unavailable; the others are read all the same. Once drained, rows older
 * than logs.retention_days are pruned (at most hourly). The store must have no transaction
 * open. */
int dt_logs_catch_up(struct dt_logs *l, uint64_t max_lines);

/* dt_logs_stats - counts so far, borrowed */
const struct dt_logs_stats *dt_logs_stats(const struct dt_logs *l);

/* dt_logs_count - configured sources */
unsigned dt_logs_count(const struct dt_logs *l);

/* dt_logs_source_error - source i (0 .. count-1) of the last catch-up: 0 when it was read, else
 * the -errno that made it unavailable (it could not be opened or read, and was skipped);
 * *name: its path, or "journal:mail" / "journal:php" (borrowed). -EINVAL for i out of range. */
int dt_logs_source_error(const struct dt_logs *l, unsigned i, const char **name);

struct dt_logs *dt_logs_free(struct dt_logs *l);
DEFINE_FREEP(struct dt_logs, dt_logs_free)

#endif
