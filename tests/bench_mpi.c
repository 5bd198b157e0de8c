/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * libijepa data-parallel benchmark (not a test; built when MPI is found):
 * whole I-JEPA training steps split over MPI ranks as ijepa-train-mpi
 * splits them, with the parts of a step timed separately, and the time
 * of MPI_Allreduce on gradient buffers of real model sizes.
 *
 *   OMP_NUM_THREADS=2 tests/bench_mpi                   1 process x 2 threads
 *   OMP_NUM_THREADS=1 mpirun -np 2 tests/bench_mpi      2 ranks x 1 thread
 *   tests/bench_mpi [--only SUBSTR] [--iters N] [--warm N] [--no-steps] [--no-allreduce]
 *
 * Steps (the configurations of tests/bench's step table: "ijepa
 * vit_small/16", ViT-S/16 with the official 384 x 12 predictor at batch 16,
 * and "ijepa fmnist/128"): every rank computes its slice of the global batch
 * (ijepa_trainer_compute), waits for the others (MPI_Barrier: the time a
 * rank idles because another is slower), sums the two gradient buffers and
 * the partials with MPI_Allreduce in place, and applies
 * (ijepa_trainer_apply). With one rank the reduction is empty and the step
 * is ijepa_trainer_step(). The barrier exists only here, so that the
 * allreduce column is the transfer and summation alone; ijepa-train has
 * none (its reduction absorbs the wait). Reported on rank 0: medians over
 * the timed steps of the whole step and of each part (compute: the slowest
 * rank's), images per second of the global batch, and the allreduce's share
 * of the step.
 *
 * Allreduce: MPI_Allreduce(MPI_IN_PLACE, MPI_FLOAT, MPI_SUM) on buffers of
 * the gradient sizes of ViT-S/16 and ViT-B/16 with their predictors (the
 * library's own buffer lengths, padding included) and of powers of two,
 * with the median time and the bus bandwidth 2 (n - 1) / n x bytes / time
 * (the data each rank sends and receives in a ring allreduce), from which
 * docs/distributed.md projects other sizes and links.
 *
 * The load average before and after is printed: the machine may be shared.
 */
#define _POSIX_C_SOURCE 200809L
#include <mpi.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ijepa/ijepa.h"

static int g_rank, g_size;

static void fail(const char *what, int rc)
{
    fprintf(stderr, "bench_mpi (rank %d): %s failed (%d, %s): %s\n", g_rank, what, rc,
            ijepa_status_string(rc), ijepa_last_error());
    MPI_Abort(MPI_COMM_WORLD, 1);
}

#define CHECK(call)                  \
    do {                             \
        int rc_ = (call);            \
        if (rc_ < 0)                 \
            fail(#call, rc_);        \
    } while (0)

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static void *xmalloc(size_t n)
{
    void *p = calloc(1, n ? n : 1);
    if (!p) {
        fprintf(stderr, "bench_mpi: out of memory (%zu bytes)\n", n);
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    return p;
}

static void loadavg(char *buf, size_t n)
{
    FILE *f = fopen("/proc/loadavg", "r");
    buf[0] = '\0';
    if (f) {
        if (!fgets(buf, (int)n, f))
            buf[0] = '\0';
        fclose(f);
    }
    buf[strcspn(buf, "\n")] = '\0';
}

static void apply_settings(ijepa_config *cfg, const char *settings)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", settings);
    for (char *tok = strtok(buf, " "); tok; tok = strtok(NULL, " ")) {
        char line[256];
        snprintf(line, sizeof line, "%s", tok);
        CHECK(ijepa_config_from_text(cfg, line));
    }
}

static int64_t cfg_int(const ijepa_config *c, int32_t key)
{
    int64_t v;
    CHECK(ijepa_config_get_int(c, key, &v));
    return v;
}

// --- steps -------------------------------------------------------------------------------

typedef struct step_case {
    const char *label, *preset, *settings;
} step_case;

static const step_case STEP_CASES[] = {
    {"ijepa vit_small/16", "vit_small",
     "img_size=224 patch_size=16 pred_embed_dim=384 pred_depth=12 batch_size=16"},
    {"ijepa fmnist/128", "vit_tiny",
     "img_size=28 patch_size=2 in_chans=1 embed_dim=128 depth=4 num_heads=4 "
     "patch_init_std=0.5 pred_embed_dim=64 pred_depth=2 pred_num_heads=4 batch_size=128 "
     "min_keep=4"},
};

static void allreduce(void *x, int64_t n, MPI_Datatype t)
{
    if (g_size > 1)
        MPI_Allreduce(MPI_IN_PLACE, x, (int)n, t, MPI_SUM, MPI_COMM_WORLD);
}

static void run_steps(const step_case *sc, int iters, int warm)
{
    ijepa_context *ctx;
    ijepa_config *cfg;
    ijepa_trainer *tr;
    CHECK(ijepa_context_create(&ctx));
    CHECK(ijepa_config_create(&cfg));
    CHECK(ijepa_config_apply_preset(cfg, sc->preset));
    apply_settings(cfg, sc->settings);
    CHECK(ijepa_config_set_int(cfg, IJEPA_CFG_TOTAL_STEPS, 1000000));
    const int64_t B = cfg_int(cfg, IJEPA_CFG_BATCH_SIZE), img = cfg_int(cfg, IJEPA_CFG_IMG_SIZE);
    const int64_t C = cfg_int(cfg, IJEPA_CFG_IN_CHANS);
    const int64_t off = (int64_t)g_rank * B / g_size, cnt = ((int64_t)g_rank + 1) * B / g_size - off;
    CHECK(ijepa_trainer_create(&tr, ctx, cfg));
    /* the whole batch, the same on every rank (each takes its rows) */
    const int64_t per = C * img * img;
    float *x = xmalloc((size_t)(B * per) * sizeof(float));
    uint64_t s = 11;
    for (int64_t i = 0; i < B * per; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        x[i] = (float)((double)(s >> 11) / 9007199254740992.0 * 2.0 - 1.0);
    }
    float *ge, *gp;
    double *part;
    int64_t ne, np, npart;
    CHECK(ijepa_encoder_grads(ijepa_trainer_context_encoder(tr), &ge, &ne));
    CHECK(ijepa_predictor_grads(ijepa_trainer_predictor(tr), &gp, &np));
    CHECK(ijepa_trainer_partials(tr, &part, &npart));
    double *t_step = xmalloc(sizeof(double) * (size_t)iters);
    double *t_comp = xmalloc(sizeof(double) * (size_t)iters);
    double *t_wait = xmalloc(sizeof(double) * (size_t)iters);
    double *t_red = xmalloc(sizeof(double) * (size_t)iters);
    double *t_apply = xmalloc(sizeof(double) * (size_t)iters);
    double loss;
    for (int it = -warm; it < iters; it++) {
        MPI_Barrier(MPI_COMM_WORLD);
        const double t0 = MPI_Wtime();
        CHECK(ijepa_trainer_compute(tr, cnt ? x + off * per : NULL, off, cnt, B));
        const double t1 = MPI_Wtime();
        MPI_Barrier(MPI_COMM_WORLD);
        const double t2 = MPI_Wtime();
        allreduce(ge, ne, MPI_FLOAT);
        allreduce(gp, np, MPI_FLOAT);
        allreduce(part, npart, MPI_DOUBLE);
        const double t3 = MPI_Wtime();
        CHECK(ijepa_trainer_apply(tr, &loss));
        const double t4 = MPI_Wtime();
        if (it < 0)
            continue;
        double comp = t1 - t0, comp_max = comp;
        MPI_Allreduce(&comp, &comp_max, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
        t_step[it] = t4 - t0;
        t_comp[it] = comp_max;
        t_wait[it] = t2 - t1;
        t_red[it] = t3 - t2;
        t_apply[it] = t4 - t3;
    }
    if (g_rank == 0) {
        const double st = median(t_step, iters), red = median(t_red, iters);
        printf("%-20s %5lld %5d x %-2d %9.1f %9.1f %8.1f %9.2f %8.1f %8.2f %6.1f %9.1f\n",
               sc->label, (long long)B, g_size, omp_get_max_threads(), st * 1e3,
               median(t_comp, iters) * 1e3, median(t_wait, iters) * 1e3, red * 1e3,
               median(t_apply, iters) * 1e3, (double)B / st, 100.0 * red / st,
               (double)(ne + np) * 4.0 / 1048576.0);
        fflush(stdout);
    }
    free(t_step);
    free(t_comp);
    free(t_wait);
    free(t_red);
    free(t_apply);
    free(x);
    ijepa_trainer_free(tr);
    ijepa_config_free(cfg);
    ijepa_context_free(ctx);
}

// --- allreduce ---------------------------------------------------------------------------

/* Gradient floats of a model (encoder + predictor buffers, padding
 * included) and its trainable parameters (tensors not FROZEN), from handles
 * that hold no gradients and one image of activations. */
static void model_size(const char *preset, const char *settings, int64_t *floats,
                       int64_t *trainable)
{
    ijepa_context *ctx;
    ijepa_config *cfg;
    ijepa_encoder *enc;
    ijepa_predictor *pred;
    CHECK(ijepa_context_create(&ctx));
    CHECK(ijepa_config_create(&cfg));
    CHECK(ijepa_config_apply_preset(cfg, preset));
    apply_settings(cfg, settings);
    CHECK(ijepa_config_set_int(cfg, IJEPA_CFG_BATCH_SIZE, 1));
    CHECK(ijepa_config_set_int(cfg, IJEPA_CFG_TRAINABLE, 0));
    CHECK(ijepa_encoder_create(&enc, ctx, cfg));
    CHECK(ijepa_predictor_create(&pred, ctx, cfg));
    const ijepa_tensor_table *tabs[2] = {ijepa_encoder_tensors(enc),
                                         ijepa_predictor_tensors(pred)};
    *floats = *trainable = 0;
    for (int k = 0; k < 2; k++) {
        *floats += ijepa_tensor_table_buffer_size(tabs[k]);
        for (int64_t i = 0; i < ijepa_tensor_table_count(tabs[k]); i++) {
            int64_t numel;
            int32_t flags;
            CHECK(ijepa_tensor_table_info(tabs[k], i, NULL, &numel, NULL, NULL, &flags));
            if (!(flags & IJEPA_TENSOR_FROZEN))
                *trainable += numel;
        }
    }
    ijepa_predictor_free(pred);
    ijepa_encoder_free(enc);
    ijepa_config_free(cfg);
    ijepa_context_free(ctx);
}

static void time_allreduce(const char *label, int64_t n, int iters)
{
    float *x = xmalloc((size_t)n * sizeof(float));
    double *t = xmalloc(sizeof(double) * (size_t)iters);
    for (int it = -2; it < iters; it++) {
        MPI_Barrier(MPI_COMM_WORLD);
        const double t0 = MPI_Wtime();
        MPI_Allreduce(MPI_IN_PLACE, x, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
        const double t1 = MPI_Wtime();
        if (it >= 0)
            t[it] = t1 - t0;
    }
    if (g_rank == 0) {
        const double m = median(t, iters), bytes = 4.0 * (double)n;
        printf("%-28s %12lld %10.1f %10.2f %10.3f\n", label, (long long)n, bytes / 1048576.0,
               m * 1e3, 2.0 * (g_size - 1) / g_size * bytes / m / 1e9);
        fflush(stdout);
    }
    free(t);
    free(x);
}

// --- main -------------------------------------------------------------------------------

int main(int argc, char **argv)
{
    int provided;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_size);
    const char *only = NULL;
    int iters = 5, warm = 2, steps = 1, reduce = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--only") && i + 1 < argc)
            only = argv[++i];
        else if (!strcmp(argv[i], "--iters") && i + 1 < argc)
            iters = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--warm") && i + 1 < argc)
            warm = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--no-steps"))
            steps = 0;
        else if (!strcmp(argv[i], "--no-allreduce"))
            reduce = 0;
        else {
            if (g_rank == 0)
                fprintf(stderr, "usage: bench_mpi [--only SUBSTR] [--iters N] [--warm N] "
                                "[--no-steps] [--no-allreduce]\n");
            MPI_Finalize();
            return 2;
        }
    }
    if (iters < 1)
        iters = 1;
    char la[128];
    loadavg(la, sizeof la);
    if (g_rank == 0)
        printf("bench_mpi: %d rank(s) x %d thread(s), libijepa %s; load average before: %s\n",
               g_size, omp_get_max_threads(), ijepa_version_string(), la);
    if (steps) {
        if (g_rank == 0)
            printf("\nI-JEPA steps split over the ranks (medians of %d steps, ms; compute = the "
                   "slowest rank's;\nwait = idle at the barrier; allreduce = the two gradient "
                   "buffers and the partials)\n\n"
                   "%-20s %5s %10s %9s %9s %8s %9s %8s %8s %6s %9s\n", iters, "config", "batch",
                   "ranks x T", "step", "compute", "wait", "allreduce", "apply", "img/s",
                   "comm%", "grad MiB");
        for (size_t i = 0; i < sizeof STEP_CASES / sizeof STEP_CASES[0]; i++)
            if (!only || strstr(STEP_CASES[i].label, only))
                run_steps(&STEP_CASES[i], iters, warm);
    }
    if (reduce && g_size > 1 && (!only || strstr("allreduce", only))) {
        if (g_rank == 0)
            printf("\nMPI_Allreduce(MPI_IN_PLACE, float, SUM) over %d ranks (median of %d; bus "
                   "GB/s = 2(n-1)/n x bytes / time)\n\n%-28s %12s %10s %10s %10s\n", g_size,
                   iters, "buffer", "floats", "MiB", "ms", "bus GB/s");
        static const struct { const char *label, *preset, *settings; } models[] = {
            {"ViT-S/16 + pred 384x12", "vit_small",
             "img_size=224 patch_size=16 pred_embed_dim=384 pred_depth=12"},
            {"ViT-B/16 + pred 384x12", "vit_base",
             "img_size=224 patch_size=16 pred_embed_dim=384 pred_depth=12"},
        };
        for (size_t i = 0; i < sizeof models / sizeof models[0]; i++) {
            int64_t floats, trainable;
            model_size(models[i].preset, models[i].settings, &floats, &trainable);
            char label[64];
            snprintf(label, sizeof label, "%s", models[i].label);
            if (g_rank == 0)
                printf("  (%s: %lld trainable parameters)\n", models[i].label,
                       (long long)trainable);
            time_allreduce(label, floats, iters);
        }
        for (int64_t n = (int64_t)1 << 16; n <= (int64_t)1 << 26; n <<= 2) {
            char label[64];
            snprintf(label, sizeof label, "2^%d floats", __builtin_ctzll((unsigned long long)n));
            time_allreduce(label, n, iters);
        }
    }
    loadavg(la, sizeof la);
    if (g_rank == 0)
        printf("\nload average after: %s\n", la);
    MPI_Finalize();
    return 0;
}
