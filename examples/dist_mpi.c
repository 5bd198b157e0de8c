/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * Implements: examples/dist.h with Open MPI, for ijepa-train-mpi (the
 * training loop of ijepa-train with this file linked in instead of
 * dist_local.c; built by make when mpicc exists).
 *
 * One rank per process, MPI_COMM_WORLD. Only the main thread calls MPI
 * (MPI_THREAD_FUNNELED): the library's OpenMP threads and the dataset's
 * decoding threads never do. Errors: MPI's default handler on
 * MPI_COMM_WORLD aborts the whole job on any communication error; a rank
 * that dies is noticed by mpirun, which stops the others. What neither
 * sees is a rank that hangs (a stopped process, a machine that vanished
 * without closing its connections): a watchdog thread ends this rank if a
 * collective call has waited longer than the timeout plus four times the
 * longest step so far; mpirun then stops the rest. The watchdog calls no
 * MPI function: it prints and _exit()s.
 */
#define _POSIX_C_SOURCE 200809L
#include <limits.h>
#include <mpi.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "dist.h"

typedef struct mpi_impl {
    MPI_Comm comm;
    pthread_t watchdog;
    int watching;
    _Atomic double waiting_since;  /* ex_now() when the current collective began, 0 outside */
    _Atomic double longest_step;   /* longest time between two reduce() calls */
    _Atomic int stop;
    double last_reduce;
} mpi_impl;

static mpi_impl *impl_of(ex_dist *d) { return d->impl; }

// --- the watchdog ------------------------------------------------------------------------

static void *watch(void *arg)
{
    ex_dist *d = arg;
    mpi_impl *m = impl_of(d);
    while (!atomic_load(&m->stop)) {
        const struct timespec tick = {0, 250 * 1000 * 1000};
        nanosleep(&tick, NULL);
        const double since = atomic_load(&m->waiting_since);
        const double limit = d->timeout + 4.0 * atomic_load(&m->longest_step);
        if (d->timeout > 0 && since > 0 && ex_now() - since > limit) {
            fprintf(stderr, "%s: the other ranks have not answered for %.0f s (--mpi-timeout "
                            "%.0f s plus 4 x the longest step): a rank has stopped or hangs; "
                            "giving up\n", ex_prog, ex_now() - since, d->timeout);
            _exit(EX_EXIT_FAILURE);
        }
    }
    return NULL;
}

static void wait_begin(mpi_impl *m) { atomic_store(&m->waiting_since, ex_now()); }
static void wait_end(mpi_impl *m) { atomic_store(&m->waiting_since, 0.0); }

// --- collectives -----------------------------------------------------------------------------

/* Sum n elements of x over the ranks in place, in calls of at most INT_MAX
 * elements (MPI counts are int). */
static void allreduce_sum(mpi_impl *m, void *x, int64_t n, MPI_Datatype type, size_t elem)
{
    char *p = x;
    while (n > 0) {
        const int k = n > INT_MAX ? INT_MAX : (int)n;
        MPI_Allreduce(MPI_IN_PLACE, p, k, type, MPI_SUM, m->comm);
        p += (size_t)k * elem;
        n -= k;
    }
}

/* Every rank's k checksums, gathered in all[size * k]. */
static void gather(ex_dist *d, const uint64_t *mine, int k, uint64_t *all)
{
    mpi_impl *m = impl_of(d);
    wait_begin(m);
    MPI_Allgather(mine, k, MPI_UINT64_T, all, k, MPI_UINT64_T, m->comm);
    wait_end(m);
}

/* Leave with status 1 on every rank (each one has seen the same gathered
 * checksums, so all of them come here together). */
static void stop_all(ex_dist *d)
{
    ex_dist_finish(d);
    exit(EX_EXIT_FAILURE);
}

/* The ranks whose checksum j differs from rank 0's, as " 1 3 ..." in buf. */
static int differing(const ex_dist *d, const uint64_t *all, int k, int j, char *buf, size_t n)
{
    int count = 0;
    size_t used = 0;
    buf[0] = '\0';
    for (int r = 1; r < d->size; r++)
        if (all[r * k + j] != all[j]) {
            count++;
            if (used + 16 < n)
                used += (size_t)snprintf(buf + used, n - used, " %d", r);
        }
    return count;
}

static void same_run(ex_dist *d, const ijepa_config *cfg, uint64_t data_id, int64_t steps)
{
    size_t len = 0;
    CHECK(ijepa_config_to_text(cfg, NULL, 0, &len));
    char *text = ex_malloc(len + 1);
    CHECK(ijepa_config_to_text(cfg, text, len + 1, &len));
    const char *v = ijepa_version_string();
    uint64_t mine[4] = {ex_hash(EX_HASH_SEED, v, strlen(v)), ex_hash(EX_HASH_SEED, text, len),
                        data_id, (uint64_t)steps};
    free(text);
    uint64_t *all = ex_malloc(sizeof(uint64_t) * 4 * (size_t)d->size);
    gather(d, mine, 4, all);
    static const char *const what[4] = {
        "the libijepa version (install the same build everywhere)",
        "the configuration (give every rank the same options and --resume file)",
        "the data (the same --fmnist / --data files and --limit on every machine)",
        "the number of steps (give every rank the same --steps or --epochs)",
    };
    int bad = 0;
    for (int j = 0; j < 4; j++) {
        char ranks[256];
        if (differing(d, all, 4, j, ranks, sizeof ranks)) {
            bad = 1;
            if (d->rank == 0)
                fprintf(stderr, "%s: ranks%s differ from rank 0 in %s\n", ex_prog, ranks,
                        what[j]);
        }
    }
    free(all);
    if (bad)
        stop_all(d);
}

static void reduce(ex_dist *d, ijepa_trainer *tr)
{
    mpi_impl *m = impl_of(d);
    float *ge, *gp;
    double *part;
    int64_t ne, np, npart;
    CHECK(ijepa_encoder_grads(ijepa_trainer_context_encoder(tr), &ge, &ne));
    CHECK(ijepa_predictor_grads(ijepa_trainer_predictor(tr), &gp, &np));
    CHECK(ijepa_trainer_partials(tr, &part, &npart));
    const double t0 = ex_now();
    if (m->last_reduce > 0 && t0 - m->last_reduce > atomic_load(&m->longest_step))
        atomic_store(&m->longest_step, t0 - m->last_reduce);
    wait_begin(m);
    allreduce_sum(m, ge, ne, MPI_FLOAT, sizeof *ge);
    allreduce_sum(m, gp, np, MPI_FLOAT, sizeof *gp);
    allreduce_sum(m, part, npart, MPI_DOUBLE, sizeof *part);
    wait_end(m);
    m->last_reduce = ex_now();
    d->comm_seconds += m->last_reduce - t0;
}

/* A checksum of a model's parameter buffer. */
static uint64_t hash_floats(uint64_t h, const float *x, int64_t n)
{
    return ex_hash(h, x, (size_t)n * sizeof *x);
}

static void agree(ex_dist *d, ijepa_trainer *tr)
{
    float *p, *mo, *v;
    int64_t n;
    const int64_t step = ijepa_trainer_step_count(tr);
    uint64_t h = ex_hash(EX_HASH_SEED, &step, sizeof step);
    CHECK(ijepa_encoder_params(ijepa_trainer_context_encoder(tr), &p, &n));
    h = hash_floats(h, p, n);
    CHECK(ijepa_encoder_params(ijepa_trainer_target_encoder(tr), &p, &n));
    h = hash_floats(h, p, n);
    CHECK(ijepa_predictor_params(ijepa_trainer_predictor(tr), &p, &n));
    h = hash_floats(h, p, n);
    for (int32_t g = 0; g < 2; g++) {
        CHECK(ijepa_optimizer_moments(ijepa_trainer_optimizer(tr), g, &mo, &v, &n));
        h = hash_floats(hash_floats(h, mo, n), v, n);
    }
    uint64_t *all = ex_malloc(sizeof(uint64_t) * (size_t)d->size);
    gather(d, &h, 1, all);
    char ranks[256];
    const int bad = differing(d, all, 1, 0, ranks, sizeof ranks);
    free(all);
    if (!bad)
        return;
    if (d->rank == 0)
        fprintf(stderr, "%s: at step %lld the training state of ranks%s differs from rank 0's "
                        "(they diverged: a different CPU or library build, or a corrupted "
                        "copy of the --resume file); stopping\n", ex_prog, (long long)step,
                ranks);
    stop_all(d);
}

// --- set-up ----------------------------------------------------------------------------------

ex_dist *ex_dist_init(int *argc, char ***argv)
{
    int provided = 0;
    if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
        fprintf(stderr, "%s: MPI_Init_thread failed\n", ex_prog);
        exit(EX_EXIT_FAILURE);
    }
    ex_dist *d = ex_malloc(sizeof *d);
    mpi_impl *m = ex_malloc(sizeof *m);
    d->impl = m;
    m->comm = MPI_COMM_WORLD;
    MPI_Comm_rank(m->comm, &d->rank);
    MPI_Comm_size(m->comm, &d->size);
    if (provided < MPI_THREAD_FUNNELED) {
        fprintf(stderr, "%s: this MPI does not allow threads in the process "
                        "(MPI_THREAD_FUNNELED)\n", ex_prog);
        MPI_Abort(m->comm, EX_EXIT_FAILURE);
    }
    if (d->rank > 0) { /* messages say which rank wrote them */
        static char prog[64];
        snprintf(prog, sizeof prog, "%s (rank %d)", ex_prog, d->rank);
        ex_prog = prog;
    }
    d->timeout = 600;
    d->check_every = 1000;
    d->same_run = same_run;
    d->reduce = reduce;
    d->agree = agree;
    atomic_store(&m->waiting_since, 0.0);
    atomic_store(&m->longest_step, 0.0);
    atomic_store(&m->stop, 0);
    m->watching = pthread_create(&m->watchdog, NULL, watch, d) == 0;
    return d;
}

void ex_dist_finish(ex_dist *d)
{
    if (!d)
        return;
    mpi_impl *m = impl_of(d);
    /* the ranks leave together, the watchdog still watching: a rank that is
     * still saving keeps the others from tearing the job down under it */
    wait_begin(m);
    MPI_Barrier(m->comm);
    wait_end(m);
    if (m->watching) {
        atomic_store(&m->stop, 1);
        pthread_join(m->watchdog, NULL);
    }
    MPI_Finalize();
    free(m);
    free(d);
}
