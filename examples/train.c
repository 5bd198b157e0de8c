/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * ijepa-train: I-JEPA pretraining from the command line.
 *
 * The data is Fashion-MNIST (--fmnist DIR, the default, with Debian's
 * dataset-fashion-mnist) or a folder of .png/.jpg/.jpeg images, searched
 * recursively (--data DIR, read by the library's dataset handle on
 * background threads). The run's configuration is a library preset (--preset;
 * "fmnist" for Fashion-MNIST, "folder" for a folder by default) changed by
 * the options below, which mean the same with either data (but --limit,
 * Fashion-MNIST's only: the dataset takes a folder whole); every image goes
 * through the library's transform of that configuration. Writes to --out:
 * log.csv, loss.png, masks.png and checkpoint.safetensors (both encoders,
 * predictor, optimizer state, step and configuration: docs/checkpoint.md).
 * ijepa-probe --run OUT scores what it learnt.
 *
 * Under mpirun it trains data-parallel, one rank per process, with the same
 * result as one process (docs/distributed.md): the MPI layer is
 * examples/dist_mpi.c, linked into ijepa-train-mpi; ijepa-train started by
 * mpirun runs that program in its place (examples/dist_local.c).
 */
#define _POSIX_C_SOURCE 200809L
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "dist.h"
#include "fmnist.h"
#include "trainloop.h"

/* The options that change the configuration, in their order. */
static void set_options(ijepa_config *cfg, int64_t batch, int64_t seed, double crop,
                        const char *const *sets, int nsets)
{
    if (batch > 0)
        CHECK(ijepa_config_set_int(cfg, IJEPA_CFG_BATCH_SIZE, batch));
    if (seed >= 0)
        CHECK(ijepa_config_set_int(cfg, IJEPA_CFG_SEED, seed));
    if (crop > 0) {
        CHECK(ijepa_config_set_int(cfg, IJEPA_CFG_DATA_TRANSFORM, IJEPA_DATA_TRAIN));
        CHECK(ijepa_config_set_float(cfg, IJEPA_CFG_DATA_CROP_SCALE_MIN, crop));
    } else if (crop == 0) {
        CHECK(ijepa_config_set_int(cfg, IJEPA_CFG_DATA_TRANSFORM, IJEPA_DATA_EVAL));
    }
    for (int i = 0; i < nsets; i++)
        ex_set(cfg, sets[i]);
}

/* 1 if a --set setting names key: one of its "key=value" lines. */
static int sets_key(const char *const *sets, int nsets, int32_t key)
{
    const char *name = ijepa_config_key_name(key);
    const size_t len = strlen(name);
    for (int i = 0; i < nsets; i++)
        for (const char *line = sets[i]; line;) {
            line += strspn(line, " \t");
            if (!strncmp(line, name, len) && line[len + strspn(line + len, " \t")] == '=')
                return 1;
            line = strchr(line, '\n');
            line = line ? line + 1 : NULL;
        }
    return 0;
}

/* A key's value as text, for messages: the name of a named value, else the
 * number (floats with the digits that give it back). */
static void key_text(const ijepa_config *cfg, int32_t key, char *buf, size_t n)
{
    if (ijepa_config_key_type(key) == IJEPA_CFG_TYPE_INT) {
        int64_t v;
        CHECK(ijepa_config_get_int(cfg, key, &v));
        const char *name = ijepa_config_value_name(key, v);
        if (name)
            snprintf(buf, n, "%s", name);
        else
            snprintf(buf, n, "%lld", (long long)v);
    } else {
        double v;
        CHECK(ijepa_config_get_float(cfg, key, &v));
        snprintf(buf, n, "%.15g", v);
        if (strtod(buf, NULL) != v)
            snprintf(buf, n, "%.17g", v);
    }
}

/* Resuming: the options may change the training, data and runtime keys of
 * the file's configuration, not what the trained model is. A model key the
 * command line (--set, --seed) gives another value is a usage error. */
static void check_model_keys(const ijepa_config *file, const ijepa_config *cfg, const char *path)
{
    for (int32_t i = 0; i < ijepa_config_key_count(); i++) {
        const int32_t key = ijepa_config_key_at(i);
        if (ijepa_config_key_class(key) != IJEPA_CFG_CLASS_MODEL)
            continue;
        char a[64], b[64];
        key_text(file, key, a, sizeof a);
        key_text(cfg, key, b, sizeof b);
        if (strcmp(a, b))
            ex_usage_error("--resume: %s is %s in %s, %s on this command line: a model key "
                           "cannot change on resume", ijepa_config_key_name(key), a, path, b);
    }
}

/*
 * The run's schedule, once `stop` (the step the run trains until) is known;
 * `how` says where stop came from, for messages ("--steps 20"). An explicit
 * --set total_steps=T is the schedule: the run stops at or before T. Else
 * total_steps becomes stop. An explicit --set warmup_steps=W must fit in
 * total_steps; else a warmup longer than total_steps (the presets' 100 in a
 * 20-step run) becomes total_steps / 10.
 */
static void set_schedule(ijepa_config *cfg, int64_t stop, const char *how, int set_total,
                         int set_warm)
{
    int64_t total, warm;
    CHECK(ijepa_config_get_int(cfg, IJEPA_CFG_TOTAL_STEPS, &total));
    CHECK(ijepa_config_get_int(cfg, IJEPA_CFG_WARMUP_STEPS, &warm));
    if (set_total && stop > total)
        ex_usage_error("%s goes past total_steps %lld (--set total_steps), where the "
                       "schedule ends: train to step %lld at most, or set a larger "
                       "total_steps", how, (long long)total, (long long)total);
    if (!set_total) {
        total = stop;
        CHECK(ijepa_config_set_int(cfg, IJEPA_CFG_TOTAL_STEPS, total));
    }
    if (warm > total && set_warm)
        ex_usage_error("warmup_steps %lld (--set warmup_steps) exceeds total_steps %lld, "
                       "set by %s", (long long)warm, (long long)total,
                       set_total ? "--set total_steps" : how);
    if (warm > total)
        CHECK(ijepa_config_set_int(cfg, IJEPA_CFG_WARMUP_STEPS, total / 10));
}

/* What creating the trainer would allocate (and, resuming, whether ck has
 * every tensor it needs). The schedule does not change the memory: while
 * the run's length is unknown (--epochs, before the data is read), a
 * warmup longer than total_steps is not an error yet. */
static int64_t trainer_bytes(ijepa_checkpoint *ck, const ijepa_config *cfg)
{
    ijepa_config *c;
    int64_t total, warm, bytes;
    CHECK(ijepa_config_copy(&c, cfg));
    CHECK(ijepa_config_get_int(c, IJEPA_CFG_TOTAL_STEPS, &total));
    CHECK(ijepa_config_get_int(c, IJEPA_CFG_WARMUP_STEPS, &warm));
    if (warm > total)
        CHECK(ijepa_config_set_int(c, IJEPA_CFG_TOTAL_STEPS, warm));
    ex_check_config(ck ? ijepa_trainer_check(ck, c, &bytes)
                       : ijepa_trainer_estimate_bytes(c, &bytes));
    ijepa_config_free(c);
    return bytes;
}

/* What the trainer's parts check only when used: the mask sampler's and
 * the optimizer's keys (at the trainer's creation) and the image transform
 * the data goes through (at the first image). Checked before the data is
 * read, so that a configuration they refuse is a bad command line (exit 2),
 * as the model's keys are. */
static void check_parts(const ijepa_config *cfg, int64_t chans)
{
    ijepa_mask_sampler *ms;
    ijepa_optimizer *opt;
    ex_check_config(ijepa_mask_sampler_create(&ms, cfg));
    ijepa_mask_sampler_free(ms);
    ex_check_config(ijepa_optimizer_create(&opt, cfg));
    ijepa_optimizer_free(opt);
    int64_t size, mode;
    CHECK(ijepa_config_get_int(cfg, IJEPA_CFG_IMG_SIZE, &size));
    CHECK(ijepa_config_get_int(cfg, IJEPA_CFG_DATA_TRANSFORM, &mode));
    const uint8_t pixel[3] = {0, 0, 0};
    ijepa_image *img;
    CHECK(ijepa_image_from_pixels(&img, pixel, 1, 1, chans));
    float *x = ex_malloc((size_t)(chans * size * size) * sizeof *x);
    ex_check_config(mode == IJEPA_DATA_TRAIN ? ijepa_image_transform_train(img, cfg, 0, x)
                                             : ijepa_image_transform_eval(img, cfg, x));
    free(x);
    ijepa_image_free(img);
}

static void usage(FILE *f)
{
    fprintf(f,
        "usage: ijepa-train [--fmnist DIR | --data DIR] [--preset NAME] [--set KEY=VALUE]...\n"
        "                   [--steps N | --epochs E] [--batch B] [--seed S] [--crop S]\n"
        "                   [--limit N] [--threads T] [--out DIR] [--save-every K]\n"
        "                   [--resume PATH] [--max-memory SIZE] [--quiet] [--check-every K]\n"
        "                   [--mpi-timeout S]\n"
        "       ijepa-train --help | --version\n"
        "Pretrain a Vision Transformer with I-JEPA (libijepa).\n"
        "data (one of):\n"
        FMNIST_HELP
        "  --data DIR       every .png/.jpg/.jpeg below DIR; a bad file stops the run with its\n"
        "                   name (--set data_on_error=1 skips and counts it instead)\n"
        "configuration (applied in this order):\n"
        "  --preset NAME    a library preset (default: fmnist, or folder with --data)\n"
        "  --batch B        batch_size\n"
        "  --seed S         seed (parameters, masks, data order, crops)\n"
        "  --crop S         RandomResizedCrop with scale (S, 1) on every training image:\n"
        "                   data_transform=0 data_crop_scale_min=S; 0: no random crop, the\n"
        "                   evaluation resize instead (data_transform=1)\n"
        "  --set KEY=VALUE  any config key (include/ijepa/config.h), e.g. --set lr=5e-4\n");
    ex_print_value_names(f, "                   ");
    fprintf(f,
        "training:\n"
        "  --steps N        train until step N (default: E epochs, or total_steps when\n"
        "                   --set or --resume gives it)\n"
        "  --epochs E       train E passes over the data (default 1)\n"
        "  --limit N        only the first N Fashion-MNIST training images (not with\n"
        "                   --data, which takes a folder whole: exit 2)\n"
        "  --threads T      OpenMP threads (default OMP_NUM_THREADS or all cores)\n"
        "  --out DIR        write log.csv, loss.png, masks.png, checkpoint.safetensors\n"
        "                   to DIR, created with any missing parent (mkdir -p)\n"
        "  --save-every K   also save the checkpoint every K steps, atomically (needs --out)\n"
        "  --resume PATH    continue the run saved in PATH, to --steps N (default: its\n"
        "                   total_steps). The file gives the model, training and data keys:\n"
        "                   --set, --crop may change the training and data keys, not the\n"
        "                   model's (an error, exit 2). The runtime keys (batch_size,\n"
        "                   precision, data_* limits, workers) are this command line's:\n"
        "                   --preset's (only those), --batch, --set. With the first run's\n"
        "                   --preset, --batch and precision (--set precision=...), data\n"
        "                   and threads it gives the bits of the uninterrupted run (a note\n"
        "                   says when batch_size or precision differ from the file's); with\n"
        "                   --out, log.csv continues (rows past the saved step go)\n"
        EX_MAX_MEMORY_HELP("                   ")
        "  --quiet          no progress output\n"
        "  --help           print this help and exit\n"
        "  --version        print the version and exit\n"
        "data-parallel, under mpirun (docs/distributed.md; --batch is the global batch,\n"
        "--threads the threads of each rank; rank 0 prints and writes --out). It needs\n"
        "ijepa-train-mpi next to ijepa-train: make builds it in the source tree when it\n"
        "finds mpicc; make install does not install it:\n"
        "  --check-every K  compare the ranks' states every K steps (default 1000; 0: only\n"
        "                   at the start and the end)\n"
        "  --mpi-timeout S  give up when the other ranks have not answered for S seconds\n"
        "                   plus 4 x the longest step (default 600; 0: wait forever)\n"
        "The schedule (learning rate, weight decay, EMA momentum) spans total_steps. Set\n"
        "explicitly (--set total_steps=T), it is kept: the run stops at --steps N <= T.\n"
        "Else total_steps is the run's length (--steps N, --epochs E, or with --resume the\n"
        "file's). A warmup_steps longer than total_steps becomes total_steps / 10 unless\n"
        "it was set explicitly (--set warmup_steps=W), which must then fit (exit 2).\n"
        "An option's value may also follow an '=': --steps=100.\n"
        "presets:\n");
    ex_print_presets(f);
    ex_print_exit_status(f);
}

int main(int argc, char **argv)
{
    ex_prog = "ijepa-train";
    ex_dist *dist = ex_dist_init(&argc, &argv); /* NULL: this process trains alone */
    const char *fmnist_dir = NULL, *data_dir = NULL, *preset = NULL, *out = NULL;
    const char *resume = NULL, *sets[256];
    int64_t steps = 0, batch = 0, seed = -1, limit = 0, threads = 0, save_every = 0;
    int64_t max_memory = EX_MAX_MEMORY_DEFAULT;
    int64_t check_every = -1;
    double mpi_timeout = -1;
    double epochs = 0, crop = -1;
    int quiet = 0, nsets = 0;
    ex_args a;
    ex_args_init(&a, argc, argv, usage);
    while (ex_args_next(&a)) {
        const char *v;
        if (ex_flag(&a, "--quiet"))
            quiet = 1;
        else if ((v = ex_value(&a, "--fmnist")))
            fmnist_dir = v;
        else if ((v = ex_value(&a, "--data")))
            data_dir = v;
        else if ((v = ex_value(&a, "--preset")))
            preset = v;
        else if ((v = ex_value(&a, "--set"))) {
            if (nsets == 256)
                ex_usage_error("more than 256 --set options");
            sets[nsets++] = v;
        } else if ((v = ex_value(&a, "--steps")))
            steps = ex_int(a.opt, v, 1, (int64_t)1 << 40);
        else if ((v = ex_value(&a, "--epochs")))
            epochs = ex_float(a.opt, v, 1e-6, 1e6);
        else if ((v = ex_value(&a, "--batch")))
            batch = ex_int(a.opt, v, 1, 65536);
        else if ((v = ex_value(&a, "--seed")))
            seed = ex_int(a.opt, v, 0, INT64_MAX);
        else if ((v = ex_value(&a, "--crop")))
            crop = ex_float(a.opt, v, 0, 1);
        else if ((v = ex_value(&a, "--limit")))
            limit = ex_int(a.opt, v, 1, INT64_MAX);
        else if ((v = ex_value(&a, "--threads")))
            threads = ex_int(a.opt, v, 1, 4096);
        else if ((v = ex_value(&a, "--out")))
            out = v;
        else if ((v = ex_value(&a, "--save-every")))
            save_every = ex_int(a.opt, v, 1, INT64_MAX);
        else if ((v = ex_value(&a, "--resume")))
            resume = v;
        else if ((v = ex_value(&a, "--check-every")))
            check_every = ex_int(a.opt, v, 0, INT64_MAX);
        else if ((v = ex_value(&a, "--mpi-timeout")))
            mpi_timeout = ex_float(a.opt, v, 0, 1e9);
        else if ((v = ex_value(&a, "--max-memory")))
            max_memory = ex_size(a.opt, v);
        else {
            ex_renamed(&a, "--config", "--preset");
            ex_unknown(&a);
        }
    }
    if (fmnist_dir && data_dir)
        ex_usage_error("give --fmnist or --data, not both");
    if (steps > 0 && epochs > 0)
        ex_usage_error("give --steps or --epochs, not both");
    if (data_dir && limit > 0)
        ex_usage_error("--limit takes the first N Fashion-MNIST images; a folder is used "
                       "whole (point --data at a smaller one)");
    if (save_every > 0 && !out)
        ex_usage_error("--save-every saves DIR/checkpoint.safetensors: give --out DIR too");
    const int folder = data_dir != NULL;
    if (!folder && !fmnist_dir)
        fmnist_dir = fmnist_default_dir();
    if (threads > 0)
        omp_set_num_threads((int)threads); /* the host owns the thread count */
    if (dist && check_every >= 0)
        dist->check_every = check_every;
    if (dist && mpi_timeout >= 0)
        dist->timeout = mpi_timeout;
    const int root = !dist || dist->rank == 0;

    /* the configuration: the command line's (a preset, then the options) */
    const char *preset_name = preset ? preset : folder ? "folder" : "fmnist";
    ijepa_config *cl, *cfg;
    CHECK(ijepa_config_create(&cl));
    if (ijepa_config_apply_preset(cl, preset_name) < 0)
        ex_usage_error("%s", ijepa_last_error());
    set_options(cl, batch, seed, crop, sets, nsets);
    ijepa_checkpoint *ck = NULL;
    if (resume) {
        /* the file's model, training and data keys, changed by the options
         * (--set, --crop, ...) but for the model keys, which must stay the
         * file's; the runtime keys (batch_size, data_* limits, workers,
         * precision, ...) are the command line's (its preset and options),
         * never the file's: a checkpoint does not choose this process's
         * resources. The preset gives only those. */
        ijepa_config *file;
        CHECK(ijepa_checkpoint_open(&ck, resume));
        CHECK(ijepa_checkpoint_config(ck, &file));
        CHECK(ijepa_config_copy(&cfg, file));
        set_options(cfg, batch, seed, crop, sets, nsets);
        check_model_keys(file, cfg, resume);
        ijepa_config_free(file);
        /* the runtime keys that change the numbers, when the options did
         * not give them: said */
        int64_t fb, cb;
        char fp[64], cp[64];
        CHECK(ijepa_config_get_int(cfg, IJEPA_CFG_BATCH_SIZE, &fb));
        key_text(cfg, IJEPA_CFG_PRECISION, fp, sizeof fp);
        ex_copy_class(cfg, cl, IJEPA_CFG_CLASS_RUNTIME);
        CHECK(ijepa_config_get_int(cfg, IJEPA_CFG_BATCH_SIZE, &cb));
        key_text(cfg, IJEPA_CFG_PRECISION, cp, sizeof cp);
        if (fb != cb && !quiet)
            fprintf(stderr, "ijepa-train: note: batch_size %lld (this command line's) is not "
                            "the file's %lld: the batches differ from the uninterrupted run's "
                            "(--batch %lld continues it exactly)\n",
                    (long long)cb, (long long)fb, (long long)fb);
        if (strcmp(fp, cp) && !quiet)
            fprintf(stderr, "ijepa-train: note: precision %s (this command line's) is not the "
                            "file's %s: the numbers differ from the uninterrupted run's "
                            "(--set precision=%s continues it exactly)\n", cp, fp, fp);
    } else {
        CHECK(ijepa_config_copy(&cfg, cl));
    }
    ijepa_config_free(cl);

    /* the schedule (set_schedule()), now if the run's length is known
     * without the data: --steps N, or the schedule's own total_steps (the
     * file's when resuming, or --set total_steps) */
    const int set_total = sets_key(sets, nsets, IJEPA_CFG_TOTAL_STEPS);
    const int set_warm = sets_key(sets, nsets, IJEPA_CFG_WARMUP_STEPS);
    char how[96];
    if (steps > 0) {
        snprintf(how, sizeof how, "--steps %lld", (long long)steps);
    } else if (epochs <= 0 && (resume || set_total)) {
        CHECK(ijepa_config_get_int(cfg, IJEPA_CFG_TOTAL_STEPS, &steps));
        snprintf(how, sizeof how, "total_steps");
    }
    if (steps > 0)
        set_schedule(cfg, steps, how, set_total, set_warm);

    /* every tensor a trainer needs (resuming), with its shape, and its
     * memory, before anything is allocated */
    ex_check_memory("the trainer", trainer_bytes(ck, cfg), max_memory);
    ijepa_checkpoint_free(ck);
    int64_t B, chans;
    CHECK(ijepa_config_get_int(cfg, IJEPA_CFG_BATCH_SIZE, &B));
    CHECK(ijepa_config_get_int(cfg, IJEPA_CFG_IN_CHANS, &chans));
    if (!folder && chans != 1)
        ex_usage_error("Fashion-MNIST images have 1 channel, the configuration's in_chans is "
                       "%lld", (long long)chans);
    if (folder && chans != 1 && chans != 3)
        ex_usage_error("images decode to 1 or 3 channels, the configuration's in_chans is "
                       "%lld", (long long)chans);
    check_parts(cfg, chans);
    int64_t on_error;
    CHECK(ijepa_config_get_int(cfg, IJEPA_CFG_DATA_ON_ERROR, &on_error));
    if (folder && dist && dist->size > 1 && on_error == IJEPA_DATA_SKIP)
        ex_usage_error("data_on_error=skip cannot train on %d ranks: a skipped file would "
                       "shift the images of the other ranks' slices", dist->size);

    /* the data */
    fmnist train = {0};
    ijepa_dataset *images = NULL;
    ex_feed feed;
    if (folder) {
        ex_check_data(ijepa_dataset_create(&images, data_dir, cfg));
        ex_feed_folder(&feed, images);
    } else {
        fmnist_load_or_exit(&train, fmnist_dir, "train");
        if (limit > 0 && limit < train.n)
            train.n = limit;
        ex_feed_fmnist(&feed, &train, cfg);
    }
    const int64_t n = ex_feed_size(&feed);
    if (steps <= 0) { /* --epochs E, or one epoch */
        steps = (int64_t)((epochs > 0 ? epochs : 1.0) * (double)(n / B));
        if (steps < 1)
            steps = 1;
        char e[32] = "one epoch";
        if (epochs > 0)
            snprintf(e, sizeof e, "--epochs %g", epochs);
        snprintf(how, sizeof how, "%s (%lld step%s of %lld images)", e, (long long)steps,
                 steps == 1 ? "" : "s", (long long)B);
        set_schedule(cfg, steps, how, set_total, set_warm);
    }

    ijepa_context *ctx;
    CHECK(ijepa_context_create(&ctx));
    if (!quiet && root) {
        /* the precision, and whether this CPU runs it in hardware */
        int64_t prec;
        CHECK(ijepa_config_get_int(cfg, IJEPA_CFG_PRECISION, &prec));
        const int nthreads = (int)ijepa_context_num_threads(ctx);
        char ptext[256];
        fprintf(stderr, "ijepa-train: %s %s, %s %s, %lld step%s of %lld images (%.2f epochs), "
                        "%d thread%s%s, precision %s\n",
                folder ? "images in" : "Fashion-MNIST in", folder ? data_dir : fmnist_dir,
                resume ? "resuming" : "preset", resume ? resume : preset_name, (long long)steps,
                steps == 1 ? "" : "s", (long long)B, (double)(steps * B) / (double)n, nthreads,
                nthreads == 1 ? "" : "s", dist ? " per rank" : "",
                ex_precision_text(ctx, prec, ptext, sizeof ptext));
    }
    if (!quiet && dist && root) {
        const long long lo = B / dist->size, hi = (B + dist->size - 1) / dist->size;
        char each[64];
        snprintf(each, sizeof each, lo < hi ? "%lld or %lld" : "%lld", lo, hi);
        fprintf(stderr, "ijepa-train: %d rank%s, each computing %s image%s of a batch\n",
                dist->size, dist->size == 1 ? "" : "s", each, hi == 1 ? "" : "s");
    }
    const ex_train_opts opts = {steps, out, resume, save_every, quiet, dist};
    ex_train_result res;
    ijepa_trainer *tr = ex_train_scheduled(ctx, cfg, &feed, &opts, &res);
    if (root) {
        int64_t prec;
        char ptext[256];
        CHECK(ijepa_config_get_int(cfg, IJEPA_CFG_PRECISION, &prec));
        printf("trained %lld step%s in %.1f s (%.1f images/s): loss %.5f -> %.5f, target std "
               "%.4f, precision %s\n", (long long)res.steps, res.steps == 1 ? "" : "s",
               res.seconds, res.images_per_s, res.first_loss, res.last_loss, res.last_std,
               ex_precision_text(ctx, prec, ptext, sizeof ptext));
        if (dist)
            printf("%d rank%s: %.2f s (%.1f %%) summing gradients, waiting included\n",
                   dist->size, dist->size == 1 ? "" : "s", res.comm_seconds,
                   100.0 * res.comm_seconds / res.seconds);
        if (images && ijepa_dataset_skipped(images) > 0)
            printf("skipped %lld unreadable files (data_on_error=1); last: %s\n",
                   (long long)ijepa_dataset_skipped(images),
                   ijepa_dataset_last_skip_error(images));
        if (out)
            printf("wrote %s/{%s}%s\n", out, res.files, res.note);
    }
    ex_feed_free(&feed);
    ijepa_dataset_free(images);
    ijepa_trainer_free(tr);
    ijepa_context_free(ctx);
    ijepa_config_free(cfg);
    fmnist_free(&train);
    ex_dist_finish(dist);
    return 0;
}
