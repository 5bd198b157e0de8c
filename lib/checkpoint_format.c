/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * Implements: checkpoint_format.h, the byte order and checksums of the
 * checkpoint format, below both the reader and the writer.
 */
#include <float.h>
#include <math.h>
#include <string.h>

#include <zlib.h>

#include "checkpoint_format.h"

// --- little-endian --------------------------------------------------------------------------

uint64_t ijepa__le_u64(const unsigned char p[8])
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

void ijepa__le_put_u64(unsigned char p[8], uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

float ijepa__le_f32(const unsigned char p[4])
{
    const uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                       (uint32_t)p[3] << 24;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

void ijepa__le_get_f32(float *dst, const unsigned char *src, int64_t n)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(dst, src, (size_t)n * 4u);
#else
    for (int64_t k = 0; k < n; k++)
        dst[k] = ijepa__le_f32(src + 4 * k);
#endif
}

void ijepa__le_put_f32(unsigned char *dst, const float *src, int64_t n)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(dst, src, (size_t)n * 4u);
#else
    for (int64_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &src[i], 4);
        dst[4 * i] = (unsigned char)u;
        dst[4 * i + 1] = (unsigned char)(u >> 8);
        dst[4 * i + 2] = (unsigned char)(u >> 16);
        dst[4 * i + 3] = (unsigned char)(u >> 24);
    }
#endif
}

// --- element types ------------------------------------------------------------------------

static const struct {
    const char *name;
    int size;
} DTYPES[IJEPA__NDTYPES] = {{"F32", 4}, {"F16", 2}, {"BF16", 2}, {"F64", 8}};

int ijepa__dtype_of(const char *name)
{
    for (int i = 0; i < IJEPA__NDTYPES; i++)
        if (!strcmp(DTYPES[i].name, name))
            return i;
    return -1;
}

const char *ijepa__dtype_name(int dtype) { return DTYPES[dtype].name; }

int ijepa__dtype_size(int dtype) { return DTYPES[dtype].size; }

/* IEEE half to float: exact (every half is a float). */
static float f16_to_f32(uint16_t h)
{
    const uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu, man = h & 0x3ffu, u;
    if (exp == 0x1f) {
        u = sign | 0x7f800000u | man << 13; /* inf, NaN */
    } else if (exp != 0) {
        u = sign | (exp + 112) << 23 | man << 13;
    } else if (man == 0) {
        u = sign;
    } else { /* subnormal man * 2^-24: normalise to 1.f * 2^(-15-e) */
        uint32_t e = 0;
        man <<= 1;
        while (!(man & 0x400u)) {
            man <<= 1;
            e++;
        }
        u = sign | (112 - e) << 23 | (man & 0x3ffu) << 13;
    }
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* Round to the nearest float, ties to even, as IEEE 754 does; spelled out
 * past FLT_MAX, where C leaves the conversion undefined: below FLT_MAX + half
 * an ulp (2^103) the nearest float is FLT_MAX, from there on infinity. */
static float f64_to_f32(double d)
{
    if (fabs(d) <= FLT_MAX || isnan(d))
        return (float)d;
    return copysignf(fabs(d) < 0x1.ffffffp127 ? FLT_MAX : INFINITY, (float)(d < 0 ? -1 : 1));
}

void ijepa__dtype_get_f32(int dtype, float *dst, const unsigned char *src, int64_t n)
{
    switch (dtype) {
    case IJEPA__DT_F32:
        ijepa__le_get_f32(dst, src, n);
        break;
    case IJEPA__DT_F16:
        for (int64_t k = 0; k < n; k++)
            dst[k] = f16_to_f32((uint16_t)(src[2 * k] | src[2 * k + 1] << 8));
        break;
    case IJEPA__DT_BF16:
        for (int64_t k = 0; k < n; k++) {
            const uint32_t u = (uint32_t)src[2 * k] << 16 | (uint32_t)src[2 * k + 1] << 24;
            memcpy(&dst[k], &u, sizeof u);
        }
        break;
    default: /* F64 */
        for (int64_t k = 0; k < n; k++) {
            const uint64_t u = ijepa__le_u64(src + 8 * k);
            double d;
            memcpy(&d, &u, sizeof d);
            dst[k] = f64_to_f32(d);
        }
        break;
    }
}

// --- checksums ------------------------------------------------------------------------------

/* zlib's crc32 over any length (its length argument is an unsigned int). */
uint32_t ijepa__crc32(uint32_t crc, const unsigned char *p, uint64_t n)
{
    uLong c = crc;
    while (n > 0) {
        const uInt k = n > (1u << 30) ? (1u << 30) : (uInt)n;
        c = crc32(c, p, k);
        p += k;
        n -= k;
    }
    return (uint32_t)c;
}

const char *const ijepa__meta_summed[IJEPA__NMETA_SUMMED] = {
    "format", "ijepa.format_version", "ijepa.library_version", "ijepa.config",
    "ijepa.step", "ijepa.seed", "ijepa.checksum"};

uint32_t ijepa__metadata_crc(const char *const values[IJEPA__NMETA_SUMMED])
{
    uint32_t c = ijepa__crc32(0, NULL, 0);
    for (int i = 0; i < IJEPA__NMETA_SUMMED; i++) {
        c = ijepa__crc32(c, (const unsigned char *)ijepa__meta_summed[i],
                         strlen(ijepa__meta_summed[i]) + 1);
        c = ijepa__crc32(c, (const unsigned char *)values[i], strlen(values[i]) + 1);
    }
    return c;
}
