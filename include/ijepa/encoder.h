/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * libijepa encoder: the I-JEPA Vision Transformer (context and target
 * encoders are two handles of this kind).
 *
 * Architecture, exactly as the official facebookresearch/ijepa model:
 *   patch embedding  Conv2d(in_chans, D, kernel = stride = patch_size), tokens
 *                    in row-major patch order (n = row * G + col, G = img/patch)
 *   + pos_embed      fixed 2-D sin-cos [N, D], channels [sin(col w) | cos(col w)
 *                    | sin(row w) | cos(row w)], w_k = 10000^(-4k/D); no class token
 *   gather           optional: keep a subset of tokens per image (after pos_embed)
 *   depth blocks     x += proj(attn(LN1(x))); x += fc2(GELU(fc1(LN2(x))))
 *                    LN eps 1e-6, attention scale head_dim^-0.5, exact erf GELU
 *   final LayerNorm  "norm"
 *
 * Parameters: one float buffer, layer-major in state-dict order (see
 * tensors.h): pos_embed (frozen), patch_embed.proj.{weight,bias},
 * blocks.i.{norm1,attn.qkv,attn.proj,norm2,mlp.fc1,mlp.fc2}.{weight,bias},
 * norm.{weight,bias}. Gradients: a second buffer, same layout.
 *
 * Memory: everything a forward/backward of up to batch_size images needs is
 * allocated at creation. Compute kernels are built per token count and kept
 * (up to primitive_cache of them, least recently used dropped): a call
 * allocates nothing once its shapes have been seen. Masked training meets a
 * bounded set of token counts, so steps stop allocating after warm-up when
 * the cache holds them all.
 *
 * Threading: see common.h. The handle borrows its context, which must outlive
 * it.
 */
#ifndef IJEPA_ENCODER_H
#define IJEPA_ENCODER_H

#include "common.h"
#include "config.h"
#include "context.h"
#include "tensors.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ijepa_encoder ijepa_encoder;

/** Forward modes. */
enum {
    IJEPA_FORWARD_INFERENCE = 0, /**< keep nothing; backward not possible  */
    IJEPA_FORWARD_TRAIN = 1      /**< keep what ijepa_encoder_backward() needs */
};

/**
 * Create an encoder from cfg (keys 1-199 are read; trainable = 0 allocates
 * no backward storage and no gradient buffer, for a target encoder) and
 * initialise its
 * parameters from IJEPA_CFG_SEED: weights truncated normal (std init_std,
 * bounds +-2), biases 0, LayerNorm weight 1 and bias 0, pos_embed sin-cos;
 * gradients zero. The same seed gives bit-identical parameters on every
 * machine.
 *
 * Errors: IJEPA_ERR_INVALID_ARG for NULL arguments or inconsistent keys
 * (img_size not a multiple of patch_size, embed_dim not a multiple of
 * num_heads or of 4, hidden width < 1); IJEPA_ERR_NOMEM when the buffers do
 * not fit; IJEPA_ERR_BACKEND when oneDNN fails. The message is in
 * ijepa_last_error().
 */
IJEPA_API int ijepa_encoder_create(ijepa_encoder **out, ijepa_context *ctx,
                                   const ijepa_config *cfg);

/** Free an encoder. NULL is a no-op. */
IJEPA_API void ijepa_encoder_free(ijepa_encoder *enc);

/** The encoder's own copy of its configuration. Borrowed, read-only. */
IJEPA_API const ijepa_config *ijepa_encoder_config(const ijepa_encoder *enc);

/** Tokens per image N = (img_size / patch_size)^2; 0 for NULL. */
IJEPA_API int64_t ijepa_encoder_num_patches(const ijepa_encoder *enc);

/** Embedding width D; 0 for NULL. */
IJEPA_API int64_t ijepa_encoder_embed_dim(const ijepa_encoder *enc);

/** Bytes of memory the handle holds in parameters, gradients and
 * activations (the compute kernels and their scratchpad come on top). */
IJEPA_API int64_t ijepa_encoder_memory_bytes(const ijepa_encoder *enc);

/**
 * What ijepa_encoder_create(cfg) would allocate: *bytes is the
 * ijepa_encoder_memory_bytes() of the encoder it would make. Computed from
 * the configuration without allocating anything model-sized, with the same
 * checks and errors as ijepa_encoder_create() (IJEPA_ERR_INVALID_ARG for an
 * invalid combination of keys, IJEPA_ERR_NOMEM for activations no machine
 * holds), plus IJEPA_ERR_INVALID_ARG for NULL arguments. Thread-safe. In
 * bf16 precision the result also depends on the CPU: where the library's
 * own attention kernels run (AVX512-BF16 or AMX), an encoder with
 * trainable = 0 keeps no attention scores.
 */
IJEPA_API int ijepa_encoder_estimate_bytes(const ijepa_config *cfg, int64_t *bytes);

/**
 * Re-initialise the parameters from seed (as at creation) and zero the
 * gradients. Invalidates any kept training forward.
 */
IJEPA_API int ijepa_encoder_init_params(ijepa_encoder *enc, uint64_t seed);

/**
 * Forward a batch.
 *   images  [batch, in_chans, img_size, img_size] float, row-major
 *   batch   1 <= batch <= batch_size
 *   keep    NULL for all N tokens, else [batch, n_keep] patch indices in
 *           [0, N) (any order, repeats allowed): token j of image b is patch
 *           keep[b * n_keep + j], as the official apply_masks()
 *   n_keep  tokens kept per image, 1 <= n_keep <= N (ignored if keep is NULL)
 *   out     [batch, K, D] float written by the call, K = n_keep or N
 *   mode    IJEPA_FORWARD_TRAIN or IJEPA_FORWARD_INFERENCE
 * A TRAIN forward keeps activations for ijepa_encoder_backward() until the
 * next forward or init_params. images, keep and out are only used during the
 * call. Errors: IJEPA_ERR_INVALID_ARG (NULL pointer, batch or n_keep out of
 * range, index out of range, unknown mode), IJEPA_ERR_STATE (a TRAIN forward
 * on an encoder created with trainable = 0), and from the compute backend
 * IJEPA_ERR_NOMEM, IJEPA_ERR_UNSUPPORTED, IJEPA_ERR_BACKEND. A failed call
 * keeps no TRAIN forward and may have written part of out. The pixels are
 * not scanned: a NaN or infinite one gives non-finite features for its
 * image, not an error (ijepa_trainer_step() reports it as a non-finite
 * loss, IJEPA_ERR_NUMERIC, the same on every data-parallel rank).
 */
IJEPA_API int ijepa_encoder_forward(ijepa_encoder *enc, const float *images,
                                    int64_t batch, const int32_t *keep,
                                    int64_t n_keep, float *out, int32_t mode);

/**
 * Backward through the last TRAIN forward.
 *   d_out  [batch, K, D]: dLoss/d(out) of that forward, read with its batch
 *          and K (n_keep, or N): the call cannot check the array's real
 *          size, e.g. a predictor's d_ctx made with another n_context
 * Adds dLoss/d(parameter) into the gradient buffer (it accumulates: call
 * ijepa_encoder_zero_grad() between steps). Frozen tensors get no gradient.
 * The kept activations stay valid, so calling it twice accumulates twice.
 * Errors: IJEPA_ERR_INVALID_ARG (NULL), IJEPA_ERR_STATE (no TRAIN forward
 * kept), IJEPA_ERR_NOMEM, IJEPA_ERR_UNSUPPORTED, IJEPA_ERR_BACKEND. On failure
 * the gradient buffer may hold a partial sum; zero it before retrying.
 */
IJEPA_API int ijepa_encoder_backward(ijepa_encoder *enc, const float *d_out);

/** Set every gradient to zero. */
IJEPA_API int ijepa_encoder_zero_grad(ijepa_encoder *enc);

/**
 * Borrow the parameter buffer: *data points to *count floats laid out as
 * ijepa_encoder_tensors() says. The caller may read and write it (e.g. to
 * load weights); the pointer is valid until the encoder is freed. Writing
 * it between a TRAIN forward and its backward is not detected: the
 * backward then returns gradients for the old values' activations and the
 * new weights mixed (no error); forward again after writing.
 */
IJEPA_API int ijepa_encoder_params(ijepa_encoder *enc, float **data, int64_t *count);

/** Borrow the gradient buffer (same layout and lifetime as the parameters).
 *  IJEPA_ERR_STATE, *data NULL and *count 0, for an encoder created with
 *  trainable = 0: it has none (ijepa_encoder_zero_grad() is then a no-op). */
IJEPA_API int ijepa_encoder_grads(ijepa_encoder *enc, float **data, int64_t *count);

/** The tensor table of both buffers. Borrowed; NULL for a NULL encoder. */
IJEPA_API const ijepa_tensor_table *ijepa_encoder_tensors(const ijepa_encoder *enc);

#ifdef __cplusplus
}
#endif

#endif /* IJEPA_ENCODER_H */
