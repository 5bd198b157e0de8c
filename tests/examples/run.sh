#!/bin/sh
# Example program checks (run by `make check-examples`):
#   1. the in-tree programs run as built, without LD_LIBRARY_PATH: each
#      examples/ijepa-* answers --help, and carries RUNPATH $ORIGIN/../lib;
#   2. the copies for installing (build/release/bin/ijepa-*, `make programs`)
#      carry no RPATH or RUNPATH;
#   3. the README's first program is examples/features.c, and it works: a
#      short ijepa-train run (Fashion-MNIST) writes a checkpoint and a PNG,
#      ijepa-features prints the features of that PNG under that checkpoint
#      (tests/python/test_examples.py compares the numbers with the binding).
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
unset LD_LIBRARY_PATH
fail=0
bad() { echo "FAIL: $*"; fail=1; }
n=0

for p in examples/ijepa-*; do
    case $p in *.c|*.h) continue ;; esac
    n=$((n + 1))
    name=${p#examples/}
    out=$("$p" --help 2>&1) || bad "$p --help failed: $out"
    case $out in *usage:*) ;; *) bad "$p --help prints no usage: $out" ;; esac
    dyn=$(readelf -d "$p")
    echo "$dyn" | grep -q 'RUNPATH.*\[\$ORIGIN/../lib\]' || bad "$p: no RUNPATH \$ORIGIN/../lib"
    echo "$dyn" | grep -q '(RPATH)' && bad "$p: has an RPATH (want RUNPATH)"
    inst=build/release/bin/$name
    if [ -f "$inst" ]; then
        readelf -d "$inst" | grep -E -q '\((RPATH|RUNPATH)\)' && bad "$inst: has an RPATH or RUNPATH"
    else
        bad "$inst was not built (make programs)"
    fi
done
[ "$n" -gt 0 ] || bad "no examples/ijepa-* built"

# the README's first C block is examples/features.c, verbatim
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
awk '/^```c$/ { if (!done) on = 1; next } /^```$/ { if (on) { on = 0; done = 1 } next } on' \
    README.md > "$tmp/readme.c"
cmp -s "$tmp/readme.c" examples/features.c ||
    bad "README.md's first program differs from examples/features.c"

fm=/usr/share/datasets/fashion-mnist
if [ -f "$fm/train-images-idx3-ubyte.gz" ]; then
    examples/ijepa-train --preset tiny --steps 2 --limit 64 --threads 1 --quiet \
        --out "$tmp/run" > "$tmp/train.log" 2>&1 || { cat "$tmp/train.log"; bad "ijepa-train failed"; }
    if examples/ijepa-features "$tmp/run/masks.png" "$tmp/run/checkpoint.safetensors" \
        > "$tmp/features.txt" 2>&1; then
        head -n 1 "$tmp/features.txt" | grep -q '^49 tokens x 32 features' ||
            bad "ijepa-features: unexpected output: $(head -n 1 "$tmp/features.txt")"
        [ "$(sed -n 2p "$tmp/features.txt" | wc -w)" -eq 32 ] ||
            bad "ijepa-features: not 32 numbers: $(sed -n 2p "$tmp/features.txt")"
    else
        bad "ijepa-features failed: $(cat "$tmp/features.txt")"
    fi
    examples/ijepa-features "$tmp/run/masks.png" "$tmp/nothing.safetensors" > "$tmp/err.txt" 2>&1 &&
        bad "ijepa-features accepted a missing checkpoint"
    grep -q 'ijepa_checkpoint_open(): cannot open' "$tmp/err.txt" ||
        bad "ijepa-features: unexpected message for a missing checkpoint: $(cat "$tmp/err.txt")"
else
    echo "SKIPPED: the ijepa-features run (no Fashion-MNIST in $fm; install dataset-fashion-mnist)"
fi

if [ "$fail" -ne 0 ]; then
    echo "example tests: FAILED"
    exit 1
fi
echo "example tests: OK: $n programs run in place (RUNPATH \$ORIGIN/../lib), install copies without RUNPATH, README program = examples/features.c, ijepa-features runs"
