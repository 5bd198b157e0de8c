/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * The library's own batched bf16 products on AVX512-BF16 (VDPBF16PS, e.g.
 * AMD Zen 4), for CPUs without AMX: the attention's small per-item products
 * (queries x keys, probabilities x values and their gradients), which
 * oneDNN 2.6.3 runs there as batched matmuls at half its bf16 peak or
 * less, and which run item by item here so that the softmax between them
 * meets its scores in cache (dnnl_ops.c's ijepa__attention_fwd16/_bwd16).
 * The same contract as amx.h's ijepa__amx_bmm / _items, with the sums in
 * another order: float32 sums over pairs of K in order, C rounded to
 * nearest even. Also the Linear layers' weight gradients there
 * (ijepa__dpbf16_wgrad, the contract of amx.h's ijepa__amx_wgrad): as fast
 * as oneDNN's transposed-A matmul, and deterministic, with the LayerNorm's
 * output made while x is packed. This file includes no oneDNN header.
 */
#ifndef IJEPA_DPBF16_H
#define IJEPA_DPBF16_H

#include <stdint.h>

#include "amx.h" /* ijepa__amx_cmap */
#include "bf16.h"

/* 1 when this process can run these kernels: an x86-64 CPU with
 * AVX512-BF16 and AVX-512 F/DQ/BW/VL whose OS saves the ZMM state, else
 * 0. Asked once per process. */
int ijepa__dpbf16_usable(void);

/*
 * Batched products: for b in [0, batch), C_b = alpha op(A_b) . op(B_b),
 * all bf16 row-major and contiguous item after item: A_b [M, K] at
 * A + b M K (trans_a: stored as A_b^T [K, M]), B_b [K, N] at B + b K N
 * (trans_b: stored as B_b^T [N, K]), C_b [M, N] at C + b M N, or where cm
 * (not NULL) says; only C's M x N values are written, nothing is read
 * past an item's M K or K N values. Each output is a float32 sum over
 * the pairs of K in order (VDPBF16PS), scaled by alpha and rounded to
 * nearest even. Each item is one thread's, so the result does not depend
 * on the thread count. scratch: ijepa__dpbf16_bmm_scratch_bytes(M, N, K,
 * threads) bytes, 64-byte aligned. Call only when ijepa__dpbf16_usable();
 * dimensions >= 1 (the caller checks).
 */
int64_t ijepa__dpbf16_bmm_scratch_bytes(int64_t M, int64_t N, int64_t K, int threads);
void ijepa__dpbf16_bmm(int64_t batch, int64_t M, int64_t N, int64_t K, const ijepa__bf16 *A,
                       int trans_a, const ijepa__bf16 *B, int trans_b, float alpha,
                       ijepa__bf16 *C, const ijepa__amx_cmap *cm, void *scratch, int threads);
/* Items [b0, b1) of that product on the calling thread alone, in no
 * OpenMP region of its own: the same bits. scratch:
 * ijepa__dpbf16_bmm_scratch_bytes(M, N, K, 1) bytes, 64-byte aligned. */
void ijepa__dpbf16_bmm_items(int64_t b0, int64_t b1, int64_t M, int64_t N, int64_t K,
                             const ijepa__bf16 *A, int trans_a, const ijepa__bf16 *B,
                             int trans_b, float alpha, ijepa__bf16 *C,
                             const ijepa__amx_cmap *cm, void *scratch);

/*
 * Weight gradient: gW [O, I] float32 row-major += dy^T . x, dy bf16 [R, O]
 * and x bf16 [R, I] row-major (R rows, the tokens); any O, I, R >= 1.
 * xg, xb: NULL, or [I] each: x is a LayerNorm's kept xhat and the product
 * reads bf16(x xg + xb), the values ijepa__layernorm_affine_bf16 gives at
 * the AVX-512 level. Each output is summed over the rows in order, a pair
 * of rows per VDPBF16PS, onto gW's value: the result does not depend on
 * the thread count. scratch: ijepa__dpbf16_wgrad_scratch_bytes(O, I,
 * threads) bytes, 64-byte aligned; at most `threads` OpenMP threads run
 * it. Call only when ijepa__dpbf16_usable().
 */
int64_t ijepa__dpbf16_wgrad_scratch_bytes(int64_t O, int64_t I, int threads);
void ijepa__dpbf16_wgrad(int64_t R, int64_t O, int64_t I, const ijepa__bf16 *dy,
                         const ijepa__bf16 *x, const float *xg, const float *xb, float *gW,
                         void *scratch, int threads);
#endif /* IJEPA_DPBF16_H */
