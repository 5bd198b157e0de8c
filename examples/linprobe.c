/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * Implements: examples/linprobe.h, the linear probe of the examples.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "linprobe.h"

/* Standardise x [n, d] in place with the mean/std of its first nfit rows. */
static void lp_standardise(float *x, int64_t n, int64_t nfit, int64_t d, float *other,
                           int64_t nother)
{
    for (int64_t j = 0; j < d; j++) {
        double s = 0, ss = 0;
        for (int64_t i = 0; i < nfit; i++) {
            s += x[i * d + j];
            ss += (double)x[i * d + j] * x[i * d + j];
        }
        double mu = s / (double)nfit, var = ss / (double)nfit - mu * mu;
        float inv = var > 1e-12 ? (float)(1.0 / sqrt(var)) : 0.0f;
        for (int64_t i = 0; i < n; i++)
            x[i * d + j] = (float)(x[i * d + j] - mu) * inv;
        for (int64_t i = 0; i < nother; i++)
            other[i * d + j] = (float)(other[i * d + j] - mu) * inv;
    }
}

/* Train W [C, d+1] (bias last) on rows idx[0..n) of x. */
static void lp_fit(const float *x, const int32_t *y, const int64_t *idx, int64_t n, int64_t d,
                   int C, double wd, int epochs, double *W)
{
    const int64_t P = (int64_t)C * (d + 1), bs = 256;
    double *m = calloc((size_t)P, sizeof *m), *v = calloc((size_t)P, sizeof *v);
    double *g = calloc((size_t)P, sizeof *g), *z = calloc((size_t)C, sizeof *z);
    int64_t *perm = malloc((size_t)n * sizeof *perm);
    if (!m || !v || !g || !z || !perm)
        goto done;
    memset(W, 0, (size_t)P * sizeof *W);
    memcpy(perm, idx, (size_t)n * sizeof *perm);
    uint64_t seed = 0x9e3779b97f4a7c15ULL;
    const double b1 = 0.9, b2 = 0.999, lr0 = 1e-2;
    int64_t t = 0;
    const int64_t steps_per_epoch = (n + bs - 1) / bs, total = steps_per_epoch * epochs;
    for (int ep = 0; ep < epochs; ep++) {
        for (int64_t i = n - 1; i > 0; i--) {
            int64_t j = (int64_t)(ex_xorshift(&seed) % (uint64_t)(i + 1));
            int64_t tmp = perm[i];
            perm[i] = perm[j];
            perm[j] = tmp;
        }
        for (int64_t s0 = 0; s0 < n; s0 += bs) {
            const int64_t nb = n - s0 < bs ? n - s0 : bs;
            memset(g, 0, (size_t)P * sizeof *g);
            for (int64_t k = 0; k < nb; k++) {
                const float *xi = x + perm[s0 + k] * d;
                double zmax = -1e300, zs = 0;
                for (int c = 0; c < C; c++) {
                    const double *w = W + c * (d + 1);
                    double a = w[d];
                    for (int64_t j = 0; j < d; j++)
                        a += w[j] * xi[j];
                    z[c] = a;
                    if (a > zmax)
                        zmax = a;
                }
                for (int c = 0; c < C; c++)
                    zs += (z[c] = exp(z[c] - zmax));
                for (int c = 0; c < C; c++) {
                    double r = z[c] / zs - (c == y[perm[s0 + k]]);
                    double *gc = g + c * (d + 1);
                    for (int64_t j = 0; j < d; j++)
                        gc[j] += r * xi[j];
                    gc[d] += r;
                }
            }
            t++;
            const double lr = lr0 * 0.5 * (1.0 + cos(3.14159265358979323846 * (double)(t - 1) / (double)total));
            const double c1 = 1.0 - pow(b1, (double)t), c2 = 1.0 - pow(b2, (double)t);
            for (int64_t p = 0; p < P; p++) {
                double gp = g[p] / (double)nb + ((p % (d + 1)) != d ? wd * W[p] : 0.0);
                m[p] = b1 * m[p] + (1 - b1) * gp;
                v[p] = b2 * v[p] + (1 - b2) * gp * gp;
                W[p] -= lr * (m[p] / c1) / (sqrt(v[p] / c2) + 1e-8);
            }
        }
    }
done:
    free(m);
    free(v);
    free(g);
    free(z);
    free(perm);
}

static double lp_accuracy(const float *x, const int32_t *y, const int64_t *idx, int64_t n,
                          int64_t d, int C, const double *W)
{
    int64_t correct = 0;
    for (int64_t k = 0; k < n; k++) {
        const int64_t i = idx ? idx[k] : k;
        int best = 0;
        double bz = -1e300;
        for (int c = 0; c < C; c++) {
            const double *w = W + c * (d + 1);
            double a = w[d];
            for (int64_t j = 0; j < d; j++)
                a += w[j] * x[i * d + j];
            if (a > bz) {
                bz = a;
                best = c;
            }
        }
        correct += best == y[i];
    }
    return 100.0 * (double)correct / (double)n;
}

int linprobe_run(float *xtr, const int32_t *ytr, int64_t ntr, float *xte,
                 const int32_t *yte, int64_t nte, int64_t d, int C, int64_t nval,
                 int epochs, linprobe_result *res)
{
    static const double wds[] = {0.0, 1e-4, 1e-3, 1e-2};
    const int64_t nfit = ntr - nval;
    double *W = malloc((size_t)C * (size_t)(d + 1) * sizeof *W);
    int64_t *idx = malloc((size_t)ntr * sizeof *idx);
    if (!W || !idx) {
        free(W);
        free(idx);
        return -1;
    }
    lp_standardise(xtr, ntr, ntr, d, xte, nte);
    for (int64_t i = 0; i < ntr; i++)
        idx[i] = i;
    res->val_acc = -1;
    res->weight_decay = 0;
    for (size_t k = 0; k < sizeof wds / sizeof wds[0]; k++) {
        lp_fit(xtr, ytr, idx, nfit, d, C, wds[k], epochs, W);
        double acc = lp_accuracy(xtr, ytr, idx + nfit, nval, d, C, W);
        if (acc > res->val_acc) {
            res->val_acc = acc;
            res->weight_decay = wds[k];
        }
    }
    lp_fit(xtr, ytr, idx, ntr, d, C, res->weight_decay, epochs, W);
    res->test_acc = lp_accuracy(xte, yte, NULL, nte, d, C, W);
    free(W);
    free(idx);
    return 0;
}
