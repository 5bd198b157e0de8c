/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * Implements: blocks.h, the pre-norm transformer block stack, forward and
 * backward, on the ops.h kernels.
 */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blocks.h"
#include "glue.h"

// --- tensors and init ---------------------------------------------------------------

int ijepa__stack_add_tensors(ijepa__stack *st, struct ijepa_tensor_table *tab,
                             const char *prefix, int qkv_bias)
{
    const int64_t D = st->D, Hd = st->hidden;
    st->off = calloc((size_t)st->depth, sizeof *st->off);
    if (!st->off)
        return IJEPA_ERR_NOMEM;
    for (int64_t i = 0; i < st->depth; i++) {
        ijepa__block_off *o = &st->off[i];
        struct {
            const char *name;
            int64_t *slot;
            int32_t ndim;
            int64_t d0, d1;
        } t[] = {
            {"norm1.weight", &o->n1w, 1, D, 0},    {"norm1.bias", &o->n1b, 1, D, 0},
            {"attn.qkv.weight", &o->qkvw, 2, 3 * D, D},
            {"attn.qkv.bias", &o->qkvb, 1, 3 * D, 0},
            {"attn.proj.weight", &o->projw, 2, D, D}, {"attn.proj.bias", &o->projb, 1, D, 0},
            {"norm2.weight", &o->n2w, 1, D, 0},    {"norm2.bias", &o->n2b, 1, D, 0},
            {"mlp.fc1.weight", &o->fc1w, 2, Hd, D}, {"mlp.fc1.bias", &o->fc1b, 1, Hd, 0},
            {"mlp.fc2.weight", &o->fc2w, 2, D, Hd}, {"mlp.fc2.bias", &o->fc2b, 1, D, 0},
        };
        for (size_t j = 0; j < sizeof t / sizeof t[0]; j++) {
            if (t[j].slot == &o->qkvb && !qkv_bias) {
                o->qkvb = -1;
                continue;
            }
            char name[64];
            snprintf(name, sizeof name, "%s.%lld.%s", prefix, (long long)i, t[j].name);
            const int64_t dims[2] = {t[j].d0, t[j].d1};
            /* official no-decay rule: name contains "bias" or the tensor is 1-D */
            int64_t idx = ijepa__table_add(tab, name, t[j].ndim == 1 ? IJEPA_TENSOR_NO_DECAY : 0,
                                           t[j].ndim, dims);
            if (idx < 0)
                return (int)idx;
            *t[j].slot = tab->t[idx].offset;
        }
    }
    return IJEPA_OK;
}

void ijepa__trunc_normal(ijepa__rng *rng, float *p, int64_t n, double std,
                         double lo, double hi)
{
    ijepa__rng_normals(rng, n, std, lo, hi, p, NULL);
}

void ijepa__stack_init(const ijepa__stack *st, float *params, ijepa__rng *rng,
                       double std, int depth_rescale)
{
    const int64_t D = st->D, Hd = st->hidden;
    for (int64_t i = 0; i < st->depth; i++) {
        const ijepa__block_off *o = &st->off[i];
        for (int64_t j = 0; j < D; j++) {
            params[o->n1w + j] = 1.0f;
            params[o->n1b + j] = 0.0f;
            params[o->n2w + j] = 1.0f;
            params[o->n2b + j] = 0.0f;
            params[o->projb + j] = 0.0f;
            params[o->fc2b + j] = 0.0f;
        }
        if (o->qkvb >= 0)
            memset(params + o->qkvb, 0, (size_t)(3 * D) * sizeof(float));
        memset(params + o->fc1b, 0, (size_t)Hd * sizeof(float));
        ijepa__trunc_normal(rng, params + o->qkvw, 3 * D * D, std, -2.0, 2.0);
        ijepa__trunc_normal(rng, params + o->projw, D * D, std, -2.0, 2.0);
        ijepa__trunc_normal(rng, params + o->fc1w, Hd * D, std, -2.0, 2.0);
        ijepa__trunc_normal(rng, params + o->fc2w, D * Hd, std, -2.0, 2.0);
        if (depth_rescale) {
            const float r = (float)(1.0 / sqrt(2.0 * (double)(i + 1)));
            for (int64_t j = 0; j < D * D; j++)
                params[o->projw + j] *= r;
            for (int64_t j = 0; j < D * Hd; j++)
                params[o->fc2w + j] *= r;
        }
    }
}

/* Fixed 2-D sin-cos embedding [G*G, D] in the official channel layout:
 * [sin(c w_k) | cos(c w_k) | sin(r w_k) | cos(r w_k)], w_k = 10000^(-k/(D/4)),
 * for the patch at row r, column c; computed in double, stored as float. */
void ijepa__sincos_2d(float *pos, int64_t G, int64_t D)
{
    const int64_t Q = D / 4;
    for (int64_t r = 0; r < G; r++)
        for (int64_t c = 0; c < G; c++) {
            float *e = pos + (r * G + c) * D;
            for (int64_t k = 0; k < Q; k++) {
                const double w = 1.0 / pow(10000.0, (double)k / (double)Q);
                e[k] = (float)sin((double)c * w);
                e[Q + k] = (float)cos((double)c * w);
                e[2 * Q + k] = (float)sin((double)r * w);
                e[3 * Q + k] = (float)cos((double)r * w);
            }
        }
}

// --- memory ------------------------------------------------------------------------------

/* Carve n floats (rounded to 16) from the arena cursor, or count them. */
static float *carve(float *base, int64_t *cursor, int64_t n)
{
    float *p = base ? base + *cursor : NULL;
    *cursor += (n + 15) & ~(int64_t)15;
    return p;
}

/* Carve n bf16 values (as (n + 1) / 2 floats, rounded to 16). */
static ijepa__bf16 *carve16(float *base, int64_t *cursor, int64_t n)
{
    return (ijepa__bf16 *)(void *)carve(base, cursor, (n + 1) / 2);
}

/* The larger of the forward and backward packed sizes of a Linear in -> out. */
static int64_t pack_both(int64_t in, int64_t out)
{
    const int64_t f = ijepa__pack_bytes(in, out), b = ijepa__pack_bytes(out, in);
    return f > b ? f : b;
}

static int64_t layout(ijepa__stack *st, float *base)
{
    const int64_t R = st->max_rows, D = st->D, Hd = st->hidden, A = st->max_attn;
    const int64_t nlayers = st->trainable ? st->depth : 1;
    const int h = st->bf16; /* bf16 precision: another set of buffers */
    int64_t c = 0;
    for (int64_t l = 0; l < nlayers; l++) {
        ijepa__layer_act a;
        memset(&a, 0, sizeof a);
        a.x_in = carve(base, &c, h ? 0 : R * D);
        a.mean1 = carve(base, &c, h ? 0 : R);
        a.var1 = carve(base, &c, R);
        a.x_mid = carve(base, &c, h ? 0 : R * D);
        a.mean2 = carve(base, &c, h ? 0 : R);
        a.var2 = carve(base, &c, R);
        if (h) {
            a.xh1 = carve16(base, &c, st->trainable ? R * D : 0);
            a.xh2 = carve16(base, &c, st->trainable ? R * D : 0);
            a.q16 = carve16(base, &c, R * D);
            a.k16 = carve16(base, &c, R * D);
            a.v16 = carve16(base, &c, R * D);
            /* the scores: kept for the backward; a stack without one
             * keeps them only where the batched calls need them */
            a.P16 = st->trainable || !st->attn_own ? carve16(base, &c, A) : NULL;
            a.ctx16 = carve16(base, &c, R * D);
            a.h16 = carve16(base, &c, R * Hd);
        } else {
            a.q = carve(base, &c, R * D);
            a.k = carve(base, &c, R * D);
            a.v = carve(base, &c, R * D);
            a.P = carve(base, &c, A);
            a.ctx = carve(base, &c, R * D);
            a.h_pre = carve(base, &c, R * Hd);
        }
        if (base)
            st->act[l] = a;
    }
    /* a TRAIN forward's output; in bf16 also the one residual buffer
     * every layer updates in place */
    float *x_final = carve(base, &c, st->trainable || h ? R * D : 0);
    /* bufD1: in a bf16 stack only the backward and the owner use it */
    float *d1 = carve(base, &c, !h || st->trainable || st->owner_d1 ? R * D : 0);
    float *d2 = carve(base, &c, h ? 0 : R * D);
    float *b3 = carve(base, &c, h ? 0 : R * 3 * D);
    float *bh = carve(base, &c, h ? 0 : R * (Hd > 3 * D ? Hd : 3 * D));
    float *p1 = carve(base, &c, h ? 0 : A), *p2 = carve(base, &c, st->trainable && !h ? A : 0);
    float *dg = carve(base, &c, D), *db = carve(base, &c, D);
    ijepa__bf16 *a16 = NULL, *b16 = NULL, *c16 = NULL, *d16 = NULL, *h16 = NULL, *p16 = NULL;
    void *wpk = NULL;
    float *part = NULL;
    if (h) {
        const int64_t wmax = Hd > 3 * D ? Hd : 3 * D;
        a16 = carve16(base, &c, R * D);
        b16 = carve16(base, &c, R * D);
        /* trainable: c16 also holds GELU's output again in the backward */
        c16 = carve16(base, &c, R * (st->trainable && Hd > 3 * D ? Hd : 3 * D));
        d16 = carve16(base, &c, st->trainable ? R * 3 * D : 0);
        h16 = carve16(base, &c, R * Hd);
        p16 = carve16(base, &c, st->trainable ? A : 0);
        /* one block's linear weights, packed: qkv, proj, fc1, fc2 (each a
         * multiple of 64 bytes), or what the owner packs there */
        const int64_t sz[4] = {pack_both(D, 3 * D), pack_both(D, D), pack_both(D, Hd),
                               pack_both(Hd, D)};
        int64_t bytes = 0;
        for (int i = 0; i < 4; i++) {
            st->wpk_off[i] = bytes;
            bytes += sz[i];
        }
        if (bytes < st->wpk_min)
            bytes = st->wpk_min;
        wpk = carve(base, &c, (bytes + 3) / 4);
        part = carve(base, &c, IJEPA__NB_MAX * (wmax > 2 * D ? wmax : 2 * D));
    }
    if (base && h)
        for (int64_t l = 0; l < nlayers; l++) {
            st->act[l].x_in = x_final;
            st->act[l].x_mid = NULL;
        }
    if (base) {
        st->x_final = x_final;
        st->bufD1 = d1;
        st->bufD2 = d2;
        st->buf3D = b3;
        st->bufH = bh;
        st->bufP1 = p1;
        st->bufP2 = p2;
        st->dgamma = dg;
        st->dbeta = db;
        st->a16 = a16;
        st->b16 = b16;
        st->c16 = c16;
        st->d16 = d16;
        st->h16 = h16;
        st->wpk = wpk;
        st->p16 = p16;
        st->part = part;
    }
    return c;
}

int64_t ijepa__stack_arena_floats(ijepa__stack *st) { return layout(st, NULL); }

int ijepa__stack_alloc(ijepa__stack *st, ijepa__err *err)
{
    st->hd = st->D / st->H;
    st->scale = (float)pow((double)st->hd, -0.5);
    st->act = calloc(st->trainable ? (size_t)st->depth : 1, sizeof *st->act);
    if (!st->act)
        return ijepa__fail(err, IJEPA_ERR_NOMEM, "cannot allocate the layer table");
    st->arena_floats = layout(st, NULL);
    st->arena = ijepa__falloc(st->arena_floats);
    if (!st->arena)
        return ijepa__fail(err, IJEPA_ERR_NOMEM,
                           "cannot allocate %.1f MiB of activation memory",
                           (double)st->arena_floats * 4.0 / 1048576.0);
    layout(st, st->arena);
    st->S = st->T = st->V = st->q0 = st->Tq = 0;
    return IJEPA_OK;
}

void ijepa__stack_free(ijepa__stack *st)
{
    ijepa__ffree(st->arena);
    ijepa__ffree((float *)(void *)st->spare);
    free(st->act);
    free(st->off);
    st->arena = NULL;
    st->spare = NULL;
    st->act = NULL;
    st->off = NULL;
}

float *ijepa__stack_input(ijepa__stack *st) { return st->act[0].x_in; }

// --- linear layers -----------------------------------------------------------------------

int ijepa__linear(ijepa__ops *ops, int64_t R, int64_t in, int64_t out, const float *x,
                  const float *W, const float *b, int accumulate, float *y)
{
    return ijepa__matmul(ops, 1, R, out, in, x, 0, W, 1, b, 1.0f, accumulate, y);
}

int ijepa__linear_bwd(ijepa__ops *ops, int64_t R, int64_t in, int64_t out, const float *dy,
                      const float *W, const float *x, float *dx, float *gW, float *gb)
{
    int rc;
    if (dx && (rc = ijepa__matmul(ops, 1, R, in, out, dy, 0, W, 0, NULL, 1.0f, 0, dx)) < 0)
        return rc;
    if ((rc = ijepa__matmul(ops, 1, out, in, R, dy, 1, x, 0, NULL, 1.0f, 1, gW)) < 0)
        return rc;
    if (gb)
        ijepa__colsum_add(dy, R, out, gb);
    return IJEPA_OK;
}

int ijepa__pack_linear(ijepa__ops *ops, int64_t in, int64_t out, const float *W, void *dst)
{
    return ijepa__pack_b(ops, in, out, W, 1, dst); /* B = W^T [in, out], stored as W */
}

int ijepa__pack_linear_bwd(ijepa__ops *ops, int64_t in, int64_t out, const float *W,
                           void *dst)
{
    return ijepa__pack_b(ops, out, in, W, 0, dst); /* B = W [out, in] */
}

int ijepa__linear16(ijepa__ops *ops, int64_t R, int64_t in, int64_t out, const ijepa__bf16 *x,
                    const void *Wp, const float *b, int accumulate, void *y, int flags)
{
    return ijepa__matmul_x(ops, 1, R, out, in, x, 0, Wp, 1, b, 1.0f, accumulate, y,
                           flags | IJEPA__MM_BF16 | IJEPA__MM_B_PACKED);
}

int ijepa__linear16_bwd(ijepa__ops *ops, int64_t R, int64_t in, int64_t out,
                        const ijepa__bf16 *dy, const void *Wb, const ijepa__bf16 *x,
                        const float *xg, const float *xb, float *dx, float *gW)
{
    int rc;
    if (dx && (rc = ijepa__matmul_x(ops, 1, R, in, out, dy, 0, Wb, 0, NULL, 1.0f, 0, dx,
                                    IJEPA__MM_BF16 | IJEPA__MM_B_PACKED)) < 0)
        return rc;
    return ijepa__matmul_wgrad(ops, R, out, in, dy, x, xg, xb, gW);
}

// --- forward -------------------------------------------------------------------------------

/* One block: x_in -> x_out (x_out may be a's own x_in in inference);
 * V of the T tokens of each sequence are real (keys beyond are masked). */
static int block_forward(ijepa__stack *st, ijepa__ops *ops, const float *p,
                         const ijepa__block_off *o, ijepa__layer_act *a,
                         int64_t S, int64_t T, int64_t V, int training, float *x_out)
{
    const int64_t R = S * T, D = st->D, H = st->H, hd = st->hd, Hd = st->hidden;
    int rc;
    /* attention */
    if ((rc = ijepa__layernorm_fwd(ops, R, D, st->eps, a->x_in, p + o->n1w, p + o->n1b,
                                   st->bufD2, training ? a->mean1 : NULL,
                                   training ? a->var1 : NULL)) < 0)
        return rc;
    /* LayerNorm outputs are scratch (bufD2), not kept: backward recomputes
     * them with the same LayerNorm call on the kept block input */
    if ((rc = ijepa__linear(ops, R, D, 3 * D, st->bufD2, p + o->qkvw,
                            o->qkvb >= 0 ? p + o->qkvb : NULL, 0, st->buf3D)) < 0)
        return rc;
    ijepa__heads_split3(st->buf3D, S, T, H, hd, a->q, a->k, a->v);
    if ((rc = ijepa__matmul(ops, S * H, T, T, hd, a->q, 0, a->k, 1, NULL, st->scale, 0,
                            a->P)) < 0)
        return rc;
    if (V < T) /* padded keys: the masked kernel, zeros in their columns */
        ijepa__softmax_masked(ijepa__ops_simd(ops), S * H * T, T, V, a->P, a->P);
    else if ((rc = ijepa__softmax_fwd(ops, S * H * T, T, a->P, a->P)) < 0)
        return rc;
    if ((rc = ijepa__matmul(ops, S * H, T, hd, T, a->P, 0, a->v, 0, NULL, 1.0f, 0,
                            st->bufD1)) < 0)
        return rc;
    ijepa__heads_merge(st->bufD1, S, T, H, hd, a->ctx);
    /* x_mid = x_in + proj(ctx): the residual added in the matmul */
    if ((rc = ijepa__matmul_add(ops, 1, R, D, D, a->ctx, 0, p + o->projw, 1, p + o->projb,
                                1.0f, 0, a->x_in, a->x_mid, 0)) < 0)
        return rc;
    /* MLP */
    if ((rc = ijepa__layernorm_fwd(ops, R, D, st->eps, a->x_mid, p + o->n2w, p + o->n2b,
                                   st->bufD2, training ? a->mean2 : NULL,
                                   training ? a->var2 : NULL)) < 0)
        return rc;
    if ((rc = ijepa__linear(ops, R, D, Hd, st->bufD2, p + o->fc1w, p + o->fc1b, 0,
                            a->h_pre)) < 0)
        return rc;
    /* GELU output: scratch, not kept; backward recomputes it from h_pre */
    if ((rc = ijepa__gelu_fwd(ops, R * Hd, a->h_pre, st->bufH)) < 0)
        return rc;
    return ijepa__matmul_add(ops, 1, R, D, Hd, st->bufH, 0, p + o->fc2w, 1, p + o->fc2b, 1.0f,
                             0, a->x_mid, x_out, 0);
}

/* One block's four linear weights packed into st->wpk (ijepa__pack_b), as
 * the forward reads them or, bwd, as the input-gradient products do. */
typedef struct block_w {
    const void *qkv, *proj, *fc1, *fc2;
} block_w;

static int pack_block(ijepa__stack *st, ijepa__ops *ops, const float *p,
                      const ijepa__block_off *o, int bwd, block_w *w)
{
    const int64_t D = st->D, Hd = st->hidden;
    const struct {
        int64_t off, in, out;
        const void **dst;
    } t[4] = {{o->qkvw, D, 3 * D, &w->qkv}, {o->projw, D, D, &w->proj},
              {o->fc1w, D, Hd, &w->fc1}, {o->fc2w, Hd, D, &w->fc2}};
    for (int i = 0; i < 4; i++) {
        void *dst = (unsigned char *)st->wpk + st->wpk_off[i];
        int rc = bwd ? ijepa__pack_linear_bwd(ops, t[i].in, t[i].out, p + t[i].off, dst)
                     : ijepa__pack_linear(ops, t[i].in, t[i].out, p + t[i].off, dst);
        if (rc < 0)
            return rc;
        *t[i].dst = dst;
    }
    return IJEPA_OK;
}

/* Rows [q0, q0 + Tq) of each of `items` groups of T rows (`bytes` each),
 * gathered from src [items, T] into dst [items, Tq]. */
static void window_rows(const void *src, void *dst, int64_t items, int64_t T, int64_t q0,
                        int64_t Tq, size_t bytes)
{
    const char *s = src;
    char *d = dst;
#pragma omp parallel for schedule(static) if (items * T * (int64_t)bytes >= (1 << 20))
    for (int64_t i = 0; i < items; i++)
        memcpy(d + (size_t)(i * Tq) * bytes, s + (size_t)(i * T + q0) * bytes,
               (size_t)Tq * bytes);
}

/* Columns [0, n) of the rows outside [q0, q0 + Tq) of each of S groups of
 * T rows (ld values apart) set to 0. */
static void zero_outside(ijepa__bf16 *x, int64_t S, int64_t T, int64_t q0, int64_t Tq,
                         int64_t n, int64_t ld)
{
#pragma omp parallel for schedule(static) if (S * T * n >= (1 << 18))
    for (int64_t s = 0; s < S; s++)
        for (int64_t t = 0; t < T; t++)
            if (t < q0 || t >= q0 + Tq)
                memset(x + (s * T + t) * ld, 0, (size_t)n * sizeof *x);
}

/* The window's rows in place on x [S, T, D] float32: dir 0 packs them to
 * the front ([S, Tq, D]); dir 1 spreads them back, zeros elsewhere. Each
 * thread moves its own columns of every row, in the order that reads each
 * row before it is overwritten (destinations at or before their sources
 * for dir 0, at or after for dir 1). */
static void window_inplace(float *x, int64_t S, int64_t T, int64_t q0, int64_t Tq, int64_t D,
                           int dir)
{
#pragma omp parallel if (S * T * D >= (1 << 18))
    {
        const int64_t t = omp_get_thread_num(), nt = omp_get_num_threads();
        const int64_t c0 = D * t / nt, c1 = D * (t + 1) / nt;
        const size_t w = (size_t)(c1 - c0) * sizeof *x;
        if (!dir) {
            for (int64_t s = 0; s < S; s++)
                for (int64_t r = 0; r < Tq; r++)
                    memmove(x + (s * Tq + r) * D + c0, x + (s * T + q0 + r) * D + c0, w);
        } else {
            for (int64_t s = S - 1; s >= 0; s--) {
                for (int64_t r = Tq - 1; r >= 0; r--)
                    memmove(x + (s * T + q0 + r) * D + c0, x + (s * Tq + r) * D + c0, w);
                for (int64_t r = 0; r < T; r++)
                    if (r < q0 || r >= q0 + Tq)
                        memset(x + (s * T + r) * D + c0, 0, w);
            }
        }
    }
}

/* The scores array of a stack without a backward whose attention was to
 * run on the own kernel (attn_own) but takes the batched calls: made on
 * first use, kept until ijepa__stack_free. */
int64_t ijepa__stack_spare_floats(const ijepa__stack *st)
{
    return (st->max_attn + 1) / 2;
}

static int spare_scores(ijepa__stack *st, ijepa__ops *ops)
{
    st->spare = (ijepa__bf16 *)(void *)ijepa__falloc(ijepa__stack_spare_floats(st));
    if (!st->spare)
        return ijepa__fail(ijepa__ops_err(ops), IJEPA_ERR_NOMEM,
                           "attention: cannot allocate %.1f MiB of scores",
                           (double)st->max_attn * 2.0 / 1048576.0);
    st->act[0].P16 = st->spare;
    return IJEPA_OK;
}

/* One block in bf16 precision on the float32 residual stream a->x_in, in
 * place: x += proj(attention(LN1(x))), then x += fc2(GELU(fc1(LN2(x)))),
 * each sum added by the product to the x it reads (the backward keeps
 * the LayerNorms' xhat, not x). With a window (Tq < T) x ends as the
 * window's rows, packed to the front ([S, Tq, D]). */
static int block_forward16(ijepa__stack *st, ijepa__ops *ops, const float *p,
                           const block_w *w, const ijepa__block_off *o,
                           ijepa__layer_act *a, int64_t S, int64_t T, int64_t V, int64_t q0,
                           int64_t Tq, int training)
{
    const int64_t R = S * T, D = st->D, H = st->H, hd = st->hd, Hd = st->hidden;
    /* a window (Tq < T): only rows [q0, q0 + Tq) of each sequence go on
     * past the keys and values, Rq rows from the attention output on */
    const int win = Tq != T;
    const int64_t Rq = S * Tq;
    const int lvl = ijepa__ops_simd(ops);
    ijepa__bf16 *xn = st->a16, *qkv = st->c16, *o16 = st->b16, *g = st->h16;
    int rc;
    /* attention: LN1 -> qkv (bf16) -> heads -> softmax(q k^T s) v -> proj */
    ijepa__layernorm_bf16(lvl, R, D, st->eps, a->x_in, p + o->n1w, p + o->n1b, xn,
                          training ? a->xh1 : NULL, training ? a->var1 : NULL);
    /* with the own AMX kernel, the head split, the head merge (inference)
     * and GELU (training) are done by the products next to them */
    const int fuse = ijepa__ops_fusable(ops, D, 3 * D, hd) && ijepa__ops_fusable(ops, D, D, hd) &&
                     ijepa__ops_fusable(ops, D, Hd, 0);
    if (fuse) {
        const ijepa__mm_fuse fz = {T, H, hd, 0, {a->q16, a->k16, a->v16}, NULL, 0};
        if ((rc = ijepa__matmul_fused(ops, R, 3 * D, D, xn, w->qkv,
                                      o->qkvb >= 0 ? p + o->qkvb : NULL, NULL, NULL,
                                      IJEPA__MM_BF16 | IJEPA__MM_B_PACKED | IJEPA__MM_OUT_BF16,
                                      &fz)) < 0)
            return rc;
    } else {
        if ((rc = ijepa__linear16(ops, R, D, 3 * D, xn, w->qkv,
                                  o->qkvb >= 0 ? p + o->qkvb : NULL, 0, qkv,
                                  IJEPA__MM_OUT_BF16)) < 0)
            return rc;
        ijepa__heads_split3_bf16(qkv, S, T, H, hd, a->q16, a->k16, a->v16);
    }
    /* the scores in bf16 (as autocast's q @ k^T), the softmax in float32 on
     * them, in place; with a window, of its queries only (into xn, free
     * until LN2) */
    const ijepa__bf16 *qw = a->q16;
    if (win) {
        window_rows(a->q16, xn, S * H, T, q0, Tq, (size_t)hd * sizeof *xn);
        qw = xn;
    }
    /* the attention output: in the heads layout for the fused proj below,
     * else straight into ctx16 with the heads merged (kept for backward) */
    const int heads_in = fuse && !training;
    if (ijepa__ops_attention_own(ops, Tq, T, hd)) { /* item by item, scores in cache */
        ijepa__bf16 *P = training ? a->P16 : NULL; /* kept for the backward only */
        if ((rc = heads_in ? ijepa__attention_fwd16(ops, S * H, Tq, T, hd, V, st->scale, qw,
                                                    a->k16, a->v16, P, o16, 0, 0, 0, 0)
                           : ijepa__attention_fwd16(ops, S * H, Tq, T, hd, V, st->scale, qw,
                                                    a->k16, a->v16, P, a->ctx16, H, Tq * D, hd,
                                                    D)) < 0)
            return rc;
    } else {
        if (!a->P16 && (rc = spare_scores(st, ops)) < 0)
            return rc;
        if ((rc = ijepa__matmul_x(ops, S * H, Tq, T, hd, qw, 0, a->k16, 1, NULL, st->scale, 0,
                                  a->P16, IJEPA__MM_BF16 | IJEPA__MM_OUT_BF16)) < 0)
            return rc;
        ijepa__softmax_bf16(lvl, S * H * Tq, T, V, a->P16, a->P16);
        if ((rc = heads_in ? ijepa__matmul_x(ops, S * H, Tq, hd, T, a->P16, 0, a->v16, 0, NULL,
                                             1.0f, 0, o16, IJEPA__MM_BF16 | IJEPA__MM_OUT_BF16)
                           : ijepa__matmul_bf16_to(ops, S * H, Tq, hd, T, a->P16, 0, a->v16,
                                                   0, 1.0f, a->ctx16, H, Tq * D, hd, D)) < 0)
            return rc;
    }
    /* the residual: x itself, its window's rows packed to the front (LN1
     * has read the others), the sum added where it is read */
    float *x = a->x_in;
    if (win)
        window_inplace(x, S, T, q0, Tq, D, 0);
    if (heads_in) { /* the backward would need ctx16 merged */
        const ijepa__mm_fuse fz = {Tq, H, hd, 1, {NULL, NULL, NULL}, NULL, 0};
        if ((rc = ijepa__matmul_fused(ops, Rq, D, D, o16, w->proj, p + o->projb, x, x,
                                      IJEPA__MM_BF16 | IJEPA__MM_B_PACKED, &fz)) < 0)
            return rc;
    } else {
        if ((rc = ijepa__matmul_x(ops, 1, Rq, D, D, a->ctx16, 0, w->proj, 1, p + o->projb,
                                  1.0f, 1, x, IJEPA__MM_BF16 | IJEPA__MM_B_PACKED)) < 0)
            return rc;
    }
    /* MLP: LN2 -> fc1 (bf16, kept) -> GELU (bf16) -> fc2 into the residual */
    ijepa__layernorm_bf16(lvl, Rq, D, st->eps, x, p + o->n2w, p + o->n2b, xn,
                          training ? a->xh2 : NULL, training ? a->var2 : NULL);
    if (training && fuse) { /* fc1's output kept for the backward: streamed */
        const ijepa__mm_fuse fz = {0, 0, 0, 0, {NULL, NULL, NULL}, g, 1};
        if ((rc = ijepa__matmul_fused(ops, Rq, Hd, D, xn, w->fc1, p + o->fc1b, NULL, a->h16,
                                      IJEPA__MM_BF16 | IJEPA__MM_B_PACKED | IJEPA__MM_OUT_BF16,
                                      &fz)) < 0)
            return rc;
    } else if (training) {
        if ((rc = ijepa__linear16(ops, Rq, D, Hd, xn, w->fc1, p + o->fc1b, 0, a->h16,
                                  IJEPA__MM_OUT_BF16)) < 0)
            return rc;
        ijepa__gelu_bf16(lvl, Rq * Hd, a->h16, g);
    } else if (fuse) { /* inference: GELU only, nothing kept */
        const ijepa__mm_fuse fz = {0, 0, 0, 0, {NULL, NULL, NULL}, g, 0};
        if ((rc = ijepa__matmul_fused(ops, Rq, Hd, D, xn, w->fc1, p + o->fc1b, NULL, NULL,
                                      IJEPA__MM_BF16 | IJEPA__MM_B_PACKED | IJEPA__MM_OUT_BF16,
                                      &fz)) < 0)
            return rc;
    } else { /* inference: the training forward's values (GELU of the rounded fc1) */
        if ((rc = ijepa__linear16(ops, Rq, D, Hd, xn, w->fc1, p + o->fc1b, 0, g,
                                  IJEPA__MM_OUT_BF16)) < 0)
            return rc;
        ijepa__gelu_bf16(lvl, Rq * Hd, g, g);
    }
    return ijepa__matmul_x(ops, 1, Rq, D, Hd, g, 0, w->fc2, 1, p + o->fc2b, 1.0f, 1, x,
                           IJEPA__MM_BF16 | IJEPA__MM_B_PACKED);
}

int ijepa__stack_forward(ijepa__stack *st, ijepa__ops *ops, const float *params,
                         int64_t S, int64_t T, int64_t V, int64_t q0, int64_t Tq, int training,
                         float **out)
{
    st->S = st->T = st->V = st->q0 = st->Tq = 0; /* a failed or inference forward keeps nothing */
    for (int64_t l = 0; l < st->depth; l++) {
        ijepa__layer_act *a = &st->act[training ? l : 0];
        const ijepa__block_off *o = &st->off[l];
        const int last = l + 1 == st->depth;
        int rc;
        if (st->bf16) { /* this block's weights, packed just in time; in place */
            block_w w;
            if ((rc = pack_block(st, ops, params, o, 0, &w)) == IJEPA_OK)
                rc = block_forward16(st, ops, params, &w, o, a, S, T, V, last ? q0 : 0,
                                     last ? Tq : T, training);
        } else {
            float *x_out = !training ? a->x_in
                           : (l + 1 < st->depth ? st->act[l + 1].x_in : st->x_final);
            rc = block_forward(st, ops, params, o, a, S, T, V, training, x_out);
        }
        if (rc < 0)
            return rc;
    }
    *out = training ? st->x_final : st->act[0].x_in;
    if (!st->bf16 && Tq != T) /* float32: the whole last block ran; its window kept */
        window_inplace(*out, S, T, q0, Tq, st->D, 0);
    if (training) {
        st->S = S;
        st->T = T;
        st->V = V;
        st->q0 = q0;
        st->Tq = Tq;
    }
    return IJEPA_OK;
}

// --- backward -------------------------------------------------------------------------------

/* LayerNorm backward that adds into the residual gradient dx and the
 * parameter gradients. dy is the gradient at the LN output. */
static int ln_backward_add(ijepa__stack *st, ijepa__ops *ops, int64_t R, const float *x,
                           const float *mean, const float *var, const float *gamma,
                           const float *dy, float *dx, float *g_gamma, float *g_beta)
{
    const int64_t D = st->D;
    int rc = ijepa__layernorm_bwd(ops, R, D, st->eps, x, mean, var, gamma, dy, st->bufD2,
                                  st->dgamma, st->dbeta);
    if (rc < 0)
        return rc;
    ijepa__add_inplace(dx, st->bufD2, R * D);
    ijepa__add_inplace(g_gamma, st->dgamma, D);
    ijepa__add_inplace(g_beta, st->dbeta, D);
    return IJEPA_OK;
}

static int block_backward(ijepa__stack *st, ijepa__ops *ops, const float *p, float *g,
                          const ijepa__block_off *o, const ijepa__layer_act *a, float *dx)
{
    const int64_t S = st->S, T = st->T, R = S * T, D = st->D, H = st->H, hd = st->hd;
    const int64_t Hd = st->hidden;
    int rc;
    /* MLP branch: x_out = x_mid + fc2(GELU(fc1(LN2(x_mid)))) */
    /* fc2: its weight gradient needs GELU(h_pre), recomputed into bufH (a
     * training forward keeps only h_pre: a quarter less activation memory
     * per block); then bufH is overwritten with the gradient at that output */
    float *dh = st->bufH;
    if ((rc = ijepa__gelu_fwd(ops, R * Hd, a->h_pre, dh)) < 0 ||
        (rc = ijepa__linear_bwd(ops, R, Hd, D, dx, p + o->fc2w, dh, NULL, g + o->fc2w,
                                g + o->fc2b)) < 0 ||
        (rc = ijepa__matmul(ops, 1, R, Hd, D, dx, 0, p + o->fc2w, 0, NULL, 1.0f, 0, dh)) < 0 ||
        (rc = ijepa__gelu_bwd(ops, R * Hd, a->h_pre, dh, dh)) < 0 ||
        /* LN2(x_mid) again, into buf3D (free until the attention branch): the
         * same call as the forward, so the same bits and statistics */
        (rc = ijepa__layernorm_fwd(ops, R, D, st->eps, a->x_mid, p + o->n2w, p + o->n2b,
                                   st->buf3D, a->mean2, a->var2)) < 0 ||
        (rc = ijepa__linear_bwd(ops, R, D, Hd, dh, p + o->fc1w, st->buf3D, st->bufD1,
                                g + o->fc1w, g + o->fc1b)) < 0 ||
        (rc = ln_backward_add(st, ops, R, a->x_mid, a->mean2, a->var2, p + o->n2w,
                              st->bufD1, dx, g + o->n2w, g + o->n2b)) < 0)
        return rc;
    /* attention branch: x_mid = x_in + proj(attn(LN1(x_in))) */
    if ((rc = ijepa__linear_bwd(ops, R, D, D, dx, p + o->projw, a->ctx, st->bufD1,
                                g + o->projw, g + o->projb)) < 0)
        return rc;
    float *dO = st->bufD2;
    ijepa__heads_split(st->bufD1, S, T, H, hd, dO);
    float *dP = st->bufP1, *dS = st->bufP2;
    float *dq = st->buf3D, *dk = dq + R * D, *dv = dk + R * D;
    if ((rc = ijepa__matmul(ops, S * H, T, T, hd, dO, 0, a->v, 1, NULL, 1.0f, 0, dP)) < 0 ||
        (rc = ijepa__matmul(ops, S * H, T, hd, T, a->P, 1, dO, 0, NULL, 1.0f, 0, dv)) < 0 ||
        (rc = ijepa__softmax_bwd(ops, S * H * T, T, a->P, dP, dS)) < 0 ||
        (rc = ijepa__matmul(ops, S * H, T, hd, T, dS, 0, a->k, 0, NULL, st->scale, 0, dq)) < 0 ||
        (rc = ijepa__matmul(ops, S * H, T, hd, T, dS, 1, a->q, 0, NULL, st->scale, 0, dk)) < 0)
        return rc;
    float *dqkv = st->bufH;
    ijepa__heads_merge3(dq, dk, dv, S, T, H, hd, dqkv);
    /* LN1(x_in) again, into buf3D (dq, dk, dv are merged into dqkv by now) */
    if ((rc = ijepa__layernorm_fwd(ops, R, D, st->eps, a->x_in, p + o->n1w, p + o->n1b,
                                   st->buf3D, a->mean1, a->var1)) < 0 ||
        (rc = ijepa__linear_bwd(ops, R, D, 3 * D, dqkv, p + o->qkvw, st->buf3D, st->bufD1,
                                g + o->qkvw, o->qkvb >= 0 ? g + o->qkvb : NULL)) < 0)
        return rc;
    return ln_backward_add(st, ops, R, a->x_in, a->mean1, a->var1, p + o->n1w, st->bufD1,
                           dx, g + o->n1w, g + o->n1b);
}

/* One block backward in bf16 precision; dx float32 [R, D] in and out;
 * w: the block's weights packed for the input-gradient products. */
static int block_backward16(ijepa__stack *st, ijepa__ops *ops, const float *p,
                            const block_w *w, float *g, const ijepa__block_off *o,
                            const ijepa__layer_act *a, int64_t q0, int64_t Tq, float *dx)
{
    const int64_t S = st->S, T = st->T, R = S * T, D = st->D, H = st->H, hd = st->hd;
    const int64_t Hd = st->hidden;
    /* a window (the forward's): dx comes as [S Tq, D], the window's rows,
     * and the branches above the keys and values run on those Rq rows */
    const int win = Tq != T;
    const int64_t Rq = S * Tq;
    const int lvl = ijepa__ops_simd(ops);
    ijepa__bf16 *dy16 = st->b16, *dh = st->h16;
    float *dxn = st->bufD1;
    int rc;
    /* MLP branch: x_out = x_mid + fc2(GELU(fc1(LN2(x_mid)))) */
    ijepa__to_bf16_colsum(lvl, Rq, D, dx, dy16, g + o->fc2b, st->part);
    /* the gradient at fc2's input, then one pass over fc1's kept output h:
     * fc2's input GELU(h) again (into c16, free until the attention branch)
     * and the gradient at h, with fc1's bias gradient */
    ijepa__bf16 *gelu = st->c16;
    if ((rc = ijepa__matmul_x(ops, 1, Rq, Hd, D, dy16, 0, w->fc2, 0, NULL, 1.0f, 0, dh,
                              IJEPA__MM_BF16 | IJEPA__MM_OUT_BF16 | IJEPA__MM_B_PACKED)) < 0)
        return rc;
    ijepa__gelu_bwd_bf16(lvl, Rq, Hd, a->h16, dh, dh, gelu, g + o->fc1b, st->part);
    if ((rc = ijepa__linear16_bwd(ops, Rq, Hd, D, dy16, NULL, gelu, NULL, NULL, NULL,
                                  g + o->fc2w)) < 0)
        return rc;
    /* fc1's input, LN2's output, again from the kept xhat (the forward's
     * bits), made by the weight-gradient product itself */
    if ((rc = ijepa__linear16_bwd(ops, Rq, D, Hd, dh, w->fc1, a->xh2, p + o->n2w, p + o->n2b,
                                  dxn, g + o->fc1w)) < 0)
        return rc;
    /* attention branch: x_mid = x_in + proj(attn(LN1(x_in))); its dy16
     * and proj's bias gradient made by LN2's backward from the new dx */
    ijepa__layernorm_bwd_add_bf16(lvl, Rq, D, a->xh2, a->var2, p + o->n2w, dxn, dx, g + o->n2w,
                                  g + o->n2b, dy16, g + o->projb, st->part);
    /* dO in c16; dq, dk, dv straight into dqkv = d16 [R, 3D] */
    ijepa__bf16 *dctx = st->a16, *dO = st->c16, *dqkv = st->d16;
    if ((rc = ijepa__linear16_bwd(ops, Rq, D, D, dy16, NULL, a->ctx16, NULL, NULL, NULL,
                                  g + o->projw)) < 0)
        return rc;
    if (ijepa__ops_fusable(ops, D, D, hd)) { /* the head split done by the product */
        const ijepa__mm_fuse fz = {Tq, H, hd, 0, {dO, NULL, NULL}, NULL, 0};
        if ((rc = ijepa__matmul_fused(ops, Rq, D, D, dy16, w->proj, NULL, NULL, NULL,
                                      IJEPA__MM_BF16 | IJEPA__MM_B_PACKED | IJEPA__MM_OUT_BF16,
                                      &fz)) < 0)
            return rc;
    } else {
        if ((rc = ijepa__matmul_x(ops, 1, Rq, D, D, dy16, 0, w->proj, 0, NULL, 1.0f, 0, dctx,
                                  IJEPA__MM_BF16 | IJEPA__MM_OUT_BF16 | IJEPA__MM_B_PACKED)) < 0)
            return rc;
        ijepa__heads_split_bf16(dctx, S, Tq, H, hd, dO);
    }
    /* a window: its queries again (into a16, free now); dq lands on its
     * rows, zeros on the others */
    const ijepa__bf16 *qw = a->q16;
    if (win) {
        window_rows(a->q16, st->a16, S * H, T, q0, Tq, (size_t)hd * sizeof *dqkv);
        qw = st->a16;
        zero_outside(dqkv, S, T, q0, Tq, D, 3 * D);
    }
    if (ijepa__ops_attention_own(ops, Tq, T, hd)) { /* item by item, dP and dS in cache */
        if ((rc = ijepa__attention_bwd16(ops, S * H, Tq, T, hd, st->scale, qw, a->k16, a->v16,
                                         a->P16, dO, dqkv + q0 * 3 * D, dqkv + D,
                                         dqkv + 2 * D, H, T * 3 * D, hd, 3 * D)) < 0)
            return rc;
    } else { /* dP, then dS in place, for all items in p16 */
        ijepa__bf16 *dP = st->p16, *dS = dP;
        if ((rc = ijepa__matmul_x(ops, S * H, Tq, T, hd, dO, 0, a->v16, 1, NULL, 1.0f, 0, dP,
                                  IJEPA__MM_BF16 | IJEPA__MM_OUT_BF16)) < 0 ||
            (rc = ijepa__matmul_bf16_to(ops, S * H, T, hd, Tq, a->P16, 1, dO, 0, 1.0f,
                                        dqkv + 2 * D, H, T * 3 * D, hd, 3 * D)) < 0)
            return rc;
        ijepa__softmax_bwd_bf16(lvl, S * H * Tq, T, a->P16, dP, dS);
        if ((rc = ijepa__matmul_bf16_to(ops, S * H, Tq, hd, T, dS, 0, a->k16, 0, st->scale,
                                        dqkv + q0 * 3 * D, H, T * 3 * D, hd, 3 * D)) < 0 ||
            (rc = ijepa__matmul_bf16_to(ops, S * H, T, hd, Tq, dS, 1, qw, 0, st->scale,
                                        dqkv + D, H, T * 3 * D, hd, 3 * D)) < 0)
            return rc;
    }
    if (o->qkvb >= 0)
        ijepa__colsum_bf16(lvl, R, 3 * D, dqkv, g + o->qkvb, st->part);
    if ((rc = ijepa__linear16_bwd(ops, R, D, 3 * D, dqkv, w->qkv, a->xh1, p + o->n1w,
                                  p + o->n1b, dxn, g + o->qkvw)) < 0)
        return rc;
    if (win) /* the residual gradient: the window's rows, 0 on the others */
        window_inplace(dx, S, T, q0, Tq, D, 1);
    ijepa__layernorm_bwd_add(lvl, R, D, a->xh1, a->var1, p + o->n1w, dxn, dx, g + o->n1w,
                             g + o->n1b, st->part);
    return IJEPA_OK;
}

int ijepa__stack_backward(ijepa__stack *st, ijepa__ops *ops, const float *params,
                          float *grads, float *dx)
{
    if (!st->bf16 && st->Tq != st->T) /* float32: the last block runs whole */
        window_inplace(dx, st->S, st->T, st->q0, st->Tq, st->D, 1);
    for (int64_t l = st->depth - 1; l >= 0; l--) {
        const ijepa__block_off *o = &st->off[l];
        int rc;
        if (st->bf16) { /* this block's weights, packed for dx = dy W just in time */
            block_w w;
            const int last = l + 1 == st->depth;
            if ((rc = pack_block(st, ops, params, o, 1, &w)) == IJEPA_OK)
                rc = block_backward16(st, ops, params, &w, grads, o, &st->act[l],
                                      last ? st->q0 : 0, last ? st->Tq : st->T, dx);
        } else {
            rc = block_backward(st, ops, params, grads, o, &st->act[l], dx);
        }
        if (rc < 0)
            return rc;
    }
    return IJEPA_OK;
}
