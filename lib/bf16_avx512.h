/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * AVX-512 helpers that lib/bf16.c, lib/pack.c and lib/amx.c share: the
 * rounding of float32 lanes to bf16 and a 16 x 16 transpose of 32-bit
 * words (x86-64 only; callers compile them into functions with AVX-512
 * target attributes).
 */
#ifndef IJEPA_BF16_AVX512_H
#define IJEPA_BF16_AVX512_H

#include <immintrin.h>

/* 16 lanes rounded to bf16, each in the low half of its 32-bit lane, as
 * ijepa__bf16_round: to nearest, ties to even; NaN stays NaN (quiet). */
static inline __attribute__((always_inline, target("avx512f,avx512bw,avx512dq,avx512vl")))
__m512i ijepa__rnd512(__m512 v)
{
    const __m512i u = _mm512_castps_si512(v);
    const __m512i hi = _mm512_srli_epi32(u, 16);
    const __m512i lsb = _mm512_and_si512(hi, _mm512_set1_epi32(1));
    __m512i r = _mm512_add_epi32(_mm512_add_epi32(u, _mm512_set1_epi32(0x7fff)), lsb);
    r = _mm512_srli_epi32(r, 16);
    const __mmask16 nan = _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
    return _mm512_mask_or_epi32(r, nan, hi, _mm512_set1_epi32(0x40));
}

/* Rows r[0..15] of a 16 x 16 matrix of 32-bit words become its columns. */
static inline __attribute__((always_inline, target("avx512f,avx512bw,avx512dq,avx512vl")))
void ijepa__transpose16(__m512i r[16])
{
    __m512i t[16];
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_epi32(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_epi32(r[i], r[i + 1]);
    }
    /* s[4b + c], 128-bit lane L: column 4L + c of rows 4b..4b+3 */
    __m512i s[16];
    for (int b = 0; b < 16; b += 4) {
        s[b] = _mm512_unpacklo_epi64(t[b], t[b + 2]);
        s[b + 1] = _mm512_unpackhi_epi64(t[b], t[b + 2]);
        s[b + 2] = _mm512_unpacklo_epi64(t[b + 1], t[b + 3]);
        s[b + 3] = _mm512_unpackhi_epi64(t[b + 1], t[b + 3]);
    }
    /* column 4L + c, lane M = s[4M + c], lane L: a 4 x 4 transpose of lanes */
    for (int c = 0; c < 4; c++) {
        const __m512i x0 = _mm512_shuffle_i32x4(s[c], s[4 + c], _MM_SHUFFLE(2, 0, 2, 0));
        const __m512i x1 = _mm512_shuffle_i32x4(s[c], s[4 + c], _MM_SHUFFLE(3, 1, 3, 1));
        const __m512i y0 = _mm512_shuffle_i32x4(s[8 + c], s[12 + c], _MM_SHUFFLE(2, 0, 2, 0));
        const __m512i y1 = _mm512_shuffle_i32x4(s[8 + c], s[12 + c], _MM_SHUFFLE(3, 1, 3, 1));
        r[c] = _mm512_shuffle_i32x4(x0, y0, _MM_SHUFFLE(2, 0, 2, 0));
        r[8 + c] = _mm512_shuffle_i32x4(x0, y0, _MM_SHUFFLE(3, 1, 3, 1));
        r[4 + c] = _mm512_shuffle_i32x4(x1, y1, _MM_SHUFFLE(2, 0, 2, 0));
        r[12 + c] = _mm512_shuffle_i32x4(x1, y1, _MM_SHUFFLE(3, 1, 3, 1));
    }
}

#endif /* IJEPA_BF16_AVX512_H */
