/* faultpoint.h - test-only crash and failure points: SIGKILL, a hang, or an error, at a named step
 *
 * DT_KILLPOINT=NAME or NAME:N in the environment makes the N-th pass (default the first) through
 * dt_faultpoint(NAME) raise SIGKILL, so a test can cut the per-message order of work at each step
 * and check that a rerun stores every report exactly once (HOSTILE.md F5). The variable is read
 * once, at the first call; unset (the production case) every call is two branches. Points:
 *   after-read    the message is read, before its parse starts
 *   after-emit    its events are out and its rows are in the open batch, before the commit
 *   after-commit  the batch is committed, before any of its files is renamed
 *   after-rename  after one file of a committed batch has been renamed (the rest are not)
 *
 * DT_HANGPOINT=NAME or NAME:N likewise makes that pass hang for good, as a deadlocked parent
 * would (HOSTILE.md F14): the loop stops, so do its watchdog pings, and only a signal that kills
 * ends it (systemd's watchdog sends SIGABRT). Same points as DT_KILLPOINT.
 *
 * DT_FAILPOINT=NAME or NAME:N likewise makes the N-th pass through dt_faultpoint_fail(NAME)
 * return -EIO, once, so a test can make a step fail the way a full disk would. Points:
 *   commit        the batch's commit (the pipeline rolls the batch back) */
#ifndef DT_FAULTPOINT_H
#define DT_FAULTPOINT_H

/* dt_faultpoint - SIGKILL this process when DT_KILLPOINT selects this pass through name, or
 * hang it for good when DT_HANGPOINT does */
void dt_faultpoint(const char *name);

/* dt_faultpoint_fail - -EIO when DT_FAILPOINT selects this pass through name, else 0 */
int dt_faultpoint_fail(const char *name);

#endif
