#!/bin/sh
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The libijepa authors
# Pinned constants (run by `make check-pins`): tests/abi/pins.c states the
# value of every public constant of libijepa; here it must
#   1. compile (C11, -Werror): a renumbered constant fails its _Static_assert,
#      which names it and its pinned value;
#   2. name every constant the headers define: each enumerator of every enum
#      in <ijepa/ijepa.h> and each numeric IJEPA_* macro (except the version
#      macros), listed from the preprocessed headers. A missing one fails,
#      with the lines to add to pins.c (a new constant is pinned once, with
#      the value it is published with).
# Environment: CC (default cc).
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
CC=${CC:-cc}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
fail=0

# --- 1. the pinned values --------------------------------------------------------
if ! $CC -std=c11 -pedantic -Wall -Wextra -Werror -Iinclude -c tests/abi/pins.c -o "$tmp/pins.o" \
        > "$tmp/cc.log" 2>&1; then
    echo "FAIL: a public constant changed its value (tests/abi/pins.c):"
    grep -E 'error|assert' "$tmp/cc.log" | sed 's/^/    /'
    fail=1
fi

# --- 2. every constant is pinned ---------------------------------------------------
# enumerators: the comma-separated items between the braces of each enum
$CC -std=c11 -E -P -Iinclude include/ijepa/ijepa.h | awk '
    /enum[^;]*\{/ { on = 1 }
    on { buf = buf " " $0 }
    on && /\}/ {
        on = 0
        sub(/^[^{]*\{/, "", buf)
        sub(/\}.*$/, "", buf)
        n = split(buf, item, ",")
        for (i = 1; i <= n; i++) {
            sub(/^[ \t]+/, "", item[i])
            if (item[i] != "") { split(item[i], w, /[ \t=]/); print w[1] }
        }
        buf = ""
    }' > "$tmp/names"
# object-like macros with a value (not include guards, not the version)
$CC -std=c11 -E -dM -Iinclude include/ijepa/ijepa.h |
    sed -n 's/^#define \(IJEPA_[A-Z0-9][A-Z0-9_]*\) [^ ].*/\1/p' | grep -v '^IJEPA_VERSION_' >> "$tmp/names"
sort -u "$tmp/names" -o "$tmp/names"
sed -n 's/^PIN(\([A-Z0-9_]*\),.*/\1/p' tests/abi/pins.c | sort -u > "$tmp/pinned"
[ "$(wc -l < "$tmp/names")" -gt 50 ] || { echo "FAIL: found only $(wc -l < "$tmp/names") constants in the headers"; fail=1; }
missing=$(comm -23 "$tmp/names" "$tmp/pinned")
if [ -n "$missing" ]; then
    echo "FAIL: public constants that tests/abi/pins.c does not pin; add (with the values they are published with):"
    {
        echo '#include <stdio.h>'
        echo '#include <ijepa/ijepa.h>'
        echo 'int main(void) {'
        for m in $missing; do
            printf '    printf("PIN(%s, %%lld);\\n", (long long)(%s));\n' "$m" "$m"
        done
        echo '    return 0; }'
    } > "$tmp/missing.c"
    if $CC -std=c11 -Iinclude "$tmp/missing.c" -o "$tmp/missing" 2>/dev/null; then
        "$tmp/missing" | sed 's/^/    /'
    else
        printf '    %s\n' $missing
    fi
    fail=1
fi

if [ "$fail" -ne 0 ]; then
    echo "pin test: FAILED"
    exit 1
fi
echo "pin test: OK: $(wc -l < "$tmp/pinned") public constants keep their pinned values"
