/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * Plain-C kernels for what oneDNN has no fast primitive for: bias gradients
 * (column sums), residual adds, token gathers, attention head split/merge.
 * All are memory-bound loops parallelised on the host's OpenMP pool.
 */
#ifndef IJEPA_GLUE_H
#define IJEPA_GLUE_H

#include <stdint.h>

/* db[n] += sum_m dy[m, n];  dy [M, N] */
void ijepa__colsum_add(const float *dy, int64_t M, int64_t N, float *db);
/* y[i] += x[i], i < n */
void ijepa__add_inplace(float *y, const float *x, int64_t n);
/* y[i] = 0, i < n: memset shared out among the threads */
void ijepa__zero(float *y, int64_t n);
/* qkv [S, T, 3, H, hd] -> q, k, v each [S, H, T, hd] */
void ijepa__heads_split3(const float *qkv, int64_t S, int64_t T, int64_t H,
                         int64_t hd, float *q, float *k, float *v);
/* inverse of split3: q, k, v [S, H, T, hd] -> qkv [S, T, 3, H, hd] */
void ijepa__heads_merge3(const float *q, const float *k, const float *v,
                         int64_t S, int64_t T, int64_t H, int64_t hd, float *qkv);
/* x [S, T, H, hd] -> y [S, H, T, hd] */
void ijepa__heads_split(const float *x, int64_t S, int64_t T, int64_t H,
                        int64_t hd, float *y);
/* y [S, H, T, hd] -> x [S, T, H, hd] */
void ijepa__heads_merge(const float *y, int64_t S, int64_t T, int64_t H,
                        int64_t hd, float *x);

/* The same four on bf16 data (uint16_t, see bf16.h). */
void ijepa__heads_split3_bf16(const uint16_t *qkv, int64_t S, int64_t T, int64_t H,
                              int64_t hd, uint16_t *q, uint16_t *k, uint16_t *v);
void ijepa__heads_merge3_bf16(const uint16_t *q, const uint16_t *k, const uint16_t *v,
                              int64_t S, int64_t T, int64_t H, int64_t hd, uint16_t *qkv);
void ijepa__heads_split_bf16(const uint16_t *x, int64_t S, int64_t T, int64_t H,
                             int64_t hd, uint16_t *y);
void ijepa__heads_merge_bf16(const uint16_t *y, int64_t S, int64_t T, int64_t H,
                             int64_t hd, uint16_t *x);

#endif
