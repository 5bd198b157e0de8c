/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * Implements: suite "encoder" — include/ijepa/encoder.h against the
 * double-precision reference of the official ViT (tests/ref_vit.c).
 *
 * TCases:
 *   core    forward (unmasked, masked with per-image keep lists and repeated
 *           indices) equals the reference; a full keep list [0, N) gives the
 *           unmasked output; TRAIN and INFERENCE forwards agree
 *   grad    every parameter gradient of the whole encoder against central
 *           differences of the double reference (frozen tensors and padding
 *           must stay 0), with and without a mask; backward accumulates;
 *           zero_grad zeroes
 *   init    pos_embed equals the official sin-cos formula; init statistics;
 *           init_depth_rescale; seeds reproduce / differ; init_params
 *   table   tensor names, shapes, order, offsets and flags
 *   errors  the documented status and a message naming the function for
 *           every misuse, and _free(NULL) no-ops
 *
 * The numeric tests overwrite the parameters with random values of unit
 * scale (weights ~ 1/sqrt(fan_in), LN gains around 1, biases ~0.3): with the
 * default init (std 0.02) attention is nearly uniform and the blocks nearly
 * the identity, which would hide wrong scales, transposes or head layouts.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_ijepa.h"
#include "ijepa/ijepa.h"
#include "ref.h"
#include "helpers.h"
#include "internal.h" /* ijepa__rng_normals */
#include "ref_vit.h"

// --- configurations and fixture --------------------------------------------------

typedef struct spec {
    int64_t img, patch, chans, D, depth, heads, batch;
    double mlp_ratio;
    int qkv_bias;
    uint64_t seed;
    double ln_eps; /* 0: the default (1e-6) */
} spec;

/* tiny: 16 tokens of width 16 */
static const spec SPEC_A = {8, 2, 3, 16, 2, 2, 3, 4.0, 1, 11, 0};
/* one channel, 4 heads of 4, no qkv bias, hidden int(16 * 2.5) = 40, and a
 * LayerNorm eps large enough that ignoring the configured one shows */
static const spec SPEC_B = {8, 2, 1, 16, 2, 4, 2, 2.5, 0, 12, 0.05};

static ijepa_config *spec_config(const spec *s)
{
    const cfg_int iv[] = {
        {IJEPA_CFG_IMG_SIZE, s->img},   {IJEPA_CFG_PATCH_SIZE, s->patch},
        {IJEPA_CFG_IN_CHANS, s->chans}, {IJEPA_CFG_EMBED_DIM, s->D},
        {IJEPA_CFG_DEPTH, s->depth},    {IJEPA_CFG_NUM_HEADS, s->heads},
        {IJEPA_CFG_BATCH_SIZE, s->batch}, {IJEPA_CFG_QKV_BIAS, s->qkv_bias},
        {IJEPA_CFG_SEED, (int64_t)s->seed},
    };
    const cfg_float fv[] = {{IJEPA_CFG_MLP_RATIO, s->mlp_ratio}, {IJEPA_CFG_LN_EPS, s->ln_eps}};
    return config_with(iv, COUNT_OF(iv), fv, s->ln_eps > 0 ? 2 : 1);
}

/* The encoder of spec s (fixture of tests/helpers.h). */
static void efx_open(enc_fx *f, const spec *s) { enc_fx_open(f, spec_config(s)); }

/* A reference model bound to a double copy of the encoder's parameters. */
typedef struct refm {
    ref_vit v;
    double *pd; /* [count] */
} refm;

static void refm_open(refm *m, const enc_fx *f)
{
    ref_vit_cfg rc;
    char err[256] = "";
    ck_assert_int_eq(ref_vit_cfg_from_config(&rc, ijepa_encoder_config(f->enc)), 0);
    m->pd = ref_dalloc(f->count);
    ck_assert_ptr_nonnull(m->pd);
    ref_f2d(m->pd, f->params, f->count);
    ck_assert_msg(ref_vit_bind(&m->v, &rc, f->tab, m->pd, err, sizeof err) == 0,
                  "reference cannot bind to the tensor table: %s", err);
}

static void refm_close(refm *m)
{
    ref_vit_unbind(&m->v);
    free(m->pd);
}

/* keep [B, K]: per-image different random indices, with token 0 of each
 * image repeated at position K-1 (repeats are allowed) */
static int32_t *random_keep(int64_t B, int64_t K, int64_t N, uint64_t seed)
{
    ref_rng rng;
    ref_rng_seed(&rng, seed);
    int32_t *keep = malloc((size_t)(B * K) * sizeof *keep);
    ck_assert_ptr_nonnull(keep);
    for (int64_t i = 0; i < B * K; i++) keep[i] = (int32_t)ref_rng_int(&rng, N);
    for (int64_t b = 0; b < B; b++) keep[b * K + K - 1] = keep[b * K];
    return keep;
}

/* B images of spec s, pixels U(-1, 1) */
static float *images_new(const spec *s, int64_t B, uint64_t seed)
{
    return rand_floats(B * s->chans * s->img * s->img, seed, -1, 1);
}

// --- core: forward ------------------------------------------------------------------

/*
 * Forward tolerance. Every block re-normalises, so the float32 error stays
 * near the per-layer level: a few hundred roundings of relative size u on
 * O(1) values, ~1e-5 at worst in practice. tol = 1e-4 (1 + |want|) is ten
 * times that and still a thousand times below the effect of a wrong scale,
 * head split or transposed weight (O(0.1 - 1)).
 */
#define FWD_ATOL 1e-4
#define FWD_RTOL 1e-4

static const spec *const fwd_specs[] = {&SPEC_A, &SPEC_B};

START_TEST(test_forward_vs_ref)
{
    const spec *s = fwd_specs[_i];
    enc_fx f;
    efx_open(&f, s);
    randomize_table(f.tab, f.params, 100 + (uint64_t)_i);
    refm m;
    refm_open(&m, &f);
    const int64_t Bs[2] = {1, s->batch}; /* one image, and a full batch */
    for (int j = 0; j < 2; j++) {
        const int64_t B = Bs[j], n = B * f.N * f.D;
        float *im = images_new(s, B, 200 + (uint64_t)B), *out = ref_falloc(n);
        double *imd = ref_dalloc(B * s->chans * s->img * s->img), *want = ref_dalloc(n);
        ck_assert_ptr_nonnull(out);
        ref_f2d(imd, im, B * s->chans * s->img * s->img);
        ck_assert_int_eq(ref_vit_forward(&m.v, imd, B, NULL, 0, want), 0);
        for (int mode = 0; mode < 2; mode++) {
            int rc = ijepa_encoder_forward(f.enc, im, B, NULL, 0, out, mode);
            ck_assert_msg(rc == IJEPA_OK, "forward: %d %s", rc, ijepa_last_error());
            ref_cmp c = ref_compare_f(out, want, n, FWD_ATOL, FWD_RTOL, NULL);
            expect_close(&c, "spec %d forward batch %lld mode %d", _i, (long long)B, mode);
        }
        free(im); free(out); free(imd); free(want);
    }
    refm_close(&m);
    enc_fx_close(&f);
}
END_TEST

START_TEST(test_forward_masked_vs_ref)
{
    const spec *s = fwd_specs[_i];
    enc_fx f;
    efx_open(&f, s);
    randomize_table(f.tab, f.params, 300 + (uint64_t)_i);
    refm m;
    refm_open(&m, &f);
    const int64_t B = s->batch, npix = B * s->chans * s->img * s->img;
    const int64_t Ks[2] = {7, 1};
    for (int j = 0; j < 2; j++) {
        const int64_t K = Ks[j], n = B * K * f.D;
        int32_t *keep = random_keep(B, K, f.N, 400 + (uint64_t)j);
        float *im = images_new(s, B, 500 + (uint64_t)j), *out = ref_falloc(n);
        double *imd = ref_dalloc(npix), *want = ref_dalloc(n);
        ref_f2d(imd, im, npix);
        ck_assert_int_eq(ref_vit_forward(&m.v, imd, B, keep, K, want), 0);
        for (int mode = 0; mode < 2; mode++) {
            int rc = ijepa_encoder_forward(f.enc, im, B, keep, K, out, mode);
            ck_assert_msg(rc == IJEPA_OK, "forward: %d %s", rc, ijepa_last_error());
            ref_cmp c = ref_compare_f(out, want, n, FWD_ATOL, FWD_RTOL, NULL);
            expect_close(&c, "spec %d masked forward K=%lld mode %d", _i, (long long)K, mode);
        }
        free(keep); free(im); free(out); free(imd); free(want);
    }
    refm_close(&m);
    enc_fx_close(&f);
}
END_TEST

/* keep = [0, N) for every image is the unmasked forward (the same rows go
 * through the same kernels), and TRAIN agrees with INFERENCE. */
START_TEST(test_full_keep_is_unmasked)
{
    const spec *s = &SPEC_A;
    enc_fx f;
    efx_open(&f, s);
    randomize_table(f.tab, f.params, 600);
    const int64_t B = s->batch, n = B * f.N * f.D;
    float *im = images_new(s, B, 601), *o1 = ref_falloc(n), *o2 = ref_falloc(n);
    float *o3 = ref_falloc(n);
    int32_t *keep = malloc((size_t)(B * f.N) * sizeof *keep);
    ck_assert_ptr_nonnull(keep);
    for (int64_t i = 0; i < B * f.N; i++) keep[i] = (int32_t)(i % f.N);
    ck_assert_int_eq(ijepa_encoder_forward(f.enc, im, B, NULL, 0, o1, IJEPA_FORWARD_INFERENCE), 0);
    ck_assert_int_eq(ijepa_encoder_forward(f.enc, im, B, keep, f.N, o2, IJEPA_FORWARD_INFERENCE), 0);
    ck_assert_int_eq(ijepa_encoder_forward(f.enc, im, B, NULL, 0, o3, IJEPA_FORWARD_TRAIN), 0);
    double *d1 = ref_dalloc(n);
    ref_f2d(d1, o1, n);
    ref_cmp c = ref_compare_f(o2, d1, n, 1e-6, 0, NULL);
    expect_close(&c, "full keep list vs no mask");
    c = ref_compare_f(o3, d1, n, 1e-6, 0, NULL);
    expect_close(&c, "TRAIN vs INFERENCE forward");
    free(im); free(o1); free(o2); free(o3); free(keep); free(d1);
    enc_fx_close(&f);
}
END_TEST

// --- grad: finite differences of the whole encoder -----------------------------------

typedef struct vit_fd {
    const ref_vit *v;
    const double *images;
    int64_t B, K;
    const int32_t *keep;
} vit_fd;

static void vit_fd_fwd(void *p, double *y)
{
    const vit_fd *c = p;
    ck_assert_int_eq(ref_vit_forward(c->v, c->images, c->B, c->keep, c->K, y), 0);
}

/*
 * Gradient tolerance. The finite differences (double, h = 1e-6) are exact
 * to ~1e-9 relative; the library's float32 backward through two blocks is
 * off by ~1e-6 of each tensor's scale (measured: worst element at ~1% of the
 * bound below), more in relative terms on elements whose gradient is a
 * cancelling sum (e.g. the k-part of qkv.bias, exactly 0 in exact
 * arithmetic), hence the per-tensor floor. tol = 2e-4 |fd| + 5e-5 max|fd|
 * over the tensor: a missing term, a wrong scale or a transposed gradient is
 * off by 1e-2 - 1 of the scale.
 */
#define GRAD_RTOL 2e-4
#define GRAD_AFLOOR 5e-5

typedef struct grad_case {
    const spec *s;
    int64_t K; /* 0: no mask */
} grad_case;

static const grad_case grad_cases[] = {{&SPEC_A, 0}, {&SPEC_A, 5}, {&SPEC_B, 6}};

START_TEST(test_grad_fd)
{
    const grad_case *gc = &grad_cases[_i];
    const spec *s = gc->s;
    enc_fx f;
    efx_open(&f, s);
    randomize_table(f.tab, f.params, 700 + (uint64_t)_i);
    refm m;
    refm_open(&m, &f);
    const int64_t B = 2, K = gc->K ? gc->K : f.N, ny = B * K * f.D;
    const int64_t npix = B * s->chans * s->img * s->img;
    int32_t *keep = gc->K ? random_keep(B, K, f.N, 800 + (uint64_t)_i) : NULL;
    float *im = images_new(s, B, 900 + (uint64_t)_i), *out = ref_falloc(ny);
    float *R = rand_floats(ny, 1000 + (uint64_t)_i, -1, 1);
    double *imd = ref_dalloc(npix), *Rd = ref_dalloc(ny), *fd = ref_dalloc(f.count);
    ck_assert_ptr_nonnull(fd);
    ref_f2d(Rd, R, ny);
    ref_f2d(imd, im, npix);

    ck_assert_int_eq(ijepa_encoder_zero_grad(f.enc), IJEPA_OK);
    int rc = ijepa_encoder_forward(f.enc, im, B, keep, gc->K, out, IJEPA_FORWARD_TRAIN);
    ck_assert_msg(rc == IJEPA_OK, "forward: %d %s", rc, ijepa_last_error());
    rc = ijepa_encoder_backward(f.enc, R);
    ck_assert_msg(rc == IJEPA_OK, "backward: %d %s", rc, ijepa_last_error());

    vit_fd ctx = {&m.v, imd, B, K, keep};
    char label[32];
    snprintf(label, sizeof label, "grad case %d", _i);
    /* every tensor; frozen ones must have no gradient */
    const table_grads tg = expect_table_grads(f.tab, f.grads, m.pd, fd, vit_fd_fwd, &ctx, ny, Rd,
                                              GRAD_RTOL, GRAD_AFLOOR, label);
    /* padding between tensors stays zero in both buffers */
    int64_t pad = padding_nonzero(f.tab, f.params, f.count) +
                  padding_nonzero(f.tab, f.grads, f.count);
    ck_assert_msg(pad == 0, "%lld padding floats are not zero", (long long)pad);
    ck_assert_int_le(tg.covered, f.count);
    char d[384];
    ck_assert_msg(ref_cmp_ok(&tg.worst), "grad case %d (mask K=%lld): worst tensor %s: %s", _i,
                  (long long)gc->K, tg.worst_name, ref_cmp_str(&tg.worst, d, sizeof d));

    free(keep); free(im); free(out); free(R); free(imd); free(Rd); free(fd);
    refm_close(&m);
    enc_fx_close(&f);
}
END_TEST

/* backward reads the kept forward, not the caller's images; backward twice
 * after one TRAIN forward = 2x the gradient; zero_grad zeroes every float
 * and keeps the forward. */
START_TEST(test_backward_accumulates)
{
    const spec *s = &SPEC_A;
    enc_fx f;
    efx_open(&f, s);
    randomize_table(f.tab, f.params, 1100);
    const int64_t B = 2, K = 9, ny = B * K * f.D;
    int32_t *keep = random_keep(B, K, f.N, 1101);
    float *im = images_new(s, B, 1102), *out = ref_falloc(ny), *R = rand_floats(ny, 1103, -1, 1);
    float *g1 = ref_falloc(f.count);
    ck_assert_ptr_nonnull(g1);

    /* reference gradient g0, images intact */
    ck_assert_int_eq(ijepa_encoder_forward(f.enc, im, B, keep, K, out, IJEPA_FORWARD_TRAIN), 0);
    ck_assert_int_eq(ijepa_encoder_backward(f.enc, R), IJEPA_OK);
    double *want = ref_dalloc(f.count);
    ref_f2d(want, f.grads, f.count);
    double gmax = ref_max_abs_d(want, f.count);
    ck_assert_msg(gmax > 0.0, "backward produced an all-zero gradient");
    ck_assert_int_eq(ijepa_encoder_zero_grad(f.enc), IJEPA_OK);

    /* images are only used during the forward: clobbering them before the
     * backward changes nothing */
    ck_assert_int_eq(ijepa_encoder_forward(f.enc, im, B, keep, K, out, IJEPA_FORWARD_TRAIN), 0);
    memset(im, 0, (size_t)(B * s->chans * s->img * s->img) * sizeof(float));
    ck_assert_int_eq(ijepa_encoder_backward(f.enc, R), IJEPA_OK);
    ref_cmp c = ref_compare_f(f.grads, want, f.count, 1e-6 * gmax, 1e-6, NULL);
    expect_close(&c, "backward after the images were overwritten");
    memcpy(g1, f.grads, (size_t)f.count * sizeof(float));
    ck_assert_int_eq(ijepa_encoder_backward(f.enc, R), IJEPA_OK);
    for (int64_t i = 0; i < f.count; i++) want[i] = 2.0 * (double)g1[i];
    /* the second pass adds the same float values: exact up to summation order */
    c = ref_compare_f(f.grads, want, f.count, 1e-6 * gmax, 1e-6, NULL);
    expect_close(&c, "two backward calls vs 2x one");

    ck_assert_int_eq(ijepa_encoder_zero_grad(f.enc), IJEPA_OK);
    int64_t nz = first_not(f.grads, f.count, 0.0f);
    ck_assert_msg(nz < 0, "grad %lld not zero after zero_grad", (long long)nz);
    /* after zero_grad the kept forward is still there: one more backward = g1 */
    ck_assert_int_eq(ijepa_encoder_backward(f.enc, R), IJEPA_OK);
    for (int64_t i = 0; i < f.count; i++) want[i] = g1[i];
    c = ref_compare_f(f.grads, want, f.count, 1e-6 * gmax, 1e-6, NULL);
    expect_close(&c, "backward after zero_grad vs first backward");

    free(keep); free(im); free(out); free(R); free(g1); free(want);
    enc_fx_close(&f);
}
END_TEST

// --- init --------------------------------------------------------------------------

/* pos_embed = the official formula computed in double, cast to float
 * (expect_sincos_embed() in tests/helpers.h); also after init_params. */
START_TEST(test_pos_embed)
{
    const spec cases[2] = {{8, 2, 3, 16, 1, 2, 1, 4.0, 1, 1, 0},
                           {28, 2, 1, 32, 1, 4, 1, 4.0, 1, 1, 0}};
    const spec *s = &cases[_i];
    enc_fx f;
    efx_open(&f, s);
    const int64_t G = s->img / s->patch, N = G * G, D = s->D;
    ck_assert_int_eq(f.N, N);
    int64_t idx;
    ck_assert_int_eq(ijepa_tensor_table_find(f.tab, "pos_embed", &idx), IJEPA_OK);
    tinfo t = tensor_at(f.tab, idx);
    ck_assert_int_eq(t.numel, N * D);
    expect_sincos_embed(f.params + t.off, G, D, "pos_embed");
    /* init_params restores it after it was overwritten */
    memset(f.params + t.off, 0, (size_t)(N * D) * sizeof(float));
    ck_assert_int_eq(ijepa_encoder_init_params(f.enc, 5), IJEPA_OK);
    expect_sincos_embed(f.params + t.off, G, D, "pos_embed after init_params");
    enc_fx_close(&f);
}
END_TEST

/* vit_tiny width (D 192, 3 heads), 2 blocks, 4 tokens: ~0.9M weights. */
static ijepa_config *tiny_width_config(double std, int rescale, uint64_t seed)
{
    const spec s = {32, 16, 3, 192, 2, 3, 1, 4.0, 1, seed, 0};
    ijepa_config *cfg = spec_config(&s);
    ck_assert_int_eq(ijepa_config_set_float(cfg, IJEPA_CFG_INIT_STD, std), IJEPA_OK);
    ck_assert_int_eq(ijepa_config_set_int(cfg, IJEPA_CFG_INIT_DEPTH_RESCALE, rescale), IJEPA_OK);
    return cfg;
}

/*
 * Weights: truncated normal N(0, std^2) on [-2, 2] (bounds absolute, so at
 * std <= 0.1 the truncation is invisible), by 5-sigma sampling bounds on
 * mean, std and the fraction within one std (expect_init_stats() in
 * tests/helpers.h). Biases 0, LN weight 1, bias 0.
 */
START_TEST(test_init_stats)
{
    const double stds[2] = {0.02, 0.1};
    const double std = stds[_i];
    enc_fx f;
    enc_fx_open(&f, tiny_width_config(std, 0, 77));
    /* every weight tensor is large enough for the fraction test */
    const int nweights = expect_init_stats(f.tab, f.params, std, 0);
    ck_assert_int_eq(nweights, 1 + 4 * 2); /* patch_embed + 4 per block */
    int64_t nz = first_not(f.grads, f.count, 0.0f);
    ck_assert_msg(nz < 0, "gradient %lld not zero at creation", (long long)nz);
    enc_fx_close(&f);
}
END_TEST

/* patch_init_std overrides init_std for the patch embedding only: its
 * weights follow N(0, 0.5^2) truncated to [-2, 2] (4 sigma: the truncated
 * std is 0.99947 * 0.5) by 5-sigma sampling bounds, the other weights keep
 * init_std. */
START_TEST(test_init_patch_std)
{
    enc_fx f;
    ijepa_config *cfg = tiny_width_config(0.02, 0, 5);
    ck_assert_int_eq(ijepa_config_set_float(cfg, IJEPA_CFG_PATCH_INIT_STD, 0.5), IJEPA_OK);
    enc_fx_open(&f, cfg);
    tinfo t = tensor_named(f.tab, "patch_embed.proj.weight");
    double sum = 0, sq = 0, amax = 0;
    for (int64_t j = 0; j < t.numel; j++) {
        const double w = f.params[t.off + j];
        sum += w;
        sq += w * w;
        amax = fmax(amax, fabs(w));
    }
    const double n = (double)t.numel, mean = sum / n, sd = sqrt(sq / n - mean * mean);
    const double want = 0.5 * 0.99947;
    ck_assert_msg(fabs(mean) <= 5 * want / sqrt(n), "patch weight mean %g", mean);
    ck_assert_msg(fabs(sd / want - 1) <= 5 / sqrt(2 * n), "patch weight std %g, want %g", sd, want);
    ck_assert_msg(amax <= 2.0, "patch weight %g outside [-2, 2]", amax);
    tinfo q = tensor_named(f.tab, "blocks.0.attn.qkv.weight");
    double qs = 0;
    for (int64_t j = 0; j < q.numel; j++)
        qs += (double)f.params[q.off + j] * f.params[q.off + j];
    ck_assert_msg(fabs(sqrt(qs / (double)q.numel) / 0.02 - 1) <= 5 / sqrt(2.0 * (double)q.numel),
                  "qkv weight std %g, want 0.02", sqrt(qs / (double)q.numel));
    enc_fx_close(&f);
}
END_TEST

/* init_depth_rescale = 1 divides blocks.{i-1}.attn.proj.weight and
 * .mlp.fc2.weight by sqrt(2 i) (i 1-based); everything else bit-identical. */
START_TEST(test_init_depth_rescale)
{
    enc_fx a, b;
    enc_fx_open(&a, tiny_width_config(0.02, 0, 99));
    enc_fx_open(&b, tiny_width_config(0.02, 1, 99));
    ck_assert_int_eq(a.count, b.count);
    int scaled = 0;
    for (int64_t i = 0; i < ijepa_tensor_table_count(a.tab); i++) {
        tinfo t = tensor_at(a.tab, i);
        const float *pa = a.params + t.off, *pb = b.params + t.off;
        long long blk = -1;
        char rest[64] = "";
        if (sscanf(t.name, "blocks.%lld.%63s", &blk, rest) == 2 &&
            (strcmp(rest, "attn.proj.weight") == 0 || strcmp(rest, "mlp.fc2.weight") == 0)) {
            double *want = ref_dalloc(t.numel);
            for (int64_t j = 0; j < t.numel; j++) want[j] = pa[j] / sqrt(2.0 * (double)(blk + 1));
            ref_cmp c = ref_compare_f(pb, want, t.numel, 0, 4 * REF_U32, NULL);
            expect_close(&c, "%s with init_depth_rescale", t.name);
            free(want);
            scaled++;
        } else {
            ck_assert_msg(memcmp(pa, pb, (size_t)t.numel * sizeof(float)) == 0,
                          "%s changed by init_depth_rescale", t.name);
        }
    }
    ck_assert_int_eq(scaled, 4);
    enc_fx_close(&a);
    enc_fx_close(&b);
}
END_TEST

/* Same seed: bit-identical buffers (two handles, and init_params on a third
 * created with another seed). Different seeds: the weights differ. */
START_TEST(test_seeds)
{
    enc_fx a, b, c;
    enc_fx_open(&a, tiny_width_config(0.02, 0, 1234));
    enc_fx_open(&b, tiny_width_config(0.02, 0, 1234));
    enc_fx_open(&c, tiny_width_config(0.02, 0, 1235));
    expect_seeded(a.tab, a.params, b.params, c.params, a.count, 1234);
    /* init_params(seed) on a used handle = a fresh handle with that seed, and
     * zeroes the gradients */
    for (int64_t i = 0; i < c.count; i++) c.grads[i] = 1.0f;
    ck_assert_int_eq(ijepa_encoder_init_params(c.enc, 1234), IJEPA_OK);
    expect_reinit(a.params, c.params, c.grads, a.count, 1234);
    enc_fx_close(&a);
    enc_fx_close(&b);
    enc_fx_close(&c);
}
END_TEST

/* The weights' truncated normals, eight draws' arithmetic at a time where
 * AVX-512 runs, are the draws of ijepa__rng_normal one by one: the same
 * floats and the generator left in the same state, for counts around the
 * batch of eight, bounds that reject most draws or none, and calls that
 * follow one another on one generator; both ways of computing them. */
static void rng_normals_checks(void)
{
    static const int64_t counts[] = {0, 1, 7, 8, 9, 17, 1000, 4099};
    static const double bounds[][3] = {{0.02, -2.0, 2.0}, {1.0, -0.5, 0.5}, {1.0, 0.8, 9.0}};
    float *got = ref_falloc(4099), *want = ref_falloc(4099);
    double *gotd = ref_dalloc(4099), *wantd = ref_dalloc(4099);
    for (size_t b = 0; b < COUNT_OF(bounds); b++) {
        ijepa__rng r1, r2;
        ijepa__rng_seed(&r1, 77 + b);
        ijepa__rng_seed(&r2, 77 + b);
        const double sd = bounds[b][0], lo = bounds[b][1], hi = bounds[b][2];
        for (size_t c = 0; c < COUNT_OF(counts); c++) {
            const int64_t n = counts[c];
            for (int d = 0; d < 2; d++) { /* floats, then the doubles */
                ijepa__rng_normals(&r1, n, sd, lo, hi, d ? NULL : got, d ? gotd : NULL);
                for (int64_t i = 0; i < n; i++) {
                    double x;
                    do {
                        x = ijepa__rng_normal(&r2) * sd;
                    } while (x < lo || x > hi);
                    want[i] = (float)x;
                    wantd[i] = x;
                }
                ck_assert_msg(d ? !memcmp(gotd, wantd, (size_t)n * sizeof *gotd)
                                : !memcmp(got, want, (size_t)n * sizeof *got),
                              "normals: %lld draws in [%g, %g]: values differ (%s)",
                              (long long)n, lo, hi, d ? "double" : "float");
                ck_assert_msg(!memcmp(&r1, &r2, sizeof r1),
                              "normals: %lld draws in [%g, %g]: generator state differs",
                              (long long)n, lo, hi);
            }
        }
    }
    /* a million doubles (floats hide a last-bit difference), and the values
     * pinned: a hash of 4099 draws from seed 2026, as every version since
     * the weights' init was written has drawn them */
    const int64_t big = (int64_t)1 << 20;
    double *a = ref_dalloc(big), *b = ref_dalloc(big);
    ijepa__rng r1, r2;
    ijepa__rng_seed(&r1, 5);
    ijepa__rng_seed(&r2, 5);
    ijepa__rng_normals(&r1, big, 1.0, -3.0, 3.0, NULL, a);
    for (int64_t i = 0; i < big; i++) {
        do {
            b[i] = ijepa__rng_normal(&r2);
        } while (b[i] < -3.0 || b[i] > 3.0);
    }
    ck_assert_msg(!memcmp(a, b, (size_t)big * sizeof *a) && !memcmp(&r1, &r2, sizeof r1),
                  "normals: a million draws differ from the one-by-one draws");
    ijepa__rng_seed(&r1, 2026);
    ijepa__rng_normals(&r1, 4099, 1.0, -2.0, 2.0, NULL, a);
    uint64_t h = 1469598103934665603ull; /* FNV-1a over the doubles' bytes */
    const unsigned char *by = (const unsigned char *)a;
    for (size_t i = 0; i < 4099 * sizeof *a; i++) {
        h ^= by[i];
        h *= 1099511628211ull;
    }
    ck_assert_msg(h == 0xcf567d00661ba5c6ull && r1.s[0] == 0x7a3ff9eef3b932d9ull,
                  "normals of seed 2026: hash %016llx, state %016llx: not the pinned values",
                  (unsigned long long)h, (unsigned long long)r1.s[0]);
    free(got);
    free(want);
    free(gotd);
    free(wantd);
    free(a);
    free(b);
}

START_TEST(test_rng_normals)
{
    const int was = ijepa__rng_normals_wide(-1);
    for (int wide = 0; wide < 2; wide++) { /* one by one, then eight at a time */
        ijepa__rng_normals_wide(wide);
        rng_normals_checks();
    }
    ijepa__rng_normals_wide(was);
}
END_TEST

// --- table ---------------------------------------------------------------------------

/* The official state-dict of the encoder (ijepa-official.md 1.2), in order. */
START_TEST(test_tensor_table)
{
    const spec *s = _i == 0 ? &SPEC_A : &SPEC_B;
    enc_fx f;
    efx_open(&f, s);
    const int64_t D = s->D, N = f.N, Hd = (int64_t)((double)D * s->mlp_ratio), p = s->patch;
    want_table want = {.n = 0};
    want_add(&want, 3, 1, N, D, 1, "pos_embed");
    want_add(&want, 4, D, s->chans, p, p, "patch_embed.proj.weight");
    want_add(&want, 1, D, 1, 1, 1, "patch_embed.proj.bias");
    want_vit_blocks(&want, "blocks", s->depth, D, Hd, s->qkv_bias);
    want_add(&want, 1, D, 1, 1, 1, "norm.weight");
    want_add(&want, 1, D, 1, 1, 1, "norm.bias");
    expect_tensor_table(f.tab, f.count, &want, "pos_embed");
    const int nw = want.n;
    /* out of range and unknown names */
    int64_t idx = 7;
    ck_assert_ptr_null(ijepa_tensor_table_name(f.tab, nw));
    ck_assert_ptr_null(ijepa_tensor_table_name(f.tab, -1));
    ck_assert_int_eq(ijepa_tensor_table_info(f.tab, nw, NULL, NULL, NULL, NULL, NULL),
                     IJEPA_ERR_INVALID_ARG);
    ck_assert_int_eq(ijepa_tensor_table_info(f.tab, -1, NULL, NULL, NULL, NULL, NULL),
                     IJEPA_ERR_INVALID_ARG);
    ck_assert_int_eq(ijepa_tensor_table_find(f.tab, "blocks.99.norm1.weight", &idx),
                     IJEPA_ERR_INVALID_ARG);
    ck_assert_msg(strstr(ijepa_last_error(), "ijepa_tensor_table_find") != NULL,
                  "message '%s' does not name the function", ijepa_last_error());
    ck_assert_int_eq(ijepa_tensor_table_find(f.tab, "pos_embe", &idx), IJEPA_ERR_INVALID_ARG);
    ck_assert_int_eq(ijepa_tensor_table_count(NULL), 0);
    ck_assert_int_eq(ijepa_tensor_table_buffer_size(NULL), 0);
    ck_assert_ptr_null(ijepa_tensor_table_name(NULL, 0));
    ck_assert_int_eq(ijepa_tensor_table_info(NULL, 0, NULL, NULL, NULL, NULL, NULL),
                     IJEPA_ERR_INVALID_ARG);
    ck_assert_int_eq(ijepa_tensor_table_find(NULL, "pos_embed", &idx), IJEPA_ERR_INVALID_ARG);
    enc_fx_close(&f);
}
END_TEST

// --- errors ---------------------------------------------------------------------------

START_TEST(test_free_null)
{
    ijepa_encoder_free(NULL);
    ijepa_context_free(NULL);
    ijepa_config_free(NULL);
    /* NULL getters */
    ck_assert_int_eq(ijepa_encoder_num_patches(NULL), 0);
    ck_assert_int_eq(ijepa_encoder_embed_dim(NULL), 0);
    ck_assert_ptr_null(ijepa_encoder_tensors(NULL));
    ck_assert_ptr_null(ijepa_encoder_config(NULL));
    ck_assert_ptr_nonnull(ijepa_last_error());
}
END_TEST

/* create: NULL arguments and inconsistent or out-of-range configs */
START_TEST(test_create_errors)
{
    ijepa_context *ctx = NULL;
    ck_assert_int_eq(ijepa_context_create(&ctx), IJEPA_OK);
    ijepa_config *cfg = spec_config(&SPEC_A);
    ijepa_encoder *enc = NULL;
    const char *F = "ijepa_encoder_create";

    expect_err(ijepa_encoder_create(NULL, ctx, cfg), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), F, "NULL out");
    expect_err(ijepa_encoder_create(&enc, NULL, cfg), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), F, "NULL context");
    expect_err(ijepa_encoder_create(&enc, ctx, NULL), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), F, "NULL config");

    /* img_size not a multiple of patch_size */
    ck_assert_int_eq(ijepa_config_set_int(cfg, IJEPA_CFG_IMG_SIZE, 10), IJEPA_OK);
    ck_assert_int_eq(ijepa_config_set_int(cfg, IJEPA_CFG_PATCH_SIZE, 4), IJEPA_OK);
    expect_err(ijepa_encoder_create(&enc, ctx, cfg), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), F, "img 10 patch 4");
    ck_assert_int_eq(ijepa_config_set_int(cfg, IJEPA_CFG_IMG_SIZE, 8), IJEPA_OK);
    ck_assert_int_eq(ijepa_config_set_int(cfg, IJEPA_CFG_PATCH_SIZE, 2), IJEPA_OK);
    /* embed_dim not a multiple of num_heads */
    ck_assert_int_eq(ijepa_config_set_int(cfg, IJEPA_CFG_EMBED_DIM, 20), IJEPA_OK);
    ck_assert_int_eq(ijepa_config_set_int(cfg, IJEPA_CFG_NUM_HEADS, 3), IJEPA_OK);
    expect_err(ijepa_encoder_create(&enc, ctx, cfg), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), F, "dim 20 heads 3");
    /* embed_dim not a multiple of 4 */
    ck_assert_int_eq(ijepa_config_set_int(cfg, IJEPA_CFG_EMBED_DIM, 18), IJEPA_OK);
    ck_assert_int_eq(ijepa_config_set_int(cfg, IJEPA_CFG_NUM_HEADS, 2), IJEPA_OK);
    expect_err(ijepa_encoder_create(&enc, ctx, cfg), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), F, "dim 18");
    /* the config still works once consistent */
    ck_assert_int_eq(ijepa_config_set_int(cfg, IJEPA_CFG_EMBED_DIM, 16), IJEPA_OK);
    ck_assert_int_eq(ijepa_encoder_create(&enc, ctx, cfg), IJEPA_OK);
    ijepa_encoder_free(enc);

    /* config keys: unknown, wrong type, out of range, non-finite */
    const char *S = "ijepa_config_set_int", *SF = "ijepa_config_set_float";
    int64_t before;
    ck_assert_int_eq(ijepa_config_get_int(cfg, IJEPA_CFG_EMBED_DIM, &before), IJEPA_OK);
    expect_err(ijepa_config_set_int(cfg, 9999, 1), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), S, "unknown key 9999");
    expect_err(ijepa_config_set_int(cfg, 199, 1), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), S, "unknown key 199");
    expect_err(ijepa_config_set_int(cfg, IJEPA_CFG_MLP_RATIO, 4), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), S, "int to a float key");
    expect_err(ijepa_config_set_float(cfg, IJEPA_CFG_EMBED_DIM, 16.0), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), SF, "float to an int key");
    expect_err(ijepa_config_set_int(cfg, IJEPA_CFG_EMBED_DIM, 3), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), S, "embed_dim 3");
    expect_err(ijepa_config_set_int(cfg, IJEPA_CFG_IMG_SIZE, 0), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), S, "img_size 0");
    expect_err(ijepa_config_set_int(cfg, IJEPA_CFG_QKV_BIAS, 2), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), S, "qkv_bias 2");
    expect_err(ijepa_config_set_float(cfg, IJEPA_CFG_INIT_STD, 1.5), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), SF, "init_std 1.5");
    expect_err(ijepa_config_set_float(cfg, IJEPA_CFG_MLP_RATIO, NAN), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), SF, "mlp_ratio NaN");
    int64_t after;
    ck_assert_int_eq(ijepa_config_get_int(cfg, IJEPA_CFG_EMBED_DIM, &after), IJEPA_OK);
    ck_assert_int_eq(after, before);
    int32_t key;
    expect_err(ijepa_config_key_from_name("embed_dims", &key), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), "ijepa_config_key_from_name", "unknown key name");

    ijepa_config_free(cfg);
    ijepa_context_free(ctx);
}
END_TEST

START_TEST(test_forward_errors)
{
    const spec *s = &SPEC_A;
    enc_fx f;
    efx_open(&f, s);
    const int64_t B = s->batch, n = (B + 1) * f.N * f.D;
    float *im = images_new(s, B + 1, 1), *out = ref_falloc(n);
    int32_t *keep = random_keep(B, 4, f.N, 2);
    const char *F = "ijepa_encoder_forward";
    for (int64_t i = 0; i < n; i++) out[i] = 42.0f;
#define FWD(enc, im_, b, k, nk, o, mode) ijepa_encoder_forward(enc, im_, b, k, nk, o, mode)
    expect_err(FWD(NULL, im, B, NULL, 0, out, 0), IJEPA_ERR_INVALID_ARG, ijepa_last_error(),
               F, "NULL encoder");
    const char *msg = ijepa_last_error();
    expect_err(FWD(f.enc, NULL, B, NULL, 0, out, 0), IJEPA_ERR_INVALID_ARG, msg, F,
               "NULL images");
    expect_err(FWD(f.enc, im, B, NULL, 0, NULL, 0), IJEPA_ERR_INVALID_ARG, msg, F, "NULL out");
    expect_err(FWD(f.enc, im, 0, NULL, 0, out, 0), IJEPA_ERR_INVALID_ARG, msg, F, "batch 0");
    expect_err(FWD(f.enc, im, -1, NULL, 0, out, 0), IJEPA_ERR_INVALID_ARG, msg, F, "batch -1");
    expect_err(FWD(f.enc, im, B + 1, NULL, 0, out, 0), IJEPA_ERR_INVALID_ARG, msg, F,
               "batch > batch_size");
    expect_err(FWD(f.enc, im, B, keep, 0, out, 0), IJEPA_ERR_INVALID_ARG, msg, F, "n_keep 0");
    expect_err(FWD(f.enc, im, B, keep, f.N + 1, out, 0), IJEPA_ERR_INVALID_ARG, msg, F,
               "n_keep N + 1");
    expect_err(FWD(f.enc, im, B, NULL, 0, out, 7), IJEPA_ERR_INVALID_ARG, msg, F, "mode 7");
    keep[5] = -1;
    expect_err(FWD(f.enc, im, B, keep, 4, out, 0), IJEPA_ERR_INVALID_ARG, msg, F,
               "keep index -1");
    keep[5] = (int32_t)f.N;
    expect_err(FWD(f.enc, im, B, keep, 4, out, 1), IJEPA_ERR_INVALID_ARG, msg, F,
               "keep index N");
    int64_t w = first_not(out, n, 42.0f);
    ck_assert_msg(w < 0, "a failed forward wrote out[%lld]", (long long)w);
    /* the encoder still works */
    keep[5] = 0;
    ck_assert_int_eq(FWD(f.enc, im, B, keep, 4, out, 1), IJEPA_OK);
#undef FWD
    free(im); free(out); free(keep);
    enc_fx_close(&f);
}
END_TEST

/* backward: IJEPA_ERR_STATE without a kept TRAIN forward */
START_TEST(test_backward_errors)
{
    const spec *s = &SPEC_A;
    enc_fx f;
    efx_open(&f, s);
    const int64_t B = 2, n = B * f.N * f.D;
    float *im = images_new(s, B, 3), *out = ref_falloc(n), *d = ref_falloc(n);
    const char *F = "ijepa_encoder_backward";
    for (int64_t i = 0; i < n; i++) d[i] = 1.0f;

    expect_err(ijepa_encoder_backward(f.enc, d), IJEPA_ERR_STATE,
               ijepa_last_error(), F, "backward before any forward");
    ck_assert_int_eq(ijepa_encoder_forward(f.enc, im, B, NULL, 0, out, IJEPA_FORWARD_INFERENCE), 0);
    expect_err(ijepa_encoder_backward(f.enc, d), IJEPA_ERR_STATE,
               ijepa_last_error(), F, "backward after an INFERENCE forward");
    ck_assert_int_eq(ijepa_encoder_forward(f.enc, im, B, NULL, 0, out, IJEPA_FORWARD_TRAIN), 0);
    ck_assert_int_eq(ijepa_encoder_forward(f.enc, im, B, NULL, 0, out, IJEPA_FORWARD_INFERENCE), 0);
    expect_err(ijepa_encoder_backward(f.enc, d), IJEPA_ERR_STATE,
               ijepa_last_error(), F, "INFERENCE forward after a TRAIN one");
    ck_assert_int_eq(ijepa_encoder_forward(f.enc, im, B, NULL, 0, out, IJEPA_FORWARD_TRAIN), 0);
    ck_assert_int_eq(ijepa_encoder_init_params(f.enc, 3), IJEPA_OK);
    expect_err(ijepa_encoder_backward(f.enc, d), IJEPA_ERR_STATE,
               ijepa_last_error(), F, "backward after init_params");
    int64_t nz = first_not(f.grads, f.count, 0.0f);
    ck_assert_msg(nz < 0, "a refused backward wrote gradient %lld", (long long)nz);

    ck_assert_int_eq(ijepa_encoder_forward(f.enc, im, B, NULL, 0, out, IJEPA_FORWARD_TRAIN), 0);
    expect_err(ijepa_encoder_backward(f.enc, NULL), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), F, "NULL d_out");
    expect_err(ijepa_encoder_backward(NULL, d), IJEPA_ERR_INVALID_ARG, ijepa_last_error(), F,
               "NULL encoder");
    ck_assert_int_eq(ijepa_encoder_backward(f.enc, d), IJEPA_OK);

    /* the other entry points with NULL */
    float *p;
    int64_t cnt;
    expect_err(ijepa_encoder_zero_grad(NULL), IJEPA_ERR_INVALID_ARG, ijepa_last_error(),
               "ijepa_encoder_zero_grad", "zero_grad NULL");
    expect_err(ijepa_encoder_init_params(NULL, 1), IJEPA_ERR_INVALID_ARG, ijepa_last_error(),
               "ijepa_encoder_init_params", "init_params NULL");
    expect_err(ijepa_encoder_params(NULL, &p, &cnt), IJEPA_ERR_INVALID_ARG, ijepa_last_error(),
               "ijepa_encoder_params", "params NULL encoder");
    expect_err(ijepa_encoder_params(f.enc, NULL, &cnt), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), "ijepa_encoder_params", "params NULL data");
    expect_err(ijepa_encoder_grads(f.enc, &p, NULL), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), "ijepa_encoder_grads", "grads NULL count");
    expect_err(ijepa_encoder_grads(NULL, &p, &cnt), IJEPA_ERR_INVALID_ARG, ijepa_last_error(),
               "ijepa_encoder_grads", "grads NULL encoder");
    free(im); free(out); free(d);
    enc_fx_close(&f);
}
END_TEST

/* trainable = 0: TRAIN forwards fail with IJEPA_ERR_STATE; INFERENCE works
 * and matches a trainable encoder with the same seed. */
START_TEST(test_not_trainable)
{
    const spec *s = &SPEC_A;
    ijepa_config *cfg = spec_config(s);
    ck_assert_int_eq(ijepa_config_set_int(cfg, IJEPA_CFG_TRAINABLE, 0), IJEPA_OK);
    enc_fx f, g;
    enc_fx_open(&f, cfg);
    efx_open(&g, s);
    /* no gradient buffer (nor activations for a backward): at least the
     * parameters' size less, and nothing to borrow */
    ck_assert_int_ge(ijepa_encoder_memory_bytes(g.enc) - ijepa_encoder_memory_bytes(f.enc),
                     f.count * (int64_t)sizeof(float));
    float *gp = (float *)1;
    int64_t gn = 5;
    expect_err(ijepa_encoder_grads(f.enc, &gp, &gn), IJEPA_ERR_STATE, ijepa_last_error(),
               "ijepa_encoder_grads", "trainable = 0");
    ck_assert_ptr_null(gp);
    ck_assert_int_eq(gn, 0);
    const int64_t B = 2, n = B * f.N * f.D;
    float *im = images_new(s, B, 4), *o1 = ref_falloc(n), *o2 = ref_falloc(n);
    expect_err(ijepa_encoder_forward(f.enc, im, B, NULL, 0, o1, IJEPA_FORWARD_TRAIN),
               IJEPA_ERR_STATE, ijepa_last_error(), "ijepa_encoder_forward",
               "TRAIN forward with trainable = 0");
    ck_assert_int_eq(ijepa_encoder_forward(f.enc, im, B, NULL, 0, o1, IJEPA_FORWARD_INFERENCE), 0);
    ck_assert_int_eq(ijepa_encoder_forward(g.enc, im, B, NULL, 0, o2, IJEPA_FORWARD_INFERENCE), 0);
    double *d2 = ref_dalloc(n);
    ref_f2d(d2, o2, n);
    ref_cmp c = ref_compare_f(o1, d2, n, 1e-6, 0, NULL);
    expect_close(&c, "trainable 0 vs 1, same seed, INFERENCE");
    ck_assert_int_eq(ijepa_encoder_zero_grad(f.enc), IJEPA_OK); /* nothing to zero */
    ck_assert_int_eq(ijepa_encoder_init_params(f.enc, 3), IJEPA_OK);
    free(im); free(o1); free(o2); free(d2);
    enc_fx_close(&f);
    enc_fx_close(&g);
}
END_TEST

// --- suite ---------------------------------------------------------------------------------

Suite *ijepa_encoder_suite(void)
{
    Suite *s = suite_create("encoder");

    TCase *tc = add_tcase(s, "core", IJEPA_TEST_TIMEOUT);
    tcase_add_loop_test(tc, test_forward_vs_ref, 0, 2);
    tcase_add_loop_test(tc, test_forward_masked_vs_ref, 0, 2);
    tcase_add_test(tc, test_full_keep_is_unmasked);

    tc = add_tcase(s, "grad", IJEPA_TEST_TIMEOUT);
    tcase_add_loop_test(tc, test_grad_fd, 0, (int)COUNT_OF(grad_cases));
    tcase_add_test(tc, test_backward_accumulates);

    tc = add_tcase(s, "init", IJEPA_TEST_TIMEOUT);
    tcase_add_loop_test(tc, test_pos_embed, 0, 2);
    tcase_add_loop_test(tc, test_init_stats, 0, 2);
    tcase_add_test(tc, test_init_patch_std);
    tcase_add_test(tc, test_init_depth_rescale);
    tcase_add_test(tc, test_seeds);
    tcase_add_test(tc, test_rng_normals);

    tc = add_tcase(s, "table", IJEPA_TEST_TIMEOUT);
    tcase_add_loop_test(tc, test_tensor_table, 0, 2);

    tc = add_tcase(s, "errors", IJEPA_TEST_TIMEOUT);
    tcase_add_test(tc, test_free_null);
    tcase_add_test(tc, test_create_errors);
    tcase_add_test(tc, test_forward_errors);
    tcase_add_test(tc, test_backward_errors);
    tcase_add_test(tc, test_not_trainable);
    return s;
}
