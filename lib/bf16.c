/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * Implements: bf16.h, the element-wise kernels of the bf16 compute path.
 *
 * Each kernel is a loop body over a block of rows. The portable body (an
 * inline function with "omp simd" loops) is compiled twice, for AVX2 + FMA
 * and for the baseline x86-64 the library is built for, through wrappers
 * with target attributes (the library is built without -march); the AVX-512
 * body is written with intrinsics, because gcc's vectorisation of the
 * portable loops (reductions, masked tails, the exp polynomial) ran at 0.3
 * Gelem/s where the intrinsics run at 2-4 (docs/performance.md). The OpenMP
 * loop that hands out the blocks is one plain function, run(); it calls the
 * body of the level asked for through a pointer. (A parallel region inside
 * a target-attributed function would be outlined before the target applies,
 * so the split keeps the vector code where the work is.)
 *
 * exp() is evaluated inline with a polynomial so that the loops vectorise:
 * Cody-Waite range reduction and Cephes' degree-6 polynomial (relative error
 * ~2 ulp in float32; 0 below -87, where float32 runs out of normal
 * numbers), far below the bf16 rounding (2^-8) that follows. GELU and its
 * derivative are looked up in tables of all 65536 bf16 inputs. Both bodies
 * compute the same formulas in the same order of operations per element; sums over a row
 * may be associated differently (16 lanes, then a fixed tree). One exception: on AMD the
 * AVX-512 softmax evaluates exp(x) where the other levels look it up (exp_by_poly), the
 * same values to ~2 ulp (the table's subnormals below x = -87 too, exp512_raw).
 */
#include <math.h>
#include <pthread.h>
#include <string.h>

#include "bf16.h"
#include "dpbf16.h" /* ijepa__dpbf16_usable */

#if defined(__GNUC__) && !defined(__clang__)
/* ISO C mode keeps gcc from fusing a * b + c into an FMA; the kernels want
 * it (clang fuses within an expression by default) */
#pragma GCC optimize("fp-contract=fast", "no-trapping-math")
#endif
#if defined(__clang__)
/* at -O1 (sanitizer and fuzz builds) clang does not vectorise and says so
 * for every "omp simd" loop; the loops are correct either way */
#pragma clang diagnostic ignored "-Wpass-failed"
#endif

#define INL static inline __attribute__((always_inline))
#define T2 __attribute__((target("avx2,fma")))

/* Parallelise a loop only when it touches at least this many values. */
#define PAR_MIN 32768

/* Coefficients of exp's reduction and polynomial. */
#define LOG2E 1.44269504088896341f
#define LN2_HI 0.693359375f
#define LN2_LO -2.12194440e-4f
#define EXP_LO -87.0f
#define EXP_HI 88.7f
#define P5 1.9875691500e-4f
#define P4 1.3981999507e-3f
#define P3 8.3334519073e-3f
#define P2 4.1665795894e-2f
#define P1 1.6666665459e-1f
#define P0 5.0000001201e-1f

/* 1 where the AVX-512 kernels round with VCVTNEPS2BF16 (rnd16): the CPU
 * has AVX512-BF16 (ijepa__dpbf16_usable). Set by ijepa__simd_level, whose
 * level every caller takes before it runs a kernel (the OpenMP workers it
 * starts after see the write); until then the kernels round without it,
 * to the same values. */
static int cvt_bf16;
static pthread_once_t cvt_once = PTHREAD_ONCE_INIT;

static void cvt_probe(void) { cvt_bf16 = ijepa__dpbf16_usable(); }

int ijepa__bf16_round_by_cvt(int set)
{
    pthread_once(&cvt_once, cvt_probe);
    const int was = cvt_bf16;
    if (set >= 0)
        cvt_bf16 = set && ijepa__dpbf16_usable();
    return was;
}

int ijepa__simd_level(int cap)
{
    int lvl = IJEPA__SIMD_GENERIC;
    pthread_once(&cvt_once, cvt_probe);
#if defined(__x86_64__)
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

// --- the compilations and the parallel driver ------------------------------------------

/* A chunk kernel does block b of nb over its own arguments. */
typedef void (*chunk_fn)(const void *args, int64_t b, int64_t nb);

#if defined(__x86_64__)
#define HAVE_512 1
#define AT_512(name) name##_512
#else
#define HAVE_512 0
#define AT_512(name) name##_2
#endif

/* name##_2 and name##_g from the portable body name; name##_at picks by
 * level (name##_512 is written by hand below). */
#define VARIANTS(name)                                                                     \
    T2 static void name##_2(const void *a, int64_t b, int64_t nb) { name(a, b, nb); }     \
    static void name##_g(const void *a, int64_t b, int64_t nb) { name(a, b, nb); }        \
    static chunk_fn name##_at(int lvl)                                                     \
    {                                                                                      \
        return lvl >= IJEPA__SIMD_AVX512 ? AT_512(name)                                    \
               : lvl == IJEPA__SIMD_AVX2 ? name##_2                                       \
                                         : name##_g;                                       \
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

// --- portable scalar helpers (inlined into the vector loops) -------------------------------

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

INL float exp_f(float x)
{
    const int under = x < EXP_LO;
    x = x > EXP_HI ? EXP_HI : x;
    x = x < EXP_LO ? EXP_LO : x;
    const float n = (x * LOG2E + 12582912.0f) - 12582912.0f; /* round to nearest */
    float r = x - n * LN2_HI;
    r = r - n * LN2_LO;
    float p = P5;
    p = p * r + P4;
    p = p * r + P3;
    p = p * r + P2;
    p = p * r + P1;
    p = p * r + P0;
    const float y = p * (r * r) + r + 1.0f;
    /* NaN stays NaN (through y); converting it to an integer would be undefined */
    const int32_t e = n == n ? (int32_t)n : 0;
    return under ? 0.0f : y * bitsf((uint32_t)(e + 127) << 23);
}

// --- AVX-512 helpers -----------------------------------------------------------------------

#if HAVE_512
#include "bf16_avx512.h"

#define T512 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,fma")))
#define I512                                                                               \
    static inline __attribute__((always_inline,                                            \
                                 target("avx512f,avx512bw,avx512dq,avx512vl,fma")))

/* mask of the first n (< 16) lanes */
I512 __mmask16 tail_mask(int64_t n) { return (__mmask16)((1u << n) - 1u); }

I512 __m512 ld16(const ijepa__bf16 *p)
{
    const __m512i w = _mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)(const void *)p));
    return _mm512_castsi512_ps(_mm512_slli_epi32(w, 16));
}

I512 __m512 ld16m(const ijepa__bf16 *p, __mmask16 m)
{
    const __m512i w = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, p));
    return _mm512_castsi512_ps(_mm512_slli_epi32(w, 16));
}

/* round to nearest even, as rnd(). VCVTNEPS2BF16 rounds so and quiets NaN
 * as rnd() does, but flushes a value below float32's normal range to zero:
 * a vector with one takes ijepa__rnd512. The instruction is written as an
 * asm statement because these kernels are compiled for AVX-512 without
 * BF16 and run where it is missing (cvt_bf16 0), volatile so that no
 * pass moves it above that test; it took 3 % off the softmax forward and
 * 12 % off its backward on Zen 4 (docs/performance.md). */
I512 __m256i rnd16(__m512 v)
{
    if (cvt_bf16 && !_mm512_fpclass_ps_mask(v, 0x20)) {
        __m256i r;
        __asm__ __volatile__("vcvtneps2bf16 {%1, %0|%0, %1}" : "=v"(r) : "v"(v));
        return r;
    }
    return _mm512_cvtepi32_epi16(ijepa__rnd512(v));
}

I512 void st16(ijepa__bf16 *p, __m512 v) { _mm256_storeu_si256((__m256i *)(void *)p, rnd16(v)); }

I512 void st16m(ijepa__bf16 *p, __mmask16 m, __m512 v) { _mm256_mask_storeu_epi16(p, m, rnd16(v)); }

/* the rounded value as float32 again */
I512 __m512 rnd_wid(__m256i h)
{
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

/* exp(x) without exp512's clamps (4 of its 17 operations): the softmax's
 * unshifted rows on AMD, 11 % faster so (docs/performance.md). Within
 * [-87, 88.7] exp512's bits; below, down to about -4.7e7, a float32
 * subnormal or +0 as exp_tab gives (-inf also +0); past that the
 * reduction loses r: +-0 and, beyond about -2.5e13, +-inf; above 88.7
 * +inf, and beyond about 9.9e7 +-inf; NaN stays NaN. The softmax sends a
 * row whose sum is not finite the shifted way; a -0 stays (as +0 would, a
 * probability of 0, but with its sign bit). */
I512 __m512 exp512_raw(__m512 x)
{
    const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(LOG2E)),
                                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(LN2_HI), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(LN2_LO), r);
    __m512 p = _mm512_set1_ps(P5);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(P4));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(P3));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(P2));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(P1));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(P0));
    __m512 y = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), r);
    y = _mm512_add_ps(y, _mm512_set1_ps(1.0f));
    return _mm512_scalef_ps(y, n);
}

I512 __m512 exp512(__m512 x)
{
    /* NaN stays NaN, as in exp_f: max and min return their second operand
     * when either is NaN, and the mask keeps unordered lanes */
    const __mmask16 ok = _mm512_cmp_ps_mask(x, _mm512_set1_ps(EXP_LO), _CMP_NLT_UQ);
    x = _mm512_min_ps(_mm512_set1_ps(EXP_HI), _mm512_max_ps(_mm512_set1_ps(EXP_LO), x));
    return _mm512_maskz_mov_ps(ok, exp512_raw(x));
}

#endif

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

#if HAVE_512
T512 static void to_bf16_k_512(const void *p, int64_t b, int64_t nb)
{
    const cvt_args *a = p;
    int64_t i = b * a->n / nb;
    const int64_t i1 = (b + 1) * a->n / nb;
    for (; i + 16 <= i1; i += 16)
        st16(a->y + i, _mm512_loadu_ps(a->x + i));
    if (i < i1) {
        const __mmask16 m = tail_mask(i1 - i);
        st16m(a->y + i, m, _mm512_maskz_loadu_ps(m, a->x + i));
    }
}

T512 static void from_bf16_k_512(const void *p, int64_t b, int64_t nb)
{
    const cvt_args *a = p;
    int64_t i = b * a->n / nb;
    const int64_t i1 = (b + 1) * a->n / nb;
    for (; i + 16 <= i1; i += 16)
        _mm512_storeu_ps(a->f + i, ld16(a->h + i));
    if (i < i1) {
        const __mmask16 m = tail_mask(i1 - i);
        _mm512_mask_storeu_ps(a->f + i, m, ld16m(a->h + i, m));
    }
}
#endif
VARIANTS(to_bf16_k)
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

#if HAVE_512
/* The column sums of the AVX-512 bodies run 16 columns at a time over the
 * block's rows, the partial row in part (L1 resident for C <= 2048). */
T512 static void to_bf16_cs_k_512(const void *p, int64_t b, int64_t nb)
{
    const cs_args *a = p;
    const int64_t C = a->C, r0 = b * a->R / nb, r1 = (b + 1) * a->R / nb;
    float *s = a->part ? a->part + b * C : NULL;
    if (s)
        memset(s, 0, (size_t)C * sizeof *s);
    for (int64_t r = r0; r < r1; r++) {
        const float *x = a->x + r * C;
        ijepa__bf16 *y = a->y + r * C;
        int64_t c = 0;
        for (; c + 16 <= C; c += 16) {
            const __m256i h = rnd16(_mm512_loadu_ps(x + c));
            _mm256_storeu_si256((__m256i *)(void *)(y + c), h);
            if (s)
                _mm512_storeu_ps(s + c, _mm512_add_ps(_mm512_loadu_ps(s + c), rnd_wid(h)));
        }
        if (c < C) {
            const __mmask16 m = tail_mask(C - c);
            const __m256i h = rnd16(_mm512_maskz_loadu_ps(m, x + c));
            _mm256_mask_storeu_epi16(y + c, m, h);
            if (s)
                _mm512_mask_storeu_ps(s + c, m,
                                      _mm512_add_ps(_mm512_maskz_loadu_ps(m, s + c), rnd_wid(h)));
        }
    }
}

T512 static void colsum_bf16_k_512(const void *p, int64_t b, int64_t nb)
{
    const cs_args *a = p;
    const int64_t C = a->C, r0 = b * a->R / nb, r1 = (b + 1) * a->R / nb;
    float *s = a->part + b * C;
    memset(s, 0, (size_t)C * sizeof *s);
    for (int64_t r = r0; r < r1; r++) {
        const ijepa__bf16 *x = a->h + r * C;
        int64_t c = 0;
        for (; c + 16 <= C; c += 16)
            _mm512_storeu_ps(s + c, _mm512_add_ps(_mm512_loadu_ps(s + c), ld16(x + c)));
        if (c < C) {
            const __mmask16 m = tail_mask(C - c);
            _mm512_mask_storeu_ps(s + c, m,
                                  _mm512_add_ps(_mm512_maskz_loadu_ps(m, s + c), ld16m(x + c, m)));
        }
    }
}

#endif
VARIANTS(to_bf16_cs_k)
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
    const float *x, *gamma, *beta, *rstd, *dy;
    const ijepa__bf16 *xh_in;
    ijepa__bf16 *y, *xh;
    ijepa__bf16 *dx16; /* backward: the new dx rounded, its column sums in part's third C */
    float *orstd, *dx, *part;
    int64_t R, C;
    float eps;
} ln_args;

/* Sum of x[0..n-1] in 16 lanes, then the lanes in a fixed order. */
INL float lane_sum(const float *x, int64_t n)
{
    float s[16] = {0};
    int64_t c = 0;
    for (; c + 16 <= n; c += 16)
        for (int j = 0; j < 16; j++)
            s[j] += x[c + j];
    for (int j = 0; c < n; c++, j++)
        s[j] += x[c];
    float r = 0.0f;
    for (int j = 0; j < 16; j++)
        r += s[j];
    return r;
}

INL void ln_fwd_k(const void *p, int64_t b, int64_t nb)
{
    const ln_args *a = p;
    const int64_t C = a->C, r0 = b * a->R / nb, r1 = (b + 1) * a->R / nb;
    for (int64_t r = r0; r < r1; r++) {
        const float *x = a->x + r * C;
        ijepa__bf16 *y = a->y + r * C, *xh = a->xh ? a->xh + r * C : NULL;
        const float mu = lane_sum(x, C) / (float)C;
        float q[16] = {0};
        int64_t c = 0;
        for (; c + 16 <= C; c += 16)
            for (int j = 0; j < 16; j++)
                q[j] += (x[c + j] - mu) * (x[c + j] - mu);
        for (int j = 0; c < C; c++, j++)
            q[j] += (x[c] - mu) * (x[c] - mu);
        const float var = lane_sum(q, 16) / (float)C;
        const float rs = 1.0f / sqrtf(var + a->eps);
        if (a->orstd)
            a->orstd[r] = rs;
        const float *g = a->gamma, *be = a->beta;
        /* one loop per case: gcc -O2 does not unswitch, and a test in the
         * loop keeps it from vectorising */
        if (xh && g) {
#pragma omp simd
            for (int64_t k = 0; k < C; k++) {
                const ijepa__bf16 h = rnd((x[k] - mu) * rs);
                xh[k] = h;
                y[k] = rnd(wid(h) * g[k] + be[k]);
            }
        } else if (g) {
#pragma omp simd
            for (int64_t k = 0; k < C; k++)
                y[k] = rnd(wid(rnd((x[k] - mu) * rs)) * g[k] + be[k]);
        } else {
#pragma omp simd
            for (int64_t k = 0; k < C; k++)
                y[k] = rnd((x[k] - mu) * rs);
            if (xh)
                memcpy(xh, y, (size_t)C * sizeof *xh);
        }
    }
}

INL void ln_affine_k(const void *p, int64_t b, int64_t nb)
{
    const ln_args *a = p;
    const int64_t C = a->C, r0 = b * a->R / nb, r1 = (b + 1) * a->R / nb;
    const float *g = a->gamma, *be = a->beta;
    for (int64_t r = r0; r < r1; r++) {
        const ijepa__bf16 *xh = a->xh_in + r * C;
        ijepa__bf16 *y = a->y + r * C;
        if (!g) {
            memcpy(y, xh, (size_t)C * sizeof *y);
            continue;
        }
#pragma omp simd
        for (int64_t k = 0; k < C; k++)
            y[k] = rnd(wid(xh[k]) * g[k] + be[k]);
    }
}

/* Block b of the backward: dx rows added; part[b] = [sum dy xhat | sum dy]. */
INL void ln_bwd_k(const void *p, int64_t b, int64_t nb)
{
    const ln_args *a = p;
    const int64_t C = a->C, r0 = b * a->R / nb, r1 = (b + 1) * a->R / nb;
    const int64_t np = a->dx16 ? 3 : 2; /* partial sums per block: dgamma, dbeta (, dx16) */
    float *pg = a->part ? a->part + b * np * C : NULL, *pb = pg ? pg + C : NULL;
    float *ps = pg && a->dx16 ? pg + 2 * C : NULL;
    if (pg)
        memset(pg, 0, (size_t)(np * C) * sizeof *pg);
    const float *g = a->gamma;
    const float inv_c = 1.0f / (float)C;
    for (int64_t r = r0; r < r1; r++) {
        const ijepa__bf16 *xh = a->xh_in + r * C;
        const float *dy = a->dy + r * C;
        float *dx = a->dx + r * C;
        const float rs = a->rstd[r];
        float s1[16] = {0}, s2[16] = {0};
        int64_t c = 0;
        for (; c + 16 <= C; c += 16)
            for (int j = 0; j < 16; j++) {
                const float gy = g ? dy[c + j] * g[c + j] : dy[c + j];
                s1[j] += gy;
                s2[j] += gy * wid(xh[c + j]);
            }
        for (int j = 0; c < C; c++, j++) {
            const float gy = g ? dy[c] * g[c] : dy[c];
            s1[j] += gy;
            s2[j] += gy * wid(xh[c]);
        }
        const float m1 = lane_sum(s1, 16) * inv_c, m2 = lane_sum(s2, 16) * inv_c;
        if (g) {
#pragma omp simd
            for (int64_t k = 0; k < C; k++) {
                const float v = wid(xh[k]);
                dx[k] += rs * (dy[k] * g[k] - m1 - v * m2);
                pg[k] += dy[k] * v;
                pb[k] += dy[k];
            }
        } else {
#pragma omp simd
            for (int64_t k = 0; k < C; k++)
                dx[k] += rs * (dy[k] - m1 - wid(xh[k]) * m2);
        }
        if (a->dx16) { /* as ijepa__to_bf16_colsum on the new dx */
            ijepa__bf16 *y = a->dx16 + r * C;
#pragma omp simd
            for (int64_t k = 0; k < C; k++) {
                const ijepa__bf16 v = rnd(dx[k]);
                y[k] = v;
                if (ps)
                    ps[k] += wid(v);
            }
        }
    }
}

#if HAVE_512
/* sum of the 16 lanes in the order of lane_sum() */
I512 float hsum(__m512 v)
{
    float s[16];
    _mm512_storeu_ps(s, v);
    float r = 0.0f;
    for (int j = 0; j < 16; j++)
        r += s[j];
    return r;
}

/* The LayerNorm forward, LN_G rows at a time: their sums, then their
 * squared deviations, then their outputs, so that each row's dependent
 * chains (a sum over the row, its lanes added in order, a square root)
 * overlap those of the others: one row at a time ran at 1.3 cycles a value
 * (64 x 384, warm), the latency of those chains. The same values as row by
 * row. */
#define LN_G 4
T512 static void ln_fwd_k_512(const void *p, int64_t b, int64_t nb)
{
    const ln_args *a = p;
    const int64_t C = a->C, r0 = b * a->R / nb, r1 = (b + 1) * a->R / nb;
    const int64_t cv = C & ~(int64_t)15;
    const __mmask16 mt = tail_mask(C - cv);
    for (int64_t r = r0; r < r1; r += LN_G) {
        const int g = r1 - r < LN_G ? (int)(r1 - r) : LN_G;
        __m512 s[LN_G], q[LN_G], vmu[LN_G];
        for (int j = 0; j < g; j++)
            s[j] = q[j] = _mm512_setzero_ps();
        for (int64_t c = 0; c < cv; c += 16)
            for (int j = 0; j < g; j++)
                s[j] = _mm512_add_ps(s[j], _mm512_loadu_ps(a->x + (r + j) * C + c));
        if (cv < C)
            for (int j = 0; j < g; j++)
                s[j] = _mm512_add_ps(s[j], _mm512_maskz_loadu_ps(mt, a->x + (r + j) * C + cv));
        for (int j = 0; j < g; j++)
            vmu[j] = _mm512_set1_ps(hsum(s[j]) / (float)C);
        for (int64_t c = 0; c < cv; c += 16)
            for (int j = 0; j < g; j++) {
                const __m512 d = _mm512_sub_ps(_mm512_loadu_ps(a->x + (r + j) * C + c), vmu[j]);
                q[j] = _mm512_fmadd_ps(d, d, q[j]);
            }
        if (cv < C)
            for (int j = 0; j < g; j++) {
                const __m512 d = _mm512_maskz_sub_ps(
                    mt, _mm512_maskz_loadu_ps(mt, a->x + (r + j) * C + cv), vmu[j]);
                q[j] = _mm512_fmadd_ps(d, d, q[j]);
            }
        float rs[LN_G];
        for (int j = 0; j < g; j++)
            rs[j] = 1.0f / sqrtf(hsum(q[j]) / (float)C + a->eps);
        for (int j = 0; j < g; j++) {
            const float *x = a->x + (r + j) * C;
            ijepa__bf16 *y = a->y + (r + j) * C, *xh = a->xh ? a->xh + (r + j) * C : NULL;
            if (a->orstd)
                a->orstd[r + j] = rs[j];
            const __m512 vrs = _mm512_set1_ps(rs[j]);
            for (int64_t c = 0; c < C; c += 16) {
                const __mmask16 m = c < cv ? (__mmask16)0xffff : mt;
                const __m256i h = rnd16(
                    _mm512_mul_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + c), vmu[j]), vrs));
                if (xh && m == (__mmask16)0xffff && !((uintptr_t)(xh + c) & 31))
                    _mm256_stream_si256((__m256i *)(void *)(xh + c), h); /* kept, read in backward */
                else if (xh)
                    _mm256_mask_storeu_epi16(xh + c, m, h);
                if (a->gamma)
                    st16m(y + c, m,
                          _mm512_fmadd_ps(rnd_wid(h), _mm512_maskz_loadu_ps(m, a->gamma + c),
                                          _mm512_maskz_loadu_ps(m, a->beta + c)));
                else
                    _mm256_mask_storeu_epi16(y + c, m, h);
            }
        }
    }
    if (a->xh) /* the non-temporal stores ordered before what follows */
        _mm_sfence();
}

T512 static void ln_affine_k_512(const void *p, int64_t b, int64_t nb)
{
    const ln_args *a = p;
    const int64_t C = a->C, r0 = b * a->R / nb, r1 = (b + 1) * a->R / nb;
    const int64_t cv = C & ~(int64_t)15;
    const __mmask16 mt = tail_mask(C - cv);
    for (int64_t r = r0; r < r1; r++) {
        const ijepa__bf16 *xh = a->xh_in + r * C;
        ijepa__bf16 *y = a->y + r * C;
        for (int64_t c = 0; c < C; c += 16) {
            const __mmask16 m = c < cv ? (__mmask16)0xffff : mt;
            if (a->gamma)
                st16m(y + c, m, _mm512_fmadd_ps(ld16m(xh + c, m), _mm512_maskz_loadu_ps(m, a->gamma + c),
                                                _mm512_maskz_loadu_ps(m, a->beta + c)));
            else
                _mm256_mask_storeu_epi16(y + c, m, _mm256_maskz_loadu_epi16(m, xh + c));
        }
    }
}

T512 static void ln_bwd_k_512(const void *p, int64_t b, int64_t nb)
{
    const ln_args *a = p;
    const int64_t C = a->C, r0 = b * a->R / nb, r1 = (b + 1) * a->R / nb;
    const int64_t cv = C & ~(int64_t)15;
    const __mmask16 mt = tail_mask(C - cv);
    const int64_t np = a->dx16 ? 3 : 2; /* partial sums per block: dgamma, dbeta (, dx16) */
    float *pg = a->part ? a->part + b * np * C : NULL, *pb = pg ? pg + C : NULL;
    float *ps = pg && a->dx16 ? pg + 2 * C : NULL;
    if (pg)
        memset(pg, 0, (size_t)(np * C) * sizeof *pg);
    const float *g = a->gamma;
    const float inv_c = 1.0f / (float)C;
    /* LN_G rows at a time: their row sums first, so that the rows' chains
     * overlap (as in the forward); each row's values as alone */
    for (int64_t r0g = r0; r0g < r1; r0g += LN_G) {
        const int ng = r1 - r0g < LN_G ? (int)(r1 - r0g) : LN_G;
        __m512 s1[LN_G], s2[LN_G], m1s[LN_G], m2s[LN_G];
        for (int j = 0; j < ng; j++)
            s1[j] = s2[j] = _mm512_setzero_ps();
        for (int64_t c = 0; c < C; c += 16) {
            const __mmask16 m = c < cv ? (__mmask16)0xffff : mt;
            for (int j = 0; j < ng; j++) {
                __m512 gy = _mm512_maskz_loadu_ps(m, a->dy + (r0g + j) * C + c);
                if (g)
                    gy = _mm512_mul_ps(gy, _mm512_maskz_loadu_ps(m, g + c));
                s1[j] = _mm512_add_ps(s1[j], gy);
                s2[j] = _mm512_fmadd_ps(gy, ld16m(a->xh_in + (r0g + j) * C + c, m), s2[j]);
            }
        }
        for (int j = 0; j < ng; j++) {
            m1s[j] = _mm512_set1_ps(hsum(s1[j]) * inv_c);
            m2s[j] = _mm512_set1_ps(hsum(s2[j]) * inv_c);
        }
        for (int j = 0; j < ng; j++) {
            const int64_t r = r0g + j;
            const ijepa__bf16 *xh = a->xh_in + r * C;
            const float *dy = a->dy + r * C;
            float *dx = a->dx + r * C;
            ijepa__bf16 *y16 = a->dx16 ? a->dx16 + r * C : NULL;
            const __m512 vrs = _mm512_set1_ps(a->rstd[r]);
            const __m512 m1 = m1s[j], m2 = m2s[j];
            for (int64_t c = 0; c < C; c += 16) {
                const __mmask16 m = c < cv ? (__mmask16)0xffff : mt;
                const __m512 d = _mm512_maskz_loadu_ps(m, dy + c);
                const __m512 gy = g ? _mm512_mul_ps(d, _mm512_maskz_loadu_ps(m, g + c)) : d;
                const __m512 v = ld16m(xh + c, m);
                const __m512 t = _mm512_sub_ps(_mm512_sub_ps(gy, m1), _mm512_mul_ps(v, m2));
                const __m512 nx = _mm512_fmadd_ps(vrs, t, _mm512_maskz_loadu_ps(m, dx + c));
                _mm512_mask_storeu_ps(dx + c, m, nx);
                if (y16) { /* as ijepa__to_bf16_colsum on the new dx */
                    const __m256i h = rnd16(nx);
                    _mm256_mask_storeu_epi16(y16 + c, m, h);
                    if (ps)
                        _mm512_mask_storeu_ps(
                            ps + c, m, _mm512_add_ps(_mm512_maskz_loadu_ps(m, ps + c), rnd_wid(h)));
                }
                if (pg) {
                    _mm512_mask_storeu_ps(pg + c, m,
                                          _mm512_fmadd_ps(d, v, _mm512_maskz_loadu_ps(m, pg + c)));
                    _mm512_mask_storeu_ps(pb + c, m,
                                          _mm512_add_ps(_mm512_maskz_loadu_ps(m, pb + c), d));
                }
            }
        }
    }
}
#endif
VARIANTS(ln_fwd_k)
VARIANTS(ln_affine_k)
VARIANTS(ln_bwd_k)

void ijepa__layernorm_bf16(int lvl, int64_t R, int64_t C, float eps, const float *x,
                           const float *gamma, const float *beta, ijepa__bf16 *y,
                           ijepa__bf16 *xh, float *rstd)
{
    const ln_args a = {.x = x, .gamma = gamma, .beta = beta, .y = y, .xh = xh, .orstd = rstd,
                       .R = R, .C = C, .eps = eps};
    run(ln_fwd_k_at(lvl), &a, nb_free(R, R * C), R * C);
}

void ijepa__layernorm_affine_bf16(int lvl, int64_t R, int64_t C, const ijepa__bf16 *xh,
                                  const float *gamma, const float *beta, ijepa__bf16 *y)
{
    const ln_args a = {.xh_in = xh, .gamma = gamma, .beta = beta, .y = y, .R = R, .C = C};
    run(ln_affine_k_at(lvl), &a, nb_free(R, R * C), R * C);
}

void ijepa__layernorm_bwd_add(int lvl, int64_t R, int64_t C, const ijepa__bf16 *xh,
                              const float *rstd, const float *gamma, const float *dy,
                              float *dx, float *dgamma, float *dbeta, float *part)
{
    const int64_t nb = gamma ? nb_sum(R, C) : nb_free(R, R * C);
    const ln_args a = {.xh_in = xh, .gamma = gamma, .rstd = rstd, .dy = dy, .dx = dx,
                       .part = gamma ? part : NULL, .R = R, .C = C};
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

void ijepa__layernorm_bwd_add_bf16(int lvl, int64_t R, int64_t C, const ijepa__bf16 *xh,
                                   const float *rstd, const float *gamma, const float *dy,
                                   float *dx, float *dgamma, float *dbeta, ijepa__bf16 *dx16,
                                   float *gb, float *part)
{
    const int64_t nb = nb_sum(R, C);
    const ln_args a = {.xh_in = xh, .gamma = gamma, .rstd = rstd, .dy = dy, .dx = dx,
                       .dx16 = dx16, .part = part, .R = R, .C = C};
    run(ln_bwd_k_at(lvl), &a, nb, 3 * R * C);
    for (int64_t c = 0; c < C; c++) {
        float sg = 0.0f, sb = 0.0f, sy = 0.0f;
        for (int64_t k = 0; k < nb; k++) {
            sg += part[k * 3 * C + c];
            sb += part[k * 3 * C + C + c];
            sy += part[k * 3 * C + 2 * C + c];
        }
        dgamma[c] += sg;
        dbeta[c] += sb;
        gb[c] += sy;
    }
}

// --- lookup tables -------------------------------------------------------------------------

/*
 * A bf16 input has 65536 possible values, so GELU, its derivative and exp
 * of a bf16 operand are looked up rather than evaluated: gelu_tab[h] =
 * bf16(GELU(x)), dgelu_tab[h] = float(GELU'(x)), exp_tab[h] = float(exp(x))
 * for x = wid(h), computed once per process in double precision from
 * glibc's erfc and exp (< 1 ulp), so they are the float32/bf16 roundings of
 * the exact values on every SIMD level. A lookup (an AVX-512 gather from
 * tables that stay in L2) costs a third of the polynomials it replaces
 * (docs/performance.md).
 */
static ijepa__bf16 gelu_tab[65536 + 2]; /* +2: a gather reads 4 bytes at 2 * index */
static float dgelu_tab[65536];
static float exp_tab[65536];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

/*
 * 1 where the AVX-512 softmax evaluates exp (exp512_raw, exp512 on the
 * shifted rows) rather than gather it
 * from exp_tab: on AMD's cores. A 16-lane VGATHERDPS there (Zen 4) takes
 * 0.40 ns an element even from L1, so the looked-up softmax ran at 0.67 ns
 * a score and the polynomial at 0.50 (docs/performance.md). GELU keeps its
 * tables there: an erfc good to float32 in the far negative tail costs more
 * than the gather. Intel's gathers are the faster choice (above).
 */
static int exp_by_poly;

/*
 * 1 where the AVX-512 GELU kernels look their tables up with scalar loads
 * rather than gathers: on AMD's cores, as exp_by_poly. A loop of scalar
 * lookups takes 0.30 ns an element there against the gather's 0.47 (Zen 4,
 * 1 thread); the GELU pass runs 28 % faster, its backward (which also
 * reads, multiplies and stores) 7-10 % (docs/performance.md). The same
 * table entries either way.
 */
static int lookup_scalar;

static void make_tables(void)
{
#if defined(__x86_64__)
    __builtin_cpu_init();
    exp_by_poly = __builtin_cpu_is("amd");
    lookup_scalar = exp_by_poly;
#endif
    for (uint32_t h = 0; h < 65536; h++) {
        const double x = (double)wid((ijepa__bf16)h);
        const double phi = 0.5 * erfc(-x * 0.70710678118654752440);
        gelu_tab[h] = rnd((float)(x * phi));
        dgelu_tab[h] = (float)(phi + x * exp(-0.5 * x * x) * 0.39894228040143267794);
        exp_tab[h] = (float)exp(x);
    }
}

static void tables(void) { pthread_once(&tables_once, make_tables); }

/* A per-vendor choice of the tables' setup, set (>= 0) or asked (tests). */
static int choice(int *flag, int set)
{
    tables();
    const int was = *flag;
    if (set >= 0)
        *flag = !!set;
    return was;
}

int ijepa__softmax_exp_by_poly(int set) { return choice(&exp_by_poly, set); }

int ijepa__gelu_lookup_scalar(int set) { return choice(&lookup_scalar, set); }

const ijepa__bf16 *ijepa__gelu_table(void)
{
    tables();
    return gelu_tab;
}

// --- softmax -------------------------------------------------------------------------------

typedef struct sm_args {
    float *x;                 /* float32 scores (overwritten), or NULL */
    const ijepa__bf16 *x16;   /* bf16 scores instead of x */
    const ijepa__bf16 *y, *dy16;
    ijepa__bf16 *out;
    float *out32; /* float32 output instead of out (may be x) */
    int64_t rows, cols, valid;
} sm_args;

/* Rows up to this long keep their exponentials on the stack between the
 * passes; longer ones compute them twice. */
#define SM_ROW 4096

/*
 * sm_fwd_tab: on bf16 scores, exp(x) is looked up (exp_tab; at the AVX-512
 * level on AMD evaluated, exp_by_poly) instead of exp(x - max): the
 * quotients exp(x) / sum exp(x) are the same numbers, and one pass (the
 * max) goes, and with the lookup the polynomial. That holds while
 * the row's largest exp(x) lies in [1, SM_TAB_MAX = e^60]: the sum cannot
 * overflow, and a term that falls below float32's normal range in the table
 * (x < -87.3) is below 2^-126 of the sum, as exp(x - max) would make it. A
 * row outside that range (its largest score negative or above 60, or
 * infinite) takes the shifted path, and at the AVX-512 level also a row
 * whose sum is not finite: on AMD a score of so large a magnitude that
 * exp512_raw gives it -inf; a NaN score (the shifted path makes its row
 * NaN as the other would).
 */
#define SM_TAB_MAX 1.1420073898156842e26f

INL void sm_fwd_k(const void *p, int64_t b, int64_t nb)
{
    const sm_args *a = p;
    const int64_t cols = a->cols, n = a->valid;
    const int64_t r0 = b * a->rows / nb, r1 = (b + 1) * a->rows / nb;
    float tmp[SM_ROW];
    for (int64_t r = r0; r < r1; r++) {
        float *x = a->x ? a->x + r * cols : NULL;
        const ijepa__bf16 *x16 = a->x16 ? a->x16 + r * cols : NULL;
        ijepa__bf16 *y = a->out32 ? NULL : a->out + r * cols;
        if (x16 && y && n <= SM_ROW) { /* exp(x) looked up (sm_fwd_tab) */
            float emax = 0.0f;
            for (int64_t c = 0; c < n; c++) {
                const float v = exp_tab[x16[c]];
                tmp[c] = v;
                emax = v > emax ? v : emax;
            }
            if (emax >= 1.0f && emax <= SM_TAB_MAX) {
                const float inv = 1.0f / lane_sum(tmp, n);
#pragma omp simd
                for (int64_t c = 0; c < n; c++)
                    y[c] = rnd(tmp[c] * inv);
                for (int64_t c = n; c < cols; c++)
                    y[c] = 0;
                continue;
            }
        }
        float m = x ? x[0] : wid(x16[0]);
        for (int64_t c = 1; c < n; c++) {
            const float v = x ? x[c] : wid(x16[c]);
            m = v > m ? v : m;
        }
        /* the exponentials: in x (float32 scores), in tmp, or not kept */
        float *e = x ? x : (n <= SM_ROW ? tmp : NULL);
        float s = 0.0f;
        if (x) {
#pragma omp simd
            for (int64_t c = 0; c < n; c++)
                e[c] = exp_f(x[c] - m);
            s = lane_sum(e, n);
        } else if (e) {
#pragma omp simd
            for (int64_t c = 0; c < n; c++)
                e[c] = exp_f(wid(x16[c]) - m);
            s = lane_sum(e, n);
        } else {
            for (int64_t c = 0; c < n; c++)
                s += exp_f(wid(x16[c]) - m);
        }
        const float inv = 1.0f / s;
        if (a->out32) {
            float *o = a->out32 + r * cols;
#pragma omp simd
            for (int64_t c = 0; c < n; c++)
                o[c] = e[c] * inv;
            for (int64_t c = n; c < cols; c++)
                o[c] = 0.0f;
            continue;
        }
        if (e) {
#pragma omp simd
            for (int64_t c = 0; c < n; c++)
                y[c] = rnd(e[c] * inv);
        } else {
            for (int64_t c = 0; c < n; c++)
                y[c] = rnd(exp_f(wid(x16[c]) - m) * inv);
        }
        for (int64_t c = n; c < cols; c++)
            y[c] = 0;
    }
}

INL void sm_bwd_k(const void *p, int64_t b, int64_t nb)
{
    const sm_args *a = p;
    const int64_t cols = a->cols, r0 = b * a->rows / nb, r1 = (b + 1) * a->rows / nb;
    for (int64_t r = r0; r < r1; r++) {
        const ijepa__bf16 *y = a->y + r * cols, *dy = a->dy16 + r * cols;
        ijepa__bf16 *dx = a->out + r * cols;
        float s[16] = {0};
        int64_t c = 0;
        for (; c + 16 <= cols; c += 16)
            for (int j = 0; j < 16; j++)
                s[j] += wid(y[c + j]) * wid(dy[c + j]);
        for (int j = 0; c < cols; c++, j++)
            s[j] += wid(y[c]) * wid(dy[c]);
        const float t = lane_sum(s, 16);
#pragma omp simd
        for (int64_t k = 0; k < cols; k++)
            dx[k] = rnd(wid(y[k]) * (wid(dy[k]) - t));
    }
}

#if HAVE_512
/* scores c.. of a row as float32 (lanes past n - c zero) */
I512 __m512 sm_ld(const sm_args *a, const float *x, const ijepa__bf16 *x16, int64_t c,
                  __mmask16 k)
{
    (void)a;
    return x ? _mm512_maskz_loadu_ps(k, x + c) : ld16m(x16 + c, k);
}

/* The table path of sm_fwd_k (sm_fwd_tab) on rows r.. (g of them, at most
 * SM_G), row j's exponentials at tmp + j ld: their exp(x) first (looked
 * up, or evaluated with poly), then
 * their sums, then their outputs, so that the rows' dependent chains (a
 * sum over the row, its sixteen lanes added in order, a division) overlap:
 * one row at a time ran at 1.35 cycles a score (104 x 104), the latency
 * of those chains. Returns the rows (a bit each) whose largest exp(x) lies
 * outside [1, SM_TAB_MAX] or whose sum is not finite, left for the
 * shifted path. */
#define SM_G 4
I512 unsigned sm_tab_body(const int poly, const sm_args *a, int64_t r, int g, float *tmp,
                         int64_t ld)
{
    const int64_t cols = a->cols, n = a->valid, nv = n & ~(int64_t)15;
    const __mmask16 mt = tail_mask(n - nv);
    __m512 vs[SM_G], vx[SM_G];
    for (int j = 0; j < g; j++) {
        vs[j] = _mm512_setzero_ps();
        vx[j] = _mm512_setzero_ps();
    }
    for (int64_t c = 0; c < n; c += 16) {
        const __mmask16 k = c < nv ? (__mmask16)0xffff : mt;
        for (int j = 0; j < g; j++) {
            const ijepa__bf16 *x16 = a->x16 + (r + j) * cols;
            __m512 v;
            if (poly) {
                v = _mm512_maskz_mov_ps(k, exp512_raw(ld16m(x16 + c, k)));
            } else {
                const __m512i idx = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(k, x16 + c));
                v = _mm512_maskz_mov_ps(k, _mm512_i32gather_ps(idx, exp_tab, 4));
            }
            _mm512_mask_storeu_ps(tmp + j * ld + c, k, v);
            vs[j] = _mm512_add_ps(vs[j], v);
            vx[j] = _mm512_max_ps(vx[j], v);
        }
    }
    float inv[SM_G];
    unsigned out = 0;
    for (int j = 0; j < g; j++) {
        /* a sum of inf or NaN (exponent bits all set): a lane of
         * exp512_raw's -inf, which the max does not see, or a NaN score,
         * whose row the shifted path makes NaN too */
        const float emax = _mm512_reduce_max_ps(vx[j]), sum = hsum(vs[j]);
        if (emax >= 1.0f && emax <= SM_TAB_MAX && (fbits(sum) & 0x7f800000u) != 0x7f800000u)
            inv[j] = 1.0f / sum;
        else
            out |= 1u << j;
    }
    for (int j = 0; j < g; j++) {
        if (out >> j & 1)
            continue;
        ijepa__bf16 *y = a->out + (r + j) * cols;
        const __m512 vi = _mm512_set1_ps(inv[j]);
        for (int64_t c = 0; c < n; c += 16) {
            const __mmask16 k = c < nv ? (__mmask16)0xffff : mt;
            st16m(y + c, k, _mm512_mul_ps(_mm512_maskz_loadu_ps(k, tmp + j * ld + c), vi));
        }
        for (int64_t c = n; c < cols; c++)
            y[c] = 0;
    }
    return out;
}

/* with exp(x) looked up (exp_tab), or evaluated (exp_by_poly) */
T512 static unsigned sm_tab_rows(const sm_args *a, int64_t r, int g, float *tmp, int64_t ld)
{
    return sm_tab_body(0, a, r, g, tmp, ld);
}

T512 static unsigned sm_tab_rows_p(const sm_args *a, int64_t r, int g, float *tmp, int64_t ld)
{
    return sm_tab_body(1, a, r, g, tmp, ld);
}

T512 static void sm_fwd_k_512(const void *p, int64_t b, int64_t nb)
{
    const sm_args *a = p;
    const int64_t cols = a->cols, n = a->valid;
    const int64_t r0 = b * a->rows / nb, r1 = (b + 1) * a->rows / nb;
    const int64_t nv = n & ~(int64_t)15;
    const __mmask16 mt = tail_mask(n - nv);
    /* the table path, up to SM_G rows at a time, as many as tmp holds */
    const int tab = a->x16 && !a->out32 && n <= SM_ROW;
    const int64_t ld = (n + 15) & ~(int64_t)15, gmax = SM_ROW / ld < SM_G ? SM_ROW / ld : SM_G;
    float tmp[SM_ROW];
    unsigned left = 0; /* rows of the group from gs the table path left */
    int64_t gs = r0, ge = r0;
    for (int64_t r = r0; r < r1; r++) {
        if (tab && r == ge) {
            const int g = (int)(r1 - r < gmax ? r1 - r : gmax);
            left = exp_by_poly ? sm_tab_rows_p(a, r, g, tmp, ld) : sm_tab_rows(a, r, g, tmp, ld);
            gs = r;
            ge = r + g;
        }
        if (tab && !(left >> (r - gs) & 1))
            continue;
        float *x = a->x ? a->x + r * cols : NULL;
        const ijepa__bf16 *x16 = a->x16 ? a->x16 + r * cols : NULL;
        ijepa__bf16 *y = a->out32 ? NULL : a->out + r * cols;
        __m512 vm = _mm512_set1_ps(x ? x[0] : wid(x16[0]));
        for (int64_t c = 0; c < n; c += 16) {
            const __mmask16 k = c < nv ? (__mmask16)0xffff : mt;
            vm = _mm512_mask_max_ps(vm, k, vm, sm_ld(a, x, x16, c, k));
        }
        const __m512 m = _mm512_set1_ps(_mm512_reduce_max_ps(vm));
        float *e = x ? x : (n <= SM_ROW ? tmp : NULL);
        __m512 s = _mm512_setzero_ps();
        for (int64_t c = 0; c < n; c += 16) {
            const __mmask16 k = c < nv ? (__mmask16)0xffff : mt;
            const __m512 v = _mm512_maskz_mov_ps(k, exp512(_mm512_sub_ps(sm_ld(a, x, x16, c, k), m)));
            if (e)
                _mm512_mask_storeu_ps(e + c, k, v);
            s = _mm512_add_ps(s, v);
        }
        const __m512 inv = _mm512_set1_ps(1.0f / hsum(s));
        if (a->out32) {
            float *o = a->out32 + r * cols;
            for (int64_t c = 0; c < n; c += 16) {
                const __mmask16 k = c < nv ? (__mmask16)0xffff : mt;
                _mm512_mask_storeu_ps(o + c, k, _mm512_mul_ps(_mm512_maskz_loadu_ps(k, e + c), inv));
            }
            for (int64_t c = n; c < cols; c++)
                o[c] = 0.0f;
            continue;
        }
        for (int64_t c = 0; c < n; c += 16) {
            const __mmask16 k = c < nv ? (__mmask16)0xffff : mt;
            const __m512 v = e ? _mm512_maskz_loadu_ps(k, e + c)
                               : exp512(_mm512_sub_ps(sm_ld(a, x, x16, c, k), m));
            st16m(y + c, k, _mm512_mul_ps(v, inv));
        }
        for (int64_t c = n; c < cols; c++)
            y[c] = 0;
    }
}

T512 static void sm_bwd_k_512(const void *p, int64_t b, int64_t nb)
{
    const sm_args *a = p;
    const int64_t cols = a->cols, r0 = b * a->rows / nb, r1 = (b + 1) * a->rows / nb;
    const int64_t cv = cols & ~(int64_t)15;
    const __mmask16 mt = tail_mask(cols - cv);
    /* SM_G rows at a time: their sums first, then their outputs, so that
     * the rows' dependent chains (the sum, its lanes added in order)
     * overlap; the same values as row by row */
    for (int64_t r = r0; r < r1; r += SM_G) {
        const int g = r1 - r < SM_G ? (int)(r1 - r) : SM_G;
        __m512 s[SM_G];
        for (int j = 0; j < g; j++)
            s[j] = _mm512_setzero_ps();
        for (int64_t c = 0; c < cols; c += 16) {
            const __mmask16 k = c < cv ? (__mmask16)0xffff : mt;
            for (int j = 0; j < g; j++) {
                const ijepa__bf16 *y = a->y + (r + j) * cols, *dy = a->dy16 + (r + j) * cols;
                s[j] = _mm512_fmadd_ps(ld16m(y + c, k), ld16m(dy + c, k), s[j]);
            }
        }
        float t[SM_G];
        for (int j = 0; j < g; j++)
            t[j] = hsum(s[j]);
        for (int j = 0; j < g; j++) {
            const ijepa__bf16 *y = a->y + (r + j) * cols, *dy = a->dy16 + (r + j) * cols;
            ijepa__bf16 *dx = a->out + (r + j) * cols;
            const __m512 vt = _mm512_set1_ps(t[j]);
            for (int64_t c = 0; c < cols; c += 16) {
                const __mmask16 k = c < cv ? (__mmask16)0xffff : mt;
                st16m(dx + c, k,
                      _mm512_mul_ps(ld16m(y + c, k), _mm512_sub_ps(ld16m(dy + c, k), vt)));
            }
        }
    }
}
#endif
VARIANTS(sm_fwd_k)
VARIANTS(sm_bwd_k)

void ijepa__softmax_bf16(int lvl, int64_t rows, int64_t cols, int64_t valid,
                         const ijepa__bf16 *x, ijepa__bf16 *y)
{
    tables();
    const sm_args a = {.x16 = x, .out = y, .rows = rows, .cols = cols, .valid = valid};
    run(sm_fwd_k_at(lvl), &a, nb_free(rows, rows * cols), rows * cols);
}

void ijepa__softmax_bf16_serial(int lvl, int64_t rows, int64_t cols, int64_t valid,
                                const ijepa__bf16 *x, ijepa__bf16 *y)
{
    tables();
    const sm_args a = {.x16 = x, .out = y, .rows = rows, .cols = cols, .valid = valid};
    sm_fwd_k_at(lvl)(&a, 0, 1);
}

void ijepa__softmax_masked(int lvl, int64_t rows, int64_t cols, int64_t valid, float *x,
                           float *y)
{
    const sm_args a = {.x = x, .out32 = y, .rows = rows, .cols = cols, .valid = valid};
    run(sm_fwd_k_at(lvl), &a, nb_free(rows, rows * cols), rows * cols);
}

void ijepa__softmax_bwd_bf16(int lvl, int64_t rows, int64_t cols, const ijepa__bf16 *y,
                             const ijepa__bf16 *dy, ijepa__bf16 *dx)
{
    const sm_args a = {.y = y, .dy16 = dy, .out = dx, .rows = rows, .cols = cols};
    run(sm_bwd_k_at(lvl), &a, nb_free(rows, rows * cols), rows * cols);
}

void ijepa__softmax_bwd_bf16_serial(int lvl, int64_t rows, int64_t cols, const ijepa__bf16 *y,
                                    const ijepa__bf16 *dy, ijepa__bf16 *dx)
{
    const sm_args a = {.y = y, .dy16 = dy, .out = dx, .rows = rows, .cols = cols};
    sm_bwd_k_at(lvl)(&a, 0, 1);
}

// --- GELU -----------------------------------------------------------------------------------

typedef struct gelu_args {
    const ijepa__bf16 *x, *dy;
    ijepa__bf16 *y, *g;
    float *part;
    int64_t R, C;
} gelu_args;

INL void gelu_k(const void *p, int64_t b, int64_t nb)
{
    const gelu_args *a = p;
    const int64_t i0 = b * a->R / nb, i1 = (b + 1) * a->R / nb; /* R = n, C = 1 */
    for (int64_t i = i0; i < i1; i++)
        a->y[i] = gelu_tab[a->x[i]];
}

/* Block b: g = bf16(GELU(x)) when asked, dx = bf16(dy * GELU'(x)) with
 * GELU' in float32, part[b] = column sums of dx (when part). */
INL void gelu_bwd_k(const void *p, int64_t b, int64_t nb)
{
    const gelu_args *a = p;
    const int64_t C = a->C, r0 = b * a->R / nb, r1 = (b + 1) * a->R / nb;
    float *s = a->part ? a->part + b * C : NULL;
    if (s)
        memset(s, 0, (size_t)C * sizeof *s);
    for (int64_t r = r0; r < r1; r++) {
        const ijepa__bf16 *x = a->x + r * C, *dy = a->dy + r * C;
        ijepa__bf16 *dx = a->y + r * C, *g = a->g ? a->g + r * C : NULL;
        for (int64_t c = 0; c < C; c++) {
            const ijepa__bf16 v = x[c];
            if (g)
                g[c] = gelu_tab[v];
            const ijepa__bf16 d = rnd(wid(dy[c]) * dgelu_tab[v]);
            dx[c] = d;
            if (s)
                s[c] += wid(d);
        }
    }
}

/* The scalar lookups of the AVX-512 kernels where gathers are slow
 * (lookup_scalar): n inputs x, GELU' into d (may be NULL), GELU into g
 * (may be NULL). Not inlined into them, so that no compiler turns the
 * loop back into gathers. */
__attribute__((noinline)) static void gelu_lookup(const ijepa__bf16 *x, int64_t n, float *d,
                                                  ijepa__bf16 *g)
{
    if (d && g) {
        for (int64_t i = 0; i < n; i++) {
            d[i] = dgelu_tab[x[i]];
            g[i] = gelu_tab[x[i]];
        }
    } else if (d) {
        for (int64_t i = 0; i < n; i++) d[i] = dgelu_tab[x[i]];
    } else {
        for (int64_t i = 0; i < n; i++) g[i] = gelu_tab[x[i]];
    }
}

/* Columns of a row whose GELU' the scalar lookups put on the stack at a
 * time (a multiple of 16). */
#define GL_CHUNK 256

#if HAVE_512
T512 static void gelu_k_512(const void *p, int64_t b, int64_t nb)
{
    const gelu_args *a = p;
    const int64_t i0 = b * a->R / nb, i1 = (b + 1) * a->R / nb;
    if (lookup_scalar) {
        gelu_lookup(a->x + i0, i1 - i0, NULL, a->y + i0);
        return;
    }
    for (int64_t i = i0; i < i1; i += 16) {
        const __mmask16 m = i + 16 <= i1 ? (__mmask16)0xffff : tail_mask(i1 - i);
        const __m512i idx = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, a->x + i));
        const __m512i v = _mm512_i32gather_epi32(idx, (const void *)gelu_tab, 2);
        _mm256_mask_storeu_epi16(a->y + i, m, _mm512_cvtepi32_epi16(v));
    }
}

T512 static void gelu_bwd_k_512(const void *p, int64_t b, int64_t nb)
{
    const gelu_args *a = p;
    const int64_t C = a->C, r0 = b * a->R / nb, r1 = (b + 1) * a->R / nb;
    const int64_t cv = C & ~(int64_t)15;
    const __mmask16 mt = tail_mask(C - cv);
    float *s = a->part ? a->part + b * C : NULL;
    if (s)
        memset(s, 0, (size_t)C * sizeof *s);
    const int scal = lookup_scalar;
    float buf[GL_CHUNK] __attribute__((aligned(64)));
    for (int64_t r = r0; r < r1; r++) {
        const ijepa__bf16 *x = a->x + r * C, *dy = a->dy + r * C;
        ijepa__bf16 *dx = a->y + r * C, *g = a->g ? a->g + r * C : NULL;
        for (int64_t c = 0; c < C; c += 16) {
            const __mmask16 m = c < cv ? (__mmask16)0xffff : mt;
            const int64_t cb = c % GL_CHUNK;
            if (scal && cb == 0)
                gelu_lookup(x + c, C - c < GL_CHUNK ? C - c : GL_CHUNK, buf, g ? g + c : NULL);
            __m512 d;
            if (scal) {
                d = _mm512_maskz_load_ps(m, buf + cb);
            } else {
                const __m512i idx = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, x + c));
                if (g)
                    _mm256_mask_storeu_epi16(g + c, m,
                                             _mm512_cvtepi32_epi16(_mm512_i32gather_epi32(
                                                 idx, (const void *)gelu_tab, 2)));
                d = _mm512_i32gather_ps(idx, dgelu_tab, 4);
            }
            const __m256i h = rnd16(_mm512_mul_ps(ld16m(dy + c, m), d));
            _mm256_mask_storeu_epi16(dx + c, m, h);
            if (s)
                _mm512_mask_storeu_ps(s + c, m,
                                      _mm512_add_ps(_mm512_maskz_loadu_ps(m, s + c), rnd_wid(h)));
        }
    }
}
#endif
VARIANTS(gelu_k)
VARIANTS(gelu_bwd_k)

void ijepa__gelu_bf16(int lvl, int64_t n, const ijepa__bf16 *x, ijepa__bf16 *y)
{
    tables();
    const gelu_args a = {.x = x, .y = y, .R = n, .C = 1};
    run(gelu_k_at(lvl), &a, nb_free(n, 4 * n), 4 * n);
}

void ijepa__gelu_bwd_bf16(int lvl, int64_t R, int64_t C, const ijepa__bf16 *x,
                          const ijepa__bf16 *dy, ijepa__bf16 *dx, ijepa__bf16 *g, float *gb,
                          float *part)
{
    tables();
    const int64_t nb = gb ? nb_sum(R, C) : nb_free(R, 4 * R * C);
    const gelu_args a = {.x = x, .dy = dy, .y = dx, .g = g, .part = gb ? part : NULL,
                         .R = R, .C = C};
    run(gelu_bwd_k_at(lvl), &a, nb, 4 * R * C);
    if (gb)
        reduce_parts(part, nb, C, gb);
}
