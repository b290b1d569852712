/* attribute.h - who on this host sent a message, and who sent most in a time window
 *
 * dt_correlate_message() follows the links from a failure report's original headers: the
 * Message-ID (or the queue id of a local-submission Received hop) to this host's MTA entry, back
 * through any re-queue (content filter) to the submission (uid and user, client and SASL login,
 * or Exim U=/A=), then to the PHP mail() call made at that second (within the index's php
 * window) to the same recipient, cross-checked with the subject and the
 * X-PHP-Originating-Script basename. Confidence:
 *   exact   the MTA entry and the PHP call both matched
 *   strong  the MTA entry matched; the script, if any, only from the headers
 *   weak    headers alone (X-PHP-Originating-Script, a local-submission hop), nothing in the logs
 * No MTA entry and no header evidence gives no attribution: never a guess. */
#ifndef DT_ATTRIBUTE_H
#define DT_ATTRIBUTE_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "correlate/index.h"
#include "report/headers.h"

enum dt_confidence {
        DT_CONF_WEAK,
        DT_CONF_STRONG,
        DT_CONF_EXACT,
        _DT_CONF_MAX,
        _DT_CONF_INVALID = -EINVAL,
};

const char *dt_confidence_name(enum dt_confidence c);  /* "weak", "strong", "exact" */

/* evidence links, in the order they were followed; EVIDENCE is their names comma-joined */
#define DT_EV_MESSAGE_ID        (1u << 0)       /* original Message-ID found in the MTA log */
#define DT_EV_RECEIVED_QUEUE_ID (1u << 1)       /* queue id from a local Received hop */
#define DT_EV_REQUEUE           (1u << 2)       /* walked back through a re-queue */
#define DT_EV_PICKUP_UID        (1u << 3)       /* postfix pickup uid= */
#define DT_EV_SMTP_CLIENT       (1u << 4)       /* smtpd client= */
#define DT_EV_SASL_LOGIN        (1u << 5)       /* sasl_username= / Exim A= */
#define DT_EV_EXIM_USER         (1u << 6)       /* Exim U= on a local arrival */
#define DT_EV_EXIM_CWD          (1u << 7)       /* Exim +arguments cwd= */
#define DT_EV_PHP_CALL          (1u << 8)       /* PHP mail.log: time + recipient */
#define DT_EV_PHP_SUBJECT       (1u << 9)       /* ... and subject agreed */
#define DT_EV_PHP_HEADER        (1u << 10)      /* X-PHP-Originating-Script */
#define DT_EV_RECEIVED_UID      (1u << 11)      /* "(Postfix, from userid N)" in the headers */
#define DT_EV_RELAYED           (1u << 12)      /* came from another host: client named */

struct dt_attribution {
        enum dt_confidence confidence;
        unsigned evidence;              /* DT_EV_* */
        char *evidence_text;            /* "message-id,pickup-uid,php-call,..." */
        char *mta;                      /* "postfix", "postfix-out", "exim", or NULL */
        char *queue_id;                 /* the submission's queue id */
        char *message_id;
        char *host;                     /* the host that submitted it: this host's log name, or
                                         * the relaying client (relayed == true) */
        bool relayed;
        int64_t uid;                    /* -1 when not known */
        char *user;                     /* getpwuid_r, else the log's (Exim U=), else NULL */
        char *script_path;              /* PHP script, header script, or Exim cwd; or NULL */
        int64_t script_line;            /* -1 when not known */
        char *client_host, *client_ip;
        char *sasl_username, *sasl_method;
        char *env_from;
        int64_t time;                   /* submission time (epoch), 0 when not known */
        int64_t php_time;               /* the PHP call's time, 0 when none matched */
};

/* dt_correlate_prepare - compile the lookups' statements and load NSS's modules now (at start),
 * so that the first failure report does not pay for them (about 0.4 ms each); 0 or -EIO */
int dt_correlate_prepare(struct dt_index *idx);

/* dt_correlate_message - original: the report's original headers (borrowed). arrival_hint:
 * the report's Arrival-Date (or the original Date), 0 when unknown; used to pick among
 * repeated Message-IDs and for header-only PHP matching. 0 and *out set (NULL when nothing
 * could be attributed), or -EIO / -ENOMEM. */
int dt_correlate_message(struct dt_index *idx, const struct dt_headers *original,
                         int64_t arrival_hint, struct dt_attribution **out);

struct dt_attribution *dt_attribution_free(struct dt_attribution *a);
DEFINE_FREEP(struct dt_attribution, dt_attribution_free)

enum dt_sender_kind {
        DT_SENDER_UID,                  /* locally submitted: uid (+ the PHP script, if any) */
        DT_SENDER_SASL,                 /* authenticated SMTP login */
        DT_SENDER_CLIENT,               /* unauthenticated relay client (another host) */
        _DT_SENDER_MAX,
};

const char *dt_sender_kind_name(enum dt_sender_kind k);        /* "uid", "sasl", "client" */

struct dt_top_sender {
        enum dt_sender_kind kind;
        int64_t uid;                    /* DT_SENDER_UID; -1 otherwise */
        char *user;                     /* getpwuid_r name, Exim U=, or NULL */
        char *script;                   /* the PHP script most of its messages came from, or NULL */
        char *sasl_username;            /* DT_SENDER_SASL */
        char *client;                   /* DT_SENDER_CLIENT: the client's IP */
        uint64_t count;                 /* messages in the window */
        double usual;                   /* median count in the same window on previous days */
        unsigned days;                  /* previous days looked at */
};

#define DT_TOP_SENDERS_MAX      20
#define DT_TOP_BASELINE_DAYS    14

struct dt_top_senders {
        struct dt_top_sender *v;        /* by count, largest first */
        size_t n;
        int64_t from, to;
};

/* dt_correlate_window - the top local senders (at most DT_TOP_SENDERS_MAX) of messages first
 * seen in [from, to), each with its count and its own usual count for such a window (median
 * over the DT_TOP_BASELINE_DAYS previous days). Loopback re-injections (content filters) are
 * not senders. 0 and *out set (n may be 0), or -EIO / -ENOMEM. */
int dt_correlate_window(struct dt_index *idx, int64_t from, int64_t to,
                        struct dt_top_senders **out);

/* dt_top_sender_unusual - count >= min_messages and count > factor * max(usual, 1) */
bool dt_top_sender_unusual(const struct dt_top_sender *s, double factor, uint64_t min_messages);

struct dt_top_senders *dt_top_senders_free(struct dt_top_senders *t);
DEFINE_FREEP(struct dt_top_senders, dt_top_senders_free)

#endif
