/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * PNG pictures for the examples, written with libpng's simplified API: a
 * loss curve and a view of sampled context/target blocks over images.
 */
#ifndef IJEPA_EXAMPLES_PLOT_H
#define IJEPA_EXAMPLES_PLOT_H

#include <stdint.h>

/* Loss curve on a log scale: y[0..n) against step, with labelled extremes.
 * Returns 0, or -1 (n < 2, out of memory, cannot write). */
int plot_curve(const char *path, const double *y, int64_t n);

/*
 * Sampled masks over images: one panel per image, the picture in grey,
 * context patches tinted blue, each target block outlined in its own colour.
 * images [count, img, img] normalised floats, context [batch, nc],
 * targets [M, batch, nt], grid G, patch p. Returns 0, or -1.
 */
int plot_masks(const char *path, const float *images, int count, int img, int G, int p,
               const int32_t *context, int64_t nc, const int32_t *targets, int64_t M,
               int64_t batch, int64_t nt);

#endif
