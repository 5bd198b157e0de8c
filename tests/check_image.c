/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * Implements: suite "image" — include/ijepa/image.h: decoding, limits,
 * robustness against damaged files, and the transforms.
 *
 * TCases:
 *   png        every colour type and bit depth (palette with tRNS, gray 1..16,
 *              gray+alpha, RGB, RGBA, 8 and 16 bits, interlaced), made with
 *              libpng's full write API here, decode to exactly the values
 *              encoded (16-bit: within one 8-bit step); luma as PIL's "L"
 *   jpeg       RGB 4:4:4 quality 100 within a small tolerance of the source
 *              and exactly TurboJPEG's own RGB decode (layout, channel
 *              order); gray, 4:2:0, progressive and CMYK JPEGs
 *   damaged    zero-length, wrong magic, truncated, bit-flipped,
 *              huge-dimension headers (PNG IHDR, JPEG SOF) and over-limit
 *              inputs all give IJEPA_ERR_FORMAT naming the source; files:
 *              missing, a directory, over data_max_file_bytes
 *   hostile    a FIFO (with and without a writer) and a character device
 *              fail with IJEPA_ERR_IO at once instead of blocking; the
 *              many-scans progressive JPEG bomb is refused by
 *              data_max_scan_pixels before decoding, the budget's boundary
 *              is exact and counts components per scan as libjpeg meets
 *              them (not FF DA bytes inside other segments); PNGs without
 *              IEND, or with a bad CRC in a chunk libpng's simplified
 *              reader skips, are refused
 *   transform  RandomResizedCrop boxes against an independent replay of
 *              torchvision's get_params; train and eval transforms against a
 *              direct double-precision 2-D evaluation of PIL's bilinear
 *              filter; determinism; argument errors; the data_* config keys
 *              (names, types, defaults, bounds as config.h documents)
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <png.h>
#include <turbojpeg.h>

#include "check_ijepa.h"
#include "ijepa/ijepa.h"
#include "internal.h"
#include "ref_img.h"
#include "helpers.h"

#define REQUIRE(cond, ...)             \
    do {                               \
        if (!(cond))                   \
            ck_abort_msg(__VA_ARGS__); \
    } while (0)

/* Decode and return the image; fails the test on error. */
static ijepa_image *decode_ok(const uint8_t *d, size_t n, int64_t ch, const char *what)
{
    ijepa_image *img = NULL;
    int rc = ijepa_image_decode(&img, d, (int64_t)n, ch, NULL);
    REQUIRE(rc == IJEPA_OK, "%s: decode failed: %s", what, ijepa_last_error());
    return img;
}

/* The decode must fail with IJEPA_ERR_FORMAT and a message naming the
 * function and the source, and leave *out NULL. */
static void decode_bad(const uint8_t *d, size_t n, const ijepa_config *cfg, const char *what,
                       const char *needle)
{
    ijepa_image *img = (ijepa_image *)(uintptr_t)1;
    int rc = ijepa_image_decode(&img, d, (int64_t)n, 3, cfg);
    if (rc == IJEPA_OK)
        ijepa_image_free(img);
    REQUIRE(rc == IJEPA_ERR_FORMAT, "%s: status %d (%s), want IJEPA_ERR_FORMAT", what, rc,
            ijepa_last_error());
    REQUIRE(img == NULL, "%s: *out not NULL after a failure", what);
    const char *msg = ijepa_last_error();
    REQUIRE(strstr(msg, "ijepa_image_decode()") && strstr(msg, "<memory>"),
            "%s: message '%s' does not name the function and the source", what, msg);
    if (needle)
        REQUIRE(strstr(msg, needle), "%s: message '%s' lacks '%s'", what, msg, needle);
}

static uint8_t pil_luma(const uint8_t *rgb)
{
    return (uint8_t)((19595u * rgb[0] + 38470u * rgb[1] + 7471u * rgb[2] + 0x8000u) >> 16);
}

// --- png -------------------------------------------------------------------------

START_TEST(png_all_types)
{
    static const struct { int ctype, depth; } kinds[] = {
        {PNG_COLOR_TYPE_GRAY, 1},       {PNG_COLOR_TYPE_GRAY, 2},
        {PNG_COLOR_TYPE_GRAY, 4},       {PNG_COLOR_TYPE_GRAY, 8},
        {PNG_COLOR_TYPE_GRAY, 16},      {PNG_COLOR_TYPE_GRAY_ALPHA, 8},
        {PNG_COLOR_TYPE_GRAY_ALPHA, 16}, {PNG_COLOR_TYPE_RGB, 8},
        {PNG_COLOR_TYPE_RGB, 16},       {PNG_COLOR_TYPE_RGB_ALPHA, 8},
        {PNG_COLOR_TYPE_RGB_ALPHA, 16}, {PNG_COLOR_TYPE_PALETTE, 1},
        {PNG_COLOR_TYPE_PALETTE, 2},    {PNG_COLOR_TYPE_PALETTE, 4},
        {PNG_COLOR_TYPE_PALETTE, 8},
    };
    for (size_t k = 0; k < COUNT_OF(kinds); k++)
        for (int interlace = 0; interlace < 2; interlace++) {
            const int w = 37 + (int)k, h = 23 + interlace;
            ref_png p;
            REQUIRE(png_make(&p, kinds[k].ctype, kinds[k].depth, w, h, interlace, 100 + k) == 0,
                    "cannot encode test PNG");
            char what[96];
            snprintf(what, sizeof what, "PNG colour type %d, %d bits%s", kinds[k].ctype,
                     kinds[k].depth, interlace ? ", interlaced" : "");
            if (kinds[k].depth == 16 && interlace) {
                /* documented refusal (libpng's simplified reader gets them wrong) */
                decode_bad(p.data, p.size, NULL, what, "16-bit interlaced");
                ref_png_free(&p);
                continue;
            }
            const int tol = kinds[k].depth == 16 ? 1 : 0;
            for (int64_t ch = 1; ch <= 3; ch += 2) {
                ijepa_image *img = decode_ok(p.data, p.size, ch, what);
                ck_assert_int_eq(ijepa_image_width(img), w);
                ck_assert_int_eq(ijepa_image_height(img), h);
                ck_assert_int_eq(ijepa_image_channels(img), ch);
                ck_assert_int_eq(ijepa_image_format(img), IJEPA_IMAGE_PNG);
                float *px = malloc(sizeof(float) * (size_t)(w * h * ch));
                ck_assert_int_eq(ijepa_image_pixels(img, px), IJEPA_OK);
                int worst = 0;
                for (int64_t i = 0; i < (int64_t)w * h; i++)
                    for (int64_t c = 0; c < ch; c++) {
                        const int want = ch == 3 ? p.rgb[3 * i + c] : pil_luma(p.rgb + 3 * i);
                        const float got = px[c * w * h + i] * 255.0f;
                        const int d = (int)fabsf(got - (float)want + 0.0f);
                        if (fabsf(got - (float)want) > 1e-3f + (float)tol)
                            ck_abort_msg("%s, %lld channels: pixel %lld channel %lld is %g, "
                                         "want %d", what, (long long)ch, (long long)i,
                                         (long long)c, (double)got, want);
                        worst = d > worst ? d : worst;
                    }
                free(px);
                ijepa_image_free(img);
            }
            ref_png_free(&p);
        }
}
END_TEST

/* Gray PNGs keep their exact value in 1-channel mode (luma of R=G=B). */
START_TEST(png_gray_exact)
{
    ref_png p;
    ck_assert_int_eq(png_make(&p, PNG_COLOR_TYPE_GRAY, 8, 64, 16, 0, 7), 0);
    ijepa_image *img = decode_ok(p.data, p.size, 1, "gray PNG");
    float px[64 * 16];
    ijepa_image_pixels(img, px);
    for (int i = 0; i < 64 * 16; i++)
        REQUIRE(px[i] == (float)p.rgb[3 * i] / 255.0f, "pixel %d: %g vs %d", i, (double)px[i],
                p.rgb[3 * i]);
    ijepa_image_free(img);
    ref_png_free(&p);
}
END_TEST

// --- jpeg ------------------------------------------------------------------------

/* TurboJPEG's own RGB decode of a JPEG (interleaved). */
static uint8_t *tj_rgb(const uint8_t *jpg, size_t n, int *w, int *h)
{
    tjhandle tj = tjInitDecompress();
    int ss, cs;
    ck_assert_ptr_nonnull(tj);
    ck_assert_int_eq(tjDecompressHeader3(tj, jpg, n, w, h, &ss, &cs), 0);
    uint8_t *rgb = malloc((size_t)*w * *h * 3);
    ck_assert_int_eq(tjDecompress2(tj, jpg, n, rgb, *w, 0, *h, TJPF_RGB, 0), 0);
    tjDestroy(tj);
    return rgb;
}

static void check_jpeg(const uint8_t *src, int w, int h, int pf, int subsamp, int progressive,
                       int tol, const char *what)
{
    size_t n;
    uint8_t *jpg = jpeg_make(src, w, h, pf, subsamp, 100, progressive, &n);
    ck_assert_ptr_nonnull(jpg);
    int tw, th;
    uint8_t *ref = pf == TJPF_CMYK ? NULL : tj_rgb(jpg, n, &tw, &th);
    for (int64_t ch = 1; ch <= 3; ch += 2) {
        ijepa_image *img = decode_ok(jpg, n, ch, what);
        ck_assert_int_eq(ijepa_image_width(img), w);
        ck_assert_int_eq(ijepa_image_height(img), h);
        ck_assert_int_eq(ijepa_image_format(img), IJEPA_IMAGE_JPEG);
        float *px = malloc(sizeof(float) * (size_t)(w * h * ch));
        ijepa_image_pixels(img, px);
        for (int64_t i = 0; i < (int64_t)w * h; i++) {
            /* what was encoded, as RGB */
            uint8_t want[3];
            if (pf == TJPF_GRAY) {
                want[0] = want[1] = want[2] = src[i];
            } else if (pf == TJPF_CMYK) {
                for (int c = 0; c < 3; c++)
                    want[c] = (uint8_t)((src[4 * i + c] * src[4 * i + 3] + 127) / 255);
            } else {
                memcpy(want, src + 3 * i, 3);
            }
            for (int64_t c = 0; c < ch; c++) {
                const float got = px[c * w * h + i] * 255.0f;
                const float wv = ch == 3 ? want[c] : pil_luma(want);
                if (fabsf(got - wv) > (float)tol + 0.01f)
                    ck_abort_msg("%s, %lld channels: pixel %lld channel %lld is %g, encoded "
                                 "%g (tolerance %d)", what, (long long)ch, (long long)i,
                                 (long long)c, (double)got, (double)wv, tol);
                if (ref) {
                    const float exact = ch == 3 ? ref[3 * i + c] : pil_luma(ref + 3 * i);
                    if (got != exact && fabsf(got - exact) > 1e-3f)
                        ck_abort_msg("%s: pixel %lld channel %lld is %g, TurboJPEG's RGB "
                                     "decode gives %g", what, (long long)i, (long long)c,
                                     (double)got, (double)exact);
                }
            }
        }
        free(px);
        ijepa_image_free(img);
    }
    free(ref);
    free(jpg);
}

START_TEST(jpeg_kinds)
{
    const int w = 48, h = 40;
    uint8_t *rgb = smooth_pixels(w, h, 3, 1);
    uint8_t *gray = smooth_pixels(w, h, 1, 2);
    uint8_t *cmyk = smooth_pixels(w, h, 4, 3);
    check_jpeg(rgb, w, h, TJPF_RGB, TJSAMP_444, 0, 4, "RGB 4:4:4 JPEG");
    check_jpeg(rgb, w, h, TJPF_RGB, TJSAMP_444, 1, 4, "progressive RGB JPEG");
    check_jpeg(rgb, w, h, TJPF_RGB, TJSAMP_420, 0, 12, "RGB 4:2:0 JPEG");
    check_jpeg(gray, w, h, TJPF_GRAY, TJSAMP_GRAY, 0, 2, "grayscale JPEG");
    check_jpeg(cmyk, w, h, TJPF_CMYK, TJSAMP_444, 0, 6, "CMYK JPEG");
    free(rgb);
    free(gray);
    free(cmyk);
}
END_TEST

// --- damaged input ------------------------------------------------------------------

static uint8_t *bytes_dup(const uint8_t *p, size_t n)
{
    uint8_t *q = malloc(n ? n : 1);
    memcpy(q, p, n);
    return q;
}

START_TEST(damaged_png)
{
    ref_png p;
    ck_assert_int_eq(png_make(&p, PNG_COLOR_TYPE_RGB, 8, 40, 30, 0, 9), 0);
    const uint8_t zero = 0;
    decode_bad(&zero, 0, NULL, "zero-length", "no data");
    /* truncations: in the signature, in IHDR, just after it, all through
     * the image data, and every cut in IEND (the last 12 bytes) */
    for (size_t len = 1; len < p.size; len += len < 64 || len + 12 >= p.size ? 1 : 37) {
        char what[96];
        snprintf(what, sizeof what, "PNG truncated to %zu of %zu bytes", len, p.size);
        decode_bad(p.data, len, NULL, what, NULL);
    }
    /* bit flips: signature, IHDR field (CRC mismatch), IDAT data */
    const size_t idat = png_idat_offset(p.data, p.size);
    ck_assert_uint_gt(idat, 0);
    const size_t flips[] = {0, 3, 12, 17, 24, idat, idat + 5, idat + 40};
    for (size_t i = 0; i < COUNT_OF(flips); i++) {
        uint8_t *q = bytes_dup(p.data, p.size);
        q[flips[i]] ^= 0x10;
        char what[64];
        snprintf(what, sizeof what, "PNG with byte %zu flipped", flips[i]);
        decode_bad(q, p.size, NULL, what, NULL);
        free(q);
    }
    /* huge dimensions with a valid CRC: refused before decoding */
    uint8_t *q = bytes_dup(p.data, p.size);
    png_patch_ihdr(q, 100000, 100000);
    decode_bad(q, p.size, NULL, "PNG IHDR 100000x100000", "data_max_pixels");
    png_patch_ihdr(q, 0x7fffffffu, 1);
    decode_bad(q, p.size, NULL, "PNG IHDR 2^31-1 x 1", "data_max_pixels");
    png_patch_ihdr(q, 0, 30);
    decode_bad(q, p.size, NULL, "PNG IHDR width 0", NULL);
    png_patch_ihdr(q, 0x80000000u, 30);
    decode_bad(q, p.size, NULL, "PNG IHDR width 2^31", NULL);
    /* a plausible but wrong size: the data does not match */
    png_patch_ihdr(q, 41, 30);
    decode_bad(q, p.size, NULL, "PNG IHDR one column too wide", NULL);
    free(q);
    /* limits from the config */
    const cfg_int lim_px[] = {{IJEPA_CFG_DATA_MAX_PIXELS, 40 * 30 - 1}};
    ijepa_config *cfg = config_with(lim_px, 1, NULL, 0);
    decode_bad(p.data, p.size, cfg, "PNG one pixel over data_max_pixels", "data_max_pixels");
    ck_assert_int_eq(ijepa_config_set_int(cfg, IJEPA_CFG_DATA_MAX_PIXELS, 40 * 30), IJEPA_OK);
    ijepa_image *img = NULL;
    ck_assert_int_eq(ijepa_image_decode(&img, p.data, (int64_t)p.size, 3, cfg), IJEPA_OK);
    ijepa_image_free(img);
    ck_assert_int_eq(ijepa_config_set_int(cfg, IJEPA_CFG_DATA_MAX_FILE_BYTES, (int64_t)p.size - 1),
                     IJEPA_OK);
    decode_bad(p.data, p.size, cfg, "PNG one byte over data_max_file_bytes",
               "data_max_file_bytes");
    ijepa_config_free(cfg);
    ref_png_free(&p);
}
END_TEST

START_TEST(damaged_jpeg)
{
    const int w = 40, h = 32;
    uint8_t *rgb = smooth_pixels(w, h, 3, 4);
    size_t n;
    uint8_t *jpg = jpeg_make(rgb, w, h, TJPF_RGB, TJSAMP_420, 90, 0, &n);
    ck_assert_ptr_nonnull(jpg);
    /* truncations all through the file (the last two bytes are EOI) */
    for (size_t len = 1; len + 2 < n; len += len < 40 ? 1 : 23) {
        char what[64];
        snprintf(what, sizeof what, "JPEG truncated to %zu of %zu bytes", len, n);
        decode_bad(jpg, len, NULL, what, NULL);
    }
    /* huge and empty SOF dimensions */
    const size_t sof = jpeg_sof_offset(jpg, n);
    ck_assert_uint_gt(sof, 0);
    uint8_t *q = bytes_dup(jpg, n);
    q[sof + 5] = 0xfe, q[sof + 6] = 0x00; /* height 65024 */
    q[sof + 7] = 0xfe, q[sof + 8] = 0x00; /* width 65024 */
    decode_bad(q, n, NULL, "JPEG SOF 65024x65024", "data_max_pixels");
    q[sof + 5] = 0, q[sof + 6] = 0;
    decode_bad(q, n, NULL, "JPEG SOF height 0", NULL);
    free(q);
    /* an unsupported SOF type (lossless, SOF3) and a broken marker */
    q = bytes_dup(jpg, n);
    q[sof + 1] = 0xc3;
    decode_bad(q, n, NULL, "JPEG SOF3 (lossless)", NULL);
    free(q);
    q = bytes_dup(jpg, n);
    q[3] = 0x00; /* FF D8 FF 00: not a marker */
    decode_bad(q, n, NULL, "JPEG with a broken first marker", NULL);
    free(q);
    /* over the pixel limit */
    const cfg_int lim[] = {{IJEPA_CFG_DATA_MAX_PIXELS, w * h - 1}};
    ijepa_config *cfg = config_with(lim, 1, NULL, 0);
    decode_bad(jpg, n, cfg, "JPEG over data_max_pixels", "data_max_pixels");
    ijepa_config_free(cfg);
    /* flips in the entropy-coded data may decode to other pixels (JPEG has
     * no checksum) but must never crash or leak: OK or FORMAT only */
    for (size_t i = n / 2; i + 2 < n; i += 7) {
        q = bytes_dup(jpg, n);
        q[i] ^= 0x5a;
        ijepa_image *img = NULL;
        int rc = ijepa_image_decode(&img, q, (int64_t)n, 3, NULL);
        REQUIRE(rc == IJEPA_OK || rc == IJEPA_ERR_FORMAT, "flip at %zu: status %d", i, rc);
        ijepa_image_free(img);
        free(q);
    }
    free(jpg);
    free(rgb);
}
END_TEST

START_TEST(damaged_other)
{
    static const uint8_t gif[] = "GIF89a\x01\x00\x01\x00\x00\x00\x00;";
    decode_bad(gif, sizeof gif - 1, NULL, "GIF",
               "not a PNG or JPEG file (starts with 47 49 46 38)");
    static const uint8_t bmp[] = "BM";
    /* the bytes it has, no padding shown as if it were the file's */
    decode_bad(bmp, 2, NULL, "two bytes", "not a PNG or JPEG file (starts with 42 4d)");
    static const uint8_t soi[] = {0xff, 0xd8, 0xff};
    decode_bad(soi, 3, NULL, "bare JPEG SOI", NULL);
    static const uint8_t sig[] = {0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a};
    decode_bad(sig, 8, NULL, "bare PNG signature", "truncated");

    ijepa_image *img = NULL;
    expect_err(ijepa_image_decode(NULL, gif, 4, 3, NULL), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), "ijepa_image_decode", "NULL out");
    expect_err(ijepa_image_decode(&img, NULL, 4, 3, NULL), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), "ijepa_image_decode", "NULL data");
    expect_err(ijepa_image_decode(&img, gif, 4, 2, NULL), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), "ijepa_image_decode", "2 channels");
    expect_err(ijepa_image_load(&img, NULL, 3, NULL), IJEPA_ERR_INVALID_ARG, ijepa_last_error(),
               "ijepa_image_load", "NULL path");
    ck_assert_ptr_null(img);

    /* files */
    char dir[] = "/tmp/ijepa-image-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/missing.png", dir);
    expect_err(ijepa_image_load(&img, path, 3, NULL), IJEPA_ERR_IO, ijepa_last_error(),
               "ijepa_image_load", "missing file");
    ck_assert_ptr_nonnull(strstr(ijepa_last_error(), path));
    expect_err(ijepa_image_load(&img, dir, 3, NULL), IJEPA_ERR_IO, ijepa_last_error(),
               "ijepa_image_load", "a directory");
    ck_assert_ptr_nonnull(strstr(ijepa_last_error(), "not a regular file"));
    ref_png p;
    ck_assert_int_eq(png_make(&p, PNG_COLOR_TYPE_RGB, 8, 9, 7, 0, 3), 0);
    snprintf(path, sizeof path, "%s/ok.jpg", dir); /* extension is not trusted */
    FILE *f = fopen(path, "wb");
    ck_assert_uint_eq(fwrite(p.data, 1, p.size, f), p.size);
    fclose(f);
    ck_assert_int_eq(ijepa_image_load(&img, path, 3, NULL), IJEPA_OK);
    ck_assert_int_eq(ijepa_image_format(img), IJEPA_IMAGE_PNG);
    ck_assert_int_eq(ijepa_image_width(img), 9);
    ijepa_image_free(img);
    const cfg_int lim[] = {{IJEPA_CFG_DATA_MAX_FILE_BYTES, (int64_t)p.size - 1}};
    ijepa_config *cfg = config_with(lim, 1, NULL, 0);
    expect_err(ijepa_image_load(&img, path, 3, cfg), IJEPA_ERR_FORMAT, ijepa_last_error(),
               "ijepa_image_load", "file over the size limit");
    ck_assert_ptr_nonnull(strstr(ijepa_last_error(), path));
    ck_assert_ptr_nonnull(strstr(ijepa_last_error(), "data_max_file_bytes"));
    /* truncated file: the error names the path */
    f = fopen(path, "wb");
    ck_assert_uint_eq(fwrite(p.data, 1, p.size / 2, f), p.size / 2);
    fclose(f);
    expect_err(ijepa_image_load(&img, path, 3, NULL), IJEPA_ERR_FORMAT, ijepa_last_error(),
               "ijepa_image_load", "truncated file");
    ck_assert_ptr_nonnull(strstr(ijepa_last_error(), path));
    f = fopen(path, "wb");
    fclose(f);
    expect_err(ijepa_image_load(&img, path, 3, NULL), IJEPA_ERR_FORMAT, ijepa_last_error(),
               "ijepa_image_load", "empty file");
    ijepa_config_free(cfg);
    ref_png_free(&p);
    unlink(path);
    rmdir(dir);
}
END_TEST

// --- hostile files ------------------------------------------------------------------

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ijepa_image_load(path) must fail with IJEPA_ERR_IO naming the path and
 * `kind`, at once: 1 s is a liveness bound (the call takes microseconds),
 * before the fix a FIFO blocked open() forever. */
static void load_refused(const char *path, const char *kind)
{
    ijepa_image *img = NULL;
    const double t0 = now_s();
    const int rc = ijepa_image_load(&img, path, 3, NULL);
    const double dt = now_s() - t0;
    REQUIRE(rc == IJEPA_ERR_IO, "%s: status %d (%s), want IJEPA_ERR_IO", path, rc,
            ijepa_last_error());
    ck_assert_ptr_null(img);
    const char *msg = ijepa_last_error();
    REQUIRE(strstr(msg, "ijepa_image_load()") && strstr(msg, path) && strstr(msg, kind),
            "%s: message '%s' lacks the function, the path or '%s'", path, msg, kind);
    REQUIRE(dt < 1.0, "%s: took %.3f s to fail", path, dt);
}

START_TEST(fifo_and_devices)
{
    char dir[] = "/tmp/ijepa-fifo-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/f.png", dir);
    ck_assert_int_eq(mkfifo(path, 0600), 0);
    load_refused(path, "FIFO");
    /* with a writer waiting on the other end too (a reader would unblock
     * it; none comes): opened read-write here so that neither side blocks */
    const int wfd = open(path, O_RDWR | O_NONBLOCK);
    ck_assert_int_ge(wfd, 0);
    ck_assert_int_eq(write(wfd, "\x89PNG", 4), 4);
    load_refused(path, "FIFO");
    close(wfd);
    unlink(path);
    /* a symbolic link with an image name to a character device */
    snprintf(path, sizeof path, "%s/null.jpg", dir);
    ck_assert_int_eq(symlink("/dev/null", path), 0);
    load_refused(path, "character device");
    unlink(path);
    load_refused("/dev/zero", "character device");
    rmdir(dir);
}
END_TEST

static ijepa_config *scan_budget(int64_t v)
{
    const cfg_int lim[] = {{IJEPA_CFG_DATA_MAX_SCAN_PIXELS, v}};
    return config_with(lim, 1, NULL, 0);
}

/* Decodes (with cfg) to a grey image of w x h, all 128. */
static void decodes_grey(const uint8_t *d, size_t n, const ijepa_config *cfg, int w, int h,
                         const char *what)
{
    ijepa_image *img = NULL;
    const int rc = ijepa_image_decode(&img, d, (int64_t)n, 1, cfg);
    REQUIRE(rc == IJEPA_OK, "%s: decode failed: %s", what, ijepa_last_error());
    ck_assert_int_eq(ijepa_image_width(img), w);
    ck_assert_int_eq(ijepa_image_height(img), h);
    float *px = malloc(sizeof(float) * (size_t)w * (size_t)h);
    ck_assert_int_eq(ijepa_image_pixels(img, px), IJEPA_OK);
    const int64_t bad = first_not(px, (int64_t)w * h, 128.0f / 255.0f);
    REQUIRE(bad < 0, "%s: pixel %lld is %g, want 128", what, (long long)bad,
            bad < 0 ? 0.0 : (double)px[bad] * 255);
    free(px);
    ijepa_image_free(img);
}

START_TEST(jpeg_scan_budget)
{
    /* The bomb of the robustness report: 8192 x 8192, 500 scans, 190 kB.
     * Before data_max_scan_pixels it decoded for 16-23 s (TJFLAG_LIMITSCANS
     * allows 500 scans); now it is refused from its markers. */
    size_t n;
    uint8_t *bomb = jpeg_progressive_scans(8192, 8192, 500, 32767, &n);
    ck_assert_ptr_nonnull(bomb);
    const double t0 = now_s();
    decode_bad(bomb, n, NULL, "8192x8192 JPEG with 500 scans", "data_max_scan_pixels");
    REQUIRE(now_s() - t0 < 1.0, "refusing the bomb took %.3f s", now_s() - t0);
    ck_assert_ptr_nonnull(strstr(ijepa_last_error(), "500 scans"));
    free(bomb);

    /* The same construction small is a valid JPEG: 500 scans of 64 x 64 are
     * cheap and decode (to mid-grey) under the default budget. */
    uint8_t *small = jpeg_progressive_scans(64, 64, 500, 32767, &n);
    decodes_grey(small, n, NULL, 64, 64, "64x64 JPEG with 500 scans");
    free(small);

    /* The boundary is exact: 256 x 256 x 40 one-component scans. */
    uint8_t *j = jpeg_progressive_scans(256, 256, 40, 7, &n);
    ijepa_config *cfg = scan_budget(256 * 256 * 40);
    decodes_grey(j, n, cfg, 256, 256, "at the scan budget");
    ck_assert_int_eq(ijepa_config_set_int(cfg, IJEPA_CFG_DATA_MAX_SCAN_PIXELS, 256 * 256 * 40 - 1),
                     IJEPA_OK);
    decode_bad(j, n, cfg, "one over the scan budget", "data_max_scan_pixels");
    ijepa_config_free(cfg);

    /* TurboJPEG's own progressive RGB file: 10 scans, the two DC scans hold
     * all 3 components, so 14 component passes. */
    const int w = 48, h = 40;
    uint8_t *rgb = smooth_pixels(w, h, 3, 1);
    size_t pn;
    uint8_t *prog = jpeg_make(rgb, w, h, TJPF_RGB, TJSAMP_444, 90, 1, &pn);
    ck_assert_ptr_nonnull(prog);
    cfg = scan_budget(w * h * 14);
    ijepa_image *img = NULL;
    REQUIRE(ijepa_image_decode(&img, prog, (int64_t)pn, 3, cfg) == IJEPA_OK,
            "progressive RGB at its budget: %s", ijepa_last_error());
    ijepa_image_free(img);
    ck_assert_int_eq(ijepa_config_set_int(cfg, IJEPA_CFG_DATA_MAX_SCAN_PIXELS, w * h * 14 - 1),
                     IJEPA_OK);
    decode_bad(prog, pn, cfg, "progressive RGB one under its budget", "10 scans");

    /* Scans are counted as libjpeg meets them: a baseline file (1 scan of 3
     * components) carrying the 64x64 bomb inside an APP1 segment (as EXIF
     * carries thumbnails) still costs 3 passes, not 503. */
    uint8_t *base = jpeg_make(rgb, w, h, TJPF_RGB, TJSAMP_444, 90, 0, &pn);
    small = jpeg_progressive_scans(64, 64, 500, 32767, &n);
    ck_assert_ptr_nonnull(base);
    ck_assert_ptr_nonnull(small);
    ck_assert_uint_lt(n, 65000);
    const size_t an = pn + 4 + n;
    uint8_t *app = malloc(an);
    memcpy(app, base, 2); /* SOI */
    app[2] = 0xff;
    app[3] = 0xe1;
    app[4] = (uint8_t)((n + 2) >> 8);
    app[5] = (uint8_t)(n + 2);
    memcpy(app + 6, small, n);
    memcpy(app + 6 + n, base + 2, pn - 2);
    ck_assert_int_eq(ijepa_config_set_int(cfg, IJEPA_CFG_DATA_MAX_SCAN_PIXELS, w * h * 3),
                     IJEPA_OK);
    REQUIRE(ijepa_image_decode(&img, app, (int64_t)an, 3, cfg) == IJEPA_OK,
            "baseline JPEG with an embedded progressive one: %s", ijepa_last_error());
    ijepa_image_free(img);
    ijepa_config_free(cfg);
    free(app);
    free(small);
    free(base);
    free(prog);
    free(rgb);
    free(j);
}
END_TEST

START_TEST(png_end)
{
    ref_png p;
    ck_assert_int_eq(png_make(&p, PNG_COLOR_TYPE_RGB, 8, 40, 30, 0, 4), 0);
    const size_t iend = png_chunk_offset(p.data, p.size, "IEND");
    ck_assert_uint_eq(iend, p.size - 12);
    /* no IEND at all (the file ends after IDAT): accepted before */
    decode_bad(p.data, iend, NULL, "PNG without IEND", "no IEND");
    /* IEND with a wrong CRC */
    uint8_t *q = bytes_dup(p.data, p.size);
    q[p.size - 1] ^= 1;
    decode_bad(q, p.size, NULL, "IEND with a bad CRC", "CRC");
    free(q);
    /* a damaged ancillary chunk after the image data, which libpng's
     * simplified reader never reads */
    static const uint8_t text[] = "Comment\0after the pixels";
    size_t qn;
    q = png_insert_chunk(p.data, p.size, iend, "tEXt", text, sizeof text - 1, 1, &qn);
    decode_bad(q, qn, NULL, "tEXt with a bad CRC after IDAT", "tEXt");
    free(q);
    /* a gAMA with a bad CRC before the data: libpng would drop it with a
     * warning and decode other pixels than the file describes */
    static const uint8_t gama[4] = {0, 0, 0x3a, 0x98}; /* 0.15 */
    q = png_insert_chunk(p.data, p.size, 33, "gAMA", gama, 4, 1, &qn);
    decode_bad(q, qn, NULL, "gAMA with a bad CRC", "gAMA");
    free(q);
    /* a non-empty IEND, a chunk running past the end, a bad chunk type */
    q = png_insert_chunk(p.data, p.size, iend, "IEND", text, 4, 0, &qn);
    decode_bad(q, qn, NULL, "IEND with data", "IEND");
    free(q);
    q = bytes_dup(p.data, p.size);
    q[iend + 3] = 200;
    decode_bad(q, p.size, NULL, "IEND claiming 200 bytes", "truncated");
    memcpy(q + iend + 3, "\0IE@D", 5);
    decode_bad(q, p.size, NULL, "chunk type with a non-letter", "invalid type");
    free(q);
    /* the same chunks intact are fine, and so are bytes after IEND */
    q = png_insert_chunk(p.data, p.size, iend, "tEXt", text, sizeof text - 1, 0, &qn);
    ijepa_image *img = decode_ok(q, qn, 3, "tEXt after IDAT");
    ijepa_image_free(img);
    free(q);
    q = malloc(p.size + 7);
    memcpy(q, p.data, p.size);
    memcpy(q + p.size, "garbage", 7);
    img = decode_ok(q, p.size + 7, 3, "bytes after IEND");
    ijepa_image_free(img);
    free(q);
    ref_png_free(&p);
}
END_TEST

// --- transforms ------------------------------------------------------------------

/* torchvision RandomResizedCrop.get_params, replayed from its Python source
 * on the library's generator, as image.h documents the draws. */
static uint64_t ref_randint(ijepa__rng *r, uint64_t n)
{
    uint64_t x;
    do
        x = ijepa__rng_u64(r);
    while (x < (0 - n) % n);
    return x % n;
}

static void ref_crop(int64_t H, int64_t W, double s0, double s1, double r0, double r1,
                     uint64_t seed, int64_t box[4])
{
    ijepa__rng r;
    ijepa__rng_seed(&r, seed);
    const double area = (double)H * W;
    for (int i = 0; i < 10; i++) {
        const double u1 = ijepa__rng_uniform(&r), u2 = ijepa__rng_uniform(&r);
        const double ta = area * (s0 + (s1 - s0) * u1);
        const double ar = exp(log(r0) + (log(r1) - log(r0)) * u2);
        const double w = rint(sqrt(ta * ar)), h = rint(sqrt(ta / ar));
        if (0 < w && w <= W && 0 < h && h <= H) {
            box[0] = (int64_t)ref_randint(&r, (uint64_t)(H - (int64_t)h + 1));
            box[1] = (int64_t)ref_randint(&r, (uint64_t)(W - (int64_t)w + 1));
            box[2] = (int64_t)h;
            box[3] = (int64_t)w;
            return;
        }
    }
    const double in_ratio = (double)W / H;
    int64_t w = W, h = H;
    if (in_ratio < r0)
        h = (int64_t)rint(W / r0);
    else if (in_ratio > r1)
        w = (int64_t)rint(H * r1);
    box[0] = (H - h) / 2;
    box[1] = (W - w) / 2;
    box[2] = h;
    box[3] = w;
}

START_TEST(crop_boxes)
{
    ijepa_config *cfg = config_with(NULL, 0, NULL, 0);
    static const int64_t shapes[][2] = {{224, 224}, {480, 640}, {640, 480}, {7, 1000},
                                        {1000, 7}, {1, 1}, {3, 50}, {333, 334}};
    int fallbacks = 0;
    for (size_t k = 0; k < COUNT_OF(shapes); k++)
        for (uint64_t seed = 0; seed < 300; seed++) {
            const int64_t H = shapes[k][0], W = shapes[k][1];
            int64_t got[4], want[4];
            ck_assert_int_eq(ijepa_image_crop_box(H, W, cfg, seed, got), IJEPA_OK);
            ref_crop(H, W, 0.3, 1.0, 0.75, 4.0 / 3.0, seed, want);
            REQUIRE(!memcmp(got, want, sizeof got),
                    "%lldx%lld seed %llu: box %lld %lld %lld %lld, torchvision gives %lld "
                    "%lld %lld %lld", (long long)H, (long long)W, (unsigned long long)seed,
                    (long long)got[0], (long long)got[1], (long long)got[2],
                    (long long)got[3], (long long)want[0], (long long)want[1],
                    (long long)want[2], (long long)want[3]);
            REQUIRE(got[0] >= 0 && got[1] >= 0 && got[2] >= 1 && got[3] >= 1 &&
                        got[0] + got[2] <= H && got[1] + got[3] <= W,
                    "box outside the image");
            if (H == 7 && got[2] == 7 && got[0] == 0)
                fallbacks++;
        }
    ck_assert_int_gt(fallbacks, 0); /* the 7x1000 strip needs the fallback */
    /* the documented 10-attempt/centre rule on a square: every box of the
     * default range keeps 0.3..1 of the area (up to rounding) */
    for (uint64_t seed = 0; seed < 200; seed++) {
        int64_t b[4];
        ijepa_image_crop_box(224, 224, cfg, seed, b);
        const double frac = (double)(b[2] * b[3]) / (224.0 * 224.0);
        REQUIRE(frac > 0.29 && frac <= 1.0, "area fraction %g", frac);
    }
    int64_t b[4];
    expect_err(ijepa_image_crop_box(0, 5, cfg, 0, b), IJEPA_ERR_INVALID_ARG, ijepa_last_error(),
               "ijepa_image_crop_box", "height 0");
    ck_assert_int_eq(ijepa_config_set_float(cfg, IJEPA_CFG_DATA_CROP_SCALE_MIN, 0.9), IJEPA_OK);
    ck_assert_int_eq(ijepa_config_set_float(cfg, IJEPA_CFG_DATA_CROP_SCALE_MAX, 0.5), IJEPA_OK);
    expect_err(ijepa_image_crop_box(5, 5, cfg, 0, b), IJEPA_ERR_INVALID_ARG, ijepa_last_error(),
               "ijepa_image_crop_box", "scale min > max");
    ijepa_config_free(cfg);
}
END_TEST

/*
 * Independent evaluation of PIL's bilinear resize, one output pixel at a
 * time, directly in 2-D and in double: the region (top, left, rh, rw) of
 * src [C, H, W] resized to oh x ow; output pixel (y, x).
 */
static double tri(double x) { x = fabs(x); return x < 1 ? 1 - x : 0; }

static double ref_pixel(const float *src, int64_t W, int64_t H, int64_t c, int64_t top,
                        int64_t left, int64_t rh, int64_t rw, int64_t oh, int64_t ow,
                        int64_t y, int64_t x)
{
    const double sy = (double)rh / oh, sx = (double)rw / ow;
    const double fy = sy > 1 ? sy : 1, fx = sx > 1 ? sx : 1;
    const double cy = (y + 0.5) * sy, cx = (x + 0.5) * sx;
    double num = 0, den = 0;
    for (int64_t i = 0; i < rh; i++) {
        const double wy = tri((i + 0.5 - cy) / fy);
        if (wy == 0)
            continue;
        for (int64_t j = 0; j < rw; j++) {
            const double wx = tri((j + 0.5 - cx) / fx);
            num += wy * wx * src[(c * H + top + i) * W + left + j];
            den += wy * wx;
        }
    }
    return num / den;
}

static ijepa_image *test_image(int w, int h, uint64_t seed)
{
    ref_png p;
    ck_assert_int_eq(png_make(&p, PNG_COLOR_TYPE_RGB, 8, w, h, 0, seed), 0);
    ijepa_image *img = decode_ok(p.data, p.size, 3, "transform input");
    ref_png_free(&p);
    return img;
}

START_TEST(transform_train)
{
    static const int shapes[][2] = {{50, 40}, {17, 60}, {9, 9}, {120, 33}};
    const double mean[3] = {0.485, 0.456, 0.406}, stdv[3] = {0.229, 0.224, 0.225};
    for (size_t k = 0; k < COUNT_OF(shapes); k++)
        for (int64_t S = 8; S <= 32; S += 24) {
            const int w = shapes[k][0], h = shapes[k][1];
            ijepa_image *img = test_image(w, h, 40 + k);
            float *src = malloc(sizeof(float) * (size_t)(3 * w * h));
            ijepa_image_pixels(img, src);
            const cfg_int iv[] = {{IJEPA_CFG_IMG_SIZE, S}};
            ijepa_config *cfg = config_with(iv, 1, NULL, 0);
            float *out = malloc(sizeof(float) * (size_t)(3 * S * S));
            float *out2 = malloc(sizeof(float) * (size_t)(3 * S * S));
            for (uint64_t seed = 0; seed < 4; seed++) {
                int64_t b[4];
                ck_assert_int_eq(ijepa_image_crop_box(h, w, cfg, seed, b), IJEPA_OK);
                ck_assert_int_eq(ijepa_image_transform_train(img, cfg, seed, out), IJEPA_OK);
                ck_assert_int_eq(ijepa_image_transform_train(img, cfg, seed, out2), IJEPA_OK);
                REQUIRE(!memcmp(out, out2, sizeof(float) * (size_t)(3 * S * S)),
                        "train transform is not deterministic");
                double worst = 0;
                for (int64_t c = 0; c < 3; c++)
                    for (int64_t y = 0; y < S; y++)
                        for (int64_t x = 0; x < S; x++) {
                            const double v = ref_pixel(src, w, h, c, b[0], b[1], b[2], b[3], S,
                                                       S, y, x);
                            const double want = (v - mean[c]) / stdv[c];
                            const double d = fabs(out[(c * S + y) * S + x] - want);
                            worst = d > worst ? d : worst;
                        }
                REQUIRE(worst < 2e-5, "%dx%d -> %lld, seed %llu: max deviation %g from the "
                        "double evaluation", w, h, (long long)S, (unsigned long long)seed, worst);
            }
            /* a seed that draws another box gives another output */
            int64_t b3[4], bo[4];
            ijepa_image_crop_box(h, w, cfg, 3, b3);
            uint64_t other = 1000;
            do
                ijepa_image_crop_box(h, w, cfg, ++other, bo);
            while (!memcmp(b3, bo, sizeof b3));
            ijepa_image_transform_train(img, cfg, other, out2);
            ck_assert(memcmp(out, out2, sizeof(float) * (size_t)(3 * S * S)) != 0);
            free(out);
            free(out2);
            free(src);
            ijepa_config_free(cfg);
            ijepa_image_free(img);
        }
}
END_TEST

START_TEST(transform_eval)
{
    static const int shapes[][2] = {{50, 40}, {40, 50}, {16, 16}, {13, 70}};
    for (size_t k = 0; k < COUNT_OF(shapes); k++) {
        const int w = shapes[k][0], h = shapes[k][1];
        ijepa_image *img = test_image(w, h, 70 + k);
        float *src = malloc(sizeof(float) * (size_t)(3 * w * h));
        ijepa_image_pixels(img, src);
        const int64_t S = 14, R = k == 3 ? 20 : 0;
        const cfg_int iv[] = {{IJEPA_CFG_IMG_SIZE, S}, {IJEPA_CFG_DATA_EVAL_RESIZE, R}};
        const cfg_float fv[] = {{IJEPA_CFG_DATA_MEAN_G, 0.25}, {IJEPA_CFG_DATA_STD_B, 2.0}};
        ijepa_config *cfg = config_with(iv, 2, fv, 2);
        const double mean[3] = {0.485, 0.25, 0.406}, stdv[3] = {0.229, 0.224, 2.0};
        float out[3 * 14 * 14];
        ck_assert_int_eq(ijepa_image_transform_eval(img, cfg, out), IJEPA_OK);
        /* torchvision Resize(R) + CenterCrop(S), written out */
        const int64_t r = R ? R : 16; /* round(14 * 8 / 7) */
        const int64_t nh = h <= w ? r : (int64_t)((double)r * h / w);
        const int64_t nw = h <= w ? (int64_t)((double)r * w / h) : r;
        const int64_t oy = (int64_t)rint((nh - S) / 2.0), ox = (int64_t)rint((nw - S) / 2.0);
        double worst = 0;
        for (int64_t c = 0; c < 3; c++)
            for (int64_t y = 0; y < S; y++)
                for (int64_t x = 0; x < S; x++) {
                    const double v = ref_pixel(src, w, h, c, 0, 0, h, w, nh, nw, y + oy, x + ox);
                    const double d = fabs(out[(c * S + y) * S + x] - (v - mean[c]) / stdv[c]);
                    worst = d > worst ? d : worst;
                }
        REQUIRE(worst < 2e-5, "%dx%d: eval transform deviates by %g", w, h, worst);
        /* 16x16 at R 16, S 14: a pure centre crop, resampling is the identity */
        if (w == 16 && h == 16)
            for (int64_t y = 0; y < S; y++)
                REQUIRE(fabs(out[y * S] - (src[(y + 1) * 16 + 1] - 0.485) / 0.229) < 1e-5,
                        "identity resize changed pixel row %lld", (long long)y);
        ijepa_config_free(cfg);
        free(src);
        ijepa_image_free(img);
    }
    /* errors */
    ijepa_image *img = test_image(8, 8, 1);
    const cfg_int iv[] = {{IJEPA_CFG_IMG_SIZE, 16}, {IJEPA_CFG_DATA_EVAL_RESIZE, 15}};
    ijepa_config *cfg = config_with(iv, 2, NULL, 0);
    float out[3 * 16 * 16];
    expect_err(ijepa_image_transform_eval(img, cfg, out), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), "ijepa_image_transform_eval", "resize < img_size");
    expect_err(ijepa_image_transform_train(NULL, cfg, 0, out), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), "ijepa_image_transform_train", "NULL image");
    expect_err(ijepa_image_pixels(img, NULL), IJEPA_ERR_INVALID_ARG, ijepa_last_error(),
               "ijepa_image_pixels", "NULL out");
    ck_assert_int_eq(ijepa_image_width(NULL), 0);
    ck_assert_int_eq(ijepa_image_format(NULL), 0);
    ijepa_image_free(NULL);
    ijepa_config_free(cfg);
    ijepa_image_free(img);
}
END_TEST

/* The data_* keys are registered with the names, types, defaults and bounds
 * config.h documents. */
START_TEST(config_keys)
{
    static const struct {
        const char *name;
        int32_t key, type;
        double def, lo, hi;
    } keys[] = {
        {"data_max_pixels", IJEPA_CFG_DATA_MAX_PIXELS, IJEPA_CFG_TYPE_INT, 67108864, 1, 1099511627776.0},
        {"data_max_file_bytes", IJEPA_CFG_DATA_MAX_FILE_BYTES, IJEPA_CFG_TYPE_INT, 268435456, 1, 1099511627776.0},
        {"data_crop_scale_min", IJEPA_CFG_DATA_CROP_SCALE_MIN, IJEPA_CFG_TYPE_FLOAT, 0.3, 1e-6, 1},
        {"data_crop_scale_max", IJEPA_CFG_DATA_CROP_SCALE_MAX, IJEPA_CFG_TYPE_FLOAT, 1.0, 1e-6, 1},
        {"data_crop_ratio_min", IJEPA_CFG_DATA_CROP_RATIO_MIN, IJEPA_CFG_TYPE_FLOAT, 0.75, 0.01, 100},
        {"data_crop_ratio_max", IJEPA_CFG_DATA_CROP_RATIO_MAX, IJEPA_CFG_TYPE_FLOAT, 4.0 / 3.0, 0.01, 100},
        {"data_mean_r", IJEPA_CFG_DATA_MEAN_R, IJEPA_CFG_TYPE_FLOAT, 0.485, -10, 10},
        {"data_mean_g", IJEPA_CFG_DATA_MEAN_G, IJEPA_CFG_TYPE_FLOAT, 0.456, -10, 10},
        {"data_mean_b", IJEPA_CFG_DATA_MEAN_B, IJEPA_CFG_TYPE_FLOAT, 0.406, -10, 10},
        {"data_std_r", IJEPA_CFG_DATA_STD_R, IJEPA_CFG_TYPE_FLOAT, 0.229, 1e-6, 1000},
        {"data_std_g", IJEPA_CFG_DATA_STD_G, IJEPA_CFG_TYPE_FLOAT, 0.224, 1e-6, 1000},
        {"data_std_b", IJEPA_CFG_DATA_STD_B, IJEPA_CFG_TYPE_FLOAT, 0.225, 1e-6, 1000},
        {"data_transform", IJEPA_CFG_DATA_TRANSFORM, IJEPA_CFG_TYPE_INT, IJEPA_DATA_TRAIN, 0, 1},
        {"data_eval_resize", IJEPA_CFG_DATA_EVAL_RESIZE, IJEPA_CFG_TYPE_INT, 0, 0, 65536},
        {"data_workers", IJEPA_CFG_DATA_WORKERS, IJEPA_CFG_TYPE_INT, 2, 0, 64},
        {"data_prefetch", IJEPA_CFG_DATA_PREFETCH, IJEPA_CFG_TYPE_INT, 2, 1, 64},
        {"data_on_error", IJEPA_CFG_DATA_ON_ERROR, IJEPA_CFG_TYPE_INT, IJEPA_DATA_STOP, 0, 1},
        {"data_shuffle", IJEPA_CFG_DATA_SHUFFLE, IJEPA_CFG_TYPE_INT, 1, 0, 1},
        {"data_max_scan_pixels", IJEPA_CFG_DATA_MAX_SCAN_PIXELS, IJEPA_CFG_TYPE_INT, 2147483648.0, 1, 17592186044416.0},
    };
    ijepa_config *cfg;
    ck_assert_int_eq(ijepa_config_create(&cfg), IJEPA_OK);
    for (size_t i = 0; i < COUNT_OF(keys); i++) {
        int32_t key = -1;
        ck_assert_int_eq(ijepa_config_key_from_name(keys[i].name, &key), IJEPA_OK);
        ck_assert_int_eq(key, keys[i].key);
        ck_assert_int_ge(key, 600);
        ck_assert_int_le(key, 629);
        ck_assert_str_eq(ijepa_config_key_name(key), keys[i].name);
        ck_assert_int_eq(ijepa_config_key_type(key), keys[i].type);
        double lo, hi;
        ck_assert_int_eq(ijepa_config_bounds(key, &lo, &hi), IJEPA_OK);
        ck_assert_msg(lo == keys[i].lo && hi == keys[i].hi, "%s bounds [%g, %g]", keys[i].name,
                      lo, hi);
        if (keys[i].type == IJEPA_CFG_TYPE_INT) {
            int64_t v;
            ck_assert_int_eq(ijepa_config_get_int(cfg, key, &v), IJEPA_OK);
            ck_assert_msg((double)v == keys[i].def, "%s default %lld", keys[i].name, (long long)v);
            ck_assert_int_eq(ijepa_config_set_int(cfg, key, (int64_t)keys[i].hi + 1),
                             IJEPA_ERR_INVALID_ARG);
        } else {
            double v;
            ck_assert_int_eq(ijepa_config_get_float(cfg, key, &v), IJEPA_OK);
            ck_assert_msg(v == keys[i].def, "%s default %g", keys[i].name, v);
            ck_assert_int_eq(ijepa_config_set_float(cfg, key, keys[i].lo - 1.0),
                             IJEPA_ERR_INVALID_ARG);
        }
    }
    ijepa_config_free(cfg);
}
END_TEST

/* ijepa_image_from_pixels(): the samples a decoder would give, wrapped
 * directly, behave exactly as the decoded image in every transform. */
START_TEST(from_pixels)
{
    const char *F = "ijepa_image_from_pixels";
    ref_png p;
    ck_assert_int_eq(png_make(&p, PNG_COLOR_TYPE_RGB, 8, 37, 23, 0, 11), 0);
    const cfg_int iv[] = {{IJEPA_CFG_IMG_SIZE, 16}};
    ijepa_config *cfg = config_with(iv, 1, NULL, 0);
    uint8_t *gray = malloc((size_t)(p.w * p.h));
    for (int i = 0; i < p.w * p.h; i++)
        gray[i] = p.rgb[3 * i];
    for (int64_t ch = 1; ch <= 3; ch += 2) {
        /* the decoder's 1-channel image of an RGB PNG is its luma; wrap that */
        ijepa_image *dec = decode_ok(p.data, p.size, ch, "RGB PNG");
        uint8_t *src = p.rgb;
        if (ch == 1) {
            for (int i = 0; i < p.w * p.h; i++)
                gray[i] = (uint8_t)pil_luma(p.rgb + 3 * i);
            src = gray;
        }
        ijepa_image *raw = NULL;
        ck_assert_int_eq(ijepa_image_from_pixels(&raw, src, p.w, p.h, ch), IJEPA_OK);
        ck_assert_int_eq(ijepa_image_width(raw), p.w);
        ck_assert_int_eq(ijepa_image_height(raw), p.h);
        ck_assert_int_eq(ijepa_image_channels(raw), ch);
        ck_assert_int_eq(ijepa_image_format(raw), IJEPA_IMAGE_RAW);
        const size_t npx = (size_t)(ch * p.w * p.h), nout = (size_t)(ch * 16 * 16);
        float *a = malloc(sizeof(float) * npx), *b = malloc(sizeof(float) * npx);
        ijepa_image_pixels(dec, a);
        ijepa_image_pixels(raw, b);
        REQUIRE(!memcmp(a, b, sizeof(float) * npx), "%lld channels: pixels differ", (long long)ch);
        float *oa = malloc(sizeof(float) * nout), *ob = malloc(sizeof(float) * nout);
        for (uint64_t seed = 0; seed < 3; seed++) {
            ck_assert_int_eq(ijepa_image_transform_train(dec, cfg, seed, oa), IJEPA_OK);
            ck_assert_int_eq(ijepa_image_transform_train(raw, cfg, seed, ob), IJEPA_OK);
            REQUIRE(!memcmp(oa, ob, sizeof(float) * nout), "train transform differs");
        }
        ck_assert_int_eq(ijepa_image_transform_eval(dec, cfg, oa), IJEPA_OK);
        ck_assert_int_eq(ijepa_image_transform_eval(raw, cfg, ob), IJEPA_OK);
        REQUIRE(!memcmp(oa, ob, sizeof(float) * nout), "eval transform differs");
        free(a);
        free(b);
        free(oa);
        free(ob);
        ijepa_image_free(raw);
        ijepa_image_free(dec);
    }
    /* the pixels are copied */
    ijepa_image *raw = NULL;
    ck_assert_int_eq(ijepa_image_from_pixels(&raw, gray, p.w, p.h, 1), IJEPA_OK);
    const uint8_t first = gray[0];
    gray[0] ^= 0xff;
    float *all = malloc(sizeof(float) * (size_t)(p.w * p.h));
    ijepa_image_pixels(raw, all);
    ck_assert(all[0] == (float)first / 255.0f);
    free(all);
    ijepa_image_free(raw);
    /* errors */
    raw = (ijepa_image *)1;
    expect_err(ijepa_image_from_pixels(&raw, NULL, 4, 4, 1), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), F, "NULL pixels");
    ck_assert_ptr_null(raw);
    expect_err(ijepa_image_from_pixels(NULL, gray, 4, 4, 1), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), F, "NULL out");
    expect_err(ijepa_image_from_pixels(&raw, gray, 4, 4, 2), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), F, "2 channels");
    expect_err(ijepa_image_from_pixels(&raw, gray, 0, 4, 1), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), F, "width 0");
    expect_err(ijepa_image_from_pixels(&raw, gray, 4, -1, 1), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), F, "height -1");
    expect_err(ijepa_image_from_pixels(&raw, gray, (int64_t)1 << 31, 1, 1),
               IJEPA_ERR_INVALID_ARG, ijepa_last_error(), F, "width 2^31");
    free(gray);
    ijepa_config_free(cfg);
    ref_png_free(&p);
}
END_TEST

Suite *ijepa_image_suite(void)
{
    Suite *s = suite_create("image");
    TCase *tc = tcase_create("png");
    tcase_set_timeout(tc, IJEPA_TEST_TIMEOUT);
    tcase_add_test(tc, png_all_types);
    tcase_add_test(tc, png_gray_exact);
    suite_add_tcase(s, tc);
    tc = tcase_create("jpeg");
    tcase_set_timeout(tc, IJEPA_TEST_TIMEOUT);
    tcase_add_test(tc, jpeg_kinds);
    suite_add_tcase(s, tc);
    tc = tcase_create("damaged");
    tcase_set_timeout(tc, IJEPA_TEST_TIMEOUT);
    tcase_add_test(tc, damaged_png);
    tcase_add_test(tc, damaged_jpeg);
    tcase_add_test(tc, damaged_other);
    suite_add_tcase(s, tc);
    /* short: a regression here is a hang (before the fix, forever) */
    tc = tcase_create("hostile");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, fifo_and_devices);
    tcase_add_test(tc, jpeg_scan_budget);
    tcase_add_test(tc, png_end);
    suite_add_tcase(s, tc);
    tc = tcase_create("transform");
    tcase_set_timeout(tc, IJEPA_TEST_TIMEOUT);
    tcase_add_test(tc, crop_boxes);
    tcase_add_test(tc, transform_train);
    tcase_add_test(tc, transform_eval);
    tcase_add_test(tc, from_pixels);
    tcase_add_test(tc, config_keys);
    suite_add_tcase(s, tc);
    return s;
}
