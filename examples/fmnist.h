/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * Fashion-MNIST for the example programs: the gzipped IDX files as Debian's
 * dataset-fashion-mnist ships them, and its images through the library's
 * transforms (ijepa_image_from_pixels(), then the training or evaluation
 * transform of a config: crop, resize and normalisation are the library's,
 * with the data_* keys the "fmnist" presets set).
 */
#ifndef IJEPA_EXAMPLES_FMNIST_H
#define IJEPA_EXAMPLES_FMNIST_H

#include <stddef.h>
#include <stdint.h>

#include <ijepa/ijepa.h>

#include "linprobe.h"

/* Where Debian's dataset-fashion-mnist puts the files. */
#define FMNIST_DEFAULT_DIR "/usr/share/datasets/fashion-mnist"

/* The default Fashion-MNIST directory of the programs: the environment
 * variable IJEPA_FMNIST_DIR if it is set and not empty, else
 * FMNIST_DEFAULT_DIR. (The tests point it elsewhere to run as on a machine
 * without the dataset.) */
const char *fmnist_default_dir(void);

/* The --help line of the programs' --fmnist option. */
#define FMNIST_HELP \
    "  --fmnist DIR     Fashion-MNIST's IDX files in DIR (default $IJEPA_FMNIST_DIR, or\n" \
    "                   " FMNIST_DEFAULT_DIR ": Debian's dataset-fashion-mnist)\n"

typedef struct fmnist {
    int64_t n;          /* images */
    int64_t rows, cols; /* 28 x 28 */
    uint8_t *pixels;    /* [n, rows, cols] */
    uint8_t *labels;    /* [n], 0..9 */
} fmnist;

/* Load split "train" or "t10k" from dir. Returns 0, or -1 with err set. */
int fmnist_load(fmnist *ds, const char *dir, const char *split, char *err, size_t errlen);
void fmnist_free(fmnist *ds);

/* fmnist_load(), or exit with status 1, the reason and what to do: when
 * dir is the one $IJEPA_FMNIST_DIR names, that the variable chose it;
 * else what to install or give. */
void fmnist_load_or_exit(fmnist *ds, const char *dir, const char *split);

/* Image i as floats [1, img_size, img_size] through cfg's transform: the
 * training one (RandomResizedCrop drawn with seed) when train is 1, else the
 * evaluation one. Exits on failure (e.g. in_chans is not 1). */
void fmnist_transform(const fmnist *ds, int64_t i, const ijepa_config *cfg, int train,
                      uint64_t seed, float *out);

/* The crop seed of the feed's position-th image under the run's seed. */
uint64_t fmnist_crop_seed(uint64_t seed, int64_t position);

/* Average-pooled features [n, D] of images [0, n) under the evaluation
 * transform of the encoder's own configuration, in batches of its
 * batch_size. */
void fmnist_features(ijepa_encoder *enc, const fmnist *ds, int64_t n, float *feats);

/* Linear-probe accuracy (epochs of logistic regression per fit) of the
 * average-pooled features of enc, or of raw pixels / 255 when enc is NULL:
 * fit on the first ntrain training images (0: all; the last sixth of them,
 * at most 10k, chooses the weight decay), score on the whole test split. */
linprobe_result fmnist_probe(ijepa_encoder *enc, const fmnist *train, const fmnist *test,
                             int epochs, int64_t ntrain);

#endif
