/* index.h - the mail-log index, in the agent's SQLite store
 *
 * Tables (created if missing, all named log_*):
 *   log_msg   one row per (mta, queue id): Message-ID, submission (uid/user, client, SASL
 *             login, Exim U=/A=/P=), envelope sender, size, nrcpt, subject (Exim T=, Postfix
 *             header_checks), cwd (Exim +arguments), the queue id it was re-queued under
 *             (amavis "queued as", "forwarded as") and the one it came from, first/last seen.
 *   log_rcpt  recipients of a log_msg row with status and relay, at most DT_INDEX_RCPT_MAX each.
 *   log_php   PHP mail() calls: time, script, line, first recipient, To text, subject, From.
 * Rows are upserted as lines arrive (a queue id's lines come over minutes), so feeding the same
 * lines twice changes nothing. dt_index_add() merges a message's records in memory (at most
 * DT_INDEX_PENDING_MAX messages) and writes them when that table fills or at dt_index_flush():
 * the caller wraps batches of dt_index_add() in a transaction and calls dt_index_flush() before
 * its COMMIT (dt_index_discard() after a ROLLBACK); dt_index_begin/commit do both for callers
 * without a transaction of their own. Queries see only what was flushed. */
#ifndef DT_INDEX_H
#define DT_INDEX_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "correlate/logline.h"
#include "report/error.h"
#include "report/macro.h"

#define DT_INDEX_RCPT_MAX       100     /* recipients kept per message */
#define DT_INDEX_CWD_MAX        64      /* Exim cwd= lines remembered until their arrival line */
#define DT_INDEX_REUSE_SECONDS  (3 * 86400)     /* a queue id seen again after this is a new message */
#define DT_INDEX_PENDING_MAX    256     /* messages merged in memory before they are written */

struct dt_index;

/* dt_index_open - db is borrowed (the store's handle) and must outlive the index. Creates the
 * tables and prepares statements. php_window: seconds either side for matching a PHP call
 * (logs.php_window_seconds). Errors: -EIO with the SQLite message. */
int dt_index_open(sqlite3 *db, int php_window, struct dt_index **out, struct dt_error *err);

/* dt_index_add - upsert what one record says (merged in memory until the next flush; a full
 * table is written out first, which needs the caller's transaction open). 0, or -EIO. Records
 * of kinds the index does not keep are ignored (0). */
int dt_index_add(struct dt_index *idx, const struct dt_logrec *rec, struct dt_error *err);

/* dt_index_flush - write every pending message into the tables: before the caller's COMMIT.
 * 0, or -EIO (the pending messages are dropped: the caller rolls back and reads the lines
 * again). */
int dt_index_flush(struct dt_index *idx, struct dt_error *err);

/* dt_index_discard - drop the pending messages (after a ROLLBACK: their lines are read again) */
void dt_index_discard(struct dt_index *idx);

/* dt_index_prune - delete everything last seen before `before` (epoch seconds); *n_deleted
 * (may be NULL) gets the rows removed. */
int dt_index_prune(struct dt_index *idx, int64_t before, uint64_t *n_deleted, struct dt_error *err);

/* dt_index_newest - the time of the newest indexed line no later than not_after (epoch
 * seconds; 0 when there is none) */
int dt_index_newest(struct dt_index *idx, int64_t not_after, int64_t *out, struct dt_error *err);

/* convenience transactions for callers (tests, one-shot loads); commit flushes first */
int dt_index_begin(struct dt_index *idx);
int dt_index_commit(struct dt_index *idx);

/* dt_index_sent_count - how many messages this host's MTA log says it sent in [from, to) with a
 * sender in domain (case-insensitive; subdomains count): the envelope sender, or the From header
 * the PHP mail() call that made the message gave (matched by time within the php window and
 * recipient). Sent means submitted here (a local uid, a SASL login) or relayed out for another
 * host; inbound mail, bounces to here and content-filter re-queues are not counted. 0 and *n,
 * or -EINVAL / -EIO. */
int dt_index_sent_count(struct dt_index *idx, const char *domain, int64_t from, int64_t to,
                        uint64_t *n);

/* dt_index_sender_detail - for a window attribution: the MTA instance ("postfix", "exim", ...)
 * that logged most of the sender's messages first seen in [from, to) (the sender is uid when
 * >= 0, else sasl_username, else client_ip), into mta ("" when none; cut to cap), and the PHP
 * script line most of script's mail() calls in the window came from (-1 when none or script is
 * NULL). 0, or -EINVAL / -EIO. */
int dt_index_sender_detail(struct dt_index *idx, int64_t from, int64_t to, int64_t uid,
                           const char *sasl_username, const char *client_ip, const char *script,
                           char *mta, size_t cap, int64_t *script_line);

/* dt_index_stmt - the statement for sql, prepared on first use and kept for the index's life:
 * sql must be a string literal (the cache is keyed by its address; at most a few call sites).
 * Returned reset with its bindings cleared; borrowed: the caller resets it when done (to end
 * its read) and never finalizes it. NULL when it does not prepare or the cache is full. */
sqlite3_stmt *dt_index_stmt(struct dt_index *idx, const char *sql);

sqlite3 *dt_index_db(const struct dt_index *idx);       /* borrowed */
int dt_index_php_window(const struct dt_index *idx);

struct dt_index *dt_index_free(struct dt_index *idx);
DEFINE_FREEP(struct dt_index, dt_index_free)

#endif
