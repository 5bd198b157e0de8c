/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * Implements: aligned float buffers, tensor tables, the deterministic RNG.
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#include <math.h>
#include <sys/mman.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#endif

#include "bf16.h" /* ijepa__simd_level */
#include "internal.h"

// --- memory -------------------------------------------------------------------

/*
 * Float buffers carry a 64-byte header (their size and how they were made) so
 * the returned pointer stays 64-byte aligned. Buffers of at least
 * IJEPA__MAP_MIN bytes are anonymous mappings: the kernel gives zero pages on
 * first touch, so an activation arena sized for the longest sequence a handle
 * accepts costs memory (and page-clearing time) only for the part the steps
 * really use. Smaller ones come from the C heap and are zeroed here.
 */
#define IJEPA__HDR 64
#define IJEPA__MAP_MIN ((size_t)1 << 20)

/* Under AddressSanitizer every buffer comes from the heap, so ASan keeps its
 * redzones and leak tracking on the large ones too. */
#if defined(__SANITIZE_ADDRESS__)
#define IJEPA__MAP_OK 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define IJEPA__MAP_OK 0
#endif
#endif
#ifndef IJEPA__MAP_OK
#define IJEPA__MAP_OK 1
#endif

typedef struct {
    size_t bytes;  /* total, header included */
    int mapped;
} falloc_hdr;

float *ijepa__falloc(int64_t n)
{
    if (n < 0 || (uint64_t)n > (SIZE_MAX - 2 * IJEPA__HDR) / sizeof(float))
        return NULL;
    size_t payload = ((size_t)n * sizeof(float) + 63) & ~(size_t)63;
    /* never an empty payload: the pointer handed out must lie inside the
     * block (leak checkers only follow pointers into a block) */
    size_t bytes = (payload ? payload : 64) + IJEPA__HDR;
    unsigned char *base;
    int mapped = IJEPA__MAP_OK && bytes >= IJEPA__MAP_MIN;
    if (mapped) {
        void *m = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED)
            return NULL;
        base = m;
    } else {
        base = aligned_alloc(64, bytes);
        if (!base)
            return NULL;
        memset(base, 0, bytes);
    }
    falloc_hdr h = {bytes, mapped};
    memcpy(base, &h, sizeof h);
    return (float *)(void *)(base + IJEPA__HDR);
}

void ijepa__ffree(float *p)
{
    if (!p)
        return;
    unsigned char *base = (unsigned char *)p - IJEPA__HDR;
    falloc_hdr h;
    memcpy(&h, base, sizeof h);
    if (h.mapped)
        munmap(base, h.bytes);
    else
        free(base);
}

// --- tensor tables --------------------------------------------------------------

int64_t ijepa__table_add(struct ijepa_tensor_table *tab, const char *name,
                         int32_t flags, int32_t ndim, const int64_t *dims)
{
    if (tab->count == tab->cap) {
        int64_t cap = tab->cap ? tab->cap * 2 : 64;
        ijepa__tensor *t = realloc(tab->t, (size_t)cap * sizeof *t);
        if (!t)
            return IJEPA_ERR_NOMEM;
        tab->t = t;
        tab->cap = cap;
    }
    ijepa__tensor *t = &tab->t[tab->count];
    memset(t, 0, sizeof *t);
    strncpy(t->name, name, sizeof t->name - 1);
    t->flags = flags;
    t->ndim = ndim;
    t->numel = 1;
    for (int i = 0; i < IJEPA_TENSOR_MAX_DIMS; i++) {
        t->dims[i] = i < ndim ? dims[i] : 1;
        t->numel *= t->dims[i];
    }
    t->offset = tab->total;
    tab->total += (t->numel + 15) & ~(int64_t)15;
    return tab->count++;
}

void ijepa__table_clear(struct ijepa_tensor_table *tab)
{
    free(tab->t);
    memset(tab, 0, sizeof *tab);
}

int64_t ijepa_tensor_table_count(const ijepa_tensor_table *t)
{
    return t ? t->count : 0;
}

int64_t ijepa_tensor_table_buffer_size(const ijepa_tensor_table *t)
{
    return t ? t->total : 0;
}

const char *ijepa_tensor_table_name(const ijepa_tensor_table *t, int64_t i)
{
    return (t && i >= 0 && i < t->count) ? t->t[i].name : NULL;
}

int ijepa_tensor_table_info(const ijepa_tensor_table *t, int64_t i,
                            int64_t *offset, int64_t *numel, int32_t *ndim,
                            int64_t *dims, int32_t *flags)
{
    if (!t)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "table is NULL");
    if (i < 0 || i >= t->count)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG,
                                "index %lld out of range [0, %lld)",
                                (long long)i, (long long)t->count);
    const ijepa__tensor *x = &t->t[i];
    if (offset) *offset = x->offset;
    if (numel) *numel = x->numel;
    if (ndim) *ndim = x->ndim;
    if (flags) *flags = x->flags;
    if (dims)
        for (int d = 0; d < IJEPA_TENSOR_MAX_DIMS; d++)
            dims[d] = x->dims[d];
    return IJEPA_OK;
}

int ijepa_tensor_table_find(const ijepa_tensor_table *t, const char *name,
                            int64_t *index)
{
    if (!t || !name || !index)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG,
                                "table, name and index must not be NULL");
    for (int64_t i = 0; i < t->count; i++)
        if (strcmp(t->t[i].name, name) == 0) {
            *index = i;
            return IJEPA_OK;
        }
    return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG,
                            "no tensor named '%s'", name);
}

// --- deterministic RNG ------------------------------------------------------------
// Everything below uses only integer ops, IEEE +,-,*,/ and sqrt (all correctly
// rounded), never libm's log/sin/cos, so a seed gives the same numbers on every
// machine. The Makefile does not enable -ffast-math and builds with -std=c11
// (no contraction into FMA); the scalar code also keeps its rounding steps in
// volatile doubles, and the AVX-512 code below blocks the one fusion that
// would change a value, so other flags (-std=gnu11, -ffp-contract=fast) give
// the same numbers.

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void ijepa__rng_seed(ijepa__rng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t ijepa__rng_u64(ijepa__rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double ijepa__rng_uniform(ijepa__rng *r)
{
    return (double)(ijepa__rng_u64(r) >> 11) * 0x1.0p-53;
}

/* Natural log for x in (0, 1], from frexp's exact split and the atanh series
 * log(m) = 2 atanh((m-1)/(m+1)) on m in [sqrt(1/2), sqrt(2)). */
static double det_log(double x)
{
    int e;
    double m = frexp(x, &e); /* exact: x = m 2^e, m in [0.5, 1) */
    if (m < 0.70710678118654752440) {
        m = m * 2.0;
        e = e - 1;
    }
    volatile double num = m - 1.0;
    volatile double den = m + 1.0;
    double z = num / den;
    double z2 = z * z;
    double term = z, sum = 0.0;
    for (int k = 1; k < 60; k += 2) {
        volatile double add = term / (double)k;
        sum = sum + add;
        term = term * z2;
    }
    volatile double lm = 2.0 * sum;
    volatile double le = (double)e * 0.69314718055994530942;
    return le + lm;
}

/* The polar method's accepted pair: u, and s = u^2 + v^2 in (0, 1). */
static void polar_pair(ijepa__rng *r, double *u_out, double *s_out)
{
    for (;;) {
        volatile double u = 2.0 * ijepa__rng_uniform(r) - 1.0;
        volatile double v = 2.0 * ijepa__rng_uniform(r) - 1.0;
        volatile double uu = u * u, vv = v * v;
        double s = uu + vv;
        if (s >= 1.0 || s == 0.0)
            continue;
        *u_out = u;
        *s_out = s;
        return;
    }
}

/* The normal of an accepted pair. */
static double polar_value(double u, double s)
{
    volatile double l = -2.0 * det_log(s);
    volatile double q = l / s;
    return u * sqrt(q);
}

double ijepa__rng_normal(ijepa__rng *r)
{
    /* Marsaglia's polar method. */
    double u, s;
    polar_pair(r, &u, &s);
    return polar_value(u, s);
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
/* polar_value of eight pairs at once: the same IEEE operations in the same
 * order in each lane (frexp's split by VGETMANTPD / VGETEXPPD, exact; the
 * series' divisions and sums lane by lane; the empty asm keeps the
 * compiler from fusing e ln 2 into the last addition, while a fused
 * 2 sum + le would be exact), so the same bits. A scalar draw waits on its
 * two chains per term (term z2, sum + add) and the divider: eight lanes
 * cost about 1.5 draws (10.6 ns a lane against 56 a draw, Zen 4). */
__attribute__((target("avx512f"))) static void polar_values8(const double *u, const double *s,
                                                              double *out)
{
    const __m512d x = _mm512_loadu_pd(s), one = _mm512_set1_pd(1.0);
    __m512d m = _mm512_getmant_pd(x, _MM_MANT_NORM_p5_1, _MM_MANT_SIGN_src);
    __m512d e = _mm512_add_pd(_mm512_getexp_pd(x), one); /* x = m 2^e, m in [0.5, 1) */
    const __mmask8 lo = _mm512_cmp_pd_mask(m, _mm512_set1_pd(0.70710678118654752440), _CMP_LT_OQ);
    m = _mm512_mask_mul_pd(m, lo, m, _mm512_set1_pd(2.0));
    e = _mm512_mask_sub_pd(e, lo, e, one);
    const __m512d z = _mm512_div_pd(_mm512_sub_pd(m, one), _mm512_add_pd(m, one));
    const __m512d z2 = _mm512_mul_pd(z, z);
    __m512d term = z, sum = _mm512_setzero_pd();
    for (int k = 1; k < 60; k += 2) {
        sum = _mm512_add_pd(sum, _mm512_div_pd(term, _mm512_set1_pd((double)k)));
        term = _mm512_mul_pd(term, z2);
    }
    const __m512d lm = _mm512_mul_pd(_mm512_set1_pd(2.0), sum);
    __m512d le = _mm512_mul_pd(e, _mm512_set1_pd(0.69314718055994530942));
    __asm__("" : "+v"(le));
    const __m512d l = _mm512_mul_pd(_mm512_set1_pd(-2.0), _mm512_add_pd(le, lm));
    const __m512d q = _mm512_div_pd(l, x);
    _mm512_storeu_pd(out, _mm512_mul_pd(_mm512_loadu_pd(u), _mm512_sqrt_pd(q)));
}

static int norm_avx512(void) { return ijepa__simd_level(IJEPA__SIMD_AVX512) == IJEPA__SIMD_AVX512; }
#else
static void polar_values8(const double *u, const double *s, double *out)
{
    (void)u, (void)s, (void)out;
}
static int norm_avx512(void) { return 0; }
#endif

/* -1: the CPU decides; 0: the scalar values (tests) */
static int norm_mode = -1;

int ijepa__rng_normals_wide(int set)
{
    const int was = norm_mode < 0 ? norm_avx512() : norm_mode;
    if (set >= 0)
        norm_mode = set && norm_avx512();
    return was;
}

void ijepa__rng_normals(ijepa__rng *r, int64_t n, double std, double lo, double hi, float *p,
                        double *pd)
{
    /* eight draws at a time, the generator's state after each kept, so
     * that it can be set back past the last one used */
    const int wide = norm_mode < 0 ? norm_avx512() : norm_mode;
    int64_t i = 0;
    while (i < n) {
        double u[8], s[8], v[8];
        ijepa__rng after[8];
        for (int b = 0; b < 8; b++) {
            polar_pair(r, &u[b], &s[b]);
            after[b] = *r;
        }
        if (wide)
            polar_values8(u, s, v);
        else
            for (int b = 0; b < 8; b++) v[b] = polar_value(u[b], s[b]);
        for (int b = 0; b < 8; b++) {
            const double x = v[b] * std;
            if (x < lo || x > hi)
                continue;
            if (pd)
                pd[i] = x;
            else
                p[i] = (float)x;
            if (++i == n) {
                *r = after[b];
                return;
            }
        }
    }
}
