#!/bin/sh
# test-packaging.sh - the packaging stays in step with the program: unit settings, man pages (they
# render without warnings, and name every command, option, configuration key and default), the
# forwarder configs (current with fields.tsv, which covers every field of agent/events.h), the
# Debian Build-Depends (the packages of install-build-deps), and the rsyslog mapping run for real
# on a sample event when rsyslogd is installed.
#
# Needs DT_SRCDIR; DT_BIN (the built binary) for the checks against `check-config` and `--help`.
set -u
. "$DT_SRCDIR/tests/tap.sh"
S="$DT_SRCDIR"
P="$S/packaging"
T=$(mktemp -d)
rs_pid=
trap '[ -n "$rs_pid" ] && kill "$rs_pid" 2>/dev/null; rm -rf "$T"' EXIT

# ---- the unit ---------------------------------------------------------------------------------
unit="$P/dmarctrace.service"
# unit_is KEY VALUE - the unit has the line KEY=VALUE
unit_is() {
        if grep -qxF "$1=$2" "$unit"; then
                ok "unit: $1=$2"
        else
                fail "unit: $1=$2" "got: $(grep "^$1=" "$unit" | tr '\n' ' ')"
        fi
}
unit_is Type notify
unit_is ExecStart "/usr/bin/dmarctrace agent"
unit_is ExecReload '/bin/kill -HUP $MAINPID'
unit_is Restart on-failure
unit_is WatchdogSec 30
unit_is TimeoutStopSec 30
unit_is User dmarctrace
unit_is Group dmarctrace
unit_is SupplementaryGroups "adm systemd-journal"
unit_is StateDirectory dmarctrace
unit_is ProtectSystem strict
unit_is ReadWritePaths -/var/mail/dmarc/Maildir
unit_is ProtectHome read-only
unit_is PrivateTmp yes
unit_is NoNewPrivileges yes
unit_is CapabilityBoundingSet ""
unit_is RestrictAddressFamilies "AF_UNIX AF_NETLINK"
unit_is IPAddressDeny any
unit_is SystemCallFilter @system-service
unit_is SystemCallArchitectures native
unit_is MemoryMax 512M
unit_is LogRateLimitIntervalSec 0
# every hardening switch that is a plain yes/no is yes
bad=$(grep -E '^(Protect[A-Za-z]*|Private[A-Za-z]*|Restrict[A-Za-z]*|LockPersonality|MemoryDenyWriteExecute|NoNewPrivileges|RemoveIPC)=no$' "$unit")
is "unit: no hardening switch is turned off" "$bad" ""
# no key twice except the ones systemd accumulates
dups=$(sed -n 's/^\([A-Za-z]*\)=.*/\1/p' "$unit" | sort | uniq -d | grep -vx 'SystemCallFilter')
is "unit: no key set twice" "$dups" ""

if command -v systemd-analyze >/dev/null 2>&1 && [ -x "${DT_BIN:-}" ]; then
        # verify wants ExecStart= to exist and the Documentation= man pages to be found
        mkdir -p "$T/unit" "$T/man/man8" "$T/man/man5"
        sed "s#^ExecStart=/usr/bin/dmarctrace#ExecStart=$DT_BIN#" "$unit" >"$T/unit/dmarctrace.service"
        cp "$P/man/dmarctrace.8" "$T/man/man8/"
        cp "$P/man/dmarctrace.conf.5" "$T/man/man5/"
        if MANPATH="$T/man" systemd-analyze verify "$T/unit/dmarctrace.service" >"$T/verify" 2>&1 &&
           ! grep -q . "$T/verify"; then
                ok "systemd-analyze verify: clean"
        else
                fail "systemd-analyze verify: clean" "$(cat "$T/verify")"
        fi
else
        skip "systemd-analyze verify: clean" "systemd-analyze or DT_BIN missing"
fi

# ---- man pages render without warnings --------------------------------------------------------
man8="$P/man/dmarctrace.8"
man5="$P/man/dmarctrace.conf.5"
for page in "$man8" "$man5"; do
        name=$(basename "$page")
        if command -v groff >/dev/null 2>&1; then
                w=$(groff -man -ww -b -z "$page" 2>&1)
                is "man $name: groff -ww renders it without warnings" "$w" ""
        else
                skip "man $name: groff -ww renders it without warnings" "groff is not installed"
        fi
        if command -v man >/dev/null 2>&1; then
                # what lintian runs
                w=$(LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z "$page" 2>&1 >/dev/null)
                is "man $name: man --warnings -l renders it without warnings" "$w" ""
        else
                skip "man $name: man --warnings -l renders it without warnings" "man is not installed"
        fi
done

# roff - a name as it is written in roff source ('-' as '\-')
roff() {
        printf '%s' "$1" | sed 's/-/\\-/g'
}

# ---- dmarctrace.8: every command, option and MESSAGE_ID ---------------------------------------
cmds=$(sed -n 's/^[[:space:]]*{ "\([a-z-]*\)", dt_cmd_[a-z_]*,.*/\1/p' "$S/agent/main.c")
[ -n "$cmds" ] || fail "commands found in agent/main.c"
for c in $cmds; do
        if grep -qxF ".B $(roff "$c")" "$man8"; then
                ok "dmarctrace.8 describes command $c"
        else
                fail "dmarctrace.8 describes command $c" "no line '.B $(roff "$c")'"
        fi
done
if [ -x "${DT_BIN:-}" ]; then
        # the commands --help lists are the ones main.c has
        helped=$(dt --help | sed -n 's/^  \([a-z-]*\)  .*/\1/p' | sort | tr '\n' ' ')
        is "dmarctrace --help lists the commands of main.c" "$helped" "$(echo "$cmds" | sort | tr '\n' ' ')"
fi
opts=$(cat "$S"/agent/cmd-*.c | sed -n 's/^[[:space:]]*{ "\([a-z-]*\)", \(no\|required\|optional\)_argument, NULL, .\(.\).*/\1:\3/p' | sort -u)
[ -n "$opts" ] || fail "options found in agent/cmd-*.c"
for o in $opts; do
        long=${o%%:*}
        short=${o#*:}
        if grep -qF "$(roff "--$long")" "$man8" && grep -qF "\\-$short" "$man8"; then
                ok "dmarctrace.8 describes option -$short/--$long"
        else
                fail "dmarctrace.8 describes option -$short/--$long"
        fi
done
for id in $(grep -o '"[0-9a-f]\{32\}"' "$S/agent/events.h" | tr -d '"'); do
        if grep -qF "$id" "$man8"; then
                ok "dmarctrace.8 lists MESSAGE_ID $id"
        else
                fail "dmarctrace.8 lists MESSAGE_ID $id"
        fi
done
for sig in SIGHUP SIGTERM; do
        if grep -q "^\.B.* $sig" "$man8"; then ok "dmarctrace.8 describes $sig"; else fail "dmarctrace.8 describes $sig"; fi
done
for sec in "EXIT STATUS" FILES EXAMPLES SIGNALS; do
        if grep -qxF ".SH $sec" "$man8"; then ok "dmarctrace.8 has section $sec"; else fail "dmarctrace.8 has section $sec"; fi
done

# ---- dmarctrace.conf.5: every key, and the defaults check-config prints -----------------------
# conf_keys FILE - the dotted keys of a dmarctrace.conf, commented-out ones included
conf_keys() {
        awk '{
                line = $0
                sub(/^[ \t]*(#[ \t]*)?/, "", line)
                if (line ~ /^[a-z_]+ = \{/) { split(line, w, " "); group = w[1]; next }
                if (line ~ /^};/) { group = ""; next }
                if (line ~ /^[a-z_]+ = [^{]/) { split(line, w, " "); print (group != "" ? group "." : "") w[1] }
        }' "$1"
}
keys=$(conf_keys "$S/conf/dmarctrace.conf")
is "conf/dmarctrace.conf has keys" "$([ "$(echo "$keys" | wc -l)" -ge 20 ] && echo yes)" "yes"
for k in $keys; do
        if grep -qxF ".B $k" "$man5"; then
                ok "dmarctrace.conf.5 documents $k"
        else
                fail "dmarctrace.conf.5 documents $k" "no line '.B $k'"
        fi
done
if [ -x "${DT_BIN:-}" ]; then
        dt check-config -c "$S/conf/dmarctrace.conf" >"$T/effective"
        # KEY<TAB>VALUE for every effective value
        awk '/^#/ { next }
             /^[a-z_]+ = \{$/ { group = $1; next }
             /^};$/ { group = ""; next }
             /=/ { line = $0; sub(/^[ \t]+/, "", line); k = line; sub(/ = .*/, "", k)
                   v = line; sub(/^[^=]*= /, "", v); sub(/;$/, "", v)
                   print (group != "" ? group "." : "") k "\t" v }' "$T/effective" >"$T/kv"
        is "check-config prints as many keys as the shipped file documents" \
                "$(wc -l <"$T/kv" | tr -d ' ')" "$(echo "$keys" | wc -l | tr -d ' ')"
        # documented - KEY's "Default:" value in dmarctrace.conf.5 (between its .B line and the next .TP/.SH)
        documented() {
                awk -v key="$1" '
                        $0 == ".B " key { on = 1; next }
                        on && /^\.(TP|SH)/ { exit }
                        on && /^Default: \\fB/ { v = $0; sub(/^Default: \\fB/, "", v); sub(/\\fR.*/, "", v); print v; exit }
                ' "$man5"
        }
        while IFS='	' read -r k v; do
                [ "$k" = maildir.path ] && continue     # required: no default
                is "dmarctrace.conf.5: default of $k" "$(documented "$k")" "$v"
        done <"$T/kv"
else
        skip "dmarctrace.conf.5 defaults match check-config" "DT_BIN is not built"
fi

# ---- forwarders -------------------------------------------------------------------------------
tsv="$P/forwarders/fields.tsv"
if out=$(sh "$P/forwarders/generate.sh" --check 2>&1); then
        ok "forwarder configs are current with fields.tsv"
else
        fail "forwarder configs are current with fields.tsv" "$out"
fi
grep -o '"DMARCTRACE_[A-Z0-9_]*"' "$S/agent/events.h" | tr -d '"' | sort -u >"$T/h"
awk -F '\t' '/^DMARCTRACE_/ { print $1 }' "$tsv" | sort -u >"$T/t"
is "every DMARCTRACE_ field of events.h is in fields.tsv" "$(comm -23 "$T/h" "$T/t" | tr '\n' ' ')" ""
is "fields.tsv names no field events.h lacks" "$(comm -13 "$T/h" "$T/t" | tr '\n' ' ')" ""
for f in DMARCTRACE_SCRIPT_PATH:file.path DMARCTRACE_USER_ID:user.id DMARCTRACE_EMAIL_LOCAL_ID:email.local_id \
         DMARCTRACE_SOURCE_IP:source.ip DMARCTRACE_EVENT:event.action MESSAGE:message; do
        is "fields.tsv maps ${f%%:*} to ${f#*:}" "$(awk -F '\t' -v f="${f%%:*}" '$1 == f { print $2 }' "$tsv")" "${f#*:}"
done

# the rsyslog config, run for real: an attribution in, ECS JSON out to the file and over TCP
rs_mods=$(ls /usr/lib/*/rsyslog/mmjsonparse.so /usr/lib/rsyslog/mmjsonparse.so 2>/dev/null | head -1)
if command -v rsyslogd >/dev/null 2>&1 && command -v jq >/dev/null 2>&1 && [ -n "$rs_mods" ]; then
        port=$((20000 + $$ % 20000))
        mkdir -p "$T/rs/work"
        # imjournal is replaced by imfile + mmjsonparse, which fill $! the way imjournal does
        sed -e '/^module(load="imjournal"/,/Ratelimit.Interval/d' -e "s#/var/log/dmarctrace/#$T/rs/#" \
            -e 's#target="siem.example.com"#target="127.0.0.1"#' -e "s#port=\"5140\"#port=\"$port\"#" \
            "$P/forwarders/rsyslog/60-dmarctrace.conf" >"$T/rs/gen.conf"
        cat >"$T/rs/rsyslog.conf" <<EOF
global(workDirectory="$T/rs/work")
module(load="imfile")
module(load="mmjsonparse")
module(load="imtcp")
template(name="raw" type="string" string="%rawmsg%\n")
ruleset(name="recv") { action(type="omfile" file="$T/rs/received.json" template="raw") }
input(type="imtcp" port="$port" ruleset="recv")
input(type="imfile" File="$T/rs/in.cee" Tag="dmarctrace")
action(type="mmjsonparse")
include(file="$T/rs/gen.conf")
action(type="omfile" file="$T/rs/other.log")
EOF
        cat >"$T/rs/in.cee" <<'EOF'
@cee:{"MESSAGE":"attribution: example.com mail traced to uid 33 (www-data) script /var/www/site/x.php:12 via postfix 4XyZ1234AB [exact]","MESSAGE_ID":"cf5405f6b7654ad5abf1c8dcd42c5ced","PRIORITY":"4","_HOSTNAME":"www1","DMARCTRACE_EVENT":"attribution","DMARCTRACE_EVENT_ID":"5b1f","DMARCTRACE_POLICY_DOMAIN":"example.com","DMARCTRACE_SCRIPT_PATH":"/var/www/site/x.php","DMARCTRACE_SCRIPT_LINE":"12","DMARCTRACE_USER_ID":"33","DMARCTRACE_USER_NAME":"www-data","DMARCTRACE_EMAIL_LOCAL_ID":"4XyZ1234AB","DMARCTRACE_CONFIDENCE":"exact"}
@cee:{"MESSAGE":"volume-spike: example.com 190000 against 100","DMARCTRACE_EVENT":"volume-spike","DMARCTRACE_OBSERVED":"190000","DMARCTRACE_BASELINE":"100.0","DMARCTRACE_FACTOR":"1900.0","DMARCTRACE_OWN_HOST_COUNT":"189000"}
@cee:{"MESSAGE":"not ours","SYSLOG_IDENTIFIER":"cron"}
EOF
        if rsyslogd -N1 -f "$T/rs/rsyslog.conf" >"$T/rs/n1" 2>&1; then
                ok "rsyslogd -N1 accepts the generated config"
        else
                fail "rsyslogd -N1 accepts the generated config" "$(cat "$T/rs/n1")"
        fi
        rsyslogd -n -f "$T/rs/rsyslog.conf" -i "$T/rs/pid" >"$T/rs/log" 2>&1 &
        rs_pid=$!
        i=0
        while [ $i -lt 100 ]; do
                [ "$(cat "$T/rs/received.json" 2>/dev/null | wc -l)" -ge 2 ] && break
                sleep 0.1; i=$((i + 1))
        done
        kill "$rs_pid" 2>/dev/null; wait "$rs_pid" 2>/dev/null; rs_pid=
        a=$(jq -c 'select(.event.action == "attribution")' "$T/rs/events.json" 2>/dev/null)
        is "rsyslog: attribution file.path" "$(echo "$a" | jq -r '.file.path')" "/var/www/site/x.php"
        is "rsyslog: attribution user.id" "$(echo "$a" | jq -r '.user.id')" "33"
        is "rsyslog: attribution email.local_id" "$(echo "$a" | jq -r '.email.local_id')" "4XyZ1234AB"
        is "rsyslog: script line is a number" "$(echo "$a" | jq -r '.dmarctrace.script_line | type')" "number"
        is "rsyslog: event.code is the MESSAGE_ID" "$(echo "$a" | jq -r '.event.code')" "cf5405f6b7654ad5abf1c8dcd42c5ced"
        is "rsyslog: message carries the key facts" "$(echo "$a" | jq -r '.message')" \
                "attribution: example.com mail traced to uid 33 (www-data) script /var/www/site/x.php:12 via postfix 4XyZ1234AB [exact]"
        is "rsyslog: has @timestamp" "$(echo "$a" | jq -r '."@timestamp" | test("^[0-9]{4}-")')" "true"
        s=$(jq -c 'select(.event.action == "volume-spike")' "$T/rs/events.json" 2>/dev/null)
        is "rsyslog: spike counts" "$(echo "$s" | jq -c '[.dmarctrace.observed, .dmarctrace.own_host_count]')" "[190000,189000]"
        is "rsyslog: absent fields stay absent" "$(echo "$s" | jq -c '.user')" "null"
        is "rsyslog: other entries are not forwarded" "$(cat "$T/rs/events.json" "$T/rs/received.json" 2>/dev/null | grep -c 'not ours')" "0"
        is "rsyslog: omfwd sends the same JSON lines" "$(cat "$T/rs/received.json" 2>/dev/null)" "$(cat "$T/rs/events.json" 2>/dev/null)"
else
        skip "rsyslog config runs" "rsyslogd (with mmjsonparse) or jq is not installed"
fi

# ---- Debian: Build-Depends and install-build-deps name the same packages ----------------------
# packages install-build-deps installs, minus what only building the package or these checks need
awk '/apt-get install/ { on = 1 } on { print } on && !/\\$/ { on = 0 }' "$P/install-build-deps" |
        tr ' \\' '\n\n' | grep -E '^[a-z0-9][a-z0-9.+-]+$' |
        grep -vxE 'apt-get|install|build-essential|ca-certificates|debhelper|dh-autoreconf|dpkg-dev|devscripts|lintian|fakeroot|rsyslog|man-db|groff|groff-base|rpm|clang-14|libclang-rt-14-dev' |
        sort -u >"$T/ibd"
# Build-Depends of debian/control, without version, architecture and profile qualifiers
awk '/^Build-Depends:/ { on = 1; sub(/^Build-Depends:/, "") } on && /^[A-Z]/ && !/^Build-Depends/ { on = 0 } on { print }' \
        "$P/debian/control" | tr ',' '\n' | sed -e 's/[[(<].*//' -e 's/[[:space:]]//g' | grep . |
        grep -vx 'debhelper-compat' | sort -u >"$T/bd"
is "install-build-deps installs every Build-Depends" "$(comm -13 "$T/ibd" "$T/bd" | tr '\n' ' ')" ""
is "Build-Depends has every package of install-build-deps" "$(comm -23 "$T/ibd" "$T/bd" | tr '\n' ' ')" ""
is "debian/compat level 13" "$(grep -c 'debhelper-compat (= 13)' "$P/debian/control")" "1"

# ---- one version everywhere, and the RPM spec parses -------------------------------------------
ver=$(sed -n 's/^AC_INIT(\[dmarctrace\], \[\([^]]*\)\].*/\1/p' "$S/configure.ac")
is "debian/changelog is at version $ver" "$(sed -n '1s/^dmarctrace (\([^-)]*\)-.*/\1/p' "$P/debian/changelog")" "$ver"
is "rpm spec is at version $ver" "$(sed -n 's/^Version:[[:space:]]*//p' "$P/rpm/dmarctrace.spec")" "$ver"
for page in "$man8" "$man5"; do
        is "$(basename "$page") is at version $ver" "$(sed -n 's/^\.TH .*"dmarctrace \([^"]*\)".*/\1/p' "$page")" "$ver"
done
if command -v rpmspec >/dev/null 2>&1; then
        if out=$(rpmspec -P "$P/rpm/dmarctrace.spec" 2>&1 >/dev/null); then
                ok "rpmspec -P parses the spec"
        else
                fail "rpmspec -P parses the spec" "$out"
        fi
else
        skip "rpmspec -P parses the spec" "rpmspec is not installed"
fi

tap_done
