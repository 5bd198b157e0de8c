/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * libijepa configuration: an opaque key/value object.
 *
 * Every option of every handle is a key of this one object, so new options
 * never change the ABI and bindings can pass a dictionary:
 *
 *     ijepa_config *cfg;
 *     ijepa_config_create(&cfg);                    // official defaults
 *     ijepa_config_apply_preset(cfg, "vit_small");  // width/depth/heads
 *     ijepa_config_set_int(cfg, IJEPA_CFG_BATCH_SIZE, 16);
 *     int32_t key;
 *     ijepa_config_key_from_name("img_size", &key); // keys by name too
 *     ijepa_config_set_int(cfg, key, 224);
 *
 * Each key has a type (integer or float), a default and closed bounds
 * [lo, hi]. Setting an unknown key, a key of the other type or a value out of
 * bounds fails with IJEPA_ERR_INVALID_ARG and leaves the object unchanged.
 * Relations between keys (img_size divisible by patch_size, embed_dim
 * divisible by num_heads, ...) are checked by the handle that consumes the
 * config, at its creation.
 *
 * Key numbers are append-only and grouped by module: 1-99 general (and compute),
 * 100-199 encoder, 200-299 predictor, 300-399 masks, 400-499 loss and
 * optimizer, 500-599 schedules, 600-629 image data (image.h, dataset.h).
 * What a key means for a run is its class (ijepa_config_key_class()), not its
 * number: model, training, data or runtime.
 *
 * Text form: ijepa_config_to_text() writes a config as "name = value" lines
 * and ijepa_config_from_text() reads them back bit for bit; checkpoints store
 * their configuration in this form. Numbers are always written and read with
 * a '.' decimal point, whatever locale the host program set.
 *
 * Presets: named sets of keys (the official ViT sizes, and small training
 * recipes such as "fmnist"), applied with ijepa_config_apply_preset() and
 * listed with ijepa_config_preset_count() / _name() / _about().
 *
 * Ownership: a config is owned by its creator and freed with
 * ijepa_config_free(). Handles created from a config keep their own copy, so
 * the config may be changed or freed right after.
 *
 * Threading: a config is never written by a function that takes it const
 * (getters, ijepa_config_copy(), the *_create() functions of other handles),
 * also when the call fails (the message goes to the calling thread's
 * ijepa_last_error()), so one config may be read from many threads at once.
 * Changing it (setters, presets) needs the caller's exclusive use, as for any
 * handle.
 */
#ifndef IJEPA_CONFIG_H
#define IJEPA_CONFIG_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ijepa_config ijepa_config;

/** Configuration keys. Name in quotes is the key's string name. */
typedef enum ijepa_config_key {
    /* --- general ------------------------------------------------------- */
    IJEPA_CFG_SEED = 1,       /**< "seed" int [0, 2^63-1], default 0: parameter init seed */
    IJEPA_CFG_BATCH_SIZE = 2, /**< "batch_size" int [1, 65536], default 16: most images one forward may take; memory is sized for it */
    IJEPA_CFG_PRIMITIVE_CACHE = 4, /**< "primitive_cache" int [16, 65536], default 1024: compute kernels each model handle keeps, one per operation and shape; the least recently used is dropped past it. Mask sizes vary from step to step, so a training run sees several shapes: a step allocates nothing once every shape it meets is cached */
    IJEPA_CFG_TRAINABLE = 3,  /**< "trainable" int {0,1}, default 1: 0 allocates no activation storage for backward and no gradient buffer (e.g. a target encoder); TRAIN forwards then fail with IJEPA_ERR_STATE */
    IJEPA_CFG_SEQ_BUCKET = 6, /**< "seq_bucket" int [1, 1024], default 8: masked token sequences (context encoder, predictor) are padded to a multiple of this many tokens, the padding masked out of attention and given no gradient, so that the varying mask sizes of training meet few distinct shapes and steps stop building compute kernels once those are cached; 1 pads nothing. Results change only in the last bits of float32 rounding */
    IJEPA_CFG_PRECISION = 5,  /**< "precision" int [0, 1] (names "f32", "bf16"), default IJEPA_PRECISION_F32: the arithmetic of the matmuls of encoders and predictors (IJEPA_PRECISION_BF16: bf16 operands and activations kept for the backward, float32 accumulation; parameters, gradients, optimizer, LayerNorm statistics, softmax and loss stay float32). Where the backend has no bf16 matmul instructions (AMX, AVX512-BF16), or is capped below them by ONEDNN_MAX_CPU_ISA, it is emulated (ijepa_context_precision_native()) */

    /* --- encoder (Vision Transformer) ----------------------------------- */
    IJEPA_CFG_IMG_SIZE = 100,    /**< "img_size" int [1, 8192], default 224 (square images) */
    IJEPA_CFG_PATCH_SIZE = 101,  /**< "patch_size" int [1, 1024], default 16 */
    IJEPA_CFG_IN_CHANS = 102,    /**< "in_chans" int [1, 64], default 3 */
    IJEPA_CFG_EMBED_DIM = 103,   /**< "embed_dim" int [4, 16384], default 384; multiple of 4 */
    IJEPA_CFG_DEPTH = 104,       /**< "depth" int [1, 256], default 12 */
    IJEPA_CFG_NUM_HEADS = 105,   /**< "num_heads" int [1, 1024], default 6; divides embed_dim */
    IJEPA_CFG_MLP_RATIO = 106,   /**< "mlp_ratio" float [0.25, 64], default 4: hidden = int(embed_dim * mlp_ratio) */
    IJEPA_CFG_QKV_BIAS = 107,    /**< "qkv_bias" int {0,1}, default 1 (every official factory) */
    IJEPA_CFG_INIT_STD = 108,    /**< "init_std" float [0, 1], default 0.02: truncated normal std of weights */
    IJEPA_CFG_INIT_DEPTH_RESCALE = 109, /**< "init_depth_rescale" int {0,1}, default 0: divide attn.proj and mlp.fc2 weights of block i (1-based) by sqrt(2i), as the model constructor does; official training re-initialises and so does not */
    IJEPA_CFG_LN_EPS = 110,      /**< "ln_eps" float [0, 1], default 1e-6: LayerNorm epsilon */
    IJEPA_CFG_PATCH_INIT_STD = 111, /**< "patch_init_std" float [0, 10], default 0: std of the patch-embedding weights; 0 means init_std (official). With small patches (few inputs per token) 0.02 makes the pixel signal tiny next to the positional embedding; 1/sqrt(in_chans * patch^2) gives it unit scale */

    /* --- predictor ------------------------------------------------------- */
    IJEPA_CFG_PRED_EMBED_DIM = 200, /**< "pred_embed_dim" int [4, 16384], default 384; multiple of 4 */
    IJEPA_CFG_PRED_DEPTH = 201,     /**< "pred_depth" int [1, 256], default 6 */
    IJEPA_CFG_PRED_NUM_HEADS = 202, /**< "pred_num_heads" int [0, 1024], default 0: same as num_heads (official) */

    /* --- multi-block masks ------------------------------------------------ */
    IJEPA_CFG_MASK_MODE = 300,          /**< "mask_mode" int, default IJEPA_MASK_UNIFORM */
    IJEPA_CFG_NUM_TARGETS = 301,        /**< "num_targets" int [1, 64], default 4: target blocks per image */
    IJEPA_CFG_TARGET_SCALE_MIN = 302,   /**< "target_scale_min" float [0, 1], default 0.15 */
    IJEPA_CFG_TARGET_SCALE_MAX = 303,   /**< "target_scale_max" float [0, 1], default 0.2 */
    IJEPA_CFG_TARGET_ASPECT_MIN = 304,  /**< "target_aspect_min" float [0.01, 100], default 0.75 */
    IJEPA_CFG_TARGET_ASPECT_MAX = 305,  /**< "target_aspect_max" float [0.01, 100], default 1.5 */
    IJEPA_CFG_CONTEXT_SCALE_MIN = 306,  /**< "context_scale_min" float [0, 1], default 0.85 */
    IJEPA_CFG_CONTEXT_SCALE_MAX = 307,  /**< "context_scale_max" float [0, 1], default 1.0 */
    IJEPA_CFG_MIN_KEEP = 308,           /**< "min_keep" int [0, 1048576], default 10: a mask must keep more patches than this */
    IJEPA_CFG_ALLOW_OVERLAP = 309,      /**< "allow_overlap" int {0,1}, default 0: context may overlap targets */

    /* --- loss and optimizer ---------------------------------------------- */
    IJEPA_CFG_LOSS = 400,               /**< "loss" int, default IJEPA_LOSS_SMOOTH_L1 */
    IJEPA_CFG_TARGET_LN_EPS = 401,      /**< "target_ln_eps" float [0, 1], default 1e-5: epsilon of the targets' LayerNorm */
    IJEPA_CFG_ADAM_BETA1 = 402,         /**< "adam_beta1" float [0, 1], default 0.9 */
    IJEPA_CFG_ADAM_BETA2 = 403,         /**< "adam_beta2" float [0, 1], default 0.999 */
    IJEPA_CFG_ADAM_EPS = 404,           /**< "adam_eps" float [0, 1], default 1e-8 */
    IJEPA_CFG_CLIP_GRAD = 405,          /**< "clip_grad" float [0, 1e9], default 0 (off): global-norm clipping threshold */

    /* --- schedules (read by the trainer layer and the examples) ---------- */
    IJEPA_CFG_TOTAL_STEPS = 500,        /**< "total_steps" int [1, 2^40], default 1000 */
    IJEPA_CFG_WARMUP_STEPS = 501,       /**< "warmup_steps" int [0, 2^40], default 100 */
    IJEPA_CFG_LR_START = 502,           /**< "lr_start" float [0, 10], default 2e-4 */
    IJEPA_CFG_LR = 503,                 /**< "lr" float [0, 10], default 1e-3: peak learning rate */
    IJEPA_CFG_LR_FINAL = 504,           /**< "lr_final" float [0, 10], default 1e-6 */
    IJEPA_CFG_WEIGHT_DECAY = 505,       /**< "weight_decay" float [0, 10], default 0.04 */
    IJEPA_CFG_WEIGHT_DECAY_FINAL = 506, /**< "weight_decay_final" float [0, 10], default 0.4 */
    IJEPA_CFG_EMA_START = 507,          /**< "ema_start" float [0, 1], default 0.996 */
    IJEPA_CFG_EMA_END = 508,            /**< "ema_end" float [0, 1], default 1.0 */

    /* --- image data (image.h, dataset.h) --------------------------------- */
    IJEPA_CFG_DATA_MAX_PIXELS = 600,     /**< "data_max_pixels" int [1, 2^40], default 2^26 (64 Mpixel): largest width * height decoded */
    IJEPA_CFG_DATA_MAX_FILE_BYTES = 601, /**< "data_max_file_bytes" int [1, 2^40], default 2^28 (256 MiB): largest image file read */
    IJEPA_CFG_DATA_CROP_SCALE_MIN = 602, /**< "data_crop_scale_min" float [1e-6, 1], default 0.3: RandomResizedCrop area fraction, low end (official) */
    IJEPA_CFG_DATA_CROP_SCALE_MAX = 603, /**< "data_crop_scale_max" float [1e-6, 1], default 1.0 */
    IJEPA_CFG_DATA_CROP_RATIO_MIN = 604, /**< "data_crop_ratio_min" float [0.01, 100], default 0.75: crop aspect ratio w/h, low end */
    IJEPA_CFG_DATA_CROP_RATIO_MAX = 605, /**< "data_crop_ratio_max" float [0.01, 100], default 4/3 */
    IJEPA_CFG_DATA_MEAN_R = 606,         /**< "data_mean_r" float [-10, 10], default 0.485 (ImageNet); also the mean of 1-channel images */
    IJEPA_CFG_DATA_MEAN_G = 607,         /**< "data_mean_g" float [-10, 10], default 0.456 */
    IJEPA_CFG_DATA_MEAN_B = 608,         /**< "data_mean_b" float [-10, 10], default 0.406 */
    IJEPA_CFG_DATA_STD_R = 609,          /**< "data_std_r" float [1e-6, 1000], default 0.229; also the std of 1-channel images */
    IJEPA_CFG_DATA_STD_G = 610,          /**< "data_std_g" float [1e-6, 1000], default 0.224 */
    IJEPA_CFG_DATA_STD_B = 611,          /**< "data_std_b" float [1e-6, 1000], default 0.225 */
    IJEPA_CFG_DATA_TRANSFORM = 612,      /**< "data_transform" int, default IJEPA_DATA_TRAIN: what a dataset applies to each image */
    IJEPA_CFG_DATA_EVAL_RESIZE = 613,    /**< "data_eval_resize" int [0, 65536], default 0: shorter side before the evaluation centre crop; 0 = round(img_size * 8/7) */
    IJEPA_CFG_DATA_WORKERS = 614,        /**< "data_workers" int [0, 64], default 2: decoding threads of a dataset; 0 decodes on the calling thread */
    IJEPA_CFG_DATA_PREFETCH = 615,       /**< "data_prefetch" int [1, 64], default 2: batches of batch_size images a dataset decodes ahead */
    IJEPA_CFG_DATA_ON_ERROR = 616,       /**< "data_on_error" int, default IJEPA_DATA_STOP: what a dataset does with a file it cannot decode */
    IJEPA_CFG_DATA_SHUFFLE = 617,        /**< "data_shuffle" int {0,1}, default 1: a new seeded permutation every epoch; 0 keeps path order */
    IJEPA_CFG_DATA_MAX_SCAN_PIXELS = 618 /**< "data_max_scan_pixels" int [1, 2^44], default 2^31: largest JPEG decoding work, width * height * the components summed over the scans (image.h) */
} ijepa_config_key;

/** Values of IJEPA_CFG_PRECISION (names "f32", "bf16"). */
enum {
    IJEPA_PRECISION_F32 = 0,  /**< float32 everywhere (default) */
    IJEPA_PRECISION_BF16 = 1  /**< mixed precision: bf16 matmul operands and kept activations, float32 accumulation, float32 master weights */
};

/** Values of IJEPA_CFG_MASK_MODE. */
enum {
    IJEPA_MASK_UNIFORM = 0,  /**< official distributions, known biases fixed (default) */
    IJEPA_MASK_OFFICIAL = 1  /**< the official MaskCollator, quirks included */
};

/** Values of IJEPA_CFG_LOSS. */
enum {
    IJEPA_LOSS_SMOOTH_L1 = 0, /**< Huber, beta 1 (official code) */
    IJEPA_LOSS_L2 = 1,        /**< mean squared error (paper) */
    IJEPA_LOSS_L1 = 2         /**< mean absolute error (V-JEPA) */
};

/** Values of IJEPA_CFG_DATA_TRANSFORM. */
enum {
    IJEPA_DATA_TRAIN = 0, /**< RandomResizedCrop + Normalize (official training) */
    IJEPA_DATA_EVAL = 1   /**< resize shorter side + centre crop + Normalize */
};

/** Values of IJEPA_CFG_DATA_ON_ERROR. */
enum {
    IJEPA_DATA_STOP = 0, /**< next_batch fails with the file's error */
    IJEPA_DATA_SKIP = 1  /**< the file is skipped and counted */
};

/** Key value types, as returned by ijepa_config_key_type(). */
enum { IJEPA_CFG_TYPE_INT = 1, IJEPA_CFG_TYPE_FLOAT = 2 };

/** Key classes, as returned by ijepa_config_key_class(). */
enum {
    /** What a trained model is: the architecture, its initialisation, the
     *  masks, the loss, and the seed. ijepa_trainer_load() requires equal
     *  values in the file and the trainer. */
    IJEPA_CFG_CLASS_MODEL = 1,
    /** The optimizer and the schedules: may change when a run resumes. */
    IJEPA_CFG_CLASS_TRAINING = 2,
    /** How images become inputs: crop, resize, normalisation, order. */
    IJEPA_CFG_CLASS_DATA = 3,
    /** Resources and limits of one process (batch_size, precision,
     *  primitive_cache, trainable, decoding limits, worker threads): not a
     *  property of the model or of the data. A program loading a checkpoint
     *  chooses its own (ijepa_checkpoint_config() returns the file's). */
    IJEPA_CFG_CLASS_RUNTIME = 4
};

/** Create a config holding every key's default. *out is NULL on failure. */
IJEPA_API int ijepa_config_create(ijepa_config **out);

/** Create an independent copy of src. */
IJEPA_API int ijepa_config_copy(ijepa_config **out, const ijepa_config *src);

/** Free a config. NULL is a no-op. */
IJEPA_API void ijepa_config_free(ijepa_config *cfg);

/** Set an integer key. IJEPA_ERR_INVALID_ARG: unknown key, float key, out of bounds. */
IJEPA_API int ijepa_config_set_int(ijepa_config *cfg, int32_t key, int64_t value);

/** Read an integer key into *value. */
IJEPA_API int ijepa_config_get_int(const ijepa_config *cfg, int32_t key, int64_t *value);

/** Set a float key. Non-finite values are rejected. */
IJEPA_API int ijepa_config_set_float(ijepa_config *cfg, int32_t key, double value);

/** Read a float key into *value. */
IJEPA_API int ijepa_config_get_float(const ijepa_config *cfg, int32_t key, double *value);

/**
 * Apply a named preset: set the keys it names, leave the others as they are.
 *
 * Architectures (embed_dim, depth, num_heads and mlp_ratio of the official
 * factories): "vit_tiny" (192/12/3), "vit_small" (384/12/6), "vit_base"
 * (768/12/12), "vit_large" (1024/24/16), "vit_huge" (1280/32/16),
 * "vit_giant" (1408/40/16, mlp_ratio 48/11).
 *
 * Training recipes (model, masks, optimizer, batch_size and data keys; the
 * ones ijepa-train and python/examples/train.py offer): "fmnist",
 * "fmnist-p2", "fmnist-official" and "tiny" for Fashion-MNIST (1 channel,
 * its mean 0.286 and std 0.353 as data_mean_r / data_std_r, the evaluation
 * transform resizing to img_size), "folder" for a folder of photos (64x64
 * RGB, the official crop and ImageNet normalisation).
 *
 * @return IJEPA_OK; IJEPA_ERR_INVALID_ARG for NULL arguments or an unknown
 *   name (the message lists the known ones); the config is unchanged then.
 */
IJEPA_API int ijepa_config_apply_preset(ijepa_config *cfg, const char *name);

/** Number of presets; with ijepa_config_preset_name() enumerates them. */
IJEPA_API int32_t ijepa_config_preset_count(void);

/** Name of the i-th preset (0 <= i < ijepa_config_preset_count()), or NULL.
 * Static storage. */
IJEPA_API const char *ijepa_config_preset_name(int32_t i);

/** One-line description of the i-th preset, or NULL. Static storage. */
IJEPA_API const char *ijepa_config_preset_about(int32_t i);

/**
 * Write cfg as text: one "name = value\n" line per key, in the order of
 * ijepa_config_key_at(); integers in decimal, floats with 17 significant
 * digits, so that ijepa_config_from_text() gives back the same bits. Numbers
 * use '.' whatever LC_NUMERIC the host set (the C locale is used for the
 * call, on this thread only).
 *
 * @param buf     where the text and a terminating NUL go; NULL (with size
 *                0) to ask for the length only.
 * @param size    bytes at buf; must exceed the text's length.
 * @param length  receives the text's length without the NUL (may be NULL).
 * @return IJEPA_OK; IJEPA_ERR_INVALID_ARG for a NULL cfg, NULL buf with
 *   size > 0, or a buffer too small (nothing written; *length says how long
 *   the text is: size must be at least *length + 1); IJEPA_ERR_NOMEM.
 */
IJEPA_API int ijepa_config_to_text(const ijepa_config *cfg, char *buf, size_t size,
                                   size_t *length);

/**
 * Apply text of "name = value" lines to cfg (the form ijepa_config_to_text()
 * writes; keys it does not name keep their values). Blank lines and lines
 * starting with '#' are skipped; spaces, tabs and carriage returns around
 * names and values are ignored. A key may appear once. Integers are decimal
 * (optional sign) or, for keys with named values, the name
 * (ijepa_config_value_name(): "precision = bf16"); floats are read as
 * strtod() reads them in the C locale (never the host's: "0,5" is refused)
 * and must be finite. Every value must be within its key's bounds.
 *
 * @return IJEPA_OK; IJEPA_ERR_INVALID_ARG for NULL arguments or a bad line
 *   (the message says "line N: ..."), IJEPA_ERR_NOMEM. All or nothing: cfg
 *   is unchanged on failure.
 */
IJEPA_API int ijepa_config_from_text(ijepa_config *cfg, const char *text);

/** Look a key up by its string name ("embed_dim"). Unknown: IJEPA_ERR_INVALID_ARG. */
IJEPA_API int ijepa_config_key_from_name(const char *name, int32_t *key);

/** String name of a key; NULL if the key is unknown. Static storage. */
IJEPA_API const char *ijepa_config_key_name(int32_t key);

/** IJEPA_CFG_TYPE_INT or IJEPA_CFG_TYPE_FLOAT; IJEPA_ERR_INVALID_ARG if unknown. */
IJEPA_API int ijepa_config_key_type(int32_t key);

/** IJEPA_CFG_CLASS_MODEL, _TRAINING, _DATA or _RUNTIME (what the key is
 * about); IJEPA_ERR_INVALID_ARG if the key is unknown. */
IJEPA_API int ijepa_config_key_class(int32_t key);

/** Closed bounds of a key's value (integers are exact up to 2^53). */
IJEPA_API int ijepa_config_bounds(int32_t key, double *lo, double *hi);

/**
 * Name of value `value` of an integer key whose values are named (precision:
 * "f32", "bf16"; mask_mode: "uniform", "official"; loss: "smooth_l1", "l2",
 * "l1"; data_transform: "train", "eval"; data_on_error: "stop", "skip"), or
 * NULL if the key has no names or no such value. Static storage.
 */
IJEPA_API const char *ijepa_config_value_name(int32_t key, int64_t value);

/**
 * The value named `name` (see ijepa_config_value_name()) of key into *value,
 * so that text like "precision=bf16" can be set:
 *     ijepa_config_value_from_name(IJEPA_CFG_PRECISION, "bf16", &v);
 * IJEPA_ERR_INVALID_ARG if the key is unknown, has no named values, or none
 * is called name.
 */
IJEPA_API int ijepa_config_value_from_name(int32_t key, const char *name, int64_t *value);

/** Number of known keys; with ijepa_config_key_at() enumerates them. */
IJEPA_API int32_t ijepa_config_key_count(void);

/** The i-th known key (0 <= i < ijepa_config_key_count()), or -1. */
IJEPA_API int32_t ijepa_config_key_at(int32_t i);

#ifdef __cplusplus
}
#endif

#endif /* IJEPA_CONFIG_H */
