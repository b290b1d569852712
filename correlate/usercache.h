/* usercache.h - login names by uid, asked of NSS once every few minutes
 *
 * Attribution names the user behind every uid it traces. NSS answers each getpwuid_r() anew:
 * the files module reads /etc/passwd again, and a uid it does not know goes on to the next
 * module (Debian 12's "passwd: files systemd" asks systemd over a socket: about 25 us a miss
 * here, and the first call of a process loads the modules, 0.2-0.4 ms). A flood of failure
 * reports names the same few uids over and over, so each answer, "no such user" too, is kept
 * DT_USERCACHE_SECONDS, by CLOCK_MONOTONIC (a clock step neither expires nor keeps one), for at
 * most DT_USERCACHE_SIZE uids; a renamed or new user shows within that time.
 * Process-wide and not thread-safe: attribution runs on one thread (the agent's parent, `trace`). */
#ifndef DT_USERCACHE_H
#define DT_USERCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DT_USERCACHE_SECONDS 300
#define DT_USERCACHE_SIZE    64
#define DT_USERCACHE_NAME    64         /* longer names are looked up every time, not kept */

/* dt_user_name - uid's login name into buf (cap bytes, NUL-terminated); false when the uid has
 * none (or is out of range, or the name does not fit cap) */
bool dt_user_name(int64_t uid, char *buf, size_t cap);

/* dt_user_warm_up - load every NSS module now (root's lookup, and one of a uid nobody has), so
 * that the first lookup does not pay for it */
void dt_user_warm_up(void);

#endif
