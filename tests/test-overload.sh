#!/bin/sh
# test-overload.sh - HOSTILE.md F21, mixed overload, into a running agent (JSON output): one
# ~40 MiB aggregate report (70,000 records, 41 MB of XML in a gzip attachment) and, right behind
# it, a flood of 1,000 distinct failure reports delivered at about 100 a second.
#
# Asserted: the big report is stored whole well within the worker's 10 s deadline; the failure
# lane keeps up (the backlog in new/, sampled every 0.2 s during the flood, stays under 3 s of
# deliveries) and is done within 5 s of the flood's end; failure-report events are rationed by
# the token bucket (a burst of 100, then one a second) and failure-rollup counts make up the
# rest exactly; the whole run sends far fewer events than journald's default burst (10,000 per
# 30 s); peak RSS stays under 256 MB; every report is stored once and moved.
# The times are wall-clock bounds on a loaded 2-core CI machine, generous by design: the run
# takes about 12 s, most of it the flood's own pace.
set -u
. "$DT_SRCDIR/tests/lib.sh"
C="$DT_CORPUS"
T=$(mktemp -d)
pid=
flood=
trap cleanup EXIT
cleanup() {
        [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
        [ -n "$flood" ] && kill "$flood" 2>/dev/null
        rm -rf "$T"
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }

M="$T/Maildir"
make_maildir "$M"
N=1000
RECORDS=70000

# the flood, made beforehand: the same failure report about N different original messages
mkdir "$T/ruf" "$T/big"
awk -v n=$N -v dir="$T/ruf" '{ line[NR] = $0 }
        END {
                for (i = 0; i < n; i++) {
                        f = sprintf("%s/%04d.eml", dir, i)
                        for (k = 1; k <= NR; k++) {
                                s = line[k]
                                sub(/01010101010101010101010101010101@/, "flood" i "@", s)
                                print s >f
                        }
                        close(f)
                }
        }' "$C/failure/parsedmarc_dmarc_ruf_report_linkedin.eml"
"$DT_GEN" -n 1 -r $RECORDS-$RECORDS -f eml -s 5 -o "$T/big" >/dev/null
is "fixtures: $N failure reports and one report of $RECORDS records" \
        "$(ls "$T/ruf" | wc -l) $(ls "$T/big" | wc -l)" "$N 1"

write_config "$T/conf" "$M" "$T/state" json
# In an ASan build freed blocks wait in ASan's quarantine (256 MiB by default) and count as
# resident: a 16 MiB one keeps the figure the program's own (other builds ignore ASAN_OPTIONS)
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=16"; export ASAN_OPTIONS
start_agent "$T/conf" "$T/ev" "$T/err" || fail "the agent is ready" "$(cat "$T/err")"

t0=$(now_ms)
deliver "$M" "$T/big/"*.eml "big.eml"
# about 100 a second: ten renames into new/, then a tenth of a second
(
        i=0
        for f in "$T"/ruf/*.eml; do
                mv "$f" "$M/new/${f##*/}"
                i=$((i + 1))
                [ $((i % 10)) -eq 0 ] && sleep 0.1
        done
        now_ms >"$T/flood.end"
) &
flood=$!
max_backlog=0 t_big=
while kill -0 "$flood" 2>/dev/null; do
        b=$(ls "$M/new" | wc -l)
        [ "$b" -gt "$max_backlog" ] && max_backlog=$b
        if [ -z "$t_big" ] && grep -q '"DMARCTRACE_EVENT":"aggregate-report"' "$T/ev"; then
                t_big=$(now_ms)
        fi
        sleep 0.2
done
wait "$flood"; flood=
t_flood=$(cat "$T/flood.end")
wait_gone "$M/new" $((30 * slow)) || true
t_done=$(now_ms)
[ -z "$t_big" ] && grep -q '"DMARCTRACE_EVENT":"aggregate-report"' "$T/ev" && t_big=$t_done
hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status" 2>/dev/null)
stop_agent
is "the agent exits 0" "$agent_rc" "0"

flood_s=$(( (t_flood - t0 + 999) / 1000 ))
is "the big report stored whole: RECORD_COUNT and rows" \
        "$(events "$T/ev" aggregate-report | jq -r .DMARCTRACE_RECORD_COUNT) $(sqlite3 "$T/state/state.db" "SELECT count(*) FROM aggregate_reports")" \
        "$RECORDS 1"
if [ -n "$t_big" ] && [ $((t_big - t0)) -lt $((10000 * slow)) ]; then
        ok "the big report done within the 10 s deadline ($((t_big - t0)) ms, flood running)"
else
        fail "the big report done within the 10 s deadline" "${t_big:-never}: $(tail -3 "$T/err")"
fi
if [ "$max_backlog" -lt $((300 * slow)) ]; then
        ok "the failure lane keeps up: at most $max_backlog waiting in new/ during the flood (${flood_s} s)"
else
        fail "the failure lane keeps up during the flood" "$max_backlog waiting in new/"
fi
if [ $((t_done - t_flood)) -lt $((5000 * slow)) ]; then
        ok "every report done within 5 s of the flood's end ($((t_done - t_flood)) ms)"
else
        fail "every report done within 5 s of the flood's end" "$((t_done - t_flood)) ms, $(ls "$M/new" | wc -l) left"
fi
own=$(events "$T/ev" failure-report | wc -l)
rolled=$(events "$T/ev" failure-rollup | jq -s 'map(.DMARCTRACE_SUPPRESSED_COUNT | tonumber) | add // 0')
is "failure-report events + rolled-up counts = reports ($own + $rolled)" "$((own + rolled))" "$N"
if [ "$own" -ge 100 ] && [ "$own" -le $((100 + (t_done - t0) / 1000 + 2)) ]; then
        ok "failure-report events rationed: $own (a burst of 100, then one a second)"
else
        fail "failure-report events rationed" "$own in $(( (t_done - t0) / 1000 )) s"
fi
total=$(wc -l <"$T/ev")
if [ "$total" -lt 10000 ]; then
        ok "events under journald's default burst: $total in the whole run"
else
        fail "events under journald's default burst" "$total"
fi
if [ -n "${DT_WRAP:-}" ]; then
        skip "peak RSS under 256 MB" "RSS is valgrind's under DT_WRAP"
elif [ -n "$hwm" ] && [ "$hwm" -lt $((256 * 1024)) ]; then
        ok "peak RSS under 256 MB ($((hwm / 1024)) MB)"
else
        fail "peak RSS under 256 MB" "${hwm:-unknown} KiB"
fi
is "every report stored once and moved" \
        "$(sqlite3 "$T/state/state.db" "SELECT outcome, count(*) FROM messages GROUP BY outcome ORDER BY outcome" | tr '\n' ' ')$(ls "$M/cur" | wc -l)" \
        "aggregate|1 failure|$N $((N + 1))"
tap_done
