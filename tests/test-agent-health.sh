#!/bin/sh
# test-agent-health.sh - the agent-health event and the per-run sequence, end to end: the agent
# in JSON mode with events.health_interval = 1 gets reports and a message it must reject; every
# agent-health event is checked by value against the events the agent actually wrote before it
# (counts per type, in all, processed, rejected, backlog), SEQ runs 1..N with no gap under one
# RUN_ID, SIGTERM brings a last agent-health (AT_STOP=true), and a restart is a new run. Then
# once in journal mode (journalctl -o json) that SEQ and RUN_ID arrive in the journal.
set -u
. "$DT_SRCDIR/tests/lib.sh"
T=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; stop_journald; rm -rf "$T"' EXIT
C="$DT_CORPUS"
M="$T/Maildir"; make_maildir "$M"
write_config "$T/c.conf" "$M" "$T/state" json
sed -i 's/^events = { records = "own"; };$/events = { records = "own"; health_interval = 1; };/' "$T/c.conf"

start_agent "$T/c.conf" "$T/ev" "$T/err" || fail "agent ready" "$(cat "$T/err")"
for f in cry-inc_google.xml cry-inc_yahoo.xml cry-inc_outlook.xml parsedmarc_nice-input.xml; do
        deliver "$M" "$C/aggregate/$f" "$f"
done
deliver "$M" "$C/failure/mail-auth_arf-003.eml" "arf.eml"
printf 'Subject: hello\n\nnot a report\n' >"$T/junk"; deliver "$M" "$T/junk" "junk"
wait_gone "$M/new" 10
# a periodic event that has seen all six messages, then one more after it (an idle interval)
wait_for "$T/ev" '.DMARCTRACE_EVENT=="agent-health" and .DMARCTRACE_PROCESSED_COUNT=="5" and .DMARCTRACE_REJECTED_COUNT=="1"' 10 ||
        fail "a periodic agent-health sees the messages" "$(tail -3 "$T/ev")"
n0=$(events "$T/ev" agent-health | wc -l)
i=0; while [ "$(events "$T/ev" agent-health | wc -l)" -le "$n0" ] && [ $i -lt $((30 * slow)) ]; do sleep 0.1; i=$((i + 1)); done
stop_agent
is "agent exits 0 on SIGTERM" "$agent_rc" "0"

health=$(events "$T/ev" agent-health)
is "periodic agent-health events while running (interval 1 s)" \
        "$([ "$(echo "$health" | jq -r 'select(.DMARCTRACE_AT_STOP=="false") | 1' | wc -l)" -ge 2 ] && echo yes)" "yes"
is "one agent-health at stop, the last event but for agent-state stopping" \
        "$(jq -r '.DMARCTRACE_EVENT + ":" + (.DMARCTRACE_STATE // .DMARCTRACE_AT_STOP)' "$T/ev" | tail -2 | tr '\n' ' ')|$(echo "$health" | jq -r 'select(.DMARCTRACE_AT_STOP=="true") | 1' | wc -l)" \
        "agent-health:true agent-state:stopping |1"
is "the stop event's totals: 5 processed, 1 rejected, nothing waiting" \
        "$(echo "$health" | jq -r 'select(.DMARCTRACE_AT_STOP=="true") | [.DMARCTRACE_PROCESSED_COUNT, .DMARCTRACE_REJECTED_COUNT, .DMARCTRACE_BACKLOG_COUNT, .DMARCTRACE_BACKLOG_ETA_SECONDS, .DMARCTRACE_EMIT_FAILURE_COUNT, .DMARCTRACE_DEFERRED_COUNT] | join("|")')" \
        "5|1|0|0|0|0"
is "the intervals add up to the totals" \
        "$(echo "$health" | jq -s -r '[(map(.DMARCTRACE_INTERVAL_PROCESSED_COUNT | tonumber) | add), (map(.DMARCTRACE_INTERVAL_REJECTED_COUNT | tonumber) | add)] | join("|")')" \
        "5|1"
is "a periodic interval is at least events.health_interval long" \
        "$(echo "$health" | jq -r 'select(.DMARCTRACE_AT_STOP=="false" and (.DMARCTRACE_INTERVAL_SECONDS | tonumber) < 1) | .DMARCTRACE_INTERVAL_SECONDS')" ""
# THROUGHPUT is (processed + rejected) / INTERVAL_SECONDS of the same event, to rounding
is "throughput matches the interval's counts" \
        "$(echo "$health" | jq -r '((.DMARCTRACE_INTERVAL_PROCESSED_COUNT | tonumber) + (.DMARCTRACE_INTERVAL_REJECTED_COUNT | tonumber)) as $d
                | (.DMARCTRACE_INTERVAL_SECONDS | tonumber) as $s | (.DMARCTRACE_THROUGHPUT | tonumber) as $r
                | select(($r - $d / $s) | fabs > 0.002 + 0.01 * $r) | "\($d)/\($s) != \($r)"')" ""

# every agent-health counts exactly the events written before it, per type and in all
mismatch=$(jq -s -r '. as $all | to_entries[] | select(.value.DMARCTRACE_EVENT == "agent-health") | .key as $i
        | ($all[0:$i] | group_by(.DMARCTRACE_EVENT) | map({key: .[0].DMARCTRACE_EVENT, value: length}) | from_entries) as $seen
        | (.value.DMARCTRACE_EVENT_COUNT_BY_TYPE | split(",") | map(split("=") | {key: .[0], value: (.[1] | tonumber)}) | from_entries) as $said
        | select(($said | with_entries(select(.value > 0))) != $seen or (.value.DMARCTRACE_EVENT_COUNT | tonumber) != $i)
        | "event \($i + 1): said \($said | tojson) \(.value.DMARCTRACE_EVENT_COUNT), seen \($seen | tojson)"' "$T/ev")
is "per-type and total counts equal the events seen before each agent-health" "$mismatch" ""
is "the per-type list names every event type" \
        "$(echo "$health" | jq -r '.DMARCTRACE_EVENT_COUNT_BY_TYPE | split(",") | map(split("=")[0]) | join(" ")' | sort -u)" \
        "aggregate-report aggregate-record failure-report attribution volume-spike volume-normal failure-surge input-rejected agent-state failure-rollup agent-health"
is "the messages' own events were written" \
        "$(events "$T/ev" aggregate-report | wc -l) $(events "$T/ev" failure-report | wc -l) $(events "$T/ev" input-rejected | wc -l)" "4 1 1"

# SEQ: 1..N in the order written, no gap, one RUN_ID for the run
n=$(wc -l <"$T/ev")
is "SEQ is 1..N with no gap across all $n events" "$(jq -r .DMARCTRACE_SEQ "$T/ev" | tr '\n' ' ')" "$(seq 1 "$n" | tr '\n' ' ')"
run=$(jq -r .DMARCTRACE_RUN_ID "$T/ev" | sort -u)
is "one RUN_ID, 32 hex digits, on every event" "$(echo "$run" | grep -cx '[0-9a-f]\{32\}')|$(echo "$run" | wc -l)" "1|1"

# a restart is a new run: SEQ from 1 again under another RUN_ID
start_agent "$T/c.conf" "$T/ev2" "$T/err2" || fail "agent ready again" "$(cat "$T/err2")"
stop_agent
is "restart: SEQ starts at 1 again" "$(jq -r .DMARCTRACE_SEQ "$T/ev2" | tr '\n' ' ')" "$(seq 1 "$(wc -l <"$T/ev2")" | tr '\n' ' ')"
is "restart: another RUN_ID" "$(jq -r .DMARCTRACE_RUN_ID "$T/ev2" | sort -u | grep -cvx "$run")" "1"

# journal mode: SEQ and RUN_ID arrive in the journal with the agent-health event
if ! command -v journalctl >/dev/null 2>&1; then
        skip "journal: SEQ and RUN_ID arrive" "journalctl is not installed"
elif ! why=$(ensure_journald); then
        skip "journal: SEQ and RUN_ID arrive" "$why"
else
        J="$T/J"; make_maildir "$J"
        write_config "$T/j.conf" "$J" "$T/jstate" journal
        ${DT_WRAP:-} "$DT_BIN" agent -c "$T/j.conf" >"$T/jout" 2>"$T/jerr" &
        pid=$!
        deliver "$J" "$C/aggregate/cry-inc_google.xml" "1.xml"
        wait_gone "$J/new" 10
        stop_agent
        # this run's events: find its RUN_ID by the Maildir its agent-state events name
        # (other scripts log to the same journal at the same time)
        i=0; jrun=
        while [ -z "$jrun" ] && [ $i -lt $((50 * slow)) ]; do
                jrun=$(journalctl -o json --no-pager DMARCTRACE_EVENT=agent-state "DMARCTRACE_INPUT_PATH=$J" 2>/dev/null |
                        jq -r .DMARCTRACE_RUN_ID | sort -u)
                [ -n "$jrun" ] || { sleep 0.1; i=$((i + 1)); }
        done
        i=0
        while [ $i -lt $((50 * slow)) ]; do
                journalctl -o json --no-pager "DMARCTRACE_RUN_ID=$jrun" >"$T/j.json" 2>/dev/null
                [ "$(jq -r 'select(.DMARCTRACE_EVENT=="agent-state" and .DMARCTRACE_STATE=="stopping") | 1' "$T/j.json")" = 1 ] && break
                sleep 0.1; i=$((i + 1))
        done
        jn=$(wc -l <"$T/j.json")
        is "journal: agent $agent_rc, one run, every event in it" "$agent_rc|$(echo "$jrun" | grep -cx '[0-9a-f]\{32\}')|$(jq -r .DMARCTRACE_EVENT "$T/j.json" | sort -u | tr '\n' ' ')" \
                "0|1|agent-health agent-state aggregate-report "
        is "journal: SEQ is 1..N in the journal's order" "$(jq -r .DMARCTRACE_SEQ "$T/j.json" | tr '\n' ' ')" "$(seq 1 "$jn" | tr '\n' ' ')"
        is "journal: the stop agent-health counts what came before it" \
                "$(jq -r 'select(.DMARCTRACE_EVENT=="agent-health") | [.DMARCTRACE_AT_STOP, .DMARCTRACE_PROCESSED_COUNT, .DMARCTRACE_EVENT_COUNT, .DMARCTRACE_SEQ] | join("|")' "$T/j.json")" \
                "true|1|$((jn - 2))|$((jn - 1))"
fi
tap_done
