/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * libijepa benchmark (not a test): measures the machine's oneDNN f32 GEMM
 * rate, then times encoder training steps (TRAIN forward + backward) and
 * inference forwards of ViT presets, then whole I-JEPA training steps
 * (ijepa_trainer_step: ViT-S/16 with the official 384x12 predictor, and the
 * Fashion-MNIST recipe), and prints aligned tables.
 *
 *   tests/bench [--quick] [--iters N] [--tries N] [--only SUBSTR] [--no-gemm]
 *               [--precision f32|bf16|both] [--set key=value]...
 *
 *   --quick        smoke run: batch 2, 1 timed iteration, few GEMM reps, no
 *                  retries (also: IJEPA_BENCH_QUICK=1)
 *   --iters N      timed iterations per configuration, default 5
 *                  (also: IJEPA_BENCH_ITERS=N)
 *   --tries N      timed windows at most per measurement, default 3: a window
 *                  in which other processes used > 10 % of the CPUs is run
 *                  again and the cleanest window is reported
 *   --budget S     start no retry once the run has taken S seconds (default
 *                  150), so that a busy machine cannot stretch the run much
 *   --only SUBSTR  run only the configurations whose label contains SUBSTR,
 *                  labels are "vit_small/train/8", "vit_small/infer/16", ...,
 *                  "ijepa vit_small/16", "ijepa fmnist/128"
 *   --no-gemm      skip the GEMM peak measurement (no "% of peak" column)
 *   --precision P  the config key precision of the encoder and trainer
 *                  rows: f32, bf16 or both (default: both, each row once
 *                  per precision); "% of peak" is against the GEMM peak of
 *                  the row's precision (bf16: oneDNN's bf16 matmul, or the
 *                  float32 one where bf16 is emulated)
 *   --set key=value  a config key for every encoder and trainer row, after
 *                  the row's own settings (repeatable; e.g. seq_bucket=1)
 *
 * Each whole-step row runs in a fresh process (this program again, with
 * the hidden option --child-step), so its peak RSS is that configuration's
 * own and nothing earlier in the run touched its memory.
 *
 * Threads: OMP_NUM_THREADS (the library uses the OpenMP pool as it is).
 * Leave OMP_PROC_BIND and OMP_PLACES unset: libgomp binds the main thread
 * to one place at start, each configuration's process inherits that CPU
 * mask, and every whole step then runs its threads on one CPU (measured:
 * 7.7 instead of 15 img/s on ViT-S/16 with 2 threads); the run warns when
 * its mask has fewer CPUs than threads.
 * Exit status: 0, or 1 when a library call fails (its message is printed),
 * 2 on a bad command line.
 *
 * With ONEDNN_VERBOSE (or DNNL_VERBOSE) set, every timed phase is bracketed
 * by "bench_mark,begin,<label>,<phase>,<window>,<iter>" and
 * "bench_mark,end,<label>,<phase>,<window>,<iter>,<ms>" lines on stdout
 * (window -1 is the warm-up; a noisy window is followed by a retry), and
 * each timed window ends with "bench_mark,window,<label>,<window>,<noise%>", so the
 * oneDNN exec lines in between can be attributed and summed per phase; the
 * wall time minus their sum is time spent outside oneDNN (glue loops,
 * memcpy, call overhead).
 *
 * FLOP counting (analytic, multiply-add = 2 FLOPs; LayerNorm, softmax, GELU,
 * bias and residual adds, the attention scale and all copies are ignored):
 *   T tokens per image, width D, MLP hidden Hd, depth L, C channels, patch p.
 *   forward, per token:
 *     patch embedding              2 * D * C * p^2
 *     per block, linear layers     2 * (3D*D + D*D + 2*D*Hd)   (qkv, proj, fc1, fc2)
 *     per block, attention         2 * 2 * T * D               (Q.K^T and P.V)
 *   backward, per token: 2x the forward for every block matmul (input
 *     gradient + weight gradient; for attention dP, dV, dQ, dK), and 1x for
 *     the patch embedding (weight gradient only; the image needs no gradient).
 *   So per image: fwd = T*(2DCp^2 + L*(2(4D^2 + 2DHd) + 4TD)),
 *                 bwd = T*(2DCp^2 + 2L*(2(4D^2 + 2DHd) + 4TD)).
 *
 * "peak" = the highest median GFLOP/s of the GEMMs measured here with
 * ijepa__matmul (the same kernel wrapper the encoder uses).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bf16.h"
#include "ijepa/ijepa.h"
#include "model_internal.h"
#include "ops.h"

// --- small helpers -----------------------------------------------------------------

static void fail(const char *what, int rc)
{
    fprintf(stderr, "bench: %s failed (%d, %s): %s\n", what, rc, ijepa_status_string(rc),
            ijepa_last_error());
    exit(1);
}

#define CHECK(call)                                                                        \
    do {                                                                                   \
        int rc_ = (call);                                                                  \
        if (rc_ < 0)                                                                       \
            fail(#call, rc_);                                                              \
    } while (0)

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median and minimum of v[0..n-1] (v is sorted in place). */
static double median_of(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static double min_of(const double *v, int n)
{
    double m = v[0];
    for (int i = 1; i < n; i++)
        if (v[i] < m)
            m = v[i];
    return m;
}

static float *alloc_floats(int64_t n)
{
    float *p = malloc((size_t)n * sizeof *p);
    if (!p) {
        fprintf(stderr, "bench: cannot allocate %lld floats\n", (long long)n);
        exit(1);
    }
    return p;
}

/* Deterministic values uniform in [-scale, scale). */
static void fill(float *p, int64_t n, uint64_t seed, float scale)
{
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
    for (int64_t i = 0; i < n; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        p[i] = scale * ((float)(s >> 40) * (1.0f / 8388608.0f) - 1.0f);
    }
}

static double mib(double bytes) { return bytes / 1048576.0; }

/* Peak resident set size of the process so far (a high-water mark), bytes. */
static double peak_rss_bytes(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return -1.0;
    return (double)ru.ru_maxrss * 1024.0; /* Linux: KiB */
}

/* Current resident set size, bytes (-1 where /proc is unavailable). */
static double cur_rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long long size = 0, resident = -1;
    if (!f)
        return -1.0;
    if (fscanf(f, "%lld %lld", &size, &resident) != 2)
        resident = -1;
    fclose(f);
    return resident < 0 ? -1.0 : (double)resident * (double)sysconf(_SC_PAGESIZE);
}

/*
 * Noise check, as in shared/reference/onednn-2.6.md: CPU time that other
 * processes used, and steal time, during a timed window, as a % of the
 * machine's CPU capacity in that window (from /proc/stat and getrusage).
 */
typedef struct load_mark {
    int ok;
    unsigned long long busy, steal, total;
    double self_cpu;
} load_mark;

static void load_mark_take(load_mark *m)
{
    m->ok = 0;
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0)
        m->self_cpu = (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec +
                      (double)ru.ru_stime.tv_sec + 1e-6 * (double)ru.ru_stime.tv_usec;
    else
        return;
    FILE *f = fopen("/proc/stat", "r");
    if (!f)
        return;
    unsigned long long v[8] = {0};
    int n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
                   &v[3], &v[4], &v[5], &v[6], &v[7]);
    fclose(f);
    if (n != 8)
        return;
    /* user nice system idle iowait irq softirq steal */
    m->busy = v[0] + v[1] + v[2] + v[5] + v[6];
    m->steal = v[7];
    m->total = v[0] + v[1] + v[2] + v[3] + v[4] + v[5] + v[6] + v[7];
    m->ok = 1;
}

/* % of CPU capacity used by others (incl. steal) between a and b; -1 if unknown. */
static double load_foreign_pct(const load_mark *a, const load_mark *b)
{
    if (!a->ok || !b->ok || b->total <= a->total)
        return -1.0;
    const double tck = (double)sysconf(_SC_CLK_TCK);
    const double total = (double)(b->total - a->total);
    double other = (double)(b->busy - a->busy) - (b->self_cpu - a->self_cpu) * tck;
    if (other < 0)
        other = 0;
    other += (double)(b->steal - a->steal);
    return 100.0 * other / total;
}

/* A timed window whose noise% exceeds this is run again (up to opts.attempts
 * windows; the cleanest is reported). */
#define NOISE_MAX 10.0

static void fmt_noise(char *buf, size_t n, double pct)
{
    if (pct >= 0)
        snprintf(buf, n, "%.1f", pct);
    else
        snprintf(buf, n, "?");
}

/* Program start (now_s()); retries of noisy windows stop once the run has
 * taken opts.budget seconds, so a busy machine cannot stretch it forever. */
static double g_start;

// --- options -------------------------------------------------------------------------

typedef struct opts {
    int quick;
    int iters;
    int attempts; /* noise-checked windows per measurement, at most */
    int budget;   /* seconds after which noisy windows are no longer retried */
    int gemm;
    const char *only;
    int marks; /* ONEDNN_VERBOSE is on: print phase markers */
    int precisions;  /* bit p: run precision p (IJEPA_PRECISION_*) */
    int precision;   /* the precision of the rows being run */
    char sets[1024]; /* --set pairs, space separated */
    int child_step;  /* --child-step: run this whole-step case alone, -1: no */
    char **argv;     /* for re-running itself */
} opts;

static void usage(FILE *f)
{
    fprintf(f, "usage: bench [--quick] [--iters N] [--tries N] [--budget S] [--only SUBSTR] "
               "[--no-gemm] [--precision f32|bf16|both] [--set key=value]... [--help]\n"
               "  env: OMP_NUM_THREADS, IJEPA_BENCH_QUICK=1, IJEPA_BENCH_ITERS=N\n");
}

static int parse_iters(const char *s, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < 1 || v > 100000)
        return -1;
    *out = (int)v;
    return 0;
}

static void parse_opts(opts *o, int argc, char **argv)
{
    memset(o, 0, sizeof *o);
    o->precisions = 3;
    o->child_step = -1;
    o->argv = argv;
    o->iters = 5;
    o->attempts = 3;
    o->budget = 150;
    o->gemm = 1;
    const char *e = getenv("IJEPA_BENCH_QUICK");
    if (e && *e && strcmp(e, "0") != 0)
        o->quick = 1;
    e = getenv("IJEPA_BENCH_ITERS");
    int iters_set = 0, tries_set = 0;
    if (e && *e) {
        if (parse_iters(e, &o->iters) < 0) {
            fprintf(stderr, "bench: IJEPA_BENCH_ITERS='%s' is not an integer in [1, 100000]\n", e);
            exit(2);
        }
        iters_set = 1;
    }
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            o->quick = 1;
        } else if (strcmp(argv[i], "--iters") == 0 && i + 1 < argc) {
            if (parse_iters(argv[++i], &o->iters) < 0) {
                fprintf(stderr, "bench: --iters '%s' is not an integer in [1, 100000]\n", argv[i]);
                exit(2);
            }
            iters_set = 1;
        } else if (strcmp(argv[i], "--tries") == 0 && i + 1 < argc) {
            if (parse_iters(argv[++i], &o->attempts) < 0) {
                fprintf(stderr, "bench: --tries '%s' is not an integer in [1, 100000]\n", argv[i]);
                exit(2);
            }
            tries_set = 1;
        } else if (strcmp(argv[i], "--budget") == 0 && i + 1 < argc) {
            if (parse_iters(argv[++i], &o->budget) < 0) {
                fprintf(stderr, "bench: --budget '%s' is not an integer in [1, 100000]\n", argv[i]);
                exit(2);
            }
        } else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
            o->only = argv[++i];
        } else if (strcmp(argv[i], "--no-gemm") == 0) {
            o->gemm = 0;
        } else if (strcmp(argv[i], "--precision") == 0 && i + 1 < argc) {
            int64_t v;
            if (strcmp(argv[++i], "both") == 0) {
                o->precisions = 3;
            } else if (ijepa_config_value_from_name(IJEPA_CFG_PRECISION, argv[i], &v) == 0) {
                o->precisions = 1 << v;
            } else {
                fprintf(stderr, "bench: --precision '%s' is not f32, bf16 or both\n", argv[i]);
                exit(2);
            }
        } else if (strcmp(argv[i], "--child-step") == 0 && i + 1 < argc) {
            o->child_step = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--set") == 0 && i + 1 < argc) {
            const size_t used = strlen(o->sets);
            if (!strchr(argv[i + 1], '=') ||
                used + strlen(argv[i + 1]) + 2 > sizeof o->sets) {
                fprintf(stderr, "bench: --set '%s' is not key=value (or too many)\n", argv[i + 1]);
                exit(2);
            }
            snprintf(o->sets + used, sizeof o->sets - used, "%s%s", used ? " " : "", argv[++i]);
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            exit(0);
        } else {
            fprintf(stderr, "bench: unknown or incomplete option '%s'\n", argv[i]);
            usage(stderr);
            exit(2);
        }
    }
    if (o->quick && !iters_set)
        o->iters = 1;
    if (o->quick && !tries_set)
        o->attempts = 1;
    const char *v1 = getenv("ONEDNN_VERBOSE"), *v2 = getenv("DNNL_VERBOSE");
    o->marks = (v1 && *v1 && strcmp(v1, "0") != 0) || (v2 && *v2 && strcmp(v2, "0") != 0);
}

/* window: timed window number (0, 1, ...), -1 for the warm-up; iter: iteration in it */
static void mark(const opts *o, const char *what, const char *label, const char *phase,
                 int window, int iter, double ms)
{
    if (!o->marks)
        return;
    if (ms >= 0)
        printf("bench_mark,%s,%s,%s,%d,%d,%.3f\n", what, label, phase, window, iter, ms);
    else
        printf("bench_mark,%s,%s,%s,%d,%d\n", what, label, phase, window, iter);
    fflush(stdout);
}

// --- GEMM peak -----------------------------------------------------------------------

typedef struct gemm_case {
    const char *name;
    int64_t M, N, K;
} gemm_case;

/* Times C = A.B with ijepa__matmul_x in noise-checked windows (warm-up, then
 * reps timed calls; a window is retried when noise% > NOISE_MAX); prints one
 * line and returns the median GFLOP/s of the cleanest window. flags 0:
 * float32; IJEPA__MM_BF16 | IJEPA__MM_ONEDNN_BF16: bf16 A and B (float32 C)
 * on oneDNN's bf16 kernel, whatever the library uses in its steps. */
static double bench_gemm(const opts *o, ijepa__ops *ops, const gemm_case *g, int warm, int reps,
                         int flags)
{
    float *A = alloc_floats(g->M * g->K), *B = alloc_floats(g->K * g->N);
    float *C = alloc_floats(g->M * g->N);
    fill(A, g->M * g->K, 1, 1.0f);
    fill(B, g->K * g->N, 2, 1.0f);
    if (flags & IJEPA__MM_BF16) { /* the same values in bf16, in place (front half) */
        ijepa__to_bf16(IJEPA__SIMD_GENERIC, A, (ijepa__bf16 *)(void *)A, g->M * g->K);
        ijepa__to_bf16(IJEPA__SIMD_GENERIC, B, (ijepa__bf16 *)(void *)B, g->K * g->N);
        int rc = ijepa__matmul_x(ops, 1, g->M, g->N, g->K, A, 0, B, 0, NULL, 1.0f, 0, C, flags);
        if (rc == IJEPA_ERR_UNSUPPORTED) { /* e.g. oneDNN 2.6 below AVX-512 */
            printf("  %-20s oneDNN has no bf16 matmul for this ISA\n", g->name);
            free(A);
            free(B);
            free(C);
            return 0.0;
        }
        CHECK(rc);
    }
    double *t = malloc((size_t)reps * sizeof *t);
    if (!t) {
        fprintf(stderr, "bench: out of memory\n");
        exit(1);
    }
    const double flops = 2.0 * (double)g->M * (double)g->N * (double)g->K;
    double best_med = 0, best_min = 0, best_noise = -1;
    int attempt = 0;
    for (; attempt < o->attempts; attempt++) {
        for (int r = 0; r < warm; r++)
            CHECK(ijepa__matmul_x(ops, 1, g->M, g->N, g->K, A, 0, B, 0, NULL, 1.0f, 0, C, flags));
        load_mark m0, m1;
        load_mark_take(&m0);
        for (int r = 0; r < reps; r++) {
            const double t0 = now_s();
            CHECK(ijepa__matmul_x(ops, 1, g->M, g->N, g->K, A, 0, B, 0, NULL, 1.0f, 0, C, flags));
            t[r] = now_s() - t0;
        }
        load_mark_take(&m1);
        const double noise = load_foreign_pct(&m0, &m1);
        const double mn = min_of(t, reps), md = median_of(t, reps);
        if (attempt == 0 || (noise >= 0 && noise < best_noise)) {
            best_med = md;
            best_min = mn;
            best_noise = noise;
        }
        if (noise < 0 || noise <= NOISE_MAX || now_s() - g_start > o->budget)
            break; /* clean, unknown (no /proc), or out of time */
    }
    const int windows = attempt < o->attempts ? attempt + 1 : o->attempts;
    char nz[16], tries[64] = "";
    fmt_noise(nz, sizeof nz, best_noise);
    if (windows > 1)
        snprintf(tries, sizeof tries, "  (%d windows, cleanest shown)", windows);
    printf("  %-20s %5lld x %5lld x %5lld %9.2f ms %8.1f GFLOP/s (best %6.1f)  noise %s%%%s\n",
           g->name, (long long)g->M, (long long)g->N, (long long)g->K, best_med * 1e3,
           flops / best_med * 1e-9, flops / best_min * 1e-9, nz, tries);
    free(t);
    free(A);
    free(B);
    free(C);
    return flops / best_med * 1e-9;
}

// --- encoder configurations -------------------------------------------------------

typedef struct bench_case {
    const char *preset;
    int train; /* 1: TRAIN forward + backward; 0: INFERENCE forward */
    int64_t batch;
} bench_case;

typedef struct row {
    char label[48];
    int train, attempts, precision;
    int64_t batch, tokens;
    double fwd_ms, bwd_ms, step_ms, step_min_ms;
    double gflop; /* per step */
    double enc_bytes, rss_now, rss_peak, noise_pct, create_ms;
} row;

/* Analytic FLOPs per image (see the header comment). */
static void model_flops(int64_t T, int64_t D, int64_t Hd, int64_t L, int64_t C, int64_t p,
                        double *fwd, double *bwd)
{
    const double t = (double)T, d = (double)D, h = (double)Hd, l = (double)L;
    const double patch = 2.0 * d * (double)C * (double)p * (double)p;
    const double linear = 2.0 * (3.0 * d * d + d * d + 2.0 * d * h);
    const double attn = 2.0 * 2.0 * t * d;
    *fwd = t * (patch + l * (linear + attn));
    *bwd = t * (patch + 2.0 * l * (linear + attn));
}

static void apply_settings(ijepa_config *cfg, const char *settings);

static int64_t cfg_int(const ijepa_config *cfg, int32_t key)
{
    int64_t v;
    CHECK(ijepa_config_get_int(cfg, key, &v));
    return v;
}

static void run_case(const opts *o, ijepa_context *ctx, const bench_case *bc, row *rw)
{
    snprintf(rw->label, sizeof rw->label, "%s/%s/%lld", bc->preset,
             bc->train ? "train" : "infer", (long long)bc->batch);
    rw->train = bc->train;
    rw->batch = bc->batch;
    rw->precision = o->precision;

    ijepa_config *cfg;
    CHECK(ijepa_config_create(&cfg));
    CHECK(ijepa_config_apply_preset(cfg, bc->preset));
    CHECK(ijepa_config_set_int(cfg, IJEPA_CFG_IMG_SIZE, 224));
    CHECK(ijepa_config_set_int(cfg, IJEPA_CFG_PATCH_SIZE, 16));
    CHECK(ijepa_config_set_int(cfg, IJEPA_CFG_BATCH_SIZE, bc->batch));
    CHECK(ijepa_config_set_int(cfg, IJEPA_CFG_TRAINABLE, bc->train));
    CHECK(ijepa_config_set_int(cfg, IJEPA_CFG_SEED, 1234));
    CHECK(ijepa_config_set_int(cfg, IJEPA_CFG_PRECISION, o->precision));
    apply_settings(cfg, o->sets);
    ijepa_encoder *enc;
    const double tc = now_s();
    CHECK(ijepa_encoder_create(&enc, ctx, cfg));
    rw->create_ms = (now_s() - tc) * 1e3;
    ijepa_config_free(cfg);

    const ijepa_config *ec = ijepa_encoder_config(enc);
    const int64_t T = ijepa_encoder_num_patches(enc), D = ijepa_encoder_embed_dim(enc);
    const int64_t C = cfg_int(ec, IJEPA_CFG_IN_CHANS), p = cfg_int(ec, IJEPA_CFG_PATCH_SIZE);
    const int64_t img = cfg_int(ec, IJEPA_CFG_IMG_SIZE), L = cfg_int(ec, IJEPA_CFG_DEPTH);
    double ratio;
    CHECK(ijepa_config_get_float(ec, IJEPA_CFG_MLP_RATIO, &ratio));
    const int64_t Hd = (int64_t)((double)D * ratio);
    double f_img, b_img;
    model_flops(T, D, Hd, L, C, p, &f_img, &b_img);
    rw->tokens = bc->batch * T;
    rw->gflop = (double)bc->batch * (f_img + (bc->train ? b_img : 0.0)) * 1e-9;

    const int64_t n_in = bc->batch * C * img * img, n_out = bc->batch * T * D;
    float *images = alloc_floats(n_in), *out = alloc_floats(n_out);
    float *d_out = bc->train ? alloc_floats(n_out) : NULL;
    fill(images, n_in, 7, 1.0f);
    if (d_out)
        fill(d_out, n_out, 8, 1e-3f);

    const int mode = bc->train ? IJEPA_FORWARD_TRAIN : IJEPA_FORWARD_INFERENCE;
    const int n = o->iters;
    double *tf = malloc((size_t)n * sizeof *tf), *tb = malloc((size_t)n * sizeof *tb);
    double *ts = malloc((size_t)n * sizeof *ts);
    if (!tf || !tb || !ts) {
        fprintf(stderr, "bench: out of memory\n");
        exit(1);
    }
    /* warm-up: builds and caches the primitives, touches every buffer */
    if (bc->train)
        CHECK(ijepa_encoder_zero_grad(enc));
    mark(o, "begin", rw->label, "fwd", -1, 0, -1);
    double t0 = now_s();
    CHECK(ijepa_encoder_forward(enc, images, bc->batch, NULL, 0, out, mode));
    mark(o, "end", rw->label, "fwd", -1, 0, (now_s() - t0) * 1e3);
    if (bc->train) {
        mark(o, "begin", rw->label, "bwd", -1, 0, -1);
        t0 = now_s();
        CHECK(ijepa_encoder_backward(enc, d_out));
        mark(o, "end", rw->label, "bwd", -1, 0, (now_s() - t0) * 1e3);
    }
    rw->noise_pct = -1;
    for (int attempt = 0; attempt < o->attempts; attempt++) {
        load_mark m0, m1;
        load_mark_take(&m0);
        for (int it = 0; it < n; it++) {
            if (bc->train) /* untimed (gradients accumulate otherwise) */
                CHECK(ijepa_encoder_zero_grad(enc));
            mark(o, "begin", rw->label, "fwd", attempt, it, -1);
            t0 = now_s();
            CHECK(ijepa_encoder_forward(enc, images, bc->batch, NULL, 0, out, mode));
            const double f = now_s() - t0;
            mark(o, "end", rw->label, "fwd", attempt, it, f * 1e3);
            double b = 0.0;
            if (bc->train) {
                mark(o, "begin", rw->label, "bwd", attempt, it, -1);
                t0 = now_s();
                CHECK(ijepa_encoder_backward(enc, d_out));
                b = now_s() - t0;
                mark(o, "end", rw->label, "bwd", attempt, it, b * 1e3);
            }
            tf[it] = f;
            tb[it] = b;
            ts[it] = f + b;
        }
        load_mark_take(&m1);
        const double noise = load_foreign_pct(&m0, &m1);
        if (o->marks) {
            printf("bench_mark,window,%s,%d,%.1f\n", rw->label, attempt, noise);
            fflush(stdout);
        }
        rw->attempts = attempt + 1; /* windows run so far */
        if (attempt == 0 || (noise >= 0 && noise < rw->noise_pct)) {
            rw->noise_pct = noise;
            rw->step_min_ms = min_of(ts, n) * 1e3;
            rw->fwd_ms = median_of(tf, n) * 1e3;
            rw->bwd_ms = median_of(tb, n) * 1e3;
            rw->step_ms = median_of(ts, n) * 1e3;
        }
        if (noise < 0 || noise <= NOISE_MAX || now_s() - g_start > o->budget)
            break; /* clean, unknown (no /proc), or out of time */
    }
    rw->enc_bytes = (double)ijepa_encoder_memory_bytes(enc);
    rw->rss_now = cur_rss_bytes();
    /* ru_maxrss is sampled lazily by the kernel and can lag the current RSS
     * by a few pages; the true high-water mark is at least both. */
    static double hwm = 0;
    const double pk = peak_rss_bytes();
    if (pk > hwm)
        hwm = pk;
    if (rw->rss_now > hwm)
        hwm = rw->rss_now;
    rw->rss_peak = hwm;

    free(tf);
    free(tb);
    free(ts);
    free(images);
    free(out);
    free(d_out);
    ijepa_encoder_free(enc);
}

// --- whole I-JEPA steps -------------------------------------------------------------------

/* A trainer configuration: "key=value" pairs applied after the preset. */
typedef struct step_case {
    const char *label, *preset, *settings;
} step_case;

static void apply_settings(ijepa_config *cfg, const char *settings)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", settings);
    for (char *tok = strtok(buf, " "); tok; tok = strtok(NULL, " ")) {
        char *eq = strchr(tok, '=');
        int32_t key;
        if (!eq) {
            fprintf(stderr, "bench: bad setting '%s'\n", tok);
            exit(1);
        }
        *eq = '\0';
        CHECK(ijepa_config_key_from_name(tok, &key));
        int64_t named;
        if (ijepa_config_key_type(key) == IJEPA_CFG_TYPE_INT &&
            ijepa_config_value_from_name(key, eq + 1, &named) == IJEPA_OK)
            CHECK(ijepa_config_set_int(cfg, key, named));
        else if (ijepa_config_key_type(key) == IJEPA_CFG_TYPE_INT)
            CHECK(ijepa_config_set_int(cfg, key, strtoll(eq + 1, NULL, 10)));
        else
            CHECK(ijepa_config_set_float(cfg, key, strtod(eq + 1, NULL)));
    }
}

/* Analytic FLOPs of one I-JEPA step (same conventions as model_flops):
 * target encoder forward on all N patches; context encoder forward and
 * backward on Kc; predictor forward and backward on M*B sequences of Kc+Kt
 * tokens (predictor_embed on the Kc context tokens once per image, with an
 * input gradient for the context encoder; predictor_proj on the Kt target
 * tokens of every sequence). */
static double step_flops(const ijepa_config *c, int64_t B, int64_t Kc, int64_t Kt)
{
    double ratio, fwd, bwd, f2, b2;
    CHECK(ijepa_config_get_float(c, IJEPA_CFG_MLP_RATIO, &ratio));
    const int64_t img = cfg_int(c, IJEPA_CFG_IMG_SIZE), p = cfg_int(c, IJEPA_CFG_PATCH_SIZE);
    const int64_t C = cfg_int(c, IJEPA_CFG_IN_CHANS), D = cfg_int(c, IJEPA_CFG_EMBED_DIM);
    const int64_t L = cfg_int(c, IJEPA_CFG_DEPTH), N = (img / p) * (img / p);
    const int64_t Dp = cfg_int(c, IJEPA_CFG_PRED_EMBED_DIM), Lp = cfg_int(c, IJEPA_CFG_PRED_DEPTH);
    const int64_t M = cfg_int(c, IJEPA_CFG_NUM_TARGETS);
    const int64_t Hd = (int64_t)((double)D * ratio), Hdp = (int64_t)((double)Dp * ratio);
    double total = 0;
    model_flops(N, D, Hd, L, C, p, &fwd, &bwd);
    total += (double)B * fwd;
    model_flops(Kc, D, Hd, L, C, p, &fwd, &bwd);
    total += (double)B * (fwd + bwd);
    model_flops(Kc + Kt, Dp, Hdp, Lp, 1, 1, &f2, &b2); /* patch term: negligible 2*Dp */
    total += (double)(M * B) * (f2 + b2);
    total += 3.0 * (double)B * (double)Kc * 2.0 * (double)D * (double)Dp;       /* embed  */
    total += 3.0 * (double)(M * B) * (double)Kt * 2.0 * (double)Dp * (double)D; /* proj   */
    return total;
}

typedef struct step_row {
    char label[48];
    int64_t batch, steps;
    double step_ms, img_s, gflop_s, kc, kt, noise_pct, rss_peak, create_ms;
    int attempts;
    int64_t built; /* primitives created during the reported timed steps */
} step_row;

static void run_step_case(const opts *o, ijepa_context *ctx, const step_case *sc, step_row *rw)
{
    ijepa_config *cfg;
    CHECK(ijepa_config_create(&cfg));
    CHECK(ijepa_config_apply_preset(cfg, sc->preset));
    apply_settings(cfg, sc->settings);
    CHECK(ijepa_config_set_int(cfg, IJEPA_CFG_PRECISION, o->precision));
    apply_settings(cfg, o->sets);
    const int64_t B = cfg_int(cfg, IJEPA_CFG_BATCH_SIZE), img = cfg_int(cfg, IJEPA_CFG_IMG_SIZE);
    const int64_t C = cfg_int(cfg, IJEPA_CFG_IN_CHANS);
    const int n = o->iters < 3 && !o->quick ? 3 : o->iters, warm = o->quick ? 1 : 3;
    CHECK(ijepa_config_set_int(cfg, IJEPA_CFG_TOTAL_STEPS, 1000000));
    snprintf(rw->label, sizeof rw->label, "%s %s", sc->label,
             ijepa_config_value_name(IJEPA_CFG_PRECISION, o->precision));
    rw->batch = B;
    rw->steps = n;
    ijepa_trainer *tr;
    double t0 = now_s();
    CHECK(ijepa_trainer_create(&tr, ctx, cfg));
    rw->create_ms = (now_s() - t0) * 1e3;
    const int64_t nin = B * C * img * img;
    float *images = alloc_floats(nin);
    fill(images, nin, 11, 1.0f);
    double loss, *ts = malloc((size_t)n * sizeof *ts);
    if (!ts) {
        fprintf(stderr, "bench: out of memory\n");
        exit(1);
    }
    for (int i = 0; i < warm; i++) /* first shapes: primitives built, pages touched */
        CHECK(ijepa_trainer_step(tr, images, B, &loss));
    rw->noise_pct = -1;
    ijepa__ops *ops3[3] = {ijepa__encoder_ops(ijepa_trainer_context_encoder(tr)),
                           ijepa__encoder_ops(ijepa_trainer_target_encoder(tr)),
                           ijepa__predictor_ops(ijepa_trainer_predictor(tr))};
    for (int attempt = 0; attempt < o->attempts; attempt++) {
        load_mark m0, m1;
        double flops = 0, secs = 0, kc = 0, kt = 0, v;
        int64_t built0 = 0;
        for (int k = 0; k < 3; k++)
            built0 += ijepa__ops_built(ops3[k]);
        load_mark_take(&m0);
        for (int it = 0; it < n; it++) {
            mark(o, "begin", rw->label, "step", attempt, it, -1);
            t0 = now_s();
            CHECK(ijepa_trainer_step(tr, images, B, &loss));
            ts[it] = now_s() - t0;
            mark(o, "end", rw->label, "step", attempt, it, ts[it] * 1e3);
            secs += ts[it];
            CHECK(ijepa_trainer_stat(tr, IJEPA_STAT_N_CONTEXT, &v));
            kc += v;
            const int64_t ikc = (int64_t)v;
            CHECK(ijepa_trainer_stat(tr, IJEPA_STAT_N_TARGET, &v));
            kt += v;
            flops += step_flops(cfg, B, ikc, (int64_t)v);
        }
        load_mark_take(&m1);
        const double noise = load_foreign_pct(&m0, &m1);
        rw->attempts = attempt + 1;
        if (attempt == 0 || (noise >= 0 && noise < rw->noise_pct)) {
            rw->built = -built0;
            for (int k = 0; k < 3; k++)
                rw->built += ijepa__ops_built(ops3[k]);
            rw->noise_pct = noise;
            rw->step_ms = median_of(ts, n) * 1e3;
            rw->img_s = (double)(B * n) / secs;
            rw->gflop_s = flops / secs * 1e-9;
            rw->kc = kc / n;
            rw->kt = kt / n;
        }
        if (noise < 0 || noise <= NOISE_MAX || now_s() - g_start > o->budget)
            break;
    }
    rw->rss_peak = peak_rss_bytes();
    if (cur_rss_bytes() > rw->rss_peak)
        rw->rss_peak = cur_rss_bytes();
    free(ts);
    free(images);
    ijepa_trainer_free(tr);
    ijepa_config_free(cfg);
}

/* ViT-S/16 with the predictor of every released I-JEPA model (384 wide,
 * 12 deep), and the Fashion-MNIST recipe of examples/trainloop.h. */
static const step_case STEPS_FULL[] = {
    {"ijepa vit_small/16", "vit_small",
     "img_size=224 patch_size=16 pred_embed_dim=384 pred_depth=12 batch_size=16"},
    {"ijepa fmnist/128", "vit_tiny",
     "img_size=28 patch_size=2 in_chans=1 embed_dim=128 depth=4 num_heads=4 "
     "patch_init_std=0.5 pred_embed_dim=64 pred_depth=2 pred_num_heads=4 batch_size=128 "
     "min_keep=4"},
};
static const step_case STEPS_QUICK[] = {
    {"ijepa vit_small/2", "vit_small",
     "img_size=224 patch_size=16 pred_embed_dim=384 pred_depth=2 batch_size=2"},
    {"ijepa fmnist/16", "vit_tiny",
     "img_size=28 patch_size=2 in_chans=1 embed_dim=128 depth=4 num_heads=4 "
     "pred_embed_dim=64 pred_depth=2 pred_num_heads=4 batch_size=16 min_keep=4"},
};

/* --child-step i: case i alone, its row as one line for the parent. */
static int child_step(const opts *o)
{
    const step_case *cases = o->quick ? STEPS_QUICK : STEPS_FULL;
    if (o->child_step < 0 || o->child_step > 1)
        return 2;
    ijepa_context *ctx;
    CHECK(ijepa_context_create(&ctx));
    step_row r;
    run_step_case(o, ctx, &cases[o->child_step], &r);
    printf("BENCH_STEP_ROW %lld %.3f %.3f %.3f %.4f %.3f %.3f %d %.3f %lld\n", (long long)r.batch,
           r.kc, r.kt, r.step_ms, r.img_s, r.gflop_s, r.noise_pct, r.attempts, r.rss_peak,
           (long long)r.built);
    ijepa_context_free(ctx);
    return 0;
}

/* Run case i in precision prec in a fresh process (this program with
 * --child-step); the child's other output (ONEDNN_VERBOSE lines, phase
 * marks) passes through. Returns 0 and the row, or -1. */
static int spawn_step(const opts *o, int i, int prec, step_row *r)
{
    char num[16], it[16], tr[16], bu[16];
    snprintf(num, sizeof num, "%d", i);
    snprintf(it, sizeof it, "%d", o->iters);
    snprintf(tr, sizeof tr, "%d", o->attempts);
    snprintf(bu, sizeof bu, "%d", o->budget);
    char *args[64];
    int n = 0;
    args[n++] = o->argv[0];
    args[n++] = "--child-step";
    args[n++] = num;
    args[n++] = "--precision";
    args[n++] = (char *)ijepa_config_value_name(IJEPA_CFG_PRECISION, prec);
    args[n++] = "--iters";
    args[n++] = it;
    args[n++] = "--tries";
    args[n++] = tr;
    args[n++] = "--budget";
    args[n++] = bu;
    if (o->quick)
        args[n++] = "--quick";
    char sets[sizeof o->sets];
    snprintf(sets, sizeof sets, "%s", o->sets);
    for (char *tok = strtok(sets, " "); tok && n < 60; tok = strtok(NULL, " ")) {
        args[n++] = "--set";
        args[n++] = tok;
    }
    args[n] = NULL;
    int fd[2];
    if (pipe(fd) != 0)
        return -1;
    fflush(stdout);
    const pid_t pid = fork(); /* exec right away: the child runs no library code */
    if (pid < 0)
        return -1;
    if (pid == 0) {
        dup2(fd[1], 1);
        close(fd[0]);
        close(fd[1]);
        execv("/proc/self/exe", args);
        _exit(127);
    }
    close(fd[1]);
    FILE *f = fdopen(fd[0], "r");
    char line[4096];
    int got = 0;
    while (f && fgets(line, sizeof line, f)) {
        long long batch, built;
        if (sscanf(line, "BENCH_STEP_ROW %lld %lf %lf %lf %lf %lf %lf %d %lf %lld", &batch,
                   &r->kc, &r->kt, &r->step_ms, &r->img_s, &r->gflop_s, &r->noise_pct,
                   &r->attempts, &r->rss_peak, &built) == 10) {
            r->batch = batch;
            r->built = built;
            got = 1;
        } else {
            fputs(line, stdout);
        }
    }
    if (f)
        fclose(f);
    int status;
    waitpid(pid, &status, 0);
    return got && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static void run_steps(const opts *o, double peak, double peak16, int native16)
{
    const step_case *cases = o->quick ? STEPS_QUICK : STEPS_FULL;
    int header = 0;
    for (int i = 0; i < 2; i++) {
        if (o->only && !strstr(cases[i].label, o->only))
            continue;
        for (int prec = 0; prec < 2; prec++) {
            if (!(o->precisions & (1 << prec)))
                continue;
            if (!header) {
                printf("\nwhole I-JEPA training steps (ijepa_trainer_step: masks, target forward, "
                       "context forward+backward,\npredictor forward+backward, loss, AdamW, EMA; "
                       "uniform masks, so Kc and Kt vary by step; GFLOP/s = analytic\nFLOPs of the "
                       "steps run / their time, %%peak against the GEMM peak of the row's\n"
                       "precision; each row in a fresh process: peak MiB is the configuration's "
                       "own; built =\ncompute primitives the three models created during the "
                       "timed steps, 0 once every shape\nis cached)\n\n");
                printf("%-20s %4s %5s %6s %6s %9s %8s %8s %6s %6s %5s %9s %6s\n", "config",
                       "prec", "batch", "Kc", "Kt", "step ms", "img/s", "GFLOP/s", "%peak",
                       "noise%", "tries", "peak MiB", "built");
                header = 1;
            }
            step_row r;
            memset(&r, 0, sizeof r);
            if (spawn_step(o, i, prec, &r) < 0) {
                fprintf(stderr, "bench: the step configuration '%s' (%s) failed\n",
                        cases[i].label, ijepa_config_value_name(IJEPA_CFG_PRECISION, prec));
                exit(1);
            }
            const double pk_ref = prec == IJEPA_PRECISION_BF16 && native16 ? peak16 : peak;
            char pk[16], nz[16];
            if (pk_ref > 0)
                snprintf(pk, sizeof pk, "%6.1f", 100.0 * r.gflop_s / pk_ref);
            else
                snprintf(pk, sizeof pk, "%6s", "-");
            fmt_noise(nz, sizeof nz, r.noise_pct);
            printf("%-20s %4s %5lld %6.1f %6.1f %9.1f %8.2f %8.1f %s %6s %5d %9.1f %6lld\n",
                   cases[i].label, ijepa_config_value_name(IJEPA_CFG_PRECISION, prec),
                   (long long)r.batch, r.kc, r.kt, r.step_ms, r.img_s, r.gflop_s, pk, nz,
                   r.attempts, mib(r.rss_peak), (long long)r.built);
            fflush(stdout);
        }
    }
}

static void print_row_header(void)
{
    printf("%-20s %4s %5s %8s %9s %9s %9s %9s %8s %8s %8s %6s %6s %5s\n", "config", "prec", "batch",
           "tok/step", "fwd ms", "bwd ms", "step ms", "min ms", "img/s", "tok/s", "GFLOP/s",
           "%peak", "noise%", "tries");
}

static void print_row(const row *r, double peak)
{
    const double s = r->step_ms * 1e-3;
    const double gfs = r->gflop / s;
    char bwd[16], pk[16], nz[16];
    if (r->train)
        snprintf(bwd, sizeof bwd, "%9.1f", r->bwd_ms);
    else
        snprintf(bwd, sizeof bwd, "%9s", "-");
    if (peak > 0)
        snprintf(pk, sizeof pk, "%6.1f", 100.0 * gfs / peak);
    else
        snprintf(pk, sizeof pk, "%6s", "-");
    fmt_noise(nz, sizeof nz, r->noise_pct);
    printf("%-20s %4s %5lld %8lld %9.1f %s %9.1f %9.1f %8.2f %8.0f %8.1f %s %6s %5d\n", r->label,
           ijepa_config_value_name(IJEPA_CFG_PRECISION, r->precision), (long long)r->batch, (long long)r->tokens, r->fwd_ms, bwd, r->step_ms,
           r->step_min_ms, (double)r->batch / s, (double)r->tokens / s, gfs, pk, nz,
           r->attempts);
    fflush(stdout);
}

// --- main -------------------------------------------------------------------------------

int main(int argc, char **argv)
{
    g_start = now_s();
    opts o;
    parse_opts(&o, argc, argv);
    if (o.child_step >= 0) {
        o.precision = o.precisions == 2 ? IJEPA_PRECISION_BF16 : IJEPA_PRECISION_F32;
        return child_step(&o);
    }

    ijepa_context *ctx;
    CHECK(ijepa_context_create(&ctx));

    printf("libijepa %s benchmark%s: %d timed iteration%s per configuration "
           "(after 1 warm-up), median reported\n",
           ijepa_version_string(), o.quick ? " (--quick)" : "", o.iters,
           o.iters == 1 ? "" : "s");

    /* GEMM peaks, on their own engine and primitive cache. This also runs the
     * first oneDNN primitive, after which the effective ISA is final. */
    double peak = 0.0, peak16 = 0.0;
    int native16 = 0;
    {
        ijepa__err err = {0};
        ijepa__engine *eng;
        ijepa__ops *ops;
        CHECK(ijepa__engine_create(&eng, &err));
        CHECK(ijepa__ops_create(&ops, eng, 8, &err));
        if (o.gemm) {
            static const gemm_case cases[] = {
                {"square", 2048, 2048, 2048},
                {"ViT-S fc1 (16 img)", 3136, 1536, 384},
                {"ViT-S fc2 (16 img)", 3136, 384, 1536},
            };
            const int warm = o.quick ? 1 : 2, reps = o.quick ? 2 : 10;
            printf("\noneDNN f32 GEMM via ijepa__matmul (M x N x K; median of %d after %d "
                   "warm-up):\n",
                   reps, warm);
            for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                const double g = bench_gemm(&o, ops, &cases[i], warm, reps, 0);
                if (g > peak)
                    peak = g;
            }
            printf("  peak (highest median) = %.1f GFLOP/s\n", peak);
            printf("\noneDNN bf16 GEMM (bf16 A, B; float32 C, float32 accumulation) via "
                   "ijepa__matmul_x on oneDNN's bf16 kernel:\n");
            for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                const double g = bench_gemm(&o, ops, &cases[i], warm, reps,
                                            IJEPA__MM_BF16 | IJEPA__MM_ONEDNN_BF16);
                if (g > peak16)
                    peak16 = g;
            }
            printf("  peak (highest median) = %.1f GFLOP/s, %.2fx the f32 peak\n", peak16,
                   peak > 0 ? peak16 / peak : 0.0);
        } else {
            float a = 1.0f, b = 1.0f, c = 0.0f; /* one primitive, for the ISA query */
            CHECK(ijepa__matmul(ops, 1, 1, 1, 1, &a, 0, &b, 0, NULL, 1.0f, 0, &c));
        }
        native16 = ijepa__ops_bf16_native(ops);
        ijepa__ops_free(ops);
        ijepa__engine_free(eng);
    }

    char model[256] = "?";
    FILE *ci = fopen("/proc/cpuinfo", "r");
    char line[512];
    while (ci && fgets(line, sizeof line, ci))
        if (!strncmp(line, "model name", 10) && strchr(line, ':')) {
            snprintf(model, sizeof model, "%s", strchr(line, ':') + 2);
            model[strcspn(model, "\n")] = '\0';
            break;
        }
    if (ci)
        fclose(ci);
    int vmaj, vmin, vpat;
    ijepa__engine_version(&vmaj, &vmin, &vpat);
    printf("\nversions: libijepa %s, oneDNN %d.%d.%d, compiler %s; cpu: %s\n",
           ijepa_version_string(), vmaj, vmin, vpat, __VERSION__, model);
    const char *omp = getenv("OMP_NUM_THREADS");
    printf("machine: cpu isa %s, %d thread%s (OMP_NUM_THREADS=%s, OMP_WAIT_POLICY=%s)\n",
           ijepa_context_cpu_isa(ctx), (int)ijepa_context_num_threads(ctx),
           ijepa_context_num_threads(ctx) == 1 ? "" : "s", omp ? omp : "unset",
           getenv("OMP_WAIT_POLICY") ? getenv("OMP_WAIT_POLICY") : "unset");
    /* each configuration's process inherits this one's CPU mask: one that
     * libgomp narrowed (OMP_PROC_BIND / OMP_PLACES bind this main thread to
     * one place at start), or a restricted or oversubscribed one, puts more
     * threads than CPUs on every whole step */
    cpu_set_t cpus;
    const int nthr = (int)ijepa_context_num_threads(ctx);
    if (sched_getaffinity(0, sizeof cpus, &cpus) == 0 && CPU_COUNT(&cpus) < nthr) {
        const int ncpu = CPU_COUNT(&cpus);
        if (getenv("OMP_PROC_BIND") || getenv("OMP_PLACES"))
            printf("warning: %d threads on %d CPU%s: OMP_PROC_BIND=%s OMP_PLACES=%s bound this "
                   "process's main thread, and the whole-step (ijepa) rows, each in a process "
                   "of its own, inherit that mask; unset both to measure the machine\n",
                   nthr, ncpu, ncpu == 1 ? "" : "s",
                   getenv("OMP_PROC_BIND") ? getenv("OMP_PROC_BIND") : "unset",
                   getenv("OMP_PLACES") ? getenv("OMP_PLACES") : "unset");
        else
            printf("note: %d threads on %d CPU%s (a restricted CPU mask, or more threads than "
                   "CPUs)\n", nthr, ncpu, ncpu == 1 ? "" : "s");
    }
    printf("precision: %s; bf16 matmuls here: %s\n",
           o.precisions == 3 ? "f32 and bf16" : o.precisions == 2 ? "bf16" : "f32",
           ijepa_context_precision_native(ctx, IJEPA_PRECISION_BF16) == 1
               ? "native, oneDNN bf16 kernels (% of peak: of the bf16 GEMM peak)"
               : "emulated, float32 GEMMs on bf16-rounded operands (% of peak: of the f32 "
                 "GEMM peak)");

    static const bench_case full[] = {
        {"vit_tiny", 1, 16},  {"vit_tiny", 1, 32},  {"vit_small", 1, 8},
        {"vit_small", 1, 16}, {"vit_small", 0, 16},
    };
    static const bench_case quick[] = {
        {"vit_tiny", 1, 2}, {"vit_small", 1, 2}, {"vit_small", 0, 2},
    };
    const bench_case *cases = o.quick ? quick : full;
    const size_t ncases = o.quick ? sizeof quick / sizeof quick[0] : sizeof full / sizeof full[0];
    row rows[2 * sizeof full / sizeof full[0]];
    size_t nrows = 0;

    printf("\nencoder, img 224, patch 16 (196 tokens/image); train = TRAIN forward + "
           "backward, infer = INFERENCE forward\n"
           "(ms: median; min ms: fastest step; GFLOP/s from the median step and the "
           "analytic FLOP count;\n"
           " noise%%: CPU used by other processes + steal during the timed iterations, in %% "
           "of the machine;\n"
           " tries: timed windows run, a window with noise%% > %.0f is retried, at most %d times "
           "in all and\n not after %d s of run time; the cleanest is shown)\n\n",
           NOISE_MAX, o.attempts, o.budget);
    print_row_header();
    for (int prec = 0; prec < 2; prec++) {
        if (!(o.precisions & (1 << prec)))
            continue;
        o.precision = prec;
        for (size_t i = 0; i < ncases; i++) {
            row *r = &rows[nrows];
            char label[48];
            snprintf(label, sizeof label, "%s/%s/%lld", cases[i].preset,
                     cases[i].train ? "train" : "infer", (long long)cases[i].batch);
            if (o.only && !strstr(label, o.only))
                continue;
            run_case(&o, ctx, &cases[i], r);
            print_row(r, prec == IJEPA_PRECISION_BF16 && native16 ? peak16 : peak);
            nrows++;
        }
    }

    printf("\nmemory (configurations run in the order above; peak RSS is the process's "
           "high-water mark so far)\n");
    printf("%-20s %4s %12s %12s %16s %10s\n", "config", "prec", "encoder MiB", "RSS MiB",
           "peak RSS so far", "create ms");
    for (size_t i = 0; i < nrows; i++)
        printf("%-20s %4s %12.1f %12.1f %16.1f %10.0f\n", rows[i].label,
               ijepa_config_value_name(IJEPA_CFG_PRECISION, rows[i].precision),
               mib(rows[i].enc_bytes), mib(rows[i].rss_now), mib(rows[i].rss_peak),
               rows[i].create_ms);
    printf("(encoder MiB = ijepa_encoder_memory_bytes; RSS MiB = resident while that "
           "encoder was alive;\n create ms = ijepa_encoder_create, parameter init included)\n");
    run_steps(&o, peak, peak16, native16);
    printf("\ntotal bench time %.1f s\n", now_s() - g_start);

    ijepa_context_free(ctx);
    return 0;
}
