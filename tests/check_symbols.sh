#!/bin/sh
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The libijepa authors
# Check that the public ABI is consistent in its three places:
#   1. the functions declared with IJEPA_API in include/ijepa/*.h,
#   2. the names listed in the linker version script lib/ijepa.map,
#   3. the symbols the shared library really exports (nm -D --defined-only).
# All three sets must be equal, and every exported symbol must start with
# "ijepa_". On a mismatch it prints what to change and exits 1.
#
# Usage: tests/check_symbols.sh [path/to/libijepa.so.X.Y.Z]
#        tests/check_symbols.sh --api     (print "name header" per IJEPA_API
#                                          function; used by other checks)
# Environment: NM (default nm).
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
hdr_dir="$top/include/ijepa"
map="$top/lib/ijepa.map"
NM=${NM:-nm}

# Print "name header" for every IJEPA_API function declared in a header.
# Comments and preprocessor lines (with their continuations) are dropped
# first, then each "IJEPA_API ... name(" gives the identifier before "(".
api_names() {
    for h in "$hdr_dir"/*.h; do
        awk -v hdr="include/ijepa/${h##*/}" '
            { buf = buf $0 "\n" }
            END {
                # strip /* ... */ comments
                out = ""
                while ((i = index(buf, "/*")) > 0) {
                    rest = substr(buf, i + 2)
                    j = index(rest, "*/")
                    out = out substr(buf, 1, i - 1) " "
                    if (j == 0) { buf = ""; break }
                    buf = substr(rest, j + 2)
                }
                buf = out buf
                # drop // comments and preprocessor lines, join the rest
                n = split(buf, lines, "\n")
                s = ""; cont = 0
                for (k = 1; k <= n; k++) {
                    line = lines[k]
                    if (cont || line ~ /^[ \t]*#/) {
                        cont = (line ~ /\\[ \t]*$/)
                        continue
                    }
                    sub(/\/\/.*/, "", line)
                    s = s " " line
                }
                gsub(/IJEPA_DEPRECATED[ \t]*\([^)]*\)/, " ", s)
                while (match(s, /IJEPA_API[^;{(]*\(/)) {
                    decl = substr(s, RSTART, RLENGTH - 1)
                    s = substr(s, RSTART + RLENGTH)
                    if (match(decl, /[A-Za-z_][A-Za-z0-9_]*[ \t]*$/)) {
                        name = substr(decl, RSTART, RLENGTH)
                        sub(/[ \t]+$/, "", name)
                        print name, hdr
                    }
                }
            }' "$h"
    done
}

if [ "${1:-}" = "--api" ]; then
    api_names
    exit 0
fi

so=${1:-}
if [ -z "$so" ]; then
    for f in "$top"/lib/libijepa.so.*.*.*; do
        [ -f "$f" ] && so=$f && break
    done
fi
if [ -z "$so" ] || [ ! -f "$so" ]; then
    echo "check_symbols: no shared library found (build it with 'make' first)" >&2
    exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

api_names | sort -u > "$tmp/api_with_hdr"
cut -d' ' -f1 "$tmp/api_with_hdr" | sort -u > "$tmp/api"

# Names in the version script: identifiers directly followed by ";"
# (node names such as "IJEPA_0.1" and "local: *;" never match).
awk '
    { buf = buf $0 "\n" }
    END {
        while ((i = index(buf, "/*")) > 0) {
            rest = substr(buf, i + 2); j = index(rest, "*/")
            pre = substr(buf, 1, i - 1)
            buf = (j == 0) ? pre : pre " " substr(rest, j + 2)
        }
        gsub(/#[^\n]*/, "", buf)
        while (match(buf, /[A-Za-z_][A-Za-z0-9_]*[ \t\n]*;/)) {
            name = substr(buf, RSTART, RLENGTH)
            sub(/[ \t\n]*;$/, "", name)
            print name
            buf = substr(buf, RSTART + RLENGTH)
        }
    }' "$map" > "$tmp/map_all"
sort "$tmp/map_all" > "$tmp/map_sorted"
sort -u "$tmp/map_all" > "$tmp/map"
# Newest version node: the last "NAME {" in the file.
node=$(sed -n 's/^[[:space:]]*\([A-Za-z_][A-Za-z0-9_.]*\)[[:space:]]*{.*/\1/p' "$map" | tail -n 1)

# Exported, defined dynamic symbols, version suffix removed. Version
# definition entries ("A IJEPA_0.1") are not functions: skip them.
"$NM" -D --defined-only "$so" |
    awk 'NF >= 3 && !($2 == "A" && $3 !~ /@/) { sub(/@.*/, "", $3); print $3 }' |
    sort -u > "$tmp/so"

fail=0
rel_so=${so#"$top"/}

dups=$(uniq -d "$tmp/map_sorted")
if [ -n "$dups" ]; then
    fail=1
    echo "check_symbols: listed more than once in lib/ijepa.map (keep one):"
    printf '%s\n' "$dups" | sed 's/^/    /'
fi

bad=$(grep -v '^ijepa_' "$tmp/so" || true)
if [ -n "$bad" ]; then
    fail=1
    echo "check_symbols: $rel_so exports symbols without the ijepa_ prefix:"
    printf '%s\n' "$bad" | sed 's/^/    /'
    echo "  -> make them static, or rename them; only public ijepa_* functions may be exported"
fi

missing_map=$(comm -23 "$tmp/api" "$tmp/map")
if [ -n "$missing_map" ]; then
    fail=1
    echo "check_symbols: declared IJEPA_API in a header but missing from lib/ijepa.map:"
    for n in $missing_map; do
        printf '    %-40s (%s)\n' "$n" "$(awk -v n="$n" '$1 == n { print $2; exit }' "$tmp/api_with_hdr")"
    done
    echo "  -> add these lines to the global: list of the newest node (${node:-IJEPA_x.y}) in lib/ijepa.map:"
    for n in $missing_map; do printf '        %s;\n' "$n"; done
fi

extra_map=$(comm -13 "$tmp/api" "$tmp/map")
if [ -n "$extra_map" ]; then
    fail=1
    echo "check_symbols: listed in lib/ijepa.map but not declared IJEPA_API in include/ijepa/*.h:"
    printf '%s\n' "$extra_map" | sed 's/^/    /'
    echo "  -> declare them in a public header with IJEPA_API, or remove them from the map"
    echo "     (removing a released symbol breaks the ABI: that needs a MAJOR bump)"
fi

not_exported=$(comm -23 "$tmp/map" "$tmp/so")
if [ -n "$not_exported" ]; then
    fail=1
    echo "check_symbols: in lib/ijepa.map but not exported by $rel_so:"
    printf '%s\n' "$not_exported" | sed 's/^/    /'
    echo "  -> define them in lib/*.c (not static), in a file that includes \"internal.h\""
    echo "     (it defines IJEPA_BUILDING, which makes IJEPA_API mean visibility(\"default\"))"
fi

extra_so=$(comm -13 "$tmp/map" "$tmp/so" | grep '^ijepa_' || true)
if [ -n "$extra_so" ]; then
    fail=1
    echo "check_symbols: exported by $rel_so but not in lib/ijepa.map:"
    printf '%s\n' "$extra_so" | sed 's/^/    /'
    echo "  -> add them to lib/ijepa.map and a header, or make them static / ijepa__ internal"
fi

if [ "$fail" -ne 0 ]; then
    echo "check_symbols: FAILED"
    exit 1
fi
echo "check_symbols: OK: $(wc -l < "$tmp/api" | tr -d ' ') public functions; headers, lib/ijepa.map and $rel_so agree"
