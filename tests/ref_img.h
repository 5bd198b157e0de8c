/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * Test image encoders (libpng's full write API, TurboJPEG's compressor) and
 * the byte-level helpers the robustness tests use to damage files. Used by
 * tests/check_image.c, tests/check_dataset.c and the fuzz seed generator.
 * No Check and no libijepa here.
 */
#ifndef IJEPA_TESTS_REF_IMG_H
#define IJEPA_TESTS_REF_IMG_H

#include <stddef.h>
#include <stdint.h>

/* A PNG made by png_make(): the file and the 8-bit RGB (interleaved, w*h*3)
 * a PIL-like decoder must produce from it (alpha dropped, palette expanded,
 * low bit depths scaled to 0..255, 16-bit samples rounded to v/257). */
typedef struct ref_png {
    uint8_t *data;
    size_t size;
    uint8_t *rgb;
    int w, h;
} ref_png;

/* Random content of colour type ctype (PNG_COLOR_TYPE_*) and bit depth
 * depth, optionally Adam7-interlaced. Returns 0 on success. */
int png_make(ref_png *out, int ctype, int depth, int w, int h, int interlace, uint64_t seed);
void ref_png_free(ref_png *p);

/* Encode pixels (TurboJPEG pixel format pf, w x h, packed rows) as a JPEG.
 * Returns a malloc()ed buffer (free()), NULL on failure. */
uint8_t *jpeg_make(const uint8_t *pix, int w, int h, int pf, int subsamp, int quality,
                   int progressive, size_t *size);

/* CRC-32 of PNG chunks (ISO 3309), over n bytes. */
uint32_t png_crc(const uint8_t *p, size_t n);

/* Rewrite the width and height of a PNG's IHDR, fixing its CRC. */
void png_patch_ihdr(uint8_t *png, uint32_t w, uint32_t h);

/* Offset of the first byte of the first IDAT chunk's data, 0 if none. */
size_t png_idat_offset(const uint8_t *png, size_t size);

/* Offset of the first chunk of this type (its length field), 0 if none. */
size_t png_chunk_offset(const uint8_t *png, size_t size, const char *type);

/* A copy of the PNG with a chunk (type, len bytes of data, a correct CRC
 * or, with bad_crc, a wrong one) inserted at byte `at` (a chunk boundary).
 * malloc()ed, *out_size set; NULL if out of memory. */
uint8_t *png_insert_chunk(const uint8_t *png, size_t size, size_t at, const char *type,
                          const uint8_t *data, uint32_t len, int bad_crc, size_t *out_size);

/* Offset of the SOF0/SOF1/SOF2 marker (FF Cx) of a JPEG, 0 if none. */
size_t jpeg_sof_offset(const uint8_t *jpg, size_t size);

/* A w x h test picture: smooth gradients plus a little noise, 3 bytes per
 * pixel (RGB) or 4 (CMYK) per pf_bytes. malloc()ed. */
uint8_t *smooth_pixels(int w, int h, int pf_bytes, uint64_t seed);

/* A w x h grayscale progressive JPEG (SOF2) of one mid-grey colour made
 * of `scans` scans (1 .. 883): a DC scan, then AC scans holding only
 * end-of-band runs of at most `run` blocks (1 .. 32767), in a legal
 * successive-approximation order. With run 32767 it is small on disk
 * (about w * h / 512 bytes + 70 per scan) but the decoder visits every 8x8
 * block in every scan: the "many scans" decoding bomb; run 1 makes every
 * block of every scan cost a Huffman decode. Returns a malloc()ed buffer
 * (free()), NULL on bad arguments or no memory. */
uint8_t *jpeg_progressive_scans(int w, int h, int scans, int run, size_t *size);

#endif
