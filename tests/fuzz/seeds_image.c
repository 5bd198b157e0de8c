/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * Seed corpus of fuzz_image: writes small valid PNGs (every colour type and
 * bit depth, interlaced or not) and JPEGs (baseline 4:4:4 / 4:2:0 / gray,
 * progressive, CMYK) into the directory given as argv[1], and the hostile
 * files of the robustness tests: the many-scans progressive JPEG (a 1 Mpixel
 * bomb over the fuzzer's scan budget, a small one under it), a baseline JPEG
 * carrying a progressive one in an APP1 segment, PNGs without IEND, with
 * bytes after it, and with damaged chunks libpng's simplified reader skips.
 * Run by `make fuzz`; nothing it writes is committed.
 */
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

#include "ref_img.h"

static int put(const char *dir, const char *name, const uint8_t *d, size_t n)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(d, 1, n, f) != n) {
        fprintf(stderr, "seeds_image: cannot write %s\n", path);
        if (f)
            fclose(f);
        return 1;
    }
    return fclose(f) != 0;
}

static int put_free(const char *dir, const char *name, uint8_t *d, size_t n)
{
    if (!d)
        return 1;
    const int bad = put(dir, name, d, n);
    free(d);
    return bad;
}

static int hostile(const char *dir)
{
    int bad = 0;
    size_t n = 0, pn = 0, bn = 0;
    bad |= put_free(dir, "jpeg_scans_bomb.jpg",
                    jpeg_progressive_scans(1024, 1024, 500, 32767, &n), n);
    bad |= put_free(dir, "jpeg_scans_small.jpg", jpeg_progressive_scans(24, 16, 100, 3, &n), n);
    /* baseline JPEG with a progressive one inside an APP1 segment */
    uint8_t *px = smooth_pixels(19, 13, 3, 7);
    uint8_t *base = px ? jpeg_make(px, 19, 13, TJPF_RGB, TJSAMP_420, 75, 0, &bn) : NULL;
    uint8_t *inner = jpeg_progressive_scans(16, 16, 30, 1, &n);
    uint8_t *app = base && inner ? malloc(bn + 4 + n) : NULL;
    if (app) {
        memcpy(app, base, 2);
        const uint8_t hdr[4] = {0xff, 0xe1, (uint8_t)((n + 2) >> 8), (uint8_t)(n + 2)};
        memcpy(app + 2, hdr, 4);
        memcpy(app + 6, inner, n);
        memcpy(app + 6 + n, base + 2, bn - 2);
    }
    bad |= put_free(dir, "jpeg_app1_inner.jpg", app, bn + 4 + n);
    free(px);
    free(base);
    free(inner);
    /* PNG endings */
    ref_png p;
    if (png_make(&p, 2, 8, 11, 9, 0, 99) != 0)
        return 1;
    const size_t iend = png_chunk_offset(p.data, p.size, "IEND");
    bad |= put(dir, "png_no_iend.png", p.data, iend);
    static const uint8_t text[] = "Comment\0after the pixels";
    static const uint8_t gama[4] = {0, 0, 0x3a, 0x98};
    bad |= put_free(dir, "png_text_bad_crc.png",
                    png_insert_chunk(p.data, p.size, iend, "tEXt", text, sizeof text - 1, 1,
                                     &pn), pn);
    bad |= put_free(dir, "png_gama_bad_crc.png",
                    png_insert_chunk(p.data, p.size, 33, "gAMA", gama, 4, 1, &pn), pn);
    uint8_t *tail = malloc(p.size + 7);
    if (tail) {
        memcpy(tail, p.data, p.size);
        memcpy(tail + p.size, "garbage", 7);
    }
    bad |= put_free(dir, "png_after_iend.png", tail, p.size + 7);
    ref_png_free(&p);
    return bad;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    static const int kinds[][2] = {{0, 1}, {0, 2}, {0, 4}, {0, 8}, {0, 16}, {4, 8}, {4, 16},
                                   {2, 8}, {2, 16}, {6, 8}, {6, 16}, {3, 1}, {3, 2}, {3, 4},
                                   {3, 8}};
    int bad = 0;
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
        for (int il = 0; il < 2; il++) {
            ref_png p;
            if (png_make(&p, kinds[k][0], kinds[k][1], 9 + (int)k, 7, il, k) != 0)
                return 1;
            char name[64];
            snprintf(name, sizeof name, "png_ct%d_d%d_i%d.png", kinds[k][0], kinds[k][1], il);
            bad |= put(argv[1], name, p.data, p.size);
            ref_png_free(&p);
        }
    static const struct { int pf, bpp, ss, prog; const char *name; } jk[] = {
        {TJPF_RGB, 3, TJSAMP_444, 0, "jpeg_444.jpg"},  {TJPF_RGB, 3, TJSAMP_420, 0, "jpeg_420.jpg"},
        {TJPF_RGB, 3, TJSAMP_422, 1, "jpeg_prog.jpg"}, {TJPF_GRAY, 1, TJSAMP_GRAY, 0, "jpeg_gray.jpg"},
        {TJPF_CMYK, 4, TJSAMP_444, 0, "jpeg_cmyk.jpg"},
    };
    for (size_t k = 0; k < sizeof jk / sizeof jk[0]; k++) {
        uint8_t *px = smooth_pixels(19, 13, jk[k].bpp, k);
        size_t n = 0;
        uint8_t *j = px ? jpeg_make(px, 19, 13, jk[k].pf, jk[k].ss, 75, jk[k].prog, &n) : NULL;
        if (!j)
            return 1;
        bad |= put(argv[1], jk[k].name, j, n);
        free(j);
        free(px);
    }
    bad |= hostile(argv[1]);
    return bad;
}
