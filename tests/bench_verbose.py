#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The libijepa authors
"""Where the time of a whole I-JEPA step goes, from a tests/bench log taken
with ONEDNN_VERBOSE=1 (a benchmark aid, not a test):

    ONEDNN_VERBOSE=1 OMP_NUM_THREADS=2 tests/bench --no-gemm --only 'ijepa vit_small' \\
        --precision bf16 --tries 1 > v.txt
    python3 tests/bench_verbose.py v.txt

The bench brackets every timed step with bench_mark begin/end lines; the
onednn_verbose exec lines in between are summed by kind: matmuls of linear
layers (no batch dimension), matmuls of attention (batched), other
primitives. What oneDNN did not time is the library's own code (bf16.c,
glue.c, the loss, AdamW, EMA, copies) and call overhead. Matmul FLOPs come
from the shapes oneDNN prints (2 M N K per batch), so the achieved rate is
oneDNN's own, to set against the GEMM peak the bench measures.
"""
import collections
import sys


def flops(shape):
    """2 * batch * M * N * K of a matmul's 'AxB:CxD:ExF' problem string."""
    a, b = shape.split(":")[:2]
    a = [int(x) for x in a.split("x")]
    b = [int(x) for x in b.split("x")]
    batch = 1
    for x in a[:-2]:
        batch *= x
    return 2.0 * batch * a[-2] * a[-1] * b[-1], batch > 1


def main():
    src = open(sys.argv[1]) if len(sys.argv) > 1 else sys.stdin
    steps = collections.defaultdict(lambda: {"n": 0, "ms": 0.0, "kinds":
                                             collections.defaultdict(lambda: [0.0, 0.0, 0])})
    label = None
    for line in src:
        f = line.rstrip("\n").split(",")
        if line.startswith("bench_mark,begin,") and f[3] == "step" and int(f[4]) >= 0:
            label = f[2]
        elif line.startswith("bench_mark,end,") and f[3] == "step" and label:
            steps[label]["n"] += 1
            steps[label]["ms"] += float(f[6])
            label = None
        elif label and line.startswith("onednn_verbose,exec,"):
            kind, ms = f[3], float(f[-1])
            fl = 0.0
            if kind == "matmul":
                fl, attn = flops(f[-2])
                kind = "matmul, attention" if attn else "matmul, linear layers"
            k = steps[label]["kinds"][kind]
            k[0] += ms
            k[1] += fl
            k[2] += 1
    if not steps:
        print("no timed steps with oneDNN exec lines (run tests/bench with ONEDNN_VERBOSE=1)")
        return 1
    for lab, st in steps.items():
        n, total = st["n"], st["ms"]
        print("%s: %d timed steps, %.1f ms per step (verbose timing included)" % (lab, n, total / n))
        inside = 0.0
        for kind, (ms, fl, calls) in sorted(st["kinds"].items(), key=lambda kv: -kv[1][0]):
            inside += ms
            rate = " %7.1f GFLOP/s" % (fl / ms * 1e-6) if fl else ""
            print("  %-24s %6d calls %9.1f ms/step %5.1f %%%s" % (
                kind, calls // n, ms / n, 100 * ms / total, rate))
        print("  %-24s %6s       %9.1f ms/step %5.1f %%" % (
            "outside oneDNN", "", (total - inside) / n, 100 * (total - inside) / total))
    return 0


if __name__ == "__main__":
    sys.exit(main())
