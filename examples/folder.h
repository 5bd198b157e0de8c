/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * A folder of the user's own images for ijepa-extract and ijepa-probe:
 * every .png/.jpg/.jpeg below a directory (the library's dataset handle,
 * dataset.h), in the byte-wise order of the paths, through the evaluation
 * transform of a configuration; and for a labelled folder the class of each
 * image, torchvision's ImageFolder convention: DIR/CLASS/.../IMAGE, one
 * subdirectory of DIR per class, classes numbered in the byte-wise order of
 * their names.
 */
#ifndef IJEPA_EXAMPLES_FOLDER_H
#define IJEPA_EXAMPLES_FOLDER_H

#include <stdint.h>

#include <ijepa/ijepa.h>

typedef struct ex_folder {
    ijepa_dataset *ds;  /* images in path order (data_shuffle 0, evaluation transform) */
    int64_t n;          /* images */
    int64_t chans, img; /* each image becomes [chans, img, img] floats */
    int64_t batch;      /* images per next_batch call */
    size_t root_len;    /* characters of a path before its path relative to DIR */
    int32_t *labels;    /* [n] class of each image (labelled folders), else NULL */
    char **classes;     /* [nclasses] class names, sorted */
    int32_t nclasses;
} ex_folder;

/*
 * Scan dir. The images get cfg's in_chans, img_size and data_* keys, with
 * the evaluation transform, in path order, batch_size images at a time.
 * labelled: every image must be in a class subdirectory. Exits with a
 * message on failure (no image, an image outside a class directory, ...).
 */
void ex_folder_open(ex_folder *f, const char *dir, const ijepa_config *cfg, int labelled);

/* The path of image i as the dataset names it: DIR/relative/path. */
const char *ex_folder_path(const ex_folder *f, int64_t i);

/* The path of image i relative to DIR ("cats/1.png"). */
const char *ex_folder_relpath(const ex_folder *f, int64_t i);

/*
 * Features of the first n images, in path order, into feats: the
 * average-pooled tokens of enc ([n, embed_dim]), or with enc NULL the
 * transformed pixels ([n, chans * img * img]). Call once per folder (it
 * reads the images as one stream). Exits with the message naming the file
 * when one cannot be decoded.
 */
void ex_folder_features(ex_folder *f, ijepa_encoder *enc, int64_t n, float *feats);

/* Class index of name in f, or -1. */
int32_t ex_folder_class(const ex_folder *f, const char *name);

void ex_folder_free(ex_folder *f);

#endif
