/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * Implements: the trainer convenience layer (trainer.h), composed from the
 * public handles only, and its persistence: ijepa_trainer_save() and
 * ijepa_trainer_load() on the public checkpoint reader and writer, plus the
 * checkpoint layer's one internal loader (validate every group, then copy).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint_internal.h"
#include "config_internal.h"
#include "model_internal.h"
#include "optim_internal.h"
#include "ijepa/checkpoint.h"
#include "ijepa/loss.h"
#include "ijepa/mask.h"
#include "ijepa/optim.h"
#include "ijepa/trainer.h"

struct ijepa_trainer {
    ijepa__err err;
    ijepa_encoder *enc, *tgt;
    ijepa_predictor *pred;
    ijepa_mask_sampler *masks;
    ijepa_optimizer *opt;
    int64_t B, N, D, M, C, img;
    int64_t step, total, warmup;
    double lr_start, lr, lr_final, wd, wd_final, ema0, ema1, ln_eps;
    int32_t loss_kind;
    int32_t *ctx_idx, *tgt_idx; /* [B*N], [M*B*N]: the masks of the whole batch */
    int32_t *tgt_slice;         /* [M*B*N]: the target blocks of a slice of it */
    int64_t n_ctx, n_tgt, last_batch;
    float *h, *z, *dz, *p, *dp; /* [B*N*D] x3, [M*B*N*D] x2 */
    double *part;               /* [2 + 2D]: partials of the step (ijepa_trainer_partials()) */
    int64_t pending;            /* batch of the computed step awaiting apply, 0 if none */
    double stat[9];
    int have_stat;              /* stat[] holds a step this trainer ran */
};

/* The partials' layout (trainer.h documents it for hosts that read it). */
#define PART_LOSS 0   /* sum of the element losses */
#define PART_IMAGES 1 /* images computed */
#define PART_SUM 2    /* [D] per-feature sums of the pooled normalised target features */
/* PART_SUM + D: [D] per-feature sums of their squares */

int ijepa_trainer_create(ijepa_trainer **out, ijepa_context *ctx, const ijepa_config *cfg)
{
    if (!out)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "out is NULL");
    *out = NULL;
    if (!ctx || !cfg)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG,
                                "context and config must not be NULL");
    ijepa_trainer *tr = calloc(1, sizeof *tr);
    ijepa_config *tcfg = NULL;
    if (!tr)
        return ijepa__fail_func(__func__, IJEPA_ERR_NOMEM, "cannot allocate the trainer");
    ijepa__enter(&tr->err, __func__);
    int rc;
    /* on failure the component's own message names the cause */
    /* the context encoder and predictor train whatever cfg says about
     * trainable; the target encoder never does */
    if ((rc = ijepa_config_copy(&tcfg, cfg)) < 0 ||
        (rc = ijepa_config_set_int(tcfg, IJEPA_CFG_TRAINABLE, 1)) < 0 ||
        (rc = ijepa_encoder_create(&tr->enc, ctx, tcfg)) < 0 ||
        (rc = ijepa_predictor_create(&tr->pred, ctx, tcfg)) < 0 ||
        (rc = ijepa_config_set_int(tcfg, IJEPA_CFG_TRAINABLE, 0)) < 0 ||
        (rc = ijepa_encoder_create(&tr->tgt, ctx, tcfg)) < 0 ||
        (rc = ijepa_mask_sampler_create(&tr->masks, cfg)) < 0 ||
        (rc = ijepa_optimizer_create(&tr->opt, cfg)) < 0)
        goto fail;
    float *pe, *pg, *qe, *qg;
    int64_t ne, nq;
    if ((rc = ijepa_encoder_params(tr->enc, &pe, &ne)) < 0 ||
        (rc = ijepa_encoder_grads(tr->enc, &pg, &ne)) < 0 ||
        (rc = ijepa_predictor_params(tr->pred, &qe, &nq)) < 0 ||
        (rc = ijepa_predictor_grads(tr->pred, &qg, &nq)) < 0 ||
        (rc = ijepa_optimizer_add(tr->opt, pe, pg, ijepa_encoder_tensors(tr->enc))) < 0 ||
        (rc = ijepa_optimizer_add(tr->opt, qe, qg, ijepa_predictor_tensors(tr->pred))) < 0)
        goto fail;
    /* the target encoder starts as an exact copy of the context encoder */
    float *te;
    int64_t nt;
    if ((rc = ijepa_encoder_params(tr->tgt, &te, &nt)) < 0)
        goto fail;
    memcpy(te, pe, (size_t)ne * sizeof(float));

    tr->B = ijepa__cfg_int(cfg, IJEPA_CFG_BATCH_SIZE);
    tr->N = ijepa_encoder_num_patches(tr->enc);
    tr->D = ijepa_encoder_embed_dim(tr->enc);
    tr->M = ijepa__cfg_int(cfg, IJEPA_CFG_NUM_TARGETS);
    tr->C = ijepa__cfg_int(cfg, IJEPA_CFG_IN_CHANS);
    tr->img = ijepa__cfg_int(cfg, IJEPA_CFG_IMG_SIZE);
    tr->total = ijepa__cfg_int(cfg, IJEPA_CFG_TOTAL_STEPS);
    tr->warmup = ijepa__cfg_int(cfg, IJEPA_CFG_WARMUP_STEPS);
    tr->lr_start = ijepa__cfg_float(cfg, IJEPA_CFG_LR_START);
    tr->lr = ijepa__cfg_float(cfg, IJEPA_CFG_LR);
    tr->lr_final = ijepa__cfg_float(cfg, IJEPA_CFG_LR_FINAL);
    tr->wd = ijepa__cfg_float(cfg, IJEPA_CFG_WEIGHT_DECAY);
    tr->wd_final = ijepa__cfg_float(cfg, IJEPA_CFG_WEIGHT_DECAY_FINAL);
    tr->ema0 = ijepa__cfg_float(cfg, IJEPA_CFG_EMA_START);
    tr->ema1 = ijepa__cfg_float(cfg, IJEPA_CFG_EMA_END);
    tr->ln_eps = ijepa__cfg_float(cfg, IJEPA_CFG_TARGET_LN_EPS);
    tr->loss_kind = (int32_t)ijepa__cfg_int(cfg, IJEPA_CFG_LOSS);
    if (tr->warmup > tr->total) {
        rc = ijepa__fail(&tr->err, IJEPA_ERR_INVALID_ARG,
                         "warmup_steps %lld exceeds total_steps %lld", (long long)tr->warmup,
                         (long long)tr->total);
        goto fail;
    }
    const int64_t BN = tr->B * tr->N, MBN = tr->M * BN;
    tr->ctx_idx = malloc((size_t)BN * sizeof(int32_t));
    tr->tgt_idx = malloc((size_t)MBN * sizeof(int32_t));
    tr->tgt_slice = malloc((size_t)MBN * sizeof(int32_t));
    tr->part = calloc((size_t)(2 + 2 * tr->D), sizeof(double));
    tr->h = ijepa__falloc(BN * tr->D);
    tr->z = ijepa__falloc(BN * tr->D);
    tr->dz = ijepa__falloc(BN * tr->D);
    tr->p = ijepa__falloc(MBN * tr->D);
    tr->dp = ijepa__falloc(MBN * tr->D);
    if (!tr->ctx_idx || !tr->tgt_idx || !tr->tgt_slice || !tr->part || !tr->h || !tr->z || !tr->dz || !tr->p || !tr->dp) {
        rc = ijepa__fail(&tr->err, IJEPA_ERR_NOMEM, "cannot allocate the step buffers");
        goto fail;
    }
    ijepa_config_free(tcfg);
    *out = tr;
    return IJEPA_OK;
fail:
    ijepa_config_free(tcfg);
    ijepa_trainer_free(tr);
    return rc;
}

void ijepa_trainer_free(ijepa_trainer *tr)
{
    if (!tr)
        return;
    ijepa_optimizer_free(tr->opt);
    ijepa_mask_sampler_free(tr->masks);
    ijepa_predictor_free(tr->pred);
    ijepa_encoder_free(tr->tgt);
    ijepa_encoder_free(tr->enc);
    free(tr->ctx_idx);
    free(tr->tgt_idx);
    free(tr->tgt_slice);
    free(tr->part);
    ijepa__ffree(tr->h);
    ijepa__ffree(tr->z);
    ijepa__ffree(tr->dz);
    ijepa__ffree(tr->p);
    ijepa__ffree(tr->dp);
    free(tr);
}

// --- the step: compute, (reduce,) apply ------------------------------------------------------

/* Sample the masks of step tr->step for a batch of `batch` images and
 * compute the loss partials and gradients of its images [offset, offset +
 * count) (x holds those images). Messages are prefixed with the public
 * function that tr->err names. */
static int compute(ijepa_trainer *tr, const float *x, int64_t offset, int64_t count,
                   int64_t batch)
{
    const int64_t N = tr->N, D = tr->D, M = tr->M;
    int64_t nc, nt;
    int rc;
    tr->pending = 0; /* whatever happens below, no earlier computation is applied */
    if ((rc = ijepa_mask_sampler_sample(tr->masks, batch, (uint64_t)tr->step, tr->ctx_idx, &nc,
                                        tr->tgt_idx, &nt)) < 0)
        return rc; /* the component named itself */
    /* the mask buffers now hold this step's masks, whatever happens next */
    tr->n_ctx = nc;
    tr->n_tgt = nt;
    tr->last_batch = batch;
    memset(tr->part, 0, (size_t)(2 + 2 * D) * sizeof *tr->part);
    double *psum = tr->part + PART_SUM, *psq = tr->part + PART_SUM + D;
    if (count == 0) { /* an empty slice contributes nothing: zero gradients */
        if ((rc = ijepa_encoder_zero_grad(tr->enc)) < 0 ||
            (rc = ijepa_predictor_zero_grad(tr->pred)) < 0)
            return rc;
        tr->pending = batch;
        return IJEPA_OK;
    }
    /* the slice's rows of the masks: its contexts are contiguous, its
     * target blocks one run of `count` per block index m */
    const int32_t *cm = tr->ctx_idx + offset * nc, *tm = tr->tgt_idx;
    if (count < batch) {
        for (int64_t m = 0; m < M; m++)
            memcpy(tr->tgt_slice + m * count * nt, tr->tgt_idx + (m * batch + offset) * nt,
                   (size_t)(count * nt) * sizeof(int32_t));
        tm = tr->tgt_slice;
    }
    double sum;
    if ((rc = ijepa_encoder_forward(tr->tgt, x, count, NULL, 0, tr->h,
                                    IJEPA_FORWARD_INFERENCE)) < 0 ||
        (rc = ijepa_encoder_forward(tr->enc, x, count, cm, nc, tr->z, IJEPA_FORWARD_TRAIN)) < 0 ||
        (rc = ijepa_predictor_forward(tr->pred, tr->z, count, cm, nc, tm, nt, tr->p,
                                      IJEPA_FORWARD_TRAIN)) < 0 ||
        (rc = ijepa_loss_partial(tr->h, count, N, D, tm, M, nt, tr->p, tr->loss_kind,
                                 tr->ln_eps, batch, tr->dp, &sum)) < 0 ||
        (rc = ijepa_loss_target_moments(tr->h, count, N, D, tr->ln_eps, psum, psq)) < 0 ||
        (rc = ijepa_encoder_zero_grad(tr->enc)) < 0 ||
        (rc = ijepa_predictor_zero_grad(tr->pred)) < 0 ||
        (rc = ijepa_predictor_backward(tr->pred, tr->dp, tr->dz)) < 0 ||
        (rc = ijepa_encoder_backward(tr->enc, tr->dz)) < 0)
        return rc; /* the component named itself */
    tr->part[PART_LOSS] = sum;
    tr->part[PART_IMAGES] = (double)count;
    tr->pending = batch;
    return IJEPA_OK;
}

/* The collapse monitor from the summed partials: the mean over the
 * features of the population standard deviation across the batch. */
static double target_std(const double *sum, const double *sumsq, int64_t D, int64_t batch)
{
    double s = 0.0;
    const double nb = (double)batch;
    for (int64_t d = 0; d < D; d++) {
        const double mean = sum[d] / nb, var = sumsq[d] / nb - mean * mean;
        /* rounding can leave a zero variance slightly negative; NaN stays NaN */
        s += var < 0.0 ? 0.0 : sqrt(var);
    }
    return s / (double)D;
}

/* The update from the (reduced) gradients and partials of the pending step. */
static int apply(ijepa_trainer *tr, double *loss)
{
    const int64_t B = tr->pending, D = tr->D;
    if (B == 0)
        return ijepa__fail(&tr->err, IJEPA_ERR_STATE,
                           "no gradients to apply: compute them first (ijepa_trainer_compute())");
    if (tr->step == INT64_MAX) /* step + 1 below must not overflow */
        return ijepa__fail(&tr->err, IJEPA_ERR_STATE, "the step counter is at its maximum");
    const double *part = tr->part;
    if (part[PART_IMAGES] != (double)B)
        return ijepa__fail(&tr->err, IJEPA_ERR_INVALID_ARG,
                           "the partials count %.17g images, the batch has %lld: sum the "
                           "partials of every slice of the batch, once each",
                           part[PART_IMAGES], (long long)B);
    /* the loss as ijepa_loss_compute() forms it (same element count, same division) */
    const double elems = (double)tr->M * (double)B * (double)tr->n_tgt * (double)D;
    const double L = part[PART_LOSS] / elems;
    if (!isfinite(L))
        return ijepa__fail(&tr->err, IJEPA_ERR_NUMERIC,
                           "the loss is %s (a non-finite pixel, or a diverging run); nothing "
                           "was updated", isnan(L) ? "NaN" : "infinite");
    const double tstd = target_std(part + PART_SUM, part + PART_SUM + D, D, B);
    if (!isfinite(tstd))
        return ijepa__fail(&tr->err, IJEPA_ERR_NUMERIC, "the target features' std is %s",
                           isnan(tstd) ? "NaN" : "infinite");
    /* official order: schedulers step (counter + 1) before the update; the
     * momentum generator yields its value for the completed-step index */
    const double lr = ijepa_schedule_lr(tr->step + 1, tr->warmup, tr->total, tr->lr_start,
                                        tr->lr, tr->lr_final);
    const double wd = ijepa_schedule_weight_decay(tr->step + 1, tr->total, tr->wd, tr->wd_final);
    const double m = ijepa_schedule_momentum(tr->step, tr->total, tr->ema0, tr->ema1);
    double gnorm = 0;
    int rc;
    /* a non-finite gradient fails the optimizer step, which then changed
     * nothing; the step measures the gradient norm in the pass that checks
     * the gradients (one pass instead of ijepa_optimizer_grad_norm's second) */
    if ((rc = ijepa__optimizer_step_norm(tr->opt, "ijepa_optimizer_step", lr, wd, &gnorm)) < 0 ||
        (rc = ijepa_encoder_ema_update(tr->tgt, tr->enc, m > 1.0 ? 1.0 : m)) < 0)
        return rc; /* the component named itself */
    tr->step++;
    tr->pending = 0;
    tr->stat[IJEPA_STAT_LOSS] = L;
    tr->stat[IJEPA_STAT_TARGET_STD] = tstd;
    tr->stat[IJEPA_STAT_LR] = lr;
    tr->stat[IJEPA_STAT_WEIGHT_DECAY] = wd;
    tr->stat[IJEPA_STAT_MOMENTUM] = m;
    tr->stat[IJEPA_STAT_N_CONTEXT] = (double)tr->n_ctx;
    tr->stat[IJEPA_STAT_N_TARGET] = (double)tr->n_tgt;
    tr->stat[IJEPA_STAT_GRAD_NORM] = gnorm;
    tr->have_stat = 1;
    if (loss)
        *loss = L;
    return IJEPA_OK;
}

int ijepa_trainer_compute(ijepa_trainer *tr, const float *images, int64_t offset,
                          int64_t count, int64_t batch)
{
    if (!tr)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "trainer is NULL");
    ijepa__enter(&tr->err, __func__);
    if (batch < 1 || batch > tr->B)
        return ijepa__fail(&tr->err, IJEPA_ERR_INVALID_ARG, "batch %lld is outside [1, %lld]",
                           (long long)batch, (long long)tr->B);
    if (offset < 0 || count < 0 || offset > batch || count > batch - offset)
        return ijepa__fail(&tr->err, IJEPA_ERR_INVALID_ARG,
                           "slice [%lld, %lld + %lld) is not inside the batch of %lld images",
                           (long long)offset, (long long)offset, (long long)count,
                           (long long)batch);
    if (!images && count > 0)
        return ijepa__fail(&tr->err, IJEPA_ERR_INVALID_ARG, "images is NULL");
    if (tr->step == INT64_MAX) /* no step could apply it */
        return ijepa__fail(&tr->err, IJEPA_ERR_STATE, "the step counter is at its maximum");
    return compute(tr, images, offset, count, batch);
}

int ijepa_trainer_apply(ijepa_trainer *tr, double *loss)
{
    if (!tr)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "trainer is NULL");
    ijepa__enter(&tr->err, __func__);
    return apply(tr, loss);
}

int ijepa_trainer_partials(ijepa_trainer *tr, double **data, int64_t *count)
{
    if (!tr || !data || !count)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG,
                                "trainer, data and count must not be NULL");
    *data = tr->part;
    *count = 2 + 2 * tr->D;
    return IJEPA_OK;
}

int ijepa_trainer_step(ijepa_trainer *tr, const float *images, int64_t B, double *loss)
{
    if (!tr)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "trainer is NULL");
    ijepa__enter(&tr->err, __func__);
    if (!images)
        return ijepa__fail(&tr->err, IJEPA_ERR_INVALID_ARG, "images is NULL");
    if (B < 1 || B > tr->B)
        return ijepa__fail(&tr->err, IJEPA_ERR_INVALID_ARG, "batch %lld is outside [1, %lld]",
                           (long long)B, (long long)tr->B);
    if (tr->step == INT64_MAX) /* step + 1 in apply must not overflow */
        return ijepa__fail(&tr->err, IJEPA_ERR_STATE, "the step counter is at its maximum");
    /* the whole batch is one slice: its partials are already the sums */
    int rc = compute(tr, images, 0, B, B);
    if (rc == IJEPA_OK)
        rc = apply(tr, loss);
    tr->pending = 0; /* a failed step leaves nothing to apply */
    return rc;
}

int64_t ijepa_trainer_step_count(const ijepa_trainer *tr) { return tr ? tr->step : 0; }

int ijepa_trainer_stat(const ijepa_trainer *tr, int32_t stat, double *value)
{
    if (!tr || !value)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG,
                                "trainer and value must not be NULL");
    if (stat < IJEPA_STAT_LOSS || stat > IJEPA_STAT_GRAD_NORM)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "unknown statistic %d",
                                (int)stat);
    if (!tr->have_stat)
        return ijepa__fail_func(__func__, IJEPA_ERR_STATE, "no step has completed");
    *value = tr->stat[stat];
    return IJEPA_OK;
}

int ijepa_trainer_masks(const ijepa_trainer *tr, const int32_t **context, int64_t *n_context,
                        const int32_t **targets, int64_t *n_target, int64_t *batch)
{
    if (!tr)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "trainer is NULL");
    if (tr->last_batch == 0)
        return ijepa__fail_func(__func__, IJEPA_ERR_STATE, "no masks have been sampled");
    if (context) *context = tr->ctx_idx;
    if (n_context) *n_context = tr->n_ctx;
    if (targets) *targets = tr->tgt_idx;
    if (n_target) *n_target = tr->n_tgt;
    if (batch) *batch = tr->last_batch;
    return IJEPA_OK;
}

ijepa_encoder *ijepa_trainer_context_encoder(ijepa_trainer *tr) { return tr ? tr->enc : NULL; }
ijepa_encoder *ijepa_trainer_target_encoder(ijepa_trainer *tr) { return tr ? tr->tgt : NULL; }
ijepa_predictor *ijepa_trainer_predictor(ijepa_trainer *tr) { return tr ? tr->pred : NULL; }

ijepa_optimizer *ijepa_trainer_optimizer(ijepa_trainer *tr) { return tr ? tr->opt : NULL; }

// --- persistence -------------------------------------------------------------------------------

#define NGROUPS 7

/* The groups of a trainer checkpoint, in file order, over the tables of the
 * context encoder (te), predictor (tp) and target encoder (tt) and their
 * buffers (all NULL for a check by names and shapes). The optimizer's group
 * 0 is the context encoder and group 1 the predictor: ijepa_trainer_create()
 * added them in that order (trainer.h says so). */
static void group_list(const ijepa_tensor_table *te, const ijepa_tensor_table *tp,
                       const ijepa_tensor_table *tt, float *const buf[7],
                       ijepa__ckpt_group g[NGROUPS])
{
    g[0] = (ijepa__ckpt_group){"encoder", te, buf[0]};
    g[1] = (ijepa__ckpt_group){"predictor", tp, buf[1]};
    g[2] = (ijepa__ckpt_group){"target_encoder", tt, buf[2]};
    g[3] = (ijepa__ckpt_group){"optimizer.exp_avg.encoder", te, buf[3]};
    g[4] = (ijepa__ckpt_group){"optimizer.exp_avg_sq.encoder", te, buf[4]};
    g[5] = (ijepa__ckpt_group){"optimizer.exp_avg.predictor", tp, buf[5]};
    g[6] = (ijepa__ckpt_group){"optimizer.exp_avg_sq.predictor", tp, buf[6]};
}

static void groups(ijepa_trainer *tr, ijepa__ckpt_group g[NGROUPS])
{
    float *b[7];
    int64_t n;
    /* none of these can fail on the trainer's own complete handles */
    ijepa_encoder_params(tr->enc, &b[0], &n);
    ijepa_predictor_params(tr->pred, &b[1], &n);
    ijepa_encoder_params(tr->tgt, &b[2], &n);
    ijepa_optimizer_moments(tr->opt, 0, &b[3], &b[4], &n);
    ijepa_optimizer_moments(tr->opt, 1, &b[5], &b[6], &n);
    group_list(ijepa_encoder_tensors(tr->enc), ijepa_predictor_tensors(tr->pred),
               ijepa_encoder_tensors(tr->tgt), b, g);
}

int ijepa_trainer_save(ijepa_trainer *tr, const char *path)
{
    if (!tr || !path)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG,
                                "trainer and path must not be NULL");
    ijepa__ckpt_group g[NGROUPS];
    groups(tr, g);
    /* the configuration as the context encoder holds it (trainable = 1) */
    ijepa_checkpoint_writer *w = NULL;
    int rc = ijepa_checkpoint_writer_create(&w, ijepa_encoder_config(tr->enc), tr->step);
    for (int i = 0; rc == IJEPA_OK && i < NGROUPS; i++)
        rc = ijepa_checkpoint_writer_add(w, g[i].prefix, g[i].table, g[i].data);
    if (rc == IJEPA_OK)
        rc = ijepa_checkpoint_writer_save(w, path);
    ijepa_checkpoint_writer_free(w);
    return rc; /* on failure the writer's message names the cause */
}

/* Compare the keys that define the model (IJEPA_CFG_CLASS_MODEL) of the
 * file's configuration with the trainer's. */
static int same_model(const ijepa_config *file, const ijepa_config *have, const char *path,
                      const char *func, const char *whose)
{
    for (int32_t i = 0; i < ijepa_config_key_count(); i++) {
        const int32_t key = ijepa_config_key_at(i);
        if (ijepa_config_key_class(key) != IJEPA_CFG_CLASS_MODEL)
            continue;
        if (ijepa_config_key_type(key) == IJEPA_CFG_TYPE_INT) {
            const int64_t a = ijepa__cfg_int(file, key), b = ijepa__cfg_int(have, key);
            if (a != b)
                return ijepa__fail_func(func, IJEPA_ERR_FORMAT,
                                        "%s: config key '%s' is %lld in the file, %lld in the "
                                        "%s", path, ijepa_config_key_name(key),
                                        (long long)a, (long long)b, whose);
        } else {
            const double a = ijepa__cfg_float(file, key), b = ijepa__cfg_float(have, key);
            if (a != b)
                return ijepa__fail_func(func, IJEPA_ERR_FORMAT,
                                        "%s: config key '%s' is %.17g in the file, %.17g in the "
                                        "%s", path, ijepa_config_key_name(key), a, b, whose);
        }
    }
    return IJEPA_OK;
}

int ijepa_trainer_load(ijepa_trainer *tr, const char *path)
{
    if (!tr || !path)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG,
                                "trainer and path must not be NULL");
    ijepa_checkpoint *ck = NULL;
    ijepa_config *file = NULL;
    int64_t step;
    int rc = ijepa_checkpoint_open(&ck, path);
    if (rc < 0)
        return rc; /* the reader's message: the path and what is wrong */
    if (ijepa_checkpoint_step(ck, &step) < 0) {
        rc = ijepa__fail_func(__func__, IJEPA_ERR_FORMAT,
                              "%s: no libijepa metadata (\"format\": \"libijepa\"): a trainer "
                              "needs the step and configuration", path);
        goto out;
    }
    if ((rc = ijepa_checkpoint_config(ck, &file)) < 0 ||
        (rc = same_model(file, ijepa_encoder_config(tr->enc), path, __func__, "trainer")) < 0)
        goto out;
    ijepa__ckpt_group g[NGROUPS];
    groups(tr, g);
    /* every group checked before any is copied; no tensor outside them */
    if ((rc = ijepa__checkpoint_load(ck, __func__, g, NGROUPS, 1)) < 0)
        goto out;
    /* loaded: the counters follow (nothing below can fail) */
    ijepa_optimizer_set_step_count(tr->opt, step);
    tr->step = step;
    tr->have_stat = 0; /* the statistics and masks are of a step this trainer did not run */
    tr->pending = 0;   /* and gradients computed before belong to another state */
    tr->last_batch = 0;
    tr->n_ctx = tr->n_tgt = 0;
out:
    ijepa_config_free(file);
    ijepa_checkpoint_free(ck);
    return rc;
}

// --- sizes and checks before creating ----------------------------------------------------------

/* What a trainer of cfg allocates besides its three model handles (whose
 * own sizes are given, as are their parameter floats): the optimizer's two
 * moments of each trained model and the step buffers (masks, a slice's
 * target masks, features, predictions and their gradients, the partials). */
static int64_t trainer_bytes(const ijepa_config *cfg, int64_t enc, int64_t tgt, int64_t pred,
                             int64_t enc_floats, int64_t pred_floats, int64_t N, int64_t D)
{
    const int64_t B = ijepa__cfg_int(cfg, IJEPA_CFG_BATCH_SIZE);
    const int64_t M = ijepa__cfg_int(cfg, IJEPA_CFG_NUM_TARGETS);
    const int64_t BN = B * N, MBN = M * BN;
    const int64_t moments = 2 * (enc_floats + pred_floats);
    const int64_t steps = 3 * BN * D + 2 * MBN * D;
    return enc + tgt + pred + (moments + steps) * (int64_t)sizeof(float) +
           (BN + 2 * MBN) * (int64_t)sizeof(int32_t) + (2 + 2 * D) * (int64_t)sizeof(double);
}

int64_t ijepa_trainer_memory_bytes(const ijepa_trainer *tr)
{
    if (!tr)
        return 0;
    return trainer_bytes(ijepa_encoder_config(tr->enc), ijepa_encoder_memory_bytes(tr->enc),
                         ijepa_encoder_memory_bytes(tr->tgt),
                         ijepa_predictor_memory_bytes(tr->pred),
                         ijepa_tensor_table_buffer_size(ijepa_encoder_tensors(tr->enc)),
                         ijepa_tensor_table_buffer_size(ijepa_predictor_tensors(tr->pred)),
                         tr->N, tr->D);
}

/* The handles ijepa_trainer_create(cfg) would make, planned without their
 * buffers (model_internal.h): context encoder, predictor, target encoder. */
typedef struct plans {
    ijepa_encoder *enc, *tgt;
    ijepa_predictor *pred;
} plans;

static void plans_free(plans *p)
{
    ijepa_encoder_free(p->enc);
    ijepa_encoder_free(p->tgt);
    ijepa_predictor_free(p->pred);
}

static int plan_all(plans *p, const ijepa_config *cfg, const char *func)
{
    memset(p, 0, sizeof *p);
    ijepa_config *t = NULL;
    int rc;
    if ((rc = ijepa_config_copy(&t, cfg)) < 0 ||
        (rc = ijepa_config_set_int(t, IJEPA_CFG_TRAINABLE, 1)) < 0 ||
        (rc = ijepa__encoder_plan(&p->enc, t, func)) < 0 ||
        (rc = ijepa__predictor_plan(&p->pred, t, func)) < 0 ||
        (rc = ijepa_config_set_int(t, IJEPA_CFG_TRAINABLE, 0)) < 0 ||
        (rc = ijepa__encoder_plan(&p->tgt, t, func)) < 0)
        plans_free(p);
    else if (ijepa__cfg_int(cfg, IJEPA_CFG_WARMUP_STEPS) >
             ijepa__cfg_int(cfg, IJEPA_CFG_TOTAL_STEPS)) {
        rc = ijepa__fail_func(func, IJEPA_ERR_INVALID_ARG,
                              "warmup_steps %lld exceeds total_steps %lld",
                              (long long)ijepa__cfg_int(cfg, IJEPA_CFG_WARMUP_STEPS),
                              (long long)ijepa__cfg_int(cfg, IJEPA_CFG_TOTAL_STEPS));
        plans_free(p);
    }
    ijepa_config_free(t);
    return rc;
}

static int64_t plans_bytes(const plans *p, const ijepa_config *cfg)
{
    return trainer_bytes(cfg, ijepa_encoder_memory_bytes(p->enc),
                         ijepa_encoder_memory_bytes(p->tgt), ijepa_predictor_memory_bytes(p->pred),
                         ijepa_tensor_table_buffer_size(ijepa_encoder_tensors(p->enc)),
                         ijepa_tensor_table_buffer_size(ijepa_predictor_tensors(p->pred)),
                         ijepa_encoder_num_patches(p->enc), ijepa_encoder_embed_dim(p->enc));
}

int ijepa_trainer_estimate_bytes(const ijepa_config *cfg, int64_t *bytes)
{
    if (!cfg || !bytes)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG,
                                "config and bytes must not be NULL");
    plans p;
    const int rc = plan_all(&p, cfg, __func__);
    if (rc < 0)
        return rc;
    *bytes = plans_bytes(&p, cfg);
    plans_free(&p);
    return IJEPA_OK;
}

int ijepa_trainer_check(ijepa_checkpoint *ck, const ijepa_config *cfg, int64_t *bytes)
{
    if (!ck)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "checkpoint is NULL");
    ijepa_config *own = NULL;
    int64_t step;
    if (ijepa_checkpoint_step(ck, &step) < 0 || ijepa_checkpoint_config(ck, &own) < 0) {
        /* the reader's message names the file */
        const char *msg = ijepa_last_error(), *cause = strstr(msg, "(): ");
        return ijepa__fail_func(__func__, IJEPA_ERR_FORMAT, "%s; a trainer needs the step and "
                                "configuration", cause ? cause + 4 : msg);
    }
    int rc = IJEPA_OK;
    if (cfg && (rc = same_model(own, cfg, ijepa__checkpoint_name(ck), __func__,
                                "configuration")) < 0) {
        ijepa_config_free(own);
        return rc;
    }
    const ijepa_config *c = cfg ? cfg : own;
    plans p;
    if ((rc = plan_all(&p, c, __func__)) < 0) {
        if (!cfg && rc == IJEPA_ERR_INVALID_ARG) { /* the file's own configuration */
            const char *msg = ijepa_last_error(), *cause = strstr(msg, "(): ");
            rc = ijepa__fail_func(__func__, IJEPA_ERR_FORMAT,
                                  "%s: its configuration is not a valid model: %s",
                                  ijepa__checkpoint_name(ck), cause ? cause + 4 : msg);
        }
        ijepa_config_free(own);
        return rc;
    }
    if (bytes)
        *bytes = plans_bytes(&p, c);
    ijepa__ckpt_group g[NGROUPS];
    float *const none[7] = {NULL};
    group_list(ijepa_encoder_tensors(p.enc), ijepa_predictor_tensors(p.pred),
               ijepa_encoder_tensors(p.tgt), none, g);
    rc = ijepa__checkpoint_check(ck, __func__, g, NGROUPS, 1);
    plans_free(&p);
    ijepa_config_free(own);
    return rc;
}
