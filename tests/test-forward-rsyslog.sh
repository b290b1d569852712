#!/bin/sh
# test-forward-rsyslog.sh - the generated rsyslog config, run by Debian's rsyslogd against the real
# journald, carries the agent's events to JSON with the names of packaging/forwarders/fields.tsv
#
# A scan of corpus reports writes events to the journal; rsyslogd reads them with imjournal
# through packaging/forwarders/rsyslog/60-dmarctrace.conf (paths and the omfwd target pointed at
# this test) and writes events.json and, over TCP, the same lines. Every event of the scan (found
# by its _PID) must arrive once, and for every table row the JSON must hold the journal's value at
# the mapped name (numbers for long). The MESSAGE line alone must carry the key facts. Then the
# demo incident (gen-incident) is scanned into the journal too, and each attribution's file.path,
# user.id and email.local_id and the domain spike's counts must arrive as journalctl shows them.
# Skipped without rsyslogd, jq, or a journald (started here as root when none runs).
set -u
. "$DT_SRCDIR/tests/lib.sh"
C="$DT_CORPUS"
P="$DT_SRCDIR/packaging/forwarders"
T=$(mktemp -d)
rs_pid=
trap '[ -n "$rs_pid" ] && kill "$rs_pid" 2>/dev/null; stop_journald; rm -rf "$T"' EXIT

if ! command -v rsyslogd >/dev/null 2>&1 || ! command -v jq >/dev/null 2>&1; then
        skip "rsyslog forwarding" "rsyslogd or jq is not installed (apt-get install rsyslog jq)"
        tap_done
        exit 0
fi
if ! ensure_journald >"$T/why"; then
        skip "rsyslog forwarding" "$(cat "$T/why")"
        tap_done
        exit 0
fi

# rsyslogd with the generated file; imjournal starts at the journal's end (IgnorePreviousMessages)
port=$((20000 + ($$ + 7) % 20000))
mkdir -p "$T/rs/work"
sed -e "s#/var/log/dmarctrace/#$T/rs/#" -e 's#target="siem.example.com"#target="127.0.0.1"#' \
    -e "s#port=\"5140\"#port=\"$port\"#" -e "s#StateFile=\"imjournal-dmarctrace.state\"#StateFile=\"$T/rs/work/imjournal.state\"#" \
    "$P/rsyslog/60-dmarctrace.conf" >"$T/rs/60-dmarctrace.conf"
cat >"$T/rs/rsyslog.conf" <<EOF
global(workDirectory="$T/rs/work")
module(load="imtcp")
template(name="raw" type="string" string="%rawmsg%\n")
ruleset(name="recv") { action(type="omfile" file="$T/rs/received.json" template="raw") }
input(type="imtcp" port="$port" ruleset="recv")
include(file="$T/rs/60-dmarctrace.conf")
EOF
rsyslogd -n -f "$T/rs/rsyslog.conf" -i "$T/rs/pid" >"$T/rs/log" 2>&1 &
rs_pid=$!

# wait until rsyslogd reads the journal: a probe event goes through
probe="probe-$$"
i=0
while [ $i -lt 50 ]; do
        printf 'MESSAGE=rsyslog probe\nSYSLOG_IDENTIFIER=dmarctrace-test\nDMARCTRACE_EVENT=%s\n' "$probe" |
                logger --journald 2>/dev/null
        sleep 0.2
        grep -q "\"$probe\"" "$T/rs/events.json" 2>/dev/null && break
        i=$((i + 1))
done
if grep -q "\"$probe\"" "$T/rs/events.json" 2>/dev/null; then
        ok "rsyslogd reads the journal through imjournal"
else
        fail "rsyslogd reads the journal through imjournal" "$(cat "$T/rs/log")"
        tap_done
        exit 1
fi

# the agent's events: aggregate and failure reports, and one rejected message
M="$T/Maildir"
make_maildir "$M"
deliver "$M" "$C/aggregate/cry-inc_google.xml"
deliver "$M" "$C/aggregate/cry-inc_outlook.xml"
deliver "$M" "$C/failure/mail-auth_arf-003.eml"
deliver "$M" "$C/failure/parsedmarc_dmarc_ruf_report_linkedin.eml"
printf 'From: a@example.com\nTo: dmarc@example.com\nSubject: hello\n\njust mail\n' >"$T/junk" && deliver "$M" "$T/junk"
write_config "$T/agent.conf" "$M" "$T/state" journal 'events = { records = "all"; };'
sed -i '/^events = { records = "own"; };$/d' "$T/agent.conf"
${DT_WRAP:-} "$DT_BIN" scan -c "$T/agent.conf" >"$T/scan.out" 2>"$T/scan.err" &
scan_pid=$!
wait $scan_pid
is "scan exits 0" "$?" "0"

# forwarded PID FILE - the journal's view of process PID's events into FILE, once rsyslog's
# output holds every one of their ids (or 10 s passed); sets n (distinct ids in the journal) and
# got (how many of them rsyslog wrote)
forwarded() {
        i=0
        while [ $i -lt 50 ]; do
                journalctl _PID="$1" -t dmarctrace -o json --no-pager >"$2" 2>/dev/null
                n=$(jq -r '.DMARCTRACE_EVENT_ID' "$2" | sort -u | wc -l)
                got=$(jq -r --slurpfile j "$2" \
                        'select(.event.id as $id | $j | map(.DMARCTRACE_EVENT_ID) | index($id)) | .event.id' \
                        "$T/rs/events.json" 2>/dev/null | sort -u | wc -l)
                [ "$n" -gt 0 ] && [ "$got" -eq "$n" ] && break
                sleep 0.2; i=$((i + 1))
        done
}

# the journal's view of the scan's events, then the same ids in rsyslog's output
forwarded "$scan_pid" "$T/journal.json"
kinds=$(jq -r .DMARCTRACE_EVENT "$T/journal.json" | sort -u | tr '\n' ' ')
is "the scan wrote these events to the journal" "$kinds" \
        "agent-state aggregate-record aggregate-report failure-report input-rejected "
is "rsyslog forwarded every one of them" "$got" "$n"
is "each once" "$(jq -r --slurpfile j "$T/journal.json" \
        'select(.event.id as $id | $j | map(.DMARCTRACE_EVENT_ID) | index($id)) | .event.id' \
        "$T/rs/events.json" | sort | uniq -d | wc -l)" "0"

# mismatches FILE - every value the journal (FILE) has that does not arrive under the table's
# name, one line each
mismatches() {
        jq -rn --slurpfile rs "$T/rs/events.json" --slurpfile jr "$1" --rawfile tsv "$P/fields.tsv" '
        [ $tsv | split("\n")[] | select(test("^[A-Z_]")) | split("\t") | {src: .[0], tgt: .[1], typ: .[2]} ] as $rows
        | $jr[] as $j
        | ($rs | map(select(.event.id == $j.DMARCTRACE_EVENT_ID)) | first) as $r
        | $rows[] as $row
        | select(($j[$row.src] | type) == "string" and $j[$row.src] != "")
        | (if $row.typ == "long" then ($j[$row.src] | tonumber) else $j[$row.src] end) as $want
        | ($r | getpath($row.tgt | split("."))) as $got
        | select($got != $want)
        | "\($j.DMARCTRACE_EVENT) \($row.src) -> \($row.tgt): got \($got | tojson), want \($want | tojson)"'
}
is "every field arrives under its mapped name with its value" "$(mismatches "$T/journal.json")" ""
n_checked=$(jq -rn --slurpfile jr "$T/journal.json" --rawfile tsv "$P/fields.tsv" '
        [ $tsv | split("\n")[] | select(test("^DMARCTRACE_")) | split("\t")[0] ] as $f
        | [ $jr[] | to_entries[] | select(.key as $k | $f | index($k)) ] | length')
ok "($n_checked field values compared)"

# some values by name, as a SIEM rule would use them (other tests may log to the same journal
# at the same time: where it matters, only this scan's events count)
is "failure-report: source.ip" \
        "$(jq -r 'select(.event.action == "failure-report" and .source.ip != null) | .source.ip' "$T/rs/events.json" | sort -u | head -1 | grep -c .)" "1"
is "aggregate-report: counts are numbers" \
        "$(jq -r 'select(.event.action == "aggregate-report") | .dmarctrace.message_count | type' "$T/rs/events.json" | sort -u)" "number"
is "input-rejected: error.code" \
        "$(jq -r --slurpfile j "$T/journal.json" 'select(.event.action == "input-rejected" and (.event.id as $id | $j | map(.DMARCTRACE_EVENT_ID) | index($id))) | .error.code' "$T/rs/events.json" | sort -u)" "NOT_A_REPORT"
is "event.code is the MESSAGE_ID" \
        "$(jq -r 'select(.event.action == "aggregate-report") | .event.code' "$T/rs/events.json" | sort -u)" \
        "0746fc1d916b4b818c77f4be192e2f3e"

# the MESSAGE line alone carries the key facts (Wazuh keeps only it)
bad=$(jq -r 'select(.DMARCTRACE_EVENT as $e | ["aggregate-report", "aggregate-record", "failure-report"] | index($e))
        | . as $x | $x.MESSAGE as $m
        | select(($m | startswith($x.DMARCTRACE_EVENT + ": ") | not)
                 or ($m | contains($x.DMARCTRACE_POLICY_DOMAIN // $x.DMARCTRACE_REPORTED_DOMAIN // "") | not)
                 or ($m | contains($x.DMARCTRACE_SOURCE_IP // "") | not)
                 or ($m | contains($x.DMARCTRACE_MESSAGE_COUNT // "") | not))
        | $m' "$T/journal.json")
is "MESSAGE names the event, domain, source and count" "$bad" ""
is "message field is the MESSAGE line" \
        "$(jq -r 'select(.event.action == "aggregate-report") | .message' "$T/rs/events.json" | sort | head -1)" \
        "$(jq -r 'select(.DMARCTRACE_EVENT == "aggregate-report") | .MESSAGE' "$T/journal.json" | sort | head -1)"

# the demo incident (tests/gen-incident, as tests/test-demo.sh scans it) into the journal: its
# attributions and volume spikes, compared value by value with what journalctl shows for the
# same event (the generator's counts may change; uid 33 and an uploaded x.php are the story)
GEN=${DT_GENINC:-$(dirname "$DT_BIN")/tests/gen-incident}
I="$T/incident"
"$GEN" -s 42 "$I" >"$T/gen.out"
is "gen-incident exits 0" "$?" "0"
sed -i 's/^output = "json";$/output = "journal";/' "$I/dmarctrace.conf"
${DT_WRAP:-} "$DT_BIN" scan -c "$I/dmarctrace.conf" >"$T/inc.out" 2>"$T/inc.err" &
inc_pid=$!
wait $inc_pid
is "demo incident scan exits 0" "$?" "0"
forwarded "$inc_pid" "$T/incident.json"
is "rsyslog forwarded every event of the incident" "$got" "$n"
is "every field of the incident's events arrives under its mapped name" "$(mismatches "$T/incident.json")" ""

# pair_rows FILTER JOURNAL FORWARDED - for each of the incident's journal events that the jq
# FILTER selects, "J => F": J the jq expression JOURNAL of the journal entry, F the expression
# FORWARDED of rsyslog's document with the same event.id
pair_rows() {
        jq -rn --slurpfile rs "$T/rs/events.json" --slurpfile jr "$T/incident.json" "
                \$jr[] | select($1) as \$j
                | (\$rs | map(select(.event.id == \$j.DMARCTRACE_EVENT_ID)) | first) as \$r
                | \"\(\$j | $2) => \(\$r | $3)\""
}
n_ruf=$(grep -c '^ruf ' "$I/expected.txt")
traced='.DMARCTRACE_EVENT == "attribution" and (.DMARCTRACE_EMAIL_MESSAGE_ID // "") != ""'
rows=$(pair_rows "$traced" '[.DMARCTRACE_SCRIPT_PATH, .DMARCTRACE_USER_ID, .DMARCTRACE_EMAIL_LOCAL_ID] | join("|")' \
        '[.file.path, .user.id, .email.local_id] | map(tostring) | join("|")')
is "an attribution per failure report in the journal" "$(echo "$rows" | grep -c ' => ')" "$n_ruf"
is "attribution: file.path, user.id and email.local_id arrive as journalctl shows them" \
        "$(echo "$rows" | awk -F' => ' '$1 != $2')" ""
is "attribution: uid 33 and the uploaded x.php, every one" \
        "$(echo "$rows" | awk -F' => ' '$2 ~ /^[^|]*\/x\.php\|33\|[0-9A-Za-z]+$/' | wc -l)" "$n_ruf"
spike='.DMARCTRACE_EVENT == "volume-spike" and .DMARCTRACE_KEY_TYPE == "domain"'
rows=$(pair_rows "$spike" '[.DMARCTRACE_KEY, .DMARCTRACE_DAY, .DMARCTRACE_OBSERVED, .DMARCTRACE_BASELINE,
                .DMARCTRACE_OWN_HOST_COUNT, .DMARCTRACE_LOCAL_SENT] | join("|")' \
        '[.dmarctrace.key, .dmarctrace.day, .dmarctrace.observed, .dmarctrace.baseline,
          .dmarctrace.own_host_count, .dmarctrace.local_sent] | map(tostring) | join("|")')
is "a domain-level volume-spike for shop.example on each of the two spike days" \
        "$(echo "$rows" | grep -c '^shop\.example|')" "2"
is "volume-spike: observed, baseline, own-host and local-sent counts arrive as journalctl shows them" \
        "$(echo "$rows" | awk -F' => ' '$1 != $2')" ""
is "volume-spike: the counts are numbers, observed far above the baseline" \
        "$(jq -r --slurpfile j "$T/incident.json" 'select(.event.action == "volume-spike" and .dmarctrace.key_type == "domain"
                and (.event.id as $id | $j | map(.DMARCTRACE_EVENT_ID) | index($id)))
                | [(.dmarctrace.observed | type), (.dmarctrace.local_sent | type),
                   (.dmarctrace.observed > 10 * (.dmarctrace.baseline | tonumber))] | map(tostring) | join(" ")' \
                "$T/rs/events.json" | sort | uniq -c | tr -s ' ')" " 2 number number true"
# Wazuh keeps only MESSAGE: the same facts are in it, and it arrives as the message field
is "attribution and volume-spike: MESSAGE carries script, uid, queue id / day, counts" \
        "$(jq -r "select(($traced) or ($spike))"' | . as $x | $x.MESSAGE as $m
                | select([$x.DMARCTRACE_SCRIPT_PATH, "uid " + ($x.DMARCTRACE_USER_ID // ""), $x.DMARCTRACE_EMAIL_LOCAL_ID,
                          $x.DMARCTRACE_KEY, $x.DMARCTRACE_DAY, $x.DMARCTRACE_OBSERVED, $x.DMARCTRACE_BASELINE,
                          $x.DMARCTRACE_LOCAL_SENT] | map(select(. != null and . != "uid ")) | all(. as $f | $m | contains($f)) | not)
                | $m' "$T/incident.json")" ""
rows=$(pair_rows "($traced) or ($spike)" .MESSAGE .message)
is "attribution and volume-spike: message is the MESSAGE line" "$(echo "$rows" | awk -F' => ' '$1 != $2')" ""

# omfwd sent the same documents
kill "$rs_pid" 2>/dev/null; wait "$rs_pid" 2>/dev/null; rs_pid=
is "omfwd sent the same JSON lines as the file" "$(cat "$T/rs/received.json" 2>/dev/null)" "$(cat "$T/rs/events.json")"

tap_done
