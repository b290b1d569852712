#!/bin/sh
# test-failure-flood.sh - HOSTILE.md item 39 end to end: a flood of distinct failure reports
# through `dmarctrace scan` (JSON output). Each report is stored and moved; past the token bucket
# its failure-report event is left out and counted in a failure-rollup event instead, so events
# plus rolled-up counts add up to the reports exactly. (How many got their own event depends on
# how fast the scan ran: one token a second after the burst of 100; only the sums are exact.)
set -u
. "$DT_SRCDIR/tests/lib.sh"
C="$DT_CORPUS"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
M="$T/Maildir"
make_maildir "$M"
N=250

# N distinct reports: the same failure report about N different original messages
i=0
while [ $i -lt $N ]; do
        sed "s/01010101010101010101010101010101@/flood$i@/" \
                "$C/failure/parsedmarc_dmarc_ruf_report_linkedin.eml" >"$T/ruf"
        deliver "$M" "$T/ruf"
        i=$((i + 1))
done
write_config "$T/json.conf" "$M" "$T/state" json
dt scan -c "$T/json.conf" >"$T/ev" 2>"$T/err"; rc=$?
is "scan exits 0" "$rc" "0"
own=$(events "$T/ev" failure-report | wc -l)
rolled=$(events "$T/ev" failure-rollup | jq -s 'map(.DMARCTRACE_SUPPRESSED_COUNT | tonumber) | add // 0')
is "the burst of 100 gets its own events" "$([ "$own" -ge 100 ] && echo yes)" "yes"
is "failure-report events + rolled-up counts = reports ($own + $rolled)" "$((own + rolled))" "$N"
is "a rollup comes exactly when events were left out" \
        "$([ "$rolled" -gt 0 ] && echo rollup || echo none)" "$([ "$own" -lt $N ] && echo rollup || echo none)"
is "rollup events carry their MESSAGE_ID" \
        "$(events "$T/ev" failure-rollup | jq -r .MESSAGE_ID | sort -u)" \
        "$([ "$rolled" -gt 0 ] && echo 76ebd6ccd3a249fa9919bae6ff613693)"
is "every report stored once" \
        "$(sqlite3 "$T/state/state.db" "SELECT count(*) FROM messages WHERE outcome = 'failure';" 2>&1)" "$N"
is "every file moved to cur/" "$(ls "$M/cur" | grep -c ':2,S$')" "$N"
tap_done
