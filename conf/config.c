/* config.c - load dmarctrace.conf (libconfig 1.5) into struct dt_config, check every key
 *
 * The file is read into a buffer (bounded by DT_CONFIG_BYTES_MAX), scanned once by hand for the
 * two things libconfig 1.5 gets wrong for us, then parsed with config_read_string(). The tree is
 * walked in file order against one table of keys (keys[] below), so an unknown key, a wrong type
 * or a bad value at any depth stops the load with "FILE:LINE: key: what". The struct is built
 * from defaults and handed out only when everything passed, so a failed reload changes nothing.
 *
 * SECURITY: the file is trusted as root's, but not its contents' shape: a typo must not turn into
 * a silently different limit. libconfig 1.5 wraps an integer literal beyond 32 bits without an L
 * suffix (5000000000 reads as 705032704), so the pre-scan notes the lines holding one and any key
 * on such a line is refused. @include would read other files past our size bound (a FIFO, or
 * /dev/zero), so it is refused before libconfig sees the text. Strings with control characters
 * are refused too, so dt_config_print() output and error messages stay one line each.
 * Never logs. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <limits.h>
#include <libconfig.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/config.h"

#define KEY_MAX 128                     /* longest dotted key we build, "limits.ratio_after_bytes" */

static const char *const maildir_mode_names[_DT_MAILDIR_MODE_MAX] = {
        [DT_MAILDIR_MOVE] = "move",
        [DT_MAILDIR_KEEP] = "keep",
};

static const char *const output_names[_DT_OUTPUT_MAX] = {
        [DT_OUTPUT_AUTO] = "auto",
        [DT_OUTPUT_JOURNAL] = "journal",
        [DT_OUTPUT_JSON] = "json",
};

static const char *const records_names[_DT_RECORDS_MAX] = {
        [DT_RECORDS_ALL] = "all",
        [DT_RECORDS_OWN] = "own",
        [DT_RECORDS_NONE] = "none",
};

/* name_lookup - index of s in names[0..n), or -EINVAL */
static int name_lookup(const char *const *names, size_t n, const char *s) {
        size_t i;

        if (!s)
                return -EINVAL;
        for (i = 0; i < n; i++)
                if (names[i] && strcmp(names[i], s) == 0)
                        return (int) i;
        return -EINVAL;
}

const char *dt_maildir_mode_name(enum dt_maildir_mode m) {
        return m >= 0 && m < _DT_MAILDIR_MODE_MAX ? maildir_mode_names[m] : NULL;
}

enum dt_maildir_mode dt_maildir_mode_from_name(const char *s) {
        return name_lookup(maildir_mode_names, _DT_MAILDIR_MODE_MAX, s);
}

const char *dt_output_name(enum dt_output o) {
        return o >= 0 && o < _DT_OUTPUT_MAX ? output_names[o] : NULL;
}

enum dt_output dt_output_from_name(const char *s) {
        return name_lookup(output_names, _DT_OUTPUT_MAX, s);
}

const char *dt_records_name(enum dt_records r) {
        return r >= 0 && r < _DT_RECORDS_MAX ? records_names[r] : NULL;
}

enum dt_records dt_records_from_name(const char *s) {
        return name_lookup(records_names, _DT_RECORDS_MAX, s);
}

/* The key table. Groups come before their members and members stay together: the walker looks
 * keys up by full name, and dt_config_print() prints in table order. */
enum key_type { KT_GROUP, KT_PATH, KT_ENUM, KT_LIST, KT_UINT, KT_FLOAT };
enum list_kind { LK_HOSTNAME, LK_ADDRESS, LK_LOG };

struct key {
        const char *name;               /* full dotted name */
        enum key_type type;
        size_t off;                     /* field in struct dt_config */
        size_t size;                    /* KT_UINT: sizeof the field, 4 or 8 */
        size_t off_n;                   /* KT_LIST: the count field */
        enum list_kind list;            /* KT_LIST */
        const char *const *names;       /* KT_ENUM: value -> name */
        size_t n_names;
        int64_t min, max;               /* KT_UINT: inclusive; KT_FLOAT: min exclusive */
};

#define FIELD(m) .off = offsetof(struct dt_config, m), .size = sizeof(((struct dt_config *) 0)->m)
#define GROUP(n) { .name = n, .type = KT_GROUP }
#define PATHKEY(n, m) { .name = n, .type = KT_PATH, FIELD(m) }
#define ENUMKEY(n, m, tbl) { .name = n, .type = KT_ENUM, FIELD(m), .names = tbl, .n_names = ELEMENTSOF(tbl) }
#define LISTKEY(n, m, k) \
        { .name = n, .type = KT_LIST, FIELD(m), .off_n = offsetof(struct dt_config, n_##m), .list = k }
#define UINTKEY(n, m, lo, hi) { .name = n, .type = KT_UINT, FIELD(m), .min = lo, .max = hi }
#define FLOATKEY(n, m, gt) { .name = n, .type = KT_FLOAT, FIELD(m), .min = gt }
#define LIMIT(n, lo, hi) UINTKEY("limits." #n, limits.n, lo, hi)

static const struct key keys[] = {
        GROUP("maildir"),
        PATHKEY("maildir.path", maildir_path),
        ENUMKEY("maildir.mode", maildir_mode, maildir_mode_names),
        PATHKEY("state_dir", state_dir),
        ENUMKEY("output", output, output_names),
        GROUP("identity"),
        LISTKEY("identity.hostnames", hostnames, LK_HOSTNAME),
        LISTKEY("identity.addresses", addresses, LK_ADDRESS),
        LISTKEY("identity.trusted_authserv_ids", trusted_authserv_ids, LK_HOSTNAME),
        GROUP("logs"),
        LISTKEY("logs.postfix", logs_postfix, LK_LOG),
        LISTKEY("logs.exim", logs_exim, LK_LOG),
        LISTKEY("logs.php_mail", logs_php_mail, LK_LOG),
        UINTKEY("logs.retention_days", retention_days, 1, 3650),
        UINTKEY("logs.php_window_seconds", php_window_seconds, 0, 3600),
        GROUP("detect"),
        UINTKEY("detect.baseline_days", baseline_days, 3, 365),
        FLOATKEY("detect.spike_factor", spike_factor, 1),
        UINTKEY("detect.min_messages", min_messages, 1, INT64_MAX),
        FLOATKEY("detect.surge_factor", surge_factor, 1),
        UINTKEY("detect.surge_min_reports", surge_min_reports, 1, INT64_MAX),
        GROUP("events"),
        ENUMKEY("events.records", records, records_names),
        UINTKEY("events.health_interval", health_interval, 0, 86400),
        GROUP("limits"),
        LIMIT(message_bytes, 1 << 10, 1ll << 30),
        LIMIT(header_bytes, 1 << 10, 16 << 20),
        LIMIT(header_fields, 16, 100000),
        LIMIT(mime_depth, 1, 64),
        LIMIT(mime_parts, 1, 10000),
        LIMIT(unpacked_bytes, 1 << 10, 16ll << 30),
        LIMIT(unpack_ratio, 1, 1000000),
        LIMIT(ratio_after_bytes, 0, 1ll << 30),
        LIMIT(zip_entries, 1, 1024),
        LIMIT(xml_depth, 8, 256),
        LIMIT(xml_text_bytes, 1 << 10, 16 << 20),
        LIMIT(records, 1, 1000000000),
        LIMIT(log_line_bytes, 1 << 10, 1 << 20),
        LIMIT(field_bytes, 256, 65536),
};

/* set_value() and print_value() move enums as int */
_Static_assert(sizeof(enum dt_maildir_mode) == sizeof(int), "enums are stored as int");
_Static_assert(sizeof(enum dt_output) == sizeof(int), "enums are stored as int");
_Static_assert(sizeof(enum dt_records) == sizeof(int), "enums are stored as int");

/* find_key - the table entry for a full dotted name, or NULL */
static const struct key *find_key(const char *name) {
        size_t i;

        for (i = 0; i < ELEMENTSOF(keys); i++)
                if (strcmp(keys[i].name, name) == 0)
                        return &keys[i];
        return NULL;
}

struct ctx {
        const char *path;               /* the file, for messages */
        struct dt_error *err;
        unsigned *wide_lines;           /* lines holding an integer libconfig 1.5 wrapped */
        size_t n_wide, cap_wide;
};

/* fail - set err to "FILE:LINE: key: what" (line 0: "FILE: key: what") and return code */
static int fail(struct ctx *x, const config_setting_t *s, unsigned line, int code, const char *key,
                const char *fmt, ...) _printf_(6, 7);
static int fail(struct ctx *x, const config_setting_t *s, unsigned line, int code, const char *key,
                const char *fmt, ...) {
        const char *file = x->path;
        char what[160];
        va_list ap;

        if (s) {
                line = config_setting_source_line(s);
                if (config_setting_source_file(s))
                        file = config_setting_source_file(s);
        }
        va_start(ap, fmt);
        (void) vsnprintf(what, sizeof what, fmt, ap);   /* cut on purpose: a message, not data */
        va_end(ap);
        if (line > 0)
                dt_error_set(x->err, code, NULL, -1, "%s:%u: %s: %s", file, line, key, what);
        else
                dt_error_set(x->err, code, NULL, -1, "%s: %s: %s", file, key, what);
        if (x->err)
                x->err->line = line > 0 ? (int64_t) line : -1;
        return code;
}

/* type_name - how the error messages call a libconfig type */
static const char *type_name(const config_setting_t *s) {
        switch (config_setting_type(s)) {
        case CONFIG_TYPE_GROUP:
                return "a group";
        case CONFIG_TYPE_INT:
        case CONFIG_TYPE_INT64:
                return "an integer";
        case CONFIG_TYPE_FLOAT:
                return "a float";
        case CONFIG_TYPE_STRING:
                return "a string";
        case CONFIG_TYPE_BOOL:
                return "a boolean";
        case CONFIG_TYPE_ARRAY:
                return "an array";
        case CONFIG_TYPE_LIST:
                return "a list";
        default:
                return "nothing";
        }
}

/* has_control - true if s holds a control character (C0 or DEL) */
static bool has_control(const char *s) {
        for (; *s; s++)
                if ((unsigned char) *s < 0x20 || *s == 0x7f)
                        return true;
        return false;
}

/* path_ok - absolute, shorter than PATH_MAX, no control characters */
static bool path_ok(const char *s) {
        return s[0] == '/' && strlen(s) < PATH_MAX && !has_control(s);
}

/* hostname_ok - dot-separated labels of 1..63 letters, digits, '-' or '_', 253 at most */
static bool hostname_ok(const char *s) {
        size_t len = strlen(s), label = 0, i;

        if (len == 0 || len > 253)
                return false;
        for (i = 0; i < len; i++) {
                char ch = s[i];

                if (ch == '.') {
                        if (label == 0)
                                return false;
                        label = 0;
                } else if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                           (ch >= '0' && ch <= '9') || ch == '-' || ch == '_') {
                        if (++label > 63)
                                return false;
                } else
                        return false;
        }
        return label > 0;
}

/* address_ok - an IPv4 or IPv6 address in the form inet_pton(3) takes */
static bool address_ok(const char *s) {
        unsigned char buf[sizeof(struct in6_addr)];

        if (strlen(s) >= INET6_ADDRSTRLEN)
                return false;
        return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* wide_line - true if the pre-scan saw a wrapped integer literal on line */
static bool wide_line(const struct ctx *x, unsigned line) {
        size_t i;

        for (i = 0; i < x->n_wide; i++)
                if (x->wide_lines[i] == line)
                        return true;
        return false;
}

/* get_integer - the value of an int or int64 setting, refusing one libconfig wrapped */
static int get_integer(struct ctx *x, const config_setting_t *s, const char *key, long long *v) {
        if (config_setting_type(s) == CONFIG_TYPE_INT && wide_line(x, config_setting_source_line(s)))
                return fail(x, s, 0, -EINVAL, key,
                            "integer does not fit in 32 bits: write it with an L suffix");
        *v = config_setting_get_int64(s);
        return 0;
}

static void *field(struct dt_config *c, size_t off) {
        return (char *) c + off;
}

static const void *cfield(const struct dt_config *c, size_t off) {
        return (const char *) c + off;
}

/* free_list - free n strings and the array */
static void free_list(char **v, size_t n) {
        size_t i;

        if (!v)
                return;
        for (i = 0; i < n; i++)
                free(v[i]);
        free(v);
}

/* set_list - check a list/array of strings and replace the field with a copy of it */
static int set_list(struct ctx *x, const struct key *k, const config_setting_t *s,
                    struct dt_config *c) {
        static const char *const expect[] = {
                [LK_HOSTNAME] = "must be a host name",
                [LK_ADDRESS] = "must be an IPv4 or IPv6 address",
                [LK_LOG] = "must be \"journal\" or an absolute path",
        };
        char **v, ***dst = field(c, k->off);
        size_t *dst_n = field(c, k->off_n);
        char ekey[KEY_MAX + 16];
        int n, i, j, r = 0;

        if (!config_setting_is_array(s) && !config_setting_is_list(s))
                return fail(x, s, 0, -EINVAL, k->name, "must be a list of strings [ \"...\" ], not %s",
                            type_name(s));
        n = config_setting_length(s);
        if (n < 0 || n > DT_CONFIG_LIST_MAX)
                return fail(x, s, 0, -EINVAL, k->name, "more than %d entries", DT_CONFIG_LIST_MAX);
        v = calloc((size_t) n + 1, sizeof *v);         /* +1: never calloc(0) */
        if (!v)
                return dt_error_set(x->err, -ENOMEM, DT_R_NOMEM, -1, "out of memory");
        for (i = 0; i < n; i++) {
                const config_setting_t *e = config_setting_get_elem(s, (unsigned) i);
                const char *str = config_setting_get_string(e);
                bool ok;

                (void) snprintf(ekey, sizeof ekey, "%s[%d]", k->name, i);
                if (config_setting_type(e) != CONFIG_TYPE_STRING || !str) {
                        r = fail(x, e, 0, -EINVAL, ekey, "must be a string, not %s", type_name(e));
                        goto out;
                }
                switch (k->list) {
                case LK_HOSTNAME:
                        ok = hostname_ok(str);
                        break;
                case LK_ADDRESS:
                        ok = address_ok(str);
                        break;
                default:
                        ok = strcmp(str, "journal") == 0 || path_ok(str);
                        break;
                }
                if (!ok) {
                        r = fail(x, e, 0, -EINVAL, ekey, "%s", expect[k->list]);
                        goto out;
                }
                for (j = 0; j < i; j++)
                        if (strcmp(v[j], str) == 0) {
                                r = fail(x, e, 0, -EINVAL, ekey, "repeats entry %d", j);
                                goto out;
                        }
                v[i] = strdup(str);
                if (!v[i]) {
                        r = dt_error_set(x->err, -ENOMEM, DT_R_NOMEM, -1, "out of memory");
                        goto out;
                }
        }
        free_list(*dst, *dst_n);
        *dst = v;
        *dst_n = (size_t) n;
        return 0;
out:
        free_list(v, (size_t) n);
        return r;
}

/* set_uint - an integer (int or int64, never a float) within [min, max] */
static int set_uint(struct ctx *x, const struct key *k, const config_setting_t *s,
                    struct dt_config *c) {
        char what[80];
        long long v;
        int r;

        if (k->max == INT64_MAX)
                (void) snprintf(what, sizeof what, "must be an integer of at least %lld",
                                (long long) k->min);
        else
                (void) snprintf(what, sizeof what, "must be an integer from %lld to %lld",
                                (long long) k->min, (long long) k->max);
        if (config_setting_type(s) != CONFIG_TYPE_INT && config_setting_type(s) != CONFIG_TYPE_INT64)
                return fail(x, s, 0, -EINVAL, k->name, "%s, not %s", what, type_name(s));
        r = get_integer(x, s, k->name, &v);
        if (r < 0)
                return r;
        if (v < k->min || v > k->max)
                return fail(x, s, 0, -EINVAL, k->name, "%s", what);
        if (k->size == sizeof(uint32_t)) {
                uint32_t u = (uint32_t) v;
                memcpy(field(c, k->off), &u, sizeof u);
        } else {
                uint64_t u = (uint64_t) v;
                memcpy(field(c, k->off), &u, sizeof u);
        }
        return 0;
}

/* set_float - a finite number (a float or an integer) greater than min */
static int set_float(struct ctx *x, const struct key *k, const config_setting_t *s,
                     struct dt_config *c) {
        long long i;
        double v;
        int r;

        switch (config_setting_type(s)) {
        case CONFIG_TYPE_FLOAT:
                v = config_setting_get_float(s);
                break;
        case CONFIG_TYPE_INT:
        case CONFIG_TYPE_INT64:
                r = get_integer(x, s, k->name, &i);
                if (r < 0)
                        return r;
                v = (double) i;
                break;
        default:
                return fail(x, s, 0, -EINVAL, k->name, "must be a number greater than %lld, not %s",
                            (long long) k->min, type_name(s));
        }
        if (!isfinite(v) || v <= (double) k->min)
                return fail(x, s, 0, -EINVAL, k->name, "must be a number greater than %lld",
                            (long long) k->min);
        memcpy(field(c, k->off), &v, sizeof v);
        return 0;
}

/* set_value - check one setting against its key and store it in c */
static int set_value(struct ctx *x, const struct key *k, const config_setting_t *s,
                     struct dt_config *c) {
        const char *str = config_setting_get_string(s);
        size_t i;
        char **dst;
        int e;

        switch (k->type) {
        case KT_PATH:
                if (config_setting_type(s) != CONFIG_TYPE_STRING || !str)
                        return fail(x, s, 0, -EINVAL, k->name, "must be an absolute path, not %s",
                                    type_name(s));
                if (!path_ok(str))
                        return fail(x, s, 0, -EINVAL, k->name, "must be an absolute path");
                dst = field(c, k->off);
                free(*dst);
                *dst = strdup(str);
                if (!*dst)
                        return dt_error_set(x->err, -ENOMEM, DT_R_NOMEM, -1, "out of memory");
                return 0;
        case KT_ENUM:
                e = config_setting_type(s) == CONFIG_TYPE_STRING ?
                            name_lookup(k->names, k->n_names, str) : -EINVAL;
                if (e < 0) {
                        char what[96] = "must be one of";
                        size_t len = strlen(what);

                        for (i = 0; i < k->n_names; i++) {
                                int n = snprintf(what + len, sizeof what - len, "%s \"%s\"",
                                                 i ? "," : "", k->names[i]);
                                if (n < 0 || (size_t) n >= sizeof what - len)
                                        break;  /* the table's names are short: cannot happen */
                                len += (size_t) n;
                        }
                        if (config_setting_type(s) != CONFIG_TYPE_STRING)
                                return fail(x, s, 0, -EINVAL, k->name, "%s, not %s", what,
                                            type_name(s));
                        return fail(x, s, 0, -EINVAL, k->name, "%s", what);
                }
                memcpy(field(c, k->off), &e, sizeof e);
                return 0;
        case KT_LIST:
                return set_list(x, k, s, c);
        case KT_UINT:
                return set_uint(x, k, s, c);
        case KT_FLOAT:
                return set_float(x, k, s, c);
        default:
                return -EINVAL;         /* groups are walked, never set */
        }
}

/* walk - check the members of group g (prefix: its dotted name, NULL at the root), in file order */
static int walk(struct ctx *x, const config_setting_t *g, const char *prefix, struct dt_config *c) {
        int n = config_setting_length(g), i, r;

        for (i = 0; i < n; i++) {
                const config_setting_t *s = config_setting_get_elem(g, (unsigned) i);
                const char *name = config_setting_name(s);
                const struct key *k;
                char key[KEY_MAX];
                int len;

                if (!name)
                        name = "?";     /* members of a group always have one */
                len = prefix ? snprintf(key, sizeof key, "%s.%s", prefix, name) :
                               snprintf(key, sizeof key, "%s", name);
                k = len < 0 || (size_t) len >= sizeof key ? NULL : find_key(key);
                if (!k)
                        return fail(x, s, 0, -EINVAL, key, "unknown key");
                if (k->type == KT_GROUP) {
                        if (!config_setting_is_group(s))
                                return fail(x, s, 0, -EINVAL, key,
                                            "must be a group { ... }, not %s", type_name(s));
                        r = walk(x, s, k->name, c);
                } else
                        r = set_value(x, k, s, c);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* note_wide - remember that line holds an integer literal libconfig 1.5 would wrap */
static int note_wide(struct ctx *x, unsigned line) {
        unsigned *v;

        if (x->n_wide > 0 && x->wide_lines[x->n_wide - 1] == line)
                return 0;
        if (x->n_wide == x->cap_wide) {
                size_t cap = x->cap_wide ? x->cap_wide * 2 : 8;

                v = realloc(x->wide_lines, cap * sizeof *v);
                if (!v)
                        return -ENOMEM;
                x->wide_lines = v;
                x->cap_wide = cap;
        }
        x->wide_lines[x->n_wide++] = line;
        return 0;
}

static bool is_alpha(char ch) {
        return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

static bool is_digit(char ch) {
        return ch >= '0' && ch <= '9';
}

/* hex_value - 0..15 for a hex digit, -1 otherwise */
static int hex_value(char ch) {
        if (is_digit(ch))
                return ch - '0';
        if (ch >= 'a' && ch <= 'f')
                return ch - 'a' + 10;
        if (ch >= 'A' && ch <= 'F')
                return ch - 'A' + 10;
        return -1;
}

/* number_is_wide - true if the integer literal t[0..len) (sign excluded, no L suffix) exceeds
 * max; floats and L-suffixed literals are never wide */
static bool number_is_wide(const char *t, size_t len, unsigned long long max) {
        unsigned long long v = 0;
        unsigned base = 10;
        size_t i = 0;

        if (len > 0 && t[len - 1] == 'L')
                return false;
        if (len > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X')) {
                base = 16;
                i = 2;
        } else if (memchr(t, '.', len) || memchr(t, 'e', len) || memchr(t, 'E', len))
                return false;
        for (; i < len; i++) {
                int d = base == 16 ? hex_value(t[i]) : (is_digit(t[i]) ? t[i] - '0' : -1);

                if (d < 0)
                        return false;   /* not a number libconfig accepts: its parser says so */
                v = v * base + (unsigned) d;
                if (v > max)
                        return true;
        }
        return false;
}

/* prescan - walk the text as libconfig's scanner would (comments, strings, names, numbers) and
 * refuse @include and "\x00"; note the lines of integer literals past 32 bits. On text libconfig
 * will reject anyway (an unterminated string) it just stops: the parser reports that. */
static int prescan(struct ctx *x, const char *buf, size_t len) {
        unsigned line = 1;
        size_t i = 0;

        while (i < len) {
                char ch = buf[i];

                if (ch == '\n') {
                        line++;
                        i++;
                } else if (ch == '#' || (ch == '/' && i + 1 < len && buf[i + 1] == '/')) {
                        while (i < len && buf[i] != '\n')
                                i++;
                } else if (ch == '/' && i + 1 < len && buf[i + 1] == '*') {
                        for (i += 2; i < len && !(buf[i] == '*' && i + 1 < len && buf[i + 1] == '/'); i++)
                                if (buf[i] == '\n')
                                        line++;
                        i += 2;
                } else if (ch == '"') {
                        for (i++; i < len && buf[i] != '"'; i++) {
                                if (buf[i] == '\n')
                                        line++;
                                else if (buf[i] == '\\' && i + 1 < len) {
                                        if (len - i >= 4 && memcmp(buf + i, "\\x00", 4) == 0)
                                                return fail(x, NULL, line, -EINVAL, "string",
                                                            "\\x00 is not allowed");
                                        i++;
                                }
                        }
                        i++;
                } else if (ch == '@') {
                        if (len - i >= 8 && memcmp(buf + i, "@include", 8) == 0)
                                return fail(x, NULL, line, -EINVAL, "@include", "is not supported");
                        i++;
                } else if (is_alpha(ch) || ch == '*') {
                        while (i < len && (is_alpha(buf[i]) || is_digit(buf[i]) || buf[i] == '-' ||
                                           buf[i] == '_' || buf[i] == '*'))
                                i++;
                } else if (is_digit(ch) || ch == '.' ||
                           ((ch == '-' || ch == '+') && i + 1 < len &&
                            (is_digit(buf[i + 1]) || buf[i + 1] == '.'))) {
                        bool neg = ch == '-';
                        size_t start;

                        if (ch == '-' || ch == '+')
                                i++;
                        start = i;
                        while (i < len && (is_alpha(buf[i]) || is_digit(buf[i]) || buf[i] == '.' ||
                                           ((buf[i] == '-' || buf[i] == '+') &&
                                            (buf[i - 1] == 'e' || buf[i - 1] == 'E') &&
                                            !(i - start > 1 && (buf[start + 1] == 'x' ||
                                                                buf[start + 1] == 'X')))))
                                i++;
                        if (number_is_wide(buf + start, i - start,
                                           neg ? (unsigned long long) INT32_MAX + 1 : INT32_MAX) &&
                            note_wide(x, line) < 0)
                                return dt_error_set(x->err, -ENOMEM, DT_R_NOMEM, -1, "out of memory");
                } else
                        i++;
        }
        return 0;
}

/* read_file - the whole of path, NUL-terminated, at most DT_CONFIG_BYTES_MAX bytes, no NUL inside */
static int read_file(struct ctx *x, const char *path, char **out) {
        _cleanup_free_ char *buf = NULL;
        struct stat st;
        size_t len = 0;
        int fd, r = 0;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) {
                r = -errno;
                return fail(x, NULL, 0, r, "cannot open", "%s", strerror(-r));
        }
        if (fstat(fd, &st) < 0) {
                r = -errno;
                (void) fail(x, NULL, 0, r, "cannot stat", "%s", strerror(-r));
                goto out;
        }
        if (!S_ISREG(st.st_mode)) {
                r = fail(x, NULL, 0, -EINVAL, "cannot read", "not a regular file");
                goto out;
        }
        if (st.st_size > (off_t) DT_CONFIG_BYTES_MAX) {
                r = fail(x, NULL, 0, -EFBIG, "cannot read", "larger than %u bytes",
                         DT_CONFIG_BYTES_MAX);
                goto out;
        }
        buf = malloc(DT_CONFIG_BYTES_MAX + 2);
        if (!buf) {
                r = dt_error_set(x->err, -ENOMEM, DT_R_NOMEM, -1, "out of memory");
                goto out;
        }
        /* read to EOF, not to st_size: the file may have grown since fstat() */
        for (;;) {
                ssize_t n = read(fd, buf + len, DT_CONFIG_BYTES_MAX + 1 - len);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        r = -errno;
                        (void) fail(x, NULL, 0, r, "cannot read", "%s", strerror(-r));
                        goto out;
                }
                if (n == 0)
                        break;
                len += (size_t) n;
                if (len > DT_CONFIG_BYTES_MAX) {
                        r = fail(x, NULL, 0, -EFBIG, "cannot read", "larger than %u bytes",
                                 DT_CONFIG_BYTES_MAX);
                        goto out;
                }
        }
        buf[len] = '\0';
        if (memchr(buf, '\0', len)) {
                r = fail(x, NULL, 0, -EINVAL, "cannot read", "contains a NUL byte");
                goto out;
        }
        *out = TAKE_PTR(buf);
out:
        (void) close(fd);
        return r;
}

/* config_new_default - a struct with every default set, maildir_path still NULL */
static struct dt_config *config_new_default(const char *path) {
        _cleanup_(dt_config_freep) struct dt_config *c = NULL;

        c = calloc(1, sizeof *c);
        if (!c)
                return NULL;
        c->path = strdup(path);
        c->state_dir = strdup("/var/lib/dmarctrace");
        c->logs_postfix = calloc(1, sizeof *c->logs_postfix);
        if (!c->path || !c->state_dir || !c->logs_postfix)
                return NULL;
        c->logs_postfix[0] = strdup("journal");
        if (!c->logs_postfix[0])
                return NULL;
        c->n_logs_postfix = 1;
        c->maildir_mode = DT_MAILDIR_MOVE;
        c->output = DT_OUTPUT_AUTO;
        c->retention_days = 30;
        c->php_window_seconds = 5;
        c->baseline_days = 14;
        c->spike_factor = 10.0;
        c->min_messages = 200;
        c->surge_factor = 10.0;
        c->surge_min_reports = 20;
        c->records = DT_RECORDS_OWN;
        c->health_interval = 3600;
        c->limits = dt_limits_default;
        return TAKE_PTR(c);
}

int dt_config_load(const char *path, struct dt_config **out, struct dt_error *err) {
        _cleanup_(dt_config_freep) struct dt_config *c = NULL;
        _cleanup_free_ char *buf = NULL;
        struct ctx x = { .path = path, .err = err };
        config_t cfg;
        int r;

        r = read_file(&x, path, &buf);
        if (r < 0)
                return r;
        r = prescan(&x, buf, strlen(buf));
        if (r < 0)
                goto out_scan;

        config_init(&cfg);
        if (!config_read_string(&cfg, buf)) {
                const char *file = config_error_file(&cfg) ? config_error_file(&cfg) : path;
                int line = config_error_line(&cfg);

                r = dt_error_set(err, -EBADMSG, NULL, -1, "%s:%d: %s", file, line,
                                 config_error_text(&cfg) ? config_error_text(&cfg) : "syntax error");
                if (err)
                        err->line = line > 0 ? line : -1;
                goto out_cfg;
        }
        c = config_new_default(path);
        if (!c) {
                r = dt_error_set(err, -ENOMEM, DT_R_NOMEM, -1, "out of memory");
                goto out_cfg;
        }
        r = walk(&x, config_root_setting(&cfg), NULL, c);
        if (r < 0)
                goto out_cfg;
        if (!c->maildir_path) {
                const config_setting_t *g = config_lookup(&cfg, "maildir");

                r = fail(&x, g, 0, -EINVAL, "maildir.path", "is required (the Maildir to watch)");
                goto out_cfg;
        }
        if (x.n_wide > 0) {
                /* every integer sits in a key checked above; kept in case the table grows */
                r = fail(&x, NULL, x.wide_lines[0], -EINVAL, "integer",
                         "does not fit in 32 bits: write it with an L suffix");
                goto out_cfg;
        }
        *out = TAKE_PTR(c);
out_cfg:
        config_destroy(&cfg);
out_scan:
        free(x.wide_lines);
        return r;
}

/* print_string - s as a libconfig string literal */
static void print_string(FILE *f, const char *s) {
        fputc('"', f);
        for (; *s; s++) {
                unsigned char ch = (unsigned char) *s;

                if (ch == '"' || ch == '\\')
                        fprintf(f, "\\%c", ch);
                else if (ch < 0x20 || ch == 0x7f)
                        fprintf(f, "\\x%02x", ch);
                else
                        fputc(ch, f);
        }
        fputc('"', f);
}

/* print_double - the shortest text that reads back as v, always with a '.' or an exponent so
 * libconfig takes it for a float */
static void print_double(FILE *f, double v) {
        char buf[40];
        int p;

        if (v > -1e15 && v < 1e15 && v == (double) (long long) v) {
                fprintf(f, "%.1f", v);  /* 10.0, not 1e+01 */
                return;
        }
        for (p = 1; p <= 17; p++) {
                (void) snprintf(buf, sizeof buf, "%.*g", p, v);
                if (strtod(buf, NULL) == v)
                        break;
        }
        fputs(buf, f);
        if (!strpbrk(buf, ".eEin"))
                fputs(".0", f);
}

/* print_value - one key's value from c */
static void print_value(const struct dt_config *c, const struct key *k, FILE *f) {
        const char *const *str;
        char *const *v;
        uint64_t u = 0;
        size_t i, n;
        double d;
        int e;

        switch (k->type) {
        case KT_PATH:
                str = cfield(c, k->off);
                print_string(f, *str ? *str : "");
                break;
        case KT_ENUM:
                memcpy(&e, cfield(c, k->off), sizeof e);
                print_string(f, e >= 0 && (size_t) e < k->n_names ? k->names[e] : "");
                break;
        case KT_LIST:
                memcpy(&v, cfield(c, k->off), sizeof v);
                memcpy(&n, cfield(c, k->off_n), sizeof n);
                fputs("[", f);
                for (i = 0; i < n; i++) {
                        fputs(i ? ", " : " ", f);
                        print_string(f, v[i]);
                }
                fputs(" ]", f);
                break;
        case KT_UINT:
                if (k->size == sizeof(uint32_t)) {
                        uint32_t u32;
                        memcpy(&u32, cfield(c, k->off), sizeof u32);
                        u = u32;
                } else
                        memcpy(&u, cfield(c, k->off), sizeof u);
                /* libconfig 1.5 wraps a literal past 32 bits unless it has the L suffix */
                fprintf(f, "%llu%s", (unsigned long long) u, u > INT32_MAX ? "L" : "");
                break;
        case KT_FLOAT:
                memcpy(&d, cfield(c, k->off), sizeof d);
                print_double(f, d);
                break;
        default:
                break;
        }
}

void dt_config_print(const struct dt_config *c, FILE *f) {
        const char *group = NULL;
        size_t i;

        fputs("# dmarctrace: effective configuration of ", f);
        print_string(f, c->path ? c->path : "");
        fputs("\n", f);
        for (i = 0; i < ELEMENTSOF(keys); i++) {
                const struct key *k = &keys[i];
                const char *dot = strchr(k->name, '.');

                if (group && (!dot || strncmp(k->name, group, (size_t) (dot - k->name)) != 0 ||
                              group[dot - k->name] != '\0')) {
                        fputs("};\n", f);
                        group = NULL;
                }
                if (k->type == KT_GROUP) {
                        fprintf(f, "%s = {\n", k->name);
                        group = k->name;
                        continue;
                }
                fprintf(f, "%s%s = ", group ? "        " : "", dot ? dot + 1 : k->name);
                print_value(c, k, f);
                fputs(";\n", f);
        }
        if (group)
                fputs("};\n", f);
}

struct dt_config *dt_config_free(struct dt_config *c) {
        if (!c)
                return NULL;
        free(c->path);
        free(c->maildir_path);
        free(c->state_dir);
        free_list(c->hostnames, c->n_hostnames);
        free_list(c->addresses, c->n_addresses);
        free_list(c->trusted_authserv_ids, c->n_trusted_authserv_ids);
        free_list(c->logs_postfix, c->n_logs_postfix);
        free_list(c->logs_exim, c->n_logs_exim);
        free_list(c->logs_php_mail, c->n_logs_php_mail);
        free(c);
        return NULL;
}
