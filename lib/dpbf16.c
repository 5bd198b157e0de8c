/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * Implements: dpbf16.h, batched bf16 products on AVX512-BF16.
 *
 * Per item: B is packed into pairs of K (one 32-bit word: the bf16 of row
 * 2k in the low half, of row 2k + 1 in the high half, zero past K), 16
 * columns to a vector, one column block's pairs after another; A is read
 * in place one pair of K at a time (a 32-bit broadcast), or, stored
 * transposed, first packed into pairs the same way. A block of up to
 * 24 vectors of C (6 rows x 4 column blocks, 8 x 3, 12 x 2 or 16 x 1) is
 * accumulated over all of K in registers, one VDPBF16PS per row and column
 * block and pair, then scaled, rounded and stored under a mask.
 *
 * Weight gradients: the tokens in chunks; per chunk a thread packs its
 * share of dy^T and all of x (or the other way round) into pairs of
 * tokens, then adds the chunk's products to each block of its outputs in
 * registers, loaded from and stored back to gW.
 */
#include <string.h>

#include "dpbf16.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))

#include <cpuid.h>
#include <immintrin.h>
#include <omp.h>
#include <pthread.h>

#include "bf16_avx512.h"

#define TDP __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx512bf16")))

static pthread_once_t probe_once = PTHREAD_ONCE_INIT;
static int dp_ok;

static void probe(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
        return;
    const unsigned avx512 = (1u << 16) | (1u << 17) | (1u << 30) | (1u << 31); /* F DQ BW VL */
    if ((b & avx512) != avx512)
        return;
    if (!__get_cpuid_count(7, 1, &a, &b, &c, &d) || !(a & (1u << 5))) /* AVX512-BF16 */
        return;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27))) /* OSXSAVE */
        return;
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    dp_ok = (lo & 0xe6u) == 0xe6u; /* SSE AVX opmask ZMM state saved by the OS */
}

int ijepa__dpbf16_usable(void)
{
    pthread_once(&probe_once, probe);
    return dp_ok;
}

static int64_t round64(int64_t n) { return (n + 63) / 64 * 64; }

/* Words of the packed B, and of the packed A (transposed A only). */
static int64_t b_words(int64_t N, int64_t K) { return (N + 15) / 16 * 16 * ((K + 1) / 2); }
static int64_t a_words(int64_t M, int64_t K) { return (M + 15) / 16 * 16 * ((K + 1) / 2); }

static int64_t thread_bytes(int64_t M, int64_t N, int64_t K)
{
    return round64(4 * b_words(N, K)) + round64(4 * a_words(M, K));
}

int64_t ijepa__dpbf16_bmm_scratch_bytes(int64_t M, int64_t N, int64_t K, int threads)
{
    if (threads < 1)
        threads = 1;
    return thread_bytes(M, N, K) * threads;
}

static inline __mmask16 mask16(int64_t n)
{
    return n >= 16 ? 0xffff : n <= 0 ? 0 : (__mmask16)((1u << n) - 1);
}

/* 32 columns of row r of x (ld values between rows) from column c, those
 * of mask m, zeros elsewhere; with affine: bf16(x g + b)
 * (ijepa__layernorm_affine_bf16's AVX-512 values), g and b from column c
 * as gl, gh and bl, bh (columns c.. and c + 16..). */
static inline __attribute__((always_inline)) TDP __m512i row32(const ijepa__bf16 *x, int64_t ld,
                                                              int64_t r, int64_t c, __mmask32 m,
                                                              int affine, __m512 gl, __m512 gh,
                                                              __m512 bl, __m512 bh)
{
    const __m512i w = _mm512_maskz_loadu_epi16(m, x + r * ld + c);
    if (!affine)
        return w;
    const __m512 vl = _mm512_castsi512_ps(
        _mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm512_castsi512_si256(w)), 16));
    const __m512 vh = _mm512_castsi512_ps(
        _mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm512_extracti64x4_epi64(w, 1)), 16));
    const __m512 yl = _mm512_fmadd_ps(vl, gl, bl), yh = _mm512_fmadd_ps(vh, gh, bh);
    /* VCVTNE2PS2BF16 rounds as ijepa__rnd512 but takes a float32 below
     * the normal range as zero: that one may round up to 2^-126 */
    __m512i y;
    if (__builtin_expect(_mm512_fpclass_ps_mask(yl, 0x20) | _mm512_fpclass_ps_mask(yh, 0x20), 0))
        y = _mm512_inserti64x4(_mm512_castsi256_si512(_mm512_cvtepi32_epi16(ijepa__rnd512(yl))),
                               _mm512_cvtepi32_epi16(ijepa__rnd512(yh)), 1);
    else
        y = (__m512i)_mm512_cvtne2ps_pbh(yh, yl);
    return _mm512_maskz_mov_epi16(m, y);
}

/* Rows 2k and 2k + 1 of x [R, W] (ld values between rows, the W columns
 * from column c0) interleaved into words: word (k, w) at dst + k sk + w /
 * 16 sb + w % 16, zero past R and W (up to the next multiple of 16). With
 * g, b: of bf16(x g + b) (row32). 32 columns of both rows at a time, their
 * words made by two two-source permutes. */
TDP static void pack_pairs(const ijepa__bf16 *x, int64_t ld, int64_t R, int64_t c0, int64_t W,
                           const float *g, const float *b, uint32_t *dst, int64_t sk, int64_t sb)
{
    const int64_t Kp = (R + 1) / 2, nb = (W + 15) / 16;
    /* word i of lo: element i of the first source, then of the second
     * (index 32 + i); hi the same for elements 16 + i */
    const __m512i ilo = _mm512_set_epi16(47, 15, 46, 14, 45, 13, 44, 12, 43, 11, 42, 10, 41, 9,
                                         40, 8, 39, 7, 38, 6, 37, 5, 36, 4, 35, 3, 34, 2, 33, 1,
                                         32, 0);
    const __m512i ihi = _mm512_add_epi16(ilo, _mm512_set1_epi16(16));
    for (int64_t k = 0; k < Kp; k++) {
        const int two = 2 * k + 1 < R;
        for (int64_t j = 0; j < nb; j += 2) {
            const int64_t c = c0 + 16 * j, left = W - 16 * j;
            const __mmask32 m = left >= 32 ? 0xffffffffu : (__mmask32)((1u << left) - 1u);
            __m512 gl = _mm512_setzero_ps(), gh = gl, bl = gl, bh = gl;
            if (g) {
                const __mmask16 ml = mask16(left), mh = mask16(left - 16);
                gl = _mm512_maskz_loadu_ps(ml, g + c);
                bl = _mm512_maskz_loadu_ps(ml, b + c);
                gh = _mm512_maskz_loadu_ps(mh, g + c + 16);
                bh = _mm512_maskz_loadu_ps(mh, b + c + 16);
            }
            const __m512i r0 = row32(x, ld, 2 * k, c, m, !!g, gl, gh, bl, bh);
            const __m512i r1 =
                two ? row32(x, ld, 2 * k + 1, c, m, !!g, gl, gh, bl, bh) : _mm512_setzero_si512();
            _mm512_store_si512(dst + k * sk + j * sb, _mm512_permutex2var_epi16(r0, ilo, r1));
            if (j + 1 < nb)
                _mm512_store_si512(dst + k * sk + (j + 1) * sb,
                                   _mm512_permutex2var_epi16(r0, ihi, r1));
        }
    }
}

/* x^T for x [N, K] row-major (B stored transposed): word (k, n), the pair
 * of elements 2k, 2k + 1 of row n, at dst + n / 16 Kp 16 + k 16 + n % 16,
 * zero past K and N. 16 x 16 blocks of words transposed in registers. */
TDP static void pack_rows(const ijepa__bf16 *x, int64_t N, int64_t K, uint32_t *dst)
{
    const int64_t Kp = (K + 1) / 2, nb = (N + 15) / 16, kb = (Kp + 15) / 16;
    for (int64_t b = 0; b < nb; b++)
        for (int64_t q = 0; q < kb; q++) {
            const int64_t left = K - 32 * q;
            const __mmask32 m = left >= 32 ? 0xffffffffu : (__mmask32)((1u << left) - 1);
            __m512i r[16];
            for (int j = 0; j < 16; j++) {
                const int64_t n = 16 * b + j;
                r[j] = n < N ? _mm512_maskz_loadu_epi16(m, x + n * K + 32 * q)
                             : _mm512_setzero_si512();
            }
            ijepa__transpose16(r);
            const int64_t rows = Kp - 16 * q < 16 ? Kp - 16 * q : 16;
            for (int i = 0; i < rows; i++)
                _mm512_store_si512(dst + (b * Kp + 16 * q + i) * 16, r[i]);
        }
}

/* 16 lanes rounded to bf16 as ijepa__rnd512: VCVTNEPS2BF16 rounds to
 * nearest even and quiets NaN as it does, but flushes denormals to zero,
 * so a vector with a denormal lane (never seen in practice) takes
 * ijepa__rnd512. */
static inline __attribute__((always_inline)) TDP __m256i rnd16(__m512 v)
{
    if (__builtin_expect(_mm512_fpclass_ps_mask(v, 0x20) != 0, 0))
        return _mm512_cvtepi32_epi16(ijepa__rnd512(v));
    return (__m256i)_mm512_cvtneps_pbh(v);
}

static inline int32_t word_at(const char *p)
{
    int32_t w;
    memcpy(&w, p, sizeof w);
    return w;
}

/* acc[i][j] += one pair of K: row i's word at a + i sam (half: its bf16
 * value at a + i sam with a zero) times column block j's at bk + j sbn,
 * for rows i < mr. */
static inline __attribute__((always_inline)) TDP void
dp_rows(const int MR, const int NR, int mr, __m512 acc[16][4], const char *a, int64_t sam,
        const int half, const uint32_t *bk, int64_t sbn)
{
    __m512i b[4];
#pragma GCC unroll 4
    for (int j = 0; j < NR; j++) b[j] = _mm512_load_si512(bk + j * sbn);
#pragma GCC unroll 16
    for (int i = 0; i < MR; i++) {
        if (i >= mr)
            break;
        int32_t w;
        if (half) {
            uint16_t h;
            memcpy(&h, a + i * sam, sizeof h);
            w = h;
        } else {
            w = word_at(a + i * sam);
        }
        const __m512i av = _mm512_set1_epi32(w);
#pragma GCC unroll 4
        for (int j = 0; j < NR; j++)
            acc[i][j] = _mm512_dpbf16_ps(acc[i][j], (__m512bh)av, (__m512bh)b[j]);
    }
}

/*
 * One block of C: rows m < mr (<= MR) and column blocks j < NR (16 columns
 * each, columns < nc written). Word (m, k) of A at a + m sam + k sak
 * (bytes); pairs k < kn; tail: NULL, or A has one more element per row
 * (K odd), at tail + m sam, paired with zero. Column block j of the packed
 * B at bp + j sbn, pair k at + 16 k. C row m at c + m ldc.
 */
static inline __attribute__((always_inline)) TDP void
tile(const int MR, const int NR, const int F32, int mr, const char *a, int64_t sam, int64_t sak,
     int64_t kn, const char *tail, const uint32_t *bp, int64_t sbn, float alpha, void *c,
     int64_t ldc, int64_t nc)
{
    __m512 acc[16][4];
    __mmask16 mk[4];
#pragma GCC unroll 4
    for (int j = 0; j < NR; j++) mk[j] = mask16(nc - 16 * j);
#pragma GCC unroll 16
    for (int i = 0; i < MR; i++)
#pragma GCC unroll 4
        for (int j = 0; j < NR; j++)
            acc[i][j] = F32 && i < mr ? _mm512_maskz_loadu_ps(mk[j], (float *)c + i * ldc + 16 * j)
                                      : _mm512_setzero_ps();
    for (int64_t k = 0; k < kn; k++)
        dp_rows(MR, NR, mr, acc, a + k * sak, sam, 0, bp + 16 * k, sbn);
    if (tail) /* the last element of each row, with a zero */
        dp_rows(MR, NR, mr, acc, tail, sam, 1, bp + 16 * kn, sbn);
    if (F32) { /* the sums back into C (alpha 1) */
#pragma GCC unroll 16
        for (int i = 0; i < MR; i++) {
            if (i >= mr)
                break;
#pragma GCC unroll 4
            for (int j = 0; j < NR; j++)
                _mm512_mask_storeu_ps((float *)c + i * ldc + 16 * j, mk[j], acc[i][j]);
        }
        return;
    }
    const __m512 al = _mm512_set1_ps(alpha);
#pragma GCC unroll 16
    for (int i = 0; i < MR; i++) {
        if (i >= mr)
            break;
#pragma GCC unroll 4
        for (int j = 0; j < NR; j++) {
            const __m512 v = alpha == 1.0f ? acc[i][j] : _mm512_mul_ps(acc[i][j], al);
            _mm256_mask_storeu_epi16((ijepa__bf16 *)c + i * ldc + 16 * j, mk[j], rnd16(v));
        }
    }
}

#define TILE_FN(MR, NR)                                                                       \
    TDP static void tile_##NR(int mr, const char *a, int64_t sam, int64_t sak, int64_t kn,    \
                              const char *tail, const uint32_t *bp, int64_t sbn, float alpha, \
                              void *c, int64_t ldc, int64_t nc, int f32)                      \
    {                                                                                         \
        if (f32)                                                                              \
            tile(MR, NR, 1, mr, a, sam, sak, kn, NULL, bp, sbn, 1.0f, c, ldc, nc);            \
        else                                                                                  \
            tile(MR, NR, 0, mr, a, sam, sak, kn, tail, bp, sbn, alpha, c, ldc, nc);           \
    }
TILE_FN(16, 1)
TILE_FN(12, 2)
TILE_FN(8, 3)
TILE_FN(6, 4)

/* C [M, N] (ldc values between rows) = alpha A B in blocks of C, bf16; or
 * (f32) C float32 += A B. A's word (m, k) at a + m sam + k sak (bytes),
 * pairs k < kn, then (tail) one more element per row at tail + m sam;
 * B packed in pairs (column block j at bp + j sbn). */
TDP static void product(int64_t M, int64_t N, const char *a, int64_t sam, int64_t sak,
                        int64_t kn, const char *tail, const uint32_t *bp, int64_t sbn,
                        float alpha, void *C, int64_t ldc, int f32)
{
    const int64_t nb = (N + 15) / 16, es = f32 ? 4 : 2;
    for (int64_t j0 = 0; j0 < nb; j0 += 4) {
        const int64_t NR = nb - j0 < 4 ? nb - j0 : 4;
        const int64_t MR = NR == 4 ? 6 : NR == 3 ? 8 : NR == 2 ? 12 : 16;
        const uint32_t *b = bp + j0 * sbn;
        for (int64_t m0 = 0; m0 < M; m0 += MR) {
            const int mr = (int)(M - m0 < MR ? M - m0 : MR);
            const char *am = a + m0 * sam, *tm = tail ? tail + m0 * sam : NULL;
            void *cm = (char *)C + (m0 * ldc + 16 * j0) * es;
            const int64_t nc = N - 16 * j0;
            switch (NR) {
            case 4: tile_4(mr, am, sam, sak, kn, tm, b, sbn, alpha, cm, ldc, nc, f32); break;
            case 3: tile_3(mr, am, sam, sak, kn, tm, b, sbn, alpha, cm, ldc, nc, f32); break;
            case 2: tile_2(mr, am, sam, sak, kn, tm, b, sbn, alpha, cm, ldc, nc, f32); break;
            default: tile_1(mr, am, sam, sak, kn, tm, b, sbn, alpha, cm, ldc, nc, f32); break;
            }
        }
    }
}

/* One item: C [M, N] (ldc values between rows) = alpha op(A) op(B). */
TDP static void item(int64_t M, int64_t N, int64_t K, const ijepa__bf16 *A, int trans_a,
                     const ijepa__bf16 *B, int trans_b, float alpha, ijepa__bf16 *C,
                     int64_t ldc, char *mine)
{
    const int64_t Kp = (K + 1) / 2;
    uint32_t *bp = (uint32_t *)(void *)mine;
    if (trans_b)
        pack_rows(B, N, K, bp);
    else
        pack_pairs(B, N, K, 0, N, NULL, NULL, bp, 16, 16 * Kp);
    const char *a = (const char *)A, *tail = NULL;
    int64_t sam = 2 * K, sak = 4, kn = K / 2;
    if (trans_a) {
        uint32_t *ap = (uint32_t *)(void *)(mine + round64(4 * b_words(N, K)));
        const int64_t Mp = (M + 15) / 16 * 16;
        pack_pairs(A, M, K, 0, M, NULL, NULL, ap, Mp, 16);
        a = (const char *)ap;
        sam = 4;
        sak = 4 * Mp;
        kn = Kp;
    } else if (K & 1) {
        tail = (const char *)(A + K - 1);
    }
    product(M, N, a, sam, sak, kn, tail, bp, Kp * 16, alpha, C, ldc, 0);
}

static void run(int64_t b0, int64_t b1, int64_t M, int64_t N, int64_t K, const ijepa__bf16 *A,
                int trans_a, const ijepa__bf16 *B, int trans_b, float alpha, ijepa__bf16 *C,
                const ijepa__amx_cmap *cm, char *mine)
{
    for (int64_t b = b0; b < b1; b++) {
        ijepa__bf16 *cb = cm ? C + b / cm->H * cm->cs + b % cm->H * cm->ch : C + b * M * N;
        item(M, N, K, A + b * M * K, trans_a, B + b * K * N, trans_b, alpha, cb,
             cm ? cm->ldc : N, mine);
    }
}

void ijepa__dpbf16_bmm(int64_t batch, int64_t M, int64_t N, int64_t K, const ijepa__bf16 *A,
                       int trans_a, const ijepa__bf16 *B, int trans_b, float alpha,
                       ijepa__bf16 *C, const ijepa__amx_cmap *cm, void *scratch, int threads)
{
    if (threads < 1)
        threads = 1;
    const int64_t per = thread_bytes(M, N, K);
    const int par = batch > 1 && batch * M * N * K >= (int64_t)1 << 18;
#pragma omp parallel num_threads(threads) if (par)
    {
        const int t = omp_get_thread_num(), nt = omp_get_num_threads();
        run(batch * t / nt, batch * (t + 1) / nt, M, N, K, A, trans_a, B, trans_b, alpha, C, cm,
            (char *)scratch + t * per);
    }
}

void ijepa__dpbf16_bmm_items(int64_t b0, int64_t b1, int64_t M, int64_t N, int64_t K,
                             const ijepa__bf16 *A, int trans_a, const ijepa__bf16 *B,
                             int trans_b, float alpha, ijepa__bf16 *C,
                             const ijepa__amx_cmap *cm, void *scratch)
{
    run(b0, b1, M, N, K, A, trans_a, B, trans_b, alpha, C, cm, scratch);
}

/* --- weight gradients -------------------------------------------------------------- */

/* Tokens per chunk: both operands' pairs of one chunk are packed, then
 * every block of the thread's outputs adds the chunk's products, loaded
 * from gW and stored back. 512 measured 1-4 % faster than 256 on the ViT-S
 * shapes (gW passes through the caches half as often), 1024 the same. */
#define WCH 512

static int64_t wg_thread_bytes(int64_t O, int64_t I)
{
    return round64(4 * (WCH / 2) * ((O + 15) / 16 * 16)) +
           round64(4 * (WCH / 2) * ((I + 15) / 16 * 16));
}

int64_t ijepa__dpbf16_wgrad_scratch_bytes(int64_t O, int64_t I, int threads)
{
    return wg_thread_bytes(O, I) * (threads > 0 ? threads : 1);
}

/* One thread's outputs: rows [o0, o1) x columns [i0, i1) of gW. */
TDP static void wg_run(int64_t R, int64_t O, int64_t I, const ijepa__bf16 *dy,
                       const ijepa__bf16 *x, const float *xg, const float *xb, float *gW,
                       int64_t o0, int64_t o1, int64_t i0, int64_t i1, char *mine)
{
    if (o1 <= o0 || i1 <= i0)
        return;
    const int64_t ow = o1 - o0, iw = i1 - i0, Op = (ow + 15) / 16 * 16;
    uint32_t *ap = (uint32_t *)(void *)mine;
    uint32_t *bp = (uint32_t *)(void *)(mine + round64(4 * (WCH / 2) * Op));
    for (int64_t t0 = 0; t0 < R; t0 += WCH) {
        const int64_t rows = R - t0 < WCH ? R - t0 : WCH, kp = (rows + 1) / 2;
        pack_pairs(dy + t0 * O, O, rows, o0, ow, NULL, NULL, ap, Op, 16);
        pack_pairs(x + t0 * I, I, rows, i0, iw, xg, xb, bp, 16, 16 * kp);
        /* all of the chunk's pairs in one pass over the outputs: gW goes
         * through the caches once a chunk (passes of 64 or 128 pairs, B's
         * columns in L1, measured 5-35 % slower) */
        product(ow, iw, (const char *)ap, 4, 4 * Op, kp, NULL, bp, 16 * kp, 1.0f,
                gW + o0 * I + i0, I, 1);
    }
}

void ijepa__dpbf16_wgrad(int64_t R, int64_t O, int64_t I, const ijepa__bf16 *dy,
                         const ijepa__bf16 *x, const float *xg, const float *xb, float *gW,
                         void *scratch, int threads)
{
    if (threads < 1)
        threads = 1;
    const int64_t per = wg_thread_bytes(O, I);
    const int par = R * O * I >= (int64_t)1 << 18;
#pragma omp parallel num_threads(threads) if (par)
    {
        const int64_t t = omp_get_thread_num(), nt = omp_get_num_threads();
        /* the wider of O and I split in blocks of 16 */
        const int64_t n16 = ((O >= I ? O : I) + 15) / 16;
        const int64_t lo = n16 * t / nt * 16, hi = n16 * (t + 1) / nt * 16;
        int64_t o0 = 0, o1 = O, i0 = 0, i1 = I;
        if (O >= I) {
            o0 = lo;
            o1 = hi < O ? hi : O;
        } else {
            i0 = lo;
            i1 = hi < I ? hi : I;
        }
        wg_run(R, O, I, dy, x, xg, xb, gW, o0, o1, i0, i1, (char *)scratch + t * per);
    }
}

#else /* not x86-64: never usable, never called */

int ijepa__dpbf16_usable(void) { return 0; }

int64_t ijepa__dpbf16_bmm_scratch_bytes(int64_t M, int64_t N, int64_t K, int threads)
{
    (void)M, (void)N, (void)K, (void)threads;
    return 0;
}

void ijepa__dpbf16_bmm(int64_t batch, int64_t M, int64_t N, int64_t K, const ijepa__bf16 *A,
                       int trans_a, const ijepa__bf16 *B, int trans_b, float alpha,
                       ijepa__bf16 *C, const ijepa__amx_cmap *cm, void *scratch, int threads)
{
    (void)batch, (void)M, (void)N, (void)K, (void)A, (void)trans_a, (void)B, (void)trans_b;
    (void)alpha, (void)C, (void)cm, (void)scratch, (void)threads;
}

void ijepa__dpbf16_bmm_items(int64_t b0, int64_t b1, int64_t M, int64_t N, int64_t K,
                             const ijepa__bf16 *A, int trans_a, const ijepa__bf16 *B,
                             int trans_b, float alpha, ijepa__bf16 *C,
                             const ijepa__amx_cmap *cm, void *scratch)
{
    (void)b0, (void)b1, (void)M, (void)N, (void)K, (void)A, (void)trans_a, (void)B;
    (void)trans_b, (void)alpha, (void)C, (void)cm, (void)scratch;
}

int64_t ijepa__dpbf16_wgrad_scratch_bytes(int64_t O, int64_t I, int threads)
{
    (void)O, (void)I, (void)threads;
    return 0;
}

void ijepa__dpbf16_wgrad(int64_t R, int64_t O, int64_t I, const ijepa__bf16 *dy,
                         const ijepa__bf16 *x, const float *xg, const float *xb, float *gW,
                         void *scratch, int threads)
{
    (void)R, (void)O, (void)I, (void)dy, (void)x, (void)xg, (void)xb, (void)gW, (void)scratch;
    (void)threads;
}

#endif
