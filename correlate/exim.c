/* exim.c - the Exim mainlog lines that trace one message: arrival, deliveries, completion
 *
 * An arrival ("<=") carries everything attribution needs in one line: U= (the local user that
 * ran exim), P= (local, esmtpsa...), A= (authenticator:login), H= (client), id= (Message-ID),
 * S= (size), T= (subject). +arguments adds "cwd=DIR N args: ..." lines before it, which name the
 * directory a script ran in.
 * SECURITY: sender, recipients, id= and T= are chosen by the sender; T= is quoted with
 * backslash escapes. Parsed with explicit lengths, sanitised into fixed buffers. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "correlate/exim.h"

static bool alnum(char c) {
        return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static bool run_alnum(const char *s, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (!alnum(s[i]))
                        return false;
        return true;
}

/* dt_exim_is_id - "1PLKOW-00046U-EW" (6-6-2) or "10HmaX-000000005vi-0000" (6-11-4) */
bool dt_exim_is_id(const char *s, size_t len) {
        if (len == 16)
                return s[6] == '-' && s[13] == '-' && run_alnum(s, 6) && run_alnum(s + 7, 6) &&
                       run_alnum(s + 14, 2);
        if (len == 23)
                return s[6] == '-' && s[18] == '-' && run_alnum(s, 6) && run_alnum(s + 7, 11) &&
                       run_alnum(s + 19, 4);
        return false;
}

/* unquote - T="..." without its quotes, \" and \\ undone, into dst */
static void unquote(char *dst, size_t cap, const char *v, size_t n, unsigned *flags) {
        char tmp[DT_LOG_TEXT_MAX * 2] = "";
        size_t o = 0;

        if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
                v++;
                n -= 2;
        }
        for (size_t i = 0; i < n && o < sizeof tmp; i++) {
                if (v[i] == '\\' && i + 1 < n && (v[i + 1] == '"' || v[i + 1] == '\\'))
                        i++;
                tmp[o++] = v[i];
        }
        dt_log_copy(dst, cap, tmp, o, flags);
        if (o == sizeof tmp)
                *flags |= DT_LR_TRUNCATED;
}

/* hostfield - H=name (helo) [ip]:port I=... : the name and the first [ip] before the next
 * " X=" field */
static void hostfield(const char *v, const char *end, char *host, size_t hcap, char *ip,
                      size_t icap, unsigned *flags) {
        const char *e = v, *lb, *rb;

        while (e < end) {
                if (*e == ' ' && e + 2 < end && alnum(e[1]) && (e[2] == '=' || (e + 3 < end &&
                                                                             e[3] == '=')))
                        break;
                e++;
        }
        if (v < e && *v != '[' && *v != '(') {
                const char *sp = memchr(v, ' ', (size_t) (e - v));

                dt_log_copy(host, hcap, v, (size_t) ((sp ? sp : e) - v), flags);
        }
        lb = memchr(v, '[', (size_t) (e - v));
        if (lb && (rb = memchr(lb, ']', (size_t) (e - lb))))
                dt_log_copy(ip, icap, lb + 1, (size_t) (rb - lb - 1), flags);
}


static int arrival(const char *b, const char *end, struct dt_logrec *rec) {
        size_t n = (size_t) (end - b), vl;
        const char *v, *sp;

        sp = memchr(b, ' ', n);
        dt_log_addr(rec->from, sizeof rec->from, b, (size_t) ((sp ? sp : end) - b), &rec->flags);
        if ((v = dt_log_field(b, n, "U=", &vl)))
                dt_log_copy(rec->user, sizeof rec->user, v, vl, &rec->flags);
        if ((v = dt_log_field(b, n, "P=", &vl)))
                dt_log_copy(rec->protocol, sizeof rec->protocol, v, vl, &rec->flags);
        if ((v = dt_log_field(b, n, "A=", &vl))) {
                const char *c = memchr(v, ':', vl);

                if (c) {
                        dt_log_copy(rec->sasl_method, sizeof rec->sasl_method, v,
                                    (size_t) (c - v), &rec->flags);
                        dt_log_copy(rec->sasl_username, sizeof rec->sasl_username, c + 1,
                                    vl - (size_t) (c + 1 - v), &rec->flags);
                } else
                        dt_log_copy(rec->sasl_method, sizeof rec->sasl_method, v, vl,
                                    &rec->flags);
        }
        if ((v = dt_log_field(b, n, "H=", &vl)))
                hostfield(v, end, rec->client_host, sizeof rec->client_host, rec->client_ip,
                          sizeof rec->client_ip, &rec->flags);
        if ((v = dt_log_field(b, n, "S=", &vl)))
                (void) dt_log_num(v, vl, &rec->size);          /* the test suite logs S=sss */
        if ((v = dt_log_field(b, n, "id=", &vl))) {
                if (vl >= 2 && v[0] == '<' && v[vl - 1] == '>') {
                        v++;
                        vl -= 2;
                }
                if (vl >= sizeof rec->message_id)
                        return -EBADMSG;
                dt_log_copy(rec->message_id, sizeof rec->message_id, v, vl, &rec->flags);
        }
        if ((v = dt_log_field(b, n, "T=", &vl)))
                unquote(rec->subject, sizeof rec->subject, v, vl, &rec->flags);
        rec->kind = DT_LK_ARRIVAL;
        return 1;
}

static int delivery(const char *op, const char *b, const char *end, struct dt_logrec *rec) {
        size_t n = (size_t) (end - b), vl;
        const char *v, *sp;

        sp = memchr(b, ' ', n);
        dt_log_addr(rec->to, sizeof rec->to, b, (size_t) ((sp ? sp : end) - b), &rec->flags);
        if ((v = dt_log_field(b, n, "H=", &vl))) {
                char ip[64] = "";

                hostfield(v, end, rec->relay, sizeof rec->relay, ip, sizeof ip, &rec->flags);
                if (!rec->relay[0])
                        dt_log_copy(rec->relay, sizeof rec->relay, ip, strlen(ip), &rec->flags);
        }       /* no H=: a local transport; relay stays empty, as it is no relay */
        if ((v = dt_log_field(b, n, "C=", &vl))) {
                const char *idp = vl > 3 ? memchr(v, 'i', vl) : NULL;

                while (idp && (size_t) (v + vl - idp) > 3) {
                        if (memcmp(idp, "id=", 3) == 0) {
                                const char *s = idp + 3, *e = s;

                                while (e < v + vl && (alnum(*e) || *e == '-'))
                                        e++;
                                if (dt_log_is_queue_id(s, (size_t) (e - s))) {
                                        memcpy(rec->next_queue_id, s, (size_t) (e - s));
                                        rec->next_queue_id[e - s] = '\0';
                                }
                                break;
                        }
                        idp = memchr(idp + 1, 'i', (size_t) (v + vl - idp - 1));
                }
        }
        strcpy(rec->status, op[0] == '*' && op[1] == '*' ? "bounced"
                            : op[0] == '=' && op[1] == '=' ? "deferred" : "sent");
        rec->kind = DT_LK_DELIVERY;
        return 1;
}

/* dt_exim_parse - one mainlog line after its stamp and pid */
int dt_exim_parse(const char *msg, size_t len, struct dt_logrec *rec) {
        const char *end = msg + len, *sp, *b;
        size_t idl;

        rec->mta = DT_MTA_EXIM;
        strcpy(rec->instance, "exim");
        if (len > 4 && memcmp(msg, "cwd=", 4) == 0) {
                const char *a = NULL, *p = msg + 4;

                while (p + 6 <= end) {
                        const char *sp2 = memchr(p, ' ', (size_t) (end - p));

                        if (!sp2)
                                break;
                        if ((size_t) (end - sp2) >= 7 && memcmp(sp2, " args:", 6) == 0) {
                                a = sp2;
                                break;
                        }
                        p = sp2 + 1;
                }
                if (!a)
                        return -EBADMSG;
                /* "cwd=/var/www 3 args: ..." : the directory ends before " N args:" */
                sp = a;
                while (sp > msg + 4 && sp[-1] != ' ')
                        sp--;
                if (sp <= msg + 4)
                        return -EBADMSG;
                dt_log_copy(rec->script, sizeof rec->script, msg + 4, (size_t) (sp - 1 - msg - 4),
                            &rec->flags);
                b = a + 6;
                while (b < end && *b == ' ')
                        b++;
                dt_log_copy(rec->args, sizeof rec->args, b, (size_t) (end - b), &rec->flags);
                rec->kind = DT_LK_CWD;
                return 1;
        }
        sp = memchr(msg, ' ', len);
        idl = sp ? (size_t) (sp - msg) : len;
        if (!dt_exim_is_id(msg, idl))
                return 0;
        memcpy(rec->queue_id, msg, idl);
        rec->queue_id[idl] = '\0';
        if (!sp)
                return 0;
        b = sp + 1;
        if (end - b == 9 && memcmp(b, "Completed", 9) == 0) {
                rec->kind = DT_LK_COMPLETED;
                return 1;
        }
        if (end - b >= 3 && b[2] == ' ') {
                if (b[0] == '<' && b[1] == '=')
                        return arrival(b + 3, end, rec);
                if ((b[0] == '=' && b[1] == '>') || (b[0] == '-' && b[1] == '>') ||
                    (b[0] == '*' && b[1] == '>') || (b[0] == '*' && b[1] == '*') ||
                    (b[0] == '=' && b[1] == '='))
                        return delivery(b, b + 3, end, rec);
        }
        return 0;
}

/* dt_exim_parse_text - a mainlog line's text as syslog carries it */
int dt_exim_parse_text(const char *msg, size_t len, struct dt_logrec *rec) {
        int64_t t;
        size_t n = dt_logtime_exim(msg, len, &t);

        if (n > 0) {
                rec->time = t;
                msg += n;
                len -= n;
        }
        while (len > 0 && *msg == ' ') {
                msg++;
                len--;
        }
        if (len > 0 && *msg == '[') {
                const char *rb = memchr(msg, ']', len < 24 ? len : 24);
                int64_t pid = 0;

                if (rb) {
                        for (const char *q = msg + 1; q < rb && *q >= '0' && *q <= '9'; q++)
                                pid = pid * 10 + (*q - '0');
                        rec->pid = pid;
                        len -= (size_t) (rb + 1 - msg);
                        msg = rb + 1;
                        while (len > 0 && *msg == ' ') {
                                msg++;
                                len--;
                        }
                }
        }
        return dt_exim_parse(msg, len, rec);
}
