/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * libijepa mask sampler: the I-JEPA multi-block masks (which patches the
 * context encoder sees and which target blocks the predictor must predict).
 *
 * Patches are numbered row-major on the G x G patch grid, G = img_size /
 * patch_size: patch n = row * G + col, 0 <= n < G*G (the token order of
 * encoder.h).
 *
 * What one batch gets (both modes):
 *   - one target block size (h, w) and one context block size (hc, wc),
 *     drawn once per batch and shared by all its images;
 *   - per image, num_targets target blocks of h x w patches placed at random,
 *     unconstrained (they may overlap each other);
 *   - per image, one context block of hc x wc patches placed at random and,
 *     unless allow_overlap is 1, with every target patch removed ("hole
 *     punching"). A placement is valid only if it keeps MORE than min_keep
 *     patches; an invalid one is redrawn. After 20 invalid draws in a row the
 *     LAST target is no longer removed from the context, after 20 more the
 *     last two, and so on (the official relaxation rule), so the context may
 *     overlap the last targets of an image when they cover too much of it;
 *   - finally every context mask of the batch is cut to the batch's shortest
 *     one, so that all images have the same number of context patches.
 *
 * A block size is drawn as in the official code: scale s in [smin, smax),
 * area k = int(G*G*s), aspect ratio a in [amin, amax), h = round(sqrt(k*a)),
 * w = round(sqrt(k/a)) (round half to even, as Python's round()); context
 * blocks use a = 1 and the context_scale_* range.
 *
 * The two modes (config key IJEPA_CFG_MASK_MODE):
 *
 *   IJEPA_MASK_OFFICIAL  facebookresearch/ijepa's MaskCollator exactly, quirks
 *       included (only the random number generator differs): one uniform
 *       draw r is used for BOTH the scale and the aspect ratio of a block;
 *       h and w are clamped to G - 1 (a block never spans the grid); the
 *       top-left corner is drawn in [0, G - h) x [0, G - w), so no block ever
 *       touches the last row or column; truncation keeps the LOWEST indices of
 *       each context mask (dropping its bottom-right part). With the official
 *       configs the context block is always the top-left (G-1) x (G-1) square.
 *
 *   IJEPA_MASK_UNIFORM (default)  the same distributions with those biases
 *       removed: independent draws for scale and aspect ratio; h and w clamped
 *       to G (a full-size block is allowed); corners uniform over every
 *       placement, [0, G - h] x [0, G - w]; truncation drops a uniformly
 *       random subset of each context mask.
 *
 * Determinism: the masks of a batch are a function of (config, seed, step,
 * batch) only. The same values give bit-identical masks on every machine,
 * whatever was sampled before, so a resumed run reproduces its masks by
 * passing the same step numbers.
 *
 * Memory: everything is allocated by ijepa_mask_sampler_create() for up to
 * batch_size images; sampling allocates nothing.
 *
 * Ownership: the sampler is owned by the caller and freed with
 * ijepa_mask_sampler_free(). It keeps no pointer to the config it was created
 * from. Output buffers belong to the caller.
 *
 * Threading: see common.h. A sampler is used by one thread at a time;
 * distinct samplers are independent.
 */
#ifndef IJEPA_MASK_H
#define IJEPA_MASK_H

#include "common.h"
#include "config.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ijepa_mask_sampler ijepa_mask_sampler;

/**
 * Create a mask sampler from cfg. Keys read: img_size, patch_size, seed,
 * batch_size (most images per sample call), mask_mode, num_targets,
 * target_scale_min/max, target_aspect_min/max, context_scale_min/max,
 * min_keep, allow_overlap.
 *
 * @param out  receives the new sampler; set to NULL on failure.
 * @param cfg  configuration; only read, and not referenced after the call.
 * @return IJEPA_OK;
 *   IJEPA_ERR_INVALID_ARG if out or cfg is NULL, img_size is not a multiple
 *   of patch_size, a *_min key exceeds its *_max, or min_keep can never be
 *   satisfied: the largest target block the formulas can produce, or the
 *   largest context block, has no more than min_keep patches (sampling would
 *   otherwise retry forever, as the official code does);
 *   IJEPA_ERR_NOMEM if the working memory cannot be allocated.
 *   The message is in ijepa_last_error().
 */
IJEPA_API int ijepa_mask_sampler_create(ijepa_mask_sampler **out, const ijepa_config *cfg);

/** Free a sampler. NULL is a no-op. */
IJEPA_API void ijepa_mask_sampler_free(ijepa_mask_sampler *ms);

/** Side G of the patch grid (G x G patches, G = img_size / patch_size); 0 for NULL. */
IJEPA_API int64_t ijepa_mask_sampler_grid_size(const ijepa_mask_sampler *ms);

/**
 * Sample the masks of one batch of `batch` images for training step `step`.
 *
 * Deterministic in (seed, step, batch) and independent of earlier calls:
 * sampling step k alone gives the same masks as sampling it after steps
 * 0..k-1, on every machine.
 *
 * @param ms         the sampler.
 * @param batch      images in the batch, 1 <= batch <= batch_size.
 * @param step       batch counter (any value; e.g. the global training step).
 * @param context    out, capacity batch * G * G int32. Receives
 *                   [batch, *n_context]: the context patch indices of image b
 *                   are context[b * *n_context + j], j < *n_context, strictly
 *                   ascending.
 * @param n_context  out: context patches per image (the same for every image
 *                   of the batch; always > min_keep).
 * @param targets    out, capacity num_targets * batch * G * G int32. Receives
 *                   [num_targets, batch, *n_target]: target block m of image
 *                   b starts at targets[(m * batch + b) * *n_target] and
 *                   lists its h * w patch indices in ascending order.
 * @param n_target   out: patches per target block, h * w (the same for every
 *                   block of the batch).
 * @return IJEPA_OK;
 *   IJEPA_ERR_INVALID_ARG if a pointer is NULL, batch is outside
 *   [1, batch_size], or the block size drawn for this step cannot keep more
 *   than min_keep patches (a target, or a context block with every target
 *   constraint dropped, of at most min_keep patches: the official code would
 *   loop forever; the configuration allows such sizes, so lower min_keep or
 *   raise the *_scale_min keys: the message names the smallest block the
 *   keys can draw, below whose area every step keeps more than min_keep).
 *   The message is in ijepa_last_error(). Nothing is written on failure.
 */
IJEPA_API int ijepa_mask_sampler_sample(ijepa_mask_sampler *ms, int64_t batch, uint64_t step,
                                        int32_t *context, int64_t *n_context,
                                        int32_t *targets, int64_t *n_target);

#ifdef __cplusplus
}
#endif

#endif /* IJEPA_MASK_H */
