#!/bin/sh
# test-journal-logs.sh - logs.postfix = [ "journal" ]: Postfix lines that reach the journal (as
# journald stores syslog from the mail facility) are indexed through sd_journal and trace a
# failure report, and the journal cursor saved in the store means a second scan reads nothing
# again. logs.exim and logs.php_mail = [ "journal" ]: Exim main-log lines sent to syslog (Debian's
# "exim4" with Exim's own stamp in the text, syslog_timestamp's default; "exim" with "[pid] " and
# no stamp) and PHP's mail() lines trace two failure reports, through the scan's attribution
# events and `trace`. Needs a journald (started here when none runs, as root).
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

# Exim: the blog's comment notification from the scenario's mainlog, twice, each with this run's
# own ids and recipient. A goes through "exim4" with the stamp, and PHP's mail() call for it
# through "php"; B through "exim" with "[pid] " and no PHP call, so its script is the +arguments
# cwd. journal_entry IDENT TEXT
journal_entry() {
        printf 'MESSAGE=%s\nSYSLOG_IDENTIFIER=%s\nSYSLOG_FACILITY=%s\nPRIORITY=6\n' "$2" "$1" \
                "$([ "$1" = php ] && echo 1 || echo 2)" >"$T/entry"
        logger --journald="$T/entry"
}
n=$(($$ % 100000))
ida=$(printf 'jA%04d-%011d-0001' $((n % 10000)) "$n")   # 23-character ids (Exim 4.97 and later)
idb=$(printf 'jB%04d-%011d-0001' $((n % 10000)) "$n")
now=$(date '+%Y-%m-%d %H:%M:%S')             # Exim stamps in local time
for m in a b; do
        if [ $m = a ]; then id=$ida; ident=exim4; pre="$now "; else id=$idb; ident=exim; pre="[3101] "; fi
        grep -F -e '[3001] ' -e '[3002] ' "$G/exim/mainlog" | cut -d' ' -f4- | while IFS= read -r msg; do
                journal_entry "$ident" "$pre$(printf '%s' "$msg" | sed "s/1vAbCd-00000000001-0001/$id/;
                        s/exim1@blog/$tag$m@blog/; s/reader@example.org/$tag$m@example.org/")"
        done
        sed "s/exim1@blog/$tag$m@blog/; s/reader@example.org/$tag$m@example.org/" "$G/reports/exim.eml" \
                >"$T/exim-$m.eml"
done
journal_entry php "$(grep -F 'pluggable.php' "$G/php/mail.log" | sed "s/^\[[^]]*\] //; s/reader@example.org/${tag}a@example.org/")"
M2="$T/Maildir2"; make_maildir "$M2"
deliver "$M2" "$T/exim-a.eml" "1.exim-a"
deliver "$M2" "$T/exim-b.eml" "2.exim-b"
write_config "$T/e.conf" "$M2" "$T/state2" json 'logs = { exim = [ "journal" ]; php_mail = [ "journal" ]; };'
journalctl --sync 2>/dev/null || sleep 1
dt scan -c "$T/e.conf" >"$T/ev2" 2>"$T/err3"; rc=$?
is "scan with Exim and PHP lines from the journal exits 0" "$rc" "0"
exim_attr() {
        events "$T/ev2" attribution | jq -r --arg m "$1" 'select(.DMARCTRACE_EMAIL_MESSAGE_ID == $m) |
                [.DMARCTRACE_CONFIDENCE, .DMARCTRACE_MTA, .DMARCTRACE_EMAIL_LOCAL_ID, .DMARCTRACE_USER_NAME // "",
                 .DMARCTRACE_USER_ID // "", .DMARCTRACE_SCRIPT_PATH // "", .DMARCTRACE_SCRIPT_LINE // "",
                 .DMARCTRACE_EVIDENCE] | join("|")'
}
is "exim4 with its stamp, and the PHP call: exact, script and line from PHP" "$(exim_attr "${tag}a@blog.example.com")" \
        "exact|exim|$ida|bloguser||/var/www/blog/wp-includes/pluggable.php|512|message-id,exim-user,php-call,php-subject"
is "exim with [pid] and no PHP call: strong, the +arguments cwd as the script" "$(exim_attr "${tag}b@blog.example.com")" \
        "strong|exim|$idb|bloguser||/var/www/blog||message-id,exim-user,exim-cwd"
j=$(dt trace -c "$T/e.conf" --json "$T/exim-a.eml"); rc=$?
is "trace through the journal's Exim lines" "$rc|$(echo "$j" | jq -r '[.attributed,.confidence,.mta,.queue_id,.user,.script_path,.script_line] | join("|")')" \
        "0|true|exact|exim|$ida|bloguser|/var/www/blog/wp-includes/pluggable.php|512"
tap_done
