/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * libijepa predictor: the narrow Vision Transformer that predicts, from the
 * context encoder's output, the target encoder's representation of each
 * target block.
 *
 * Architecture, exactly as the official VisionTransformerPredictor:
 *   predictor_embed   Linear(D -> Dp) on the context tokens
 *   + predictor_pos_embed[context index]  (fixed 2-D sin-cos [N, Dp])
 *   mask tokens       mask_token (learned [Dp]) + predictor_pos_embed[target index]
 *   per target block  one sequence [context tokens | that block's mask tokens]
 *                     (blocks never attend to each other), full self-attention
 *   predictor_blocks  pred_depth pre-norm blocks of width Dp, pred_num_heads
 *                     heads, MLP ratio 4, LN eps ln_eps
 *   predictor_norm    LayerNorm, then predictor_proj Linear(Dp -> D) on the
 *                     mask-token positions only
 *
 * Tensors (state-dict order, see tensors.h): mask_token [1,1,Dp] (decayed, as
 * official), predictor_pos_embed [1,N,Dp] (frozen), predictor_embed.{weight,
 * bias}, predictor_blocks.i.*, predictor_norm.{weight,bias},
 * predictor_proj.{weight,bias}.
 *
 * Memory is sized at creation for batch_size images and num_targets blocks;
 * forward and backward allocate nothing for a shape still in the handle's
 * kernel cache (primitive_cache entries, see encoder.h).
 * Threading: see common.h. The context must outlive the handle.
 */
#ifndef IJEPA_PREDICTOR_H
#define IJEPA_PREDICTOR_H

#include "common.h"
#include "config.h"
#include "context.h"
#include "encoder.h"
#include "tensors.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ijepa_predictor ijepa_predictor;

/**
 * Create a predictor. Reads the encoder keys img_size, patch_size,
 * embed_dim (D), num_heads, ln_eps, init_std, batch_size, seed, precision,
 * seq_bucket (the encoders' and the predictor's must agree for the
 * trainer's results: create them from one configuration); and
 * pred_embed_dim (Dp), pred_depth, pred_num_heads (0: num_heads),
 * num_targets, the target-block keys and allow_overlap (a sequence holds at
 * most N + the largest target block those keys allow, as the official
 * relaxation rule can leave targets inside the context; 2N with overlap),
 * trainable, init_depth_rescale (applied to predictor_blocks as the official
 * constructor does), primitive_cache. Parameters are initialised from seed as the
 * official trainer does (weights truncated normal init_std, biases 0, LN 1/0,
 * mask_token truncated normal) with a stream distinct from the encoder's.
 * Errors: IJEPA_ERR_INVALID_ARG (NULL, Dp not a multiple of 4 or of the head
 * count, img_size not a multiple of patch_size), IJEPA_ERR_NOMEM,
 * IJEPA_ERR_BACKEND; message in ijepa_last_error().
 */
IJEPA_API int ijepa_predictor_create(ijepa_predictor **out, ijepa_context *ctx,
                                     const ijepa_config *cfg);

/** Free a predictor. NULL is a no-op. */
IJEPA_API void ijepa_predictor_free(ijepa_predictor *pred);

/**
 * The predictor's own copy of its configuration: embed_dim is the D of its
 * inputs and outputs, num_targets and batch_size its limits. Borrowed,
 * read-only; NULL for NULL. Since 0.3.
 */
IJEPA_API const ijepa_config *ijepa_predictor_config(const ijepa_predictor *pred);

/** Re-initialise the parameters from seed and zero the gradients. */
IJEPA_API int ijepa_predictor_init_params(ijepa_predictor *pred, uint64_t seed);

/**
 * Predict the target blocks. The arrays are read and written by these
 * shapes, which the call cannot check against their real sizes: D is the
 * predictor's embed_dim (ijepa_predictor_config()), which must be the
 * encoder's that made ctx_out.
 *   ctx_out   [batch, n_context, D] context encoder output
 *   context   [batch, n_context] patch index of each context token
 *   targets   [num_targets, batch, n_target] patch indices of the target
 *             blocks (the mask sampler's layout)
 *   out       [num_targets * batch, n_target, D]: row m*batch + b predicts
 *             block m of image b
 *   mode      IJEPA_FORWARD_TRAIN keeps what backward needs
 * Errors: IJEPA_ERR_INVALID_ARG (NULL, batch outside [1, batch_size], a count
 * outside [1, N], n_context + n_target above the limit of
 * ijepa_predictor_create(), an index out of range), IJEPA_ERR_STATE (TRAIN on
 * a trainable = 0 handle), and from the compute backend IJEPA_ERR_NOMEM,
 * IJEPA_ERR_UNSUPPORTED, IJEPA_ERR_BACKEND. A failed call keeps no TRAIN
 * forward and may have written part of out.
 */
IJEPA_API int ijepa_predictor_forward(ijepa_predictor *pred, const float *ctx_out,
                                      int64_t batch, const int32_t *context,
                                      int64_t n_context, const int32_t *targets,
                                      int64_t n_target, float *out, int32_t mode);

/**
 * Backward through the last TRAIN forward, with its batch, n_context and
 * n_target.
 *   d_out  [num_targets * batch, n_target, D]
 *   d_ctx  [batch, n_context, D], written (not accumulated): dLoss/d(ctx_out),
 *          summed over the target blocks; feed it to ijepa_encoder_backward()
 *          of the encoder forward that made ctx_out (its n_keep must be this
 *          n_context: nothing can check that the two forwards belong
 *          together)
 * Parameter gradients are added into the gradient buffer.
 * Errors: IJEPA_ERR_INVALID_ARG, IJEPA_ERR_STATE (no TRAIN forward kept),
 * IJEPA_ERR_NOMEM, IJEPA_ERR_UNSUPPORTED, IJEPA_ERR_BACKEND. On failure the
 * gradients and d_ctx may hold partial results; zero the gradients before
 * retrying.
 */
IJEPA_API int ijepa_predictor_backward(ijepa_predictor *pred, const float *d_out,
                                       float *d_ctx);

/** Set every gradient to zero. */
IJEPA_API int ijepa_predictor_zero_grad(ijepa_predictor *pred);

/** Borrow the parameter buffer (layout: ijepa_predictor_tensors()). */
IJEPA_API int ijepa_predictor_params(ijepa_predictor *pred, float **data, int64_t *count);

/** Borrow the gradient buffer (same layout). IJEPA_ERR_STATE, *data NULL
 *  and *count 0, for a predictor created with trainable = 0: it has none. */
IJEPA_API int ijepa_predictor_grads(ijepa_predictor *pred, float **data, int64_t *count);

/** The tensor table of both buffers. Borrowed; NULL for NULL. */
IJEPA_API const ijepa_tensor_table *ijepa_predictor_tensors(const ijepa_predictor *pred);

/** Bytes of memory the handle holds. */
IJEPA_API int64_t ijepa_predictor_memory_bytes(const ijepa_predictor *pred);

/**
 * What ijepa_predictor_create(cfg) would allocate (its
 * ijepa_predictor_memory_bytes()), computed without allocating anything
 * model-sized; the same checks and errors as ijepa_predictor_create(), plus
 * IJEPA_ERR_INVALID_ARG for NULL arguments. Thread-safe. In bf16 precision
 * it also depends on the CPU, as ijepa_encoder_estimate_bytes() says.
 */
IJEPA_API int ijepa_predictor_estimate_bytes(const ijepa_config *cfg, int64_t *bytes);

#ifdef __cplusplus
}
#endif

#endif /* IJEPA_PREDICTOR_H */
