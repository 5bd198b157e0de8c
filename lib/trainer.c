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
    int32_t *ctx_idx, *tgt_idx; /* [B*N], [M*B*N] */
    int64_t n_ctx, n_tgt, last_batch;
    float *h, *z, *dz, *p, *dp; /* [B*N*D] x3, [M*B*N*D] x2 */
    double stat[9];
    int have_stat;              /* stat[] holds a step this trainer ran */
};

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
    tr->h = ijepa__falloc(BN * tr->D);
    tr->z = ijepa__falloc(BN * tr->D);
    tr->dz = ijepa__falloc(BN * tr->D);
    tr->p = ijepa__falloc(MBN * tr->D);
    tr->dp = ijepa__falloc(MBN * tr->D);
    if (!tr->ctx_idx || !tr->tgt_idx || !tr->h || !tr->z || !tr->dz || !tr->p || !tr->dp) {
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
    ijepa__ffree(tr->h);
    ijepa__ffree(tr->z);
    ijepa__ffree(tr->dz);
    ijepa__ffree(tr->p);
    ijepa__ffree(tr->dp);
    free(tr);
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
    const int64_t N = tr->N, D = tr->D;
    int64_t nc, nt;
    double L, tstd;
    int rc;
    if ((rc = ijepa_mask_sampler_sample(tr->masks, B, (uint64_t)tr->step, tr->ctx_idx, &nc,
                                        tr->tgt_idx, &nt)) < 0)
        return rc; /* the component named itself */
    /* the mask buffers now hold this step's masks, whatever happens next */
    tr->n_ctx = nc;
    tr->n_tgt = nt;
    tr->last_batch = B;
    if ((rc = ijepa_encoder_forward(tr->tgt, images, B, NULL, 0, tr->h,
                                    IJEPA_FORWARD_INFERENCE)) < 0 ||
        (rc = ijepa_encoder_forward(tr->enc, images, B, tr->ctx_idx, nc, tr->z,
                                    IJEPA_FORWARD_TRAIN)) < 0 ||
        (rc = ijepa_predictor_forward(tr->pred, tr->z, B, tr->ctx_idx, nc, tr->tgt_idx, nt,
                                      tr->p, IJEPA_FORWARD_TRAIN)) < 0 ||
        (rc = ijepa_loss_compute(tr->h, B, N, D, tr->tgt_idx, tr->M, nt, tr->p, tr->loss_kind,
                                 tr->ln_eps, tr->dp, &L)) < 0 ||
        (rc = ijepa_loss_target_std(tr->h, B, N, D, tr->ln_eps, &tstd)) < 0 ||
        (rc = ijepa_encoder_zero_grad(tr->enc)) < 0 ||
        (rc = ijepa_predictor_zero_grad(tr->pred)) < 0 ||
        (rc = ijepa_predictor_backward(tr->pred, tr->dp, tr->dz)) < 0 ||
        (rc = ijepa_encoder_backward(tr->enc, tr->dz)) < 0)
        return rc; /* the component named itself */
    /* official order: schedulers step (counter + 1) before the update; the
     * momentum generator yields its value for the completed-step index */
    const double lr = ijepa_schedule_lr(tr->step + 1, tr->warmup, tr->total, tr->lr_start,
                                        tr->lr, tr->lr_final);
    const double wd = ijepa_schedule_weight_decay(tr->step + 1, tr->total, tr->wd, tr->wd_final);
    const double m = ijepa_schedule_momentum(tr->step, tr->total, tr->ema0, tr->ema1);
    double gnorm = 0;
    if ((rc = ijepa_optimizer_grad_norm(tr->opt, &gnorm)) < 0 ||
        (rc = ijepa_optimizer_step(tr->opt, lr, wd)) < 0 ||
        (rc = ijepa_encoder_ema_update(tr->tgt, tr->enc, m > 1.0 ? 1.0 : m)) < 0)
        return rc; /* the component named itself */
    tr->step++;
    tr->stat[IJEPA_STAT_LOSS] = L;
    tr->stat[IJEPA_STAT_TARGET_STD] = tstd;
    tr->stat[IJEPA_STAT_LR] = lr;
    tr->stat[IJEPA_STAT_WEIGHT_DECAY] = wd;
    tr->stat[IJEPA_STAT_MOMENTUM] = m;
    tr->stat[IJEPA_STAT_N_CONTEXT] = (double)nc;
    tr->stat[IJEPA_STAT_N_TARGET] = (double)nt;
    tr->stat[IJEPA_STAT_GRAD_NORM] = gnorm;
    tr->have_stat = 1;
    if (loss)
        *loss = L;
    return IJEPA_OK;
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

/* The groups of a trainer checkpoint, in file order. The optimizer's
 * group 0 is the context encoder and group 1 the predictor:
 * ijepa_trainer_create() added them in that order (trainer.h says so). */
static void groups(ijepa_trainer *tr, ijepa__ckpt_group g[NGROUPS])
{
    float *pe, *pt, *pp, *m[2], *v[2];
    int64_t n;
    /* none of these can fail on the trainer's own complete handles */
    ijepa_encoder_params(tr->enc, &pe, &n);
    ijepa_encoder_params(tr->tgt, &pt, &n);
    ijepa_predictor_params(tr->pred, &pp, &n);
    ijepa_optimizer_moments(tr->opt, 0, &m[0], &v[0], &n);
    ijepa_optimizer_moments(tr->opt, 1, &m[1], &v[1], &n);
    const ijepa_tensor_table *te = ijepa_encoder_tensors(tr->enc);
    const ijepa_tensor_table *tp = ijepa_predictor_tensors(tr->pred);
    g[0] = (ijepa__ckpt_group){"encoder", te, pe};
    g[1] = (ijepa__ckpt_group){"predictor", tp, pp};
    g[2] = (ijepa__ckpt_group){"target_encoder", ijepa_encoder_tensors(tr->tgt), pt};
    g[3] = (ijepa__ckpt_group){"optimizer.exp_avg.encoder", te, m[0]};
    g[4] = (ijepa__ckpt_group){"optimizer.exp_avg_sq.encoder", te, v[0]};
    g[5] = (ijepa__ckpt_group){"optimizer.exp_avg.predictor", tp, m[1]};
    g[6] = (ijepa__ckpt_group){"optimizer.exp_avg_sq.predictor", tp, v[1]};
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
static int same_model(const ijepa_config *file, const ijepa_config *have, const char *path)
{
    for (int32_t i = 0; i < ijepa_config_key_count(); i++) {
        const int32_t key = ijepa_config_key_at(i);
        if (ijepa_config_key_class(key) != IJEPA_CFG_CLASS_MODEL)
            continue;
        if (ijepa_config_key_type(key) == IJEPA_CFG_TYPE_INT) {
            const int64_t a = ijepa__cfg_int(file, key), b = ijepa__cfg_int(have, key);
            if (a != b)
                return ijepa__fail_func("ijepa_trainer_load", IJEPA_ERR_FORMAT,
                                        "%s: config key '%s' is %lld in the file, %lld in the "
                                        "trainer", path, ijepa_config_key_name(key),
                                        (long long)a, (long long)b);
        } else {
            const double a = ijepa__cfg_float(file, key), b = ijepa__cfg_float(have, key);
            if (a != b)
                return ijepa__fail_func("ijepa_trainer_load", IJEPA_ERR_FORMAT,
                                        "%s: config key '%s' is %.17g in the file, %.17g in the "
                                        "trainer", path, ijepa_config_key_name(key), a, b);
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
        (rc = same_model(file, ijepa_encoder_config(tr->enc), path)) < 0)
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
    tr->last_batch = 0;
    tr->n_ctx = tr->n_tgt = 0;
out:
    ijepa_config_free(file);
    ijepa_checkpoint_free(ck);
    return rc;
}
