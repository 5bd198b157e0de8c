/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * Plain-C reference kernels for the tests, in double precision.
 *
 * Each kernel has the exact semantics of its float32 counterpart in
 * lib/ops.h, written as directly as possible (no blocking, no clever
 * summation) so that it can be read against the formula. The tests compare
 * the oneDNN kernels with these, and check these backward kernels against
 * central finite differences of these forward kernels.
 *
 * Also: a small seeded random generator for test data, allocation and
 * conversion helpers, and a comparison that reports the worst element.
 * Nothing here depends on Check or on the library, so it can be compiled
 * and tried on its own.
 */
#ifndef IJEPA_TESTS_REF_H
#define IJEPA_TESTS_REF_H

#include <stddef.h>
#include <stdint.h>

/* Unit roundoff of float32 (half an ulp of 1): the scale of every float32
 * error bound in the tests. */
#define REF_U32 0x1p-24

/* --- random test data ------------------------------------------------------ */

/* splitmix64: one 64-bit state word, same stream on every machine. */
typedef struct ref_rng { uint64_t s; } ref_rng;

void ref_rng_seed(ref_rng *r, uint64_t seed);
uint64_t ref_rng_u64(ref_rng *r);
/* uniform in [0, 1), 53 random bits */
double ref_rng_uniform(ref_rng *r);
/* uniform in [lo, hi) */
double ref_rng_range(ref_rng *r, double lo, double hi);
/* standard normal (Box-Muller with libm; test data only) */
double ref_rng_normal(ref_rng *r);
/* uniform integer in [0, n), n >= 1 */
int64_t ref_rng_int(ref_rng *r, int64_t n);

/* x[i] = uniform in [lo, hi), float or double */
void ref_fill_f(float *x, int64_t n, ref_rng *r, double lo, double hi);
void ref_fill_d(double *x, int64_t n, ref_rng *r, double lo, double hi);

/* --- memory and conversions ------------------------------------------------ */

/* zeroed arrays (NULL on failure or n < 0); free with free() */
float *ref_falloc(int64_t n);
double *ref_dalloc(int64_t n);

void ref_f2d(double *dst, const float *src, int64_t n);
void ref_d2f(float *dst, const double *src, int64_t n);
void ref_dabs(double *dst, const double *src, int64_t n); /* dst may be src */
double ref_max_abs_d(const double *x, int64_t n);
double ref_max_abs_f(const float *x, int64_t n);

/* --- comparison ------------------------------------------------------------ */

/*
 * Result of comparing n values got[] with reference values want[], each with
 * its own tolerance tol_i (see ref_compare_*). ratio = |got_i - want_i| /
 * tol_i; the comparison passes when worst_ratio <= 1 and every got is finite
 * (a NaN or Inf gives worst_ratio = +Inf).
 */
typedef struct ref_cmp {
    double max_abs;     /* max |got - want| */
    int64_t at_abs;     /* where */
    double max_rel;     /* max |got - want| / |want| over want != 0 */
    int64_t at_rel;
    double worst_ratio; /* max |got - want| / tol */
    int64_t at_worst;
    double worst_got, worst_want, worst_tol;
    int64_t n;
} ref_cmp;

/* tol_i = atol + rtol * |want_i| + (bound ? bound[i] : 0) */
ref_cmp ref_compare_f(const float *got, const double *want, int64_t n,
                      double atol, double rtol, const double *bound);
ref_cmp ref_compare_d(const double *got, const double *want, int64_t n,
                      double atol, double rtol, const double *bound);
static inline int ref_cmp_ok(const ref_cmp *c) { return c->worst_ratio <= 1.0; }
/* One line describing c (for failure messages). Returns buf. */
const char *ref_cmp_str(const ref_cmp *c, char *buf, size_t size);

/* --- kernels (semantics of lib/ops.h, in double) ---------------------------- */

/*
 * C[b] = alpha * op(A[b]) . op(B[b]) + bias (+ C[b] when accumulate)
 *   A [batch, M, K] or [batch, K, M] when trans_a
 *   B [batch, K, N] or [batch, N, K] when trans_b
 *   bias NULL or [N] (not scaled by alpha), C [batch, M, N]
 */
void ref_matmul(int64_t batch, int64_t M, int64_t N, int64_t K,
                const double *A, int trans_a, const double *B, int trans_b,
                const double *bias, double alpha, int accumulate, double *C);

/*
 * Gradients of ref_matmul given dC [batch, M, N]; each output may be NULL.
 *   dA in A's storage layout, dB in B's, dbias [N] summed over batch and rows.
 * Written, not accumulated. (The accumulated C term has gradient dC itself.)
 */
void ref_matmul_bwd(int64_t batch, int64_t M, int64_t N, int64_t K,
                    const double *A, int trans_a, const double *B, int trans_b,
                    double alpha, const double *dC, double *dA, double *dB,
                    double *dbias);

/*
 * LayerNorm over the last axis of x [rows, C]:
 *   y = (x - mean) / sqrt(var + eps) * gamma + beta, biased variance.
 * gamma, beta NULL: no affine. mean, var [rows] written when not NULL.
 */
void ref_layernorm_fwd(int64_t rows, int64_t C, double eps, const double *x,
                       const double *gamma, const double *beta, double *y,
                       double *mean, double *var);

/*
 * LayerNorm backward from x, mean, var of the forward; dx [rows, C] written;
 * with gamma: dgamma, dbeta [C] written (either may be NULL).
 */
void ref_layernorm_bwd(int64_t rows, int64_t C, double eps, const double *x,
                       const double *mean, const double *var,
                       const double *gamma, const double *dy, double *dx,
                       double *dgamma, double *dbeta);

/* softmax over the last axis of x [rows, cols] */
void ref_softmax_fwd(int64_t rows, int64_t cols, const double *x, double *y);
/* dx = y * (dy - sum(dy * y)) per row */
void ref_softmax_bwd(int64_t rows, int64_t cols, const double *y,
                     const double *dy, double *dx);

/* exact GELU: y = 0.5 x (1 + erf(x / sqrt 2)) */
void ref_gelu_fwd(int64_t n, const double *x, double *y);
/* dx = dy * (Phi(x) + x phi(x)); dx may alias dy */
void ref_gelu_bwd(int64_t n, const double *x, const double *dy, double *dx);

/* --- finite differences ----------------------------------------------------- */

/*
 * A forward function for ref_fd_grad: computes its ny outputs into y from
 * inputs reachable through ctx (which include the array being perturbed).
 */
typedef void (*ref_fwd_fn)(void *ctx, double *y);

/*
 * Central-difference gradient of the loss L = sum_j y_j R_j with respect to
 * each of x[0..nx-1]:
 *   g[i] = sum_j (y_j(x + h e_i) - y_j(x - h e_i)) R_j / (2h)
 * (the output difference is taken before the weighted sum, which loses less
 * to cancellation than differencing two losses). x is restored exactly.
 * Returns 0, or -1 if scratch memory could not be allocated.
 */
int ref_fd_grad(ref_fwd_fn f, void *ctx, double *x, int64_t nx, int64_t ny,
                const double *R, double h, double *g);

#endif /* IJEPA_TESTS_REF_H */
