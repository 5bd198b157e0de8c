/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * Double-precision reference of the official I-JEPA ViT encoder forward
 * (facebookresearch/ijepa src/models/vision_transformer.py, VisionTransformer
 * .forward), for the encoder tests:
 *
 *   patch embed  Conv2d(C, D, kernel = stride = p) with bias; token n of an
 *                image is the patch at row n / G, column n % G
 *   + pos_embed  [N, D]
 *   gather       optional: token j of image b is token keep[b * K + j]
 *   blocks       x += proj(attn(LN1(x)));  x += fc2(GELU(fc1(LN2(x))))
 *                qkv rows [0:D) q, [D:2D) k, [2D:3D) v, head h = columns
 *                [h hd, (h+1) hd) of each; softmax(q k^T hd^-0.5) v
 *   final LN     "norm"
 *
 * Weights are found by their official state-dict names through the public
 * tensor table (ijepa_tensor_table_find/info), never through library
 * internals, and read from a caller-owned double copy of the parameter
 * buffer, so the tests also check the table's layout and can perturb
 * parameters in double for finite differences.
 */
#ifndef IJEPA_TESTS_REF_VIT_H
#define IJEPA_TESTS_REF_VIT_H

#include <stddef.h>
#include <stdint.h>

#include "ijepa/ijepa.h"

typedef struct ref_vit_cfg {
    int64_t img, patch, in_chans, D, depth, heads, hidden;
    int qkv_bias;
    double eps;
} ref_vit_cfg;

typedef struct ref_vit_block {
    const double *n1w, *n1b, *qkvw, *qkvb, *projw, *projb; /* qkvb NULL: none */
    const double *n2w, *n2b, *fc1w, *fc1b, *fc2w, *fc2b;
} ref_vit_block;

typedef struct ref_vit {
    ref_vit_cfg cfg;
    int64_t G, N, cpp;             /* grid side, tokens, C p p */
    const double *pos, *pw, *pb;   /* [N, D], [D, C, p, p], [D] */
    ref_vit_block *blocks;         /* [depth] */
    const double *nw, *nb;         /* [D] */
} ref_vit;

/*
 * Read the architecture from a config through the public getters:
 * hidden = int(embed_dim * mlp_ratio) as the official MLP. Returns 0 or -1.
 */
int ref_vit_cfg_from_config(ref_vit_cfg *c, const ijepa_config *cfg);

/*
 * Bind v to the parameters in params (a double copy of a buffer laid out as
 * tab says), looking every tensor up by its official name and checking its
 * official shape. Returns 0, or -1 with the cause in err.
 */
int ref_vit_bind(ref_vit *v, const ref_vit_cfg *cfg, const ijepa_tensor_table *tab,
                 const double *params, char *err, size_t errlen);
void ref_vit_unbind(ref_vit *v);

/*
 * Forward B images [B, C, img, img]; keep NULL (all N tokens, K ignored) or
 * [B, K] token indices. out [B, K or N, D]. Returns 0, or -1 if scratch
 * memory could not be allocated.
 */
int ref_vit_forward(const ref_vit *v, const double *images, int64_t B,
                    const int32_t *keep, int64_t K, double *out);

/*
 * Building blocks shared with the predictor reference (tests/ref_pred.c).
 *
 * ref_vit_lookup: the data of tensor `name` in params (a double copy of a
 * buffer laid out as tab says) after checking its official shape
 * dims[0..ndim-1]; NULL with the cause in err.
 *
 * ref_vit_bind_blocks: bind blocks[0..depth-1] to the tensors
 * "<prefix>.<i>.norm1.weight", ... of width D and MLP width hidden (qkv_bias
 * 0: "<prefix>.<i>.attn.qkv.bias" must be absent and qkvb is NULL).
 * Returns 0, or -1 with the cause in err.
 *
 * ref_vit_blocks_forward: the pre-norm blocks
 *     x += proj(attn(LN1(x)));  x += fc2(GELU(fc1(LN2(x))))
 * over S independent sequences of T tokens, x [S*T, D] updated in place
 * (heads attention heads, LayerNorm eps). Returns 0, or -1 if scratch memory
 * could not be allocated.
 */
const double *ref_vit_lookup(const ijepa_tensor_table *tab, const double *params,
                             const char *name, int32_t ndim, const int64_t *dims,
                             char *err, size_t errlen);
int ref_vit_bind_blocks(ref_vit_block *blocks, int64_t depth, int64_t D, int64_t hidden,
                        int qkv_bias, const char *prefix, const ijepa_tensor_table *tab,
                        const double *params, char *err, size_t errlen);
int ref_vit_blocks_forward(const ref_vit_block *blocks, int64_t depth, int64_t D,
                           int64_t heads, int64_t hidden, double eps, int64_t S, int64_t T,
                           double *x);

/* The official 2-D sin-cos positional embedding [G*G, D] in double. */
void ref_vit_sincos(int64_t G, int64_t D, double *pos);

#endif /* IJEPA_TESTS_REF_VIT_H */
