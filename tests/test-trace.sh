#!/bin/sh
# test-trace.sh - failure reports traced through this host's logs, end to end: a generated
# scenario (Postfix, Exim and PHP logs, and the failure reports receivers send about some of
# those messages, with decoys) scanned by the agent's pipeline and explained by `trace`. Every
# attribution field is asserted; the spoofed report from a foreign address is never attributed.
set -u
. "$DT_SRCDIR/tests/lib.sh"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
G="$T/scenario"
"$DT_GENLOGS" "$G" >/dev/null
M="$T/Maildir"; make_maildir "$M"
for f in "$G"/reports/*.eml; do deliver "$M" "$f" "$(basename "$f")"; done
write_config "$T/c.conf" "$M" "$T/state" json \
        "logs = { postfix = [ \"$G/mail.log\" ]; exim = [ \"$G/exim/mainlog\" ]; php_mail = [ \"$G/php/mail.log\" ]; };"

dt scan -c "$T/c.conf" >"$T/ev" 2>"$T/err"; rc=$?
is "scan with logs exits 0" "$rc" "0"
case "$(head -1 "$T/err")" in
"dmarctrace: indexed "*" log records from "*" lines") ok "logs indexed before the reports" ;;
*) fail "logs indexed before the reports" "$(cat "$T/err")" ;;
esac
is "one failure-report per report" "$(events "$T/ev" failure-report | wc -l)" "8"

# attr MESSAGE-ID - the attribution event of that message, as "field|field|..."
attr() {
        events "$T/ev" attribution | jq -r --arg m "$1" 'select(.DMARCTRACE_EMAIL_MESSAGE_ID == $m) |
                [.DMARCTRACE_CONFIDENCE, .DMARCTRACE_MTA, .DMARCTRACE_EMAIL_LOCAL_ID, .DMARCTRACE_USER_ID // "",
                 .DMARCTRACE_USER_NAME // "", .DMARCTRACE_SCRIPT_PATH // "", .DMARCTRACE_SCRIPT_LINE // "",
                 .DMARCTRACE_CLIENT_IP // "", .DMARCTRACE_SASL_USERNAME // "", .DMARCTRACE_EVIDENCE] | join("|")'
}
uname33=$(getent passwd 33 | cut -d: -f1)
is "attack script, exact" "$(attr atk005@web1.example.com)" \
        "exact|postfix|4F3A1C0005|33|$uname33|/var/www/site/wp-content/uploads/x.php|3|||message-id,pickup-uid,php-call,php-subject,php-header"
is "attack re-queued by amavis, exact" "$(attr atk008@web1.example.com)" \
        "exact|postfix|4F3A1C0008|33|$uname33|/var/www/site/wp-content/uploads/x.php|3|||message-id,pickup-uid,php-call,php-subject"
is "Exim local user and PHP call, exact" "$(attr exim1@blog.example.com)" \
        "exact|exim|1vAbCd-00000000001-0001||bloguser|/var/www/blog/wp-includes/pluggable.php|512|||message-id,exim-user,php-call,php-subject"
is "PHP log rotated away: strong, script from the header" "$(attr contact1@web1.example.com)" \
        "strong|postfix|4D00000001|33|$uname33|contact.php||||message-id,pickup-uid,php-header"
is "SASL user, strong" "$(attr sasl1@laptop.example.com)" \
        "strong|postfix|4B00000001|||||198.51.100.7|alice@example.com|message-id,smtp-client,sasl-login"
is "relayed from web2: that host is named" \
        "$(events "$T/ev" attribution | jq -r 'select(.DMARCTRACE_EMAIL_MESSAGE_ID=="relay1@web2.example.com") | [.DMARCTRACE_HOST_NAME,.DMARCTRACE_HOST_IP,.DMARCTRACE_CONFIDENCE] | join("|")')" \
        "web2.example.com|10.0.0.5|strong"
is "spoofed report from a foreign address: no attribution" \
        "$(events "$T/ev" attribution | jq -r .DMARCTRACE_EMAIL_MESSAGE_ID | grep -c spoof)" "0"
msg=$(events "$T/ev" attribution | jq -r 'select(.DMARCTRACE_EMAIL_MESSAGE_ID=="atk005@web1.example.com") | .MESSAGE')
case "$msg" in
"attribution: "*" mail traced to uid 33 ($uname33) script /var/www/site/wp-content/uploads/x.php:3 via postfix 4F3A1C0005 on "*" [exact]")
        ok "MESSAGE alone carries the key facts" ;;
*) fail "MESSAGE alone carries the key facts" "$msg" ;;
esac

# trace: the same chain for one report, readable and as JSON; exit 3 when not traced
dt trace -c "$T/c.conf" "$G/reports/attack-rfc822.eml" >"$T/trace" 2>&1; rc=$?
is "trace exits 0 when traced" "$rc" "0"
is "trace shows the PHP call step" "$(grep -c "PHP's mail.log has the mail() call: /var/www/site/wp-content/uploads/x.php line 3" "$T/trace")" "1"
is "trace shows the pickup step" "$(grep -c "pickup logged it from uid 33" "$T/trace")" "1"
j=$(dt trace -c "$T/c.conf" --json "$G/reports/sasl.eml")
is "trace --json" "$(echo "$j" | jq -r '[.attributed,.confidence,.sasl_username,.client_ip] | join("|")')" "true|strong|alice@example.com|198.51.100.7"
dt trace -c "$T/c.conf" --json "$G/reports/spoofed.eml" >"$T/sp"; rc=$?
is "trace of the spoofed report: not traced, exit 3" "$rc|$(jq -r .attributed "$T/sp")" "3|false"
dt trace -c "$T/c.conf" "$DT_CORPUS/aggregate/tierpod_test.xml" >/dev/null 2>&1; rc=$?
is "trace of an aggregate report: exit 1" "$rc" "1"

# a configured log that cannot be read (here a directory) is named on stderr and skipped; the
# other logs still trace the report (it used to end the whole command with exit 1)
mkdir "$T/notafile"
write_config "$T/bad.conf" "$M" "$T/state-bad" json \
        "logs = { postfix = [ \"$T/notafile\", \"$G/mail.log\" ]; exim = [ \"$G/exim/mainlog\" ]; php_mail = [ \"$G/php/mail.log\" ]; };"
dt trace -c "$T/bad.conf" "$G/reports/attack-rfc822.eml" >"$T/bad.out" 2>"$T/bad.err"; rc=$?
is "trace with an unreadable log: exit 0, traced" "$rc" "0"
is "trace with an unreadable log: the same verdict" "$(grep -c '=> attribution: .* \[exact\]$' "$T/bad.out")" "1"
is "trace with an unreadable log: which file and why, on stderr" "$(cat "$T/bad.err")" \
        "dmarctrace: cannot read log '$T/notafile': not a regular file; skipping it"

# the cursors: a second run reads no old line again
dt scan -c "$T/c.conf" >/dev/null 2>"$T/err2"
is "log cursors: nothing indexed twice" "$(head -1 "$T/err2")" "dmarctrace: indexed 0 log records from 0 lines"

# retention: rows more than logs.retention_days (30) older than the newest line are pruned at
# the next catch-up; the scenario's own rows stay, and a forged time stamp far in the future
# (anyone may syslog with the mail facility) does not move the window past them
db="$T/state/state.db"
before=$(sqlite3 "$db" "SELECT (SELECT count(*) FROM log_msg) || '|' || (SELECT count(*) FROM log_php);")
old=$(( $(sqlite3 "$db" 'SELECT max(first_seen) FROM log_msg;') - 40 * 86400 ))
future=$(( $(date +%s) + 3650 * 86400 ))
sqlite3 "$db" "INSERT INTO log_msg (mta, queue_id, message_id, first_seen, last_seen) VALUES ('postfix', 'OLD0000001', 'old@example.com', $old, $old);
INSERT INTO log_rcpt (msg, rcpt, time) VALUES (last_insert_rowid(), 'x@example.net', $old);
INSERT INTO log_php (time, script) VALUES ($old, '/var/www/old.php');
INSERT INTO log_msg (mta, queue_id, first_seen, last_seen) VALUES ('postfix', 'FUT0000001', $future, $future);"
dt scan -c "$T/c.conf" >/dev/null 2>&1
is "retention: the 40-day-old rows are pruned, the rest kept" \
        "$(sqlite3 "$db" "SELECT (SELECT count(*) FROM log_msg WHERE queue_id != 'FUT0000001') || '|' ||
                (SELECT count(*) FROM log_php) || '|' ||
                (SELECT count(*) FROM log_msg WHERE queue_id IN ('OLD0000001', 'FUT0000001')) || '|' ||
                (SELECT count(*) FROM log_rcpt WHERE rcpt = 'x@example.net');")" "$before|1|0"
tap_done
