#!/bin/sh
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The libijepa authors
# Example program checks (run by `make check-examples`):
#   1. the in-tree programs run as built, without LD_LIBRARY_PATH: each
#      examples/ijepa-* answers --help, and carries RUNPATH $ORIGIN/../lib;
#      the copies for installing (build/release/bin/ijepa-*, `make
#      programs`) carry no RPATH or RUNPATH;
#   2. GNU conventions of the tools (every program but ijepa-features, the
#      README's minimal program): --help on stdout with exit 0 and the exit
#      statuses, --version (program, library version, licence), a write
#      error on a full stdout is exit 1, and every numeric option (those
#      --help shows with a one-capital-letter value, "--steps N") refuses
#      'abc', '-5', an overflow, trailing garbage, spaces and '' with exit 2
#      and one message on stderr; unknown options, operands, renamed options;
#      ijepa-features, kept minimal, answers --help (stdout, exit 0) and
#      --version, and a bad command line with exit 2;
#   3. the folder modes on a labelled folder of PNG and JPEG pictures made
#      by PHOTOS (tests/examples/photos.c): ijepa-train --data (its --out
#      DIR's missing parents created, as mkdir -p), ijepa-extract
#      --data (features in path order, paths beside them, equal to
#      ijepa-features' for the same picture), ijepa-probe --data with a
#      held-out split, --test and --pixels, and its errors;
#   4. the README's first program is examples/features.c, and with
#      Fashion-MNIST ($IJEPA_FMNIST_DIR or Debian's dataset-fashion-mnist) it
#      runs on a checkpoint of a short ijepa-train run; without it, the
#      tools fail with exit 1 and a message that says what to install.
# Environment: PHOTOS (the picture generator; default
# build/release/tests/examples/photos), IJEPA_FMNIST_DIR.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
unset LD_LIBRARY_PATH
PHOTOS=${PHOTOS:-build/release/tests/examples/photos}
fail=0
bad() { echo "FAIL: $*"; fail=1; }
# same_row NPY I PIC CKPT: row I of NPY (float32 [n, 32]) is what ijepa-features
# prints for PIC under CKPT, to 1e-6 relative
same_row() {
    hl=$(od -A n -t u2 -j 8 -N 2 "$1" | tr -d ' ')
    examples/ijepa-features "$3" "$4" | sed -n 2p | tr ' ' '\n' > "$tmp/one"
    od -A n -v -t f4 -j $((10 + hl + $2 * 32 * 4)) -N $((32 * 4)) "$1" |
        tr -s ' ' '\n' | sed '/^$/d' > "$tmp/row"
    paste "$tmp/one" "$tmp/row" | awk -v pic="$3" '
        { d = $1 - $2; if (d < 0) d = -d; m = ($1 < 0 ? -$1 : $1);
          if (d > 1e-6 * (m > 1 ? m : 1)) bad++; k++ }
        END { if (k != 32 || bad) { print "row of " pic ": " bad " of " k " differ"; exit 1 } }'
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
n=0

version=$(sed -n 's/^#[[:space:]]*define[[:space:]]*IJEPA_VERSION_\(MAJOR\|MINOR\|PATCH\)[[:space:]]*\([0-9]*\).*/\2/p' \
    include/ijepa/version.h | paste -sd.)

# --- 1. run in place, RUNPATH ------------------------------------------------
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

# --- 2. GNU conventions --------------------------------------------------------
# expect_usage_error NAME WHAT ARGS...: exit 2, nothing on stdout, one line
# on stderr starting "NAME: " and pointing at --help. (Without Fashion-MNIST:
# a value wrongly accepted fails fast, with another message.)
expect_usage_error() {
    name=$1 what=$2
    shift 2
    rc=0
    IJEPA_FMNIST_DIR=$tmp/no-such-dir "examples/$name" "$@" > "$tmp/out" 2> "$tmp/err" || rc=$?
    if [ "$rc" -ne 2 ]; then
        bad "$name $what: exit $rc, expected 2 ($(head -c 300 "$tmp/err"))"
        return
    fi
    [ -s "$tmp/out" ] && bad "$name $what: wrote to stdout: $(head -c 200 "$tmp/out")"
    [ "$(wc -l < "$tmp/err")" -eq 1 ] || bad "$name $what: not one line on stderr: $(cat "$tmp/err")"
    grep -q "^$name: .*(see $name --help)\$" "$tmp/err" ||
        bad "$name $what: unexpected message: $(cat "$tmp/err")"
}

ntools=0 nnum=0
for name in ijepa-train ijepa-probe ijepa-extract ijepa-demo; do
    p=examples/$name
    [ -x "$p" ] || { bad "$p was not built"; continue; }
    ntools=$((ntools + 1))
    rc=0
    "$p" --help > "$tmp/help" 2> "$tmp/err" || rc=$?
    [ "$rc" -eq 0 ] || bad "$name --help: exit $rc"
    [ -s "$tmp/err" ] && bad "$name --help wrote to stderr: $(cat "$tmp/err")"
    head -n 1 "$tmp/help" | grep -q "^usage: $name " || bad "$name --help: no usage line first"
    for want in '--help' '--version' 'exit status:' '  0  success' '  1  failure' '  2  bad command line'; do
        grep -q -e "$want" "$tmp/help" || bad "$name --help does not mention '$want'"
    done
    "$p" -h | cmp -s - "$tmp/help" || bad "$name -h differs from --help"
    rc=0
    "$p" --version > "$tmp/version" 2> "$tmp/err" || rc=$?
    [ "$rc" -eq 0 ] || bad "$name --version: exit $rc"
    [ -s "$tmp/err" ] && bad "$name --version wrote to stderr: $(cat "$tmp/err")"
    [ "$(head -n 1 "$tmp/version")" = "$name (libijepa) $version" ] ||
        bad "$name --version: first line is '$(head -n 1 "$tmp/version")', expected '$name (libijepa) $version'"
    grep -q '^License MIT' "$tmp/version" || bad "$name --version: no licence line"
    grep -q '^Copyright' "$tmp/version" || bad "$name --version: no copyright line"
    if [ -w /dev/full ]; then
        rc=0
        "$p" --help > /dev/full 2> "$tmp/err" || rc=$?
        [ "$rc" -eq 1 ] && grep -q 'write error' "$tmp/err" ||
            bad "$name --help >/dev/full: exit $rc, '$(cat "$tmp/err")' (expected 1 and a write error)"
    fi
    # the numeric options: those whose value is one capital letter in --help
    opts=$(sed -n 's/^  \(--[a-z][a-z-]*\) [A-Z]\( .*\)\{0,1\}$/\1/p' "$tmp/help" | sort -u)
    [ -n "$opts" ] || bad "$name --help shows no numeric option"
    for o in $opts; do
        nnum=$((nnum + 1))
        for v in abc -5 99999999999999999999999 5x '' ' 5' +5 0x10 nan 1e400; do
            expect_usage_error "$name" "$o '$v'" "$o" "$v"
            grep -q -F "$name: $o: '$v' is " "$tmp/err" ||
                bad "$name $o '$v': the message does not name the option and value: $(cat "$tmp/err")"
        done
        expect_usage_error "$name" "$o=abc" "$o=abc"
        grep -q -F "$name: $o: 'abc' is not a" "$tmp/err" || bad "$name $o=abc: $(cat "$tmp/err")"
        expect_usage_error "$name" "$o without a value" "$o"
        grep -q -F "option $o needs a value" "$tmp/err" || bad "$name $o: $(cat "$tmp/err")"
    done
    expect_usage_error "$name" "an unknown option" --no-such-option
    expect_usage_error "$name" "an operand" operand
    expect_usage_error "$name" "an operand after --" -- operand
    expect_usage_error "$name" "--help=1" --help=1
done
# ijepa-features: the README's minimal program, with --help and --version
rc=0
examples/ijepa-features --help > "$tmp/help" 2> "$tmp/err" || rc=$?
[ "$rc" -eq 0 ] && [ ! -s "$tmp/err" ] && head -n 1 "$tmp/help" | grep -q '^usage: ijepa-features ' &&
    grep -q '^exit status: 0 success, 1 failure, 2 bad command line$' "$tmp/help" ||
    bad "ijepa-features --help: exit $rc, $(cat "$tmp/help" "$tmp/err")"
rc=0
examples/ijepa-features --version > "$tmp/version" 2> "$tmp/err" || rc=$?
[ "$rc" -eq 0 ] && [ "$(cat "$tmp/version")" = "ijepa-features (libijepa) $version" ] ||
    bad "ijepa-features --version: exit $rc, '$(cat "$tmp/version" "$tmp/err")'"
rc=0
examples/ijepa-features only-one-operand > "$tmp/out" 2> "$tmp/err" || rc=$?
[ "$rc" -eq 2 ] && [ ! -s "$tmp/out" ] && grep -q '^usage: ijepa-features ' "$tmp/err" ||
    bad "ijepa-features with one operand: exit $rc, $(cat "$tmp/err")"
# the message names the option and says what is wrong
examples/ijepa-train --steps abc 2>&1 | grep -q "^ijepa-train: --steps: 'abc' is not a whole number" ||
    bad "ijepa-train --steps abc: unexpected message"
examples/ijepa-train --steps -5 2>&1 | grep -q "^ijepa-train: --steps: '-5' is out of range: 1 to " ||
    bad "ijepa-train --steps -5: unexpected message"
examples/ijepa-train --crop 2 2>&1 | grep -q "^ijepa-train: --crop: '2' is out of range: 0 to 1" ||
    bad "ijepa-train --crop 2: unexpected message"
expect_usage_error ijepa-train "--quiet=1" --quiet=1
expect_usage_error ijepa-train "--limit with --data" --data "$tmp" --limit 5
grep -q -- "--limit takes the first N Fashion-MNIST images; a folder is used whole" "$tmp/err" ||
    bad "ijepa-train --data --limit: $(cat "$tmp/err")"
expect_usage_error ijepa-train "--save-every without --out" --save-every 5
grep -q -- "--save-every saves DIR/checkpoint.safetensors: give --out DIR too" "$tmp/err" ||
    bad "ijepa-train --save-every without --out: $(cat "$tmp/err")"
# --max-memory SIZE: K, M, G or T in either case, then iB or B if wanted;
# no exponent or sign (accepted ones fail later: too small a limit, or no
# data set, exit 1)
for v in 1e9 1e99 -1 +1 8X '' G 5iB ' 8G' 8GiBx 0x10 nan; do
    expect_usage_error ijepa-train "--max-memory '$v'" --max-memory "$v"
    grep -q -F "ijepa-train: --max-memory: '$v' is not a size" "$tmp/err" ||
        bad "ijepa-train --max-memory '$v': $(cat "$tmp/err")"
done
for v in 1k 1K 8GiB 8gib 8GB 1.5G .5M 65536 65536B 0; do
    rc=0
    IJEPA_FMNIST_DIR=$tmp/no-such-dir examples/ijepa-train --max-memory "$v" > /dev/null 2> "$tmp/err" || rc=$?
    [ "$rc" -eq 1 ] || bad "ijepa-train --max-memory '$v': exit $rc, $(cat "$tmp/err")"
done
# a configuration the library refuses, or the data cannot take: exit 2, as
# any bad option value, before the data is read
expect_usage_error ijepa-train "--set num_heads=3" --set num_heads=3
grep -q "bad configuration: ijepa_trainer_estimate_bytes(): embed_dim 128 is not a multiple of num_heads 3" "$tmp/err" ||
    bad "ijepa-train --set num_heads=3: $(cat "$tmp/err")"
expect_usage_error ijepa-train "--set img_size=50" --set img_size=50
# what the mask sampler, the optimizer and the transform check only when
# used: also before the data, also exit 2
expect_usage_error ijepa-train "--set min_keep=40 (tiny)" --preset tiny --set min_keep=40
grep -q "bad configuration: ijepa_mask_sampler_create(): min_keep 40 can never be met" "$tmp/err" ||
    bad "ijepa-train --set min_keep=40: $(cat "$tmp/err")"
expect_usage_error ijepa-train "--set img_size=32 (tiny: eval resize 28)" --preset tiny --set img_size=32
grep -q "ijepa_image_transform_eval(): data_eval_resize 28 is smaller than img_size 32" "$tmp/err" ||
    bad "ijepa-train --preset tiny --set img_size=32: $(cat "$tmp/err")"
expect_usage_error ijepa-train "--set adam_beta1=1" --set adam_beta1=1
grep -q "bad configuration: ijepa_optimizer_create(): adam_beta1 1 and" "$tmp/err" ||
    bad "ijepa-train --set adam_beta1=1: $(cat "$tmp/err")"
expect_usage_error ijepa-train "--set in_chans=3 on Fashion-MNIST" --set in_chans=3
grep -q "Fashion-MNIST images have 1 channel, the configuration's in_chans is 3" "$tmp/err" ||
    bad "ijepa-train --set in_chans=3: $(cat "$tmp/err")"
expect_usage_error ijepa-probe "--random-init --set num_heads=3" --random-init --set num_heads=3
# the schedule: an explicit total_steps or warmup_steps is kept, and checked
expect_usage_error ijepa-train "--steps past total_steps" --set total_steps=40 --steps 50
grep -q -- "--steps 50 goes past total_steps 40" "$tmp/err" || bad "ijepa-train --steps 50: $(cat "$tmp/err")"
expect_usage_error ijepa-train "--set warmup_steps=5 --steps 3" --set warmup_steps=5 --steps 3
grep -q "warmup_steps 5 (--set warmup_steps) exceeds total_steps 3, set by --steps 3" "$tmp/err" ||
    bad "ijepa-train --set warmup_steps=5 --steps 3: $(cat "$tmp/err")"
# one name for one thing: the old spellings are refused with the new one
expect_usage_error ijepa-probe "--weights" --weights x.safetensors
grep -q -- "--weights is now called --checkpoint" "$tmp/err" || bad "ijepa-probe --weights: $(cat "$tmp/err")"
expect_usage_error ijepa-probe "--epochs" --epochs 3
grep -q -- "--epochs is now called --probe-epochs" "$tmp/err" || bad "ijepa-probe --epochs: $(cat "$tmp/err")"
expect_usage_error ijepa-train "--config" --config fmnist
grep -q -- "--config is now called --preset" "$tmp/err" || bad "ijepa-train --config: $(cat "$tmp/err")"
# a bad named value: the names the key takes
expect_usage_error ijepa-train "--set precision=float32" --set precision=float32
grep -q -- "--set precision=float32: invalid value 'float32' for key 'precision' (its names: f32, bf16) (see" "$tmp/err" ||
    bad "ijepa-train --set precision=float32: $(cat "$tmp/err")"
examples/ijepa-train --help | grep -q "named values: precision=f32|bf16" ||
    bad "ijepa-train --help does not list the named values"
# an output file in a missing directory: the reason, at once (exit 1)
rc=0
examples/ijepa-extract --run "$tmp/nowhere" --out "$tmp/no-dir/x.npy" > /dev/null 2> "$tmp/err" || rc=$?
[ "$rc" -eq 1 ] && grep -q "^ijepa-extract: cannot write $tmp/no-dir/x.npy: No such file or directory\$" "$tmp/err" ||
    bad "ijepa-extract --out in a missing directory: exit $rc, $(cat "$tmp/err")"
for name in ijepa-probe ijepa-extract; do
    examples/$name --help | grep -q -- '--checkpoint FILE' || bad "$name --help has no --checkpoint FILE"
    examples/$name --help | grep -q -- '--run DIR' || bad "$name --help has no --run DIR"
    examples/$name --help | grep -q -- '--data DIR' || bad "$name --help has no --data DIR"
done

# --- 3. folders of pictures ------------------------------------------------------
photos=$tmp/photos
"$PHOTOS" "$photos" || bad "$PHOTOS failed"
npics=$(find "$photos" -type f \( -name '*.png' -o -name '*.jpg' \) | wc -l)
[ "$npics" -eq 30 ] || bad "$PHOTOS wrote $npics pictures, expected 30"
small='--set img_size=32 --set patch_size=4 --set min_keep=1 --set embed_dim=32 --set depth=1 --set num_heads=2 --set pred_embed_dim=16 --set pred_depth=1 --set pred_num_heads=2'
# crop keys that contradict each other: the dataset refuses them, exit 2
expect_usage_error ijepa-train "--data with crop min > max" --data "$photos" --steps 1 \
    --set data_crop_scale_min=0.9 --set data_crop_scale_max=0.5
grep -q "data_crop_scale_min 0.9 exceeds data_crop_scale_max 0.5" "$tmp/err" ||
    bad "ijepa-train crop min > max: $(cat "$tmp/err")"
# shellcheck disable=SC2086 # $small is a list of options
if examples/ijepa-train --data "$photos" --preset folder $small --batch 8 --steps 2 --threads 1 \
        --out "$tmp/runs/frun" > "$tmp/log" 2>&1; then
    ck=$tmp/runs/frun/checkpoint.safetensors
    # the banner: the run's length, threads and precision, singulars right
    grep -q "^ijepa-train: images in $photos, preset folder, 2 steps of 8 images (0.53 epochs), 1 thread, precision f32\$" \
        "$tmp/log" || bad "ijepa-train --data: unexpected banner: $(head -n 1 "$tmp/log")"
    # bf16 with the backend capped below any bf16 instructions: emulated, and the cap named
    # shellcheck disable=SC2086 # $small is a list of options
    if ONEDNN_MAX_CPU_ISA=AVX2 examples/ijepa-train --data "$photos" --preset folder $small \
            --batch 8 --steps 1 --threads 1 --set precision=bf16 --out "$tmp/runs/brun" > "$tmp/log" 2>&1; then
        grep -q "precision bf16 (emulated: ONEDNN_MAX_CPU_ISA=AVX2 caps the backend to [a-z0-9_]*, which has no bf16 matmul instructions)\$" \
            "$tmp/log" || bad "ijepa-train capped to AVX2: unexpected banner: $(head -n 1 "$tmp/log")"
        grep -q "^trained 1 step in .*, target std [0-9.]*, precision bf16 (emulated: " "$tmp/log" ||
            bad "ijepa-train capped to AVX2: the last line does not name the precision: $(cat "$tmp/log")"
        # a file trained in bf16: ijepa-extract and ijepa-features compute in
        # float32 all the same (precision is this process's), and agree
        pic=$(find "$photos" -type f | LC_ALL=C sort | head -n 1)
        mkdir "$tmp/onepic" && cp "$pic" "$tmp/onepic/"
        examples/ijepa-extract --checkpoint "$tmp/runs/brun/checkpoint.safetensors" \
            --data "$tmp/onepic" --threads 1 --out "$tmp/b.npy" > "$tmp/log" 2>&1 &&
            grep -q "^wrote .*b.npy: 1 x 32 features of the images in .*, precision f32\$" "$tmp/log" ||
            bad "ijepa-extract of a bf16 run: $(cat "$tmp/log")"
        same_row "$tmp/b.npy" 0 "$pic" "$tmp/runs/brun/checkpoint.safetensors" ||
            bad "ijepa-extract and ijepa-features differ on a file trained in bf16"
        examples/ijepa-extract --checkpoint "$tmp/runs/brun/checkpoint.safetensors" \
            --data "$tmp/onepic" --threads 1 --set precision=bf16 --out "$tmp/b.npy" > "$tmp/log" 2>&1 &&
            grep -q ", precision bf16" "$tmp/log" ||
            bad "ijepa-extract --set precision=bf16: $(cat "$tmp/log")"
        expect_usage_error ijepa-extract "--set depth=0" --run "$tmp/runs/brun" --data "$tmp/onepic" \
            --set depth=0 --out "$tmp/x.npy"
        grep -q -- "--set depth=0: invalid value '0' for key 'depth' (outside" "$tmp/err" ||
            bad "ijepa-extract --set depth=0: $(cat "$tmp/err")"
    else
        bad "ijepa-train capped to AVX2 failed: $(cat "$tmp/log")"
    fi
    # ijepa-extract --data: rows in path order, the paths beside them
    if examples/ijepa-extract --run "$tmp/runs/frun" --data "$photos" --threads 1 \
            --out "$tmp/f.npy" > "$tmp/log" 2>&1; then
        [ -f "$tmp/f.txt" ] || bad "ijepa-extract --data wrote no $tmp/f.txt"
        find "$photos" -type f | LC_ALL=C sort > "$tmp/want.txt"
        cmp -s "$tmp/f.txt" "$tmp/want.txt" || {
            bad "ijepa-extract: the path list is not every picture in byte order:"
            diff "$tmp/want.txt" "$tmp/f.txt" | head -n 10
        }
        # the .npy: the header's shape, then row i = ijepa-features of line i
        hlen=$(od -A n -t u2 -j 8 -N 2 "$tmp/f.npy" | tr -d ' ')
        head -c $((10 + hlen)) "$tmp/f.npy" | grep -q "'shape': (30, 32)" ||
            bad "ijepa-extract: the .npy header has not shape (30, 32)"
        for i in 0 7 29; do
            pic=$(sed -n "$((i + 1))p" "$tmp/f.txt")
            same_row "$tmp/f.npy" "$i" "$pic" "$ck" ||
                bad "ijepa-extract row $i differs from ijepa-features $pic"
        done
    else
        bad "ijepa-extract --data failed: $(cat "$tmp/log")"
    fi
    examples/ijepa-extract --checkpoint "$ck" --data "$photos" --limit 5 --out "$tmp/five" \
        > /dev/null 2>&1 || bad "ijepa-extract --limit 5 failed"
    [ "$(wc -l < "$tmp/five.txt")" -eq 5 ] || bad "ijepa-extract --out five: not 5 paths in five.txt"
    expect_usage_error ijepa-extract "--data with --split" --run "$tmp/runs/frun" --data "$photos" --split train --out x.npy
    # --resume with the first run's --preset: the model keys stay the file's
    # (here not the preset's); an explicit total_steps is the schedule
    if examples/ijepa-train --resume "$ck" --data "$photos" --preset folder --batch 8 --steps 3 \
            --set total_steps=40 --threads 1 --quiet --out "$tmp/runs/resumed" > "$tmp/log" 2>&1; then
        # the configuration's text in the JSON header: "\n"-escaped lines
        head -c 65536 "$tmp/runs/resumed/checkpoint.safetensors" > "$tmp/head"
        for kv in '\ntotal_steps = 40\n' '\ndepth = 1\n' '\nembed_dim = 32\n'; do
            grep -a -q -F "$kv" "$tmp/head" || bad "ijepa-train --resume: the checkpoint has no '$kv'"
        done
    else
        bad "ijepa-train --resume PATH --preset folder failed: $(cat "$tmp/log")"
    fi
    expect_usage_error ijepa-train "--resume with another depth" --resume "$ck" --data "$photos" --set depth=2
    grep -q "depth is 1 in .*, 2 on this command line: a model key cannot change on resume" "$tmp/err" ||
        bad "ijepa-train --resume --set depth=2: $(cat "$tmp/err")"
    # ijepa-probe --data: 10 pictures per class, 20 % held out = 2 per class
    if examples/ijepa-probe --run "$tmp/runs/frun" --data "$photos" --threads 1 > "$tmp/probe" 2>&1; then
        grep -q '^I-JEPA target encoder: test [0-9.]*% (val [0-9.]*%, wd [0-9.e-]*); 3 classes, 24 training images, 6 test images, precision f32$' \
            "$tmp/probe" || bad "ijepa-probe --data: unexpected output: $(cat "$tmp/probe")"
    else
        bad "ijepa-probe --data failed: $(cat "$tmp/probe")"
    fi
    examples/ijepa-probe --checkpoint "$ck" --data "$photos" --test "$photos" --test-fraction 0.5 \
        > "$tmp/probe" 2>&1 && bad "ijepa-probe took --test and --test-fraction"
    examples/ijepa-probe --checkpoint "$ck" --data "$photos" --test "$photos" > "$tmp/probe" 2>&1 &&
        grep -q '; 3 classes, 30 training images, 30 test images, precision f32$' "$tmp/probe" ||
        bad "ijepa-probe --test: $(cat "$tmp/probe")"
    examples/ijepa-probe --checkpoint "$ck" --data "$photos" --test-fraction 0.5 > "$tmp/probe" 2>&1 &&
        grep -q '; 3 classes, 15 training images, 15 test images, precision f32$' "$tmp/probe" ||
        bad "ijepa-probe --test-fraction 0.5: $(cat "$tmp/probe")"
    # raw pixels: the shapes are told apart, by far
    examples/ijepa-probe --pixels --data "$photos" --set img_size=32 > "$tmp/probe" 2>&1 &&
        grep -q '^raw pixels: test [0-9.]*%' "$tmp/probe" || bad "ijepa-probe --pixels --data: $(cat "$tmp/probe")"
    # a picture outside any class directory, a test class unknown to --data
    mkdir -p "$tmp/loose/a" "$tmp/odd/zebras"
    cp "$photos/circles/02.png" "$tmp/loose/"
    cp "$photos/circles/04.png" "$tmp/loose/a/"
    rc=0
    examples/ijepa-probe --run "$tmp/runs/frun" --data "$tmp/loose" > "$tmp/err" 2>&1 || rc=$?
    [ "$rc" -eq 1 ] && grep -q 'loose/02.png is not in a class directory' "$tmp/err" ||
        bad "ijepa-probe on a picture outside a class: exit $rc, $(cat "$tmp/err")"
    cp "$photos/circles/02.png" "$tmp/odd/zebras/"
    rc=0
    examples/ijepa-probe --run "$tmp/runs/frun" --data "$photos" --test "$tmp/odd" > "$tmp/err" 2>&1 || rc=$?
    [ "$rc" -eq 1 ] && grep -q "class 'zebras' is not a class of" "$tmp/err" ||
        bad "ijepa-probe with an unknown test class: exit $rc, $(cat "$tmp/err")"
    # a damaged picture: the run stops with its name (exit 1)
    mkdir -p "$tmp/broken/x"
    head -c 100 "$photos/circles/02.png" > "$tmp/broken/x/cut.png"
    rc=0
    examples/ijepa-extract --run "$tmp/runs/frun" --data "$tmp/broken" --out "$tmp/b.npy" > "$tmp/err" 2>&1 || rc=$?
    [ "$rc" -eq 1 ] && grep -q 'cut.png' "$tmp/err" ||
        bad "ijepa-extract on a damaged picture: exit $rc, $(cat "$tmp/err")"
else
    bad "ijepa-train --data failed: $(cat "$tmp/log")"
fi

# --- 4. the README's program; Fashion-MNIST --------------------------------------
# the README's first C block is examples/features.c, verbatim
awk '/^```c$/ { if (!done) on = 1; next } /^```$/ { if (on) { on = 0; done = 1 } next } on' \
    README.md > "$tmp/readme.c"
cmp -s "$tmp/readme.c" examples/features.c ||
    bad "README.md's first program differs from examples/features.c"

fm=${IJEPA_FMNIST_DIR:-/usr/share/datasets/fashion-mnist}
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
    examples/ijepa-extract --run "$tmp/run" --limit 10 --threads 1 --out "$tmp/fm.npy" > "$tmp/log" 2>&1 &&
        grep -q 'wrote .*fm.npy: 10 x 32 features of the t10k split' "$tmp/log" ||
        bad "ijepa-extract on Fashion-MNIST: $(cat "$tmp/log")"
    [ -e "$tmp/fm.txt" ] && bad "ijepa-extract on Fashion-MNIST wrote a path list"
else
    echo "SKIPPED: the Fashion-MNIST runs (no Fashion-MNIST in $fm; install dataset-fashion-mnist)"
fi
# without the data set: exit 1, one line with the reason and what to do:
# the tools name the variable that chose the directory, ijepa-demo says what
# to install
for cmd in "ijepa-train --steps 1" "ijepa-probe --pixels" "ijepa-extract --run $tmp/runs/frun --out $tmp/x.npy" \
        "ijepa-demo --steps 1"; do
    rc=0
    # shellcheck disable=SC2086 # $cmd is a command line
    IJEPA_FMNIST_DIR=$tmp/no-such-dir examples/$cmd > "$tmp/out" 2> "$tmp/err" || rc=$?
    case $cmd in
        ijepa-demo*) want="no-such-dir/.*: No such file or directory (install dataset-fashion-mnist" ;;
        *) want="no-such-dir/.*: No such file or directory (the directory is IJEPA_FMNIST_DIR=$tmp/no-such-dir: .*dataset-fashion-mnist" ;;
    esac
    [ "$rc" -eq 1 ] && [ "$(wc -l < "$tmp/err")" -eq 1 ] && grep -q "$want" "$tmp/err" ||
        bad "$cmd without Fashion-MNIST: exit $rc, stderr '$(cat "$tmp/err")'"
done
rc=0
examples/ijepa-probe --pixels --fmnist "$tmp/no-such-dir" > "$tmp/out" 2> "$tmp/err" || rc=$?
[ "$rc" -eq 1 ] && grep -q "(--fmnist DIR needs the gzipped IDX files of Fashion-MNIST" "$tmp/err" ||
    bad "ijepa-probe --fmnist DIR without Fashion-MNIST: exit $rc, stderr '$(cat "$tmp/err")'"

if [ "$fail" -ne 0 ]; then
    echo "example tests: FAILED"
    exit 1
fi
echo "example tests: OK: $n programs run in place (RUNPATH \$ORIGIN/../lib), install copies without RUNPATH;"
echo "  $ntools tools follow the GNU conventions ($nnum numeric options refuse bad numbers);"
echo "  ijepa-extract and ijepa-probe on a folder of $npics PNG/JPEG pictures; README program = examples/features.c"
