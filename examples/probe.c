/*
 * ijepa-probe: linear-probe accuracy on Fashion-MNIST of
 *   --weights PATH  the target encoder of a checkpoint (target_encoder.* and
 *                   the configuration of PATH, e.g. the checkpoint.safetensors
 *                   ijepa-train --out writes)
 *   --random-init   the same architecture untrained (--config NAME or the
 *                   config of --weights; --seed S)
 *   --pixels        raw pixels
 * Features: average-pooled last-layer tokens; classifier: multinomial
 * logistic regression with a weight-decay sweep on the last 10k training
 * images; score: top-1 on the full 10k test split.
 *
 *   ijepa-probe (--weights PATH | --random-init | --pixels) [--config NAME]
 *               [--set key=value]... [--data DIR] [--seed S] [--epochs E]
 */
#define _POSIX_C_SOURCE 200809L
#include "trainloop.h"

int main(int argc, char **argv)
{
    ex_prog = "ijepa-probe";
    const char *dir = FMNIST_DEFAULT_DIR, *weights = NULL, *recipe = "fmnist";
    int random_init = 0, pixels = 0, epochs = 15;
    int64_t seed = 0;
    char sets[4096] = "";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has = i + 1 < argc;
        if (!strcmp(a, "--random-init"))
            random_init = 1;
        else if (!strcmp(a, "--pixels"))
            pixels = 1;
        else if (!strcmp(a, "--weights") && has)
            weights = argv[++i];
        else if (!strcmp(a, "--config") && has)
            recipe = argv[++i];
        else if (!strcmp(a, "--data") && has)
            dir = argv[++i];
        else if (!strcmp(a, "--seed") && has)
            seed = atoll(argv[++i]);
        else if (!strcmp(a, "--set") && has) {
            size_t n = strlen(sets);
            snprintf(sets + n, sizeof sets - n, "%s%s", n ? " " : "", argv[++i]);
        } else if (!strcmp(a, "--epochs") && has)
            epochs = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: ijepa-probe (--weights PATH | --random-init | --pixels) "
                            "[--config NAME] [--set key=value]... [--data DIR] [--seed S] "
                            "[--epochs E]\n");
            return 2;
        }
    }
    if ((weights != NULL) + random_init + pixels != 1) {
        fprintf(stderr, "ijepa-probe: give exactly one of --weights, --random-init, --pixels\n");
        return 2;
    }
    char err[512];
    fmnist train, test;
    if (fmnist_load(&train, dir, "train", err, sizeof err) != 0 ||
        fmnist_load(&test, dir, "t10k", err, sizeof err) != 0) {
        fprintf(stderr, "ijepa-probe: %s\n", err);
        return 1;
    }
    linprobe_result r;
    if (pixels) {
        r = ex_probe(NULL, &train, &test, 28, epochs, 0);
        printf("raw pixels: test %.2f%% (val %.2f%%, wd %g)\n", r.test_acc, r.val_acc,
               r.weight_decay);
    } else {
        ijepa_config *cfg;
        ijepa_checkpoint *ck = NULL;
        if (weights) {
            CHECK(ijepa_checkpoint_open(&ck, weights));
            CHECK(ijepa_checkpoint_config(ck, &cfg));
        } else {
            CHECK(ijepa_config_create(&cfg));
            const ex_recipe *rc = ex_recipe_find(recipe);
            if (!rc) {
                fprintf(stderr, "ijepa-probe: unknown config '%s'\n", recipe);
                return 2;
            }
            ex_apply_settings(cfg, rc->settings);
            CHECK(ijepa_config_set_int(cfg, IJEPA_CFG_SEED, seed));
        }
        if (sets[0])
            ex_apply_settings(cfg, sets);
        CHECK(ijepa_config_set_int(cfg, IJEPA_CFG_TRAINABLE, 0));
        CHECK(ijepa_config_set_int(cfg, IJEPA_CFG_BATCH_SIZE, 256));
        int64_t img;
        CHECK(ijepa_config_get_int(cfg, IJEPA_CFG_IMG_SIZE, &img));
        ijepa_context *ctx;
        CHECK(ijepa_context_create(&ctx));
        ijepa_encoder *enc;
        CHECK(ijepa_encoder_create(&enc, ctx, cfg));
        if (ck) {
            CHECK(ijepa_checkpoint_load_encoder(ck, "target_encoder", enc));
            ijepa_checkpoint_free(ck);
        }
        r = ex_probe(enc, &train, &test, img, epochs, 0);
        printf("%s: test %.2f%% (val %.2f%%, wd %g)\n",
               weights ? "I-JEPA target encoder" : "random-init encoder", r.test_acc, r.val_acc,
               r.weight_decay);
        ijepa_encoder_free(enc);
        ijepa_context_free(ctx);
        ijepa_config_free(cfg);
    }
    fmnist_free(&train);
    fmnist_free(&test);
    return 0;
}
