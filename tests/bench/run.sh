#!/bin/sh
# run.sh - `make bench`: throughput and memory, as ratios against a baseline run on the same bytes
#
# 1. 4,000 generated aggregate reports (1-50 records): `dmarctrace parse` over the XML and over
#    the same reports gzipped, against `xmllint --stream --noout` over the same XML files.
#    Target: parse throughput >= 50% of xmllint's.
# 2. bench-parse over a generated 1,000,000-record report: peak RSS must stay under 64 MB.
# Run from the build folder (the Makefile does).
set -eu
N=${DT_BENCH_REPORTS:-4000}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
mkdir "$T/xml" "$T/gz"
tests/gen-reports -n "$N" -r 1-50 -f xml -s 7 -o "$T/xml"
tests/gen-reports -n "$N" -r 1-50 -f gz -s 7 -o "$T/gz"
bytes=$(cat "$T"/xml/* | wc -c)

now() { date +%s.%N; }
# timed LABEL CMD... - run CMD with stdout discarded, print seconds
timed() {
        t0=$(now); "$@" >/dev/null; t1=$(now)
        awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }'
}
cd "$T/xml"; set -- *; cd - >/dev/null
t_xmllint=$(cd "$T/xml" && timed xmllint --stream --noout "$@")
t_parse=$(cd "$T/xml" && timed "$OLDPWD/dmarctrace" parse "$@")
t_parse_gz=$(cd "$T/gz" && timed "$OLDPWD/dmarctrace" parse $(ls))

awk -v n="$N" -v b="$bytes" -v x="$t_xmllint" -v p="$t_parse" -v g="$t_parse_gz" 'BEGIN {
        printf "aggregate reports: %d files, %.1f MB of XML\n", n, b / 1e6
        printf "  xmllint --stream   %7.0f reports/s %7.1f MB/s\n", n / x, b / 1e6 / x
        printf "  dmarctrace parse   %7.0f reports/s %7.1f MB/s   ratio %.2f (target >= 0.50)\n", n / p, b / 1e6 / p, x / p
        printf "  parse from .gz     %7.0f reports/s %7.1f MB/s   ratio %.2f (target >= 0.50)\n", n / g, b / 1e6 / g, x / g
}'
echo "streaming parser, 1,000,000 records:"
out=$(tests/bench-parse 1000000)
echo "  $out"
rss=$(echo "$out" | sed 's/.*peak_rss_kb=//')
if [ "$rss" -lt 65536 ]; then echo "  peak RSS ${rss} kB < 64 MB: ok"; else echo "  peak RSS ${rss} kB >= 64 MB: FAIL"; exit 1; fi
