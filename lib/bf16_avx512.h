/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * The AVX-512 rounding of float32 lanes to bf16 that lib/bf16.c and
 * lib/pack.c share (x86-64 only; callers compile it into functions with
 * AVX-512 target attributes).
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

#endif /* IJEPA_BF16_AVX512_H */
