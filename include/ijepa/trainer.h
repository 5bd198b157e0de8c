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
 *   loss    = loss_compute(h, targets, p)            (target LN, gather, smooth-L1/L2/L1)
 *   grads   = predictor and context encoder backward
 *   params  = AdamW(lr(step), wd(step))              (context encoder + predictor)
 *   target  = EMA(target, context encoder, momentum(step))
 *
 * Schedules come from the config keys 500-508 (warmup + cosine lr, cosine
 * weight decay, linear EMA momentum), evaluated at the trainer's own step
 * counter as the official code does.
 *
 * Persistence: ijepa_trainer_save() / ijepa_trainer_load() write and read
 * the whole training state as a libijepa checkpoint (checkpoint.h, whose
 * public reader and writer they use).
 *
 * Threading: see common.h. The context must outlive the trainer.
 */
#ifndef IJEPA_TRAINER_H
#define IJEPA_TRAINER_H

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
                                    average-pooled normalised target features, mean over dims */
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
 * One training step on images [batch, in_chans, img_size, img_size].
 * *loss (may be NULL) receives the loss. On IJEPA_ERR_NUMERIC (non-finite
 * loss or gradient) no parameter, moment, target weight or step counter has
 * changed. Errors: IJEPA_ERR_INVALID_ARG, IJEPA_ERR_NUMERIC, and from the
 * compute backend IJEPA_ERR_NOMEM, IJEPA_ERR_UNSUPPORTED, IJEPA_ERR_BACKEND.
 */
IJEPA_API int ijepa_trainer_step(ijepa_trainer *tr, const float *images, int64_t batch,
                                 double *loss);

/** Completed steps (the schedules' position). */
IJEPA_API int64_t ijepa_trainer_step_count(const ijepa_trainer *tr);

/** Read one IJEPA_STAT_* value of the last successful step. IJEPA_ERR_STATE
 * before the first (since creation or ijepa_trainer_load()), IJEPA_ERR_INVALID_ARG for
 * an unknown stat. */
IJEPA_API int ijepa_trainer_stat(const ijepa_trainer *tr, int32_t stat, double *value);

/**
 * Borrow the masks of the last step that sampled masks (also a step that
 * failed later, e.g. with IJEPA_ERR_NUMERIC): context [batch, *n_context] and
 * targets [num_targets, batch, *n_target] (the mask sampler's layout). Valid
 * until the next step. Any out-pointer may be NULL. IJEPA_ERR_STATE before
 * any step.
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
