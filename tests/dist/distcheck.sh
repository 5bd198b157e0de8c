#!/bin/sh
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The libijepa authors
# make distcheck: what a packager does with the release tarball, checked.
#   1. unpack TARBALL into a temporary directory and record every file with
#      its checksum;
#   2. `make dist` there fails with a clear message (no git checkout);
#   3. build (make -jJOBS) and `make check` with IJEPA_NO_DEPS=1, as a
#      package build does: offline, with the packages already there, and
#      without Fashion-MNIST (IJEPA_FMNIST_DIR names an empty directory),
#      so the tests that need it take their skips; DISTCHECK_FMNIST=DIR
#      uses a data set instead;
#   4. make install into a DESTDIR (prefix /usr), check that the main files
#      are there, make uninstall, check that no file is left;
#   5. the tree is as unpacked, apart from build products: after make clean,
#      every unpacked file has its checksum and no other file or directory
#      is there.
# Usage: distcheck.sh TARBALL        Environment: MAKE, JOBS (default 2),
# DISTCHECK_FMNIST, DISTCHECK_KEEP=1 (keep the directory for a look).
set -eu
tarball=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
MAKE=${MAKE:-make}
JOBS=${JOBS:-2}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ijepa-distcheck.XXXXXX")
if [ "${DISTCHECK_KEEP:-}" = 1 ]; then
    trap 'echo "distcheck: kept $tmp"' EXIT
else
    trap 'chmod -R u+w "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT INT TERM
fi
start=$(date +%s)
fail=0
bad() { echo "distcheck: FAIL: $*"; fail=1; }
die() { echo "distcheck: FAIL: $*"; echo "distcheck: FAILED"; exit 1; }
step() { echo; echo "=== distcheck: $* (t=$(( $(date +%s) - start ))s)"; }
# the tree's own environment must not leak into the package build
unset IJEPA_LIBRARY LD_LIBRARY_PATH PYTHONPATH MAKEFLAGS MFLAGS

step "unpack $tarball"
tar -xzf "$tarball" -C "$tmp"
name=$(basename "$tarball" .tar.gz)
src=$tmp/$name
[ -d "$src" ] || die "$tarball does not unpack into $name/"
( cd "$src" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum ) > "$tmp/files.sha256"
( cd "$src" && find . \( -type f -o -type d -o -type l \) | LC_ALL=C sort ) > "$tmp/entries"
echo "$(wc -l < "$tmp/files.sha256") files"

step "make dist outside a git checkout"
if ( cd "$src" && GIT_DIR=/nonexistent $MAKE --no-print-directory dist ) > "$tmp/dist.log" 2>&1; then
    bad "make dist succeeded without git"
elif ! grep -q 'git checkout' "$tmp/dist.log"; then
    bad "make dist without git: unclear message: $(cat "$tmp/dist.log")"
fi

step "build (IJEPA_NO_DEPS=1, make -j$JOBS)"
cd "$src"
export IJEPA_NO_DEPS=1
if [ -n "${DISTCHECK_FMNIST:-}" ]; then
    export IJEPA_FMNIST_DIR="$DISTCHECK_FMNIST"
else
    mkdir -p "$tmp/no-fashion-mnist"
    export IJEPA_FMNIST_DIR="$tmp/no-fashion-mnist"
fi
$MAKE --no-print-directory -j"$JOBS" > "$tmp/build.log" 2>&1 || { tail -n 30 "$tmp/build.log"; die "make failed"; }

step "make check (Fashion-MNIST: $IJEPA_FMNIST_DIR)"
$MAKE --no-print-directory check > "$tmp/check.log" 2>&1 || { tail -n 60 "$tmp/check.log"; die "make check failed"; }
grep -E '(tests|test): OK|^[0-9]+%: Checks|^Ran |^OK|SKIPPED' "$tmp/check.log" | sed 's/^/    /'

step "make install / uninstall (DESTDIR, prefix /usr)"
stage=$tmp/stage
$MAKE --no-print-directory install DESTDIR="$stage" prefix=/usr > "$tmp/install.log" 2>&1 ||
    { cat "$tmp/install.log"; die "make install failed"; }
grep -E '(^|[[:space:]])-c[[:space:]]' "$tmp/install.log" > /dev/null && bad "make install compiled something"
for f in usr/lib/libijepa.so.0 usr/include/ijepa/ijepa.h usr/lib/pkgconfig/ijepa.pc usr/bin/ijepa-train \
         usr/share/man/man1/ijepa-train.1 usr/share/man/man3/libijepa.3 \
         usr/lib/python3/dist-packages/ijepa.py usr/share/doc/libijepa/README.md; do
    [ -e "$stage/$f" ] || bad "make install did not install /$f"
done
echo "$(find "$stage" ! -type d | wc -l) files installed"
$MAKE --no-print-directory uninstall DESTDIR="$stage" prefix=/usr > "$tmp/uninstall.log" 2>&1 ||
    { cat "$tmp/uninstall.log"; bad "make uninstall failed"; }
left=$(find "$stage" ! -type d)
[ -z "$left" ] || { bad "files left after make uninstall:"; printf '    %s\n' $left; }

step "the tree: sources unchanged, nothing but build products added"
sha256sum --quiet -c "$tmp/files.sha256" > "$tmp/sums.log" 2>&1 ||
    { bad "unpacked files changed or vanished:"; sed 's/^/    /' "$tmp/sums.log"; }
$MAKE --no-print-directory clean > /dev/null 2>&1 || bad "make clean failed"
find . \( -type f -o -type d -o -type l \) | LC_ALL=C sort > "$tmp/entries.after"
if ! cmp -s "$tmp/entries" "$tmp/entries.after"; then
    bad "after make clean the tree differs from the tarball (> left behind, < missing):"
    diff "$tmp/entries" "$tmp/entries.after" | grep '^[<>]' | head -n 40 | sed 's/^/    /'
fi
cd /

if [ "$fail" -ne 0 ]; then
    echo "distcheck: FAILED"
    exit 1
fi
echo
echo "distcheck: OK: $name.tar.gz builds, passes make check, installs and uninstalls cleanly, and leaves its tree as unpacked ($(( $(date +%s) - start )) s)"
