/* logfile.c - follow one log file by name through rotation; rotated siblings on first start
 *
 * A small queue of files (siblings oldest first, then the live path) is read in order through
 * one buffer of log_line_bytes + a read chunk. At the live file's end the path is stat()ed: a
 * new inode means a rename rotation (the old descriptor is drained to its end, then the new file
 * is read from 0), the same inode with a size below what we read means copytruncate (start over
 * at 0). Gzip siblings are read with zlib's gzread (their offsets are uncompressed bytes).
 * SECURITY: the files are this host's logs, but their content is hostile text; the only
 * concerns here are size (one line never grows the buffer past the limit: longer lines are
 * skipped and counted) and what gets opened (regular files only, O_NONBLOCK so a FIFO planted
 * under the name cannot block us). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "correlate/logfile.h"

#define CHUNK 65536u

struct lf_file {
        char *path;
        bool gz;
        bool live;
        uint64_t start;         /* offset to resume at */
};

struct dt_logfile {
        char *path;
        unsigned flags;
        size_t line_max;

        struct lf_file q[DT_LOGFILE_SIBLINGS_MAX + 1];
        size_t nq, qi;          /* queue and the entry being read */

        int fd;                 /* plain file, or -1 */
        gzFile gz;              /* gzip sibling, or NULL */
        bool open;
        bool live;
        bool ever_opened;
        dev_t dev;
        ino_t ino;
        uint64_t rpos;          /* bytes read from the current file */
        uint64_t off;           /* offset just past the last line returned (or skipped) */
        bool pending_rotation;  /* the path now names another file: drain, then switch */

        char *buf;
        size_t cap, start, end;
        bool discarding;        /* inside a too-long line, dropping bytes to its newline */

        uint64_t too_long, rotations;
};

/* close_cur - close the current file, keep the queue position */
static void close_cur(struct dt_logfile *lf) {
        if (lf->fd >= 0)
                (void) close(lf->fd);
        if (lf->gz)
                (void) gzclose_r(lf->gz);
        lf->fd = -1;
        lf->gz = NULL;
        lf->open = false;
        lf->start = lf->end = 0;
        lf->discarding = false;
        lf->pending_rotation = false;
}

/* dt_logfile_free - NULL-safe */
struct dt_logfile *dt_logfile_free(struct dt_logfile *lf) {
        if (!lf)
                return NULL;
        close_cur(lf);
        for (size_t i = 0; i < lf->nq; i++)
                free(lf->q[i].path);
        free(lf->path);
        free(lf->buf);
        free(lf);
        return NULL;
}

/* open_file - open q[qi] at its start offset; -ENOENT when it is not there (yet) */
static int open_file(struct dt_logfile *lf) {
        struct lf_file *f = &lf->q[lf->qi];
        struct stat st;
        int fd;

        fd = open(f->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                int r = S_ISREG(st.st_mode) ? -errno : -EBADFD;

                (void) close(fd);
                return r;
        }
        lf->dev = st.st_dev;
        lf->ino = st.st_ino;
        lf->live = f->live;
        lf->rpos = lf->off = 0;
        if (f->gz) {
                lf->gz = gzdopen(fd, "rb");
                if (!lf->gz) {
                        (void) close(fd);
                        return -ENOMEM;
                }
                (void) gzbuffer(lf->gz, CHUNK);
                if (f->start > 0 && gzseek(lf->gz, (z_off_t) f->start, SEEK_SET) < 0) {
                        (void) gzclose_r(lf->gz);
                        lf->gz = NULL;
                        return -EIO;
                }
        } else {
                lf->fd = fd;
                if (f->start > 0) {
                        /* a cursor past the end: the file was truncated while we were away */
                        if ((uint64_t) st.st_size < f->start)
                                f->start = 0;
                        else if (lseek(fd, (off_t) f->start, SEEK_SET) < 0) {
                                int r = -errno;

                                (void) close(fd);
                                lf->fd = -1;
                                return r;
                        }
                }
        }
        lf->rpos = lf->off = f->start;
        f->start = 0;
        lf->open = true;
        lf->ever_opened = true;
        return 0;
}

/* fill - read more into the buffer; >0 bytes, 0 at end, <0 error */
static ssize_t fill(struct dt_logfile *lf) {
        ssize_t n;

        if (lf->start > 0) {
                memmove(lf->buf, lf->buf + lf->start, lf->end - lf->start);
                lf->end -= lf->start;
                lf->start = 0;
        }
        if (lf->end == lf->cap)
                return -ENOBUFS;        /* cannot happen: too-long lines are discarded first */
        if (lf->gz) {
                int g = gzread(lf->gz, lf->buf + lf->end, (unsigned) (lf->cap - lf->end));

                if (g < 0) {
                        int e;

                        (void) gzerror(lf->gz, &e);
                        return e == Z_ERRNO ? -errno : -EIO;
                }
                n = g;
        } else {
                n = read(lf->fd, lf->buf + lf->end, lf->cap - lf->end);
                if (n < 0)
                        return errno == EAGAIN || errno == EINTR ? 0 : -errno;
        }
        lf->end += (size_t) n;
        lf->rpos += (uint64_t) n;
        return n;
}

/* next_file - move to the next queued file; false at the end of the queue */
static bool next_file(struct dt_logfile *lf) {
        close_cur(lf);
        if (lf->qi + 1 >= lf->nq)
                return false;
        lf->qi++;
        return true;
}

/* live_check - at the live file's end: rotation? 1 switched or restarted, 0 nothing changed */
static int live_check(struct dt_logfile *lf) {
        struct stat st;

        if (stat(lf->q[lf->qi].path, &st) < 0)
                return 0;       /* renamed away, the new one not created yet: drain and wait */
        if (st.st_ino != lf->ino || st.st_dev != lf->dev) {
                if (!lf->pending_rotation) {
                        /* the writer may still append to the old file: one more read first */
                        lf->pending_rotation = true;
                        return 1;
                }
                return 2;
        }
        if ((uint64_t) st.st_size < lf->rpos && lf->fd >= 0) {
                lf->rotations++;
                if (lseek(lf->fd, 0, SEEK_SET) < 0)
                        return -errno;
                lf->rpos = lf->off = 0;
                lf->start = lf->end = 0;
                lf->discarding = false;
                return 1;
        }
        return 0;
}

/* take - hand out buf[start..start+n) as a line and move past it and its newline (skip) */
static int take(struct dt_logfile *lf, size_t n, size_t skip, const char **line, size_t *len) {
        *line = lf->buf + lf->start;
        *len = n;
        lf->start += n + skip;
        lf->off += n + skip;
        return 1;
}

/* dt_logfile_next - next complete line */
int dt_logfile_next(struct dt_logfile *lf, const char **line, size_t *len) {
        for (;;) {
                if (!lf->open) {
                        int r = open_file(lf);

                        if (r == -ENOENT && !lf->q[lf->qi].live) {
                                if (!next_file(lf))
                                        return 0;
                                continue;
                        }
                        if (r < 0)
                                return r == -ENOENT ? 0 : r;
                }
                /* a complete line in the buffer? */
                while (lf->start < lf->end) {
                        char *b = lf->buf + lf->start;
                        char *nl = memchr(b, '\n', lf->end - lf->start);

                        if (lf->discarding) {
                                size_t n = nl ? (size_t) (nl - b) + 1 : lf->end - lf->start;

                                lf->start += n;
                                lf->off += n;
                                if (nl)
                                        lf->discarding = false;
                                continue;
                        }
                        if (nl) {
                                if ((size_t) (nl - b) > lf->line_max) {
                                        lf->too_long++;
                                        lf->start += (size_t) (nl - b) + 1;
                                        lf->off += (size_t) (nl - b) + 1;
                                        continue;
                                }
                                return take(lf, (size_t) (nl - b), 1, line, len);
                        }
                        if (lf->end - lf->start > lf->line_max) {
                                lf->too_long++;
                                lf->discarding = true;
                                continue;
                        }
                        break;
                }
                ssize_t n = fill(lf);

                if (n < 0)
                        return (int) n;
                if (n > 0) {
                        lf->pending_rotation = false;
                        continue;
                }
                /* at the end of this file */
                if (lf->live) {
                        int r = live_check(lf);

                        if (r < 0)
                                return r;
                        if (r == 1)
                                continue;
                        if (r == 0) {
                                if ((lf->flags & DT_LOGFILE_ONESHOT) && lf->end > lf->start &&
                                    !lf->discarding)
                                        return take(lf, lf->end - lf->start, 0, line, len);
                                return 0;
                        }
                        /* r == 2: the old file is complete; its last line too */
                        if (lf->end > lf->start && !lf->discarding)
                                return take(lf, lf->end - lf->start, 0, line, len);
                        lf->rotations++;
                        close_cur(lf);          /* same queue entry: the path, reopened at 0 */
                        continue;
                }
                if (lf->end > lf->start && !lf->discarding)
                        return take(lf, lf->end - lf->start, 0, line, len);
                if (!next_file(lf))
                        return 0;
        }
}

/* dt_logfile_cursor - "INODE:OFFSET" */
int dt_logfile_cursor(const struct dt_logfile *lf, char *buf, size_t size) {
        int n;

        if (!lf->ever_opened)
                return -ENOENT;
        n = snprintf(buf, size, "%llu:%llu", (unsigned long long) lf->ino,
                     (unsigned long long) lf->off);
        if (n < 0 || (size_t) n >= size)
                return -ENOBUFS;
        return 0;
}

uint64_t dt_logfile_too_long(const struct dt_logfile *lf) {
        return lf->too_long;
}

uint64_t dt_logfile_rotations(const struct dt_logfile *lf) {
        return lf->rotations;
}

const char *dt_logfile_current(const struct dt_logfile *lf) {
        return lf->q[lf->qi].path;
}

/* parse_cursor - "INODE:OFFSET" with explicit digit checks */
static bool parse_cursor(const char *c, uint64_t *ino, uint64_t *off) {
        uint64_t v[2] = { 0, 0 };
        int k = 0;
        size_t nd = 0;

        for (const char *p = c;; p++) {
                if (*p >= '0' && *p <= '9') {
                        if (++nd > 19)
                                return false;
                        v[k] = v[k] * 10 + (uint64_t) (*p - '0');
                } else if (*p == ':' && k == 0 && nd > 0) {
                        k = 1;
                        nd = 0;
                } else if (*p == '\0' && k == 1 && nd > 0)
                        break;
                else
                        return false;
        }
        *ino = v[0];
        *off = v[1];
        return true;
}

static int add(struct dt_logfile *lf, const char *path, bool gz, bool live) {
        lf->q[lf->nq].path = strdup(path);
        if (!lf->q[lf->nq].path)
                return -ENOMEM;
        lf->q[lf->nq].gz = gz;
        lf->q[lf->nq].live = live;
        lf->q[lf->nq].start = 0;
        lf->nq++;
        return 0;
}

/* dt_logfile_open - build the queue of files to read */
int dt_logfile_open(const char *path, const char *cursor, int64_t since, unsigned flags,
                    const struct dt_limits *lim, struct dt_logfile **out, struct dt_error *err) {
        _cleanup_(dt_logfile_freep) struct dt_logfile *lf = NULL;
        struct { char p[PATH_MAX]; bool gz; ino_t ino; } sib[DT_LOGFILE_SIBLINGS_MAX];
        size_t ns = 0;
        uint64_t cino = 0, coff = 0;
        bool have_cursor = cursor && cursor[0];
        struct stat st;
        int r;

        if (have_cursor && !parse_cursor(cursor, &cino, &coff))
                return dt_error_set(err, -EINVAL, DT_R_FIELD_LIMIT, -1, "bad log cursor");
        if (strlen(path) + 8 >= PATH_MAX)
                return dt_error_set(err, -ENAMETOOLONG, DT_R_FIELD_LIMIT, -1, "log path too long");
        lf = calloc(1, sizeof *lf);
        if (!lf)
                return dt_error_set(err, -ENOMEM, DT_R_NOMEM, -1, "out of memory");
        lf->fd = -1;
        lf->flags = flags;
        lf->line_max = lim->log_line_bytes;
        lf->cap = lf->line_max + 1 + CHUNK;
        lf->buf = malloc(lf->cap);
        lf->path = strdup(path);
        if (!lf->buf || !lf->path)
                return dt_error_set(err, -ENOMEM, DT_R_NOMEM, -1, "out of memory");

        /* siblings, newest (.1) first as found; only when a cursor or catch-up wants them */
        if (have_cursor || (flags & DT_LOGFILE_CATCHUP))
                for (int i = 1; i <= DT_LOGFILE_SIBLINGS_MAX; i++) {
                        for (int g = 0; g < 2; g++) {
                                (void) snprintf(sib[ns].p, sizeof sib[ns].p, g ? "%s.%d.gz" : "%s.%d",
                                                path, i);
                                if (stat(sib[ns].p, &st) == 0 && S_ISREG(st.st_mode)) {
                                        if (!have_cursor && since > 0 && st.st_mtime < since)
                                                continue;
                                        sib[ns].gz = g;
                                        sib[ns].ino = st.st_ino;
                                        ns++;
                                        break;
                                }
                        }
                }

        if (have_cursor) {
                /* where was the cursor? the live file, or one of the siblings */
                ssize_t at = -2;        /* -1: live file, >= 0: sibling index */

                if (stat(path, &st) == 0 && (uint64_t) st.st_ino == cino)
                        at = -1;
                for (size_t i = 0; at == -2 && i < ns; i++)
                        if ((uint64_t) sib[i].ino == cino)
                                at = (ssize_t) i;
                if (at == -2 && ns > 0) {
                        /* rotated past recognition: the newest sibling, then the live file */
                        r = add(lf, sib[0].p, sib[0].gz, false);
                        if (r < 0)
                                return dt_error_set(err, r, DT_R_NOMEM, -1, "out of memory");
                } else
                        for (ssize_t i = at; i >= 0; i--) {
                                r = add(lf, sib[i].p, sib[i].gz, false);
                                if (r < 0)
                                        return dt_error_set(err, r, DT_R_NOMEM, -1, "out of memory");
                                if (i == at)
                                        lf->q[lf->nq - 1].start = coff;
                        }
                r = add(lf, path, false, true);
                if (r < 0)
                        return dt_error_set(err, r, DT_R_NOMEM, -1, "out of memory");
                if (at == -1)
                        lf->q[lf->nq - 1].start = coff;
        } else {
                for (size_t i = ns; i > 0; i--) {
                        r = add(lf, sib[i - 1].p, sib[i - 1].gz, false);
                        if (r < 0)
                                return dt_error_set(err, r, DT_R_NOMEM, -1, "out of memory");
                }
                r = add(lf, path, false, true);
                if (r < 0)
                        return dt_error_set(err, r, DT_R_NOMEM, -1, "out of memory");
        }
        *out = TAKE_PTR(lf);
        return 0;
}
