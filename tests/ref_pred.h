/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * Double-precision reference of the official I-JEPA predictor forward
 * (facebookresearch/ijepa src/models/vision_transformer.py,
 * VisionTransformerPredictor.forward), for the predictor and full-step tests:
 *
 *   x        = predictor_embed(ctx_out) + predictor_pos_embed[context]
 *   mask     = mask_token + predictor_pos_embed[target]      (per target block)
 *   sequence = [x of image b | mask tokens of block m of image b], one per (m, b)
 *              (blocks never attend to each other)
 *   blocks   predictor_blocks.i: pre-norm, width Dp, MLP ratio 4, qkv bias
 *   out      predictor_proj(predictor_norm(last Kt tokens))
 *
 * Row m*B + b of the output predicts block m of image b (the official
 * repeat_interleave_batch / apply_masks order). Weights are found by their
 * official state-dict names through the public tensor table and read from a
 * caller-owned double copy of the predictor's parameter buffer, so tests can
 * perturb them in double for finite differences.
 *
 * Also the I-JEPA loss in double (ref_ijepa_loss), for the full-step test.
 */
#ifndef IJEPA_TESTS_REF_PRED_H
#define IJEPA_TESTS_REF_PRED_H

#include <stddef.h>
#include <stdint.h>

#include "ijepa/ijepa.h"
#include "ref_vit.h"

typedef struct ref_pred_cfg {
    int64_t img, patch, D, Dp, depth, heads, hidden, M;
    double eps; /* LayerNorm eps of the blocks and of predictor_norm */
} ref_pred_cfg;

typedef struct ref_pred {
    ref_pred_cfg cfg;
    int64_t G, N;
    const double *mask;          /* [Dp] mask_token                 */
    const double *pos;           /* [N, Dp] predictor_pos_embed     */
    const double *ew, *eb;       /* [Dp, D], [Dp] predictor_embed   */
    ref_vit_block *blocks;       /* [depth] predictor_blocks        */
    const double *nw, *nb;       /* [Dp] predictor_norm             */
    const double *pw, *pb;       /* [D, Dp], [D] predictor_proj     */
} ref_pred;

/*
 * Read the architecture from a config through the public getters:
 * Dp = pred_embed_dim, depth = pred_depth, heads = pred_num_heads or, if 0,
 * num_heads; hidden = 4 Dp; M = num_targets; eps = ln_eps (as the float the
 * library's LayerNorm primitive holds). Returns 0 or -1.
 */
int ref_pred_cfg_from_config(ref_pred_cfg *c, const ijepa_config *cfg);

/*
 * Bind p to params (a double copy of a buffer laid out as tab says), looking
 * every tensor up by its official name and checking its official shape.
 * Returns 0, or -1 with the cause in err.
 */
int ref_pred_bind(ref_pred *p, const ref_pred_cfg *cfg, const ijepa_tensor_table *tab,
                  const double *params, char *err, size_t errlen);
void ref_pred_unbind(ref_pred *p);

/*
 * Forward: ctx_out [B, Kc, D], context [B, Kc], targets [M, B, Kt] (indices
 * in [0, N), not checked), out [M*B, Kt, D]. Returns 0, or -1 if scratch
 * memory could not be allocated.
 */
int ref_pred_forward(const ref_pred *p, const double *ctx_out, int64_t B,
                     const int32_t *context, int64_t Kc, const int32_t *targets,
                     int64_t Kt, double *out);

/*
 * The I-JEPA loss of include/ijepa/loss.h in double:
 *   h = LayerNorm(target_out[b, targets[(m*B+b)*Kt + j]]) without affine,
 *       eps ln_eps, biased variance
 *   x = pred[(m*B+b)*Kt + j] - h, per element
 *   term = 0.5 x^2 if |x| < 1 else |x| - 0.5 (IJEPA_LOSS_SMOOTH_L1),
 *          x^2 (IJEPA_LOSS_L2), |x| (IJEPA_LOSS_L1)
 * terms (may be NULL) [M*B*Kt*D] receives term / count; the return value is
 * their sum, the mean loss. target_out [B, N, D], pred [M*B, Kt, D].
 */
double ref_ijepa_loss(const double *target_out, int64_t B, int64_t N, int64_t D,
                      const int32_t *targets, int64_t M, int64_t Kt, const double *pred,
                      int32_t kind, double ln_eps, double *terms);

#endif /* IJEPA_TESTS_REF_PRED_H */
