#!/bin/sh
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The libijepa authors
# Manual page checks (run by `make check-man`):
#   1. every page in man/ formats without a warning, as lintian formats it
#      (man --warnings with groff, MANWIDTH=80), and, when mandoc is
#      installed, passes `mandoc -T lint` at warning level; @VERSION@ is the
#      only placeholder (make install puts the version there);
#   2. every tool that `make install` installs (TOOLS) has a section-1
#      page, and no page describes a tool that is not installed;
#   3. the options a page lists (the tags of its OPTIONS section) are
#      exactly those the tool's --help lists, and the page documents the
#      exit statuses 0, 1 and 2;
#   4. the program in libijepa(3) compiles with -Wall -Wextra -Werror against
#      the public headers and links with the library.
# Environment: TOOLS (the installed programs' names), CC, CPPFLAGS, CFLAGS,
# LDFLAGS, VERSION.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
CC=${CC:-cc}
TOOLS=${TOOLS:-ijepa-train ijepa-extract ijepa-probe}
VERSION=${VERSION:-0}
fail=0
bad() { echo "FAIL: $*"; fail=1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
unset LD_LIBRARY_PATH

# --- 1. formatting ---------------------------------------------------------------
npages=0
for page in man/*.[0-9]; do
    npages=$((npages + 1))
    name=${page#man/}
    grep -q '@VERSION@' "$page" || bad "$page has no @VERSION@ in its .TH line"
    sed "s/@VERSION@/$VERSION/g" "$page" > "$tmp/$name"
    grep -n '@[A-Z_]*@' "$tmp/$name" && bad "$page: a placeholder other than @VERSION@"
    LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z "$tmp/$name" \
        > /dev/null 2> "$tmp/warn" || bad "$page: man failed"
    [ -s "$tmp/warn" ] && { bad "$page: groff warns:"; cat "$tmp/warn"; }
    if command -v mandoc > /dev/null 2>&1; then
        mandoc -T lint -W warning "$tmp/$name" > "$tmp/warn" 2>&1 || { bad "$page: mandoc -T lint:"; cat "$tmp/warn"; }
    fi
done
command -v mandoc > /dev/null 2>&1 || echo "SKIPPED: mandoc -T lint (mandoc is not installed)"
[ -f man/libijepa.3 ] || bad "no man/libijepa.3"

# --- 2. one page per installed tool -------------------------------------------------
for t in $TOOLS; do
    [ -f "man/$t.1" ] || bad "$t is installed but has no man/$t.1"
done
for page in man/*.1; do
    t=${page#man/}
    t=${t%.1}
    case " $TOOLS " in *" $t "*) ;; *) bad "$page describes $t, which make install does not install" ;; esac
done

# --- 3. the pages' options are the tools' -----------------------------------------
for t in $TOOLS; do
    [ -f "man/$t.1" ] && [ -x "examples/$t" ] || continue
    # the options --help describes: its lines that start with one
    "examples/$t" --help | sed -n 's/^  \(--[a-z][a-z-]*\).*/\1/p' | sort -u > "$tmp/help-opts"
    # the tag after each .TP of the OPTIONS section
    awk '/^\.SH /{ on = ($2 == "OPTIONS") } on && tp { print; tp = 0 } /^\.TP/{ tp = 1 }' "man/$t.1" |
        sed 's/\\-/-/g' | grep -o -E -e '--[a-z][a-z-]*' | sort -u > "$tmp/man-opts"
    if ! cmp -s "$tmp/help-opts" "$tmp/man-opts"; then
        bad "$t: --help and man/$t.1 list different options (< --help only, > man page only):"
        diff "$tmp/help-opts" "$tmp/man-opts" | grep '^[<>]'
    fi
    for code in 0 1 2; do
        awk '/^\.SH /{ on = ($2 == "EXIT") } on' "man/$t.1" | grep -q "^\.B $code\$" ||
            bad "man/$t.1: exit status $code is not documented"
    done
done

# --- 4. libijepa(3)'s program ---------------------------------------------------------
awk '/^\.EX/{ on = 1; next } /^\.EE/{ on = 0 } on' man/libijepa.3 |
    sed -e 's/\\e/\\/g' -e 's/\\-/-/g' > "$tmp/example.c"
if [ -s "$tmp/example.c" ]; then
    # shellcheck disable=SC2086 # the flags are lists of words
    $CC -std=c11 -Wall -Wextra -Werror -pedantic ${CPPFLAGS:-} ${CFLAGS:-} -Iinclude "$tmp/example.c" \
        -o "$tmp/example" ${LDFLAGS:-} -Llib -lijepa > "$tmp/cc.log" 2>&1 || { bad "libijepa(3)'s program does not build:"; cat "$tmp/cc.log"; }
else
    bad "libijepa(3) has no program (.EX block)"
fi

if [ "$fail" -ne 0 ]; then
    echo "man page tests: FAILED"
    exit 1
fi
echo "man page tests: OK: $npages pages format cleanly, one per installed tool ($TOOLS) with its --help options and exit statuses, libijepa(3)'s program builds"
