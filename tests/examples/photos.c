/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * photos DIR: write a small labelled folder of test pictures for the
 * example programs' folder modes (tests/examples/run.sh), generated at test
 * time (nothing binary is committed):
 *
 *     DIR/circles/NN.png|jpg   a filled disc        \
 *     DIR/squares/NN.png|jpg   a filled square       } on a smooth, noisy
 *     DIR/stripes/NN.png|jpg   vertical bars        /  background
 *
 * PER_CLASS pictures per class, of varied sizes (40 to 129 pixels a side,
 * not square), colours and positions; every other one is a JPEG (TurboJPEG,
 * 4:2:0), the others PNGs (libpng's simplified writer), every third one in
 * grey. One picture per class sits in a subdirectory (DIR/CLASS/more/), one
 * has a space in its name: a class is everything below its directory.
 * Deterministic: the same files on every machine.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <turbojpeg.h>

#include "ref_img.h"

#define PER_CLASS 10

static uint64_t rng(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void make_dir(const char *path)
{
    if (mkdir(path, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "photos: cannot create %s: %s\n", path, strerror(errno));
        exit(1);
    }
}

/* Draw the class's shape in colour col over rgb [h, w, 3]. */
static void draw(uint8_t *rgb, int w, int h, int cls, const uint8_t col[3], uint64_t *s)
{
    const int side = (w < h ? w : h), r = side / 4 + (int)(rng(s) % (uint64_t)(side / 8 + 1));
    const int cx = w / 2 + (int)(rng(s) % 9) - 4, cy = h / 2 + (int)(rng(s) % 9) - 4;
    const int period = 6 + (int)(rng(s) % 5);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const int dx = x - cx, dy = y - cy;
            const int in = cls == 0   ? dx * dx + dy * dy <= r * r
                           : cls == 1 ? abs(dx) <= r && abs(dy) <= r
                                      : x % period < period / 2;
            if (in)
                memcpy(rgb + ((size_t)y * w + x) * 3, col, 3);
        }
}

static void write_file(const char *path, const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0) {
        fprintf(stderr, "photos: cannot write %s\n", path);
        exit(1);
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: photos DIR\n");
        return 2;
    }
    static const char *const classes[] = {"circles", "squares", "stripes"};
    char path[4096];
    uint64_t s = 0x9e3779b97f4a7c15ULL;
    make_dir(argv[1]);
    for (int c = 0; c < 3; c++) {
        snprintf(path, sizeof path, "%s/%s", argv[1], classes[c]);
        make_dir(path);
        snprintf(path, sizeof path, "%s/%s/more", argv[1], classes[c]);
        make_dir(path);
        for (int i = 0; i < PER_CLASS; i++) {
            const int w = 40 + (int)(rng(&s) % 90), h = 40 + (int)(rng(&s) % 90);
            const int grey = i % 3 == 0, jpeg = i % 2 == 1;
            uint8_t *rgb = smooth_pixels(w, h, 3, rng(&s));
            if (!rgb)
                return 1;
            const uint8_t col[3] = {(uint8_t)(rng(&s) % 256), (uint8_t)(rng(&s) % 256),
                                    (uint8_t)(rng(&s) % 256)};
            draw(rgb, w, h, c, col, &s);
            if (grey) /* luma, in place: the first w * h bytes */
                for (size_t p = 0; p < (size_t)w * h; p++)
                    rgb[p] = (uint8_t)((299 * rgb[3 * p] + 587 * rgb[3 * p + 1] +
                                        114 * rgb[3 * p + 2] + 500) / 1000);
            snprintf(path, sizeof path, "%s/%s/%s%s%02d.%s", argv[1], classes[c],
                     i == 0 ? "more/" : "", i == 1 ? "photo " : "", i, jpeg ? "jpg" : "png");
            if (jpeg) {
                size_t size;
                uint8_t *j = jpeg_make(rgb, w, h, grey ? TJPF_GRAY : TJPF_RGB,
                                       grey ? TJSAMP_GRAY : TJSAMP_420, 90, 0, &size);
                if (!j) {
                    fprintf(stderr, "photos: cannot encode %s\n", path);
                    return 1;
                }
                write_file(path, j, size);
                free(j);
            } else {
                png_image img;
                memset(&img, 0, sizeof img);
                img.version = PNG_IMAGE_VERSION;
                img.width = (png_uint_32)w;
                img.height = (png_uint_32)h;
                img.format = grey ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
                if (!png_image_write_to_file(&img, path, 0, rgb, 0, NULL)) {
                    fprintf(stderr, "photos: cannot write %s: %s\n", path, img.message);
                    return 1;
                }
            }
            free(rgb);
        }
    }
    return 0;
}
