/*
 * libijepa checkpoints: safetensors files with the official state-dict names.
 *
 * File layout (docs/checkpoint.md has the full contract): an 8-byte
 * little-endian header length N, N bytes of JSON, then the data section of
 * raw little-endian float32 tensors. Tensor names are the official ones under
 * the official top-level keys:
 *
 *     encoder.<name>          context encoder  (e.g. encoder.blocks.0.attn.qkv.weight)
 *     predictor.<name>        predictor        (e.g. predictor.mask_token)
 *     target_encoder.<name>   target encoder
 *     optimizer.exp_avg.encoder.<name>      optimizer.exp_avg_sq.encoder.<name>
 *     optimizer.exp_avg.predictor.<name>    optimizer.exp_avg_sq.predictor.<name>
 *
 * where <name> is the tensor's name in the handle's tensor table (tensors.h).
 * A file may hold any subset of these groups. Files written by libijepa carry
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
 * Trust: opening validates everything before any handle is touched: header
 * length bounds, JSON syntax (duplicate keys rejected), every entry's dtype,
 * shape and offsets (tiling the data section exactly), the exact file length,
 * the metadata's types and the checksum. Loading into a handle then checks
 * names (none missing, none extra in the groups loaded), shapes against the
 * handle's tensor table and that every value is finite, and only then copies:
 * a failed load leaves the handle unchanged. Violations are IJEPA_ERR_FORMAT
 * with a message naming the file and what is wrong.
 *
 * Saving is atomic: the file is written under a unique temporary name in the
 * same directory, flushed to disk (fsync), renamed over the target and the
 * directory is synced. On failure the temporary file is removed and a
 * previous file at the path is left as it was.
 *
 * Memory: a reader holds the whole file in memory until it is freed.
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
 * Same as ijepa_checkpoint_open() for a file image in memory: data[0, size)
 * is copied, so it may be freed after the call. name (may be NULL: "memory")
 * is used in messages in place of the file name.
 */
IJEPA_API int ijepa_checkpoint_open_memory(ijepa_checkpoint **out, const void *data,
                                           size_t size, const char *name);

/** Free a reader and its copy of the file. NULL is a no-op. */
IJEPA_API void ijepa_checkpoint_free(ijepa_checkpoint *ck);

/**
 * New config holding the file's configuration (*out, freed by the caller).
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
 * Copy the tensors "<prefix>.<name>" of the file into dst, for every tensor
 * <name> of table; dst is a buffer laid out as table says
 * (ijepa_tensor_table_buffer_size(table) floats; padding is not written).
 * Every tensor of the table must be in the file with the same shape, the
 * file must hold no other tensor under "<prefix>.", and every value must be
 * finite; all of this is checked before dst is written.
 *
 * Errors: IJEPA_ERR_INVALID_ARG (NULL argument, empty prefix),
 * IJEPA_ERR_FORMAT (missing, extra or mis-shaped tensor, non-finite value:
 * the message names the file and the tensor). dst is unchanged on failure.
 */
IJEPA_API int ijepa_checkpoint_read(ijepa_checkpoint *ck, const char *prefix,
                                    const ijepa_tensor_table *table, float *dst);

/**
 * Load the group prefix (e.g. "target_encoder" or "encoder") into the
 * parameters of enc, as ijepa_checkpoint_read() with the encoder's table.
 * The encoder is unchanged on failure.
 */
IJEPA_API int ijepa_checkpoint_load_encoder(ijepa_checkpoint *ck, const char *prefix,
                                            ijepa_encoder *enc);

/** Load the group prefix (normally "predictor") into the parameters of pred. */
IJEPA_API int ijepa_checkpoint_load_predictor(ijepa_checkpoint *ck, const char *prefix,
                                              ijepa_predictor *pred);

/* --- writer -------------------------------------------------------------------- */

/**
 * Create a writer for a libijepa checkpoint: the metadata will hold every key
 * of cfg (copied now), cfg's seed and step. Groups are added with
 * ijepa_checkpoint_writer_add() and written with ijepa_checkpoint_writer_save().
 * Errors: IJEPA_ERR_INVALID_ARG (NULL, step < 0), IJEPA_ERR_NOMEM. *out is
 * NULL on failure; the message is in ijepa_last_error().
 */
IJEPA_API int ijepa_checkpoint_writer_create(ijepa_checkpoint_writer **out,
                                             const ijepa_config *cfg, int64_t step);

/** Free a writer (never the buffers it borrowed). NULL is a no-op. */
IJEPA_API void ijepa_checkpoint_writer_free(ijepa_checkpoint_writer *w);

/**
 * Add the tensors of table, stored in data (laid out as table says), under
 * the names "<prefix>.<name>". table and data are borrowed until the writer
 * is freed: they are read by ijepa_checkpoint_writer_save(). Errors:
 * IJEPA_ERR_INVALID_ARG (NULL argument, a prefix empty or longer than 935
 * bytes, a name already added), IJEPA_ERR_NOMEM; nothing is added on failure.
 */
IJEPA_API int ijepa_checkpoint_writer_add(ijepa_checkpoint_writer *w, const char *prefix,
                                          const ijepa_tensor_table *table, const float *data);

/**
 * Write the checkpoint atomically to path (see the top of this header). The
 * writer may be saved again (e.g. after further training of the borrowed
 * buffers: the data is read at each save, the step is the one given at
 * creation). Errors: IJEPA_ERR_INVALID_ARG (NULL), IJEPA_ERR_NOMEM,
 * IJEPA_ERR_IO (message with the path and the system error; no temporary
 * file is left and a previous file at path is unchanged).
 */
IJEPA_API int ijepa_checkpoint_writer_save(ijepa_checkpoint_writer *w, const char *path);

#ifdef __cplusplus
}
#endif

#endif /* IJEPA_CHECKPOINT_H */
