/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * The micro model shared by fuzz_checkpoint.c and seeds_checkpoint.c: 8x8
 * images of 4x4 patches (4 tokens), width 8, one block; predictor width 4,
 * one block. Small enough that a whole trainer checkpoint is about 20 kB, so
 * the fuzzer mutates real files quickly.
 */
#ifndef IJEPA_FUZZ_CHECKPOINT_CONFIG_H
#define IJEPA_FUZZ_CHECKPOINT_CONFIG_H

#include "ijepa/ijepa.h"

static int fuzz_micro_config(ijepa_config **out)
{
    static const struct { const char *k; double v; } set[] = {
        {"img_size", 8},     {"patch_size", 4},     {"in_chans", 1},   {"embed_dim", 8},
        {"depth", 1},        {"num_heads", 1},      {"pred_embed_dim", 4},
        {"pred_depth", 1},   {"batch_size", 2},     {"num_targets", 1}, {"min_keep", 0},
        {"target_scale_min", 0.25}, {"target_scale_max", 0.25}, {"seed", 3},
        {"total_steps", 10}, {"warmup_steps", 1},
    };
    ijepa_config *cfg;
    if (ijepa_config_create(&cfg) != IJEPA_OK)
        return -1;
    for (size_t i = 0; i < sizeof set / sizeof set[0]; i++) {
        int32_t key;
        int rc = ijepa_config_key_from_name(set[i].k, &key);
        if (rc == IJEPA_OK)
            rc = ijepa_config_key_type(key) == IJEPA_CFG_TYPE_INT
                     ? ijepa_config_set_int(cfg, key, (int64_t)set[i].v)
                     : ijepa_config_set_float(cfg, key, set[i].v);
        if (rc != IJEPA_OK) {
            ijepa_config_free(cfg);
            return -1;
        }
    }
    *out = cfg;
    return 0;
}

#endif
