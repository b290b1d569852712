#!/bin/sh
# build-deb.sh - build the Debian package from a clean copy of the tree, then run lintian
#
# Usage: packaging/build-deb.sh [--with-tests] [OUTDIR]
#
# The copy holds the files git knows or would add (tracked, plus untracked ones .gitignore does not
# exclude), so nothing built in the working tree leaks into the package; without git, the tree
# minus the usual build products. packaging/debian becomes debian/ in the copy, and
# `dpkg-buildpackage -us -uc -b` builds there. The test suites are skipped (DEB_BUILD_OPTIONS
# nocheck) unless --with-tests: they need ../shared/corpus and a journald, and CI runs them on
# the tree itself. The .deb, .buildinfo and .changes land in OUTDIR (default build-deb/ in the
# tree). lintian then prints every tag; the script fails on lintian errors, not on warnings.
#
# Needs (Debian 12): dpkg-dev, debhelper (pulls dh-autoreconf), lintian, fakeroot is not needed
# (Rules-Requires-Root: no), and the Build-Depends of packaging/debian/control
# (packaging/install-build-deps installs them).
# Exit status: 0 built and lintian-clean, 1 the build or lintian failed, 2 usage error.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
with_tests=no
out=

for arg in "$@"; do
        case "$arg" in
        --with-tests) with_tests=yes ;;
        -h | --help)
                sed -n '2,/^set -eu/p' "$0" | sed -e '/^set -eu/d' -e 's/^# \{0,1\}//'
                exit 0
                ;;
        -*) echo "build-deb.sh: unknown option $arg" >&2; exit 2 ;;
        *) out=$arg ;;
        esac
done
out=${out:-$root/build-deb}

for tool in dpkg-buildpackage dh lintian; do
        if ! command -v "$tool" >/dev/null 2>&1; then
                echo "build-deb.sh: $tool is missing (apt-get install dpkg-dev debhelper lintian)" >&2
                exit 1
        fi
done

work=$(mktemp -d "${TMPDIR:-/tmp}/dmarctrace-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
src="$work/dmarctrace"
mkdir -p "$src"

# 1. the clean copy
if git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        (cd "$root" && git ls-files -z --cached --others --exclude-standard |
                xargs -0 tar -cf - --no-recursion --) | tar -xf - -C "$src"
else
        (cd "$root" && tar -cf - --exclude=.git --exclude='*.o' --exclude='*.a' --exclude=.deps \
                --exclude=.dirstamp --anchored --exclude=./autom4te.cache --exclude='./build-*' \
                --exclude=./Makefile --exclude=./Makefile.in --exclude='./configure' \
                --exclude='./configure~' --exclude='./config.*' --exclude=./aclocal.m4 \
                --exclude=./stamp-h1 --exclude=./dmarctrace --exclude=./demo .) | tar -xf - -C "$src"
fi
rm -rf "$src/debian"
cp -R "$src/packaging/debian" "$src/debian"
chmod +x "$src/debian/rules"

# 2. the build
opts=${DEB_BUILD_OPTIONS:-}
[ "$with_tests" = yes ] || opts="nocheck $opts"
jobs=$(nproc 2>/dev/null || echo 2)
echo "build-deb.sh: building in $src (DEB_BUILD_OPTIONS=\"$opts parallel=$jobs\")"
if ! (cd "$src" && DEB_BUILD_OPTIONS="$opts parallel=$jobs" dpkg-buildpackage -us -uc -b) \
        >"$work/build.log" 2>&1; then
        tail -40 "$work/build.log"
        echo "build-deb.sh: dpkg-buildpackage failed (last 40 lines above)" >&2
        exit 1
fi

mkdir -p "$out"
for f in "$work"/*.deb "$work"/*.buildinfo "$work"/*.changes; do
        [ -e "$f" ] && cp "$f" "$out/"
done
changes=$(ls "$work"/*.changes)
echo "build-deb.sh: built $(cd "$work" && ls ./*.deb | sed 's#^\./##' | tr '\n' ' ')in $out"

# 3. lintian: every tag shown, errors fail
rc=0
lintian --fail-on error --display-info --tag-display-limit 0 "$changes" >"$work/lintian.log" 2>&1 || rc=$?
if [ -s "$work/lintian.log" ]; then
        cat "$work/lintian.log"
fi
if [ $rc -ne 0 ]; then
        echo "build-deb.sh: lintian reports errors:" >&2
        grep '^E: ' "$work/lintian.log" >&2 || true
        exit 1
fi
echo "build-deb.sh: lintian: no errors ($(grep -c '^W: ' "$work/lintian.log" || true) warnings)"
