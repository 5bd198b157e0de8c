/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * A stack of pre-norm transformer blocks, the part the encoder and the
 * predictor share:
 *     x += proj(attn(LN1(x)));  x += fc2(GELU(fc1(LN2(x))))
 * over S independent sequences of T tokens of width D (rows = S * T).
 *
 * The stack does not own parameters: it records where each block's tensors
 * sit in its owner's flat buffer (offsets from ijepa__table_add) and reads
 * them from the base pointer it is given. It owns the activation memory,
 * sized at creation for at most max_rows rows and max_attn attention
 * scores (S * H * T * T); a bf16 stack without a backward keeps no scores
 * where the own attention kernel runs (attn_own).
 *
 * In bf16 precision (st->bf16) the matmuls take bf16 operands: the weights
 * packed from the float32 parameters just before each block runs, forward
 * and backward (ijepa__pack_b, into the one-block buffer wpk), the
 * activations rounded where a matmul consumes them. The
 * residual stream, LayerNorm statistics, attention scores before the
 * softmax and all gradient sums stay float32. A training forward then keeps
 * q, k, v, the attention probabilities, the merged attention output, fc1's
 * output and the two normalised LayerNorm inputs in bf16, and two floats
 * per row: 20 D + 2 H T bytes per token and layer where float32 keeps
 * 40 D + 4 H T. The residual stream itself lives in one float32 buffer
 * that every block updates in place: the projection and fc2 add their sums
 * to it as they write them.
 */
#ifndef IJEPA_BLOCKS_H
#define IJEPA_BLOCKS_H

#include "bf16.h"
#include "ops.h"

typedef struct ijepa__block_off {
    int64_t n1w, n1b, qkvw, qkvb, projw, projb, n2w, n2b, fc1w, fc1b, fc2w, fc2b;
} ijepa__block_off; /* float offsets; qkvb = -1 without qkv bias */

typedef struct ijepa__layer_act {
    float *x_in;          /* [rows, D] block input                  */
    float *mean1, *var1;  /* [rows]                                  */
    float *q, *k, *v;     /* [S, H, T, hd] each                      */
    float *P;             /* [S, H, T, T] softmax probabilities      */
    float *ctx;           /* [rows, D] attention output, heads merged */
    float *x_mid;         /* [rows, D] after the attention residual  */
    float *mean2, *var2;  /* [rows]                                  */
    float *h_pre;         /* [rows, hidden] fc1 output               */
    /* bf16 precision: these instead of q, k, v, P, ctx, h_pre (NULL); the
     * LayerNorms keep their normalised input xhat in bf16 and 1/sqrt(var +
     * eps) in var1/var2 instead of x_in/x_mid and the means; x_in points to
     * the stack's one residual buffer (x_final), which each block updates
     * in place, and x_mid is NULL; P16 is NULL in a stack without a
     * backward whose attention runs on the own kernel (attn_own), until the
     * batched calls need it (the stack's spare) */
    ijepa__bf16 *q16, *k16, *v16, *P16, *ctx16, *h16;
    ijepa__bf16 *xh1, *xh2; /* [rows, D] */
} ijepa__layer_act;

typedef struct ijepa__stack {
    int64_t D, H, hd, hidden, depth;
    float eps, scale;
    int64_t max_rows, max_attn;
    int trainable;             /* storage for every layer exists      */
    ijepa__block_off *off;     /* [depth]                             */
    ijepa__layer_act *act;     /* [depth] (trainable) or [1]          */
    float *x_final;            /* [rows, D] output of a TRAIN forward; in bf16
                                * also the input and the whole residual stream */
    float *bufD1, *bufD2;      /* [rows, D] scratch                   */
    float *buf3D;              /* [rows, 3D] scratch                  */
    float *bufH;               /* [rows, max(hidden, 3D)] scratch: the GELU output in forward */
    float *bufP1, *bufP2;      /* [max_attn] scratch                  */
    float *dgamma, *dbeta;     /* [D] scratch                         */
    /* bf16 precision only (NULL otherwise): */
    int bf16;                  /* set before ijepa__stack_alloc       */
    int attn_own;              /* set before ijepa__stack_alloc (bf16): the own
                                * attention runs (ijepa__attention_own_default),
                                * so a stack without a backward keeps no scores */
    ijepa__bf16 *spare;        /* [max_attn]: those scores after all, made once
                                * should the batched calls run (a test's switch) */
    ijepa__bf16 *a16, *b16;    /* [rows, D] scratch                   */
    ijepa__bf16 *c16, *d16;    /* [rows, 3D] scratch; c16 of a trainable stack  */
                               /* [rows, max(3D, hidden)]: GELU again in backward */
    ijepa__bf16 *h16;          /* [rows, hidden] scratch: GELU output, its gradient */
    ijepa__bf16 *p16;          /* [max_attn] scratch: softmax gradient */
    void *wpk;                 /* one block's four linear weights as ijepa__pack_b writes
                                * them (forward or backward layouts), or the owner's */
    int64_t wpk_min;           /* set before ijepa__stack_alloc: bytes the owner packs
                                * into wpk outside the blocks (its own linear layers) */
    int owner_d1;              /* set before ijepa__stack_alloc: the owner uses bufD1
                                * outside the blocks (a bf16 stack without a backward
                                * has it only then) */
    int64_t wpk_off[4];        /* byte offsets of qkv, proj, fc1, fc2 in wpk */
    float *part;               /* [IJEPA__NB_MAX * max(hidden, 3D)] column-sum partials */
    float *arena;
    int64_t arena_floats;
    int64_t S, T, V;           /* shape of the kept TRAIN forward (V valid tokens of T), 0 if none */
    int64_t q0, Tq;            /* its output window: rows [q0, q0 + Tq) of each sequence */
} ijepa__stack;

/*
 * Append the tensors of `depth` blocks named "<prefix>.<i>.norm1.weight", ...
 * to tab (state-dict order) and record their offsets in st->off. Call before
 * ijepa__stack_alloc. Returns IJEPA_OK or IJEPA_ERR_NOMEM.
 */
int ijepa__stack_add_tensors(ijepa__stack *st, struct ijepa_tensor_table *tab,
                             const char *prefix, int qkv_bias);

/* Floats of the activation memory ijepa__stack_alloc() would allocate
 * (nothing is allocated). Fields D..trainable, bf16 and attn_own must be
 * set. */
int64_t ijepa__stack_arena_floats(ijepa__stack *st);

/* Allocate activation memory. Fields D..trainable, bf16 and attn_own must
 * be set. */
int ijepa__stack_alloc(ijepa__stack *st, ijepa__err *err);
void ijepa__stack_free(ijepa__stack *st);
/* Floats of the spare scores array (max_attn bf16 values), held by the
 * stack once st->spare is set. */
int64_t ijepa__stack_spare_floats(const ijepa__stack *st);

/* Where the caller writes the stack input [S*T, D] before a forward. */
float *ijepa__stack_input(ijepa__stack *st);

/*
 * Forward S sequences of T tokens from ijepa__stack_input(). Returns the
 * output, [S*T, D] or the window's [S*Tq, D] (below), in *out (memory of
 * the stack, valid until the next call).
 * training keeps every layer's activations for ijepa__stack_backward.
 * In bf16 precision each block packs its weights from params into st->wpk
 * just before it runs (each weight once per forward, as a copy of the
 * model would need, without holding one), which overwrites what the owner
 * packed there.
 *
 * The output window: only rows [q0, q0 + Tq) of each sequence are
 * returned, as [S*Tq, D] (0 <= q0, 1 <= Tq, q0 + Tq <= T; q0 = 0, Tq = T:
 * all). In bf16 precision the last block computes only those rows past its
 * keys and values (the queries, the attention output, the MLP): the other
 * rows' outputs would be dropped. Their values are the whole forward's
 * bits; in float32 the whole last block runs and the window is copied out.
 *
 * Only the first V <= T tokens of each sequence are real: the others are
 * padding (a bucketed sequence length), masked out of every softmax so that
 * no real token sees them. Padding rows get outputs (finite, meaningless),
 * and a backward whose incoming gradient is 0 on them leaves every
 * parameter gradient as without the padding and their input gradient 0.
 */
int ijepa__stack_forward(ijepa__stack *st, ijepa__ops *ops, const float *params,
                         int64_t S, int64_t T, int64_t V, int64_t q0, int64_t Tq, int training,
                         float **out);

/*
 * Backward through the kept forward. dx [S*T, D]: on entry dL/d(output)
 * ([S*Tq, D], the window's rows, as the forward returned them), on return
 * dL/d(input) [S*T, D]. Parameter gradients are added into grads (same layout
 * as params). In bf16 precision each block packs its weights (the layout of
 * the input-gradient products) from params into st->wpk first.
 */
int ijepa__stack_backward(ijepa__stack *st, ijepa__ops *ops, const float *params,
                          float *grads, float *dx);

/* Initialise block parameters: Linear weights truncated normal (std, +-2),
 * biases 0, LN 1/0; depth_rescale divides proj/fc2 of block i by sqrt(2(i+1)). */
void ijepa__stack_init(const ijepa__stack *st, float *params, ijepa__rng *rng,
                       double std, int depth_rescale);

/* Fill n floats with a truncated normal N(0, std^2) restricted to [lo, hi]. */
void ijepa__trunc_normal(ijepa__rng *rng, float *p, int64_t n, double std,
                         double lo, double hi);

/* Linear layer y [R, out] = x [R, in] W^T + b (+ y when accumulate), with
 * PyTorch's W [out, in]; b may be NULL. */
int ijepa__linear(ijepa__ops *ops, int64_t R, int64_t in, int64_t out, const float *x,
                  const float *W, const float *b, int accumulate, float *y);

/* Its backward from dy [R, out]: dx [R, in] = dy W (skipped when dx is NULL),
 * gW += dy^T x, gb += column sums of dy (skipped when gb is NULL). */
int ijepa__linear_bwd(ijepa__ops *ops, int64_t R, int64_t in, int64_t out, const float *dy,
                      const float *W, const float *x, float *dx, float *gW, float *gb);

/* The bf16 weights of a linear layer, W [out, in] float32, for
 * ijepa__linear16 (as B = W^T) and, _bwd, for the input gradient of
 * ijepa__linear16_bwd (as B = W): ijepa__pack_b into dst of
 * ijepa__pack_bytes(in, out) or (out, in) bytes. */
int ijepa__pack_linear(ijepa__ops *ops, int64_t in, int64_t out, const float *W, void *dst);
int ijepa__pack_linear_bwd(ijepa__ops *ops, int64_t in, int64_t out, const float *W,
                           void *dst);

/* bf16 linear layer y [R, out] = x [R, in] W^T + b (+ y when accumulate):
 * x bf16, Wp the weights from ijepa__pack_linear, y float32, or bf16 with
 * IJEPA__MM_OUT_BF16 in flags (then no accumulate); b float32 or NULL. */
int ijepa__linear16(ijepa__ops *ops, int64_t R, int64_t in, int64_t out, const ijepa__bf16 *x,
                    const void *Wp, const float *b, int accumulate, void *y, int flags);

/* Its backward from dy [R, out] (bf16): dx [R, in] = dy W, float32, with
 * Wb the weights from ijepa__pack_linear_bwd (both NULL: skipped),
 * gW += dy^T x; xg, xb not NULL: x is a LayerNorm's kept xhat and the
 * layer's input was bf16(x xg + xb) (ijepa__matmul_wgrad). The bias
 * gradient is the caller's (it comes with the rounding of dy:
 * ijepa__to_bf16_colsum). */
int ijepa__linear16_bwd(ijepa__ops *ops, int64_t R, int64_t in, int64_t out,
                        const ijepa__bf16 *dy, const void *Wb, const ijepa__bf16 *x,
                        const float *xg, const float *xb, float *dx, float *gW);

/* The bucketed length of a sequence of n real tokens: n rounded up to a
 * multiple of q (the config key seq_bucket), at most max (then max itself,
 * one more fixed shape). */
static inline int64_t ijepa__bucket_len(int64_t n, int64_t q, int64_t max)
{
    const int64_t r = (n + q - 1) / q * q;
    return r < max ? r : (n > max ? n : max);
}

/* Fixed 2-D sin-cos positional embedding [G*G, D] in the official channel
 * layout [sin(c w_k) | cos(c w_k) | sin(r w_k) | cos(r w_k)] for the patch at
 * row r, column c, w_k = 10000^(-k/(D/4)); computed in double. D % 4 == 0. */
void ijepa__sincos_2d(float *pos, int64_t G, int64_t D);

#endif
