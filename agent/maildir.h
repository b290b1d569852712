/* maildir.h - the Maildir primitives: list new/ or cur/, read one message safely, move it
 *
 * A struct dt_maildir holds directory fds for new/ and cur/ (opened once, O_DIRECTORY), so every
 * later operation is an *at() call on a fixed directory and never follows a path a sender could
 * influence. tmp/ is checked to exist at open and never read: writers create there and rename
 * into new/, so whatever appears in new/ is complete.
 *
 * Names: anything readdir returns except dot-files (Maildir spec: ignored) is a message name,
 * whatever bytes it holds; they are used byte-exact for open and rename and never sanitised
 * here (the event layer sanitises them for display). A name given to these functions must be a
 * plain directory entry name: non-empty, no '/', not starting with '.', else -EINVAL.
 *
 * Nothing here ever deletes or overwrites: moves use renameat2(RENAME_NOREPLACE), and a taken
 * destination name gets a ".dtN" suffix before its info part. */
#ifndef DT_MAILDIR_H
#define DT_MAILDIR_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "report/error.h"
#include "report/macro.h"

#define DT_MAILDIR_LIST_MAX 1000000     /* names returned by one dt_maildir_list() call */
#define DT_MAILDIR_REJECTED ".Rejected" /* Maildir++ folder for input we could not use */

enum dt_md_sub {
        DT_MD_NEW,
        DT_MD_CUR,
        _DT_MD_SUB_MAX,
        _DT_MD_SUB_INVALID = -EINVAL,
};

struct dt_maildir;

/* dt_maildir_open - open the Maildir at root; it must hold new/, cur/ and tmp/ directories.
 * A missing one is -ENOENT (or -ENOTDIR) with err naming it, e.g. "'/var/mail/x/cur' is
 * missing". */
int dt_maildir_open(const char *root, struct dt_maildir **out, struct dt_error *err);

/* dt_maildir_free - close the directory fds; NULL-safe, returns NULL */
struct dt_maildir *dt_maildir_free(struct dt_maildir *md);
DEFINE_FREEP(struct dt_maildir, dt_maildir_free)

/* dt_maildir_reopen - open the root path again and use its new/ and cur/ from now on (the
 * Maildir was deleted and recreated, or moved away and back: HOSTILE.md F8). On error the
 * directories held so far are kept and err says why. */
int dt_maildir_reopen(struct dt_maildir *md, struct dt_error *err);

/* dt_maildir_moved - whether ROOT/new is no longer the directory held (gone, replaced, or not
 * reachable): one stat, cheap enough for every turn of a loop */
bool dt_maildir_moved(const struct dt_maildir *md);

/* dt_maildir_root - the root path given to dt_maildir_open(), borrowed */
const char *dt_maildir_root(const struct dt_maildir *md);

/* dt_maildir_list - names in new/ or cur/, dot-files skipped, sorted with strcmp; at most
 * DT_MAILDIR_LIST_MAX of them. Returns 0 when that is every name, 1 when more were left out
 * (process these, then list again), <0 on error. Free the result with dt_maildir_names_free(). */
int dt_maildir_list(struct dt_maildir *md, enum dt_md_sub which, char ***out_names, size_t *out_n);

/* dt_maildir_count - how many names dt_maildir_list() would give, without the list: one pass
 * of readdir and no memory per name, so it stays cheap for a 100k-file backlog */
int dt_maildir_count(struct dt_maildir *md, enum dt_md_sub which, uint64_t *out_n);

/* dt_maildir_names_free - free a name vector from dt_maildir_list() or dt_watch_wait();
 * NULL-safe, returns NULL */
char **dt_maildir_names_free(char **names, size_t n);

/* dt_maildir_read - the whole content of new/NAME or cur/NAME, NUL-terminated (the NUL is not
 * counted in *out_len). The entry is checked before any byte is read:
 *   -EBADFD  reason NOT_REGULAR   FIFO, symlink, directory, device, socket (never blocks)
 *   -ENODATA reason EMPTY         0 bytes
 *   -EFBIG   reason SIZE_LIMIT    over max_bytes; message gives both sizes; nothing read
 *   -ESTALE  reason IO_ERROR      the file changed size while it was read (a buggy writer)
 *   -ENOENT  err untouched        vanished since it was listed (another MUA moved it): benign
 *   other    reason IO_ERROR      open/read failed (-EACCES, -EIO, ...); see also
 *                                 dt_maildir_error_is_transient() for -EMFILE and friends */
int dt_maildir_read(struct dt_maildir *md, enum dt_md_sub which, const char *name,
                    uint64_t max_bytes, char **out_buf, size_t *out_len, struct dt_error *err);

/* dt_maildir_error_is_transient - whether r (from this module) is a shortage of the host (fds,
 * memory, an interrupted call) rather than a fault of the message: retry later, count no attempt */
bool dt_maildir_error_is_transient(int r);

/* dt_maildir_mark_seen - rename new/NAME to cur/NAME:2,S (an existing ":2,FLAGS" info gets S
 * added in ASCII order; a name already carrying S keeps its flags). cur/ is not fsynced: call it
 * only after the message's outcome is committed elsewhere, so a rename lost in a crash is simply
 * done again. A name too long for the info moves as cur/NAME. -ENOENT when the file is gone
 * (benign). */
int dt_maildir_mark_seen(struct dt_maildir *md, const char *name);

/* dt_maildir_reject - move new/NAME or cur/NAME into the Maildir++ folder .Rejected, as
 * .Rejected/cur/NAME:2,S (seen, so a mail client shows it read), creating .Rejected/{new,cur,tmp}
 * (0700) and its maildirfolder marker when missing. Works on non-regular entries too (rename
 * does not follow links). moved_to (may be NULL) receives the path relative to the Maildir root
 * for the event; a buffer that could not hold it is -ENOBUFS before anything moves. Any rename
 * error (-EXDEV, -EACCES, -ENOSPC, ...) is returned and nothing moved. */
int dt_maildir_reject(struct dt_maildir *md, enum dt_md_sub from, const char *name,
                      char *moved_to, size_t moved_to_len);

#endif
