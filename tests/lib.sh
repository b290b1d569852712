# lib.sh - sourced by the integration scripts: Maildirs, configurations, a journald to talk to
#
# Needs DT_BIN, DT_CORPUS and DT_SRCDIR (set by Makefile.am's AM_TESTS_ENVIRONMENT).
. "$DT_SRCDIR/tests/tap.sh"

# make_maildir DIR - an empty Maildir
make_maildir() {
        mkdir -p "$1/new" "$1/cur" "$1/tmp"
}

# deliver MAILDIR FILE [NAME] - a copy of FILE into new/ the way an MDA does it: tmp/, then rename
deliver_seq=0
deliver() {
        deliver_seq=$((deliver_seq + 1))
        name=${3:-"1800000000.M${deliver_seq}P$$.test"}
        cp "$2" "$1/tmp/$name" && mv "$1/tmp/$name" "$1/new/$name"
}

# write_config FILE MAILDIR STATE OUTPUT [EXTRA] - a configuration for a test run
write_config() {
        cat >"$1" <<CONF
maildir = { path = "$2"; mode = "move"; };
state_dir = "$3";
output = "$4";
identity = { addresses = [ "192.168.1.1", "203.0.113.25" ]; };
events = { records = "own"; };
${5:-}
CONF
}

# ensure_journald - start a systemd-journald of our own when none listens (CI has no systemd as
# PID 1; root is needed). Returns 1 (with the reason on stdout) when no journald can be had.
# The scripts run in parallel and share it: each registers under $DT_JD_DIR/users by its $$ (also
# right inside $(...)), and the journald one of them started is stopped by the last to leave, so
# no script loses its journald in the middle of a run. A journald that was already running
# (systemd's own) is never stopped.
DT_JD_DIR=/run/dmarctrace-tests
journald_works() {
        [ -S /run/systemd/journal/socket ] && journalctl -n 0 >/dev/null 2>&1 &&
                systemd-cat -t dmarctrace-probe true 2>/dev/null
}
journald_lock() {
        mkdir -p "$DT_JD_DIR/users" && exec 8>"$DT_JD_DIR/lock" && flock 8
}
journald_unlock() {
        flock -u 8
        exec 8>&-
}
ensure_journald() {
        if [ "$(id -u)" != 0 ]; then
                journald_works && return 0
                echo "no journald running and not root to start one"
                return 1
        fi
        if ! journald_lock; then
                echo "cannot lock $DT_JD_DIR/lock"
                return 1
        fi
        : >"$DT_JD_DIR/users/$$"
        if journald_works; then
                journald_unlock
                return 0
        fi
        jd=/lib/systemd/systemd-journald
        [ -x "$jd" ] || jd=/usr/lib/systemd/systemd-journald
        if [ ! -x "$jd" ]; then
                journald_unlock
                echo "systemd-journald is not installed"
                return 1
        fi
        mkdir -p /run/systemd/journal
        "$jd" >/dev/null 2>&1 8>&- &
        echo $! >"$DT_JD_DIR/journald.pid"
        i=0
        while ! journald_works && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
        journald_unlock
        if ! journald_works; then
                echo "started systemd-journald but it never answered on its sockets"
                return 1
        fi
        return 0
}

# stop_journald - leave the shared journald; the last script out stops the one we started
stop_journald() {
        [ "$(id -u)" = 0 ] && [ -f "$DT_JD_DIR/users/$$" ] || return 0
        journald_lock || return 0
        rm -f "$DT_JD_DIR/users/$$"
        for u in "$DT_JD_DIR"/users/*; do
                [ -e "$u" ] || continue
                kill -0 "${u##*/}" 2>/dev/null || rm -f "$u"
        done
        if [ -z "$(ls -A "$DT_JD_DIR/users")" ] && [ -f "$DT_JD_DIR/journald.pid" ]; then
                jp=$(cat "$DT_JD_DIR/journald.pid")
                kill "$jp" 2>/dev/null
                i=0
                while kill -0 "$jp" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
                rm -f "$DT_JD_DIR/journald.pid"
        fi
        journald_unlock
}

# events FILE NAME - the JSON events of one type from a JSON-lines file
events() {
        jq -c "select(.DMARCTRACE_EVENT == \"$2\")" "$1"
}

# deliver_generated MAILDIR N MIN-MAX SEED - N generated aggregate reports (bare XML, MIN..MAX
# records each) delivered into new/ at once, the way a burst arrives: made in tmp/, then renamed
deliver_generated() {
        g=$(mktemp -d "$1/tmp/gen.XXXXXX") &&
                "$DT_GEN" -n "$2" -r "$3" -f xml -s "$4" -o "$g" &&
                mv "$g"/* "$1/new/" && rmdir "$g"
}

# slow: time limits are this many times longer under $DT_WRAP (valgrind)
slow=1; [ -n "${DT_WRAP:-}" ] && slow=5

# wait_for FILE JQ-FILTER SECONDS - until the filter matches a line of FILE (JSON lines)
wait_for() {
        i=0
        while [ $i -lt $(($3 * 10 * slow)) ]; do
                [ -n "$(jq -c "select($2)" "$1" 2>/dev/null | head -1)" ] && return 0
                sleep 0.1; i=$((i + 1))
        done
        return 1
}

# wait_gone DIR SECONDS - until DIR holds no entry
wait_gone() {
        i=0
        while [ -n "$(ls -A "$1")" ] && [ $i -lt $(($2 * 10 * slow)) ]; do sleep 0.1; i=$((i + 1)); done
        [ -z "$(ls -A "$1")" ]
}

# start_agent CONF OUT ERR - the agent in the background ($pid), once it says ready
start_agent() {
        ${DT_WRAP:-} "$DT_BIN" agent -c "$1" >"$2" 2>"$3" &
        pid=$!
        wait_for "$2" '.DMARCTRACE_STATE=="ready"' 10
}

# stop_agent - SIGTERM and wait; the exit status in $agent_rc
stop_agent() {
        kill -TERM "$pid" 2>/dev/null
        wait "$pid"; agent_rc=$?
        pid=
}
