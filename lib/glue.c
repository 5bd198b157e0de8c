/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * Implements: glue.h.
 */
#include <stdint.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "glue.h"

/* Below this many floats a loop is not worth waking the thread pool for.
 * gcc -O2 does not vectorise these loops by itself; "omp simd" made them
 * 2-4x faster in docs/performance.md's measurement. */
#define PAR_MIN 32768

void ijepa__colsum_add(const float *dy, int64_t M, int64_t N, float *db)
{
    /* Column blocks of 64 floats per task: every thread streams all rows of
     * its own columns, so there is no reduction between threads. */
    const int64_t nb = (N + 63) / 64;
#pragma omp parallel for schedule(static) if (M * N >= PAR_MIN)
    for (int64_t b = 0; b < nb; b++) {
        const int64_t n0 = b * 64, n1 = n0 + 64 < N ? n0 + 64 : N;
        float acc[64] = {0};
        for (int64_t m = 0; m < M; m++) {
            const float *row = dy + m * N;
#pragma omp simd
            for (int64_t n = n0; n < n1; n++)
                acc[n - n0] += row[n];
        }
        for (int64_t n = n0; n < n1; n++)
            db[n] += acc[n - n0];
    }
}

void ijepa__add_inplace(float *y, const float *x, int64_t n)
{
#pragma omp parallel for simd schedule(static) if (n >= PAR_MIN)
    for (int64_t i = 0; i < n; i++)
        y[i] += x[i];
}

/* y[0, n) = 0. Large spans (the gradients, 172 MB on ViT-S/16 with its
 * predictor) go out with non-temporal stores: memset's stores read every
 * line for ownership first, and the zeros are read back only layer by
 * layer in the backward, long after any cache held them. */
static void zero_span(float *y, int64_t n)
{
#if defined(__x86_64__)
    if (n >= 1024) {
        const int64_t head = (int64_t)((16 - ((uintptr_t)y & 15)) & 15) / (int64_t)sizeof *y;
        memset(y, 0, (size_t)head * sizeof *y);
        int64_t i = head;
        const __m128 z = _mm_setzero_ps();
        for (; i + 4 <= n; i += 4)
            _mm_stream_ps(y + i, z);
        memset(y + i, 0, (size_t)(n - i) * sizeof *y);
        _mm_sfence();
        return;
    }
#endif
    memset(y, 0, (size_t)n * sizeof *y);
}

void ijepa__zero(float *y, int64_t n)
{
    /* a span per thread: a single thread's zeroing of the gradients (43 M
     * floats on ViT-S/16 with its predictor) left the other idle */
    const int64_t chunk = 1 << 16;
    const int64_t nc = (n + chunk - 1) / chunk;
#pragma omp parallel for schedule(static) if (n >= 4 * PAR_MIN)
    for (int64_t c = 0; c < nc; c++) {
        const int64_t i0 = c * chunk, i1 = i0 + chunk < n ? i0 + chunk : n;
        zero_span(y + i0, i1 - i0);
    }
}

/* Copy one head row of n bytes. The usual sizes (head widths of 32-128
 * floats or bf16 values) are constant-size copies the compiler inlines as
 * vector moves: a memcpy call per 64-256 bytes cost more than the move. */
static inline void mv(char *d, const char *s, size_t n)
{
    switch (n) {
    case 64: memcpy(d, s, 64); break;
    case 128: memcpy(d, s, 128); break;
    case 256: memcpy(d, s, 256); break;
    case 512: memcpy(d, s, 512); break;
    default: memcpy(d, s, n); break;
    }
}

/* The head layouts below move rows of hd elements of es bytes each. */
static void split3(const char *qkv, int64_t S, int64_t T, int64_t H, int64_t hd, size_t es,
                   char *q, char *k, char *v)
{
    const int64_t D = H * hd;
    const size_t row = (size_t)hd * es;
#pragma omp parallel for schedule(static) if (S * T * D >= PAR_MIN)
    for (int64_t st = 0; st < S * T; st++) {
        const int64_t s = st / T, t = st % T;
        const char *src = qkv + (size_t)(st * 3 * D) * es;
        for (int64_t h = 0; h < H; h++) {
            const size_t dst = (size_t)(((s * H + h) * T + t) * hd) * es;
            mv(q + dst, src + (size_t)(h * hd) * es, row);
            mv(k + dst, src + (size_t)(D + h * hd) * es, row);
            mv(v + dst, src + (size_t)(2 * D + h * hd) * es, row);
        }
    }
}

static void merge3(const char *q, const char *k, const char *v, int64_t S, int64_t T,
                   int64_t H, int64_t hd, size_t es, char *qkv)
{
    const int64_t D = H * hd;
    const size_t row = (size_t)hd * es;
#pragma omp parallel for schedule(static) if (S * T * D >= PAR_MIN)
    for (int64_t st = 0; st < S * T; st++) {
        const int64_t s = st / T, t = st % T;
        char *dst = qkv + (size_t)(st * 3 * D) * es;
        for (int64_t h = 0; h < H; h++) {
            const size_t src = (size_t)(((s * H + h) * T + t) * hd) * es;
            mv(dst + (size_t)(h * hd) * es, q + src, row);
            mv(dst + (size_t)(D + h * hd) * es, k + src, row);
            mv(dst + (size_t)(2 * D + h * hd) * es, v + src, row);
        }
    }
}

static void split1(const char *x, int64_t S, int64_t T, int64_t H, int64_t hd, size_t es,
                   char *y)
{
    const size_t row = (size_t)hd * es;
#pragma omp parallel for schedule(static) if (S * T * H * hd >= PAR_MIN)
    for (int64_t st = 0; st < S * T; st++) {
        const int64_t s = st / T, t = st % T;
        for (int64_t h = 0; h < H; h++)
            mv(y + (size_t)(((s * H + h) * T + t) * hd) * es,
               x + (size_t)((st * H + h) * hd) * es, row);
    }
}

static void merge1(const char *y, int64_t S, int64_t T, int64_t H, int64_t hd, size_t es,
                   char *x)
{
    const size_t row = (size_t)hd * es;
#pragma omp parallel for schedule(static) if (S * T * H * hd >= PAR_MIN)
    for (int64_t st = 0; st < S * T; st++) {
        const int64_t s = st / T, t = st % T;
        for (int64_t h = 0; h < H; h++)
            mv(x + (size_t)((st * H + h) * hd) * es,
               y + (size_t)(((s * H + h) * T + t) * hd) * es, row);
    }
}

void ijepa__heads_split3(const float *qkv, int64_t S, int64_t T, int64_t H,
                         int64_t hd, float *q, float *k, float *v)
{
    split3((const char *)qkv, S, T, H, hd, sizeof *qkv, (char *)q, (char *)k, (char *)v);
}

void ijepa__heads_merge3(const float *q, const float *k, const float *v,
                         int64_t S, int64_t T, int64_t H, int64_t hd, float *qkv)
{
    merge3((const char *)q, (const char *)k, (const char *)v, S, T, H, hd, sizeof *q,
           (char *)qkv);
}

void ijepa__heads_split(const float *x, int64_t S, int64_t T, int64_t H,
                        int64_t hd, float *y)
{
    split1((const char *)x, S, T, H, hd, sizeof *x, (char *)y);
}

void ijepa__heads_merge(const float *y, int64_t S, int64_t T, int64_t H,
                        int64_t hd, float *x)
{
    merge1((const char *)y, S, T, H, hd, sizeof *y, (char *)x);
}

void ijepa__heads_split3_bf16(const uint16_t *qkv, int64_t S, int64_t T, int64_t H,
                              int64_t hd, uint16_t *q, uint16_t *k, uint16_t *v)
{
    split3((const char *)qkv, S, T, H, hd, sizeof *qkv, (char *)q, (char *)k, (char *)v);
}

void ijepa__heads_merge3_bf16(const uint16_t *q, const uint16_t *k, const uint16_t *v,
                              int64_t S, int64_t T, int64_t H, int64_t hd, uint16_t *qkv)
{
    merge3((const char *)q, (const char *)k, (const char *)v, S, T, H, hd, sizeof *q,
           (char *)qkv);
}

void ijepa__heads_split_bf16(const uint16_t *x, int64_t S, int64_t T, int64_t H,
                             int64_t hd, uint16_t *y)
{
    split1((const char *)x, S, T, H, hd, sizeof *x, (char *)y);
}

void ijepa__heads_merge_bf16(const uint16_t *y, int64_t S, int64_t T, int64_t H,
                             int64_t hd, uint16_t *x)
{
    merge1((const char *)y, S, T, H, hd, sizeof *y, (char *)x);
}
