/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * libijepa trainer: an optional convenience layer that composes the handles
 * into one I-JEPA training step. Every piece stays usable on its own; a host
 * that wants another loop (gradient all-reduce between backward and update,
 * its own schedules, other masks) drives the encoders, predictor, mask
 * sampler, loss and optimizer directly, exactly as ijepa_trainer_step() does:
 *
 *   masks   = mask_sampler_sample(step)
 *   h       = target_encoder(images)                 (all patches, no grad)
 *   z       = context_encoder(images, context mask)  (TRAIN)
 *   p       = predictor(z, context, targets)         (TRAIN)
 *   loss    = loss_compute(h, targets, p)            (target LN, gather, smooth-L1/L2/L1;
 *                                                     kind = loss, ln_eps = target_ln_eps)
 *   grads   = zero_grad, predictor backward, context encoder backward
 *   params  = AdamW(lr(step + 1), wd(step + 1))      (context encoder: group 0,
 *                                                     predictor: group 1)
 *   target  = EMA(target, context encoder, momentum(step))
 *
 * with step the trainer's step counter (ijepa_trainer_step_count(), also
 * the mask sampler's step). The trainer itself computes the loss through
 * ijepa_loss_partial(), which gives the same bits as ijepa_loss_compute().
 * Schedules come from the config keys 500-508 (warmup + cosine lr, cosine
 * weight decay, linear EMA momentum), at the steps above, as the official
 * code's schedulers do (optim.h). Driven this way from one configuration,
 * the handles give the trainer's results bit for bit.
 *
 * Data parallelism. ijepa_trainer_step() is ijepa_trainer_compute() on the
 * whole batch followed by ijepa_trainer_apply(). N workers (processes,
 * machines; any transport: the library links no MPI) split each batch
 * between them instead, every worker holding a trainer of the same
 * configuration and state:
 *
 *   ijepa_trainer_compute(tr, my_images, offset, count, batch);
 *       (masks of the whole batch; loss, statistics and gradients of my
 *        `count` images, which are items [offset, offset + count) of it)
 *   sum over the workers, in place, element by element:
 *       the context encoder's gradients   ijepa_encoder_grads(ijepa_trainer_context_encoder(tr))
 *       the predictor's gradients         ijepa_predictor_grads(ijepa_trainer_predictor(tr))
 *       the step's partials               ijepa_trainer_partials(tr)
 *       (with MPI: MPI_Allreduce(MPI_IN_PLACE, ..., MPI_FLOAT or MPI_DOUBLE, MPI_SUM, comm))
 *   ijepa_trainer_apply(tr, &loss);
 *       (clip, AdamW, EMA, counters and statistics from the sums)
 *
 * Invariant: N workers that each compute their slice of a batch, sum the
 * gradients and partials and apply, produce the parameters, moments,
 * statistics and masks of one trainer stepping on the whole batch, up to
 * the order of float summation in the gradients and partials (the slices
 * may have any sizes, also 0; together they must cover the batch once).
 * All workers apply the same sums, so they stay bit-identical to each
 * other. A worker whose slice gives a NaN or infinite loss or gradient does
 * not fail in compute: the value reaches every worker through the sums and
 * every ijepa_trainer_apply() fails with IJEPA_ERR_NUMERIC and changes
 * nothing, so the workers stay in step. The masks are those of the whole
 * batch (the official mode's truncation to the shortest context is over the
 * whole batch); the data must be too (dataset.h: ijepa_dataset_set_slice()).
 * A trainer reserves memory for batch_size images, of which a worker
 * touches only its slice's share.
 *
 * Persistence: ijepa_trainer_save() / ijepa_trainer_load() write and read
 * the whole training state as a libijepa checkpoint (checkpoint.h, whose
 * public reader and writer they use).
 *
 * Threading: see common.h. The context must outlive the trainer.
 */
#ifndef IJEPA_TRAINER_H
#define IJEPA_TRAINER_H

#include "checkpoint.h"
#include "common.h"
#include "config.h"
#include "context.h"
#include "encoder.h"
#include "optim.h"
#include "predictor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ijepa_trainer ijepa_trainer;

/** Statistics of the last successful step, for ijepa_trainer_stat(). */
enum {
    IJEPA_STAT_LOSS = 1,       /**< loss of the step                                   */
    IJEPA_STAT_TARGET_STD = 2, /**< collapse monitor: std across the batch of the
                                    average-pooled normalised target features, mean over dims
                                    (from the sums of ijepa_loss_target_moments()) */
    IJEPA_STAT_LR = 3,         /**< learning rate used                                 */
    IJEPA_STAT_WEIGHT_DECAY = 4, /**< weight decay used                                */
    IJEPA_STAT_MOMENTUM = 5,   /**< EMA momentum used                                  */
    IJEPA_STAT_N_CONTEXT = 6,  /**< context tokens per image                           */
    IJEPA_STAT_N_TARGET = 7,   /**< tokens per target block                            */
    IJEPA_STAT_GRAD_NORM = 8   /**< global L2 norm of the gradients before clipping     */
};

/**
 * Create the context encoder, target encoder (identical initial weights,
 * trainable = 0), predictor, mask sampler and optimizer from cfg (the
 * trainable key is ignored: the context encoder and predictor always train).
 * Errors: those of the composed handles; message in ijepa_last_error().
 */
IJEPA_API int ijepa_trainer_create(ijepa_trainer **out, ijepa_context *ctx,
                                   const ijepa_config *cfg);

/** Free the trainer and every handle it composed. NULL is a no-op. */
IJEPA_API void ijepa_trainer_free(ijepa_trainer *tr);

/**
 * One training step on images [batch, in_chans, img_size, img_size]:
 * ijepa_trainer_compute(tr, images, 0, batch, batch) then
 * ijepa_trainer_apply(). *loss (may be NULL) receives the loss; it is
 * left unwritten when the call fails. On IJEPA_ERR_NUMERIC (non-finite
 * loss or gradient: the images are not scanned, so a NaN or infinite pixel
 * shows here, as does a diverging run) no parameter, moment, target weight
 * or step counter has changed. Nothing stays pending for
 * ijepa_trainer_apply() after this call. Errors: IJEPA_ERR_INVALID_ARG,
 * IJEPA_ERR_STATE (the step counter is at INT64_MAX), IJEPA_ERR_NUMERIC,
 * and from the compute backend IJEPA_ERR_NOMEM, IJEPA_ERR_UNSUPPORTED,
 * IJEPA_ERR_BACKEND.
 */
IJEPA_API int ijepa_trainer_step(ijepa_trainer *tr, const float *images, int64_t batch,
                                 double *loss);

/**
 * The first half of a step, for data-parallel hosts (see the top of this
 * file): sample the masks of the next step (step count ijepa_trainer_step_count())
 * for a batch of `batch` images, then compute, for the `count` images of
 * `images` [count, in_chans, img_size, img_size], which are items
 * [offset, offset + count) of that batch:
 *   - the gradients of the context encoder and the predictor: their
 *     gradient buffers are overwritten with the gradient of the WHOLE
 *     batch's loss restricted to these images (the loss gradient is divided
 *     by the element count of the whole batch), so the sum over slices
 *     covering the batch is the whole batch's gradient;
 *   - the step's partials (ijepa_trainer_partials()): loss sum, image count
 *     and the collapse monitor's sums of these images.
 * Nothing else changes: parameters, moments, target encoder, step count and
 * statistics stay as they are until ijepa_trainer_apply(). Compute may be
 * called again before apply (the later call replaces the earlier).
 * ijepa_trainer_masks() gives the masks of the whole batch.
 *
 * @param tr      the trainer.
 * @param images  the slice's images; may be NULL when count is 0.
 * @param offset  position of the slice in the batch, >= 0.
 * @param count   images of the slice, >= 0, offset + count <= batch; 0 is
 *                allowed (zero gradients and partials: a worker with no
 *                image of this batch still takes part in the sums).
 * @param batch   images of the whole batch, in [1, batch_size].
 * @return IJEPA_OK; IJEPA_ERR_INVALID_ARG (NULL trainer, NULL images with
 *   count > 0, batch or slice out of range); from the compute backend
 *   IJEPA_ERR_NOMEM, IJEPA_ERR_UNSUPPORTED, IJEPA_ERR_BACKEND (then nothing
 *   is left to apply). A NaN or infinite loss or gradient is NOT an error
 *   here: it is in the gradients and partials, and ijepa_trainer_apply()
 *   rejects it after the sums.
 */
IJEPA_API int ijepa_trainer_compute(ijepa_trainer *tr, const float *images, int64_t offset,
                                    int64_t count, int64_t batch);

/**
 * Borrow the partials of the last ijepa_trainer_compute(): *count doubles
 * (2 + 2 x embed_dim) that data-parallel workers sum element by element,
 * like the gradients, before ijepa_trainer_apply(). Layout (for
 * information; treat it as an opaque array to sum): [0] the sum of the
 * element losses, [1] the number of images, [2, 2 + D) per feature the sum
 * over the images of the average-pooled, layer-normalised target features,
 * [2 + D, 2 + 2D) the sum of their squares (ijepa_loss_target_moments()).
 * The buffer may be read and written; it stays at the same address until
 * the trainer is freed. Errors: IJEPA_ERR_INVALID_ARG (a NULL argument).
 */
IJEPA_API int ijepa_trainer_partials(ijepa_trainer *tr, double **data, int64_t *count);

/**
 * The second half of a step: from the gradients and partials as they are
 * now (the sums over the workers, or one compute's own for a whole batch),
 * form the loss (loss sum / element count of the batch) and the collapse
 * monitor, then clip the gradients to clip_grad by their global norm, take
 * the AdamW step with the scheduled lr and weight decay, update the target
 * encoder by EMA, advance the step count and record the statistics, as
 * ijepa_trainer_step() does. *loss (may be NULL) receives the loss, and
 * is left unwritten when the call fails.
 *
 * @return IJEPA_OK;
 *   IJEPA_ERR_INVALID_ARG: NULL trainer, or the partials do not count the
 *     batch's images (they were not summed over every slice, or summed
 *     twice): nothing changed;
 *   IJEPA_ERR_STATE: nothing computed since the last apply or step (or
 *     since ijepa_trainer_load()), or the last compute failed while
 *     computing (a compute refused for its arguments changes nothing), or
 *     the step count is at INT64_MAX;
 *   IJEPA_ERR_NUMERIC: the loss, the collapse monitor or a gradient is
 *     NaN or infinite: no parameter, moment, target weight, step count or
 *     statistic has changed (the gradients may have been read only), and
 *     the computed step stays pending.
 */
IJEPA_API int ijepa_trainer_apply(ijepa_trainer *tr, double *loss);

/**
 * Bytes the trainer holds in buffers sized by its configuration: its three
 * model handles (ijepa_encoder_memory_bytes(), ijepa_predictor_memory_bytes()),
 * the optimizer's moments and the step buffers (masks, target features,
 * predictions and their gradients, the partials of ijepa_trainer_partials()). Small fixed-size allocations and the
 * compute kernels' caches and scratchpads come on top. 0 for NULL.
 */
IJEPA_API int64_t ijepa_trainer_memory_bytes(const ijepa_trainer *tr);

/**
 * What ijepa_trainer_create(ctx, cfg) would allocate: *bytes is the
 * ijepa_trainer_memory_bytes() of the trainer it would make, computed from
 * the configuration without allocating anything model-sized. Checks what
 * the model handles check at creation and warmup_steps <= total_steps (the
 * mask sampler and optimizer check their own keys when created); errors as
 * ijepa_trainer_create() would give them, plus IJEPA_ERR_INVALID_ARG for
 * NULL arguments. Thread-safe. In bf16 precision it also depends on the
 * CPU, as ijepa_encoder_estimate_bytes() says (the target encoder).
 */
IJEPA_API int ijepa_trainer_estimate_bytes(const ijepa_config *cfg, int64_t *bytes);

/**
 * Say, before any trainer exists, whether ijepa_trainer_load() of ck into a
 * trainer created from cfg would find what it needs: libijepa metadata, the
 * keys of class IJEPA_CFG_CLASS_MODEL equal in cfg and the file, and all
 * seven groups with exactly the trainer's tensors and shapes, and no other
 * tensor (values are checked by the load). *bytes (may be NULL) receives
 * ijepa_trainer_estimate_bytes(cfg) once the configuration is valid.
 * Nothing model-sized is allocated. cfg NULL means the file's own
 * configuration; a resuming host normally passes the file's configuration
 * with its own runtime keys (batch_size, data_* limits, ...: class
 * IJEPA_CFG_CLASS_RUNTIME) so that the file does not choose the resources.
 *
 * Errors: IJEPA_ERR_INVALID_ARG (NULL ck; cfg is not a valid trainer
 * configuration), IJEPA_ERR_FORMAT (no libijepa metadata, a model key that
 * differs, a missing, extra or mis-shaped tensor, an invalid configuration
 * in the file when cfg is NULL), IJEPA_ERR_NOMEM (activations beyond any
 * machine). The message is in ijepa_last_error().
 */
IJEPA_API int ijepa_trainer_check(ijepa_checkpoint *ck, const ijepa_config *cfg, int64_t *bytes);

/** Completed steps (the schedules' position). */
IJEPA_API int64_t ijepa_trainer_step_count(const ijepa_trainer *tr);

/** Read one IJEPA_STAT_* value of the last successful step. IJEPA_ERR_STATE
 * before the first (since creation or ijepa_trainer_load()), IJEPA_ERR_INVALID_ARG for
 * an unknown stat. */
IJEPA_API int ijepa_trainer_stat(const ijepa_trainer *tr, int32_t stat, double *value);

/**
 * Borrow the masks of the last step that sampled masks (also a step that
 * failed later, e.g. with IJEPA_ERR_NUMERIC), those of the whole batch also
 * after ijepa_trainer_compute() on a slice: context [batch, *n_context] and
 * targets [num_targets, batch, *n_target] (the mask sampler's layout). Valid
 * until the next step or compute. Any out-pointer may be NULL.
 * IJEPA_ERR_STATE before any step.
 */
IJEPA_API int ijepa_trainer_masks(const ijepa_trainer *tr, const int32_t **context,
                                  int64_t *n_context, const int32_t **targets,
                                  int64_t *n_target, int64_t *batch);

/** Borrowed handles; valid until the trainer is freed. NULL for NULL. */
IJEPA_API ijepa_encoder *ijepa_trainer_context_encoder(ijepa_trainer *tr);
IJEPA_API ijepa_encoder *ijepa_trainer_target_encoder(ijepa_trainer *tr);
IJEPA_API ijepa_predictor *ijepa_trainer_predictor(ijepa_trainer *tr);

/**
 * The borrowed AdamW optimizer of the trainer (valid until the trainer is
 * freed; NULL for NULL): its group 0 is the context encoder, group 1 the
 * predictor (ijepa_optimizer_moments()). Its step count equals
 * ijepa_trainer_step_count().
 */
IJEPA_API ijepa_optimizer *ijepa_trainer_optimizer(ijepa_trainer *tr);

/**
 * Save the trainer atomically to path (a libijepa checkpoint, see
 * checkpoint.h): context encoder (encoder.*), target encoder
 * (target_encoder.*), predictor (predictor.*), the AdamW moments of both
 * (optimizer.exp_avg*.*), the step count and the configuration (which holds
 * the seed of the mask stream).
 *
 * Errors: IJEPA_ERR_INVALID_ARG (NULL), IJEPA_ERR_NOMEM, IJEPA_ERR_IO (the
 * file could not be written; any previous file at path is unchanged and no
 * temporary file is left). The message is the checkpoint writer's
 * (ijepa_checkpoint_writer_save(): ...).
 */
IJEPA_API int ijepa_trainer_save(ijepa_trainer *tr, const char *path);

/**
 * Load a checkpoint written by ijepa_trainer_save() into tr, so that the
 * following steps are bit-identical to those of the run that saved it (same
 * thread count). Create tr from the file's configuration
 * (ijepa_checkpoint_read_config()). The keys of class IJEPA_CFG_CLASS_MODEL
 * (the model, its initialisation, the masks, the loss and the seed) must
 * equal the trainer's; the others (optimizer, schedules, data, runtime) may
 * differ, and training then continues with the trainer's values.
 *
 * Every group must be present, with exactly the trainer's tensors and shapes,
 * and no other tensor. The file is validated completely before anything is
 * changed; on failure the trainer is unchanged. The statistics and masks of
 * the last step are forgotten (ijepa_trainer_stat() gives IJEPA_ERR_STATE
 * until the next step).
 *
 * Errors: IJEPA_ERR_INVALID_ARG (NULL), IJEPA_ERR_IO (unreadable file:
 * ijepa_checkpoint_open()'s message), IJEPA_ERR_FORMAT (invalid file, not
 * written by libijepa, a configuration key or a tensor that does not match,
 * a missing or extra tensor, a non-finite value), IJEPA_ERR_NOMEM.
 */
IJEPA_API int ijepa_trainer_load(ijepa_trainer *tr, const char *path);

#ifdef __cplusplus
}
#endif

#endif /* IJEPA_TRAINER_H */
