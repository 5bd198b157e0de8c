/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * The packing kernel behind ijepa__pack_b (ops.h): a float32 matrix B
 * [K, N] rounded to bf16 (as ijepa__to_bf16: to nearest, ties to even, NaN
 * stays NaN, subnormals kept) and written in the blocked layout oneDNN's
 * bf16 matmul reads its weights in ("BA16a<nb>b2a" in oneDNN's notation):
 * blocks of 32 rows of K by nb columns of N; inside a block, 16 row pairs
 * (k, k+1), each a run of nb bf16 pairs (B[k][n], B[k+1][n]). Element
 * (k, n) lies at
 *     (k / 32) sk + (n / nb) sn + ((k % 32) / 2) 2 nb + (n % nb) 2 + k % 2
 * bf16 values from the start; rows past K and columns past N up to the
 * padded Kp and Np are written as zeros. dnnl_ops.c reads nb, sk, sn, Kp, Np
 * from the memory descriptor of the plan (oneDNN's choice, or 16-column
 * blocks for amx.h's kernel) and uses this kernel only where the
 * descriptor is exactly this layout (else a oneDNN reorder). This file
 * includes no oneDNN header.
 *
 * One pass over B, in parallel over the blocks (OpenMP); the result does not
 * depend on the thread count. lvl: ijepa__simd_level (AVX-512 intrinsics, or
 * a portable loop).
 */
#ifndef IJEPA_PACK_H
#define IJEPA_PACK_H

#include <stdint.h>

#include "bf16.h"

typedef struct ijepa__blk_fmt {
    int64_t nb;      /* columns per block: 16, 32 or 64 */
    int64_t sk, sn;  /* bf16 values between consecutive row blocks, column blocks */
    int64_t Kp, Np;  /* K padded to 32, N padded to nb */
} ijepa__blk_fmt;

/* B [K, N] float32, stored [N, K] (row-major) when trans; dst as f says. */
void ijepa__pack_bf16(int lvl, const float *B, int trans, int64_t K, int64_t N,
                      const ijepa__blk_fmt *f, ijepa__bf16 *dst);

#endif /* IJEPA_PACK_H */
