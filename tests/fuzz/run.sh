#!/bin/sh
# run.sh - build every libFuzzer harness with clang and run each for a bounded time
#
# Usage: tests/fuzz/run.sh [HARNESS...]          (default: all of them; names without "fuzz-")
# Environment:
#   DT_FUZZ_SECONDS   seconds per harness (default 60)
#   DT_FUZZ_JOBS      harnesses run at once (default 1)
#   DT_FUZZ_WORKDIR   where binaries, corpora and artifacts go (default: a new mktemp -d,
#                     removed at the end unless DT_FUZZ_KEEP=1 or a harness failed)
#   DT_FUZZ_RSS_MB    libFuzzer's -rss_limit_mb (default 512)
#   DT_SRCDIR         the source tree (default: two levels above this script)
#   DT_CORPUS         the shared corpus (default: $DT_SRCDIR/../shared/corpus)
#   CC                clang (default: clang)
#
# Each harness is built from the tree's own sources (report/*.c, agent/parse.c, conf/config.c,
# the correlate/ line readers) with -fsanitize=fuzzer,address,undefined, seeded with the shared
# corpus and tests/data, and
# run with -rss_limit_mb=512 -timeout=10 and a -max_len that suits its format. Prints TAP: one
# line per harness with the number of executions. A crash (or leak, timeout, out-of-memory)
# fails the harness, and the input that caused it is copied to
# tests/data/crash-YYYYMMDD-<harness>-<sha1 prefix> for a regression test. ASan's quarantine is
# cut to 32 MiB (default 256 MiB) so that -rss_limit_mb=512 measures the code under test, not
# freed memory kept back; tests/fuzz/lsan.supp holds leaks of libraries we do not own.
# Requires clang with libFuzzer (Debian 12: clang-14 and libclang-rt-14-dev, which clang-14 only
# recommends) and the -dev packages of the libraries below.
#
# The Postfix, Exim and PHP log-line readers share one harness (fuzz-logline): three more
# 60 s runs would add half as much again to CI's fuzz stage. Its seeds are the shared corpus's
# logs (a .gz one decompressed, its first 64 KiB), and tests/fuzz/seeds/logline-php.txt, since
# the corpus holds no PHP mail.log.
set -u

HARNESSES="sanitize headers config mime failure unpack aggregate parse logline"

here=$(cd "$(dirname "$0")" && pwd)
src=${DT_SRCDIR:-$(cd "$here/../.." && pwd)}
corpus=${DT_CORPUS:-$src/../shared/corpus}
seconds=${DT_FUZZ_SECONDS:-60}
jobs=${DT_FUZZ_JOBS:-1}
rss_mb=${DT_FUZZ_RSS_MB:-512}
cc=${CC:-clang}
case $cc in *clang*) ;; *) cc=clang ;; esac    # libFuzzer needs clang, whatever configure chose

if [ $# -gt 0 ]; then
        HARNESSES="$*"
fi

if [ -n "${DT_FUZZ_WORKDIR:-}" ]; then
        work=$DT_FUZZ_WORKDIR
        mkdir -p "$work" || exit 99
else
        work=$(mktemp -d "${TMPDIR:-/tmp}/dt-fuzz.XXXXXX") || exit 99
fi

# max_len_of - the longest input worth trying, per format
max_len_of() {
        case $1 in
        sanitize) echo 4096 ;;
        headers) echo 16384 ;;
        config) echo 8192 ;;
        unpack|aggregate) echo 65536 ;;
        logline) echo 20480 ;;                  # a few lines, or one past the 16 KiB cap
        *) echo 131072 ;;                       # whole messages
        esac
}

# dicts_of - the dictionaries a harness uses (concatenated into one)
dicts_of() {
        case $1 in
        mime) echo mime ;;
        failure) echo "mime failure headers" ;;
        parse) echo "mime aggregate unpack" ;;
        aggregate) echo "aggregate unpack" ;;
        *) echo "$1" ;;
        esac
}

# seeds_of - files whose contents seed a harness (globs, unmatched ones are skipped). Every
# tests/data/crash-* input seeds every harness: a crash that comes back fails the run at once.
seeds_of() {
        d=$src/tests/data
        echo "$d/crash-*"
        case $1 in
        sanitize) echo "$d/headers/* $d/failure/bad-*" ;;
        headers) echo "$d/headers/* $corpus/failure/* $corpus/php-originating/*" ;;
        config) echo "$d/config/* $src/conf/dmarctrace.conf" ;;
        mime|failure|parse)
                echo "$d/mime/* $d/failure/* $corpus/failure/* $corpus/malformed/*"
                echo "$corpus/php-originating/* $corpus/aggregate/*.eml"
                if [ "$1" = parse ]; then
                        echo "$d/aggregate/* $d/unpack/* $corpus/aggregate/*"
                fi ;;
        unpack|aggregate)
                echo "$d/aggregate/* $d/unpack/* $corpus/aggregate/*.xml* $corpus/malformed/*.xml*" ;;
        logline) echo "$corpus/logs/*/* $here/seeds/logline-*" ;;
        esac
}

CFLAGS_FUZZ="-g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined"
LIBS_PC="libxml-2.0 zlib libzip gmime-3.0 glib-2.0 json-c libconfig"
pc_cflags=$(pkg-config --cflags $LIBS_PC) || { echo "Bail out! pkg-config $LIBS_PC"; exit 99; }
pc_libs=$(pkg-config --libs $LIBS_PC)
# shellcheck disable=SC2086
sources=$(cd "$src" && ls report/*.c agent/parse.c conf/config.c correlate/logline.c \
        correlate/postfix.c correlate/exim.c correlate/phplog.c)

# build_one - compile one harness with the tree's sources into $work/fuzz-$1
build_one() {
        (cd "$src" && $cc $CFLAGS_FUZZ -I. $pc_cflags "tests/fuzz/fuzz-$1.c" $sources \
                $pc_libs -lm -o "$work/fuzz-$1") >"$work/build-$1.log" 2>&1
}

# run_one - fuzz one harness; writes "ok|fail <execs> <detail>" to $work/result-$1
run_one() {
        h=$1
        cdir=$work/corpus-$h
        mkdir -p "$cdir" "$work/artifacts-$h"
        for f in $(seeds_of "$h"); do
                [ -f "$f" ] || continue
                dest=$cdir/seed-$(basename "$f" | tr -c 'A-Za-z0-9._\n-' _)
                case $h:$f in
                logline:*.gz) gzip -dc "$f" | head -c 65536 >"$dest" ;;
                *) cp "$f" "$dest" ;;
                esac
        done
        dict=$work/$h.dict
        : >"$dict"
        for d in $(dicts_of "$h"); do
                [ -f "$here/dict/$d.dict" ] && cat "$here/dict/$d.dict" >>"$dict"
        done
        (cd "$work" && ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:quarantine_size_mb=32:allocator_may_return_null=1} \
                LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$here/lsan.supp:print_suppressions=0} \
                UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
                "./fuzz-$h" -max_total_time="$seconds" -max_len="$(max_len_of "$h")" \
                -rss_limit_mb="$rss_mb" -timeout=10 -dict="$dict" -print_final_stats=1 \
                -artifact_prefix="$work/artifacts-$h/" "$cdir") >"$work/log-$h" 2>&1
        rc=$?
        execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log-$h" | tail -n 1)
        execs=${execs:-0}
        found=""
        for a in "$work/artifacts-$h"/*; do
                [ -f "$a" ] || continue
                kind=$(basename "$a" | sed 's/-.*//')         # crash, leak, timeout, oom, slow-unit
                [ "$kind" = slow ] && continue
                sum=$(sha1sum "$a" | cut -c1-12)
                dest=$src/tests/data/crash-$(date +%Y%m%d)-$h-$sum
                cp "$a" "$dest"
                found="$found $kind:tests/data/$(basename "$dest")"
        done
        if [ -n "$found" ] || [ $rc -ne 0 ]; then
                echo "fail $execs exit $rc;$found" >"$work/result-$h"
        else
                echo "ok $execs" >"$work/result-$h"
        fi
}

# explain - the few lines of a failed run's log that let it be replayed and understood: the
# seed and the last status line (-seed=N -runs=#N replays the same mutations on the same binary
# and seeds), the error, then either the largest live allocations (out-of-memory: which code
# held the memory) or the top of the stack, and the size of each input kept
explain() {
        log=$work/log-$1
        grep -m 1 '^INFO: Seed:' "$log"
        grep -E '^#[0-9]+[[:space:]]' "$log" | tail -n 1
        grep -E 'ERROR|SUMMARY' "$log" | head -n 3
        if grep -q 'Live Heap Allocations' "$log"; then
                # each context: "N byte(s) (P%) in K allocation(s)", then its frames; the
                # allocator's own frame (#0) says nothing, #1 and #2 name the caller
                awk '/Live Heap Allocations/ { print; on = 1; next }
                     on && /byte\(s\)/ { print; n++ }
                     on && /^ +#[12] / && n <= 6 { sub(/ \(\/.*/, ""); print }
                     /SUMMARY/ { on = 0 }' "$log" | head -n 16
        else
                grep -E '^ +#[0-2] ' "$log" | head -n 6
        fi
        for a in "$work/artifacts-$1"/*; do
                [ -f "$a" ] && echo "input $(basename "$a"): $(wc -c <"$a") bytes"
        done
}

n=0
for h in $HARNESSES; do
        n=$((n + 1))
done
echo "1..$n"

# build first (sequentially: the two cores go to the fuzzers afterwards)
for h in $HARNESSES; do
        if [ ! -f "$here/fuzz-$h.c" ]; then
                echo "no harness" >"$work/build-$h.log"
                echo "nobuild" >"$work/result-$h"
        elif ! build_one "$h"; then
                echo "nobuild" >"$work/result-$h"
        fi
done

running=0
for h in $HARNESSES; do
        [ -f "$work/result-$h" ] && continue
        run_one "$h" &
        running=$((running + 1))
        if [ "$running" -ge "$jobs" ]; then
                wait
                running=0
        fi
done
wait

i=0
failed=0
for h in $HARNESSES; do
        i=$((i + 1))
        set -- $(cat "$work/result-$h")
        case $1 in
        ok)
                echo "ok $i - fuzz-$h: $2 executions in ${seconds}s" ;;
        nobuild)
                failed=1
                echo "not ok $i - fuzz-$h: build failed"
                sed 's/^/# /' "$work/build-$h.log" | head -n 20 ;;
        *)
                failed=1
                shift 2
                echo "not ok $i - fuzz-$h: $*"
                explain "$h" | cut -c1-200 | sed 's/^/# /' ;;
        esac
done

if [ "$failed" -eq 0 ] && [ "${DT_FUZZ_KEEP:-0}" != 1 ] && [ -z "${DT_FUZZ_WORKDIR:-}" ]; then
        rm -rf "$work"
else
        echo "# work directory kept: $work"
fi
exit "$failed"
