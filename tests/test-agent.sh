#!/bin/sh
# test-agent.sh - `dmarctrace agent`: picks up a message delivered while it runs, survives a
# SIGHUP with a broken configuration (keeps the old one), reloads a good one (reaping the old
# parse worker), stops on SIGTERM with exit 0, and never processes anything in tmp/.
set -u
. "$DT_SRCDIR/tests/lib.sh"
C="$DT_CORPUS"
T=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill -9 $pid 2>/dev/null; rm -rf "$T"' EXIT
M="$T/Maildir"
make_maildir "$M"
deliver "$M" "$C/aggregate/cry-inc_google.xml" "0.backlog"
write_config "$T/agent.conf" "$M" "$T/state" json

${DT_WRAP:-} "$DT_BIN" agent -c "$T/agent.conf" >"$T/ev" 2>"$T/err" &
pid=$!
if wait_for "$T/ev" '.DMARCTRACE_STATE=="ready"' 10; then ok "agent says ready"; else fail "agent says ready" "$(cat "$T/err")"; fi
if wait_for "$T/ev" '.DMARCTRACE_EVENT=="aggregate-report"' 10; then ok "backlog processed at start"; else fail "backlog processed at start"; fi

# a delivery while it runs is processed within about a second
deliver "$M" "$C/aggregate/cry-inc_outlook.xml" "1.live"
if wait_for "$T/ev" '.DMARCTRACE_EVENT=="aggregate-report" and .DMARCTRACE_REPORT_ORG=="Outlook.com"' 3; then
        ok "live delivery processed"
else
        fail "live delivery processed" "$(tail -3 "$T/ev")"
fi
# the rename follows the batch's commit, a moment after the events
i=0; while [ ! -e "$M/cur/1.live:2,S" ] && [ $i -lt $((30 * slow)) ]; do sleep 0.1; i=$((i + 1)); done
is "live delivery moved to cur/" "$(ls "$M/cur" | grep -c '^1.live:2,S$')" "1"

# a file sitting in tmp/ is never touched
cp "$C/aggregate/cry-inc_aol.xml" "$M/tmp/2.writing"
sleep $((2 * slow))
is "tmp/ is left alone" "$(ls "$M/tmp")" "2.writing"

# SIGHUP with a broken configuration: the old one stays, the agent keeps working
cp "$T/agent.conf" "$T/good.conf"
printf 'maildir = { path = "%s"; };\noutput = "sideways";\n' "$M" >"$T/agent.conf"
kill -HUP $pid
if wait_for "$T/ev" '.DMARCTRACE_STATE=="reload-failed"' 5; then ok "broken reload reported"; else fail "broken reload reported" "$(cat "$T/err")"; fi
is "reload failure names file and line" "$(jq -r 'select(.DMARCTRACE_STATE=="reload-failed") | .DMARCTRACE_ERROR_MESSAGE' "$T/ev" | head -1)" \
        "$T/agent.conf:2: output: must be one of \"auto\", \"journal\", \"json\""
is "agent still running" "$(kill -0 $pid 2>/dev/null && echo yes)" "yes"
deliver "$M" "$C/aggregate/cry-inc_webde.xml" "3.after-hup"
if wait_for "$T/ev" '.DMARCTRACE_EVENT=="aggregate-report" and .DMARCTRACE_REPORT_ORG=="WEB.DE"' 3; then
        ok "still processing after a failed reload"
else
        fail "still processing after a failed reload"
fi

# one worker process parsed every message so far; a reload stops and reaps it
w1=$(cat /proc/$pid/task/*/children 2>/dev/null)
is "one worker kept from message to message" "$(echo $w1 | wc -w)" "1"

# a good configuration reloads
cp "$T/good.conf" "$T/agent.conf"
kill -HUP $pid
if wait_for "$T/ev" '.DMARCTRACE_STATE=="reloaded"' 5; then ok "good reload applied"; else fail "good reload applied" "$(cat "$T/err")"; fi
is "reload reaps the old worker (no zombie)" "$([ -n "$w1" ] && [ ! -e /proc/$w1 ] && echo gone)" "gone"

# SIGTERM: clean stop, exit 0
kill -TERM $pid
wait $pid; rc=$?
pid=
is "SIGTERM exits 0" "$rc" "0"
is "stopping event" "$(jq -r 'select(.DMARCTRACE_STATE=="stopping") | .DMARCTRACE_STATE' "$T/ev")" "stopping"
tap_done
