/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * Compute kernels backed by oneDNN. dnnl_ops.c implements them and is the only
 * file of the library that includes oneDNN headers, so a port to another
 * oneDNN major version touches that file alone.
 *
 * Tensors are float32 unless a function says otherwise (ijepa__matmul_x
 * takes bf16 operands), dense, row-major. An ijepa__ops object belongs to
 * one handle: it caches one oneDNN primitive (with its memory objects) per
 * distinct operation and shape, and owns the scratchpad they share, so that
 * repeating an operation allocates nothing. Outputs never alias inputs unless
 * stated. Every function returns IJEPA_OK or a negative status, with the
 * cause recorded in the ijepa__err the ops object was created with.
 */
#ifndef IJEPA_OPS_H
#define IJEPA_OPS_H

#include "internal.h"

typedef struct ijepa__engine ijepa__engine; /* CPU engine + stream */
typedef struct ijepa__ops ijepa__ops;       /* primitive cache + scratchpad */

int ijepa__engine_create(ijepa__engine **out, ijepa__err *err);
void ijepa__engine_free(ijepa__engine *eng);
const char *ijepa__engine_isa(void);
/* The oneDNN version the library runs on. */
void ijepa__engine_version(int *major, int *minor, int *patch);
/* 1 when bf16 matmuls run on oneDNN's bf16 kernels (AMX), 0 when emulated. */
int ijepa__engine_bf16_native(void);

/* capacity: most cached primitives; the least recently used one is dropped
 * beyond it. err: where failures are recorded (the owning handle's record). */
int ijepa__ops_create(ijepa__ops **out, ijepa__engine *eng, int32_t capacity,
                      ijepa__err *err);
void ijepa__ops_free(ijepa__ops *ops);

/* 1 when this ops object runs bf16 matmuls on oneDNN's bf16 kernels: with
 * AMX only, as oneDNN 2.6.3's AVX512-BF16 kernels were measured slower than
 * its float32 ones (docs/performance.md). Otherwise bf16 matmuls are
 * emulated: operands widened to float32, a float32 matmul, the result
 * rounded, which gives the same values at float32 speed. */
int ijepa__ops_bf16_native(const ijepa__ops *ops);
/* (tests) 0: emulate bf16 matmuls, 1: oneDNN's bf16 kernels, -1: as the ISA says */
void ijepa__ops_set_bf16_native(ijepa__ops *ops, int native);
/* Primitives this ops object has created (cache misses), for benchmarks. */
int64_t ijepa__ops_built(const ijepa__ops *ops);
/* Bytes of the shared scratchpad and the emulation buffers. */
int64_t ijepa__ops_scratch_bytes(const ijepa__ops *ops);
/* The bf16.h kernel level matching the ISA oneDNN dispatches to
 * (ONEDNN_MAX_CPU_ISA caps both). */
int ijepa__ops_simd(const ijepa__ops *ops);

/*
 * Batched matrix product:  C[b] = alpha * op(A[b]) . op(B[b]) + bias (+ C[b])
 *   A      [batch, M, K], or [batch, K, M] read transposed when trans_a
 *   B      [batch, K, N], or [batch, N, K] read transposed when trans_b
 *   bias   NULL or [N], added to every row; only with alpha == 1
 *          (IJEPA_ERR_INVALID_ARG otherwise)
 *   C      [batch, M, N]; with accumulate the product is added to C
 * A Linear layer y = x W^T + b with PyTorch W [out, in] is
 *   ijepa__matmul(ops, 1, rows, out, in, x, 0, W, 1, b, 1, 0, y).
 */
int ijepa__matmul(ijepa__ops *ops, int64_t batch, int64_t M, int64_t N,
                  int64_t K, const float *A, int trans_a, const float *B,
                  int trans_b, const float *bias, float alpha, int accumulate,
                  float *C);

/* Flags of ijepa__matmul_x. */
enum {
    IJEPA__MM_BF16 = 1,        /* A and B are bf16 (uint16_t, bf16.h) */
    IJEPA__MM_OUT_BF16 = 2,    /* C is bf16, rounded to nearest even */
    IJEPA__MM_GELU = 4,        /* C = GELU(alpha op(A) op(B) + bias), exact GELU */
    IJEPA__MM_ONEDNN_BF16 = 8  /* (benchmarks) oneDNN's bf16 kernel even where emulated */
};

/*
 * ijepa__matmul with other data types: flags as above. Accumulation is in
 * float32 whatever the types; accumulate needs a float32 C and no GELU
 * (IJEPA_ERR_INVALID_ARG otherwise).
 */
int ijepa__matmul_x(ijepa__ops *ops, int64_t batch, int64_t M, int64_t N, int64_t K,
                    const void *A, int trans_a, const void *B, int trans_b,
                    const float *bias, float alpha, int accumulate, void *C, int flags);

/*
 * The same plus an addend: C = alpha op(A) op(B) + bias + addend, addend
 * [batch, M, N] float32 (not aliasing C), added in the matmul's epilogue
 * (a oneDNN binary post-op): a residual connection without a copy of the
 * residual into C first. C float32; not with accumulate or GELU
 * (IJEPA_ERR_INVALID_ARG). addend NULL: ijepa__matmul_x.
 */
int ijepa__matmul_add(ijepa__ops *ops, int64_t batch, int64_t M, int64_t N, int64_t K,
                      const void *A, int trans_a, const void *B, int trans_b,
                      const float *bias, float alpha, int accumulate, const float *addend,
                      void *C, int flags);

/*
 * LayerNorm over the last axis of x [rows, C]:
 *   y = (x - mean) / sqrt(var + eps) * gamma + beta
 * gamma and beta both NULL: no affine. mean and var [rows] (biased variance)
 * are written when not NULL (training); both NULL for inference.
 */
int ijepa__layernorm_fwd(ijepa__ops *ops, int64_t rows, int64_t C, float eps,
                         const float *x, const float *gamma, const float *beta,
                         float *y, float *mean, float *var);

/*
 * LayerNorm backward from the forward's x, mean, var.
 *   dx [rows, C] written. With gamma (not NULL): dgamma and dbeta [C] are
 *   written (overwritten, not accumulated). gamma NULL: no affine, dgamma
 *   and dbeta are ignored.
 */
int ijepa__layernorm_bwd(ijepa__ops *ops, int64_t rows, int64_t C, float eps,
                         const float *x, const float *mean, const float *var,
                         const float *gamma, const float *dy, float *dx,
                         float *dgamma, float *dbeta);

/* Softmax over the last axis of x [rows, cols]. y may alias x. */
int ijepa__softmax_fwd(ijepa__ops *ops, int64_t rows, int64_t cols,
                       const float *x, float *y);
/* dx = y * (dy - sum(dy * y)) per row, from the forward output y. */
int ijepa__softmax_bwd(ijepa__ops *ops, int64_t rows, int64_t cols,
                       const float *y, const float *dy, float *dx);

/* Exact GELU, y = x * Phi(x), elementwise over n values. */
int ijepa__gelu_fwd(ijepa__ops *ops, int64_t n, const float *x, float *y);
/* dx = dy * GELU'(x). dx may alias dy. */
int ijepa__gelu_bwd(ijepa__ops *ops, int64_t n, const float *x,
                    const float *dy, float *dx);

#endif /* IJEPA_OPS_H */
