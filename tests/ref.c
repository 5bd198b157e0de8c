/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * Implements: tests/ref.h — double-precision reference kernels, test-data
 * generator, comparison and finite-difference helpers.
 */
#include "ref.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// --- random test data --------------------------------------------------------

void ref_rng_seed(ref_rng *r, uint64_t seed) { r->s = seed; }

uint64_t ref_rng_u64(ref_rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

double ref_rng_uniform(ref_rng *r)
{
    return (double)(ref_rng_u64(r) >> 11) * 0x1p-53;
}

double ref_rng_range(ref_rng *r, double lo, double hi)
{
    return lo + (hi - lo) * ref_rng_uniform(r);
}

double ref_rng_normal(ref_rng *r)
{
    double u1 = 1.0 - ref_rng_uniform(r); /* (0, 1] */
    double u2 = ref_rng_uniform(r);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586476925 * u2);
}

int64_t ref_rng_int(ref_rng *r, int64_t n)
{
    return (int64_t)(ref_rng_uniform(r) * (double)n);
}

void ref_fill_f(float *x, int64_t n, ref_rng *r, double lo, double hi)
{
    for (int64_t i = 0; i < n; i++) x[i] = (float)ref_rng_range(r, lo, hi);
}

void ref_fill_d(double *x, int64_t n, ref_rng *r, double lo, double hi)
{
    for (int64_t i = 0; i < n; i++) x[i] = ref_rng_range(r, lo, hi);
}

// --- memory and conversions --------------------------------------------------

float *ref_falloc(int64_t n)
{
    if (n < 0) return NULL;
    return calloc((size_t)(n > 0 ? n : 1), sizeof(float));
}

double *ref_dalloc(int64_t n)
{
    if (n < 0) return NULL;
    return calloc((size_t)(n > 0 ? n : 1), sizeof(double));
}

void ref_f2d(double *dst, const float *src, int64_t n)
{
    for (int64_t i = 0; i < n; i++) dst[i] = src[i];
}

void ref_d2f(float *dst, const double *src, int64_t n)
{
    for (int64_t i = 0; i < n; i++) dst[i] = (float)src[i];
}

void ref_dabs(double *dst, const double *src, int64_t n)
{
    for (int64_t i = 0; i < n; i++) dst[i] = fabs(src[i]);
}

double ref_max_abs_d(const double *x, int64_t n)
{
    double m = 0.0;
    for (int64_t i = 0; i < n; i++)
        if (fabs(x[i]) > m) m = fabs(x[i]);
    return m;
}

double ref_max_abs_f(const float *x, int64_t n)
{
    double m = 0.0;
    for (int64_t i = 0; i < n; i++)
        if (fabs((double)x[i]) > m) m = fabs((double)x[i]);
    return m;
}

// --- comparison --------------------------------------------------------------

/* got is gf (float) or gd (double), whichever is not NULL */
static ref_cmp compare(const float *gf, const double *gd, const double *want,
                       int64_t n, double atol, double rtol, const double *bound)
{
    ref_cmp c;
    memset(&c, 0, sizeof c);
    c.n = n;
    c.at_abs = c.at_rel = c.at_worst = -1;
    for (int64_t i = 0; i < n; i++) {
        double g = gf ? (double)gf[i] : gd[i];
        double w = want[i];
        double d = fabs(g - w);
        double tol = atol + rtol * fabs(w) + (bound ? bound[i] : 0.0);
        double ratio;
        if (!isfinite(g) || !isfinite(d))
            ratio = INFINITY;
        else if (tol > 0.0)
            ratio = d / tol;
        else
            ratio = d > 0.0 ? INFINITY : 0.0;
        if (!isfinite(g)) d = INFINITY;
        if (d > c.max_abs || c.at_abs < 0) { c.max_abs = d; c.at_abs = i; }
        if (w != 0.0 && (d / fabs(w) > c.max_rel || c.at_rel < 0)) {
            c.max_rel = d / fabs(w);
            c.at_rel = i;
        }
        if (ratio > c.worst_ratio || c.at_worst < 0) {
            c.worst_ratio = ratio;
            c.at_worst = i;
            c.worst_got = g;
            c.worst_want = w;
            c.worst_tol = tol;
        }
    }
    return c;
}

ref_cmp ref_compare_f(const float *got, const double *want, int64_t n,
                      double atol, double rtol, const double *bound)
{
    return compare(got, NULL, want, n, atol, rtol, bound);
}

ref_cmp ref_compare_d(const double *got, const double *want, int64_t n,
                      double atol, double rtol, const double *bound)
{
    return compare(NULL, got, want, n, atol, rtol, bound);
}

const char *ref_cmp_str(const ref_cmp *c, char *buf, size_t size)
{
    snprintf(buf, size,
             "n=%lld max_abs_diff=%.3e (at %lld) max_rel_diff=%.3e (at %lld); "
             "worst diff/tol=%.3g at %lld: got %.9g want %.9g tol %.3e",
             (long long)c->n, c->max_abs, (long long)c->at_abs, c->max_rel,
             (long long)c->at_rel, c->worst_ratio, (long long)c->at_worst,
             c->worst_got, c->worst_want, c->worst_tol);
    return buf;
}

// --- matmul ------------------------------------------------------------------

/* element (i, j) of op(X) where X is stored [rows, cols] = [i, j] or, when
 * transposed, [j, i] (ld = stored row length) */
static inline double at(const double *X, int trans, int64_t i, int64_t j,
                        int64_t ld)
{
    return trans ? X[j * ld + i] : X[i * ld + j];
}

// A [batch, M, K] (or [batch, K, M]), B [batch, K, N] (or [batch, N, K]),
// bias [N], C [batch, M, N]
void ref_matmul(int64_t batch, int64_t M, int64_t N, int64_t K,
                const double *A, int trans_a, const double *B, int trans_b,
                const double *bias, double alpha, int accumulate, double *C)
{
    int64_t lda = trans_a ? M : K, ldb = trans_b ? K : N;
    for (int64_t b = 0; b < batch; b++) {
        const double *Ab = A + b * M * K, *Bb = B + b * K * N;
        double *Cb = C + b * M * N;
        for (int64_t m = 0; m < M; m++)
            for (int64_t n = 0; n < N; n++) {
                double s = 0.0;
                for (int64_t k = 0; k < K; k++)
                    s += at(Ab, trans_a, m, k, lda) * at(Bb, trans_b, k, n, ldb);
                s *= alpha;
                if (bias) s += bias[n];
                if (accumulate) s += Cb[m * N + n];
                Cb[m * N + n] = s;
            }
    }
}

// dC [batch, M, N] -> dA (A's layout), dB (B's layout), dbias [N]
void ref_matmul_bwd(int64_t batch, int64_t M, int64_t N, int64_t K,
                    const double *A, int trans_a, const double *B, int trans_b,
                    double alpha, const double *dC, double *dA, double *dB,
                    double *dbias)
{
    int64_t lda = trans_a ? M : K, ldb = trans_b ? K : N;
    for (int64_t b = 0; b < batch; b++) {
        const double *Ab = A + b * M * K, *Bb = B + b * K * N;
        const double *dCb = dC + b * M * N;
        if (dA) {
            double *dAb = dA + b * M * K;
            /* dop(A)[m,k] = alpha sum_n dC[m,n] op(B)[k,n] */
            for (int64_t m = 0; m < M; m++)
                for (int64_t k = 0; k < K; k++) {
                    double s = 0.0;
                    for (int64_t n = 0; n < N; n++)
                        s += dCb[m * N + n] * at(Bb, trans_b, k, n, ldb);
                    if (trans_a) dAb[k * M + m] = alpha * s;
                    else dAb[m * K + k] = alpha * s;
                }
        }
        if (dB) {
            double *dBb = dB + b * K * N;
            /* dop(B)[k,n] = alpha sum_m op(A)[m,k] dC[m,n] */
            for (int64_t k = 0; k < K; k++)
                for (int64_t n = 0; n < N; n++) {
                    double s = 0.0;
                    for (int64_t m = 0; m < M; m++)
                        s += at(Ab, trans_a, m, k, lda) * dCb[m * N + n];
                    if (trans_b) dBb[n * K + k] = alpha * s;
                    else dBb[k * N + n] = alpha * s;
                }
        }
    }
    if (dbias) {
        for (int64_t n = 0; n < N; n++) dbias[n] = 0.0;
        for (int64_t r = 0; r < batch * M; r++)
            for (int64_t n = 0; n < N; n++) dbias[n] += dC[r * N + n];
    }
}

// --- layernorm ---------------------------------------------------------------

// x, y [rows, C]; gamma, beta [C]; mean, var [rows]
void ref_layernorm_fwd(int64_t rows, int64_t C, double eps, const double *x,
                       const double *gamma, const double *beta, double *y,
                       double *mean, double *var)
{
    for (int64_t r = 0; r < rows; r++) {
        const double *xr = x + r * C;
        double mu = 0.0, v = 0.0;
        for (int64_t c = 0; c < C; c++) mu += xr[c];
        mu /= (double)C;
        for (int64_t c = 0; c < C; c++) v += (xr[c] - mu) * (xr[c] - mu);
        v /= (double)C;
        double rstd = 1.0 / sqrt(v + eps);
        for (int64_t c = 0; c < C; c++) {
            double h = (xr[c] - mu) * rstd;
            y[r * C + c] = gamma ? h * gamma[c] + beta[c] : h;
        }
        if (mean) mean[r] = mu;
        if (var) var[r] = v;
    }
}

/*
 * With h = (x - mean) * rstd and g = dy * gamma (or dy):
 *   dx = rstd * (g - mean_c(g) - h * mean_c(g * h))
 *   dgamma = sum_rows dy * h,  dbeta = sum_rows dy
 */
void ref_layernorm_bwd(int64_t rows, int64_t C, double eps, const double *x,
                       const double *mean, const double *var,
                       const double *gamma, const double *dy, double *dx,
                       double *dgamma, double *dbeta)
{
    if (gamma) {
        for (int64_t c = 0; c < C; c++) {
            if (dgamma) dgamma[c] = 0.0;
            if (dbeta) dbeta[c] = 0.0;
        }
    }
    for (int64_t r = 0; r < rows; r++) {
        const double *xr = x + r * C, *dyr = dy + r * C;
        double rstd = 1.0 / sqrt(var[r] + eps);
        double mg = 0.0, mgh = 0.0;
        for (int64_t c = 0; c < C; c++) {
            double h = (xr[c] - mean[r]) * rstd;
            double g = gamma ? dyr[c] * gamma[c] : dyr[c];
            mg += g;
            mgh += g * h;
            if (gamma && dgamma) dgamma[c] += dyr[c] * h;
            if (gamma && dbeta) dbeta[c] += dyr[c];
        }
        mg /= (double)C;
        mgh /= (double)C;
        for (int64_t c = 0; c < C; c++) {
            double h = (xr[c] - mean[r]) * rstd;
            double g = gamma ? dyr[c] * gamma[c] : dyr[c];
            dx[r * C + c] = rstd * (g - mg - h * mgh);
        }
    }
}

// --- softmax -----------------------------------------------------------------

// x, y [rows, cols]
void ref_softmax_fwd(int64_t rows, int64_t cols, const double *x, double *y)
{
    for (int64_t r = 0; r < rows; r++) {
        const double *xr = x + r * cols;
        double mx = xr[0], s = 0.0;
        for (int64_t c = 1; c < cols; c++)
            if (xr[c] > mx) mx = xr[c];
        for (int64_t c = 0; c < cols; c++) s += exp(xr[c] - mx);
        for (int64_t c = 0; c < cols; c++) y[r * cols + c] = exp(xr[c] - mx) / s;
    }
}

void ref_softmax_bwd(int64_t rows, int64_t cols, const double *y,
                     const double *dy, double *dx)
{
    for (int64_t r = 0; r < rows; r++) {
        const double *yr = y + r * cols, *dyr = dy + r * cols;
        double s = 0.0;
        for (int64_t c = 0; c < cols; c++) s += dyr[c] * yr[c];
        for (int64_t c = 0; c < cols; c++) dx[r * cols + c] = yr[c] * (dyr[c] - s);
    }
}

// --- GELU --------------------------------------------------------------------

void ref_gelu_fwd(int64_t n, const double *x, double *y)
{
    for (int64_t i = 0; i < n; i++)
        y[i] = 0.5 * x[i] * (1.0 + erf(x[i] * 0.70710678118654752440));
}

void ref_gelu_bwd(int64_t n, const double *x, const double *dy, double *dx)
{
    for (int64_t i = 0; i < n; i++) {
        double cdf = 0.5 * (1.0 + erf(x[i] * 0.70710678118654752440));
        double pdf = 0.39894228040143267794 * exp(-0.5 * x[i] * x[i]);
        dx[i] = dy[i] * (cdf + x[i] * pdf);
    }
}

// --- finite differences ------------------------------------------------------

int ref_fd_grad(ref_fwd_fn f, void *ctx, double *x, int64_t nx, int64_t ny,
                const double *R, double h, double *g)
{
    double *yp = ref_dalloc(ny), *ym = ref_dalloc(ny);
    if (!yp || !ym) {
        free(yp);
        free(ym);
        return -1;
    }
    for (int64_t i = 0; i < nx; i++) {
        double xi = x[i];
        x[i] = xi + h;
        double step = x[i];
        f(ctx, yp);
        x[i] = xi - h;
        step -= x[i]; /* the step actually taken, after rounding */
        f(ctx, ym);
        x[i] = xi;
        double s = 0.0;
        for (int64_t j = 0; j < ny; j++) s += (yp[j] - ym[j]) * R[j];
        g[i] = s / step;
    }
    free(yp);
    free(ym);
    return 0;
}
