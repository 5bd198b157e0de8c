/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * Implements: the public predictor handle (predictor.h).
 */
#include <stdlib.h>
#include <string.h>

#include "blocks.h"
#include "config_internal.h"
#include "context_internal.h"
#include "glue.h"
#include "model_internal.h"

/* Seeds the predictor's init stream apart from the encoder's. */
#define PRED_SEED_SALT 0x70726564696374ULL

struct ijepa_predictor {
    ijepa__err err;
    ijepa_config *cfg;  /* own copy (ijepa_predictor_config()) */
    ijepa__ops *ops;
    int64_t N, G, D, Dp, M, batch_max, Tmax;
    float eps;
    double init_std;
    int trainable, depth_rescale;
    int bf16;           /* precision = bf16 */
    int64_t bucket;     /* seq_bucket */
    struct ijepa_tensor_table tab;
    float *params, *grads;
    ijepa__bf16 *z16;   /* [B*N, D] bf16 ctx_out (kept in TRAIN)                  */
    ijepa__bf16 *nt16;  /* [M*B*N, Dp] bf16 predictor_norm of yt (instead of nt) */
    ijepa__bf16 *nxh16; /* [M*B*N, Dp] its normalised input, kept (TRAIN)           */
    ijepa__bf16 *g16;   /* [max(M*B*N*D, B*N*Dp)] bf16 backward scratch           */
    int64_t off_mask, off_pos, off_ew, off_eb, off_nw, off_nb, off_pw, off_pb;
    ijepa__stack st;
    float *z;           /* [B*N, D]   copy of ctx_out, padded to Kcp rows per image (f32) */
    float *dz;          /* [B*N, D]   backward scratch: d_ctx with padding rows */
    float *emb;         /* [B*N, Dp]  embedded context tokens               */
    float *yt;          /* [M*B*N, Dp] stack output at the target positions */
    float *nt;          /* [M*B*N, Dp] predictor_norm of yt                 */
    float *nmean, *nvar;/* [M*B*N]                                          */
    float *dnt, *dyt;   /* [M*B*N, Dp] backward scratch                     */
    float *demb;        /* [B*N, Dp]  backward scratch                      */
    float *dx;          /* [M*B*Tmax, Dp] backward residual gradient        */
    int64_t kB, kKc, kKt; /* kept TRAIN forward shape; kB = 0: none */
    int64_t kKcp, kTp;  /* its bucketed context length and sequence length */
};

static void init_params(ijepa_predictor *p, uint64_t seed)
{
    const int64_t D = p->D, Dp = p->Dp;
    ijepa__rng rng;
    ijepa__rng_seed(&rng, seed ^ PRED_SEED_SALT);
    memset(p->params, 0, (size_t)p->tab.total * sizeof(float));
    ijepa__trunc_normal(&rng, p->params + p->off_mask, Dp, p->init_std, -2.0, 2.0);
    ijepa__sincos_2d(p->params + p->off_pos, p->G, Dp);
    ijepa__trunc_normal(&rng, p->params + p->off_ew, Dp * D, p->init_std, -2.0, 2.0);
    ijepa__stack_init(&p->st, p->params, &rng, p->init_std, p->depth_rescale);
    for (int64_t j = 0; j < Dp; j++)
        p->params[p->off_nw + j] = 1.0f;
    ijepa__trunc_normal(&rng, p->params + p->off_pw, D * Dp, p->init_std, -2.0, 2.0);
    if (p->grads)
        memset(p->grads, 0, (size_t)p->tab.total * sizeof(float));
    p->kB = 0;
    p->st.S = p->st.T = p->st.V = 0;
}

static int add(ijepa_predictor *p, const char *name, int32_t flags, int32_t ndim,
               const int64_t *dims, int64_t *off)
{
    int64_t i = ijepa__table_add(&p->tab, name, flags, ndim, dims);
    if (i < 0)
        return (int)i;
    *off = p->tab.t[i].offset;
    return IJEPA_OK;
}

static int build_table(ijepa_predictor *p)
{
    const int64_t D = p->D, Dp = p->Dp;
    const int64_t mask[3] = {1, 1, Dp}, pos[3] = {1, p->N, Dp};
    const int64_t ew[2] = {Dp, D}, pw[2] = {D, Dp};
    int rc;
    if ((rc = add(p, "mask_token", 0, 3, mask, &p->off_mask)) < 0 ||
        (rc = add(p, "predictor_pos_embed", IJEPA_TENSOR_FROZEN, 3, pos, &p->off_pos)) < 0 ||
        (rc = add(p, "predictor_embed.weight", 0, 2, ew, &p->off_ew)) < 0 ||
        (rc = add(p, "predictor_embed.bias", IJEPA_TENSOR_NO_DECAY, 1, &Dp, &p->off_eb)) < 0 ||
        (rc = ijepa__stack_add_tensors(&p->st, &p->tab, "predictor_blocks", 1)) < 0 ||
        (rc = add(p, "predictor_norm.weight", IJEPA_TENSOR_NO_DECAY, 1, &Dp, &p->off_nw)) < 0 ||
        (rc = add(p, "predictor_norm.bias", IJEPA_TENSOR_NO_DECAY, 1, &Dp, &p->off_nb)) < 0 ||
        (rc = add(p, "predictor_proj.weight", 0, 2, pw, &p->off_pw)) < 0 ||
        (rc = add(p, "predictor_proj.bias", IJEPA_TENSOR_NO_DECAY, 1, &D, &p->off_pb)) < 0)
        return rc;
    return IJEPA_OK;
}

static int configure(ijepa_predictor *p, const ijepa_config *cfg, ijepa__err *e)
{
    const int64_t img = ijepa__cfg_int(cfg, IJEPA_CFG_IMG_SIZE);
    const int64_t patch = ijepa__cfg_int(cfg, IJEPA_CFG_PATCH_SIZE);
    int64_t heads = ijepa__cfg_int(cfg, IJEPA_CFG_PRED_NUM_HEADS);
    if (heads == 0)
        heads = ijepa__cfg_int(cfg, IJEPA_CFG_NUM_HEADS);
    p->D = ijepa__cfg_int(cfg, IJEPA_CFG_EMBED_DIM);
    p->Dp = ijepa__cfg_int(cfg, IJEPA_CFG_PRED_EMBED_DIM);
    p->M = ijepa__cfg_int(cfg, IJEPA_CFG_NUM_TARGETS);
    p->batch_max = ijepa__cfg_int(cfg, IJEPA_CFG_BATCH_SIZE);
    p->eps = (float)ijepa__cfg_float(cfg, IJEPA_CFG_LN_EPS);
    p->init_std = ijepa__cfg_float(cfg, IJEPA_CFG_INIT_STD);
    p->trainable = (int)ijepa__cfg_int(cfg, IJEPA_CFG_TRAINABLE);
    p->depth_rescale = (int)ijepa__cfg_int(cfg, IJEPA_CFG_INIT_DEPTH_RESCALE);
    p->bf16 = ijepa__cfg_int(cfg, IJEPA_CFG_PRECISION) == IJEPA_PRECISION_BF16;
    p->bucket = ijepa__cfg_int(cfg, IJEPA_CFG_SEQ_BUCKET);
    if (img % patch != 0)
        return ijepa__fail(e, IJEPA_ERR_INVALID_ARG,
                           "img_size %lld is not a multiple of patch_size %lld",
                           (long long)img, (long long)patch);
    if (p->Dp % 4 != 0 || p->Dp % heads != 0)
        return ijepa__fail(e, IJEPA_ERR_INVALID_ARG,
                           "pred_embed_dim %lld must be a multiple of 4 and of the %lld heads",
                           (long long)p->Dp, (long long)heads);
    p->G = img / patch;
    p->N = p->G * p->G;
    /* Context and targets are disjoint until the official relaxation rule
     * gives up removing targets from the context: then a sequence can hold
     * the whole context next to a full target block. */
    const int64_t tbound = ijepa__mask_target_area_bound(cfg);
    p->Tmax = ijepa__cfg_int(cfg, IJEPA_CFG_ALLOW_OVERLAP) ? 2 * p->N
              : p->N + (tbound < p->N ? tbound : p->N);
    const double S = (double)p->M * (double)p->batch_max, T = (double)p->Tmax;
    const double total = S * T * (double)p->Dp * 20.0 * (double)ijepa__cfg_int(cfg, IJEPA_CFG_PRED_DEPTH) +
                         S * (double)heads * T * T * 3.0;
    if (total > 0x1p40)
        return ijepa__fail(e, IJEPA_ERR_NOMEM,
                           "batch_size %lld x %lld targets needs about %.0f GiB of activations",
                           (long long)p->batch_max, (long long)p->M, total * 4.0 / 1073741824.0);
    ijepa__stack *st = &p->st;
    st->D = p->Dp;
    st->H = heads;
    st->hidden = 4 * p->Dp;
    st->depth = ijepa__cfg_int(cfg, IJEPA_CFG_PRED_DEPTH);
    st->eps = p->eps;
    st->max_rows = p->M * p->batch_max * p->Tmax;
    st->max_attn = p->M * p->batch_max * heads * p->Tmax * p->Tmax;
    st->trainable = p->trainable;
    st->bf16 = p->bf16;
    st->attn_own = p->bf16 && ijepa__attention_own_default(p->Tmax, p->Dp / heads);
    /* predictor_embed (D -> Dp) and predictor_proj (Dp -> D) pack their
     * weights into the stack's buffer, either way round */
    const int64_t we = ijepa__pack_bytes(p->D, p->Dp), wp = ijepa__pack_bytes(p->Dp, p->D);
    st->wpk_min = we > wp ? we : wp;
    return IJEPA_OK;
}

/* Everything of ijepa_predictor_create() but the allocations
 * (model_internal.h). */
static int plan(ijepa_predictor **out, const ijepa_config *cfg, const char *func)
{
    *out = NULL;
    ijepa_predictor *p = calloc(1, sizeof *p);
    if (!p)
        return ijepa__fail_func(func, IJEPA_ERR_NOMEM, "cannot allocate the predictor");
    ijepa__err *e = &p->err;
    ijepa__enter(e, func);
    int rc = ijepa_config_copy(&p->cfg, cfg);
    if (rc < 0)
        goto fail; /* its own message names the cause */
    if ((rc = configure(p, cfg, e)) < 0)
        goto fail;
    if ((rc = build_table(p)) < 0) {
        rc = ijepa__fail(e, rc, "cannot build the tensor table");
        goto fail;
    }
    p->st.arena_floats = ijepa__stack_arena_floats(&p->st);
    *out = p;
    return IJEPA_OK;
fail:
    ijepa_predictor_free(p);
    return rc;
}

int ijepa__predictor_plan(ijepa_predictor **out, const ijepa_config *cfg, const char *func)
{
    return plan(out, cfg, func);
}

int ijepa_predictor_estimate_bytes(const ijepa_config *cfg, int64_t *bytes)
{
    if (!cfg || !bytes)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG,
                                "config and bytes must not be NULL");
    ijepa_predictor *p;
    const int rc = plan(&p, cfg, __func__);
    if (rc < 0)
        return rc;
    *bytes = ijepa_predictor_memory_bytes(p);
    ijepa_predictor_free(p);
    return IJEPA_OK;
}

int ijepa_predictor_create(ijepa_predictor **out, ijepa_context *ctx, const ijepa_config *cfg)
{
    if (!out)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "out is NULL");
    *out = NULL;
    if (!ctx || !cfg)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG,
                                "context and config must not be NULL");
    ijepa_predictor *p;
    int rc = plan(&p, cfg, __func__);
    if (rc < 0)
        return rc;
    ijepa__err *e = &p->err;
    const int64_t BN = p->batch_max * p->N, MBN = p->M * BN, tr = p->trainable;
    p->params = ijepa__falloc(p->tab.total);
    p->grads = tr ? ijepa__falloc(p->tab.total) : NULL; /* none to keep */
    const int h = p->bf16;
    p->z = ijepa__falloc(h ? 0 : BN * p->D);
    p->dz = ijepa__falloc(tr ? BN * p->D : 0);
    p->emb = ijepa__falloc(BN * p->Dp);
    p->yt = ijepa__falloc(MBN * p->Dp);
    p->nt = ijepa__falloc(h ? 0 : MBN * p->Dp);
    if (h) {
        p->z16 = (ijepa__bf16 *)(void *)ijepa__falloc((BN * p->D + 1) / 2);
        p->nt16 = (ijepa__bf16 *)(void *)ijepa__falloc((MBN * p->Dp + 1) / 2);
        p->nxh16 = (ijepa__bf16 *)(void *)ijepa__falloc(tr ? (MBN * p->Dp + 1) / 2 : 0);
        const int64_t ng = MBN * p->D > BN * p->Dp ? MBN * p->D : BN * p->Dp;
        p->g16 = (ijepa__bf16 *)(void *)ijepa__falloc(tr ? (ng + 1) / 2 : 0);
    }
    p->nmean = ijepa__falloc(tr ? MBN : 0);
    p->nvar = ijepa__falloc(tr ? MBN : 0);
    p->dnt = ijepa__falloc(tr ? MBN * p->Dp : 0);
    p->dyt = ijepa__falloc(tr ? MBN * p->Dp : 0);
    p->demb = ijepa__falloc(tr ? BN * p->Dp : 0);
    p->dx = ijepa__falloc(tr ? p->M * p->batch_max * p->Tmax * p->Dp : 0);
    if (!p->params || (tr && !p->grads) || !p->z || !p->dz || !p->emb || !p->yt || !p->nt ||
        !p->nmean || !p->nvar || !p->dnt || !p->dyt || !p->demb || !p->dx ||
        (h && (!p->z16 || !p->nt16 || !p->nxh16 || !p->g16))) {
        rc = ijepa__fail(e, IJEPA_ERR_NOMEM, "cannot allocate the predictor buffers");
        goto fail;
    }
    if ((rc = ijepa__stack_alloc(&p->st, e)) < 0)
        goto fail;
    if ((rc = ijepa__ops_create(&p->ops, ctx->eng,
                                 (int32_t)ijepa__cfg_int(cfg, IJEPA_CFG_PRIMITIVE_CACHE), e)) < 0)
        goto fail;
    init_params(p, (uint64_t)ijepa__cfg_int(cfg, IJEPA_CFG_SEED));
    *out = p;
    return IJEPA_OK;
fail:
    ijepa_predictor_free(p);
    return rc;
}

void ijepa_predictor_free(ijepa_predictor *p)
{
    if (!p)
        return;
    ijepa_config_free(p->cfg);
    ijepa__ops_free(p->ops);
    ijepa__stack_free(&p->st);
    ijepa__table_clear(&p->tab);
    float *bufs[] = {p->params, p->grads, p->z, p->dz, p->emb, p->yt, p->nt,
                     p->nmean, p->nvar, p->dnt, p->dyt, p->demb, p->dx};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        ijepa__ffree(bufs[i]);
    ijepa__ffree((float *)(void *)p->z16);
    ijepa__ffree((float *)(void *)p->nt16);
    ijepa__ffree((float *)(void *)p->nxh16);
    ijepa__ffree((float *)(void *)p->g16);
    free(p);
}

const ijepa_config *ijepa_predictor_config(const ijepa_predictor *p)
{
    return p ? p->cfg : NULL;
}

int ijepa_predictor_init_params(ijepa_predictor *p, uint64_t seed)
{
    if (!p)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "predictor is NULL");
    init_params(p, seed);
    return IJEPA_OK;
}

static int check_indices(ijepa__err *e, const char *what, const int32_t *idx, int64_t n,
                         int64_t N)
{
    for (int64_t i = 0; i < n; i++)
        if (idx[i] < 0 || idx[i] >= N)
            return ijepa__fail(e, IJEPA_ERR_INVALID_ARG, "%s[%lld] = %d is outside [0, %lld)",
                               what, (long long)i, (int)idx[i], (long long)N);
    return IJEPA_OK;
}

int ijepa_predictor_forward(ijepa_predictor *p, const float *ctx_out, int64_t B,
                            const int32_t *context, int64_t Kc, const int32_t *targets,
                            int64_t Kt, float *out, int32_t mode)
{
    if (!p)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "predictor is NULL");
    ijepa__err *e = &p->err;
    ijepa__enter(e, __func__);
    if (!ctx_out || !context || !targets || !out)
        return ijepa__fail(e, IJEPA_ERR_INVALID_ARG,
                           "ctx_out, context, targets and out must not be NULL");
    if (B < 1 || B > p->batch_max)
        return ijepa__fail(e, IJEPA_ERR_INVALID_ARG, "batch %lld is outside [1, %lld]",
                           (long long)B, (long long)p->batch_max);
    if (Kc < 1 || Kc > p->N || Kt < 1 || Kt > p->N || Kc + Kt > p->Tmax)
        return ijepa__fail(e, IJEPA_ERR_INVALID_ARG,
                           "n_context %lld and n_target %lld must be in [1, %lld] with a sum "
                           "of at most %lld", (long long)Kc, (long long)Kt, (long long)p->N,
                           (long long)p->Tmax);
    if (mode != IJEPA_FORWARD_TRAIN && mode != IJEPA_FORWARD_INFERENCE)
        return ijepa__fail(e, IJEPA_ERR_INVALID_ARG, "unknown mode %d", (int)mode);
    if (mode == IJEPA_FORWARD_TRAIN && !p->trainable)
        return ijepa__fail(e, IJEPA_ERR_STATE,
                           "TRAIN forward on a predictor created with trainable = 0");
    int rc;
    if ((rc = check_indices(e, "context", context, B * Kc, p->N)) < 0 ||
        (rc = check_indices(e, "targets", targets, p->M * B * Kt, p->N)) < 0)
        return rc;
    const int training = mode == IJEPA_FORWARD_TRAIN;
    const int64_t D = p->D, Dp = p->Dp, M = p->M, T = Kc + Kt, S = M * B;
    /* bucketed lengths: the context rows of predictor_embed, the sequences */
    const int64_t Kcp = ijepa__bucket_len(Kc, p->bucket, p->N);
    const int64_t Tp = ijepa__bucket_len(T, p->bucket, p->Tmax);
    const float *par = p->params, *pos = par + p->off_pos, *mtok = par + p->off_mask;
    p->kB = 0;

    const int lvl = ijepa__ops_simd(p->ops);
    /* ctx_out [B, Kc, D] into z [B, Kcp, D], padding rows 0 (bf16: rounded) */
    for (int64_t b = 0; b < B; b++) {
        const float *src = ctx_out + b * Kc * D;
        if (p->bf16) {
            ijepa__bf16 *z = p->z16 + b * Kcp * D;
            ijepa__to_bf16(lvl, src, z, Kc * D);
            memset(z + Kc * D, 0, (size_t)((Kcp - Kc) * D) * sizeof *z);
        } else {
            float *z = p->z + b * Kcp * D;
            memcpy(z, src, (size_t)(Kc * D) * sizeof *z);
            memset(z + Kc * D, 0, (size_t)((Kcp - Kc) * D) * sizeof *z);
        }
    }
    if (p->bf16) {
        /* each linear layer's weights are packed just before it runs, into
         * the stack's buffer (the blocks pack theirs there in turn) */
        rc = ijepa__pack_linear(p->ops, D, Dp, par + p->off_ew, p->st.wpk);
        if (rc == IJEPA_OK)
            rc = ijepa__linear16(p->ops, B * Kcp, D, Dp, p->z16, p->st.wpk, par + p->off_eb, 0,
                                 p->emb, 0);
    } else {
        rc = ijepa__linear(p->ops, B * Kcp, D, Dp, p->z, par + p->off_ew, par + p->off_eb, 0,
                           p->emb);
    }
    if (rc < 0)
        return rc;
    /* One sequence per (block m, image b): [context of b | mask tokens of
     * block m | padding to Tp, zeros]. */
    float *x = ijepa__stack_input(&p->st);
#pragma omp parallel for schedule(static) if (S * Tp * Dp >= 32768)
    for (int64_t r = 0; r < S * Tp; r++) {
        const int64_t s = r / Tp, t = r % Tp, b = s % B;
        float *dst = x + r * Dp;
        if (t >= T) {
            memset(dst, 0, (size_t)Dp * sizeof *dst);
        } else if (t < Kc) {
            const float *src = p->emb + (b * Kcp + t) * Dp, *pe = pos + context[b * Kc + t] * Dp;
            for (int64_t d = 0; d < Dp; d++)
                dst[d] = src[d] + pe[d];
        } else {
            const float *pe = pos + targets[s * Kt + (t - Kc)] * Dp;
            for (int64_t d = 0; d < Dp; d++)
                dst[d] = mtok[d] + pe[d];
        }
    }
    /* only the mask-token rows go on: the stack's output window */
    float *y;
    if ((rc = ijepa__stack_forward(&p->st, p->ops, par, S, Tp, T, Kc, Kt, training, &y)) < 0)
        return rc;
    memcpy(p->yt, y, (size_t)(S * Kt * Dp) * sizeof(float));
    if (p->bf16) {
        ijepa__layernorm_bf16(lvl, S * Kt, Dp, p->eps, p->yt, par + p->off_nw, par + p->off_nb,
                              p->nt16, training ? p->nxh16 : NULL, training ? p->nvar : NULL);
        if ((rc = ijepa__pack_linear(p->ops, Dp, D, par + p->off_pw, p->st.wpk)) < 0 ||
            (rc = ijepa__linear16(p->ops, S * Kt, Dp, D, p->nt16, p->st.wpk, par + p->off_pb, 0,
                                  out, 0)) < 0)
            return rc;
    } else if ((rc = ijepa__layernorm_fwd(p->ops, S * Kt, Dp, p->eps, p->yt, par + p->off_nw,
                                   par + p->off_nb, p->nt, training ? p->nmean : NULL,
                                   training ? p->nvar : NULL)) < 0 ||
        (rc = ijepa__linear(p->ops, S * Kt, Dp, D, p->nt, par + p->off_pw, par + p->off_pb, 0,
                            out)) < 0) {
        return rc;
    }
    if (training) {
        p->kB = B;
        p->kKc = Kc;
        p->kKt = Kt;
        p->kKcp = Kcp;
        p->kTp = Tp;
    }
    return IJEPA_OK;
}

int ijepa_predictor_backward(ijepa_predictor *p, const float *d_out, float *d_ctx)
{
    if (!p)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "predictor is NULL");
    ijepa__err *e = &p->err;
    ijepa__enter(e, __func__);
    if (!d_out || !d_ctx)
        return ijepa__fail(e, IJEPA_ERR_INVALID_ARG, "d_out and d_ctx must not be NULL");
    if (p->kB == 0)
        return ijepa__fail(e, IJEPA_ERR_STATE, "no TRAIN forward is kept");
    const int64_t B = p->kB, Kc = p->kKc, Kt = p->kKt, T = p->kTp, S = p->M * B;
    const int64_t Kcp = p->kKcp;
    const int64_t D = p->D, Dp = p->Dp;
    const float *par = p->params;
    float *g = p->grads;
    const int lvl = ijepa__ops_simd(p->ops);
    int rc;
    /* predictor_proj and predictor_norm, on the target rows */
    if (p->bf16) {
        /* d_out in bf16; its column sums are the proj bias gradient */
        ijepa__bf16 *d16 = p->g16;
        ijepa__to_bf16_colsum(lvl, S * Kt, D, d_out, d16, g + p->off_pb, p->st.part);
        if ((rc = ijepa__pack_linear_bwd(p->ops, Dp, D, par + p->off_pw, p->st.wpk)) < 0 ||
            (rc = ijepa__linear16_bwd(p->ops, S * Kt, Dp, D, d16, p->st.wpk, p->nt16, NULL,
                                      NULL, p->dnt, g + p->off_pw)) < 0)
            return rc;
        memset(p->dyt, 0, (size_t)(S * Kt * Dp) * sizeof(float));
        ijepa__layernorm_bwd_add(lvl, S * Kt, Dp, p->nxh16, p->nvar, par + p->off_nw, p->dnt,
                                 p->dyt, g + p->off_nw, g + p->off_nb, p->st.part);
    } else {
        if ((rc = ijepa__linear_bwd(p->ops, S * Kt, Dp, D, d_out, par + p->off_pw, p->nt,
                                    p->dnt, g + p->off_pw, g + p->off_pb)) < 0 ||
            (rc = ijepa__layernorm_bwd(p->ops, S * Kt, Dp, p->eps, p->yt, p->nmean, p->nvar,
                                       par + p->off_nw, p->dnt, p->dyt, p->st.dgamma,
                                       p->st.dbeta)) < 0)
            return rc;
        ijepa__add_inplace(g + p->off_nw, p->st.dgamma, Dp);
        ijepa__add_inplace(g + p->off_nb, p->st.dbeta, Dp);
    }
    /* dL/d(yt) is the gradient at the stack's output window (the
     * mask-token rows); the stack returns it at every row of its input */
    memcpy(p->dx, p->dyt, (size_t)(S * Kt * Dp) * sizeof(float));
    if ((rc = ijepa__stack_backward(&p->st, p->ops, par, g, p->dx)) < 0)
        return rc;
    /* mask token: sum over every mask-token row; context rows: sum over blocks */
    float *gm = g + p->off_mask;
    for (int64_t s = 0; s < S; s++)
        ijepa__colsum_add(p->dx + (s * T + Kc) * Dp, Kt, Dp, gm);
    float *demb = p->demb; /* [B, Kcp, Dp], padding rows 0 */
    memset(demb, 0, (size_t)(B * Kcp * Dp) * sizeof(float));
    for (int64_t s = 0; s < S; s++)
        ijepa__add_inplace(demb + (s % B) * Kcp * Dp, p->dx + s * T * Dp, Kc * Dp);
    /* d_ctx straight, or through dz when the context rows were padded */
    float *dctx = Kcp == Kc ? d_ctx : p->dz;
    if (p->bf16) {
        ijepa__bf16 *d16 = p->g16;
        ijepa__to_bf16_colsum(lvl, B * Kcp, Dp, demb, d16, g + p->off_eb, p->st.part);
        rc = ijepa__pack_linear_bwd(p->ops, D, Dp, par + p->off_ew, p->st.wpk);
        if (rc == IJEPA_OK)
            rc = ijepa__linear16_bwd(p->ops, B * Kcp, D, Dp, d16, p->st.wpk, p->z16, NULL,
                                     NULL, dctx, g + p->off_ew);
    } else {
        rc = ijepa__linear_bwd(p->ops, B * Kcp, D, Dp, demb, par + p->off_ew, p->z, dctx,
                               g + p->off_ew, g + p->off_eb);
    }
    if (rc < 0 || dctx == d_ctx)
        return rc;
    for (int64_t b = 0; b < B; b++)
        memcpy(d_ctx + b * Kc * D, dctx + b * Kcp * D, (size_t)(Kc * D) * sizeof(float));
    return IJEPA_OK;
}

int ijepa_predictor_zero_grad(ijepa_predictor *p)
{
    if (!p)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "predictor is NULL");
    if (p->grads)
        ijepa__zero(p->grads, p->tab.total);
    return IJEPA_OK;
}

static int borrow(ijepa_predictor *p, const char *func, float *buf, float **data,
                  int64_t *count)
{
    if (!p)
        return ijepa__fail_func(func, IJEPA_ERR_INVALID_ARG, "predictor is NULL");
    ijepa__enter(&p->err, func);
    if (!data || !count)
        return ijepa__fail(&p->err, IJEPA_ERR_INVALID_ARG, "data and count must not be NULL");
    *data = buf;
    *count = p->tab.total;
    return IJEPA_OK;
}

int ijepa_predictor_params(ijepa_predictor *p, float **data, int64_t *count)
{
    return borrow(p, __func__, p ? p->params : NULL, data, count);
}

int ijepa_predictor_grads(ijepa_predictor *p, float **data, int64_t *count)
{
    const int rc = borrow(p, __func__, p ? p->grads : NULL, data, count);
    if (rc == IJEPA_OK && !p->grads) {
        *count = 0;
        return ijepa__fail(&p->err, IJEPA_ERR_STATE,
                           "no gradient buffer: the predictor was created with trainable = 0");
    }
    return rc;
}

ijepa__ops *ijepa__predictor_ops(const ijepa_predictor *p) { return p ? p->ops : NULL; }

const ijepa_tensor_table *ijepa_predictor_tensors(const ijepa_predictor *p)
{
    return p ? &p->tab : NULL;
}

int64_t ijepa_predictor_memory_bytes(const ijepa_predictor *p)
{
    if (!p)
        return 0;
    const int64_t BN = p->batch_max * p->N, MBN = p->M * BN;
    int64_t floats = (p->trainable ? 2 : 1) * p->tab.total + p->st.arena_floats + BN * p->Dp +
                     2 * MBN * p->Dp +
                     (p->st.spare ? ijepa__stack_spare_floats(&p->st) : 0);
    floats += p->bf16 ? 0 : BN * p->D; /* z */
    if (p->trainable)
        floats += BN * p->D + 2 * MBN + 2 * MBN * p->Dp + BN * p->Dp +
                  p->M * p->batch_max * p->Tmax * p->Dp;
    if (p->bf16) { /* z and nt in bf16, the bf16 gradient scratch (weights: in the arena) */
        const int64_t ng = MBN * p->D > BN * p->Dp ? MBN * p->D : BN * p->Dp;
        floats += (BN * p->D + 1) / 2 + (MBN * p->Dp + 1) / 2 -
                  MBN * p->Dp + (p->trainable ? (ng + 1) / 2 + (MBN * p->Dp + 1) / 2 : 0);
    }
    return floats * (int64_t)sizeof(float);
}
