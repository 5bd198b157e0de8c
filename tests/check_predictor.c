/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * Implements: suite "predictor" — include/ijepa/predictor.h against the
 * double-precision reference of the official VisionTransformerPredictor
 * (tests/ref_pred.c), and one gradient check of the whole I-JEPA step
 * (context encoder + predictor through the loss).
 *
 * TCases:
 *   core      forward equals the reference: three configurations (3 target
 *             blocks / 1 block with pred_num_heads overriding num_heads and a
 *             large LN eps / allow_overlap with Kc + Kt up to 2N), a batch
 *             below and at batch_size, per-image random disjoint unsorted
 *             index sets; TRAIN and INFERENCE agree
 *   grad      every trainable parameter element and every d_ctx element
 *             against central differences of the reference (the frozen
 *             predictor_pos_embed and the padding must stay exactly 0);
 *             backward twice accumulates parameter gradients and writes
 *             d_ctx identically; backward reads only the kept forward;
 *             zero_grad
 *   init      predictor_pos_embed is the sin-cos formula for width Dp;
 *             init statistics; seeds reproduce; the predictor's init stream
 *             differs from the encoder's
 *   table     tensor names, shapes, order, offsets and flags
 *   errors    INVALID_ARG / STATE with a message naming the function for
 *             every misuse; trainable = 0; _free(NULL)
 *   fullstep  context encoder + predictor + L2 loss: a sample of the
 *             gradients of both models against central differences of a
 *             double pipeline (ref_vit on the context tokens, ref_pred,
 *             ref_ijepa_loss against the library's target-encoder output)
 *
 * The numeric tests overwrite the parameters with random values of unit
 * scale (weights ~ 1/sqrt(fan_in), LN gains around 1, biases ~0.3,
 * mask_token U(-1, 1)): with the default init (std 0.02) attention is nearly
 * uniform and the blocks nearly the identity, which would hide wrong scales,
 * transposes, head layouts or sequence assignments.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_ijepa.h"
#include "ijepa/ijepa.h"
#include "ijepa/loss.h"
#include "ijepa/mask.h"
#include "ref.h"
#include "ref_pred.h"
#include "helpers.h"
#include "ref_vit.h"

// --- configurations and fixture --------------------------------------------------

typedef struct pspec {
    int64_t img, patch, D, heads, Dp, depth, pred_heads, M, batch;
    int overlap;
    uint64_t seed;
    double ln_eps; /* 0: the default (1e-6) */
} pspec;

/* A: 16 tokens, D 16, Dp 12 with the encoder's 2 heads (pred_num_heads 0),
 * 3 target blocks, batch_size 3 */
static const pspec PS_A = {8, 2, 16, 2, 12, 2, 0, 3, 3, 0, 31, 0};
/* B: one target block, Dp 8 with 4 heads of 2 (pred_num_heads overrides
 * num_heads 2), and a LayerNorm eps large enough that ignoring it shows */
static const pspec PS_B = {8, 2, 16, 2, 8, 2, 4, 1, 2, 0, 32, 0.05};
/* O: allow_overlap (sequences of up to 2N tokens), one block, 2 targets */
static const pspec PS_O = {8, 2, 16, 2, 8, 1, 0, 2, 2, 1, 33, 0};

static const pspec *const specs[] = {&PS_A, &PS_B, &PS_O};
#define NSPECS ((int)(sizeof specs / sizeof specs[0]))

static ijepa_config *pspec_config(const pspec *s)
{
    const cfg_int iv[] = {
        {IJEPA_CFG_IMG_SIZE, s->img},         {IJEPA_CFG_PATCH_SIZE, s->patch},
        {IJEPA_CFG_EMBED_DIM, s->D},          {IJEPA_CFG_NUM_HEADS, s->heads},
        {IJEPA_CFG_PRED_EMBED_DIM, s->Dp},    {IJEPA_CFG_PRED_DEPTH, s->depth},
        {IJEPA_CFG_PRED_NUM_HEADS, s->pred_heads}, {IJEPA_CFG_NUM_TARGETS, s->M},
        {IJEPA_CFG_BATCH_SIZE, s->batch},     {IJEPA_CFG_ALLOW_OVERLAP, s->overlap},
        {IJEPA_CFG_SEED, (int64_t)s->seed},
    };
    const cfg_float fv[] = {{IJEPA_CFG_LN_EPS, s->ln_eps}};
    return config_with(iv, COUNT_OF(iv), fv, s->ln_eps > 0 ? 1 : 0);
}

typedef struct pfx {
    ijepa_context *ctx;
    ijepa_config *cfg;
    ijepa_predictor *pred;
    const ijepa_tensor_table *tab;
    float *params, *grads;
    int64_t count, N, D, Dp, M, batch;
} pfx;

static void pfx_create(pfx *f, ijepa_config *cfg)
{
    memset(f, 0, sizeof *f);
    f->cfg = cfg;
    int rc = ijepa_context_create(&f->ctx);
    ck_assert_msg(rc == IJEPA_OK, "ijepa_context_create: %d %s", rc, ijepa_last_error());
    rc = ijepa_predictor_create(&f->pred, f->ctx, cfg);
    ck_assert_msg(rc == IJEPA_OK, "ijepa_predictor_create: %d %s", rc, ijepa_last_error());
    int64_t n2, img, patch;
    ck_assert_int_eq(ijepa_predictor_params(f->pred, &f->params, &f->count), IJEPA_OK);
    rc = ijepa_predictor_grads(f->pred, &f->grads, &n2);
    expect_grads_borrowed(cfg, rc, f->grads, n2, f->count);
    ck_assert_int_eq(ijepa_predictor_zero_grad(f->pred), IJEPA_OK); /* also with none */
    f->tab = ijepa_predictor_tensors(f->pred);
    ck_assert_ptr_nonnull(f->tab);
    ck_assert_int_eq(ijepa_tensor_table_buffer_size(f->tab), f->count);
    ck_assert_int_eq(ijepa_config_get_int(cfg, IJEPA_CFG_IMG_SIZE, &img), IJEPA_OK);
    ck_assert_int_eq(ijepa_config_get_int(cfg, IJEPA_CFG_PATCH_SIZE, &patch), IJEPA_OK);
    ck_assert_int_eq(ijepa_config_get_int(cfg, IJEPA_CFG_EMBED_DIM, &f->D), IJEPA_OK);
    ck_assert_int_eq(ijepa_config_get_int(cfg, IJEPA_CFG_PRED_EMBED_DIM, &f->Dp), IJEPA_OK);
    ck_assert_int_eq(ijepa_config_get_int(cfg, IJEPA_CFG_NUM_TARGETS, &f->M), IJEPA_OK);
    ck_assert_int_eq(ijepa_config_get_int(cfg, IJEPA_CFG_BATCH_SIZE, &f->batch), IJEPA_OK);
    f->N = (img / patch) * (img / patch);
}

static void pfx_open(pfx *f, const pspec *s) { pfx_create(f, pspec_config(s)); }

static void pfx_close(pfx *f)
{
    ijepa_predictor_free(f->pred);
    ijepa_context_free(f->ctx);
    ijepa_config_free(f->cfg);
    memset(f, 0, sizeof *f);
}

/* A reference predictor bound to a double copy of the predictor's parameters. */
typedef struct refp {
    ref_pred r;
    double *pd; /* [count] */
} refp;

static void refp_open(refp *m, const pfx *f)
{
    ref_pred_cfg rc;
    char err[256] = "";
    ck_assert_int_eq(ref_pred_cfg_from_config(&rc, f->cfg), 0);
    m->pd = ref_dalloc(f->count);
    ck_assert_ptr_nonnull(m->pd);
    ref_f2d(m->pd, f->params, f->count);
    ck_assert_msg(ref_pred_bind(&m->r, &rc, f->tab, m->pd, err, sizeof err) == 0,
                  "reference cannot bind to the predictor's tensor table: %s", err);
}

static void refp_close(refp *m)
{
    ref_pred_unbind(&m->r);
    free(m->pd);
}

/*
 * Index sets: context [B, Kc] and targets [M, B, Kt] in random (unsorted)
 * order, no index repeated within a list, different per image and block.
 * Without overlap every target block of image b avoids b's context (needs
 * Kc + Kt <= N); with overlap each list is drawn independently, so targets
 * share patches with the context when Kc + Kt > N.
 */
typedef struct idxset {
    int32_t *ctx, *tgt;
    int64_t B, M, Kc, Kt;
} idxset;

static void shuffle(int32_t *a, int64_t n, ref_rng *rng)
{
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = ref_rng_int(rng, i + 1);
        int32_t t = a[i];
        a[i] = a[j];
        a[j] = t;
    }
}

static void idx_make(idxset *s, int64_t B, int64_t M, int64_t N, int64_t Kc, int64_t Kt,
                     int overlap, uint64_t seed)
{
    ck_assert(overlap || Kc + Kt <= N);
    s->B = B; s->M = M; s->Kc = Kc; s->Kt = Kt;
    s->ctx = malloc((size_t)(B * Kc) * sizeof(int32_t));
    s->tgt = malloc((size_t)(M * B * Kt) * sizeof(int32_t));
    int32_t *perm = malloc((size_t)N * sizeof(int32_t)), *rest = malloc((size_t)N * sizeof(int32_t));
    ck_assert(s->ctx && s->tgt && perm && rest);
    ref_rng rng;
    ref_rng_seed(&rng, seed);
    int64_t descents = 0;
    for (int64_t b = 0; b < B; b++) {
        for (int64_t i = 0; i < N; i++) perm[i] = (int32_t)i;
        shuffle(perm, N, &rng);
        memcpy(s->ctx + b * Kc, perm, (size_t)Kc * sizeof(int32_t));
        for (int64_t m = 0; m < M; m++) {
            int64_t nr;
            if (overlap) {
                for (int64_t i = 0; i < N; i++) rest[i] = (int32_t)i;
                nr = N;
            } else {
                memcpy(rest, perm + Kc, (size_t)(N - Kc) * sizeof(int32_t));
                nr = N - Kc;
            }
            shuffle(rest, nr, &rng);
            memcpy(s->tgt + (m * B + b) * Kt, rest, (size_t)Kt * sizeof(int32_t));
        }
        for (int64_t j = 1; j < Kc; j++) descents += s->ctx[b * Kc + j] < s->ctx[b * Kc + j - 1];
    }
    ck_assert_msg(Kc < 3 || descents > 0, "index generator produced sorted context lists");
    free(perm);
    free(rest);
}

static void idx_free(idxset *s)
{
    free(s->ctx);
    free(s->tgt);
    memset(s, 0, sizeof *s);
}

/* ctx_out [n] with the spread of a LayerNorm output with affine: U(-2, 2) */
static float *ctx_new(int64_t n, uint64_t seed) { return rand_floats(n, seed, -2, 2); }

// --- core: forward -------------------------------------------------------------------

/*
 * Forward tolerance, as the encoder's: every block re-normalises, so the
 * float32 error stays near the per-layer level (a few hundred roundings of
 * relative size u on O(1) values, ~1e-5 at worst). tol = 1e-4 (1 + |want|)
 * is ten times that and still a thousand times below the effect of a wrong
 * scale, head split, position or sequence assignment (O(0.1 - 1)).
 */
#define FWD_ATOL 1e-4
#define FWD_RTOL 1e-4

START_TEST(test_forward_vs_ref)
{
    const pspec *s = specs[_i];
    pfx f;
    pfx_open(&f, s);
    randomize_table(f.tab, f.params, 100 + (uint64_t)_i);
    refp m;
    refp_open(&m, &f);
    /* (Kc, Kt): a typical split, and an extreme one (Kc + Kt = N, or 2N with overlap) */
    const int64_t KK[2][2] = {{s->overlap ? 12 : 9, s->overlap ? 9 : 5},
                              {s->overlap ? f.N : 2, s->overlap ? f.N : f.N - 2}};
    const int64_t Bs[2] = {s->batch - 1, s->batch};
    for (int jb = 0; jb < 2; jb++)
        for (int jk = 0; jk < 2; jk++) {
            const int64_t B = Bs[jb], Kc = KK[jk][0], Kt = KK[jk][1];
            const int64_t nin = B * Kc * f.D, nout = f.M * B * Kt * f.D;
            idxset ix;
            idx_make(&ix, B, f.M, f.N, Kc, Kt, s->overlap, 200 + 10 * (uint64_t)_i + 2 * jb + jk);
            float *z = ctx_new(nin, 300 + (uint64_t)(jb * 2 + jk)), *out = ref_falloc(nout);
            float *out0 = ref_falloc(nout);
            double *zd = ref_dalloc(nin), *want = ref_dalloc(nout), *o0 = ref_dalloc(nout);
            ck_assert(out && out0 && zd && want && o0);
            ref_f2d(zd, z, nin);
            ck_assert_int_eq(ref_pred_forward(&m.r, zd, B, ix.ctx, Kc, ix.tgt, Kt, want), 0);
            for (int mode = 0; mode < 2; mode++) {
                float *o = mode ? out : out0;
                int rc = ijepa_predictor_forward(f.pred, z, B, ix.ctx, Kc, ix.tgt, Kt, o, mode);
                ck_assert_msg(rc == IJEPA_OK, "forward: %d %s", rc,
                              ijepa_last_error());
                ref_cmp c = ref_compare_f(o, want, nout, FWD_ATOL, FWD_RTOL, NULL);
                expect_close(&c, "spec %d forward B=%lld Kc=%lld Kt=%lld mode %d", _i,
                             (long long)B, (long long)Kc, (long long)Kt, mode);
            }
            ref_f2d(o0, out0, nout);
            ref_cmp c = ref_compare_f(out, o0, nout, 1e-6, 0, NULL);
            expect_close(&c, "spec %d TRAIN vs INFERENCE forward B=%lld Kc=%lld", _i,
                         (long long)B, (long long)Kc);
            idx_free(&ix);
            free(z); free(out); free(out0); free(zd); free(want); free(o0);
        }
    refp_close(&m);
    pfx_close(&f);
}
END_TEST

/* Each target block is its own sequence: changing block 0's indices must not
 * change the prediction of block 1 (same image), nor another image's rows.
 * (A single shared sequence of all mask tokens would couple them.) */
START_TEST(test_blocks_independent)
{
    const pspec *s = &PS_A;
    pfx f;
    pfx_open(&f, s);
    randomize_table(f.tab, f.params, 150);
    const int64_t B = 2, Kc = 6, Kt = 3, nout = f.M * B * Kt * f.D;
    idxset ix;
    idx_make(&ix, B, f.M, f.N, Kc, Kt, 0, 151);
    float *z = ctx_new(B * Kc * f.D, 152), *o1 = ref_falloc(nout), *o2 = ref_falloc(nout);
    ck_assert_int_eq(ijepa_predictor_forward(f.pred, z, B, ix.ctx, Kc, ix.tgt, Kt, o1, 0), 0);
    /* block 0 of image 0 (row 0): swap in the target indices of block 1 of image 0 */
    int32_t save[3];
    memcpy(save, ix.tgt, sizeof save);
    memcpy(ix.tgt, ix.tgt + (1 * B + 0) * Kt, sizeof save);
    ck_assert_int_eq(ijepa_predictor_forward(f.pred, z, B, ix.ctx, Kc, ix.tgt, Kt, o2, 0), 0);
    const int64_t row = Kt * f.D;
    int64_t changed0 = 0, changed_other = 0;
    for (int64_t i = 0; i < row; i++) changed0 += o1[i] != o2[i];
    for (int64_t i = row; i < nout; i++) changed_other += o1[i] != o2[i];
    ck_assert_msg(changed0 > 0, "changing block 0's indices did not change its prediction");
    ck_assert_msg(changed_other == 0, "changing block 0 of image 0 changed %lld values of other "
                  "rows: target blocks (or images) attend to each other", (long long)changed_other);
    /* and row 0 now predicts at block 1's positions: equal to row B (block 1 of image 0) */
    ref_cmp c;
    double *w = ref_dalloc(row);
    ref_f2d(w, o2 + 1 * B * row, row);
    c = ref_compare_f(o2, w, row, 1e-6, 0, NULL);
    expect_close(&c, "row 0 with block 1's indices vs row B");
    idx_free(&ix);
    free(z); free(o1); free(o2); free(w);
    pfx_close(&f);
}
END_TEST

// --- grad: finite differences of the reference ------------------------------------

typedef struct pred_fd {
    const ref_pred *r;
    const double *z;
    const idxset *ix;
} pred_fd;

static void pred_fd_fwd(void *p, double *y)
{
    const pred_fd *c = p;
    ck_assert_int_eq(ref_pred_forward(c->r, c->z, c->ix->B, c->ix->ctx, c->ix->Kc, c->ix->tgt,
                                      c->ix->Kt, y), 0);
}

/*
 * Gradient tolerance, as the encoder's. The finite differences (double,
 * h = 1e-6) are exact to ~1e-9 relative; the library's float32 backward
 * through two blocks is off by ~1e-6 of each tensor's scale, more in relative
 * terms on elements whose gradient is a cancelling sum (e.g. the k-part of
 * qkv.bias, exactly 0 in exact arithmetic), hence the per-tensor floor.
 * tol = 2e-4 |fd| + 5e-5 max|fd| over the tensor: a missing term, a wrong
 * scale or a transposed gradient is off by 1e-2 - 1 of the scale.
 */
#define GRAD_RTOL 2e-4
#define GRAD_AFLOOR 5e-5

START_TEST(test_grad_fd)
{
    const pspec *s = specs[_i];
    pfx f;
    pfx_open(&f, s);
    randomize_table(f.tab, f.params, 400 + (uint64_t)_i);
    refp m;
    refp_open(&m, &f);
    const int64_t B = 2, Kc = s->overlap ? 10 : 6, Kt = s->overlap ? 9 : 4;
    const int64_t nz = B * Kc * f.D, ny = f.M * B * Kt * f.D;
    idxset ix;
    idx_make(&ix, B, f.M, f.N, Kc, Kt, s->overlap, 410 + (uint64_t)_i);
    float *z = ctx_new(nz, 420 + (uint64_t)_i), *out = ref_falloc(ny);
    float *R = rand_floats(ny, 430 + (uint64_t)_i, -1, 1), *dz = ref_falloc(nz);
    double *zd = ref_dalloc(nz), *Rd = ref_dalloc(ny), *fd = ref_dalloc(f.count);
    double *fdz = ref_dalloc(nz);
    ck_assert(out && R && dz && zd && Rd && fd && fdz);
    ref_f2d(Rd, R, ny);
    ref_f2d(zd, z, nz);

    ck_assert_int_eq(ijepa_predictor_zero_grad(f.pred), IJEPA_OK);
    int rc = ijepa_predictor_forward(f.pred, z, B, ix.ctx, Kc, ix.tgt, Kt, out,
                                     IJEPA_FORWARD_TRAIN);
    ck_assert_msg(rc == IJEPA_OK, "forward: %d %s", rc, ijepa_last_error());
    rc = ijepa_predictor_backward(f.pred, R, dz);
    ck_assert_msg(rc == IJEPA_OK, "backward: %d %s", rc, ijepa_last_error());

    pred_fd ctx = {&m.r, zd, &ix};
    char label[32];
    snprintf(label, sizeof label, "pred grad spec %d", _i);
    /* every tensor; the frozen predictor_pos_embed must have no gradient */
    const table_grads tg = expect_table_grads(f.tab, f.grads, m.pd, fd, pred_fd_fwd, &ctx, ny, Rd,
                                              GRAD_RTOL, GRAD_AFLOOR, label);
    ck_assert_int_eq(tg.frozen, 1);
    const tinfo mt = tensor_named(f.tab, "mask_token");
    ck_assert_msg(first_not(f.grads + mt.off, mt.numel, 0.0f) >= 0,
                  "mask_token got no gradient (it is trainable)");
    /* d_ctx: every element */
    ck_assert_int_eq(ref_fd_grad(pred_fd_fwd, &ctx, zd, nz, ny, Rd, 1e-6, fdz), 0);
    ref_cmp cz = ref_compare_f(dz, fdz, nz, GRAD_AFLOOR * ref_max_abs_d(fdz, nz), GRAD_RTOL,
                               NULL);
    if (getenv("IJEPA_TEST_VERBOSE")) {
        char d[384];
        fprintf(stderr, "pred grad spec %d d_ctx: %s\n", _i, ref_cmp_str(&cz, d, sizeof d));
    }
    /* padding between tensors stays zero in both buffers */
    int64_t pad = padding_nonzero(f.tab, f.params, f.count) +
                  padding_nonzero(f.tab, f.grads, f.count);
    ck_assert_msg(pad == 0, "%lld padding floats are not zero", (long long)pad);
    char d[384];
    ck_assert_msg(ref_cmp_ok(&tg.worst), "grad spec %d: worst tensor %s: %s", _i, tg.worst_name,
                  ref_cmp_str(&tg.worst, d, sizeof d));
    ck_assert_msg(ref_cmp_ok(&cz), "grad spec %d: d_ctx: %s", _i, ref_cmp_str(&cz, d, sizeof d));

    idx_free(&ix);
    free(z); free(out); free(R); free(dz); free(zd); free(Rd); free(fd); free(fdz);
    refp_close(&m);
    pfx_close(&f);
}
END_TEST

/* backward twice after one TRAIN forward: parameter gradients 2x, d_ctx
 * written (not accumulated) with the same values; backward reads only the
 * kept forward (the caller's ctx_out and index lists may change); zero_grad
 * zeroes every float and keeps the forward. */
START_TEST(test_backward_accumulates)
{
    const pspec *s = &PS_A;
    pfx f;
    pfx_open(&f, s);
    randomize_table(f.tab, f.params, 500);
    const int64_t B = 2, Kc = 7, Kt = 4, nz = B * Kc * f.D, ny = f.M * B * Kt * f.D;
    idxset ix;
    idx_make(&ix, B, f.M, f.N, Kc, Kt, 0, 501);
    float *z = ctx_new(nz, 502), *out = ref_falloc(ny), *R = rand_floats(ny, 503, -1, 1);
    float *d1 = ref_falloc(nz), *d2 = ref_falloc(nz), *g1 = ref_falloc(f.count);
    ck_assert(out && R && d1 && d2 && g1);

    /* reference gradient with everything intact */
    ck_assert_int_eq(ijepa_predictor_forward(f.pred, z, B, ix.ctx, Kc, ix.tgt, Kt, out, 1), 0);
    ck_assert_int_eq(ijepa_predictor_backward(f.pred, R, d1), IJEPA_OK);
    double *want = ref_dalloc(f.count), *wd = ref_dalloc(nz);
    ref_f2d(want, f.grads, f.count);
    ref_f2d(wd, d1, nz);
    const double gmax = ref_max_abs_d(want, f.count);
    ck_assert_msg(gmax > 0.0, "backward produced an all-zero gradient");
    ck_assert_int_eq(ijepa_predictor_zero_grad(f.pred), IJEPA_OK);

    /* clobber ctx_out and the index lists between forward and backward */
    ck_assert_int_eq(ijepa_predictor_forward(f.pred, z, B, ix.ctx, Kc, ix.tgt, Kt, out, 1), 0);
    memset(z, 0, (size_t)nz * sizeof(float));
    memset(ix.ctx, 0, (size_t)(B * Kc) * sizeof(int32_t));
    memset(ix.tgt, 0, (size_t)(f.M * B * Kt) * sizeof(int32_t));
    for (int64_t i = 0; i < nz; i++) d2[i] = 1e30f;
    ck_assert_int_eq(ijepa_predictor_backward(f.pred, R, d2), IJEPA_OK);
    ref_cmp c = ref_compare_f(f.grads, want, f.count, 1e-6 * gmax, 1e-6, NULL);
    expect_close(&c, "parameter gradients after ctx_out and indices were overwritten");
    c = ref_compare_f(d2, wd, nz, 1e-6 * ref_max_abs_d(wd, nz), 1e-6, NULL);
    expect_close(&c, "d_ctx after ctx_out and indices were overwritten");

    /* a second backward: parameters 2x (the same float values added again:
     * exact up to summation order), d_ctx bit-identical, written over garbage */
    memcpy(g1, f.grads, (size_t)f.count * sizeof(float));
    memcpy(d1, d2, (size_t)nz * sizeof(float));
    for (int64_t i = 0; i < nz; i++) d2[i] = -7.0f;
    ck_assert_int_eq(ijepa_predictor_backward(f.pred, R, d2), IJEPA_OK);
    for (int64_t i = 0; i < f.count; i++) want[i] = 2.0 * (double)g1[i];
    c = ref_compare_f(f.grads, want, f.count, 1e-6 * gmax, 1e-6, NULL);
    expect_close(&c, "two backward calls vs 2x one");
    ck_assert_msg(memcmp(d1, d2, (size_t)nz * sizeof(float)) == 0,
                  "d_ctx of the second backward differs from the first (it must be written, "
                  "not accumulated)");

    ck_assert_int_eq(ijepa_predictor_zero_grad(f.pred), IJEPA_OK);
    int64_t nzg = first_not(f.grads, f.count, 0.0f);
    ck_assert_msg(nzg < 0, "grad %lld not zero after zero_grad", (long long)nzg);
    /* after zero_grad the kept forward is still there: one more backward = g1 */
    ck_assert_int_eq(ijepa_predictor_backward(f.pred, R, d2), IJEPA_OK);
    for (int64_t i = 0; i < f.count; i++) want[i] = g1[i];
    c = ref_compare_f(f.grads, want, f.count, 1e-6 * gmax, 1e-6, NULL);
    expect_close(&c, "backward after zero_grad vs first backward");
    tinfo pos = tensor_named(f.tab, "predictor_pos_embed");
    int64_t j = first_not(f.grads + pos.off, pos.numel, 0.0f);
    ck_assert_msg(j < 0, "frozen predictor_pos_embed got gradient at %lld", (long long)j);

    idx_free(&ix);
    free(z); free(out); free(R); free(d1); free(d2); free(g1); free(want); free(wd);
    pfx_close(&f);
}
END_TEST

// --- init --------------------------------------------------------------------------

/* predictor_pos_embed = the official formula for width Dp computed in
 * double, cast to float (expect_sincos_embed() in tests/helpers.h); also
 * after init_params. Cases: G 4 / Dp 12 (D/4 = 3 frequencies), G 14 / Dp 32. */
START_TEST(test_pos_embed)
{
    const pspec cases[2] = {{8, 2, 16, 2, 12, 1, 0, 1, 1, 0, 1, 0},
                            {28, 2, 16, 2, 32, 1, 0, 1, 1, 0, 1, 0}};
    const pspec *s = &cases[_i];
    pfx f;
    pfx_open(&f, s);
    const int64_t G = s->img / s->patch, N = G * G, Dp = s->Dp;
    ck_assert_int_eq(f.N, N);
    tinfo t = tensor_named(f.tab, "predictor_pos_embed");
    ck_assert_int_eq(t.numel, N * Dp);
    expect_sincos_embed(f.params + t.off, G, Dp, "predictor_pos_embed");
    memset(f.params + t.off, 0, (size_t)(N * Dp) * sizeof(float));
    ck_assert_int_eq(ijepa_predictor_init_params(f.pred, 5), IJEPA_OK);
    expect_sincos_embed(f.params + t.off, G, Dp, "predictor_pos_embed after init_params");
    pfx_close(&f);
}
END_TEST

/* A predictor of real width (D 192, Dp 96, 3 heads, 2 blocks, 4 tokens) and
 * an encoder of the same config (2 blocks), init_std std. */
static ijepa_config *wide_config(double std, uint64_t seed)
{
    const pspec s = {32, 16, 192, 3, 96, 2, 0, 1, 1, 0, seed, 0};
    ijepa_config *cfg = pspec_config(&s);
    ck_assert_int_eq(ijepa_config_set_int(cfg, IJEPA_CFG_DEPTH, 2), IJEPA_OK);
    ck_assert_int_eq(ijepa_config_set_float(cfg, IJEPA_CFG_INIT_STD, std), IJEPA_OK);
    return cfg;
}

/*
 * Weights and mask_token: truncated normal N(0, std^2) on [-2, 2], by 5-sigma
 * sampling bounds on mean, std and (only for n >= 1000 samples) the fraction
 * within one std (expect_init_stats() in tests/helpers.h).
 * Biases 0, LN weight 1, bias 0, gradients 0.
 */
START_TEST(test_init_stats)
{
    const double stds[2] = {0.02, 0.1};
    const double std = stds[_i];
    pfx f;
    pfx_create(&f, wide_config(std, 77));
    const int nweights = expect_init_stats(f.tab, f.params, std, 1000);
    /* mask_token, predictor_embed, 4 per block, predictor_proj */
    ck_assert_int_eq(nweights, 1 + 1 + 4 * 2 + 1);
    int64_t nz = first_not(f.grads, f.count, 0.0f);
    ck_assert_msg(nz < 0, "gradient %lld not zero at creation", (long long)nz);
    pfx_close(&f);
}
END_TEST

static int cmp_float(const void *a, const void *b)
{
    const float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* Same seed: bit-identical buffers (two handles, and init_params on a third
 * created with another seed, which also zeroes its gradients). Different
 * seeds: the weights differ. Distinct stream: an encoder of the same config
 * and seed draws its weights from another stream, so (almost) none of the
 * predictor's random values occur among the encoder's. Were the streams the
 * same, the predictor's draws would be the first draws of the encoder's
 * (larger) sequence at the same std: every value would be found. */
START_TEST(test_seeds)
{
    pfx a, b, c;
    pfx_create(&a, wide_config(0.02, 1234));
    pfx_create(&b, wide_config(0.02, 1234));
    pfx_create(&c, wide_config(0.02, 1235));
    expect_seeded(a.tab, a.params, b.params, c.params, a.count, 1234);
    for (int64_t i = 0; i < c.count; i++) c.grads[i] = 1.0f;
    ck_assert_int_eq(ijepa_predictor_init_params(c.pred, 1234), IJEPA_OK);
    expect_reinit(a.params, c.params, c.grads, a.count, 1234);

    /* distinct stream from the encoder */
    ijepa_encoder *enc = NULL;
    ck_assert_int_eq(ijepa_encoder_create(&enc, a.ctx, a.cfg), IJEPA_OK);
    float *ep;
    int64_t en;
    ck_assert_int_eq(ijepa_encoder_params(enc, &ep, &en), IJEPA_OK);
    const ijepa_tensor_table *et = ijepa_encoder_tensors(enc);
    float *pool = ref_falloc(en);
    int64_t np = 0;
    for (int64_t i = 0; i < ijepa_tensor_table_count(et); i++) {
        tinfo t = tensor_at(et, i);
        if (t.ndim < 2 || (t.flags & IJEPA_TENSOR_FROZEN)) continue;
        memcpy(pool + np, ep + t.off, (size_t)t.numel * sizeof(float));
        np += t.numel;
    }
    qsort(pool, (size_t)np, sizeof(float), cmp_float);
    int64_t found = 0, drawn = 0;
    for (int64_t i = 0; i < ijepa_tensor_table_count(a.tab); i++) {
        tinfo t = tensor_at(a.tab, i);
        if (t.ndim < 2 || (t.flags & IJEPA_TENSOR_FROZEN)) continue;
        for (int64_t j = 0; j < t.numel; j++)
            found += bsearch(&a.params[t.off + j], pool, (size_t)np, sizeof(float),
                             cmp_float) != NULL;
        drawn += t.numel;
    }
    ck_assert_msg(np > drawn, "test needs the encoder to draw more values (%lld) than the "
                  "predictor (%lld)", (long long)np, (long long)drawn);
    if (getenv("IJEPA_TEST_VERBOSE"))
        fprintf(stderr, "distinct streams: %lld of %lld predictor values found among %lld "
                "encoder values\n", (long long)found, (long long)drawn, (long long)np);
    /* chance coincidences of equal floats: measured 1.4% (3635 of 258144); one
     * shared stream gives 100% */
    ck_assert_msg(found < drawn / 20, "%lld of the predictor's %lld random values also occur "
                  "in an encoder with the same seed: the init streams are not distinct",
                  (long long)found, (long long)drawn);
    free(pool);
    ijepa_encoder_free(enc);
    pfx_close(&a);
    pfx_close(&b);
    pfx_close(&c);
}
END_TEST

// --- table ---------------------------------------------------------------------------

/* The official predictor state-dict (ijepa-official.md 1.2), in order. */
START_TEST(test_tensor_table)
{
    const pspec *s = _i == 0 ? &PS_A : &PS_B;
    pfx f;
    pfx_open(&f, s);
    const int64_t D = s->D, Dp = s->Dp, N = f.N, Hd = 4 * Dp;
    want_table want = {.n = 0};
    want_add(&want, 3, 1, 1, Dp, 1, "mask_token"); /* [1, 1, Dp]: decayed (official quirk) */
    want_add(&want, 3, 1, N, Dp, 1, "predictor_pos_embed");
    want_add(&want, 2, Dp, D, 1, 1, "predictor_embed.weight");
    want_add(&want, 1, Dp, 1, 1, 1, "predictor_embed.bias");
    want_vit_blocks(&want, "predictor_blocks", s->depth, Dp, Hd, 1);
    want_add(&want, 1, Dp, 1, 1, 1, "predictor_norm.weight");
    want_add(&want, 1, Dp, 1, 1, 1, "predictor_norm.bias");
    want_add(&want, 2, D, Dp, 1, 1, "predictor_proj.weight");
    want_add(&want, 1, D, 1, 1, 1, "predictor_proj.bias");
    expect_tensor_table(f.tab, f.count, &want, "predictor_pos_embed");
    const int nw = want.n;
    int64_t idx;
    ck_assert_int_eq(ijepa_tensor_table_find(f.tab, "pos_embed", &idx), IJEPA_ERR_INVALID_ARG);
    ck_assert_int_eq(ijepa_tensor_table_find(f.tab, "predictor_blocks.99.norm1.weight", &idx),
                     IJEPA_ERR_INVALID_ARG);
    ck_assert_ptr_null(ijepa_tensor_table_name(f.tab, nw));

    /* its configuration: a copy, taken at creation (the sizes a host needs) */
    const ijepa_config *pc = ijepa_predictor_config(f.pred);
    ck_assert_ptr_nonnull(pc);
    ck_assert_ptr_ne(pc, f.cfg);
    char a[8192], b[8192];
    size_t na, nb;
    ck_assert_int_eq(ijepa_config_to_text(pc, a, sizeof a, &na), IJEPA_OK);
    ck_assert_int_eq(ijepa_config_to_text(f.cfg, b, sizeof b, &nb), IJEPA_OK);
    ck_assert_str_eq(a, b);
    int64_t v;
    ck_assert_int_eq(ijepa_config_set_int(f.cfg, IJEPA_CFG_EMBED_DIM, D + 4), IJEPA_OK);
    ck_assert_int_eq(ijepa_config_get_int(pc, IJEPA_CFG_EMBED_DIM, &v), IJEPA_OK);
    ck_assert_int_eq(v, D);
    ck_assert_int_eq(ijepa_config_get_int(pc, IJEPA_CFG_NUM_TARGETS, &v), IJEPA_OK);
    ck_assert_int_eq(v, f.M);
    ck_assert_ptr_null(ijepa_predictor_config(NULL));
    pfx_close(&f);
}
END_TEST

// --- errors ---------------------------------------------------------------------------

START_TEST(test_free_null)
{
    ijepa_predictor_free(NULL);
    ck_assert_ptr_null(ijepa_predictor_tensors(NULL));
    ck_assert_int_eq(ijepa_predictor_memory_bytes(NULL), 0);
}
END_TEST

START_TEST(test_create_errors)
{
    ijepa_context *ctx = NULL;
    ck_assert_int_eq(ijepa_context_create(&ctx), IJEPA_OK);
    ijepa_config *cfg = pspec_config(&PS_A);
    static char sentinel;
    ijepa_predictor *p = (ijepa_predictor *)(void *)&sentinel; /* set to NULL on failure */
    const char *F = "ijepa_predictor_create";

    expect_err(ijepa_predictor_create(NULL, ctx, cfg), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), F, "NULL out");
    expect_err(ijepa_predictor_create(&p, NULL, cfg), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), F, "NULL context");
    ck_assert_ptr_null(p);
    expect_err(ijepa_predictor_create(&p, ctx, NULL), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), F, "NULL config");
    /* Dp not a multiple of 4 */
    ck_assert_int_eq(ijepa_config_set_int(cfg, IJEPA_CFG_PRED_EMBED_DIM, 10), IJEPA_OK);
    ck_assert_int_eq(ijepa_config_set_int(cfg, IJEPA_CFG_PRED_NUM_HEADS, 2), IJEPA_OK);
    expect_err(ijepa_predictor_create(&p, ctx, cfg), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), F, "pred_embed_dim 10");
    ck_assert_ptr_null(p);
    /* Dp not a multiple of the head count: explicit, and inherited from num_heads */
    ck_assert_int_eq(ijepa_config_set_int(cfg, IJEPA_CFG_PRED_EMBED_DIM, 12), IJEPA_OK);
    ck_assert_int_eq(ijepa_config_set_int(cfg, IJEPA_CFG_PRED_NUM_HEADS, 8), IJEPA_OK);
    expect_err(ijepa_predictor_create(&p, ctx, cfg), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), F, "Dp 12, pred_num_heads 8");
    ck_assert_int_eq(ijepa_config_set_int(cfg, IJEPA_CFG_PRED_NUM_HEADS, 0), IJEPA_OK);
    ck_assert_int_eq(ijepa_config_set_int(cfg, IJEPA_CFG_NUM_HEADS, 8), IJEPA_OK);
    expect_err(ijepa_predictor_create(&p, ctx, cfg), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), F, "Dp 12, pred_num_heads 0, num_heads 8");
    ck_assert_int_eq(ijepa_config_set_int(cfg, IJEPA_CFG_NUM_HEADS, 2), IJEPA_OK);
    /* img_size not a multiple of patch_size */
    ck_assert_int_eq(ijepa_config_set_int(cfg, IJEPA_CFG_IMG_SIZE, 9), IJEPA_OK);
    expect_err(ijepa_predictor_create(&p, ctx, cfg), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), F, "img 9 patch 2");
    ck_assert_int_eq(ijepa_config_set_int(cfg, IJEPA_CFG_IMG_SIZE, 8), IJEPA_OK);
    /* consistent again: works */
    ck_assert_int_eq(ijepa_predictor_create(&p, ctx, cfg), IJEPA_OK);
    ck_assert_ptr_nonnull(p);
    ck_assert_int_gt(ijepa_predictor_memory_bytes(p), 0);
    ijepa_predictor_free(p);
    ijepa_config_free(cfg);
    ijepa_context_free(ctx);
}
END_TEST

START_TEST(test_forward_errors)
{
    const pspec *s = &PS_A; /* batch_size 3, M 3, N 16, no overlap */
    pfx f;
    pfx_open(&f, s);
    const int64_t B = s->batch, Kc = 5, Kt = 4;
    idxset ix;
    /* room for the largest counts tried below */
    idx_make(&ix, B + 1, f.M, f.N, 8, 8, 0, 600);
    const int64_t nout = f.M * (B + 1) * (f.N + 1) * f.D;
    float *z = ctx_new((B + 1) * (f.N + 1) * f.D, 601), *out = ref_falloc(nout);
    int32_t *big = calloc((size_t)(f.M * (B + 1) * (f.N + 1)), sizeof(int32_t));
    ck_assert(out && big);
    for (int64_t i = 0; i < nout; i++) out[i] = 42.0f;
    const char *F = "ijepa_predictor_forward";
    ijepa_predictor *P = f.pred;
    const char *msg = ijepa_last_error();
#define FWD(p, zz, b, c, kc, t, kt, o, mode) ijepa_predictor_forward(p, zz, b, c, kc, t, kt, o, mode)
    expect_err(FWD(NULL, z, B, ix.ctx, Kc, ix.tgt, Kt, out, 0), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), F, "NULL predictor");
    expect_err(FWD(P, NULL, B, ix.ctx, Kc, ix.tgt, Kt, out, 0), IJEPA_ERR_INVALID_ARG, msg, F,
               "NULL ctx_out");
    expect_err(FWD(P, z, B, NULL, Kc, ix.tgt, Kt, out, 0), IJEPA_ERR_INVALID_ARG, msg, F,
               "NULL context");
    expect_err(FWD(P, z, B, ix.ctx, Kc, NULL, Kt, out, 0), IJEPA_ERR_INVALID_ARG, msg, F,
               "NULL targets");
    expect_err(FWD(P, z, B, ix.ctx, Kc, ix.tgt, Kt, NULL, 0), IJEPA_ERR_INVALID_ARG, msg, F,
               "NULL out");
    expect_err(FWD(P, z, 0, ix.ctx, Kc, ix.tgt, Kt, out, 0), IJEPA_ERR_INVALID_ARG, msg, F,
               "batch 0");
    expect_err(FWD(P, z, -2, ix.ctx, Kc, ix.tgt, Kt, out, 0), IJEPA_ERR_INVALID_ARG, msg, F,
               "batch -2");
    expect_err(FWD(P, z, B + 1, ix.ctx, Kc, ix.tgt, Kt, out, 0), IJEPA_ERR_INVALID_ARG, msg, F,
               "batch > batch_size");
    expect_err(FWD(P, z, B, ix.ctx, 0, ix.tgt, Kt, out, 0), IJEPA_ERR_INVALID_ARG, msg, F,
               "n_context 0");
    expect_err(FWD(P, z, B, ix.ctx, Kc, ix.tgt, 0, out, 0), IJEPA_ERR_INVALID_ARG, msg, F,
               "n_target 0");
    expect_err(FWD(P, z, B, ix.ctx, -1, ix.tgt, Kt, out, 0), IJEPA_ERR_INVALID_ARG, msg, F,
               "n_context -1");
    expect_err(FWD(P, z, B, big, f.N + 1, big, 1, out, 0), IJEPA_ERR_INVALID_ARG, msg, F,
               "n_context N + 1");
    expect_err(FWD(P, z, B, big, 1, big, f.N + 1, out, 0), IJEPA_ERR_INVALID_ARG, msg, F,
               "n_target N + 1");
    /* Without allow_overlap a sequence holds at most N + the largest target
     * block the mask config can draw: on this 4x4 grid with the default
     * scale 0.2 and aspect 0.75-1.5, area int(16 * 0.2) = 3 gives
     * h = round(sqrt(3 * 1.5)) = 2, w = round(sqrt(3 / 0.75)) = 2: 4 patches,
     * so the limit is 20. */
    expect_err(FWD(P, z, B, big, f.N, big, 5, out, 0), IJEPA_ERR_INVALID_ARG, msg, F,
               "n_context + n_target = N + 5 without allow_overlap");
    expect_err(FWD(P, z, B, ix.ctx, Kc, ix.tgt, Kt, out, 2), IJEPA_ERR_INVALID_ARG, msg, F,
               "mode 2");
    /* out-of-range indices, in the last image / last block */
    int32_t keep = ix.ctx[(B - 1) * Kc + Kc - 1];
    ix.ctx[(B - 1) * Kc + Kc - 1] = -1;
    expect_err(FWD(P, z, B, ix.ctx, Kc, ix.tgt, Kt, out, 0), IJEPA_ERR_INVALID_ARG, msg, F,
               "context index -1");
    ix.ctx[(B - 1) * Kc + Kc - 1] = (int32_t)f.N;
    expect_err(FWD(P, z, B, ix.ctx, Kc, ix.tgt, Kt, out, 1), IJEPA_ERR_INVALID_ARG, msg, F,
               "context index N");
    ix.ctx[(B - 1) * Kc + Kc - 1] = keep;
    const int64_t last = (f.M * B - 1) * Kt + Kt - 1;
    keep = ix.tgt[last];
    ix.tgt[last] = (int32_t)f.N;
    expect_err(FWD(P, z, B, ix.ctx, Kc, ix.tgt, Kt, out, 0), IJEPA_ERR_INVALID_ARG, msg, F,
               "target index N");
    ix.tgt[last] = -5;
    expect_err(FWD(P, z, B, ix.ctx, Kc, ix.tgt, Kt, out, 1), IJEPA_ERR_INVALID_ARG, msg, F,
               "target index -5");
    ix.tgt[last] = keep;
    int64_t w = first_not(out, nout, 42.0f);
    ck_assert_msg(w < 0, "a failed forward wrote out[%lld]", (long long)w);
    /* the handle still works, at the limits: batch_size, Kc + Kt = N + 4 */
    ck_assert_int_eq(FWD(P, z, B, ix.ctx, Kc, ix.tgt, Kt, out, 1), IJEPA_OK);
    ck_assert_int_eq(FWD(P, z, B, big, 8, big, 8, out, 1), IJEPA_OK);
    ck_assert_int_eq(FWD(P, z, B, big, f.N, big, 4, out, 1), IJEPA_OK);
#undef FWD
    idx_free(&ix);
    free(z); free(out); free(big);
    pfx_close(&f);
}
END_TEST

/* allow_overlap = 1: Kc + Kt up to 2N is accepted, each count still <= N */
START_TEST(test_overlap_limits)
{
    pfx f;
    pfx_open(&f, &PS_O);
    const int64_t B = 1;
    float *z = ctx_new(B * (f.N + 1) * f.D, 650);
    float *out = ref_falloc(f.M * B * (f.N + 1) * f.D);
    int32_t *big = calloc((size_t)(f.M * B * (f.N + 1)), sizeof(int32_t));
    ck_assert(out && big);
    ck_assert_int_eq(ijepa_predictor_forward(f.pred, z, B, big, f.N, big, f.N, out, 1), IJEPA_OK);
    expect_err(ijepa_predictor_forward(f.pred, z, B, big, f.N + 1, big, 1, out, 1),
               IJEPA_ERR_INVALID_ARG, ijepa_last_error(),
               "ijepa_predictor_forward", "allow_overlap, n_context N + 1");
    expect_err(ijepa_predictor_forward(f.pred, z, B, big, 1, big, f.N + 1, out, 1),
               IJEPA_ERR_INVALID_ARG, ijepa_last_error(),
               "ijepa_predictor_forward", "allow_overlap, n_target N + 1");
    free(z); free(out); free(big);
    pfx_close(&f);
}
END_TEST

/* backward: IJEPA_ERR_STATE without a kept TRAIN forward; NULLs; the other
 * entry points with NULL */
START_TEST(test_backward_errors)
{
    pfx f;
    pfx_open(&f, &PS_A);
    const int64_t B = 2, Kc = 5, Kt = 3, nz = B * Kc * f.D, ny = f.M * B * Kt * f.D;
    idxset ix;
    idx_make(&ix, B, f.M, f.N, Kc, Kt, 0, 700);
    float *z = ctx_new(nz, 701), *out = ref_falloc(ny), *d = ref_falloc(ny), *dz = ref_falloc(nz);
    for (int64_t i = 0; i < ny; i++) d[i] = 1.0f;
    const char *F = "ijepa_predictor_backward";
    ijepa_predictor *P = f.pred;

    expect_err(ijepa_predictor_backward(P, d, dz), IJEPA_ERR_STATE,
               ijepa_last_error(), F, "backward before any forward");
    ck_assert_int_eq(ijepa_predictor_forward(P, z, B, ix.ctx, Kc, ix.tgt, Kt, out, 0), 0);
    expect_err(ijepa_predictor_backward(P, d, dz), IJEPA_ERR_STATE,
               ijepa_last_error(), F, "backward after an INFERENCE forward");
    ck_assert_int_eq(ijepa_predictor_forward(P, z, B, ix.ctx, Kc, ix.tgt, Kt, out, 1), 0);
    ck_assert_int_eq(ijepa_predictor_forward(P, z, B, ix.ctx, Kc, ix.tgt, Kt, out, 0), 0);
    expect_err(ijepa_predictor_backward(P, d, dz), IJEPA_ERR_STATE,
               ijepa_last_error(), F, "INFERENCE forward after a TRAIN one");
    ck_assert_int_eq(ijepa_predictor_forward(P, z, B, ix.ctx, Kc, ix.tgt, Kt, out, 1), 0);
    ck_assert_int_eq(ijepa_predictor_init_params(P, 3), IJEPA_OK);
    expect_err(ijepa_predictor_backward(P, d, dz), IJEPA_ERR_STATE,
               ijepa_last_error(), F, "backward after init_params");
    int64_t nzg = first_not(f.grads, f.count, 0.0f);
    ck_assert_msg(nzg < 0, "a refused backward wrote gradient %lld", (long long)nzg);

    ck_assert_int_eq(ijepa_predictor_forward(P, z, B, ix.ctx, Kc, ix.tgt, Kt, out, 1), 0);
    expect_err(ijepa_predictor_backward(P, NULL, dz), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), F, "NULL d_out");
    expect_err(ijepa_predictor_backward(P, d, NULL), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), F, "NULL d_ctx");
    expect_err(ijepa_predictor_backward(NULL, d, dz), IJEPA_ERR_INVALID_ARG, ijepa_last_error(),
               F, "NULL predictor");
    nzg = first_not(f.grads, f.count, 0.0f);
    ck_assert_msg(nzg < 0, "a refused backward wrote gradient %lld", (long long)nzg);
    ck_assert_int_eq(ijepa_predictor_backward(P, d, dz), IJEPA_OK);

    float *pp;
    int64_t cnt;
    expect_err(ijepa_predictor_zero_grad(NULL), IJEPA_ERR_INVALID_ARG, ijepa_last_error(),
               "ijepa_predictor_zero_grad", "zero_grad NULL");
    expect_err(ijepa_predictor_init_params(NULL, 1), IJEPA_ERR_INVALID_ARG, ijepa_last_error(),
               "ijepa_predictor_init_params", "init_params NULL");
    expect_err(ijepa_predictor_params(NULL, &pp, &cnt), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), "ijepa_predictor_params", "params NULL predictor");
    expect_err(ijepa_predictor_params(P, NULL, &cnt), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), "ijepa_predictor_params", "params NULL data");
    expect_err(ijepa_predictor_grads(P, &pp, NULL), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), "ijepa_predictor_grads", "grads NULL count");
    expect_err(ijepa_predictor_grads(NULL, &pp, &cnt), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), "ijepa_predictor_grads", "grads NULL predictor");
    idx_free(&ix);
    free(z); free(out); free(d); free(dz);
    pfx_close(&f);
}
END_TEST

/* trainable = 0: TRAIN forwards fail with IJEPA_ERR_STATE, INFERENCE works
 * and matches a trainable predictor with the same seed; less memory. */
START_TEST(test_not_trainable)
{
    ijepa_config *cfg = pspec_config(&PS_A);
    ck_assert_int_eq(ijepa_config_set_int(cfg, IJEPA_CFG_TRAINABLE, 0), IJEPA_OK);
    pfx f, g;
    pfx_create(&f, cfg);
    pfx_open(&g, &PS_A);
    ck_assert_int_lt(ijepa_predictor_memory_bytes(f.pred), ijepa_predictor_memory_bytes(g.pred));
    const int64_t B = 2, Kc = 6, Kt = 5, ny = f.M * B * Kt * f.D;
    idxset ix;
    idx_make(&ix, B, f.M, f.N, Kc, Kt, 0, 800);
    float *z = ctx_new(B * Kc * f.D, 801), *o1 = ref_falloc(ny), *o2 = ref_falloc(ny);
    expect_err(ijepa_predictor_forward(f.pred, z, B, ix.ctx, Kc, ix.tgt, Kt, o1,
                                       IJEPA_FORWARD_TRAIN),
               IJEPA_ERR_STATE, ijepa_last_error(), "ijepa_predictor_forward",
               "TRAIN forward with trainable = 0");
    ck_assert_int_eq(ijepa_predictor_forward(f.pred, z, B, ix.ctx, Kc, ix.tgt, Kt, o1, 0), 0);
    ck_assert_int_eq(ijepa_predictor_forward(g.pred, z, B, ix.ctx, Kc, ix.tgt, Kt, o2, 0), 0);
    double *d2 = ref_dalloc(ny);
    ref_f2d(d2, o2, ny);
    ref_cmp c = ref_compare_f(o1, d2, ny, 1e-6, 0, NULL);
    expect_close(&c, "trainable 0 vs 1, same seed, INFERENCE");
    float *dz = ref_falloc(B * Kc * f.D);
    expect_err(ijepa_predictor_backward(f.pred, o1, dz), IJEPA_ERR_STATE,
               ijepa_last_error(), "ijepa_predictor_backward",
               "backward on trainable = 0");
    idx_free(&ix);
    free(z); free(o1); free(o2); free(d2); free(dz);
    pfx_close(&f);
    pfx_close(&g);
}
END_TEST

// --- fullstep: context encoder + predictor + loss -----------------------------------

/* The pipeline in double: z = ref_vit(images, context), p = ref_pred(z),
 * y = per-element L2 loss terms against the fixed target output h. */
typedef struct step_fd {
    const ref_vit *v;
    const ref_pred *r;
    const double *images, *h;
    const int32_t *ctx, *tgt;
    int64_t B, N, D, M, Kc, Kt;
    double ln_eps;
    double *z, *p; /* scratch */
} step_fd;

static void step_fd_fwd(void *q, double *y)
{
    const step_fd *c = q;
    ck_assert_int_eq(ref_vit_forward(c->v, c->images, c->B, c->ctx, c->Kc, c->z), 0);
    ck_assert_int_eq(ref_pred_forward(c->r, c->z, c->B, c->ctx, c->Kc, c->tgt, c->Kt, c->p), 0);
    ref_ijepa_loss(c->h, c->B, c->N, c->D, c->tgt, c->M, c->Kt, c->p, IJEPA_LOSS_L2, c->ln_eps,
                   y);
}

/* One element to check: tensor t of model (0 encoder, 1 predictor), element j. */
typedef struct probe {
    int model;
    int64_t tensor, j;
} probe;

/*
 * Full-step tolerance. The library runs the context encoder (2 blocks), the
 * predictor (2 blocks), the loss and both backwards in float32; the forward
 * errors (~1e-6 relative per value) enter the L2 residual pred - h of O(1)
 * values, and the backward adds its own. Measured: every probe within
 * ~2e-7 of its tensor's scale. The finite differences of the double
 * pipeline (h = 1e-6, each loss term differenced separately) are exact to
 * ~1e-9 relative. tol = 2e-4 |fd| + 5e-5 S, the predictor test's bound, with
 * S the largest library gradient magnitude of the tensor (a full-tensor
 * scale, since the sampled fd values may all be small; a library gradient
 * inflated by a factor c only widens the floor to 5e-5 c S while the error
 * grows as (c - 1) |fd|). A missing path (no d_ctx into the encoder, a lost
 * block), a wrong scale (1/count, the factor 2 of L2) or a transposition is
 * off by far more than 1e-2 S.
 */
#define STEP_RTOL 2e-4
#define STEP_AFLOOR 5e-5
#define STEP_SAMPLES 240

START_TEST(test_fullstep_grad)
{
    /* config: img 8, patch 2, 2 channels (16 tokens), D 16, 2 blocks of 2
     * heads; predictor Dp 12, 2 blocks of 3 heads; 2 target blocks; batch 2 */
    const cfg_int iv[] = {
        {IJEPA_CFG_IMG_SIZE, 8},        {IJEPA_CFG_PATCH_SIZE, 2},
        {IJEPA_CFG_IN_CHANS, 2},        {IJEPA_CFG_EMBED_DIM, 16},
        {IJEPA_CFG_DEPTH, 2},           {IJEPA_CFG_NUM_HEADS, 2},
        {IJEPA_CFG_PRED_EMBED_DIM, 12}, {IJEPA_CFG_PRED_DEPTH, 2},
        {IJEPA_CFG_PRED_NUM_HEADS, 3},  {IJEPA_CFG_NUM_TARGETS, 2},
        {IJEPA_CFG_BATCH_SIZE, 2},      {IJEPA_CFG_MIN_KEEP, 2},
        {IJEPA_CFG_SEED, 900},          {IJEPA_CFG_LOSS, IJEPA_LOSS_L2},
    };
    const cfg_float fv[] = {{IJEPA_CFG_TARGET_SCALE_MIN, 0.25}, {IJEPA_CFG_TARGET_SCALE_MAX, 0.3}};
    ijepa_config *cfg = config_with(iv, COUNT_OF(iv), fv, COUNT_OF(fv));
    ijepa_config *tcfg = NULL;
    ck_assert_int_eq(ijepa_config_copy(&tcfg, cfg), IJEPA_OK);
    ck_assert_int_eq(ijepa_config_set_int(tcfg, IJEPA_CFG_TRAINABLE, 0), IJEPA_OK);
    double ln_eps;
    ck_assert_int_eq(ijepa_config_get_float(cfg, IJEPA_CFG_TARGET_LN_EPS, &ln_eps), IJEPA_OK);

    ijepa_context *ctx = NULL;
    ijepa_encoder *enc = NULL, *tgt = NULL;
    ijepa_predictor *pred = NULL;
    ijepa_mask_sampler *ms = NULL;
    ck_assert_int_eq(ijepa_context_create(&ctx), IJEPA_OK);
    int rc;
    ck_assert_msg((rc = ijepa_encoder_create(&enc, ctx, cfg)) == IJEPA_OK, "encoder: %s",
                  ijepa_last_error());
    ck_assert_msg((rc = ijepa_encoder_create(&tgt, ctx, tcfg)) == IJEPA_OK, "target: %s",
                  ijepa_last_error());
    ck_assert_msg((rc = ijepa_predictor_create(&pred, ctx, cfg)) == IJEPA_OK, "predictor: %s",
                  ijepa_last_error());
    ck_assert_msg((rc = ijepa_mask_sampler_create(&ms, cfg)) == IJEPA_OK, "sampler: %s",
                  ijepa_last_error());
    const ijepa_tensor_table *tabs[2] = {ijepa_encoder_tensors(enc), ijepa_predictor_tensors(pred)};
    float *P[2], *G[2], *tp;
    int64_t cnt[2], n2;
    ck_assert_int_eq(ijepa_encoder_params(enc, &P[0], &cnt[0]), IJEPA_OK);
    ck_assert_int_eq(ijepa_encoder_grads(enc, &G[0], &n2), IJEPA_OK);
    ck_assert_int_eq(ijepa_predictor_params(pred, &P[1], &cnt[1]), IJEPA_OK);
    ck_assert_int_eq(ijepa_predictor_grads(pred, &G[1], &n2), IJEPA_OK);
    ck_assert_int_eq(ijepa_encoder_params(tgt, &tp, &n2), IJEPA_OK);
    randomize_table(tabs[0], P[0], 901);
    randomize_table(tabs[1], P[1], 902);
    memcpy(tp, P[0], (size_t)cnt[0] * sizeof(float)); /* target = context encoder, as at step 0 */

    const int64_t B = 2, N = 16, D = 16, M = 2, C = 2, img = 8;
    int32_t *cidx = malloc((size_t)(B * N) * sizeof(int32_t));
    int32_t *tidx = malloc((size_t)(M * B * N) * sizeof(int32_t));
    int64_t Kc, Kt;
    rc = ijepa_mask_sampler_sample(ms, B, 3, cidx, &Kc, tidx, &Kt);
    ck_assert_msg(rc == IJEPA_OK, "sample: %s", ijepa_last_error());
    ck_assert(Kc >= 2 && Kt >= 2);
    const int64_t npix = B * C * img * img, nz = B * Kc * D, ny = M * B * Kt * D;
    float *im = ref_falloc(npix), *h = ref_falloc(B * N * D), *z = ref_falloc(nz);
    float *dz = ref_falloc(nz), *p = ref_falloc(ny), *dp = ref_falloc(ny);
    ref_rng rng;
    ref_rng_seed(&rng, 903);
    ref_fill_f(im, npix, &rng, -1, 1);

    /* library step */
    double L = 0;
    ck_assert_int_eq(ijepa_encoder_forward(tgt, im, B, NULL, 0, h, IJEPA_FORWARD_INFERENCE), 0);
    ck_assert_int_eq(ijepa_encoder_forward(enc, im, B, cidx, Kc, z, IJEPA_FORWARD_TRAIN), 0);
    ck_assert_int_eq(ijepa_predictor_forward(pred, z, B, cidx, Kc, tidx, Kt, p,
                                             IJEPA_FORWARD_TRAIN), 0);
    rc = ijepa_loss_compute(h, B, N, D, tidx, M, Kt, p, IJEPA_LOSS_L2, ln_eps, dp, &L);
    ck_assert_msg(rc == IJEPA_OK, "loss: %s", ijepa_last_error());
    ck_assert_int_eq(ijepa_encoder_zero_grad(enc), IJEPA_OK);
    ck_assert_int_eq(ijepa_predictor_zero_grad(pred), IJEPA_OK);
    ck_assert_int_eq(ijepa_predictor_backward(pred, dp, dz), IJEPA_OK);
    ck_assert_int_eq(ijepa_encoder_backward(enc, dz), IJEPA_OK);

    /* double pipeline bound to double copies of both parameter buffers */
    double *pd[2] = {ref_dalloc(cnt[0]), ref_dalloc(cnt[1])};
    double *imd = ref_dalloc(npix), *hd = ref_dalloc(B * N * D), *ones = ref_dalloc(ny);
    double *terms = ref_dalloc(ny);
    ck_assert(pd[0] && pd[1] && imd && hd && ones && terms);
    ref_f2d(pd[0], P[0], cnt[0]);
    ref_f2d(pd[1], P[1], cnt[1]);
    ref_f2d(imd, im, npix);
    ref_f2d(hd, h, B * N * D);
    for (int64_t i = 0; i < ny; i++) ones[i] = 1.0;
    ref_vit_cfg vc;
    ref_pred_cfg pc;
    ref_vit v;
    ref_pred r;
    char err[256] = "";
    ck_assert_int_eq(ref_vit_cfg_from_config(&vc, cfg), 0);
    ck_assert_int_eq(ref_pred_cfg_from_config(&pc, cfg), 0);
    ck_assert_msg(ref_vit_bind(&v, &vc, tabs[0], pd[0], err, sizeof err) == 0, "%s", err);
    ck_assert_msg(ref_pred_bind(&r, &pc, tabs[1], pd[1], err, sizeof err) == 0, "%s", err);
    step_fd sc = {&v, &r, imd, hd, cidx, tidx, B, N, D, M, Kc, Kt, ln_eps,
                  ref_dalloc(nz), ref_dalloc(ny)};
    ck_assert(sc.z && sc.p);

    /* the loss itself: double pipeline vs library (float forward, ~1e-5) */
    step_fd_fwd(&sc, terms);
    double Lref = 0;
    for (int64_t i = 0; i < ny; i++) Lref += terms[i];
    ck_assert_msg(fabs(L - Lref) <= 1e-4 * Lref, "loss %.9g, double pipeline %.9g", L, Lref);

    /* probes: every element of a few small tensors, plus STEP_SAMPLES random
     * elements over all trainable elements of both models */
    static const char *const whole[2][5] = {
        {"patch_embed.proj.bias", "blocks.0.norm1.bias", "norm.weight", "norm.bias", NULL},
        {"mask_token", "predictor_embed.bias", "predictor_norm.weight", "predictor_proj.bias",
         "predictor_blocks.1.attn.qkv.bias"}};
    probe *pr = malloc((size_t)(STEP_SAMPLES + 256) * sizeof *pr);
    int64_t npr = 0, trainable[2] = {0, 0};
    for (int mdl = 0; mdl < 2; mdl++) {
        for (int k = 0; k < 5 && whole[mdl][k]; k++) {
            int64_t ti;
            ck_assert_msg(ijepa_tensor_table_find(tabs[mdl], whole[mdl][k], &ti) == IJEPA_OK,
                          "no tensor %s", whole[mdl][k]);
            tinfo t = tensor_at(tabs[mdl], ti);
            for (int64_t j = 0; j < t.numel; j++) pr[npr++] = (probe){mdl, ti, j};
        }
        for (int64_t i = 0; i < ijepa_tensor_table_count(tabs[mdl]); i++) {
            tinfo t = tensor_at(tabs[mdl], i);
            if (!(t.flags & IJEPA_TENSOR_FROZEN)) trainable[mdl] += t.numel;
        }
    }
    ck_assert_int_le(npr, 256);
    for (int k = 0; k < STEP_SAMPLES; k++) {
        int64_t u = ref_rng_int(&rng, trainable[0] + trainable[1]);
        int mdl = u >= trainable[0];
        if (mdl) u -= trainable[0];
        for (int64_t i = 0; i < ijepa_tensor_table_count(tabs[mdl]); i++) {
            tinfo t = tensor_at(tabs[mdl], i);
            if (t.flags & IJEPA_TENSOR_FROZEN) continue;
            if (u < t.numel) {
                pr[npr++] = (probe){mdl, i, u};
                break;
            }
            u -= t.numel;
        }
    }

    /* compare; report the worst probe */
    double worst = -1, w_got = 0, w_want = 0, w_tol = 0;
    int64_t nfail = 0, worst_k = -1;
    for (int64_t k = 0; k < npr; k++) {
        tinfo t = tensor_at(tabs[pr[k].model], pr[k].tensor);
        const float *g = G[pr[k].model] + t.off;
        const double S = ref_max_abs_f(g, t.numel);
        double fd;
        ck_assert_int_eq(ref_fd_grad(step_fd_fwd, &sc, pd[pr[k].model] + t.off + pr[k].j, 1, ny,
                                     ones, 1e-6, &fd), 0);
        const double got = g[pr[k].j], tol = STEP_RTOL * fabs(fd) + STEP_AFLOOR * S;
        const double ratio = isfinite(got) ? fabs(got - fd) / (tol > 0 ? tol : 1e-300) : INFINITY;
        if (getenv("IJEPA_TEST_VERBOSE"))
            fprintf(stderr, "fullstep %s %s[%lld]: lib %.9g fd %.9g ratio %.3g\n",
                    pr[k].model ? "predictor" : "encoder", t.name, (long long)pr[k].j, got, fd,
                    ratio);
        nfail += ratio > 1.0;
        if (ratio > worst) {
            worst = ratio;
            worst_k = k;
            w_got = got;
            w_want = fd;
            w_tol = tol;
        }
    }
    tinfo wt = tensor_at(tabs[pr[worst_k].model], pr[worst_k].tensor);
    ck_assert_msg(nfail == 0, "full step: %lld of %lld probed gradients off; worst %s %s[%lld]: "
                  "library %.9g, finite differences %.9g, tol %.3g (ratio %.3g)",
                  (long long)nfail, (long long)npr, pr[worst_k].model ? "predictor" : "encoder",
                  wt.name, (long long)pr[worst_k].j, w_got, w_want, w_tol, worst);
    if (getenv("IJEPA_TEST_VERBOSE"))
        fprintf(stderr, "fullstep: %lld probes, worst ratio %.3g (%s)\n", (long long)npr, worst,
                wt.name);
    /* frozen tensors of both models got nothing */
    for (int mdl = 0; mdl < 2; mdl++)
        for (int64_t i = 0; i < ijepa_tensor_table_count(tabs[mdl]); i++) {
            tinfo t = tensor_at(tabs[mdl], i);
            if (!(t.flags & IJEPA_TENSOR_FROZEN)) continue;
            int64_t j = first_not(G[mdl] + t.off, t.numel, 0.0f);
            ck_assert_msg(j < 0, "frozen %s has a gradient at %lld", t.name, (long long)j);
        }

    ref_vit_unbind(&v);
    ref_pred_unbind(&r);
    free(sc.z); free(sc.p); free(pr);
    free(pd[0]); free(pd[1]); free(imd); free(hd); free(ones); free(terms);
    free(im); free(h); free(z); free(dz); free(p); free(dp); free(cidx); free(tidx);
    ijepa_mask_sampler_free(ms);
    ijepa_predictor_free(pred);
    ijepa_encoder_free(tgt);
    ijepa_encoder_free(enc);
    ijepa_context_free(ctx);
    ijepa_config_free(tcfg);
    ijepa_config_free(cfg);
}
END_TEST

// --- suite ---------------------------------------------------------------------------------

Suite *ijepa_predictor_suite(void)
{
    Suite *s = suite_create("predictor");

    TCase *tc = add_tcase(s, "core", IJEPA_TEST_TIMEOUT);
    tcase_add_loop_test(tc, test_forward_vs_ref, 0, NSPECS);
    tcase_add_test(tc, test_blocks_independent);

    tc = add_tcase(s, "grad", IJEPA_TEST_TIMEOUT);
    tcase_add_loop_test(tc, test_grad_fd, 0, NSPECS);
    tcase_add_test(tc, test_backward_accumulates);

    tc = add_tcase(s, "init", IJEPA_TEST_TIMEOUT);
    tcase_add_loop_test(tc, test_pos_embed, 0, 2);
    tcase_add_loop_test(tc, test_init_stats, 0, 2);
    tcase_add_test(tc, test_seeds);

    tc = add_tcase(s, "table", IJEPA_TEST_TIMEOUT);
    tcase_add_loop_test(tc, test_tensor_table, 0, 2);

    tc = add_tcase(s, "errors", IJEPA_TEST_TIMEOUT);
    tcase_add_test(tc, test_free_null);
    tcase_add_test(tc, test_create_errors);
    tcase_add_test(tc, test_forward_errors);
    tcase_add_test(tc, test_overlap_limits);
    tcase_add_test(tc, test_backward_errors);
    tcase_add_test(tc, test_not_trainable);

    tc = add_tcase(s, "fullstep", IJEPA_TEST_TIMEOUT);
    tcase_add_test(tc, test_fullstep_grad);
    return s;
}
