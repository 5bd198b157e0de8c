/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * Implements: the public encoder handle (encoder.h): patch embedding,
 * positional embedding, token gather, the block stack and the final norm.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "blocks.h"
#include "config_internal.h"
#include "context_internal.h"
#include "glue.h"
#include "model_internal.h"

struct ijepa_encoder {
    ijepa__err err;
    ijepa_config *cfg;
    ijepa__ops *ops;
    int64_t img, patch, C, G, N, D, cpp, batch_max;
    float eps;
    int trainable;
    int bf16;                  /* precision = bf16 */
    int64_t bucket;            /* seq_bucket */
    struct ijepa_tensor_table tab;
    float *params, *grads;     /* [tab.total] each */
    ijepa__bf16 *patches16;    /* [batch_max * N, C * p * p] bf16: patches */
    int64_t off_pos, off_pw, off_pb, off_nw, off_nb;
    ijepa__stack st;
    float *patches;            /* [batch_max * N, C * p * p] im2col of kept tokens */
    float *fmean, *fvar;       /* [batch_max * N] final LayerNorm statistics */
    float *dx;                 /* [batch_max * N, D] backward residual gradient */
    int64_t kept_B, kept_K;    /* shape of the kept TRAIN forward; 0: none */
    int64_t kept_Kp;           /* its bucketed length (rows per image) */
};

static void init_params(ijepa_encoder *enc, uint64_t seed)
{
    const int64_t D = enc->D;
    const double std = ijepa__cfg_float(enc->cfg, IJEPA_CFG_INIT_STD);
    ijepa__rng rng;
    ijepa__rng_seed(&rng, seed);
    memset(enc->params, 0, (size_t)enc->tab.total * sizeof(float));
    ijepa__sincos_2d(enc->params + enc->off_pos, enc->G, D);
    const double pstd = ijepa__cfg_float(enc->cfg, IJEPA_CFG_PATCH_INIT_STD);
    ijepa__trunc_normal(&rng, enc->params + enc->off_pw, D * enc->cpp, pstd > 0 ? pstd : std,
                        -2.0, 2.0);
    ijepa__stack_init(&enc->st, enc->params, &rng, std,
                      (int)ijepa__cfg_int(enc->cfg, IJEPA_CFG_INIT_DEPTH_RESCALE));
    for (int64_t j = 0; j < D; j++)
        enc->params[enc->off_nw + j] = 1.0f;
    if (enc->grads)
        memset(enc->grads, 0, (size_t)enc->tab.total * sizeof(float));
    enc->kept_B = enc->kept_K = enc->kept_Kp = 0;
    enc->st.S = enc->st.T = enc->st.V = 0;
}

static int add_tensor(ijepa_encoder *enc, const char *name, int32_t flags, int32_t ndim,
                      const int64_t *dims, int64_t *off)
{
    int64_t i = ijepa__table_add(&enc->tab, name, flags, ndim, dims);
    if (i < 0)
        return (int)i;
    *off = enc->tab.t[i].offset;
    return IJEPA_OK;
}

static int build_table(ijepa_encoder *enc, int qkv_bias)
{
    const int64_t D = enc->D;
    const int64_t pos[3] = {1, enc->N, D}, pw[4] = {D, enc->C, enc->patch, enc->patch};
    int rc;
    if ((rc = add_tensor(enc, "pos_embed", IJEPA_TENSOR_FROZEN, 3, pos, &enc->off_pos)) < 0 ||
        (rc = add_tensor(enc, "patch_embed.proj.weight", 0, 4, pw, &enc->off_pw)) < 0 ||
        (rc = add_tensor(enc, "patch_embed.proj.bias", IJEPA_TENSOR_NO_DECAY, 1, &D,
                         &enc->off_pb)) < 0 ||
        (rc = ijepa__stack_add_tensors(&enc->st, &enc->tab, "blocks", qkv_bias)) < 0 ||
        (rc = add_tensor(enc, "norm.weight", IJEPA_TENSOR_NO_DECAY, 1, &D, &enc->off_nw)) < 0 ||
        (rc = add_tensor(enc, "norm.bias", IJEPA_TENSOR_NO_DECAY, 1, &D, &enc->off_nb)) < 0)
        return rc;
    return IJEPA_OK;
}

/* Read and cross-check the configuration. */
static int configure(ijepa_encoder *enc, ijepa__err *e)
{
    const ijepa_config *cfg = enc->cfg;
    enc->img = ijepa__cfg_int(cfg, IJEPA_CFG_IMG_SIZE);
    enc->patch = ijepa__cfg_int(cfg, IJEPA_CFG_PATCH_SIZE);
    enc->C = ijepa__cfg_int(cfg, IJEPA_CFG_IN_CHANS);
    enc->D = ijepa__cfg_int(cfg, IJEPA_CFG_EMBED_DIM);
    enc->batch_max = ijepa__cfg_int(cfg, IJEPA_CFG_BATCH_SIZE);
    enc->trainable = (int)ijepa__cfg_int(cfg, IJEPA_CFG_TRAINABLE);
    enc->eps = (float)ijepa__cfg_float(cfg, IJEPA_CFG_LN_EPS);
    enc->bf16 = ijepa__cfg_int(cfg, IJEPA_CFG_PRECISION) == IJEPA_PRECISION_BF16;
    enc->bucket = ijepa__cfg_int(cfg, IJEPA_CFG_SEQ_BUCKET);
    const int64_t heads = ijepa__cfg_int(cfg, IJEPA_CFG_NUM_HEADS);
    const int64_t depth = ijepa__cfg_int(cfg, IJEPA_CFG_DEPTH);
    const int64_t hidden = (int64_t)((double)enc->D * ijepa__cfg_float(cfg, IJEPA_CFG_MLP_RATIO));
    if (enc->img % enc->patch != 0)
        return ijepa__fail(e, IJEPA_ERR_INVALID_ARG,
                           "img_size %lld is not a multiple of patch_size %lld",
                           (long long)enc->img, (long long)enc->patch);
    if (enc->D % heads != 0)
        return ijepa__fail(e, IJEPA_ERR_INVALID_ARG,
                           "embed_dim %lld is not a multiple of num_heads %lld",
                           (long long)enc->D, (long long)heads);
    if (enc->D % 4 != 0)
        return ijepa__fail(e, IJEPA_ERR_INVALID_ARG,
                           "embed_dim %lld is not a multiple of 4 (2-D sin-cos embedding)",
                           (long long)enc->D);
    if (hidden < 1)
        return ijepa__fail(e, IJEPA_ERR_INVALID_ARG, "mlp_ratio gives a hidden width < 1");
    enc->G = enc->img / enc->patch;
    enc->N = enc->G * enc->G;
    enc->cpp = enc->C * enc->patch * enc->patch;
    /* Refuse sizes whose float counts could overflow before allocating. */
    const double rows = (double)enc->batch_max * (double)enc->N;
    const double attn = rows * (double)heads * (double)enc->N;
    const double per_layer = rows * (7.0 * (double)enc->D + 2.0 * (double)hidden) + attn;
    const double total = per_layer * (double)(enc->trainable ? depth + 2 : 3) +
                         rows * (double)enc->cpp;
    if (total > 0x1p40)
        return ijepa__fail(e, IJEPA_ERR_NOMEM,
                           "batch_size %lld at %lld tokens needs about %.0f GiB of activations",
                           (long long)enc->batch_max, (long long)enc->N,
                           total * 4.0 / 1073741824.0);
    ijepa__stack *st = &enc->st;
    st->D = enc->D;
    st->H = heads;
    st->hidden = hidden;
    st->depth = depth;
    st->eps = enc->eps;
    st->max_rows = enc->batch_max * enc->N;
    st->max_attn = enc->batch_max * heads * enc->N * enc->N;
    st->trainable = enc->trainable;
    st->bf16 = enc->bf16;
    st->attn_own = enc->bf16 && ijepa__attention_own_default(enc->N, enc->D / heads);
    st->wpk_min = ijepa__pack_bytes(enc->cpp, enc->D); /* the patch embedding's weights */
    st->owner_d1 = 1; /* the final LayerNorm's padded rows (masked forwards) */
    return IJEPA_OK;
}

/* Everything of ijepa_encoder_create() but the allocations: *out holds the
 * configuration, the tensor table and the sizes (model_internal.h). */
static int plan(ijepa_encoder **out, const ijepa_config *cfg, const char *func)
{
    *out = NULL;
    ijepa_encoder *enc = calloc(1, sizeof *enc);
    if (!enc)
        return ijepa__fail_func(func, IJEPA_ERR_NOMEM, "cannot allocate the encoder");
    ijepa__err *e = &enc->err;
    ijepa__enter(e, func);
    int rc = ijepa_config_copy(&enc->cfg, cfg);
    if (rc < 0)
        goto fail; /* its own message names the cause */
    if ((rc = configure(enc, e)) < 0)
        goto fail;
    if ((rc = build_table(enc, (int)ijepa__cfg_int(cfg, IJEPA_CFG_QKV_BIAS))) < 0) {
        rc = ijepa__fail(e, rc, "cannot build the tensor table");
        goto fail;
    }
    enc->st.arena_floats = ijepa__stack_arena_floats(&enc->st);
    *out = enc;
    return IJEPA_OK;
fail:
    ijepa_encoder_free(enc);
    return rc;
}

int ijepa__encoder_plan(ijepa_encoder **out, const ijepa_config *cfg, const char *func)
{
    return plan(out, cfg, func);
}

int ijepa_encoder_estimate_bytes(const ijepa_config *cfg, int64_t *bytes)
{
    if (!cfg || !bytes)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG,
                                "config and bytes must not be NULL");
    ijepa_encoder *enc;
    const int rc = plan(&enc, cfg, __func__);
    if (rc < 0)
        return rc;
    *bytes = ijepa_encoder_memory_bytes(enc);
    ijepa_encoder_free(enc);
    return IJEPA_OK;
}

int ijepa_encoder_create(ijepa_encoder **out, ijepa_context *ctx, const ijepa_config *cfg)
{
    if (!out)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "out is NULL");
    *out = NULL;
    if (!ctx || !cfg)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG,
                                "context and config must not be NULL");
    ijepa_encoder *enc;
    int rc = plan(&enc, cfg, __func__);
    if (rc < 0)
        return rc;
    ijepa__err *e = &enc->err;
    const int64_t rows = enc->batch_max * enc->N;
    enc->params = ijepa__falloc(enc->tab.total);
    enc->grads = enc->trainable ? ijepa__falloc(enc->tab.total) : NULL; /* none to keep */
    enc->patches = ijepa__falloc(rows * enc->cpp);
    enc->fmean = ijepa__falloc(enc->trainable ? rows : 0);
    enc->fvar = ijepa__falloc(enc->trainable ? rows : 0);
    enc->dx = ijepa__falloc(enc->trainable ? rows * enc->D : 0);
    /* bf16: the weights are packed just in time into the stack's wpk (the
     * patch embedding's too), no copy of the model is kept */
    if (enc->bf16)
        enc->patches16 = (ijepa__bf16 *)(void *)ijepa__falloc((rows * enc->cpp + 1) / 2);
    if (!enc->params || (enc->trainable && !enc->grads) || !enc->patches || !enc->fmean ||
        !enc->fvar || !enc->dx || (enc->bf16 && !enc->patches16)) {
        rc = ijepa__fail(e, IJEPA_ERR_NOMEM, "cannot allocate parameter and patch buffers");
        goto fail;
    }
    if ((rc = ijepa__stack_alloc(&enc->st, e)) < 0)
        goto fail;
    if ((rc = ijepa__ops_create(&enc->ops, ctx->eng,
                                 (int32_t)ijepa__cfg_int(cfg, IJEPA_CFG_PRIMITIVE_CACHE), e)) < 0)
        goto fail;
    init_params(enc, (uint64_t)ijepa__cfg_int(cfg, IJEPA_CFG_SEED));
    *out = enc;
    return IJEPA_OK;
fail:
    ijepa_encoder_free(enc);
    return rc;
}

void ijepa_encoder_free(ijepa_encoder *enc)
{
    if (!enc)
        return;
    ijepa__ops_free(enc->ops);
    ijepa__stack_free(&enc->st);
    ijepa__table_clear(&enc->tab);
    ijepa__ffree(enc->params);
    ijepa__ffree(enc->grads);
    ijepa__ffree((float *)(void *)enc->patches16);
    ijepa__ffree(enc->patches);
    ijepa__ffree(enc->fmean);
    ijepa__ffree(enc->fvar);
    ijepa__ffree(enc->dx);
    ijepa_config_free(enc->cfg);
    free(enc);
}

const ijepa_config *ijepa_encoder_config(const ijepa_encoder *enc)
{
    return enc ? enc->cfg : NULL;
}

int64_t ijepa_encoder_num_patches(const ijepa_encoder *enc) { return enc ? enc->N : 0; }

int64_t ijepa_encoder_embed_dim(const ijepa_encoder *enc) { return enc ? enc->D : 0; }

int64_t ijepa_encoder_memory_bytes(const ijepa_encoder *enc)
{
    if (!enc)
        return 0;
    const int64_t rows = enc->batch_max * enc->N;
    int64_t floats = (enc->trainable ? 2 : 1) * enc->tab.total + enc->st.arena_floats +
                     rows * enc->cpp +
                     (enc->st.spare ? ijepa__stack_spare_floats(&enc->st) : 0);
    if (enc->bf16)
        floats += (rows * enc->cpp + 1) / 2;
    if (enc->trainable)
        floats += rows * (2 + enc->D);
    return floats * (int64_t)sizeof(float);
}

int ijepa_encoder_init_params(ijepa_encoder *enc, uint64_t seed)
{
    if (!enc)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "encoder is NULL");
    init_params(enc, seed);
    return IJEPA_OK;
}

// --- forward -------------------------------------------------------------------------------

/* patches [B*Kp, C*p*p]: the pixels of each kept patch, channel-major like
 * the Conv2d weight [D, C, p, p], so patch embedding is one matmul; the
 * Kp - K padding rows of each image are 0. */
static void im2col(const ijepa_encoder *enc, const float *images, int64_t B,
                   const int32_t *keep, int64_t K, int64_t Kp, float *patches)
{
    const int64_t p = enc->patch, G = enc->G, C = enc->C, img = enc->img;
#pragma omp parallel for schedule(static) if (B * Kp * enc->cpp >= 32768)
    for (int64_t r = 0; r < B * Kp; r++) {
        const int64_t b = r / Kp, j = r % Kp;
        float *dst = patches + r * enc->cpp;
        if (j >= K) {
            memset(dst, 0, (size_t)enc->cpp * sizeof *dst);
            continue;
        }
        const int64_t n = keep ? keep[b * K + j] : j;
        const int64_t pr = n / G, pc = n % G;
        for (int64_t c = 0; c < C; c++)
            for (int64_t i = 0; i < p; i++) {
                const float *src = images + ((b * C + c) * img + pr * p + i) * img + pc * p;
                switch (p) { /* constant sizes become inline vector moves */
                case 16: memcpy(dst + (c * p + i) * p, src, 16 * sizeof(float)); break;
                case 14: memcpy(dst + (c * p + i) * p, src, 14 * sizeof(float)); break;
                case 8: memcpy(dst + (c * p + i) * p, src, 8 * sizeof(float)); break;
                case 4: memcpy(dst + (c * p + i) * p, src, 4 * sizeof(float)); break;
                case 2: memcpy(dst + (c * p + i) * p, src, 2 * sizeof(float)); break;
                default: memcpy(dst + (c * p + i) * p, src, (size_t)p * sizeof(float)); break;
                }
            }
    }
}

int ijepa_encoder_forward(ijepa_encoder *enc, const float *images, int64_t batch,
                          const int32_t *keep, int64_t n_keep, float *out, int32_t mode)
{
    if (!enc)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "encoder is NULL");
    ijepa__err *e = &enc->err;
    ijepa__enter(e, __func__);
    if (!images || !out)
        return ijepa__fail(e, IJEPA_ERR_INVALID_ARG, "images and out must not be NULL");
    if (batch < 1 || batch > enc->batch_max)
        return ijepa__fail(e, IJEPA_ERR_INVALID_ARG, "batch %lld is outside [1, %lld]",
                           (long long)batch, (long long)enc->batch_max);
    if (mode != IJEPA_FORWARD_TRAIN && mode != IJEPA_FORWARD_INFERENCE)
        return ijepa__fail(e, IJEPA_ERR_INVALID_ARG, "unknown mode %d", (int)mode);
    if (mode == IJEPA_FORWARD_TRAIN && !enc->trainable)
        return ijepa__fail(e, IJEPA_ERR_STATE,
                           "TRAIN forward on an encoder created with trainable = 0");
    const int64_t N = enc->N, D = enc->D;
    const int64_t K = keep ? n_keep : N;
    if (keep) {
        if (n_keep < 1 || n_keep > N)
            return ijepa__fail(e, IJEPA_ERR_INVALID_ARG, "n_keep %lld is outside [1, %lld]",
                               (long long)n_keep, (long long)N);
        for (int64_t i = 0; i < batch * K; i++)
            if (keep[i] < 0 || keep[i] >= N)
                return ijepa__fail(e, IJEPA_ERR_INVALID_ARG,
                                   "keep[%lld] = %d is outside [0, %lld)", (long long)i,
                                   (int)keep[i], (long long)N);
    }
    const int training = mode == IJEPA_FORWARD_TRAIN;
    /* a masked forward runs K tokens per image padded to a bucketed Kp */
    const int64_t Kp = keep ? ijepa__bucket_len(K, enc->bucket, N) : N;
    const int64_t R = batch * Kp;
    enc->kept_B = enc->kept_K = enc->kept_Kp = 0;

    float *x = ijepa__stack_input(&enc->st);
    im2col(enc, images, batch, keep, K, Kp, enc->patches);
    int rc;
    if (enc->bf16) {
        /* the patch embedding's weights packed into the stack's buffer,
         * free until the first block packs its own */
        ijepa__to_bf16(ijepa__ops_simd(enc->ops), enc->patches, enc->patches16, R * enc->cpp);
        rc = ijepa__pack_linear(enc->ops, enc->cpp, D, enc->params + enc->off_pw, enc->st.wpk);
        if (rc == IJEPA_OK)
            rc = ijepa__linear16(enc->ops, R, enc->cpp, D, enc->patches16, enc->st.wpk,
                                 enc->params + enc->off_pb, 0, x, 0);
    } else {
        rc = ijepa__linear(enc->ops, R, enc->cpp, D, enc->patches, enc->params + enc->off_pw,
                           enc->params + enc->off_pb, 0, x);
    }
    if (rc < 0)
        return rc;
    const float *pos = enc->params + enc->off_pos;
#pragma omp parallel for schedule(static) if (R * D >= 32768)
    for (int64_t r = 0; r < R; r++) {
        const int64_t b = r / Kp, j = r % Kp;
        if (j >= K)
            continue; /* padding: the bias alone */
        const int64_t n = keep ? keep[b * K + j] : j;
        for (int64_t d = 0; d < D; d++)
            x[r * D + d] += pos[n * D + d];
    }
    float *y;
    if ((rc = ijepa__stack_forward(&enc->st, enc->ops, enc->params, batch, Kp, K, 0, Kp, training,
                                   &y)) < 0)
        return rc;
    /* the final norm over the padded rows, into out directly without
     * padding, else into scratch whose real rows are then copied out */
    float *fin = Kp == K ? out : enc->st.bufD1;
    rc = ijepa__layernorm_fwd(enc->ops, R, D, enc->eps, y, enc->params + enc->off_nw,
                              enc->params + enc->off_nb, fin, training ? enc->fmean : NULL,
                              training ? enc->fvar : NULL);
    if (rc < 0)
        return rc;
    if (fin != out)
        for (int64_t b = 0; b < batch; b++)
            memcpy(out + b * K * D, fin + b * Kp * D, (size_t)(K * D) * sizeof *out);
    if (training) {
        enc->kept_B = batch;
        enc->kept_K = K;
        enc->kept_Kp = Kp;
    }
    return IJEPA_OK;
}

// --- backward -------------------------------------------------------------------------------

int ijepa_encoder_backward(ijepa_encoder *enc, const float *d_out)
{
    if (!enc)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "encoder is NULL");
    ijepa__err *e = &enc->err;
    ijepa__enter(e, __func__);
    if (!d_out)
        return ijepa__fail(e, IJEPA_ERR_INVALID_ARG, "d_out is NULL");
    if (enc->kept_B == 0)
        return ijepa__fail(e, IJEPA_ERR_STATE, "no TRAIN forward is kept");
    const int64_t K = enc->kept_K, Kp = enc->kept_Kp, D = enc->D, R = enc->kept_B * Kp;
    float *g = enc->grads;
    const float *dy = d_out;
    if (Kp != K) { /* d_out with zero rows for the padding */
        float *pad = enc->st.bufD1;
        for (int64_t b = 0; b < enc->kept_B; b++) {
            memcpy(pad + b * Kp * D, d_out + b * K * D, (size_t)(K * D) * sizeof *pad);
            memset(pad + (b * Kp + K) * D, 0, (size_t)((Kp - K) * D) * sizeof *pad);
        }
        dy = pad;
    }
    int rc = ijepa__layernorm_bwd(enc->ops, R, D, enc->eps, enc->st.x_final, enc->fmean,
                                  enc->fvar, enc->params + enc->off_nw, dy, enc->dx,
                                  enc->st.dgamma, enc->st.dbeta);
    if (rc < 0)
        return rc;
    ijepa__add_inplace(g + enc->off_nw, enc->st.dgamma, D);
    ijepa__add_inplace(g + enc->off_nb, enc->st.dbeta, D);
    if ((rc = ijepa__stack_backward(&enc->st, enc->ops, enc->params, g, enc->dx)) < 0)
        return rc;
    /* patch embedding: weights and bias only, images need no gradient */
    if (enc->bf16) {
        ijepa__bf16 *d16 = enc->st.b16;
        ijepa__to_bf16_colsum(ijepa__ops_simd(enc->ops), R, D, enc->dx, d16, g + enc->off_pb,
                              enc->st.part);
        return ijepa__linear16_bwd(enc->ops, R, enc->cpp, D, d16, NULL, enc->patches16, NULL,
                                   NULL, NULL, g + enc->off_pw);
    }
    return ijepa__linear_bwd(enc->ops, R, enc->cpp, D, enc->dx, enc->params + enc->off_pw,
                             enc->patches, NULL, g + enc->off_pw, g + enc->off_pb);
}

int ijepa_encoder_zero_grad(ijepa_encoder *enc)
{
    if (!enc)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "encoder is NULL");
    if (enc->grads)
        ijepa__zero(enc->grads, enc->tab.total);
    return IJEPA_OK;
}

static int borrow(ijepa_encoder *enc, const char *func, float *buf, float **data,
                  int64_t *count)
{
    if (!enc)
        return ijepa__fail_func(func, IJEPA_ERR_INVALID_ARG, "encoder is NULL");
    ijepa__enter(&enc->err, func);
    if (!data || !count)
        return ijepa__fail(&enc->err, IJEPA_ERR_INVALID_ARG, "data and count must not be NULL");
    *data = buf;
    *count = enc->tab.total;
    return IJEPA_OK;
}

int ijepa_encoder_params(ijepa_encoder *enc, float **data, int64_t *count)
{
    return borrow(enc, __func__, enc ? enc->params : NULL, data, count);
}

int ijepa_encoder_grads(ijepa_encoder *enc, float **data, int64_t *count)
{
    const int rc = borrow(enc, __func__, enc ? enc->grads : NULL, data, count);
    if (rc == IJEPA_OK && !enc->grads) {
        *count = 0;
        return ijepa__fail(&enc->err, IJEPA_ERR_STATE,
                           "no gradient buffer: the encoder was created with trainable = 0");
    }
    return rc;
}

ijepa__ops *ijepa__encoder_ops(const ijepa_encoder *enc) { return enc ? enc->ops : NULL; }

const ijepa_tensor_table *ijepa_encoder_tensors(const ijepa_encoder *enc)
{
    return enc ? &enc->tab : NULL;
}
