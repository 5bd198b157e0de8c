/*
 * Seed corpus of fuzz_image: writes small valid PNGs (every colour type and
 * bit depth, interlaced or not) and JPEGs (baseline 4:4:4 / 4:2:0 / gray,
 * progressive, CMYK) into the directory given as argv[1]. Run by `make fuzz`;
 * nothing it writes is committed.
 */
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
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
    return bad;
}
