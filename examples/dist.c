/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * Implements: the parts of examples/dist.h both implementations share (the
 * slices of a batch, the checksum).
 */
#include <string.h>

#include "dist.h"

void ex_dist_slice(int r, int n, int64_t batch, int64_t *offset, int64_t *count)
{
    /* rank r takes [r B / n, (r + 1) B / n): sizes floor(B / n) or one more */
    const int64_t a = (int64_t)r * batch / n, b = ((int64_t)r + 1) * batch / n;
    *offset = a;
    *count = b - a;
}

uint64_t ex_hash(uint64_t h, const void *data, size_t n)
{
    /* Each step is a bijection of the state for a fixed word and of the
     * word for a fixed state, so inputs that differ in one word always
     * give different checksums. */
    const unsigned char *p = data;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        h = (h ^ w) * 0x100000001b3ULL;
        h ^= h >> 29;
    }
    for (; i < n; i++) {
        h = (h ^ p[i]) * 0x100000001b3ULL;
        h ^= h >> 29;
    }
    return h;
}
