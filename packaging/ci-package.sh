#!/bin/sh
# ci-package.sh - build the Debian package, install it on this machine, and check what it installed
#
# Run as root on a Debian 12 CI machine (it installs the package for real). Needs, besides
# packaging/install-build-deps: dpkg-dev debhelper lintian (debhelper pulls dh-autoreconf); man-db
# for the man page check. Prints TAP; exits non-zero when a check fails. About half a minute:
# the build skips the test suites (CI runs them on the tree).
#
# Checks: lintian has no errors; the package installs with apt-get; the system user dmarctrace
# exists and is in groups adm and systemd-journal; /etc/dmarctrace/dmarctrace.conf is a conffile
# and `dmarctrace check-config` accepts it, also as user dmarctrace; the unit is installed and
# `systemd-analyze verify` accepts it; the man pages are found by man; `journalctl
# --update-catalog` indexes the catalog and `journalctl --list-catalog` lists every MESSAGE_ID of
# agent/events.h; with a journald (started here when none runs), an event logged with our
# MESSAGE_ID shows our catalog text under `journalctl -x`; a reinstall (the upgrade path of the
# maintainer scripts) succeeds.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck disable=SC2034  # read by tests/lib.sh
DT_SRCDIR=$root
. "$root/tests/lib.sh"

out=$(mktemp -d "${TMPDIR:-/tmp}/dmarctrace-ci-package.XXXXXX")
trap 'stop_journald; rm -rf "$out"' EXIT

if [ "$(id -u)" != 0 ]; then
        echo "Bail out! ci-package.sh installs a package: run it as root"
        exit 1
fi

# 1. build (build-deb.sh runs lintian and fails on its errors)
if "$root/packaging/build-deb.sh" "$out" >"$out/build.log" 2>&1; then
        ok "package builds, lintian shows no errors"
else
        fail "package builds, lintian shows no errors" "$(tail -20 "$out/build.log")"
        echo "Bail out! no package to install"
        tap_done
        exit 1
fi
grep -E '^[WE]: ' "$out/build.log" | sed 's/^/# lintian: /'
deb=$(ls "$out"/dmarctrace_*.deb | head -1)

# 2. install
if DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$deb" >"$out/install.log" 2>&1; then
        ok "apt-get install $(basename "$deb")"
else
        fail "apt-get install $(basename "$deb")" "$(tail -10 "$out/install.log")"
        tap_done
        exit 1
fi
is "package state" "$(dpkg-query -W -f '${Status}' dmarctrace 2>/dev/null)" "install ok installed"

# 3. user and groups
if id dmarctrace >/dev/null 2>&1; then ok "system user dmarctrace exists"; else fail "system user dmarctrace exists"; fi
groups=" $(id -nG dmarctrace 2>/dev/null) "
for g in dmarctrace adm systemd-journal; do
        case "$groups" in
        *" $g "*) ok "dmarctrace is in group $g" ;;
        *) fail "dmarctrace is in group $g" "groups: $groups" ;;
        esac
done
is "dmarctrace has no login shell" "$(getent passwd dmarctrace | cut -d: -f7)" "/usr/sbin/nologin"
is "state directory owned by dmarctrace" "$(stat -c %U:%G /var/lib/dmarctrace 2>/dev/null)" "dmarctrace:dmarctrace"

# 4. configuration
conffiles=$(dpkg-query -W -f '${Conffiles}' dmarctrace)
case "$conffiles" in
*/etc/dmarctrace/dmarctrace.conf*) ok "/etc/dmarctrace/dmarctrace.conf is a conffile" ;;
*) fail "/etc/dmarctrace/dmarctrace.conf is a conffile" "conffiles: $conffiles" ;;
esac
if dmarctrace check-config >"$out/cc" 2>&1; then
        ok "dmarctrace check-config accepts the shipped file"
else
        fail "dmarctrace check-config accepts the shipped file" "$(cat "$out/cc")"
fi
if runuser -u dmarctrace -- dmarctrace check-config >"$out/cc" 2>&1; then
        ok "user dmarctrace can read the configuration"
else
        fail "user dmarctrace can read the configuration" "$(cat "$out/cc")"
fi

# 5. unit
unit=
for d in /lib/systemd/system /usr/lib/systemd/system; do
        [ -f "$d/dmarctrace.service" ] && unit="$d/dmarctrace.service"
done
if [ -n "$unit" ]; then ok "unit installed ($unit)"; else fail "unit installed"; fi
if [ -n "$unit" ] && systemd-analyze verify "$unit" >"$out/verify" 2>&1; then
        ok "systemd-analyze verify dmarctrace.service"
else
        fail "systemd-analyze verify dmarctrace.service" "$(cat "$out/verify")"
fi
if [ -n "$unit" ] && systemd-analyze security --offline=yes "$unit" >"$out/sec" 2>&1; then
        score=$(sed -n 's/.*Overall exposure level for dmarctrace.service: \([0-9.]*\).*/\1/p' "$out/sec")
        if [ -n "$score" ] && awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }'; then
                ok "systemd-analyze security: exposure $score (at most 2.0)"
        else
                fail "systemd-analyze security: exposure at most 2.0" "$(tail -1 "$out/sec")"
        fi
else
        skip "systemd-analyze security" "not available offline here"
fi

# 6. man pages
if command -v man >/dev/null 2>&1; then
        for page in 8:dmarctrace 5:dmarctrace.conf; do
                if man -w "${page%%:*}" "${page#*:}" >/dev/null 2>&1; then
                        ok "man ${page%%:*} ${page#*:} is installed"
                else
                        fail "man ${page%%:*} ${page#*:} is installed"
                fi
        done
else
        for f in /usr/share/man/man8/dmarctrace.8.gz /usr/share/man/man5/dmarctrace.conf.5.gz; do
                if [ -f "$f" ]; then ok "$f installed"; else fail "$f installed"; fi
        done
fi

# 7. catalog
cat=/usr/lib/systemd/catalog/dmarctrace.catalog
if [ -f "$cat" ]; then ok "catalog installed at $cat"; else fail "catalog installed at $cat"; fi
if journalctl --update-catalog >"$out/uc" 2>&1; then
        ok "journalctl --update-catalog"
else
        fail "journalctl --update-catalog" "$(cat "$out/uc")"
fi
journalctl --list-catalog >"$out/list" 2>&1
ids=$(grep -o '"[0-9a-f]\{32\}"' "$root/agent/events.h" | tr -d '"')
missing=
for id in $ids; do
        grep -q "^$id " "$out/list" || missing="$missing $id"
done
if [ -n "$ids" ] && [ -z "$missing" ]; then
        ok "journalctl --list-catalog lists all $(echo $ids | wc -w) dmarctrace MESSAGE_IDs"
else
        fail "journalctl --list-catalog lists every dmarctrace MESSAGE_ID" "missing:$missing"
fi

# 8. journalctl -x shows our text for an event (needs a journald; started here when none runs)
if ensure_journald >"$out/jd"; then
        id=acb2e071211a4f37b25a3664914350c8     # agent-state
        tag="dmarctrace-ci-$$"
        if command -v logger >/dev/null 2>&1 &&
           printf 'MESSAGE_ID=%s\nSYSLOG_IDENTIFIER=%s\nMESSAGE=agent-state: ci probe\nDMARCTRACE_STATE=ready\nDMARCTRACE_VERSION=ci\n' \
                "$id" "$tag" | logger --journald 2>/dev/null; then
                i=0
                while [ $i -lt 30 ]; do
                        journalctl -x -t "$tag" --no-pager >"$out/x" 2>&1
                        grep -q 'The dmarctrace agent (version ci) changed state to' "$out/x" && break
                        sleep 0.2; i=$((i + 1))
                done
                if grep -q 'The dmarctrace agent (version ci) changed state to' "$out/x"; then
                        ok "journalctl -x shows the catalog text, fields filled in"
                else
                        fail "journalctl -x shows the catalog text, fields filled in" "$(head -20 "$out/x")"
                fi
        else
                skip "journalctl -x shows the catalog text" "logger --journald is not available"
        fi
else
        skip "journalctl -x shows the catalog text" "$(cat "$out/jd")"
fi

# 9. the upgrade path of the maintainer scripts (same version, run again)
if DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --reinstall "$deb" >"$out/re.log" 2>&1; then
        ok "reinstall (postinst on an existing user and state)"
else
        fail "reinstall (postinst on an existing user and state)" "$(tail -10 "$out/re.log")"
fi

tap_done
