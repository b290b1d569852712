/* config.h - the agent's configuration: libconfig file to struct dt_config, validated
 *
 * One call loads, checks and returns the whole configuration, or nothing: a reload (SIGHUP) that
 * fails leaves the caller's old struct untouched. Every key has a default except maildir.path;
 * conf/dmarctrace.conf documents them all (DESIGN.md section 6). Errors read
 * "FILE:LINE: key: what", ready for stderr or a log line. */
#ifndef DT_CONFIG_H
#define DT_CONFIG_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "report/error.h"
#include "report/limits.h"
#include "report/macro.h"

/* The file read when no -c FILE is given; the build may set -DDT_CONFIG_PATH="..." */
#ifdef DT_CONFIG_PATH
#define DT_CONFIG_PATH_DEFAULT DT_CONFIG_PATH
#else
#define DT_CONFIG_PATH_DEFAULT "/etc/dmarctrace/dmarctrace.conf"
#endif

#define DT_CONFIG_BYTES_MAX (1u << 20)  /* a bigger configuration file is refused */
#define DT_CONFIG_LIST_MAX 1024         /* entries in one list (identity.addresses, logs.*, ...) */

enum dt_maildir_mode {
        DT_MAILDIR_MOVE,                /* "move": finished messages go new/ -> cur/ with :2,S */
        DT_MAILDIR_KEEP,                /* "keep": the Maildir is left untouched */
        _DT_MAILDIR_MODE_MAX,
        _DT_MAILDIR_MODE_INVALID = -EINVAL,
};

enum dt_output {
        DT_OUTPUT_AUTO,                 /* "auto": journal when its socket exists, else JSON lines */
        DT_OUTPUT_JOURNAL,              /* "journal" */
        DT_OUTPUT_JSON,                 /* "json": JSON lines on standard output */
        _DT_OUTPUT_MAX,
        _DT_OUTPUT_INVALID = -EINVAL,
};

enum dt_records {
        DT_RECORDS_ALL,                 /* "all": an aggregate-record event for every report row */
        DT_RECORDS_OWN,                 /* "own": only rows whose source is this host */
        DT_RECORDS_NONE,                /* "none" */
        _DT_RECORDS_MAX,
        _DT_RECORDS_INVALID = -EINVAL,
};

/* All strings and arrays are owned by the struct and freed by dt_config_free(). */
struct dt_config {
        char *path;                     /* the file this was loaded from */

        char *maildir_path;             /* maildir.path: absolute, required */
        enum dt_maildir_mode maildir_mode; /* maildir.mode */
        char *state_dir;                /* state_dir: absolute */
        enum dt_output output;          /* output */

        char **hostnames;               /* identity.hostnames: added to the detected ones */
        size_t n_hostnames;
        char **addresses;               /* identity.addresses: IPv4/IPv6, as written */
        size_t n_addresses;
        char **trusted_authserv_ids;    /* identity.trusted_authserv_ids: whose
                                         * Authentication-Results a report's SENDER_AUTH quotes */
        size_t n_trusted_authserv_ids;

        char **logs_postfix;            /* logs.postfix: "journal" and/or absolute paths */
        size_t n_logs_postfix;
        char **logs_exim;               /* logs.exim */
        size_t n_logs_exim;
        char **logs_php_mail;           /* logs.php_mail */
        size_t n_logs_php_mail;
        unsigned retention_days;        /* logs.retention_days */
        unsigned php_window_seconds;    /* logs.php_window_seconds: PHP call vs submission */

        unsigned baseline_days;         /* detect.baseline_days */
        double spike_factor;            /* detect.spike_factor: > 1 */
        uint64_t min_messages;          /* detect.min_messages */
        double surge_factor;            /* detect.surge_factor: > 1 */
        uint64_t surge_min_reports;     /* detect.surge_min_reports */

        enum dt_records records;        /* events.records */
        unsigned health_interval;       /* events.health_interval: seconds between agent-health
                                         * events; 0: none but the one at stop */

        struct dt_limits limits;        /* limits.*, defaults from dt_limits_default */
};

/* dt_config_load - read and validate path into a new *out (set only on success).
 * Returns 0, or -ENOENT/-EACCES/... (cannot open), -EFBIG (over DT_CONFIG_BYTES_MAX),
 * -EBADMSG (syntax error), -EINVAL (unknown key, wrong type, bad value), -ENOMEM; err->message
 * then says "FILE:LINE: key: what" and err->line holds LINE (-1 when there is none). */
int dt_config_load(const char *path, struct dt_config **out, struct dt_error *err);

/* dt_config_print - every key with its effective value, in libconfig syntax that loads again */
void dt_config_print(const struct dt_config *c, FILE *f);

/* dt_config_free - NULL-safe, returns NULL */
struct dt_config *dt_config_free(struct dt_config *c);
DEFINE_FREEP(struct dt_config, dt_config_free);

/* Names as written in the file; *_name() returns NULL for a value out of range,
 * *_from_name() the enum's _INVALID value (-EINVAL) for an unknown name. */
const char *dt_maildir_mode_name(enum dt_maildir_mode m);
enum dt_maildir_mode dt_maildir_mode_from_name(const char *s);
const char *dt_output_name(enum dt_output o);
enum dt_output dt_output_from_name(const char *s);
const char *dt_records_name(enum dt_records r);
enum dt_records dt_records_from_name(const char *s);

#endif
