/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * Plain-C kernels of the bf16 (mixed-precision) compute path: conversions
 * between float32 and bfloat16, and the element-wise steps around the bf16
 * matmuls fused so that each reads and writes its data once: LayerNorm
 * forward with a bf16 output, LayerNorm backward added into the residual
 * gradient, softmax with a bf16 output (and masked padding columns), its
 * backward, exact GELU (looked up) and its backward with the bias gradient, the rounding
 * of a gradient to bf16 with its bias gradient.
 *
 * Arithmetic is float32 throughout; bf16 is a storage format. A float32 is
 * rounded to bf16 to nearest, ties to even (NaN stays NaN), as oneDNN and
 * PyTorch do. Every kernel is deterministic: the column sums (bias and
 * LayerNorm parameter gradients) add fixed row blocks whose bounds depend on
 * the sizes only, in block order, so the result does not depend on the
 * number of threads either.
 *
 * lvl selects the instruction set the loops are compiled for
 * (ijepa__simd_level); every level computes the same values up to the
 * order of the float32 operations the compiler vectorises (and, on AMD, the
 * AVX-512 softmax's exp, ijepa__softmax_exp_by_poly).
 *
 * part, where asked for, is scratch of IJEPA__NB_MAX * C floats.
 */
#ifndef IJEPA_BF16_H
#define IJEPA_BF16_H

#include <stdint.h>

typedef uint16_t ijepa__bf16; /* the high half of a float32 */

/* Row blocks of the fused column sums, at most. */
#define IJEPA__NB_MAX 32

enum { IJEPA__SIMD_GENERIC = 0, IJEPA__SIMD_AVX2 = 1, IJEPA__SIMD_AVX512 = 2 };

/* The best SIMD level this CPU runs, at most cap. */
int ijepa__simd_level(int cap);

/* Scalar conversions (also what the kernels compute element-wise). */
static inline ijepa__bf16 ijepa__bf16_round(float f)
{
    union { float f; uint32_t u; } v = {f};
    if ((v.u & 0x7fffffffu) > 0x7f800000u)
        return (ijepa__bf16)((v.u >> 16) | 0x40u); /* quiet NaN */
    return (ijepa__bf16)((v.u + 0x7fffu + ((v.u >> 16) & 1u)) >> 16);
}

static inline float ijepa__bf16_float(ijepa__bf16 h)
{
    union { uint32_t u; float f; } v = {(uint32_t)h << 16};
    return v.f;
}

/* y = bf16(x), n values */
void ijepa__to_bf16(int lvl, const float *x, ijepa__bf16 *y, int64_t n);
/* y = float(x), n values */
void ijepa__from_bf16(int lvl, const ijepa__bf16 *x, float *y, int64_t n);

/* y [R, C] = bf16(x); gb[c] += sum_r y[r, c] (of the rounded values) when gb */
void ijepa__to_bf16_colsum(int lvl, int64_t R, int64_t C, const float *x, ijepa__bf16 *y,
                           float *gb, float *part);
/* gb[c] += sum_r x[r, c];  x [R, C] */
void ijepa__colsum_bf16(int lvl, int64_t R, int64_t C, const ijepa__bf16 *x, float *gb,
                        float *part);

/*
 * LayerNorm over the last axis of x [R, C] (float32), output bf16, in two
 * roundings:
 *   xhat = bf16((x - mean) / sqrt(var + eps)),  y = bf16(xhat * gamma + beta)
 * (biased variance). gamma, beta NULL: no affine (y = xhat). With xh (not
 * NULL) xhat [R, C] is written, with rstd (not NULL) 1 / sqrt(var + eps)
 * [R]: what the backward and a recomputation of y need instead of x. At
 * the AVX-512 level xhat's whole aligned 32-byte pieces go out with
 * non-temporal stores (it is read only in the backward), fenced before
 * the call returns.
 */
void ijepa__layernorm_bf16(int lvl, int64_t R, int64_t C, float eps, const float *x,
                           const float *gamma, const float *beta, ijepa__bf16 *y,
                           ijepa__bf16 *xh, float *rstd);

/* y = bf16(xhat * gamma + beta) from a kept xhat [R, C]: the same bits as
 * the forward's y. */
void ijepa__layernorm_affine_bf16(int lvl, int64_t R, int64_t C, const ijepa__bf16 *xh,
                                  const float *gamma, const float *beta, ijepa__bf16 *y);

/*
 * LayerNorm backward from the forward's xhat and rstd, accumulating:
 *   dx [R, C] += rstd (g - mean(g) - xhat mean(g xhat)), g = dy gamma,
 *   for dy = dL/dy [R, C] (float32);
 *   with gamma: dgamma[c] += sum_r dy xhat, dbeta[c] += sum_r dy
 *   (part: IJEPA__NB_MAX * 2 * C floats).
 */
void ijepa__layernorm_bwd_add(int lvl, int64_t R, int64_t C, const ijepa__bf16 *xh,
                              const float *rstd, const float *gamma, const float *dy,
                              float *dx, float *dgamma, float *dbeta, float *part);
/* The same with gamma, then as ijepa__to_bf16_colsum on the new dx:
 * dx16 = bf16(dx), gb[c] += sum_r dx16 (the bias gradient of the product
 * below); one pass where the two read dx twice, the same values (part:
 * IJEPA__NB_MAX * 3 * C floats). */
void ijepa__layernorm_bwd_add_bf16(int lvl, int64_t R, int64_t C, const ijepa__bf16 *xh,
                                   const float *rstd, const float *gamma, const float *dy,
                                   float *dx, float *dgamma, float *dbeta, ijepa__bf16 *dx16,
                                   float *gb, float *part);

/*
 * Softmax of each row of the bf16 scores x [rows, cols] over its first
 * `valid` columns, in float32, output bf16; the other columns of y are 0
 * (padding keys). y may be x.
 */
void ijepa__softmax_bf16(int lvl, int64_t rows, int64_t cols, int64_t valid,
                         const ijepa__bf16 *x, ijepa__bf16 *y);
/* The same on float32 scores x with a float32 output y (y may be x; x is
 * overwritten either way). */
void ijepa__softmax_masked(int lvl, int64_t rows, int64_t cols, int64_t valid, float *x,
                           float *y);
/* For tests: whether the AVX-512 softmax evaluates exp(x) of its bf16
 * scores (1, on AMD's cores) or looks it up (0); set >= 0 sets it for the
 * process, so that the tests take both paths on any CPU (not thread-safe
 * against a running softmax). Returns the setting before. */
int ijepa__softmax_exp_by_poly(int set);
/* For tests: whether the AVX-512 kernels round with VCVTNEPS2BF16 (1 where
 * the CPU has AVX512-BF16) or without; set 0 or 1 (1 only where it has
 * it), < 0 asks. Same values either way. Returns the setting before. */
int ijepa__bf16_round_by_cvt(int set);
/* dx = bf16(y * (dy - sum_j y_j dy_j)) per row, in float32; y, dy, dx bf16,
 * dx may be dy */
void ijepa__softmax_bwd_bf16(int lvl, int64_t rows, int64_t cols, const ijepa__bf16 *y,
                             const ijepa__bf16 *dy, ijepa__bf16 *dx);
/* Those two on the calling thread alone, in no OpenMP region of their own
 * (rows already shared out, one attention item per thread): the same
 * values, row by row. */
void ijepa__softmax_bf16_serial(int lvl, int64_t rows, int64_t cols, int64_t valid,
                                const ijepa__bf16 *x, ijepa__bf16 *y);
void ijepa__softmax_bwd_bf16_serial(int lvl, int64_t rows, int64_t cols, const ijepa__bf16 *y,
                                    const ijepa__bf16 *dy, ijepa__bf16 *dx);

/* y = bf16(GELU(x)), exact (erf) GELU, n values: the bf16 rounding of the
 * exact value, looked up in a table of every bf16 input (made at the first
 * call, once per process, thread-safe). y may alias x. */
void ijepa__gelu_bf16(int lvl, int64_t n, const ijepa__bf16 *x, ijepa__bf16 *y);
/* The table ijepa__gelu_bf16 reads: entry h is bf16(GELU(x)) of the bf16
 * value with bits h, 65536 entries and 2 more (zeros) so that a 4-byte
 * gather at 2 h stays inside. Made once per process. */
const ijepa__bf16 *ijepa__gelu_table(void);
/* For tests: whether the AVX-512 GELU kernels (ijepa__gelu_bf16,
 * ijepa__gelu_bwd_bf16) read the tables with scalar loads (1, on AMD's
 * cores, whose gathers are slow) or gathers (0); set >= 0 sets it for the
 * process, -1 only asks. Returns the previous value. The same values. */
int ijepa__gelu_lookup_scalar(int set);
/*
 * dx [R, C] = bf16(dy * GELU'(x)), GELU' the float32 rounding of the exact
 * derivative (a table as above); dx may alias dy. With g (not NULL, not
 * aliasing x, dy or dx): g [R, C] = bf16(GELU(x)) in the same pass, the
 * forward's output again for a weight gradient. With gb: gb[c] += sum_r
 * dx[r, c] (the bias gradient of the layer whose output x was).
 */
void ijepa__gelu_bwd_bf16(int lvl, int64_t R, int64_t C, const ijepa__bf16 *x,
                          const ijepa__bf16 *dy, ijepa__bf16 *dx, ijepa__bf16 *g, float *gb,
                          float *part);

#endif
