/* faultpoint.h - test-only crash points: the process kills itself (SIGKILL) at a named step
 *
 * DT_KILLPOINT=NAME or NAME:N in the environment makes the N-th pass (default the first) through
 * dt_faultpoint(NAME) raise SIGKILL, so a test can cut the per-message order of work at each step
 * and check that a rerun stores every report exactly once (HOSTILE.md F5). The variable is read
 * once, at the first call; unset (the production case) every call is a single branch. Points:
 *   after-read    the message is read, before its parse starts
 *   after-emit    its events are out and its rows are in the open batch, before the commit
 *   after-commit  the batch is committed, before any of its files is renamed
 *   after-rename  after one file of a committed batch has been renamed (the rest are not) */
#ifndef DT_FAULTPOINT_H
#define DT_FAULTPOINT_H

/* dt_faultpoint - SIGKILL this process when DT_KILLPOINT selects this pass through name */
void dt_faultpoint(const char *name);

#endif
