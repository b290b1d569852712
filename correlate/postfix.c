/* postfix.c - the Postfix lines that trace one message: pickup, smtpd, cleanup, qmgr, delivery
 *
 * Lines are read by what follows "QID: " rather than by the daemon's name, so renamed services
 * (master.cf "submission", "10025", "amavis/smtp") and second instances ("postfix-out/...") need
 * no table. The daemon's name still goes into rec->service for the trace.
 * SECURITY: from=, to=, message-id= and header values are chosen by the sender. Lengths are
 * explicit throughout (memchr/memcmp, no sscanf/strtok); values are sanitised and capped by
 * dt_log_copy(); a Message-ID too long for its buffer makes the line malformed rather than
 * cut, since a cut id could match another message. */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "correlate/postfix.h"

/* dt_postfix_ident - "postfix", "postfix/...", "postfix-out/..." */
bool dt_postfix_ident(const char *ident, size_t len) {
        return len >= 7 && memcmp(ident, "postfix", 7) == 0 &&
               (len == 7 || ident[7] == '/' || ident[7] == '-');
}

static bool is_hex_upper(char c) {
        return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
}

/* qid_ok - short (upper-case hex, 5+) or long (10+ alphanumerics with a digit) queue id; keeps
 * words such as "NOQUEUE" and "statistics" out */
static bool qid_ok(const char *s, size_t n) {
        bool hex = true, digit = false;

        if (n < 5 || n >= DT_LOG_QID_MAX)
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = s[i];

                if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')))
                        return false;
                if (!is_hex_upper(c))
                        hex = false;
                if (c >= '0' && c <= '9')
                        digit = true;
        }
        return hex || (n >= 10 && digit);
}

static bool starts(const char *s, size_t len, const char *pfx, size_t *pl) {
        *pl = strlen(pfx);
        return len >= *pl && memcmp(s, pfx, *pl) == 0;
}


/* host_ip - "host[ip]" or "host[ip]:port" */
static void host_ip(const char *v, size_t n, struct dt_logrec *rec) {
        const char *lb = memchr(v, '[', n), *rb;

        if (!lb) {
                dt_log_copy(rec->client_host, sizeof rec->client_host, v, n, &rec->flags);
                return;
        }
        dt_log_copy(rec->client_host, sizeof rec->client_host, v, (size_t) (lb - v), &rec->flags);
        rb = memchr(lb, ']', n - (size_t) (lb - v));
        if (rb)
                dt_log_copy(rec->client_ip, sizeof rec->client_ip, lb + 1, (size_t) (rb - lb - 1),
                            &rec->flags);
}

/* queued_as - "queued as ID" / "forwarded as ID" inside a status comment */
static void queued_as(const char *s, size_t len, struct dt_logrec *rec) {
        static const char *const keys[] = { "queued as ", "forwarded as " };

        for (size_t k = 0; k < 2; k++) {
                size_t kl = strlen(keys[k]);
                const char *p = s, *end = s + len;

                while ((size_t) (end - p) > kl) {
                        const char *hit = memchr(p, keys[k][0], (size_t) (end - p) - kl);
                        const char *b, *e;

                        if (!hit)
                                break;
                        if (memcmp(hit, keys[k], kl) != 0) {
                                p = hit + 1;
                                continue;
                        }
                        b = e = hit + kl;
                        while (e < end && ((*e >= '0' && *e <= '9') || (*e >= 'A' && *e <= 'Z') ||
                                           (*e >= 'a' && *e <= 'z') || *e == '-'))
                                e++;
                        if (e > b && dt_log_is_queue_id(b, (size_t) (e - b))) {
                                memcpy(rec->next_queue_id, b, (size_t) (e - b));
                                rec->next_queue_id[e - b] = '\0';
                                return;
                        }
                        p = hit + 1;
                }
        }
}

static int msgid(const char *v, size_t n, struct dt_logrec *rec) {
        const char *e;

        while (n > 0 && v[n - 1] == ' ')
                n--;
        if (n > 0 && v[0] == '<') {
                e = memchr(v, '>', n);
                v++;
                n = e ? (size_t) (e - v) : n - 1;
        }
        if (n == 0)
                return 0;
        if (n >= sizeof rec->message_id)
                return -EBADMSG;
        for (size_t i = 0; i < n; i++)
                if ((unsigned char) v[i] < 0x21 || v[i] == 0x7f)
                        return -EBADMSG;
        dt_log_copy(rec->message_id, sizeof rec->message_id, v, n, &rec->flags);
        rec->kind = DT_LK_MSGID;
        return 1;
}

/* header - "info: header Subject: Hi from host[ip]; from=<a> to=<b> proto=ESMTP helo=<h>" */
static int header(const char *v, size_t n, struct dt_logrec *rec) {
        const char *end = v + n, *p = v, *cut = NULL;

        /* the header text ends at the last " from " before "; from=<" */
        while (p < end) {
                const char *hit = memchr(p, ';', (size_t) (end - p));

                if (!hit)
                        break;
                if ((size_t) (end - hit) >= 8 && memcmp(hit, "; from=<", 8) == 0)
                        cut = hit;
                p = hit + 1;
        }
        if (cut) {
                size_t fl;
                const char *f = dt_log_field(cut + 2, (size_t) (end - cut - 2), "from=", &fl);

                if (f)
                        dt_log_addr(rec->from, sizeof rec->from, f, fl, &rec->flags);
                f = dt_log_field(cut + 2, (size_t) (end - cut - 2), "to=", &fl);
                if (f)
                        dt_log_addr(rec->to, sizeof rec->to, f, fl, &rec->flags);
                end = cut;
                for (p = cut; p - v >= 6; p--)
                        if (memcmp(p - 6, " from ", 6) == 0) {
                                end = p - 6;
                                break;
                        }
        }
        dt_log_copy(rec->header, sizeof rec->header, v, (size_t) (end - v), &rec->flags);
        if ((size_t) (end - v) > 9 && strncasecmp(v, "Subject: ", 9) == 0)
                dt_log_copy(rec->subject, sizeof rec->subject, v + 9, (size_t) (end - v - 9),
                            &rec->flags);
        rec->kind = DT_LK_HEADER;
        return 1;
}

/* dt_postfix_parse - one Postfix message text */
int dt_postfix_parse(const char *ident, size_t ilen, const char *msg, size_t mlen,
                     struct dt_logrec *rec) {
        const char *colon, *b, *v, *slash;
        size_t n, pl, vl;
        int64_t x;

        rec->mta = DT_MTA_POSTFIX;
        slash = memchr(ident, '/', ilen);
        n = slash ? (size_t) (slash - ident) : ilen;
        dt_log_copy(rec->instance, sizeof rec->instance, ident, n, &rec->flags);
        if (slash)
                dt_log_copy(rec->service, sizeof rec->service, slash + 1,
                            ilen - n - 1, &rec->flags);

        colon = memchr(msg, ':', mlen < DT_LOG_QID_MAX + 1 ? mlen : DT_LOG_QID_MAX + 1);
        if (!colon || !qid_ok(msg, (size_t) (colon - msg)) || (size_t) (colon - msg) + 2 > mlen ||
            colon[1] != ' ')
                return 0;
        memcpy(rec->queue_id, msg, (size_t) (colon - msg));
        rec->queue_id[colon - msg] = '\0';
        b = colon + 2;
        n = mlen - (size_t) (b - msg);

        if (starts(b, n, "uid=", &pl)) {
                v = b + pl;
                vl = 0;
                while (vl < n - pl && v[vl] >= '0' && v[vl] <= '9')
                        vl++;
                if (!dt_log_num(v, vl, &x) || x > UINT32_MAX)
                        return -EBADMSG;
                rec->uid = x;
                v = dt_log_field(b, n, "from=", &vl);
                if (v)
                        dt_log_addr(rec->from, sizeof rec->from, v, vl, &rec->flags);
                rec->kind = DT_LK_PICKUP;
                return 1;
        }
        if (starts(b, n, "client=", &pl)) {
                v = dt_log_field(b, n, "client=", &vl);
                host_ip(v, vl, rec);
                if ((v = dt_log_field(b, n, "sasl_method=", &vl)))
                        dt_log_copy(rec->sasl_method, sizeof rec->sasl_method, v, vl, &rec->flags);
                if ((v = dt_log_field(b, n, "sasl_username=", &vl)))
                        dt_log_copy(rec->sasl_username, sizeof rec->sasl_username, v, vl,
                                    &rec->flags);
                rec->kind = DT_LK_CLIENT;
                return 1;
        }
        if (starts(b, n, "message-id=", &pl))
                return msgid(b + pl, n - pl, rec);
        if (starts(b, n, "info: header ", &pl) || starts(b, n, "warning: header ", &pl))
                return header(b + pl, n - pl, rec);
        if (starts(b, n, "from=", &pl)) {
                v = dt_log_field(b, n, "from=", &vl);
                dt_log_addr(rec->from, sizeof rec->from, v, vl, &rec->flags);
                if ((v = dt_log_field(b, n, "size=", &vl)) && !dt_log_num(v, vl, &rec->size))
                        return -EBADMSG;
                if ((v = dt_log_field(b, n, "nrcpt=", &vl)) && !dt_log_num(v, vl, &rec->nrcpt))
                        return -EBADMSG;
                if ((v = dt_log_field(b, n, "status=", &vl)))
                        dt_log_copy(rec->status, sizeof rec->status, v, vl, &rec->flags);
                rec->kind = DT_LK_QMGR;
                return 1;
        }
        if (starts(b, n, "to=", &pl)) {
                v = dt_log_field(b, n, "to=", &vl);
                dt_log_addr(rec->to, sizeof rec->to, v, vl, &rec->flags);
                if ((v = dt_log_field(b, n, "relay=", &vl)))
                        dt_log_copy(rec->relay, sizeof rec->relay, v, vl, &rec->flags);
                v = dt_log_field(b, n, "status=", &vl);
                if (!v)
                        return -EBADMSG;
                dt_log_copy(rec->status, sizeof rec->status, v, vl, &rec->flags);
                queued_as(v + vl, n - (size_t) (v + vl - b), rec);
                rec->kind = DT_LK_DELIVERY;
                return 1;
        }
        if (n == 7 && memcmp(b, "removed", 7) == 0) {
                rec->kind = strcmp(rec->service, "postsuper") == 0 ? DT_LK_POSTSUPER
                                                                   : DT_LK_REMOVED;
                dt_log_copy(rec->status, sizeof rec->status, b, n, &rec->flags);
                return 1;
        }
        if (starts(b, n, "sender non-delivery notification: ", &pl) ||
            starts(b, n, "sender delivery status notification: ", &pl) ||
            starts(b, n, "postmaster non-delivery notification: ", &pl)) {
                if (!dt_log_is_queue_id(b + pl, n - pl))
                        return -EBADMSG;
                memcpy(rec->next_queue_id, b + pl, n - pl);
                rec->next_queue_id[n - pl] = '\0';
                rec->kind = DT_LK_BOUNCE;
                return 1;
        }
        if (starts(b, n, "placed on hold", &pl) || starts(b, n, "released from hold", &pl) ||
            starts(b, n, "requeued", &pl)) {
                dt_log_copy(rec->status, sizeof rec->status, b, pl, &rec->flags);
                rec->kind = DT_LK_POSTSUPER;
                return 1;
        }
        return 0;
}
