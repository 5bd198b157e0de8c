/*
 * ijepa-demo: what `make demo` runs.
 *
 * Pretrains a small Vision Transformer with I-JEPA on Fashion-MNIST (the
 * "fmnist" recipe of ijepa-train, DEMO_STEPS steps by default), then scores
 * a linear probe on the frozen, average-pooled features of its target
 * encoder against the same network untrained and against raw pixels, and
 * prints one table (docs/results.md explains the numbers).
 *
 *   ijepa-demo [--data DIR] [--steps N] [--out DIR] [--probe-train N]
 *              [--probe-epochs E]
 *
 * --probe-train N fits the probes on the first N training images (default
 * 20000; 0 = all 60k, as ijepa-probe does) and --probe-epochs E runs E
 * logistic-regression epochs per fit (default 10). `make demo-full` uses
 * more steps and the full probe.
 *
 * Threads: OMP_NUM_THREADS (default: all cores).
 */
#define _POSIX_C_SOURCE 200809L
#include "trainloop.h"

/* Pretraining steps of `make demo`: about 10 minutes on 2 cores. */
#define DEMO_STEPS 1200
/* The demo's probes by default: logistic-regression epochs per fit (5 fits
 * per probe) and training images (the first 20k of the 60k; the test split
 * is whole). */
#define PROBE_EPOCHS 10
#define PROBE_TRAIN 20000

int main(int argc, char **argv)
{
    ex_prog = "ijepa-demo";
    const char *dir = FMNIST_DEFAULT_DIR, *out = "demo-out";
    int64_t steps = 0, probe_train = PROBE_TRAIN;
    int probe_epochs = PROBE_EPOCHS;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--data") && i + 1 < argc)
            dir = argv[++i];
        else if (!strcmp(argv[i], "--steps") && i + 1 < argc)
            steps = atoll(argv[++i]);
        else if (!strcmp(argv[i], "--out") && i + 1 < argc)
            out = argv[++i];
        else if (!strcmp(argv[i], "--probe-train") && i + 1 < argc)
            probe_train = atoll(argv[++i]);
        else if (!strcmp(argv[i], "--probe-epochs") && i + 1 < argc)
            probe_epochs = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: ijepa-demo [--data DIR] [--steps N] [--out DIR] "
                            "[--probe-train N] [--probe-epochs E]\n");
            return 2;
        }
    }
    char err[512];
    fmnist train, test;
    if (fmnist_load(&train, dir, "train", err, sizeof err) != 0 ||
        fmnist_load(&test, dir, "t10k", err, sizeof err) != 0) {
        fprintf(stderr, "ijepa-demo: %s (install dataset-fashion-mnist or pass --data)\n", err);
        return 1;
    }
    const double t0 = ex_now();
    const ex_recipe *r = ex_recipe_find("fmnist");
    ijepa_config *cfg;
    CHECK(ijepa_config_create(&cfg));
    ex_apply_settings(cfg, r->settings);
    int64_t B, img;
    CHECK(ijepa_config_get_int(cfg, IJEPA_CFG_BATCH_SIZE, &B));
    CHECK(ijepa_config_get_int(cfg, IJEPA_CFG_IMG_SIZE, &img));
    if (steps <= 0)
        steps = DEMO_STEPS;
    if (probe_train <= 0 || probe_train > train.n)
        probe_train = train.n;
    if (probe_epochs < 1)
        probe_epochs = 1;
    ijepa_context *ctx;
    CHECK(ijepa_context_create(&ctx));
    printf("ijepa-demo: libijepa %s, %d threads; I-JEPA on Fashion-MNIST, recipe \"%s\", "
           "%lld steps of %lld images\n", ijepa_version_string(),
           (int)ijepa_context_num_threads(ctx), r->name, (long long)steps, (long long)B);
    ex_train_result res;
    ijepa_trainer *tr = ex_train(ctx, cfg, &train, NULL, steps, r->crop_scale_min, r->hflip, out, NULL, 0, 0, &res);

    fprintf(stderr, "probing: I-JEPA target encoder, random init, raw pixels...\n");
    linprobe_result pj = ex_probe(ijepa_trainer_target_encoder(tr), &train, &test, img,
                                  probe_epochs, probe_train);
    ijepa_config *rcfg;
    CHECK(ijepa_config_copy(&rcfg, cfg));
    CHECK(ijepa_config_set_int(rcfg, IJEPA_CFG_TRAINABLE, 0));
    ijepa_encoder *rnd;
    CHECK(ijepa_encoder_create(&rnd, ctx, rcfg));
    linprobe_result pr = ex_probe(rnd, &train, &test, img, probe_epochs, probe_train);
    /* A recipe may change the init (patch_init_std); then the untrained
     * network with the official init is shown too, so the comparison does not
     * rest on a weaker baseline. */
    double pstd;
    CHECK(ijepa_config_get_float(rcfg, IJEPA_CFG_PATCH_INIT_STD, &pstd));
    linprobe_result po = {0, 0, 0};
    if (pstd > 0) {
        ijepa_encoder *off;
        CHECK(ijepa_config_set_float(rcfg, IJEPA_CFG_PATCH_INIT_STD, 0));
        CHECK(ijepa_encoder_create(&off, ctx, rcfg));
        po = ex_probe(off, &train, &test, img, probe_epochs, probe_train);
        ijepa_encoder_free(off);
    }
    linprobe_result pp = ex_probe(NULL, &train, &test, img, probe_epochs, probe_train);

    char title[96];
    snprintf(title, sizeof title, "Fashion-MNIST linear probe (%lldk train, 10k test)",
             (long long)(probe_train / 1000));
    printf("\n%-46s %12s\n", title, "top-1");
    printf("%-46s %11.2f%%\n", "I-JEPA target encoder (this run)", pj.test_acc);
    printf("%-46s %11.2f%%\n", pstd > 0 ? "same network untrained (recipe's init)"
                                           : "same network untrained", pr.test_acc);
    if (pstd > 0)
        printf("%-46s %11.2f%%\n", "same network untrained (official init)", po.test_acc);
    printf("%-46s %11.2f%%\n", "raw pixels", pp.test_acc);
    const double base = pstd > 0 && po.test_acc > pr.test_acc ? po.test_acc : pr.test_acc;
    printf("\nI-JEPA - best untrained: %+.2f points. Pretraining: %.0f s, %.1f images/s, "
           "loss %.4f -> %.4f; total %.0f s.\nOutputs in %s/: log.csv, loss.png, masks.png, "
           "checkpoint.safetensors\n",
           pj.test_acc - base, res.seconds, res.images_per_s, res.first_loss,
           res.last_loss, ex_now() - t0, out);
    ijepa_encoder_free(rnd);
    ijepa_config_free(rcfg);
    ijepa_trainer_free(tr);
    ijepa_context_free(ctx);
    ijepa_config_free(cfg);
    fmnist_free(&train);
    fmnist_free(&test);
    return 0;
}
