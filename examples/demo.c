/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * ijepa-demo: what `make demo` runs.
 *
 * Pretrains a small Vision Transformer with I-JEPA on Fashion-MNIST (the
 * library's "fmnist" preset: 2800 steps where bf16 is native, 2000 in
 * float32, by default), then scores a
 * linear probe on the frozen, average-pooled features of its target encoder
 * against the same network untrained and against raw pixels, and prints one
 * table (docs/results.md explains the numbers). --precision sets the config
 * key precision; auto (the default) takes bf16 where the CPU runs it in
 * hardware (ijepa_context_precision_native()) and f32 elsewhere: both learn
 * alike (docs/results.md). The precision used is printed.
 *
 * Threads: OMP_NUM_THREADS (default: all cores).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "fmnist.h"
#include "trainloop.h"

/* Pretraining steps of `make demo`, sized to stay within 10 minutes on 2
 * cores: bf16 on AMX runs the recipe at about 1400 images/s (2800 steps, 6
 * epochs: 4.3 minutes; 930 before the bf16 speed work), bf16 on AMD Zen 4
 * (AVX512-BF16) at about 1000 (6 minutes), float32 at about 490 (2000
 * steps: 8.7 minutes). */
#define DEMO_STEPS_BF16 2800
#define DEMO_STEPS_F32 2000
/* The demo's probes by default: logistic-regression epochs per fit (5 fits
 * per probe) and training images (the first 20k of the 60k; the test split
 * is whole). */
#define PROBE_EPOCHS 10
#define PROBE_TRAIN 20000

static void usage(FILE *f)
{
    fprintf(f,
        "usage: ijepa-demo [--fmnist DIR] [--steps N] [--out DIR] [--probe-train N]\n"
        "                  [--probe-epochs E] [--precision auto|f32|bf16]\n"
        "       ijepa-demo --help | --version\n"
        "What `make demo` runs: pretrain on Fashion-MNIST, then compare linear probes.\n"
        "  --fmnist DIR        Fashion-MNIST's IDX files in DIR (default $IJEPA_FMNIST_DIR,\n"
        "                      or " FMNIST_DEFAULT_DIR ")\n"
        "  --steps N           pretraining steps (default %d with native bf16, else %d)\n"
        "  --out DIR           log.csv, loss.png, masks.png, checkpoint.safetensors (default demo-out)\n"
        "  --probe-train N     fit the probes on the first N training images (default %d; 0: all)\n"
        "  --probe-epochs E    logistic-regression epochs per fit (default %d)\n"
        "  --precision NAME    f32, bf16, or auto (default): bf16 where the CPU runs it natively\n"
        "  --help              print this help and exit\n"
        "  --version           print the version and exit\n",
        DEMO_STEPS_BF16, DEMO_STEPS_F32, PROBE_TRAIN, PROBE_EPOCHS);
    ex_print_exit_status(f);
}

int main(int argc, char **argv)
{
    ex_prog = "ijepa-demo";
    const char *dir = fmnist_default_dir(), *out = "demo-out";
    int64_t steps = 0 /* by precision */, probe_train = PROBE_TRAIN;
    int probe_epochs = PROBE_EPOCHS;
    int64_t prec = -1; /* auto */
    ex_args a;
    ex_args_init(&a, argc, argv, usage);
    while (ex_args_next(&a)) {
        const char *v;
        if ((v = ex_value(&a, "--fmnist")))
            dir = v;
        else if ((v = ex_value(&a, "--steps")))
            steps = ex_int(a.opt, v, 1, (int64_t)1 << 40);
        else if ((v = ex_value(&a, "--out")))
            out = v;
        else if ((v = ex_value(&a, "--probe-train")))
            probe_train = ex_int(a.opt, v, 0, INT64_MAX);
        else if ((v = ex_value(&a, "--probe-epochs")))
            probe_epochs = (int)ex_int(a.opt, v, 1, 10000);
        else if ((v = ex_value(&a, "--precision"))) {
            if (!strcmp(v, "auto"))
                prec = -1;
            else if (ijepa_config_value_from_name(IJEPA_CFG_PRECISION, v, &prec) < 0)
                ex_usage_error("%s: '%s' is not auto, f32 or bf16", a.opt, v);
        }
        else
            ex_unknown(&a);
    }
    char err[512];
    fmnist train, test;
    if (fmnist_load(&train, dir, "train", err, sizeof err) != 0 ||
        fmnist_load(&test, dir, "t10k", err, sizeof err) != 0) {
        ex_fail("%s (install dataset-fashion-mnist, or pass --fmnist)", err);
    }
    if (probe_train <= 0 || probe_train > train.n)
        probe_train = train.n;
    const double t0 = ex_now();

    /* pretraining */
    ijepa_config *cfg;
    CHECK(ijepa_config_create(&cfg));
    CHECK(ijepa_config_apply_preset(cfg, "fmnist"));
    int64_t B;
    CHECK(ijepa_config_get_int(cfg, IJEPA_CFG_BATCH_SIZE, &B));
    ijepa_context *ctx;
    CHECK(ijepa_context_create(&ctx));
    if (prec < 0)
        prec = ijepa_context_precision_native(ctx, IJEPA_PRECISION_BF16) == 1
                   ? IJEPA_PRECISION_BF16 : IJEPA_PRECISION_F32;
    CHECK(ijepa_config_set_int(cfg, IJEPA_CFG_PRECISION, prec));
    if (steps == 0)
        steps = prec == IJEPA_PRECISION_BF16 && ijepa_context_precision_native(ctx, prec) == 1
                    ? DEMO_STEPS_BF16 : DEMO_STEPS_F32;
    char ptext[256];
    printf("ijepa-demo: libijepa %s, %d threads, precision %s; I-JEPA on Fashion-MNIST, "
           "preset \"fmnist\", %lld steps of %lld images\n", ijepa_version_string(),
           (int)ijepa_context_num_threads(ctx), ex_precision_text(ctx, prec, ptext, sizeof ptext),
           (long long)steps, (long long)B);
    fflush(stdout); /* before the training's lines on stderr, when both go to a file */
    ex_feed feed;
    ex_feed_fmnist(&feed, &train, cfg);
    const ex_train_opts opts = {steps, out, NULL, 0, 0, NULL};
    ex_train_result res;
    ijepa_trainer *tr = ex_train(ctx, cfg, &feed, &opts, &res);
    ex_feed_free(&feed);

    /* probes: the trained target encoder, the same network untrained, pixels */
    fprintf(stderr, "probing: I-JEPA target encoder, random init, raw pixels...\n");
    const linprobe_result pj = fmnist_probe(ijepa_trainer_target_encoder(tr), &train, &test,
                                            probe_epochs, probe_train);
    ijepa_config *rcfg;
    CHECK(ijepa_config_copy(&rcfg, cfg));
    CHECK(ijepa_config_set_int(rcfg, IJEPA_CFG_TRAINABLE, 0));
    ijepa_encoder *rnd;
    CHECK(ijepa_encoder_create(&rnd, ctx, rcfg));
    const linprobe_result pr = fmnist_probe(rnd, &train, &test, probe_epochs, probe_train);
    /* A preset may change the init (patch_init_std); then the untrained
     * network with the official init is shown too, so the comparison does not
     * rest on a weaker baseline. */
    double pstd;
    CHECK(ijepa_config_get_float(rcfg, IJEPA_CFG_PATCH_INIT_STD, &pstd));
    linprobe_result po = {0, 0, 0};
    if (pstd > 0) {
        ijepa_encoder *off;
        CHECK(ijepa_config_set_float(rcfg, IJEPA_CFG_PATCH_INIT_STD, 0));
        CHECK(ijepa_encoder_create(&off, ctx, rcfg));
        po = fmnist_probe(off, &train, &test, probe_epochs, probe_train);
        ijepa_encoder_free(off);
    }
    const linprobe_result pp = fmnist_probe(NULL, &train, &test, probe_epochs, probe_train);

    char title[96];
    if (probe_train % 1000 == 0)
        snprintf(title, sizeof title, "Fashion-MNIST linear probe (%lldk train, 10k test)",
                 (long long)(probe_train / 1000));
    else
        snprintf(title, sizeof title, "Fashion-MNIST linear probe (%lld train, 10k test)",
                 (long long)probe_train);
    printf("\n%-46s %12s\n", title, "top-1");
    printf("%-46s %11.2f%%\n", "I-JEPA target encoder (this run)", pj.test_acc);
    printf("%-46s %11.2f%%\n", pstd > 0 ? "same network untrained (preset's init)"
                                           : "same network untrained", pr.test_acc);
    if (pstd > 0)
        printf("%-46s %11.2f%%\n", "same network untrained (official init)", po.test_acc);
    printf("%-46s %11.2f%%\n", "raw pixels", pp.test_acc);
    const double base = pstd > 0 && po.test_acc > pr.test_acc ? po.test_acc : pr.test_acc;
    printf("\nI-JEPA - best untrained: %+.2f points. Pretraining: %.0f s, %.1f images/s, "
           "loss %.4f -> %.4f; total %.0f s.\nOutputs in %s/: %s%s\n",
           pj.test_acc - base, res.seconds, res.images_per_s, res.first_loss,
           res.last_loss, ex_now() - t0, out, res.files, res.note);
    ijepa_encoder_free(rnd);
    ijepa_config_free(rcfg);
    ijepa_trainer_free(tr);
    ijepa_context_free(ctx);
    ijepa_config_free(cfg);
    fmnist_free(&train);
    fmnist_free(&test);
    return 0;
}
