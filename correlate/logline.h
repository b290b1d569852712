/* logline.h - one mail-log line: its time stamp, its syslog prefix, and what it says
 *
 * struct dt_logrec is the one record every reader fills (Postfix, Exim, PHP mail.log), and
 * dt_logline_parse() is the classifier that feeds a raw line to the right reader. Strings in a
 * record live in fixed buffers, so a record costs no allocation and a hostile line cannot make
 * one grow; every string has been through dt_sanitize() (valid UTF-8, no control characters).
 *
 * Time stamps: classic syslog ("Nov  3 10:15:01", local time, no year: the year is inferred
 * from a reference "now", so December lines read in January land in the year before), RFC 3339
 * ("2026-11-03T10:15:01.123456+01:00"), Exim's "2026-11-03 10:15:01[.123] [+0100]" and PHP's
 * "03-Nov-2026 10:15:01 Europe/Berlin" (zone resolved with the TZ database; an unknown zone is
 * read as UTC and flagged). */
#ifndef DT_LOGLINE_H
#define DT_LOGLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "report/limits.h"

#define DT_LOG_QID_MAX          64      /* Postfix long ids are 10-15+ chars, Exim 16 or 23 */
#define DT_LOG_TOKEN_MAX        256     /* a host, an address, a login, a Message-ID */
#define DT_LOG_TEXT_MAX         512     /* a script path, a subject, a From header */

enum dt_logsrc {
        DT_SRC_AUTO,            /* guess per line: syslog (Postfix/PHP) or Exim mainlog */
        DT_SRC_SYSLOG,          /* a syslog file holding Postfix (and maybe PHP) lines */
        DT_SRC_EXIM,            /* an Exim mainlog */
        DT_SRC_PHP,             /* a php.ini mail.log file */
        _DT_SRC_MAX,
        _DT_SRC_INVALID = -1,
};

enum dt_mta {
        DT_MTA_NONE,
        DT_MTA_POSTFIX,
        DT_MTA_EXIM,
        DT_MTA_PHP,             /* a PHP mail() call, not an MTA, but one more source */
        _DT_MTA_MAX,
};

/* what a record says; which fields are set depends on it */
enum dt_logkind {
        DT_LK_NONE,
        DT_LK_PICKUP,           /* postfix pickup: queue_id, uid, from */
        DT_LK_CLIENT,           /* postfix smtpd: queue_id, client_host/ip, sasl_* */
        DT_LK_MSGID,            /* postfix cleanup: queue_id, message_id */
        DT_LK_HEADER,           /* postfix cleanup "info: header NAME: VALUE": queue_id, header */
        DT_LK_QMGR,             /* postfix qmgr: queue_id, from, size, nrcpt */
        DT_LK_REMOVED,          /* postfix qmgr "removed" */
        DT_LK_DELIVERY,         /* postfix smtp/lmtp/local/virtual/pipe, exim => -> ** ==:
                                 * queue_id, to, relay, status, next_queue_id */
        DT_LK_BOUNCE,           /* postfix bounce "sender non-delivery notification: NEWID" */
        DT_LK_POSTSUPER,        /* postfix postsuper "removed"/"placed on hold"/"requeued" */
        DT_LK_ARRIVAL,          /* exim "<=": queue_id, from, uid/user (U=), protocol (P=),
                                 * sasl (A=), client (H=), message_id (id=), size (S=), subject */
        DT_LK_COMPLETED,        /* exim "Completed" */
        DT_LK_CWD,              /* exim +arguments "cwd=DIR N args: ...": script, args */
        DT_LK_PHP_MAIL,         /* PHP mail(): script, script_line, to, subject, from_hdr */
        _DT_LK_MAX,
};

/* flags of struct dt_logrec */
#define DT_LR_TRUNCATED         (1u << 0)       /* some string was cut to its buffer */
#define DT_LR_TZ_UNKNOWN        (1u << 1)       /* PHP zone name unknown: read as UTC */
#define DT_LR_NO_YEAR           (1u << 2)       /* syslog stamp: the year was inferred */

struct dt_logrec {
        enum dt_mta mta;
        enum dt_logkind kind;
        int64_t time;                           /* seconds since the epoch */
        int64_t pid;                            /* -1 when not known */
        char host[DT_LOG_TOKEN_MAX];            /* syslog host name, "" when not logged */
        char instance[DT_LOG_QID_MAX];          /* "postfix", "postfix-out", "exim" */
        char service[DT_LOG_QID_MAX];           /* "smtpd", "submission/smtpd", "pickup" */
        char queue_id[DT_LOG_QID_MAX];
        char next_queue_id[DT_LOG_QID_MAX];     /* "queued as X", "forwarded as X", C="... id=X" */
        char message_id[DT_LOG_TOKEN_MAX];      /* without <> */
        int64_t uid;                            /* -1 when not known */
        char user[DT_LOG_TOKEN_MAX];            /* exim U=, or "" */
        char client_host[DT_LOG_TOKEN_MAX];
        char client_ip[64];
        char sasl_method[64];
        char sasl_username[DT_LOG_TOKEN_MAX];
        char protocol[64];                      /* exim P= */
        char from[DT_LOG_TOKEN_MAX];            /* envelope sender, without <> */
        char to[DT_LOG_TOKEN_MAX];              /* a recipient, without <> (PHP: the first) */
        char to_raw[DT_LOG_TEXT_MAX];           /* PHP: the whole To: text */
        char status[32];                        /* sent, deferred, bounced, ... */
        char relay[DT_LOG_TOKEN_MAX];
        int64_t size;                           /* -1 when not known */
        int64_t nrcpt;                          /* -1 when not known */
        char script[DT_LOG_TEXT_MAX];           /* PHP script path, exim cwd */
        int64_t script_line;                    /* -1 when not known */
        char args[DT_LOG_TEXT_MAX];             /* exim args: */
        char subject[DT_LOG_TEXT_MAX];
        char from_hdr[DT_LOG_TEXT_MAX];         /* PHP: the From header given to mail() */
        char header[DT_LOG_TEXT_MAX];           /* postfix "info: header" NAME: VALUE */
        unsigned flags;                         /* DT_LR_* */
};

/* dt_logrec_init - empty record: numbers -1, strings "" */
void dt_logrec_init(struct dt_logrec *r);

/* how the classifier saw a line */
enum dt_lineclass {
        DT_LC_RECORD,           /* *rec filled: a line the index wants */
        DT_LC_OTHER,            /* a well-formed mail-log line of no interest (connect, TLS...) */
        DT_LC_FOREIGN,          /* a well-formed syslog line of another program */
        DT_LC_COMMENT,          /* empty, or "#" comment (test logs) */
        DT_LC_MALFORMED,        /* no time stamp, or a mail line that does not parse */
        DT_LC_TOO_LONG,         /* longer than lim->log_line_bytes */
        _DT_LC_MAX,
};

const char *dt_lineclass_name(enum dt_lineclass c);

/* counters a reader keeps; index with enum dt_lineclass */
struct dt_linestats {
        uint64_t n[_DT_LC_MAX];
        uint64_t tz_unknown;
        uint64_t truncated;
};

/* dt_logline_parse - classify line[0..len) (no newline) from a source of kind src and fill rec
 * when it is DT_LC_RECORD. now is the reference for syslog's missing year. Never fails: a
 * line it cannot read is DT_LC_MALFORMED. st (may be NULL) is counted. */
enum dt_lineclass dt_logline_parse(const char *line, size_t len, enum dt_logsrc src, int64_t now,
                                   const struct dt_limits *lim, struct dt_logrec *rec,
                                   struct dt_linestats *st);

/* ---- time stamps: each returns the bytes consumed (> 0) and sets *out, or 0 when the text
 * does not start with that form ---- */

/* "Nov  3 10:15:01" in local time; the year is the one that puts the stamp closest before
 * now + 1 day */
size_t dt_logtime_syslog(const char *s, size_t len, int64_t now, int64_t *out);
/* "2026-11-03T10:15:01[.frac](Z|+01:00)" */
size_t dt_logtime_rfc3339(const char *s, size_t len, int64_t *out);
/* "2026-11-03 10:15:01[.123][ +0100]" (Exim); local time without an offset */
size_t dt_logtime_exim(const char *s, size_t len, int64_t *out);
/* "03-Nov-2026 10:15:01 Europe/Berlin" (PHP, without the brackets); *tz_unknown set when the
 * zone name is not in the TZ database (then read as UTC) */
size_t dt_logtime_php(const char *s, size_t len, int64_t *out, bool *tz_unknown);

/* dt_log_copy - sanitise s[0..len) into dst (cap bytes); sets DT_LR_TRUNCATED in *flags when cut */
void dt_log_copy(char *dst, size_t cap, const char *s, size_t len, unsigned *flags);

/* dt_log_addr - copy an address, dropping <> around it, lower-casing nothing */
void dt_log_addr(char *dst, size_t cap, const char *s, size_t len, unsigned *flags);

/* dt_log_field - in msg[0..len), the value of "key" (e.g. "from=") at a word start, up to the
 * next ", " or end; NULL when absent. *vlen gets its length. Values in <> may hold ", ". */
const char *dt_log_field(const char *msg, size_t len, const char *key, size_t *vlen);

/* dt_log_is_queue_id - Postfix short/long or Exim 16/23-char id */
bool dt_log_is_queue_id(const char *s, size_t len);

/* dt_log_num - a decimal number of at most 18 digits at v[0..n) into *out; false otherwise */
bool dt_log_num(const char *v, size_t n, int64_t *out);

/* dt_log_first_addr - the first mail address in a To: text ("A <a@b>, c@d" gives "a@b"),
 * lower-cased; "" when none, or when it would not survive dt_sanitize() unchanged */
void dt_log_first_addr(char *dst, size_t cap, const char *s, size_t len);

#endif
