/* phplog.c - one PHP mail() call from php.ini's mail.log
 *
 * PHP writes "mail() on [SCRIPT:LINE]: To: TO -- Headers: HEADERS -- Subject: SUBJECT", with the
 * CRLFs between headers turned into spaces. The script path may hold ':' (the line number is
 * after the last one), and every part after "To:" is text the script chose.
 * SECURITY: all of it may be attacker text (a web form's subject, a spoofed From); the split is
 * done with explicit lengths on fixed markers, values are sanitised into fixed buffers, and an
 * ambiguous line (a marker inside a value) gives a wrong field at worst, never an overrun. */
#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "correlate/phplog.h"

static const char mark[] = "mail() on [";

/* dt_phplog_is_mail - the text is a mail() record */
bool dt_phplog_is_mail(const char *msg, size_t len) {
        return len >= sizeof mark - 1 && memcmp(msg, mark, sizeof mark - 1) == 0;
}

/* find - first occurrence of needle in s[0..len) */
static const char *find(const char *s, size_t len, const char *needle) {
        size_t nl = strlen(needle);

        if (nl == 0 || len < nl)
                return NULL;
        for (const char *p = s; (size_t) (s + len - p) >= nl;) {
                const char *hit = memchr(p, needle[0], (size_t) (s + len - p) - nl + 1);

                if (!hit)
                        return NULL;
                if (memcmp(hit, needle, nl) == 0)
                        return hit;
                p = hit + 1;
        }
        return NULL;
}

/* rfind - last occurrence */
static const char *rfind(const char *s, size_t len, const char *needle) {
        const char *last = NULL, *p = s, *hit;

        while ((hit = find(p, len - (size_t) (p - s), needle))) {
                last = hit;
                p = hit + 1;
        }
        return last;
}

/* from_header - the From: value in a headers text whose line breaks became spaces: up to the
 * next " Name:" token */
static void from_header(const char *h, size_t n, struct dt_logrec *rec) {
        const char *end = h + n, *v = NULL, *e;

        for (const char *p = h; p + 5 <= end; p++)
                if ((p == h || p[-1] == ' ') && strncasecmp(p, "From:", 5) == 0) {
                        v = p + 5;
                        break;
                }
        if (!v)
                return;
        while (v < end && *v == ' ')
                v++;
        for (e = v; e < end; e++) {
                if (*e != ' ')
                        continue;
                const char *t = e + 1;

                while (t < end && (isalnum((unsigned char) *t) || *t == '-'))
                        t++;
                if (t > e + 1 && t < end && *t == ':')
                        break;
        }
        while (e > v && e[-1] == ' ')
                e--;
        dt_log_copy(rec->from_hdr, sizeof rec->from_hdr, v, (size_t) (e - v), &rec->flags);
}

/* dt_phplog_parse - the text from "mail() on [" */
int dt_phplog_parse(const char *msg, size_t len, struct dt_logrec *rec) {
        const char *p = msg + sizeof mark - 1, *end = msg + len;
        const char *close, *colon, *to, *hd, *hb, *sj;
        int64_t line = 0;
        size_t tl;

        if (!dt_phplog_is_mail(msg, len))
                return -EBADMSG;
        close = find(p, (size_t) (end - p), "]: To: ");
        if (!close)
                return -EBADMSG;
        colon = NULL;
        for (const char *q = close; q > p; q--)
                if (q[-1] == ':') {
                        colon = q - 1;
                        break;
                }
        if (!colon || colon == p || close - colon - 1 < 1 || close - colon - 1 > 9)
                return -EBADMSG;
        for (const char *q = colon + 1; q < close; q++) {
                if (*q < '0' || *q > '9')
                        return -EBADMSG;
                line = line * 10 + (*q - '0');
        }
        rec->mta = DT_MTA_PHP;
        rec->kind = DT_LK_PHP_MAIL;
        rec->script_line = line;
        dt_log_copy(rec->script, sizeof rec->script, p, (size_t) (colon - p), &rec->flags);

        to = close + 7;
        hd = find(to, (size_t) (end - to), " -- Headers: ");
        sj = rfind(hd ? hd : to, (size_t) (end - (hd ? hd : to)), " -- Subject: ");
        hb = hd ? hd + 13 : to;
        tl = (size_t) ((hd ? hd : sj ? sj : end) - to);
        dt_log_copy(rec->to_raw, sizeof rec->to_raw, to, tl, &rec->flags);
        dt_log_first_addr(rec->to, sizeof rec->to, to, tl);
        /* empty headers print as " -- Headers: -- Subject: ", the two markers sharing a space:
         * the Subject then starts before the headers text would, which is empty */
        if (hd && (!sj || sj >= hb))
                from_header(hb, (size_t) ((sj ? sj : end) - hb), rec);
        if (sj)
                dt_log_copy(rec->subject, sizeof rec->subject, sj + 13, (size_t) (end - sj - 13),
                            &rec->flags);
        return 1;
}
