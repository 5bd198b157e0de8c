/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * The library's own AMX matrix products: ijepa__amx_wgrad (below) for the
 * weight gradients, and this one for packed bf16 weights:
 *
 *     C = alpha A . B + bias (+ addend) (+ C)
 *
 * A bf16 [M, K] row-major; B bf16 [K, N] in pack.h's blocked layout (what
 * ijepa__pack_b writes on an AMX machine: 16-column blocks, each one tile,
 * where N is a multiple of 32 and the plan was made with this kernel on,
 * else oneDNN's 64-column ones); C float32
 * or bf16 [M, N] row-major (bf16: rounded to nearest even). It computes what
 * oneDNN 2.6.3's brgemm matmul computes for the same operands (the same
 * TDPBF16PS dot products over the same 32-wide steps of K, float32
 * accumulation), about twice as fast on the shapes of a ViT step
 * (docs/performance.md): A is read 32 rows at a time, in place or (the
 * last rows, K not a multiple of 32, the heads layout) copied into tile
 * order zero-padded past M and K, each 32 x 32 block of C is four tiles
 * accumulated over all of K, and its epilogue (scale, bias, addend,
 * accumulation, rounding) runs on the block while it is in L1. Threads
 * (OpenMP) share out blocks of 32 rows, and column ranges when there are
 * few rows; the result does not depend on the thread count. This file
 * includes no oneDNN header.
 */
#ifndef IJEPA_AMX_H
#define IJEPA_AMX_H

#include <stdint.h>

#include "bf16.h"
#include "pack.h"

/* 1 when this process can run the kernel: an x86-64 CPU with AMX-TILE,
 * AMX-BF16, AVX512-BF16 (the epilogue's rounding) and AVX-512 F/DQ/BW/VL,
 * whose kernel granted the tile data state (arch_prctl), else 0. Asked once
 * per process. */
int ijepa__amx_usable(void);

/* 1 in the test build whose tile instructions are emulated (amx_emu.h,
 * `make check-amx-emu`): there ijepa__amx_usable() asks for AVX512-BF16
 * and AVX-512 F/DQ/BW/VL only, and the library takes the own AMX kernels
 * wherever oneDNN dispatches to AVX512-BF16. 0 in every other build. */
int ijepa__amx_emulated(void);

/* Bytes of scratch ijepa__amx_matmul needs for an N x K product with
 * `threads` OpenMP threads (a multiple of 64). */
int64_t ijepa__amx_scratch_bytes(int64_t N, int64_t K, int threads);

/* Attention heads: rows m = s T + t (S sequences of T tokens), columns
 * n = c D + h hd + d (D = H hd; hd a multiple of 32) stored as c arrays
 * [S, H, T, hd]: element (m, n) of array c at ((s H + h) T + t) hd + d. */
typedef struct ijepa__amx_heads {
    int64_t T, H, hd;
} ijepa__amx_heads;

/* Epilogue of ijepa__amx_matmul. */
typedef struct ijepa__amx_epi {
    float alpha;          /* scales the product */
    const float *bias;    /* NULL or [N] */
    const float *addend;  /* NULL or [M, N] float32; may be C: each value
                           * is read before the same value is written, by
                           * the one thread that writes it */
    int accumulate;       /* add the result to C (float32 C only) */
    int out_bf16;         /* C is bf16 */
    /* bf16 C only: heads not NULL: C goes to the N / D arrays out[c] in the
     * heads layout (C itself unused); gelu not NULL: also gelu [M, N] =
     * ijepa__gelu_table()[C] (GELU of the rounded value), and C may be NULL
     * (GELU only) */
    const ijepa__amx_heads *heads;
    ijepa__bf16 *out[3];
    ijepa__bf16 *gelu;
    /* bf16 C (not heads) kept for later, not read soon: its whole aligned
     * 64-byte lines are written with non-temporal stores (no read for
     * ownership, nothing useful evicted); fenced before returning */
    int stream;
} ijepa__amx_epi;

/*
 * C = epilogue(A . B). ah: NULL, or A is in the heads layout (one array [S,
 * H, T, hd], K = D = H hd, 32 | hd, M a multiple of T), the head merge of an
 * attention output done by the copy of A into tiles. f: the layout
 * ijepa__pack_bf16 wrote B in (any f->nb, K <= f->Kp, N <= f->Np);
 * scratch: ijepa__amx_scratch_bytes(N, K, threads) bytes, 64-byte aligned:
 * at most `threads` OpenMP threads run it. Call only when
 * ijepa__amx_usable(); dimensions >= 1 (the caller checks). With e->heads:
 * M a multiple of T, N = c D (c 1 to 3, D = H hd, 32 | hd) and
 * e->out[0..c-1] set.
 */
void ijepa__amx_matmul(int64_t M, int64_t N, int64_t K, const ijepa__bf16 *A,
                       const ijepa__amx_heads *ah, const ijepa__bf16 *B,
                       const ijepa__blk_fmt *f, const ijepa__amx_epi *e, void *C,
                       void *scratch, int threads);

/*
 * Weight gradient: gW [O, I] float32 row-major += dy^T . x, dy bf16 [R, O]
 * and x bf16 [R, I] row-major (R rows, the tokens). O and I multiples of
 * 32, R >= 1; scratch: ijepa__amx_wgrad_scratch_bytes(O, I, threads)
 * bytes, 64-byte aligned; at most `threads` OpenMP threads run it (or
 * fewer, if the OpenMP runtime grants fewer). Call only when
 * ijepa__amx_usable(). Each output is summed over the rows in order (in
 * float32, 32 rows per step as TDPBF16PS does): the result does not depend
 * on the thread count; it differs from oneDNN's in rounding only.
 */
int64_t ijepa__amx_wgrad_scratch_bytes(int64_t O, int64_t I, int threads);
/* xg, xb: NULL, or [I] each: x is a LayerNorm's kept xhat and the product
 * reads bf16(x xg + xb), the values ijepa__layernorm_affine_bf16 gives at
 * the AVX-512 level, made while x is made into tiles. */
void ijepa__amx_wgrad(int64_t R, int64_t O, int64_t I, const ijepa__bf16 *dy,
                      const ijepa__bf16 *x, const float *xg, const float *xb, float *gW,
                      void *scratch, int threads);

/* Where the items of a batched product put C: item b = s H + h at
 * C + s cs + h ch, ldc (>= N) values between its rows (heads merged into
 * rows). Items must not overlap: threads write different items at once. */
typedef struct ijepa__amx_cmap {
    int64_t H, cs, ch, ldc;
} ijepa__amx_cmap;
/*
 * Batched products: for b in [0, batch), C_b = alpha op(A_b) . op(B_b),
 * all bf16 row-major and contiguous item after item: A_b [M, K] at
 * A + b M K (trans_a: stored as A_b^T [K, M]), B_b [K, N] at B + b K N
 * (trans_b: stored as B_b^T [N, K]), C_b [M, N] at C + b M N, or where cm
 * (not NULL) says; only C's M x N values are written. Float32
 * sums over 32-wide steps of K, as TDPBF16PS does; C rounded to nearest
 * even. Each item is one thread's, so the result does not depend on the
 * thread count. Nothing is read past an item's M K or K N values. scratch:
 * ijepa__amx_bmm_scratch_bytes(M, N, K, threads) bytes, 64-byte aligned.
 * Call only when ijepa__amx_usable(); dimensions >= 1 (the caller checks).
 */
int64_t ijepa__amx_bmm_scratch_bytes(int64_t M, int64_t N, int64_t K, int threads);
void ijepa__amx_bmm(int64_t batch, int64_t M, int64_t N, int64_t K, const ijepa__bf16 *A,
                    int trans_a, const ijepa__bf16 *B, int trans_b, float alpha,
                    ijepa__bf16 *C, const ijepa__amx_cmap *cm, void *scratch, int threads);
/* Memory to bring into cache while a product runs: `rows` rows of `bytes`
 * bytes, `ld` bytes apart, to read (write 0) or to write (1). Only a hint:
 * nothing is read or written through it. */
typedef struct ijepa__amx_pf {
    const void *p;
    int64_t rows, bytes, ld;
    int write;
} ijepa__amx_pf;
/* Items [b0, b1) of that product on the calling thread alone, in no
 * OpenMP region of its own (work already shared out, one attention item
 * after another): the same bits. While each item runs, the next one's
 * operands and C are fetched; while the last runs, the nfetch (<= 4)
 * ranges at fetch (the caller's next work; may be NULL). scratch:
 * ijepa__amx_bmm_scratch_bytes(M, N, K, 1) bytes, 64-byte aligned. */
void ijepa__amx_bmm_items(int64_t b0, int64_t b1, int64_t M, int64_t N, int64_t K,
                          const ijepa__bf16 *A, int trans_a, const ijepa__bf16 *B, int trans_b,
                          float alpha, ijepa__bf16 *C, const ijepa__amx_cmap *cm, void *scratch,
                          const ijepa__amx_pf *fetch, int nfetch);
#endif /* IJEPA_AMX_H */
