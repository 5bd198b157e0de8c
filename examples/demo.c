/*
 * ijepa-demo: what `make demo` runs.
 *
 * Pretrains a small Vision Transformer with I-JEPA on Fashion-MNIST (the
 * "fmnist" recipe of ijepa-train), then scores a linear probe on the frozen,
 * average-pooled features of its target encoder against the same
 * architecture untrained and against raw pixels, and prints one table.
 *
 *   ijepa-demo [--data DIR] [--steps N] [--out DIR]
 *
 * Threads: OMP_NUM_THREADS (default: all cores).
 */
#define _POSIX_C_SOURCE 200809L
#include "trainloop.h"

int main(int argc, char **argv)
{
    ex_prog = "ijepa-demo";
    const char *dir = FMNIST_DEFAULT_DIR, *out = "demo-out";
    int64_t steps = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--data") && i + 1 < argc)
            dir = argv[++i];
        else if (!strcmp(argv[i], "--steps") && i + 1 < argc)
            steps = atoll(argv[++i]);
        else if (!strcmp(argv[i], "--out") && i + 1 < argc)
            out = argv[++i];
        else {
            fprintf(stderr, "usage: ijepa-demo [--data DIR] [--steps N] [--out DIR]\n");
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
        steps = 2 * (train.n / B); /* two epochs */
    ijepa_context *ctx;
    CHECK(ijepa_context_create(&ctx));
    printf("ijepa-demo: libijepa %s, %d threads; I-JEPA on Fashion-MNIST, recipe \"%s\", "
           "%lld steps of %lld images\n", ijepa_version_string(),
           (int)ijepa_context_num_threads(ctx), r->name, (long long)steps, (long long)B);
    ex_train_result res;
    ijepa_trainer *tr = ex_train(ctx, cfg, &train, steps, r->crop_scale_min, out, 0, &res);

    fprintf(stderr, "probing: I-JEPA target encoder, random init, raw pixels...\n");
    linprobe_result pj = ex_probe(ijepa_trainer_target_encoder(tr), &train, &test, img, 15);
    ijepa_config *rcfg;
    CHECK(ijepa_config_copy(&rcfg, cfg));
    CHECK(ijepa_config_set_int(rcfg, IJEPA_CFG_TRAINABLE, 0));
    ijepa_encoder *rnd;
    CHECK(ijepa_encoder_create(&rnd, ctx, rcfg));
    linprobe_result pr = ex_probe(rnd, &train, &test, img, 15);
    linprobe_result pp = ex_probe(NULL, &train, &test, img, 15);

    printf("\n%-46s %12s\n", "Fashion-MNIST linear probe (10k test images)", "top-1");
    printf("%-46s %11.2f%%\n", "I-JEPA target encoder (this run)", pj.test_acc);
    printf("%-46s %11.2f%%\n", "same architecture, random init", pr.test_acc);
    printf("%-46s %11.2f%%\n", "raw pixels", pp.test_acc);
    printf("\nI-JEPA - random init: %+.2f points. Pretraining: %.0f s, %.1f images/s, "
           "loss %.4f -> %.4f; total %.0f s.\nOutputs in %s/: log.csv, loss.png, masks.png, "
           "config.txt, target_encoder.f32\n",
           pj.test_acc - pr.test_acc, res.seconds, res.images_per_s, res.first_loss,
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
