/*
 * Compute kernels backed by oneDNN. dnnl_ops.c implements them and is the only
 * file of the library that includes oneDNN headers, so a port to another
 * oneDNN major version touches that file alone.
 *
 * All tensors are float32, dense, row-major. An ijepa__ops object belongs to
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

/* capacity: most cached primitives; the least recently used one is dropped
 * beyond it. err: where failures are recorded (the owning handle's record). */
int ijepa__ops_create(ijepa__ops **out, ijepa__engine *eng, int32_t capacity,
                      ijepa__err *err);
void ijepa__ops_free(ijepa__ops *ops);

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
