/*
 * Implements: checkpoint_format.h, the byte order and checksums of the
 * checkpoint format, below both the reader and the writer.
 */
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
