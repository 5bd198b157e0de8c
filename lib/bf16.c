/*
 * Implements: bf16.h, the element-wise kernels of the bf16 compute path.
 *
 * Each kernel is a loop body over a range of rows (an inline function with
 * "omp simd" inner loops), compiled three times: for AVX-512, for AVX2 + FMA
 * and for the baseline x86-64 the library is built for, by wrappers with
 * target attributes (the library itself is built without -march). The
 * OpenMP parallel loop that hands out the row ranges is one plain function,
 * run(); it calls the wrapper of the level asked for through a pointer.
 * (A parallel region inside a target-attributed function would be outlined
 * before the target applies, so the split keeps the vector code where the
 * work is.)
 *
 * exp() and erfc() are evaluated inline with polynomials so that the loops
 * vectorise: exp by Cody-Waite range reduction and Cephes' degree-6
 * polynomial (relative error ~2 ulp in float32), erfc by the Chebyshev fit
 * of Numerical Recipes (fractional error < 1.2e-7 everywhere). Both are far
 * below the bf16 rounding (2^-9) that follows.
 */
#include <math.h>
#include <string.h>

#include "bf16.h"

#define INL static inline __attribute__((always_inline))
#define T512 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,fma")))
#define T2 __attribute__((target("avx2,fma")))

/* Parallelise a loop only when it touches at least this many values. */
#define PAR_MIN 32768

int ijepa__simd_level(int cap)
{
    int lvl = IJEPA__SIMD_GENERIC;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        lvl = IJEPA__SIMD_AVX2;
    if (lvl == IJEPA__SIMD_AVX2 && __builtin_cpu_supports("avx512f") &&
        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512vl"))
        lvl = IJEPA__SIMD_AVX512;
#endif
    return lvl < cap ? lvl : cap;
}

// --- the three compilations and the parallel driver ------------------------------------

/* A chunk kernel does block b of nb over its own arguments. */
typedef void (*chunk_fn)(const void *args, int64_t b, int64_t nb);

#define VARIANTS(name)                                                                     \
    T512 static void name##_512(const void *a, int64_t b, int64_t nb) { name(a, b, nb); } \
    T2 static void name##_2(const void *a, int64_t b, int64_t nb) { name(a, b, nb); }     \
    static void name##_g(const void *a, int64_t b, int64_t nb) { name(a, b, nb); }        \
    static chunk_fn name##_at(int lvl)                                                     \
    {                                                                                      \
        return lvl >= IJEPA__SIMD_AVX512 ? name##_512 : lvl == IJEPA__SIMD_AVX2 ? name##_2 \
                                                                                : name##_g; \
    }

/* Run fn on blocks 0..nb-1, in parallel when the work (values touched) is
 * large enough. */
static void run(chunk_fn fn, const void *args, int64_t nb, int64_t work)
{
#pragma omp parallel for schedule(static) if (work >= PAR_MIN && nb > 1)
    for (int64_t b = 0; b < nb; b++)
        fn(args, b, nb);
}

/* Blocks for a loop without cross-row results: enough for any thread count
 * to balance, few enough to keep each large. */
static int64_t nb_free(int64_t rows, int64_t work)
{
    int64_t nb = work / PAR_MIN;
    if (nb > 64)
        nb = 64;
    if (nb > rows)
        nb = rows;
    return nb < 1 ? 1 : nb;
}

/* Blocks of a column sum: a function of the sizes only (deterministic). */
static int64_t nb_sum(int64_t R, int64_t C)
{
    int64_t nb = R * C / PAR_MIN;
    if (nb > IJEPA__NB_MAX)
        nb = IJEPA__NB_MAX;
    if (nb > R)
        nb = R;
    return nb < 1 ? 1 : nb;
}

/* gb[c] += sum over blocks, in block order, of part[b * C + c]. */
static void reduce_parts(const float *part, int64_t nb, int64_t C, float *gb)
{
    for (int64_t c = 0; c < C; c++) {
        float s = 0.0f;
        for (int64_t b = 0; b < nb; b++)
            s += part[b * C + c];
        gb[c] += s;
    }
}

// --- scalar helpers (inlined into the vector loops) --------------------------------------

INL uint32_t fbits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

INL float bitsf(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

INL ijepa__bf16 rnd(float f)
{
    const uint32_t u = fbits(f);
    const uint32_t r = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
    const uint32_t q = (u >> 16) | 0x40u;
    return (ijepa__bf16)((u & 0x7fffffffu) > 0x7f800000u ? q : r);
}

INL float wid(ijepa__bf16 h) { return bitsf((uint32_t)h << 16); }

/* exp(x) for x <= 88.7; 0 below -87.3 (where float32 runs out of normal
 * numbers). */
INL float exp_f(float x)
{
    const int under = x < -87.3f;
    x = x > 88.7f ? 88.7f : x;
    x = x < -87.3f ? -87.3f : x;
    const float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
    float r = x - n * 0.693359375f;
    r = r + n * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    const float y = p * r * r + r + 1.0f;
    return under ? 0.0f : y * bitsf((uint32_t)((int32_t)n + 127) << 23);
}

/* Phi(x), the standard normal CDF, and phi(x), its density. */
INL float ncdf(float x)
{
    const float z = (x < 0.0f ? -x : x) * 0.70710678118654752f;
    const float t = 1.0f / (1.0f + 0.5f * z);
    float p = 0.17087277f;
    p = p * t - 0.82215223f;
    p = p * t + 1.48851587f;
    p = p * t - 1.13520398f;
    p = p * t + 0.27886807f;
    p = p * t - 0.18628806f;
    p = p * t + 0.09678418f;
    p = p * t + 0.37409196f;
    p = p * t + 1.00002368f;
    p = p * t - 1.26551223f;
    const float half_erfc = 0.5f * t * exp_f(p - z * z); /* 0.5 erfc(|x|/sqrt 2) */
    return x < 0.0f ? half_erfc : 1.0f - half_erfc;
}

INL float npdf(float x) { return 0.39894228040143268f * exp_f(-0.5f * x * x); }

/* Largest and sum of x[0..n-1] (n >= 1), in 16 lanes: a fixed order. */
INL float row_max(const float *x, int64_t n)
{
    float m[16];
    for (int j = 0; j < 16; j++)
        m[j] = x[0];
    int64_t c = 0;
    for (; c + 16 <= n; c += 16)
        for (int j = 0; j < 16; j++)
            m[j] = x[c + j] > m[j] ? x[c + j] : m[j];
    for (; c < n; c++)
        m[0] = x[c] > m[0] ? x[c] : m[0];
    float r = m[0];
    for (int j = 1; j < 16; j++)
        r = m[j] > r ? m[j] : r;
    return r;
}

INL float row_sum(const float *x, int64_t n)
{
    float s[16] = {0};
    int64_t c = 0;
    for (; c + 16 <= n; c += 16)
        for (int j = 0; j < 16; j++)
            s[j] += x[c + j];
    for (; c < n; c++)
        s[0] += x[c];
    float r = 0.0f;
    for (int j = 0; j < 16; j++)
        r += s[j];
    return r;
}

// --- conversions ---------------------------------------------------------------------------

typedef struct cvt_args {
    const float *x;
    const ijepa__bf16 *h;
    ijepa__bf16 *y;
    float *f;
    int64_t n;
} cvt_args;

INL void to_bf16_k(const void *p, int64_t b, int64_t nb)
{
    const cvt_args *a = p;
    const int64_t i0 = b * a->n / nb, i1 = (b + 1) * a->n / nb;
    const float *x = a->x;
    ijepa__bf16 *y = a->y;
#pragma omp simd
    for (int64_t i = i0; i < i1; i++)
        y[i] = rnd(x[i]);
}
VARIANTS(to_bf16_k)

INL void from_bf16_k(const void *p, int64_t b, int64_t nb)
{
    const cvt_args *a = p;
    const int64_t i0 = b * a->n / nb, i1 = (b + 1) * a->n / nb;
    const ijepa__bf16 *h = a->h;
    float *f = a->f;
#pragma omp simd
    for (int64_t i = i0; i < i1; i++)
        f[i] = wid(h[i]);
}
VARIANTS(from_bf16_k)

void ijepa__to_bf16(int lvl, const float *x, ijepa__bf16 *y, int64_t n)
{
    const cvt_args a = {.x = x, .y = y, .n = n};
    run(to_bf16_k_at(lvl), &a, nb_free(n, n), n);
}

void ijepa__from_bf16(int lvl, const ijepa__bf16 *x, float *y, int64_t n)
{
    const cvt_args a = {.h = x, .f = y, .n = n};
    run(from_bf16_k_at(lvl), &a, nb_free(n, n), n);
}

// --- column sums -------------------------------------------------------------------------

typedef struct cs_args {
    const float *x;
    const ijepa__bf16 *h;
    ijepa__bf16 *y;
    float *part;
    int64_t R, C;
} cs_args;

/* Block b: y = bf16(x) over its rows, part[b] = column sums of y. */
INL void to_bf16_cs_k(const void *p, int64_t b, int64_t nb)
{
    const cs_args *a = p;
    const int64_t C = a->C, r0 = b * a->R / nb, r1 = (b + 1) * a->R / nb;
    float *s = a->part ? a->part + b * C : NULL;
    if (s)
        memset(s, 0, (size_t)C * sizeof *s);
    for (int64_t r = r0; r < r1; r++) {
        const float *x = a->x + r * C;
        ijepa__bf16 *y = a->y + r * C;
        if (s) {
#pragma omp simd
            for (int64_t c = 0; c < C; c++) {
                const ijepa__bf16 v = rnd(x[c]);
                y[c] = v;
                s[c] += wid(v);
            }
        } else {
#pragma omp simd
            for (int64_t c = 0; c < C; c++)
                y[c] = rnd(x[c]);
        }
    }
}
VARIANTS(to_bf16_cs_k)

INL void colsum_bf16_k(const void *p, int64_t b, int64_t nb)
{
    const cs_args *a = p;
    const int64_t C = a->C, r0 = b * a->R / nb, r1 = (b + 1) * a->R / nb;
    float *s = a->part + b * C;
    memset(s, 0, (size_t)C * sizeof *s);
    for (int64_t r = r0; r < r1; r++) {
        const ijepa__bf16 *x = a->h + r * C;
#pragma omp simd
        for (int64_t c = 0; c < C; c++)
            s[c] += wid(x[c]);
    }
}
VARIANTS(colsum_bf16_k)

void ijepa__to_bf16_colsum(int lvl, int64_t R, int64_t C, const float *x, ijepa__bf16 *y,
                           float *gb, float *part)
{
    const int64_t nb = gb ? nb_sum(R, C) : nb_free(R, R * C);
    const cs_args a = {.x = x, .y = y, .part = gb ? part : NULL, .R = R, .C = C};
    run(to_bf16_cs_k_at(lvl), &a, nb, R * C);
    if (gb)
        reduce_parts(part, nb, C, gb);
}

void ijepa__colsum_bf16(int lvl, int64_t R, int64_t C, const ijepa__bf16 *x, float *gb,
                        float *part)
{
    const int64_t nb = nb_sum(R, C);
    const cs_args a = {.h = x, .part = part, .R = R, .C = C};
    run(colsum_bf16_k_at(lvl), &a, nb, R * C);
    reduce_parts(part, nb, C, gb);
}

// --- LayerNorm -----------------------------------------------------------------------------

typedef struct ln_args {
    const float *x, *gamma, *beta, *mean, *var, *dy;
    ijepa__bf16 *y;
    float *omean, *ovar, *dx, *part;
    int64_t R, C;
    float eps;
} ln_args;

/* Mean and biased variance of one row, two passes in float32. */
INL void row_stats(const float *x, int64_t C, float *mean, float *var)
{
    float s = 0.0f;
#pragma omp simd reduction(+ : s)
    for (int64_t c = 0; c < C; c++)
        s += x[c];
    const float mu = s / (float)C;
    float q = 0.0f;
#pragma omp simd reduction(+ : q)
    for (int64_t c = 0; c < C; c++) {
        const float d = x[c] - mu;
        q += d * d;
    }
    *mean = mu;
    *var = q / (float)C;
}

INL void ln_fwd_k(const void *p, int64_t b, int64_t nb)
{
    const ln_args *a = p;
    const int64_t C = a->C, r0 = b * a->R / nb, r1 = (b + 1) * a->R / nb;
    for (int64_t r = r0; r < r1; r++) {
        const float *x = a->x + r * C;
        ijepa__bf16 *y = a->y + r * C;
        float mu, var;
        row_stats(x, C, &mu, &var);
        const float rs = 1.0f / sqrtf(var + a->eps);
        if (a->omean) {
            a->omean[r] = mu;
            a->ovar[r] = var;
        }
        if (a->gamma) {
            const float *g = a->gamma, *be = a->beta;
#pragma omp simd
            for (int64_t c = 0; c < C; c++)
                y[c] = rnd((x[c] - mu) * rs * g[c] + be[c]);
        } else {
#pragma omp simd
            for (int64_t c = 0; c < C; c++)
                y[c] = rnd((x[c] - mu) * rs);
        }
    }
}
VARIANTS(ln_fwd_k)

void ijepa__layernorm_bf16(int lvl, int64_t R, int64_t C, float eps, const float *x,
                           const float *gamma, const float *beta, ijepa__bf16 *y,
                           float *mean, float *var)
{
    const ln_args a = {.x = x, .gamma = gamma, .beta = beta, .y = y, .omean = mean,
                       .ovar = var, .R = R, .C = C, .eps = eps};
    run(ln_fwd_k_at(lvl), &a, nb_free(R, R * C), R * C);
}

/* Block b of the backward: dx rows added; part[b] = [sum dy xhat | sum dy]. */
INL void ln_bwd_k(const void *p, int64_t b, int64_t nb)
{
    const ln_args *a = p;
    const int64_t C = a->C, r0 = b * a->R / nb, r1 = (b + 1) * a->R / nb;
    float *pg = a->part ? a->part + b * 2 * C : NULL, *pb = pg ? pg + C : NULL;
    if (pg)
        memset(pg, 0, (size_t)(2 * C) * sizeof *pg);
    const float *g = a->gamma;
    const float inv_c = 1.0f / (float)C;
    for (int64_t r = r0; r < r1; r++) {
        const float *x = a->x + r * C, *dy = a->dy + r * C;
        float *dx = a->dx + r * C;
        const float mu = a->mean[r], rs = 1.0f / sqrtf(a->var[r] + a->eps);
        float s1 = 0.0f, s2 = 0.0f;
        if (g) {
#pragma omp simd reduction(+ : s1, s2)
            for (int64_t c = 0; c < C; c++) {
                const float gy = dy[c] * g[c];
                s1 += gy;
                s2 += gy * ((x[c] - mu) * rs);
            }
        } else {
#pragma omp simd reduction(+ : s1, s2)
            for (int64_t c = 0; c < C; c++) {
                s1 += dy[c];
                s2 += dy[c] * ((x[c] - mu) * rs);
            }
        }
        s1 *= inv_c;
        s2 *= inv_c;
        if (g) {
#pragma omp simd
            for (int64_t c = 0; c < C; c++) {
                const float xh = (x[c] - mu) * rs;
                dx[c] += rs * (dy[c] * g[c] - s1 - xh * s2);
                pg[c] += dy[c] * xh;
                pb[c] += dy[c];
            }
        } else {
#pragma omp simd
            for (int64_t c = 0; c < C; c++) {
                const float xh = (x[c] - mu) * rs;
                dx[c] += rs * (dy[c] - s1 - xh * s2);
            }
        }
    }
}
VARIANTS(ln_bwd_k)

void ijepa__layernorm_bwd_add(int lvl, int64_t R, int64_t C, float eps, const float *x,
                              const float *mean, const float *var, const float *gamma,
                              const float *dy, float *dx, float *dgamma, float *dbeta,
                              float *part)
{
    const int64_t nb = gamma ? nb_sum(R, C) : nb_free(R, R * C);
    const ln_args a = {.x = x, .gamma = gamma, .mean = mean, .var = var, .dy = dy, .dx = dx,
                       .part = gamma ? part : NULL, .R = R, .C = C, .eps = eps};
    run(ln_bwd_k_at(lvl), &a, nb, 2 * R * C);
    if (!gamma)
        return;
    for (int64_t c = 0; c < C; c++) {
        float sg = 0.0f, sb = 0.0f;
        for (int64_t k = 0; k < nb; k++) {
            sg += part[k * 2 * C + c];
            sb += part[k * 2 * C + C + c];
        }
        dgamma[c] += sg;
        dbeta[c] += sb;
    }
}

// --- softmax -------------------------------------------------------------------------------

typedef struct sm_args {
    float *x;
    const float *dy;
    const ijepa__bf16 *y;
    ijepa__bf16 *out;
    int64_t rows, cols, valid;
} sm_args;

INL void sm_fwd_k(const void *p, int64_t b, int64_t nb)
{
    const sm_args *a = p;
    const int64_t cols = a->cols, n = a->valid;
    const int64_t r0 = b * a->rows / nb, r1 = (b + 1) * a->rows / nb;
    for (int64_t r = r0; r < r1; r++) {
        float *x = a->x + r * cols;
        ijepa__bf16 *y = a->out + r * cols;
        const float m = row_max(x, n);
#pragma omp simd
        for (int64_t c = 0; c < n; c++)
            x[c] = exp_f(x[c] - m);
        const float inv = 1.0f / row_sum(x, n);
#pragma omp simd
        for (int64_t c = 0; c < n; c++)
            y[c] = rnd(x[c] * inv);
        for (int64_t c = n; c < cols; c++)
            y[c] = 0;
    }
}
VARIANTS(sm_fwd_k)

INL void sm_bwd_k(const void *p, int64_t b, int64_t nb)
{
    const sm_args *a = p;
    const int64_t cols = a->cols, r0 = b * a->rows / nb, r1 = (b + 1) * a->rows / nb;
    for (int64_t r = r0; r < r1; r++) {
        const ijepa__bf16 *y = a->y + r * cols;
        const float *dy = a->dy + r * cols;
        ijepa__bf16 *dx = a->out + r * cols;
        float s = 0.0f;
#pragma omp simd reduction(+ : s)
        for (int64_t c = 0; c < cols; c++)
            s += wid(y[c]) * dy[c];
#pragma omp simd
        for (int64_t c = 0; c < cols; c++)
            dx[c] = rnd(wid(y[c]) * (dy[c] - s));
    }
}
VARIANTS(sm_bwd_k)

void ijepa__softmax_bf16(int lvl, int64_t rows, int64_t cols, int64_t valid, float *x,
                         ijepa__bf16 *y)
{
    /* the exponentials are kept in x between the two passes over a row */
    const sm_args a = {.x = x, .out = y, .rows = rows, .cols = cols, .valid = valid};
    run(sm_fwd_k_at(lvl), &a, nb_free(rows, rows * cols), rows * cols);
}

void ijepa__softmax_bwd_bf16(int lvl, int64_t rows, int64_t cols, const ijepa__bf16 *y,
                             const float *dy, ijepa__bf16 *dx)
{
    const sm_args a = {.y = y, .dy = dy, .out = dx, .rows = rows, .cols = cols};
    run(sm_bwd_k_at(lvl), &a, nb_free(rows, rows * cols), rows * cols);
}

// --- GELU ----------------------------------------------------------------------------------

typedef struct gelu_args {
    const ijepa__bf16 *x, *dy;
    ijepa__bf16 *y;
    float *part;
    int64_t R, C;
} gelu_args;

INL void gelu_fwd_k(const void *p, int64_t b, int64_t nb)
{
    const gelu_args *a = p;
    const int64_t i0 = b * a->R / nb, i1 = (b + 1) * a->R / nb; /* R = n, C = 1 */
    const ijepa__bf16 *x = a->x;
    ijepa__bf16 *y = a->y;
#pragma omp simd
    for (int64_t i = i0; i < i1; i++) {
        const float v = wid(x[i]);
        y[i] = rnd(v * ncdf(v));
    }
}
VARIANTS(gelu_fwd_k)

INL void gelu_bwd_k(const void *p, int64_t b, int64_t nb)
{
    const gelu_args *a = p;
    const int64_t C = a->C, r0 = b * a->R / nb, r1 = (b + 1) * a->R / nb;
    float *s = a->part ? a->part + b * C : NULL;
    if (s)
        memset(s, 0, (size_t)C * sizeof *s);
    for (int64_t r = r0; r < r1; r++) {
        const ijepa__bf16 *x = a->x + r * C, *dy = a->dy + r * C;
        ijepa__bf16 *dx = a->y + r * C;
        if (s) {
#pragma omp simd
            for (int64_t c = 0; c < C; c++) {
                const float v = wid(x[c]);
                const ijepa__bf16 d = rnd(wid(dy[c]) * (ncdf(v) + v * npdf(v)));
                dx[c] = d;
                s[c] += wid(d);
            }
        } else {
#pragma omp simd
            for (int64_t c = 0; c < C; c++) {
                const float v = wid(x[c]);
                dx[c] = rnd(wid(dy[c]) * (ncdf(v) + v * npdf(v)));
            }
        }
    }
}
VARIANTS(gelu_bwd_k)

void ijepa__gelu_bf16(int lvl, int64_t n, const ijepa__bf16 *x, ijepa__bf16 *y)
{
    const gelu_args a = {.x = x, .y = y, .R = n, .C = 1};
    run(gelu_fwd_k_at(lvl), &a, nb_free(n, 4 * n), 4 * n);
}

void ijepa__gelu_bwd_bf16(int lvl, int64_t R, int64_t C, const ijepa__bf16 *x,
                          const ijepa__bf16 *dy, ijepa__bf16 *dx, float *gb, float *part)
{
    const int64_t nb = gb ? nb_sum(R, C) : nb_free(R, 4 * R * C);
    const gelu_args a = {.x = x, .dy = dy, .y = dx, .part = gb ? part : NULL, .R = R, .C = C};
    run(gelu_bwd_k_at(lvl), &a, nb, 4 * R * C);
    if (gb)
        reduce_parts(part, nb, C, gb);
}
