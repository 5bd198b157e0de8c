/* Internal readers of a config, for handles that consume one. */
#ifndef IJEPA_CONFIG_INTERNAL_H
#define IJEPA_CONFIG_INTERNAL_H

#include "internal.h"

/* Value of a key known to exist and to be of that type. */
int64_t ijepa__cfg_int(const ijepa_config *cfg, int32_t key);
double ijepa__cfg_float(const ijepa_config *cfg, int32_t key);

/* Upper bound of the patches in one target block the mask sampler can draw
 * under cfg (mask.c); the predictor sizes its sequences with it. */
int64_t ijepa__mask_target_area_bound(const ijepa_config *cfg);

#endif
