/* maildir.c - list, read and move Maildir messages through fixed directory fds
 *
 * dt_maildir_open() opens the root and its new/ and cur/ once; everything after is openat(),
 * fstatat() and renameat2() relative to those fds. A message is read only after its type and
 * size are known (fstatat before the open, fstat on the fd after it), into one buffer of exactly
 * the size fstat gave; a file that changes size meanwhile is refused rather than half-read.
 * Moves never replace an existing entry (RENAME_NOREPLACE); moves into .Rejected fsync the
 * destination directory (a move into cur/ does not: see dt_maildir_mark_seen),
 * since the store has already committed the message when we move it.
 *
 * SECURITY: every entry name in new/ and cur/ comes from whoever can deliver mail (and, with a
 * shared mailbox, from any local writer). Names are used byte-exact but only as a single path
 * component under our own directory fds: '/' and leading dots are refused, and messages and
 * errors from here never contain a name. Entries may be FIFOs, devices, directories or symlinks
 * to secrets: they are never opened for reading unless fstatat says regular, the open carries
 * O_NOFOLLOW|O_NONBLOCK|O_NOCTTY, and S_ISREG is checked again on the fd, so a swap between the
 * two checks still cannot make us follow a link or block on a FIFO. Never logs. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE     /* renameat2, RENAME_NOREPLACE */
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/maildir.h"

#define MOVE_TRIES 99           /* ".dt1" ... ".dt99" when the destination name is taken */
#define MOVE_SUFFIX_MAX 5       /* strlen(".dt99") */
#define SEEN_INFO_MAX 4         /* strlen(":2,S"): the most the seen flag adds to a name */
#define REJECTED_CUR DT_MAILDIR_REJECTED "/cur/"

struct dt_maildir {
        char *root;
        int root_fd;
        int dfd[_DT_MD_SUB_MAX];        /* new/, cur/ */
};

/* closep - close an fd held in an int, if any (cleanup helper) */
static inline void closep(int *fd) {
        if (*fd >= 0)
                (void) close(*fd);
}

/* closedirp - closedir a DIR *, if any (cleanup helper) */
static inline void closedirp(DIR **d) {
        if (*d)
                (void) closedir(*d);
}

/* sub_ok - whether which names new/ or cur/ */
static bool sub_ok(enum dt_md_sub which) {
        return which >= 0 && which < _DT_MD_SUB_MAX;
}

/* name_ok - whether name is one plain entry name we handle (see maildir.h) */
static bool name_ok(const char *name) {
        if (!name || name[0] == '\0' || name[0] == '.')
                return false;
        if (strchr(name, '/'))
                return false;
        return strnlen(name, NAME_MAX + 1) <= NAME_MAX;
}

/* check_dir - open root/sub as a directory (fd returned through out_fd when not NULL) */
static int check_dir(int root_fd, const char *root, const char *sub, int *out_fd,
                     struct dt_error *err) {
        int fd, r;

        fd = openat(root_fd, sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
                r = -errno;
                if (r == -ENOENT)
                        return dt_error_set(err, r, DT_R_IO, -1, "'%s/%s' is missing", root, sub);
                if (r == -ENOTDIR)
                        return dt_error_set(err, r, DT_R_IO, -1, "'%s/%s' is not a directory",
                                            root, sub);
                return dt_error_set(err, r, DT_R_IO, -1, "cannot open '%s/%s': %s", root, sub,
                                    strerror(-r));
        }
        if (out_fd)
                *out_fd = fd;
        else
                (void) close(fd);
        return 0;
}

int dt_maildir_open(const char *root, struct dt_maildir **out, struct dt_error *err) {
        _cleanup_(dt_maildir_freep) struct dt_maildir *md = NULL;
        int r;

        if (!root || !*root || !out)
                return dt_error_set(err, -EINVAL, DT_R_IO, -1, "no Maildir path given");
        md = calloc(1, sizeof *md);
        if (!md)
                return dt_error_set(err, -ENOMEM, DT_R_NOMEM, -1, "out of memory");
        md->root_fd = -1;
        for (size_t i = 0; i < ELEMENTSOF(md->dfd); i++)
                md->dfd[i] = -1;
        md->root = strdup(root);
        if (!md->root)
                return dt_error_set(err, -ENOMEM, DT_R_NOMEM, -1, "out of memory");

        /* The root is the administrator's configured path: following a symlink there is fine. */
        md->root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (md->root_fd < 0) {
                r = -errno;
                return dt_error_set(err, r, DT_R_IO, -1, "cannot open Maildir '%s': %s", root,
                                    strerror(-r));
        }
        r = check_dir(md->root_fd, root, "new", &md->dfd[DT_MD_NEW], err);
        if (r < 0)
                return r;
        r = check_dir(md->root_fd, root, "cur", &md->dfd[DT_MD_CUR], err);
        if (r < 0)
                return r;
        r = check_dir(md->root_fd, root, "tmp", NULL, err);     /* exists; never read */
        if (r < 0)
                return r;
        *out = TAKE_PTR(md);
        return 0;
}

struct dt_maildir *dt_maildir_free(struct dt_maildir *md) {
        if (!md)
                return NULL;
        for (size_t i = 0; i < ELEMENTSOF(md->dfd); i++)
                closep(&md->dfd[i]);
        closep(&md->root_fd);
        free(md->root);
        free(md);
        return NULL;
}

int dt_maildir_reopen(struct dt_maildir *md, struct dt_error *err) {
        _cleanup_(dt_maildir_freep) struct dt_maildir *fresh = NULL;
        int r, fd;

        if (!md)
                return -EINVAL;
        r = dt_maildir_open(md->root, &fresh, err);
        if (r < 0)
                return r;
        /* swap the fds: the old ones are closed with fresh */
        fd = md->root_fd;
        md->root_fd = fresh->root_fd;
        fresh->root_fd = fd;
        for (size_t i = 0; i < ELEMENTSOF(md->dfd); i++) {
                fd = md->dfd[i];
                md->dfd[i] = fresh->dfd[i];
                fresh->dfd[i] = fd;
        }
        return 0;
}

bool dt_maildir_moved(const struct dt_maildir *md) {
        char path[PATH_MAX];
        struct stat held, now;
        int n;

        n = snprintf(path, sizeof path, "%s/new", md->root);
        if (n < 0 || (size_t) n >= sizeof path)
                return true;
        if (fstat(md->dfd[DT_MD_NEW], &held) < 0 || stat(path, &now) < 0)
                return true;
        return held.st_dev != now.st_dev || held.st_ino != now.st_ino;
}

const char *dt_maildir_root(const struct dt_maildir *md) {
        return md ? md->root : NULL;
}

char **dt_maildir_names_free(char **names, size_t n) {
        if (!names)
                return NULL;
        for (size_t i = 0; i < n; i++)
                free(names[i]);
        free(names);
        return NULL;
}

/* cmp_names - qsort comparator: plain strcmp order, so listings are deterministic */
static int cmp_names(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* open_sub - a DIR of its own on a sub-folder: readdir's position must not be shared with
 * md->dfd. 0 or -errno. */
static int open_sub(struct dt_maildir *md, enum dt_md_sub which, DIR **out) {
        int fd = openat(md->dfd[which], ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), r;

        if (fd < 0)
                return -errno;
        *out = fdopendir(fd);
        if (!*out) {
                r = -errno;
                (void) close(fd);
                return r;
        }
        return 0;
}

/* next_name - the next entry of d that is not ".", ".." or a dot-file (Maildir spec): 1 and
 * *name (valid until the next call), 0 at the end, or -errno */
static int next_name(DIR *d, const char **name) {
        for (;;) {
                struct dirent *de;

                errno = 0;
                de = readdir(d);
                if (!de)
                        return errno != 0 ? -errno : 0;
                if (de->d_name[0] != '.') {
                        *name = de->d_name;
                        return 1;
                }
        }
}

int dt_maildir_count(struct dt_maildir *md, enum dt_md_sub which, uint64_t *out_n) {
        _cleanup_(closedirp) DIR *d = NULL;
        const char *name = NULL;
        uint64_t n = 0;
        int r;

        if (!md || !sub_ok(which) || !out_n)
                return -EINVAL;
        r = open_sub(md, which, &d);
        if (r < 0)
                return r;
        while ((r = next_name(d, &name)) > 0)
                n++;
        if (r < 0)
                return r;
        *out_n = n;
        return 0;
}

int dt_maildir_list(struct dt_maildir *md, enum dt_md_sub which, char ***out_names,
                    size_t *out_n) {
        _cleanup_(closedirp) DIR *d = NULL;
        char **names = NULL;
        size_t n = 0, cap = 0;
        const char *name = NULL;
        int r;

        if (!md || !sub_ok(which) || !out_names || !out_n)
                return -EINVAL;
        r = open_sub(md, which, &d);
        if (r < 0)
                return r;
        while ((r = next_name(d, &name)) > 0) {
                if (n == DT_MAILDIR_LIST_MAX) {
                        r = 1;                  /* more left: the caller lists again later */
                        break;
                }
                if (n == cap) {
                        size_t ncap = cap ? cap * 2 : 64;
                        char **nn;

                        if (ncap > DT_MAILDIR_LIST_MAX)
                                ncap = DT_MAILDIR_LIST_MAX;
                        nn = realloc(names, ncap * sizeof *names);
                        if (!nn) {
                                r = -ENOMEM;
                                break;
                        }
                        names = nn;
                        cap = ncap;
                }
                names[n] = strdup(name);
                if (!names[n]) {
                        r = -ENOMEM;
                        break;
                }
                n++;
        }
        if (r < 0) {
                (void) dt_maildir_names_free(names, n);
                return r;
        }
        if (n > 1)
                qsort(names, n, sizeof *names, cmp_names);
        *out_names = names;
        *out_n = n;
        return r;
}

/* type_name - a word for an st_mode's file type, for "not a regular file" messages */
static const char *type_name(mode_t m) {
        if (S_ISDIR(m))
                return "directory";
        if (S_ISLNK(m))
                return "symbolic link";
        if (S_ISFIFO(m))
                return "FIFO";
        if (S_ISSOCK(m))
                return "socket";
        if (S_ISCHR(m))
                return "character device";
        if (S_ISBLK(m))
                return "block device";
        return "unknown type";
}

/* not_regular - the NOT_REGULAR rejection */
static int not_regular(struct dt_error *err, const char *what) {
        return dt_error_set(err, -EBADFD, DT_R_NOT_REGULAR, -1, "not a regular file (%s)", what);
}

/* io_error - an open/stat/read failure other than the benign ENOENT */
static int io_error(struct dt_error *err, int r, const char *op) {
        return dt_error_set(err, r, DT_R_IO, -1, "cannot %s message: %s", op, strerror(-r));
}

int dt_maildir_read(struct dt_maildir *md, enum dt_md_sub which, const char *name,
                    uint64_t max_bytes, char **out_buf, size_t *out_len, struct dt_error *err) {
        _cleanup_(closep) int fd = -1;
        _cleanup_free_ char *buf = NULL;
        struct stat st;
        size_t size, got = 0;
        int r;

        if (!md || !sub_ok(which) || !name_ok(name) || !out_buf || !out_len)
                return -EINVAL;

        /* Look before opening: a FIFO or device is never opened at all in the common case. */
        if (fstatat(md->dfd[which], name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                r = -errno;
                return r == -ENOENT ? r : io_error(err, r, "stat");
        }
        if (!S_ISREG(st.st_mode))
                return not_regular(err, type_name(st.st_mode));

        fd = openat(md->dfd[which], name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0) {
                r = -errno;
                if (r == -ENOENT)
                        return r;
                if (r == -ELOOP)        /* swapped for a symlink since fstatat */
                        return not_regular(err, "symbolic link");
                if (r == -ENXIO)        /* swapped for a socket */
                        return not_regular(err, "socket");
                return io_error(err, r, "open");
        }
        /* The fd is what we read: its type and size are the ones that count. */
        if (fstat(fd, &st) < 0)
                return io_error(err, -errno, "stat");
        if (!S_ISREG(st.st_mode))
                return not_regular(err, type_name(st.st_mode));
        if (st.st_size <= 0)
                return dt_error_set(err, -ENODATA, DT_R_EMPTY, -1, "empty file (0 bytes)");
        if ((uint64_t) st.st_size > max_bytes || (uint64_t) st.st_size >= SIZE_MAX)
                return dt_error_set(err, -EFBIG, DT_R_SIZE_LIMIT, -1,
                                    "file is %jd bytes, limit is %ju bytes",
                                    (intmax_t) st.st_size, (uintmax_t) max_bytes);
        size = (size_t) st.st_size;

        buf = malloc(size + 1);
        if (!buf)
                return dt_error_set(err, -ENOMEM, DT_R_NOMEM, -1,
                                    "out of memory for a %zu byte message", size);
        while (got < size) {
                ssize_t k = read(fd, buf + got, size - got);

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return dt_error_set(err, -errno, DT_R_IO, (int64_t) got,
                                            "cannot read message: %s", strerror(errno));
                }
                if (k == 0)
                        break;
                got += (size_t) k;
        }
        if (got < size)
                return dt_error_set(err, -ESTALE, DT_R_IO, (int64_t) got,
                                    "file shrank while read (%zu of %zu bytes)", got, size);
        /* Maildir files are immutable once in new/: a size change means a broken writer. */
        if (fstat(fd, &st) < 0)
                return io_error(err, -errno, "stat");
        if ((uint64_t) st.st_size != (uint64_t) size)
                return dt_error_set(err, -ESTALE, DT_R_IO, (int64_t) size,
                                    "file changed size while read (%zu, now %jd bytes)", size,
                                    (intmax_t) st.st_size);
        buf[size] = '\0';
        *out_buf = TAKE_PTR(buf);
        *out_len = size;
        return 0;
}

bool dt_maildir_error_is_transient(int r) {
        switch (r) {
        case -EMFILE:
        case -ENFILE:
        case -ENOMEM:
        case -ENOBUFS:
        case -EAGAIN:
        case -EINTR:
                return true;
        default:
                return false;
        }
}

/* info_part - where name's Maildir info (":2," and flag letters only, the last such) starts,
 * or NULL when it has none */
static const char *info_part(const char *name) {
        const char *p = NULL, *q = name;

        while ((q = strstr(q, ":2,"))) {
                p = q;
                q++;
        }
        if (!p)
                return NULL;
        for (const char *f = p + 3; *f; f++)
                if (!((*f >= 'A' && *f <= 'Z') || (*f >= 'a' && *f <= 'z')))
                        return NULL;    /* not flags: the whole name is the unique part */
        return p;
}

/* seen_name - NAME + suffix with the S flag into buf: "UNIQUE" SUFFIX ":2," FLAGS, FLAGS being
 * the name's own flags with S inserted in ASCII order (or ":2,S" when it had no info). With
 * with_info false, just NAME with the suffix before its info. -ENAMETOOLONG past NAME_MAX. */
static int seen_name(const char *name, const char *suffix, bool with_info, char *buf,
                     size_t buflen) {
        const char *info = info_part(name);
        size_t ulen = info ? (size_t) (info - name) : strlen(name);
        const char *flags = info ? info + 3 : "";
        size_t before = 0;
        int n;

        if (!with_info) {
                n = snprintf(buf, buflen, "%.*s%s%s", (int) ulen, name, suffix, info ? info : "");
        } else if (strchr(flags, 'S')) {
                n = snprintf(buf, buflen, "%.*s%s:2,%s", (int) ulen, name, suffix, flags);
        } else {
                while (flags[before] && flags[before] < 'S')
                        before++;
                n = snprintf(buf, buflen, "%.*s%s:2,%.*sS%s", (int) ulen, name, suffix,
                             (int) before, flags, flags + before);
        }
        if (n < 0)
                return -EINVAL;
        if ((size_t) n >= buflen || n > NAME_MAX)
                return -ENAMETOOLONG;
        return 0;
}

/* rename_noreplace - rename that fails with -EEXIST instead of replacing the destination */
static int rename_noreplace(int from_dfd, const char *from, int to_dfd, const char *to) {
        struct stat st;

        if (renameat2(from_dfd, from, to_dfd, to, RENAME_NOREPLACE) == 0)
                return 0;
        if (errno != EINVAL && errno != ENOSYS)
                return -errno;
        /* XXX: this filesystem lacks RENAME_NOREPLACE; check, then rename (a small race). */
        if (fstatat(to_dfd, to, &st, AT_SYMLINK_NOFOLLOW) == 0)
                return -EEXIST;
        if (errno != ENOENT)
                return -errno;
        if (renameat(from_dfd, from, to_dfd, to) < 0)
                return -errno;
        return 0;
}

/* move_seen - rename from_dfd/name to to_dfd/NAME[.dtN]:2,...S, the first free name; the name
 * used goes to out (NAME_MAX + 1 bytes). With sync, fsyncs to_dfd after the rename. */
static int move_seen(int from_dfd, const char *name, int to_dfd, bool sync, char *out) {
        char target[NAME_MAX + 1], suffix[8] = "";
        int r;

        for (unsigned i = 0; i <= MOVE_TRIES; i++) {
                if (i > 0) {
                        r = snprintf(suffix, sizeof suffix, ".dt%u", i);
                        if (r < 0 || (size_t) r >= sizeof suffix)
                                return -EINVAL;
                }
                r = seen_name(name, suffix, true, target, sizeof target);
                if (r == -ENAMETOOLONG) /* no room for the flag: keep the name as it is */
                        r = seen_name(name, suffix, false, target, sizeof target);
                if (r < 0)
                        return r;
                r = rename_noreplace(from_dfd, name, to_dfd, target);
                if (r == -EEXIST)
                        continue;
                if (r < 0)
                        return r;
                /* An fsync failure is not returned: the rename is done either way, and a rename
                 * lost in a crash only puts the message back in new/, where dedupe absorbs it. */
                if (sync)
                        (void) fsync(to_dfd);
                memcpy(out, target, sizeof target);
                return 0;
        }
        return -EEXIST;
}

int dt_maildir_mark_seen(struct dt_maildir *md, const char *name) {
        char target[NAME_MAX + 1];

        if (!md || !name_ok(name))
                return -EINVAL;
        /* no fsync of cur/ per message: the outcome is already committed in the store, so a
         * rename lost in a crash leaves the file in new/, and the next run only renames it
         * again (one fsync per message cost the scan more than its parsing) */
        return move_seen(md->dfd[DT_MD_NEW], name, md->dfd[DT_MD_CUR], false, target);
}

/* mkdir_ok - mkdirat that accepts an existing entry (checked to be a directory on open) */
static int mkdir_ok(int dfd, const char *name) {
        if (mkdirat(dfd, name, 0700) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

/* open_rejected_cur - .Rejected/cur, creating the Maildir++ folder when missing. Opened each
 * time rather than cached, so a folder an administrator removed is simply created again. */
static int open_rejected_cur(struct dt_maildir *md, int *out_fd) {
        _cleanup_(closep) int rej = -1;
        struct stat st;
        int fd, r;
        bool created = false;

        if (mkdirat(md->root_fd, DT_MAILDIR_REJECTED, 0700) == 0)
                created = true;
        else if (errno != EEXIST)
                return -errno;
        /* O_NOFOLLOW: a .Rejected symlink planted by a local user must not redirect moves. */
        rej = openat(md->root_fd, DT_MAILDIR_REJECTED,
                     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (rej < 0)
                return -errno;
        fd = openat(rej, "cur", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0 && !created && fstatat(rej, "maildirfolder", &st, AT_SYMLINK_NOFOLLOW) == 0) {
                *out_fd = fd;
                return 0;
        }
        if (fd >= 0)
                (void) close(fd);
        /* Build (or complete) the folder: tmp, new, cur, then the maildirfolder marker. */
        r = mkdir_ok(rej, "tmp");
        if (r >= 0)
                r = mkdir_ok(rej, "new");
        if (r >= 0)
                r = mkdir_ok(rej, "cur");
        if (r < 0)
                return r;
        fd = openat(rej, "maildirfolder", O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        (void) close(fd);
        (void) fsync(rej);
        if (created)
                (void) fsync(md->root_fd);
        fd = openat(rej, "cur", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        *out_fd = fd;
        return 0;
}

int dt_maildir_reject(struct dt_maildir *md, enum dt_md_sub from, const char *name,
                      char *moved_to, size_t moved_to_len) {
        _cleanup_(closep) int cur = -1;
        char target[NAME_MAX + 1];
        int r, n;

        if (!md || !sub_ok(from) || !name_ok(name))
                return -EINVAL;
        if (moved_to &&
            moved_to_len < sizeof REJECTED_CUR + strlen(name) + MOVE_SUFFIX_MAX + SEEN_INFO_MAX)
                return -ENOBUFS;
        r = open_rejected_cur(md, &cur);
        if (r < 0)
                return r;
        r = move_seen(md->dfd[from], name, cur, true, target);
        if (r < 0)
                return r;
        if (moved_to) {
                n = snprintf(moved_to, moved_to_len, "%s%s", REJECTED_CUR, target);
                if (n < 0 || (size_t) n >= moved_to_len)        /* cannot happen: checked above */
                        return -ENOBUFS;
        }
        return 0;
}
