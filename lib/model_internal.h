/*
 * Internal accessors of the model handles (lib/encoder.c, lib/predictor.c)
 * for benchmarks and tests.
 */
#ifndef IJEPA_MODEL_INTERNAL_H
#define IJEPA_MODEL_INTERNAL_H

#include "ops.h"

/* The handle's primitive cache (borrowed; NULL for a NULL handle). */
ijepa__ops *ijepa__encoder_ops(const ijepa_encoder *enc);
ijepa__ops *ijepa__predictor_ops(const ijepa_predictor *p);

#endif
