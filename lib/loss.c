/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * Implements: the I-JEPA loss (smooth-L1 / L2 / L1 between predictor output
 * and layer-normalised, gathered target features) with its gradient, and
 * the target-feature standard deviation used as a collapse monitor.
 *
 * Reproducible reductions without allocation: the rows are cut into at most
 * NBLK contiguous blocks whose bounds depend on the sizes only; each block
 * is summed serially in double into its own slot of an on-stack array, and
 * the slots are added in block order. Which thread runs which block does not
 * matter, so the result is bit-identical for any number of threads.
 */
#include <math.h>
#include <string.h>

#include "internal.h"
#include "ijepa/loss.h"

#if defined(__GNUC__) && !defined(__clang__)
/* lets gcc turn the element loops' selects into blends (clang's default);
 * the library reads no floating-point exception flag */
#pragma GCC optimize("no-trapping-math")
#endif

#define NBLK 1024
/* Parallelise a loop only when it touches at least this many floats. */
#define PAR_MIN 32768
/* Features per tile of ijepa_loss_target_std() (on-stack accumulators). */
#define TILE 256
/* Largest element count accepted: counts stay exact in double. */
#define MAX_ELEMS 9007199254740992.0 /* 2^53 */

/* Mean and standard deviation sqrt(var + eps) (biased variance) of x [D],
 * two passes in double: the statistics of F.layer_norm without affine. */
static void ln_stats(const float *x, int64_t D, double eps, double *mean, double *sd)
{
    double s = 0.0;
#pragma omp simd reduction(+ : s)
    for (int64_t d = 0; d < D; d++)
        s += (double)x[d];
    const double mu = s / (double)D;
    double q = 0.0;
#pragma omp simd reduction(+ : q)
    for (int64_t d = 0; d < D; d++) {
        const double c = (double)x[d] - mu;
        q += c * c;
    }
    *mean = mu;
    *sd = sqrt(q / (double)D + eps);
}

/* Common checks of the target tensor [batch, num_patches, dim] and ln_eps. */
static int check_target(const char *F, const float *target_out, int64_t batch,
                        int64_t num_patches, int64_t dim, double ln_eps)
{
    if (!target_out)
        return ijepa__fail_func(F, IJEPA_ERR_INVALID_ARG, "target_out is NULL");
    if (batch < 1 || num_patches < 1 || dim < 1)
        return ijepa__fail_func(F, IJEPA_ERR_INVALID_ARG,
                                "batch %lld, num_patches %lld and dim %lld must be >= 1",
                                (long long)batch, (long long)num_patches, (long long)dim);
    if ((double)batch * (double)num_patches * (double)dim > MAX_ELEMS)
        return ijepa__fail_func(F, IJEPA_ERR_INVALID_ARG,
                                "target_out of %lld x %lld x %lld floats is too large",
                                (long long)batch, (long long)num_patches, (long long)dim);
    if (!isfinite(ln_eps) || ln_eps < 0.0)
        return ijepa__fail_func(F, IJEPA_ERR_INVALID_ARG,
                                "ln_eps %g must be finite and >= 0", ln_eps);
    return IJEPA_OK;
}

// --- loss ------------------------------------------------------------------------------------

/* Element d's error: pred minus the normalised target (mean mu, 1 / sd inv). */
static inline double elem_err(const float *z, const float *x, double mu, double inv, int64_t d)
{
    return (double)z[d] - ((double)x[d] - mu) * inv;
}

/*
 * Rows [r0, r1) of the loss, r = (m * B + b) * K + j: pred row r against the
 * normalised token targets[r] of image b = (r / K) % B. Returns the sum of
 * the element losses; writes d (the element gradient times scale) if d_pred.
 *   target_out (B, N, D), targets (R), pred (R, D), d_pred NULL or (R, D)
 * A row's losses and gradients are two loops without branches (selects),
 * so that they vectorise: with a branch per element and a division the
 * loss took 18 ns an element on Zen 4, 1.5 % of the fmnist/128 bf16 step.
 */
static double loss_rows(const float *target_out, int64_t B, int64_t N, int64_t D,
                        const int32_t *targets, int64_t K, const float *pred, int32_t kind,
                        double eps, double scale, float *d_pred, int64_t r0, int64_t r1)
{
    double sum = 0.0;
    for (int64_t r = r0; r < r1; r++) {
        const int64_t b = (r / K) % B;
        const float *x = target_out + (b * N + targets[r]) * D;
        const float *z = pred + r * D;
        float *dz = d_pred ? d_pred + r * D : NULL;
        double mu, sd;
        ln_stats(x, D, eps, &mu, &sd);
        const double inv = 1.0 / sd;
        double s = 0.0;
        switch (kind) {
        case IJEPA_LOSS_SMOOTH_L1:
#pragma omp simd reduction(+ : s)
            for (int64_t d = 0; d < D; d++) {
                const double e = elem_err(z, x, mu, inv, d), a = fabs(e);
                s += a < 1.0 ? 0.5 * e * e : a - 0.5;
            }
            if (dz)
#pragma omp simd
                for (int64_t d = 0; d < D; d++) {
                    const double e = elem_err(z, x, mu, inv, d);
                    dz[d] = (float)((fabs(e) < 1.0 ? e : e > 0.0 ? 1.0 : -1.0) * scale);
                }
            break;
        case IJEPA_LOSS_L2:
#pragma omp simd reduction(+ : s)
            for (int64_t d = 0; d < D; d++) {
                const double e = elem_err(z, x, mu, inv, d);
                s += e * e;
            }
            if (dz)
#pragma omp simd
                for (int64_t d = 0; d < D; d++) {
                    const double e = elem_err(z, x, mu, inv, d);
                    dz[d] = (float)(2.0 * e * scale);
                }
            break;
        default: /* IJEPA_LOSS_L1 */
#pragma omp simd reduction(+ : s)
            for (int64_t d = 0; d < D; d++)
                s += fabs(elem_err(z, x, mu, inv, d));
            if (dz)
#pragma omp simd
                for (int64_t d = 0; d < D; d++) {
                    const double e = elem_err(z, x, mu, inv, d);
                    dz[d] = (float)((e > 0.0 ? 1.0 : e < 0.0 ? -1.0 : 0.0) * scale);
                }
            break;
        }
        sum += s;
    }
    return sum;
}

/* The checks and the sum of ijepa_loss_compute() and ijepa_loss_partial():
 * F names the public function, total_batch the batch that normalises the
 * gradient (elems = num_targets * total_batch * n_target * dim). */
static int loss_sum(const char *F, const float *target_out, int64_t batch, int64_t num_patches,
                    int64_t dim, const int32_t *targets, int64_t num_targets, int64_t n_target,
                    const float *pred, int32_t kind, double ln_eps, int64_t total_batch,
                    float *d_pred, const double *user_out, double *out, double *elems_out)
{
    int rc = check_target(F, target_out, batch, num_patches, dim, ln_eps);
    if (rc < 0)
        return rc;
    if (!targets || !pred || !user_out)
        return ijepa__fail_func(F, IJEPA_ERR_INVALID_ARG, "targets, pred and %s must not be NULL",
                                elems_out ? "loss" : "sum");
    if (num_targets < 1 || n_target < 1)
        return ijepa__fail_func(F, IJEPA_ERR_INVALID_ARG,
                                "num_targets %lld and n_target %lld must be >= 1",
                                (long long)num_targets, (long long)n_target);
    if (total_batch < batch)
        return ijepa__fail_func(F, IJEPA_ERR_INVALID_ARG,
                                "total_batch %lld is smaller than batch %lld",
                                (long long)total_batch, (long long)batch);
    const double elems =
        (double)num_targets * (double)total_batch * (double)n_target * (double)dim;
    if (elems > MAX_ELEMS)
        return ijepa__fail_func(F, IJEPA_ERR_INVALID_ARG,
                                "pred of %lld x %lld x %lld x %lld floats is too large",
                                (long long)num_targets, (long long)total_batch,
                                (long long)n_target, (long long)dim);
    if (kind != IJEPA_LOSS_SMOOTH_L1 && kind != IJEPA_LOSS_L2 && kind != IJEPA_LOSS_L1)
        return ijepa__fail_func(F, IJEPA_ERR_INVALID_ARG, "unknown loss kind %d", (int)kind);
    const int64_t R = num_targets * batch * n_target;
    for (int64_t r = 0; r < R; r++)
        if (targets[r] < 0 || targets[r] >= num_patches)
            return ijepa__fail_func(F, IJEPA_ERR_INVALID_ARG,
                                    "targets[%lld] = %d is outside [0, %lld)", (long long)r,
                                    (int)targets[r], (long long)num_patches);

    const int64_t nb = R < NBLK ? R : NBLK;
    const double scale = 1.0 / elems;
    const double work = (double)R * (double)dim;
    double part[NBLK];
#pragma omp parallel for schedule(static) if (work >= PAR_MIN)
    for (int64_t k = 0; k < nb; k++)
        part[k] = loss_rows(target_out, batch, num_patches, dim, targets, n_target, pred, kind,
                            ln_eps, scale, d_pred, k * R / nb, (k + 1) * R / nb);
    double sum = 0.0;
    for (int64_t k = 0; k < nb; k++)
        sum += part[k];
    *out = sum;
    if (elems_out)
        *elems_out = elems;
    return IJEPA_OK;
}

int ijepa_loss_compute(const float *target_out, int64_t batch, int64_t num_patches,
                       int64_t dim, const int32_t *targets, int64_t num_targets,
                       int64_t n_target, const float *pred, int32_t kind, double ln_eps,
                       float *d_pred, double *loss)
{
    double sum, elems;
    int rc = loss_sum(__func__, target_out, batch, num_patches, dim, targets, num_targets,
                      n_target, pred, kind, ln_eps, batch, d_pred, loss, &sum, &elems);
    if (rc < 0)
        return rc;
    const double mean = sum / elems;
    if (!isfinite(mean))
        return ijepa__fail_func(__func__, IJEPA_ERR_NUMERIC, "the loss is %s",
                                isnan(mean) ? "NaN" : "infinite");
    *loss = mean;
    return IJEPA_OK;
}

int ijepa_loss_partial(const float *target_out, int64_t batch, int64_t num_patches, int64_t dim,
                       const int32_t *targets, int64_t num_targets, int64_t n_target,
                       const float *pred, int32_t kind, double ln_eps, int64_t total_batch,
                       float *d_pred, double *sum)
{
    double s;
    int rc = loss_sum(__func__, target_out, batch, num_patches, dim, targets, num_targets,
                      n_target, pred, kind, ln_eps, total_batch, d_pred, sum, &s, NULL);
    if (rc == IJEPA_OK)
        *sum = s; /* also when not finite: the host reduces first, then decides */
    return rc;
}

// --- collapse monitor ------------------------------------------------------------------------

/*
 * Sum over the features [d0, d0 + n), n <= TILE, of the population standard
 * deviation across images of the pooled normalised features.
 *   target_out (B, N, D)
 */
static double std_tile(const float *target_out, int64_t B, int64_t N, int64_t D, double eps,
                       int64_t d0, int64_t n)
{
    double mean[TILE], m2[TILE], pool[TILE];
    memset(mean, 0, sizeof mean);
    memset(m2, 0, sizeof m2);
    for (int64_t b = 0; b < B; b++) {
        memset(pool, 0, sizeof pool);
        for (int64_t t = 0; t < N; t++) {
            const float *x = target_out + (b * N + t) * D;
            double mu, sd;
            ln_stats(x, D, eps, &mu, &sd);
            const double inv = 1.0 / sd;
#pragma omp simd
            for (int64_t d = 0; d < n; d++)
                pool[d] += ((double)x[d0 + d] - mu) * inv;
        }
        /* Welford's update across images */
        for (int64_t d = 0; d < n; d++) {
            const double p = pool[d] / (double)N;
            const double delta = p - mean[d];
            mean[d] += delta / (double)(b + 1);
            m2[d] += delta * (p - mean[d]);
        }
    }
    double s = 0.0;
    for (int64_t d = 0; d < n; d++)
        s += sqrt(m2[d] / (double)B);
    return s;
}

int ijepa_loss_target_std(const float *target_out, int64_t batch, int64_t num_patches,
                          int64_t dim, double ln_eps, double *mean_std)
{
    const char *F = __func__;
    int rc = check_target(F, target_out, batch, num_patches, dim, ln_eps);
    if (rc < 0)
        return rc;
    if (!mean_std)
        return ijepa__fail_func(F, IJEPA_ERR_INVALID_ARG, "mean_std is NULL");
    const int64_t ntile = (dim + TILE - 1) / TILE;
    const double work = (double)batch * (double)num_patches * (double)dim;
    double part[NBLK], sum = 0.0;
    /* waves of at most NBLK tiles, each summed in tile order */
    for (int64_t w = 0; w < ntile; w += NBLK) {
        const int64_t nw = ntile - w < NBLK ? ntile - w : NBLK;
#pragma omp parallel for schedule(static) if (work >= PAR_MIN)
        for (int64_t k = 0; k < nw; k++) {
            const int64_t d0 = (w + k) * TILE;
            part[k] = std_tile(target_out, batch, num_patches, dim, ln_eps, d0,
                               dim - d0 < TILE ? dim - d0 : TILE);
        }
        for (int64_t k = 0; k < nw; k++)
            sum += part[k];
    }
    const double r = sum / (double)dim;
    if (!isfinite(r))
        return ijepa__fail_func(F, IJEPA_ERR_NUMERIC, "the result is %s",
                                isnan(r) ? "NaN" : "infinite");
    *mean_std = r;
    return IJEPA_OK;
}

/* Image blocks of ijepa_loss_target_moments(), at most: bounds from the
 * sizes only, their sums added in block order, so the result does not
 * depend on the thread count. (Parallel over feature tiles alone, fmnist's
 * 128 features ran on one thread: 15 ms of a 500 ms step on 2 Zen 4
 * cores, the other thread waiting.) */
#define MBLK 8

/*
 * Images [b0, b1), features [d0, d0 + n), n <= TILE: per feature, the sum
 * over the images of the pooled normalised features and the sum of their
 * squares.
 *   target_out (B, N, D), sum (n), sumsq (n)
 */
static void moments_block(const float *target_out, int64_t b0, int64_t b1, int64_t N,
                          int64_t D, double eps, int64_t d0, int64_t n, double *sum,
                          double *sumsq)
{
    double pool[TILE];
    for (int64_t d = 0; d < n; d++)
        sum[d] = sumsq[d] = 0.0;
    for (int64_t b = b0; b < b1; b++) {
        for (int64_t d = 0; d < n; d++)
            pool[d] = 0.0;
        for (int64_t t = 0; t < N; t++) {
            const float *x = target_out + (b * N + t) * D;
            double mu, sd;
            ln_stats(x, D, eps, &mu, &sd);
            const double inv = 1.0 / sd;
#pragma omp simd
            for (int64_t d = 0; d < n; d++)
                pool[d] += ((double)x[d0 + d] - mu) * inv;
        }
#pragma omp simd
        for (int64_t d = 0; d < n; d++) {
            const double p = pool[d] / (double)N;
            sum[d] += p;
            sumsq[d] += p * p;
        }
    }
}

int ijepa_loss_target_moments(const float *target_out, int64_t batch, int64_t num_patches,
                              int64_t dim, double ln_eps, double *sum, double *sumsq)
{
    const char *F = __func__;
    int rc = check_target(F, target_out, batch, num_patches, dim, ln_eps);
    if (rc < 0)
        return rc;
    if (!sum || !sumsq)
        return ijepa__fail_func(F, IJEPA_ERR_INVALID_ARG, "sum and sumsq must not be NULL");
    const int64_t ntile = (dim + TILE - 1) / TILE, nb = batch < MBLK ? batch : MBLK;
    const double work = (double)batch * (double)num_patches * (double)dim;
    double part[MBLK][2][TILE]; /* 32 KiB */
    for (int64_t k = 0; k < ntile; k++) {
        const int64_t d0 = k * TILE, n = dim - d0 < TILE ? dim - d0 : TILE;
#pragma omp parallel for schedule(static) if (work >= PAR_MIN && nb > 1)
        for (int64_t j = 0; j < nb; j++)
            moments_block(target_out, j * batch / nb, (j + 1) * batch / nb, num_patches, dim,
                          ln_eps, d0, n, part[j][0], part[j][1]);
        for (int64_t d = 0; d < n; d++) {
            double s = 0.0, q = 0.0;
            for (int64_t j = 0; j < nb; j++) {
                s += part[j][0][d];
                q += part[j][1][d];
            }
            sum[d0 + d] = s;
            sumsq[d0 + d] = q;
        }
    }
    return IJEPA_OK;
}
