/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * Implements: pack.h, float32 to bf16 in oneDNN's blocked weights layout.
 *
 * The work is one block (32 rows of K by nb columns of N, 2 KiB to 4 KiB of
 * output) at a time, blocks shared out by one OpenMP loop. With B stored
 * [K, N] a row pair (k, k+1) of 16 columns is two 16-float loads whose
 * roundings interleave into one 64-byte store. With B stored [N, K] (the
 * transpose, as a Linear layer's W [out, in] is for its forward) each
 * column n gives 32 consecutive k, i.e. 16 (k, k+1) pairs as 32-bit words;
 * 16 such columns form a 16 x 16 word matrix whose transpose is 16 stores.
 * It reads B once and writes the block once, at about the speed of
 * ijepa__to_bf16 (oneDNN 2.6.3's reorder into this layout ran at 40-70 %
 * of that here).
 */
#include <string.h>

#include "pack.h"

/* The bf16 rounding of ijepa__bf16_round, widened to a 32-bit word. */
static inline uint32_t rnd_word(float f) { return ijepa__bf16_round(f); }

/* Portable body: block (kt, nt), element by element. */
static void block_g(const float *B, int trans, int64_t K, int64_t N, const ijepa__blk_fmt *f,
                    int64_t kt, int64_t nt, ijepa__bf16 *dst)
{
    const int64_t nb = f->nb;
    ijepa__bf16 *blk = dst + kt * f->sk + nt * f->sn;
    for (int64_t kk = 0; kk < 32; kk++) {
        const int64_t k = kt * 32 + kk;
        for (int64_t nn = 0; nn < nb; nn++) {
            const int64_t n = nt * nb + nn;
            const float v = k < K && n < N ? (trans ? B[n * K + k] : B[k * N + n]) : 0.0f;
            blk[(kk / 2) * 2 * nb + nn * 2 + kk % 2] = (ijepa__bf16)rnd_word(v);
        }
    }
}

#if defined(__x86_64__)
#include "bf16_avx512.h"

#define T512 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl")))
#define I512 static inline __attribute__((always_inline, target("avx512f,avx512bw,avx512dq,avx512vl")))

I512 __mmask16 mask_upto(int64_t n)
{
    return n >= 16 ? (__mmask16)0xffff : n <= 0 ? (__mmask16)0 : (__mmask16)((1u << n) - 1u);
}

/* B [K, N], block (kt, nt): rows k, k+1 interleaved, 16 columns per store. */
T512 static void block_512(const float *B, int64_t K, int64_t N, const ijepa__blk_fmt *f,
                           int64_t kt, int64_t nt, ijepa__bf16 *dst)
{
    const int64_t nb = f->nb, k0 = kt * 32;
    ijepa__bf16 *blk = dst + kt * f->sk + nt * f->sn;
    {
        for (int64_t p = 0; p < 16; p++) {
            const int64_t k = k0 + 2 * p;
            const float *r0 = k < K ? B + k * N : NULL, *r1 = k + 1 < K ? B + (k + 1) * N : NULL;
            for (int64_t j = 0; j < nb; j += 16) {
                const int64_t n = nt * nb + j;
                const __mmask16 m = mask_upto(N - n);
                const int in = n < N; /* else padding columns: no address past the row */
                const __m512 a = r0 && in ? _mm512_maskz_loadu_ps(m, r0 + n) : _mm512_setzero_ps();
                const __m512 b = r1 && in ? _mm512_maskz_loadu_ps(m, r1 + n) : _mm512_setzero_ps();
                const __m512i w = _mm512_or_si512(ijepa__rnd512(a), _mm512_slli_epi32(ijepa__rnd512(b), 16));
                _mm512_storeu_si512((void *)(blk + p * 2 * nb + 2 * j), w);
            }
        }
    }
}

/* B [N, K]: columns n0..n0+15 (n0 = nt nb + j) of every row block, read
 * along their stored rows (16 sequential streams). Each column holds 32
 * consecutive k of a row block, i.e. 16 (k, k+1) pairs as 32-bit words. */
T512 static void strip_512(const float *B, int64_t K, int64_t N, const ijepa__blk_fmt *f,
                           int64_t nt, int64_t j, ijepa__bf16 *dst)
{
    const int64_t nb = f->nb, n0 = nt * nb + j;
    for (int64_t kt = 0; kt < f->Kp / 32; kt++) {
        const int64_t k0 = kt * 32;
        const __mmask16 m0 = mask_upto(K - k0), m1 = mask_upto(K - k0 - 16);
        __m512i r[16];
        for (int64_t i = 0; i < 16; i++) {
            if (n0 + i >= N) {
                r[i] = _mm512_setzero_si512();
                continue;
            }
            const float *src = B + (n0 + i) * K + k0;
            const __m256i lo = _mm512_cvtepi32_epi16(ijepa__rnd512(_mm512_maskz_loadu_ps(m0, src)));
            const __m256i hi = _mm512_cvtepi32_epi16(
                ijepa__rnd512(m1 ? _mm512_maskz_loadu_ps(m1, src + 16) : _mm512_setzero_ps()));
            r[i] = _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
        }
        ijepa__transpose16(r);
        ijepa__bf16 *blk = dst + kt * f->sk + nt * f->sn;
        for (int64_t p = 0; p < 16; p++)
            _mm512_storeu_si512((void *)(blk + p * 2 * nb + 2 * j), r[p]);
    }
}
#endif

void ijepa__pack_bf16(int lvl, const float *B, int trans, int64_t K, int64_t N,
                      const ijepa__blk_fmt *f, ijepa__bf16 *dst)
{
    const int64_t nkt = f->Kp / 32, nnt = f->Np / f->nb, tiles = nkt * nnt;
    const int par = K * N >= 32768;
#if defined(__x86_64__)
    if (lvl >= IJEPA__SIMD_AVX512 && f->nb % 16 == 0) {
        if (trans) { /* strips of 16 columns, each over all row blocks */
            const int64_t per = f->nb / 16, strips = nnt * per;
#pragma omp parallel for schedule(static) if (par && strips > 1)
            for (int64_t u = 0; u < strips; u++)
                strip_512(B, K, N, f, u / per, (u % per) * 16, dst);
        } else { /* blocks in the order of B's rows */
#pragma omp parallel for schedule(static) if (par && tiles > 1)
            for (int64_t t = 0; t < tiles; t++)
                block_512(B, K, N, f, t / nnt, t % nnt, dst);
        }
        return;
    }
#endif
    (void)lvl;
#pragma omp parallel for schedule(static) if (par && tiles > 1)
    for (int64_t t = 0; t < tiles; t++)
        block_g(B, trans, K, N, f, t / nnt, t % nnt, dst);
}
