/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * Internal entry point of the AdamW optimizer (lib/optim.c) for the trainer.
 */
#ifndef IJEPA_OPTIM_INTERNAL_H
#define IJEPA_OPTIM_INTERNAL_H

#include "internal.h"

/*
 * ijepa_optimizer_step() that also returns, in *gnorm, the global norm of
 * the gradients before clipping (ijepa_optimizer_grad_norm()'s value) from
 * the pass that checks them: one pass over the gradients instead of two.
 * func names the public function in error messages.
 */
int ijepa__optimizer_step_norm(ijepa_optimizer *opt, const char *func, double lr,
                               double weight_decay, double *gnorm);

#endif
