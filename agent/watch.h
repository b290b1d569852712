/* watch.h - wait for messages arriving in a Maildir's new/ (inotify, through libinotifytools)
 *
 * PROCESS-WIDE STATE: libinotifytools keeps one inotify instance, its watch table and its event
 * buffer in static variables, and exposes no file descriptor to poll. Hence this interface has
 * no handle: one watcher per process, used from one thread only (the main loop). dt_watch_open()
 * starts it, dt_watch_close() ends it and frees the library's state; a later dt_watch_open()
 * starts afresh (how the caller re-adds a lost watch). Nothing else in the process may call
 * inotifytools_* functions.
 *
 * Waits are bounded (at most DT_WATCH_WAIT_MAX_MS; the library's timeout is in whole seconds) and
 * a signal ends one early, so the caller's loop keeps serving signals, the watchdog and its
 * timers while an idle agent wakes only a few times a minute; events are not lost between waits
 * (they queue in the kernel, up to fs.inotify.max_queued_events, then IN_Q_OVERFLOW).
 *
 * Reported: names that appeared in new/ by rename (IN_MOVED_TO: the Maildir delivery) or by
 * creation (IN_CREATE: link(2) delivery, and also anything else created there, e.g. a FIFO or
 * a directory, which the caller then rejects). Dot-files are not reported (Maildir spec).
 * XXX: a writer that breaks the protocol and writes straight into new/ is reported at creation,
 * possibly before its data is written. */
#ifndef DT_WATCH_H
#define DT_WATCH_H

#include <stdbool.h>
#include <stddef.h>

#define DT_WATCH_BATCH_MAX 4096 /* names returned by one dt_watch_wait() call */
#define DT_WATCH_WAIT_MAX_MS 60000 /* longest single wait */
#define DT_WATCH_LOST 1         /* dt_watch_wait(): the watched directory went away */

/* dt_watch_open - start watching new_dir (a directory). -EBUSY when a watch is already open;
 * otherwise -errno from inotify (-EMFILE: too many inotify instances, -ENOSPC: max_user_watches
 * reached, -ENOENT, -ENOTDIR). */
int dt_watch_open(const char *new_dir);

/* dt_watch_wait - wait up to timeout_ms for events (0: do not wait; anything else is rounded up
 * to whole seconds, the library's unit, and capped at DT_WATCH_WAIT_MAX_MS), then take whatever
 * else is already queued, up to DT_WATCH_BATCH_MAX names; the rest stays queued for the next call.
 * On success *names (free with dt_maildir_names_free(); NULL when *n is 0), *n and *overflow
 * (true after IN_Q_OVERFLOW: events were dropped, rescan new/) are set, and the return is 0, or
 * DT_WATCH_LOST when the directory was deleted, moved or unmounted (the watch is gone: rescan,
 * dt_watch_close(), then retry dt_watch_open() with backoff). A signal ends the wait early with
 * 0 and no names. <0 on error: -EBADF when no watch is open, -ENOMEM, -errno from read. */
int dt_watch_wait(int timeout_ms, char ***names, size_t *n, bool *overflow);

/* dt_watch_close - remove the watch and free the library's state; safe when none is open */
void dt_watch_close(void);

#endif
