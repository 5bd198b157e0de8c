/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * Model handles without their buffers, for sizing and checking before
 * anything model-sized is allocated (the checkpoint checks, the estimates of
 * encoder.h, predictor.h and trainer.h), and the handles' compute caches
 * for benchmarks and tests.
 */
#ifndef IJEPA_MODEL_INTERNAL_H
#define IJEPA_MODEL_INTERNAL_H

#include "internal.h"
#include "ops.h"

/*
 * An encoder (predictor) handle as ijepa_encoder_create(cfg) makes it, up to
 * its allocations: the configuration checked the same way (same errors,
 * recorded under func), the tensor table built, the sizes known. Only
 * ijepa_encoder_tensors(), ijepa_encoder_memory_bytes() (what creating it
 * would allocate), the scalar getters and ijepa_encoder_free() may be called
 * on it. Costs the table (a few hundred bytes per block).
 */
int ijepa__encoder_plan(ijepa_encoder **out, const ijepa_config *cfg, const char *func);
int ijepa__predictor_plan(ijepa_predictor **out, const ijepa_config *cfg, const char *func);

/* The handle's primitive cache (borrowed; NULL for a NULL handle). */
ijepa__ops *ijepa__encoder_ops(const ijepa_encoder *enc);
ijepa__ops *ijepa__predictor_ops(const ijepa_predictor *p);

#endif
