/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * libijepa tensor tables: the names and places of a handle's parameters.
 *
 * Each model handle (encoder, ...) keeps all its parameters in one contiguous
 * float buffer and its gradients in a second buffer of the same layout. A
 * tensor table tells where each tensor lives: its official PyTorch state-dict
 * name (e.g. "blocks.3.attn.qkv.weight"), its shape, its offset and element
 * count in the buffer, and flags. Tensors are laid out in state-dict order
 * (layer-major: all tensors of block i are contiguous) and each starts at a
 * multiple of 16 floats (64 bytes); the padding between tensors is zero and
 * stays zero. Shapes are PyTorch's: Linear weights [out, in], Conv2d weights
 * [out, in, kh, kw].
 *
 * A table is borrowed from its handle: valid until the handle is freed, never
 * freed by the caller. Reading it is thread-safe.
 */
#ifndef IJEPA_TENSORS_H
#define IJEPA_TENSORS_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ijepa_tensor_table ijepa_tensor_table;

/** Tensor flags (bit set). */
enum {
    IJEPA_TENSOR_NO_DECAY = 1, /**< excluded from weight decay: biases and 1-D tensors (official rule) */
    IJEPA_TENSOR_FROZEN = 2    /**< not trained: fixed sin-cos positional embeddings; gradient stays 0 */
};

/** Most dimensions a tensor has. */
#define IJEPA_TENSOR_MAX_DIMS 4

/** Number of tensors; 0 for a NULL table. */
IJEPA_API int64_t ijepa_tensor_table_count(const ijepa_tensor_table *t);

/** Floats in the whole buffer the table describes, padding included. */
IJEPA_API int64_t ijepa_tensor_table_buffer_size(const ijepa_tensor_table *t);

/** Official name of tensor i; NULL if i is out of range. Borrowed. */
IJEPA_API const char *ijepa_tensor_table_name(const ijepa_tensor_table *t, int64_t i);

/**
 * Describe tensor i. Any out-pointer may be NULL. dims must have room for
 * IJEPA_TENSOR_MAX_DIMS values; unused dims are set to 1.
 * IJEPA_ERR_INVALID_ARG if t is NULL or i out of range.
 */
IJEPA_API int ijepa_tensor_table_info(const ijepa_tensor_table *t, int64_t i,
                                      int64_t *offset, int64_t *numel,
                                      int32_t *ndim, int64_t *dims,
                                      int32_t *flags);

/** Find a tensor by name. IJEPA_ERR_INVALID_ARG if absent. */
IJEPA_API int ijepa_tensor_table_find(const ijepa_tensor_table *t,
                                      const char *name, int64_t *index);

#ifdef __cplusplus
}
#endif

#endif /* IJEPA_TENSORS_H */
