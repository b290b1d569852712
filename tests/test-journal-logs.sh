#!/bin/sh
# test-journal-logs.sh - logs.postfix = [ "journal" ]: Postfix lines that reach the journal (as
# journald stores syslog from the mail facility) are indexed through sd_journal and trace a
# failure report, and the journal cursor saved in the store means a second scan reads nothing
# again. Needs a journald (started here when none runs, as root).
set -u
. "$DT_SRCDIR/tests/lib.sh"
T=$(mktemp -d)
trap 'stop_journald; rm -rf "$T"' EXIT
if ! why=$(ensure_journald); then
        skip "journal log source" "$why"
        tap_done
        exit 0
fi
G="$T/scenario"
"$DT_GENLOGS" "$G" >/dev/null
# the SASL submission's lines, as Postfix would log them through syslog: identifier, pid,
# facility mail (2); each run gets its own queue id and Message-ID, so earlier runs' entries in
# the same journal never match
tag="jt$$"
qid=$(printf '4B00%06X' $(($$ % 16777216)))    # a short Postfix queue id of 10 hex digits
grep -F ' 4B00000001: ' "$G/mail.log" | while IFS= read -r line; do
        rest=${line#* * }                       # drop the time stamp and the host
        ident=${rest%%\[*}
        msg=${rest#*]: }
        msg=$(printf '%s' "$msg" | sed "s/4B00000001/$qid/g; s/sasl1@laptop.example.com/$tag@laptop.example.com/")
        printf 'MESSAGE=%s\nSYSLOG_IDENTIFIER=%s\nSYSLOG_FACILITY=2\nPRIORITY=6\n' "$msg" "$ident" >"$T/entry"
        logger --journald="$T/entry"
done
sed "s/sasl1@laptop.example.com/$tag@laptop.example.com/" "$G/reports/sasl.eml" >"$T/sasl.eml"
M="$T/Maildir"; make_maildir "$M"
deliver "$M" "$T/sasl.eml" "1.sasl"
write_config "$T/c.conf" "$M" "$T/state" json 'logs = { postfix = [ "journal" ]; };'
journalctl --sync 2>/dev/null || sleep 1

dt scan -c "$T/c.conf" >"$T/ev" 2>"$T/err"; rc=$?
is "scan with the journal as log source exits 0" "$rc" "0"
is "the SASL submission is traced through the journal's Postfix lines" \
        "$(events "$T/ev" attribution | jq -r '[.DMARCTRACE_EMAIL_LOCAL_ID,.DMARCTRACE_SASL_USERNAME,.DMARCTRACE_CLIENT_IP,.DMARCTRACE_CONFIDENCE] | join("|")')" \
        "$qid|alice@example.com|198.51.100.7|strong"
dt scan -c "$T/c.conf" >/dev/null 2>"$T/err2"
is "the journal cursor: nothing indexed twice" "$(head -1 "$T/err2")" "dmarctrace: indexed 0 log records from 0 lines"
tap_done
