/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * Implements: suite "trainer" — include/ijepa/trainer.h: the composed
 * I-JEPA step on a tiny model.
 *
 * TCases:
 *   train     a few dozen steps on one fixed batch of structured images
 *             (blobs and stripes): the loss falls clearly, the collapse
 *             monitor stays near its start, stats are finite and consistent
 *             with the schedules at every step, the step count advances,
 *             the masks are the sampler's
 *   step      the first step: the target encoder starts bit-identical to the
 *             context encoder; lr / wd / momentum are the schedule functions
 *             at the official step conventions (lr and wd at step 1, momentum
 *             at i = 0); afterwards target = m initial + (1 - m) updated
 *             context encoder, elementwise; the first TARGET_STD is the
 *             monitor of the initial target encoder's output
 *   determinism  two trainers, same config and data: bit-identical
 *             parameters and losses after N steps
 *   numeric   a NaN pixel: IJEPA_ERR_NUMERIC and nothing changed (all three
 *             models bitwise, step count, stats); the next good step equals
 *             that of a trainer that never saw the NaN (so the optimizer
 *             state was not touched either)
 *   split     ijepa_trainer_compute() + ijepa_trainer_apply(): on the whole
 *             batch bit-identical to ijepa_trainer_step(); three workers on
 *             unequal slices (one empty), summing gradients and partials by
 *             hand, against one trainer on the whole batch (both mask
 *             modes); a NaN in one worker's slice fails every apply alike
 *             and changes nothing; call order and slice errors
 *   errors    NULLs, batch out of range, stat before any step, unknown stat,
 *             warmup_steps > total_steps, _free(NULL)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_ijepa.h"
#include "ijepa/ijepa.h"
#include "ijepa/loss.h"
#include "ijepa/mask.h"
#include "ijepa/optim.h"
#include "ijepa/trainer.h"
#include "ref.h"
#include "helpers.h"

// --- configuration and helpers ---------------------------------------------------------

/* img 16, patch 4 (16 tokens), 3 channels, D 32, 2 blocks of 2 heads;
 * predictor Dp 16, 1 block; batch 8; 2 target blocks of 25-35% of the grid
 * (4-6 patches, so every block keeps more than min_keep 2), contexts of ~8
 * patches; 40 total steps with 5 of warmup at peak lr 3e-3 (the tiny model
 * learns visibly within the run); EMA 0.996 -> 1 and the other keys as
 * official. */
#define IMG 16
#define CHANS 3
#define BATCH 8
#define TOTAL_STEPS 40
#define WARMUP 5

static ijepa_config *trainer_config(uint64_t seed)
{
    const cfg_int iv[] = {
        {IJEPA_CFG_IMG_SIZE, IMG},        {IJEPA_CFG_PATCH_SIZE, 4},
        {IJEPA_CFG_IN_CHANS, CHANS},      {IJEPA_CFG_EMBED_DIM, 32},
        {IJEPA_CFG_DEPTH, 2},             {IJEPA_CFG_NUM_HEADS, 2},
        {IJEPA_CFG_PRED_EMBED_DIM, 16},   {IJEPA_CFG_PRED_DEPTH, 1},
        {IJEPA_CFG_BATCH_SIZE, BATCH},    {IJEPA_CFG_MIN_KEEP, 2},
        {IJEPA_CFG_NUM_TARGETS, 2},       {IJEPA_CFG_TOTAL_STEPS, TOTAL_STEPS},
        {IJEPA_CFG_WARMUP_STEPS, WARMUP}, {IJEPA_CFG_SEED, (int64_t)seed},
    };
    const cfg_float fv[] = {
        {IJEPA_CFG_TARGET_SCALE_MIN, 0.25}, {IJEPA_CFG_TARGET_SCALE_MAX, 0.35},
        {IJEPA_CFG_LR_START, 6e-4},         {IJEPA_CFG_LR, 3e-3},
    };
    return config_with(iv, COUNT_OF(iv), fv, COUNT_OF(fv));
}

/*
 * Structured images [B, CHANS, IMG, IMG]: per image three Gaussian blobs of
 * random centre, width 1.5-4.5 px and amplitude in [-1, 1] (shared by the
 * channels), plus an oriented sinusoidal stripe pattern with a random
 * per-channel weight. Smooth, with structure a patch's neighbours predict.
 */
static float *images_new(int64_t B, uint64_t seed)
{
    float *im = ref_falloc(B * CHANS * IMG * IMG);
    ck_assert_ptr_nonnull(im);
    ref_rng rng;
    ref_rng_seed(&rng, seed);
    for (int64_t b = 0; b < B; b++) {
        double cx[3], cy[3], w[3], a[3];
        for (int k = 0; k < 3; k++) {
            cx[k] = ref_rng_range(&rng, 0, IMG);
            cy[k] = ref_rng_range(&rng, 0, IMG);
            w[k] = ref_rng_range(&rng, 1.5, 4.5);
            a[k] = ref_rng_range(&rng, -1, 1);
        }
        const double th = ref_rng_range(&rng, 0, 3.14159265358979);
        const double fr = ref_rng_range(&rng, 0.3, 1.1), ph = ref_rng_range(&rng, 0, 6.2831853);
        for (int64_t c = 0; c < CHANS; c++) {
            const double cw = ref_rng_range(&rng, -1, 1);
            for (int64_t y = 0; y < IMG; y++)
                for (int64_t x = 0; x < IMG; x++) {
                    double v = 0;
                    for (int k = 0; k < 3; k++) {
                        const double dx = (double)x - cx[k], dy = (double)y - cy[k];
                        v += a[k] * exp(-(dx * dx + dy * dy) / (2 * w[k] * w[k]));
                    }
                    v += 0.5 * cw * sin(fr * ((double)x * cos(th) + (double)y * sin(th)) + ph);
                    im[((b * CHANS + c) * IMG + y) * IMG + x] = (float)v;
                }
        }
    }
    return im;
}

typedef struct tfx {
    ijepa_context *ctx;
    ijepa_config *cfg;
    ijepa_trainer *tr;
    ijepa_encoder *enc, *tgt;
    ijepa_predictor *pred;
    float *pe, *pt, *pp; /* context encoder, target encoder, predictor parameters */
    int64_t ne, np;
} tfx;

/* A trainer of trainer_config(seed) with mask_mode set to mask_mode. */
static void tfx_open_mode(tfx *f, uint64_t seed, int64_t mask_mode)
{
    memset(f, 0, sizeof *f);
    f->cfg = trainer_config(seed);
    ck_assert_int_eq(ijepa_config_set_int(f->cfg, IJEPA_CFG_MASK_MODE, mask_mode), IJEPA_OK);
    ck_assert_int_eq(ijepa_context_create(&f->ctx), IJEPA_OK);
    int rc = ijepa_trainer_create(&f->tr, f->ctx, f->cfg);
    ck_assert_msg(rc == IJEPA_OK, "ijepa_trainer_create: %d %s", rc, ijepa_last_error());
    f->enc = ijepa_trainer_context_encoder(f->tr);
    f->tgt = ijepa_trainer_target_encoder(f->tr);
    f->pred = ijepa_trainer_predictor(f->tr);
    ck_assert(f->enc && f->tgt && f->pred && f->enc != f->tgt);
    int64_t n2;
    ck_assert_int_eq(ijepa_encoder_params(f->enc, &f->pe, &f->ne), IJEPA_OK);
    ck_assert_int_eq(ijepa_encoder_params(f->tgt, &f->pt, &n2), IJEPA_OK);
    ck_assert_int_eq(n2, f->ne);
    ck_assert_int_eq(ijepa_predictor_params(f->pred, &f->pp, &f->np), IJEPA_OK);
}

static void tfx_open(tfx *f, uint64_t seed)
{
    tfx_open_mode(f, seed, IJEPA_MASK_UNIFORM);
}

static void tfx_close(tfx *f)
{
    ijepa_trainer_free(f->tr);
    ijepa_context_free(f->ctx);
    ijepa_config_free(f->cfg);
    memset(f, 0, sizeof *f);
}

/* A copy of the three parameter buffers. */
typedef struct snap {
    float *pe, *pt, *pp;
    int64_t ne, np;
} snap;

static void snap_take(snap *s, const tfx *f)
{
    s->ne = f->ne;
    s->np = f->np;
    s->pe = ref_falloc(f->ne);
    s->pt = ref_falloc(f->ne);
    s->pp = ref_falloc(f->np);
    ck_assert(s->pe && s->pt && s->pp);
    memcpy(s->pe, f->pe, (size_t)f->ne * sizeof(float));
    memcpy(s->pt, f->pt, (size_t)f->ne * sizeof(float));
    memcpy(s->pp, f->pp, (size_t)f->np * sizeof(float));
}

static void snap_free(snap *s)
{
    free(s->pe);
    free(s->pt);
    free(s->pp);
}

/* Index of the first float whose bits differ, or -1. */
static int64_t first_diff(const float *a, const float *b, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        if (memcmp(&a[i], &b[i], sizeof(float)) != 0) return i;
    return -1;
}

/* The three models of f equal snapshot s bit for bit. */
static void expect_same_params(const tfx *f, const snap *s, const char *what)
{
    const struct { const char *model; const float *got, *want; int64_t n; } m[3] = {
        {"context encoder", f->pe, s->pe, f->ne},
        {"target encoder", f->pt, s->pt, f->ne},
        {"predictor", f->pp, s->pp, f->np},
    };
    for (int k = 0; k < 3; k++) {
        const int64_t i = first_diff(m[k].got, m[k].want, m[k].n);
        ck_assert_msg(i < 0, "%s: %s parameter %lld differs (%.9g vs %.9g)", what, m[k].model,
                      (long long)i, i < 0 ? 0.0 : (double)m[k].got[i],
                      i < 0 ? 0.0 : (double)m[k].want[i]);
    }
}

static double tstat(const ijepa_trainer *tr, int32_t which)
{
    double v = NAN;
    int rc = ijepa_trainer_stat(tr, which, &v);
    ck_assert_msg(rc == IJEPA_OK, "ijepa_trainer_stat(%d): %d %s", (int)which, rc,
                  ijepa_last_error());
    return v;
}

static double cfg_f(const ijepa_config *c, int32_t key)
{
    double v;
    ck_assert_int_eq(ijepa_config_get_float(c, key, &v), IJEPA_OK);
    return v;
}

/* The schedules of the config at the official conventions for the step
 * that completes step count k (k >= 1): lr and wd at scheduler step k,
 * momentum at i = k - 1. */
static void schedules_at(const ijepa_config *c, int64_t k, double *lr, double *wd, double *m)
{
    *lr = ijepa_schedule_lr(k, WARMUP, TOTAL_STEPS, cfg_f(c, IJEPA_CFG_LR_START),
                            cfg_f(c, IJEPA_CFG_LR), cfg_f(c, IJEPA_CFG_LR_FINAL));
    *wd = ijepa_schedule_weight_decay(k, TOTAL_STEPS, cfg_f(c, IJEPA_CFG_WEIGHT_DECAY),
                                      cfg_f(c, IJEPA_CFG_WEIGHT_DECAY_FINAL));
    *m = ijepa_schedule_momentum(k - 1, TOTAL_STEPS, cfg_f(c, IJEPA_CFG_EMA_START),
                                 cfg_f(c, IJEPA_CFG_EMA_END));
}

/* The masks of the last step are consistent with the stats and are the
 * sampler's masks of that step: a fresh sampler from the same config,
 * sampled at step (step_count - 1) with the same batch, gives them exactly. */
static void expect_masks(const tfx *f, int64_t B)
{
    const int32_t *ctx = NULL, *tgt = NULL;
    int64_t nc = -1, nt = -1, b = -1;
    int rc = ijepa_trainer_masks(f->tr, &ctx, &nc, &tgt, &nt, &b);
    ck_assert_msg(rc == IJEPA_OK, "ijepa_trainer_masks: %d %s", rc, ijepa_last_error());
    ck_assert(ctx && tgt);
    ck_assert_int_eq(b, B);
    ck_assert_int_eq(nc, (int64_t)tstat(f->tr, IJEPA_STAT_N_CONTEXT));
    ck_assert_int_eq(nt, (int64_t)tstat(f->tr, IJEPA_STAT_N_TARGET));
    const int64_t N = ijepa_encoder_num_patches(f->enc), M = 2;
    ck_assert_msg(nc > 2 && nc <= N && nt > 2 && nt <= N, "n_context %lld, n_target %lld",
                  (long long)nc, (long long)nt);
    int64_t bad = 0;
    for (int64_t i = 0; i < B * nc; i++)
        bad += ctx[i] < 0 || ctx[i] >= N || (i % nc > 0 && ctx[i] <= ctx[i - 1]);
    for (int64_t i = 0; i < M * B * nt; i++)
        bad += tgt[i] < 0 || tgt[i] >= N || (i % nt > 0 && tgt[i] <= tgt[i - 1]);
    ck_assert_msg(bad == 0, "%lld mask indices out of range or not ascending", (long long)bad);
    ijepa_mask_sampler *ms = NULL;
    ck_assert_int_eq(ijepa_mask_sampler_create(&ms, f->cfg), IJEPA_OK);
    int32_t *c2 = malloc((size_t)(B * N) * sizeof(int32_t));
    int32_t *t2 = malloc((size_t)(M * B * N) * sizeof(int32_t));
    int64_t nc2, nt2;
    ck_assert_int_eq(ijepa_mask_sampler_sample(ms, B, (uint64_t)(ijepa_trainer_step_count(f->tr) - 1),
                                               c2, &nc2, t2, &nt2), IJEPA_OK);
    ck_assert_int_eq(nc2, nc);
    ck_assert_int_eq(nt2, nt);
    ck_assert_msg(memcmp(c2, ctx, (size_t)(B * nc) * sizeof(int32_t)) == 0,
                  "context mask differs from the sampler's for this step");
    ck_assert_msg(memcmp(t2, tgt, (size_t)(M * B * nt) * sizeof(int32_t)) == 0,
                  "target masks differ from the sampler's for this step");
    /* any out-pointer may be NULL */
    int64_t nc3 = -1;
    ck_assert_int_eq(ijepa_trainer_masks(f->tr, NULL, &nc3, NULL, NULL, NULL), IJEPA_OK);
    ck_assert_int_eq(nc3, nc);
    free(c2);
    free(t2);
    ijepa_mask_sampler_free(ms);
}

// --- train: the loss falls ------------------------------------------------------------

/*
 * Thresholds, from the measured run (first loss ~0.46, mean of the last 5
 * ~0.10 with smooth-L1; TARGET_STD ~0.021 throughout):
 *   - mean loss of the last 5 steps < 0.6 x the first step's loss. The first
 *     loss is that of an untrained predictor against unit-variance targets;
 *     a model that does not learn (no gradient reaches a tensor group, wrong
 *     sign of the update, lr not applied) stays within ~10% of it.
 *   - TARGET_STD at every step within [0.5, 2] x its first value, and
 *     > 1e-3. The target encoder is an EMA with momentum >= 0.996: over 40
 *     steps it moves at most 1 - 0.996^40 ~ 15% of the way to the context
 *     encoder, so its features (and their spread over the batch) can change
 *     only by a fraction, never collapse to a constant here; the first
 *     value is that of 8 distinct images through a random encoder, far
 *     from 0 (a broken monitor returns 0 or NaN).
 */
#define LOSS_DROP 0.6
#define STD_LO 0.5
#define STD_HI 2.0

START_TEST(test_train_loss_falls)
{
    tfx f;
    tfx_open(&f, 7);
    float *im = images_new(BATCH, 100);
    double loss[TOTAL_STEPS], tstd[TOTAL_STEPS];
    int64_t bad_stat = 0, bad_sched = 0, bad_count = 0;
    char first_bad[256] = "";
    for (int k = 0; k < TOTAL_STEPS; k++) {
        double L = NAN;
        int rc = ijepa_trainer_step(f.tr, im, BATCH, &L);
        ck_assert_msg(rc == IJEPA_OK, "step %d: %d %s", k, rc, ijepa_last_error());
        bad_count += ijepa_trainer_step_count(f.tr) != k + 1;
        loss[k] = L;
        tstd[k] = tstat(f.tr, IJEPA_STAT_TARGET_STD);
        double lr, wd, m;
        schedules_at(f.cfg, k + 1, &lr, &wd, &m);
        const double st[8] = {tstat(f.tr, IJEPA_STAT_LOSS), tstd[k], tstat(f.tr, IJEPA_STAT_LR),
                              tstat(f.tr, IJEPA_STAT_WEIGHT_DECAY), tstat(f.tr, IJEPA_STAT_MOMENTUM),
                              tstat(f.tr, IJEPA_STAT_N_CONTEXT), tstat(f.tr, IJEPA_STAT_N_TARGET),
                              tstat(f.tr, IJEPA_STAT_GRAD_NORM)};
        for (int j = 0; j < 8; j++)
            if (!isfinite(st[j]) || st[j] < 0) {
                if (!bad_stat++)
                    snprintf(first_bad, sizeof first_bad, "step %d: stat %d = %g", k, j + 1, st[j]);
            }
        if (st[0] != L || st[2] != lr || st[3] != wd || st[4] != m || !(st[7] > 0)) {
            if (!bad_sched++ && !bad_stat)
                snprintf(first_bad, sizeof first_bad,
                         "step %d: loss %.9g (returned %.9g), lr %.9g (schedule %.9g), wd %.9g "
                         "(%.9g), momentum %.9g (%.9g), grad norm %g", k, st[0], L, st[2], lr,
                         st[3], wd, st[4], m, st[7]);
        }
        if (k == 0 || k == TOTAL_STEPS - 1) expect_masks(&f, BATCH);
        if (getenv("IJEPA_TEST_VERBOSE"))
            fprintf(stderr, "step %2d loss %.6f target_std %.6f lr %.3e wd %.4f m %.5f nc %g "
                    "nt %g grad_norm %.4f\n", k, L, tstd[k], st[2], st[3], st[4], st[5], st[6],
                    st[7]);
    }
    ck_assert_msg(bad_count == 0, "step count did not advance by one per step");
    ck_assert_msg(bad_stat == 0 && bad_sched == 0, "%lld non-finite / negative stats, %lld "
                  "steps off the schedules; first: %s", (long long)bad_stat, (long long)bad_sched,
                  first_bad);
    double tail = 0;
    for (int k = TOTAL_STEPS - 5; k < TOTAL_STEPS; k++) tail += loss[k] / 5;
    ck_assert_msg(tail < LOSS_DROP * loss[0], "loss did not fall: first %.6f, mean of the last 5 "
                  "%.6f (want < %.2f x first)", loss[0], tail, LOSS_DROP);
    ck_assert_msg(tstd[0] > 1e-3, "collapse monitor starts at %g", tstd[0]);
    int64_t off = 0, at = -1;
    for (int k = 0; k < TOTAL_STEPS; k++)
        if (!(tstd[k] >= STD_LO * tstd[0] && tstd[k] <= STD_HI * tstd[0]) && off++ == 0) at = k;
    ck_assert_msg(off == 0, "collapse monitor left [%.1f, %.1f] x its start %.6f at %lld steps, "
                  "first at step %lld: %.6f", STD_LO, STD_HI, tstd[0], (long long)off,
                  (long long)at, at < 0 ? 0.0 : tstd[at]);
    free(im);
    tfx_close(&f);
}
END_TEST

// --- step: schedules and EMA of the first step ---------------------------------------------

/*
 * EMA tolerance: the update is documented as computed in double and rounded
 * to float once, so the float result may differ from this test's double
 * evaluation of the same formula by at most one rounding step:
 * |got - want| <= 2 u |want| (one float ulp) plus 1e-30 for exact zeros.
 * An EMA with the momentum of another step (0.996 vs 0.9961) is off by
 * 1e-4 |online - target|, many ulps for any parameter the step changed.
 */
START_TEST(test_first_step)
{
    tfx f;
    tfx_open(&f, 11);
    /* the target encoder starts as an exact copy of the context encoder */
    int64_t i = first_diff(f.pe, f.pt, f.ne);
    ck_assert_msg(i < 0, "target encoder differs from the context encoder at %lld before any "
                  "step", (long long)i);
    ck_assert_int_eq(ijepa_trainer_step_count(f.tr), 0);
    float *im = images_new(BATCH, 200);

    /* the collapse monitor of the initial target encoder's output */
    const int64_t N = ijepa_encoder_num_patches(f.tgt), D = ijepa_encoder_embed_dim(f.tgt);
    float *h = ref_falloc(BATCH * N * D);
    ck_assert_int_eq(ijepa_encoder_forward(f.tgt, im, BATCH, NULL, 0, h,
                                           IJEPA_FORWARD_INFERENCE), IJEPA_OK);
    /* from the moments, as the trainer forms it (so that it adds up over
     * workers), and equal to the one-pass monitor up to rounding */
    const double eps = cfg_f(f.cfg, IJEPA_CFG_TARGET_LN_EPS);
    double std0 = 0, std1, *m1 = ref_dalloc(D), *m2 = ref_dalloc(D);
    ck_assert_int_eq(ijepa_loss_target_moments(h, BATCH, N, D, eps, m1, m2), IJEPA_OK);
    for (int64_t d = 0; d < D; d++) {
        const double mu = m1[d] / BATCH, var = m2[d] / BATCH - mu * mu;
        std0 += var < 0 ? 0 : sqrt(var);
    }
    std0 /= (double)D;
    free(m1);
    free(m2);
    ck_assert_int_eq(ijepa_loss_target_std(h, BATCH, N, D, eps, &std1), IJEPA_OK);
    ck_assert_msg(fabs(std0 - std1) <= 1e-12 * std1, "target std from the moments %.17g, "
                  "one pass %.17g", std0, std1);
    ck_assert_int_eq(ijepa_encoder_forward(f.tgt, im, BATCH, NULL, 0, h, IJEPA_FORWARD_TRAIN),
                     IJEPA_ERR_STATE); /* the target encoder is not trainable */

    snap s0;
    snap_take(&s0, &f);
    double L;
    int rc = ijepa_trainer_step(f.tr, im, BATCH, &L);
    ck_assert_msg(rc == IJEPA_OK, "step: %d %s", rc, ijepa_last_error());
    ck_assert_int_eq(ijepa_trainer_step_count(f.tr), 1);
    double lr, wd, m;
    schedules_at(f.cfg, 1, &lr, &wd, &m);
    /* the official conventions, spelled out: lr and wd at step 1, momentum at 0 */
    ck_assert(lr == ijepa_schedule_lr(1, WARMUP, TOTAL_STEPS, 6e-4, 3e-3,
                                      cfg_f(f.cfg, IJEPA_CFG_LR_FINAL)));
    ck_assert(m == cfg_f(f.cfg, IJEPA_CFG_EMA_START));
    ck_assert_msg(tstat(f.tr, IJEPA_STAT_LR) == lr, "lr %.17g, schedule_lr(1) = %.17g",
                  tstat(f.tr, IJEPA_STAT_LR), lr);
    ck_assert_msg(tstat(f.tr, IJEPA_STAT_WEIGHT_DECAY) == wd, "wd %.17g, schedule(1) = %.17g",
                  tstat(f.tr, IJEPA_STAT_WEIGHT_DECAY), wd);
    ck_assert_msg(tstat(f.tr, IJEPA_STAT_MOMENTUM) == m, "momentum %.17g, schedule(0) = %.17g",
                  tstat(f.tr, IJEPA_STAT_MOMENTUM), m);
    ck_assert_msg(tstat(f.tr, IJEPA_STAT_TARGET_STD) == std0, "TARGET_STD %.17g, monitor of the "
                  "initial target output %.17g", tstat(f.tr, IJEPA_STAT_TARGET_STD), std0);
    ck_assert(tstat(f.tr, IJEPA_STAT_LOSS) == L);

    /* the step trained the context encoder and the predictor */
    int64_t changed_e = 0, changed_p = 0;
    for (int64_t j = 0; j < f.ne; j++) changed_e += f.pe[j] != s0.pe[j];
    for (int64_t j = 0; j < f.np; j++) changed_p += f.pp[j] != s0.pp[j];
    ck_assert_msg(changed_e > f.ne / 2 && changed_p > f.np / 2,
                  "the first step changed only %lld of %lld context encoder and %lld of %lld "
                  "predictor floats", (long long)changed_e, (long long)f.ne, (long long)changed_p,
                  (long long)f.np);
    /* target = m initial target + (1 - m) updated context encoder */
    double *want = ref_dalloc(f.ne);
    for (int64_t j = 0; j < f.ne; j++)
        want[j] = m * (double)s0.pt[j] + (1.0 - m) * (double)f.pe[j];
    ref_cmp c = ref_compare_f(f.pt, want, f.ne, 1e-30, 2 * REF_U32, NULL);
    expect_close(&c, "target after step 1 vs m x initial + (1 - m) x context (m = %.9g)", m);
    char d[384];
    /* and it did move (not momentum 1) */
    int64_t moved = 0;
    for (int64_t j = 0; j < f.ne; j++) moved += f.pt[j] != s0.pt[j];
    ck_assert_msg(moved > 0, "the target encoder did not move");
    if (getenv("IJEPA_TEST_VERBOSE"))
        fprintf(stderr, "first step: loss %.6f lr %.6g wd %.6g m %.6g; EMA %s; %lld of %lld "
                "target floats moved\n", L, lr, wd, m, ref_cmp_str(&c, d, sizeof d),
                (long long)moved, (long long)f.ne);

    /* a second step uses the schedules at the next position */
    snap s1;
    snap_take(&s1, &f);
    ck_assert_int_eq(ijepa_trainer_step(f.tr, im, BATCH, NULL), IJEPA_OK);
    schedules_at(f.cfg, 2, &lr, &wd, &m);
    ck_assert(tstat(f.tr, IJEPA_STAT_LR) == lr && tstat(f.tr, IJEPA_STAT_WEIGHT_DECAY) == wd &&
              tstat(f.tr, IJEPA_STAT_MOMENTUM) == m);
    for (int64_t j = 0; j < f.ne; j++)
        want[j] = m * (double)s1.pt[j] + (1.0 - m) * (double)f.pe[j];
    c = ref_compare_f(f.pt, want, f.ne, 1e-30, 2 * REF_U32, NULL);
    expect_close(&c, "target after step 2 (m = %.9g)", m);
    expect_masks(&f, BATCH);

    free(want);
    free(h);
    free(im);
    snap_free(&s0);
    snap_free(&s1);
    tfx_close(&f);
}
END_TEST

// --- determinism ---------------------------------------------------------------------------

START_TEST(test_determinism)
{
    tfx a, b;
    tfx_open(&a, 21);
    tfx_open(&b, 21);
    float *im = images_new(BATCH, 300);
    for (int k = 0; k < 8; k++) {
        double la, lb;
        const int64_t B = k == 5 ? 5 : BATCH; /* one smaller batch on the way */
        ck_assert_int_eq(ijepa_trainer_step(a.tr, im, B, &la), IJEPA_OK);
        ck_assert_int_eq(ijepa_trainer_step(b.tr, im, B, &lb), IJEPA_OK);
        ck_assert_msg(memcmp(&la, &lb, sizeof la) == 0, "step %d: losses %.17g and %.17g", k,
                      la, lb);
    }
    snap sb;
    snap_take(&sb, &b);
    expect_same_params(&a, &sb, "same config and data, 8 steps");
    ck_assert_int_eq(ijepa_trainer_step_count(a.tr), ijepa_trainer_step_count(b.tr));
    snap_free(&sb);
    free(im);
    tfx_close(&a);
    tfx_close(&b);
}
END_TEST

/* The trainer trains whatever the config says about trainable (the key
 * concerns standalone handles): a trainable = 0 config steps, the context
 * encoder moves, and the masks reported after a failed step are that
 * step's, sizes and indices together. */
START_TEST(test_trainable_key_ignored)
{
    ijepa_config *cfg = trainer_config(23);
    ck_assert_int_eq(ijepa_config_set_int(cfg, IJEPA_CFG_TRAINABLE, 0), IJEPA_OK);
    ijepa_context *ctx;
    ijepa_trainer *tr;
    ck_assert_int_eq(ijepa_context_create(&ctx), IJEPA_OK);
    ck_assert_int_eq(ijepa_trainer_create(&tr, ctx, cfg), IJEPA_OK);
    float *p, *before;
    int64_t n;
    ck_assert_int_eq(ijepa_encoder_params(ijepa_trainer_context_encoder(tr), &p, &n), IJEPA_OK);
    before = ref_falloc(n);
    memcpy(before, p, (size_t)n * sizeof *p);
    float *im = images_new(BATCH, 301);
    double loss;
    ck_assert_msg(ijepa_trainer_step(tr, im, BATCH, &loss) == IJEPA_OK, "step: %s",
                  ijepa_last_error());
    ck_assert_msg(memcmp(before, p, (size_t)n * sizeof *p) != 0, "context encoder did not move");
    /* a failing step (NaN pixel, smaller batch) still reports its own masks */
    im[0] = NAN;
    ck_assert_int_eq(ijepa_trainer_step(tr, im, 3, &loss), IJEPA_ERR_NUMERIC);
    const int32_t *c;
    int64_t nc, b;
    ck_assert_int_eq(ijepa_trainer_masks(tr, &c, &nc, NULL, NULL, &b), IJEPA_OK);
    ck_assert_int_eq(b, 3);
    ijepa_mask_sampler *ms;
    ck_assert_int_eq(ijepa_mask_sampler_create(&ms, cfg), IJEPA_OK);
    int32_t *ctx_idx = calloc((size_t)(BATCH * 16), sizeof *ctx_idx);
    int32_t *tgt_idx = calloc((size_t)(2 * BATCH * 16), sizeof *tgt_idx);
    int64_t wnc, wnt;
    ck_assert_int_eq(ijepa_mask_sampler_sample(ms, 3, 1, ctx_idx, &wnc, tgt_idx, &wnt), IJEPA_OK);
    ck_assert_int_eq(nc, wnc);
    ck_assert_msg(memcmp(c, ctx_idx, (size_t)(3 * wnc) * sizeof *c) == 0,
                  "masks after a failed step are not that step's");
    free(ctx_idx);
    free(tgt_idx);
    ijepa_mask_sampler_free(ms);
    free(before);
    free(im);
    ijepa_trainer_free(tr);
    ijepa_context_free(ctx);
    ijepa_config_free(cfg);
}
END_TEST

// --- numeric: a NaN image ------------------------------------------------------------------

START_TEST(test_nan_images)
{
    tfx a, b;
    tfx_open(&a, 31);
    tfx_open(&b, 31);
    float *im = images_new(BATCH, 400);
    float *bad = images_new(BATCH, 400);
    bad[((3 * CHANS + 1) * IMG + 5) * IMG + 7] = NAN; /* one pixel of image 3 */
    for (int k = 0; k < 2; k++) {
        ck_assert_int_eq(ijepa_trainer_step(a.tr, im, BATCH, NULL), IJEPA_OK);
        ck_assert_int_eq(ijepa_trainer_step(b.tr, im, BATCH, NULL), IJEPA_OK);
    }
    snap s;
    snap_take(&s, &a);
    double st_before[9];
    for (int j = 1; j <= 8; j++) st_before[j] = tstat(a.tr, j);
    double L = 12345.0;
    int rc = ijepa_trainer_step(a.tr, bad, BATCH, &L);
    ck_assert_msg(rc == IJEPA_ERR_NUMERIC, "NaN pixel: status %d (%s), want IJEPA_ERR_NUMERIC",
                  rc, ijepa_status_string(rc));
    /* the loss is checked once the (here: one) slices' sums are formed */
    ck_assert_msg(strstr(ijepa_last_error(), "ijepa_trainer_step(): the loss is NaN") != NULL,
                  "message after the NaN step: '%s'", ijepa_last_error());
    ck_assert_msg(L == 12345.0, "*loss written on failure: %g", L);
    ck_assert_int_eq(ijepa_trainer_step_count(a.tr), 2);
    expect_same_params(&a, &s, "after the NaN step");
    for (int j = 1; j <= 8; j++)
        ck_assert_msg(memcmp(&st_before[j], &(double){tstat(a.tr, j)}, sizeof(double)) == 0,
                      "stat %d changed by the failed step", j);
    /* the next good step equals a trainer that never saw the NaN: masks,
     * AdamW moments and step count were left alone */
    ck_assert_int_eq(ijepa_trainer_step(a.tr, im, BATCH, NULL), IJEPA_OK);
    ck_assert_int_eq(ijepa_trainer_step(b.tr, im, BATCH, NULL), IJEPA_OK);
    snap sb;
    snap_take(&sb, &b);
    expect_same_params(&a, &sb, "good step after the NaN step vs a trainer without it");
    snap_free(&s);
    snap_free(&sb);
    free(im);
    free(bad);
    tfx_close(&a);
    tfx_close(&b);
}
END_TEST

// --- errors ----------------------------------------------------------------------------------

START_TEST(test_free_null)
{
    ijepa_trainer_free(NULL);
    ck_assert_int_eq(ijepa_trainer_step_count(NULL), 0);
    ck_assert_ptr_null(ijepa_trainer_context_encoder(NULL));
    ck_assert_ptr_null(ijepa_trainer_target_encoder(NULL));
    ck_assert_ptr_null(ijepa_trainer_predictor(NULL));
    ck_assert_ptr_nonnull(ijepa_last_error());
}
END_TEST

START_TEST(test_create_errors)
{
    ijepa_context *ctx = NULL;
    ck_assert_int_eq(ijepa_context_create(&ctx), IJEPA_OK);
    ijepa_config *cfg = trainer_config(1);
    ijepa_trainer *tr = NULL;
    const char *F = "ijepa_trainer_create";
    expect_err(ijepa_trainer_create(NULL, ctx, cfg), IJEPA_ERR_INVALID_ARG, ijepa_last_error(),
               F, "NULL out");
    expect_err(ijepa_trainer_create(&tr, NULL, cfg), IJEPA_ERR_INVALID_ARG, ijepa_last_error(),
               F, "NULL context");
    ck_assert_ptr_null(tr);
    expect_err(ijepa_trainer_create(&tr, ctx, NULL), IJEPA_ERR_INVALID_ARG, ijepa_last_error(),
               F, "NULL config");
    /* warmup_steps > total_steps */
    ck_assert_int_eq(ijepa_config_set_int(cfg, IJEPA_CFG_WARMUP_STEPS, TOTAL_STEPS + 1), IJEPA_OK);
    expect_err(ijepa_trainer_create(&tr, ctx, cfg), IJEPA_ERR_INVALID_ARG, ijepa_last_error(),
               F, "warmup_steps > total_steps");
    ck_assert_ptr_null(tr);
    /* warmup_steps == total_steps is allowed */
    ck_assert_int_eq(ijepa_config_set_int(cfg, IJEPA_CFG_WARMUP_STEPS, TOTAL_STEPS), IJEPA_OK);
    ck_assert_int_eq(ijepa_trainer_create(&tr, ctx, cfg), IJEPA_OK);
    ijepa_trainer_free(tr);
    tr = NULL;
    /* a component's error: an encoder config it rejects */
    ck_assert_int_eq(ijepa_config_set_int(cfg, IJEPA_CFG_WARMUP_STEPS, WARMUP), IJEPA_OK);
    ck_assert_int_eq(ijepa_config_set_int(cfg, IJEPA_CFG_NUM_HEADS, 3), IJEPA_OK);
    int rc = ijepa_trainer_create(&tr, ctx, cfg);
    ck_assert_msg(rc == IJEPA_ERR_INVALID_ARG && tr == NULL, "embed_dim 32, 3 heads: %d", rc);
    ck_assert_msg(ijepa_last_error()[0] != '\0', "no message for a component's failure");
    ijepa_config_free(cfg);
    ijepa_context_free(ctx);
}
END_TEST

START_TEST(test_step_errors)
{
    tfx f;
    tfx_open(&f, 41);
    float *im = images_new(BATCH + 1, 500);
    const char *F = "ijepa_trainer_step";
    double v = 7.0;
    const int32_t *cp = NULL;
    int64_t n = -1;

    /* before any step: stats and masks are out of order */
    expect_err(ijepa_trainer_stat(f.tr, IJEPA_STAT_LOSS, &v), IJEPA_ERR_STATE, ijepa_last_error(),
               "ijepa_trainer_stat", "stat before any step");
    ck_assert(v == 7.0);
    ck_assert_int_eq(ijepa_trainer_masks(f.tr, &cp, &n, NULL, NULL, NULL), IJEPA_ERR_STATE);

    snap s;
    snap_take(&s, &f);
    expect_err(ijepa_trainer_step(NULL, im, BATCH, NULL), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), F, "NULL trainer");
    const char *msg = ijepa_last_error();
    expect_err(ijepa_trainer_step(f.tr, NULL, BATCH, NULL), IJEPA_ERR_INVALID_ARG, msg, F,
               "NULL images");
    expect_err(ijepa_trainer_step(f.tr, im, 0, NULL), IJEPA_ERR_INVALID_ARG, msg, F, "batch 0");
    expect_err(ijepa_trainer_step(f.tr, im, -1, NULL), IJEPA_ERR_INVALID_ARG, msg, F, "batch -1");
    expect_err(ijepa_trainer_step(f.tr, im, BATCH + 1, NULL), IJEPA_ERR_INVALID_ARG, msg, F,
               "batch > batch_size");
    ck_assert_int_eq(ijepa_trainer_step_count(f.tr), 0);
    expect_same_params(&f, &s, "after refused steps");

    /* a smaller batch works; loss may be NULL */
    ck_assert_int_eq(ijepa_trainer_step(f.tr, im, 3, NULL), IJEPA_OK);
    ck_assert_int_eq(ijepa_trainer_step_count(f.tr), 1);
    expect_masks(&f, 3);

    /* stat: unknown ids, NULLs */
    const char *S = "ijepa_trainer_stat";
    expect_err(ijepa_trainer_stat(f.tr, 0, &v), IJEPA_ERR_INVALID_ARG, ijepa_last_error(), S,
               "stat 0");
    expect_err(ijepa_trainer_stat(f.tr, 9, &v), IJEPA_ERR_INVALID_ARG, ijepa_last_error(), S,
               "stat 9");
    expect_err(ijepa_trainer_stat(f.tr, -1, &v), IJEPA_ERR_INVALID_ARG, ijepa_last_error(), S,
               "stat -1");
    expect_err(ijepa_trainer_stat(f.tr, IJEPA_STAT_LOSS, NULL), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), S, "NULL value");
    expect_err(ijepa_trainer_stat(NULL, IJEPA_STAT_LOSS, &v), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), S, "NULL trainer");
    expect_err(ijepa_trainer_masks(NULL, &cp, &n, NULL, NULL, NULL), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), "ijepa_trainer_masks", "masks of NULL");
    ck_assert(tstat(f.tr, IJEPA_STAT_N_CONTEXT) >= 3);
    snap_free(&s);
    free(im);
    tfx_close(&f);
}
END_TEST

// --- split: compute on slices, sum, apply ---------------------------------------------------

#define IMG_FLOATS (CHANS * IMG * IMG)

/* The buffers data-parallel workers sum: both gradients and the partials. */
typedef struct sums {
    float *ge, *gp;
    double *part;
    int64_t ne, np, npart;
} sums;

static sums sums_of(ijepa_trainer *tr)
{
    sums b;
    ck_assert_int_eq(ijepa_encoder_grads(ijepa_trainer_context_encoder(tr), &b.ge, &b.ne),
                     IJEPA_OK);
    ck_assert_int_eq(ijepa_predictor_grads(ijepa_trainer_predictor(tr), &b.gp, &b.np), IJEPA_OK);
    ck_assert_int_eq(ijepa_trainer_partials(tr, &b.part, &b.npart), IJEPA_OK);
    return b;
}

/* An in-place sum over workers (what MPI_Allreduce(MPI_IN_PLACE, ...,
 * MPI_SUM) does): every worker's buffers receive w[0] + w[1] + ... */
static void allreduce(tfx *w, int nw)
{
    sums s0 = sums_of(w[0].tr);
    float *ge = ref_falloc(s0.ne), *gp = ref_falloc(s0.np);
    double *part = ref_dalloc(s0.npart);
    memset(ge, 0, (size_t)s0.ne * sizeof *ge);
    memset(gp, 0, (size_t)s0.np * sizeof *gp);
    memset(part, 0, (size_t)s0.npart * sizeof *part);
    for (int k = 0; k < nw; k++) {
        sums b = sums_of(w[k].tr);
        ck_assert(b.ne == s0.ne && b.np == s0.np && b.npart == s0.npart);
        for (int64_t i = 0; i < b.ne; i++) ge[i] += b.ge[i];
        for (int64_t i = 0; i < b.np; i++) gp[i] += b.gp[i];
        for (int64_t i = 0; i < b.npart; i++) part[i] += b.part[i];
    }
    for (int k = 0; k < nw; k++) {
        sums b = sums_of(w[k].tr);
        memcpy(b.ge, ge, (size_t)b.ne * sizeof *ge);
        memcpy(b.gp, gp, (size_t)b.np * sizeof *gp);
        memcpy(b.part, part, (size_t)b.npart * sizeof *part);
    }
    free(ge);
    free(gp);
    free(part);
}

/* Each worker k computes its slice of counts[k] images of im [B, ...]
 * (consecutive slices from offset 0), the buffers are summed, each applies:
 * returns the status every worker's apply gave (they must agree) and the
 * loss (equal bits on every worker). */
static int split_step(tfx *w, int nw, const int64_t *counts, const float *im, int64_t B,
                      double *loss)
{
    int64_t off = 0;
    for (int k = 0; k < nw; k++) {
        int rc = ijepa_trainer_compute(w[k].tr, counts[k] ? im + off * IMG_FLOATS : NULL, off,
                                       counts[k], B);
        ck_assert_msg(rc == IJEPA_OK, "worker %d compute [%lld, +%lld) of %lld: %d %s", k,
                      (long long)off, (long long)counts[k], (long long)B, rc,
                      ijepa_last_error());
        off += counts[k];
    }
    ck_assert_int_eq(off, B);
    allreduce(w, nw);
    int rc0 = 0;
    for (int k = 0; k < nw; k++) {
        double L = NAN;
        const int rc = ijepa_trainer_apply(w[k].tr, &L);
        if (k == 0) {
            rc0 = rc;
            *loss = L;
        }
        ck_assert_msg(rc == rc0, "worker %d apply: %d, worker 0: %d", k, rc, rc0);
        ck_assert_msg(rc < 0 || memcmp(&L, loss, sizeof L) == 0,
                      "worker %d loss %.17g, worker 0 %.17g", k, L, *loss);
    }
    return rc0;
}

static double max_abs_diff(const float *a, const float *b, int64_t n)
{
    double m = 0;
    for (int64_t i = 0; i < n; i++) {
        const double d = fabs((double)a[i] - (double)b[i]);
        if (!(d <= m)) m = d; /* NaN wins */
    }
    return m;
}

/* compute on the whole batch + apply is ijepa_trainer_step(), bit for bit:
 * parameters, losses, every statistic, masks, over steps with a smaller
 * batch on the way. */
START_TEST(test_split_whole_is_step)
{
    tfx a, b;
    tfx_open(&a, 61);
    tfx_open(&b, 61);
    float *im = images_new(BATCH, 600);
    for (int k = 0; k < 5; k++) {
        const int64_t B = k == 3 ? 5 : BATCH;
        double la = NAN, lb = NAN;
        ck_assert_int_eq(ijepa_trainer_step(a.tr, im, B, &la), IJEPA_OK);
        ck_assert_int_eq(ijepa_trainer_compute(b.tr, im, 0, B, B), IJEPA_OK);
        ck_assert_int_eq(ijepa_trainer_apply(b.tr, &lb), IJEPA_OK);
        ck_assert_msg(memcmp(&la, &lb, sizeof la) == 0, "step %d: loss %.17g vs %.17g", k, la,
                      lb);
        for (int32_t st = IJEPA_STAT_LOSS; st <= IJEPA_STAT_GRAD_NORM; st++) {
            const double x = tstat(a.tr, st), y = tstat(b.tr, st);
            ck_assert_msg(memcmp(&x, &y, sizeof x) == 0, "step %d: stat %d %.17g vs %.17g", k,
                          (int)st, x, y);
        }
        snap s;
        snap_take(&s, &a);
        expect_same_params(&b, &s, "compute + apply vs step");
        snap_free(&s);
        expect_masks(&b, B);
    }
    ck_assert_int_eq(ijepa_trainer_step_count(b.tr), 5);
    free(im);
    tfx_close(&a);
    tfx_close(&b);
}
END_TEST

/*
 * Three workers on unequal slices of each batch (3, 0 and 5 of 8 images;
 * 1, 0 and 4 of a batch of 5), summing in place and applying, against one
 * trainer stepping on the whole batch, in both mask modes (_i: uniform,
 * official; the official truncation to the batch's shortest context must be
 * over the whole batch). The workers stay bit-identical to each other;
 * against the single trainer: the same masks, schedules and token counts
 * exactly; loss, target std and grad norm within 1e-6 relative; parameters
 * within 1e-5 absolute after 6 steps (float summation order only: measured
 * ~1e-7).
 */
START_TEST(test_split_workers)
{
    const int64_t mode = _i ? IJEPA_MASK_OFFICIAL : IJEPA_MASK_UNIFORM;
    tfx r, w[3];
    tfx_open_mode(&r, 71, mode);
    for (int k = 0; k < 3; k++)
        tfx_open_mode(&w[k], 71, mode);
    float *im = images_new(BATCH, 700);
    double worst_l = 0, worst_p = 0;
    for (int k = 0; k < 6; k++) {
        const int64_t B = k == 2 ? 5 : BATCH;
        const int64_t counts[3] = {B * 3 / 8, 0, B - B * 3 / 8};
        double lr = NAN, lw = NAN;
        ck_assert_int_eq(ijepa_trainer_step(r.tr, im, B, &lr), IJEPA_OK);
        ck_assert_int_eq(split_step(w, 3, counts, im, B, &lw), IJEPA_OK);
        const double dl = fabs(lw - lr) / fabs(lr);
        ck_assert_msg(dl <= 1e-6, "step %d: loss %.17g on 3 workers, %.17g on one", k, lw, lr);
        if (dl > worst_l) worst_l = dl;
        for (int32_t st = IJEPA_STAT_LOSS; st <= IJEPA_STAT_GRAD_NORM; st++) {
            const double x = tstat(w[0].tr, st), y = tstat(r.tr, st);
            const int exact = st != IJEPA_STAT_LOSS && st != IJEPA_STAT_TARGET_STD &&
                              st != IJEPA_STAT_GRAD_NORM;
            ck_assert_msg(exact ? x == y : fabs(x - y) <= 1e-6 * fabs(y),
                          "step %d: stat %d %.17g on 3 workers, %.17g on one", k, (int)st, x, y);
        }
        for (int j = 0; j < 3; j++)
            expect_masks(&w[j], B); /* the whole batch's masks on every worker */
        for (int j = 1; j < 3; j++) {
            snap s;
            snap_take(&s, &w[0]);
            expect_same_params(&w[j], &s, "worker j vs worker 0");
            snap_free(&s);
        }
        const double d = fmax(fmax(max_abs_diff(w[0].pe, r.pe, r.ne),
                                   max_abs_diff(w[0].pt, r.pt, r.ne)),
                              max_abs_diff(w[0].pp, r.pp, r.np));
        ck_assert_msg(d <= 1e-5, "step %d: parameters differ by %.3g from the single trainer's",
                      k, d);
        if (d > worst_p) worst_p = d;
    }
    if (getenv("IJEPA_TEST_VERBOSE"))
        fprintf(stderr, "split (mask mode %lld): 3 workers vs 1, 6 steps: loss rel %.3g, "
                "parameters max abs %.3g\n", (long long)mode, worst_l, worst_p);
    free(im);
    tfx_close(&r);
    for (int k = 0; k < 3; k++)
        tfx_close(&w[k]);
}
END_TEST

/*
 * A NaN in one worker's slice: its compute succeeds (the NaN is in its
 * gradients and partials), the sums carry it to every worker, and every
 * apply fails with IJEPA_ERR_NUMERIC, changing nothing (parameters, step
 * count, stats). The next good batch then equals a single trainer that
 * never saw the bad one.
 */
START_TEST(test_split_nan)
{
    tfx r, w[2];
    tfx_open(&r, 81);
    tfx_open(&w[0], 81);
    tfx_open(&w[1], 81);
    float *im = images_new(BATCH, 800), *bad = images_new(BATCH, 800);
    bad[(6 * CHANS * IMG + 3) * IMG + 2] = NAN; /* image 6: worker 1's slice */
    const int64_t counts[2] = {4, 4};
    double L;
    ck_assert_int_eq(ijepa_trainer_step(r.tr, im, BATCH, &L), IJEPA_OK);
    ck_assert_int_eq(split_step(w, 2, counts, im, BATCH, &L), IJEPA_OK);
    snap s;
    snap_take(&s, &w[0]);
    double st[9];
    for (int j = 1; j <= 8; j++) st[j] = tstat(w[0].tr, j);
    ck_assert_int_eq(split_step(w, 2, counts, bad, BATCH, &L), IJEPA_ERR_NUMERIC);
    ck_assert_msg(strstr(ijepa_last_error(), "ijepa_trainer_apply(): the loss is NaN") != NULL,
                  "message: '%s'", ijepa_last_error());
    for (int k = 0; k < 2; k++) {
        expect_same_params(&w[k], &s, "after the failed apply");
        ck_assert_int_eq(ijepa_trainer_step_count(w[k].tr), 1);
        for (int j = 1; j <= 8; j++)
            ck_assert_msg(tstat(w[k].tr, j) == st[j], "stat %d changed", j);
    }
    /* the host skips the batch: the next one is that of a run without it */
    ck_assert_int_eq(ijepa_trainer_step(r.tr, im, BATCH, NULL), IJEPA_OK);
    ck_assert_int_eq(split_step(w, 2, counts, im, BATCH, &L), IJEPA_OK);
    ck_assert_msg(max_abs_diff(w[0].pe, r.pe, r.ne) <= 1e-5 &&
                  max_abs_diff(w[0].pp, r.pp, r.np) <= 1e-5, "after the skipped batch");
    ck_assert_int_eq(ijepa_trainer_step_count(w[1].tr), 2);
    snap_free(&s);
    free(im);
    free(bad);
    tfx_close(&r);
    tfx_close(&w[0]);
    tfx_close(&w[1]);
}
END_TEST

START_TEST(test_split_errors)
{
    tfx f;
    tfx_open(&f, 91);
    float *im = images_new(BATCH, 900);
    const char *C = "ijepa_trainer_compute", *A = "ijepa_trainer_apply";
    snap s;
    snap_take(&s, &f);
    double L = 5.0;
    /* apply with nothing computed */
    expect_err(ijepa_trainer_apply(f.tr, &L), IJEPA_ERR_STATE, ijepa_last_error(), A,
               "apply before compute");
    expect_err(ijepa_trainer_apply(NULL, &L), IJEPA_ERR_INVALID_ARG, ijepa_last_error(), A,
               "NULL trainer");
    /* slices outside the batch, batch out of range, NULL images */
    const int64_t bad[][3] = {{-1, 2, 8}, {0, -1, 8}, {7, 2, 8}, {9, 0, 8}, {0, 1, 0},
                              {0, 1, BATCH + 1}, {0, 1, -3}, {INT64_MAX, INT64_MAX, 8}};
    for (size_t k = 0; k < COUNT_OF(bad); k++) {
        char what[96];
        snprintf(what, sizeof what, "slice [%lld, +%lld) of %lld", (long long)bad[k][0],
                 (long long)bad[k][1], (long long)bad[k][2]);
        expect_err(ijepa_trainer_compute(f.tr, im, bad[k][0], bad[k][1], bad[k][2]),
                   IJEPA_ERR_INVALID_ARG, ijepa_last_error(), C, what);
    }
    expect_err(ijepa_trainer_compute(f.tr, NULL, 0, 2, 8), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), C, "NULL images");
    expect_err(ijepa_trainer_compute(NULL, im, 0, 2, 8), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), C, "NULL trainer");
    expect_err(ijepa_trainer_apply(f.tr, &L), IJEPA_ERR_STATE, ijepa_last_error(), A,
               "apply after refused computes");
    double *part;
    int64_t np = 0;
    expect_err(ijepa_trainer_partials(NULL, &part, &np), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), "ijepa_trainer_partials", "NULL trainer");
    expect_err(ijepa_trainer_partials(f.tr, NULL, &np), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), "ijepa_trainer_partials", "NULL data");
    expect_err(ijepa_trainer_partials(f.tr, &part, NULL), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), "ijepa_trainer_partials", "NULL count");
    ck_assert_int_eq(ijepa_trainer_partials(f.tr, &part, &np), IJEPA_OK);
    ck_assert_int_eq(np, 2 + 2 * ijepa_encoder_embed_dim(f.enc));

    /* one slice's partials alone (not summed): refused, nothing changed */
    ck_assert_int_eq(ijepa_trainer_compute(f.tr, im, 0, 3, BATCH), IJEPA_OK);
    ck_assert(part[1] == 3.0);
    expect_err(ijepa_trainer_apply(f.tr, &L), IJEPA_ERR_INVALID_ARG, ijepa_last_error(), A,
               "partials of one slice of three");
    ck_assert_ptr_nonnull(strstr(ijepa_last_error(), "count 3 images, the batch has 8"));
    /* summed twice: refused too */
    part[1] = 2.0 * BATCH;
    expect_err(ijepa_trainer_apply(f.tr, &L), IJEPA_ERR_INVALID_ARG, ijepa_last_error(), A,
               "partials counted twice");
    ck_assert(L == 5.0);
    ck_assert_int_eq(ijepa_trainer_step_count(f.tr), 0);
    expect_same_params(&f, &s, "after refused applies");
    expect_err(ijepa_trainer_stat(f.tr, IJEPA_STAT_LOSS, &L), IJEPA_ERR_STATE,
               ijepa_last_error(), "ijepa_trainer_stat", "stats after refused applies");

    /* a later compute replaces the earlier one; then one apply, not two */
    ck_assert_int_eq(ijepa_trainer_compute(f.tr, im, 0, BATCH, BATCH), IJEPA_OK);
    ck_assert_int_eq(ijepa_trainer_apply(f.tr, &L), IJEPA_OK);
    ck_assert_int_eq(ijepa_trainer_step_count(f.tr), 1);
    expect_err(ijepa_trainer_apply(f.tr, &L), IJEPA_ERR_STATE, ijepa_last_error(), A,
               "a second apply");
    /* a failed compute leaves nothing to apply */
    ck_assert_int_eq(ijepa_trainer_compute(f.tr, im, 0, BATCH, BATCH), IJEPA_OK);
    ck_assert_int_eq(ijepa_trainer_compute(f.tr, NULL, 0, 1, BATCH), IJEPA_ERR_INVALID_ARG);
    ck_assert_int_eq(ijepa_trainer_apply(f.tr, &L), IJEPA_OK); /* argument checks change nothing */
    ck_assert_int_eq(ijepa_trainer_step(f.tr, im, BATCH, NULL), IJEPA_OK);
    expect_err(ijepa_trainer_apply(f.tr, &L), IJEPA_ERR_STATE, ijepa_last_error(), A,
               "apply after a step");
    ck_assert_int_eq(ijepa_trainer_step_count(f.tr), 3);
    snap_free(&s);
    free(im);
    tfx_close(&f);
}
END_TEST

// --- suite ---------------------------------------------------------------------------------

Suite *ijepa_trainer_suite(void)
{
    Suite *s = suite_create("trainer");

    TCase *tc = add_tcase(s, "train", IJEPA_TEST_TIMEOUT);
    tcase_add_test(tc, test_train_loss_falls);

    tc = add_tcase(s, "step", IJEPA_TEST_TIMEOUT);
    tcase_add_test(tc, test_first_step);

    tc = add_tcase(s, "determinism", IJEPA_TEST_TIMEOUT);
    tcase_add_test(tc, test_determinism);

    tc = add_tcase(s, "numeric", IJEPA_TEST_TIMEOUT);
    tcase_add_test(tc, test_nan_images);
    tcase_add_test(tc, test_trainable_key_ignored);

    tc = add_tcase(s, "split", IJEPA_TEST_TIMEOUT);
    tcase_add_test(tc, test_split_whole_is_step);
    tcase_add_loop_test(tc, test_split_workers, 0, 2);
    tcase_add_test(tc, test_split_nan);
    tcase_add_test(tc, test_split_errors);

    tc = add_tcase(s, "errors", IJEPA_TEST_TIMEOUT);
    tcase_add_test(tc, test_free_null);
    tcase_add_test(tc, test_create_errors);
    tcase_add_test(tc, test_step_errors);
    return s;
}
