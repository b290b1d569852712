#!/bin/sh
# demo.sh - `make demo`: a whole incident generated into DIR (default ./demo), scanned, explained
#
# gen-incident writes five weeks of a shop's DMARC reports (zip, gzip and XML, from four
# receivers) and mail logs: a spoofing run from foreign addresses, then the two days a script
# uploaded into WordPress's uploads folder sent 19,000 and 12,400 mails; `dmarctrace scan` reads
# it all as the agent would, and this script shows what an admin gets out of it. Needs jq.
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
heading "The incident (generated): five weeks, a spoofing run, then two bad days"
"$gen" "$dir" | sed 's/^gen-incident: /  /' || exit 1
conf="$dir/dmarctrace.conf"
ev="$dir/events.jsonl"

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

heading "dmarctrace summary -c $conf --domain shop.example  (trimmed to the last 16 days)"
"$bin" summary -c "$conf" --domain shop.example >"$dir/summary.txt"
sed -n '1,2p' "$dir/summary.txt"
sed -n '3,$p' "$dir/summary.txt" | grep -E '^[0-9]{4}-' | tail -16
echo; sed -n '/^top sources/,/^$/p' "$dir/summary.txt" | sed '/^$/d'

dom='select(.DMARCTRACE_KEY_TYPE == "domain")'
heading "Volume spikes and the return to normal, per domain (the day the reports show it)"
jq -r "select(.DMARCTRACE_EVENT == \"volume-spike\" or .DMARCTRACE_EVENT == \"volume-normal\") | $dom
       | \"  \" + .MESSAGE" "$ev"
n=$(jq -r "select(.DMARCTRACE_EVENT == \"volume-spike\" or .DMARCTRACE_EVENT == \"volume-normal\")
           | select(.DMARCTRACE_KEY_TYPE != \"domain\") | 1" "$ev" | wc -l)
echo "  (and $n more for the reporting receivers and this host's address, in $ev)"

heading "Attributions: who on this host sent it"
jq -r 'select(.DMARCTRACE_EVENT == "attribution" and (.DMARCTRACE_EMAIL_MESSAGE_ID // "") == "")
       | "  " + .MESSAGE' "$ev"
n=$(jq -r 'select(.DMARCTRACE_EVENT == "attribution" and (.DMARCTRACE_EMAIL_MESSAGE_ID // "") != "")
           | .MESSAGE' "$ev" | tee "$dir/attributions.txt" | wc -l)
echo "  from the $n failure reports, each traced through the Postfix and PHP logs:"
head -4 "$dir/attributions.txt" | sed 's/^/    /'
[ "$n" -gt 4 ] && echo "    ... and $((n - 4)) more like these (all in $dir/attributions.txt)"

heading "dmarctrace trace -c $conf $dir/failure-reports/ruf-01.eml"
"$bin" trace -c "$conf" "$dir/failure-reports/ruf-01.eml" | sed '1d; s/^/  /'

heading "dmarctrace summary -c $conf --svg $dir/summary.svg  (the chart, for a ticket)"
if "$bin" summary -c "$conf" --svg "$dir/summary.svg"; then
        echo "  $(wc -c <"$dir/summary.svg") bytes of SVG 1.1: open it in a browser"
else
        echo "demo.sh: dmarctrace summary --svg failed" >&2
        exit 1
fi

heading "Next"
echo "  jq 'select(.DMARCTRACE_EVENT==\"attribution\")' $ev     # the events, as journald would get them"
echo "  $bin trace -c $conf $dir/failure-reports/ruf-02.eml     # any other failure report"
