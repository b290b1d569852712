/* logfile.h - follow one log file by name, through rotation, line by line
 *
 * A source is a path ("/var/log/mail.log"). On first start (no cursor) with DT_LOGFILE_CATCHUP,
 * its rotated siblings are read first, oldest first: PATH.N.gz ... PATH.2.gz, PATH.1 (plain or
 * .gz, N up to DT_LOGFILE_SIBLINGS_MAX), skipping those last modified before `since`. Then the
 * live file is followed as it grows. Rotation by rename (logrotate's default: the old file is
 * drained, then the new one read from its start) and by truncation (copytruncate: read again from
 * offset 0) are followed without losing or repeating lines, within the usual limits of
 * copytruncate (lines written between the copy and the truncation are gone for every reader).
 *
 * The cursor is a short string "INODE:OFFSET" naming the file and the byte just past the last
 * line returned; the caller stores it (in the same transaction as the index rows those lines
 * produced) and passes it back to dt_logfile_open() after a restart. A cursor whose inode is no
 * longer among PATH and its siblings resumes at the newest rotated sibling, then the live file.
 *
 * Lines longer than lim->log_line_bytes are skipped and counted, never returned. A last line
 * with no newline is returned when the file is known complete (a rotated sibling, a live file
 * that was rotated away, or any file with DT_LOGFILE_ONESHOT); otherwise it waits for its
 * newline. */
#ifndef DT_LOGFILE_H
#define DT_LOGFILE_H

#include <stddef.h>
#include <stdint.h>

#include "report/error.h"
#include "report/limits.h"
#include "report/macro.h"

#define DT_LOGFILE_SIBLINGS_MAX 9       /* PATH.1 .. PATH.9(.gz) */
#define DT_LOGFILE_CURSOR_MAX   48      /* bytes of a cursor string, NUL included */

#define DT_LOGFILE_CATCHUP      (1u << 0)       /* no cursor: read the rotated siblings too */
#define DT_LOGFILE_ONESHOT      (1u << 1)       /* scan: a final unterminated line is complete */

struct dt_logfile;

/* dt_logfile_open - set up reading path. cursor may be NULL or "" (first start). since: oldest
 * mtime (epoch seconds) a sibling may have to be read (retention window), 0 for all. path need
 * not exist yet (it is looked for again on each dt_logfile_next). Errors: -EINVAL (bad cursor,
 * reason FIELD_LIMIT), -ENOMEM, -ENAMETOOLONG. */
int dt_logfile_open(const char *path, const char *cursor, int64_t since, unsigned flags,
                    const struct dt_limits *lim, struct dt_logfile **out, struct dt_error *err);

/* dt_logfile_next - the next complete line, without its newline: 1 and *line, *len set (borrowed
 * until the next call; may hold NUL bytes), 0 when nothing more is there now, <0 on an I/O error
 * (-errno; the source stays usable, the caller may retry later). */
int dt_logfile_next(struct dt_logfile *lf, const char **line, size_t *len);

/* dt_logfile_cursor - "INODE:OFFSET" just past the last line returned, into buf. 0 or
 * -ENOBUFS; -ENOENT before any file was opened. */
int dt_logfile_cursor(const struct dt_logfile *lf, char *buf, size_t size);

/* counters */
uint64_t dt_logfile_too_long(const struct dt_logfile *lf);     /* lines skipped for length */
uint64_t dt_logfile_rotations(const struct dt_logfile *lf);    /* renames + truncations seen */
const char *dt_logfile_current(const struct dt_logfile *lf);   /* file being read, borrowed */

struct dt_logfile *dt_logfile_free(struct dt_logfile *lf);
DEFINE_FREEP(struct dt_logfile, dt_logfile_free)

#endif
