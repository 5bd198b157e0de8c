/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * Implements: suite "loss" — include/ijepa/loss.h against an independent
 * double-precision computation of the official loss (target LayerNorm
 * without affine, gather by the mask indices, row m * batch + b alignment,
 * smooth-L1 / L2 / L1, mean over all elements), its gradient against
 * central finite differences, and the collapse monitor.
 *
 * TCases:
 *   core     each kind vs the reference (loss and d_pred); a perfect
 *            prediction gives 0 and the transposed alignment does not;
 *            d_pred NULL; smooth-L1 on both sides of |x| = 1 and at it
 *   fd       d_pred vs central differences of the library's own loss, for
 *            each kind, away from the kinks
 *   numeric  NaN / Inf in pred or in a gathered target token, and a
 *            constant token with ln_eps 0, give IJEPA_ERR_NUMERIC; NaN in a
 *            token no mask gathers does not; results bit-identical with 1,
 *            2 and 3 threads
 *   std      target_std: identical images give 0, batch 1 gives 0, random
 *            features equal the reference and are clearly > 0
 *   partial  ijepa_loss_partial() on the whole batch is the loss bit for bit;
 *            on slices its gradient rows are the whole batch's and the sums
 *            add up; ijepa_loss_target_moments() of slices add up and give
 *            the reference std; non-finite values are sums, not errors
 *   errors   NULL pointers, sizes < 1, out-of-range indices, unknown kind,
 *            bad ln_eps, with a message naming the function
 *
 * The library computes in double; the reference too, in another order, so
 * losses agree to ~1e-15 relative; d_pred is float (one rounding).
 */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_ijepa.h"
#include "ijepa/ijepa.h"
#include "ijepa/loss.h"
#include "ref.h"
#include "helpers.h"

static const int32_t KINDS[3] = {IJEPA_LOSS_SMOOTH_L1, IJEPA_LOSS_L2, IJEPA_LOSS_L1};
static const char *KIND_NAMES[3] = {"smooth-L1", "L2", "L1"};

// --- problem and reference -------------------------------------------------------------------

typedef struct prob {
    int64_t B, N, D, M, K;    /* batch, patches, dim, target blocks, tokens per block */
    float *tgt;               /* [B, N, D] */
    int32_t *idx;             /* [M, B, K] */
    float *pred;              /* [M * B, K, D] */
    float *dpred;             /* [M * B, K, D] */
    int64_t R, E;             /* rows M*B*K, elements R*D */
} prob;

/* Random target features with a per-token offset and scale (so the
 * LayerNorm matters), random indices with repeats, pred = LN'd target of the
 * right token + noise U(-spread, spread). */
static void prob_open(prob *p, int64_t B, int64_t N, int64_t D, int64_t M, int64_t K,
                      double spread, uint64_t seed);
static void prob_close(prob *p)
{
    free(p->tgt);
    free(p->idx);
    free(p->pred);
    free(p->dpred);
    memset(p, 0, sizeof *p);
}

/* LayerNorm without affine of one token, in double (two passes). */
static void ref_ln(const float *x, int64_t D, double eps, double *h)
{
    double mean = 0.0;
    for (int64_t d = 0; d < D; d++) mean += x[d];
    mean /= (double)D;
    double var = 0.0;
    for (int64_t d = 0; d < D; d++) var += ((double)x[d] - mean) * ((double)x[d] - mean);
    var /= (double)D;
    for (int64_t d = 0; d < D; d++) h[d] = ((double)x[d] - mean) / sqrt(var + eps);
}

/* torch F.smooth_l1_loss (beta 1), F.mse_loss, F.l1_loss per element, and
 * their derivatives (torch: sign(0) = 0 for L1). */
static double phi(int32_t kind, double x, double *g)
{
    switch (kind) {
    case IJEPA_LOSS_SMOOTH_L1:
        if (fabs(x) < 1.0) { *g = x; return 0.5 * x * x; }
        *g = x > 0 ? 1.0 : -1.0;
        return fabs(x) - 0.5;
    case IJEPA_LOSS_L2:
        *g = 2.0 * x;
        return x * x;
    default:
        *g = x > 0 ? 1.0 : (x < 0 ? -1.0 : 0.0);
        return fabs(x);
    }
}

/* The official loss written with explicit (m, b, j) loops:
 * h = apply_masks(LN(target), masks_pred) is [M*B, K, D] with row m*B + b. */
static double ref_loss(const prob *p, const float *pred, int32_t kind, double eps, double *dref)
{
    double *h = ref_dalloc(p->D);
    ck_assert_ptr_nonnull(h);
    double sum = 0.0;
    const double E = (double)(p->M * p->B * p->K * p->D);
    for (int64_t m = 0; m < p->M; m++)
        for (int64_t b = 0; b < p->B; b++)
            for (int64_t j = 0; j < p->K; j++) {
                const int64_t row = m * p->B + b;
                const int32_t n = p->idx[(m * p->B + b) * p->K + j];
                ref_ln(p->tgt + (b * p->N + n) * p->D, p->D, eps, h);
                for (int64_t d = 0; d < p->D; d++) {
                    const int64_t at = (row * p->K + j) * p->D + d;
                    double g;
                    sum += phi(kind, (double)pred[at] - h[d], &g);
                    if (dref) dref[at] = g / E;
                }
            }
    free(h);
    return sum / E;
}

static void prob_open(prob *p, int64_t B, int64_t N, int64_t D, int64_t M, int64_t K,
                      double spread, uint64_t seed)
{
    memset(p, 0, sizeof *p);
    p->B = B; p->N = N; p->D = D; p->M = M; p->K = K;
    p->R = M * B * K;
    p->E = p->R * D;
    p->tgt = ref_falloc(B * N * D);
    p->idx = malloc((size_t)p->R * sizeof *p->idx);
    p->pred = ref_falloc(p->E);
    p->dpred = ref_falloc(p->E);
    ck_assert(p->tgt && p->idx && p->pred && p->dpred);
    ref_rng r;
    ref_rng_seed(&r, seed);
    for (int64_t t = 0; t < B * N; t++) {
        const double off = ref_rng_range(&r, -3.0, 3.0), sc = ref_rng_range(&r, 0.2, 4.0);
        for (int64_t d = 0; d < D; d++)
            p->tgt[t * D + d] = (float)(off + sc * ref_rng_range(&r, -1.0, 1.0));
    }
    for (int64_t i = 0; i < p->R; i++) p->idx[i] = (int32_t)ref_rng_int(&r, N);
    double *h = ref_dalloc(D);
    ck_assert_ptr_nonnull(h);
    for (int64_t row = 0; row < M * B; row++) {
        const int64_t b = row % B;
        for (int64_t j = 0; j < K; j++) {
            ref_ln(p->tgt + (b * N + p->idx[row * K + j]) * D, D, 1e-5, h);
            for (int64_t d = 0; d < D; d++)
                p->pred[(row * K + j) * D + d] =
                    (float)(h[d] + ref_rng_range(&r, -spread, spread));
        }
    }
    free(h);
}

/* expect_err() of tests/helpers.h on the thread's last error (the loss
 * functions have no handle of their own). */
static void fails_with(int rc, int code, const char *func, const char *what)
{
    expect_err(rc, code, ijepa_last_error(), func, what);
}

static int call_loss(const prob *p, const float *pred, int32_t kind, double eps, float *d,
                     double *loss)
{
    return ijepa_loss_compute(p->tgt, p->B, p->N, p->D, p->idx, p->M, p->K, pred, kind, eps, d,
                              loss);
}

// --- core ------------------------------------------------------------------------------------

/* Loop over the kinds: loss and d_pred vs the reference; spread 2.5 puts
 * differences on both sides of |x| = 1. */
START_TEST(test_loss_vs_ref)
{
    const int32_t kind = KINDS[_i];
    prob p;
    prob_open(&p, 3, 10, 12, 4, 5, 2.5, 10 + (uint64_t)_i);
    double *dref = ref_dalloc(p.E);
    ck_assert_ptr_nonnull(dref);
    const double want = ref_loss(&p, p.pred, kind, 1e-5, dref);
    double got = -1.0;
    ck_assert_int_eq(call_loss(&p, p.pred, kind, 1e-5, p.dpred, &got), IJEPA_OK);
    ck_assert_msg(fabs(got - want) <= 1e-13 * fabs(want), "%s loss %.17g, want %.17g",
                  KIND_NAMES[_i], got, want);
    ref_cmp c = ref_compare_f(p.dpred, dref, p.E, 1e-30, 2 * REF_U32, NULL);
    expect_close(&c, "%s d_pred", KIND_NAMES[_i]);
    /* both branches of smooth-L1 were exercised */
    int small = 0, big = 0;
    for (int64_t i = 0; i < p.E; i++) {
        if (fabs(dref[i]) * (double)p.E < 1.0 - 1e-12) small++;
        else big++;
    }
    if (kind == IJEPA_LOSS_SMOOTH_L1)
        ck_assert(small > p.E / 10 && big > p.E / 10);
    /* d_pred NULL: same loss, bit for bit */
    double got2 = -1.0;
    ck_assert_int_eq(call_loss(&p, p.pred, kind, 1e-5, NULL, &got2), IJEPA_OK);
    ck_assert(memcmp(&got, &got2, sizeof got) == 0);
    /* another ln_eps changes the targets */
    const double want_eps = ref_loss(&p, p.pred, kind, 0.5, NULL);
    ck_assert_int_eq(call_loss(&p, p.pred, kind, 0.5, NULL, &got2), IJEPA_OK);
    ck_assert_msg(fabs(got2 - want_eps) <= 1e-13 * fabs(want_eps), "ln_eps 0.5: %.17g vs %.17g",
                  got2, want_eps);
    ck_assert(fabs(got2 - got) > 1e-6);
    free(dref);
    prob_close(&p);
}
END_TEST

/* pred exactly the normalised targets in the official alignment gives ~0;
 * the same predictions in the transposed alignment (row b * M + m) do not. */
START_TEST(test_alignment)
{
    prob p;
    prob_open(&p, 3, 9, 8, 4, 3, 0.0, 20);
    float *wrong = ref_falloc(p.E);
    ck_assert_ptr_nonnull(wrong);
    for (int64_t m = 0; m < p.M; m++)
        for (int64_t b = 0; b < p.B; b++)
            memcpy(wrong + (b * p.M + m) * p.K * p.D, p.pred + (m * p.B + b) * p.K * p.D,
                   (size_t)(p.K * p.D) * sizeof(float));
    for (int k = 0; k < 3; k++) {
        double l_ok, l_bad;
        ck_assert_int_eq(call_loss(&p, p.pred, KINDS[k], 1e-5, NULL, &l_ok), IJEPA_OK);
        ck_assert_int_eq(call_loss(&p, wrong, KINDS[k], 1e-5, NULL, &l_bad), IJEPA_OK);
        /* float rounding of h only: |x| <= 2^-24 * 4 */
        ck_assert_msg(l_ok < 1e-6, "%s: perfect prediction gives %.3g", KIND_NAMES[k], l_ok);
        ck_assert_msg(l_bad > 0.1, "%s: transposed alignment gives only %.3g", KIND_NAMES[k],
                      l_bad);
    }
    free(wrong);
    prob_close(&p);
}
END_TEST

/* Smooth-L1 (and the others) at chosen differences: dim 2, ln_eps 0 and the
 * target token (0, 2) normalise to exactly (-1, 1). */
START_TEST(test_smooth_l1_boundary)
{
    const float tgt[2] = {0.0f, 2.0f};
    const double hh[2] = {-1.0, 1.0};
    const double xs[16] = {-3.0, -1.5, -1.001, -1.0, -0.999, -0.5, 0.0, 0.25,
                           0.5,  0.999, 1.0,   1.001, 1.5,   2.0,  3.0,  -0.75};
    enum { K = 8, D = 2, E = K * D };
    int32_t idx[K] = {0};
    float pred[E], d[E];
    double x[E];
    for (int i = 0; i < E; i++) {
        pred[i] = (float)(hh[i % 2] + xs[i]);
        x[i] = (double)pred[i] - hh[i % 2]; /* the difference actually represented */
    }
    for (int k = 0; k < 3; k++) {
        double want = 0.0, gw[E];
        for (int i = 0; i < E; i++) {
            double l, g;
            switch (KINDS[k]) {
            case IJEPA_LOSS_SMOOTH_L1:
                /* torch: abs < beta ? 0.5 x^2 / beta : abs - 0.5 beta */
                l = fabs(x[i]) < 1.0 ? 0.5 * x[i] * x[i] : fabs(x[i]) - 0.5;
                g = fabs(x[i]) < 1.0 ? x[i] : (x[i] > 0 ? 1.0 : -1.0);
                break;
            case IJEPA_LOSS_L2:
                l = x[i] * x[i];
                g = 2 * x[i];
                break;
            default:
                l = fabs(x[i]);
                g = x[i] > 0 ? 1.0 : (x[i] < 0 ? -1.0 : 0.0);
            }
            want += l;
            gw[i] = g / E;
        }
        want /= E;
        double got;
        ck_assert_int_eq(ijepa_loss_compute(tgt, 1, 1, D, idx, 1, K, pred, KINDS[k], 0.0, d, &got),
                         IJEPA_OK);
        ck_assert_msg(fabs(got - want) <= 1e-14, "%s: %.17g, want %.17g", KIND_NAMES[k], got,
                      want);
        for (int i = 0; i < E; i++)
            ck_assert_msg(fabs(d[i] - gw[i]) <= REF_U32 * fabs(gw[i]),
                          "%s: d[%d] (x = %g) = %.9g, want %.9g", KIND_NAMES[k], i, x[i],
                          (double)d[i], gw[i]);
    }
    /* spot values: x = +-1 gives 0.5 from either branch, gradient +-1 */
    float p1[2] = {0.0f, 2.0f}; /* x = (1, 1) */
    int32_t i0 = 0;
    double l;
    ck_assert_int_eq(ijepa_loss_compute(tgt, 1, 1, 2, &i0, 1, 1, p1, IJEPA_LOSS_SMOOTH_L1, 0.0, d,
                                        &l), IJEPA_OK);
    ck_assert(l == 0.5 && d[0] == 0.5f && d[1] == 0.5f);
    float p2[2] = {-1.999f, 0.001f}; /* x ~ (-0.999, -0.999): quadratic side */
    ck_assert_int_eq(ijepa_loss_compute(tgt, 1, 1, 2, &i0, 1, 1, p2, IJEPA_LOSS_SMOOTH_L1, 0.0, d,
                                        &l), IJEPA_OK);
    const double x0 = (double)p2[0] + 1.0, x1 = (double)p2[1] - 1.0;
    ck_assert(fabs(l - 0.5 * (0.5 * x0 * x0 + 0.5 * x1 * x1)) < 1e-15);
    ck_assert(fabs(d[0] - x0 / 2) <= REF_U32 && fabs(d[1] - x1 / 2) <= REF_U32);
}
END_TEST

// --- finite differences ----------------------------------------------------------------------

/* d_pred vs central differences of the library's loss (double) with step
 * ~2^-10, for elements whose difference is at least 0.01 away from a kink. */
START_TEST(test_loss_fd)
{
    const int32_t kind = KINDS[_i];
    prob p;
    prob_open(&p, 2, 6, 5, 3, 2, 2.0, 30 + (uint64_t)_i);
    /* keep away from |x| = 1 (smooth-L1) and x = 0 (L1) */
    double *dref = ref_dalloc(p.E);
    ck_assert_ptr_nonnull(dref);
    ref_loss(&p, p.pred, IJEPA_LOSS_L2, 1e-5, dref); /* dref = 2x/E */
    for (int64_t i = 0; i < p.E; i++) {
        const double x = dref[i] * (double)p.E / 2.0;
        if (fabs(fabs(x) - 1.0) < 0.01 || fabs(x) < 0.01)
            p.pred[i] += 0.05f;
    }
    double L;
    ck_assert_int_eq(call_loss(&p, p.pred, kind, 1e-5, p.dpred, &L), IJEPA_OK);
    const double h = 0x1p-10;
    for (int64_t i = 0; i < p.E; i++) {
        const float p0 = p.pred[i];
        const float up = (float)(p0 + h), dn = (float)(p0 - h);
        double lu, ld;
        p.pred[i] = up;
        ck_assert_int_eq(call_loss(&p, p.pred, kind, 1e-5, NULL, &lu), IJEPA_OK);
        p.pred[i] = dn;
        ck_assert_int_eq(call_loss(&p, p.pred, kind, 1e-5, NULL, &ld), IJEPA_OK);
        p.pred[i] = p0;
        const double fd = (lu - ld) / ((double)up - (double)dn);
        const double err = fabs(fd - p.dpred[i]);
        const double tol = 1e-5 * fabs(fd) + 1e-9 / (double)p.E;
        ck_assert_msg(err <= tol, "%s: d_pred[%lld] = %.9g, central difference %.9g",
                      KIND_NAMES[_i], (long long)i, (double)p.dpred[i], fd);
    }
    free(dref);
    prob_close(&p);
}
END_TEST

// --- numeric ---------------------------------------------------------------------------------

START_TEST(test_loss_nonfinite)
{
    prob p;
    prob_open(&p, 2, 6, 8, 2, 3, 1.0, 40);
    const char *F = "ijepa_loss_compute";
    double loss = 42.0;
    for (int k = 0; k < 3; k++) {
        float keep = p.pred[7];
        p.pred[7] = NAN;
        fails_with(call_loss(&p, p.pred, KINDS[k], 1e-5, p.dpred, &loss), IJEPA_ERR_NUMERIC, F,
                   "NaN in pred");
        p.pred[7] = INFINITY;
        fails_with(call_loss(&p, p.pred, KINDS[k], 1e-5, NULL, &loss), IJEPA_ERR_NUMERIC, F,
                   "Inf in pred");
        p.pred[7] = keep;
        ck_assert(loss == 42.0);
    }
    /* NaN in a gathered target token */
    const int32_t n0 = p.idx[0];
    float keep = p.tgt[n0 * p.D + 3];
    p.tgt[n0 * p.D + 3] = NAN;
    fails_with(call_loss(&p, p.pred, IJEPA_LOSS_SMOOTH_L1, 1e-5, NULL, &loss), IJEPA_ERR_NUMERIC,
               F, "NaN in a gathered target token");
    p.tgt[n0 * p.D + 3] = keep;
    ck_assert(loss == 42.0);
    /* NaN in a token no mask gathers is never read */
    int used[6] = {0};
    for (int64_t r = 0; r < p.R; r++)
        if ((r / p.K) % p.B == 0) used[p.idx[r]] = 1;
    int64_t unused = -1;
    for (int n = 0; n < 6; n++)
        if (!used[n]) unused = n;
    if (unused >= 0) {
        p.tgt[unused * p.D] = NAN;
        ck_assert_int_eq(call_loss(&p, p.pred, IJEPA_LOSS_L2, 1e-5, NULL, &loss), IJEPA_OK);
        ck_assert(isfinite(loss));
        p.tgt[unused * p.D] = 0.0f;
    }
    /* constant token with ln_eps 0: 0/0 */
    for (int64_t d = 0; d < p.D; d++) p.tgt[n0 * p.D + d] = 1.5f;
    loss = 42.0;
    fails_with(call_loss(&p, p.pred, IJEPA_LOSS_L1, 0.0, NULL, &loss), IJEPA_ERR_NUMERIC, F,
               "constant token, ln_eps 0");
    ck_assert(loss == 42.0);
    /* ... which ln_eps > 0 handles: the normalised token is 0 */
    ck_assert_int_eq(call_loss(&p, p.pred, IJEPA_LOSS_L1, 1e-5, NULL, &loss), IJEPA_OK);
    prob_close(&p);
}
END_TEST

/* Sizes large enough for the parallel path: loss, d_pred and target_std are
 * bit-identical with 1, 2 and 3 threads. */
START_TEST(test_loss_threads_bitwise)
{
    prob p;
    prob_open(&p, 4, 64, 256, 4, 16, 2.0, 50);
    ck_assert(p.E >= 32768);
    float *d0 = ref_falloc(p.E);
    ck_assert_ptr_nonnull(d0);
    double l0 = 0.0, s0 = 0.0;
    const int threads[3] = {1, 2, 3}, saved = omp_get_max_threads();
    for (int k = 0; k < 3; k++) {
        omp_set_num_threads(threads[k]);
        double l, s;
        ck_assert_int_eq(call_loss(&p, p.pred, IJEPA_LOSS_SMOOTH_L1, 1e-5, p.dpred, &l), IJEPA_OK);
        ck_assert_int_eq(ijepa_loss_target_std(p.tgt, p.B, p.N, p.D, 1e-5, &s), IJEPA_OK);
        if (k == 0) {
            l0 = l;
            s0 = s;
            memcpy(d0, p.dpred, (size_t)p.E * sizeof(float));
        } else {
            ck_assert_msg(memcmp(&l, &l0, sizeof l) == 0, "loss differs with %d threads",
                          threads[k]);
            ck_assert_msg(memcmp(&s, &s0, sizeof s) == 0, "target_std differs with %d threads",
                          threads[k]);
            ck_assert_msg(memcmp(d0, p.dpred, (size_t)p.E * sizeof(float)) == 0,
                          "d_pred differs with %d threads", threads[k]);
        }
    }
    omp_set_num_threads(saved);
    const double want = ref_loss(&p, p.pred, IJEPA_LOSS_SMOOTH_L1, 1e-5, NULL);
    ck_assert(fabs(l0 - want) <= 1e-13 * want);
    free(d0);
    prob_close(&p);
}
END_TEST

// --- target std ------------------------------------------------------------------------------

/* Reference: pooled LN'd features per image, population std across images
 * per feature (two passes), mean over features. */
static double ref_target_std(const float *tgt, int64_t B, int64_t N, int64_t D, double eps)
{
    double *pool = ref_dalloc(B * D), *h = ref_dalloc(D);
    ck_assert(pool && h);
    for (int64_t b = 0; b < B; b++)
        for (int64_t n = 0; n < N; n++) {
            ref_ln(tgt + (b * N + n) * D, D, eps, h);
            for (int64_t d = 0; d < D; d++) pool[b * D + d] += h[d] / (double)N;
        }
    double s = 0.0;
    for (int64_t d = 0; d < D; d++) {
        double mu = 0.0, var = 0.0;
        for (int64_t b = 0; b < B; b++) mu += pool[b * D + d];
        mu /= (double)B;
        for (int64_t b = 0; b < B; b++)
            var += (pool[b * D + d] - mu) * (pool[b * D + d] - mu);
        s += sqrt(var / (double)B);
    }
    free(pool);
    free(h);
    return s / (double)D;
}

/* Loop: dims 12 (one tile) and 600 (three tiles, the last partial). */
START_TEST(test_target_std)
{
    const int64_t D = _i == 0 ? 12 : 600, B = 5, N = 7;
    prob p;
    prob_open(&p, B, N, D, 1, 1, 0.0, 60 + (uint64_t)_i);
    double s = -1.0;
    ck_assert_int_eq(ijepa_loss_target_std(p.tgt, B, N, D, 1e-5, &s), IJEPA_OK);
    const double want = ref_target_std(p.tgt, B, N, D, 1e-5);
    ck_assert_msg(fabs(s - want) <= 1e-12 * want, "target_std %.17g, want %.17g", s, want);
    ck_assert_msg(s > 0.2, "random features give only %.3g", s);
    /* batch 1: 0 */
    ck_assert_int_eq(ijepa_loss_target_std(p.tgt, 1, N, D, 1e-5, &s), IJEPA_OK);
    ck_assert(s == 0.0);
    /* identical images (a collapsed encoder): exactly 0 */
    for (int64_t b = 1; b < B; b++)
        memcpy(p.tgt + b * N * D, p.tgt, (size_t)(N * D) * sizeof(float));
    s = -1.0;
    ck_assert_int_eq(ijepa_loss_target_std(p.tgt, B, N, D, 1e-5, &s), IJEPA_OK);
    ck_assert_msg(s == 0.0, "identical images give %.3g", s);
    /* non-finite input */
    p.tgt[3] = NAN;
    s = 42.0;
    fails_with(ijepa_loss_target_std(p.tgt, B, N, D, 1e-5, &s), IJEPA_ERR_NUMERIC,
               "ijepa_loss_target_std", "NaN feature");
    ck_assert(s == 42.0);
    prob_close(&p);
}
END_TEST

// --- errors ----------------------------------------------------------------------------------

START_TEST(test_loss_errors)
{
    prob p;
    prob_open(&p, 2, 6, 4, 2, 3, 1.0, 70);
    const char *F = "ijepa_loss_compute";
    double loss = 42.0;
    for (int64_t i = 0; i < p.E; i++) p.dpred[i] = 42.0f;
#define LOSS(t, B, N, D, idx, M, K, pr, kind, eps, dp, l) \
    ijepa_loss_compute(t, B, N, D, idx, M, K, pr, kind, eps, dp, l)
    const int64_t B = p.B, N = p.N, D = p.D, M = p.M, K = p.K;
    float *dp = p.dpred;
    fails_with(LOSS(NULL, B, N, D, p.idx, M, K, p.pred, 0, 1e-5, dp, &loss),
               IJEPA_ERR_INVALID_ARG, F, "NULL target_out");
    fails_with(LOSS(p.tgt, B, N, D, NULL, M, K, p.pred, 0, 1e-5, dp, &loss),
               IJEPA_ERR_INVALID_ARG, F, "NULL targets");
    fails_with(LOSS(p.tgt, B, N, D, p.idx, M, K, NULL, 0, 1e-5, dp, &loss),
               IJEPA_ERR_INVALID_ARG, F, "NULL pred");
    fails_with(LOSS(p.tgt, B, N, D, p.idx, M, K, p.pred, 0, 1e-5, dp, NULL),
               IJEPA_ERR_INVALID_ARG, F, "NULL loss");
    const int64_t bad[2] = {0, -1};
    for (int k = 0; k < 2; k++) {
        const int64_t v = bad[k];
        fails_with(LOSS(p.tgt, v, N, D, p.idx, M, K, p.pred, 0, 1e-5, dp, &loss),
                   IJEPA_ERR_INVALID_ARG, F, "batch < 1");
        fails_with(LOSS(p.tgt, B, v, D, p.idx, M, K, p.pred, 0, 1e-5, dp, &loss),
                   IJEPA_ERR_INVALID_ARG, F, "num_patches < 1");
        fails_with(LOSS(p.tgt, B, N, v, p.idx, M, K, p.pred, 0, 1e-5, dp, &loss),
                   IJEPA_ERR_INVALID_ARG, F, "dim < 1");
        fails_with(LOSS(p.tgt, B, N, D, p.idx, v, K, p.pred, 0, 1e-5, dp, &loss),
                   IJEPA_ERR_INVALID_ARG, F, "num_targets < 1");
        fails_with(LOSS(p.tgt, B, N, D, p.idx, M, v, p.pred, 0, 1e-5, dp, &loss),
                   IJEPA_ERR_INVALID_ARG, F, "n_target < 1");
    }
    fails_with(LOSS(p.tgt, INT64_MAX / 2, 1 << 20, 1 << 20, p.idx, M, K, p.pred, 0, 1e-5, dp,
                    &loss), IJEPA_ERR_INVALID_ARG, F, "sizes overflow");
    fails_with(LOSS(p.tgt, B, N, D, p.idx, M, K, p.pred, 3, 1e-5, dp, &loss),
               IJEPA_ERR_INVALID_ARG, F, "kind 3");
    fails_with(LOSS(p.tgt, B, N, D, p.idx, M, K, p.pred, -1, 1e-5, dp, &loss),
               IJEPA_ERR_INVALID_ARG, F, "kind -1");
    fails_with(LOSS(p.tgt, B, N, D, p.idx, M, K, p.pred, 0, -1e-5, dp, &loss),
               IJEPA_ERR_INVALID_ARG, F, "ln_eps < 0");
    fails_with(LOSS(p.tgt, B, N, D, p.idx, M, K, p.pred, 0, NAN, dp, &loss),
               IJEPA_ERR_INVALID_ARG, F, "ln_eps NaN");
    fails_with(LOSS(p.tgt, B, N, D, p.idx, M, K, p.pred, 0, INFINITY, dp, &loss),
               IJEPA_ERR_INVALID_ARG, F, "ln_eps Inf");
    const int32_t keep = p.idx[p.R - 1];
    p.idx[p.R - 1] = -1;
    fails_with(LOSS(p.tgt, B, N, D, p.idx, M, K, p.pred, 0, 1e-5, dp, &loss),
               IJEPA_ERR_INVALID_ARG, F, "index -1");
    p.idx[p.R - 1] = (int32_t)N;
    fails_with(LOSS(p.tgt, B, N, D, p.idx, M, K, p.pred, 0, 1e-5, dp, &loss),
               IJEPA_ERR_INVALID_ARG, F, "index num_patches");
    ck_assert_ptr_nonnull(strstr(ijepa_last_error(), "targets["));
    p.idx[p.R - 1] = keep;
#undef LOSS
    ck_assert(loss == 42.0);
    for (int64_t i = 0; i < p.E; i++)
        ck_assert_msg(p.dpred[i] == 42.0f, "a refused call wrote d_pred[%lld]", (long long)i);
    ck_assert_int_eq(call_loss(&p, p.pred, IJEPA_LOSS_L1, 1e-5, p.dpred, &loss), IJEPA_OK);

    const char *FS = "ijepa_loss_target_std";
    double s = 42.0;
    fails_with(ijepa_loss_target_std(NULL, B, N, D, 1e-5, &s), IJEPA_ERR_INVALID_ARG, FS,
               "NULL target_out");
    fails_with(ijepa_loss_target_std(p.tgt, B, N, D, 1e-5, NULL), IJEPA_ERR_INVALID_ARG, FS,
               "NULL mean_std");
    fails_with(ijepa_loss_target_std(p.tgt, 0, N, D, 1e-5, &s), IJEPA_ERR_INVALID_ARG, FS,
               "batch 0");
    fails_with(ijepa_loss_target_std(p.tgt, B, -3, D, 1e-5, &s), IJEPA_ERR_INVALID_ARG, FS,
               "num_patches -3");
    fails_with(ijepa_loss_target_std(p.tgt, B, N, 0, 1e-5, &s), IJEPA_ERR_INVALID_ARG, FS,
               "dim 0");
    fails_with(ijepa_loss_target_std(p.tgt, B, N, D, NAN, &s), IJEPA_ERR_INVALID_ARG, FS,
               "ln_eps NaN");
    fails_with(ijepa_loss_target_std(p.tgt, B, N, D, -1.0, &s), IJEPA_ERR_INVALID_ARG, FS,
               "ln_eps < 0");
    ck_assert(s == 42.0);
    prob_close(&p);
}
END_TEST

// --- partial: slices of a batch --------------------------------------------------------------

/* The rows of images [b0, b0 + bs) of p: tgt [bs, N, D], idx [M, bs, K],
 * pred [M * bs, K, D] (row m * bs + b). */
typedef struct slice {
    float *tgt, *pred, *dpred;
    int32_t *idx;
} slice;

static slice slice_of(const prob *p, int64_t b0, int64_t bs)
{
    slice c;
    const int64_t N = p->N, D = p->D, K = p->K;
    c.tgt = ref_falloc(bs * N * D);
    c.pred = ref_falloc(p->M * bs * K * D);
    c.dpred = ref_falloc(p->M * bs * K * D);
    c.idx = malloc((size_t)(p->M * bs * K) * sizeof *c.idx);
    ck_assert(c.tgt && c.pred && c.dpred && c.idx);
    memcpy(c.tgt, p->tgt + b0 * N * D, (size_t)(bs * N * D) * sizeof(float));
    for (int64_t m = 0; m < p->M; m++) {
        memcpy(c.idx + m * bs * K, p->idx + (m * p->B + b0) * K,
               (size_t)(bs * K) * sizeof(int32_t));
        memcpy(c.pred + m * bs * K * D, p->pred + (m * p->B + b0) * K * D,
               (size_t)(bs * K * D) * sizeof(float));
    }
    return c;
}

static void slice_free(slice *c)
{
    free(c->tgt);
    free(c->pred);
    free(c->dpred);
    free(c->idx);
}

/*
 * Loop over the kinds. ijepa_loss_partial() with total_batch = batch is
 * ijepa_loss_compute() bit for bit (sum / elements, d_pred); on the slices
 * [0, 2) and [2, 5) of a batch of 5 its d_pred rows are the whole batch's
 * rows bit for bit and the sums add up to the whole batch's (1e-14
 * relative: one more addition); a NaN in a slice is a NaN sum, not an error.
 */
START_TEST(test_loss_partial)
{
    const int32_t kind = KINDS[_i];
    prob p;
    prob_open(&p, 5, 9, 12, 3, 4, 2.5, 80 + (uint64_t)_i);
    const double E = (double)p.E;
    double L, sum;
    ck_assert_int_eq(call_loss(&p, p.pred, kind, 1e-5, p.dpred, &L), IJEPA_OK);
    float *d1 = ref_falloc(p.E);
    ck_assert_ptr_nonnull(d1);
    ck_assert_int_eq(ijepa_loss_partial(p.tgt, p.B, p.N, p.D, p.idx, p.M, p.K, p.pred, kind,
                                        1e-5, p.B, d1, &sum), IJEPA_OK);
    const double mean = sum / E;
    ck_assert_msg(memcmp(&mean, &L, sizeof L) == 0, "%s: partial sum / E %.17g, loss %.17g",
                  KIND_NAMES[_i], mean, L);
    ck_assert_msg(memcmp(d1, p.dpred, (size_t)p.E * sizeof(float)) == 0,
                  "%s: d_pred of the whole batch as one slice differs", KIND_NAMES[_i]);
    const int64_t b0[2] = {0, 2}, bs[2] = {2, 3}, RD = p.K * p.D;
    double total = 0;
    for (int k = 0; k < 2; k++) {
        slice c = slice_of(&p, b0[k], bs[k]);
        double sk = -1;
        ck_assert_int_eq(ijepa_loss_partial(c.tgt, bs[k], p.N, p.D, c.idx, p.M, p.K, c.pred,
                                            kind, 1e-5, p.B, c.dpred, &sk), IJEPA_OK);
        total += sk;
        int64_t bad = 0;
        for (int64_t m = 0; m < p.M; m++)
            bad += memcmp(c.dpred + m * bs[k] * RD, p.dpred + (m * p.B + b0[k]) * RD,
                          (size_t)(bs[k] * RD) * sizeof(float)) != 0;
        ck_assert_msg(bad == 0, "%s: d_pred of slice %d differs from the whole batch's rows",
                      KIND_NAMES[_i], k);
        if (k == 1) { /* a NaN prediction: reported in the sum, for every worker to see */
            c.pred[7] = NAN;
            ck_assert_int_eq(ijepa_loss_partial(c.tgt, bs[k], p.N, p.D, c.idx, p.M, p.K, c.pred,
                                                kind, 1e-5, p.B, NULL, &sk), IJEPA_OK);
            ck_assert_msg(isnan(sk), "NaN prediction gives the sum %g", sk);
        }
        slice_free(&c);
    }
    ck_assert_msg(fabs(total - L * E) <= 1e-14 * fabs(L * E), "%s: slices sum to %.17g, "
                  "whole batch %.17g", KIND_NAMES[_i], total, L * E);
    /* errors: as the loss, plus total_batch < batch and a NULL sum */
    const char *F = "ijepa_loss_partial";
    sum = 42.0;
    fails_with(ijepa_loss_partial(p.tgt, p.B, p.N, p.D, p.idx, p.M, p.K, p.pred, kind, 1e-5,
                                  p.B - 1, d1, &sum), IJEPA_ERR_INVALID_ARG, F,
               "total_batch < batch");
    ck_assert_ptr_nonnull(strstr(ijepa_last_error(), "total_batch 4 is smaller than batch 5"));
    fails_with(ijepa_loss_partial(p.tgt, p.B, p.N, p.D, p.idx, p.M, p.K, p.pred, kind, 1e-5,
                                  p.B, d1, NULL), IJEPA_ERR_INVALID_ARG, F, "NULL sum");
    fails_with(ijepa_loss_partial(NULL, p.B, p.N, p.D, p.idx, p.M, p.K, p.pred, kind, 1e-5,
                                  p.B, d1, &sum), IJEPA_ERR_INVALID_ARG, F, "NULL target_out");
    fails_with(ijepa_loss_partial(p.tgt, p.B, p.N, p.D, p.idx, p.M, p.K, p.pred, kind, 1e-5,
                                  INT64_MAX / 4, d1, &sum), IJEPA_ERR_INVALID_ARG, F,
               "total_batch too large");
    ck_assert(sum == 42.0);
    free(d1);
    prob_close(&p);
}
END_TEST

/* Loop: dims 12 and 600. The moments of slices [0, 2) + [2, 5) add up to
 * those of the whole batch; the std they give equals the reference; a NaN
 * feature gives NaN sums, not an error. */
START_TEST(test_target_moments)
{
    const int64_t D = _i == 0 ? 12 : 600, B = 5, N = 7;
    prob p;
    prob_open(&p, B, N, D, 1, 1, 0.0, 90 + (uint64_t)_i);
    double *s1 = ref_dalloc(D), *s2 = ref_dalloc(D), *a1 = ref_dalloc(D), *a2 = ref_dalloc(D);
    double *b1 = ref_dalloc(D), *b2 = ref_dalloc(D);
    ck_assert(s1 && s2 && a1 && a2 && b1 && b2);
    ck_assert_int_eq(ijepa_loss_target_moments(p.tgt, B, N, D, 1e-5, s1, s2), IJEPA_OK);
    ck_assert_int_eq(ijepa_loss_target_moments(p.tgt, 2, N, D, 1e-5, a1, a2), IJEPA_OK);
    ck_assert_int_eq(ijepa_loss_target_moments(p.tgt + 2 * N * D, 3, N, D, 1e-5, b1, b2),
                     IJEPA_OK);
    double worst = 0, st = 0;
    for (int64_t d = 0; d < D; d++) {
        worst = fmax(worst, fabs(a1[d] + b1[d] - s1[d]));
        worst = fmax(worst, fabs(a2[d] + b2[d] - s2[d]) / fmax(1.0, s2[d]));
        const double mu = s1[d] / B, var = s2[d] / B - mu * mu;
        st += sqrt(fmax(var, 0.0));
    }
    st /= (double)D;
    ck_assert_msg(worst <= 1e-14, "slices' moments differ from the whole batch's by %.3g", worst);
    const double want = ref_target_std(p.tgt, B, N, D, 1e-5);
    ck_assert_msg(fabs(st - want) <= 1e-12 * want, "std from the moments %.17g, want %.17g", st,
                  want);
    p.tgt[5] = NAN;
    ck_assert_int_eq(ijepa_loss_target_moments(p.tgt, B, N, D, 1e-5, s1, s2), IJEPA_OK);
    ck_assert(isnan(s1[0]) && isnan(s2[D - 1]));
    const char *F = "ijepa_loss_target_moments";
    fails_with(ijepa_loss_target_moments(p.tgt, B, N, D, 1e-5, NULL, s2), IJEPA_ERR_INVALID_ARG,
               F, "NULL sum");
    fails_with(ijepa_loss_target_moments(p.tgt, B, N, D, 1e-5, s1, NULL),
               IJEPA_ERR_INVALID_ARG, F, "NULL sumsq");
    fails_with(ijepa_loss_target_moments(p.tgt, 0, N, D, 1e-5, s1, s2), IJEPA_ERR_INVALID_ARG,
               F, "batch 0");
    fails_with(ijepa_loss_target_moments(p.tgt, B, N, D, -1.0, s1, s2), IJEPA_ERR_INVALID_ARG,
               F, "ln_eps < 0");
    free(s1); free(s2); free(a1); free(a2); free(b1); free(b2);
    prob_close(&p);
}
END_TEST

// --- suite -----------------------------------------------------------------------------------

Suite *ijepa_loss_suite(void)
{
    Suite *s = suite_create("loss");

    TCase *tc = add_tcase(s, "core", IJEPA_TEST_TIMEOUT);
    tcase_add_loop_test(tc, test_loss_vs_ref, 0, 3);
    tcase_add_test(tc, test_alignment);
    tcase_add_test(tc, test_smooth_l1_boundary);

    tc = add_tcase(s, "fd", IJEPA_TEST_TIMEOUT);
    tcase_add_loop_test(tc, test_loss_fd, 0, 3);

    tc = add_tcase(s, "numeric", IJEPA_TEST_TIMEOUT);
    tcase_add_test(tc, test_loss_nonfinite);
    tcase_add_test(tc, test_loss_threads_bitwise);

    tc = add_tcase(s, "std", IJEPA_TEST_TIMEOUT);
    tcase_add_loop_test(tc, test_target_std, 0, 2);

    tc = add_tcase(s, "partial", IJEPA_TEST_TIMEOUT);
    tcase_add_loop_test(tc, test_loss_partial, 0, 3);
    tcase_add_loop_test(tc, test_target_moments, 0, 2);

    tc = add_tcase(s, "errors", IJEPA_TEST_TIMEOUT);
    tcase_add_test(tc, test_loss_errors);
    return s;
}
