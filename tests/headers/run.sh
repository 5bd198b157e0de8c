#!/bin/sh
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The libijepa authors
# Public header checks (run by `make check-headers`):
#   1. every include/ijepa/*.h compiles on its own, included twice, as C99 and
#      C11 (-pedantic -Wall -Wextra -Werror) and as C++11 (same flags);
#   2. public headers include only <stddef.h>, <stdint.h> and each other;
#   3. the umbrella ijepa.h pulls in no oneDNN, libpng, libjpeg, zlib, OpenMP
#      or Check header (checked on the compiler's -M dependency list);
#   4. every IJEPA_API function has C linkage when seen from C++ (an object
#      that references them all has only unmangled undefined symbols).
# Environment: CC (default cc), CXX (default c++), NM (default nm).
set -eu

top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
CC=${CC:-cc}
CXX=${CXX:-c++}
NM=${NM:-nm}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

fail=0
n=0
bad() { echo "FAIL: $*"; fail=1; }

for h in include/ijepa/*.h; do
    name=ijepa/${h##*/}
    n=$((n + 1))
    # Included twice (include guard) plus a declaration: an empty translation
    # unit is itself a -pedantic error.
    printf '#include <%s>\n#include <%s>\ntypedef int ijepa_header_check;\n' \
        "$name" "$name" > "$tmp/t.c"
    cp "$tmp/t.c" "$tmp/t.cpp"
    for std in c99 c11; do
        $CC -std=$std -pedantic -Wall -Wextra -Werror -Iinclude \
            -fsyntax-only "$tmp/t.c" || bad "<$name> as C ($std)"
    done
    $CXX -std=c++11 -pedantic -Wall -Wextra -Werror -Iinclude \
        -fsyntax-only "$tmp/t.cpp" || bad "<$name> as C++11"
done

# 2. allowed includes
bad_inc=$(grep -n '^[[:space:]]*#[[:space:]]*include' include/ijepa/*.h |
    grep -v -E '#[[:space:]]*include[[:space:]]*(<(stddef|stdint)\.h>|"[A-Za-z0-9_]+\.h")' || true)
if [ -n "$bad_inc" ]; then
    bad "public headers may include only <stddef.h>, <stdint.h> and each other:"
    printf '%s\n' "$bad_inc" | sed 's/^/    /'
fi
sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' include/ijepa/*.h |
    sort -u > "$tmp/local_includes"
while read -r inc; do
    [ -f "include/ijepa/$inc" ] || bad "a public header includes \"$inc\", which is not in include/ijepa/"
done < "$tmp/local_includes"

# 3. the umbrella header is free of dependency headers
printf '#include <ijepa/ijepa.h>\n' > "$tmp/u.c"
$CC -Iinclude -M "$tmp/u.c" > "$tmp/u.d" || bad "<ijepa/ijepa.h>: $CC -M failed"
leaked=$(sed 's/\\$//' "$tmp/u.d" | tr -s ' ' '\n' | grep -E '/(oneapi|dnnl[^/]*\.h|png[^/]*\.h|jpeglib\.h|turbojpeg\.h|zlib\.h|omp\.h|check\.h)' || true)
if [ -n "$leaked" ]; then
    bad "<ijepa/ijepa.h> pulls in dependency headers:"
    printf '%s\n' "$leaked" | sed 's/^/    /'
fi

# 4. C linkage of every public function as seen from C++
{
    echo '#include <ijepa/ijepa.h>'
    echo 'typedef void (*ijepa_fn)(void);'
    echo 'extern ijepa_fn ijepa_all_fns[];'
    echo 'ijepa_fn ijepa_all_fns[] = {'
    sh tests/check_symbols.sh --api | while read -r fn _; do
        echo "    (ijepa_fn)&$fn,"
    done
    echo '    0'
    echo '};'
} > "$tmp/link.cpp"
if $CXX -std=c++11 -Iinclude -c "$tmp/link.cpp" -o "$tmp/link.o"; then
    mangled=$($NM -u "$tmp/link.o" | awk '{ print $NF }' | grep '^_Z' || true)
    if [ -n "$mangled" ]; then
        bad "public functions without C linkage in C++ (missing extern \"C\" guard?):"
        printf '%s\n' "$mangled" | sed 's/^/    /'
    fi
else
    bad "C++ translation unit referencing every IJEPA_API function does not compile"
fi

if [ "$fail" -ne 0 ]; then
    echo "header tests: FAILED"
    exit 1
fi
echo "header tests: OK: $n headers as C99, C11 and C++11; ijepa.h is self-contained"
