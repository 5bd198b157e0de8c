/*
 * Implements: the configuration object (typed key/value store with bounds),
 * key-name lookup and architecture presets.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"

typedef struct key_spec {
    int32_t key;
    const char *name;
    int32_t type;
    double def, lo, hi;
} key_spec;

/* The one table of keys: order here is the slot order inside a config. */
static const key_spec KEYS[] = {
    {IJEPA_CFG_SEED, "seed", IJEPA_CFG_TYPE_INT, 0, 0, 9223372036854775807.0},
    {IJEPA_CFG_BATCH_SIZE, "batch_size", IJEPA_CFG_TYPE_INT, 16, 1, 65536},
    {IJEPA_CFG_TRAINABLE, "trainable", IJEPA_CFG_TYPE_INT, 1, 0, 1},
    {IJEPA_CFG_PRIMITIVE_CACHE, "primitive_cache", IJEPA_CFG_TYPE_INT, 1024, 16, 65536},
    {IJEPA_CFG_IMG_SIZE, "img_size", IJEPA_CFG_TYPE_INT, 224, 1, 8192},
    {IJEPA_CFG_PATCH_SIZE, "patch_size", IJEPA_CFG_TYPE_INT, 16, 1, 1024},
    {IJEPA_CFG_IN_CHANS, "in_chans", IJEPA_CFG_TYPE_INT, 3, 1, 64},
    {IJEPA_CFG_EMBED_DIM, "embed_dim", IJEPA_CFG_TYPE_INT, 384, 4, 16384},
    {IJEPA_CFG_DEPTH, "depth", IJEPA_CFG_TYPE_INT, 12, 1, 256},
    {IJEPA_CFG_NUM_HEADS, "num_heads", IJEPA_CFG_TYPE_INT, 6, 1, 1024},
    {IJEPA_CFG_MLP_RATIO, "mlp_ratio", IJEPA_CFG_TYPE_FLOAT, 4.0, 0.25, 64},
    {IJEPA_CFG_QKV_BIAS, "qkv_bias", IJEPA_CFG_TYPE_INT, 1, 0, 1},
    {IJEPA_CFG_INIT_STD, "init_std", IJEPA_CFG_TYPE_FLOAT, 0.02, 0, 1},
    {IJEPA_CFG_INIT_DEPTH_RESCALE, "init_depth_rescale", IJEPA_CFG_TYPE_INT, 0, 0, 1},
    {IJEPA_CFG_LN_EPS, "ln_eps", IJEPA_CFG_TYPE_FLOAT, 1e-6, 0, 1},
    {IJEPA_CFG_PATCH_INIT_STD, "patch_init_std", IJEPA_CFG_TYPE_FLOAT, 0, 0, 10},
    {IJEPA_CFG_PRED_EMBED_DIM, "pred_embed_dim", IJEPA_CFG_TYPE_INT, 384, 4, 16384},
    {IJEPA_CFG_PRED_DEPTH, "pred_depth", IJEPA_CFG_TYPE_INT, 6, 1, 256},
    {IJEPA_CFG_PRED_NUM_HEADS, "pred_num_heads", IJEPA_CFG_TYPE_INT, 0, 0, 1024},
    {IJEPA_CFG_MASK_MODE, "mask_mode", IJEPA_CFG_TYPE_INT, IJEPA_MASK_UNIFORM, 0, 1},
    {IJEPA_CFG_NUM_TARGETS, "num_targets", IJEPA_CFG_TYPE_INT, 4, 1, 64},
    {IJEPA_CFG_TARGET_SCALE_MIN, "target_scale_min", IJEPA_CFG_TYPE_FLOAT, 0.15, 0, 1},
    {IJEPA_CFG_TARGET_SCALE_MAX, "target_scale_max", IJEPA_CFG_TYPE_FLOAT, 0.2, 0, 1},
    {IJEPA_CFG_TARGET_ASPECT_MIN, "target_aspect_min", IJEPA_CFG_TYPE_FLOAT, 0.75, 0.01, 100},
    {IJEPA_CFG_TARGET_ASPECT_MAX, "target_aspect_max", IJEPA_CFG_TYPE_FLOAT, 1.5, 0.01, 100},
    {IJEPA_CFG_CONTEXT_SCALE_MIN, "context_scale_min", IJEPA_CFG_TYPE_FLOAT, 0.85, 0, 1},
    {IJEPA_CFG_CONTEXT_SCALE_MAX, "context_scale_max", IJEPA_CFG_TYPE_FLOAT, 1.0, 0, 1},
    {IJEPA_CFG_MIN_KEEP, "min_keep", IJEPA_CFG_TYPE_INT, 10, 0, 1048576},
    {IJEPA_CFG_ALLOW_OVERLAP, "allow_overlap", IJEPA_CFG_TYPE_INT, 0, 0, 1},
    {IJEPA_CFG_LOSS, "loss", IJEPA_CFG_TYPE_INT, IJEPA_LOSS_SMOOTH_L1, 0, 2},
    {IJEPA_CFG_TARGET_LN_EPS, "target_ln_eps", IJEPA_CFG_TYPE_FLOAT, 1e-5, 0, 1},
    {IJEPA_CFG_ADAM_BETA1, "adam_beta1", IJEPA_CFG_TYPE_FLOAT, 0.9, 0, 1},
    {IJEPA_CFG_ADAM_BETA2, "adam_beta2", IJEPA_CFG_TYPE_FLOAT, 0.999, 0, 1},
    {IJEPA_CFG_ADAM_EPS, "adam_eps", IJEPA_CFG_TYPE_FLOAT, 1e-8, 0, 1},
    {IJEPA_CFG_CLIP_GRAD, "clip_grad", IJEPA_CFG_TYPE_FLOAT, 0, 0, 1e9},
    {IJEPA_CFG_TOTAL_STEPS, "total_steps", IJEPA_CFG_TYPE_INT, 1000, 1, 1099511627776.0},
    {IJEPA_CFG_WARMUP_STEPS, "warmup_steps", IJEPA_CFG_TYPE_INT, 100, 0, 1099511627776.0},
    {IJEPA_CFG_LR_START, "lr_start", IJEPA_CFG_TYPE_FLOAT, 2e-4, 0, 10},
    {IJEPA_CFG_LR, "lr", IJEPA_CFG_TYPE_FLOAT, 1e-3, 0, 10},
    {IJEPA_CFG_LR_FINAL, "lr_final", IJEPA_CFG_TYPE_FLOAT, 1e-6, 0, 10},
    {IJEPA_CFG_WEIGHT_DECAY, "weight_decay", IJEPA_CFG_TYPE_FLOAT, 0.04, 0, 10},
    {IJEPA_CFG_WEIGHT_DECAY_FINAL, "weight_decay_final", IJEPA_CFG_TYPE_FLOAT, 0.4, 0, 10},
    {IJEPA_CFG_EMA_START, "ema_start", IJEPA_CFG_TYPE_FLOAT, 0.996, 0, 1},
    {IJEPA_CFG_EMA_END, "ema_end", IJEPA_CFG_TYPE_FLOAT, 1.0, 0, 1},
    {IJEPA_CFG_DATA_MAX_PIXELS, "data_max_pixels", IJEPA_CFG_TYPE_INT, 67108864.0, 1, 1099511627776.0},
    {IJEPA_CFG_DATA_MAX_FILE_BYTES, "data_max_file_bytes", IJEPA_CFG_TYPE_INT, 268435456.0, 1, 1099511627776.0},
    {IJEPA_CFG_DATA_CROP_SCALE_MIN, "data_crop_scale_min", IJEPA_CFG_TYPE_FLOAT, 0.3, 1e-6, 1},
    {IJEPA_CFG_DATA_CROP_SCALE_MAX, "data_crop_scale_max", IJEPA_CFG_TYPE_FLOAT, 1.0, 1e-6, 1},
    {IJEPA_CFG_DATA_CROP_RATIO_MIN, "data_crop_ratio_min", IJEPA_CFG_TYPE_FLOAT, 0.75, 0.01, 100},
    {IJEPA_CFG_DATA_CROP_RATIO_MAX, "data_crop_ratio_max", IJEPA_CFG_TYPE_FLOAT, 4.0 / 3.0, 0.01, 100},
    {IJEPA_CFG_DATA_MEAN_R, "data_mean_r", IJEPA_CFG_TYPE_FLOAT, 0.485, -10, 10},
    {IJEPA_CFG_DATA_MEAN_G, "data_mean_g", IJEPA_CFG_TYPE_FLOAT, 0.456, -10, 10},
    {IJEPA_CFG_DATA_MEAN_B, "data_mean_b", IJEPA_CFG_TYPE_FLOAT, 0.406, -10, 10},
    {IJEPA_CFG_DATA_STD_R, "data_std_r", IJEPA_CFG_TYPE_FLOAT, 0.229, 1e-6, 1000},
    {IJEPA_CFG_DATA_STD_G, "data_std_g", IJEPA_CFG_TYPE_FLOAT, 0.224, 1e-6, 1000},
    {IJEPA_CFG_DATA_STD_B, "data_std_b", IJEPA_CFG_TYPE_FLOAT, 0.225, 1e-6, 1000},
    {IJEPA_CFG_DATA_TRANSFORM, "data_transform", IJEPA_CFG_TYPE_INT, IJEPA_DATA_TRAIN, 0, 1},
    {IJEPA_CFG_DATA_EVAL_RESIZE, "data_eval_resize", IJEPA_CFG_TYPE_INT, 0, 0, 65536},
    {IJEPA_CFG_DATA_WORKERS, "data_workers", IJEPA_CFG_TYPE_INT, 2, 0, 64},
    {IJEPA_CFG_DATA_PREFETCH, "data_prefetch", IJEPA_CFG_TYPE_INT, 2, 1, 64},
    {IJEPA_CFG_DATA_ON_ERROR, "data_on_error", IJEPA_CFG_TYPE_INT, IJEPA_DATA_STOP, 0, 1},
    {IJEPA_CFG_DATA_SHUFFLE, "data_shuffle", IJEPA_CFG_TYPE_INT, 1, 0, 1},
    {IJEPA_CFG_DATA_MAX_SCAN_PIXELS, "data_max_scan_pixels", IJEPA_CFG_TYPE_INT, 2147483648.0, 1, 17592186044416.0},
};
#define NKEYS ((int32_t)(sizeof KEYS / sizeof KEYS[0]))

struct ijepa_config {
    ijepa__err err;
    int64_t ival[NKEYS];
    double fval[NKEYS];
};

static int slot_of(int32_t key)
{
    for (int i = 0; i < NKEYS; i++)
        if (KEYS[i].key == key)
            return i;
    return -1;
}

static void set_defaults(ijepa_config *cfg)
{
    for (int i = 0; i < NKEYS; i++) {
        cfg->ival[i] = (int64_t)KEYS[i].def;
        cfg->fval[i] = KEYS[i].def;
    }
}

int ijepa_config_create(ijepa_config **out)
{
    if (!out)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "out is NULL");
    *out = NULL;
    ijepa_config *cfg = calloc(1, sizeof *cfg);
    if (!cfg)
        return ijepa__fail_func(__func__, IJEPA_ERR_NOMEM, "cannot allocate a config");
    set_defaults(cfg);
    *out = cfg;
    return IJEPA_OK;
}

int ijepa_config_copy(ijepa_config **out, const ijepa_config *src)
{
    if (!out || !src)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG,
                                "out and src must not be NULL");
    *out = NULL;
    ijepa_config *cfg = malloc(sizeof *cfg);
    if (!cfg)
        return ijepa__fail_func(__func__, IJEPA_ERR_NOMEM, "cannot allocate a config");
    memcpy(cfg, src, sizeof *cfg);
    cfg->err.func = NULL;
    cfg->err.msg[0] = '\0';
    *out = cfg;
    return IJEPA_OK;
}

void ijepa_config_free(ijepa_config *cfg) { free(cfg); }

const char *ijepa_config_last_error(const ijepa_config *cfg)
{
    return cfg ? cfg->err.msg : "";
}

/* Validate (cfg, key, type); returns the slot or a negative status. */
static int lookup(ijepa_config *cfg, const char *func, int32_t key, int32_t type)
{
    ijepa__err *e = NULL;
    if (cfg) {
        e = &cfg->err;
        ijepa__enter(e, func);
    }
    if (!cfg)
        return ijepa__fail_func(func, IJEPA_ERR_INVALID_ARG, "config is NULL");
    int s = slot_of(key);
    if (s < 0)
        return ijepa__fail(e, IJEPA_ERR_INVALID_ARG, "unknown key %d", (int)key);
    if (KEYS[s].type != type)
        return ijepa__fail(e, IJEPA_ERR_INVALID_ARG, "key '%s' is %s, not %s",
                           KEYS[s].name,
                           KEYS[s].type == IJEPA_CFG_TYPE_INT ? "an integer" : "a float",
                           type == IJEPA_CFG_TYPE_INT ? "an integer" : "a float");
    return s;
}

int ijepa_config_set_int(ijepa_config *cfg, int32_t key, int64_t value)
{
    int s = lookup(cfg, __func__, key, IJEPA_CFG_TYPE_INT);
    if (s < 0)
        return s;
    if ((double)value < KEYS[s].lo || (double)value > KEYS[s].hi)
        return ijepa__fail(&cfg->err, IJEPA_ERR_INVALID_ARG,
                           "%s = %lld is outside [%.17g, %.17g]", KEYS[s].name,
                           (long long)value, KEYS[s].lo, KEYS[s].hi);
    cfg->ival[s] = value;
    return IJEPA_OK;
}

int ijepa_config_get_int(const ijepa_config *cfg, int32_t key, int64_t *value)
{
    int s = lookup((ijepa_config *)cfg, __func__, key, IJEPA_CFG_TYPE_INT);
    if (s < 0)
        return s;
    if (!value)
        return ijepa__fail((ijepa__err *)&cfg->err, IJEPA_ERR_INVALID_ARG, "value is NULL");
    *value = cfg->ival[s];
    return IJEPA_OK;
}

int ijepa_config_set_float(ijepa_config *cfg, int32_t key, double value)
{
    int s = lookup(cfg, __func__, key, IJEPA_CFG_TYPE_FLOAT);
    if (s < 0)
        return s;
    if (!isfinite(value) || value < KEYS[s].lo || value > KEYS[s].hi)
        return ijepa__fail(&cfg->err, IJEPA_ERR_INVALID_ARG,
                           "%s = %g is outside [%g, %g]", KEYS[s].name, value,
                           KEYS[s].lo, KEYS[s].hi);
    cfg->fval[s] = value;
    return IJEPA_OK;
}

int ijepa_config_get_float(const ijepa_config *cfg, int32_t key, double *value)
{
    int s = lookup((ijepa_config *)cfg, __func__, key, IJEPA_CFG_TYPE_FLOAT);
    if (s < 0)
        return s;
    if (!value)
        return ijepa__fail((ijepa__err *)&cfg->err, IJEPA_ERR_INVALID_ARG, "value is NULL");
    *value = cfg->fval[s];
    return IJEPA_OK;
}

typedef struct preset {
    const char *name;
    int64_t dim, depth, heads;
    double mlp_ratio;
} preset;

static const preset PRESETS[] = {
    {"vit_tiny", 192, 12, 3, 4.0},     {"vit_small", 384, 12, 6, 4.0},
    {"vit_base", 768, 12, 12, 4.0},    {"vit_large", 1024, 24, 16, 4.0},
    {"vit_huge", 1280, 32, 16, 4.0},   {"vit_giant", 1408, 40, 16, 48.0 / 11.0},
};

int ijepa_config_apply_preset(ijepa_config *cfg, const char *name)
{
    if (!cfg)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "config is NULL");
    ijepa__enter(&cfg->err, __func__);
    if (!name)
        return ijepa__fail(&cfg->err, IJEPA_ERR_INVALID_ARG, "name is NULL");
    for (size_t i = 0; i < sizeof PRESETS / sizeof PRESETS[0]; i++) {
        const preset *p = &PRESETS[i];
        if (strcmp(p->name, name) != 0)
            continue;
        cfg->ival[slot_of(IJEPA_CFG_EMBED_DIM)] = p->dim;
        cfg->ival[slot_of(IJEPA_CFG_DEPTH)] = p->depth;
        cfg->ival[slot_of(IJEPA_CFG_NUM_HEADS)] = p->heads;
        cfg->fval[slot_of(IJEPA_CFG_MLP_RATIO)] = p->mlp_ratio;
        return IJEPA_OK;
    }
    return ijepa__fail(&cfg->err, IJEPA_ERR_INVALID_ARG,
                       "unknown preset '%s' (known: vit_tiny, vit_small, vit_base, "
                       "vit_large, vit_huge, vit_giant)", name);
}

int ijepa_config_key_from_name(const char *name, int32_t *key)
{
    if (!name || !key)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG,
                                "name and key must not be NULL");
    for (int i = 0; i < NKEYS; i++)
        if (strcmp(KEYS[i].name, name) == 0) {
            *key = KEYS[i].key;
            return IJEPA_OK;
        }
    return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "unknown key name '%s'", name);
}

const char *ijepa_config_key_name(int32_t key)
{
    int s = slot_of(key);
    return s < 0 ? NULL : KEYS[s].name;
}

int ijepa_config_key_type(int32_t key)
{
    int s = slot_of(key);
    if (s < 0)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "unknown key %d", (int)key);
    return KEYS[s].type;
}

int ijepa_config_bounds(int32_t key, double *lo, double *hi)
{
    int s = slot_of(key);
    if (s < 0)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "unknown key %d", (int)key);
    if (lo) *lo = KEYS[s].lo;
    if (hi) *hi = KEYS[s].hi;
    return IJEPA_OK;
}

int32_t ijepa_config_key_count(void) { return NKEYS; }

int32_t ijepa_config_key_at(int32_t i)
{
    return (i >= 0 && i < NKEYS) ? KEYS[i].key : -1;
}

// --- internal readers: keys are known valid here ------------------------------

int64_t ijepa__cfg_int(const ijepa_config *cfg, int32_t key)
{
    return cfg->ival[slot_of(key)];
}

double ijepa__cfg_float(const ijepa_config *cfg, int32_t key)
{
    return cfg->fval[slot_of(key)];
}
