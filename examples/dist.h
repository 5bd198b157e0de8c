/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * Data-parallel training for ijepa-train: what the training loop
 * (trainloop.c) needs from a group of processes, behind a few function
 * pointers so that the loop itself knows no MPI. Two implementations:
 *
 *   dist_local.c  linked into ijepa-train: one process trains alone
 *                 (ex_dist_init() returns NULL). Started by mpirun, it
 *                 hands over to ijepa-train-mpi next to it (exec), or
 *                 stops if there is none: N copies must not each train the
 *                 whole run into the same directory.
 *   dist_mpi.c    linked into ijepa-train-mpi (built when mpicc exists):
 *                 Open MPI, one rank per process.
 *
 * Every rank computes its slice of each global batch
 * (ijepa_trainer_compute()), the gradients and partials are summed in place
 * (reduce), and every rank applies the same sums (ijepa_trainer_apply()):
 * the ranks stay bit-identical, which agree() verifies from time to time.
 */
#ifndef IJEPA_EXAMPLES_DIST_H
#define IJEPA_EXAMPLES_DIST_H

#include <stdint.h>

#include <ijepa/ijepa.h>

typedef struct ex_dist ex_dist;

struct ex_dist {
    int rank, size;          /* this process and how many train together */
    int64_t check_every;     /* agree() every K steps besides start and end (0: never) */
    double timeout;          /* seconds a rank waits for the others before it gives up */
    double comm_seconds;     /* time spent in reduce() so far (waiting included) */
    /* Check that every rank runs the same library version, configuration
     * (its text form), data (data_id: a checksum of the images the feed
     * draws from) and number of steps (a rank that stopped early would
     * leave the others waiting). On any difference rank 0 says what
     * differs and every rank exits with status 1. */
    void (*same_run)(ex_dist *d, const ijepa_config *cfg, uint64_t data_id, int64_t steps);
    /* Sum the context encoder's and predictor's gradients and the step's
     * partials of tr over the ranks, in place. */
    void (*reduce)(ex_dist *d, ijepa_trainer *tr);
    /* Compare a checksum of every rank's training state (the three models,
     * the AdamW moments, the step count); if they differ, rank 0 names the
     * ranks that differ from it and every rank exits with status 1. */
    void (*agree)(ex_dist *d, ijepa_trainer *tr);
    void *impl;
};

/*
 * Set up before the options are read (MPI may take its own arguments out of
 * argv). NULL: this process trains alone. Exits on failure.
 */
ex_dist *ex_dist_init(int *argc, char ***argv);

/* Leave the group (MPI_Finalize); every rank calls it at the end. NULL is a
 * no-op. */
void ex_dist_finish(ex_dist *d);

/* The slice of the batch of `batch` images that rank r of n computes:
 * images [*offset, *offset + *count), the slices in rank order covering
 * the batch, their sizes differing by at most one. */
void ex_dist_slice(int r, int n, int64_t batch, int64_t *offset, int64_t *count);

/* A 64-bit checksum of n bytes, continuing from h (start with
 * EX_HASH_SEED): used to compare configurations, data and parameters
 * across ranks. */
#define EX_HASH_SEED 0xcbf29ce484222325ULL
uint64_t ex_hash(uint64_t h, const void *data, size_t n);

#endif
