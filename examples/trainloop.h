/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * The I-JEPA pretraining loop of ijepa-train and ijepa-demo: a data feed
 * (Fashion-MNIST held in memory, or a folder of images through the
 * library's dataset handle), progress display, CSV log, pictures and
 * checkpoints around ijepa_trainer_step().
 */
#ifndef IJEPA_EXAMPLES_TRAINLOOP_H
#define IJEPA_EXAMPLES_TRAINLOOP_H

#include <stdint.h>

#include <ijepa/ijepa.h>

#include "dist.h"
#include "fmnist.h"

/*
 * Where the training images come from. Both kinds give batches that depend
 * only on the seed and the position in the stream:
 *   - Fashion-MNIST: a new permutation every epoch (Fisher-Yates on
 *     xorshift64 seeded 0x2545f4914f6cdd1d ^ seed), each image through the
 *     config's transform (data_transform: the training transform crops with
 *     the seed fmnist_crop_seed(seed, position));
 *   - a folder: the dataset handle's own shuffle, crops and threads.
 */
typedef struct ex_feed {
    const fmnist *fm;            /* Fashion-MNIST images [0, fm->n), or NULL */
    ijepa_dataset *ds;           /* a folder of images, or NULL (borrowed) */
    const ijepa_config *cfg;     /* fm: the transform's settings (borrowed) */
    int train;                   /* fm: data_transform is the training one */
    uint64_t seed, rng;          /* fm: the run's seed, the shuffle's state */
    int64_t *perm, pos, epoch, position;
    int sliced;                        /* ex_feed_slice() was called */
    int64_t slice_offset, slice_count; /* its slice of each batch (count may be 0) */
} ex_feed;

void ex_feed_fmnist(ex_feed *f, const fmnist *fm, const ijepa_config *cfg);
void ex_feed_folder(ex_feed *f, ijepa_dataset *ds);
/* The next batch of images into x [batch, in_chans, img, img]; x NULL skips
 * them (a resumed run replays the stream up to its step). Exits on failure. */
void ex_feed_next(ex_feed *f, int64_t batch, float *x);
/* From now on, ex_feed_next(f, batch, x) writes only the images
 * [offset, offset + count) of each batch (x [count, ...]), the rows a
 * data-parallel rank computes; the stream is that of whole batches, so the
 * ranks' slices together are what one process would see. A folder's feed
 * starts at the batch of step `step` (the dataset's slice does not replay);
 * Fashion-MNIST's is replayed by the caller as before. The whole batch
 * (offset 0, count batch) leaves the feed as it is. */
void ex_feed_slice(ex_feed *f, int64_t batch, int64_t step, int64_t offset, int64_t count);
/* A checksum of the images the feed draws from (pixels, or file paths):
 * ranks compare it before training together. */
uint64_t ex_feed_id(const ex_feed *f);
int64_t ex_feed_size(const ex_feed *f);   /* images per epoch */
int64_t ex_feed_epoch(const ex_feed *f);  /* epoch of the last batch */
void ex_feed_free(ex_feed *f);

typedef struct ex_train_opts {
    int64_t steps;       /* train until the trainer's step count is this */
    const char *out_dir; /* log.csv, loss.png, masks.png, checkpoint.safetensors; NULL: none */
    const char *resume;  /* a checkpoint of this loop to continue, or NULL */
    int64_t save_every;  /* also save the checkpoint every K steps (0: at the end only) */
    int quiet;           /* no progress output */
    ex_dist *dist;       /* data-parallel ranks (dist.h), or NULL: this process alone */
} ex_train_opts;

typedef struct ex_train_result {
    int64_t steps;       /* steps this run trained */
    double seconds, images_per_s, first_loss, last_loss, last_std;
    double comm_seconds; /* with ranks: the time spent summing gradients */
    char files[128];     /* the files written to out_dir, "log.csv,loss.png,..." */
    char note[160];      /* "" or why a file was not written, " (no loss.png: ...)" */
} ex_train_result;

/*
 * Create a trainer from cfg (whose total_steps becomes o->steps, and
 * warmup_steps steps / 10 if it was larger), load o->resume if given, and
 * train on the feed until step o->steps. With resume, the feed replays the
 * batches of the steps already trained without training on them, so the run
 * is the one that would have continued, and an existing out_dir/log.csv is
 * continued: its rows up to the resumed step are kept, later ones (of an
 * interrupted run that went on after its last save) are dropped. Saves
 * atomically, so an interrupted run leaves its last checkpoint. Writes
 * loss.png only for two or more steps (a curve). Returns the trainer
 * (caller frees it).
 *
 * With o->dist, every rank runs this with the same configuration: each
 * computes its slice of every batch (ex_dist_slice()), the sums are formed
 * by o->dist->reduce() and every rank applies them. The ranks check at the
 * start that they run the same library, configuration and data and that
 * their states agree (after --resume too), again every check_every steps
 * and at the end. Only rank 0 writes (log, pictures, checkpoints) and
 * prints progress; *res is meaningful on rank 0.
 */
ijepa_trainer *ex_train(ijepa_context *ctx, ijepa_config *cfg, ex_feed *feed,
                        const ex_train_opts *o, ex_train_result *res);

/* ex_train() with cfg's total_steps and warmup_steps as they are: the
 * caller chose the schedule (ijepa-train: an explicit --set total_steps
 * goes beyond o->steps). */
ijepa_trainer *ex_train_scheduled(ijepa_context *ctx, const ijepa_config *cfg, ex_feed *feed,
                                  const ex_train_opts *o, ex_train_result *res);

#endif
