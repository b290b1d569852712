# tap.sh - sourced by the shell test scripts: TAP output with plain assertions
#
# ok/fail print one TAP line each; tap_done prints the plan. Values compared are printed on
# failure so a red CI log says what differed.
tap_n=0
tap_failed=0

ok() {
        tap_n=$((tap_n + 1))
        echo "ok $tap_n - $1"
}

fail() {
        tap_n=$((tap_n + 1))
        tap_failed=$((tap_failed + 1))
        echo "not ok $tap_n - $1"
        shift
        for line in "$@"; do echo "#   $line"; done
}

skip() {
        tap_n=$((tap_n + 1))
        echo "ok $tap_n - $1 # SKIP $2"
}

# is NAME GOT WANT
is() {
        if [ "$2" = "$3" ]; then ok "$1"; else fail "$1" "got:  '$2'" "want: '$3'"; fi
}

tap_done() {
        echo "1..$tap_n"
        [ "$tap_failed" -eq 0 ]
}

# dt ARGS... - the binary under test, wrapped by $DT_WRAP when set (valgrind in CI). Not for
# background runs: a function runs in a subshell, so $! would not be the program's pid; those
# call ${DT_WRAP:-} "$DT_BIN" directly.
dt() {
        ${DT_WRAP:-} "$DT_BIN" "$@"
}
