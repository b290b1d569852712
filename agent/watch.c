/* watch.c - inotify on new/ through libinotifytools, drained in bounded batches
 *
 * inotifytools_next_events(timeout, 1) select()s on the library's inotify fd for at most
 * timeout whole seconds (0 = just look, -1 = forever: never used here) and hands back one event
 * at a time from its internal buffer; a NULL with inotifytools_error() == 0 is a timeout,
 * EINTR a signal. We wait once, then drain with timeout 0 until the queue is empty or the batch
 * is full. num_events stays 1: the library busy-waits (FIONREAD in a loop) until that many
 * events are queued.
 *
 * SECURITY: event names are entry names in new/, chosen by whoever delivers mail. They are
 * copied with the length the kernel gives (strnlen within ev->len) and handed on byte-exact;
 * they are never used here except to skip dot-files. Never logs. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <inotifytools/inotifytools.h>

#include "agent/maildir.h"
#include "agent/watch.h"

#define WATCH_MASK (IN_MOVED_TO | IN_CREATE | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)
#define LOST_MASK (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF | IN_UNMOUNT)

static bool watch_open;         /* mirrors the library's own process-wide state */

/* set_inotify_cloexec - mark inotify fds close-on-exec. The library creates its fd with plain
 * inotify_init() and never shows it to us, so find it in /proc/self/fd; without /proc the fd
 * just stays inheritable (XXX), which costs a child an fd, nothing more. */
static void set_inotify_cloexec(void) {
        static const char want[] = "anon_inode:inotify";
        char path[64], link[sizeof want + 1];
        struct dirent *de;
        DIR *d;

        d = opendir("/proc/self/fd");
        if (!d)
                return;
        while ((de = readdir(d))) {
                ssize_t k;
                int fd, n;

                if (de->d_name[0] < '0' || de->d_name[0] > '9')
                        continue;
                n = snprintf(path, sizeof path, "/proc/self/fd/%s", de->d_name);
                if (n < 0 || (size_t) n >= sizeof path)
                        continue;
                k = readlink(path, link, sizeof link);
                if (k != (ssize_t) sizeof want - 1 || memcmp(link, want, sizeof want - 1) != 0)
                        continue;
                fd = atoi(de->d_name);  /* digits only, from the kernel */
                n = fcntl(fd, F_GETFD);
                if (n >= 0)
                        (void) fcntl(fd, F_SETFD, n | FD_CLOEXEC);
        }
        (void) closedir(d);
}

int dt_watch_open(const char *new_dir) {
        int r;

        if (!new_dir || !*new_dir)
                return -EINVAL;
        if (watch_open)
                return -EBUSY;
        if (!inotifytools_initialize()) {
                r = inotifytools_error();
                return r > 0 ? -r : -EIO;
        }
        set_inotify_cloexec();
        if (!inotifytools_watch_file(new_dir, WATCH_MASK)) {
                r = inotifytools_error();
                inotifytools_cleanup();
                return r > 0 ? -r : -EIO;
        }
        watch_open = true;
        return 0;
}

void dt_watch_close(void) {
        if (!watch_open)
                return;
        inotifytools_cleanup();
        watch_open = false;
}

/* add_name - append a copy of the event's name (len bytes at most) to the vector */
static int add_name(char ***v, size_t *n, size_t *cap, const char *name, size_t len) {
        if (*n == *cap) {
                size_t ncap = *cap ? *cap * 2 : 16;
                char **nv;

                if (ncap > DT_WATCH_BATCH_MAX)
                        ncap = DT_WATCH_BATCH_MAX;
                nv = realloc(*v, ncap * sizeof **v);
                if (!nv)
                        return -ENOMEM;
                *v = nv;
                *cap = ncap;
        }
        (*v)[*n] = strndup(name, len);
        if (!(*v)[*n])
                return -ENOMEM;
        (*n)++;
        return 0;
}

int dt_watch_wait(int timeout_ms, char ***names, size_t *n, bool *overflow) {
        struct inotify_event *ev;
        char **v = NULL;
        size_t nv = 0, cap = 0;
        bool ovf = false, lost = false;
        long secs = timeout_ms <= 0 ? 0 :
                    timeout_ms >= DT_WATCH_WAIT_MAX_MS ? DT_WATCH_WAIT_MAX_MS / 1000 :
                    ((long) timeout_ms + 999) / 1000;
        int r;

        if (!names || !n || !overflow)
                return -EINVAL;
        if (!watch_open)
                return -EBADF;

        ev = inotifytools_next_events(secs, 1);
        if (!ev) {
                r = inotifytools_error();
                if (r != 0 && r != EINTR)
                        return -r;
                *names = NULL;
                *n = 0;
                *overflow = false;
                return 0;
        }
        /* Count events, not names, so a flood of skipped ones (dot-files) still ends the batch. */
        for (size_t seen = 1;; seen++) {
                if (ev->mask & IN_Q_OVERFLOW)
                        ovf = true;
                if (ev->mask & LOST_MASK)
                        lost = true;
                if ((ev->mask & (IN_MOVED_TO | IN_CREATE)) && ev->len > 0) {
                        size_t len = strnlen(ev->name, ev->len);

                        if (len > 0 && ev->name[0] != '.') {
                                r = add_name(&v, &nv, &cap, ev->name, len);
                                if (r < 0) {
                                        (void) dt_maildir_names_free(v, nv);
                                        return r;
                                }
                        }
                }
                if (seen >= DT_WATCH_BATCH_MAX)
                        break;  /* the rest stays queued for the next call */
                ev = inotifytools_next_events(0, 1);
                if (!ev)
                        break;  /* queue empty (an error here shows again next call) */
        }
        *names = v;
        *n = nv;
        *overflow = ovf;
        return lost ? DT_WATCH_LOST : 0;
}
