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
/* 1 when bf16 matmuls run on oneDNN's bf16 kernels (AMX or AVX512-BF16),
 * 0 when emulated. */
int ijepa__engine_bf16_native(void);

/* capacity: most cached primitives; the least recently used one is dropped
 * beyond it. err: where failures are recorded (the owning handle's record). */
int ijepa__ops_create(ijepa__ops **out, ijepa__engine *eng, int32_t capacity,
                      ijepa__err *err);
void ijepa__ops_free(ijepa__ops *ops);

/* 1 when this ops object runs bf16 matmuls on oneDNN's bf16 kernels: where
 * oneDNN dispatches to AVX512-BF16 or AMX (ijepa__engine_bf16_native), and
 * the own AMX kernels (amx.h) where the CPU has AMX. Otherwise bf16
 * matmuls are emulated: operands widened to float32, a float32 matmul, the
 * result rounded, which gives the same values at float32 speed. */
int ijepa__ops_bf16_native(const ijepa__ops *ops);
/* The error record the ops object reports into (its owner's). */
ijepa__err *ijepa__ops_err(const ijepa__ops *ops);
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
    IJEPA__MM_ONEDNN_BF16 = 8, /* (benchmarks) oneDNN's bf16 kernel even where emulated */
    IJEPA__MM_B_PACKED = 16    /* B was written by ijepa__pack_b (needs IJEPA__MM_BF16, batch 1) */
};

/*
 * ijepa__matmul with other data types: flags as above. Accumulation is in
 * float32 whatever the types; accumulate needs a float32 C and no GELU
 * (IJEPA_ERR_INVALID_ARG otherwise). With IJEPA__MM_B_PACKED, B is what
 * ijepa__pack_b(ops, K, N, ., trans_b, B) wrote (see below); it needs
 * IJEPA__MM_BF16 and batch 1 (IJEPA_ERR_INVALID_ARG otherwise).
 * Plain bf16 products into a bf16 C (flags exactly IJEPA__MM_BF16 |
 * IJEPA__MM_OUT_BF16, no bias, no accumulation: attention's) run on an own
 * kernel where bf16 is native and M, N, K are at most 1024: amx.h's
 * ijepa__amx_bmm where ijepa__ops_amx(), else dpbf16.h's ijepa__dpbf16_bmm
 * where oneDNN dispatches to AVX512-BF16 and the CPU runs it; unless
 * turned off by ijepa__ops_set_amx_bmm(ops, 0) (tests). They differ from
 * oneDNN in float32 rounding only.
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
 * Pre-packed bf16 B operands (the weights of linear layers).
 *
 * oneDNN's AMX matmul (brgemm) reads B in a blocked layout of its own
 * (2.6.3: 32 rows of K by 64 columns of N, bf16 pairs along K; the own
 * AMX kernel gets 16-column blocks, below); given a
 * plain B it copies it into that layout on every call, in every thread. A
 * weight used several times per step is cheaper packed once:
 * ijepa__pack_b rounds a float32 B to bf16 (to nearest even) and writes it
 * in that layout in one pass (a oneDNN reorder), and ijepa__matmul_x with
 * IJEPA__MM_B_PACKED reads it as is.
 *
 * The layout is chosen per (K, N), once per ops object, from the matmul
 * oneDNN builds for a large M (PACK_PROBE_M rows); it is kept for every M:
 * each packed matmul primitive is created with that fixed layout (not
 * "any"), so the layout never depends on the row count of a step. (Measured
 * on 2.6.3 with AMX, M from 1 to 25000 on the ViT-S, fmnist and test
 * shapes: "any" gives this same layout for every M except N = 64 with M
 * from 7 to 31, where it offers a 32-column variant; brgemm takes the
 * 64-column layout for all of them, with every post-op used here.) A
 * primitive whose implementation for the fixed layout is not brgemm (it
 * would be oneDNN's slow reference kernel) is never used: that M runs the
 * plain-layout matmul on B unpacked into scratch, and
 * ijepa__ops_pack_fallbacks counts such shapes.
 *
 * Where that layout is pack.h's own, N is a multiple of 32 and the own AMX
 * kernel is on (ijepa__ops_set_amx) when the plan is made, the plan takes
 * 16-column blocks instead ("BA16a16b2a": each block one 1 KiB tile, a
 * column block's steps of K one after another), which that kernel streams
 * faster; oneDNN reads it too, where it runs a packed product.
 *
 * Packing happens only where bf16 matmuls run natively
 * (ijepa__ops_bf16_native) and the shape packs (ijepa__pack_layout);
 * otherwise ijepa__pack_b writes plain bf16 in the layout trans_b gives
 * and the packed matmul reads it as the plain path does (the emulated path
 * is unchanged). A packed buffer is valid for the ops object that wrote it,
 * the same K, N and trans_b, and until the mode changes
 * (ijepa__ops_set_bf16_native, ijepa__ops_set_packing).
 *
 * Rounding: the reorder rounds to nearest even like ijepa__to_bf16 but
 * flushes float32 values below 2^-126 (subnormals) to a signed zero, where
 * ijepa__to_bf16 keeps a bf16 subnormal; the AMX and AVX512-BF16 dot
 * products read bf16 subnormals as zero, so the products are the same.
 */

/* Bytes ijepa__pack_b may write for a K x N operand in any mode: K rounded
 * up to 32 times N rounded up to 64, two bytes each, a multiple of 64 (a
 * layout oneDNN wants larger is not used: the shape stays plain). Needs no
 * ops object, so sizes can be planned before one exists. */
int64_t ijepa__pack_bytes(int64_t K, int64_t N);

/*
 * Write B [K, N] (float32; stored [N, K] when trans_b) as the bf16 B operand
 * of a matmul with IJEPA__MM_B_PACKED and the same K, N, trans_b: packed
 * where ijepa__pack_layout says so, else plain bf16 stored as B is. dst:
 * ijepa__pack_bytes(K, N) bytes, 64-byte aligned. The first call for a
 * shape builds its plan and reorder (then cached; nothing is allocated
 * afterwards). Returns IJEPA_OK, IJEPA_ERR_INVALID_ARG (a dimension < 1),
 * or an oneDNN failure (IJEPA_ERR_NOMEM, IJEPA_ERR_BACKEND).
 */
int ijepa__pack_b(ijepa__ops *ops, int64_t K, int64_t N, const float *B, int trans_b,
                  void *dst);

/* 1 when ijepa__pack_b packs a K x N operand on this ops object (bf16
 * native, packing on, and oneDNN's layout for the shape is a plain blocked
 * one within ijepa__pack_bytes, with brgemm and both reorders available),
 * 0 when it writes plain bf16, or a negative status. */
int ijepa__pack_layout(ijepa__ops *ops, int64_t K, int64_t N);

/* (tests) 1: pack where possible (the default); 0: never pack; 2: pack,
 * but run every packed matmul through the unpack fallback. */
void ijepa__ops_set_packing(ijepa__ops *ops, int mode);
/* Packed matmul shapes that run through the unpack fallback (tests). */
int64_t ijepa__ops_pack_fallbacks(const ijepa__ops *ops);

/* Packed matmuls (B from ijepa__pack_b in pack.h's layout, A not
 * transposed, no GELU) run on the library's own AMX kernel (amx.h) where
 * the CPU and kernel allow AMX, else on oneDNN's. (tests, benchmarks) 1:
 * the own kernel where possible (the default), 0: always oneDNN's. */
void ijepa__ops_set_amx(ijepa__ops *ops, int on);
/* 1 when packed matmuls of this ops object run on the own AMX kernel: it is
 * on (ijepa__ops_set_amx), the CPU has AMX and oneDNN dispatches to it. */
int ijepa__ops_amx(const ijepa__ops *ops);

/*
 * A Linear layer's weight gradient: gW [O, I] += dy^T . x, dy bf16 [R, O],
 * x bf16 [R, I] (the bf16 training backward); with xg and xb (both [I], or
 * both NULL) x is a LayerNorm's kept xhat and the product reads its output
 * bf16(x xg + xb) as ijepa__layernorm_affine_bf16 gives it at the ops'
 * level, without writing it. On the own AMX kernel (amx.h's
 * ijepa__amx_wgrad, which makes the LayerNorm's output while it makes its
 * tiles) where ijepa__ops_amx() and O, I are multiples of 32, else on the
 * own AVX512-BF16 kernel (dpbf16.h's ijepa__dpbf16_wgrad, the same while
 * it packs x) where bf16 is native and oneDNN dispatches to AVX512-BF16
 * (any O, I); with xg, only where the ops' level is AVX-512; unless turned
 * off by ijepa__ops_set_amx_wgrad(ops, 0) (tests). Otherwise the
 * LayerNorm's output into scratch, then oneDNN's transposed-A matmul. They
 * differ in float32 rounding only; the own kernels' results do not depend
 * on the thread count. Returns IJEPA_OK or a negative status (bad
 * dimensions, xg without xb, no memory for the scratch, oneDNN's
 * failures).
 */
int ijepa__matmul_wgrad(ijepa__ops *ops, int64_t R, int64_t O, int64_t I,
                        const uint16_t *dy, const uint16_t *x, const float *xg,
                        const float *xb, float *gW);
void ijepa__ops_set_amx_wgrad(ijepa__ops *ops, int on);
/* 1 when ijepa__matmul_wgrad of O x I outputs (x not a LayerNorm's) runs
 * on an own kernel here, whose result does not depend on the thread
 * count; 0 when on oneDNN's. */
int ijepa__ops_wgrad_own(const ijepa__ops *ops, int64_t O, int64_t I);

/*
 * A batched bf16 product as ijepa__matmul_x with flags IJEPA__MM_BF16 |
 * IJEPA__MM_OUT_BF16 (no bias, no accumulation), whose items write C where
 * the heads of a sequence merge: item b = s H + h at C + s cs + h ch, ldc
 * values between its rows (ldc >= N, H >= 1 dividing batch, strides >= 0;
 * items must not overlap: threads write them at once); nothing else of C
 * is written. On the own AMX kernel where ijepa__matmul_x would run the
 * product there (the same values); otherwise the product into scratch,
 * then its rows copied.
 * Returns IJEPA_OK or a negative status (bad dimensions or map, no memory).
 */
int ijepa__matmul_bf16_to(ijepa__ops *ops, int64_t batch, int64_t M, int64_t N, int64_t K,
                          const void *A, int trans_a, const void *B, int trans_b, float alpha,
                          void *C, int64_t H, int64_t cs, int64_t ch, int64_t ldc);
/* (tests) 0: the batched bf16 products of ijepa__matmul_x on oneDNN's
 * kernels, 1: on the own AMX or AVX512-BF16 kernel where it runs them (the
 * default). */
void ijepa__ops_set_amx_bmm(ijepa__ops *ops, int on);

/*
 * Attention on the own AMX kernel, one item (a sequence's head) after
 * another on each thread, so that its scores stay in cache from the
 * product that makes them to the ones that read them. The batched calls
 * it replaces read them back from memory: the products ran at a third of
 * their warm-cache speed in the step. The same values, bit for bit, as
 * those calls (each item's work is the same; items are independent).
 *
 * ijepa__attention_fwd16, for items b < `items` (bf16 throughout, rows
 * of hd values, item after item): P_b [Tq, T] = softmax over the first
 * `valid` keys of bf16(scale q_b k_b^T) (ijepa__matmul_x, then
 * ijepa__softmax_bf16), then out_b = P_b v_b, at out + b Tq hd (H 0) or
 * where the map (H, cs, ch, ldc) of ijepa__matmul_bf16_to puts it. P_b is
 * kept at P + b Tq T for the backward, or with P NULL (a forward without
 * one) lives in the thread's scratch only: the same out, no array of
 * items x Tq x T scores written to memory.
 *
 * ijepa__attention_bwd16, from dO_b [Tq, hd] and the forward's P:
 * dP_b = dO_b v_b^T, dv_b = P_b^T dO_b, dS_b = softmax backward
 * (ijepa__softmax_bwd_bf16), dq_b = scale dS_b k_b, dk_b = scale dS_b^T
 * q_b, each at dq, dk, dv as the map (H >= 1) says; dP and dS live in a
 * thread's scratch only.
 *
 * On AMX, while an item runs, the next one's operands and outputs are
 * fetched into cache: in the step they come from memory.
 *
 * Return IJEPA_OK, IJEPA_ERR_UNSUPPORTED where ijepa__ops_attention_own
 * is 0 (the caller makes the batched calls), IJEPA_ERR_INVALID_ARG for bad
 * sizes or map, IJEPA_ERR_NOMEM when its scratch cannot grow.
 */
int ijepa__ops_attention_own(const ijepa__ops *ops, int64_t Tq, int64_t T, int64_t hd);
/* What ijepa__ops_attention_own says of a new ops object for T queries
 * (or fewer) and keys, before one exists: a stack sizes its buffers with it. */
int ijepa__attention_own_default(int64_t T, int64_t hd);
int ijepa__attention_fwd16(ijepa__ops *ops, int64_t items, int64_t Tq, int64_t T, int64_t hd,
                           int64_t valid, float scale, const void *q, const void *k,
                           const void *v, void *P, void *out, int64_t H, int64_t cs,
                           int64_t ch, int64_t ldc);
int ijepa__attention_bwd16(ijepa__ops *ops, int64_t items, int64_t Tq, int64_t T, int64_t hd,
                           float scale, const void *q, const void *k, const void *v,
                           const void *P, const void *dO, void *dq, void *dk, void *dv,
                           int64_t H, int64_t cs, int64_t ch, int64_t ldc);

/*
 * Packed bf16 matmuls with work of the layers around them folded into the
 * own AMX kernel's copy of A and epilogue (none changes a value):
 *   heads_in   A is an attention output [S, H, T, hd], read as the matrix
 *              [S T, H hd] it merges into (K = H hd): no head merge pass
 *   heads_out  the bf16 C [M, c D] (D = H hd, c = N / D, 1 to 3) is written
 *              as c arrays [S, H, T, hd] (q, k, v): no head split pass
 *   gelu       a bf16 C is also written as gelu [M, N] = GELU(C), the
 *              values of ijepa__gelu_bf16 on C: no GELU pass
 *   keep       the bf16 C is kept for later (the backward) and not read
 *              soon: written around the caches (non-temporal stores) where
 *              whole aligned lines allow, so that it neither waits on
 *              reads for ownership nor evicts what is read next (the
 *              ViT-S/16 fc1 product: 6.5-7.1 -> 5.7-5.9 ms a call)
 * M must be a multiple of T where heads are used, and hd a multiple of 32.
 */
typedef struct ijepa__mm_fuse {
    int64_t T, H, hd;             /* the heads layout, when used */
    int heads_in;
    uint16_t *heads_out[3];       /* bf16 arrays; [0] NULL: C as usual */
    uint16_t *gelu;               /* bf16; NULL: none; with C NULL: GELU only */
    int keep;
} ijepa__mm_fuse;

/* 1 when ijepa__matmul_fused runs for a packed K x N operand of this ops
 * object and head width hd (0: no heads): the own AMX kernel is in use, the
 * operand packs in its layout and hd is 0 or a multiple of 32; else 0. */
int ijepa__ops_fusable(ijepa__ops *ops, int64_t K, int64_t N, int64_t hd);

/* C = A . B + bias (+ addend) as ijepa__matmul_add with IJEPA__MM_BF16 |
 * IJEPA__MM_B_PACKED (flags may add IJEPA__MM_OUT_BF16; heads_out and gelu
 * need it), batch 1, alpha 1, no accumulate, with the fusions of fz; addend
 * may be C (each value is read before the same value is written). C is
 * not written (and may be NULL) with heads_out; with gelu it may be NULL.
 * Returns IJEPA_OK, IJEPA_ERR_UNSUPPORTED where ijepa__ops_fusable is 0,
 * IJEPA_ERR_INVALID_ARG for shapes or flags the fusions do not fit,
 * IJEPA_ERR_NOMEM when its scratch cannot grow. */
int ijepa__matmul_fused(ijepa__ops *ops, int64_t M, int64_t N, int64_t K, const void *A,
                        const void *B, const float *bias, const float *addend, void *C,
                        int flags, const ijepa__mm_fuse *fz);

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
