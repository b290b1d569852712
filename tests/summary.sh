#!/bin/sh
# summary.sh - one line over every suite: "N passed, N failed[, N skipped]"
#
# Reads the per-test results that automake's tap-driver wrote (*.trs, one :test-result: line per
# TAP test case) under each build folder given (or a plain TAP log file given instead), lists what failed, and exits 1 when anything
# failed or no test ran at all (a run that tested nothing is not a pass).
set -u
pass=0 fail=0 skip=0
for dir in "$@"; do
        if [ -f "$dir" ]; then          # a plain TAP log (e.g. packaging/ci-package.sh's)
                p=$(grep -c '^ok ' "$dir"); f=$(grep -c '^not ok ' "$dir")
                pass=$((pass + p)); fail=$((fail + f))
                [ "$f" -gt 0 ] && { echo "FAILED in $dir:"; grep '^not ok ' "$dir" | sed 's/^/  /'; }
                continue
        fi
        for trs in $(find "$dir/tests" -maxdepth 1 -name '*.trs' 2>/dev/null | sort); do
                p=$(grep -c '^:test-result: PASS' "$trs")
                f=$(grep -c -E '^:test-result: (FAIL|ERROR|XPASS)' "$trs")
                s=$(grep -c '^:test-result: SKIP' "$trs")
                pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + s))
                if [ "$f" -gt 0 ]; then
                        echo "FAILED in ${trs%.trs}.log:"
                        grep -E '^(not ok|Bail out)' "${trs%.trs}.log" | head -20 | sed 's/^/  /'
                fi
                if [ "$s" -gt 0 ]; then
                        grep -E '^ok .*# SKIP' "${trs%.trs}.log" | sed 's/^/  skipped: /'
                fi
        done
done
if [ "$skip" -gt 0 ]; then
        echo "$pass passed, $fail failed, $skip skipped"
else
        echo "$pass passed, $fail failed"
fi
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
