/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * libijepa datasets: batches of transformed images from a directory tree,
 * decoded ahead on background threads.
 *
 * The images: every regular file below the root directory (recursively)
 * whose name ends in .png, .jpg or .jpeg (any letter case), skipping names
 * that start with '.'; symbolic links to files are followed, links to
 * directories are not (no cycles). They are numbered 0 .. size-1 in the
 * byte-wise (strcmp) order of their paths relative to the root, so the same
 * tree gives the same numbering on every machine.
 *
 * The stream: images are taken one position at a time, position p being
 * image perm_e[p mod size] of epoch e = p / size, where perm_e is a
 * permutation drawn from (seed, e) (Fisher-Yates on the library's RNG), or
 * the identity when data_shuffle is 0. A batch takes the next positions,
 * crossing into the next epoch when one ends. Each image goes through the
 * transform of image.h selected by data_transform; the training crop of
 * position p is drawn with a seed derived from (seed, p) only.
 *
 * Determinism: batch content depends only on the config (seed, ...), the
 * files and the position: never on the number of workers or which one
 * finished first. Workers decode positions ahead of the caller into a ring
 * of data_prefetch * batch_size slots; the caller takes them in order.
 *
 * Bad files (data_on_error): with IJEPA_DATA_STOP (default),
 * ijepa_dataset_next_batch() fails with the error of the first bad file of
 * the batch (its message names the file and the cause) and consumes
 * nothing: the next call meets the same file again (set data_on_error to
 * IJEPA_DATA_SKIP, or move on with ijepa_dataset_set_epoch()). With
 * IJEPA_DATA_SKIP, a bad file's position is consumed without giving an
 * image, counted (ijepa_dataset_skipped()) and its error kept
 * (ijepa_dataset_last_skip_error()); the batch is filled with the next good
 * images. Only decoding errors (IJEPA_ERR_FORMAT, IJEPA_ERR_IO) are skipped.
 * Files are read as ijepa_image_load() reads them: a listed file that has
 * become a FIFO, a device or a directory since the scan is a bad file
 * (IJEPA_ERR_IO), found at once; a worker never waits for a writer.
 *
 * Ownership and threading: the dataset is owned by the caller and freed with
 * ijepa_dataset_free(), which may be called at any time (mid-epoch): it
 * stops and joins its workers (each finishes the image it is decoding, a
 * cost bounded by the data_max_* limits) and frees everything. A worker
 * blocks only where any read of a regular file can (e.g. on a hung network
 * file system). A dataset is used by one thread at a time; its workers
 * are its own (POSIX threads) and touch nothing else.
 */
#ifndef IJEPA_DATASET_H
#define IJEPA_DATASET_H

#include "common.h"
#include "config.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ijepa_dataset ijepa_dataset;

/**
 * Scan root and create a dataset. Keys read: img_size, in_chans (1 or 3:
 * the channels images are decoded to), batch_size (most images per batch),
 * seed, and every data_* key (see config.h). Workers start at once and
 * begin decoding epoch 0.
 *
 * @param out   receives the dataset; set to NULL on failure.
 * @param root  directory to scan; copied.
 * @param cfg   configuration; only read, not referenced after the call.
 * @return IJEPA_OK;
 *   IJEPA_ERR_INVALID_ARG if a pointer is NULL, the crop or eval keys are
 *   inconsistent (see image.h), or no image file is found under root;
 *   IJEPA_ERR_UNSUPPORTED if in_chans is not 1 or 3;
 *   IJEPA_ERR_IO if root (or a directory below it) cannot be read;
 *   IJEPA_ERR_NOMEM, also if a worker thread cannot be started.
 *   The message is in ijepa_last_error().
 */
IJEPA_API int ijepa_dataset_create(ijepa_dataset **out, const char *root,
                                   const ijepa_config *cfg);

/** Stop the workers, join them and free the dataset. NULL is a no-op. */
IJEPA_API void ijepa_dataset_free(ijepa_dataset *ds);

/** Number of image files found; 0 for NULL. */
IJEPA_API int64_t ijepa_dataset_size(const ijepa_dataset *ds);

/**
 * Path of image `index` (root + "/" + relative path), NULL if ds is NULL or
 * index is outside [0, size). Owned by the dataset.
 */
IJEPA_API const char *ijepa_dataset_path(const ijepa_dataset *ds, int64_t index);

/**
 * Write the next `batch` images, transformed, to out.
 *
 * @param ds       the dataset.
 * @param batch    images, 1 <= batch <= batch_size.
 * @param out      caller buffer [batch, in_chans, img_size, img_size] floats.
 * @param indices  optional (NULL: not written) caller buffer of batch
 *                 int64: the image index of each item (path with
 *                 ijepa_dataset_path()).
 * @return IJEPA_OK;
 *   IJEPA_ERR_INVALID_ARG if ds or out is NULL or batch is out of range;
 *   IJEPA_ERR_FORMAT or IJEPA_ERR_IO for a bad file in stop mode (nothing
 *   consumed, out and indices untouched; without a slice, to go past that
 *   one file restart the whole stream just after it:
 *   ijepa_dataset_set_slice(ds, ijepa_dataset_position(ds) + 1, 1, 0, 1)),
 *   or in skip mode when a whole epoch's worth of consecutive files failed
 *   (every file is bad);
 *   IJEPA_ERR_NOMEM if a worker could not allocate its buffers (in skip mode
 *   the good images before it have been consumed).
 *   The message, in ijepa_last_error(), names the file and the cause.
 */
IJEPA_API int ijepa_dataset_next_batch(ijepa_dataset *ds, int64_t batch, float *out,
                                       int64_t *indices);

/**
 * Restart the stream at the first position of `epoch` (e.g. to resume a
 * run): pending decodes are discarded, the skip counter is kept (a slice,
 * ijepa_dataset_set_slice(), is kept and restarts there too).
 *
 * @return IJEPA_OK; IJEPA_ERR_INVALID_ARG if ds is NULL or epoch < 0 or too
 *   large (epoch * size must fit in int64); IJEPA_ERR_NOMEM if a worker
 *   thread cannot be restarted (the dataset then decodes on the calling
 *   thread, as with data_workers = 0).
 */
IJEPA_API int ijepa_dataset_set_epoch(ijepa_dataset *ds, int64_t epoch);

/**
 * Give only a slice of each group of positions, from `position` on: the
 * data of one of several data-parallel workers that share each batch of
 * `group` images (group = the global batch size). The stream restarts
 * (pending decodes are discarded, the skip counter is kept) so that the
 * images given next are those of positions
 *     position + k * group + offset + j,   k = 0, 1, ...,  0 <= j < count,
 * in that order: worker r with the slice [offset, offset + count) of each
 * batch calls ijepa_dataset_next_batch(ds, count, ...) once per batch and
 * gets exactly the images (files, crops) that one dataset giving whole
 * batches of `group` would put at those rows. Slices of the workers that
 * tile [0, group) therefore cover each epoch's permutation once, with no
 * image twice. position is the first position of the batch to start at
 * (0, or step * group to resume a run at a step). (position, group, 0,
 * group) is the whole stream from position; ijepa_dataset_set_epoch()
 * keeps the slice and restarts it at epoch * size.
 *
 * @return IJEPA_OK;
 *   IJEPA_ERR_INVALID_ARG if ds is NULL, position < 0, group < 1, offset <
 *   0, count < 1, offset + count > group, a value too large, or count <
 *   group with data_on_error = IJEPA_DATA_SKIP (skipping a bad file would
 *   shift the images of the other slices, which this worker cannot know):
 *   nothing changed;
 *   IJEPA_ERR_NOMEM if a worker thread cannot be restarted (the dataset
 *   then decodes on the calling thread, as with data_workers = 0).
 */
IJEPA_API int ijepa_dataset_set_slice(ijepa_dataset *ds, int64_t position, int64_t group,
                                      int64_t offset, int64_t count);

/** Position of the next image to be taken (images taken or skipped since
 * epoch 0, plus epoch * size after ijepa_dataset_set_epoch(); with a slice,
 * the stream position of the next image of the slice); 0 for NULL. */
IJEPA_API int64_t ijepa_dataset_position(const ijepa_dataset *ds);

/**
 * Seed of the training crop of position `position`, as passed to
 * ijepa_image_transform_train() for it: a batch item equals
 * ijepa_image_transform_train() of its file with this seed (and the
 * dataset's config). Depends only on (config seed, position); positions
 * are >= 0 (ijepa_dataset_position()), a negative one gives the seed of
 * position + 2^64. 0 for NULL.
 */
IJEPA_API uint64_t ijepa_dataset_crop_seed(const ijepa_dataset *ds, int64_t position);

/** Epoch of the next image to be taken (ijepa_dataset_position() / size); 0 for NULL. */
IJEPA_API int64_t ijepa_dataset_epoch(const ijepa_dataset *ds);

/** Files skipped so far (IJEPA_DATA_SKIP mode); 0 for NULL. */
IJEPA_API int64_t ijepa_dataset_skipped(const ijepa_dataset *ds);

/**
 * Error of the last skipped file ("<path>: <cause>"), "" if none. Never NULL.
 * Owned by the dataset; valid until the next next_batch call or its free.
 */
IJEPA_API const char *ijepa_dataset_last_skip_error(const ijepa_dataset *ds);

#ifdef __cplusplus
}
#endif

#endif /* IJEPA_DATASET_H */
