/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/* Internal readers of a config, for handles that consume one. */
#ifndef IJEPA_CONFIG_INTERNAL_H
#define IJEPA_CONFIG_INTERNAL_H

#include "internal.h"

/* The text of ijepa_config_to_text() in a new malloc() string (*text),
 * without recording a message; IJEPA_ERR_NOMEM. */
int ijepa__config_text(const ijepa_config *cfg, char **text);

/* ijepa_config_from_text() without recording a message: on failure cfg is
 * unchanged and why gets the cause ("line N: ...", no function name), for
 * callers that report it in their own words (the checkpoint reader). */
int ijepa__config_parse(ijepa_config *cfg, const char *text, char *why, size_t whylen);

/* Value of a key known to exist and to be of that type. */
int64_t ijepa__cfg_int(const ijepa_config *cfg, int32_t key);
double ijepa__cfg_float(const ijepa_config *cfg, int32_t key);

/* Upper bound of the patches in one target block the mask sampler can draw
 * under cfg (mask.c); the predictor sizes its sequences with it. */
int64_t ijepa__mask_target_area_bound(const ijepa_config *cfg);

#endif
