/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * libijepa optimizer: AdamW over registered parameter buffers, global
 * gradient-norm clipping, the EMA update of the target encoder, and the
 * official learning-rate, weight-decay and EMA-momentum schedules.
 *
 * The host drives the loop; schedules are pure functions whose values are
 * passed to each call, so the optimizer holds no schedule state. One
 * iteration of the official recipe (facebookresearch/ijepa src/train.py),
 * for it = 0, 1, ..., total_steps - 1:
 *
 *     double lr = ijepa_schedule_lr(it + 1, warmup, total, lr_start, lr, lr_final);
 *     double wd = ijepa_schedule_weight_decay(it + 1, total, wd_start, wd_final);
 *     ... forward, loss, backward into the gradient buffers ...
 *     ijepa_optimizer_step(opt, lr, wd);
 *     ijepa_encoder_ema_update(target, context,
 *                              ijepa_schedule_momentum(it, total, ema_start, ema_end));
 *     ... zero the gradients ...
 *
 * (the official schedulers increment their counter before use, so the first
 * update sees step 1 for lr and weight decay; the momentum generator starts
 * at i = 0).
 *
 * Parameter groups. Each ijepa_optimizer_add() registers one flat parameter
 * buffer with its gradient buffer and tensor table (see tensors.h), e.g. the
 * context encoder and the predictor. The tensor flags decide the official
 * AdamW param groups: IJEPA_TENSOR_NO_DECAY tensors (biases and 1-D tensors)
 * get no weight decay, IJEPA_TENSOR_FROZEN tensors (sin-cos positional
 * embeddings) are never touched, every other tensor is decayed. All share the
 * same lr. The padding between tensors is never read nor written.
 *
 * Memory: the AdamW moments (two floats per buffer element) are allocated by
 * ijepa_optimizer_add(); ijepa_optimizer_step(), _grad_norm() and
 * ijepa_encoder_ema_update() allocate nothing.
 *
 * Determinism: every reduction (the gradient norm) is summed in double over
 * fixed chunks of the buffers and the chunk sums are added in a fixed order,
 * so results are bit-identical for any number of OpenMP threads.
 *
 * Threading: see common.h. An optimizer is used by one thread at a time; it
 * borrows the buffers it updates, which must not be used concurrently by
 * another thread during a call.
 */
#ifndef IJEPA_OPTIM_H
#define IJEPA_OPTIM_H

#include "common.h"
#include "config.h"
#include "encoder.h"
#include "tensors.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ijepa_optimizer ijepa_optimizer;

/** Most parameter groups one optimizer holds. */
#define IJEPA_OPTIMIZER_MAX_GROUPS 16

/**
 * Create an AdamW optimizer with no parameter group. Reads
 * IJEPA_CFG_ADAM_BETA1, IJEPA_CFG_ADAM_BETA2, IJEPA_CFG_ADAM_EPS and
 * IJEPA_CFG_CLIP_GRAD from cfg (the config may be freed afterwards). The step
 * count starts at 0.
 *
 * Errors: IJEPA_ERR_INVALID_ARG for NULL out or cfg, adam_beta1 or
 * adam_beta2 equal to 1 (the bias corrections would divide by zero) or
 * adam_eps equal to 0 (a zero gradient would give 0/0); IJEPA_ERR_NOMEM.
 * *out is NULL on failure; the message is in ijepa_last_error().
 */
IJEPA_API int ijepa_optimizer_create(ijepa_optimizer **out, const ijepa_config *cfg);

/** Free an optimizer and its moments (never the registered buffers). NULL is a no-op. */
IJEPA_API void ijepa_optimizer_free(ijepa_optimizer *opt);

/**
 * Register a parameter group.
 *   params  ijepa_tensor_table_buffer_size(table) floats, laid out as table says
 *   grads   the gradients, same layout and size
 *   table   the tensors of both buffers and their flags
 * Allocates zeroed first and second moments for the group (same layout)
 * and writes them once here, using the OpenMP threads: they are resident
 * from this call (8 bytes per float), and the first step does not fault
 * their pages in.
 * params, grads and table are borrowed: they must stay valid, at the same
 * address, until the optimizer is freed (e.g. those of an encoder that
 * outlives the optimizer).
 *
 * Returns the group index (0, 1, ... in registration order) or a negative
 * status: IJEPA_ERR_INVALID_ARG for a NULL argument, a table without
 * tensors, params and grads overlapping each other or a buffer of an already
 * registered group, or more than IJEPA_OPTIMIZER_MAX_GROUPS groups;
 * IJEPA_ERR_NOMEM. On failure nothing is registered.
 */
IJEPA_API int ijepa_optimizer_add(ijepa_optimizer *opt, float *params, float *grads,
                                  const ijepa_tensor_table *table);

/**
 * One AdamW step over every registered tensor that is not FROZEN, as
 * torch.optim.AdamW with lr and weight_decay, in this order:
 *   1. if clip_grad > 0 (config): c = min(1, clip_grad / (norm + 1e-6)) with
 *      norm the global L2 norm of the gradients (ijepa_optimizer_grad_norm());
 *      if c < 1 the gradient buffers are scaled by c in place, as
 *      torch.nn.utils.clip_grad_norm_ does;
 *   2. t = step count + 1;
 *   3. per element, with wd = 0 for NO_DECAY tensors:
 *        p -= lr * wd * p
 *        m  = beta1 m + (1 - beta1) g
 *        v  = beta2 v + (1 - beta2) g^2
 *        p -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
 *   4. the step count becomes t.
 * Element arithmetic is float32 with the per-step scalars computed in double
 * (as PyTorch's CPU kernels); the gradients are otherwise left as they are
 * (not zeroed).
 *
 * Errors: IJEPA_ERR_INVALID_ARG (NULL opt, lr or weight_decay negative or
 * not finite); IJEPA_ERR_STATE (no group registered, step count at
 * INT64_MAX); IJEPA_ERR_NUMERIC when a gradient of a non-frozen tensor is
 * NaN or infinite: the message names the tensor, and nothing is changed
 * (parameters, gradients, moments and step count stay bit-identical), so the
 * host may skip the batch. Allocates nothing.
 */
IJEPA_API int ijepa_optimizer_step(ijepa_optimizer *opt, double lr, double weight_decay);

/** Number of completed steps (t of the last step); 0 for a NULL optimizer. */
IJEPA_API int64_t ijepa_optimizer_step_count(const ijepa_optimizer *opt);

/**
 * Set the step count, e.g. when resuming from a checkpoint together with the
 * moments (ijepa_optimizer_moments()): the next step uses t + 1 in its bias
 * corrections. IJEPA_ERR_INVALID_ARG for a NULL optimizer or t < 0.
 */
IJEPA_API int ijepa_optimizer_set_step_count(ijepa_optimizer *opt, int64_t t);

/**
 * Global L2 norm of the gradients of every registered non-frozen tensor,
 * accumulated in double (padding and frozen tensors excluded). It is +Inf or
 * NaN when a gradient is not finite (the status is still IJEPA_OK); 0 with no
 * group registered. Errors: IJEPA_ERR_INVALID_ARG (NULL opt or norm).
 * Allocates nothing.
 */
IJEPA_API int ijepa_optimizer_grad_norm(ijepa_optimizer *opt, double *norm);

/**
 * Borrow the AdamW moments of group `group` (for checkpoints): *m and *v
 * point to *count floats each, laid out as the group's parameters (same
 * tensor table). They may be read and written (to restore a checkpoint) and
 * stay valid until the optimizer is freed. Padding and frozen tensors stay 0.
 * Errors: IJEPA_ERR_INVALID_ARG for a NULL optimizer or out-pointer or a
 * group index that is not registered.
 */
IJEPA_API int ijepa_optimizer_moments(ijepa_optimizer *opt, int32_t group, float **m,
                                      float **v, int64_t *count);

/**
 * Exponential moving average of a target encoder towards an online (context)
 * encoder with the same configuration, over every element of the parameter
 * buffers (frozen tensors are equal in both and stay so):
 *     target = momentum * target + (1 - momentum) * online
 * computed in double per element and rounded to float once. momentum 1
 * leaves the target unchanged, 0 copies the online parameters.
 *
 * Errors (message in ijepa_last_error()): IJEPA_ERR_INVALID_ARG for NULL
 * encoders, the same encoder twice, momentum outside [0, 1] or NaN, or
 * tensor tables that differ (tensor count, buffer size, a tensor's name,
 * offset or element count); nothing is changed then. Allocates nothing.
 * Neither encoder may be used by another thread during the call.
 */
IJEPA_API int ijepa_encoder_ema_update(ijepa_encoder *target, ijepa_encoder *online,
                                       double momentum);

/*
 * Schedules: pure functions of the step, exactly the official formulas
 * (facebookresearch/ijepa src/utils/schedulers.py and train.py). `step` is
 * the official scheduler counter AFTER its increment: the first optimizer
 * update uses step 1 (step 0 is the value before any update). Invalid
 * arguments give NaN (which ijepa_optimizer_step() rejects) and a message in
 * ijepa_last_error(); nothing else is recorded.
 */

/**
 * WarmupCosineSchedule. With T = max(1, total_steps - warmup_steps):
 *   step <  warmup_steps: start_lr + step / max(1, warmup_steps) * (ref_lr - start_lr)
 *   otherwise:            p = min(1, (step - warmup_steps) / T),
 *                         max(final_lr, final_lr + (ref_lr - final_lr) * 0.5 * (1 + cos(pi p)))
 * The cap p <= 1 only matters past total_steps, where the official loop
 * never goes (its formula would rise again there); the value stays final_lr.
 * NaN if step < 0, warmup_steps < 0, total_steps < 1 or a rate is not finite.
 */
IJEPA_API double ijepa_schedule_lr(int64_t step, int64_t warmup_steps, int64_t total_steps,
                                   double start_lr, double ref_lr, double final_lr);

/**
 * CosineWDSchedule (no warmup; T = total_steps):
 *   p = min(1, step / total_steps),
 *   wd = final_wd + (ref_wd - final_wd) * 0.5 * (1 + cos(pi p)),
 * then clamped toward final_wd (max(final_wd, wd) if final_wd <= ref_wd,
 * else min(final_wd, wd)). With the official 0.04 -> 0.4 it increases.
 * NaN if step < 0, total_steps < 1 or a value is not finite.
 */
IJEPA_API double ijepa_schedule_weight_decay(int64_t step, int64_t total_steps, double ref_wd,
                                             double final_wd);

/**
 * EMA momentum for the i-th EMA update (i = step, starting at 0):
 *   m_i = start + i * (end - start) / total_steps, linear;
 * i > total_steps gives end (the official generator stops there).
 * NaN if step < 0, total_steps < 1 or a value is not finite.
 */
IJEPA_API double ijepa_schedule_momentum(int64_t step, int64_t total_steps, double start,
                                         double end);

#ifdef __cplusplus
}
#endif

#endif /* IJEPA_OPTIM_H */
