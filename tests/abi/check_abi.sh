#!/bin/sh
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The libijepa authors
# The ABI gate (run by `make check-abi`): the built shared library against
# the committed baseline (abidw XML; `make abi-baseline` records it), with
# abidiff from abigail-tools.
#
#   abidiff --no-added-syms: any change to a function or variable of the
#   baseline fails, compatible or not: a removed function (abidiff's exit
#   bit 8, "incompatible change"), a changed parameter or return type such
#   as an int64_t narrowed to int32_t (bit 4, "ABI change"), a change of a
#   type a signature reaches. Functions added since the baseline pass, and
#   are listed. Only the public headers' types count (--headers-dir, private
#   types dropped): the layout behind an opaque handle may change.
#
# abidiff compares types through the debug information, so the library
# must be built with -g (as the default CFLAGS do). Enum values are in no
# signature, so abidiff cannot see a renumbering: tests/abi/check_pins.sh
# (make check-pins) guards those.
#
# Usage: check_abi.sh BASELINE LIBRARY        Environment: ABIDIFF.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
base=$1
lib=$2
ABIDIFF=${ABIDIFF:-abidiff}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

if ! command -v "$ABIDIFF" > /dev/null 2>&1; then
    echo "FAIL: $ABIDIFF not found: install abigail-tools (make deps-ci)"
    exit 1
fi
[ -f "$base" ] || { echo "FAIL: no baseline $base (make abi-baseline records one)"; exit 1; }
if ! readelf -S "$lib" | grep -q '\.debug_info'; then
    echo "FAIL: $lib has no debug information: build it with -g in CFLAGS for abidiff"
    exit 1
fi

echo "+ $ABIDIFF --no-added-syms --drop-private-types --headers-dir2 include/ijepa $base $lib"
rc=0
"$ABIDIFF" --no-added-syms --drop-private-types --headers-dir2 include/ijepa "$base" "$lib" \
    > "$tmp/report" 2>&1 || rc=$?
if [ "$rc" -ne 0 ]; then
    cat "$tmp/report"
    why=
    [ $((rc & 1)) -ne 0 ] && why="$why abidiff failed to run;"
    [ $((rc & 2)) -ne 0 ] && why="$why abidiff usage error;"
    [ $((rc & 4)) -ne 0 ] && why="$why the ABI of existing functions changed;"
    [ $((rc & 8)) -ne 0 ] && why="$why incompatible change (a function or variable removed);"
    echo "FAIL: abidiff exit $rc:$why"
    echo "ABI check: FAILED ($lib against $base)"
    exit 1
fi
# what was added since the baseline (compatible): for information
added=$("$ABIDIFF" --drop-private-types --headers-dir2 include/ijepa "$base" "$lib" 2>&1 |
    sed -n "s/^  \[A\] '\(function\|variable\) [^(]* \([a-z_0-9]*\)(.*/\2/p; s/^  \[A\] '\(function\|variable\) .* \([a-z_0-9]*\)'.*/\2/p" | sort -u | tr '\n' ' ' | sed 's/ $//')
echo "ABI check: OK: every function and variable of $base is in $lib with the same ABI${added:+; added since: $added}"
