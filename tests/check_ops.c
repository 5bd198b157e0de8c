/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * Implements: suite "ops" — the oneDNN kernels of lib/ops.h against the
 * double-precision reference of tests/ref.c, and the reference backward
 * kernels against finite differences.
 *
 * TCases:
 *   core    every op (matmul in all its variants, LayerNorm, softmax, GELU,
 *           forward and backward) against the reference
 *   fd      each reference backward against central differences of the
 *           reference forward (double), plus a negative control showing the
 *           check detects a 1e-4 relative error in one element
 *   limits  primitive cache: repeated calls bit-identical, buffers rebound
 *           for a cached shape, LRU eviction with a tiny capacity; in-place
 *           GELU backward; extreme softmax logits; 1x1x1 shapes
 *   errors  invalid dimensions and argument combinations
 *
 * Tolerances. A float32 result r computed from exact float inputs differs
 * from the exact value by at most about n * u * S, where u = 2^-24 is the
 * unit roundoff, n the number of rounding steps along the longest chain
 * (K for a K-term sum, in any order, FMA or not) and S the same expression
 * evaluated on absolute values (Higham, Accuracy and Stability, ch. 3).
 * Each comparison uses that element-wise bound with a factor 2 of slack and
 * a few extra steps, tol_i = 2 (n + c) u S_i, which is still orders of
 * magnitude below the error of any plausible bug (wrong transpose, missing
 * bias, unbiased variance, eps ignored, tanh-GELU, missing max-subtraction).
 * Transcendentals (exp, erf) get a few ulp more, stated where used.
 * Measured on oneDNN 2.6.3 (avx512_core_bf16): the worst element reaches
 * 29% of its bound (softmax, logits +-100), matmul 16%, GELU 26%, LayerNorm
 * less; IJEPA_TEST_VERBOSE=1 prints every comparison. Failure messages report
 * the max abs diff and the worst element.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_ijepa.h"
#include "ops.h"
#include "ref.h"
#include "helpers.h"

// --- fixture and helpers -------------------------------------------------------

typedef struct fx {
    ijepa__err err;
    ijepa__engine *eng;
    ijepa__ops *ops;
} fx;

/* Engine and ops object, created inside the test (the child process). */
static void fx_open(fx *f, int32_t capacity)
{
    memset(f, 0, sizeof *f);
    int rc = ijepa__engine_create(&f->eng, &f->err);
    ck_assert_msg(rc == IJEPA_OK, "ijepa__engine_create: %d %s", rc, ijepa_last_error());
    rc = ijepa__ops_create(&f->ops, f->eng, capacity, &f->err);
    ck_assert_msg(rc == IJEPA_OK, "ijepa__ops_create: %d %s", rc, ijepa_last_error());
}

static void fx_close(fx *f)
{
    ijepa__ops_free(f->ops);
    ijepa__engine_free(f->eng);
    f->ops = NULL;
    f->eng = NULL;
}

/* Empty the calling thread's message, so that a failure is seen to set one. */
static void clear_message(void) { ijepa__fail_func(NULL, IJEPA_OK, "%s", ""); }

static void expect_ok(const fx *f, int rc, const char *what)
{
    (void)f; /* the message is the thread's */
    ck_assert_msg(rc == IJEPA_OK, "%s returned %d: %s", what, rc, ijepa_last_error());
}

static float *fa(int64_t n)
{
    float *p = ref_falloc(n);
    ck_assert_ptr_nonnull(p);
    return p;
}

static double *da(int64_t n)
{
    double *p = ref_dalloc(n);
    ck_assert_ptr_nonnull(p);
    return p;
}

static double *f2d_new(const float *x, int64_t n)
{
    double *d = da(n);
    ref_f2d(d, x, n);
    return d;
}

static void scale_d(double *x, int64_t n, double s)
{
    for (int64_t i = 0; i < n; i++) x[i] *= s;
}

static int bits_equal(const float *a, const float *b, int64_t n)
{
    return memcmp(a, b, (size_t)n * sizeof(float)) == 0;
}

// --- matmul ----------------------------------------------------------------------

typedef struct mm_case {
    int64_t batch, M, N, K;
    int ta, tb, bias, acc;
    float alpha;
} mm_case;

typedef struct mm_data {
    mm_case c;
    int64_t nA, nB, nC;
    float *A, *B, *bias, *C0, *C;
    double *dA, *dB, *dbias, *dC0, *Cref, *S;
} mm_data;

static void mm_alloc(mm_data *d, int64_t batch, int64_t M, int64_t N, int64_t K,
                     uint64_t seed)
{
    ref_rng rng;
    ref_rng_seed(&rng, seed);
    d->nA = batch * M * K;
    d->nB = batch * K * N;
    d->nC = batch * M * N;
    d->A = fa(d->nA);
    d->B = fa(d->nB);
    d->bias = fa(N);
    d->C0 = fa(d->nC);
    d->C = fa(d->nC);
    ref_fill_f(d->A, d->nA, &rng, -1, 1);
    ref_fill_f(d->B, d->nB, &rng, -1, 1);
    ref_fill_f(d->bias, N, &rng, -1, 1);
    ref_fill_f(d->C0, d->nC, &rng, -1, 1);
    d->dA = f2d_new(d->A, d->nA);
    d->dB = f2d_new(d->B, d->nB);
    d->dbias = f2d_new(d->bias, N);
    d->dC0 = f2d_new(d->C0, d->nC);
    d->Cref = da(d->nC);
    d->S = da(d->nC);
}

static void mm_free(mm_data *d)
{
    free(d->A); free(d->B); free(d->bias); free(d->C0); free(d->C);
    free(d->dA); free(d->dB); free(d->dbias); free(d->dC0); free(d->Cref);
    free(d->S);
}

/*
 * Reference result of case c in d->Cref and its error bound in d->S:
 * S = |alpha| |op(A)| |op(B)| + |bias| (+ |C0|), tol = 2 (K + 4) u S
 * (K-term dot product, then alpha, bias and accumulate: K + 3 roundings).
 */
static void mm_reference(mm_data *d, const mm_case *c)
{
    int64_t N = c->N;
    memcpy(d->Cref, d->dC0, (size_t)d->nC * sizeof(double));
    ref_matmul(c->batch, c->M, N, c->K, d->dA, c->ta, d->dB, c->tb,
               c->bias ? d->dbias : NULL, (double)c->alpha, c->acc, d->Cref);
    double *aA = da(d->nA), *aB = da(d->nB), *ab = da(N);
    ref_dabs(aA, d->dA, d->nA);
    ref_dabs(aB, d->dB, d->nB);
    ref_dabs(ab, d->dbias, N);
    ref_dabs(d->S, d->dC0, d->nC);
    ref_matmul(c->batch, c->M, N, c->K, aA, c->ta, aB, c->tb, c->bias ? ab : NULL,
               fabs((double)c->alpha), c->acc, d->S);
    scale_d(d->S, d->nC, 2.0 * (double)(c->K + 4) * REF_U32);
    free(aA); free(aB); free(ab);
}

static void mm_describe(const mm_case *c, char *buf, size_t n)
{
    snprintf(buf, n, "matmul batch=%lld M=%lld N=%lld K=%lld trans_a=%d trans_b=%d "
             "bias=%d alpha=%g accumulate=%d", (long long)c->batch, (long long)c->M,
             (long long)c->N, (long long)c->K, c->ta, c->tb, c->bias,
             (double)c->alpha, c->acc);
}

/* Run case c with oneDNN into d->C and compare with the reference. */
static void mm_check(fx *f, mm_data *d, const mm_case *c)
{
    char what[160];
    mm_describe(c, what, sizeof what);
    memcpy(d->C, d->C0, (size_t)d->nC * sizeof(float));
    int rc = ijepa__matmul(f->ops, c->batch, c->M, c->N, c->K, d->A, c->ta, d->B,
                           c->tb, c->bias ? d->bias : NULL, c->alpha, c->acc, d->C);
    expect_ok(f, rc, what);
    mm_reference(d, c);
    ref_cmp cmp = ref_compare_f(d->C, d->Cref, d->nC, 0, 0, d->S);
    expect_close(&cmp, "%s", what);
}

static const int64_t mm_shapes[][4] = { /* batch, M, N, K */
    {1, 7, 5, 3}, {3, 7, 5, 3}, {1, 33, 65, 17}, {3, 33, 65, 17},
};

/* All combinations of trans_a, trans_b, bias, accumulate, alpha != 1,
 * except bias with alpha != 1, which ops.h excludes (see test_bad_bias_alpha). */
START_TEST(test_matmul_vs_ref)
{
    const int64_t *s = mm_shapes[_i];
    fx f;
    fx_open(&f, 64);
    mm_data d;
    mm_alloc(&d, s[0], s[1], s[2], s[3], 100 + (uint64_t)_i);
    for (int combo = 0; combo < 32; combo++) {
        mm_case c = {s[0], s[1], s[2], s[3], combo & 1, (combo >> 1) & 1,
                     (combo >> 2) & 1, (combo >> 3) & 1,
                     (combo >> 4) & 1 ? -0.7f : 1.0f};
        if (c.bias && c.alpha != 1.0f) continue;
        mm_check(&f, &d, &c);
    }
    mm_free(&d);
    fx_close(&f);
}
END_TEST

/*
 * A Linear layer y = x W^T + b and its backward written as the three matmuls
 * the library uses (ops.h), against ref_matmul_bwd:
 *   dx = dy W,  dW = dy^T x (accumulated onto an existing gradient).
 */
START_TEST(test_linear_fwd_bwd)
{
    const int64_t rows = 13, in = 9, out = 6;
    fx f;
    fx_open(&f, 64);
    ref_rng rng;
    ref_rng_seed(&rng, 7);
    float *x = fa(rows * in), *W = fa(out * in), *b = fa(out), *y = fa(rows * out);
    float *dy = fa(rows * out), *dx = fa(rows * in), *dW = fa(out * in);
    ref_fill_f(x, rows * in, &rng, -1, 1);
    ref_fill_f(W, out * in, &rng, -1, 1);
    ref_fill_f(b, out, &rng, -1, 1);
    ref_fill_f(dy, rows * out, &rng, -1, 1);
    ref_fill_f(dW, out * in, &rng, -1, 1); /* previous gradient */
    double *xd = f2d_new(x, rows * in), *Wd = f2d_new(W, out * in);
    double *bd = f2d_new(b, out), *dyd = f2d_new(dy, rows * out);
    double *dW0 = f2d_new(dW, out * in);
    double *yr = da(rows * out), *dxr = da(rows * in), *dWr = da(out * in);
    double *dbr = da(out);

    expect_ok(&f, ijepa__matmul(f.ops, 1, rows, out, in, x, 0, W, 1, b, 1.0f, 0, y),
              "linear forward");
    ref_matmul(1, rows, out, in, xd, 0, Wd, 1, bd, 1.0, 0, yr);
    /* K = in terms; |x||W| <= in, |b| <= 1 */
    ref_cmp c = ref_compare_f(y, yr, rows * out, 2.0 * (in + 4) * REF_U32 * (in + 1), 0, NULL);
    expect_close(&c, "linear forward");

    expect_ok(&f, ijepa__matmul(f.ops, 1, rows, in, out, dy, 0, W, 0, NULL, 1.0f, 0, dx),
              "linear backward data");
    expect_ok(&f, ijepa__matmul(f.ops, 1, out, in, rows, dy, 1, x, 0, NULL, 1.0f, 1, dW),
              "linear backward weights");
    ref_matmul_bwd(1, rows, out, in, xd, 0, Wd, 1, 1.0, dyd, dxr, dWr, dbr);
    for (int64_t i = 0; i < out * in; i++) dWr[i] += dW0[i];
    c = ref_compare_f(dx, dxr, rows * in, 2.0 * (out + 4) * REF_U32 * out, 0, NULL);
    expect_close(&c, "linear backward dx");
    c = ref_compare_f(dW, dWr, out * in, 2.0 * (rows + 4) * REF_U32 * (rows + 1), 0, NULL);
    expect_close(&c, "linear backward dW (accumulated)");

    free(x); free(W); free(b); free(y); free(dy); free(dx); free(dW);
    free(xd); free(Wd); free(bd); free(dyd); free(dW0); free(yr); free(dxr);
    free(dWr); free(dbr);
    fx_close(&f);
}
END_TEST

// --- layernorm -------------------------------------------------------------------

typedef struct ln_case {
    int64_t rows, C;
    int affine;
    float eps;
    double offset; /* added to every x: exposes E[x^2] - mean^2 variance */
} ln_case;

static const ln_case ln_cases[] = {
    {6, 10, 1, 1e-6f, 0},  {6, 10, 0, 1e-6f, 0},   {37, 48, 1, 1e-6f, 0},
    {37, 48, 0, 1e-6f, 0}, {37, 48, 1, 0.1f, 0},   {37, 48, 1, 1e-6f, 100},
    {37, 48, 0, 0.1f, 100},
};

/*
 * Error bounds. Per row r, A_r = rstd * max|x_r| is the scale of the
 * rounding in x - mean (large with an offset). With h = (x - mean) rstd:
 *   y      2 (C + 8) u (|gamma| (|h| + A_r + 1) + |beta|)
 *   mean   2 (C + 2) u max|x_r|
 *   var    2 (C + 8) u (var + 2 sqrt(var) max|x_r|)
 *   dx     2 (C + 8) u rstd (|g| + mean|g| + (|h| + A_r) mean(|g| (|h| + A_r)))
 *          with g = dy gamma
 *   dgamma 2 (rows + 8) u sum_r |dy| (|h| + A_r)
 *   dbeta  2 (rows + 4) u sum_r |dy|
 */
START_TEST(test_layernorm_vs_ref)
{
    const ln_case *k = &ln_cases[_i];
    const int64_t rows = k->rows, C = k->C, n = rows * C;
    char what[128];
    snprintf(what, sizeof what, "layernorm rows=%lld C=%lld affine=%d eps=%g offset=%g",
             (long long)rows, (long long)C, k->affine, (double)k->eps, k->offset);
    fx f;
    fx_open(&f, 64);
    ref_rng rng;
    ref_rng_seed(&rng, 200 + (uint64_t)_i);
    float *x = fa(n), *g = fa(C), *b = fa(C), *y = fa(n), *y2 = fa(n), *mean = fa(rows);
    float *var = fa(rows), *dy = fa(n), *dx = fa(n), *dg = fa(C), *db = fa(C);
    for (int64_t r = 0; r < rows; r++) { /* rows of different scales */
        double s = ref_rng_range(&rng, 0.1, 3.0);
        for (int64_t c = 0; c < C; c++)
            x[r * C + c] = (float)(k->offset + s * ref_rng_range(&rng, -1, 1));
    }
    ref_fill_f(g, C, &rng, -1.5, 1.5);
    ref_fill_f(b, C, &rng, -1, 1);
    ref_fill_f(dy, n, &rng, -1, 1);
    const float *gp = k->affine ? g : NULL, *bp = k->affine ? b : NULL;

    double *xd = f2d_new(x, n), *gd = f2d_new(g, C), *bd = f2d_new(b, C);
    double *dyd = f2d_new(dy, n);
    double *yr = da(n), *mr = da(rows), *vr = da(rows), *tol = da(n), *tolr = da(rows);
    double *tolv = da(rows), *dxr = da(n), *dgr = da(C), *dbr = da(C);
    double *tolg = da(C), *tolb = da(C);
    double eps = (double)k->eps;

    /* forward, training (writes mean and var) and inference */
    expect_ok(&f, ijepa__layernorm_fwd(f.ops, rows, C, k->eps, x, gp, bp, y, mean, var), what);
    expect_ok(&f, ijepa__layernorm_fwd(f.ops, rows, C, k->eps, x, gp, bp, y2, NULL, NULL), what);
    ref_layernorm_fwd(rows, C, eps, xd, k->affine ? gd : NULL, k->affine ? bd : NULL, yr, mr, vr);
    for (int64_t r = 0; r < rows; r++) {
        double rstd = 1.0 / sqrt(vr[r] + eps);
        double mx = ref_max_abs_d(xd + r * C, C), A = rstd * mx;
        tolr[r] = 2.0 * (C + 2) * REF_U32 * mx;
        tolv[r] = 2.0 * (C + 8) * REF_U32 * (vr[r] + 2.0 * sqrt(vr[r]) * mx);
        for (int64_t c = 0; c < C; c++) {
            double h = fabs(xd[r * C + c] - mr[r]) * rstd;
            double ga = k->affine ? fabs(gd[c]) : 1.0, ba = k->affine ? fabs(bd[c]) : 0.0;
            tol[r * C + c] = 2.0 * (C + 8) * REF_U32 * (ga * (h + A + 1.0) + ba);
        }
    }
    ref_cmp cmp = ref_compare_f(y, yr, n, 0, 0, tol);
    expect_close(&cmp, "%s: y (training)", what);
    cmp = ref_compare_f(y2, yr, n, 0, 0, tol);
    expect_close(&cmp, "%s: y (inference)", what);
    cmp = ref_compare_f(mean, mr, rows, 0, 0, tolr);
    expect_close(&cmp, "%s: mean", what);
    cmp = ref_compare_f(var, vr, rows, 0, 0, tolv);
    expect_close(&cmp, "%s: var", what);

    /* backward from the oneDNN statistics: both sides see the same floats */
    double *mfd = f2d_new(mean, rows), *vfd = f2d_new(var, rows);
    expect_ok(&f, ijepa__layernorm_bwd(f.ops, rows, C, k->eps, x, mean, var, gp, dy, dx,
                                       k->affine ? dg : NULL, k->affine ? db : NULL), what);
    ref_layernorm_bwd(rows, C, eps, xd, mfd, vfd, k->affine ? gd : NULL, dyd, dxr, dgr, dbr);
    for (int64_t c = 0; c < C; c++) tolg[c] = tolb[c] = 0.0;
    for (int64_t r = 0; r < rows; r++) {
        double rstd = 1.0 / sqrt(vfd[r] + eps);
        double A = rstd * ref_max_abs_d(xd + r * C, C), mg = 0.0, mgh = 0.0;
        for (int64_t c = 0; c < C; c++) {
            double h = fabs(xd[r * C + c] - mfd[r]) * rstd + A;
            double ga = fabs(dyd[r * C + c]) * (k->affine ? fabs(gd[c]) : 1.0);
            mg += ga / C;
            mgh += ga * h / C;
            tolg[c] += fabs(dyd[r * C + c]) * h;
            tolb[c] += fabs(dyd[r * C + c]);
        }
        for (int64_t c = 0; c < C; c++) {
            double h = fabs(xd[r * C + c] - mfd[r]) * rstd + A;
            double ga = fabs(dyd[r * C + c]) * (k->affine ? fabs(gd[c]) : 1.0);
            tol[r * C + c] = 2.0 * (C + 8) * REF_U32 * rstd * (ga + mg + h * mgh);
        }
    }
    scale_d(tolg, C, 2.0 * (rows + 8) * REF_U32);
    scale_d(tolb, C, 2.0 * (rows + 4) * REF_U32);
    cmp = ref_compare_f(dx, dxr, n, 0, 0, tol);
    expect_close(&cmp, "%s: dx", what);
    if (k->affine) {
        cmp = ref_compare_f(dg, dgr, C, 0, 0, tolg);
        expect_close(&cmp, "%s: dgamma", what);
        cmp = ref_compare_f(db, dbr, C, 0, 0, tolb);
        expect_close(&cmp, "%s: dbeta", what);
    }

    free(x); free(g); free(b); free(y); free(y2); free(mean); free(var); free(dy);
    free(dx); free(dg); free(db); free(xd); free(gd); free(bd); free(dyd); free(yr);
    free(mr); free(vr); free(tol); free(tolr); free(tolv); free(dxr); free(dgr);
    free(dbr); free(tolg); free(tolb); free(mfd); free(vfd);
    fx_close(&f);
}
END_TEST

// --- softmax ---------------------------------------------------------------------

static const int64_t sm_shapes[][2] = {{5, 7}, {24, 50}};

/*
 * Also runs the forward in place (y aliasing x), which must give the same
 * bits. Bounds: forward 4 (cols + 16 + |x - max|) u y: the exp of x - max (the
 * subtraction rounds relative to |x - max|, exp adds a few ulp), a cols-term
 * sum, a division. Backward 2 (cols + 8) u y (|dy| + sum|dy y|).
 */
static void softmax_check(fx *f, int64_t rows, int64_t cols, double lo, double hi,
                          uint64_t seed)
{
    const int64_t n = rows * cols;
    char what[96];
    snprintf(what, sizeof what, "softmax rows=%lld cols=%lld x in [%g, %g]",
             (long long)rows, (long long)cols, lo, hi);
    ref_rng rng;
    ref_rng_seed(&rng, seed);
    float *x = fa(n), *y = fa(n), *dy = fa(n), *dx = fa(n);
    ref_fill_f(x, n, &rng, lo, hi);
    ref_fill_f(dy, n, &rng, -1, 1);
    double *xd = f2d_new(x, n), *dyd = f2d_new(dy, n), *yr = da(n), *tol = da(n);
    double *dxr = da(n);

    expect_ok(f, ijepa__softmax_fwd(f->ops, rows, cols, x, y), what);
    ref_softmax_fwd(rows, cols, xd, yr);
    for (int64_t r = 0; r < rows; r++) {
        double mx = xd[r * cols];
        for (int64_t c = 1; c < cols; c++) mx = fmax(mx, xd[r * cols + c]);
        for (int64_t c = 0; c < cols; c++) {
            int64_t i = r * cols + c;
            tol[i] = 4.0 * (cols + 16 + (mx - xd[i])) * REF_U32 * yr[i];
        }
    }
    /* below FLT_MIN float has no relative accuracy and oneDNN's exp
     * flushes exp(t) for t < ~-87.3 to 0: allow an absolute 4 FLT_MIN */
    ref_cmp cmp = ref_compare_f(y, yr, n, 4.0 * FLT_MIN, 0, tol);
    expect_close(&cmp, "%s: y", what);

    /* y may alias x (ops.h) */
    float *xy = fa(n);
    memcpy(xy, x, (size_t)n * sizeof(float));
    expect_ok(f, ijepa__softmax_fwd(f->ops, rows, cols, xy, xy), what);
    ck_assert_msg(bits_equal(xy, y, n), "%s: in-place result differs from out-of-place",
                  what);
    free(xy);

    /* backward from the oneDNN forward output, the same floats on both sides */
    double *yd = f2d_new(y, n);
    expect_ok(f, ijepa__softmax_bwd(f->ops, rows, cols, y, dy, dx), what);
    ref_softmax_bwd(rows, cols, yd, dyd, dxr);
    for (int64_t r = 0; r < rows; r++) {
        double s = 0.0;
        for (int64_t c = 0; c < cols; c++) s += fabs(dyd[r * cols + c] * yd[r * cols + c]);
        for (int64_t c = 0; c < cols; c++) {
            int64_t i = r * cols + c;
            tol[i] = 2.0 * (cols + 8) * REF_U32 * yd[i] * (fabs(dyd[i]) + s);
        }
    }
    cmp = ref_compare_f(dx, dxr, n, 0, 0, tol);
    expect_close(&cmp, "%s: dx", what);

    free(x); free(y); free(dy); free(dx); free(xd); free(dyd); free(yr); free(tol);
    free(dxr); free(yd);
}

START_TEST(test_softmax_vs_ref)
{
    fx f;
    fx_open(&f, 64);
    softmax_check(&f, sm_shapes[_i][0], sm_shapes[_i][1], -4, 4, 300 + (uint64_t)_i);
    fx_close(&f);
}
END_TEST

// --- GELU ------------------------------------------------------------------------

/*
 * Bounds. oneDNN evaluates erf with a polynomial (absolute error of a few
 * ulp of 1), so y = x (1 + erf) / 2 has an absolute error ~ u |x| that is
 * not relative to y (y -> 0 for x << 0): tol = 8 u (|y| + |x|). The
 * derivative Phi + x phi likewise: tol = 16 u |dy| (1 + |x| phi(x) + Phi).
 * The tanh approximation differs from exact GELU by up to ~5e-4 and an
 * unshifted erf argument by far more, so these still catch the wrong GELU.
 */
static void gelu_tol_fwd(const double *x, const double *y, double *tol, int64_t n)
{
    for (int64_t i = 0; i < n; i++) tol[i] = 8.0 * REF_U32 * (fabs(y[i]) + fabs(x[i]));
}

static void gelu_tol_bwd(const double *x, const double *dy, double *tol, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        double pdf = 0.39894228040143267794 * exp(-0.5 * x[i] * x[i]);
        double cdf = 0.5 * (1.0 + erf(x[i] * 0.70710678118654752440));
        tol[i] = 16.0 * REF_U32 * fabs(dy[i]) * (1.0 + fabs(x[i]) * pdf + cdf);
    }
}

START_TEST(test_gelu_vs_ref)
{
    const int64_t n = 1000;
    fx f;
    fx_open(&f, 64);
    ref_rng rng;
    ref_rng_seed(&rng, 400);
    float *x = fa(n), *y = fa(n), *dy = fa(n), *dx = fa(n);
    for (int64_t i = 0; i < n; i++) x[i] = (float)(-6.0 + 12.0 * (double)i / (double)(n - 1));
    ref_fill_f(dy, n, &rng, -1, 1);
    double *xd = f2d_new(x, n), *dyd = f2d_new(dy, n), *yr = da(n), *dxr = da(n);
    double *tol = da(n);

    expect_ok(&f, ijepa__gelu_fwd(f.ops, n, x, y), "gelu forward");
    ref_gelu_fwd(n, xd, yr);
    gelu_tol_fwd(xd, yr, tol, n);
    ref_cmp c = ref_compare_f(y, yr, n, 0, 0, tol);
    expect_close(&c, "gelu forward n=%lld x in [-6, 6]", (long long)n);

    expect_ok(&f, ijepa__gelu_bwd(f.ops, n, x, dy, dx), "gelu backward");
    ref_gelu_bwd(n, xd, dyd, dxr);
    gelu_tol_bwd(xd, dyd, tol, n);
    c = ref_compare_f(dx, dxr, n, 0, 0, tol);
    expect_close(&c, "gelu backward n=%lld", (long long)n);

    free(x); free(y); free(dy); free(dx); free(xd); free(dyd); free(yr); free(dxr);
    free(tol);
    fx_close(&f);
}
END_TEST

// --- finite differences of the reference ------------------------------------------

/*
 * Central differences in double with h = 1e-6: truncation error ~ h^2 f''' ~
 * 1e-12 and rounding ~ 1e-16 |y| / h ~ 1e-10 relative, so a correct backward
 * agrees to ~1e-9; the check allows rtol 1e-6 plus an absolute floor of
 * 1e-7 * max|grad| for elements near zero. The negative control below shows
 * this detects a 1e-4 relative error in a single element.
 */
#define FD_H 1e-6
#define FD_RTOL 1e-6
#define FD_AFLOOR 1e-7

static void fd_expect(const double *fd, const double *an, int64_t n, const char *what)
{
    ref_cmp c = ref_compare_d(fd, an, n, FD_AFLOOR * ref_max_abs_d(an, n), FD_RTOL, NULL);
    expect_close(&c, "finite differences vs backward: %s", what);
}

static void fd_grad(ref_fwd_fn fn, void *ctx, double *x, int64_t nx, int64_t ny,
                    const double *R, double *g)
{
    ck_assert_int_eq(ref_fd_grad(fn, ctx, x, nx, ny, R, FD_H, g), 0);
}

typedef struct mm_fd {
    int64_t batch, M, N, K;
    int ta, tb;
    double alpha;
    double *A, *B, *bias, *C0;
} mm_fd;

static void mm_fd_fwd(void *p, double *y)
{
    const mm_fd *m = p;
    memcpy(y, m->C0, (size_t)(m->batch * m->M * m->N) * sizeof(double));
    ref_matmul(m->batch, m->M, m->N, m->K, m->A, m->ta, m->B, m->tb, m->bias,
               m->alpha, 1, y);
}

START_TEST(test_fd_matmul)
{
    mm_fd m = {2, 4, 3, 5, _i & 1, (_i >> 1) & 1, -0.7, NULL, NULL, NULL, NULL};
    const int64_t nA = m.batch * m.M * m.K, nB = m.batch * m.K * m.N;
    const int64_t nC = m.batch * m.M * m.N;
    ref_rng rng;
    ref_rng_seed(&rng, 500 + (uint64_t)_i);
    m.A = da(nA); m.B = da(nB); m.bias = da(m.N); m.C0 = da(nC);
    double *R = da(nC), *gA = da(nA), *gB = da(nB), *gb = da(m.N), *gC = da(nC);
    double *fA = da(nA), *fB = da(nB), *fb = da(m.N), *fC = da(nC);
    ref_fill_d(m.A, nA, &rng, -1, 1);
    ref_fill_d(m.B, nB, &rng, -1, 1);
    ref_fill_d(m.bias, m.N, &rng, -1, 1);
    ref_fill_d(m.C0, nC, &rng, -1, 1);
    ref_fill_d(R, nC, &rng, -1, 1);
    ref_matmul_bwd(m.batch, m.M, m.N, m.K, m.A, m.ta, m.B, m.tb, m.alpha, R, gA, gB, gb);
    memcpy(gC, R, (size_t)nC * sizeof(double)); /* accumulated input: dC0 = dC */
    fd_grad(mm_fd_fwd, &m, m.A, nA, nC, R, fA);
    fd_grad(mm_fd_fwd, &m, m.B, nB, nC, R, fB);
    fd_grad(mm_fd_fwd, &m, m.bias, m.N, nC, R, fb);
    fd_grad(mm_fd_fwd, &m, m.C0, nC, nC, R, fC);
    char what[64];
    snprintf(what, sizeof what, "matmul trans_a=%d trans_b=%d dA", m.ta, m.tb);
    fd_expect(fA, gA, nA, what);
    snprintf(what, sizeof what, "matmul trans_a=%d trans_b=%d dB", m.ta, m.tb);
    fd_expect(fB, gB, nB, what);
    fd_expect(fb, gb, m.N, "matmul dbias");
    fd_expect(fC, gC, nC, "matmul dC (accumulate)");
    free(m.A); free(m.B); free(m.bias); free(m.C0); free(R); free(gA); free(gB);
    free(gb); free(gC); free(fA); free(fB); free(fb); free(fC);
}
END_TEST

typedef struct ln_fd {
    int64_t rows, C;
    double eps;
    double *x, *gamma, *beta; /* gamma, beta NULL: no affine */
} ln_fd;

static void ln_fd_fwd(void *p, double *y)
{
    const ln_fd *l = p;
    ref_layernorm_fwd(l->rows, l->C, l->eps, l->x, l->gamma, l->beta, y, NULL, NULL);
}

START_TEST(test_fd_layernorm)
{
    const int affine = _i;
    ln_fd l = {3, 7, 1e-3, NULL, NULL, NULL};
    const int64_t n = l.rows * l.C;
    ref_rng rng;
    ref_rng_seed(&rng, 600 + (uint64_t)_i);
    l.x = da(n);
    double *g = da(l.C), *b = da(l.C), *R = da(n), *y = da(n), *mean = da(l.rows);
    double *var = da(l.rows), *dx = da(n), *dg = da(l.C), *db = da(l.C);
    double *fx_ = da(n), *fg = da(l.C), *fb = da(l.C);
    ref_fill_d(l.x, n, &rng, -2, 2);
    ref_fill_d(g, l.C, &rng, -1.5, 1.5);
    ref_fill_d(b, l.C, &rng, -1, 1);
    ref_fill_d(R, n, &rng, -1, 1);
    if (affine) { l.gamma = g; l.beta = b; }
    ref_layernorm_fwd(l.rows, l.C, l.eps, l.x, l.gamma, l.beta, y, mean, var);
    ref_layernorm_bwd(l.rows, l.C, l.eps, l.x, mean, var, l.gamma, R, dx, dg, db);
    fd_grad(ln_fd_fwd, &l, l.x, n, n, R, fx_);
    fd_expect(fx_, dx, n, affine ? "layernorm dx (affine)" : "layernorm dx (no affine)");
    if (affine) {
        fd_grad(ln_fd_fwd, &l, l.gamma, l.C, n, R, fg);
        fd_grad(ln_fd_fwd, &l, l.beta, l.C, n, R, fb);
        fd_expect(fg, dg, l.C, "layernorm dgamma");
        fd_expect(fb, db, l.C, "layernorm dbeta");
    }
    free(l.x); free(g); free(b); free(R); free(y); free(mean); free(var); free(dx);
    free(dg); free(db); free(fx_); free(fg); free(fb);
}
END_TEST

typedef struct sm_fd { int64_t rows, cols; double *x; } sm_fd;

static void sm_fd_fwd(void *p, double *y)
{
    const sm_fd *s = p;
    ref_softmax_fwd(s->rows, s->cols, s->x, y);
}

START_TEST(test_fd_softmax)
{
    sm_fd s = {4, 6, NULL};
    const int64_t n = s.rows * s.cols;
    ref_rng rng;
    ref_rng_seed(&rng, 700);
    s.x = da(n);
    double *R = da(n), *y = da(n), *dx = da(n), *fdx = da(n);
    ref_fill_d(s.x, n, &rng, -3, 3);
    ref_fill_d(R, n, &rng, -1, 1);
    ref_softmax_fwd(s.rows, s.cols, s.x, y);
    ref_softmax_bwd(s.rows, s.cols, y, R, dx);
    fd_grad(sm_fd_fwd, &s, s.x, n, n, R, fdx);
    fd_expect(fdx, dx, n, "softmax dx");
    free(s.x); free(R); free(y); free(dx); free(fdx);
}
END_TEST

typedef struct gelu_fd { int64_t n; double *x; } gelu_fd;

static void gelu_fd_fwd(void *p, double *y)
{
    const gelu_fd *g = p;
    ref_gelu_fwd(g->n, g->x, y);
}

START_TEST(test_fd_gelu)
{
    gelu_fd g = {61, NULL};
    ref_rng rng;
    ref_rng_seed(&rng, 800);
    g.x = da(g.n);
    double *R = da(g.n), *dx = da(g.n), *fdx = da(g.n);
    for (int64_t i = 0; i < g.n; i++) g.x[i] = -6.0 + 12.0 * (double)i / (double)(g.n - 1);
    ref_fill_d(R, g.n, &rng, -1, 1);
    ref_gelu_bwd(g.n, g.x, R, dx);
    fd_grad(gelu_fd_fwd, &g, g.x, g.n, g.n, R, fdx);
    fd_expect(fdx, dx, g.n, "gelu dx");
    free(g.x); free(R); free(dx); free(fdx);
}
END_TEST

/* Negative control: the same check must reject a backward that is off by a
 * relative 1e-4 in one element, or that omits the mean(g h) term of the
 * LayerNorm backward. */
START_TEST(test_fd_detects_errors)
{
    ln_fd l = {3, 7, 1e-3, NULL, NULL, NULL};
    const int64_t n = l.rows * l.C;
    ref_rng rng;
    ref_rng_seed(&rng, 900);
    l.x = da(n);
    double *R = da(n), *y = da(n), *mean = da(l.rows), *var = da(l.rows);
    double *dx = da(n), *fdx = da(n), *bad = da(n);
    ref_fill_d(l.x, n, &rng, -2, 2);
    ref_fill_d(R, n, &rng, -1, 1);
    ref_layernorm_fwd(l.rows, l.C, l.eps, l.x, NULL, NULL, y, mean, var);
    ref_layernorm_bwd(l.rows, l.C, l.eps, l.x, mean, var, NULL, R, dx, NULL, NULL);
    fd_grad(ln_fd_fwd, &l, l.x, n, n, R, fdx);
    double afloor = FD_AFLOOR * ref_max_abs_d(dx, n);

    ref_cmp c = ref_compare_d(fdx, dx, n, afloor, FD_RTOL, NULL);
    ck_assert_msg(ref_cmp_ok(&c), "control: correct gradient rejected");
    for (int64_t i = 0; i < n; i += 5) {
        memcpy(bad, dx, (size_t)n * sizeof(double));
        bad[i] *= 1.0 + 1e-4;
        c = ref_compare_d(fdx, bad, n, afloor, FD_RTOL, NULL);
        ck_assert_msg(!ref_cmp_ok(&c), "1e-4 relative error at %lld not detected",
                      (long long)i);
    }
    /* dx without the - h mean(g h) term */
    for (int64_t r = 0; r < l.rows; r++) {
        double rstd = 1.0 / sqrt(var[r] + l.eps), mg = 0.0;
        for (int64_t c2 = 0; c2 < l.C; c2++) mg += R[r * l.C + c2] / l.C;
        for (int64_t c2 = 0; c2 < l.C; c2++)
            bad[r * l.C + c2] = rstd * (R[r * l.C + c2] - mg);
    }
    c = ref_compare_d(fdx, bad, n, afloor, FD_RTOL, NULL);
    ck_assert_msg(!ref_cmp_ok(&c), "incomplete LayerNorm backward not detected");
    free(l.x); free(R); free(y); free(mean); free(var); free(dx); free(fdx); free(bad);
}
END_TEST

// --- limits: cache, aliasing, extreme values ----------------------------------------

/* Each op twice with the same shape: the second call goes through the
 * cached primitive and must give bit-identical results. */
START_TEST(test_repeat_identical)
{
    fx f;
    fx_open(&f, 64);
    ref_rng rng;
    ref_rng_seed(&rng, 1000);
    const int64_t rows = 9, C = 24, n = rows * C;
    float *x = fa(n), *W = fa(C * C), *g = fa(C), *b = fa(C), *dy = fa(n);
    float *o1 = fa(n), *o2 = fa(n), *m1 = fa(rows), *v1 = fa(rows), *m2 = fa(rows);
    float *v2 = fa(rows), *g1 = fa(C), *g2 = fa(C), *b1 = fa(C), *b2 = fa(C);
    ref_fill_f(x, n, &rng, -2, 2);
    ref_fill_f(W, C * C, &rng, -1, 1);
    ref_fill_f(g, C, &rng, -1, 1);
    ref_fill_f(b, C, &rng, -1, 1);
    ref_fill_f(dy, n, &rng, -1, 1);

    expect_ok(&f, ijepa__matmul(f.ops, 1, rows, C, C, x, 0, W, 1, b, 1.0f, 0, o1), "matmul");
    expect_ok(&f, ijepa__matmul(f.ops, 1, rows, C, C, x, 0, W, 1, b, 1.0f, 0, o2), "matmul");
    ck_assert_msg(bits_equal(o1, o2, n), "matmul: repeated call differs");

    expect_ok(&f, ijepa__layernorm_fwd(f.ops, rows, C, 1e-6f, x, g, b, o1, m1, v1), "ln");
    expect_ok(&f, ijepa__layernorm_fwd(f.ops, rows, C, 1e-6f, x, g, b, o2, m2, v2), "ln");
    ck_assert_msg(bits_equal(o1, o2, n) && bits_equal(m1, m2, rows) &&
                  bits_equal(v1, v2, rows), "layernorm forward: repeated call differs");
    expect_ok(&f, ijepa__layernorm_bwd(f.ops, rows, C, 1e-6f, x, m1, v1, g, dy, o1, g1, b1),
              "ln bwd");
    expect_ok(&f, ijepa__layernorm_bwd(f.ops, rows, C, 1e-6f, x, m1, v1, g, dy, o2, g2, b2),
              "ln bwd");
    ck_assert_msg(bits_equal(o1, o2, n) && bits_equal(g1, g2, C) && bits_equal(b1, b2, C),
                  "layernorm backward: repeated call differs (dgamma/dbeta must be "
                  "overwritten, not accumulated)");

    expect_ok(&f, ijepa__softmax_fwd(f.ops, rows, C, x, o1), "softmax");
    expect_ok(&f, ijepa__softmax_fwd(f.ops, rows, C, x, o2), "softmax");
    ck_assert_msg(bits_equal(o1, o2, n), "softmax forward: repeated call differs");
    float *y = fa(n);
    memcpy(y, o1, (size_t)n * sizeof(float));
    expect_ok(&f, ijepa__softmax_bwd(f.ops, rows, C, y, dy, o1), "softmax bwd");
    expect_ok(&f, ijepa__softmax_bwd(f.ops, rows, C, y, dy, o2), "softmax bwd");
    ck_assert_msg(bits_equal(o1, o2, n), "softmax backward: repeated call differs");

    expect_ok(&f, ijepa__gelu_fwd(f.ops, n, x, o1), "gelu");
    expect_ok(&f, ijepa__gelu_fwd(f.ops, n, x, o2), "gelu");
    ck_assert_msg(bits_equal(o1, o2, n), "gelu forward: repeated call differs");
    expect_ok(&f, ijepa__gelu_bwd(f.ops, n, x, dy, o1), "gelu bwd");
    expect_ok(&f, ijepa__gelu_bwd(f.ops, n, x, dy, o2), "gelu bwd");
    ck_assert_msg(bits_equal(o1, o2, n), "gelu backward: repeated call differs");

    free(x); free(W); free(g); free(b); free(dy); free(o1); free(o2); free(m1);
    free(v1); free(m2); free(v2); free(g1); free(g2); free(b1); free(b2); free(y);
    fx_close(&f);
}
END_TEST

/*
 * The cache keys on shape, not on pointers: the same shape with other
 * buffers must read and write those buffers. And with capacity 2, cycling
 * through 3 shapes evicts on every call; results must stay right (and equal
 * to the first round's, bit for bit).
 */
START_TEST(test_cache_rebind_and_evict)
{
    fx f;
    fx_open(&f, 2);
    mm_data d[3];
    const int64_t shp[3][4] = {{1, 7, 5, 3}, {2, 4, 6, 8}, {1, 5, 5, 5}};
    for (int i = 0; i < 3; i++)
        mm_alloc(&d[i], shp[i][0], shp[i][1], shp[i][2], shp[i][3], 1100 + (uint64_t)i);
    float *first[3];
    for (int round = 0; round < 3; round++)
        for (int i = 0; i < 3; i++) {
            mm_case c = {shp[i][0], shp[i][1], shp[i][2], shp[i][3], 0, 1, 1, 0, 1.0f};
            mm_check(&f, &d[i], &c);
            if (round == 0) {
                first[i] = fa(d[i].nC);
                memcpy(first[i], d[i].C, (size_t)d[i].nC * sizeof(float));
            } else {
                ck_assert_msg(bits_equal(first[i], d[i].C, d[i].nC),
                              "shape %d round %d differs from round 0", i, round);
            }
        }

    /* same shape as d[0], other buffers */
    mm_data e;
    mm_alloc(&e, shp[0][0], shp[0][1], shp[0][2], shp[0][3], 1200);
    mm_case c = {shp[0][0], shp[0][1], shp[0][2], shp[0][3], 0, 1, 1, 0, 1.0f};
    mm_check(&f, &d[0], &c);
    mm_check(&f, &e, &c);
    mm_check(&f, &d[0], &c);

    for (int i = 0; i < 3; i++) { mm_free(&d[i]); free(first[i]); }
    mm_free(&e);
    fx_close(&f);
}
END_TEST

/* gelu_bwd documents dx may alias dy. */
START_TEST(test_gelu_bwd_inplace)
{
    const int64_t n = 333;
    fx f;
    fx_open(&f, 64);
    ref_rng rng;
    ref_rng_seed(&rng, 1300);
    float *x = fa(n), *d = fa(n);
    ref_fill_f(x, n, &rng, -5, 5);
    ref_fill_f(d, n, &rng, -1, 1);
    double *xd = f2d_new(x, n), *dyd = f2d_new(d, n), *dxr = da(n), *tol = da(n);
    expect_ok(&f, ijepa__gelu_bwd(f.ops, n, x, d, d), "gelu backward in place");
    ref_gelu_bwd(n, xd, dyd, dxr);
    gelu_tol_bwd(xd, dyd, tol, n);
    ref_cmp c = ref_compare_f(d, dxr, n, 0, 0, tol);
    expect_close(&c, "gelu backward, dx aliasing dy");
    free(x); free(d); free(xd); free(dyd); free(dxr); free(tol);
    fx_close(&f);
}
END_TEST

/* Logits up to +-100: exp overflows float unless the row max is subtracted. */
START_TEST(test_softmax_large_logits)
{
    fx f;
    fx_open(&f, 64);
    softmax_check(&f, 6, 19, -100, 100, 1400);
    fx_close(&f);
}
END_TEST

/* Smallest shapes: every dimension 1. */
START_TEST(test_unit_shapes)
{
    fx f;
    fx_open(&f, 64);
    mm_data d;
    mm_alloc(&d, 1, 1, 1, 1, 1500);
    for (int combo = 0; combo < 16; combo++) {
        mm_case c = {1, 1, 1, 1, combo & 1, (combo >> 1) & 1, (combo >> 2) & 1,
                     (combo >> 3) & 1, 1.0f};
        mm_check(&f, &d, &c);
    }
    mm_free(&d);
    float x = 3.0f, y = 0.0f;
    expect_ok(&f, ijepa__softmax_fwd(f.ops, 1, 1, &x, &y), "softmax 1x1");
    ck_assert_float_eq(y, 1.0f);
    float gx = 0.0f, gy = 1.0f;
    expect_ok(&f, ijepa__gelu_fwd(f.ops, 1, &gx, &gy), "gelu n=1");
    ck_assert_float_eq_tol(gy, 0.0f, 1e-7f);
    fx_close(&f);
}
END_TEST

// --- errors ------------------------------------------------------------------------

static void expect_fail(const fx *f, int rc, const char *what)
{
    (void)f;
    ck_assert_msg(rc < 0, "%s: expected a negative status, got %d", what, rc);
    ck_assert_msg(ijepa_last_error()[0] != '\0', "%s: status %d without a message", what, rc);
}

START_TEST(test_bad_dims)
{
    fx f;
    fx_open(&f, 8);
    float a[16] = {0}, b[16] = {0}, c[16] = {0}, m[4] = {0}, v[4] = {0};
    const int64_t bad[][4] = {{-1, 2, 2, 2}, {1, -2, 2, 2}, {1, 2, -7, 2}, {1, 2, 2, -3}};
    for (int i = 0; i < 4; i++) {
        clear_message();
        int rc = ijepa__matmul(f.ops, bad[i][0], bad[i][1], bad[i][2], bad[i][3], a, 0, b,
                               0, NULL, 1.0f, 0, c);
        expect_fail(&f, rc, "matmul with a negative dimension");
        ck_assert_int_eq(rc, IJEPA_ERR_INVALID_ARG);
    }
    clear_message();
    expect_fail(&f, ijepa__layernorm_fwd(f.ops, -3, 4, 1e-6f, a, NULL, NULL, c, m, v),
                "layernorm rows -3");
    clear_message();
    expect_fail(&f, ijepa__layernorm_bwd(f.ops, 2, -4, 1e-6f, a, m, v, NULL, b, c, NULL, NULL),
                "layernorm backward C -4");
    clear_message();
    expect_fail(&f, ijepa__softmax_fwd(f.ops, 2, -2, a, c), "softmax cols -2");
    clear_message();
    expect_fail(&f, ijepa__softmax_bwd(f.ops, -1, 2, a, b, c), "softmax backward rows -1");
    clear_message();
    expect_fail(&f, ijepa__gelu_fwd(f.ops, -1, a, c), "gelu n -1");
    clear_message();
    expect_fail(&f, ijepa__gelu_bwd(f.ops, -5, a, b, c), "gelu backward n -5");
    /* the ops object still works after failures */
    a[0] = 2.0f; b[0] = 3.0f;
    expect_ok(&f, ijepa__matmul(f.ops, 1, 1, 1, 1, a, 0, b, 0, NULL, 1.0f, 0, c), "matmul 1x1x1");
    ck_assert_float_eq(c[0], 6.0f);
    fx_close(&f);
}
END_TEST

START_TEST(test_bad_pairs)
{
    fx f;
    fx_open(&f, 8);
    float x[8] = {1, 2, 3, 4, 5, 6, 7, 8}, g[4] = {1, 1, 1, 1}, y[8], m[2], v[2];
    clear_message();
    expect_fail(&f, ijepa__layernorm_fwd(f.ops, 2, 4, 1e-6f, x, g, NULL, y, m, v),
                "layernorm gamma without beta");
    ck_assert_int_eq(ijepa__layernorm_fwd(f.ops, 2, 4, 1e-6f, x, NULL, NULL, y, m, NULL),
                     IJEPA_ERR_INVALID_ARG);
    clear_message();
    expect_fail(&f, ijepa__layernorm_bwd(f.ops, 2, 4, 1e-6f, x, m, v, g, x, y, NULL, NULL),
                "layernorm backward gamma without dgamma/dbeta");
    fx_close(&f);
}
END_TEST

/* ops.h: bias only with alpha == 1, IJEPA_ERR_INVALID_ARG otherwise */
START_TEST(test_bad_bias_alpha)
{
    fx f;
    fx_open(&f, 8);
    float a[6] = {1, 2, 3, 4, 5, 6}, b[6] = {1, 0, 0, 1, 1, 1}, bias[2] = {1, 2}, c[4];
    for (int acc = 0; acc < 2; acc++) {
        clear_message();
        int rc = ijepa__matmul(f.ops, 1, 2, 2, 3, a, 0, b, 1, bias, 0.5f, acc, c);
        expect_fail(&f, rc, "matmul with bias and alpha 0.5");
        ck_assert_int_eq(rc, IJEPA_ERR_INVALID_ARG);
    }
    fx_close(&f);
}
END_TEST

START_TEST(test_bad_capacity)
{
    ijepa__err err = {0};
    ijepa__engine *eng = NULL;
    ijepa__ops *ops = NULL;
    ck_assert_int_eq(ijepa__engine_create(&eng, &err), IJEPA_OK);
    clear_message();
    ck_assert_int_eq(ijepa__ops_create(&ops, eng, 0, &err), IJEPA_ERR_INVALID_ARG);
    ck_assert_msg(ijepa_last_error()[0] != '\0', "no message for capacity 0");
    ijepa__ops_free(ops);
    ijepa__ops_free(NULL);
    ijepa__engine_free(NULL);
    ijepa__engine_free(eng);
}
END_TEST

// --- suite ---------------------------------------------------------------------------

Suite *ijepa_ops_suite(void)
{
    Suite *s = suite_create("ops");

    TCase *tc = add_tcase(s, "core", IJEPA_TEST_TIMEOUT);
    tcase_add_loop_test(tc, test_matmul_vs_ref, 0, (int)COUNT_OF(mm_shapes));
    tcase_add_test(tc, test_linear_fwd_bwd);
    tcase_add_loop_test(tc, test_layernorm_vs_ref, 0, (int)COUNT_OF(ln_cases));
    tcase_add_loop_test(tc, test_softmax_vs_ref, 0, (int)COUNT_OF(sm_shapes));
    tcase_add_test(tc, test_gelu_vs_ref);

    tc = add_tcase(s, "fd", IJEPA_TEST_TIMEOUT);
    tcase_add_loop_test(tc, test_fd_matmul, 0, 4);
    tcase_add_loop_test(tc, test_fd_layernorm, 0, 2);
    tcase_add_test(tc, test_fd_softmax);
    tcase_add_test(tc, test_fd_gelu);
    tcase_add_test(tc, test_fd_detects_errors);

    tc = add_tcase(s, "limits", IJEPA_TEST_TIMEOUT);
    tcase_add_test(tc, test_repeat_identical);
    tcase_add_test(tc, test_cache_rebind_and_evict);
    tcase_add_test(tc, test_gelu_bwd_inplace);
    tcase_add_test(tc, test_softmax_large_logits);
    tcase_add_test(tc, test_unit_shapes);

    tc = add_tcase(s, "errors", IJEPA_TEST_TIMEOUT);
    tcase_add_test(tc, test_bad_dims);
    tcase_add_test(tc, test_bad_pairs);
    tcase_add_test(tc, test_bad_bias_alpha);
    tcase_add_test(tc, test_bad_capacity);
    return s;
}
