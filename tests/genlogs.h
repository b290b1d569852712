/* genlogs.h - a consistent mail-log scenario for the correlation tests, the README demo and bench
 *
 * dt_gen_logs() writes into dir:
 *   mail.log          Postfix (RFC 3339 stamps, host web1): 14 days of a busy legitimate PHP
 *                     newsletter (uid 1001), today's burst from a compromised script (uid 33,
 *                     www-data), a SASL user, a host relaying through us (web2), a message whose
 *                     PHP log line has rotated away, and an amavis re-queue
 *   php/mail.log      PHP mail.log (UTC and Europe/Berlin stamps)
 *   exim/mainlog      Exim with +arguments and +pid, 23-character ids
 *   reports/NAME.eml  failure reports receivers would send (ARF with message/rfc822 or
 *                     text/rfc822-headers), including a spoofed one from a foreign IP
 * and the table dt_gen_expected lists what attribution must say for each report. */
#ifndef DT_GENLOGS_H
#define DT_GENLOGS_H

#include <stdbool.h>
#include <stdint.h>

#define DT_GEN_DAY0     1773100800      /* 2026-03-10T00:00:00Z: "today" */
#define DT_GEN_DAYS     14              /* days of history before today */
#define DT_GEN_ATTACK   300             /* messages of the compromised script, today 10:00-10:59 */
#define DT_GEN_LEGIT    120             /* newsletter messages each day, 10:00-10:59 */

struct dt_gen_expect {
        const char *report;             /* file under reports/ */
        bool attributed;
        const char *confidence;         /* "exact", "strong", "weak" */
        const char *mta;
        const char *queue_id;
        const char *message_id;
        int64_t uid;
        const char *user;               /* from the log (Exim U=); NULL: getpwuid's */
        const char *script;
        int64_t line;
        const char *host;
        bool relayed;
        const char *client_ip;
        const char *sasl;
        const char *evidence;           /* exact EVIDENCE text */
};

extern const struct dt_gen_expect dt_gen_expected[];
extern const unsigned dt_gen_n_expected;

/* dt_gen_logs - write the scenario under dir (which must exist). 0 or -errno. */
int dt_gen_logs(const char *dir);

#endif
