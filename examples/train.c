/*
 * ijepa-train: I-JEPA pretraining from the command line.
 *
 * The data is Fashion-MNIST (--fmnist DIR, the default, with Debian's
 * dataset-fashion-mnist) or a folder of .png/.jpg/.jpeg images, searched
 * recursively (--data DIR, read by the library's dataset handle on
 * background threads). The run's configuration is a library preset (--preset;
 * "fmnist" for Fashion-MNIST, "folder" for a folder by default) changed by
 * the options below, which mean the same with either data; every image goes
 * through the library's transform of that configuration. Writes to --out:
 * log.csv, loss.png, masks.png and checkpoint.safetensors (both encoders,
 * predictor, optimizer state, step and configuration: docs/checkpoint.md).
 * ijepa-probe --weights OUT/checkpoint.safetensors scores what it learnt.
 */
#define _POSIX_C_SOURCE 200809L
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "fmnist.h"
#include "trainloop.h"

static void usage(FILE *f)
{
    fprintf(f,
        "usage: ijepa-train [--fmnist DIR | --data DIR] [--preset NAME] [--set KEY=VALUE]...\n"
        "                   [--steps N | --epochs E] [--batch B] [--seed S] [--crop S]\n"
        "                   [--limit N] [--threads T] [--out DIR] [--save-every K]\n"
        "                   [--resume PATH] [--quiet]\n"
        "data (one of):\n"
        "  --fmnist DIR     Fashion-MNIST's IDX files in DIR (default " FMNIST_DEFAULT_DIR ")\n"
        "  --data DIR       every .png/.jpg/.jpeg below DIR; a bad file stops the run with its\n"
        "                   name (--set data_on_error=1 skips and counts it instead)\n"
        "configuration (applied in this order):\n"
        "  --preset NAME    a library preset (default: fmnist, or folder with --data)\n"
        "  --batch B        batch_size\n"
        "  --seed S         seed (parameters, masks, data order, crops)\n"
        "  --crop S         RandomResizedCrop with scale (S, 1) on every training image:\n"
        "                   data_transform=0 data_crop_scale_min=S; 0: no random crop, the\n"
        "                   evaluation resize instead (data_transform=1)\n"
        "  --set KEY=VALUE  any config key (include/ijepa/config.h), e.g. --set lr=5e-4\n"
        "training:\n"
        "  --steps N        train until step N (default: E epochs)\n"
        "  --epochs E       train E passes over the data (default 1)\n"
        "  --limit N        only the first N images of the data\n"
        "  --threads T      OpenMP threads (default OMP_NUM_THREADS or all cores)\n"
        "  --out DIR        write log.csv, loss.png, masks.png, checkpoint.safetensors\n"
        "  --save-every K   also save the checkpoint every K steps, atomically\n"
        "  --resume PATH    continue the run saved in PATH: its configuration, then the\n"
        "                   options above (keys that define the model must not change); to\n"
        "                   --steps N (default: the file's total_steps). With the same data,\n"
        "                   options and threads it gives the bits of the uninterrupted run\n"
        "  --quiet          no progress output\n"
        "presets:\n");
    ex_print_presets(f);
}

int main(int argc, char **argv)
{
    ex_prog = "ijepa-train";
    const char *fmnist_dir = NULL, *data_dir = NULL, *preset = NULL, *out = NULL;
    const char *resume = NULL, *sets[256];
    int64_t steps = 0, batch = 0, seed = -1, limit = 0, threads = 0, save_every = 0;
    double epochs = 0, crop = -1;
    int quiet = 0, nsets = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--quiet")) {
            quiet = 1;
            continue;
        } else if (strncmp(a, "--", 2)) {
            ex_usage_error("unexpected argument '%s'", a);
        } else if (!v) {
            ex_usage_error("%s needs a value", a);
        }
        i++;
        if (!strcmp(a, "--fmnist"))
            fmnist_dir = v;
        else if (!strcmp(a, "--data"))
            data_dir = v;
        else if (!strcmp(a, "--preset"))
            preset = v;
        else if (!strcmp(a, "--set")) {
            if (nsets == 256)
                ex_usage_error("more than 256 --set options");
            sets[nsets++] = v;
        }
        else if (!strcmp(a, "--steps"))
            steps = ex_int(a, v, 1, (int64_t)1 << 40);
        else if (!strcmp(a, "--epochs"))
            epochs = ex_float(a, v, 1e-6, 1e6);
        else if (!strcmp(a, "--batch"))
            batch = ex_int(a, v, 1, 65536);
        else if (!strcmp(a, "--seed"))
            seed = ex_int(a, v, 0, INT64_MAX);
        else if (!strcmp(a, "--crop"))
            crop = ex_float(a, v, 0, 1);
        else if (!strcmp(a, "--limit"))
            limit = ex_int(a, v, 1, INT64_MAX);
        else if (!strcmp(a, "--threads"))
            threads = ex_int(a, v, 1, 4096);
        else if (!strcmp(a, "--out"))
            out = v;
        else if (!strcmp(a, "--save-every"))
            save_every = ex_int(a, v, 1, INT64_MAX);
        else if (!strcmp(a, "--resume"))
            resume = v;
        else
            ex_usage_error("unknown option %s", a);
    }
    if (fmnist_dir && data_dir)
        ex_usage_error("give --fmnist or --data, not both");
    if (steps > 0 && epochs > 0)
        ex_usage_error("give --steps or --epochs, not both");
    const int folder = data_dir != NULL;
    if (!folder && !fmnist_dir)
        fmnist_dir = FMNIST_DEFAULT_DIR;
    if (threads > 0)
        omp_set_num_threads((int)threads); /* the host owns the thread count */

    /* the configuration */
    ijepa_config *cfg;
    if (resume)
        CHECK(ijepa_checkpoint_read_config(resume, &cfg));
    else
        CHECK(ijepa_config_create(&cfg));
    if (preset || !resume) {
        if (!preset)
            preset = folder ? "folder" : "fmnist";
        if (ijepa_config_apply_preset(cfg, preset) < 0)
            ex_usage_error("%s", ijepa_last_error());
    }
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
    int64_t B;
    CHECK(ijepa_config_get_int(cfg, IJEPA_CFG_BATCH_SIZE, &B));

    /* the data */
    fmnist train = {0};
    ijepa_dataset *images = NULL;
    ex_feed feed;
    if (folder) {
        if (limit > 0)
            ex_usage_error("--limit takes the first N Fashion-MNIST images; a folder is used "
                           "whole (point --data at a smaller one)");
        CHECK(ijepa_dataset_create(&images, data_dir, cfg));
        ex_feed_folder(&feed, images);
    } else {
        char err[512];
        if (fmnist_load(&train, fmnist_dir, "train", err, sizeof err) != 0) {
            fprintf(stderr, "ijepa-train: %s (install dataset-fashion-mnist, or use --data)\n",
                    err);
            return 1;
        }
        if (limit > 0 && limit < train.n)
            train.n = limit;
        ex_feed_fmnist(&feed, &train, cfg);
    }
    const int64_t n = ex_feed_size(&feed);
    if (steps <= 0 && epochs <= 0 && resume)
        CHECK(ijepa_config_get_int(cfg, IJEPA_CFG_TOTAL_STEPS, &steps));
    if (steps <= 0)
        steps = (int64_t)((epochs > 0 ? epochs : 1.0) * (double)(n / B));
    if (steps < 1)
        steps = 1;

    ijepa_context *ctx;
    CHECK(ijepa_context_create(&ctx));
    if (!quiet)
        fprintf(stderr, "ijepa-train: %s %s, %s %s, %lld steps of %lld images (%.2f epochs), "
                        "%d threads\n", folder ? "images in" : "Fashion-MNIST in",
                folder ? data_dir : fmnist_dir, resume ? "resuming" : "preset",
                resume ? resume : preset, (long long)steps, (long long)B,
                (double)(steps * B) / (double)n, (int)ijepa_context_num_threads(ctx));
    const ex_train_opts opts = {steps, out, resume, save_every, quiet};
    ex_train_result res;
    ijepa_trainer *tr = ex_train(ctx, cfg, &feed, &opts, &res);
    printf("trained %lld steps in %.1f s (%.1f images/s): loss %.5f -> %.5f, target std %.4f\n",
           (long long)res.steps, res.seconds, res.images_per_s, res.first_loss, res.last_loss,
           res.last_std);
    if (images && ijepa_dataset_skipped(images) > 0)
        printf("skipped %lld unreadable files (data_on_error=1); last: %s\n",
               (long long)ijepa_dataset_skipped(images), ijepa_dataset_last_skip_error(images));
    if (out)
        printf("wrote %s/{log.csv,loss.png,masks.png,checkpoint.safetensors}\n", out);
    ex_feed_free(&feed);
    ijepa_dataset_free(images);
    ijepa_trainer_free(tr);
    ijepa_context_free(ctx);
    ijepa_config_free(cfg);
    fmnist_free(&train);
    return 0;
}
