/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * Implements: examples/plot.h, the pictures of ijepa-train.
 */
#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plot.h"

typedef struct canvas {
    int w, h;
    uint8_t *rgb; /* [h, w, 3] */
} canvas;

static int canvas_init(canvas *c, int w, int h, uint8_t grey)
{
    c->w = w;
    c->h = h;
    c->rgb = malloc((size_t)w * (size_t)h * 3);
    if (!c->rgb)
        return -1;
    memset(c->rgb, grey, (size_t)w * (size_t)h * 3);
    return 0;
}

static void canvas_px(canvas *c, int x, int y, uint8_t r, uint8_t g, uint8_t b)
{
    if (x < 0 || y < 0 || x >= c->w || y >= c->h)
        return;
    uint8_t *p = c->rgb + ((size_t)y * (size_t)c->w + (size_t)x) * 3;
    p[0] = r;
    p[1] = g;
    p[2] = b;
}

static void canvas_line(canvas *c, double x0, double y0, double x1, double y1, uint8_t r,
                        uint8_t g, uint8_t b)
{
    int n = (int)fmax(fabs(x1 - x0), fabs(y1 - y0)) + 1;
    for (int i = 0; i <= n; i++) {
        double t = (double)i / n;
        int x = (int)lround(x0 + t * (x1 - x0)), y = (int)lround(y0 + t * (y1 - y0));
        canvas_px(c, x, y, r, g, b);
        canvas_px(c, x, y + 1, r, g, b);
    }
}

/* 3x5 digit glyphs for axis labels: "0123456789.-e" */
static const char GLYPHS[] = "0123456789.-e";
static const uint16_t GLYPH_BITS[] = {
    0x7b6f, 0x2c97, 0x73e7, 0x73cf, 0x5bc9, 0x79cf, 0x79ef, 0x7249, 0x7bef, 0x7bcf,
    0x0002, 0x01c0, 0x0fe7,
};

static void canvas_text(canvas *c, int x, int y, const char *s, int scale)
{
    for (; *s; s++, x += 4 * scale) {
        const char *g = strchr(GLYPHS, *s);
        if (!g)
            continue;
        uint16_t bits = GLYPH_BITS[g - GLYPHS];
        for (int row = 0; row < 5; row++)
            for (int col = 0; col < 3; col++)
                if (bits & (1u << (14 - (row * 3 + col))))
                    for (int dy = 0; dy < scale; dy++)
                        for (int dx = 0; dx < scale; dx++)
                            canvas_px(c, x + col * scale + dx, y + row * scale + dy, 40, 40, 40);
    }
}

static int canvas_save(const canvas *c, const char *path)
{
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    img.width = (png_uint_32)c->w;
    img.height = (png_uint_32)c->h;
    img.format = PNG_FORMAT_RGB;
    int ok = png_image_write_to_file(&img, path, 0, c->rgb, 0, NULL);
    png_image_free(&img);
    return ok ? 0 : -1;
}

int plot_curve(const char *path, const double *y, int64_t n)
{
    const int W = 800, H = 450, L = 70, R = 20, T = 20, B = 40;
    canvas c;
    if (n < 2 || canvas_init(&c, W, H, 255) != 0)
        return -1;
    double lo = 1e300, hi = -1e300;
    for (int64_t i = 0; i < n; i++)
        if (y[i] > 0 && isfinite(y[i])) {
            lo = fmin(lo, y[i]);
            hi = fmax(hi, y[i]);
        }
    if (!(lo < hi)) {
        hi = lo * 10 + 1e-12;
    }
    const double l0 = log10(lo), l1 = log10(hi);
    canvas_line(&c, L, T, L, H - B, 0, 0, 0);
    canvas_line(&c, L, H - B, W - R, H - B, 0, 0, 0);
    for (int d = (int)floor(l0); d <= (int)ceil(l1); d++) {
        double py = (H - B) - (d - l0) / (l1 - l0) * (H - B - T);
        if (py < T || py > H - B)
            continue;
        canvas_line(&c, L - 6, py, L, py, 0, 0, 0);
        char lab[16];
        snprintf(lab, sizeof lab, "1e%d", d);
        canvas_text(&c, 6, (int)py - 5, lab, 2);
    }
    for (int k = 0; k < 2; k++) { /* label the extremes too */
        double v = k ? hi : lo, py = k ? T : H - B;
        char lab[24];
        snprintf(lab, sizeof lab, "%.3g", v);
        canvas_line(&c, L - 6, py, L, py, 0, 0, 0);
        canvas_text(&c, 6, (int)py - (k ? 0 : 10), lab, 2);
    }
    double px0 = 0, py0 = 0;
    for (int64_t i = 0; i < n; i++) {
        if (!(y[i] > 0) || !isfinite(y[i]))
            continue;
        double px = L + (double)i / (double)(n - 1) * (W - L - R);
        double py = (H - B) - (log10(y[i]) - l0) / (l1 - l0) * (H - B - T);
        if (i > 0)
            canvas_line(&c, px0, py0, px, py, 200, 40, 40);
        px0 = px;
        py0 = py;
    }
    char lab[32];
    snprintf(lab, sizeof lab, "%lld", (long long)n);
    canvas_text(&c, W - R - 4 * 2 * (int)strlen(lab), H - B + 10, lab, 2);
    canvas_text(&c, L, H - B + 10, "0", 2);
    int rc = canvas_save(&c, path);
    free(c.rgb);
    return rc;
}

int plot_masks(const char *path, const float *images, int count, int img, int G,
               int p, const int32_t *context, int64_t nc, const int32_t *targets,
               int64_t M, int64_t batch, int64_t nt)
{
    static const uint8_t colours[6][3] = {{230, 60, 40}, {40, 170, 60}, {240, 170, 0},
                                          {170, 60, 200}, {0, 170, 200}, {120, 120, 120}};
    const int s = 6, pad = 8, pw = img * s;
    canvas c;
    if (canvas_init(&c, count * (pw + pad) + pad, pw + 2 * pad, 255) != 0)
        return -1;
    for (int k = 0; k < count; k++) {
        const int ox = pad + k * (pw + pad), oy = pad;
        const float *im = images + (size_t)k * img * img;
        float lo = 1e30f, hi = -1e30f;
        for (int i = 0; i < img * img; i++) {
            lo = fminf(lo, im[i]);
            hi = fmaxf(hi, im[i]);
        }
        uint8_t *inctx = calloc((size_t)(G * G), 1);
        if (!inctx) {
            free(c.rgb);
            return -1;
        }
        for (int64_t j = 0; j < nc; j++)
            inctx[context[k * nc + j]] = 1;
        for (int y = 0; y < pw; y++)
            for (int x = 0; x < pw; x++) {
                float v = (im[(y / s) * img + x / s] - lo) / (hi - lo + 1e-12f);
                uint8_t gv = (uint8_t)(40 + 180 * v);
                int patch = (y / s / p) * G + x / s / p;
                if (patch < G * G && inctx[patch])
                    canvas_px(&c, ox + x, oy + y, (uint8_t)(gv / 2), (uint8_t)(gv / 2 + 30),
                              (uint8_t)(gv / 2 + 110));
                else
                    canvas_px(&c, ox + x, oy + y, gv, gv, gv);
            }
        free(inctx);
        for (int64_t m = 0; m < M; m++) {
            const uint8_t *col = colours[m % 6];
            const int32_t *t = targets + (m * batch + k) * nt;
            for (int64_t j = 0; j < nt; j++) {
                int r = t[j] / G, q = t[j] % G;
                double x0 = ox + q * p * s, y0 = oy + r * p * s, e = p * s - 1;
                canvas_line(&c, x0 + m, y0 + m, x0 + e - m, y0 + m, col[0], col[1], col[2]);
                canvas_line(&c, x0 + m, y0 + e - m, x0 + e - m, y0 + e - m, col[0], col[1], col[2]);
                canvas_line(&c, x0 + m, y0 + m, x0 + m, y0 + e - m, col[0], col[1], col[2]);
                canvas_line(&c, x0 + e - m, y0 + m, x0 + e - m, y0 + e - m, col[0], col[1], col[2]);
            }
        }
    }
    int rc = canvas_save(&c, path);
    free(c.rgb);
    return rc;
}
