/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/* Internal interface of the image decoder and transforms (image.c,
 * transform.c), shared with the dataset (dataset.c). */
#ifndef IJEPA_IMAGE_INTERNAL_H
#define IJEPA_IMAGE_INTERNAL_H

#include "internal.h"
#include "ijepa/image.h"

/* A decoded image: 8-bit samples, interleaved [h, w, c] (the decoders'
 * own layout, so no second buffer is needed). */
struct ijepa_image {
    int64_t w, h, c;
    int format;      /* IJEPA_IMAGE_* */
    uint8_t *px;
};

typedef struct ijepa__limits {
    int64_t max_pixels;
    int64_t max_bytes;
    int64_t max_scan_pixels; /* JPEG: w * h * components summed over scans */
} ijepa__limits;

/* Limits of cfg, or the defaults for NULL. */
void ijepa__limits_from_cfg(ijepa__limits *lim, const ijepa_config *cfg);

/* Read at most lim->max_bytes of the regular file at path into a new malloc()
 * buffer. Failures are recorded in e as "<path>: <cause>". */
int ijepa__read_file(ijepa__err *e, const char *path, const ijepa__limits *lim,
                     uint8_t **buf, int64_t *size);

/* Decode size bytes; src names the source in messages ("<memory>" or a path). */
int ijepa__image_decode(ijepa__err *e, const char *src, const uint8_t *data, int64_t size,
                        int64_t channels, const ijepa__limits *lim, ijepa_image **out);

/* The transform settings of a config (data_* keys, img_size). */
typedef struct ijepa__xform {
    int64_t size;                 /* output side, img_size */
    int mode;                     /* IJEPA_DATA_TRAIN / IJEPA_DATA_EVAL */
    double smin, smax, rmin, rmax;
    double mean[3], std[3];
    int64_t eval_resize;          /* resolved: never 0 */
} ijepa__xform;

/* Read the settings; IJEPA_ERR_INVALID_ARG (recorded in e) if inconsistent. */
int ijepa__xform_from_cfg(ijepa__err *e, ijepa__xform *xf, const ijepa_config *cfg);

/* Apply xf (its mode) to img; seed drives the training crop. Writes
 * img->c * size * size floats to out. Allocates its working memory. */
int ijepa__transform(ijepa__err *e, const ijepa_image *img, const ijepa__xform *xf,
                     int mode, uint64_t seed, float *out);

/* The RandomResizedCrop box {top, left, h, w}. */
void ijepa__crop_box(int64_t h, int64_t w, const ijepa__xform *xf, uint64_t seed,
                     int64_t box[4]);

#endif
