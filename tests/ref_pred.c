/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * Implements: tests/ref_pred.h — the official I-JEPA predictor forward and
 * the I-JEPA loss in double, bound to a parameter buffer through the public
 * tensor table.
 */
#include "ref_pred.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ref.h"

int ref_pred_cfg_from_config(ref_pred_cfg *c, const ijepa_config *cfg)
{
    int64_t v[8];
    static const int32_t keys[8] = {IJEPA_CFG_IMG_SIZE, IJEPA_CFG_PATCH_SIZE,
                                    IJEPA_CFG_EMBED_DIM, IJEPA_CFG_PRED_EMBED_DIM,
                                    IJEPA_CFG_PRED_DEPTH, IJEPA_CFG_PRED_NUM_HEADS,
                                    IJEPA_CFG_NUM_HEADS, IJEPA_CFG_NUM_TARGETS};
    double eps;
    for (int i = 0; i < 8; i++)
        if (ijepa_config_get_int(cfg, keys[i], &v[i]) != IJEPA_OK) return -1;
    if (ijepa_config_get_float(cfg, IJEPA_CFG_LN_EPS, &eps) != IJEPA_OK) return -1;
    c->img = v[0];
    c->patch = v[1];
    c->D = v[2];
    c->Dp = v[3];
    c->depth = v[4];
    c->heads = v[5] ? v[5] : v[6]; /* official: the encoder's num_heads */
    c->M = v[7];
    c->hidden = 4 * c->Dp;         /* vit_predictor: mlp_ratio 4 */
    c->eps = (double)(float)eps;   /* the LayerNorm primitive's float */
    return 0;
}

int ref_pred_bind(ref_pred *p, const ref_pred_cfg *cfg, const ijepa_tensor_table *tab,
                  const double *params, char *err, size_t errlen)
{
    memset(p, 0, sizeof *p);
    p->cfg = *cfg;
    const int64_t D = cfg->D, Dp = cfg->Dp;
    p->G = cfg->img / cfg->patch;
    p->N = p->G * p->G;
    p->blocks = calloc((size_t)cfg->depth, sizeof *p->blocks);
    if (!p->blocks) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    const int64_t d_mask[3] = {1, 1, Dp}, d_pos[3] = {1, p->N, Dp};
    const int64_t d_ew[2] = {Dp, D}, d_Dp[1] = {Dp}, d_pw[2] = {D, Dp}, d_D[1] = {D};
    if (!(p->mask = ref_vit_lookup(tab, params, "mask_token", 3, d_mask, err, errlen)) ||
        !(p->pos = ref_vit_lookup(tab, params, "predictor_pos_embed", 3, d_pos, err, errlen)) ||
        !(p->ew = ref_vit_lookup(tab, params, "predictor_embed.weight", 2, d_ew, err, errlen)) ||
        !(p->eb = ref_vit_lookup(tab, params, "predictor_embed.bias", 1, d_Dp, err, errlen)) ||
        !(p->nw = ref_vit_lookup(tab, params, "predictor_norm.weight", 1, d_Dp, err, errlen)) ||
        !(p->nb = ref_vit_lookup(tab, params, "predictor_norm.bias", 1, d_Dp, err, errlen)) ||
        !(p->pw = ref_vit_lookup(tab, params, "predictor_proj.weight", 2, d_pw, err, errlen)) ||
        !(p->pb = ref_vit_lookup(tab, params, "predictor_proj.bias", 1, d_D, err, errlen)))
        goto fail;
    /* vit_predictor passes qkv_bias=True */
    if (ref_vit_bind_blocks(p->blocks, cfg->depth, Dp, cfg->hidden, 1, "predictor_blocks", tab,
                            params, err, errlen) != 0)
        goto fail;
    return 0;
fail:
    ref_pred_unbind(p);
    return -1;
}

void ref_pred_unbind(ref_pred *p)
{
    free(p->blocks);
    p->blocks = NULL;
}

int ref_pred_forward(const ref_pred *p, const double *ctx_out, int64_t B,
                     const int32_t *context, int64_t Kc, const int32_t *targets,
                     int64_t Kt, double *out)
{
    const ref_pred_cfg *c = &p->cfg;
    const int64_t D = c->D, Dp = c->Dp, M = c->M, T = Kc + Kt, S = M * B;
    double *emb = ref_dalloc(B * Kc * Dp), *x = ref_dalloc(S * T * Dp);
    double *y = ref_dalloc(S * Kt * Dp), *n = ref_dalloc(S * Kt * Dp);
    int rc = -1;
    if (!emb || !x || !y || !n) goto done;

    /* predictor_embed (Linear D -> Dp) + predictor_pos_embed at the context indices */
    for (int64_t r = 0; r < B * Kc; r++) {
        const double *pe = p->pos + (int64_t)context[r] * Dp;
        for (int64_t o = 0; o < Dp; o++) {
            double s = p->eb[o];
            for (int64_t i = 0; i < D; i++) s += ctx_out[r * D + i] * p->ew[o * D + i];
            emb[r * Dp + o] = s + pe[o];
        }
    }
    /* sequence s = m*B + b: [context tokens of image b | mask tokens of block m of image b] */
    for (int64_t m = 0; m < M; m++)
        for (int64_t b = 0; b < B; b++) {
            const int64_t s = m * B + b;
            double *xs = x + s * T * Dp;
            memcpy(xs, emb + b * Kc * Dp, (size_t)(Kc * Dp) * sizeof(double));
            for (int64_t j = 0; j < Kt; j++) {
                const double *pe = p->pos + (int64_t)targets[s * Kt + j] * Dp;
                for (int64_t d = 0; d < Dp; d++) xs[(Kc + j) * Dp + d] = p->mask[d] + pe[d];
            }
        }
    if (ref_vit_blocks_forward(p->blocks, c->depth, Dp, c->heads, c->hidden, c->eps, S, T, x) != 0)
        goto done;
    /* keep the last Kt tokens of each sequence, predictor_norm, predictor_proj */
    for (int64_t s = 0; s < S; s++)
        memcpy(y + s * Kt * Dp, x + (s * T + Kc) * Dp, (size_t)(Kt * Dp) * sizeof(double));
    ref_layernorm_fwd(S * Kt, Dp, c->eps, y, p->nw, p->nb, n, NULL, NULL);
    for (int64_t r = 0; r < S * Kt; r++)
        for (int64_t o = 0; o < D; o++) {
            double s = p->pb[o];
            for (int64_t i = 0; i < Dp; i++) s += n[r * Dp + i] * p->pw[o * Dp + i];
            out[r * D + o] = s;
        }
    rc = 0;
done:
    free(emb); free(x); free(y); free(n);
    return rc;
}

double ref_ijepa_loss(const double *target_out, int64_t B, int64_t N, int64_t D,
                      const int32_t *targets, int64_t M, int64_t Kt, const double *pred,
                      int32_t kind, double ln_eps, double *terms)
{
    const int64_t R = M * B * Kt;
    const double count = (double)(R * D);
    double sum = 0.0;
    for (int64_t r = 0; r < R; r++) {
        const int64_t b = (r / Kt) % B;
        const double *t = target_out + (b * N + targets[r]) * D;
        double mu = 0.0, var = 0.0;
        for (int64_t d = 0; d < D; d++) mu += t[d];
        mu /= (double)D;
        for (int64_t d = 0; d < D; d++) var += (t[d] - mu) * (t[d] - mu);
        var /= (double)D;
        const double rstd = 1.0 / sqrt(var + ln_eps);
        for (int64_t d = 0; d < D; d++) {
            const double x = pred[r * D + d] - (t[d] - mu) * rstd, ax = fabs(x);
            double e;
            if (kind == IJEPA_LOSS_L2) e = x * x;
            else if (kind == IJEPA_LOSS_L1) e = ax;
            else e = ax < 1.0 ? 0.5 * x * x : ax - 0.5;
            e /= count;
            if (terms) terms[r * D + d] = e;
            sum += e;
        }
    }
    return sum;
}
