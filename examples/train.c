/*
 * ijepa-train: I-JEPA pretraining from the command line.
 *
 *   ijepa-train [--data DIR] [--config NAME] [--steps N | --epochs E]
 *               [--batch B] [--seed S] [--threads T] [--out DIR] [--resume PATH]
 *               [--save-every K]
 *               [--set key=value]... [--crop S] [--limit N] [--probe] [--quiet]
 *
 * Trains on Fashion-MNIST (Debian's dataset-fashion-mnist is the default
 * data), shows progress (a bar on a terminal, plain lines when piped), and
 * writes to --out: log.csv, loss.png, masks.png and checkpoint.safetensors
 * (both encoders, predictor, optimizer state, step and configuration; see
 * docs/checkpoint.md); --save-every K also saves it every K steps, atomically,
 * so an interrupted run leaves its last checkpoint. --resume PATH continues the run saved in PATH: the
 * configuration comes from the file (--config, --batch and --seed are
 * ignored; --set may change keys that do not define the model), training goes
 * on to --steps N in total (default: the file's total_steps), and with the
 * same data, --limit, --crop and thread count it gives bit-identical results
 * to the run that was never interrupted. --probe then scores a linear probe of
 * the target encoder on the test split. Any config key can be set with --set
 * (see include/ijepa/config.h for names); --crop S applies the official
 * RandomResizedCrop with scale (S, 1) to every training image (0: none; the
 * default is the recipe's).
 */
#define _POSIX_C_SOURCE 200809L
#include <omp.h>

#include "trainloop.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: ijepa-train [--data DIR] [--config NAME] [--steps N | --epochs E]\n"
               "                   [--batch B] [--seed S] [--threads T] [--out DIR] [--resume PATH]\n"
               "                   [--save-every K]\n"
               "                   [--set key=value]... [--crop S] [--limit N] [--probe] [--quiet]\n"
               "configs:\n");
    for (size_t i = 0; i < sizeof EX_RECIPES / sizeof EX_RECIPES[0]; i++)
        fprintf(f, "  %-16s %s\n", EX_RECIPES[i].name, EX_RECIPES[i].about);
}

int main(int argc, char **argv)
{
    ex_prog = "ijepa-train";
    const char *dir = FMNIST_DEFAULT_DIR, *recipe = "fmnist", *out = NULL, *resume = NULL;
    int64_t steps = 0, batch = 0, limit = 0, seed = 0, threads = 0, save_every = 0;
    double epochs = 0, crop = -1;
    int probe = 0, quiet = 0;
    char sets[4096] = "";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--probe"))
            probe = 1;
        else if (!strcmp(a, "--quiet"))
            quiet = 1;
        else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!v) {
            usage(stderr);
            return 2;
        } else if (!strcmp(a, "--data"))
            dir = argv[++i];
        else if (!strcmp(a, "--config"))
            recipe = argv[++i];
        else if (!strcmp(a, "--out"))
            out = argv[++i];
        else if (!strcmp(a, "--resume"))
            resume = argv[++i];
        else if (!strcmp(a, "--save-every"))
            save_every = atoll(argv[++i]);
        else if (!strcmp(a, "--steps"))
            steps = atoll(argv[++i]);
        else if (!strcmp(a, "--epochs"))
            epochs = atof(argv[++i]);
        else if (!strcmp(a, "--batch"))
            batch = atoll(argv[++i]);
        else if (!strcmp(a, "--seed"))
            seed = atoll(argv[++i]);
        else if (!strcmp(a, "--threads"))
            threads = atoll(argv[++i]);
        else if (!strcmp(a, "--crop"))
            crop = atof(argv[++i]);
        else if (!strcmp(a, "--limit"))
            limit = atoll(argv[++i]);
        else if (!strcmp(a, "--set")) {
            size_t n = strlen(sets);
            snprintf(sets + n, sizeof sets - n, "%s%s", n ? " " : "", argv[++i]);
        } else {
            usage(stderr);
            return 2;
        }
    }
    const ex_recipe *r = ex_recipe_find(recipe);
    if (!r) {
        fprintf(stderr, "ijepa-train: unknown config '%s'\n", recipe);
        usage(stderr);
        return 2;
    }
    if (threads > 0)
        omp_set_num_threads((int)threads); /* the host owns the thread count */

    char err[512];
    fmnist train, test;
    if (fmnist_load(&train, dir, "train", err, sizeof err) != 0) {
        fprintf(stderr, "ijepa-train: %s (install dataset-fashion-mnist or pass --data)\n", err);
        return 1;
    }
    if (limit > 0 && limit < train.n)
        train.n = limit;

    ijepa_config *cfg;
    if (resume) {
        CHECK(ijepa_checkpoint_read_config(resume, &cfg));
        if (steps <= 0 && epochs <= 0)
            CHECK(ijepa_config_get_int(cfg, IJEPA_CFG_TOTAL_STEPS, &steps));
    } else {
        CHECK(ijepa_config_create(&cfg));
        ex_apply_settings(cfg, r->settings);
        if (batch > 0)
            CHECK(ijepa_config_set_int(cfg, IJEPA_CFG_BATCH_SIZE, batch));
        CHECK(ijepa_config_set_int(cfg, IJEPA_CFG_SEED, seed));
    }
    if (sets[0])
        ex_apply_settings(cfg, sets);
    int64_t B, img;
    CHECK(ijepa_config_get_int(cfg, IJEPA_CFG_BATCH_SIZE, &B));
    CHECK(ijepa_config_get_int(cfg, IJEPA_CFG_IMG_SIZE, &img));
    if (steps <= 0)
        steps = (int64_t)((epochs > 0 ? epochs : 1.0) * (double)(train.n / B));
    if (steps < 1)
        steps = 1;

    ijepa_context *ctx;
    CHECK(ijepa_context_create(&ctx));
    if (!quiet)
        fprintf(stderr, "ijepa-train: config %s, %lld steps of %lld images (%.2f epochs), "
                        "%d threads\n", resume ? resume : r->name, (long long)steps, (long long)B,
                (double)(steps * B) / (double)train.n, (int)ijepa_context_num_threads(ctx));
    ex_train_result res;
    ijepa_trainer *tr = ex_train(ctx, cfg, &train, steps, crop >= 0 ? crop : r->crop_scale_min, out, resume, save_every, quiet, &res);
    printf("trained %lld steps in %.1f s (%.1f images/s): loss %.5f -> %.5f, target std %.4f\n",
           (long long)res.steps, res.seconds, res.images_per_s, res.first_loss, res.last_loss,
           res.last_std);
    if (out)
        printf("wrote %s/{log.csv,loss.png,masks.png,checkpoint.safetensors}\n", out);
    if (probe) {
        if (fmnist_load(&test, dir, "t10k", err, sizeof err) != 0) {
            fprintf(stderr, "ijepa-train: %s\n", err);
            return 1;
        }
        linprobe_result pr = ex_probe(ijepa_trainer_target_encoder(tr), &train, &test, img, 15, 0);
        printf("linear probe (target encoder, average-pooled): test %.2f%% (val %.2f%%, wd %g)\n",
               pr.test_acc, pr.val_acc, pr.weight_decay);
        fmnist_free(&test);
    }
    ijepa_trainer_free(tr);
    ijepa_context_free(ctx);
    ijepa_config_free(cfg);
    fmnist_free(&train);
    return 0;
}
