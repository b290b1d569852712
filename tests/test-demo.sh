#!/bin/sh
# test-demo.sh - the README demo's incident, end to end: gen-incident's three quiet weeks and one
# bad day, scanned by the agent's pipeline. Every failure report is traced to the uploaded script
# (uid, script, line, queue id), the busy legitimate mailer is never named, the aggregate reports
# add up to what the generator sent each day, and - once this build detects volume spikes -
# there is exactly one domain-level spike, on the spike day, at its full volume. `make demo`
# (tests/demo.sh) runs too.
set -u
. "$DT_SRCDIR/tests/lib.sh"
GEN=${DT_GENINC:-$(dirname "$DT_BIN")/tests/gen-incident}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
# the default spike day (three days ago) keeps the logs inside logs.retention_days; the seed
# fixes everything else, and every number below comes from the generator's expected.txt
I="$T/incident"
"$GEN" -s 42 "$I" >"$T/gen.out"; rc=$?
is "gen-incident exits 0" "$rc" "0"
x() { sed -n "s/^$1=//p" "$I/expected.txt"; }
spike_day=$(x spike_day)
spike_volume=$(x spike_volume)
script=$(x attack_script)
app=$(x app_script)

dt scan -c "$I/dmarctrace.conf" >"$T/ev" 2>"$T/err"; rc=$?
is "scan exits 0" "$rc" "0"
recs=$(head -1 "$T/err" | sed -n 's/^dmarctrace: indexed \([0-9]*\) log records from .*/\1/p')
if [ -n "$recs" ] && [ "$recs" -ge $(($(x messages) * 5)) ]; then
        ok "logs indexed: five Postfix lines and a PHP line per message"
else
        fail "logs indexed: five Postfix lines and a PHP line per message" "$(head -1 "$T/err")"
fi
is "aggregate reports: 22 days x 3 receivers" "$(events "$T/ev" aggregate-report | wc -l)" "66"
is "failure reports" "$(events "$T/ev" failure-report | wc -l)" "$(x failure_reports)"
is "nothing rejected" "$(events "$T/ev" input-rejected | wc -l)" "0"

# every failure report: traced to the uploaded script, exactly, with the log's queue id
uname33=$(getent passwd 33 | cut -d: -f1)
n=0
while read -r _ file mid qid _; do
        n=$((n + 1))
        got=$(events "$T/ev" attribution | jq -r --arg m "$mid" 'select(.DMARCTRACE_EMAIL_MESSAGE_ID == $m) |
                [.DMARCTRACE_CONFIDENCE, .DMARCTRACE_MTA, .DMARCTRACE_EMAIL_LOCAL_ID, .DMARCTRACE_USER_ID // "",
                 .DMARCTRACE_USER_NAME // "", .DMARCTRACE_SCRIPT_PATH // "", .DMARCTRACE_SCRIPT_LINE // "",
                 .DMARCTRACE_POLICY_DOMAIN // ""] | join("|")')
        is "$file: uid 33, $script line 3, queue id $qid" "$got" \
                "exact|postfix|$qid|33|$uname33|$script|3|shop.example"
done <<EOF
$(grep '^ruf ' "$I/expected.txt")
EOF
is "one attribution per failure report" \
        "$(events "$T/ev" attribution | jq -r 'select(.DMARCTRACE_EMAIL_MESSAGE_ID) | .DMARCTRACE_EMAIL_MESSAGE_ID' | sort -u | wc -l)" "$n"
is "the legitimate mailer is never named" \
        "$(events "$T/ev" attribution | jq -r --arg a "$app" 'select(.DMARCTRACE_SCRIPT_PATH == $a) | 1' | wc -l)" "0"

# the reports add up to what the logs say left web1, day by day
is "OWN_HOST_COUNT of the spike day's reports = the spike volume" \
        "$(events "$T/ev" aggregate-report | jq -s --arg d "$spike_day" \
                '[.[] | select(.DMARCTRACE_PERIOD_BEGIN[0:10] == $d) | .DMARCTRACE_OWN_HOST_COUNT | tonumber] | add')" \
        "$spike_volume"
is "OWN_HOST_COUNT per day = the generator's count, every day" \
        "$(events "$T/ev" aggregate-report | jq -rs 'group_by(.DMARCTRACE_PERIOD_BEGIN[0:10])[] |
                "\(.[0].DMARCTRACE_PERIOD_BEGIN[0:10]) \(map(.DMARCTRACE_OWN_HOST_COUNT | tonumber) | add)"' | tr '\n' ' ')" \
        "$(awk '$1 == "day" { printf "%s %s ", $2, $3 }' "$I/expected.txt")"

# detection: asserted once this build emits volume-spike events at all
spikes=$(events "$T/ev" volume-spike | jq -c 'select(.DMARCTRACE_KEY_TYPE == "domain" and .DMARCTRACE_POLICY_DOMAIN == "shop.example")')
if [ -z "$(events "$T/ev" volume-spike)" ]; then
        why="this build emits no volume-spike events"
        skip "exactly one domain-level spike for shop.example, on $spike_day" "$why"
        skip "the spike's OBSERVED is the whole day (about 19,100)" "$why"
        skip "the spike's LOCAL_SENT is the log's count" "$why"
        skip "a window attribution names the uploaded script" "$why"
else
        is "exactly one domain-level spike for shop.example, on $spike_day" \
                "$(echo "$spikes" | jq -r '.DMARCTRACE_DAY[0:10]' | tr '\n' ' ')" "$spike_day "
        obs=$(echo "$spikes" | jq -r '.DMARCTRACE_OBSERVED' | head -1)
        if [ -n "$obs" ] && [ "$obs" -ge "$spike_volume" ] && [ "$obs" -le $((spike_volume + 20)) ]; then
                ok "the spike's OBSERVED is the whole day (about 19,100)"
        else
                fail "the spike's OBSERVED is the whole day (about 19,100)" "got: '$obs'" \
                        "want: $spike_volume plus a few spoofed messages"
        fi
        ls=$(echo "$spikes" | jq -r '.DMARCTRACE_LOCAL_SENT // empty' | head -1)
        if [ -n "$ls" ]; then
                is "the spike's LOCAL_SENT is the log's count" "$ls" "$spike_volume"
        else
                skip "the spike's LOCAL_SENT is the log's count" "no LOCAL_SENT field"
        fi
        is "a window attribution names the uploaded script" \
                "$(events "$T/ev" attribution | jq -r 'select((.DMARCTRACE_EMAIL_MESSAGE_ID // "") == "") |
                        "\(.DMARCTRACE_USER_ID)|\(.DMARCTRACE_SCRIPT_PATH)"' | grep -c "^33|$script\$")" "1"
fi

# trace: the chain for one report, step by step
dt trace -c "$I/dmarctrace.conf" "$I/failure-reports/ruf-01.eml" >"$T/trace" 2>&1; rc=$?
is "trace exits 0" "$rc" "0"
is "trace shows the PHP call" \
        "$(grep -c "PHP's mail.log has the mail() call: $script line 3" "$T/trace")" "1"
is "trace shows pickup's uid" "$(grep -c "pickup logged it from uid 33" "$T/trace")" "1"

# make demo: the same story, shown
(cd "$T" && DT_GENINC="$GEN" sh "$DT_SRCDIR/tests/demo.sh" demo >"$T/demo.out" 2>&1); rc=$?
is "demo.sh exits 0" "$rc" "0"
if grep -q "^ *from the 12 failure reports" "$T/demo.out" &&
   grep -q "script $script:3 via postfix .* \[exact\]" "$T/demo.out"; then
        ok "demo.sh shows the exact attributions"
else
        fail "demo.sh shows the exact attributions" "$(cat "$T/demo.out")"
fi
tap_done
