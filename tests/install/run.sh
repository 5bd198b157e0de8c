#!/bin/sh
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The libijepa authors
# Install test (run by `make check-install`):
#   make install DESTDIR=$tmp PREFIX=/usr, then check the staged files (modes,
#   SONAME, symlinks, no RPATH/RUNPATH, no DESTDIR inside ijepa.pc, nothing
#   recompiled), check that ijepa.pc alone answers pkg-config (no other .pc
#   file visible; --cflags and --libs give only our directories and
#   -lijepa; relocatable with --define-prefix), build tests/install/consumer.c
#   with nothing but pkg-config output (a copy of ijepa.pc with the staged
#   prefix) against the shared library and run it, then again with
#   `pkg-config --static` against libijepa.a; check the tools (no RPATH or
#   RUNPATH; with only the staged library on LD_LIBRARY_PATH they answer
#   --version and train, extract and probe on a folder of pictures), the man
#   pages (version filled in, they format), the Python binding (it imports
#   from the staged pythondir and loads the staged library through the
#   loader) and the docs (the installed examples/features.c builds with
#   pkg-config and runs); that pythondir defaults to a directory Debian's
#   python3 searches for prefix /usr/local too; and finally make uninstall
#   and check that no file is left.
# Environment: MAKE (default make), CC (default cc), CFLAGS, CPPFLAGS and
# LDFLAGS (the consumers are built with them, as a user builds), PKG_CONFIG, PYTHON
# (default /usr/bin/python3; the Python checks skip without it or numpy),
# PHOTOS (the picture generator, tests/examples/photos.c).
set -eu

# The Makefile calls this from a recipe line that names $(MAKE), so make runs
# it even under `make -n`: do nothing then (single-letter flags such as "n"
# form the first word of MAKEFLAGS).
# shellcheck disable=SC2086
set -- ${MAKEFLAGS:-}
case ${1:-} in
    -*) ;;
    *n*) echo "install test: skipped (make -n)"; exit 0 ;;
esac

top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
MAKE=${MAKE:-make}
CC=${CC:-cc}
CFLAGS=${CFLAGS:-}
CPPFLAGS=${CPPFLAGS:-}
LDFLAGS=${LDFLAGS:-}
PKG_CONFIG=${PKG_CONFIG:-pkg-config}
PYTHON=${PYTHON:-/usr/bin/python3}
PHOTOS=${PHOTOS:-build/release/tests/examples/photos}
unset LD_LIBRARY_PATH IJEPA_LIBRARY PYTHONPATH
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
stage=$tmp/stage
build=$tmp/build
mkdir -p "$stage" "$build"

fail=0
bad() { echo "FAIL: $*"; fail=1; }
die() { echo "FAIL: $*"; echo "install test: FAILED"; exit 1; }

major=$(sed -n 's/^#[[:space:]]*define[[:space:]]*IJEPA_VERSION_MAJOR[[:space:]]*\([0-9]*\).*/\1/p' include/ijepa/version.h)
minor=$(sed -n 's/^#[[:space:]]*define[[:space:]]*IJEPA_VERSION_MINOR[[:space:]]*\([0-9]*\).*/\1/p' include/ijepa/version.h)
patch=$(sed -n 's/^#[[:space:]]*define[[:space:]]*IJEPA_VERSION_PATCH[[:space:]]*\([0-9]*\).*/\1/p' include/ijepa/version.h)
version=$major.$minor.$patch
libdir=$stage/usr/lib
real=$libdir/libijepa.so.$version

# --- install -------------------------------------------------------------
echo "+ $MAKE install DESTDIR=$stage PREFIX=/usr"
$MAKE --no-print-directory install DESTDIR="$stage" PREFIX=/usr > "$tmp/install.log" 2>&1 ||
    { cat "$tmp/install.log"; die "make install failed"; }
cat "$tmp/install.log"
if grep -E -e '(^|[[:space:]])-c[[:space:]]' "$tmp/install.log" >/dev/null; then
    bad "make install compiled something: installing must only copy the built files"
fi

for f in "$real" "$libdir/libijepa.a" "$libdir/pkgconfig/ijepa.pc"; do
    [ -f "$f" ] || bad "not installed: ${f#"$stage"}"
done
for h in include/ijepa/*.h; do
    [ -f "$stage/usr/include/ijepa/${h##*/}" ] || bad "header not installed: $h"
done
[ "$(readlink "$libdir/libijepa.so.$major" || true)" = "libijepa.so.$version" ] ||
    bad "libijepa.so.$major is not a symlink to libijepa.so.$version"
[ "$(readlink "$libdir/libijepa.so" || true)" = "libijepa.so.$major" ] ||
    bad "libijepa.so is not a symlink to libijepa.so.$major"
for f in "$libdir/libijepa.a" "$libdir/pkgconfig/ijepa.pc" "$stage"/usr/include/ijepa/*.h; do
    [ -f "$f" ] || continue
    mode=$(stat -c %a "$f")
    [ "$mode" = 644 ] || bad "${f#"$stage"} has mode $mode, expected 644"
done

# --- the shared library's dynamic section ---------------------------------
if [ -f "$real" ]; then
    soname=$(objdump -p "$real" | awk '$1 == "SONAME" { print $2 }')
    [ "$soname" = "libijepa.so.$major" ] || bad "SONAME is '$soname', expected libijepa.so.$major"
    if readelf -d "$real" | grep -E 'RPATH|RUNPATH'; then
        bad "the library carries an RPATH/RUNPATH"
    fi
fi

# --- pkg-config file ---------------------------------------------------------
pc=$libdir/pkgconfig/ijepa.pc
if [ -f "$pc" ]; then
    if grep -F "$stage" "$pc" >/dev/null; then
        bad "ijepa.pc contains the DESTDIR path"
    fi
    grep -q '^prefix=/usr$' "$pc" || bad "ijepa.pc: prefix is not /usr"
    grep -q "^Version: $version\$" "$pc" || bad "ijepa.pc: Version is not $version"
fi
# The consumer builds use a copy of ijepa.pc whose prefix points into the
# stage, and PKG_CONFIG_LIBDIR names that copy's directory only: no system
# .pc file is visible, so ijepa.pc must not need any (no Requires, no
# Requires.private on zlib, libpng16, jansson or libturbojpeg).
mkdir -p "$tmp/pc"
sed "s|^prefix=/usr\$|prefix=$stage/usr|" "$pc" > "$tmp/pc/ijepa.pc"
pc_run() { PKG_CONFIG_LIBDIR=$tmp/pc PKG_CONFIG_PATH='' $PKG_CONFIG "$@"; }
norm() { printf '%s\n' "$1" | sed 's/[[:space:]][[:space:]]*/ /g; s/^ //; s/ $//'; }
pc_run --validate ijepa || bad "pkg-config --validate ijepa"
[ "$(pc_run --modversion ijepa)" = "$version" ] || bad "pkg-config --modversion is not $version"
cflags=$(pc_run --cflags ijepa) || die "pkg-config --cflags ijepa failed with only ijepa.pc visible"
libs=$(pc_run --libs ijepa) || die "pkg-config --libs ijepa failed with only ijepa.pc visible"
slibs=$(pc_run --static --libs ijepa) || die "pkg-config --static --libs ijepa failed with only ijepa.pc visible"
echo "pkg-config --cflags:        $cflags"
echo "pkg-config --libs:          $libs"
echo "pkg-config --static --libs: $slibs"
# what a consumer gets: our include directory, -lijepa, nothing else
[ "$(norm "$cflags")" = "-I$stage/usr/include" ] ||
    bad "--cflags is '$cflags', expected only -I$stage/usr/include"
[ "$(norm "$libs")" = "-L$stage/usr/lib -lijepa" ] ||
    bad "--libs is '$libs', expected only -L$stage/usr/lib -lijepa"
for f in --print-requires --print-requires-private; do
    r=$(pc_run $f ijepa) || bad "pkg-config $f ijepa failed"
    [ -z "$r" ] || bad "ijepa.pc requires other packages ($f): $r"
done
# the installed file is relocatable as it is: --define-prefix from its own place
dp=$(PKG_CONFIG_LIBDIR=$libdir/pkgconfig PKG_CONFIG_PATH='' $PKG_CONFIG --define-prefix --cflags --libs ijepa) ||
    bad "pkg-config --define-prefix on the staged ijepa.pc failed"
case $dp in
    *"-I$stage/usr/include"*"-L$stage/usr/lib -lijepa"*) ;;
    *) bad "pkg-config --define-prefix gives '$dp', not the stage's directories" ;;
esac

# --- consumer, shared --------------------------------------------------------
# pkg-config output is a list of words: split it on purpose below.
echo "+ $CC -std=c99 -Wall -Wextra -Werror $CPPFLAGS $CFLAGS $cflags tests/install/consumer.c -o consumer $LDFLAGS $libs"
# shellcheck disable=SC2086
if $CC -std=c99 -Wall -Wextra -Werror $CPPFLAGS $CFLAGS $cflags tests/install/consumer.c \
        -o "$build/consumer" $LDFLAGS $libs; then
    if readelf -d "$build/consumer" | grep -q "NEEDED.*libijepa.so.$major"; then :; else
        bad "shared consumer does not depend on libijepa.so.$major"
    fi
    LD_LIBRARY_PATH=$libdir "$build/consumer" || bad "shared consumer failed"
else
    bad "consumer does not build against the staged install"
fi

# --- consumer, static ----------------------------------------------------------
# libijepa.so sits next to libijepa.a, so -lijepa would pick the .so: ask the
# linker for the archive by name. Everything else comes from Libs.private.
slibs_a=$(printf '%s\n' "$slibs" | sed 's/-lijepa\([[:space:]]\|$\)/-l:libijepa.a\1/')
echo "+ $CC -std=c99 -Wall -Wextra -Werror $CPPFLAGS $CFLAGS $cflags tests/install/consumer.c -o consumer-static $LDFLAGS $slibs_a"
# shellcheck disable=SC2086
if $CC -std=c99 -Wall -Wextra -Werror $CPPFLAGS $CFLAGS $cflags tests/install/consumer.c \
        -o "$build/consumer-static" $LDFLAGS $slibs_a; then
    if readelf -d "$build/consumer-static" | grep -q 'NEEDED.*libijepa'; then
        bad "static consumer still depends on libijepa.so"
    fi
    "$build/consumer-static" || bad "static consumer failed"
else
    bad "consumer does not link statically with pkg-config --static"
fi

# --- the tools -------------------------------------------------------------------
bindir=$stage/usr/bin
tools="ijepa-train ijepa-extract ijepa-probe"
for t in $tools; do
    f=$bindir/$t
    [ -f "$f" ] || { bad "not installed: /usr/bin/$t"; continue; }
    [ "$(stat -c %a "$f")" = 755 ] || bad "/usr/bin/$t has mode $(stat -c %a "$f"), expected 755"
    readelf -d "$f" | grep -E -q '\((RPATH|RUNPATH)\)' && bad "/usr/bin/$t carries an RPATH or RUNPATH"
    out=$(LD_LIBRARY_PATH=$libdir "$f" --version 2>&1) || bad "/usr/bin/$t --version failed: $out"
    [ "$(printf '%s\n' "$out" | head -n 1)" = "$t (libijepa) $version" ] ||
        bad "/usr/bin/$t --version: $(printf '%s\n' "$out" | head -n 1)"
    LD_LIBRARY_PATH=$libdir ldd "$f" | grep -q "libijepa.so.$major => $libdir/libijepa.so.$major" ||
        bad "/usr/bin/$t does not load the staged library: $(LD_LIBRARY_PATH=$libdir ldd "$f" | grep ijepa)"
done
for t in ijepa-demo ijepa-features; do
    [ -e "$bindir/$t" ] && bad "$t is installed (it stays in the source tree)"
done
# a run on a folder of pictures with the staged files only
if [ -x "$PHOTOS" ] && "$PHOTOS" "$tmp/photos"; then
    run_staged() { LD_LIBRARY_PATH=$libdir OMP_NUM_THREADS=1 "$bindir/$@"; }
    small='--set img_size=32 --set patch_size=4 --set min_keep=1 --set embed_dim=32 --set depth=1 --set num_heads=2 --set pred_embed_dim=16 --set pred_depth=1 --set pred_num_heads=2'
    # shellcheck disable=SC2086 # $small is a list of options
    run_staged ijepa-train --data "$tmp/photos" --preset folder $small --batch 8 --steps 2 --quiet \
        --out "$tmp/run" > "$tmp/log" 2>&1 || bad "staged ijepa-train --data failed: $(cat "$tmp/log")"
    run_staged ijepa-extract --run "$tmp/run" --data "$tmp/photos" --out "$tmp/f.npy" > "$tmp/log" 2>&1 &&
        [ "$(wc -l < "$tmp/f.txt")" -eq 30 ] || bad "staged ijepa-extract --data failed: $(cat "$tmp/log")"
    run_staged ijepa-probe --run "$tmp/run" --data "$tmp/photos" > "$tmp/log" 2>&1 &&
        grep -q '3 classes, 24 training images, 6 test images' "$tmp/log" ||
        bad "staged ijepa-probe --data failed: $(cat "$tmp/log")"
else
    bad "no pictures for the staged tools ($PHOTOS)"
fi

# --- man pages -----------------------------------------------------------------------
for page in man1/ijepa-train.1 man1/ijepa-extract.1 man1/ijepa-probe.1 man3/libijepa.3; do
    f=$stage/usr/share/man/$page
    [ -f "$f" ] || { bad "not installed: /usr/share/man/$page"; continue; }
    [ "$(stat -c %a "$f")" = 644 ] || bad "/usr/share/man/$page has mode $(stat -c %a "$f")"
    grep -q '@VERSION@' "$f" && bad "/usr/share/man/$page: @VERSION@ was not filled in"
    grep -q "^\.TH .*\"libijepa $version\"" "$f" || bad "/usr/share/man/$page: no 'libijepa $version' in .TH"
    MANWIDTH=80 man -l "$f" > /dev/null 2>&1 || bad "/usr/share/man/$page does not format"
done

# --- Python --------------------------------------------------------------------------
pydir=$stage/usr/lib/python3/dist-packages
for m in ijepa.py ijepa_convert.py; do
    [ -f "$pydir/$m" ] || bad "not installed: /usr/lib/python3/dist-packages/$m"
    [ -f "$pydir/$m" ] && [ "$(stat -c %a "$pydir/$m")" != 644 ] && bad "$m has mode $(stat -c %a "$pydir/$m")"
done
if command -v "$PYTHON" > /dev/null 2>&1 && "$PYTHON" -c 'import numpy' > /dev/null 2>&1; then
    # from a directory without ijepa.py; the library through the loader
    out=$(cd "$tmp" && LD_LIBRARY_PATH=$libdir PYTHONPATH=$pydir PYTHONDONTWRITEBYTECODE=1 "$PYTHON" -c '
import ijepa, ijepa_convert
print(ijepa.version(), ijepa.__file__, ijepa_convert.__file__)
print([l.split()[-1] for l in open("/proc/self/maps") if "libijepa.so" in l][0])' 2>&1) ||
        bad "the staged Python binding does not import: $out"
    case $out in
        "$version $pydir/ijepa.py $pydir/ijepa_convert.py
$libdir/libijepa.so.$version") ;;
        *) bad "the staged Python binding: unexpected '$out'" ;;
    esac
else
    echo "SKIPPED: importing the staged Python binding ($PYTHON with numpy not available)"
fi

# --- docs ------------------------------------------------------------------------------
docdir=$stage/usr/share/doc/libijepa
for f in README.md CHANGELOG.md CITATION.cff LICENSE docs/architecture.md docs/checkpoint.md \
         docs/python.md examples/features.c; do
    [ -f "$docdir/$f" ] || bad "not installed: /usr/share/doc/libijepa/$f"
done
# the README's program, as a user builds it from the installed docs
# shellcheck disable=SC2086
if $CC -std=c11 -Wall -Wextra -Werror $CPPFLAGS $CFLAGS $cflags "$docdir/examples/features.c" \
        -o "$build/features" $LDFLAGS $libs; then
    if [ -f "$tmp/run/checkpoint.safetensors" ]; then
        LD_LIBRARY_PATH=$libdir "$build/features" "$(head -n 1 "$tmp/f.txt")" \
            "$tmp/run/checkpoint.safetensors" > "$tmp/log" 2>&1 &&
            grep -q '^64 tokens x 32 features' "$tmp/log" || bad "the installed features.c: $(cat "$tmp/log")"
    fi
else
    bad "the installed examples/features.c does not build with pkg-config"
fi

# --- pythondir for prefix /usr/local: where Debian's python3 looks ---------------------
if command -v "$PYTHON" > /dev/null 2>&1; then
    $MAKE --no-print-directory install-python DESTDIR="$tmp/local" prefix=/usr/local PYTHON="$PYTHON" \
        > "$tmp/log" 2>&1 || bad "make install-python prefix=/usr/local failed: $(cat "$tmp/log")"
    f=$(cd "$tmp/local" && find . -name ijepa.py | sed 's/^\.//')
    d=${f%/ijepa.py}
    "$PYTHON" -c 'import sys; sys.exit(0 if sys.argv[1] in sys.path else 1)' "$d" ||
        bad "with prefix=/usr/local, pythondir is $d, which $PYTHON does not search"
    $MAKE --no-print-directory uninstall DESTDIR="$tmp/local" prefix=/usr/local PYTHON="$PYTHON" > /dev/null 2>&1
    [ -z "$(find "$tmp/local" ! -type d)" ] || bad "uninstall prefix=/usr/local left files"
fi

# --- uninstall -----------------------------------------------------------------
echo "+ $MAKE uninstall DESTDIR=$stage PREFIX=/usr"
$MAKE --no-print-directory uninstall DESTDIR="$stage" PREFIX=/usr || bad "make uninstall failed"
left=$(find "$stage" ! -type d)
if [ -n "$left" ]; then
    bad "files left after make uninstall:"
    printf '%s\n' "$left" | sed 's/^/    /'
fi

if [ "$fail" -ne 0 ]; then
    echo "install test: FAILED"
    exit 1
fi
echo "install test: OK: install, shared and static pkg-config consumers, the tools on pictures, man pages, Python binding, docs (features.c builds), uninstall"
