/* headers.h - a mail header block, split into fields, and what it says about the sender
 *
 * Two layers. dt_headers_split() cuts a raw header block (an embedded message, a
 * text/rfc822-headers part, a message/feedback-report part, headers pasted into text) into
 * unfolded fields, within limits->header_bytes and limits->header_fields. dt_headers_parse()
 * goes on to pull out what attribution needs: Message-ID, From, Subject, Date, the Received
 * chain with any local-submission hop (Postfix pickup, Exim local), and the headers hosting
 * panels and PHP add to name the script or user that sent a message.
 *
 * Every string in struct dt_headers has been decoded (RFC 2047, where the field allows it) and
 * passed through dt_sanitize(): valid UTF-8, no control characters, capped. Raw field values in
 * struct dt_header_block are NOT clean: they may hold NUL, bare CR and 8-bit bytes. */
#ifndef DT_HEADERS_H
#define DT_HEADERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "report/error.h"
#include "report/limits.h"
#include "report/macro.h"

#define DT_HEADER_VALUE_MAX     8192u   /* raw bytes kept of one unfolded field value */
#define DT_HEADERS_TEXT_MAX     1024u   /* one extracted string (Subject, From, ...), cleaned */
#define DT_HEADERS_LONG_MAX     4095u   /* Authentication-Results, X-Source-Args: long by nature */
#define DT_HEADERS_TOKEN_MAX    255u    /* a host name, an address, an id inside a Received hop */
#define DT_HEADERS_HOPS_MAX     100u    /* Received hops kept; the rest are counted and dropped */

/* ---- the raw layer ---- */

struct dt_header_field {
        char *name;             /* as received: printable ASCII, no ':', NUL-terminated */
        char *value;            /* unfolded (folding CRLF/LF removed), leading and trailing blanks
                                 * trimmed, capped at DT_HEADER_VALUE_MAX, NUL-terminated; may hold
                                 * NUL, CR or 8-bit bytes: use value_len */
        size_t value_len;
        size_t raw_len;         /* the value's length before the cap */
        size_t offset;          /* where the field starts in the buffer given to dt_headers_split */
};

/* flags of struct dt_header_block */
#define DT_HB_TRUNCATED (1u << 0)       /* some value was cut at DT_HEADER_VALUE_MAX */
#define DT_HB_NO_BLANK  (1u << 1)       /* the block ran to the end of the buffer */
#define DT_HB_STOPPED   (1u << 2)       /* the block ended at a line that is not a field */
#define DT_HB_ORPHAN    (1u << 3)       /* a continuation line with no field before it, skipped */

struct dt_header_block {
        struct dt_header_field *fields; /* in the order received */
        size_t n;
        size_t end;             /* offset just past the block (and its blank line, if any) */
        unsigned flags;         /* DT_HB_* */
};

/* dt_headers_split - split buf[0..len) into fields, up to the first empty line, the first line
 * that is not a field ("Name: value" or a continuation), or the end. Lines end in LF or CRLF; a
 * bare CR is data, never a line end. Errors: HEADER_LIMIT (block longer than
 * lim->header_bytes), HEADER_COUNT_LIMIT (more than lim->header_fields fields), NO_MEMORY.
 * An empty block (0 fields) is not an error. */
int dt_headers_split(const char *buf, size_t len, const struct dt_limits *lim,
                     struct dt_header_block **out, struct dt_error *err);

/* dt_headers_find - the next field called name (case-insensitive) at index >= *iter, or NULL;
 * *iter is moved past it. Start with *iter = 0. Borrowed. */
const struct dt_header_field *dt_headers_find(const struct dt_header_block *b, const char *name,
                                              size_t *iter);

struct dt_header_block *dt_headers_block_free(struct dt_header_block *b);
DEFINE_FREEP(struct dt_header_block, dt_headers_block_free)

/* dt_headers_decode_text - RFC 2047 encoded words of in[0..len) to UTF-8, into a new string of at
 * most cap bytes, NUL-terminated; *out_len (may be NULL) gets its length, as it may hold NUL.
 * Whitespace between adjacent encoded words is dropped. Charsets outside a short allow-list,
 * and bytes that do not convert, come out as they are (dt_sanitize then turns them into
 * U+FFFD). The result is NOT sanitised. *truncated (may be NULL) says whether it was cut.
 * NULL only when out of memory. Linear in len. */
char *dt_headers_decode_text(const char *in, size_t len, size_t cap, size_t *out_len,
                             bool *truncated);

/* dt_headers_trim - move *s and *len past leading and trailing blanks (space, tab, CR, LF) */
void dt_headers_trim(const char **s, size_t *len);

/* dt_headers_strip_angle - the inside of the first <...> in s[0..*len) ("Name <a@b>" gives
 * a@b), or s trimmed when there is none */
void dt_headers_strip_angle(const char **s, size_t *len);

/* dt_headers_parse_date - an RFC 5322 date (obsolete forms, fractional seconds tolerated) to
 * seconds since the epoch. 0 and *out set, or -EINVAL. */
int dt_headers_parse_date(const char *s, size_t len, int64_t *out);

/* ---- the attribution layer ---- */

struct dt_received {
        char *from_helo;        /* the name the client gave (HELO/EHLO), or NULL */
        char *from_host;        /* the client's verified/reverse name, or NULL */
        char *from_ip;          /* the client's address, without [] or port, or NULL */
        char *by_host;
        char *with;             /* protocol: ESMTPS, local, HTTP, ... */
        char *id;               /* the receiving MTA's queue id */
        char *for_addr;         /* "for <rcpt>", without <> */
        int64_t date;           /* seconds since the epoch; valid when has_date */
        bool has_date;
};

enum dt_local_mta {
        DT_LOCAL_NONE,
        DT_LOCAL_POSTFIX,       /* "by HOST (Postfix, from userid N) id QID" (pickup) */
        DT_LOCAL_EXIM,          /* "from USER by HOST with local (Exim x.y) id ID" */
        DT_LOCAL_WARNING,       /* only "X-Authentication-Warning: HOST: USER set sender to ...":
                                 * the MTA is not named (sendmail adds it) */
        _DT_LOCAL_MAX,
};

struct dt_local_submission {
        enum dt_local_mta mta;
        int64_t uid;            /* -1 when not known */
        char *user;             /* or NULL */
        char *queue_id;         /* or NULL */
        char *host;             /* or NULL */
        size_t hop;             /* index into received[], when mta is POSTFIX or EXIM */
};

/* cPanel's X-AntiAbuse lines */
struct dt_antiabuse {
        char *primary_hostname;         /* "Primary Hostname - server.example.com" */
        char *original_domain;          /* "Original Domain - example.com" */
        char *sender_address_domain;    /* "Sender Address Domain - example.com" */
        int64_t originator_uid, originator_gid, caller_uid, caller_gid; /* -1 when not known */
        bool present;
};

/* flags of struct dt_headers */
#define DT_HDR_TRUNCATED        (1u << 0)       /* some string was cut to its cap */
#define DT_HDR_HOPS_DROPPED     (1u << 1)       /* more than DT_HEADERS_HOPS_MAX Received fields */
#define DT_HDR_BLOCK_ODD        (1u << 2)       /* the raw block had DT_HB_STOPPED/ORPHAN */
#define DT_HDR_MULTI_FROM       (1u << 3)       /* more than one From field */

/* Plain data; read it, don't change it. NULL means "absent". */
struct dt_headers {
        char *message_id;               /* without <> */
        char *from, *to, *cc, *reply_to, *return_path;  /* RFC 2047 decoded */
        char *subject;                  /* RFC 2047 decoded */
        size_t subject_bytes;           /* the raw Subject's length before any cap */
        char *date_text;
        int64_t date;                   /* valid when has_date */
        bool has_date;
        char *x_mailer, *user_agent;
        char *dkim_domain, *dkim_selector;      /* d= and s= of the first DKIM-Signature */
        char *authentication_results;   /* the first (topmost) one */

        char *x_php_originating_script; /* raw value, "uid:file" */
        int64_t php_uid;                /* -1 when not known */
        char *php_script;               /* the file part */
        char *x_php_script;             /* raw value, "host/path for ip" */
        char *php_script_host, *php_script_path, *php_script_ip;
        char *x_source, *x_source_args, *x_source_dir;
        struct dt_antiabuse antiabuse;
        char *sender_via;               /* raw X-Get-Message-Sender-Via */
        char *sender_via_host, *sender_via_user;        /* "HOST: authenticated_id: USER" */
        char *authenticated_sender;     /* raw X-Authenticated-Sender */
        char *auth_warning;             /* raw X-Authentication-Warning */
        char *auth_warning_host, *auth_warning_user;    /* "HOST: USER set sender to ..." */

        struct dt_received *received;   /* newest (topmost) first, at most DT_HEADERS_HOPS_MAX */
        size_t n_received;
        size_t received_dropped;        /* Received fields beyond the cap */
        struct dt_local_submission local;       /* the topmost local-submission hop (hops
                                                 * forged by the sender sit below it); mta
                                                 * DT_LOCAL_NONE when there is none */

        size_t n_fields;                /* fields in the block */
        size_t end;                     /* offset just past the block in the buffer parsed */
        unsigned flags;                 /* DT_HDR_* */
};

/* dt_headers_parse - split buf[0..len) (see dt_headers_split) and extract. Errors as
 * dt_headers_split. A block with no field at all gives -EBADMSG (FAILURE_REPORT_MALFORMED). */
int dt_headers_parse(const char *buf, size_t len, const struct dt_limits *lim,
                     struct dt_headers **out, struct dt_error *err);

/* dt_headers_from_block - the same from a block already split. Errors: NO_MEMORY. */
int dt_headers_from_block(const struct dt_header_block *b, struct dt_headers **out,
                          struct dt_error *err);

/* dt_headers_parse_received - one Received value (raw, unfolded) into *out (strings owned by
 * out, free with dt_headers_received_clear). -ENOMEM only. */
int dt_headers_parse_received(const char *v, size_t len, struct dt_received *out);
void dt_headers_received_clear(struct dt_received *r);

/* dt_headers_local_mta_name - "postfix", "exim", or NULL (DT_LOCAL_NONE, DT_LOCAL_WARNING) */
const char *dt_headers_local_mta_name(enum dt_local_mta m);

struct dt_headers *dt_headers_free(struct dt_headers *h);
DEFINE_FREEP(struct dt_headers, dt_headers_free)

#endif
