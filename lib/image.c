/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * Implements: PNG (libpng simplified API) and JPEG (TurboJPEG 2.1 API)
 * decoding to 8-bit planar RGB or luma, with size limits checked before any
 * pixel memory is allocated (image.h).
 *
 * Neither decoder can abort the process here: the simplified libpng API
 * catches libpng's longjmp internally and reports through png_image.message;
 * TurboJPEG installs its own libjpeg error manager that returns -1. The raw
 * libjpeg API, whose default error handler ends the process, is never used.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <png.h>
#include <turbojpeg.h>
#include <zlib.h>

#include "config_internal.h"
#include "image_internal.h"

static const uint8_t PNG_SIG[8] = {0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a};

void ijepa__limits_from_cfg(ijepa__limits *lim, const ijepa_config *cfg)
{
    if (cfg) {
        lim->max_pixels = ijepa__cfg_int(cfg, IJEPA_CFG_DATA_MAX_PIXELS);
        lim->max_bytes = ijepa__cfg_int(cfg, IJEPA_CFG_DATA_MAX_FILE_BYTES);
        lim->max_scan_pixels = ijepa__cfg_int(cfg, IJEPA_CFG_DATA_MAX_SCAN_PIXELS);
    } else {
        lim->max_pixels = (int64_t)1 << 26;
        lim->max_bytes = (int64_t)1 << 28;
        lim->max_scan_pixels = (int64_t)1 << 31;
    }
}

// --- files ---------------------------------------------------------------------

static const char *kind_of(mode_t m)
{
    return S_ISDIR(m)    ? "a directory"
           : S_ISFIFO(m) ? "a FIFO"
           : S_ISCHR(m)  ? "a character device"
           : S_ISBLK(m)  ? "a block device"
           : S_ISSOCK(m) ? "a socket"
                         : "not a regular file";
}

int ijepa__read_file(ijepa__err *e, const char *path, const ijepa__limits *lim,
                     uint8_t **buf, int64_t *size)
{
    *buf = NULL;
    *size = 0;
    /* Only regular files are read. stat() first, so that a device is not
     * even opened (opening some has side effects); then the open is
     * non-blocking, so that a FIFO or device put there in the meantime
     * cannot make open() wait for a writer or a carrier (O_NOCTTY: nor
     * become our terminal), and fstat() on what was opened decides before
     * the first read. A read of a regular file ignores O_NONBLOCK. */
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
        return ijepa__fail(e, IJEPA_ERR_IO, "%s: not a regular file (%s)", path,
                           kind_of(st.st_mode));
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0)
        return ijepa__fail(e, IJEPA_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    if (fstat(fd, &st) != 0) {
        int err = errno;
        close(fd);
        return ijepa__fail(e, IJEPA_ERR_IO, "%s: cannot stat: %s", path, strerror(err));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return ijepa__fail(e, IJEPA_ERR_IO, "%s: not a regular file (%s)", path,
                           kind_of(st.st_mode));
    }
    if (st.st_size == 0) {
        close(fd);
        return ijepa__fail(e, IJEPA_ERR_FORMAT, "%s: empty file", path);
    }
    if ((int64_t)st.st_size > lim->max_bytes) {
        close(fd);
        return ijepa__fail(e, IJEPA_ERR_FORMAT,
                           "%s: file of %lld bytes exceeds data_max_file_bytes %lld", path,
                           (long long)st.st_size, (long long)lim->max_bytes);
    }
    const size_t n = (size_t)st.st_size;
    uint8_t *b = malloc(n);
    if (!b) {
        close(fd);
        return ijepa__fail(e, IJEPA_ERR_NOMEM, "%s: cannot allocate %zu bytes", path, n);
    }
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, b + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int err = errno;
            free(b);
            close(fd);
            return ijepa__fail(e, IJEPA_ERR_IO, "%s: read failed: %s", path, strerror(err));
        }
        if (r == 0)
            break; /* the file shrank: decode what is there (the decoder will judge) */
        got += (size_t)r;
    }
    close(fd);
    if (got == 0) {
        free(b);
        return ijepa__fail(e, IJEPA_ERR_FORMAT, "%s: empty file", path);
    }
    *buf = b;
    *size = (int64_t)got;
    return IJEPA_OK;
}

// --- common --------------------------------------------------------------------

static int check_dims(ijepa__err *e, const char *src, const char *fmt, int64_t w, int64_t h,
                      const ijepa__limits *lim)
{
    if (w < 1 || h < 1)
        return ijepa__fail(e, IJEPA_ERR_FORMAT, "%s: %s header has size %lldx%lld", src, fmt,
                           (long long)w, (long long)h);
    /* w, h < 2^31: no overflow */
    if (w * h > lim->max_pixels)
        return ijepa__fail(e, IJEPA_ERR_FORMAT,
                           "%s: %s image of %lldx%lld pixels exceeds data_max_pixels %lld", src,
                           fmt, (long long)w, (long long)h, (long long)lim->max_pixels);
    return IJEPA_OK;
}

static inline uint8_t luma(unsigned r, unsigned g, unsigned b)
{
    return (uint8_t)((19595u * r + 38470u * g + 7471u * b + 0x8000u) >> 16);
}

/* Pixels of `stride` bytes (R, G, B first) to `channels` bytes (RGB or
 * luma), in place: pixel i moves from i * stride to i * channels <= it. */
static void compact(uint8_t *buf, int64_t npx, int stride, int64_t channels)
{
    const uint8_t *src = buf;
    if (channels == 3) {
        for (int64_t i = 0; i < npx; i++, src += stride) {
            const uint8_t r = src[0], g = src[1], b = src[2];
            buf[3 * i] = r;
            buf[3 * i + 1] = g;
            buf[3 * i + 2] = b;
        }
    } else {
        for (int64_t i = 0; i < npx; i++, src += stride)
            buf[i] = luma(src[0], src[1], src[2]);
    }
}

/* Wrap buf (npx pixels of `stride` bytes) as an image of `channels`; takes
 * ownership of buf in every case. NULL only if the handle cannot be
 * allocated (buf is then freed). */
static ijepa_image *wrap_image(uint8_t *buf, int stride, int64_t w, int64_t h, int64_t channels,
                               int format)
{
    ijepa_image *img = calloc(1, sizeof *img);
    if (!img) {
        free(buf);
        return NULL;
    }
    compact(buf, w * h, stride, channels);
    uint8_t *shrunk = realloc(buf, (size_t)(w * h * channels));
    img->px = shrunk ? shrunk : buf;
    img->w = w;
    img->h = h;
    img->c = channels;
    img->format = format;
    return img;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

// --- PNG -----------------------------------------------------------------------

/* Walk the chunks from IHDR to IEND: each must fit in the file and have a
 * valid type, every chunk but IDAT a matching CRC, and IEND (empty) must
 * come. libpng's simplified reader stops after the image data, so without
 * this a file cut after its last IDAT, or with damaged chunks after it,
 * would be accepted; and libpng only warns about (and drops) an ancillary
 * chunk with a bad CRC, such as a gAMA that changes the decoded pixels.
 * IDAT CRCs are left to libpng, which fails on them (they are most of the
 * file: summing them twice would add ~20% to decoding an incompressible
 * image). Bytes after IEND are ignored, as libpng and PIL do. */
static int png_check_chunks(ijepa__err *e, const char *src, const uint8_t *d, int64_t n)
{
    int64_t i = 8;
    const uint8_t *last = d + 12; /* IHDR's type (decode_png checked it) */
    for (;;) {
        if (n - i < 12)
            return ijepa__fail(e, IJEPA_ERR_FORMAT,
                               "%s: PNG has no IEND chunk (truncated after %.4s, %lld bytes "
                               "left)", src, (const char *)last, (long long)(n - i));
        const uint32_t len = be32(d + i);
        const uint8_t *type = d + i + 4;
        for (int k = 0; k < 4; k++)
            if (!((type[k] >= 'A' && type[k] <= 'Z') || (type[k] >= 'a' && type[k] <= 'z')))
                return ijepa__fail(e, IJEPA_ERR_FORMAT,
                                   "%s: PNG chunk at byte %lld has an invalid type", src,
                                   (long long)i);
        if (len > 0x7fffffffu || (int64_t)len > n - i - 12)
            return ijepa__fail(e, IJEPA_ERR_FORMAT,
                               "%s: PNG truncated: chunk %.4s at byte %lld has %lu bytes, the "
                               "file only %lld more", src, (const char *)type, (long long)i,
                               (unsigned long)len, (long long)(n - i - 12));
        if (memcmp(type, "IDAT", 4) != 0 &&
            crc32(crc32(0L, Z_NULL, 0), type, (uInt)len + 4) != be32(d + i + 8 + len))
            return ijepa__fail(e, IJEPA_ERR_FORMAT, "%s: PNG chunk %.4s at byte %lld: CRC error",
                               src, (const char *)type, (long long)i);
        if (!memcmp(type, "IEND", 4)) {
            if (len != 0)
                return ijepa__fail(e, IJEPA_ERR_FORMAT, "%s: PNG IEND chunk is not empty", src);
            return IJEPA_OK;
        }
        i += 12 + (int64_t)len;
        last = type;
    }
}

static int decode_png(ijepa__err *e, const char *src, const uint8_t *data, int64_t size,
                      int64_t channels, const ijepa__limits *lim, ijepa_image **out)
{
    /* Our own look at IHDR first: refuse absurd sizes before libpng reads
     * further (the simplified API has no png_set_user_limits). */
    if (size < 33)
        return ijepa__fail(e, IJEPA_ERR_FORMAT, "%s: PNG truncated in its header (%lld bytes)",
                           src, (long long)size);
    if (be32(data + 8) != 13 || memcmp(data + 12, "IHDR", 4) != 0)
        return ijepa__fail(e, IJEPA_ERR_FORMAT, "%s: PNG does not start with an IHDR chunk", src);
    const int64_t hw = be32(data + 16), hh = be32(data + 20);
    if (hw > 0x7fffffff || hh > 0x7fffffff)
        return ijepa__fail(e, IJEPA_ERR_FORMAT, "%s: PNG IHDR size %lldx%lld is out of range",
                           src, (long long)hw, (long long)hh);
    int rc = check_dims(e, src, "PNG", hw, hh, lim);
    if (rc < 0)
        return rc;
    if ((rc = png_check_chunks(e, src, data, size)) < 0)
        return rc;
    /* libpng 1.6.39's simplified reader garbles 16-bit Adam7 images when it
     * reduces them to 8 bits (tests/check_image.c shows it): refuse them
     * rather than return wrong pixels. */
    if (data[24] == 16 && data[28] != 0)
        return ijepa__fail(e, IJEPA_ERR_FORMAT,
                           "%s: 16-bit interlaced PNG is not supported (libpng's simplified "
                           "reader decodes it wrongly); save it non-interlaced or 8-bit", src);

    png_image im;
    memset(&im, 0, sizeof im);
    im.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(&im, data, (size_t)size)) {
        rc = ijepa__fail(e, IJEPA_ERR_FORMAT, "%s: PNG: %s", src, im.message);
        png_image_free(&im);
        return rc;
    }
    /* libpng's view must agree with ours (it does unless libpng changes) */
    rc = check_dims(e, src, "PNG", (int64_t)im.width, (int64_t)im.height, lim);
    if (rc == IJEPA_OK && (int64_t)im.width > INT32_MAX / 4)
        rc = ijepa__fail(e, IJEPA_ERR_FORMAT, "%s: PNG width %lld is too large", src,
                         (long long)im.width);
    if (rc < 0) {
        png_image_free(&im);
        return rc;
    }
    const int64_t w = im.width, h = im.height;
    /* 8-bit RGBA output: alpha is dropped below (as PIL's convert("RGB")),
     * 16-bit samples are taken as sRGB-encoded and reduced to 8 bits. */
    im.format = PNG_FORMAT_RGBA;
    im.flags |= PNG_IMAGE_FLAG_16BIT_sRGB;
    uint8_t *rgba = malloc((size_t)PNG_IMAGE_SIZE(im));
    if (!rgba) {
        png_image_free(&im);
        return ijepa__fail(e, IJEPA_ERR_NOMEM, "%s: cannot allocate a %lldx%lld image", src,
                           (long long)w, (long long)h);
    }
    if (!png_image_finish_read(&im, NULL, rgba, 0, NULL)) {
        rc = ijepa__fail(e, IJEPA_ERR_FORMAT, "%s: PNG: %s", src, im.message);
        png_image_free(&im);
        free(rgba);
        return rc;
    }
    png_image_free(&im);
    *out = wrap_image(rgba, 4, w, h, channels, IJEPA_IMAGE_PNG);
    if (!*out)
        return ijepa__fail(e, IJEPA_ERR_NOMEM, "%s: cannot allocate the image", src);
    return IJEPA_OK;
}

// --- JPEG ----------------------------------------------------------------------

/* The scans (SOS segments) of a JPEG and the components summed over them,
 * found by walking its markers the way libjpeg reads them: segments are
 * skipped by their length, the entropy-coded data after an SOS runs up to
 * the next marker that is not a stuffed zero (FF 00), a fill byte (FF FF)
 * or a restart marker, and the walk ends at EOI. libjpeg consumes exactly a
 * segment's length or fails, and ends a scan's data at the same markers, so
 * a file that TurboJPEG decodes without any warning (TJFLAG_STOPONWARNING)
 * has exactly these scans. Stray bytes between segments are skipped up to
 * the next 0xFF, as libjpeg does (with a warning, which fails the decode
 * anyway). O(size), no allocation; both counts are <= size. */
static void jpeg_count_scans(const uint8_t *d, int64_t n, int64_t *scans, int64_t *comps)
{
    int64_t i = 2; /* after SOI */
    *scans = *comps = 0;
    while (i < n) {
        while (i < n && d[i] != 0xff)
            i++;
        while (i < n && d[i] == 0xff)
            i++;
        if (i >= n)
            break;
        const uint8_t m = d[i++];
        if (m == 0xd9) /* EOI */
            break;
        if (m == 0x00 || m == 0x01 || (m >= 0xd0 && m <= 0xd8))
            continue; /* stuffed zero, TEM, RSTn, SOI: no length */
        if (i + 2 > n)
            break;
        const int64_t len = (int64_t)d[i] << 8 | d[i + 1];
        if (m == 0xda) {
            ++*scans;
            *comps += i + 2 < n && d[i + 2] ? d[i + 2] : 1; /* Ns (libjpeg refuses 0) */
        }
        if (len < 2)
            break; /* libjpeg fails on it */
        i += len;
        if (m != 0xda)
            continue;
        /* the scan's entropy-coded data */
        while (i + 1 < n) {
            if (d[i] == 0xff &&
                !(d[i + 1] == 0x00 || d[i + 1] == 0xff || (d[i + 1] >= 0xd0 && d[i + 1] <= 0xd7)))
                break;
            i += d[i] == 0xff && d[i + 1] != 0xff ? 2 : 1;
        }
    }
}

static int decode_jpeg(ijepa__err *e, const char *src, const uint8_t *data, int64_t size,
                       int64_t channels, const ijepa__limits *lim, ijepa_image **out)
{
    if ((uint64_t)size > (uint64_t)ULONG_MAX)
        return ijepa__fail(e, IJEPA_ERR_FORMAT, "%s: JPEG too large", src);
    tjhandle tj = tjInitDecompress();
    if (!tj)
        return ijepa__fail(e, IJEPA_ERR_NOMEM, "%s: cannot create a TurboJPEG decompressor: %s",
                           src, tjGetErrorStr2(NULL));
    int w = 0, h = 0, subsamp = 0, cs = 0, rc;
    if (tjDecompressHeader3(tj, data, (unsigned long)size, &w, &h, &subsamp, &cs) != 0) {
        rc = ijepa__fail(e, IJEPA_ERR_FORMAT, "%s: JPEG: %s", src, tjGetErrorStr2(tj));
        tjDestroy(tj);
        return rc;
    }
    rc = check_dims(e, src, "JPEG", w, h, lim);
    if (rc < 0) {
        tjDestroy(tj);
        return rc;
    }
    /* The decoder visits every block of a scan's components in every scan
     * (a progressive JPEG keeps all coefficients and revisits them), however
     * few bytes the scan has: bound that work, w * h per component per scan
     * (an upper bound for subsampled components), before decoding. */
    const int64_t npx = (int64_t)w * h;
    int64_t scans, comps;
    jpeg_count_scans(data, size, &scans, &comps);
    if (comps > lim->max_scan_pixels / npx) {
        tjDestroy(tj);
        return ijepa__fail(e, IJEPA_ERR_FORMAT,
                           "%s: JPEG of %dx%d pixels in %lld scan%s decodes %lld components "
                           "in all; data_max_scan_pixels %lld allows %lld", src, w, h,
                           (long long)scans, scans == 1 ? "" : "s", (long long)comps,
                           (long long)lim->max_scan_pixels,
                           (long long)(lim->max_scan_pixels / npx));
    }
    const int cmyk = cs == TJCS_CMYK || cs == TJCS_YCCK;
    const int pf = cmyk ? TJPF_CMYK : TJPF_RGB;
    const int ps = tjPixelSize[pf];
    uint8_t *buf = malloc((size_t)(npx * ps));
    if (!buf) {
        tjDestroy(tj);
        return ijepa__fail(e, IJEPA_ERR_NOMEM, "%s: cannot allocate a %dx%d image", src, w, h);
    }
    /* Warnings (corrupt data the decoder would paper over) are errors. */
    const int flags = TJFLAG_LIMITSCANS | TJFLAG_STOPONWARNING;
    if (tjDecompress2(tj, data, (unsigned long)size, buf, w, 0, h, pf, flags) != 0) {
        rc = ijepa__fail(e, IJEPA_ERR_FORMAT, "%s: JPEG%s: %s", src,
                         tjGetErrorCode(tj) == TJERR_WARNING ? " (corrupt data)" : "",
                         tjGetErrorStr2(tj));
        tjDestroy(tj);
        free(buf);
        return rc;
    }
    tjDestroy(tj);
    if (cmyk) {
        /* Adobe (inverted) CMYK: R = C*K/255, rounded; in place to RGB. */
        for (int64_t i = 0; i < npx; i++) {
            const unsigned k = buf[4 * i + 3];
            for (int j = 0; j < 3; j++)
                buf[4 * i + j] = (uint8_t)((buf[4 * i + j] * k + 127) / 255);
        }
    }
    *out = wrap_image(buf, ps, w, h, channels, IJEPA_IMAGE_JPEG);
    if (!*out)
        return ijepa__fail(e, IJEPA_ERR_NOMEM, "%s: cannot allocate the image", src);
    return IJEPA_OK;
}

// --- dispatch ------------------------------------------------------------------

int ijepa__image_decode(ijepa__err *e, const char *src, const uint8_t *data, int64_t size,
                        int64_t channels, const ijepa__limits *lim, ijepa_image **out)
{
    *out = NULL;
    if (size <= 0)
        return ijepa__fail(e, IJEPA_ERR_FORMAT, "%s: no data (%lld bytes)", src, (long long)size);
    if (size > lim->max_bytes)
        return ijepa__fail(e, IJEPA_ERR_FORMAT, "%s: %lld bytes exceed data_max_file_bytes %lld",
                           src, (long long)size, (long long)lim->max_bytes);
    if (size >= 8 && memcmp(data, PNG_SIG, 8) == 0)
        return decode_png(e, src, data, size, channels, lim, out);
    if (size >= 3 && data[0] == 0xff && data[1] == 0xd8 && data[2] == 0xff)
        return decode_jpeg(e, src, data, size, channels, lim, out);
    char head[16] = ""; /* its first bytes, as many as it has up to 4: "47 49 46 38" */
    size_t o = 0;
    for (int64_t i = 0; i < size && i < 4; i++)
        o += (size_t)snprintf(head + o, sizeof head - o, "%s%02x", i ? " " : "", data[i]);
    return ijepa__fail(e, IJEPA_ERR_FORMAT, "%s: not a PNG or JPEG file (starts with %s)", src,
                       head);
}

// --- public API ----------------------------------------------------------------

int ijepa_image_decode(ijepa_image **out, const void *data, int64_t size, int64_t channels,
                       const ijepa_config *cfg)
{
    if (!out)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "out is NULL");
    *out = NULL;
    if (!data)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "data is NULL");
    if (channels != 1 && channels != 3)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "channels %lld is not 1 or 3",
                                (long long)channels);
    ijepa__err e = {__func__};
    ijepa__limits lim;
    ijepa__limits_from_cfg(&lim, cfg);
    return ijepa__image_decode(&e, "<memory>", data, size, channels, &lim, out);
}

int ijepa_image_load(ijepa_image **out, const char *path, int64_t channels,
                     const ijepa_config *cfg)
{
    if (!out)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "out is NULL");
    *out = NULL;
    if (!path)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "path is NULL");
    if (channels != 1 && channels != 3)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "%s: channels %lld is not 1 or 3",
                                path, (long long)channels);
    ijepa__err e = {__func__};
    ijepa__limits lim;
    ijepa__limits_from_cfg(&lim, cfg);
    uint8_t *buf;
    int64_t size;
    int rc = ijepa__read_file(&e, path, &lim, &buf, &size);
    if (rc < 0)
        return rc;
    rc = ijepa__image_decode(&e, path, buf, size, channels, &lim, out);
    free(buf);
    return rc;
}

void ijepa_image_free(ijepa_image *img)
{
    if (!img)
        return;
    free(img->px);
    free(img);
}

int64_t ijepa_image_width(const ijepa_image *img) { return img ? img->w : 0; }
int64_t ijepa_image_height(const ijepa_image *img) { return img ? img->h : 0; }
int64_t ijepa_image_channels(const ijepa_image *img) { return img ? img->c : 0; }
int ijepa_image_format(const ijepa_image *img) { return img ? img->format : 0; }

int ijepa_image_from_pixels(ijepa_image **out, const uint8_t *pixels, int64_t width,
                            int64_t height, int64_t channels)
{
    if (!out)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "out is NULL");
    *out = NULL;
    if (!pixels)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "pixels is NULL");
    if (channels != 1 && channels != 3)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "channels %lld is not 1 or 3",
                                (long long)channels);
    /* 2^31 per side keeps width * height * channels far inside int64 */
    if (width < 1 || height < 1 || width > INT32_MAX || height > INT32_MAX)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "image size %lldx%lld",
                                (long long)width, (long long)height);
    const uint64_t bytes = (uint64_t)width * (uint64_t)height * (uint64_t)channels;
    ijepa_image *img = calloc(1, sizeof *img);
    uint8_t *px = bytes <= SIZE_MAX ? malloc((size_t)bytes) : NULL;
    if (!img || !px) {
        free(img);
        free(px);
        return ijepa__fail_func(__func__, IJEPA_ERR_NOMEM, "cannot allocate %llu bytes",
                                (unsigned long long)bytes);
    }
    memcpy(px, pixels, (size_t)bytes);
    *img = (ijepa_image){width, height, channels, IJEPA_IMAGE_RAW, px};
    *out = img;
    return IJEPA_OK;
}

int ijepa_image_pixels(const ijepa_image *img, float *out)
{
    if (!img || !out)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "image and out must not be NULL");
    const int64_t npx = img->w * img->h, C = img->c;
    for (int64_t c = 0; c < C; c++)
        for (int64_t i = 0; i < npx; i++)
            out[c * npx + i] = (float)img->px[i * C + c] / 255.0f;
    return IJEPA_OK;
}
