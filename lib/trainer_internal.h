/* Internal access to the trainer for checkpoints (lib/checkpoint.c). */
#ifndef IJEPA_TRAINER_INTERNAL_H
#define IJEPA_TRAINER_INTERNAL_H

#include "internal.h"

/* The trainer's error record (public functions of other files that act on
 * a trainer record their failures here). */
ijepa__err *ijepa__trainer_err(ijepa_trainer *tr);

/* The optimizer the trainer composed: group 0 is the context encoder, group 1
 * the predictor. */
ijepa_optimizer *ijepa__trainer_optimizer(ijepa_trainer *tr);

/* Set the completed-step count (the schedules' and mask stream's position),
 * e.g. after restoring a checkpoint. The statistics and masks of the last
 * step are forgotten (they belong to a step this trainer did not run). */
void ijepa__trainer_set_step(ijepa_trainer *tr, int64_t step);

#endif
