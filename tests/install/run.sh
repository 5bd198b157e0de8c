#!/bin/sh
# Install test (run by `make check-install`):
#   make install DESTDIR=$tmp PREFIX=/usr, then check the staged files (modes,
#   SONAME, symlinks, no RPATH/RUNPATH, no DESTDIR inside ijepa.pc, nothing
#   recompiled), check that ijepa.pc alone answers pkg-config (no other .pc
#   file visible; --cflags and --libs give only our directories and
#   -lijepa; relocatable with --define-prefix), build tests/install/consumer.c
#   with nothing but pkg-config output (a copy of ijepa.pc with the staged
#   prefix) against the shared library and run it, then again with
#   `pkg-config --static` against libijepa.a, and finally make uninstall and
#   check that no file is left.
# Environment: MAKE (default make), CC (default cc), PKG_CONFIG.
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
PKG_CONFIG=${PKG_CONFIG:-pkg-config}
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
echo "+ $CC -std=c99 -Wall -Wextra -Werror $cflags tests/install/consumer.c -o consumer $libs"
# shellcheck disable=SC2086
if $CC -std=c99 -Wall -Wextra -Werror $cflags tests/install/consumer.c \
        -o "$build/consumer" $libs; then
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
echo "+ $CC -std=c99 -Wall -Wextra -Werror $cflags tests/install/consumer.c -o consumer-static $slibs_a"
# shellcheck disable=SC2086
if $CC -std=c99 -Wall -Wextra -Werror $cflags tests/install/consumer.c \
        -o "$build/consumer-static" $slibs_a; then
    if readelf -d "$build/consumer-static" | grep -q 'NEEDED.*libijepa'; then
        bad "static consumer still depends on libijepa.so"
    fi
    "$build/consumer-static" || bad "static consumer failed"
else
    bad "consumer does not link statically with pkg-config --static"
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
echo "install test: OK: install, shared and static pkg-config consumers, uninstall"
