/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * libijepa images: PNG and JPEG decoding with limits against hostile input,
 * and the official I-JEPA training transform (RandomResizedCrop + Normalize)
 * and an evaluation transform (resize the shorter side + centre crop).
 *
 * Decoding:
 *   - The format is detected from the first bytes (PNG signature, JPEG SOI
 *     marker FF D8 FF), never from a file name.
 *   - PNG is read with libpng's simplified API, JPEG with TurboJPEG. Every
 *     PNG colour type and bit depth (palette, gray, gray+alpha, RGB, RGBA;
 *     1 to 16 bits) and grayscale, YCbCr and CMYK/YCCK JPEGs are accepted.
 *   - Samples are kept as 8-bit sRGB values, as PIL's Image.convert("RGB")
 *     gives them: alpha is dropped (not composited), 16-bit PNG samples are
 *     reduced to 8 bits (rounded), PNG gamma chunks (gAMA, sRGB, ...) are
 *     honoured by libpng when converting to 8-bit sRGB; CMYK JPEGs are taken
 *     as Adobe (inverted) CMYK, R = C*K/255 (rounded), likewise G and B.
 *   - channels 3 gives R, G, B; channels 1 gives the luma as PIL's
 *     convert("L"): L = (19595 R + 38470 G + 7471 B + 32768) >> 16 (gray
 *     images keep their value exactly).
 *   - Not supported: 16-bit interlaced (Adam7) PNGs, which libpng 1.6's
 *     simplified reader decodes wrongly when reducing them to 8 bits; they
 *     are refused with IJEPA_ERR_FORMAT (8-bit interlaced PNGs are fine).
 *   - Strict: a file libpng or TurboJPEG reports any error or warning for
 *     (bad CRC of a critical chunk, truncated data, corrupt entropy-coded
 *     data, extra scans beyond the scan limit, ...) is refused with
 *     IJEPA_ERR_FORMAT, so a damaged file never becomes a silently wrong
 *     image. A PNG must also end with an IEND chunk and every chunk up to
 *     it must fit in the file, have a valid type and a matching CRC
 *     (checked by libijepa itself, IDAT chunks by libpng: libpng's
 *     simplified reader stops after the image data and only warns about,
 *     and drops, an ancillary chunk with a bad CRC). Bytes after IEND are
 *     ignored (as libpng and PIL do). The image data is zlib-checked.
 *     (JPEG has no checksum: a flipped bit in the entropy-coded data can
 *     decode without any warning.)
 *
 * Limits (config keys, see config.h), all checked before any pixel memory
 * is allocated:
 *   - data_max_file_bytes (default 256 MiB) bounds the bytes read from a
 *     file and the size accepted by ijepa_image_decode().
 *   - data_max_pixels (default 64 Mpixel) bounds width * height, checked
 *     from the header (for PNG on the IHDR chunk itself, then on libpng's
 *     view of it). It bounds memory: our buffers take at most 4 bytes per
 *     pixel (libpng's RGBA output or TurboJPEG's CMYK, compacted in place),
 *     and libjpeg keeps every DCT coefficient of a progressive (or
 *     multi-scan) JPEG, 2 bytes per sample: at most 12 bytes per pixel in
 *     all (4-component 4:4:4), plus the file. Measured at 8192 x 8192:
 *     peak RSS 327 MB (grayscale progressive), 587 MB (RGB 4:4:4
 *     progressive), 782 MB (CMYK progressive). libpng keeps two rows and
 *     caps ancillary chunks at its built-in 8 MB.
 *   - data_max_scan_pixels (default 2^31) bounds the decoding work of a
 *     JPEG: width * height times the components of each scan, summed over
 *     its scans. The decoder visits every block of a scan's components in
 *     every scan, however few bytes the scan has (an end-of-band run codes
 *     32767 empty blocks in 3 bytes), so a 190 kB progressive JPEG of
 *     8192 x 8192 pixels and 500 scans took 13-23 s to decode. The scans
 *     are counted from the file's markers before decoding, as libjpeg
 *     meets them (segments inside others, such as an EXIF thumbnail, do
 *     not count). A baseline JPEG costs 1 (gray) or 3 (colour) times
 *     width * height, TurboJPEG's progressive RGB 14 times (10 scans),
 *     CMYK 24 times, so the default accepts these up to 64 Mpixel. Measured
 *     at the default budget (8192 x 8192, one thread, shared machine):
 *     1.0-1.3 s for 32 scans (the worst case: only empty blocks, or a
 *     Huffman symbol for every block), 0.9 s RGB and 1.7 s CMYK
 *     progressive. TurboJPEG's own limit of 500 scans
 *     (TJFLAG_LIMITSCANS) applies too.
 * Lower data_max_pixels and data_max_scan_pixels to bound memory and time
 * further.
 *
 * Transforms write float [channels, img_size, img_size] planar, normalised:
 * out = (v / 255 - mean[c]) / std[c], with the data_mean_* / data_std_* keys
 * (ImageNet's by default; a 1-channel image uses data_mean_r / data_std_r).
 * Resampling is PIL's bilinear filter, which torchvision uses on PIL images
 * (so the official pipeline): a triangle filter whose support is widened by
 * the scale factor when shrinking (antialiasing), pixel centres at
 * (i + 0.5), weights normalised per output pixel, samples clamped to the
 * resampled region. It is computed in float, without PIL's 8-bit rounding.
 *
 * Errors: a decoding failure names the source ("<path>: ..." for
 * ijepa_image_load(), "<memory>: ..." for ijepa_image_decode()) and the
 * cause, and is readable with ijepa_last_error().
 *
 * Ownership and threading: an image is owned by the caller and freed with
 * ijepa_image_free(); it is immutable, so it may be read from several
 * threads at once. Decoding is thread-safe (no shared state).
 */
#ifndef IJEPA_IMAGE_H
#define IJEPA_IMAGE_H

#include "common.h"
#include "config.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ijepa_image ijepa_image;

/** Values of ijepa_image_format(). */
enum {
    IJEPA_IMAGE_PNG = 1,  /**< decoded from PNG */
    IJEPA_IMAGE_JPEG = 2, /**< decoded from JPEG */
    IJEPA_IMAGE_RAW = 3   /**< wrapped by ijepa_image_from_pixels() */
};

/**
 * Decode a PNG or JPEG image held in memory.
 *
 * @param out       receives the image; set to NULL on failure.
 * @param data      the file's bytes (only read; not referenced after the call).
 * @param size      bytes at data, 1 <= size <= data_max_file_bytes.
 * @param channels  1 (luma) or 3 (RGB).
 * @param cfg       limits (data_max_pixels, data_max_file_bytes,
 *                  data_max_scan_pixels); NULL means the defaults. Only read.
 * @return IJEPA_OK;
 *   IJEPA_ERR_INVALID_ARG if out or data is NULL or channels is not 1 or 3;
 *   IJEPA_ERR_FORMAT if the bytes are empty, too many, not PNG or JPEG, corrupt,
 *   truncated, describe more than data_max_pixels pixels, or (JPEG) more
 *   decoding work than data_max_scan_pixels;
 *   IJEPA_ERR_NOMEM if the pixels cannot be allocated.
 *   The message is in ijepa_last_error().
 */
IJEPA_API int ijepa_image_decode(ijepa_image **out, const void *data, int64_t size,
                                 int64_t channels, const ijepa_config *cfg);

/**
 * Read the file at path (at most data_max_file_bytes bytes) and decode it as
 * ijepa_image_decode() does. Messages start with the path.
 *
 * Only regular files (or symbolic links to them) are read. The path is
 * opened non-blocking and checked with fstat() before anything is read, so
 * a FIFO, a device or a directory fails at once (it never waits for a
 * writer), also when the path is replaced between the check and the open.
 *
 * @return as ijepa_image_decode(), plus IJEPA_ERR_IO if the file cannot be
 *   opened or read, or is not a regular file (the message says what it is:
 *   "a FIFO", "a directory", ...), and IJEPA_ERR_FORMAT if it is larger than
 *   data_max_file_bytes (refused before it is read) or empty.
 */
IJEPA_API int ijepa_image_load(ijepa_image **out, const char *path, int64_t channels,
                               const ijepa_config *cfg);

/**
 * Wrap raw 8-bit samples as an image, so that pixels a host already holds
 * (e.g. a dataset kept in memory, such as Fashion-MNIST's IDX arrays) go
 * through the same transforms as decoded files.
 *
 * @param out       receives the image (format IJEPA_IMAGE_RAW); NULL on failure.
 * @param pixels    width * height * channels bytes, interleaved row-major
 *                  [height, width, channels] (channels 1: gray, 3: R, G, B);
 *                  copied, not referenced after the call.
 * @param width     pixels per row, 1 to 2^31 - 1.
 * @param height    rows, 1 to 2^31 - 1.
 * @param channels  1 or 3.
 * @return IJEPA_OK; IJEPA_ERR_INVALID_ARG for a NULL pointer, a size out of
 *   range or channels not 1 or 3; IJEPA_ERR_NOMEM.
 */
IJEPA_API int ijepa_image_from_pixels(ijepa_image **out, const uint8_t *pixels, int64_t width,
                                      int64_t height, int64_t channels);

/** Free an image. NULL is a no-op. */
IJEPA_API void ijepa_image_free(ijepa_image *img);

/** Width in pixels; 0 for NULL. */
IJEPA_API int64_t ijepa_image_width(const ijepa_image *img);
/** Height in pixels; 0 for NULL. */
IJEPA_API int64_t ijepa_image_height(const ijepa_image *img);
/** Channels (1 or 3, as requested at decoding); 0 for NULL. */
IJEPA_API int64_t ijepa_image_channels(const ijepa_image *img);
/** IJEPA_IMAGE_PNG, IJEPA_IMAGE_JPEG or IJEPA_IMAGE_RAW (the source); 0 for NULL. */
IJEPA_API int ijepa_image_format(const ijepa_image *img);

/**
 * Copy the pixels as float in [0, 1] (8-bit value / 255), planar
 * [channels, height, width] (no normalisation).
 *
 * @param out  caller buffer of channels * height * width floats.
 * @return IJEPA_OK; IJEPA_ERR_INVALID_ARG if img or out is NULL.
 */
IJEPA_API int ijepa_image_pixels(const ijepa_image *img, float *out);

/**
 * The crop box torchvision's RandomResizedCrop.get_params draws for an image
 * of height x width, with scale (data_crop_scale_min, data_crop_scale_max)
 * and ratio (data_crop_ratio_min, data_crop_ratio_max), from the library's
 * random generator seeded with `seed`:
 *
 *   up to 10 attempts: s = smin + (smax - smin) * u1,
 *     r = exp(log(rmin) + (log(rmax) - log(rmin)) * u2),
 *     w = round(sqrt(H*W*s*r)), h = round(sqrt(H*W*s/r)) (half to even);
 *     if 0 < w <= W and 0 < h <= H: top = randint(H - h + 1),
 *     left = randint(W - w + 1), done.
 *   otherwise the centre crop of the whole image clamped to the ratio range.
 *
 * u1, u2 are successive uniform doubles of the generator; randint(n) draws
 * 64-bit words until one is >= 2^64 mod n and takes it modulo n.
 *
 * @param box  out: {top, left, h, w}.
 * @return IJEPA_OK; IJEPA_ERR_INVALID_ARG if cfg or box is NULL, height or
 *   width < 1, or a *_min key exceeds its *_max.
 */
IJEPA_API int ijepa_image_crop_box(int64_t height, int64_t width, const ijepa_config *cfg,
                                   uint64_t seed, int64_t box[4]);

/**
 * The official training transform: RandomResizedCrop with the box of
 * ijepa_image_crop_box(height, width, cfg, seed), bilinear resize to
 * img_size x img_size, then normalisation. Deterministic in (image, cfg, seed).
 *
 * @param out  caller buffer of channels * img_size * img_size floats.
 * @return IJEPA_OK; IJEPA_ERR_INVALID_ARG if a pointer is NULL or the crop
 *   keys are inconsistent; IJEPA_ERR_NOMEM if the working memory cannot be
 *   allocated. Nothing is written on failure.
 */
IJEPA_API int ijepa_image_transform_train(const ijepa_image *img, const ijepa_config *cfg,
                                          uint64_t seed, float *out);

/**
 * The evaluation transform: resize so that the shorter side is R pixels (the
 * longer one int(R * long / short), as torchvision's Resize(R)), then the
 * centre img_size x img_size crop (offsets round((side - img_size) / 2), half
 * to even), then normalisation. R is data_eval_resize, or when that is 0,
 * round(img_size * 8 / 7) (256 for 224).
 *
 * @param out  caller buffer of channels * img_size * img_size floats.
 * @return IJEPA_OK; IJEPA_ERR_INVALID_ARG if a pointer is NULL or R <
 *   img_size; IJEPA_ERR_NOMEM. Nothing is written on failure.
 */
IJEPA_API int ijepa_image_transform_eval(const ijepa_image *img, const ijepa_config *cfg,
                                         float *out);

#ifdef __cplusplus
}
#endif

#endif /* IJEPA_IMAGE_H */
