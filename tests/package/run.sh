#!/bin/sh
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The libijepa authors
# Package the release tarball as a Debian maintainer would, and lint it
# (run by `make check-package`; not part of make check: it builds the whole
# tree once more and runs make check inside the package build).
#
#   1. the tarball (TARBALL, default: make dist's) becomes
#      libijepa_VERSION.orig.tar.gz in a temporary directory and is
#      unpacked; a debian/ directory is written there (nothing of it is in
#      the tree): libijepa0 (the shared library, with a symbols file made
#      by dpkg-gensymbols from the built library), libijepa-dev (headers,
#      static library, libijepa.so, ijepa.pc, libijepa(3), the docs),
#      ijepa-tools (the three tools and their pages) and python3-ijepa (the
#      binding, through dh_python3), with dpkg-buildflags' hardening=+all;
#   2. dpkg-buildpackage -us -uc -b builds them (dh_auto_test runs make
#      check with IJEPA_NO_DEPS=1, without Fashion-MNIST);
#   3. lintian -I --pedantic on the .changes: any E: or W: tag fails;
#      I: and P: tags are listed; blhc checks the build log for missing
#      hardening flags, hardening-check the installed ELF files.
#
# Usage: run.sh [TARBALL]      Environment: KEEP=1 keeps the directory.
# Needs: debhelper, dh-python, dpkg-dev, lintian, devscripts, blhc and the
# build dependencies (all in DEB_PACKAGES and DEB_PACKAGES_CI of the Makefile).
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
MAKE=${MAKE:-make}
tarball=${1:-}
if [ -z "$tarball" ]; then
    $MAKE --no-print-directory dist
    tarball=$(ls -t libijepa-*.tar.gz | head -n 1)
fi
tarball=$(cd "$(dirname "$tarball")" && pwd)/$(basename "$tarball")
version=$(basename "$tarball" .tar.gz)
version=${version#libijepa-}
for tool in dpkg-buildpackage dh lintian blhc hardening-check dpkg-gensymbols; do
    command -v "$tool" > /dev/null 2>&1 ||
        { echo "check-package: $tool is missing (apt-get install debhelper dh-python lintian devscripts blhc)"; exit 1; }
done
[ -f /usr/share/perl5/Debian/Debhelper/Sequence/python3.pm ] ||
    { echo "check-package: dh-python is missing (apt-get install dh-python)"; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ijepa-package.XXXXXX")
if [ "${KEEP:-}" = 1 ]; then
    trap 'echo "check-package: kept $tmp"' EXIT
else
    trap 'rm -rf "$tmp"' EXIT INT TERM
fi
start=$(date +%s)
step() { echo; echo "=== check-package: $* (t=$(( $(date +%s) - start ))s)"; }
unset IJEPA_LIBRARY LD_LIBRARY_PATH PYTHONPATH MAKEFLAGS MFLAGS

step "unpack $tarball as libijepa_$version.orig.tar.gz"
cp "$tarball" "$tmp/libijepa_$version.orig.tar.gz"
tar -xzf "$tmp/libijepa_$version.orig.tar.gz" -C "$tmp"
src=$tmp/libijepa-$version
[ -d "$src" ] || { echo "check-package: $tarball does not unpack into libijepa-$version/"; exit 1; }

# --- debian/ ------------------------------------------------------------------
step "write debian/"
mkdir -p "$src/debian/source"
d=$src/debian
echo "3.0 (quilt)" > "$d/source/format"
date=$(date -R)
cat > "$d/changelog" <<CHANGELOG
libijepa ($version-1) unstable; urgency=medium

  * Package built from the upstream release tarball by tests/package/run.sh,
    to lint it; not uploaded anywhere.

 -- libijepa packaging test <packaging-test@example.org>  $date
CHANGELOG
cat > "$d/control" <<'CONTROL'
Source: libijepa
Section: libs
Priority: optional
Maintainer: libijepa packaging test <packaging-test@example.org>
Build-Depends: debhelper-compat (= 13),
               dh-python,
               pkg-config,
               libdnnl-dev,
               libpng-dev,
               libturbojpeg0-dev,
               libjansson-dev,
               zlib1g-dev,
               python3:any,
               check <!nocheck>,
               libsubunit-dev <!nocheck>,
               g++ <!nocheck>,
               groff-base <!nocheck>,
               libjpeg62-turbo-dev <!nocheck>,
               python3-numpy <!nocheck>
Standards-Version: 4.6.2
Homepage: https://github.com/libijepa/libijepa
Rules-Requires-Root: no

Package: libijepa0
Architecture: any
Multi-Arch: same
Depends: ${misc:Depends}, ${shlibs:Depends}
Description: I-JEPA pretraining of Vision Transformers on the CPU (library)
 libijepa is a C library with a stable ABI for pretraining Vision
 Transformers with I-JEPA (Image-based Joint-Embedding Predictive
 Architecture) on the CPU with oneDNN, and for extracting image features
 with them.
 .
 This package contains the shared library.

Package: libijepa-dev
Section: libdevel
Architecture: any
Multi-Arch: same
Depends: libijepa0 (= ${binary:Version}), ${misc:Depends}
Description: I-JEPA pretraining of Vision Transformers on the CPU (development files)
 libijepa is a C library with a stable ABI for pretraining Vision
 Transformers with I-JEPA (Image-based Joint-Embedding Predictive
 Architecture) on the CPU with oneDNN, and for extracting image features
 with them.
 .
 This package contains the headers, the static library, the pkg-config
 file, the libijepa(3) manual page and the documentation.

Package: ijepa-tools
Section: science
Architecture: any
Depends: ${misc:Depends}, ${shlibs:Depends}
Description: I-JEPA pretraining of Vision Transformers on the CPU (tools)
 libijepa is a C library with a stable ABI for pretraining Vision
 Transformers with I-JEPA (Image-based Joint-Embedding Predictive
 Architecture) on the CPU with oneDNN, and for extracting image features
 with them.
 .
 This package contains ijepa-train, which pretrains on Fashion-MNIST or a
 folder of pictures, ijepa-extract, which writes the features of pictures,
 and ijepa-probe, which scores features with a linear classifier.

Package: python3-ijepa
Section: python
Architecture: all
Depends: libijepa0 (>= ${source:Upstream-Version}), python3-numpy, ${misc:Depends}, ${python3:Depends}
Description: I-JEPA pretraining of Vision Transformers on the CPU (Python 3)
 libijepa is a C library with a stable ABI for pretraining Vision
 Transformers with I-JEPA (Image-based Joint-Embedding Predictive
 Architecture) on the CPU with oneDNN, and for extracting image features
 with them.
 .
 This package contains the ctypes binding of the library for Python 3 and
 the converter between official I-JEPA checkpoints and libijepa's.
CONTROL
{
    cat <<'COPYRIGHT'
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: libijepa
Source: https://github.com/libijepa/libijepa

Files: *
Copyright: 2026 The libijepa authors
License: Expat

License: Expat
COPYRIGHT
    # the licence text of the tarball's LICENSE, after its title and copyright lines
    sed -n '/^Permission is hereby granted/,$p' "$src/LICENSE" | sed 's/^$/./; s/^/ /'
} > "$d/copyright"
cat > "$d/rules" <<'RULES'
#!/usr/bin/make -f
export DEB_BUILD_MAINT_OPTIONS = hardening=+all
include /usr/share/dpkg/architecture.mk

# The tree's Makefile takes dpkg-buildflags' CFLAGS, CPPFLAGS and LDFLAGS
# from the environment; nothing may install Debian packages on its own.
export IJEPA_NO_DEPS = 1
INSTALL_DIRS = prefix=/usr libdir=/usr/lib/$(DEB_HOST_MULTIARCH) docdir=/usr/share/doc/libijepa-dev

%:
	dh $@ --with python3

override_dh_auto_install:
	dh_auto_install -- $(INSTALL_DIRS)
	# debian/copyright has the licence, the upstream changelog goes in as changelog.gz
	rm debian/tmp/usr/share/doc/libijepa-dev/LICENSE debian/tmp/usr/share/doc/libijepa-dev/CHANGELOG.md

override_dh_auto_test:
	# offline and without the Fashion-MNIST data set, as a build chroot
	mkdir -p debian/no-fashion-mnist
	IJEPA_FMNIST_DIR=$(CURDIR)/debian/no-fashion-mnist dh_auto_test --no-parallel

override_dh_installchangelogs:
	dh_installchangelogs CHANGELOG.md
RULES
chmod 755 "$d/rules"
cat > "$d/libijepa0.install" <<'EOF2'
usr/lib/*/libijepa.so.*
EOF2
cat > "$d/libijepa-dev.install" <<'EOF2'
usr/include/ijepa
usr/lib/*/libijepa.a
usr/lib/*/libijepa.so
usr/lib/*/pkgconfig/ijepa.pc
usr/share/doc/libijepa-dev
usr/share/man/man3
EOF2
cat > "$d/ijepa-tools.install" <<'EOF2'
usr/bin
usr/share/man/man1
EOF2
cat > "$d/python3-ijepa.install" <<'EOF2'
usr/lib/python3/dist-packages
EOF2
echo "debian/no-fashion-mnist/" > "$d/clean"

# the symbols file, as a maintainer makes it: from the library as built
step "symbols file (dpkg-gensymbols on the tree's library)"
$MAKE --no-print-directory -C "$top" shared > /dev/null
lib=$(ls "$top"/lib/libijepa.so.*.*.* | head -n 1)
dpkg-gensymbols -plibijepa0 -v"$version" -e"$lib" -O"$tmp/symbols" -q > /dev/null 2>&1 || true
{
    head -n 1 "$tmp/symbols"
    echo "* Build-Depends-Package: libijepa-dev"
    tail -n +2 "$tmp/symbols" | sed "s/ $version-1\$/ $version/"
} > "$d/libijepa0.symbols"
echo "$(grep -c '^ ijepa_' "$d/libijepa0.symbols") symbols in debian/libijepa0.symbols"

# --- build ---------------------------------------------------------------------------
step "dpkg-buildpackage -us -uc -b"
( cd "$src" && dpkg-buildpackage -us -uc -b ) > "$tmp/build.log" 2>&1 ||
    { tail -n 60 "$tmp/build.log"; echo "check-package: dpkg-buildpackage FAILED"; exit 1; }
grep -E '^(dpkg-gensymbols|dpkg-shlibdeps): warning' "$tmp/build.log" && fail_gen=1 || fail_gen=0
ls "$tmp"/*.deb | sed 's|.*/|    |'
changes=$(ls "$tmp"/libijepa_*.changes)

# --- lint ---------------------------------------------------------------------------
fail=0
step "lintian -I --pedantic $(basename "$changes")"
lintian -I --pedantic --no-cfg "$changes" 2>&1 | grep -v '^running with root privileges' > "$tmp/lintian.log" || true
sed 's/^/    /' "$tmp/lintian.log"
# Tags caused by this throwaway packaging, not by the project: a first
# debian/changelog entry should close the ITP bug of a real upload.
packaging_tags='initial-upload-closes-no-bugs'
if grep -E '^[EW]: ' "$tmp/lintian.log" | grep -v -E ": ($(echo $packaging_tags | tr ' ' '|'))( |\$)" > "$tmp/lintian.fail"; then
    echo "FAIL: lintian reports errors or warnings caused by the project:"
    sed 's/^/    /' "$tmp/lintian.fail"
    fail=1
fi
[ -s "$tmp/lintian.log" ] && echo "    (tags of the test packaging itself, not the project's: $packaging_tags)"
echo "lintian: $(grep -c '^E: ' "$tmp/lintian.log") errors, $(grep -c '^W: ' "$tmp/lintian.log") warnings, $(grep -c '^I: ' "$tmp/lintian.log") info, $(grep -c '^P: ' "$tmp/lintian.log") pedantic"
[ "$fail_gen" -eq 0 ] || { echo "FAIL: dpkg-gensymbols or dpkg-shlibdeps warned (above)"; fail=1; }

step "blhc (build log) and hardening-check (ELF files)"
if blhc --all --debian "$tmp/build.log" > "$tmp/blhc.log" 2>&1; then
    echo "    blhc: no missing hardening flags"
else
    sed 's/^/    /' "$tmp/blhc.log"
    echo "FAIL: blhc"
    fail=1
fi
mkdir -p "$tmp/x"
for deb in "$tmp"/libijepa0_*.deb "$tmp"/ijepa-tools_*.deb; do dpkg-deb -x "$deb" "$tmp/x"; done
for f in "$tmp"/x/usr/bin/* "$tmp"/x/usr/lib/*/libijepa.so.*.*.*; do
    # Debian 12's dpkg-buildflags (hardening=+all) adds no -fcf-protection:
    # control flow protection is not asked for, the rest is
    out=$(hardening-check --nocfprotection "$f" 2>&1) || { echo "$out" | sed 's/^/    /'; echo "FAIL: hardening-check ${f#"$tmp"/x}"; fail=1; continue; }
    echo "    hardening-check ${f#"$tmp"/x}: $(echo "$out" | sed -n 's/^ \([^:]*\): yes.*/\1/p' | paste -sd, -)"
done

if [ "$fail" -ne 0 ]; then
    echo "check-package: FAILED ($(( $(date +%s) - start )) s)"
    exit 1
fi
echo "check-package: OK: 4 packages built from $(basename "$tarball"); lintian --pedantic: no error or warning caused by the project; blhc and hardening-check clean ($(( $(date +%s) - start )) s)"
