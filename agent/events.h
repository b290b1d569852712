/* events.h - the journald events dmarctrace writes: names, MESSAGE_IDs, priorities, fields
 *
 * One row per event type of DESIGN.md section 5. Each MESSAGE_ID was made once with
 * `systemd-id128 new` and never changes: SIEM rules and packaging/dmarctrace.catalog key on it
 * (tests/test-emit.c checks that every id has exactly one catalog entry). Field names are the full
 * journald names (DMARCTRACE_ + upper-case noun phrase, ECS paths with '.' spelt '_'), one meaning
 * per name across all events; use the DT_F_* macros rather than string literals so a typo is a
 * compile error, not a field journald silently drops. The field lists say which fields an event
 * carries; dt_emit() does not enforce them (a caller may add a field first and the list later),
 * but the test checks every listed name against journald's rules. */
#ifndef DT_EVENTS_H
#define DT_EVENTS_H

#include <errno.h>

enum dt_event {
        DT_EVENT_AGGREGATE_REPORT,
        DT_EVENT_AGGREGATE_RECORD,
        DT_EVENT_FAILURE_REPORT,
        DT_EVENT_ATTRIBUTION,
        DT_EVENT_VOLUME_SPIKE,
        DT_EVENT_VOLUME_NORMAL,
        DT_EVENT_FAILURE_SURGE,
        DT_EVENT_INPUT_REJECTED,
        DT_EVENT_AGENT_STATE,
        DT_EVENT_FAILURE_ROLLUP,
        DT_EVENT_AGENT_HEALTH,
        _DT_EVENT_MAX,
        _DT_EVENT_INVALID = -EINVAL,
};

/* MESSAGE_IDs: made once with `systemd-id128 new`; never change one */
#define DT_MSGID_AGGREGATE_REPORT "0746fc1d916b4b818c77f4be192e2f3e"
#define DT_MSGID_AGGREGATE_RECORD "1bfc3c037e594df8a59097554594e197"
#define DT_MSGID_FAILURE_REPORT   "2732cbae07c1406690c8728742527779"
#define DT_MSGID_ATTRIBUTION      "cf5405f6b7654ad5abf1c8dcd42c5ced"
#define DT_MSGID_VOLUME_SPIKE     "99ee75b7e1034d078af08e112d37f77a"
#define DT_MSGID_VOLUME_NORMAL    "f43e55cfe5d14989987ab7188045a0f0"
#define DT_MSGID_FAILURE_SURGE    "5da749c6c49c4dfa99005f62adf8ff4a"
#define DT_MSGID_INPUT_REJECTED   "880f13b6f5504ff69dfd13105a98bde3"
#define DT_MSGID_AGENT_STATE      "acb2e071211a4f37b25a3664914350c8"
#define DT_MSGID_FAILURE_ROLLUP   "76ebd6ccd3a249fa9919bae6ff613693"
#define DT_MSGID_AGENT_HEALTH     "ac1095a765ee4033a924cb1beb3237c0"

/* Fields every event carries, set by dt_emit() itself; callers may not pass them */
#define DT_F_EVENT                  "DMARCTRACE_EVENT"          /* the event name below */
#define DT_F_EVENT_ID               "DMARCTRACE_EVENT_ID"       /* 32 hex, same input: same id */
#define DT_F_SEQ                    "DMARCTRACE_SEQ"            /* 1, 2, ... per process */
#define DT_F_RUN_ID                 "DMARCTRACE_RUN_ID"         /* 32 hex, random per process */
#define DT_F_TRUNCATED              "DMARCTRACE_TRUNCATED"      /* "true" when a value was cut */

/* Fields set by callers. Values: sanitised text, RFC 3339 UTC times, true/false, lists joined
 * by ',' */
#define DT_F_POLICY_DOMAIN          "DMARCTRACE_POLICY_DOMAIN"
#define DT_F_REPORT_ORG             "DMARCTRACE_REPORT_ORG"     /* as claimed by the report */
#define DT_F_SENDER_AUTH            "DMARCTRACE_SENDER_AUTH"    /* local A-R verdict (authres.h) */
#define DT_F_REPORT_ID              "DMARCTRACE_REPORT_ID"
#define DT_F_PERIOD_BEGIN           "DMARCTRACE_PERIOD_BEGIN"
#define DT_F_PERIOD_END             "DMARCTRACE_PERIOD_END"
#define DT_F_RECORD_COUNT           "DMARCTRACE_RECORD_COUNT"
#define DT_F_MESSAGE_COUNT          "DMARCTRACE_MESSAGE_COUNT"
#define DT_F_PASS_COUNT             "DMARCTRACE_PASS_COUNT"
#define DT_F_FAIL_COUNT             "DMARCTRACE_FAIL_COUNT"
#define DT_F_OWN_HOST_COUNT         "DMARCTRACE_OWN_HOST_COUNT"
#define DT_F_COMPLETE               "DMARCTRACE_COMPLETE"       /* false: report cut at a limit */
#define DT_F_INPUT_PATH             "DMARCTRACE_INPUT_PATH"
#define DT_F_SOURCE_IP              "DMARCTRACE_SOURCE_IP"      /* ECS source.ip */
#define DT_F_DISPOSITION            "DMARCTRACE_DISPOSITION"
#define DT_F_DKIM_RESULT            "DMARCTRACE_DKIM_RESULT"
#define DT_F_DKIM_DOMAIN            "DMARCTRACE_DKIM_DOMAIN"
#define DT_F_SPF_RESULT             "DMARCTRACE_SPF_RESULT"
#define DT_F_SPF_DOMAIN             "DMARCTRACE_SPF_DOMAIN"
#define DT_F_HEADER_FROM            "DMARCTRACE_HEADER_FROM"
#define DT_F_ENVELOPE_FROM          "DMARCTRACE_ENVELOPE_FROM"
#define DT_F_OWN_HOST               "DMARCTRACE_OWN_HOST"       /* true/false */
#define DT_F_FEEDBACK_TYPE          "DMARCTRACE_FEEDBACK_TYPE"
#define DT_F_AUTH_FAILURE           "DMARCTRACE_AUTH_FAILURE"
#define DT_F_REPORTED_DOMAIN        "DMARCTRACE_REPORTED_DOMAIN"
#define DT_F_ORIGINAL_MAIL_FROM     "DMARCTRACE_ORIGINAL_MAIL_FROM"
#define DT_F_ORIGINAL_RCPT_TO       "DMARCTRACE_ORIGINAL_RCPT_TO"
#define DT_F_ARRIVAL_DATE           "DMARCTRACE_ARRIVAL_DATE"
#define DT_F_DELIVERY_RESULT        "DMARCTRACE_DELIVERY_RESULT"
#define DT_F_EMAIL_MESSAGE_ID       "DMARCTRACE_EMAIL_MESSAGE_ID"      /* ECS email.message_id */
#define DT_F_EMAIL_FROM_ADDRESS     "DMARCTRACE_EMAIL_FROM_ADDRESS"    /* ECS email.from.address */
#define DT_F_EMAIL_TO_ADDRESS       "DMARCTRACE_EMAIL_TO_ADDRESS"      /* ECS email.to.address */
#define DT_F_EMAIL_SUBJECT          "DMARCTRACE_EMAIL_SUBJECT"         /* ECS email.subject */
#define DT_F_EMAIL_DATE             "DMARCTRACE_EMAIL_DATE"
#define DT_F_PHP_ORIGINATING_SCRIPT "DMARCTRACE_PHP_ORIGINATING_SCRIPT"
#define DT_F_X_MAILER               "DMARCTRACE_X_MAILER"
#define DT_F_RECEIVED_HOPS          "DMARCTRACE_RECEIVED_HOPS"
#define DT_F_HOST_NAME              "DMARCTRACE_HOST_NAME"      /* ECS host.name */
#define DT_F_HOST_IP                "DMARCTRACE_HOST_IP"        /* ECS host.ip */
#define DT_F_MTA                    "DMARCTRACE_MTA"            /* postfix, exim */
#define DT_F_EMAIL_LOCAL_ID         "DMARCTRACE_EMAIL_LOCAL_ID" /* ECS email.local_id: queue id */
#define DT_F_USER_ID                "DMARCTRACE_USER_ID"        /* ECS user.id */
#define DT_F_USER_NAME              "DMARCTRACE_USER_NAME"      /* ECS user.name */
#define DT_F_SCRIPT_PATH            "DMARCTRACE_SCRIPT_PATH"
#define DT_F_SCRIPT_LINE            "DMARCTRACE_SCRIPT_LINE"
#define DT_F_CLIENT_IP              "DMARCTRACE_CLIENT_IP"      /* ECS client.ip */
#define DT_F_SASL_USERNAME          "DMARCTRACE_SASL_USERNAME"
#define DT_F_CONFIDENCE             "DMARCTRACE_CONFIDENCE"     /* exact, strong, weak */
#define DT_F_EVIDENCE               "DMARCTRACE_EVIDENCE"
#define DT_F_KEY_TYPE               "DMARCTRACE_KEY_TYPE"       /* domain, org, source_ip */
#define DT_F_KEY                    "DMARCTRACE_KEY"
#define DT_F_DAY                    "DMARCTRACE_DAY"            /* YYYY-MM-DD, UTC */
#define DT_F_HOUR                   "DMARCTRACE_HOUR"           /* RFC 3339 start of the hour */
#define DT_F_OBSERVED               "DMARCTRACE_OBSERVED"
#define DT_F_BASELINE               "DMARCTRACE_BASELINE"
#define DT_F_FACTOR                 "DMARCTRACE_FACTOR"
#define DT_F_LOCAL_SENT             "DMARCTRACE_LOCAL_SENT"     /* sent per this host's MTA log */
#define DT_F_REASON                 "DMARCTRACE_REASON"         /* a DT_R_* code (report/error.h) */
#define DT_F_ERROR_MESSAGE          "DMARCTRACE_ERROR_MESSAGE"  /* ECS error.message */
#define DT_F_OFFSET                 "DMARCTRACE_OFFSET"
#define DT_F_LINE                   "DMARCTRACE_LINE"
#define DT_F_MOVED_TO               "DMARCTRACE_MOVED_TO"
#define DT_F_STATE                  "DMARCTRACE_STATE"          /* starting, ready, stopping, ... */
#define DT_F_VERSION                "DMARCTRACE_VERSION"
#define DT_F_PROCESSED_COUNT        "DMARCTRACE_PROCESSED_COUNT"
#define DT_F_REJECTED_COUNT         "DMARCTRACE_REJECTED_COUNT"
#define DT_F_BACKLOG_COUNT          "DMARCTRACE_BACKLOG_COUNT"
#define DT_F_REPORT_COUNT           "DMARCTRACE_REPORT_COUNT"   /* reports stored in a window */
#define DT_F_SUPPRESSED_COUNT       "DMARCTRACE_SUPPRESSED_COUNT"      /* ... with no own event */
#define DT_F_SUPPRESSED_BY_DOMAIN   "DMARCTRACE_SUPPRESSED_BY_DOMAIN"  /* "d=N,...,other=N" */
#define DT_F_AT_STOP                "DMARCTRACE_AT_STOP"        /* true: agent-health at stop */
#define DT_F_UPTIME_SECONDS         "DMARCTRACE_UPTIME_SECONDS"
#define DT_F_INTERVAL_SECONDS       "DMARCTRACE_INTERVAL_SECONDS"      /* since the last health */
#define DT_F_INTERVAL_PROCESSED_COUNT "DMARCTRACE_INTERVAL_PROCESSED_COUNT"
#define DT_F_INTERVAL_REJECTED_COUNT "DMARCTRACE_INTERVAL_REJECTED_COUNT"
#define DT_F_THROUGHPUT             "DMARCTRACE_THROUGHPUT"     /* messages done per second */
#define DT_F_BACKLOG_ETA_SECONDS    "DMARCTRACE_BACKLOG_ETA_SECONDS"
#define DT_F_EVENT_COUNT            "DMARCTRACE_EVENT_COUNT"    /* events sent before this one */
#define DT_F_EVENT_COUNT_BY_TYPE    "DMARCTRACE_EVENT_COUNT_BY_TYPE"   /* "name=N,..." */
#define DT_F_EMIT_FAILURE_COUNT     "DMARCTRACE_EMIT_FAILURE_COUNT"
#define DT_F_EMIT_RETRY_COUNT       "DMARCTRACE_EMIT_RETRY_COUNT"
#define DT_F_DEFERRED_COUNT         "DMARCTRACE_DEFERRED_COUNT" /* parse worker failed: retried */

struct dt_event_info {
        const char *name;               /* DMARCTRACE_EVENT value, e.g. "aggregate-report" */
        const char *message_id;         /* 32 lower-case hex digits */
        int priority;                   /* default syslog level, LOG_INFO ... LOG_WARNING */
        const char *const *fields;      /* the caller-set fields it carries; NULL-terminated */
};

/* dt_event_info - the table row of ev, or NULL when ev is out of range; static, never freed */
const struct dt_event_info *dt_event_info(enum dt_event ev);

/* dt_event_common_fields - the NULL-terminated names dt_emit() adds to every event */
const char *const *dt_event_common_fields(void);

#endif
