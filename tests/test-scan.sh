#!/bin/sh
# test-scan.sh - `dmarctrace scan` end to end: a Maildir built from the shared corpus, events as
# JSON lines and read back from a real journald, dedupe, keep mode, the .Rejected folder, and a
# SIGKILL in the middle of a large scan followed by a rerun with exact totals.
set -u
. "$DT_SRCDIR/tests/lib.sh"
C="$DT_CORPUS"
T=$(mktemp -d)
trap 'stop_journald; rm -rf "$T"' EXIT
M="$T/Maildir"
make_maildir "$M"

# the whole corpus, each file delivered as a message
n_files=0
for f in "$C"/aggregate/* "$C"/failure/* "$C"/malformed/* "$C"/php-originating/*; do
        deliver "$M" "$f"
        n_files=$((n_files + 1))
done
write_config "$T/json.conf" "$M" "$T/state" json
dt scan -c "$T/json.conf" >"$T/ev1" 2>"$T/err1"; rc=$?
is "scan exits 0" "$rc" "0"
is "every event line is JSON" "$(jq -c . "$T/ev1" >/dev/null 2>&1 && echo ok)" "ok"

# what to expect, from `dmarctrace parse` over the same files: distinct report keys
dt parse "$C"/aggregate/* "$C"/malformed/* >"$T/parsed" 2>/dev/null
want_agg=$(jq -r 'select(.type=="aggregate") | [.org_name // "", .report_id, .domain, .begin, .end] | @json' "$T/parsed" | sort -u | wc -l)
is "one aggregate-report per distinct report" "$(events "$T/ev1" aggregate-report | wc -l)" "$want_agg"
is "failure-report events (LF and CRLF copies of one report count once)" \
        "$(events "$T/ev1" failure-report | wc -l)" "8"
is "rejected: the five unusable files" \
        "$(events "$T/ev1" input-rejected | jq -r .DMARCTRACE_REASON | sort | tr '\n' ' ')" \
        "EMPTY NOT_A_REPORT XML_MALFORMED XML_MALFORMED XML_MALFORMED "
is "new/ is empty" "$(ls "$M/new" | wc -l)" "0"
is "rejected files are in .Rejected/cur" "$(ls "$M/.Rejected/cur" | wc -l)" "5"
is ".Rejected is a Maildir++ folder" "$(ls -d "$M/.Rejected/new" "$M/.Rejected/tmp" "$M/.Rejected/maildirfolder" | wc -l)" "3"
is "the rest are in cur/ marked seen" "$(ls "$M/cur" | grep -c ':2,S$')" "$((n_files - 5))"
moved=$(events "$T/ev1" input-rejected | jq -r 'select(.DMARCTRACE_REASON=="EMPTY") | .DMARCTRACE_MOVED_TO')
is "MOVED_TO names the file in .Rejected" "$(test -e "$M/$moved" && echo yes)" "yes"

# field values of one report, checked against the XML (tierpod_test.xml: 192.168.1.1 is ours)
ev=$(events "$T/ev1" aggregate-report | jq -c 'select(.DMARCTRACE_REPORT_ID=="1.id.0" and .DMARCTRACE_PERIOD_BEGIN=="2018-04-20T00:00:00Z")')
is "aggregate-report fields" "$(echo "$ev" | jq -r '[.DMARCTRACE_REPORT_ORG,.DMARCTRACE_POLICY_DOMAIN,.DMARCTRACE_PERIOD_BEGIN,.DMARCTRACE_RECORD_COUNT,.DMARCTRACE_MESSAGE_COUNT,.DMARCTRACE_OWN_HOST_COUNT] | join("|")')" \
        "Test Inc.|test.net|2018-04-20T00:00:00Z|2|7|5"
is "aggregate-report carries its ids" "$(echo "$ev" | jq -r '[.SYSLOG_IDENTIFIER,.MESSAGE_ID,(.DMARCTRACE_EVENT_ID|length)] | join("|")')" \
        "dmarctrace|0746fc1d916b4b818c77f4be192e2f3e|32"
rec=$(events "$T/ev1" aggregate-record | jq -c 'select(.DMARCTRACE_REPORT_ID=="1.id.0" and .DMARCTRACE_MESSAGE_COUNT=="5")')
is "events.records=own: only our rows" "$(events "$T/ev1" aggregate-record | jq -r .DMARCTRACE_OWN_HOST | sort -u)" "true"
is "aggregate-record fields" "$(echo "$rec" | jq -r '[.DMARCTRACE_SOURCE_IP,.DMARCTRACE_DKIM_RESULT,.DMARCTRACE_SPF_RESULT,.DMARCTRACE_DISPOSITION,.DMARCTRACE_OWN_HOST] | join("|")')" \
        "192.168.1.1|pass|pass|none|true"
fr=$(events "$T/ev1" failure-report | jq -c 'select(.DMARCTRACE_SOURCE_IP=="192.0.2.1" and .DMARCTRACE_AUTH_FAILURE=="bodyhash" and (.DMARCTRACE_INPUT_PATH|length) > 0)' | head -1)
is "failure-report fields" "$(echo "$fr" | jq -r '.DMARCTRACE_FEEDBACK_TYPE')" "auth-failure"

# the same messages again: nothing new is stored or emitted
for f in "$C"/aggregate/*.xml; do deliver "$M" "$f"; done
dt scan -c "$T/json.conf" >"$T/ev2" 2>"$T/err2"; rc=$?
is "rescan of duplicates exits 0" "$rc" "0"
is "duplicates emit no report events" "$(events "$T/ev2" aggregate-report | wc -l)" "0"
case "$(cat "$T/err2")" in
*"0 aggregate"*"duplicate"*) ok "duplicates are counted" ;;
*) fail "duplicates are counted" "$(cat "$T/err2")" ;;
esac

# keep mode: the Maildir is left untouched, and a second run does nothing
K="$T/Keep"; make_maildir "$K"
deliver "$K" "$C/aggregate/cry-inc_google.xml" "1.keep"
write_config "$T/keep.conf" "$K" "$T/keepstate" json
sed -i 's/mode = "move"/mode = "keep"/' "$T/keep.conf"
dt scan -c "$T/keep.conf" >"$T/k1" 2>/dev/null
dt scan -c "$T/keep.conf" >"$T/k2" 2>/dev/null
is "keep mode: first run reports" "$(events "$T/k1" aggregate-report | wc -l)" "1"
is "keep mode: file stays in new/" "$(ls "$K/new")" "1.keep"
is "keep mode: second run is silent" "$(events "$T/k2" aggregate-report | wc -l)" "0"

# a configuration error names the file and line, and exits 1
printf 'maildir = { path = "%s"; };\ndetect = { spike_facter = 3; };\n' "$M" >"$T/bad.conf"
dt scan -c "$T/bad.conf" >/dev/null 2>"$T/err3"; rc=$?
is "bad config exits 1" "$rc" "1"
is "bad config message" "$(cat "$T/err3")" "dmarctrace: $T/bad.conf:2: detect.spike_facter: unknown key"

# SIGKILL during a scan of 10,000 generated reports, then a rerun: every report stored exactly
# once (under valgrind the rerun takes about 2.5 minutes)
NG=10000
G="$T/Gen"; make_maildir "$G"; mkdir "$T/gen"
"$DT_GEN" -n $NG -r 1-5 -f eml -s 3 -o "$T/gen"
for f in "$T"/gen/*; do mv "$f" "$G/new/"; done
write_config "$T/gen.conf" "$G" "$T/genstate" json
${DT_WRAP:-} "$DT_BIN" scan -c "$T/gen.conf" >"$T/g1" 2>/dev/null &
pid=$!
sleep 0.3
kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
dt scan -c "$T/gen.conf" >"$T/g2" 2>/dev/null
# the SIGKILL may cut g1's last line short: jq -R skips it instead of stopping there
report_ids() { cat "$@" | jq -R -r 'fromjson? | select(.DMARCTRACE_EVENT=="aggregate-report") | .DMARCTRACE_EVENT_ID'; }
total=$(report_ids "$T/g1" "$T/g2" | sort -u | wc -l)
is "after SIGKILL and rerun: $NG distinct reports" "$total" "$NG"
is "after SIGKILL and rerun: new/ is empty" "$(ls "$G/new" | wc -l)" "0"
dups=$(report_ids "$T/g1" "$T/g2" | sort | uniq -d | wc -l)
# only the uncommitted batch (at most 1,024 messages) is processed again, with the same event ids
if [ "$dups" -le 1024 ]; then ok "at most one batch was emitted twice ($dups)"; else fail "re-emitted reports" "$dups"; fi
is "store holds each report once" "$(sqlite3 "$T/genstate/state.db" 'SELECT count(*) FROM aggregate_reports;' 2>&1)" "$NG"
is "store has an outcome for every message" "$(sqlite3 "$T/genstate/state.db" "SELECT count(*) FROM messages WHERE outcome = 'aggregate';" 2>&1)" "$NG"

# a batch whose commit fails (DT_FAILPOINT, as a full disk would) counts none of its messages:
# the summary names only what the store holds, and the rest waits in new/ for the next run (the
# message whose flush failed is retried at once; under valgrind a batch may hold only that one).
# A batch holds up to 1,024 messages: 1,100 make sure a second batch follows the failed one.
F="$T/Fail"; make_maildir "$F"
deliver_generated "$F" 1100 1-2 5
write_config "$T/fail.conf" "$F" "$T/failstate" json
DT_FAILPOINT=commit:1 ${DT_WRAP:-} "$DT_BIN" scan -c "$T/fail.conf" >/dev/null 2>"$T/fail.err"; rc=$?
stored=$(sqlite3 "$T/failstate/state.db" 'SELECT count(*) FROM aggregate_reports;' 2>&1)
is "failed commit: the scan goes on and exits 0" "$rc" "0"
is "failed commit: stored and waiting add up" "$((stored + $(ls "$F/new" | wc -l)))" "1100"
is "failed commit: the summary counts what was stored, once" \
        "$(sed -n 's/.*scanned [0-9]* messages: \([0-9]*\) aggregate.*/\1/p' "$T/fail.err")" "$stored"

# the journal: events read back with journalctl -o json
if why=$(ensure_journald); then
        J="$T/Journal"; make_maildir "$J"
        deliver "$J" "$C/aggregate/tierpod_test.xml.zip"
        deliver "$J" "$C/malformed/parsedmarc_empty.xml"
        write_config "$T/journal.conf" "$J" "$T/jstate" journal
        ${DT_WRAP:-} "$DT_BIN" scan -c "$T/journal.conf" >"$T/j.out" 2>"$T/j.err" &
        pid=$!; wait $pid; rc=$?
        is "journal scan exits 0" "$rc" "0"
        is "journal mode writes nothing on stdout" "$(wc -c <"$T/j.out")" "0"
        journalctl --sync 2>/dev/null || sleep 1
        journalctl -o json _PID=$pid --no-pager >"$T/j.json" 2>/dev/null
        ev=$(events "$T/j.json" aggregate-report)
        is "journal: aggregate-report read back" "$(echo "$ev" | jq -r '[.DMARCTRACE_REPORT_ID,.DMARCTRACE_MESSAGE_COUNT,.DMARCTRACE_OWN_HOST_COUNT,.PRIORITY,.SYSLOG_FACILITY] | join("|")')" \
                "1.id.0|7|5|6|3"
        is "journal: input-rejected read back" "$(events "$T/j.json" input-rejected | jq -r .DMARCTRACE_REASON)" "EMPTY"
        is "journal: MESSAGE_ID" "$(echo "$ev" | jq -r .MESSAGE_ID)" "0746fc1d916b4b818c77f4be192e2f3e"
else
        skip "journal: events read back with journalctl" "$why"
fi

# a message that crashes the parse worker (the test-only DT_WORKER_TEST hook, for names with
# "poison" in them): it costs that message alone, which stays in new/ for the next two scans
# and is rejected with WORKER_CRASH at the third; the other messages go through at the first
W="$T/Worker"; make_maildir "$W"
deliver "$W" "$C/aggregate/tierpod_test.xml" "1.poison"
deliver "$W" "$C/aggregate/cry-inc_google.xml" "2.fine"
deliver "$W" "$C/failure/mail-auth_arf-003.eml" "3.fine"
write_config "$T/worker.conf" "$W" "$T/wstate" json
wscan() {
        env DT_WORKER_TEST=crash DT_WORKER_TEST_MATCH=poison ${DT_WRAP:-} "$DT_BIN" scan -c "$T/worker.conf" \
                >"$T/w$1" 2>"$T/werr$1"
}
wscan 1; rc=$?
is "worker crash: the scan exits 0" "$rc" "0"
is "worker crash: the other messages are stored at once" \
        "$(events "$T/w1" aggregate-report | wc -l) $(events "$T/w1" failure-report | wc -l)" "1 1"
is "worker crash: only the crashing message is left in new/" "$(ls "$W/new")" "1.poison"
is "worker crash: no event for it yet" "$(events "$T/w1" input-rejected | wc -l)" "0"
case "$(cat "$T/werr1")" in
*"'1.poison': worker killed by SIGABRT (WORKER_CRASH); left in new/"*"1 deferred"*) ok "worker crash: stderr says it was deferred" ;;
*) fail "worker crash: stderr says it was deferred" "$(cat "$T/werr1")" ;;
esac
wscan 2; rc=$?
is "worker crash: second scan leaves it in new/" "$rc $(ls "$W/new") $(events "$T/w2" input-rejected | wc -l)" "0 1.poison 0"
wscan 3; rc=$?
is "worker crash: third scan exits 0" "$rc" "0"
is "worker crash: third scan rejects it" \
        "$(events "$T/w3" input-rejected | jq -r '[.DMARCTRACE_REASON, .DMARCTRACE_ERROR_MESSAGE] | join("|")')" \
        "WORKER_CRASH|worker killed by SIGABRT (attempt 3 of 3)"
is "worker crash: it is in .Rejected" "$(ls "$W/.Rejected/cur")" "1.poison:2,S"
is "worker crash: new/ is empty" "$(ls "$W/new" | wc -l)" "0"
is "worker crash: the store says why, after 3 attempts" \
        "$(sqlite3 "$T/wstate/state.db" "SELECT outcome, reason, attempts FROM messages WHERE name = '1.poison';" 2>&1)" \
        "rejected|WORKER_CRASH|3"
is "worker crash: the others were attempted once" \
        "$(sqlite3 "$T/wstate/state.db" "SELECT group_concat(attempts) FROM messages WHERE name LIKE '%.fine';" 2>&1)" \
        "1,1"
tap_done
