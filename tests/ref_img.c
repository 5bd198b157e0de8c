/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * Implements: tests/ref_img.h (test image encoders and damage helpers).
 */
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include <png.h>
#include <turbojpeg.h>

#include "ref_img.h"

static uint64_t next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

typedef struct membuf {
    uint8_t *p;
    size_t n, cap;
    int oom;
} membuf;

static void mem_write(png_structp png, png_bytep d, png_size_t n)
{
    membuf *m = png_get_io_ptr(png);
    if (m->n + n > m->cap) {
        size_t cap = (m->cap ? m->cap * 2 : 4096) + n;
        uint8_t *p = realloc(m->p, cap);
        if (!p) {
            m->oom = 1;
            return;
        }
        m->p = p;
        m->cap = cap;
    }
    memcpy(m->p + m->n, d, n);
    m->n += n;
}

static void mem_flush(png_structp png) { (void)png; }

static uint8_t to8(unsigned v, int depth)
{
    if (depth == 16)
        return (uint8_t)((v + 128) / 257);
    return (uint8_t)(v * 255 / ((1u << depth) - 1));
}

int png_make(ref_png *out, int ctype, int depth, int w, int h, int interlace, uint64_t seed)
{
    memset(out, 0, sizeof *out);
    int spp; /* samples per pixel */
    switch (ctype) {
    case PNG_COLOR_TYPE_GRAY: spp = 1; break;
    case PNG_COLOR_TYPE_GRAY_ALPHA: spp = 2; break;
    case PNG_COLOR_TYPE_RGB: spp = 3; break;
    case PNG_COLOR_TYPE_RGB_ALPHA: spp = 4; break;
    case PNG_COLOR_TYPE_PALETTE: spp = 1; break;
    default: return -1;
    }
    const unsigned maxv = depth == 16 ? 65535u : (1u << depth) - 1;
    const int bps = depth == 16 ? 2 : 1; /* bytes per sample in our rows */
    uint8_t *rows = malloc((size_t)w * h * spp * bps);
    png_bytep *rp = malloc((size_t)h * sizeof *rp);
    out->rgb = malloc((size_t)w * h * 3);
    if (!rows || !rp || !out->rgb) {
        free(rows);
        free(rp);
        ref_png_free(out);
        return -1;
    }
    png_color pal[256];
    png_byte trns[256];
    const int npal = ctype == PNG_COLOR_TYPE_PALETTE ? 1 << depth : 0;
    for (int i = 0; i < npal; i++) {
        uint64_t r = next(&seed);
        pal[i].red = (png_byte)r;
        pal[i].green = (png_byte)(r >> 8);
        pal[i].blue = (png_byte)(r >> 16);
        trns[i] = (png_byte)(r >> 24);
    }
    for (int y = 0; y < h; y++) {
        rp[y] = rows + (size_t)y * w * spp * bps;
        for (int x = 0; x < w; x++) {
            unsigned s[4];
            for (int k = 0; k < spp; k++) {
                unsigned v = (unsigned)(next(&seed) % ((uint64_t)maxv + 1));
                if (ctype == PNG_COLOR_TYPE_PALETTE)
                    v %= (unsigned)npal;
                s[k] = v;
                uint8_t *d = rp[y] + ((size_t)x * spp + k) * bps;
                if (bps == 2) {
                    d[0] = (uint8_t)(v >> 8);
                    d[1] = (uint8_t)v;
                } else {
                    d[0] = (uint8_t)v;
                }
            }
            uint8_t *e = out->rgb + ((size_t)y * w + x) * 3;
            if (ctype == PNG_COLOR_TYPE_PALETTE) {
                e[0] = pal[s[0]].red;
                e[1] = pal[s[0]].green;
                e[2] = pal[s[0]].blue;
            } else if (spp <= 2) {
                e[0] = e[1] = e[2] = to8(s[0], depth);
            } else {
                for (int k = 0; k < 3; k++)
                    e[k] = to8(s[k], depth);
            }
        }
    }

    membuf m = {0};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info || setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        free(rows);
        free(rp);
        free(m.p);
        ref_png_free(out);
        return -1;
    }
    png_set_write_fn(png, &m, mem_write, mem_flush);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, depth, ctype,
                 interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (npal) {
        png_set_PLTE(png, info, pal, npal);
        png_set_tRNS(png, info, trns, npal, NULL);
    }
    png_write_info(png, info);
    if (depth < 8)
        png_set_packing(png);
    png_write_image(png, rp);
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    free(rows);
    free(rp);
    if (m.oom) {
        free(m.p);
        ref_png_free(out);
        return -1;
    }
    out->data = m.p;
    out->size = m.n;
    out->w = w;
    out->h = h;
    return 0;
}

void ref_png_free(ref_png *p)
{
    free(p->data);
    free(p->rgb);
    memset(p, 0, sizeof *p);
}

uint8_t *jpeg_make(const uint8_t *pix, int w, int h, int pf, int subsamp, int quality,
                   int progressive, size_t *size)
{
    tjhandle tj = tjInitCompress();
    if (!tj)
        return NULL;
    unsigned char *buf = NULL;
    unsigned long len = 0;
    int flags = progressive ? TJFLAG_PROGRESSIVE : 0;
    if (tjCompress2(tj, pix, w, 0, h, pf, &buf, &len, subsamp, quality, flags) != 0) {
        tjFree(buf);
        tjDestroy(tj);
        return NULL;
    }
    tjDestroy(tj);
    uint8_t *out = malloc(len);
    if (out)
        memcpy(out, buf, len);
    tjFree(buf);
    *size = len;
    return out;
}

uint32_t png_crc(const uint8_t *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
    }
    return c ^ 0xffffffffu;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void png_patch_ihdr(uint8_t *png, uint32_t w, uint32_t h)
{
    put32(png + 16, w);
    put32(png + 20, h);
    put32(png + 29, png_crc(png + 12, 17));
}

size_t png_idat_offset(const uint8_t *png, size_t size)
{
    size_t off = 8;
    while (off + 8 <= size) {
        const uint32_t len = get32(png + off);
        if (memcmp(png + off + 4, "IDAT", 4) == 0)
            return off + 8;
        off += 12 + (size_t)len;
    }
    return 0;
}

size_t png_chunk_offset(const uint8_t *png, size_t size, const char *type)
{
    size_t off = 8;
    while (off + 8 <= size) {
        if (memcmp(png + off + 4, type, 4) == 0)
            return off;
        off += 12 + (size_t)get32(png + off);
    }
    return 0;
}

uint8_t *png_insert_chunk(const uint8_t *png, size_t size, size_t at, const char *type,
                          const uint8_t *data, uint32_t len, int bad_crc, size_t *out_size)
{
    uint8_t *q = malloc(size + 12 + len);
    if (!q)
        return NULL;
    memcpy(q, png, at);
    put32(q + at, len);
    memcpy(q + at + 4, type, 4);
    if (len)
        memcpy(q + at + 8, data, len);
    put32(q + at + 8 + len, png_crc(q + at + 4, 4 + (size_t)len) ^ (bad_crc ? 1u : 0u));
    memcpy(q + at + 12 + len, png + at, size - at);
    *out_size = size + 12 + len;
    return q;
}

size_t jpeg_sof_offset(const uint8_t *jpg, size_t size)
{
    for (size_t i = 2; i + 1 < size; i++)
        if (jpg[i] == 0xff && (jpg[i + 1] == 0xc0 || jpg[i + 1] == 0xc1 || jpg[i + 1] == 0xc2))
            return i;
    return 0;
}

uint8_t *smooth_pixels(int w, int h, int pf_bytes, uint64_t seed)
{
    uint8_t *p = malloc((size_t)w * h * pf_bytes);
    if (!p)
        return NULL;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int k = 0; k < pf_bytes; k++) {
                int v = (x * (80 + 40 * k)) / (w > 1 ? w : 1) + (y * (120 - 30 * k)) / (h > 1 ? h : 1) +
                        40 + (int)(next(&seed) % 5);
                p[((size_t)y * w + x) * pf_bytes + k] = (uint8_t)(v > 255 ? 255 : v);
            }
    return p;
}

// --- hand-made progressive JPEGs -------------------------------------------------

/* Growing byte buffer with an MSB-first bit writer for entropy-coded data. */
typedef struct jbuf {
    uint8_t *p;
    size_t n, cap;
    int fail;
    uint32_t acc; /* pending bits, right-aligned */
    int nacc;
} jbuf;

static void jb_byte(jbuf *b, uint8_t v)
{
    if (b->fail)
        return;
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 4096;
        uint8_t *p = realloc(b->p, cap);
        if (!p) {
            b->fail = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    b->p[b->n++] = v;
}

static void jb_bytes(jbuf *b, const uint8_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        jb_byte(b, v[i]);
}

/* Entropy-coded bits; a 0xFF byte is followed by a stuffed 0x00. */
static void jb_bits(jbuf *b, uint32_t v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        b->acc = b->acc << 1 | ((v >> i) & 1u);
        if (++b->nacc == 8) {
            jb_byte(b, (uint8_t)b->acc);
            if ((uint8_t)b->acc == 0xff)
                jb_byte(b, 0);
            b->acc = 0;
            b->nacc = 0;
        }
    }
}

/* End of a scan: pad the last byte with 1 bits. */
static void jb_flush(jbuf *b)
{
    if (b->nacc)
        jb_bits(b, 0x7f, 8 - b->nacc);
}

/* An end-of-band run of n blocks (1 <= n <= 32767) in AC table 0, where
 * symbol EOBr (r << 4) has the 4-bit code r (see jpeg_progressive_scans). */
static void jb_eobrun(jbuf *b, uint32_t n)
{
    int r = 0;
    while ((n >> (r + 1)) != 0)
        r++;
    jb_bits(b, (uint32_t)r, 4);
    if (r)
        jb_bits(b, n - (1u << r), r);
}

uint8_t *jpeg_progressive_scans(int w, int h, int scans, int run, size_t *size)
{
    *size = 0;
    if (w < 1 || h < 1 || w > 65535 || h > 65535 || scans < 1 || scans > 1 + 63 * 14 ||
        run < 1 || run > 32767)
        return NULL;
    jbuf b = {0};
    static const uint8_t soi[] = {0xff, 0xd8};
    jb_bytes(&b, soi, sizeof soi);
    /* DQT: table 0, all ones (every coefficient is zero anyway) */
    jb_bytes(&b, (const uint8_t[]){0xff, 0xdb, 0x00, 0x43, 0x00}, 5);
    for (int i = 0; i < 64; i++)
        jb_byte(&b, 1);
    /* SOF2: 8-bit, h x w, one component (id 1, 1x1 sampling, table 0) */
    jb_bytes(&b, (const uint8_t[]){0xff, 0xc2, 0x00, 0x0b, 0x08, (uint8_t)(h >> 8), (uint8_t)h,
                                   (uint8_t)(w >> 8), (uint8_t)w, 0x01, 0x01, 0x11, 0x00}, 13);
    /* DHT DC 0: one symbol (category 0) with the 1-bit code 0 */
    jb_bytes(&b, (const uint8_t[]){0xff, 0xc4, 0x00, 0x14, 0x00}, 5);
    for (int l = 1; l <= 16; l++)
        jb_byte(&b, l == 1 ? 1 : 0);
    jb_byte(&b, 0x00);
    /* DHT AC 0: the 15 symbols EOB0..EOB14 with the 4-bit codes 0..14 */
    jb_bytes(&b, (const uint8_t[]){0xff, 0xc4, 0x00, 0x22, 0x10}, 5);
    for (int l = 1; l <= 16; l++)
        jb_byte(&b, l == 4 ? 15 : 0);
    for (int r = 0; r < 15; r++)
        jb_byte(&b, (uint8_t)(r << 4));

    const uint32_t blocks = (uint32_t)((w + 7) / 8) * (uint32_t)((h + 7) / 8);
    for (int s = 0; s < scans; s++) {
        /* scan 0: DC first pass; then, per AC coefficient k = 1, 2, ...,
         * a first pass at Al = 13 and refinements down to Al = 0: a legal
         * progression (libjpeg warns about, and TurboJPEG with
         * TJFLAG_STOPONWARNING refuses, any other order). */
        int ss = 0, ah = 0, al = 0;
        if (s > 0) {
            const int k = 1 + (s - 1) / 14, step = (s - 1) % 14;
            ss = k;
            al = 13 - step;
            ah = step ? al + 1 : 0;
        }
        jb_bytes(&b, (const uint8_t[]){0xff, 0xda, 0x00, 0x08, 0x01, 0x01, 0x00, (uint8_t)ss,
                                       (uint8_t)ss, (uint8_t)(ah << 4 | al)}, 10);
        if (s == 0) {
            for (uint32_t i = 0; i < blocks; i++)
                jb_bits(&b, 0, 1); /* DC difference 0 */
        } else {
            for (uint32_t left = blocks; left > 0;) {
                const uint32_t n = left > (uint32_t)run ? (uint32_t)run : left;
                jb_eobrun(&b, n);
                left -= n;
            }
        }
        jb_flush(&b);
    }
    jb_bytes(&b, (const uint8_t[]){0xff, 0xd9}, 2);
    if (b.fail) {
        free(b.p);
        return NULL;
    }
    *size = b.n;
    return b.p;
}
