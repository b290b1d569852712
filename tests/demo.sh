#!/bin/sh
# demo.sh - `make demo`: a whole incident generated into DIR (default ./demo), scanned, explained
#
# gen-incident writes three weeks of a shop's DMARC reports and mail logs, then the day a script
# uploaded into WordPress's uploads folder sent 19,000 mails; `dmarctrace scan` reads it all as
# the agent would, and this script shows what an admin gets out of it. Needs jq.
# Environment: DT_BIN (default ./dmarctrace), DT_GENINC (default tests/gen-incident).
set -u
dir=${1:-demo}
bin=${DT_BIN:-./dmarctrace}
gen=${DT_GENINC:-tests/gen-incident}

if ! command -v jq >/dev/null 2>&1; then
        echo "demo.sh: jq is needed to show the events (apt-get install jq)" >&2
        exit 1
fi
for f in "$bin" "$gen"; do
        if [ ! -x "$f" ]; then
                echo "demo.sh: $f is missing; run make first" >&2
                exit 1
        fi
done

# heading TEXT - a section title
heading() {
        printf '\n== %s\n' "$1"
}

rm -rf "$dir"
heading "The incident (generated): three quiet weeks, then one bad day"
"$gen" "$dir" | sed 's/^gen-incident: /  /' || exit 1
conf="$dir/dmarctrace.conf"
ev="$dir/events.jsonl"
spike_day=$(sed -n 's/^spike_day=//p' "$dir/expected.txt")

heading "dmarctrace scan -c $conf  (mail logs indexed, then every report in the Maildir)"
start=$(date +%s)
"$bin" scan -c "$conf" >"$ev" 2>"$dir/scan.log"
rc=$?
sed 's/^dmarctrace: /  /' "$dir/scan.log"
if [ "$rc" -ne 0 ]; then
        echo "demo.sh: dmarctrace scan failed (exit $rc)" >&2
        exit 1
fi
echo "  $(wc -l <"$ev") events in $(($(date +%s) - start)) s, as JSON lines in $ev:"
jq -r .DMARCTRACE_EVENT "$ev" | sort | uniq -c | sed 's/^ */    /'

heading "What the receivers reported, per day (aggregate reports, all receivers; last 8 days)"
jq -rs '[.[] | select(.DMARCTRACE_EVENT == "aggregate-report")]
        | group_by(.DMARCTRACE_PERIOD_BEGIN[0:10]) | .[-8:][]
        | [.[0].DMARCTRACE_PERIOD_BEGIN[0:10], (map(.DMARCTRACE_MESSAGE_COUNT | tonumber) | add),
           (map(.DMARCTRACE_OWN_HOST_COUNT | tonumber) | add), length]
        | "  \(.[0])  \(.[1] | tostring | (" " * (6 - length)) + .) messages, \(.[2]) from this host (\(.[3]) reports)"' "$ev"

heading "Volume spikes (the day the reports show it)"
if jq -e -s 'any(.[]; .DMARCTRACE_EVENT == "volume-spike")' "$ev" >/dev/null; then
        jq -r 'select(.DMARCTRACE_EVENT == "volume-spike" or .DMARCTRACE_EVENT == "volume-normal")
               | "  " + .MESSAGE' "$ev"
else
        echo "  (this build emits no volume-spike events yet: $spike_day stands out in the table above)"
fi

heading "Attributions: who on this host sent it"
jq -r 'select(.DMARCTRACE_EVENT == "attribution" and (.DMARCTRACE_EMAIL_MESSAGE_ID // "") == "")
       | "  " + .MESSAGE' "$ev"
n=$(jq -r 'select(.DMARCTRACE_EVENT == "attribution" and (.DMARCTRACE_EMAIL_MESSAGE_ID // "") != "")
           | .MESSAGE' "$ev" | tee "$dir/attributions.txt" | wc -l)
echo "  from the $n failure reports, each traced through the Postfix and PHP logs:"
head -4 "$dir/attributions.txt" | sed 's/^/    /'
[ "$n" -gt 4 ] && echo "    ... and $((n - 4)) more like these (all in $dir/attributions.txt)"

if "$bin" --help 2>&1 | grep -q '^ *summary '; then
        heading "dmarctrace summary -c $conf --domain shop.example"
        "$bin" summary -c "$conf" --domain shop.example
fi

heading "dmarctrace trace -c $conf $dir/failure-reports/ruf-01.eml"
"$bin" trace -c "$conf" "$dir/failure-reports/ruf-01.eml" | sed '1d; s/^/  /'

heading "Next"
echo "  jq 'select(.DMARCTRACE_EVENT==\"attribution\")' $ev     # the events, as journald would get them"
echo "  $bin trace -c $conf $dir/failure-reports/ruf-02.eml     # any other failure report"
