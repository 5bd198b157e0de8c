/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * Implements: the configuration object (typed key/value store with bounds
 * and a class per key), key-name lookup, the text form of a config
 * ("name = value" lines, locale-independent) and the named presets.
 */
#define _POSIX_C_SOURCE 200809L /* newlocale, uselocale */
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"

typedef struct key_spec {
    int32_t key;
    const char *name;
    int32_t type;   /* IJEPA_CFG_TYPE_* */
    int32_t cls;    /* IJEPA_CFG_CLASS_* */
    double def, lo, hi;
} key_spec;

#define INT IJEPA_CFG_TYPE_INT
#define FLOAT IJEPA_CFG_TYPE_FLOAT
#define MODEL IJEPA_CFG_CLASS_MODEL
#define TRAINING IJEPA_CFG_CLASS_TRAINING
#define DATA IJEPA_CFG_CLASS_DATA
#define RUNTIME IJEPA_CFG_CLASS_RUNTIME

/* The one table of keys: order here is the slot order inside a config. */
static const key_spec KEYS[] = {
    {IJEPA_CFG_SEED, "seed", INT, MODEL, 0, 0, 9223372036854775807.0},
    {IJEPA_CFG_BATCH_SIZE, "batch_size", INT, RUNTIME, 16, 1, 65536},
    {IJEPA_CFG_TRAINABLE, "trainable", INT, RUNTIME, 1, 0, 1},
    {IJEPA_CFG_PRIMITIVE_CACHE, "primitive_cache", INT, RUNTIME, 1024, 16, 65536},
    {IJEPA_CFG_PRECISION, "precision", INT, RUNTIME, IJEPA_PRECISION_F32, 0, 1},
    {IJEPA_CFG_SEQ_BUCKET, "seq_bucket", INT, RUNTIME, 8, 1, 1024},
    {IJEPA_CFG_IMG_SIZE, "img_size", INT, MODEL, 224, 1, 8192},
    {IJEPA_CFG_PATCH_SIZE, "patch_size", INT, MODEL, 16, 1, 1024},
    {IJEPA_CFG_IN_CHANS, "in_chans", INT, MODEL, 3, 1, 64},
    {IJEPA_CFG_EMBED_DIM, "embed_dim", INT, MODEL, 384, 4, 16384},
    {IJEPA_CFG_DEPTH, "depth", INT, MODEL, 12, 1, 256},
    {IJEPA_CFG_NUM_HEADS, "num_heads", INT, MODEL, 6, 1, 1024},
    {IJEPA_CFG_MLP_RATIO, "mlp_ratio", FLOAT, MODEL, 4.0, 0.25, 64},
    {IJEPA_CFG_QKV_BIAS, "qkv_bias", INT, MODEL, 1, 0, 1},
    {IJEPA_CFG_INIT_STD, "init_std", FLOAT, MODEL, 0.02, 0, 1},
    {IJEPA_CFG_INIT_DEPTH_RESCALE, "init_depth_rescale", INT, MODEL, 0, 0, 1},
    {IJEPA_CFG_LN_EPS, "ln_eps", FLOAT, MODEL, 1e-6, 0, 1},
    {IJEPA_CFG_PATCH_INIT_STD, "patch_init_std", FLOAT, MODEL, 0, 0, 10},
    {IJEPA_CFG_PRED_EMBED_DIM, "pred_embed_dim", INT, MODEL, 384, 4, 16384},
    {IJEPA_CFG_PRED_DEPTH, "pred_depth", INT, MODEL, 6, 1, 256},
    {IJEPA_CFG_PRED_NUM_HEADS, "pred_num_heads", INT, MODEL, 0, 0, 1024},
    {IJEPA_CFG_MASK_MODE, "mask_mode", INT, MODEL, IJEPA_MASK_UNIFORM, 0, 1},
    {IJEPA_CFG_NUM_TARGETS, "num_targets", INT, MODEL, 4, 1, 64},
    {IJEPA_CFG_TARGET_SCALE_MIN, "target_scale_min", FLOAT, MODEL, 0.15, 0, 1},
    {IJEPA_CFG_TARGET_SCALE_MAX, "target_scale_max", FLOAT, MODEL, 0.2, 0, 1},
    {IJEPA_CFG_TARGET_ASPECT_MIN, "target_aspect_min", FLOAT, MODEL, 0.75, 0.01, 100},
    {IJEPA_CFG_TARGET_ASPECT_MAX, "target_aspect_max", FLOAT, MODEL, 1.5, 0.01, 100},
    {IJEPA_CFG_CONTEXT_SCALE_MIN, "context_scale_min", FLOAT, MODEL, 0.85, 0, 1},
    {IJEPA_CFG_CONTEXT_SCALE_MAX, "context_scale_max", FLOAT, MODEL, 1.0, 0, 1},
    {IJEPA_CFG_MIN_KEEP, "min_keep", INT, MODEL, 10, 0, 1048576},
    {IJEPA_CFG_ALLOW_OVERLAP, "allow_overlap", INT, MODEL, 0, 0, 1},
    {IJEPA_CFG_LOSS, "loss", INT, MODEL, IJEPA_LOSS_SMOOTH_L1, 0, 2},
    {IJEPA_CFG_TARGET_LN_EPS, "target_ln_eps", FLOAT, MODEL, 1e-5, 0, 1},
    {IJEPA_CFG_ADAM_BETA1, "adam_beta1", FLOAT, TRAINING, 0.9, 0, 1},
    {IJEPA_CFG_ADAM_BETA2, "adam_beta2", FLOAT, TRAINING, 0.999, 0, 1},
    {IJEPA_CFG_ADAM_EPS, "adam_eps", FLOAT, TRAINING, 1e-8, 0, 1},
    {IJEPA_CFG_CLIP_GRAD, "clip_grad", FLOAT, TRAINING, 0, 0, 1e9},
    {IJEPA_CFG_TOTAL_STEPS, "total_steps", INT, TRAINING, 1000, 1, 1099511627776.0},
    {IJEPA_CFG_WARMUP_STEPS, "warmup_steps", INT, TRAINING, 100, 0, 1099511627776.0},
    {IJEPA_CFG_LR_START, "lr_start", FLOAT, TRAINING, 2e-4, 0, 10},
    {IJEPA_CFG_LR, "lr", FLOAT, TRAINING, 1e-3, 0, 10},
    {IJEPA_CFG_LR_FINAL, "lr_final", FLOAT, TRAINING, 1e-6, 0, 10},
    {IJEPA_CFG_WEIGHT_DECAY, "weight_decay", FLOAT, TRAINING, 0.04, 0, 10},
    {IJEPA_CFG_WEIGHT_DECAY_FINAL, "weight_decay_final", FLOAT, TRAINING, 0.4, 0, 10},
    {IJEPA_CFG_EMA_START, "ema_start", FLOAT, TRAINING, 0.996, 0, 1},
    {IJEPA_CFG_EMA_END, "ema_end", FLOAT, TRAINING, 1.0, 0, 1},
    {IJEPA_CFG_DATA_MAX_PIXELS, "data_max_pixels", INT, RUNTIME, 67108864.0, 1, 1099511627776.0},
    {IJEPA_CFG_DATA_MAX_FILE_BYTES, "data_max_file_bytes", INT, RUNTIME, 268435456.0, 1, 1099511627776.0},
    {IJEPA_CFG_DATA_CROP_SCALE_MIN, "data_crop_scale_min", FLOAT, DATA, 0.3, 1e-6, 1},
    {IJEPA_CFG_DATA_CROP_SCALE_MAX, "data_crop_scale_max", FLOAT, DATA, 1.0, 1e-6, 1},
    {IJEPA_CFG_DATA_CROP_RATIO_MIN, "data_crop_ratio_min", FLOAT, DATA, 0.75, 0.01, 100},
    {IJEPA_CFG_DATA_CROP_RATIO_MAX, "data_crop_ratio_max", FLOAT, DATA, 4.0 / 3.0, 0.01, 100},
    {IJEPA_CFG_DATA_MEAN_R, "data_mean_r", FLOAT, DATA, 0.485, -10, 10},
    {IJEPA_CFG_DATA_MEAN_G, "data_mean_g", FLOAT, DATA, 0.456, -10, 10},
    {IJEPA_CFG_DATA_MEAN_B, "data_mean_b", FLOAT, DATA, 0.406, -10, 10},
    {IJEPA_CFG_DATA_STD_R, "data_std_r", FLOAT, DATA, 0.229, 1e-6, 1000},
    {IJEPA_CFG_DATA_STD_G, "data_std_g", FLOAT, DATA, 0.224, 1e-6, 1000},
    {IJEPA_CFG_DATA_STD_B, "data_std_b", FLOAT, DATA, 0.225, 1e-6, 1000},
    {IJEPA_CFG_DATA_TRANSFORM, "data_transform", INT, DATA, IJEPA_DATA_TRAIN, 0, 1},
    {IJEPA_CFG_DATA_EVAL_RESIZE, "data_eval_resize", INT, DATA, 0, 0, 65536},
    {IJEPA_CFG_DATA_WORKERS, "data_workers", INT, RUNTIME, 2, 0, 64},
    {IJEPA_CFG_DATA_PREFETCH, "data_prefetch", INT, RUNTIME, 2, 1, 64},
    {IJEPA_CFG_DATA_ON_ERROR, "data_on_error", INT, RUNTIME, IJEPA_DATA_STOP, 0, 1},
    {IJEPA_CFG_DATA_SHUFFLE, "data_shuffle", INT, DATA, 1, 0, 1},
    {IJEPA_CFG_DATA_MAX_SCAN_PIXELS, "data_max_scan_pixels", INT, RUNTIME, 2147483648.0, 1, 17592186044416.0},
};
#define NKEYS ((int32_t)(sizeof KEYS / sizeof KEYS[0]))

/* Names of the values of enumerated integer keys, value = position. */
typedef struct value_names {
    int32_t key;
    const char *names[4]; /* NULL-terminated */
} value_names;

static const value_names VALUE_NAMES[] = {
    {IJEPA_CFG_PRECISION, {"f32", "bf16", NULL}},
    {IJEPA_CFG_MASK_MODE, {"uniform", "official", NULL}},
    {IJEPA_CFG_LOSS, {"smooth_l1", "l2", "l1", NULL}},
    {IJEPA_CFG_DATA_TRANSFORM, {"train", "eval", NULL}},
    {IJEPA_CFG_DATA_ON_ERROR, {"stop", "skip", NULL}},
};

static const value_names *names_of(int32_t key)
{
    for (size_t i = 0; i < sizeof VALUE_NAMES / sizeof VALUE_NAMES[0]; i++)
        if (VALUE_NAMES[i].key == key)
            return &VALUE_NAMES[i];
    return NULL;
}

/* The position of name among the value names of key, or -1. */
static int64_t named_value(int32_t key, const char *name)
{
    const value_names *v = names_of(key);
    for (int64_t i = 0; v && i < 4 && v->names[i]; i++)
        if (strcmp(v->names[i], name) == 0)
            return i;
    return -1;
}

/* "f32, bf16": the value names of key, for messages ("" if none). */
static const char *names_text(int32_t key, char *buf, size_t n)
{
    const value_names *v = names_of(key);
    size_t len = 0;
    buf[0] = '\0';
    for (int64_t i = 0; v && i < 4 && v->names[i] && len < n; i++)
        len += (size_t)snprintf(buf + len, n - len, "%s%s", i ? ", " : "", v->names[i]);
    return buf;
}
#undef INT
#undef FLOAT
#undef MODEL
#undef TRAINING
#undef DATA
#undef RUNTIME

struct ijepa_config {
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
    *out = cfg;
    return IJEPA_OK;
}

void ijepa_config_free(ijepa_config *cfg) { free(cfg); }

/* Validate (cfg, key, type); returns the slot or a negative status. Only
 * the thread's message is written, never the config: reading one config
 * from several threads is safe. */
static int lookup(const ijepa_config *cfg, const char *func, int32_t key, int32_t type)
{
    if (!cfg)
        return ijepa__fail_func(func, IJEPA_ERR_INVALID_ARG, "config is NULL");
    int s = slot_of(key);
    if (s < 0)
        return ijepa__fail_func(func, IJEPA_ERR_INVALID_ARG, "unknown key %d", (int)key);
    if (KEYS[s].type != type)
        return ijepa__fail_func(func, IJEPA_ERR_INVALID_ARG, "key '%s' is %s, not %s",
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
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG,
                                "%s = %lld is outside [%.17g, %.17g]", KEYS[s].name,
                                (long long)value, KEYS[s].lo, KEYS[s].hi);
    cfg->ival[s] = value;
    return IJEPA_OK;
}

int ijepa_config_get_int(const ijepa_config *cfg, int32_t key, int64_t *value)
{
    int s = lookup(cfg, __func__, key, IJEPA_CFG_TYPE_INT);
    if (s < 0)
        return s;
    if (!value)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "value is NULL");
    *value = cfg->ival[s];
    return IJEPA_OK;
}

int ijepa_config_set_float(ijepa_config *cfg, int32_t key, double value)
{
    int s = lookup(cfg, __func__, key, IJEPA_CFG_TYPE_FLOAT);
    if (s < 0)
        return s;
    if (!isfinite(value) || value < KEYS[s].lo || value > KEYS[s].hi)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG,
                                "%s = %g is outside [%g, %g]", KEYS[s].name, value,
                                KEYS[s].lo, KEYS[s].hi);
    cfg->fval[s] = value;
    return IJEPA_OK;
}

int ijepa_config_get_float(const ijepa_config *cfg, int32_t key, double *value)
{
    int s = lookup(cfg, __func__, key, IJEPA_CFG_TYPE_FLOAT);
    if (s < 0)
        return s;
    if (!value)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "value is NULL");
    *value = cfg->fval[s];
    return IJEPA_OK;
}

// --- text form ------------------------------------------------------------------------

/*
 * Numbers are written and read in the C locale, whatever LC_NUMERIC the host
 * program chose (a German locale would write "0,001" and fail to read
 * "0.001"). The C locale is made current for this thread alone, only for the
 * call (uselocale()); the host's setting is back before the call returns.
 */
typedef struct c_numeric {
    locale_t c, prev;
} c_numeric;

static int c_numeric_enter(c_numeric *n)
{
    n->c = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    if (n->c == (locale_t)0)
        return IJEPA_ERR_NOMEM;
    n->prev = uselocale(n->c);
    return IJEPA_OK;
}

static void c_numeric_leave(c_numeric *n)
{
    uselocale(n->prev);
    freelocale(n->c);
}

/* Append the lines of cfg to buf (which has room for size bytes; NULL: count
 * only) and return the text's length. Integers in decimal, floats with 17
 * significant digits: they read back bit-identically. */
static size_t format_lines(const ijepa_config *cfg, char *buf, size_t size)
{
    size_t len = 0;
    for (int i = 0; i < NKEYS; i++) {
        char line[160];
        const int n = KEYS[i].type == IJEPA_CFG_TYPE_INT
                          ? snprintf(line, sizeof line, "%s = %lld\n", KEYS[i].name,
                                     (long long)cfg->ival[i])
                          : snprintf(line, sizeof line, "%s = %.17g\n", KEYS[i].name,
                                     cfg->fval[i]);
        if (buf && len + (size_t)n < size)
            memcpy(buf + len, line, (size_t)n);
        len += (size_t)n;
    }
    if (buf && len < size)
        buf[len] = '\0';
    return len;
}

int ijepa__config_text(const ijepa_config *cfg, char **text)
{
    *text = NULL;
    c_numeric n;
    if (c_numeric_enter(&n) < 0)
        return IJEPA_ERR_NOMEM;
    const size_t len = format_lines(cfg, NULL, 0);
    char *s = malloc(len + 1);
    if (s)
        format_lines(cfg, s, len + 1);
    c_numeric_leave(&n);
    if (!s)
        return IJEPA_ERR_NOMEM;
    *text = s;
    return IJEPA_OK;
}

int ijepa_config_to_text(const ijepa_config *cfg, char *buf, size_t size, size_t *length)
{
    if (!cfg || (!buf && size > 0))
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG,
                                "config is NULL, or buf is NULL with size %zu", size);
    char *text;
    if (ijepa__config_text(cfg, &text) < 0)
        return ijepa__fail_func(__func__, IJEPA_ERR_NOMEM, "cannot format the configuration");
    const size_t len = strlen(text);
    if (length)
        *length = len;
    int rc = IJEPA_OK;
    if (buf && size <= len)
        rc = ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG,
                              "a buffer of %zu bytes is too small: the text needs %zu", size,
                              len + 1);
    else if (buf)
        memcpy(buf, text, len + 1);
    free(text);
    return rc;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\r')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

/* One "name = value" line (trimmed, not blank, not a comment) into c. */
static int parse_line(ijepa_config *c, char *l, int line, unsigned char *seen, char *why,
                      size_t whylen)
{
    char *eq = strchr(l, '=');
    if (!eq) {
        snprintf(why, whylen, "line %d has no '='", line);
        return IJEPA_ERR_INVALID_ARG;
    }
    *eq = '\0';
    const char *name = trim(l), *value = trim(eq + 1);
    int s = -1;
    for (int i = 0; i < NKEYS && s < 0; i++)
        if (!strcmp(KEYS[i].name, name))
            s = i;
    if (s < 0) {
        snprintf(why, whylen, "line %d: unknown key '%.64s'", line, name);
        return IJEPA_ERR_INVALID_ARG;
    }
    if (seen[s]) {
        snprintf(why, whylen, "line %d: key '%s' given twice", line, name);
        return IJEPA_ERR_INVALID_ARG;
    }
    seen[s] = 1;
    char *end = NULL;
    errno = 0;
    int bad;
    double v;
    if (KEYS[s].type == IJEPA_CFG_TYPE_INT) {
        long long iv = strtoll(value, &end, 10);
        bad = !*value || *end || errno != 0;
        if (bad && named_value(KEYS[s].key, value) >= 0) { /* precision = bf16 */
            iv = named_value(KEYS[s].key, value);
            bad = 0;
        }
        v = (double)iv;
        if (!bad)
            c->ival[s] = iv;
    } else {
        v = strtod(value, &end);
        bad = !*value || *end || !isfinite(v);
        if (!bad)
            c->fval[s] = v;
    }
    if (bad) {
        char names[64];
        if (names_of(KEYS[s].key))
            snprintf(why, whylen, "line %d: invalid value '%.32s' for key '%s' (its names: %s)",
                     line, value, name, names_text(KEYS[s].key, names, sizeof names));
        else
            snprintf(why, whylen, "line %d: invalid value '%.32s' for key '%s'", line, value,
                     name);
        return IJEPA_ERR_INVALID_ARG;
    }
    if (v < KEYS[s].lo || v > KEYS[s].hi) {
        snprintf(why, whylen, "line %d: invalid value '%.32s' for key '%s' (outside [%g, %g])",
                 line, value, name, KEYS[s].lo, KEYS[s].hi);
        return IJEPA_ERR_INVALID_ARG;
    }
    return IJEPA_OK;
}

int ijepa__config_parse(ijepa_config *cfg, const char *text, char *why, size_t whylen)
{
    char *copy = strdup(text);
    c_numeric n;
    if (!copy || c_numeric_enter(&n) < 0) {
        free(copy);
        snprintf(why, whylen, "cannot allocate the parser");
        return IJEPA_ERR_NOMEM;
    }
    ijepa_config c = *cfg; /* all or nothing: cfg changes only at the end */
    unsigned char seen[NKEYS] = {0};
    int rc = IJEPA_OK, line = 0;
    for (char *s = copy, *next; s && rc == IJEPA_OK; s = next) {
        line++;
        next = strchr(s, '\n');
        if (next)
            *next++ = '\0';
        char *l = trim(s);
        if (*l && *l != '#')
            rc = parse_line(&c, l, line, seen, why, whylen);
    }
    c_numeric_leave(&n);
    free(copy);
    if (rc == IJEPA_OK)
        *cfg = c;
    return rc;
}

int ijepa_config_from_text(ijepa_config *cfg, const char *text)
{
    if (!cfg || !text)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG,
                                "config and text must not be NULL");
    char why[IJEPA__ERRLEN];
    const int rc = ijepa__config_parse(cfg, text, why, sizeof why);
    if (rc < 0)
        return ijepa__fail_func(__func__, rc, "%s", why);
    return IJEPA_OK;
}

// --- presets --------------------------------------------------------------------------

/* A preset is config text applied over a config: the keys it names change,
 * the others keep their values. */
typedef struct preset {
    const char *name, *about, *text;
} preset;

/* Fashion-MNIST data: the images are 28x28 and 1-channel; mean and std of
 * its training pixels (/255); the evaluation transform resizes to img_size
 * (data_eval_resize = img_size: no centre crop). */
#define FMNIST_DATA(img) \
    "in_chans = 1\ndata_mean_r = 0.286\ndata_std_r = 0.353\ndata_eval_resize = " #img "\n"
/* The optimizer of the official configs (lr warmup from 2e-4 to 1e-3, cosine
 * to 1e-6; weight decay 0.04 -> 0.4; EMA 0.996 -> 1; smooth-L1). */
#define OFFICIAL_OPTIM                                                                \
    "lr_start = 2e-4\nlr = 1e-3\nlr_final = 1e-6\nweight_decay = 0.04\n"              \
    "weight_decay_final = 0.4\nema_start = 0.996\nema_end = 1.0\nloss = 0\n"

static const preset PRESETS[] = {
    {"vit_tiny", "ViT-Tiny: embed_dim 192, depth 12, 3 heads",
     "embed_dim = 192\ndepth = 12\nnum_heads = 3\nmlp_ratio = 4\n"},
    {"vit_small", "ViT-Small: embed_dim 384, depth 12, 6 heads",
     "embed_dim = 384\ndepth = 12\nnum_heads = 6\nmlp_ratio = 4\n"},
    {"vit_base", "ViT-Base: embed_dim 768, depth 12, 12 heads",
     "embed_dim = 768\ndepth = 12\nnum_heads = 12\nmlp_ratio = 4\n"},
    {"vit_large", "ViT-Large: embed_dim 1024, depth 24, 16 heads",
     "embed_dim = 1024\ndepth = 24\nnum_heads = 16\nmlp_ratio = 4\n"},
    {"vit_huge", "ViT-Huge: embed_dim 1280, depth 32, 16 heads",
     "embed_dim = 1280\ndepth = 32\nnum_heads = 16\nmlp_ratio = 4\n"},
    {"vit_giant", "ViT-Giant: embed_dim 1408, depth 40, 16 heads, mlp_ratio 48/11",
     "embed_dim = 1408\ndepth = 40\nnum_heads = 16\nmlp_ratio = 4.363636363636363\n"},
    {"fmnist", "Fashion-MNIST: ViT 128x4 on 7x7 patches of 4x4 pixels: learns (docs/results.md)",
     "img_size = 28\npatch_size = 4\nembed_dim = 128\ndepth = 4\nnum_heads = 4\n"
     "patch_init_std = 0.25\npred_embed_dim = 64\npred_depth = 2\npred_num_heads = 4\n"
     "batch_size = 128\nmask_mode = 0\nmin_keep = 2\n" OFFICIAL_OPTIM
     "data_transform = 1\n" FMNIST_DATA(28)},
    {"fmnist-p2", "Fashion-MNIST: the same on 14x14 patches of 2x2 pixels: slower, learns less "
                  "per minute",
     "img_size = 28\npatch_size = 2\nembed_dim = 128\ndepth = 4\nnum_heads = 4\n"
     "patch_init_std = 0.5\npred_embed_dim = 64\npred_depth = 2\npred_num_heads = 4\n"
     "batch_size = 128\nmask_mode = 0\nmin_keep = 4\n" OFFICIAL_OPTIM
     "data_transform = 1\n" FMNIST_DATA(28)},
    {"fmnist-official", "Fashion-MNIST: the official recipe at small scale: 32x32 "
                        "RandomResizedCrop, patch 4, ViT 192x6, predictor 96x4, official masks",
     "img_size = 32\npatch_size = 4\nembed_dim = 192\ndepth = 6\nnum_heads = 3\n"
     "pred_embed_dim = 96\npred_depth = 4\npred_num_heads = 3\nbatch_size = 128\n"
     "mask_mode = 1\nmin_keep = 4\n" OFFICIAL_OPTIM
     "data_transform = 0\ndata_crop_scale_min = 0.3\n" FMNIST_DATA(32)},
    {"tiny", "Fashion-MNIST: a seconds-long smoke run (ViT 32x2)",
     "img_size = 28\npatch_size = 4\nembed_dim = 32\ndepth = 2\nnum_heads = 2\n"
     "pred_embed_dim = 16\npred_depth = 1\npred_num_heads = 2\nbatch_size = 32\nmin_keep = 2\n"
     "data_transform = 1\n" FMNIST_DATA(28)},
    {"folder", "a folder of photos: 64x64 RGB, patch 8, ViT 192x6, predictor 96x3, official "
               "crop and ImageNet normalisation",
     "img_size = 64\npatch_size = 8\nin_chans = 3\nembed_dim = 192\ndepth = 6\nnum_heads = 3\n"
     "pred_embed_dim = 96\npred_depth = 3\npred_num_heads = 3\nbatch_size = 32\nmin_keep = 4\n"
     OFFICIAL_OPTIM "data_transform = 0\ndata_crop_scale_min = 0.3\n"
     "data_mean_r = 0.485\ndata_mean_g = 0.456\ndata_mean_b = 0.406\n"
     "data_std_r = 0.229\ndata_std_g = 0.224\ndata_std_b = 0.225\n"},
};
#define NPRESETS ((int32_t)(sizeof PRESETS / sizeof PRESETS[0]))

int ijepa_config_apply_preset(ijepa_config *cfg, const char *name)
{
    if (!cfg || !name)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG,
                                "config and name must not be NULL");
    for (int32_t i = 0; i < NPRESETS; i++) {
        if (strcmp(PRESETS[i].name, name) != 0)
            continue;
        char why[IJEPA__ERRLEN];
        const int rc = ijepa__config_parse(cfg, PRESETS[i].text, why, sizeof why);
        if (rc < 0)
            return ijepa__fail_func(__func__, rc, "preset '%s': %s", name, why);
        return IJEPA_OK;
    }
    char known[512] = "";
    for (int32_t i = 0; i < NPRESETS; i++)
        snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s", i ? ", " : "",
                 PRESETS[i].name);
    return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "unknown preset '%.64s' (known: %s)",
                            name, known);
}

int32_t ijepa_config_preset_count(void) { return NPRESETS; }

const char *ijepa_config_preset_name(int32_t i)
{
    return (i >= 0 && i < NPRESETS) ? PRESETS[i].name : NULL;
}

const char *ijepa_config_preset_about(int32_t i)
{
    return (i >= 0 && i < NPRESETS) ? PRESETS[i].about : NULL;
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

int ijepa_config_key_class(int32_t key)
{
    int s = slot_of(key);
    if (s < 0)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "unknown key %d", (int)key);
    return KEYS[s].cls;
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

const char *ijepa_config_value_name(int32_t key, int64_t value)
{
    const value_names *v = names_of(key);
    if (!v || value < 0)
        return NULL;
    for (int64_t i = 0; i < 4 && v->names[i]; i++)
        if (i == value)
            return v->names[i];
    return NULL;
}

int ijepa_config_value_from_name(int32_t key, const char *name, int64_t *value)
{
    if (!name || !value)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG,
                                "name and value must not be NULL");
    if (slot_of(key) < 0)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "unknown key %d", (int)key);
    if (!names_of(key))
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG,
                                "key '%s' has no named values", ijepa_config_key_name(key));
    const int64_t v = named_value(key, name);
    char names[64];
    if (v < 0)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG,
                                "key '%s' has no value named '%.64s' (its names: %s)",
                                ijepa_config_key_name(key), name,
                                names_text(key, names, sizeof names));
    *value = v;
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
