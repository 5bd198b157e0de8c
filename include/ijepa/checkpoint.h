/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * libijepa checkpoints: safetensors files with the official state-dict names.
 *
 * File layout (docs/checkpoint.md has the full contract): an 8-byte
 * little-endian header length N, N bytes of JSON, then the data section of
 * raw little-endian tensors (float32 in files libijepa writes; F16, BF16 and
 * F64 are read too, converted to float32). Tensor names are the official
 * ones under the official top-level keys:
 *
 *     encoder.<name>          context encoder  (e.g. encoder.blocks.0.attn.qkv.weight)
 *     predictor.<name>        predictor        (e.g. predictor.mask_token)
 *     target_encoder.<name>   target encoder
 *     optimizer.exp_avg.encoder.<name>      optimizer.exp_avg_sq.encoder.<name>
 *     optimizer.exp_avg.predictor.<name>    optimizer.exp_avg_sq.predictor.<name>
 *
 * where <name> is the tensor's name in the handle's tensor table (tensors.h).
 * A file may hold any subset of these groups, or be a bare state dict whose
 * tensors are the <name>s themselves (the empty prefix "": what
 * safetensors.torch.save_file(model.state_dict()) writes for an official
 * encoder or predictor). Files written by libijepa carry
 * "__metadata__" with the format tag, format version, library version, the
 * whole configuration (the text of ijepa_config_to_text()), the step, the seed, a CRC-32
 * of the data section and a CRC-32 of these metadata values.
 *
 * Three levels, each usable on its own:
 *   - ijepa_trainer_save() / ijepa_trainer_load() (trainer.h, built on the
 *     two below): everything a training run needs to continue
 *     bit-identically (both encoders, predictor, AdamW moments, step count;
 *     the seed is in the configuration);
 *   - a reader (ijepa_checkpoint_open()) that validates a whole file once
 *     and then loads groups into any handle, e.g. only target_encoder.* into
 *     an encoder created from the file's own configuration
 *     (ijepa_checkpoint_config()) for feature extraction;
 *   - a writer (ijepa_checkpoint_writer_create()) that saves any set of
 *     tensor groups with a configuration and step.
 *
 * Trust: opening validates everything before any handle is touched, in an
 * order that bounds the cost of a bad file by its header, not its size: the
 * header length (at most IJEPA_CHECKPOINT_MAX_HEADER), then the header alone
 * (at most IJEPA_CHECKPOINT_MAX_TENSORS tensors; JSON syntax, duplicate keys
 * rejected; every entry's dtype, shape and offsets, tiling a data section of
 * exactly the file's remaining size; the metadata, its checksum and the
 * configuration text; ijepa.step at most IJEPA_CHECKPOINT_MAX_STEP), and only
 * then the data section and its checksum. Before creating handles from a
 * file, ijepa_checkpoint_check_encoder() (and _predictor(),
 * ijepa_trainer_check()) say whether it holds every tensor they need with
 * the right shape, and what creating them would allocate, without
 * allocating anything model-sized. Loading into a handle then checks
 * names (none missing, none extra in the groups loaded), shapes against the
 * handle's tensor table and that every value is finite, and only then copies:
 * a failed load leaves the handle unchanged. Violations are IJEPA_ERR_FORMAT
 * with a message naming the file and what is wrong.
 *
 * Saving is atomic: the file is written under a unique temporary name in the
 * same directory, flushed to disk (fsync), renamed over the target and the
 * directory is synced. On failure the temporary file is removed and a
 * previous file at the path is left as it was. A save also removes the
 * temporary files an interrupted save to the same path left behind (see
 * ijepa_checkpoint_writer_save()).
 *
 * Memory: a reader holds the header's tables and the data section (converted
 * to float32 only when a tensor is read) until it is freed.
 * Threading: see common.h.
 */
#ifndef IJEPA_CHECKPOINT_H
#define IJEPA_CHECKPOINT_H

#include "common.h"
#include "config.h"
#include "encoder.h"
#include "predictor.h"
#include "tensors.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ijepa_checkpoint ijepa_checkpoint;
typedef struct ijepa_checkpoint_writer ijepa_checkpoint_writer;

/** Most dimensions a tensor of a checkpoint may have (more is a format error). */
#define IJEPA_CHECKPOINT_MAX_DIMS 8

/** Largest JSON header accepted, in bytes (100 MiB). */
#define IJEPA_CHECKPOINT_MAX_HEADER (100 * 1024 * 1024)

/** Most tensors a checkpoint may hold (a trainer of the deepest model the
 * config allows has about 21,600). A header with more, or with more JSON
 * values than 16 per tensor of this limit, is a format error found before
 * the JSON is parsed. */
#define IJEPA_CHECKPOINT_MAX_TENSORS 65536

/** Largest ijepa.step a checkpoint may record (2^53): the trainer and the
 * optimizer count on from it, and the schedules take it as a double, which
 * holds every step up to this exactly. */
#define IJEPA_CHECKPOINT_MAX_STEP ((int64_t)1 << 53)

/* --- configuration only -------------------------------------------------------- */

/**
 * Read the configuration stored in a libijepa checkpoint into a new config
 * (*out, freed by the caller with ijepa_config_free()). Keys absent from the
 * file keep their defaults. Errors: as ijepa_checkpoint_open(), and
 * IJEPA_ERR_FORMAT for a file without libijepa metadata. *out is NULL on
 * failure; the message is in ijepa_last_error().
 */
IJEPA_API int ijepa_checkpoint_read_config(const char *path, ijepa_config **out);

/* --- reader -------------------------------------------------------------------- */

/**
 * Read and validate the checkpoint at path (see "Trust" above). Files without
 * "format": "libijepa" metadata (e.g. written by safetensors.torch) are
 * accepted; their tensors can be loaded into handles created from an
 * explicit configuration. The checksum is verified whenever present.
 *
 * Errors: IJEPA_ERR_INVALID_ARG (NULL), IJEPA_ERR_IO (cannot open or read),
 * IJEPA_ERR_FORMAT (any violation; the message names the file and the
 * problem), IJEPA_ERR_NOMEM. *out is NULL on failure; the message is in
 * ijepa_last_error().
 */
IJEPA_API int ijepa_checkpoint_open(ijepa_checkpoint **out, const char *path);

/**
 * Same as ijepa_checkpoint_open() for a file image in memory: the data
 * section of data[0, size) is copied (after the header is validated), so
 * data may be freed after the call. name (may be NULL: "memory") is used in
 * messages in place of the file name.
 */
IJEPA_API int ijepa_checkpoint_open_memory(ijepa_checkpoint **out, const void *data,
                                           size_t size, const char *name);

/** Free a reader and its copy of the file. NULL is a no-op. */
IJEPA_API void ijepa_checkpoint_free(ijepa_checkpoint *ck);

/**
 * New config holding the file's configuration (*out, freed by the caller).
 * Its runtime keys (IJEPA_CFG_CLASS_RUNTIME: precision, batch_size, ...)
 * are those of the process that wrote the file: a program creating handles
 * from it sets its own (examples/features.c, ijepa-extract).
 * IJEPA_ERR_FORMAT if the file has no libijepa metadata; IJEPA_ERR_NOMEM;
 * IJEPA_ERR_INVALID_ARG for NULL arguments. *out is NULL on failure.
 */
IJEPA_API int ijepa_checkpoint_config(ijepa_checkpoint *ck, ijepa_config **out);

/** The step stored in a libijepa file. IJEPA_ERR_FORMAT if it has none. */
IJEPA_API int ijepa_checkpoint_step(ijepa_checkpoint *ck, int64_t *step);

/**
 * Value of a "__metadata__" key, e.g. "ijepa.library_version". *value is
 * borrowed from the reader (valid until it is freed). IJEPA_ERR_INVALID_ARG
 * for NULL arguments or a key the file does not have.
 */
IJEPA_API int ijepa_checkpoint_metadata(ijepa_checkpoint *ck, const char *key,
                                        const char **value);

/** Number of "__metadata__" keys; 0 for NULL. */
IJEPA_API int64_t ijepa_checkpoint_metadata_count(const ijepa_checkpoint *ck);

/**
 * Key and value of metadata entry i (0 <= i < count, in the file's order).
 * Either out-pointer may be NULL; both strings are borrowed from the reader.
 * IJEPA_ERR_INVALID_ARG for NULL ck or i out of range.
 */
IJEPA_API int ijepa_checkpoint_metadata_at(ijepa_checkpoint *ck, int64_t i, const char **key,
                                           const char **value);

/** Number of tensors in the file; 0 for NULL. */
IJEPA_API int64_t ijepa_checkpoint_tensor_count(const ijepa_checkpoint *ck);

/**
 * Describe tensor i (0 <= i < count, in the order of their data). Any
 * out-pointer may be NULL; *name is borrowed from the reader; dims needs room
 * for IJEPA_CHECKPOINT_MAX_DIMS values (unused ones are set to 1).
 * IJEPA_ERR_INVALID_ARG for NULL ck or i out of range.
 */
IJEPA_API int ijepa_checkpoint_tensor_info(ijepa_checkpoint *ck, int64_t i, const char **name,
                                           int32_t *ndim, int64_t *dims);

/**
 * The dtype of tensor i as the file stores it: "F32", "F16", "BF16" or
 * "F64" (static storage); NULL for NULL ck or i out of range. Every tensor
 * reads as float32 (ijepa_checkpoint_read_tensor()).
 */
IJEPA_API const char *ijepa_checkpoint_tensor_dtype(const ijepa_checkpoint *ck, int64_t i);

/**
 * Copy tensor i (0 <= i < count) into dst as count float32 values, row-major:
 * count must be its element count (the product of its dims). F16 and BF16
 * values convert exactly, F64 values to the nearest float32 (ties to even).
 * Every value must be finite after the conversion (an F64 value beyond
 * float32's range is refused like an infinity); this is checked before dst
 * is written.
 *
 * Errors: IJEPA_ERR_INVALID_ARG (NULL ck, i out of range, count not the
 * element count, NULL dst with count > 0), IJEPA_ERR_FORMAT (a non-finite
 * value: the message names the tensor and the element). dst is unchanged on
 * failure.
 */
IJEPA_API int ijepa_checkpoint_read_tensor(ijepa_checkpoint *ck, int64_t i, float *dst,
                                           int64_t count);

/**
 * Copy the tensors "<prefix>.<name>" of the file into dst, for every tensor
 * <name> of table; dst is a buffer laid out as table says
 * (ijepa_tensor_table_buffer_size(table) floats; padding is not written).
 * The empty prefix "" reads a bare state dict: the tensors "<name>", and
 * then the file may hold no other tensor at all. Every tensor of the table
 * must be in the file with the same shape, the file must hold no other
 * tensor under "<prefix>.", and every value must be finite after the
 * conversion to float32 (as ijepa_checkpoint_read_tensor()); all of this is
 * checked before dst is written.
 *
 * Errors: IJEPA_ERR_INVALID_ARG (NULL argument, a prefix longer than 1000
 * bytes), IJEPA_ERR_FORMAT (missing, extra or mis-shaped tensor, non-finite
 * value: the message names the file and the tensor). dst is unchanged on
 * failure.
 */
IJEPA_API int ijepa_checkpoint_read(ijepa_checkpoint *ck, const char *prefix,
                                    const ijepa_tensor_table *table, float *dst);

/**
 * Load the group prefix (e.g. "target_encoder" or "encoder"; "" for a bare
 * state dict) into the parameters of enc, as ijepa_checkpoint_read() with
 * the encoder's table. The encoder is unchanged on failure.
 */
IJEPA_API int ijepa_checkpoint_load_encoder(ijepa_checkpoint *ck, const char *prefix,
                                            ijepa_encoder *enc);

/** Load the group prefix (normally "predictor"; "" for a bare state dict)
 * into the parameters of pred. The predictor is unchanged on failure. */
IJEPA_API int ijepa_checkpoint_load_predictor(ijepa_checkpoint *ck, const char *prefix,
                                              ijepa_predictor *pred);

/* --- checking before creating handles ------------------------------------------- */

/**
 * Say, before any handle exists, whether the group prefix of ck holds every
 * tensor an encoder created from cfg would load, with its shape, and nothing
 * else under the prefix (as ijepa_checkpoint_load_encoder() would check it;
 * values are checked by the load), and what ijepa_encoder_create(cfg) would
 * allocate. Nothing model-sized is allocated: shapes and sizes are computed
 * from the configuration (ijepa_encoder_estimate_bytes()), so a small file
 * whose configuration describes a huge model costs microseconds.
 *
 * @param ck      an open reader
 * @param prefix  the group, e.g. "target_encoder" ("" for a bare state dict)
 * @param cfg     the configuration the encoder will be created from (runtime
 *                keys such as batch_size and trainable included); NULL: the
 *                file's own (libijepa files only)
 * @param bytes   may be NULL; receives what creating the encoder would
 *                allocate (ijepa_encoder_memory_bytes() of the result) once
 *                the configuration is valid, also when the tensors are not
 * @return IJEPA_OK; IJEPA_ERR_INVALID_ARG (NULL ck or prefix, or cfg is not
 *   a valid encoder: the message says why); IJEPA_ERR_FORMAT (a tensor is
 *   missing, extra or mis-shaped; cfg is NULL and the file has no
 *   configuration or an invalid one); IJEPA_ERR_NOMEM (the configuration's
 *   activations exceed what any machine holds, as ijepa_encoder_create()
 *   says). The message is in ijepa_last_error().
 */
IJEPA_API int ijepa_checkpoint_check_encoder(ijepa_checkpoint *ck, const char *prefix,
                                             const ijepa_config *cfg, int64_t *bytes);

/** ijepa_checkpoint_check_encoder() for a predictor created from cfg
 * (ijepa_predictor_create(), ijepa_predictor_estimate_bytes()). */
IJEPA_API int ijepa_checkpoint_check_predictor(ijepa_checkpoint *ck, const char *prefix,
                                               const ijepa_config *cfg, int64_t *bytes);

/* --- writer -------------------------------------------------------------------- */

/**
 * Create a writer for a libijepa checkpoint: the metadata will hold every key
 * of cfg (copied now), cfg's seed and step. With cfg NULL the writer makes a
 * plain safetensors file instead (a foreign file to this reader, as
 * safetensors.torch.save_file writes): its metadata is what
 * ijepa_checkpoint_writer_set_metadata() sets plus "ijepa.checksum" (the
 * data section's CRC-32), and step must be 0. Tensors are added with
 * ijepa_checkpoint_writer_add() and _add_tensor(), and written with
 * ijepa_checkpoint_writer_save().
 * Errors: IJEPA_ERR_INVALID_ARG (NULL out, step outside [0,
 * IJEPA_CHECKPOINT_MAX_STEP], a step without cfg), IJEPA_ERR_NOMEM. *out is
 * NULL on failure; the message is in ijepa_last_error().
 */
IJEPA_API int ijepa_checkpoint_writer_create(ijepa_checkpoint_writer **out,
                                             const ijepa_config *cfg, int64_t step);

/** Free a writer (never the buffers it borrowed). NULL is a no-op. */
IJEPA_API void ijepa_checkpoint_writer_free(ijepa_checkpoint_writer *w);

/**
 * Add the tensors of table, stored in data (laid out as table says), under
 * the names "<prefix>.<name>" (just "<name>" for the empty prefix: a bare
 * state dict). table and data are borrowed until the writer is freed: they
 * are read by ijepa_checkpoint_writer_save(). Errors: IJEPA_ERR_INVALID_ARG
 * (NULL argument, a prefix longer than 935 bytes, a name already added,
 * more than IJEPA_CHECKPOINT_MAX_TENSORS tensors in all), IJEPA_ERR_NOMEM;
 * nothing is added on failure.
 */
IJEPA_API int ijepa_checkpoint_writer_add(ijepa_checkpoint_writer *w, const char *prefix,
                                          const ijepa_tensor_table *table, const float *data);

/**
 * Add one float32 tensor called name (1 to 1000 bytes of UTF-8, not
 * "__metadata__"), of ndim (0 to IJEPA_CHECKPOINT_MAX_DIMS) dims, stored
 * row-major in data (borrowed until the writer is freed, read at each save;
 * may be NULL for a tensor of 0 elements). Tensors are written in the order
 * they were added. Errors: IJEPA_ERR_INVALID_ARG (NULL writer or name, NULL
 * dims with ndim > 0, a bad name, ndim or dim, a name already added, too
 * many tensors), IJEPA_ERR_NOMEM; nothing is added on failure.
 */
IJEPA_API int ijepa_checkpoint_writer_add_tensor(ijepa_checkpoint_writer *w, const char *name,
                                                 int32_t ndim, const int64_t *dims,
                                                 const float *data);

/**
 * Set a "__metadata__" key of the file (copied; setting a key again replaces
 * its value). Keys and values are UTF-8 strings; the keys the library writes
 * itself are refused: "format", "ijepa.format_version",
 * "ijepa.library_version", "ijepa.config", "ijepa.step", "ijepa.seed",
 * "ijepa.checksum" and "ijepa.metadata_checksum", except that a writer
 * without a configuration may set "format" to anything but "libijepa"
 * (e.g. "pt", which Hugging Face transformers requires). The caller's keys
 * come first in the file, in the order they were first set. Errors:
 * IJEPA_ERR_INVALID_ARG (NULL, an empty key, invalid UTF-8, a reserved key,
 * more than 65536 keys), IJEPA_ERR_NOMEM.
 */
IJEPA_API int ijepa_checkpoint_writer_set_metadata(ijepa_checkpoint_writer *w, const char *key,
                                                   const char *value);

/**
 * Write the checkpoint atomically to path (see the top of this header). The
 * writer may be saved again (e.g. after further training of the borrowed
 * buffers: the data is read at each save, the step is the one given at
 * creation).
 *
 * The temporary file is <path>.tmp-<pid>-<hex>-<n>-<hex>, exclusively
 * flock()ed by the saving process from its creation to its rename. Before
 * writing, a save removes the files of that pattern for the same path that
 * an interrupted save left (a process killed in the middle): those whose
 * lock nobody holds (the kernel drops it when a process dies) and that have
 * not changed for 60 seconds. A concurrent save to the same path, in this
 * process or another, holds its lock and is never disturbed; nothing but
 * that exact pattern is ever removed; on a file system without flock()
 * support nothing is.
 *
 * Errors: IJEPA_ERR_INVALID_ARG (NULL, a header larger than
 * IJEPA_CHECKPOINT_MAX_HEADER), IJEPA_ERR_NUMERIC (a tensor holds a NaN or
 * infinite value, which a reader refuses: the message names the tensor and
 * the element; nothing is written), IJEPA_ERR_NOMEM, IJEPA_ERR_IO (message
 * with the path and the system error; no temporary file is left and a
 * previous file at path is unchanged).
 */
IJEPA_API int ijepa_checkpoint_writer_save(ijepa_checkpoint_writer *w, const char *path);

#ifdef __cplusplus
}
#endif

#endif /* IJEPA_CHECKPOINT_H */
