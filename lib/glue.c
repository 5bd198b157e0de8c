/*
 * Implements: glue.h.
 */
#include <string.h>

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

void ijepa__heads_split3(const float *qkv, int64_t S, int64_t T, int64_t H,
                         int64_t hd, float *q, float *k, float *v)
{
    const int64_t D = H * hd;
#pragma omp parallel for schedule(static) if (S * T * D >= PAR_MIN)
    for (int64_t st = 0; st < S * T; st++) {
        const int64_t s = st / T, t = st % T;
        const float *src = qkv + st * 3 * D;
        for (int64_t h = 0; h < H; h++) {
            const int64_t dst = ((s * H + h) * T + t) * hd;
            memcpy(q + dst, src + h * hd, (size_t)hd * sizeof(float));
            memcpy(k + dst, src + D + h * hd, (size_t)hd * sizeof(float));
            memcpy(v + dst, src + 2 * D + h * hd, (size_t)hd * sizeof(float));
        }
    }
}

void ijepa__heads_merge3(const float *q, const float *k, const float *v,
                         int64_t S, int64_t T, int64_t H, int64_t hd, float *qkv)
{
    const int64_t D = H * hd;
#pragma omp parallel for schedule(static) if (S * T * D >= PAR_MIN)
    for (int64_t st = 0; st < S * T; st++) {
        const int64_t s = st / T, t = st % T;
        float *dst = qkv + st * 3 * D;
        for (int64_t h = 0; h < H; h++) {
            const int64_t src = ((s * H + h) * T + t) * hd;
            memcpy(dst + h * hd, q + src, (size_t)hd * sizeof(float));
            memcpy(dst + D + h * hd, k + src, (size_t)hd * sizeof(float));
            memcpy(dst + 2 * D + h * hd, v + src, (size_t)hd * sizeof(float));
        }
    }
}

void ijepa__heads_split(const float *x, int64_t S, int64_t T, int64_t H,
                        int64_t hd, float *y)
{
#pragma omp parallel for schedule(static) if (S * T * H * hd >= PAR_MIN)
    for (int64_t st = 0; st < S * T; st++) {
        const int64_t s = st / T, t = st % T;
        for (int64_t h = 0; h < H; h++)
            memcpy(y + ((s * H + h) * T + t) * hd, x + (st * H + h) * hd,
                   (size_t)hd * sizeof(float));
    }
}

void ijepa__heads_merge(const float *y, int64_t S, int64_t T, int64_t H,
                        int64_t hd, float *x)
{
#pragma omp parallel for schedule(static) if (S * T * H * hd >= PAR_MIN)
    for (int64_t st = 0; st < S * T; st++) {
        const int64_t s = st / T, t = st % T;
        for (int64_t h = 0; h < H; h++)
            memcpy(x + (st * H + h) * hd, y + ((s * H + h) * T + t) * hd,
                   (size_t)hd * sizeof(float));
    }
}
