/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * libijepa loss: the I-JEPA regression loss between predictor outputs and
 * layer-normalised target-encoder features, its gradient, and a collapse
 * monitor.
 *
 * As the official training step (facebookresearch/ijepa src/train.py):
 *     h = F.layer_norm(target_encoder(imgs), (D,))    # no affine, eps 1e-5
 *     h = apply_masks(h, masks_pred)                  # [M*B, K, D], row m*B + b
 *     loss = F.smooth_l1_loss(predictor(...), h)      # mean over all elements
 * with the loss kind selectable (IJEPA_CFG_LOSS values in config.h).
 *
 * These are plain functions on caller buffers: no handle, no allocation.
 * Failures record their message in ijepa_last_error() (the calling thread's
 * record). Sums are accumulated in double over a fixed partition of the rows
 * and the partial sums are added in a fixed order, so results are
 * bit-identical for any number of OpenMP threads. Thread-safe: concurrent
 * calls on distinct output buffers are independent.
 */
#ifndef IJEPA_LOSS_H
#define IJEPA_LOSS_H

#include "common.h"
#include "config.h" /* IJEPA_LOSS_* */

#ifdef __cplusplus
extern "C" {
#endif

/**
 * I-JEPA loss and its gradient.
 *   target_out   [batch, num_patches, dim] target-encoder output (after its
 *                final norm); each gathered token is layer-normalised again
 *                over dim WITHOUT affine: h = (x - mean) / sqrt(var + ln_eps),
 *                biased variance (official F.layer_norm, ln_eps 1e-5)
 *   targets      [num_targets, batch, n_target] patch indices in
 *                [0, num_patches), the layout of the mask sampler: block m of
 *                image b is targets[(m * batch + b) * n_target + j], j < n_target
 *   pred         [num_targets * batch, n_target, dim] predictor output; row
 *                m * batch + b predicts block m of image b
 *   kind         IJEPA_LOSS_SMOOTH_L1: 0.5 x^2 if |x| < 1, else |x| - 0.5
 *                (beta 1, official); IJEPA_LOSS_L2: x^2; IJEPA_LOSS_L1: |x|;
 *                with x = pred - h per element; the trainer passes the
 *                config key loss (IJEPA_CFG_LOSS)
 *   ln_eps       >= 0, finite; the trainer passes target_ln_eps
 *                (IJEPA_CFG_TARGET_LN_EPS, 1e-5), not the encoders' ln_eps
 *   d_pred       NULL, or [num_targets * batch, n_target, dim] written with
 *                dloss/dpred (smooth-L1: x if |x| < 1 else sign(x); L2: 2x;
 *                L1: sign(x), 0 at x = 0; each divided by the element count)
 *   loss         written with the mean over all
 *                num_targets * batch * n_target * dim elements
 * All sizes must be >= 1. The LayerNorm, differences and sums are computed
 * in double; d_pred is rounded to float. Buffers are only used during the
 * call.
 *
 * Errors: IJEPA_ERR_INVALID_ARG (NULL target_out, targets, pred or loss; a
 * size < 1 or too large; an index outside [0, num_patches); an unknown kind;
 * ln_eps negative or not finite): nothing is written.
 * IJEPA_ERR_NUMERIC when the loss is not finite (NaN or Inf in the inputs,
 * or a constant token with ln_eps 0): *loss is not written and the contents
 * of d_pred are unspecified.
 */
IJEPA_API int ijepa_loss_compute(const float *target_out, int64_t batch, int64_t num_patches,
                                 int64_t dim, const int32_t *targets, int64_t num_targets,
                                 int64_t n_target, const float *pred, int32_t kind,
                                 double ln_eps, float *d_pred, double *loss);

/**
 * The loss of a slice of a larger batch, for data-parallel hosts that split
 * one batch of total_batch images between workers: the same element losses
 * and gradients as ijepa_loss_compute() on the whole batch, for the images
 * of this slice only. Arguments as ijepa_loss_compute(), with batch the
 * images of the slice (target_out [batch, num_patches, dim], targets
 * [num_targets, batch, n_target], pred [num_targets * batch, n_target, dim])
 * and:
 *   total_batch  images of the whole batch, >= batch
 *   d_pred       NULL, or written with the element gradients divided by the
 *                element count of the WHOLE batch,
 *                num_targets * total_batch * n_target * dim: the slices'
 *                gradients are exactly the rows of the whole batch's, so
 *                backward passes summed over the slices give the whole
 *                batch's gradient
 *   sum          written with the sum of the element losses of the slice
 *                (not divided): the whole batch's loss is the sum over the
 *                slices divided by that element count
 * With total_batch = batch, *sum / (num_targets * batch * n_target * dim)
 * and d_pred are bit-identical to ijepa_loss_compute()'s.
 *
 * Unlike ijepa_loss_compute(), a sum that is not finite is not an error:
 * it is written as it is, so that every worker can reduce first and all of
 * them then see the same NaN or infinity (ijepa_trainer_apply() rejects it).
 *
 * Errors: as ijepa_loss_compute() (IJEPA_ERR_INVALID_ARG, also for
 * total_batch < batch; nothing written), never IJEPA_ERR_NUMERIC.
 */
IJEPA_API int ijepa_loss_partial(const float *target_out, int64_t batch, int64_t num_patches,
                                 int64_t dim, const int32_t *targets, int64_t num_targets,
                                 int64_t n_target, const float *pred, int32_t kind,
                                 double ln_eps, int64_t total_batch, float *d_pred,
                                 double *sum);

/**
 * Collapse monitor. Layer-normalise every token of target_out
 * [batch, num_patches, dim] as ijepa_loss_compute() does (no affine,
 * ln_eps), average-pool each image over its num_patches tokens, take for
 * each of the dim features the population standard deviation across the
 * batch, and write the mean of those dim values to *mean_std. It is 0 when
 * all images give the same features (and for batch 1); a value falling
 * towards 0 during training signals representation collapse. Computed in
 * double.
 *
 * Errors: IJEPA_ERR_INVALID_ARG (NULL pointer, a size < 1 or too large,
 * ln_eps negative or not finite); IJEPA_ERR_NUMERIC when the result is not
 * finite (*mean_std not written). Allocates nothing.
 */
IJEPA_API int ijepa_loss_target_std(const float *target_out, int64_t batch,
                                    int64_t num_patches, int64_t dim, double ln_eps,
                                    double *mean_std);

/**
 * The collapse monitor's sums, which add up across the slices of a batch.
 * For each image, layer-normalise its tokens of target_out [batch,
 * num_patches, dim] as ijepa_loss_target_std() does and average-pool them
 * into p [dim]; then write, for each feature d,
 *   sum[d]   = sum over the images of p[d]
 *   sumsq[d] = sum over the images of p[d]^2
 * (sum and sumsq: caller buffers of dim doubles). Summed over the slices of
 * a batch of B images, the population standard deviation of feature d
 * across the batch is sqrt(sumsq[d] / B - (sum[d] / B)^2) (what
 * ijepa_trainer_apply() reports as IJEPA_STAT_TARGET_STD, averaged over the
 * features; ijepa_loss_target_std() gives the same value computed in one
 * pass, up to rounding). Computed in double; non-finite inputs give
 * non-finite sums, not an error. Allocates nothing.
 *
 * Errors: IJEPA_ERR_INVALID_ARG (NULL pointer, a size < 1 or too large,
 * ln_eps negative or not finite): nothing written.
 */
IJEPA_API int ijepa_loss_target_moments(const float *target_out, int64_t batch,
                                        int64_t num_patches, int64_t dim, double ln_eps,
                                        double *sum, double *sumsq);

#ifdef __cplusplus
}
#endif

#endif /* IJEPA_LOSS_H */
