/* logline.c - time stamps, the syslog prefix, and the classifier that hands a line to its reader
 *
 * A line is cut into time stamp, optional "HOST IDENT[PID]: " syslog prefix and message text by
 * walking it with explicit lengths; the message goes to the Postfix, Exim or PHP reader.
 * SECURITY: log lines carry text chosen by anyone who can send mail or run a script here (sender
 * addresses, subjects, Message-IDs). Nothing is trusted: the line length is checked first, every
 * string copied into a record goes through dt_sanitize() into a fixed buffer, numbers are parsed
 * digit by digit with overflow checks. A bad line is counted and skipped, never fatal.
 * XXX: PHP zone names are resolved by switching TZ for one mktime(); not thread-safe, and the
 * agent is single-threaded. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "correlate/exim.h"
#include "correlate/logline.h"
#include "correlate/phplog.h"
#include "correlate/postfix.h"
#include "report/sanitize.h"

static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

/* dt_logrec_init - empty record: numbers -1, strings "". Only each string's first byte is
 * cleared: the record is 6.6 KB, and zeroing all of it for every line was a quarter of the
 * line parser's instructions. Readers take the strings as C strings, never as whole buffers. */
void dt_logrec_init(struct dt_logrec *r) {
        r->mta = 0;
        r->kind = 0;
        r->time = 0;
        r->flags = 0;
        r->pid = r->uid = r->size = r->nrcpt = r->script_line = -1;
        r->host[0] = r->instance[0] = r->service[0] = r->queue_id[0] = '\0';
        r->next_queue_id[0] = r->message_id[0] = r->user[0] = r->client_host[0] = '\0';
        r->client_ip[0] = r->sasl_method[0] = r->sasl_username[0] = r->protocol[0] = '\0';
        r->from[0] = r->to[0] = r->to_raw[0] = r->status[0] = r->relay[0] = '\0';
        r->script[0] = r->args[0] = r->subject[0] = r->from_hdr[0] = r->header[0] = '\0';
}

/* dt_lineclass_name - stable names, for stats output */
const char *dt_lineclass_name(enum dt_lineclass c) {
        static const char *const n[_DT_LC_MAX] = { "record", "other", "foreign", "comment",
                                                   "malformed", "too-long" };
        return (unsigned) c < _DT_LC_MAX ? n[c] : NULL;
}

/* dt_log_copy - sanitise into a fixed buffer, flag a cut */
void dt_log_copy(char *dst, size_t cap, const char *s, size_t len, unsigned *flags) {
        bool trunc = false;
        size_t i;

        /* printable ASCII that fits is what dt_sanitize() would give back unchanged */
        for (i = 0; i < len && s[i] >= 0x20 && s[i] < 0x7f; i++)
                ;
        if (i == len && len < cap) {
                memcpy(dst, s, len);
                dst[len] = '\0';
                return;
        }
        (void) dt_sanitize(s, len, dst, cap, &trunc);
        if (trunc && flags)
                *flags |= DT_LR_TRUNCATED;
}

/* dt_log_addr - an address without its <> */
void dt_log_addr(char *dst, size_t cap, const char *s, size_t len, unsigned *flags) {
        if (len >= 2 && s[0] == '<' && s[len - 1] == '>') {
                s++;
                len -= 2;
        }
        dt_log_copy(dst, cap, s, len, flags);
}

/* digits - exactly n decimal digits at s; -1 when not */
static int digits(const char *s, size_t n) {
        int v = 0;

        for (size_t i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -1;
                v = v * 10 + (s[i] - '0');
        }
        return v;
}

static int month_of(const char *s) {
        for (int i = 0; i < 12; i++)
                if (memcmp(s, months[i], 3) == 0)
                        return i;
        return -1;
}

static bool tm_ok(const struct tm *tm) {
        return tm->tm_mon >= 0 && tm->tm_mon < 12 && tm->tm_mday >= 1 && tm->tm_mday <= 31 &&
               tm->tm_hour >= 0 && tm->tm_hour < 24 && tm->tm_min >= 0 && tm->tm_min < 60 &&
               tm->tm_sec >= 0 && tm->tm_sec <= 60;
}

/* hms - "HH:MM:SS" at s */
static bool hms(const char *s, struct tm *tm) {
        if (s[2] != ':' || s[5] != ':')
                return false;
        tm->tm_hour = digits(s, 2);
        tm->tm_min = digits(s + 3, 2);
        tm->tm_sec = digits(s + 6, 2);
        return tm->tm_hour >= 0 && tm->tm_min >= 0 && tm->tm_sec >= 0;
}

/* utc_epoch - timegm() without the C library's normalisation and locking overhead:
 * days from the civil date (proleptic Gregorian), linear in every field as timegm is */
static int64_t utc_epoch(const struct tm *tm) {
        int64_t y = (int64_t) tm->tm_year + 1900, m = tm->tm_mon + 1, era, yoe, doy, doe;

        y -= m <= 2;
        era = (y >= 0 ? y : y - 399) / 400;
        yoe = y - era * 400;
        doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + tm->tm_mday - 1;
        doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return (era * 146097 + doe - 719468) * 86400 + tm->tm_hour * 3600 + tm->tm_min * 60 +
               tm->tm_sec;
}

static int64_t local_epoch(struct tm *tm) {
        tm->tm_isdst = -1;
        return (int64_t) mktime(tm);
}

/* dt_logtime_syslog - "Nov  3 10:15:01" (also "Nov 3", "Nov 03"), year inferred */
size_t dt_logtime_syslog(const char *s, size_t len, int64_t now, int64_t *out) {
        struct tm tm = {0}, nt;
        time_t nw = (time_t) now;
        size_t i = 4;
        int64_t t;
        int d = 0;

        if (len < 14 || s[3] != ' ' || month_of(s) < 0)
                return 0;
        tm.tm_mon = month_of(s);
        if (s[i] == ' ')
                i++;
        while (i < 6 && i < len && s[i] >= '0' && s[i] <= '9')
                d = d * 10 + (s[i++] - '0');
        if (d < 1 || i + 9 > len || s[i] != ' ' || !hms(s + i + 1, &tm))
                return 0;
        i += 9;
        tm.tm_mday = d;
        if (!tm_ok(&tm) || !localtime_r(&nw, &nt))
                return 0;
        /* the stamp lies at most a day ahead of now (clock skew); otherwise it is last year's */
        for (int y = nt.tm_year + 1; y >= nt.tm_year - 1; y--) {
                struct tm c = tm;

                c.tm_year = y;
                t = local_epoch(&c);
                if (t <= now + 86400) {
                        *out = t;
                        return i;
                }
        }
        return 0;
}

/* ymd_hms - "YYYY-MM-DD?HH:MM:SS" with sep at [10] */
static bool ymd_hms(const char *s, size_t len, char sep, struct tm *tm) {
        int y, m, d;

        if (len < 19 || s[4] != '-' || s[7] != '-' || s[10] != sep)
                return false;
        y = digits(s, 4);
        m = digits(s + 5, 2);
        d = digits(s + 8, 2);
        if (y < 1970 || m < 1 || d < 1 || !hms(s + 11, tm))
                return false;
        tm->tm_year = y - 1900;
        tm->tm_mon = m - 1;
        tm->tm_mday = d;
        return tm_ok(tm);
}

/* frac - skip ".digits" */
static size_t frac(const char *s, size_t len, size_t i) {
        if (i < len && s[i] == '.') {
                i++;
                while (i < len && s[i] >= '0' && s[i] <= '9' && i < 40)
                        i++;
        }
        return i;
}

/* dt_logtime_rfc3339 - "2026-11-03T10:15:01.123456+01:00" or "...Z" */
size_t dt_logtime_rfc3339(const char *s, size_t len, int64_t *out) {
        struct tm tm = {0};
        size_t i;
        int64_t t;

        if (!ymd_hms(s, len, 'T', &tm))
                return 0;
        i = frac(s, len, 19);
        t = utc_epoch(&tm);
        if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
                *out = t;
                return i + 1;
        }
        if (i + 6 <= len && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
                int hh = digits(s + i + 1, 2), mm = digits(s + i + 4, 2);

                if (hh < 0 || hh > 23 || mm < 0 || mm > 59)
                        return 0;
                t -= (s[i] == '+' ? 1 : -1) * (int64_t) (hh * 3600 + mm * 60);
                *out = t;
                return i + 6;
        }
        return 0;
}

/* dt_logtime_exim - "2026-11-03 10:15:01[.123][ +0100]" */
size_t dt_logtime_exim(const char *s, size_t len, int64_t *out) {
        struct tm tm = {0};
        size_t i;

        if (!ymd_hms(s, len, ' ', &tm))
                return 0;
        i = frac(s, len, 19);
        if (i + 6 <= len && s[i] == ' ' && (s[i + 1] == '+' || s[i + 1] == '-')) {
                int hh = digits(s + i + 2, 2), mm = digits(s + i + 4, 2);

                if (hh >= 0 && hh <= 23 && mm >= 0 && mm <= 59 &&
                    (i + 6 == len || s[i + 6] == ' ')) {
                        *out = utc_epoch(&tm) -
                               (s[i + 1] == '+' ? 1 : -1) * (int64_t) (hh * 3600 + mm * 60);
                        return i + 6;
                }
        }
        *out = local_epoch(&tm);
        return i;
}

/* zone cache: the offset of one zone for one local hour, so a PHP log costs one TZ switch an hour */
static struct {
        char zone[65];
        int64_t hour;
        int64_t offset;
        bool valid;
} zcache;

/* zone_ok - a TZ database name: [A-Za-z0-9_+-/], no "..", and a regular file under zoneinfo */
static bool zone_ok(const char *z, size_t n) {
        char path[128];
        struct stat st;

        if (n == 0 || n > 64 || z[0] == '/' )
                return false;
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char) z[i];

                if (!(isalnum(c) || c == '_' || c == '+' || c == '-' || c == '/'))
                        return false;
                if (c == '.')
                        return false;
        }
        if (snprintf(path, sizeof path, "/usr/share/zoneinfo/%.*s", (int) n, z) >= (int) sizeof path)
                return false;
        return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* zone_epoch - tm (wall clock in zone z) to the epoch; false when the zone is unknown */
static bool zone_epoch(struct tm *tm, const char *z, size_t n, int64_t *out) {
        int64_t wall = utc_epoch(tm), hour = wall / 3600;
        char *old = NULL;
        const char *o;
        char tzv[70];
        int64_t t;

        if ((n == 3 && (memcmp(z, "UTC", 3) == 0 || memcmp(z, "GMT", 3) == 0)) ||
            (n == 1 && z[0] == 'Z')) {
                *out = wall;
                return true;
        }
        if (zcache.valid && zcache.hour == hour && strlen(zcache.zone) == n &&
            memcmp(zcache.zone, z, n) == 0) {
                *out = wall - zcache.offset;
                return true;
        }
        if (!zone_ok(z, n))
                return false;
        o = getenv("TZ");
        if (o) {
                old = strdup(o);
                if (!old)
                        return false;
        }
        (void) snprintf(tzv, sizeof tzv, ":%.*s", (int) n, z);
        if (setenv("TZ", tzv, 1) < 0) {
                free(old);
                return false;
        }
        tzset();
        t = local_epoch(tm);
        if (old)
                (void) setenv("TZ", old, 1);
        else
                (void) unsetenv("TZ");
        tzset();
        free(old);
        memcpy(zcache.zone, z, n);
        zcache.zone[n] = '\0';
        zcache.hour = hour;
        zcache.offset = wall - t;
        zcache.valid = true;
        *out = t;
        return true;
}

/* dt_logtime_php - "03-Nov-2026 10:15:01 Europe/Berlin" up to (not including) ']' */
size_t dt_logtime_php(const char *s, size_t len, int64_t *out, bool *tz_unknown) {
        struct tm tm = {0};
        const char *z;
        size_t zn;
        int y, d;

        if (len < 21 || s[2] != '-' || s[6] != '-' || s[11] != ' ' || s[20] != ' ')
                return 0;
        d = digits(s, 2);
        tm.tm_mon = month_of(s + 3);
        y = digits(s + 7, 4);
        if (d < 1 || tm.tm_mon < 0 || y < 1970 || !hms(s + 12, &tm))
                return 0;
        tm.tm_mday = d;
        tm.tm_year = y - 1900;
        if (!tm_ok(&tm))
                return 0;
        z = s + 21;
        zn = 0;
        while (21 + zn < len && z[zn] != ']' && z[zn] != ' ')
                zn++;
        *tz_unknown = false;
        if (!zone_epoch(&tm, z, zn, out)) {
                *out = utc_epoch(&tm);
                *tz_unknown = true;
        }
        return 21 + zn;
}

/* dt_log_field - value of key at a word start */
const char *dt_log_field(const char *msg, size_t len, const char *key, size_t *vlen) {
        size_t kl = strlen(key);
        const char *p = msg, *end = msg + len;

        while ((size_t) (end - p) >= kl) {
                const char *hit = memchr(p, key[0], (size_t) (end - p) - kl + 1);
                const char *v, *e;

                if (!hit)
                        return NULL;
                if (memcmp(hit, key, kl) != 0 ||
                    (hit > msg && hit[-1] != ' ' && hit[-1] != ',' && hit[-1] != '\t')) {
                        p = hit + 1;
                        continue;
                }
                v = hit + kl;
                e = v;
                if (e < end && *e == '<') {
                        const char *gt = memchr(e, '>', (size_t) (end - e));

                        e = gt ? gt + 1 : end;
                } else if (e < end && *e == '"') {
                        e++;
                        while (e < end && *e != '"') {
                                if (*e == '\\' && e + 1 < end)
                                        e++;
                                e++;
                        }
                        if (e < end)
                                e++;
                } else {
                        while (e < end && *e != ',' && *e != ' ')
                                e++;
                }
                *vlen = (size_t) (e - v);
                return v;
        }
        return NULL;
}

/* dt_log_is_queue_id - Postfix short (hex, 6+) or long ([0-9A-Za-z], 10+), or an Exim id */
bool dt_log_is_queue_id(const char *s, size_t len) {
        if (dt_exim_is_id(s, len))
                return true;
        if (len < 5 || len >= DT_LOG_QID_MAX)
                return false;
        for (size_t i = 0; i < len; i++)
                if (!isalnum((unsigned char) s[i]))
                        return false;
        return true;
}

/* dt_log_first_addr - the first address of a To: text, lower-cased */
void dt_log_first_addr(char *dst, size_t cap, const char *s, size_t len) {
        const char *lt, *b, *e, *comma;
        char low[DT_LOG_TOKEN_MAX] = "";
        size_t n;

        dst[0] = '\0';
        comma = memchr(s, ',', len);
        if (comma)
                len = (size_t) (comma - s);
        lt = memchr(s, '<', len);
        if (lt) {
                b = lt + 1;
                e = memchr(b, '>', len - (size_t) (b - s));
                if (!e)
                        e = s + len;
        } else {
                b = s;
                e = s + len;
        }
        while (b < e && (*b == ' ' || *b == '\t'))
                b++;
        while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
                e--;
        if (!memchr(b, '@', (size_t) (e - b)))
                return;
        n = (size_t) (e - b);
        if (n >= cap || n >= sizeof low)
                return;         /* a cut address would match the wrong one */
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char) b[i];

                if (c < 0x21 || c == 0x7f)
                        return;
                low[i] = (char) tolower(c);
        }
        /* bytes past ASCII (SMTPUTF8) are kept only when the sanitiser leaves them as they are:
         * invalid UTF-8 or a bidi control makes no address, not a changed one */
        if (dt_sanitize(low, n, dst, cap, NULL) != n || memcmp(dst, low, n) != 0)
                dst[0] = '\0';
}

/* syslog_prefix - " HOST IDENT[PID]: " after a stamp; sets host, ident, pid and *msg */
static bool syslog_prefix(const char *s, size_t len, struct dt_logrec *rec, const char **ident,
                          size_t *ilen, const char **msg, size_t *mlen) {
        const char *end = s + len, *h, *sp, *id, *p;

        h = s;
        while (h < end && *h == ' ')
                h++;
        sp = memchr(h, ' ', (size_t) (end - h));
        if (!sp || sp == h)
                return false;
        id = sp + 1;
        p = id;
        while (p < end && *p != '[' && *p != ':' && *p != ' ')
                p++;
        if (p == id || p >= end || *p == ' ')
                return false;
        *ident = id;
        *ilen = (size_t) (p - id);
        if (*p == '[') {
                int64_t pid = 0;

                p++;
                while (p < end && *p >= '0' && *p <= '9' && pid < INT32_MAX)
                        pid = pid * 10 + (*p++ - '0');
                if (p >= end || *p != ']')
                        return false;
                rec->pid = pid;
                p++;
        }
        if (p >= end || *p != ':')
                return false;
        p++;
        if (p < end && *p == ' ')
                p++;
        dt_log_copy(rec->host, sizeof rec->host, h, (size_t) (sp - h), &rec->flags);
        *msg = p;
        *mlen = (size_t) (end - p);
        return true;
}

static bool ident_is(const char *id, size_t n, const char *pfx) {
        size_t pl = strlen(pfx);

        return n >= pl && memcmp(id, pfx, pl) == 0;
}

/* exim_class - a dt_exim_parse_text() result as a line class */
static enum dt_lineclass exim_class(int r) {
        return r > 0 ? DT_LC_RECORD : r == 0 ? DT_LC_OTHER : DT_LC_MALFORMED;
}

/* message - dispatch a syslog message text on its ident */
static enum dt_lineclass message(const char *ident, size_t ilen, const char *msg, size_t mlen,
                                 struct dt_logrec *rec) {
        int r;

        if (dt_phplog_is_mail(msg, mlen)) {
                r = dt_phplog_parse(msg, mlen, rec);
                return r > 0 ? DT_LC_RECORD : DT_LC_MALFORMED;
        }
        if (dt_postfix_ident(ident, ilen)) {
                r = dt_postfix_parse(ident, ilen, msg, mlen, rec);
                return r > 0 ? DT_LC_RECORD : r == 0 ? DT_LC_OTHER : DT_LC_MALFORMED;
        }
        if (ident_is(ident, ilen, "exim"))
                return exim_class(dt_exim_parse_text(msg, mlen, rec));
        return DT_LC_FOREIGN;
}

static enum dt_lineclass classify(const char *line, size_t len, enum dt_logsrc src, int64_t now,
                                  struct dt_logrec *rec) {
        const char *ident, *msg;
        size_t ilen, mlen, n;
        int64_t t;
        bool tzu;

        if (len > 0 && line[0] == '[') {
                const char *rb = memchr(line, ']', len < 96 ? len : 96);

                if (!rb)
                        return DT_LC_MALFORMED;
                n = dt_logtime_php(line + 1, (size_t) (rb - line - 1), &t, &tzu);
                if (n == 0 || line + 1 + n != rb)
                        return DT_LC_MALFORMED;
                rec->time = t;
                if (tzu)
                        rec->flags |= DT_LR_TZ_UNKNOWN;
                msg = rb + 1;
                mlen = len - (size_t) (msg - line);
                if (mlen > 0 && *msg == ' ') {
                        msg++;
                        mlen--;
                }
                if (!dt_phplog_is_mail(msg, mlen))
                        return DT_LC_OTHER;     /* other php.ini error_log text */
                return dt_phplog_parse(msg, mlen, rec) > 0 ? DT_LC_RECORD : DT_LC_MALFORMED;
        }
        if ((n = dt_logtime_rfc3339(line, len, &t)) > 0 ||
            (src != DT_SRC_EXIM && (n = dt_logtime_syslog(line, len, now, &t)) > 0)) {
                if (line[3] == ' ')
                        rec->flags |= DT_LR_NO_YEAR;
                rec->time = t;
                if (!syslog_prefix(line + n, len - n, rec, &ident, &ilen, &msg, &mlen))
                        return DT_LC_MALFORMED;
                return message(ident, ilen, msg, mlen, rec);
        }
        if ((n = dt_logtime_exim(line, len, &t)) > 0) {
                rec->time = t;
                return exim_class(dt_exim_parse_text(line + n, len - n, rec));
        }
        /* "HOST IDENT[PID]: ..." with no stamp of its own (journal export) */
        rec->time = now;
        if (syslog_prefix(line, len, rec, &ident, &ilen, &msg, &mlen)) {
                if (ident_is(ident, ilen, "exim") && dt_logtime_exim(msg, mlen, &t) == 0)
                        return DT_LC_MALFORMED;
                if (!ident_is(ident, ilen, "exim") && !dt_phplog_is_mail(msg, mlen))
                        return DT_LC_MALFORMED;
                return message(ident, ilen, msg, mlen, rec);
        }
        return DT_LC_MALFORMED;
}

/* dt_logline_parse - classify one line and fill rec */
enum dt_lineclass dt_logline_parse(const char *line, size_t len, enum dt_logsrc src, int64_t now,
                                   const struct dt_limits *lim, struct dt_logrec *rec,
                                   struct dt_linestats *st) {
        enum dt_lineclass c;
        size_t i = 0;

        dt_logrec_init(rec);
        if (len > 0 && line[len - 1] == '\r')
                len--;
        if (len > lim->log_line_bytes)
                c = DT_LC_TOO_LONG;
        else {
                while (i < len && (line[i] == ' ' || line[i] == '\t'))
                        i++;
                if (i == len || line[i] == '#')
                        c = DT_LC_COMMENT;
                else
                        c = classify(line, len, src, now, rec);
        }
        if (c != DT_LC_RECORD)
                dt_logrec_init(rec);    /* no half-filled record leaves here */
        if (st) {
                st->n[c]++;
                if (c == DT_LC_RECORD && (rec->flags & DT_LR_TZ_UNKNOWN))
                        st->tz_unknown++;
                if (c == DT_LC_RECORD && (rec->flags & DT_LR_TRUNCATED))
                        st->truncated++;
        }
        return c;
}

bool dt_log_num(const char *v, size_t n, int64_t *out) {
        int64_t x = 0;
        size_t i;

        if (n == 0 || n > 18)
                return false;
        for (i = 0; i < n; i++) {
                if (v[i] < '0' || v[i] > '9')
                        return false;
                x = x * 10 + (v[i] - '0');
        }
        *out = x;
        return true;
}
