/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * Implements: suite "optim" — include/ijepa/optim.h: AdamW against a
 * double-precision hand computation over the real buffers of a tiny encoder,
 * gradient clipping as torch.nn.utils.clip_grad_norm_, the all-or-nothing
 * rule for non-finite gradients, the EMA update, and the official schedules
 * against their formulas (facebookresearch/ijepa src/utils/schedulers.py,
 * src/train.py), written out again here.
 *
 * TCases:
 *   schedule  lr (warmup, cosine, end, past the end), weight decay (cosine
 *             increase 0.04 -> 0.4 with its clamp, and a decrease), momentum
 *             (linear 0.996 -> 1.0); invalid arguments give NaN
 *   adamw     one and two steps vs the hand computation: decayed, NO_DECAY
 *             and FROZEN tensors, padding; resumed step count; two groups;
 *             gradient norm; clipping; bit-identical results for 1, 2 and 3
 *             threads
 *   numeric   a NaN or Inf gradient: IJEPA_ERR_NUMERIC and nothing changes
 *   ema       m * target + (1 - m) * online, momentum 0 and 1, mismatched
 *             encoders rejected
 *   errors    every entry point: NULL handles and pointers, bad values,
 *             _free(NULL)
 *
 * Tolerances: the step runs in float32 (as PyTorch's kernels) with scalars
 * from double, each element going through a few roundings; the reference
 * runs in double. Per element we allow 16 unit roundoffs of the magnitudes
 * involved (|p| plus the size of the update), far below any plausible bug
 * (a missing bias correction changes the first update by a factor 10, decay
 * on a NO_DECAY tensor by lr * wd * |p|).
 */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "check_ijepa.h"
#include "ijepa/ijepa.h"
#include "ijepa/optim.h"
#include "ref.h"
#include "helpers.h"

static const double PI_D = 3.14159265358979323846;

// --- fixture ---------------------------------------------------------------------------------

/* The tiny encoder of the brief: img 8, patch 4, 1 channel, width 8, 1 block,
 * 2 heads (4 tokens). `wide` gives a larger one (~150k floats) whose loops
 * run in parallel. */
static ijepa_config *tiny_config(int wide, uint64_t seed)
{
    const cfg_int iv[] = {
        {IJEPA_CFG_IMG_SIZE, wide ? 16 : 8}, {IJEPA_CFG_PATCH_SIZE, 4},
        {IJEPA_CFG_IN_CHANS, wide ? 3 : 1},  {IJEPA_CFG_EMBED_DIM, wide ? 64 : 8},
        {IJEPA_CFG_DEPTH, wide ? 3 : 1},     {IJEPA_CFG_NUM_HEADS, 2},
        {IJEPA_CFG_BATCH_SIZE, 1},           {IJEPA_CFG_SEED, (int64_t)seed},
    };
    return config_with(iv, COUNT_OF(iv), NULL, 0);
}

/* The encoder fixture of tests/helpers.h: params and grads are the borrowed
 * encoder buffers of count floats; opt is set by ofx_open(want_opt) and
 * freed by enc_fx_close(). */
typedef enc_fx ofx;

/* Encoder from cfg (taken over) and, if want_opt, an optimizer holding it as group 0. */
static void ofx_open(ofx *f, ijepa_config *cfg, int want_opt)
{
    enc_fx_open(f, cfg);
    if (want_opt) {
        int rc = ijepa_optimizer_create(&f->opt, cfg);
        ck_assert_msg(rc == IJEPA_OK, "ijepa_optimizer_create: %s", ijepa_last_error());
        rc = ijepa_optimizer_add(f->opt, f->params, f->grads, f->tab);
        ck_assert_msg(rc == 0, "ijepa_optimizer_add: %d %s", rc,
                      ijepa_last_error());
    }
}

/* Name, offset, numel and flags of tensor i. Unlike tensor_at(), passes
 * NULL for ndim and dims (so the optional outputs stay covered); ndim and
 * dims are left 0. */
static tinfo tensor_flags_at(const ijepa_tensor_table *tab, int64_t i)
{
    tinfo t;
    memset(&t, 0, sizeof t);
    t.name = ijepa_tensor_table_name(tab, i);
    ck_assert_ptr_nonnull(t.name);
    ck_assert_int_eq(ijepa_tensor_table_info(tab, i, &t.off, &t.numel, NULL, NULL, &t.flags),
                     IJEPA_OK);
    return t;
}

/* 1 where element i belongs to a tensor, 0 on padding. */
static unsigned char *tensor_mask(const ijepa_tensor_table *tab, int64_t n)
{
    unsigned char *in = calloc((size_t)n, 1);
    ck_assert_ptr_nonnull(in);
    for (int64_t i = 0; i < ijepa_tensor_table_count(tab); i++) {
        tinfo t = tensor_flags_at(tab, i);
        memset(in + t.off, 1, (size_t)t.numel);
    }
    return in;
}

/* Parameters of non-frozen tensors U(-1, 1); gradients U(-1, 1) for EVERY
 * tensor (frozen ones too: the optimizer must ignore them); 7 on the
 * gradient padding (must be ignored as well). */
static void fill_random(ofx *f, uint64_t seed, int params_too)
{
    ref_rng r;
    ref_rng_seed(&r, seed);
    unsigned char *in = tensor_mask(f->tab, f->count);
    for (int64_t i = 0; i < f->count; i++)
        f->grads[i] = in[i] ? (float)ref_rng_range(&r, -1.0, 1.0) : 7.0f;
    if (params_too)
        for (int64_t i = 0; i < ijepa_tensor_table_count(f->tab); i++) {
            tinfo t = tensor_flags_at(f->tab, i);
            if (!(t.flags & IJEPA_TENSOR_FROZEN))
                ref_fill_f(f->params + t.off, t.numel, &r, -1.0, 1.0);
        }
    free(in);
}

// --- reference AdamW -------------------------------------------------------------------------

/* Double-precision AdamW state of one buffer. */
typedef struct adam_ref {
    double *p, *m, *v;
    double *mag;            /* b1 |m_old| + (1 - b1) |g| of the last step: scale of m's error */
    int64_t n;
    double b1, b2, eps;
    int64_t t;
} adam_ref;

static void adam_ref_open(adam_ref *a, const float *P, int64_t n, double b1, double b2,
                          double eps)
{
    a->p = ref_dalloc(n);
    a->m = ref_dalloc(n);
    a->v = ref_dalloc(n);
    a->mag = ref_dalloc(n);
    ck_assert(a->p && a->m && a->v && a->mag);
    ref_f2d(a->p, P, n);
    a->n = n;
    a->b1 = b1;
    a->b2 = b2;
    a->eps = eps;
    a->t = 0;
}

static void adam_ref_close(adam_ref *a)
{
    free(a->p);
    free(a->m);
    free(a->v);
    free(a->mag);
}

/* The torch.optim.AdamW update written from its documentation, for the
 * non-frozen tensors of tab; g is multiplied by gscale first (clipping). */
static void adam_ref_step(adam_ref *a, const ijepa_tensor_table *tab, const float *G,
                          double gscale, double lr, double wd)
{
    a->t++;
    const double bc1 = 1.0 - pow(a->b1, (double)a->t), bc2 = 1.0 - pow(a->b2, (double)a->t);
    for (int64_t k = 0; k < ijepa_tensor_table_count(tab); k++) {
        tinfo t = tensor_flags_at(tab, k);
        if (t.flags & IJEPA_TENSOR_FROZEN)
            continue;
        const double lam = (t.flags & IJEPA_TENSOR_NO_DECAY) ? 0.0 : wd;
        for (int64_t i = t.off; i < t.off + t.numel; i++) {
            const double g = (double)G[i] * gscale;
            a->p[i] = a->p[i] - lr * lam * a->p[i];
            a->mag[i] = a->b1 * fabs(a->m[i]) + (1.0 - a->b1) * fabs(g);
            a->m[i] = a->b1 * a->m[i] + (1.0 - a->b1) * g;
            a->v[i] = a->b2 * a->v[i] + (1.0 - a->b2) * g * g;
            const double mhat = a->m[i] / bc1, vhat = a->v[i] / bc2;
            a->p[i] = a->p[i] - lr * mhat / (sqrt(vhat) + a->eps);
        }
    }
}

/* Compare the optimizer's group against the reference: non-frozen tensors
 * within tolerance, frozen tensors bit-identical to `frozen_p` and with zero
 * moments, padding 0 in params and moments. tol_scale: magnitude of the
 * update (lr). */
static void adam_expect(ijepa_optimizer *opt, int32_t group, const ijepa_tensor_table *tab,
                        const float *P, const float *P_before, const adam_ref *a, double lr,
                        const char *what)
{
    float *M, *V;
    int64_t cnt;
    ck_assert_int_eq(ijepa_optimizer_moments(opt, group, &M, &V, &cnt), IJEPA_OK);
    ck_assert_int_eq(cnt, a->n);
    unsigned char *in = tensor_mask(tab, a->n);
    for (int64_t i = 0; i < a->n; i++)
        if (!in[i])
            ck_assert_msg(P[i] == 0.0f && M[i] == 0.0f && V[i] == 0.0f,
                          "%s: padding element %lld changed", what, (long long)i);
    free(in);
    const double u = REF_U32;
    for (int64_t k = 0; k < ijepa_tensor_table_count(tab); k++) {
        tinfo t = tensor_flags_at(tab, k);
        for (int64_t i = t.off; i < t.off + t.numel; i++) {
            if (t.flags & IJEPA_TENSOR_FROZEN) {
                ck_assert_msg(memcmp(&P[i], &P_before[i], sizeof(float)) == 0,
                              "%s: frozen %s[%lld] changed", what, t.name,
                              (long long)(i - t.off));
                ck_assert_msg(M[i] == 0.0f && V[i] == 0.0f, "%s: frozen %s has moments",
                              what, t.name);
                continue;
            }
            const double tp = 16 * u * (fabs(a->p[i]) + fabs((double)P_before[i]) + 4 * lr);
            const double tm = 16 * u * (a->mag[i] + 1e-30);
            const double tv = 16 * u * (fabs(a->v[i]) + 1e-30);
            ck_assert_msg(fabs((double)P[i] - a->p[i]) <= tp,
                          "%s: %s[%lld] param %.9g, want %.9g (tol %.3g)", what, t.name,
                          (long long)(i - t.off), (double)P[i], a->p[i], tp);
            ck_assert_msg(fabs((double)M[i] - a->m[i]) <= tm,
                          "%s: %s[%lld] m %.9g, want %.9g", what, t.name,
                          (long long)(i - t.off), (double)M[i], a->m[i]);
            ck_assert_msg(fabs((double)V[i] - a->v[i]) <= tv,
                          "%s: %s[%lld] v %.9g, want %.9g", what, t.name,
                          (long long)(i - t.off), (double)V[i], a->v[i]);
        }
    }
}

/* Restart the reference from the library's state (so each step is checked
 * on its own, without the float-vs-double drift of the previous ones). */
static void adam_ref_sync(adam_ref *a, ijepa_optimizer *opt, int32_t group, const float *P)
{
    float *M, *V;
    int64_t cnt;
    ck_assert_int_eq(ijepa_optimizer_moments(opt, group, &M, &V, &cnt), IJEPA_OK);
    ck_assert_int_eq(cnt, a->n);
    ref_f2d(a->p, P, a->n);
    ref_f2d(a->m, M, a->n);
    ref_f2d(a->v, V, a->n);
}

static float *fcopy(const float *x, int64_t n)
{
    float *y = ref_falloc(n);
    ck_assert_ptr_nonnull(y);
    memcpy(y, x, (size_t)n * sizeof *y);
    return y;
}

static int64_t find_tensor(const ijepa_tensor_table *tab, const char *name)
{
    int64_t i;
    ck_assert_int_eq(ijepa_tensor_table_find(tab, name, &i), IJEPA_OK);
    return i;
}

// --- schedules -------------------------------------------------------------------------------

static void expect_near(double got, double want, double rtol, const char *what)
{
    ck_assert_msg(fabs(got - want) <= rtol * fabs(want) + 1e-300,
                  "%s: %.17g, want %.17g", what, got, want);
}

START_TEST(test_schedule_lr)
{
    /* official config shape: warmup 10 of 100 steps, 2e-4 -> 1e-3 -> 1e-6 */
    const int64_t W = 10, T = 100;
    const double s = 2e-4, r = 1e-3, fl = 1e-6;
    /* step 1 (first update): start + 1/W (ref - start) */
    expect_near(ijepa_schedule_lr(1, W, T, s, r, fl), s + (1.0 / 10.0) * (r - s), 1e-15,
                "first step");
    expect_near(ijepa_schedule_lr(0, W, T, s, r, fl), s, 1e-15, "step 0");
    expect_near(ijepa_schedule_lr(5, W, T, s, r, fl), s + 0.5 * (r - s), 1e-15, "mid warmup");
    expect_near(ijepa_schedule_lr(9, W, T, s, r, fl), s + 0.9 * (r - s), 1e-15, "last warmup");
    /* warmup end: cosine branch at progress 0 = ref */
    expect_near(ijepa_schedule_lr(10, W, T, s, r, fl), r, 1e-15, "warmup end");
    /* mid cosine: progress (55 - 10) / 90 = 0.5 -> final + (ref - final) / 2 */
    expect_near(ijepa_schedule_lr(55, W, T, s, r, fl), fl + 0.5 * (r - fl), 1e-12,
                "mid cosine");
    /* an arbitrary cosine step */
    const double want_q = fl + (r - fl) * 0.5 * (1.0 + cos(PI_D * (77.0 - 10.0) / 90.0));
    expect_near(ijepa_schedule_lr(77, W, T, s, r, fl), want_q, 1e-13, "step 77");
    expect_near(ijepa_schedule_lr(T, W, T, s, r, fl), fl, 1e-12, "end");
    /* past the end: stays at final (the official formula would rise again) */
    expect_near(ijepa_schedule_lr(T + 1, W, T, s, r, fl), fl, 1e-12, "end + 1");
    expect_near(ijepa_schedule_lr(3 * T, W, T, s, r, fl), fl, 1e-12, "3 x end");
    /* monotone: increasing during warmup, non-increasing after */
    for (int64_t k = 1; k <= T + 5; k++) {
        const double a = ijepa_schedule_lr(k - 1, W, T, s, r, fl);
        const double b = ijepa_schedule_lr(k, W, T, s, r, fl);
        if (k <= W)
            ck_assert_msg(b > a, "warmup not increasing at %lld", (long long)k);
        else
            ck_assert_msg(b <= a, "cosine not decreasing at %lld", (long long)k);
    }
    /* no warmup: step 0 is ref, step T is final */
    expect_near(ijepa_schedule_lr(0, 0, T, s, r, fl), r, 1e-15, "W 0, step 0");
    expect_near(ijepa_schedule_lr(1, 0, T, s, r, fl),
                fl + (r - fl) * 0.5 * (1.0 + cos(PI_D * 0.01)), 1e-13, "W 0, step 1");
    /* warmup == total: T_max = max(1, 0) = 1 */
    expect_near(ijepa_schedule_lr(T, T, T, s, r, fl), r, 1e-15, "W = T at T");
    /* final above the cosine (the max() of the formula) */
    expect_near(ijepa_schedule_lr(60, W, T, s, r, 5e-3), 5e-3, 0, "final above ref");
    /* invalid arguments: NaN and a message */
    ck_assert(isnan(ijepa_schedule_lr(-1, W, T, s, r, fl)));
    ck_assert_ptr_nonnull(strstr(ijepa_last_error(), "ijepa_schedule_lr"));
    ck_assert(isnan(ijepa_schedule_lr(1, -1, T, s, r, fl)));
    ck_assert(isnan(ijepa_schedule_lr(1, W, 0, s, r, fl)));
    ck_assert(isnan(ijepa_schedule_lr(1, W, T, NAN, r, fl)));
    ck_assert(isnan(ijepa_schedule_lr(1, W, T, s, INFINITY, fl)));
    ck_assert(isnan(ijepa_schedule_lr(1, W, T, s, r, NAN)));
}
END_TEST

START_TEST(test_schedule_wd)
{
    const int64_t T = 100;
    const double r = 0.04, fl = 0.4;
    for (int64_t k = 0; k <= T; k++) {
        const double want = fl + (r - fl) * 0.5 * (1.0 + cos(PI_D * (double)k / (double)T));
        char what[64];
        snprintf(what, sizeof what, "wd step %lld", (long long)k);
        expect_near(ijepa_schedule_weight_decay(k, T, r, fl), want, 1e-13, what);
        if (k > 0)
            ck_assert(ijepa_schedule_weight_decay(k, T, r, fl) >
                      ijepa_schedule_weight_decay(k - 1, T, r, fl));
    }
    expect_near(ijepa_schedule_weight_decay(1, T, r, fl),
                0.4 - 0.36 * 0.5 * (1.0 + cos(PI_D / 100.0)), 1e-13, "first step");
    expect_near(ijepa_schedule_weight_decay(50, T, r, fl), 0.22, 1e-13, "mid");
    ck_assert(ijepa_schedule_weight_decay(T, T, r, fl) == fl);
    /* clamp toward final: never above 0.4, also past the end */
    for (int64_t k = T; k <= 3 * T; k += 7)
        ck_assert_msg(ijepa_schedule_weight_decay(k, T, r, fl) == fl, "past end at %lld",
                      (long long)k);
    /* decreasing direction: clamp from below */
    expect_near(ijepa_schedule_weight_decay(25, T, 0.4, 0.04),
                0.04 + 0.36 * 0.5 * (1.0 + cos(PI_D * 0.25)), 1e-13, "decreasing");
    ck_assert(ijepa_schedule_weight_decay(2 * T, T, 0.4, 0.04) == 0.04);
    ck_assert(ijepa_schedule_weight_decay(7, T, 0.1, 0.1) == 0.1);
    ck_assert(isnan(ijepa_schedule_weight_decay(-1, T, r, fl)));
    ck_assert_ptr_nonnull(strstr(ijepa_last_error(), "ijepa_schedule_weight_decay"));
    ck_assert(isnan(ijepa_schedule_weight_decay(1, 0, r, fl)));
    ck_assert(isnan(ijepa_schedule_weight_decay(1, T, NAN, fl)));
    ck_assert(isnan(ijepa_schedule_weight_decay(1, T, r, -INFINITY)));
}
END_TEST

START_TEST(test_schedule_momentum)
{
    const int64_t T = 1000;
    const double a = 0.996, b = 1.0;
    ck_assert(ijepa_schedule_momentum(0, T, a, b) == a); /* first EMA update */
    expect_near(ijepa_schedule_momentum(1, T, a, b), a + 1.0 * (b - a) / 1000.0, 1e-15, "i 1");
    expect_near(ijepa_schedule_momentum(500, T, a, b), 0.998, 1e-15, "mid");
    expect_near(ijepa_schedule_momentum(T, T, a, b), 1.0, 1e-15, "end");
    ck_assert(ijepa_schedule_momentum(T + 1, T, a, b) == 1.0);
    ck_assert(ijepa_schedule_momentum(50 * T, T, a, b) == 1.0);
    /* linear: constant increments */
    const double inc = (b - a) / (double)T;
    for (int64_t i = 1; i <= T; i++) {
        const double d = ijepa_schedule_momentum(i, T, a, b) - ijepa_schedule_momentum(i - 1, T, a, b);
        ck_assert_msg(fabs(d - inc) < 1e-15, "increment %lld: %.17g", (long long)i, d);
    }
    ck_assert(isnan(ijepa_schedule_momentum(-1, T, a, b)));
    ck_assert_ptr_nonnull(strstr(ijepa_last_error(), "ijepa_schedule_momentum"));
    ck_assert(isnan(ijepa_schedule_momentum(0, 0, a, b)));
    ck_assert(isnan(ijepa_schedule_momentum(0, T, NAN, b)));
}
END_TEST

// --- AdamW -----------------------------------------------------------------------------------

/* One step, then a second with other gradients, lr and wd: both equal the
 * hand computation (bias corrections with t = 1 and t = 2). Loop index 0:
 * default betas; 1: beta1 0.5, beta2 0.75, eps 1e-3 (makes every term count). */
START_TEST(test_adamw_steps)
{
    ijepa_config *cfg = tiny_config(0, 1);
    double b1 = 0.9, b2 = 0.999, eps = 1e-8;
    if (_i == 1) {
        b1 = 0.5;
        b2 = 0.75;
        eps = 1e-3;
        ck_assert_int_eq(ijepa_config_set_float(cfg, IJEPA_CFG_ADAM_BETA1, b1), IJEPA_OK);
        ck_assert_int_eq(ijepa_config_set_float(cfg, IJEPA_CFG_ADAM_BETA2, b2), IJEPA_OK);
        ck_assert_int_eq(ijepa_config_set_float(cfg, IJEPA_CFG_ADAM_EPS, eps), IJEPA_OK);
    }
    ofx f;
    ofx_open(&f, cfg, 1);
    fill_random(&f, 100 + (uint64_t)_i, 1);
    adam_ref a;
    adam_ref_open(&a, f.params, f.count, b1, b2, eps);
    float *before = fcopy(f.params, f.count), *g0 = fcopy(f.grads, f.count);

    ck_assert_int_eq(ijepa_optimizer_step_count(f.opt), 0);
    ck_assert_int_eq(ijepa_optimizer_step(f.opt, 0.1, 0.3), IJEPA_OK);
    ck_assert_int_eq(ijepa_optimizer_step_count(f.opt), 1);
    adam_ref_step(&a, f.tab, f.grads, 1.0, 0.1, 0.3);
    adam_expect(f.opt, 0, f.tab, f.params, before, &a, 0.1, "step 1");
    adam_ref_sync(&a, f.opt, 0, f.params);
    ck_assert_msg(memcmp(f.grads, g0, (size_t)f.count * sizeof(float)) == 0,
                  "the step changed the gradients (clip_grad is 0)");

    /* explicit control: the flags are as expected and a NO_DECAY tensor did not decay */
    const int64_t kb = find_tensor(f.tab, "blocks.0.mlp.fc1.bias");
    const int64_t kw = find_tensor(f.tab, "blocks.0.mlp.fc1.weight");
    tinfo tb = tensor_flags_at(f.tab, kb), tw = tensor_flags_at(f.tab, kw);
    ck_assert(tb.flags & IJEPA_TENSOR_NO_DECAY);
    ck_assert(!(tw.flags & (IJEPA_TENSOR_NO_DECAY | IJEPA_TENSOR_FROZEN)));
    ck_assert(tensor_flags_at(f.tab, find_tensor(f.tab, "pos_embed")).flags & IJEPA_TENSOR_FROZEN);
    /* With decay the bias would have moved by an extra lr * wd * p = 0.03 p. */
    for (int64_t i = tb.off; i < tb.off + tb.numel; i++) {
        const double with_decay = a.p[i] - 0.1 * 0.3 * before[i];
        if (fabs(before[i]) > 0.1)
            ck_assert_msg(fabs(f.params[i] - with_decay) > 1e-3, "NO_DECAY tensor was decayed");
    }

    /* step 2: new gradients, other lr and wd */
    memcpy(before, f.params, (size_t)f.count * sizeof(float));
    fill_random(&f, 200 + (uint64_t)_i, 0);
    ck_assert_int_eq(ijepa_optimizer_step(f.opt, 0.05, 0.2), IJEPA_OK);
    ck_assert_int_eq(ijepa_optimizer_step_count(f.opt), 2);
    adam_ref_step(&a, f.tab, f.grads, 1.0, 0.05, 0.2);
    adam_expect(f.opt, 0, f.tab, f.params, before, &a, 0.05, "step 2");
    adam_ref_sync(&a, f.opt, 0, f.params);

    /* step 3 with lr 0: parameters only change by nothing; moments move */
    memcpy(before, f.params, (size_t)f.count * sizeof(float));
    ck_assert_int_eq(ijepa_optimizer_step(f.opt, 0.0, 0.2), IJEPA_OK);
    adam_ref_step(&a, f.tab, f.grads, 1.0, 0.0, 0.2);
    ck_assert(memcmp(before, f.params, (size_t)f.count * sizeof(float)) == 0);
    adam_expect(f.opt, 0, f.tab, f.params, before, &a, 0.0, "step 3, lr 0");

    adam_ref_close(&a);
    free(before);
    free(g0);
    enc_fx_close(&f);
}
END_TEST

/* set_step_count(9): the next step uses t = 10 in the bias corrections. */
START_TEST(test_adamw_resume)
{
    ofx f;
    ofx_open(&f, tiny_config(0, 2), 1);
    fill_random(&f, 300, 1);
    /* non-zero moments as if restored from a checkpoint */
    float *M, *V;
    int64_t cnt;
    ck_assert_int_eq(ijepa_optimizer_moments(f.opt, 0, &M, &V, &cnt), IJEPA_OK);
    ck_assert_int_eq(cnt, f.count);
    adam_ref a;
    adam_ref_open(&a, f.params, f.count, 0.9, 0.999, 1e-8);
    ref_rng r;
    ref_rng_seed(&r, 301);
    for (int64_t k = 0; k < ijepa_tensor_table_count(f.tab); k++) {
        tinfo t = tensor_flags_at(f.tab, k);
        if (t.flags & IJEPA_TENSOR_FROZEN)
            continue;
        ref_fill_f(M + t.off, t.numel, &r, -0.1, 0.1);
        ref_fill_f(V + t.off, t.numel, &r, 0.0, 0.01);
    }
    ref_f2d(a.m, M, f.count);
    ref_f2d(a.v, V, f.count);
    a.t = 9;
    ck_assert_int_eq(ijepa_optimizer_set_step_count(f.opt, 9), IJEPA_OK);
    ck_assert_int_eq(ijepa_optimizer_step_count(f.opt), 9);
    float *before = fcopy(f.params, f.count);
    ck_assert_int_eq(ijepa_optimizer_step(f.opt, 0.01, 0.05), IJEPA_OK);
    ck_assert_int_eq(ijepa_optimizer_step_count(f.opt), 10);
    adam_ref_step(&a, f.tab, f.grads, 1.0, 0.01, 0.05);
    adam_expect(f.opt, 0, f.tab, f.params, before, &a, 0.01, "resumed at t = 10");
    adam_ref_close(&a);
    free(before);
    enc_fx_close(&f);
}
END_TEST

/* Global L2 norm over non-frozen tensors only (no padding), in double. */
static double ref_norm(const ijepa_tensor_table *tab, const float *G)
{
    double s = 0.0;
    for (int64_t k = 0; k < ijepa_tensor_table_count(tab); k++) {
        tinfo t = tensor_flags_at(tab, k);
        if (t.flags & IJEPA_TENSOR_FROZEN)
            continue;
        for (int64_t i = t.off; i < t.off + t.numel; i++)
            s += (double)G[i] * (double)G[i];
    }
    return s;
}

/* Two groups (context encoder + a second encoder standing in for the
 * predictor): both stepped; the gradient norm and clipping are global. */
START_TEST(test_two_groups_clip)
{
    const double clip = 0.5;
    ijepa_config *cfg = tiny_config(0, 3);
    ck_assert_int_eq(ijepa_config_set_float(cfg, IJEPA_CFG_CLIP_GRAD, clip), IJEPA_OK);
    ofx f, g;
    ofx_open(&f, cfg, 1);
    ofx_open(&g, tiny_config(0, 4), 0);
    ck_assert_int_eq(ijepa_optimizer_add(f.opt, g.params, g.grads, g.tab), 1);
    fill_random(&f, 400, 1);
    fill_random(&g, 401, 1);
    float *gf0 = fcopy(f.grads, f.count), *gg0 = fcopy(g.grads, g.count);
    float *pf0 = fcopy(f.params, f.count), *pg0 = fcopy(g.params, g.count);

    const double norm = sqrt(ref_norm(f.tab, f.grads) + ref_norm(g.tab, g.grads));
    double got;
    ck_assert_int_eq(ijepa_optimizer_grad_norm(f.opt, &got), IJEPA_OK);
    expect_near(got, norm, 1e-14, "global grad norm (frozen tensors and padding excluded)");
    ck_assert(norm > 10 * clip);

    const double coef = clip / (norm + 1e-6); /* torch clip_grad_norm_ */
    adam_ref af, ag;
    adam_ref_open(&af, f.params, f.count, 0.9, 0.999, 1e-8);
    adam_ref_open(&ag, g.params, g.count, 0.9, 0.999, 1e-8);
    ck_assert_int_eq(ijepa_optimizer_step(f.opt, 0.02, 0.1), IJEPA_OK);
    adam_ref_step(&af, f.tab, gf0, coef, 0.02, 0.1);
    adam_ref_step(&ag, g.tab, gg0, coef, 0.02, 0.1);
    adam_expect(f.opt, 0, f.tab, f.params, pf0, &af, 0.02, "group 0, clipped");
    adam_expect(f.opt, 1, g.tab, g.params, pg0, &ag, 0.02, "group 1, clipped");

    /* the gradients were scaled in place (torch), frozen ones and padding not */
    const struct { ofx *x; const float *g0; } grp[2] = {{&f, gf0}, {&g, gg0}};
    for (int q = 0; q < 2; q++) {
        const ofx *x = grp[q].x;
        unsigned char *in = tensor_mask(x->tab, x->count);
        for (int64_t i = 0; i < x->count; i++)
            if (!in[i])
                ck_assert(x->grads[i] == 7.0f);
        free(in);
        for (int64_t k = 0; k < ijepa_tensor_table_count(x->tab); k++) {
            tinfo t = tensor_flags_at(x->tab, k);
            for (int64_t i = t.off; i < t.off + t.numel; i++) {
                const double want = (t.flags & IJEPA_TENSOR_FROZEN) ? grp[q].g0[i]
                                                                    : grp[q].g0[i] * coef;
                ck_assert_msg(fabs(x->grads[i] - want) <= 2 * REF_U32 * fabs(want),
                              "group %d %s[%lld]: clipped grad %.9g, want %.9g", q, t.name,
                              (long long)(i - t.off), (double)x->grads[i], want);
            }
        }
    }
    ck_assert_int_eq(ijepa_optimizer_grad_norm(f.opt, &got), IJEPA_OK);
    expect_near(got, clip * norm / (norm + 1e-6), 1e-6, "norm after clipping");

    /* a threshold above the norm leaves the gradients bit-identical */
    ijepa_config *c2 = tiny_config(0, 3);
    ck_assert_int_eq(ijepa_config_set_float(c2, IJEPA_CFG_CLIP_GRAD, 1e6), IJEPA_OK);
    ijepa_optimizer *o2 = NULL;
    ck_assert_int_eq(ijepa_optimizer_create(&o2, c2), IJEPA_OK);
    ck_assert_int_eq(ijepa_optimizer_add(o2, g.params, g.grads, g.tab), 0);
    memcpy(gg0, g.grads, (size_t)g.count * sizeof(float));
    ck_assert_int_eq(ijepa_optimizer_step(o2, 0.01, 0.0), IJEPA_OK);
    ck_assert(memcmp(gg0, g.grads, (size_t)g.count * sizeof(float)) == 0);
    ijepa_optimizer_free(o2);
    ijepa_config_free(c2);

    adam_ref_close(&af);
    adam_ref_close(&ag);
    free(gf0); free(gg0); free(pf0); free(pg0);
    enc_fx_close(&g);
    enc_fx_close(&f);
}
END_TEST

/* A larger encoder whose loops run in parallel: the step and the norm are
 * bit-identical with 1, 2 and 3 threads. */
START_TEST(test_threads_bitwise)
{
    ijepa_config *cfg = tiny_config(1, 5);
    ck_assert_int_eq(ijepa_config_set_float(cfg, IJEPA_CFG_CLIP_GRAD, 1.0), IJEPA_OK);
    ofx f;
    ofx_open(&f, cfg, 0);
    ck_assert_msg(f.count >= 4 * 32768, "wide encoder too small: %lld floats", (long long)f.count);
    fill_random(&f, 500, 1);
    float *p0 = fcopy(f.params, f.count), *g0 = fcopy(f.grads, f.count);
    float *pr = NULL, *mr = NULL, *vr = NULL;
    double nr = 0.0;
    const int threads[3] = {1, 2, 3}, saved = omp_get_max_threads();
    for (int k = 0; k < 3; k++) {
        omp_set_num_threads(threads[k]);
        memcpy(f.params, p0, (size_t)f.count * sizeof(float));
        memcpy(f.grads, g0, (size_t)f.count * sizeof(float));
        ijepa_optimizer *opt = NULL;
        ck_assert_int_eq(ijepa_optimizer_create(&opt, cfg), IJEPA_OK);
        ck_assert_int_eq(ijepa_optimizer_add(opt, f.params, f.grads, f.tab), 0);
        double nrm;
        ck_assert_int_eq(ijepa_optimizer_grad_norm(opt, &nrm), IJEPA_OK);
        for (int s = 0; s < 3; s++)
            ck_assert_int_eq(ijepa_optimizer_step(opt, 1e-2, 0.05), IJEPA_OK);
        float *M, *V;
        int64_t cnt;
        ck_assert_int_eq(ijepa_optimizer_moments(opt, 0, &M, &V, &cnt), IJEPA_OK);
        if (k == 0) {
            pr = fcopy(f.params, f.count);
            mr = fcopy(M, f.count);
            vr = fcopy(V, f.count);
            nr = nrm;
        } else {
            ck_assert_msg(memcmp(&nr, &nrm, sizeof nr) == 0, "norm differs with %d threads",
                          threads[k]);
            ck_assert_msg(memcmp(pr, f.params, (size_t)f.count * sizeof(float)) == 0,
                          "params differ with %d threads", threads[k]);
            ck_assert_msg(memcmp(mr, M, (size_t)f.count * sizeof(float)) == 0 &&
                          memcmp(vr, V, (size_t)f.count * sizeof(float)) == 0,
                          "moments differ with %d threads", threads[k]);
        }
        ijepa_optimizer_free(opt);
    }
    omp_set_num_threads(saved);
    free(p0); free(g0); free(pr); free(mr); free(vr);
    enc_fx_close(&f);
}
END_TEST

/* The moments are written when added, not at the first step: that step
 * faults in none of their pages (a moment first read from the kernel's zero
 * page and then written faults twice, each time with a TLB shootdown to the
 * other threads). An encoder of about a million floats, whose moments are
 * mapped lazily (ijepa__falloc maps 1 MiB and up). */
START_TEST(test_moments_touched_when_added)
{
    const cfg_int iv[] = {
        {IJEPA_CFG_IMG_SIZE, 16},  {IJEPA_CFG_PATCH_SIZE, 4}, {IJEPA_CFG_IN_CHANS, 3},
        {IJEPA_CFG_EMBED_DIM, 128}, {IJEPA_CFG_DEPTH, 4},     {IJEPA_CFG_NUM_HEADS, 2},
        {IJEPA_CFG_BATCH_SIZE, 1},
    };
    ofx f;
    ofx_open(&f, config_with(iv, COUNT_OF(iv), NULL, 0), 1);
    const long pages = (long)(f.count * (int64_t)sizeof(float) / 4096);
    ck_assert_msg(pages >= 512, "encoder too small: %lld floats", (long long)f.count);
    fill_random(&f, 900, 1);
    struct rusage r0, r1;
    ck_assert_int_eq(getrusage(RUSAGE_SELF, &r0), 0);
    ck_assert_int_eq(ijepa_optimizer_step(f.opt, 1e-3, 0.05), IJEPA_OK);
    ck_assert_int_eq(getrusage(RUSAGE_SELF, &r1), 0);
    const long faults = r1.ru_minflt - r0.ru_minflt;
    ck_assert_msg(faults < pages / 4, "the first step faulted %ld times (moments: 2 x %ld pages)",
                  faults, pages);
    enc_fx_close(&f);
}
END_TEST

// --- non-finite gradients --------------------------------------------------------------------

/* Loop: 0 NaN in the last tensor, 1 +Inf in the first decayed tensor,
 * 2 -Inf with clipping on. After one good step (non-zero moments), the bad
 * step returns IJEPA_ERR_NUMERIC and changes nothing, bit for bit. */
START_TEST(test_nonfinite_grad)
{
    ijepa_config *cfg = tiny_config(0, 6);
    if (_i == 2)
        ck_assert_int_eq(ijepa_config_set_float(cfg, IJEPA_CFG_CLIP_GRAD, 0.1), IJEPA_OK);
    ofx f;
    ofx_open(&f, cfg, 1);
    fill_random(&f, 600, 1);
    ck_assert_int_eq(ijepa_optimizer_step(f.opt, 0.01, 0.1), IJEPA_OK);
    fill_random(&f, 601, 0);

    const char *names[3] = {"norm.bias", "patch_embed.proj.weight", "blocks.0.attn.qkv.weight"};
    const float bad[3] = {NAN, INFINITY, -INFINITY};
    tinfo t = tensor_flags_at(f.tab, find_tensor(f.tab, names[_i]));
    f.grads[t.off + t.numel - 1] = bad[_i];

    float *M, *V;
    int64_t cnt;
    ck_assert_int_eq(ijepa_optimizer_moments(f.opt, 0, &M, &V, &cnt), IJEPA_OK);
    float *p0 = fcopy(f.params, f.count), *g0 = fcopy(f.grads, f.count), *m0 = fcopy(M, f.count), *v0 = fcopy(V, f.count);
    double nrm;
    ck_assert_int_eq(ijepa_optimizer_grad_norm(f.opt, &nrm), IJEPA_OK);
    ck_assert(!isfinite(nrm));

    const int rc = ijepa_optimizer_step(f.opt, 0.01, 0.1);
    const char *msg = ijepa_last_error();
    expect_err(rc, IJEPA_ERR_NUMERIC, msg, "ijepa_optimizer_step", "non-finite gradient");
    ck_assert_msg(strstr(msg, names[_i]) != NULL, "message '%s' does not name %s", msg,
                  names[_i]);
    ck_assert_str_eq(ijepa_last_error(), msg);
    const size_t bytes = (size_t)f.count * sizeof(float);
    ck_assert_msg(memcmp(p0, f.params, bytes) == 0, "params changed");
    ck_assert_msg(memcmp(g0, f.grads, bytes) == 0, "gradients changed");
    ck_assert_msg(memcmp(m0, M, bytes) == 0 && memcmp(v0, V, bytes) == 0, "moments changed");
    ck_assert_int_eq(ijepa_optimizer_step_count(f.opt), 1);

    /* repaired, the step goes through and counts 2 */
    f.grads[t.off + t.numel - 1] = 0.25f;
    ck_assert_int_eq(ijepa_optimizer_step(f.opt, 0.01, 0.1), IJEPA_OK);
    ck_assert_int_eq(ijepa_optimizer_step_count(f.opt), 2);
    free(p0); free(g0); free(m0); free(v0);
    enc_fx_close(&f);
}
END_TEST

/* A non-finite gradient in a FROZEN tensor is not looked at. */
START_TEST(test_nonfinite_frozen_ignored)
{
    ofx f;
    ofx_open(&f, tiny_config(0, 7), 1);
    fill_random(&f, 700, 1);
    tinfo t = tensor_flags_at(f.tab, find_tensor(f.tab, "pos_embed"));
    f.grads[t.off] = NAN;
    float *pos = fcopy(f.params + t.off, t.numel);
    ck_assert_int_eq(ijepa_optimizer_step(f.opt, 0.01, 0.1), IJEPA_OK);
    ck_assert(memcmp(pos, f.params + t.off, (size_t)t.numel * sizeof(float)) == 0);
    double nrm;
    ck_assert_int_eq(ijepa_optimizer_grad_norm(f.opt, &nrm), IJEPA_OK);
    ck_assert(isfinite(nrm));
    free(pos);
    enc_fx_close(&f);
}
END_TEST

// --- EMA -------------------------------------------------------------------------------------

START_TEST(test_ema)
{
    ofx tg, on;
    ofx_open(&tg, tiny_config(0, 8), 0);
    ofx_open(&on, tiny_config(0, 9), 0);
    fill_random(&on, 800, 1);
    ck_assert_int_eq(tg.count, on.count);
    float *t0 = fcopy(tg.params, tg.count), *o0 = fcopy(on.params, on.count);

    const double m = 0.996;
    ck_assert_int_eq(ijepa_encoder_ema_update(tg.enc, on.enc, m), IJEPA_OK);
    int moved = 0;
    for (int64_t i = 0; i < tg.count; i++) {
        const double want = m * (double)t0[i] + (1.0 - m) * (double)o0[i];
        ck_assert_msg(fabs(tg.params[i] - want) <= REF_U32 * fabs(want),
                      "ema[%lld] = %.9g, want %.9g", (long long)i, (double)tg.params[i], want);
        moved += tg.params[i] != t0[i];
    }
    ck_assert_int_gt(moved, tg.count / 2);
    ck_assert_msg(memcmp(o0, on.params, (size_t)on.count * sizeof(float)) == 0, "online changed");
    /* frozen pos_embed is the same in both, and stays bit-identical */
    tinfo t = tensor_flags_at(tg.tab, find_tensor(tg.tab, "pos_embed"));
    ck_assert(memcmp(t0 + t.off, tg.params + t.off, (size_t)t.numel * sizeof(float)) == 0);

    /* momentum 1: unchanged; momentum 0: a copy of the online encoder */
    memcpy(t0, tg.params, (size_t)tg.count * sizeof(float));
    ck_assert_int_eq(ijepa_encoder_ema_update(tg.enc, on.enc, 1.0), IJEPA_OK);
    ck_assert(memcmp(t0, tg.params, (size_t)tg.count * sizeof(float)) == 0);
    ck_assert_int_eq(ijepa_encoder_ema_update(tg.enc, on.enc, 0.0), IJEPA_OK);
    ck_assert(memcmp(o0, tg.params, (size_t)tg.count * sizeof(float)) == 0);

    /* schedule-driven: the first update uses the momentum of i = 0 */
    ck_assert_int_eq(ijepa_encoder_ema_update(tg.enc, on.enc,
                                              ijepa_schedule_momentum(0, 10, 0.996, 1.0)),
                     IJEPA_OK);
    free(t0);
    free(o0);
    enc_fx_close(&on);
    enc_fx_close(&tg);
}
END_TEST

START_TEST(test_ema_errors)
{
    ofx tg, on;
    ofx_open(&tg, tiny_config(0, 8), 0);
    ofx_open(&on, tiny_config(0, 9), 0);
    float *t0 = fcopy(tg.params, tg.count);
    const char *F = "ijepa_encoder_ema_update";
    expect_err(ijepa_encoder_ema_update(NULL, on.enc, 0.5), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), F, "NULL target");
    expect_err(ijepa_encoder_ema_update(tg.enc, NULL, 0.5), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), F, "NULL online");
    expect_err(ijepa_encoder_ema_update(tg.enc, tg.enc, 0.5), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), F, "same encoder");
    expect_err(ijepa_encoder_ema_update(tg.enc, on.enc, -0.01), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), F, "momentum < 0");
    expect_err(ijepa_encoder_ema_update(tg.enc, on.enc, 1.0001), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), F, "momentum > 1");
    expect_err(ijepa_encoder_ema_update(tg.enc, on.enc, NAN), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), F, "momentum NaN");

    /* mismatched encoders: width, depth, MLP width (same names, other
     * sizes), no qkv bias (other names) */
    const struct { int32_t key; double v; int is_float; const char *what; } mis[] = {
        {IJEPA_CFG_EMBED_DIM, 12, 0, "embed_dim 12 vs 8"},
        {IJEPA_CFG_DEPTH, 2, 0, "depth 2 vs 1"},
        {IJEPA_CFG_MLP_RATIO, 2.0, 1, "mlp_ratio 2 vs 4"},
        {IJEPA_CFG_QKV_BIAS, 0, 0, "qkv_bias 0 vs 1"},
    };
    for (size_t k = 0; k < sizeof mis / sizeof mis[0]; k++) {
        ijepa_config *cfg = tiny_config(0, 9);
        if (mis[k].is_float)
            ck_assert_int_eq(ijepa_config_set_float(cfg, mis[k].key, mis[k].v), IJEPA_OK);
        else
            ck_assert_int_eq(ijepa_config_set_int(cfg, mis[k].key, (int64_t)mis[k].v), IJEPA_OK);
        ijepa_encoder *other = NULL;
        ck_assert_int_eq(ijepa_encoder_create(&other, tg.ctx, cfg), IJEPA_OK);
        expect_err(ijepa_encoder_ema_update(tg.enc, other, 0.5), IJEPA_ERR_INVALID_ARG,
                   ijepa_last_error(), F, mis[k].what);
        expect_err(ijepa_encoder_ema_update(other, tg.enc, 0.5), IJEPA_ERR_INVALID_ARG,
                   ijepa_last_error(), F, mis[k].what);
        ijepa_encoder_free(other);
        ijepa_config_free(cfg);
    }
    ck_assert_msg(memcmp(t0, tg.params, (size_t)tg.count * sizeof(float)) == 0,
                  "a refused EMA update changed the target");
    free(t0);
    enc_fx_close(&on);
    enc_fx_close(&tg);
}
END_TEST

// --- errors ----------------------------------------------------------------------------------

START_TEST(test_free_null)
{
    ijepa_optimizer_free(NULL);
    ck_assert_int_eq(ijepa_optimizer_step_count(NULL), 0);
}
END_TEST

START_TEST(test_create_errors)
{
    const char *F = "ijepa_optimizer_create";
    ijepa_config *cfg = tiny_config(0, 1);
    ijepa_optimizer *opt = (ijepa_optimizer *)1;
    expect_err(ijepa_optimizer_create(NULL, cfg), IJEPA_ERR_INVALID_ARG, ijepa_last_error(), F,
               "NULL out");
    expect_err(ijepa_optimizer_create(&opt, NULL), IJEPA_ERR_INVALID_ARG, ijepa_last_error(), F,
               "NULL config");
    ck_assert_ptr_null(opt);
    const struct { int32_t key; double v; const char *what; } bad[] = {
        {IJEPA_CFG_ADAM_BETA1, 1.0, "beta1 1"},
        {IJEPA_CFG_ADAM_BETA2, 1.0, "beta2 1"},
        {IJEPA_CFG_ADAM_EPS, 0.0, "eps 0"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        ijepa_config *c = NULL;
        ck_assert_int_eq(ijepa_config_copy(&c, cfg), IJEPA_OK);
        ck_assert_int_eq(ijepa_config_set_float(c, bad[k].key, bad[k].v), IJEPA_OK);
        opt = (ijepa_optimizer *)1;
        expect_err(ijepa_optimizer_create(&opt, c), IJEPA_ERR_INVALID_ARG, ijepa_last_error(),
                   F, bad[k].what);
        ck_assert_ptr_null(opt);
        ijepa_config_free(c);
    }
    /* beta 0 is fine (no momentum) */
    ck_assert_int_eq(ijepa_config_set_float(cfg, IJEPA_CFG_ADAM_BETA1, 0.0), IJEPA_OK);
    ck_assert_int_eq(ijepa_optimizer_create(&opt, cfg), IJEPA_OK);
    ijepa_optimizer_free(opt);
    ijepa_config_free(cfg);
}
END_TEST

START_TEST(test_add_errors)
{
    ofx f;
    ofx_open(&f, tiny_config(0, 1), 0);
    ijepa_optimizer *opt = NULL;
    ck_assert_int_eq(ijepa_optimizer_create(&opt, f.cfg), IJEPA_OK);
    const char *F = "ijepa_optimizer_add";
    const char *msg = ijepa_last_error();
    expect_err(ijepa_optimizer_add(NULL, f.params, f.grads, f.tab), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), F, "NULL optimizer");
    expect_err(ijepa_optimizer_add(opt, NULL, f.grads, f.tab), IJEPA_ERR_INVALID_ARG, msg, F,
               "NULL params");
    expect_err(ijepa_optimizer_add(opt, f.params, NULL, f.tab), IJEPA_ERR_INVALID_ARG, msg, F,
               "NULL grads");
    expect_err(ijepa_optimizer_add(opt, f.params, f.grads, NULL), IJEPA_ERR_INVALID_ARG, msg, F,
               "NULL table");
    expect_err(ijepa_optimizer_add(opt, f.params, f.params, f.tab), IJEPA_ERR_INVALID_ARG, msg, F,
               "params == grads");
    expect_err(ijepa_optimizer_add(opt, f.params, f.params + 5, f.tab), IJEPA_ERR_INVALID_ARG, msg, F,
               "params and grads overlap");
    /* nothing was registered by the failures */
    expect_err(ijepa_optimizer_step(opt, 0.1, 0.0), IJEPA_ERR_STATE, msg,
               "ijepa_optimizer_step", "step without groups");
    ck_assert_int_eq(ijepa_optimizer_add(opt, f.params, f.grads, f.tab), 0);
    expect_err(ijepa_optimizer_add(opt, f.params, f.grads, f.tab), IJEPA_ERR_INVALID_ARG, msg, F,
               "the same buffers twice");
    /* up to IJEPA_OPTIMIZER_MAX_GROUPS groups */
    float *bufs[2 * IJEPA_OPTIMIZER_MAX_GROUPS];
    for (int k = 0; k < 2 * IJEPA_OPTIMIZER_MAX_GROUPS; k++) {
        bufs[k] = ref_falloc(f.count);
        ck_assert_ptr_nonnull(bufs[k]);
    }
    for (int k = 1; k < IJEPA_OPTIMIZER_MAX_GROUPS; k++)
        ck_assert_int_eq(ijepa_optimizer_add(opt, bufs[2 * k], bufs[2 * k + 1], f.tab), k);
    expect_err(ijepa_optimizer_add(opt, bufs[0], bufs[1], f.tab), IJEPA_ERR_INVALID_ARG, msg,
               F, "17th group");
    ck_assert_int_eq(ijepa_optimizer_step(opt, 0.1, 0.1), IJEPA_OK);
    for (int k = 0; k < 2 * IJEPA_OPTIMIZER_MAX_GROUPS; k++)
        free(bufs[k]);
    ijepa_optimizer_free(opt);
    enc_fx_close(&f);
}
END_TEST

START_TEST(test_step_errors)
{
    ofx f;
    ofx_open(&f, tiny_config(0, 1), 1);
    fill_random(&f, 900, 1);
    float *p0 = fcopy(f.params, f.count);
    const char *F = "ijepa_optimizer_step";
    const char *msg = ijepa_last_error();
    expect_err(ijepa_optimizer_step(NULL, 0.1, 0.1), IJEPA_ERR_INVALID_ARG, ijepa_last_error(),
               F, "NULL optimizer");
    const double badv[4] = {NAN, INFINITY, -1e-3, -INFINITY};
    for (int k = 0; k < 4; k++) {
        expect_err(ijepa_optimizer_step(f.opt, badv[k], 0.1), IJEPA_ERR_INVALID_ARG, msg, F,
                   "bad lr");
        expect_err(ijepa_optimizer_step(f.opt, 0.1, badv[k]), IJEPA_ERR_INVALID_ARG, msg, F,
                   "bad weight_decay");
    }
    ck_assert_int_eq(ijepa_optimizer_step_count(f.opt), 0);
    ck_assert(memcmp(p0, f.params, (size_t)f.count * sizeof(float)) == 0);

    expect_err(ijepa_optimizer_set_step_count(NULL, 1), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), "ijepa_optimizer_set_step_count", "NULL optimizer");
    expect_err(ijepa_optimizer_set_step_count(f.opt, -1), IJEPA_ERR_INVALID_ARG, msg,
               "ijepa_optimizer_set_step_count", "negative count");
    ck_assert_int_eq(ijepa_optimizer_set_step_count(f.opt, INT64_MAX), IJEPA_OK);
    expect_err(ijepa_optimizer_step(f.opt, 0.1, 0.1), IJEPA_ERR_STATE, msg, F,
               "step count at INT64_MAX");
    ck_assert(memcmp(p0, f.params, (size_t)f.count * sizeof(float)) == 0);

    double nrm;
    expect_err(ijepa_optimizer_grad_norm(NULL, &nrm), IJEPA_ERR_INVALID_ARG, ijepa_last_error(),
               "ijepa_optimizer_grad_norm", "NULL optimizer");
    expect_err(ijepa_optimizer_grad_norm(f.opt, NULL), IJEPA_ERR_INVALID_ARG, msg,
               "ijepa_optimizer_grad_norm", "NULL norm");

    float *M, *V;
    int64_t cnt;
    const char *FM = "ijepa_optimizer_moments";
    expect_err(ijepa_optimizer_moments(NULL, 0, &M, &V, &cnt), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), FM, "NULL optimizer");
    expect_err(ijepa_optimizer_moments(f.opt, 0, NULL, &V, &cnt), IJEPA_ERR_INVALID_ARG, msg,
               FM, "NULL m");
    expect_err(ijepa_optimizer_moments(f.opt, 0, &M, NULL, &cnt), IJEPA_ERR_INVALID_ARG, msg,
               FM, "NULL v");
    expect_err(ijepa_optimizer_moments(f.opt, 0, &M, &V, NULL), IJEPA_ERR_INVALID_ARG, msg, FM,
               "NULL count");
    expect_err(ijepa_optimizer_moments(f.opt, -1, &M, &V, &cnt), IJEPA_ERR_INVALID_ARG, msg,
               FM, "group -1");
    expect_err(ijepa_optimizer_moments(f.opt, 1, &M, &V, &cnt), IJEPA_ERR_INVALID_ARG, msg,
               FM, "group 1 not registered");
    /* an empty optimizer: norm 0 */
    ijepa_optimizer *e = NULL;
    ck_assert_int_eq(ijepa_optimizer_create(&e, f.cfg), IJEPA_OK);
    ck_assert_int_eq(ijepa_optimizer_grad_norm(e, &nrm), IJEPA_OK);
    ck_assert(nrm == 0.0);
    ijepa_optimizer_free(e);
    free(p0);
    enc_fx_close(&f);
}
END_TEST

// --- suite -----------------------------------------------------------------------------------

Suite *ijepa_optim_suite(void)
{
    Suite *s = suite_create("optim");

    TCase *tc = add_tcase(s, "schedule", 0); /* Check's default timeout */
    tcase_add_test(tc, test_schedule_lr);
    tcase_add_test(tc, test_schedule_wd);
    tcase_add_test(tc, test_schedule_momentum);

    tc = add_tcase(s, "adamw", IJEPA_TEST_TIMEOUT);
    tcase_add_loop_test(tc, test_adamw_steps, 0, 2);
    tcase_add_test(tc, test_adamw_resume);
    tcase_add_test(tc, test_two_groups_clip);
    tcase_add_test(tc, test_threads_bitwise);
    tcase_add_test(tc, test_moments_touched_when_added);

    tc = add_tcase(s, "numeric", IJEPA_TEST_TIMEOUT);
    tcase_add_loop_test(tc, test_nonfinite_grad, 0, 3);
    tcase_add_test(tc, test_nonfinite_frozen_ignored);

    tc = add_tcase(s, "ema", IJEPA_TEST_TIMEOUT);
    tcase_add_test(tc, test_ema);
    tcase_add_test(tc, test_ema_errors);

    tc = add_tcase(s, "errors", IJEPA_TEST_TIMEOUT);
    tcase_add_test(tc, test_free_null);
    tcase_add_test(tc, test_create_errors);
    tcase_add_test(tc, test_add_errors);
    tcase_add_test(tc, test_step_errors);
    return s;
}
