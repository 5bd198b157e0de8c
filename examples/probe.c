/*
 * ijepa-probe: linear-probe accuracy on Fashion-MNIST of the average-pooled
 * features of
 *   --weights PATH  the target encoder of a checkpoint (target_encoder.* and
 *                   the configuration of PATH, e.g. the checkpoint.safetensors
 *                   ijepa-train --out writes)
 *   --random-init   the same architecture untrained (the configuration of
 *                   --preset, default fmnist)
 *   --pixels        raw pixels / 255
 * Each image goes through the evaluation transform of the encoder's
 * configuration (its data_* keys). Classifier: multinomial logistic
 * regression with a weight-decay sweep on the last sixth (at most 10k) of the
 * training images; score: top-1 on the whole 10k test split.
 */
#define _POSIX_C_SOURCE 200809L
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "fmnist.h"

static void usage(FILE *f)
{
    fprintf(f,
        "usage: ijepa-probe (--weights PATH | --random-init | --pixels) [--fmnist DIR]\n"
        "                   [--preset NAME] [--set KEY=VALUE]... [--seed S] [--epochs E]\n"
        "                   [--probe-train N] [--threads T]\n"
        "features (one of):\n"
        "  --weights PATH   the target encoder of a libijepa checkpoint, with its configuration\n"
        "  --random-init    the untrained encoder of --preset NAME (default fmnist), --seed S\n"
        "  --pixels         raw pixels / 255\n"
        "options:\n"
        "  --fmnist DIR     Fashion-MNIST's IDX files in DIR (default " FMNIST_DEFAULT_DIR ")\n"
        "  --set KEY=VALUE  change a config key of the encoder (after --preset or the file's)\n"
        "  --epochs E       logistic-regression epochs per fit (default 15)\n"
        "  --probe-train N  fit on the first N training images (default 0: all 60k)\n"
        "  --threads T      OpenMP threads (default OMP_NUM_THREADS or all cores)\n");
}

int main(int argc, char **argv)
{
    ex_prog = "ijepa-probe";
    const char *dir = FMNIST_DEFAULT_DIR, *weights = NULL, *preset = NULL, *sets[256];
    int random_init = 0, pixels = 0, epochs = 15, nsets = 0;
    int64_t seed = -1, probe_train = 0, threads = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--random-init")) {
            random_init = 1;
            continue;
        } else if (!strcmp(a, "--pixels")) {
            pixels = 1;
            continue;
        } else if (strncmp(a, "--", 2)) {
            ex_usage_error("unexpected argument '%s'", a);
        } else if (!v) {
            ex_usage_error("%s needs a value", a);
        }
        i++;
        if (!strcmp(a, "--weights"))
            weights = v;
        else if (!strcmp(a, "--fmnist"))
            dir = v;
        else if (!strcmp(a, "--preset"))
            preset = v;
        else if (!strcmp(a, "--set")) {
            if (nsets == 256)
                ex_usage_error("more than 256 --set options");
            sets[nsets++] = v;
        } else if (!strcmp(a, "--seed"))
            seed = ex_int(a, v, 0, INT64_MAX);
        else if (!strcmp(a, "--epochs"))
            epochs = (int)ex_int(a, v, 1, 10000);
        else if (!strcmp(a, "--probe-train"))
            probe_train = ex_int(a, v, 0, INT64_MAX);
        else if (!strcmp(a, "--threads"))
            threads = ex_int(a, v, 1, 4096);
        else
            ex_usage_error("unknown option %s", a);
    }
    if ((weights != NULL) + random_init + pixels != 1)
        ex_usage_error("give exactly one of --weights, --random-init, --pixels");
    if (pixels && (preset || nsets || seed >= 0))
        ex_usage_error("--pixels takes no encoder options (--preset, --set, --seed)");
    if (weights && (preset || seed >= 0))
        ex_usage_error("--weights uses the file's configuration (no --preset or --seed)");
    if (threads > 0)
        omp_set_num_threads((int)threads);
    char err[512];
    fmnist train, test;
    if (fmnist_load(&train, dir, "train", err, sizeof err) != 0 ||
        fmnist_load(&test, dir, "t10k", err, sizeof err) != 0) {
        fprintf(stderr, "ijepa-probe: %s\n", err);
        return 1;
    }
    if (pixels) {
        const linprobe_result r = fmnist_probe(NULL, &train, &test, epochs, probe_train);
        printf("raw pixels: test %.2f%% (val %.2f%%, wd %g)\n", r.test_acc, r.val_acc,
               r.weight_decay);
        fmnist_free(&train);
        fmnist_free(&test);
        return 0;
    }
    /* the encoder: the file's, or an untrained one of the preset */
    ijepa_config *cfg;
    ijepa_checkpoint *ck = NULL;
    if (weights) {
        CHECK(ijepa_checkpoint_open(&ck, weights));
        CHECK(ijepa_checkpoint_config(ck, &cfg));
    } else {
        CHECK(ijepa_config_create(&cfg));
        if (ijepa_config_apply_preset(cfg, preset ? preset : "fmnist") < 0)
            ex_usage_error("%s", ijepa_last_error());
        if (seed >= 0)
            CHECK(ijepa_config_set_int(cfg, IJEPA_CFG_SEED, seed));
    }
    for (int i = 0; i < nsets; i++)
        ex_set(cfg, sets[i]);
    CHECK(ijepa_config_set_int(cfg, IJEPA_CFG_TRAINABLE, 0));
    CHECK(ijepa_config_set_int(cfg, IJEPA_CFG_BATCH_SIZE, 256));
    ijepa_context *ctx;
    ijepa_encoder *enc;
    CHECK(ijepa_context_create(&ctx));
    CHECK(ijepa_encoder_create(&enc, ctx, cfg));
    if (ck) {
        CHECK(ijepa_checkpoint_load_encoder(ck, "target_encoder", enc));
        ijepa_checkpoint_free(ck);
    }
    const linprobe_result r = fmnist_probe(enc, &train, &test, epochs, probe_train);
    printf("%s: test %.2f%% (val %.2f%%, wd %g)\n",
           weights ? "I-JEPA target encoder" : "random-init encoder", r.test_acc, r.val_acc,
           r.weight_decay);
    ijepa_encoder_free(enc);
    ijepa_context_free(ctx);
    ijepa_config_free(cfg);
    fmnist_free(&train);
    fmnist_free(&test);
    return 0;
}
